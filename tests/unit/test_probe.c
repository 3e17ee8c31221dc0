/*
 * The capability probe (probe.c, probe_words.c) on a throwaway SoftHSM2
 * token, and through fakep11's cloudhsm mode; the first-use record.
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
#include "testlib.h"

static int
setup(void **state)
{
	static struct tl_env e;
	char st[700];

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), "p") == -1)
		return -1;
	snprintf(st, sizeof(st), "%s/state", e.dir);
	setenv("XDG_STATE_HOME", st, 1);
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	unsetenv("HSMDESK_FAKEP11_FAULT");
	unsetenv("XDG_STATE_HOME");
	tl_env_free(*state);
	return 0;
}

static struct hd_session *
open_token(const char *module)
{
	struct hd_err err;
	struct hd_session *s;

	if ((s = hd_open(module, &err)) == NULL ||
	    hd_token_select(s, "p", &err) == -1)
		fail_msg("%s: %s", module, err.msg);
	return s;
}

static const char *
line_of(const struct hd_probe *p, const char *topic)
{
	size_t i;

	for (i = 0; i < p->nlines; i++)
		if (strcmp(p->lines[i].topic, topic) == 0)
			return p->lines[i].text;
	return "";
}

static const struct hd_mech *
mech_named(const struct hd_probe *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nmechs; i++)
		if (strcmp(p->mechs[i].name, name) == 0)
			return &p->mechs[i];
	return NULL;
}

static void
test_probe_softhsm_says_what_hsmdesk_can_do(void **state)
{
	struct hd_session *s = open_token(tl_softhsm());
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_probe p;
	struct hd_err err;
	const struct hd_mech *m;

	(void)state;
	assert_int_equal(hd_probe(s, pin, &p, &err), 0);
	assert_int_equal(hd_pin_len(pin), 0);		/* wiped */
	assert_false(hd_logged_in(s));			/* logged out again */
	assert_true(p.rsa_gen[0] && p.rsa_gen[1] && p.rsa_gen[2]);
	assert_true(p.ec_gen[0] && p.ec_gen[1]);
	assert_true(p.rsa_pkcs && p.rsa_pss && p.ecdsa);
	assert_int_equal(p.rw_session, HD_YES);
	assert_int_equal(p.ro_session, HD_YES);
	assert_int_equal(p.cert_objects, HD_YES);
	assert_int_equal(p.state_public, HD_YES);
	assert_int_equal(p.state_user, HD_YES);
	assert_int_equal(p.hidden_before_login, HD_NO);
	assert_non_null(m = mech_named(&p, "CKM_RSA_PKCS_KEY_PAIR_GEN"));
	assert_int_equal(m->min_size, 512);
	assert_int_equal(m->max_size, 16384);
	assert_string_equal(m->flag_words, "generate_key_pair");
	assert_string_equal(line_of(&p, "Key generation"),
	    "RSA 2048, 3072, 4096; EC P-256, P-384");
	assert_string_equal(line_of(&p, "Login state"), "reported: public "
	    "session before login, user session after");
	assert_non_null(strstr(line_of(&p, "Attestation"), "SoftHSM2"));
	hd_probe_free(&p);
	hd_pin_free(pin);
	hd_close(s);
}

static void
test_probe_wrong_pin_fails_and_frees(void **state)
{
	struct hd_session *s = open_token(tl_softhsm());
	struct hd_pin *pin = tl_pin("9999");
	struct hd_probe p;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_probe(s, pin, &p, &err), -1);
	assert_int_equal(err.code, HD_E_PIN);
	assert_null(p.mechs);
	hd_pin_free(pin);
	hd_close(s);
}

static void
test_probe_cloudhsm_mode_names_each_quirk(void **state)
{
	struct hd_session *s;
	struct hd_probe p;
	struct hd_err err;

	(void)state;
	setenv("HSMDESK_FAKEP11_FAULT", "cloudhsm", 1);
	s = open_token(tl_fakep11());
	assert_int_equal(hd_probe(s, NULL, &p, &err), 0);
	assert_true(p.cloudhsm);
	assert_false(p.token.user_pin_flag);
	assert_true(p.token.user_pin_set);	/* CloudHSM never says */
	assert_int_equal(p.ro_session, HD_NO);
	assert_int_equal(p.rw_session, HD_YES);
	assert_int_equal(p.hidden_before_login, HD_YES);
	assert_int_equal(p.cert_objects, HD_NO);
	assert_non_null(strstr(line_of(&p, "PIN"), "user:password"));
	assert_non_null(strstr(line_of(&p, "Sessions"), "read-write only"));
	hd_probe_free(&p);
	hd_close(s);
	unsetenv("HSMDESK_FAKEP11_FAULT");
}

static void
test_first_use_records_once_per_serial(void **state)
{
	struct hd_session *s = open_token(tl_softhsm());
	struct hd_probe p;
	struct hd_err err;
	char path[4096];
	struct stat st;

	(void)state;
	assert_int_equal(hd_probe_first_use(s, &p, path, sizeof(path), &err),
	    1);
	hd_probe_free(&p);
	assert_non_null(strstr(path, "/state/hsmdesk/tokens/"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(hd_probe_first_use(s, &p, path, sizeof(path), &err),
	    0);
	hd_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_softhsm_says_what_hsmdesk_can_do),
		cmocka_unit_test(test_probe_wrong_pin_fails_and_frees),
		cmocka_unit_test(test_probe_cloudhsm_mode_names_each_quirk),
		cmocka_unit_test(test_first_use_records_once_per_serial),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
