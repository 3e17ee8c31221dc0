/*
 * Building a request profile field by field, each value checked as it
 * goes in: the YAML reader, the INF reader and the front-ends' --subject
 * and --san all come through here, so a value is held to one set of rules
 * wherever it was written.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "profile_int.h"

static const struct {
	const char *name;
	unsigned bit;
} ku_table[] = {
	{ "digitalSignature", HD_KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation", HD_KU_NON_REPUDIATION },
	{ "contentCommitment", HD_KU_NON_REPUDIATION },	/* X.509 2005 */
	{ "keyEncipherment", HD_KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment", HD_KU_DATA_ENCIPHERMENT },
	{ "keyAgreement", HD_KU_KEY_AGREEMENT },
	{ "keyCertSign", HD_KU_KEY_CERT_SIGN },
	{ "cRLSign", HD_KU_CRL_SIGN },
};

/* OpenSSL's short names, so csr.c's OBJ_txt2obj() knows them. */
static const struct {
	const char *name;
	const char *oid;
} eku_table[] = {
	{ "serverAuth", "1.3.6.1.5.5.7.3.1" },
	{ "clientAuth", "1.3.6.1.5.5.7.3.2" },
	{ "codeSigning", "1.3.6.1.5.5.7.3.3" },
	{ "emailProtection", "1.3.6.1.5.5.7.3.4" },
	{ "timeStamping", "1.3.6.1.5.5.7.3.8" },
	{ "OCSPSigning", "1.3.6.1.5.5.7.3.9" },
};

#define N(t) (sizeof(t) / sizeof((t)[0]))
#define EKU_NAMES "serverAuth, clientAuth, codeSigning, emailProtection, " \
	"timeStamping, OCSPSigning"

void
hd_profile_init(struct hd_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->type = HD_KEY_RSA;
	snprintf(p->hash, sizeof(p->hash), "sha256");
}

int
hd_profile_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return 0;
	return i > 0 && i < sizeof(((struct hd_profile *)0)->name);
}

/*
 * A loadable name from a file name: "inf:Request.inf" and "Request.inf"
 * become "request"; any character outside [a-z0-9._-] becomes '-'.
 */
void
hd_profile_name_from(const char *name, char *buf, size_t len)
{
	size_t i, n;

	if (strncmp(name, "inf:", 4) == 0)
		name += 4;
	n = strlen(name);
	if (n > 4 && strcasecmp(name + n - 4, ".inf") == 0)
		n -= 4;
	for (i = 0; i < n && i + 1 < len; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		buf[i] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') ? c : '-';
	}
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, len, "converted");
}

int
hd_ku_lookup(const char *name, unsigned *bit)
{
	size_t i;

	for (i = 0; i < N(ku_table); i++)
		if (strcasecmp(name, ku_table[i].name) == 0) {
			*bit = ku_table[i].bit;
			return 0;
		}
	return -1;
}

const char *
hd_ku_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < N(ku_table); i++)
		if (ku_table[i].bit == bit)
			return ku_table[i].name;
	return NULL;
}

/* "digitalSignature, keyCertSign" in RFC 5280's bit order, or "(none
 * requested)": the ceremony record, request's summary and the UI. */
void
hd_ku_words(unsigned ku, char *buf, size_t len)
{
	size_t used = 0;
	unsigned bit;

	buf[0] = '\0';
	for (bit = HD_KU_DIGITAL_SIGNATURE; bit >= HD_KU_CRL_SIGN; bit >>= 1)
		if ((ku & bit) && hd_ku_name(bit) != NULL && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    used ? ", " : "", hd_ku_name(bit));
	if (buf[0] == '\0')
		snprintf(buf, len, "(none requested)");
}

