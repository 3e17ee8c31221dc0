/*
 * Authenticode signing of PE files with a key on the token, as signtool
 * sign does; the signature itself is made by authenticode.c.
 *
 * The file is copied into a temp file beside it, hashed on the way
 * (hd_pe_write_body), the signature of that digest made on the token and
 * checked with the certificate, then added to the copy, which is renamed
 * into place (hd_pe_write_finish): until then the original is untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "authenticode.h"
#include "internal.h"

struct signing {
	struct hd_ac_sign ac;		/* the signature (authenticode.c) */
	const struct hd_sign_pe_opts *o;
	struct hd_pe pe;
	int pe_open;
	char out[PATH_MAX];		/* where the signed file goes */
	struct stat st;			/* the input when opened */
};

/* ---- the file ------------------------------------------------------------ */

/*
 * Open the input.  In place, the output is the file itself: where a
 * symlink points (so the link stays a link), beside which the temp file
 * is made.  Other hard links keep naming the old content: say so.
 */
static int
open_input(struct signing *g, const char *path, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	struct stat st;
	int fd;

	if (g->o->out != NULL) {
		snprintf(g->out, sizeof(g->out), "%s", g->o->out);
	} else if (realpath(path, g->out) == NULL) {
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	}
	fd = open(g->o->out != NULL ? path : g->out,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	if (hd_pe_open_fd(&g->pe, fd, path, err) == -1) {
		close(fd);
		return -1;
	}
	g->pe.own_fd = 1;
	g->pe_open = 1;
	if (fstat(fd, &st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", path,
		    strerror(errno));
	g->st = st;
	if (g->o->out == NULL && st.st_nlink > 1)
		res->other_links = (unsigned long)st.st_nlink - 1;
	snprintf(res->path, sizeof(res->path), "%s", g->out);
	res->had_signature = g->pe.cert_size != 0;
	return 0;
}

/* The existing signature, to nest the new one into (append). */
static int
read_old(struct signing *g, struct hd_err *err)
{
	unsigned char *der = NULL;
	size_t len;
	int rc;

	if (hd_pe_signature(&g->pe, &der, &len, err) == -1)
		return -1;
	rc = hd_ac_old(&g->ac, der, len, err);
	free(der);
	return rc;
}

/* ---- putting it together ------------------------------------------------ */

/*
 * One pass: the copy into the temp file computes the digest of what it
 * wrote, the token signs that digest, and the signature completes the
 * file (pe_write.c says why this is safe).  The token is opened first so
 * that a key it refuses fails before the long copy.
 */
static int
sign_file(struct signing *g, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	struct hd_ac_sign *a = &g->ac;
	struct hd_pe_writer *w = NULL;
	int rc = -1;

	a->path = g->pe.path;
	if (g->o->append && g->pe.cert_size != 0 && read_old(g, err) == -1)
		return -1;
	/* the input is checked once more after the token signed: removed or
	 * replaced meanwhile, nothing is written (input_check.c) */
	if (hd_ac_open(a, err) == 0 &&
	    hd_pe_write_begin(&w, &g->pe, a->md, g->out,
	    g->o->out == NULL || g->o->replace, g->o->progress, g->o->arg,
	    err) == 0 &&
	    hd_pe_write_body(w, &a->dg, err) == 0 &&
	    hd_ac_make(a, err) == 0 &&
	    hd_input_unchanged(g->pe.fd, g->pe.path, &g->st, err) == 0 &&
	    hd_pe_write_finish(w, a->der, (size_t)a->len, err) == 0) {
		hd_ac_result(a, res);
		rc = 0;
	}
	hd_pe_write_free(w);
	return rc;
}

/*
 * Sign the PE file at path with key k on the token (logged in), whose
 * certificate is cert, adding the chain certificates to the signature.
 * In place unless o->out: atomically, keeping mode and owner, through a
 * symlink to its target.  On failure the file is byte for byte as it was.
 */
int
hd_sign_pe(struct hd_session *s, const struct hd_key *k,
    const struct hd_der *cert, const struct hd_der *chain, size_t nchain,
    const char *path, const struct hd_sign_pe_opts *o,
    struct hd_sign_pe_result *res, struct hd_err *err)
{
	static const struct hd_sign_pe_opts defaults;
	struct signing g;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	hd_err_clear(err);
	g.o = o != NULL ? o : &defaults;
	g.ac.s = s;
	g.ac.k = k;
	g.ac.o = g.o;
	g.ac.kind = HD_SPC_PE;
	g.ac.path = path;
	if (hd_ac_setup(&g.ac, cert, chain, nchain, err) == 0 &&
	    open_input(&g, path, res, err) == 0 &&
	    sign_file(&g, res, err) == 0)
		rc = 0;
	if (rc == -1 && err->msg[0] == '\0')
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: signing failed", path);
	hd_ac_free(&g.ac);
	if (g.pe_open)
		hd_pe_close(&g.pe);
	return rc;
}
