/*
 * core/cert_parse.c: every form a CA hands out is read (PEM, DER, several
 * PEM blocks, PKCS#7 as DER or PEM), and every file that is not a
 * certificate is refused saying what it is: private keys above all.
 * The files are made by the test with a software CA.
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
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "testlib.h"

struct fx {
	struct tl_env env;
	struct tl_ca ca;
	EVP_PKEY *key;
	X509 *leaf;
};

static int
setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (tl_env_new(&f.env) == -1 || tl_ca_new(&f.ca) == -1 ||
	    (f.key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) ==
	    NULL ||
	    (f.leaf = tl_issue(&f.ca, f.key, "Leaf", -1, 365, "codeSigning",
	    HD_KU_DIGITAL_SIGNATURE)) == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	X509_free(f->leaf);
	EVP_PKEY_free(f->key);
	tl_ca_free(&f->ca);
	tl_env_free(&f->env);
	return 0;
}

/* Parse path; the number of certificates, or -1 with err filled. */
static int
parse(const char *path, STACK_OF(X509) **sk, struct hd_err *err)
{
	hd_err_clear(err);
	if (hd_cert_read(path, sk, err) == -1)
		return -1;
	return sk_X509_num(*sk);
}

static void
expect_certs(const char *path, X509 *const *want, int n)
{
	STACK_OF(X509) *sk = NULL;
	struct hd_err err;
	int i, got = parse(path, &sk, &err);

	if (got == -1)
		fail_msg("%s refused: %s", path, err.msg);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(sk, i), want[i]), 0);
	sk_X509_pop_free(sk, X509_free);
}

