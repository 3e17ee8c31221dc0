/*
 * Which PKCS#11 mechanism a signature will use, and making libp11 use it.
 *
 * libp11 0.4.12's EVP_PKEY signs RSA PKCS#1 v1.5 with CKM_RSA_PKCS and
 * ECDSA with CKM_ECDSA (only the digest goes to the token).  For RSA-PSS
 * its default path pads in software and signs with raw RSA, CKM_RSA_X_509,
 * which many HSMs forbid (measured with pkcs11-spy).  libp11 also has an
 * EVP_PKEY_METHOD that signs PSS with CKM_RSA_PKCS_PSS, but hands it out
 * only to an ENGINE (PKCS11_pkey_meths); so when the token and the key
 * offer CKM_RSA_PKCS_PSS, the key gets a private, unregistered ENGINE
 * carrying that method (EVP_PKEY_set1_engine: nothing global changes).
 * Raw RSA stays the fallback for tokens without CKM_RSA_PKCS_PSS.
 */
/* ENGINE and EVP_PKEY_METHOD are deprecated in OpenSSL 3, but they are
 * how libp11 0.4.12 offers CKM_RSA_PKCS_PSS */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/engine.h>
#include <openssl/evp.h>

#include "internal.h"

#ifndef OPENSSL_NO_ENGINE
#define HAVE_PSS_METHOD 1
#else
#define HAVE_PSS_METHOD 0
#endif

static const struct {
	enum hd_sigmech m;
	CK_MECHANISM_TYPE ckm;
	const char *name;
} mechs[] = {
	{ HD_SIG_RSA_PKCS, CKM_RSA_PKCS, "CKM_RSA_PKCS" },
	{ HD_SIG_RSA_PSS, CKM_RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS" },
	{ HD_SIG_RSA_PSS_RAW, CKM_RSA_X_509, "CKM_RSA_X_509" },
	{ HD_SIG_ECDSA, CKM_ECDSA, "CKM_ECDSA" },
};

const char *
hd_sigmech_name(enum hd_sigmech m)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].m == m)
			return mechs[i].name;
	return "?";
}

static CK_MECHANISM_TYPE
sigmech_ckm(enum hd_sigmech m)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].m == m)
			return mechs[i].ckm;
	return CKM_VENDOR_DEFINED;
}

/* The token's mechanisms (C_GetMechanismList); NULL if it will not say. */
static CK_MECHANISM_TYPE *
token_mechs(struct hd_session *s, CK_ULONG *n)
{
	CK_MECHANISM_TYPE *l;
	CK_ULONG cap;

	*n = 0;
	if (hd_token_resolve(s, &(struct hd_err){ 0 }) == -1 ||
	    s->fl->C_GetMechanismList(s->slot, NULL, n) != CKR_OK || *n == 0)
		return NULL;
	/* room to spare: through p11-kit-client.so (0.24) ASan saw the
	 * list written past a buffer of the size the first call gave */
	cap = *n + 64;
	if ((l = calloc(cap, sizeof(*l))) == NULL)
		return NULL;
	*n = cap;
	if (s->fl->C_GetMechanismList(s->slot, l, n) != CKR_OK || *n > cap) {
		free(l);
		return NULL;
	}
	return l;
}

/* The key's CKA_ALLOWED_MECHANISMS; NULL when it has none (any allowed). */
static CK_MECHANISM_TYPE *
key_mechs(struct hd_session *s, const struct hd_key *k, CK_ULONG *n)
{
	CK_ATTRIBUTE a = { CKA_ALLOWED_MECHANISMS, NULL, 0 };
	CK_OBJECT_HANDLE h;
	CK_MECHANISM_TYPE *l;

	*n = 0;
	if (hd_find_by_id(s, CKO_PRIVATE_KEY, k->id, k->id_len, &h,
	    &(struct hd_err){ 0 }) != 1 ||
	    s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0)
		return NULL;
	if ((l = malloc(a.ulValueLen)) == NULL)
		return NULL;
	a.pValue = l;
	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK) {
		free(l);
		return NULL;
	}
	*n = a.ulValueLen / sizeof(*l);
	return l;
}

static int
listed(const CK_MECHANISM_TYPE *l, CK_ULONG n, CK_MECHANISM_TYPE m)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (l[i] == m)
			return 1;
	return 0;
}

struct mech_view {
	CK_MECHANISM_TYPE *tok, *key;	/* NULL: not known / no limit */
	CK_ULONG ntok, nkey;
	CK_SLOT_ID slot;
	CK_FUNCTION_LIST_PTR fl;
};

/* The token lists m with CKF_SIGN and the key does not exclude it; a
 * token that does not answer gets the benefit of the doubt. */
