/*
 * RFC 3161 client: a TimeStampReq (nonce, certReq, imprint of the
 * signature value with the batch's digest) POSTed to each TSA in turn
 * with OpenSSL's HTTP client (OSSL_HTTP_transfer: the proxy from
 * http_proxy/https_proxy/no_proxy, as curl and wget read them), TLS
 * through a libssl BIO pushed by its connect callback, the answer
 * checked (hd_tsa_check) before anyone attaches it.
 *
 * A TSA is asked up to o.attempts times per file when it fails in a way
 * that may pass (refused, timeout, HTTP 5xx), waiting 0.25 s, then 1 s
 * (4 times longer each time) between attempts: a retry outlasts a
 * restarting server or a lost packet, not an outage.  A TSA that failed
 * is marked for the batch and not asked again, so a dead one costs its
 * timeouts once, not per file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "tsa.h"

#define RESP_MAX (256 * 1024)	/* a token with its chain is a few KiB */

struct tsa_url {
	char url[512];
	int dead;		/* failed in this batch: not asked again */
	char why[256];
};

struct hd_tsa {
	struct tsa_url u[HD_TSA_URLS];
	size_t n;
	const EVP_MD *md;
	unsigned timeout, attempts;
	int optional;
	void (*asking)(void *arg, const char *url, unsigned attempt);
	void *arg;
	SSL_CTX *tls;		/* made on the first https:// request */
	char skipped[512];
};

/* One request to one TSA. */
struct attempt {
	struct hd_tsa *t;
	const char *url;
	char *host, *port, *path;
	int ssl;
	char why[256];
	int again;		/* the failure may pass: try again */
};

static const EVP_MD *
tsa_md(const char *name)
{
	if (name == NULL || *name == '\0' || strcasecmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcasecmp(name, "sha384") == 0)
		return EVP_sha384();
	if (strcasecmp(name, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

static int
url_check(const char *url, struct hd_err *err)
{
	char *host = NULL, *port = NULL, *path = NULL;
	int ssl = 0, ok;

	ok = strlen(url) < 512 && OSSL_HTTP_parse_url(url, &ssl, NULL, &host,
	    &port, NULL, &path, NULL, NULL) && strncasecmp(url, "http", 4) == 0;
	ERR_clear_error();
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	if (ok)
		return 0;
	hd_err_set(err, HD_E_USAGE, 0, "TSA URL '%s': not an http:// or "
	    "https:// URL", url);
	hd_err_hint(err, "give the timestamp server's URL, e.g. "
	    "http://timestamp.digicert.com");
	return -1;
}

int
hd_tsa_open(const struct hd_tsa_opts *o, struct hd_tsa **out,
    struct hd_err *err)
{
	struct hd_tsa *t;
	size_t i;

	*out = NULL;
	hd_err_clear(err);
	if (o->nurls == 0 || o->nurls > HD_TSA_URLS)
		return hd_err_set(err, HD_E_USAGE, 0, "timestamping needs 1 to "
		    "%d TSA URLs, not %zu", HD_TSA_URLS, o->nurls);
	if (tsa_md(o->md) == NULL) {
		hd_err_set(err, HD_E_USAGE, 0, "timestamp digest '%s': not "
		    "supported", o->md);
		hd_err_hint(err, "use sha256, sha384 or sha512");
		return -1;
	}
	for (i = 0; i < o->nurls; i++)
		if (url_check(o->urls[i], err) == -1)
			return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < o->nurls; i++)
		snprintf(t->u[i].url, sizeof(t->u[i].url), "%s", o->urls[i]);
	t->n = o->nurls;
	t->md = tsa_md(o->md);
	t->timeout = o->timeout ? o->timeout : HD_TSA_TIMEOUT;
	t->attempts = o->attempts ? o->attempts : HD_TSA_ATTEMPTS;
	t->optional = o->optional;
	t->asking = o->asking;
	t->arg = o->arg;
	*out = t;
	return 0;
}

void
hd_tsa_close(struct hd_tsa *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->tls);
	free(t);
}

const char *
hd_tsa_skipped(const struct hd_tsa *t)
{
	return t != NULL ? t->skipped : "";
}

const char *
hd_tsa_failure(const struct hd_tsa *t, size_t i)
{
	return t != NULL && i < t->n && t->u[i].dead ? t->u[i].why : "";
}

const char *
hd_tsa_url(const struct hd_tsa *t, size_t i)
{
	return t != NULL && i < t->n ? t->u[i].url : "";
}

void
hd_stamp_free(struct hd_stamp *st)
{
	PKCS7_free(st->token);
	memset(st, 0, sizeof(*st));
}

/* ---- the request -------------------------------------------------------- */

/* RFC 3161 §2.4.1: version 1, imprint, a 64-bit nonce, certReq. */
static TS_REQ *
request_new(const EVP_MD *md, const unsigned char *sig, size_t len)
{
	unsigned char dg[EVP_MAX_MD_SIZE], rnd[8];
	unsigned dglen = 0;
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *nonce = NULL;
	int ok;

	ok = req != NULL && mi != NULL && alg != NULL &&
	    EVP_Digest(sig, len, dg, &dglen, md, NULL) &&
	    X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)),
	    V_ASN1_NULL, NULL) && TS_MSG_IMPRINT_set_algo(mi, alg) &&
	    TS_MSG_IMPRINT_set_msg(mi, dg, (int)dglen) &&
	    TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, mi) &&
	    RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) != NULL &&
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    TS_REQ_set_nonce(req, nonce) && TS_REQ_set_cert_req(req, 1);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		return NULL;
	}
	return req;
}

