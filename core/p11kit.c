/*
 * p11-kit's module registry: the *.module files that name PKCS#11 modules
 * for the whole system (p11-kit(8), pkcs11.conf(5)), so a module can be
 * named instead of given by path, and remote tokens used through
 * p11-kit-client.so.  Only the "module:" line is read: hsmdesk loads the
 * module itself, not through p11-kit's proxy.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* p11-kit's defaults on Debian (pkg-config p11-kit-1: p11_module_path,
 * p11_package_config_modules, p11_system_config_modules). */
#ifndef HD_P11_MODULE_PATH
#define HD_P11_MODULE_PATH "/usr/lib/x86_64-linux-gnu/pkcs11"
#endif
static const char *const config_dirs[] = {
	"/usr/share/p11-kit/modules", "/etc/pkcs11/modules",
};

/* The "module:" value of one .module file, made absolute. */
static int
module_line(const char *file, char *path, size_t len)
{
	FILE *f = fopen(file, "r");
	char line[4096], *v, *e;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "module:", 7) != 0)
			continue;
		for (v = line + 7; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == '\n' ||
		    e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		*e = '\0';
		if (*v == '\0')
			continue;
		if (*v == '/')
			snprintf(path, len, "%s", v);
		else
			snprintf(path, len, "%s/%s", HD_P11_MODULE_PATH, v);
		found = 1;
	}
	fclose(f);
	return found;
}

static int
add_dir(const char *dir, struct hd_p11kit_module **list, size_t *n,
    size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t l;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct hd_p11kit_module *m;

		l = strlen(e->d_name);
		if (l <= 7 || strcmp(e->d_name + l - 7, ".module") != 0)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 8;
			void *q = realloc(*list, nc * sizeof(**list));

			if (q == NULL) {
				closedir(d);
				return -1;
			}
			*list = q;
			*cap = nc;
		}
		m = &(*list)[*n];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%.*s", (int)(l - 7),
		    e->d_name);
		snprintf(m->config, sizeof(m->config), "%s/%s", dir, e->d_name);
		if (module_line(m->config, m->path, sizeof(m->path)))
			(*n)++;
	}
	closedir(d);
	return 0;
}

/* Every registered module: package, system, then the user's own
 * (~/.config/pkcs11/modules); a later one of the same name wins in
 * p11-kit, so it is listed last here. */
int
hd_p11kit_modules(struct hd_p11kit_module **list, size_t *n,
    struct hd_err *err)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char user[4096] = "";
	size_t cap = 0, i;

	*list = NULL;
	*n = 0;
	if (xdg != NULL && xdg[0] == '/')
		snprintf(user, sizeof(user), "%s/pkcs11/modules", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(user, sizeof(user), "%s/.config/pkcs11/modules", home);
	for (i = 0; i < sizeof(config_dirs) / sizeof(config_dirs[0]); i++)
		if (add_dir(config_dirs[i], list, n, &cap) == -1)
			goto nomem;
	if (user[0] != '\0' && add_dir(user, list, n, &cap) == -1)
		goto nomem;
	return 0;
nomem:
	free(*list);
	*list = NULL;
	*n = 0;
	return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
}

int
hd_module_resolve(const char *name, char *path, size_t len,
    struct hd_err *err)
{
	struct hd_p11kit_module *l;
	struct stat st;
	size_t n, i;
	int found = 0;

	if (strchr(name, '/') != NULL) {
		snprintf(path, len, "%s", name);
		return 0;
	}
	if (strncmp(name, "p11-kit:", 8) == 0)
		name += 8;
	if (hd_p11kit_modules(&l, &n, err) == -1)
		return -1;
	for (i = n; i > 0 && !found; i--)
		if (strcmp(l[i - 1].name, name) == 0) {
			snprintf(path, len, "%s", l[i - 1].path);
			found = 1;
		}
	free(l);
	if (found)
		return 0;
	snprintf(path, len, "%s/%s.so", HD_P11_MODULE_PATH, name);
	if (stat(path, &st) == 0)
		return 0;
	hd_err_set(err, HD_E_MODULE, 0, "module '%s': neither a path nor a "
	    "module p11-kit knows", name);
	hd_err_hint(err, "'hsmdesk modules' lists p11-kit's registered "
	    "modules; or give the library's full path");
	return -1;
}
