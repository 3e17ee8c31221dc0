/*
 * libFuzzer target for core/cms_verify.c: the input is a detached
 * signature (.p7s, DER or PEM or anything) over a fixed data file, checked
 * against a fixed trusted root.  Promises:
 *   the verdict is one of enum hd_verdict, and 0 is returned exactly
 *     when it is HD_V_GOOD;
 *   a failure comes with a message, and the checks not reached say -1;
 *   OpenSSL's error queue is left empty.
 * The data file and the root (a throwaway EC key's self-signed
 * certificate) are made once, in a private temporary directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hsmdesk.h"

#define DATA "hsmdesk fuzz data\n"

static char dir[256], data[300], sig[300], ca[300];

static void
cleanup(void)
{
	unlink(data);
	unlink(sig);
	unlink(ca);
	rmdir(dir);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

/* A self-signed certificate of a new P-256 key, as the trusted root. */
static void
make_root(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;

	if (k == NULL || x == NULL ||
	    !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"Fuzz Root", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, k) || !X509_sign(x, k, EVP_sha256()) ||
	    (f = fopen(ca, "w")) == NULL)
		abort();
	if (!PEM_write_X509(f, x) || fclose(f) != 0)
		abort();
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
init(void)
{
	const char *t = getenv("TMPDIR");

	if (dir[0] != '\0')
		return;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_cmsverify.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(dir, sizeof(dir), "%s/fuzz_cmsverify.XXXXXX",
		    t ? t : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	snprintf(data, sizeof(data), "%s/data.txt", dir);
	snprintf(sig, sizeof(sig), "%s/data.txt.p7s", dir);
	snprintf(ca, sizeof(ca), "%s/root.pem", dir);
	write_file(data, DATA, sizeof(DATA) - 1);
	make_root();
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	struct hd_verify_opts o = { .cafile = ca };
	struct hd_verify_result r;
	struct hd_err err;
	int rc;

	init();
	write_file(sig, in, len);
	rc = hd_verify_file(data, sig, &o, &r, &err);
	if ((int)r.verdict < 0 || r.verdict >= HD_V__COUNT ||
	    (rc == 0) != (r.verdict == HD_V_GOOD))
		abort();
	if (rc == -1 && err.msg[0] == '\0')
		abort();
	if (r.verdict == HD_V_NOT_CMS && r.signature_ok != -1)
		abort();
	if (ERR_peek_error() != 0) {
		ERR_print_errors_fp(stderr);
		abort();
	}
	return 0;
}
