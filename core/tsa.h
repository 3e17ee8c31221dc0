/*
 * RFC 3161 timestamps, internal to core: asking (tsa.c), attaching
 * (tsa_attach.c) and checking (tsa_verify.c).
 */
#ifndef HD_TSA_H
#define HD_TSA_H

#include <openssl/cms.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "hsmdesk.h"

/* Microsoft's RFC 3161 countersignature, an unsigned attribute of an
 * Authenticode signer (its value a TimeStampToken). */
#define HD_OID_MS_RFC3161	"1.3.6.1.4.1.311.3.3.1"

/* What one file's timestamp came to. */
struct hd_stamp {
	PKCS7 *token;		/* the TimeStampToken; NULL: none */
	char url[512];		/* the TSA that gave it */
	char time[32];		/* its genTime, "2026-01-31T12:00:00Z" */
};

/*
 * A timestamp over sig (a SignerInfo's signature value of the file
 * path, which messages name) from the batch's
 * TSAs.  0: st->token set; 0 with st->token NULL: no TSA answered and
 * the batch is optional (hd_tsa_skipped says why); -1: no TSA answered.
 */
int hd_tsa_stamp(struct hd_tsa *t, const char *path, const unsigned char *sig,
    size_t len, struct hd_stamp *st, struct hd_err *err);
void hd_stamp_free(struct hd_stamp *st);

/* tsa.c: the response checked against the request, the token's own
 * signature and the TSA certificate's timeStamping EKU; why in words. */
int hd_tsa_check(TS_REQ *req, TS_RESP *resp, char *why, size_t len);

/* tsa_attach.c: st's token as the signer's unsigned attribute. */
int hd_tsa_attach_cms(CMS_SignerInfo *si, const struct hd_stamp *st);
int hd_tsa_attach_p7(PKCS7_SIGNER_INFO *si, const struct hd_stamp *st);

/* tsa_verify.c: the token on a signer, against cafile (NULL: the
 * system's roots). */
void hd_tsa_verify_token(PKCS7 *token, const unsigned char *sig, size_t len,
    const char *cafile, struct hd_ts_report *r);
PKCS7 *hd_tsa_token_p7(PKCS7_SIGNER_INFO *si);
PKCS7 *hd_tsa_token_cms(CMS_SignerInfo *si);

#endif
