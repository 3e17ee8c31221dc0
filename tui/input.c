/*
 * All input passes through tui_getkey(), so a script can stand in for the
 * keyboard (tig's approach).  Script syntax: plain characters, and <NAME>
 * for ENTER ESC TAB BTAB UP DOWN LEFT RIGHT PGUP PGDN HOME END BS F1..F12
 * LT (a literal '<'), RESIZE:ROWSxCOLS, IDLE:SECONDS (advance the clock),
 * DUMP (append the screen as text to the dump).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

#define KEY_NOTHING (-101)

static const struct {
	const char *name;
	int key;
} names[] = {
	{ "ENTER", '\n' }, { "ESC", 27 }, { "TAB", '\t' }, { "BTAB", KEY_BTAB },
	{ "UP", KEY_UP }, { "DOWN", KEY_DOWN }, { "LEFT", KEY_LEFT },
	{ "RIGHT", KEY_RIGHT }, { "PGUP", KEY_PPAGE }, { "PGDN", KEY_NPAGE },
	{ "HOME", KEY_HOME }, { "END", KEY_END }, { "BS", KEY_BACKSPACE },
	{ "LT", '<' }, { "^C", 3 }, { "^L", 12 }, { "^U", 21 },
};

/* Append the screen, row by row, as UTF-8 text with trailing blanks cut. */
void
tui_dump(struct tui *t)
{
	wchar_t w[512];
	char line[2048];
	int y, n;

	for (y = 0; y < t->rows; y++) {
		n = mvwinnwstr(stdscr, y, 0, w, t->cols < 511 ? t->cols : 511);
		if (n == ERR)
			n = 0;
		w[n] = L'\0';
		if (wcstombs(line, w, sizeof(line)) == (size_t)-1)
			snprintf(line, sizeof(line), "?");
		n = (int)strlen(line);
		while (n > 0 && line[n - 1] == ' ')
			line[--n] = '\0';
		if (t->dumplen + (size_t)n + 2 > t->dumpcap) {
			size_t cap = (t->dumpcap + (size_t)n + 2) * 2;
			char *p = realloc(t->dump, cap);

			if (p == NULL)
				return;
			t->dump = p;
			t->dumpcap = cap;
		}
		memcpy(t->dump + t->dumplen, line, (size_t)n);
		t->dumplen += (size_t)n;
		t->dump[t->dumplen++] = '\n';
		t->dump[t->dumplen] = '\0';
	}
}

static int
script_token(struct tui *t, const char *tok, size_t len)
{
	char name[32];
	size_t i;
	int r, c;

	snprintf(name, sizeof(name), "%.*s", (int)len, tok);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].key;
	if (name[0] == 'F' && atoi(name + 1) >= 1 && atoi(name + 1) <= 12)
		return KEY_F(atoi(name + 1));
	if (sscanf(name, "RESIZE:%dx%d", &r, &c) == 2) {
		resizeterm(r, c);
		return KEY_RESIZE;
	}
	if (sscanf(name, "IDLE:%d", &r) == 1) {
		t->fake_now += r;
		return ERR;		/* a timeout tick */
	}
	if (strcmp(name, "DUMP") == 0) {
		tui_dump(t);
		return KEY_NOTHING;	/* read on */
	}
	return ERR;
}

static int
script_key(struct tui *t)
{
	const char *p = t->script, *end;
	int k;

	do {
		p = t->script;
		if (*p == '\0')
			return TUI_KEY_END;
		if (*p != '<' || (end = strchr(p, '>')) == NULL) {
			t->script++;
			return (unsigned char)*p;
		}
		t->script = end + 1;
		k = script_token(t, p + 1, (size_t)(end - p - 1));
	} while (k == KEY_NOTHING);
	return k;
}

/*
 * A script's next key, taken only if it is key: keys pressed while the
 * token works are read this way, so a script says when they came.
 */
int
tui_script_take(struct tui *t, int key)
{
	const char *p = t->script, *end;
	char name[32];
	size_t i;

	if (p == NULL || *p == '\0')
		return 0;
	if (*p != '<' || (end = strchr(p, '>')) == NULL) {
		if ((unsigned char)*p != key)
			return 0;
		t->script++;
		return 1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0 && names[i].key == key) {
			t->script = end + 1;
			return 1;
		}
	return 0;
}

/* One key, with Enter and Backspace folded to one code each. */
int
tui_getkey(struct tui *t)
{
	int ch = t->script != NULL ? script_key(t) : getch();

	if (ch == '\r' || ch == KEY_ENTER)
		return '\n';
	if (ch == 127 || ch == 8)
		return KEY_BACKSPACE;
	return ch;
}
