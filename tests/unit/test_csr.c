/*
 * core/csr.c and core/ceremony.c: the PKCS#10 request a CA receives, read
 * back with OpenSSL as the CA would (subject order, extensions, the
 * Microsoft template attribute, signature and its algorithm), the files
 * it is written to, and the key ceremony record that goes with it.  The
 * keys are made once per run on a throwaway SoftHSM2 token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "testlib.h"

#define TOKEN "csr"

/* One token, one login and three keys for the whole file. */
static struct {
	struct tl_env env;
	struct hd_session *s;
	struct hd_key rsa, ec256, ec384;
	int outdirs;
} g;

static int
gen(const char *profile, const char *label, struct hd_key *k)
{
	struct hd_profile p;
	struct hd_err err;

	if (hd_profile_load(&p, tl_shipped_profile(profile), &err) != 0 ||
	    hd_keygen(g.s, &p, label, NULL, NULL, k, &err) != 0) {
		fprintf(stderr, "%s: %s\n", profile, err.msg);
		return -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	if (tl_env_new(&g.env) == -1 || tl_init_token(tl_softhsm(),
	    TOKEN) == -1 || (g.s = tl_login(tl_softhsm(), TOKEN)) == NULL)
		return -1;
	if (gen("codesign-rsa2048", "rsa", &g.rsa) == -1 ||
	    gen("codesign-ecdsa-p256", "ec256", &g.ec256) == -1 ||
	    gen("codesign-ecdsa-p384", "ec384", &g.ec384) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	hd_close(g.s);
	tl_env_free(&g.env);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static void
load_yaml(struct hd_profile *p, const char *yaml)
{
	struct hd_err err;
	const char *path = tl_write(&g.env, "profile.yaml", yaml);

	assert_non_null(path);
	if (hd_profile_load(p, path, &err) != 0)
		fail_msg("%s", err.msg);
}

/* A shipped profile with its subject filled in, in a scrambled order. */
static void
shipped(struct hd_profile *p, const char *name)
{
	struct hd_err err;

	if (hd_profile_load(p, tl_shipped_profile(name), &err) != 0 ||
	    hd_profile_set_subject(p, "CN=Build Bot, O=Contoso GmbH, "
	    "C=DE, L=Berlin, ST=Berlin", &err) != 0)
		fail_msg("%s: %s", name, err.msg);
}

static void
make(const struct hd_profile *p, const struct hd_key *k, struct hd_csr *c)
{
	struct hd_err err;

	if (hd_csr_make(g.s, p, k, c, &err) != 0)
		fail_msg("%s: %s", p->name, err.msg);
}

/* The DER parsed back, all of it and nothing more. */
static X509_REQ *
parse(const struct hd_csr *c)
{
	const unsigned char *p = c->der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)c->len);

	assert_non_null(req);
	assert_ptr_equal(p, c->der + c->len);
	return req;
}

static X509_EXTENSION *
ext_of(STACK_OF(X509_EXTENSION) *exts, int nid)
{
	int i = X509v3_get_ext_by_NID(exts, nid, -1);

	return i < 0 ? NULL : X509v3_get_ext(exts, i);
}

static void
free_exts(STACK_OF(X509_EXTENSION) *exts)
{
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static const char *
oid_text(const ASN1_OBJECT *o)
{
	static char buf[128];

	OBJ_obj2txt(buf, sizeof(buf), o, 1);
	return buf;
}

/* The public key object of k, built in the test from raw attributes. */
static EVP_PKEY *
token_pubkey(const struct hd_key *k)
{
	CK_OBJECT_HANDLE h;
	struct hd_err err;
	EVP_PKEY *pk;

	assert_int_equal(hd_find_by_id(g.s, CKO_PUBLIC_KEY, k->id, k->id_len,
	    &h, &err), 1);
	assert_non_null(pk = tl_object_pubkey(g.s, h, NULL, NULL));
	return pk;
}

static const char *
sha256_hex(const unsigned char *der, size_t len)
{
	static char hex[65];
	unsigned char md[32];
	int i;

	SHA256(der, len, md);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

/* ---- subject ----------------------------------------------------------- */

static void
assert_name(X509_REQ *req, const int *nids, const char **values, int n)
{
	X509_NAME *name = X509_REQ_get_subject_name(req);
	int i;

	assert_int_equal(X509_NAME_entry_count(name), n);
	for (i = 0; i < n; i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(e));

		assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)),
		    nids[i]);
		/* one attribute per RDN, as certreq and CAs expect */
		assert_int_equal(X509_NAME_ENTRY_set(e), i);
		assert_int_equal(len, strlen(values[i]));
		assert_memory_equal(utf8, values[i], len);
		OPENSSL_free(utf8);
	}
}

