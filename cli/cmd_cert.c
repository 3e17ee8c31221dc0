/*
 * accept, certs, export-cert: certreq -accept, Get-ChildItem cert:\ and
 * the certificate export wizard.  The file and the thumbprints are
 * checked before a PIN is asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int
fail_nomem(void)
{
	return cli_fail(&(struct hd_err){ .code = HD_E_NOMEM,
	    .msg = "out of memory" });
}

/* Every thumbprint option, normalized once so a typo costs no PIN. */
static int
thumbs_check(const struct cli *c, struct hd_err *err)
{
	char buf[65];

	if ((c->sha1 && hd_thumb_normalize(c->sha1, 40, buf, sizeof(buf),
	    err) == -1) || (c->sha256 && hd_thumb_normalize(c->sha256, 64,
	    buf, sizeof(buf), err) == -1) || (c->trust_root &&
	    hd_thumb_normalize(c->trust_root, 64, buf, sizeof(buf),
	    err) == -1))
		return -1;
	if (c->trust_root && strlen(buf) != 64)
		return hd_err_set(err, HD_E_USAGE, 0, "--trust-root %s: give "
		    "the whole SHA-256 fingerprint (64 hex digits), not a "
		    "prefix", buf);
	return 0;
}

/* Log in if a PIN is needed (always) or was given (optional); CloudHSM
 * lists nothing before login, so there it is always needed. */
static int
login(struct cli *c, int always, struct hd_pin *pin, struct hd_err *err)
{
	if (!always && c->pin_src == NULL && !hd_vendor_cloudhsm(c->s))
		return 0;
	return cli_login(c, pin, err);
}

/* ---- accept ------------------------------------------------------------ */

static void
key_id_hex(const struct hd_cert *cert, char *buf, size_t len)
{
	hd_hex(cert->id, cert->id_len, buf, len);
}

static void
print_checks(const struct hd_accept *a)
{
	size_t i;

	for (i = 0; i < a->nchecks; i++)
		printf("  %-9s %-7s %s\n", a->checks[i].name,
		    a->checks[i].level == HD_CHECK_OK ? "ok" : "warning",
		    a->checks[i].text);
}

static void
print_roots(const struct hd_accept *a, const char *file)
{
	size_t i;

	for (i = 0; i < a->nroots; i++) {
		const struct hd_root *r = &a->roots[i];

		if (r->trusted == 2) {
			printf("  %-9s %-7s '%s' (SHA-256 %s) is now a trust "
			    "anchor\n", "root", "ok", r->subject, r->sha256);
		} else if (r->trusted == 0) {
			printf("  %-9s %-7s '%s' is not trusted; its SHA-256 "
			    "fingerprint is %s\n", "root", "warning",
			    r->subject, r->sha256);
			printf("  %-9s %-7s if the CA confirms that "
			    "fingerprint: hsmdesk accept %s --trust-root %s\n",
			    "", "", file, r->sha256);
		}
	}
}

static void
print_where(const struct cli *c, const struct hd_accept *a)
{
	const char *tok = hd_token_label(c->s);
	char id[129];

	key_id_hex(&a->cert, id, sizeof(id));
	if (a->duplicate)
		printf("already %s beside key '%s': nothing changed\n",
		    a->cert.where == HD_CERT_TOKEN ? "on the token" :
		    "in the local store", a->key.label);
	else if (a->cert.where == HD_CERT_TOKEN)
		printf("stored on token '%s' beside key '%s'\n", tok,
		    a->key.label);
	else if (a->refused != 0)
		printf("token '%s' refused the certificate object (%s): stored "
		    "in the local store instead, under the token's serial and "
		    "key ID %s\n", tok, hd_ckr_name(a->refused), id);
	else
		printf("stored in the local store (config.yaml: cert_store: "
		    "local), under the token's serial and key ID %s\n", id);
	if (a->nchain > 0)
		printf("chain: %zu more certificate%s in the file, %zu new in "
		    "the local store\n", a->nchain, a->nchain == 1 ? "" : "s",
		    a->chain_added);
}

