/*
 * Detached CMS signatures (RFC 5652 §5) of files, made with a key on the
 * token.  The file is streamed through OpenSSL's CMS digest BIOs in 1 MiB
 * read()s (CMS_PARTIAL|CMS_STREAM, CMS_dataInit, CMS_dataFinal), so memory
 * stays flat for any size; only the digest of the signed attributes
 * (contentType, signingTime, messageDigest) goes to the token.  Output is
 * DER, written beside its target and renamed over it once complete.
 *
 * One hd_sign serves a batch: the key is looked up once, the certificate
 * checked once.  With opts.defer the outputs of a batch are synced and
 * put in place together by hd_sign_commit, and hd_sign_files signs many
 * files on several sessions at once (cms_batch.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cms_int.h"
#include "tsa.h"

#define SIG_FLAGS (CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_STREAM)
#define CERTS_MAX (1024 * 1024)		/* no certificate chain is larger */

static const struct {
	const char *name, *alt;
	const EVP_MD *(*md)(void);
} digests[] = {
	{ "sha256", "sha-256", EVP_sha256 },
	{ "sha384", "sha-384", EVP_sha384 },
	{ "sha512", "sha-512", EVP_sha512 },
};

static int
pick_md(struct hd_sign *g, const char *name, struct hd_err *err)
{
	size_t i;

	if (name == NULL || *name == '\0')
		name = "sha256";
	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (strcasecmp(name, digests[i].name) != 0 &&
		    strcasecmp(name, digests[i].alt) != 0)
			continue;
		g->md = digests[i].md();
		snprintf(g->md_name, sizeof(g->md_name), "%s", digests[i].name);
		return 0;
	}
	hd_err_set(err, HD_E_USAGE, 0, "digest '%s': not supported", name);
	hd_err_hint(err, "use sha256, sha384 or sha512");
	return -1;
}

/* One or more certificates, PEM or DER (concatenated). */
static STACK_OF(X509) *
certs_parse(const unsigned char *p, size_t len)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	const unsigned char *end = p + len;
	BIO *b = NULL;
	X509 *x;

	if (sk == NULL || len == 0 || len > CERTS_MAX)
		goto fail;
	if (len >= 10 && memcmp(p, "-----BEGIN", 10) == 0) {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
			goto fail;
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				goto fail;
			}
		ERR_clear_error();	/* the end of the PEM data */
		BIO_free(b);
		b = NULL;
		if (sk_X509_num(sk) == 0)
			goto fail;
		return sk;
	}
	while (p < end) {
		if ((x = d2i_X509(NULL, &p, (long)(end - p))) == NULL ||
		    !sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	}
	return sk;
fail:
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

/* The certificate refuses nothing a verifier would: in its validity
 * period, and its key usage (if any) includes digitalSignature. */
static int
cert_usable(X509 *x, struct hd_err *err)
{
	char subj[512], when[32];

	hd_cms_name(X509_get_subject_name(x), subj, sizeof(subj));
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		hd_cms_time(X509_get0_notAfter(x), when, sizeof(when));
		hd_err_set(err, HD_E_INPUT, 0, "certificate '%s': expired on "
		    "%s", subj, when);
		hd_err_hint(err, "renew it: request a new certificate for the "
		    "key; nothing was signed");
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		hd_cms_time(X509_get0_notBefore(x), when, sizeof(when));
		hd_err_set(err, HD_E_INPUT, 0, "certificate '%s': not valid "
		    "before %s", subj, when);
		hd_err_hint(err, "check this computer's clock; nothing was "
		    "signed");
		return -1;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		hd_err_set(err, HD_E_INPUT, 0, "certificate '%s': its key usage "
		    "does not include digitalSignature", subj);
		hd_err_hint(err, "this certificate is not for signing; "
		    "nothing was signed");
		return -1;
	}
	return 0;
}

/* The chain as given, without the signer and without duplicates. */
static int
chain_copy(struct hd_sign *g, STACK_OF(X509) *chain)
{
	int i, j, dup;

	if ((g->chain = sk_X509_new_null()) == NULL)
		return -1;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		dup = X509_cmp(c, g->cert) == 0;
		for (j = 0; !dup && j < sk_X509_num(g->chain); j++)
			dup = X509_cmp(c, sk_X509_value(g->chain, j)) == 0;
		if (dup)
			continue;
		if (!X509_up_ref(c) || !sk_X509_push(g->chain, c))
			return -1;
	}
	return 0;
}

static int
sign_ready(struct hd_session *s, const struct hd_key *k, X509 *cert,
    struct hd_err *err)
{
	if (s == NULL || !s->logged_in)
		return hd_err_set(err, HD_E_USAGE, 0, "token '%s': log in "
		    "before signing", s ? hd_token_name(s) : "?");
	if (k == NULL || cert == NULL)
		return hd_err_set(err, HD_E_USAGE, 0, "signing needs a key "
		    "and its certificate");
	return cert_usable(cert, err);
}

