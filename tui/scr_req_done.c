/*
 * Request wizard, step 7: what was made and where it went, and the next
 * step of the lifecycle: the CA's certificate, imported beside its key.
 */
#include <stdio.h>

#include "req.h"

struct rdone {
	struct req *r;
};

static void
done_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rdone *d = v->st;

	(void)t;
	d->r = (struct req *)arg;
}

static int
row(struct tui *t, int y, const char *name, enum role r, const char *value)
{
	draw_text(t, y, 3, 14, RO_DIM, "%s", name);
	return draw_wrap(t, y, 17, t->cols - 20, 2, r, value);
}

static void
done_draw(struct tui *t, struct view *v)
{
	const struct req *r = ((struct rdone *)v->st)->r;
	char buf[4300];
	int y = 6;

	draw_wrap(t, 4, 3, t->cols - 6, 2, RO_OK, "Done. Send the CSR to your "
	    "CA; when the certificate comes back, import it beside its key.");
	y += row(t, y, "Subject", RO_TITLE, r->csr.subject);
	y += row(t, y, "Key label", RO_NORMAL, r->key.label);
	hd_hex(r->key.id, r->key.id_len, buf, sizeof(buf));
	y += row(t, y, "Key ID", RO_NORMAL, buf);
	hd_ku_words(r->p.key_usage, buf, sizeof(buf));
	y += row(t, y, "Key usage", RO_NORMAL, buf);
	req_eku(&r->p, buf, sizeof(buf));
	y += row(t, y, "Extended use", RO_NORMAL, buf);
	req_sans(&r->p, buf, sizeof(buf));
	y += row(t, y, "Alt. names", RO_NORMAL, buf);
	draw_text(t, y++, 3, 14, RO_DIM, "CSR SHA-256");
	draw_text(t, y++, 5, t->cols - 8, RO_NORMAL, "%s", r->csr.sha256);
	snprintf(buf, sizeof(buf), "%s (%s)", r->path, r->der ? "DER" : "PEM");
	y += row(t, y, "Saved as", RO_NORMAL, buf);
	if (r->mode == REQ_NEW && r->record_path[0] != '\0' &&
	    hd_ceremony_path(r->path, buf, sizeof(buf)) == 0)
		y += row(t, y, "Record", RO_NORMAL, buf);
	else if (r->mode == REQ_NEW)
		y += row(t, y, "Record", RO_ERROR, "NOT saved (see the message "
		    "above); the CSR and the key pair are kept");
	draw_text(t, y + 1, 3, t->cols - 6, RO_TITLE, "Next: i  Import "
	    "certificate, once the CA has answered.");
}

static enum act
done_menu(struct tui *t, struct view *v)
{
	(void)v;
	tui_pop_to_menu(t);
	return ACT_NONE;
}

static enum act
done_import(struct tui *t, struct view *v)
{
	(void)v;
	tui_pop_to_menu(t);
	t->note[0] = '\0';
	tui_push(t, &scr_cert_import, NULL);
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ 'i', 0, "i", "Import certificate", done_import },
	{ '\n', 27, "Enter", "Back to the menu (also Esc)", done_menu },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_done = {
	.name = "req-done",
	.title = "CSR saved",
	.state_size = sizeof(struct rdone),
	.keys = keys,
	.enter = done_enter,
	.draw = done_draw,
};
