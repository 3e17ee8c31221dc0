/*
 * The signing audit log: the latest records first, filtered as 'hsmdesk
 * audit show' filters them (a date, a thumbprint prefix, a file glob),
 * under the verdict of 'audit verify' (the token's witness is checked
 * when logged in).  Read-only; Enter applies the filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

struct saudit {
	struct form fm;			/* since, thumbprint, file */
	char path[4096];
	struct hd_audit_row *rows;
	size_t n;
	struct hd_audit_report r;
	struct hd_err err;
	int failed, top;
};

static void
load(struct tui *t, struct saudit *a)
{
	struct hd_audit_filter f = { NULL, NULL, NULL };

	hd_audit_rows_free(a->rows, a->n);
	a->rows = NULL;
	a->n = 0;
	a->top = 0;
	f.since = a->fm.f[0].text[0] ? a->fm.f[0].text : NULL;
	f.sha1 = a->fm.f[1].text[0] ? a->fm.f[1].text : NULL;
	f.file = a->fm.f[2].text[0] ? a->fm.f[2].text : NULL;
	hd_err_clear(&a->err);
	memset(&a->r, 0, sizeof(a->r));
	a->failed = 0;
	if (access(a->path, F_OK) != 0) {	/* nothing signed here yet */
		snprintf(a->r.witness_text, sizeof(a->r.witness_text),
		    "nothing to check yet");
		return;
	}
	a->failed = hd_audit_verify(a->path, NULL, hd_logged_in(t->s) ? t->s :
	    NULL, &a->r, &a->err) == -1 ||
	    hd_audit_rows(a->path, &f, &a->rows, &a->n, &a->err) == -1;
}

static void
audit_enter(struct tui *t, struct view *v, const void *arg)
{
	struct saudit *a = v->st;
	const char *p = audit_log_path(t->cli);

	(void)arg;
	form_add_text(&a->fm, "Since (YYYY-MM-DD)", "", 20);
	form_add_text(&a->fm, "Signer thumbprint", "", 40);
	form_add_text(&a->fm, "File (glob)", "", 200);
	if (p != NULL)
		snprintf(a->path, sizeof(a->path), "%s", p);
	else if (hd_audit_default_path(a->path, sizeof(a->path),
	    &a->err) == -1) {
		a->failed = 1;
		return;
	}
	load(t, a);
}

static void
audit_leave(struct tui *t, struct view *v)
{
	struct saudit *a = v->st;

	(void)t;
	hd_audit_rows_free(a->rows, a->n);
	form_free(&a->fm);
}

/* The verdict in one line, and what it cannot prove in another. */
static void
draw_verdict(struct tui *t, struct saudit *a, int y)
{
	const struct hd_audit_report *r = &a->r;
	int w = t->cols - 6;

	if (r->nproblems > 0)
		draw_text(t, y, 3, w, RO_ERROR, "TAMPERED: line %llu: %s",
		    (unsigned long long)r->problems[0].line,
		    r->problems[0].what);
	else if (r->witness == HD_WIT_CUT)
		draw_text(t, y, 3, w, RO_ERROR, "TAMPERED: %s",
		    r->witness_text);
	else if (r->lines == 0)
		draw_text(t, y, 3, w, RO_DIM, "Empty: nothing signed yet.");
	else if (r->last_ckpt == 0)
		draw_text(t, y, 3, w, RO_WARNING, "Intact chain, but no valid "
		    "checkpoint: nothing is proven.");
	else
		draw_text(t, y, 3, w, RO_OK, "Intact: %llu lines, checkpoint "
		    "at line %llu; %llu line%s after it unproven.",
		    (unsigned long long)r->lines,
		    (unsigned long long)r->last_ckpt,
		    (unsigned long long)r->unproven, r->unproven == 1 ? "" :
		    "s");
	draw_text(t, y + 1, 3, w, RO_DIM, "Witness: %s", r->witness_text);
}

/* Under the working directory: relative; else with ~ for home; cut on
 * the left to fit, the file's name being what matters. */
