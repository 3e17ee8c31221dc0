/*
 * audit verify | audit show: the signing audit log, checked and listed.
 * verify exits 0 when nothing is wrong, 1 when tampering is found, 2 when
 * the log cannot be read; it says plainly what it cannot prove.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A session logged in to the token, for its witness; NULL with why. */
static struct hd_session *
witness_session(struct cli *c, char *why, size_t len)
{
	struct hd_pin *pin = hd_pin_new();
	struct hd_err err;
	int ok;

	hd_err_clear(&err);
	ok = pin != NULL && cli_open(c, 0, &err) == 0 &&
	    cli_login(c, pin, &err) == 0;
	hd_pin_free(pin);
	if (ok)
		return c->s;
	snprintf(why, len, "not checked: %s", pin == NULL ? "out of memory" :
	    err.msg);
	return NULL;
}

static void
verify_print(const char *path, const struct hd_audit_report *r)
{
	size_t i;

	printf("audit log %s: %llu line%s, %llu signature record%s, %llu "
	    "checkpoint%s\n", path, (unsigned long long)r->lines,
	    r->lines == 1 ? "" : "s", (unsigned long long)r->entries,
	    r->entries == 1 ? "" : "s", (unsigned long long)r->checkpoints,
	    r->checkpoints == 1 ? "" : "s");
	for (i = 0; i < r->nproblems; i++)
		printf("line %llu: %s\n", (unsigned long long)
		    r->problems[i].line, r->problems[i].what);
	if (r->more_problems)
		printf("... and %zu more problems\n", r->more_problems);
	if (r->last_ckpt)
		printf("last valid checkpoint: line %llu, %s, signed by %s "
		    "(%s); %s\n", (unsigned long long)r->last_ckpt,
		    r->last_ckpt_time, r->last_ckpt_subject, r->last_ckpt_sha1,
		    r->cert_checked ? "certificate chain checked against "
		    "--CAfile" : "its certificate was NOT checked against a "
		    "CA (give --CAfile)");
	else if (r->lines > 0)
		printf("no valid checkpoint: nothing in this log is proven\n");
	if (r->unproven > 0 && r->last_ckpt)
		printf("not proven: line%s %llu-%llu come after the last "
		    "valid checkpoint; they could have been changed or "
		    "added by anyone who can write the file\n",
		    r->unproven == 1 ? "" : "s",
		    (unsigned long long)r->last_ckpt + 1,
		    (unsigned long long)r->lines);
	printf("witness: %s\n", r->witness_text);
}

static int
audit_verify(struct cli *c, const char *path)
{
	struct hd_audit_report r;
	struct hd_session *s;
	struct hd_err err;
	char why[512];
	int tampered;

	if (c->since || c->file || c->sha1 || c->json || c->no_audit)
		return cli_usage_error("audit verify: takes --CAfile, --log "
		    "and --pin only");
	hd_err_clear(&err);
	s = witness_session(c, why, sizeof(why));
	if (hd_audit_verify(path, c->cafile, s, &r, &err) == -1) {
		if (s != NULL)
			hd_logout(s, &(struct hd_err){ 0 });
		return cli_fail(&err);
	}
	if (s != NULL)
		hd_logout(s, &err);
	else
		snprintf(r.witness_text, sizeof(r.witness_text), "%s", why);
	verify_print(path, &r);
	tampered = r.nproblems > 0 || r.witness == HD_WIT_CUT;
	printf("result: %s\n", tampered ? "TAMPERED: the log was changed "
	    "after it was written" : r.lines == 0 ? "empty" :
	    "intact (as far as stated above)");
	return tampered ? 1 : 0;
}

static void
show_row(const struct hd_audit_row *w)
{
	if (w->checkpoint) {
		printf("%6llu  %s  checkpoint of %llu lines, signed by %s\n",
		    (unsigned long long)w->line, w->time,
		    (unsigned long long)w->count, w->cert_sha1);
		return;
	}
	printf("%6llu  %s  %-16s %s  %s  %s -> %s  %s@%s%s%s\n",
	    (unsigned long long)w->line, w->time, w->type, w->cert_sha1,
	    w->result, w->file, w->out[0] ? w->out : "-", w->user, w->host,
	    w->tsa[0] ? "  tsa " : "", w->tsa);
}

static int
audit_show(struct cli *c, const char *path)
{
	struct hd_audit_filter f = { c->since, NULL, c->file };
	struct hd_audit_row *rows;
	struct hd_err err;
	char norm[41];
	size_t n, i;

	if (c->cafile || c->pin_src || c->no_audit)
		return cli_usage_error("audit show: takes --since, --sha1, "
		    "--file, --log and --json only");
	if (c->since && (strlen(c->since) < 4 || c->since[0] < '0' ||
	    c->since[0] > '9'))
		return cli_usage_error("audit show: --since %s: give a date, "
		    "YYYY-MM-DD (UTC), or a longer ISO 8601 prefix",
		    c->since);
	hd_err_clear(&err);
	if (c->sha1 && hd_thumb_normalize(c->sha1, 40, norm, sizeof(norm),
	    &err) == -1)
		return cli_fail(&err);
	f.sha1 = c->sha1 ? norm : NULL;
	if (hd_audit_rows(path, &f, &rows, &n, &err) == -1)
		return cli_fail(&err);
	for (i = 0; i < n; i++)
		if (c->json)
			printf("%s\n", rows[i].raw);
		else
			show_row(&rows[i]);
	hd_audit_rows_free(rows, n);
	return 0;
}

int
cmd_audit(struct cli *c)
{
	const char *sub = c->nargs > 0 ? c->args[0] : "";
	char path[4096];
	struct hd_err err;

	hd_err_clear(&err);
	if (audit_log_path(c) != NULL)
		snprintf(path, sizeof(path), "%s", audit_log_path(c));
	else if (hd_audit_default_path(path, sizeof(path), &err) == -1)
		return cli_fail(&err);
	if (strcmp(sub, "verify") == 0)
		return audit_verify(c, path);
	if (strcmp(sub, "show") == 0)
		return audit_show(c, path);
	return cli_usage_error("audit: give verify or show; usage: hsmdesk "
	    "audit verify [--CAfile F] [--log F] | audit show [--since DATE] "
	    "[--sha1 THUMB] [--file GLOB] [--json]");
}