int
hd_profile_add_eku(struct hd_profile *p, const char *eku, struct hd_err *err)
{
	const char *canon = NULL;
	size_t i;

	for (i = 0; i < N(eku_table) && canon == NULL; i++)
		if (strcasecmp(eku, eku_table[i].name) == 0 ||
		    strcmp(eku, eku_table[i].oid) == 0)
			canon = eku_table[i].name;
	if (canon == NULL && hd_oid_check(eku) == 0)
		canon = eku;
	if (canon != NULL && strlen(canon) >= sizeof(p->eku[0]))
		return hd_err_set(err, HD_E_INPUT, 0, "extended key usage "
		    "'%.80s': longer than %zu characters", canon,
		    sizeof(p->eku[0]) - 1);
	if (canon == NULL)
		return hd_err_set(err, HD_E_INPUT, 0, "extended key usage "
		    "'%.80s': neither a known name (" EKU_NAMES ") nor a "
		    "dotted OID such as 1.3.6.1.5.5.7.3.3", hd_shown(eku));
	for (i = 0; i < p->neku; i++)
		if (strcmp(p->eku[i], canon) == 0)
			return hd_err_set(err, HD_E_INPUT, 0, "extended key "
			    "usage '%s' is listed twice", canon);
	if (p->neku == HD_LIST_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "more than %d extended "
		    "key usages", HD_LIST_MAX);
	snprintf(p->eku[p->neku++], sizeof(p->eku[0]), "%s", canon);
	return 0;
}

/* ---- alternative names ------------------------------------------------- */

/* RFC 1034 host names, ASCII only; "*." first for a wildcard. */
static int
dns_ok(const char *s, int wildcard)
{
	size_t label = 0, total = strlen(s), i;

	if (wildcard && strncmp(s, "*.", 2) == 0)
		s += 2;
	if (total == 0 || total > 253)
		return 0;
	for (i = 0;; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			if (c == '\0')
				return 1;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return 0;
		label++;
	}
}

static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	const char *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p))
			return 0;
	return dns_ok(at + 1, 0);
}

