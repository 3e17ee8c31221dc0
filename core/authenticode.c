/*
 * Making an Authenticode signature with a key on the token, for any file
 * type (sign_pe.c, sign_ps1.c): PKCS#7 SignedData (not CMS, whose API
 * cannot make it) with content [0] EXPLICIT SpcIndirectDataContent,
 * signed attributes contentType = SPC_INDIRECT_DATA_OBJID, SpcSpOpusInfo
 * (/d, /du), SpcStatementType (individual code signing) and
 * messageDigest over the content without its outer tag and length.  The
 * file types differ only in the SpcIndirectDataContent's data and digest.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "authenticode.h"
#include "internal.h"
#include "tsa.h"

static X509 *
der_cert(const struct hd_der *d)
{
	const unsigned char *p = d->der;
	X509 *x = d->der != NULL && d->len > 0 && d->len < LONG_MAX ?
	    d2i_X509(NULL, &p, (long)d->len) : NULL;

	if (x != NULL && p != d->der + d->len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

/* Windows refuses a signer certificate restricted to other uses. */
static int
cert_usable(X509 *x, struct hd_err *err)
{
	char sha1[41];

	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) ||
	    (X509_get_extended_key_usage(x) & XKU_CODE_SIGN))
		return 0;
	hd_ac_thumbprint(x, sha1);
	hd_err_set(err, HD_E_INPUT, 0, "certificate %s: not for code signing "
	    "(its extended key usage lacks codeSigning)", sha1);
	hd_err_hint(err, "request a code signing certificate (a profile with "
	    "extended_key_usage: [codeSigning])");
	return -1;
}

static int
load_certs(struct hd_ac_sign *g, const struct hd_der *cert,
    const struct hd_der *chain, size_t nchain, struct hd_err *err)
{
	size_t i;

	if (cert == NULL || (g->cert = der_cert(cert)) == NULL)
		return hd_err_set(err, HD_E_INPUT, 0, "signer certificate: not "
		    "one DER-encoded X.509 certificate");
	if (cert_usable(g->cert, err) == -1)
		return -1;
	if ((g->chain = sk_X509_new_null()) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < nchain; i++) {
		X509 *x = der_cert(&chain[i]);

		if (x == NULL)
			return hd_err_set(err, HD_E_INPUT, 0, "chain certificate "
			    "%zu: not one DER-encoded X.509 certificate", i + 1);
		if (!sk_X509_push(g->chain, x)) {
			X509_free(x);
			return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		}
	}
	return 0;
}

static int
check_opts(struct hd_ac_sign *g, struct hd_err *err)
{
	const struct hd_sign_pe_opts *o = g->o;

	if ((g->md = hd_spc_md(o->md)) == NULL) {
		hd_err_set(err, HD_E_USAGE, 0, "digest algorithm '%s': not "
		    "supported", o->md);
		hd_err_hint(err, "use sha256, sha384 or sha512");
		return -1;
	}
	return hd_spc_opus_info(o->desc, o->url, &g->opus, &g->opus_len, err);
}

/* ---- the signature ------------------------------------------------------- */

/* content [0] EXPLICIT SpcIndirectDataContent, an "other" content type */
static int
set_content(PKCS7 *p7, const unsigned char *idc, int len)
{
	PKCS7 *c = PKCS7_new();
	ASN1_STRING *seq = ASN1_STRING_new();

	if (c == NULL || seq == NULL || !ASN1_STRING_set(seq, idc, len) ||
	    (c->type = OBJ_txt2obj(HD_OID_SPC_INDIRECT_DATA, 1)) == NULL ||
	    (c->d.other = ASN1_TYPE_new()) == NULL)
		goto fail;
	ASN1_TYPE_set(c->d.other, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if (PKCS7_set_content(p7, c))
		return 0;
fail:
	ASN1_STRING_free(seq);
	PKCS7_free(c);
	return -1;
}

static int
add_attr(PKCS7_SIGNER_INFO *si, const char *oid, const unsigned char *der,
    int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int ok = o != NULL && X509at_add1_attr_by_OBJ(&si->auth_attr, o,
	    V_ASN1_SEQUENCE, der, len) != NULL;

	ASN1_OBJECT_free(o);
	return ok ? 0 : -1;
}

/* contentType, SpcSpOpusInfo, SpcStatementType and messageDigest. */
static int
signed_attrs(struct hd_ac_sign *g, PKCS7_SIGNER_INFO *si,
    const unsigned char *idc, int idc_len)
{
	unsigned char md[EVP_MAX_MD_SIZE], *st = NULL;
	ASN1_OBJECT *ct = OBJ_txt2obj(HD_OID_SPC_INDIRECT_DATA, 1);
	const unsigned char *body;
	unsigned mdlen = 0;
	long blen;
	int st_len = 0, rc = -1;

	if (ct == NULL || hd_spc_body(idc, idc_len, &body, &blen) == -1 ||
	    !EVP_Digest(body, (size_t)blen, md, &mdlen, g->md, NULL) ||
	    hd_spc_statement_type(&st, &st_len) == -1)
		goto out;
	if (!PKCS7_add_signed_attribute(si, NID_pkcs9_contentType,
	    V_ASN1_OBJECT, ct))
		goto out;
	ct = NULL;
	if (add_attr(si, HD_OID_SPC_SP_OPUS_INFO, g->opus, g->opus_len) == 0 &&
	    add_attr(si, HD_OID_SPC_STATEMENT_TYPE, st, st_len) == 0 &&
	    PKCS7_add1_attrib_digest(si, md, (int)mdlen))
		rc = 0;
out:
	ASN1_OBJECT_free(ct);
	OPENSSL_free(st);
	return rc;
}

/*
 * The SignedData with the signer info for the token key: PKCS7_add_
 * signature sets the digest and signature algorithms (rsaEncryption for
 * PKCS#1 v1.5, ecdsa-with-SHA*).  Signed with PKCS7_SIGNER_INFO_sign,
 * not PKCS7_dataFinal: that one adds a signingTime from the local clock,
 * which signtool does not write, and wants OCTET STRING content.
 */
static PKCS7 *
p7_unsigned(struct hd_ac_sign *g, PKCS7_SIGNER_INFO **si)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *idc = NULL;
	int i, idc_len = 0, ok;

	ok = p7 != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) &&
	    (*si = PKCS7_add_signature(p7, g->cert,
	    hd_signer_pkey(g->signer), g->md)) != NULL &&
	    PKCS7_add_certificate(p7, g->cert);
	for (i = 0; ok && i < sk_X509_num(g->chain); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(g->chain, i));
	ok = ok && hd_spc_indirect_data(g->kind, &g->dg, &idc, &idc_len) == 0 &&
	    set_content(p7, idc, idc_len) == 0 &&
	    signed_attrs(g, *si, idc, idc_len) == 0;
	OPENSSL_free(idc);
	if (!ok) {
		PKCS7_free(p7);
		return NULL;
	}
	return p7;
}

