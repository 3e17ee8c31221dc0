/*
 * core/keys.c: the listing must tell a non-extractable key from an
 * extractable one, pair keys with certificates by CKA_ID, and name sizes
 * and curves.  Keys are made here through the raw layer with explicit
 * templates, so each attribute is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "internal.h"
#include "testlib.h"

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int
setup(void **state)
{
	static struct tl_env e;

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), "k") == -1)
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
login(void)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(TL_PIN);

	if (s == NULL || hd_token_select(s, "k", &err) == -1 ||
	    hd_login(s, p, &err) == -1)
		fail_msg("login: %s", err.msg);
	hd_pin_free(p);
	return s;
}

static void
gen_rsa(struct hd_session *s, const char *id, CK_BBOOL extractable,
    CK_BBOOL sensitive)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
		{ CKA_ID, (void *)id, strlen(id) },
		{ CKA_LABEL, (void *)id, strlen(id) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SIGN, &yes, 1 }, { CKA_SENSITIVE, &sensitive, 1 },
		{ CKA_EXTRACTABLE, &extractable, 1 },
		{ CKA_ID, (void *)id, strlen(id) },
		{ CKA_LABEL, (void *)id, strlen(id) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;

	assert_int_equal(s->fl->C_GenerateKeyPair(s->sh, &m, pub, 6, priv, 7,
	    &hpub, &hpriv), CKR_OK);
}

static void
gen_ec(struct hd_session *s, const char *id)
{
	/* DER OID 1.3.132.0.34, secp384r1 */
	static CK_BYTE p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
		{ CKA_EC_PARAMS, p384, sizeof(p384) },
		{ CKA_ID, (void *)id, strlen(id) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SIGN, &yes, 1 }, { CKA_SENSITIVE, &yes, 1 },
		{ CKA_EXTRACTABLE, &no, 1 }, { CKA_ID, (void *)id, strlen(id) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;

	assert_int_equal(s->fl->C_GenerateKeyPair(s->sh, &m, pub, 4, priv, 6,
	    &hpub, &hpriv), CKR_OK);
}

/* A certificate object: the listing only looks at its class and CKA_ID. */
static void
put_cert(struct hd_session *s, const char *id)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int len;
	CK_OBJECT_HANDLE h;

	assert_non_null(k);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	{
		unsigned char *subj = NULL;
		int slen = i2d_X509_NAME(X509_get_subject_name(x), &subj);
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
			{ CKA_TOKEN, &yes, 1 },
			{ CKA_ID, (void *)id, strlen(id) },
			{ CKA_VALUE, der, (CK_ULONG)len },
			{ CKA_SUBJECT, subj, (CK_ULONG)slen },
		};
		assert_int_equal(s->fl->C_CreateObject(s->sh, t, 6, &h),
		    CKR_OK);
		OPENSSL_free(subj);
	}
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}

static const struct hd_key *
find(const struct hd_key *k, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (k[i].id_len == strlen(id) && !memcmp(k[i].id, id, k[i].id_len))
			return &k[i];
	fail_msg("key %s not listed", id);
	return NULL;
}

static void
test_keys_prove_non_extractable_and_pair_certificates(void **state)
{
	struct hd_err err;
	struct hd_session *s = login();
	struct hd_key *keys;
	const struct hd_key *k;
	size_t n;

	(void)state;
	gen_rsa(s, "locked", CK_FALSE, CK_TRUE);
	gen_rsa(s, "loose", CK_TRUE, CK_FALSE);
	gen_ec(s, "ec");
	put_cert(s, "locked");
	assert_int_equal(hd_keys(s, &keys, &n, &err), 0);
	assert_int_equal(n, 3);
	k = find(keys, n, "locked");
	assert_string_equal(k->type, "RSA");
	assert_int_equal(k->bits, 2048);
	assert_int_equal(k->sensitive, HD_YES);
	assert_int_equal(k->extractable, HD_NO);
	assert_int_equal(k->never_extractable, HD_YES);
	assert_int_equal(k->always_sensitive, HD_YES);
	assert_int_equal(k->local, HD_YES);
	assert_true(k->has_private && k->has_public && k->has_cert);
	assert_string_equal(k->label, "locked");
	k = find(keys, n, "loose");
	assert_int_equal(k->extractable, HD_YES);
	assert_int_equal(k->sensitive, HD_NO);
	assert_int_equal(k->never_extractable, HD_NO);
	assert_false(k->has_cert);
	k = find(keys, n, "ec");
	assert_string_equal(k->type, "EC");
	assert_string_equal(k->curve, "P-384");
	assert_int_equal(k->bits, 384);
	free(keys);
	hd_close(s);
}

static void
test_keys_without_login_show_public_keys_only(void **state)
{
	struct hd_err err;
	struct hd_session *s = login();
	struct hd_key *keys;
	size_t n;

	(void)state;
	gen_rsa(s, "pub", CK_FALSE, CK_TRUE);
	assert_int_equal(hd_logout(s, &err), 0);
	assert_int_equal(hd_keys(s, &keys, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_false(keys[0].has_private);
	assert_true(keys[0].has_public);
	assert_int_equal(keys[0].extractable, HD_UNKNOWN);
	free(keys);
	hd_close(s);
}

static void
test_hex_is_lowercase_and_bounded(void **state)
{
	unsigned char id[] = { 0x00, 0xab, 0xff };
	char out[5];

	(void)state;
	hd_hex(id, sizeof(id), out, sizeof(out));
	assert_string_equal(out, "00ab");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_keys_prove_non_extractable_and_pair_certificates,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_keys_without_login_show_public_keys_only, setup,
		    teardown),
		cmocka_unit_test(test_hex_is_lowercase_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
