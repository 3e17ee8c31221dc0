/*
 * core/sign_mech.c: the mechanism behind a signature.  RSA-PSS must go
 * through CKM_RSA_PKCS_PSS where the token and key offer it (libp11's
 * default path uses raw RSA, CKM_RSA_X_509, which many HSMs and keys
 * forbid), fall back to raw RSA where only that exists, and be refused,
 * before any file is read, where neither does.  The token's side is
 * played by tests/fakep11 (no-rsa-pss, no-raw-rsa, sign-device-error),
 * the key's by CKA_ALLOWED_MECHANISMS, which SoftHSM2 enforces.
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
#include "testca.h"
#include "testlib.h"

static struct {
	struct tl_env env;
	struct tc_ca root;
	char ca[700], data[700];
} fx;

struct signer {
	struct hd_session *s;
	struct hd_key key;
	unsigned char *der;
	size_t len;
};

static CK_BBOOL yes = CK_TRUE;

/* An RSA-2048 pair, CKA_ID = CKA_LABEL = label, the private key limited
 * to the n mechanisms in allowed (n = 0: no limit). */
static void
gen_rsa(struct hd_session *s, const char *label,
    const CK_MECHANISM_TYPE *allowed, CK_ULONG n)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
		{ CKA_ID, (void *)label, strlen(label) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SIGN, &yes, 1 }, { CKA_SENSITIVE, &yes, 1 },
		{ CKA_ID, (void *)label, strlen(label) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ALLOWED_MECHANISMS, (void *)allowed,
		  n * sizeof(*allowed) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;

	assert_int_equal(s->fl->C_GenerateKeyPair(s->sh, &m, pub, 6, priv,
	    n ? 7 : 6, &hpub, &hpriv), CKR_OK);
}

static struct hd_session *
session(const char *module, const char *fault)
{
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_session *s;
	struct hd_err err;

	if (fault != NULL)
		setenv("HSMDESK_FAKEP11_FAULT", fault, 1);
	else
		unsetenv("HSMDESK_FAKEP11_FAULT");
	if ((s = hd_open(module, &err)) == NULL ||
	    hd_token_select(s, "mech", &err) == -1 ||
	    hd_login(s, pin, &err) == -1)
		fail_msg("session %s: %s", fault ? fault : "", err.msg);
	hd_pin_free(pin);
	return s;
}

static int
setup(void **state)
{
	static const CK_MECHANISM_TYPE pss_only[] = { CKM_RSA_PKCS_PSS };
	static const CK_MECHANISM_TYPE pkcs1_only[] = { CKM_RSA_PKCS };
	struct hd_session *s;

	(void)state;
	if (tl_env_new(&fx.env) == -1 ||
	    tl_init_token(tl_softhsm(), "mech") == -1 ||
	    tc_ca_new(&fx.root, "hsmdesk Test Root") == -1)
		return -1;
	snprintf(fx.ca, sizeof(fx.ca), "%s/root.pem", fx.env.dir);
	snprintf(fx.data, sizeof(fx.data), "%s/data.bin", fx.env.dir);
	if (tc_write_pem(fx.ca, fx.root.cert) == -1 ||
	    tc_write_file(fx.data, "signed by the token\n", 20) == -1)
		return -1;
	s = session(tl_softhsm(), NULL);
	gen_rsa(s, "plain", NULL, 0);
	gen_rsa(s, "pss-only", pss_only, 1);
	gen_rsa(s, "pkcs1-only", pkcs1_only, 1);
	hd_close(s);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unsetenv("HSMDESK_FAKEP11_FAULT");
	tc_ca_free(&fx.root);
	tl_env_free(&fx.env);
	return 0;
}

