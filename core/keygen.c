/*
 * Key pair generation through the raw layer: libp11 0.4.12 has no general
 * keygen (PKCS11_keygen is 0.4.14+, the old call is RSA-only and cannot set
 * CKA_EXTRACTABLE).  The pair is made sensitive and non-extractable, its
 * CKA_ID set to the key's own identifier, and the attributes read back:
 * a token that says the key can leave it loses the key again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include "internal.h"

struct gen {
	CK_OBJECT_HANDLE pub, priv;
	unsigned char id[20];
	size_t idlen;
	char obj[64];
};

/* DER of the named curve's OID, for CKA_EC_PARAMS. */
static int
curve_params(const char *curve, unsigned char *out, size_t max)
{
	int nid = EC_curve_nist2nid(curve);
	ASN1_OBJECT *o = nid != NID_undef ? OBJ_nid2obj(nid) : NULL;
	int len = o ? i2d_ASN1_OBJECT(o, NULL) : -1;
	unsigned char *p = out;

	if (len <= 0 || (size_t)len > max)
		return -1;
	return i2d_ASN1_OBJECT(o, &p);
}

static int
label_taken(struct hd_session *s, const char *label, struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	CK_OBJECT_HANDLE h;
	CK_ULONG n;

	if (hd_find(s, t, 2, &h, 1, &n, err) == -1)
		return -1;
	return n > 0;
}

/* want, or want-2, want-3, ...: labels name keys in signing commands. */
static int
label_unique(struct hd_session *s, const char *want, char *out, size_t len,
    struct hd_err *err)
{
	int i, r;

	snprintf(out, len, "%s", want);
	for (i = 2; i < 100; i++) {
		if ((r = label_taken(s, out, err)) != 1)
			return r;
		snprintf(out, len, "%.*s-%d", (int)len - 4, want, i);
	}
	return hd_err_set(err, HD_E_USAGE, 0, "key label '%s': 99 keys use "
	    "it already", want);
}

static CK_RV
generate(struct hd_session *s, const struct hd_profile *p, const char *label,
    struct gen *g)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	/* exportable means CKA_EXTRACTABLE only: the key may leave the token
	 * wrapped (as certreq's Exportable leaves as a password-protected
	 * PFX), never in plaintext, so it stays CKA_SENSITIVE */
	CK_BBOOL ext = p->exportable ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = p->bits, llen = (CK_ULONG)strlen(label);
	CK_BYTE e[] = { 1, 0, 1 }, ecp[32];
	int ecl = p->type == HD_KEY_EC ? curve_params(p->curve, ecp,
	    sizeof(ecp)) : 0;
	CK_MECHANISM m = { p->type == HD_KEY_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN :
	    CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	/* The sized attributes go in the public template only: CloudHSM
	 * makes an unusable key if CKA_MODULUS_BITS is in both. */
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &no, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_ID, g->id, g->idlen }, { CKA_LABEL, (void *)label, llen },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
	};
	CK_ATTRIBUTE pubec[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &no, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_ID, g->id, g->idlen }, { CKA_LABEL, (void *)label, llen },
		{ CKA_EC_PARAMS, ecp, (CK_ULONG)(ecl > 0 ? ecl : 0) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SENSITIVE, &yes, 1 }, { CKA_EXTRACTABLE, &ext, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_ID, g->id, g->idlen }, { CKA_LABEL, (void *)label, llen },
	};

	if (p->type == HD_KEY_EC && ecl <= 0)
		return CKR_DOMAIN_PARAMS_INVALID;
	if (p->type == HD_KEY_RSA)
		return s->fl->C_GenerateKeyPair(s->sh, &m, pub, 7, priv, 7,
		    &g->pub, &g->priv);
	return s->fl->C_GenerateKeyPair(s->sh, &m, pubec, 6, priv, 7, &g->pub,
	    &g->priv);
}

/* Set CKA_ID on both halves to the key identifier; keep the random one
 * on a token that refuses C_SetAttributeValue. */
static int
set_key_id(struct hd_session *s, struct gen *g)
{
	unsigned char id[20];
	EVP_PKEY *pk = hd_object_pubkey(s, g->pub);
	CK_ATTRIBUTE a = { CKA_ID, id, sizeof(id) };
	CK_ATTRIBUTE old = { CKA_ID, g->id, g->idlen };
	int ok = pk != NULL && hd_key_id(pk, id) == 0;

	EVP_PKEY_free(pk);
	if (!ok || s->fl->C_SetAttributeValue(s->sh, g->priv, &a, 1) != CKR_OK)
		return -1;
	if (s->fl->C_SetAttributeValue(s->sh, g->pub, &a, 1) != CKR_OK) {
		(void)s->fl->C_SetAttributeValue(s->sh, g->priv, &old, 1);
		return -1;
	}
	memcpy(g->id, id, sizeof(id));
	g->idlen = sizeof(id);
	return 0;
}

/* Every object carrying the new pair's CKA_ID (random until set_key_id,
 * so it names only what this call made): after a failed generation the
 * token may have kept half a pair, and handles may not have been set. */
