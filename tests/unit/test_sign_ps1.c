/*
 * core/sign_ps1.c (and ps1.c): PowerShell scripts signed with keys on a
 * SoftHSM2 token, each checked by osslsigncode verify against the test
 * CA; the script keeps its bytes, encoding and line ends, the block is
 * the one PowerShell writes, and a script that is not valid text or has
 * a damaged block is refused with the file byte for byte as it was.
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

#define BEGIN "\r\n# SIG # Begin signature block\r\n"
#define END "# SIG # End signature block\r\n"

static const char crlf_script[] =
    "param([string]$Name = 'World')\r\n"
    "Write-Output \"Hello, $Name\"\r\n";
static const char lf_script[] =
    "# a script with Unix line ends\n"
    "Get-ChildItem -Path . | Select-Object -First 3\n";
/* non-ASCII in its first 32 bytes: Windows reads it as UTF-8 too */
static const char utf8_script[] =
    "# Grüße, café — naïve résumé 日本語 😀\r\n"
    "Write-Host 'Größe: 3 €'\r\n";

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

	if (hd_sign_ps1(TS.s, &sg->key, &cert, &TS.inter, 1, path, o, res,
	    &err) == -1)
		fail_msg("hd_sign_ps1 %s: %s (%s)", path, err.msg, err.ossl);
}

static void
assert_has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("expected '%s' in:\n%s", what, text);
}

/* osslsigncode verifies path with the test root: n signatures, all ok. */
static void
ossl_ok(const char *path, int n, char *text, size_t len)
{
	char want[64];

	if (tl_ossl_verify_ca(path, TS.root, text, len) != 0)
		fail_msg("osslsigncode verify %s failed:\n%s", path, text);
	assert_has(text, "Signature verification: ok");
	snprintf(want, sizeof(want), "Number of verified signatures: %d", n);
	assert_has(text, want);
	assert_null(strstr(text, "MISMATCH"));
}

static const char *
script(const char *name, const void *data, size_t n)
{
	const char *f = tl_pe_path(name);

	unlink(f);
	tl_spit(f, data, n);
	assert_int_equal(chmod(f, 0644), 0);
	return f;
}

/* UTF-8 text as UTF-16LE with a BOM (iconv does the work). */
static const char *
utf16_script(const char *name, const char *text)
{
	const char *in = tl_pe_path("utf16-in.txt"), *f = tl_pe_path(name);

	tl_spit(in, text, strlen(text));
	unlink(f);
	assert_int_equal(tl_run("(printf '\\377\\376'; iconv -f UTF-8 -t "
	    "UTF-16LE '%s') > '%s'", in, f), 0);
	return f;
}

/*
 * The signed file at f: the original bytes, then the block in the
 * encoding (unit 1 for UTF-8, 2 for UTF-16LE) with CR LF line ends,
 * "# " lines of 64 base64 characters, and nothing after its end line.
 */
static void
assert_layout(const char *f, const void *orig, size_t n, size_t unit)
{
	unsigned char *b;
	char *block;
	size_t len, i, k = 0, col = 0;

	b = tl_slurp(f, &len, 1);
	assert_true(len > n);
	assert_memory_equal(b, orig, n);
	assert_true((len - n) % unit == 0);
	block = calloc(1, (len - n) / unit + 1);
	assert_non_null(block);
	for (i = n; i < len; i += unit) {
		if (unit == 2)
			assert_int_equal(b[i + 1], 0);
		block[k++] = (char)b[i];
	}
	assert_memory_equal(block, BEGIN, strlen(BEGIN));
	assert_string_equal(block + k - strlen(END), END);
	for (i = strlen(BEGIN); i < k - strlen(END); i++) {
		if (col == 0)
			assert_memory_equal(block + i, "# ", 2);
		if (block[i] == '\n') {
			assert_int_equal(block[i - 1], '\r');
			/* "# " + 64 + CR, the last line shorter */
			assert_true(col <= 2 + 64 + 1);
			if (i + 1 < k - strlen(END))
				assert_int_equal(col, 2 + 64 + 1);
			col = 0;
		} else {
			col++;
		}
	}
	free(block);
	free(b);
}

/* ---- signatures osslsigncode accepts ----------------------------------- */