/* The key (by label) and a certificate for it from the test root. */
static void
signer_get(struct signer *g, const char *module, const char *fault,
    const char *label)
{
	struct hd_err err;
	CK_OBJECT_HANDLE h;
	EVP_PKEY *pub;
	X509 *x;

	g->s = session(module, fault);
	if (hd_key_find(g->s, label, NULL, &g->key, &err) == -1)
		fail_msg("%s: %s", label, err.msg);
	assert_int_equal(hd_find_by_id(g->s, CKO_PUBLIC_KEY, g->key.id,
	    g->key.id_len, &h, &err), 1);
	pub = hd_object_pubkey(g->s, h);
	x = tc_issue_key(&fx.root, pub, NULL);
	g->der = tc_der(x, &g->len);
	X509_free(x);
	EVP_PKEY_free(pub);
}

static void
signer_put(struct signer *g)
{
	OPENSSL_free(g->der);
	hd_close(g->s);
}

/* Sign fx.data with PSS (or not) into out; the mechanism used in mech. */
static int
sign(struct signer *g, int pss, const char *out, char *mech,
    struct hd_err *err)
{
	struct hd_sign_opts o = { .pss = pss, .replace = 1 };
	struct hd_sign_result res;
	struct hd_sign_info info;
	struct hd_sign *sg;
	int rc;

	if (hd_sign_open(g->s, &g->key, g->der, g->len, NULL, 0, &o, &sg,
	    err) == -1)
		return -1;
	hd_sign_info(sg, &info);
	snprintf(mech, 24, "%s", info.mechanism);
	rc = hd_sign_file(sg, fx.data, out, NULL, NULL, &res, err);
	hd_sign_close(sg);
	return rc;
}

static void
assert_openssl_ok(const char *sig)
{
	char out[4096];

	if (tc_openssl_verify(fx.data, sig, fx.ca, out, sizeof(out)) != 0)
		fail_msg("openssl: %s", out);
}

/* What the key itself allows, straight from the token. */
static CK_RV
raw_sign_init(struct signer *g, CK_MECHANISM_TYPE m)
{
	CK_RSA_PKCS_PSS_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM mech = { m, m == CKM_RSA_PKCS_PSS ? &pp : NULL,
	    m == CKM_RSA_PKCS_PSS ? sizeof(pp) : 0 };
	CK_OBJECT_HANDLE h;
	CK_BYTE d[32] = { 0 }, sig[512];
	CK_ULONG n = sizeof(sig);
	struct hd_err err;
	CK_RV rv;

	assert_int_equal(hd_find_by_id(g->s, CKO_PRIVATE_KEY, g->key.id,
	    g->key.id_len, &h, &err), 1);
	if ((rv = g->s->fl->C_SignInit(g->s->sh, &mech, h)) == CKR_OK)
		rv = g->s->fl->C_Sign(g->s->sh, d, m == CKM_RSA_X_509 ? 256 :
		    32, sig, &n);
	return rv;
}

static void
test_pss_on_a_key_that_forbids_raw_rsa(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24], sig[800];

	(void)state;
	signer_get(&g, tl_softhsm(), NULL, "pss-only");
	/* the premise: this key refuses libp11's default path */
	assert_int_not_equal(raw_sign_init(&g, CKM_RSA_X_509), CKR_OK);
	assert_int_equal(raw_sign_init(&g, CKM_RSA_PKCS_PSS), CKR_OK);
	snprintf(sig, sizeof(sig), "%s/pss-only.p7s", fx.env.dir);
	if (sign(&g, 1, sig, mech, &err) == -1)
		fail_msg("%s (%s)", err.msg, err.ossl);
	assert_string_equal(mech, "CKM_RSA_PKCS_PSS");
	assert_openssl_ok(sig);
	signer_put(&g);
}

static void
test_pss_refused_on_a_key_allowing_only_pkcs1(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24] = "", sig[800];

	(void)state;
	signer_get(&g, tl_softhsm(), NULL, "pkcs1-only");
	snprintf(sig, sizeof(sig), "%s/pkcs1-only.p7s", fx.env.dir);
	assert_int_equal(sign(&g, 1, sig, mech, &err), -1);
	assert_int_equal(err.code, HD_E_TOKEN);
	assert_non_null(strstr(err.msg, "RSA-PSS is not possible"));
	assert_non_null(strstr(err.msg, "CKA_ALLOWED_MECHANISMS"));
	assert_false(tc_exists(sig));
	assert_int_equal(sign(&g, 0, sig, mech, &err), 0);
	assert_string_equal(mech, "CKM_RSA_PKCS");
	assert_openssl_ok(sig);
	signer_put(&g);
}

