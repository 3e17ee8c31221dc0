/*
 * core/cms_sign.c: detached CMS signatures made with keys on a throwaway
 * SoftHSM2 token, certified by a test CA made here.  Every signature is
 * checked with `openssl cms -verify` and with hd_verify_file; failures
 * (cancel, a file changing, an unusable certificate) must leave nothing
 * behind and an existing signature unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "cms_int.h"
#include "internal.h"
#include "testca.h"
#include "testlib.h"

struct signer {
	struct hd_key key;
	X509 *cert;
	unsigned char *der;
	size_t len;
};

static struct fx {
	struct tl_env env;
	struct hd_session *s;
	struct tc_ca root;
	char ca[700];		/* root.pem */
	char dir[700];		/* where the files to sign go */
	struct signer rsa, ec;
} fx;

static const char *
fpath(const char *name)
{
	static char buf[4][1024];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx.dir, name);
	return buf[i];
}

static void
make_key(const char *profile, const char *label, struct signer *g)
{
	static struct hd_profile p;
	struct hd_err err;
	struct hd_csr csr;
	char path[4096];
	const char *top = getenv("HSMDESK_TOP");

	snprintf(path, sizeof(path), "%s/profiles/%s.yaml", top ? top : ".",
	    profile);
	if (hd_profile_load(&p, path, &err) == -1 ||
	    hd_profile_set_subject(&p, "CN=hsmdesk CMS Test Signer,"
	    "O=Contoso Ltd,L=Seattle,ST=Washington,C=US", &err) == -1 ||
	    hd_keygen(fx.s, &p, label, NULL, NULL, &g->key, &err) == -1 ||
	    hd_csr_make(fx.s, &p, &g->key, &csr, &err) == -1)
		fail_msg("%s: %s", profile, err.msg);
	g->cert = tc_issue_csr(&fx.root, csr.der, csr.len, NULL);
	assert_non_null(g->cert);
	g->der = tc_der(g->cert, &g->len);
	hd_csr_free(&csr);
}

static int
setup(void **state)
{
	struct hd_err err;
	struct hd_pin *pin;

	(void)state;
	if (tl_env_new(&fx.env) == -1 ||
	    tl_init_token(tl_softhsm(), "cms") == -1)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "%s/files", fx.env.dir);
	snprintf(fx.ca, sizeof(fx.ca), "%s/root.pem", fx.env.dir);
	mkdir(fx.dir, 0700);
	pin = tl_pin(TL_PIN);
	if ((fx.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(fx.s, "cms", &err) == -1 ||
	    hd_login(fx.s, pin, &err) == -1) {
		fprintf(stderr, "setup: %s\n", err.msg);
		hd_pin_free(pin);
		return -1;
	}
	hd_pin_free(pin);
	if (tc_ca_new(&fx.root, "hsmdesk Test Root") == -1 ||
	    tc_write_pem(fx.ca, fx.root.cert) == -1)
		return -1;
	make_key("codesign-rsa2048", "rsa", &fx.rsa);
	make_key("codesign-ecdsa-p256", "ec", &fx.ec);
	return 0;
}

static void
signer_free(struct signer *g)
{
	X509_free(g->cert);
	OPENSSL_free(g->der);
}

static int
teardown(void **state)
{
	(void)state;
	signer_free(&fx.rsa);
	signer_free(&fx.ec);
	tc_ca_free(&fx.root);
	hd_close(fx.s);
	tl_env_free(&fx.env);
	return 0;
}

