/*
 * Checkpoint lines: "this log had count lines, the last one hashing to
 * head", signed by the key that made the batch's signatures, on the
 * token.  The signature covers the checkpoint line's own bytes up to
 * ',"sig":"' (so its seq, prev, count, head, time and certificate too);
 * the line carries the certificate (base64 DER) so that anyone can check
 * it, with `openssl dgst -verify` as well as with audit verify.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "audit_int.h"

void
hd_b64(struct hd_buf *b, const unsigned char *der, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out == NULL) {
		b->oom = 1;
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, der, (int)len);
	hd_buf_add(b, out, strlen(out));
	free(out);
}

static const char *
sig_alg(const struct hd_key *k)
{
	return strcmp(k->type, "EC") == 0 ? "ecdsa-sha256" :
	    "rsa-pkcs1-sha256";
}

/* The token signs msg: PKCS#1 v1.5 or ECDSA over SHA-256. */
static int
token_sign(const struct hd_audit_ctx *c, const char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct hd_err *err)
{
	struct hd_signer *g = NULL;
	EVP_MD_CTX *md = NULL;
	enum hd_sigmech m;
	int rc = -1;

	*sig = NULL;
	if (hd_sigmech_choose(c->s, &c->key, 0, &m, err) == -1 ||
	    (g = hd_signer_open(c->s, &c->key, err)) == NULL ||
	    hd_sigmech_apply(hd_signer_pkey(g), m, err) == -1)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    hd_signer_pkey(g)) != 1 ||
	    EVP_DigestSign(md, NULL, siglen, (const unsigned char *)msg,
	    len) != 1 || (*sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSign(md, *sig, siglen, (const unsigned char *)msg,
	    len) != 1) {
		hd_err_set(err, HD_E_TOKEN, 0, "key '%s' on token '%s': signing "
		    "the audit checkpoint failed", c->key.label,
		    hd_token_name(c->s));
		hd_err_ossl(err);
		free(*sig);
		*sig = NULL;
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	hd_signer_close(g);
	return rc;
}

int
hd_audit_ckpt_line(const struct hd_audit_ctx *c, uint64_t seq,
    const char prev[65], struct hd_buf *out, struct hd_err *err)
{
	size_t start = out->len;
	unsigned char *sig;
	size_t siglen;
	char now[32];

	hd_utc_now(now);
	hd_buf_printf(out, "{\"v\":%d,\"seq\":%llu,\"prev\":\"%s\"",
	    HD_AUDIT_V, (unsigned long long)seq, prev);
	hd_json_kv(out, "kind", "checkpoint");
	hd_json_kv(out, "time", now);
	hd_json_kv(out, "user", c->user);
	hd_json_kv(out, "host", c->host);
	hd_json_kn(out, "count", seq - 1);
	hd_json_kv(out, "head", prev);
	hd_json_kv(out, "token", c->serial);
	hd_json_kv(out, "key_id", c->key_id);
	hd_json_kv(out, "cert_sha1", c->sha1);
	hd_json_kv(out, "sig_alg", sig_alg(&c->key));
	hd_buf_add(out, ",\"cert\":\"", 9);
	hd_b64(out, c->cert, c->cert_len);
	hd_buf_add(out, "\"", 1);
	if (c->chain != NULL && c->chain[0] != '\0')
		hd_json_kv(out, "chain", c->chain);
	if (out->oom)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (token_sign(c, out->p + start, out->len - start, &sig, &siglen,
	    err) == -1)
		return -1;
	hd_buf_add(out, HD_AUDIT_SIG_MARK, strlen(HD_AUDIT_SIG_MARK));
	hd_b64(out, sig, siglen);
	free(sig);
	hd_buf_add(out, "\"}\n", 3);
	return out->oom ? hd_err_set(err, HD_E_NOMEM, 0, "out of memory") : 0;
}

