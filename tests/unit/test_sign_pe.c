/*
 * core/sign_pe.c: Authenticode signatures made with keys on a SoftHSM2
 * token, each checked by osslsigncode verify against the test CA; the
 * file is signed in place atomically, keeps its mode, owner and links,
 * and stays byte for byte as it was when signing fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib_sign.h"

#define DESC "hsmdesk Test Program"
#define URL "https://example.com/hsmdesk/info"

static struct hd_sign_pe_opts
opts(const char *md)
{
	struct hd_sign_pe_opts o;

	memset(&o, 0, sizeof(o));
	o.md = md;
	return o;
}

static void
sign_ok(const struct tl_signer *sg, const char *path,
    const struct hd_sign_pe_opts *o, struct hd_sign_pe_result *res)
{
	struct hd_der cert = { sg->der, sg->len };
	struct hd_err err;

	if (hd_sign_pe(TS.s, &sg->key, &cert, &TS.inter, 1, path, o, res,
	    &err) == -1)
		fail_msg("hd_sign_pe %s: %s (%s)", path, err.msg, err.ossl);
}

static int
sign_fails(const struct tl_signer *sg, const struct hd_der *cert,
    const char *path, const struct hd_sign_pe_opts *o, struct hd_err *err)
{
	struct hd_der c = { sg->der, sg->len };
	struct hd_sign_pe_result res;

	return hd_sign_pe(TS.s, &sg->key, cert != NULL ? cert : &c, &TS.inter,
	    1, path, o, &res, err);
}

/* osslsigncode verifies path with the test root: n signatures, all ok. */
static void
ossl_ok(const char *path, int n, char *text, size_t len)
{
	char want[64];

	if (tl_ossl_verify_ca(path, TS.root, text, len) != 0)
		fail_msg("osslsigncode verify %s failed:\n%s", path, text);
	assert_non_null(strstr(text, "Signature verification: ok"));
	snprintf(want, sizeof(want), "Number of verified signatures: %d", n);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "MISMATCH"));
}

static void
assert_has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("expected '%s' in:\n%s", what, text);
}

/* ---- signatures osslsigncode accepts ----------------------------------- */

static void
check_signed(const char *fixture, const struct tl_signer *sg,
    const char *md, const char *want_md)
{
	const char *f = tl_copy(fixture, "signed.exe");
	struct hd_sign_pe_opts o = opts(md);
	struct hd_sign_pe_result res;
	char text[16384], line[128];

	o.desc = DESC;
	o.url = URL;
	sign_ok(sg, f, &o, &res);
	assert_int_equal(res.nsigs, 1);
	assert_int_equal(res.had_signature, 0);
	assert_int_equal(res.other_links, 0);
	assert_string_equal(res.sha1, sg->sha1);
	assert_string_equal(res.md, want_md);
	ossl_ok(f, 1, text, sizeof(text));
	snprintf(line, sizeof(line), "Message digest algorithm  : %s",
	    want_md);
	assert_has(text, line);
	snprintf(line, sizeof(line), "Subject: /C=US/ST=Washington/L=Seattle/"
	    "O=Contoso Ltd/CN=%s", sg->cn);
	assert_has(text, line);
	/* the chain came from the signature: the root is the only CA given */
	assert_has(text, "Subject: /CN=hsmdesk Test Code Signing CA");
	assert_has(text, "Microsoft Individual Code Signing purpose");
	assert_has(text, "Text description: " DESC);
	assert_has(text, "URL description: " URL);
	assert_null(strstr(text, "invalid PE checksum"));
}

static void
test_sign_pe_rsa_sha256_verifies(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed(TP.exe64, &TS.rsa, "sha256", "SHA256");
	check_signed(TP.exe32, &TS.rsa, NULL, "SHA256");
}

static void
test_sign_pe_rsa_sha384_verifies(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed(TP.dll64, &TS.rsa, "sha384", "SHA384");
}

static void
test_sign_pe_ec_sha256_and_sha384_verify(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed(TP.exe64, &TS.ec, "sha256", "SHA256");
	check_signed(TP.exe32, &TS.ec, "sha384", "SHA384");
	check_signed(TP.tail, &TS.ec, "sha512", "SHA512");
}

static const unsigned char pe_image_data[] = {
	0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f,
	0x30, 0x25, 0x03, 0x01, 0x00, 0xa0, 0x20, 0xa2, 0x1e, 0x80, 0x1c,
	0x00, 0x3c, 0x00, 0x3c, 0x00, 0x3c, 0x00, 0x4f, 0x00, 0x62, 0x00, 0x73,
	0x00, 0x6f, 0x00, 0x6c, 0x00, 0x65, 0x00, 0x74, 0x00, 0x65, 0x00, 0x3e,
	0x00, 0x3e, 0x00, 0x3e,
};

