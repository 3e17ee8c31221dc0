/* core/config.c: config.yaml, a flat mapping of known keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsmdesk.h"
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

/* Write text to the env's config.yaml and load it; path gets its name. */
static int
load(void **state, const char *text, struct hd_config *cfg,
    struct hd_err *err, char *path, size_t pathlen)
{
	const char *p = tl_write(*state, "config.yaml", text);

	assert_non_null(p);
	snprintf(path, pathlen, "%s", p);
	return hd_config_load(cfg, path, err);
}

/* text must be refused with exactly "PATH:<where>: <what>". */
static void
assert_refused(void **state, const char *text, const char *where,
    const char *what)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024], want[1200];

	assert_int_equal(load(state, text, &cfg, &err, path, sizeof(path)),
	    -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:%s: %s", path, where, what);
	assert_string_equal(err.msg, want);
	assert_int_equal(hd_code_exit(err.code), 2);
	/* nothing half-loaded is left behind */
	assert_null(cfg.module);
	assert_null(cfg.token);
}

static void
test_config_loads_module_token_and_idle_logout(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "# hsmdesk\n"
	    "module: /opt/vendor/libcloudhsm.so\n"
	    "token: \"pkcs11:token=prod;serial=1234\"\n"
	    "idle_logout: 60\n", &cfg, &err, path, sizeof(path)), 0);
	assert_string_equal(cfg.module, "/opt/vendor/libcloudhsm.so");
	assert_string_equal(cfg.token, "pkcs11:token=prod;serial=1234");
	assert_int_equal(cfg.idle_logout, 60);
	assert_string_equal(cfg.path, path);
	hd_config_free(&cfg);
	assert_null(cfg.module);
	assert_null(cfg.token);
}

static void
test_config_idle_logout_accepts_0_and_86400(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "idle_logout: 0\n", &cfg, &err, path,
	    sizeof(path)), 0);
	assert_int_equal(cfg.idle_logout, 0);
	hd_config_free(&cfg);
	assert_int_equal(load(state, "idle_logout: 86400\n", &cfg, &err, path,
	    sizeof(path)), 0);
	assert_int_equal(cfg.idle_logout, 86400);
	hd_config_free(&cfg);
}

static void
test_config_missing_file_gives_defaults(void **state)
{
	struct tl_env *e = *state;
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	snprintf(path, sizeof(path), "%s/no-such-config.yaml", e->dir);
	assert_int_equal(hd_config_load(&cfg, path, &err), 0);
	assert_null(cfg.module);
	assert_null(cfg.token);
	assert_int_equal(cfg.idle_logout, 300);
	assert_string_equal(cfg.path, "");
	hd_config_free(&cfg);
}

static void
test_config_default_path_is_under_xdg_config_home(void **state)
{
	struct tl_env *e = *state;
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	snprintf(path, sizeof(path), "%s/config", e->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/config/hsmdesk", e->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_non_null(tl_write(e, "config/hsmdesk/config.yaml",
	    "token: prod\n"));
	assert_int_equal(hd_config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.token, "prod");
	snprintf(path, sizeof(path), "%s/config/hsmdesk/config.yaml", e->dir);
	assert_string_equal(cfg.path, path);
	hd_config_free(&cfg);
}

static void
test_config_empty_file_gives_defaults(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "", &cfg, &err, path, sizeof(path)), 0);
	assert_null(cfg.module);
	assert_int_equal(cfg.idle_logout, 300);
	assert_string_equal(cfg.path, path);
	hd_config_free(&cfg);
	assert_int_equal(load(state, "# only a comment\n\n", &cfg, &err, path,
	    sizeof(path)), 0);
	assert_null(cfg.token);
	hd_config_free(&cfg);
	assert_int_equal(load(state, "---\n", &cfg, &err, path, sizeof(path)),
	    0);
	hd_config_free(&cfg);
}

static void
test_config_rejects_unknown_key(void **state)
{
	assert_refused(state, "module: /a.so\ntoken: prod\nbogus: 1\n", "3:1",
	    "unknown key 'bogus'");
}

static void
test_config_unknown_key_reports_its_column(void **state)
{
	assert_refused(state, "\n{module: /a.so, modul: 1}\n", "2:17",
	    "unknown key 'modul'");
}

static void
test_config_rejects_duplicate_key(void **state)
{
	assert_refused(state, "token: a\nmodule: /a.so\ntoken: b\n", "3:1",
	    "duplicate key");
}

static void
test_config_rejects_a_second_document(void **state)
{
	/* an unknown key hidden in a second document must not slip by */
	assert_refused(state, "module: /a.so\n---\nbogus: 1\n", "2:1",
	    "only one YAML document is allowed");
}

