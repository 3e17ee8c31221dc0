/*
 * Import certificate (certreq -accept), steps 1 and 2: the file the CA
 * sent (Tab completes the path), then what accept would do with it: the
 * certificate, the key it fits, each check in plain words and any root
 * not trusted yet with its SHA-256 fingerprint.  Nothing is stored until
 * Enter on the checks; a root becomes a trust anchor only after a
 * question whose default is No.  A login is needed (private keys are
 * hidden until then): Enter goes to Log in first, and back here.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tui.h"

struct certimp {
	struct path_in in;
	char path[4096];	/* as checked (~ expanded) */
	struct hd_accept a;	/* what inspect said; owned here */
	int have, sent_to_login;
	char why[800];		/* why the file was refused, or "" */
};

static void
imp_enter(struct tui *t, struct view *v, const void *arg)
{
	struct certimp *ci = v->st;

	(void)t;
	(void)arg;
	path_set(&ci->in, "./");
}

static void
imp_leave(struct tui *t, struct view *v)
{
	struct certimp *ci = v->st;

	(void)t;
	if (ci->have)
		hd_accept_free(&ci->a);
	ci->have = 0;
}

static void
imp_draw(struct tui *t, struct view *v)
{
	struct certimp *ci = v->st;
	int y;

	draw_wrap(t, 4, 3, t->cols - 6, 2, RO_NORMAL, "The certificate your "
	    "CA issued for a key on this token: PEM, DER or PKCS#7 (.p7b), "
	    "with or without its chain.");
	draw_text(t, 7, 3, 10, RO_TITLE, "> File");
	path_draw(t, &ci->in, 7, 13, t->cols - 16);
	draw_wrap(t, 10, 3, t->cols - 6, 3, RO_DIM, "Tab completes the path. "
	    "Enter checks the file and shows what would be stored; nothing "
	    "is stored before you say so on the next screen.");
	if (ci->why[0] != '\0') {
		y = 13 + draw_wrap(t, 13, 3, t->cols - 6, 5, RO_ERROR, ci->why);
		if (strstr(ci->why, "othing was stored") == NULL)
			draw_text(t, y, 3, t->cols - 6, RO_NORMAL, "Nothing "
			    "was stored.");
	} else if (!hd_logged_in(t->s))
		draw_wrap(t, 14, 3, t->cols - 6, 2, RO_WARNING, "Not logged "
		    "in: Enter opens Log in first, then comes back here.");
	else if (ci->sent_to_login)
		draw_wrap(t, 14, 3, t->cols - 6, 2, RO_OK, "Logged in. Enter "
		    "checks the file.");
}

/* The core's message and hint, in the body: too long for the note. */
static enum act
refused(struct tui *t, struct certimp *ci, const struct hd_err *err)
{
	size_t at = strlen(err->msg) + 2, n;

	snprintf(ci->why, sizeof(ci->why), "%s.%s%s", err->msg,
	    err->hint[0] ? " " : "", err->hint);
	if (err->hint[0] >= 'a' && err->hint[0] <= 'z' && at < sizeof(ci->why))
		ci->why[at] = (char)(ci->why[at] - 'a' + 'A');
	n = strlen(ci->why);
	if (n > 0 && ci->why[n - 1] != '.' && n + 1 < sizeof(ci->why))
		snprintf(ci->why + n, sizeof(ci->why) - n, ".");
	tui_note(t, RO_ERROR, "Not imported: the file was refused.");
	return ACT_NONE;
}

static enum act
imp_go(struct tui *t, struct view *v)
{
	struct certimp *ci = v->st;
	struct hd_accept_opts o = { NULL, t->cli->cfg.cert_store };
	struct hd_err err;
	struct stat st;
	size_t n;

	ci->why[0] = '\0';
	if (ci->in.text[0] == '\0' ||
	    path_expand(&ci->in, ci->path, sizeof(ci->path)) == -1 ||
	    (stat(ci->path, &st) == 0 && S_ISDIR(st.st_mode))) {
		tui_note(t, RO_WARNING, "Type the certificate file's name "
		    "(Tab completes).");
		return ACT_NONE;
	}
	/* a private key, a CSR or garbage is refused before any login */
	if (hd_cert_file_check(ci->path, &n, &err) == -1)
		return refused(t, ci, &err);
	tui_refresh_token(t);
	if (!t->ti.present) {
		tui_note(t, RO_ERROR, "No token: nothing was stored.");
		return ACT_NONE;
	}
	if (!hd_logged_in(t->s)) {
		ci->sent_to_login = 1;
		tui_push(t, &scr_login, NULL);
		tui_note(t, RO_WARNING, "Log in first; Esc or the login brings "
		    "you back to the import.");
		return ACT_NONE;
	}
	if (ci->have)
		hd_accept_free(&ci->a);
	ci->have = 0;
	if (hd_cert_inspect(t->s, ci->path, &o, &ci->a, &err) == -1)
		return refused(t, ci, &err);
	ci->have = 1;
	t->note[0] = '\0';
	tui_push(t, &scr_cert_checks, ci);
	return ACT_NONE;
}

static enum act
imp_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
imp_other(struct tui *t, struct view *v, int ch)
{
	struct certimp *ci = v->st;

	(void)t;
	if (path_key(&ci->in, ch) == -1)
		return ACT_UNHANDLED;
	ci->why[0] = '\0';
	return ACT_NONE;
}

