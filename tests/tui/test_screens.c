/*
 * Screen tests: the TUI is driven by a key script (tui/input.c), rendered
 * headless into an 80x24 (or other) curses screen writing to /dev/null,
 * and dumped as text.  Each dump is compared with tests/tui/expected/
 * NAME.txt; `make update-screens` rewrites them for review.  Random serial
 * numbers and the build path are masked so the files are stable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tui.h"
#include "testca.h"
#include "testlib.h"

struct scase {
	const char *name;
	const char *keys;
	int init;		/* initialize token "prod" first */
	int keypairs;		/* make two key pairs on it */
	const char *faults;	/* through fakep11 */
	int rows, cols;
	int ascii;
	void (*after)(void);	/* checks on the token afterwards */
	const char *absent;	/* must not be on any screen (a PIN) */
	int req;		/* request wizard: run in the test's dir */
	const char *const *files;	/* name, text, ... written there */
	int nocolor;		/* NO_COLOR set */
	int signer;		/* a key with a CA-issued certificate */
	int (*prep)(void);	/* more set-up, in the test's directory */
	int mask_filter;	/* the filter typed is random: masked */
	const char *tsa;	/* config.yaml's tsa: the local test TSA's
				 * behaviour (tests/tsa/tsa_server.c) */
};

static pid_t tsa_pid;
static char tsa_url[128];

static struct tl_env env;

static void
login_works(const char *pin)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(pin);

	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "prod", &err), 0);
	if (hd_login(s, p, &err) != 0)
		fail_msg("login with %s: %s", pin, err.msg);
	hd_pin_free(p);
	hd_close(s);
}

/* The private keys on token "prod" now. */
static size_t
private_keys(void)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(TL_PIN);
	struct hd_key *k = NULL;
	size_t n = 0, i, priv = 0;

	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "prod", &err), 0);
	assert_int_equal(hd_login(s, p, &err), 0);
	assert_int_equal(hd_keys(s, &k, &n, &err), 0);
	for (i = 0; i < n; i++)
		priv += k[i].has_private;
	free(k);
	hd_pin_free(p);
	hd_close(s);
	return priv;
}

static void
no_key_left(void)
{
	if (private_keys() != 0)
		fail_msg("a key pair was left on the token");
}

static void
one_key_left(void)
{
	assert_int_equal(private_keys(), 1);
}

/* The CSR the wizard saved: PEM, its signature good, the subject typed. */
static void
check_csr(const char *path, const char *cn)
{
	FILE *f = fopen(path, "r");
	X509_REQ *req = f ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = req ? X509_REQ_get0_pubkey(req) : NULL;
	char subj[512] = "";

	if (f != NULL)
		fclose(f);
	if (req == NULL)
		fail_msg("%s: no PEM CSR", path);
	X509_NAME_oneline(X509_REQ_get_subject_name(req), subj, sizeof(subj));
	assert_int_equal(X509_REQ_verify(req, pk), 1);
	if (strstr(subj, cn) == NULL)
		fail_msg("%s: subject %s lacks %s", path, subj, cn);
	X509_REQ_free(req);
}

/* The saved CSR is named after the key label, with today's date. */
static void
after_saved(void)
{
	char name[256], rec[300];
	FILE *p = popen("ls codesign-Alice-*.csr", "r");

	assert_non_null(p);
	if (fgets(name, sizeof(name), p) == NULL)
		fail_msg("no codesign-Alice-*.csr was saved");
	pclose(p);
	name[strcspn(name, "\n")] = '\0';
	check_csr(name, "/CN=Alice");
	snprintf(rec, sizeof(rec), "%s.ceremony.txt", name);
	assert_int_equal(access(rec, R_OK), 0);
	one_key_left();
}

static void
after_not_overwritten(void)
{
	FILE *f = fopen("codesign-Alice.csr", "r");
	char buf[64] = "";

	assert_non_null(f);
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	assert_string_equal(buf, "original\n");
	assert_int_not_equal(access("codesign-Alice.csr.ceremony.txt", F_OK),
	    0);
	no_key_left();		/* never saved: deleted when the UI closed */
}

static void
after_overwritten(void)
{
	check_csr("codesign-Alice.csr", "/CN=Alice");
	assert_int_equal(access("codesign-Alice.csr.ceremony.txt", R_OK), 0);
	one_key_left();
}

static void
after_renew(void)
{
	check_csr("signing.csr", "/CN=build.contoso.com");
	assert_int_not_equal(access("signing.csr.ceremony.txt", F_OK), 0);
	assert_int_equal(private_keys(), 2);	/* none made, none lost */
}

/* Delete key pair: "exportable" went, "signing" stayed. */
static void
after_delete(void)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(TL_PIN);
	struct hd_key k;

	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "prod", &err), 0);
	assert_int_equal(hd_login(s, p, &err), 0);
	assert_int_equal(hd_key_find(s, "exportable", NULL, &k, &err), -1);
	assert_int_equal(hd_key_find(s, "signing", NULL, &k, &err), 0);
	hd_pin_free(p);
	hd_close(s);
}

/* Esc and a wrong label delete nothing. */
static void
after_keep(void)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(TL_PIN);
	struct hd_key k;

	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "prod", &err), 0);
	assert_int_equal(hd_login(s, p, &err), 0);
	assert_int_equal(hd_key_find(s, "exportable", NULL, &k, &err), 0);
	assert_int_equal(hd_key_find(s, "signing", NULL, &k, &err), 0);
	hd_pin_free(p);
	hd_close(s);
}

static void p7s_verifies(const char *name);
static void after_signed(void);

