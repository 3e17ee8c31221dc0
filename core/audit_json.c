/*
 * The little JSON the audit log needs: flat objects of strings and
 * unsigned numbers, one per line.  Written by hand because neither
 * OpenSSL nor libyaml writes JSON, and libyaml reads far more than JSON
 * (a verifier must refuse what is not exactly a record).  The core cannot
 * use cli/json.c, which writes to a FILE for the front-end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

void
hd_buf_add(struct hd_buf *b, const void *data, size_t len)
{
	size_t cap;
	char *p;

	if (b->oom)
		return;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
hd_buf_printf(struct hd_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = 1;	/* only short numbers and names go here */
		return;
	}
	hd_buf_add(b, tmp, (size_t)n);
}

void
hd_buf_free(struct hd_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 if none. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * s as a JSON string (RFC 8259 §7).  Valid UTF-8 is kept; a byte that is
 * not (a file name is any bytes on Linux) is written as \u00XX, so the
 * line stays valid JSON; audit show prints such a name as its Latin-1
 * reading, which docs/AUDIT.md says.
 */
void
hd_json_str(struct hd_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	hd_buf_add(b, "\"", 1);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			hd_buf_add(b, "\\", 1);
			hd_buf_add(b, p++, 1);
		} else if (*p == '\n') {
			hd_buf_add(b, "\\n", 2), p++;
		} else if (*p == '\t') {
			hd_buf_add(b, "\\t", 2), p++;
		} else if (*p < 0x20 || *p == 0x7f ||
		    (n = utf8_len(p)) == 0) {
			hd_buf_printf(b, "\\u%04x", *p++);
		} else {
			hd_buf_add(b, p, n);
			p += n;
		}
	}
	hd_buf_add(b, "\"", 1);
}

void
hd_json_kv(struct hd_buf *b, const char *k, const char *v)
{
	hd_buf_printf(b, ",\"%s\":", k);
	hd_json_str(b, v);
}

void
hd_json_kn(struct hd_buf *b, const char *k, uint64_t v)
{
	hd_buf_printf(b, ",\"%s\":%llu", k, (unsigned long long)v);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A code point as UTF-8 into *o. */
static void
put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xc0 | cp >> 6);
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*u++ = (unsigned char)(0xe0 | cp >> 12);
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*o = (char *)u;
}

/* A string at *p (after its quote) decoded into *o; -1 if malformed.
 * \u escapes are taken for the BMP only: hsmdesk writes no others. */
static int
parse_str(const char **p, const char *end, char **o)
{
	const char *s = *p;
	int i, h;
	unsigned cp;

	while (s < end && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return -1;
		if (*s != '\\') {
			*(*o)++ = *s++;
			continue;
		}
		if (++s >= end)
			return -1;
		switch (*s) {
		case '"': case '\\': case '/': *(*o)++ = *s; break;
		case 'n': *(*o)++ = '\n'; break;
		case 't': *(*o)++ = '\t'; break;
		case 'r': *(*o)++ = '\r'; break;
		case 'b': *(*o)++ = '\b'; break;
		case 'f': *(*o)++ = '\f'; break;
		case 'u':
			if (end - s < 5)
				return -1;
			for (cp = 0, i = 1; i <= 4; i++) {
				if ((h = hexval(s[i])) < 0)
					return -1;
				cp = cp << 4 | (unsigned)h;
			}
			if (cp == 0)
				return -1;	/* would cut the C string */
			put_utf8(o, cp);
			s += 4;
			break;
		default:
			return -1;
		}
		s++;
	}
	if (s >= end)
		return -1;
	*(*o)++ = '\0';
	*p = s + 1;
	return 0;
}

static int
parse_value(const char **p, const char *end, char **o, int *num)
{
	const char *s = *p;

	if (s < end && *s == '"') {
		*num = 0;
		*p = s + 1;
		return parse_str(p, end, o);
	}
	*num = 1;
	if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end &&
	    s[1] >= '0' && s[1] <= '9'))
		return -1;
	while (s < end && *s >= '0' && *s <= '9')
		*(*o)++ = *s++;
	*(*o)++ = '\0';
	*p = s;
	return 0;
}

/*
 * A flat object on one line: {"key":"string"|number,...}.  No blanks
 * between tokens (hsmdesk writes none); -1 for anything else.
 */
int
hd_json_parse(const char *line, size_t len, struct hd_json *j)
{
	const char *p = line, *end = line + len;
	char *o;

	memset(j, 0, sizeof(*j));
	if ((j->mem = malloc(len + 1)) == NULL)
		return -1;
	o = j->mem;
	if (p >= end || *p++ != '{')
		goto bad;
	while (p < end && *p != '}') {
		if (j->n == HD_JSON_KEYS || (j->n > 0 && *p++ != ',') ||
		    p >= end || *p++ != '"')
			goto bad;
		j->key[j->n] = o;
		if (parse_str(&p, end, &o) == -1 || p >= end || *p++ != ':')
			goto bad;
		j->val[j->n] = o;
		if (parse_value(&p, end, &o, &j->num[j->n]) == -1)
			goto bad;
		j->n++;
	}
	if (p >= end || *p++ != '}' || p != end)
		goto bad;
	return 0;
bad:
	hd_json_free(j);
	return -1;
}

void
hd_json_free(struct hd_json *j)
{
	free(j->mem);
	memset(j, 0, sizeof(*j));
}

const char *
hd_json_get(const struct hd_json *j, const char *k)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (!j->num[i] && strcmp(j->key[i], k) == 0)
			return j->val[i];
	return NULL;
}

int
hd_json_u64(const struct hd_json *j, const char *k, uint64_t *v)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (j->num[i] && strcmp(j->key[i], k) == 0) {
			if (strlen(j->val[i]) > 19)
				return -1;
			*v = strtoull(j->val[i], NULL, 10);
			return 0;
		}
	return -1;
}
