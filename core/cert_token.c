/*
 * Certificates and the token, through the raw layer.  libp11 0.4.12's
 * PKCS11_store_certificate() sets neither CKA_PRIVATE (the token's default
 * applies: private on some, which hides the certificate until login) nor
 * CKA_SERIAL_NUMBER, works in a session of its own, and passes the
 * token's answer on only through OpenSSL's error queue.  The raw call
 * keeps the CKR, so a token that refuses certificate objects is told from
 * one that failed.  libp11's key list also stops at an Ed25519 key
 * (NOTES-PKCS11.md).  Keys are matched to certificates by their public
 * keys, not by CKA_ID: keys made by other tools carry IDs of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cert_int.h"

/* The public half of private key h: its public key object, else (RSA)
 * the private key object itself. */
static EVP_PKEY *
key_public(struct hd_session *s, CK_OBJECT_HANDLE h, const struct hd_key *k)
{
	CK_OBJECT_HANDLE pub;
	struct hd_err e;
	EVP_PKEY *pk = NULL;

	if (k->id_len > 0 && hd_find_by_id(s, CKO_PUBLIC_KEY, k->id, k->id_len,
	    &pub, &e) == 1)
		pk = hd_object_pubkey(s, pub);
	if (pk == NULL)
		pk = hd_object_pubkey(s, h);
	ERR_clear_error();
	return pk;
}

static void
key_fill(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	CK_OBJECT_HANDLE o;
	struct hd_err e;

	hd_key_type_size(s, h, k);
	hd_key_private_attrs(s, h, k);
	if (hd_find_by_id(s, CKO_PUBLIC_KEY, k->id, k->id_len, &o, &e) == 1)
		k->has_public = 1;
	if (hd_find_by_id(s, CKO_CERTIFICATE, k->id, k->id_len, &o, &e) == 1)
		k->has_cert = 1;
}

static int
several(struct hd_err *err)
{
	hd_err_set(err, HD_E_INPUT, 0, "the file holds certificates for more "
	    "than one key on this token");
	hd_err_hint(err, "accept them one file at a time");
	return -1;
}

/*
 * Which certificate of certs is for a private key on the (logged-in)
 * token?  1 with *which and *key set, 0 if none is, -1 on error (also
 * when several are).  *uncompared counts keys whose public half could
 * not be read (an EC key without its public key object).
 */
int
hd_token_match(struct hd_session *s, STACK_OF(X509) *certs, int *which,
    struct hd_key *key, size_t *uncompared, struct hd_err *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	CK_ULONG nh = 0, j;
	int i, found = 0, rc = -1;

	*which = -1;
	*uncompared = 0;
	if (!s->logged_in)
		return hd_err_set(err, HD_E_USAGE, 0, "token '%s': log in "
		    "first: private keys are hidden until then",
		    hd_token_name(s));
	if ((h = calloc(HD_MAX_OBJECTS, sizeof(*h))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (hd_find_class(s, CKO_PRIVATE_KEY, h, HD_MAX_OBJECTS, &nh, err))
		goto out;
	for (j = 0; j < nh; j++) {
		struct hd_key k;
		EVP_PKEY *pk;

		hd_key_init(&k);
		hd_key_ident(s, h[j], &k);
		if ((pk = key_public(s, h[j], &k)) == NULL) {
			(*uncompared)++;
			continue;
		}
		for (i = 0; i < sk_X509_num(certs); i++) {
			if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs,
			    i)), pk) != 1 || i == *which)
				continue;
			if (found++ > 0) {
				EVP_PKEY_free(pk);
				rc = several(err);
				goto out;
			}
			*which = i;
			*key = k;
			key_fill(s, h[j], key);
		}
		EVP_PKEY_free(pk);
	}
	rc = found > 0;
out:
	ERR_clear_error();
	free(h);
	return rc;
}

