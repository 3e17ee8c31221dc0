/*
 * The signing audit log: one JSON line per signature, appended to a file
 * that any number of hsmdesk processes share (docs/AUDIT.md).
 *
 * Every line carries "prev", the SHA-256 of the previous line's exact
 * bytes (its newline included; 64 zeros for the first line), and "seq",
 * its line number.  An append takes an exclusive flock, reads the last
 * line to chain to it, and writes all its lines with one write() and an
 * fsync, so two processes never interleave and a crash leaves whole lines
 * or none.  A checkpoint line (audit_ckpt.c) closes each batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit_int.h"
#include "fileio.h"

struct hd_audit {
	char path[PATH_MAX];
	int fd;
	struct hd_audit_ctx ctx;
	int have_ctx;
	char module[4096];
	struct hd_buf pending;		/* entry bodies, each ending "\0" */
	size_t npending;
};

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* The log's hashes are lower-case hex, as sha256sum prints them (and
 * hd_hex writes them); thumbprints upper-case, as PowerShell does. */
static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
}

/* path made absolute (the log outlives the working directory). */
static void
abs_path(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX], real[PATH_MAX];

	if (realpath(path, real) != NULL)
		snprintf(out, len, "%s", real);
	else if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		snprintf(out, len, "%s/%s", cwd, path);
	else if (out != path)
		snprintf(out, len, "%s", path);
}

void
hd_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	hd_hex(md, sizeof(md), out, 65);
}

void
hd_utc_now(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* $XDG_STATE_HOME/hsmdesk/audit.log, else ~/.local/state/hsmdesk/... */
int
hd_audit_default_path(char *buf, size_t len, struct hd_err *err)
{
	const char *v = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (v != NULL && v[0] == '/')	/* XDG: relative values are ignored */
		n = snprintf(buf, len, "%s/hsmdesk/audit.log", v);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/hsmdesk/audit.log",
		    home);
	else
		return hd_err_set(err, HD_E_CONFIG, 0, "audit log: neither "
		    "XDG_STATE_HOME nor HOME is set to an absolute path");
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_CONFIG, 0, "audit log: path too "
		    "long");
	return 0;
}

static int
lock(int fd, int how)
{
	int rc;

	while ((rc = flock(fd, how)) == -1 && errno == EINTR)
		;
	return rc;
}

static int
corrupt(struct hd_audit *a, const char *what, struct hd_err *err)
{
	hd_err_set(err, HD_E_INPUT, 0, "audit log %s: %s; signing refused: "
	    "a signature must chain to the log's last record", a->path, what);
	hd_err_hint(err, "'hsmdesk audit verify --log %s' says what is "
	    "wrong; keep the damaged log for the auditor and move it aside "
	    "to start a new one", a->path);
	return -1;
}

/*
 * The last line: its seq and the SHA-256 of its bytes (newline included).
 * An empty log gives seq 0 and 64 zeros.  Called holding the flock.
 */
