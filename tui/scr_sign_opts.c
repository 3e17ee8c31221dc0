/*
 * Sign files, step 3: the options, as signtool takes them: the digest
 * (/fd), the type (auto: Authenticode for PE files, detached CMS for the
 * rest), and for Authenticode the description (/d), its URL (/du) and
 * whether to append the signature (/as); the timestamp servers (/tr,
 * from config.yaml's tsa: list, editable; the timestamp digest is the
 * file digest) and what to do when none answers: fail the file (the
 * default, as signtool) or sign it without a timestamp (--tr-optional).
 * The type each file gets is listed under them.
 */
#include <stdio.h>
#include <string.h>

#include "sign.h"

enum { O_MD, O_TYPE, O_DESC, O_URL, O_APPEND, O_TSA, O_TSA_OPT, O__N };

struct sopts {
	struct sgn *g;
	int cur;
	int top;			/* first file shown */
};

/* The config file's TSAs, once: after that the operator's edit stands. */
static void
tsa_from_config(struct sgn *g, const struct hd_config *cfg)
{
	size_t i, n = 0;

	if (g->tsa_set)
		return;
	g->tsa_set = 1;
	for (i = 0; i < cfg->ntsa && n < sizeof(g->tsa); i++)
		n += (size_t)snprintf(g->tsa + n, sizeof(g->tsa) - n, "%s%s",
		    i ? " " : "", cfg->tsa[i]);
}

static void
opts_enter(struct tui *t, struct view *v, const void *arg)
{
	struct sopts *o = v->st;

	o->g = (struct sgn *)arg;
	tsa_from_config(o->g, &t->cli->cfg);
}

static int
any_pe(const struct sgn *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (sign_type_of(g, i) == SIGN_PE)
			return 1;
	return 0;
}

static int
typed(int i)
{
	return i == O_DESC || i == O_URL || i == O_TSA;
}

static void
opt_row(struct tui *t, struct sopts *o, int i, const char *name,
    const char *value, int dim)
{
	int y = 5 + i;

	draw_text(t, y, 3, 22, dim ? RO_DIM : RO_NORMAL, "%s", name);
	draw_text(t, y, 25, t->cols - 28, o->cur == i ? RO_SELECTED : dim ?
	    RO_DIM : RO_NORMAL, " %-*s", typed(i) ? t->cols - 30 : 24,
	    value);
}

static void
draw_files(struct tui *t, struct sopts *o, int y)
{
	const struct sgn *g = o->g;
	int rows = t->rows - y - 5, i, k;
	char size[32];

	draw_text(t, y, 3, t->cols - 6, RO_DIM, " %-13s %-10s %s", "TYPE",
	    "SIZE", "FILE");
	if (o->top > g->n - rows)
		o->top = g->n - rows;
	if (o->top < 0)
		o->top = 0;
	for (i = 0; i < rows && o->top + i < g->n; i++) {
		k = o->top + i;
		sign_bytes(g->f[k].size, size, sizeof(size));
		draw_text(t, y + 1 + i, 3, t->cols - 6, RO_NORMAL, " %-13s "
		    "%-10s %s", sign_type_words(sign_type_of(g, k)), size,
		    g->f[k].path);
	}
	if (g->n > rows)
		draw_text(t, t->rows - 5, 3, t->cols - 6, RO_DIM, " %d-%d of "
		    "%d files; PgUp, PgDn scroll.", o->top + 1, o->top + i,
		    g->n);
}

