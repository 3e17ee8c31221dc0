/*
 * Reading PowerShell scripts for Authenticode: the encoding, whether the
 * text is valid in it, where the script ends and the signature block
 * begins, the block's DER, the digest of the script part, and a new
 * block in the script's encoding.  The UTF-8 and UTF-16 coding is by
 * hand: OpenSSL has no strict converter that reports where text is bad.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ps1.h"

#define BEGIN	"# SIG # Begin signature block"
#define END	"# SIG # End signature block"
/* PowerShell writes the base64 in lines of 64 characters. */
#define B64_LINE 64

static int
bad_text(const struct hd_ps1 *ps, struct hd_err *err, const char *what,
    size_t off)
{
	hd_err_set(err, HD_E_INPUT, 0, "%s: not valid %s text: %s at byte "
	    "%zu; PowerShell would read it differently, so it is not signed",
	    ps->path, hd_ps1_enc_name(ps->enc), what, off);
	hd_err_hint(err, "a script must be text: UTF-8 (with or without a "
	    "BOM) or UTF-16LE with a BOM, without NUL characters");
	return -1;
}

/* One UTF-8 character at p (n bytes left): its length, 0 if invalid. */
static size_t
utf8_char(const unsigned char *p, size_t n, uint32_t *c)
{
	size_t len, i;
	uint32_t min;

	if (p[0] < 0x80) {
		*c = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, min = 0x80, *c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, min = 0x800, *c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, min = 0x10000, *c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*c = *c << 6 | (p[i] & 0x3f);
	}
	if (*c < min || *c > 0x10ffff || (*c >= 0xd800 && *c <= 0xdfff))
		return 0;
	return len;
}

static int
check_utf8(const struct hd_ps1 *ps, struct hd_err *err)
{
	size_t off, len;
	uint32_t c;

	for (off = 0; off < ps->size; off += len) {
		if ((len = utf8_char(ps->data + off, ps->size - off, &c)) == 0)
			return bad_text(ps, err, "an invalid UTF-8 sequence",
			    off);
		if (c == 0)
			return bad_text(ps, err, "a NUL character", off);
	}
	return 0;
}

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int
check_utf16(const struct hd_ps1 *ps, struct hd_err *err)
{
	size_t off;
	unsigned u;

	if (ps->size % 2 != 0)
		return bad_text(ps, err, "an odd number of bytes, a lone one",
		    ps->size - 1);
	for (off = 2; off < ps->size; off += 2) {
		u = le16(ps->data + off);
		if (u == 0)
			return bad_text(ps, err, "a NUL character", off);
		if (u >= 0xdc00 && u <= 0xdfff)
			return bad_text(ps, err, "a lone low surrogate", off);
		if (u >= 0xd800 && u <= 0xdbff) {
			if (off + 4 > ps->size || le16(ps->data + off + 2) <
			    0xdc00 || le16(ps->data + off + 2) > 0xdfff)
				return bad_text(ps, err, "a lone high "
				    "surrogate", off);
			off += 2;
		}
	}
	return 0;
}

/*
 * Windows' PowerShell SIP reads a file without a BOM as UTF-8 only if its
 * first 32 bytes hold a complete multi-byte UTF-8 sequence, else in the
 * ANSI code page (Lee Holmes, Microsoft, as quoted by OpenAuthenticode's
 * GetScriptEncoding).  osslsigncode always reads UTF-8: for non-ASCII
 * text past byte 32 the two differ, and Windows would reject the
 * signature.  The same test, to refuse such files.
 */
static int
sip_reads_utf8(const unsigned char *p, size_t n)
{
	int extended = 0, more = 0;
	unsigned char b;
	size_t i;

	for (i = 0; i < n && i < 32; i++) {
		b = p[i];
		if (more > 0) {
			if ((b & 0xc0) != 0x80)
				return 0;
			more--;
			continue;
		}
		if (b < 0x80)
			continue;
		extended = 1;
		for (; b & 0x80; b = (unsigned char)(b << 1))
			more++;
		if (--more == 0)
			return 0;
	}
	return more == 0 && extended;
}

static int
all_ascii(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return 0;
	return 1;
}

