/*
 * make bench, part "cms" (run by tests/bench/cms.sh): detached CMS
 * signing with a key on a throwaway SoftHSM2 token, against `openssl cms
 * -sign` with a software key of the same type on the same input.
 *
 *   1 GiB:  wall time and peak memory; target <= 1.2x openssl's time,
 *           < 32 MiB more memory (streaming).
 *   >4 GiB: a sparse file past 2^32 bytes, signed and then checked with
 *           `openssl cms -verify` (too slow for every unit test run).
 *   batch:  200 small files under one hd_sign_open, outputs fsynced one
 *           by one or together (opts.defer), median per-file time.
 *
 *   bench_cms [RUNS]
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "internal.h"
#include "testca.h"
#include "testlib.h"

static struct {
	struct tl_env env;
	struct hd_session *s;
	struct tc_ca root;
	struct hd_key key;
	unsigned char *der;
	size_t len;
	char ca[700], leaf[700], softkey[700], softcert[700];
	char big[700];		/* on tmpfs if there is one */
} b;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long
hwm_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int
cmp_double(const void *a, const void *c)
{
	double x = *(const double *)a, y = *(const double *)c;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void
die(const char *what, const struct hd_err *err)
{
	fprintf(stderr, "bench_cms: %s: %s\n", what, err ? err->msg : "");
	exit(2);
}

static void
setup(void)
{
	static struct hd_profile p;
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_err err;
	struct hd_csr csr;
	char path[4096];
	const char *top = getenv("HSMDESK_TOP");
	EVP_PKEY *soft;
	X509 *x;
	FILE *f;

	if (tl_env_new(&b.env) == -1 || tl_init_token(tl_softhsm(),
	    "bench") == -1 || tc_ca_new(&b.root, "bench root") == -1)
		die("set-up", NULL);
	snprintf(path, sizeof(path), "%s/profiles/codesign-ecdsa-p256.yaml",
	    top ? top : ".");
	if ((b.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(b.s, "bench", &err) == -1 ||
	    hd_login(b.s, pin, &err) == -1 ||
	    hd_profile_load(&p, path, &err) == -1 ||
	    hd_profile_set_subject(&p, "CN=Bench Signer,O=Contoso Ltd,"
	    "L=Seattle,ST=Washington,C=US", &err) == -1 ||
	    hd_keygen(b.s, &p, "bench", NULL, NULL, &b.key, &err) == -1 ||
	    hd_csr_make(b.s, &p, &b.key, &csr, &err) == -1)
		die("token", &err);
	hd_pin_free(pin);
	x = tc_issue_csr(&b.root, csr.der, csr.len, NULL);
	b.der = tc_der(x, &b.len);
	hd_csr_free(&csr);
	snprintf(b.ca, sizeof(b.ca), "%s/root.pem", b.env.dir);
	snprintf(b.softkey, sizeof(b.softkey), "%s/soft.key", b.env.dir);
	snprintf(b.softcert, sizeof(b.softcert), "%s/soft.pem", b.env.dir);
	tc_write_pem(b.ca, b.root.cert);
	X509_free(x);
	/* openssl's side: a software P-256 key from the same root */
	soft = EVP_EC_gen("P-256");
	x = tc_issue_key(&b.root, soft, NULL);
	tc_write_pem(b.softcert, x);
	if ((f = fopen(b.softkey, "w")) == NULL ||
	    !PEM_write_PrivateKey(f, soft, NULL, NULL, 0, NULL, NULL))
		die("soft key", NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(soft);
}

static void
teardown(void)
{
	OPENSSL_free(b.der);
	tc_ca_free(&b.root);
	hd_close(b.s);
	tl_env_free(&b.env);
}

/* A sparse file of size bytes, on tmpfs when there is one: a hole there
 * reads at memory speed, so the hashing is what is measured. */
static void
sparse(uint64_t size)
{
	struct statfs sf;
	int fd;

	if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC)
		snprintf(b.big, sizeof(b.big), "/dev/shm/hsmdesk-bench.XXXXXX");
	else
		snprintf(b.big, sizeof(b.big), "%s/big.XXXXXX", b.env.dir);
	if ((fd = mkstemp(b.big)) == -1 || pwrite(fd, "head", 4, 0) != 4 ||
	    pwrite(fd, "tail", 4, (off_t)size - 4) != 4)
		die("sparse file", NULL);
	close(fd);
}

static double
sign_one(const char *in, const char *out, const struct hd_sign_opts *o)
{
	struct hd_sign_result res;
	struct hd_sign *sg;
	struct hd_err err;
	double t0 = now();

	if (hd_sign_open(b.s, &b.key, b.der, b.len, NULL, 0, o, &sg,
	    &err) == -1 || hd_sign_file(sg, in, out, NULL, NULL, &res,
	    &err) == -1)
		die("sign", &err);
	hd_sign_close(sg);
	return now() - t0;
}

static double
openssl_sign(const char *in, const char *out)
{
	const char *argv[] = { "openssl", "cms", "-sign", "-binary", "-md",
	    "sha256", "-in", in, "-signer", b.softcert, "-inkey", b.softkey,
	    "-outform", "DER", "-out", out, NULL };
	char msg[4096];
	double t0 = now();

	if (tc_run(argv, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "bench_cms: openssl cms -sign: %s\n", msg);
		exit(2);
	}
	return now() - t0;
}

static int
bench_1gib(int runs)
{
	struct hd_sign_opts o = { .replace = 1 };
	double hd[16], os[16], h, s;
	char out[800];
	long rss;
	int i;

	sparse(1ULL << 30);
	snprintf(out, sizeof(out), "%s/big.p7s", b.env.dir);
	rss = hwm_kib();
	for (i = 0; i < runs; i++) {
		hd[i] = sign_one(b.big, out, &o);
		os[i] = openssl_sign(b.big, out);
	}
	rss = hwm_kib() - rss;
	unlink(b.big);
	h = median(hd, runs);
	s = median(os, runs);
	printf("%-34s %9.3f s %9.3f s %6.2fx   peak +%ld KiB\n",
	    "1 GiB, EC P-256, sha256", h, s, h / s, rss);
	if (h > 1.2 * s || rss > 32 * 1024) {
		printf("  target missed: <= 1.2x openssl cms, < 32 MiB\n");
		return 1;
	}
	return 0;
}

static int
bench_4gib(void)
{
	uint64_t size = (4ULL << 30) + (1ULL << 20) + 3;
	struct hd_sign_opts o = { .replace = 1 };
	char out[800], msg[4096];
	double t, v;
	int rc;

	sparse(size);
	snprintf(out, sizeof(out), "%s/huge.p7s", b.env.dir);
	t = sign_one(b.big, out, &o);
	v = now();
	rc = tc_openssl_verify(b.big, out, b.ca, msg, sizeof(msg));
	v = now() - v;
	unlink(b.big);
	printf("%-34s %9.3f s %9.3f s (openssl cms -verify: %s)\n",
	    "4 GiB + 1 MiB + 3, sparse", t, v, rc == 0 ? "ok" : "FAILED");
	if (rc != 0)
		printf("  %s\n", msg);
	return rc != 0;
}

/* n small files, one hd_sign_open; seconds per file, and the token's
 * share in *token. */
static double
batch(int n, int defer, double *token)
{
	struct hd_sign_opts o = { .replace = 1, .defer = defer };
	struct hd_sign_result res;
	struct hd_sign *sg;
	struct hd_err err;
	char in[800];
	uint64_t g0, s0, s1;
	double t0;
	int i;

	hd_token_times(b.s, &g0, &s0);
	t0 = now();
	if (hd_sign_open(b.s, &b.key, b.der, b.len, NULL, 0, &o, &sg,
	    &err) == -1)
		die("open", &err);
	for (i = 0; i < n; i++) {
		snprintf(in, sizeof(in), "%s/batch/%03d.dll", b.env.dir, i);
		if (hd_sign_file(sg, in, NULL, NULL, NULL, &res, &err) == -1)
			die("batch", &err);
	}
	if (hd_sign_commit(sg, &err) == -1)
		die("commit", &err);
	hd_sign_close(sg);
	t0 = now() - t0;
	hd_token_times(b.s, &g0, &s1);
	if (token != NULL)
		*token = (double)(s1 - s0) / 1e9 / n;
	return t0 / n;
}

static void
bench_batch(int runs)
{
	double one[16], all[16], tok[16], dummy;
	char path[800], data[4096];
	int i, n = 200;

	snprintf(path, sizeof(path), "%s/batch", b.env.dir);
	mkdir(path, 0700);
	memset(data, 'x', sizeof(data));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/batch/%03d.dll", b.env.dir, i);
		tc_write_file(path, data, sizeof(data));
	}
	batch(n, 0, &dummy);	/* warm-up */
	for (i = 0; i < runs; i++) {
		one[i] = batch(n, 0, &tok[i]);
		all[i] = batch(n, 1, &dummy);
	}
	printf("%-34s %9.2f ms %8.2f ms (one by one, deferred; token "
	    "%.2f ms)\n", "200 x 4 KiB, per file", median(one, runs) * 1e3,
	    median(all, runs) * 1e3, median(tok, runs) * 1e3);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5, rc = 0;

	if (runs < 1 || runs > 16)
		runs = 5;
	setup();
	printf("cms: detached CMS signing, median of %d runs, SoftHSM2\n",
	    runs);
	printf("%-34s %11s %11s %7s\n", "", "hsmdesk", "openssl", "ratio");
	rc |= bench_1gib(runs);
	rc |= bench_4gib();
	bench_batch(runs);
	teardown();
	if (rc == 0)
		printf("cms: targets met (1 GiB <= 1.2x openssl cms, flat "
		    "memory, >4 GiB verified by openssl)\n");
	return rc;
}
