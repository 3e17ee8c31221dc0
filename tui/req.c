/*
 * The request wizard's state (req.h): its life, the clean-up that leaves
 * nothing half made on the token, and the words its screens share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

struct req *
req_new(enum req_mode mode)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->mode = mode;
	return r;
}

void
req_reset_run(struct req *r)
{
	hd_csr_free(&r->csr);
	free(r->record);
	r->record = NULL;
	r->key_made = 0;
	r->saved = 0;
	r->took = 0;
	if (r->mode == REQ_NEW)
		memset(&r->key, 0, sizeof(r->key));
}

int
req_discard(struct tui *t, struct req *r, const char *why)
{
	struct hd_err err;

	if (!r->key_made)
		return 0;
	if (!hd_logged_in(t->s)) {
		tui_note(t, RO_ERROR, "The new key pair '%s' is still on the "
		    "token: deleting it needs a login. Log in (1 in the menu) "
		    "and leave this step again.", r->key.label);
		return -1;
	}
	if (hd_key_delete(t->s, &r->key, &err) == -1) {
		tui_note_err(t, &err);
		return -1;
	}
	tui_note(t, RO_WARNING, "%s: the new key pair '%s' was deleted from "
	    "token '%s'; nothing half made is left.", why, r->key.label,
	    t->ti.label);
	req_reset_run(r);
	return 0;
}

void
req_free(struct tui *t, struct req *r)
{
	struct hd_err err;

	if (r == NULL)
		return;
	if (r->mode == REQ_NEW && r->key_made && !r->saved) {
		if (hd_logged_in(t->s) && hd_key_delete(t->s, &r->key,
		    &err) == 0)
			snprintf(t->exit_note, sizeof(t->exit_note), "the new "
			    "key pair '%s' was deleted: its CSR was never "
			    "saved", r->key.label);
		else
			snprintf(t->exit_note, sizeof(t->exit_note), "the new "
			    "key pair '%s' is still on the token, but its CSR "
			    "was never saved: delete it", r->key.label);
		tui_note(t, RO_WARNING, "%c%s.", t->exit_note[0] - 32,
		    t->exit_note + 1);
	}
	req_reset_run(r);
	free(r);
}

enum act
req_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

void
req_profile_key(const struct hd_profile *p, char *buf, size_t len)
{
	if (p->type == HD_KEY_EC)
		snprintf(buf, len, "EC %s", p->curve);
	else
		snprintf(buf, len, "RSA %u bits", p->bits);
}

void
req_key_words(const struct hd_key *k, char *buf, size_t len)
{
	if (k->curve[0] != '\0')
		snprintf(buf, len, "%s %s", k->type, k->curve);
	else if (k->bits != 0)
		snprintf(buf, len, "%s %u bits", k->type, k->bits);
	else
		snprintf(buf, len, "%s", k->type);
}

static void
join(const char *base, size_t n, size_t stride, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used ? ", " : "", base + i * stride);
	if (buf[0] == '\0')
		snprintf(buf, len, "(none requested)");
}

void
req_eku(const struct hd_profile *p, char *buf, size_t len)
{
	join(p->eku[0], p->neku, sizeof(p->eku[0]), buf, len);
}

void
req_sans(const struct hd_profile *p, char *buf, size_t len)
{
	join(p->san[0], p->nsan, sizeof(p->san[0]), buf, len);
}

const char *
req_tri(enum hd_tri v)
{
	return v == HD_YES ? "yes" : v == HD_NO ? "no" : "not reported";
}

void
req_dn(const struct hd_profile *p, char *buf, size_t len)
{
	struct hd_rdn given[HD_DN_MAX];
	size_t i, n = 0;

	for (i = 0; i < p->nsubject; i++)
		if (p->subject[i].value[0] != '\0')
			given[n++] = p->subject[i];
	hd_dn_order(given, n);
	if (hd_dn_format(given, n, buf, len) == -1)
		snprintf(buf, len, "(too long to show)");
}
