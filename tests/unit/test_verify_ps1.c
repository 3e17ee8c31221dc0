/*
 * core/verify_ps1.c: every signature of a PowerShell script checked
 * against a CA file, and the verdict the same as osslsigncode verify's
 * on good, tampered, wrongly trusted, nested, damaged and truncated
 * scripts, ours and osslsigncode's own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib_sign.h"

static const char body[] =
    "# Grüße: a test script\r\n"
    "param([int]$Count = 3)\r\n"
    "1..$Count | ForEach-Object { Write-Output \"line $_\" }\r\n";

static const char *
script(const char *name)
{
	const char *f = tl_pe_path(name);

	unlink(f);
	tl_spit(f, body, strlen(body));
	return f;
}

static void
sign(const struct tl_signer *sg, const char *path, const char *md,
    int append)
{
	struct hd_der cert = { sg->der, sg->len };
	struct hd_sign_pe_opts o;
	struct hd_sign_pe_result res;
	struct hd_err err;

	memset(&o, 0, sizeof(o));
	o.md = md;
	o.append = append;
	if (hd_sign_ps1(TS.s, &sg->key, &cert, &TS.inter, 1, path, &o, &res,
	    &err) == -1)
		fail_msg("hd_sign_ps1 %s: %s", path, err.msg);
}

/* hd_verify_ps1's reports for path; n of them expected. */
static struct hd_sig_report *
verify(const char *path, const char *ca, size_t want)
{
	struct hd_sig_report *r;
	struct hd_err err;
	size_t n, i;

	if (hd_verify_ps1(path, ca, &r, &n, NULL, NULL, &err) == -1)
		fail_msg("hd_verify_ps1 %s: %s", path, err.msg);
	for (i = 0; i < n; i++)
		print_message("  #%u %s %s %s: %s\n", r[i].index,
		    hd_sig_state_name(r[i].state), r[i].md, r[i].sha1,
		    r[i].result);
	assert_int_equal(n, want);
	return r;
}

static void
assert_has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("expected '%s' in:\n%s", what, text);
}

static int
ossl(const char *path, const char *ca, char *text, size_t len)
{
	return tl_ossl_verify_ca(path, ca, text, len);
}

static void
test_verify_ps1_agrees_on_a_good_script(void **state)
{
	const char *f = script("good.ps1");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_string_equal(r[0].sha1, TS.rsa.sha1);
	assert_string_equal(r[0].md, "SHA256");
	assert_has(r[0].subject, "CN=hsmdesk Test Signer rsa");
	assert_has(r[0].result, "CN=hsmdesk Test Root");
	free(r);
	assert_int_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "Signature verification: ok");
}

/* One character of the script changed after signing. */
static void
test_verify_ps1_agrees_on_a_tampered_script(void **state)
{
	const char *f = script("tampered.ps1");
	struct hd_sig_report *r;
	char text[16384];
	unsigned char *b;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.ec, f, "sha256", 0);
	b = tl_slurp(f, &n, 0);
	b[strlen(body) - 5] = 'X';	/* "line $_" -> "linX $_" */
	tl_spit(f, b, n);
	free(b);
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].state, HD_SIG_FILE_CHANGED);
	assert_has(r[0].result, "changed after it was signed");
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "MISMATCH");
}

static void
test_verify_ps1_agrees_on_a_wrong_ca(void **state)
{
	const char *f = script("wrong-ca.ps1");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha384", 0);
	r = verify(f, TS.other_root, 1);
	assert_int_equal(r[0].state, HD_SIG_UNTRUSTED);
	assert_has(r[0].result, "chain does not verify");
	free(r);
	assert_int_not_equal(ossl(f, TS.other_root, text, sizeof(text)), 0);
	assert_null(strstr(text, "Signature verification: ok"));
}

static void
test_verify_ps1_reports_nested_signatures(void **state)
{
	const char *f = script("nested.ps1");
	struct hd_sig_report *r;
	char text[32768];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	sign(&TS.ec, f, "sha512", 1);
	r = verify(f, TS.root, 2);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_int_equal(r[1].state, HD_SIG_OK);
	assert_int_equal(r[1].index, 1);
	assert_string_equal(r[1].md, "SHA512");
	assert_string_equal(r[1].sha1, TS.ec.sha1);
	free(r);
	assert_int_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "Number of verified signatures: 2");
}

/* osslsigncode's signature, checked by us with its CA. */
static void
test_verify_ps1_accepts_osslsigncode_signatures(void **state)
{
	const char *f = tl_pe_path("by-ossl.ps1");
	struct hd_sig_report *r;

	(void)state;
	TL_NEED_SIGN();
	tl_ossl_sign(script("to-sign.ps1"), f, "sha256");
	r = verify(f, TP.cert, 1);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_has(r[0].subject, "hsmdesk-test");
	free(r);
}

/* Damaged and truncated blocks are one MALFORMED report, no crash. */
static void
test_verify_ps1_reports_a_damaged_block(void **state)
{
	const char *f = script("damaged.ps1");
	const char *cut = tl_pe_path("cut.ps1");
	struct hd_sig_report *r;
	char text[16384];
	unsigned char *b;
	size_t n, at;

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	b = tl_slurp(f, &n, 0);
	for (at = strlen(body) + 40; at < n; at += 397) {
		unlink(cut);
		tl_spit(cut, b, at);
		r = verify(cut, TS.root, 1);
		assert_int_equal(r[0].state, HD_SIG_MALFORMED);
		assert_has(r[0].result, "the signature block is damaged");
		free(r);
	}
	assert_int_not_equal(ossl(cut, TS.root, text, sizeof(text)), 0);
	/* a flipped bit in the middle of the base64 */
	b[n - 300] = b[n - 300] == 'A' ? 'B' : 'A';
	tl_spit(f, b, n);
	free(b);
	r = verify(f, TS.root, 1);
	assert_int_not_equal(r[0].state, HD_SIG_OK);
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
}

static void
test_verify_ps1_unsigned_and_unreadable(void **state)
{
	const char *f = script("unsigned.ps1");
	const char *bin = tl_pe_path("bin.ps1");
	struct hd_sig_report *r;
	struct hd_err err;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(hd_verify_ps1(f, TS.root, &r, &n, NULL, NULL, &err),
	    0);
	assert_int_equal(n, 0);
	assert_null(r);
	tl_spit(bin, "\x01\x02\xff\x00", 4);
	assert_int_equal(hd_verify_ps1(bin, TS.root, &r, &n, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_has(err.msg, "not valid UTF-8 text");
	assert_int_equal(hd_verify_ps1(tl_pe_path("missing.ps1"), TS.root, &r,
	    &n, NULL, NULL, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_verify_ps1_agrees_on_a_good_script),
		T(test_verify_ps1_agrees_on_a_tampered_script),
		T(test_verify_ps1_agrees_on_a_wrong_ca),
		T(test_verify_ps1_reports_nested_signatures),
		T(test_verify_ps1_accepts_osslsigncode_signatures),
		T(test_verify_ps1_reports_a_damaged_block),
		T(test_verify_ps1_unsigned_and_unreadable),
	};

	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