static void
sweep(struct hd_session *s, const struct gen *g)
{
	CK_ATTRIBUTE t = { CKA_ID, (void *)g->id, (CK_ULONG)g->idlen };
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n, i;
	struct hd_err ignored;

	if (hd_find(s, &t, 1, h, 4, &n, &ignored) == -1)
		return;
	for (i = 0; i < n; i++)
		(void)s->fl->C_DestroyObject(s->sh, h[i]);
}

static void
destroy(struct hd_session *s, struct gen *g)
{
	(void)s->fl->C_DestroyObject(s->sh, g->priv);
	(void)s->fl->C_DestroyObject(s->sh, g->pub);
	sweep(s, g);
}

/* The token's own claims about the new key; refuse an exportable one. */
static int
read_back(struct hd_session *s, const struct hd_profile *p, struct gen *g,
    struct hd_key *k, struct hd_err *err)
{
	hd_key_init(k);
	hd_key_ident(s, g->priv, k);
	hd_key_type_size(s, g->pub, k);
	hd_key_private_attrs(s, g->priv, k);
	k->has_private = k->has_public = 1;
	if (k->sensitive == HD_YES && (p->exportable ||
	    k->extractable == HD_NO))
		return 0;
	hd_err_set(err, HD_E_TOKEN, 0, "%s: reported the new private key as "
	    "%s%s%s although hsmdesk asked for a %s key", g->obj,
	    k->sensitive != HD_YES ? "not sensitive (readable in plaintext)" :
	    "", k->sensitive != HD_YES && k->extractable != HD_NO &&
	    !p->exportable ? " and " : "", k->extractable != HD_NO &&
	    !p->exportable ? "extractable" : "", p->exportable ? "sensitive" :
	    "sensitive, non-exportable");
	hd_err_hint(err, "the key pair was deleted; this token cannot be "
	    "trusted to keep keys: check its policy or use another");
	return -1;
}

static int
keygen_ready(struct hd_session *s, const struct hd_profile *p,
    struct gen *g, struct hd_err *err)
{
	snprintf(g->obj, sizeof(g->obj), "token '%s'", hd_token_name(s));
	if (!s->logged_in || s->sh == 0)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: log in before "
		    "generating a key", g->obj);
	if (p->type == HD_KEY_RSA && p->bits < 2048)
		return hd_err_set(err, HD_E_INPUT, 0, "RSA-%u: below 2048 "
		    "bits", p->bits);
	g->idlen = 16;
	if (RAND_bytes(g->id, (int)g->idlen) != 1)
		return hd_err_set(err, HD_E_INTERNAL, 0, "no random bytes");
	return 0;
}

static void
template_hint(struct hd_err *err, const struct hd_profile *p)
{
	hd_err_hint(err, "hsmdesk asked for: private key CKA_TOKEN, "
	    "CKA_PRIVATE, CKA_SENSITIVE=true, CKA_EXTRACTABLE=%s, CKA_SIGN; "
	    "public key CKA_VERIFY, %s. The token does not say which it "
	    "refused: check its documentation; nothing was created",
	    p->exportable ? "true" : "false",
	    p->type == HD_KEY_RSA ? "CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT" :
	    "CKA_EC_PARAMS");
}

/*
 * Generate the profile's key pair, labelled label (made unique), on the
 * logged-in token.  progress is called before (0/1) and after (1/1) the
 * token's work; cancelling there deletes the new pair.
 */
int
hd_keygen(struct hd_session *s, const struct hd_profile *p, const char *label,
    hd_progress_fn progress, void *arg, struct hd_key *out,
    struct hd_err *err)
{
	struct gen g;
	char lab[129];
	int random_id;
	uint64_t t0;
	CK_RV rv;

	memset(&g, 0, sizeof(g));
	hd_err_clear(err);
	if (keygen_ready(s, p, &g, err) == -1 ||
	    label_unique(s, label, lab, sizeof(lab), err) == -1)
		return -1;
	if (progress != NULL && progress(arg, 0, 1) != 0)
		return hd_err_set(err, HD_E_CANCELLED, 0, "key generation "
		    "cancelled; nothing was created");
	t0 = hd_now_ns();
	rv = generate(s, p, lab, &g);
	s->gen_ns += hd_now_ns() - t0;
	if (rv != CKR_OK) {
		sweep(s, &g);
		hd_err_ckr(err, rv, "key generation", g.obj);
		if (rv == CKR_TEMPLATE_INCONSISTENT || rv ==
		    CKR_ATTRIBUTE_VALUE_INVALID || rv ==
		    CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_TEMPLATE_INCOMPLETE)
			template_hint(err, p);
		hd_vendor_hint(s, err, rv);
		return -1;
	}
	if (progress != NULL && progress(arg, 1, 1) != 0) {
		destroy(s, &g);
		return hd_err_set(err, HD_E_CANCELLED, 0, "key generation "
		    "cancelled; the new key pair was deleted");
	}
	random_id = set_key_id(s, &g) == -1;
	if (read_back(s, p, &g, out, err) == -1) {
		destroy(s, &g);
		/* flags unread because the session died: not a bad token */
		if (hd_session_explain(s, err))
			hd_err_hint(err, "the new key pair '%s' may be left "
			    "on the token: once it answers again, 'hsmdesk "
			    "delete-key --label %s --yes' removes it", lab,
			    lab);
		return -1;
	}
	out->id_random = random_id;
	return 0;
}
