/*
 * core/keygen.c: a key pair made from a profile on a throwaway SoftHSM2
 * token must be what the profile and NOTES-PKCS11.md promise, read back
 * from the token with raw PKCS#11 rather than taken from struct hd_key:
 * non-extractable, sensitive, generated on the token, labelled from the
 * profile's template, and with a CKA_ID computed here independently from
 * the public key.  Tokens that misbehave are played by tests/fakep11.
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
#include <openssl/objects.h>
#include <openssl/sha.h>

#include "internal.h"
#include "testlib.h"

#define TOKEN "kg"

/* The session a test has open, closed by teardown if an assertion ended
 * the test early, so a failure does not leak a module (and its faults)
 * into the next test. */
static struct hd_session *open_s;

static void
done(struct hd_session *s)
{
	hd_close(s);
	open_s = NULL;
}

static int
setup(void **state)
{
	static struct tl_env e;

	if (tl_env_new(&e) == -1 || tl_init_token(tl_softhsm(), TOKEN) == -1)
		return -1;
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	done(open_s);
	unsetenv("HSMDESK_FAKEP11_FAULT");
	tl_env_free(*state);
	return 0;
}

static struct hd_session *
login(void)
{
	struct hd_session *s = tl_login(tl_softhsm(), TOKEN);

	assert_non_null(s);
	assert_null(open_s);
	return open_s = s;
}

/* The fault-injecting module with these faults, logged in. */
static struct hd_session *
faulty(const char *faults)
{
	struct hd_session *s;

	setenv("HSMDESK_FAKEP11_FAULT", faults, 1);
	if ((s = tl_login(tl_fakep11(), TOKEN)) == NULL)
		fail_msg("fakep11 with %s: no session", faults);
	assert_null(open_s);
	return open_s = s;
}

/* A shipped profile with the subject filled in, so {cn} expands. */
static void
shipped(struct hd_profile *p, const char *name)
{
	struct hd_err err;

	if (hd_profile_load(p, tl_shipped_profile(name), &err) != 0)
		fail_msg("%s", err.msg);
	if (hd_profile_set_subject(p, "CN=Build Bot,O=Contoso GmbH,L=Berlin,"
	    "ST=Berlin,C=DE", &err) != 0)
		fail_msg("%s", err.msg);
}

/* The profile's own label, with {cn} and {date} filled in. */
static const char *
label_of(const struct hd_profile *p)
{
	static char label[129];

	assert_int_equal(hd_profile_label(p, label, sizeof(label)), 0);
	return label;
}

/* ---- raw reads --------------------------------------------------------- */

static CK_ULONG
find_all(struct hd_session *s, CK_OBJECT_CLASS cls, const char *label,
    CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, label ? strlen(label) : 0 },
	};
	CK_ULONG n = 0;

	assert_int_equal(s->fl->C_FindObjectsInit(s->sh, t, label ? 2 : 1),
	    CKR_OK);
	assert_int_equal(s->fl->C_FindObjects(s->sh, out, max, &n), CKR_OK);
	assert_int_equal(s->fl->C_FindObjectsFinal(s->sh), CKR_OK);
	return n;
}

/* The one object of class cls labelled label. */
static CK_OBJECT_HANDLE
find_one(struct hd_session *s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_OBJECT_HANDLE h[4];

	if (find_all(s, cls, label, h, 4) != 1)
		fail_msg("not exactly one %s key labelled '%s'",
		    cls == CKO_PRIVATE_KEY ? "private" : "public", label);
	return h[0];
}

