/*
 * Authenticode signing of PowerShell scripts with a key on the token, as
 * Set-AuthenticodeSignature and signtool do through PowerShell's SIP:
 * the digest of the script part as UTF-16LE goes into an
 * SpcIndirectDataContent whose data is SpcSipInfo (authenticode.c makes
 * the PKCS#7), and the signature is appended as a comment block (ps1.c).
 *
 * The script is read whole (scripts are small), the new file is built in
 * memory, read back and checked, then written through a temp file beside
 * the target and renamed into place, keeping mode and owner: until then
 * the original is untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "authenticode.h"
#include "fileio.h"
#include "ps1.h"

struct signing {
	struct hd_ac_sign ac;		/* the signature (authenticode.c) */
	const struct hd_sign_pe_opts *o;
	int fd;
	struct stat st;			/* the input's, when read */
	unsigned char *data;		/* the input */
	size_t size;
	struct hd_ps1 ps;
	char out[PATH_MAX];		/* where the signed file goes */
	unsigned char *file;		/* the signed file */
	size_t file_len;
};

int
hd_ps1_name(const char *path)
{
	static const char *const ext[] = { ".ps1", ".psm1", ".psd1" };
	size_t n = path != NULL ? strlen(path) : 0, i, k;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		k = strlen(ext[i]);
		if (n > k && strcasecmp(path + n - k, ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int
cancelled(struct signing *g, uint64_t done, struct hd_err *err)
{
	if (g->o->progress == NULL || !g->o->progress(g->o->arg, done,
	    2 * (uint64_t)g->size + 2))
		return 0;
	return hd_err_set(err, HD_E_CANCELLED, 0, "%s: cancelled; nothing was "
	    "written", g->ps.path);
}

/* The script's signature block must be readable to be replaced or kept. */
static int
usable(struct signing *g, struct hd_err *err)
{
	if (g->size == 0) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: empty; Windows does not "
		    "sign an empty file and osslsigncode cannot check one",
		    g->ps.path);
		hd_err_hint(err, "save it with a BOM (UTF-8 with BOM) or put "
		    "a line of text in it");
		return -1;
	}
	if (g->ps.damaged[0] == '\0')
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: its signature block is damaged: "
	    "%s", g->ps.path, g->ps.damaged);
	hd_err_hint(err, "delete the lines from '# SIG # Begin signature "
	    "block' to the end of the file, then sign it again");
	return -1;
}

/*
 * Open and read the input.  In place, the output is the file itself:
 * where a symlink points (so the link stays a link), beside which the
 * temp file is made.  Other hard links keep naming the old content.
 */