static void
test_csr_subject_is_encoded_in_conventional_order(void **state)
{
	static const int nids[] = { NID_countryName,
		NID_stateOrProvinceName, NID_localityName,
		NID_organizationName, NID_organizationalUnitName,
		NID_commonName, NID_pkcs9_emailAddress, NID_serialNumber };
	static const char *values[] = { "DE", "Berlin", "Berlin",
		"Contoso GmbH", "Release Engineering", "Build Bot \xc3\xa9",
		"ops@contoso.com", "42" };
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;

	(void)state;
	/* written in the reverse order, the others first */
	load_yaml(&p, "name: order\nkey: {type: ec, curve: P-256}\n"
	    "subject:\n  emailAddress: ops@contoso.com\n"
	    "  CN: \"Build Bot \\u00e9\"\n  serialNumber: \"42\"\n"
	    "  OU: Release Engineering\n  O: Contoso GmbH\n  L: Berlin\n"
	    "  ST: Berlin\n  C: DE\n");
	make(&p, &g.ec256, &c);
	req = parse(&c);
	assert_name(req, nids, values, 8);
	assert_string_equal(c.subject, "C=DE, ST=Berlin, L=Berlin, "
	    "O=Contoso GmbH, OU=Release Engineering, CN=Build Bot \xc3\xa9, "
	    "emailAddress=ops@contoso.com, serialNumber=42");
	X509_REQ_free(req);
	hd_csr_free(&c);
}

static void
test_csr_subject_given_at_request_time_is_ordered_too(void **state)
{
	static const int nids[] = { NID_countryName,
		NID_stateOrProvinceName, NID_localityName,
		NID_organizationName, NID_commonName };
	static const char *values[] = { "DE", "Berlin", "Berlin",
		"Contoso GmbH", "Build Bot" };
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;

	(void)state;
	shipped(&p, "codesign-rsa2048");	/* --subject CN=..,O=..,C=.. */
	make(&p, &g.rsa, &c);
	req = parse(&c);
	assert_name(req, nids, values, 5);
	X509_REQ_free(req);
	hd_csr_free(&c);
}

/* ---- extensions -------------------------------------------------------- */

/* KeyUsage BIT STRING, DER-minimal (X.690 §11.2.2): the whole value. */
static void
test_csr_key_usage_is_critical_with_the_profile_bits(void **state)
{
	static const struct {
		unsigned ku;
		unsigned char der[4];
	} cases[] = {
		{ HD_KU_DIGITAL_SIGNATURE, { 0x03, 0x02, 0x07, 0x80 } },
		{ HD_KU_DIGITAL_SIGNATURE | HD_KU_KEY_ENCIPHERMENT,
		  { 0x03, 0x02, 0x05, 0xa0 } },
		{ HD_KU_NON_REPUDIATION, { 0x03, 0x02, 0x06, 0x40 } },
		{ HD_KU_KEY_AGREEMENT, { 0x03, 0x02, 0x03, 0x08 } },
		{ HD_KU_KEY_CERT_SIGN | HD_KU_CRL_SIGN,
		  { 0x03, 0x02, 0x01, 0x06 } },
		{ 0xfe, { 0x03, 0x02, 0x01, 0xfe } },
	};
	struct hd_profile p;
	size_t i;
	int bit;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hd_csr c;
		X509_REQ *req;
		STACK_OF(X509_EXTENSION) *exts;
		X509_EXTENSION *ext;
		ASN1_BIT_STRING *bs;
		const ASN1_OCTET_STRING *v;

		p.key_usage = cases[i].ku;
		make(&p, &g.ec256, &c);
		req = parse(&c);
		exts = X509_REQ_get_extensions(req);
		assert_non_null(ext = ext_of(exts, NID_key_usage));
		assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
		v = X509_EXTENSION_get_data(ext);
		assert_int_equal(ASN1_STRING_length(v), 4);
		assert_memory_equal(ASN1_STRING_get0_data(v), cases[i].der, 4);
		/* and as OpenSSL reads it: bit n is 0x80 >> n */
		assert_non_null(bs = X509V3_EXT_d2i(ext));
		for (bit = 0; bit < 9; bit++)
			assert_int_equal(ASN1_BIT_STRING_get_bit(bs, bit),
			    bit < 8 && (cases[i].ku & (0x80u >> bit)) != 0);
		ASN1_BIT_STRING_free(bs);
		free_exts(exts);
		X509_REQ_free(req);
		hd_csr_free(&c);
	}
}

