/*
 * Timestamps on real signatures: a P-256 key on a throwaway SoftHSM2
 * token, certified by a test CA for a few seconds only, signs a file
 * (CMS, hd_sign_file) and a PowerShell script (Authenticode,
 * hd_sign_ps1) with a timestamp from the local test TSA, and again
 * without.  After the certificate has expired, verify finds the
 * timestamped signatures good (their chain checked at the timestamp's
 * time) and the others expired; a TSA that fails leaves no signature and
 * the script unchanged.  The results carry tsa and ts_time.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "internal.h"
#include "testca.h"
#include "testlib.h"

#define LIFE 10		/* seconds the signer's certificate is valid */

static struct fx {
	struct tl_env env;
	struct hd_session *s;
	struct hd_key key;
	struct tc_ca root;
	X509 *cert;
	unsigned char *der;
	size_t len;
	time_t expires;
	char ca[700], tsa_ca[700], dir[700], tsadir[700];
	char good[128], nonce[128];
	pid_t pid;
} fx;

static const char *
fpath(const char *name)
{
	static char buf[4][1024];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx.dir, name);
	return buf[i];
}

static int
tsa_start(void)
{
	const char *b = getenv("HSMDESK_BUILD");
	char bin[512], path[800], name[32];
	unsigned port;
	FILE *f;
	int i;

	snprintf(fx.tsadir, sizeof(fx.tsadir), "%s/tsa", fx.env.dir);
	snprintf(bin, sizeof(bin), "%s/tests/tsa_server", b ? b : "build-asan");
	if (mkdir(fx.tsadir, 0700) == -1 || (fx.pid = fork()) == -1)
		return -1;
	if (fx.pid == 0) {
		execl(bin, bin, fx.tsadir, "300", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/ports", fx.tsadir);
	for (i = 0; i < 200; i++, usleep(25000)) {
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fscanf(f, "%31s %u", name, &port) == 2) {
			if (strcmp(name, "good") == 0)
				snprintf(fx.good, sizeof(fx.good),
				    "http://127.0.0.1:%u/", port);
			if (strcmp(name, "nonce") == 0)
				snprintf(fx.nonce, sizeof(fx.nonce),
				    "http://127.0.0.1:%u/", port);
		}
		fclose(f);
		snprintf(fx.tsa_ca, sizeof(fx.tsa_ca), "%s/ca.pem", fx.tsadir);
		return 0;
	}
	return -1;
}

static int
setup(void **state)
{
	struct tc_leaf l = { .cn = "hsmdesk short-lived signer", .from = -3600,
	    .to = LIFE };
	struct hd_err err;
	struct hd_pin *pin;
	EVP_PKEY *pub;

	(void)state;
	if (tl_env_new(&fx.env) == -1 || tl_init_token(tl_softhsm(), "ts") ==
	    -1 || tsa_start() == -1)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "%s/files", fx.env.dir);
	snprintf(fx.ca, sizeof(fx.ca), "%s/root.pem", fx.env.dir);
	mkdir(fx.dir, 0700);
	pin = tl_pin(TL_PIN);
	if ((fx.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(fx.s, "ts", &err) == -1 ||
	    hd_login(fx.s, pin, &err) == -1 ||
	    tl_keygen(fx.s, 1, "ts", &fx.key) == -1) {
		hd_pin_free(pin);
		return -1;
	}
	hd_pin_free(pin);
	if (tc_ca_new(&fx.root, "hsmdesk TS Test Root") == -1 ||
	    tc_write_pem(fx.ca, fx.root.cert) == -1 ||
	    (pub = tl_token_pub(fx.s, &fx.key)) == NULL)
		return -1;
	fx.expires = time(NULL) + LIFE;
	fx.cert = tc_issue_key(&fx.root, pub, &l);
	EVP_PKEY_free(pub);
	return fx.cert != NULL && (fx.der = tc_der(fx.cert, &fx.len)) !=
	    NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	if (fx.pid > 0) {
		kill(fx.pid, SIGTERM);
		waitpid(fx.pid, NULL, 0);
	}
	X509_free(fx.cert);
	OPENSSL_free(fx.der);
	tc_ca_free(&fx.root);
	hd_close(fx.s);
	tl_env_free(&fx.env);
	return 0;
}

static struct hd_tsa *
tsa(const char *url)
{
	struct hd_tsa_opts o = { .urls = { url }, .nurls = 1, .timeout = 10,
	    .attempts = 1 };
	struct hd_tsa *t;
	struct hd_err err;

	if (hd_tsa_open(&o, &t, &err) == -1)
		fail_msg("hd_tsa_open: %s", err.msg);
	return t;
}

static void
sign_cms(const char *name, struct hd_tsa *t, struct hd_sign_result *res)
{
	struct hd_sign_opts o = { .tsa = t };
	struct hd_sign *g;
	struct hd_err err;

	assert_int_equal(tc_write_file(fpath(name), "release notes\n", 14), 0);
	if (hd_sign_open(fx.s, &fx.key, fx.der, fx.len, NULL, 0, &o, &g,
	    &err) == -1 || hd_sign_file(g, fpath(name), NULL, NULL, NULL, res,
	    &err) == -1)
		fail_msg("%s: %s", name, err.msg);
	hd_sign_close(g);
}

static void
sign_ps1(const char *name, struct hd_tsa *t, struct hd_sign_pe_result *res)
{
	struct hd_sign_pe_opts o = { .tsa = t };
	struct hd_der cert = { fx.der, fx.len };
	struct hd_err err;

	assert_int_equal(tc_write_file(fpath(name), "Write-Host 'hi'\r\n", 17),
	    0);
	if (hd_sign_ps1(fx.s, &fx.key, &cert, NULL, 0, fpath(name), &o, res,
	    &err) == -1)
		fail_msg("%s: %s", name, err.msg);
}

static void
wait_expiry(void)
{
	while (time(NULL) <= fx.expires + 1)
		usleep(100000);
}

static void
test_timestamp_keeps_signatures_good_after_expiry(void **state)
{
	struct hd_tsa *t = tsa(fx.good);
	struct hd_sign_result cr;
	struct hd_sign_pe_result pr;
	struct hd_verify_opts vo = { .cafile = fx.ca, .tsa_cafile = fx.tsa_ca };
	struct hd_verify_result v;
	struct hd_sig_report *sigs;
	struct hd_err err;
	size_t n;

	(void)state;
	sign_cms("stamped.txt", t, &cr);
	assert_string_equal(cr.tsa, fx.good);
	assert_int_equal(strlen(cr.ts_time), 20);
	sign_ps1("stamped.ps1", t, &pr);
	assert_string_equal(pr.tsa, fx.good);
	assert_int_equal(strlen(pr.ts_time), 20);
	sign_cms("bare.txt", NULL, &cr);
	assert_string_equal(cr.tsa, "");
	assert_string_equal(cr.ts_time, "");
	sign_ps1("bare.ps1", NULL, &pr);
	assert_string_equal(pr.tsa, "");
	hd_tsa_close(t);
	wait_expiry();

	assert_int_equal(hd_verify_file(fpath("stamped.txt"),
	    fpath("stamped.txt.p7s"), &vo, &v, &err), 0);
	assert_true(v.ts.present && v.ts.ok);
	assert_non_null(strstr(v.chain, "timestamp"));
	assert_int_equal(hd_verify_file(fpath("bare.txt"), fpath("bare.txt.p7s"),
	    &vo, &v, &err), -1);
	assert_int_equal(v.verdict, HD_V_EXPIRED);
	assert_false(v.ts.present);

	assert_int_equal(hd_verify_ps1_ts(fpath("stamped.ps1"), fx.ca,
	    fx.tsa_ca, &sigs, &n, NULL, NULL, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sigs[0].state, HD_SIG_OK);
	assert_true(sigs[0].ts.ok);
	free(sigs);
	assert_int_equal(hd_verify_ps1_ts(fpath("bare.ps1"), fx.ca, fx.tsa_ca,
	    &sigs, &n, NULL, NULL, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sigs[0].state, HD_SIG_UNTRUSTED);
	assert_false(sigs[0].ts.present);
	free(sigs);
	/* a timestamp whose TSA is not trusted dates nothing */
	assert_int_equal(hd_verify_ps1_ts(fpath("stamped.ps1"), fx.ca, fx.ca,
	    &sigs, &n, NULL, NULL, &err), 0);
	assert_true(sigs[0].ts.present);
	assert_false(sigs[0].ts.ok);
	assert_int_equal(sigs[0].state, HD_SIG_UNTRUSTED);
	free(sigs);
}

/* A TSA that fails (a wrong nonce): no .p7s, the script unchanged.  Runs
 * first, while the short-lived certificate is valid. */
static void
test_failing_tsa_writes_nothing(void **state)
{
	static const char script[] = "Write-Host 1\r\n";
	struct hd_tsa *t = tsa(fx.nonce);
	struct hd_sign_opts o = { .tsa = t };
	struct hd_sign_pe_opts po = { .tsa = t };
	struct hd_der cert = { fx.der, fx.len };
	struct hd_sign_pe_result pr;
	struct hd_sign_result cr;
	struct hd_sign *g = NULL;
	struct hd_err err;
	unsigned char *after;
	size_t len;

	(void)state;
	assert_int_equal(tc_write_file(fpath("f.txt"), "x\n", 2), 0);
	assert_int_equal(tc_write_file(fpath("f.ps1"), script,
	    sizeof(script) - 1), 0);
	assert_int_equal(hd_sign_open(fx.s, &fx.key, fx.der, fx.len, NULL, 0,
	    &o, &g, &err), 0);
	assert_int_equal(hd_sign_file(g, fpath("f.txt"), NULL, NULL, NULL, &cr,
	    &err), -1);
	hd_sign_close(g);
	assert_int_equal(err.code, HD_E_TSA);
	assert_non_null(strstr(err.msg, "wrong nonce"));
	assert_false(tc_exists(fpath("f.txt.p7s")));
	assert_int_equal(hd_sign_ps1(fx.s, &fx.key, &cert, NULL, 0,
	    fpath("f.ps1"), &po, &pr, &err), -1);
	assert_int_equal(err.code, HD_E_TSA);
	after = tc_read_file(fpath("f.ps1"), &len);
	assert_int_equal(len, sizeof(script) - 1);
	assert_memory_equal(after, script, len);
	free(after);
	hd_tsa_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failing_tsa_writes_nothing),
		cmocka_unit_test(
		    test_timestamp_keeps_signatures_good_after_expiry),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
