/*
 * Authenticode's Spc* structures, encoded and decoded with OpenSSL's
 * ASN.1 templates.  OpenSSL knows none of them, so the templates are
 * declared here, after the ASN.1 module of the Authenticode
 * specification ("Authenticode-Specific Structures").  DigestInfo is
 * OpenSSL's X509_SIG and SpcStatementType has the syntax of
 * EXTENDED_KEY_USAGE (SEQUENCE OF OBJECT IDENTIFIER), so those use
 * OpenSSL's own encoders.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "authenticode.h"

/* SpcString ::= CHOICE { unicode [0] IMPLICIT BMPSTRING,
 *                        ascii   [1] IMPLICIT IA5STRING } */
typedef struct {
	int type;
	union {
		ASN1_BMPSTRING *unicode;
		ASN1_IA5STRING *ascii;
	} value;
} SpcString;

ASN1_CHOICE(SpcString) = {
	ASN1_IMP(SpcString, value.unicode, ASN1_BMPSTRING, 0),
	ASN1_IMP(SpcString, value.ascii, ASN1_IA5STRING, 1)
} static_ASN1_CHOICE_END(SpcString)

/* SpcSerializedObject ::= SEQUENCE { classId OCTET STRING,
 *                                    serializedData OCTET STRING } */
typedef struct {
	ASN1_OCTET_STRING *classId;
	ASN1_OCTET_STRING *serializedData;
} SpcSerializedObject;

ASN1_SEQUENCE(SpcSerializedObject) = {
	ASN1_SIMPLE(SpcSerializedObject, classId, ASN1_OCTET_STRING),
	ASN1_SIMPLE(SpcSerializedObject, serializedData, ASN1_OCTET_STRING)
} static_ASN1_SEQUENCE_END(SpcSerializedObject)

/* SpcLink ::= CHOICE { url [0] IMPLICIT IA5STRING,
 *   moniker [1] IMPLICIT SpcSerializedObject, file [2] EXPLICIT SpcString } */
typedef struct {
	int type;
	union {
		ASN1_IA5STRING *url;
		SpcSerializedObject *moniker;
		SpcString *file;
	} value;
} SpcLink;

ASN1_CHOICE(SpcLink) = {
	ASN1_IMP(SpcLink, value.url, ASN1_IA5STRING, 0),
	ASN1_IMP(SpcLink, value.moniker, SpcSerializedObject, 1),
	ASN1_EXP(SpcLink, value.file, SpcString, 2)
} static_ASN1_CHOICE_END(SpcLink)

/* SpcPeImageData ::= SEQUENCE { flags SpcPeImageFlags,
 *                               file [0] EXPLICIT SpcLink }
 * (the specification's text omits the [0]; every signer writes it) */
typedef struct {
	ASN1_BIT_STRING *flags;
	SpcLink *file;
} SpcPeImageData;

ASN1_SEQUENCE(SpcPeImageData) = {
	ASN1_SIMPLE(SpcPeImageData, flags, ASN1_BIT_STRING),
	ASN1_EXP_OPT(SpcPeImageData, file, SpcLink, 0)
} static_ASN1_SEQUENCE_END(SpcPeImageData)

/* SpcAttributeTypeAndOptionalValue ::= SEQUENCE {
 *   type OBJECT IDENTIFIER, value ANY DEFINED BY type OPTIONAL } */
typedef struct {
	ASN1_OBJECT *type;
	ASN1_TYPE *value;
} SpcAttributeTypeAndOptionalValue;

ASN1_SEQUENCE(SpcAttributeTypeAndOptionalValue) = {
	ASN1_SIMPLE(SpcAttributeTypeAndOptionalValue, type, ASN1_OBJECT),
	ASN1_OPT(SpcAttributeTypeAndOptionalValue, value, ASN1_ANY)
} static_ASN1_SEQUENCE_END(SpcAttributeTypeAndOptionalValue)

/* SpcIndirectDataContent ::= SEQUENCE {
 *   data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo } */
typedef struct {
	SpcAttributeTypeAndOptionalValue *data;
	X509_SIG *messageDigest;
} SpcIndirectDataContent;

ASN1_SEQUENCE(SpcIndirectDataContent) = {
	ASN1_SIMPLE(SpcIndirectDataContent, data,
	    SpcAttributeTypeAndOptionalValue),
	ASN1_SIMPLE(SpcIndirectDataContent, messageDigest, X509_SIG)
} static_ASN1_SEQUENCE_END(SpcIndirectDataContent)

/* SpcSpOpusInfo ::= SEQUENCE { programName [0] EXPLICIT SpcString OPTIONAL,
 *                              moreInfo [1] EXPLICIT SpcLink OPTIONAL } */
typedef struct {
	SpcString *programName;
	SpcLink *moreInfo;
} SpcSpOpusInfo;