/* 1 if the token holds a certificate object with exactly this DER. */
int
hd_token_cert_has(struct hd_session *s, const unsigned char *der, size_t len,
    struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_VALUE, (void *)der, (CK_ULONG)len },
	};
	CK_OBJECT_HANDLE h;
	CK_ULONG n;

	if (hd_find(s, t, 2, &h, 1, &n, err) == -1)
		return -1;
	return n > 0;
}

static int
der_of(int (*i2d)(const void *, unsigned char **), const void *obj,
    unsigned char **out)
{
	*out = NULL;
	return i2d(obj, out);
}

static int
i2d_name(const void *n, unsigned char **out)
{
	return i2d_X509_NAME(n, out);
}

static int
i2d_int(const void *i, unsigned char **out)
{
	return i2d_ASN1_INTEGER(i, out);
}

static int
i2d_cert(const void *x, unsigned char **out)
{
	return i2d_X509(x, out);
}

/*
 * Store x as a certificate object beside key k (PKCS#11 2.40 §4.6.3:
 * CKO_CERTIFICATE, CKC_X_509, public, on the token, with the key's
 * CKA_ID and CKA_LABEL).  On failure *rv holds the token's answer, so the
 * caller can tell a refusal from a failing device.
 */
int
hd_token_cert_put(struct hd_session *s, X509 *x, const struct hd_key *k,
    CK_RV *rv, struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *subj, *iss, *ser, *val;
	int ls = der_of(i2d_name, X509_get_subject_name(x), &subj);
	int li = der_of(i2d_name, X509_get_issuer_name(x), &iss);
	int ln = der_of(i2d_int, X509_get0_serialNumber(x), &ser);
	int lv = der_of(i2d_cert, x, &val);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &no, 1 },
		{ CKA_ID, (void *)k->id, (CK_ULONG)k->id_len },
		{ CKA_LABEL, (void *)k->label, (CK_ULONG)strlen(k->label) },
		{ CKA_SUBJECT, subj, (CK_ULONG)ls },
		{ CKA_ISSUER, iss, (CK_ULONG)li },
		{ CKA_SERIAL_NUMBER, ser, (CK_ULONG)ln },
		{ CKA_VALUE, val, (CK_ULONG)lv },
	};
	CK_OBJECT_HANDLE h;
	char obj[200];
	int rc = -1;

	*rv = CKR_OK;
	if (ls <= 0 || li <= 0 || ln <= 0 || lv <= 0) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	*rv = s->fl->C_CreateObject(s->sh, t, sizeof(t) / sizeof(t[0]), &h);
	if (*rv != CKR_OK)
		hd_err_ckr(err, *rv, "storing the certificate", obj);
	else
		rc = 0;
out:
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	OPENSSL_free(val);
	ERR_clear_error();
	return rc;
}

/* A variable-length attribute in a buffer of its own size. */
static unsigned char *
attr_alloc(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	unsigned char *buf;

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0 ||
	    a.ulValueLen > HD_CERT_FILE_MAX ||
	    (buf = malloc(a.ulValueLen)) == NULL)
		return NULL;
	a.pValue = buf;
	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK) {
		free(buf);
		return NULL;
	}
	*len = a.ulValueLen;
	return buf;
}

/* Certificate object h as a listing entry; -1 if it is not X.509. */
static int
token_cert(struct hd_session *s, CK_OBJECT_HANDLE h, time_t now,
    struct hd_cert *c)
{
	size_t len = 0;
	unsigned char *der = attr_alloc(s, h, CKA_VALUE, &len);
	const unsigned char *p = der;
	X509 *x = NULL;
	struct hd_key k;
	int rc = -1, ok;

