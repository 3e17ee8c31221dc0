/*
 * core/pe_write.c: the signed file.  osslsigncode's signature embedded
 * by hd_pe_write_signed must give osslsigncode's own file byte for byte,
 * which it verifies; failures leave nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pe.h"
#include "testlib_pe.h"

static int
cancel_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)total;
	return done > 0;
}

/* ---- writing ------------------------------------------------------------ */

static void
write_signed(const char *in, const unsigned char *der, size_t len,
    const struct hd_pe_digest *expect, const char *out, int replace)
{
	struct hd_pe pe;
	struct hd_err err;

	assert_int_equal(hd_pe_open(&pe, in, &err), 0);
	if (hd_pe_write_signed(&pe, der, len, expect, out, replace, NULL,
	    NULL, &err) == -1)
		fail_msg("%s", err.msg);
	hd_pe_close(&pe);
}

/* osslsigncode's signature re-embedded by us gives its file, which it
 * verifies, checksum included. */
static void
check_round_trip(const char *file)
{
	const char *ref = tl_pe_path("ossl-signed.exe");
	const char *out = tl_pe_path("ours.exe");
	struct hd_pe_digest dg;
	unsigned char *der;
	char text[8192], line[64];
	struct hd_pe pe;
	struct hd_err err;
	size_t n;

	tl_ossl_sign(file, ref, "sha256");
	der = tl_ossl_sig(ref, &n);
	tl_pe_digest(file, EVP_sha256(), &dg);
	unlink(out);
	write_signed(file, der, n, &dg, out, 0);
	free(der);
	assert_true(tl_same_file(out, ref));
	assert_int_equal(tl_ossl_verify(out, text, sizeof(text)), 0);
	assert_int_equal(hd_pe_open(&pe, out, &err), 0);
	snprintf(line, sizeof(line), "PE checksum   : %08X", pe.checksum);
	hd_pe_close(&pe);
	assert_non_null(strstr(text, line));
	assert_null(strstr(text, "MISMATCH"));
	assert_null(strstr(text, "invalid PE checksum"));
}

static void
test_pe_write_round_trip_matches_osslsigncode(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_round_trip(TP.exe64);
	check_round_trip(TP.exe32);
	check_round_trip(TP.dll64);
	check_round_trip(TP.tail);
}

static void
test_pe_write_replaces_an_existing_signature(void **state)
{
	const char *s256 = tl_pe_path("s256.exe");
	const char *s384 = tl_pe_path("s384.exe");
	const char *out = tl_pe_path("resigned.exe");
	unsigned char *der;
	char text[8192];
	size_t n;

	(void)state;
	TL_NEED_PE();
	tl_ossl_sign(TP.exe64, s256, "sha256");
	tl_ossl_sign(TP.exe64, s384, "sha384");
	der = tl_ossl_sig(s384, &n);
	unlink(out);
	write_signed(s256, der, n, NULL, out, 0);
	assert_true(tl_same_file(out, s384));
	/* and in place, over the file being read */
	write_signed(s256, der, n, NULL, s256, 1);
	free(der);
	assert_true(tl_same_file(s256, s384));
	assert_int_equal(tl_ossl_verify(s256, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "Message digest algorithm  : SHA384"));
}