ASN1_SEQUENCE(SpcSpOpusInfo) = {
	ASN1_EXP_OPT(SpcSpOpusInfo, programName, SpcString, 0),
	ASN1_EXP_OPT(SpcSpOpusInfo, moreInfo, SpcLink, 1)
} static_ASN1_SEQUENCE_END(SpcSpOpusInfo)

/*
 * SpcSipInfo ::= SEQUENCE { version INTEGER, sipGuid OCTET STRING,
 *   five INTEGERs, 0 } -- not in Microsoft's published specification:
 * the shape is what Windows writes for SIP-signed files (PowerShell
 * scripts), as osslsigncode and OpenAuthenticode also write it.
 */
typedef struct {
	ASN1_INTEGER *version;
	ASN1_OCTET_STRING *guid;
	ASN1_INTEGER *r1, *r2, *r3, *r4, *r5;
} SpcSipInfo;

ASN1_SEQUENCE(SpcSipInfo) = {
	ASN1_SIMPLE(SpcSipInfo, version, ASN1_INTEGER),
	ASN1_SIMPLE(SpcSipInfo, guid, ASN1_OCTET_STRING),
	ASN1_SIMPLE(SpcSipInfo, r1, ASN1_INTEGER),
	ASN1_SIMPLE(SpcSipInfo, r2, ASN1_INTEGER),
	ASN1_SIMPLE(SpcSipInfo, r3, ASN1_INTEGER),
	ASN1_SIMPLE(SpcSipInfo, r4, ASN1_INTEGER),
	ASN1_SIMPLE(SpcSipInfo, r5, ASN1_INTEGER)
} static_ASN1_SEQUENCE_END(SpcSipInfo)

#define ITEM(t) ASN1_ITEM_rptr(t)

/* The PowerShell SIP, {603BCC1F-4B59-4E08-B724-D2C6297EF351}, as a GUID
 * is stored in memory (first three fields little-endian): the bytes
 * Windows puts in SpcSipInfo. */
static const unsigned char ps_sip_guid[16] = {
	0x1f, 0xcc, 0x3b, 0x60, 0x59, 0x4b, 0x08, 0x4e,
	0xb7, 0x24, 0xd2, 0xc6, 0x29, 0x7e, 0xf3, 0x51,
};

/* SpcSipInfo version Windows writes for the PowerShell SIP */
#define PS_SIP_VERSION 0x10000

/* "<<<Obsolete>>>" in UTF-16BE: the file link every signer puts in
 * SpcPeImageData, which Windows ignores. */
static const unsigned char obsolete[] = {
	0, '<', 0, '<', 0, '<', 0, 'O', 0, 'b', 0, 's', 0, 'o',
	0, 'l', 0, 'e', 0, 't', 0, 'e', 0, '>', 0, '>', 0, '>',
};

