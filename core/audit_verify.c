/*
 * audit verify: walk the log once, checking that each line is a record,
 * follows the previous one (seq one more, prev its SHA-256), and that each
 * checkpoint counts and hashes what is before it and carries a signature
 * its certificate verifies (and --CAfile trusts).  The token's witness,
 * when a session is given, tells whether the log still reaches the last
 * checkpoint that token signed.  Each problem is reported with its line;
 * what comes after the last valid checkpoint is reported as unproven.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

struct walk {
	struct hd_audit_report *r;
	const char *cafile;
	char prev[65];		/* SHA-256 of the previous line */
	uint64_t prev_seq;
	uint64_t wit_line;	/* 0: no witness to compare */
	char wit_hash[65];
	int wit_seen;
};

static void
problem(struct walk *w, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct walk *w, uint64_t line, const char *fmt, ...)
{
	struct hd_audit_report *r = w->r;
	va_list ap;

	if (r->nproblems == HD_AUDIT_PROBLEMS) {
		r->more_problems++;
		return;
	}
	r->problems[r->nproblems].line = line;
	va_start(ap, fmt);
	vsnprintf(r->problems[r->nproblems].what,
	    sizeof(r->problems[0].what), fmt, ap);
	va_end(ap);
	r->nproblems++;
}

/* seq and prev against the line before; 0 if it follows. */
static int
chained(struct walk *w, uint64_t n, const struct hd_json *j)
{
	const char *prev = hd_json_get(j, "prev");
	uint64_t seq;

	if (hd_json_u64(j, "seq", &seq) == -1 || prev == NULL) {
		problem(w, n, "a record without seq or prev");
		return -1;
	}
	if (seq > w->prev_seq + 1)
		problem(w, n, "record %llu follows record %llu: %llu line(s) "
		    "before it were removed", (unsigned long long)seq,
		    (unsigned long long)w->prev_seq,
		    (unsigned long long)(seq - w->prev_seq - 1));
	else if (seq <= w->prev_seq)
		problem(w, n, "record %llu after record %llu: lines were "
		    "moved, repeated or inserted here",
		    (unsigned long long)seq, (unsigned long long)w->prev_seq);
	else if (strcmp(prev, w->prev) != 0)
		problem(w, n, n == 1 ? "the first line does not start the "
		    "chain (prev is not 64 zeros): lines before it were "
		    "removed" : "its prev hash does not match line %llu: "
		    "line %llu was altered (or replaced)",
		    (unsigned long long)n - 1, (unsigned long long)n - 1);
	else {
		w->prev_seq = seq;
		return 0;
	}
	w->prev_seq = seq;
	return -1;
}

static void
checkpoint(struct walk *w, uint64_t n, const char *line, size_t len,
    const struct hd_json *j, int linked)
{
	struct hd_audit_report *r = w->r;
	const char *head = hd_json_get(j, "head"), *t;
	char why[400] = "", subject[256];
	uint64_t count;

	r->checkpoints++;
	if (hd_json_u64(j, "count", &count) == -1 || head == NULL) {
		problem(w, n, "a checkpoint without count or head");
		return;
	}
	if (linked == 0 && (count != n - 1 || strcmp(head, w->prev) != 0)) {
		problem(w, n, "the checkpoint counts %llu line(s) and a head "
		    "that is not this log's", (unsigned long long)count);
		return;
	}
	if (!hd_audit_ckpt_check(line, len, j, w->cafile, subject,
	    sizeof(subject), why, sizeof(why))) {
		problem(w, n, "%s", why);
		return;
	}
	if (linked != 0)
		return;		/* signed, but over lines that changed */
	r->last_ckpt = n;
	t = hd_json_get(j, "time");
	snprintf(r->last_ckpt_time, sizeof(r->last_ckpt_time), "%s",
	    t ? t : "");
	snprintf(r->last_ckpt_sha1, sizeof(r->last_ckpt_sha1), "%s",
	    hd_json_get(j, "cert_sha1"));
	snprintf(r->last_ckpt_subject, sizeof(r->last_ckpt_subject), "%s",
	    subject);
}

static void
one_line(struct walk *w, uint64_t n, const char *line, size_t len,
    int partial)
{
	struct hd_json j;
	const char *kind;
	uint64_t v;
	int linked;

	if (partial) {
		problem(w, n, "the file ends in the middle of this line (cut "
		    "short, or a write was interrupted)");
		return;
	}
	if (hd_json_parse(line, len, &j) == -1) {
		problem(w, n, "not an audit record (not a one-line JSON object "
		    "as hsmdesk writes them)");
		return;
	}
	if (hd_json_u64(&j, "v", &v) == -1 || v != HD_AUDIT_V) {
		problem(w, n, "not a version %d audit record", HD_AUDIT_V);
		goto out;
	}
	linked = chained(w, n, &j);
	kind = hd_json_get(&j, "kind");
	if (kind != NULL && strcmp(kind, "sign") == 0)
		w->r->entries++;
	else if (kind != NULL && strcmp(kind, "checkpoint") == 0)
		checkpoint(w, n, line, len, &j, linked);
	else
		problem(w, n, "a record of unknown kind");
out:
	hd_json_free(&j);
}

