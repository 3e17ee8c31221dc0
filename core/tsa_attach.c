/*
 * Where a timestamp token lives on a signature: the signer's unsigned
 * attribute id-aa-timeStampToken for CMS (RFC 3161 appendix A), and
 * Microsoft's RFC 3161 countersignature 1.3.6.1.4.1.311.3.3.1 for
 * Authenticode (what signtool /tr writes), each holding the token, a
 * ContentInfo, as its one value.
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "internal.h"
#include "tsa.h"

int
hd_tsa_attach_cms(CMS_SignerInfo *si, const struct hd_stamp *st)
{
	unsigned char *der = NULL;
	int len = i2d_PKCS7(st->token, &der), ok;

	ok = len > 0 && CMS_unsigned_add1_attr_by_NID(si,
	    NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, der, len);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int
hd_tsa_attach_p7(PKCS7_SIGNER_INFO *si, const struct hd_stamp *st)
{
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_MS_RFC3161, 1);
	unsigned char *der = NULL;
	int len = i2d_PKCS7(st->token, &der), ok;

	ok = o != NULL && len > 0 && X509at_add1_attr_by_OBJ(&si->unauth_attr,
	    o, V_ASN1_SEQUENCE, der, len) != NULL;
	OPENSSL_free(der);
	ASN1_OBJECT_free(o);
	return ok ? 0 : -1;
}

/* The token inside an attribute's first value, or NULL. */
static PKCS7 *
attr_token(X509_ATTRIBUTE *a)
{
	ASN1_TYPE *t = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	const unsigned char *p;
	PKCS7 *p7;

	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return NULL;
	p = t->value.sequence->data;
	p7 = d2i_PKCS7(NULL, &p, t->value.sequence->length);
	ERR_clear_error();
	return p7;
}

PKCS7 *
hd_tsa_token_p7(PKCS7_SIGNER_INFO *si)
{
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_MS_RFC3161, 1);
	int pos = o ? X509at_get_attr_by_OBJ(si->unauth_attr, o, -1) : -1;

	ASN1_OBJECT_free(o);
	return pos >= 0 ? attr_token(X509at_get_attr(si->unauth_attr, pos)) :
	    NULL;
}

PKCS7 *
hd_tsa_token_cms(CMS_SignerInfo *si)
{
	int pos = CMS_unsigned_get_attr_by_NID(si,
	    NID_id_smime_aa_timeStampToken, -1);

	return pos >= 0 ? attr_token(CMS_unsigned_get_attr(si, pos)) : NULL;
}
