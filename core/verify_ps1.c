/*
 * Verifying the Authenticode signatures of a PowerShell script, as for
 * PE files (verify_pe.c does the checks): each signature, the primary
 * one and those nested in it, must name PowerShell's SIP and hold the
 * digest of the script part.  A damaged signature block is one
 * MALFORMED report, not an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authenticode.h"
#include "ps1.h"

static int
script_digest(void *ctx, const EVP_MD *md, struct hd_pe_digest *out,
    struct hd_err *err)
{
	return hd_ps1_digest(ctx, md, out, err);
}

static int
read_script(const char *path, unsigned char **data, size_t *size,
    struct hd_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc;

	if (fd == -1)
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
		rc = hd_err_set(err, HD_E_INPUT, 0, "%s: not a regular file",
		    path);
	else
		rc = hd_ps1_read(fd, path, data, size, err);
	close(fd);
	return rc;
}

static int
damaged_report(const struct hd_ps1 *ps, struct hd_sig_report **sigs,
    size_t *n, struct hd_err *err)
{
	if ((*sigs = calloc(1, sizeof(**sigs))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	(*sigs)->state = HD_SIG_MALFORMED;
	snprintf((*sigs)->result, sizeof((*sigs)->result), "the signature "
	    "block is damaged: %s", ps->damaged);
	*n = 1;
	return 0;
}

/*
 * Verify every Authenticode signature of the script at path against the
 * certificates in cafile (NULL: OpenSSL's default store), as
 * hd_verify_pe does.  -1 when the file is not a script we can read (not
 * valid text) or the CA file cannot be used.
 */
int
hd_verify_ps1(const char *path, const char *cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	return hd_verify_ps1_ts(path, cafile, NULL, sigs, n, progress, arg,
	    err);
}

int
hd_verify_ps1_ts(const char *path, const char *cafile, const char *tsa_cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	struct hd_ac_verifier v;
	struct hd_ps1 ps;
	unsigned char *data = NULL;
	size_t size = 0;
	int rc = -1;

	*sigs = NULL;
	*n = 0;
	hd_err_clear(err);
	memset(&v, 0, sizeof(v));
	memset(&ps, 0, sizeof(ps));
	if (read_script(path, &data, &size, err) == -1 ||
	    hd_ps1_parse(&ps, data, size, path, err) == -1)
		goto out;
	v.path = ps.path;
	v.kind = HD_SPC_PS1;
	v.digest = script_digest;
	v.ctx = &ps;
	v.tsa_cafile = tsa_cafile ? tsa_cafile : cafile;
	if (progress != NULL && progress(arg, 0, size)) {
		hd_err_set(err, HD_E_CANCELLED, 0, "%s: cancelled", path);
		goto out;
	}
	if (!ps.has_block)
		rc = 0;
	else if (ps.damaged[0] != '\0')
		rc = damaged_report(&ps, sigs, n, err);
	else if (hd_ac_load_store(&v, cafile, err) == 0)
		rc = hd_ac_verify_der(&v, ps.sig, ps.sig_len, sigs, n, err);
	if (rc == 0 && progress != NULL)
		(void)progress(arg, size, size);
out:
	sk_X509_pop_free(v.pool, X509_free);
	X509_STORE_free(v.store);
	hd_ps1_free(&ps);
	free(data);
	return rc;
}
