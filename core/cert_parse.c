/*
 * Certificates in the forms CAs hand them out: PEM (one block or many,
 * with text around them), DER, and PKCS#7 certs-only bundles (.p7b/.p7c,
 * PEM or DER).  Private keys, PKCS#12 files and requests are recognized
 * and refused by name, so the operator learns what the file really is;
 * nothing in a refused file is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "cert_int.h"
#include "yamlutil.h"

enum kind { K_CERT, K_TRUSTED, K_P7, K_PRIVATE, K_REQ, K_OTHER };

static const struct {
	const char *name;
	enum kind kind;
} pem_kinds[] = {
	{ "CERTIFICATE", K_CERT },
	{ "X509 CERTIFICATE", K_CERT },
	{ "TRUSTED CERTIFICATE", K_TRUSTED },
	{ "PKCS7", K_P7 },
	{ "PKCS #7 SIGNED DATA", K_P7 },
	{ "CMS", K_P7 },
	{ "CERTIFICATE REQUEST", K_REQ },
	{ "NEW CERTIFICATE REQUEST", K_REQ },
};

#define PRIVATE_HINT "accept takes the certificate the CA issued (PEM, " \
	"DER or .p7b); the private key stays on the token. Nothing was " \
	"stored; destroy or lock away that file"

static enum kind
pem_kind(const char *name)
{
	size_t i;

	if (strstr(name, "PRIVATE KEY") != NULL)
		return K_PRIVATE;
	for (i = 0; i < sizeof(pem_kinds) / sizeof(pem_kinds[0]); i++)
		if (strcmp(pem_kinds[i].name, name) == 0)
			return pem_kinds[i].kind;
	return K_OTHER;
}

static int
refuse_private(const char *name, const char *what, struct hd_err *err)
{
	hd_err_set(err, HD_E_INPUT, 0, "%s: holds a private key (%s); "
	    "private keys must never travel", name, what);
	hd_err_hint(err, PRIVATE_HINT);
	return -1;
}

static int
refuse_request(const char *name, struct hd_err *err)
{
	hd_err_set(err, HD_E_INPUT, 0, "%s: a certificate signing request, "
	    "not a certificate", name);
	hd_err_hint(err, "send the request to the CA and accept the "
	    "certificate it issues");
	return -1;
}

/* Add x (taken) unless the same certificate is there already. */
static int
add_cert(STACK_OF(X509) *sk, X509 *x, const char *name, struct hd_err *err)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0) {
			X509_free(x);
			return 0;
		}
	if (sk_X509_num(sk) >= HD_BUNDLE_MAX) {
		X509_free(x);
		return hd_err_set(err, HD_E_INPUT, 0, "%s: more than %d "
		    "certificates", name, HD_BUNDLE_MAX);
	}
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	return 0;
}

/* One DER certificate filling all of data; NULL otherwise. */
static X509 *
der_cert(const unsigned char *data, long len, int aux)
{
	const unsigned char *p = data;
	X509 *x = aux ? d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);

	if (x != NULL && p != data + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static PKCS7 *
der_p7(const unsigned char *data, long len)
{
	const unsigned char *p = data;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, len);

	if (p7 != NULL && p != data + len) {
		PKCS7_free(p7);
		p7 = NULL;
	}
	return p7;
}

/* The certificates of a PKCS#7 SignedData (RFC 2315 §9.1). */
static int
p7_certs(PKCS7 *p7, STACK_OF(X509) *sk, const char *name, struct hd_err *err)
{
	STACK_OF(X509) *in;
	int i;

	if (OBJ_obj2nid(p7->type) != NID_pkcs7_signed || p7->d.sign == NULL)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: a PKCS#7 structure "
		    "that is not a certificate bundle", name);
	in = p7->d.sign->cert;
	for (i = 0; i < sk_X509_num(in); i++) {
		X509 *x = X509_dup(sk_X509_value(in, i));

		if (x == NULL)
			return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		if (add_cert(sk, x, name, err) == -1)
			return -1;
	}
	return 0;
}

