/*
 * Curses set-up and tear-down, signals, the screen stack and the event
 * loop.  Signal handlers only set a flag; the loop restores the terminal
 * on every exit path.  Resize is handled here and nowhere else.
 */
#include <ctype.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* The signal that arrived (0 if none); the loop ends on any of them. */
int
tui_signal(void)
{
	return stop_signal;
}

/* A screen that answered the signal itself (Ctrl-C as "cancel?"). */
void
tui_signal_clear(void)
{
	stop_signal = 0;
}

time_t
tui_now(const struct tui *t)
{
	return t->script != NULL ? t->fake_now : time(NULL);
}

void
tui_note(struct tui *t, enum role r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->note, sizeof(t->note), fmt, ap);
	va_end(ap);
	t->note_role = r;
}

void
tui_note_err(struct tui *t, const struct hd_err *err)
{
	char hint[sizeof(err->hint)];
	size_t n;

	snprintf(hint, sizeof(hint), "%s", err->hint);
	hint[0] = (char)toupper((unsigned char)hint[0]);
	n = strlen(hint);
	tui_note(t, RO_ERROR, "%s.%s%s%s", err->msg, n ? " " : "", hint,
	    n && hint[n - 1] != '.' ? "." : "");
}

void
tui_push(struct tui *t, const struct screen *scr, const void *arg)
{
	struct view *v;

	if (t->depth == TUI_DEPTH)
		return;
	v = &t->stack[t->depth++];
	v->scr = scr;
	v->st = scr->state_size ? calloc(1, scr->state_size) : NULL;
	if (scr->enter != NULL)
		scr->enter(t, v, arg);
}

void
tui_pop(struct tui *t)
{
	struct view *v;

	if (t->depth == 0)
		return;
	v = &t->stack[--t->depth];
	if (v->scr->leave != NULL)
		v->scr->leave(t, v);
	free(v->st);
	v->st = NULL;
}

/* Back to the main menu, closing every screen above it. */
void
tui_pop_to_menu(struct tui *t)
{
	while (t->depth > 1)
		tui_pop(t);
}

/* Read the token's flags again; a token gone is said on screen. */
void
tui_refresh_token(struct tui *t)
{
	struct hd_err err;

	t->last_refresh = tui_now(t);
	if (!hd_token_selected(t->s)) {
		memset(&t->ti, 0, sizeof(t->ti));
		return;
	}
	if (hd_token_info(t->s, &t->ti, &err) == -1) {
		memset(&t->ti, 0, sizeof(t->ti));
		tui_note_err(t, &err);
	}
}

void
tui_render(struct tui *t)
{
	struct view *v = &t->stack[t->depth - 1];

	getmaxyx(stdscr, t->rows, t->cols);
	if (t->rows < TUI_MIN_ROWS || t->cols < TUI_MIN_COLS) {
		draw_too_small(t);
	} else {
		draw_frame(t, v->scr->title);
		v->scr->draw(t, v);
	}
	refresh();
}

/* Idle: log out, and drop any screen that holds a PIN being typed. */
static void
tick(struct tui *t)
{
	struct hd_err err;
	unsigned idle = t->cli->cfg.idle_logout;

	if (idle != 0 && tui_now(t) - t->last_input >= (time_t)idle) {
		int had_secret = 0;

		while (t->depth > 1 && t->stack[t->depth - 1].scr->secret) {
			tui_pop(t);
			had_secret = 1;
		}
		char span[32];

		if (idle % 60 == 0)
			snprintf(span, sizeof(span), "%u minute%s", idle / 60,
			    idle == 60 ? "" : "s");
		else
			snprintf(span, sizeof(span), "%u seconds", idle);
		if (hd_logged_in(t->s)) {
			hd_logout(t->s, &err);
			tui_note(t, RO_WARNING, "Logged out after %s without "
			    "input.", span);
		} else if (had_secret) {
			tui_note(t, RO_WARNING, "PIN entry closed after %s "
			    "without input.", span);
		}
	}
	if (tui_now(t) - t->last_refresh >= 5)
		tui_refresh_token(t);
}

static const struct binding *
binding_find(const struct binding *b, int ch)
{
	for (; b != NULL && b->key != 0; b++)
		if (b->fn != NULL && (b->key == ch ||
		    (b->key2 != 0 && b->key2 == ch)))
			return b;
	return NULL;
}

static void
dispatch(struct tui *t, int ch)
{
	struct view *v = &t->stack[t->depth - 1];
	const struct binding *b = binding_find(v->scr->keys, ch);
	enum act a = ACT_UNHANDLED;

	if (b != NULL)
		a = b->fn(t, v);
	else if (v->scr->other != NULL)
		a = v->scr->other(t, v, ch);
	if (a == ACT_UNHANDLED && (b = binding_find(tui_global_keys, ch)))
		a = b->fn(t, v);
	if (a == ACT_POP && t->depth > 1)
		tui_pop(t);
	else if (a == ACT_QUIT || (a == ACT_POP && t->depth == 1))
		t->quit = 1;
}

