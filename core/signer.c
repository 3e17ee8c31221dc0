/*
 * The private key as an OpenSSL EVP_PKEY whose signing happens on the
 * token: libp11's.  The slot list is taken once per session and kept in
 * it, because libp11 releases slots with C_CloseAllSessions, which would
 * end our session and login after the first signature; it is released
 * when the session closes, after every EVP_PKEY (libp11#534).  The key is
 * found by its CKA_ID.  Login is the core's own, at the application
 * level, which libp11's sessions share.
 */
#include <stdlib.h>
#include <string.h>

#include <libp11.h>

#include "internal.h"

struct hd_signer {
	EVP_PKEY *pkey;
};

static PKCS11_SLOT *
signer_slot(struct hd_session *s)
{
	unsigned int i;

	for (i = 0; i < s->p11_nslots; i++) {
		PKCS11_TOKEN *t = s->p11_slots[i].token;

		if (t != NULL && t->initialized && t->serialnr != NULL &&
		    t->label != NULL && strcmp(t->serialnr, s->serial) == 0 &&
		    strcmp(t->label, s->label) == 0)
			return &s->p11_slots[i];
	}
	return NULL;
}

static PKCS11_KEY *
signer_key(PKCS11_SLOT *slot, const struct hd_key *k)
{
	PKCS11_KEY *keys;
	unsigned int n, i;

	if (PKCS11_enumerate_keys(slot->token, &keys, &n) != 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (keys[i].isPrivate && keys[i].id_len == k->id_len &&
		    memcmp(keys[i].id, k->id, k->id_len) == 0)
			return &keys[i];
	return NULL;
}

struct hd_signer *
hd_signer_open(struct hd_session *s, const struct hd_key *k,
    struct hd_err *err)
{
	struct hd_signer *g = calloc(1, sizeof(*g));
	PKCS11_SLOT *slot;
	PKCS11_KEY *key;

	if (g == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (s->p11_slots == NULL && PKCS11_enumerate_slots(s->p11,
	    &s->p11_slots, &s->p11_nslots) != 0) {
		s->p11_slots = NULL;
		hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11 could not "
		    "list the slots", hd_token_name(s));
		hd_err_ossl(err);
		free(g);
		return NULL;
	}
	if ((slot = signer_slot(s)) == NULL ||
	    (key = signer_key(slot, k)) == NULL ||
	    (g->pkey = PKCS11_get_private_key(key)) == NULL) {
		hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': libp11 "
		    "cannot use it for signing", k->label, hd_token_name(s));
		hd_err_ossl(err);
		hd_signer_close(g);
		return NULL;
	}
	return g;
}

EVP_PKEY *
hd_signer_pkey(struct hd_signer *g)
{
	return g->pkey;
}

void
hd_signer_close(struct hd_signer *g)
{
	if (g == NULL)
		return;
	EVP_PKEY_free(g->pkey);
	free(g);
}

void
hd_signer_release(struct hd_session *s)
{
	if (s->p11_slots != NULL)
		PKCS11_release_all_slots(s->p11, s->p11_slots, s->p11_nslots);
	s->p11_slots = NULL;
	s->p11_nslots = 0;
}
