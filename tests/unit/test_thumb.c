/*
 * core/thumb.c: a thumbprint pasted from anywhere Windows or OpenSSL
 * shows one comes out as PowerShell prints it; anything that is not a
 * thumbprint is refused naming the character.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hsmdesk.h"

#define T40 "A8E1C7E1F6B598F5B25DC1970868D810CA8CC7E3"

static void
norm_ok(const char *in, size_t max, const char *want)
{
	char out[65];
	struct hd_err err;

	hd_err_clear(&err);
	if (hd_thumb_normalize(in, max, out, sizeof(out), &err) != 0)
		fail_msg("'%s' refused: %s", in, err.msg);
	assert_string_equal(out, want);
}

static void
norm_bad(const char *in, size_t max, const char *msg_part)
{
	char out[65];
	struct hd_err err;

	assert_int_equal(hd_thumb_normalize(in, max, out, sizeof(out), &err),
	    -1);
	assert_int_equal(err.code, HD_E_USAGE);
	if (strstr(err.msg, msg_part) == NULL)
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void
test_thumb_powershell_form_is_kept(void **state)
{
	(void)state;
	norm_ok(T40, 40, T40);
}

static void
test_thumb_lower_case_with_spaces_as_windows_dialog_shows(void **state)
{
	(void)state;
	norm_ok("a8 e1 c7 e1 f6 b5 98 f5 b2 5d c1 97 08 68 d8 10 ca 8c c7 e3",
	    40, T40);
}

static void
test_thumb_openssl_colons(void **state)
{
	(void)state;
	norm_ok("A8:E1:C7:E1:F6:B5:98:F5:B2:5D:C1:97:08:68:D8:10:CA:8C:C7:E3",
	    40, T40);
}

static void
test_thumb_leading_lrm_from_windows_copy(void **state)
{
	(void)state;
	/* what the certificate dialog's Thumbprint field gives on copy */
	norm_ok("\xe2\x80\x8e" "a8 e1 c7 e1 f6 b5 98 f5 b2 5d c1 97 08 68 "
	    "d8 10 ca 8c c7 e3", 40, T40);
}

static void
test_thumb_every_invisible_mark_is_dropped(void **state)
{
	static const char *const marks[] = {
		"\xe2\x80\x8e", "\xe2\x80\x8f",	/* U+200E, U+200F */
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",
		"\xe2\x80\xad", "\xe2\x80\xae",	/* U+202A..U+202E */
		"\xef\xbb\xbf",				/* U+FEFF */
		"\xc2\xa0",				/* U+00A0 */
		"\xe2\x80\x8b", "\xe2\x81\xa0", "\xe2\x80\xaf",
	};
	char in[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		snprintf(in, sizeof(in), "%sA8E1%sC7E1%s", marks[i], marks[i],
		    marks[i]);
		norm_ok(in, 40, "A8E1C7E1");
	}
}

static void
test_thumb_tabs_newlines_and_dashes(void **state)
{
	(void)state;
	norm_ok("\tA8-E1\r\nc7 e1\n", 40, "A8E1C7E1");
}

static void
test_thumb_prefix_is_accepted(void **state)
{
	(void)state;
	norm_ok("a8e1", 40, "A8E1");
	norm_ok("a", 40, "A");
}

static void
test_thumb_sha256_takes_64_digits(void **state)
{
	(void)state;
	norm_ok(T40 "0123456789abcdef01234567", 64,
	    T40 "0123456789ABCDEF01234567");
}

static void
test_thumb_refuses_non_hex_naming_it(void **state)
{
	(void)state;
	norm_bad("A8E1G7", 40, "'G' at position 5");
}

static void
test_thumb_refuses_other_unicode_naming_it(void **state)
{
	(void)state;
	norm_bad("A8\xe2\x9c\x93" "E1", 40, "U+2713 at position 3");
}

static void
test_thumb_refuses_broken_utf8(void **state)
{
	(void)state;
	norm_bad("A8\xe2\x28" "E1", 40, "byte 0xe2");
}

static void
test_thumb_refuses_too_many_digits(void **state)
{
	(void)state;
	norm_bad(T40 "0", 40, "more than 40 hex digits");
}

static void
test_thumb_refuses_marks_only(void **state)
{
	(void)state;
	norm_bad("\xe2\x80\x8e  ", 40, "no hex digits");
	norm_bad("", 40, "no hex digits");
}

static void
test_fingerprint_groups_of_four(void **state)
{
	char out[100];

	(void)state;
	assert_int_equal(hd_fingerprint_group("0D00FF2AA5E3", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "0D00 FF2A A5E3");
	assert_int_equal(hd_fingerprint_group("0D00FF2AA5E3", out, 10), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thumb_powershell_form_is_kept),
		cmocka_unit_test(
		    test_thumb_lower_case_with_spaces_as_windows_dialog_shows),
		cmocka_unit_test(test_thumb_openssl_colons),
		cmocka_unit_test(test_thumb_leading_lrm_from_windows_copy),
		cmocka_unit_test(test_thumb_every_invisible_mark_is_dropped),
		cmocka_unit_test(test_thumb_tabs_newlines_and_dashes),
		cmocka_unit_test(test_thumb_prefix_is_accepted),
		cmocka_unit_test(test_thumb_sha256_takes_64_digits),
		cmocka_unit_test(test_thumb_refuses_non_hex_naming_it),
		cmocka_unit_test(test_thumb_refuses_other_unicode_naming_it),
		cmocka_unit_test(test_thumb_refuses_broken_utf8),
		cmocka_unit_test(test_thumb_refuses_too_many_digits),
		cmocka_unit_test(test_thumb_refuses_marks_only),
		cmocka_unit_test(test_fingerprint_groups_of_four),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
