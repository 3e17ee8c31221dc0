/* What the audit log's files share (audit*.c); internal to core. */
#ifndef HD_AUDIT_INT_H
#define HD_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The format's version, in every line ("v"); docs/AUDIT.md. */
#define HD_AUDIT_V 1
/* The checkpoint signature covers the line's bytes before this. */
#define HD_AUDIT_SIG_MARK ",\"sig\":\""
/* The witness object's CKA_APPLICATION, and its CKA_LABEL's prefix. */
#define HD_AUDIT_WITNESS_APP "hsmdesk audit witness"
#define HD_AUDIT_LINE_MAX (64 * 1024)

/* A growing text buffer; oom is set once an append failed. */
struct hd_buf {
	char *p;
	size_t len, cap;
	int oom;
};

void hd_buf_add(struct hd_buf *b, const void *data, size_t len);
void hd_buf_printf(struct hd_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hd_buf_free(struct hd_buf *b);
void hd_b64(struct hd_buf *b, const unsigned char *der, size_t len);

/* audit_json.c */
void hd_json_str(struct hd_buf *b, const char *s);
void hd_json_kv(struct hd_buf *b, const char *k, const char *v);
void hd_json_kn(struct hd_buf *b, const char *k, uint64_t v);

#define HD_JSON_KEYS 40
struct hd_json {
	size_t n;
	const char *key[HD_JSON_KEYS];
	const char *val[HD_JSON_KEYS];	/* strings decoded; numbers as text */
	int num[HD_JSON_KEYS];
	char *mem;			/* holds them all */
};

int hd_json_parse(const char *line, size_t len, struct hd_json *j);
void hd_json_free(struct hd_json *j);
const char *hd_json_get(const struct hd_json *j, const char *k);
int hd_json_u64(const struct hd_json *j, const char *k, uint64_t *v);

/* audit.c */
void hd_sha256_hex(const void *data, size_t len, char out[65]);
void hd_utc_now(char out[32]);

/* audit_ckpt.c: the checkpoint line, signed on the token */
struct hd_audit_ctx {
	struct hd_session *s;
	struct hd_key key;
	char user[64], host[256], serial[17], key_id[129], sha1[41];
	unsigned char *cert;
	size_t cert_len;
	char *chain;		/* issuers, base64 DER, comma-separated */
};
int hd_audit_ckpt_line(const struct hd_audit_ctx *c, uint64_t seq,
    const char prev[65], struct hd_buf *out, struct hd_err *err);
/* audit_verify.c uses it to check one */
int hd_audit_ckpt_check(const char *line, size_t len,
    const struct hd_json *j, const char *cafile, char *subject,
    size_t sublen, char *why, size_t whylen);

/* audit_witness.c */
int hd_audit_witness_put(struct hd_session *s, const char *logid,
    uint64_t line, const char hash[65], struct hd_err *err);
int hd_audit_witness_get(struct hd_session *s, const char *logid,
    uint64_t *line, char hash[65], struct hd_err *err);

/* audit_read.c: a log's lines, one by one */
struct hd_audit_reader {
	int fd;
	char *buf;
	size_t len, pos, cap;
	int eof;
	uint64_t lineno;
};
int hd_audit_reader_open(struct hd_audit_reader *r, const char *path,
    struct hd_err *err);
/* 1 a line (without its newline; *partial: the file ended without one),
 * 0 the end, -1 error */
int hd_audit_reader_next(struct hd_audit_reader *r, const char **line,
    size_t *len, int *partial, struct hd_err *err);
void hd_audit_reader_close(struct hd_audit_reader *r);

#endif
