/*
 * Distinguished names as people type them ("CN=www.example.com,
 * O=\"Information Technology, Inc\", S=Washington") and as certreq's
 * Subject = line holds them: parsed into RDNs with canonical names,
 * checked against RFC 5280's bounds, ordered C, ST, L, O, OU, CN and
 * rendered with RFC 4514 escaping.  Written by hand: OpenSSL parses only
 * its own "/CN=x/O=y" form.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile_int.h"

enum dn_chars { DN_UTF8, DN_COUNTRY, DN_PRINTABLE, DN_IA5 };

/*
 * The attributes a profile may hold, under OpenSSL's short names (what
 * csr.c gives X509_NAME_add_entry_by_txt), with RFC 5280's upper bounds
 * in characters and the ASN.1 string type's alphabet.
 */
static const struct dn_type {
	const char *name;
	const char *alias[2];		/* also accepted, in any case */
	const char *oid;
	size_t ub;
	enum dn_chars chars;
} dn_types[] = {
	{ "C", { "countryName", NULL }, "2.5.4.6", 2, DN_COUNTRY },
	{ "ST", { "S", "stateOrProvinceName" }, "2.5.4.8", 128, DN_UTF8 },
	{ "L", { "localityName", NULL }, "2.5.4.7", 128, DN_UTF8 },
	{ "O", { "organizationName", NULL }, "2.5.4.10", 64, DN_UTF8 },
	{ "OU", { "organizationalUnitName", NULL }, "2.5.4.11", 64, DN_UTF8 },
	{ "CN", { "commonName", NULL }, "2.5.4.3", 64, DN_UTF8 },
	{ "emailAddress", { "E", "EMAIL" }, "1.2.840.113549.1.9.1", 255,
	  DN_IA5 },
	{ "serialNumber", { NULL, NULL }, "2.5.4.5", 64, DN_PRINTABLE },
	{ "DC", { "domainComponent", NULL }, "0.9.2342.19200300.100.1.25", 63,
	  DN_IA5 },
};
#define NTYPES (sizeof(dn_types) / sizeof(dn_types[0]))

#define DN_NAMES "C, ST (or S), L, O, OU, CN, emailAddress (or E), " \
	"serialNumber, DC or a dotted OID such as 2.5.4.5"

void
hd_err_prefix(struct hd_err *err, const char *fmt, ...)
{
	char pre[4300], msg[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s", err->msg);
	snprintf(err->msg, sizeof(err->msg), "%s%s", pre, msg);
}

const char *
hd_shown(const char *s)
{
	char why[80];

	return hd_text_check(s, 128, why, sizeof(why)) == 0 ? s :
	    "(unprintable or too long)";
}

size_t
hd_utf8_decode(const unsigned char *s, unsigned long *cp)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	*cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at a NUL */
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and beyond U+10FFFF */
	if (*cp < min[n] || (*cp >= 0xd800 && *cp <= 0xdfff) ||
	    *cp > 0x10ffff)
		return 0;
	return n;
}

/* Characters that change how text looks rather than what it says. */
int
hd_invisible(unsigned long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff ||
	    cp == 0xfffe || cp == 0xffff;
}

int
hd_text_check(const char *s, size_t max, char *why, size_t whylen)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i, n, len = strlen(s);

	if (len >= max) {
		snprintf(why, whylen, "%zu bytes long; at most %zu", len,
		    max - 1);
		return -1;
	}
	for (i = 0; i < len; i += n) {
		if ((n = hd_utf8_decode(u + i, &cp)) == 0) {
			snprintf(why, whylen, "not valid UTF-8 at byte %zu",
			    i + 1);
			return -1;
		}
		if (hd_invisible(cp)) {
			snprintf(why, whylen, "%s U+%04lX at byte %zu",
			    cp < 0xa0 || cp == 0x2028 || cp == 0x2029 ?
			    "control character" : "invisible character", cp,
			    i + 1);
			return -1;
		}
	}
	return 0;
}

