/*
 * Delete key pair, from Token & keys: e.g. a key whose CSR the CA
 * rejected.  Deleting cannot be undone, so a y/N question is not enough:
 * the operator types the key's label (its CKA_ID in hex if it has none),
 * as `delete-key` on the command line needs --yes.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

struct delkey {
	struct hd_key key;
	char want[160];		/* what must be typed */
	struct form fm;
};

static void
dk_enter(struct tui *t, struct view *v, const void *arg)
{
	struct delkey *d = v->st;

	(void)t;
	d->key = *(const struct hd_key *)arg;
	if (d->key.label[0] != '\0')
		snprintf(d->want, sizeof(d->want), "%s", d->key.label);
	else
		hd_hex(d->key.id, d->key.id_len, d->want, sizeof(d->want));
	form_add_text(&d->fm, d->key.label[0] ? "Type the label" :
	    "Type the ID", "", sizeof(d->want) - 1);
	d->fm.f[0].utf8 = 1;
}

static void
dk_leave(struct tui *t, struct view *v)
{
	struct delkey *d = v->st;

	(void)t;
	form_free(&d->fm);
}

static void
dk_draw(struct tui *t, struct view *v)
{
	struct delkey *d = v->st;
	char id[129];
	int w = t->cols - 6;

	hd_hex(d->key.id, d->key.id_len, id, sizeof(id));
	draw_text(t, 4, 3, w, RO_NORMAL, "Key label    %s", d->key.label[0] ?
	    d->key.label : "(none)");
	draw_text(t, 5, 3, w, RO_NORMAL, "Key ID       %s", id);
	if (d->key.curve[0] != '\0')
		draw_text(t, 6, 3, w, RO_NORMAL, "Type         %s %s",
		    d->key.type, d->key.curve);
	else
		draw_text(t, 6, 3, w, RO_NORMAL, "Type         %s-%u",
		    d->key.type, d->key.bits);
	draw_text(t, 7, 3, w, RO_NORMAL, "Certificate  %s", d->key.has_cert ?
	    "yes, deleted with the key" : "none");
	draw_wrap(t, 9, 3, w, 3, RO_ERROR, "This deletes the private key, its "
	    "public key and certificate from the token. It cannot be undone: "
	    "whatever was signed with it stays signed, but nothing more can be, "
	    "and a certificate issued for it becomes useless.");
	form_draw(t, &d->fm, 13, 3);
	draw_text(t, 15, 3, w, RO_DIM, "Type '%s' exactly and press Enter; "
	    "Esc keeps the key.", d->want);
}

static enum act
dk_back(struct tui *t, struct view *v)
{
	(void)v;
	tui_note(t, RO_NORMAL, "Nothing was deleted.");
	return ACT_POP;
}

static enum act
dk_go(struct tui *t, struct view *v)
{
	struct delkey *d = v->st;
	struct hd_err err;

	if (strcmp(d->fm.f[0].text, d->want) != 0) {
		tui_note(t, RO_ERROR, "That is not '%s'; nothing was deleted.",
		    d->want);
		d->fm.f[0].text[0] = '\0';
		return ACT_NONE;
	}
	if (!hd_logged_in(t->s)) {
		tui_note(t, RO_ERROR, "Not logged in (idle logout?): log in, "
		    "then delete again; nothing was deleted.");
		return ACT_POP;
	}
	if (hd_key_delete(t->s, &d->key, &err) == -1) {
		tui_note_err(t, &err);
		return ACT_NONE;
	}
	t->keys_gen++;
	tui_note(t, RO_OK, "Key pair '%s' deleted%s.", d->want,
	    d->key.has_cert ? " with its certificate" : "");
	return ACT_POP;
}

static enum act
dk_other(struct tui *t, struct view *v, int ch)
{
	struct delkey *d = v->st;
	int r = form_key(&d->fm, ch);

	if (r == 1)
		return dk_go(t, v);
	return r == -1 ? ACT_UNHANDLED : ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', KEY_ENTER, "Enter", "Delete, if the label is typed exactly",
	  dk_go },
	{ 27, 0, "Esc", "Back: keep the key", dk_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_delkey = {
	.name = "delkey",
	.title = "Delete key pair",
	.state_size = sizeof(struct delkey),
	.keys = keys,
	.enter = dk_enter,
	.draw = dk_draw,
	.other = dk_other,
	.leave = dk_leave,
};
