/*
 * A token key's public half as an OpenSSL EVP_PKEY, read through the raw
 * layer (CKA_MODULUS/CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS/CKA_EC_POINT), and
 * the key identifier that ties key, CSR and certificate together.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "internal.h"

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

static EVP_PKEY *
rsa_public(struct hd_session *s, CK_OBJECT_HANDLE h)
{
	unsigned char n[1024], e[16];
	long nl = hd_attr_bytes(s, h, CKA_MODULUS, n, sizeof(n));
	long el = hd_attr_bytes(s, h, CKA_PUBLIC_EXPONENT, e, sizeof(e));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY *pk = NULL;

	if (nl <= 0 || el <= 0 || bld == NULL)
		goto out;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	if (bn != NULL && be != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pk = from_params("RSA", bld);
out:
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

/*
 * CKA_EC_POINT should be a DER OCTET STRING holding the point (PKCS#11
 * 2.40 §2.3.3), but some tokens return the raw point.  Both start with
 * 0x04, so tell them apart by length: want is the raw uncompressed size.
 */
static int
ec_point_unwrap(const unsigned char **p, long *len, long want)
{
	const unsigned char *in = *p;
	long hdr = want < 128 ? 2 : 3;

	if (*len == want + hdr && in[0] == 0x04) {
		*p = in + hdr;
		*len = want;
	}
	return *len == want && **p == 0x04 ? 0 : -1;
}

static long
ec_raw_len(int nid)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
	long n = g ? 2 * ((EC_GROUP_get_degree(g) + 7) / 8) + 1 : -1;

	EC_GROUP_free(g);
	return n;
}

static EVP_PKEY *
ec_public(struct hd_session *s, CK_OBJECT_HANDLE h)
{
	unsigned char params[64], point[256];
	const unsigned char *pp = params, *pt = point;
	long pl = hd_attr_bytes(s, h, CKA_EC_PARAMS, params, sizeof(params));
	long ql = hd_attr_bytes(s, h, CKA_EC_POINT, point, sizeof(point));
	ASN1_OBJECT *oid = pl > 0 ? d2i_ASN1_OBJECT(NULL, &pp, pl) : NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	const char *group;
	EVP_PKEY *pk = NULL;

	if (oid == NULL || ql <= 0 || bld == NULL || ec_point_unwrap(&pt, &ql,
	    ec_raw_len(OBJ_obj2nid(oid))) == -1)
		goto out;
	group = OBJ_nid2sn(OBJ_obj2nid(oid));
	if (group != NULL && OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, (size_t)ql))
		pk = from_params("EC", bld);
out:
	ASN1_OBJECT_free(oid);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

/* The public key of object h (a public or, for RSA, a private key). */
EVP_PKEY *
hd_object_pubkey(struct hd_session *s, CK_OBJECT_HANDLE h)
{
	CK_KEY_TYPE kt;

	if (hd_attr_bytes(s, h, CKA_KEY_TYPE, &kt, sizeof(kt)) != sizeof(kt))
		return NULL;
	if (kt == CKK_RSA)
		return rsa_public(s, h);
	if (kt == CKK_EC)
		return ec_public(s, h);
	return NULL;
}

/*
 * RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING
 * (without tag, length and unused-bits byte), as certificates carry it
 * in their subject key identifier.
 */
int
hd_key_id(EVP_PKEY *pk, unsigned char id[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	int len, rc = -1;

	if (X509_PUBKEY_set(&xpk, pk) == 1 &&
	    X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk) == 1 &&
	    SHA1(bits, (size_t)len, id) != NULL)
		rc = 0;
	X509_PUBKEY_free(xpk);
	return rc;
}
