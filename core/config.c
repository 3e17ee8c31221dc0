/*
 * config.yaml: a flat mapping of known keys.  Unknown keys, duplicate keys,
 * anchors/aliases, non-scalar values and files over 64 KiB are refused
 * with file:line:column, the way request profiles are.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "hsmdesk.h"

#define CONFIG_MAX (64 * 1024)

enum cfg_type { CFG_STRING, CFG_SECONDS };

static const struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
} cfg_keys[] = {
	{ "module", CFG_STRING, offsetof(struct hd_config, module) },
	{ "token", CFG_STRING, offsetof(struct hd_config, token) },
	{ "idle_logout", CFG_SECONDS, offsetof(struct hd_config, idle_logout) },
};

static int
cfg_fail(struct hd_config *cfg, const yaml_event_t *ev, struct hd_err *err,
    const char *what)
{
	hd_err_set(err, HD_E_CONFIG, 0, "%s:%zu:%zu: %s", cfg->path,
	    ev->start_mark.line + 1, ev->start_mark.column + 1, what);
	hd_err_hint(err, "fix the file; 'man hsmdesk' lists the keys");
	return -1;
}

static const struct cfg_key *
cfg_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

static int
cfg_store(struct hd_config *cfg, const struct cfg_key *k,
    const yaml_event_t *v, struct hd_err *err)
{
	const char *val = (const char *)v->data.scalar.value;
	char *end, **sp;
	unsigned long n;

	if (k->type == CFG_STRING) {
		sp = (char **)((char *)cfg + k->offset);
		if (val[0] == '\0')
			return cfg_fail(cfg, v, err, "empty value");
		if ((*sp = strdup(val)) == NULL)
			return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		return 0;
	}
	errno = 0;
	n = strtoul(val, &end, 10);
	/* digits only: strtoul would skip blanks and negate a '-' */
	if (val[0] < '0' || val[0] > '9' || *end != '\0' || errno != 0 ||
	    n > 86400)
		return cfg_fail(cfg, v, err, "expected seconds, 0 to 86400");
	*(unsigned *)((char *)cfg + k->offset) = (unsigned)n;
	return 0;
}

