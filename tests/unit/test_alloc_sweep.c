/*
 * Allocation-failure sweep (SQLite's way): each parser and signer is run
 * again and again, the Nth allocation failing on the Nth run, for every
 * N until a run makes no more than N-1 allocations and succeeds.  Every
 * run must return 0 or -1, a -1 must come with a message, nothing may
 * crash, and nothing may leak (LeakSanitizer at exit, valgrind in make
 * check-valgrind).
 *
 * Reached: core's own malloc, calloc, realloc, strdup and strndup (this
 * binary is linked with -Wl,--wrap for them, so only calls from core and
 * the test itself are counted) and, for the parsers, OpenSSL's, through
 * CRYPTO_set_mem_functions.  Out of reach: libyaml and libp11, which
 * allocate with the C library directly, and OpenSSL's allocations while
 * signing (see sweep()).
 *
 * HSMDESK_SWEEP_STRIDE=K fails every Kth point only (default 1: all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "internal.h"
#include "pe.h"
#include "ps1.h"
#include "testlib_sign.h"

/* ---- the allocator ----------------------------------------------------- */

static unsigned long n_alloc, fail_at;
static int armed, ossl_too;

static int
fail_now(void)
{
	return armed && ++n_alloc == fail_at;
}

/* OpenSSL's allocations, when the sweep includes them. */
static int
fail_now_ossl(void)
{
	return ossl_too && fail_now();
}

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
char *__real_strdup(const char *);
char *__real_strndup(const char *, size_t);