static void
test_config_rejects_anchor(void **state)
{
	assert_refused(state, "module: &m /a.so\n", "1:9",
	    "anchors and aliases are not allowed");
}

static void
test_config_rejects_alias(void **state)
{
	assert_refused(state, "module: /a.so\ntoken: *m\n", "2:8",
	    "anchors and aliases are not allowed");
}

static void
test_config_rejects_nested_mapping_value(void **state)
{
	assert_refused(state, "module:\n  path: /a.so\n", "2:3",
	    "expected a single value");
}

static void
test_config_rejects_sequence_value(void **state)
{
	assert_refused(state, "token: prod\nmodule: [/a.so, /b.so]\n", "2:9",
	    "expected a single value");
}

static void
test_config_rejects_empty_string_value(void **state)
{
	assert_refused(state, "module: \"\"\n", "1:9", "empty value");
}

static void
test_config_rejects_negative_idle_logout(void **state)
{
	assert_refused(state, "idle_logout: -5\n", "1:14",
	    "expected seconds, 0 to 86400");
}

static void
test_config_rejects_wrapped_negative_idle_logout(void **state)
{
	/* strtoul skips the blank and negates: this would read as 1 */
	assert_refused(state, "idle_logout: \" -18446744073709551615\"\n",
	    "1:14", "expected seconds, 0 to 86400");
}

static void
test_config_rejects_idle_logout_not_a_number(void **state)
{
	assert_refused(state, "idle_logout: soon\n", "1:14",
	    "expected seconds, 0 to 86400");
	assert_refused(state, "idle_logout: 5m\n", "1:14",
	    "expected seconds, 0 to 86400");
}

static void
test_config_rejects_idle_logout_over_a_day(void **state)
{
	assert_refused(state, "idle_logout: 86401\n", "1:14",
	    "expected seconds, 0 to 86400");
	assert_refused(state, "idle_logout: 99999999999999999999999\n",
	    "1:14", "expected seconds, 0 to 86400");
}

static void
test_config_rejects_file_over_64_kib(void **state)
{
	struct tl_env *e = *state;
	struct hd_config cfg;
	struct hd_err err;
	char path[1024], want[1100];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/big.yaml", e->dir);
	assert_non_null(f = fopen(path, "w"));
	for (i = 0; i < 64 * 1024 / 8 + 1; i++)
		fputs("# 45678\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hd_config_load(&cfg, path, &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	snprintf(want, sizeof(want), "%s: larger than 64 KiB", path);
	assert_string_equal(err.msg, want);
}

static void
test_config_accepts_file_of_exactly_64_kib(void **state)
{
	struct tl_env *e = *state;
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/full.yaml", e->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("token: prod\n", f);		/* 12 bytes */
	for (i = 0; i < (64 * 1024 - 12) / 4; i++)
		fputs("#23\n", f);
	assert_int_equal(ftell(f), 64 * 1024);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hd_config_load(&cfg, path, &err), 0);
	assert_string_equal(cfg.token, "prod");
	hd_config_free(&cfg);
}

static void
test_config_unreadable_file_is_an_error(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024], want[1100];
	const char *p;

	if (geteuid() == 0)
		skip();		/* root reads a mode-000 file anyway */
	assert_non_null(p = tl_write(*state, "config.yaml", "token: x\n"));
	snprintf(path, sizeof(path), "%s", p);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(hd_config_load(&cfg, path, &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	snprintf(want, sizeof(want), "%s: cannot read: Permission denied",
	    path);
	assert_string_equal(err.msg, want);
}

static void
test_config_directory_is_an_error(void **state)
{
	struct tl_env *e = *state;
	struct hd_config cfg;
	struct hd_err err;
	char want[1100];

	assert_int_equal(hd_config_load(&cfg, e->dir, &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	snprintf(want, sizeof(want), "%s: read error", e->dir);
	assert_string_equal(err.msg, want);
}

static void
test_config_syntax_error_reports_line_and_column(void **state)
{
	assert_refused(state, "module: /a.so\ntoken: prod: x\n", "2:12",
	    "mapping values are not allowed in this context");
}

static void
test_config_unterminated_quote_reports_line_and_column(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024], want[1100];

	assert_int_equal(load(state, "module: /a.so\ntoken: \"prod\n", &cfg,
	    &err, path, sizeof(path)), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:3:1: ", path);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_null(cfg.module);
}

static void
test_config_rejects_top_level_sequence(void **state)
{
	assert_refused(state, "- module: /a.so\n", "1:1",
	    "expected 'key: value' lines");
}

static void
test_config_rejects_top_level_scalar(void **state)
{
	assert_refused(state, "\n  /usr/lib/softhsm/libsofthsm2.so\n", "2:3",
	    "expected 'key: value' lines");
}

static void
test_config_rejects_non_scalar_key(void **state)
{
	assert_refused(state, "? [module]\n: /a.so\n", "1:3",
	    "expected a key");
}

static void
test_config_error_hint_points_to_the_manual(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "bogus: 1\n", &cfg, &err, path,
	    sizeof(path)), -1);
	assert_non_null(strstr(err.hint, "man hsmdesk"));
}

static void
test_config_cert_store_takes_auto_token_local(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "cert_store: auto\n", HD_STORE_AUTO },
		{ "cert_store: token\n", HD_STORE_TOKEN },
		{ "cert_store: local\n", HD_STORE_LOCAL },
		{ "module: /m.so\n", HD_STORE_AUTO },	/* the default */
	};
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(state, cases[i].text, &cfg, &err, path,
		    sizeof(path)), 0);
		assert_int_equal(cfg.cert_store, cases[i].want);
		hd_config_free(&cfg);
	}
}

