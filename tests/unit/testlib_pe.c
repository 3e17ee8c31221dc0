/*
 * PE fixtures for the unit tests of core/pe*.c (testlib_pe.h): files
 * built with the MinGW-w64 compilers in the test's temp dir, and
 * osslsigncode with a throwaway key as the independent reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib_pe.h"

struct tl_pe TP;
static struct tl_env *tl_pe_env;
static const char *tl_pe_dir = "";

/* dir/name; the last 32 results stay valid, more than a test holds. */
const char *
tl_pe_path(const char *name)
{
	static char buf[32][700];
	static int i;

	i = (i + 1) % 32;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tl_pe_dir, name);
	return buf[i];
}

/* Run a shell command, output to the dir's log; its exit status. */
int __attribute__((format(printf, 1, 2)))
tl_run(const char *fmt, ...)
{
	char cmd[4096], full[4800];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "(%s) >>'%s/log' 2>&1", cmd, tl_pe_dir);
	rc = system(full);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

unsigned char *
tl_slurp(const char *path, size_t *n, size_t extra)
{
	struct stat st;
	unsigned char *b;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	*n = (size_t)st.st_size;
	b = calloc(1, *n + extra + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, *n, f), *n);
	fclose(f);
	return b;
}

void
tl_spit(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

int
tl_same_file(const char *a, const char *b)
{
	size_t na, nb;
	unsigned char *x = tl_slurp(a, &na, 0), *y = tl_slurp(b, &nb, 0);
	int same = na == nb && memcmp(x, y, na) == 0;

	free(x);
	free(y);
	return same;
}

static const char hello_c[] =
    "#include <stdio.h>\n"
    "int main(void) { puts(\"hello from hsmdesk\"); return 0; }\n";
static const char dll_c[] =
    "__declspec(dllexport) int hd_answer(void) { return 42; }\n";

static int
have(const char *tool)
{
	return tl_run("command -v %s", tool) == 0;
}

/* exe32 and 1 MiB + 13 bytes: more than one read buffer, odd length. */
static int
make_tail(void)
{
	size_t n, i, extra = 1024 * 1024 + 13;
	unsigned char *b = tl_slurp(TP.exe32, &n, extra);

	for (i = 0; i < extra; i++)
		b[n + i] = (unsigned char)(i * 7 + 1);
	tl_spit(TP.tail, b, n + extra);
	free(b);
	return 0;
}

static int
build_fixtures(void)
{
	const char *tools[] = { "x86_64-w64-mingw32-gcc",
	    "i686-w64-mingw32-gcc", "osslsigncode", "openssl" };
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!have(tools[i])) {
			snprintf(TP.why, sizeof(TP.why), "%s is not installed "
			    "(make deps installs it)", tools[i]);
			return -1;
		}
	snprintf(TP.why, sizeof(TP.why), "building the fixtures failed; see "
	    "the log in the test's temp dir");
	if (tl_write(tl_pe_env, "hello.c", hello_c) == NULL ||
	    tl_write(tl_pe_env, "dll.c", dll_c) == NULL)
		return -1;
	snprintf(TP.exe64, sizeof(TP.exe64), "%s", tl_pe_path("hello64.exe"));
	snprintf(TP.exe32, sizeof(TP.exe32), "%s", tl_pe_path("hello32.exe"));
	snprintf(TP.dll64, sizeof(TP.dll64), "%s", tl_pe_path("answer64.dll"));
	snprintf(TP.tail, sizeof(TP.tail), "%s", tl_pe_path("tail32.exe"));
	snprintf(TP.key, sizeof(TP.key), "%s", tl_pe_path("key.pem"));
	snprintf(TP.cert, sizeof(TP.cert), "%s", tl_pe_path("cert.pem"));
	if (tl_run("x86_64-w64-mingw32-gcc -O2 -o '%s' '%s'", TP.exe64,
	    tl_pe_path("hello.c")) ||
	    tl_run("i686-w64-mingw32-gcc -O2 -s -o '%s' '%s'", TP.exe32,
	    tl_pe_path("hello.c")) ||
	    tl_run("x86_64-w64-mingw32-gcc -O2 -s -shared -o '%s' '%s'",
	    TP.dll64, tl_pe_path("dll.c")))
		return -1;
	if (tl_run("openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -subj /CN=hsmdesk-test -days 2 "
	    "-addext extendedKeyUsage=codeSigning -keyout '%s' -out '%s'",
	    TP.key, TP.cert))
		return -1;
	return make_tail();
}

