/*
 * hsmdesk's main(): with no command it opens the TUI, with one it runs
 * that verb (shared/CLI.md).  Global options may stand before or after the
 * command; each verb says which of its own it accepts.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_help(struct cli *c);

static const struct verb verbs[] = {
	{ "tokens", "tokens [--json]", cmd_tokens, OPT_JSON, 0 },
	{ "keys", "keys [--pin SRC] [--json]", cmd_keys, OPT_JSON | OPT_PIN,
	  0 },
	{ "init-token", "init-token --label L [--so-pin SRC] [--pin SRC]",
	  cmd_init_token, OPT_LABEL | OPT_SO_PIN | OPT_PIN, 0 },
	{ "change-pin", "change-pin [--pin SRC] [--new-pin SRC]",
	  cmd_change_pin, OPT_PIN | OPT_NEW_PIN, 0 },
	{ "reset-pin", "reset-pin [--so-pin SRC] [--new-pin SRC]",
	  cmd_reset_pin, OPT_SO_PIN | OPT_NEW_PIN, 0 },
	{ "delete-key", "delete-key --label L|--id HEX --yes [--pin SRC]",
	  cmd_delete_key, OPT_LABEL | OPT_ID | OPT_YES | OPT_PIN, 0 },
	{ "profile", "profile list [--json] | show NAME | convert FILE.inf",
	  cmd_profile, OPT_JSON, 2 },
	{ "request", "request --profile NAME|--inf FILE.inf [--subject DN] "
	  "[--san NAME]... [--label L] [--key L|--id HEX] "
	  "[--allow-exportable] [--attest] --out FILE [--der] [--force] "
	  "[--pin SRC]",
	  cmd_request, OPT_PROFILE | OPT_INF | OPT_SUBJECT |
	  OPT_SAN | OPT_LABEL | OPT_KEY | OPT_ID | OPT_ALLOW_EXPORTABLE | OPT_ATTEST |
	  OPT_OUT | OPT_DER | OPT_FORCE | OPT_PIN, 0 },
	{ "accept", "accept CERT [--trust-root SHA256] [--pin SRC]",
	  cmd_accept, OPT_TRUST_ROOT | OPT_PIN, 1 },
	{ "certs", "certs [--sha1 PREFIX] [--sha256 PREFIX] [--subject TEXT] "
	  "[--expiring DAYS] [--pin SRC] [--json]", cmd_certs, OPT_SHA1 |
	  OPT_SHA256 | OPT_SUBJECT | OPT_EXPIRING | OPT_PIN | OPT_JSON, 0 },
	{ "export-cert", "export-cert --sha1 THUMB [--chain] [--der|--p7b] "
	  "--out FILE [--force] [--pin SRC]", cmd_export_cert, OPT_SHA1 | OPT_CHAIN |
	  OPT_DER | OPT_P7B | OPT_OUT | OPT_FORCE | OPT_PIN, 0 },
	{ "sign", "sign --sha1 THUMB [--fd sha256|sha384|sha512] "
	  "[--type auto|cms|authenticode] [--pss] [--chain] [--d TEXT] "
	  "[--du URL] [--as] [--tr URL]... [--td sha256|sha384|sha512] "
	  "[--tr-timeout SECONDS] [--tr-optional] [--out FILE] [--log F] "
	  "[--no-audit] [--pin SRC] FILE... | sign --sha1 OLD --sha1 NEW "
	  "[--pin SRC [--pin SRC]] FILE...", cmd_sign,
	  OPT_SHA1 | OPT_FD | OPT_TYPE | OPT_PSS | OPT_CHAIN | OPT_DESC |
	  OPT_URL | OPT_AS | OPT_TR | OPT_OUT | OPT_PIN | OPT_AUDIT, INT_MAX },
	{ "verify", "verify [--CAfile F] [--TSA-CAfile F] [--sig FILE.p7s] "
	  "[--json] FILE...",
	  cmd_verify, OPT_CAFILE | OPT_SIG | OPT_JSON, INT_MAX },
	{ "audit", "audit verify [--CAfile F] [--log F] [--pin SRC] | audit "
	  "show [--since DATE] [--sha1 THUMB] [--file GLOB] [--log F] [--json]",
	  cmd_audit, OPT_CAFILE | OPT_SHA1 | OPT_JSON | OPT_PIN | OPT_AUDIT,
	  1 },
	{ "migrate", "migrate [--from-pin SRC] [--to-pin SRC] plan "
	  "--from-token T [--from-module M] --to-token T [--to-module M] "
	  "--out PLAN [--force] | run PLAN | accept PLAN CERT [--trust-root "
	  "SHA256] | status PLAN [--out DIR] [--force] [--json]",
	  cmd_migrate, OPT_OUT | OPT_FORCE | OPT_TRUST_ROOT | OPT_JSON, 3 },
	{ "probe", "probe [--pin SRC] [--json]", cmd_probe, OPT_JSON |
	  OPT_PIN, 0 },
	{ "modules", "modules [--json]", cmd_modules, OPT_JSON, 0 },
	{ "help", "help", cmd_help, 0, 0 },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))


/* One verb's usage, wrapped at blanks to fit 80 columns; the table keeps
 * each on one line so that usage errors stay one line too. */