static int
usable(const struct mech_view *v, enum hd_sigmech sm, int *why_key)
{
	CK_MECHANISM_TYPE m = sigmech_ckm(sm);
	CK_MECHANISM_INFO mi;

	*why_key = 0;
	if (v->tok != NULL && (!listed(v->tok, v->ntok, m) ||
	    (v->fl->C_GetMechanismInfo(v->slot, m, &mi) == CKR_OK &&
	    !(mi.flags & CKF_SIGN))))
		return 0;
	if (v->key != NULL && !listed(v->key, v->nkey, m)) {
		*why_key = 1;
		return 0;
	}
	return 1;
}

static int
refuse(struct hd_session *s, const struct hd_key *k, int pss, int why_key,
    struct hd_err *err)
{
	const char *n = hd_token_name(s);

	if (!pss) {
		hd_err_set(err, HD_E_TOKEN, CKR_MECHANISM_INVALID, "key '%s' "
		    "on token '%s': %s does not allow %s signatures", k->label,
		    n, why_key ? "the key" : "the token",
		    strcmp(k->type, "EC") == 0 ? "ECDSA (CKM_ECDSA)" :
		    "RSA PKCS#1 v1.5 (CKM_RSA_PKCS)");
		hd_err_hint(err, "the token's documentation lists its "
		    "mechanisms; 'hsmdesk probe' shows them");
		return -1;
	}
	hd_err_set(err, HD_E_TOKEN, CKR_MECHANISM_INVALID, "key '%s' on token "
	    "'%s': RSA-PSS is not possible: %s neither CKM_RSA_PKCS_PSS nor "
	    "raw RSA (CKM_RSA_X_509)", k->label, n, why_key ?
	    "the key's CKA_ALLOWED_MECHANISMS allow" : "the token offers");
	hd_err_hint(err, "sign with RSA PKCS#1 v1.5 instead (without --pss); "
	    "nothing was signed");
	return -1;
}

/*
 * The mechanism for signing with key k (PKCS#1 v1.5, PSS or ECDSA), from
 * the token's mechanism list and the key's CKA_ALLOWED_MECHANISMS.
 */
int
hd_sigmech_choose(struct hd_session *s, const struct hd_key *k, int pss,
    enum hd_sigmech *out, struct hd_err *err)
{
	struct mech_view v = { .fl = s->fl };
	int ec = strcmp(k->type, "EC") == 0, wk = 0, wk2 = 0, rc = 0;

	if (!ec && strcmp(k->type, "RSA") != 0)
		return hd_err_set(err, HD_E_USAGE, 0, "key '%s': %s keys "
		    "cannot sign here (RSA and EC can)", k->label, k->type);
	if (ec && pss) {
		hd_err_set(err, HD_E_USAGE, 0, "key '%s' is EC %s: RSA-PSS "
		    "needs an RSA key", k->label, k->curve);
		hd_err_hint(err, "sign without --pss: EC keys make ECDSA "
		    "signatures");
		return -1;
	}
	v.tok = token_mechs(s, &v.ntok);
	v.slot = s->slot;
	v.key = key_mechs(s, k, &v.nkey);
	if (ec)
		*out = HD_SIG_ECDSA;
	else if (!pss)
		*out = HD_SIG_RSA_PKCS;
	else if (HAVE_PSS_METHOD && usable(&v, HD_SIG_RSA_PSS, &wk))
		*out = HD_SIG_RSA_PSS;
	else
		*out = HD_SIG_RSA_PSS_RAW;
	if (!usable(&v, *out, &wk2))
		rc = refuse(s, k, pss, wk || wk2, err);
	free(v.tok);
	free(v.key);
	return rc;
}

/*
 * Make libp11's key pk sign with mechanism m.  Only CKM_RSA_PKCS_PSS
 * needs anything: libp11's PSS method, on a private ENGINE that the key
 * holds (and frees with itself).
 */
int
hd_sigmech_apply(EVP_PKEY *pk, enum hd_sigmech m, struct hd_err *err)
{
#if HAVE_PSS_METHOD
	ENGINE *e;
	int ok;

	if (m != HD_SIG_RSA_PSS)
		return 0;
	if ((e = ENGINE_new()) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	ok = ENGINE_set_id(e, "hsmdesk-libp11-pss") &&
	    ENGINE_set_name(e, "libp11's RSA-PSS through CKM_RSA_PKCS_PSS") &&
	    ENGINE_set_pkey_meths(e, PKCS11_pkey_meths) &&
	    EVP_PKEY_set1_engine(pk, e);
	ENGINE_free(e);		/* the key keeps its own reference */
	if (ok)
		return 0;
	hd_err_set(err, HD_E_INTERNAL, 0, "libp11's CKM_RSA_PKCS_PSS method "
	    "could not be attached to the key");
	hd_err_ossl(err);
	return -1;
#else
	if (m != HD_SIG_RSA_PSS)
		return 0;
	return hd_err_set(err, HD_E_INTERNAL, 0, "this OpenSSL has no "
	    "ENGINE support, which libp11 needs for CKM_RSA_PKCS_PSS");
#endif
}