static void
test_config_rejects_unknown_cert_store(void **state)
{
	assert_refused(state, "cert_store: disk\n", "1:13",
	    "expected auto, token or local");
	assert_refused(state, "cert_store: LOCAL\n", "1:13",
	    "expected auto, token or local");
}

static void
test_config_reads_the_audit_keys(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "idle_logout: 5\n", &cfg, &err, path,
	    sizeof(path)), 0);
	assert_null(cfg.audit_log);
	assert_int_equal(cfg.allow_no_audit, 0);
	hd_config_free(&cfg);
	assert_int_equal(load(state, "audit_log: /srv/team/audit.log\n"
	    "allow_no_audit: true\n", &cfg, &err, path, sizeof(path)), 0);
	assert_string_equal(cfg.audit_log, "/srv/team/audit.log");
	assert_int_equal(cfg.allow_no_audit, 1);
	hd_config_free(&cfg);
	assert_null(cfg.audit_log);
	assert_refused(state, "allow_no_audit: yes\n", "1:17",
	    "expected true or false");
	assert_refused(state, "audit_log: ''\n", "1:12", "empty value");
}

/* A remote token: the client module's socket, and a vendor forced. */
static void
test_config_takes_p11kit_server_and_vendor(void **state)
{
	struct hd_config cfg;
	struct hd_err err;
	char path[1024];

	assert_int_equal(load(state, "p11kit_server: unix:path=/run/h.sock\n"
	    "vendor: cloudhsm\n", &cfg, &err, path, sizeof(path)), 0);
	assert_string_equal(cfg.p11kit_server, "unix:path=/run/h.sock");
	assert_string_equal(cfg.vendor, "cloudhsm");
	assert_null(cfg.module);
	hd_config_free(&cfg);
	assert_null(cfg.vendor);
	assert_refused(state, "vendor:\n", "1:8", "empty value");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_loads_module_token_and_idle_logout),
		T(test_config_idle_logout_accepts_0_and_86400),
		T(test_config_missing_file_gives_defaults),
		T(test_config_default_path_is_under_xdg_config_home),
		T(test_config_empty_file_gives_defaults),
		T(test_config_rejects_unknown_key),
		T(test_config_unknown_key_reports_its_column),
		T(test_config_rejects_duplicate_key),
		T(test_config_rejects_a_second_document),
		T(test_config_rejects_anchor),
		T(test_config_rejects_alias),
		T(test_config_rejects_nested_mapping_value),
		T(test_config_rejects_sequence_value),
		T(test_config_rejects_empty_string_value),
		T(test_config_rejects_negative_idle_logout),
		T(test_config_rejects_wrapped_negative_idle_logout),
		T(test_config_rejects_idle_logout_not_a_number),
		T(test_config_rejects_idle_logout_over_a_day),
		T(test_config_rejects_file_over_64_kib),
		T(test_config_accepts_file_of_exactly_64_kib),
		T(test_config_unreadable_file_is_an_error),
		T(test_config_directory_is_an_error),
		T(test_config_syntax_error_reports_line_and_column),
		T(test_config_unterminated_quote_reports_line_and_column),
		T(test_config_rejects_top_level_sequence),
		T(test_config_rejects_top_level_scalar),
		T(test_config_rejects_non_scalar_key),
		T(test_config_error_hint_points_to_the_manual),
		T(test_config_cert_store_takes_auto_token_local),
		T(test_config_takes_p11kit_server_and_vendor),
		T(test_config_rejects_unknown_cert_store),
		T(test_config_reads_the_audit_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