/* The local TSA in DIR/tsa, serving mode at tsa_url. */
static int
tsa_start(const char *mode)
{
	const char *b = getenv("HSMDESK_BUILD");
	char bin[512], dir[700], path[800], name[32];
	unsigned port;
	FILE *f;
	int i;

	snprintf(dir, sizeof(dir), "%s/tsa", env.dir);
	snprintf(bin, sizeof(bin), "%s/tests/tsa_server", b ? b : "build-asan");
	if (mkdir(dir, 0700) == -1 || (tsa_pid = fork()) == -1)
		return -1;
	if (tsa_pid == 0) {
		execl(bin, bin, dir, "300", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/ports", dir);
	for (i = 0; i < 200; i++, usleep(25000)) {
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fscanf(f, "%31s %u", name, &port) == 2)
			if (strcmp(name, mode) == 0)
				snprintf(tsa_url, sizeof(tsa_url),
				    "http://127.0.0.1:%u/tsa", port);
		fclose(f);
		return tsa_url[0] ? 0 : -1;
	}
	return -1;
}

/* The timestamp on a.txt.p7s verifies with the test TSA's CA. */
static void
after_stamped(void)
{
	struct hd_verify_opts o = { .cafile = "root.pem",
	    .tsa_cafile = "tsa/ca.pem" };
	struct hd_verify_result r;
	struct hd_err err;

	p7s_verifies("a.txt");
	assert_int_equal(hd_verify_file("a.txt", "a.txt.p7s", &o, &r, &err),
	    0);
	assert_true(r.ts.present);
	if (!r.ts.ok)
		fail_msg("the timestamp does not verify: %s", r.ts.why);
}

/* The audit record of file (its last), NULL if none; *rows to free. */
static const struct hd_audit_row *
record_of(const char *file, struct hd_audit_row **rows, size_t *n)
{
	struct hd_audit_filter f = { .file = file };
	struct hd_err err;
	char path[4096];

	*rows = NULL;
	*n = 0;
	assert_int_equal(hd_audit_default_path(path, sizeof(path), &err), 0);
	if (hd_audit_rows(path, &f, rows, n, &err) == -1)
		fail_msg("audit log %s: %s", path, err.msg);
	return *n > 0 ? &(*rows)[*n - 1] : NULL;
}

/* file's audit record names the TSA and the time of its timestamp. */
static void
record_has_ts(const char *file, const char *ts_time)
{
	struct hd_audit_row *rows;
	size_t n;
	const struct hd_audit_row *r = record_of(file, &rows, &n);

	if (r == NULL)
		fail_msg("%s: no audit record", file);
	if (strcmp(r->tsa, tsa_url) != 0 || strcmp(r->ts_time, ts_time) != 0)
		fail_msg("%s: the audit record has tsa '%s', ts_time '%s'; the "
		    "signature's timestamp is from %s at %s", file, r->tsa,
		    r->ts_time, tsa_url, ts_time);
	hd_audit_rows_free(rows, n);
}

/* a.txt, b.txt (CMS) and s.ps1 (Authenticode): each timestamp verifies
 * with the TSA's CA, and each audit record carries its TSA and time. */
static void
after_stamped_all(void)
{
	struct hd_verify_opts o = { .cafile = "root.pem",
	    .tsa_cafile = "tsa/ca.pem" };
	const char *cms[] = { "a.txt", "b.txt" };
	struct hd_verify_result r;
	struct hd_sig_report *sigs = NULL;
	struct hd_err err;
	char sig[64];
	size_t n = 0, i;

	for (i = 0; i < 2; i++) {
		snprintf(sig, sizeof(sig), "%s.p7s", cms[i]);
		assert_int_equal(hd_verify_file(cms[i], sig, &o, &r, &err), 0);
		if (!r.ts.present || !r.ts.ok)
			fail_msg("%s: no good timestamp: %s", sig, r.ts.why);
		record_has_ts(cms[i], r.ts.time);
	}
	assert_int_equal(hd_verify_ps1_ts("s.ps1", "root.pem", "tsa/ca.pem",
	    &sigs, &n, NULL, NULL, &err), 0);
	assert_int_equal(n, 1);
	if (!sigs[0].ts.present || !sigs[0].ts.ok)
		fail_msg("s.ps1: no good timestamp: %s", sigs[0].ts.why);
	record_has_ts("s.ps1", sigs[0].ts.time);
	free(sigs);
}

/* --tr-optional, no TSA answers: signed, recorded without a timestamp. */
static void
after_signed_unstamped(void)
{
	struct hd_verify_opts o = { .cafile = "root.pem" };
	struct hd_audit_row *rows;
	const struct hd_audit_row *a;
	struct hd_verify_result r;
	struct hd_err err;
	size_t n;

	after_signed();
	assert_int_equal(hd_verify_file("a.txt", "a.txt.p7s", &o, &r, &err),
	    0);
	assert_false(r.ts.present);
	if ((a = record_of("a.txt", &rows, &n)) == NULL)
		fail_msg("a.txt: no audit record");
	assert_string_equal(a->result, "ok");
	assert_string_equal(a->tsa, "");
	assert_string_equal(a->ts_time, "");
	hd_audit_rows_free(rows, n);
}

/* No timestamp: nothing signed. */
static void
after_not_stamped(void)
{
	assert_int_equal(tc_exists("a.txt.p7s"), 0);
	assert_int_equal(tc_exists("b.txt.p7s"), 0);
}

/* Each signature the Sign files wizard made verifies with openssl. */
static void
p7s_verifies(const char *name)
{
	char sig[300], out[4096];

	snprintf(sig, sizeof(sig), "%s.p7s", name);
	if (tc_openssl_verify(name, sig, "root.pem", out, sizeof(out)) != 0)
		fail_msg("openssl cms -verify %s: %s", sig, out);
}

static void
after_signed(void)
{
	p7s_verifies("a.txt");
	p7s_verifies("b.txt");
	assert_int_equal(tc_exists("c.dat.p7s"), 0);	/* not marked */
}

/* a.txt.p7s was there: kept as it was; b.txt signed. */
static void
after_sign_kept(void)
{
	size_t len = 0;
	unsigned char *old = tc_read_file("a.txt.p7s", &len);

	assert_non_null(old);
	assert_int_equal(len, 4);
	assert_memory_equal(old, "old\n", 4);
	free(old);
	p7s_verifies("b.txt");
}

static void
after_sign_cancelled(void)
{
	assert_int_equal(tc_count_prefix(".", "a.txt.p7s"), 0);
	assert_int_equal(tc_count_prefix(".", "b.txt.p7s"), 0);
	assert_int_equal(tc_count_prefix(".", ".a.txt"), 0);	/* no temp */
	assert_int_equal(tc_count_prefix(".", ".b.txt"), 0);
}

/*
 * A key pair "codesign" on token "prod" with a certificate from a test
 * CA (root -> intermediate -> leaf) accepted beside it, the chain in
 * the local store, and the root as root.pem in the test's directory.
 */
static int
signer_setup(void)
{
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_session *s = tl_login(tl_softhsm(), "prod");
	struct hd_accept a;
	struct hd_err err;
	struct tl_ca ca;
	struct hd_key k;
	EVP_PKEY *pub = NULL;
	X509 *c[3] = { NULL, NULL, NULL };
	const char *p;
	int rc = -1;
	/* only a PE header (MZ, e_lfanew 0x40, "PE\0\0"): "auto" makes it
	 * Authenticode; never signed here */
	unsigned char pe[0x44] = { 'M', 'Z', [0x3c] = 0x40, [0x40] = 'P',
		[0x41] = 'E' };

	if (s == NULL || tl_ca_new(&ca) == -1)
		return -1;
	if (tl_keygen(s, 0, "codesign", &k) == -1 ||
	    (pub = tl_token_pub(s, &k)) == NULL ||
	    (c[0] = tl_issue(&ca, pub, "Contoso Release Signing", -1, 365,
	    "codeSigning", HD_KU_DIGITAL_SIGNATURE)) == NULL)
		goto out;
	c[1] = ca.inter;
	c[2] = ca.root;
	p = tl_write_certs(&env, "signer.pem", TL_PEM, c, 3);
	if (hd_cert_accept(s, p, &o, &a, &err) == -1) {
		fprintf(stderr, "accept: %s\n", err.msg);
		goto out;
	}
	hd_accept_free(&a);
	unlink(p);
	if (tc_write_file("tool.exe", pe, sizeof(pe)) == -1 ||
	    tl_write_certs(&env, "root.pem", TL_PEM, &ca.root, 1) == NULL)
		goto out;
	rc = 0;
out:
	X509_free(c[0]);
	EVP_PKEY_free(pub);
	tl_ca_free(&ca);
	hd_close(s);
	return rc;
}

/* The run's records: two files and a checkpoint, intact, the
 * checkpoint's certificate chaining to the test root. */
static void
after_audited(void)
{
	struct hd_audit_report r;
	struct hd_err err;
	char path[4096];

	after_signed();
	assert_int_equal(hd_audit_default_path(path, sizeof(path), &err), 0);
	assert_int_equal(hd_audit_verify(path, "root.pem", NULL, &r, &err), 0);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.lines, 3);
	assert_int_equal(r.entries, 2);
	assert_int_equal(r.last_ckpt, 3);
}

