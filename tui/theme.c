/*
 * Colour is a role, never a raw colour in a screen.  NO_COLOR
 * (https://no-color.org) and terminals without colour get attributes
 * only: bold, reverse, underline, dim, so every role stays readable.
 */
#include <stdlib.h>

#include "tui.h"

static const struct {
	short fg, bg;
	attr_t mono;	/* used alone without colour, or with it */
	attr_t extra;
} roles[RO__COUNT] = {
	[RO_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
	[RO_TITLE] = { COLOR_CYAN, -1, A_BOLD, A_BOLD },
	[RO_SELECTED] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE, A_NORMAL },
	[RO_ERROR] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[RO_WARNING] = { COLOR_YELLOW, -1, A_UNDERLINE, A_BOLD },
	[RO_OK] = { COLOR_GREEN, -1, A_NORMAL, A_BOLD },
	[RO_DIM] = { -1, -1, A_DIM, A_DIM },
	[RO_STATUS] = { COLOR_BLACK, COLOR_WHITE, A_REVERSE, A_NORMAL },
};

void
theme_init(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");
	short i;

	t->color = has_colors() && (nc == NULL || *nc == '\0');
	if (!t->color)
		return;
	start_color();
	use_default_colors();
	for (i = 1; i < RO__COUNT; i++)
		init_pair(i, roles[i].fg, roles[i].bg);
}

static attr_t
role_attr(const struct tui *t, enum role r)
{
	if (!t->color)
		return roles[r].mono;
	return (r == RO_NORMAL ? 0 : COLOR_PAIR(r)) | roles[r].extra;
}

void
role_on(struct tui *t, enum role r)
{
	attron(role_attr(t, r));
}

void
role_off(struct tui *t, enum role r)
{
	attroff(role_attr(t, r));
}
