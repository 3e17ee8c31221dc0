/* The test CA and command runner: see testca.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testca.h"

static long serial = 1000;

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static X509 *
cert_new(X509_NAME *subject, EVP_PKEY *pub, long from, long to)
{
	X509 *x = X509_new();

	if (x == NULL || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), from) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), to) ||
	    !X509_set_pubkey(x, pub)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509_NAME *
name_cn(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n != NULL && (!X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"hsmdesk tests", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static int
ca_make(struct tc_ca *ca, const struct tc_ca *parent, const char *cn)
{
	X509_NAME *n = name_cn(cn);
	X509 *issuer;
	EVP_PKEY *signkey;

	memset(ca, 0, sizeof(*ca));
	if (n == NULL || (ca->key = EVP_EC_gen("P-256")) == NULL ||
	    (ca->cert = cert_new(n, ca->key, -86400, 10 * 86400)) == NULL)
		goto fail;
	issuer = parent ? parent->cert : ca->cert;
	signkey = parent ? parent->key : ca->key;
	if (!X509_set_issuer_name(ca->cert, X509_get_subject_name(issuer)) ||
	    !add_ext(ca->cert, issuer, NID_basic_constraints,
	    "critical,CA:TRUE") ||
	    !add_ext(ca->cert, issuer, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca->cert, issuer, NID_subject_key_identifier, "hash") ||
	    !X509_sign(ca->cert, signkey, EVP_sha256()))
		goto fail;
	X509_NAME_free(n);
	return 0;
fail:
	X509_NAME_free(n);
	tc_ca_free(ca);
	return -1;
}

int
tc_ca_new(struct tc_ca *ca, const char *cn)
{
	return ca_make(ca, NULL, cn);
}

int
tc_ca_sub(struct tc_ca *ca, const struct tc_ca *parent, const char *cn)
{
	return ca_make(ca, parent, cn);
}

void
tc_ca_free(struct tc_ca *ca)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	ca->key = NULL;
	ca->cert = NULL;
}

static const char *
ku_text(unsigned ku, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } t[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
	};
	size_t i, used = snprintf(buf, len, "critical");

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ku & t[i].bit)
			used += snprintf(buf + used, len - used, ",%s",
			    t[i].name);
	return buf;
}

X509 *
tc_issue_key(const struct tc_ca *ca, EVP_PKEY *pub, const struct tc_leaf *l)
{
	static const struct tc_leaf dflt;
	const struct tc_leaf *d = l ? l : &dflt;
	long from = d->from || d->to ? d->from : -3600;
	long to = d->from || d->to ? d->to : 86400;
	X509_NAME *n = name_cn(d->cn ? d->cn : "hsmdesk test signer");
	const char *eku = d->eku ? d->eku : "codeSigning";
	char ku[200];
	X509 *x = n ? cert_new(n, pub, from, to) : NULL;

	X509_NAME_free(n);
	if (x == NULL ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !add_ext(x, ca->cert, NID_basic_constraints, d->ca ?
	    "critical,CA:TRUE" : "critical,CA:FALSE") ||
	    !add_ext(x, ca->cert, NID_key_usage, ku_text(d->ku ? d->ku :
	    KU_DIGITAL_SIGNATURE, ku, sizeof(ku))) ||
	    (*eku && !add_ext(x, ca->cert, NID_ext_key_usage, eku)) ||
	    !add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, ca->cert, NID_authority_key_identifier,
	    "keyid:always") ||
	    !X509_sign(x, ca->key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *
tc_issue_csr(const struct tc_ca *ca, const unsigned char *csr, size_t len,
    const struct tc_leaf *l)
{
	const unsigned char *p = csr;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	EVP_PKEY *pub = req ? X509_REQ_get_pubkey(req) : NULL;
	X509 *x = NULL;

	if (pub != NULL && X509_REQ_verify(req, pub) == 1) {
		x = tc_issue_key(ca, pub, l);
		/* the CSR's subject unless the test names one */
		if (x != NULL && (l == NULL || l->cn == NULL) &&
		    (!X509_set_subject_name(x, X509_REQ_get_subject_name(req)) ||
		    !X509_sign(x, ca->key, EVP_sha256()))) {
			X509_free(x);
			x = NULL;
		}
	}
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	return x;
}

unsigned char *
tc_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? p : NULL;
}

static int
pem_out(const char *path, const char *mode, X509 *x)
{
	FILE *f = fopen(path, mode);
	int ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

int
tc_write_pem(const char *path, X509 *x)
{
	return pem_out(path, "w", x);
}

int
tc_append_pem(const char *path, X509 *x)
{
	return pem_out(path, "a", x);
}

int
tc_run(const char *const argv[], char *out, size_t outlen)
{
	int fd[2], status;
	char sink[4096];
	size_t used = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fd) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	while ((r = read(fd[0], out + used, outlen - 1 - used)) > 0 ||
	    (r == -1 && errno == EINTR))
		if (r > 0 && (used += (size_t)r) == outlen - 1)
			break;
	out[used] = '\0';
	while (read(fd[0], sink, sizeof(sink)) > 0)
		;	/* drain what did not fit */
	close(fd[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
tc_openssl_verify(const char *data, const char *sig, const char *cafile,
    char *out, size_t outlen)
{
	const char *argv[] = { "openssl", "cms", "-verify", "-binary",
	    "-inform", "DER", "-in", sig, "-content", data, "-CAfile", cafile,
	    "-purpose", "any", "-out", "/dev/null", NULL };

	return tc_run(argv, out, outlen);
}

int
tc_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

unsigned char *
tc_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	struct stat st;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 &&
	    (p = malloc((size_t)st.st_size + 1)) != NULL)
		*len = fread(p, 1, (size_t)st.st_size, f);
	fclose(f);
	return p;
}

int
tc_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
tc_count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}
