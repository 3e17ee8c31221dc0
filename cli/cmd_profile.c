/*
 * profile list | show NAME | convert request.inf, and delete-key: the
 * commands around a request that do not make one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
key_words(const struct hd_profile *p, char *buf, size_t len)
{
	if (p->type == HD_KEY_EC)
		snprintf(buf, len, "EC %s", p->curve);
	else
		snprintf(buf, len, "RSA-%u", p->bits);
}

static int
profile_list(struct cli *c)
{
	struct hd_profile *l;
	struct hd_err err;
	const char *why;
	char key[32];
	size_t n, i;

	if (hd_profile_list(&l, &n, &err) == -1)
		return cli_fail(&err);
	if (c->json)
		fputc('[', stdout);
	else
		printf("%-22s %-10s %s\n", "NAME", "KEY", "DESCRIPTION");
	for (i = 0; i < n; i++) {
		key_words(&l[i], key, sizeof(key));
		if (c->json) {
			fputc('{', stdout);
			json_kv_str(stdout, "name", l[i].name, 1);
			json_kv_str(stdout, "key", l[i].broken ? "" : key, 1);
			why = l[i].description;
			if (l[i].broken && strncmp(why, "broken: ", 8) == 0)
				why += 8;
			json_kv_str(stdout, l[i].broken ? "error" :
			    "description", why, 1);
			json_kv_bool(stdout, "broken", l[i].broken, 1);
			json_kv_str(stdout, "path", l[i].path, 0);
			fputs(i + 1 < n ? "}," : "}", stdout);
		} else if (l[i].broken) {
			why = l[i].description;
			if (strncmp(why, "broken: ", 8) == 0)
				why += 8;
			printf("%-22s %-10s BROKEN: %s:%s\n", l[i].name, "-",
			    l[i].path, why);
		} else {
			printf("%-22s %-10s %s\n", l[i].name, key,
			    l[i].description);
		}
	}
	if (c->json)
		fputs("]\n", stdout);
	free(l);
	return 0;
}

/* The profile as YAML, the same text `convert` writes. */
static int
print_yaml(const struct hd_profile *p, struct hd_err *err)
{
	char *y;

	if (hd_profile_to_yaml(p, &y, err) == -1)
		return -1;
	fputs(y, stdout);
	free(y);
	return 0;
}

static int
profile_show(struct cli *c, const char *name, int inf)
{
	struct hd_profile *p = calloc(1, sizeof(*p));
	struct hd_err err;
	size_t i;
	int rc = -1;

	if (p == NULL)
		return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
		    .msg = "out of memory" });
	/* convert is a reading, not a request: an exportable INF is shown
	 * as such, and `request --inf` still needs --allow-exportable */
	if ((inf ? hd_inf_load(p, name, 1, &err) : hd_profile_find(p, name,
	    &err)) == -1)
		goto out;
	if (!inf)
		printf("# %s\n", p->path);
	for (i = 0; inf && !c->quiet && i < p->nignored; i++)
		fprintf(stderr, "hsmdesk: %s: '%s' ignored: it means nothing "
		    "on a PKCS#11 token\n", name, p->ignored[i]);
	if (inf && p->exportable && !c->quiet)
		fprintf(stderr, "hsmdesk: WARNING: %s asks for an EXPORTABLE "
		    "key; 'request' refuses it without --allow-exportable\n",
		    name);
	rc = print_yaml(p, &err);
out:
	free(p);
	return rc == 0 ? 0 : cli_fail(&err);
}

int
cmd_profile(struct cli *c)
{
	const char *sub = c->nargs > 0 ? c->args[0] : NULL;

	if (sub == NULL)
		return cli_usage_error("profile: say list, show NAME or convert "
		    "FILE.inf");
	if (strcmp(sub, "list") == 0) {
		if (c->nargs != 1)
			return cli_usage_error("profile list: takes no "
			    "argument");
		return profile_list(c);
	}
	if (strcmp(sub, "show") != 0 && strcmp(sub, "convert") != 0)
		return cli_usage_error("profile %s: unknown; say list, show "
		    "NAME or convert FILE.inf", sub);
	if (c->nargs != 2)
		return cli_usage_error("profile %s: give one %s", sub,
		    sub[0] == 's' ? "profile name or path" : "INF file");
	if (c->json)
		return cli_usage_error("profile %s: --json is for 'profile "
		    "list'; this prints YAML", sub);
	return profile_show(c, c->args[1], sub[0] == 'c');
}

int
cmd_delete_key(struct cli *c)
{
	struct hd_pin *pin = hd_pin_new();
	struct hd_err err, e2;
	struct hd_key k;
	char id[129];
	int rc;

	if ((c->label == NULL) == (c->id == NULL)) {
		hd_pin_free(pin);
		return cli_usage_error("delete-key: name the key by --label L "
		    "or --id HEX (one of them)");
	}
	if (!c->yes) {
		hd_pin_free(pin);
		return cli_usage_error("delete-key: deleting a key cannot be "
		    "undone; add --yes to confirm");
	}
	if (pin == NULL)
		return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
		    .msg = "out of memory" });
	if (cli_open(c, 0, &err) == -1)
		goto fail;
	if (cli_login(c, pin, &err) == -1)
		goto fail;
	rc = hd_key_find(c->s, c->label, c->id, &k, &err);
	if (rc == 0)
		rc = hd_key_delete(c->s, &k, &err);
	hd_logout(c->s, &e2);
	if (rc == -1)
		goto fail;
	hd_hex(k.id, k.id_len, id, sizeof(id));
	if (!c->quiet)
		printf("deleted key '%s' (CKA_ID %s)%s from token '%s'\n",
		    k.label, id, k.has_cert ? " and its certificate" : "",
		    hd_token_label(c->s));
	hd_pin_free(pin);
	return 0;
fail:
	hd_pin_free(pin);
	return cli_fail(&err);
}
