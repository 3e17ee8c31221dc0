/*
 * A profile as YAML text in the shared/PROFILES.md format, such that
 * hd_profile_load() reads back the same profile: `hsmdesk profile convert`
 * prints an INF file this way.  Every string is double-quoted with YAML's
 * escapes, so no value can turn into YAML syntax.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"

struct out {
	char *p;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || o->failed)
		return;
	if (o->len + (size_t)n + 1 > o->cap) {
		size_t cap = (o->len + (size_t)n + 1) * 2;
		char *q = realloc(o->p, cap);

		if (q == NULL) {
			o->failed = 1;
			return;
		}
		o->p = q;
		o->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* YAML 1.2 §7.3.1 double-quoted scalar. */
static void
put_quoted(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			put(o, "\\x%02x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

static void
put_key(struct out *o, const struct hd_profile *p)
{
	put(o, "key:\n  type: \"%s\"\n", p->type == HD_KEY_EC ? "ec" : "rsa");
	if (p->type == HD_KEY_EC)
		put(o, "  curve: \"%s\"\n", p->curve);
	else
		put(o, "  bits: %u\n", p->bits);
	if (p->label[0] != '\0') {
		put(o, "  label: ");
		put_quoted(o, p->label);
		put(o, "\n");
	}
	put(o, "  exportable: %s\n", p->exportable ? "true" : "false");
}

static void
put_list(struct out *o, const char *name, const char *items, size_t n,
    size_t stride)
{
	size_t i;

	if (n == 0)
		return;
	put(o, "  %s: [", name);
	for (i = 0; i < n; i++) {
		put(o, "%s", i ? ", " : "");
		put_quoted(o, items + i * stride);
	}
	put(o, "]\n");
}

static void
put_extensions(struct out *o, const struct hd_profile *p)
{
	const char *names[8];
	size_t n = 0, i;
	unsigned bit;

	if (p->key_usage == 0 && p->neku == 0 && p->nsan == 0)
		return;
	put(o, "extensions:\n");
	for (bit = 0x80; bit != 0; bit >>= 1)
		if ((p->key_usage & bit) && hd_ku_name(bit) != NULL)
			names[n++] = hd_ku_name(bit);
	if (n > 0) {
		put(o, "  key_usage: [");
		for (i = 0; i < n; i++)
			put(o, "%s\"%s\"", i ? ", " : "", names[i]);
		put(o, "]\n");
	}
	put_list(o, "extended_key_usage", p->eku[0], p->neku,
	    sizeof(p->eku[0]));
	put_list(o, "subject_alt_names", p->san[0], p->nsan,
	    sizeof(p->san[0]));
}

/* What an INF said that a YAML profile has no key for, as comments. */
static void
put_inf_notes(struct out *o, const struct hd_profile *p)
{
	size_t i;

	if (p->nignored > 0) {
		put(o, "# ignored from the INF file, no meaning on PKCS#11:");
		for (i = 0; i < p->nignored; i++)
			put(o, "%s %s", i ? "," : "", p->ignored[i]);
		put(o, "\n");
	}
	if (p->cert_template[0] != '\0') {
		put(o, "# the INF's certificate template, which a profile "
		    "cannot hold: ");
		put_quoted(o, p->cert_template);
		put(o, "\n");
	}
}

int
hd_profile_to_yaml(const struct hd_profile *p, char **out, struct hd_err *err)
{
	struct out o = { NULL, 0, 0, 0 };
	char name[sizeof(p->name)];
	size_t i;

	hd_profile_name_from(p->name, name, sizeof(name));
	put(&o, "# hsmdesk request profile\n");
	put_inf_notes(&o, p);
	put(&o, "name: \"%s\"\ndescription: ", name);
	put_quoted(&o, p->description);
	put(&o, "\n");
	put_key(&o, p);
	if (p->nsubject > 0)
		put(&o, "subject:\n");
	for (i = 0; i < p->nsubject; i++) {
		put(&o, "  %s: ", p->subject[i].type);
		put_quoted(&o, p->subject[i].value);
		put(&o, "\n");
	}
	put(&o, "hash: \"%s\"\n", p->hash);
	put_extensions(&o, p);
	if (o.failed || o.p == NULL) {
		free(o.p);
		*out = NULL;
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	*out = o.p;
	return 0;
}