static int
pem_block(STACK_OF(X509) *sk, const char *pname, const unsigned char *data,
    long len, int nblock, const char *name, struct hd_err *err)
{
	enum kind k = pem_kind(pname);
	X509 *x;
	PKCS7 *p7;
	int rc;

	switch (k) {
	case K_PRIVATE:
		return refuse_private(name, pname, err);
	case K_REQ:
		return refuse_request(name, err);
	case K_CERT:
	case K_TRUSTED:
		if ((x = der_cert(data, len, k == K_TRUSTED)) == NULL)
			break;
		return add_cert(sk, x, name, err);
	case K_P7:
		if ((p7 = der_p7(data, len)) == NULL)
			break;
		rc = p7_certs(p7, sk, name, err);
		PKCS7_free(p7);
		return rc;
	default:
		return 1;	/* a block of another kind: skipped */
	}
	hd_err_set(err, HD_E_INPUT, 0, "%s: PEM block %d ('%s') is damaged",
	    name, nblock, pname);
	hd_err_ossl(err);
	return -1;
}

/* After the last block PEM_read_bio reports "no start line". */
static int
pem_clean_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

static int
pem_all(const unsigned char *buf, size_t len, STACK_OF(X509) *sk,
    const char *name, char *other, size_t olen, struct hd_err *err)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	int n = 0, rc = 0;

	if (b == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	while (rc == 0) {
		char *pname = NULL, *hdr = NULL;
		unsigned char *data = NULL;
		long dlen = 0;

		ERR_clear_error();
		if (!PEM_read_bio(b, &pname, &hdr, &data, &dlen)) {
			if (!pem_clean_end()) {
				hd_err_set(err, HD_E_INPUT, 0, "%s: damaged or "
				    "truncated PEM block after %d good "
				    "one(s)", name, n);
				hd_err_ossl(err);
				rc = -1;
			}
			break;
		}
		rc = pem_block(sk, pname, data, dlen, ++n, name, err);
		if ((rc == 1 || pem_kind(pname) == K_P7) && other[0] == '\0')
			snprintf(other, olen, "%s", pname);
		rc = rc == 1 ? 0 : rc;
		OPENSSL_free(pname);
		OPENSSL_free(hdr);
		OPENSSL_free(data);
	}
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

/*
 * PKCS#8, RSAPrivateKey, ECPrivateKey and PKCS#12 all are a SEQUENCE
 * starting with an INTEGER (their version); certificates, requests and
 * PKCS#7 are not.  Only those go to d2i_AutoPrivateKey, whose decoder
 * set-up is costly in OpenSSL 3.
 */
static int
versioned_sequence(const unsigned char *buf, long len)
{
	const unsigned char *p = buf;
	ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
	int r = seq != NULL && p == buf + len &&
	    sk_ASN1_TYPE_num(seq) > 0 &&
	    ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 0)) == V_ASN1_INTEGER;

	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return r;
}

/* A DER private key or PKCS#12 file: say what it is. */
static int
der_secret(const unsigned char *buf, long len, const char *name,
    struct hd_err *err)
{
	const unsigned char *p = buf;
	X509_SIG *sig = d2i_X509_SIG(NULL, &p, len);
	PKCS12 *p12;
	EVP_PKEY *pk;

	X509_SIG_free(sig);
	if (sig != NULL && p == buf + len)
		return refuse_private(name, "encrypted PKCS#8", err);
	if (!versioned_sequence(buf, len))
		return 0;
	p = buf;
	if ((p12 = d2i_PKCS12(NULL, &p, len)) != NULL) {
		PKCS12_free(p12);
		hd_err_set(err, HD_E_INPUT, 0, "%s: a PKCS#12 (.pfx/.p12) "
		    "file, the container for private keys; private keys must "
		    "never travel", name);
		hd_err_hint(err, "ask the CA for the certificate alone (.cer, "
		    ".crt or .p7b); the private key stays on the token");
		return -1;
	}
	p = buf;
	if ((pk = d2i_AutoPrivateKey(NULL, &p, len)) != NULL) {
		EVP_PKEY_free(pk);
		return refuse_private(name, "DER", err);
	}
	return 0;
}

