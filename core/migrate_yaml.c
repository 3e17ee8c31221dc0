/*
 * The migration plan file: written with libyaml's emitter (it quotes what
 * needs quoting) and read back through yamlutil's event parser into a
 * small node tree, so that every problem an officer's edit can make is
 * reported with the file, line and column.  Unknown keys are refused, as
 * in profiles: a typo must not silently mean "default".
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "migrate_int.h"
#include "yamlutil.h"

#define PLAN_MAX (1024 * 1024)
#define PLAN_HINT "fix the plan file, or make a new one with 'hsmdesk " \
	"migrate plan'"

static const char *const state_names[HD_MIG__COUNT] = {
	[HD_MIG_PLANNED] = "planned", [HD_MIG_GENERATING] = "generating",
	[HD_MIG_KEY] = "key-made", [HD_MIG_CSR] = "csr-written",
	[HD_MIG_DONE] = "done",
};

const char *
hd_mig_state_name(enum hd_mig_state st)
{
	return st < HD_MIG__COUNT ? state_names[st] : "?";
}

void
hd_mig_free(struct hd_mig_plan *p)
{
	free(p->ids);
	p->ids = NULL;
	p->n = 0;
}

/* ---- writing ---------------------------------------------------------- */

struct sink {
	char *p;
	size_t len, cap;
	int failed;
};

static int
sink_write(void *arg, unsigned char *buf, size_t size)
{
	struct sink *s = arg;
	char *np;

	if (s->len + size + 1 > s->cap) {
		size_t cap = (s->len + size + 1) * 2;

		if ((np = realloc(s->p, cap)) == NULL) {
			s->failed = 1;
			return 0;
		}
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, buf, size);
	s->len += size;
	s->p[s->len] = '\0';
	return 1;
}

static int
emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int
e_str(yaml_emitter_t *e, const char *s)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
	    (int)strlen(s), 1, 1, YAML_ANY_SCALAR_STYLE);
	return emit(e, &ev);
}

static int
e_kv(yaml_emitter_t *e, const char *k, const char *v)
{
	return e_str(e, k) == 0 && e_str(e, v) == 0 ? 0 : -1;
}

static int
e_map(yaml_emitter_t *e, int start)
{
	yaml_event_t ev;

	if (start)
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
	else
		yaml_mapping_end_event_initialize(&ev);
	return emit(e, &ev);
}

static int
e_side(yaml_emitter_t *e, const char *name, const struct hd_mig_side *s)
{
	return e_str(e, name) || e_map(e, 1) ||
	    e_kv(e, "module", s->module) || e_kv(e, "token", s->token) ||
	    e_kv(e, "serial", s->serial) || e_map(e, 0) ? -1 : 0;
}

static int
e_old(yaml_emitter_t *e, const struct hd_mig_ident *d)
{
	return e_str(e, "old") || e_map(e, 1) ||
	    e_kv(e, "key_label", d->old_label) ||
	    e_kv(e, "key_id", d->old_id) || e_kv(e, "key", d->old_key) ||
	    e_kv(e, "sha1", d->sha1) || e_kv(e, "sha256", d->sha256) ||
	    e_kv(e, "subject", d->subject) || e_kv(e, "issuer", d->issuer) ||
	    e_kv(e, "not_after", d->not_after) ||
	    e_kv(e, "expired", d->expired ? "true" : "false") ||
	    e_kv(e, "key_usage", d->ku) || e_kv(e, "eku", d->eku) ||
	    e_map(e, 0) ? -1 : 0;
}

static int
e_new(yaml_emitter_t *e, const struct hd_mig_ident *d)
{
	return e_str(e, "new") || e_map(e, 1) ||
	    e_kv(e, "key", d->new_key) || e_kv(e, "upgrade", d->upgrade) ||
	    e_kv(e, "label", d->new_label) ||
	    e_kv(e, "profile", d->profile) || e_kv(e, "csr", d->csr) ||
	    e_map(e, 0) ? -1 : 0;
}

