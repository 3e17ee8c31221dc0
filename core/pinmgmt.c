/*
 * PIN management: initialize a token, change the user PIN, and the
 * security officer's reset of the user PIN.  Every new PIN is checked
 * against the token's length limits before the token is touched, and all
 * PINs are wiped when the call returns, whatever the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void
wipe3(struct hd_pin *a, struct hd_pin *b, struct hd_pin *c)
{
	hd_pin_clear(a);
	hd_pin_clear(b);
	hd_pin_clear(c);
}

static int
label_check(struct hd_session *s, const char *label, struct hd_err *err)
{
	struct hd_token_info *l;
	size_t n, i;
	int rc = 0;

	if (label == NULL || *label == '\0' || strlen(label) > 32)
		return hd_err_set(err, HD_E_USAGE, 0, "token label '%s': must "
		    "be 1 to 32 bytes", label ? label : "");
	if (hd_tokens(s, &l, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (l[i].initialized && strcmp(l[i].label, label) == 0) {
			hd_err_set(err, HD_E_USAGE, 0, "token label '%s': "
			    "already used by the token with serial %s", label,
			    l[i].serial);
			hd_err_hint(err, "choose another label: tokens are "
			    "selected by label");
			rc = -1;
			break;
		}
	}
	free(l);
	return rc;
}

/* SO login, C_InitPIN, logout: shared by init-token and reset-pin. */
static int
so_init_pin(struct hd_session *s, struct hd_pin *so, struct hd_pin *user,
    struct hd_err *err)
{
	char obj[80];
	CK_RV rv;

	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	if (hd_session_open(s, err) == -1)
		return -1;
	rv = s->fl->C_Login(s->sh, CKU_SO, (CK_UTF8CHAR_PTR)hd_pin_buf(so),
	    (CK_ULONG)hd_pin_len(so));
	if (rv != CKR_OK) {
		hd_err_ckr(err, rv, "security officer login", obj);
		hd_session_close(s);
		return -1;
	}
	rv = s->fl->C_InitPIN(s->sh, (CK_UTF8CHAR_PTR)hd_pin_buf(user),
	    (CK_ULONG)hd_pin_len(user));
	(void)s->fl->C_Logout(s->sh);
	hd_session_close(s);
	if (rv != CKR_OK)
		return hd_err_ckr(err, rv, "setting the user PIN", obj);
	return 0;
}

/* After C_InitToken the token has a label and serial, and maybe a new slot. */
static int
reselect_by_label(struct hd_session *s, const char *label, struct hd_err *err)
{
	char uri[128];

	snprintf(uri, sizeof(uri), "pkcs11:token=");
	for (const char *p = label; *p != '\0'; p++)
		snprintf(uri + strlen(uri), sizeof(uri) - strlen(uri), "%%%02X",
		    (unsigned char)*p);
	return hd_token_select(s, uri, err);
}

int
hd_init_token(struct hd_session *s, const char *label, struct hd_pin *so_pin,
    struct hd_pin *user_pin, struct hd_err *err)
{
	struct hd_token_info ti;
	unsigned char padded[32];
	CK_RV rv;
	int rc = -1;

	hd_err_clear(err);
	hd_logout(s, err);
	if (!s->selected || !s->selected_uninit) {
		hd_err_set(err, HD_E_USAGE, 0, "no uninitialized token "
		    "selected");
		goto out;
	}
	if (label_check(s, label, err) == -1 ||
	    hd_token_info(s, &ti, err) == -1 ||
	    hd_pin_check_len(&ti, so_pin, "SO PIN", err) == -1 ||
	    hd_pin_check_len(&ti, user_pin, "user PIN", err) == -1)
		goto out;
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = s->fl->C_InitToken(s->slot, (CK_UTF8CHAR_PTR)hd_pin_buf(so_pin),
	    (CK_ULONG)hd_pin_len(so_pin), padded);
	if (rv != CKR_OK) {
		hd_err_ckr(err, rv, "initialization", "uninitialized token");
		goto out;
	}
	if (reselect_by_label(s, label, err) == -1 ||
	    so_init_pin(s, so_pin, user_pin, err) == -1) {
		snprintf(err->hint, sizeof(err->hint), "the token is "
		    "initialized but has no user PIN: set one with 'hsmdesk "
		    "--token %s reset-pin'", label);
		goto out;
	}
	rc = 0;
out:
	wipe3(so_pin, user_pin, NULL);
	return rc;
}

static int
change_precheck(struct hd_session *s, struct hd_pin *new_pin,
    struct hd_err *err)
{
	struct hd_token_info ti;

	if (hd_token_info(s, &ti, err) == -1)
		return -1;
	if (!ti.initialized)
		return hd_err_set(err, HD_E_UNINIT, 0, "token '%s': not "
		    "initialized", hd_token_name(s));
	return hd_pin_check_len(&ti, new_pin, "new PIN", err);
}

/*
 * C_SetPIN in a public read-write session: the way out of "PIN to be
 * changed" too, where login itself is refused.  Tokens that want a login
 * first (CKR_USER_NOT_LOGGED_IN) get one with the old PIN.
 */
int
hd_change_pin(struct hd_session *s, struct hd_pin *old_pin,
    struct hd_pin *new_pin, struct hd_err *err)
{
	char obj[80];
	CK_RV rv;
	int rc = -1;

	hd_err_clear(err);
	hd_logout(s, err);
	if (change_precheck(s, new_pin, err) == -1 ||
	    hd_session_open(s, err) == -1)
		goto out;
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	rv = s->fl->C_SetPIN(s->sh, (CK_UTF8CHAR_PTR)hd_pin_buf(old_pin),
	    (CK_ULONG)hd_pin_len(old_pin), (CK_UTF8CHAR_PTR)hd_pin_buf(new_pin),
	    (CK_ULONG)hd_pin_len(new_pin));
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		rv = s->fl->C_Login(s->sh, CKU_USER,
		    (CK_UTF8CHAR_PTR)hd_pin_buf(old_pin),
		    (CK_ULONG)hd_pin_len(old_pin));
		if (rv == CKR_OK)
			rv = s->fl->C_SetPIN(s->sh,
			    (CK_UTF8CHAR_PTR)hd_pin_buf(old_pin),
			    (CK_ULONG)hd_pin_len(old_pin),
			    (CK_UTF8CHAR_PTR)hd_pin_buf(new_pin),
			    (CK_ULONG)hd_pin_len(new_pin));
		(void)s->fl->C_Logout(s->sh);
	}
	hd_session_close(s);
	if (rv != CKR_OK) {
		hd_err_ckr(err, rv, "changing the PIN", obj);
		goto out;
	}
	rc = 0;
out:
	wipe3(old_pin, new_pin, NULL);
	return rc;
}

int
hd_reset_pin(struct hd_session *s, struct hd_pin *so_pin,
    struct hd_pin *new_pin, struct hd_err *err)
{
	int rc = -1;

	hd_err_clear(err);
	hd_logout(s, err);
	if (change_precheck(s, new_pin, err) == -1 ||
	    so_init_pin(s, so_pin, new_pin, err) == -1)
		goto out;
	rc = 0;
out:
	wipe3(so_pin, new_pin, NULL);
	return rc;
}
