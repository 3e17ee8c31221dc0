/*
 * Forms of labelled fields.  PIN fields keep their characters in the
 * core's PIN buffer and show a fixed mask once anything is typed, so
 * neither the PIN nor its length is on screen.  Text fields longer than
 * their box show their end; a form taller than its rows scrolls.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

#define PIN_MASK "********"

static struct field *
field_new(struct form *fm, const char *label, enum field_kind kind)
{
	struct field *f;

	if (fm->n == FORM_MAX)
		return NULL;
	f = &fm->f[fm->n];
	memset(f, 0, sizeof(*f));
	f->label = label;
	f->kind = kind;
	f->max = 32;
	return f;
}

int
form_add(struct form *fm, const char *label, enum field_kind kind)
{
	struct field *f = field_new(fm, label, kind);

	if (f == NULL)
		return -1;
	if (kind == F_PIN && (f->pin = hd_pin_new()) == NULL)
		return -1;
	fm->n++;
	return 0;
}

/* A UTF-8 text field of up to max bytes, holding text to begin with. */
int
form_add_text(struct form *fm, const char *label, const char *text,
    size_t max)
{
	struct field *f = field_new(fm, label, F_TEXT);

	if (f == NULL)
		return -1;
	f->max = max < sizeof(f->text) ? max : sizeof(f->text) - 1;
	f->utf8 = 1;
	snprintf(f->text, f->max + 1, "%s", text);
	fm->n++;
	return 0;
}

void
form_clear_pins(struct form *fm)
{
	int i;

	for (i = 0; i < fm->n; i++)
		hd_pin_clear(fm->f[i].pin);
}

void
form_free(struct form *fm)
{
	int i;

	for (i = 0; i < fm->n; i++)
		hd_pin_free(fm->f[i].pin);
	memset(fm, 0, sizeof(*fm));
}

/* The end of text that fits w columns, from a character boundary. */
static const char *
tail(const char *text, int w)
{
	size_t n = strlen(text);
	const char *p;

	if (w <= 1 || (int)n <= w)
		return text;
	p = text + n - (size_t)(w - 1);
	while ((*p & 0xc0) == 0x80)
		p++;
	return p;
}

static void
field_draw(struct tui *t, struct form *fm, int i, int y, int x,
    const struct form_look *lk)
{
	struct field *f = &fm->f[i];
	const char *shown = f->kind == F_TEXT ? f->text :
	    hd_pin_len(f->pin) > 0 ? PIN_MASK : "";
	const char *end = tail(shown, lk->valw - 2);

	draw_text(t, y, x, lk->labw, i == fm->cur ? RO_TITLE : RO_NORMAL,
	    "%s%s", i == fm->cur ? "> " : "  ", f->label);
	draw_text(t, y, x + lk->labw, lk->valw, i == fm->cur ? RO_SELECTED :
	    RO_DIM, " %s%-*s", end == shown ? "" : "<", lk->valw - 2 -
	    (end != shown), end);
	if (lk->markw > 0 && f->mark != NULL)
		draw_text(t, y, x + lk->labw + lk->valw + 1, lk->markw,
		    f->mark_role, "%s", f->mark);
}

void
form_draw_in(struct tui *t, struct form *fm, int y, int x,
    const struct form_look *lk)
{
	int i, rows = lk->rows < 1 ? 1 : lk->rows;

	if (fm->cur < fm->top)
		fm->top = fm->cur;
	if (fm->cur >= fm->top + rows)
		fm->top = fm->cur - rows + 1;
	if (fm->top > fm->n - rows)
		fm->top = fm->n - rows > 0 ? fm->n - rows : 0;
	for (i = 0; i < rows && fm->top + i < fm->n; i++)
		field_draw(t, fm, fm->top + i, y + i, x, lk);
	if (fm->top > 0)
		draw_text(t, y, x + lk->labw - 2, 1, RO_DIM, "^");
	if (fm->top + rows < fm->n)
		draw_text(t, y + rows - 1, x + lk->labw - 2, 1, RO_DIM, "v");
}

void
form_draw(struct tui *t, struct form *fm, int y, int x)
{
	struct form_look lk = { fm->n, 24, 34, 0 };

	form_draw_in(t, fm, y, x, &lk);
}

static void
field_backspace(struct field *f)
{
	size_t n;

	if (f->kind == F_TEXT) {
		n = strlen(f->text);
		while (n > 0 && (f->text[n - 1] & 0xc0) == 0x80 && f->utf8)
			n--;		/* a UTF-8 character's tail */
		if (n > 0)
			f->text[n - 1] = '\0';
	} else if ((n = hd_pin_len(f->pin)) > 0) {
		hd_pin_buf(f->pin)[n - 1] = '\0';
		hd_pin_set_len(f->pin, n - 1);
	}
}

static void
field_add(struct field *f, int ch)
{
	size_t n;

	if (f->kind == F_TEXT) {
		n = strlen(f->text);
		if (n < f->max && ((ch >= 0x20 && ch < 0x7f) ||
		    (f->utf8 && ch >= 0x80 && ch <= 0xff))) {
			f->text[n] = (char)ch;
			f->text[n + 1] = '\0';
		}
	} else if ((n = hd_pin_len(f->pin)) < HD_PIN_MAX) {
		hd_pin_buf(f->pin)[n] = (char)ch;
		hd_pin_set_len(f->pin, n + 1);
	}
}

int
form_key(struct form *fm, int ch)
{
	struct field *f = &fm->f[fm->cur];

	switch (ch) {
	case '\n': case '\r': case KEY_ENTER:
		if (fm->cur == fm->n - 1)
			return 1;
		fm->cur++;
		return 0;
	case '\t': case KEY_DOWN:
		fm->cur = (fm->cur + 1) % fm->n;
		return 0;
	case KEY_BTAB: case KEY_UP:
		fm->cur = (fm->cur + fm->n - 1) % fm->n;
		return 0;
	case KEY_BACKSPACE: case 127: case 8:
		field_backspace(f);
		return 0;
	case 21:	/* ^U: erase the field */
		if (f->kind == F_PIN)
			hd_pin_clear(f->pin);
		else
			f->text[0] = '\0';
		return 0;
	}
	if (ch >= 0x20 && ch <= 0xff && ch != 0x7f) {
		field_add(f, ch);
		return 0;
	}
	return -1;
}