static void
test_csr_without_key_usage_has_no_such_extension(void **state)
{
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;

	(void)state;
	load_yaml(&p, "name: bare\nkey: {type: ec, curve: P-256}\n"
	    "subject: {CN: Build Bot}\n");
	make(&p, &g.ec256, &c);
	req = parse(&c);
	/* no extension request attribute at all, and no template */
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 0);
	assert_int_equal(X509_REQ_get_attr_count(req), 0);
	free_exts(exts);
	X509_REQ_free(req);
	hd_csr_free(&c);
}

static void
test_csr_extended_key_usage_by_name_and_by_oid(void **state)
{
	/* no serverAuth or emailProtection here: those require their
	 * alternative names (test_profile_ready), a second extension */
	static const char *want[] = { "1.3.6.1.5.5.7.3.3",
		"1.3.6.1.5.5.7.3.8", "1.3.6.1.4.1.311.10.3.13",
		"1.3.6.1.5.5.7.3.2" };
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION *ext;
	EXTENDED_KEY_USAGE *eku;
	int i;

	(void)state;
	load_yaml(&p, "name: eku\nkey: {type: rsa, bits: 2048}\n"
	    "subject: {CN: Build Bot}\nextensions:\n"
	    "  extended_key_usage: [codeSigning, 1.3.6.1.5.5.7.3.8, "
	    "1.3.6.1.4.1.311.10.3.13, clientauth]\n");
	make(&p, &g.rsa, &c);
	req = parse(&c);
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	assert_non_null(ext = ext_of(exts, NID_ext_key_usage));
	assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
	assert_non_null(eku = X509V3_EXT_d2i(ext));
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(oid_text(sk_ASN1_OBJECT_value(eku, i)),
		    want[i]);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	free_exts(exts);
	X509_REQ_free(req);
	hd_csr_free(&c);
}

static void
assert_general_name(GENERAL_NAME *gn, int type, const void *value,
    int len)
{
	int t;
	ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &t);

	assert_int_equal(t, type);
	assert_int_equal(ASN1_STRING_length(s), len);
	assert_memory_equal(ASN1_STRING_get0_data(s), value, len);
}

static void
test_csr_alternative_names_of_each_kind(void **state)
{
	static const unsigned char v4[] = { 192, 0, 2, 10 };
	static const unsigned char v6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION *ext;
	GENERAL_NAMES *gens;

	(void)state;
	load_yaml(&p, "name: san\nkey: {type: ec, curve: P-256}\n"
	    "subject: {CN: build.contoso.com}\nextensions:\n"
	    "  subject_alt_names: [\"DNS:build.contoso.com\", "
	    "\"DNS:*.contoso.com\", \"email:ops@contoso.com\", "
	    "\"URI:https://contoso.com/build\", \"IP:192.0.2.10\", "
	    "\"IP:2001:db8::10\"]\n");
	make(&p, &g.ec256, &c);
	req = parse(&c);
	exts = X509_REQ_get_extensions(req);
	assert_non_null(ext = ext_of(exts, NID_subject_alt_name));
	assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
	assert_non_null(gens = X509V3_EXT_d2i(ext));
	assert_int_equal(sk_GENERAL_NAME_num(gens), 6);
	assert_general_name(sk_GENERAL_NAME_value(gens, 0), GEN_DNS,
	    "build.contoso.com", 17);
	assert_general_name(sk_GENERAL_NAME_value(gens, 1), GEN_DNS,
	    "*.contoso.com", 13);
	assert_general_name(sk_GENERAL_NAME_value(gens, 2), GEN_EMAIL,
	    "ops@contoso.com", 15);
	assert_general_name(sk_GENERAL_NAME_value(gens, 3), GEN_URI,
	    "https://contoso.com/build", 25);
	assert_general_name(sk_GENERAL_NAME_value(gens, 4), GEN_IPADD, v4, 4);
	assert_general_name(sk_GENERAL_NAME_value(gens, 5), GEN_IPADD, v6,
	    16);
	GENERAL_NAMES_free(gens);
	free_exts(exts);
	X509_REQ_free(req);
	hd_csr_free(&c);
}

