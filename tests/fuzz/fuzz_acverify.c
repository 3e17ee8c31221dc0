/*
 * libFuzzer target for core/verify_pe.c: the input is a PE file (with or
 * without a certificate table holding an Authenticode signature), verified
 * against a fixed trusted root through its /proc/self/fd path (a memfd).
 * Promises:
 *   0: no report (not signed) or up to 64 (the primary signature and
 *      the nested ones), in order, each with a state of enum
 *      hd_sig_state and its words;
 *   -1: no reports and a message;
 *   OpenSSL's error queue is left empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>

#include "hsmdesk.h"

/* A PEM certificate no fuzzed signature chains to: the chain check runs
 * on a store that is never empty. */
static const char root[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgDCCASWgAwIBAgIURjqedlvSS5PqM7zp2uCuNX1LhOowCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJRnV6eiBSb290MCAXDTI2MTEyMzE1NDQ1OVoYDzIxMjYxMDMw\n"
    "MTU0NDU5WjAUMRIwEAYDVQQDDAlGdXp6IFJvb3QwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAAQr+ZDpBccNqqOIJOeXxVibJJ70i88k0GNi67qcNNngl3DDYPbNKFxu\n"
    "qbLzF9sbH854LyENHfA4aXwS26E7zua4o1MwUTAdBgNVHQ4EFgQUsJEB4J+keebH\n"
    "IIG2DlrriSnJsRQwHwYDVR0jBBgwFoAUsJEB4J+keebHIIG2DlrriSnJsRQwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAtIxcou/XcLReUTip6Pn0\n"
    "TkZXeY5DXAWDF6KzEVf4+scCIQCWEIqxUqQ4snvfBDgvF1LuVNV7CLJv564WZsD/\n"
    "HPS6Eg==\n"
    "-----END CERTIFICATE-----\n";

static char ca[64];

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	struct hd_sig_report *sigs = NULL;
	struct hd_err err;
	char path[64];
	size_t n = 0, i;
	int fd, rc;

	if (ca[0] == '\0') {
		int cfd = memfd_create("root.pem", 0);

		if (cfd == -1 || write(cfd, root, sizeof(root) - 1) !=
		    (ssize_t)(sizeof(root) - 1))
			abort();
		snprintf(ca, sizeof(ca), "/proc/self/fd/%d", cfd);
	}
	if ((fd = memfd_create("fuzz.exe", 0)) == -1)
		abort();
	if (len > 0 && write(fd, in, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = hd_verify_pe(path, ca, &sigs, &n, NULL, NULL, &err);
	if (rc == 0) {
		if (n > 64 || (n > 0 && sigs == NULL))
			abort();
		for (i = 0; i < n; i++)
			if (sigs[i].index != i ||
			    (int)sigs[i].state < HD_SIG_OK ||
			    sigs[i].state > HD_SIG_UNTRUSTED ||
			    sigs[i].result[0] == '\0')
				abort();
	} else if (rc != -1 || err.msg[0] == '\0') {
		abort();
	}
	if (ERR_peek_error() != 0) {
		ERR_print_errors_fp(stderr);
		abort();
	}
	free(sigs);
	close(fd);
	return 0;
}