static PKCS7 *
p7_sign(struct hd_ac_sign *g, struct hd_err *err)
{
	PKCS7_SIGNER_INFO *si = NULL;
	PKCS7 *p7 = p7_unsigned(g, &si);
	uint64_t t0;
	int ok;

	if (p7 == NULL) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: the PKCS#7 signature "
		    "could not be built for key '%s'", g->path, g->k->label);
		hd_err_ossl(err);
		return NULL;
	}
	t0 = hd_now_ns();
	ok = PKCS7_SIGNER_INFO_sign(si);
	g->s->sign_ns += hd_now_ns() - t0;
	if (ok)
		return p7;
	hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': signing %s "
	    "failed", g->k->label, hd_token_name(g->s), g->path);
	hd_err_ossl(err);
	PKCS7_free(p7);
	return NULL;
}

/* The token's signature must verify with the certificate given. */
static int
check_new(struct hd_ac_sign *g, PKCS7 *p7, struct hd_err *err)
{
	char why[256], sha1[41];

	if (hd_ac_self_check(p7, g->kind, &g->dg, why, sizeof(why)) == 0)
		return 0;
	hd_ac_thumbprint(g->cert, sha1);
	hd_err_set(err, HD_E_INPUT, 0, "key '%s' on token '%s': its signature "
	    "of %s does not verify with certificate %s: %s", g->k->label,
	    hd_token_name(g->s), g->path, sha1, why);
	hd_err_hint(err, "give the certificate issued for this key; the file "
	    "is unchanged");
	return -1;
}

/*
 * The old signature is written anew, and OpenSSL sorts SET OF values as
 * DER wants while verifying in the order they were read: so check the
 * bytes to be written, read back, not the structure in memory.
 */
static int
written_ok(struct hd_ac_sign *g, char *why, size_t len)
{
	const unsigned char *p = g->der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, g->len);
	int ok = p7 != NULL && p == g->der + g->len &&
	    hd_ac_self_check(p7, g->kind, NULL, why, len) == 0;

	if (p7 == NULL)
		snprintf(why, len, "it cannot be read back");
	ERR_clear_error();
	PKCS7_free(p7);
	return ok;
}

/* p7 in the old signature's unsigned SPC_NESTED_SIGNATURE attribute:
 * one more value if it has one (as signtool /as), else a new one. */
static int
nest(struct hd_ac_sign *g, PKCS7 *p7, struct hd_err *err)
{
	PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(
	    PKCS7_get_signer_info(g->old), 0);
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_SPC_NESTED_SIGNATURE, 1);
	unsigned char *der = NULL;
	int len = i2d_PKCS7(p7, &der), pos, ok = 0;
	char why[256];

	pos = o != NULL ? X509at_get_attr_by_OBJ(si->unauth_attr, o, -1) : -1;
	if (len > 0 && pos >= 0)
		ok = X509_ATTRIBUTE_set1_data(X509at_get_attr(si->unauth_attr,
		    pos), V_ASN1_SEQUENCE, der, len);
	else if (len > 0 && o != NULL)
		ok = X509at_add1_attr_by_OBJ(&si->unauth_attr, o,
		    V_ASN1_SEQUENCE, der, len) != NULL;
	OPENSSL_free(der);
	ASN1_OBJECT_free(o);
	if (!ok || (g->len = i2d_PKCS7(g->old, &g->der)) <= 0)
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory "
		    "nesting the signature", g->path);
	if (written_ok(g, why, sizeof(why)))
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: re-encoding the existing "
	    "signature would break it (%s)", g->path, why);
	hd_err_hint(err, "the existing signature is not DER; sign without "
	    "append (/as) to replace it");
	return -1;
}

