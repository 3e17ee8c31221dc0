/*
 * migrate plan: every key pair on the old token that has a certificate is
 * a signing identity.  For each, a proposal: a new key of the same or a
 * stronger type on the new token, the same subject and usages, and a
 * request profile (PROFILES.md) the officer may edit, written beside the
 * plan in PLAN.d/.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fileio.h"
#include "internal.h"
#include "migrate_int.h"
#include "profile_int.h"

static void
side_of(struct hd_session *s, struct hd_mig_side *side)
{
	snprintf(side->module, sizeof(side->module), "%s", s->module);
	snprintf(side->token, sizeof(side->token), "%s", s->label);
	snprintf(side->serial, sizeof(side->serial), "%s", s->serial);
}

/* "PLAN.d": beside the plan, named after it. */
static void
plan_dir_rel(const char *plan, char *buf, size_t len)
{
	const char *base = strrchr(plan, '/');

	snprintf(buf, len, "%s.d", base ? base + 1 : plan);
}

int
hd_mig_path(const struct hd_mig_plan *p, const char *rel, char *buf,
    size_t len)
{
	const char *slash = strrchr(p->path, '/');
	int n;

	if (rel[0] == '/' || slash == NULL)
		n = snprintf(buf, len, "%s", rel);
	else
		n = snprintf(buf, len, "%.*s/%s", (int)(slash - p->path),
		    p->path, rel);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A name for files and messages from a key label. */
static void
ident_name(const struct hd_mig_plan *p, const char *label, char *buf,
    size_t len)
{
	char base[48];
	size_t i, k, n = 0;

	for (i = 0; label[i] != '\0' && n + 1 < sizeof(base); i++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)label[i]);

		base[n++] = (char)(isalnum(ch) || ch == '.' || ch == '_' ?
		    ch : '-');
	}
	base[n] = '\0';
	if (n == 0)
		snprintf(base, sizeof(base), "key");
	snprintf(buf, len, "%s", base);
	for (k = 2; k < 1000; k++) {
		for (i = 0; i < p->n && strcmp(p->ids[i].name, buf); i++)
			;
		if (i == p->n)
			return;
		snprintf(buf, len, "%s-%zu", base, k);
	}
}

/*
 * The proposal: RSA under 3072 bits becomes RSA-3072 (the CA/Browser
 * Forum's code signing requirements ask for 3072 since June 2021); EC
 * keeps its curve where a profile can make it, else P-384.
 */
static void
propose(const struct hd_key *k, struct hd_mig_ident *d)
{
	if (strcmp(k->type, "RSA") == 0) {
		unsigned bits = k->bits <= 3072 ? 3072 : 4096;

		snprintf(d->old_key, sizeof(d->old_key), "RSA-%u", k->bits);
		snprintf(d->new_key, sizeof(d->new_key), "RSA-%u", bits);
		if (k->bits < 3072)
			snprintf(d->upgrade, sizeof(d->upgrade), "RSA-%u is "
			    "below the 3072 bits code signing CAs issue for "
			    "now", k->bits);
		else if (k->bits > 4096)
			snprintf(d->upgrade, sizeof(d->upgrade), "weaker: "
			    "profiles make RSA keys of at most 4096 bits");
		else if (k->bits != bits)
			snprintf(d->upgrade, sizeof(d->upgrade), "profiles "
			    "make RSA-3072 and RSA-4096");
		return;
	}
	/* "EC-P256", as the plan writes key types: no second dash */
	snprintf(d->old_key, sizeof(d->old_key), "%s-%s", k->type,
	    strncmp(k->curve, "P-", 2) == 0 ? "P" : k->curve[0] ? "" : "?");
	if (strncmp(k->curve, "P-", 2) == 0)
		snprintf(d->old_key + strlen(d->old_key), sizeof(d->old_key) -
		    strlen(d->old_key), "%s", k->curve + 2);
	else
		snprintf(d->old_key + strlen(d->old_key), sizeof(d->old_key) -
		    strlen(d->old_key), "%s", k->curve);
	if (strcmp(k->curve, "P-256") == 0 || strcmp(k->curve, "P-384") == 0) {
		snprintf(d->new_key, sizeof(d->new_key), "EC-P%s",
		    k->curve + 2);
		return;
	}
	/* P-521, brainpool, EdDSA: the strongest a profile makes, said */
	snprintf(d->new_key, sizeof(d->new_key), "EC-P384");
	snprintf(d->upgrade, sizeof(d->upgrade), "%s %s: profiles make "
	    "P-256 and P-384 keys; check the new key type", k->type,
	    k->curve[0] ? k->curve : "(curve unknown)");
}

