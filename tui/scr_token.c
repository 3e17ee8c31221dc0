/*
 * Token & keys: the token's state, and its keys with the attributes that
 * prove a private key cannot leave it, in a scrolling list with a details
 * pane.  PIN management starts here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct tokscr {
	struct hd_key *keys;
	size_t n;
	struct list l;
	int public_only;
	int gen;		/* t->keys_gen when the keys were read */
};

#define LIST_Y 11

static int
list_rows(const struct tui *t)
{
	return t->rows - 4 - LIST_Y;
}

static void
load_keys(struct tui *t, struct tokscr *ts)
{
	struct hd_err err;

	free(ts->keys);
	ts->keys = NULL;
	ts->n = 0;
	tui_refresh_token(t);
	if (!t->ti.present || !t->ti.initialized)
		return;
	if (hd_keys(t->s, &ts->keys, &ts->n, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	ts->public_only = !hd_logged_in(t->s);
	ts->gen = t->keys_gen;
	ts->l.n = (int)ts->n;
	list_fix(&ts->l, list_rows(t));
}

static void
tok_enter(struct tui *t, struct view *v, const void *arg)
{
	(void)arg;
	load_keys(t, v->st);
}

static void
tok_leave(struct tui *t, struct view *v)
{
	struct tokscr *ts = v->st;

	(void)t;
	free(ts->keys);
}

static const char *
tri(enum hd_tri x)
{
	return x == HD_UNKNOWN ? "?" : x == HD_YES ? "yes" : "no";
}

static void
draw_info(struct tui *t)
{
	const struct hd_token_info *ti = &t->ti;
	char words[80];

	if (!ti->present) {
		draw_text(t, 4, 2, t->cols - 4, RO_ERROR, "No token selected.");
		return;
	}
	hd_token_state_words(ti, words, sizeof(words));
	draw_text(t, 4, 2, 38, RO_NORMAL, "Label   %s", ti->initialized ?
	    ti->label : "(not initialized)");
	draw_text(t, 5, 2, 38, RO_NORMAL, "Serial  %s", ti->serial);
	draw_text(t, 6, 2, 38, RO_NORMAL, "Model   %s %s", ti->manufacturer,
	    ti->model);
	draw_text(t, 4, 41, t->cols - 43, RO_NORMAL, "PIN     %s", words);
	draw_text(t, 5, 41, t->cols - 43, RO_NORMAL, "Login   %s",
	    hd_logged_in(t->s) ? "logged in" : "not logged in");
	draw_text(t, 6, 41, t->cols - 43, RO_NORMAL, "PINs    %lu to %lu "
	    "characters", ti->min_pin, ti->max_pin);
	draw_text(t, 7, 2, t->cols - 4, RO_DIM, "Module  %s",
	    t->cli->module);
}

static void
draw_details(struct tui *t, const struct hd_key *k, int y, int x)
{
	char id[129];
	int w = t->cols - x - 2;

	hd_hex(k->id, k->id_len, id, sizeof(id));
	draw_text(t, y, x, w, RO_TITLE, "%s", k->label[0] ? k->label :
	    "(no label)");
	if ((int)strlen(id) > w - 12)	/* a SHA-1 CKA_ID is 40 digits */
		snprintf(id + (w > 15 ? w - 15 : 0), 4, "...");
	draw_text(t, y + 1, x, w, RO_NORMAL, "ID          %s", id);
	if (!k->has_private) {
		draw_text(t, y + 2, x, w, RO_DIM, "public key only");
		return;
	}
	draw_text(t, y + 2, x, w, RO_NORMAL, "sensitive   %s",
	    tri(k->sensitive));
	draw_text(t, y + 3, x, w, k->extractable == HD_NO ? RO_OK : RO_ERROR,
	    "extractable %s", tri(k->extractable));
	draw_text(t, y + 4, x, w, RO_NORMAL, "never extr. %s",
	    tri(k->never_extractable));
	draw_text(t, y + 5, x, w, RO_NORMAL, "always sens.%s",
	    k->always_sensitive == HD_YES ? " yes" : k->always_sensitive ==
	    HD_NO ? " no" : " ?");
	draw_text(t, y + 6, x, w, RO_NORMAL, "made on HSM %s", tri(k->local));
	draw_text(t, y + 7, x, w, RO_NORMAL, "certificate %s",
	    k->has_cert ? "yes" : "no");
}

static void
tok_draw(struct tui *t, struct view *v)
{
	struct tokscr *ts = v->st;
	int i, rows = list_rows(t);
	char size[40];

	if (ts->gen != t->keys_gen)	/* back from Delete key pair */
		load_keys(t, ts);
	draw_info(t);
	draw_hline(t, 9, 1, t->cols - 2);
	if (t->ti.present && !t->ti.initialized) {
		draw_text(t, LIST_Y, 2, t->cols - 4, RO_WARNING, "Not "
		    "initialized: i initializes it.");
		return;
	}
	draw_text(t, 10, 2, 45, RO_DIM, "%-22s %-12s %s", "KEY", "TYPE",
	    "NO-EXPORT");
	if (ts->n == 0)
		draw_text(t, LIST_Y, 2, 44, RO_DIM, "%s", ts->public_only ?
		    "No public keys. Log in to see private keys." : "No keys.");
	for (i = 0; i < rows && ts->l.top + i < (int)ts->n; i++) {
		const struct hd_key *k = &ts->keys[ts->l.top + i];

		if (k->curve[0] != '\0')
			snprintf(size, sizeof(size), "%s %s", k->type, k->curve);
		else if (k->bits != 0)
			snprintf(size, sizeof(size), "%s-%u", k->type, k->bits);
		else
			snprintf(size, sizeof(size), "%s", k->type);
		draw_text(t, LIST_Y + i, 2, 45, ts->l.top + i == ts->l.cur ?
		    RO_SELECTED : RO_NORMAL, "%-22.22s %-12s %s", k->label,
		    size, !k->has_private ? "(public)" : k->extractable ==
		    HD_NO && k->sensitive == HD_YES ? "yes" : "NO");
	}
	if (ts->n > 0)
		draw_details(t, &ts->keys[ts->l.cur], 10, 49);
	if (ts->public_only && ts->n > 0)
		draw_text(t, t->rows - 4, 2, 44, RO_DIM, "Log in to see "
		    "private keys.");
}

static enum act
tok_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
tok_reload(struct tui *t, struct view *v)
{
	load_keys(t, v->st);
	return ACT_NONE;
}

static enum act
tok_init(struct tui *t, struct view *v)
{
	(void)v;
	if (t->ti.present && !t->ti.initialized)
		tui_push(t, &scr_inittok, NULL);
	else
		tui_note(t, RO_WARNING, "This token is initialized already; "
		    "hsmdesk never re-initializes a token.");
	return ACT_NONE;
}

static enum act
tok_change(struct tui *t, struct view *v)
{
	(void)v;
	if (t->ti.present && t->ti.initialized)
		tui_push(t, &scr_change_pin, NULL);
	return ACT_NONE;
}

static enum act
tok_reset(struct tui *t, struct view *v)
{
	(void)v;
	if (t->ti.present && t->ti.initialized)
		tui_push(t, &scr_reset_pin, NULL);
	return ACT_NONE;
}

static enum act
tok_delete(struct tui *t, struct view *v)
{
	struct tokscr *ts = v->st;

	if (ts->n == 0 || ts->l.cur >= (int)ts->n)
		return ACT_NONE;
	if (!hd_logged_in(t->s) || !ts->keys[ts->l.cur].has_private) {
		tui_note(t, RO_WARNING, "Log in first: only a logged-in user "
		    "sees and deletes private keys.");
		return ACT_NONE;
	}
	tui_push(t, &scr_delkey, &ts->keys[ts->l.cur]);
	return ACT_NONE;
}

static enum act
tok_caps(struct tui *t, struct view *v)
{
	(void)v;
	tui_push(t, &scr_caps, NULL);
	return ACT_NONE;
}

static enum act
tok_other(struct tui *t, struct view *v, int ch)
{
	struct tokscr *ts = v->st;

	return list_key(&ts->l, ch, list_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ 27, 0, "Esc", "Back", tok_back },
	{ 'r', KEY_F(5), "r", "Reload", tok_reload },
	{ 'c', 0, "c", "Change PIN", tok_change },
	{ 'R', 0, "R", "Reset PIN (SO)", tok_reset },
	{ 'i', 0, "i", "Initialize", tok_init },
	{ 'd', 0, "d", "Delete key", tok_delete },
	{ 'p', 0, "p", "Capabilities", tok_caps },
	{ KEY_UP, 'k', NULL, "Previous key (also PgUp, Home)", NULL },
	{ KEY_DOWN, 'j', NULL, "Next key (also PgDn, End)", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_token = {
	.name = "token",
	.title = "Token & keys",
	.state_size = sizeof(struct tokscr),
	.keys = keys,
	.enter = tok_enter,
	.draw = tok_draw,
	.other = tok_other,
	.leave = tok_leave,
};
