/*
 * sign --sha1 OLD --sha1 NEW: cut-over signing during a migration, so that
 * partners on either chain can verify.  The first thumbprint is the
 * primary signer (give the one most verifiers trust now: the old one until
 * partners have the new chain).  Each thumbprint is looked for on the
 * token of --module/--token (or config.yaml's module/token), then on
 * config.yaml's module2/token2; the first --pin is for the primary's
 * token, a second --pin for the other's when it is another token.
 *
 * Authenticode: the primary signature with the other nested in it (Windows
 * decides trust on the primary).  Detached CMS: one file per signer,
 * FILE.p7s (primary) and FILE.<SHA-1 prefix>.p7s; not one CMS with two
 * signers, which `openssl cms -verify` accepts only if every signer's
 * chain is trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define PREFIX_LEN 8	/* of the SHA-1 in the second signature's name */

struct signer {
	const char *want;		/* the thumbprint as given */
	struct hd_session *s;		/* not owned */
	struct hd_cert cert;
	struct hd_key key;
	struct hd_der *chain;
	size_t nchain;
};

struct dual {
	struct hd_session *tok[2];	/* the default token, module2/token2 */
	struct signer sg[2];
	struct hd_audit *audit;		/* NULL with --no-audit */
	struct hd_audit_entry ae[2];	/* the current file's, per signer */
	struct hd_tsa *tsa;		/* --tr: each signature's timestamp */
	unsigned tsa_warned;		/* TSAs said to have failed */
	struct hd_sign_pe_result pe_res;	/* the last Authenticode one */
	int recorded;			/* records written: checkpoint them */
	int broken;			/* a record could not be written */
};

static int
open_token(const char *module, const char *token, struct hd_session **s,
    struct hd_err *err)
{
	if ((*s = hd_open(module, err)) == NULL)
		return -1;
	return hd_token_select(*s, token, err);
}

/* The token holding the certificate: where it is a token object first. */
static int
locate(struct dual *d, struct signer *g, struct hd_err *err)
{
	struct hd_cert c;
	int i, local = -1;

	for (i = 0; i < 2 && d->tok[i] != NULL; i++) {
		memset(&c, 0, sizeof(c));
		if (hd_cert_find(d->tok[i], g->want, &c, err) == 0) {
			if (c.where == HD_CERT_TOKEN) {
				g->s = d->tok[i];
				hd_cert_free(&c);
				return 0;
			}
			if (local == -1)
				local = i;
		}
		hd_cert_free(&c);
	}
	hd_err_clear(err);
	if (local >= 0) {
		g->s = d->tok[local];
		return 0;
	}
	hd_err_set(err, HD_E_INPUT, 0, "certificate %s: not on token '%s'%s%s"
	    "%s", g->want, hd_token_label(d->tok[0]), d->tok[1] ? " nor on '" :
	    "", d->tok[1] ? hd_token_label(d->tok[1]) : "", d->tok[1] ? "'" :
	    "");
	hd_err_hint(err, "'hsmdesk certs' lists the thumbprints; name the "
	    "other token as module2/token2 in config.yaml");
	return -1;
}

static int
open_all(struct cli *c, struct dual *d, struct hd_err *err)
{
	const char *tok = c->token ? c->token : c->cfg.token;

	if (open_token(c->module, tok, &d->tok[0], err) == -1)
		return -1;
	if (c->cfg.token2 != NULL && open_token(c->cfg.module2 ?
	    c->cfg.module2 : c->module, c->cfg.token2, &d->tok[1], err) == -1) {
		hd_err_hint(err, "config.yaml names it as module2/token2 "
		    "(%s)", c->cfg.path);
		return -1;
	}
	return 0;
}

