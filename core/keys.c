/*
 * Key listing through the raw layer: libp11 0.4.12 neither reads back the
 * attributes that prove a key cannot leave the token (CKA_SENSITIVE,
 * CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, ...) nor survives an Ed25519 key
 * on the token.  Private keys, public keys and certificates are paired by
 * CKA_ID.  Private keys are listed only when logged in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/objects.h>

#include "internal.h"

#define MAX_OBJECTS 4096

static enum hd_tri
attr_bool(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof(v))
		return HD_UNKNOWN;
	return v ? HD_YES : HD_NO;
}

/* Read a variable-length attribute; returns its length, or -1. */
static long
attr_bytes(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    void *buf, size_t len)
{
	CK_ATTRIBUTE a = { type, buf, (CK_ULONG)len };

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > len)
		return -1;
	return (long)a.ulValueLen;
}

static int
find_all(struct hd_session *s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out,
    CK_ULONG *n, struct hd_err *err)
{
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	char obj[64];
	CK_RV rv;

	*n = 0;
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	if ((rv = s->fl->C_FindObjectsInit(s->sh, &t, 1)) != CKR_OK)
		return hd_err_ckr(err, rv, "listing objects", obj);
	rv = s->fl->C_FindObjects(s->sh, out, MAX_OBJECTS, n);
	(void)s->fl->C_FindObjectsFinal(s->sh);
	if (rv != CKR_OK)
		return hd_err_ckr(err, rv, "listing objects", obj);
	return 0;
}

static void
key_curve(struct hd_key *k, const unsigned char *der, long len)
{
	const unsigned char *p = der;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, len);
	int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	const char *name = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
	EC_GROUP *g;

	if (name == NULL && nid != NID_undef)
		name = OBJ_nid2sn(nid);
	snprintf(k->curve, sizeof(k->curve), "%s", name ? name : "unknown");
	if (nid != NID_undef && (g = EC_GROUP_new_by_curve_name(nid))) {
		k->bits = (unsigned)EC_GROUP_get_degree(g);
		EC_GROUP_free(g);
	}
	ASN1_OBJECT_free(obj);
}

static void
key_type_size(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	CK_KEY_TYPE kt;
	CK_ULONG bits;
	unsigned char buf[1024];
	long n;

	if (attr_bytes(s, h, CKA_KEY_TYPE, &kt, sizeof(kt)) != sizeof(kt)) {
		snprintf(k->type, sizeof(k->type), "?");
		return;
	}
	if (kt == CKK_RSA) {
		snprintf(k->type, sizeof(k->type), "RSA");
		if (attr_bytes(s, h, CKA_MODULUS_BITS, &bits, sizeof(bits)) ==
		    sizeof(bits))
			k->bits = (unsigned)bits;
		else if ((n = attr_bytes(s, h, CKA_MODULUS, buf,
		    sizeof(buf))) > 0)
			k->bits = (unsigned)n * 8;
	} else if (kt == CKK_EC) {
		snprintf(k->type, sizeof(k->type), "EC");
		if ((n = attr_bytes(s, h, CKA_EC_PARAMS, buf, sizeof(buf))) > 0)
			key_curve(k, buf, n);
	} else if (kt == CKK_EC_EDWARDS) {
		snprintf(k->type, sizeof(k->type), "EdDSA");
	} else {
		snprintf(k->type, sizeof(k->type), "0x%lx", (unsigned long)kt);
	}
}

static void
key_ident(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	long n;

	n = attr_bytes(s, h, CKA_LABEL, k->label, sizeof(k->label) - 1);
	k->label[n > 0 ? n : 0] = '\0';
	n = attr_bytes(s, h, CKA_ID, k->id, sizeof(k->id));
	k->id_len = n > 0 ? (size_t)n : 0;
}

static void
key_private_attrs(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	k->has_private = 1;
	k->sensitive = attr_bool(s, h, CKA_SENSITIVE);
	k->extractable = attr_bool(s, h, CKA_EXTRACTABLE);
	k->never_extractable = attr_bool(s, h, CKA_NEVER_EXTRACTABLE);
	k->always_sensitive = attr_bool(s, h, CKA_ALWAYS_SENSITIVE);
	k->local = attr_bool(s, h, CKA_LOCAL);
	k->can_sign = attr_bool(s, h, CKA_SIGN);
}

static struct hd_key *
key_by_id(struct hd_key *keys, size_t n, const unsigned char *id, size_t len)
{
	size_t i;

	if (len == 0)
		return NULL;	/* no CKA_ID: nothing ties it to another */
	for (i = 0; i < n; i++)
		if (keys[i].id_len == len && memcmp(keys[i].id, id, len) == 0)
			return &keys[i];
	return NULL;
}

static void
key_init(struct hd_key *k)
{
	memset(k, 0, sizeof(*k));
	k->sensitive = k->extractable = k->never_extractable = HD_UNKNOWN;
	k->always_sensitive = k->local = k->can_sign = HD_UNKNOWN;
}

/* Add private keys, then public keys not paired with one. */
static size_t
collect_keys(struct hd_session *s, CK_OBJECT_HANDLE *h, CK_ULONG nh,
    int private, struct hd_key *keys, size_t n)
{
	CK_ULONG i;

	for (i = 0; i < nh; i++) {
		struct hd_key tmp, *k;

		key_init(&tmp);
		key_ident(s, h[i], &tmp);
		k = private ? NULL : key_by_id(keys, n, tmp.id, tmp.id_len);
		if (k == NULL) {
			k = &keys[n++];
			*k = tmp;
			key_type_size(s, h[i], k);
		}
		if (private)
			key_private_attrs(s, h[i], k);
		else
			k->has_public = 1;
		if (k->bits == 0)
			key_type_size(s, h[i], k);
	}
	return n;
}

static void
mark_certs(struct hd_session *s, CK_OBJECT_HANDLE *h, CK_ULONG nh,
    struct hd_key *keys, size_t n)
{
	CK_ULONG i;

	for (i = 0; i < nh; i++) {
		struct hd_key tmp, *k;

		key_init(&tmp);
		key_ident(s, h[i], &tmp);
		if ((k = key_by_id(keys, n, tmp.id, tmp.id_len)) != NULL)
			k->has_cert = 1;
	}
}

int
hd_keys(struct hd_session *s, struct hd_key **keys, size_t *n,
    struct hd_err *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	CK_ULONG npriv = 0, npub = 0, ncert = 0;
	struct hd_key *out = NULL;
	int rc = -1;

	*keys = NULL;
	*n = 0;
	if (hd_session_open(s, err) == -1)
		return -1;
	h = calloc(3 * MAX_OBJECTS, sizeof(*h));
	out = calloc(2 * MAX_OBJECTS, sizeof(*out));
	if (h == NULL || out == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (find_all(s, CKO_PRIVATE_KEY, h, &npriv, err) == -1 ||
	    find_all(s, CKO_PUBLIC_KEY, h + MAX_OBJECTS, &npub, err) == -1 ||
	    find_all(s, CKO_CERTIFICATE, h + 2 * MAX_OBJECTS, &ncert, err))
		goto out;
	*n = collect_keys(s, h, npriv, 1, out, 0);
	*n = collect_keys(s, h + MAX_OBJECTS, npub, 0, out, *n);
	mark_certs(s, h + 2 * MAX_OBJECTS, ncert, out, *n);
	*keys = out;
	out = NULL;
	rc = 0;
out:
	free(h);
	free(out);
	if (!s->logged_in)
		hd_session_close(s);
	return rc;
}

void
hd_hex(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}