static int
count_entries(const char *dir)
{
	char cmd[800];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* Writing in signed into a fresh dir fails, leaving nothing there. */
static void
write_fails(const char *in, const struct hd_pe_digest *expect,
    const unsigned char *der, size_t len, hd_progress_fn progress,
    enum hd_code code, const char *what)
{
	const char *dir = tl_pe_path("out-dir");
	char out[800], want[1200];
	struct hd_pe pe;
	struct hd_err err;

	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(out, sizeof(out), "%s/signed.exe", dir);
	assert_int_equal(hd_pe_open(&pe, in, &err), 0);
	assert_int_equal(hd_pe_write_signed(&pe, der, len, expect, out, 1,
	    progress, NULL, &err), -1);
	hd_pe_close(&pe);
	assert_int_equal(err.code, code);
	snprintf(want, sizeof(want), what, code == HD_E_CANCELLED ? out : in);
	assert_string_equal(err.msg, want);
	assert_int_equal(count_entries(dir), 0);
}

static const unsigned char tiny_seq[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

static void
test_pe_write_refuses_a_file_changed_after_its_digest(void **state)
{
	const char *copy = tl_pe_path("changing.exe");
	struct hd_pe_digest dg;
	unsigned char *b;
	size_t n;

	(void)state;
	TL_NEED_PE();
	b = tl_slurp(TP.exe32, &n, 0);
	tl_spit(copy, b, n);
	tl_pe_digest(copy, EVP_sha256(), &dg);
	b[n / 2] ^= 1;			/* same size, one bit of code */
	tl_spit(copy, b, n);
	free(b);
	write_fails(copy, &dg, tiny_seq, sizeof(tiny_seq), NULL, HD_E_INPUT,
	    "%s: changed since its digest was computed; the signature would "
	    "not match it");
}

static void
test_pe_write_can_be_cancelled(void **state)
{
	(void)state;
	TL_NEED_PE();
	write_fails(TP.exe32, NULL, tiny_seq, sizeof(tiny_seq), cancel_progress,
	    HD_E_CANCELLED, "%s: cancelled; nothing was written");
}

static void
test_pe_write_refuses_what_is_not_der(void **state)
{
	static const unsigned char two[] = { 0x30, 0x00, 0x30, 0x00 };
	static const unsigned char indef[] = { 0x30, 0x80, 0x00, 0x00 };
	static const char what[] = "%s: the signature to embed is not one "
	    "DER-encoded PKCS#7 structure (%s bytes)";
	char want4[200], want0[200];

	(void)state;
	TL_NEED_PE();
	snprintf(want4, sizeof(want4), what, "%s", "4");
	snprintf(want0, sizeof(want0), what, "%s", "0");
	write_fails(TP.exe32, NULL, two, sizeof(two), NULL, HD_E_INPUT,
	    want4);
	write_fails(TP.exe32, NULL, indef, sizeof(indef), NULL, HD_E_INPUT,
	    want4);
	write_fails(TP.exe32, NULL, two, 0, NULL, HD_E_INPUT, want0);
}

static void
test_pe_write_keeps_an_existing_file_without_replace(void **state)
{
	const char *dir = tl_pe_path("kept-dir");
	char out[800], want[1200];
	unsigned char *b;
	struct hd_pe pe;
	struct hd_err err;
	size_t n;

	(void)state;
	TL_NEED_PE();
	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(out, sizeof(out), "%s/kept.exe", dir);
	tl_spit(out, "keep me\n", 8);
	assert_int_equal(hd_pe_open(&pe, TP.exe32, &err), 0);
	assert_int_equal(hd_pe_write_signed(&pe, tiny_seq, sizeof(tiny_seq),
	    NULL, out, 0, NULL, NULL, &err), -1);
	hd_pe_close(&pe);
	assert_int_equal(err.code, HD_E_USAGE);
	snprintf(want, sizeof(want), "%s: exists already", out);
	assert_string_equal(err.msg, want);
	b = tl_slurp(out, &n, 0);
	assert_int_equal(n, 8);
	assert_memory_equal(b, "keep me\n", 8);
	free(b);
	assert_int_equal(count_entries(dir), 1);
}

static void
test_pe_write_into_missing_dir_is_an_io_error(void **state)
{
	const char *out = tl_pe_path("no-such-dir/signed.exe");
	struct hd_pe pe;
	struct hd_err err;
	char want[800];

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_pe_open(&pe, TP.exe32, &err), 0);
	assert_int_equal(hd_pe_write_signed(&pe, tiny_seq, sizeof(tiny_seq),
	    NULL, out, 1, NULL, NULL, &err), -1);
	hd_pe_close(&pe);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot write: No such file or "
	    "directory", out);
	assert_string_equal(err.msg, want);
}

/* Our own table layout on a file of odd length, read back by us. */
static void
test_pe_write_pads_to_8_and_sets_the_directory(void **state)
{
	const char *out = tl_pe_path("tiny-signed.exe");
	struct hd_pe_digest before, after;
	unsigned char *der;
	struct hd_pe pe;
	struct hd_err err;
	struct stat st;
	size_t len;

	(void)state;
	TL_NEED_PE();
	assert_int_equal(stat(TP.tail, &st), 0);
	assert_true(st.st_size % 8 != 0);
	tl_pe_digest(TP.tail, EVP_sha256(), &before);
	unlink(out);
	write_signed(TP.tail, tiny_seq, sizeof(tiny_seq), &before, out, 0);
	assert_int_equal(hd_pe_open(&pe, out, &err), 0);
	assert_int_equal(pe.cert_off % 8, 0);
	assert_int_equal(pe.cert_off, ((uint64_t)st.st_size + 7) / 8 * 8);
	assert_int_equal(pe.cert_size, 16);	/* 8 + 5, padded */
	assert_int_equal(pe.size, pe.cert_off + 16);
	assert_int_equal(hd_pe_signature(&pe, &der, &len, &err), 0);
	assert_int_equal(len, sizeof(tiny_seq));
	assert_memory_equal(der, tiny_seq, len);
	free(der);
	assert_int_equal(hd_pe_digest(&pe, EVP_sha256(), &after, NULL, NULL,
	    &err), 0);
	assert_memory_equal(after.value, before.value, before.len);
	hd_pe_close(&pe);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pe_write_round_trip_matches_osslsigncode),
		T(test_pe_write_replaces_an_existing_signature),
		T(test_pe_write_refuses_a_file_changed_after_its_digest),
		T(test_pe_write_can_be_cancelled),
		T(test_pe_write_refuses_what_is_not_der),
		T(test_pe_write_keeps_an_existing_file_without_replace),
		T(test_pe_write_into_missing_dir_is_an_io_error),
		T(test_pe_write_pads_to_8_and_sets_the_directory),
	};

	return cmocka_run_group_tests(tests, tl_pe_setup, tl_pe_teardown);
}
