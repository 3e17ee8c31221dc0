/*
 * Is a profile fit to go to a CA?  Every subject value must be filled in,
 * and none may be a placeholder left over from an example: a CA signs
 * what it receives, and a certificate for "Example Corp" cannot be taken
 * back quietly.
 *
 * The placeholder test is deliberately narrow, so that no real name is
 * refused: a value is a placeholder when, ignoring case, blanks, '-', '_'
 * and '.', it is one of the words below; when it is wrapped in <...>,
 * {...} or [...]; or when it names the reserved example domains of
 * RFC 2606 (example.com, example.net, example.org and anything under
 * them or under .example), in a DNS name, an email address or a URI.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "profile_int.h"

static const char *placeholder_words[] = {
	"example", "examplecom", "examplenet", "exampleorg", "examplecorp",
	"exampleinc", "exampleltd", "examplecompany", "changeme", "todo",
	"tbd", "fixme", "xxx", "placeholder", "yourcompany", "yourname",
	"yourorganization", "yourorganisation", "yourdomain",
	"companyname", "organizationname",
};

static int
word_placeholder(const char *v)
{
	char norm[256];
	size_t i, n = 0;

	for (; *v != '\0' && n + 1 < sizeof(norm); v++)
		if (strchr(" \t-_.", *v) == NULL)
			norm[n++] = (*v >= 'A' && *v <= 'Z') ? *v + 32 : *v;
	norm[n] = '\0';
	for (i = 0; i < sizeof(placeholder_words) / sizeof(char *); i++)
		if (strcmp(norm, placeholder_words[i]) == 0)
			return 1;
	return 0;
}

static int
wrapped(const char *v)
{
	size_t n = strlen(v);

	return n >= 2 && ((v[0] == '<' && v[n - 1] == '>') ||
	    (v[0] == '{' && v[n - 1] == '}') ||
	    (v[0] == '[' && v[n - 1] == ']'));
}

/* "example.com" as a whole label sequence, anywhere in v. */
static int
example_domain(const char *v)
{
	static const char *tld[] = { "com", "net", "org" };
	char low[256];
	const char *p, *end;
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i];
	low[i] = '\0';
	for (p = low; (p = strstr(p, "example")) != NULL; p++) {
		if (p > low && strchr(".@/", p[-1]) == NULL)
			continue;
		end = p + 7;
		if ((*end == '\0' || strchr("/:?#>", *end) != NULL) &&
		    p > low && p[-1] == '.')
			return 1;	/* under the .example TLD */
		if (*end != '.')
			continue;
		for (i = 0; i < 3; i++)
			if (strncmp(end + 1, tld[i], 3) == 0 &&
			    (end[4] == '\0' || strchr("/:?#>", end[4])))
				return 1;
	}
	return 0;
}

static int
placeholder(const char *v)
{
	return word_placeholder(v) || wrapped(v) || example_domain(v);
}

/* "CN, O" and "CN=...,O=..." for the subject values still empty. */
static size_t
missing(const struct hd_profile *p, char *names, size_t nlen, char *pairs,
    size_t plen)
{
	size_t i, n = 0, un = 0, up = 0;

	names[0] = pairs[0] = '\0';
	for (i = 0; i < p->nsubject; i++) {
		if (p->subject[i].value[0] != '\0')
			continue;
		un += snprintf(names + un, un < nlen ? nlen - un : 0, "%s%s",
		    n ? ", " : "", p->subject[i].type);
		up += snprintf(pairs + up, up < plen ? plen - up : 0,
		    "%s%s=...", n ? "," : "", p->subject[i].type);
		n++;
	}
	return n;
}

static int
subject_ready(const struct hd_profile *p, struct hd_err *err)
{
	char names[200], pairs[300];
	size_t i, n;

	if (p->nsubject == 0)
		return hd_err_set(err, HD_E_INPUT, 0, "profile '%s': the "
		    "subject is empty: give --subject \"CN=...\"", p->name);
	if ((n = missing(p, names, sizeof(names), pairs, sizeof(pairs))) > 0)
		return hd_err_set(err, HD_E_INPUT, 0, "profile '%s': subject "
		    "%s %s required: give --subject \"%s\"", p->name, names,
		    n == 1 ? "is" : "are", pairs);
	for (i = 0; i < p->nsubject; i++)
		if (placeholder(p->subject[i].value)) {
			hd_err_set(err, HD_E_INPUT, 0, "profile '%s': subject "
			    "%s '%s' looks like a placeholder: give the real "
			    "value with --subject \"%s=...\"", p->name,
			    p->subject[i].type, p->subject[i].value,
			    p->subject[i].type);
			hd_err_hint(err, "a CA signs what it receives; "
			    "example values must never reach it");
			return -1;
		}
	return 0;
}

static int
has_eku(const struct hd_profile *p, const char *name, const char *oid)
{
	size_t i;

	for (i = 0; i < p->neku; i++)
		if (strcmp(p->eku[i], name) == 0 || strcmp(p->eku[i], oid) == 0)
			return 1;
	return 0;
}

static int
has_san(const struct hd_profile *p, const char *kind1, const char *kind2)
{
	size_t i;

	for (i = 0; i < p->nsan; i++)
		if (strncasecmp(p->san[i], kind1, strlen(kind1)) == 0 ||
		    (kind2 != NULL && strncasecmp(p->san[i], kind2,
		    strlen(kind2)) == 0))
			return 1;
	return 0;
}

/* Browsers and mail clients read names from subjectAltName only (RFC
 * 6125, RFC 8550): a TLS server or S/MIME request without one would come
 * back as a certificate nobody can use. */
static int
names_ready(const struct hd_profile *p, struct hd_err *err)
{
	if (has_eku(p, "serverAuth", "1.3.6.1.5.5.7.3.1") &&
	    !has_san(p, "DNS:", "IP:")) {
		hd_err_set(err, HD_E_INPUT, 0, "profile '%s': a TLS server "
		    "certificate needs its host names: give --san DNS:name "
		    "(repeatable)", p->name);
		return -1;
	}
	if (has_eku(p, "emailProtection", "1.3.6.1.5.5.7.3.4") &&
	    !has_san(p, "email:", NULL)) {
		hd_err_set(err, HD_E_INPUT, 0, "profile '%s': an S/MIME "
		    "certificate needs its mailbox: give --san email:address",
		    p->name);
		return -1;
	}
	return 0;
}

int
hd_profile_ready(const struct hd_profile *p, struct hd_err *err)
{
	size_t i;

	if (subject_ready(p, err) == -1 || names_ready(p, err) == -1)
		return -1;
	for (i = 0; i < p->nsan; i++) {
		const char *v = strchr(p->san[i], ':');

		if (!placeholder(v != NULL ? v + 1 : p->san[i]))
			continue;
		hd_err_set(err, HD_E_INPUT, 0, "profile '%s': alternative "
		    "name '%s' looks like a placeholder", p->name, p->san[i]);
		hd_err_hint(err, "fix the profile, or give the real names "
		    "with --san");
		return -1;
	}
	return 0;
}
