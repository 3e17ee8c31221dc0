/*
 * core/inf.c, inf_keys.c and inf_text.c: certreq INF files as Windows
 * administrators write them, in the encodings Windows saves them in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsmdesk.h"
#include "testlib.h"

/* [Version] and [NewRequest]: three lines to add a fourth to. */
#define B "[Version]\nSignature = \"$Windows NT$\"\n[NewRequest]\n"

static int
setup(void **state)
{
	static struct tl_env e;

	if (tl_env_new(&e) == -1)
		return -1;
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	tl_env_free(*state);
	return 0;
}

static const char *
data(const char *file)
{
	static char path[1024];
	const char *top = getenv("HSMDESK_TOP");

	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".",
	    file);
	return path;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(70000);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 70000, f);
	fclose(f);
	return buf;
}

static const char *
write_bytes(void **state, const char *name, const void *bytes, size_t len)
{
	static char path[1024];
	struct tl_env *e = *state;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
load_ok(const char *path, int allow, struct hd_profile *p)
{
	struct hd_err err;

	if (hd_inf_load(p, path, allow, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(p->path, path);
}

static void
assert_refused_bytes(void **state, const void *text, size_t len,
    const char *where, const char *what)
{
	struct hd_profile p;
	struct hd_err err;
	char want[1600];
	const char *path = write_bytes(state, "request.inf", text, len);

	assert_int_equal(hd_inf_load(&p, path, 0, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_code_exit(err.code), 2);
	if (where[0] != '\0')
		snprintf(want, sizeof(want), "%s:%s: %s", path, where, what);
	else
		snprintf(want, sizeof(want), "%s: %s", path, what);
	assert_string_equal(err.msg, want);
	/* nothing half-loaded is left behind */
	assert_int_equal(p.nsubject + p.nsan + p.neku + p.nignored, 0);
	assert_string_equal(p.path, path);
}

static void
assert_refused(void **state, const char *text, const char *where,
    const char *what)
{
	assert_refused_bytes(state, text, strlen(text), where, what);
}

static void
assert_subject(const struct hd_profile *p, const char *want)
{
	char dn[1024];

	assert_int_equal(hd_dn_format(p->subject, p->nsubject, dn,
	    sizeof(dn)), 0);
	assert_string_equal(dn, want);
}

/* ---- the AWS walk-throughs, unchanged ---------------------------------- */

static void
test_inf_examples_are_byte_identical_to_shared(void **state)
{
	static const char *files[] = { "IISCertRequest.inf",
		"signtool-request.inf" };
	const char *top = getenv("HSMDESK_TOP");
	char shared[1024];
	size_t i, a, b;
	char *x, *y;
	FILE *f;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(shared, sizeof(shared), "%s/../shared/inf-examples/%s",
		    top ? top : ".", files[i]);
		if ((f = fopen(shared, "rb")) == NULL)
			skip();		/* a checkout without shared/ */
		fclose(f);
		x = slurp(shared, &a);
		y = slurp(data(files[i]), &b);
		assert_int_equal(a, b);
		assert_memory_equal(x, y, a);
		free(x);
		free(y);
	}
}

static void
assert_aws(const struct hd_profile *p, const char *dn)
{
	assert_int_equal(p->type, HD_KEY_RSA);
	assert_int_equal(p->bits, 2048);
	assert_string_equal(p->hash, "sha256");
	assert_int_equal(p->key_usage, HD_KU_DIGITAL_SIGNATURE);
	assert_int_equal(p->exportable, 0);
	assert_subject(p, dn);
	assert_int_equal(p->nignored, 2);
	assert_string_equal(p->ignored[0], "ProviderName");
	assert_string_equal(p->ignored[1], "MachineKeySet");
	assert_int_equal(p->neku + p->nsan, 0);
	assert_string_equal(p->cert_template, "");
}

static void
test_inf_aws_iis_request(void **state)
{
	struct hd_profile p;

	(void)state;
	load_ok(data("IISCertRequest.inf"), 0, &p);
	assert_aws(&p, "C=US, ST=Washington, L=Seattle, O=ExampleOrg, "
	    "OU=WebServer, CN=example.com");
	assert_string_equal(p.name, "inf:IISCertRequest.inf");
	assert_string_equal(p.description, "converted from IISCertRequest.inf");
	assert_string_equal(p.label, "iiscertrequest-{date}");
}

static void
test_inf_aws_signtool_request(void **state)
{
	struct hd_profile p;

	(void)state;
	load_ok(data("signtool-request.inf"), 0, &p);
	assert_aws(&p, "C=US, ST=Washington, L=Seattle, O=Information "
	    "Technology, OU=Certificate Management, CN=www.example.com");
	assert_string_equal(p.name, "inf:signtool-request.inf");
	assert_string_equal(p.label, "signtool-request-{date}");
}

static void
test_inf_aws_examples_are_not_ready_for_a_ca(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	load_ok(data("signtool-request.inf"), 0, &p);
	assert_int_equal(hd_profile_ready(&p, &err), -1);
	assert_string_equal(err.msg, "profile 'inf:signtool-request.inf': "
	    "subject CN 'www.example.com' looks like a placeholder: give the "
	    "real value with --subject \"CN=...\"");
}

/* The signtool request with LF for CRLF, or without trailing blanks. */
static void
test_inf_crlf_and_lf_read_the_same(void **state)
{
	struct hd_profile a, b;
	size_t len, i, n = 0;
	char *crlf = slurp(data("signtool-request.inf"), &len);
	char lf[4096];

	for (i = 0; i < len; i++)
		if (crlf[i] != '\r')
			lf[n++] = crlf[i];
	free(crlf);
	load_ok(data("signtool-request.inf"), 0, &a);
	load_ok(write_bytes(state, "lf.inf", lf, n), 0, &b);
	assert_subject(&b, "C=US, ST=Washington, L=Seattle, O=Information "
	    "Technology, OU=Certificate Management, CN=www.example.com");
	assert_int_equal(a.bits, b.bits);
	assert_int_equal(a.nignored, b.nignored);
}

static void
test_inf_utf8_bom(void **state)
{
	struct hd_profile p;
	size_t len;
	char *text = slurp(data("IISCertRequest.inf"), &len);
	char *bom = malloc(len + 3);

	memcpy(bom, "\xef\xbb\xbf", 3);
	memcpy(bom + 3, text, len);
	load_ok(write_bytes(state, "bom.inf", bom, len + 3), 0, &p);
	free(text);
	free(bom);
	assert_aws(&p, "C=US, ST=Washington, L=Seattle, O=ExampleOrg, "
	    "OU=WebServer, CN=example.com");
}

/* Text (ASCII, or UTF-8 up to U+FFFF plus one 4-byte character) in
 * UTF-16 with a byte order mark, as Notepad's "Unicode" saves it. */
static size_t
utf16(const unsigned char *in, size_t len, int be, unsigned char *out)
{
	size_t i = 0, n = 0;
	unsigned long cp, u[2];
	int k, nu;

	out[n++] = be ? 0xfe : 0xff;
	out[n++] = be ? 0xff : 0xfe;
	while (i < len) {
		if (in[i] < 0x80)
			cp = in[i++];
		else if (in[i] < 0xe0)
			cp = ((in[i] & 0x1fUL) << 6) | (in[i + 1] & 0x3f), i += 2;
		else if (in[i] < 0xf0)
			cp = ((in[i] & 0x0fUL) << 12) |
			    ((in[i + 1] & 0x3fUL) << 6) | (in[i + 2] & 0x3f),
			    i += 3;
		else
			cp = ((in[i] & 0x07UL) << 18) |
			    ((in[i + 1] & 0x3fUL) << 12) |
			    ((in[i + 2] & 0x3fUL) << 6) | (in[i + 3] & 0x3f),
			    i += 4;
		nu = 1;
		u[0] = cp;
		if (cp >= 0x10000) {
			u[0] = 0xd800 + ((cp - 0x10000) >> 10);
			u[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			nu = 2;
		}
		for (k = 0; k < nu; k++) {
			out[n++] = (unsigned char)(be ? u[k] >> 8 : u[k]);
			out[n++] = (unsigned char)(be ? u[k] : u[k] >> 8);
		}
	}
	return n;
}

static void
test_inf_utf16le_from_notepad(void **state)
{
	struct hd_profile p;
	unsigned char out[8192];
	size_t len, n;
	char *text = slurp(data("signtool-request.inf"), &len);

	n = utf16((unsigned char *)text, len, 0, out);
	free(text);
	load_ok(write_bytes(state, "unicode.inf", out, n), 0, &p);
	assert_aws(&p, "C=US, ST=Washington, L=Seattle, O=Information "
	    "Technology, OU=Certificate Management, CN=www.example.com");
}

static void
test_inf_utf16be_and_characters_beyond_the_bmp(void **state)
{
	static const char text[] = B "Subject = \"CN=Zo\xc3\xab \xf0\x9f\x94"
	    "\x91, C=DE\"\n";
	struct hd_profile p;
	unsigned char out[1024];
	size_t n = utf16((const unsigned char *)text, sizeof(text) - 1, 1,
	    out);

	load_ok(write_bytes(state, "be.inf", out, n), 0, &p);
	assert_subject(&p, "C=DE, CN=Zo\xc3\xab \xf0\x9f\x94\x91");
}

static void
test_inf_rejects_broken_utf16(void **state)
{
	static const unsigned char odd[] = { 0xff, 0xfe, '[', 0, 'V' };
	static const unsigned char lone[] = { 0xff, 0xfe, '[', 0, 0x00, 0xd8,
		'V', 0 };

	assert_refused_bytes(state, odd, sizeof(odd), "", "UTF-16 text of an "
	    "odd number of bytes");
	assert_refused_bytes(state, lone, sizeof(lone), "", "not valid UTF-16 "
	    "at byte 5");
}

static void
test_inf_rejects_utf16_without_bom(void **state)
{
	static const char text[] = "[\0V\0e\0r\0s\0i\0o\0n\0]\0";

	assert_refused_bytes(state, text, sizeof(text) - 1, "", "holds NUL "
	    "bytes, so it is not a text file (UTF-16 without a byte order "
	    "mark?)");
}

static void
test_inf_rejects_windows_code_page(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	const char *path = write_bytes(state, "ansi.inf", B "Subject = \"CN=Soci"
	    "\xe9t\xe9\"\n", strlen(B) + 23);

	assert_int_equal(hd_inf_load(&p, path, 0, &err), -1);
	assert_non_null(strstr(err.msg, ":4:19: not valid UTF-8 (saved in a "
	    "Windows code page?)"));
	assert_string_equal(err.hint, "save the file as UTF-8 or Unicode "
	    "(UTF-16) text");
}

/* ---- the rest of the subset -------------------------------------------- */

static void
test_inf_reads_extensions_eku_and_template(void **state)
{
	static const char *san[] = { "DNS:build.contoso.com",
		"DNS:www.contoso.com", "email:ops@contoso.com",
		"URI:https://contoso.com/build", "IP:192.0.2.10",
		"IP:2001:db8::10" };
	static const char *ignored[] = { "KeySpec", "SMIME",
		"PrivateKeyArchive", "UseExistingKeySet", "ProviderType" };
	struct hd_profile p;
	size_t i;

	(void)state;
	load_ok(data("webserver-san.inf"), 0, &p);
	assert_subject(&p, "C=DE, O=Contoso\\; Ltd, CN=build.contoso.com");
	assert_int_equal(p.type, HD_KEY_RSA);
	assert_int_equal(p.bits, 3072);
	assert_string_equal(p.hash, "sha384");
	assert_int_equal(p.key_usage, HD_KU_DIGITAL_SIGNATURE |
	    HD_KU_KEY_ENCIPHERMENT);
	assert_string_equal(p.label, "tls-{cn}-{date}");
	assert_int_equal(p.nsan, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(p.san[i], san[i]);
	assert_int_equal(p.neku, 3);
	assert_string_equal(p.eku[0], "serverAuth");
	assert_string_equal(p.eku[1], "clientAuth");
	assert_string_equal(p.eku[2], "1.3.6.1.4.1.311.10.3.13");
	assert_string_equal(p.cert_template, "WebServer");
	assert_int_equal(p.nignored, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(p.ignored[i], ignored[i]);
}

static void
test_inf_ecdsa_request(void **state)
{
	struct hd_profile p;

	(void)state;
	load_ok(data("codesign-p256.inf"), 0, &p);
	assert_int_equal(p.type, HD_KEY_EC);
	assert_string_equal(p.curve, "P-256");
	assert_int_equal(p.bits, 0);
	assert_int_equal(p.key_usage, HD_KU_DIGITAL_SIGNATURE);
	assert_string_equal(p.eku[0], "codeSigning");
	assert_subject(&p, "C=DE, ST=Berlin, L=Berlin, O=Contoso GmbH, "
	    "CN=Contoso Release Signing");
}

static void
test_inf_values_quoted_or_bare_and_defaults(void **state)
{
	static const char text[] = "[VERSION]\nsignature=$windows nt$\n"
	    "[NewRequest]\nSubject = CN=x\\, y,O=\"A \"\"B\"\"\"\nKeyUsage = "
	    "0x80 | CERT_KEY_AGREEMENT_KEY_USAGE\nKeyAlgorithm = \"ECDSA_P384\""
	    "\n\t  \n";
	struct hd_profile p;

	load_ok(write_bytes(state, "r.inf", text, sizeof(text) - 1), 0, &p);
	assert_subject(&p, "O=A \\\"B\\\", CN=x\\, y");
	assert_int_equal(p.key_usage, 0x88);
	assert_int_equal(p.type, HD_KEY_EC);
	assert_string_equal(p.curve, "P-384");
	assert_string_equal(p.hash, "sha256");		/* not given */
	load_ok(write_bytes(state, "s.inf", B "Subject = \"\"\n", strlen(B) +
	    13), 0, &p);
	assert_int_equal(p.nsubject, 0);	/* asked for at request time */
	assert_int_equal(p.bits, 2048);		/* certreq's default */
}

static void
test_inf_exportable_needs_allow_exportable(void **state)
{
	struct hd_profile p;
	const char *path;

	assert_refused(state, B "Exportable = TRUE\n", "4:14",
	    "Exportable = TRUE: hsmdesk keeps keys on the HSM; pass "
	    "--allow-exportable if policy really wants an exportable key");
	assert_refused(state, B "exportableencrypted = True\n", "4:23",
	    "ExportableEncrypted = True: hsmdesk keeps keys on the HSM; pass "
	    "--allow-exportable if policy really wants an exportable key");
	path = write_bytes(state, "x.inf", B "Exportable = TRUE\n",
	    strlen(B) + 18);
	load_ok(path, 1, &p);
	assert_int_equal(p.exportable, 1);
	assert_refused(state, B "Exportable = maybe\n", "4:14",
	    "Exportable = maybe: expected TRUE or FALSE");
}

static void
test_inf_rejects_other_request_types(void **state)
{
	assert_refused(state, B "RequestType = CMC\n", "4:15", "RequestType "
	    "= CMC: hsmdesk makes PKCS#10 requests only; set RequestType = "
	    "PKCS10 or remove the line");
	assert_refused(state, B "RequestType = Cert\n", "4:15", "RequestType "
	    "= Cert: hsmdesk makes PKCS#10 requests only; set RequestType = "
	    "PKCS10 or remove the line");
	assert_refused(state, B "RequestType = PKCS7\n", "4:15", "RequestType "
	    "= PKCS7: hsmdesk makes PKCS#10 requests only; set RequestType = "
	    "PKCS10 or remove the line");
}

static void
test_inf_rejects_sha1(void **state)
{
	assert_refused(state, B "HashAlgorithm = SHA1\n", "4:17",
	    "HashAlgorithm = SHA1: too weak, CAs refuse SHA-1 and MD5 "
	    "signatures; use SHA256, SHA384 or SHA512");
	assert_refused(state, B "HashAlgorithm = SHA3\n", "4:17",
	    "HashAlgorithm = SHA3: not supported; use SHA256, SHA384 or "
	    "SHA512");
}

static void
test_inf_rejects_bad_keys(void **state)
{
	assert_refused(state, B "KeyLength = 1024\n", "4:13", "KeyLength = "
	    "1024: below the minimum; use 2048, 3072 or 4096");
	assert_refused(state, B "KeyLength = 5000\n", "4:13", "KeyLength = "
	    "5000: not supported; use 2048, 3072 or 4096");
	assert_refused(state, B "KeyLength = 2k\n", "4:13", "KeyLength = 2k: "
	    "not a number; use 2048, 3072 or 4096");
	assert_refused(state, B "KeyAlgorithm = ECDSA_P521\n", "4:16",
	    "KeyAlgorithm = ECDSA_P521: not supported; use RSA, ECDSA_P256 or "
	    "ECDSA_P384");
	assert_refused(state, B "KeyAlgorithm = ECDSA_P256\nKeyLength = 384\n",
	    "5:13", "KeyLength = 384 does not match KeyAlgorithm = ECDSA_P256 "
	    "(256 bits); make it 256 or remove it");
}

static void
test_inf_rejects_bad_key_usage(void **state)
{
	assert_refused(state, B "KeyUsage = CERT_DIGITAL_SIGNATURE | 0x20\n",
	    "4:12", "KeyUsage: 'CERT_DIGITAL_SIGNATURE' is neither hex such as "
	    "0x80 nor a name such as CERT_DIGITAL_SIGNATURE_KEY_USAGE");
	assert_refused(state, B "KeyUsage = 160\n", "4:12", "KeyUsage: '160' "
	    "is neither hex such as 0x80 nor a name such as "
	    "CERT_DIGITAL_SIGNATURE_KEY_USAGE");
	assert_refused(state, B "KeyUsage = \"0x80|CERT_DECIPHER_ONLY_KEY_USAGE"
	    "\"\n", "4:12", "KeyUsage: encipherOnly and decipherOnly (0x01, "
	    "0x8000) are not supported");
	assert_refused(state, B "KeyUsage = 0x180\n", "4:12", "KeyUsage = "
	    "0x180: bits outside the X.509 key usages (0x02 to 0x80)");
	assert_refused(state, B "KeyUsage = 0x0\n", "4:12", "KeyUsage = 0x0: "
	    "no usage at all; name at least one or remove the line");
}

static void
test_inf_rejects_keys_that_change_the_request(void **state)
{
	assert_refused(state, B "SMIME = True\n", "4:9", "SMIME = True: adds "
	    "an S/MIME capabilities extension, which hsmdesk does not make; "
	    "set it to FALSE or remove the line");
	assert_refused(state, B "AlternateSignatureAlgorithm = TRUE\n",
	    "4:31", "AlternateSignatureAlgorithm = TRUE: asks for an RSA-PSS "
	    "signature; hsmdesk signs requests with PKCS#1 v1.5 or ECDSA; set "
	    "it to FALSE or remove the line");
	assert_refused(state, B "X500NameFlags = CERT_NAME_STR_REVERSE_FLAG\n",
	    "4:1", "X500NameFlags: changes how the subject is encoded; hsmdesk "
	    "encodes it as UTF8String in the order C, ST, L, O, OU, CN; "
	    "remove the line");
	assert_refused(state, B "RenewalCert = 4EDF274BD2919C6E9EC6A522F0F3B1"
	    "53E9B1582D\n", "4:1", "RenewalCert: makes a renewal request "
	    "(PKCS#7 or CMC); hsmdesk makes new PKCS#10 requests only; remove "
	    "the line");
}

static void
test_inf_rejects_unknown_and_duplicate_keys(void **state)
{
	assert_refused(state, B "KeyLenght = 4096\n", "4:1", "[NewRequest] "
	    "KeyLenght: unknown key; it could change the request");
	assert_refused(state, B "KeyLength = 2048\nkeylength = 4096\n", "5:1",
	    "[NewRequest] KeyLength: given twice (first on line 4)");
	assert_refused(state, "[Version]\nSignature = $Windows NT$\nClass = x"
	    "\n[NewRequest]\n", "3:1", "[Version] Class: only Signature "
	    "belongs here");
}

static void
test_inf_rejects_unknown_sections(void **state)
{
	assert_refused(state, B "[PolicyStatementExtension]\n", "4:1",
	    "[PolicyStatementExtension]: not supported; hsmdesk reads "
	    "[Version], [NewRequest], [Extensions], "
	    "[EnhancedKeyUsageExtension] and [RequestAttributes]");
	assert_refused(state, "[Strings]\n", "1:1", "[Strings]: %name% "
	    "substitution is not supported; write the values out where they "
	    "are used");
	assert_refused(state, B "[NewRequest] x\n", "4:1", "a section header "
	    "is [Name], with nothing after the ']'");
}

static void
test_inf_requires_signature_and_new_request(void **state)
{
	assert_refused(state, "[Version]\n[NewRequest]\nSubject = CN=x\n",
	    "1:1", "[Version] has no Signature = \"$Windows NT$\"");
	assert_refused(state, " [NewRequest]\nSubject = CN=x\n", "1:1",
	    "no [Version] section with Signature = \"$Windows NT$\"; certreq "
	    "INF files start with it");
	assert_refused(state, "[Version]\nSignature = \"$Chicago$\"\n", "2:13",
	    "Signature = $Chicago$: certreq INF files have Signature = "
	    "\"$Windows NT$\"");
	assert_refused(state, "[Version]\nSignature = $Windows NT$\n", "1:1",
	    "no [NewRequest] section: nothing to request");
}

static void
test_inf_rejects_malformed_lines(void **state)
{
	assert_refused(state, "Signature = $Windows NT$\n", "1:1",
	    "Signature = ... comes before any [section]");
	assert_refused(state, B "Subject\n", "4:1",
	    "expected KEY = VALUE or [Section]");
	assert_refused(state, B "  = x\n", "4:3",
	    "expected KEY = VALUE or [Section]");
	assert_refused(state, B "Subject = \"CN=x\n", "4:11",
	    "the quote is not closed");
	assert_refused(state, B "Subject = \"CN=x\" O=y\n", "4:18",
	    "text after the closing quote; quote the whole value");
	assert_refused(state, B "Subject = CN=\x01x\n", "4:14",
	    "control or invisible character U+0001");
}

static void
test_inf_subject_errors_point_at_the_value(void **state)
{
	assert_refused(state, B "Subject = \"CN=x, C=USA\"\n", "4:11",
	    "subject: C: 'USA' must be two capital letters, an ISO 3166 "
	    "country code such as US");
	assert_refused(state, B "FriendlyName = k-{serial}\n", "4:16",
	    "FriendlyName: label 'k-{serial}': unknown placeholder at "
	    "'{serial}'; use {date} or {cn}");
}

static void
test_inf_rejects_bad_alternative_names(void **state)
{
	assert_refused(state, B "[Extensions]\n2.5.29.17 = \"{text}\"\n"
	    "_continue_ = \"upn=a@contoso.com&\"\n", "6:14", "_continue_: a UPN "
	    "needs an otherName, which hsmdesk does not encode; ask the CA to "
	    "add it");
	assert_refused(state, B "[Extensions]\n_continue_ = \"dns=a.b&\"\n",
	    "5:1", "_continue_ without a 2.5.29.17 or 2.5.29.37 line before "
	    "it");
	assert_refused(state, B "[Extensions]\n2.5.29.17 = \"dns=a.b\"\n",
	    "5:13", "2.5.29.17: only the \"{text}...\" form is supported");
	assert_refused(state, B "[Extensions]\n2.5.29.17 = \"{text}dns=a_b.c"
	    "\"\n", "5:13", "2.5.29.17: alternative name 'DNS:a_b.c': not a "
	    "DNS name (ASCII letters, digits, '-' and '.'; \"*.\" first for a "
	    "wildcard; xn-- for international names)");
	assert_refused(state, B "[Extensions]\n2.5.29.17 = \"{text}guid=x\"\n",
	    "5:13", "2.5.29.17: 'guid' names are not supported; use dns, "
	    "email, url or ipaddress");
	assert_refused(state, B "[Extensions]\n2.5.29.17 = \"{text}a.b.c\"\n",
	    "5:13", "2.5.29.17: 'a.b.c' is not TYPE=value, e.g. "
	    "dns=www.example.com");
}

static void
test_inf_rejects_other_extensions_and_attributes(void **state)
{
	assert_refused(state, B "[Extensions]\nCritical = 2.5.29.17\n", "5:1",
	    "Critical: hsmdesk marks key usage critical and the other "
	    "extensions not, as RFC 5280 recommends; remove the line");
	assert_refused(state, B "[Extensions]\n2.5.29.19 = \"{text}ca=0\"\n",
	    "5:1", "2.5.29.19: basic constraints are for CA certificates; "
	    "hsmdesk does not request them; remove the line");
	assert_refused(state, B "[Extensions]\n1.2.3.4 = \"{text}x\"\n", "5:1",
	    "[Extensions] 1.2.3.4: only 2.5.29.17 (alternative names) and "
	    "2.5.29.37 (extended key usage) are read; other extensions would "
	    "change the request");
	assert_refused(state, B "[EnhancedKeyUsageExtension]\nOID = 1.3.6.x\n",
	    "5:7", "OID = 1.3.6.x: not a dotted OID such as 1.3.6.1.5.5.7.3.3");
	assert_refused(state, B "[RequestAttributes]\nchallengePassword = x\n",
	    "5:1", "[RequestAttributes] challengePassword: only "
	    "CertificateTemplate is read; other attributes would change the "
	    "request");
	assert_refused(state, B "[RequestAttributes]\nSAN = \"dns=a.b\"\n",
	    "5:1", "SAN: the SAN request attribute is insecure on the CA side; "
	    "use [Extensions] 2.5.29.17 = \"{text}dns=...\"; remove the line");
}

static void
test_inf_ignored_keys_are_listed_never_dropped(void **state)
{
	static const char *keys[] = { "ProviderName", "ProviderType",
		"MachineKeySet", "KeySpec", "KeyContainer", "Silent",
		"UserProtected", "KeyProtection", "KeyUsageProperty",
		"SecurityDescriptor", "EncryptionAlgorithm", "EncryptionLength",
		"SuppressDefaults", "RequesterName", "NotBefore", "NotAfter",
		"ValidityPeriod" };
	char text[2000] = B;
	struct hd_profile p;
	size_t i;

	for (i = 0; i < 16; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "%s = x\n", keys[i]);
	load_ok(write_bytes(state, "16.inf", text, strlen(text)), 0, &p);
	assert_int_equal(p.nignored, 16);
	for (i = 0; i < 16; i++)
		assert_string_equal(p.ignored[i], keys[i]);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s = x\n",
	    keys[16]);
	assert_refused(state, text, "20:1", "more than 16 keys that mean "
	    "nothing on an HSM; remove some");
}

static void
test_inf_rejects_file_over_64_kib(void **state)
{
	char *big = malloc(70 * 1024);

	memset(big, ';', 70 * 1024);
	assert_refused_bytes(state, big, 70 * 1024, "", "larger than 64 KiB");
	free(big);
}

static void
test_inf_missing_file(void **state)
{
	struct tl_env *e = *state;
	struct hd_profile p;
	struct hd_err err;
	char path[1024], want[1200];

	snprintf(path, sizeof(path), "%s/none.inf", e->dir);
	assert_int_equal(hd_inf_load(&p, path, 0, &err), -1);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or "
	    "directory", path);
	assert_string_equal(err.msg, want);
}

/* ---- converted to YAML ------------------------------------------------- */

static void
assert_converts(void **state, const char *inf, const char *name)
{
	struct hd_profile p, back;
	struct hd_err err;
	char *yaml, path[1024];
	size_t i;
	FILE *f;

	load_ok(data(inf), 0, &p);
	assert_int_equal(hd_profile_to_yaml(&p, &yaml, &err), 0);
	snprintf(path, sizeof(path), "%s/converted.yaml",
	    ((struct tl_env *)*state)->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(yaml, f);
	fclose(f);
	if (hd_profile_load(&back, path, &err) != 0)
		fail_msg("%s\n%s", err.msg, yaml);
	assert_string_equal(back.name, name);
	assert_string_equal(back.description, p.description);
	assert_string_equal(back.label, p.label);
	assert_int_equal(back.bits, p.bits);
	assert_string_equal(back.hash, p.hash);
	assert_int_equal(back.key_usage, p.key_usage);
	assert_int_equal(back.nsubject, p.nsubject);
	for (i = 0; i < p.nsubject; i++)
		assert_string_equal(back.subject[i].value, p.subject[i].value);
	assert_int_equal(back.neku, p.neku);
	assert_int_equal(back.nsan, p.nsan);
	for (i = 0; i < p.nsan; i++)
		assert_string_equal(back.san[i], p.san[i]);
	assert_non_null(strstr(yaml, "# ignored from the INF file, no meaning "
	    "on PKCS#11: "));
	free(yaml);
}

static void
test_inf_converts_to_a_loadable_profile(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char *yaml;

	assert_converts(state, "signtool-request.inf", "signtool-request");
	assert_converts(state, "IISCertRequest.inf", "iiscertrequest");
	assert_converts(state, "webserver-san.inf", "webserver-san");
	load_ok(data("webserver-san.inf"), 0, &p);
	assert_int_equal(hd_profile_to_yaml(&p, &yaml, &err), 0);
	assert_non_null(strstr(yaml, "# ignored from the INF file, no meaning "
	    "on PKCS#11: KeySpec, SMIME, PrivateKeyArchive, UseExistingKeySet, "
	    "ProviderType\n"));
	assert_non_null(strstr(yaml, "# the INF's certificate template, which "
	    "a profile cannot hold: \"WebServer\"\n"));
	free(yaml);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_inf_examples_are_byte_identical_to_shared),
		T(test_inf_aws_iis_request),
		T(test_inf_aws_signtool_request),
		T(test_inf_aws_examples_are_not_ready_for_a_ca),
		T(test_inf_crlf_and_lf_read_the_same),
		T(test_inf_utf8_bom),
		T(test_inf_utf16le_from_notepad),
		T(test_inf_utf16be_and_characters_beyond_the_bmp),
		T(test_inf_rejects_broken_utf16),
		T(test_inf_rejects_utf16_without_bom),
		T(test_inf_rejects_windows_code_page),
		T(test_inf_reads_extensions_eku_and_template),
		T(test_inf_ecdsa_request),
		T(test_inf_values_quoted_or_bare_and_defaults),
		T(test_inf_exportable_needs_allow_exportable),
		T(test_inf_rejects_other_request_types),
		T(test_inf_rejects_sha1),
		T(test_inf_rejects_bad_keys),
		T(test_inf_rejects_bad_key_usage),
		T(test_inf_rejects_keys_that_change_the_request),
		T(test_inf_rejects_unknown_and_duplicate_keys),
		T(test_inf_rejects_unknown_sections),
		T(test_inf_requires_signature_and_new_request),
		T(test_inf_rejects_malformed_lines),
		T(test_inf_subject_errors_point_at_the_value),
		T(test_inf_rejects_bad_alternative_names),
		T(test_inf_rejects_other_extensions_and_attributes),
		T(test_inf_ignored_keys_are_listed_never_dropped),
		T(test_inf_rejects_file_over_64_kib),
		T(test_inf_missing_file),
		T(test_inf_converts_to_a_loadable_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
