/*
 * A test CA made in memory with OpenSSL (no CRL or AIA URLs, nothing on
 * disk unless written), and a runner for third-party command-line checks
 * (openssl cms -verify).  For the signing and verification tests.
 */
#ifndef HD_TESTCA_H
#define HD_TESTCA_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tc_ca {
	EVP_PKEY *key;		/* software key, EC P-256 */
	X509 *cert;
};

/* What a leaf certificate says; zeroes give a code-signing leaf valid from
 * an hour ago for a day. */
struct tc_leaf {
	const char *cn;		/* NULL: the CSR's subject */
	long from, to;		/* seconds from now; 0, 0: -3600, 86400 */
	unsigned ku;		/* KU_* bits; 0: digitalSignature */
	const char *eku;	/* "codeSigning" (NULL), "" for none */
	int ca;			/* an intermediate CA (keyCertSign) */
};

/* A self-signed root named cn. */
int tc_ca_new(struct tc_ca *ca, const char *cn);
/* A CA issued by parent (an intermediate). */
int tc_ca_sub(struct tc_ca *ca, const struct tc_ca *parent, const char *cn);
void tc_ca_free(struct tc_ca *ca);
/* A leaf for the key of a PKCS#10 request (DER), or for pub. */
X509 *tc_issue_csr(const struct tc_ca *ca, const unsigned char *csr,
    size_t len, const struct tc_leaf *l);
X509 *tc_issue_key(const struct tc_ca *ca, EVP_PKEY *pub,
    const struct tc_leaf *l);
/* DER of x (OPENSSL_free it). */
unsigned char *tc_der(X509 *x, size_t *len);
int tc_write_pem(const char *path, X509 *x);
int tc_append_pem(const char *path, X509 *x);

/* Run argv, output (stdout and stderr) into out; the exit status, or -1. */
int tc_run(const char *const argv[], char *out, size_t outlen);
/* openssl cms -verify -binary -inform DER ... -purpose any; its status. */
int tc_openssl_verify(const char *data, const char *sig, const char *cafile,
    char *out, size_t outlen);

/* Small file helpers. */
int tc_write_file(const char *path, const void *data, size_t len);
unsigned char *tc_read_file(const char *path, size_t *len);
int tc_exists(const char *path);
/* Number of entries in dir whose name starts with prefix. */
int tc_count_prefix(const char *dir, const char *prefix);

#endif
