/*
 * Verification of a detached CMS signature (RFC 5652 §5.6), step by step
 * rather than with CMS_verify, so that the operator learns which part
 * failed: the signature file itself (not CMS, damaged, signature over the
 * signed attributes), the data (messageDigest), the chain to a trusted
 * root at the current time, or the signer's key usage.  Timestamps
 * (RFC 3161) and revocation are not checked here.
 *
 * Usage policy: if the signer certificate has a key usage extension it
 * must include digitalSignature; if it has an extended key usage, it must
 * include codeSigning or anyExtendedKeyUsage, unless opts.any_eku.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>	/* before cms.h: PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_int.h"
#include "tsa.h"

#define SIG_MAX (16 * 1024 * 1024)	/* no detached signature is larger */

static const char *const verdicts[HD_V__COUNT] = {
	[HD_V_GOOD] = "good",
	[HD_V_NOT_CMS] = "not-cms",
	[HD_V_CORRUPT] = "corrupt",
	[HD_V_NOT_DETACHED] = "not-detached",
	[HD_V_BAD_SIGNATURE] = "bad-signature",
	[HD_V_CONTENT_CHANGED] = "content-changed",
	[HD_V_UNTRUSTED] = "untrusted",
	[HD_V_EXPIRED] = "expired",
	[HD_V_USAGE] = "wrong-usage",
	[HD_V_ERROR] = "error",
};

const char *
hd_verdict_name(enum hd_verdict v)
{
	return (unsigned)v < HD_V__COUNT ? verdicts[v] : "?";
}

int
hd_cms_thumbprint(const X509 *x, char out[41])
{
	unsigned char md[20];
	unsigned int n = 0;
	unsigned int i;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != sizeof(md))
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", md[i]);
	return 0;
}

void
hd_cms_name(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *txt;
	long l;

	buf[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB &
	    ~XN_FLAG_SPC_EQ) | ASN1_STRFLGS_UTF8_CONVERT);
	l = BIO_get_mem_data(b, &txt);
	snprintf(buf, len, "%.*s", (int)l, txt);
	BIO_free(b);
}

/* ISO 8601 in UTC: "2026-01-31T12:00:00Z". */
void
hd_cms_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	buf[0] = '\0';
	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A failed check: its verdict, and err in words. */
static enum hd_verdict
fail(enum hd_verdict v, enum hd_code code, struct hd_err *err,
    const char *fmt, const char *a, const char *b)
{
	hd_err_set(err, code, 0, fmt, a, b);
	return v;
}

/* The DER of a signedData ContentInfo starts with this OID (RFC 5652 §5.1)
 * within its first bytes: a file that has it but does not parse is a
 * damaged signature rather than something else. */
static int
looks_like_cms(const unsigned char *p, size_t len)
{
	static const unsigned char oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48,
	    0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
	size_t i;

	for (i = 0; i + sizeof(oid) <= len && i < 16; i++)
		if (memcmp(p + i, oid, sizeof(oid)) == 0)
			return 1;
	/* each prefix compared only as far as the file goes (a 15-byte
	 * file was read past its end: found by fuzz_cmsverify) */
	return (len >= 14 && memcmp(p, "-----BEGIN CMS", 14) == 0) ||
	    (len >= 16 && memcmp(p, "-----BEGIN PKCS7", 16) == 0);
}

static unsigned char *
slurp(const char *path, size_t *len, struct hd_err *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) == -1) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SIG_MAX) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: not a detached signature "
		    "(%s)", path, S_ISREG(st.st_mode) ? "far too large" :
		    "not a regular file");
		goto out;
	}
	*len = (size_t)st.st_size;
	if ((p = malloc(*len ? *len : 1)) == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (fread(p, 1, *len, f) != *len) {
		hd_err_set(err, HD_E_IO, 0, "%s: read failed", path);
		free(p);
		p = NULL;
	}
out:
	if (f != NULL)
		fclose(f);
	return p;
}

static CMS_ContentInfo *
cms_parse(const unsigned char *p, size_t len, size_t *trailing)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms;
	BIO *b;

	*trailing = 0;
	if (len > 10 && memcmp(p, "-----BEGIN", 10) == 0) {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
			return NULL;
		cms = PEM_read_bio_CMS(b, NULL, NULL, NULL);
		BIO_free(b);
		return cms;
	}
	cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
	if (cms != NULL)
		*trailing = len - (size_t)(q - p);
	return cms;
}

