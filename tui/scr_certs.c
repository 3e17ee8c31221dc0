/*
 * Find by thumbprint (Get-ChildItem cert:\ | Where Thumbprint -like):
 * every certificate for the token, filtered as you type.  Hex digits are
 * a SHA-1 prefix in any notation (spaces, colons, the U+200E Windows'
 * dialog copies along); other text, or hex that fits no thumbprint,
 * searches the subject.  A details pane shows the row under the cursor;
 * y copies its thumbprint (OSC 52) and shows it large.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define DETAIL_ROWS 9

struct certs {
	struct hd_cert *all;	/* as listed; owned */
	size_t nall;
	struct hd_cert *shown;	/* shallow copies of all's, der NULL */
	size_t nshown;
	char filter[160];
	int by_subject;		/* the filter searched the subject */
	struct list l;
	int failed;
	/* the details of the cursor's certificate, looked up once */
	char for_sha1[41];
	int for_where;
	char ku[200], eku[300];
	struct hd_key key;
	int key_found;
};

/* Shallow copies for hd_certs_filter, which frees what it drops. */
static int
filter_run(struct certs *c, const struct hd_cert_filter *f, size_t *n)
{
	size_t i;
	struct hd_err err;

	memcpy(c->shown, c->all, c->nall * sizeof(*c->all));
	for (i = 0; i < c->nall; i++)
		c->shown[i].der = NULL;
	*n = c->nall;
	return hd_certs_filter(c->shown, n, f, &err);
}

static void
refilter(struct certs *c)
{
	struct hd_cert_filter f = { NULL, NULL, NULL, -1 };
	char hex[41];
	struct hd_err err;
	size_t n = 0;

	c->by_subject = 0;
	if (c->shown == NULL)
		return;
	if (c->filter[0] != '\0' && hd_thumb_normalize(c->filter, 40, hex,
	    sizeof(hex), &err) == 0 && hex[0] != '\0') {
		f.sha1 = c->filter;
		if (filter_run(c, &f, &n) == 0 && n > 0) {
			c->nshown = n;
			c->l.n = (int)n;
			list_fix(&c->l, 1);
			return;
		}
		f.sha1 = NULL;
	}
	if (c->filter[0] != '\0') {
		f.subject = c->filter;
		c->by_subject = 1;
	}
	if (filter_run(c, &f, &n) == -1)
		n = 0;
	c->nshown = n;
	c->l.n = (int)n;
	list_fix(&c->l, 1);
}

static void
load(struct tui *t, struct certs *c)
{
	struct hd_err err;

	if (hd_certs(t->s, &c->all, &c->nall, &err) == -1) {
		tui_note_err(t, &err);
		c->failed = 1;
		return;
	}
	c->shown = calloc(c->nall ? c->nall : 1, sizeof(*c->shown));
	if (c->shown == NULL) {
		tui_note(t, RO_ERROR, "Out of memory.");
		c->failed = 1;
		return;
	}
	refilter(c);
}

static void
certs_enter(struct tui *t, struct view *v, const void *arg)
{
	struct certs *c = v->st;

	(void)arg;
	c->for_where = -1;
	load(t, c);
}

static void
certs_leave(struct tui *t, struct view *v)
{
	struct certs *c = v->st;

	(void)t;
	free(c->shown);
	hd_certs_free(c->all, c->nall);
	c->shown = c->all = NULL;
	c->nall = c->nshown = 0;
}

static int
list_rows(const struct tui *t)
{
	return t->rows - 6 - DETAIL_ROWS - 1 - 3;
}

static const struct hd_cert *
cur(const struct certs *c)
{
	return c->nshown > 0 ? &c->shown[c->l.cur] : NULL;
}

static void
draw_row(struct tui *t, int y, const struct hd_cert *x, int sel, int sw)
{
	char na[16], days[16];

	hd_cert_date(x->not_after, na, sizeof(na));
	/* in words too, for monochrome terminals and NO_COLOR */
	if (x->days_left < 0)
		snprintf(days, sizeof(days), "expired");
	else if (x->days_left < CERT_NEAR_DAYS)
		snprintf(days, sizeof(days), "%2d soon", x->days_left);
	else
		snprintf(days, sizeof(days), "%7d", x->days_left);
	draw_text(t, y, 2, t->cols - 4, sel ? RO_SELECTED : cert_role(x),
	    "%s %-*.*s %-10s %7s %-3s", x->sha1, sw, sw, x->subject, na, days,
	    x->has_key == HD_UNKNOWN ? "?" : x->has_key ? "yes" : "no");
}