/* The TSA's token over the new signer's signature value, as Microsoft's
 * RFC 3161 countersignature (signtool /tr); nested signatures each get
 * their own, on their own signer. */
static int
timestamp(struct hd_ac_sign *g, PKCS7 *p7, struct hd_err *err)
{
	PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(
	    PKCS7_get_signer_info(p7), 0);
	struct hd_stamp st;
	int rc = 0;

	if (g->o->tsa == NULL)
		return 0;
	if (hd_tsa_stamp(g->o->tsa, g->path,
	    ASN1_STRING_get0_data(si->enc_digest),
	    (size_t)ASN1_STRING_length(si->enc_digest), &st, err) == -1)
		return -1;
	if (st.token == NULL)
		return 0;	/* --tr-optional: hd_tsa_skipped says why */
	if (hd_tsa_attach_p7(si, &st) == -1)
		rc = hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory "
		    "attaching the timestamp", g->path);
	snprintf(g->tsa, sizeof(g->tsa), "%s", rc == 0 ? st.url : "");
	snprintf(g->ts_time, sizeof(g->ts_time), "%s", rc == 0 ? st.time : "");
	hd_stamp_free(&st);
	return rc;
}

static int
make_signature(struct hd_ac_sign *g, struct hd_err *err)
{
	PKCS7 *p7 = p7_sign(g, err);
	int rc = -1;

	if (p7 == NULL || check_new(g, p7, err) == -1 ||
	    timestamp(g, p7, err) == -1)
		goto out;
	if (g->old != NULL)
		rc = nest(g, p7, err);
	else if ((g->len = i2d_PKCS7(p7, &g->der)) > 0)
		rc = 0;
	else
		hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory encoding "
		    "the signature", g->path);
out:
	PKCS7_free(p7);
	return rc;
}

static unsigned
count_sigs(struct hd_ac_sign *g)
{
	STACK_OF(PKCS7) *nested = NULL;
	unsigned n = 1;

	if (g->old != NULL && hd_ac_nested(g->old, &nested) == 0)
		n += (unsigned)sk_PKCS7_num(nested);
	sk_PKCS7_pop_free(nested, PKCS7_free);
	return n;
}

/* ---- the steps, for the file types' signers ----------------------------- */

/* Options and certificates checked: nothing touched yet. */
int
hd_ac_setup(struct hd_ac_sign *g, const struct hd_der *cert,
    const struct hd_der *chain, size_t nchain, struct hd_err *err)
{
	if (check_opts(g, err) == -1)
		return -1;
	return load_certs(g, cert, chain, nchain, err);
}

/* The existing signature (DER), to nest the new one into (append). */
int
hd_ac_old(struct hd_ac_sign *g, const unsigned char *der, size_t len,
    struct hd_err *err)
{
	const unsigned char *p = der;
	char why[256];

	g->old = len < LONG_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (g->old != NULL && p == der + len && hd_ac_self_check(g->old,
	    g->kind, NULL, why, sizeof(why)) == 0)
		return 0;
	if (g->old == NULL || p != der + len)
		snprintf(why, sizeof(why), "it is not PKCS#7");
	hd_err_set(err, HD_E_INPUT, 0, "%s: the existing signature cannot be "
	    "appended to: %s", g->path, why);
	hd_err_hint(err, "sign without append (/as) to replace it");
	return -1;
}

int
hd_ac_open(struct hd_ac_sign *g, struct hd_err *err)
{
	g->signer = hd_signer_open(g->s, g->k, err);
	return g->signer != NULL ? 0 : -1;
}

/* Sign g->dg on the token: g->der, nested into g->old if there is one. */
int
hd_ac_make(struct hd_ac_sign *g, struct hd_err *err)
{
	return make_signature(g, err);
}

void
hd_ac_result(struct hd_ac_sign *g, struct hd_sign_pe_result *res)
{
	res->nsigs = count_sigs(g);
	snprintf(res->tsa, sizeof(res->tsa), "%s", g->tsa);
	snprintf(res->ts_time, sizeof(res->ts_time), "%s", g->ts_time);
	hd_ac_thumbprint(g->cert, res->sha1);
	snprintf(res->md, sizeof(res->md), "SHA%d", EVP_MD_get_size(g->md) *
	    8);
}

void
hd_ac_free(struct hd_ac_sign *g)
{
	OPENSSL_free(g->der);
	PKCS7_free(g->old);
	hd_signer_close(g->signer);
	OPENSSL_free(g->opus);
	sk_X509_pop_free(g->chain, X509_free);
	X509_free(g->cert);
	g->der = NULL;
	g->old = NULL;
	g->signer = NULL;
	g->opus = NULL;
	g->chain = NULL;
	g->cert = NULL;
}