/* Subject, key usage and EKUs of the old certificate into the profile. */
static int
profile_from_cert(X509 *x, struct hd_profile *pr, struct hd_err *err)
{
	EXTENDED_KEY_USAGE *eku;
	char dn[1024], oid[80];
	BIO *b = BIO_new(BIO_s_mem());
	uint32_t ku = X509_get_key_usage(x);
	int i, n;

	if (b == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	/* RFC 4514 text, which hd_dn_parse reads back */
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(b, dn, sizeof(dn) - 1);
	BIO_free(b);
	dn[n > 0 ? n : 0] = '\0';
	if (hd_profile_set_subject(pr, dn, err) == -1)
		return -1;
	pr->key_usage = ku == UINT32_MAX ? HD_KU_DIGITAL_SIGNATURE :
	    ku & 0xff;
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
		if (hd_profile_add_eku(pr, oid, err) == -1) {
			EXTENDED_KEY_USAGE_free(eku);
			return -1;
		}
	}
	EXTENDED_KEY_USAGE_free(eku);
	return 0;
}

/* The new key's profile, written to PLAN.d/NAME.yaml. */
static int
write_profile(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    const struct hd_cert *c, struct hd_err *err)
{
	const unsigned char *q = c->der;
	struct hd_profile pr;
	char path[4096], *text = NULL;
	X509 *x = d2i_X509(NULL, &q, (long)c->der_len);
	int rc = -1;

	if (x == NULL) {
		hd_err_set(err, HD_E_INPUT, 0, "certificate %s: cannot be "
		    "decoded", c->sha1);
		hd_err_ossl(err);
		return -1;
	}
	hd_profile_init(&pr);
	snprintf(pr.name, sizeof(pr.name), "migrate-%s", d->name);
	snprintf(pr.description, sizeof(pr.description), "New key for "
	    "'%s', moving from token '%s'", d->old_label, p->from.token);
	hd_mig_keyspec(d->new_key, &pr.type, &pr.bits, pr.curve);
	snprintf(pr.label, sizeof(pr.label), "%s", d->new_label);
	if (pr.type == HD_KEY_EC && pr.bits == 384)
		snprintf(pr.hash, sizeof(pr.hash), "sha384");
	if (profile_from_cert(x, &pr, err) == 0 &&
	    hd_profile_to_yaml(&pr, &text, err) == 0 &&
	    hd_mig_path(p, d->profile, path, sizeof(path)) == 0)
		rc = hd_write_atomic(path, text, strlen(text), 0644, err);
	if (rc == -1 && err->code == HD_OK)
		hd_err_set(err, HD_E_INPUT, 0, "%s: path too long", d->profile);
	if (rc == -1)
		hd_err_prefix(err, "identity '%s': ", d->name);
	free(text);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* The leaf certificate for key k: on its token or in the local store,
 * the one that lasts longest if it has several. */
static const struct hd_cert *
cert_of(const struct hd_key *k, const struct hd_cert *certs, size_t nc)
{
	const struct hd_cert *best = NULL;
	size_t i;

	for (i = 0; i < nc; i++) {
		const struct hd_cert *c = &certs[i];

		if (c->ca || c->id_len != k->id_len || memcmp(c->id, k->id,
		    k->id_len) != 0 || (c->where != HD_CERT_TOKEN &&
		    c->where != HD_CERT_LOCAL))
			continue;
		if (best == NULL || c->not_after > best->not_after)
			best = c;
	}
	return best;
}

static void
ident_fill(struct hd_mig_plan *p, struct hd_mig_ident *d,
    const struct hd_key *k, const struct hd_cert *c, const char *dir)
{
	char name[64];

	ident_name(p, k->label, name, sizeof(name));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->old_label, sizeof(d->old_label), "%s", k->label);
	hd_hex(k->id, k->id_len, d->old_id, sizeof(d->old_id));
	snprintf(d->sha1, sizeof(d->sha1), "%s", c->sha1);
	snprintf(d->sha256, sizeof(d->sha256), "%s", c->sha256);
	snprintf(d->subject, sizeof(d->subject), "%s", c->subject);
	snprintf(d->issuer, sizeof(d->issuer), "%s", c->issuer);
	hd_cert_date(c->not_after, d->not_after, sizeof(d->not_after));
	d->expired = c->days_left < 0;
	hd_cert_usages(c, d->ku, sizeof(d->ku), d->eku, sizeof(d->eku));
	propose(k, d);
	snprintf(d->new_label, sizeof(d->new_label), "%.120s-new", k->label);
	snprintf(d->profile, sizeof(d->profile), "%s/%s.yaml", dir, name);
	snprintf(d->csr, sizeof(d->csr), "%s/%s.csr", dir, name);
	d->state = HD_MIG_PLANNED;
	if (d->expired) {
		/* nothing signs with it any more; the officer decides */
		d->skip = 1;
		snprintf(d->note, sizeof(d->note), "the certificate expired "
		    "on %s: skipped; set action: migrate to recreate it",
		    d->not_after);
	}
}

/* A key pair without a certificate is no identity: named for the officer. */
static void
note_nocert(struct hd_mig_plan *p, const struct hd_key *k)
{
	size_t len = strlen(p->nocert);

	p->n_nocert++;
	snprintf(p->nocert + len, sizeof(p->nocert) - len, "%s'%s'",
	    len ? ", " : "", k->label);
}