/* The certificate must be the key's: CMS_add1_signer would refuse it
 * later, for every file, with a vaguer message. */
static int
cert_matches(struct hd_sign *g, struct hd_err *err)
{
	char subj[512];

	if (X509_check_private_key(g->cert, hd_signer_pkey(g->signer)) == 1)
		return 0;
	ERR_clear_error();
	hd_cms_name(X509_get_subject_name(g->cert), subj, sizeof(subj));
	hd_err_set(err, HD_E_INPUT, 0, "certificate '%s' is not for key '%s' "
	    "on token '%s'", subj, g->key.label, hd_token_name(g->s));
	hd_err_hint(err, "choose the certificate issued for this key; "
	    "nothing was signed");
	return -1;
}

int
hd_sign_open_x509(struct hd_session *s, const struct hd_key *k, X509 *cert,
    STACK_OF(X509) *chain, const struct hd_sign_opts *opts,
    struct hd_sign **out, struct hd_err *err)
{
	static const struct hd_sign_opts none;
	struct hd_sign *g;

	*out = NULL;
	hd_err_clear(err);
	if (sign_ready(s, k, cert, err) == -1)
		return -1;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	g->s = s;
	g->key = *k;
	pthread_mutex_init(&g->lock, NULL);
	g->opts = opts != NULL ? *opts : none;
	g->opts.md = NULL;	/* the caller's string need not outlive this */
	g->opts.tsa = opts != NULL ? opts->tsa : NULL;
	g->cert = cert;
	if (!X509_up_ref(cert)) {
		g->cert = NULL;
		goto nomem;
	}
	if (chain_copy(g, chain) == -1 ||
	    (g->buf = malloc(HD_STREAM_CHUNK)) == NULL)
		goto nomem;
	if (pick_md(g, opts ? opts->md : NULL, err) == -1 ||
	    hd_sigmech_choose(s, k, g->opts.pss, &g->mech, err) == -1 ||
	    (g->signer = hd_signer_open(s, k, err)) == NULL ||
	    hd_sigmech_apply(hd_signer_pkey(g->signer), g->mech, err) == -1 ||
	    cert_matches(g, err) == -1)
		goto fail;
	*out = g;
	return 0;
nomem:
	hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
fail:
	hd_sign_close(g);
	return -1;
}

int
hd_sign_open(struct hd_session *s, const struct hd_key *k,
    const unsigned char *cert, size_t cert_len, const unsigned char *chain,
    size_t chain_len, const struct hd_sign_opts *opts, struct hd_sign **out,
    struct hd_err *err)
{
	STACK_OF(X509) *c = NULL, *ch = NULL;
	int rc = -1;

	*out = NULL;
	hd_err_clear(err);
	if (cert == NULL || (c = certs_parse(cert, cert_len)) == NULL ||
	    sk_X509_num(c) != 1) {
		hd_err_set(err, HD_E_INPUT, 0, "the signer certificate is not "
		    "one DER or PEM certificate");
		goto out;
	}
	if (chain != NULL && chain_len > 0 &&
	    (ch = certs_parse(chain, chain_len)) == NULL) {
		hd_err_set(err, HD_E_INPUT, 0, "the certificate chain is not "
		    "PEM or DER certificates");
		goto out;
	}
	rc = hd_sign_open_x509(s, k, sk_X509_value(c, 0), ch, opts, out, err);
out:
	ERR_clear_error();
	sk_X509_pop_free(c, X509_free);
	sk_X509_pop_free(ch, X509_free);
	return rc;
}

void
hd_sign_info(const struct hd_sign *g, struct hd_sign_info *info)
{
	memset(info, 0, sizeof(*info));
	hd_cms_name(X509_get_subject_name(g->cert), info->subject,
	    sizeof(info->subject));
	hd_cms_thumbprint(g->cert, info->sha1);
	snprintf(info->md, sizeof(info->md), "%s", g->md_name);
	snprintf(info->alg, sizeof(info->alg), "%s",
	    g->mech == HD_SIG_ECDSA ? "ECDSA" : g->mech == HD_SIG_RSA_PKCS ?
	    "RSA PKCS#1 v1.5" : "RSA-PSS");
	snprintf(info->mechanism, sizeof(info->mechanism), "%s",
	    hd_sigmech_name(g->mech));
}

int
hd_sign_out_path(const char *in, char *buf, size_t len)
{
	return snprintf(buf, len, "%s.p7s", in) >= (int)len ? -1 : 0;
}