static int
der_all(const unsigned char *buf, size_t len, STACK_OF(X509) *sk,
    const char *name, char *other, size_t olen, struct hd_err *err)
{
	const unsigned char *p = buf;
	X509_REQ *req;
	X509 *x;
	PKCS7 *p7;
	int rc;

	if ((x = der_cert(buf, (long)len, 0)) != NULL)
		return add_cert(sk, x, name, err);
	if ((p7 = der_p7(buf, (long)len)) != NULL) {
		snprintf(other, olen, "PKCS7");
		rc = p7_certs(p7, sk, name, err);
		PKCS7_free(p7);
		return rc;
	}
	if (der_secret(buf, (long)len, name, err) == -1)
		return -1;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL) {
		X509_REQ_free(req);
		return refuse_request(name, err);
	}
	hd_err_set(err, HD_E_INPUT, 0, "%s: not a certificate (neither PEM, "
	    "DER nor a PKCS#7 bundle)", name);
	hd_err_hint(err, "accept takes the certificate the CA issued: .cer, "
	    ".crt, .pem or .p7b");
	return -1;
}

static int
has_text(const unsigned char *buf, size_t len, const char *text)
{
	size_t n = strlen(text);

	return len >= n && memmem(buf, len, text, n) != NULL;
}

/*
 * Parse buf (named name in messages) into *out, a non-empty list of
 * distinct certificates in file order.  Refused with HD_E_INPUT: garbage,
 * damaged or truncated PEM, private keys, PKCS#12, requests, no
 * certificate at all.
 */
int
hd_cert_parse(const unsigned char *buf, size_t len, const char *name,
    STACK_OF(X509) **out, struct hd_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	char other[80] = "";
	int rc;

	*out = NULL;
	if (sk == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (len == 0)
		rc = hd_err_set(err, HD_E_INPUT, 0, "%s: empty file", name);
	else if (len > HD_CERT_FILE_MAX)
		rc = hd_err_set(err, HD_E_INPUT, 0, "%s: larger than %d KiB",
		    name, HD_CERT_FILE_MAX / 1024);
	else if (has_text(buf, len, "PuTTY-User-Key-File-"))
		rc = refuse_private(name, "PuTTY", err);
	else if (has_text(buf, len, "-----BEGIN "))
		rc = pem_all(buf, len, sk, name, other, sizeof(other), err);
	else
		rc = der_all(buf, len, sk, name, other, sizeof(other), err);
	if (rc == 0 && sk_X509_num(sk) == 0 && pem_kind(other) == K_P7) {
		rc = hd_err_set(err, HD_E_INPUT, 0, "%s: an empty PKCS#7 "
		    "bundle: no certificate in it", name);
		hd_err_hint(err, "ask the CA for the bundle again, or for the "
		    "certificate alone");
	} else if (rc == 0 && sk_X509_num(sk) == 0) {
		rc = hd_err_set(err, HD_E_INPUT, 0, "%s: no certificate in "
		    "it%s%s%s", name, other[0] ? " (found '" : "", other,
		    other[0] ? "')" : "");
		hd_err_hint(err, "the CA's reply may be elsewhere: accept "
		    "takes .cer, .crt, .pem or .p7b");
	}
	ERR_clear_error();
	if (rc == -1) {
		sk_X509_pop_free(sk, X509_free);
		return -1;
	}
	*out = sk;
	return 0;
}

int
hd_cert_read(const char *path, STACK_OF(X509) **out, struct hd_err *err)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = hd_read_small(path, HD_CERT_FILE_MAX, HD_E_INPUT, &buf, &len,
	    err);
	if (rc == 1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: no such file", path);
	if (rc == -1)
		return -1;
	rc = hd_cert_parse((unsigned char *)buf, len, path, out, err);
	free(buf);
	return rc;
}

/* Is path a usable certificate file?  No token needed: front-ends ask
 * before they ask for a PIN. */
int
hd_cert_file_check(const char *path, size_t *ncerts, struct hd_err *err)
{
	STACK_OF(X509) *sk;

	*ncerts = 0;
	hd_err_clear(err);
	if (hd_cert_read(path, &sk, err) == -1)
		return -1;
	*ncerts = (size_t)sk_X509_num(sk);
	sk_X509_pop_free(sk, X509_free);
	return 0;
}

/* ---- describing a certificate ------------------------------------------ */

/* Cut at a UTF-8 character boundary so a long name never ends mid-way. */
static void
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && ((unsigned char)s[i - 1] & 0x80)) {
		unsigned char c = (unsigned char)s[i - 1];
		size_t want = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 1;

		if (n - (i - 1) < want)
			s[i - 1] = '\0';
	}
}

