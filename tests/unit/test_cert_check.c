/*
 * core/cert_check.c: what accept warns about before it stores: an
 * expired or not-yet-valid certificate, one not marked for code signing,
 * one that does not chain to a trusted root.  Roots are trusted through
 * the local store of the test's own XDG_DATA_HOME.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "testlib.h"

#define SIGN HD_KU_DIGITAL_SIGNATURE

struct fx {
	struct tl_env env;
	struct tl_ca ca;
	EVP_PKEY *key;
};

static int
setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (tl_env_new(&f.env) == -1 || tl_ca_new(&f.ca) == -1 ||
	    (f.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	EVP_PKEY_free(f->key);
	tl_ca_free(&f->ca);
	tl_env_free(&f->env);
	return 0;
}

static void
expect(const struct hd_check *c, const char *name, enum hd_check_level lvl,
    const char *part)
{
	assert_string_equal(c->name, name);
	if (c->level != lvl || strstr(c->text, part) == NULL)
		fail_msg("%s: %s '%s', expected %s with '%s'", name,
		    c->level == HD_CHECK_OK ? "ok" : "warning", c->text,
		    lvl == HD_CHECK_OK ? "ok" : "warning", part);
}

static void
validity(struct fx *f, long from, long to, enum hd_check_level lvl,
    const char *part)
{
	X509 *x = tl_issue(&f->ca, f->key, "v", from, to, "codeSigning", SIGN);
	struct hd_cert c;
	struct hd_check chk;

	assert_int_equal(hd_cert_describe(x, time(NULL), &c), 0);
	hd_check_validity(&c, time(NULL), &chk);
	expect(&chk, "validity", lvl, part);
	hd_cert_free(&c);
	X509_free(x);
}

static void
test_validity_current_certificate_is_ok(void **state)
{
	validity(*state, -1, 30, HD_CHECK_OK, "days left");
}

static void
test_validity_expired_is_a_warning(void **state)
{
	validity(*state, -60, -10, HD_CHECK_WARN, "expired on");
}

static void
test_validity_not_yet_valid_is_a_warning(void **state)
{
	validity(*state, 5, 30, HD_CHECK_WARN, "not valid before");
}

static void
usage(struct fx *f, const char *eku, unsigned ku, enum hd_check_level lvl,
    const char *part)
{
	X509 *x = tl_issue(&f->ca, f->key, "u", -1, 30, eku, ku);
	struct hd_check chk;

	hd_check_usage(x, &chk);
	expect(&chk, "usage", lvl, part);
	X509_free(x);
}

static void
test_usage_code_signing_is_ok(void **state)
{
	usage(*state, "codeSigning", SIGN, HD_CHECK_OK, "code signing");
}

static void
test_usage_tls_server_only_is_a_warning_naming_it(void **state)
{
	usage(*state, "serverAuth,clientAuth", SIGN | HD_KU_KEY_ENCIPHERMENT,
	    HD_CHECK_WARN, "lacks codeSigning (has: serverAuth, clientAuth)");
}

static void
test_usage_without_eku_is_a_warning(void **state)
{
	usage(*state, "", SIGN, HD_CHECK_WARN, "no extended key usage");
}

static void
test_usage_key_usage_without_digital_signature(void **state)
{
	usage(*state, "codeSigning", HD_KU_KEY_ENCIPHERMENT, HD_CHECK_WARN,
	    "lacks digitalSignature (has: keyEncipherment)");
}

static void
chain(struct fx *f, X509 **bundle, int n, X509 *trust_now,
    enum hd_check_level lvl, const char *part)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct hd_check chk;
	struct hd_err err;
	int i;

	(void)f;
	for (i = 0; i < n; i++)
		sk_X509_push(sk, bundle[i]);
	assert_int_equal(hd_check_chain(bundle[0], sk, trust_now, &chk, &err),
	    0);
	expect(&chk, "chain", lvl, part);
	sk_X509_free(sk);
}

static void
test_chain_to_untrusted_root_is_a_warning(void **state)
{
	struct fx *f = *state;
	X509 *leaf = tl_issue(&f->ca, f->key, "c", -1, 30, "codeSigning", SIGN);
	X509 *b[] = { leaf, f->ca.inter, f->ca.root };

	chain(f, b, 3, NULL, HD_CHECK_WARN, "ends at root 'CN=Test Root, "
	    "O=hsmdesk tests', which is not trusted");
	X509_free(leaf);
}

static void
test_chain_to_root_trusted_now_is_ok(void **state)
{
	struct fx *f = *state;
	X509 *leaf = tl_issue(&f->ca, f->key, "c", -1, 30, "codeSigning", SIGN);
	X509 *b[] = { leaf, f->ca.inter, f->ca.root };

	chain(f, b, 3, f->ca.root, HD_CHECK_OK,
	    "through 1 intermediate");
	X509_free(leaf);
}

static void
test_chain_without_intermediate_is_incomplete(void **state)
{
	struct fx *f = *state;
	X509 *leaf = tl_issue(&f->ca, f->key, "c", -1, 30, "codeSigning", SIGN);
	X509 *b[] = { leaf };

	chain(f, b, 1, f->ca.root, HD_CHECK_WARN, "incomplete: no issuer "
	    "known for 'CN=c, O=hsmdesk tests'");
	X509_free(leaf);
}

static void
test_chain_uses_local_anchors_and_chain_material(void **state)
{
	struct fx *f = *state;
	X509 *leaf = tl_issue(&f->ca, f->key, "c", -1, 30, "codeSigning", SIGN);
	X509 *b[] = { leaf };
	struct hd_err err;
	int added;

	/* trusted earlier: the root as an anchor, the intermediate as chain
	 * material; a leaf alone then chains */
	assert_int_equal(hd_store_put(HD_CERT_ANCHOR, NULL, NULL, 0,
	    f->ca.root, &added, &err), 0);
	assert_int_equal(hd_store_put(HD_CERT_CHAIN, NULL, NULL, 0,
	    f->ca.inter, &added, &err), 0);
	chain(f, b, 1, NULL, HD_CHECK_OK, "chains to trusted root 'CN=Test "
	    "Root");
	X509_free(leaf);
}

