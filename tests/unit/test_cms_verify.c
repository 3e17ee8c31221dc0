/*
 * core/cms_verify.c: a good signature reports its signer, and every way a
 * signature can be wrong is told apart: the data changed, the signature
 * file altered or cut, something that is not CMS at all, a CMS carrying
 * its content, a chain to another root, an expired signer, a certificate
 * not for signing.  Signatures come from the token (hd_sign_*), from
 * OpenSSL in process with software keys (for certificates the signer
 * refuses, such as expired ones), and from the openssl command.  Each
 * verdict on a bad signature is checked against `openssl cms -verify`,
 * which must fail too.
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
#include <time.h>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "testca.h"
#include "testlib.h"

static struct {
	struct tl_env env;
	struct hd_session *s;
	struct hd_key key;
	struct tc_ca root, other;
	X509 *leaf;
	char ca[700], other_ca[700], leaf_pem[700];
	char data[700], sig[700];	/* a good token signature of data */
} fx;

static const char *
fpath(const char *name)
{
	static char buf[4][1024];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx.env.dir, name);
	return buf[i];
}

static void
token_signer(void)
{
	static struct hd_profile p;
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_err err;
	struct hd_csr csr;
	char path[4096];
	const char *top = getenv("HSMDESK_TOP");

	snprintf(path, sizeof(path), "%s/profiles/codesign-ecdsa-p256.yaml",
	    top ? top : ".");
	if ((fx.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(fx.s, "ver", &err) == -1 ||
	    hd_login(fx.s, pin, &err) == -1 ||
	    hd_profile_load(&p, path, &err) == -1 ||
	    hd_profile_set_subject(&p, "CN=Contoso Release Signing,"
	    "O=Contoso Ltd,L=Seattle,ST=Washington,C=US", &err) == -1 ||
	    hd_keygen(fx.s, &p, "v", NULL, NULL, &fx.key, &err) == -1 ||
	    hd_csr_make(fx.s, &p, &fx.key, &csr, &err) == -1)
		fail_msg("token: %s", err.msg);
	hd_pin_free(pin);
	fx.leaf = tc_issue_csr(&fx.root, csr.der, csr.len, NULL);
	assert_non_null(fx.leaf);
	hd_csr_free(&csr);
}

/* Sign data into sig with the token key (replacing sig). */
static void
token_sign(const char *data, const char *sig)
{
	struct hd_sign_opts o = { .replace = 1 };
	struct hd_sign_result res;
	struct hd_sign *sg;
	struct hd_err err;
	unsigned char *der;
	size_t len;

	der = tc_der(fx.leaf, &len);
	if (hd_sign_open(fx.s, &fx.key, der, len, NULL, 0, &o, &sg,
	    &err) == -1 || hd_sign_file(sg, data, sig, NULL, NULL, &res,
	    &err) == -1)
		fail_msg("sign: %s", err.msg);
	hd_sign_close(sg);
	OPENSSL_free(der);
}

static int
setup(void **state)
{
	(void)state;
	if (tl_env_new(&fx.env) == -1 ||
	    tl_init_token(tl_softhsm(), "ver") == -1 ||
	    tc_ca_new(&fx.root, "hsmdesk Test Root") == -1 ||
	    tc_ca_new(&fx.other, "Some Other Root") == -1)
		return -1;
	snprintf(fx.ca, sizeof(fx.ca), "%s", fpath("root.pem"));
	snprintf(fx.other_ca, sizeof(fx.other_ca), "%s", fpath("other.pem"));
	snprintf(fx.leaf_pem, sizeof(fx.leaf_pem), "%s", fpath("leaf.pem"));
	snprintf(fx.data, sizeof(fx.data), "%s", fpath("release.zip"));
	snprintf(fx.sig, sizeof(fx.sig), "%s", fpath("release.zip.p7s"));
	token_signer();
	if (tc_write_pem(fx.ca, fx.root.cert) == -1 ||
	    tc_write_pem(fx.other_ca, fx.other.cert) == -1 ||
	    tc_write_pem(fx.leaf_pem, fx.leaf) == -1 ||
	    tc_write_file(fx.data, "PK\3\4 release build 42\n", 23) == -1)
		return -1;
	token_sign(fx.data, fx.sig);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(fx.leaf);
	tc_ca_free(&fx.root);
	tc_ca_free(&fx.other);
	hd_close(fx.s);
	tl_env_free(&fx.env);
	return 0;
}

static int
verify(const char *data, const char *sig, const char *ca,
    struct hd_verify_result *r, struct hd_err *err)
{
	struct hd_verify_opts o = { .cafile = ca };

	return hd_verify_file(data, sig, &o, r, err);
}

static void
assert_openssl_rejects(const char *data, const char *sig, const char *ca)
{
	char out[4096];

	assert_int_not_equal(tc_openssl_verify(data, sig, ca, out,
	    sizeof(out)), 0);
}

/* A copy of file src at dst with byte at (from the end if < 0) XORed. */
static void
copy_flipped(const char *src, const char *dst, long at)
{
	size_t len;
	unsigned char *p = tc_read_file(src, &len);

	assert_non_null(p);
	if (at < 0)
		at += (long)len;
	assert_true(at >= 0 && (size_t)at < len);
	p[at] ^= 0x01;
	assert_int_equal(tc_write_file(dst, p, len), 0);
	free(p);
}

static time_t
parse_time(const char *iso)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

/* openssl's own SHA-1 fingerprint, colons removed. */
static void
openssl_sha1(const char *pem, char *out)
{
	const char *argv[] = { "openssl", "x509", "-noout", "-fingerprint",
	    "-sha1", "-in", pem, NULL };
	char buf[256], *p, *q;

	assert_int_equal(tc_run(argv, buf, sizeof(buf)), 0);
	p = strchr(buf, '=');
	assert_non_null(p);
	for (q = out, p++; *p && *p != '\n'; p++)
		if (*p != ':')
			*q++ = *p;
	*q = '\0';
}

static void
test_good_signature_reports_the_signer(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;
	char sha1[64], out[4096];
	time_t t, now = time(NULL);

	(void)state;
	if (verify(fx.data, fx.sig, fx.ca, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.verdict, HD_V_GOOD);
	assert_string_equal(hd_verdict_name(r.verdict), "good");
	assert_true(r.signature_ok == 1 && r.content_ok == 1 &&
	    r.chain_ok == 1 && r.usage_ok == 1);
	assert_int_equal(r.nsigners, 1);
	assert_string_equal(r.subject, "C=US, ST=Washington, L=Seattle, "
	    "O=Contoso Ltd, CN=Contoso Release Signing");
	assert_string_equal(r.issuer, "O=hsmdesk tests, CN=hsmdesk Test Root");
	openssl_sha1(fx.leaf_pem, sha1);
	assert_string_equal(r.sha1, sha1);
	assert_int_equal(strlen(r.sha1), 40);
	t = parse_time(r.signing_time);
	assert_true(t > now - 300 && t < now + 300);
	assert_string_equal(r.md, "sha256");
	assert_string_equal(r.alg, "ECDSA");
	assert_string_equal(r.chain, "Contoso Release Signing <- hsmdesk Test "
	    "Root (trusted)");
	assert_true(r.size == 23);
	assert_true(parse_time(r.not_after) > now);
	assert_int_equal(tc_openssl_verify(fx.data, fx.sig, fx.ca, out,
	    sizeof(out)), 0);
}

static void
test_tampered_file(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	copy_flipped(fx.data, fpath("tampered.zip"), 5);
	assert_int_equal(verify(fpath("tampered.zip"), fx.sig, fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_CONTENT_CHANGED);
	assert_int_equal(err.code, HD_E_BAD_SIG);
	assert_non_null(strstr(err.msg, "does not match its signature"));
	/* the rest is still reported */
	assert_true(r.signature_ok == 1 && r.content_ok == 0 &&
	    r.chain_ok == 1 && r.usage_ok == 1);
	assert_openssl_rejects(fpath("tampered.zip"), fx.sig, fx.ca);

	/* one byte more is a change too */
	assert_int_equal(tc_write_file(fpath("longer.zip"),
	    "PK\3\4 release build 42\n\n", 24), 0);
	assert_int_equal(verify(fpath("longer.zip"), fx.sig, fx.ca, &r, &err),
	    -1);
	assert_int_equal(r.verdict, HD_V_CONTENT_CHANGED);
}

/* The signature value itself (the last bytes of the DER) altered. */
static void
test_tampered_signature_value(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	copy_flipped(fx.sig, fpath("badsig.p7s"), -3);
	assert_int_equal(verify(fx.data, fpath("badsig.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_BAD_SIGNATURE);
	assert_int_equal(err.code, HD_E_BAD_SIG);
	assert_true(r.signature_ok == 0 && r.content_ok == -1);
	assert_non_null(strstr(err.hint, "altered or damaged"));
	assert_openssl_rejects(fx.data, fpath("badsig.p7s"), fx.ca);
}

/* The signingTime attribute altered: still DER, no longer signed. */
static void
test_tampered_signed_attribute(void **state)
{
	static const unsigned char oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48,
	    0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05 };
	struct hd_verify_result r;
	struct hd_err err;
	unsigned char *p;
	size_t len, i, at = 0;

	(void)state;
	p = tc_read_file(fx.sig, &len);
	for (i = 0; i + sizeof(oid) < len && at == 0; i++)
		if (memcmp(p + i, oid, sizeof(oid)) == 0)
			at = i + sizeof(oid) + 2 + 2 + 11;  /* SET, UTCTime */
	assert_true(at > 0 && p[at + 1] == 'Z');
	p[at] = p[at] == '0' ? '1' : '0';	/* a seconds digit */
	assert_int_equal(tc_write_file(fpath("badattr.p7s"), p, len), 0);
	free(p);
	assert_int_equal(verify(fx.data, fpath("badattr.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_BAD_SIGNATURE);
	assert_openssl_rejects(fx.data, fpath("badattr.p7s"), fx.ca);
}

static void
test_truncated_signature_is_corrupt(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;
	unsigned char *p;
	size_t len;

	(void)state;
	p = tc_read_file(fx.sig, &len);
	assert_int_equal(tc_write_file(fpath("cut.p7s"), p, len / 2), 0);
	assert_int_equal(verify(fx.data, fpath("cut.p7s"), fx.ca, &r, &err),
	    -1);
	assert_int_equal(r.verdict, HD_V_CORRUPT);
	assert_int_equal(err.code, HD_E_BAD_SIG);
	assert_non_null(strstr(err.msg, "damaged CMS signature"));

	/* and bytes after a complete one */
	p[len] = 0;
	assert_int_equal(tc_write_file(fpath("long.p7s"), p, len + 1), 0);
	assert_int_equal(verify(fx.data, fpath("long.p7s"), fx.ca, &r, &err),
	    -1);
	assert_int_equal(r.verdict, HD_V_CORRUPT);
	free(p);
}

static void
test_foreign_files_are_not_cms(void **state)
{
	static const struct { const char *name, *text; } f[] = {
		{ "text.p7s", "this is a text file, not a signature\n" },
		{ "empty.p7s", "" },
		{ "png.p7s", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR" },
	};
	struct hd_verify_result r;
	struct hd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		tl_write(&fx.env, f[i].name, f[i].text);
		assert_int_equal(verify(fx.data, fpath(f[i].name), fx.ca, &r,
		    &err), -1);
		assert_int_equal(r.verdict, HD_V_NOT_CMS);
		assert_int_equal(err.code, HD_E_INPUT);
		assert_non_null(strstr(err.msg, "not a CMS signature"));
	}
	/* a certificate is DER too, but not a signature */
	assert_int_equal(verify(fx.data, fx.leaf_pem, fx.ca, &r, &err), -1);
	assert_int_equal(r.verdict, HD_V_NOT_CMS);
	assert_int_equal(verify(fx.data, fpath("missing.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_ERROR);
	assert_int_equal(err.code, HD_E_INPUT);
}

static void
test_wrong_ca(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	assert_int_equal(verify(fx.data, fx.sig, fx.other_ca, &r, &err), -1);
	assert_int_equal(r.verdict, HD_V_UNTRUSTED);
	assert_int_equal(err.code, HD_E_UNTRUSTED);
	assert_true(r.signature_ok == 1 && r.content_ok == 1 &&
	    r.chain_ok == 0);
	assert_non_null(strstr(r.chain, "unable to get local issuer"));
	assert_non_null(strstr(err.hint, "CA file"));
	/* the signer is still described */
	assert_non_null(strstr(r.subject, "CN=Contoso Release Signing"));
	assert_openssl_rejects(fx.data, fx.sig, fx.other_ca);
	assert_int_equal(verify(fx.data, fx.sig, fpath("nope.pem"), &r, &err),
	    -1);
	assert_int_equal(err.code, HD_E_INPUT);
}

/* A CMS made by OpenSSL with a software key: for certificates hsmdesk
 * itself would not sign with. */
static void
soft_sign(const struct tc_leaf *l, unsigned flags, const char *sig)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = tc_issue_key(&fx.root, k, l);
	BIO *in = BIO_new_file(fx.data, "rb"), *out = BIO_new_file(sig, "wb");
	CMS_ContentInfo *cms = CMS_sign(x, k, NULL, in, flags | CMS_BINARY);

	assert_non_null(cms);
	assert_int_equal(i2d_CMS_bio(out, cms), 1);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_expired_signer(void **state)
{
	struct tc_leaf old = { .from = -10 * 86400, .to = -86400 };
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	soft_sign(&old, CMS_DETACHED, fpath("expired.p7s"));
	assert_int_equal(verify(fx.data, fpath("expired.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_EXPIRED);
	assert_int_equal(err.code, HD_E_UNTRUSTED);
	assert_true(r.signature_ok == 1 && r.content_ok == 1 &&
	    r.chain_ok == 0);
	assert_non_null(strstr(r.chain, "the signer's certificate "
	    "'O=hsmdesk tests, CN=hsmdesk test signer' expired on "));
	assert_openssl_rejects(fx.data, fpath("expired.p7s"), fx.ca);
}

static void
test_certificate_not_for_signing(void **state)
{
	struct tc_leaf enc = { .ku = KU_KEY_ENCIPHERMENT };
	struct tc_leaf tls = { .eku = "serverAuth" };
	struct tc_leaf any = { .eku = "anyExtendedKeyUsage" };
	struct hd_verify_opts o = { .cafile = fx.ca, .any_eku = 1 };
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	soft_sign(&enc, CMS_DETACHED, fpath("enc.p7s"));
	assert_int_equal(verify(fx.data, fpath("enc.p7s"), fx.ca, &r, &err),
	    -1);
	assert_int_equal(r.verdict, HD_V_USAGE);
	assert_non_null(strstr(err.msg, "digitalSignature"));

	soft_sign(&tls, CMS_DETACHED, fpath("tls.p7s"));
	assert_int_equal(verify(fx.data, fpath("tls.p7s"), fx.ca, &r, &err),
	    -1);
	assert_int_equal(r.verdict, HD_V_USAGE);
	assert_non_null(strstr(err.msg, "codeSigning"));
	assert_true(r.chain_ok == 1 && r.usage_ok == 0);
	assert_int_equal(hd_verify_file(fx.data, fpath("tls.p7s"), &o, &r,
	    &err), 0);

	soft_sign(&any, CMS_DETACHED, fpath("any.p7s"));
	assert_int_equal(verify(fx.data, fpath("any.p7s"), fx.ca, &r, &err),
	    0);
}

static void
test_signature_with_content_is_not_detached(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	soft_sign(NULL, 0, fpath("attached.p7s"));
	assert_int_equal(verify(fx.data, fpath("attached.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_NOT_DETACHED);
	assert_int_equal(err.code, HD_E_INPUT);
}

/* Made by `openssl cms -sign` (PEM and DER): verified here too. */
static void
test_signatures_by_the_openssl_command(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = tc_issue_key(&fx.root, k, NULL);
	char key[1024], crt[1024], der_out[1024], pem_out[1024];
	FILE *f = fopen(strcpy(key, fpath("soft.key")), "w");
	const char *der[] = { "openssl", "cms", "-sign", "-binary", "-md",
	    "sha512", "-in", fx.data, "-signer", strcpy(crt,
	    fpath("soft.pem")), "-inkey", key, "-outform", "DER", "-out",
	    strcpy(der_out, fpath("cli.p7s")), NULL };
	const char *pem[] = { "openssl", "cms", "-sign", "-binary", "-in",
	    fx.data, "-signer", crt, "-inkey", key, "-outform", "PEM", "-out",
	    strcpy(pem_out, fpath("cli.pem")), NULL };
	struct hd_verify_result r;
	struct hd_err err;
	char out[4096];

	(void)state;
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL),
	    1);
	fclose(f);
	assert_int_equal(tc_write_pem(crt, x), 0);
	if (tc_run(der, out, sizeof(out)) != 0 ||
	    tc_run(pem, out, sizeof(out)) != 0)
		fail_msg("openssl cms -sign: %s", out);
	if (verify(fx.data, der_out, fx.ca, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(r.md, "sha512");
	if (verify(fx.data, pem_out, fx.ca, &r, &err) != 0)
		fail_msg("%s", err.msg);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* The signer's certificate left out (-nocerts): found in the CA file if
 * it is there, else the signature cannot be trusted. */
static void
test_signer_certificate_not_included(void **state)
{
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	soft_sign(NULL, CMS_DETACHED | CMS_NOCERTS, fpath("nocerts.p7s"));
	assert_int_equal(verify(fx.data, fpath("nocerts.p7s"), fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_UNTRUSTED);
	assert_non_null(strstr(err.msg, "neither in the signature nor"));
}

static int
cancel_at_start(void *arg, uint64_t done, uint64_t total)
{
	(void)done;
	*(uint64_t *)arg = total;
	return 1;
}

static void
test_progress_cancels(void **state)
{
	uint64_t total = 0;
	struct hd_verify_opts o = { .cafile = fx.ca,
	    .progress = cancel_at_start, .arg = &total };
	struct hd_verify_result r;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_verify_file(fx.data, fx.sig, &o, &r, &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	assert_int_equal(r.verdict, HD_V_ERROR);
	assert_true(total == 23);
	assert_int_equal(verify(fpath("no-such-data"), fx.sig, fx.ca, &r,
	    &err), -1);
	assert_int_equal(r.verdict, HD_V_ERROR);
	assert_int_equal(err.code, HD_E_INPUT);
}

static void
test_every_verdict_has_a_name(void **state)
{
	(void)state;
	for (int v = 0; v < HD_V__COUNT; v++)
		assert_string_not_equal(hd_verdict_name((enum hd_verdict)v),
		    "?");
	assert_string_equal(hd_verdict_name(HD_V__COUNT), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_signature_reports_the_signer),
		cmocka_unit_test(test_tampered_file),
		cmocka_unit_test(test_tampered_signature_value),
		cmocka_unit_test(test_tampered_signed_attribute),
		cmocka_unit_test(test_truncated_signature_is_corrupt),
		cmocka_unit_test(test_foreign_files_are_not_cms),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_expired_signer),
		cmocka_unit_test(test_certificate_not_for_signing),
		cmocka_unit_test(test_signature_with_content_is_not_detached),
		cmocka_unit_test(test_signatures_by_the_openssl_command),
		cmocka_unit_test(test_signer_certificate_not_included),
		cmocka_unit_test(test_progress_cancels),
		cmocka_unit_test(test_every_verdict_has_a_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
