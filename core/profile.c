/*
 * Request profiles in YAML (shared/PROFILES.md): read with libyaml's event
 * parser and a table of keys per mapping.  Anything not in a table is
 * refused (unknown and duplicate keys, anchors and aliases, wrong types,
 * values out of range or too long for their field) with the file, line
 * and column, and the whole file is read before anything is returned.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"
#include "yamlutil.h"

#define PROFILE_HINT "fix the profile; 'man hsmdesk' describes the format"
#define TOP_KEYS "name, description, key, subject, hash, extensions"
#define KEY_KEYS "type, bits, curve, label, exportable"
#define EXT_KEYS "key_usage, extended_key_usage, subject_alt_names"
#define RSA_BITS "use 2048, 3072 or 4096"
#define KU_NAMES "digitalSignature, nonRepudiation (or contentCommitment), " \
	"keyEncipherment, dataEncipherment, keyAgreement, keyCertSign or " \
	"cRLSign"

/* One profile being read, and where things were for the later checks. */
struct pp {
	struct hd_yaml y;
	struct hd_profile *p;
	yaml_mark_t root_at, key_at, bits_at, curve_at;
	unsigned long bits;
	char bits_text[24];		/* as written, for messages */
	int have_name, have_key, have_type, have_bits, have_curve, have_label;
	size_t subject_line[HD_DN_MAX];
};

struct field {
	const char *name;
	int (*fn)(struct pp *x, const yaml_event_t *v);
};

#define N(t) (sizeof(t) / sizeof((t)[0]))

static int fail(struct pp *x, const yaml_event_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct pp *x, const yaml_event_t *ev, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hd_yaml_fail(&x->y, ev->start_mark, "%s", what);
}

/* A setter refused the value: say where, and how to fix the file. */
static int
fail_at(struct pp *x, const yaml_event_t *ev, const char *what)
{
	hd_err_prefix(x->y.err, "%s:%zu:%zu: %s", x->y.path,
	    ev->start_mark.line + 1, ev->start_mark.column + 1, what);
	hd_err_hint(x->y.err, "%s", PROFILE_HINT);
	return -1;
}

static const char *
kind(const yaml_event_t *v)
{
	return v->type == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping";
}

/* v as text: one scalar, no NUL inside, not YAML's null. */
static const char *
text(struct pp *x, const yaml_event_t *v, const char *what)
{
	const char *s = (const char *)v->data.scalar.value;

	if (v->type != YAML_SCALAR_EVENT)
		fail(x, v, "%s: expected a single value, not %s", what,
		    kind(v));
	else if (strlen(s) != v->data.scalar.length)
		fail(x, v, "%s: contains a NUL character", what);
	else if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL")))
		fail(x, v, "%s: null is not a value; write a string in "
		    "quotes", what);
	else
		return s;
	return NULL;
}

/* "name: value" pairs of one mapping, each handled by its table entry. */
static int
walk_map(struct pp *x, const char *section, const struct field *f, size_t n,
    const char *allowed)
{
	yaml_event_t k, v;
	size_t first[8] = { 0 }, i;
	const char *name;
	int rc;

	for (;;) {
		if (hd_yaml_next(&x->y, &k) == -1)
			return -1;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		rc = -1;
		if (k.type != YAML_SCALAR_EVENT) {
			fail(x, &k, "%s%sexpected a key name, not %s", section,
			    section[0] ? ": " : "", kind(&k));
			goto next;
		}
		if ((name = text(x, &k, section[0] ? section : "profile")) ==
		    NULL)
			goto next;
		for (i = 0; i < n && strcmp(f[i].name, name) != 0; i++)
			;
		if (i == n) {
			hd_yaml_fail(&x->y, k.start_mark, "%s%sunknown key "
			    "'%.60s'; allowed: %s", section, section[0] ?
			    ": " : "", hd_shown(name), allowed);
			goto next;
		}
		if (first[i] != 0) {
			hd_yaml_fail(&x->y, k.start_mark, "%s%s%s: given twice "
			    "(first on line %zu)", section, section[0] ? "." :
			    "", name, first[i]);
			goto next;
		}
		first[i] = k.start_mark.line + 1;
		if (hd_yaml_next(&x->y, &v) == 0) {
			rc = f[i].fn(x, &v);
			yaml_event_delete(&v);
		}
next:
		yaml_event_delete(&k);
		if (rc == -1)
			return -1;
	}
}

/* ---- name, description, hash ------------------------------------------- */

