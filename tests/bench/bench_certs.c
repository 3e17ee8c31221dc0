/*
 * make bench, part "certs" (run by tests/bench/certs.sh), two commands on
 * the token "bench" of the SoftHSM2 store SOFTHSM2_CONF names (user PIN
 * TL_PIN):
 *
 *   bench_certs MODULE fill N   one P-256 key pair and N certificates for
 *                               it from a test CA, stored as accept stores
 *                               them (hd_token_cert_put), in one session
 *   bench_certs MODULE filter K the list as the Find screen holds it, and
 *                               K keystrokes' filtering (a shallow copy of
 *                               the list, then hd_certs_filter, as
 *                               tui/scr_certs.c does): median and worst ms
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "cert_int.h"
#include "testlib.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
fill(const char *module, int n)
{
	struct hd_session *s = tl_login(module, "bench");
	struct hd_err err;
	struct hd_key k;
	struct tl_ca ca;
	EVP_PKEY *pub = NULL;
	char cn[64];
	CK_RV rv;
	int i, rc = 1;

	if (s == NULL || tl_keygen(s, 1, "bench", &k) == -1 ||
	    (pub = tl_token_pub(s, &k)) == NULL || tl_ca_new(&ca) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		X509 *x;

		snprintf(cn, sizeof(cn), "Bench Signing %04d", i);
		/* not-after spread over two years, some expired */
		x = tl_issue(&ca, pub, cn, -400, -30 + (i * 7) % 730,
		    "codeSigning", 0x80);
		if (x == NULL || hd_token_cert_put(s, x, &k, &rv, &err) == -1) {
			fprintf(stderr, "bench_certs: certificate %d: %s\n", i,
			    x ? err.msg : "not issued");
			X509_free(x);
			goto ca;
		}
		X509_free(x);
	}
	rc = 0;
ca:
	tl_ca_free(&ca);
out:
	EVP_PKEY_free(pub);
	hd_close(s);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* What is typed: thumbprint prefixes (pasted with colons, too) and names. */
static void
keystroke(const struct hd_cert *all, size_t nall, int i, char *buf,
    size_t len)
{
	const struct hd_cert *c = &all[(size_t)i * 7919 % nall];
	int depth = 1 + i % 6;

	switch (i % 3) {
	case 0: snprintf(buf, len, "%.*s", depth, c->sha1); break;
	case 1: snprintf(buf, len, "%.2s:%.2s:%.*s", c->sha1, c->sha1 + 2,
	    depth, c->sha1 + 4); break;
	default: snprintf(buf, len, "signing %.*s", depth % 4 + 1,
	    strrchr(c->subject, ' ') ? strrchr(c->subject, ' ') + 1 : "");
	}
}

static int
filter(const char *module, int keys)
{
	struct hd_session *s = tl_login(module, "bench");
	struct hd_cert *all = NULL, *shown = NULL;
	struct hd_err err;
	double *t = calloc((size_t)keys, sizeof(*t)), t0;
	size_t nall = 0, n, j, kept = 0;
	char typed[80];
	int i, rc = 1;

	if (s == NULL || t == NULL || hd_certs(s, &all, &nall, &err) == -1 ||
	    nall == 0 || (shown = calloc(nall, sizeof(*shown))) == NULL)
		goto out;
	for (i = 0; i < keys; i++) {
		struct hd_cert_filter f = { NULL, NULL, NULL, -1 };

		keystroke(all, nall, i, typed, sizeof(typed));
		if (i % 3 == 2)
			f.subject = typed;
		else
			f.sha1 = typed;
		t0 = now_ms();
		memcpy(shown, all, nall * sizeof(*all));
		for (j = 0; j < nall; j++)
			shown[j].der = NULL;
		n = nall;
		if (hd_certs_filter(shown, &n, &f, &err) == -1)
			goto out;
		t[i] = now_ms() - t0;
		kept += n;
	}
	qsort(t, (size_t)keys, sizeof(*t), cmp_double);
	printf("%zu %.4f %.4f %zu\n", nall, t[keys / 2], t[keys - 1], kept);
	rc = 0;
out:
	free(t);
	free(shown);
	hd_certs_free(all, nall);
	hd_close(s);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[2], "fill") == 0)
		return fill(argv[1], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[2], "filter") == 0 && atoi(argv[3]) > 0)
		return filter(argv[1], atoi(argv[3]));
	fprintf(stderr, "usage: bench_certs MODULE fill N | filter KEYS\n");
	return 2;
}
