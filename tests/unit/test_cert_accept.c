/*
 * core/cert_accept.c (with cert_token.c and cert_store.c): the CA's reply
 * lands beside the key it was issued for, RSA or EC, matched by public
 * key; a second import changes nothing; a certificate for no key on the
 * token, or a wrong --trust-root, stores nothing; a token that refuses
 * certificate objects (fakep11 cert-refused) or a forced local store puts
 * it in $XDG_DATA_HOME/hsmdesk/certs.  Each test has its own token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "testlib.h"

#define SIGN HD_KU_DIGITAL_SIGNATURE

struct fx {
	struct tl_env env;
	struct tl_ca ca;
	struct hd_session *s;
};

static int
setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (tl_env_new(&f.env) == -1 || tl_init_token(tl_softhsm(), "c") ||
	    tl_ca_new(&f.ca) == -1)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hd_close(f->s);
	f->s = NULL;
	unsetenv("HSMDESK_FAKEP11_FAULT");
	tl_ca_free(&f->ca);
	tl_env_free(&f->env);
	return 0;
}

static struct hd_session *
login(struct fx *f, const char *module)
{
	struct hd_err err;
	struct hd_pin *p = tl_pin(TL_PIN);

	f->s = hd_open(module, &err);
	if (f->s == NULL || hd_token_select(f->s, "c", &err) == -1 ||
	    hd_login(f->s, p, &err) == -1)
		fail_msg("login: %s", err.msg);
	hd_pin_free(p);
	return f->s;
}

/* A key on the token and a certificate for it, with the test CA's chain,
 * written to name as fmt; the leaf is returned in *leaf. */
static const char *
issue_for(struct fx *f, const struct hd_key *k, const char *name, int fmt,
    const char *eku, long from, long to, X509 **leaf)
{
	EVP_PKEY *pub = tl_token_pub(f->s, k);
	X509 *c[3];
	const char *path;

	assert_non_null(pub);
	*leaf = tl_issue(&f->ca, pub, k->label, from, to, eku, SIGN);
	assert_non_null(*leaf);
	c[0] = *leaf;
	c[1] = f->ca.inter;
	c[2] = f->ca.root;
	path = tl_write_certs(&f->env, name, fmt, c, fmt == TL_DER ? 1 : 3);
	EVP_PKEY_free(pub);
	assert_non_null(path);
	return path;
}

static CK_ULONG
cert_objects(struct hd_session *s, const struct hd_key *k)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, k ? (void *)k->id : NULL, k ? k->id_len : 0 },
	};
	CK_OBJECT_HANDLE h[8];
	CK_ULONG n = 0;
	struct hd_err err;

	assert_int_equal(hd_find(s, t, k ? 2 : 1, h, 8, &n, &err), 0);
	return n;
}

static int
data_path_exists(const struct fx *f, const char *sub)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s/data/hsmdesk/%s", f->env.dir, sub);
	return stat(p, &st) == 0;
}

static void
check_is(const struct hd_accept *a, size_t i, const char *name,
    enum hd_check_level lvl, const char *part)
{
	assert_true(i < a->nchecks);
	assert_string_equal(a->checks[i].name, name);
	if (a->checks[i].level != lvl || strstr(a->checks[i].text,
	    part) == NULL)
		fail_msg("check %s: '%s', expected '%s'", name,
		    a->checks[i].text, part);
}

static void
accept_ok(struct fx *f, const char *path, const struct hd_accept_opts *o,
    struct hd_accept *a)
{
	struct hd_err err;

	if (hd_cert_accept(f->s, path, o, a, &err) != 0)
		fail_msg("accept %s: %s (%s)", path, err.msg, err.hint);
}