/* Log in to each signer's token once; the n-th token the n-th --pin. */
static int
login_all(struct cli *c, struct dual *d, struct hd_err *err)
{
	const char *src[2] = { c->pin_src, c->pin2_src };
	struct hd_pin *pin;
	char prompt[96];
	int i, rc = 0;

	if ((pin = hd_pin_new()) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < 2 && rc == 0; i++) {
		struct hd_session *s = d->sg[i].s;

		if (hd_logged_in(s))
			continue;
		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
		    hd_token_label(s));
		rc = pin_get(c, src[i], i == 0 ? "--pin" : "the second --pin",
		    prompt, 0, pin, err);
		if (rc == 0)
			rc = hd_login(s, pin, err);
		hd_pin_clear(pin);
	}
	hd_pin_free(pin);
	return rc;
}

/* The certificate again (logged in: has_key known), its key, chain. */
static int
find_key(struct signer *g, struct hd_err *err)
{
	return sign_key_find(g->s, g->want, &g->cert, &g->key, &g->chain,
	    &g->nchain, err);
}

/*
 * Signer g's signature of in, into *h (opened here, deferred: written but
 * not in place until hd_sign_commit, so that neither file appears unless
 * both signatures are made).
 */
static int
cms_one(struct cli *c, struct dual *d, struct signer *g, const char *in,
    const char *out, struct hd_sign **h, struct hd_audit_entry *ae,
    struct hd_err *err)
{
	struct hd_sign_opts o = { .md = c->fd, .pss = c->pss, .replace = 1,
	    .defer = 1, .tsa = d->tsa };
	struct hd_sign_result res;
	unsigned char *chain = NULL;
	size_t clen = 0;
	struct progress p;
	int rc;

	if (c->chain && sign_chain_cat(g->chain, g->nchain, &chain, &clen,
	    err) == -1)
		return -1;
	rc = hd_sign_open(g->s, &g->key, g->cert.der, g->cert.der_len, chain,
	    clen, &o, h, err);
	free(chain);
	if (rc == -1)
		return -1;
	progress_start(&p, c, in);
	rc = hd_sign_file(*h, in, out, progress_cb, &p, &res, err);
	progress_end(&p);
	if (rc == 0) {
		if (ae->sha256[0] == '\0')
			snprintf(ae->sha256, sizeof(ae->sha256), "%s",
			    res.digest);
		ae->size = res.size;
		snprintf(ae->tsa, sizeof(ae->tsa), "%s", res.tsa);
		snprintf(ae->ts_time, sizeof(ae->ts_time), "%s", res.ts_time);
	}
	return rc;
}

/* Signer k's part of the summary line, what, with its timestamp (or,
 * with --tr-optional, a warning naming the signature that has none). */
static void
stamp_note(struct dual *d, int k, const char *name, char *what, size_t len)
{
	cli_tsa_note(d->tsa, &d->tsa_warned, name, d->ae[k].tsa,
	    d->ae[k].ts_time, what, len);
}

/*
 * FILE.p7s by the primary, FILE.<prefix>.p7s by the other: both made,
 * then both put in place; if either cannot be made (its TSA failed, say)
 * neither is written and any older ones stay as they were.  An output is
 * in place once its ae.out is set.
 */