/* Read sig: a detached SignedData with at least one signer, or *v says
 * why not. */
static CMS_ContentInfo *
load_sig(const char *sig, enum hd_verdict *v, struct hd_err *err)
{
	size_t len = 0, trailing;
	unsigned char *p = slurp(sig, &len, err);
	CMS_ContentInfo *cms = p ? cms_parse(p, len, &trailing) : NULL;
	int like = p ? looks_like_cms(p, len) : 0;

	ERR_clear_error();
	free(p);
	*v = HD_V_ERROR;
	if (err->msg[0] != '\0')
		return NULL;
	if (cms == NULL && !like)
		*v = fail(HD_V_NOT_CMS, HD_E_INPUT, err, "%s: not a CMS "
		    "signature%s", sig, "");
	else if (cms == NULL || trailing > 0)
		*v = fail(HD_V_CORRUPT, HD_E_BAD_SIG, err, "%s: damaged CMS "
		    "signature%s", sig, cms ? " (bytes after its end)" :
		    " (does not decode)");
	else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		*v = fail(HD_V_NOT_CMS, HD_E_INPUT, err, "%s: a CMS file of "
		    "type %s, not a signature", sig,
		    OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
	else if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) <= 0)
		*v = fail(HD_V_CORRUPT, HD_E_BAD_SIG, err, "%s: a CMS "
		    "signature without a signer%s", sig, "");
	else if (!CMS_is_detached(cms))
		*v = fail(HD_V_NOT_DETACHED, HD_E_INPUT, err, "%s: carries its "
		    "content: not a detached signature%s", sig, "");
	else
		return cms;
	if (*v == HD_V_NOT_CMS)
		hd_err_hint(err, "give the .p7s made for the file (--sig)");
	CMS_ContentInfo_free(cms);
	return NULL;
}

static X509_STORE *
trust_store(const struct hd_verify_opts *o, struct hd_err *err)
{
	X509_STORE *st = X509_STORE_new();
	int ok;

	if (st == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (o->cafile == NULL) {
		/* the system's roots and those the operator trusted at
		 * accept (the local store) */
		X509_STORE_free(st);
		return hd_trust_store(NULL, err);
	}
	ok = X509_STORE_load_file(st, o->cafile);
	if (ok == 1)
		return st;
	ERR_clear_error();
	X509_STORE_free(st);
	if (o->cafile != NULL)
		hd_err_set(err, HD_E_INPUT, 0, "%s: cannot be read as PEM "
		    "certificates", o->cafile);
	else
		hd_err_set(err, HD_E_CONFIG, 0, "the system's trusted "
		    "certificates cannot be read");
	return NULL;
}

static const char *
alg_words(const X509_ALGOR *sig)
{
	const ASN1_OBJECT *o;
	int nid, pk = NID_undef;

	X509_ALGOR_get0(&o, NULL, NULL, sig);
	nid = OBJ_obj2nid(o);
	if (nid == NID_rsassaPss)
		return "RSA-PSS";
	if (!OBJ_find_sigid_algs(nid, NULL, &pk))
		pk = nid;
	if (pk == NID_rsaEncryption)
		return "RSA PKCS#1 v1.5";
	if (pk == NID_X9_62_id_ecPublicKey)
		return "ECDSA";
	return OBJ_nid2sn(nid);
}

static void
signing_time(CMS_SignerInfo *si, char *buf, size_t len)
{
	int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	ASN1_TYPE *t = i >= 0 ?
	    X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0) : NULL;

	buf[0] = '\0';
	if (t != NULL && (t->type == V_ASN1_UTCTIME ||
	    t->type == V_ASN1_GENERALIZEDTIME))
		hd_cms_time(t->value.utctime, buf, len);
}