/* The signed attributes signtool writes, and no signingTime. */
static void
test_sign_pe_writes_the_authenticode_attributes(void **state)
{
	const char *f = tl_copy(TP.exe32, "attrs.exe");
	const char *txt = tl_pe_path("attrs.txt");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];
	unsigned char *t;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	o.desc = "Grüße";
	sign_ok(&TS.ec, f, &o, &res);
	free(tl_ossl_sig(f, &n));
	unlink(txt);
	assert_int_equal(tl_run("openssl asn1parse -inform DER -in '%s' > "
	    "'%s'", tl_pe_path("extracted.der"), txt), 0);
	t = tl_slurp(txt, &n, 0);
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.4");	/* content */
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.15");	/* PE image */
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.12");	/* opus */
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.11");	/* statement */
	assert_has((char *)t, ":Microsoft Individual Code Signing");
	assert_has((char *)t, ":messageDigest");
	assert_has((char *)t, ":contentType");
	assert_has((char *)t, ":ecdsa-with-SHA256");
	assert_null(strstr((char *)t, "signingTime"));
	free(t);
	/* SpcPeImageData as signtool writes it: empty flags, then the
	 * "<<<Obsolete>>>" file link in UTF-16 */
	t = tl_slurp(tl_pe_path("extracted.der"), &n, 0);
	assert_non_null(memmem(t, n, pe_image_data, sizeof(pe_image_data)));
	free(t);
	/* the description went in as UTF-16 and comes back as written */
	ossl_ok(f, 1, text, sizeof(text));
	assert_has(text, "Text description: Grüße");
}

/* ---- replacing and nesting ---------------------------------------------- */

static void
test_sign_pe_replaces_an_existing_signature(void **state)
{
	const char *f = tl_pe_path("resign.exe");
	struct hd_sign_pe_opts o = opts("sha384");
	struct hd_sign_pe_result res;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	tl_ossl_sign(TP.exe64, f, "sha256");	/* self-signed, not our CA */
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.had_signature, 1);
	assert_int_equal(res.nsigs, 1);
	ossl_ok(f, 1, text, sizeof(text));
	assert_has(text, "Message digest algorithm  : SHA384");
	assert_null(strstr(text, "hsmdesk-test"));	/* the old signer */

	/* and our own, by another key */
	o.md = "sha256";
	sign_ok(&TS.ec, f, &o, &res);
	assert_int_equal(res.nsigs, 1);
	ossl_ok(f, 1, text, sizeof(text));
	assert_has(text, "CN=hsmdesk Test Signer ec");
	assert_null(strstr(text, "CN=hsmdesk Test Signer rsa"));
}

static void
test_sign_pe_append_nests_a_second_signature(void **state)
{
	const char *f = tl_copy(TP.exe64, "nested.exe");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[32768];

	(void)state;
	TL_NEED_SIGN();
	o.append = 1;		/* unsigned: the first becomes the primary */
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.had_signature, 0);
	assert_int_equal(res.nsigs, 1);
	o.md = "sha384";
	o.desc = DESC;
	sign_ok(&TS.ec, f, &o, &res);
	assert_int_equal(res.had_signature, 1);
	assert_int_equal(res.nsigs, 2);
	ossl_ok(f, 2, text, sizeof(text));
	assert_has(text, "Signature Index: 0  (Primary Signature)");
	assert_has(text, "Signature Index: 1");
	assert_has(text, "Message digest algorithm  : SHA256");
	assert_has(text, "Message digest algorithm  : SHA384");
	assert_has(text, "CN=hsmdesk Test Signer rsa");
	assert_has(text, "CN=hsmdesk Test Signer ec");

	/* a third goes into the same nested-signature attribute */
	o.md = "sha512";
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.nsigs, 3);
	ossl_ok(f, 3, text, sizeof(text));
	assert_has(text, "Message digest algorithm  : SHA512");
}