/* A token with raw RSA but no CKM_RSA_PKCS_PSS: PSS padded by OpenSSL. */
static void
test_pss_falls_back_to_raw_rsa(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24], sig[800];

	(void)state;
	signer_get(&g, tl_fakep11(), "no-rsa-pss", "plain");
	snprintf(sig, sizeof(sig), "%s/raw.p7s", fx.env.dir);
	if (sign(&g, 1, sig, mech, &err) == -1)
		fail_msg("%s (%s)", err.msg, err.ossl);
	assert_string_equal(mech, "CKM_RSA_X_509");
	assert_openssl_ok(sig);
	signer_put(&g);
}

/* The common HSM: CKM_RSA_PKCS_PSS but no raw RSA. */
static void
test_pss_on_a_token_without_raw_rsa(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24], sig[800];

	(void)state;
	signer_get(&g, tl_fakep11(), "no-raw-rsa", "plain");
	snprintf(sig, sizeof(sig), "%s/noraw.p7s", fx.env.dir);
	if (sign(&g, 1, sig, mech, &err) == -1)
		fail_msg("%s (%s)", err.msg, err.ossl);
	assert_string_equal(mech, "CKM_RSA_PKCS_PSS");
	assert_openssl_ok(sig);
	signer_put(&g);
}

static void
test_pss_refused_on_a_token_with_neither(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24], sig[800];

	(void)state;
	signer_get(&g, tl_fakep11(), "no-rsa-pss,no-raw-rsa", "plain");
	snprintf(sig, sizeof(sig), "%s/neither.p7s", fx.env.dir);
	assert_int_equal(sign(&g, 1, sig, mech, &err), -1);
	assert_int_equal(err.code, HD_E_TOKEN);
	assert_non_null(strstr(err.msg, "the token offers neither "
	    "CKM_RSA_PKCS_PSS nor raw RSA (CKM_RSA_X_509)"));
	assert_non_null(strstr(err.hint, "without --pss"));
	assert_false(tc_exists(sig));
	assert_int_equal(sign(&g, 0, sig, mech, &err), 0);
	assert_openssl_ok(sig);
	signer_put(&g);
}

/* The token fails the signature: the CKR in words, key and token named,
 * no file. */
static void
test_token_error_leaves_no_file(void **state)
{
	struct signer g;
	struct hd_err err;
	char mech[24], sig[800];

	(void)state;
	signer_get(&g, tl_fakep11(), "sign-device-error", "plain");
	snprintf(sig, sizeof(sig), "%s/deverr.p7s", fx.env.dir);
	assert_int_equal(sign(&g, 0, sig, mech, &err), -1);
	assert_int_equal(err.code, HD_E_DEVICE);
	assert_int_equal(err.ckr, CKR_DEVICE_ERROR);
	assert_non_null(strstr(err.msg, "data.bin: key 'plain' on token "
	    "'mech': signing: the device reported an error"));
	assert_non_null(strstr(err.hint, "connection"));
	assert_false(tc_exists(sig));
	assert_int_equal(tc_count_prefix(fx.env.dir, "deverr.p7s"), 0);
	signer_put(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pss_on_a_key_that_forbids_raw_rsa),
		cmocka_unit_test(test_pss_refused_on_a_key_allowing_only_pkcs1),
		cmocka_unit_test(test_pss_falls_back_to_raw_rsa),
		cmocka_unit_test(test_pss_on_a_token_without_raw_rsa),
		cmocka_unit_test(test_pss_refused_on_a_token_with_neither),
		cmocka_unit_test(test_token_error_leaves_no_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