/* RFC 2253 order with ", " as Windows shows it; UTF-8 kept, controls
 * escaped. */
void
hd_cert_name_text(const X509_NAME *n, char *buf, size_t len)
{
	unsigned long fl = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB &
	    ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC;
	BIO *b = BIO_new(BIO_s_mem());
	int r = 0;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, fl) >= 0 &&
	    (r = BIO_read(b, buf, (int)len - 1)) > 0)
		buf[r] = '\0';
	BIO_free(b);
	utf8_trim(buf);
}

static int
digest_hex(X509 *x, const EVP_MD *md, char *out, size_t outlen)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	if (!X509_digest(x, md, d, &n) || outlen < 2 * n + 1)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", d[i]);
	return 0;
}

int
hd_cert_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

void
hd_cert_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Whole days from now to t, rounded down (so -1 on the day after). */
int
hd_cert_days_until(int64_t t, time_t now)
{
	int64_t d = t - (int64_t)now;

	return (int)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

/* Fill c from x: digests, names, dates, DER.  -1 if x cannot be read. */
int
hd_cert_describe(X509 *x, time_t now, struct hd_cert *c)
{
	unsigned char *der = NULL;
	int len;

	memset(c, 0, sizeof(*c));
	c->has_key = HD_UNKNOWN;
	if (digest_hex(x, EVP_sha1(), c->sha1, sizeof(c->sha1)) == -1 ||
	    digest_hex(x, EVP_sha256(), c->sha256, sizeof(c->sha256)) == -1 ||
	    hd_cert_time(X509_get0_notBefore(x), &c->not_before) == -1 ||
	    hd_cert_time(X509_get0_notAfter(x), &c->not_after) == -1 ||
	    (len = i2d_X509(x, &der)) <= 0) {
		ERR_clear_error();
		return -1;
	}
	c->der = der;
	c->der_len = (size_t)len;
	hd_cert_name_text(X509_get_subject_name(x), c->subject,
	    sizeof(c->subject));
	hd_cert_name_text(X509_get_issuer_name(x), c->issuer,
	    sizeof(c->issuer));
	hd_cert_serial_hex(X509_get0_serialNumber(x), c->serial,
	    sizeof(c->serial));
	c->days_left = hd_cert_days_until(c->not_after, now);
	c->self_signed = X509_self_signed(x, 1) == 1;
	c->ca = X509_check_ca(x) != 0;
	ERR_clear_error();
	return 0;
}

X509 *
hd_cert_x509(const struct hd_cert *c)
{
	const unsigned char *p = c->der;

	return c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
}

void
hd_cert_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "?");
	else
		strftime(buf, len, "%Y-%m-%d", &tm);
}

void
hd_cert_free(struct hd_cert *c)
{
	if (c == NULL)
		return;
	OPENSSL_free(c->der);
	c->der = NULL;
	c->der_len = 0;
}

void
hd_certs_free(struct hd_cert *list, size_t n)
{
	size_t i;

	for (i = 0; list != NULL && i < n; i++)
		hd_cert_free(&list[i]);
	free(list);
}

const char *
hd_cert_where_name(enum hd_cert_where w)
{
	static const char *const names[] = {
		[HD_CERT_TOKEN] = "token", [HD_CERT_LOCAL] = "local",
		[HD_CERT_CHAIN] = "chain", [HD_CERT_ANCHOR] = "trusted-root",
	};

	return (unsigned)w < sizeof(names) / sizeof(names[0]) ? names[w] : "?";
}
