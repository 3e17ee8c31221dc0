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

#include "hsmdesk.h"
#include "internal.h"
#include "yamlutil.h"

enum cfg_type { CFG_STRING, CFG_SECONDS, CFG_STORE, CFG_BOOL, CFG_URLS };

static const struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
} cfg_keys[] = {
	{ "module", CFG_STRING, offsetof(struct hd_config, module) },
	{ "token", CFG_STRING, offsetof(struct hd_config, token) },
	{ "module2", CFG_STRING, offsetof(struct hd_config, module2) },
	{ "token2", CFG_STRING, offsetof(struct hd_config, token2) },
	{ "idle_logout", CFG_SECONDS, offsetof(struct hd_config, idle_logout) },
	{ "cert_store", CFG_STORE, offsetof(struct hd_config, cert_store) },
	{ "audit_log", CFG_STRING, offsetof(struct hd_config, audit_log) },
	{ "allow_no_audit", CFG_BOOL,
	  offsetof(struct hd_config, allow_no_audit) },
	{ "vendor", CFG_STRING, offsetof(struct hd_config, vendor) },
	{ "p11kit_server", CFG_STRING,
	  offsetof(struct hd_config, p11kit_server) },
	{ "tsa", CFG_URLS, offsetof(struct hd_config, tsa) },
};

/* cert_store: values in enum hd_cert_store's order. */
static const char *const store_names[] = {
	[HD_STORE_AUTO] = "auto", [HD_STORE_TOKEN] = "token",
	[HD_STORE_LOCAL] = "local",
};

#define CFG_HINT "fix the file; 'man hsmdesk' lists the keys"

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
cfg_store(struct hd_yaml *y, struct hd_config *cfg, const struct cfg_key *k,
    const yaml_event_t *v)
{
	const char *val = (const char *)v->data.scalar.value;
	char *end, **sp;
	unsigned long n;

	if (k->type == CFG_URLS) {
		if (val[0] == '\0')
			return hd_yaml_fail(y, v->start_mark, "empty value");
		if (cfg->ntsa == HD_TSA_URLS)
			return hd_yaml_fail(y, v->start_mark, "at most %d TSA "
			    "URLs", HD_TSA_URLS);
		if ((cfg->tsa[cfg->ntsa] = strdup(val)) == NULL)
			return hd_err_set(y->err, HD_E_NOMEM, 0,
			    "out of memory");
		cfg->ntsa++;
		return 0;
	}
	if (k->type == CFG_STRING) {
		sp = (char **)((char *)cfg + k->offset);
		if (val[0] == '\0')
			return hd_yaml_fail(y, v->start_mark, "empty value");
		if ((*sp = strdup(val)) == NULL)
			return hd_err_set(y->err, HD_E_NOMEM, 0,
			    "out of memory");
		return 0;
	}
	if (k->type == CFG_STORE) {
		for (n = 0; n < sizeof(store_names) / sizeof(store_names[0]);
		    n++)
			if (strcmp(val, store_names[n]) == 0) {
				*(int *)((char *)cfg + k->offset) = (int)n;
				return 0;
			}
		return hd_yaml_fail(y, v->start_mark,
		    "expected auto, token or local");
	}
	if (k->type == CFG_BOOL) {
		if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
			return hd_yaml_fail(y, v->start_mark,
			    "expected true or false");
		*(int *)((char *)cfg + k->offset) = strcmp(val, "true") == 0;
		return 0;
	}
	errno = 0;
	n = strtoul(val, &end, 10);
	/* digits only: strtoul would skip blanks and negate a '-' */
	if (val[0] < '0' || val[0] > '9' || *end != '\0' || errno != 0 ||
	    n > 86400)
		return hd_yaml_fail(y, v->start_mark,
		    "expected seconds, 0 to 86400");
	*(unsigned *)((char *)cfg + k->offset) = (unsigned)n;
	return 0;
}

/* "\0" in a quoted scalar would cut the C string short: -1 if there. */
static int
cfg_nul(struct hd_yaml *y, const yaml_event_t *ev)
{
	if (strlen((const char *)ev->data.scalar.value) ==
	    ev->data.scalar.length)
		return 0;
	return hd_yaml_fail(y, ev->start_mark,
	    "NUL characters are not allowed");
}

