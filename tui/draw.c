/*
 * Drawing helpers shared by the screens: the frame (title, note, hints,
 * status bar), boxes with UTF-8 or ASCII borders, width-safe text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

/* Put text at y,x in at most w columns (w <= 0: to the right edge). */
static void
put_clipped(struct tui *t, int y, int x, int w, const char *s)
{
	wchar_t ws[512];
	size_t n;
	int i, used = 0;

	if (y < 0 || y >= t->rows || x >= t->cols)
		return;
	if (w <= 0 || x + w > t->cols)
		w = t->cols - x;
	n = mbstowcs(ws, s, sizeof(ws) / sizeof(ws[0]) - 1);
	if (n == (size_t)-1) {		/* not valid in this locale */
		mvaddnstr(y, x, s, w);
		return;
	}
	ws[n] = L'\0';
	for (i = 0; ws[i] != L'\0'; i++) {
		int cw = wcwidth(ws[i]);

		if (cw < 0)
			ws[i] = L'?', cw = 1;
		if (used + cw > w)
			break;
		used += cw;
	}
	mvaddnwstr(y, x, ws, i);
}

void
draw_text(struct tui *t, int y, int x, int w, enum role r, const char *fmt,
    ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	role_on(t, r);
	put_clipped(t, y, x, w, buf);
	role_off(t, r);
}

static const char *
glyph(const struct tui *t, int which)
{
	static const char *utf[] = { "─", "│", "┌", "┐", "└", "┘" };
	static const char *asc[] = { "-", "|", "+", "+", "+", "+" };

	return t->ascii ? asc[which] : utf[which];
}

void
draw_hline(struct tui *t, int y, int x, int w)
{
	int i;

	for (i = 0; i < w; i++)
		mvaddstr(y, x + i, glyph(t, 0));
}

void
draw_box(struct tui *t, int y, int x, int h, int w, const char *title)
{
	int i;

	role_on(t, RO_DIM);
	mvaddstr(y, x, glyph(t, 2));
	draw_hline(t, y, x + 1, w - 2);
	mvaddstr(y, x + w - 1, glyph(t, 3));
	for (i = 1; i < h - 1; i++) {
		mvaddstr(y + i, x, glyph(t, 1));
		mvaddstr(y + i, x + w - 1, glyph(t, 1));
	}
	mvaddstr(y + h - 1, x, glyph(t, 4));
	draw_hline(t, y + h - 1, x + 1, w - 2);
	mvaddstr(y + h - 1, x + w - 1, glyph(t, 5));
	role_off(t, RO_DIM);
	if (title != NULL && *title != '\0')
		draw_text(t, y, x + 2, w - 4, RO_TITLE, " %s ", title);
}

/* Word-wrap text into at most maxrows rows; returns the rows used. */
int
draw_wrap(struct tui *t, int y, int x, int w, int maxrows, enum role r,
    const char *text)
{
	char line[512];
	const char *p = text;
	int row = 0;

	while (*p != '\0' && row < maxrows) {
		size_t n = strlen(p), cut = n;

		if ((int)n > w) {
			cut = (size_t)w;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = (size_t)w;
		}
		snprintf(line, sizeof(line), "%.*s", (int)cut, p);
		draw_text(t, y + row++, x, w, r, "%s", line);
		p += cut;
		while (*p == ' ')
			p++;
	}
	return row;
}

/* path with the home directory said as "~" (shorter, and no user name). */
const char *
tui_tilde(const char *path, char *buf, size_t len)
{
	const char *home = getenv("HOME");
	size_t n = home != NULL ? strlen(home) : 0;

	if (n > 1 && home[0] == '/' && strncmp(path, home, n) == 0 &&
	    path[n] == '/')
		snprintf(buf, len, "~%s", path + n);
	else
		snprintf(buf, len, "%s", path);
	return buf;
}