static void
loop(struct tui *t)
{
	int ch;

	while (!t->quit) {
		if (stop_signal != 0) {
			t->exit_status = 128 + stop_signal;
			break;
		}
		tui_render(t);
		ch = tui_getkey(t);
		msglog_poll(t);
		if (ch == TUI_KEY_END)
			break;
		if (ch == ERR) {
			tick(t);
			continue;
		}
		if (ch == KEY_RESIZE)
			continue;
		t->last_input = tui_now(t);
		if (t->rows < TUI_MIN_ROWS || t->cols < TUI_MIN_COLS) {
			if (ch == 'q' || ch == KEY_F(10))
				t->quit = 1;
			continue;
		}
		dispatch(t, ch);
	}
}

/* Open the module and choose the token; an empty store offers init. */
static void
open_token(struct tui *t)
{
	struct hd_err err;
	const char *spec = t->cli->token ? t->cli->token : t->cli->cfg.token;

	hd_module_describe(t->s, t->module_desc, sizeof(t->module_desc));
	tui_push(t, &scr_menu, NULL);
	if (hd_token_select(t->s, spec, &err) == 0) {
		tui_refresh_token(t);
		return;
	}
	if (err.code == HD_E_NO_TOKEN && spec == NULL &&
	    strstr(err.msg, "no initialized") != NULL &&
	    hd_token_select_uninit(t->s, NULL, &err) == 0) {
		tui_refresh_token(t);
		tui_push(t, &scr_inittok, NULL);
		return;
	}
	tui_note_err(t, &err);
}

static void
teardown(struct tui *t)
{
	struct hd_err err;

	while (t->depth > 0)
		tui_pop(t);
	if (t->s != NULL)
		hd_logout(t->s, &err);
}

static void
tui_init(struct tui *t, struct cli *c)
{
	const char *cs = nl_langinfo(CODESET);
	const char *a = getenv("HSMDESK_ASCII");

	memset(t, 0, sizeof(*t));
	t->cli = c;
	t->errfd = t->saved_stderr = -1;
	t->ascii = (a != NULL && *a != '\0') || cs == NULL ||
	    strcmp(cs, "UTF-8") != 0;
}

static void
curses_start(struct tui *t)
{
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(1000);
	set_escdelay(25);
	theme_init(t);
	getmaxyx(stdscr, t->rows, t->cols);
	t->last_input = t->last_refresh = tui_now(t);
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: getch returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
tui_run(struct cli *c)
{
	struct tui t;
	struct hd_err err;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "hsmdesk: the terminal UI needs a terminal; "
		    "for scripts use the commands ('hsmdesk --help')\n");
		return 2;
	}
	setlocale(LC_ALL, "");
	tui_init(&t, c);
	signals();
	if (initscr() == NULL)
		return 2;
	curses_start(&t);
	draw_text(&t, 0, 1, t.cols - 2, RO_TITLE, "hsmdesk %s: opening %s",
	    HD_VERSION, c->module);
	refresh();			/* the first frame, before the module */
	msglog_start(&t);
	if ((c->s = t.s = hd_open(c->module, &err)) == NULL ||
	    hd_vendor_set(t.s, c->cfg.vendor, &err) == -1) {
		endwin();
		msglog_stop(&t);
		return cli_fail(&err);
	}
	open_token(&t);
	loop(&t);
	teardown(&t);
	endwin();
	msglog_stop(&t);
	if (t.exit_note[0] != '\0')
		fprintf(stderr, "hsmdesk: %s\n", t.exit_note);
	if (t.exit_status > 128)
		fprintf(stderr, "hsmdesk: interrupted; logged out\n");
	return t.exit_status;
}

/*
 * Headless run for screen tests: keys from a script, output to /dev/null,
 * a fixed clock, and the screen dumped as text at <DUMP> and at the end.
 */
int
tui_run_script(struct cli *c, const char *keys, int rows, int cols,
    char **out)
{
	struct tui t;
	struct hd_err err;
	FILE *o = fopen("/dev/null", "w"), *i = fopen("/dev/null", "r");
	SCREEN *scr;

	tui_init(&t, c);
	t.script = keys;
	t.fake_now = 1700000000;
	if (o == NULL || i == NULL ||
	    (scr = newterm("xterm-256color", o, i)) == NULL)
		return -1;
	set_term(scr);
	resizeterm(rows, cols);
	curses_start(&t);
	if ((c->s = t.s = hd_open(c->module, &err)) != NULL &&
	    hd_vendor_set(t.s, c->cfg.vendor, &err) == 0) {
		open_token(&t);
		loop(&t);
		tui_render(&t);
		tui_dump(&t);
		teardown(&t);
	}
	endwin();
	delscreen(scr);
	fclose(o);
	fclose(i);
	msglog_stop(&t);
	*out = t.dump;
	return c->s == NULL ? cli_fail(&err) : t.exit_status;
}