static void
test_chain_intermediate_in_store_is_never_an_anchor(void **state)
{
	struct fx *f = *state;
	X509 *leaf = tl_issue(&f->ca, f->key, "c", -1, 30, "codeSigning", SIGN);
	X509 *b[] = { leaf };
	struct hd_err err;
	int added;

	assert_int_equal(hd_store_put(HD_CERT_CHAIN, NULL, NULL, 0,
	    f->ca.inter, &added, &err), 0);
	chain(f, b, 1, NULL, HD_CHECK_WARN, "incomplete: no issuer known for "
	    "'CN=Test Intermediate");
	X509_free(leaf);
}

static void
test_chain_self_signed_leaf(void **state)
{
	struct fx *f = *state;
	X509 *b[] = { f->ca.root };

	(void)f;
	chain(f, b, 1, NULL, HD_CHECK_WARN, "self-signed");
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_validity_current_certificate_is_ok),
		T(test_validity_expired_is_a_warning),
		T(test_validity_not_yet_valid_is_a_warning),
		T(test_usage_code_signing_is_ok),
		T(test_usage_tls_server_only_is_a_warning_naming_it),
		T(test_usage_without_eku_is_a_warning),
		T(test_usage_key_usage_without_digital_signature),
		T(test_chain_to_untrusted_root_is_a_warning),
		T(test_chain_to_root_trusted_now_is_ok),
		T(test_chain_without_intermediate_is_incomplete),
		T(test_chain_uses_local_anchors_and_chain_material),
		T(test_chain_intermediate_in_store_is_never_an_anchor),
		T(test_chain_self_signed_leaf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
