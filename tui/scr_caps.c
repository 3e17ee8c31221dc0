/*
 * Token capabilities: hd_probe's findings in plain words (what hsmdesk can
 * do on this token), then the mechanisms with their key sizes and flags.
 * Reached from Token & keys with p; the probe runs when the screen opens
 * (with no PIN: the login-state check after login is left out).
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

struct caps {
	struct hd_probe p;
	int ok;
	struct list l;
};

#define CAPS_Y 4

static int
mech_rows(const struct tui *t, const struct caps *c)
{
	int r = t->rows - 4 - (CAPS_Y + (int)c->p.nlines + 2);

	return r < 1 ? 1 : r;
}

static void
caps_enter(struct tui *t, struct view *v, const void *arg)
{
	struct caps *c = v->st;
	struct hd_err err;

	(void)arg;
	if (!hd_token_selected(t->s)) {
		tui_note(t, RO_ERROR, "No token selected: Token & keys shows "
		    "what is there.");
		return;
	}
	tui_note(t, RO_DIM, "Probing the token...");
	if (hd_probe(t->s, NULL, &c->p, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	t->note[0] = '\0';
	c->ok = 1;
	c->l.n = (int)c->p.nmechs;
}

static void
caps_leave(struct tui *t, struct view *v)
{
	struct caps *c = v->st;

	(void)t;
	hd_probe_free(&c->p);
}

static void
mech_line(struct tui *t, int y, const struct hd_mech *m, int sel)
{
	draw_text(t, y, 2, t->cols - 4, sel ? RO_SELECTED : RO_NORMAL,
	    "%-30s %6lu %6lu  %s", m->name, m->min_size, m->max_size,
	    m->flag_words);
}

static void
caps_draw(struct tui *t, struct view *v)
{
	struct caps *c = v->st;
	int i, y, rows;

	if (!c->ok)
		return;
	for (i = 0; i < (int)c->p.nlines; i++) {
		const struct hd_probe_line *l = &c->p.lines[i];

		draw_text(t, CAPS_Y + i, 2, 15, RO_DIM, "%s", l->topic);
		draw_text(t, CAPS_Y + i, 17, t->cols - 19, l->warn ?
		    RO_WARNING : RO_NORMAL, "%s", l->text);
	}
	y = CAPS_Y + (int)c->p.nlines + 1;
	draw_text(t, y, 2, t->cols - 4, RO_TITLE, "%-30s %6s %6s  %s",
	    "Mechanism", "min", "max", "flags");
	rows = mech_rows(t, c);
	list_fix(&c->l, rows);
	for (i = 0; i < rows && c->l.top + i < c->l.n; i++)
		mech_line(t, y + 1 + i, &c->p.mechs[c->l.top + i],
		    c->l.top + i == c->l.cur);
}

static enum act
caps_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
caps_other(struct tui *t, struct view *v, int ch)
{
	struct caps *c = v->st;

	if (!c->ok)
		return ACT_UNHANDLED;
	return list_key(&c->l, ch, mech_rows(t, c)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ 27, 'q', "Esc", "Back", caps_back },
	{ KEY_UP, 'k', NULL, "Previous mechanism (also PgUp, Home)", NULL },
	{ KEY_DOWN, 'j', NULL, "Next mechanism (also PgDn, End)", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_caps = {
	.name = "capabilities",
	.title = "Token capabilities",
	.state_size = sizeof(struct caps),
	.keys = keys,
	.enter = caps_enter,
	.draw = caps_draw,
	.other = caps_other,
	.leave = caps_leave,
};