/* ---- the transfer ------------------------------------------------------- */

static SSL_CTX *
tls_ctx(struct hd_tsa *t)
{
	if (t->tls == NULL && (t->tls = SSL_CTX_new(TLS_client_method())) !=
	    NULL) {
		SSL_CTX_set_verify(t->tls, SSL_VERIFY_PEER, NULL);
		/* the system's roots; SSL_CERT_FILE/SSL_CERT_DIR override */
		if (!SSL_CTX_set_default_verify_paths(t->tls) ||
		    !SSL_CTX_set_min_proto_version(t->tls, TLS1_2_VERSION)) {
			SSL_CTX_free(t->tls);
			t->tls = NULL;
		}
	}
	return t->tls;
}

/* The server must be host: a DNS name (also sent as SNI) or an IP
 * address (RFC 6066 §3: no SNI for those), checked in its certificate. */
static int
tls_name(SSL *ssl, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	return SSL_set_tlsext_host_name(ssl, host) && SSL_set1_host(ssl, host);
}

/*
 * OSSL_HTTP_transfer's connect callback: for https:// a TLS client BIO
 * over its socket (through an HTTPS proxy with CONNECT first), checking
 * the server's name; on disconnect the TLS BIO comes off again.
 */
static BIO *
tls_cb(BIO *bio, void *arg, int connect, int detail)
{
	struct attempt *a = arg;
	SSL_CTX *ctx;
	BIO *sbio, *next;
	SSL *ssl = NULL;

	if (connect && detail) {
		if (OSSL_HTTP_adapt_proxy(NULL, NULL, a->host, 1) != NULL &&
		    !OSSL_HTTP_proxy_connect(bio, a->host, a->port, NULL, NULL,
		    (int)a->t->timeout, NULL, NULL))
			return NULL;
		if ((ctx = tls_ctx(a->t)) == NULL ||
		    (sbio = BIO_new_ssl(ctx, 1)) == NULL)
			return NULL;
		BIO_get_ssl(sbio, &ssl);
		if (ssl == NULL || !tls_name(ssl, a->host)) {
			BIO_free(sbio);
			return NULL;
		}
		return BIO_push(sbio, bio);
	}
	if (!connect && a->ssl) {
		BIO_ssl_shutdown(bio);
		next = BIO_pop(bio);
		BIO_free(bio);
		return next;
	}
	return bio;
}

/* "code=500,reason=..." from the HTTP client's error data */
static void
http_status(struct attempt *a, const char *data)
{
	const char *c = data != NULL ? strstr(data, "code=") : NULL;
	int code = c != NULL ? atoi(c + 5) : 0;

	snprintf(a->why, sizeof(a->why), "HTTP status %d", code);
	a->again = code >= 500 || code == 0;
}

static const char *
reason(unsigned long e)
{
	const char *r = ERR_reason_error_string(e);

	return r != NULL ? r : "unknown error";
}