static int
inventory(struct hd_session *from, struct hd_mig_plan *p, const char *dir,
    struct hd_err *err)
{
	struct hd_key *keys = NULL;
	struct hd_cert *certs = NULL;
	const struct hd_cert *c;
	size_t nk = 0, nc = 0, i;
	int rc = -1;

	if (hd_keys(from, &keys, &nk, err) == -1 ||
	    hd_certs(from, &certs, &nc, err) == -1)
		goto out;
	if (nk > 0 && (p->ids = calloc(nk, sizeof(*p->ids))) == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < nk; i++) {
		if (!keys[i].has_private)
			continue;
		if ((c = cert_of(&keys[i], certs, nc)) == NULL) {
			note_nocert(p, &keys[i]);
			continue;
		}
		ident_fill(p, &p->ids[p->n], &keys[i], c, dir);
		p->n++;
	}
	rc = 0;
	if (p->n == 0) {
		rc = hd_err_set(err, HD_E_INPUT, 0, "token '%s': no key pair "
		    "with a certificate: nothing to migrate", from->label);
		hd_err_hint(err, "'hsmdesk --token %s certs' lists what it "
		    "holds", from->label);
	}
out:
	hd_certs_free(certs, nc);
	free(keys);
	return rc;
}

static int
write_profiles(struct hd_mig_plan *p, struct hd_session *from,
    const char *dir, struct hd_err *err)
{
	struct hd_cert c;
	char abs[4096];
	size_t i;

	if (hd_mig_path(p, dir, abs, sizeof(abs)) == -1)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: path too long", dir);
	if (hd_mkdirs(abs, 0700, err) == -1)
		return -1;
	for (i = 0; i < p->n; i++) {
		memset(&c, 0, sizeof(c));
		if (hd_cert_find(from, p->ids[i].sha1, &c, err) == -1)
			return -1;
		if (write_profile(p, &p->ids[i], &c, err) == -1) {
			hd_cert_free(&c);
			return -1;
		}
		hd_cert_free(&c);
	}
	return 0;
}

int
hd_mig_plan_make(struct hd_session *from, struct hd_session *to,
    const char *path, int replace, struct hd_mig_plan *p, struct hd_err *err)
{
	char dir[4200];
	time_t now = time(NULL);
	struct tm tm;

	memset(p, 0, sizeof(*p));
	hd_err_clear(err);
	if (strlen(path) >= sizeof(p->path) - 8)
		return hd_err_set(err, HD_E_USAGE, 0, "plan path too long");
	if (!replace && access(path, F_OK) == 0) {
		hd_err_set(err, HD_E_USAGE, 0, "plan '%s': exists already",
		    path);
		hd_err_hint(err, "'hsmdesk migrate status %s' shows it; add "
		    "--force to make a new plan over it", path);
		return -1;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	gmtime_r(&now, &tm);
	strftime(p->created, sizeof(p->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	side_of(from, &p->from);
	side_of(to, &p->to);
	plan_dir_rel(path, dir, sizeof(dir));
	if (hd_mig_validate(p, err) == -1 ||
	    inventory(from, p, dir, err) == -1 ||
	    write_profiles(p, from, dir, err) == -1 ||
	    hd_mig_save(p, err) == -1) {
		hd_mig_free(p);
		return -1;
	}
	return 0;
}

/* The plan names these two tokens: by serial, the label for messages. */
int
hd_mig_check_tokens(const struct hd_mig_plan *p, struct hd_session *from,
    struct hd_session *to, struct hd_err *err)
{
	const struct hd_mig_side *want[2] = { &p->from, &p->to };
	struct hd_session *s[2] = { from, to };
	static const char *const side[2] = { "from", "to" };
	int i;

	for (i = 0; i < 2; i++) {
		if (s[i] == NULL || (strcmp(s[i]->serial, want[i]->serial) == 0 &&
		    strcmp(s[i]->label, want[i]->token) == 0))
			continue;
		hd_err_set(err, HD_E_INPUT, 0, "plan '%s' is for %s token '%s' "
		    "(serial %s), not token '%s' (serial %s)", p->path,
		    side[i], want[i]->token, want[i]->serial, s[i]->label,
		    s[i]->serial);
		hd_err_hint(err, "name the plan's tokens with --%s-module and "
		    "--%s-token, or make a plan for these ones", side[i],
		    side[i]);
		return -1;
	}
	return 0;
}

void
hd_mig_next(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    char *buf, size_t len)
{
	if (d->skip)
		snprintf(buf, len, "nothing (action: skip)");
	else if (d->state < HD_MIG_CSR)
		snprintf(buf, len, "make the new key and CSR: hsmdesk migrate "
		    "run %s", p->path);
	else if (d->state == HD_MIG_CSR)
		snprintf(buf, len, "the CA issues %s (issuer %s); then hsmdesk "
		    "migrate accept %s CERT", d->csr, d->issuer, p->path);
	else
		snprintf(buf, len, "partners trust the new chain (migrate "
		    "status --out DIR); sign with both: hsmdesk sign --sha1 %s "
		    "--sha1 %s FILE...", d->sha1, d->new_sha1);
}
