/*
 * Vendor quirks hsmdesk handles, recognised from what the module and token
 * say about themselves or from config.yaml's vendor: key.
 *
 * AWS CloudHSM (Client SDK 3 and 5): the crypto user logs in with the PIN
 * "user:password"; the token never sets CKF_USER_PIN_INITIALIZED (the user
 * exists in the cluster, not on the token); only read-write sessions open;
 * objects are listed only after login; hsm1.medium refuses certificate
 * objects (accept then keeps them in the local store).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Words in a module's or token's self-description that name CloudHSM:
 * the service, and the makers of its HSM hardware (Cavium, now Marvell). */
static const char *const cloudhsm_words[] = { "cloudhsm", "cavium",
    "marvell" };

static int
has_word(const char *hay, const char *const *words, size_t n)
{
	char low[4096];
	size_t i;

	for (i = 0; hay[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)hay[i]);
	low[i] = '\0';
	for (i = 0; i < n; i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

static int
cloudhsm_named(const char *s)
{
	return has_word(s, cloudhsm_words,
	    sizeof(cloudhsm_words) / sizeof(cloudhsm_words[0]));
}

int
hd_vendor_set(struct hd_session *s, const char *name, struct hd_err *err)
{
	if (name == NULL || strcmp(name, "auto") == 0)
		name = "";
	if (*name != '\0' && strcmp(name, "cloudhsm") != 0 &&
	    strcmp(name, "none") != 0)
		return hd_err_set(err, HD_E_CONFIG, 0, "vendor '%s': expected "
		    "auto, cloudhsm or none", name);
	snprintf(s->vendor, sizeof(s->vendor), "%s", name);
	return 0;
}

/*
 * Judge by the module's path and the token's own words, and lib's when the
 * caller has it.  No C_GetInfo of our own: this runs on every token
 * listing, and a call more would shift fakep11's device-removed-after=N.
 */
static int
is_cloudhsm(struct hd_session *s, const struct hd_token_info *ti,
    const CK_INFO *lib)
{
	char desc[33], maker[33];

	if (strcmp(s->vendor, "cloudhsm") == 0)
		return 1;
	if (strcmp(s->vendor, "none") == 0)
		return 0;
	if (cloudhsm_named(s->module) || (ti != NULL &&
	    (cloudhsm_named(ti->manufacturer) || cloudhsm_named(ti->model))))
		return 1;
	if (lib == NULL)
		return 0;
	hd_padded_copy(desc, sizeof(desc), lib->libraryDescription, 32);
	hd_padded_copy(maker, sizeof(maker), lib->manufacturerID, 32);
	return cloudhsm_named(desc) || cloudhsm_named(maker);
}

/* A module that gives each caller its own instance (p11-kit-client.so:
 * its own server connection), so libp11 must log in separately. */
int
hd_module_per_caller(const struct hd_session *s)
{
	const char *b = strrchr(s->module, '/');

	return strstr(b != NULL ? b + 1 : s->module, "p11-kit-client") !=
	    NULL;
}

/* The selected token (or, with none selected, the module) is a CloudHSM. */
int
hd_vendor_cloudhsm(struct hd_session *s)
{
	struct hd_token_info ti;
	struct hd_err ignored;

	if (s == NULL)
		return 0;
	if (s->selected && hd_slot_info(s, s->slot, &ti, &ignored) == 0)
		return ti.cloudhsm;
	return is_cloudhsm(s, NULL, NULL);
}

/*
 * Fill in what a CloudHSM token leaves unsaid: its crypto users exist in
 * the cluster, so a missing CKF_USER_PIN_INITIALIZED does not mean "no
 * user PIN" there.  The flag as reported stays in user_pin_flag.
 */
void
hd_vendor_fix_info(struct hd_session *s, struct hd_token_info *ti,
    const CK_INFO *lib)
{
	ti->cloudhsm = is_cloudhsm(s, ti, lib);
	if (ti->cloudhsm && ti->initialized)
		ti->user_pin_set = 1;
}

/*
 * CloudHSM's PIN: "user:password".  The front-end asks for the crypto
 * user's name and password separately; this joins them in pin's buffer
 * and wipes password.  A name with ':' in it could not be told apart.
 */
int
hd_pin_join_user(struct hd_pin *pin, const char *user,
    struct hd_pin *password, struct hd_err *err)
{
	size_t ul = user != NULL ? strlen(user) : 0, pl = hd_pin_len(password);
	char *b = hd_pin_buf(pin);
	int rc = -1;

	hd_pin_clear(pin);
	if (ul == 0)
		hd_err_set(err, HD_E_PIN_POLICY, 0, "crypto user name: empty");
	else if (strchr(user, ':') != NULL)
		hd_err_set(err, HD_E_PIN_POLICY, 0, "crypto user name '%s': "
		    "must not contain ':'", user);
	else if (pl == 0)
		hd_err_set(err, HD_E_PIN_POLICY, 0, "password: empty");
	else if (ul + 1 + pl > HD_PIN_MAX)
		hd_err_set(err, HD_E_PIN_POLICY, 0, "crypto user name and "
		    "password: longer than %d characters together", HD_PIN_MAX);
	else {
		memcpy(b, user, ul);
		b[ul] = ':';
		memcpy(b + ul + 1, hd_pin_buf(password), pl);
		hd_pin_set_len(pin, ul + 1 + pl);
		rc = 0;
	}
	hd_pin_clear(password);
	return rc;
}