static void
check_signed(const char *name, const void *text, size_t n, size_t unit,
    const struct tl_signer *sg, const char *md, const char *want_md)
{
	const char *f = unit == 2 ? utf16_script(name, text) :
	    script(name, text, n);
	struct hd_sign_pe_opts o = opts(md);
	struct hd_sign_pe_result res;
	unsigned char *orig;
	char text_out[16384], line[128];
	size_t olen;

	orig = tl_slurp(f, &olen, 0);
	sign_ok(sg, f, &o, &res);
	assert_int_equal(res.nsigs, 1);
	assert_int_equal(res.had_signature, 0);
	assert_string_equal(res.sha1, sg->sha1);
	assert_string_equal(res.md, want_md);
	assert_layout(f, orig, olen, unit);
	free(orig);
	ossl_ok(f, 1, text_out, sizeof(text_out));
	snprintf(line, sizeof(line), "Message digest algorithm  : %s",
	    want_md);
	assert_has(text_out, line);
	snprintf(line, sizeof(line), "CN=%s", sg->cn);
	assert_has(text_out, line);
}

static void
test_sign_ps1_crlf_script_rsa_and_ec_verify(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed("crlf.ps1", crlf_script, strlen(crlf_script), 1,
	    &TS.rsa, NULL, "SHA256");
	check_signed("crlf-ec.psm1", crlf_script, strlen(crlf_script), 1,
	    &TS.ec, "sha384", "SHA384");
}

/* An LF script keeps its LF lines; only the block has CR LF. */
static void
test_sign_ps1_lf_script_keeps_its_line_ends(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed("lf.ps1", lf_script, strlen(lf_script), 1, &TS.ec,
	    "sha256", "SHA256");
	check_signed("lf-rsa.psd1", lf_script, strlen(lf_script), 1, &TS.rsa,
	    "sha512", "SHA512");
}

static void
test_sign_ps1_utf8_with_and_without_bom(void **state)
{
	char bom[256];

	(void)state;
	TL_NEED_SIGN();
	snprintf(bom, sizeof(bom), "\xef\xbb\xbf%s", crlf_script);
	check_signed("bom.ps1", bom, strlen(bom), 1, &TS.rsa, "sha256",
	    "SHA256");
	snprintf(bom, sizeof(bom), "\xef\xbb\xbf%s", utf8_script);
	check_signed("bom-utf8.ps1", bom, strlen(bom), 1, &TS.ec, "sha256",
	    "SHA256");
	/* without a BOM, non-ASCII where Windows looks for it */
	check_signed("nobom-utf8.ps1", utf8_script, strlen(utf8_script), 1,
	    &TS.rsa, "sha256", "SHA256");
}

static void
test_sign_ps1_utf16le_script(void **state)
{
	(void)state;
	TL_NEED_SIGN();
	check_signed("utf16.ps1", crlf_script, 0, 2, &TS.rsa, "sha256",
	    "SHA256");
	/* non-BMP text: surrogate pairs */
	check_signed("utf16-nonascii.ps1", utf8_script, 0, 2, &TS.ec,
	    "sha256", "SHA256");
	check_signed("utf16-lf.ps1", lf_script, 0, 2, &TS.ec, "sha384",
	    "SHA384");
}

/* An empty script is signed if it has a BOM; a 0-byte file is refused
 * (signtool cannot sign one and osslsigncode cannot check one). */
