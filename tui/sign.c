/* The Sign files wizard's state: files, types, the signer's chain. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sign.h"

static void
free_pe_chain(struct sgn *g)
{
	size_t i;

	for (i = 0; i < g->npe_chain; i++)
		OPENSSL_free((void *)g->pe_chain[i].der);
	g->npe_chain = 0;
}

void
sign_free(struct sgn *g)
{
	if (g == NULL)
		return;
	hd_tsa_close(g->stamps);
	hd_cert_free(&g->cert);
	free(g->chain);
	free_pe_chain(g);
	free(g);
}

const char *
sign_md(const struct sgn *g)
{
	static const char *const md[] = { "sha256", "sha384", "sha512" };

	return md[g->md % 3];
}

const char *
sign_type_words(enum sign_type t)
{
	static const char *const w[SIGN__TYPES] = { "auto", "CMS",
		"Authenticode" };

	return (unsigned)t < SIGN__TYPES ? w[t] : "?";
}

enum sign_type
sign_type_of(const struct sgn *g, int i)
{
	if (g->type != SIGN_AUTO)
		return g->type;
	return g->f[i].pe ? SIGN_PE : SIGN_CMS;
}

/*
 * PE/COFF §2 (MS-DOS stub): "MZ", then at 0x3c the offset of the
 * "PE\0\0" signature.  Only a sniff for "auto"; hd_sign_pe checks the rest.
 */
static int
is_pe(const char *path)
{
	unsigned char h[64], sig[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC), pe = 0;
	uint32_t off;

	if (fd == -1)
		return 0;
	if (read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && h[0] == 'M' &&
	    h[1] == 'Z') {
		off = (uint32_t)h[0x3c] | (uint32_t)h[0x3d] << 8 |
		    (uint32_t)h[0x3e] << 16 | (uint32_t)h[0x3f] << 24;
		pe = pread(fd, sig, 4, off) == 4 && memcmp(sig, "PE\0\0", 4)
		    == 0;
	}
	close(fd);
	return pe;
}

int
sign_find(const struct sgn *g, const char *path)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->f[i].path, path) == 0)
			return i;
	return -1;
}

int
sign_add(struct sgn *g, const char *path, char *why, size_t len)
{
	struct sign_file *f;
	struct stat st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s: not a file", path);
		return -1;
	}
	if (sign_find(g, path) >= 0)
		return 0;
	if (g->n == SIGN_FILES || strlen(path) >= sizeof(f->path)) {
		snprintf(why, len, "%s", g->n == SIGN_FILES ? "at most 64 "
		    "files in one run" : "name too long");
		return -1;
	}
	f = &g->f[g->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->size = (uint64_t)st.st_size;
	f->pe = is_pe(path);
	/* scripts carry their Authenticode signature inside, as PE files */
	f->ps1 = !f->pe && hd_ps1_name(path);
	f->pe |= f->ps1;
	return 0;
}

void
sign_remove(struct sgn *g, int i)
{
	if (i < 0 || i >= g->n)
		return;
	memmove(&g->f[i], &g->f[i + 1], (size_t)(g->n - i - 1) *
	    sizeof(g->f[0]));
	g->n--;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* hd_sign_pe takes the chain as DER certificates: OpenSSL's PEM reader. */
static int
pe_chain(struct sgn *g, struct hd_err *err)
{
	BIO *b = BIO_new_mem_buf(g->chain, (int)g->chain_len);
	unsigned char *der;
	X509 *x;
	int len, rc = 0;

	free_pe_chain(g);
	if (b == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	while (g->npe_chain < 8 &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		der = NULL;
		len = i2d_X509(x, &der);
		X509_free(x);
		if (len <= 0) {
			rc = hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
			break;
		}
		g->pe_chain[g->npe_chain].der = der;
		g->pe_chain[g->npe_chain++].len = (size_t)len;
	}
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

/*
 * hd_cert_export writes the leaf and its issuers from the local store;
 * the leaf is the first PEM block, the rest is the chain.  (The leaf
 * again in the chain would be a duplicate certificate in the CMS.)
 */
int
sign_load_chain(struct tui *t, struct sgn *g, struct hd_err *err)
{
	const char *dir = getenv("TMPDIR");
	char path[1024];
	size_t n = 0, len = 0;
	unsigned char *pem;
	char *second;
	int fd;

	snprintf(path, sizeof(path), "%s/hsmdesk-chain-XXXXXX",
	    dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: cannot create", path);
	close(fd);
	if (hd_cert_export(t->s, &g->cert, 1, HD_FMT_PEM, path, 1, &n,
	    err) == -1) {
		unlink(path);
		return -1;
	}
	pem = slurp(path, &len);
	unlink(path);
	if (pem == NULL)
		return hd_err_set(err, HD_E_IO, 0, "%s: cannot read", path);
	second = strstr((char *)pem + 1, "-----BEGIN CERTIFICATE-----");
	free(g->chain);
	g->chain_len = second ? len - (size_t)((unsigned char *)second - pem)
	    : 0;
	memmove(pem, second ? second : "", g->chain_len + 1);
	g->chain = pem;
	return pe_chain(g, err);
}

void
sign_bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
	else if (n < 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(buf, len, "%.2f GiB", (double)n / (1024.0 * 1024 *
		    1024));
}

int
sign_tsa_open(struct sgn *g, struct hd_err *err)
{
	struct hd_tsa_opts o;
	char list[sizeof(g->tsa)], *p, *save = NULL;

	memset(&o, 0, sizeof(o));
	g->stamps = NULL;
	snprintf(list, sizeof(list), "%s", g->tsa);
	for (p = strtok_r(list, " ,", &save); p != NULL && o.nurls <
	    HD_TSA_URLS; p = strtok_r(NULL, " ,", &save))
		o.urls[o.nurls++] = p;
	if (o.nurls == 0)
		return 0;
	o.md = sign_md(g);	/* /td as /fd: what signtool users pass */
	o.optional = g->tsa_optional;
	o.asking = sign_job_asking;
	o.arg = g;
	return hd_tsa_open(&o, &g->stamps, err);
}
