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

#define MAX_OBJECTS HD_MAX_OBJECTS

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

void
hd_key_type_size(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	CK_KEY_TYPE kt;
	CK_ULONG bits;
	unsigned char buf[1024];
	long n;

	if (hd_attr_bytes(s, h, CKA_KEY_TYPE, &kt, sizeof(kt)) != sizeof(kt)) {
		snprintf(k->type, sizeof(k->type), "?");
		return;
	}
	if (kt == CKK_RSA) {
		snprintf(k->type, sizeof(k->type), "RSA");
		if (hd_attr_bytes(s, h, CKA_MODULUS_BITS, &bits, sizeof(bits)) ==
		    sizeof(bits))
			k->bits = (unsigned)bits;
		else if ((n = hd_attr_bytes(s, h, CKA_MODULUS, buf,
		    sizeof(buf))) > 0)
			k->bits = (unsigned)n * 8;
	} else if (kt == CKK_EC) {
		snprintf(k->type, sizeof(k->type), "EC");
		if ((n = hd_attr_bytes(s, h, CKA_EC_PARAMS, buf, sizeof(buf))) > 0)
			key_curve(k, buf, n);
	} else if (kt == CKK_EC_EDWARDS) {
		snprintf(k->type, sizeof(k->type), "EdDSA");
	} else {
		snprintf(k->type, sizeof(k->type), "0x%lx", (unsigned long)kt);
	}
}

void
hd_key_ident(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	long n;

	n = hd_attr_bytes(s, h, CKA_LABEL, k->label, sizeof(k->label) - 1);
	k->label[n > 0 ? n : 0] = '\0';
	n = hd_attr_bytes(s, h, CKA_ID, k->id, sizeof(k->id));
	k->id_len = n > 0 ? (size_t)n : 0;
}

void
hd_key_private_attrs(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_SENSITIVE,
		CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE,
		CKA_LOCAL, CKA_SIGN };
	enum hd_tri v[6];

	hd_attr_bools(s, h, types, v, 6);
	k->has_private = 1;
	k->sensitive = v[0];
	k->extractable = v[1];
	k->never_extractable = v[2];
	k->always_sensitive = v[3];
	k->local = v[4];
	k->can_sign = v[5];
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

void
hd_key_init(struct hd_key *k)
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

		hd_key_init(&tmp);
		hd_key_ident(s, h[i], &tmp);
		k = private ? NULL : key_by_id(keys, n, tmp.id, tmp.id_len);
		if (k == NULL) {
			k = &keys[n++];
			*k = tmp;
			hd_key_type_size(s, h[i], k);
		}
		if (private)
			hd_key_private_attrs(s, h[i], k);
		else
			k->has_public = 1;
		if (k->bits == 0)
			hd_key_type_size(s, h[i], k);
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

		hd_key_init(&tmp);
		hd_key_ident(s, h[i], &tmp);
		if ((k = key_by_id(keys, n, tmp.id, tmp.id_len)) != NULL)
			k->has_cert = 1;
	}
}