/* RFC 3986: scheme ":" and something, all printable ASCII. */
static int
uri_ok(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (s[i] != ':' && s[i] != '\0' && (strchr("+.-", s[i]) != NULL ||
	    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= '0' && s[i] <= '9')))
		i++;
	if (s[i] != ':' || s[i + 1] == '\0')
		return 0;
	for (; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

static int
ip_ok(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static const struct {
	const char *prefix;	/* as csr.c expects it */
	int (*ok)(const char *);
	const char *what;
} san_types[] = {
	{ "email:", email_ok, "not an email address (local@domain, ASCII)" },
	{ "DNS:", NULL, "not a DNS name (ASCII letters, digits, '-' and '.'; "
	  "\"*.\" first for a wildcard; xn-- for international names)" },
	{ "URI:", uri_ok, "not a URI (scheme:rest, printable ASCII)" },
	{ "IP:", ip_ok, "not an IPv4 or IPv6 address" },
};

static int
san_dns_ok(const char *s)
{
	return dns_ok(s, 1);
}

int
hd_profile_add_san(struct hd_profile *p, const char *san, struct hd_err *err)
{
	char why[96], canon[sizeof(p->san[0])];
	size_t i, n;
	int (*ok)(const char *);

	for (i = 0; i < N(san_types); i++) {
		n = strlen(san_types[i].prefix);
		if (strncasecmp(san, san_types[i].prefix, n) == 0)
			break;
	}
	if (i == N(san_types))
		return hd_err_set(err, HD_E_INPUT, 0, "alternative name "
		    "'%.80s' must start with email:, DNS:, URI: or IP:",
		    hd_shown(san));
	if (hd_text_check(san, sizeof(canon), why, sizeof(why)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "alternative name: %s",
		    why);
	ok = san_types[i].ok ? san_types[i].ok : san_dns_ok;
	if (!ok(san + n))
		return hd_err_set(err, HD_E_INPUT, 0, "alternative name "
		    "'%.80s': %s", san, san_types[i].what);
	snprintf(canon, sizeof(canon), "%s%s", san_types[i].prefix, san + n);
	for (i = 0; i < p->nsan; i++)
		if (strcasecmp(p->san[i], canon) == 0)
			return hd_err_set(err, HD_E_INPUT, 0, "alternative "
			    "name '%.80s' is listed twice", canon);
	if (p->nsan == HD_LIST_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "more than %d "
		    "alternative names", HD_LIST_MAX);
	memcpy(p->san[p->nsan++], canon, sizeof(canon));
	return 0;
}

/* ---- subject and label ------------------------------------------------- */

int
hd_profile_set_subject(struct hd_profile *p, const char *dn,
    struct hd_err *err)
{
	struct hd_rdn given[HD_DN_MAX], merged[HD_DN_MAX];
	size_t n, m = p->nsubject, i, j;

	if (hd_dn_parse(dn, given, HD_DN_MAX, &n, err) == -1)
		return -1;
	memcpy(merged, p->subject, sizeof(merged));
	for (i = 0; i < n; i++) {
		for (j = 0; j < m && strcmp(merged[j].type, given[i].type); j++)
			;
		if (j == HD_DN_MAX)
			return hd_err_set(err, HD_E_INPUT, 0, "subject: more "
			    "than %d attributes", HD_DN_MAX);
		merged[j] = given[i];
		if (j == m)
			m++;
	}
	hd_dn_order(merged, m);
	memcpy(p->subject, merged, sizeof(merged));
	p->nsubject = m;
	return 0;
}

int
hd_profile_set_label(struct hd_profile *p, const char *tmpl,
    struct hd_err *err)
{
	char why[96];
	const char *s;

	if (tmpl[0] == '\0')
		return hd_err_set(err, HD_E_INPUT, 0, "label: empty; use e.g. "
		    "\"codesign-{date}\"");
	if (hd_text_check(tmpl, sizeof(p->label), why, sizeof(why)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "label: %s", why);
	for (s = tmpl; *s != '\0'; s++) {
		if (strncmp(s, "{date}", 6) == 0 ||
		    strncmp(s, "{cn}", 4) == 0) {
			s = strchr(s, '}');
			continue;
		}
		if (*s == '{' || *s == '}')
			return hd_err_set(err, HD_E_INPUT, 0, "label '%s': "
			    "unknown placeholder at '%.12s'; use {date} or "
			    "{cn}", tmpl, s);
	}
	snprintf(p->label, sizeof(p->label), "%s", tmpl);
	return 0;
}

static const char *
subject_value(const struct hd_profile *p, const char *type)
{
	size_t i;

	for (i = 0; i < p->nsubject; i++)
		if (strcmp(p->subject[i].type, type) == 0)
			return p->subject[i].value;
	return NULL;
}

/* {cn} as a label: characters outside [A-Za-z0-9._-] become '-'. */
static int
put_cn(const char *cn, char *buf, size_t len, size_t *used)
{
	unsigned long cp;
	size_t n;

	for (; *cn != '\0'; cn += n) {
		if ((n = hd_utf8_decode((const unsigned char *)cn, &cp)) == 0)
			n = 1;
		if (*used + 1 >= len)
			return -1;
		buf[(*used)++] = (cp < 0x80 && (strchr("._-", (int)cp) ||
		    (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9'))) ? (char)cp : '-';
	}
	return 0;
}

static int
expand(const struct hd_profile *p, const char *date, char *buf, size_t len)
{
	const char *s, *cn = subject_value(p, "CN");
	size_t used = 0;

	for (s = p->label; *s != '\0'; s++) {
		if (strncmp(s, "{date}", 6) == 0) {
			if (used + 8 >= len)
				return -1;
			memcpy(buf + used, date, 8);
			used += 8;
			s += 5;
		} else if (strncmp(s, "{cn}", 4) == 0) {
			if (cn == NULL || cn[0] == '\0' ||
			    put_cn(cn, buf, len, &used) == -1)
				return -1;
			s += 3;
		} else if (used + 1 >= len) {
			return -1;
		} else {
			buf[used++] = *s;
		}
	}
	buf[used] = '\0';
	return used > 0 ? 0 : -1;
}

/* The label template with {date} (UTC, YYYYMMDD) and {cn} filled in. */
int
hd_profile_label(const struct hd_profile *p, char *buf, size_t len)
{
	char date[16];
	time_t now = time(NULL);
	struct tm tm;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y%m%d", &tm) != 8 ||
	    expand(p, date, buf, len) == -1) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