const char *
tui_keyname(int key, char *buf, size_t len)
{
	static const struct {
		int key;
		const char *name;
	} named[] = {
		{ KEY_UP, "Up" }, { KEY_DOWN, "Down" }, { KEY_LEFT, "Left" },
		{ KEY_RIGHT, "Right" }, { KEY_PPAGE, "PgUp" },
		{ KEY_NPAGE, "PgDn" }, { KEY_HOME, "Home" }, { KEY_END, "End" },
		{ '\t', "Tab" }, { KEY_BTAB, "S-Tab" }, { ' ', "Space" },
		{ KEY_BACKSPACE, "Bksp" },
	};
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (named[i].key == key)
			return snprintf(buf, len, "%s", named[i].name) < 0 ?
			    "" : buf;
	if (key >= KEY_F(1) && key <= KEY_F(12))
		snprintf(buf, len, "F%d", key - KEY_F(0));
	else if (key == '\n')
		snprintf(buf, len, "Enter");
	else if (key == 27)
		snprintf(buf, len, "Esc");
	else if (key > 0 && key < 32)
		snprintf(buf, len, "^%c", key + '@');
	else
		snprintf(buf, len, "%c", key);
	return buf;
}

/* The hint line: the first bindings of the screen, "Enter Log in  Esc Back" */
void
draw_hints(struct tui *t, const struct binding *b)
{
	char line[512] = "";
	size_t used = 0;

	for (; b != NULL && b->key != 0 && used < sizeof(line); b++)
		if (b->name != NULL)
			used += snprintf(line + used, sizeof(line) - used,
			    "%s %s  ", b->name, b->help);
	draw_text(t, t->rows - 2, 1, t->cols - 2, RO_DIM, "%s", line);
}

void
draw_frame(struct tui *t, const char *title)
{
	const struct view *v = &t->stack[t->depth - 1];

	erase();
	role_on(t, RO_TITLE);
	draw_text(t, 0, 1, t->cols - 2, RO_TITLE, "hsmdesk %s %s %s",
	    HD_VERSION, t->ascii ? "-" : "—", title);
	role_off(t, RO_TITLE);
	if (t->note[0] != '\0')
		draw_wrap(t, 1, 1, t->cols - 2, 2, t->note_role, t->note);
	draw_box(t, 3, 0, t->rows - 5, t->cols, NULL);
	draw_hints(t, v->scr->keys);
	draw_status(t);
}

static void
status_login(struct tui *t, char *buf, size_t len)
{
	time_t left;

	if (!t->ti.present) {
		snprintf(buf, len, "no token");
	} else if (!(t->busy ? t->busy_login : hd_logged_in(t->s))) {
		snprintf(buf, len, "not logged in");
	} else if (t->cli->cfg.idle_logout == 0) {
		snprintf(buf, len, "logged in");
	} else {
		left = (time_t)t->cli->cfg.idle_logout -
		    (tui_now(t) - t->last_input);
		if (left < 0)
			left = 0;
		snprintf(buf, len, "logged in, idle logout %ld:%02ld",
		    (long)left / 60, (long)left % 60);
	}
}

void
draw_status(struct tui *t)
{
	char login[64], tok[80], msgs[32] = "";
	const char *mod = strrchr(t->cli->module, '/');

	status_login(t, login, sizeof(login));
	if (!t->ti.present)
		snprintf(tok, sizeof(tok), "no token selected");
	else if (!t->ti.initialized)
		snprintf(tok, sizeof(tok), "token not initialized");
	else
		snprintf(tok, sizeof(tok), "'%s' %s", t->ti.label, t->ti.serial);
	if (t->unseen > 0)
		snprintf(msgs, sizeof(msgs), " | %d new message%s (m)",
		    t->unseen, t->unseen == 1 ? "" : "s");
	role_on(t, RO_STATUS);
	mvhline(t->rows - 1, 0, ' ', t->cols);
	put_clipped(t, t->rows - 1, 1, t->cols - 2, "");
	role_off(t, RO_STATUS);
	draw_text(t, t->rows - 1, 0, t->cols, RO_STATUS, " %s | %s | %s%s",
	    mod ? mod + 1 : t->cli->module, tok, login, msgs);
}

void
draw_too_small(struct tui *t)
{
	erase();
	draw_text(t, 0, 0, t->cols, RO_ERROR, "Terminal too small");
	draw_text(t, 1, 0, t->cols, RO_NORMAL, "%dx%d; need %dx%d.", t->cols,
	    t->rows, TUI_MIN_COLS, TUI_MIN_ROWS);
	draw_text(t, 2, 0, t->cols, RO_DIM, "Enlarge it, or q to quit.");
}
