/* core/err.c: PKCS#11 return values in plain words, codes and exit status. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "internal.h"

/* hd_err_ckr for one CKR at login on token 'x'; returns the code. */
static enum hd_code
ckr_at_login(unsigned long ckr, struct hd_err *err)
{
	assert_int_equal(hd_err_ckr(err, ckr, "login", "token 'x'"), -1);
	assert_int_equal(err->ckr, ckr);
	return err->code;
}

static void
test_err_pin_incorrect_names_token_step_and_hint(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_PIN_INCORRECT, &err), HD_E_PIN);
	assert_string_equal(err.msg, "token 'x': login: PIN incorrect");
	assert_non_null(strstr(err.hint, "repeated failures lock"));
	assert_int_equal(hd_code_exit(err.code), 1);
}

static void
test_err_without_step_names_only_the_object(void **state)
{
	struct hd_err err;

	(void)state;
	hd_err_ckr(&err, CKR_PIN_INCORRECT, NULL, "token 'x'");
	assert_string_equal(err.msg, "token 'x': PIN incorrect");
}

static void
test_err_pin_locked_says_locked_and_who_resets_it(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_PIN_LOCKED, &err), HD_E_PIN_LOCKED);
	assert_string_equal(err.msg, "token 'x': login: PIN locked");
	assert_non_null(strstr(err.hint, "reset-pin"));
	assert_int_equal(hd_code_exit(err.code), 1);
}

static void
test_err_pin_expired_says_change_it(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_PIN_EXPIRED, &err),
	    HD_E_PIN_EXPIRED);
	assert_string_equal(err.msg, "token 'x': login: the PIN has expired "
	    "and must be changed");
	assert_non_null(strstr(err.hint, "change-pin"));
}

static void
test_err_pin_len_range_is_a_policy_error(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_PIN_LEN_RANGE, &err),
	    HD_E_PIN_POLICY);
	assert_string_equal(err.msg,
	    "token 'x': login: PIN length out of range");
}

static void
test_err_token_not_present_says_insert_it(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_TOKEN_NOT_PRESENT, &err),
	    HD_E_DEVICE);
	assert_string_equal(err.msg,
	    "token 'x': login: the token is not present");
	assert_string_equal(err.hint, "insert or reconnect the token");
}

static void
test_err_device_removed_says_reconnect(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_DEVICE_REMOVED, &err), HD_E_DEVICE);
	assert_string_equal(err.msg, "token 'x': login: the token was removed");
	assert_non_null(strstr(err.hint, "reconnect the token"));
}

static void
test_err_session_closed_says_start_again(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_SESSION_CLOSED, &err), HD_E_DEVICE);
	assert_string_equal(err.msg,
	    "token 'x': login: the session was closed");
	assert_string_equal(err.hint, "start the operation again");
}

static void
test_err_function_not_supported_points_to_the_docs(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_FUNCTION_NOT_SUPPORTED, &err),
	    HD_E_TOKEN);
	assert_string_equal(err.msg, "token 'x': login: the module does not "
	    "support this function");
	assert_non_null(strstr(err.hint, "documentation"));
}

static void
test_err_template_inconsistent_says_template_refused(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_TEMPLATE_INCONSISTENT, &err),
	    HD_E_TOKEN);
	assert_string_equal(err.msg, "token 'x': login: the token refused the "
	    "attribute template");
	assert_string_equal(err.hint, "");
}

static void
test_err_user_not_logged_in_says_log_in_first(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(CKR_USER_NOT_LOGGED_IN, &err),
	    HD_E_TOKEN);
	assert_string_equal(err.msg, "token 'x': login: user not logged in");
	assert_string_equal(err.hint, "log in first");
}

static void
test_err_vendor_ckr_shows_hex_value(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(0x80000123UL, &err), HD_E_TOKEN);
	assert_string_equal(err.msg,
	    "token 'x': login: the module returned vendor error 0x80000123");
	assert_non_null(strstr(err.hint, "vendor's documentation"));
	assert_non_null(strstr(err.hint, "quorum (M of N)"));
	assert_string_equal(hd_ckr_words(0x80000123UL),
	    "the module returned an unknown error");
	assert_string_equal(hd_ckr_name(0x80000123UL), "CKR_VENDOR_DEFINED");
}

/* Luna's cryptoki_v2.h: CKR_USER_LOCKED_OUT = CKR_VENDOR_DEFINED + 7. */
static void
test_err_luna_user_locked_out_is_named(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(ckr_at_login(0x80000007UL, &err), HD_E_PIN_LOCKED);
	assert_string_equal(err.msg, "token 'x': login: the user is locked "
	    "out after too many failed logins");
	assert_non_null(strstr(err.hint, "security officer must unlock"));
	assert_string_equal(hd_ckr_name(0x80000007UL),
	    "CKR_USER_LOCKED_OUT on Luna");
	assert_int_equal(hd_code_exit(err.code), 1);
}