/* The audit log's place taken by a directory: signing must refuse. */
static int
prep_log_is_dir(void)
{
	char path[4096];
	struct hd_err err;
	const char *const argv[] = { "mkdir", "-p", path, NULL };
	char out[256];

	if (hd_audit_default_path(path, sizeof(path), &err) == -1)
		return -1;
	return tc_run(argv, out, sizeof(out)) == 0 ? 0 : -1;
}

/* A log whose second line does not follow its first. */
static int
prep_bad_log(void)
{
	char path[4096], *slash;
	struct hd_err err;
	FILE *f;

	if (hd_audit_default_path(path, sizeof(path), &err) == -1)
		return -1;
	slash = strrchr(path, '/');
	*slash = '\0';
	{
		const char *const argv[] = { "mkdir", "-p", path, NULL };
		char out[256];

		if (tc_run(argv, out, sizeof(out)) != 0)
			return -1;
	}
	*slash = '/';
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"v\":1,\"seq\":1,\"prev\":\"%064d\",\"kind\":\"sign\","
	    "\"time\":\"2026-01-02T03:04:05Z\",\"type\":\"cms\","
	    "\"file\":\"/srv/a.txt\",\"result\":\"ok\"}\n"
	    "{\"v\":1,\"seq\":2,\"prev\":\"%064d\",\"kind\":\"sign\","
	    "\"time\":\"2026-01-02T03:04:06Z\",\"type\":\"cms\","
	    "\"file\":\"/srv/b.txt\",\"result\":\"ok\"}\n", 0, 1);
	return fclose(f) == 0 ? 0 : -1;
}

static void after_change(void) { login_works("5678"); }
static void after_reset(void) { login_works("2468"); }
static void after_init(void) { login_works("4711"); }

static struct tl_env env;

/* ---- certificates: a test CA issuing for key "signing" on "prod" ------ */

/* The certificate file names the cases use. */
static int
write_bad_files(void)
{
	static const char csr[] = "-----BEGIN CERTIFICATE REQUEST-----\n"
	    "MIIBAjCBqQIBADAUMRIwEAYDVQQDDAlub3QgYSBjZXJ0MFkwEwYHKoZIzj0CAQYI\n"
	    "-----END CERTIFICATE REQUEST-----\n";
	struct tl_ca ca;
	FILE *f;
	int rc;

	if (tl_ca_new(&ca) == -1)
		return -1;
	f = fopen("key.pem", "w");	/* a private key, not a certificate */
	rc = f != NULL && PEM_write_PrivateKey(f, ca.root_key, NULL, NULL, 0,
	    NULL, NULL) ? 0 : -1;
	if (f != NULL)
		fclose(f);
	tl_ca_free(&ca);
	if (rc == -1 || tl_write(&env, "request.csr", csr) == NULL ||
	    tl_write(&env, "junk.bin", "\x01\x02garbage\n") == NULL)
		return -1;
	return 0;
}

/*
 * Key "signing" (P-256) on "prod"; certificates for it valid from `from`
 * to `to` days from now, written as name.pem with the intermediate and
 * the root; each accepted unless its name starts with "new".
 */
struct tl_issued {
	const char *name, *cn;
	long from, to;
};

/*
 * Half a day more on a not-after "N days from now", re-signed: days left
 * are then the same whether or not a second ticks before they are shown.
 */
static int
steady(X509 *x, EVP_PKEY *signer, long days)
{
	return X509_gmtime_adj(X509_getm_notAfter(x), days * 86400 + 43200) &&
	    X509_sign(x, signer, EVP_sha256()) ? 0 : -1;
}

static int
issue_all(const struct tl_issued *is, size_t n)
{
	struct hd_session *s = tl_login(tl_softhsm(), "prod");
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_err err;
	struct hd_key k;
	struct tl_ca ca;
	EVP_PKEY *pub = NULL;
	char file[64];
	size_t i;
	int rc = -1;

	if (s == NULL || tl_keygen(s, 1, "signing", &k) == -1 ||
	    (pub = tl_token_pub(s, &k)) == NULL || tl_ca_new(&ca) == -1)
		goto out;
	if (steady(ca.root, ca.root_key, 3650) == -1 ||
	    steady(ca.inter, ca.root_key, 3650) == -1)
		goto ca;
	for (i = 0; i < n; i++) {
		X509 *x = tl_issue(&ca, pub, is[i].cn, is[i].from, is[i].to,
		    "codeSigning", 0x80);
		X509 *all[3] = { x, ca.inter, ca.root };

		snprintf(file, sizeof(file), "%s.pem", is[i].name);
		if (x == NULL || steady(x, ca.inter_key, is[i].to) == -1 ||
		    tl_write_certs(&env, file, TL_PEM, all,
		    3) == NULL) {
			X509_free(x);
			goto ca;
		}
		X509_free(x);
		if (strncmp(is[i].name, "new", 3) != 0 &&
		    hd_cert_accept(s, file, &o, &a, &err) == -1) {
			fprintf(stderr, "accept %s: %s\n", file, err.msg);
			goto ca;
		}
		if (strncmp(is[i].name, "new", 3) != 0)
			hd_accept_free(&a);
	}
	rc = write_bad_files();
ca:
	tl_ca_free(&ca);
out:
	EVP_PKEY_free(pub);
	hd_close(s);
	return rc;
}

static int
prep_import(void)
{
	static const struct tl_issued is[] = {
		{ "new-alice", "Alice Release Signing", -1, 365 },
	};

	return issue_all(is, 1);
}

static int
prep_list(void)
{
	static const struct tl_issued is[] = {
		{ "current", "Build Signing 2026", -1, 365 },
		{ "near", "Build Signing Soon", -300, 12 },
		{ "expired", "Build Signing Old", -400, -20 },
	};

	return issue_all(is, 3);
}

/* Token "new" beside "prod" (with signer_setup's identity), and the
 * plan that `migrate plan` would write for them. */