int
cmd_accept(struct cli *c)
{
	struct hd_accept_opts o = { c->trust_root, c->cfg.cert_store };
	struct hd_accept a;
	struct hd_err err, e2;
	struct hd_pin *pin;
	size_t n;
	int rc;

	if (c->nargs != 1)
		return cli_usage_error("accept: which certificate file? usage: "
		    "hsmdesk accept CERT [--trust-root SHA256]");
	hd_err_clear(&err);
	if (thumbs_check(c, &err) == -1 ||
	    hd_cert_file_check(c->args[0], &n, &err) == -1)
		return cli_fail(&err);
	if ((pin = hd_pin_new()) == NULL)
		return fail_nomem();
	if (cli_open(c, 0, &err) == -1 || login(c, 1, pin, &err) == -1) {
		hd_pin_free(pin);
		return cli_fail(&err);
	}
	rc = hd_cert_accept(c->s, c->args[0], &o, &a, &err);
	if (rc == -1)
		hd_session_explain(c->s, &err);
	hd_logout(c->s, &e2);
	hd_pin_free(pin);
	if (rc == -1)
		return cli_fail(&err);
	printf("%s\n", a.cert.sha1);
	if (!c->quiet) {
		print_checks(&a);
		print_roots(&a, c->args[0]);
		print_where(c, &a);
	}
	hd_accept_free(&a);
	return 0;
}

/* ---- certs ------------------------------------------------------------- */

static const char *
tri(enum hd_tri t)
{
	return t == HD_UNKNOWN ? "?" : t ? "yes" : "no";
}

static void
cert_json(FILE *f, const struct hd_cert *x)
{
	char nb[16], na[16], id[129];

	hd_cert_date(x->not_before, nb, sizeof(nb));
	hd_cert_date(x->not_after, na, sizeof(na));
	hd_hex(x->id, x->id_len, id, sizeof(id));
	fputc('{', f);
	json_kv_str(f, "sha1", x->sha1, 1);
	json_kv_str(f, "sha256", x->sha256, 1);
	json_kv_str(f, "subject", x->subject, 1);
	json_kv_str(f, "issuer", x->issuer, 1);
	json_kv_str(f, "serial", x->serial, 1);
	json_kv_str(f, "not_before", nb, 1);
	json_kv_str(f, "not_after", na, 1);
	json_kv_int(f, "days_left", x->days_left, 1);
	json_kv_str(f, "key_label", x->key_label, 1);
	json_kv_str(f, "key_id", id, 1);
	json_kv_tri(f, "private_key", x->has_key, 1);
	json_kv_str(f, "stored", hd_cert_where_name(x->where), 1);
	json_kv_bool(f, "ca", x->ca, 1);
	json_kv_bool(f, "self_signed", x->self_signed, 0);
	fputc('}', f);
}

static void
certs_print(const struct cli *c, const struct hd_cert *l, size_t n)
{
	char na[16];
	size_t i;

	if (c->json) {
		fputc('[', stdout);
		for (i = 0; i < n; i++) {
			cert_json(stdout, &l[i]);
			fputs(i + 1 < n ? "," : "", stdout);
		}
		fputs("]\n", stdout);
		return;
	}
	printf("%-40s %-10s %5s %-3s %-12s %s\n", "THUMBPRINT", "NOT-AFTER",
	    "DAYS", "KEY", "STORED", "LABEL");
	for (i = 0; i < n; i++) {
		hd_cert_date(l[i].not_after, na, sizeof(na));
		printf("%-40s %-10s %5d %-3s %-12s %s\n", l[i].sha1, na,
		    l[i].days_left, tri(l[i].has_key),
		    hd_cert_where_name(l[i].where),
		    l[i].key_label[0] ? l[i].key_label : "-");
		printf("    subject  %s\n    issuer   %s\n", l[i].subject,
		    l[i].issuer);
	}
}

