/*
 * core/config.c, its one list: tsa: (sign's RFC 3161 timestamp servers)
 * as a block list, a flow list or one URL; anything else in it refused
 * with the file, line and column; every URL freed by hd_config_free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hsmdesk.h"
#include "testlib.h"

static struct tl_env env;

static int
setup(void **state)
{
	(void)state;
	return tl_env_new(&env);
}

static int
teardown(void **state)
{
	(void)state;
	tl_env_free(&env);
	return 0;
}

static int
load(const char *text, struct hd_config *cfg, struct hd_err *err)
{
	const char *p = tl_write(&env, "config.yaml", text);

	assert_non_null(p);
	return hd_config_load(cfg, p, err);
}

static void
test_config_tsa_block_list_in_order(void **state)
{
	struct hd_config cfg;
	struct hd_err err;

	(void)state;
	assert_int_equal(load("token: t\ntsa:\n  - http://a.example/\n"
	    "  - https://b.example/ts\nidle_logout: 5\n", &cfg, &err), 0);
	assert_int_equal(cfg.ntsa, 2);
	assert_string_equal(cfg.tsa[0], "http://a.example/");
	assert_string_equal(cfg.tsa[1], "https://b.example/ts");
	assert_int_equal(cfg.idle_logout, 5);
	hd_config_free(&cfg);
	assert_int_equal(cfg.ntsa, 0);
}

static void
test_config_tsa_flow_list_and_one_url(void **state)
{
	struct hd_config cfg;
	struct hd_err err;

	(void)state;
	assert_int_equal(load("tsa: [http://a/, http://b/]\n", &cfg, &err), 0);
	assert_int_equal(cfg.ntsa, 2);
	assert_string_equal(cfg.tsa[1], "http://b/");
	hd_config_free(&cfg);
	assert_int_equal(load("tsa: http://only/\n", &cfg, &err), 0);
	assert_int_equal(cfg.ntsa, 1);
	assert_string_equal(cfg.tsa[0], "http://only/");
	hd_config_free(&cfg);
}

static void
test_config_tsa_refuses_what_is_not_a_url_list(void **state)
{
	static const struct { const char *text, *what; } bad[] = {
		{ "tsa:\n  - a: b\n", ":2:5: expected a URL" },
		{ "tsa:\n  - [x]\n", ":2:5: expected a URL" },
		{ "tsa:\n  - \"\"\n", ":2:5: empty value" },
		{ "tsa: {a: b}\n", ":1:6: expected a single value" },
		{ "tsa: [a, b, c, d, e, f, g, h, i]\n",
		  ":1:31: at most 8 TSA URLs" },
		{ "tsa: [a]\ntsa: [b]\n", ":2:1: duplicate key" },
	};
	struct hd_config cfg;
	struct hd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i].text, &cfg, &err), -1);
		assert_int_equal(err.code, HD_E_CONFIG);
		if (strstr(err.msg, bad[i].what) == NULL)
			fail_msg("%s: '%s', not '%s'", bad[i].text, err.msg,
			    bad[i].what);
		assert_int_equal(cfg.ntsa, 0);	/* freed */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_tsa_block_list_in_order),
		cmocka_unit_test(test_config_tsa_flow_list_and_one_url),
		cmocka_unit_test(test_config_tsa_refuses_what_is_not_a_url_list),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
