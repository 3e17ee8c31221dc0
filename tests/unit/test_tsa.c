/*
 * core/tsa.c, tsa_verify.c: the RFC 3161 client against the local test
 * TSA (tests/tsa/tsa_server.c, one loopback port per behaviour): a good
 * token, then each way a TSA fails, each named; the order of URLs, the
 * attempts, and a failed TSA not asked again in a batch.  The request
 * counts come from the server's own log.  Answers that must come get 10 s
 * (a loaded machine runs the sanitizer build slowly); the slow TSA takes
 * 30 s against a timeout of 3 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsa.h"
#include "testca.h"

static const unsigned char SIG[] = "a signature value, as a signer has it";

static struct {
	char dir[256];
	char url[8][128];	/* as modes[] */
	pid_t pid;
} fx;

enum { GOOD, SLOW, H500, GARBAGE, NONCE, NOEKU, DOWN, TLS };
static const char *const modes[] = {
	"good", "slow", "http500", "garbage", "nonce", "noeku", "down", "tls"
};

static int
read_ports(void)
{
	char path[300], name[32];
	unsigned port;
	FILE *f;
	int i, n = 0;

	snprintf(path, sizeof(path), "%s/ports", fx.dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fscanf(f, "%31s %u", name, &port) == 2)
		for (i = 0; i < 8; i++)
			if (strcmp(name, modes[i]) == 0) {
				snprintf(fx.url[i], sizeof(fx.url[i]),
				    "http%s://127.0.0.1:%u/tsa", i == TLS ?
				    "s" : "", port);
				n++;
			}
	fclose(f);
	return n == 8 ? 0 : -1;
}