/* A CMS SignedData ready to stream into, with our one signer. */
static CMS_ContentInfo *
cms_new(struct hd_sign *g, CMS_SignerInfo **si)
{
	int pss = g->mech == HD_SIG_RSA_PSS || g->mech == HD_SIG_RSA_PSS_RAW;
	unsigned int fl = CMS_BINARY | CMS_NOSMIMECAP |
	    (pss ? CMS_KEY_PARAM : 0);
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, SIG_FLAGS);
	EVP_PKEY_CTX *pc;
	int i;

	if (cms == NULL || (*si = CMS_add1_signer(cms, g->cert,
	    hd_signer_pkey(g->signer), g->md, fl)) == NULL)
		goto fail;
	/* RFC 4056 §3: salt as long as the digest, MGF1 with the same */
	if (pss && ((pc = CMS_SignerInfo_get0_pkey_ctx(*si)) == NULL ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0))
		goto fail;
	for (i = 0; i < sk_X509_num(g->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(g->chain, i)))
			goto fail;
	return cms;
fail:
	CMS_ContentInfo_free(cms);
	return NULL;
}

/*
 * The token failed the signature.  libp11 queues the token's CKR as the
 * reason of its own error library, "PKCS#11 module": with it the
 * operator gets the words and the hint for that CKR.
 */
static int
token_failed(struct hd_sign *g, const char *in, struct hd_err *err)
{
	unsigned long e, first = 0, ckr = 0;
	const char *lib;
	char obj[4300];

	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
		lib = ERR_lib_error_string(e);
		if (ckr == 0 && lib != NULL &&
		    strcmp(lib, "PKCS#11 module") == 0)
			ckr = (unsigned long)ERR_GET_REASON(e);
	}
	snprintf(obj, sizeof(obj), "%s: key '%s' on token '%s'", in,
	    g->key.label, hd_token_name(g->s));
	if (ckr != 0)
		hd_err_ckr(err, ckr, "signing", obj);
	else
		hd_err_set(err, HD_E_TOKEN, 0, "%s: signing failed", obj);
	if (first != 0)
		ERR_error_string_n(first, err->ossl, sizeof(err->ossl));
	return -1;
}

/* CMS_dataFinal signs on the token; the signature is checked with the
 * certificate's key before it is handed out. */
static int
cms_final(struct hd_sign *g, CMS_ContentInfo *cms, CMS_SignerInfo *si,
    BIO *io, const char *in, uint64_t *sign_ns, struct hd_err *err)
{
	uint64_t t0 = hd_now_ns();
	int ok = CMS_dataFinal(cms, io);

	*sign_ns += hd_now_ns() - t0;
	if (!ok)
		return token_failed(g, in, err);
	if (CMS_SignerInfo_verify(si) != 1) {
		ERR_clear_error();
		hd_err_set(err, HD_E_TOKEN, 0, "%s: key '%s' on token '%s': "
		    "the token's signature does not verify with the "
		    "certificate", in, g->key.label, hd_token_name(g->s));
		hd_err_hint(err, "the token returned a wrong signature; "
		    "nothing was written");
		return -1;
	}
	return 0;
}

static void
result_fill(CMS_SignerInfo *si, uint64_t size, size_t der_len,
    struct hd_sign_result *res)
{
	ASN1_OCTET_STRING *md = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);

	res->size = size;
	res->sig_len = der_len;
	if (md != NULL)
		hd_hex(ASN1_STRING_get0_data(md), (size_t)ASN1_STRING_length(md),
		    res->digest, sizeof(res->digest));
}

/* The TSA's token over the new signature value, as an unsigned
 * attribute; before anything is written, so no TSA means no output. */
static int
timestamp(struct hd_sign *g, CMS_SignerInfo *si, const char *in,
    struct hd_sign_result *res, struct hd_err *err)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	struct hd_stamp st;
	int rc = -1;

	if (g->opts.tsa == NULL)
		return 0;
	if (hd_tsa_stamp(g->opts.tsa, in, ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig), &st, err) == -1)
		return -1;
	if (st.token == NULL)
		return 0;	/* --tr-optional: hd_tsa_skipped says why */
	if (hd_tsa_attach_cms(si, &st) == -1) {
		hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory attaching "
		    "the timestamp", in);
		goto out;
	}
	snprintf(res->tsa, sizeof(res->tsa), "%s", st.url);
	snprintf(res->ts_time, sizeof(res->ts_time), "%s", st.time);
	rc = 0;
out:
	hd_stamp_free(&st);
	return rc;
}

/* Stream the file into a new signature; its DER in *der. */
static int
sign_stream(struct hd_sign *g, unsigned char *buf, struct hd_stream *f,
    hd_progress_fn progress, void *arg, unsigned char **der,
    struct hd_sign_result *res, uint64_t *sign_ns, struct hd_err *err)
{
	CMS_SignerInfo *si = NULL;
	CMS_ContentInfo *cms = cms_new(g, &si);
	BIO *io = cms ? CMS_dataInit(cms, NULL) : NULL;
	int len, rc = -1;

