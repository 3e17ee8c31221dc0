/*
 * core/pe_hash.c: the Authenticode digest and the PE checksum, checked
 * against the digest osslsigncode puts in its signatures and the
 * checksums ld and osslsigncode write (testlib_pe.c builds the files).
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

/* ---- the digest against osslsigncode's -------------------------------- */

static void
check_digest(const char *file, const char *alg, const EVP_MD *md)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	struct hd_pe_digest plain, signed_dg;
	const char *out = tl_pe_path("ossl-signed.exe");
	size_t n;

	tl_ossl_sign(file, out, alg);
	n = tl_ossl_digest(out, want, sizeof(want));
	assert_int_equal(n, EVP_MD_get_size(md));
	tl_pe_digest(file, md, &plain);
	tl_pe_digest(out, md, &signed_dg);
	assert_int_equal(plain.len, n);
	assert_memory_equal(plain.value, want, n);
	assert_memory_equal(signed_dg.value, want, n);
	assert_ptr_equal(plain.md, md);
}

static void
test_pe_digest_matches_osslsigncode_sha256(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_digest(TP.exe64, "sha256", EVP_sha256());
	check_digest(TP.exe32, "sha256", EVP_sha256());
	check_digest(TP.dll64, "sha256", EVP_sha256());
	check_digest(TP.tail, "sha256", EVP_sha256());
}

static void
test_pe_digest_matches_osslsigncode_sha384_sha512(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_digest(TP.exe64, "sha384", EVP_sha384());
	check_digest(TP.dll64, "sha384", EVP_sha384());
	check_digest(TP.exe32, "sha512", EVP_sha512());
	check_digest(TP.tail, "sha512", EVP_sha512());
}

/* Patch one byte of a copy of file at off; its digest. */
static void
digest_patched(const char *file, uint64_t off, struct hd_pe_digest *dg)
{
	const char *copy = tl_pe_path("patched.exe");
	size_t n;
	unsigned char *b = tl_slurp(file, &n, 0);

	assert_true(off < n);
	b[off] ^= 0x5a;
	tl_spit(copy, b, n);
	free(b);
	tl_pe_digest(copy, EVP_sha256(), dg);
}

static void
test_pe_digest_skips_checksum_and_covers_appended_data(void **state)
{
	struct hd_pe_digest base, dg;
	struct hd_pe pe;
	struct hd_err err;

	(void)state;
	TL_NEED_PE();
	tl_pe_digest(TP.tail, EVP_sha256(), &base);
	assert_int_equal(hd_pe_open(&pe, TP.tail, &err), 0);
	hd_pe_close(&pe);
	digest_patched(TP.tail, pe.checksum_off + 3, &dg);
	assert_memory_equal(dg.value, base.value, base.len);
	digest_patched(TP.tail, pe.raw_end + 70000, &dg);
	assert_memory_not_equal(dg.value, base.value, base.len);
	digest_patched(TP.tail, pe.size - 1, &dg);
	assert_memory_not_equal(dg.value, base.value, base.len);
	digest_patched(TP.tail, pe.pe_off + 8, &dg);	/* TimeDateStamp */
	assert_memory_not_equal(dg.value, base.value, base.len);
}

static int
count_progress(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *seen = arg;

	assert_true(done <= total);
	seen[0]++;
	seen[1] = done;
	seen[2] = total;
	return 0;
}

static int
cancel_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)total;
	return done > 0;
}

static void
test_pe_digest_reports_progress_and_can_be_cancelled(void **state)
{
	uint64_t seen[3] = { 0, 0, 0 };
	struct hd_pe_digest dg;
	struct hd_pe pe;
	struct hd_err err;
	char want[700];

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_pe_open(&pe, TP.tail, &err), 0);
	assert_int_equal(hd_pe_digest(&pe, EVP_sha256(), &dg, count_progress,
	    seen, &err), 0);
	assert_true(seen[0] > 16);	/* 64 KiB a step */
	assert_int_equal(seen[1], pe.size);
	assert_int_equal(seen[2], pe.size);
	assert_int_equal(hd_pe_digest(&pe, EVP_sha256(), &dg, cancel_progress,
	    NULL, &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	snprintf(want, sizeof(want), "%s: digest cancelled", TP.tail);
	assert_string_equal(err.msg, want);
	hd_pe_close(&pe);
}

/* ---- the checksum ------------------------------------------------------- */

static void
test_pe_csum_by_hand(void **state)
{
	static const unsigned char a[] = { 1, 2, 3 };
	static const unsigned char b[] = { 0xff, 0xff, 0x01, 0x00 };
	struct hd_pe_csum c;

	(void)state;
	/* words 0x0201 + 0x0003 (odd last byte), then length 3 */
	hd_pe_csum_init(&c);
	hd_pe_csum_update(&c, a, 3);
	assert_int_equal(hd_pe_csum_final(&c), 0x0204 + 3);
	/* the same fed one byte at a time */
	hd_pe_csum_init(&c);
	hd_pe_csum_update(&c, a, 1);
	hd_pe_csum_update(&c, a + 1, 1);
	hd_pe_csum_update(&c, a + 2, 1);
	assert_int_equal(hd_pe_csum_final(&c), 0x0204 + 3);
	/* 0xffff + 0x0001 carries round to 0x0001 */
	hd_pe_csum_init(&c);
	hd_pe_csum_update(&c, b, 4);
	assert_int_equal(hd_pe_csum_final(&c), 0x0001 + 4);
	hd_pe_csum_init(&c);
	assert_int_equal(hd_pe_csum_final(&c), 0);
}

static void
test_pe_checksum_matches_osslsigncode_signed_files(void **state)
{
	const char *files[] = { TP.exe64, TP.exe32, TP.dll64, TP.tail };
	const char *out = tl_pe_path("ossl-signed.exe");
	struct hd_pe pe;
	struct hd_err err;
	uint32_t sum;
	size_t i;

	(void)state;
	TL_NEED_PE();
	for (i = 0; i < 4; i++) {
		tl_ossl_sign(files[i], out, "sha256");
		assert_int_equal(hd_pe_open(&pe, out, &err), 0);
		assert_true(pe.cert_size > 0);
		assert_int_equal(hd_pe_checksum(&pe, &sum, &err), 0);
		assert_int_equal(sum, pe.checksum);
		hd_pe_close(&pe);
	}
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pe_digest_matches_osslsigncode_sha256),
		T(test_pe_digest_matches_osslsigncode_sha384_sha512),
		T(test_pe_digest_skips_checksum_and_covers_appended_data),
		T(test_pe_digest_reports_progress_and_can_be_cancelled),
		T(test_pe_csum_by_hand),
		T(test_pe_checksum_matches_osslsigncode_signed_files),
	};

	return cmocka_run_group_tests(tests, tl_pe_setup, tl_pe_teardown);
}
