/*
 * Verifying the Authenticode signatures of a PE file, as signtool verify
 * /pa does: for the primary signature and each one nested in it
 * (unsigned attribute SPC_NESTED_SIGNATURE), the SpcIndirectDataContent
 * must name a PE image and hold the file's digest, the signed attributes
 * must hold the content's digest (the content without its outer tag and
 * length) and verify with the signer's certificate, and that certificate
 * must chain to the CA file, be valid now and, if it says what it is
 * for, be for code signing.  OpenSSL does the PKCS#7 and X.509 work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "authenticode.h"
#include "cert_int.h"
#include "tsa.h"

/* One report per signature; more would be a file made to exhaust us. */
#define MAX_SIGS 64

/* The signature's SpcIndirectDataContent DER, or NULL if it has none. */
ASN1_STRING *
hd_ac_content(PKCS7 *p7)
{
	PKCS7 *c;
	ASN1_OBJECT *o;
	int same;

	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
	    (c = p7->d.sign->contents) == NULL || c->d.other == NULL ||
	    (o = OBJ_txt2obj(HD_OID_SPC_INDIRECT_DATA, 1)) == NULL)
		return NULL;
	same = OBJ_cmp(c->type, o) == 0;
	ASN1_OBJECT_free(o);
	if (!same || c->d.other->type != V_ASN1_SEQUENCE)
		return NULL;
	return c->d.other->value.sequence;
}

void
hd_ac_thumbprint(X509 *x, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t i;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != 20)
		return;
	hd_hex(md, n, out, 41);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'a' && out[i] <= 'f')
			out[i] = (char)(out[i] - 'a' + 'A');
}

static PKCS7_SIGNER_INFO *
only_signer(PKCS7 *p7)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);

	return sk_PKCS7_SIGNER_INFO_num(sis) == 1 ?
	    sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
}

/* The nested signatures of p7, in order; NULL for one not readable. */
int
hd_ac_nested(PKCS7 *p7, STACK_OF(PKCS7) **out)
{
	PKCS7_SIGNER_INFO *si = only_signer(p7);
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_SPC_NESTED_SIGNATURE, 1);
	int pos = -1, i, rc = -1;

	if ((*out = sk_PKCS7_new_null()) == NULL || o == NULL)
		goto out;
	rc = 0;
	while (si != NULL && rc == 0 &&
	    (pos = X509at_get_attr_by_OBJ(si->unauth_attr, o, pos)) >= 0) {
		X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, pos);

		for (i = 0; i < X509_ATTRIBUTE_count(a) && rc == 0; i++) {
			ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, i);
			const unsigned char *p;
			PKCS7 *n = NULL;

			if (t != NULL && t->type == V_ASN1_SEQUENCE) {
				p = t->value.sequence->data;
				n = d2i_PKCS7(NULL, &p,
				    t->value.sequence->length);
				if (n != NULL && p != t->value.sequence->data +
				    t->value.sequence->length) {
					PKCS7_free(n);
					n = NULL;
				}
			}
			if (sk_PKCS7_num(*out) >= MAX_SIGS - 1 ||
			    !sk_PKCS7_push(*out, n)) {
				PKCS7_free(n);
				rc = -1;
			}
		}
	}
out:
	ERR_clear_error();
	ASN1_OBJECT_free(o);
	return rc;
}

/* The signed contentType must be the content's: SPC_INDIRECT_DATA. */
static int
content_type_ok(PKCS7_SIGNER_INFO *si)
{
	ASN1_TYPE *t = PKCS7_get_signed_attribute(si, NID_pkcs9_contentType);
	ASN1_OBJECT *o = OBJ_txt2obj(HD_OID_SPC_INDIRECT_DATA, 1);
	int ok = t != NULL && t->type == V_ASN1_OBJECT && o != NULL &&
	    OBJ_cmp(t->value.object, o) == 0;

	ASN1_OBJECT_free(o);
	return ok;
}

/* messageDigest and the signature over the signed attributes. */
static int
signature_ok(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509 *signer,
    const unsigned char *body, long blen, char *why, size_t len)
{
	BIO *in = BIO_new_mem_buf(body, (int)blen), *p7bio = NULL;
	char buf[4096];
	int r = 0;

	if (in != NULL && (p7bio = PKCS7_dataInit(p7, in)) == NULL)
		BIO_free(in);
	if (p7bio != NULL) {
		while (BIO_read(p7bio, buf, sizeof(buf)) > 0)
			;
		r = PKCS7_signatureVerify(p7bio, p7, si, signer);
	}
	if (r <= 0 && ERR_GET_REASON(ERR_peek_last_error()) ==
	    PKCS7_R_DIGEST_FAILURE)
		snprintf(why, len, "the signed content does not match the "
		    "digest in the signed attributes (messageDigest)");
	else if (r <= 0)
		snprintf(why, len, "the signature does not verify with the "
		    "signer's certificate");
	ERR_clear_error();
	BIO_free_all(p7bio);
	return r > 0;
}