static void
test_accept_rsa_certificate_lands_beside_its_key(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;
	CK_OBJECT_HANDLE h;
	char label[64];
	long n;
	struct hd_err err;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 0, "signer", &k), 0);
	p = issue_for(f, &k, "signer.pem", TL_PEM, "codeSigning", -1, 365,
	    &leaf);
	accept_ok(f, p, &o, &a);
	assert_true(a.stored);
	assert_false(a.duplicate);
	assert_int_equal(a.cert.where, HD_CERT_TOKEN);
	assert_string_equal(a.key.label, "signer");
	assert_int_equal(a.nchain, 2);
	assert_int_equal(a.chain_added, 2);
	check_is(&a, 0, "key", HD_CHECK_OK, "'signer' (RSA-2048)");
	check_is(&a, 1, "validity", HD_CHECK_OK, "days left");
	check_is(&a, 2, "usage", HD_CHECK_OK, "codeSigning");
	check_is(&a, 3, "chain", HD_CHECK_WARN, "not trusted");
	assert_int_equal(a.nroots, 1);
	assert_int_equal(a.roots[0].trusted, 0);
	/* the object: public, on the token, the key's CKA_ID and label */
	assert_int_equal(hd_find_by_id(f->s, CKO_CERTIFICATE, k.id, k.id_len,
	    &h, &err), 1);
	assert_int_equal(hd_attr_bool(f->s, h, CKA_PRIVATE), HD_NO);
	assert_int_equal(hd_attr_bool(f->s, h, CKA_TOKEN), HD_YES);
	n = hd_attr_bytes(f->s, h, CKA_LABEL, label, sizeof(label));
	assert_int_equal(n, 6);
	assert_memory_equal(label, "signer", 6);
	assert_true(data_path_exists(f, "certs/chain"));
	assert_false(data_path_exists(f, "certs/keys"));
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_ec_certificate_as_der(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "ec-signer", &k), 0);
	p = issue_for(f, &k, "ec.cer", TL_DER, "codeSigning", -1, 30, &leaf);
	accept_ok(f, p, &o, &a);
	assert_int_equal(a.cert.where, HD_CERT_TOKEN);
	check_is(&a, 0, "key", HD_CHECK_OK, "(EC P-256)");
	assert_int_equal(a.nchain, 0);
	check_is(&a, 3, "chain", HD_CHECK_WARN, "incomplete");
	assert_int_equal(cert_objects(f->s, &k), 1);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_matches_by_public_key_not_by_cka_id(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	/* a key made by another tool: CKA_ID "other", not its key hash */
	assert_int_equal(tl_gen_rsa(tl_softhsm(), "c", "other", 0), 0);
	login(f, tl_softhsm());
	assert_int_equal(hd_key_find(f->s, "other", NULL, &k, &err), 0);
	p = issue_for(f, &k, "o.p7b", TL_P7B, "codeSigning", -1, 30, &leaf);
	accept_ok(f, p, &o, &a);
	assert_int_equal(a.cert.id_len, 5);
	assert_memory_equal(a.cert.id, "other", 5);
	assert_int_equal(cert_objects(f->s, &k), 1);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_same_certificate_again_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "dup", &k), 0);
	p = issue_for(f, &k, "dup.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	accept_ok(f, p, &o, &a);
	hd_accept_free(&a);
	accept_ok(f, p, &o, &a);
	assert_true(a.duplicate);
	assert_false(a.stored);
	assert_int_equal(a.cert.where, HD_CERT_TOKEN);
	assert_int_equal(a.chain_added, 0);
	assert_int_equal(cert_objects(f->s, &k), 1);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_refuses_certificate_for_no_key_on_token(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *c[3] = { NULL, f->ca.inter, f->ca.root };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "mine", &k), 0);
	c[0] = tl_issue(&f->ca, other, "stranger", -1, 30, "codeSigning",
	    SIGN);
	p = tl_write_certs(&f->env, "stranger.pem", TL_PEM, c, 3);
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "none of its 3 certificates is for a "
	    "private key on token 'c'"));
	assert_non_null(strstr(err.hint, "nothing was stored"));
	assert_null(a.cert.der);
	assert_int_equal(cert_objects(f->s, NULL), 0);
	assert_false(data_path_exists(f, "certs"));
	p = tl_write_certs(&f->env, "stranger1.pem", TL_PEM, c, 1);
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_non_null(strstr(err.msg, "no private key on token 'c' fits "
	    "certificate 'CN=stranger, O=hsmdesk tests'"));
	X509_free(c[0]);
	EVP_PKEY_free(other);
}

