/*
 * core/cert_list.c and cert_export.c: Get-ChildItem cert:\ for a token.
 * Certificates on the token and in the local store are listed alike;
 * thumbprints are found in any notation, a prefix fitting several is an
 * error listing them, and exports read back as what was stored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "testlib.h"

#define SIGN HD_KU_DIGITAL_SIGNATURE

struct fx {
	struct tl_env env;
	struct tl_ca ca;
	struct hd_session *s;
	struct hd_key tok, loc;	/* keys: cert on token, in store */
	char tok_sha1[41], loc_sha1[41], tok_sha256[65];
};

static void
accept_file(struct fx *f, const struct hd_key *k, const char *name,
    enum hd_cert_store store, long days, char *sha1, char *sha256)
{
	struct hd_accept_opts o = { NULL, store };
	EVP_PKEY *pub = tl_token_pub(f->s, k);
	X509 *c[3] = { tl_issue(&f->ca, pub, name, -1, days, "codeSigning",
	    SIGN), f->ca.inter, f->ca.root };
	struct hd_accept a;
	struct hd_err err;
	const char *p = tl_write_certs(&f->env, name, TL_PEM, c, 3);

	if (hd_cert_accept(f->s, p, &o, &a, &err) != 0)
		fail_msg("accept: %s", err.msg);
	snprintf(sha1, 41, "%s", a.cert.sha1);
	if (sha256 != NULL)
		snprintf(sha256, 65, "%s", a.cert.sha256);
	hd_accept_free(&a);
	X509_free(c[0]);
	EVP_PKEY_free(pub);
}

/* Token "l": one certificate on it, one in the local store, chain. */
static int
setup(void **state)
{
	static struct fx f;
	struct hd_err err;
	struct hd_pin *p = tl_pin(TL_PIN);

	memset(&f, 0, sizeof(f));
	if (tl_env_new(&f.env) == -1 || tl_init_token(tl_softhsm(), "l") ||
	    tl_ca_new(&f.ca) == -1 ||
	    (f.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(f.s, "l", &err) == -1 ||
	    hd_login(f.s, p, &err) == -1 ||
	    tl_keygen(f.s, 0, "on-token", &f.tok) == -1 ||
	    tl_keygen(f.s, 1, "in-store", &f.loc) == -1)
		return -1;
	hd_pin_free(p);
	accept_file(&f, &f.tok, "Token Signer", HD_STORE_AUTO, 400,
	    f.tok_sha1, f.tok_sha256);
	accept_file(&f, &f.loc, "Store Signer", HD_STORE_LOCAL, 20,
	    f.loc_sha1, NULL);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hd_close(f->s);
	tl_ca_free(&f->ca);
	tl_env_free(&f->env);
	return 0;
}

static const struct hd_cert *
by_sha1(const struct hd_cert *l, size_t n, const char *sha1)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].sha1, sha1) == 0)
			return &l[i];
	return NULL;
}

static void
test_certs_lists_token_local_and_chain(void **state)
{
	struct fx *f = *state;
	struct hd_cert *l;
	const struct hd_cert *c;
	struct hd_err err;
	size_t n;

	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	assert_int_equal(n, 4);
	c = by_sha1(l, n, f->tok_sha1);
	assert_non_null(c);
	assert_int_equal(c->where, HD_CERT_TOKEN);
	assert_string_equal(c->key_label, "on-token");
	assert_int_equal(c->has_key, HD_YES);
	assert_string_equal(c->subject, "CN=Token Signer, O=hsmdesk tests");
	assert_string_equal(c->issuer, "CN=Test Intermediate, O=hsmdesk tests");
	c = by_sha1(l, n, f->loc_sha1);
	assert_non_null(c);
	assert_int_equal(c->where, HD_CERT_LOCAL);
	assert_string_equal(c->key_label, "in-store");
	assert_int_equal(c->has_key, HD_YES);
	/* leaves first, soonest to expire first; then the chain */
	assert_string_equal(l[0].sha1, f->loc_sha1);
	assert_string_equal(l[1].sha1, f->tok_sha1);
	assert_int_equal(l[2].where, HD_CERT_CHAIN);
	assert_int_equal(l[3].where, HD_CERT_CHAIN);
	assert_int_equal(l[2].has_key, HD_NO);
	hd_certs_free(l, n);
}