int
hd_oid_check(const char *oid)
{
	const char *p = oid;
	size_t arcs = 0, digits;
	unsigned long first = 0, second = 0;

	for (;;) {
		for (digits = 0; p[digits] >= '0' && p[digits] <= '9';
		    digits++)
			;
		/* no empty arcs, no leading zeros, no absurd numbers */
		if (digits == 0 || (digits > 1 && p[0] == '0') || digits > 20)
			return -1;
		if (arcs < 2 && digits <= 3) {
			unsigned long v = strtoul(p, NULL, 10);

			*(arcs == 0 ? &first : &second) = v;
		} else if (arcs < 2) {
			second = 99999;
		}
		arcs++;
		p += digits;
		if (*p == '\0')
			break;
		if (*p++ != '.')
			return -1;
	}
	/* X.660: the first arc is 0, 1 or 2; under 0 and 1, below 40 */
	if (arcs < 2 || first > 2 || (first < 2 && second >= 40))
		return -1;
	return 0;
}

static size_t
count_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
printable_string(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

static int
value_check(const struct dn_type *t, const char *name, const char *v,
    struct hd_err *err)
{
	char why[96];
	size_t n;

	if (hd_text_check(v, sizeof(((struct hd_rdn *)0)->value), why,
	    sizeof(why)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: %s", name, why);
	if (t == NULL || v[0] == '\0')
		return 0;
	if (t->chars == DN_COUNTRY && (strlen(v) != 2 || v[0] < 'A' ||
	    v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z'))
		return hd_err_set(err, HD_E_INPUT, 0, "%s: '%.60s' must be two "
		    "capital letters, an ISO 3166 country code such as US",
		    name, v);
	if ((n = count_chars(v)) > t->ub)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: %zu characters; "
		    "at most %zu (RFC 5280)", name, n, t->ub);
	if (t->chars == DN_PRINTABLE && !printable_string(v))
		return hd_err_set(err, HD_E_INPUT, 0, "%s: '%.60s' may only "
		    "hold letters, digits, blanks and '()+,-./:=?", name, v);
	if (t->chars == DN_IA5 && count_chars(v) != strlen(v))
		return hd_err_set(err, HD_E_INPUT, 0, "%s: '%.60s' must be "
		    "ASCII", name, v);
	return 0;
}

static const struct dn_type *
type_lookup(const char *name)
{
	size_t i, j;

	for (i = 0; i < NTYPES; i++) {
		if (strcasecmp(name, dn_types[i].name) == 0 ||
		    strcmp(name, dn_types[i].oid) == 0)
			return &dn_types[i];
		for (j = 0; j < 2; j++)
			if (dn_types[i].alias[j] != NULL &&
			    strcasecmp(name, dn_types[i].alias[j]) == 0)
				return &dn_types[i];
	}
	return NULL;
}

int
hd_rdn_set(struct hd_rdn *rdn, const char *type, const char *value,
    struct hd_err *err)
{
	const struct dn_type *t;
	size_t i;

	if (strncasecmp(type, "OID.", 4) == 0)	/* certreq's spelling */
		type += 4;
	for (i = 0; type[i] != '\0'; i++)
		if (!((type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' &&
		    type[i] <= 'z') || (type[i] >= '0' && type[i] <= '9') ||
		    type[i] == '.' || type[i] == '-'))
			return hd_err_set(err, HD_E_INPUT, 0, "an attribute "
			    "name holds letters, digits and dots; use "
			    DN_NAMES);
	if (i == 0 || i >= 64)
		return hd_err_set(err, HD_E_INPUT, 0, "an attribute name must "
		    "be 1 to 63 characters; use " DN_NAMES);
	if ((t = type_lookup(type)) == NULL && hd_oid_check(type) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "unknown attribute "
		    "'%s'; use " DN_NAMES, type);
	if (t == NULL && strlen(type) >= sizeof(rdn->type))
		return hd_err_set(err, HD_E_INPUT, 0, "attribute OID '%s' is "
		    "longer than %zu characters", type, sizeof(rdn->type) - 1);
	if (value_check(t, t ? t->name : type, value, err) == -1)
		return -1;
	snprintf(rdn->type, sizeof(rdn->type), "%s", t ? t->name : type);
	snprintf(rdn->value, sizeof(rdn->value), "%s", value);
	return 0;
}

/* ---- parsing "CN=x, O=\"y, z\"" ---------------------------------------- */

struct dn_cur {
	const char *s;
	size_t i;
	char val[1024];
	size_t len;
	struct hd_err *err;
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_sep(char c)
{
	return c == ',' || c == ';';	/* CertStrToName takes either */
}

static void
skip_blanks(struct dn_cur *c)
{
	while (is_blank(c->s[c->i]))
		c->i++;
}

static int
put(struct dn_cur *c, char ch)
{
	if (c->len + 1 >= sizeof(c->val))
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: a value "
		    "is longer than %zu bytes", sizeof(c->val) - 1);
	c->val[c->len++] = ch;
	return 0;
}

/* The attribute name up to '='. */
static int
dn_type(struct dn_cur *c, char *type, size_t len)
{
	size_t n = 0;

	skip_blanks(c);
	if (c->s[c->i] == '\0')
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: nothing "
		    "after the last separator");
	while (c->s[c->i] != '\0' && c->s[c->i] != '=' &&
	    !is_blank(c->s[c->i]) && !is_sep(c->s[c->i])) {
		if (n + 1 >= len)
			return hd_err_set(c->err, HD_E_INPUT, 0, "subject: an "
			    "attribute name is longer than %zu characters",
			    len - 1);
		type[n++] = c->s[c->i++];
	}
	type[n] = '\0';
	skip_blanks(c);
	if (n == 0)
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: an empty "
		    "attribute at character %zu; write TYPE=value", c->i + 1);
	if (c->s[c->i] != '=')
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: '%.40s' has "
		    "no '='; write TYPE=value, e.g. CN=www.example.com", type);
	c->i++;
	return 0;
}

static int
hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* RFC 4514 §2.4 and §3: "\," and friends, or "\XX" for one byte. */
static int
dn_escape(struct dn_cur *c, const char *type)
{
	const char *p = c->s + c->i + 1;

	if (p[0] != '\0' && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
		c->i += 3;
		return put(c, (char)(hexval(p[0]) * 16 + hexval(p[1])));
	}
	if (p[0] != '\0' && strchr(" \"#+,;<=>\\", p[0]) != NULL) {
		c->i += 2;
		return put(c, p[0]);
	}
	return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: a '\\' must "
	    "be followed by one of  \"#+,;<=>\\ or two hex digits", type);
}

