/*
 * migrate: move the signing identities of an old token to a new one
 * (plan, run, accept, status).  Two tokens are open at once, each through
 * its own module and with its own login: --from-pin and --to-pin take the
 * same sources as --pin (env:VAR, file:PATH, -), so a script gives both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

struct two {
	struct hd_session *from, *to;
};

static void
two_close(struct two *t)
{
	struct hd_err e;

	if (t->to != NULL)
		hd_logout(t->to, &e);
	if (t->from != NULL)
		hd_logout(t->from, &e);
	hd_close(t->to);
	hd_close(t->from);
	t->to = t->from = NULL;
}

/* The token of one side; the plan's serial unless named. */
static int
open_side(struct cli *c, const char *which, const char *module,
    const char *token, const struct hd_mig_side *plan,
    struct hd_session **s, struct hd_err *err)
{
	char spec[64];

	if (module == NULL)
		module = plan != NULL ? plan->module : c->module;
	if (token == NULL && plan != NULL) {
		snprintf(spec, sizeof(spec), "pkcs11:serial=%s", plan->serial);
		token = spec;
	}
	if (token == NULL) {
		hd_err_set(err, HD_E_USAGE, 0, "migrate: --%s-token is needed "
		    "(the %s token's label, serial or pkcs11: URI)", which,
		    strcmp(which, "from") == 0 ? "old" : "new");
		hd_err_hint(err, "'hsmdesk tokens' lists them");
		return -1;
	}
	if ((*s = hd_open(module, err)) == NULL)
		return -1;
	if (hd_token_select(*s, token, err) == -1) {
		if (plan != NULL && err->code == HD_E_NO_TOKEN)
			hd_err_hint(err, "the plan's %s token is '%s' (serial "
			    "%s) through %s: is it connected?", which,
			    plan->token, plan->serial, module);
		return -1;
	}
	return 0;
}

static int
login_side(struct cli *c, struct hd_session *s, const char *src,
    const char *opt, struct hd_err *err)
{
	struct hd_pin *pin = hd_pin_new();
	char prompt[96];
	int rc;

	if (pin == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
	    hd_token_label(s));
	rc = pin_get(c, src, opt, prompt, 0, pin, err);
	if (rc == 0)
		rc = hd_login(s, pin, err);
	hd_pin_free(pin);	/* wiped */
	return rc;
}

/* Both tokens open; login on the sides asked for. */
static int
open_two(struct cli *c, const struct hd_mig_plan *p, int login_from,
    int login_to, struct two *t, struct hd_err *err)
{
	if (open_side(c, "from", c->from_module, c->from_token,
	    p ? &p->from : NULL, &t->from, err) == -1 ||
	    open_side(c, "to", c->to_module, c->to_token, p ? &p->to : NULL,
	    &t->to, err) == -1)
		return -1;
	if (p != NULL && hd_mig_check_tokens(p, t->from, t->to, err) == -1)
		return -1;
	if (login_from && login_side(c, t->from, c->from_pin_src,
	    "--from-pin", err) == -1)
		return -1;
	if (login_to && login_side(c, t->to, c->to_pin_src, "--to-pin",
	    err) == -1)
		return -1;
	return 0;
}

static void
print_ident(const struct hd_mig_ident *d)
{
	printf("%-20s %-9s -> %-9s %-12s %s\n", d->name, d->old_key,
	    d->new_key, d->skip ? "skip" : hd_mig_state_name(d->state),
	    d->subject);
	if (d->upgrade[0] != '\0' && !d->skip)
		printf("%-20s %s: %s\n", "", strncmp(d->upgrade, "weaker", 6) ?
		    "upgraded" : "key", d->upgrade);
	if (d->note[0] != '\0')
		printf("%-20s note: %s\n", "", d->note);
}

static int
mig_plan(struct cli *c)
{
	struct hd_mig_plan p;
	struct two t = { NULL, NULL };
	struct hd_err err;
	size_t i;
	int rc;

	if (c->out == NULL || c->nargs != 1)
		return cli_usage_error("migrate plan: --out PLAN is needed, "
		    "and no other argument");
	hd_err_clear(&err);
	rc = open_two(c, NULL, 1, 0, &t, &err);
	if (rc == 0)
		rc = hd_mig_plan_make(t.from, t.to, c->out, c->force, &p, &err);
	two_close(&t);
	if (rc == -1)
		return cli_fail(&err);
	for (i = 0; i < p.n && !c->quiet; i++)
		print_ident(&p.ids[i]);
	if (p.n_nocert > 0 && !c->quiet)
		printf("left out: %zu key pair%s without a certificate (%s)\n",
		    p.n_nocert, p.n_nocert == 1 ? "" : "s", p.nocert);
	if (!c->quiet)
		printf("plan written to %s (%zu identit%s); review it, then: "
		    "hsmdesk migrate run %s\n", p.path, p.n, p.n == 1 ? "y" :
		    "ies", p.path);
	hd_mig_free(&p);
	return 0;
}

