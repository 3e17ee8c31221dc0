/*
 * Sign files, the check afterwards: each file signed in the run is
 * verified against the trusted roots given (a PEM file; empty: the
 * system's), and shown with the verdict in words, the signer's SHA-1
 * thumbprint and the algorithm, and its RFC 3161 timestamp as `hsmdesk
 * verify` shows it: the time, the TSA, whether the token verifies
 * against the TSA roots (a second PEM file; empty: the signers' roots).
 * Detached CMS by hd_verify_file, Authenticode by hd_verify_pe_ts (the
 * run's signature: the newest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"

struct vres {
	int good;
	char words[300];
	char sha1[41];
	char alg[64];
	struct hd_ts_report ts;
};

struct sver {
	struct sgn *g;
	struct path_in ca, tsa_ca;
	int field;			/* 0 ca, 1 tsa_ca has the keys */
	struct vres r[SIGN_FILES];
	int ran, top;
};

static const char *const cms_words[HD_V__COUNT] = {
	[HD_V_GOOD] = "good: signature valid, chain trusted",
	[HD_V_NOT_CMS] = "not a CMS signature",
	[HD_V_CORRUPT] = "the signature file is damaged",
	[HD_V_NOT_DETACHED] = "not a detached signature",
	[HD_V_BAD_SIGNATURE] = "BAD: the signature does not verify",
	[HD_V_CONTENT_CHANGED] = "BAD: the file changed after signing",
	[HD_V_UNTRUSTED] = "valid, but no chain to a trusted root",
	[HD_V_EXPIRED] = "a certificate is outside its validity",
	[HD_V_USAGE] = "the certificate is not for signing",
	[HD_V_ERROR] = "could not be checked",
};

static void
ver_enter(struct tui *t, struct view *v, const void *arg)
{
	struct sver *s = v->st;

	(void)t;
	s->g = (struct sgn *)arg;
	path_set(&s->ca, "");
	path_set(&s->tsa_ca, "");
}

static void
check_cms(const struct sign_file *f, const char *ca, const char *tsa_ca,
    struct vres *r)
{
	struct hd_verify_opts o;
	struct hd_verify_result res;
	struct hd_err err;

	memset(&o, 0, sizeof(o));
	o.cafile = ca;
	o.tsa_cafile = tsa_ca;
	/* -1 for every verdict but good: the verdict says which */
	hd_verify_file(f->path, f->out, &o, &res, &err);
	r->good = res.verdict == HD_V_GOOD;
	if (res.verdict == HD_V_ERROR)
		snprintf(r->words, sizeof(r->words), "%s", err.msg);
	else
		snprintf(r->words, sizeof(r->words), "%s", (unsigned)res.verdict
		    < HD_V__COUNT ? cms_words[res.verdict] : "?");
	snprintf(r->sha1, sizeof(r->sha1), "%s", res.sha1);
	snprintf(r->alg, sizeof(r->alg), "%s %s", res.md, res.alg);
	r->ts = res.ts;
}

static void
check_pe(const struct sign_file *f, const char *ca, const char *tsa_ca,
    struct vres *r)
{
	struct hd_sig_report *sigs = NULL;
	struct hd_err err;
	size_t n = 0;

	if ((f->ps1 ? hd_verify_ps1_ts : hd_verify_pe_ts)(f->out, ca, tsa_ca,
	    &sigs, &n, NULL, NULL, &err) == -1 ||
	    n == 0) {
		snprintf(r->words, sizeof(r->words), "%s", n == 0 && err.msg[0]
		    == '\0' ? "no signature" : err.msg);
		free(sigs);
		return;
	}
	r->good = sigs[n - 1].state == HD_SIG_OK;	/* the newest is last */
	snprintf(r->words, sizeof(r->words), "%s%s", r->good ? "good: " : "",
	    sigs[n - 1].result);
	snprintf(r->sha1, sizeof(r->sha1), "%s", sigs[n - 1].sha1);
	snprintf(r->alg, sizeof(r->alg), "%s Authenticode", sigs[n - 1].md);
	r->ts = sigs[n - 1].ts;
	free(sigs);
}

static enum act
ver_run(struct tui *t, struct view *v)
{
	struct sver *s = v->st;
	char ca[4096], tsa_ca[4096];
	int i, good = 0, n = 0;

	if (path_expand(&s->ca, ca, sizeof(ca)) == -1 ||
	    path_expand(&s->tsa_ca, tsa_ca, sizeof(tsa_ca)) == -1)
		return ACT_NONE;
	memset(s->r, 0, sizeof(s->r));
	for (i = 0; i < s->g->n; i++) {
		if (s->g->f[i].state != SF_OK)
			continue;
		n++;
		if (sign_type_of(s->g, i) == SIGN_PE)
			check_pe(&s->g->f[i], ca[0] ? ca : NULL, tsa_ca[0] ?
			    tsa_ca : NULL, &s->r[i]);
		else
			check_cms(&s->g->f[i], ca[0] ? ca : NULL, tsa_ca[0] ?
			    tsa_ca : NULL, &s->r[i]);
		good += s->r[i].good;
	}
	s->ran = 1;
	tui_note(t, good == n ? RO_OK : RO_WARNING, "%d of %d signature%s "
	    "good.", good, n, n == 1 ? "" : "s");
	return ACT_NONE;
}

