/*
 * The private key as an OpenSSL EVP_PKEY whose signing happens on the
 * token: libp11's.  The slot list is taken fresh, the key found by its
 * CKA_ID, and everything released in the order libp11 needs (the EVP_PKEY
 * before the slots, libp11#534).  Login is the core's own, at the
 * application level, which libp11's sessions share.
 *
 * libp11 0.4.12 releases a slot with C_CloseAllSessions: releasing the
 * list after each signature would close the core's own session and log
 * the token out (found by the sign-device-error e2e test, when deleting
 * the new key after a failed CSR signature found no session).  So libp11's
 * slot list lives as long as the login: taken at the first signature and
 * released by hd_logout (the next login gives the keys new handles) or
 * hd_close.
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
	PKCS11_SLOT *slots = s->p11_slots;
	unsigned int i;

	for (i = 0; i < s->p11_nslots; i++) {
		PKCS11_TOKEN *t = slots[i].token;

		if (t != NULL && t->initialized && t->serialnr != NULL &&
		    t->label != NULL && strcmp(t->serialnr, s->serial) == 0 &&
		    strcmp(t->label, s->label) == 0)
			return &slots[i];
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

/* libp11's slot list, taken once (PKCS11_update_slots crashes when
 * called on a list from PKCS11_enumerate_slots here, libp11 0.4.12). */
static int
signer_slots(struct hd_session *s, struct hd_err *err)
{
	PKCS11_SLOT *slots = NULL;

	if (s->p11_slots != NULL)
		return 0;
	if (PKCS11_enumerate_slots(s->p11, &slots, &s->p11_nslots) == 0) {
		s->p11_slots = slots;
		return 0;
	}
	hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11 could not list the "
	    "slots", hd_token_name(s));
	hd_err_ossl(err);
	return -1;
}

/*
 * The token's slot in libp11's list.  If the list is stale (the token was
 * removed and inserted again, under another slot ID), it is taken anew;
 * releasing the old one closes the slot's sessions, but a token that went
 * away has lost them already.
 */
static PKCS11_SLOT *
find_slot(struct hd_session *s, struct hd_err *err)
{
	PKCS11_SLOT *slot;

	if (signer_slots(s, err) == -1)
		return NULL;
	if ((slot = signer_slot(s)) != NULL)
		return slot;
	hd_signer_release(s);
	if (signer_slots(s, err) == -1)
		return NULL;
	return signer_slot(s);
}

/*
 * libp11 0.4.12 opens read-only sessions, and waits for ever when a token
 * refuses one: CloudHSM takes read-write sessions only.  Switching libp11
 * to read-write closes all the slot's sessions, and with them the login,
 * so it is done before the login (hd_login), for each login.
 */
int
hd_signer_rw(struct hd_session *s, struct hd_err *err)
{
	PKCS11_SLOT *slot;

	if ((slot = find_slot(s, err)) == NULL) {
		if (err->msg[0] == '\0')
			hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11 does "
			    "not list it", hd_token_name(s));
		return -1;
	}
	if (PKCS11_open_session(slot, 1) != 0) {
		hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11 cannot open "
		    "a read-write session", hd_token_name(s));
		hd_err_ossl(err);
		return -1;
	}
	return 0;
}

/*
 * p11-kit-client.so gives every C_GetFunctionList caller its own
 * connection to the server, so libp11's instance is another application
 * there and does not share the raw layer's login: it logs in too.  libp11
 * keeps the PIN until hd_logout releases its slots.
 */
int
hd_signer_login(struct hd_session *s, const char *pin, struct hd_err *err)
{
	PKCS11_SLOT *slot;

	if ((slot = find_slot(s, err)) == NULL) {
		if (err->msg[0] == '\0')
			hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11 does "
			    "not list it", hd_token_name(s));
		return -1;
	}
	if (PKCS11_login(slot, 0, pin) != 0) {
		hd_err_set(err, HD_E_TOKEN, 0, "token '%s': libp11's login "
		    "through the module failed", hd_token_name(s));
		hd_err_ossl(err);
		return -1;
	}
	return 0;
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
	hd_err_clear(err);
	/* libp11 0.4.12 waits forever when its first C_OpenSession fails
	 * (OpenSC/libp11#579): do not hand it a token that is gone */
	if (hd_session_gone(s, err)) {
		free(g);
		return NULL;
	}
	if ((slot = find_slot(s, err)) == NULL && err->msg[0] != '\0') {
		free(g);
		return NULL;
	}
	if (slot == NULL ||
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

/* hd_close: after every signer's EVP_PKEY is gone, before the context. */
void
hd_signer_release(struct hd_session *s)
{
	if (s->p11_slots != NULL)
		PKCS11_release_all_slots(s->p11, s->p11_slots, s->p11_nslots);
	s->p11_slots = NULL;
	s->p11_nslots = 0;
}
