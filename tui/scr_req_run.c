/*
 * Request wizard, steps 4 and 5: the token at work (a spinner and the
 * time; Esc or Ctrl-C asks whether to cancel), then what it made: the
 * attributes the token reports for the private key, and the key ceremony
 * record, scrollable.  Anything that fails after the key pair exists
 * deletes it again, and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

enum run_state { RUN_WORKING, RUN_FAILED, RUN_DONE };

struct rrun {
	struct req *r;
	enum run_state state;
	struct job_view jv;
	struct hd_err err;
	int nlines;			/* of the record */
	int top;			/* its first line shown */
};

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Line i of text and its length, or NULL past the end. */
static const char *
line_of(const char *text, int i, int *len)
{
	const char *p = text, *nl;

	for (; p != NULL && *p != '\0' && i > 0; i--)
		p = (nl = strchr(p, '\n')) ? nl + 1 : p + strlen(p);
	if (p == NULL || *p == '\0')
		return NULL;
	*len = (int)((nl = strchr(p, '\n')) ? nl - p : (long)strlen(p));
	return p;
}

static void
finished(struct tui *t, struct rrun *u, int rc)
{
	struct req *r = u->r;
	struct hd_err err;

	if (rc == 0) {
		r->took = u->jv.elapsed;
		if (r->mode == REQ_NEW && hd_ceremony_text(t->s, &r->p,
		    &r->key, &r->csr, NULL, &r->record, &err) == -1)
			tui_note_err(t, &err);
		u->nlines = count_lines(r->record);
		u->state = RUN_DONE;
		return;
	}
	u->state = RUN_FAILED;
	tui_note_err(t, &u->err);
	if (r->key_made)	/* made, then the CSR failed or was cancelled */
		req_discard(t, r, u->err.code == HD_E_CANCELLED ? "Cancelled" :
		    "The CSR could not be made");
}

static void
run_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rrun *u = v->st;

	u->r = (struct req *)arg;
	req_reset_run(u->r);
	u->state = RUN_WORKING;
	finished(t, u, req_job(t, u->r, &u->jv, &u->err));
}

static int
rec_rows(const struct tui *t)
{
	return t->rows - 15;
}

static void
draw_working(struct tui *t, struct rrun *u)
{
	static const char spin[] = "|/-\\";
	const struct req *r = u->r;
	char key[40];

	req_profile_key(&r->p, key, sizeof(key));
	if (u->jv.phase == 0 && r->mode == REQ_NEW)
		draw_text(t, 5, 3, t->cols - 6, RO_TITLE, "%c  Generating the "
		    "key pair (%s) inside token '%s' ... %.1f s",
		    spin[u->jv.frame % 4], key, t->ti.label, u->jv.elapsed);
	else
		draw_text(t, 5, 3, t->cols - 6, RO_TITLE, "%c  Signing the CSR "
		    "inside token '%s' ... %.1f s", spin[u->jv.frame % 4],
		    t->ti.label, u->jv.elapsed);
	draw_wrap(t, 7, 3, t->cols - 6, 3, RO_DIM, "The token cannot be "
	    "interrupted while it works. Esc or Ctrl-C asks whether to "
	    "cancel; a key pair made in the meantime is then deleted.");
	if (u->jv.asking)
		ask_box(t, "Cancel? When the token has finished, the new key "
		    "pair is deleted and no CSR is made.", "Cancel",
		    RO_WARNING);
}

static void
draw_failed(struct tui *t, struct rrun *u)
{
	const struct req *r = u->r;
	int y;

	draw_text(t, 4, 3, t->cols - 6, RO_ERROR, "%s",
	    u->err.code == HD_E_CANCELLED ? "Cancelled." : r->mode ==
	    REQ_NEW && u->jv.phase == 0 ? "The key pair was not made." :
	    "The CSR could not be made.");
	y = 6 + draw_wrap(t, 6, 3, t->cols - 6, 4, RO_NORMAL, u->err.msg);
	if (u->err.hint[0] != '\0')
		y += draw_wrap(t, y, 3, t->cols - 6, 3, RO_DIM, u->err.hint);
	if (u->err.ossl[0] != '\0')
		draw_wrap(t, y, 3, t->cols - 6, 2, RO_DIM, u->err.ossl);
	draw_text(t, t->rows - 6, 3, t->cols - 6, r->key_made ? RO_ERROR :
	    RO_DIM, "%s", r->key_made ? "The new key pair is still on the "
	    "token; Esc tries to delete it again." : "Nothing made here is "
	    "left on the token. Esc goes back to the request.");
}

static void
attr(struct tui *t, int y, int x, const char *name, enum hd_tri v, int good)
{
	draw_text(t, y, x, 19, RO_NORMAL, "%s", name);
	draw_text(t, y, x + 19, 14, v == HD_UNKNOWN ? RO_WARNING :
	    (v == HD_YES) == good ? RO_OK : RO_ERROR, "%s", req_tri(v));
}

static void
draw_attrs(struct tui *t, const struct hd_key *k, int y)
{
	attr(t, y, 5, "sensitive", k->sensitive, 1);
	attr(t, y, 40, "extractable", k->extractable, 0);
	attr(t, y + 1, 5, "always sensitive", k->always_sensitive, 1);
	attr(t, y + 1, 40, "never extractable", k->never_extractable, 1);
	attr(t, y + 2, 5, "generated on token", k->local, 1);
	draw_text(t, y + 2, 40, t->cols - 42, RO_DIM, "(CKA_LOCAL)");
}