static int
encoding(struct hd_ps1 *ps, struct hd_err *err)
{
	const unsigned char *d = ps->data;

	if (ps->size >= 2 && d[0] == 0xfe && d[1] == 0xff) {
		/* Windows' SIP reads UTF-16BE; osslsigncode does not */
		hd_err_set(err, HD_E_INPUT, 0, "%s: UTF-16BE text cannot be "
		    "signed here (osslsigncode cannot check it)", ps->path);
		hd_err_hint(err, "save it as UTF-8 with BOM or UTF-16LE");
		return -1;
	}
	if (ps->size >= 2 && d[0] == 0xff && d[1] == 0xfe) {
		ps->enc = HD_PS1_UTF16LE;
		return check_utf16(ps, err);
	}
	ps->enc = ps->size >= 3 && d[0] == 0xef && d[1] == 0xbb &&
	    d[2] == 0xbf ? HD_PS1_UTF8_BOM : HD_PS1_UTF8;
	if (check_utf8(ps, err) == -1)
		return -1;
	if (ps->enc == HD_PS1_UTF8 && !all_ascii(d, ps->size) &&
	    !sip_reads_utf8(d, ps->size)) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: UTF-8 without a BOM, and "
		    "no non-ASCII character in its first 32 bytes: Windows "
		    "reads such a script in the ANSI code page, where its "
		    "signature would not verify", ps->path);
		hd_err_hint(err, "save it as UTF-8 with BOM, as Microsoft "
		    "recommends for scripts with non-ASCII text");
		return -1;
	}
	return 0;
}

/* ---- the signature block ------------------------------------------------- */

/* Code units: bytes in UTF-8, 16-bit in UTF-16LE.  The block is ASCII,
 * and an ASCII code unit is always that character in both encodings. */
static size_t
unit(const struct hd_ps1 *ps)
{
	return ps->enc == HD_PS1_UTF16LE ? 2 : 1;
}

static unsigned
unit_at(const struct hd_ps1 *ps, size_t off)
{
	return ps->enc == HD_PS1_UTF16LE ? le16(ps->data + off) :
	    ps->data[off];
}

/* Does the ASCII text s stand at byte off? */
static int
text_at(const struct hd_ps1 *ps, size_t off, const char *s)
{
	size_t u = unit(ps);

	for (; *s != '\0'; s++, off += u)
		if (off + u > ps->size || unit_at(ps, off) != (unsigned char)*s)
			return 0;
	return 1;
}

/* The first line starting with BEGIN; ps->size if there is none. */
static size_t
find_begin(const struct hd_ps1 *ps)
{
	size_t u = unit(ps), off = ps->enc == HD_PS1_UTF16LE ? 2 : 0;

	for (; off < ps->size; off += u)
		if ((off == 0 || unit_at(ps, off - u) == '\n') &&
		    text_at(ps, off, BEGIN))
			return off;
	return ps->size;
}

/* Note why the block cannot be read: 0, for the file is still a script. */
static int
damaged(struct hd_ps1 *ps, const char *what)
{
	snprintf(ps->damaged, sizeof(ps->damaged), "%s", what);
	return 0;
}

/* The same, ending collect_b64. */
static int
broken(struct hd_ps1 *ps, const char *what)
{
	damaged(ps, what);
	return -1;
}

/* The end of the line at off (at its CR LF); 0 if it has none. */
static size_t
line_end(const struct hd_ps1 *ps, size_t off)
{
	size_t u = unit(ps);

	for (; off + 2 * u <= ps->size; off += u)
		if (unit_at(ps, off) == '\r' && unit_at(ps, off + u) == '\n')
			return off;
		else if (unit_at(ps, off) == '\n')
			return 0;
	return 0;
}

/* After END: one line end (CR LF, LF or CR), or none, then the file's end
 * (Windows accepts these, per OpenAuthenticode's IsValidEndBlock). */
static int
ends_file(const struct hd_ps1 *ps, size_t off)
{
	size_t u = unit(ps), left = (ps->size - off) / u;

	if (left == 0)
		return 1;
	if (left == 1)
		return unit_at(ps, off) == '\r' || unit_at(ps, off) == '\n';
	return left == 2 && unit_at(ps, off) == '\r' &&
	    unit_at(ps, off + u) == '\n';
}