static int
e_ident(yaml_emitter_t *e, const struct hd_mig_ident *d)
{
	return e_map(e, 1) || e_kv(e, "name", d->name) ||
	    e_kv(e, "action", d->skip ? "skip" : "migrate") ||
	    e_old(e, d) || e_new(e, d) ||
	    e_kv(e, "state", hd_mig_state_name(d->state)) ||
	    e_kv(e, "new_key_id", d->new_id) ||
	    e_kv(e, "new_sha1", d->new_sha1) || e_kv(e, "note", d->note) ||
	    e_map(e, 0) ? -1 : 0;
}

static int
e_plan(yaml_emitter_t *e, const struct hd_mig_plan *p)
{
	yaml_event_t ev;
	size_t i;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(e, &ev) == -1)
		return -1;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(e, &ev) || e_map(e, 1) || e_kv(e, "version", "1") ||
	    e_kv(e, "created", p->created) || e_side(e, "from", &p->from) ||
	    e_side(e, "to", &p->to) || e_str(e, "identities"))
		return -1;
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE);
	if (emit(e, &ev) == -1)
		return -1;
	for (i = 0; i < p->n; i++)
		if (e_ident(e, &p->ids[i]) == -1)
			return -1;
	yaml_sequence_end_event_initialize(&ev);
	if (emit(e, &ev) || e_map(e, 0))
		return -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(e, &ev) == -1)
		return -1;
	yaml_stream_end_event_initialize(&ev);
	return emit(e, &ev);
}

/* The whole plan to its file: temp file, fsync, rename; never half. */
int
hd_mig_save(const struct hd_mig_plan *p, struct hd_err *err)
{
	static const char head[] = "# hsmdesk migration plan.  Edit 'action' "
	    "(migrate or skip), the new key\n# ('new: key', 'label') or its "
	    "profile before 'hsmdesk migrate run';\n# the state fields are "
	    "hsmdesk's own.\n";
	struct sink s = { NULL, 0, 0, 0 };
	yaml_emitter_t e;
	int rc;

	sink_write(&s, (unsigned char *)head, sizeof(head) - 1);
	if (!yaml_emitter_initialize(&e))
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	yaml_emitter_set_output(&e, sink_write, &s);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, 100);
	rc = e_plan(&e, p);
	yaml_emitter_delete(&e);
	if (rc == -1 || s.failed)
		rc = hd_err_set(err, s.failed ? HD_E_NOMEM : HD_E_INTERNAL, 0,
		    "plan '%s': could not be written out", p->path);
	else
		rc = hd_write_atomic(p->path, s.p, s.len, 0600, err);
	free(s.p);
	return rc;
}

/* ---- reading: a node tree, then the fields ------------------------------ */

struct node {
	yaml_event_type_t type;		/* scalar, mapping or sequence start */
	char *value;			/* scalars */
	yaml_mark_t mark;
	struct node *kids;		/* mapping: key, value, key, value... */
	size_t n;
};

static void
node_free(struct node *nd)
{
	size_t i;

	for (i = 0; i < nd->n; i++)
		node_free(&nd->kids[i]);
	free(nd->kids);
	free(nd->value);
}

static int tree(struct hd_yaml *y, yaml_event_t *ev, struct node *nd,
    int depth);