static int
f_name(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "name");

	if (s == NULL)
		return -1;
	if (!hd_profile_name_ok(s))
		return fail(x, v, "name: '%.80s' must be 1 to 63 of a-z, 0-9, "
		    "'.', '_' and '-'", hd_shown(s));
	snprintf(x->p->name, sizeof(x->p->name), "%s", s);
	x->have_name = 1;
	return 0;
}

static int
f_description(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "description");
	char why[96];

	if (s == NULL)
		return -1;
	if (hd_text_check(s, sizeof(x->p->description), why,
	    sizeof(why)) == -1)
		return fail(x, v, "description: %s", why);
	snprintf(x->p->description, sizeof(x->p->description), "%s", s);
	return 0;
}

static int
f_hash(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "hash");

	if (s == NULL)
		return -1;
	if (strcmp(s, "sha256") && strcmp(s, "sha384") && strcmp(s, "sha512"))
		return fail(x, v, "hash: '%.40s' is not supported; use sha256, "
		    "sha384 or sha512%s", hd_shown(s), strncmp(s, "sha1", 4) &&
		    strncmp(s, "md5", 3) ? "" : " (SHA-1 and MD5 are broken)");
	snprintf(x->p->hash, sizeof(x->p->hash), "%s", s);
	return 0;
}

/* ---- key --------------------------------------------------------------- */

static int
f_type(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "key.type");

	if (s == NULL)
		return -1;
	if (strcmp(s, "rsa") != 0 && strcmp(s, "ec") != 0)
		return fail(x, v, "key.type: '%.40s' is not supported; use rsa "
		    "or ec", hd_shown(s));
	x->p->type = strcmp(s, "rsa") == 0 ? HD_KEY_RSA : HD_KEY_EC;
	x->have_type = 1;
	return 0;
}

static int
f_bits(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "key.bits");
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
		;
	/* no quotes, and no leading zero, which YAML 1.1 reads as octal */
	if (i == 0 || s[i] != '\0' || s[0] == '0' ||
	    v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(x, v, "key.bits: '%.40s' is not a number; "
		    RSA_BITS, hd_shown(s));
	x->bits = i > 9 ? 999999999UL : strtoul(s, NULL, 10);
	snprintf(x->bits_text, sizeof(x->bits_text), "%.20s", s);
	x->bits_at = v->start_mark;
	x->have_bits = 1;
	return 0;
}

static int
f_curve(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "key.curve");

	if (s == NULL)
		return -1;
	if (strcmp(s, "P-256") != 0 && strcmp(s, "P-384") != 0)
		return fail(x, v, "key.curve: '%.40s' is not supported; use "
		    "P-256 or P-384", hd_shown(s));
	snprintf(x->p->curve, sizeof(x->p->curve), "%s", s);
	x->curve_at = v->start_mark;
	x->have_curve = 1;
	return 0;
}

static int
f_label(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "key.label");

	if (s == NULL)
		return -1;
	if (hd_profile_set_label(x->p, s, x->y.err) == -1)
		return fail_at(x, v, "key.");
	x->have_label = 1;
	return 0;
}

static int
f_exportable(struct pp *x, const yaml_event_t *v)
{
	const char *s = text(x, v, "key.exportable");
	int plain = v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

	if (s == NULL)
		return -1;
	/* YAML 1.2's booleans only: no yes/no/on/off, no quoted "true" */
	if (plain && (!strcmp(s, "true") || !strcmp(s, "True") ||
	    !strcmp(s, "TRUE")))
		x->p->exportable = 1;
	else if (plain && (!strcmp(s, "false") || !strcmp(s, "False") ||
	    !strcmp(s, "FALSE")))
		x->p->exportable = 0;
	else
		return fail(x, v, "key.exportable: '%.40s' is not a boolean; "
		    "use true or false", hd_shown(s));
	return 0;
}

static const struct field key_fields[] = {
	{ "type", f_type }, { "bits", f_bits }, { "curve", f_curve },
	{ "label", f_label }, { "exportable", f_exportable },
};

static int
key_fail(struct pp *x, yaml_mark_t at, const char *what)
{
	return hd_yaml_fail(&x->y, at, "%s", what);
}

