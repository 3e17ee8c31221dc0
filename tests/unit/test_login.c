/*
 * Login and PIN states SoftHSM2 never produces (few tries left, final try,
 * locked, to be changed, token pulled out), through tests/fakep11.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

static int
setup(void **state)
{
	static struct tl_env e;

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), "f") == -1)
		return -1;
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	unsetenv("HSMDESK_FAKEP11_FAULT");
	tl_env_free(*state);
	return 0;
}

/* Open the fault-injecting module with the given faults, token selected. */
static struct hd_session *
faulty(const char *faults)
{
	struct hd_err err;
	struct hd_session *s;

	setenv("HSMDESK_FAKEP11_FAULT", faults, 1);
	if ((s = hd_open(tl_fakep11(), &err)) == NULL ||
	    hd_token_select(s, "f", &err) == -1)
		fail_msg("%s: %s", faults, err.msg);
	return s;
}

static int
login_with(struct hd_session *s, const char *pin, struct hd_err *err)
{
	struct hd_pin *p = tl_pin(pin);
	int rc = hd_login(s, p, err);

	assert_int_equal(hd_pin_len(p), 0);
	hd_pin_free(p);
	return rc;
}

static void
test_count_low_is_shown_before_and_after_a_wrong_pin(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("pin-count-low");
	struct hd_token_info ti;
	char words[80];

	(void)state;
	assert_int_equal(hd_token_info(s, &ti, &err), 0);
	assert_true(ti.pin_count_low);
	hd_token_state_words(&ti, words, sizeof(words));
	assert_string_equal(words, "PIN tries low");
	assert_int_equal(login_with(s, "0000", &err), -1);
	assert_int_equal(err.code, HD_E_PIN);
	assert_non_null(strstr(err.hint, "few tries left"));
	assert_non_null(strstr(err.hint, "not retried"));
	assert_int_equal(login_with(s, TL_PIN, &err), 0);
	hd_close(s);
}

static void
test_final_try_warns_that_one_more_locks(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("pin-final-try");
	struct hd_token_info ti;
	char words[80];

	(void)state;
	assert_int_equal(hd_token_info(s, &ti, &err), 0);
	hd_token_state_words(&ti, words, sizeof(words));
	assert_non_null(strstr(words, "final PIN try"));
	assert_int_equal(login_with(s, "0000", &err), -1);
	assert_non_null(strstr(err.hint, "one more wrong PIN locks"));
	hd_close(s);
}

static void
test_locked_pin_is_not_tried_and_points_to_reset(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("pin-locked");

	(void)state;
	assert_int_equal(login_with(s, TL_PIN, &err), -1);
	assert_int_equal(err.code, HD_E_PIN_LOCKED);
	assert_string_equal(err.msg, "token 'f': PIN locked");
	assert_non_null(strstr(err.hint, "reset-pin"));
	assert_int_equal(hd_code_exit(err.code), 1);
	hd_close(s);
}

static void
test_so_reset_unlocks_a_locked_pin(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("pin-locked");
	struct hd_pin *so = tl_pin(TL_SO_PIN), *nw = tl_pin("97531");

	(void)state;
	assert_int_equal(hd_reset_pin(s, so, nw, &err), 0);
	assert_int_equal(login_with(s, "97531", &err), 0);
	hd_pin_free(so);
	hd_pin_free(nw);
	hd_close(s);
}

static void
test_pin_to_be_changed_leads_to_change_pin(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("pin-expired");
	struct hd_pin *old = tl_pin(TL_PIN), *nw = tl_pin("86420");

	(void)state;
	assert_int_equal(login_with(s, TL_PIN, &err), -1);
	assert_int_equal(err.code, HD_E_PIN_EXPIRED);
	assert_non_null(strstr(err.hint, "change-pin"));
	assert_false(hd_logged_in(s));
	assert_int_equal(hd_change_pin(s, old, nw, &err), 0);
	assert_int_equal(login_with(s, "86420", &err), 0);
	hd_pin_free(old);
	hd_pin_free(nw);
	hd_close(s);
}

static void
test_token_pulled_out_is_reported_as_gone(void **state)
{
	struct hd_err err;
	struct hd_session *s = faulty("device-removed-after=12");
	struct hd_key *keys = NULL;
	size_t n;
	int i, rc = 0;

	(void)state;
	/* whatever call the removal hits, the result is a plain failure */
	for (i = 0; i < 20 && rc == 0; i++) {
		rc = login_with(s, TL_PIN, &err);
		if (rc == 0)
			rc = hd_keys(s, &keys, &n, &err);
		free(keys);
		keys = NULL;
		if (rc == 0)
			rc = hd_logout(s, &err);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, HD_E_DEVICE);
	assert_true(strstr(err.msg, "removed") != NULL ||
	    strstr(err.msg, "no longer present") != NULL ||
	    strstr(err.msg, "not present") != NULL);
	assert_int_equal(hd_code_exit(err.code), 1);
	hd_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_count_low_is_shown_before_and_after_a_wrong_pin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_final_try_warns_that_one_more_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_locked_pin_is_not_tried_and_points_to_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_so_reset_unlocks_a_locked_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pin_to_be_changed_leads_to_change_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_pulled_out_is_reported_as_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
