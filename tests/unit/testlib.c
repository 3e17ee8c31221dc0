/* Test fixtures: see testlib.h. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "testlib.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tl_rmrf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
tl_env_new(struct tl_env *e)
{
	const char *tmp = getenv("TMPDIR");
	char sub[700];
	FILE *f;

	snprintf(e->dir, sizeof(e->dir), "%s/hsmdesk-unit.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(sub, sizeof(sub), "%s/tokens", e->dir);
	mkdir(sub, 0700);
	snprintf(e->conf, sizeof(e->conf), "%s/softhsm2.conf", e->dir);
	if ((f = fopen(e->conf, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", sub);
	fclose(f);
	setenv("SOFTHSM2_CONF", e->conf, 1);
	snprintf(sub, sizeof(sub), "%s/home", e->dir);
	setenv("HOME", sub, 1);
	snprintf(sub, sizeof(sub), "%s/config", e->dir);
	setenv("XDG_CONFIG_HOME", sub, 1);
	snprintf(sub, sizeof(sub), "%s/data", e->dir);
	setenv("XDG_DATA_HOME", sub, 1);
	snprintf(sub, sizeof(sub), "%s/home/.local/state", e->dir);
	setenv("XDG_STATE_HOME", sub, 1);
	unsetenv("HSMDESK_MODULE");
	unsetenv("HSMDESK_FAKEP11_FAULT");
	return 0;
}

void
tl_env_free(struct tl_env *e)
{
	if (e->dir[0] != '\0')
		tl_rmrf(e->dir);
	e->dir[0] = '\0';
}

struct hd_pin *
tl_pin(const char *text)
{
	struct hd_pin *p = hd_pin_new();

	if (p == NULL)
		return NULL;
	memcpy(hd_pin_buf(p), text, strlen(text));
	hd_pin_set_len(p, strlen(text));
	return p;
}

int
tl_init_token(const char *module, const char *label)
{
	struct hd_err err;
	struct hd_session *s = hd_open(module, &err);
	struct hd_pin *so = tl_pin(TL_SO_PIN), *up = tl_pin(TL_PIN);
	int rc = -1;

	if (s != NULL && hd_token_select_uninit(s, NULL, &err) == 0 &&
	    hd_init_token(s, label, so, up, &err) == 0)
		rc = 0;
	if (rc == -1)
		fprintf(stderr, "tl_init_token: %s\n", err.msg);
	hd_pin_free(so);
	hd_pin_free(up);
	hd_close(s);
	return rc;
}

const char *
tl_softhsm(void)
{
	return HD_DEFAULT_MODULE;
}

const char *
tl_fakep11(void)
{
	static char path[1024];
	const char *b = getenv("HSMDESK_BUILD");

	snprintf(path, sizeof(path), "%s/fakep11.so", b ? b : "build-asan");
	return path;
}

struct hd_session *
tl_login(const char *module, const char *token)
{
	struct hd_err err;
	struct hd_session *s = hd_open(module, &err);
	struct hd_pin *p = tl_pin(TL_PIN);

	if (s == NULL || hd_token_select(s, token, &err) == -1 ||
	    hd_login(s, p, &err) == -1) {
		fprintf(stderr, "tl_login: %s\n", err.msg);
		hd_close(s);
		s = NULL;
	}
	hd_pin_free(p);
	return s;
}

const char *
tl_shipped_profile(const char *name)
{
	static char path[1024];
	const char *top = getenv("HSMDESK_TOP");

	snprintf(path, sizeof(path), "%s/profiles/%s.yaml", top ? top : ".",
	    name);
	return path;
}

const char *
tl_write(const struct tl_env *e, const char *name, const char *text)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/* An RSA-2048 key pair made through the raw layer, on token label. */
int
tl_gen_rsa(const char *module, const char *token, const char *label,
    int extractable)
{
	CK_BBOOL yes = CK_TRUE, ext = extractable ? CK_TRUE : CK_FALSE;
	CK_BBOOL sens = extractable ? CK_FALSE : CK_TRUE;
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
		{ CKA_SIGN, &yes, 1 }, { CKA_SENSITIVE, &sens, 1 },
		{ CKA_EXTRACTABLE, &ext, 1 },
		{ CKA_ID, (void *)label, strlen(label) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	struct hd_err err;
	struct hd_session *s = hd_open(module, &err);
	struct hd_pin *p = tl_pin(TL_PIN);
	int rc = -1;

	if (s != NULL && hd_token_select(s, token, &err) == 0 &&
	    hd_login(s, p, &err) == 0 &&
	    s->fl->C_GenerateKeyPair(s->sh, &m, pub, 6, priv, 7, &hpub,
	    &hpriv) == CKR_OK)
		rc = 0;
	hd_pin_free(p);
	hd_close(s);
	return rc;
}

/* ---- public keys, read independently of core/pubkey.c ------------------ */

static long
raw_attr(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    unsigned char *buf, size_t len)
{
	CK_ATTRIBUTE a = { type, buf, len };

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen > len)
		return -1;
	return (long)a.ulValueLen;
}

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

