/*
 * Request wizard, step 1 (other way): a certreq INF file instead of a
 * profile.  Its [NewRequest] becomes the profile; keys that mean nothing
 * on PKCS#11 are said to be ignored.  Exportable=True is refused: the
 * TUI makes keys that cannot leave the token, and only the CLI's
 * --allow-exportable, said explicitly, makes another kind.
 */
#include <stdio.h>
#include <string.h>

#include "req.h"

struct rinf {
	struct req *r;
	struct path_in in;
	struct hd_profile tmp;
	char msg[1100];
};

static void
inf_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rinf *ri = v->st;

	(void)t;
	ri->r = (struct req *)arg;
	path_set(&ri->in, "");
}

static void
inf_draw(struct tui *t, struct view *v)
{
	struct rinf *ri = v->st;

	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "The certreq INF file "
	    "(request.inf) whose [NewRequest] to use:");
	draw_text(t, 6, 3, 10, RO_TITLE, "> File");
	path_draw(t, &ri->in, 6, 13, t->cols - 16);
	if (ri->msg[0] != '\0')
		draw_wrap(t, 9, 3, t->cols - 6, 5, RO_ERROR, ri->msg);
	draw_wrap(t, t->rows - 8, 3, t->cols - 6, 4, RO_DIM, "Tab completes "
	    "the path. Read: Subject, KeyAlgorithm, KeyLength, HashAlgorithm, "
	    "KeyUsage, FriendlyName, RequestType and the extended key usages. "
	    "ProviderName, MachineKeySet and the like mean nothing on PKCS#11 "
	    "and are listed as ignored.");
}

/* Why the file failed; Exportable=True gets the TUI's own answer. */
static void
inf_refused(struct rinf *ri, const char *path, const struct hd_err *err)
{
	struct hd_err e2;

	if (hd_inf_load(&ri->tmp, path, 1, &e2) == 0 && ri->tmp.exportable) {
		snprintf(ri->msg, sizeof(ri->msg), "%s asks for an exportable "
		    "key (Exportable=True): refused. The terminal UI makes only "
		    "keys that can never leave the token. If your policy really "
		    "wants an exportable key, the CLI makes one when told so: "
		    "hsmdesk request --inf FILE --allow-exportable.", path);
		return;
	}
	snprintf(ri->msg, sizeof(ri->msg), "%s%s%s", err->msg,
	    err->hint[0] ? ". " : "", err->hint);
}

static void
ignored_words(const struct hd_profile *p, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nignored && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? ", " : "", p->ignored[i]);
}

static enum act
inf_load(struct tui *t, struct view *v)
{
	struct rinf *ri = v->st;
	struct req *r = ri->r;
	char path[4096], ign[600];
	struct hd_err err;

	if (ri->in.text[0] == '\0' ||
	    path_expand(&ri->in, path, sizeof(path)) == -1) {
		snprintf(ri->msg, sizeof(ri->msg), "Type the INF file's path "
		    "(Tab completes).");
		return ACT_NONE;
	}
	if (hd_inf_load(&ri->tmp, path, 0, &err) == -1) {
		inf_refused(ri, path, &err);
		return ACT_NONE;
	}
	r->base = ri->tmp;
	ignored_words(&r->base, ign, sizeof(ign));
	if (ign[0] != '\0')
		tui_note(t, RO_WARNING, "Read %s. Ignored, as they mean nothing "
		    "on PKCS#11: %s.", path, ign);
	else
		tui_note(t, RO_OK, "Read %s.", path);
	tui_pop(t);		/* ri is gone from here on */
	tui_push(t, &scr_req_subject, r);
	return ACT_NONE;
}

static enum act
inf_other(struct tui *t, struct view *v, int ch)
{
	struct rinf *ri = v->st;

	(void)t;
	if (path_key(&ri->in, ch) == -1)
		return ACT_UNHANDLED;
	ri->msg[0] = '\0';
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Read the INF file", inf_load },
	{ 27, 0, "Esc", "Back", req_back },
	{ '\t', 0, NULL, "Complete the path", NULL },
	{ 21, 0, NULL, "Erase the path", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_inf = {
	.name = "req-inf",
	.title = "Load a certreq INF file",
	.state_size = sizeof(struct rinf),
	.keys = keys,
	.enter = inf_enter,
	.draw = inf_draw,
	.other = inf_other,
};
