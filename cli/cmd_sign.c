/*
 * sign: signtool sign for Linux.  One login and one certificate and key
 * lookup, then every file: PE files get an Authenticode signature in
 * place, anything else a detached CMS signature FILE.p7s beside it.  A
 * file that fails is reported and the others go on; a summary lists each
 * file with its result.  Ctrl-C stops at once: the core removes what it
 * was writing, the token is logged out, and the status is 128 + signal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum job_type { JOB_CMS, JOB_PE, JOB_PS1 };
enum job_state { JOB_TODO, JOB_OK, JOB_FAILED, JOB_UNUSABLE };

static const char *const type_names[] = {
	[JOB_CMS] = "cms", [JOB_PE] = "authenticode",
	[JOB_PS1] = "authenticode",
};

struct job {
	const char *in;
	enum job_type type;
	enum job_state state;
	char out[4096];
	char why[1100];		/* the error line, for the summary */
	struct hd_audit_entry ae;	/* its audit record; type NULL: none */
	int logged;		/* ae is in the log already */
};

/* What the whole batch signs with. */
struct signing {
	struct hd_cert cert;
	struct hd_key key;
	struct hd_der *chain;
	size_t nchain;
	unsigned char *chain_buf;	/* concatenated DER, for CMS */
	size_t chain_len;
	struct hd_sign *cms;		/* opened at the first CMS file */
	struct hd_err open_err;		/* why it could not be, if so */
	int ncms;
	struct hd_audit *audit;		/* NULL with --no-audit */
	int audit_broken;		/* a record could not be written */
	struct hd_tsa *tsa;		/* --tr: the batch's TSAs, or NULL */
	unsigned tsa_warned;		/* those said to have failed */
};

/* The error without the file's name in front: the summary names it. */
static void
err_line(const char *in, const struct hd_err *err, char *buf, size_t len)
{
	size_t k = strlen(in);
	const char *msg = strncmp(err->msg, in, k) == 0 &&
	    strncmp(err->msg + k, ": ", 2) == 0 ? err->msg + k + 2 : err->msg;
	size_t n = (size_t)snprintf(buf, len, "%s", msg);

	if (err->ckr != 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " (%s)",
		    hd_ckr_name(err->ckr));
	if (err->hint[0] != '\0' && n < len)
		snprintf(buf + n, len - n, "; %s", err->hint);
}

/* A failure of one file: its line now, its reason in the summary. */
static void
job_fail(struct job *j, enum job_state st, const struct hd_err *err)
{
	j->state = st;
	err_line(j->in, err, j->why, sizeof(j->why));
	cli_fail(err);
}

static int
check_words(const struct cli *c)
{
	static const char *const mds[] = { "sha256", "sha384", "sha512" };
	size_t i;

	if (c->sha1 == NULL)
		return cli_usage_error("sign: --sha1 THUMB is required (the "
		    "signing certificate; 'hsmdesk certs' lists them)");
	if (c->nargs == 0)
		return cli_usage_error("sign: no FILE to sign");
	if (c->out != NULL && c->nargs != 1)
		return cli_usage_error("sign: --out names the output of one "
		    "file; give one FILE, or no --out");
	for (i = 0; c->fd != NULL && i < 3 && strcmp(c->fd, mds[i]); i++)
		;
	if (i == 3)
		return cli_usage_error("sign: --fd %s: give sha256, sha384 or "
		    "sha512", c->fd);
	if (c->type != NULL && strcmp(c->type, "auto") &&
	    strcmp(c->type, "cms") && strcmp(c->type, "authenticode"))
		return cli_usage_error("sign: --type %s: give auto, cms or "
		    "authenticode", c->type);
	if (c->type != NULL && strcmp(c->type, "cms") == 0 &&
	    (c->desc || c->url || c->append))
		return cli_usage_error("sign: --d, --du and --as are for "
		    "Authenticode; a CMS signature has no place for them");
	if (c->type != NULL && strcmp(c->type, "authenticode") == 0 &&
	    c->pss)
		return cli_usage_error("sign: --pss is for CMS; Authenticode "
		    "signatures use RSA PKCS#1 v1.5, as Windows expects");
	return 0;
}