static int
prep_migrate(void)
{
	struct hd_session *from, *to = NULL;
	struct hd_mig_plan p;
	struct hd_err err;
	int rc = -1;

	if (tl_init_token(tl_softhsm(), "new") == -1 ||
	    (from = tl_login(tl_softhsm(), "prod")) == NULL)
		return -1;
	if ((to = hd_open(tl_softhsm(), &err)) != NULL &&
	    hd_token_select(to, "new", &err) == 0 &&
	    hd_mig_plan_make(from, to, "migrate.yaml", 0, &p, &err) == 0) {
		hd_mig_free(&p);
		rc = tl_write(&env, "bad.yaml", "version: 1\nidentities: "
		    "yes\n") ? 0 : -1;
	} else
		fprintf(stderr, "migrate plan: %s\n", err.msg);
	hd_close(to);
	hd_close(from);
	return rc;
}

/* The certificates on "prod" now (token objects and local store). */
static size_t
certs_now(void)
{
	struct hd_session *s = tl_login(tl_softhsm(), "prod");
	struct hd_cert *l = NULL;
	struct hd_err err;
	size_t n = 0, i, leaves = 0;

	assert_non_null(s);
	assert_int_equal(hd_certs(s, &l, &n, &err), 0);
	for (i = 0; i < n; i++)
		leaves += l[i].where == HD_CERT_TOKEN ||
		    l[i].where == HD_CERT_LOCAL;
	hd_certs_free(l, n);
	hd_close(s);
	return leaves;
}

/*
 * The keys of "certs-filter-pasted", made once the thumbprints are
 * known: the first six digits of "Build Signing 2026" as Windows'
 * certificate dialog copies them (U+200E first, spaces) and with colons.
 */
static char pasted_keys[256];

static int
prep_pasted(void)
{
	struct hd_session *s;
	struct hd_cert *l = NULL;
	struct hd_err err;
	size_t n = 0, i;
	int rc = -1;

	if (prep_list() == -1 || (s = tl_login(tl_softhsm(), "prod")) == NULL)
		return -1;
	if (hd_certs(s, &l, &n, &err) == 0)
		for (i = 0; i < n; i++)
			if (strstr(l[i].subject, "Signing 2026") != NULL) {
				snprintf(pasted_keys, sizeof(pasted_keys),
				    "11234<ENTER>5\xe2\x80\x8e%.2s %.2s:%.2s",
				    l[i].sha1, l[i].sha1 + 2, l[i].sha1 + 4);
				rc = 0;
			}
	hd_certs_free(l, n);
	hd_close(s);
	return rc;
}

static void after_nothing_stored(void)
	{ assert_int_equal(certs_now(), 0); }

/* Stored on the token, and the root is now a trust anchor. */
static void
after_import(void)
{
	struct hd_session *s = tl_login(tl_softhsm(), "prod");
	struct hd_cert *l = NULL;
	struct hd_err err;
	size_t n = 0, i, token = 0, anchors = 0;

	assert_non_null(s);
	assert_int_equal(hd_certs(s, &l, &n, &err), 0);
	for (i = 0; i < n; i++) {
		token += l[i].where == HD_CERT_TOKEN;
		anchors += l[i].where == HD_CERT_ANCHOR;
	}
	hd_certs_free(l, n);
	hd_close(s);
	assert_int_equal(token, 1);
	assert_int_equal(anchors, 1);
}

/* "20231114" and "2023-11-14T12:34:56Z": today, in labels and records */
static void
mask_dates(char *s)
{
	size_t i, run;

	for (i = 0; s[i] != '\0'; i++) {
		for (run = 0; isdigit((unsigned char)s[i + run]); run++)
			;
		if (run == 8 && s[i] == '2' && s[i + 1] == '0')
			memcpy(s + i, "YYYYMMDD", 8);
		/* certificate dates: relative to today in the test CA */
		if (run == 4 && s[i] == '2' && s[i + 4] == '-' &&
		    strlen(s + i) >= 10 && isdigit((unsigned char)s[i + 5]) &&
		    s[i + 7] == '-' && isdigit((unsigned char)s[i + 9]) &&
		    (strlen(s + i) < 11 || s[i + 10] != 'T'))
			memcpy(s + i, "YYYY-MM-DD", 10);
		if (run == 4 && s[i] == '2' && s[i + 4] == '-' &&
		    strlen(s + i) >= 20 && s[i + 10] == 'T' && s[i + 19] == 'Z')
			memcpy(s + i, "YYYY-MM-DDThh:mm:ssZ", 20);
		else if (run == 4 && s[i] == '2' && s[i + 4] == '-' &&
		    strlen(s + i) >= 10 && isdigit((unsigned char)s[i + 5]) &&
		    s[i + 7] == '-' && isdigit((unsigned char)s[i + 9]))
			memcpy(s + i, "YYYY-MM-DD", 10);
		i += run ? run - 1 : 0;
	}
}

/* The ceremony record's "Operator user@host": another name elsewhere. */
static void
mask_operator(char *s)
{
	char *p = s, *a, *b, *c;
	const char *stand = "USER@HOST";

	while ((p = strstr(p, "Operator ")) != NULL) {
		for (a = p + 9; *a == ' '; a++)
			;
		for (b = a; *b != ' ' && *b != '\n' && *b != '\0'; b++)
			;
		for (c = b; *c == ' '; c++)
			;
		if (c - a >= (long)strlen(stand)) {
			memset(a, ' ', (size_t)(c - a));
			memcpy(a, stand, strlen(stand));
		}
		p = c;
	}
}

/* SHA-256 fingerprints in groups of four ("AB12 CD34 ..."), and the
 * base64 of an OSC 52 copy: random with the test CA's keys. */
static int
hex4(const char *p)
{
	return isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) &&
	    isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3]) &&
	    !isalnum((unsigned char)p[4]);
}

static void
mask_groups(char *s)
{
	size_t i, k, g, end;

	for (i = 0; s[i] != '\0'; i++) {
		if ((i > 0 && isalnum((unsigned char)s[i - 1])) || !hex4(s + i))
			continue;
		for (g = 0, k = i, end = i; hex4(s + k); g++) {
			end = k + 4;
			k += 4;
			while (s[k] == ' ' && k < end + 2)
				k++;
		}
		if (g < 4)
			continue;
		for (k = i; k < end; k++)
			if (s[k] != ' ')
				s[k] = 'H';
		i = end - 1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		for (k = 0; isalnum((unsigned char)s[i + k]) || s[i + k] == '+' ||
		    s[i + k] == '/' || s[i + k] == '='; k++)
			;
		if (k == 56)
			memset(s + i, 'B', k);
		i += k ? k - 1 : 0;
	}
}

