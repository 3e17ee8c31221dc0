/*
 * certreq -accept: take the CA's reply, find the certificate whose key
 * is on the token, check it, and file it beside its key (or in the local
 * store when the token cannot hold it), with the file's other
 * certificates as chain material.  Everything that can refuse the file
 * runs before anything is stored, so a refused file leaves no trace.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert_int.h"

struct job {
	const char *path;
	STACK_OF(X509) *certs;
	X509 *leaf;		/* in certs: the one for the token key */
	X509 *trust;		/* in certs: the root to trust, or NULL */
};

static int
is_root(X509 *x)
{
	int r = X509_self_signed(x, 1) == 1 && X509_check_ca(x) != 0;

	ERR_clear_error();
	return r;
}

static void
sha256_of(X509 *x, char out[65])
{
	struct hd_cert c;

	out[0] = '\0';
	if (hd_cert_describe(x, 0, &c) == 0)
		snprintf(out, 65, "%s", c.sha256);
	hd_cert_free(&c);
}

static int
no_such_root(const struct job *j, const char *want, struct hd_err *err)
{
	char fp[65], roots[200] = "";
	int i;

	for (i = 0; i < sk_X509_num(j->certs); i++)
		if (is_root(sk_X509_value(j->certs, i))) {
			sha256_of(sk_X509_value(j->certs, i), fp);
			snprintf(roots + strlen(roots), sizeof(roots) -
			    strlen(roots), "%s%s", roots[0] ? ", " : "", fp);
		}
	hd_err_set(err, HD_E_INPUT, 0, "%s: no certificate in it has the "
	    "SHA-256 fingerprint %s given to --trust-root", j->path, want);
	if (roots[0] != '\0')
		hd_err_hint(err, "the roots in it: %s; nothing was stored",
		    roots);
	else
		hd_err_hint(err, "it holds no root certificate; nothing was "
		    "stored");
	return -1;
}

/* The certificate --trust-root names: a self-signed CA in the file. */
static int
trust_find(struct job *j, const char *given, struct hd_err *err)
{
	char want[65], fp[65];
	struct hd_cert c;
	int i;

	if (hd_thumb_normalize(given, 64, want, sizeof(want), err) == -1)
		return -1;
	if (strlen(want) != 64)
		return hd_err_set(err, HD_E_USAGE, 0, "--trust-root %s: give "
		    "the whole SHA-256 fingerprint (64 hex digits), not a "
		    "prefix", want);
	for (i = 0; i < sk_X509_num(j->certs); i++) {
		X509 *x = sk_X509_value(j->certs, i);

		sha256_of(x, fp);
		if (strcmp(fp, want) != 0)
			continue;
		if (is_root(x)) {
			j->trust = x;
			return 0;
		}
		if (hd_cert_describe(x, 0, &c) == 0)
			hd_err_set(err, HD_E_INPUT, 0, "%s: '%s' is not a "
			    "root (self-signed CA) certificate; intermediates "
			    "are chain material, never trust anchors", j->path,
			    c.subject);
		hd_err_hint(err, "give the fingerprint of the root; nothing "
		    "was stored");
		hd_cert_free(&c);
		return -1;
	}
	return no_such_root(j, want, err);
}

static int
no_key(struct hd_session *s, const struct job *j, size_t uncompared,
    struct hd_err *err)
{
	struct hd_cert c;
	int n = sk_X509_num(j->certs);

	if (n == 1 && hd_cert_describe(sk_X509_value(j->certs, 0), 0,
	    &c) == 0) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: no private key on token "
		    "'%s' fits certificate '%s' (%s)", j->path,
		    hd_token_name(s), c.subject, c.sha1);
		hd_cert_free(&c);
	} else {
		hd_err_set(err, HD_E_INPUT, 0, "%s: none of its %d "
		    "certificates is for a private key on token '%s'", j->path,
		    n, hd_token_name(s));
	}
	hd_err_hint(err, "was it requested on another token? 'hsmdesk keys' "
	    "lists this token's keys%s; nothing was stored", uncompared ?
	    " (some EC keys have no public key object to compare)" : "");
	return -1;
}