/* The type of each file, by content; unusable ones are marked now. */
static void
classify(const struct cli *c, struct job *j)
{
	int want_pe = c->type && strcmp(c->type, "authenticode") == 0;
	int want_cms = c->type && strcmp(c->type, "cms") == 0;
	enum hd_file_type ft;
	struct hd_err err;

	hd_err_clear(&err);
	if (hd_file_type(j->in, &ft, &err) == -1) {
		job_fail(j, JOB_UNUSABLE, &err);
		return;
	}
	/* as signtool: PE files and PowerShell scripts carry their
	 * Authenticode signature inside; anything else gets a .p7s */
	j->type = want_cms ? JOB_CMS : ft == HD_FILE_PE ? JOB_PE :
	    hd_ps1_name(j->in) ? JOB_PS1 : JOB_CMS;
	if (want_pe && j->type == JOB_CMS) {
		hd_err_set(&err, HD_E_INPUT, 0, "%s: neither a PE file (no MZ "
		    "and PE headers) nor a PowerShell script (.ps1, .psm1, "
		    ".psd1)", j->in);
		hd_err_hint(&err, "sign it with --type cms (a detached .p7s)");
		j->type = JOB_PE;
		job_fail(j, JOB_UNUSABLE, &err);
		return;
	}
	if (j->type == JOB_CMS && c->out == NULL &&
	    hd_sign_out_path(j->in, j->out, sizeof(j->out)) == -1) {
		hd_err_set(&err, HD_E_INPUT, 0, "%s: name too long", j->in);
		job_fail(j, JOB_UNUSABLE, &err);
	}
	if (c->out != NULL)
		snprintf(j->out, sizeof(j->out), "%s", c->out);
}

/* The certificate, its key on the token, and its chain. */
static int
find_signer(struct cli *c, struct signing *g, struct hd_err *err)
{
	if (sign_key_find(c->s, c->sha1, &g->cert, &g->key, &g->chain,
	    &g->nchain, err) == -1)
		return -1;
	if (c->pss && strcmp(g->key.type, "RSA") != 0) {
		hd_err_set(err, HD_E_USAGE, 0, "--pss: key '%s' is %s; RSA-PSS "
		    "needs an RSA key", g->key.label, g->key.type);
		hd_err_hint(err, "sign without --pss");
		return -1;
	}
	return 0;
}

/* For CMS, the chain as one buffer of concatenated DER (--chain only). */
static int
chain_buffer(const struct cli *c, struct signing *g, struct hd_err *err)
{
	if (!c->chain || g->chain_buf != NULL)
		return 0;
	return sign_chain_cat(g->chain, g->nchain, &g->chain_buf,
	    &g->chain_len, err);
}

/* What the audit record of a signed CMS file takes from its result. */
static void
cms_audit_done(const struct cli *c, const struct signing *g, struct job *j,
    const struct hd_sign_result *res)
{
	if (g->audit == NULL)
		return;
	sign_audit_md(&j->ae, c->fd ? c->fd : "sha256");
	if (j->ae.sha256[0] == '\0')
		snprintf(j->ae.sha256, sizeof(j->ae.sha256), "%s",
		    res->digest);
	j->ae.size = res->size;
	snprintf(j->ae.out, sizeof(j->ae.out), "%s", res->out);
	snprintf(j->ae.tsa, sizeof(j->ae.tsa), "%s", res->tsa);
	snprintf(j->ae.ts_time, sizeof(j->ae.ts_time), "%s", res->ts_time);
}