static enum hd_sig_state
malformed(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s", what);
	return HD_SIG_MALFORMED;
}

/*
 * What p7 says and whether it holds up on its own: the digest it signs
 * (sd), its signer's certificate (*signer, owned by p7), and MALFORMED,
 * BAD or OK, with the reason in why.
 */
static enum hd_sig_state
check_sig(PKCS7 *p7, enum hd_spc_kind kind, struct hd_spc_digest *sd,
    X509 **signer, char *why, size_t len)
{
	STACK_OF(X509) *signers;
	PKCS7_SIGNER_INFO *si;
	ASN1_STRING *c;
	const unsigned char *body;
	long blen;

	*signer = NULL;
	memset(sd, 0, sizeof(*sd));
	if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return malformed(why, len, "not a PKCS#7 SignedData");
	if ((si = only_signer(p7)) == NULL)
		return malformed(why, len, "not exactly one signer, as "
		    "Authenticode requires");
	if ((c = hd_ac_content(p7)) == NULL ||
	    hd_spc_indirect_parse(c->data, c->length, sd) == -1 ||
	    hd_spc_body(c->data, c->length, &body, &blen) == -1)
		return malformed(why, len, "its content is not an Authenticode "
		    "SpcIndirectDataContent");
	if (sd->kind != kind)
		return malformed(why, len, kind == HD_SPC_PS1 ? "it signs "
		    "something other than a PowerShell script (not SpcSipInfo "
		    "naming the PowerShell SIP)" : "it signs something other "
		    "than a PE file (not SPC_PE_IMAGE_DATAOBJ)");
	if (!content_type_ok(si))
		return malformed(why, len, "its signed contentType is not "
		    "SPC_INDIRECT_DATA_OBJID");
	signers = PKCS7_get0_signers(p7, NULL, 0);
	ERR_clear_error();
	if (signers == NULL)
		return malformed(why, len, "the signer's certificate is not "
		    "in the signature");
	*signer = sk_X509_value(signers, 0);
	sk_X509_free(signers);
	if (sd->md == NULL) {
		snprintf(why, len, "the file digest's algorithm %s is not "
		    "accepted (SHA-1, SHA-256, SHA-384, SHA-512 are)",
		    sd->md_name);
		return HD_SIG_BAD;
	}
	return signature_ok(p7, si, *signer, body, blen, why, len) ?
	    HD_SIG_OK : HD_SIG_BAD;
}

/*
 * The checks that need no trust store, for a signature just made or
 * re-encoded: 0 if p7 holds up and (dg non-NULL) signs digest dg.
 */
int
hd_ac_self_check(PKCS7 *p7, enum hd_spc_kind kind,
    const struct hd_pe_digest *dg, char *why, size_t len)
{
	struct hd_spc_digest sd;
	X509 *signer;

	if (check_sig(p7, kind, &sd, &signer, why, len) != HD_SIG_OK)
		return -1;
	if (dg != NULL && (sd.md != dg->md || sd.len != dg->len ||
	    memcmp(sd.value, dg->value, dg->len) != 0)) {
		snprintf(why, len, "it does not hold the file's digest");
		return -1;
	}
	return 0;
}

/* ---- against a CA file -------------------------------------------------- */

static const struct hd_pe_digest *
file_digest(struct hd_ac_verifier *v, const EVP_MD *md, struct hd_err *err)
{
	size_t i;

	for (i = 0; i < v->ndg; i++)
		if (v->dg[i].md == md)
			return &v->dg[i];
	/* hd_spc_indirect_parse accepts four algorithms: room for each */
	if (v->ndg == sizeof(v->dg) / sizeof(v->dg[0])) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: too many digest "
		    "algorithms", v->path);
		return NULL;
	}
	if (v->digest(v->ctx, md, &v->dg[v->ndg], err) == -1)
		return NULL;
	return &v->dg[v->ndg++];
}

static void
x509_name(X509_NAME *n, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *txt;
	long k;

	out[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB &
	    ~XN_FLAG_SPC_EQ) | ASN1_STRFLGS_UTF8_CONVERT);
	k = BIO_get_mem_data(b, &txt);
	snprintf(out, len, "%.*s", (int)k, txt);
	BIO_free(b);
}