static void
test_certs_without_login_cannot_tell_the_private_key(void **state)
{
	struct fx *f = *state;
	struct hd_cert *l;
	struct hd_err err;
	size_t n;

	hd_logout(f->s, &err);
	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	assert_int_equal(n, 4);
	/* the labels come from the public key objects */
	assert_string_equal(by_sha1(l, n, f->tok_sha1)->key_label, "on-token");
	assert_int_equal(by_sha1(l, n, f->tok_sha1)->has_key, HD_UNKNOWN);
	assert_int_equal(by_sha1(l, n, f->loc_sha1)->has_key, HD_UNKNOWN);
	hd_certs_free(l, n);
}

static void
test_certs_key_deleted_says_no_key(void **state)
{
	struct fx *f = *state;
	struct hd_cert *l;
	struct hd_err err;
	size_t n;

	assert_int_equal(hd_key_delete(f->s, &f->loc, &err), 0);
	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	assert_int_equal(by_sha1(l, n, f->loc_sha1)->has_key, HD_NO);
	hd_certs_free(l, n);
}

static size_t
filtered(struct fx *f, const struct hd_cert_filter *flt)
{
	struct hd_cert *l;
	struct hd_err err;
	size_t n;

	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	if (hd_certs_filter(l, &n, flt, &err) != 0)
		fail_msg("filter: %s", err.msg);
	hd_certs_free(l, n);
	return n;
}

static void
test_filter_sha1_in_windows_notation(void **state)
{
	struct fx *f = *state;
	char pasted[200];
	struct hd_cert_filter flt = { pasted, NULL, NULL, -1 };
	int i;

	/* U+200E, then lower-case pairs with spaces, as copied on Windows */
	snprintf(pasted, sizeof(pasted), "\xe2\x80\x8e");
	for (i = 0; i < 40; i += 2)
		snprintf(pasted + strlen(pasted), sizeof(pasted) -
		    strlen(pasted), "%c%c ", f->tok_sha1[i] | 0x20,
		    f->tok_sha1[i + 1] | 0x20);
	assert_int_equal(filtered(f, &flt), 1);
}

static void
test_filter_sha256_prefix_subject_and_expiring(void **state)
{
	struct fx *f = *state;
	char pre[9];
	struct hd_cert_filter flt = { NULL, pre, NULL, -1 };

	snprintf(pre, sizeof(pre), "%.8s", f->tok_sha256);
	assert_int_equal(filtered(f, &flt), 1);
	flt = (struct hd_cert_filter){ NULL, NULL, "store SIGNER", -1 };
	assert_int_equal(filtered(f, &flt), 1);
	flt = (struct hd_cert_filter){ NULL, NULL, "signer", -1 };
	assert_int_equal(filtered(f, &flt), 2);
	flt = (struct hd_cert_filter){ NULL, NULL, NULL, 30 };
	assert_int_equal(filtered(f, &flt), 1);
	flt = (struct hd_cert_filter){ NULL, NULL, NULL, 0 };
	assert_int_equal(filtered(f, &flt), 0);
}

