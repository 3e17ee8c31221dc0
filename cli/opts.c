/*
 * Command-line options, one table: each option's name, whether it takes a
 * value, the OPT_* bit a verb must list to accept it (0: global), how it
 * is stored and where in struct cli.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum kind { K_STR, K_FLAG, K_PIN, K_LIST, K_URLS };

static const struct optdef {
	const char *name;
	int has_arg;
	optset bit;
	enum kind kind;
	size_t off;
	int shortopt;
} opts[] = {
	{ "module", 1, 0, K_STR, offsetof(struct cli, module_opt), 0 },
	{ "token", 1, 0, K_STR, offsetof(struct cli, token), 0 },
	{ "pin", 1, OPT_PIN, K_PIN, offsetof(struct cli, pin_src), 0 },
	{ "so-pin", 1, OPT_SO_PIN, K_PIN, offsetof(struct cli, so_pin_src),
	  0 },
	{ "new-pin", 1, OPT_NEW_PIN, K_PIN, offsetof(struct cli, new_pin_src),
	  0 },
	{ "json", 0, OPT_JSON, K_FLAG, offsetof(struct cli, json), 0 },
	{ "label", 1, OPT_LABEL, K_STR, offsetof(struct cli, label), 0 },
	{ "profile", 1, OPT_PROFILE, K_STR, offsetof(struct cli, profile), 0 },
	{ "subject", 1, OPT_SUBJECT, K_STR, offsetof(struct cli, subject), 0 },
	{ "san", 1, OPT_SAN, K_LIST, offsetof(struct cli, san), 0 },
	{ "out", 1, OPT_OUT, K_STR, offsetof(struct cli, out), 0 },
	{ "der", 0, OPT_DER, K_FLAG, offsetof(struct cli, der), 0 },
	{ "force", 0, OPT_FORCE, K_FLAG, offsetof(struct cli, force), 0 },
	{ "key", 1, OPT_KEY, K_STR, offsetof(struct cli, key), 0 },
	{ "id", 1, OPT_ID, K_STR, offsetof(struct cli, id), 0 },
	{ "inf", 1, OPT_INF, K_STR, offsetof(struct cli, inf), 0 },
	{ "allow-exportable", 0, OPT_ALLOW_EXPORTABLE, K_FLAG,
	  offsetof(struct cli, allow_exportable), 0 },
	{ "yes", 0, OPT_YES, K_FLAG, offsetof(struct cli, yes), 0 },
	{ "trust-root", 1, OPT_TRUST_ROOT, K_STR,
	  offsetof(struct cli, trust_root), 0 },
	{ "sha1", 1, OPT_SHA1, K_STR, offsetof(struct cli, sha1), 0 },
	{ "sha256", 1, OPT_SHA256, K_STR, offsetof(struct cli, sha256), 0 },
	{ "expiring", 1, OPT_EXPIRING, K_STR, offsetof(struct cli, expiring),
	  0 },
	{ "chain", 0, OPT_CHAIN, K_FLAG, offsetof(struct cli, chain), 0 },
	{ "p7b", 0, OPT_P7B, K_FLAG, offsetof(struct cli, p7b), 0 },
	{ "fd", 1, OPT_FD, K_STR, offsetof(struct cli, fd), 0 },
	{ "type", 1, OPT_TYPE, K_STR, offsetof(struct cli, type), 0 },
	{ "pss", 0, OPT_PSS, K_FLAG, offsetof(struct cli, pss), 0 },
	{ "d", 1, OPT_DESC, K_STR, offsetof(struct cli, desc), 0 },
	{ "du", 1, OPT_URL, K_STR, offsetof(struct cli, url), 0 },
	{ "as", 0, OPT_AS, K_FLAG, offsetof(struct cli, append), 0 },
	{ "tr", 1, OPT_TR, K_URLS, offsetof(struct cli, tr), 0 },
	{ "td", 1, OPT_TR, K_STR, offsetof(struct cli, td), 0 },
	{ "tr-timeout", 1, OPT_TR, K_STR, offsetof(struct cli, tr_timeout),
	  0 },
	{ "tr-optional", 0, OPT_TR, K_FLAG, offsetof(struct cli, tr_optional),
	  0 },
	{ "CAfile", 1, OPT_CAFILE, K_STR, offsetof(struct cli, cafile), 0 },
	{ "TSA-CAfile", 1, OPT_CAFILE, K_STR, offsetof(struct cli, tsa_cafile),
	  0 },
	{ "sig", 1, OPT_SIG, K_STR, offsetof(struct cli, sig), 0 },
	{ "log", 1, OPT_AUDIT, K_STR, offsetof(struct cli, log), 0 },
	{ "no-audit", 0, OPT_AUDIT, K_FLAG, offsetof(struct cli, no_audit),
	  0 },
	{ "since", 1, OPT_AUDIT, K_STR, offsetof(struct cli, since), 0 },
	{ "file", 1, OPT_AUDIT, K_STR, offsetof(struct cli, file), 0 },
	/* migrate's: no OPT_* bit is left, so main.c refuses them for
	 * other commands */
	{ "from-module", 1, 0, K_STR, offsetof(struct cli, from_module), 0 },
	{ "from-token", 1, 0, K_STR, offsetof(struct cli, from_token), 0 },
	{ "from-pin", 1, 0, K_PIN, offsetof(struct cli, from_pin_src), 0 },
	{ "to-module", 1, 0, K_STR, offsetof(struct cli, to_module), 0 },
	{ "to-token", 1, 0, K_STR, offsetof(struct cli, to_token), 0 },
	{ "to-pin", 1, 0, K_PIN, offsetof(struct cli, to_pin_src), 0 },
	{ "attest", 0, OPT_ATTEST, K_FLAG, offsetof(struct cli, attest), 0 },
	{ "quiet", 0, 0, K_FLAG, offsetof(struct cli, quiet), 'q' },
	{ "verbose", 0, 0, K_FLAG, offsetof(struct cli, verbose), 'v' },
	{ "version", 0, 0, K_FLAG, offsetof(struct cli, version), 0 },
	{ "help", 0, 0, K_FLAG, offsetof(struct cli, help), 'h' },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int
