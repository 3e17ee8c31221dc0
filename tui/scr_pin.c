/*
 * Initialize token, Change PIN and Reset user PIN: forms whose new PINs
 * are typed twice.  The core checks the token's length limits and wipes
 * every PIN; the form wipes its fields when it closes.
 */
#include <string.h>

#include "tui.h"

struct pinform {
	struct form fm;
};

static void
pf_leave(struct tui *t, struct view *v)
{
	struct pinform *p = v->st;

	(void)t;
	form_free(&p->fm);
}

static enum act
pf_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

/*
 * Fields i and i+1 hold a new PIN typed twice; on a mismatch both are
 * wiped and the cursor goes back to the first.
 */
static int
pf_pair(struct tui *t, struct form *fm, int i)
{
	struct field *a = &fm->f[i], *b = &fm->f[i + 1];

	if (hd_pin_len(a->pin) > 0 && hd_pin_equal(a->pin, b->pin))
		return 0;
	tui_note(t, RO_ERROR, "%s: %s; nothing was changed.", a->label,
	    hd_pin_len(a->pin) == 0 ? "empty" : "the two entries differ");
	hd_pin_clear(a->pin);
	hd_pin_clear(b->pin);
	fm->cur = i;
	return -1;
}

static enum act
pf_other(struct tui *t, struct view *v, int ch)
{
	struct pinform *p = v->st;
	int r = form_key(&p->fm, ch);

	if (r == 1)	/* Enter on the last field */
		return v->scr->keys[0].fn(t, v);
	return r == -1 ? ACT_UNHANDLED : ACT_NONE;
}

static void
pf_draw_common(struct tui *t, struct view *v, const char *what)
{
	struct pinform *p = v->st;

	draw_wrap(t, 4, 3, t->cols - 6, 3, RO_NORMAL, what);
	form_draw(t, &p->fm, 8, 3);
	if (t->ti.max_pin != 0)
		draw_text(t, 9 + p->fm.n, 3, t->cols - 6, RO_DIM, "PINs on this "
		    "token: %lu to %lu characters. Nothing typed is shown.",
		    t->ti.min_pin, t->ti.max_pin);
	draw_text(t, 10 + p->fm.n, 3, t->cols - 6, RO_DIM, "Tab or Enter: "
	    "next field. Enter on the last field: go.");
}

/* ---- Initialize token -------------------------------------------------- */

static void
init_enter(struct tui *t, struct view *v, const void *arg)
{
	struct pinform *p = v->st;

	(void)arg;
	tui_refresh_token(t);
	form_add(&p->fm, "Token label", F_TEXT);
	form_add(&p->fm, "SO PIN", F_PIN);
	form_add(&p->fm, "SO PIN again", F_PIN);
	form_add(&p->fm, "User PIN", F_PIN);
	form_add(&p->fm, "User PIN again", F_PIN);
}

static void
init_draw(struct tui *t, struct view *v)
{
	pf_draw_common(t, v, "This token is empty. Initializing gives it a "
	    "label, a security officer (SO) PIN that can reset the user PIN, "
	    "and the user PIN that signing needs.");
}

static enum act
init_go(struct tui *t, struct view *v)
{
	struct pinform *p = v->st;
	struct field *f = p->fm.f;
	struct hd_err err;

	if (f[0].text[0] == '\0') {
		tui_note(t, RO_ERROR, "Token label: empty.");
		p->fm.cur = 0;
		return ACT_NONE;
	}
	if (pf_pair(t, &p->fm, 1) == -1 || pf_pair(t, &p->fm, 3) == -1)
		return ACT_NONE;
	if (hd_init_token(t->s, f[0].text, f[1].pin, f[3].pin, &err) == -1) {
		form_clear_pins(&p->fm);
		tui_refresh_token(t);
		tui_note_err(t, &err);
		return ACT_NONE;
	}
	tui_refresh_token(t);
	tui_note(t, RO_OK, "Token '%s' initialized. Log in (1) to use it.",
	    f[0].text);
	return ACT_POP;
}

