/*
 * Sign files, steps 5 and 6: a bar per file and one overall with the
 * throughput while the worker signs (Esc or Ctrl-C asks whether to
 * cancel), then each file with a tick or a cross and the reason.  The
 * hd_sign is opened here, on this thread, and closed as soon as the run
 * ends, so none stays open across an idle logout.  v verifies what was
 * signed.
 */
#include <stdio.h>
#include <string.h>

#include "sign.h"

enum run_state { RUN_WORKING, RUN_FAILED, RUN_DONE };

struct srun {
	struct sgn *g;
	enum run_state state;
	struct sign_view sv;
	struct hd_sign_info info;
	struct hd_err err;
	int cancelled, nok, top;
	char audit[400];		/* how the records went */
	int audit_bad;
};

static void
run_enter(struct tui *t, struct view *v, const void *arg)
{
	struct srun *u = v->st;
	struct sgn *g = (struct sgn *)arg;
	struct hd_sign_opts o;
	struct hd_sign *cms = NULL;
	int i;

	u->g = g;
	memset(&o, 0, sizeof(o));
	o.md = sign_md(g);
	u->state = RUN_WORKING;
	/* no signature without its audit record: the log first */
	hd_err_clear(&u->err);
	if (sign_record_open(t, g, &u->err) == 0 &&
	    sign_tsa_open(g, &u->err) == 0)
		o.tsa = g->stamps;
	if (u->err.code != HD_OK ||
	    hd_sign_open(t->s, &g->key, g->cert.der, g->cert.der_len,
	    g->chain, g->chain_len, &o, &cms, &u->err) == -1) {
		hd_audit_close(g->audit);
		g->audit = NULL;
		hd_tsa_close(g->stamps);
		g->stamps = NULL;
		u->state = RUN_FAILED;
		tui_note_err(t, &u->err);
		return;
	}
	hd_sign_info(cms, &u->info);
	u->cancelled = sign_job(t, g, cms, &u->sv) == -1;
	hd_sign_close(cms);
	sign_record_finish(g, u->audit, sizeof(u->audit), &u->audit_bad);
	hd_tsa_close(g->stamps);
	g->stamps = NULL;
	for (i = 0; i < g->n; i++)
		u->nok += g->f[i].state == SF_OK;
	u->state = RUN_DONE;
	if (u->cancelled)
		tui_note(t, RO_WARNING, "Cancelled: %d of %d signed; the file "
		    "being signed was left as it was.", u->nok, g->n);
	else
		tui_note(t, u->nok == g->n ? RO_OK : RO_ERROR, "%d of %d "
		    "file%s signed.", u->nok, g->n, g->n == 1 ? "" : "s");
}

/* [#####.....] over w columns */
static void
bar(struct tui *t, int y, int x, int w, uint64_t done, uint64_t total)
{
	char b[256];
	int fill = total ? (int)((double)done / (double)total * (w - 2)) :
	    w - 2, i;

	if (w > (int)sizeof(b) - 1)
		w = (int)sizeof(b) - 1;
	b[0] = '[';
	for (i = 1; i < w - 1; i++)
		b[i] = i - 1 < fill ? '#' : '.';
	b[w - 1] = ']';
	b[w] = '\0';
	draw_text(t, y, x, w, RO_TITLE, "%s", b);
}

static const char *
mark(const struct tui *t, enum sign_state st)
{
	switch (st) {
	case SF_OK: return t->ascii ? "ok" : "✓";
	case SF_FAILED: return t->ascii ? "X" : "✗";
	case SF_WORKING: return ">";
	case SF_STAMPING: return ">";
	case SF_SKIPPED: return "-";
	default: return " ";
	}
}

static void
draw_overall(struct tui *t, struct srun *u)
{
	char done[32], total[32], rate[40] = "";

	sign_bytes(u->sv.done, done, sizeof(done));
	sign_bytes(u->sv.total, total, sizeof(total));
	if (u->sv.elapsed > 0.05) {
		sign_bytes((uint64_t)((double)u->sv.done / u->sv.elapsed), rate,
		    sizeof(rate) - 4);
		strcat(rate, "/s");
	}
	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Signer %s  %s, %s",
	    u->info.sha1, u->info.md, u->info.alg);
	draw_text(t, 5, 3, 10, RO_DIM, "All files");
	bar(t, 5, 13, t->cols - 50, u->sv.done, u->sv.total);
	draw_text(t, 5, t->cols - 36, 34, RO_NORMAL, "%s of %s %s", done, total,
	    rate);
}