static void
test_filter_refuses_a_bad_thumbprint(void **state)
{
	struct fx *f = *state;
	struct hd_cert *l;
	struct hd_err err;
	struct hd_cert_filter flt = { "XYZ", NULL, NULL, -1 };
	size_t n;

	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	assert_int_equal(hd_certs_filter(l, &n, &flt, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	hd_certs_free(l, n);
}

static void
test_find_by_unique_prefix(void **state)
{
	struct fx *f = *state;
	struct hd_cert c;
	struct hd_err err;
	char pre[13];

	snprintf(pre, sizeof(pre), "%.12s", f->loc_sha1);
	assert_int_equal(hd_cert_find(f->s, pre, &c, &err), 0);
	assert_string_equal(c.sha1, f->loc_sha1);
	assert_int_equal(c.where, HD_CERT_LOCAL);
	hd_cert_free(&c);
}

static void
test_find_prefix_fitting_several_lists_them(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct hd_cert_filter flt = { NULL, NULL, NULL, -1 };
	struct hd_cert c[17], *l;
	struct hd_err err;
	char pre[2] = "", want[100];
	size_t n;
	int i, j, added;

	/* 17 certificates: two share a first hex digit (pigeonhole) */
	for (i = 0; i < 17; i++) {
		X509 *x = tl_issue(&f->ca, k, "many", -1, 30, "", 0);

		assert_int_equal(hd_cert_describe(x, 0, &c[i]), 0);
		assert_int_equal(hd_store_put(HD_CERT_CHAIN, NULL, NULL, 0, x,
		    &added, &err), 0);
		X509_free(x);
	}
	for (i = 0; i < 17 && pre[0] == '\0'; i++)
		for (j = i + 1; j < 17; j++)
			if (c[i].sha1[0] == c[j].sha1[0])
				pre[0] = c[i].sha1[0];
	for (i = 0; i < 17; i++)
		hd_cert_free(&c[i]);
	flt.sha1 = pre;
	assert_int_equal(hd_certs(f->s, &l, &n, &err), 0);
	assert_int_equal(hd_certs_filter(l, &n, &flt, &err), 0);
	assert_true(n >= 2);
	assert_int_equal(hd_cert_find(f->s, pre, &c[0], &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	snprintf(want, sizeof(want), "thumbprint '%s' fits %zu certificates:",
	    pre, n);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, l[0].sha1));
	assert_non_null(strstr(err.hint, "give more of the thumbprint"));
	hd_certs_free(l, n);
	EVP_PKEY_free(k);
}

static void
test_find_none_is_an_input_error(void **state)
{
	struct fx *f = *state;
	struct hd_cert c;
	struct hd_err err;
	char other[41];

	snprintf(other, sizeof(other), "%s", f->tok_sha1);
	other[39] = other[39] == '0' ? '1' : '0';
	assert_int_equal(hd_cert_find(f->s, other, &c, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "no certificate with thumbprint"));
}

static void
test_find_one_certificate_kept_twice_is_one(void **state)
{
	struct fx *f = *state;
	struct hd_cert c, t;
	struct hd_err err;
	X509 *x;
	int added;

	/* the token's certificate also filed in the local store */
	assert_int_equal(hd_cert_find(f->s, f->tok_sha1, &t, &err), 0);
	x = hd_cert_x509(&t);
	assert_int_equal(hd_store_put(HD_CERT_LOCAL, f->s->serial, t.id,
	    t.id_len, x, &added, &err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(hd_cert_find(f->s, f->tok_sha1, &c, &err), 0);
	assert_int_equal(c.where, HD_CERT_TOKEN);
	hd_cert_free(&c);
	hd_cert_free(&t);
	X509_free(x);
}

static int
read_back(const char *path, STACK_OF(X509) **sk)
{
	struct hd_err err;

	if (hd_cert_read(path, sk, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
	return sk_X509_num(*sk);
}

static void
test_export_pem_der_and_p7b(void **state)
{
	struct fx *f = *state;
	struct hd_cert c;
	struct hd_err err;
	STACK_OF(X509) *sk;
	char path[700];
	size_t count;
	struct hd_cert got;

	assert_int_equal(hd_cert_find(f->s, f->tok_sha1, &c, &err), 0);
	snprintf(path, sizeof(path), "%s/out.pem", f->env.dir);
	assert_int_equal(hd_cert_export(f->s, &c, 1, HD_FMT_PEM, path, 0,
	    &count, &err), 0);
	assert_int_equal(count, 3);
	assert_int_equal(read_back(path, &sk), 3);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), f->ca.inter), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 2), f->ca.root), 0);
	hd_cert_describe(sk_X509_value(sk, 0), 0, &got);
	assert_string_equal(got.sha1, f->tok_sha1);
	hd_cert_free(&got);
	sk_X509_pop_free(sk, X509_free);
	/* an existing file stays unless replacing is asked for */
	assert_int_equal(hd_cert_export(f->s, &c, 0, HD_FMT_PEM, path, 0,
	    &count, &err), -1);
	assert_non_null(strstr(err.msg, "exists already"));
	assert_int_equal(hd_cert_export(f->s, &c, 0, HD_FMT_PEM, path, 1,
	    &count, &err), 0);
	assert_int_equal(read_back(path, &sk), 1);
	sk_X509_pop_free(sk, X509_free);
	snprintf(path, sizeof(path), "%s/out.p7b", f->env.dir);
	assert_int_equal(hd_cert_export(f->s, &c, 1, HD_FMT_P7B, path, 0,
	    &count, &err), 0);
	assert_int_equal(read_back(path, &sk), 3);
	sk_X509_pop_free(sk, X509_free);
	snprintf(path, sizeof(path), "%s/out.cer", f->env.dir);
	assert_int_equal(hd_cert_export(f->s, &c, 0, HD_FMT_DER, path, 0,
	    &count, &err), 0);
	assert_int_equal(read_back(path, &sk), 1);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(hd_cert_export(f->s, &c, 1, HD_FMT_DER, path, 1,
	    &count, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	hd_cert_free(&c);
}

/* What sign adds to signatures: the issuers, as DER, without the leaf. */
static void
test_chain_is_the_issuers_in_order_without_the_leaf(void **state)
{
	struct fx *f = *state;
	struct hd_cert c;
	struct hd_der *certs;
	struct hd_err err;
	size_t n, i;
	X509 *x[2];

	assert_int_equal(hd_cert_find(f->s, f->tok_sha1, &c, &err), 0);
	assert_int_equal(hd_cert_chain(&c, &certs, &n, &err), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		const unsigned char *p = certs[i].der;

		x[i] = d2i_X509(NULL, &p, (long)certs[i].len);
		assert_non_null(x[i]);
		assert_ptr_equal(p, certs[i].der + certs[i].len);
	}
	assert_int_equal(X509_cmp(x[0], f->ca.inter), 0);
	assert_int_equal(X509_cmp(x[1], f->ca.root), 0);
	X509_free(x[0]);
	X509_free(x[1]);
	hd_ders_free(certs, n);
	hd_cert_free(&c);
}

/* The listing's light parse says what the full one says; a self-issued
 * root is left to the full one. */
static void
assert_same(X509 *x)
{
	struct hd_cert full, lite;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	assert_int_equal(hd_cert_describe(x, 1700000000, &full), 0);
	assert_int_equal(hd_cert_describe_der(der, (size_t)len, 1700000000,
	    &lite), 0);
	assert_string_equal(lite.sha1, full.sha1);
	assert_string_equal(lite.sha256, full.sha256);
	assert_string_equal(lite.subject, full.subject);
	assert_string_equal(lite.issuer, full.issuer);
	assert_string_equal(lite.serial, full.serial);
	assert_true(lite.not_before == full.not_before);
	assert_true(lite.not_after == full.not_after);
	assert_int_equal(lite.days_left, full.days_left);
	assert_int_equal(lite.ca, full.ca);
	assert_int_equal(lite.self_signed, full.self_signed);
	assert_int_equal((int)lite.der_len, len);
	assert_memory_equal(lite.der, der, (size_t)len);
	hd_cert_free(&full);
	hd_cert_free(&lite);
	OPENSSL_free(der);
}

static void
test_light_parse_agrees_with_the_full_one(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *leaf = tl_issue(&f->ca, k, "Light Leaf", -1, 30, "codeSigning",
	    0x80);
	X509 *bare = tl_issue(&f->ca, k, "Bare", -1, 30, "", 0);
	struct hd_cert c;
	unsigned char *der = NULL;
	int len;

	assert_non_null(leaf);
	assert_same(leaf);
	assert_same(bare);
	assert_same(f->ca.inter);		/* a CA: basicConstraints */
	len = i2d_X509(f->ca.root, &der);
	assert_int_equal(hd_cert_describe_der(der, (size_t)len, 0, &c), -1);
	assert_int_equal(hd_cert_describe_der(der, (size_t)len - 1, 0, &c),
	    -1);
	OPENSSL_free(der);
	X509_free(leaf);
	X509_free(bare);
	EVP_PKEY_free(k);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_certs_lists_token_local_and_chain),
		T(test_certs_without_login_cannot_tell_the_private_key),
		T(test_certs_key_deleted_says_no_key),
		T(test_filter_sha1_in_windows_notation),
		T(test_filter_sha256_prefix_subject_and_expiring),
		T(test_filter_refuses_a_bad_thumbprint),
		T(test_find_by_unique_prefix),
		T(test_find_prefix_fitting_several_lists_them),
		T(test_find_none_is_an_input_error),
		T(test_find_one_certificate_kept_twice_is_one),
		T(test_export_pem_der_and_p7b),
		T(test_chain_is_the_issuers_in_order_without_the_leaf),
		T(test_light_parse_agrees_with_the_full_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
