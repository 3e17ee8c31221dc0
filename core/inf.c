/*
 * certreq's request.inf, the part that says what to request (PROFILES.md
 * and Microsoft's certreq documentation), read into a request profile.
 * Each section has a table of its keys, and each key is handled, ignored
 * and listed (it means nothing on PKCS#11), ignored unless TRUE (TRUE
 * would change the request), or refused with the reason.  Any other key
 * or section is refused with its line: it could change the request, and
 * a request that differs from what the INF asked for must never be made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inf_int.h"
#include "yamlutil.h"

int
inf_fail(struct inf *f, size_t line, size_t col, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hd_err_set(f->err, HD_E_INPUT, 0, "%s:%zu:%zu: %s", f->path, line, col,
	    what);
	hd_err_hint(f->err, INF_HINT);
	return -1;
}

int
inf_fail_kv(struct inf *f, const struct inf_kv *kv)
{
	hd_err_prefix(f->err, "%s:%zu:%zu: %s: ", f->path, kv->line,
	    kv->vcol, kv->key);
	hd_err_hint(f->err, INF_HINT);
	return -1;
}

int
inf_bool(struct inf *f, const struct inf_kv *kv, int *b)
{
	if (strcasecmp(kv->val, "true") == 0)
		*b = 1;
	else if (strcasecmp(kv->val, "false") == 0)
		*b = 0;
	else
		return inf_fail(f, kv->line, kv->vcol, "%s = %.40s: expected "
		    "TRUE or FALSE", kv->key, kv->val);
	return 0;
}

/* ---- lines ------------------------------------------------------------- */

static int
section_header(struct inf *f, struct hd_inf_line *l)
{
	char *name = l->s + 1, *end = l->s + strlen(l->s) - 1;
	int i;

	if (*end != ']')
		return inf_fail(f, l->no, hd_inf_col(l->start, l->s), "a "
		    "section header is [Name], with nothing after the ']'");
	*end = '\0';
	for (i = S_VERSION; i < S__COUNT; i++)
		if (strcasecmp(name, hd_inf_sections[i].name) == 0) {
			f->sect = i;
			f->cont = S_NONE;
			if (f->sect_line[i] == 0)
				f->sect_line[i] = l->no;
			return 0;
		}
	if (strcasecmp(name, "Strings") == 0)
		return inf_fail(f, l->no, hd_inf_col(l->start, l->s),
		    "[Strings]: %%name%% substitution is not supported; write "
		    "the values out where they are used");
	return inf_fail(f, l->no, hd_inf_col(l->start, l->s), "[%.60s]: not "
	    "supported; hsmdesk reads [Version], [NewRequest], [Extensions], "
	    "[EnhancedKeyUsageExtension] and [RequestAttributes]", name);
}

/* The value after '=' in place: "quoted", with "" for a quote, or bare. */
static int
unquote(struct inf *f, struct hd_inf_line *l, char *v)
{
	char *in = v + 1, *out = v;

	if (*v != '"')
		return 0;
	for (;;) {
		if (*in == '\0')
			return inf_fail(f, l->no, hd_inf_col(l->start, v),
			    "the quote is not closed");
		if (*in == '"' && in[1] != '"')
			break;
		if (*in == '"')
			in++;
		*out++ = *in++;
	}
	for (*out = '\0', in++; *in == ' ' || *in == '\t'; in++)
		;
	if (*in != '\0')
		return inf_fail(f, l->no, hd_inf_col(l->start, in), "text "
		    "after the closing quote; quote the whole value");
	return 0;
}

static int
split_kv(struct inf *f, struct hd_inf_line *l, struct inf_kv *kv)
{
	char *eq = strchr(l->s, '='), *end;

	kv->line = l->no;
	kv->kcol = hd_inf_col(l->start, l->s);
	if (eq == NULL || eq == l->s)
		return inf_fail(f, l->no, kv->kcol, "expected KEY = VALUE or "
		    "[Section]");
	for (end = eq; end[-1] == ' ' || end[-1] == '\t'; end--)
		;
	*end = '\0';
	kv->key = l->s;
	for (kv->val = eq + 1; *kv->val == ' ' || *kv->val == '\t';
	    kv->val++)
		;
	kv->vcol = hd_inf_col(l->start, kv->val);
	return unquote(f, l, kv->val);
}

static int
note_ignored(struct inf *f, const struct inf_kv *kv)
{
	struct hd_profile *p = f->p;

	if (p->nignored == HD_LIST_MAX)
		return inf_fail(f, kv->line, kv->kcol, "more than %d keys that "
		    "mean nothing on an HSM; remove some", HD_LIST_MAX);
	snprintf(p->ignored[p->nignored++], sizeof(p->ignored[0]), "%s",
	    kv->key);
	return 0;
}

static int
dispatch(struct inf *f, struct inf_kv *kv)
{
	const struct inf_section *sec = &hd_inf_sections[f->sect];
	const struct inf_key *k;
	size_t i;
	int b = 0;

	if (f->sect == S_NONE)
		return inf_fail(f, kv->line, kv->kcol, "%.60s = ... comes "
		    "before any [section]", kv->key);
	for (i = 0; i < sec->nkeys && strcasecmp(kv->key, sec->keys[i].name);
	    i++)
		;
	if (i == sec->nkeys)
		return inf_fail(f, kv->line, kv->kcol, "[%s] %.60s: %s",
		    sec->name, kv->key, sec->others);
	k = &sec->keys[i];
	kv->key = k->name;
	if (!k->repeat && f->seen[f->sect][i] != 0)
		return inf_fail(f, kv->line, kv->kcol, "[%s] %s: given twice "
		    "(first on line %zu)", sec->name, k->name,
		    f->seen[f->sect][i]);
	f->seen[f->sect][i] = kv->line;
	if (f->sect == S_EXT && strcmp(k->name, "_continue_") != 0)
		f->cont = S_NONE;
	if (k->kind == K_HANDLE)
		return k->fn(f, kv);
	if (k->kind == K_REFUSE)
		return inf_fail(f, kv->line, kv->kcol, "%s: %s; remove the "
		    "line", k->name, k->why);
	if (k->kind == K_IGNORE_FALSE) {
		if (inf_bool(f, kv, &b) == -1)
			return -1;
		if (b)
			return inf_fail(f, kv->line, kv->vcol, "%s = %s: %s; "
			    "set it to FALSE or remove the line", k->name,
			    kv->val, k->why);
	}
	return note_ignored(f, kv);
}

