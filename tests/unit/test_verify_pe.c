/*
 * core/verify_pe.c: every signature of a PE file checked against a CA
 * file, and the verdict the same as osslsigncode verify's on good,
 * tampered, re-signed, broken and wrongly trusted files, ours and
 * osslsigncode's own.
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
	if (hd_sign_pe(TS.s, &sg->key, &cert, &TS.inter, 1, path, &o, &res,
	    &err) == -1)
		fail_msg("hd_sign_pe %s: %s", path, err.msg);
}

/* hd_verify_pe's reports for path; n of them expected. */
static struct hd_sig_report *
verify(const char *path, const char *ca, size_t want)
{
	struct hd_sig_report *r;
	struct hd_err err;
	size_t n, i;

	if (hd_verify_pe(path, ca, &r, &n, NULL, NULL, &err) == -1)
		fail_msg("hd_verify_pe %s: %s", path, err.msg);
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

/* osslsigncode's verdict on path with ca: 0 good, else its exit status. */
static int
ossl(const char *path, const char *ca, char *text, size_t len)
{
	return tl_ossl_verify_ca(path, ca, text, len);
}

/* Flip one bit of the byte at off. */
static void
flip(const char *path, uint64_t off)
{
	unsigned char *b;
	size_t n;

	b = tl_slurp(path, &n, 0);
	assert_true(off < n);
	b[off] ^= 0x10;
	tl_spit(path, b, n);
	free(b);
}

/* The middle of the first section with data: code, not headers. */
static uint64_t
section_byte(const char *path)
{
	struct hd_pe pe;
	struct hd_err err;
	uint64_t off = 0;
	unsigned i;

	assert_int_equal(hd_pe_open(&pe, path, &err), 0);
	for (i = 0; i < pe.nsect && off == 0; i++)
		if (pe.sect[i].raw_size > 0)
			off = pe.sect[i].raw_off + pe.sect[i].raw_size / 2;
	hd_pe_close(&pe);
	assert_true(off > 0);
	return off;
}

static void
test_verify_pe_agrees_on_a_good_file(void **state)
{
	const char *f = tl_copy(TP.exe64, "good.exe");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].index, 0);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_string_equal(r[0].sha1, TS.rsa.sha1);
	assert_string_equal(r[0].md, "SHA256");
	assert_has(r[0].subject, "CN=hsmdesk Test Signer rsa");
	assert_has(r[0].result, "valid");
	assert_has(r[0].result, "CN=hsmdesk Test Root");
	free(r);
	assert_int_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "Signature verification: ok");
}

static void
test_verify_pe_agrees_on_a_tampered_file(void **state)
{
	const char *f = tl_copy(TP.exe32, "tampered.exe");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.ec, f, "sha384", 0);
	flip(f, section_byte(f));
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].state, HD_SIG_FILE_CHANGED);
	assert_string_equal(r[0].md, "SHA384");
	assert_string_equal(r[0].sha1, TS.ec.sha1);
	assert_has(r[0].result, "changed after it was signed");
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "MISMATCH");
	assert_has(text, "Signature verification: failed");
}

static void
test_verify_pe_agrees_on_the_wrong_ca(void **state)
{
	const char *f = tl_copy(TP.dll64, "wrong-ca.dll");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	r = verify(f, TS.other_root, 1);
	assert_int_equal(r[0].state, HD_SIG_UNTRUSTED);
	assert_string_equal(r[0].sha1, TS.rsa.sha1);
	assert_has(r[0].result, "unable to get local issuer certificate");
	free(r);
	assert_int_not_equal(ossl(f, TS.other_root, text, sizeof(text)), 0);
	assert_has(text, "unable to get local issuer certificate");
	assert_has(text, "Signature verification: failed");
}

static void
test_verify_pe_checks_every_nested_signature(void **state)
{
	const char *f = tl_copy(TP.tail, "nested.exe");
	struct hd_sig_report *r;
	char text[32768];

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	sign(&TS.ec, f, "sha384", 1);
	r = verify(f, TS.root, 2);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_int_equal(r[1].state, HD_SIG_OK);
	assert_int_equal(r[1].index, 1);
	assert_string_equal(r[0].md, "SHA256");
	assert_string_equal(r[1].md, "SHA384");
	assert_string_equal(r[0].sha1, TS.rsa.sha1);
	assert_string_equal(r[1].sha1, TS.ec.sha1);
	free(r);
	assert_int_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "Number of verified signatures: 2");

	/* a changed file fails both, for both verifiers */
	flip(f, section_byte(f));
	r = verify(f, TS.root, 2);
	assert_int_equal(r[0].state, HD_SIG_FILE_CHANGED);
	assert_int_equal(r[1].state, HD_SIG_FILE_CHANGED);
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "MISMATCH");
}