static int
key_cmp(const void *a, const void *b)
{
	const struct hd_key *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;

	if (c != 0)
		return c;
	if ((c = memcmp(x->id, y->id, n)) != 0)
		return c;
	return (x->id_len > y->id_len) - (x->id_len < y->id_len);
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
	if (hd_find_class(s, CKO_PRIVATE_KEY, h, MAX_OBJECTS, &npriv,
	    err) == -1 ||
	    hd_find_class(s, CKO_PUBLIC_KEY, h + MAX_OBJECTS, MAX_OBJECTS,
	    &npub, err) == -1 ||
	    hd_find_class(s, CKO_CERTIFICATE, h + 2 * MAX_OBJECTS,
	    MAX_OBJECTS, &ncert, err) == -1)
		goto out;
	*n = collect_keys(s, h, npriv, 1, out, 0);
	*n = collect_keys(s, h + MAX_OBJECTS, npub, 0, out, *n);
	mark_certs(s, h + 2 * MAX_OBJECTS, ncert, out, *n);
	/* tokens return objects in no particular order; people want one */
	qsort(out, *n, sizeof(*out), key_cmp);
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

/* Hex (upper or lower case, ':' allowed between bytes) to bytes. */
int
hd_hex_decode(const char *hex, unsigned char *out, size_t max, size_t *n)
{
	size_t k = 0;
	int hi = -1;

	for (; *hex != '\0'; hex++) {
		int v;

		if (*hex == ':' && hi == -1)
			continue;
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if ((*hex | 0x20) >= 'a' && (*hex | 0x20) <= 'f')
			v = (*hex | 0x20) - 'a' + 10;
		else
			return -1;
		if (hi == -1) {
			hi = v;
			continue;
		}
		if (k == max)
			return -1;
		out[k++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	*n = k;
	return hi == -1 && k > 0 ? 0 : -1;
}

static int
find_private(struct hd_session *s, const char *label, const char *idhex,
    CK_OBJECT_HANDLE *h, CK_ULONG *n, struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char id[64];
	size_t idlen = 0;
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) } };

	if (idhex != NULL) {
		if (hd_hex_decode(idhex, id, sizeof(id), &idlen) == -1)
			return hd_err_set(err, HD_E_USAGE, 0, "key ID '%s': "
			    "not hex", idhex);
		t[1] = (CK_ATTRIBUTE){ CKA_ID, id, (CK_ULONG)idlen };
	} else {
		t[1] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label,
		    (CK_ULONG)strlen(label) };
	}
	return hd_find(s, t, 2, h, 2, n, err);
}

/* The one private key with this label (or CKA_ID in hex); logged in. */
int
hd_key_find(struct hd_session *s, const char *label, const char *idhex,
    struct hd_key *out, struct hd_err *err)
{
	CK_OBJECT_HANDLE h[2], pub;
	CK_ULONG n;
	const char *what = idhex ? idhex : label;

	if (hd_session_open(s, err) == -1 ||
	    find_private(s, label, idhex, h, &n, err) == -1)
		return -1;
	if (n != 1) {
		hd_err_set(err, HD_E_USAGE, 0, "key '%s': %s on token '%s'",
		    what, n == 0 ? "no such private key" : "more than one key "
		    "matches", hd_token_name(s));
		hd_err_hint(err, n == 0 ? "'hsmdesk keys' lists them" :
		    "name it by --id HEX instead");
		return -1;
	}
	hd_key_init(out);
	hd_key_ident(s, h[0], out);
	hd_key_type_size(s, h[0], out);
	hd_key_private_attrs(s, h[0], out);
	out->has_private = 1;
	if (hd_find_by_id(s, CKO_PUBLIC_KEY, out->id, out->id_len, &pub,
	    err) == 1)
		out->has_public = 1;
	if (hd_find_by_id(s, CKO_CERTIFICATE, out->id, out->id_len, &pub,
	    err) == 1)
		out->has_cert = 1;
	hd_err_clear(err);
	return 0;
}

/* Remove a key pair and the certificates that share its CKA_ID. */
int
hd_key_delete(struct hd_session *s, const struct hd_key *k,
    struct hd_err *err)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_CERTIFICATE,
		CKO_PUBLIC_KEY, CKO_PRIVATE_KEY };
	char obj[200];
	CK_OBJECT_HANDLE h;
	size_t i;
	int r;
	CK_RV rv;

	if (k->id_len == 0)
		return hd_err_set(err, HD_E_USAGE, 0, "key '%s': has no CKA_ID "
		    "to find its parts by", k->label);
	if (hd_session_open(s, err) == -1)
		return -1;
	snprintf(obj, sizeof(obj), "key '%s' on token '%s'", k->label,
	    hd_token_name(s));
	/* the certificate first, the private key last: a failure midway
	 * never leaves a certificate whose key is gone */
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		while ((r = hd_find_by_id(s, classes[i], k->id, k->id_len, &h,
		    err)) == 1) {
			if ((rv = s->fl->C_DestroyObject(s->sh, h)) != CKR_OK)
				return hd_err_ckr(err, rv, "deleting", obj);
		}
		if (r == -1)
			return -1;
	}
	return 0;
}