/* Nested into osslsigncode's signature, which must survive intact. */
static void
test_sign_pe_append_to_a_foreign_signature(void **state)
{
	const char *f = tl_pe_path("foreign.exe");
	const char *both = tl_pe_path("both-cas.pem");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[32768];

	(void)state;
	TL_NEED_SIGN();
	tl_ossl_sign(TP.exe32, f, "sha256");
	assert_int_equal(tl_run("cat '%s' '%s' > '%s'", TS.root, TP.cert,
	    both), 0);
	o.append = 1;
	sign_ok(&TS.ec, f, &o, &res);
	assert_int_equal(res.nsigs, 2);
	if (tl_ossl_verify_ca(f, both, text, sizeof(text)) != 0)
		fail_msg("osslsigncode verify failed:\n%s", text);
	assert_has(text, "Number of verified signatures: 2");
	assert_has(text, "Subject: /CN=hsmdesk-test");
	assert_has(text, "CN=hsmdesk Test Signer ec");
}

/* ---- the file in place --------------------------------------------------- */

static void
test_sign_pe_keeps_a_read_only_mode(void **state)
{
	const char *f = tl_copy(TP.exe32, "readonly.exe");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];
	struct stat st;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(chmod(f, 0444), 0);
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	ossl_ok(f, 1, text, sizeof(text));
}

/* Root can test giving the signed file back to another owner. */
static void
test_sign_pe_keeps_the_owner(void **state)
{
	const char *f = tl_copy(TP.exe32, "owned.exe");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];
	struct stat st;

	(void)state;
	TL_NEED_SIGN();
	if (geteuid() != 0) {
		print_message("skipped: only root can make a file another "
		    "user's\n");
		skip();
	}
	assert_int_equal(chown(f, 65534, 65534), 0);
	assert_int_equal(chmod(f, 0640), 0);
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0640);
	ossl_ok(f, 1, text, sizeof(text));
}

static void
test_sign_pe_signs_the_target_of_a_symlink(void **state)
{
	const char *dir = tl_pe_path("links");
	char target[800], link[800], real[PATH_MAX], buf[800], text[16384];
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct stat st;
	ssize_t n;

	(void)state;
	TL_NEED_SIGN();
	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(link, sizeof(link), "%s/sub", dir);
	assert_int_equal(mkdir(link, 0700), 0);
	snprintf(target, sizeof(target), "%s/real.exe", dir);
	assert_int_equal(tl_run("cp '%s' '%s'", TP.exe64, target), 0);
	snprintf(link, sizeof(link), "%s/sub/link.exe", dir);
	assert_int_equal(symlink("../real.exe", link), 0);

	sign_ok(&TS.ec, link, &o, &res);
	assert_non_null(realpath(target, real));
	assert_string_equal(res.path, real);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(link, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "../real.exe");
	ossl_ok(target, 1, text, sizeof(text));
	/* the temp file was made beside the target and is gone */
	assert_int_equal(tl_count_entries(dir), 2);
	snprintf(buf, sizeof(buf), "%s/sub", dir);
	assert_int_equal(tl_count_entries(buf), 1);
}

static void
test_sign_pe_reports_other_hard_links(void **state)
{
	const char *f = tl_copy(TP.exe32, "linked.exe");
	const char *other = tl_pe_path("other-name.exe");
	const char *pristine = tl_copy(TP.exe32, "pristine.exe");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	unlink(other);
	assert_int_equal(link(f, other), 0);
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.other_links, 1);
	ossl_ok(f, 1, text, sizeof(text));
	/* the other name still holds the unsigned file */
	assert_true(tl_same_file(other, pristine));
}

static void
test_sign_pe_writes_a_signed_copy(void **state)
{
	const char *in = tl_copy(TP.dll64, "copy-in.dll");
	const char *out = tl_pe_path("copy-out.dll");
	const char *pristine = tl_copy(TP.dll64, "copy-pristine.dll");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct hd_err err;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	unlink(out);
	o.out = out;
	sign_ok(&TS.rsa, in, &o, &res);
	assert_string_equal(res.path, out);
	assert_true(tl_same_file(in, pristine));
	ossl_ok(out, 1, text, sizeof(text));
	/* an existing copy is kept without replace */
	assert_int_equal(sign_fails(&TS.rsa, NULL, in, &o, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	o.replace = 1;
	sign_ok(&TS.ec, in, &o, &res);
	ossl_ok(out, 1, text, sizeof(text));
}

/* ---- failures leave the file as it was ----------------------------------- */

struct cancel_at {
	uint64_t after;		/* cancel once done passes this */
	uint64_t last_done, last_total;
	int calls;
};

static int
cancel_progress(void *arg, uint64_t done, uint64_t total)
{
	struct cancel_at *c = arg;

	assert_true(done >= c->last_done);
	assert_true(done <= total);
	c->last_done = done;
	c->last_total = total;
	c->calls++;
	return done > c->after;
}

/* Signing f fails with code and message want; f and its dir unchanged. */
static void
fails_unchanged(const struct tl_signer *sg, const struct hd_der *cert,
    const char *fixture, const struct hd_sign_pe_opts *o, enum hd_code code,
    const char *want)
{
	const char *dir = tl_pe_path("fail-dir");
	char f[800], copy[800];
	struct hd_err err;

	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(f, sizeof(f), "%s/victim.exe", dir);
	snprintf(copy, sizeof(copy), "%s", tl_copy(fixture, "victim.orig"));
	assert_int_equal(tl_run("cp -p '%s' '%s'", copy, f), 0);
	assert_int_equal(sign_fails(sg, cert, f, o, &err), -1);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, want) == NULL)
		fail_msg("expected '%s' in '%s'", want, err.msg);
	assert_true(tl_same_file(f, copy));
	assert_int_equal(tl_count_entries(dir), 1);
}

