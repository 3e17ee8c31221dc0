/*
 * PKCS#10 requests (RFC 2986) built with OpenSSL from a profile and
 * signed inside the token through libp11's EVP_PKEY.  The public key comes
 * from the token's public key object, and the signature is checked with
 * it before the request is handed out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* Microsoft's enrollmentNameValuePair, how certreq sends a template name. */
#define OID_MS_NAME_VALUE "1.3.6.1.4.1.311.13.2.1"

static int
add_subject(X509_REQ *req, const struct hd_profile *p, struct hd_err *err)
{
	X509_NAME *n = X509_REQ_get_subject_name(req);
	size_t i;

	for (i = 0; i < p->nsubject; i++) {
		const struct hd_rdn *r = &p->subject[i];

		if (r->value[0] == '\0')
			continue;
		if (!X509_NAME_add_entry_by_txt(n, r->type, MBSTRING_UTF8,
		    (const unsigned char *)r->value, -1, -1, 0)) {
			hd_err_set(err, HD_E_INPUT, 0, "subject %s=%s: cannot "
			    "be encoded", r->type, r->value);
			hd_err_ossl(err);
			return -1;
		}
	}
	return 0;
}

static int
ku_ext(STACK_OF(X509_EXTENSION) **exts, unsigned ku)
{
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	int bit, ok = bs != NULL;

	/* HD_KU_* hold bit n of RFC 5280's KeyUsage as 0x80 >> n */
	for (bit = 0; ok && bit < 8; bit++)
		if (ku & (0x80u >> bit))
			ok = ASN1_BIT_STRING_set_bit(bs, bit, 1);
	ok = ok && X509V3_add1_i2d(exts, NID_key_usage, bs, 1,
	    X509V3_ADD_DEFAULT) == 1;
	ASN1_BIT_STRING_free(bs);
	return ok ? 0 : -1;
}

static int
eku_ext(STACK_OF(X509_EXTENSION) **exts, const struct hd_profile *p,
    struct hd_err *err)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	size_t i;
	int ok = eku != NULL;

	for (i = 0; ok && i < p->neku; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(p->eku[i], 0);

		if (o == NULL || !sk_ASN1_OBJECT_push(eku, o)) {
			ASN1_OBJECT_free(o);
			hd_err_set(err, HD_E_INPUT, 0, "extended key usage "
			    "'%s': unknown", p->eku[i]);
			ok = 0;
		}
	}
	ok = ok && X509V3_add1_i2d(exts, NID_ext_key_usage, eku, 0,
	    X509V3_ADD_DEFAULT) == 1;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok ? 0 : -1;
}

static int
san_type(const char *san, const char **value)
{
	static const struct { const char *pfx; int type; } t[] = {
		{ "email:", GEN_EMAIL }, { "DNS:", GEN_DNS },
		{ "URI:", GEN_URI }, { "IP:", GEN_IPADD },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strncmp(san, t[i].pfx, strlen(t[i].pfx)) == 0) {
			*value = san + strlen(t[i].pfx);
			return t[i].type;
		}
	return -1;
}