/* What the first signer says about itself. */
static void
describe(CMS_SignerInfo *si, X509 *signer, struct hd_verify_result *res)
{
	X509_ALGOR *dig, *sig;
	const ASN1_OBJECT *o;
	size_t i;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	X509_ALGOR_get0(&o, NULL, NULL, dig);
	snprintf(res->md, sizeof(res->md), "%s", OBJ_nid2sn(OBJ_obj2nid(o)));
	for (i = 0; res->md[i] != '\0'; i++)
		res->md[i] = (char)(res->md[i] >= 'A' && res->md[i] <= 'Z' ?
		    res->md[i] - 'A' + 'a' : res->md[i]);
	snprintf(res->alg, sizeof(res->alg), "%s", alg_words(sig));
	signing_time(si, res->signing_time, sizeof(res->signing_time));
	if (signer == NULL)
		return;
	hd_cms_name(X509_get_subject_name(signer), res->subject,
	    sizeof(res->subject));
	hd_cms_name(X509_get_issuer_name(signer), res->issuer,
	    sizeof(res->issuer));
	hd_cms_thumbprint(signer, res->sha1);
	hd_cms_time(X509_get0_notAfter(signer), res->not_after,
	    sizeof(res->not_after));
}

/* The first signer's timestamp; one that verifies dates the signature
 * for check_chain. */
static void
timestamp(CMS_ContentInfo *cms, const struct hd_verify_opts *o,
    struct hd_verify_result *res)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms),
	    0);
	PKCS7 *token = si ? hd_tsa_token_cms(si) : NULL;
	ASN1_OCTET_STRING *sig;

	if (token == NULL)
		return;
	sig = CMS_SignerInfo_get0_signature(si);
	hd_tsa_verify_token(token, ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig), o->tsa_cafile ? o->tsa_cafile :
	    o->cafile, &res->ts);
	PKCS7_free(token);
}

/* Find each signer's certificate, in the signature or the trust store. */
static enum hd_verdict
find_signers(CMS_ContentInfo *cms, X509_STORE *store, const char *sig,
    struct hd_verify_result *res, struct hd_err *err)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	STACK_OF(X509) *extra = X509_STORE_get1_all_certs(store);
	X509 *signer = NULL;
	int n = CMS_set1_signers_certs(cms, extra, 0);

	sk_X509_pop_free(extra, X509_free);
	ERR_clear_error();
	res->nsigners = sk_CMS_SignerInfo_num(sis);
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), NULL,
	    &signer, NULL, NULL);
	describe(sk_CMS_SignerInfo_value(sis, 0), signer, res);
	if (n == res->nsigners)
		return HD_V_GOOD;
	res->chain_ok = 0;
	snprintf(res->chain, sizeof(res->chain), "the signer's certificate "
	    "is neither in the signature nor among the trusted ones");
	return fail(HD_V_UNTRUSTED, HD_E_UNTRUSTED, err, "%s: %s", sig,
	    res->chain);
}

/* RFC 5652 §5.6: the signature over the signed attributes. */
static enum hd_verdict
check_signatures(CMS_ContentInfo *cms, const char *sig,
    struct hd_verify_result *res, struct hd_err *err)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	int i;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);

		/* without signed attributes the signature covers the
		 * content digest: checked with the content */
		if (CMS_signed_get_attr_count(si) < 0)
			continue;
		if (CMS_SignerInfo_verify(si) != 1) {
			ERR_clear_error();
			res->signature_ok = 0;
			fail(HD_V_BAD_SIGNATURE, HD_E_BAD_SIG, err, "%s: the "
			    "signature is invalid%s", sig, "");
			hd_err_hint(err, "the signature file was altered or "
			    "damaged after signing; sign the file again");
			return HD_V_BAD_SIGNATURE;
		}
	}
	res->signature_ok = 1;
	return HD_V_GOOD;
}

