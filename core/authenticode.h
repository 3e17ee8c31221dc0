/*
 * Authenticode signatures (spc.c, sign_pe.c, verify_pe.c); internal to
 * core.  A PKCS#7 SignedData (not CMS) whose content is Microsoft's
 * SpcIndirectDataContent.
 *
 * Reference: "Windows Authenticode Portable Executable Signature Format"
 * 1.0 (Microsoft), sections "Authenticode-Specific Structures" and
 * "Authenticode Signatures".
 */
#ifndef HD_AUTHENTICODE_H
#define HD_AUTHENTICODE_H

#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "pe.h"

#define HD_OID_SPC_INDIRECT_DATA	"1.3.6.1.4.1.311.2.1.4"
#define HD_OID_SPC_STATEMENT_TYPE	"1.3.6.1.4.1.311.2.1.11"
#define HD_OID_SPC_SP_OPUS_INFO		"1.3.6.1.4.1.311.2.1.12"
#define HD_OID_SPC_PE_IMAGE_DATA	"1.3.6.1.4.1.311.2.1.15"
#define HD_OID_SPC_INDIVIDUAL_SP_KEY	"1.3.6.1.4.1.311.2.1.21"
#define HD_OID_SPC_NESTED_SIGNATURE	"1.3.6.1.4.1.311.2.4.1"

/* spc.c: the Spc* structures, DER in buffers the caller frees with
 * OPENSSL_free. */
int hd_spc_indirect_data(const struct hd_pe_digest *dg, unsigned char **der,
    int *len);
int hd_spc_opus_info(const char *desc, const char *url, unsigned char **der,
    int *len, struct hd_err *err);
int hd_spc_statement_type(unsigned char **der, int *len);
/* What an SpcIndirectDataContent says: the data type and the digest. */
struct hd_spc_digest {
	int pe_image;			/* data type is SPC_PE_IMAGE_DATAOBJ */
	const EVP_MD *md;		/* NULL: an algorithm not accepted */
	char md_name[32];		/* "SHA256", or the OID's name */
	unsigned char value[EVP_MAX_MD_SIZE];
	unsigned len;
};
int hd_spc_indirect_parse(const unsigned char *der, long len,
    struct hd_spc_digest *out);
int hd_spc_body(const unsigned char *der, long len,
    const unsigned char **body, long *blen);
const EVP_MD *hd_spc_md(const char *name);

/* verify_pe.c: the Authenticode content of p7, its DER and the checks a
 * signature must pass without a trust store (the signer's own). */
ASN1_STRING *hd_ac_content(PKCS7 *p7);
int hd_ac_nested(PKCS7 *p7, STACK_OF(PKCS7) **out);
int hd_ac_self_check(PKCS7 *p7, const struct hd_pe_digest *dg,
    char *why, size_t len);
void hd_ac_thumbprint(X509 *x, char out[41]);

#endif
