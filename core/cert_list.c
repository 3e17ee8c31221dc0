/*
 * Get-ChildItem cert:\ for a token: every certificate object on it, the
 * certificates the local store keeps for its keys, and the chain
 * material and trusted roots, each with its SHA-1 thumbprint.  Lookup by
 * thumbprint prefix never guesses: a prefix that fits several
 * certificates is an error that lists them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert_int.h"

/* Leaves first (soonest to expire first), then chain, then roots. */
static int
cert_cmp(const void *a, const void *b)
{
	const struct hd_cert *x = a, *y = b;
	int wx = x->where == HD_CERT_LOCAL ? HD_CERT_TOKEN : (int)x->where;
	int wy = y->where == HD_CERT_LOCAL ? HD_CERT_TOKEN : (int)y->where;
	int c;

	if (wx != wy)
		return wx - wy;
	if (x->not_after != y->not_after)
		return x->not_after < y->not_after ? -1 : 1;
	if ((c = strcmp(x->subject, y->subject)) != 0)
		return c;
	if ((c = strcmp(x->sha1, y->sha1)) != 0)
		return c;
	return (int)x->where - (int)y->where;
}

/*
 * All certificates for the selected token (logged in or not: without a
 * login, has_key is HD_UNKNOWN, private keys being hidden).
 */
int
hd_certs(struct hd_session *s, struct hd_cert **list, size_t *n,
    struct hd_err *err)
{

	*list = NULL;
	*n = 0;
	hd_err_clear(err);
	if (hd_session_open(s, err) == -1)
		return -1;
	if (hd_token_certs(s, list, n, err) == -1 ||
	    hd_store_load(HD_CERT_LOCAL, s->serial, list, n, err) == -1 ||
	    hd_store_load(HD_CERT_CHAIN, NULL, list, n, err) == -1 ||
	    hd_store_load(HD_CERT_ANCHOR, NULL, list, n, err) == -1) {
		hd_certs_free(*list, *n);
		*list = NULL;
		*n = 0;
		if (!s->logged_in)
			hd_session_close(s);
		return -1;
	}
	hd_certs_key_info(s, *list, *n);
	if (!s->logged_in)
		hd_session_close(s);
	if (*n > 0)
		qsort(*list, *n, sizeof(**list), cert_cmp);
	return 0;
}

struct norm_filter {
	char sha1[41], sha256[65];
	const struct hd_cert_filter *f;
};

static int
keep(const struct hd_cert *c, const struct norm_filter *nf)
{
	const struct hd_cert_filter *f = nf->f;

	if (f->sha1 && strncmp(c->sha1, nf->sha1, strlen(nf->sha1)) != 0)
		return 0;
	if (f->sha256 && strncmp(c->sha256, nf->sha256,
	    strlen(nf->sha256)) != 0)
		return 0;
	if (f->subject && strcasestr(c->subject, f->subject) == NULL)
		return 0;
	if (f->expiring_days >= 0 && c->days_left > f->expiring_days)
		return 0;
	return 1;
}

/* Drop (and free) the entries that do not fit f; order is kept. */
int
hd_certs_filter(struct hd_cert *list, size_t *n,
    const struct hd_cert_filter *f, struct hd_err *err)
{
	struct norm_filter nf = { .f = f };
	size_t i, k = 0;

	if ((f->sha1 && hd_thumb_normalize(f->sha1, 40, nf.sha1,
	    sizeof(nf.sha1), err) == -1) || (f->sha256 &&
	    hd_thumb_normalize(f->sha256, 64, nf.sha256, sizeof(nf.sha256),
	    err) == -1))
		return -1;
	for (i = 0; i < *n; i++) {
		if (keep(&list[i], &nf))
			list[k++] = list[i];
		else
			hd_cert_free(&list[i]);
	}
	*n = k;
	return 0;
}

static void
candidates(struct hd_err *err, const char *want, const struct hd_cert *l,
    size_t n)
{
	size_t i, len;

	hd_err_set(err, HD_E_USAGE, 0, "thumbprint '%s' fits %zu "
	    "certificates:", want, n);
	for (i = 0; i < n; i++) {
		len = strlen(err->msg);
		if (sizeof(err->msg) - len < 100) {
			snprintf(err->msg + len, sizeof(err->msg) - len,
			    " and %zu more", n - i);
			break;
		}
		snprintf(err->msg + len, sizeof(err->msg) - len,
		    "%s %s (%.40s)", i ? "," : "", l[i].sha1, l[i].subject);
	}
	hd_err_hint(err, "give more of the thumbprint; 'hsmdesk certs' "
	    "lists them");
}

/*
 * One certificate kept in two places (on the token and in the local
 * store) is still one: keep the first copy, the token's (cert_cmp).
 */
static void
one_copy(struct hd_cert *l, size_t *n)
{
	size_t i;

	for (i = 1; i < *n; i++)
		if (strcmp(l[i].sha1, l[0].sha1) != 0)
			return;
	for (i = 1; i < *n; i++)
		hd_cert_free(&l[i]);
	*n = *n > 0 ? 1 : 0;
}

/*
 * The one certificate whose SHA-1 thumbprint starts with sha1 (in any
 * notation hd_thumb_normalize takes).  None, or several (listed in the
 * message), is an error.
 */
int
hd_cert_find(struct hd_session *s, const char *sha1, struct hd_cert *out,
    struct hd_err *err)
{
	struct hd_cert_filter f = { .sha1 = sha1, .expiring_days = -1 };
	struct hd_cert *l;
	char norm[41];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (hd_thumb_normalize(sha1, 40, norm, sizeof(norm), err) == -1 ||
	    hd_certs(s, &l, &n, err) == -1)
		return -1;
	if (hd_certs_filter(l, &n, &f, err) == 0)
		one_copy(l, &n);
	if (n != 1) {
		if (n == 0) {
			hd_err_set(err, HD_E_INPUT, 0, "no certificate with "
			    "thumbprint %s on token '%s' or in the local "
			    "store", norm, hd_token_name(s));
			hd_err_hint(err, "'hsmdesk certs' lists them");
		} else if (n > 1) {
			candidates(err, norm, l, n);
		}
		hd_certs_free(l, n);
		return -1;
	}
	*out = l[0];
	free(l);
	return 0;
}