set_pin(struct cli *c, const struct optdef *o, char *val)
{
	char name[32];

	snprintf(name, sizeof(name), "--%s", o->name);
	if (pin_source_check(val, name) != 0)
		return 2;
	if (strcmp(val, "-") == 0 && c->stdin_taken++)
		return cli_usage_error("%s -: standard input is already used "
		    "for another PIN; use env: or file: for one of them", name);
	/* sign --sha1 OLD --sha1 NEW: the second key's token may want its
	 * own PIN, given by a second --pin */
	if (o->off == offsetof(struct cli, pin_src) && c->pin_src != NULL) {
		if (c->pin2_src != NULL)
			return cli_usage_error("--pin: at most two");
		c->pin2_src = val;
		return -1;
	}
	*(const char **)((char *)c + o->off) = val;
	return -1;
}

/* Store one option; -1 to go on, else an exit status. */
static int
store(struct cli *c, const struct optdef *o, char *val)
{
	char *base = (char *)c + o->off;

	c->used |= o->bit;
	switch (o->kind) {
	case K_PIN:
		return set_pin(c, o, val);
	case K_FLAG:
		*(int *)base = 1;
		return -1;
	case K_LIST:
		if (c->nsan == CLI_MAX_SAN)
			return cli_usage_error("--%s: at most %d", o->name,
			    CLI_MAX_SAN);
		((const char **)base)[c->nsan++] = val;
		return -1;
	case K_URLS:
		if (c->ntr == HD_TSA_URLS)
			return cli_usage_error("--%s: at most %d", o->name,
			    HD_TSA_URLS);
		((const char **)base)[c->ntr++] = val;
		return -1;
	default:
		if (o->off == offsetof(struct cli, sha1) && c->sha1 != NULL) {
			/* sign's cut-over: two signers (sign_dual.c) */
			if (c->sha1b != NULL)
				return cli_usage_error("--sha1: at most two");
			c->sha1b = val;
			return -1;
		}
		*(const char **)base = val;
		return -1;
	}
}

int
cli_parse(struct cli *c, int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	char shorts[16] = "";
	size_t i, ns = 0;
	int ch, rc;

	memset(lo, 0, sizeof(lo));
	for (i = 0; i < NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].has_arg ? required_argument :
		    no_argument;
		lo[i].val = 256 + (int)i;
		if (opts[i].shortopt != 0)
			shorts[ns++] = (char)opts[i].shortopt;
	}
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		for (i = 0; i < NOPTS && ch < 256; i++)
			if (opts[i].shortopt == ch)
				ch = 256 + (int)i;
		if (ch < 256 || ch >= 256 + (int)NOPTS)
			return cli_usage_error("%s: unknown option or missing "
			    "value; 'hsmdesk --help' lists them",
			    argv[optind - 1]);
		if ((rc = store(c, &opts[ch - 256], optarg)) != -1)
			return rc;
	}
	return -1;
}

int
cli_check_opts(const struct verb *v, optset used)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if ((used & opts[i].bit) && !(v->opts & opts[i].bit))
			return cli_usage_error("%s: --%s is not an option of "
			    "this command; usage: hsmdesk %s", v->name,
			    opts[i].name, v->usage);
	return 0;
}