/* What depends on the type, once the whole mapping is read. */
static int
key_check(struct pp *x)
{
	if (!x->have_type)
		return key_fail(x, x->key_at, "key.type: required; use rsa or "
		    "ec");
	if (x->p->type == HD_KEY_EC) {
		if (x->have_bits)
			return key_fail(x, x->bits_at, "key.bits: only for "
			    "type rsa; an ec key's size comes from its curve "
			    "(P-256 or P-384)");
		if (!x->have_curve)
			return key_fail(x, x->key_at, "key.curve: required for "
			    "type ec; use P-256 or P-384");
		return 0;
	}
	if (x->have_curve)
		return key_fail(x, x->curve_at, "key.curve: only for type ec; "
		    "an rsa key takes bits: 2048, 3072 or 4096");
	if (!x->have_bits)
		return key_fail(x, x->key_at, "key.bits: required for type "
		    "rsa; " RSA_BITS);
	if (x->bits < 2048)
		return hd_yaml_fail(&x->y, x->bits_at, "key.bits: %s is below "
		    "the minimum; " RSA_BITS, x->bits_text);
	if (x->bits != 2048 && x->bits != 3072 && x->bits != 4096)
		return hd_yaml_fail(&x->y, x->bits_at, "key.bits: %s is not "
		    "supported; " RSA_BITS, x->bits_text);
	x->p->bits = (unsigned)x->bits;
	return 0;
}

static int
f_key(struct pp *x, const yaml_event_t *v)
{
	if (v->type != YAML_MAPPING_START_EVENT)
		return fail(x, v, "key: expected a mapping of " KEY_KEYS);
	x->key_at = v->start_mark;
	x->have_key = 1;
	if (walk_map(x, "key", key_fields, N(key_fields), KEY_KEYS) == -1)
		return -1;
	return key_check(x);
}

/* ---- subject ----------------------------------------------------------- */

/* One "TYPE: value" of the subject; returns 1 at the end. */
static int
subject_pair(struct pp *x)
{
	struct hd_profile *p = x->p;
	yaml_event_t k, v;
	const char *type, *val;
	size_t i;
	int rc = -1;

	if (hd_yaml_next(&x->y, &k) == -1)
		return -1;
	if (k.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&k);
		return 1;
	}
	if ((type = text(x, &k, "subject")) == NULL)
		goto out;
	if (p->nsubject == HD_DN_MAX) {
		fail(x, &k, "subject: more than %d attributes", HD_DN_MAX);
		goto out;
	}
	if (hd_rdn_set(&p->subject[p->nsubject], type, "", x->y.err) == -1) {
		fail_at(x, &k, "subject: ");
		goto out;
	}
	for (i = 0; i < p->nsubject; i++)
		if (!strcmp(p->subject[i].type, p->subject[p->nsubject].type)) {
			hd_yaml_fail(&x->y, k.start_mark, "subject: %s given "
			    "twice (first on line %zu)", p->subject[i].type,
			    x->subject_line[i]);
			goto out;
		}
	if (hd_yaml_next(&x->y, &v) == -1)
		goto out;
	if ((val = text(x, &v, "subject")) != NULL) {
		rc = hd_rdn_set(&p->subject[p->nsubject], type, val,
		    x->y.err) == -1 ? fail_at(x, &v, "subject: ") : 0;
		x->subject_line[p->nsubject++] = k.start_mark.line + 1;
	}
	yaml_event_delete(&v);
out:
	yaml_event_delete(&k);
	return rc;
}

static int
f_subject(struct pp *x, const yaml_event_t *v)
{
	int rc;

	if (v->type != YAML_MAPPING_START_EVENT)
		return fail(x, v, "subject: expected a mapping such as "
		    "'CN: \"\"'");
	while ((rc = subject_pair(x)) == 0)
		;
	return rc == 1 ? 0 : -1;
}

/* ---- extensions -------------------------------------------------------- */

/* Each item of a list, handed to add(); returns 0 at the end. */
static int
walk_list(struct pp *x, const yaml_event_t *v, const char *what,
    const char *example, int (*add)(struct pp *, const yaml_event_t *,
    const char *))
{
	yaml_event_t item;
	const char *s;
	int rc;

	if (v->type != YAML_SEQUENCE_START_EVENT)
		return fail(x, v, "%s: expected a list, e.g. [%s]", what,
		    example);
	for (;;) {
		if (hd_yaml_next(&x->y, &item) == -1)
			return -1;
		if (item.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&item);
			return 0;
		}
		rc = (s = text(x, &item, what)) == NULL ? -1 :
		    add(x, &item, s);
		yaml_event_delete(&item);
		if (rc == -1)
			return -1;
	}
}

static int
add_ku(struct pp *x, const yaml_event_t *item, const char *s)
{
	unsigned bit;

	if (hd_ku_lookup(s, &bit) == -1)
		return fail(x, item, "extensions.key_usage: '%.40s' is not a "
		    "key usage; use %s", hd_shown(s), KU_NAMES);
	if (x->p->key_usage & bit)
		return fail(x, item, "extensions.key_usage: %s is listed "
		    "twice", hd_ku_name(bit));
	x->p->key_usage |= bit;
	return 0;
}

