/* Messages: what libp11 and the module printed while curses was up. */
#include "tui.h"

struct msgs {
	struct list l;
};

static int
msgs_rows(const struct tui *t)
{
	return t->rows - 7;
}

static void
msgs_enter(struct tui *t, struct view *v, const void *arg)
{
	struct msgs *m = v->st;

	(void)arg;
	msglog_poll(t);
	t->unseen = 0;
	m->l.n = t->nmsgs;
	m->l.cur = t->nmsgs - 1;
	list_fix(&m->l, msgs_rows(t));
}

static void
msgs_draw(struct tui *t, struct view *v)
{
	struct msgs *m = v->st;
	int i;

	t->unseen = 0;
	if (t->nmsgs == 0) {
		draw_text(t, 4, 2, t->cols - 4, RO_DIM, "Nothing was printed by "
		    "the PKCS#11 module or libp11.");
		return;
	}
	m->l.n = t->nmsgs;
	list_fix(&m->l, msgs_rows(t));
	for (i = 0; i < msgs_rows(t) && m->l.top + i < t->nmsgs; i++)
		draw_text(t, 4 + i, 2, t->cols - 4, RO_NORMAL, "%s",
		    t->msgs[m->l.top + i]);
}

static enum act
msgs_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
msgs_other(struct tui *t, struct view *v, int ch)
{
	struct msgs *m = v->st;

	return list_key(&m->l, ch, msgs_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ 27, 'q', "Esc", "Back", msgs_back },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_msgs = {
	.name = "messages",
	.title = "Messages from the module",
	.state_size = sizeof(struct msgs),
	.keys = keys,
	.enter = msgs_enter,
	.draw = msgs_draw,
	.other = msgs_other,
};
