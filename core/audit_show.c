/*
 * audit show: the log's records as rows, filtered by date, signer
 * thumbprint and file name.  Lines that are not records are skipped here;
 * audit verify is the one that reports them.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_int.h"

static void
field(const struct hd_json *j, const char *k, char *out, size_t len)
{
	const char *v = hd_json_get(j, k);

	snprintf(out, len, "%s", v ? v : "");
}

static int
row_fill(struct hd_audit_row *w, uint64_t n, const struct hd_json *j)
{
	const char *kind = hd_json_get(j, "kind");

	memset(w, 0, sizeof(*w));
	if (kind == NULL)
		return -1;
	w->line = n;
	w->checkpoint = strcmp(kind, "checkpoint") == 0;
	field(j, "time", w->time, sizeof(w->time));
	field(j, "user", w->user, sizeof(w->user));
	field(j, "host", w->host, sizeof(w->host));
	field(j, "token", w->token, sizeof(w->token));
	field(j, "cert_sha1", w->cert_sha1, sizeof(w->cert_sha1));
	field(j, "type", w->type, sizeof(w->type));
	field(j, "digest", w->md, sizeof(w->md));
	field(j, "sha256", w->sha256, sizeof(w->sha256));
	field(j, "file", w->file, sizeof(w->file));
	field(j, "out", w->out, sizeof(w->out));
	field(j, "result", w->result, sizeof(w->result));
	field(j, "tsa", w->tsa, sizeof(w->tsa));
	field(j, "ts_time", w->ts_time, sizeof(w->ts_time));
	(void)hd_json_u64(j, "size", &w->size);
	(void)hd_json_u64(j, "count", &w->count);
	return 0;
}

static int
wanted(const struct hd_audit_row *w, const struct hd_audit_filter *f)
{
	const char *base = strrchr(w->file, '/');

	if (f == NULL)
		return 1;
	if (f->since && strncmp(w->time, f->since, strlen(f->since)) < 0)
		return 0;
	if ((f->sha1 || f->file) && w->checkpoint)
		return 0;
	if (f->sha1 && strncasecmp(w->cert_sha1, f->sha1,
	    strlen(f->sha1)) != 0)
		return 0;
	/* a pattern without '/' matches the base name, as find -name does */
	if (f->file && fnmatch(f->file, strchr(f->file, '/') ? w->file :
	    base ? base + 1 : w->file, 0) != 0)
		return 0;
	return 1;
}

static int
keep(struct hd_audit_row **rows, size_t *n, size_t *cap,
    const struct hd_audit_row *w, const char *line, size_t len)
{
	struct hd_audit_row *p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((p = realloc(*rows, *cap * sizeof(*p))) == NULL)
			return -1;
		*rows = p;
	}
	(*rows)[*n] = *w;
	if (((*rows)[*n].raw = strndup(line, len)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
hd_audit_rows(const char *path, const struct hd_audit_filter *f,
    struct hd_audit_row **rows, size_t *n, struct hd_err *err)
{
	struct hd_audit_reader rd;
	struct hd_audit_row *w;
	struct hd_json j;
	const char *line;
	size_t len, cap = 0;
	int partial, rc;

	*rows = NULL;
	*n = 0;
	if ((w = malloc(sizeof(*w))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (hd_audit_reader_open(&rd, path, err) == -1) {
		free(w);
		return -1;
	}
	while ((rc = hd_audit_reader_next(&rd, &line, &len, &partial,
	    err)) == 1) {
		if (partial || hd_json_parse(line, len, &j) == -1)
			continue;
		rc = row_fill(w, rd.lineno, &j);
		hd_json_free(&j);
		if (rc == 0 && wanted(w, f) &&
		    keep(rows, n, &cap, w, line, len) == -1) {
			rc = hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
			break;
		}
	}
	hd_audit_reader_close(&rd);
	free(w);
	if (rc == -1) {
		hd_audit_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
hd_audit_rows_free(struct hd_audit_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(rows[i].raw);
	free(rows);
}