/* Pseudo-random content, the same for the same seed. */
static void
make_file(const char *path, size_t size, unsigned seed)
{
	unsigned char *p = malloc(size ? size : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < size; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	assert_int_equal(tc_write_file(path, p, size), 0);
	free(p);
}

static void
file_digest(const char *path, const char *md, char *hex, size_t len)
{
	unsigned char *p, d[EVP_MAX_MD_SIZE];
	unsigned int n;
	size_t size;

	p = tc_read_file(path, &size);
	assert_non_null(p);
	assert_int_equal(EVP_Digest(p, size, d, &n, EVP_get_digestbyname(md),
	    NULL), 1);
	hd_hex(d, n, hex, len);
	free(p);
}

static struct hd_sign *
open_signer(const struct signer *g, const struct hd_sign_opts *o)
{
	struct hd_sign *sg = NULL;
	struct hd_err err;

	if (hd_sign_open(fx.s, &g->key, g->der, g->len, NULL, 0, o, &sg,
	    &err) == -1)
		fail_msg("hd_sign_open: %s (%s)", err.msg, err.ossl);
	return sg;
}

/* The signature verifies with openssl and with hd_verify_file. */
static void
assert_verifies(const char *data, const char *sig, const char *ca,
    struct hd_verify_result *vr)
{
	struct hd_verify_opts vo = { .cafile = ca };
	struct hd_verify_result local;
	struct hd_err err;
	char out[4096];

	if (tc_openssl_verify(data, sig, ca, out, sizeof(out)) != 0)
		fail_msg("openssl cms -verify %s: %s", sig, out);
	assert_non_null(strstr(out, "Verification successful"));
	if (hd_verify_file(data, sig, &vo, vr ? vr : &local, &err) != 0)
		fail_msg("hd_verify_file %s: %s", sig, err.msg);
}

/* Sign data with g and opts into data.p7s; check both verifiers. */
static void
sign_and_check(const struct signer *g, const struct hd_sign_opts *o,
    const char *data, const char *want_alg)
{
	struct hd_sign *sg = open_signer(g, o);
	struct hd_sign_result res;
	struct hd_verify_result vr;
	struct hd_err err;
	char hex[129];

	if (hd_sign_file(sg, data, NULL, NULL, NULL, &res, &err) == -1)
		fail_msg("hd_sign_file %s: %s (%s)", data, err.msg, err.ossl);
	hd_sign_close(sg);
	assert_verifies(data, res.out, fx.ca, &vr);
	assert_string_equal(vr.alg, want_alg);
	assert_string_equal(vr.md, o->md ? o->md : "sha256");
	file_digest(data, vr.md, hex, sizeof(hex));
	assert_string_equal(res.digest, hex);
	assert_true(res.sig_len > 300);
}

static void
test_rsa_pkcs1_each_digest(void **state)
{
	static const char *mds[] = { "sha256", "sha384", "sha512" };
	struct hd_sign_opts o = { .replace = 1 };
	size_t i;

	(void)state;
	make_file(fpath("rsa.bin"), 5000, 1);
	for (i = 0; i < 3; i++) {
		o.md = mds[i];
		sign_and_check(&fx.rsa, &o, fpath("rsa.bin"), "RSA PKCS#1 v1.5");
	}
}

static void
test_rsa_pss_each_digest_through_ckm_rsa_pkcs_pss(void **state)
{
	static const char *mds[] = { "sha256", "sha384", "sha512" };
	struct hd_sign_opts o = { .pss = 1, .replace = 1 };
	struct hd_sign_info info;
	struct hd_sign *sg;
	size_t i;

	(void)state;
	sg = open_signer(&fx.rsa, &o);
	hd_sign_info(sg, &info);
	assert_string_equal(info.mechanism, "CKM_RSA_PKCS_PSS");
	assert_string_equal(info.alg, "RSA-PSS");
	hd_sign_close(sg);
	make_file(fpath("pss.bin"), 7000, 2);
	for (i = 0; i < 3; i++) {
		o.md = mds[i];
		sign_and_check(&fx.rsa, &o, fpath("pss.bin"), "RSA-PSS");
	}
}

static void
test_ecdsa_p256_each_digest(void **state)
{
	static const char *mds[] = { "sha256", "sha384", "sha512" };
	struct hd_sign_opts o = { .replace = 1 };
	size_t i;

	(void)state;
	make_file(fpath("ec.bin"), 3000, 3);
	for (i = 0; i < 3; i++) {
		o.md = mds[i];
		sign_and_check(&fx.ec, &o, fpath("ec.bin"), "ECDSA");
	}
}

static void
test_pss_refused_for_ec_key(void **state)
{
	struct hd_sign_opts o = { .pss = 1 };
	struct hd_sign *sg = NULL;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key, fx.ec.der, fx.ec.len,
	    NULL, 0, &o, &sg, &err), -1);
	assert_null(sg);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "RSA-PSS needs an RSA key"));
}