static void
test_accept_refuses_leaves_for_two_keys(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k1, k2;
	struct hd_err err;
	X509 *l1, *l2, *c[2];
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "one", &k1), 0);
	assert_int_equal(tl_keygen(f->s, 1, "two", &k2), 0);
	issue_for(f, &k1, "1.pem", TL_PEM, "codeSigning", -1, 30, &l1);
	issue_for(f, &k2, "2.pem", TL_PEM, "codeSigning", -1, 30, &l2);
	c[0] = l1;
	c[1] = l2;
	p = tl_write_certs(&f->env, "both.pem", TL_PEM, c, 2);
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "more than one key"));
	assert_int_equal(cert_objects(f->s, NULL), 0);
	X509_free(l1);
	X509_free(l2);
}

static void
test_accept_expired_and_wrong_usage_are_stored_with_warnings(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "old", &k), 0);
	p = issue_for(f, &k, "old.pem", TL_PEM, "serverAuth", -400, -35,
	    &leaf);
	accept_ok(f, p, &o, &a);
	assert_true(a.stored);
	check_is(&a, 1, "validity", HD_CHECK_WARN, "expired on");
	check_is(&a, 2, "usage", HD_CHECK_WARN, "lacks codeSigning "
	    "(has: serverAuth)");
	assert_true(a.cert.days_left < -34);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_trust_root_makes_it_an_anchor(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_cert root;
	X509 *leaf;
	const char *p;
	char anchor[200];

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "t", &k), 0);
	assert_int_equal(hd_cert_describe(f->ca.root, 0, &root), 0);
	p = issue_for(f, &k, "t.p7b", TL_P7B, "codeSigning", -1, 30, &leaf);
	o.trust_root = root.sha256;
	accept_ok(f, p, &o, &a);
	assert_int_equal(a.roots[0].trusted, 2);
	check_is(&a, 3, "chain", HD_CHECK_OK, "chains to trusted root");
	snprintf(anchor, sizeof(anchor), "certs/trusted/%s.pem", root.sha1);
	assert_true(data_path_exists(f, anchor));
	snprintf(anchor, sizeof(anchor), "certs/chain/%s.pem", root.sha1);
	assert_false(data_path_exists(f, anchor));
	hd_accept_free(&a);
	/* next time it is trusted already */
	o.trust_root = NULL;
	accept_ok(f, p, &o, &a);
	assert_true(a.duplicate);
	assert_int_equal(a.roots[0].trusted, 1);
	check_is(&a, 3, "chain", HD_CHECK_OK, "chains to trusted root");
	hd_accept_free(&a);
	hd_cert_free(&root);
	X509_free(leaf);
}

static void
test_accept_trust_root_refuses_an_intermediate(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_cert inter;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "i", &k), 0);
	assert_int_equal(hd_cert_describe(f->ca.inter, 0, &inter), 0);
	p = issue_for(f, &k, "i.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	o.trust_root = inter.sha256;
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "intermediates are chain material, "
	    "never trust anchors"));
	assert_int_equal(cert_objects(f->s, NULL), 0);
	assert_false(data_path_exists(f, "certs"));
	hd_cert_free(&inter);
	X509_free(leaf);
}

static void
test_accept_trust_root_wants_a_root_of_the_file(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "w", &k), 0);
	p = issue_for(f, &k, "w.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	o.trust_root = "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff "
	    "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff";
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.hint, "the roots in it:"));
	o.trust_root = "0011";
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	assert_int_equal(cert_objects(f->s, NULL), 0);
	X509_free(leaf);
}

static void
test_accept_needs_login(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "l", &k), 0);
	p = issue_for(f, &k, "l.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	hd_logout(f->s, &err);
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "log in first"));
	X509_free(leaf);
}

