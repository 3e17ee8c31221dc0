/*
 * libFuzzer target for core/tsa_verify.c: the input as a TSA's answer
 * (DER TimeStampResp) to hd_tsa_check against one fixed request (SHA-256
 * imprint of "fuzz", nonce 0x0102030405060708, certReq), then its token
 * to hd_tsa_verify_token (with a CA file that does not exist, so the
 * token's parts are read but no store is loaded).
 *
 * Oracle: an accepted answer is granted, carries a token whose TSTInfo
 * has our nonce and imprint; a refused one says why; OpenSSL's error
 * queue is left empty either way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "tsa.h"

static const unsigned char SIG[] = "fuzz";

static TS_REQ *
request(void)
{
	static const unsigned char n[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char dg[32];
	unsigned dglen = 0;
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	BIGNUM *bn = BN_bin2bn(n, sizeof(n), NULL);
	ASN1_INTEGER *nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;

	if (req == NULL || mi == NULL || alg == NULL || nonce == NULL ||
	    !EVP_Digest(SIG, 4, dg, &dglen, EVP_sha256(), NULL) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, dg, (int)dglen) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_nonce(req, nonce) || !TS_REQ_set_cert_req(req, 1))
		abort();
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	return req;
}

/* An accepted answer is for our request. */
static void
accepted(TS_REQ *req, TS_RESP *resp)
{
	TS_TST_INFO *ti = TS_RESP_get_tst_info(resp);
	TS_MSG_IMPRINT *a, *b;
	const ASN1_INTEGER *n;

	if (TS_RESP_get_token(resp) == NULL || ti == NULL)
		abort();
	n = TS_TST_INFO_get_nonce(ti);
	if (n == NULL || ASN1_INTEGER_cmp(n, TS_REQ_get_nonce(req)) != 0)
		abort();
	a = TS_TST_INFO_get_msg_imprint(ti);
	b = TS_REQ_get_msg_imprint(req);
	if (ASN1_STRING_cmp(TS_MSG_IMPRINT_get_msg(a),
	    TS_MSG_IMPRINT_get_msg(b)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static TS_REQ *req;
	const unsigned char *p = data;
	struct hd_ts_report r;
	TS_RESP *resp;
	char why[256];

	if (req == NULL)
		req = request();
	if ((resp = d2i_TS_RESP(NULL, &p, (long)size)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	why[0] = '\0';
	if (hd_tsa_check(req, resp, why, sizeof(why)) == 0)
		accepted(req, resp);
	else if (why[0] == '\0')
		abort();
	if (TS_RESP_get_token(resp) != NULL) {
		hd_tsa_verify_token(TS_RESP_get_token(resp), SIG, 4,
		    "/nonexistent/tsa-ca.pem", &r);
		if (!r.present || r.ok || r.why[0] == '\0')
			abort();
	}
	if (ERR_peek_error() != 0)
		abort();
	TS_RESP_free(resp);
	return 0;
}
