/*
 * A certificate described for a listing without d2i_X509.  OpenSSL 3.0's
 * d2i_X509 decodes the subject public key through the provider decoders,
 * 0.12-0.15 ms a certificate here: most of `certs` at 1,000 certificates
 * (make bench).  A listing needs names, dates, serial, digests and the CA
 * flag, none of them the key, so this reads the same DER with OpenSSL's
 * own ASN.1 templates in which the key is left undecoded (ASN1_ANY).
 * A self-issued certificate, whose "self-signed" needs its key, goes the
 * full way (hd_cert_describe): the caller falls back when this returns -1.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert_int.h"

typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	X509_ALGOR *sigalg;
	X509_NAME *issuer;
	X509_VAL *validity;
	X509_NAME *subject;
	ASN1_TYPE *spki;		/* left as it is */
	ASN1_BIT_STRING *issuer_uid;
	ASN1_BIT_STRING *subject_uid;
	STACK_OF(X509_EXTENSION) *exts;
} LITE_TBS;

typedef struct {
	LITE_TBS *tbs;
	X509_ALGOR *sigalg;
	ASN1_BIT_STRING *sig;
} LITE_CERT;

ASN1_SEQUENCE(LITE_TBS) = {
	ASN1_EXP_OPT(LITE_TBS, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(LITE_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(LITE_TBS, sigalg, X509_ALGOR),
	ASN1_SIMPLE(LITE_TBS, issuer, X509_NAME),
	ASN1_SIMPLE(LITE_TBS, validity, X509_VAL),
	ASN1_SIMPLE(LITE_TBS, subject, X509_NAME),
	ASN1_SIMPLE(LITE_TBS, spki, ASN1_ANY),
	ASN1_IMP_OPT(LITE_TBS, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(LITE_TBS, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(LITE_TBS, exts, X509_EXTENSION, 3),
} static_ASN1_SEQUENCE_END(LITE_TBS)

ASN1_SEQUENCE(LITE_CERT) = {
	ASN1_SIMPLE(LITE_CERT, tbs, LITE_TBS),
	ASN1_SIMPLE(LITE_CERT, sigalg, X509_ALGOR),
	ASN1_SIMPLE(LITE_CERT, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(LITE_CERT)

static int
hex_digest(const unsigned char *der, size_t len, const EVP_MD *md, char *out,
    size_t outlen)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	if (!EVP_Digest(der, len, d, &n, md, NULL) || outlen < 2 * n + 1)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", d[i]);
	return 0;
}

/* X509_check_ca's answer for a certificate that is not self-issued:
 * basicConstraints if present, else keyCertSign in keyUsage. */
static int
lite_ca(const STACK_OF(X509_EXTENSION) *exts)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	int ca;

	if ((bc = X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL))) {
		ca = bc->ca != 0;
		BASIC_CONSTRAINTS_free(bc);
		return ca;
	}
	if ((ku = X509V3_get_d2i(exts, NID_key_usage, NULL, NULL))) {
		ca = ASN1_BIT_STRING_get_bit(ku, 5);	/* keyCertSign */
		ASN1_BIT_STRING_free(ku);
		return ca;
	}
	return 0;
}

int
hd_cert_describe_der(const unsigned char *der, size_t len, time_t now,
    struct hd_cert *c)
{
	const unsigned char *p = der;
	LITE_CERT *l = (LITE_CERT *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(LITE_CERT));
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->has_key = HD_UNKNOWN;
	if (l == NULL || p != der + len ||
	    X509_NAME_cmp(l->tbs->issuer, l->tbs->subject) == 0)
		goto out;	/* self-issued (or odd): the full way */
	if (hex_digest(der, len, EVP_sha1(), c->sha1, sizeof(c->sha1)) == -1 ||
	    hex_digest(der, len, EVP_sha256(), c->sha256,
	    sizeof(c->sha256)) == -1 ||
	    hd_cert_time(l->tbs->validity->notBefore, &c->not_before) == -1 ||
	    hd_cert_time(l->tbs->validity->notAfter, &c->not_after) == -1 ||
	    (c->der = OPENSSL_malloc(len)) == NULL)
		goto out;
	memcpy(c->der, der, len);
	c->der_len = len;
	hd_cert_name_text(l->tbs->subject, c->subject, sizeof(c->subject));
	hd_cert_name_text(l->tbs->issuer, c->issuer, sizeof(c->issuer));
	hd_cert_serial_hex(l->tbs->serial, c->serial, sizeof(c->serial));
	c->days_left = hd_cert_days_until(c->not_after, now);
	c->ca = lite_ca(l->tbs->exts);
	rc = 0;
out:
	if (rc == -1)
		hd_cert_free(c);
	ASN1_item_free((ASN1_VALUE *)l, ASN1_ITEM_rptr(LITE_CERT));
	ERR_clear_error();
	return rc;
}
