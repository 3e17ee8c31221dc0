/*
 * Sign files, step 1: the certificate to sign with.  Only certificates
 * whose private key is on the token are offered, and private keys are
 * seen only after login, so without one this screen sends the operator
 * to Log in first and lists on the way back.  Typing filters by
 * thumbprint prefix or a piece of the subject.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"

struct scert {
	struct sgn *g;
	struct hd_cert *all;		/* with a key on the token */
	size_t nall;
	int shown[256];			/* indexes into all, filtered */
	struct list l;
	char filter[64];
	int loaded;			/* -1: not yet; else the login state */
};

static int
list_rows(const struct tui *t)
{
	return t->rows - 14;
}

static int
matches(const struct hd_cert *c, const char *f)
{
	size_t i, n = strlen(f);
	int hex = n > 0;

	for (i = 0; i < n; i++)
		hex &= isxdigit((unsigned char)f[i]) != 0;
	if (hex && strncasecmp(c->sha1, f, n) == 0)
		return 1;
	return strcasestr(c->subject, f) != NULL;
}

static void
refilter(struct tui *t, struct scert *c)
{
	size_t i;

	c->l.n = 0;
	for (i = 0; i < c->nall && c->l.n < 256; i++)
		if (matches(&c->all[i], c->filter))
			c->shown[c->l.n++] = (int)i;
	list_fix(&c->l, list_rows(t));
}

static void
load(struct tui *t, struct scert *c)
{
	struct hd_cert *all = NULL;
	struct hd_err err;
	size_t i, n = 0;

	hd_certs_free(c->all, c->nall);
	c->all = NULL;
	c->nall = 0;
	c->loaded = hd_logged_in(t->s);
	if (c->loaded && hd_certs(t->s, &all, &n, &err) == -1)
		tui_note_err(t, &err);
	for (i = 0; i < n; i++) {	/* in place: those with a key first */
		if (all[i].has_key == HD_YES)
			all[c->nall++] = all[i];
		else
			hd_cert_free(&all[i]);
	}
	c->all = all;
	refilter(t, c);
}

static void
cert_enter(struct tui *t, struct view *v, const void *arg)
{
	struct scert *c = v->st;

	(void)arg;
	if ((c->g = calloc(1, sizeof(*c->g))) == NULL)
		tui_note(t, RO_ERROR, "Out of memory.");
	load(t, c);
	if (!c->loaded && t->ti.present) {
		tui_push(t, &scr_login, NULL);
		tui_note(t, RO_WARNING, "Sign files signs with a private key: "
		    "log in first.");
	}
}

static void
cert_leave(struct tui *t, struct view *v)
{
	struct scert *c = v->st;

	(void)t;
	hd_certs_free(c->all, c->nall);
	sign_free(c->g);
}

static void
draw_cert(struct tui *t, const struct hd_cert *c, int y, int sel)
{
	char until[16];

	hd_cert_date(c->not_after, until, sizeof(until));
	draw_text(t, y, 3, t->cols - 6, sel ? RO_SELECTED : RO_NORMAL,
	    " %-*.*s %-10s %-16.16s", t->cols - 36, t->cols - 36, c->subject,
	    until, c->key_label);
}

static void
cert_draw(struct tui *t, struct view *v)
{
	struct scert *c = v->st;
	const struct hd_cert *cur;
	int i, rows = list_rows(t);

	if (c->loaded != hd_logged_in(t->s))
		load(t, c);	/* back from Log in */
	if (!c->loaded) {
		draw_wrap(t, 4, 3, t->cols - 6, 3, RO_WARNING, "Not logged in: "
		    "certificates with a private key are listed after login. "
		    "Enter logs in.");
		return;
	}
	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "The certificate to sign "
	    "with (its private key is on the token):");
	draw_text(t, 5, 3, t->cols - 6, RO_DIM, "Filter (thumbprint or "
	    "subject):");
	draw_text(t, 5, 35, t->cols - 38, RO_SELECTED, " %-*s", t->cols - 40,
	    c->filter);
	draw_text(t, 7, 3, t->cols - 6, RO_DIM, " %-*s %-10s %s", t->cols - 36,
	    "SUBJECT", "UNTIL", "KEY");
	if (c->l.n == 0)
		draw_text(t, 8, 3, t->cols - 6, RO_DIM, " %s", c->nall == 0 ?
		    "No certificate with its key on this token: Import "
		    "certificate (4)." : "None matches the filter.");
	for (i = 0; i < rows && c->l.top + i < c->l.n; i++)
		draw_cert(t, &c->all[c->shown[c->l.top + i]], 8 + i,
		    c->l.top + i == c->l.cur);
	if (c->l.n == 0)
		return;
	cur = &c->all[c->shown[c->l.cur]];
	draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "SHA-1  %s",
	    cur->sha1);
}

static enum act
cert_choose(struct tui *t, struct view *v)
{
	struct scert *c = v->st;
	const struct hd_cert *cur;
	struct hd_err err;
	char id[129];

	if (!c->loaded) {
		tui_push(t, &scr_login, NULL);
		return ACT_NONE;
	}
	if (c->l.n == 0 || c->g == NULL)
		return ACT_NONE;
	cur = &c->all[c->shown[c->l.cur]];
	hd_hex(cur->id, cur->id_len, id, sizeof(id));
	hd_cert_free(&c->g->cert);
	c->g->cert = *cur;
	c->g->cert.der = NULL;		/* the list keeps owning it */
	if ((c->g->cert.der = malloc(cur->der_len)) == NULL) {
		tui_note(t, RO_ERROR, "Out of memory.");
		return ACT_NONE;
	}
	memcpy(c->g->cert.der, cur->der, cur->der_len);
	if (hd_key_find(t->s, NULL, id, &c->g->key, &err) == -1 ||
	    sign_load_chain(t, c->g, &err) == -1) {
		tui_note_err(t, &err);
		return ACT_NONE;
	}
	t->note[0] = '\0';
	tui_push(t, &scr_sign_files, c->g);
	return ACT_NONE;
}

static enum act
cert_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
cert_other(struct tui *t, struct view *v, int ch)
{
	struct scert *c = v->st;
	size_t n = strlen(c->filter);

	if (list_key(&c->l, ch == 'j' || ch == 'k' ? 0 : ch, list_rows(t)))
		return ACT_NONE;
	if (ch == KEY_BACKSPACE && n > 0)
		c->filter[n - 1] = '\0';
	else if (ch == 21)
		c->filter[0] = '\0';
	else if (ch > 0x20 && ch < 0x7f && n + 1 < sizeof(c->filter))
		c->filter[n] = (char)ch, c->filter[n + 1] = '\0';
	else if (ch != KEY_BACKSPACE)
		return ACT_UNHANDLED;
	refilter(t, c);
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Sign with this certificate", cert_choose },
	{ 27, 0, "Esc", "Back", cert_back },
	{ KEY_UP, 0, NULL, "Previous certificate (also PgUp, Home)", NULL },
	{ KEY_DOWN, 0, NULL, "Next certificate (also PgDn, End)", NULL },
	{ KEY_BACKSPACE, 21, NULL, "Typing filters; Bksp, ^U edit", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_cert = {
	.name = "sign-cert",
	.title = "Sign files: choose the certificate",
	.state_size = sizeof(struct scert),
	.keys = keys,
	.enter = cert_enter,
	.draw = cert_draw,
	.other = cert_other,
	.leave = cert_leave,
};