/* Move the record's view; 1 if ch is a scrolling key. */
static int
rec_scroll(struct rrun *u, int ch, int rows)
{
	int max = u->nlines > rows ? u->nlines - rows : 0;

	switch (ch) {
	case KEY_UP: case 'k': u->top--; break;
	case KEY_DOWN: case 'j': u->top++; break;
	case KEY_PPAGE: u->top -= rows; break;
	case KEY_NPAGE: u->top += rows; break;
	case KEY_HOME: u->top = 0; break;
	case KEY_END: u->top = max; break;
	case 0: break;		/* only keep it in bounds */
	default: return 0;
	}
	u->top = u->top > max ? max : u->top < 0 ? 0 : u->top;
	return 1;
}

static void
draw_record(struct tui *t, struct rrun *u, int y)
{
	const char *line;
	int i, len, rows = rec_rows(t);

	draw_hline(t, y, 1, t->cols - 2);
	draw_text(t, y, 3, t->cols - 6, RO_TITLE, " %s ", "Key ceremony "
	    "record (saved beside the CSR in the next step)");
	rec_scroll(u, 0, rows);
	for (i = 0; i < rows; i++) {
		if ((line = line_of(u->r->record, u->top + i, &len)) == NULL)
			break;
		draw_text(t, y + 1 + i, 3, t->cols - 6, RO_NORMAL, "%.*s", len,
		    line);
	}
	if (u->nlines > rows)
		draw_text(t, t->rows - 4, 3, t->cols - 6, RO_DIM, "Lines %d-%d "
		    "of %d; Up, Down, PgUp, PgDn scroll.", u->top + 1,
		    u->top + i, u->nlines);
}

static void
draw_done(struct tui *t, struct rrun *u)
{
	const struct req *r = u->r;
	char buf[300];

	if (r->mode == REQ_NEW)
		draw_text(t, 4, 3, t->cols - 6, RO_OK, "Made in the token in "
		    "%.1f s: the key pair and its signed CSR.", r->took);
	else
		draw_text(t, 4, 3, t->cols - 6, RO_OK, "The CSR is signed "
		    "inside the token with the key below.");
	draw_text(t, 5, 3, 14, RO_DIM, "Key label");
	draw_text(t, 5, 17, t->cols - 20, RO_TITLE, "%s", r->key.label);
	draw_text(t, 6, 3, t->cols - 6, RO_DIM, "The token's own claims about "
	    "the private key (not an attestation):");
	draw_attrs(t, &r->key, 7);
	if (r->record != NULL) {
		draw_record(t, u, 10);
		return;
	}
	draw_hline(t, 10, 1, t->cols - 2);
	draw_text(t, 11, 3, 14, RO_DIM, "Subject");
	draw_wrap(t, 11, 17, t->cols - 20, 2, RO_TITLE, r->csr.subject);
	hd_ku_words(r->p.key_usage, buf, sizeof(buf));
	draw_text(t, 13, 3, 14, RO_DIM, "Key usage");
	draw_text(t, 13, 17, t->cols - 20, RO_NORMAL, "%s", buf);
	req_eku(&r->p, buf, sizeof(buf));
	draw_text(t, 14, 3, 14, RO_DIM, "Extended use");
	draw_text(t, 14, 17, t->cols - 20, RO_NORMAL, "%s", buf);
	draw_text(t, 15, 3, 14, RO_DIM, "CSR SHA-256");
	draw_text(t, 16, 5, t->cols - 8, RO_NORMAL, "%s", r->csr.sha256);
}

static void
run_draw(struct tui *t, struct view *v)
{
	struct rrun *u = v->st;

	if (u->state == RUN_WORKING)
		draw_working(t, u);
	else if (u->state == RUN_FAILED)
		draw_failed(t, u);
	else
		draw_done(t, u);
}

static enum act
run_save(struct tui *t, struct view *v)
{
	struct rrun *u = v->st;

	if (u->state != RUN_DONE) {
		tui_note(t, RO_DIM, "Nothing to save. Esc goes back.");
		return ACT_NONE;
	}
	t->note[0] = '\0';
	tui_push(t, &scr_req_save, u->r);
	return ACT_NONE;
}

static void
discard_answer(struct tui *t, void *ctx, int yes)
{
	struct req *r = ctx;

	if (!yes) {
		tui_note(t, RO_DIM, "Kept. Enter saves the CSR.");
		return;
	}
	if (req_discard(t, r, "Discarded") == 0)
		tui_pop(t);	/* the run screen: back to the confirm */
}

static enum act
run_back(struct tui *t, struct view *v)
{
	struct rrun *u = v->st;
	struct req *r = u->r;
	char q[400];
	struct ask_arg a = { q, "Delete it", RO_ERROR, discard_answer, r };

	if (!r->key_made || r->saved)
		return ACT_POP;
	if (u->state == RUN_FAILED) {
		if (req_discard(t, r, "Deleted") == 0)
			return ACT_POP;
		return ACT_NONE;
	}
	snprintf(q, sizeof(q), "Go back and delete the new key pair '%s' "
	    "from the token? Its CSR has not been saved.", r->key.label);
	tui_push(t, &scr_ask, &a);
	return ACT_NONE;
}

static enum act
run_other(struct tui *t, struct view *v, int ch)
{
	struct rrun *u = v->st;

	if (u->state != RUN_DONE || !rec_scroll(u, ch, rec_rows(t)))
		return ACT_UNHANDLED;
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 's', "Enter", "Save the CSR", run_save },
	{ 27, 0, "Esc", "Back (a new key pair not saved: asks, then deletes "
	  "it)", run_back },
	{ KEY_DOWN, 'j', NULL, "Scroll the record (also PgUp, PgDn)", NULL },
	{ 3, 27, NULL, "While the token works: ask whether to cancel", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_run = {
	.name = "req-run",
	.title = "Key pair and CSR",
	.state_size = sizeof(struct rrun),
	.keys = keys,
	.enter = run_enter,
	.draw = run_draw,
	.other = run_other,
};