/* tsa: a list of URLs ("- http://..." lines or [a, b]), each a scalar. */
static int
cfg_list(struct hd_yaml *y, struct hd_config *cfg, const struct cfg_key *key)
{
	yaml_event_t v;
	int rc = 0;

	while (rc == 0 && hd_yaml_next(y, &v) == 0) {
		if (v.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&v);
			return 0;
		}
		if (v.type != YAML_SCALAR_EVENT)
			rc = hd_yaml_fail(y, v.start_mark, "expected a URL");
		else if ((rc = cfg_nul(y, &v)) == 0)
			rc = cfg_store(y, cfg, key, &v);
		yaml_event_delete(&v);
	}
	return -1;
}

/* One "key: value" pair, or the end of the mapping (returns 1). */
static int
cfg_pair(struct hd_yaml *y, struct hd_config *cfg, unsigned *seen)
{
	yaml_event_t k, v;
	const struct cfg_key *key;
	int rc = -1;

	if (hd_yaml_next(y, &k) == -1)
		return -1;
	if (k.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&k);
		return 1;
	}
	if (k.type != YAML_SCALAR_EVENT) {
		hd_yaml_fail(y, k.start_mark, "expected a key");
		goto out_k;
	}
	if (cfg_nul(y, &k) == -1)
		goto out_k;
	key = cfg_find((const char *)k.data.scalar.value);
	if (key == NULL) {
		hd_yaml_fail(y, k.start_mark, "unknown key '%.100s'",
		    (const char *)k.data.scalar.value);
		goto out_k;
	}
	if (*seen & (1u << (key - cfg_keys))) {
		hd_yaml_fail(y, k.start_mark, "duplicate key");
		goto out_k;
	}
	*seen |= 1u << (key - cfg_keys);
	if (hd_yaml_next(y, &v) == -1)
		goto out_k;
	if (key->type == CFG_URLS && v.type == YAML_SEQUENCE_START_EVENT)
		rc = cfg_list(y, cfg, key);
	else if (v.type != YAML_SCALAR_EVENT)
		hd_yaml_fail(y, v.start_mark, "expected a single value");
	else if (cfg_nul(y, &v) == 0)
		rc = cfg_store(y, cfg, key, &v);
	yaml_event_delete(&v);
out_k:
	yaml_event_delete(&k);
	return rc;
}

static int
cfg_parse(struct hd_yaml *y, struct hd_config *cfg)
{
	yaml_event_t ev;
	unsigned seen = 0;
	int rc;

	/* an empty file is fine; what follows it must be too */
	if ((rc = hd_yaml_begin(y, &ev)) != 0)
		return rc == 1 ? 0 : -1;
	rc = ev.type;
	if (rc != YAML_MAPPING_START_EVENT)
		hd_yaml_fail(y, ev.start_mark, "expected 'key: value' lines");
	yaml_event_delete(&ev);
	if (rc != YAML_MAPPING_START_EVENT)
		return -1;
	while ((rc = cfg_pair(y, cfg, &seen)) == 0)
		;
	if (rc != 1)
		return -1;
	return hd_yaml_finish(y);
}

/*
 * Load path (NULL: the XDG default).  A missing file leaves the defaults;
 * an unreadable or invalid one is an error.
 */
int
hd_config_load(struct hd_config *cfg, const char *path, struct hd_err *err)
{
	struct hd_yaml y;
	char *buf;
	size_t len = 0;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->idle_logout = 300;
	if (path != NULL)
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	else if (hd_config_path(cfg->path, sizeof(cfg->path), err) == -1)
		return -1;
	if (hd_perm_check_file(cfg->path, HD_E_CONFIG, err) == -1)
		return -1;
	rc = hd_read_small(cfg->path, HD_TEXT_MAX, HD_E_CONFIG, &buf, &len,
	    err);
	if (rc != 0) {
		if (rc == 1)
			cfg->path[0] = '\0';
		return rc == 1 ? 0 : -1;
	}
	hd_yaml_init(&y, cfg->path, buf, len, HD_E_CONFIG, CFG_HINT, err);
	rc = cfg_parse(&y, cfg);
	hd_yaml_done(&y);
	free(buf);
	if (rc == -1)
		hd_config_free(cfg);
	return rc;
}

void
hd_config_free(struct hd_config *cfg)
{
	size_t i;

	free(cfg->module);
	free(cfg->token);
	free(cfg->audit_log);
	free(cfg->module2);
	free(cfg->token2);
	free(cfg->vendor);
	free(cfg->p11kit_server);
	cfg->module = cfg->token = cfg->audit_log = NULL;
	cfg->module2 = cfg->token2 = NULL;
	cfg->vendor = cfg->p11kit_server = NULL;
	for (i = 0; i < cfg->ntsa; i++)
		free(cfg->tsa[i]);
	cfg->ntsa = 0;
}
