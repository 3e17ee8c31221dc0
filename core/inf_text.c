/*
 * The text layer of certreq INF files: whatever Windows saved, as UTF-8
 * lines without comments.  Notepad saves "Unicode" as UTF-16LE with a
 * byte order mark and "UTF-8" with a BOM; both are converted here, as is
 * UTF-16BE.  A file in a Windows code page (not valid UTF-8) is refused
 * with the line and column of the first bad byte rather than guessed at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"

#define ENCODING_HINT "save the file as UTF-8 or Unicode (UTF-16) text"

static size_t
put_utf8(unsigned char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* UTF-16 (after its BOM) to UTF-8; surrogates must pair up. */
static int
from_utf16(const char *path, const unsigned char *in, size_t len, int be,
    char **text, struct hd_err *err)
{
	unsigned char *o;
	unsigned long u, lo;
	size_t i, n = 0;

	if (len % 2 != 0)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: UTF-16 text of an "
		    "odd number of bytes", path);
	/* each 2-byte unit gives at most 3 bytes, each pair of them 4 */
	if ((o = malloc(len / 2 * 3 + 1)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < len; i += 2) {
		u = be ? (in[i] << 8u) | in[i + 1] : (in[i + 1] << 8u) | in[i];
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
			lo = be ? (in[i + 2] << 8u) | in[i + 3] :
			    (in[i + 3] << 8u) | in[i + 2];
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 2;
			}
		}
		if ((u >= 0xd800 && u <= 0xdfff) || u == 0) {
			free(o);
			return hd_err_set(err, HD_E_INPUT, 0, "%s: not valid "
			    "UTF-16 at byte %zu", path, i + 3);
		}
		n += put_utf8(o + n, u);
	}
	o[n] = '\0';
	*text = (char *)o;
	return 0;
}

int
hd_inf_decode(const char *path, const char *raw, size_t len, char **text,
    struct hd_err *err)
{
	const unsigned char *u = (const unsigned char *)raw;

	*text = NULL;
	if (len >= 2 && u[0] == 0xff && u[1] == 0xfe)
		return from_utf16(path, u + 2, len - 2, 0, text, err);
	if (len >= 2 && u[0] == 0xfe && u[1] == 0xff)
		return from_utf16(path, u + 2, len - 2, 1, text, err);
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		u += 3;
		len -= 3;
	}
	if (memchr(u, '\0', len) != NULL) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: holds NUL bytes, so it is "
		    "not a text file (UTF-16 without a byte order mark?)",
		    path);
		hd_err_hint(err, ENCODING_HINT);
		return -1;
	}
	if ((*text = malloc(len + 1)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	memcpy(*text, u, len);
	(*text)[len] = '\0';
	return 0;
}

size_t
hd_inf_col(const char *start, const char *at)
{
	size_t col = 1;

	for (; start < at; start++)
		if ((*start & 0xc0) != 0x80)
			col++;
	return col;
}

/* Valid UTF-8 without control characters (tabs are blanks). */
static int
check_chars(const char *path, struct hd_inf_line *l, struct hd_err *err)
{
	const unsigned char *s = (const unsigned char *)l->start;
	unsigned long cp;
	size_t n;

	for (; *s != '\0'; s += n) {
		if ((n = hd_utf8_decode(s, &cp)) == 0) {
			hd_err_set(err, HD_E_INPUT, 0, "%s:%zu:%zu: not valid "
			    "UTF-8 (saved in a Windows code page?)", path,
			    l->no, hd_inf_col(l->start, (const char *)s));
			hd_err_hint(err, ENCODING_HINT);
			return -1;
		}
		if (cp != '\t' && hd_invisible(cp))
			return hd_err_set(err, HD_E_INPUT, 0, "%s:%zu:%zu: "
			    "control or invisible character U+%04lX", path,
			    l->no, hd_inf_col(l->start, (const char *)s), cp);
	}
	return 0;
}

/* Cut a ';' comment: not inside quotes, where "" is a quote. */
static void
cut_comment(char *s)
{
	int quoted = 0;

	for (; *s != '\0'; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == ';' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The next line of text at *pos, NUL-terminated in place, its comment
 * cut and outer blanks trimmed (l->s; l->start is where the line began,
 * for columns).  1 for a line, 0 at the end, -1 on a bad character.
 */
int
hd_inf_line(const char *path, char *text, size_t *pos, struct hd_inf_line *l,
    struct hd_err *err)
{
	char *s = text + *pos, *nl, *end;

	if (*s == '\0')
		return 0;
	l->no++;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*pos = (size_t)(nl + 1 - text);
	} else {
		*pos += strlen(s);
	}
	end = s + strlen(s);
	if (end > s && end[-1] == '\r')	/* CRLF */
		*--end = '\0';
	l->start = s;
	if (check_chars(path, l, err) == -1)
		return -1;
	cut_comment(s);
	while (blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && blank(end[-1]))
		*--end = '\0';
	l->s = s;
	return 1;
}
