/* A scrolling selection: cursor and first visible row kept consistent. */
#include "tui.h"

void
list_fix(struct list *l, int rows)
{
	if (l->cur >= l->n)
		l->cur = l->n - 1;
	if (l->cur < 0)
		l->cur = 0;
	if (rows < 1)
		rows = 1;
	if (l->top > l->cur)
		l->top = l->cur;
	if (l->cur >= l->top + rows)
		l->top = l->cur - rows + 1;
	if (l->top > l->n - rows)
		l->top = l->n - rows;
	if (l->top < 0)
		l->top = 0;
}

/* Movement keys; returns 1 if the key moved (or tried to move) the cursor. */
int
list_key(struct list *l, int ch, int rows)
{
	switch (ch) {
	case KEY_UP: case 'k': l->cur--; break;
	case KEY_DOWN: case 'j': l->cur++; break;
	case KEY_PPAGE: l->cur -= rows; break;
	case KEY_NPAGE: l->cur += rows; break;
	case KEY_HOME: l->cur = 0; break;
	case KEY_END: l->cur = l->n - 1; break;
	default: return 0;
	}
	list_fix(l, rows);
	return 1;
}
