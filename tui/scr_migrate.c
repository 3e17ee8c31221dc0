/*
 * Migrate to a new HSM, step 1: the plan file that `hsmdesk migrate plan`
 * wrote (Tab completes the path).  Enter reads it, refusing a broken one
 * with the file, line and column, and opens the migration screen
 * (scr_migrate_view.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"

struct migpath {
	struct path_in in;
	char path[4096];
	char why[800];
};

static void
mp_enter(struct tui *t, struct view *v, const void *arg)
{
	struct migpath *m = v->st;

	(void)t;
	(void)arg;
	path_set(&m->in, "./");
}

static void
mp_draw(struct tui *t, struct view *v)
{
	struct migpath *m = v->st;

	draw_wrap(t, 4, 3, t->cols - 6, 3, RO_NORMAL, "The migration plan made "
	    "by 'hsmdesk migrate plan': the identities of the old token, the "
	    "new keys proposed for the new one, and how far each has come.");
	draw_text(t, 8, 3, 10, RO_TITLE, "> Plan");
	path_draw(t, &m->in, 8, 13, t->cols - 16);
	draw_wrap(t, 11, 3, t->cols - 6, 3, RO_DIM, "Tab completes the path. "
	    "Enter shows both tokens and each identity's state; nothing on "
	    "either token is changed here.");
	if (m->why[0] != '\0')
		draw_wrap(t, 14, 3, t->cols - 6, 6, RO_ERROR, m->why);
}

static enum act
mp_go(struct tui *t, struct view *v)
{
	struct migpath *m = v->st;
	struct hd_mig_plan p;
	struct hd_err err;

	m->why[0] = '\0';
	if (m->in.text[0] == '\0' ||
	    path_expand(&m->in, m->path, sizeof(m->path)) == -1) {
		tui_note(t, RO_WARNING, "Type the plan file's name (Tab "
		    "completes).");
		return ACT_NONE;
	}
	/* read once here so that a broken plan is said on this screen */
	if (hd_mig_load(m->path, &p, &err) == -1) {
		snprintf(m->why, sizeof(m->why), "%s.", err.msg);
		if (err.hint[0] != '\0')
			snprintf(m->why + strlen(m->why), sizeof(m->why) -
			    strlen(m->why), " %c%s.", toupper((unsigned char)
			    err.hint[0]), err.hint + 1);
		tui_note(t, RO_ERROR, "The plan was refused.");
		return ACT_NONE;
	}
	hd_mig_free(&p);
	t->note[0] = '\0';
	tui_push(t, &scr_migrate_view, m->path);
	return ACT_NONE;
}

static enum act
mp_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
mp_other(struct tui *t, struct view *v, int ch)
{
	struct migpath *m = v->st;

	(void)t;
	if (path_key(&m->in, ch) == -1)
		return ACT_UNHANDLED;
	m->why[0] = '\0';
	return ACT_NONE;
}

static const struct binding mp_keys[] = {
	{ '\n', 0, "Enter", "Open the plan", mp_go },
	{ 27, 0, "Esc", "Back", mp_back },
	{ '\t', 0, NULL, "Complete the path", NULL },
	{ 21, 0, NULL, "Erase the path", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_migrate = {
	.name = "migrate",
	.title = "Migrate to a new HSM",
	.state_size = sizeof(struct migpath),
	.keys = mp_keys,
	.enter = mp_enter,
	.draw = mp_draw,
	.other = mp_other,
};
