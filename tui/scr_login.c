/*
 * Log in: the token's PIN state in plain words, a PIN field that shows
 * neither the PIN nor its length, and the result.  A wrong PIN is never
 * retried; a PIN to be changed leads straight to Change PIN.  On AWS
 * CloudHSM the crypto user's name and password are asked separately and
 * joined as the module wants them, "user:password".
 */
#include "tui.h"

struct login {
	struct form fm;
};

static enum role
state_role(const struct hd_token_info *ti)
{
	if (ti->pin_locked || ti->pin_final_try || !ti->initialized)
		return RO_ERROR;
	if (ti->pin_count_low || ti->pin_to_change)
		return RO_WARNING;
	return RO_OK;
}

static void
login_enter(struct tui *t, struct view *v, const void *arg)
{
	struct login *l = v->st;

	(void)arg;
	tui_refresh_token(t);
	if (t->ti.cloudhsm) {
		form_add_text(&l->fm, "Crypto user", "", 64);
		form_add(&l->fm, "Password", F_PIN);
	} else
		form_add(&l->fm, "PIN", F_PIN);
}

static void
login_leave(struct tui *t, struct view *v)
{
	struct login *l = v->st;

	(void)t;
	form_free(&l->fm);
}

static void
login_draw(struct tui *t, struct view *v)
{
	struct login *l = v->st;
	const struct hd_token_info *ti = &t->ti;
	char words[80];

	if (!ti->present) {
		draw_text(t, 4, 3, t->cols - 6, RO_ERROR, "No token to log in "
		    "to. Esc goes back; Token & keys shows what is there.");
		return;
	}
	hd_token_state_words(ti, words, sizeof(words));
	draw_text(t, 4, 3, 14, RO_DIM, "Token");
	draw_text(t, 4, 17, t->cols - 20, RO_NORMAL, "%s (serial %s, %s)",
	    ti->label, ti->serial, ti->model);
	draw_text(t, 5, 3, 14, RO_DIM, "PIN state");
	draw_text(t, 5, 17, t->cols - 20, state_role(ti), "%s", words);
	if (hd_logged_in(t->s)) {
		draw_text(t, 7, 3, t->cols - 6, RO_OK, "Logged in. Esc goes "
		    "back; o in the menu logs out.");
		return;
	}
	if (ti->pin_locked) {
		draw_wrap(t, 7, 3, t->cols - 6, 3, RO_ERROR, "The user PIN is "
		    "locked. No login will be tried. The security officer "
		    "can reset it: Token & keys, then R.");
		return;
	}
	form_draw(t, &l->fm, 7, 3);
	draw_wrap(t, 8 + l->fm.n, 3, t->cols - 6, 3, RO_DIM, l->fm.n > 1 ?
	    "CloudHSM: the crypto user's name and password, joined as "
	    "user:password. The password is not shown, nor its length; a "
	    "wrong one is never retried: the HSM locks the user." :
	    "The PIN is not shown, nor its length. A wrong PIN is reported "
	    "and never retried: HSMs lock the user after a few failures.");
}

/* CloudHSM: "user:password" in a buffer of its own, wiped by hd_login. */
static int
login_joined(struct tui *t, struct login *l, struct hd_err *err)
{
	struct hd_pin *joined = hd_pin_new();
	int rc = -1;

	if (joined == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (hd_pin_join_user(joined, l->fm.f[0].text, l->fm.f[1].pin,
	    err) == 0)
		rc = hd_login(t->s, joined, err);
	hd_pin_free(joined);
	return rc;
}

static enum act
login_submit(struct tui *t, struct view *v)
{
	struct login *l = v->st;
	struct hd_pin *pin = l->fm.f[l->fm.n - 1].pin;
	struct hd_err err;
	int rc;

	if (!t->ti.present || hd_logged_in(t->s))
		return ACT_POP;
	if (l->fm.cur < l->fm.n - 1) {	/* user name: on to the password */
		l->fm.cur++;
		return ACT_NONE;
	}
	if (t->ti.pin_locked) {
		tui_note(t, RO_ERROR, "The PIN is locked; no login was tried. "
		    "The security officer resets it: Token & keys, then R.");
		return ACT_NONE;
	}
	if (hd_pin_len(pin) == 0) {
		tui_note(t, RO_WARNING, "Type the %s, then Enter.",
		    l->fm.n > 1 ? "password" : "PIN");
		return ACT_NONE;
	}
	tui_note(t, RO_DIM, "Logging in...");
	rc = l->fm.n > 1 ? login_joined(t, l, &err) : hd_login(t->s, pin, &err);
	if (rc == 0) {
		tui_refresh_token(t);
		tui_note(t, RO_OK, "Logged in to token '%s'.", t->ti.label);
		return ACT_POP;
	}
	tui_refresh_token(t);
	tui_note_err(t, &err);
	if (err.code == HD_E_PIN_EXPIRED) {
		tui_pop(t);
		tui_push(t, &scr_change_pin, NULL);
		tui_note(t, RO_WARNING, "The token wants a new PIN before "
		    "anything else: change it here.");
	}
	return ACT_NONE;
}

static enum act
login_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
login_other(struct tui *t, struct view *v, int ch)
{
	struct login *l = v->st;

	if (hd_logged_in(t->s) || t->ti.pin_locked)
		return ACT_UNHANDLED;
	return form_key(&l->fm, ch) == -1 ? ACT_UNHANDLED : ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Log in", login_submit },
	{ 27, 0, "Esc", "Back", login_back },
	{ 21, 0, NULL, "Erase the PIN typed so far", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_login = {
	.name = "login",
	.title = "Log in",
	.state_size = sizeof(struct login),
	.keys = keys,
	.enter = login_enter,
	.draw = login_draw,
	.other = login_other,
	.leave = login_leave,
	.secret = 1,
};