static int
setup(void **state)
{
	const char *b = getenv("HSMDESK_BUILD");
	char bin[512];
	int i;

	(void)state;
	snprintf(fx.dir, sizeof(fx.dir), "%s/hd-tsa.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(bin, sizeof(bin), "%s/tests/tsa_server", b ? b : "build-asan");
	setenv("HD_TSA_SLOW", "30", 1);
	if ((fx.pid = fork()) == 0) {
		execl(bin, bin, fx.dir, "300", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && read_ports() == -1; i++)
		usleep(25000);
	return fx.pid > 0 && i < 200 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	if (fx.pid > 0) {
		kill(fx.pid, SIGTERM);
		waitpid(fx.pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Requests the behaviour m has served so far (the server's log). */
static int
served(int m)
{
	char path[300], line[700];
	size_t k = strlen(modes[m]);
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/log", fx.dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, modes[m], k) == 0 && line[k] == ' ';
	fclose(f);
	return n;
}

static struct hd_tsa *
open_tsa(const int *m, size_t n, unsigned attempts, int optional)
{
	struct hd_tsa_opts o = { .nurls = n, .timeout = m[0] == SLOW ? 3 : 10,
	    .attempts = attempts, .optional = optional };
	struct hd_tsa *t = NULL;
	struct hd_err err;
	size_t i;

	for (i = 0; i < n; i++)
		o.urls[i] = fx.url[m[i]];
	if (hd_tsa_open(&o, &t, &err) == -1)
		fail_msg("hd_tsa_open: %s", err.msg);
	return t;
}

/* One stamp from a TSA list that must fail; err's message. */
static void
expect_failure(int m, unsigned attempts, const char *words, int requests)
{
	struct hd_tsa *t = open_tsa(&m, 1, attempts, 0);
	int before = served(m);
	struct hd_stamp st;
	struct hd_err err;

	hd_err_clear(&err);
	assert_int_equal(hd_tsa_stamp(t, "f.bin", SIG, sizeof(SIG), &st, &err),
	    -1);
	assert_null(st.token);
	assert_int_equal(err.code, HD_E_TSA);
	if (strstr(err.msg, fx.url[m]) == NULL || strstr(err.msg, words) ==
	    NULL || strncmp(err.msg, "f.bin: ", 7) != 0)
		fail_msg("message lacks '%s' or the URL: %s", words, err.msg);
	assert_int_equal(served(m) - before, requests);
	hd_tsa_close(t);
}

static void
test_tsa_good_token_verifies_against_the_tsa_ca(void **state)
{
	int m = GOOD;
	struct hd_tsa *t = open_tsa(&m, 1, 0, 0);
	struct hd_ts_report r;
	struct hd_stamp st;
	struct hd_err err;
	char ca[300];

	(void)state;
	assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st, &err), 0);
	assert_non_null(st.token);
	assert_string_equal(st.url, fx.url[GOOD]);
	assert_int_equal(strlen(st.time), 20);	/* 2026-01-31T12:00:00Z */
	assert_int_equal(st.time[19], 'Z');
	snprintf(ca, sizeof(ca), "%s/ca.pem", fx.dir);
	hd_tsa_verify_token(st.token, SIG, sizeof(SIG), ca, &r);
	assert_true(r.ok);
	assert_string_equal(r.time, st.time);
	assert_non_null(strstr(r.subject, "hsmdesk test TSA"));
	/* another signature value: the imprint does not match */
	hd_tsa_verify_token(st.token, SIG, sizeof(SIG) - 1, ca, &r);
	assert_false(r.ok);
	assert_non_null(strstr(r.why, "imprint"));
	hd_stamp_free(&st);
	hd_tsa_close(t);
}

static void
test_tsa_token_fails_against_another_ca(void **state)
{
	int m = GOOD;
	struct hd_tsa *t = open_tsa(&m, 1, 0, 0);
	struct tc_ca other;
	struct hd_ts_report r;
	struct hd_stamp st;
	struct hd_err err;
	char ca[300];

	(void)state;
	assert_int_equal(tc_ca_new(&other, "not the TSA's root"), 0);
	snprintf(ca, sizeof(ca), "%s/other.pem", fx.dir);
	assert_int_equal(tc_write_pem(ca, other.cert), 0);
	assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st, &err), 0);
	hd_tsa_verify_token(st.token, SIG, sizeof(SIG), ca, &r);
	assert_true(r.present);
	assert_false(r.ok);
	assert_non_null(strstr(r.why, "certificate"));
	tc_ca_free(&other);
	hd_stamp_free(&st);
	hd_tsa_close(t);
}

static void
test_tsa_slow_times_out_then_next_url(void **state)
{
	int m[] = { SLOW, GOOD };
	struct hd_tsa *t = open_tsa(m, 2, 1, 0);
	int slow = served(SLOW);
	struct hd_stamp st;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st, &err), 0);
	assert_string_equal(st.url, fx.url[GOOD]);
	assert_int_equal(served(SLOW) - slow, 1);
	assert_non_null(strstr(hd_tsa_failure(t, 0), "timeout"));
	assert_string_equal(hd_tsa_failure(t, 1), "");
	hd_stamp_free(&st);
	hd_tsa_close(t);
}

static void
test_tsa_http_500_is_named_and_retried(void **state)
{
	(void)state;
	expect_failure(H500, 3, "HTTP status 500 (3 attempts)", 3);
}

static void
test_tsa_garbage_is_a_bad_response_not_retried(void **state)
{
	(void)state;
	expect_failure(GARBAGE, 3, "bad response", 1);
}

static void
test_tsa_wrong_nonce_is_refused(void **state)
{
	(void)state;
	expect_failure(NONCE, 3, "wrong nonce", 1);
}

static void
test_tsa_certificate_without_eku_is_refused(void **state)
{
	(void)state;
	expect_failure(NOEKU, 3, "not for timestamping", 1);
}

static void
test_tsa_down_is_refused(void **state)
{
	(void)state;
	expect_failure(DOWN, 1, "connection refused", 0);
}

/* https: TLS through the HTTP client's connect callback, the server's
 * certificate checked against the roots (SSL_CERT_FILE here). */