static int
san_ext(STACK_OF(X509_EXTENSION) **exts, const struct hd_profile *p,
    struct hd_err *err)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t i;
	int ok = gens != NULL;

	for (i = 0; ok && i < p->nsan; i++) {
		const char *v;
		int type = san_type(p->san[i], &v);
		GENERAL_NAME *g = type < 0 ? NULL :
		    a2i_GENERAL_NAME(NULL, NULL, NULL, type, v, 0);

		if (g == NULL || !sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			hd_err_set(err, HD_E_INPUT, 0, "alternative name '%s': "
			    "cannot be encoded", p->san[i]);
			ok = 0;
		}
	}
	ok = ok && X509V3_add1_i2d(exts, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

static int
add_extensions(X509_REQ *req, const struct hd_profile *p, struct hd_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	int rc = -1;

	if ((p->key_usage != 0 && ku_ext(&exts, p->key_usage) == -1) ||
	    (p->neku > 0 && eku_ext(&exts, p, err) == -1) ||
	    (p->nsan > 0 && san_ext(&exts, p, err) == -1))
		goto out;
	if (exts == NULL || X509_REQ_add_extensions(req, exts) == 1)
		rc = 0;
out:
	if (rc == -1 && err->msg[0] == '\0')
		hd_err_set(err, HD_E_INTERNAL, 0, "CSR extensions could not "
		    "be built");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* SEQUENCE { BMPString "CertificateTemplate", BMPString name } */
static int
add_template(X509_REQ *req, const char *name)
{
	ASN1_STRING *k = NULL, *v = NULL;
	unsigned char *der = NULL, *q;
	int kl, vl, total, ok = 0;

	if (ASN1_mbstring_copy(&k, (const unsigned char *)
	    "CertificateTemplate", -1, MBSTRING_UTF8, B_ASN1_BMPSTRING) < 0 ||
	    ASN1_mbstring_copy(&v, (const unsigned char *)name, -1,
	    MBSTRING_UTF8, B_ASN1_BMPSTRING) < 0)
		goto out;
	kl = i2d_ASN1_BMPSTRING(k, NULL);
	vl = i2d_ASN1_BMPSTRING(v, NULL);
	total = ASN1_object_size(1, kl + vl, V_ASN1_SEQUENCE);
	if (kl <= 0 || vl <= 0 || total <= 0 || (der = malloc(total)) == NULL)
		goto out;
	q = der;
	ASN1_put_object(&q, 1, kl + vl, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	i2d_ASN1_BMPSTRING(k, &q);
	i2d_ASN1_BMPSTRING(v, &q);
	ok = X509_REQ_add1_attr_by_txt(req, OID_MS_NAME_VALUE,
	    V_ASN1_SEQUENCE, der, total) == 1;
out:
	free(der);
	ASN1_STRING_free(k);
	ASN1_STRING_free(v);
	return ok ? 0 : -1;
}

static const EVP_MD *
profile_md(const struct hd_profile *p)
{
	if (strcmp(p->hash, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(p->hash, "sha512") == 0)
		return EVP_sha512();
	return EVP_sha256();
}

static int
csr_finish(X509_REQ *req, struct hd_csr *out, struct hd_err *err)
{
	unsigned char md[SHA256_DIGEST_LENGTH], *p = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	int len = i2d_X509_REQ(req, &p);
	char *txt;
	long n;

	if (len <= 0 || b == NULL) {
		BIO_free(b);
		OPENSSL_free(p);
		return hd_err_set(err, HD_E_INTERNAL, 0, "CSR encoding failed");
	}
	out->der = p;
	out->len = (size_t)len;
	SHA256(p, (size_t)len, md);
	hd_hex(md, sizeof(md), out->sha256, sizeof(out->sha256));
	X509_NAME_print_ex(b, X509_REQ_get_subject_name(req), 0,
	    (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ) |
	    ASN1_STRFLGS_UTF8_CONVERT);
	n = BIO_get_mem_data(b, &txt);
	snprintf(out->subject, sizeof(out->subject), "%.*s", (int)n, txt);
	BIO_free(b);
	return 0;
}

static int
csr_sign(struct hd_session *s, X509_REQ *req, const struct hd_profile *p,
    const struct hd_key *k, EVP_PKEY *pub, struct hd_err *err)
{
	struct hd_signer *g = hd_signer_open(s, k, err);
	uint64_t t0;
	int ok;

	if (g == NULL)
		return -1;
	/* counted as the token's: hashing the short TBS is microseconds */
	t0 = hd_now_ns();
	ok = X509_REQ_sign(req, hd_signer_pkey(g), profile_md(p)) > 0;
	s->sign_ns += hd_now_ns() - t0;
	if (!ok) {
		hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': signing "
		    "the CSR failed", k->label, hd_token_name(s));
		hd_err_ossl(err);
	}
	hd_signer_close(g);
	if (ok && X509_REQ_verify(req, pub) != 1) {
		hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': the "
		    "token's signature does not verify with its public key",
		    k->label, hd_token_name(s));
		hd_err_hint(err, "the private and public key objects do not "
		    "match; do not use this key");
		return -1;
	}
	return ok ? 0 : -1;
}

static EVP_PKEY *
csr_pubkey(struct hd_session *s, const struct hd_key *k, struct hd_err *err)
{
	CK_OBJECT_HANDLE h;
	EVP_PKEY *pk = NULL;

	if (hd_find_by_id(s, CKO_PUBLIC_KEY, k->id, k->id_len, &h, err) == 1)
		pk = hd_object_pubkey(s, h);
	else if (hd_find_by_id(s, CKO_PRIVATE_KEY, k->id, k->id_len, &h,
	    err) == 1)
		pk = hd_object_pubkey(s, h);	/* RSA carries n and e */
	if (pk == NULL && err->msg[0] == '\0')
		hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': its "
		    "public key cannot be read", k->label, hd_token_name(s));
	return pk;
}

/* Build, sign on the token, and verify the profile's request for key k. */
int
hd_csr_make(struct hd_session *s, const struct hd_profile *p,
    const struct hd_key *k, struct hd_csr *out, struct hd_err *err)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	hd_err_clear(err);
	if (hd_profile_ready(p, err) == -1 ||
	    (pub = csr_pubkey(s, k, err)) == NULL)
		goto out;
	if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_pubkey(req, pub)) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (add_subject(req, p, err) == -1 || add_extensions(req, p, err) ||
	    (p->cert_template[0] && add_template(req, p->cert_template)))
		goto out;
	if (csr_sign(s, req, p, k, pub, err) == 0 && csr_finish(req, out,
	    err) == 0)
		rc = 0;
out:
	if (rc == -1 && err->msg[0] == '\0')
		hd_err_set(err, HD_E_INTERNAL, 0, "the CSR could not be built");
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	return rc;
}

int
hd_csr_write(const struct hd_csr *c, const char *path, int der, int replace,
    struct hd_err *err)
{
	const unsigned char *p = c->der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)c->len);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int rc = -1;

	if (der) {
		rc = hd_write_file(path, c->der, c->len, 0644, replace, err);
	} else if (req != NULL && b != NULL &&
	    PEM_write_bio_X509_REQ(b, req) == 1) {
		n = BIO_get_mem_data(b, &pem);
		rc = hd_write_file(path, pem, (size_t)n, 0644, replace, err);
	} else {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: PEM encoding failed",
		    path);
	}
	BIO_free(b);
	X509_REQ_free(req);
	return rc;
}

void
hd_csr_free(struct hd_csr *c)
{
	OPENSSL_free(c->der);
	memset(c, 0, sizeof(*c));
}
