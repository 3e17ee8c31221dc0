/* tokens and keys: what the module holds, as a table or --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
token_json(FILE *f, const struct hd_token_info *t)
{
	char state[80];

	hd_token_state_words(t, state, sizeof(state));
	fputc('{', f);
	json_kv_str(f, "label", t->initialized ? t->label : "", 1);
	json_kv_str(f, "serial", t->serial, 1);
	json_kv_str(f, "manufacturer", t->manufacturer, 1);
	json_kv_str(f, "model", t->model, 1);
	json_kv_str(f, "slot_description", t->slot_desc, 1);
	json_kv_bool(f, "initialized", t->initialized, 1);
	json_kv_bool(f, "login_required", t->login_required, 1);
	json_kv_bool(f, "user_pin_initialized", t->user_pin_set, 1);
	json_kv_bool(f, "write_protected", t->read_only, 1);
	json_kv_bool(f, "pin_count_low", t->pin_count_low, 1);
	json_kv_bool(f, "pin_final_try", t->pin_final_try, 1);
	json_kv_bool(f, "pin_locked", t->pin_locked, 1);
	json_kv_bool(f, "pin_to_be_changed", t->pin_to_change, 1);
	json_kv_bool(f, "so_pin_locked", t->so_pin_locked, 1);
	json_kv_num(f, "min_pin_length", t->min_pin, 1);
	json_kv_num(f, "max_pin_length", t->max_pin, 1);
	json_kv_str(f, "state", state, 0);
	fputc('}', f);
}

int
cmd_tokens(struct cli *c)
{
	struct hd_err err;
	struct hd_token_info *l;
	size_t n, i;
	char state[80];

	if ((c->s = hd_open(c->module, &err)) == NULL ||
	    hd_tokens(c->s, &l, &n, &err) == -1)
		return cli_fail(&err);
	if (c->json)
		fputc('[', stdout);
	else
		printf("%-32s %-16s %-16s %s\n", "LABEL", "SERIAL", "MODEL",
		    "STATE");
	for (i = 0; i < n; i++) {
		if (c->json) {
			token_json(stdout, &l[i]);
			fputs(i + 1 < n ? "," : "", stdout);
			continue;
		}
		hd_token_state_words(&l[i], state, sizeof(state));
		printf("%-32s %-16s %-16s %s\n", l[i].initialized ?
		    l[i].label : "(uninitialized)", l[i].serial, l[i].model,
		    state);
	}
	if (c->json)
		fputs("]\n", stdout);
	free(l);
	return 0;
}

static const char *
yn(enum hd_tri t)
{
	return t == HD_UNKNOWN ? "?" : t ? "yes" : "no";
}

static void
key_size(const struct hd_key *k, char *buf, size_t len)
{
	if (k->curve[0] != '\0')
		snprintf(buf, len, "%s %s", k->type, k->curve);
	else if (k->bits != 0)
		snprintf(buf, len, "%s-%u", k->type, k->bits);
	else
		snprintf(buf, len, "%s", k->type);
}

static void
key_json(FILE *f, const struct hd_key *k)
{
	char id[129];

	hd_hex(k->id, k->id_len, id, sizeof(id));
	fputc('{', f);
	json_kv_str(f, "label", k->label, 1);
	json_kv_str(f, "id", id, 1);
	json_kv_str(f, "type", k->type, 1);
	json_kv_num(f, "bits", k->bits, 1);
	if (k->curve[0] != '\0')
		json_kv_str(f, "curve", k->curve, 1);
	json_kv_bool(f, "private_key", k->has_private, 1);
	json_kv_bool(f, "public_key", k->has_public, 1);
	json_kv_tri(f, "sensitive", k->sensitive, 1);
	json_kv_tri(f, "extractable", k->extractable, 1);
	json_kv_tri(f, "never_extractable", k->never_extractable, 1);
	json_kv_tri(f, "always_sensitive", k->always_sensitive, 1);
	json_kv_tri(f, "local", k->local, 1);
	json_kv_tri(f, "sign", k->can_sign, 1);
	json_kv_bool(f, "certificate", k->has_cert, 0);
	fputc('}', f);
}

static void
keys_print(const struct cli *c, const struct hd_key *k, size_t n)
{
	char id[129], size[48];
	size_t i;
	int w = 24;

	if (c->json) {
		fputc('[', stdout);
		for (i = 0; i < n; i++) {
			key_json(stdout, &k[i]);
			fputs(i + 1 < n ? "," : "", stdout);
		}
		fputs("]\n", stdout);
		return;
	}
	/* the label column as wide as the longest label: {cn}-{date}
	 * labels are long, and a ragged table is hard to read */
	for (i = 0; i < n; i++)
		if ((int)strlen(k[i].label) > w)
			w = (int)strlen(k[i].label);
	printf("%-*s %-16s %-12s %-9s %-11s %-10s %-5s %s\n", w, "LABEL", "ID",
	    "TYPE", "SENSITIVE", "EXTRACTABLE", "NEVER-EXTR", "LOCAL", "CERT");
	for (i = 0; i < n; i++) {
		hd_hex(k[i].id, k[i].id_len, id, sizeof(id));
		key_size(&k[i], size, sizeof(size));
		printf("%-*s %-16s %-12s %-9s %-11s %-10s %-5s %s%s\n", w,
		    k[i].label, id, size, yn(k[i].sensitive),
		    yn(k[i].extractable), yn(k[i].never_extractable),
		    yn(k[i].local), k[i].has_cert ? "yes" : "no",
		    k[i].has_private ? "" : "  (public key only)");
	}
}

int
cmd_keys(struct cli *c)
{
	struct hd_err err, e2;
	struct hd_pin *pin = hd_pin_new();
	struct hd_key *keys = NULL;
	size_t n = 0;
	int rc;

	if (pin == NULL)
		return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
		    .msg = "out of memory" });
	if (cli_open(c, 0, &err) == -1)
		goto fail;
	if (cli_login(c, pin, &err) == -1)
		goto fail;
	rc = hd_keys(c->s, &keys, &n, &err);
	hd_logout(c->s, &e2);		/* logout before anything is shown */
	if (rc == -1)
		goto fail;
	keys_print(c, keys, n);
	free(keys);
	hd_pin_free(pin);
	return 0;
fail:
	hd_pin_free(pin);
	return cli_fail(&err);
}