/* The first line's hash (the log's witness label) and the witness. */
static void
witness(struct walk *w, const char *path, struct hd_session *s)
{
	struct hd_audit_report *r = w->r;
	struct hd_audit_reader rd;
	struct hd_err err;
	const char *line;
	char id[65], *buf;
	size_t len;
	int partial, rc;

	r->witness = HD_WIT_NOT_CHECKED;
	if (s == NULL) {
		snprintf(r->witness_text, sizeof(r->witness_text), "not "
		    "checked (no token session)");
		return;
	}
	hd_err_clear(&err);
	if (hd_audit_reader_open(&rd, path, &err) == -1 ||
	    hd_audit_reader_next(&rd, &line, &len, &partial, &err) != 1 ||
	    (buf = malloc(len + 1)) == NULL) {
		hd_audit_reader_close(&rd);
		snprintf(r->witness_text, sizeof(r->witness_text), "not "
		    "checked: the log's first line cannot be read");
		return;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	hd_sha256_hex(buf, len + 1, id);
	free(buf);
	hd_audit_reader_close(&rd);
	rc = hd_audit_witness_get(s, id, &w->wit_line, w->wit_hash, &err);
	if (rc == 1)
		return;
	w->wit_line = 0;
	if (rc == 0) {
		r->witness = HD_WIT_NONE;
		snprintf(r->witness_text, sizeof(r->witness_text), "token '%s' "
		    "holds no witness for this log (it could not hold one, or "
		    "never made a checkpoint here, or the first line was "
		    "changed): a cut tail cannot be detected",
		    hd_token_label(s));
	} else
		snprintf(r->witness_text, sizeof(r->witness_text), "not "
		    "checked: %s", err.msg);
}

static void
witness_end(struct walk *w, struct hd_session *s)
{
	struct hd_audit_report *r = w->r;

	if (w->wit_line == 0)
		return;
	r->witness_line = w->wit_line;
	if (r->lines < w->wit_line) {
		r->witness = HD_WIT_CUT;
		snprintf(r->witness_text, sizeof(r->witness_text), "token '%s' "
		    "witnessed a checkpoint at line %llu, but the log ends at "
		    "line %llu: its tail was cut off", hd_token_label(s),
		    (unsigned long long)w->wit_line,
		    (unsigned long long)r->lines);
	} else if (!w->wit_seen) {
		r->witness = HD_WIT_CUT;
		snprintf(r->witness_text, sizeof(r->witness_text), "token '%s' "
		    "witnessed a different checkpoint at line %llu: the log "
		    "was cut there and rewritten", hd_token_label(s),
		    (unsigned long long)w->wit_line);
	} else {
		r->witness = HD_WIT_OK;
		snprintf(r->witness_text, sizeof(r->witness_text), "token '%s' "
		    "witnessed the checkpoint at line %llu: the log reaches it",
		    hd_token_label(s), (unsigned long long)w->wit_line);
	}
}

int
hd_audit_verify(const char *path, const char *cafile, struct hd_session *s,
    struct hd_audit_report *r, struct hd_err *err)
{
	struct hd_audit_reader rd;
	struct walk w;
	const char *line;
	char *nl = NULL;
	size_t len, cap = 0;
	int partial, rc;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.cafile = cafile;
	memset(w.prev, '0', 64);
	r->cert_checked = cafile != NULL;
	if (hd_audit_reader_open(&rd, path, err) == -1)
		return -1;
	witness(&w, path, s);
	while ((rc = hd_audit_reader_next(&rd, &line, &len, &partial,
	    err)) == 1) {
		one_line(&w, rd.lineno, line, len, partial);
		if (len + 1 > cap) {
			free(nl);
			cap = len + 1;
			if ((nl = malloc(cap)) == NULL) {
				rc = hd_err_set(err, HD_E_NOMEM, 0, "out of "
				    "memory");
				break;
			}
		}
		memcpy(nl, line, len);
		nl[len] = '\n';
		hd_sha256_hex(nl, len + 1, w.prev);
		if (rd.lineno == w.wit_line && strcmp(w.prev, w.wit_hash) == 0)
			w.wit_seen = 1;
	}
	r->lines = rd.lineno;
	free(nl);
	hd_audit_reader_close(&rd);
	if (rc == -1)
		return -1;
	r->unproven = r->lines - r->last_ckpt;
	witness_end(&w, s);
	return 0;
}
