/*
 * request: a key pair on the token and its PKCS#10 CSR (certreq -new), or
 * a CSR for a key already there (renewal, --key/--id).  Everything that
 * can be checked without the token (profile, INF, subject, output path)
 * is checked first; after the token has made a key, any failure deletes
 * it again and removes what was written, so nothing is left half made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The token's C_GenerateKeyPair cannot be interrupted; Ctrl-C is seen when
 * it returns (cli_interrupted, progress.c), and hd_keygen then deletes the
 * pair it made. */
static int
keygen_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)done;
	(void)total;
	return cli_interrupted != 0;
}

static int
cancelled(struct hd_err *err)
{
	return hd_err_set(err, HD_E_CANCELLED, 0, "request interrupted (%s)",
	    strsignal(cli_interrupted));
}

/* The words of the command line that make the profile: checked as a whole
 * before anything touches the token. */
static int
load_request(struct cli *c, struct hd_profile *p, struct hd_err *err)
{
	int i;

	if (c->inf != NULL) {
		if (hd_inf_load(p, c->inf, c->allow_exportable, err) == -1)
			return -1;
	} else if (hd_profile_find(p, c->profile, err) == -1) {
		return -1;
	}
	if (c->subject != NULL &&
	    hd_profile_set_subject(p, c->subject, err) == -1)
		return -1;
	for (i = 0; i < c->nsan; i++)
		if (hd_profile_add_san(p, c->san[i], err) == -1)
			return -1;
	if (c->label != NULL && hd_profile_set_label(p, c->label, err) == -1)
		return -1;
	return hd_profile_ready(p, err);
}

/* What else can be known before the token: the key's name and label. */
static int
check_key_words(const struct cli *c, const struct hd_profile *p,
    struct hd_err *err)
{
	unsigned char id[64];
	char label[129];
	size_t n;

	if (c->id != NULL && hd_hex_decode(c->id, id, sizeof(id), &n) == -1) {
		hd_err_set(err, HD_E_USAGE, 0, "--id '%s': not a CKA_ID in hex",
		    c->id);
		hd_err_hint(err, "'hsmdesk keys' shows each key's ID");
		return -1;
	}
	if (c->key == NULL && c->id == NULL &&
	    hd_profile_label(p, label, sizeof(label)) == -1) {
		hd_err_set(err, HD_E_INPUT, 0, "key label '%s': cannot be made "
		    "from this request (a {cn} needs a subject CN)", p->label);
		hd_err_hint(err, "give --label, e.g. --label 'codesign-{date}'");
		return -1;
	}
	return 0;
}

static int
check_words(const struct cli *c)
{
	if ((c->profile == NULL) == (c->inf == NULL))
		return cli_usage_error("request: give one of --profile NAME or "
		    "--inf FILE.inf");
	if (c->out == NULL)
		return cli_usage_error("request: --out FILE is required (where "
		    "the CSR is saved)");
	if (c->key != NULL && c->id != NULL)
		return cli_usage_error("request: --key and --id both name the "
		    "key; give one");
	if ((c->key != NULL || c->id != NULL) && c->label != NULL)
		return cli_usage_error("request: --label names a new key; a "
		    "renewal (--key/--id) keeps the key's label");
	if (c->allow_exportable && c->inf == NULL)
		return cli_usage_error("request: --allow-exportable is for "
		    "--inf only; a profile says 'exportable: true' itself");
	return 0;
}

/* The output must not exist (unless --force) and its directory must: found
 * out now, not after the token has made a key. */
static const char *
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	snprintf(buf, len, "%.*s", (int)(slash - path), path);
	return buf;
}

