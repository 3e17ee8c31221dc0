/*
 * What the request wizard's and Sign files' worker threads share: the
 * question asked when Esc or ^C comes while the token works, and the
 * clock their elapsed time is read from.
 */
#include <time.h>

#include "tui.h"

double
jobask_clock(const struct tui *t)
{
	struct timespec ts;

	if (t->script != NULL)
		return 0;	/* screen tests: a clock that stands still */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A key while the token works: Esc or ^C asks; then only y (or a second
 * ^C) cancels, and anything else goes on. */
void
jobask_key(struct jobask *q, int ch)
{
	pthread_mutex_lock(&q->mu);
	if (!q->asking) {
		q->asking = ch == 27 || ch == 3;
	} else if (ch == 'y' || ch == 'Y' || ch == 3) {
		q->cancel = 1;
		q->asking = 0;
	} else if (ch == 'n' || ch == 'N' || ch == 27 || ch == '\n') {
		q->asking = 0;
	}
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Screen tests: an <ESC> or <^C> next in the script was pressed while
 * the token worked; the answer follows it.  *shown: the screen's own
 * "question open" flag, set while it is asked. */
void
jobask_script(struct tui *t, struct jobask *q, int *shown)
{
	int ch;

	if (q->cancel || !(tui_script_take(t, 27) || tui_script_take(t, 3)))
		return;
	jobask_key(q, 27);
	while (q->asking) {
		*shown = 1;
		tui_render(t);
		if ((ch = tui_getkey(t)) == TUI_KEY_END)
			ch = 'n';
		jobask_key(q, ch);
	}
	*shown = 0;
}
