/*
 * Signing fixtures shared by test_sign_pe.c and test_verify_pe.c, on top
 * of testlib_pe's PE files and temp dir: a throwaway SoftHSM2 token
 * logged in, an RSA and an EC key made on it by hd_keygen from the
 * shipped code signing profiles, their CSRs by hd_csr_make, and a test
 * CA made with the openssl command (root -> intermediate -> leaf from
 * each CSR; no CRL or AIA URLs) that issues their certificates.
 */
#ifndef HD_TESTLIB_SIGN_H
#define HD_TESTLIB_SIGN_H

#include "testlib_pe.h"

struct tl_signer {
	struct hd_key key;
	unsigned char *der;	/* the leaf certificate */
	size_t len;
	char sha1[41];		/* its thumbprint, as openssl x509 prints it */
	char cn[64];
};

struct tl_sign {
	int ready;
	char why[256];
	struct hd_session *s;		/* logged in */
	struct tl_signer rsa, ec;
	struct hd_der inter;		/* the intermediate CA: the chain */
	struct hd_der tls;		/* the RSA key's, for TLS servers only */
	char root[700];			/* the root CA, PEM: the CA file */
	char other_root[700];		/* a CA that issued none of them */
};

extern struct tl_sign TS;

int tl_sign_setup(void **state);
int tl_sign_teardown(void **state);

#define TL_NEED_SIGN() do { \
	TL_NEED_PE(); \
	if (!TS.ready) { \
		print_message("skipped: %s\n", TS.why); \
		skip(); \
	} \
} while (0)

/* A copy of src at name in the fixtures' dir, mode 0644; its path. */
const char *tl_copy(const char *src, const char *name);
/* osslsigncode verify -CAfile ca -ignore-cdp: exit status and output. */
int tl_ossl_verify_ca(const char *file, const char *ca, char *text,
    size_t len);
/* The SHA-1 thumbprint openssl x509 -fingerprint prints, colons gone;
 * form is PEM or DER. */
void tl_thumbprint(const char *path, const char *form, char out[41]);
/* Files in dir, "." and ".." not counted. */
int tl_count_entries(const char *dir);

#endif