static void
test_unknown_digest_refused(void **state)
{
	struct hd_sign_opts o = { .md = "md5" };
	struct hd_sign *sg = NULL;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key, fx.ec.der, fx.ec.len,
	    NULL, 0, &o, &sg, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "md5"));
}

static void
test_empty_file(void **state)
{
	struct hd_sign_opts o = { 0 };

	(void)state;
	make_file(fpath("empty"), 0, 0);
	sign_and_check(&fx.ec, &o, fpath("empty"), "ECDSA");
}

struct prog {
	uint64_t last, total;
	int calls, monotonic;
	int cancel_at;		/* call number that cancels; 0 never */
	const char *append;	/* a file to append to at call 2 */
	const char *rewrite;	/* a file to rewrite in place at call 2 */
};

static int
progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;
	int fd;

	p->calls++;
	if (p->calls > 1 && done < p->last)
		p->monotonic = 0;
	p->last = done;
	p->total = total;
	if (p->calls == 2 && p->append != NULL) {
		fd = open(p->append, O_WRONLY | O_APPEND);
		assert_true(fd >= 0 && write(fd, "more", 4) == 4);
		close(fd);
	}
	if (p->calls == 2 && p->rewrite != NULL) {
		fd = open(p->rewrite, O_WRONLY);
		assert_true(fd >= 0 && pwrite(fd, "XY", 2, 10) == 2);
		close(fd);
	}
	return p->cancel_at != 0 && p->calls == p->cancel_at;
}

/* More than three of the core's 1 MiB chunks, and not a multiple. */
static void
test_file_larger_than_buffer_with_progress(void **state)
{
	size_t size = 3 * HD_STREAM_CHUNK + 4097;
	struct hd_sign *sg = open_signer(&fx.rsa, NULL);
	struct prog p = { .monotonic = 1 };
	struct hd_sign_result res;
	struct hd_err err;

	(void)state;
	make_file(fpath("big.bin"), size, 4);
	assert_int_equal(hd_sign_file(sg, fpath("big.bin"), NULL, progress, &p,
	    &res, &err), 0);
	hd_sign_close(sg);
	assert_int_equal(p.calls, 1 + 4);	/* the start, four chunks */
	assert_true(p.monotonic);
	assert_true(p.last == size && p.total == size);
	assert_true(res.size == size);
	assert_verifies(fpath("big.bin"), res.out, fx.ca, NULL);
}

static void
test_names_with_spaces_and_non_ascii(void **state)
{
	const char *in = fpath("Rechnung März 2025 – Ünïcødé 署名.pdf");
	const char *out = fpath("signatures ü/Rechnung März.pdf.p7s");
	struct hd_sign *sg = open_signer(&fx.ec, NULL);
	struct hd_sign_result res;
	struct hd_verify_result vr;
	struct hd_err err;
	char dir[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/signatures ü", fx.dir);
	mkdir(dir, 0700);
	make_file(in, 1234, 5);
	assert_int_equal(hd_sign_file(sg, in, NULL, NULL, NULL, &res, &err), 0);
	assert_string_equal(res.out, fpath("Rechnung März 2025 – Ünïcødé "
	    "署名.pdf.p7s"));
	assert_verifies(in, res.out, fx.ca, &vr);
	assert_int_equal(hd_sign_file(sg, in, out, NULL, NULL, &res, &err), 0);
	assert_string_equal(res.out, out);
	assert_verifies(in, out, fx.ca, NULL);
	hd_sign_close(sg);
}

static void
check_batch(int n, const char *prefix)
{
	char name[64], data[1024], sig[1100];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%02d.dll", prefix, i);
		snprintf(data, sizeof(data), "%s", fpath(name));
		snprintf(sig, sizeof(sig), "%s.p7s", data);
		assert_verifies(data, sig, fx.ca, NULL);
	}
}