/* Hash the data through the CMS digest BIOs and compare (messageDigest). */
static enum hd_verdict
check_content(CMS_ContentInfo *cms, const char *data, const char *sig,
    const struct hd_verify_opts *o, struct hd_verify_result *res,
    struct hd_err *err)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	unsigned char *buf = malloc(HD_STREAM_CHUNK);
	BIO *io = CMS_dataInit(cms, NULL);
	enum hd_verdict v = HD_V_ERROR;
	struct hd_stream f;
	int i, rc;

	if (buf == NULL || io == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (hd_stream_open(&f, data, err) == -1)
		goto out;
	rc = hd_stream_feed(&f, io, buf, HD_STREAM_CHUNK, o->progress, o->arg,
	    "verified", err);
	res->size = hd_stream_size(&f);
	hd_stream_close(&f);
	if (rc == -1)
		goto out;
	v = HD_V_GOOD;
	for (i = 0; v == HD_V_GOOD && i < sk_CMS_SignerInfo_num(sis); i++)
		if (CMS_SignerInfo_verify_content(sk_CMS_SignerInfo_value(sis,
		    i), io) != 1)
			v = fail(HD_V_CONTENT_CHANGED, HD_E_BAD_SIG, err, "%s: "
			    "does not match its signature %s", data, sig);
	if (v != HD_V_GOOD)
		hd_err_hint(err, "the file was changed after it was signed, "
		    "or the signature is for another file");
	res->content_ok = v == HD_V_GOOD;
out:
	ERR_clear_error();
	BIO_free_all(io);
	free(buf);
	return v;
}

/* "Contoso Signing <- Contoso Root" from the verified chain. */
static void
chain_words(STACK_OF(X509) *chain, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sk_X509_num(chain) && used < len; i++) {
		X509_NAME *n = X509_get_subject_name(sk_X509_value(chain, i));
		int cn = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
		ASN1_STRING *v = cn >= 0 ? X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(n, cn)) : NULL;
		unsigned char *u = NULL;
		char dn[256];

		if (v != NULL && ASN1_STRING_to_UTF8(&u, v) >= 0)
			snprintf(dn, sizeof(dn), "%s", u);
		else
			hd_cms_name(n, dn, sizeof(dn));
		OPENSSL_free(u);
		used += snprintf(buf + used, len - used, "%s%s", i ? " <- " :
		    "", dn);
	}
	if (used < len)
		snprintf(buf + used, len - used, " (trusted)");
}

static enum hd_verdict
chain_failed(X509_STORE_CTX *ctx, const char *sig,
    struct hd_verify_result *res, struct hd_err *err)
{
	int e = X509_STORE_CTX_get_error(ctx);
	X509 *at = X509_STORE_CTX_get_current_cert(ctx);
	int expired = e == X509_V_ERR_CERT_HAS_EXPIRED ||
	    e == X509_V_ERR_CERT_NOT_YET_VALID;
	char who[512] = "", when[32] = "";

	if (at != NULL)
		hd_cms_name(X509_get_subject_name(at), who, sizeof(who));
	if (at != NULL && expired)
		hd_cms_time(e == X509_V_ERR_CERT_HAS_EXPIRED ?
		    X509_get0_notAfter(at) : X509_get0_notBefore(at), when,
		    sizeof(when));
	res->chain_ok = 0;
	if (expired)
		snprintf(res->chain, sizeof(res->chain), "%s '%s' %s %s",
		    X509_STORE_CTX_get_error_depth(ctx) == 0 ? "the signer's "
		    "certificate" : "the issuer", who,
		    e == X509_V_ERR_CERT_HAS_EXPIRED ? "expired on" :
		    "is not valid before", when);
	else
		snprintf(res->chain, sizeof(res->chain), "%s (at '%s')",
		    X509_verify_cert_error_string(e), who);
	fail(HD_V_UNTRUSTED, HD_E_UNTRUSTED, err, "%s: %s", sig, res->chain);
	if (!expired)
		hd_err_hint(err, "the signer's chain does not lead to a "
		    "trusted root: give the right CA file");
	return expired ? HD_V_EXPIRED : HD_V_UNTRUSTED;
}

/* The first signer's chain, at the current time (or its verified
 * timestamp's), against store (hsmdesk
 * makes one signer; the others' signatures and digests are checked, their
 * chains are not). */
