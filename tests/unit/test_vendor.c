/*
 * Vendor quirks (vendor.c), p11-kit module names (p11kit.c) and key
 * attestation (attest.c): PIN joining, CloudHSM detection and login
 * through fakep11, module resolution, attestation found or refused.
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

#include "internal.h"
#include "fileio.h"
#include "testlib.h"

static int
setup(void **state)
{
	static struct tl_env e;

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), "v") == -1)
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

static void
test_pin_join_user_makes_user_colon_password(void **state)
{
	struct hd_pin *pin = hd_pin_new(), *pw = tl_pin("s3cret");
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_pin_join_user(pin, "cu1", pw, &err), 0);
	assert_string_equal(hd_pin_buf(pin), "cu1:s3cret");
	assert_int_equal(hd_pin_len(pin), 10);
	assert_int_equal(hd_pin_len(pw), 0);		/* wiped */
	hd_pin_free(pw);
	hd_pin_free(pin);
}

static void
test_pin_join_user_refuses_colon_and_empties(void **state)
{
	struct hd_pin *pin = hd_pin_new(), *pw = tl_pin("x");
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_pin_join_user(pin, "a:b", pw, &err), -1);
	assert_int_equal(err.code, HD_E_PIN_POLICY);
	assert_int_equal(hd_pin_len(pw), 0);
	assert_int_equal(hd_pin_len(pin), 0);
	assert_int_equal(hd_pin_join_user(pin, "", pw, &err), -1);
	assert_int_equal(hd_pin_join_user(pin, "cu", pw, &err), -1);
	assert_string_equal(err.msg, "password: empty");
	hd_pin_free(pw);
	hd_pin_free(pin);
}

static struct hd_session *
open_v(const char *module)
{
	struct hd_err err;
	struct hd_session *s;

	if ((s = hd_open(module, &err)) == NULL ||
	    hd_token_select(s, "v", &err) == -1)
		fail_msg("%s: %s", module, err.msg);
	return s;
}

static void
test_cloudhsm_login_with_user_and_password(void **state)
{
	struct hd_session *s;
	struct hd_pin *pin = hd_pin_new(), *pw = tl_pin(TL_PIN);
	struct hd_err err;
	struct hd_key *keys;
	size_t n;

	(void)state;
	setenv("HSMDESK_FAKEP11_FAULT", "cloudhsm", 1);
	s = open_v(tl_fakep11());
	assert_true(hd_vendor_cloudhsm(s));
	assert_int_equal(hd_keys(s, &keys, &n, &err), -1);	/* no login */
	assert_int_equal(err.ckr, CKR_USER_NOT_LOGGED_IN);
	assert_non_null(strstr(err.hint, "log in first"));
	assert_int_equal(hd_pin_join_user(pin, "cu", pw, &err), 0);
	assert_int_equal(hd_login(s, pin, &err), 0);
	assert_int_equal(hd_keys(s, &keys, &n, &err), 0);
	free(keys);
	hd_close(s);
	hd_pin_free(pw);
	hd_pin_free(pin);
	unsetenv("HSMDESK_FAKEP11_FAULT");
}

static void
test_vendor_config_forces_or_refuses(void **state)
{
	struct hd_session *s = open_v(tl_softhsm());
	struct hd_err err;

	(void)state;
	assert_false(hd_vendor_cloudhsm(s));
	assert_int_equal(hd_vendor_set(s, "cloudhsm", &err), 0);
	assert_true(hd_vendor_cloudhsm(s));
	assert_int_equal(hd_vendor_set(s, "luna", &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	assert_int_equal(hd_vendor_set(s, "auto", &err), 0);
	assert_false(hd_vendor_cloudhsm(s));
	hd_close(s);
}

static void
test_module_resolve_by_p11kit_name(void **state)
{
	const struct tl_env *e = *state;
	char dir[700], file[800], path[4096];
	struct hd_err err;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/cfg/pkcs11/modules", e->dir);
	assert_int_equal(hd_mkdirs(dir, 0700, &err), 0);
	snprintf(file, sizeof(file), "%s/unit-hsm.module", dir);
	assert_non_null(f = fopen(file, "w"));
	fprintf(f, "# a comment\nmodule: relative-name.so\n");
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/cfg", e->dir);
	setenv("XDG_CONFIG_HOME", dir, 1);
	assert_int_equal(hd_module_resolve("p11-kit:unit-hsm", path,
	    sizeof(path), &err), 0);
	assert_string_equal(path,
	    "/usr/lib/x86_64-linux-gnu/pkcs11/relative-name.so");
	assert_int_equal(hd_module_resolve("/abs/x.so", path, sizeof(path),
	    &err), 0);
	assert_string_equal(path, "/abs/x.so");
	assert_int_equal(hd_module_resolve("nope-nope", path, sizeof(path),
	    &err), -1);
	assert_int_equal(err.code, HD_E_MODULE);
}

static void
test_attestation_found_beside_a_new_key(void **state)
{
	struct hd_session *s;
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_profile p;
	struct hd_key k;
	struct hd_attest a;
	struct hd_err err;

	(void)state;
	setenv("HSMDESK_FAKEP11_FAULT", "attestation", 1);
	s = open_v(tl_fakep11());
	assert_int_equal(hd_profile_load(&p,
	    tl_shipped_profile("codesign-ecdsa-p256"), &err), 0);
	assert_int_equal(hd_attest_supported(s, &err), 0);
	assert_int_equal(hd_login(s, pin, &err), 0);
	assert_int_equal(hd_keygen(s, &p, "att", NULL, NULL, &k, &err), 0);
	assert_int_equal(hd_attest_get(s, &k, &a, &err), 0);
	assert_int_equal(a.len, strlen("fakep11 fake attestation: key 'att' "
	    "was generated on this token\n"));
	assert_memory_equal(a.data, "fakep11 fake attestation: key 'att'",
	    35);
	assert_int_equal(strlen(a.sha256), 64);
	hd_attest_free(&a);
	hd_key_delete(s, &k, &err);
	hd_close(s);
	hd_pin_free(pin);
	unsetenv("HSMDESK_FAKEP11_FAULT");
}

static void
test_attestation_refused_on_softhsm(void **state)
{
	struct hd_session *s = open_v(tl_softhsm());
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_attest_supported(s, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "SoftHSM2"));
	assert_non_null(strstr(err.hint, "nothing was created"));
	hd_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_join_user_makes_user_colon_password),
		cmocka_unit_test(test_pin_join_user_refuses_colon_and_empties),
		cmocka_unit_test(test_cloudhsm_login_with_user_and_password),
		cmocka_unit_test(test_vendor_config_forces_or_refuses),
		cmocka_unit_test(test_module_resolve_by_p11kit_name),
		cmocka_unit_test(test_attestation_found_beside_a_new_key),
		cmocka_unit_test(test_attestation_refused_on_softhsm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