static int
sign_cms(struct cli *c, struct signing *g, struct job *j, struct hd_err *err)
{
	struct hd_sign_opts o = { .md = c->fd, .pss = c->pss, .replace = 1,
	    .defer = g->ncms > 1, .tsa = g->tsa };
	struct hd_sign_result res;
	struct progress p;
	int rc;

	if (g->open_err.code != HD_OK) {
		*err = g->open_err;	/* said once already: the same again */
		return -1;
	}
	if (g->cms == NULL && (chain_buffer(c, g, err) == -1 ||
	    hd_sign_open(c->s, &g->key, g->cert.der, g->cert.der_len,
	    g->chain_buf, g->chain_len, &o, &g->cms, err) == -1)) {
		g->open_err = *err;
		return -1;
	}
	/* the digest of the file is its SHA-256 unless --fd says else */
	if (sign_audit_start(g->audit, &j->ae, "cms", j->in, c->fd != NULL &&
	    strcmp(c->fd, "sha256") != 0, err) == -1)
		return -1;
	progress_start(&p, c, j->in);
	rc = hd_sign_file(g->cms, j->in, j->out, progress_cb, &p, &res, err);
	progress_end(&p);
	if (rc == 0) {
		cms_audit_done(c, g, j, &res);
		cli_tsa_note(g->tsa, &g->tsa_warned, j->in, res.tsa,
		    res.ts_time, j->out, sizeof(j->out));
	}
	return rc;
}

static int
sign_pe(struct cli *c, struct signing *g, struct job *j, struct hd_err *err)
{
	struct hd_der cert = { g->cert.der, g->cert.der_len };
	struct hd_sign_pe_opts o = { .md = c->fd, .desc = c->desc,
	    .url = c->url, .append = c->append, .out = c->out, .replace = 1,
	    .progress = progress_cb, .tsa = g->tsa };
	struct hd_sign_pe_result res;
	struct hd_audit_hash *h = NULL;
	struct hd_err herr;
	struct progress p;
	int rc;

	if (c->pss)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: --pss is for CMS; "
		    "Authenticode signatures use RSA PKCS#1 v1.5", j->in);
	/* the record's SHA-256 of the original, hashed while it is signed
	 * (audit_hash.c) */
	if (sign_audit_start(g->audit, &j->ae, j->type == JOB_PS1 ?
	    "authenticode-ps1" : "authenticode-pe", j->in, 0, err) == -1 ||
	    (g->audit != NULL && hd_audit_hash_begin(&j->ae, &h, err) == -1))
		return -1;
	progress_start(&p, c, j->in);
	o.arg = &p;
	rc = (j->type == JOB_PS1 ? hd_sign_ps1 : hd_sign_pe)(c->s, &g->key,
	    &cert, g->chain, g->nchain, j->in, &o, &res, err);
	progress_end(&p);
	hd_err_clear(&herr);
	if (hd_audit_hash_end(h, &herr) == -1 && rc == 0)
		fprintf(stderr, "hsmdesk: %s: its audit record has no SHA-256: "
		    "%s\n", j->in, herr.msg);
	if (rc != 0)
		return rc;
	if (g->audit != NULL) {
		sign_audit_md(&j->ae, res.md);
		snprintf(j->ae.out, sizeof(j->ae.out), "%s", res.path);
		snprintf(j->ae.tsa, sizeof(j->ae.tsa), "%s", res.tsa);
		snprintf(j->ae.ts_time, sizeof(j->ae.ts_time), "%s",
		    res.ts_time);
		sign_audit_result(&j->ae, NULL);
	}
	snprintf(j->out, sizeof(j->out), "%s (%u signature%s%s)", res.path,
	    res.nsigs, res.nsigs == 1 ? "" : "s", res.had_signature &&
	    !c->append ? ", the old one replaced" : "");
	cli_tsa_note(g->tsa, &g->tsa_warned, j->in, res.tsa, res.ts_time,
	    j->out, sizeof(j->out));
	/* a warning, not chatter: -q does not silence it */
	if (res.other_links > 0)
		fprintf(stderr, "hsmdesk: %s: %lu other hard link%s still "
		    "name%s the unsigned file\n", j->in, res.other_links,
		    res.other_links == 1 ? "" : "s",
		    res.other_links == 1 ? "s" : "");
	return 0;
}

/*
 * An Authenticode file is signed in place: there is no undoing it, so its
 * record is written at once, and a record that cannot be written stops
 * the batch (docs/AUDIT.md).
 */
