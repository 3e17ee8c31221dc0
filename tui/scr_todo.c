/* A step that a later release builds: said plainly, nothing pretended. */
#include "tui.h"

struct todo {
	const struct todo_arg *a;
};

static void
todo_enter(struct tui *t, struct view *v, const void *arg)
{
	struct todo *d = v->st;

	(void)t;
	d->a = arg;
}

static void
todo_draw(struct tui *t, struct view *v)
{
	struct todo *d = v->st;

	draw_text(t, 4, 3, t->cols - 6, RO_TITLE, "%s", d->a->title);
	draw_text(t, 6, 3, t->cols - 6, RO_WARNING, "This step is not built "
	    "yet.");
	draw_wrap(t, 8, 3, t->cols - 6, 4, RO_NORMAL, d->a->what);
	draw_wrap(t, 13, 3, t->cols - 6, 3, RO_DIM, "Nothing on this screen "
	    "touches the token. Esc goes back.");
}

static enum act
todo_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static const struct binding keys[] = {
	{ 27, 'q', "Esc", "Back", todo_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_todo = {
	.name = "todo",
	.title = "Not built yet",
	.state_size = sizeof(struct todo),
	.keys = keys,
	.enter = todo_enter,
	.draw = todo_draw,
};