static void
usage_line(FILE *f, const char *u)
{
	const char *p = u, *brk;
	int indent = 2, width = 78 - 2;

	while (strlen(p) > (size_t)width) {
		/* before an option's bracket if there is one, so that
		 * "[--pin SRC]" stays whole */
		for (brk = p + width; brk > p && !(brk[0] == ' ' &&
		    brk[1] == '['); brk--)
			;
		if (brk == p)
			for (brk = p + width; brk > p && *brk != ' '; brk--)
				;
		if (brk == p)
			break;
		fprintf(f, "%*s%.*s\n", indent, "", (int)(brk - p), p);
		p = brk + 1;
		indent = 6;
		width = 78 - 6;
	}
	fprintf(f, "%*s%s\n", indent, "", p);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hsmdesk [GLOBAL] [COMMAND [ARGS]]\n\n"
	    "With no command, opens the terminal UI.\n\nGLOBAL\n"
	    "  --module PATH   PKCS#11 module (default: $HSMDESK_MODULE, "
	    "config.yaml,\n                  then the embedded SoftHSM2 "
	    "store)\n"
	    "  --token TOKEN   label, serial or pkcs11: URI\n"
	    "  --pin SRC       env:VAR | file:PATH | - (also --so-pin, "
	    "--new-pin)\n"
	    "  --json  -q, --quiet  -v, --verbose  --version  --help\n\n"
	    "COMMANDS\n");
	for (i = 0; i < NVERBS; i++)
		usage_line(f, verbs[i].usage);
	fprintf(f, "\nExit status: 0 ok, 1 the operation failed, 2 bad usage "
	    "or input.\nSee hsmdesk(1).\n");
}

static int
cmd_help(struct cli *c)
{
	(void)c;
	usage(stdout);
	return 0;
}

static const struct verb *
verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* --module, then $HSMDESK_MODULE, then config.yaml, then the embedded one;
 * config.yaml's p11kit_server alone means p11-kit-client.so. */
static int
resolve_module(struct cli *c, const char *opt, struct hd_err *err)
{
	static char named[4096];
	const char *env = getenv("HSMDESK_MODULE");
	char conf[4096];

	c->module = opt ? opt : (env && *env) ? env : c->cfg.module;
	if (c->module == NULL && c->cfg.p11kit_server != NULL)
		c->module = HD_P11KIT_CLIENT;
	/* the remote token's socket, unless the caller set one already */
	if (c->cfg.p11kit_server != NULL)
		setenv("P11_KIT_SERVER_ADDRESS", c->cfg.p11kit_server, 0);
	if (c->module != NULL) {
		if (hd_module_resolve(c->module, named, sizeof(named),
		    err) == -1)
			return -1;
		c->module = named;
		return 0;
	}
	c->module = HD_DEFAULT_MODULE;
	c->embedded = 1;
	if (getenv("SOFTHSM2_CONF") != NULL)
		return 0;	/* the caller chose a SoftHSM2 store */
	if (hd_embedded_ensure(conf, sizeof(conf), err) == -1)
		return -1;
	/* SoftHSM2 reads this at C_Initialize; it must be set before */
	setenv("SOFTHSM2_CONF", conf, 1);
	return 0;
}

/* Load the module and select the token for a verb. */
int
cli_open(struct cli *c, int uninit, struct hd_err *err)
{
	const char *tok = c->token ? c->token : c->cfg.token;

	if ((c->s = hd_open(c->module, err)) == NULL ||
	    hd_vendor_set(c->s, c->cfg.vendor, err) == -1)
		return -1;
	if (uninit)
		return hd_token_select_uninit(c->s, c->token, err);
	return hd_token_select(c->s, tok, err);
}

/* The user PIN from --pin (or the terminal), then the login. */
int
cli_login(struct cli *c, struct hd_pin *pin, struct hd_err *err)
{
	char prompt[96];

	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
	    hd_token_label(c->s));
	if (pin_get(c, c->pin_src, "--pin", prompt, 0, pin, err) == -1)
		return -1;
	return hd_login(c->s, pin, err);
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct hd_err err;
	const struct verb *v = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	hd_err_clear(&err);
	/* a file size limit (ulimit -f) then fails write() with EFBIG, which
	 * the writers clean up after, instead of killing us mid-file */
	signal(SIGXFSZ, SIG_IGN);
	if ((rc = cli_parse(&c, argc, argv)) != -1)
		return rc;
	if (c.version) {
		printf("hsmdesk %s\n", HD_VERSION);
		return 0;
	}
	if (c.help) {
		usage(stdout);
		return 0;
	}
	c.args = argv + optind;
	c.nargs = argc - optind;
	if (c.nargs > 0) {
		if ((v = verb_find(c.args[0])) == NULL)
			return cli_usage_error("'%s': no such command; "
			    "'hsmdesk --help' lists them", c.args[0]);
		if ((rc = cli_check_opts(v, c.used)) != 0)
			return rc;
		c.args++;
		c.nargs--;
		if (c.nargs > v->max_args)
			return cli_usage_error("%s: unexpected argument '%s'; "
			    "usage: hsmdesk %s", v->name, c.args[v->max_args],
			    v->usage);
	}
	if ((rc = cli_check_migrate(&c, v)) != 0)
		return rc;
	if (v == NULL && c.used != 0)
		return cli_usage_error("options like --json, --pin or --out "
		    "belong to a command; the terminal UI takes --module and "
		    "--token only");
	if (hd_config_load(&c.cfg, NULL, &err) == -1)
		return cli_fail(&err);
	if (resolve_module(&c, c.module_opt, &err) == -1) {
		hd_config_free(&c.cfg);
		return cli_fail(&err);
	}
	rc = v != NULL ? v->run(&c) : tui_run(&c);
	if (rc == 0)
		cli_first_use(&c, v != NULL);
	hd_close(c.s);
	hd_config_free(&c.cfg);
	return rc;
}