static int
dn_unquoted(struct dn_cur *c, const char *type)
{
	size_t kept = 0;	/* escaped blanks at the end stay */
	char ch;

	if (c->s[c->i] == '#')
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: a value "
		    "starting with '#' (hex-encoded BER) is not supported; "
		    "write \\# or quote the value", type);
	while ((ch = c->s[c->i]) != '\0' && !is_sep(ch)) {
		if (ch == '+')
			return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: "
			    "multi-valued RDNs ('+') are not supported; write "
			    "\\+ or quote the value", type);
		if (ch == '"')
			return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: "
			    "a '\"' inside a value; quote the whole value or "
			    "write \\\"", type);
		if (ch == '\\') {
			if (dn_escape(c, type) == -1)
				return -1;
			kept = c->len;
			continue;
		}
		if (put(c, ch) == -1)
			return -1;
		c->i++;
	}
	while (c->len > kept && is_blank(c->val[c->len - 1]))
		c->len--;
	return 0;
}

/* "..." with "" (certreq) or \" (RFC 1779) for a quote inside. */
static int
dn_quoted(struct dn_cur *c, const char *type)
{
	char ch;

	for (c->i++;; c->i++) {
		ch = c->s[c->i];
		if (ch == '\0')
			return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: "
			    "the quoted value is not closed", type);
		if (ch == '"' && c->s[c->i + 1] != '"')
			break;
		if ((ch == '"' || ch == '\\') && c->s[c->i + 1] != '\0')
			ch = c->s[++c->i];
		if (put(c, ch) == -1)
			return -1;
	}
	c->i++;
	skip_blanks(c);
	if (c->s[c->i] != '\0' && !is_sep(c->s[c->i]))
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: text "
		    "after the closing quote; put a ',' between attributes",
		    type);
	return 0;
}

