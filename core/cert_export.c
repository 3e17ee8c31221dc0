/*
 * export-cert: a certificate as PEM, DER, or a PKCS#7 certs-only bundle
 * (.p7b: RFC 2315 §9.1 SignedData without signers or content, what
 * Windows' export wizard and `openssl crl2pkcs7 -nocrl` write), with its
 * chain from the local store when asked.  Written atomically, 0644:
 * certificates are public.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "cert_int.h"

#define CHAIN_MAX 10

static X509 *
issuer_in(X509 *x, STACK_OF(X509) *pool)
{
	int i;

	for (i = 0; i < sk_X509_num(pool); i++) {
		X509 *p = sk_X509_value(pool, i);

		if (X509_cmp(p, x) != 0 &&
		    X509_check_issued(p, x) == X509_V_OK &&
		    X509_verify(x, X509_get0_pubkey(p)) == 1)
			return p;
	}
	return NULL;
}

/* leaf, then each issuer the local store knows, up to a root. */
static int
chain_of(X509 *leaf, int chain, STACK_OF(X509) *out, struct hd_err *err)
{
	STACK_OF(X509) *pool = NULL;
	X509 *cur = leaf, *next;
	int n;

	if (!X509_add_cert(out, leaf, X509_ADD_FLAG_UP_REF))
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (!chain)
		return 0;
	if (hd_store_pool(&pool, err) == -1)
		return -1;
	for (n = 1; n < CHAIN_MAX && X509_self_signed(cur, 0) != 1; n++) {
		if ((next = issuer_in(cur, pool)) == NULL ||
		    !X509_add_cert(out, next, X509_ADD_FLAG_UP_REF |
		    X509_ADD_FLAG_NO_DUP))
			break;
		cur = next;
	}
	sk_X509_pop_free(pool, X509_free);
	ERR_clear_error();
	return 0;
}

static int
p7b_write(BIO *b, STACK_OF(X509) *certs)
{
	PKCS7 *p7 = PKCS7_new();
	int i, ok = p7 != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) &&
	    PKCS7_content_new(p7, NID_pkcs7_data) &&
	    PKCS7_set_detached(p7, 1);

	for (i = 0; ok && i < sk_X509_num(certs); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(certs, i));
	ok = ok && i2d_PKCS7_bio(b, p7);
	PKCS7_free(p7);
	return ok ? 0 : -1;
}

static int
encode(BIO *b, STACK_OF(X509) *certs, enum hd_cert_format fmt)
{
	int i;

	if (fmt == HD_FMT_DER)
		return i2d_X509_bio(b, sk_X509_value(certs, 0)) ? 0 : -1;
	if (fmt == HD_FMT_P7B)
		return p7b_write(b, certs);
	for (i = 0; i < sk_X509_num(certs); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(certs, i)))
			return -1;
	return 0;
}

/*
 * Write c to path (replace: over an existing file) as fmt, with its chain
 * when chain is set; *count says how many certificates went out.
 */
int
hd_cert_export(struct hd_session *s, const struct hd_cert *c, int chain,
    enum hd_cert_format fmt, const char *path, int replace, size_t *count,
    struct hd_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *x = hd_cert_x509(c);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	(void)s;
	*count = 0;
	hd_err_clear(err);
	if (chain && fmt == HD_FMT_DER) {
		hd_err_set(err, HD_E_USAGE, 0, "DER holds one certificate, "
		    "not a chain");
		hd_err_hint(err, "use PEM (the default) or --p7b for the "
		    "chain");
		goto out;
	}
	if (certs == NULL || x == NULL || b == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (chain_of(x, chain, certs, err) == -1)
		goto out;
	if (encode(b, certs, fmt) == -1 ||
	    (len = BIO_get_mem_data(b, &data)) <= 0) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: cannot encode the "
		    "certificate", path);
		hd_err_ossl(err);
		goto out;
	}
	if (hd_write_file(path, data, (size_t)len, 0644, replace, err) == -1)
		goto out;
	*count = (size_t)sk_X509_num(certs);
	rc = 0;
out:
	BIO_free(b);
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return rc;
}

void
hd_ders_free(struct hd_der *certs, size_t n)
{
	size_t i;

	for (i = 0; certs != NULL && i < n; i++)
		OPENSSL_free((void *)certs[i].der);
	free(certs);
}

/* For signing: the issuers of c the local store knows, as DER, so that
 * a verifier holding only the root can build the chain. */
int
hd_cert_chain(const struct hd_cert *c, struct hd_der **certs, size_t *n,
    struct hd_err *err)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *x = hd_cert_x509(c);
	int i, len, rc = -1;

	*certs = NULL;
	*n = 0;
	hd_err_clear(err);
	if (chain == NULL || x == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (chain_of(x, 1, chain, err) == -1)
		goto out;
	if ((*certs = calloc((size_t)sk_X509_num(chain), sizeof(**certs))) ==
	    NULL && sk_X509_num(chain) > 1)
		goto nomem;
	for (i = 1; i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL;

		if ((len = i2d_X509(sk_X509_value(chain, i), &der)) <= 0)
			goto nomem;
		(*certs)[*n].der = der;
		(*certs)[(*n)++].len = (size_t)len;
	}
	rc = 0;
	goto out;
nomem:
	hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	hd_ders_free(*certs, *n);
	*certs = NULL;
	*n = 0;
out:
	X509_free(x);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return rc;
}