static void
test_tsa_https_checks_the_server(void **state)
{
	int m = TLS;
	struct hd_tsa *t;
	struct hd_stamp st;
	struct hd_err err;
	char ca[300];

	(void)state;
	setenv("SSL_CERT_FILE", "/nonexistent", 1);
	expect_failure(TLS, 3, "TLS failed (certificate verify failed)", 0);
	snprintf(ca, sizeof(ca), "%s/ca.pem", fx.dir);
	setenv("SSL_CERT_FILE", ca, 1);
	t = open_tsa(&m, 1, 1, 0);
	assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st, &err), 0);
	assert_string_equal(st.url, fx.url[TLS]);
	assert_int_equal(served(TLS), 1);
	unsetenv("SSL_CERT_FILE");
	hd_stamp_free(&st);
	hd_tsa_close(t);
}

/* The failing TSA costs its attempts once in a batch, not per file. */
static void
test_tsa_batch_does_not_ask_a_failed_tsa_again(void **state)
{
	int m[] = { H500, GOOD };
	struct hd_tsa *t = open_tsa(m, 2, 3, 0);
	int bad = served(H500), good = served(GOOD), i;
	struct hd_stamp st;
	struct hd_err err;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st,
		    &err), 0);
		assert_string_equal(st.url, fx.url[GOOD]);
		hd_stamp_free(&st);
	}
	assert_int_equal(served(H500) - bad, 3);
	assert_int_equal(served(GOOD) - good, 4);
	hd_tsa_close(t);
}

static void
test_tsa_all_failed_says_so_for_later_files(void **state)
{
	int m[] = { GARBAGE, NONCE };
	struct hd_tsa *t = open_tsa(m, 2, 1, 0);
	int before = served(GARBAGE) + served(NONCE);
	struct hd_stamp st;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_tsa_stamp(t, "a", SIG, sizeof(SIG), &st, &err),
	    -1);
	assert_int_equal(hd_tsa_stamp(t, "b", SIG, sizeof(SIG), &st, &err),
	    -1);
	assert_int_equal(served(GARBAGE) + served(NONCE) - before, 2);
	assert_non_null(strstr(err.msg, "earlier in this batch"));
	assert_non_null(strstr(err.msg, "wrong nonce"));
	hd_tsa_close(t);
}

static void
test_tsa_optional_signs_without_and_says_why(void **state)
{
	int m = DOWN;
	struct hd_tsa *t = open_tsa(&m, 1, 1, 1);
	struct hd_stamp st;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_tsa_stamp(t, "f", SIG, sizeof(SIG), &st, &err), 0);
	assert_null(st.token);
	assert_non_null(strstr(hd_tsa_skipped(t), "refused"));
	hd_tsa_close(t);
}

static void
test_tsa_open_refuses_bad_words(void **state)
{
	struct hd_tsa_opts o = { .nurls = 1, .urls = { "ftp://x/" } };
	struct hd_tsa *t;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_tsa_open(&o, &t, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "ftp://x/"));
	o.urls[0] = fx.url[GOOD];
	o.md = "md5";
	assert_int_equal(hd_tsa_open(&o, &t, &err), -1);
	assert_non_null(strstr(err.msg, "md5"));
	o.md = NULL;
	o.nurls = 0;
	assert_int_equal(hd_tsa_open(&o, &t, &err), -1);
	assert_null(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsa_good_token_verifies_against_the_tsa_ca),
		cmocka_unit_test(test_tsa_token_fails_against_another_ca),
		cmocka_unit_test(test_tsa_slow_times_out_then_next_url),
		cmocka_unit_test(test_tsa_http_500_is_named_and_retried),
		cmocka_unit_test(test_tsa_garbage_is_a_bad_response_not_retried),
		cmocka_unit_test(test_tsa_wrong_nonce_is_refused),
		cmocka_unit_test(test_tsa_certificate_without_eku_is_refused),
		cmocka_unit_test(test_tsa_down_is_refused),
		cmocka_unit_test(test_tsa_https_checks_the_server),
		cmocka_unit_test(test_tsa_batch_does_not_ask_a_failed_tsa_again),
		cmocka_unit_test(test_tsa_all_failed_says_so_for_later_files),
		cmocka_unit_test(test_tsa_optional_signs_without_and_says_why),
		cmocka_unit_test(test_tsa_open_refuses_bad_words),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