/* Windows wants codeSigning if the certificate restricts its use. */
static int
for_code_signing(X509 *x, char *why, size_t len)
{
	uint32_t flags = X509_get_extension_flags(x);

	if ((flags & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & XKU_CODE_SIGN)) {
		snprintf(why, len, "the signer's certificate is not for code "
		    "signing (its extended key usage lacks codeSigning)");
		return 0;
	}
	if ((flags & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		snprintf(why, len, "the signer's certificate is not for "
		    "signing (its key usage lacks digitalSignature)");
		return 0;
	}
	return 1;
}

/* The chain to the CA file, at the current time. */
static enum hd_sig_state
check_chain(struct hd_ac_verifier *v, PKCS7 *p7, X509 *signer,
    const struct hd_ts_report *ts, char *why, size_t len)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain, *untrusted = sk_X509_new_null();
	char root[256];
	int i, ok = 0;

	for (i = 0; untrusted != NULL && i < sk_X509_num(p7->d.sign->cert);
	    i++)
		if (!X509_add_cert(untrusted, sk_X509_value(p7->d.sign->cert,
		    i), X509_ADD_FLAG_UP_REF))
			break;
	for (i = 0; untrusted != NULL && i < sk_X509_num(v->pool); i++)
		if (!X509_add_cert(untrusted, sk_X509_value(v->pool, i),
		    X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP))
			break;
	if (ctx == NULL || untrusted == NULL ||
	    !X509_STORE_CTX_init(ctx, v->store, signer, untrusted)) {
		snprintf(why, len, "out of memory checking the certificate "
		    "chain");
		goto out;
	}
	if (ts->ok)		/* a verified timestamp dates the signature */
		X509_STORE_CTX_set_time(ctx, 0, (time_t)ts->when);
	if (X509_verify_cert(ctx) <= 0) {
		snprintf(why, len, "the signer's certificate chain does not "
		    "verify: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	} else if (for_code_signing(signer, why, len)) {
		chain = X509_STORE_CTX_get0_chain(ctx);
		x509_name(X509_get_subject_name(sk_X509_value(chain,
		    sk_X509_num(chain) - 1)), root, sizeof(root));
		snprintf(why, len, "valid: signature verified, file digest "
		    "matches, certificate chain trusted up to %s%s", root,
		    ts->ok ? " at the timestamp's time" : "");
		ok = 1;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	return ok ? HD_SIG_OK : HD_SIG_UNTRUSTED;
}

/* The signer's RFC 3161 countersignature, if it has one. */
static void
timestamp(struct hd_ac_verifier *v, PKCS7 *p7, struct hd_sig_report *r)
{
	PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(
	    PKCS7_get_signer_info(p7), 0);
	PKCS7 *token = si ? hd_tsa_token_p7(si) : NULL;

	if (token == NULL)
		return;
	hd_tsa_verify_token(token, ASN1_STRING_get0_data(si->enc_digest),
	    (size_t)ASN1_STRING_length(si->enc_digest), v->tsa_cafile, &r->ts);
	PKCS7_free(token);
}

/* Fill r for p7; -1 only when the file itself cannot be read. */
static int
verify_one(struct hd_ac_verifier *v, PKCS7 *p7, struct hd_sig_report *r,
    struct hd_err *err)
{
	const struct hd_pe_digest *dg;
	struct hd_spc_digest sd;
	X509 *signer = NULL;

	r->state = check_sig(p7, v->kind, &sd, &signer, r->result,
	    sizeof(r->result));
	snprintf(r->md, sizeof(r->md), "%s", sd.md_name);
	if (signer != NULL) {
		hd_ac_thumbprint(signer, r->sha1);
		x509_name(X509_get_subject_name(signer), r->subject,
		    sizeof(r->subject));
	}
	if (p7 != NULL && PKCS7_type_is_signed(p7))
		timestamp(v, p7, r);
	if (r->state != HD_SIG_OK)
		return 0;
	if ((dg = file_digest(v, sd.md, err)) == NULL)
		return -1;
	if (dg->len != sd.len || memcmp(dg->value, sd.value, sd.len) != 0) {
		r->state = HD_SIG_FILE_CHANGED;
		snprintf(r->result, sizeof(r->result), "the file was changed "
		    "after it was signed: its %s digest is not the signed one",
		    sd.md_name);
		return 0;
	}
	r->state = check_chain(v, p7, signer, &r->ts, r->result,
	    sizeof(r->result));
	return 0;
}

int
hd_ac_load_store(struct hd_ac_verifier *v, const char *cafile, struct hd_err *err)
{
	int ok;

	if (cafile == NULL) {
		/* the system's roots and those the operator trusted at
		 * accept (the local store) */
		v->store = hd_trust_store(NULL, err);
		if (v->store == NULL || hd_store_pool(&v->pool, err) == -1)
			return -1;
		return 0;
	}
	if ((v->store = X509_STORE_new()) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	ok = X509_STORE_load_file(v->store, cafile);
	if (ok == 1)
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: cannot load CA certificates",
	    cafile != NULL ? cafile : "OpenSSL's default CA store");
	hd_err_ossl(err);
	hd_err_hint(err, "give a PEM file holding the root certificate(s) "
	    "to trust");
	return -1;
}

/* The primary signature of the file's DER, parsed, or NULL. */
static PKCS7 *
primary(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);

	if (p7 != NULL && p != der + len) {
		PKCS7_free(p7);
		p7 = NULL;
	}
	ERR_clear_error();
	return p7;
}

static int
verify_all(struct hd_ac_verifier *v, PKCS7 *p7, struct hd_sig_report **sigs,
    size_t *n, struct hd_err *err)
{
	STACK_OF(PKCS7) *nested = NULL;
	size_t i, count;
	int rc = -1;

	if (p7 != NULL && hd_ac_nested(p7, &nested) == -1) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: more than %d nested "
		    "signatures, or out of memory", v->path, MAX_SIGS - 1);
		goto out;
	}
	count = 1 + (size_t)sk_PKCS7_num(nested);
	if ((*sigs = calloc(count, sizeof(**sigs))) == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		(*sigs)[i].index = (unsigned)i;
		if (verify_one(v, i == 0 ? p7 : sk_PKCS7_value(nested,
		    (int)i - 1), &(*sigs)[i], err) == -1)
			goto out;
	}
	*n = count;
	rc = 0;
