/*
 * Sign files, step 4: what will happen, before it does: the signer, the
 * digest, and each file with the type it gets and where the signature
 * goes.  An existing .p7s is never replaced (that file fails, the others
 * go on).  Enter signs; without a login it goes to Log in first.
 */
#include <stdio.h>
#include <unistd.h>

#include "sign.h"

struct sconf {
	struct sgn *g;
	int top;
};

static void
conf_enter(struct tui *t, struct view *v, const void *arg)
{
	struct sconf *c = v->st;

	(void)t;
	c->g = (struct sgn *)arg;
}

/* File k: its type and where its signature goes. */
static void
file_row(struct tui *t, const struct sgn *g, int k, int y)
{
	char out[1100];
	const char *where = out;
	enum sign_type ty = sign_type_of(g, k);
	int exists = 0;

	if (ty == SIGN_PE)
		where = g->append ? "in the file (appended)" : "in the file";
	else if (hd_sign_out_path(g->f[k].path, out, sizeof(out)) == -1)
		where = "(name too long)";
	else if ((exists = access(out, F_OK) == 0))
		where = "exists: not replaced";
	draw_text(t, y, 3, t->cols - 6, exists ? RO_WARNING : RO_NORMAL,
	    " %-13s %-30.30s %s", sign_type_words(ty), g->f[k].path, where);
}

static void
conf_draw(struct tui *t, struct view *v)
{
	struct sconf *c = v->st;
	const struct sgn *g = c->g;
	int rows = t->rows - 17, i;

	draw_text(t, 4, 3, 12, RO_DIM, "Signer");
	draw_text(t, 4, 15, t->cols - 18, RO_TITLE, "%s", g->cert.subject);
	draw_text(t, 5, 3, 12, RO_DIM, "SHA-1");
	draw_text(t, 5, 15, t->cols - 18, RO_NORMAL, "%s  key '%s'",
	    g->cert.sha1, g->key.label);
	draw_text(t, 6, 3, 12, RO_DIM, "Digest");
	draw_text(t, 6, 15, t->cols - 18, RO_NORMAL, "%s", sign_md(g));
	draw_text(t, 7, 3, 12, RO_DIM, "Timestamp");
	draw_text(t, 7, 15, t->cols - 18, RO_NORMAL, "%s", g->tsa[0] ?
	    g->tsa : "none");
	if (g->tsa[0]) {
		draw_text(t, 8, 3, 12, RO_DIM, "No answer");
		draw_text(t, 8, 15, t->cols - 18, g->tsa_optional ?
		    RO_WARNING : RO_NORMAL, "%s", g->tsa_optional ? "sign "
		    "without a timestamp (--tr-optional)" : "the file fails; "
		    "nothing is written");
	}
	draw_text(t, 9, 3, t->cols - 6, RO_DIM, " %-13s %-30s %s", "TYPE",
	    "FILE", "SIGNATURE");
	if (c->top > g->n - rows)
		c->top = g->n - rows;
	if (c->top < 0)
		c->top = 0;
	for (i = 0; i < rows && c->top + i < g->n; i++)
		file_row(t, g, c->top + i, 10 + i);
	draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "%d file%s. Enter "
	    "signs with the token; Esc cancels at any point.", g->n,
	    g->n == 1 ? "" : "s");
}

static enum act
conf_go(struct tui *t, struct view *v)
{
	struct sconf *c = v->st;

	if (!hd_logged_in(t->s)) {
		tui_push(t, &scr_login, NULL);
		tui_note(t, RO_WARNING, "Signing needs the token's login: log "
		    "in, then Enter signs.");
		return ACT_NONE;
	}
	t->note[0] = '\0';
	tui_push(t, &scr_sign_run, c->g);
	return ACT_NONE;
}

static enum act
conf_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
conf_other(struct tui *t, struct view *v, int ch)
{
	struct sconf *c = v->st;

	(void)t;
	if (ch != KEY_PPAGE && ch != KEY_NPAGE)
		return ACT_UNHANDLED;
	c->top += ch == KEY_PPAGE ? -5 : 5;
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Sign", conf_go },
	{ 27, 0, "Esc", "Back", conf_back },
	{ KEY_PPAGE, KEY_NPAGE, NULL, "Scroll the files", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_confirm = {
	.name = "sign-confirm",
	.title = "Sign files: confirm",
	.state_size = sizeof(struct sconf),
	.keys = keys,
	.enter = conf_enter,
	.draw = conf_draw,
	.other = conf_other,
};