static int
cfg_next(yaml_parser_t *p, yaml_event_t *ev, struct hd_config *cfg,
    struct hd_err *err)
{
	if (!yaml_parser_parse(p, ev)) {
		hd_err_set(err, HD_E_CONFIG, 0, "%s:%zu:%zu: %s", cfg->path,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    p->problem ? p->problem : "YAML syntax error");
		return -1;
	}
	if (ev->type == YAML_ALIAS_EVENT ||
	    (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
	    (ev->type == YAML_MAPPING_START_EVENT &&
	    ev->data.mapping_start.anchor) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT &&
	    ev->data.sequence_start.anchor)) {
		cfg_fail(cfg, ev, err, "anchors and aliases are not allowed");
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* One "key: value" pair, or the end of the mapping (returns 1). */
static int
cfg_pair(yaml_parser_t *p, struct hd_config *cfg, unsigned *seen,
    struct hd_err *err)
{
	yaml_event_t k, v;
	const struct cfg_key *key;
	int rc = -1;

	if (cfg_next(p, &k, cfg, err) == -1)
		return -1;
	if (k.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&k);
		return 1;
	}
	if (k.type != YAML_SCALAR_EVENT) {
		cfg_fail(cfg, &k, err, "expected a key");
		goto out_k;
	}
	key = cfg_find((const char *)k.data.scalar.value);
	if (key == NULL) {
		char what[160];
		snprintf(what, sizeof(what), "unknown key '%.100s'",
		    (const char *)k.data.scalar.value);
		cfg_fail(cfg, &k, err, what);
		goto out_k;
	}
	if (*seen & (1u << (key - cfg_keys))) {
		cfg_fail(cfg, &k, err, "duplicate key");
		goto out_k;
	}
	*seen |= 1u << (key - cfg_keys);
	if (cfg_next(p, &v, cfg, err) == -1)
		goto out_k;
	if (v.type != YAML_SCALAR_EVENT)
		cfg_fail(cfg, &v, err, "expected a single value");
	else
		rc = cfg_store(cfg, key, &v, err);
	yaml_event_delete(&v);
out_k:
	yaml_event_delete(&k);
	return rc;
}

/* After the mapping: the end of the one document, then of the stream. */
static int
cfg_end(yaml_parser_t *p, struct hd_config *cfg, struct hd_err *err)
{
	yaml_event_t ev;
	yaml_event_type_t type;
	int rc = 0;

	do {
		if (cfg_next(p, &ev, cfg, err) == -1)
			return -1;
		type = ev.type;	/* yaml_event_delete() clears it */
		if (type == YAML_DOCUMENT_START_EVENT)
			rc = cfg_fail(cfg, &ev, err, "only one YAML document "
			    "is allowed");
		yaml_event_delete(&ev);
	} while (rc == 0 && type != YAML_STREAM_END_EVENT &&
	    type != YAML_NO_EVENT);
	return rc;
}

static int
cfg_parse(yaml_parser_t *p, struct hd_config *cfg, struct hd_err *err)
{
	yaml_event_t ev;
	unsigned seen = 0;
	int rc, i;

	/* stream start, document start, mapping start */
	for (i = 0; i < 3; i++) {
		if (cfg_next(p, &ev, cfg, err) == -1)
			return -1;
		rc = ev.type;
		if (rc == YAML_STREAM_END_EVENT ||
		    (i == 2 && rc == YAML_SCALAR_EVENT &&
		    ev.data.scalar.length == 0)) {
			yaml_event_delete(&ev);
			return 0;	/* an empty file is fine */
		}
		if (i == 2 && rc != YAML_MAPPING_START_EVENT) {
			cfg_fail(cfg, &ev, err, "expected 'key: value' lines");
			yaml_event_delete(&ev);
			return -1;
		}
		yaml_event_delete(&ev);
	}
	while ((rc = cfg_pair(p, cfg, &seen, err)) == 0)
		;
	if (rc != 1)
		return -1;
	return cfg_end(p, cfg, err);
}

static int
cfg_read(const char *path, char **buf, size_t *len, struct hd_err *err)
{
	FILE *f = fopen(path, "rb");

	*buf = NULL;
	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		return hd_err_set(err, HD_E_CONFIG, 0, "%s: cannot read: %s",
		    path, strerror(errno));
	}
	if ((*buf = malloc(CONFIG_MAX + 1)) == NULL) {
		fclose(f);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	*len = fread(*buf, 1, CONFIG_MAX + 1, f);
	if (ferror(f) || *len > CONFIG_MAX) {
		hd_err_set(err, HD_E_CONFIG, 0, "%s: %s", path, ferror(f) ?
		    "read error" : "larger than 64 KiB");
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * Load path (NULL: the XDG default).  A missing file leaves the defaults;
 * an unreadable or invalid one is an error.
 */
int
hd_config_load(struct hd_config *cfg, const char *path, struct hd_err *err)
{
	yaml_parser_t p;
	char *buf;
	size_t len = 0;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->idle_logout = 300;
	if (path != NULL)
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	else if (hd_config_path(cfg->path, sizeof(cfg->path), err) == -1)
		return -1;
	if ((rc = cfg_read(cfg->path, &buf, &len, err)) != 0) {
		if (rc == 1)
			cfg->path[0] = '\0';
		return rc == 1 ? 0 : -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (unsigned char *)buf, len);
	rc = cfg_parse(&p, cfg, err);
	yaml_parser_delete(&p);
	free(buf);
	if (rc == -1)
		hd_config_free(cfg);
	return rc;
}

void
hd_config_free(struct hd_config *cfg)
{
	free(cfg->module);
	free(cfg->token);
	cfg->module = cfg->token = NULL;
}