static void
test_sign_ps1_empty_script(void **state)
{
	struct hd_der cert = { TS.rsa.der, TS.rsa.len };
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct hd_err err;
	const char *f;

	(void)state;
	TL_NEED_SIGN();
	check_signed("empty-bom.ps1", "\xef\xbb\xbf", 3, 1, &TS.rsa, "sha256",
	    "SHA256");
	check_signed("empty-utf16.ps1", "", 0, 2, &TS.ec, "sha256", "SHA256");
	f = script("empty.ps1", "", 0);
	assert_int_equal(hd_sign_ps1(TS.s, &TS.rsa.key, &cert, &TS.inter, 1,
	    f, &o, &res, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_has(err.msg, "empty");
}

/* The SpcIndirectDataContent names the PowerShell SIP in SpcSipInfo. */
static void
test_sign_ps1_writes_spc_sip_info(void **state)
{
	const char *f = script("sipinfo.ps1", crlf_script, strlen(crlf_script));
	const char *txt = tl_pe_path("sipinfo.txt");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	unsigned char *t;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	sign_ok(&TS.ec, f, &o, &res);
	unlink(txt);
	assert_int_equal(tl_run("sed -n '/Begin signature block/,/End "
	    "signature block/p' '%s' | grep -v 'SIG #' | sed 's/^# //' | "
	    "tr -d '\\r' | openssl base64 -d | openssl asn1parse -inform DER "
	    "> '%s'", f, txt), 0);
	t = tl_slurp(txt, &n, 0);
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.4");	/* content */
	assert_has((char *)t, ":1.3.6.1.4.1.311.2.1.30");	/* SIP info */
	assert_has((char *)t, "INTEGER           :010000");	/* version */
	/* {603BCC1F-4B59-4E08-B724-D2C6297EF351} as Windows stores it */
	assert_has((char *)t, "[HEX DUMP]:1FCC3B60594B084EB724D2C6297EF351");
	assert_has((char *)t, ":Microsoft Individual Code Signing");
	assert_has((char *)t, ":ecdsa-with-SHA256");
	assert_null(strstr((char *)t, ":1.3.6.1.4.1.311.2.1.15"));
	free(t);
}

/* ---- replacing and nesting ---------------------------------------------- */

static size_t
count_blocks(const char *f)
{
	unsigned char *b;
	size_t n, k = 0;
	const unsigned char *p;

	b = tl_slurp(f, &n, 0);
	for (p = b; (p = memmem(p, n - (size_t)(p - b), "Begin signature",
	    15)) != NULL; p++)
		k++;
	free(b);
	return k;
}

static void
test_sign_ps1_replaces_an_existing_signature(void **state)
{
	const char *f = script("resign.ps1", lf_script, strlen(lf_script));
	const char *fo = tl_pe_path("ossl-signed.ps1");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];

	(void)state;
	TL_NEED_SIGN();
	sign_ok(&TS.rsa, f, &o, &res);
	o.md = "sha384";
	sign_ok(&TS.ec, f, &o, &res);
	assert_int_equal(res.had_signature, 1);
	assert_int_equal(res.nsigs, 1);
	assert_int_equal(count_blocks(f), 1);
	ossl_ok(f, 1, text, sizeof(text));
	assert_has(text, "CN=hsmdesk Test Signer ec");
	assert_null(strstr(text, "CN=hsmdesk Test Signer rsa"));
	assert_layout(f, lf_script, strlen(lf_script), 1);

	/* osslsigncode's own signature, replaced by ours */
	tl_ossl_sign(script("to-ossl.ps1", crlf_script, strlen(crlf_script)),
	    fo, "sha256");
	sign_ok(&TS.rsa, fo, &o, &res);
	assert_int_equal(res.had_signature, 1);
	ossl_ok(fo, 1, text, sizeof(text));
	assert_null(strstr(text, "hsmdesk-test"));
	assert_layout(fo, crlf_script, strlen(crlf_script), 1);
}

static void
test_sign_ps1_append_nests_a_second_signature(void **state)
{
	const char *f = utf16_script("nested.ps1", utf8_script);
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[32768];

	(void)state;
	TL_NEED_SIGN();
	o.append = 1;
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.nsigs, 1);
	o.md = "sha384";
	sign_ok(&TS.ec, f, &o, &res);
	assert_int_equal(res.had_signature, 1);
	assert_int_equal(res.nsigs, 2);
	assert_int_equal(count_blocks(f), 0);	/* UTF-16: not bytes */
	ossl_ok(f, 2, text, sizeof(text));
	assert_has(text, "CN=hsmdesk Test Signer rsa");
	assert_has(text, "CN=hsmdesk Test Signer ec");
	assert_has(text, "Message digest algorithm  : SHA384");
	o.md = "sha512";
	sign_ok(&TS.rsa, f, &o, &res);
	assert_int_equal(res.nsigs, 3);
	ossl_ok(f, 3, text, sizeof(text));
}

/* ---- the file in place --------------------------------------------------- */