static int
audit_now(struct signing *g, struct job *j)
{
	struct hd_err err;

	if (g->audit == NULL || j->ae.type == NULL || j->state != JOB_OK)
		return 0;
	hd_err_clear(&err);
	if (hd_audit_add(g->audit, &j->ae, &err) == 0 &&
	    sign_audit_flush(g->audit, 0, &err) == 0) {
		j->logged = 1;
		return 0;
	}
	hd_audit_drop(g->audit);
	g->audit_broken = 1;
	j->state = JOB_FAILED;
	snprintf(j->why, sizeof(j->why), "signed in place, but NOT recorded "
	    "in the audit log (%s); the batch stopped here", err.msg);
	cli_fail(&err);
	return -1;
}

/* ---- two or more CMS files: on several token sessions at once ---------- */

#define BATCH_SLICE 128		/* items in memory at a time */

/* Back from the core, each result goes to its job, in input order. */
static void
batch_results(const struct cli *c, const struct signing *g,
    struct job *jobs, const int *idx, const struct hd_sign_item *items,
    int n)
{
	int k;

	for (k = 0; k < n; k++) {
		struct job *j = &jobs[idx[k]];

		if (items[k].state == HD_ITEM_SIGNED) {
			j->state = JOB_OK;
			cms_audit_done(c, g, j, &items[k].res);
		} else if (items[k].state == HD_ITEM_FAILED)
			job_fail(j, items[k].err.code == HD_E_INPUT ?
			    JOB_UNUSABLE : JOB_FAILED, &items[k].err);
	}
}

/*
 * Every CMS file of the batch, BATCH_SLICE at a time, through
 * hd_sign_files (as many sessions as hd_sign_workers says).  Files it
 * leaves (out of memory, a signal) stay JOB_TODO for sign_all.
 */
static void
sign_cms_batch(struct cli *c, struct signing *g, struct job *jobs)
{
	struct hd_sign_opts o = { .md = c->fd, .pss = c->pss, .replace = 1,
	    .defer = 1 };
	struct hd_sign_item *items = calloc(BATCH_SLICE, sizeof(*items));
	int idx[BATCH_SLICE], i = 0, n;
	unsigned workers;
	struct progress p;
	struct hd_err err;

	hd_err_clear(&err);
	if (items == NULL || (chain_buffer(c, g, &err) == -1 ||
	    hd_sign_open(c->s, &g->key, g->cert.der, g->cert.der_len,
	    g->chain_buf, g->chain_len, &o, &g->cms, &err) == -1)) {
		if (err.code != HD_OK)
			g->open_err = err;	/* each file says it below */
		free(items);
		return;
	}
	workers = hd_sign_workers(c->s);
	progress_start(&p, c, "");
	while (i < c->nargs && !cli_interrupted) {
		for (n = 0; i < c->nargs && n < BATCH_SLICE; i++) {
			if (jobs[i].state != JOB_TODO ||
			    jobs[i].type != JOB_CMS)
				continue;
			/* the record starts before the file is signed (its
			 * SHA-256 when --fd is not sha256), as in sign_cms */
			hd_err_clear(&err);
			if (sign_audit_start(g->audit, &jobs[i].ae, "cms",
			    jobs[i].in, c->fd != NULL && strcmp(c->fd,
			    "sha256") != 0, &err) == -1) {
				job_fail(&jobs[i], err.code == HD_E_INPUT ?
				    JOB_UNUSABLE : JOB_FAILED, &err);
				continue;
			}
			memset(&items[n], 0, sizeof(items[n]));
			items[n].in = jobs[i].in;
			items[n].out = jobs[i].out;
			idx[n++] = i;
		}
		if (n > 0)
			hd_sign_files(g->cms, items, (size_t)n, workers,
			    progress_files_cb, &p);
		batch_results(c, g, jobs, idx, items, n);
	}
	progress_end(&p);
	free(items);
}

