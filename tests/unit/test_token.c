/* core/module.c, token.c, login.c, pinmgmt.c against a throwaway SoftHSM2. */
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

	if (tl_env_new(&e) == -1)
		return -1;
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	tl_env_free(*state);
	return 0;
}

static struct hd_session *
open_ok(void)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);

	if (s == NULL)
		fail_msg("hd_open: %s", err.msg);
	return s;
}

static void
test_open_missing_module_says_no_such_file(void **state)
{
	struct hd_err err;

	(void)state;
	assert_null(hd_open("/nonexistent/libvendor.so", &err));
	assert_int_equal(err.code, HD_E_MODULE);
	assert_non_null(strstr(err.msg, "'/nonexistent/libvendor.so'"));
	assert_non_null(strstr(err.msg, "No such file"));
	assert_int_equal(hd_code_exit(err.code), 2);
}

static void
test_open_library_without_pkcs11_says_not_a_module(void **state)
{
	struct hd_err err;

	(void)state;
	assert_null(hd_open("/usr/lib/x86_64-linux-gnu/libyaml-0.so.2", &err));
	assert_int_equal(err.code, HD_E_MODULE);
	assert_non_null(strstr(err.msg, "not a PKCS#11 module"));
}

static void
test_fresh_store_lists_one_uninitialized_token(void **state)
{
	struct hd_err err;
	struct hd_session *s = open_ok();
	struct hd_token_info *l;
	size_t n;

	(void)state;
	assert_int_equal(hd_tokens(s, &l, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_false(l[0].initialized);
	free(l);
	assert_int_equal(hd_token_select(s, NULL, &err), -1);
	assert_int_equal(err.code, HD_E_NO_TOKEN);
	assert_non_null(strstr(err.hint, "init-token"));
	hd_close(s);
}

static void
test_token_selected_by_label_serial_and_uri(void **state)
{
	struct hd_err err;
	struct hd_session *s;
	struct hd_token_info ti;
	char uri[128];

	(void)state;
	assert_int_equal(tl_init_token(tl_softhsm(), "alpha"), 0);
	s = open_ok();
	assert_int_equal(hd_token_select(s, NULL, &err), 0);
	assert_int_equal(hd_token_info(s, &ti, &err), 0);
	assert_string_equal(ti.label, "alpha");
	assert_true(ti.initialized && ti.user_pin_set);
	assert_int_equal(hd_token_select(s, "alpha", &err), 0);
	assert_int_equal(hd_token_select(s, ti.serial, &err), 0);
	snprintf(uri, sizeof(uri), "pkcs11:token=alpha;serial=%s", ti.serial);
	assert_int_equal(hd_token_select(s, uri, &err), 0);
	assert_int_equal(hd_token_select(s, "pkcs11:token=beta", &err), -1);
	assert_int_equal(err.code, HD_E_NO_TOKEN);
	assert_non_null(strstr(err.msg, "no such token"));
	hd_close(s);
}

static void
test_two_tokens_without_choice_is_ambiguous(void **state)
{
	struct hd_err err;
	struct hd_session *s;

	(void)state;
	assert_int_equal(tl_init_token(tl_softhsm(), "one"), 0);
	assert_int_equal(tl_init_token(tl_softhsm(), "two"), 0);
	s = open_ok();
	assert_int_equal(hd_token_select(s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "'one'"));
	assert_non_null(strstr(err.msg, "'two'"));
	assert_non_null(strstr(err.hint, "--token"));
	assert_int_equal(hd_token_select(s, "two", &err), 0);
	hd_close(s);
}

static void
test_init_token_refuses_short_pin_and_changes_nothing(void **state)
{
	struct hd_err err;
	struct hd_session *s = open_ok();
	struct hd_pin *so = tl_pin(TL_SO_PIN), *up = tl_pin("12");
	struct hd_token_info *l;
	size_t n;

	(void)state;
	assert_int_equal(hd_token_select_uninit(s, NULL, &err), 0);
	assert_int_equal(hd_init_token(s, "short", so, up, &err), -1);
	assert_int_equal(err.code, HD_E_PIN_POLICY);
	assert_non_null(strstr(err.msg, "user PIN: 2 characters"));
	assert_int_equal(hd_pin_len(so), 0);	/* wiped on failure too */
	assert_int_equal(hd_tokens(s, &l, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_false(l[0].initialized);
	free(l);
	hd_pin_free(so);
	hd_pin_free(up);
	hd_close(s);
}

static void
test_initialized_token_is_never_reinitialized(void **state)
{
	struct hd_err err;
	struct hd_session *s;
	struct hd_pin *so = tl_pin(TL_SO_PIN), *up = tl_pin(TL_PIN);

	(void)state;
	assert_int_equal(tl_init_token(tl_softhsm(), "prod"), 0);
	s = open_ok();
	assert_int_equal(hd_token_select_uninit(s, "prod", &err), -1);
	assert_non_null(strstr(err.msg, "already initialized"));
	assert_int_equal(hd_token_select_uninit(s, NULL, &err), 0);
	assert_int_equal(hd_init_token(s, "prod", so, up, &err), -1);
	assert_non_null(strstr(err.msg, "already used"));
	hd_pin_free(so);
	hd_pin_free(up);
	hd_close(s);
}

static struct hd_session *
selected(const char *label)
{
	struct hd_err err;
	struct hd_session *s;

	if (tl_init_token(tl_softhsm(), label) == -1)
		fail_msg("init");
	s = open_ok();
	if (hd_token_select(s, label, &err) == -1)
		fail_msg("select: %s", err.msg);
	return s;
}

static void
test_login_wipes_pin_and_logout_ends_session(void **state)
{
	struct hd_err err;
	struct hd_session *s = selected("t");
	struct hd_pin *p = tl_pin(TL_PIN);

	(void)state;
	assert_int_equal(hd_login(s, p, &err), 0);
	assert_int_equal(hd_pin_len(p), 0);
	assert_true(hd_logged_in(s));
	assert_int_equal(hd_logout(s, &err), 0);
	assert_false(hd_logged_in(s));
	hd_pin_free(p);
	hd_close(s);
}

static void
test_wrong_pin_is_reported_not_retried(void **state)
{
	struct hd_err err;
	struct hd_session *s = selected("t");
	struct hd_pin *p = tl_pin("9999");

	(void)state;
	assert_int_equal(hd_login(s, p, &err), -1);
	assert_int_equal(err.code, HD_E_PIN);
	assert_int_equal(err.ckr, CKR_PIN_INCORRECT);
	assert_string_equal(err.msg, "token 't': login: PIN incorrect");
	assert_int_equal(hd_pin_len(p), 0);
	assert_false(hd_logged_in(s));
	hd_pin_free(p);
	hd_close(s);
}

static void
test_change_pin_replaces_old_pin(void **state)
{
	struct hd_err err;
	struct hd_session *s = selected("t");
	struct hd_pin *old = tl_pin(TL_PIN), *nw = tl_pin("56789");

	(void)state;
	assert_int_equal(hd_change_pin(s, old, nw, &err), 0);
	hd_pin_free(old);
	old = tl_pin(TL_PIN);
	assert_int_equal(hd_login(s, old, &err), -1);
	assert_int_equal(err.code, HD_E_PIN);
	hd_pin_free(nw);
	nw = tl_pin("56789");
	assert_int_equal(hd_login(s, nw, &err), 0);
	hd_pin_free(old);
	hd_pin_free(nw);
	hd_close(s);
}

static void
test_change_pin_too_short_changes_nothing(void **state)
{
	struct hd_err err;
	struct hd_session *s = selected("t");
	struct hd_pin *old = tl_pin(TL_PIN), *nw = tl_pin("123");

	(void)state;
	assert_int_equal(hd_change_pin(s, old, nw, &err), -1);
	assert_int_equal(err.code, HD_E_PIN_POLICY);
	assert_non_null(strstr(err.msg, "accepts 4 to 255"));
	hd_pin_free(old);
	old = tl_pin(TL_PIN);
	assert_int_equal(hd_login(s, old, &err), 0);
	hd_pin_free(old);
	hd_pin_free(nw);
	hd_close(s);
}

static void
test_reset_pin_needs_the_so_pin(void **state)
{
	struct hd_err err;
	struct hd_session *s = selected("t");
	struct hd_pin *so = tl_pin("00000000"), *nw = tl_pin("24680");

	(void)state;
	assert_int_equal(hd_reset_pin(s, so, nw, &err), -1);
	assert_int_equal(err.code, HD_E_PIN);
	assert_non_null(strstr(err.msg, "security officer login"));
	hd_pin_free(so);
	hd_pin_free(nw);
	so = tl_pin(TL_SO_PIN);
	nw = tl_pin("24680");
	assert_int_equal(hd_reset_pin(s, so, nw, &err), 0);
	hd_pin_free(nw);
	nw = tl_pin("24680");
	assert_int_equal(hd_login(s, nw, &err), 0);
	hd_pin_free(so);
	hd_pin_free(nw);
	hd_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_open_missing_module_says_no_such_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_library_without_pkcs11_says_not_a_module, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_fresh_store_lists_one_uninitialized_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_selected_by_label_serial_and_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_two_tokens_without_choice_is_ambiguous, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_init_token_refuses_short_pin_and_changes_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_initialized_token_is_never_reinitialized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_login_wipes_pin_and_logout_ends_session, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_wrong_pin_is_reported_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_change_pin_replaces_old_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_change_pin_too_short_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reset_pin_needs_the_so_pin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