static void
check_key(struct hd_session *s, const struct hd_key *k, struct hd_check *c)
{
	char size[48];

	if (k->curve[0] != '\0')
		snprintf(size, sizeof(size), "%s %s", k->type, k->curve);
	else
		snprintf(size, sizeof(size), "%s-%u", k->type, k->bits);
	c->name = "key";
	c->level = HD_CHECK_OK;
	snprintf(c->text, sizeof(c->text), "fits private key '%s' (%s) on "
	    "token '%s'", k->label, size, hd_token_name(s));
}

static int
run_checks(struct hd_session *s, struct job *j, struct hd_accept *a,
    struct hd_err *err)
{
	check_key(s, &a->key, &a->checks[a->nchecks++]);
	hd_check_validity(&a->cert, time(NULL), &a->checks[a->nchecks++]);
	hd_check_usage(j->leaf, &a->checks[a->nchecks++]);
	return hd_check_chain(j->leaf, j->certs, j->trust,
	    &a->checks[a->nchecks++], err);
}

/* The file's roots, and whether each is (or is now being) trusted. */
static int
list_roots(struct job *j, struct hd_accept *a, struct hd_err *err)
{
	X509_STORE *st = hd_trust_store(NULL, err);
	struct hd_cert c;
	int i;

	if (st == NULL)
		return -1;
	for (i = 0; i < sk_X509_num(j->certs) && a->nroots < HD_ACCEPT_ROOTS;
	    i++) {
		X509 *x = sk_X509_value(j->certs, i);
		struct hd_root *r = &a->roots[a->nroots];

		if (!is_root(x) || hd_cert_describe(x, 0, &c) == -1)
			continue;
		snprintf(r->sha256, sizeof(r->sha256), "%s", c.sha256);
		snprintf(r->sha1, sizeof(r->sha1), "%s", c.sha1);
		snprintf(r->subject, sizeof(r->subject), "%s", c.subject);
		r->trusted = hd_is_trusted(st, x) ? 1 : x == j->trust ? 2 : 0;
		hd_cert_free(&c);
		a->nroots++;
	}
	X509_STORE_free(st);
	return 0;
}

/* Is the certificate stored already, on the token or locally? */
static int
find_duplicate(struct hd_session *s, struct hd_accept *a, struct hd_err *err)
{
	int r = hd_token_cert_has(s, a->cert.der, a->cert.der_len, err);

	if (r == 1) {
		a->duplicate = 1;
		a->cert.where = HD_CERT_TOKEN;
		return 0;
	}
	if (r == 0)
		r = hd_store_has_leaf(s->serial, a->key.id, a->key.id_len,
		    a->cert.sha1, err);
	if (r == 1) {
		a->duplicate = 1;
		a->cert.where = HD_CERT_LOCAL;
	}
	return r == -1 ? -1 : 0;
}

/* Read, match, check: all that may refuse the file, nothing stored. */
static int
prepare(struct hd_session *s, struct job *j, const struct hd_accept_opts *o,
    struct hd_accept *a, struct hd_err *err)
{
	size_t unc;
	int which, r;

	if (hd_cert_read(j->path, &j->certs, err) == -1 ||
	    (o->trust_root != NULL && trust_find(j, o->trust_root, err)) ||
	    hd_session_open(s, err) == -1)
		return -1;
	if ((r = hd_token_match(s, j->certs, &which, &a->key, &unc, err)) != 1)
		return r == 0 ? no_key(s, j, unc, err) : -1;
	j->leaf = sk_X509_value(j->certs, which);
	if (hd_cert_describe(j->leaf, time(NULL), &a->cert) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: its certificate "
		    "has unreadable dates", j->path);
	memcpy(a->cert.id, a->key.id, a->key.id_len);
	a->cert.id_len = a->key.id_len;
	snprintf(a->cert.key_label, sizeof(a->cert.key_label), "%s",
	    a->key.label);
	a->cert.has_key = HD_YES;
	a->cert.where = o->store == HD_STORE_LOCAL ? HD_CERT_LOCAL :
	    HD_CERT_TOKEN;
	a->nchain = (size_t)sk_X509_num(j->certs) - 1;
	if (run_checks(s, j, a, err) == -1 || list_roots(j, a, err) == -1)
		return -1;
	return find_duplicate(s, a, err);
}

