/*
 * Crypto-user login and logout through the raw PKCS#11 layer.  Raw rather
 * than PKCS11_login(): libp11 keeps its own copy of the PIN until logout,
 * and its error path loses CKR values above 23 bits.  Login state is per
 * application, so libp11's sessions on the same module see it too.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int
hd_session_open(struct hd_session *s, struct hd_err *err)
{
	CK_FLAGS rw = CKF_SERIAL_SESSION | CKF_RW_SESSION;
	char obj[64];
	CK_RV rv;

	if (s->sh != 0)
		return 0;
	if (hd_token_resolve(s, err) == -1)
		return -1;
	/* read-write first: CloudHSM allows nothing else, and SO login and
	 * PIN changes need it; a write-protected token gets read-only */
	rv = s->fl->C_OpenSession(s->slot, rw, NULL, NULL, &s->sh);
	if (rv == CKR_TOKEN_WRITE_PROTECTED)
		rv = s->fl->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL,
		    NULL, &s->sh);
	if (rv != CKR_OK) {
		s->sh = 0;
		snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
		return hd_err_ckr(err, rv, "opening a session", obj);
	}
	return 0;
}

void
hd_session_close(struct hd_session *s)
{
	if (s->sh != 0)
		(void)s->fl->C_CloseSession(s->sh);
	hd_signer_release(s);
	s->sh = 0;
	s->logged_in = 0;
}

/* Say what the token's retry flags mean, after a failed login. */
static void
login_hint(struct hd_err *err, const struct hd_token_info *ti)
{
	if (ti->pin_locked)
		hd_err_hint(err, "the token has now locked the PIN: the "
		    "security officer must reset it ('hsmdesk reset-pin')");
	else if (ti->pin_final_try)
		hd_err_hint(err, "final try: one more wrong PIN locks the "
		    "token. It was not retried");
	else if (ti->pin_count_low)
		hd_err_hint(err, "the token reports few tries left before it "
		    "locks. It was not retried");
}

static int
login_precheck(struct hd_session *s, const struct hd_token_info *ti,
    struct hd_err *err)
{
	const char *n = hd_token_name(s);

	if (!ti->initialized)
		return hd_err_set(err, HD_E_UNINIT, 0, "token '%s': not "
		    "initialized", n);
	if (ti->pin_locked) {
		/* a try on a locked PIN is pointless and some HSMs log it */
		hd_err_set(err, HD_E_PIN_LOCKED, CKR_PIN_LOCKED, "token '%s': "
		    "PIN locked", n);
		hd_err_hint(err, "the security officer must reset it "
		    "('hsmdesk reset-pin'); no login was attempted");
		return -1;
	}
	return 0;
}

/*
 * Log the crypto user in.  The PIN is used once and wiped whatever the
 * outcome; a wrong PIN is never retried.  The token flags are read fresh
 * before the attempt (locked: no attempt) and after a failure (hint).
 */
int
hd_login(struct hd_session *s, struct hd_pin *pin, struct hd_err *err)
{
	struct hd_token_info ti;
	char obj[64];
	CK_RV rv;
	int rc = -1;

	hd_err_clear(err);
	if (hd_token_info(s, &ti, err) == -1 || login_precheck(s, &ti, err))
		goto out;
	if (s->logged_in) {
		rc = 0;
		goto out;
	}
	if ((ti.cloudhsm && hd_signer_rw(s, err) == -1) ||
	    hd_session_open(s, err) == -1)
		goto out;
	rv = s->fl->C_Login(s->sh, CKU_USER, (CK_UTF8CHAR_PTR)hd_pin_buf(pin),
	    (CK_ULONG)hd_pin_len(pin));
	if (rv == CKR_OK && hd_module_per_caller(s) &&
	    hd_signer_login(s, hd_pin_buf(pin), err) == -1) {
		hd_pin_clear(pin);
		(void)s->fl->C_Logout(s->sh);
		hd_session_close(s);
		goto out;
	}
	hd_pin_clear(pin);
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = 1;
		if (hd_slot_info(s, s->slot, &ti, err) == 0 &&
		    ti.pin_to_change) {
			hd_logout(s, err);
			hd_err_ckr(err, CKR_PIN_EXPIRED, NULL, obj);
			goto out;
		}
		rc = 0;
		goto out;
	}
	hd_err_ckr(err, rv, "login", obj);
	hd_vendor_hint(s, err, rv);
	if (hd_slot_info(s, s->slot, &ti, &(struct hd_err){0}) == 0)
		login_hint(err, &ti);
	hd_session_close(s);
out:
	hd_pin_clear(pin);
	return rc;
}

/*
 * Log out and close the session; a token already gone is not an error.
 * libp11's slot list goes too: the token gives private objects new
 * handles at the next login (SoftHSM2 does), and libp11 would keep
 * signing with the old ones (CKR_OBJECT_HANDLE_INVALID).  So no signer
 * (hd_sign, CSR) may be open across a logout.
 */
int
hd_logout(struct hd_session *s, struct hd_err *err)
{
	CK_RV rv = CKR_OK;

	hd_err_clear(err);
	if (s->sh != 0 && s->logged_in)
		rv = s->fl->C_Logout(s->sh);
	hd_session_close(s);
	hd_signer_release(s);
	if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN &&
	    rv != CKR_SESSION_HANDLE_INVALID && rv != CKR_SESSION_CLOSED &&
	    rv != CKR_DEVICE_REMOVED && rv != CKR_TOKEN_NOT_PRESENT)
		return hd_err_ckr(err, rv, "logout", "token");
	return 0;
}

int
hd_logged_in(const struct hd_session *s)
{
	return s != NULL && s->logged_in;
}

/* Check a new PIN against the token's limits before the token sees it. */
int
hd_pin_check_len(const struct hd_token_info *ti, const struct hd_pin *pin,
    const char *which, struct hd_err *err)
{
	size_t n = hd_pin_len(pin);
	unsigned long lo = ti->min_pin, hi = ti->max_pin;

	if (n == 0)
		return hd_err_set(err, HD_E_PIN_POLICY, 0, "%s: empty", which);
	if ((lo != 0 && n < lo) || (hi != 0 && hi != CK_UNAVAILABLE_INFORMATION
	    && n > hi)) {
		hd_err_set(err, HD_E_PIN_POLICY, CKR_PIN_LEN_RANGE, "%s: %zu "
		    "character%s; token '%s' accepts %lu to %lu", which, n,
		    n == 1 ? "" : "s",
		    ti->initialized ? ti->label : "(uninitialized)", lo, hi);
		hd_err_hint(err, "choose a PIN of the length the token "
		    "accepts; nothing was changed");
		return -1;
	}
	return 0;
}