/* ---- certreq's template, from an INF file ------------------------------ */

/* SEQUENCE { BMPString "CertificateTemplate", BMPString "WebServer" } */
static size_t
template_der(unsigned char *out)
{
	static const char k[] = "CertificateTemplate", v[] = "WebServer";
	size_t n = 0, i;

	out[n++] = 0x30;
	out[n++] = (unsigned char)(2 + 2 * (sizeof(k) - 1) + 2 +
	    2 * (sizeof(v) - 1));
	out[n++] = 0x1e;
	out[n++] = 2 * (sizeof(k) - 1);
	for (i = 0; i < sizeof(k) - 1; i++) {
		out[n++] = 0;
		out[n++] = (unsigned char)k[i];
	}
	out[n++] = 0x1e;
	out[n++] = 2 * (sizeof(v) - 1);
	for (i = 0; i < sizeof(v) - 1; i++) {
		out[n++] = 0;
		out[n++] = (unsigned char)v[i];
	}
	return n;
}

static void
test_csr_from_inf_carries_the_certificate_template(void **state)
{
	static const int nids[] = { NID_countryName, NID_organizationName,
		NID_commonName };
	static const char *values[] = { "DE", "Contoso; Ltd",
		"build.contoso.com" };
	char path[1024];
	unsigned char want[128];
	size_t wl = template_der(want);
	struct hd_profile p;
	struct hd_key k;
	struct hd_csr c;
	struct hd_err err;
	X509_REQ *req;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.311.13.2.1", 1);
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *gens;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/webserver-san.inf",
	    getenv("HSMDESK_TOP") ? getenv("HSMDESK_TOP") : ".");
	if (hd_inf_load(&p, path, 0, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(p.cert_template, "WebServer");
	if (hd_keygen(g.s, &p, "web", NULL, NULL, &k, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(k.bits, 3072);
	make(&p, &k, &c);
	req = parse(&c);

	assert_int_equal(X509_REQ_get_attr_count(req), 2);
	assert_true((i = X509_REQ_get_attr_by_OBJ(req, oid, -1)) >= 0);
	attr = X509_REQ_get_attr(req, i);
	assert_int_equal(X509_ATTRIBUTE_count(attr), 1);
	t = X509_ATTRIBUTE_get0_type(attr, 0);
	assert_int_equal(ASN1_TYPE_get(t), V_ASN1_SEQUENCE);
	assert_int_equal(t->value.sequence->length, wl);
	assert_memory_equal(t->value.sequence->data, want, wl);

	/* the rest of the INF made it into the request too */
	assert_name(req, nids, values, 3);
	assert_int_equal(X509_REQ_get_signature_nid(req),
	    NID_sha384WithRSAEncryption);
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 3);
	gens = X509V3_EXT_d2i(ext_of(exts, NID_subject_alt_name));
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 6);
	GENERAL_NAMES_free(gens);
	free_exts(exts);
	ASN1_OBJECT_free(oid);
	X509_REQ_free(req);
	hd_csr_free(&c);
	assert_int_equal(hd_key_delete(g.s, &k, &err), 0);
}

/* ---- signature --------------------------------------------------------- */

static void
check_signature(const struct hd_key *k, const struct hd_key *other,
    const char *hash, int sig_nid, int rsa)
{
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;
	EVP_PKEY *pub = token_pubkey(k), *wrong = token_pubkey(other);
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	const void *pval;
	const unsigned char *bits;
	unsigned char id[20];
	int ptype, len;

	shipped(&p, rsa ? "codesign-rsa2048" : "codesign-ecdsa-p256");
	snprintf(p.hash, sizeof(p.hash), "%s", hash);
	make(&p, k, &c);
	req = parse(&c);
	assert_int_equal(X509_REQ_get_version(req), 0);
	assert_int_equal(X509_REQ_get_signature_nid(req), sig_nid);
	/* RFC 4055 §5: NULL parameters for RSA; RFC 5758 §3.2: none for
	 * ECDSA */
	X509_REQ_get0_signature(req, &sig, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	assert_int_equal(ptype, rsa ? V_ASN1_NULL : V_ASN1_UNDEF);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	assert_int_not_equal(X509_REQ_verify(req, wrong), 1);
	/* the request's key is the token key named by CKA_ID */
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &bits, &len, NULL,
	    X509_REQ_get_X509_PUBKEY(req)), 1);
	SHA1(bits, (size_t)len, id);
	assert_int_equal(k->id_len, 20);
	assert_memory_equal(id, k->id, 20);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pub), 1);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(wrong);
	X509_REQ_free(req);
	hd_csr_free(&c);
}

