/*
 * RFC 7512 PKCS#11 URIs, the token-selecting part: "pkcs11:token=prod;
 * serial=1234".  libp11 0.4.12 parses URIs only inside its engine, so the
 * few attributes that pick a token are read here.  Object, library and
 * query attributes are accepted and ignored for token matching.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* RFC 7512 §2.3: pct-encoded octets; returns -1 on a malformed escape. */
static int
pct_decode(const char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)in[i];

		if (c == '%') {
			char hex[3];

			if (i + 2 >= n)
				return -1;
			if (!isxdigit((unsigned char)in[i + 1]) ||
			    !isxdigit((unsigned char)in[i + 2]))
				return -1;
			hex[0] = in[i + 1];
			hex[1] = in[i + 2];
			hex[2] = '\0';
			c = (int)strtol(hex, NULL, 16);
			if (c == 0)
				return -1;	/* no NUL inside a C string */
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static const char *
token_attr(const struct hd_token_info *ti, const char *name, char *tmp,
    size_t tmplen)
{
	if (strcmp(name, "token") == 0)
		return ti->label;
	if (strcmp(name, "serial") == 0)
		return ti->serial;
	if (strcmp(name, "manufacturer") == 0)
		return ti->manufacturer;
	if (strcmp(name, "model") == 0)
		return ti->model;
	if (strcmp(name, "slot-description") == 0)
		return ti->slot_desc;
	if (strcmp(name, "slot-id") == 0) {
		snprintf(tmp, tmplen, "%lu", ti->slot);
		return tmp;
	}
	return NULL;	/* object, id, type, library-*: not about the token */
}

/* 1 when every token attribute of uri matches ti, 0 if not, -1 malformed. */
int
hd_uri_match(const char *uri, const struct hd_token_info *ti,
    struct hd_err *err)
{
	const char *p, *end;
	char name[64], value[256], tmp[32];

	if (strncmp(uri, "pkcs11:", 7) != 0)
		return hd_err_set(err, HD_E_USAGE, 0, "'%s': not a pkcs11: URI",
		    uri);
	p = uri + 7;
	end = p + strcspn(p, "?");	/* the query part names no token */
	while (p < end) {
		size_t len = strcspn(p, ";");
		const char *eq;
		const char *have;

		if (p + len > end)
			len = (size_t)(end - p);
		eq = memchr(p, '=', len);	/* not one in the query */
		if (len == 0) {
			p++;
			continue;
		}
		if (eq == NULL || (size_t)(eq - p) >= sizeof(name))
			return hd_err_set(err, HD_E_USAGE, 0, "'%s': malformed "
			    "PKCS#11 URI attribute", uri);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		if (pct_decode(eq + 1, len - (size_t)(eq - p) - 1, value,
		    sizeof(value)) == -1)
			return hd_err_set(err, HD_E_USAGE, 0, "'%s': malformed "
			    "%%-escape in attribute '%s'", uri, name);
		have = token_attr(ti, name, tmp, sizeof(tmp));
		if (have != NULL && strcmp(have, value) != 0)
			return 0;
		p += len + (p[len] == ';');
	}
	return 1;
}