/* Every usable file, in order; stops at a signal. */
static void
sign_all(struct cli *c, struct signing *g, struct job *jobs)
{
	struct hd_err err;
	int i, rc;

	/* with timestamps, one file after the other (sign_cms): a TSA that
	 * failed is skipped for the rest, and the network is the bottleneck,
	 * not the token */
	if (g->ncms > 1 && g->tsa == NULL)
		sign_cms_batch(c, g, jobs);
	for (i = 0; i < c->nargs && !cli_interrupted && !g->audit_broken;
	    i++) {
		if (jobs[i].state != JOB_TODO)
			continue;
		hd_err_clear(&err);
		rc = jobs[i].type != JOB_CMS ? sign_pe(c, g, &jobs[i], &err) :
		    sign_cms(c, g, &jobs[i], &err);
		if (rc == -1 && cli_interrupted)
			break;
		if (rc == -1 && hd_session_explain(c->s, &err))
			g->open_err = err;	/* the rest fail the same */
		if (rc == -1)
			job_fail(&jobs[i], err.code == HD_E_INPUT ?
			    JOB_UNUSABLE : JOB_FAILED, &err);
		else
			jobs[i].state = JOB_OK;
		if (jobs[i].type != JOB_CMS && audit_now(g, &jobs[i]) == -1)
			break;
	}
	for (; g->audit_broken && i < c->nargs; i++)
		if (jobs[i].state == JOB_TODO) {
			jobs[i].state = JOB_FAILED;
			snprintf(jobs[i].why, sizeof(jobs[i].why), "not signed: "
			    "the audit log cannot be written");
		}
}

/* The deferred CMS outputs: placed, or (after a signal) discarded. */
static void
finish_cms(struct cli *c, struct signing *g, struct job *jobs)
{
	struct hd_err err;
	int i, failed = 0;

	hd_err_clear(&err);
	/* a record that could not be written stops the batch: its
	 * deferred signatures are not placed either */
	if (g->cms != NULL && !cli_interrupted && !g->audit_broken &&
	    g->ncms > 1 && hd_sign_commit(g->cms, &err) == -1) {
		cli_fail(&err);
		failed = 1;
	}
	hd_sign_close(g->cms);
	g->cms = NULL;
	for (i = 0; i < c->nargs; i++) {
		struct job *j = &jobs[i];

		if (j->type != JOB_CMS || j->state != JOB_OK ||
		    (!failed && !cli_interrupted && !g->audit_broken) ||
		    g->ncms < 2)
			continue;
		j->state = JOB_FAILED;
		if (g->audit_broken)
			snprintf(j->why, sizeof(j->why), "not written: the "
			    "audit log cannot be written");
		else if (cli_interrupted)
			snprintf(j->why, sizeof(j->why), "not written: "
			    "interrupted before the batch was saved");
		else
			snprintf(j->why, sizeof(j->why), "saving the batch "
			    "failed (%s); %s may not be complete", err.msg,
			    j->out);
	}
}

/*
 * The batch's records once its outputs are in place (CMS ones after the
 * deferred commit), and the checkpoint.  If they cannot be written, the
 * detached signatures of the batch are removed: a signature the log does
 * not know of is what the log is there to prevent.
 */
static void
audit_batch(struct cli *c, struct signing *g, struct job *jobs)
{
	struct hd_err err;
	int i;

	if (g->audit == NULL)
		return;
	hd_err_clear(&err);
	for (i = 0; i < c->nargs && !g->audit_broken; i++) {
		struct job *j = &jobs[i];

		if (j->ae.type == NULL || j->logged)
			continue;
		sign_audit_result(&j->ae, j->state == JOB_OK ? NULL :
		    j->state == JOB_TODO ? "interrupted" : j->why);
		if (hd_audit_add(g->audit, &j->ae, &err) == -1)
			break;
	}
	if (g->audit_broken)
		;	/* said already; no CMS signature may stay */
	else if (i == c->nargs && sign_audit_flush(g->audit, 1, &err) == 0)
		return;
	else
		cli_fail(&err);
	for (i = 0; i < c->nargs; i++) {
		struct job *j = &jobs[i];

		if (j->type != JOB_CMS || j->state != JOB_OK)
			continue;
		j->state = JOB_FAILED;
		snprintf(j->why, sizeof(j->why), "%s %s: it could not be "
		    "recorded in the audit log", unlink(j->out) == 0 ?
		    "signature removed" : "could not remove the signature",
		    j->out);
	}
}