static const char *
short_path(const char *p, int w, char *buf, size_t len)
{
	char cwd[4096];
	size_t n;

	if (getcwd(cwd, sizeof(cwd)) != NULL && (n = strlen(cwd)) > 1 &&
	    strncmp(p, cwd, n) == 0 && p[n] == '/')
		snprintf(buf, len, "%s", p + n + 1);
	else
		tui_tilde(p, buf, len);
	n = strlen(buf);
	if (w > 4 && n > (size_t)w)
		return buf + n - (size_t)w + 3;	/* after "..." */
	return buf;
}

static void
draw_rows(struct tui *t, struct saudit *a, int y, int rows)
{
	char buf[4096];
	const char *f;
	int i, k, fw = t->cols - 6 - 51;

	draw_text(t, y++, 3, t->cols - 6, RO_TITLE, "%-5s %-20s %-16s %-6s "
	    "%s", "Line", "Time", "Type", "Result", "File");
	if (a->n == 0)
		draw_text(t, y, 3, t->cols - 6, RO_DIM, "No records%s.",
		    a->fm.f[0].text[0] || a->fm.f[1].text[0] ||
		    a->fm.f[2].text[0] ? " match the filters" : "");
	if (a->top > (int)a->n - rows)
		a->top = (int)a->n - rows;
	if (a->top < 0)
		a->top = 0;
	for (i = 0; i < rows && a->top + i < (int)a->n; i++) {
		const struct hd_audit_row *w = &a->rows[a->n - 1 - (size_t)
		    (a->top + i)];	/* the latest first */

		k = strcmp(w->result, "ok") == 0 || w->checkpoint;
		f = short_path(w->file, fw, buf, sizeof(buf));
		draw_text(t, y + i, 3, t->cols - 6, k ? RO_NORMAL : RO_ERROR,
		    "%-5llu %-20s %-16s %-6.6s %s%s",
		    (unsigned long long)w->line, w->time, w->checkpoint ?
		    "checkpoint" : w->type, w->checkpoint ? "" : w->result,
		    f != buf ? "..." : "", w->checkpoint ? "" : f);
	}
}

static void
audit_draw(struct tui *t, struct view *v)
{
	struct saudit *a = v->st;
	struct form_look lk = { 3, 20, 42, 0 };
	char shown[4096];

	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Log %s",
	    tui_tilde(a->path, shown, sizeof(shown)));
	if (a->failed) {
		draw_wrap(t, 6, 3, t->cols - 6, 3, RO_ERROR, a->err.msg);
		draw_wrap(t, 9, 3, t->cols - 6, 2, RO_DIM, a->err.hint);
		return;
	}
	draw_verdict(t, a, 5);
	form_draw_in(t, &a->fm, 8, 3, &lk);
	draw_rows(t, a, 12, t->rows - 16);
}

static enum act
audit_apply(struct tui *t, struct view *v)
{
	load(t, v->st);
	return ACT_NONE;
}

static enum act
audit_other(struct tui *t, struct view *v, int ch)
{
	struct saudit *a = v->st;

	(void)t;
	if (ch == KEY_PPAGE || ch == KEY_NPAGE) {
		a->top += ch == KEY_PPAGE ? -(t->rows - 16) : t->rows - 16;
		return ACT_NONE;
	}
	return form_key(&a->fm, ch) == -1 ? ACT_UNHANDLED : ACT_NONE;
}

static enum act
audit_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Apply the filters", audit_apply },
	{ 27, 0, "Esc", "Back", audit_back },
	{ '\t', KEY_DOWN, NULL, "Next filter (also Up: previous)", NULL },
	{ KEY_PPAGE, KEY_NPAGE, NULL, "Scroll the records", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_audit = {
	.name = "audit",
	.title = "Audit log",
	.state_size = sizeof(struct saudit),
	.keys = keys,
	.enter = audit_enter,
	.draw = audit_draw,
	.other = audit_other,
	.leave = audit_leave,
};