static void
test_sign_ps1_keeps_mode_and_signs_a_symlink_target(void **state)
{
	const char *dir = tl_pe_path("ps1-links");
	char target[800], link[800], real[PATH_MAX], text[16384];
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct stat st;

	(void)state;
	TL_NEED_SIGN();
	tl_rmrf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/real.ps1", dir);
	tl_spit(target, crlf_script, strlen(crlf_script));
	assert_int_equal(chmod(target, 0444), 0);
	snprintf(link, sizeof(link), "%s/link.ps1", dir);
	assert_int_equal(symlink("real.ps1", link), 0);
	sign_ok(&TS.ec, link, &o, &res);
	assert_non_null(realpath(target, real));
	assert_string_equal(res.path, real);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	ossl_ok(target, 1, text, sizeof(text));
	assert_int_equal(tl_count_entries(dir), 2);	/* no temp file left */
}

static void
test_sign_ps1_writes_a_signed_copy(void **state)
{
	const char *in = script("copy-in.ps1", lf_script, strlen(lf_script));
	const char *out = tl_pe_path("copy-out.ps1");
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	char text[16384];
	unsigned char *b;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	unlink(out);
	o.out = out;
	sign_ok(&TS.rsa, in, &o, &res);
	assert_string_equal(res.path, out);
	b = tl_slurp(in, &n, 0);
	assert_int_equal(n, strlen(lf_script));
	assert_memory_equal(b, lf_script, n);
	free(b);
	ossl_ok(out, 1, text, sizeof(text));
}

/* ---- refusals leave the file as it was ----------------------------------- */

/* Signing data as name fails with HD_E_INPUT and want; file unchanged. */
static void
refused(const char *name, const void *data, size_t n, const char *want)
{
	const char *dir = tl_pe_path("ps1-fail");
	struct hd_der cert = { TS.rsa.der, TS.rsa.len };
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct hd_err err;
	char f[800];
	unsigned char *b;
	size_t len;
	int append;

	for (append = 0; append <= 1; append++) {
		tl_rmrf(dir);
		assert_int_equal(mkdir(dir, 0700), 0);
		snprintf(f, sizeof(f), "%s/%s", dir, name);
		tl_spit(f, data, n);
		o.append = append;
		assert_int_equal(hd_sign_ps1(TS.s, &TS.rsa.key, &cert,
		    &TS.inter, 1, f, &o, &res, &err), -1);
		assert_int_equal(err.code, HD_E_INPUT);
		if (strstr(err.msg, want) == NULL)
			fail_msg("expected '%s' in '%s'", want, err.msg);
		assert_true(strncmp(err.msg, f, strlen(f)) == 0);
		b = tl_slurp(f, &len, 0);
		assert_int_equal(len, n);
		assert_memory_equal(b, data, n);
		free(b);
		assert_int_equal(tl_count_entries(dir), 1);
	}
}

static void
test_sign_ps1_refuses_what_is_not_text(void **state)
{
	static const char nul[] = "Write-Host 'a'\r\n\0Write-Host 'b'\r\n";
	static const char odd[] = "\xff\xfeW\0r\0i";
	static const char be[] = "\xfe\xff\0W\0r";
	static const char lone[] = "\xff\xfeW\0\x00\xd8x\0";
	char late[200];
	unsigned char *exe;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	refused("latin1.ps1", "# Gr\xfc\xdf" "e\r\n", 9,
	    "an invalid UTF-8 sequence at byte 4");
	refused("overlong.ps1", "# \xc0\xaf\r\n", 6,
	    "an invalid UTF-8 sequence");
	refused("surrogate.ps1", "# \xed\xa0\x80\r\n", 7,
	    "an invalid UTF-8 sequence");
	refused("nul.ps1", nul, sizeof(nul) - 1, "a NUL character at byte 16");
	refused("odd.ps1", odd, sizeof(odd) - 1, "an odd number of bytes, a "
	    "lone one at byte 6");
	refused("lone.ps1", lone, sizeof(lone) - 1, "a lone high surrogate");
	refused("be.ps1", be, sizeof(be) - 1, "UTF-16BE");
	/* Windows would read this one in the ANSI code page */
	snprintf(late, sizeof(late), "Write-Host 'plain ASCII at first'\r\n"
	    "Write-Host 'Grüße'\r\n");
	refused("late-utf8.ps1", late, strlen(late), "ANSI code page");
	/* a program named .ps1 */
	exe = tl_slurp(TP.exe32, &n, 0);
	refused("program.ps1", exe, n, "not valid UTF-8 text");
	free(exe);
}