static const struct binding imp_keys[] = {
	{ '\n', 0, "Enter", "Check the file", imp_go },
	{ 27, 0, "Esc", "Back", imp_back },
	{ '\t', 0, NULL, "Complete the path", NULL },
	{ 21, 0, NULL, "Erase the path", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_cert_import = {
	.name = "cert-import",
	.title = "Import certificate",
	.state_size = sizeof(struct certimp),
	.keys = imp_keys,
	.enter = imp_enter,
	.draw = imp_draw,
	.other = imp_other,
	.leave = imp_leave,
};

/* ---- step 2: the checks ------------------------------------------------ */

struct certchk {
	struct certimp *ci;
};

static void
chk_enter(struct tui *t, struct view *v, const void *arg)
{
	struct certchk *c = v->st;

	(void)t;
	c->ci = (struct certimp *)arg;
}

/* The first root in the file that nobody trusts yet, or NULL. */
static const struct hd_root *
new_root(const struct hd_accept *a)
{
	size_t i;

	for (i = 0; i < a->nroots; i++)
		if (a->roots[i].trusted == 0)
			return &a->roots[i];
	return NULL;
}

static int
checks_rows(struct tui *t, const struct hd_accept *a, int y, int last)
{
	size_t i;

	for (i = 0; i < a->nchecks && y <= last; i++) {
		const struct hd_check *k = &a->checks[i];
		int ok = k->level == HD_CHECK_OK;

		draw_text(t, y, 3, 9, ok ? RO_OK : RO_WARNING, "%s",
		    ok ? "ok" : "warning");
		draw_text(t, y, 12, 9, RO_DIM, "%s", k->name);
		y += draw_wrap(t, y, 21, t->cols - 24, last - y + 1 < 2 ?
		    1 : 2, ok ? RO_NORMAL : RO_WARNING, k->text);
	}
	return y;
}

/* At the bottom, where the question's box does not hide it. */
static void
root_rows(struct tui *t, const struct hd_root *r, int y)
{
	char a[80], b[80];

	cert_groups(r->sha256, a, b, sizeof(a));
	draw_text(t, y, 3, t->cols - 6, RO_WARNING, "Root '%s' is not "
	    "trusted yet. SHA-256:", r->subject);
	draw_text(t, y + 1, 7, t->cols - 10, RO_TITLE, "%s", a);
	draw_text(t, y + 2, 7, t->cols - 10, RO_TITLE, "%s", b);
	draw_text(t, y + 3, 3, t->cols - 6, RO_DIM, "Compare it with the one "
	    "your CA gave you; Enter asks whether to trust it.");
}

static void
chk_draw(struct tui *t, struct view *v)
{
	const struct hd_accept *a = &((struct certchk *)v->st)->ci->a;
	const struct hd_root *r = new_root(a);
	char buf[700];
	int y = 4, last = t->rows - 6 - (r ? 3 : 0);

	y += cert_row(t, y, "Subject", RO_TITLE, a->cert.subject);
	y += cert_row(t, y, "Issuer", RO_NORMAL, a->cert.issuer);
	cert_validity(&a->cert, buf, sizeof(buf));
	y += cert_row(t, y, "Valid", cert_role(&a->cert), buf);
	y += cert_row(t, y, "SHA-1", RO_NORMAL, a->cert.sha1);
	cert_key_words(&a->key, buf, sizeof(buf));
	y += cert_row(t, y, "Key", RO_NORMAL, buf);
	if (a->duplicate)
		draw_text(t, y++, 3, t->cols - 6, RO_DIM, "Already stored "
		    "beside this key: importing again changes nothing.");
	y = checks_rows(t, a, y, last);
	if (r != NULL)
		root_rows(t, r, t->rows - 8);
	else
		draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "Enter stores "
		    "it; Esc goes back, nothing stored.");
}

static void
do_accept(struct tui *t, struct certimp *ci, const char *trust)
{
	struct hd_accept_opts o = { trust, t->cli->cfg.cert_store };
	struct hd_accept res;
	struct hd_err err;

	if (!hd_logged_in(t->s)) {
		tui_note(t, RO_ERROR, "Not logged in (idle logout?): log in, "
		    "then import again; nothing was stored.");
		return;
	}
	if (hd_cert_accept(t->s, ci->path, &o, &res, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	t->note[0] = '\0';
	tui_pop_to_menu(t);
	tui_push(t, &scr_cert_done, &res);	/* it owns res now */
}

static void
root_answer(struct tui *t, void *ctx, int yes)
{
	struct certimp *ci = ctx;
	const struct hd_root *r = new_root(&ci->a);
	char sha256[65];

	snprintf(sha256, sizeof(sha256), "%s", r ? r->sha256 : "");
	do_accept(t, ci, yes && r ? sha256 : NULL);
}

static enum act
chk_go(struct tui *t, struct view *v)
{
	struct certimp *ci = ((struct certchk *)v->st)->ci;
	const struct hd_root *r = new_root(&ci->a);
	struct ask_arg q = { NULL, "Trust it", RO_WARNING,
	    root_answer, ci };
	char text[700];

	if (r == NULL) {
		do_accept(t, ci, NULL);
		return ACT_NONE;
	}
	snprintf(text, sizeof(text), "Trust root '%s' as a trust anchor? "
	    "Only if its fingerprint below is the one your CA gave you. "
	    "Either way the certificate is stored.", r->subject);
	q.question = text;
	tui_push(t, &scr_ask, &q);
	return ACT_NONE;
}

static enum act
chk_back(struct tui *t, struct view *v)
{
	(void)v;
	tui_note(t, RO_NORMAL, "Nothing was stored.");
	return ACT_POP;
}

static const struct binding chk_keys[] = {
	{ '\n', 0, "Enter", "Store it", chk_go },
	{ 27, 0, "Esc", "Back: store nothing", chk_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_cert_checks = {
	.name = "cert-checks",
	.title = "Check the certificate",
	.state_size = sizeof(struct certchk),
	.keys = chk_keys,
	.enter = chk_enter,
	.draw = chk_draw,
};