/* SpcPeImageData as signtool writes it: no flags, the obsolete link. */
static ASN1_TYPE *
pe_image_data(void)
{
	SpcPeImageData *pid = (SpcPeImageData *)ASN1_item_new(
	    ITEM(SpcPeImageData));
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *t = NULL;
	unsigned char *der = NULL;
	int len;

	if (pid == NULL ||
	    (pid->file = (SpcLink *)ASN1_item_new(ITEM(SpcLink))) == NULL ||
	    (pid->file->value.file = (SpcString *)ASN1_item_new(
	    ITEM(SpcString))) == NULL)
		goto out;
	pid->file->type = 2;
	pid->file->value.file->type = 0;
	if ((pid->file->value.file->value.unicode = ASN1_BMPSTRING_new()) ==
	    NULL || !ASN1_STRING_set(pid->file->value.file->value.unicode,
	    obsolete, sizeof(obsolete)))
		goto out;
	if ((len = ASN1_item_i2d((ASN1_VALUE *)pid, &der,
	    ITEM(SpcPeImageData))) <= 0 || (seq = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(seq, der, len) || (t = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq);
	seq = NULL;
out:
	OPENSSL_free(der);
	ASN1_STRING_free(seq);
	ASN1_item_free((ASN1_VALUE *)pid, ITEM(SpcPeImageData));
	return t;
}

/* SpcSipInfo for the PowerShell SIP, as an ANY. */
static ASN1_TYPE *
ps_sip_info(void)
{
	SpcSipInfo *si = (SpcSipInfo *)ASN1_item_new(ITEM(SpcSipInfo));
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *t = NULL;
	unsigned char *der = NULL;
	int len;

	if (si == NULL || !ASN1_INTEGER_set(si->version, PS_SIP_VERSION) ||
	    !ASN1_OCTET_STRING_set(si->guid, ps_sip_guid,
	    sizeof(ps_sip_guid)) || !ASN1_INTEGER_set(si->r1, 0) ||
	    !ASN1_INTEGER_set(si->r2, 0) || !ASN1_INTEGER_set(si->r3, 0) ||
	    !ASN1_INTEGER_set(si->r4, 0) || !ASN1_INTEGER_set(si->r5, 0))
		goto out;
	if ((len = ASN1_item_i2d((ASN1_VALUE *)si, &der, ITEM(SpcSipInfo))) <=
	    0 || (seq = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(seq, der, len) || (t = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq);
	seq = NULL;
out:
	OPENSSL_free(der);
	ASN1_STRING_free(seq);
	ASN1_item_free((ASN1_VALUE *)si, ITEM(SpcSipInfo));
	return t;
}

/* Is t an SpcSipInfo naming the PowerShell SIP? */
static int
is_ps_sip(const ASN1_TYPE *t)
{
	const unsigned char *p;
	SpcSipInfo *si;
	int ok;

	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return 0;
	p = t->value.sequence->data;
	si = (SpcSipInfo *)ASN1_item_d2i(NULL, &p, t->value.sequence->length,
	    ITEM(SpcSipInfo));
	ok = si != NULL && p == t->value.sequence->data +
	    t->value.sequence->length && si->guid->length ==
	    (int)sizeof(ps_sip_guid) && memcmp(si->guid->data, ps_sip_guid,
	    sizeof(ps_sip_guid)) == 0;
	ASN1_item_free((ASN1_VALUE *)si, ITEM(SpcSipInfo));
	return ok;
}

/* DigestInfo ::= SEQUENCE { digestAlgorithm (NULL parameters), digest } */
static int
digest_info(X509_SIG *sig, const struct hd_pe_digest *dg)
{
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *value;

	X509_SIG_getm(sig, &alg, &value);
	return X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(dg->md)),
	    V_ASN1_NULL, NULL) && ASN1_OCTET_STRING_set(value, dg->value,
	    (int)dg->len);
}

/* The SpcIndirectDataContent for digest dg of a PE file (HD_SPC_PE) or
 * a PowerShell script (HD_SPC_PS1). */
int
hd_spc_indirect_data(enum hd_spc_kind kind, const struct hd_pe_digest *dg,
    unsigned char **der, int *len)
{
	SpcIndirectDataContent *idc = (SpcIndirectDataContent *)ASN1_item_new(
	    ITEM(SpcIndirectDataContent));
	int ps1 = kind == HD_SPC_PS1, rc = -1;

	*der = NULL;
	if (idc == NULL || (idc->data->type = OBJ_txt2obj(ps1 ?
	    HD_OID_SPC_SIPINFO : HD_OID_SPC_PE_IMAGE_DATA, 1)) == NULL ||
	    (idc->data->value = ps1 ? ps_sip_info() : pe_image_data()) ==
	    NULL || !digest_info(idc->messageDigest, dg))
		goto out;
	if ((*len = ASN1_item_i2d((ASN1_VALUE *)idc, der,
	    ITEM(SpcIndirectDataContent))) > 0)
		rc = 0;
out:
	ASN1_item_free((ASN1_VALUE *)idc, ITEM(SpcIndirectDataContent));
	return rc;
}

static int
ascii_only(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* programName as signtool writes /d: UTF-16 (BMPString) */
static int
opus_name(SpcSpOpusInfo *info, const char *desc, struct hd_err *err)
{
	if ((info->programName = (SpcString *)ASN1_item_new(
	    ITEM(SpcString))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	info->programName->type = 0;
	if (ASN1_mbstring_copy(&info->programName->value.unicode,
	    (const unsigned char *)desc, -1, MBSTRING_UTF8,
	    B_ASN1_BMPSTRING) < 0) {
		ERR_clear_error();
		hd_err_set(err, HD_E_USAGE, 0, "description '%s': not valid "
		    "UTF-8, or has characters a BMPString cannot hold", desc);
		hd_err_hint(err, "use UTF-8 text without emoji or other "
		    "characters beyond U+FFFF");
		return -1;
	}
	return 0;
}

/* moreInfo as signtool writes /du: SpcLink url, an IA5String */
static int
opus_url(SpcSpOpusInfo *info, const char *url, struct hd_err *err)
{
	if (!ascii_only(url)) {
		hd_err_set(err, HD_E_USAGE, 0, "URL '%s': only printable ASCII "
		    "can be signed (IA5String)", url);
		hd_err_hint(err, "percent-encode other characters (RFC 3986)");
		return -1;
	}
	if ((info->moreInfo = (SpcLink *)ASN1_item_new(ITEM(SpcLink))) ==
	    NULL || (info->moreInfo->value.url = ASN1_IA5STRING_new()) ==
	    NULL || !ASN1_STRING_set(info->moreInfo->value.url, url, -1))
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	info->moreInfo->type = 0;
	return 0;
}

/* SpcSpOpusInfo with signtool's /d and /du, each optional. */
int
hd_spc_opus_info(const char *desc, const char *url, unsigned char **der,
    int *len, struct hd_err *err)
{
	SpcSpOpusInfo *info = (SpcSpOpusInfo *)ASN1_item_new(
	    ITEM(SpcSpOpusInfo));
	int rc = -1;

	*der = NULL;
	if (info == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if ((desc != NULL && opus_name(info, desc, err) == -1) ||
	    (url != NULL && opus_url(info, url, err) == -1))
		goto out;
	if ((*len = ASN1_item_i2d((ASN1_VALUE *)info, der,
	    ITEM(SpcSpOpusInfo))) > 0)
		rc = 0;
	else
		hd_err_set(err, HD_E_INTERNAL, 0, "SpcSpOpusInfo: encoding "
		    "failed");
out:
	ASN1_item_free((ASN1_VALUE *)info, ITEM(SpcSpOpusInfo));
	return rc;
}

/* SpcStatementType { individual code signing }: signtool's default. */
int
hd_spc_statement_type(unsigned char **der, int *len)
{
	EXTENDED_KEY_USAGE *st = sk_ASN1_OBJECT_new_null();
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_SPC_INDIVIDUAL_SP_KEY, 1);
	int rc = -1;

	*der = NULL;
	if (st != NULL && o != NULL && sk_ASN1_OBJECT_push(st, o) > 0) {
		o = NULL;
		if ((*len = i2d_EXTENDED_KEY_USAGE(st, der)) > 0)
			rc = 0;
	}
	ASN1_OBJECT_free(o);
	sk_ASN1_OBJECT_pop_free(st, ASN1_OBJECT_free);
	return rc;
}

/*
 * The contents octets of the DER value at der: what messageDigest covers
 * for SpcIndirectDataContent (Authenticode: the content without its
 * outer tag and length, not the [0] EXPLICIT value as CMS would hash).
 */
int
hd_spc_body(const unsigned char *der, long len, const unsigned char **body,
    long *blen)
{
	const unsigned char *p = der;
	int tag, cls, r;

	r = ASN1_get_object(&p, blen, &tag, &cls, len);
	if (r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL || *blen != len - (p - der)) {
		ERR_clear_error();
		return -1;
	}
	*body = p;
	return 0;
}

/* The digests Authenticode signs with here, by OpenSSL name. */
const EVP_MD *
hd_spc_md(const char *name)
{
	if (name == NULL || strcmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(name, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(name, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

/* Verification also accepts SHA-1: older signatures still carry it. */
static const EVP_MD *
verify_md(int nid)
{
	switch (nid) {
	case NID_sha1:
		return EVP_sha1();
	case NID_sha256:
		return EVP_sha256();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	}
	return NULL;
}

static void
upper_name(char *out, size_t len, const ASN1_OBJECT *o)
{
	size_t i;

	if (OBJ_obj2nid(o) != NID_undef)
		snprintf(out, len, "%s", OBJ_nid2sn(OBJ_obj2nid(o)));
	else
		OBJ_obj2txt(out, (int)len, o, 1);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 'a' + 'A');
}

/* Decode an SpcIndirectDataContent (all of der, nothing after it). */
int
hd_spc_indirect_parse(const unsigned char *der, long len,
    struct hd_spc_digest *out)
{
	const unsigned char *p = der;
	SpcIndirectDataContent *idc;
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *value;
	ASN1_OBJECT *pe = OBJ_txt2obj(HD_OID_SPC_PE_IMAGE_DATA, 1);
	ASN1_OBJECT *sip = OBJ_txt2obj(HD_OID_SPC_SIPINFO, 1);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	idc = (SpcIndirectDataContent *)ASN1_item_d2i(NULL, &p, len,
	    ITEM(SpcIndirectDataContent));
	if (idc == NULL || p != der + len || pe == NULL || sip == NULL)
		goto out;
	if (OBJ_cmp(idc->data->type, pe) == 0)
		out->kind = HD_SPC_PE;
	else if (OBJ_cmp(idc->data->type, sip) == 0 &&
	    is_ps_sip(idc->data->value))
		out->kind = HD_SPC_PS1;
	X509_SIG_get0(idc->messageDigest, &alg, &value);
	upper_name(out->md_name, sizeof(out->md_name), alg->algorithm);
	out->md = verify_md(OBJ_obj2nid(alg->algorithm));
	if (value->length <= 0 || value->length > EVP_MAX_MD_SIZE)
		goto out;
	memcpy(out->value, value->data, (size_t)value->length);
	out->len = (unsigned)value->length;
	rc = 0;
out:
	ERR_clear_error();
	ASN1_OBJECT_free(sip);
	ASN1_OBJECT_free(pe);
	ASN1_item_free((ASN1_VALUE *)idc, ITEM(SpcIndirectDataContent));
	return rc;
}