/* Answers meaning "this token does not keep certificates". */
static int
refusal(CK_RV rv)
{
	return rv == CKR_TEMPLATE_INCONSISTENT || rv ==
	    CKR_TEMPLATE_INCOMPLETE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    rv == CKR_ATTRIBUTE_VALUE_INVALID || rv ==
	    CKR_FUNCTION_NOT_SUPPORTED || rv == CKR_ATTRIBUTE_READ_ONLY ||
	    rv == CKR_DEVICE_MEMORY || rv == CKR_TOKEN_WRITE_PROTECTED;
}

static int
store_leaf(struct hd_session *s, struct job *j, const struct hd_accept_opts *o,
    struct hd_accept *a, struct hd_err *err)
{
	CK_RV rv;
	int added;

	if (a->duplicate)
		return 0;
	if (o->store != HD_STORE_LOCAL) {
		if (hd_token_cert_put(s, j->leaf, &a->key, &rv, err) == 0) {
			a->cert.where = HD_CERT_TOKEN;
			a->key.has_cert = 1;
			return 0;
		}
		if (o->store == HD_STORE_TOKEN && refusal(rv))
			hd_err_hint(err, "config.yaml says cert_store: token; "
			    "with auto or local the certificate goes to the "
			    "local store instead. Nothing was stored");
		if (o->store == HD_STORE_TOKEN || !refusal(rv))
			return -1;
		a->refused = rv;
		hd_err_clear(err);
	}
	if (hd_store_put(HD_CERT_LOCAL, s->serial, a->key.id, a->key.id_len,
	    j->leaf, &added, err) == -1)
		return -1;
	a->cert.where = HD_CERT_LOCAL;
	return 0;
}

static int
store_chain(struct job *j, struct hd_accept *a, struct hd_err *err)
{
	int i, added;

	for (i = 0; i < sk_X509_num(j->certs); i++) {
		X509 *x = sk_X509_value(j->certs, i);

		if (x == j->leaf && x != j->trust)
			continue;
		if (hd_store_put(x == j->trust ? HD_CERT_ANCHOR :
		    HD_CERT_CHAIN, NULL, NULL, 0, x, &added, err) == -1)
			return -1;
		a->chain_added += (size_t)added;
	}
	return 0;
}

static int
run(struct hd_session *s, const char *path, const struct hd_accept_opts *o,
    struct hd_accept *a, int store, struct hd_err *err)
{
	struct job j = { .path = path };
	int rc = -1;

	memset(a, 0, sizeof(*a));
	hd_err_clear(err);
	if (prepare(s, &j, o, a, err) == 0 && (!store ||
	    (store_leaf(s, &j, o, a, err) == 0 &&
	    store_chain(&j, a, err) == 0))) {
		a->stored = store && !a->duplicate;
		rc = 0;
	} else {
		hd_accept_free(a);
	}
	sk_X509_pop_free(j.certs, X509_free);
	ERR_clear_error();
	return rc;
}

/*
 * What accept would do with the file at path: the certificate for the
 * token key, the checks, the roots (with the SHA-256 fingerprints to
 * confirm before trusting one), whether it is a duplicate.  Nothing is
 * stored.  Needs a login (private keys are hidden until then).
 */
int
hd_cert_inspect(struct hd_session *s, const char *path,
    const struct hd_accept_opts *o, struct hd_accept *out,
    struct hd_err *err)
{
	return run(s, path, o, out, 0, err);
}

/* hd_cert_inspect, then store: the certificate, the chain, the root
 * named by o->trust_root as a trust anchor. */
int
hd_cert_accept(struct hd_session *s, const char *path,
    const struct hd_accept_opts *o, struct hd_accept *out,
    struct hd_err *err)
{
	return run(s, path, o, out, 1, err);
}

void
hd_accept_free(struct hd_accept *a)
{
	if (a != NULL)
		hd_cert_free(&a->cert);
}
