/*
 * PE fixtures shared by test_pe.c, test_pe_hash.c and test_pe_write.c:
 * an EXE and a DLL built at run time with the MinGW-w64 compilers (PE32
 * and PE32+), one with data appended, in a temp dir of their own; and
 * osslsigncode with a throwaway key as the independent reference.
 */
#ifndef HD_TESTLIB_PE_H
#define HD_TESTLIB_PE_H

#include <stddef.h>

#include "pe.h"
#include "testlib.h"

struct tl_pe {
	int ready;		/* compilers, osslsigncode and openssl ran */
	char why[256];		/* why not */
	char exe64[600];	/* PE32+ EXE with its symbol table */
	char exe32[600];	/* PE32 EXE, stripped */
	char dll64[600];	/* PE32+ DLL, stripped */
	char tail[600];		/* exe32 with 1 MiB + 13 bytes appended */
	char key[600], cert[600];	/* EC P-256, self-signed */
};

extern struct tl_pe TP;

/* cmocka group fixtures: build the files once, remove them at the end. */
int tl_pe_setup(void **state);
int tl_pe_teardown(void **state);

/* Skip a test the fixtures could not be built for, saying why. */
#define TL_NEED_PE() do { \
	if (!TP.ready) { \
		print_message("skipped: %s\n", TP.why); \
		skip(); \
	} \
} while (0)

/* dir/name in the fixtures' dir; the last 32 results stay valid. */
const char *tl_pe_path(const char *name);
/* A shell command, output to the dir's log; its exit status. */
int tl_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned char *tl_slurp(const char *path, size_t *n, size_t extra);
void tl_spit(const char *path, const void *b, size_t n);
int tl_same_file(const char *a, const char *b);

/* osslsigncode: sign, the DER it extracts, the digest inside, verify. */
void tl_ossl_sign(const char *in, const char *out, const char *alg);
unsigned char *tl_ossl_sig(const char *signed_file, size_t *n);
size_t tl_ossl_digest(const char *signed_file, unsigned char *out,
    size_t max);
int tl_ossl_verify(const char *file, char *text, size_t len);

/* hd_pe_open + hd_pe_digest, failing the test on an error. */
void tl_pe_digest(const char *path, const EVP_MD *md,
    struct hd_pe_digest *dg);

#endif