/* The first error on the queue that says what went wrong, in words. */
static void
classify(struct attempt *a)
{
	const char *data = NULL;
	unsigned long e;
	int flags, lib, r;

	snprintf(a->why, sizeof(a->why), "no answer");
	a->again = 1;
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		lib = ERR_GET_LIB(e);
		r = ERR_GET_REASON(e);
		if (!(flags & ERR_TXT_STRING))
			data = NULL;
		if (lib == ERR_LIB_BIO && r == BIO_R_TRANSFER_TIMEOUT) {
			snprintf(a->why, sizeof(a->why), "no answer within "
			    "%u s (timeout)", a->t->timeout);
		} else if (lib == ERR_LIB_HTTP && r == HTTP_R_RECEIVED_ERROR) {
			http_status(a, data);
		} else if (lib == ERR_LIB_HTTP && r != HTTP_R_ERROR_RECEIVING &&
		    r != HTTP_R_ERROR_SENDING && r != HTTP_R_CONNECT_FAILURE) {
			snprintf(a->why, sizeof(a->why), "bad response (%s)",
			    reason(e));
			a->again = 0;
		} else if (lib == ERR_LIB_SSL) {
			snprintf(a->why, sizeof(a->why), "TLS failed (%s)",
			    reason(e));
			a->again = 0;
		} else {
			continue;
		}
		break;
	}
	ERR_clear_error();
}

/* Without a proxy the host must resolve: say so at once, not after the
 * connect timeout (a proxy resolves names itself). */
static int
resolves(struct attempt *a)
{
	BIO_ADDRINFO *res = NULL;
	int ok = BIO_lookup_ex(a->host, a->port, BIO_LOOKUP_CLIENT, AF_UNSPEC,
	    SOCK_STREAM, 0, &res);

	BIO_ADDRINFO_free(res);
	ERR_clear_error();
	if (!ok)
		snprintf(a->why, sizeof(a->why), "host '%s' not found (DNS)",
		    a->host);
	return ok;
}

/*
 * The TCP connection when no proxy is in the way, made here with a
 * connect BIO rather than by OSSL_HTTP_transfer: OpenSSL's connect keeps
 * retrying a refused connection until the timeout and then says only
 * "connect timeout", so a TSA that is down would cost every attempt its
 * full timeout and the operator would not learn why.
 */
static BIO *
dial(struct attempt *a)
{
	BIO *b = BIO_new_connect(a->host);
	time_t end = time(NULL) + (time_t)a->t->timeout;
	unsigned long e;
	int rv = 0;

	if (b == NULL || !BIO_set_conn_port(b, a->port) || !BIO_set_nbio(b, 1))
		goto fail;
	while ((rv = BIO_do_connect(b)) <= 0 && BIO_should_retry(b))
		if (BIO_wait(b, end, 100) != 1) {
			snprintf(a->why, sizeof(a->why), "no connection "
			    "within %u s (timeout)", a->t->timeout);
			goto fail;
		}
	if (rv > 0)
		return b;
	while ((e = ERR_get_error()) != 0 && ERR_GET_LIB(e) != ERR_LIB_SYS)
		;
	snprintf(a->why, sizeof(a->why), "%s", e == 0 ? "cannot connect" :
	    ERR_GET_REASON(e) == ECONNREFUSED ? "connection refused" :
	    strerror(ERR_GET_REASON(e)));
fail:
	ERR_clear_error();
	BIO_free_all(b);
	return NULL;
}

/* POST the request; the response parsed, or a->why. */
static TS_RESP *
transfer(struct attempt *a, TS_REQ *req)
{
	BIO *rq = BIO_new(BIO_s_mem()), *rs = NULL, *conn = NULL;
	TS_RESP *resp = NULL;
	int proxied = OSSL_HTTP_adapt_proxy(NULL, NULL, a->host, a->ssl) !=
	    NULL;

	if (rq == NULL || !i2d_TS_REQ_bio(rq, req)) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		goto out;
	}
	ERR_clear_error();
	a->again = 1;
	if (!proxied && (!resolves(a) || (conn = dial(a)) == NULL)) {
		a->again = strstr(a->why, "DNS") == NULL;
		goto out;
	}
	rs = OSSL_HTTP_transfer(NULL, a->host, a->port, a->path, a->ssl,
	    NULL, NULL, conn, NULL, tls_cb, a, 0, NULL,
	    "application/timestamp-query", rq, NULL, 1, RESP_MAX,
	    (int)a->t->timeout, 0);
	if (rs == NULL) {
		classify(a);
		goto out;
	}
	if ((resp = d2i_TS_RESP_bio(rs, NULL)) == NULL) {
		snprintf(a->why, sizeof(a->why), "bad response (not an RFC "
		    "3161 TimeStampResp)");
		a->again = 0;
	}
	ERR_clear_error();