static void
draw_list(struct tui *t, struct certs *c)
{
	int rows = list_rows(t), sw = t->cols - 4 - 64, i;

	draw_text(t, 5, 2, t->cols - 4, RO_DIM, "%-40s %-*s %-10s %7s %s",
	    "SHA-1 THUMBPRINT", sw, "SUBJECT", "NOT AFTER", "DAYS", "KEY");
	c->l.n = (int)c->nshown;
	list_fix(&c->l, rows);
	for (i = 0; i < rows && c->l.top + i < c->l.n; i++)
		draw_row(t, 6 + i, &c->shown[c->l.top + i],
		    c->l.top + i == c->l.cur, sw);
	if (c->nshown == 0)
		draw_text(t, 6, 3, t->cols - 6, RO_DIM, "%s", c->nall == 0 ?
		    "No certificates for this token yet (4 imports one)." :
		    "Nothing fits the filter (Bksp, or ^U to clear it).");
}

/* The full entry (with its DER) behind a shown one. */
static const struct hd_cert *
full(const struct certs *c, const struct hd_cert *x)
{
	size_t i;

	for (i = 0; i < c->nall; i++)
		if (c->all[i].where == x->where &&
		    strcmp(c->all[i].sha1, x->sha1) == 0)
			return &c->all[i];
	return x;
}

static void
look_up(struct tui *t, struct certs *c, const struct hd_cert *x)
{
	struct hd_err err;
	char id[129];

	if (c->for_where == (int)x->where && strcmp(c->for_sha1, x->sha1) == 0)
		return;
	snprintf(c->for_sha1, sizeof(c->for_sha1), "%s", x->sha1);
	c->for_where = (int)x->where;
	hd_cert_usages(full(c, x), c->ku, sizeof(c->ku), c->eku,
	    sizeof(c->eku));
	c->key_found = 0;
	if (x->has_key != HD_YES || !hd_logged_in(t->s) || x->id_len == 0)
		return;
	hd_hex(x->id, x->id_len, id, sizeof(id));
	c->key_found = hd_key_find(t->s, NULL, id, &c->key, &err) == 0;
}

static void
key_words(const struct certs *c, const struct hd_cert *x, char *buf,
    size_t len)
{
	if (c->key_found)
		cert_key_words(&c->key, buf, len);
	else if (x->has_key == HD_UNKNOWN)
		snprintf(buf, len, "? (log in to see private keys)");
	else if (x->has_key == HD_YES)
		snprintf(buf, len, "'%s' on the token", x->key_label);
	else
		snprintf(buf, len, "none on this token%s", x->where ==
		    HD_CERT_CHAIN || x->where == HD_CERT_ANCHOR ?
		    " (a CA certificate)" : "");
}

static const char *
where_words(enum hd_cert_where w)
{
	switch (w) {
	case HD_CERT_TOKEN: return "on the token, beside its key";
	case HD_CERT_LOCAL: return "local store (the token would not "
	    "hold it)";
	case HD_CERT_CHAIN: return "local store, chain material only";
	case HD_CERT_ANCHOR: return "local store, a trust anchor you "
	    "confirmed";
	}
	return "?";
}

static void
detail_row(struct tui *t, int y, const char *name, enum role r,
    const char *fmt, const char *value)
{
	draw_text(t, y, 2, 11, RO_DIM, "%s", name);
	draw_text(t, y, 13, t->cols - 15, r, fmt, value);
}

static void
draw_details(struct tui *t, struct certs *c)
{
	const struct hd_cert *x = cur(c);
	int y = t->rows - 4 - DETAIL_ROWS + 1;
	char buf[700];

	draw_hline(t, y - 1, 1, t->cols - 2);
	if (x == NULL)
		return;
	look_up(t, c, x);
	detail_row(t, y++, "SHA-1", RO_TITLE, "%s", x->sha1);
	detail_row(t, y++, "SHA-256", RO_NORMAL, "%s", x->sha256);
	detail_row(t, y++, "Subject", RO_NORMAL, "%s", x->subject);
	snprintf(buf, sizeof(buf), "%s%s", x->issuer, x->self_signed ?
	    "  (self-signed root)" : "");
	detail_row(t, y++, "Issuer", RO_NORMAL, "%s", buf);
	cert_validity(x, buf, sizeof(buf));
	detail_row(t, y++, "Valid", cert_role(x), "%s", buf);
	snprintf(buf, sizeof(buf), "%s; extended: %s", c->ku, c->eku);
	detail_row(t, y++, "Usage", RO_NORMAL, "%s", buf);
	key_words(c, x, buf, sizeof(buf));
	detail_row(t, y++, "Key", RO_NORMAL, "%s", buf);
	detail_row(t, y++, "Serial", RO_NORMAL, "%s", x->serial);
	detail_row(t, y, "Stored", RO_NORMAL, "%s", where_words(x->where));
}