static CK_BBOOL
raw_bool(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0xaa;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	assert_int_equal(s->fl->C_GetAttributeValue(s->sh, h, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, sizeof(v));
	return v;
}

static size_t
raw_bytes(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    unsigned char *buf, size_t len)
{
	CK_ATTRIBUTE a = { type, buf, len };

	assert_int_equal(s->fl->C_GetAttributeValue(s->sh, h, &a, 1), CKR_OK);
	assert_true(a.ulValueLen <= len);
	return a.ulValueLen;
}

static void
assert_label(struct hd_session *s, CK_OBJECT_HANDLE h, const char *want)
{
	unsigned char buf[200];
	size_t n = raw_bytes(s, h, CKA_LABEL, buf, sizeof(buf));

	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

/* Every object on the token, private ones included: logged in. */
static CK_ULONG
count_objects(struct hd_session *s)
{
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0;

	assert_int_equal(s->fl->C_FindObjectsInit(s->sh, NULL, 0), CKR_OK);
	assert_int_equal(s->fl->C_FindObjects(s->sh, h, 64, &n), CKR_OK);
	assert_int_equal(s->fl->C_FindObjectsFinal(s->sh), CKR_OK);
	return n;
}

/* Count on plain SoftHSM2, after the faulty module is closed. */
static CK_ULONG
objects_left(void)
{
	struct hd_session *s = login();
	CK_ULONG n = count_objects(s);

	done(s);
	return n;
}

/* ---- the key identifier, computed here from the public key object ------ */

/* CKA_ID of both halves is the key identifier, and so is k->id. */
static void
assert_key_id(struct hd_session *s, CK_OBJECT_HANDLE priv,
    CK_OBJECT_HANDLE pub, const struct hd_key *k)
{
	unsigned char want[20], other[20], got[64], point[200], *der = NULL;
	size_t plen = 0;
	EVP_PKEY *pk = tl_object_pubkey(s, pub, point, &plen);
	int len;

	assert_non_null(pk);
	assert_int_equal(tl_spki_sha1(pk, want), 0);
	/* the BIT STRING holds RSAPublicKey (RFC 3279 §2.3.1) or the EC
	 * point (RFC 5480 §2.2): what i2d_PublicKey() encodes, too */
	assert_true((len = i2d_PublicKey(pk, &der)) > 0);
	SHA1(der, (size_t)len, other);
	assert_memory_equal(other, want, 20);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	if (plen > 0) {
		/* and for EC the point exactly as the token stores it */
		SHA1(point, plen, other);
		assert_memory_equal(other, want, 20);
	}
	assert_int_equal(raw_bytes(s, priv, CKA_ID, got, sizeof(got)), 20);
	assert_memory_equal(got, want, 20);
	assert_int_equal(raw_bytes(s, pub, CKA_ID, got, sizeof(got)), 20);
	assert_memory_equal(got, want, 20);
	assert_int_equal(k->id_len, 20);
	assert_memory_equal(k->id, want, 20);
	assert_false(k->id_random);
}

/* What NOTES-PKCS11.md asks of every generated private key. */
static void
assert_non_exportable(struct hd_session *s, CK_OBJECT_HANDLE priv)
{
	assert_true(raw_bool(s, priv, CKA_TOKEN));
	assert_true(raw_bool(s, priv, CKA_PRIVATE));
	assert_true(raw_bool(s, priv, CKA_SENSITIVE));
	assert_false(raw_bool(s, priv, CKA_EXTRACTABLE));
	assert_true(raw_bool(s, priv, CKA_NEVER_EXTRACTABLE));
	assert_true(raw_bool(s, priv, CKA_ALWAYS_SENSITIVE));
	assert_true(raw_bool(s, priv, CKA_LOCAL));
	assert_true(raw_bool(s, priv, CKA_SIGN));
}

static void
assert_ec_params(struct hd_session *s, CK_OBJECT_HANDLE pub, int nid)
{
	unsigned char got[64], *want = NULL;
	int wl = i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &want);

	assert_int_equal(raw_bytes(s, pub, CKA_EC_PARAMS, got, sizeof(got)),
	    wl);
	assert_memory_equal(got, want, wl);
	OPENSSL_free(want);
}

/* Progress calls seen, and which call (1-based) asks to cancel. */
struct progress {
	int calls, cancel_at;
	uint64_t done[4], total[4];
};

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *pr = arg;

	if (pr->calls < 4) {
		pr->done[pr->calls] = done;
		pr->total[pr->calls] = total;
	}
	return ++pr->calls == pr->cancel_at;
}

/*
 * Generate the profile's key under its own label and check both halves
 * on the token.  nid is the curve for EC keys, NID_undef for RSA.
 */