/* ---- the whole file ---------------------------------------------------- */

static int
finish_key(struct inf *f)
{
	struct hd_profile *p = f->p;
	unsigned long len = f->length;

	if (f->ec != 0) {
		p->type = HD_KEY_EC;
		snprintf(p->curve, sizeof(p->curve), "P-%d", f->ec);
		if (f->len_line != 0 && len != (unsigned long)f->ec)
			return inf_fail(f, f->len_line, f->len_col, "KeyLength "
			    "= %lu does not match KeyAlgorithm = %s (%d bits); "
			    "make it %d or remove it", len, f->alg, f->ec,
			    f->ec);
		return 0;
	}
	p->type = HD_KEY_RSA;
	if (f->len_line == 0)
		len = 2048;	/* certreq's default */
	if (len < 2048)
		return inf_fail(f, f->len_line, f->len_col, "KeyLength = %lu: "
		    "below the minimum; use 2048, 3072 or 4096", len);
	if (len != 2048 && len != 3072 && len != 4096)
		return inf_fail(f, f->len_line, f->len_col, "KeyLength = %lu: "
		    "not supported; use 2048, 3072 or 4096", len);
	p->bits = (unsigned)len;
	return 0;
}

/* A file name fit to show: anything unprintable becomes '?'. */
static void
shown_name(const char *base, char *buf, size_t len)
{
	char why[96];
	size_t i;

	snprintf(buf, len, "%s", base);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (hd_text_check(buf, len, why, sizeof(why)) == 0)
		return;
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
}

static int
finish(struct inf *f)
{
	struct hd_profile *p = f->p;
	const char *base = strrchr(p->path, '/');
	char stem[64], shown[256];

	if (!f->have_signature && f->sect_line[S_VERSION] != 0)
		return inf_fail(f, f->sect_line[S_VERSION], 1, "[Version] has "
		    "no Signature = \"$Windows NT$\"");
	if (!f->have_signature)
		return inf_fail(f, 1, 1, "no [Version] section with Signature "
		    "= \"$Windows NT$\"; certreq INF files start with it");
	if (f->sect_line[S_NEWREQ] == 0)
		return inf_fail(f, 1, 1, "no [NewRequest] section: nothing to "
		    "request");
	if (finish_key(f) == -1)
		return -1;
	base = base != NULL ? base + 1 : p->path;
	shown_name(base, shown, sizeof(shown));
	/* display names only: a long file name is shortened, visibly */
	snprintf(p->name, sizeof(p->name), "inf:%.52s%s", shown,
	    strlen(shown) > 52 ? "..." : "");
	snprintf(p->description, sizeof(p->description), "converted from "
	    "%.200s%s", shown, strlen(shown) > 200 ? "..." : "");
	if (p->label[0] == '\0') {
		hd_profile_name_from(base, stem, sizeof(stem));
		snprintf(p->label, sizeof(p->label), "%s-{date}", stem);
	}
	return 0;
}

static int
read_lines(struct inf *f, char *text)
{
	struct hd_inf_line l = { 0, NULL, NULL };
	struct inf_kv kv;
	size_t pos = 0;
	int rc;

	while ((rc = hd_inf_line(f->path, text, &pos, &l, f->err)) == 1) {
		if (l.s[0] == '\0')
			continue;
		if (l.s[0] == '[')
			rc = section_header(f, &l);
		else
			rc = split_kv(f, &l, &kv) == -1 ? -1 : dispatch(f, &kv);
		if (rc == -1)
			return -1;
	}
	return rc == 0 ? finish(f) : -1;
}

/*
 * Read a certreq INF file into p.  Without FriendlyName the label is
 * "<file name without .inf>-{date}".  On failure p holds only the
 * defaults and the path.
 */
int
hd_inf_load(struct hd_profile *p, const char *path, int allow_exportable,
    struct hd_err *err)
{
	struct inf *f;
	char *raw, *text;
	size_t len;
	int rc;

	hd_profile_init(p);
	if (strlen(path) >= sizeof(p->path))
		return hd_err_set(err, HD_E_INPUT, 0, "%.200s...: path too "
		    "long", path);
	snprintf(p->path, sizeof(p->path), "%s", path);
	if ((rc = hd_read_small(path, HD_TEXT_MAX, HD_E_INPUT, &raw, &len,
	    err)) != 0)
		return rc == 1 ? hd_err_set(err, HD_E_INPUT, 0, "%s: cannot "
		    "read: No such file or directory", path) : -1;
	rc = hd_inf_decode(path, raw, len, &text, err);
	free(raw);
	if (rc == -1)
		return -1;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		free(text);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	f->path = p->path;
	f->p = p;
	f->err = err;
	f->allow_exportable = allow_exportable;
	rc = read_lines(f, text);
	free(f);
	free(text);
	if (rc == -1) {
		hd_profile_init(p);
		snprintf(p->path, sizeof(p->path), "%s", path);
	}
	return rc;
}