/* The children of a mapping or sequence, up to its end event. */
static int
tree_kids(struct hd_yaml *y, struct node *nd, int depth)
{
	yaml_event_t ev;
	struct node *nk;

	for (;;) {
		if (hd_yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if ((nk = realloc(nd->kids, (nd->n + 1) * sizeof(*nk))) ==
		    NULL) {
			yaml_event_delete(&ev);
			return hd_err_set(y->err, HD_E_NOMEM, 0,
			    "out of memory");
		}
		nd->kids = nk;
		memset(&nk[nd->n], 0, sizeof(*nk));
		nd->n++;
		if (tree(y, &ev, &nk[nd->n - 1], depth + 1) == -1)
			return -1;
	}
}

static int
tree(struct hd_yaml *y, yaml_event_t *ev, struct node *nd, int depth)
{
	int rc = 0;

	nd->type = ev->type;
	nd->mark = ev->start_mark;
	if (depth > 8)
		rc = hd_yaml_fail(y, ev->start_mark, "nested too deeply");
	else if (ev->type == YAML_SCALAR_EVENT) {
		if (strlen((char *)ev->data.scalar.value) !=
		    ev->data.scalar.length)
			rc = hd_yaml_fail(y, ev->start_mark,
			    "NUL characters are not allowed");
		else if ((nd->value = strdup((char *)ev->data.scalar.value)) ==
		    NULL)
			rc = hd_err_set(y->err, HD_E_NOMEM, 0, "out of memory");
	} else if (ev->type != YAML_MAPPING_START_EVENT &&
	    ev->type != YAML_SEQUENCE_START_EVENT)
		rc = hd_yaml_fail(y, ev->start_mark, "unexpected YAML");
	yaml_event_delete(ev);
	if (rc == 0 && nd->type != YAML_SCALAR_EVENT)
		rc = tree_kids(y, nd, depth);
	return rc;
}

/* One field of a mapping: where its value goes and what it may hold. */
enum ftype { F_STR, F_BOOL, F_STATE, F_ACTION, F_VERSION };

struct field {
	const char *name;
	enum ftype type;
	size_t off, len;	/* in the struct being filled */
	int required;
};

#define S(st, f, req) { #f, F_STR, offsetof(st, f), \
	sizeof(((st *)0)->f), req }

static const struct field side_fields[] = {
	S(struct hd_mig_side, module, 1),
	S(struct hd_mig_side, token, 1),
	S(struct hd_mig_side, serial, 1),
	{ NULL, 0, 0, 0, 0 },
};

static const struct field old_fields[] = {
	{ "key_label", F_STR, offsetof(struct hd_mig_ident, old_label),
	  sizeof(((struct hd_mig_ident *)0)->old_label), 1 },
	{ "key_id", F_STR, offsetof(struct hd_mig_ident, old_id),
	  sizeof(((struct hd_mig_ident *)0)->old_id), 1 },
	{ "key", F_STR, offsetof(struct hd_mig_ident, old_key),
	  sizeof(((struct hd_mig_ident *)0)->old_key), 1 },
	S(struct hd_mig_ident, sha1, 1),
	S(struct hd_mig_ident, sha256, 0),
	S(struct hd_mig_ident, subject, 1),
	S(struct hd_mig_ident, issuer, 0),
	S(struct hd_mig_ident, not_after, 0),
	{ "expired", F_BOOL, offsetof(struct hd_mig_ident, expired), 0, 0 },
	{ "key_usage", F_STR, offsetof(struct hd_mig_ident, ku),
	  sizeof(((struct hd_mig_ident *)0)->ku), 0 },
	S(struct hd_mig_ident, eku, 0),
	{ NULL, 0, 0, 0, 0 },
};

static const struct field new_fields[] = {
	{ "key", F_STR, offsetof(struct hd_mig_ident, new_key),
	  sizeof(((struct hd_mig_ident *)0)->new_key), 1 },
	S(struct hd_mig_ident, upgrade, 0),
	{ "label", F_STR, offsetof(struct hd_mig_ident, new_label),
	  sizeof(((struct hd_mig_ident *)0)->new_label), 1 },
	S(struct hd_mig_ident, profile, 1),
	S(struct hd_mig_ident, csr, 1),
	{ NULL, 0, 0, 0, 0 },
};

