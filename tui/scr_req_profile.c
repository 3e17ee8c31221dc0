/*
 * Request wizard, step 1: choose a request profile, what certreq's
 * request.inf is on Windows.  The shipped profiles and the user's are
 * listed with their descriptions; a profile that does not load is shown
 * with the reason and cannot be chosen.  The last entry (or i) loads a
 * certreq INF file instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

struct rprof {
	struct req *r;
	int owner;			/* the wizard starts here: r is ours */
	struct hd_profile *list;
	size_t n;
	struct list l;			/* n profiles, then "Load an INF" */
};

static int
list_rows(const struct tui *t)
{
	return t->rows - 16;
}

static void
load(struct tui *t, struct rprof *rp)
{
	struct hd_err err;

	free(rp->list);
	rp->list = NULL;
	rp->n = 0;
	if (hd_profile_list(&rp->list, &rp->n, &err) == -1)
		tui_note_err(t, &err);
	rp->l.n = (int)rp->n + 1;
	list_fix(&rp->l, list_rows(t));
}

static void
prof_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rprof *rp = v->st;

	rp->r = (struct req *)arg;
	if (rp->r == NULL) {
		rp->owner = 1;
		if ((rp->r = req_new(REQ_NEW)) == NULL)
			tui_note(t, RO_ERROR, "Out of memory.");
	}
	load(t, rp);
}

static void
prof_leave(struct tui *t, struct view *v)
{
	struct rprof *rp = v->st;

	free(rp->list);
	if (rp->owner)
		req_free(t, rp->r);
}

static void
draw_entry(struct tui *t, struct rprof *rp, int i, int y)
{
	int sel = i == rp->l.cur, w = t->cols - 6;
	const struct hd_profile *p;

	if (i == (int)rp->n) {
		draw_text(t, y, 3, w, sel ? RO_SELECTED : RO_TITLE, " %-24s %-*s",
		    "Load a certreq INF...", w - 27, "a request.inf from "
		    "Windows (i)");
		return;
	}
	p = &rp->list[i];
	draw_text(t, y, 3, w, sel ? RO_SELECTED : p->broken ? RO_ERROR :
	    RO_NORMAL, " %-24.24s %-*s", p->name, w - 27, p->description);
}

static void
details_profile(struct tui *t, const struct hd_profile *p, int y)
{
	char key[40], ku[200], eku[300], dn[400], path[4200];
	int w = t->cols - 16;

	tui_tilde(p->path, path, sizeof(path));
	if (p->broken) {
		draw_wrap(t, y, 3, t->cols - 6, 3, RO_ERROR, p->description);
		draw_text(t, y + 3, 3, t->cols - 6, RO_DIM, "Not usable: fix %s, "
		    "then r reloads.", path);
		return;
	}
	req_profile_key(p, key, sizeof(key));
	hd_ku_words(p->key_usage, ku, sizeof(ku));
	req_eku(p, eku, sizeof(eku));
	req_dn(p, dn, sizeof(dn));
	draw_text(t, y, 3, 11, RO_DIM, "Key");
	draw_text(t, y, 14, w, p->exportable ? RO_ERROR : RO_NORMAL, "%s, %s, "
	    "%s signature", key, p->exportable ? "EXPORTABLE" :
	    "not exportable", p->hash);
	draw_text(t, y + 1, 3, 11, RO_DIM, "Usage");
	draw_text(t, y + 1, 14, w, RO_NORMAL, "%s; %s", ku, eku);
	draw_text(t, y + 2, 3, 11, RO_DIM, "Subject");
	draw_text(t, y + 2, 14, w, RO_NORMAL, "%s", dn[0] ? dn :
	    "(all asked for on the next screen)");
	draw_text(t, y + 3, 3, 11, RO_DIM, "File");
	draw_text(t, y + 3, 14, w, RO_DIM, "%s", path);
}

static void
prof_draw(struct tui *t, struct view *v)
{
	struct rprof *rp = v->st;
	int i, rows = list_rows(t), y = t->rows - 8;

	list_fix(&rp->l, rows);
	if (rp->r != NULL && rp->r->mode == REQ_RENEW)
		draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "The CSR for key '%s' "
		    "takes its subject and extensions from a profile:",
		    rp->r->key.label);
	else
		draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Choose a request "
		    "profile (what certreq's request.inf says):");
	for (i = 0; i < rows && rp->l.top + i < rp->l.n; i++)
		draw_entry(t, rp, rp->l.top + i, 6 + i);
	draw_hline(t, y - 1, 1, t->cols - 2);
	if (rp->l.cur < (int)rp->n)
		details_profile(t, &rp->list[rp->l.cur], y);
	else
		draw_wrap(t, y, 3, t->cols - 6, 4, RO_DIM, "Reads the "
		    "[NewRequest] of a certreq INF file: Subject, KeyAlgorithm, "
		    "KeyLength, HashAlgorithm, KeyUsage, FriendlyName and the "
		    "extended key usages. Keys without meaning on PKCS#11 are "
		    "listed as ignored. Exportable=True is refused here; the "
		    "CLI takes --allow-exportable.");
}

static enum act
prof_inf(struct tui *t, struct view *v)
{
	struct rprof *rp = v->st;

	if (rp->r != NULL)
		tui_push(t, &scr_req_inf, rp->r);
	return ACT_NONE;
}

static enum act
prof_choose(struct tui *t, struct view *v)
{
	struct rprof *rp = v->st;
	const struct hd_profile *p;

	if (rp->r == NULL)
		return ACT_NONE;
	if (rp->l.cur == (int)rp->n)
		return prof_inf(t, v);
	p = &rp->list[rp->l.cur];
	if (p->broken) {
		tui_note(t, RO_ERROR, "Profile '%s' cannot be used: %s.",
		    p->name, p->description + (strncmp(p->description,
		    "broken: ", 8) == 0 ? 8 : 0));
		return ACT_NONE;
	}
	t->note[0] = '\0';
	rp->r->base = *p;
	tui_push(t, &scr_req_subject, rp->r);
	return ACT_NONE;
}

static enum act
prof_reload(struct tui *t, struct view *v)
{
	load(t, v->st);
	tui_note(t, RO_DIM, "Profiles read again.");
	return ACT_NONE;
}

static enum act
prof_other(struct tui *t, struct view *v, int ch)
{
	struct rprof *rp = v->st;

	return list_key(&rp->l, ch, list_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Use this profile", prof_choose },
	{ 'i', 0, "i", "Load a certreq INF file", prof_inf },
	{ 'r', 0, "r", "Read the profiles again", prof_reload },
	{ 27, 0, "Esc", "Back", req_back },
	{ KEY_UP, 'k', NULL, "Previous profile (also PgUp, Home)", NULL },
	{ KEY_DOWN, 'j', NULL, "Next profile (also PgDn, End)", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_profile = {
	.name = "req-profile",
	.title = "Request profile",
	.state_size = sizeof(struct rprof),
	.keys = keys,
	.enter = prof_enter,
	.draw = prof_draw,
	.other = prof_other,
	.leave = prof_leave,
};