static enum hd_verdict
check_chain(CMS_ContentInfo *cms, X509_STORE *store, int local,
    const char *sig, struct hd_verify_result *res, struct hd_err *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509 *signer = NULL;
	enum hd_verdict v = HD_V_ERROR;

	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(
	    CMS_get0_SignerInfos(cms), 0), NULL, &signer, NULL, NULL);
	if (certs == NULL)
		certs = sk_X509_new_null();
	/* without a CA file, the intermediates accept stored help build the
	 * chain (untrusted), as Windows' intermediate store does */
	if (local && hd_store_pool_add(certs, err) == -1)
		goto out;
	if (ctx == NULL || certs == NULL ||
	    !X509_STORE_CTX_init(ctx, store, signer, certs)) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (res->ts.ok)		/* a verified timestamp dates the signature */
		X509_STORE_CTX_set_time(ctx, 0, (time_t)res->ts.when);
	if (X509_verify_cert(ctx) == 1) {
		res->chain_ok = 1;
		chain_words(X509_STORE_CTX_get0_chain(ctx), res->chain,
		    sizeof(res->chain));
		if (res->ts.ok)
			strncat(res->chain, ", at the timestamp's time",
			    sizeof(res->chain) - strlen(res->chain) - 1);
		v = HD_V_GOOD;
	} else {
		v = chain_failed(ctx, sig, res, err);
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(certs, X509_free);
	return v;
}

static enum hd_verdict
check_usage(CMS_ContentInfo *cms, const struct hd_verify_opts *o,
    const char *sig, struct hd_verify_result *res, struct hd_err *err)
{
	X509 *x = NULL;
	uint32_t fl;
	const char *why = NULL;

	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(
	    CMS_get0_SignerInfos(cms), 0), NULL, &x, NULL, NULL);
	fl = X509_get_extension_flags(x);
	ERR_clear_error();	/* it queues why extensions are invalid */
	if (fl & EXFLAG_INVALID)	/* found by fuzz_cmsverify */
		why = "its extensions cannot be read";
	else if ((fl & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE))
		why = "its key usage lacks digitalSignature";
	else if (!o->any_eku && (fl & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & (XKU_CODE_SIGN | XKU_ANYEKU)))
		why = "its extended key usage lacks codeSigning";
	res->usage_ok = why == NULL;
	if (why == NULL)
		return HD_V_GOOD;
	return fail(HD_V_USAGE, HD_E_UNTRUSTED, err, "%s: the signer's "
	    "certificate is not for code signing: %s", sig, why);
}

/* Record a check's outcome: the first failure is the verdict. */
static void
outcome(struct hd_verify_result *res, struct hd_err *err, enum hd_verdict v,
    const struct hd_err *e)
{
	if (v == HD_V_GOOD || res->verdict != HD_V_GOOD)
		return;
	res->verdict = v;
	*err = *e;
}

/*
 * Verify sig, a detached CMS signature, against the file data.  Returns
 * 0 when every check passed; else -1 with res->verdict saying which
 * failed first and err saying it in words.  res is filled as far as the
 * signature file allowed: a bad signature stops the checks, a changed
 * file does not (the chain is still reported).
 */
int
hd_verify_file(const char *data, const char *sig,
    const struct hd_verify_opts *opts, struct hd_verify_result *res,
    struct hd_err *err)
{
	static const struct hd_verify_opts none;
	const struct hd_verify_opts *o = opts ? opts : &none;
	enum hd_verdict v = HD_V_ERROR;
	CMS_ContentInfo *cms;
	X509_STORE *store = NULL;
	struct hd_err e;

	memset(res, 0, sizeof(*res));
	res->signature_ok = res->content_ok = res->chain_ok = -1;
	res->usage_ok = -1;
	hd_err_clear(err);
	hd_err_clear(&e);
	if ((cms = load_sig(sig, &v, &e)) == NULL ||
	    (store = trust_store(o, &e)) == NULL ||
	    (v = find_signers(cms, store, sig, res, &e)) != HD_V_GOOD ||
	    (v = check_signatures(cms, sig, res, &e)) != HD_V_GOOD) {
		outcome(res, err, v == HD_V_GOOD ? HD_V_ERROR : v, &e);
		goto out;
	}
	timestamp(cms, o, res);
	hd_err_clear(&e);
	outcome(res, err, check_content(cms, data, sig, o, res, &e), &e);
	hd_err_clear(&e);
	outcome(res, err, check_chain(cms, store, o->cafile == NULL, sig, res,
	    &e), &e);
	hd_err_clear(&e);
	outcome(res, err, check_usage(cms, o, sig, res, &e), &e);
out:
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	return res->verdict == HD_V_GOOD ? 0 : -1;
}