out:
	BIO_free(rs);
	BIO_free(rq);
	BIO_free_all(conn);
	return resp;
}

static void
attempt_free(struct attempt *a)
{
	OPENSSL_free(a->host);
	OPENSSL_free(a->port);
	OPENSSL_free(a->path);
}

static void
nap(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- one file ----------------------------------------------------------- */

static void
stamp_time(TS_RESP *resp, char *buf, size_t len)
{
	TS_TST_INFO *ti = TS_RESP_get_tst_info(resp);

	hd_cms_time(ti ? TS_TST_INFO_get_time(ti) : NULL, buf, len);
}

/* Ask TSA u, up to t->attempts times; 0 with the token in st. */
static int
ask(struct hd_tsa *t, struct tsa_url *u, const unsigned char *sig,
    size_t len, struct hd_stamp *st)
{
	struct attempt a = { .t = t, .url = u->url };
	TS_REQ *req = NULL;
	TS_RESP *resp = NULL;
	unsigned i, wait = 250;		/* ms, times 4 each time */
	int rc = -1;

	if (!OSSL_HTTP_parse_url(u->url, &a.ssl, NULL, &a.host, &a.port, NULL,
	    &a.path, NULL, NULL)) {
		snprintf(u->why, sizeof(u->why), "not a URL");
		goto out;
	}
	for (i = 1; i <= t->attempts; i++) {
		if (i > 1) {
			nap(wait);
			wait *= 4;
		}
		if (t->asking != NULL)
			t->asking(t->arg, u->url, i);
		TS_REQ_free(req);
		if ((req = request_new(t->md, sig, len)) == NULL) {
			snprintf(a.why, sizeof(a.why), "out of memory");
			break;
		}
		a.again = 0;
		if ((resp = transfer(&a, req)) == NULL && a.again)
			continue;
		if (resp == NULL)
			break;
		if (hd_tsa_check(req, resp, a.why, sizeof(a.why)) == 0) {
			st->token = PKCS7_dup(TS_RESP_get_token(resp));
			snprintf(st->url, sizeof(st->url), "%s", u->url);
			stamp_time(resp, st->time, sizeof(st->time));
			rc = st->token != NULL ? 0 : -1;
			break;
		}
		break;
	}
	if (rc == -1 && i > t->attempts && t->attempts > 1)
		snprintf(u->why, sizeof(u->why), "%s (%u attempts)", a.why,
		    t->attempts);
	else if (rc == -1)
		snprintf(u->why, sizeof(u->why), "%s", a.why);
out:
	TS_RESP_free(resp);
	TS_REQ_free(req);
	attempt_free(&a);
	ERR_clear_error();
	return rc;
}

/* "url: why; url: why" for the message, the batch's dead ones marked. */
static void
failures(struct hd_tsa *t, const int *before, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < t->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s: %s%s",
		    i ? "; " : "", t->u[i].url, t->u[i].why, before[i] ?
		    " (earlier in this batch; not asked again)" : "");
}

int
hd_tsa_stamp(struct hd_tsa *t, const char *path, const unsigned char *sig,
    size_t len, struct hd_stamp *st, struct hd_err *err)
{
	int before[HD_TSA_URLS];
	char list[1024];
	size_t i;

	memset(st, 0, sizeof(*st));
	t->skipped[0] = '\0';
	for (i = 0; i < t->n; i++) {
		before[i] = t->u[i].dead;
		if (t->u[i].dead)
			continue;
		if (ask(t, &t->u[i], sig, len, st) == 0)
			return 0;
		t->u[i].dead = 1;
	}
	failures(t, before, list, sizeof(list));
	if (t->optional) {
		snprintf(t->skipped, sizeof(t->skipped), "no TSA answered "
		    "(%s)", list);
		return 0;
	}
	hd_err_set(err, HD_E_TSA, 0, "%s: no timestamp: %s", path, list);
	hd_err_hint(err, "nothing was signed or changed; check the TSA URLs, "
	    "the network and any proxy (http_proxy, https_proxy), or sign "
	    "with --tr-optional to go without a timestamp");
	return -1;
}