static int
check_out(const struct cli *c, int ceremony, struct hd_err *err)
{
	char cer[4096], dir[4096];
	const char *d = dir_of(c->out, dir, sizeof(dir));

	if (!c->force && access(c->out, F_OK) == 0) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already", c->out);
		hd_err_hint(err, "choose another --out, or pass --force to "
		    "replace it");
		return -1;
	}
	if (ceremony && !c->force && hd_ceremony_path(c->out, cer,
	    sizeof(cer)) == 0 && access(cer, F_OK) == 0) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already (the "
		    "ceremony record of an earlier request)", cer);
		hd_err_hint(err, "choose another --out, or pass --force");
		return -1;
	}
	if (access(d, W_OK | X_OK) == -1) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: cannot write in '%s': %s",
		    c->out, d, strerror(errno));
		hd_err_hint(err, "choose an --out in an existing directory you "
		    "can write to");
		return -1;
	}
	return 0;
}

static void
usages(const struct hd_profile *p, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	if (p->key_usage != 0) {
		hd_ku_words(p->key_usage, buf, len);
		n = strlen(buf);
	}
	for (i = 0; i < p->neku && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
		    p->eku[i]);
}

static const char *
yn(enum hd_tri t)
{
	return t == HD_UNKNOWN ? "unknown" : t ? "yes" : "no";
}

static void
summary(const struct cli *c, const struct hd_profile *p,
    const struct hd_key *k, const struct hd_csr *csr, int made)
{
	char id[129], use[512], cer[4096];

	hd_hex(k->id, k->id_len, id, sizeof(id));
	usages(p, use, sizeof(use));
	printf("%s %s\n", made ? "key pair generated on token" :
	    "CSR for the existing key on token", hd_token_label(c->s));
	printf("  key        %s  (CKA_ID %s%s)\n", k->label, id,
	    k->id_random ? ", random: the token refused to set it" : "");
	if (made)
		printf("  token says sensitive %s, extractable %s, never "
		    "extractable %s, always sensitive %s, generated on the "
		    "token %s\n", yn(k->sensitive), yn(k->extractable),
		    yn(k->never_extractable), yn(k->always_sensitive),
		    yn(k->local));
	printf("  subject    %s\n", csr->subject);
	printf("  usages     %s\n", use[0] ? use : "(none requested)");
	printf("  CSR        %s (%s)\n", c->out, c->der ? "DER" : "PEM");
	printf("  SHA-256    %s\n", csr->sha256);
	if (made && hd_ceremony_path(c->out, cer, sizeof(cer)) == 0)
		printf("  record     %s\n", cer);
}

static void
notes(const struct cli *c, const struct hd_profile *p)
{
	size_t i;

	/* a security warning, not chatter: -q does not silence it */
	if (p->exportable)
		fprintf(stderr, "hsmdesk: WARNING: the private key will be "
		    "EXPORTABLE (wrapped by another key, never in plaintext), "
		    "as %s asks\n", c->inf ? c->inf : p->path);
	for (i = 0; !c->quiet && i < p->nignored; i++)
		fprintf(stderr, "hsmdesk: %s: '%s' ignored: it means nothing "
		    "on a PKCS#11 token\n", c->inf, p->ignored[i]);
}

static void
timing(const struct cli *c)
{
	uint64_t gen, sign;

	if (!c->verbose)
		return;
	hd_token_times(c->s, &gen, &sign);
	fprintf(stderr, "hsmdesk: token time: C_GenerateKeyPair %.3f ms, "
	    "signing %.3f ms\n", gen / 1e6, sign / 1e6);
}

/* Delete the key this request made; say so after err's own hint. */
static void
undo_key(struct cli *c, const struct hd_key *k, struct hd_err *err)
{
	struct hd_err e2;
	char was[sizeof(err->hint)];

	/* the old hint is an argument: copy it, vsnprintf may not overlap */
	snprintf(was, sizeof(was), "%s%s", err->hint, err->hint[0] ? "; " :
	    "");
	if (hd_key_delete(c->s, k, &e2) == 0)
		hd_err_hint(err, "%sthe new key pair '%s' was deleted", was,
		    k->label);
	else
		hd_err_hint(err, "%sthe new key pair '%s' could not be deleted "
		    "(%s): remove it with 'hsmdesk delete-key --label %s --yes'",
		    was, k->label, e2.msg, k->label);
}