static int
open_input(struct signing *g, const char *path, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	if (g->o->out != NULL) {
		snprintf(g->out, sizeof(g->out), "%s", g->o->out);
	} else if (realpath(path, g->out) == NULL) {
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	}
	g->fd = open(g->o->out != NULL ? path : g->out,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (g->fd == -1)
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(g->fd, &g->st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(g->st.st_mode))
		return hd_err_set(err, HD_E_INPUT, 0, "%s: not a regular file",
		    path);
	if (hd_ps1_read(g->fd, path, &g->data, &g->size, err) == -1 ||
	    hd_ps1_parse(&g->ps, g->data, g->size, path, err) == -1 ||
	    usable(g, err) == -1)
		return -1;
	if (g->o->out == NULL && g->st.st_nlink > 1)
		res->other_links = (unsigned long)g->st.st_nlink - 1;
	snprintf(res->path, sizeof(res->path), "%s", g->out);
	res->had_signature = g->ps.has_block;
	return 0;
}

/* The script part and the new block; read back, it must be what was
 * signed, so a parser slip can never write a file that does not verify. */
static int
build(struct signing *g, struct hd_err *err)
{
	struct hd_ac_sign *a = &g->ac;
	struct hd_pe_digest dg;
	struct hd_ps1 back;
	unsigned char *block;
	size_t blen;
	int ok;

	if (hd_ps1_block(&g->ps, a->der, (size_t)a->len, &block, &blen,
	    err) == -1)
		return -1;
	if ((g->file = malloc(g->ps.script_end + blen)) == NULL) {
		free(block);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	memcpy(g->file, g->data, g->ps.script_end);
	memcpy(g->file + g->ps.script_end, block, blen);
	g->file_len = g->ps.script_end + blen;
	free(block);
	if (hd_ps1_parse(&back, g->file, g->file_len, g->ps.path, err) == -1)
		return -1;
	ok = back.damaged[0] == '\0' && back.sig_len == (size_t)a->len &&
	    memcmp(back.sig, a->der, back.sig_len) == 0 &&
	    hd_ps1_digest(&back, a->md, &dg, err) == 0 && dg.len == a->dg.len &&
	    CRYPTO_memcmp(dg.value, a->dg.value, dg.len) == 0;
	hd_ps1_free(&back);
	if (ok)
		return 0;
	return hd_err_set(err, HD_E_INTERNAL, 0, "%s: the signed script does "
	    "not read back as signed; nothing was written", g->ps.path);
}

/* The input must still be as read; the output through a temp file. */
static int
write_out(struct signing *g, struct hd_err *err)
{
	struct hd_out out;
	struct stat now;

	if (fstat(g->fd, &now) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", g->ps.path,
		    strerror(errno));
	if ((size_t)now.st_size != g->size ||
	    now.st_mtim.tv_sec != g->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != g->st.st_mtim.tv_nsec) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: changed while it was being "
		    "signed", g->ps.path);
		hd_err_hint(err, "make sure nothing else writes the file while "
		    "it is signed, then sign it again");
		return -1;
	}
	if (hd_out_begin(&out, g->out, g->st.st_mode & 0777, g->o->out ==
	    NULL || g->o->replace, err) == -1)
		return -1;
	if (hd_out_keep_owner(&out, &g->st, err) == -1 ||
	    hd_out_write(&out, g->file, g->file_len, err) == -1 ||
	    cancelled(g, 2 * (uint64_t)g->size + 1, err) == -1) {
		hd_out_abort(&out);
		return -1;
	}
	return hd_out_commit(&out, err);
}

static int
sign_file(struct signing *g, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	struct hd_ac_sign *a = &g->ac;

	a->path = g->ps.path;
	if (g->o->append && g->ps.has_block &&
	    hd_ac_old(a, g->ps.sig, g->ps.sig_len, err) == -1)
		return -1;
	if (cancelled(g, 0, err) == -1 || hd_ac_open(a, err) == -1 ||
	    hd_ps1_digest(&g->ps, a->md, &a->dg, err) == -1 ||
	    cancelled(g, g->size, err) == -1 || hd_ac_make(a, err) == -1 ||
	    build(g, err) == -1 || write_out(g, err) == -1)
		return -1;
	/* written: too late to cancel */
	if (g->o->progress != NULL)
		(void)g->o->progress(g->o->arg, 2 * (uint64_t)g->size + 2,
		    2 * (uint64_t)g->size + 2);
	hd_ac_result(a, res);
	return 0;
}

/*
 * Sign the PowerShell script at path with key k on the token (logged
 * in), whose certificate is cert, adding the chain certificates.  The
 * script keeps its encoding and line ends; an existing signature block
 * is replaced, or with o->append kept with the new signature nested in
 * it.  In place unless o->out: atomically, keeping mode and owner,
 * through a symlink to its target.  On failure the file is as it was.
 */
int
hd_sign_ps1(struct hd_session *s, const struct hd_key *k,
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
	g.fd = -1;
	g.o = o != NULL ? o : &defaults;
	snprintf(g.ps.path, sizeof(g.ps.path), "%s", path);
	g.ac.s = s;
	g.ac.k = k;
	g.ac.o = g.o;
	g.ac.kind = HD_SPC_PS1;
	g.ac.path = path;
	if (hd_ac_setup(&g.ac, cert, chain, nchain, err) == 0 &&
	    open_input(&g, path, res, err) == 0 &&
	    sign_file(&g, res, err) == 0)
		rc = 0;
	if (rc == -1 && err->msg[0] == '\0')
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: signing failed", path);
	hd_ac_free(&g.ac);
	hd_ps1_free(&g.ps);
	free(g.file);
	free(g.data);
	if (g.fd != -1)
		close(g.fd);
	return rc;
}
