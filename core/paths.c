/*
 * Where hsmdesk keeps things (XDG base directories), and the embedded
 * default HSM: a SoftHSM2 configuration and token directory of its own,
 * private to the user, so the system token store is never touched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsmdesk.h"
#include "fileio.h"

static int
xdg_dir(char *buf, size_t len, const char *var, const char *fallback,
    struct hd_err *err)
{
	const char *v = getenv(var), *home = getenv("HOME");
	int n;

	if (v != NULL && v[0] == '/')	/* XDG: relative values are ignored */
		n = snprintf(buf, len, "%s/hsmdesk", v);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/%s/hsmdesk", home, fallback);
	else
		return hd_err_set(err, HD_E_CONFIG, 0, "neither %s nor HOME is "
		    "set to an absolute path", var);
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_CONFIG, 0, "%s: path too long", var);
	return 0;
}

int
hd_config_path(char *buf, size_t len, struct hd_err *err)
{
	char dir[4000];
	int n;

	if (xdg_dir(dir, sizeof(dir), "XDG_CONFIG_HOME", ".config", err))
		return -1;
	n = snprintf(buf, len, "%s/config.yaml", dir);
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_CONFIG, 0, "%s/config.yaml: path "
		    "too long", dir);
	return 0;
}

int
hd_data_dir(char *buf, size_t len, struct hd_err *err)
{
	return xdg_dir(buf, len, "XDG_DATA_HOME", ".local/share", err);
}

/* Our directories hold key material: 0700, tightened if found looser. */
int
hd_private_dir(const char *path, struct hd_err *err)
{
	struct stat st;

	if (hd_mkdirs(path, 0700, err) == -1)
		return -1;
	if (stat(path, &st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", path,
		    strerror(errno));
	if (st.st_uid != geteuid())
		return hd_err_set(err, HD_E_IO, 0, "%s: owned by another user",
		    path);
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: cannot make it "
		    "private: %s", path, strerror(errno));
	return 0;
}

/*
 * Create (when missing) $XDG_DATA_HOME/hsmdesk/softhsm/ with its
 * softhsm2.conf and tokens/; conf receives the configuration's path, for
 * the front-end to put in SOFTHSM2_CONF before the module is loaded.
 */
int
hd_embedded_ensure(char *conf, size_t len, struct hd_err *err)
{
	char dir[4000], sub[4096], text[4600];
	struct stat st;
	int n;

	if (hd_data_dir(dir, sizeof(dir), err) == -1 ||
	    hd_private_dir(dir, err) == -1)
		return -1;
	snprintf(sub, sizeof(sub), "%s/softhsm", dir);
	if (hd_private_dir(sub, err) == -1)
		return -1;
	snprintf(sub, sizeof(sub), "%s/softhsm/tokens", dir);
	if (hd_private_dir(sub, err) == -1)
		return -1;
	n = snprintf(conf, len, "%s/softhsm/softhsm2.conf", dir);
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", dir);
	if (stat(conf, &st) == 0)
		return 0;
	n = snprintf(text, sizeof(text), "# hsmdesk's embedded SoftHSM2 "
	    "token store, private to this user.\ndirectories.tokendir = %s\n"
	    "objectstore.backend = file\nlog.level = ERROR\n"
	    "slots.removable = false\n", sub);
	return hd_write_atomic(conf, text, (size_t)n, 0600, err);
}