static int
sign_cms2(struct cli *c, struct dual *d, const char *in, char *done,
    size_t len, struct hd_err *err)
{
	char out[2][4200], note[2][4400];
	struct hd_sign *h[2] = { NULL, NULL };
	int k, rc = 0;

	if (hd_sign_out_path(in, out[0], sizeof(out[0])) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: name too long", in);
	snprintf(out[1], sizeof(out[1]), "%s.%.*s.p7s", in, PREFIX_LEN,
	    d->sg[1].cert.sha1);
	for (k = 0; k < 2 && rc == 0; k++)
		rc = cms_one(c, d, &d->sg[k], in, out[k], &h[k], &d->ae[k],
		    err);
	for (k = 0; k < 2 && rc == 0; k++) {
		if ((rc = hd_sign_commit(h[k], err)) == 0)
			snprintf(d->ae[k].out, sizeof(d->ae[k].out), "%s",
			    out[k]);
	}
	hd_sign_close(h[1]);
	hd_sign_close(h[0]);
	if (rc == -1)
		return -1;
	for (k = 0; k < 2; k++) {
		snprintf(note[k], sizeof(note[k]), "%s (%.8s)", out[k],
		    d->sg[k].cert.sha1);
		stamp_note(d, k, out[k], note[k], sizeof(note[k]));
	}
	snprintf(done, len, "%s, %s", note[0], note[1]);
	return 0;
}

static int
pe_one(struct cli *c, struct dual *d, int k, const char *in, const char *out,
    int ps1, int append, struct hd_err *err)
{
	struct signer *g = &d->sg[k];
	struct hd_der cert = { g->cert.der, g->cert.der_len };
	struct hd_sign_pe_opts o = { .md = c->fd, .desc = c->desc,
	    .url = c->url, .append = append, .out = out, .replace = 1,
	    .tsa = d->tsa };
	struct hd_audit_entry *ae = &d->ae[k];

	if ((ps1 ? hd_sign_ps1 : hd_sign_pe)(g->s, &g->key, &cert, g->chain,
	    g->nchain, in, &o, &d->pe_res, err) == -1)
		return -1;
	snprintf(ae->tsa, sizeof(ae->tsa), "%s", d->pe_res.tsa);
	snprintf(ae->ts_time, sizeof(ae->ts_time), "%s", d->pe_res.ts_time);
	return 0;
}

/* A temp name beside target that keeps its base name (and extension). */
static void
tmp_beside(const char *target, char *buf, size_t len)
{
	const char *slash = strrchr(target, '/');

	if (slash == NULL)
		snprintf(buf, len, ".hsmdesk-dual-%ld-%s", (long)getpid(),
		    target);
	else
		snprintf(buf, len, "%.*s/.hsmdesk-dual-%ld-%s",
		    (int)(slash - target), target, (long)getpid(), slash + 1);
}

/* Both signatures into tmp; n1, n2 the summary's words for each. */
static int
pe_both(struct cli *c, struct dual *d, const char *in, const char *tmp,
    char *n1, char *n2, size_t nlen, struct hd_err *err)
{
	int ps1 = hd_ps1_name(in);
	char nested[4200];

	snprintf(n1, nlen, "%.8s", d->sg[0].cert.sha1);
	snprintf(n2, nlen, "nested %.8s", d->sg[1].cert.sha1);
	if (pe_one(c, d, 0, in, tmp, ps1, c->append, err) == -1 ||
	    cli_interrupted)
		return -1;
	stamp_note(d, 0, in, n1, nlen);
	if (pe_one(c, d, 1, tmp, NULL, ps1, 1, err) == -1 || cli_interrupted)
		return -1;
	snprintf(nested, sizeof(nested), "%s (nested)", in);
	stamp_note(d, 1, nested, n2, nlen);
	return 0;
}

/*
 * Both signatures into a copy beside the file, then the copy renamed over
 * it: the file is never left with the primary signature alone.
 */
static int
sign_pe2(struct cli *c, struct dual *d, const char *in, char *done,
    size_t len, struct hd_err *err)
{
	const char *target = c->out ? c->out : in;
	struct stat st;
	char tmp[4300], n1[700], n2[700];

	tmp_beside(target, tmp, sizeof(tmp));
	if (pe_both(c, d, in, tmp, n1, n2, sizeof(n1), err) == -1) {
		unlink(tmp);
		if (cli_interrupted && err->code == HD_OK)
			hd_err_set(err, HD_E_CANCELLED, 0, "%s: interrupted",
			    in);
		return -1;
	}
	/* in place: the file keeps its permissions */
	if (c->out == NULL && stat(in, &st) == 0)
		chmod(tmp, st.st_mode & 07777);
	if (rename(tmp, target) == -1) {
		unlink(tmp);
		return hd_err_set(err, HD_E_IO, 0, "%s: cannot be replaced",
		    target);
	}
	snprintf(d->ae[0].out, sizeof(d->ae[0].out), "%s", target);
	snprintf(d->ae[1].out, sizeof(d->ae[1].out), "%s", target);
	snprintf(done, len, "%s (%u signatures: %s, %s)", target,
	    d->pe_res.nsigs, n1, n2);
	return 0;
}

/* The file's two records, before it is signed (pe: its SHA-256 now, as
 * it is signed in place). */
static int
record_start(struct cli *c, struct dual *d, const char *in, int pe,
    struct hd_err *err)
{
	const char *type = !pe ? "cms" : hd_ps1_name(in) ?
	    "authenticode-ps1" : "authenticode-pe";
	int k, hash = pe || (c->fd != NULL && strcmp(c->fd, "sha256") != 0);

	for (k = 0; k < 2; k++) {
		if (sign_audit_start(d->audit, &d->ae[k], type, in, hash,
		    err) == -1)
			return -1;
		sign_audit_md(&d->ae[k], c->fd ? c->fd : "sha256");
		hash = 0;
		if (k == 1)
			snprintf(d->ae[1].sha256, sizeof(d->ae[1].sha256),
			    "%s", d->ae[0].sha256);
	}
	return 0;
}

/*
 * Each signer's record of the file, written before the next file is
 * signed (an output exists once its ae.out is set).  If they cannot be
 * written, the detached signatures are removed; an Authenticode file
 * cannot be unsigned and is named (docs/AUDIT.md).
 */
static int
record_done(struct dual *d, int pe, const struct hd_err *why,
    struct hd_err *err)
{
	int k;

	if (d->audit == NULL)
		return 0;
	for (k = 0; k < 2; k++) {
		sign_audit_result(&d->ae[k], d->ae[k].out[0] ? NULL :
		    why->code != HD_OK ? why->msg : "not signed");
		if (hd_audit_signer(d->audit, d->sg[k].s, &d->sg[k].key,
		    d->sg[k].cert.der, d->sg[k].cert.der_len, d->sg[k].chain,
		    d->sg[k].nchain, err) == -1 ||
		    hd_audit_add(d->audit, &d->ae[k], err) == -1)
			break;
	}
	if (k == 2 && sign_audit_flush(d->audit, 0, err) == 0) {
		d->recorded = 1;
		return 0;
	}
	hd_audit_drop(d->audit);
	d->broken = 1;
	for (k = 0; k < 2; k++)
		if (!pe && d->ae[k].out[0] != '\0')
			unlink(d->ae[k].out);
	hd_err_set(err, HD_E_IO, 0, "%s: %s; the batch stopped here", pe ?
	    "signed in place, but NOT recorded in the audit log" :
	    "signatures removed: they could not be recorded in the audit "
	    "log", err->msg);
	return -1;
}

/* The end of the batch: a checkpoint signed by each signer's key, so that
 * each token keeps a witness. */
static void
record_checkpoints(struct dual *d)
{
	struct hd_err err;
	int k;

	if (d->audit == NULL || !d->recorded || d->broken)
		return;
	for (k = 1; k >= 0; k--) {
		hd_err_clear(&err);
		if (hd_audit_signer(d->audit, d->sg[k].s, &d->sg[k].key,
		    d->sg[k].cert.der, d->sg[k].cert.der_len, d->sg[k].chain,
		    d->sg[k].nchain, &err) == -1 ||
		    sign_audit_flush(d->audit, 1, &err) == -1)
			cli_fail(&err);
	}
}

/* Every file; the exit status as sign's. */
static int
sign_files(struct cli *c, struct dual *d)
{
	enum hd_file_type ft;
	struct hd_err err, err2;
	char done[9000];
	int i, pe, rc = 0, r;

	for (i = 0; i < c->nargs && !cli_interrupted; i++) {
		const char *in = c->args[i];

		hd_err_clear(&err);
		hd_err_clear(&err2);
		memset(d->ae, 0, sizeof(d->ae));
		r = hd_file_type(in, &ft, &err);
		pe = r == 0 && (c->type == NULL || strcmp(c->type, "cms")) &&
		    (ft == HD_FILE_PE || hd_ps1_name(in));
		if (r == 0 && c->type && strcmp(c->type, "authenticode") == 0 &&
		    !pe)
			r = hd_err_set(&err, HD_E_INPUT, 0, "%s: neither a PE "
			    "file nor a PowerShell script", in);
		if (r == 0 && (r = record_start(c, d, in, pe, &err)) == 0) {
			r = pe ? sign_pe2(c, d, in, done, sizeof(done), &err) :
			    sign_cms2(c, d, in, done, sizeof(done), &err);
			if (record_done(d, pe, &err, &err2) == -1) {
				cli_fail(&err2);
				printf("FAILED  %-12s %s: %s\n", pe ?
				    "authenticode" : "cms", in, err2.msg);
				return 1;
			}
		}
		if (r == 0) {
			printf("OK      %-12s %s -> %s\n", pe ? "authenticode" :
			    "cms", in, done);
			continue;
		}
		cli_fail(&err);
		printf("FAILED  %-12s %s: %s\n", pe ? "authenticode" : "cms",
		    in, err.msg);
		rc = err.code == HD_E_INPUT ? 2 : rc == 2 ? 2 : 1;
	}
	return rc;
}

static int
check_dual(const struct cli *c)
{
	if (c->out != NULL && c->type != NULL &&
	    strcmp(c->type, "authenticode") != 0)
		return cli_usage_error("sign: with two --sha1, --out is for "
		    "one Authenticode file; CMS makes FILE.p7s and "
		    "FILE.<sha1-prefix>.p7s beside it");
	if (c->out != NULL && (c->nargs != 1 || c->type == NULL))
		return cli_usage_error("sign: with two --sha1, --out needs "
		    "--type authenticode and one FILE");
	return 0;
}

int
sign_dual(struct cli *c)
{
	struct dual d;
	struct hd_err err;
	char n0[41], n1[41];
	int i, rc;

	memset(&d, 0, sizeof(d));
	if ((rc = check_dual(c)) != 0)
		return rc;
	hd_err_clear(&err);
	d.sg[0].want = c->sha1;
	d.sg[1].want = c->sha1b;
	if (hd_thumb_normalize(c->sha1, 40, n0, sizeof(n0), &err) == -1 ||
	    hd_thumb_normalize(c->sha1b, 40, n1, sizeof(n1), &err) == -1)
		return cli_fail(&err);
	/* the log is checked before any PIN is asked, as sign's */
	if ((rc = cli_tsa_open(c, &d.tsa)) != 0)
		return rc;
	if ((rc = sign_audit_open(c, &d.audit)) != 0) {
		hd_tsa_close(d.tsa);
		return rc;
	}
	cli_catch_signals(1);
	rc = open_all(c, &d, &err) == -1 || locate(&d, &d.sg[0], &err) == -1 ||
	    locate(&d, &d.sg[1], &err) == -1 || login_all(c, &d, &err) == -1 ||
	    find_key(&d.sg[0], &err) == -1 || find_key(&d.sg[1], &err) == -1 ?
	    -1 : 0;
	if (rc == 0 && strcmp(d.sg[0].cert.sha1, d.sg[1].cert.sha1) == 0)
		rc = hd_err_set(&err, HD_E_USAGE, 0, "sign: both --sha1 name "
		    "certificate %s", d.sg[0].cert.sha1);
	if (rc == 0) {
		rc = sign_files(c, &d);
		record_checkpoints(&d);
	} else
		rc = cli_fail(&err);
	for (i = 1; i >= 0; i--) {
		hd_ders_free(d.sg[i].chain, d.sg[i].nchain);
		hd_cert_free(&d.sg[i].cert);
		if (d.tok[i] != NULL)
			hd_logout(d.tok[i], &err);
	}
	hd_audit_close(d.audit);
	hd_tsa_close(d.tsa);
	hd_close(d.tok[1]);
	hd_close(d.tok[0]);
	cli_catch_signals(0);
	if (cli_interrupted) {
		fprintf(stderr, "hsmdesk: sign interrupted (%s)\n",
		    strsignal(cli_interrupted));
		rc = 128 + cli_interrupted;
	}
	return rc;
}