static int
add_eku(struct pp *x, const yaml_event_t *item, const char *s)
{
	return hd_profile_add_eku(x->p, s, x->y.err) == -1 ?
	    fail_at(x, item, "") : 0;
}

static int
add_san(struct pp *x, const yaml_event_t *item, const char *s)
{
	return hd_profile_add_san(x->p, s, x->y.err) == -1 ?
	    fail_at(x, item, "") : 0;
}

static int
f_ku(struct pp *x, const yaml_event_t *v)
{
	return walk_list(x, v, "extensions.key_usage", "digitalSignature",
	    add_ku);
}

static int
f_eku(struct pp *x, const yaml_event_t *v)
{
	return walk_list(x, v, "extensions.extended_key_usage", "codeSigning",
	    add_eku);
}

static int
f_san(struct pp *x, const yaml_event_t *v)
{
	return walk_list(x, v, "extensions.subject_alt_names",
	    "\"DNS:www.example.com\"", add_san);
}

static const struct field ext_fields[] = {
	{ "key_usage", f_ku }, { "extended_key_usage", f_eku },
	{ "subject_alt_names", f_san },
};

static int
f_extensions(struct pp *x, const yaml_event_t *v)
{
	if (v->type != YAML_MAPPING_START_EVENT)
		return fail(x, v, "extensions: expected a mapping of "
		    EXT_KEYS);
	return walk_map(x, "extensions", ext_fields, N(ext_fields), EXT_KEYS);
}

/* ---- the document ------------------------------------------------------ */

static const struct field top_fields[] = {
	{ "name", f_name }, { "description", f_description },
	{ "key", f_key }, { "subject", f_subject }, { "hash", f_hash },
	{ "extensions", f_extensions },
};

static int
parse(struct pp *x)
{
	yaml_event_t root;
	yaml_mark_t start = { 0, 0, 0 };
	int rc = hd_yaml_begin(&x->y, &root);

	if (rc == 1)
		return hd_yaml_fail(&x->y, start, "empty; a profile needs at "
		    "least name and key");
	if (rc == -1)
		return -1;
	x->root_at = root.start_mark;
	rc = root.type == YAML_MAPPING_START_EVENT ? 0 :
	    fail(x, &root, "expected a profile: 'key: value' lines ("
	    TOP_KEYS ")");
	yaml_event_delete(&root);
	if (rc == -1 || walk_map(x, "", top_fields, N(top_fields),
	    TOP_KEYS) == -1)
		return -1;
	if (!x->have_name)
		return hd_yaml_fail(&x->y, x->root_at, "name: required; 1 to "
		    "63 of a-z, 0-9, '.', '_' and '-'");
	if (!x->have_key)
		return hd_yaml_fail(&x->y, x->root_at, "key: required; the "
		    "type and size of the key to make");
	return hd_yaml_finish(&x->y);
}

/*
 * Read the profile at path into p.  Without key.label the label is
 * "<name>-{date}".  On failure p holds only the defaults and the path.
 */
int
hd_profile_load(struct hd_profile *p, const char *path, struct hd_err *err)
{
	struct pp x;
	char *buf;
	size_t len;
	int rc;

	hd_profile_init(p);
	if (strlen(path) >= sizeof(p->path))
		return hd_err_set(err, HD_E_INPUT, 0, "%.200s...: path too "
		    "long", path);
	snprintf(p->path, sizeof(p->path), "%s", path);
	rc = hd_read_small(path, HD_TEXT_MAX, HD_E_INPUT, &buf, &len, err);
	if (rc != 0)
		return rc == 1 ? hd_err_set(err, HD_E_INPUT, 0, "%s: cannot "
		    "read: %s", path, strerror(ENOENT)) : -1;
	memset(&x, 0, sizeof(x));
	x.p = p;
	hd_yaml_init(&x.y, p->path, buf, len, HD_E_INPUT, PROFILE_HINT, err);
	rc = parse(&x);
	hd_yaml_done(&x.y);
	free(buf);
	if (rc == -1) {
		hd_profile_init(p);
		snprintf(p->path, sizeof(p->path), "%s", path);
		return -1;
	}
	if (!x.have_label)
		snprintf(p->label, sizeof(p->label), "%s-{date}", p->name);
	hd_dn_order(p->subject, p->nsubject);
	return 0;
}