/* A signature osslsigncode made, nested one included, reads the same. */
static void
test_verify_pe_reads_osslsigncode_signatures(void **state)
{
	const char *f = tl_pe_path("theirs.exe");
	const char *n = tl_pe_path("theirs-nested.exe");
	struct hd_sig_report *r;
	char sha1[41], text[32768];

	(void)state;
	TL_NEED_SIGN();
	tl_ossl_sign(TP.exe64, f, "sha256");
	tl_thumbprint(TP.cert, "PEM", sha1);
	r = verify(f, TP.cert, 1);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_string_equal(r[0].sha1, sha1);
	assert_has(r[0].subject, "CN=hsmdesk-test");
	free(r);
	unlink(n);
	assert_int_equal(tl_run("osslsigncode sign -nest -certs '%s' -key '%s' "
	    "-h sha512 -in '%s' -out '%s'", TP.cert, TP.key, f, n), 0);
	r = verify(n, TP.cert, 2);
	assert_int_equal(r[0].state, HD_SIG_OK);
	assert_int_equal(r[1].state, HD_SIG_OK);
	assert_string_equal(r[1].md, "SHA512");
	free(r);
	assert_int_equal(ossl(n, TP.cert, text, sizeof(text)), 0);
	assert_has(text, "Number of verified signatures: 2");
}

/* One bit of the RSA signature value, near the end of the PKCS#7. */
static void
test_verify_pe_agrees_on_a_broken_signature(void **state)
{
	const char *f = tl_copy(TP.exe32, "broken-sig.exe");
	unsigned char *der;
	struct hd_sig_report *r;
	struct hd_pe pe;
	struct hd_err err;
	char text[16384];
	uint64_t off;
	size_t len;

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.rsa, f, "sha256", 0);
	assert_int_equal(hd_pe_open(&pe, f, &err), 0);
	assert_int_equal(hd_pe_signature(&pe, &der, &len, &err), 0);
	off = (uint64_t)pe.cert_off + 8 + len - 20;
	hd_pe_close(&pe);
	free(der);
	flip(f, off);
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].state, HD_SIG_BAD);
	assert_has(r[0].result, "does not verify with the signer's "
	    "certificate");
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "Signature verification: failed");
}

/* A TLS server certificate from the same CA does not sign code. */
static void
test_verify_pe_agrees_on_a_certificate_not_for_code_signing(void **state)
{
	const char *in = tl_copy(TP.exe32, "tls-in.exe");
	const char *f = tl_pe_path("tls-signed.exe");
	const char *dir = tl_pe_path(".");
	struct hd_sig_report *r;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(tl_run("cd '%s' && openssl req -new -config ca.cnf "
	    "-newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "
	    "/CN=www.example.com && openssl x509 -req -in tls.csr -CA "
	    "root.pem -CAkey root.key -CAcreateserial -extfile ca.cnf "
	    "-extensions v3_tls -days 3 -out tls.pem", dir), 0);
	unlink(f);
	assert_int_equal(tl_run("cd '%s' && osslsigncode sign -certs tls.pem "
	    "-key tls.key -h sha256 -in '%s' -out '%s'", dir, in, f), 0);
	r = verify(f, TS.root, 1);
	assert_int_equal(r[0].state, HD_SIG_UNTRUSTED);
	assert_has(r[0].result, "not for code signing");
	free(r);
	assert_int_not_equal(ossl(f, TS.root, text, sizeof(text)), 0);
	assert_has(text, "XKU_CODE_SIGN");
}

static void
test_verify_pe_unsigned_file_has_no_signatures(void **state)
{
	struct hd_sig_report *r;
	struct hd_err err;
	size_t n = 99;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(hd_verify_pe(TP.exe32, TS.root, &r, &n, NULL, NULL,
	    &err), 0);
	assert_int_equal(n, 0);
	assert_null(r);
}

static void
test_verify_pe_unreadable_ca_file_is_an_error(void **state)
{
	const char *f = tl_copy(TP.exe32, "no-ca.exe");
	const char *ca = tl_pe_path("no-such-ca.pem");
	struct hd_sig_report *r;
	struct hd_err err;
	char want[800];
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	sign(&TS.ec, f, "sha256", 0);
	assert_int_equal(hd_verify_pe(f, ca, &r, &n, NULL, NULL, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: cannot load CA certificates", ca);
	assert_string_equal(err.msg, want);
	assert_null(r);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_verify_pe_agrees_on_a_good_file),
		T(test_verify_pe_agrees_on_a_tampered_file),
		T(test_verify_pe_agrees_on_the_wrong_ca),
		T(test_verify_pe_checks_every_nested_signature),
		T(test_verify_pe_reads_osslsigncode_signatures),
		T(test_verify_pe_agrees_on_a_broken_signature),
		T(test_verify_pe_agrees_on_a_certificate_not_for_code_signing),
		T(test_verify_pe_unsigned_file_has_no_signatures),
		T(test_verify_pe_unreadable_ca_file_is_an_error),
	};

	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