void
tl_ossl_sign(const char *in, const char *out, const char *alg)
{
	unlink(out);
	assert_int_equal(tl_run("osslsigncode sign -certs '%s' -key '%s' -h %s "
	    "-in '%s' -out '%s'", TP.cert, TP.key, alg, in, out), 0);
}

/* The signature DER osslsigncode extracts from a signed file. */
unsigned char *
tl_ossl_sig(const char *signed_file, size_t *n)
{
	const char *der = tl_pe_path("extracted.der");

	unlink(der);
	assert_int_equal(tl_run("osslsigncode extract-signature -in '%s' "
	    "-out '%s'", signed_file, der), 0);
	return tl_slurp(der, n, 0);
}

/*
 * The digest osslsigncode put in a signed file: the first OCTET STRING
 * of the PKCS#7 (SpcIndirectDataContent's DigestInfo), as openssl
 * asn1parse prints it.
 */
size_t
tl_ossl_digest(const char *signed_file, unsigned char *out, size_t max)
{
	const char *txt = tl_pe_path("asn1.txt");
	size_t n = 0, len;
	unsigned char *t;
	char *hex, *end;

	free(tl_ossl_sig(signed_file, &len));
	unlink(txt);
	assert_int_equal(tl_run("openssl asn1parse -inform DER -in '%s' > '%s'",
	    tl_pe_path("extracted.der"), txt), 0);
	t = tl_slurp(txt, &len, 0);
	hex = strstr((char *)t, "OCTET STRING");
	assert_non_null(hex);
	hex = strstr(hex, "[HEX DUMP]:");
	assert_non_null(hex);
	hex += strlen("[HEX DUMP]:");
	if ((end = strchr(hex, '\n')) != NULL)
		*end = '\0';
	assert_int_equal(hd_hex_decode(hex, out, max, &n), 0);
	free(t);
	return n;
}

/* osslsigncode verify's output, and whether it succeeded. */
int
tl_ossl_verify(const char *file, char *text, size_t len)
{
	const char *txt = tl_pe_path("verify.txt");
	unsigned char *t;
	size_t n;
	int rc;

	unlink(txt);
	rc = tl_run("osslsigncode verify -CAfile '%s' -in '%s' > '%s' 2>&1",
	    TP.cert, file, txt);
	t = tl_slurp(txt, &n, 0);
	snprintf(text, len, "%s", (char *)t);
	free(t);
	if (rc != 0)
		print_message("osslsigncode verify %s:\n%s\n", file, text);
	return rc;
}

void
tl_pe_digest(const char *path, const EVP_MD *md, struct hd_pe_digest *dg)
{
	struct hd_pe pe;
	struct hd_err err;

	if (hd_pe_open(&pe, path, &err) == -1)
		fail_msg("%s", err.msg);
	assert_int_equal(hd_pe_digest(&pe, md, dg, NULL, NULL, &err), 0);
	hd_pe_close(&pe);
}


int
tl_pe_setup(void **state)
{
	static struct tl_env env;

	(void)state;
	if (tl_env_new(&env) == -1)
		return -1;
	tl_pe_env = &env;
	tl_pe_dir = env.dir;
	TP.ready = build_fixtures() == 0;
	return 0;
}

int
tl_pe_teardown(void **state)
{
	(void)state;
	tl_env_free(tl_pe_env);
	tl_pe_dir = "";
	return 0;
}
