/*
 * A yes/no question drawn over the screen that asked it.  Only y says
 * yes; n, Enter and Esc say no, so a destructive answer is never the
 * default.  The dialog closes before the answer is handed back, so the
 * asking screen may close itself or open another.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

struct ask {
	struct ask_arg a;
	char question[600];
};

static void
ask_enter(struct tui *t, struct view *v, const void *arg)
{
	struct ask *q = v->st;

	(void)t;
	q->a = *(const struct ask_arg *)arg;
	snprintf(q->question, sizeof(q->question), "%s", q->a.question);
	q->a.question = q->question;
}

/* The question in a box in the middle of the screen. */
void
ask_box(struct tui *t, const char *question, const char *yes, enum role r)
{
	int w = t->cols - 16, h = 7, y = (t->rows - h) / 2, x = 8, i;

	for (i = 0; i < h; i++)
		draw_text(t, y + i, x, w, RO_NORMAL, "%*s", w, "");
	draw_box(t, y, x, h, w, "Question");
	draw_wrap(t, y + 1, x + 2, w - 4, 3, r, question);
	draw_text(t, y + h - 2, x + 2, w - 4, RO_TITLE, "y: %s    n, Enter "
	    "or Esc: No (the default)", yes);
}

static void
ask_draw(struct tui *t, struct view *v)
{
	struct ask *q = v->st;
	struct view *below = v - 1;

	if (v > t->stack && below->scr->draw != NULL)
		below->scr->draw(t, below);
	ask_box(t, q->question, q->a.yes, q->a.role);
}

static enum act
answer(struct tui *t, struct view *v, int yes)
{
	struct ask_arg a = ((struct ask *)v->st)->a;

	tui_pop(t);		/* v is gone from here on */
	if (a.answer != NULL)
		a.answer(t, a.ctx, yes);
	return ACT_NONE;
}

static enum act ask_yes(struct tui *t, struct view *v)
	{ return answer(t, v, 1); }
static enum act ask_no(struct tui *t, struct view *v)
	{ return answer(t, v, 0); }

static const struct binding keys[] = {
	{ 'y', 'Y', "y", "Yes", ask_yes },
	{ 'n', 'N', "n", "No", ask_no },
	{ '\n', 27, "Enter", "No", ask_no },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_ask = {
	.name = "ask",
	.title = "Question",
	.state_size = sizeof(struct ask),
	.keys = keys,
	.enter = ask_enter,
	.draw = ask_draw,
};