static int
is_b64(unsigned c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* The base64 lines from off to END, collected into b64 (ASCII). */
static int
collect_b64(struct hd_ps1 *ps, size_t off, char *b64, size_t *n)
{
	size_t u = unit(ps), end, i;

	*n = 0;
	for (;;) {
		if (text_at(ps, off, END))
			return ends_file(ps, off + strlen(END) * u) ? 0 :
			    broken(ps, "text follows its end line");
		if ((end = line_end(ps, off)) == 0)
			return broken(ps, "it has no end line (truncated?)");
		if (!text_at(ps, off, "# "))
			return broken(ps, "a line in it is not a '# ' comment");
		for (i = off + 2 * u; i < end; i += u) {
			if (!is_b64(unit_at(ps, i)))
				return broken(ps, "a line in it is not base64");
			b64[(*n)++] = (char)unit_at(ps, i);
		}
		off = end + 2 * u;
	}
}

/* The DER in the block that starts at byte off (its BEGIN line). */
static int
read_block(struct hd_ps1 *ps, size_t off, struct hd_err *err)
{
	size_t u = unit(ps), n = 0, len = 0, start = off + strlen(BEGIN) * u;
	EVP_ENCODE_CTX *ctx = NULL;
	char *b64 = NULL;
	int k = 0, k2 = 0;

	if (line_end(ps, off) != start)
		return damaged(ps, "its first line is not exactly '" BEGIN "'");
	if ((b64 = malloc(ps->size / u + 1)) == NULL ||
	    (ps->sig = malloc(ps->size / u + 1)) == NULL ||
	    (ctx = EVP_ENCODE_CTX_new()) == NULL) {
		free(b64);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	if (collect_b64(ps, start + 2 * u, b64, &n) == 0) {
		EVP_DecodeInit(ctx);
		if (n == 0 || n % 4 != 0 || n > INT32_MAX ||
		    EVP_DecodeUpdate(ctx, ps->sig, &k, (unsigned char *)b64,
		    (int)n) < 0 || EVP_DecodeFinal(ctx, ps->sig + k, &k2) != 1)
			damaged(ps, "its base64 does not decode");
		else
			len = (size_t)k + (size_t)k2;
	}
	if (ps->damaged[0] == '\0' && hd_pe_der_seq_len(ps->sig, len) !=
	    (long)len)
		damaged(ps, "it does not hold one DER structure (truncated?)");
	ERR_clear_error();
	EVP_ENCODE_CTX_free(ctx);
	free(b64);
	ps->sig_len = ps->damaged[0] == '\0' ? len : 0;
	return 0;
}

/* Where the script part ends: before the CR LF ahead of the block. */
static int
find_block(struct hd_ps1 *ps, struct hd_err *err)
{
	size_t u = unit(ps), begin = find_begin(ps);

	ps->script_end = ps->size;
	if (begin == ps->size)
		return 0;
	ps->has_block = 1;
	if (begin < 2 * u || unit_at(ps, begin - 2 * u) != '\r') {
		ps->script_end = begin;
		/* Windows (and OpenAuthenticode) look for "\r\n# SIG # Begin":
		 * after a bare LF they would hash the block as script text,
		 * while osslsigncode takes it as a block.  Neither reading is
		 * safe to sign over, so it is damaged. */
		return damaged(ps, "its first line does not follow a CR LF");
	}
	ps->script_end = begin - 2 * u;
	return read_block(ps, begin, err);
}

const char *
hd_ps1_enc_name(enum hd_ps1_enc enc)
{
	static const char *const names[] = {
		[HD_PS1_UTF8] = "UTF-8",
		[HD_PS1_UTF8_BOM] = "UTF-8 (with BOM)",
		[HD_PS1_UTF16LE] = "UTF-16LE",
	};

	return (unsigned)enc < 3 ? names[enc] : "?";
}

/*
 * Read size bytes at data (kept by the caller) as a script named name:
 * 0 with its parts, or -1 (HD_E_INPUT) if it is not text PowerShell
 * reads as we do.  A damaged signature block is not an error here:
 * ps->damaged says why, for the caller to refuse or report.
 */
int
hd_ps1_parse(struct hd_ps1 *ps, const unsigned char *data, size_t size,
    const char *name, struct hd_err *err)
{
	memset(ps, 0, sizeof(*ps));
	snprintf(ps->path, sizeof(ps->path), "%s", name);
	ps->data = data;
	ps->size = size;
	if (size > HD_PS1_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: %zu bytes, too large "
		    "for a script (at most %u)", name, size, HD_PS1_MAX);
	if (encoding(ps, err) == -1 || find_block(ps, err) == -1) {
		hd_ps1_free(ps);
		return -1;
	}
	return 0;
}

void
hd_ps1_free(struct hd_ps1 *ps)
{
	free(ps->sig);
	ps->sig = NULL;
	ps->sig_len = 0;
}

/* ---- the digest and the new block --------------------------------------- */

static int
put16(EVP_MD_CTX *md, unsigned char *buf, size_t *n, uint32_t c)
{
	if (c >= 0x10000) {
		c -= 0x10000;
		if (!put16(md, buf, n, 0xd800 | (c >> 10)))
			return 0;
		c = 0xdc00 | (c & 0x3ff);
	}
	buf[(*n)++] = (unsigned char)c;
	buf[(*n)++] = (unsigned char)(c >> 8);
	if (*n < 4096)
		return 1;
	*n = 0;
	return EVP_DigestUpdate(md, buf, 4096);
}

/* UTF-8 script text into md as UTF-16LE (the BOM as U+FEFF). */
static int
hash_utf8(const struct hd_ps1 *ps, EVP_MD_CTX *md)
{
	unsigned char buf[4096 + 4];
	size_t off, len, n = 0;
	uint32_t c;

	for (off = 0; off < ps->script_end; off += len) {
		len = utf8_char(ps->data + off, ps->script_end - off, &c);
		if (len == 0 || !put16(md, buf, &n, c))
			return 0;
	}
	return EVP_DigestUpdate(md, buf, n);
}

/* The Authenticode digest of the script part with md. */
int
hd_ps1_digest(const struct hd_ps1 *ps, const EVP_MD *md,
    struct hd_pe_digest *out, struct hd_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	out->md = md;
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) &&
	    (ps->enc == HD_PS1_UTF16LE ? EVP_DigestUpdate(ctx, ps->data,
	    ps->script_end) : hash_utf8(ps, ctx)) &&
	    EVP_DigestFinal_ex(ctx, out->value, &out->len);
	EVP_MD_CTX_free(ctx);
	if (ok)
		return 0;
	hd_err_set(err, HD_E_INTERNAL, 0, "%s: computing the script's digest "
	    "failed", ps->path);
	hd_err_ossl(err);
	return -1;
}

/* Append ASCII s to out in the script's encoding. */
static void
put_text(const struct hd_ps1 *ps, unsigned char *out, size_t *n,
    const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[(*n)++] = (unsigned char)s[i];
		if (ps->enc == HD_PS1_UTF16LE)
			out[(*n)++] = 0;
	}
}

