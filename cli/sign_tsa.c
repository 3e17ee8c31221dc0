/*
 * sign's timestamp options (--tr, --td, --tr-timeout, --tr-optional and
 * config.yaml's tsa: list) made into the batch's hd_tsa, and what the
 * operator is told about each file's timestamp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TIMEOUT_MAX 300

/* --tr on the command line wins over the config file's list; "--tr none"
 * turns a configured list off for this run. */
static int
urls(const struct cli *c, struct hd_tsa_opts *o)
{
	size_t i;

	if (c->ntr == 1 && strcmp(c->tr[0], "none") == 0)
		return 0;
	for (i = 0; i < (size_t)c->ntr; i++) {
		if (strcmp(c->tr[i], "none") == 0)
			return cli_usage_error("sign: --tr none turns "
			    "timestamps off; give it alone");
		o->urls[o->nurls++] = c->tr[i];
	}
	for (i = 0; c->ntr == 0 && i < c->cfg.ntsa; i++)
		o->urls[o->nurls++] = c->cfg.tsa[i];
	return 0;
}

static int
timeout(const struct cli *c, struct hd_tsa_opts *o)
{
	char *end;
	long n;

	if (c->tr_timeout == NULL)
		return 0;
	n = strtol(c->tr_timeout, &end, 10);
	if (c->tr_timeout[0] < '0' || c->tr_timeout[0] > '9' || *end != '\0' ||
	    n < 1 || n > TIMEOUT_MAX)
		return cli_usage_error("sign: --tr-timeout %s: give seconds, "
		    "1 to %d", c->tr_timeout, TIMEOUT_MAX);
	o->timeout = (unsigned)n;
	return 0;
}

/* The batch's TSAs, or *t NULL without any; an exit status on misuse. */
int
cli_tsa_open(struct cli *c, struct hd_tsa **t)
{
	struct hd_tsa_opts o;
	struct hd_err err;
	int rc;

	*t = NULL;
	memset(&o, 0, sizeof(o));
	o.md = c->td;
	o.optional = c->tr_optional;
	if ((rc = urls(c, &o)) != 0 || (rc = timeout(c, &o)) != 0)
		return rc;
	if (o.nurls == 0) {
		if (c->td != NULL || c->tr_timeout != NULL || c->tr_optional)
			return cli_usage_error("sign: --td, --tr-timeout and "
			    "--tr-optional need a timestamp server: --tr URL "
			    "(or tsa: in config.yaml)");
		return 0;
	}
	hd_err_clear(&err);
	if (hd_tsa_open(&o, t, &err) == -1)
		return cli_fail(&err);
	return 0;
}

/* A TSA that failed, once per batch, though a later one answered: the
 * operator should know the list has a dead entry. */
static void
failed_once(const struct hd_tsa *t, unsigned *warned)
{
	const char *why;
	size_t i;

	for (i = 0; i < HD_TSA_URLS; i++) {
		why = hd_tsa_failure(t, i);
		if (why[0] == '\0' || (*warned & (1u << i)))
			continue;
		*warned |= 1u << i;
		fprintf(stderr, "hsmdesk: TSA %s: %s; not asked again in this "
		    "batch\n", hd_tsa_url(t, i), why);
	}
}

/* After a file is signed: its timestamp for the summary line, or (with
 * --tr-optional) a warning that it has none, which -q does not hide. */
void
cli_tsa_note(const struct hd_tsa *t, unsigned *warned, const char *in,
    const char *tsa, const char *when, char *out, size_t len)
{
	size_t n = strlen(out);

	if (t == NULL)
		return;
	failed_once(t, warned);
	if (tsa[0] != '\0') {
		snprintf(out + n, len - n, " [timestamp %s from %s]", when,
		    tsa);
		return;
	}
	snprintf(out + n, len - n, " [no timestamp]");
	fprintf(stderr, "hsmdesk: %s: signed without a timestamp (--tr-"
	    "optional): %s\n", in, hd_tsa_skipped(t));
}