static void
test_csr_rsa_signature_uses_the_profile_hash(void **state)
{
	(void)state;
	check_signature(&g.rsa, &g.ec256, "sha256",
	    NID_sha256WithRSAEncryption, 1);
	check_signature(&g.rsa, &g.ec256, "sha384",
	    NID_sha384WithRSAEncryption, 1);
	check_signature(&g.rsa, &g.ec256, "sha512",
	    NID_sha512WithRSAEncryption, 1);
}

static void
test_csr_ecdsa_signature_uses_the_profile_hash(void **state)
{
	(void)state;
	check_signature(&g.ec256, &g.ec384, "sha256", NID_ecdsa_with_SHA256,
	    0);
	check_signature(&g.ec256, &g.ec384, "sha384", NID_ecdsa_with_SHA384,
	    0);
	check_signature(&g.ec256, &g.ec384, "sha512", NID_ecdsa_with_SHA512,
	    0);
	check_signature(&g.ec384, &g.ec256, "sha384", NID_ecdsa_with_SHA384,
	    0);
}

static void
test_csr_sha256_is_that_of_the_der(void **state)
{
	struct hd_profile p;
	struct hd_csr c;
	X509_REQ *req;
	unsigned char *der = NULL;
	int len;

	(void)state;
	shipped(&p, "codesign-ecdsa-p384");
	make(&p, &g.ec384, &c);
	assert_int_equal(strlen(c.sha256), 64);
	assert_string_equal(c.sha256, sha256_hex(c.der, c.len));
	/* the DER is the request's own encoding, nothing around it */
	req = parse(&c);
	len = i2d_X509_REQ(req, &der);
	assert_int_equal(len, c.len);
	assert_memory_equal(der, c.der, c.len);
	OPENSSL_free(der);
	X509_REQ_free(req);
	hd_csr_free(&c);
	assert_null(c.der);
	assert_int_equal(c.len, 0);
}

