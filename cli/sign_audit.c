/*
 * sign's audit log hooks: the log opened (and refused) before anything is
 * signed, an entry per file, the checkpoint at the end.  The order that
 * keeps the signatures and the log in agreement is cmd_sign.c's; see
 * docs/AUDIT.md "When the log cannot be written".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* --log, then config.yaml's audit_log; NULL: the default place. */
const char *
audit_log_path(const struct cli *c)
{
	return c->log ? c->log : c->cfg.audit_log;
}

/*
 * The log, open and checked, before the PIN is asked: 0 (a is NULL with
 * an allowed --no-audit), else the exit status after the message.
 */
int
sign_audit_open(struct cli *c, struct hd_audit **a)
{
	struct hd_err err;

	*a = NULL;
	if (c->since || c->file)
		return cli_usage_error("sign: --since and --file are for "
		    "'hsmdesk audit show'");
	if (c->no_audit && c->log)
		return cli_usage_error("sign: --no-audit and --log together: "
		    "give one");
	if (c->no_audit && !c->cfg.allow_no_audit)
		return cli_usage_error("sign: --no-audit needs "
		    "'allow_no_audit: true' in config.yaml (%s); signatures "
		    "are recorded in the audit log otherwise",
		    c->cfg.path[0] ? c->cfg.path : "not found");
	if (c->no_audit) {
		if (!c->quiet)
			fprintf(stderr, "hsmdesk: --no-audit: these signatures "
			    "are not recorded in any audit log\n");
		return 0;
	}
	hd_err_clear(&err);
	if (hd_audit_open(audit_log_path(c), a, &err) == -1)
		return cli_fail(&err);
	return 0;
}

/* A file about to be signed; hash: its SHA-256 now (what is signed in
 * place is gone afterwards). */
int
sign_audit_start(struct hd_audit *a, struct hd_audit_entry *e,
    const char *type, const char *in, int hash, struct hd_err *err)
{
	if (a == NULL)
		return 0;
	hd_audit_entry_init(e, type, in);
	return hash ? hd_audit_hash_file(e, err) : 0;
}

/* "SHA256" or "sha256" as the log writes it. */
void
sign_audit_md(struct hd_audit_entry *e, const char *md)
{
	size_t i;

	for (i = 0; md[i] != '\0' && i < sizeof(e->md) - 1; i++)
		e->md[i] = (char)(md[i] >= 'A' && md[i] <= 'Z' ? md[i] - 'A' +
		    'a' : md[i]);
	e->md[i] = '\0';
}

void
sign_audit_result(struct hd_audit_entry *e, const char *why)
{
	if (why == NULL)
		snprintf(e->result, sizeof(e->result), "ok");
	else
		snprintf(e->result, sizeof(e->result), "failed: %s", why);
}

/*
 * Write what was added; -1 only when the records could not be written
 * (they are then not in the log).  A checkpoint or witness that could not
 * be made is a warning: the records are there, audit verify will call
 * them unproven.
 */
int
sign_audit_flush(struct hd_audit *a, int checkpoint, struct hd_err *err)
{
	struct hd_audit_flushed res;
	struct hd_err e;

	if (a == NULL)
		return 0;
	hd_err_clear(&e);
	if (hd_audit_flush(a, checkpoint, &res, &e) == -1) {
		if (hd_audit_pending(a) > 0) {
			*err = e;
			return -1;
		}
		/* the signatures stand and are recorded; any later signing
		 * into this log checkpoints them */
		fprintf(stderr, "hsmdesk: audit log %s: records written, but "
		    "no checkpoint: %s", hd_audit_path(a), e.msg);
		if (e.ckr != 0)
			fprintf(stderr, " (%s)", hd_ckr_name(e.ckr));
		if (e.ossl[0] != '\0')
			fprintf(stderr, " [%s]", e.ossl);
		fprintf(stderr, "; the next signing into this log adds a "
		    "checkpoint that covers them ('audit verify' calls them "
		    "unproven until then)\n");
		return 0;
	}
	if (checkpoint && !res.witness)
		fprintf(stderr, "hsmdesk: audit log %s: checkpoint at line "
		    "%llu, but no witness on the token (%s): 'audit verify' "
		    "cannot detect a cut tail\n", hd_audit_path(a),
		    (unsigned long long)res.checkpoint, res.witness_why);
	return 0;
}