static void
certs_draw(struct tui *t, struct view *v)
{
	struct certs *c = v->st;

	draw_text(t, 4, 2, 8, RO_TITLE, "Filter");
	/* padded by columns, not bytes: a pasted U+200E takes none */
	draw_text(t, 4, 9, 30, RO_SELECTED, "%30s", "");
	draw_text(t, 4, 10, 28, RO_SELECTED, "%s", c->filter);
	draw_text(t, 4, 40, t->cols - 42, RO_DIM, "%zu of %zu%s", c->nshown,
	    c->nall, c->filter[0] == '\0' ? ": type a thumbprint or name" :
	    c->by_subject ? ", by subject" : ", by thumbprint");
	if (c->failed)
		return;
	draw_list(t, c);
	draw_details(t, c);
}

static enum act
certs_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
certs_copy(struct tui *t, struct view *v)
{
	const struct hd_cert *x = cur(v->st);

	if (x == NULL) {
		tui_note(t, RO_WARNING, "No certificate to copy.");
		return ACT_NONE;
	}
	tui_push(t, &scr_cert_copy, x->sha1);
	return ACT_NONE;
}

/* Typing edits the filter; arrows and pages move (j and k are text). */
static enum act
certs_other(struct tui *t, struct view *v, int ch)
{
	struct certs *c = v->st;
	size_t n = strlen(c->filter);

	(void)t;
	if (ch >= KEY_MIN && list_key(&c->l, ch, list_rows(t)))
		return ACT_NONE;
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		while (n > 0 && (c->filter[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			c->filter[n - 1] = '\0';
	} else if (ch == 21) {
		c->filter[0] = '\0';
	} else if (ch >= 0x20 && ch <= 0xff && ch != 0x7f) {
		if (n + 1 >= sizeof(c->filter))
			return ACT_NONE;
		c->filter[n] = (char)ch;
		c->filter[n + 1] = '\0';
	} else {
		return ACT_UNHANDLED;
	}
	c->l.cur = c->l.top = 0;
	refilter(c);
	return ACT_NONE;
}

static const struct binding keys[] = {
	/* y is not typed into the filter: Y finds it (case is ignored) */
	{ 'y', 0, "y", "Copy the thumbprint", certs_copy },
	{ 27, 0, "Esc", "Back", certs_back },
	{ KEY_UP, 0, NULL, "Previous certificate", NULL },
	{ KEY_DOWN, 0, NULL, "Next certificate", NULL },
	{ 21, 0, NULL, "Clear the filter", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_certs = {
	.name = "certs",
	.title = "Find by thumbprint",
	.state_size = sizeof(struct certs),
	.keys = keys,
	.enter = certs_enter,
	.draw = certs_draw,
	.other = certs_other,
	.leave = certs_leave,
};

/* ---- the thumbprint, large, after y ------------------------------------ */

struct certcopy {
	char sha1[41];
};

static void
copy_enter(struct tui *t, struct view *v, const void *arg)
{
	struct certcopy *cc = v->st;

	snprintf(cc->sha1, sizeof(cc->sha1), "%s", (const char *)arg);
	cert_copy(t, cc->sha1);
}

static void
copy_draw(struct tui *t, struct view *v)
{
	struct certcopy *cc = v->st;
	struct view *below = v - 1;
	int w = t->cols - 2, h = 10, y = (t->rows - h) / 2, x = 1, i;
	char spaced[80];
	size_t k = 0;

	if (v > t->stack && below->scr->draw != NULL)
		below->scr->draw(t, below);
	for (i = 0; cc->sha1[i] != '\0' && k + 3 < sizeof(spaced); i++) {
		if (i > 0 && i % 4 == 0)
			spaced[k++] = ' ', spaced[k++] = ' ';
		spaced[k++] = cc->sha1[i];
	}
	spaced[k] = '\0';
	for (i = 0; i < h; i++)
		draw_text(t, y + i, x, w, RO_NORMAL, "%*s", w, "");
	draw_box(t, y, x, h, w, "SHA-1 thumbprint");
	draw_text(t, y + 2, x + 3, w - 6, RO_TITLE, "%s", spaced);
	draw_text(t, y + 4, x + 3, w - 6, RO_NORMAL, "%s", cc->sha1);
	draw_text(t, y + 6, x + 3, w - 6, RO_DIM, "%s", t->script ?
	    "Script mode: OSC 52 not sent; its base64 would be" :
	    "Sent to the terminal's clipboard (OSC 52), as base64");
	draw_text(t, y + 7, x + 3, w - 6, RO_DIM, "%s", t->clip64);
	draw_text(t, y + h - 1, x + 3, w - 6, RO_DIM, " Any key closes ");
}

static enum act
copy_close(struct tui *t, struct view *v, int ch)
{
	(void)t;
	(void)v;
	(void)ch;
	return ACT_POP;
}

static const struct binding copy_keys[] = {
	{ 27, '\n', "Esc", "Close", certs_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_cert_copy = {
	.name = "cert-copy",
	.title = "Thumbprint",
	.state_size = sizeof(struct certcopy),
	.keys = copy_keys,
	.enter = copy_enter,
	.draw = copy_draw,
	.other = copy_close,
};