static void
check_keygen(const char *profile, const char *type, unsigned bits, int nid)
{
	struct hd_session *s = login();
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;
	struct progress pr = { 0, 0, { 0 }, { 0 } };
	CK_OBJECT_HANDLE priv, pub;
	const char *label;

	shipped(&p, profile);
	label = label_of(&p);
	/* the template is "<kind>-{cn}-{date}": the CN made label-safe */
	assert_non_null(strstr(label, "-Build-Bot-20"));
	if (hd_keygen(s, &p, label, on_progress, &pr, &k, &err) != 0)
		fail_msg("%s: %s", profile, err.msg);
	assert_int_equal(pr.calls, 2);
	assert_true(pr.done[0] == 0 && pr.done[1] == pr.total[1] &&
	    pr.total[1] > 0);

	priv = find_one(s, CKO_PRIVATE_KEY, label);
	pub = find_one(s, CKO_PUBLIC_KEY, label);
	assert_non_exportable(s, priv);
	assert_true(raw_bool(s, pub, CKA_TOKEN));
	assert_true(raw_bool(s, pub, CKA_VERIFY));
	if (nid == NID_undef) {
		CK_ULONG mb;
		unsigned char e[8], n[600];

		raw_bytes(s, pub, CKA_MODULUS_BITS, (unsigned char *)&mb,
		    sizeof(mb));
		assert_int_equal(mb, bits);
		assert_int_equal(raw_bytes(s, pub, CKA_MODULUS, n, sizeof(n)),
		    bits / 8);
		assert_int_equal(raw_bytes(s, pub, CKA_PUBLIC_EXPONENT, e,
		    sizeof(e)), 3);
		assert_memory_equal(e, "\x01\x00\x01", 3);
	} else {
		assert_ec_params(s, pub, nid);
	}
	assert_key_id(s, priv, pub, &k);

	/* what the caller is told agrees with the token */
	assert_string_equal(k.label, label);
	assert_string_equal(k.type, type);
	assert_int_equal(k.bits, bits);
	assert_int_equal(k.sensitive, HD_YES);
	assert_int_equal(k.extractable, HD_NO);
	assert_int_equal(k.never_extractable, HD_YES);
	assert_int_equal(k.local, HD_YES);
	assert_true(k.has_private && k.has_public);
	assert_int_equal(count_objects(s), 2);
	done(s);
}

static void
test_keygen_rsa2048_is_non_exportable_with_spki_id(void **state)
{
	(void)state;
	check_keygen("codesign-rsa2048", "RSA", 2048, NID_undef);
}

static void
test_keygen_rsa3072_is_non_exportable_with_spki_id(void **state)
{
	(void)state;
	check_keygen("codesign-rsa3072", "RSA", 3072, NID_undef);
}

static void
test_keygen_ec_p256_is_non_exportable_with_spki_id(void **state)
{
	(void)state;
	check_keygen("codesign-ecdsa-p256", "EC", 256, NID_X9_62_prime256v1);
}

static void
test_keygen_ec_p384_is_non_exportable_with_spki_id(void **state)
{
	(void)state;
	check_keygen("codesign-ecdsa-p384", "EC", 384, NID_secp384r1);
}

