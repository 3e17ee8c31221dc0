/*
 * The Sign files run's audit records, as the command line keeps them
 * (cli/cmd_sign.c, docs/AUDIT.md): the log is opened before anything is
 * signed, and signing does not start without it; an Authenticode file
 * (signed in place, no undoing it) is recorded at once and stops the run
 * if it cannot be; the CMS records follow at the end with the checkpoint,
 * and if they cannot be written those signatures are removed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sign.h"

int
sign_record_open(struct tui *t, struct sgn *g, struct hd_err *err)
{
	g->audit_broken = 0;
	if (hd_audit_open(audit_log_path(t->cli), &g->audit, err) == -1)
		return -1;
	if (hd_audit_signer(g->audit, t->s, &g->key, g->cert.der,
	    g->cert.der_len, g->pe_chain, g->npe_chain, err) == 0)
		return 0;
	hd_audit_close(g->audit);
	g->audit = NULL;
	return -1;
}

/* Before file i is signed: the record begun, the file hashed when the
 * signature's digest will not be its SHA-256 (or it is signed in place). */
int
sign_record_start(struct sgn *g, int i, struct hd_err *err)
{
	struct sign_file *f = &g->f[i];
	int pe = sign_type_of(g, i) == SIGN_PE;

	f->logged = 0;
	return sign_audit_start(g->audit, &f->ae, !pe ? "cms" : f->ps1 ?
	    "authenticode-ps1" : "authenticode-pe", f->path, pe ||
	    strcmp(sign_md(g), "sha256") != 0, err);
}

/* After file i: what came of it; an Authenticode record is written now. */
void
sign_record_done(struct sgn *g, int i, const struct hd_sign_result *cms,
    const char *pe_md, const char *out, const char *why)
{
	struct sign_file *f = &g->f[i];
	struct hd_err err;

	if (g->audit == NULL || f->ae.type == NULL)
		return;
	sign_audit_result(&f->ae, why);
	if (why != NULL)
		return;
	sign_audit_md(&f->ae, cms ? sign_md(g) : pe_md);
	snprintf(f->ae.out, sizeof(f->ae.out), "%s", out);
	if (cms != NULL) {
		f->ae.size = cms->size;
		if (f->ae.sha256[0] == '\0')
			snprintf(f->ae.sha256, sizeof(f->ae.sha256), "%s",
			    cms->digest);
		return;
	}
	hd_err_clear(&err);
	if (hd_audit_add(g->audit, &f->ae, &err) == 0 &&
	    sign_audit_flush(g->audit, 0, &err) == 0) {
		f->logged = 1;
		return;
	}
	hd_audit_drop(g->audit);
	g->audit_broken = 1;
	snprintf(f->why, sizeof(f->why), "signed in place, but NOT recorded "
	    "in the audit log: %s", err.msg);
}

/* The rest of the records and the checkpoint; note says how it went. */
void
sign_record_finish(struct sgn *g, char *note, size_t len, int *bad)
{
	struct hd_audit_flushed res;
	struct hd_err err;
	int i;

	*bad = 0;
	note[0] = '\0';
	if (g->audit == NULL)
		return;
	hd_err_clear(&err);
	for (i = 0; i < g->n && !g->audit_broken; i++) {
		struct sign_file *f = &g->f[i];

		if (f->ae.type == NULL || f->logged)
			continue;
		if (f->state != SF_OK && f->ae.result[0] == '\0')
			sign_audit_result(&f->ae, "cancelled");
		if (hd_audit_add(g->audit, &f->ae, &err) == -1)
			break;
	}
	if (!g->audit_broken && i == g->n &&
	    hd_audit_flush(g->audit, 1, &res, &err) == 0) {
		snprintf(note, len, "Recorded in the audit log; checkpoint at "
		    "line %llu%s.", (unsigned long long)res.checkpoint,
		    res.witness ? "" : " (the token holds no witness)");
		goto out;
	}
	*bad = 1;
	if (g->audit_broken)
		snprintf(note, len, "Stopped: a signature could not be "
		    "recorded in the audit log; the CMS signatures were "
		    "removed.");
	else if (hd_audit_pending(g->audit) == 0) {
		snprintf(note, len, "Recorded, but no checkpoint: %s",
		    err.msg);
		goto out;
	} else
		snprintf(note, len, "The audit log could not be written (%s): "
		    "the CMS signatures were removed.", err.msg);
	for (i = 0; i < g->n; i++) {
		struct sign_file *f = &g->f[i];

		if (f->state != SF_OK || sign_type_of(g, i) == SIGN_PE)
			continue;
		f->state = SF_FAILED;
		snprintf(f->why, sizeof(f->why), "%s: not recorded in the "
		    "audit log", unlink(f->out) == 0 ? "signature removed" :
		    "could not remove the signature");
	}
out:
	hd_audit_close(g->audit);
	g->audit = NULL;
}