static const char *
mark(const struct tui *t, int good)
{
	if (t->ascii)
		return good ? "ok" : "X";
	return good ? "✓" : "✗";
}

/* The TSA's common name, the part of its subject that fits a row (a
 * public TSA's full subject rarely does); the subject if it has none. */
static void
tsa_name(const char *subject, char *buf, size_t len)
{
	const char *cn = NULL, *p;

	for (p = subject; (p = strstr(p, "CN=")) != NULL; p += 3)
		if (p == subject || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/')
			cn = p + 3;
	if (cn == NULL) {
		snprintf(buf, len, "%s", subject[0] ? subject : "(unknown)");
		return;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(cn, ","), cn);
}

/* The timestamp under a result, as `verify` words it: one row, and a
 * second with the reason when its token does not verify.  Rows used. */
static int
draw_ts(struct tui *t, const struct hd_ts_report *ts, int y)
{
	char name[256];

	if (!ts->present) {
		draw_text(t, y, 5, t->cols - 8, RO_DIM, "no timestamp");
		return 1;
	}
	tsa_name(ts->subject, name, sizeof(name));
	if (ts->ok) {
		draw_text(t, y, 5, t->cols - 8, RO_DIM, "timestamp %s, good, "
		    "TSA %s", ts->time, name);
		return 1;
	}
	draw_text(t, y, 5, t->cols - 8, RO_WARNING, "timestamp %s, TSA %s: "
	    "does not verify", ts->time[0] ? ts->time : "?", name);
	draw_text(t, y + 1, 7, t->cols - 10, RO_WARNING, "%s", ts->why);
	return 2;
}

/* Rows file k's result takes. */
static int
height(const struct vres *r)
{
	return r->sha1[0] && r->ts.present && !r->ts.ok ? 4 : 3;
}

/* The two root fields: the one with the keys as the path prompt (its
 * Tab matches under it), the other as plain text. */
static void
draw_fields(struct tui *t, struct sver *s)
{
	const struct path_in *p[2] = { &s->ca, &s->tsa_ca };
	static const char *const name[2] = { "Signers", "TSA" };
	int i, y;

	draw_text(t, 4, 3, t->cols - 6, RO_DIM, "Trusted roots (PEM; empty: "
	    "the system's), Tab completes, Enter verifies:");
	for (i = 0; i < 2; i++) {
		y = 5 + 2 * i;
		draw_text(t, y, 3, 10, RO_DIM, "%s", name[i]);
		if (i == s->field)
			path_draw(t, p[i], y, 13, t->cols - 16);
		else if (p[i]->text[0] == '\0' && i == 1)
			draw_text(t, y, 13, t->cols - 16, RO_DIM, " (empty: "
			    "the signers' roots)");
		else
			draw_text(t, y, 13, t->cols - 16, RO_NORMAL, " %s",
			    p[i]->text);
	}
}

static void
ver_draw(struct tui *t, struct view *v)
{
	struct sver *s = v->st;
	int rows = (t->rows - 15) / 3, k, y = 9;

	draw_fields(t, s);
	if (!s->ran)
		return;
	if (s->top > s->g->n - rows)
		s->top = s->g->n - rows;
	if (s->top < 0)
		s->top = 0;
	for (k = s->top; k < s->g->n; k++) {
		if (s->g->f[k].state != SF_OK)
			continue;
		if (y + height(&s->r[k]) > t->rows - 6)
			break;
		draw_text(t, y, 3, t->cols - 6, s->r[k].good ? RO_OK :
		    RO_ERROR, "%s %s: %s", mark(t, s->r[k].good),
		    s->g->f[k].path, s->r[k].words);
		draw_text(t, y + 1, 5, t->cols - 8, RO_DIM, "by %s, %s",
		    s->r[k].sha1[0] ? s->r[k].sha1 : "(none)", s->r[k].alg);
		if (s->r[k].sha1[0] == '\0') {	/* no signature reached */
			draw_text(t, y + 2, 5, t->cols - 8, RO_DIM, "timestamp "
			    "not checked");
			y += 3;
		} else
			y += 2 + draw_ts(t, &s->r[k].ts, y + 2);
	}
}

static enum act
ver_other(struct tui *t, struct view *v, int ch)
{
	struct sver *s = v->st;

	(void)t;
	if (ch == KEY_PPAGE || ch == KEY_NPAGE) {
		s->top += ch == KEY_PPAGE ? -3 : 3;
		return ACT_NONE;
	}
	if (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_BTAB) {
		s->field = !s->field;
		return ACT_NONE;
	}
	return path_key(s->field ? &s->tsa_ca : &s->ca, ch) == 0 ? ACT_NONE :
	    ACT_UNHANDLED;
}

static enum act
ver_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Verify", ver_run },
	{ 27, 0, "Esc", "Back to the results", ver_back },
	{ KEY_UP, KEY_DOWN, "Up/Down", "Field", NULL },
	{ KEY_PPAGE, KEY_NPAGE, NULL, "Scroll the files", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_verify = {
	.name = "sign-verify",
	.title = "Sign files: verify",
	.state_size = sizeof(struct sver),
	.keys = keys,
	.enter = ver_enter,
	.draw = ver_draw,
	.other = ver_other,
};