static void
expect_refused(const char *path, const char *msg_part)
{
	STACK_OF(X509) *sk = NULL;
	struct hd_err err;

	assert_int_equal(parse(path, &sk, &err), -1);
	assert_null(sk);
	assert_int_equal(err.code, HD_E_INPUT);
	if (strstr(err.msg, msg_part) == NULL)
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void
test_parse_single_pem(void **state)
{
	struct fx *f = *state;

	expect_certs(tl_write_certs(&f->env, "c.pem", TL_PEM, &f->leaf, 1),
	    &f->leaf, 1);
}

static void
test_parse_single_der(void **state)
{
	struct fx *f = *state;

	expect_certs(tl_write_certs(&f->env, "c.cer", TL_DER, &f->leaf, 1),
	    &f->leaf, 1);
}

static void
test_parse_multi_pem_keeps_order(void **state)
{
	struct fx *f = *state;
	X509 *c[] = { f->leaf, f->ca.inter, f->ca.root };

	expect_certs(tl_write_certs(&f->env, "chain.pem", TL_PEM, c, 3), c, 3);
}

static void
test_parse_p7b_der(void **state)
{
	struct fx *f = *state;
	X509 *c[] = { f->leaf, f->ca.inter, f->ca.root };

	expect_certs(tl_write_certs(&f->env, "chain.p7b", TL_P7B, c, 3), c, 3);
}

static void
test_parse_p7b_pem(void **state)
{
	struct fx *f = *state;
	X509 *c[] = { f->leaf, f->ca.inter };

	expect_certs(tl_write_certs(&f->env, "chain.p7c", TL_P7B_PEM, c, 2),
	    c, 2);
}

static void
test_parse_pem_with_text_around_blocks(void **state)
{
	struct fx *f = *state;
	const char *p = tl_write_certs(&f->env, "t.pem", TL_PEM, &f->leaf, 1);
	char *pem, text[8192];
	FILE *in = fopen(p, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, in);

	(void)state;
	fclose(in);
	text[n] = '\0';
	assert_true(asprintf(&pem, "Certificate:\n    Data: as openssl x509 "
	    "-text prints it\n%s\ntrailing words\n", text) > 0);
	p = tl_write(&f->env, "text.pem", pem);
	free(pem);
	expect_certs(p, &f->leaf, 1);
}

static void
test_parse_drops_duplicates_in_a_bundle(void **state)
{
	struct fx *f = *state;
	X509 *c[] = { f->leaf, f->ca.inter, f->leaf };

	expect_certs(tl_write_certs(&f->env, "dup.pem", TL_PEM, c, 3), c, 2);
}

static void
test_parse_refuses_garbage(void **state)
{
	struct fx *f = *state;

	expect_refused(tl_write(&f->env, "g.bin", "\x30\x82\x01garbage"),
	    "not a certificate");
	expect_refused(tl_write(&f->env, "t.txt", "hello\n"),
	    "not a certificate");
}

static void
test_parse_refuses_truncated_pem(void **state)
{
	struct fx *f = *state;
	const char *p = tl_write_certs(&f->env, "c.pem", TL_PEM, &f->leaf, 1);
	char text[8192];
	FILE *in = fopen(p, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, in);

	fclose(in);
	text[n / 2] = '\0';
	expect_refused(tl_write(&f->env, "half.pem", text), "truncated");
}

static void
test_parse_refuses_damaged_pem_body(void **state)
{
	struct fx *f = *state;

	expect_refused(tl_write(&f->env, "bad.pem", "-----BEGIN CERTIFICATE"
	    "-----\nMIIBaGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"),
	    "damaged");
}

static void
test_parse_refuses_empty_file(void **state)
{
	struct fx *f = *state;

	expect_refused(tl_write(&f->env, "empty.pem", ""), "empty file");
}

static void
test_parse_refuses_empty_bundle(void **state)
{
	struct fx *f = *state;

	expect_refused(tl_write_certs(&f->env, "e.p7b", TL_P7B, NULL, 0),
	    "empty PKCS#7 bundle");
	expect_refused(tl_write_certs(&f->env, "e.p7c", TL_P7B_PEM, NULL, 0),
	    "empty PKCS#7 bundle");
}

static void
test_parse_refuses_private_key_pem(void **state)
{
	struct fx *f = *state;
	char path[700];
	BIO *b;

	snprintf(path, sizeof(path), "%s/key.pem", f->env.dir);
	b = BIO_new_file(path, "w");
	PEM_write_bio_PrivateKey(b, f->key, NULL, NULL, 0, NULL, NULL);
	BIO_free(b);
	expect_refused(path, "private keys must never travel");
}

static void
test_parse_refuses_certificate_with_its_private_key(void **state)
{
	struct fx *f = *state;
	char path[700];
	BIO *b;

	/* a "fullchain plus key" file: the certificate is no excuse */
	snprintf(path, sizeof(path), "%s/both.pem", f->env.dir);
	b = BIO_new_file(path, "w");
	PEM_write_bio_X509(b, f->leaf);
	PEM_write_bio_PrivateKey(b, f->key, NULL, NULL, 0, NULL, NULL);
	BIO_free(b);
	expect_refused(path, "private keys must never travel");
}

static void
test_parse_refuses_private_key_der(void **state)
{
	struct fx *f = *state;
	char path[700];
	BIO *b;

	snprintf(path, sizeof(path), "%s/key.der", f->env.dir);
	b = BIO_new_file(path, "wb");
	i2d_PrivateKey_bio(b, f->key);
	BIO_free(b);
	expect_refused(path, "private keys must never travel");
}

static void
test_parse_refuses_pkcs12(void **state)
{
	struct fx *f = *state;
	PKCS12 *p12 = PKCS12_create("pw", "x", f->key, f->leaf, NULL, 0, 0, 0,
	    0, 0);
	char path[700];
	BIO *b;

	assert_non_null(p12);
	snprintf(path, sizeof(path), "%s/key.pfx", f->env.dir);
	b = BIO_new_file(path, "wb");
	i2d_PKCS12_bio(b, p12);
	BIO_free(b);
	PKCS12_free(p12);
	expect_refused(path, "PKCS#12");
}

static void
write_req(const struct fx *f, const char *path, int pem)
{
	X509_REQ *r = X509_REQ_new();
	BIO *b = BIO_new_file(path, "wb");

	X509_REQ_set_pubkey(r, f->key);
	X509_REQ_sign(r, f->key, EVP_sha256());
	if (pem)
		PEM_write_bio_X509_REQ(b, r);
	else
		i2d_X509_REQ_bio(b, r);
	BIO_free(b);
	X509_REQ_free(r);
}

static void
test_parse_refuses_csr(void **state)
{
	struct fx *f = *state;
	char path[700];

	snprintf(path, sizeof(path), "%s/req.pem", f->env.dir);
	write_req(f, path, 1);
	expect_refused(path, "certificate signing request");
	snprintf(path, sizeof(path), "%s/req.der", f->env.dir);
	write_req(f, path, 0);
	expect_refused(path, "certificate signing request");
}

static void
test_parse_refuses_pem_without_certificate(void **state)
{
	struct fx *f = *state;
	char path[700];
	BIO *b;

	snprintf(path, sizeof(path), "%s/pub.pem", f->env.dir);
	b = BIO_new_file(path, "w");
	PEM_write_bio_PUBKEY(b, f->key);
	BIO_free(b);
	expect_refused(path, "no certificate in it (found 'PUBLIC KEY')");
}

static void
test_parse_refuses_der_with_trailing_bytes(void **state)
{
	struct fx *f = *state;
	unsigned char *der = NULL;
	int len = i2d_X509(f->leaf, &der);
	char path[700];
	FILE *out;

	snprintf(path, sizeof(path), "%s/trail.cer", f->env.dir);
	out = fopen(path, "wb");
	fwrite(der, 1, (size_t)len, out);
	fwrite("xx", 1, 2, out);
	fclose(out);
	OPENSSL_free(der);
	expect_refused(path, "not a certificate");
}

static void
test_parse_refuses_missing_file(void **state)
{
	struct fx *f = *state;
	char path[700];

	snprintf(path, sizeof(path), "%s/nope.pem", f->env.dir);
	expect_refused(path, "no such file");
}

static void
test_parse_refuses_too_many_certificates(void **state)
{
	struct fx *f = *state;
	X509 *c[HD_BUNDLE_MAX + 1];
	int i;

	for (i = 0; i <= HD_BUNDLE_MAX; i++)
		c[i] = tl_issue(&f->ca, f->key, "many", -1, 10, "", 0);
	expect_refused(tl_write_certs(&f->env, "many.pem", TL_PEM, c,
	    HD_BUNDLE_MAX + 1), "more than 64 certificates");
	for (i = 0; i <= HD_BUNDLE_MAX; i++)
		X509_free(c[i]);
}

static void
test_describe_thumbprints_names_and_days(void **state)
{
	struct fx *f = *state;
	unsigned char d[20];
	unsigned int n, i;
	char want[41];
	struct hd_cert c;

	X509_digest(f->leaf, EVP_sha1(), d, &n);
	for (i = 0; i < n; i++)
		snprintf(want + 2 * i, 3, "%02X", d[i]);
	assert_int_equal(hd_cert_describe(f->leaf, time(NULL), &c), 0);
	assert_string_equal(c.sha1, want);
	assert_int_equal(strlen(c.sha256), 64);
	/* most specific first, as Windows shows it */
	assert_string_equal(c.subject, "CN=Leaf, O=hsmdesk tests");
	assert_string_equal(c.issuer, "CN=Test Intermediate, O=hsmdesk tests");
	assert_true(c.days_left == 364 || c.days_left == 365);
	assert_false(c.self_signed);
	assert_false(c.ca);
	assert_non_null(c.der);
	hd_cert_free(&c);
	assert_int_equal(hd_cert_describe(f->ca.root, time(NULL), &c), 0);
	assert_true(c.self_signed);
	assert_true(c.ca);
	hd_cert_free(&c);
}

static void
test_describe_expired_has_negative_days(void **state)
{
	struct fx *f = *state;
	X509 *x = tl_issue(&f->ca, f->key, "Old", -30, -3, "", 0);
	struct hd_cert c;

	int64_t end;

	/* whole days, rounded down: -1 is "expired within the last day" */
	assert_int_equal(hd_cert_describe(x, time(NULL), &c), 0);
	end = c.not_after;
	hd_cert_free(&c);
	assert_int_equal(hd_cert_describe(x, (time_t)(end + 3 * 86400), &c), 0);
	assert_int_equal(c.days_left, -3);
	hd_cert_free(&c);
	assert_int_equal(hd_cert_describe(x, (time_t)(end + 1), &c), 0);
	assert_int_equal(c.days_left, -1);
	hd_cert_free(&c);
	assert_int_equal(hd_cert_describe(x, (time_t)(end - 1), &c), 0);
	assert_int_equal(c.days_left, 0);
	hd_cert_free(&c);
	X509_free(x);
}

static void
test_file_check_counts_certificates(void **state)
{
	struct fx *f = *state;
	X509 *c[] = { f->leaf, f->ca.inter, f->ca.root };
	struct hd_err err;
	size_t n;

	assert_int_equal(hd_cert_file_check(tl_write_certs(&f->env, "x.p7b",
	    TL_P7B, c, 3), &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(hd_cert_file_check(tl_write(&f->env, "y", "no"), &n,
	    &err), -1);
	assert_int_equal(n, 0);
	assert_int_equal(hd_code_exit(err.code), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_single_pem),
		cmocka_unit_test(test_parse_single_der),
		cmocka_unit_test(test_parse_multi_pem_keeps_order),
		cmocka_unit_test(test_parse_p7b_der),
		cmocka_unit_test(test_parse_p7b_pem),
		cmocka_unit_test(test_parse_pem_with_text_around_blocks),
		cmocka_unit_test(test_parse_drops_duplicates_in_a_bundle),
		cmocka_unit_test(test_parse_refuses_garbage),
		cmocka_unit_test(test_parse_refuses_truncated_pem),
		cmocka_unit_test(test_parse_refuses_damaged_pem_body),
		cmocka_unit_test(test_parse_refuses_empty_file),
		cmocka_unit_test(test_parse_refuses_empty_bundle),
		cmocka_unit_test(test_parse_refuses_private_key_pem),
		cmocka_unit_test(
		    test_parse_refuses_certificate_with_its_private_key),
		cmocka_unit_test(test_parse_refuses_private_key_der),
		cmocka_unit_test(test_parse_refuses_pkcs12),
		cmocka_unit_test(test_parse_refuses_csr),
		cmocka_unit_test(test_parse_refuses_pem_without_certificate),
		cmocka_unit_test(test_parse_refuses_der_with_trailing_bytes),
		cmocka_unit_test(test_parse_refuses_missing_file),
		cmocka_unit_test(test_parse_refuses_too_many_certificates),
		cmocka_unit_test(test_describe_thumbprints_names_and_days),
		cmocka_unit_test(test_describe_expired_has_negative_days),
		cmocka_unit_test(test_file_check_counts_certificates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