/*
 * The signature block for der, as PowerShell writes it: CR LF line ends
 * whatever the script uses (Windows looks for "\r\n# SIG # Begin"),
 * base64 in 64-character lines, in the script's encoding.
 */
int
hd_ps1_block(const struct hd_ps1 *ps, const unsigned char *der, size_t len,
    unsigned char **out, size_t *outlen, struct hd_err *err)
{
	size_t b64len = (len + 2) / 3 * 4, lines = (b64len + B64_LINE - 1) /
	    B64_LINE, max = (b64len + lines * 4 + 2 * 64) * unit(ps), i, k;
	unsigned char *b64 = len < INT32_MAX / 2 ? malloc(b64len + 1) : NULL;

	*out = b64 != NULL ? malloc(max) : NULL;
	if (*out == NULL) {
		free(b64);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	EVP_EncodeBlock(b64, der, (int)len);
	*outlen = 0;
	put_text(ps, *out, outlen, "\r\n" BEGIN "\r\n", strlen(BEGIN) + 4);
	for (i = 0; i < b64len; i += k) {
		k = b64len - i < B64_LINE ? b64len - i : B64_LINE;
		put_text(ps, *out, outlen, "# ", 2);
		put_text(ps, *out, outlen, (char *)b64 + i, k);
		put_text(ps, *out, outlen, "\r\n", 2);
	}
	put_text(ps, *out, outlen, END "\r\n", strlen(END) + 2);
	free(b64);
	return 0;
}

/* The whole of fd (a regular file) into *data, which the caller frees. */
int
hd_ps1_read(int fd, const char *name, unsigned char **data, size_t *size,
    struct hd_err *err)
{
	size_t cap = 65536, n = 0;
	unsigned char *p = malloc(cap), *q;
	ssize_t r;

	*data = NULL;
	while (p != NULL) {
		if (n == cap && cap > HD_PS1_MAX) {
			free(p);
			return hd_err_set(err, HD_E_INPUT, 0, "%s: too large "
			    "for a script (more than %u bytes)", name,
			    HD_PS1_MAX);
		}
		if (n == cap) {
			if ((q = realloc(p, cap * 2)) == NULL)
				break;
			p = q;
			cap *= 2;
		}
		r = read(fd, p + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(p);
			return hd_err_set(err, HD_E_IO, 0, "%s: %s", name,
			    strerror(errno));
		}
		if (r == 0) {
			*data = p;
			*size = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(p);
	return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
}