/* One open, one key lookup, many files. */
static void
test_many_files_one_open(void **state)
{
	struct hd_sign_opts o = { .md = "sha384" };
	struct hd_sign *sg = open_signer(&fx.rsa, &o);
	struct hd_sign_result res;
	struct hd_err err;
	char name[64];
	int i;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "many%02d.dll", i);
		make_file(fpath(name), 100 + 37 * (size_t)i, 100 + i);
		if (hd_sign_file(sg, fpath(name), NULL, NULL, NULL, &res,
		    &err) == -1)
			fail_msg("%s: %s", name, err.msg);
		assert_true(tc_exists(res.out));
	}
	hd_sign_close(sg);
	check_batch(40, "many");
}

/* Deferred: nothing appears before hd_sign_commit, all of it after. */
static void
test_batch_defer_places_on_commit(void **state)
{
	struct hd_sign_opts o = { .defer = 1 };
	struct hd_sign *sg = open_signer(&fx.ec, &o);
	struct hd_sign_result res;
	struct hd_err err;
	char name[64];
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "defer%02d.dll", i);
		make_file(fpath(name), 500, 200 + i);
		assert_int_equal(hd_sign_file(sg, fpath(name), NULL, NULL, NULL,
		    &res, &err), 0);
		assert_false(tc_exists(res.out));
	}
	assert_int_equal(tc_count_prefix(fx.dir, "defer00.dll.p7s."), 1);
	assert_int_equal(hd_sign_commit(sg, &err), 0);
	assert_int_equal(tc_count_prefix(fx.dir, "defer00.dll.p7s."), 0);
	check_batch(20, "defer");

	/* closed without a commit: the pending signature is removed */
	make_file(fpath("uncommitted.dll"), 10, 9);
	assert_int_equal(hd_sign_file(sg, fpath("uncommitted.dll"), NULL, NULL,
	    NULL, &res, &err), 0);
	hd_sign_close(sg);
	assert_int_equal(tc_count_prefix(fx.dir, "uncommitted.dll.p7s"), 0);
}

/* Stops the batch after `after` files (0: never). */
struct files_stop {
	size_t after;
	int calls;
};

static int
files_progress(void *arg, uint64_t done, uint64_t total)
{
	struct files_stop *f = arg;

	assert_true(done <= total);
	f->calls++;
	return f->after != 0 && done >= f->after;
}

/*
 * Many files on three sessions at once: each result in its own slot
 * (a missing file among them fails alone), nothing in place before the
 * commit, which syncs the file system (syncfs: this kernel reports its
 * errors) rather than each file; then every signature verifies.
 */
static void
test_batch_parallel_results_in_order(void **state)
{
	struct hd_sign_opts o = { .defer = 1, .md = "sha256" };
	struct hd_sign *sg = open_signer(&fx.rsa, &o);
	struct hd_sign_item items[31];
	char names[31][64], sig[1100];
	struct files_stop fs = { 0 };
	struct hd_err err;
	size_t i;

	(void)state;
	memset(items, 0, sizeof(items));
	for (i = 0; i < 31; i++) {
		snprintf(names[i], sizeof(names[i]), "par%02zu.dll", i);
		if (i != 17)
			make_file(fpath(names[i]), 300 + 91 * i, 300 + i);
		items[i].in = strdup(fpath(names[i]));
	}
	hd_sign_files(sg, items, 31, 3, files_progress, &fs);
	assert_true(fs.calls >= 31);
	for (i = 0; i < 31; i++) {
		if (i == 17) {
			assert_int_equal(items[i].state, HD_ITEM_FAILED);
			assert_int_equal(items[i].err.code, HD_E_INPUT);
			assert_non_null(strstr(items[i].err.msg, names[i]));
			continue;
		}
		assert_int_equal(items[i].state, HD_ITEM_SIGNED);
		snprintf(sig, sizeof(sig), "%s.p7s", items[i].in);
		assert_string_equal(items[i].res.out, sig);
		assert_false(tc_exists(sig));
	}
	assert_true(sg->nsync > 0);
	assert_int_equal(hd_sign_commit(sg, &err), 0);
	for (i = 0; i < 31; i++) {
		snprintf(sig, sizeof(sig), "%s.p7s", items[i].in);
		if (i != 17)
			assert_verifies(items[i].in, sig, fx.ca, NULL);
		assert_int_equal(tc_count_prefix(fx.dir, names[i]),
		    i == 17 ? 0 : 2);	/* the file and its .p7s */
		free((char *)items[i].in);
	}
	hd_sign_close(sg);
}

