/*
 * probe: what the token can do, for an officer before a ceremony; modules:
 * the PKCS#11 modules p11-kit has registered; and the brief probe run the
 * first time a token is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void
mech_json(FILE *f, const struct hd_mech *m)
{
	char t[24];

	snprintf(t, sizeof(t), "0x%08lx", m->type);
	fputc('{', f);
	json_kv_str(f, "name", m->name, 1);
	json_kv_str(f, "type", t, 1);
	json_kv_num(f, "min_key_size", m->min_size, 1);
	json_kv_num(f, "max_key_size", m->max_size, 1);
	json_kv_num(f, "flags", m->flags, 0);
	fputc('}', f);
}

static void
probe_json(FILE *f, const struct hd_probe *p)
{
	static const char *const rsa[3] = { "2048", "3072", "4096" };
	static const char *const ec[2] = { "P-256", "P-384" };
	size_t i;
	int first;

	fputc('{', f);
	json_kv_str(f, "module", p->module, 1);
	json_kv_str(f, "library", p->library, 1);
	json_kv_str(f, "label", p->token.label, 1);
	json_kv_str(f, "serial", p->token.serial, 1);
	json_kv_str(f, "manufacturer", p->token.manufacturer, 1);
	json_kv_str(f, "model", p->token.model, 1);
	json_kv_str(f, "firmware", p->fw_version, 1);
	json_kv_bool(f, "cloudhsm", p->cloudhsm, 1);
	json_kv_bool(f, "user_pin_flag", p->token.user_pin_flag, 1);
	fputs("\"rsa_key_sizes\":[", f);
	for (i = 0, first = 1; i < 3; i++)
		if (p->rsa_gen[i]) {
			fprintf(f, "%s%s", first ? "" : ",", rsa[i]);
			first = 0;
		}
	fputs("],\"ec_curves\":[", f);
	for (i = 0, first = 1; i < 2; i++)
		if (p->ec_gen[i]) {
			fprintf(f, "%s\"%s\"", first ? "" : ",", ec[i]);
			first = 0;
		}
	fputs("],", f);
	json_kv_bool(f, "rsa_pkcs1", p->rsa_pkcs, 1);
	json_kv_bool(f, "rsa_pss", p->rsa_pss, 1);
	json_kv_bool(f, "ecdsa", p->ecdsa, 1);
	json_kv_tri(f, "rw_session", p->rw_session, 1);
	json_kv_tri(f, "ro_session", p->ro_session, 1);
	json_kv_tri(f, "certificate_objects", p->cert_objects, 1);
	json_kv_tri(f, "login_state_public", p->state_public, 1);
	json_kv_tri(f, "login_state_user", p->state_user, 1);
	json_kv_tri(f, "listing_needs_login", p->hidden_before_login, 1);
	fputs("\"summary\":[", f);
	for (i = 0; i < p->nlines; i++) {
		fputc('{', f);
		json_kv_str(f, "topic", p->lines[i].topic, 1);
		json_kv_str(f, "text", p->lines[i].text, 1);
		json_kv_bool(f, "warning", p->lines[i].warn, 0);
		fputs(i + 1 < p->nlines ? "}," : "}", f);
	}
	fputs("],\"mechanisms\":[", f);
	for (i = 0; i < p->nmechs; i++) {
		mech_json(f, &p->mechs[i]);
		fputs(i + 1 < p->nmechs ? "," : "", f);
	}
	fputs("]}\n", f);
}

int
cmd_probe(struct cli *c)
{
	struct hd_err err;
	struct hd_probe p;
	struct hd_pin *pin = NULL;
	char prompt[96], *text;
	int rc;

	if (cli_open(c, 0, &err) == -1)
		return cli_fail(&err);
	if (c->pin_src != NULL) {
		if ((pin = hd_pin_new()) == NULL)
			return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
			    .msg = "out of memory" });
		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
		    hd_token_label(c->s));
		if (pin_get(c, c->pin_src, "--pin", prompt, 0, pin,
		    &err) == -1) {
			hd_pin_free(pin);
			return cli_fail(&err);
		}
	}
	rc = hd_probe(c->s, pin, &p, &err);
	hd_pin_free(pin);
	if (rc == -1)
		return cli_fail(&err);
	if (c->json)
		probe_json(stdout, &p);
	else if (hd_probe_text(&p, &text) == 0) {
		fputs(text, stdout);
		free(text);
	}
	hd_probe_free(&p);
	return 0;
}

int
cmd_modules(struct cli *c)
{
	struct hd_p11kit_module *l;
	struct hd_err err;
	size_t n, i;

	if (hd_p11kit_modules(&l, &n, &err) == -1)
		return cli_fail(&err);
	if (c->json)
		fputc('[', stdout);
	else
		printf("%-20s %s\n", "NAME", "MODULE");
	for (i = 0; i < n; i++) {
		if (!c->json) {
			printf("%-20s %s%s\n", l[i].name, l[i].path,
			    access(l[i].path, R_OK) == 0 ? "" :
			    "  (not installed)");
			continue;
		}
		fputc('{', stdout);
		json_kv_str(stdout, "name", l[i].name, 1);
		json_kv_str(stdout, "module", l[i].path, 1);
		json_kv_str(stdout, "config", l[i].config, 1);
		json_kv_bool(stdout, "installed", access(l[i].path, R_OK) == 0,
		    0);
		fputs(i + 1 < n ? "}," : "}", stdout);
	}
	if (c->json)
		fputs("]\n", stdout);
	free(l);
	return 0;
}

/*
 * After a command that used a token: the first time that token (by
 * serial) is seen, probe it briefly and keep the report in the state
 * directory.  After a command on a terminal (say) the limitations found
 * are shown once, not after the TUI; a failure here never fails the
 * command that already succeeded.
 */
void
cli_first_use(struct cli *c, int say)
{
	struct hd_probe p;
	struct hd_err err;
	char path[4096];
	size_t i;

	if (c->s == NULL || !hd_token_selected(c->s) ||
	    hd_logged_in(c->s) ||
	    hd_probe_first_use(c->s, &p, path, sizeof(path), &err) != 1)
		return;
	if (say && !c->quiet && isatty(STDERR_FILENO)) {
		fprintf(stderr, "hsmdesk: first use of token '%s': "
		    "capabilities saved in %s\n", hd_token_label(c->s), path);
		for (i = 0; i < p.nlines; i++)
			if (p.lines[i].warn)
				fprintf(stderr, "hsmdesk:   %s: %s\n",
				    p.lines[i].topic, p.lines[i].text);
	}
	hd_probe_free(&p);
}