static void
test_inspect_stores_nothing(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 1, "look", &k), 0);
	p = issue_for(f, &k, "look.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	assert_int_equal(hd_cert_inspect(f->s, p, &o, &a, &err), 0);
	assert_false(a.stored);
	assert_int_equal(a.nchecks, 4);
	assert_int_equal(a.nroots, 1);
	assert_int_equal(strlen(a.roots[0].sha256), 64);
	assert_int_equal(cert_objects(f->s, NULL), 0);
	assert_false(data_path_exists(f, "certs"));
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
expect_local_file(const struct fx *f, const struct hd_accept *a)
{
	char path[1024], id[129], serial[17];
	struct stat st;

	hd_hex(a->key.id, a->key.id_len, id, sizeof(id));
	snprintf(serial, sizeof(serial), "%s", f->s->serial);
	snprintf(path, sizeof(path), "%s/data/hsmdesk/certs/keys/%s/%s_%s.pem",
	    f->env.dir, serial, id, a->cert.sha1);
	if (stat(path, &st) != 0)
		fail_msg("%s: missing", path);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/data/hsmdesk/certs/keys/%s",
	    f->env.dir, serial);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data/hsmdesk/certs", f->env.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void
test_accept_forced_local_store(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_LOCAL };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;

	login(f, tl_softhsm());
	assert_int_equal(tl_keygen(f->s, 0, "loc", &k), 0);
	p = issue_for(f, &k, "loc.pem", TL_PEM, "codeSigning", -1, 30, &leaf);
	accept_ok(f, p, &o, &a);
	assert_int_equal(a.cert.where, HD_CERT_LOCAL);
	assert_int_equal(a.refused, 0);
	assert_int_equal(cert_objects(f->s, NULL), 0);
	expect_local_file(f, &a);
	hd_accept_free(&a);
	accept_ok(f, p, &o, &a);
	assert_true(a.duplicate);
	assert_int_equal(a.cert.where, HD_CERT_LOCAL);
	hd_accept_free(&a);
	/* with auto it is still found where it is: no second copy */
	o.store = HD_STORE_AUTO;
	accept_ok(f, p, &o, &a);
	assert_true(a.duplicate);
	assert_int_equal(cert_objects(f->s, NULL), 0);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_token_refusing_certificates_uses_local_store(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_key k;
	X509 *leaf;
	const char *p;

	setenv("HSMDESK_FAKEP11_FAULT", "cert-refused", 1);
	login(f, tl_fakep11());
	assert_int_equal(tl_keygen(f->s, 1, "cloud", &k), 0);
	p = issue_for(f, &k, "cloud.pem", TL_PEM, "codeSigning", -1, 30,
	    &leaf);
	accept_ok(f, p, &o, &a);
	assert_int_equal(a.cert.where, HD_CERT_LOCAL);
	assert_int_equal(a.refused, CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(cert_objects(f->s, NULL), 0);
	expect_local_file(f, &a);
	hd_accept_free(&a);
	X509_free(leaf);
}

static void
test_accept_token_only_store_reports_the_refusal(void **state)
{
	struct fx *f = *state;
	struct hd_accept_opts o = { NULL, HD_STORE_TOKEN };
	struct hd_accept a;
	struct hd_key k;
	struct hd_err err;
	X509 *leaf;
	const char *p;

	setenv("HSMDESK_FAKEP11_FAULT", "cert-refused", 1);
	login(f, tl_fakep11());
	assert_int_equal(tl_keygen(f->s, 1, "strict", &k), 0);
	p = issue_for(f, &k, "s.pem", TL_DER, "codeSigning", -1, 30, &leaf);
	assert_int_equal(hd_cert_accept(f->s, p, &o, &a, &err), -1);
	assert_int_equal(err.code, HD_E_TOKEN);
	assert_int_equal(err.ckr, CKR_TEMPLATE_INCONSISTENT);
	assert_non_null(strstr(err.hint, "cert_store: token"));
	assert_false(data_path_exists(f, "certs/keys"));
	X509_free(leaf);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_accept_rsa_certificate_lands_beside_its_key),
		T(test_accept_ec_certificate_as_der),
		T(test_accept_matches_by_public_key_not_by_cka_id),
		T(test_accept_same_certificate_again_changes_nothing),
		T(test_accept_refuses_certificate_for_no_key_on_token),
		T(test_accept_refuses_leaves_for_two_keys),
		T(test_accept_expired_and_wrong_usage_are_stored_with_warnings),
		T(test_accept_trust_root_makes_it_an_anchor),
		T(test_accept_trust_root_refuses_an_intermediate),
		T(test_accept_trust_root_wants_a_root_of_the_file),
		T(test_accept_needs_login),
		T(test_inspect_stores_nothing),
		T(test_accept_forced_local_store),
		T(test_accept_token_refusing_certificates_uses_local_store),
		T(test_accept_token_only_store_reports_the_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