void *
__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t k, size_t n)
{
	return fail_now() ? NULL : __real_calloc(k, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

static void *
ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return fail_now_ossl() ? NULL : __real_malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return fail_now_ossl() ? NULL : __real_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- the sweep --------------------------------------------------------- */

typedef int (*op_fn)(struct hd_err *err);

static unsigned long
stride(void)
{
	const char *s = getenv("HSMDESK_SWEEP_STRIDE");
	unsigned long k = s != NULL ? strtoul(s, NULL, 10) : 1;

	return k > 0 ? k : 1;
}

/* with_ossl: OpenSSL's allocations fail too.  Not for the signers: the
 * SoftHSM2 module in this process allocates through the same libcrypto
 * and crashes on a failed allocation (EC_KEY_set_enc_flags on NULL in
 * C_SignInit), which is no fault of ours and out of our reach. */
static void
sweep(const char *what, op_fn op, int with_ossl)
{
	unsigned long n, step = stride(), runs = 0, nomem = 0;
	struct hd_err err;
	int rc;

	ossl_too = with_ossl;
	assert_int_equal(op(&err), 0);	/* works without faults */
	for (n = 1;; n += step) {
		hd_err_clear(&err);
		n_alloc = 0;
		fail_at = n;
		armed = 1;
		rc = op(&err);
		armed = 0;
		ERR_clear_error();
		runs++;
		if (n_alloc < n) {	/* got through: no Nth allocation */
			if (rc != 0)
				fail_msg("%s: fails without a failed "
				    "allocation: %s", what, err.msg);
			break;
		}
		if (rc != 0 && rc != -1)
			fail_msg("%s: allocation %lu failed: returned %d",
			    what, n, rc);
		if (rc == -1 && err.msg[0] == '\0')
			fail_msg("%s: allocation %lu failed: -1 without a "
			    "message", what, n);
		nomem += rc == -1 && err.code == HD_E_NOMEM;
	}
	print_message("%s: %lu allocations (%s), %lu runs with one failing; "
	    "%lu said 'out of memory'\n", what, n - 1, with_ossl ?
	    "core and OpenSSL" : "core only", runs - 1, nomem);
}

/* ---- the operations ------------------------------------------------------ */

static char dir[600];

static const char *
top_file(const char *rel)
{
	static char buf[4096];
	const char *top = getenv("HSMDESK_TOP");

	snprintf(buf, sizeof(buf), "%s/%s", top ? top : ".", rel);
	return buf;
}

static int
op_profile(struct hd_err *err)
{
	struct hd_profile p;

	return hd_profile_load(&p, top_file("profiles/codesign-rsa3072.yaml"),
	    err);
}

static int
op_inf(struct hd_err *err)
{
	struct hd_profile p;

	return hd_inf_load(&p, top_file("tests/data/webserver-san.inf"), 0,
	    err);
}

static int
op_cert(struct hd_err *err)
{
	STACK_OF(X509) *sk = NULL;
	int rc = hd_cert_read(TS.root, &sk, err);

	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
op_pe(struct hd_err *err)
{
	struct hd_pe pe;
	struct hd_pe_digest dg;
	uint32_t sum;
	int rc;

	if (hd_pe_open(&pe, TP.exe64, err) == -1)
		return -1;
	rc = hd_pe_digest(&pe, EVP_sha256(), &dg, NULL, NULL, err) == -1 ||
	    hd_pe_checksum(&pe, &sum, err) == -1 ? -1 : 0;
	hd_pe_close(&pe);
	return rc;
}

static int
op_ps1(struct hd_err *err)
{
	static const char script[] = "\xef\xbb\xbfWrite-Host 'hi'\r\n"
	    "# SIG # Begin signature block\r\n# MIIB\r\n"
	    "# SIG # End signature block\r\n";
	struct hd_ps1 ps;
	struct hd_pe_digest dg;
	int rc;

	memset(&ps, 0, sizeof(ps));
	rc = hd_ps1_parse(&ps, (const unsigned char *)script,
	    sizeof(script) - 1, "a.ps1", err);
	if (rc == 0)
		rc = hd_ps1_digest(&ps, EVP_sha256(), &dg, err);
	hd_ps1_free(&ps);
	return rc;
}

static int
op_cms(struct hd_err *err)
{
	struct hd_sign_opts o = { .replace = 1 };
	struct hd_sign_result res;
	struct hd_sign *g = NULL;
	char in[700], out[720];
	int rc;

	snprintf(in, sizeof(in), "%s/data.txt", dir);
	snprintf(out, sizeof(out), "%s.p7s", in);
	rc = hd_sign_open(TS.s, &TS.ec.key, TS.ec.der, TS.ec.len, NULL, 0, &o,
	    &g, err);
	if (rc == 0)
		rc = hd_sign_file(g, in, out, NULL, NULL, &res, err);
	hd_sign_close(g);
	unlink(out);
	return rc;
}

static int
op_authenticode(struct hd_err *err)
{
	struct hd_der cert = { TS.rsa.der, TS.rsa.len };
	struct hd_sign_pe_result res;
	char out[700];
	struct hd_sign_pe_opts o = { .out = out, .replace = 1 };
	int rc;

	snprintf(out, sizeof(out), "%s/signed.exe", dir);
	rc = hd_sign_pe(TS.s, &TS.rsa.key, &cert, &TS.inter, 1, TP.exe32, &o,
	    &res, err);
	unlink(out);
	return rc;
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_sweep_profile_parser(void **state)
{
	(void)state;
	sweep("profile", op_profile, 1);
}

static void
test_sweep_inf_parser(void **state)
{
	(void)state;
	sweep("certreq INF", op_inf, 1);
}

static void
test_sweep_certificate_import(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	sweep("certificate", op_cert, 1);
}

static void
test_sweep_pe_parser(void **state)
{
	(void)state;
	TL_NEED_PE();
	sweep("PE", op_pe, 1);
}

static void
test_sweep_ps1_parser(void **state)
{
	(void)state;
	sweep("PowerShell", op_ps1, 1);
}

static void
test_sweep_cms_signer(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	snprintf(dir, sizeof(dir), "%s", tl_pe_path(""));
	dir[strlen(dir) - 1] = '\0';
	tl_spit(tl_pe_path("data.txt"), "sweep me\n", 9);
	sweep("CMS signing", op_cms, 0);
}

static void
test_sweep_authenticode_signer(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	snprintf(dir, sizeof(dir), "%s", tl_pe_path(""));
	dir[strlen(dir) - 1] = '\0';
	sweep("Authenticode signing", op_authenticode, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_profile_parser),
		cmocka_unit_test(test_sweep_inf_parser),
		cmocka_unit_test(test_sweep_ps1_parser),
		cmocka_unit_test(test_sweep_pe_parser),
		cmocka_unit_test(test_sweep_certificate_import),
		cmocka_unit_test(test_sweep_cms_signer),
		cmocka_unit_test(test_sweep_authenticode_signer),
	};

	/* before OpenSSL allocates anything */
	if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
		return 1;
	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