static EVP_PKEY *
rsa_pubkey(struct hd_session *s, CK_OBJECT_HANDLE h)
{
	unsigned char n[1024], e[16];
	long nl = raw_attr(s, h, CKA_MODULUS, n, sizeof(n));
	long el = raw_attr(s, h, CKA_PUBLIC_EXPONENT, e, sizeof(e));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = nl > 0 ? BN_bin2bn(n, (int)nl, NULL) : NULL;
	BIGNUM *be = el > 0 ? BN_bin2bn(e, (int)el, NULL) : NULL;
	EVP_PKEY *pk = NULL;

	if (bld != NULL && bn != NULL && be != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pk = from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* CKA_EC_POINT as SoftHSM2 keeps it: a DER OCTET STRING (PKCS#11 2.40
 * §2.3.3) and nothing after it. */
static EVP_PKEY *
ec_pubkey(struct hd_session *s, CK_OBJECT_HANDLE h, unsigned char *point,
    size_t *plen)
{
	unsigned char params[64], der[300];
	long pl = raw_attr(s, h, CKA_EC_PARAMS, params, sizeof(params));
	long dl = raw_attr(s, h, CKA_EC_POINT, der, sizeof(der));
	const unsigned char *pp = params, *dp = der;
	ASN1_OBJECT *oid = pl > 0 ? d2i_ASN1_OBJECT(NULL, &pp, pl) : NULL;
	ASN1_OCTET_STRING *os = dl > 0 ? d2i_ASN1_OCTET_STRING(NULL, &dp, dl) :
	    NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	const char *group = oid ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
	EVP_PKEY *pk = NULL;

	if (bld != NULL && os != NULL && group != NULL && dp == der + dl &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)))
		pk = from_params("EC", bld);
	if (pk != NULL && point != NULL) {
		*plen = (size_t)ASN1_STRING_length(os);
		memcpy(point, ASN1_STRING_get0_data(os), *plen);
	}
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	return pk;
}

EVP_PKEY *
tl_object_pubkey(struct hd_session *s, unsigned long h, unsigned char *point,
    size_t *plen)
{
	CK_KEY_TYPE kt;

	if (raw_attr(s, h, CKA_KEY_TYPE, (unsigned char *)&kt, sizeof(kt)) !=
	    sizeof(kt))
		return NULL;
	if (kt == CKK_RSA)
		return rsa_pubkey(s, h);
	return kt == CKK_EC ? ec_pubkey(s, h, point, plen) : NULL;
}

int
tl_spki_sha1(EVP_PKEY *pk, unsigned char id[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	unsigned char *der = NULL;
	int len, rc = -1;

	/* encoded as a certificate would carry it, then the BIT STRING */
	if (X509_PUBKEY_set(&xpk, pk) == 1 && i2d_X509_PUBKEY(xpk, &der) > 0 &&
	    X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk) == 1 &&
	    SHA1(bits, (size_t)len, id) != NULL)
		rc = 0;
	OPENSSL_free(der);
	X509_PUBKEY_free(xpk);
	return rc;
}

/* ---- certificates ------------------------------------------------------ */

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *
make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, long from, long to)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	if (x == NULL || n == NULL ||
	    !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"hsmdesk tests", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
	    n) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), from * 86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), to * 86400) ||
	    !X509_set_pubkey(x, pub) ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    (issuer && !add_ext(x, issuer, NID_authority_key_identifier,
	    "keyid"))) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(n);
	return x;
}

