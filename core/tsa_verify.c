/*
 * Checking RFC 3161 answers and tokens with OpenSSL's TS_VERIFY_CTX.
 *
 * At signing (hd_tsa_check) nothing says which TSA CA to trust, so the
 * token's own signer certificate is the trust anchor (a partial chain):
 * TS_RESP_verify_response then still checks the status, version, nonce,
 * imprint, the token's signature, its ESS signing-certificate binding
 * and the certificate's purpose (timeStamping EKU, critical, RFC 3161
 * §2.3).  Whether that TSA is trusted is verify's question (--TSA-CAfile).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "tsa.h"

/* The words for the first error TS_RESP_verify_* queued. */
static void
ts_why(char *why, size_t len)
{
	const char *data = NULL;
	unsigned long e;
	int flags, r;

	snprintf(why, len, "its token does not verify");
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (ERR_GET_LIB(e) != ERR_LIB_TS)
			continue;
		r = ERR_GET_REASON(e);
		if (r == TS_R_NONCE_MISMATCH || r == TS_R_NONCE_NOT_RETURNED)
			snprintf(why, len, "wrong nonce in its response (a "
			    "replayed or cached answer)");
		else if (r == TS_R_MESSAGE_IMPRINT_MISMATCH)
			snprintf(why, len, "its token is for other data "
			    "(message imprint mismatch)");
		else if (r == TS_R_CERTIFICATE_VERIFY_ERROR && data != NULL &&
		    (flags & ERR_TXT_STRING) && strstr(data, "purpose"))
			snprintf(why, len, "its certificate is not for "
			    "timestamping (no critical timeStamping extended "
			    "key usage)");
		else if (r == TS_R_CERTIFICATE_VERIFY_ERROR)
			snprintf(why, len, "its certificate does not verify "
			    "(%s)", data && (flags & ERR_TXT_STRING) ? data :
			    "?");
		else
			snprintf(why, len, "bad response (%s)",
			    ERR_reason_error_string(e) ?
			    ERR_reason_error_string(e) : "?");
		break;
	}
	ERR_clear_error();
}

/* RFC 3161 §2.4.2: granted or grantedWithMods, else the TSA refused. */
static int
status_ok(TS_RESP *resp, char *why, size_t len)
{
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	const ASN1_UTF8STRING *txt;
	const STACK_OF(ASN1_UTF8STRING) *texts;
	long st = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;

	if ((st == 0 || st == 1) && TS_RESP_get_token(resp) != NULL)
		return 1;
	texts = si ? TS_STATUS_INFO_get0_text(si) : NULL;
	txt = texts && sk_ASN1_UTF8STRING_num(texts) > 0 ?
	    sk_ASN1_UTF8STRING_value(texts, 0) : NULL;
	snprintf(why, len, "it refused: status %ld%s%.*s%s", st,
	    txt ? " (" : "", txt ? ASN1_STRING_length(txt) : 0,
	    txt ? (const char *)ASN1_STRING_get0_data(txt) : "",
	    txt ? ")" : "");
	return 0;
}

/* The certificate that signed the token, from the token. */
static X509 *
token_signer(PKCS7 *token)
{
	STACK_OF(X509) *s = PKCS7_get0_signers(token, NULL, 0);
	X509 *x = s != NULL && sk_X509_num(s) == 1 ? sk_X509_value(s, 0) : NULL;

	if (x != NULL && !X509_up_ref(x))
		x = NULL;
	sk_X509_free(s);
	ERR_clear_error();
	return x;
}

int
hd_tsa_check(TS_REQ *req, TS_RESP *resp, char *why, size_t len)
{
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	X509 *signer = NULL;
	int ok = 0;

	if (!status_ok(resp, why, len))
		return -1;
	if ((signer = token_signer(TS_RESP_get_token(resp))) == NULL) {
		snprintf(why, len, "bad response (no TSA certificate in the "
		    "token, though one was asked for)");
		return -1;
	}
	if ((ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL)) == NULL ||
	    (store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, signer) ||
	    !X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN)) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	TS_VERIFY_CTX_set_store(ctx, store);
	store = NULL;
	TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
	ok = TS_RESP_verify_response(ctx, resp) == 1;
	if (!ok)
		ts_why(why, len);
out:
	X509_STORE_free(store);
	TS_VERIFY_CTX_free(ctx);
	X509_free(signer);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* ---- verify: a token found on a signature ------------------------------ */

static X509_STORE *
ca_store(const char *cafile)
{
	X509_STORE *s = X509_STORE_new();

	if (s != NULL && (cafile != NULL ? X509_STORE_load_file(s, cafile) :
	    X509_STORE_set_default_paths(s)))
		return s;
	X509_STORE_free(s);
	return NULL;
}

/* The token's imprint must be over sig with the token's own digest. */
static int
imprint_set(TS_VERIFY_CTX *ctx, TS_TST_INFO *ti, const unsigned char *sig,
    size_t len)
{
	X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(
	    TS_TST_INFO_get_msg_imprint(ti));
	const EVP_MD *md = EVP_get_digestbyobj(alg->algorithm);
	unsigned char *buf = md ? OPENSSL_malloc(EVP_MAX_MD_SIZE) : NULL;
	unsigned n = 0;

	if (buf == NULL || !EVP_Digest(sig, len, buf, &n, md, NULL)) {
		OPENSSL_free(buf);
		return 0;
	}
	TS_VERIFY_CTX_set_imprint(ctx, buf, n);
	return 1;
}

void
hd_tsa_verify_token(PKCS7 *token, const unsigned char *sig, size_t len,
    const char *cafile, struct hd_ts_report *r)
{
	TS_TST_INFO *ti = PKCS7_to_TS_TST_INFO(token);
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	X509_STORE *store = NULL;
	X509 *signer = token_signer(token);
	struct tm tm;

	memset(r, 0, sizeof(*r));
	r->present = 1;
	if (ti != NULL && ASN1_TIME_to_tm(TS_TST_INFO_get_time(ti), &tm) == 1) {
		hd_cms_time(TS_TST_INFO_get_time(ti), r->time, sizeof(r->time));
		r->when = (int64_t)timegm(&tm);
	}
	if (signer != NULL)
		hd_cms_name(X509_get_subject_name(signer), r->subject,
		    sizeof(r->subject));
	if (ti == NULL || ctx == NULL) {
		snprintf(r->why, sizeof(r->why), "the timestamp is not an "
		    "RFC 3161 token");
		goto out;
	}
	if ((store = ca_store(cafile)) == NULL) {
		snprintf(r->why, sizeof(r->why), "TSA CA file '%s' cannot be "
		    "read", cafile ? cafile : "(system)");
		goto out;
	}
	TS_VERIFY_CTX_set_store(ctx, store);
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE |
	    TS_VFY_IMPRINT);
	if (!imprint_set(ctx, ti, sig, len))
		snprintf(r->why, sizeof(r->why), "its digest algorithm is "
		    "not known");
	else if (TS_RESP_verify_token(ctx, token) == 1)
		r->ok = r->when > 0;
	else
		ts_why(r->why, sizeof(r->why));
out:
	ERR_clear_error();
	X509_free(signer);
	TS_VERIFY_CTX_free(ctx);
	TS_TST_INFO_free(ti);
}
