/*
 * Thumbprints as people paste them.  Windows' certificate dialog shows
 * "a1 b2 c3 ..." and a copy of it carries invisible marks (a leading
 * U+200E, sometimes U+202A..U+202E or U+FEFF, no-break spaces); other
 * tools print "A1:B2:..." or "A1-B2-...".  One normalizer turns all of
 * these into what PowerShell prints: upper-case hex, no separators.
 */
#include <stdio.h>
#include <string.h>

#include "hsmdesk.h"

/* Characters dropped from a pasted thumbprint, as UTF-8. */
static const char *const invisible[] = {
	"\xc2\xa0",		/* U+00A0 no-break space */
	"\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83",
	"\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87",
	/* U+2000..U+200A */
	"\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a",
	"\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",	/* zero widths */
	"\xe2\x80\x8e", "\xe2\x80\x8f",	/* U+200E LRM, U+200F RLM */
	"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
	"\xe2\x80\xae",	/* U+202A..U+202E: embeddings, overrides */
	"\xe2\x80\xaf",		/* U+202F narrow no-break space */
	"\xe2\x81\xa0",		/* U+2060 word joiner */
	"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9",
				/* U+2066..U+2069 isolates */
	"\xe3\x80\x80",		/* U+3000 ideographic space */
	"\xef\xbb\xbf",		/* U+FEFF byte order mark */
};

static size_t
skip_invisible(const char *p)
{
	size_t i, n;

	if (strchr(" \t\r\n:-", *p) != NULL)
		return 1;
	for (i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
		n = strlen(invisible[i]);
		if (strncmp(p, invisible[i], n) == 0)
			return n;
	}
	return 0;
}

/* Describe the character at p for a message: 'G' or U+2713. */
static void
char_name(const unsigned char *p, char *buf, size_t len)
{
	unsigned cp = 0;
	int n = 0, i;

	if (*p >= 0x21 && *p < 0x7f) {
		snprintf(buf, len, "'%c'", *p);
		return;
	}
	if (*p < 0x80)
		cp = *p;
	else if ((*p & 0xe0) == 0xc0)
		cp = *p & 0x1f, n = 1;
	else if ((*p & 0xf0) == 0xe0)
		cp = *p & 0x0f, n = 2;
	else if ((*p & 0xf8) == 0xf0)
		cp = *p & 0x07, n = 3;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			snprintf(buf, len, "byte 0x%02x", *p);
			return;
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (*p >= 0x80 && n == 0)
		snprintf(buf, len, "byte 0x%02x", *p);
	else
		snprintf(buf, len, "U+%04X", cp);
}

/*
 * Normalize a thumbprint (or a prefix of one) of at most max hex digits
 * into out (max + 1 bytes at least): upper case, no separators, no
 * invisible marks.  Anything else is refused with HD_E_USAGE naming it.
 */
int
hd_thumb_normalize(const char *in, size_t max, char *out, size_t outlen,
    struct hd_err *err)
{
	const char *p = in;
	size_t k = 0, skip;
	char what[32];

	if (outlen < max + 1)
		return hd_err_set(err, HD_E_INTERNAL, 0, "thumbprint buffer "
		    "too small");
	while (*p != '\0') {
		if ((skip = skip_invisible(p)) > 0) {
			p += skip;
			continue;
		}
		if (!((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' &&
		    (*p | 0x20) <= 'f'))) {
			char_name((const unsigned char *)p, what, sizeof(what));
			hd_err_set(err, HD_E_USAGE, 0, "thumbprint '%.100s': "
			    "%s at position %zu is not a hex digit", in, what,
			    (size_t)(p - in) + 1);
			hd_err_hint(err, "a thumbprint is hex (0-9, A-F); "
			    "spaces, colons and the marks Windows adds when "
			    "copying are ignored");
			return -1;
		}
		if (k == max)
			return hd_err_set(err, HD_E_USAGE, 0, "thumbprint "
			    "'%.100s': more than %zu hex digits", in, max);
		out[k++] = (*p >= 'a' && *p <= 'f') ? (char)(*p - 32) : *p;
		p++;
	}
	out[k] = '\0';
	if (k == 0)
		return hd_err_set(err, HD_E_USAGE, 0, "thumbprint '%.100s': no "
		    "hex digits", in);
	return 0;
}

/*
 * Hex in groups of four for reading aloud and comparing by eye, the way
 * a fingerprint is confirmed on the phone: "1A2B 3C4D ...".
 */
int
hd_fingerprint_group(const char *hex, char *out, size_t len)
{
	size_t i, k = 0, n = strlen(hex);

	if (len < n + n / 4 + 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && i % 4 == 0)
			out[k++] = ' ';
		out[k++] = hex[i];
	}
	out[k] = '\0';
	return 0;
}