static void
test_csr_refuses_a_profile_that_is_not_ready(void **state)
{
	struct hd_profile p;
	struct hd_csr c;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_profile_load(&p,
	    tl_shipped_profile("codesign-rsa2048"), &err), 0);
	assert_int_equal(hd_csr_make(g.s, &p, &g.rsa, &c, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_string_equal(err.msg, "profile 'codesign-rsa2048': subject "
	    "C, ST, L, O, CN are required: give --subject "
	    "\"C=...,ST=...,L=...,O=...,CN=...\"");
	assert_null(c.der);
	assert_int_equal(c.len, 0);

	assert_int_equal(hd_profile_set_subject(&p, "C=DE,ST=Berlin,L=Berlin,"
	    "O=Example Corp,CN=Build Bot", &err), 0);
	assert_int_equal(hd_csr_make(g.s, &p, &g.rsa, &c, &err), -1);
	assert_non_null(strstr(err.msg, "looks like a placeholder"));
	assert_null(c.der);
}

/* ---- writing ----------------------------------------------------------- */

/* A new empty directory under the test's temp dir. */
static const char *
outdir(void)
{
	static char dir[700];

	snprintf(dir, sizeof(dir), "%s/out%d", g.env.dir, ++g.outdirs);
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

/* The names in dir, sorted, joined by ' '. */
static const char *
listing(const char *dir)
{
	static char buf[1024];
	struct dirent **names;
	size_t used = 0;
	int i, n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			used += snprintf(buf + used, sizeof(buf) - used, "%s%s",
			    used ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(65536);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void
make_one(struct hd_csr *c)
{
	struct hd_profile p;

	shipped(&p, "codesign-ecdsa-p256");
	make(&p, &g.ec256, c);
}

static void
test_csr_write_pem_and_der(void **state)
{
	const char *dir = outdir();
	char pem[800], der[800];
	struct hd_csr c;
	struct hd_err err;
	struct stat st;
	X509_REQ *req;
	unsigned char *back = NULL;
	char *text;
	size_t len;
	BIO *b;

	(void)state;
	make_one(&c);
	snprintf(pem, sizeof(pem), "%s/req.pem", dir);
	snprintf(der, sizeof(der), "%s/req.der", dir);
	assert_int_equal(hd_csr_write(&c, pem, 0, 0, &err), 0);
	assert_int_equal(hd_csr_write(&c, der, 1, 0, &err), 0);
	assert_string_equal(listing(dir), "req.der req.pem");

	text = slurp(pem, &len);
	assert_int_equal(strncmp(text, "-----BEGIN CERTIFICATE REQUEST-----\n",
	    36), 0);
	assert_non_null(b = BIO_new_mem_buf(text, (int)len));
	assert_non_null(req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL));
	assert_int_equal(i2d_X509_REQ(req, &back), c.len);
	assert_memory_equal(back, c.der, c.len);
	OPENSSL_free(back);
	X509_REQ_free(req);
	BIO_free(b);
	free(text);

	text = slurp(der, &len);
	assert_int_equal(len, c.len);
	assert_memory_equal(text, c.der, len);
	free(text);
	assert_int_equal(stat(der, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	hd_csr_free(&c);
}

static void
test_csr_write_refuses_to_overwrite_without_replace(void **state)
{
	const char *dir = outdir();
	char path[800], want[900];
	struct hd_csr c;
	struct hd_err err;
	const char *text;
	char *back;
	size_t len;
	FILE *f;

	(void)state;
	make_one(&c);
	snprintf(path, sizeof(path), "%s/req.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("an older request\n", f);
	fclose(f);

	assert_int_equal(hd_csr_write(&c, path, 0, 0, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	snprintf(want, sizeof(want), "%s: exists already", path);
	assert_string_equal(err.msg, want);
	back = slurp(path, &len);
	assert_string_equal(back, "an older request\n");
	free(back);
	assert_string_equal(listing(dir), "req.pem");

	/* DER too, and with replace it is overwritten */
	assert_int_equal(hd_csr_write(&c, path, 1, 0, &err), -1);
	assert_string_equal(listing(dir), "req.pem");
	assert_int_equal(hd_csr_write(&c, path, 0, 1, &err), 0);
	back = slurp(path, &len);
	text = "-----BEGIN CERTIFICATE REQUEST-----";
	assert_int_equal(strncmp(back, text, strlen(text)), 0);
	free(back);
	assert_string_equal(listing(dir), "req.pem");
	hd_csr_free(&c);
}

static void
test_csr_write_into_missing_directory_leaves_nothing(void **state)
{
	const char *dir = outdir();
	char path[800], want[900];
	struct hd_csr c;
	struct hd_err err;
	struct stat st;

	(void)state;
	make_one(&c);
	snprintf(path, sizeof(path), "%s/missing/req.pem", dir);
	assert_int_equal(hd_csr_write(&c, path, 0, 0, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot write: No such file or "
	    "directory", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(hd_csr_write(&c, path, 1, 1, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_string_equal(listing(dir), "");
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(stat(path, &st), -1);
	hd_csr_free(&c);
}

static void
test_csr_write_into_read_only_directory_leaves_nothing(void **state)
{
	const char *dir;
	char path[800], want[900];
	struct hd_csr c;
	struct hd_err err;

	(void)state;
	if (geteuid() == 0)
		skip();		/* root writes into a read-only directory */
	dir = outdir();
	make_one(&c);
	assert_int_equal(chmod(dir, 0555), 0);
	snprintf(path, sizeof(path), "%s/req.pem", dir);
	assert_int_equal(hd_csr_write(&c, path, 0, 0, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot write: Permission denied",
	    path);
	assert_string_equal(err.msg, want);
	assert_int_equal(hd_csr_write(&c, path, 1, 1, &err), -1);
	assert_string_equal(listing(dir), "");
	assert_int_equal(chmod(dir, 0700), 0);
	hd_csr_free(&c);
}

/* ---- the key ceremony record ------------------------------------------- */

static void
assert_has(const char *text, const char *fmt, ...)
{
	char want[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (strstr(text, want) == NULL)
		fail_msg("missing \"%s\" in:\n%s", want, text);
}

static void
test_ceremony_record_names_token_key_attributes_and_csr(void **state)
{
	struct hd_token_info ti;
	struct hd_profile p;
	struct hd_csr c;
	struct hd_err err;
	unsigned char id[20];
	char hex[41];
	char *text;
	EVP_PKEY *pub = token_pubkey(&g.ec256);
	int i;

	(void)state;
	shipped(&p, "codesign-ecdsa-p256");
	make(&p, &g.ec256, &c);
	assert_int_equal(hd_token_info(g.s, &ti, &err), 0);
	assert_int_equal(hd_ceremony_text(g.s, &p, &g.ec256, &c,
	    "/srv/req/req.pem", &text, &err), 0);

	assert_has(text, "Token               %s (serial %s, %s %s)\n", TOKEN,
	    ti.serial, ti.manufacturer, ti.model);
	assert_true(ti.serial[0] != '\0');
	assert_has(text, "Profile             codesign-ecdsa-p256 (%s)\n",
	    tl_shipped_profile("codesign-ecdsa-p256"));
	assert_has(text, "Key label           ec256\n");
	/* the CKA_ID in hex, computed here from the token's public key */
	assert_int_equal(tl_spki_sha1(pub, id), 0);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	assert_has(text, "Key ID (CKA_ID)     %s\n", hex);
	assert_has(text, "Key                 EC P-256\n");
	assert_has(text, "  sensitive           yes\n");
	assert_has(text, "  extractable         no\n");
	assert_has(text, "  never extractable   yes\n");
	assert_has(text, "  always sensitive    yes\n");
	assert_has(text, "  generated on token  yes (CKA_LOCAL)\n");
	assert_has(text, "  subject             C=DE, ST=Berlin, L=Berlin, "
	    "O=Contoso GmbH, CN=Build Bot\n");
	assert_has(text, "  key usage           digitalSignature\n");
	assert_has(text, "  extended key usage  codeSigning\n");
	assert_has(text, "  signature hash      sha256\n");
	assert_has(text, "  SHA-256 of the CSR  %s\n", sha256_hex(c.der,
	    c.len));
	assert_has(text, "  saved as            /srv/req/req.pem\n");
	assert_null(strstr(text, "random"));
	assert_null(strstr(text, "CA template"));
	free(text);
	EVP_PKEY_free(pub);
	hd_csr_free(&c);
}

static void
test_ceremony_record_of_an_rsa_request_with_names(void **state)
{
	struct hd_profile p;
	struct hd_key k = g.rsa;
	struct hd_csr c;
	struct hd_err err;
	char *text;

	(void)state;
	load_yaml(&p, "name: tls\nkey: {type: rsa, bits: 2048}\n"
	    "subject: {CN: build.contoso.com, O: Contoso GmbH}\n"
	    "hash: sha512\nextensions:\n"
	    "  key_usage: [keyEncipherment, digitalSignature]\n"
	    "  extended_key_usage: [serverAuth, 1.3.6.1.4.1.311.10.3.13]\n"
	    "  subject_alt_names: [\"DNS:build.contoso.com\", "
	    "\"IP:192.0.2.10\"]\n");
	snprintf(p.cert_template, sizeof(p.cert_template), "WebServer");
	make(&p, &k, &c);
	k.id_random = 1;	/* as on a token that refused C_SetAttribute */
	assert_int_equal(hd_ceremony_text(g.s, &p, &k, &c, NULL, &text, &err),
	    0);
	assert_has(text, "Key                 RSA-2048\n");
	assert_has(text, "  (random: the token refused to set it to the key "
	    "identifier)\n");
	assert_has(text, "  key usage           digitalSignature, "
	    "keyEncipherment\n");
	assert_has(text, "  extended key usage  serverAuth, "
	    "1.3.6.1.4.1.311.10.3.13\n");
	assert_has(text, "  alternative name    DNS:build.contoso.com\n"
	    "  alternative name    IP:192.0.2.10\n");
	assert_has(text, "  CA template         WebServer\n");
	assert_has(text, "  signature hash      sha512\n");
	assert_has(text, "  saved as            (not saved)\n");
	free(text);
	hd_csr_free(&c);
}

static void
test_ceremony_write_goes_beside_the_csr_and_keeps_an_old_one(void **state)
{
	const char *dir = outdir();
	char csr[800], want[900];
	struct hd_err err;
	struct stat st;
	char *back;
	size_t len;

	(void)state;
	snprintf(csr, sizeof(csr), "%s/req.pem", dir);
	assert_int_equal(hd_ceremony_write("record one\n", csr, 0, &err), 0);
	assert_string_equal(listing(dir), "req.pem.ceremony.txt");
	snprintf(want, sizeof(want), "%s.ceremony.txt", csr);
	back = slurp(want, &len);
	assert_string_equal(back, "record one\n");
	free(back);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* a record already there is a ceremony already held: kept */
	assert_int_equal(hd_ceremony_write("record two\n", csr, 0, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	back = slurp(want, &len);
	assert_string_equal(back, "record one\n");
	free(back);
	assert_string_equal(listing(dir), "req.pem.ceremony.txt");
}

static void
test_ceremony_path_is_beside_the_csr(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(hd_ceremony_path("out/req.pem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "out/req.pem.ceremony.txt");
	assert_int_equal(hd_ceremony_path("a-much-longer-name.pem", buf,
	    sizeof(buf)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_csr_subject_is_encoded_in_conventional_order),
		cmocka_unit_test(
		    test_csr_subject_given_at_request_time_is_ordered_too),
		cmocka_unit_test(
		    test_csr_key_usage_is_critical_with_the_profile_bits),
		cmocka_unit_test(
		    test_csr_without_key_usage_has_no_such_extension),
		cmocka_unit_test(
		    test_csr_extended_key_usage_by_name_and_by_oid),
		cmocka_unit_test(test_csr_alternative_names_of_each_kind),
		cmocka_unit_test(
		    test_csr_from_inf_carries_the_certificate_template),
		cmocka_unit_test(test_csr_rsa_signature_uses_the_profile_hash),
		cmocka_unit_test(
		    test_csr_ecdsa_signature_uses_the_profile_hash),
		cmocka_unit_test(test_csr_sha256_is_that_of_the_der),
		cmocka_unit_test(
		    test_csr_refuses_a_profile_that_is_not_ready),
		cmocka_unit_test(test_csr_write_pem_and_der),
		cmocka_unit_test(
		    test_csr_write_refuses_to_overwrite_without_replace),
		cmocka_unit_test(
		    test_csr_write_into_missing_directory_leaves_nothing),
		cmocka_unit_test(
		    test_csr_write_into_read_only_directory_leaves_nothing),
		cmocka_unit_test(
		    test_ceremony_record_names_token_key_attributes_and_csr),
		cmocka_unit_test(
		    test_ceremony_record_of_an_rsa_request_with_names),
		cmocka_unit_test(
		    test_ceremony_write_goes_beside_the_csr_and_keeps_an_old_one),
		cmocka_unit_test(test_ceremony_path_is_beside_the_csr),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