/* No shipped profile asks for RSA 4096: one written here, made once. */
static void
test_keygen_rsa4096_from_written_profile(void **state)
{
	struct hd_session *s = login();
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;
	CK_OBJECT_HANDLE priv, pub;
	CK_ULONG mb;
	const char *path = tl_write(*state, "big.yaml", "name: big\n"
	    "key:\n  type: rsa\n  bits: 4096\n  label: big-{cn}\n"
	    "subject:\n  CN: Vault\nhash: sha512\n");

	assert_non_null(path);
	if (hd_profile_load(&p, path, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(label_of(&p), "big-Vault");
	assert_int_equal(hd_keygen(s, &p, "big-Vault", NULL, NULL, &k, &err),
	    0);
	priv = find_one(s, CKO_PRIVATE_KEY, "big-Vault");
	pub = find_one(s, CKO_PUBLIC_KEY, "big-Vault");
	assert_non_exportable(s, priv);
	raw_bytes(s, pub, CKA_MODULUS_BITS, (unsigned char *)&mb, sizeof(mb));
	assert_int_equal(mb, 4096);
	assert_key_id(s, priv, pub, &k);
	done(s);
}

static void
test_keygen_same_label_twice_gets_a_suffix(void **state)
{
	struct hd_session *s = login();
	struct hd_profile p;
	struct hd_key a, b;
	struct hd_err err;
	CK_OBJECT_HANDLE h[4];

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_keygen(s, &p, "twin", NULL, NULL, &a, &err), 0);
	assert_int_equal(hd_keygen(s, &p, "twin", NULL, NULL, &b, &err), 0);
	assert_string_equal(a.label, "twin");
	assert_string_equal(b.label, "twin-2");
	/* on the token: one pair each, labelled alike on both halves */
	assert_int_equal(find_all(s, CKO_PRIVATE_KEY, "twin", h, 4), 1);
	assert_int_equal(find_all(s, CKO_PUBLIC_KEY, "twin", h, 4), 1);
	assert_label(s, find_one(s, CKO_PRIVATE_KEY, "twin-2"), "twin-2");
	assert_label(s, find_one(s, CKO_PUBLIC_KEY, "twin-2"), "twin-2");
	assert_key_id(s, find_one(s, CKO_PRIVATE_KEY, "twin-2"),
	    find_one(s, CKO_PUBLIC_KEY, "twin-2"), &b);
	assert_memory_not_equal(a.id, b.id, 20);
	done(s);
}

static void
test_keygen_needs_login(void **state)
{
	struct hd_session *s = login();
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_logout(s, &err), 0);
	assert_int_equal(hd_keygen(s, &p, "nologin", NULL, NULL, &k, &err),
	    -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_string_equal(err.msg, "token 'kg': log in before generating "
	    "a key");
	done(s);
	assert_int_equal(objects_left(), 0);
}

/* ---- cancelling -------------------------------------------------------- */

static void
check_cancel(int at, const char *said)
{
	struct hd_session *s = login();
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;
	struct progress pr = { 0, at, { 0 }, { 0 } };

	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_keygen(s, &p, "cancelled", on_progress, &pr, &k,
	    &err), -1);
	assert_int_equal(pr.calls, at);
	assert_int_equal(err.code, HD_E_CANCELLED);
	assert_int_equal(hd_code_exit(err.code), 130);
	assert_non_null(strstr(err.msg, said));
	assert_int_equal(count_objects(s), 0);
	done(s);
	assert_int_equal(objects_left(), 0);
}

static void
test_keygen_cancelled_before_the_token_works_creates_nothing(void **state)
{
	(void)state;
	check_cancel(1, "nothing was created");
}

static void
test_keygen_cancelled_after_the_token_works_deletes_the_pair(void **state)
{
	(void)state;
	check_cancel(2, "the new key pair was deleted");
}

/* ---- tokens that misbehave (tests/fakep11) ----------------------------- */

static void
check_template_refused(const char *fault, CK_RV ckr, const char *ckr_name,
    const char *profile, const char *sized)
{
	struct hd_session *s = faulty(fault);
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;

	shipped(&p, profile);
	assert_int_equal(hd_keygen(s, &p, "refused", NULL, NULL, &k, &err),
	    -1);
	assert_int_equal(err.code, HD_E_TOKEN);
	assert_int_equal(err.ckr, ckr);
	/* the CLI adds the CKR name to the message: it must be this one */
	assert_string_equal(hd_ckr_name(err.ckr), ckr_name);
	assert_non_null(strstr(err.msg, "token 'kg': key generation: "));
	/* the hint names what was asked for, the non-exportable part first */
	assert_non_null(strstr(err.hint, "CKA_SENSITIVE=true"));
	assert_non_null(strstr(err.hint, "CKA_EXTRACTABLE=false"));
	assert_non_null(strstr(err.hint, sized));
	assert_non_null(strstr(err.hint, "nothing was created"));
	done(s);
	assert_int_equal(objects_left(), 0);
}

static void
test_keygen_template_inconsistent_names_the_template(void **state)
{
	(void)state;
	check_template_refused("keygen-template-inconsistent",
	    CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT",
	    "codesign-rsa3072",
	    "CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT");
}

static void
test_keygen_attribute_invalid_names_the_template(void **state)
{
	(void)state;
	check_template_refused("keygen-attribute-invalid",
	    CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID",
	    "codesign-ecdsa-p384",
	    "CKA_EC_PARAMS");
}

/* The token fails half-way and leaves a public key without its private
 * key: the half must not stay behind. */
