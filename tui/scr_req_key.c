/*
 * Export CSR, step 1: the key pair already on the token that the CSR is
 * for (a renewal, like certreq with an existing key).  Private keys are
 * listed only after login, so without one this screen sends the operator
 * to Log in first and lists the keys on the way back.
 */
#include <stdlib.h>

#include "req.h"

struct rkey {
	struct req *r;
	struct hd_key *keys;		/* the private ones */
	size_t n;
	struct list l;
	int loaded;			/* -1: not yet; else the login state */
};

static int
list_rows(const struct tui *t)
{
	return t->rows - 15;
}

static void
load(struct tui *t, struct rkey *k)
{
	struct hd_key *all = NULL;
	struct hd_err err;
	size_t i, n = 0;

	free(k->keys);
	k->keys = NULL;
	k->n = 0;
	k->loaded = hd_logged_in(t->s);
	if (!k->loaded)
		return;
	if (hd_keys(t->s, &all, &n, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	for (i = 0; i < n; i++)		/* in place: the private keys first */
		if (all[i].has_private)
			all[k->n++] = all[i];
	k->keys = all;
	k->l.n = (int)k->n;
	list_fix(&k->l, list_rows(t));
}

static void
key_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rkey *k = v->st;

	(void)arg;
	if ((k->r = req_new(REQ_RENEW)) == NULL)
		tui_note(t, RO_ERROR, "Out of memory.");
	load(t, k);
	if (!k->loaded && t->ti.present) {
		tui_push(t, &scr_login, NULL);
		tui_note(t, RO_WARNING, "Export CSR signs with a private key: "
		    "log in first.");
	}
}

static void
key_leave(struct tui *t, struct view *v)
{
	struct rkey *k = v->st;

	free(k->keys);
	req_free(t, k->r);
}

static void
draw_key(struct tui *t, const struct hd_key *k, int y, int sel)
{
	char size[64];
	int ok = k->extractable == HD_NO && k->sensitive == HD_YES;

	req_key_words(k, size, sizeof(size));
	draw_text(t, y, 3, t->cols - 6, sel ? RO_SELECTED : RO_NORMAL,
	    " %-28.28s %-16s %-10s %s", k->label[0] ? k->label : "(no label)",
	    size, ok ? "yes" : "NO", k->has_cert ? "yes" : "no");
}

static void
key_draw(struct tui *t, struct view *v)
{
	struct rkey *k = v->st;
	char id[129];
	int i, rows = list_rows(t);

	if (k->loaded != hd_logged_in(t->s))
		load(t, k);	/* back from Log in */
	if (!k->loaded) {
		draw_wrap(t, 4, 3, t->cols - 6, 3, RO_WARNING, "Not logged in: "
		    "private keys are listed after login. Enter logs in.");
		return;
	}
	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "The key pair the CSR is "
	    "for (the certificate is to be renewed):");
	draw_text(t, 6, 3, t->cols - 6, RO_DIM, " %-28s %-16s %-10s %s", "KEY",
	    "TYPE", "NO-EXPORT", "CERTIFICATE");
	if (k->n == 0)
		draw_text(t, 7, 3, t->cols - 6, RO_DIM, " No private keys on "
		    "this token: Generate key pair (2) makes one.");
	list_fix(&k->l, rows);
	for (i = 0; i < rows && k->l.top + i < (int)k->n; i++)
		draw_key(t, &k->keys[k->l.top + i], 7 + i, k->l.top + i ==
		    k->l.cur);
	if (k->n == 0)
		return;
	hd_hex(k->keys[k->l.cur].id, k->keys[k->l.cur].id_len, id,
	    sizeof(id));
	draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "Key ID  %s", id);
}

static enum act
key_choose(struct tui *t, struct view *v)
{
	struct rkey *k = v->st;

	if (!k->loaded) {
		tui_push(t, &scr_login, NULL);
		return ACT_NONE;
	}
	if (k->n == 0 || k->r == NULL)
		return ACT_NONE;
	t->note[0] = '\0';
	k->r->key = k->keys[k->l.cur];
	tui_push(t, &scr_req_profile, k->r);
	return ACT_NONE;
}

static enum act
key_other(struct tui *t, struct view *v, int ch)
{
	struct rkey *k = v->st;

	return list_key(&k->l, ch, list_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Use this key", key_choose },
	{ 27, 0, "Esc", "Back", req_back },
	{ KEY_UP, 'k', NULL, "Previous key (also PgUp, Home)", NULL },
	{ KEY_DOWN, 'j', NULL, "Next key (also PgDn, End)", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_key = {
	.name = "req-key",
	.title = "Export CSR: choose the key",
	.state_size = sizeof(struct rkey),
	.keys = keys,
	.enter = key_enter,
	.draw = key_draw,
	.other = key_other,
	.leave = key_leave,
};