	if (io == NULL) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: the CMS structure could "
		    "not be made", f->path);
		hd_err_ossl(err);
		goto out;
	}
	if (hd_stream_feed(f, io, buf, HD_STREAM_CHUNK, progress, arg,
	    "signed", err) == -1 || cms_final(g, cms, si, io, f->path,
	    sign_ns, err) == -1 || timestamp(g, si, f->path, res, err) == -1)
		goto out;
	if ((len = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		hd_err_set(err, HD_E_INTERNAL, 0, "%s: DER encoding failed",
		    f->path);
		goto out;
	}
	result_fill(si, hd_stream_size(f), (size_t)len, res);
	rc = 0;
out:
	BIO_free_all(io);
	CMS_ContentInfo_free(cms);
	return rc;
}

/* The signature must not land on the file it signs. */
static int
not_input(const struct hd_stream *f, const char *out, struct hd_err *err)
{
	struct stat st;

	if (stat(out, &st) == 0 && st.st_dev == f->st.st_dev &&
	    st.st_ino == f->st.st_ino)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: the signature "
		    "would replace the file it signs", out);
	return 0;
}

int
hd_sign_pending_add(struct hd_sign *g, struct hd_tmpfile *t,
    struct hd_err *err)
{
	struct hd_tmpfile *p;

	if (g->npending == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;

		if ((p = reallocarray(g->pending, cap, sizeof(*p))) == NULL) {
			hd_tmp_discard(t);
			return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		}
		g->pending = p;
		g->cap = cap;
	}
	g->pending[g->npending++] = *t;
	return 0;
}

/*
 * Sign in into the temp file t for its output: closed, fsynced unless
 * the batch defers that, not yet in place.  buf (HD_STREAM_CHUNK bytes)
 * is the caller's, so that several threads can sign with one g.  On
 * failure t holds nothing.
 */
int
hd_sign_one(struct hd_sign *g, unsigned char *buf, const char *in,
    const char *out, hd_progress_fn progress, void *arg,
    struct hd_sign_result *res, struct hd_tmpfile *t, uint64_t *sign_ns,
    struct hd_err *err)
{
	struct hd_stream f;
	unsigned char *der = NULL;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	hd_err_clear(err);
	if (out == NULL && hd_sign_out_path(in, res->out, sizeof(res->out)))
		return hd_err_set(err, HD_E_USAGE, 0, "%s: name too long", in);
	if (out != NULL)
		snprintf(res->out, sizeof(res->out), "%s", out);
	if (hd_stream_open(&f, in, err) == -1)
		return -1;
	if (not_input(&f, res->out, err) == -1 ||
	    hd_tmp_create(t, res->out, 0644, g->opts.replace, err) == -1)
		goto out;
	/* before anything is written to it: cms_batch.c says why */
	if (g->opts.defer)
		hd_sign_note_fs(g, t);
	if (sign_stream(g, buf, &f, progress, arg, &der, res, sign_ns,
	    err) == 0 && hd_input_unchanged(f.fd, in, &f.st, err) == 0 &&
	    hd_tmp_write(t, der, res->sig_len, err) == 0 &&
	    hd_tmp_close(t, !g->opts.defer, err) == 0)
		rc = 0;
out:
	if (rc == -1) {
		hd_tmp_discard(t);
		if (err->code == HD_E_CANCELLED)
			hd_err_hint(err, "nothing was written; an existing "
			    "signature is unchanged");
	}
	OPENSSL_free(der);
	hd_stream_close(&f);
	return rc;
}

/*
 * Sign the file in (out: NULL for "in.p7s").  On any failure, a
 * cancellation included, no output is left and an existing one is
 * unchanged.
 */
int
hd_sign_file(struct hd_sign *g, const char *in, const char *out,
    hd_progress_fn progress, void *arg, struct hd_sign_result *res,
    struct hd_err *err)
{
	struct hd_tmpfile t;

	if (hd_sign_one(g, g->buf, in, out, progress, arg, res, &t,
	    &g->s->sign_ns, err) == -1)
		return -1;
	if (!g->opts.defer)
		return hd_tmp_place(&t, 1, err);
	return hd_sign_pending_add(g, &t, err);
}

/* Close the batch; signatures not committed are removed. */
void
hd_sign_close(struct hd_sign *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->npending; i++)
		hd_tmp_discard(&g->pending[i]);
	free(g->pending);
	hd_sign_close_fs(g);
	pthread_mutex_destroy(&g->lock);
	hd_signer_close(g->signer);	/* before the slots: libp11#534 */
	X509_free(g->cert);
	sk_X509_pop_free(g->chain, X509_free);
	free(g->buf);
	free(g);
}
