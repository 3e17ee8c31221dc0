/*
 * Forms of labelled fields.  PIN fields keep their characters in the
 * core's PIN buffer and show a fixed mask once anything is typed, so
 * neither the PIN nor its length is on screen.
 */
#include <string.h>

#include "tui.h"

#define PIN_MASK "********"

int
form_add(struct form *fm, const char *label, enum field_kind kind)
{
	struct field *f;

	if (fm->n == FORM_MAX)
		return -1;
	f = &fm->f[fm->n];
	memset(f, 0, sizeof(*f));
	f->label = label;
	f->kind = kind;
	if (kind == F_PIN && (f->pin = hd_pin_new()) == NULL)
		return -1;
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

void
form_draw(struct tui *t, struct form *fm, int y, int x)
{
	int i;

	for (i = 0; i < fm->n; i++) {
		struct field *f = &fm->f[i];
		const char *shown = f->kind == F_TEXT ? f->text :
		    hd_pin_len(f->pin) > 0 ? PIN_MASK : "";

		draw_text(t, y + i, x, 24, i == fm->cur ? RO_TITLE : RO_NORMAL,
		    "%s%s", i == fm->cur ? "> " : "  ", f->label);
		draw_text(t, y + i, x + 24, 34, i == fm->cur ? RO_SELECTED :
		    RO_DIM, " %-32s", shown);
	}
}

static void
field_backspace(struct field *f)
{
	size_t n;

	if (f->kind == F_TEXT) {
		n = strlen(f->text);
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
		if (n + 1 < sizeof(f->text) && ch >= 0x20 && ch < 0x7f) {
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