static int
tail(struct hd_audit *a, uint64_t *seq, char prev[65], struct hd_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t want;
	off_t start;
	struct hd_json j;
	char *nl;
	int rc = -1;

	*seq = 0;
	memcpy(prev, ZERO_HASH, 65);
	if (fstat(a->fd, &st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "audit log %s: %s", a->path,
		    strerror(errno));
	if (st.st_size == 0)
		return 0;
	want = st.st_size > HD_AUDIT_LINE_MAX ? HD_AUDIT_LINE_MAX :
	    (size_t)st.st_size;
	start = st.st_size - (off_t)want;
	if ((buf = malloc(want + 1)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (pread(a->fd, buf, want, start) != (ssize_t)want) {
		hd_err_set(err, HD_E_IO, 0, "audit log %s: reading its last "
		    "line: %s", a->path, strerror(errno));
		goto out;
	}
	buf[want] = '\0';
	if (buf[want - 1] != '\n') {
		corrupt(a, "it ends in the middle of a line", err);
		goto out;
	}
	buf[want - 1] = '\0';
	nl = strrchr(buf, '\n');
	if (nl == NULL && start > 0) {
		corrupt(a, "its last line is too long to be a record", err);
		goto out;
	}
	nl = nl ? nl + 1 : buf;
	if (hd_json_parse(nl, strlen(nl), &j) == -1 ||
	    hd_json_u64(&j, "seq", seq) == -1 || *seq == 0) {
		if (j.mem != NULL)
			hd_json_free(&j);
		corrupt(a, "its last line is not an hsmdesk audit record", err);
		goto out;
	}
	hd_json_free(&j);
	buf[want - 1] = '\n';
	hd_sha256_hex(nl, (size_t)(buf + want - nl), prev);
	rc = 0;
out:
	free(buf);
	return rc;
}

static int
open_fail(struct hd_audit *a, int e, struct hd_err *err)
{
	hd_err_set(err, HD_E_CONFIG, 0, "audit log %s: cannot append to it: "
	    "%s; signing refused: every signature is recorded there first",
	    a->path, strerror(e));
	hd_err_hint(err, "make it writable, or name a writable file with "
	    "audit_log in config.yaml (or hsmdesk sign --log FILE)");
	return -1;
}

/* The directory of the default path is made (private); a configured
 * path's directory must exist: a typo must not make a new log. */
static int
open_log(struct hd_audit *a, int dflt, struct hd_err *err)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (dflt) {
		snprintf(dir, sizeof(dir), "%s", a->path);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		if (hd_private_dir(dir, err) == -1)
			return open_fail(a, errno ? errno : EACCES, err);
	}
	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd == -1)
		return open_fail(a, errno, err);
	if (fstat(a->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		hd_err_set(err, HD_E_CONFIG, 0, "audit log %s: not a regular "
		    "file; signing refused", a->path);
		hd_err_hint(err, "name a file with audit_log in config.yaml "
		    "or --log FILE");
		return -1;
	}
	return 0;
}

/*
 * Open the log for appending (path NULL: the default) and check that its
 * last line is a record to chain to: a front-end calls this before it
 * signs anything, and refuses to sign if it fails.
 */
int
hd_audit_open(const char *path, struct hd_audit **out, struct hd_err *err)
{
	struct hd_audit *a = calloc(1, sizeof(*a));
	char prev[65];
	uint64_t seq;
	int rc;

	*out = NULL;
	if (a == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	a->fd = -1;
	if (path == NULL)
		rc = hd_audit_default_path(a->path, sizeof(a->path), err);
	else if (snprintf(a->path, sizeof(a->path), "%s", path) >=
	    (int)sizeof(a->path))
		rc = hd_err_set(err, HD_E_CONFIG, 0, "audit log: path too long");
	else
		rc = 0;
	if (rc == 0)
		rc = open_log(a, path == NULL, err);
	if (rc == 0 && lock(a->fd, LOCK_SH) == -1)
		rc = hd_err_set(err, HD_E_IO, 0, "audit log %s: cannot lock "
		    "it: %s", a->path, strerror(errno));
	else if (rc == 0) {
		rc = tail(a, &seq, prev, err);
		lock(a->fd, LOCK_UN);
	}
	if (rc == -1) {
		hd_audit_close(a);
		return -1;
	}
	*out = a;
	return 0;
}

const char *
hd_audit_path(const struct hd_audit *a)
{
	return a->path;
}

static void
who(struct hd_audit_ctx *c)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(c->user, sizeof(c->user), "%s", pw->pw_name);
	else
		snprintf(c->user, sizeof(c->user), "uid %u",
		    (unsigned)geteuid());
	if (gethostname(c->host, sizeof(c->host) - 1) == -1)
		snprintf(c->host, sizeof(c->host), "?");
	c->host[sizeof(c->host) - 1] = '\0';
}

/* Who signs from now on: the token, its key and the certificate. */
int
hd_audit_signer(struct hd_audit *a, struct hd_session *s,
    const struct hd_key *k, const unsigned char *cert, size_t cert_len,
    const struct hd_der *chain, size_t nchain, struct hd_err *err)
{
	struct hd_audit_ctx *c = &a->ctx;
	struct hd_buf b = { 0 };
	unsigned char md[20];
	size_t i;

	free(c->cert);
	free(c->chain);
	memset(c, 0, sizeof(*c));
	a->have_ctx = 0;
	for (i = 0; i < nchain; i++) {
		if (i > 0)
			hd_buf_add(&b, ",", 1);
		hd_b64(&b, chain[i].der, chain[i].len);
	}
	c->chain = b.p;
	if (b.oom || (c->cert = malloc(cert_len ? cert_len : 1)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	memcpy(c->cert, cert, cert_len);
	c->cert_len = cert_len;
	c->s = s;
	c->key = *k;
	who(c);
	snprintf(c->serial, sizeof(c->serial), "%s", s->serial);
	hd_hex(k->id, k->id_len, c->key_id, sizeof(c->key_id));
	/* the thumbprint is the SHA-1 of the certificate's DER */
	EVP_Digest(cert, cert_len, md, NULL, EVP_sha1(), NULL);
	hd_hex(md, sizeof(md), c->sha1, sizeof(c->sha1));
	upper(c->sha1);
	snprintf(a->module, sizeof(a->module), "%s", hd_module_path(s));
	a->have_ctx = 1;
	return 0;
}

void
hd_audit_entry_init(struct hd_audit_entry *e, const char *type,
    const char *file)
{
	memset(e, 0, sizeof(*e));
	hd_utc_now(e->time);
	e->type = type;
	abs_path(file, e->file, sizeof(e->file));
}

/* One record, kept until hd_audit_flush. */
int
hd_audit_add(struct hd_audit *a, const struct hd_audit_entry *e,
    struct hd_err *err)
{
	struct hd_audit_ctx *c = &a->ctx;
	struct hd_buf *b = &a->pending;
	char out[PATH_MAX];

	if (!a->have_ctx)
		return hd_err_set(err, HD_E_INTERNAL, 0, "audit log: no signer "
		    "named before the first record");
	hd_json_kv(b, "kind", "sign");
	hd_json_kv(b, "time", e->time);
	hd_json_kv(b, "user", c->user);
	hd_json_kv(b, "host", c->host);
	hd_json_kv(b, "module", a->module);
	hd_json_kv(b, "token", c->serial);
	hd_json_kv(b, "key_id", c->key_id);
	hd_json_kv(b, "cert_sha1", c->sha1);
	hd_json_kv(b, "file", e->file);
	hd_json_kn(b, "size", e->size);
	hd_json_kv(b, "sha256", e->sha256);
	hd_json_kv(b, "type", e->type ? e->type : "");
	hd_json_kv(b, "digest", e->md);
	out[0] = '\0';
	if (e->out[0] != '\0')
		abs_path(e->out, out, sizeof(out));
	hd_json_kv(b, "out", out);
	hd_json_kv(b, "tsa", e->tsa);
	hd_json_kv(b, "ts_time", e->ts_time);
	hd_json_kv(b, "result", e->result[0] ? e->result : "ok");
	hd_buf_add(b, "", 1);	/* each body ends in a NUL */
	if (b->oom)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	a->npending++;
	return 0;
}

size_t
hd_audit_pending(const struct hd_audit *a)
{
	return a->npending;
}

void
hd_audit_drop(struct hd_audit *a)
{
	hd_buf_free(&a->pending);
	a->npending = 0;
}

/* The pending records as lines after seq/prev; prev follows along. */
static void
lines(struct hd_audit *a, uint64_t *seq, char prev[65], struct hd_buf *out)
{
	const char *body = a->pending.p;
	size_t i, start;

	for (i = 0; i < a->npending; i++) {
		start = out->len;
		hd_buf_printf(out, "{\"v\":%d,\"seq\":%llu,\"prev\":\"%s\"",
		    HD_AUDIT_V, (unsigned long long)++*seq, prev);
		hd_buf_add(out, body, strlen(body));
		hd_buf_add(out, "}\n", 2);
		if (!out->oom)
			hd_sha256_hex(out->p + start, out->len - start, prev);
		body += strlen(body) + 1;
	}
}

/* All of buf with write(); a short write is undone (the file cut back to
 * size) so the log never ends in half a line. */
static int
put(struct hd_audit *a, const struct hd_buf *buf, struct hd_err *err)
{
	struct stat st;
	ssize_t n;
	int e;

	if (fstat(a->fd, &st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "audit log %s: %s", a->path,
		    strerror(errno));
	while ((n = write(a->fd, buf->p, buf->len)) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)buf->len && fsync(a->fd) == 0)
		return 0;
	e = n == -1 || n == (ssize_t)buf->len ? errno : ENOSPC;
	if (ftruncate(a->fd, st.st_size) == 0)
		(void)fsync(a->fd);
	hd_err_set(err, HD_E_IO, 0, "audit log %s: writing %zu bytes: %s", a->path,
	    buf->len, strerror(e));
	hd_err_hint(err, "nothing of this batch was recorded; free space or "
	    "fix the file system, then sign again");
	return -1;
}

/* The log's identity for its witness: SHA-256 of its first line. */
static void
log_id(struct hd_audit *a, const struct hd_buf *buf, char id[65])
{
	char first[HD_AUDIT_LINE_MAX], *nl;
	ssize_t n = pread(a->fd, first, sizeof(first), 0);

	if (n > 0 && (nl = memchr(first, '\n', (size_t)n)) != NULL) {
		hd_sha256_hex(first, (size_t)(nl - first) + 1, id);
		return;
	}
	nl = memchr(buf->p, '\n', buf->len);
	hd_sha256_hex(buf->p, nl ? (size_t)(nl - buf->p) + 1 : 0, id);
}

static void
witness(struct hd_audit *a, const struct hd_buf *buf, size_t ck_start,
    uint64_t ck_seq, struct hd_audit_flushed *res)
{
	char id[65], hash[65];
	struct hd_err e;

	hd_err_clear(&e);
	log_id(a, buf, id);
	hd_sha256_hex(buf->p + ck_start, buf->len - ck_start, hash);
	if (hd_audit_witness_put(a->ctx.s, id, ck_seq, hash, &e) == 0) {
		res->witness = 1;
		return;
	}
	snprintf(res->witness_why, sizeof(res->witness_why), "%s", e.msg);
}

/*
 * Write the pending records, then (checkpoint) a checkpoint line signed
 * on the token, all in one write under the exclusive lock; then keep the
 * checkpoint's witness on the token.  A checkpoint that cannot be signed
 * does not hold back the records: they are written, and -1 says why the
 * checkpoint is missing (res->lines tells what was written).
 */
int
hd_audit_flush(struct hd_audit *a, int checkpoint,
    struct hd_audit_flushed *res, struct hd_err *err)
{
	struct hd_buf buf = { 0 };
	struct hd_err ck_err;
	char prev[65];
	uint64_t seq;
	size_t ck_start = 0;
	int rc = -1, ck = 0;

	memset(res, 0, sizeof(*res));
	hd_err_clear(&ck_err);
	if (a->npending == 0 && !checkpoint)
		return 0;
	if (checkpoint && !a->have_ctx)
		return hd_err_set(err, HD_E_INTERNAL, 0, "audit log: no signer "
		    "for the checkpoint");
	if (lock(a->fd, LOCK_EX) == -1)
		return hd_err_set(err, HD_E_IO, 0, "audit log %s: cannot lock "
		    "it: %s", a->path, strerror(errno));
	if (tail(a, &seq, prev, err) == -1)
		goto out;
	lines(a, &seq, prev, &buf);
	if (checkpoint) {
		ck_start = buf.len;
		ck = hd_audit_ckpt_line(&a->ctx, seq + 1, prev, &buf,
		    &ck_err) == 0;
		if (!ck) {
			buf.len = ck_start;
			/* the token's own reason when it dropped the session,
			 * not libp11's guess about the key */
			hd_session_explain(a->ctx.s, &ck_err);
		}
	}
	if (buf.oom) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if (buf.len > 0 && put(a, &buf, err) == -1)
		goto out;
	res->lines = seq + (uint64_t)ck;
	hd_audit_drop(a);
	if (ck) {
		res->checkpoint = seq + 1;
		witness(a, &buf, ck_start, seq + 1, res);
	}
	if (checkpoint && !ck) {
		*err = ck_err;
		goto out;
	}
	rc = 0;
out:
	lock(a->fd, LOCK_UN);
	hd_buf_free(&buf);
	return rc;
}

void
hd_audit_close(struct hd_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->ctx.cert);
	free(a->ctx.chain);
	hd_buf_free(&a->pending);
	free(a);
}
