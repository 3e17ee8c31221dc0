/*
 * verify: signtool verify /pa.  A PE file's embedded Authenticode
 * signatures (nested ones too), or a detached CMS signature (FILE.p7s,
 * or --sig) of any other file.  Each signature: signer, thumbprint,
 * signing time (CMS), digest, chain, verdict.  Exit 0 only if all are
 * good, 1 if any is bad or untrusted, 2 for unusable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* One signature, from either kind of report. */
struct sigline {
	unsigned index;
	int good;
	const char *verdict;	/* a stable name */
	const char *subject, *sha1, *time, *md, *chain, *result;
	const struct hd_ts_report *ts;	/* its timestamp */
};

struct vfile {
	const char *in;
	const char *type;	/* "cms", "authenticode" */
	char sig[4096];		/* the .p7s, for CMS */
	int status;		/* 0 good, 1 bad, 2 unusable */
	char why[1100];		/* unusable or error, in words */
	int ps1;		/* a PowerShell script's own signature */
};

static void
err_line(const struct hd_err *err, char *buf, size_t len)
{
	if (err->hint[0] != '\0')
		snprintf(buf, len, "%s; %s", err->msg, err->hint);
	else
		snprintf(buf, len, "%s", err->msg);
}

/* The RFC 3161 timestamp: its time, the TSA, whether its token verifies
 * (against --TSA-CAfile; the core then checked the chain at its time). */
static void
print_ts(const struct hd_ts_report *ts)
{
	if (ts == NULL || !ts->present) {
		printf("    timestamp   (none)\n");
		return;
	}
	printf("    timestamp   %s, %s%s%s\n", ts->time[0] ? ts->time : "?",
	    ts->ok ? "good" : "does not verify", ts->ok ? "" : ": ",
	    ts->ok ? "" : ts->why);
	printf("    TSA         %s\n", ts->subject[0] ? ts->subject :
	    "(unknown)");
}

static void
print_ts_json(const struct hd_ts_report *ts)
{
	if (ts == NULL || !ts->present)
		return;
	fputs("\"timestamp\":{", stdout);
	json_kv_str(stdout, "time", ts->time, 1);
	json_kv_str(stdout, "tsa", ts->subject, 1);
	json_kv_bool(stdout, "good", ts->ok, ts->why[0] != '\0');
	if (ts->why[0] != '\0')
		json_kv_str(stdout, "error", ts->why, 0);
	fputs("},", stdout);
}

static void
print_sig(const struct cli *c, const struct sigline *s, int comma)
{
	if (c->json) {
		fputc('{', stdout);
		json_kv_num(stdout, "index", s->index, 1);
		json_kv_str(stdout, "verdict", s->verdict, 1);
		json_kv_bool(stdout, "good", s->good, 1);
		json_kv_str(stdout, "subject", s->subject, 1);
		json_kv_str(stdout, "sha1", s->sha1, 1);
		json_kv_str(stdout, "signing_time", s->time, 1);
		json_kv_str(stdout, "digest", s->md, 1);
		json_kv_str(stdout, "chain", s->chain, 1);
		print_ts_json(s->ts);
		json_kv_str(stdout, "result", s->result, 0);
		printf("}%s", comma ? "," : "");
		return;
	}
	printf("  signature %u%s: %s\n", s->index, s->index ? " (nested)" :
	    "", s->good ? "good" : s->verdict);
	printf("    signer      %s\n", s->subject[0] ? s->subject :
	    "(unknown)");
	printf("    thumbprint  %s\n", s->sha1[0] ? s->sha1 : "(unknown)");
	if (s->time != NULL)
		printf("    signed at   %s\n", s->time[0] ? s->time :
		    "(no signing time)");
	printf("    digest      %s\n", s->md[0] ? s->md : "(unknown)");
	if (s->chain[0])
		printf("    chain       %s\n", s->chain);
	print_ts(s->ts);
	printf("    result      %s\n", s->result);
}

static void
file_head(const struct cli *c, const struct vfile *f)
{
	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", f->in, 1);
		json_kv_str(stdout, "type", f->type, 1);
		if (f->sig[0])
			json_kv_str(stdout, "signature_file", f->sig, 1);
		fputs("\"signatures\":[", stdout);
		return;
	}
	if (f->sig[0])
		printf("%s (%s, %s)\n", f->in, f->type, f->sig);
	else
		printf("%s (%s)\n", f->in, f->type);
}

static void
file_tail(const struct cli *c, const struct vfile *f, int comma)
{
	static const char *const st[] = { "good", "bad", "unusable" };

	if (c->json) {
		fputs("],", stdout);
		json_kv_str(stdout, "status", st[f->status], f->why[0] != 0);
		if (f->why[0])
			json_kv_str(stdout, "error", f->why, 0);
		printf("}%s", comma ? "," : "");
		return;
	}
	printf("  => %s%s%s\n", f->status == 0 ? "OK" : f->status == 1 ?
	    "BAD" : "UNUSABLE", f->why[0] ? ": " : "", f->why);
}