static int
run_all(struct cli *c, struct hd_mig_plan *p, struct two *t, int *waiting,
    struct hd_err *err)
{
	struct progress pr;
	size_t i;
	int r;

	for (i = 0; i < p->n; i++) {
		while (!cli_interrupted) {
			progress_start(&pr, c, p->ids[i].name);
			r = hd_mig_step(p, i, t->from, t->to, progress_cb, &pr,
			    err);
			progress_end(&pr);
			if (r == -1)
				return -1;
			if (r == 1)
				break;
			if (!c->quiet)
				printf("%-20s %s\n", p->ids[i].name,
				    hd_mig_state_name(p->ids[i].state));
		}
		if (cli_interrupted)
			return hd_err_set(err, HD_E_CANCELLED, 0, "migrate "
			    "run interrupted; the plan records what was done");
		*waiting += p->ids[i].state == HD_MIG_CSR && !p->ids[i].skip;
	}
	return 0;
}

static int
mig_run(struct cli *c)
{
	struct hd_mig_plan p;
	struct two t = { NULL, NULL };
	struct hd_err err;
	int rc, waiting = 0;

	if (c->nargs != 2)
		return cli_usage_error("migrate run PLAN: name the plan file");
	hd_err_clear(&err);
	if (hd_mig_load(c->args[1], &p, &err) == -1)
		return cli_fail(&err);
	cli_catch_signals(1);
	rc = open_two(c, &p, 0, 1, &t, &err);
	if (rc == 0)
		rc = run_all(c, &p, &t, &waiting, &err);
	two_close(&t);
	cli_catch_signals(0);
	if (rc == -1) {
		rc = cli_fail(&err);
		if (cli_interrupted)
			rc = 128 + cli_interrupted;
	} else if (!c->quiet)
		printf("%d CSR%s waiting for the CA; then: hsmdesk migrate "
		    "accept %s CERT\n", waiting, waiting == 1 ? "" : "s",
		    p.path);
	hd_mig_free(&p);
	return rc;
}

static int
mig_accept(struct cli *c)
{
	struct hd_accept_opts o = { c->trust_root, c->cfg.cert_store };
	struct hd_mig_plan p;
	struct hd_accept a;
	struct two t = { NULL, NULL };
	struct hd_err err;
	size_t which = 0;
	int rc;

	if (c->nargs != 3)
		return cli_usage_error("migrate accept PLAN CERT: name the plan "
		    "and the issued certificate");
	hd_err_clear(&err);
	memset(&a, 0, sizeof(a));
	if (hd_mig_load(c->args[1], &p, &err) == -1)
		return cli_fail(&err);
	rc = open_two(c, &p, 0, 1, &t, &err);
	if (rc == 0)
		rc = hd_mig_accept(&p, t.to, c->args[2], &o, &a, &which, &err);
	two_close(&t);
	if (rc == 0) {
		if (!c->quiet)
			printf("%s: done; new certificate %s\n",
			    p.ids[which].name, a.cert.sha1);
		hd_accept_free(&a);
	}
	hd_mig_free(&p);
	return rc == -1 ? cli_fail(&err) : 0;
}

/* --out DIR: each new certificate with its chain, for partners. */
static int
export_bundles(struct cli *c, struct hd_mig_plan *p, struct hd_err *err)
{
	struct two t = { NULL, NULL };
	struct hd_cert cert;
	char path[4096];
	size_t i, count;
	int rc = 0;

	if (mkdir(c->out, 0755) == -1 && errno != EEXIST)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", c->out,
		    strerror(errno));
	if (open_side(c, "to", c->to_module, c->to_token, &p->to, &t.to,
	    err) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < p->n; i++) {
		if (p->ids[i].state != HD_MIG_DONE || p->ids[i].skip)
			continue;
		snprintf(path, sizeof(path), "%s/%s-chain.pem", c->out,
		    p->ids[i].name);
		memset(&cert, 0, sizeof(cert));
		rc = hd_cert_find(t.to, p->ids[i].new_sha1, &cert, err) == -1 ||
		    hd_cert_export(t.to, &cert, 1, HD_FMT_PEM, path, c->force,
		    &count, err) == -1 ? -1 : 0;
		hd_cert_free(&cert);
		if (rc == 0)
			printf("  %s: %zu certificate%s (the new one and its "
			    "chain)\n", path, count, count == 1 ? "" : "s");
	}
	two_close(&t);
	return rc;
}