static void
draw_file(struct tui *t, struct srun *u, int k, int y)
{
	const struct sign_file *f = &u->g->f[k];
	const char *type = sign_type_words(sign_type_of(u->g, k));
	int w = t->cols - 6;

	if (f->state == SF_STAMPING) {
		draw_text(t, y, 3, w, RO_NORMAL, "%s %-12s %-.*s: timestamping "
		    "at %s", mark(t, f->state), type, w / 3, f->path,
		    f->stamp);
		return;
	}
	if (f->state == SF_WORKING || (u->state == RUN_WORKING &&
	    f->state == SF_WAITING)) {
		draw_text(t, y, 3, w, RO_NORMAL, "%s %-12s %-.*s", mark(t,
		    f->state), type, w - 40, f->path);
		bar(t, y, t->cols - 24, 20, f->done, f->size);
		return;
	}
	draw_text(t, y, 3, w, f->state == SF_OK ? RO_OK : f->state ==
	    SF_FAILED ? RO_ERROR : RO_DIM, "%s %-12s %s: %s%s%s", mark(t,
	    f->state), type, f->path, f->state == SF_OK ? f->out :
	    f->state == SF_FAILED ? f->why : "not signed (cancelled)",
	    f->state == SF_OK && f->stamp[0] ? ", " : "",
	    f->state == SF_OK ? f->stamp : "");
}

static void
run_draw(struct tui *t, struct view *v)
{
	struct srun *u = v->st;
	int rows = t->rows - 15, i;

	if (u->state == RUN_FAILED) {
		draw_text(t, 4, 3, t->cols - 6, RO_ERROR, "Nothing was "
		    "signed.");
		draw_wrap(t, 6, 3, t->cols - 6, 4, RO_NORMAL, u->err.msg);
		draw_wrap(t, 10, 3, t->cols - 6, 3, RO_DIM, u->err.hint);
		return;
	}
	draw_overall(t, u);
	if (u->state == RUN_WORKING && u->sv.cur > u->top + rows - 1)
		u->top = u->sv.cur - rows + 1;
	if (u->top > u->g->n - rows)
		u->top = u->g->n - rows;
	if (u->top < 0)
		u->top = 0;
	for (i = 0; i < rows && u->top + i < u->g->n; i++)
		draw_file(t, u, u->top + i, 7 + i);
	if (u->state == RUN_DONE)
		draw_text(t, t->rows - 7, 3, t->cols - 6, u->audit_bad ?
		    RO_ERROR : RO_DIM, "%s", u->audit);
	if (u->state == RUN_DONE)
		draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "%s", u->nok ?
		    "v verifies the signatures; Esc goes back to the menu." :
		    "Esc goes back to the menu.");
	if (u->state == RUN_WORKING)	/* the table's hints are for after */
		draw_text(t, t->rows - 2, 1, t->cols - 2, RO_DIM, "%-*s",
		    t->cols - 2, "Esc or ^C Cancel (asks first)");
	if (u->sv.asking)
		ask_box(t, "Cancel? The file being signed is left as it was "
		    "(no partial signature); the files not started are "
		    "skipped.", "Cancel", RO_WARNING);
}

static enum act
run_verify(struct tui *t, struct view *v)
{
	struct srun *u = v->st;

	if (u->state != RUN_DONE || u->nok == 0)
		return ACT_NONE;
	t->note[0] = '\0';
	tui_push(t, &scr_sign_verify, u->g);
	return ACT_NONE;
}

static enum act
run_back(struct tui *t, struct view *v)
{
	struct srun *u = v->st;

	if (u->state == RUN_FAILED)
		return ACT_POP;
	tui_pop_to_menu(t);
	return ACT_NONE;
}

static enum act
run_other(struct tui *t, struct view *v, int ch)
{
	struct srun *u = v->st;

	(void)t;
	if (ch != KEY_PPAGE && ch != KEY_NPAGE && ch != KEY_UP &&
	    ch != KEY_DOWN)
		return ACT_UNHANDLED;
	u->top += ch == KEY_PPAGE ? -5 : ch == KEY_NPAGE ? 5 : ch == KEY_UP ?
	    -1 : 1;
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ 'v', 0, "v", "Verify", run_verify },
	{ 27, 0, "Esc", "Menu", run_back },
	{ KEY_UP, KEY_DOWN, NULL, "Scroll the files (also PgUp, PgDn)",
	  NULL },
	{ 3, 27, NULL, "While signing: ask whether to cancel", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_run = {
	.name = "sign-run",
	.title = "Sign files",
	.state_size = sizeof(struct srun),
	.keys = keys,
	.enter = run_enter,
	.draw = run_draw,
	.other = run_other,
};