static void
opts_draw(struct tui *t, struct view *v)
{
	struct sopts *o = v->st;
	struct sgn *g = o->g;
	int pe = any_pe(g);

	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "How to sign the %d "
	    "file%s (Left, Right, Space change a choice):", g->n,
	    g->n == 1 ? "" : "s");
	opt_row(t, o, O_MD, "Digest (/fd)", sign_md(g), 0);
	opt_row(t, o, O_TYPE, "Type", g->type == SIGN_AUTO ? "auto (PE: "
	    "Authenticode, else CMS)" : sign_type_words(g->type), 0);
	opt_row(t, o, O_DESC, "Description (/d)", g->desc, !pe);
	opt_row(t, o, O_URL, "URL (/du)", g->url, !pe);
	opt_row(t, o, O_APPEND, "Append signature (/as)", g->append ? "yes" :
	    "no", !pe);
	opt_row(t, o, O_TSA, "Timestamp (/tr)", g->tsa[0] ? g->tsa :
	    "none (type TSA URLs)", 0);
	opt_row(t, o, O_TSA_OPT, "If no TSA answers", g->tsa_optional ?
	    "sign without a timestamp" : "the file fails", !g->tsa[0]);
	draw_text(t, 12, 3, t->cols - 6, RO_DIM, "Output: CMS beside each file "
	    "(f -> f.p7s); Authenticode: in the file.");
	draw_files(t, o, 14);
}

static void
change(struct sopts *o, int dir)
{
	struct sgn *g = o->g;

	if (o->cur == O_MD)
		g->md = (g->md + 3 + dir) % 3;
	else if (o->cur == O_TYPE)
		g->type = (enum sign_type)((g->type + SIGN__TYPES + dir) %
		    SIGN__TYPES);
	else if (o->cur == O_APPEND)
		g->append = !g->append;
	else if (o->cur == O_TSA_OPT)
		g->tsa_optional = !g->tsa_optional;
}

static void
type_in(char *text, size_t cap, int ch)
{
	size_t n = strlen(text);

	if (ch == KEY_BACKSPACE) {
		while (n > 0 && (text[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			text[n - 1] = '\0';
	} else if (ch == 21) {
		text[0] = '\0';
	} else if (n + 1 < cap) {
		text[n] = (char)ch;
		text[n + 1] = '\0';
	}
}

static enum act
opts_other(struct tui *t, struct view *v, int ch)
{
	struct sopts *o = v->st;
	char *text = o->cur == O_DESC ? o->g->desc : o->cur == O_URL ?
	    o->g->url : o->g->tsa;
	size_t cap = o->cur == O_TSA ? sizeof(o->g->tsa) : sizeof(o->g->desc);
	int typing = typed(o->cur);

	(void)t;
	if (ch == KEY_UP || ch == KEY_BTAB)
		o->cur = (o->cur + O__N - 1) % O__N;
	else if (ch == KEY_DOWN || ch == '\t')
		o->cur = (o->cur + 1) % O__N;
	else if (ch == KEY_PPAGE || ch == KEY_NPAGE)
		o->top += ch == KEY_PPAGE ? -5 : 5;
	else if (typing && (ch == KEY_BACKSPACE || ch == 21 || (ch >= 0x20 &&
	    ch <= 0xff && ch != 0x7f)))
		type_in(text, cap, ch);
	else if (!typing && (ch == KEY_LEFT || ch == KEY_RIGHT || ch == ' '))
		change(o, ch == KEY_LEFT ? -1 : 1);
	else
		return ACT_UNHANDLED;
	return ACT_NONE;
}

static enum act
opts_next(struct tui *t, struct view *v)
{
	struct sopts *o = v->st;

	t->note[0] = '\0';
	tui_push(t, &scr_sign_confirm, o->g);
	return ACT_NONE;
}

static enum act
opts_back(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_POP;
}

static const struct binding keys[] = {
	{ '\n', KEY_F(4), "Enter", "Next", opts_next },
	{ 27, 0, "Esc", "Back", opts_back },
	{ KEY_UP, KEY_DOWN, "Up/Down", "Option", NULL },
	{ KEY_LEFT, KEY_RIGHT, "Left/Right", "Change", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_opts = {
	.name = "sign-opts",
	.title = "Sign files: options",
	.state_size = sizeof(struct sopts),
	.keys = keys,
	.enter = opts_enter,
	.draw = opts_draw,
	.other = opts_other,
};