static void
mask(char *s)
{
	const char *build = getenv("HSMDESK_BUILD");
	char *p;
	size_t i, run;

	/* hex runs: 16 a serial, 40 a key ID, 64 a SHA-256 */
	for (i = 0; s[i] != '\0'; i++) {
		for (run = 0; isxdigit((unsigned char)s[i + run]); run++)
			;
		if ((run == 16 || run == 40 || run == 64) &&
		    (i == 0 || !isalnum((unsigned char)s[i - 1])))
			memset(s + i, run == 16 ? 'S' : run == 40 ? 'I' : 'H',
			    run);
		i += run ? run - 1 : 0;
	}
	mask_dates(s);
	mask_groups(s);
	/* test CA serials count up across the cases */
	for (p = s; (p = strstr(p, "Serial     ")) != NULL; p++)
		for (i = 11; isxdigit((unsigned char)p[i]); i++)
			p[i] = 'N';
	mask_operator(s);
	/* the throwaway directory's random name (tl_env_new) */
	for (p = s; (p = strstr(p, "hsmdesk-unit.")) != NULL; p += 13)
		for (i = 13; i < 19 && isalnum((unsigned char)p[i]); i++)
			p[i] = 'X';
	if (build != NULL && *build != '\0')
		while ((p = strstr(s, build)) != NULL)
			memset(p, '#', strlen(build));
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The first differing line, both ways (cmocka cuts long messages). */
static void
show_diff(const char *want, const char *got)
{
	int line = 1;
	size_t wl, gl;

	while (*want != '\0' || *got != '\0') {
		wl = strcspn(want, "\n");
		gl = strcspn(got, "\n");
		if (wl != gl || strncmp(want, got, wl) != 0) {
			fprintf(stderr, "line %d\n  want: %.*s\n  got:  %.*s\n",
			    line, (int)wl, want, (int)gl, got);
			return;
		}
		want += wl + (want[wl] != '\0');
		got += gl + (got[gl] != '\0');
		line++;
	}
}

static void
compare(const char *name, const char *got)
{
	char path[1024], *want;
	const char *top = getenv("HSMDESK_TOP");
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/tui/expected/%s.txt",
	    top ? top : ".", name);
	if (getenv("HSMDESK_UPDATE_SCREENS") != NULL) {
		assert_non_null(f = fopen(path, "w"));
		fputs(got, f);
		fclose(f);
		return;
	}
	if ((want = slurp(path)) == NULL)
		fail_msg("%s: missing; run make update-screens", path);
	if (strcmp(want, got) != 0) {
		show_diff(want, got);
		free(want);
		fail_msg("screen %s differs from %s", name, path);
	}
	free(want);
}

static char top_cwd[4096];

/*
 * The request wizard's cases run in the test's directory, with the
 * shipped profiles under the relative name "shipped", so that paths on
 * screen are the same on every machine.
 */
static int
req_setup(const struct scase *c)
{
	const char *top = getenv("HSMDESK_TOP");
	char src[4200], dst[700];
	size_t i;

	if (getcwd(top_cwd, sizeof(top_cwd)) == NULL)
		return -1;
	snprintf(src, sizeof(src), "%s/profiles", top ? top : top_cwd);
	snprintf(dst, sizeof(dst), "%s/shipped", env.dir);
	if (symlink(src, dst) == -1 || chdir(env.dir) == -1)
		return -1;
	setenv("HSMDESK_PROFILE_DIR", "shipped", 1);
	/* the user's profiles under HOME, where the screens say "~" */
	snprintf(dst, sizeof(dst), "%s/home/.config", env.dir);
	setenv("XDG_CONFIG_HOME", dst, 1);
	mkdir("home", 0700);
	mkdir("home/.config", 0700);
	mkdir("home/.config/hsmdesk", 0700);
	mkdir("home/.config/hsmdesk/profiles", 0700);
	for (i = 0; c->files != NULL && c->files[i] != NULL; i += 2)
		if (tl_write(&env, c->files[i], c->files[i + 1]) == NULL)
			return -1;
	return 0;
}