static const struct field ident_fields[] = {
	S(struct hd_mig_ident, name, 1),
	{ "action", F_ACTION, offsetof(struct hd_mig_ident, skip), 0, 1 },
	{ "state", F_STATE, offsetof(struct hd_mig_ident, state), 0, 1 },
	{ "new_key_id", F_STR, offsetof(struct hd_mig_ident, new_id),
	  sizeof(((struct hd_mig_ident *)0)->new_id), 0 },
	{ "new_sha1", F_STR, offsetof(struct hd_mig_ident, new_sha1),
	  sizeof(((struct hd_mig_ident *)0)->new_sha1), 0 },
	S(struct hd_mig_ident, note, 0),
	{ NULL, 0, 0, 0, 0 },
};

static int
set_scalar(struct hd_yaml *y, const struct field *f, const struct node *v,
    void *base)
{
	char *dst = (char *)base + f->off;
	size_t i;

	if (v->type != YAML_SCALAR_EVENT)
		return hd_yaml_fail(y, v->mark, "'%s': expected one value",
		    f->name);
	switch (f->type) {
	case F_STR:
		if (strlen(v->value) >= f->len)
			return hd_yaml_fail(y, v->mark, "'%s': longer than "
			    "%zu characters", f->name, f->len - 1);
		memcpy(dst, v->value, strlen(v->value) + 1);
		return 0;
	case F_BOOL:
		if (strcmp(v->value, "true") && strcmp(v->value, "false"))
			return hd_yaml_fail(y, v->mark, "'%s': expected true "
			    "or false", f->name);
		*(int *)dst = strcmp(v->value, "true") == 0;
		return 0;
	case F_ACTION:
		if (strcmp(v->value, "migrate") && strcmp(v->value, "skip"))
			return hd_yaml_fail(y, v->mark, "'action': expected "
			    "migrate or skip");
		*(int *)dst = strcmp(v->value, "skip") == 0;
		return 0;
	case F_STATE:
		for (i = 0; i < HD_MIG__COUNT; i++)
			if (strcmp(v->value, state_names[i]) == 0) {
				*(enum hd_mig_state *)dst = (enum hd_mig_state)i;
				return 0;
			}
		return hd_yaml_fail(y, v->mark, "'state': '%.40s' is not one "
		    "of planned, generating, key-made, csr-written, done",
		    v->value);
	default:
		if (strcmp(v->value, "1"))
			return hd_yaml_fail(y, v->mark, "'version': this "
			    "hsmdesk reads plan version 1");
		return 0;
	}
}

/* A mapping's keys against a table; nested mappings go to sub(). */
static int
fill(struct hd_yaml *y, const struct node *m, const struct field *fs,
    void *base, const char *what,
    int (*sub)(struct hd_yaml *, const char *, const struct node *, void *))
{
	unsigned seen = 0, bit;
	size_t i, k;
	int r;

	if (m->type != YAML_MAPPING_START_EVENT)
		return hd_yaml_fail(y, m->mark, "%s: expected 'key: value' "
		    "lines", what);
	for (i = 0; i + 1 < m->n; i += 2) {
		const struct node *key = &m->kids[i], *v = &m->kids[i + 1];

		if (key->type != YAML_SCALAR_EVENT)
			return hd_yaml_fail(y, key->mark, "expected a key");
		for (k = 0; fs[k].name && strcmp(fs[k].name, key->value); k++)
			;
		if (fs[k].name == NULL) {
			r = sub ? sub(y, key->value, v, base) : 1;
			if (r == 1)
				return hd_yaml_fail(y, key->mark, "%s: unknown "
				    "key '%.60s'", what, key->value);
			if (r == -1)
				return -1;
			continue;
		}
		bit = 1u << k;
		if (seen & bit)
			return hd_yaml_fail(y, key->mark, "duplicate key "
			    "'%s'", fs[k].name);
		seen |= bit;
		if (set_scalar(y, &fs[k], v, base) == -1)
			return -1;
	}
	for (k = 0; fs[k].name; k++)
		if (fs[k].required && !(seen & (1u << k)))
			return hd_yaml_fail(y, m->mark, "%s: '%s' is missing",
			    what, fs[k].name);
	return 0;
}