static int
verify_cms(const struct cli *c, struct vfile *f)
{
	struct hd_verify_opts o = { .cafile = c->cafile,
	    .tsa_cafile = c->tsa_cafile };
	struct hd_verify_result r;
	struct hd_err err;
	struct sigline s;

	f->type = "cms";
	if (c->sig != NULL)
		snprintf(f->sig, sizeof(f->sig), "%s", c->sig);
	else if (hd_sign_out_path(f->in, f->sig, sizeof(f->sig)) == -1)
		return 2;
	file_head(c, f);
	if (hd_verify_file(f->in, f->sig, &o, &r, &err) == -1) {
		err_line(&err, f->why, sizeof(f->why));
		if (r.verdict == HD_V_NOT_CMS || r.verdict == HD_V_CORRUPT ||
		    r.verdict == HD_V_NOT_DETACHED ||
		    (r.verdict == HD_V_ERROR && hd_code_exit(err.code) == 2)) {
			f->status = 2;
			return 2;
		}
		f->status = 1;
	}
	s = (struct sigline){ 0, r.verdict == HD_V_GOOD,
	    hd_verdict_name(r.verdict), r.subject, r.sha1, r.signing_time,
	    r.md, r.chain, r.verdict == HD_V_GOOD ? "good" : f->why, &r.ts };
	if (r.sha1[0] != '\0' || r.verdict == HD_V_GOOD)
		print_sig(c, &s, 0);
	return f->status;
}

static int
verify_pe(const struct cli *c, struct vfile *f)
{
	struct hd_sig_report *sigs = NULL;
	struct hd_err err;
	size_t n = 0, i;

	f->type = "authenticode";
	file_head(c, f);
	if ((f->ps1 ? hd_verify_ps1_ts : hd_verify_pe_ts)(f->in, c->cafile,
	    c->tsa_cafile, &sigs, &n, NULL, NULL, &err) == -1) {
		err_line(&err, f->why, sizeof(f->why));
		f->status = hd_code_exit(err.code) == 2 ? 2 : 1;
		return f->status;
	}
	if (n == 0) {
		snprintf(f->why, sizeof(f->why), "not signed (no Authenticode "
		    "signature in the %s)", f->ps1 ? "script" : "file");
		f->status = 2;
	}
	for (i = 0; i < n; i++) {
		struct sigline s = { sigs[i].index, sigs[i].state == HD_SIG_OK,
		    hd_sig_state_name(sigs[i].state), sigs[i].subject,
		    sigs[i].sha1, NULL, sigs[i].md, "", sigs[i].result,
		    &sigs[i].ts };

		print_sig(c, &s, i + 1 < n);
		if (sigs[i].state != HD_SIG_OK)
			f->status = sigs[i].state == HD_SIG_MALFORMED &&
			    f->status != 1 ? 2 : 1;
	}
	free(sigs);
	return f->status;
}

/* A script signed with --type cms has its .p7s beside it. */
static int
has_p7s(const char *in)
{
	char p7s[4096];

	return hd_sign_out_path(in, p7s, sizeof(p7s)) == 0 &&
	    access(p7s, F_OK) == 0;
}

static int
verify_one(const struct cli *c, const char *in, int comma)
{
	struct vfile f;
	enum hd_file_type ft;
	struct hd_err err;

	memset(&f, 0, sizeof(f));
	f.in = in;
	if (hd_file_type(in, &ft, &err) == -1) {
		f.type = "unknown";
		err_line(&err, f.why, sizeof(f.why));
		f.status = 2;
		file_head(c, &f);
	} else if (ft == HD_FILE_PE && c->sig == NULL) {
		verify_pe(c, &f);
	} else if (c->sig == NULL && hd_ps1_name(in) && !has_p7s(in)) {
		f.ps1 = 1;	/* the signature block inside the script */
		verify_pe(c, &f);
	} else {
		verify_cms(c, &f);
	}
	file_tail(c, &f, comma);
	if (f.status != 0 && f.why[0] != '\0')
		fprintf(stderr, "hsmdesk: %s\n", f.why);
	else if (f.status != 0)
		fprintf(stderr, "hsmdesk: %s: signature %s\n", in,
		    f.status == 1 ? "not good" : "unusable");
	return f.status;
}

int
cmd_verify(struct cli *c)
{
	int i, st, rc = 0;

	if (c->nargs == 0)
		return cli_usage_error("verify: no FILE to verify; usage: "
		    "hsmdesk verify [--CAfile F] [--sig FILE.p7s] [--json] "
		    "FILE...");
	if (c->sig != NULL && c->nargs != 1)
		return cli_usage_error("verify: --sig names the signature of "
		    "one file; give one FILE");
	if (c->json)
		fputc('[', stdout);
	for (i = 0; i < c->nargs; i++) {
		st = verify_one(c, c->args[i], i + 1 < c->nargs);
		if (st == 2 || (st == 1 && rc == 0))
			rc = st;
	}
	if (c->json)
		fputs("]\n", stdout);
	return rc;
}