static int
setup(void **state)
{
	struct scase *c = *state;

	if (tl_env_new(&env) == -1)
		return -1;
	if (c->req && req_setup(c) == -1)
		return -1;
	if (c->nocolor)
		setenv("NO_COLOR", "1", 1);
	if (c->init && tl_init_token(tl_softhsm(), "prod") == -1)
		return -1;
	if (c->keypairs && (tl_gen_rsa(tl_softhsm(), "prod", "signing", 0) ||
	    tl_gen_rsa(tl_softhsm(), "prod", "exportable", 1)))
		return -1;
	if (c->signer && signer_setup() == -1)
		return -1;
	if (c->faults != NULL)
		setenv("HSMDESK_FAKEP11_FAULT", c->faults, 1);
	if (c->ascii)
		setenv("HSMDESK_ASCII", "1", 1);
	if (c->prep != NULL && c->prep() == -1)
		return -1;
	if (c->tsa != NULL && tsa_start(c->tsa) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unsetenv("HSMDESK_FAKEP11_FAULT");
	unsetenv("HSMDESK_ASCII");
	unsetenv("HSMDESK_PROFILE_DIR");
	unsetenv("NO_COLOR");
	if (tsa_pid > 0) {
		kill(tsa_pid, SIGTERM);
		waitpid(tsa_pid, NULL, 0);
		tsa_pid = 0;
		tsa_url[0] = '\0';
	}
	if (top_cwd[0] != '\0' && chdir(top_cwd) == -1)
		return -1;
	top_cwd[0] = '\0';
	tl_env_free(&env);
	return 0;
}

static void
run_case(void **state)
{
	struct scase *c = *state;
	struct cli cl;
	char *out = NULL, *p;
	size_t i;

	memset(&cl, 0, sizeof(cl));
	cl.module = c->faults ? tl_fakep11() : tl_softhsm();
	cl.cfg.idle_logout = 300;
	if (c->tsa != NULL) {
		cl.cfg.tsa[0] = tsa_url;
		cl.cfg.ntsa = 1;
	}
	tui_run_script(&cl, c->keys, c->rows ? c->rows : 24,
	    c->cols ? c->cols : 80, &out);
	hd_close(cl.s);
	assert_non_null(out);
	mask(out);
	for (p = out; c->tsa && (p = strstr(p, "127.0.0.1:")) != NULL; p++)
		for (i = 10; isdigit((unsigned char)p[i]); i++)
			p[i] = 'P';	/* the port the TSA got */
	if (c->mask_filter)
		for (p = out; (p = strstr(p, "Filter  ")) != NULL; p++)
			for (i = 8; i < 30 && p[i] != '\n'; i++)
				p[i] = p[i] == ' ' ? ' ' : '*';
	if (c->absent != NULL && strstr(out, c->absent) != NULL)
		fail_msg("'%s' is on screen", c->absent);
	compare(c->name, out);
	free(out);
	if (c->after != NULL)
		c->after();
}

/* Files of the request wizard's cases. */
static const char *const broken_profile[] = {
	"home/.config/hsmdesk/profiles/mine.yaml",
	"name: mine\ndescription: Mine\nkey:\n  type: dsa\n", NULL,
};
static const char *const exportable_profile[] = {
	"home/.config/hsmdesk/profiles/exp.yaml",
	"name: escrow-rsa2048\ndescription: Key escrow (exportable)\n"
	"key:\n  type: rsa\n  bits: 2048\n  label: escrow-{cn}\n"
	"  exportable: true\nsubject:\n  CN: \"\"\n  O: Contoso GmbH\n"
	"extensions:\n  key_usage: [keyEncipherment]\n", NULL,
};
static const char *const infs[] = {
	"exp.inf", "[Version]\nSignature = \"$Windows NT$\"\n[NewRequest]\n"
	"Subject = \"CN=Escrow\"\nKeyAlgorithm = RSA\nKeyLength = 2048\n"
	"Exportable = TRUE\n",
	"codesign.inf", "[Version]\nSignature = $Windows NT$\n[NewRequest]\n"
	"Subject = \"CN=Contoso Release Signing, O=Contoso GmbH, L=Berlin, "
	"S=Berlin, C=DE\"\nKeyAlgorithm = ECDSA_P256\nHashAlgorithm = SHA256"
	"\nKeyUsage = 0x80\nMachineKeySet = TRUE\nProviderName = \"Cavium "
	"Key Storage Provider\"\n[EnhancedKeyUsageExtension]\n"
	"OID = 1.3.6.1.5.5.7.3.3\n",
	"nosubject.inf", "[Version]\nSignature = \"$Windows NT$\"\n"
	"[NewRequest]\nKeyAlgorithm = ECDSA_P256\n", NULL,
};
static const char *const existing_csr[] = {
	"codesign-Alice.csr", "original\n",
	"reqs-2024.csr", "x\n", "reqs-2025.csr", "y\n", NULL,
};

/* Files for Sign files: two texts and one not marked (signer_setup adds
 * tool.exe). */
static const char *const to_sign[] = {
	"a.txt", "release notes\n", "b.txt", "checksums\n",
	"c.dat", "not marked\n", NULL,
};
/* The same and a PowerShell script (Authenticode, signed in place). */
static const char *const to_stamp[] = {
	"a.txt", "release notes\n", "b.txt", "checksums\n",
	"c.dat", "not marked\n", "s.ps1", "Write-Host 'hi'\r\n", NULL,
};
static const char *const old_p7s[] = {
	"a.txt", "release notes\n", "b.txt", "checksums\n",
	"a.txt.p7s", "old\n", NULL,
};

/* Log in, Generate key pair, the first profile (codesign-ecdsa-p256),
 * its subject filled in; then more keys. */
#define LOGIN "11234<ENTER>"
#define SUBJECT "2<ENTER>DE<TAB>Berlin<TAB>Berlin<TAB>Contoso GmbH<TAB>"
#define FILLED SUBJECT "Alice"
#define RESULT LOGIN FILLED "<F4><ENTER>"

static struct scase cases[] = {
	{ .name = "first-run-init" , .keys = "" },
	{ .name = "init-done", .keys = "prod<TAB>12345678<TAB>12345678<TAB>"
	  "4711<TAB>4711<ENTER>", .after = after_init, .absent = "4711" },
	{ .name = "init-mismatch", .keys = "prod<TAB>12345678<TAB>87654321"
	  "<TAB>4711<TAB>4711<ENTER>" },
	{ .name = "menu", .keys = "", .init = 1 },
	{ .name = "menu-large", .keys = "", .init = 1, .rows = 50,
	  .cols = 160 },
	{ .name = "menu-ascii", .keys = "<DOWN><DOWN>", .init = 1,
	  .ascii = 1 },
	{ .name = "login-ok", .keys = "1<DUMP>1234<ENTER>", .init = 1,
	  .absent = "1234" },
	{ .name = "login-wrong-pin", .keys = "19999<ENTER>", .init = 1,
	  .absent = "9999" },
	{ .name = "login-final-try", .keys = "1<DUMP>0000<ENTER>", .init = 1,
	  .faults = "pin-final-try" },
	{ .name = "login-locked", .keys = "1<DUMP>1234<ENTER>", .init = 1,
	  .faults = "pin-locked" },
	{ .name = "login-pin-expired", .keys = "11234<ENTER>", .init = 1,
	  .faults = "pin-expired" },
	{ .name = "token-keys", .keys = "11234<ENTER>t<DUMP><DOWN>",
	  .init = 1, .keypairs = 1 },
	{ .name = "token-not-logged-in", .keys = "t", .init = 1,
	  .keypairs = 1 },
	{ .name = "token-delete-key", .keys = "11234<ENTER>td<DUMP>export"
	  "<ENTER><DUMP>exportable<ENTER>", .init = 1, .keypairs = 1,
	  .after = after_delete },
	{ .name = "token-delete-key-kept", .keys = "11234<ENTER>td"
	  "<ESC><DUMP>d<TAB>", .init = 1, .keypairs = 1,
	  .after = after_keep },
	{ .name = "token-delete-needs-login", .keys = "td", .init = 1,
	  .keypairs = 1 },
	{ .name = "change-pin", .keys = "tc<DUMP>1234<TAB>5678<TAB>5678"
	  "<ENTER>", .init = 1, .after = after_change },
	{ .name = "change-pin-mismatch", .keys = "tc1234<TAB>5678<TAB>5679"
	  "<ENTER>", .init = 1 },
	{ .name = "reset-pin", .keys = "tR12345678<TAB>2468<TAB>2468<ENTER>",
	  .init = 1, .after = after_reset },
	{ .name = "help", .keys = "h<DUMP><PGDN>", .init = 1 },
	{ .name = "token-capabilities", .keys = "tp<DUMP><PGDN>", .init = 1 },
	{ .name = "login-cloudhsm", .keys = "1<DUMP>cu<ENTER>1234<ENTER>",
	  .init = 1, .faults = "cloudhsm", .absent = "1234" },
	{ .name = "login-cloudhsm-wrong", .keys = "1admin<ENTER>1234<ENTER>",
	  .init = 1, .faults = "cloudhsm", .absent = "1234" },
	{ .name = "too-small", .keys = "<RESIZE:20x60><DUMP><RESIZE:24x80>",
	  .init = 1 },
	{ .name = "idle-logout", .keys = "11234<ENTER><DUMP><IDLE:301>",
	  .init = 1 },
	{ .name = "token-removed", .keys = "trrrrrrrrrr", .init = 1,
	  .faults = "device-removed-after=40" },
	{ .name = "req-profiles", .keys = "2", .init = 1, .req = 1,
	  .files = broken_profile },
	{ .name = "req-profiles-large", .keys = "2<DOWN><DOWN><DOWN><DOWN>",
	  .init = 1, .req = 1, .files = broken_profile, .rows = 40,
	  .cols = 120 },
	{ .name = "req-broken-refused", .keys = "2<DOWN><DOWN><DOWN><DOWN>"
	  "<ENTER>", .init = 1, .req = 1, .files = broken_profile },
	{ .name = "req-subject-missing-cn", .keys = SUBJECT "<F4>",
	  .init = 1, .req = 1 },
	{ .name = "req-subject-missing-cn-large", .keys = SUBJECT "<F4>",
	  .init = 1, .req = 1, .rows = 40, .cols = 120 },
	{ .name = "req-subject-placeholder", .keys = "2<ENTER>DE<TAB>Berlin"
	  "<TAB>Berlin<TAB>Example Corp<TAB>Alice<F4>", .init = 1, .req = 1 },
	{ .name = "req-subject-bad-country", .keys = "2<ENTER>de<TAB>Berlin"
	  "<TAB>Berlin<TAB>Contoso GmbH<TAB>Alice<TAB>DNS:a..b<F4>",
	  .init = 1, .req = 1 },
	{ .name = "req-esc-keeps-typing", .keys = FILLED "<ESC><DUMP>"
	  "<ENTER>", .init = 1, .req = 1 },
	{ .name = "req-confirm", .keys = LOGIN FILLED "<F4>", .init = 1,
	  .req = 1 },
	{ .name = "req-confirm-large", .keys = LOGIN FILLED "<F4>",
	  .init = 1, .req = 1, .rows = 40, .cols = 120 },
	{ .name = "req-confirm-exportable", .keys = LOGIN "2<DOWN><DOWN>"
	  "<DOWN><DOWN><ENTER>Eve<F4>", .init = 1, .req = 1,
	  .files = exportable_profile, .nocolor = 1 },
	{ .name = "req-login-first", .keys = FILLED "<F4><ENTER><DUMP>1234"
	  "<ENTER>", .init = 1, .req = 1 },
	{ .name = "req-result", .keys = RESULT, .init = 1, .req = 1 },
	{ .name = "req-result-large", .keys = RESULT "<PGDN>", .init = 1,
	  .req = 1, .rows = 40, .cols = 120 },
	{ .name = "req-saved", .keys = RESULT "<ENTER><DUMP><ENTER>",
	  .init = 1, .req = 1, .after = after_saved },
	{ .name = "req-overwrite", .keys = LOGIN FILLED "<TAB><TAB><^U>"
	  "codesign-Alice<F4><ENTER><ENTER><ENTER><DUMP><ENTER>", .init = 1,
	  .req = 1, .files = existing_csr, .after = after_not_overwritten },
	{ .name = "req-overwrite-large", .keys = LOGIN FILLED "<TAB><TAB>"
	  "<^U>codesign-Alice<F4><ENTER><ENTER><ENTER><DUMP>y", .init = 1,
	  .req = 1, .rows = 40, .cols = 120, .files = existing_csr,
	  .after = after_overwritten },
	{ .name = "req-save-tab", .keys = RESULT "<ENTER><^U>./re<TAB><DUMP>"
	  "<BS><BS><BS><BS><BS><BS>xyz<TAB>", .init = 1, .req = 1,
	  .files = existing_csr },
	{ .name = "req-cancel", .keys = RESULT "<ESC><DUMP>y", .init = 1,
	  .req = 1, .after = no_key_left },
	{ .name = "req-cancel-no", .keys = RESULT "<ESC>n", .init = 1,
	  .req = 1 },
	{ .name = "req-discard", .keys = RESULT "<DUMP><ESC><DUMP>y",
	  .init = 1,
	  .req = 1, .after = no_key_left },
	{ .name = "req-csr-fails", .keys = RESULT, .init = 1, .req = 1,
	  .faults = "sign-device-error", .after = no_key_left },
	{ .name = "req-inf-exportable", .keys = "2iexp.inf<ENTER>",
	  .init = 1, .req = 1, .files = infs },
	{ .name = "req-inf-ignored", .keys = "2icodesign.inf<ENTER>",
	  .init = 1, .req = 1, .files = infs },
	{ .name = "req-inf-no-subject", .keys = "2inosub<TAB><ENTER>"
	  "<F4>", .init = 1, .req = 1, .files = infs },
	{ .name = "req-renew", .keys = LOGIN "3<DUMP><DOWN><ENTER><END><UP>"
	  "<ENTER>build.contoso.com<TAB>DNS:build.contoso.com<F4><DUMP>"
	  "<ENTER><DUMP><ENTER><ENTER>", .init = 1, .keypairs = 1, .req = 1,
	  .after = after_renew },
	{ .name = "req-renew-login-first", .keys = "3", .init = 1,
	  .keypairs = 1, .req = 1 },
	{ .name = "messages", .keys = "m", .init = 1 },
	{ .name = "sign-login-first", .keys = "6<DUMP>1234<ENTER>",
	  .init = 1, .signer = 1, .req = 1, .files = to_sign },
	{ .name = "sign-cert-filter", .keys = LOGIN "6contoso<DUMP><^U>zz",
	  .init = 1, .signer = 1, .req = 1, .files = to_sign },
	{ .name = "sign-files", .keys = LOGIN "6<ENTER><DOWN><DOWN><DOWN>"
	  "<DOWN><DOWN><DUMP> <DUMP>*.txt<ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign },
	{ .name = "sign-files-tab", .keys = LOGIN "6<ENTER>ro<TAB><DUMP>"
	  "<^U>nothing*<ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign },
	{ .name = "sign-options", .keys = LOGIN "6<ENTER>*.txt<ENTER>tool.exe"
	  "<ENTER><F4><DUMP><RIGHT><DOWN><DOWN>Contoso Tool<DOWN><DOWN> ",
	  .init = 1, .signer = 1, .req = 1, .files = to_sign, .nocolor = 1 },
	{ .name = "sign-confirm", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER>", .init = 1, .signer = 1, .req = 1, .files = to_sign },
	{ .name = "sign-done", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .after = after_signed },
	{ .name = "sign-verify", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER>v<DUMP>root.pem<ENTER>", .init = 1, .signer = 1,
	  .req = 1, .files = to_sign, .after = after_signed },
	{ .name = "sign-verify-untrusted", .keys = LOGIN "6<ENTER>*.txt"
	  "<ENTER><F4><ENTER><ENTER>v<ENTER>", .init = 1, .signer = 1,
	  .req = 1, .files = to_sign },
	{ .name = "sign-cancel", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER><ESC><DUMP>y", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .after = after_sign_cancelled },
	{ .name = "sign-cancel-no", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER><ESC>n", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .after = after_signed },
	{ .name = "sign-exists", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><DUMP><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = old_p7s, .after = after_sign_kept },
	{ .name = "audit-view", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER>v<ESC><ESC>a<DUMP><DOWN><DOWN>b*<ENTER>", .init = 1,
	  .signer = 1, .req = 1, .files = to_sign, .after = after_audited },
	{ .name = "audit-empty", .keys = "a", .init = 1 },
	{ .name = "sign-audit-refused", .keys = LOGIN "6<ENTER>*.txt<ENTER>"
	  "<F4><ENTER><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .prep = prep_log_is_dir,
	  .after = after_sign_cancelled },
	{ .name = "audit-tampered", .keys = "a", .init = 1, .req = 1,
	  .prep = prep_bad_log },
	{ .name = "sign-timestamp-options", .keys = LOGIN "6<ENTER>*.txt"
	  "<ENTER><F4><DOWN><DOWN><DOWN><DOWN><DOWN> http://tsa2.example/",
	  .init = 1, .signer = 1, .req = 1, .files = to_sign,
	  .tsa = "good" },
	{ .name = "sign-timestamp", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .tsa = "good", .after = after_stamped },
	{ .name = "sign-timestamp-fails", .keys = LOGIN "6<ENTER>*.txt<ENTER>"
	  "<F4><ENTER><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .tsa = "nonce", .after = after_not_stamped },
	{ .name = "sign-timestamp-optional", .keys = LOGIN "6<ENTER>*.txt"
	  "<ENTER><F4><DOWN><DOWN><DOWN><DOWN><DOWN><DOWN> <DUMP><ENTER>"
	  "<DUMP><ENTER>", .init = 1, .signer = 1, .req = 1, .files = to_sign,
	  .tsa = "down", .after = after_signed_unstamped },
	{ .name = "sign-timestamp-verify", .keys = LOGIN "6<ENTER>*.txt"
	  "<ENTER>s.ps1<ENTER><F4><ENTER><ENTER>vroot.pem<ENTER><DUMP><DOWN>"
	  "tsa/ca.pem<ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_stamp, .tsa = "good", .after = after_stamped_all },
	{ .name = "sign-done-large", .keys = LOGIN "6<ENTER>*.txt<ENTER><F4>"
	  "<ENTER><ENTER>", .init = 1, .signer = 1, .req = 1,
	  .files = to_sign, .rows = 40, .cols = 120 },
	{ .name = "cert-import-path", .keys = LOGIN "4new<TAB>", .init = 1,
	  .req = 1, .prep = prep_import },
	{ .name = "cert-import-login-first", .keys = "4new-alice.pem<ENTER>"
	  "<DUMP>1234<ENTER>", .init = 1, .req = 1, .prep = prep_import,
	  .after = after_nothing_stored },
	{ .name = "cert-import-checks", .keys = LOGIN "4new-alice.pem<ENTER>",
	  .init = 1, .req = 1, .prep = prep_import },
	{ .name = "cert-import-root-question", .keys = LOGIN "4new-alice.pem"
	  "<ENTER><ENTER>", .init = 1, .req = 1, .prep = prep_import },
	{ .name = "cert-import-good", .keys = LOGIN "4new-alice.pem<ENTER>"
	  "<ENTER>y", .init = 1, .req = 1, .prep = prep_import,
	  .after = after_import },
	{ .name = "cert-import-esc", .keys = LOGIN "4new-alice.pem<ENTER>"
	  "<ESC>", .init = 1, .req = 1, .prep = prep_import,
	  .after = after_nothing_stored },
	{ .name = "cert-import-private-key", .keys = "4key.pem<ENTER>",
	  .init = 1, .req = 1, .prep = prep_import,
	  .after = after_nothing_stored },
	{ .name = "cert-import-csr", .keys = LOGIN "4request.csr<ENTER>",
	  .init = 1, .req = 1, .prep = prep_import,
	  .after = after_nothing_stored },
	{ .name = "cert-import-garbage", .keys = LOGIN "4junk.bin<ENTER>",
	  .init = 1, .req = 1, .prep = prep_import,
	  .after = after_nothing_stored },
	{ .name = "certs-list", .keys = LOGIN "5", .init = 1, .req = 1,
	  .prep = prep_list },
	{ .name = "certs-list-large", .keys = LOGIN "5<DOWN>", .init = 1,
	  .req = 1, .prep = prep_list, .rows = 40, .cols = 120 },
	{ .name = "certs-not-logged-in", .keys = "5", .init = 1, .req = 1,
	  .prep = prep_list, .nocolor = 1 },
	{ .name = "certs-filter-subject", .keys = LOGIN "5soon", .init = 1,
	  .req = 1, .prep = prep_list },
	{ .name = "certs-filter-pasted", .keys = pasted_keys, .init = 1,
	  .req = 1, .prep = prep_pasted, .mask_filter = 1 },
	{ .name = "certs-filter-none", .keys = LOGIN "5zzz", .init = 1,
	  .req = 1, .prep = prep_list },
	{ .name = "certs-details", .keys = LOGIN "5<DOWN><DOWN>", .init = 1,
	  .req = 1, .prep = prep_list },
	{ .name = "certs-copy", .keys = LOGIN "5<DOWN>y", .init = 1, .req = 1,
	  .prep = prep_list },
	{ .name = "migrate-view", .keys = "7<DUMP>migrate.yaml<ENTER>",
	  .init = 1, .signer = 1, .req = 1, .prep = prep_migrate },
	{ .name = "migrate-bad-plan", .keys = "7bad.yaml<ENTER>", .init = 1,
	  .signer = 1, .req = 1, .prep = prep_migrate },
};

/* Random keys must never crash it or leave a broken screen. */
static void
test_random_keys_do_not_break_the_screen(void **state)
{
	static const int pool[] = { 'a', 'z', '1', '2', '3', '4', '5', '6',
		't', 'c', 'R', 'i', 'r', 'h', 'm', 'o', 'j', 'k', ' ', '\t' };
	static const char *named[] = { "<ENTER>", "<ESC>", "<UP>", "<DOWN>",
		"<PGUP>", "<PGDN>", "<HOME>", "<END>", "<BS>", "<F1>", "<F2>",
		"<^L>", "<^U>", "<BTAB>", "<RESIZE:20x50>", "<RESIZE:24x80>",
		"<IDLE:400>" };
	char script[8192];
	unsigned seed;
	int run;

	(void)state;
	for (run = 0; run < 12; run++) {
		struct cli cl;
		char *out = NULL;
		size_t len = 0;
		int i;

		seed = 1234u + (unsigned)run;
		for (i = 0; i < 300 && len + 20 < sizeof(script); i++) {
			int r = rand_r(&seed) % 3;

			if (r == 0)
				len += (size_t)snprintf(script + len,
				    sizeof(script) - len, "%s", named[rand_r(
				    &seed) % (sizeof(named) / sizeof(*named))]);
			else
				script[len++] = (char)pool[rand_r(&seed) %
				    (sizeof(pool) / sizeof(*pool))];
		}
		snprintf(script + len, sizeof(script) - len, "<RESIZE:24x80>");
		memset(&cl, 0, sizeof(cl));
		cl.module = tl_softhsm();
		cl.cfg.idle_logout = 300;
		tui_run_script(&cl, script, 24, 80, &out);
		hd_close(cl.s);
		assert_non_null(out);
		assert_non_null(strstr(out, "hsmdesk"));
		free(out);
	}
}

int
main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	setlocale(LC_ALL, "C.UTF-8");
	for (i = 0; i < n; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = &cases[i];
	}
	memset(&tests[n], 0, sizeof(tests[n]));
	tests[n].name = "random_keys_do_not_break_the_screen";
	tests[n].test_func = test_random_keys_do_not_break_the_screen;
	tests[n].setup_func = setup;
	tests[n].teardown_func = teardown;
	tests[n].initial_state = &(struct scase){ .init = 1 };
	return _cmocka_run_group_tests("screens", tests, n + 1, NULL, NULL);
}
