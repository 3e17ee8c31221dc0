/*
 * The progress bar of long file operations: one line on stderr, redrawn
 * at most five times a second, shown only when stderr is a terminal and
 * -q was not given.  Its callback is also where Ctrl-C is seen: the core
 * cancels (and removes what it was writing) when it returns non-zero.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;	/* the signal's number, or 0 */

static void
on_signal(int sig)
{
	cli_interrupted = sig;
}

void
cli_catch_signals(int on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
progress_start(struct progress *p, const struct cli *c, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->show = !c->quiet && isatty(STDERR_FILENO);
	p->start = now_ns();
}

static void
draw(struct progress *p, uint64_t done, uint64_t total, uint64_t t)
{
	double secs = (double)(t - p->start) / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	char eta[32] = "";

	if (rate > 0 && total > done && secs >= 1) {
		unsigned long left = (unsigned long)((double)(total - done) /
		    rate);

		snprintf(eta, sizeof(eta), "  ETA %lu:%02lu", left / 60,
		    left % 60);
	}
	fprintf(stderr, "\r\033[K%.40s  %3u%%  %.1f MiB/s%s", p->name, pct,
	    rate / (1024 * 1024), eta);
	p->drawn = 1;
}

/*
 * Whether the bar is due for a redraw, and then its time in p->last:
 * nothing for what takes less than a fifth of a second, then at most five
 * redraws a second (and the last one, at_end).
 */
static int
due(struct progress *p, int at_end)
{
	uint64_t t;

	if (!p->show)
		return 0;
	t = now_ns();
	if (t - p->start < 200000000u ||
	    (t - p->last < 200000000u && !at_end))
		return 0;
	p->last = t;
	return 1;
}

/* hd_progress_fn: draws, and asks the core to stop after a signal. */
int
progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;

	if (cli_interrupted)
		return 1;
	if (due(p, done == total))
		draw(p, done, total, p->last);
	return 0;
}

/* The same over a batch of files (hd_sign_files): files, not bytes. */
int
progress_files_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;

	if (cli_interrupted)
		return 1;
	if (due(p, 0)) {
		fprintf(stderr, "\r\033[Ksigning  %llu of %llu files",
		    (unsigned long long)done, (unsigned long long)total);
		p->drawn = 1;
	}
	return 0;
}

void
progress_end(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}