static void
test_err_ckr_replaces_previous_hint(void **state)
{
	struct hd_err err;

	(void)state;
	hd_err_ckr(&err, CKR_PIN_INCORRECT, "login", "token 'x'");
	hd_err_ckr(&err, CKR_ARGUMENTS_BAD, "login", "token 'x'");
	assert_string_equal(err.hint, "");
}

static void
test_err_exit_status_is_1_for_pin_errors(void **state)
{
	(void)state;
	assert_int_equal(hd_code_exit(HD_E_PIN), 1);
	assert_int_equal(hd_code_exit(HD_E_PIN_LOCKED), 1);
	assert_int_equal(hd_code_exit(HD_E_PIN_EXPIRED), 1);
}

static void
test_err_exit_status_is_2_for_bad_input(void **state)
{
	(void)state;
	assert_int_equal(hd_code_exit(HD_E_USAGE), 2);
	assert_int_equal(hd_code_exit(HD_E_INPUT), 2);
	assert_int_equal(hd_code_exit(HD_E_MODULE), 2);
	assert_int_equal(hd_code_exit(HD_E_NO_TOKEN), 2);
}

static void
test_err_exit_status_is_130_when_cancelled(void **state)
{
	(void)state;
	assert_int_equal(hd_code_exit(HD_E_CANCELLED), 130);
	assert_int_equal(hd_code_exit(HD_OK), 0);
}

static void
test_err_exit_status_of_unknown_code_is_1(void **state)
{
	(void)state;
	assert_int_equal(hd_code_exit(HD_E__COUNT), 1);
	assert_string_equal(hd_code_name(HD_E__COUNT), "?");
}

static void
test_err_every_code_has_a_name(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < HD_E__COUNT; c++) {
		assert_non_null(hd_code_name(c));
		assert_true(hd_code_name(c)[0] != '\0');
	}
	assert_string_equal(hd_code_name(HD_E_PIN), "pin-incorrect");
}

static void
test_err_ckr_name_gives_spec_names(void **state)
{
	(void)state;
	assert_string_equal(hd_ckr_name(CKR_PIN_INCORRECT),
	    "CKR_PIN_INCORRECT");
	assert_string_equal(hd_ckr_name(CKR_DEVICE_REMOVED),
	    "CKR_DEVICE_REMOVED");
	assert_string_equal(hd_ckr_name(0x80000123UL), "CKR_VENDOR_DEFINED");
	assert_string_equal(hd_ckr_name(0x7ffUL), "CKR_?");
}

static void
test_err_set_formats_message_and_clears_hint(void **state)
{
	struct hd_err err;

	(void)state;
	hd_err_hint(&err, "stale");
	assert_int_equal(hd_err_set(&err, HD_E_IO, 0, "%s: %d", "f.pem", 7),
	    -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_string_equal(err.msg, "f.pem: 7");
	assert_string_equal(err.hint, "");
	assert_int_equal(hd_err_set(NULL, HD_E_IO, 0, "x"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_err_pin_incorrect_names_token_step_and_hint),
		cmocka_unit_test(test_err_without_step_names_only_the_object),
		cmocka_unit_test(
		    test_err_pin_locked_says_locked_and_who_resets_it),
		cmocka_unit_test(test_err_pin_expired_says_change_it),
		cmocka_unit_test(test_err_pin_len_range_is_a_policy_error),
		cmocka_unit_test(test_err_token_not_present_says_insert_it),
		cmocka_unit_test(test_err_device_removed_says_reconnect),
		cmocka_unit_test(test_err_session_closed_says_start_again),
		cmocka_unit_test(
		    test_err_function_not_supported_points_to_the_docs),
		cmocka_unit_test(
		    test_err_template_inconsistent_says_template_refused),
		cmocka_unit_test(test_err_user_not_logged_in_says_log_in_first),
		cmocka_unit_test(test_err_vendor_ckr_shows_hex_value),
		cmocka_unit_test(test_err_ckr_replaces_previous_hint),
		cmocka_unit_test(test_err_luna_user_locked_out_is_named),
		cmocka_unit_test(test_err_exit_status_is_1_for_pin_errors),
		cmocka_unit_test(test_err_exit_status_is_2_for_bad_input),
		cmocka_unit_test(test_err_exit_status_is_130_when_cancelled),
		cmocka_unit_test(test_err_exit_status_of_unknown_code_is_1),
		cmocka_unit_test(test_err_every_code_has_a_name),
		cmocka_unit_test(test_err_ckr_name_gives_spec_names),
		cmocka_unit_test(test_err_set_formats_message_and_clears_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
