/*
 * Authenticode signing of PE files with a key on the token, as signtool
 * sign does.  The signature is PKCS#7 SignedData (not CMS, whose
 * API cannot make it): content [0] EXPLICIT SpcIndirectDataContent,
 * signed attributes contentType = SPC_INDIRECT_DATA_OBJID, SpcSpOpusInfo
 * (/d, /du), SpcStatementType (individual code signing) and
 * messageDigest over the content without its outer tag and length.
 *
 * The file is hashed (hd_pe_digest), the signature made on the token and
 * checked with the certificate, then hd_pe_write_signed writes the file
 * through a temp file beside it, re-checking the digest while copying,
 * and renames it into place: until then the original is untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "authenticode.h"
#include "internal.h"

struct signing {
	struct hd_session *s;
	const struct hd_key *k;
	const struct hd_sign_pe_opts *o;
	const EVP_MD *md;
	X509 *cert;
	STACK_OF(X509) *chain;
	unsigned char *opus;		/* SpcSpOpusInfo DER */
	int opus_len;
	struct hd_signer *signer;
	struct hd_pe pe;
	int pe_open;
	char out[PATH_MAX];		/* where the signed file goes */
	struct hd_pe_digest dg;
	PKCS7 *old;			/* the signature to nest into */
	unsigned char *der;		/* the signature to embed */
	int len;
	uint64_t unit;			/* progress: each pass counts as one */
};

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
load_certs(struct signing *g, const struct hd_der *cert,
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
check_opts(struct signing *g, struct hd_err *err)
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

/* ---- the file ------------------------------------------------------------ */

/*
 * Open the input.  In place, the output is the file itself: where a
 * symlink points (so the link stays a link), beside which the temp file
 * is made.  Other hard links keep naming the old content: say so.
 */
static int
open_input(struct signing *g, const char *path, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	struct stat st;
	int fd;

	if (g->o->out != NULL) {
		snprintf(g->out, sizeof(g->out), "%s", g->o->out);
	} else if (realpath(path, g->out) == NULL) {
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	}
	fd = open(g->o->out != NULL ? path : g->out,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	if (hd_pe_open_fd(&g->pe, fd, path, err) == -1) {
		close(fd);
		return -1;
	}
	g->pe.own_fd = 1;
	g->pe_open = 1;
	if (g->o->out == NULL && fstat(fd, &st) == 0 && st.st_nlink > 1)
		res->other_links = (unsigned long)st.st_nlink - 1;
	snprintf(res->path, sizeof(res->path), "%s", g->out);
	res->had_signature = g->pe.cert_size != 0;
	g->unit = g->pe.size;
	return 0;
}

/* The existing signature, to nest the new one into (append). */
static int
read_old(struct signing *g, struct hd_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	char why[256];
	size_t len;

	if (hd_pe_signature(&g->pe, &der, &len, err) == -1)
		return -1;
	p = der;
	g->old = d2i_PKCS7(NULL, &p, (long)len);
	ERR_clear_error();
	free(der);
	if (g->old != NULL && hd_ac_self_check(g->old, NULL, why,
	    sizeof(why)) == 0)
		return 0;
	if (g->old == NULL)
		snprintf(why, sizeof(why), "it is not PKCS#7");
	hd_err_set(err, HD_E_INPUT, 0, "%s: the existing signature cannot be "
	    "appended to: %s", g->pe.path, why);
	hd_err_hint(err, "sign without append (/as) to replace it");
	return -1;
}

/* Digest and write passes share one bar: [0, unit) and [unit, 2 unit]. */
static int
pass_progress(struct signing *g, int pass, uint64_t done, uint64_t total)
{
	uint64_t at = total == 0 ? g->unit : done * g->unit / total;

	return g->o->progress(g->o->arg, (uint64_t)pass * g->unit + at,
	    2 * g->unit);
}

static int
digest_progress(void *arg, uint64_t done, uint64_t total)
{
	return pass_progress(arg, 0, done, total);
}

static int
write_progress(void *arg, uint64_t done, uint64_t total)
{
	return pass_progress(arg, 1, done, total);
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
signed_attrs(struct signing *g, PKCS7_SIGNER_INFO *si,
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
p7_unsigned(struct signing *g, PKCS7_SIGNER_INFO **si)
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
	ok = ok && hd_spc_indirect_data(&g->dg, &idc, &idc_len) == 0 &&
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
p7_sign(struct signing *g, struct hd_err *err)
{
	PKCS7_SIGNER_INFO *si = NULL;
	PKCS7 *p7 = p7_unsigned(g, &si);
	uint64_t t0;
	int ok;

	if (p7 == NULL) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: the PKCS#7 signature "
		    "could not be built for key '%s'", g->pe.path, g->k->label);
		hd_err_ossl(err);
		return NULL;
	}
	t0 = hd_now_ns();
	ok = PKCS7_SIGNER_INFO_sign(si);
	g->s->sign_ns += hd_now_ns() - t0;
	if (ok)
		return p7;
	hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': signing %s "
	    "failed", g->k->label, hd_token_name(g->s), g->pe.path);
	hd_err_ossl(err);
	PKCS7_free(p7);
	return NULL;
}

/* The token's signature must verify with the certificate given. */
static int
check_new(struct signing *g, PKCS7 *p7, struct hd_err *err)
{
	char why[256], sha1[41];

	if (hd_ac_self_check(p7, &g->dg, why, sizeof(why)) == 0)
		return 0;
	hd_ac_thumbprint(g->cert, sha1);
	hd_err_set(err, HD_E_INPUT, 0, "key '%s' on token '%s': its signature "
	    "of %s does not verify with certificate %s: %s", g->k->label,
	    hd_token_name(g->s), g->pe.path, sha1, why);
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
written_ok(struct signing *g, char *why, size_t len)
{
	const unsigned char *p = g->der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, g->len);
	int ok = p7 != NULL && p == g->der + g->len &&
	    hd_ac_self_check(p7, NULL, why, len) == 0;

	if (p7 == NULL)
		snprintf(why, len, "it cannot be read back");
	ERR_clear_error();
	PKCS7_free(p7);
	return ok;
}

/* p7 in the old signature's unsigned SPC_NESTED_SIGNATURE attribute:
 * one more value if it has one (as signtool /as), else a new one. */
static int
nest(struct signing *g, PKCS7 *p7, struct hd_err *err)
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
		    "nesting the signature", g->pe.path);
	if (written_ok(g, why, sizeof(why)))
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: re-encoding the existing "
	    "signature would break it (%s)", g->pe.path, why);
	hd_err_hint(err, "the existing signature is not DER; sign without "
	    "append (/as) to replace it");
	return -1;
}