static int
summary(const struct cli *c, const struct job *jobs)
{
	int i, rc = 0;

	for (i = 0; i < c->nargs; i++) {
		const struct job *j = &jobs[i];

		if (j->state == JOB_OK) {
			printf("OK      %-12s %s -> %s\n", type_names[j->type],
			    j->in, j->out);
			continue;
		}
		printf("FAILED  %-12s %s: %s\n", type_names[j->type], j->in,
		    j->state == JOB_TODO ? "not signed: interrupted" : j->why);
		if (j->state == JOB_UNUSABLE)
			rc = 2;
		else if (rc == 0)
			rc = 1;
	}
	return rc;
}

/* Log in, find the signer, sign; -1 with err if the batch cannot start. */
static int
run_batch(struct cli *c, struct signing *g, struct job *jobs,
    struct hd_err *err)
{
	struct hd_pin *pin = hd_pin_new();
	struct hd_err e2;
	char prompt[96];
	int rc = -1;

	if (pin == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (cli_open(c, 0, err) == -1)
		goto out;
	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
	    hd_token_label(c->s));
	if (pin_get(c, c->pin_src, "--pin", prompt, 0, pin, err) == -1)
		goto out;
	cli_catch_signals(1);
	if (hd_login(c->s, pin, err) == -1)
		goto out;
	hd_pin_clear(pin);
	if (find_signer(c, g, err) == 0 && (g->audit == NULL ||
	    hd_audit_signer(g->audit, c->s, &g->key, g->cert.der,
	    g->cert.der_len, g->chain, g->nchain, err) == 0)) {
		sign_all(c, g, jobs);
		rc = 0;
	} else
		hd_session_explain(c->s, err);
	finish_cms(c, g, jobs);	/* no hd_sign may outlive the login */
	if (rc == 0)
		audit_batch(c, g, jobs);	/* before logout: it signs */
	hd_logout(c->s, &e2);
out:
	hd_pin_free(pin);
	return rc;
}

int
cmd_sign(struct cli *c)
{
	struct signing g;
	struct hd_err err;
	struct job *jobs;
	char norm[41];
	int i, rc, todo = 0;

	memset(&g, 0, sizeof(g));
	if ((rc = check_words(c)) != 0)
		return rc;
	if (c->sha1b != NULL)
		return sign_dual(c);	/* cut-over: two signers */
	if (c->pin2_src != NULL)
		return cli_usage_error("sign: a second --pin is for a second "
		    "--sha1 on another token");
	hd_err_clear(&err);
	if (hd_thumb_normalize(c->sha1, 40, norm, sizeof(norm), &err) == -1)
		return cli_fail(&err);
	if ((rc = cli_tsa_open(c, &g.tsa)) != 0)
		return rc;
	if ((jobs = calloc((size_t)c->nargs, sizeof(*jobs))) == NULL) {
		hd_tsa_close(g.tsa);
		return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
		    .msg = "out of memory" });
	}
	for (i = 0; i < c->nargs; i++) {
		jobs[i].in = c->args[i];
		classify(c, &jobs[i]);
		todo += jobs[i].state == JOB_TODO;
		g.ncms += jobs[i].state == JOB_TODO && jobs[i].type == JOB_CMS;
	}
	rc = todo > 0 ? sign_audit_open(c, &g.audit) : 0;
	if (rc == 0 && todo > 0 && run_batch(c, &g, jobs, &err) == -1)
		rc = cli_fail(&err);
	cli_catch_signals(0);
	if (rc == 0)
		rc = summary(c, jobs);
	if (cli_interrupted) {
		fprintf(stderr, "hsmdesk: sign interrupted (%s); the file "
		    "being signed was left as it was\n",
		    strsignal(cli_interrupted));
		rc = 128 + cli_interrupted;
	}
	hd_audit_close(g.audit);
	hd_tsa_close(g.tsa);
	free(g.chain_buf);
	hd_ders_free(g.chain, g.nchain);
	hd_cert_free(&g.cert);
	free(jobs);
	return rc;
}
