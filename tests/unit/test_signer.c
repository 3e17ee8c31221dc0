/*
 * core/signer.c: signing through libp11 must leave the core's own session
 * and login alone.  libp11 0.4.12 closes every session of a slot when it
 * releases its slot list; before the fix, each CSR logged the token out,
 * so a key whose CSR failed could not be deleted, and a second signature
 * under "one login" needed another.  And after a logout its cached keys
 * carry stale object handles.
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

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), "sg") == -1)
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

static void
profile(struct hd_profile *p)
{
	struct hd_err err;
	const char *top = getenv("HSMDESK_TOP");
	char path[4096];

	snprintf(path, sizeof(path), "%s/profiles/codesign-ecdsa-p256.yaml",
	    top ? top : ".");
	if (hd_profile_load(p, path, &err) == -1 ||
	    hd_profile_set_subject(p, "CN=Signer Test Key,O=Contoso Ltd,"
	    "L=Seattle,ST=Washington,C=US", &err) == -1)
		fail_msg("profile: %s", err.msg);
}

/* The raw session is still logged in as the user. */
static void
assert_logged_in(struct hd_session *s)
{
	CK_SESSION_INFO si;

	assert_true(hd_logged_in(s));
	assert_int_equal(s->fl->C_GetSessionInfo(s->sh, &si), CKR_OK);
	assert_true(si.state == CKS_RW_USER_FUNCTIONS ||
	    si.state == CKS_RO_USER_FUNCTIONS);
}

static void
test_two_csrs_one_login(void **state)
{
	static struct hd_profile p;
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_key k1, k2;
	struct hd_csr c1, c2;

	(void)state;
	profile(&p);
	if (s == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(hd_token_select(s, "sg", &err), 0);
	assert_int_equal(hd_login(s, pin, &err), 0);
	assert_int_equal(hd_keygen(s, &p, "one", NULL, NULL, &k1, &err), 0);
	assert_int_equal(hd_csr_make(s, &p, &k1, &c1, &err), 0);
	assert_logged_in(s);

	/* a key made after libp11 first listed the slot is found too */
	assert_int_equal(hd_keygen(s, &p, "two", NULL, NULL, &k2, &err), 0);
	assert_int_equal(hd_csr_make(s, &p, &k2, &c2, &err), 0);
	assert_logged_in(s);
	assert_int_equal(hd_key_delete(s, &k1, &err), 0);
	assert_int_equal(hd_key_find(s, "one", NULL, &k1, &err), -1);
	assert_int_equal(hd_key_find(s, "two", NULL, &k2, &err), 0);
	hd_csr_free(&c1);
	hd_csr_free(&c2);
	hd_pin_free(pin);
	hd_close(s);
}

/*
 * Logging out and in again within one session (the TUI's idle logout)
 * gives the token's private objects new handles (SoftHSM2 does): libp11's
 * cached keys must not be used with the old ones.
 */
static void
test_csr_after_logout_and_login_again(void **state)
{
	static struct hd_profile p;
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_key k;
	struct hd_csr c1, c2;

	(void)state;
	profile(&p);
	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "sg", &err), 0);
	assert_int_equal(hd_login(s, pin, &err), 0);
	assert_int_equal(hd_keygen(s, &p, "relogin", NULL, NULL, &k, &err), 0);
	assert_int_equal(hd_csr_make(s, &p, &k, &c1, &err), 0);
	assert_int_equal(hd_logout(s, &err), 0);
	hd_pin_free(pin);
	pin = tl_pin(TL_PIN);
	assert_int_equal(hd_login(s, pin, &err), 0);
	if (hd_csr_make(s, &p, &k, &c2, &err) == -1)
		fail_msg("CSR after login again: %s (%s)", err.msg, err.ossl);
	assert_logged_in(s);
	hd_csr_free(&c1);
	hd_csr_free(&c2);
	hd_pin_free(pin);
	hd_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_csrs_one_login),
		cmocka_unit_test(test_csr_after_logout_and_login_again),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