static const struct binding init_keys[] = {
	{ KEY_F(4), 0, "F4", "Initialize (or Enter on the last field)",
	  init_go },
	{ 27, 0, "Esc", "Back", pf_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_inittok = {
	.name = "init-token",
	.title = "Initialize token",
	.state_size = sizeof(struct pinform),
	.keys = init_keys,
	.enter = init_enter,
	.draw = init_draw,
	.other = pf_other,
	.leave = pf_leave,
	.secret = 1,
};

/* ---- Change PIN -------------------------------------------------------- */

static void
change_enter(struct tui *t, struct view *v, const void *arg)
{
	struct pinform *p = v->st;

	(void)arg;
	tui_refresh_token(t);
	form_add(&p->fm, "Current PIN", F_PIN);
	form_add(&p->fm, "New PIN", F_PIN);
	form_add(&p->fm, "New PIN again", F_PIN);
}

static void
change_draw(struct tui *t, struct view *v)
{
	pf_draw_common(t, v, "Change the crypto user's PIN. This also ends "
	    "any login: log in again with the new PIN.");
}

static enum act
change_go(struct tui *t, struct view *v)
{
	struct pinform *p = v->st;
	struct field *f = p->fm.f;
	struct hd_err err;

	if (hd_pin_len(f[0].pin) == 0) {
		tui_note(t, RO_ERROR, "Current PIN: empty.");
		p->fm.cur = 0;
		return ACT_NONE;
	}
	if (pf_pair(t, &p->fm, 1) == -1)
		return ACT_NONE;
	if (hd_change_pin(t->s, f[0].pin, f[1].pin, &err) == -1) {
		form_clear_pins(&p->fm);
		p->fm.cur = 0;
		tui_refresh_token(t);
		tui_note_err(t, &err);
		return ACT_NONE;
	}
	tui_refresh_token(t);
	tui_note(t, RO_OK, "PIN of token '%s' changed. Log in with the new "
	    "PIN.", t->ti.label);
	return ACT_POP;
}

static const struct binding change_keys[] = {
	{ KEY_F(4), 0, "F4", "Change (or Enter on the last field)",
	  change_go },
	{ 27, 0, "Esc", "Back", pf_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_change_pin = {
	.name = "change-pin",
	.title = "Change PIN",
	.state_size = sizeof(struct pinform),
	.keys = change_keys,
	.enter = change_enter,
	.draw = change_draw,
	.other = pf_other,
	.leave = pf_leave,
	.secret = 1,
};

/* ---- Reset user PIN (security officer) --------------------------------- */

static void
reset_enter(struct tui *t, struct view *v, const void *arg)
{
	struct pinform *p = v->st;

	(void)arg;
	tui_refresh_token(t);
	form_add(&p->fm, "SO PIN", F_PIN);
	form_add(&p->fm, "New user PIN", F_PIN);
	form_add(&p->fm, "New user PIN again", F_PIN);
}

static void
reset_draw(struct tui *t, struct view *v)
{
	pf_draw_common(t, v, "The security officer sets a new user PIN: the "
	    "way out of a locked or forgotten PIN. Keys are kept.");
}

static enum act
reset_go(struct tui *t, struct view *v)
{
	struct pinform *p = v->st;
	struct field *f = p->fm.f;
	struct hd_err err;

	if (hd_pin_len(f[0].pin) == 0) {
		tui_note(t, RO_ERROR, "SO PIN: empty.");
		p->fm.cur = 0;
		return ACT_NONE;
	}
	if (pf_pair(t, &p->fm, 1) == -1)
		return ACT_NONE;
	if (hd_reset_pin(t->s, f[0].pin, f[1].pin, &err) == -1) {
		form_clear_pins(&p->fm);
		p->fm.cur = 0;
		tui_refresh_token(t);
		tui_note_err(t, &err);
		return ACT_NONE;
	}
	tui_refresh_token(t);
	tui_note(t, RO_OK, "User PIN of token '%s' reset.", t->ti.label);
	return ACT_POP;
}

static const struct binding reset_keys[] = {
	{ KEY_F(4), 0, "F4", "Reset (or Enter on the last field)",
	  reset_go },
	{ 27, 0, "Esc", "Back", pf_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_reset_pin = {
	.name = "reset-pin",
	.title = "Reset user PIN",
	.state_size = sizeof(struct pinform),
	.keys = reset_keys,
	.enter = reset_enter,
	.draw = reset_draw,
	.other = pf_other,
	.leave = pf_leave,
	.secret = 1,
};