static int
ident_sub(struct hd_yaml *y, const char *key, const struct node *v,
    void *base)
{
	if (strcmp(key, "old") == 0)
		return fill(y, v, old_fields, base, "old", NULL);
	if (strcmp(key, "new") == 0)
		return fill(y, v, new_fields, base, "new", NULL);
	return 1;
}

static int
plan_sub(struct hd_yaml *y, const char *key, const struct node *v,
    void *base)
{
	struct hd_mig_plan *p = base;
	size_t i;

	if (strcmp(key, "from") == 0)
		return fill(y, v, side_fields, &p->from, "from", NULL);
	if (strcmp(key, "to") == 0)
		return fill(y, v, side_fields, &p->to, "to", NULL);
	if (strcmp(key, "identities") != 0)
		return 1;
	if (v->type != YAML_SEQUENCE_START_EVENT)
		return hd_yaml_fail(y, v->mark, "identities: expected a list "
		    "('- name: ...')");
	if (p->ids != NULL)
		return hd_yaml_fail(y, v->mark, "duplicate key 'identities'");
	if (v->n > 0 && (p->ids = calloc(v->n, sizeof(*p->ids))) == NULL)
		return hd_err_set(y->err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < v->n; i++, p->n++)
		if (fill(y, &v->kids[i], ident_fields, &p->ids[i],
		    "identity", ident_sub) == -1)
			return -1;
	return 0;
}

static const struct field plan_fields[] = {
	{ "version", F_VERSION, 0, 0, 1 },
	S(struct hd_mig_plan, created, 0),
	{ NULL, 0, 0, 0, 0 },
};

static int
plan_parse(struct hd_yaml *y, struct hd_mig_plan *p)
{
	yaml_event_t ev;
	struct node root;
	int rc;

	memset(&root, 0, sizeof(root));
	if ((rc = hd_yaml_begin(y, &ev)) != 0) {
		if (rc == 1)
			hd_err_set(y->err, HD_E_INPUT, 0, "%s: empty; not a "
			    "migration plan", y->path);
		return -1;
	}
	rc = tree(y, &ev, &root, 0);
	if (rc == 0)
		rc = fill(y, &root, plan_fields, p, "plan", plan_sub);
	if (rc == 0 && p->from.serial[0] == '\0')
		rc = hd_yaml_fail(y, root.mark, "plan: 'from' is missing");
	if (rc == 0 && p->to.serial[0] == '\0')
		rc = hd_yaml_fail(y, root.mark, "plan: 'to' is missing");
	node_free(&root);
	return rc == 0 ? hd_yaml_finish(y) : -1;
}

int
hd_mig_load(const char *path, struct hd_mig_plan *p, struct hd_err *err)
{
	struct hd_yaml y;
	char *buf;
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	hd_err_clear(err);
	if (strlen(path) >= sizeof(p->path))
		return hd_err_set(err, HD_E_INPUT, 0, "plan path too long");
	snprintf(p->path, sizeof(p->path), "%s", path);
	rc = hd_read_small(path, PLAN_MAX, HD_E_INPUT, &buf, &len, err);
	if (rc == 1) {
		hd_err_set(err, HD_E_INPUT, 0, "plan '%s': no such file", path);
		hd_err_hint(err, "make one with 'hsmdesk migrate plan'");
	}
	if (rc != 0)
		return -1;
	hd_yaml_init(&y, path, buf, len, HD_E_INPUT, PLAN_HINT, err);
	rc = plan_parse(&y, p);
	hd_yaml_done(&y);
	free(buf);
	if (rc == 0)
		rc = hd_mig_validate(p, err);
	if (rc == -1)
		hd_mig_free(p);
	return rc;
}