static int
make_signature(struct signing *g, struct hd_err *err)
{
	PKCS7 *p7 = p7_sign(g, err);
	int rc = -1;

	if (p7 == NULL || check_new(g, p7, err) == -1)
		goto out;
	if (g->old != NULL)
		rc = nest(g, p7, err);
	else if ((g->len = i2d_PKCS7(p7, &g->der)) > 0)
		rc = 0;
	else
		hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory encoding "
		    "the signature", g->pe.path);
out:
	PKCS7_free(p7);
	return rc;
}

/* ---- putting it together ------------------------------------------------ */

static unsigned
count_sigs(struct signing *g)
{
	STACK_OF(PKCS7) *nested = NULL;
	unsigned n = 1;

	if (g->old != NULL && hd_ac_nested(g->old, &nested) == 0)
		n += (unsigned)sk_PKCS7_num(nested);
	sk_PKCS7_pop_free(nested, PKCS7_free);
	return n;
}

static int
sign_file(struct signing *g, struct hd_sign_pe_result *res,
    struct hd_err *err)
{
	hd_progress_fn fn = g->o->progress;

	if (g->o->append && g->pe.cert_size != 0 && read_old(g, err) == -1)
		return -1;
	if ((g->signer = hd_signer_open(g->s, g->k, err)) == NULL ||
	    hd_pe_digest(&g->pe, g->md, &g->dg, fn ? digest_progress : NULL,
	    g, err) == -1 || make_signature(g, err) == -1)
		return -1;
	if (hd_pe_write_signed(&g->pe, g->der, (size_t)g->len, &g->dg, g->out,
	    g->o->out == NULL || g->o->replace, fn ? write_progress : NULL, g,
	    err) == -1)
		return -1;
	res->nsigs = count_sigs(g);
	hd_ac_thumbprint(g->cert, res->sha1);
	snprintf(res->md, sizeof(res->md), "SHA%d", EVP_MD_get_size(g->md) *
	    8);
	return 0;
}

/*
 * Sign the PE file at path with key k on the token (logged in), whose
 * certificate is cert, adding the chain certificates to the signature.
 * In place unless o->out: atomically, keeping mode and owner, through a
 * symlink to its target.  On failure the file is byte for byte as it was.
 */
int
hd_sign_pe(struct hd_session *s, const struct hd_key *k,
    const struct hd_der *cert, const struct hd_der *chain, size_t nchain,
    const char *path, const struct hd_sign_pe_opts *o,
    struct hd_sign_pe_result *res, struct hd_err *err)
{
	static const struct hd_sign_pe_opts defaults;
	struct signing g;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	hd_err_clear(err);
	g.s = s;
	g.k = k;
	g.o = o != NULL ? o : &defaults;
	if (check_opts(&g, err) == 0 &&
	    load_certs(&g, cert, chain, nchain, err) == 0 &&
	    open_input(&g, path, res, err) == 0 &&
	    sign_file(&g, res, err) == 0)
		rc = 0;
	if (rc == -1 && err->msg[0] == '\0')
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: signing failed", path);
	OPENSSL_free(g.der);
	PKCS7_free(g.old);
	hd_signer_close(g.signer);
	if (g.pe_open)
		hd_pe_close(&g.pe);
	OPENSSL_free(g.opus);
	sk_X509_pop_free(g.chain, X509_free);
	X509_free(g.cert);
	return rc;
}