static void
test_keygen_half_made_pair_leaves_nothing(void **state)
{
	struct hd_session *s = faulty("keygen-half");
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_keygen(s, &p, "half", NULL, NULL, &k, &err), -1);
	assert_int_equal(err.ckr, CKR_DEVICE_ERROR);
	assert_int_equal(err.code, HD_E_DEVICE);
	assert_non_null(strstr(err.msg, "token 'kg': key generation: "));
	done(s);
	assert_int_equal(objects_left(), 0);
}

static void
test_keygen_token_claiming_extractable_loses_the_key(void **state)
{
	struct hd_session *s = faulty("key-extractable");
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_keygen(s, &p, "leaky", NULL, NULL, &k, &err), -1);
	assert_int_equal(err.code, HD_E_TOKEN);
	/* fakep11's key-extractable claims both at once */
	assert_string_equal(err.msg, "token 'kg': reported the new private "
	    "key as not sensitive (readable in plaintext) and extractable "
	    "although hsmdesk asked for a sensitive, non-exportable key");
	assert_non_null(strstr(err.hint, "deleted"));
	done(s);
	assert_int_equal(objects_left(), 0);
}

/* C_SetAttributeValue refused: the key is kept under its random CKA_ID,
 * and the caller is told so. */
static void
test_keygen_without_setattr_keeps_the_random_id(void **state)
{
	struct hd_session *s = faulty("setattr-unsupported");
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;
	unsigned char id[64];
	CK_OBJECT_HANDLE priv, pub;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	assert_int_equal(hd_keygen(s, &p, "randid", NULL, NULL, &k, &err), 0);
	assert_true(k.id_random);
	assert_int_equal(k.id_len, 16);
	done(s);

	s = login();
	priv = find_one(s, CKO_PRIVATE_KEY, "randid");
	pub = find_one(s, CKO_PUBLIC_KEY, "randid");
	assert_non_exportable(s, priv);
	assert_int_equal(raw_bytes(s, priv, CKA_ID, id, sizeof(id)), 16);
	assert_memory_equal(id, k.id, 16);
	assert_int_equal(raw_bytes(s, pub, CKA_ID, id, sizeof(id)), 16);
	assert_memory_equal(id, k.id, 16);
	assert_int_equal(count_objects(s), 2);
	done(s);
}

/* CKA_EC_POINT handed out as the raw point: the ID must still be the
 * SHA-1 of the point, checked on plain SoftHSM2 afterwards. */
static void
check_ec_point_raw(const char *profile, const char *label)
{
	struct hd_session *s = faulty("ec-point-raw");
	struct hd_profile p;
	struct hd_key k;
	struct hd_err err;

	shipped(&p, profile);
	if (hd_keygen(s, &p, label, NULL, NULL, &k, &err) != 0)
		fail_msg("%s: %s", profile, err.msg);
	done(s);
	s = login();
	assert_key_id(s, find_one(s, CKO_PRIVATE_KEY, label),
	    find_one(s, CKO_PUBLIC_KEY, label), &k);
	done(s);
}

static void
test_keygen_raw_ec_point_still_gives_the_spki_id(void **state)
{
	(void)state;
	check_ec_point_raw("codesign-ecdsa-p256", "raw256");
	check_ec_point_raw("codesign-ecdsa-p384", "raw384");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_keygen_rsa2048_is_non_exportable_with_spki_id),
		T(test_keygen_rsa3072_is_non_exportable_with_spki_id),
		T(test_keygen_ec_p256_is_non_exportable_with_spki_id),
		T(test_keygen_ec_p384_is_non_exportable_with_spki_id),
		T(test_keygen_rsa4096_from_written_profile),
		T(test_keygen_same_label_twice_gets_a_suffix),
		T(test_keygen_needs_login),
		T(test_keygen_cancelled_before_the_token_works_creates_nothing),
		T(test_keygen_cancelled_after_the_token_works_deletes_the_pair),
		T(test_keygen_template_inconsistent_names_the_template),
		T(test_keygen_attribute_invalid_names_the_template),
		T(test_keygen_half_made_pair_leaves_nothing),
		T(test_keygen_token_claiming_extractable_loses_the_key),
		T(test_keygen_without_setattr_keeps_the_random_id),
		T(test_keygen_raw_ec_point_still_gives_the_spki_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
