/*
 * Request wizard, step 6: where the CSR goes.  A path prompt with Tab
 * completion, ./<label>.csr to begin with; PEM unless DER is chosen.  An
 * existing file is replaced only after a question whose default is No.
 * The key ceremony record is written beside the CSR, both atomically
 * (temp file, fsync, rename) by the core.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "req.h"

struct rsave {
	struct req *r;
	struct path_in in;
	char path[4096];	/* being saved, as typed (~ expanded) */
	char rec[4200];		/* its ceremony record */
};

static void
save_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rsave *sv = v->st;
	struct req *r = (struct req *)arg;
	char name[160];
	size_t i;

	(void)t;
	sv->r = r;
	if (r->path[0] != '\0') {
		path_set(&sv->in, r->path);
		return;
	}
	snprintf(name, sizeof(name), "%s", r->key.label[0] ? r->key.label :
	    "request");
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '/' || name[i] == ' ')
			name[i] = '-';
	snprintf(sv->in.text, sizeof(sv->in.text), "./%s.csr", name);
}

static void
save_draw(struct tui *t, struct view *v)
{
	struct rsave *sv = v->st;
	const struct req *r = sv->r;
	char rec[4200];

	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Save the CSR (PKCS#10) "
	    "for the CA.");
	draw_text(t, 6, 3, 10, RO_TITLE, "> File");
	path_draw(t, &sv->in, 6, 13, t->cols - 16);
	draw_text(t, 9, 3, 10, RO_DIM, "Format");
	draw_text(t, 9, 13, t->cols - 16, RO_NORMAL, " %s", r->der ? "DER "
	    "(binary)" : "PEM (-----BEGIN CERTIFICATE REQUEST-----)");
	if (r->mode == REQ_NEW) {
		if (hd_ceremony_path(sv->in.text, rec, sizeof(rec)) == -1)
			rec[0] = '\0';
		draw_text(t, 10, 3, 10, RO_DIM, "Record");
		draw_text(t, 10, 13, t->cols - 16, RO_NORMAL, " %s", rec);
	}
	draw_wrap(t, 12, 3, t->cols - 6, 3, RO_DIM, "Tab completes the path. "
	    "F3 switches between PEM and DER. An existing file is replaced "
	    "only if you say so; the default answer is No.");
}

static void
done(struct tui *t, struct rsave *sv)
{
	struct req *r = sv->r;

	r->saved = 1;
	snprintf(r->path, sizeof(r->path), "%s", sv->in.text);
	tui_note(t, RO_OK, "Saved %s%s.", sv->path, r->record_path[0] ?
	    " and its ceremony record" : "");
	tui_push(t, &scr_req_done, r);
}

/* The record names the CSR by its full path; written like the CSR. */
static int
write_record(struct tui *t, struct rsave *sv, int replace)
{
	struct req *r = sv->r;
	char full[PATH_MAX], *text = NULL;
	struct hd_err err;
	int rc;

	if (realpath(sv->path, full) == NULL)
		snprintf(full, sizeof(full), "%s", sv->path);
	if (hd_ceremony_text(t->s, &r->p, &r->key, &r->csr, full, &text,
	    &err) == -1) {
		tui_note(t, RO_ERROR, "The CSR was saved as %s, but its "
		    "ceremony record was not: %s.", sv->path, err.msg);
		return -1;
	}
	rc = hd_write_file(sv->rec, text, strlen(text), 0644, replace, &err);
	free(text);
	if (rc == -1) {
		tui_note(t, RO_ERROR, "The CSR was saved as %s, but its "
		    "ceremony record was not: %s.", sv->path, err.msg);
		return -1;
	}
	snprintf(r->record_path, sizeof(r->record_path), "%s", sv->rec);
	return 0;
}

static void
write_all(struct tui *t, struct rsave *sv, int replace)
{
	struct req *r = sv->r;
	struct hd_err err;

	if (hd_csr_write(&r->csr, sv->path, r->der, replace, &err) == -1) {
		tui_note_err(t, &err);
		return;
	}
	r->record_path[0] = '\0';
	if (r->mode == REQ_NEW && write_record(t, sv, replace) == -1) {
		r->saved = 1;	/* the CSR is out: the key pair must stay */
		snprintf(r->path, sizeof(r->path), "%s", sv->in.text);
		tui_push(t, &scr_req_done, r);
		return;
	}
	done(t, sv);
}

static void
overwrite_answer(struct tui *t, void *ctx, int yes)
{
	struct rsave *sv = ctx;

	if (yes)
		write_all(t, sv, 1);
	else
		tui_note(t, RO_WARNING, "Not overwritten: %s is unchanged. "
		    "Type another name, or Enter to be asked again.", sv->path);
}

static int
exists(const char *path)
{
	struct stat st;

	return path[0] != '\0' && stat(path, &st) == 0;
}

static enum act
save_go(struct tui *t, struct view *v)
{
	struct rsave *sv = v->st;
	struct ask_arg a = { NULL, "Overwrite", RO_WARNING, overwrite_answer,
	    sv };
	char q[600];
	struct stat st;

	sv->rec[0] = '\0';
	if (sv->in.text[0] == '\0' ||
	    path_expand(&sv->in, sv->path, sizeof(sv->path)) == -1) {
		tui_note(t, RO_WARNING, "Type the file's name (Tab completes).");
		return ACT_NONE;
	}
	if (stat(sv->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		tui_note(t, RO_WARNING, "%s is a directory: add a file name.",
		    sv->path);
		return ACT_NONE;
	}
	if (sv->r->mode == REQ_NEW &&
	    hd_ceremony_path(sv->path, sv->rec, sizeof(sv->rec)) == -1) {
		tui_note(t, RO_ERROR, "%s: path too long.", sv->path);
		return ACT_NONE;
	}
	if (!exists(sv->path) && !exists(sv->rec)) {
		write_all(t, sv, 0);
		return ACT_NONE;
	}
	if (exists(sv->path) && exists(sv->rec))
		snprintf(q, sizeof(q), "%s and its ceremony record exist "
		    "already. Overwrite both?", sv->path);
	else
		snprintf(q, sizeof(q), "%s exists already. Overwrite it?",
		    exists(sv->path) ? sv->path : sv->rec);
	a.question = q;
	tui_push(t, &scr_ask, &a);
	return ACT_NONE;
}

static enum act
save_der(struct tui *t, struct view *v)
{
	struct rsave *sv = v->st;

	(void)t;
	sv->r->der = !sv->r->der;
	return ACT_NONE;
}

static enum act
save_other(struct tui *t, struct view *v, int ch)
{
	struct rsave *sv = v->st;

	(void)t;
	return path_key(&sv->in, ch) == -1 ? ACT_UNHANDLED : ACT_NONE;
}

static const struct binding keys[] = {
	{ '\n', 0, "Enter", "Save", save_go },
	{ KEY_F(3), 0, "F3", "PEM or DER", save_der },
	{ 27, 0, "Esc", "Back", req_back },
	{ '\t', 0, NULL, "Complete the path", NULL },
	{ 21, 0, NULL, "Erase the path", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_save = {
	.name = "req-save",
	.title = "Save the CSR",
	.state_size = sizeof(struct rsave),
	.keys = keys,
	.enter = save_enter,
	.draw = save_draw,
	.other = save_other,
};
