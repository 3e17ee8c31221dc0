/*
 * Request wizard, step 3: everything that will happen, before it does:
 * the key, whether it can leave the token, the usages, the subject as
 * encoded, the label and the token.  Enter goes on; without a login it
 * goes to Log in first, and back here.
 */
#include <stdio.h>

#include "req.h"

struct rconf {
	struct req *r;
	int sent_to_login;
};

static void
conf_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rconf *c = v->st;

	(void)t;
	c->r = (struct req *)arg;
}

static int
row(struct tui *t, int y, const char *name, enum role r, const char *value)
{
	draw_text(t, y, 3, 14, RO_DIM, "%s", name);
	return draw_wrap(t, y, 17, t->cols - 20, 2, r, value);
}

static int
key_rows(struct tui *t, const struct req *r, int y)
{
	char buf[300], key[64], k2[64];

	req_profile_key(&r->p, key, sizeof(key));
	if (r->mode == REQ_RENEW) {
		req_key_words(&r->key, k2, sizeof(k2));
		snprintf(buf, sizeof(buf), "the existing key '%s', %s; the "
		    "profile's key settings (%s) are not used", r->key.label,
		    k2, key);
		y += row(t, y, "Key", RO_NORMAL, buf);
		y += row(t, y, "Exportable", r->key.extractable == HD_NO &&
		    r->key.sensitive == HD_YES ? RO_OK : RO_ERROR,
		    r->key.extractable == HD_NO && r->key.sensitive == HD_YES ?
		    "no: sensitive, cannot leave the token (as it says)" :
		    "EXPORTABLE or not sensitive: the private key can leave "
		    "the token");
		return y;
	}
	snprintf(buf, sizeof(buf), "%s, generated inside the token", key);
	y += row(t, y, "Key", RO_NORMAL, buf);
	y += row(t, y, "Exportable", r->p.exportable ? RO_ERROR : RO_OK,
	    r->p.exportable ? "EXPORTABLE: the profile says the private key "
	    "may be copied off the token" : "no: sensitive, never leaves the "
	    "token");
	y += row(t, y, "Key label", RO_NORMAL, r->label);
	return y;
}

static void
conf_draw(struct tui *t, struct view *v)
{
	struct rconf *c = v->st;
	const struct req *r = c->r;
	char buf[4400], path[4200];
	int y;

	snprintf(buf, sizeof(buf), "%s (%s)", r->p.name, tui_tilde(r->p.path,
	    path, sizeof(path)));
	y = 4 + row(t, 4, "Profile", RO_NORMAL, buf);
	y = key_rows(t, r, y);
	req_dn(&r->p, buf, sizeof(buf));
	y += row(t, y, "Subject", RO_TITLE, buf);
	req_sans(&r->p, buf, sizeof(buf));
	y += row(t, y, "Alt. names", RO_NORMAL, buf);
	hd_ku_words(r->p.key_usage, buf, sizeof(buf));
	y += row(t, y, "Key usage", RO_NORMAL, buf);
	req_eku(&r->p, buf, sizeof(buf));
	y += row(t, y, "Extended use", RO_NORMAL, buf);
	y += row(t, y, "Signature", RO_NORMAL, r->p.hash);
	if (r->p.cert_template[0] != '\0')
		y += row(t, y, "CA template", RO_NORMAL, r->p.cert_template);
	snprintf(buf, sizeof(buf), "%s (serial %s, %s)", t->ti.label,
	    t->ti.serial, t->ti.model);
	y += row(t, y, "Token", RO_NORMAL, t->ti.present ? buf : "none");
	if (!hd_logged_in(t->s))
		draw_wrap(t, y + 1, 3, t->cols - 6, 2, RO_WARNING, "Not logged "
		    "in: Enter opens Log in first, then comes back here.");
	else if (c->sent_to_login)
		draw_wrap(t, y + 1, 3, t->cols - 6, 2, RO_OK, "Logged in. Enter "
		    "goes on from here; Esc goes back to the subject.");
	else
		draw_wrap(t, y + 1, 3, t->cols - 6, 2, RO_DIM, r->mode ==
		    REQ_NEW ? "Enter generates the key pair inside the token "
		    "and signs the CSR there. Esc goes back to the subject." :
		    "Enter signs the CSR inside the token. Esc goes back to the "
		    "subject.");
}

static enum act
conf_go(struct tui *t, struct view *v)
{
	struct rconf *c = v->st;

	tui_refresh_token(t);
	if (!t->ti.present) {
		tui_note(t, RO_ERROR, "No token: nothing was done.");
		return ACT_NONE;
	}
	if (!hd_logged_in(t->s)) {
		c->sent_to_login = 1;
		tui_push(t, &scr_login, NULL);
		tui_note(t, RO_WARNING, "Log in first; Esc or the login brings "
		    "you back to the request.");
		return ACT_NONE;
	}
	t->note[0] = '\0';
	tui_push(t, &scr_req_run, c->r);
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Go: make it on the token", conf_go },
	{ 27, 0, "Esc", "Back to the subject", req_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_confirm = {
	.name = "req-confirm",
	.title = "Check the request",
	.state_size = sizeof(struct rconf),
	.keys = keys,
	.enter = conf_enter,
	.draw = conf_draw,
};