/* status --json: one object per identity, for scripts. */
static void
status_json(const struct hd_mig_plan *p)
{
	char next[2048];
	size_t i;

	putchar('[');
	for (i = 0; i < p->n; i++) {
		const struct hd_mig_ident *d = &p->ids[i];

		hd_mig_next(p, d, next, sizeof(next));
		printf("%s{", i ? "," : "");
		json_kv_str(stdout, "name", d->name, 1);
		json_kv_str(stdout, "action", d->skip ? "skip" : "migrate", 1);
		json_kv_str(stdout, "state", hd_mig_state_name(d->state), 1);
		json_kv_str(stdout, "old_key", d->old_key, 1);
		json_kv_str(stdout, "new_key", d->new_key, 1);
		json_kv_str(stdout, "upgrade", d->upgrade, 1);
		json_kv_str(stdout, "subject", d->subject, 1);
		json_kv_str(stdout, "issuer", d->issuer, 1);
		json_kv_str(stdout, "sha1", d->sha1, 1);
		json_kv_str(stdout, "not_after", d->not_after, 1);
		json_kv_bool(stdout, "expired", d->expired, 1);
		json_kv_str(stdout, "new_label", d->new_label, 1);
		json_kv_str(stdout, "new_key_id", d->new_id, 1);
		json_kv_str(stdout, "csr", d->csr, 1);
		json_kv_str(stdout, "new_sha1", d->new_sha1, 1);
		json_kv_str(stdout, "note", d->note, 1);
		json_kv_str(stdout, "next", next, 0);
		putchar('}');
	}
	printf("]\n");
}

static int
mig_status(struct cli *c)
{
	struct hd_mig_plan p;
	struct hd_err err;
	char next[2048];
	size_t i, done = 0, skip = 0;
	int rc = 0;

	if (c->nargs != 2)
		return cli_usage_error("migrate status PLAN: name the plan file");
	hd_err_clear(&err);
	if (hd_mig_load(c->args[1], &p, &err) == -1)
		return cli_fail(&err);
	if (c->json) {
		status_json(&p);
		hd_mig_free(&p);
		return 0;
	}
	printf("plan %s, made %s\nfrom: token '%s' (serial %s) via %s\n"
	    "to:   token '%s' (serial %s) via %s\n\n", p.path, p.created,
	    p.from.token, p.from.serial, p.from.module, p.to.token,
	    p.to.serial, p.to.module);
	for (i = 0; i < p.n; i++) {
		print_ident(&p.ids[i]);
		hd_mig_next(&p, &p.ids[i], next, sizeof(next));
		printf("%-20s old: %s, expires %s\n", "", p.ids[i].sha1,
		    p.ids[i].not_after);
		printf("%-20s next: %s\n", "", next);
		done += p.ids[i].state == HD_MIG_DONE && !p.ids[i].skip;
		skip += p.ids[i].skip;
	}
	printf("\n%zu of %zu done, %zu skipped, %zu to go\n", done, p.n, skip,
	    p.n - done - skip);
	if (done > 0 && c->out == NULL)
		printf("partners need each new certificate and its chain: "
		    "hsmdesk migrate status %s --out DIR writes them\n",
		    p.path);
	if (done > 0 && c->out != NULL)
		rc = export_bundles(c, &p, &err);
	hd_mig_free(&p);
	return rc == -1 ? cli_fail(&err) : 0;
}

int
cli_check_migrate(const struct cli *c, const struct verb *v)
{
	const char *name = v != NULL ? v->name : "the terminal UI";

	if ((c->from_module || c->from_token || c->from_pin_src ||
	    c->to_module || c->to_token || c->to_pin_src) &&
	    (v == NULL || strcmp(v->name, "migrate") != 0))
		return cli_usage_error("%s: --from-* and --to-* are options of "
		    "migrate", name);
	if ((c->sha1b || c->pin2_src) && (v == NULL ||
	    strcmp(v->name, "sign") != 0))
		return cli_usage_error("%s: --sha1 and --pin are given once; "
		    "two of each are for sign (cut-over signing)", name);
	return 0;
}

int
cmd_migrate(struct cli *c)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *);
	} subs[] = {
		{ "plan", mig_plan }, { "run", mig_run },
		{ "accept", mig_accept }, { "status", mig_status },
	};
	const char *sub = c->nargs > 0 ? c->args[0] : "";
	size_t i;

	/* the options each subcommand takes, beyond the --from/--to ones */
	if (c->out != NULL && strcmp(sub, "plan") && strcmp(sub, "status"))
		return cli_usage_error("migrate %s: --out is for plan and "
		    "status", sub);
	if (c->force && c->out == NULL)
		return cli_usage_error("migrate: --force goes with --out");
	if (c->json && (strcmp(sub, "status") || c->out != NULL))
		return cli_usage_error("migrate: --json is for status without "
		    "--out");
	if (c->trust_root != NULL && strcmp(sub, "accept"))
		return cli_usage_error("migrate %s: --trust-root is for "
		    "accept", sub);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].run(c);
	return cli_usage_error("migrate: give plan, run, accept or status; "
	    "'hsmdesk --help' shows how");
}
