/*
 * Migrate to a new HSM, step 2: the plan's two tokens side by side (is
 * each connected now?), its identities with their state, and the next
 * action for the one selected, highlighted.  The first identity with work
 * left is selected on entry.  Read-only: the steps themselves run with
 * `hsmdesk migrate run` and `migrate accept`, which keep the plan's record
 * (F5 reads it again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct migview {
	char path[4096];
	struct hd_mig_plan p;
	int have;
	char side[2][160];		/* each token's presence, in words */
	enum role side_role[2];
	struct list l;
};

#define LIST_Y 11

/* The plan's token on the session's module (no second load of it: its
 * C_Finalize would end the TUI's session too), else through its own. */
static void
probe(struct tui *t, const struct hd_mig_side *sd, char *buf, size_t len,
    enum role *r)
{
	struct hd_token_info *list = NULL;
	struct hd_session *s = NULL;
	struct hd_err err;
	size_t n = 0, i;
	char spec[64];

	*r = RO_WARNING;
	if (strcmp(sd->module, hd_module_path(t->s)) != 0) {
		snprintf(spec, sizeof(spec), "pkcs11:serial=%s", sd->serial);
		if ((s = hd_open(sd->module, &err)) == NULL ||
		    hd_token_select(s, spec, &err) == -1) {
			snprintf(buf, len, "not connected");
			hd_close(s);
			return;
		}
		hd_close(s);
		*r = RO_OK;
		snprintf(buf, len, "connected");
		return;
	}
	snprintf(buf, len, "not connected");
	if (hd_tokens(t->s, &list, &n, &err) == -1)
		return;
	for (i = 0; i < n; i++)
		if (list[i].present && strcmp(list[i].serial, sd->serial) == 0) {
			*r = RO_OK;
			snprintf(buf, len, "connected%s", strcmp(list[i].label,
			    t->ti.label) == 0 ? " (the TUI's token)" : "");
		}
	free(list);
}

/* The first identity with something left to do. */
static int
first_pending(const struct hd_mig_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->ids[i].skip && p->ids[i].state != HD_MIG_DONE)
			return (int)i;
	return 0;
}

static void
load(struct tui *t, struct migview *m)
{
	struct hd_err err;

	if (m->have)
		hd_mig_free(&m->p);
	m->have = 0;
	if (hd_mig_load(m->path, &m->p, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	m->have = 1;
	probe(t, &m->p.from, m->side[0], sizeof(m->side[0]),
	    &m->side_role[0]);
	probe(t, &m->p.to, m->side[1], sizeof(m->side[1]), &m->side_role[1]);
	m->l.n = (int)m->p.n;
	m->l.cur = first_pending(&m->p);
}

static void
mv_enter(struct tui *t, struct view *v, const void *arg)
{
	struct migview *m = v->st;

	snprintf(m->path, sizeof(m->path), "%s", (const char *)arg);
	load(t, m);
}

static void
mv_leave(struct tui *t, struct view *v)
{
	struct migview *m = v->st;

	(void)t;
	if (m->have)
		hd_mig_free(&m->p);
	m->have = 0;
}

static void
draw_side(struct tui *t, int x, int w, const char *title,
    const struct hd_mig_side *sd, const char *state, enum role r)
{
	const char *base = strrchr(sd->module, '/');

	draw_box(t, 5, x, 5, w, title);
	draw_text(t, 6, x + 2, w - 4, RO_TITLE, "'%s'", sd->token);
	draw_text(t, 7, x + 2, w - 4, RO_DIM, "serial %s", sd->serial);
	draw_text(t, 8, x + 2, w - 4, r, "%s, %s", state,
	    base ? base + 1 : sd->module);
}

static enum role
state_role(const struct hd_mig_ident *d)
{
	if (d->skip)
		return RO_DIM;
	if (d->note[0] != '\0' && d->state < HD_MIG_CSR)
		return RO_ERROR;
	return d->state == HD_MIG_DONE ? RO_OK : RO_WARNING;
}

static int
list_rows(const struct tui *t)
{
	return t->rows - LIST_Y - 9;
}

static void
draw_list(struct tui *t, struct migview *m)
{
	int i, y;

	draw_text(t, LIST_Y - 1, 3, t->cols - 6, RO_TITLE, "%-22s %-9s %-9s "
	    "%-12s", "IDENTITY", "OLD KEY", "NEW KEY", "STATE");
	list_fix(&m->l, list_rows(t));
	for (i = 0; i < list_rows(t) && m->l.top + i < m->l.n; i++) {
		const struct hd_mig_ident *d = &m->p.ids[m->l.top + i];

		y = LIST_Y + i;
		draw_text(t, y, 3, 43, m->l.top + i == m->l.cur ? RO_SELECTED :
		    RO_NORMAL, "%-22.22s %-9s %-9s", d->name, d->old_key,
		    d->new_key);
		draw_text(t, y, 46, t->cols - 49, state_role(d), "%s%s",
		    d->skip ? "skip" : hd_mig_state_name(d->state),
		    d->upgrade[0] == '\0' || d->skip ? "" :
		    strncmp(d->upgrade, "weaker", 6) ? " (stronger key)" :
		    " (weaker key)");
	}
}

static void
mv_draw(struct tui *t, struct view *v)
{
	struct migview *m = v->st;
	const struct hd_mig_ident *d;
	char next[2048];
	int half = (t->cols - 6) / 2, y;

	if (!m->have) {
		draw_wrap(t, 5, 3, t->cols - 6, 4, RO_ERROR, "The plan could "
		    "not be read; F5 tries again.");
		return;
	}
	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Plan %s: %zu identit%s",
	    m->path, m->p.n, m->p.n == 1 ? "y" : "ies");
	draw_side(t, 3, half, "Old token", &m->p.from, m->side[0],
	    m->side_role[0]);
	draw_side(t, 3 + half, half, "New token", &m->p.to, m->side[1],
	    m->side_role[1]);
	draw_list(t, m);
	if (m->p.n == 0)
		return;
	d = &m->p.ids[m->l.cur];
	y = t->rows - 8;
	draw_text(t, y, 3, t->cols - 6, RO_DIM, "%s, expires %s", d->subject,
	    d->not_after);
	if (d->note[0] != '\0' || (d->upgrade[0] != '\0' && !d->skip))
		draw_text(t, y + 1, 3, t->cols - 6, d->note[0] ? RO_WARNING :
		    RO_NORMAL, "%s", d->note[0] ? d->note : d->upgrade);
	hd_mig_next(&m->p, d, next, sizeof(next));
	draw_text(t, y + 2, 3, 6, RO_TITLE, "Next");
	draw_wrap(t, y + 2, 9, t->cols - 12, 2, RO_SELECTED, next);
}

static enum act
mv_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
mv_reload(struct tui *t, struct view *v)
{
	load(t, v->st);
	return ACT_NONE;
}

static enum act
mv_other(struct tui *t, struct view *v, int ch)
{
	struct migview *m = v->st;

	return list_key(&m->l, ch, list_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding mv_keys[] = {
	{ 27, 'q', "Esc", "Back", mv_back },
	{ KEY_F(5), 0, "F5", "Read the plan again", mv_reload },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_migrate_view = {
	.name = "migrate-view",
	.title = "Migration: old and new token",
	.state_size = sizeof(struct migview),
	.keys = mv_keys,
	.enter = mv_enter,
	.draw = mv_draw,
	.other = mv_other,
	.leave = mv_leave,
};
