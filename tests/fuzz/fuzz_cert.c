/*
 * libFuzzer target for core/cert_parse.c (and the pure checks in
 * cert_check.c, and thumb.c).  Every input is a certificate file as
 * accept reads it: PEM, DER or PKCS#7, or anything else.  Promises kept
 * on both paths:
 *   accepted: 1 to HD_BUNDLE_MAX distinct certificates, each one
 *     re-encodes, and a description has 40 + 64 upper-case hex digits;
 *   refused:  no list, HD_E_INPUT (or out of memory) with a message;
 *   always:   OpenSSL's error queue is left empty.
 * The input as a C string also goes to the thumbprint normalizer, whose
 * output is upper-case hex or nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cert_int.h"

static int
hex_upper(const char *s, size_t want)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return want == 0 ? i > 0 : i == want;
}

static void
check_cert(X509 *x)
{
	struct hd_cert c;
	struct hd_check chk;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	if (len <= 0)
		abort();
	OPENSSL_free(der);
	if (hd_cert_describe(x, 1700000000, &c) == 0) {
		if (!hex_upper(c.sha1, 40) || !hex_upper(c.sha256, 64) ||
		    c.der == NULL || c.der_len != (size_t)len ||
		    strlen(c.subject) >= sizeof(c.subject))
			abort();
		hd_check_validity(&c, 1700000000, &chk);
		if (chk.text[0] == '\0')
			abort();
	}
	hd_cert_free(&c);
	hd_check_usage(x, &chk);
	if (chk.text[0] == '\0')
		abort();
}

static void
check_parse(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *sk = NULL;
	struct hd_err err;
	int i, j, n;

	hd_err_clear(&err);
	if (hd_cert_parse(data, size, "fuzz", &sk, &err) == -1) {
		if (sk != NULL || err.msg[0] == '\0' ||
		    (err.code != HD_E_INPUT && err.code != HD_E_NOMEM))
			abort();
		return;
	}
	n = sk_X509_num(sk);
	if (n < 1 || n > HD_BUNDLE_MAX || err.code != HD_OK)
		abort();
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (X509_cmp(sk_X509_value(sk, i),
			    sk_X509_value(sk, j)) == 0)
				abort();
		check_cert(sk_X509_value(sk, i));
	}
	sk_X509_pop_free(sk, X509_free);
}

static void
check_thumb(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[65];
	struct hd_err err;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (hd_thumb_normalize(s, 64, out, sizeof(out), &err) == 0) {
		if (!hex_upper(out, 0) || strlen(out) > 64)
			abort();
	} else if (err.code != HD_E_USAGE || err.msg[0] == '\0') {
		abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	if (ERR_peek_error() != 0)
		abort();
	check_thumb(data, size);
	return 0;
}