/* Stopped by its progress callback: files not finished are left to do
 * and nothing of them is written, on commit or close. */
static void
test_batch_parallel_stop_leaves_nothing(void **state)
{
	struct hd_sign_opts o = { .defer = 1 };
	struct hd_sign *sg = open_signer(&fx.ec, &o);
	struct hd_sign_item items[40];
	char names[40][64];
	struct files_stop fs = { .after = 5 };
	size_t i, signed_ = 0, todo = 0;

	(void)state;
	memset(items, 0, sizeof(items));
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "stop%02zu.dll", i);
		make_file(fpath(names[i]), 2000, 400 + i);
		items[i].in = strdup(fpath(names[i]));
	}
	hd_sign_files(sg, items, 40, 2, files_progress, &fs);
	for (i = 0; i < 40; i++) {
		assert_int_not_equal(items[i].state, HD_ITEM_FAILED);
		signed_ += items[i].state == HD_ITEM_SIGNED;
		todo += items[i].state == HD_ITEM_TODO;
	}
	assert_true(signed_ >= 5 && signed_ < 40);
	assert_int_equal(signed_ + todo, 40);
	hd_sign_close(sg);	/* no commit: the signed ones go too */
	for (i = 0; i < 40; i++) {
		assert_int_equal(tc_count_prefix(fx.dir, names[i]), 1);
		free((char *)items[i].in);
	}
}

