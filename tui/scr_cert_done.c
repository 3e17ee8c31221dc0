/*
 * Import certificate, step 3: what was stored and where, and the SHA-1
 * thumbprint (what signtool /sha1 and Windows' certificate dialogs show)
 * large enough to read out and type.
 */
#include <stdio.h>

#include "tui.h"

struct certdone {
	struct hd_accept a;	/* owned: handed over by the checks screen */
};

static void
done_enter(struct tui *t, struct view *v, const void *arg)
{
	struct certdone *d = v->st;

	(void)t;
	d->a = *(const struct hd_accept *)arg;
}

static void
done_leave(struct tui *t, struct view *v)
{
	struct certdone *d = v->st;

	(void)t;
	hd_accept_free(&d->a);
}

/* Where it went, and why there. */
static void
where_words(struct tui *t, const struct hd_accept *a, char *buf, size_t len)
{
	char id[129];

	hd_hex(a->key.id, a->key.id_len, id, sizeof(id));
	if (a->duplicate)
		snprintf(buf, len, "already %s beside key '%s': nothing "
		    "changed", a->cert.where == HD_CERT_TOKEN ? "on the token" :
		    "in the local store", a->key.label);
	else if (a->cert.where == HD_CERT_TOKEN)
		snprintf(buf, len, "on token '%s', a certificate object beside "
		    "key '%s'", t->ti.label, a->key.label);
	else if (a->refused != 0)
		snprintf(buf, len, "local store: token '%s' refused the "
		    "certificate object (%s); filed under its serial and key "
		    "ID %s", t->ti.label, hd_ckr_name(a->refused), id);
	else
		snprintf(buf, len, "local store (config.yaml: cert_store: "
		    "local), filed under the token's serial and key ID %s", id);
}

static int
root_rows(struct tui *t, const struct hd_accept *a, int y)
{
	size_t i;

	for (i = 0; i < a->nroots; i++) {
		const struct hd_root *r = &a->roots[i];

		if (r->trusted == 2)
			y += cert_row(t, y, "Root", RO_OK, "now a trust anchor "
			    "(you confirmed its fingerprint)");
		else if (r->trusted == 0)
			y += cert_row(t, y, "Root", RO_WARNING, "not trusted: "
			    "kept as chain material only");
	}
	return y;
}

static void
done_draw(struct tui *t, struct view *v)
{
	const struct hd_accept *a = &((struct certdone *)v->st)->a;
	char buf[700], g[80], unused[8];
	int y = 10;

	draw_text(t, 4, 3, t->cols - 6, a->stored ? RO_OK : RO_NORMAL, "%s",
	    a->stored ? "Imported. The key can sign with this certificate." :
	    "Already there: nothing was changed.");
	draw_text(t, 6, 3, t->cols - 6, RO_DIM, "SHA-1 thumbprint "
	    "(signtool /sha1, Windows' certificate dialog)");
	cert_groups(a->cert.sha1, g, unused, sizeof(g));
	draw_text(t, 7, 5, t->cols - 8, RO_TITLE, "%s", g);
	draw_text(t, 8, 5, t->cols - 8, RO_NORMAL, "%s", a->cert.sha1);
	y += cert_row(t, y, "Subject", RO_NORMAL, a->cert.subject);
	cert_validity(&a->cert, buf, sizeof(buf));
	y += cert_row(t, y, "Valid", cert_role(&a->cert), buf);
	where_words(t, a, buf, sizeof(buf));
	y += cert_row(t, y, "Stored", RO_NORMAL, buf);
	if (a->nchain > 0) {
		snprintf(buf, sizeof(buf), "%zu more certificate%s in the file, "
		    "%zu new in the local store", a->nchain, a->nchain == 1 ?
		    "" : "s", a->chain_added);
		y += cert_row(t, y, "Chain", RO_NORMAL, buf);
	}
	y = root_rows(t, a, y);
	draw_text(t, y + 1, 3, t->cols - 6, RO_TITLE, "Next: 5  Find by "
	    "thumbprint lists it; 6  Sign files signs with it.");
}

static enum act
done_menu(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
done_find(struct tui *t, struct view *v)
{
	(void)v;
	tui_pop_to_menu(t);
	tui_push(t, &scr_certs, NULL);
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 27, "Enter", "Back to the menu (also Esc)", done_menu },
	{ '5', 'f', "5", "Find by thumbprint", done_find },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_cert_done = {
	.name = "cert-done",
	.title = "Certificate imported",
	.state_size = sizeof(struct certdone),
	.keys = keys,
	.enter = done_enter,
	.draw = done_draw,
	.leave = done_leave,
};