static X509 *
make_ca(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = make_cert(key, cn, issuer, -1, 3650);

	if (x != NULL && (!add_ext(x, issuer ? issuer : x,
	    NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !X509_sign(x, ikey, EVP_sha256()))) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int
tl_ca_new(struct tl_ca *ca)
{
	memset(ca, 0, sizeof(*ca));
	ca->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca->inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (ca->root_key == NULL || ca->inter_key == NULL)
		return -1;
	ca->root = make_ca(ca->root_key, "Test Root", NULL, ca->root_key);
	if (ca->root == NULL)
		return -1;
	ca->inter = make_ca(ca->inter_key, "Test Intermediate", ca->root,
	    ca->root_key);
	return ca->inter == NULL ? -1 : 0;
}

void
tl_ca_free(struct tl_ca *ca)
{
	X509_free(ca->root);
	X509_free(ca->inter);
	EVP_PKEY_free(ca->root_key);
	EVP_PKEY_free(ca->inter_key);
	memset(ca, 0, sizeof(*ca));
}

static const char *const ku_words[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment",
	"dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
};

X509 *
tl_issue(const struct tl_ca *ca, EVP_PKEY *pub, const char *cn, long from,
    long to, const char *eku, unsigned ku)
{
	X509 *x = make_cert(pub, cn, ca->inter, from, to);
	char kus[200] = "critical";
	size_t i;

	for (i = 0; i < 7; i++)
		if (ku & (0x80u >> i))
			snprintf(kus + strlen(kus), sizeof(kus) - strlen(kus),
			    ",%s", ku_words[i]);
	if (x != NULL && ((ku && !add_ext(x, ca->inter, NID_key_usage, kus)) ||
	    (eku[0] && !add_ext(x, ca->inter, NID_ext_key_usage, eku)) ||
	    !X509_sign(x, ca->inter_key, EVP_sha256()))) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int
p7b_bio(BIO *b, X509 *const *certs, size_t n, int pem)
{
	PKCS7 *p7 = PKCS7_new();
	size_t i;
	int ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
	    PKCS7_content_new(p7, NID_pkcs7_data) && PKCS7_set_detached(p7, 1);

	for (i = 0; ok && i < n; i++)
		ok = PKCS7_add_certificate(p7, certs[i]);
	ok = ok && (pem ? PEM_write_bio_PKCS7(b, p7) : i2d_PKCS7_bio(b, p7));
	PKCS7_free(p7);
	return ok;
}

const char *
tl_write_certs(const struct tl_env *e, const char *name, int fmt,
    X509 *const *certs, size_t n)
{
	static char path[1024];
	BIO *b;
	size_t i;
	int ok = 1;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	if ((b = BIO_new_file(path, "wb")) == NULL)
		return NULL;
	if (fmt == TL_DER)
		ok = i2d_X509_bio(b, certs[0]);
	else if (fmt == TL_P7B || fmt == TL_P7B_PEM)
		ok = p7b_bio(b, certs, n, fmt == TL_P7B_PEM);
	else
		for (i = 0; ok && i < n; i++)
			ok = PEM_write_bio_X509(b, certs[i]);
	BIO_free(b);
	return ok ? path : NULL;
}

EVP_PKEY *
tl_token_pub(struct hd_session *s, const struct hd_key *k)
{
	CK_OBJECT_HANDLE h;
	struct hd_err err;

	if (hd_find_by_id(s, CKO_PUBLIC_KEY, k->id, k->id_len, &h, &err) != 1)
		return NULL;
	return hd_object_pubkey(s, h);
}

int
tl_keygen(struct hd_session *s, int ec, const char *label, struct hd_key *out)
{
	struct hd_profile p;
	struct hd_err err;

	memset(&p, 0, sizeof(p));
	p.type = ec ? HD_KEY_EC : HD_KEY_RSA;
	p.bits = 2048;
	snprintf(p.curve, sizeof(p.curve), "P-256");
	if (hd_keygen(s, &p, label, NULL, NULL, out, &err) == -1) {
		fprintf(stderr, "tl_keygen: %s\n", err.msg);
		return -1;
	}
	return 0;
}