/* Ctrl-C in the middle: no output, no temp file, the old one unchanged. */
static void
test_cancel_leaves_nothing(void **state)
{
	struct hd_sign_opts o = { .replace = 1 };
	struct hd_sign *sg = open_signer(&fx.ec, &o);
	struct prog p = { .cancel_at = 3 };
	struct hd_sign_result res;
	struct hd_err err;
	unsigned char *old;
	size_t len;

	(void)state;
	make_file(fpath("cancel.bin"), 4 * HD_STREAM_CHUNK, 6);
	assert_int_equal(hd_sign_file(sg, fpath("cancel.bin"), NULL, progress,
	    &p, &res, &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	assert_int_equal(p.calls, 3);
	assert_int_equal(tc_count_prefix(fx.dir, "cancel.bin.p7s"), 0);

	/* an existing signature stays as it was */
	assert_int_equal(tc_write_file(fpath("cancel.bin.p7s"), "old", 3), 0);
	p.calls = 0;
	assert_int_equal(hd_sign_file(sg, fpath("cancel.bin"), NULL, progress,
	    &p, &res, &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	old = tc_read_file(fpath("cancel.bin.p7s"), &len);
	assert_true(len == 3 && memcmp(old, "old", 3) == 0);
	free(old);
	assert_int_equal(tc_count_prefix(fx.dir, "cancel.bin.p7s"), 1);
	hd_sign_close(sg);
}

static void
test_file_growing_while_signed_fails(void **state)
{
	struct hd_sign *sg = open_signer(&fx.ec, NULL);
	struct prog p = { .append = fpath("grow.bin") };
	struct hd_sign_result res;
	struct hd_err err;

	(void)state;
	make_file(p.append, 3 * HD_STREAM_CHUNK, 7);
	assert_int_equal(hd_sign_file(sg, p.append, NULL, progress, &p, &res,
	    &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "changed while being signed"));
	assert_int_equal(tc_count_prefix(fx.dir, "grow.bin.p7s"), 0);
	hd_sign_close(sg);
}

/* Same size, rewritten in place: told by the mtime. */
static void
test_file_rewritten_in_place_fails(void **state)
{
	struct hd_sign *sg = open_signer(&fx.ec, NULL);
	struct prog p = { .rewrite = fpath("rewrite.bin") };
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct hd_sign_result res;
	struct hd_err err;

	(void)state;
	make_file(p.rewrite, 2 * HD_STREAM_CHUNK, 8);
	assert_int_equal(utimensat(AT_FDCWD, p.rewrite, old, 0), 0);
	assert_int_equal(hd_sign_file(sg, p.rewrite, NULL, progress, &p, &res,
	    &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "changed while being signed"));
	assert_int_equal(tc_count_prefix(fx.dir, "rewrite.bin.p7s"), 0);
	hd_sign_close(sg);
}

static void
test_existing_output_replaced_only_when_allowed(void **state)
{
	struct hd_sign_opts keep = { 0 }, replace = { .replace = 1 };
	struct hd_sign *sg = open_signer(&fx.ec, &keep);
	struct hd_sign_result res;
	struct hd_err err;
	unsigned char *p;
	size_t len;

	(void)state;
	make_file(fpath("exists.bin"), 100, 9);
	assert_int_equal(tc_write_file(fpath("exists.bin.p7s"), "old", 3), 0);
	assert_int_equal(hd_sign_file(sg, fpath("exists.bin"), NULL, NULL,
	    NULL, &res, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "exists already"));
	p = tc_read_file(fpath("exists.bin.p7s"), &len);
	assert_true(len == 3);
	free(p);
	hd_sign_close(sg);

	sg = open_signer(&fx.ec, &replace);
	assert_int_equal(hd_sign_file(sg, fpath("exists.bin"), NULL, NULL,
	    NULL, &res, &err), 0);
	hd_sign_close(sg);
	assert_verifies(fpath("exists.bin"), fpath("exists.bin.p7s"), fx.ca,
	    NULL);
	assert_int_equal(tc_count_prefix(fx.dir, "exists.bin.p7s"), 1);
}

static void
test_refuses_to_overwrite_its_input(void **state)
{
	struct hd_sign_opts o = { .replace = 1 };
	struct hd_sign *sg = open_signer(&fx.ec, &o);
	struct hd_sign_result res;
	struct hd_err err;

	(void)state;
	make_file(fpath("self.bin"), 100, 10);
	assert_int_equal(hd_sign_file(sg, fpath("self.bin"), fpath("self.bin"),
	    NULL, NULL, &res, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	hd_sign_close(sg);
}

/* The output directory cannot be written: refused before any hashing. */
static void
test_missing_output_dir_fails_before_hashing(void **state)
{
	struct hd_sign *sg = open_signer(&fx.ec, NULL);
	struct prog p = { 0 };
	struct hd_sign_result res;
	struct hd_err err;

	(void)state;
	make_file(fpath("nodir.bin"), 100, 11);
	assert_int_equal(hd_sign_file(sg, fpath("nodir.bin"),
	    fpath("no/such/dir/x.p7s"), progress, &p, &res, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_int_equal(p.calls, 0);
	assert_int_equal(hd_sign_file(sg, fpath("missing.bin"), NULL, progress,
	    &p, &res, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_sign_file(sg, fx.dir, NULL, NULL, NULL, &res,
	    &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	hd_sign_close(sg);
}

static void
test_certificate_of_another_key_refused(void **state)
{
	struct hd_sign *sg = NULL;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_sign_open(fx.s, &fx.rsa.key, fx.ec.der, fx.ec.len,
	    NULL, 0, NULL, &sg, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "is not for key 'rsa'"));
	assert_null(sg);
}

static void
test_expired_or_wrong_usage_certificate_refused(void **state)
{
	struct tc_leaf expired = { .from = -7200, .to = -3600 };
	struct tc_leaf enc = { .ku = KU_KEY_ENCIPHERMENT };
	X509 *x = tc_issue_key(&fx.root, X509_get0_pubkey(fx.ec.cert),
	    &expired);
	struct hd_sign *sg = NULL;
	struct hd_err err;
	unsigned char *der;
	size_t len;

	(void)state;
	der = tc_der(x, &len);
	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key, der, len, NULL, 0,
	    NULL, &sg, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "expired on"));
	OPENSSL_free(der);
	X509_free(x);

	x = tc_issue_key(&fx.root, X509_get0_pubkey(fx.ec.cert), &enc);
	der = tc_der(x, &len);
	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key, der, len, NULL, 0,
	    NULL, &sg, &err), -1);
	assert_non_null(strstr(err.msg, "digitalSignature"));
	OPENSSL_free(der);
	X509_free(x);

	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key,
	    (const unsigned char *)"junk", 4, NULL, 0, NULL, &sg, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
}

/* Signer under an intermediate: with the chain in the signature, openssl
 * needs only the root. */
static void
test_chain_is_included(void **state)
{
	struct tc_ca sub;
	struct hd_sign *sg = NULL;
	struct hd_sign_result res;
	struct hd_verify_result vr;
	struct hd_err err;
	unsigned char *der, *chain;
	size_t len, clen;
	char out[4096];
	X509 *leaf;

	(void)state;
	assert_int_equal(tc_ca_sub(&sub, &fx.root, "hsmdesk Test Issuing CA"),
	    0);
	leaf = tc_issue_key(&sub, X509_get0_pubkey(fx.rsa.cert), NULL);
	der = tc_der(leaf, &len);
	chain = tc_der(sub.cert, &clen);
	make_file(fpath("chain.bin"), 999, 12);

	assert_int_equal(hd_sign_open(fx.s, &fx.rsa.key, der, len,
	    (const unsigned char *)"-----BEGIN nothing", 18, NULL, &sg, &err),
	    -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "chain"));

	/* without the chain the root alone is not enough */
	assert_int_equal(hd_sign_open(fx.s, &fx.rsa.key, der, len, NULL, 0,
	    NULL, &sg, &err), 0);
	assert_int_equal(hd_sign_file(sg, fpath("chain.bin"),
	    fpath("nochain.p7s"), NULL, NULL, &res, &err), 0);
	hd_sign_close(sg);
	assert_int_not_equal(tc_openssl_verify(fpath("chain.bin"),
	    fpath("nochain.p7s"), fx.ca, out, sizeof(out)), 0);

	assert_int_equal(hd_sign_open(fx.s, &fx.rsa.key, der, len, chain, clen,
	    NULL, &sg, &err), 0);
	assert_int_equal(hd_sign_file(sg, fpath("chain.bin"), NULL, NULL, NULL,
	    &res, &err), 0);
	hd_sign_close(sg);
	assert_verifies(fpath("chain.bin"), res.out, fx.ca, &vr);
	assert_string_equal(vr.chain, "hsmdesk test signer <- hsmdesk Test "
	    "Issuing CA <- hsmdesk Test Root (trusted)");
	OPENSSL_free(der);
	OPENSSL_free(chain);
	X509_free(leaf);
	tc_ca_free(&sub);
}

static void
test_not_logged_in_refused(void **state)
{
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_sign *sg = NULL;
	struct hd_err err;

	(void)state;
	assert_int_equal(hd_logout(fx.s, &err), 0);
	assert_int_equal(hd_sign_open(fx.s, &fx.ec.key, fx.ec.der, fx.ec.len,
	    NULL, 0, NULL, &sg, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "log in"));
	assert_int_equal(hd_login(fx.s, pin, &err), 0);
	hd_pin_free(pin);
	sg = open_signer(&fx.ec, NULL);		/* usable again */
	hd_sign_close(sg);
}

static long
max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/*
 * A sparse file past 4 GiB: sizes and offsets beyond 32 bits, and memory
 * that stays flat.  One pass (about 3 s of SHA-256 with SHA-NI; set
 * HSMDESK_SKIP_BIG=1 to skip): the messageDigest signed must be the
 * file's SHA-256 as `sha256sum` computed it once for this exact layout
 * ("head" at 0, "tail" at the end, zeros between).  `openssl cms -verify`
 * of such a signature is too slow for every run (three passes in all).
 */
#define HUGE_SIZE ((4ULL << 30) + (1ULL << 20) + 3)
#define HUGE_SHA256 \
	"9dd0ac4dd15988d74db0f05778f274fe3885f8b46678c30724638f9cc8bca322"

/* The big file goes on tmpfs when there is one: reading a hole there
 * costs nothing, on ext4 it costs the kernel ~2 s per GiB here. */
static int
huge_create(char *path, size_t len)
{
	struct statfs sf;
	int fd = -1;

	if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC) {
		snprintf(path, len, "/dev/shm/hsmdesk-unit-huge.XXXXXX");
		fd = mkstemp(path);
	}
	if (fd == -1) {
		snprintf(path, len, "%s", fpath("huge.iso"));
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	}
	return fd;
}

static void
test_file_over_4gib(void **state)
{
	struct hd_sign *sg;
	struct prog p = { .monotonic = 1 };
	struct hd_sign_result res;
	struct hd_err err;
	struct stat st;
	char path[1024];
	long rss;
	int fd, rc;

	(void)state;
	if (getenv("HSMDESK_SKIP_BIG") != NULL)
		skip();
	fd = huge_create(path, sizeof(path));
	assert_true(fd >= 0);
	assert_true(pwrite(fd, "head", 4, 0) == 4);
	/* non-zero bytes past 2^32, so a 32-bit offset would hash wrongly */
	assert_true(pwrite(fd, "tail", 4, (off_t)HUGE_SIZE - 4) == 4);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	if (st.st_blocks * 512 > 64 * 1024 * 1024) {
		unlink(path);
		skip();		/* no sparse files here */
	}
	rss = max_rss_kib();
	sg = open_signer(&fx.ec, NULL);
	rc = hd_sign_file(sg, path, fpath("huge.iso.p7s"), progress, &p, &res,
	    &err);
	hd_sign_close(sg);
	unlink(path);
	if (rc == -1)
		fail_msg("%s", err.msg);
	assert_true(res.size == HUGE_SIZE && p.total == HUGE_SIZE);
	assert_true(p.last == HUGE_SIZE && p.monotonic);
	assert_string_equal(res.digest, HUGE_SHA256);
	/* streaming: the peak grows by about one buffer, not by the file */
	assert_true(max_rss_kib() - rss < 64 * 1024);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_pkcs1_each_digest),
		cmocka_unit_test(test_rsa_pss_each_digest_through_ckm_rsa_pkcs_pss),
		cmocka_unit_test(test_ecdsa_p256_each_digest),
		cmocka_unit_test(test_pss_refused_for_ec_key),
		cmocka_unit_test(test_unknown_digest_refused),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_file_larger_than_buffer_with_progress),
		cmocka_unit_test(test_names_with_spaces_and_non_ascii),
		cmocka_unit_test(test_many_files_one_open),
		cmocka_unit_test(test_batch_defer_places_on_commit),
		cmocka_unit_test(test_cancel_leaves_nothing),
		cmocka_unit_test(test_file_growing_while_signed_fails),
		cmocka_unit_test(test_file_rewritten_in_place_fails),
		cmocka_unit_test(test_existing_output_replaced_only_when_allowed),
		cmocka_unit_test(test_refuses_to_overwrite_its_input),
		cmocka_unit_test(test_missing_output_dir_fails_before_hashing),
		cmocka_unit_test(test_certificate_of_another_key_refused),
		cmocka_unit_test(test_expired_or_wrong_usage_certificate_refused),
		cmocka_unit_test(test_chain_is_included),
		cmocka_unit_test(test_batch_parallel_results_in_order),
		cmocka_unit_test(test_batch_parallel_stop_leaves_nothing),
		cmocka_unit_test(test_not_logged_in_refused),
		cmocka_unit_test(test_file_over_4gib),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