/* Key (new or found), CSR, files; on failure nothing of ours remains. */
static int
make_request(struct cli *c, struct hd_profile *p, struct hd_err *err)
{
	struct hd_key k;
	struct hd_csr csr;
	struct hd_attest att;
	char label[129], *rec = NULL;
	int made = 0, wrote = 0, rc = -1;

	memset(&csr, 0, sizeof(csr));
	memset(&att, 0, sizeof(att));
	if (c->key != NULL || c->id != NULL) {
		if (hd_key_find(c->s, c->key, c->id, &k, err) == -1)
			return -1;
	} else {
		if (hd_profile_label(p, label, sizeof(label)) == -1) {
			hd_err_set(err, HD_E_INPUT, 0, "profile '%s': the key "
			    "label template gives no label", p->name);
			return -1;
		}
		if (hd_keygen(c->s, p, label, keygen_progress, NULL, &k,
		    err) == -1)
			return -1;
		made = 1;
	}
	if (cli_interrupted) {
		cancelled(err);
		goto out;
	}
	if (req_attest_get(c, &k, &att, err) == -1 ||
	    hd_csr_make(c->s, p, &k, &csr, err) == -1 ||
	    (made && hd_ceremony_text(c->s, p, &k, &csr, c->out, &rec,
	    err) == -1))
		goto out;
	if (cli_interrupted) {
		cancelled(err);
		goto out;
	}
	if (hd_csr_write(&csr, c->out, c->der, c->force, err) == -1)
		goto out;
	wrote = 1;
	if (req_attest_save(c, &att, &rec, err) == -1 ||
	    (made && hd_ceremony_write(rec, c->out, c->force, err) == -1))
		goto out;
	summary(c, p, &k, &csr, made);
	req_attest_print(c, &att);
	rc = 0;
out:
	if (rc == -1 && wrote) {
		unlink(c->out);
		req_attest_undo(c);
	}
	hd_attest_free(&att);
	if (rc == -1 && made)
		undo_key(c, &k, err);
	free(rec);
	hd_csr_free(&csr);
	return rc;
}

int
cmd_request(struct cli *c)
{
	struct hd_profile *p = calloc(1, sizeof(*p));
	struct hd_pin *pin = hd_pin_new();
	struct hd_err err, e2;
	char prompt[96];
	int rc;

	hd_err_clear(&err);
	if ((rc = check_words(c)) != 0)
		goto done;
	rc = 1;
	if (p == NULL || pin == NULL) {
		hd_err_set(&err, HD_E_NOMEM, 0, "out of memory");
		goto fail;
	}
	if (load_request(c, p, &err) == -1 ||
	    check_key_words(c, p, &err) == -1 ||
	    check_out(c, c->key == NULL && c->id == NULL, &err) == -1)
		goto fail;
	notes(c, p);
	if (cli_open(c, 0, &err) == -1 || req_attest_check(c, &err) == -1)
		goto fail;
	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
	    hd_token_label(c->s));
	if (pin_get(c, c->pin_src, "--pin", prompt, 0, pin, &err) == -1)
		goto fail;
	cli_catch_signals(1);
	if (hd_login(c->s, pin, &err) == -1) {
		cli_catch_signals(0);
		goto fail;
	}
	rc = make_request(c, p, &err);
	hd_logout(c->s, &e2);
	cli_catch_signals(0);
	if (rc == -1)
		goto fail;
	timing(c);
	rc = 0;
	goto done;
fail:
	rc = cli_fail(&err);
	if (err.code == HD_E_CANCELLED && cli_interrupted != 0)
		rc = 128 + cli_interrupted;	/* as a shell reports the signal */
done:
	hd_pin_free(pin);
	free(p);
	return rc;
}