static void
test_sign_pe_cancelled_leaves_the_file_unchanged(void **state)
{
	struct hd_sign_pe_opts o = opts("sha256");
	struct cancel_at c;
	struct hd_sign_pe_result res;
	const char *f;
	struct stat st;

	(void)state;
	TL_NEED_SIGN();
	o.progress = cancel_progress;
	o.arg = &c;
	/* while hashing */
	memset(&c, 0, sizeof(c));
	fails_unchanged(&TS.rsa, NULL, TP.tail, &o, HD_E_CANCELLED,
	    "cancelled");
	assert_true(c.calls >= 1);
	/* after the token signed, at the bar's last step: the file is
	 * copied (st_size, padded to 8) and the signature added */
	assert_int_equal(stat(TP.tail, &st), 0);
	memset(&c, 0, sizeof(c));
	c.after = ((uint64_t)st.st_size + 7) / 8 * 8;
	fails_unchanged(&TS.rsa, NULL, TP.tail, &o, HD_E_CANCELLED,
	    "cancelled; nothing was written");
	assert_true(c.last_done > (uint64_t)st.st_size);

	/* uncancelled, the bar runs from 0 to its end */
	f = tl_copy(TP.tail, "progress.exe");
	memset(&c, 0, sizeof(c));
	c.after = UINT64_MAX;
	sign_ok(&TS.ec, f, &o, &res);
	assert_true(c.calls > 2);
	assert_true(c.last_total > 0);
	assert_int_equal(c.last_done, c.last_total);
}

/* A writer that changes the file while it is being copied. */
struct meddle {
	const char *path;
	off_t off;		/* where to write; -1: append a byte */
	int done;
};

