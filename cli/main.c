/*
 * hsmdesk's main(): with no command it opens the TUI, with one it runs
 * that verb (shared/CLI.md).  Global options may stand before or after the
 * command; each verb says which of its own it accepts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_help(struct cli *c);

static const struct verb verbs[] = {
	{ "tokens", "tokens [--json]", cmd_tokens, OPT_JSON },
	{ "keys", "keys [--pin SRC] [--json]", cmd_keys, OPT_JSON | OPT_PIN },
	{ "init-token", "init-token --label L [--so-pin SRC] [--pin SRC]",
	  cmd_init_token, OPT_LABEL | OPT_SO_PIN | OPT_PIN },
	{ "change-pin", "change-pin [--pin SRC] [--new-pin SRC]",
	  cmd_change_pin, OPT_PIN | OPT_NEW_PIN },
	{ "reset-pin", "reset-pin [--so-pin SRC] [--new-pin SRC]",
	  cmd_reset_pin, OPT_SO_PIN | OPT_NEW_PIN },
	{ "help", "help", cmd_help, 0 },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const char *opt_names[] = { "--json", "--pin", "--so-pin",
	"--new-pin", "--label" };

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
		fprintf(f, "  %s\n", verbs[i].usage);
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

static int
set_pin_opt(struct cli *c, const char **dst, char *val, const char *opt,
    int bit)
{
	if (pin_source_check(val, opt) != 0)
		return 2;
	if (strcmp(val, "-") == 0 && c->stdin_taken++)
		return cli_usage_error("%s -: standard input is already used "
		    "for another PIN; use env: or file: for one of them", opt);
	*dst = val;
	c->used |= bit;
	return -1;
}

enum { O_MODULE = 256, O_TOKEN, O_PIN, O_SO_PIN, O_NEW_PIN, O_JSON,
	O_LABEL, O_VERSION, O_HELP };

static const struct option longopts[] = {
	{ "module", required_argument, NULL, O_MODULE },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "pin", required_argument, NULL, O_PIN },
	{ "so-pin", required_argument, NULL, O_SO_PIN },
	{ "new-pin", required_argument, NULL, O_NEW_PIN },
	{ "json", no_argument, NULL, O_JSON },
	{ "label", required_argument, NULL, O_LABEL },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, else an exit status. */
static int
parse_opt(struct cli *c, int ch, char *arg, const char **module)
{
	switch (ch) {
	case O_MODULE: *module = arg; return -1;
	case O_TOKEN: c->token = arg; return -1;
	case O_PIN: return set_pin_opt(c, &c->pin_src, arg, "--pin",
	    OPT_PIN);
	case O_SO_PIN: return set_pin_opt(c, &c->so_pin_src, arg, "--so-pin",
	    OPT_SO_PIN);
	case O_NEW_PIN: return set_pin_opt(c, &c->new_pin_src, arg,
	    "--new-pin", OPT_NEW_PIN);
	case O_JSON: c->json = 1; c->used |= OPT_JSON; return -1;
	case O_LABEL: c->label = arg; c->used |= OPT_LABEL; return -1;
	case 'q': c->quiet = 1; return -1;
	case 'v': c->verbose = 1; return -1;
	case O_VERSION: printf("hsmdesk %s\n", HD_VERSION); return 0;
	case O_HELP: usage(stdout); return 0;
	default: return cli_usage_error("%s: unknown option or missing "
	    "value; 'hsmdesk --help' lists them", optopt > ' ' && optopt < 127 ?
	    (char[]){ '-', (char)optopt, 0 } : c->badopt);
	}
}

static int
check_opts(const struct verb *v, int used)
{
	size_t i;

	for (i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
		if ((used & (1 << i)) && !(v->opts & (1 << i)))
			return cli_usage_error("%s: %s is not an option of "
			    "this command; usage: hsmdesk %s", v->name,
			    opt_names[i], v->usage);
	return 0;
}

/* --module, then $HSMDESK_MODULE, then config.yaml, then the embedded one. */
static int
resolve_module(struct cli *c, const char *opt, struct hd_err *err)
{
	const char *env = getenv("HSMDESK_MODULE");
	char conf[4096];

	c->module = opt ? opt : (env && *env) ? env : c->cfg.module;
	if (c->module != NULL)
		return 0;
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

	if ((c->s = hd_open(c->module, err)) == NULL)
		return -1;
	if (uninit)
		return hd_token_select_uninit(c->s, c->token, err);
	return hd_token_select(c->s, tok, err);
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct hd_err err;
	const struct verb *v = NULL;
	const char *module = NULL;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	hd_err_clear(&err);
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((ch = getopt_long(argc, argv, "qv", longopts, NULL)) != -1) {
		c.badopt = argv[optind - 1];
		if ((rc = parse_opt(&c, ch, optarg, &module)) != -1)
			return rc;
	}
	c.args = argv + optind;
	c.nargs = argc - optind;
	if (c.nargs > 0) {
		if ((v = verb_find(c.args[0])) == NULL)
			return cli_usage_error("'%s': no such command; "
			    "'hsmdesk --help' lists them", c.args[0]);
		if ((rc = check_opts(v, c.used)) != 0)
			return rc;
		c.args++;
		c.nargs--;
		if (c.nargs > 0)
			return cli_usage_error("%s: unexpected argument '%s'; "
			    "usage: hsmdesk %s", v->name, c.args[0], v->usage);
	}
	if (hd_config_load(&c.cfg, NULL, &err) == -1 ||
	    resolve_module(&c, module, &err) == -1)
		return cli_fail(&err);
	rc = v != NULL ? v->run(&c) : tui_run(&c);
	hd_close(c.s);
	hd_config_free(&c.cfg);
	return rc;
}