static int
days_arg(const char *s, int *out)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v > 36500)
		return -1;
	*out = (int)v;
	return 0;
}

int
cmd_certs(struct cli *c)
{
	struct hd_cert_filter f = { c->sha1, c->sha256, c->subject, -1 };
	struct hd_cert *l = NULL;
	struct hd_err err, e2;
	struct hd_pin *pin;
	size_t n = 0;
	int rc;

	if (c->expiring && days_arg(c->expiring, &f.expiring_days) == -1)
		return cli_usage_error("--expiring %s: expected a number of "
		    "days, 0 to 36500", c->expiring);
	hd_err_clear(&err);
	if (thumbs_check(c, &err) == -1)
		return cli_fail(&err);
	if ((pin = hd_pin_new()) == NULL)
		return fail_nomem();
	rc = cli_open(c, 0, &err) == -1 || login(c, 0, pin, &err) == -1 ||
	    hd_certs(c->s, &l, &n, &err) == -1 ||
	    hd_certs_filter(l, &n, &f, &err) == -1 ? -1 : 0;
	hd_logout(c->s, &e2);
	hd_pin_free(pin);
	if (rc == -1) {
		hd_certs_free(l, n);
		return cli_fail(&err);
	}
	certs_print(c, l, n);
	hd_certs_free(l, n);
	if (c->expiring && n > 0) {
		fprintf(stderr, "hsmdesk: %zu certificate%s expire%s within "
		    "%d days or %s expired; renew before signing with %s\n",
		    n, n == 1 ? "" : "s", n == 1 ? "s" : "", f.expiring_days,
		    n == 1 ? "has" : "have", n == 1 ? "it" : "them");
		return 1;
	}
	return 0;
}

/* ---- export-cert ------------------------------------------------------- */

static const char *const fmt_names[] = {
	[HD_FMT_PEM] = "PEM", [HD_FMT_DER] = "DER",
	[HD_FMT_P7B] = "PKCS#7",
};

int
cmd_export_cert(struct cli *c)
{
	enum hd_cert_format fmt = c->p7b ? HD_FMT_P7B : c->der ? HD_FMT_DER :
	    HD_FMT_PEM;
	struct hd_cert cert;
	struct hd_err err, e2;
	struct hd_pin *pin;
	size_t count = 0;
	int rc;

	if (c->sha1 == NULL || c->out == NULL)
		return cli_usage_error("export-cert: --sha1 THUMB and --out "
		    "FILE are needed; usage: hsmdesk export-cert --sha1 THUMB "
		    "[--chain] [--der|--p7b] --out FILE");
	if (c->der && c->p7b)
		return cli_usage_error("export-cert: --der or --p7b, not both");
	if (c->der && c->chain)
		return cli_usage_error("export-cert: DER holds one "
		    "certificate; use PEM (the default) or --p7b for --chain");
	hd_err_clear(&err);
	if (thumbs_check(c, &err) == -1)
		return cli_fail(&err);
	if ((pin = hd_pin_new()) == NULL)
		return fail_nomem();
	memset(&cert, 0, sizeof(cert));
	rc = cli_open(c, 0, &err) == -1 || login(c, 0, pin, &err) == -1 ||
	    hd_cert_find(c->s, c->sha1, &cert, &err) == -1 ||
	    hd_cert_export(c->s, &cert, c->chain, fmt, c->out, c->force,
	    &count, &err) == -1 ? -1 : 0;
	hd_logout(c->s, &e2);
	hd_pin_free(pin);
	if (rc == 0 && !c->quiet)
		printf("%s: %zu certificate%s (%s), %s\n", c->out, count,
		    count == 1 ? "" : "s", fmt_names[fmt], cert.sha1);
	hd_cert_free(&cert);
	return rc == -1 ? cli_fail(&err) : 0;
}