static int
dn_one(struct dn_cur *c, struct hd_rdn *rdn)
{
	char type[64];
	int rc;

	if (dn_type(c, type, sizeof(type)) == -1)
		return -1;
	skip_blanks(c);
	c->len = 0;
	rc = c->s[c->i] == '"' ? dn_quoted(c, type) : dn_unquoted(c, type);
	if (rc == -1)
		return -1;
	c->val[c->len] = '\0';
	if (c->len == 0)
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s has an "
		    "empty value", type);
	if (strlen(c->val) != c->len)
		return hd_err_set(c->err, HD_E_INPUT, 0, "subject: %s: \\00 "
		    "(a NUL byte) is not allowed", type);
	if (hd_rdn_set(rdn, type, c->val, c->err) == -1) {
		hd_err_prefix(c->err, "subject: ");
		return -1;
	}
	return 0;
}

int
hd_dn_parse(const char *text, struct hd_rdn *rdn, size_t max, size_t *n,
    struct hd_err *err)
{
	struct dn_cur c = { .s = text, .err = err };
	size_t j;

	*n = 0;
	skip_blanks(&c);
	if (text[c.i] == '\0')
		return hd_err_set(err, HD_E_INPUT, 0, "subject: empty; write "
		    "TYPE=value pairs, e.g. \"CN=www.example.com, O=Example\"");
	for (;;) {
		if (*n == max)
			return hd_err_set(err, HD_E_INPUT, 0, "subject: more "
			    "than %zu attributes", max);
		if (dn_one(&c, &rdn[*n]) == -1)
			return -1;
		for (j = 0; j < *n; j++)
			if (strcmp(rdn[j].type, rdn[*n].type) == 0)
				return hd_err_set(err, HD_E_INPUT, 0,
				    "subject: %s is given twice; a profile "
				    "holds one value per attribute",
				    rdn[j].type);
		(*n)++;
		if (text[c.i] == '\0')
			return 0;
		c.i++;	/* the separator */
	}
}

/* ---- order and text ---------------------------------------------------- */

static int
rank(const char *type)
{
	static const char *order[] = { "C", "ST", "L", "O", "OU", "CN" };
	int i;

	for (i = 0; i < 6; i++)
		if (strcmp(type, order[i]) == 0)
			return i;
	return 6;
}

/* C, ST, L, O, OU, CN, then the others as they came: a stable sort. */
void
hd_dn_order(struct hd_rdn *rdn, size_t n)
{
	struct hd_rdn t;
	size_t i, j;

	for (i = 1; i < n; i++) {
		t = rdn[i];
		for (j = i; j > 0 && rank(rdn[j - 1].type) > rank(t.type); j--)
			rdn[j] = rdn[j - 1];
		rdn[j] = t;
	}
}

static int
emit(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
	if (*used + n >= len)
		return -1;
	memcpy(buf + *used, s, n);
	*used += n;
	buf[*used] = '\0';
	return 0;
}

/* RFC 4514 §2.4: the value with its special characters escaped. */
static int
emit_value(char *buf, size_t len, size_t *used, const char *v)
{
	size_t i, n = strlen(v);
	char esc[4];

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof(esc), "\\%02X", ch);
			if (emit(buf, len, used, esc, 3) == -1)
				return -1;
			continue;
		}
		if (strchr("\"+,;<>\\", ch) != NULL ||
		    (i == 0 && (ch == ' ' || ch == '#')) ||
		    (i == n - 1 && ch == ' '))
			if (emit(buf, len, used, "\\", 1) == -1)
				return -1;
		if (emit(buf, len, used, v + i, 1) == -1)
			return -1;
	}
	return 0;
}

int
hd_dn_format(const struct hd_rdn *rdn, size_t n, char *buf, size_t len)
{
	size_t i, used = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((i > 0 && emit(buf, len, &used, ", ", 2) == -1) ||
		    emit(buf, len, &used, rdn[i].type,
		    strlen(rdn[i].type)) == -1 ||
		    emit(buf, len, &used, "=", 1) == -1 ||
		    emit_value(buf, len, &used, rdn[i].value) == -1)
			return -1;
	}
	return 0;
}