static int
meddle_progress(void *arg, uint64_t done, uint64_t total)
{
	struct meddle *m = arg;
	unsigned char b = 0x5a;
	FILE *f;

	(void)total;
	if (m->done || done == 0)
		return 0;
	m->done = 1;
	assert_non_null(f = fopen(m->path, m->off < 0 ? "ab" : "r+b"));
	if (m->off >= 0)
		assert_int_equal(fseeko(f, m->off, SEEK_SET), 0);
	assert_int_equal(fwrite(&b, 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	return 0;
}

/* Changed while signed: refused, the file left as the other writer made
 * it, no signature added, no temp file left. */
static void
changed_while_signing(off_t off)
{
	const char *dir = tl_pe_path("meddle-dir");
	struct hd_sign_pe_opts o = opts("sha256");
	char f[800], want[900];
	struct hd_err err;
	struct meddle m;
	unsigned char *b;
	size_t n, n2;

	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(f, sizeof(f), "%s/victim.exe", dir);
	b = tl_slurp(TP.exe64, &n, 0);
	tl_spit(f, b, n);
	memset(&m, 0, sizeof(m));
	m.path = f;
	m.off = off;
	o.progress = meddle_progress;
	o.arg = &m;
	assert_int_equal(sign_fails(&TS.rsa, NULL, f, &o, &err), -1);
	assert_true(m.done);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: changed while being signed", f);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("expected '%s' in '%s'", want, err.msg);
	free(b);
	b = tl_slurp(f, &n2, 0);
	assert_int_equal(n2, off < 0 ? n + 1 : n);
	assert_int_equal(b[off < 0 ? n : (size_t)off], 0x5a);
	free(b);
	assert_int_equal(tl_count_entries(dir), 1);
}

static void
test_sign_pe_refuses_a_file_changed_while_signing(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	changed_while_signing(0x40);	/* copied already: its times */
	changed_while_signing(-1);	/* grown: its size */
}

static void
test_sign_pe_refuses_a_certificate_of_another_key(void **state)
{
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_der rsa_cert = { TS.rsa.der, TS.rsa.len };

	(void)state;
	TL_NEED_SIGN();
	fails_unchanged(&TS.ec, &rsa_cert, TP.exe64, &o, HD_E_INPUT,
	    "does not verify with certificate");
}

static void
test_sign_pe_refuses_a_certificate_not_for_code_signing(void **state)
{
	struct hd_sign_pe_opts o = opts("sha256");

	(void)state;
	TL_NEED_SIGN();
	fails_unchanged(&TS.rsa, &TS.tls, TP.exe64, &o, HD_E_INPUT,
	    "not for code signing");
}

/* Nesting into a signature that does not verify would hide it. */
static void
test_sign_pe_append_refuses_a_broken_signature(void **state)
{
	const char *f = tl_copy(TP.exe32, "broken-primary.exe");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	unsigned char *b;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	sign_ok(&TS.rsa, f, &o, &res);
	b = tl_slurp(f, &n, 0);
	b[n - 40] ^= 0x10;	/* the RSA signature value, at the end */
	tl_spit(f, b, n);
	free(b);
	o.append = 1;
	fails_unchanged(&TS.ec, NULL, f, &o, HD_E_INPUT, "the existing "
	    "signature cannot be appended to: the signature does not verify "
	    "with the signer's certificate");
}

static void
test_sign_pe_refuses_bad_options(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct hd_der bad = { junk, sizeof(junk) };
	struct hd_sign_pe_opts o = opts("md5");

	(void)state;
	TL_NEED_SIGN();
	fails_unchanged(&TS.rsa, NULL, TP.exe32, &o, HD_E_USAGE,
	    "digest algorithm 'md5': not supported");
	o = opts("sha256");
	o.url = "https://example.com/ö";
	fails_unchanged(&TS.rsa, NULL, TP.exe32, &o, HD_E_USAGE,
	    "only printable ASCII");
	o = opts("sha256");
	fails_unchanged(&TS.rsa, &bad, TP.exe32, &o, HD_E_INPUT,
	    "signer certificate: not one DER-encoded X.509 certificate");
}

static void
test_sign_pe_refuses_what_is_not_a_pe_file(void **state)
{
	static const char notes[] = "Just text, no program.  Long enough for "
	    "an MS-DOS header, but it starts with the wrong letters.\n";
	const char *f = tl_pe_path("notes.txt");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_err err;

	(void)state;
	TL_NEED_SIGN();
	tl_spit(f, notes, strlen(notes));
	assert_int_equal(sign_fails(&TS.rsa, NULL, f, &o, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_has(err.msg, "no MZ signature");
	assert_int_equal(sign_fails(&TS.rsa, NULL, tl_pe_path("missing.exe"),
	    &o, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_has(err.msg, "cannot open");
}

/* Without a login the token cannot sign: an error, the file unchanged. */
static void
test_sign_pe_without_login_fails_cleanly(void **state)
{
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_pin *pin = tl_pin(TL_PIN);
	struct hd_err err;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(hd_logout(TS.s, &err), 0);
	fails_unchanged(&TS.rsa, NULL, TP.exe32, &o, HD_E_TOKEN, "key 'rsa'");
	assert_int_equal(hd_login(TS.s, pin, &err), 0);
	hd_pin_free(pin);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sign_pe_rsa_sha256_verifies),
		T(test_sign_pe_rsa_sha384_verifies),
		T(test_sign_pe_ec_sha256_and_sha384_verify),
		T(test_sign_pe_writes_the_authenticode_attributes),
		T(test_sign_pe_replaces_an_existing_signature),
		T(test_sign_pe_append_nests_a_second_signature),
		T(test_sign_pe_append_to_a_foreign_signature),
		T(test_sign_pe_keeps_a_read_only_mode),
		T(test_sign_pe_keeps_the_owner),
		T(test_sign_pe_signs_the_target_of_a_symlink),
		T(test_sign_pe_reports_other_hard_links),
		T(test_sign_pe_writes_a_signed_copy),
		T(test_sign_pe_cancelled_leaves_the_file_unchanged),
		T(test_sign_pe_refuses_a_file_changed_while_signing),
		T(test_sign_pe_refuses_a_certificate_of_another_key),
		T(test_sign_pe_refuses_a_certificate_not_for_code_signing),
		T(test_sign_pe_append_refuses_a_broken_signature),
		T(test_sign_pe_refuses_bad_options),
		T(test_sign_pe_refuses_what_is_not_a_pe_file),
		T(test_sign_pe_without_login_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