/* base64 to bytes (malloc'd); NULL if malformed. */
static unsigned char *
unb64(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *out;
	int k;

	if (n == 0 || n % 4 != 0 || (out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	*len = (size_t)k - (s[n - 1] == '=') - (s[n - 2] == '=');
	return out;
}

static int64_t
utc_time(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}

/* The issuers the checkpoint carries ("chain"), to help build a path. */
static STACK_OF(X509) *
ckpt_chain(const struct hd_json *j)
{
	const char *c = hd_json_get(j, "chain"), *e;
	STACK_OF(X509) *sk = sk_X509_new_null();
	unsigned char *der;
	const unsigned char *p;
	char one[16384];
	size_t n;
	X509 *x;

	while (sk != NULL && c != NULL && *c != '\0') {
		e = strchr(c, ',');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n < sizeof(one)) {
			memcpy(one, c, n);
			one[n] = '\0';
			if ((der = unb64(one, &n)) != NULL) {
				p = der;
				if ((x = d2i_X509(NULL, &p, (long)n)) != NULL &&
				    !sk_X509_push(sk, x))
					X509_free(x);
				free(der);
			}
		}
		c = e ? e + 1 : NULL;
	}
	return sk;
}

/* The certificate against cafile, at the checkpoint's time. */
static int
chain_ok(X509 *x, const struct hd_json *j, const char *cafile, int64_t when,
    char *why, size_t len)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = ckpt_chain(j);
	int ok = 0;

	if (st == NULL || ctx == NULL ||
	    X509_STORE_load_file(st, cafile) != 1) {
		snprintf(why, len, "--CAfile %s cannot be read as PEM "
		    "certificates", cafile);
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, st, x, untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)when);
	if (X509_verify_cert(ctx) == 1)
		ok = 1;
	else
		snprintf(why, len, "its certificate does not chain to "
		    "--CAfile: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(untrusted, X509_free);
	return ok;
}

/* The certificate in the line, if it is the one named. */
static X509 *
ckpt_cert(const struct hd_json *j, char *why, size_t len)
{
	const char *b = hd_json_get(j, "cert"), *sha1 = hd_json_get(j,
	    "cert_sha1");
	unsigned char *der, md[20];
	const unsigned char *p;
	char hex[41];
	size_t n;
	X509 *x = NULL;

	if (b == NULL || sha1 == NULL || (der = unb64(b, &n)) == NULL) {
		snprintf(why, len, "checkpoint without a readable certificate");
		return NULL;
	}
	EVP_Digest(der, n, md, NULL, EVP_sha1(), NULL);
	hd_hex(md, sizeof(md), hex, sizeof(hex));
	p = der;
	if (strcasecmp(hex, sha1) != 0)
		snprintf(why, len, "the checkpoint's certificate is not the "
		    "one its cert_sha1 names");
	else if ((x = d2i_X509(NULL, &p, (long)n)) == NULL)
		snprintf(why, len, "the checkpoint's certificate is not DER");
	free(der);
	return x;
}

/*
 * 1 if the checkpoint line's signature verifies with the certificate it
 * carries (and, with cafile, the certificate chains to it at the
 * checkpoint's time); 0 with why.  subject gets the certificate's.
 */
int
hd_audit_ckpt_check(const char *line, size_t len, const struct hd_json *j,
    const char *cafile, char *subject, size_t sublen, char *why,
    size_t whylen)
{
	const char *sigb = hd_json_get(j, "sig"), *mark, *p, *t;
	unsigned char *sig = NULL;
	EVP_MD_CTX *md = NULL;
	size_t siglen, ml = strlen(HD_AUDIT_SIG_MARK);
	X509 *x;
	int ok = 0;

	subject[0] = '\0';
	for (mark = NULL, p = line; p + ml <= line + len; p++)
		if (memcmp(p, HD_AUDIT_SIG_MARK, ml) == 0)
			mark = p;
	if ((x = ckpt_cert(j, why, whylen)) == NULL)
		return 0;
	hd_cms_name(X509_get_subject_name(x), subject, sublen);
	if (sigb == NULL || mark == NULL || (sig = unb64(sigb, &siglen)) ==
	    NULL) {
		snprintf(why, whylen, "checkpoint without a readable signature");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    X509_get0_pubkey(x)) != 1 ||
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)line,
	    (size_t)(mark - line)) != 1) {
		snprintf(why, whylen, "the checkpoint's signature does not "
		    "verify with its certificate (%s): the line was altered "
		    "or not signed by that key", hd_json_get(j, "cert_sha1"));
		goto out;
	}
	t = hd_json_get(j, "time");
	ok = cafile == NULL || chain_ok(x, j, cafile, t ? utc_time(t) : -1,
	    why, whylen);
out:
	EVP_MD_CTX_free(md);
	free(sig);
	X509_free(x);
	return ok;
}