out:
	if (rc == -1) {
		free(*sigs);
		*sigs = NULL;
	}
	sk_PKCS7_pop_free(nested, PKCS7_free);
	return rc;
}

/*
 * Every signature in der (the file's primary signature, with the nested
 * ones in it), one report each; der that is not PKCS#7 is one MALFORMED
 * report.  -1 only when the file itself cannot be digested.
 */
int
hd_ac_verify_der(struct hd_ac_verifier *v, const unsigned char *der,
    size_t len, struct hd_sig_report **sigs, size_t *n, struct hd_err *err)
{
	PKCS7 *p7 = primary(der, len);
	int rc = verify_all(v, p7, sigs, n, err);

	PKCS7_free(p7);
	return rc;
}

static int
pe_digest(void *ctx, const EVP_MD *md, struct hd_pe_digest *out,
    struct hd_err *err)
{
	struct hd_ac_verifier *v = ctx;

	return hd_pe_digest(v->pe, md, out, v->progress, v->arg, err);
}

/*
 * Verify every Authenticode signature of the PE file at path against the
 * certificates in cafile (NULL: OpenSSL's default store).  *sigs gets
 * one report per signature (free it with free()); an unsigned file gives
 * none.  -1 only when the file or the CA file cannot be used; a bad
 * signature is a report, not an error.
 */
int
hd_verify_pe(const char *path, const char *cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	return hd_verify_pe_ts(path, cafile, NULL, sigs, n, progress, arg,
	    err);
}

int
hd_verify_pe_ts(const char *path, const char *cafile, const char *tsa_cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	struct hd_ac_verifier v;
	struct hd_pe pe;
	unsigned char *der = NULL;
	size_t len;
	int rc = -1;

	*sigs = NULL;
	*n = 0;
	hd_err_clear(err);
	memset(&v, 0, sizeof(v));
	v.kind = HD_SPC_PE;
	v.pe = &pe;
	v.progress = progress;
	v.arg = arg;
	v.digest = pe_digest;
	v.ctx = &v;
	v.tsa_cafile = tsa_cafile ? tsa_cafile : cafile;
	if (hd_pe_open(&pe, path, err) == -1)
		return -1;
	v.path = pe.path;
	if (pe.cert_size == 0)
		rc = 0;
	else if (hd_pe_signature(&pe, &der, &len, err) == 0 &&
	    hd_ac_load_store(&v, cafile, err) == 0)
		rc = hd_ac_verify_der(&v, der, len, sigs, n, err);
	sk_X509_pop_free(v.pool, X509_free);
	free(der);
	X509_STORE_free(v.store);
	hd_pe_close(&pe);
	return rc;
}

const char *
hd_sig_state_name(enum hd_sig_state st)
{
	static const char *const names[] = {
		[HD_SIG_OK] = "ok",
		[HD_SIG_MALFORMED] = "malformed",
		[HD_SIG_BAD] = "bad-signature",
		[HD_SIG_FILE_CHANGED] = "file-changed",
		[HD_SIG_UNTRUSTED] = "untrusted",
	};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "unknown";
}