static void
test_sign_ps1_refuses_a_damaged_block(void **state)
{
	const char *f = script("damage.ps1", crlf_script, strlen(crlf_script));
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	unsigned char *b;
	char *p;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	sign_ok(&TS.rsa, f, &o, &res);
	b = tl_slurp(f, &n, 1);
	/* truncated: the end line and the last lines gone */
	refused("truncated.ps1", b, n - 200, "no end line (truncated?)");
	/* one base64 character replaced by one that is not */
	p = strstr((char *)b, "# SIG # Begin signature block\r\n# ") + 40;
	*p = '!';
	refused("notb64.ps1", b, n, "not base64");
	*p = 'A';
	/* a base64 line dropped: still base64, no longer the DER */
	p = strstr((char *)b, "# SIG # Begin signature block\r\n") + 31;
	memmove(p, p + 68, n - (size_t)(p - (char *)b) - 68);
	refused("short.ps1", b, n - 68, "one DER structure");
	free(b);
	b = tl_slurp(f, &n, 8);
	memcpy(b + n, "more\r\n", 6);
	refused("after.ps1", b, n + 6, "text follows its end line");
	free(b);
}

static int
cancel_first(void *arg, uint64_t done, uint64_t total)
{
	int *calls = arg;

	assert_true(done <= total);
	(*calls)++;
	return 1;
}

/* Cancelled, or the certificate of another key: the script unchanged. */
static void
test_sign_ps1_failures_leave_the_script_unchanged(void **state)
{
	const char *f = script("fail.ps1", crlf_script, strlen(crlf_script));
	struct hd_der rsa_cert = { TS.rsa.der, TS.rsa.len };
	struct hd_sign_pe_opts o = opts("sha256");
	struct hd_sign_pe_result res;
	struct hd_err err;
	unsigned char *b;
	size_t n;
	int calls = 0;

	(void)state;
	TL_NEED_SIGN();
	o.progress = cancel_first;
	o.arg = &calls;
	assert_int_equal(hd_sign_ps1(TS.s, &TS.rsa.key, &rsa_cert, &TS.inter,
	    1, f, &o, &res, &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	assert_int_equal(calls, 1);
	o.progress = NULL;
	assert_int_equal(hd_sign_ps1(TS.s, &TS.ec.key, &rsa_cert, &TS.inter,
	    1, f, &o, &res, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_has(err.msg, "does not verify with certificate");
	b = tl_slurp(f, &n, 0);
	assert_int_equal(n, strlen(crlf_script));
	assert_memory_equal(b, crlf_script, n);
	free(b);
}

/* Root can test giving the signed script back to another owner. */
static void
test_sign_ps1_keeps_the_owner(void **state)
{
	const char *f = script("owned.ps1", lf_script, strlen(lf_script));
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
test_sign_ps1_knows_script_names(void **state)
{
	(void)state;
	assert_true(hd_ps1_name("a.ps1"));
	assert_true(hd_ps1_name("dir/Module.PSM1"));
	assert_true(hd_ps1_name("data.psd1"));
	assert_false(hd_ps1_name("a.ps1xml"));
	assert_false(hd_ps1_name(".ps1x"));
	assert_false(hd_ps1_name("ps1"));
	assert_false(hd_ps1_name("a.exe"));
	assert_false(hd_ps1_name(NULL));
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sign_ps1_crlf_script_rsa_and_ec_verify),
		T(test_sign_ps1_lf_script_keeps_its_line_ends),
		T(test_sign_ps1_utf8_with_and_without_bom),
		T(test_sign_ps1_utf16le_script),
		T(test_sign_ps1_empty_script),
		T(test_sign_ps1_writes_spc_sip_info),
		T(test_sign_ps1_replaces_an_existing_signature),
		T(test_sign_ps1_append_nests_a_second_signature),
		T(test_sign_ps1_keeps_mode_and_signs_a_symlink_target),
		T(test_sign_ps1_writes_a_signed_copy),
		T(test_sign_ps1_refuses_what_is_not_text),
		T(test_sign_ps1_refuses_a_damaged_block),
		T(test_sign_ps1_failures_leave_the_script_unchanged),
		T(test_sign_ps1_keeps_the_owner),
		T(test_sign_ps1_knows_script_names),
	};

	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
