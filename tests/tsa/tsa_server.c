/*
 * The local test TSA (RFC 3161 over HTTP, RFC 3161 §3.4) for the tests
 * and the bench: one process, one loopback port per behaviour, answers
 * made by OpenSSL's TS_RESP_CTX with a TSA certificate issued by the
 * test CA (tests/unit/testca.c).  In C, not a script, so that it needs
 * nothing beyond the build's own libraries and can also answer wrongly.
 *
 *   tsa_server DIR [LIFETIME]
 *
 * writes DIR/ca.pem (the test CA: --TSA-CAfile), DIR/tsa.pem (the TSA
 * certificate) and DIR/ports, one "MODE PORT" line per behaviour:
 *   good     a proper time-stamp token
 *   slow     the same, after 3 seconds (HD_TSA_SLOW seconds if set)
 *   http500  HTTP 500
 *   garbage  200 with bytes that are no TimeStampResp
 *   nonce    a proper token for another nonce
 *   noeku    a token signed by a certificate without timeStamping
 *   tls      as good, over TLS (https://127.0.0.1:PORT/; the server's
 *            certificate, for IP 127.0.0.1, is from the same test CA)
 *   down     a port nothing listens on (bound, then closed)
 *   once     as good for its first request, HTTP 500 for every later
 *            one (a TSA that fails in the middle of a run)
 * Each request appends "MODE REQUEST-LINE" to DIR/log.  A child per
 * connection, so a slow answer holds up no other.  It exits after
 * LIFETIME seconds (default 600) so that a crashed test leaves nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "testca.h"

enum mode { GOOD, SLOW, HTTP500, GARBAGE, NONCE, NOEKU, TLS, DOWN, ONCE,
	NMODES };
static const char *names[NMODES] = {
	"good", "slow", "http500", "garbage", "nonce", "noeku", "tls", "down",
	"once"
};

/* once mode: its first connection was accepted (the parent sets it; a
 * child sees it as it was at its fork) */
static int once_used;

struct tsa {
	struct tc_ca ca;
	EVP_PKEY *key;
	X509 *cert, *noeku;
	SSL_CTX *tls;
	char dir[4096];
};

/* One client connection, plain or TLS. */
struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	n = SSL_read(c->ssl, buf, (int)len);
	return n > 0 ? n : -1;
}

static ssize_t
conn_write(struct conn *c, const void *buf, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return write(c->fd, buf, len);
	n = SSL_write(c->ssl, buf, (int)len);
	return n > 0 ? n : -1;
}