	/* the light way for most; the full parse for self-issued ones */
	ok = der != NULL && hd_cert_describe_der(der, len, now, c) == 0;
	if (!ok && der != NULL && (x = d2i_X509(NULL, &p, (long)len)) != NULL)
		ok = hd_cert_describe(x, now, c) == 0;
	if (ok) {
		hd_key_init(&k);
		hd_key_ident(s, h, &k);
		memcpy(c->id, k.id, k.id_len);
		c->id_len = k.id_len;
		snprintf(c->key_label, sizeof(c->key_label), "%s", k.label);
		c->where = HD_CERT_TOKEN;
		rc = 0;
	}
	X509_free(x);
	free(der);
	ERR_clear_error();
	return rc;
}

/* Every X.509 certificate object on the token, appended to *list. */
int
hd_token_certs(struct hd_session *s, struct hd_cert **list, size_t *n,
    struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
	};
	CK_OBJECT_HANDLE *h = calloc(HD_MAX_OBJECTS, sizeof(*h));
	CK_ULONG nh = 0, i;
	struct hd_cert *l;
	time_t now = time(NULL);

	if (h == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (hd_find(s, t, 2, h, HD_MAX_OBJECTS, &nh, err) == -1) {
		free(h);
		return -1;
	}
	if ((l = realloc(*list, (*n + nh + 1) * sizeof(*l))) == NULL) {
		free(h);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	*list = l;
	for (i = 0; i < nh; i++)
		if (token_cert(s, h[i], now, &l[*n]) == 0)
			(*n)++;
	free(h);
	return 0;
}

/* The keys of one class: CKA_ID and label each; *n 0 if none or failed. */
static struct hd_key *
keys_of(struct hd_session *s, CK_OBJECT_CLASS cls, size_t *n)
{
	CK_OBJECT_HANDLE *h = calloc(HD_MAX_OBJECTS, sizeof(*h));
	struct hd_key *k = NULL;
	struct hd_err e;
	CK_ULONG nh = 0, i;

	*n = 0;
	if (h == NULL || hd_find_class(s, cls, h, HD_MAX_OBJECTS, &nh,
	    &e) == -1 || nh == 0 || (k = calloc(nh, sizeof(*k))) == NULL) {
		free(h);
		return NULL;
	}
	for (i = 0; i < nh; i++) {
		hd_key_init(&k[i]);
		hd_key_ident(s, h[i], &k[i]);
	}
	free(h);
	*n = nh;
	return k;
}

static const struct hd_key *
key_with_id(const struct hd_key *k, size_t n, const struct hd_cert *c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (k[i].id_len == c->id_len &&
		    memcmp(k[i].id, c->id, c->id_len) == 0)
			return &k[i];
	return NULL;
}

/*
 * The label of each certificate's key and whether its private key is on
 * the token, for a whole list: two searches (private and public
 * keys) matched by CKA_ID in memory.  A search per certificate costs
 * O(n^2) on tokens that rescan their store on every C_FindObjectsInit
 * (SoftHSM2's file backend: 19 s for 1,000 certificates).
 */
void
hd_certs_key_info(struct hd_session *s, struct hd_cert *l, size_t n)
{
	size_t npriv = 0, npub = 0, i;
	struct hd_key *priv = s->logged_in ? keys_of(s, CKO_PRIVATE_KEY,
	    &npriv) : NULL;
	struct hd_key *pub = keys_of(s, CKO_PUBLIC_KEY, &npub);

	for (i = 0; i < n; i++) {
		struct hd_cert *c = &l[i];
		const struct hd_key *k, *kp;

		if (c->where != HD_CERT_TOKEN && c->where != HD_CERT_LOCAL)
			continue;
		if (c->id_len == 0) {
			c->has_key = s->logged_in ? HD_NO : HD_UNKNOWN;
			continue;
		}
		k = key_with_id(priv, npriv, c);
		kp = k != NULL ? k : key_with_id(pub, npub, c);
		c->has_key = !s->logged_in ? HD_UNKNOWN : k ? HD_YES : HD_NO;
		if (kp != NULL && kp->label[0] != '\0')
			snprintf(c->key_label, sizeof(c->key_label), "%s",
			    kp->label);
	}
	free(priv);
	free(pub);
}
