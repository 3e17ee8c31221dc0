/*
 * Help: every binding of every screen, drawn from the very tables the
 * key handling uses, so it cannot drift from what the keys do.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

struct help {
	struct list l;
};

/* Line i of the help text; returns 0 past the end. */
static int
help_line(int i, char *buf, size_t len, int *title)
{
	const struct screen *const *s;
	const struct binding *b;
	char k1[16], k2[16];
	int n = 0;

	for (s = tui_screens; ; s++) {
		const struct binding *tab = *s ? (*s)->keys : tui_global_keys;

		if (n++ == i) {
			*title = 1;
			snprintf(buf, len, "%s", *s ? (*s)->title :
			    "Everywhere");
			return 1;
		}
		for (b = tab; b->key != 0; b++) {
			if (n++ != i)
				continue;
			*title = 0;
			tui_keyname(b->key, k1, sizeof(k1));
			if (b->key2 != 0)
				tui_keyname(b->key2, k2, sizeof(k2));
			snprintf(buf, len, "  %-6s %-6s %s", b->name ? b->name :
			    k1, b->key2 ? k2 : "", b->help);
			return 1;
		}
		if (*s == NULL)
			return 0;
	}
}

static int
help_count(void)
{
	char buf[160];
	int n = 0, title;

	while (help_line(n, buf, sizeof(buf), &title))
		n++;
	return n;
}

static void
help_enter(struct tui *t, struct view *v, const void *arg)
{
	struct help *h = v->st;

	(void)t;
	(void)arg;
	h->l.n = help_count();
}

static int
help_rows(const struct tui *t)
{
	return t->rows - 7;
}

static void
help_draw(struct tui *t, struct view *v)
{
	struct help *h = v->st;
	char buf[160];
	int i, title;

	list_fix(&h->l, help_rows(t));
	/* scroll by page: the cursor is the first line shown */
	h->l.top = h->l.cur;
	for (i = 0; i < help_rows(t); i++) {
		if (!help_line(h->l.top + i, buf, sizeof(buf), &title))
			break;
		draw_text(t, 4 + i, 2, t->cols - 4, title ? RO_TITLE : RO_NORMAL,
		    "%s", buf);
	}
	draw_text(t, 3, t->cols - 14, 12, RO_DIM, " %d/%d ", h->l.top + 1,
	    h->l.n);
}

static enum act
help_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static enum act
help_other(struct tui *t, struct view *v, int ch)
{
	struct help *h = v->st;

	return list_key(&h->l, ch, help_rows(t)) ? ACT_NONE : ACT_UNHANDLED;
}

static const struct binding keys[] = {
	{ 27, 'q', "Esc", "Back", help_back },
	{ KEY_DOWN, 'j', NULL, "Scroll (also PgUp, PgDn, Home, End)", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_help = {
	.name = "help",
	.title = "Help",
	.state_size = sizeof(struct help),
	.keys = keys,
	.enter = help_enter,
	.draw = help_draw,
	.other = help_other,
};