static void
die(const char *what)
{
	fprintf(stderr, "tsa_server: %s: %s\n", what, strerror(errno));
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int
listener(unsigned short *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		die("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

/* The TLS server's certificate: 127.0.0.1, serverAuth, the test CA's. */
static void
tls_make(struct tsa *t)
{
	struct tc_leaf l = { .cn = "127.0.0.1", .ku = KU_DIGITAL_SIGNATURE,
	    .eku = "serverAuth" };
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = k ? tc_issue_key(&t->ca, k, &l) : NULL;
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	if (x == NULL)
		die("TLS certificate");
	X509V3_set_ctx(&ctx, t->ca.cert, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    "IP:127.0.0.1")) == NULL || !X509_add_ext(x, e, -1) ||
	    !X509_sign(x, t->ca.key, EVP_sha256()) ||
	    (t->tls = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(t->tls, x) != 1 ||
	    SSL_CTX_use_PrivateKey(t->tls, k) != 1)
		die("TLS certificate");
	X509_EXTENSION_free(e);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
certs_make(struct tsa *t)
{
	struct tc_leaf l = { .cn = "hsmdesk test TSA", .ku =
	    KU_DIGITAL_SIGNATURE, .eku = "critical,timeStamping" };
	char path[4200];

	if (tc_ca_new(&t->ca, "hsmdesk test TSA root") == -1 ||
	    (t->key = EVP_EC_gen("P-256")) == NULL ||
	    (t->cert = tc_issue_key(&t->ca, t->key, &l)) == NULL)
		die("certificates");
	l.cn = "hsmdesk test TSA without EKU";
	if ((t->noeku = tc_issue_key(&t->ca, t->key, &l)) == NULL)
		die("certificates");
	tls_make(t);
	snprintf(path, sizeof(path), "%s/ca.pem", t->dir);
	if (tc_write_pem(path, t->ca.cert) == -1)
		die(path);
	snprintf(path, sizeof(path), "%s/tsa.pem", t->dir);
	if (tc_write_pem(path, t->cert) == -1)
		die(path);
}

/* The request: headers up to the blank line, then Content-Length bytes. */
static int
read_request(struct conn *fd, char *buf, size_t cap, char **body,
    size_t *blen)
{
	size_t used = 0, head = 0;
	char *end, *cl;
	ssize_t n;

	for (;;) {
		if (head == 0 && (end = memmem(buf, used, "\r\n\r\n", 4))) {
			*end = '\0';
			head = (size_t)(end + 4 - buf);
			cl = strcasestr(buf, "\r\nContent-Length:");
			*blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
			*end = '\r';
		}
		if (head != 0 && used >= head + *blen)
			break;
		if (used == cap - 1 || (n = conn_read(fd, buf + used,
		    cap - 1 - used)) <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
	}
	*body = buf + head;
	return 0;
}

/* nonce mode: the request as if it carried another nonce */
static BIO *
request_bio(enum mode m, const char *body, size_t len)
{
	BIO *b = BIO_new_mem_buf(body, (int)len);
	TS_REQ *req;
	ASN1_INTEGER *n;

	if (m != NONCE || b == NULL)
		return b;
	req = d2i_TS_REQ_bio(b, NULL);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	if (req == NULL || b == NULL)
		return b;
	n = ASN1_INTEGER_new();
	ASN1_INTEGER_set(n, 4242);
	TS_REQ_set_nonce(req, n);
	ASN1_INTEGER_free(n);
	i2d_TS_REQ_bio(b, req);
	TS_REQ_free(req);
	return b;
}

/*
 * TS_RESP_CTX_set_signer_cert refuses a certificate without the EKU, so
 * noeku hands it a copy of the good one and then takes the EKU off that
 * copy (re-signed by the CA): the context signs with what it holds.
 */
static int
noeku_now(struct tsa *t)
{
	int i = X509_get_ext_by_NID(t->noeku, NID_ext_key_usage, -1);
	X509_EXTENSION *e = i >= 0 ? X509_delete_ext(t->noeku, i) : NULL;

	X509_EXTENSION_free(e);
	return e != NULL && X509_sign(t->noeku, t->ca.key, EVP_sha256()) ?
	    0 : -1;
}

static int
respond(struct tsa *t, enum mode m, const char *body, size_t len,
    unsigned char **der)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.4146.2.3.999", 1);
	BIO *req = request_bio(m, body, len);
	TS_RESP *resp = NULL;
	int n = -1;

	if (ctx == NULL || policy == NULL || req == NULL ||
	    !TS_RESP_CTX_set_signer_cert(ctx, m == NOEKU ? t->noeku :
	    t->cert) ||
	    (m == NOEKU && noeku_now(t) == -1) ||
	    !TS_RESP_CTX_set_signer_key(ctx, t->key) ||
	    !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) ||
	    !TS_RESP_CTX_set_def_policy(ctx, policy) ||
	    !TS_RESP_CTX_add_md(ctx, EVP_sha256()) ||
	    !TS_RESP_CTX_add_md(ctx, EVP_sha384()) ||
	    !TS_RESP_CTX_add_md(ctx, EVP_sha512()) ||
	    (resp = TS_RESP_create_response(ctx, req)) == NULL)
		goto out;
	n = i2d_TS_RESP(resp, der);
out:
	TS_RESP_free(resp);
	BIO_free(req);
	ASN1_OBJECT_free(policy);
	TS_RESP_CTX_free(ctx);
	return n;
}

static void
send_all(struct conn *fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0 && (n = conn_write(fd, c, len)) > 0) {
		c += n;
		len -= (size_t)n;
	}
}

static void
reply(struct conn *fd, const char *status, const char *type, const void *body,
    size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    type, len);

	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void
log_request(struct tsa *t, enum mode m, const char *buf)
{
	char path[4200], line[600];
	struct conn f = { .fd = -1 };
	int n;

	snprintf(path, sizeof(path), "%s/log", t->dir);
	n = snprintf(line, sizeof(line), "%s %.*s\n", names[m],
	    (int)strcspn(buf, "\r\n"), buf);
	if ((f.fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		return;
	send_all(&f, line, n < (int)sizeof(line) ? (size_t)n :
	    sizeof(line) - 1);
	close(f.fd);
}

static void
serve(struct tsa *t, enum mode m, struct conn *fd)
{
	static char buf[65536];
	static const char junk[] = "this is not a TimeStampResp";
	unsigned char *der = NULL;
	const char *slow = getenv("HD_TSA_SLOW");
	char *body;
	size_t blen = 0;
	int n;

	if (read_request(fd, buf, sizeof(buf), &body, &blen) == -1)
		return;
	log_request(t, m, buf);
	if (m == SLOW)
		sleep(slow ? (unsigned)atoi(slow) : 3);
	if (m == HTTP500 || (m == ONCE && once_used)) {
		reply(fd, "500 Internal Server Error", "text/plain", "oops", 4);
		return;
	}
	if (m == GARBAGE) {
		reply(fd, "200 OK", "application/timestamp-reply", junk,
		    sizeof(junk) - 1);
		return;
	}
	if ((n = respond(t, m, body, blen, &der)) <= 0) {
		reply(fd, "400 Bad Request", "text/plain", "bad", 3);
		return;
	}
	reply(fd, "200 OK", "application/timestamp-reply", der, (size_t)n);
	OPENSSL_free(der);
}

static void
child(struct tsa *t, enum mode m, int fd)
{
	struct conn c = { .fd = fd };

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a slow one ends with us */
	if (m == TLS && ((c.ssl = SSL_new(t->tls)) == NULL ||
	    !SSL_set_fd(c.ssl, fd) || SSL_accept(c.ssl) != 1))
		_exit(1);
	serve(t, m, &c);
	if (c.ssl != NULL)
		SSL_shutdown(c.ssl);
	shutdown(fd, SHUT_WR);
	_exit(0);
}

static void
ports_write(struct tsa *t, const unsigned short *port)
{
	char path[4200], tmp[4300];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/ports", t->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		die(tmp);
	for (i = 0; i < NMODES; i++)
		fprintf(f, "%s %u\n", names[i], port[i]);
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		die(path);
}

int
main(int argc, char **argv)
{
	static struct tsa t;
	struct pollfd pfd[NMODES];
	unsigned short port[NMODES];
	int i, c;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: tsa_server DIR [LIFETIME]\n");
		return 2;
	}
	snprintf(t.dir, sizeof(t.dir), "%s", argv[1]);
	alarm(argc == 3 ? (unsigned)atoi(argv[2]) : 600);
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	signal(SIGPIPE, SIG_IGN);
	certs_make(&t);
	for (i = 0; i < NMODES; i++) {
		pfd[i].fd = listener(&port[i]);
		pfd[i].events = POLLIN;
	}
	close(pfd[DOWN].fd);		/* refused from now on */
	pfd[DOWN].fd = -1;
	ports_write(&t, port);
	for (;;) {
		if (poll(pfd, NMODES, -1) == -1 && errno != EINTR)
			die("poll");
		for (i = 0; i < NMODES; i++) {
			if (pfd[i].fd == -1 || !(pfd[i].revents & POLLIN) ||
			    (c = accept(pfd[i].fd, NULL, NULL)) == -1)
				continue;
			if (fork() == 0)
				child(&t, (enum mode)i, c);
			close(c);
			once_used |= i == ONCE;
		}
	}
}
