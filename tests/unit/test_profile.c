/*
 * core/profile.c and profile_write.c: YAML request profiles, read with
 * every refusal at its file:line:column, and written back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsmdesk.h"
#include "testlib.h"

/* A valid profile to add one mistake to: four lines. */
#define V "name: t\nkey:\n  type: rsa\n  bits: 2048\n"

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
top(void)
{
	const char *t = getenv("HSMDESK_TOP");

	return t != NULL ? t : ".";
}

/* Write text (len bytes) to profile.yaml in the test's directory. */
static const char *
write_bytes(void **state, const char *text, size_t len)
{
	static char path[1024];
	struct tl_env *e = *state;
	FILE *f;

	snprintf(path, sizeof(path), "%s/profile.yaml", e->dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
load_ok(void **state, const char *text, struct hd_profile *p)
{
	struct hd_err err;
	const char *path = write_bytes(state, text, strlen(text));

	if (hd_profile_load(p, path, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(p->path, path);
}

/* text must be refused with exactly "PATH:<where>: <what>". */
static void
assert_refused_bytes(void **state, const char *text, size_t len,
    const char *where, const char *what)
{
	struct hd_profile p;
	struct hd_err err;
	char want[1600];
	const char *path = write_bytes(state, text, len);

	assert_int_equal(hd_profile_load(&p, path, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_code_exit(err.code), 2);
	snprintf(want, sizeof(want), "%s:%s: %s", path, where, what);
	assert_string_equal(err.msg, want);
	assert_non_null(strstr(err.hint, "man hsmdesk"));
	/* nothing half-loaded is left behind */
	assert_string_equal(p.name, "");
	assert_int_equal(p.nsubject, 0);
	assert_int_equal(p.neku + p.nsan + p.key_usage, 0);
	assert_string_equal(p.path, path);
}

static void
assert_refused(void **state, const char *text, const char *where,
    const char *what)
{
	assert_refused_bytes(state, text, strlen(text), where, what);
}

/* ---- what loads -------------------------------------------------------- */

static const struct shipped {
	const char *name;
	enum hd_keytype type;
	unsigned bits;
	const char *curve, *hash, *eku;
	unsigned ku;
	size_t nsubject;
} shipped[] = {
	{ "codesign-rsa2048", HD_KEY_RSA, 2048, "", "sha256", "codeSigning",
	  HD_KU_DIGITAL_SIGNATURE, 5 },
	{ "codesign-rsa3072", HD_KEY_RSA, 3072, "", "sha256", "codeSigning",
	  HD_KU_DIGITAL_SIGNATURE, 5 },
	{ "codesign-ecdsa-p256", HD_KEY_EC, 0, "P-256", "sha256",
	  "codeSigning", HD_KU_DIGITAL_SIGNATURE, 5 },
	{ "codesign-ecdsa-p384", HD_KEY_EC, 0, "P-384", "sha384",
	  "codeSigning", HD_KU_DIGITAL_SIGNATURE, 5 },
	{ "tls-server-rsa2048", HD_KEY_RSA, 2048, "", "sha256", "serverAuth",
	  HD_KU_DIGITAL_SIGNATURE | HD_KU_KEY_ENCIPHERMENT, 1 },
	{ "smime-rsa3072", HD_KEY_RSA, 3072, "", "sha256", "emailProtection",
	  HD_KU_DIGITAL_SIGNATURE | HD_KU_KEY_ENCIPHERMENT, 1 },
};
#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))

static void
test_profile_every_shipped_profile_loads(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char path[1024];
	size_t i, j;

	(void)state;
	for (i = 0; i < NSHIPPED; i++) {
		const struct shipped *s = &shipped[i];

		snprintf(path, sizeof(path), "%s/profiles/%s.yaml", top(),
		    s->name);
		if (hd_profile_load(&p, path, &err) != 0)
			fail_msg("%s", err.msg);
		assert_string_equal(p.name, s->name);
		assert_true(strlen(p.description) > 10);
		assert_int_equal(p.type, s->type);
		assert_int_equal(p.bits, s->bits);
		assert_string_equal(p.curve, s->curve);
		assert_string_equal(p.hash, s->hash);
		assert_int_equal(p.key_usage, s->ku);
		assert_int_equal(p.neku, 1);
		assert_string_equal(p.eku[0], s->eku);
		assert_int_equal(p.exportable, 0);
		assert_int_equal(p.nsubject, s->nsubject);
		/* shipped profiles never carry a site's values */
		for (j = 0; j < p.nsubject; j++)
			assert_string_equal(p.subject[j].value, "");
		assert_string_equal(p.subject[p.nsubject - 1].type, "CN");
		assert_int_equal(hd_profile_ready(&p, &err), -1);
	}
}

static void
test_profile_shipped_directory_holds_only_those(void **state)
{
	char dir[1024];
	struct dirent *d;
	DIR *dp;
	size_t n = 0, i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/profiles", top());
	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		if (strstr(d->d_name, ".yaml") == NULL)
			continue;
		for (i = 0; i < NSHIPPED; i++)
			if (strncmp(d->d_name, shipped[i].name,
			    strlen(shipped[i].name)) == 0 &&
			    strcmp(d->d_name + strlen(shipped[i].name),
			    ".yaml") == 0)
				break;
		if (i == NSHIPPED)
			fail_msg("profiles/%s is not tested", d->d_name);
		n++;
	}
	closedir(dp);
	assert_int_equal(n, NSHIPPED);
}

/* The example of shared/PROFILES.md, comments and all. */
static const char contract[] =
    "name: codesign-rsa3072            # required, [a-z0-9._-]+\n"
    "description: Code signing key for release artifacts\n"
    "key:\n"
    "  type: rsa                       # rsa | ec\n"
    "  bits: 3072                      # rsa: 2048 | 3072 | 4096\n"
    "  # curve: P-256                  # ec: P-256 | P-384\n"
    "  label: codesign-{date}          # CKA_LABEL\n"
    "  exportable: false               # default false\n"
    "subject:                          # encoded C, ST, L, O, OU, CN\n"
    "  CN: \"\"\n"
    "  O: Example Corp\n"
    "  OU: Release Engineering\n"
    "  L: Seattle\n"
    "  ST: Washington\n"
    "  C: US                           # two letters\n"
    "hash: sha256                      # sha256 | sha384 | sha512\n"
    "extensions:                       # requested in the CSR\n"
    "  key_usage: [digitalSignature]\n"
    "  extended_key_usage: [codeSigning]          # or OIDs\n"
    "  subject_alt_names: [email:release@example.com]\n";

static void
test_profile_loads_the_contract_example(void **state)
{
	static const char *order[][2] = { { "C", "US" },
		{ "ST", "Washington" }, { "L", "Seattle" },
		{ "O", "Example Corp" }, { "OU", "Release Engineering" },
		{ "CN", "" } };
	struct hd_profile p;
	size_t i;

	load_ok(state, contract, &p);
	assert_string_equal(p.name, "codesign-rsa3072");
	assert_string_equal(p.description,
	    "Code signing key for release artifacts");
	assert_int_equal(p.type, HD_KEY_RSA);
	assert_int_equal(p.bits, 3072);
	assert_string_equal(p.label, "codesign-{date}");
	assert_int_equal(p.exportable, 0);
	assert_int_equal(p.nsubject, 6);
	for (i = 0; i < 6; i++) {
		assert_string_equal(p.subject[i].type, order[i][0]);
		assert_string_equal(p.subject[i].value, order[i][1]);
	}
	assert_string_equal(p.hash, "sha256");
	assert_int_equal(p.key_usage, HD_KU_DIGITAL_SIGNATURE);
	assert_int_equal(p.neku, 1);
	assert_string_equal(p.eku[0], "codeSigning");
	assert_int_equal(p.nsan, 1);
	assert_string_equal(p.san[0], "email:release@example.com");
}

static void
test_profile_defaults(void **state)
{
	struct hd_profile p;

	load_ok(state, V, &p);
	assert_string_equal(p.hash, "sha256");
	assert_int_equal(p.exportable, 0);
	assert_string_equal(p.label, "t-{date}");
	assert_int_equal(p.nsubject + p.neku + p.nsan + p.key_usage, 0);
	assert_string_equal(p.description, "");
	assert_int_equal(p.broken, 0);
}

static void
test_profile_ec_keys_and_flow_style(void **state)
{
	struct hd_profile p;

	load_ok(state, "{name: e.c_1, key: {type: ec, curve: P-384}, "
	    "hash: sha512, subject: {CN: host}}", &p);
	assert_int_equal(p.type, HD_KEY_EC);
	assert_string_equal(p.curve, "P-384");
	assert_int_equal(p.bits, 0);
	assert_string_equal(p.hash, "sha512");
	assert_string_equal(p.subject[0].value, "host");
}

static void
test_profile_exportable_true_must_be_said(void **state)
{
	struct hd_profile p;

	load_ok(state, V "  exportable: true\n", &p);
	assert_int_equal(p.exportable, 1);
	load_ok(state, V "  exportable: FALSE\n", &p);
	assert_int_equal(p.exportable, 0);
	assert_refused(state, V "  exportable: yes\n", "5:15",
	    "key.exportable: 'yes' is not a boolean; use true or false");
	assert_refused(state, V "  exportable: \"true\"\n", "5:15",
	    "key.exportable: 'true' is not a boolean; use true or false");
}

static void
test_profile_subject_canonical_names(void **state)
{
	struct hd_profile p;

	load_ok(state, V "subject:\n  cn: a\n  E: a@b.c\n  2.5.4.5: \"42\"\n"
	    "  1.2.3.4: x\n  S: Bavaria\n  DC: corp\n  OU:\n", &p);
	assert_int_equal(p.nsubject, 7);
	assert_string_equal(p.subject[0].type, "ST");
	assert_string_equal(p.subject[1].type, "OU");
	assert_string_equal(p.subject[1].value, "");	/* plain empty */
	assert_string_equal(p.subject[2].type, "CN");
	assert_string_equal(p.subject[3].type, "emailAddress");
	assert_string_equal(p.subject[4].type, "serialNumber");
	assert_string_equal(p.subject[5].type, "1.2.3.4");
	assert_string_equal(p.subject[6].type, "DC");
}

static void
test_profile_key_usage_names(void **state)
{
	struct hd_profile p;

	load_ok(state, V "extensions:\n  key_usage: [digitalSignature, "
	    "contentCommitment, keyEncipherment, dataEncipherment,\n"
	    "    keyAgreement, keyCertSign, cRLSign]\n", &p);
	assert_int_equal(p.key_usage, 0xfe);
	load_ok(state, V "extensions:\n  key_usage: []\n", &p);
	assert_int_equal(p.key_usage, 0);
}

static void
test_profile_eku_names_and_oids(void **state)
{
	struct hd_profile p;

	load_ok(state, V "extensions:\n  extended_key_usage:\n"
	    "    - serverauth\n    - 1.3.6.1.5.5.7.3.3\n    - 1.3.6.1.4.1.311."
	    "10.3.13\n    - OCSPSigning\n", &p);
	assert_int_equal(p.neku, 4);
	assert_string_equal(p.eku[0], "serverAuth");
	assert_string_equal(p.eku[1], "codeSigning");
	assert_string_equal(p.eku[2], "1.3.6.1.4.1.311.10.3.13");
	assert_string_equal(p.eku[3], "OCSPSigning");
}

static void
test_profile_san_types(void **state)
{
	struct hd_profile p;

	load_ok(state, V "extensions:\n  subject_alt_names: [\"dns:*.example."
	    "net\", \"IP:192.0.2.1\", \"ip:2001:db8::1\", "
	    "\"URI:https://example.net/x\", \"EMAIL:a@example.net\"]\n", &p);
	assert_int_equal(p.nsan, 5);
	assert_string_equal(p.san[0], "DNS:*.example.net");
	assert_string_equal(p.san[1], "IP:192.0.2.1");
	assert_string_equal(p.san[2], "IP:2001:db8::1");
	assert_string_equal(p.san[3], "URI:https://example.net/x");
	assert_string_equal(p.san[4], "email:a@example.net");
}

/* ---- what is refused, and where ---------------------------------------- */

#define ALLOWED_TOP "allowed: name, description, key, subject, hash, " \
	"extensions"
#define DN_NAMES "use C, ST (or S), L, O, OU, CN, emailAddress (or E), " \
	"serialNumber, DC or a dotted OID such as 2.5.4.5"

static void
test_profile_rejects_unknown_keys_at_every_level(void **state)
{
	assert_refused(state, V "bogus: 1\n", "5:1",
	    "unknown key 'bogus'; " ALLOWED_TOP);
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  size: 2048\n",
	    "4:3", "key: unknown key 'size'; allowed: type, bits, curve, "
	    "label, exportable");
	assert_refused(state, V "extensions:\n  eku: [codeSigning]\n", "6:3",
	    "extensions: unknown key 'eku'; allowed: key_usage, "
	    "extended_key_usage, subject_alt_names");
	assert_refused(state, V "subject:\n  CN: a\n  SN: Smith\n", "7:3",
	    "subject: unknown attribute 'SN'; " DN_NAMES);
	assert_refused(state, V "subject:\n  CN2: a\n", "6:3",
	    "subject: unknown attribute 'CN2'; " DN_NAMES);
}

static void
test_profile_rejects_duplicate_keys(void **state)
{
	assert_refused(state, V "name: u\n", "5:1",
	    "name: given twice (first on line 1)");
	assert_refused(state, V "  bits: 3072\n", "5:3",
	    "key.bits: given twice (first on line 4)");
	assert_refused(state, V "subject:\n  ST: a\n  S: b\n", "7:3",
	    "subject: ST given twice (first on line 6)");
	assert_refused(state, V "extensions:\n  key_usage: []\n"
	    "  key_usage: []\n", "7:3",
	    "extensions.key_usage: given twice (first on line 6)");
}

static void
test_profile_rejects_billion_laughs(void **state)
{
	assert_refused(state,
	    "name: lol\n"
	    "key: {type: rsa, bits: 2048}\n"
	    "extensions:\n"
	    "  key_usage: &a [digitalSignature, digitalSignature]\n"
	    "  extended_key_usage: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "  subject_alt_names: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
	    "4:14", "anchors and aliases are not allowed");
}

static void
test_profile_rejects_anchors_and_aliases(void **state)
{
	assert_refused(state, "name: &n t\n", "1:7",
	    "anchors and aliases are not allowed");
	assert_refused(state, "name: t\nkey: *k\n", "2:6",
	    "anchors and aliases are not allowed");
}

static void
test_profile_rejects_wrong_types(void **state)
{
	assert_refused(state, "name: [a, b]\n", "1:7",
	    "name: expected a single value, not a list");
	assert_refused(state, "name: t\nkey: rsa\n", "2:6",
	    "key: expected a mapping of type, bits, curve, label, exportable");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: {x: 1}\n",
	    "4:9", "key.bits: expected a single value, not a mapping");
	assert_refused(state, V "subject: [CN]\n", "5:10",
	    "subject: expected a mapping such as 'CN: \"\"'");
	assert_refused(state, V "subject:\n  CN: [a]\n", "6:7",
	    "subject: expected a single value, not a list");
	assert_refused(state, V "extensions: [key_usage]\n", "5:13",
	    "extensions: expected a mapping of key_usage, extended_key_usage, "
	    "subject_alt_names");
	assert_refused(state, V "extensions:\n  key_usage: digitalSignature\n",
	    "6:14", "extensions.key_usage: expected a list, e.g. "
	    "[digitalSignature]");
	assert_refused(state, V "extensions:\n  key_usage: [{a: b}]\n", "6:15",
	    "extensions.key_usage: expected a single value, not a mapping");
	assert_refused(state, "? [a]\n: b\n", "1:3",
	    "expected a key name, not a list");
	assert_refused(state, "- name: t\n", "1:1", "expected a profile: "
	    "'key: value' lines (name, description, key, subject, hash, "
	    "extensions)");
}

static void
test_profile_rejects_rsa_1024(void **state)
{
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: 1024\n",
	    "4:9", "key.bits: 1024 is below the minimum; use 2048, 3072 or "
	    "4096");
}

static void
test_profile_rejects_odd_rsa_sizes(void **state)
{
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: 5000\n",
	    "4:9", "key.bits: 5000 is not supported; use 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: "
	    "409600000000000\n", "4:9", "key.bits: 409600000000000 is not "
	    "supported; use 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: big\n",
	    "4:9", "key.bits: 'big' is not a number; use 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: \"2048\"\n",
	    "4:9", "key.bits: '2048' is not a number; use 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: 02048\n",
	    "4:9", "key.bits: '02048' is not a number; use 2048, 3072 or "
	    "4096");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n  bits: -2048\n",
	    "4:9", "key.bits: '-2048' is not a number; use 2048, 3072 or "
	    "4096");
}

static void
test_profile_key_fields_must_fit_the_type(void **state)
{
	assert_refused(state, "name: t\nkey:\n  type: ec\n  bits: 256\n"
	    "  curve: P-256\n", "4:9", "key.bits: only for type rsa; an ec "
	    "key's size comes from its curve (P-256 or P-384)");
	assert_refused(state, V "  curve: P-256\n", "5:10", "key.curve: only "
	    "for type ec; an rsa key takes bits: 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  type: ec\n", "3:3",
	    "key.curve: required for type ec; use P-256 or P-384");
	assert_refused(state, "name: t\nkey:\n  type: rsa\n", "3:3",
	    "key.bits: required for type rsa; use 2048, 3072 or 4096");
	assert_refused(state, "name: t\nkey:\n  bits: 2048\n", "3:3",
	    "key.type: required; use rsa or ec");
	assert_refused(state, "name: t\nkey:\n  type: ec\n  curve: P-521\n",
	    "4:10", "key.curve: 'P-521' is not supported; use P-256 or P-384");
	assert_refused(state, "name: t\nkey:\n  type: dsa\n", "3:9",
	    "key.type: 'dsa' is not supported; use rsa or ec");
}

static void
test_profile_requires_name_and_key(void **state)
{
	assert_refused(state, "key:\n  type: rsa\n  bits: 2048\n", "1:1",
	    "name: required; 1 to 63 of a-z, 0-9, '.', '_' and '-'");
	assert_refused(state, "name: t\n", "1:1",
	    "key: required; the type and size of the key to make");
}

static void
test_profile_rejects_bad_names(void **state)
{
	assert_refused(state, "name: Code Sign\n", "1:7", "name: 'Code Sign' "
	    "must be 1 to 63 of a-z, 0-9, '.', '_' and '-'");
	assert_refused(state, "name: \"\"\n", "1:7", "name: '' must be 1 to "
	    "63 of a-z, 0-9, '.', '_' and '-'");
	assert_refused(state, "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa\n", "1:7", "name: 'aaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' must be 1 to 63 of "
	    "a-z, 0-9, '.', '_' and '-'");
}

static void
test_profile_rejects_weak_or_unknown_hash(void **state)
{
	assert_refused(state, V "hash: sha1\n", "5:7", "hash: 'sha1' is not "
	    "supported; use sha256, sha384 or sha512 (SHA-1 and MD5 are "
	    "broken)");
	assert_refused(state, V "hash: SHA256\n", "5:7", "hash: 'SHA256' is "
	    "not supported; use sha256, sha384 or sha512");
}

static void
test_profile_country_must_be_two_letters(void **state)
{
	struct hd_profile p;

	assert_refused(state, V "subject:\n  C: USA\n", "6:6", "subject: C: "
	    "'USA' must be two capital letters, an ISO 3166 country code such "
	    "as US");
	load_ok(state, V "subject:\n  C: \"\"\n", &p);
	assert_string_equal(p.subject[0].value, "");
}

static void
test_profile_rejects_more_than_16_rdns(void **state)
{
	char text[2000] = V "subject:\n";
	int i;

	for (i = 0; i < HD_DN_MAX + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "  1.2.3.%d: x\n", i);
	assert_refused(state, text, "22:3", "subject: more than 16 "
	    "attributes");
}

static void
test_profile_rejects_more_than_16_list_items(void **state)
{
	char text[2000] = V "extensions:\n  subject_alt_names:\n";
	int i;

	for (i = 0; i < HD_LIST_MAX + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "    - DNS:h%d.example.net\n", i);
	assert_refused(state, text, "23:7", "more than 16 alternative names");
}

static void
test_profile_rejects_values_too_long_for_their_field(void **state)
{
	char text[1000], long_text[400];

	memset(long_text, 'a', 300);
	long_text[300] = '\0';
	snprintf(text, sizeof(text), V "description: %s\n", long_text);
	assert_refused(state, text, "5:14",
	    "description: 300 bytes long; at most 255");
	long_text[129] = '\0';
	snprintf(text, sizeof(text), V "  label: %s\n", long_text);
	assert_refused(state, text, "5:10",
	    "key.label: 129 bytes long; at most 128");
	long_text[65] = '\0';
	snprintf(text, sizeof(text), V "subject:\n  CN: %s\n", long_text);
	assert_refused(state, text, "6:7",
	    "subject: CN: 65 characters; at most 64 (RFC 5280)");
	snprintf(text, sizeof(text), V "extensions:\n  extended_key_usage: "
	    "[1.3.6.1.4.1.311.10.3.13.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16."
	    "17.18]\n");
	assert_refused(state, text, "6:24", "extended key usage "
	    "'1.3.6.1.4.1.311.10.3.13.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17."
	    "18': longer than 63 characters");
}

static void
test_profile_rejects_file_over_64_kib(void **state)
{
	struct tl_env *e = *state;
	struct hd_profile p;
	struct hd_err err;
	char path[1024], want[1100];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/big.yaml", e->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(V, f);
	for (i = 0; i < 70 * 1024 / 8; i++)
		fputs("# 45678\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hd_profile_load(&p, path, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: larger than 64 KiB", path);
	assert_string_equal(err.msg, want);
	assert_string_equal(p.name, "");
}

static void
test_profile_rejects_binary_junk(void **state)
{
	static const char junk[] = "name: t\n\x01\x02\x03\x04\xff\xfe" " garbage";
	static const char nul[] = "name: t\0x\n";

	assert_refused_bytes(state, junk, sizeof(junk) - 1, "2:1", "control "
	    "characters are not allowed: the file must be UTF-8 text");
	assert_refused_bytes(state, nul, sizeof(nul) - 1, "1:8", "control "
	    "characters are not allowed: the file must be UTF-8 text");
	assert_refused(state, "name: caf\xe9\n", "1:10", "incomplete UTF-8 "
	    "octet sequence: the file must be UTF-8 text");
}

static void
test_profile_rejects_nul_and_controls_written_as_escapes(void **state)
{
	assert_refused(state, V "description: \"a\\0b\"\n", "5:14",
	    "description: contains a NUL character");
	assert_refused(state, V "description: \"a\\eb\"\n", "5:14",
	    "description: control character U+001B at byte 2");
	assert_refused(state, V "description: |\n  two\n  lines\n", "5:14",
	    "description: control character U+000A at byte 4");
	assert_refused(state, V "subject:\n  CN: \"x\\u202Egpj.exe\"\n", "6:7",
	    "subject: CN: invisible character U+202E at byte 2");
}

static void
test_profile_rejects_null_values(void **state)
{
	assert_refused(state, V "description: ~\n", "5:14",
	    "description: null is not a value; write a string in quotes");
	assert_refused(state, V "subject:\n  CN: null\n", "6:7",
	    "subject: null is not a value; write a string in quotes");
}

static void
test_profile_rejects_a_second_document(void **state)
{
	assert_refused(state, V "---\nbogus: 1\n", "5:1",
	    "only one YAML document is allowed");
}

static void
test_profile_rejects_empty_file(void **state)
{
	assert_refused(state, "", "1:1",
	    "empty; a profile needs at least name and key");
	assert_refused(state, "# nothing\n---\n", "1:1",
	    "empty; a profile needs at least name and key");
}

static void
test_profile_reports_syntax_errors_where_they_are(void **state)
{
	assert_refused(state, "name: t: x\n", "1:8",
	    "mapping values are not allowed in this context");
}

static void
test_profile_missing_file(void **state)
{
	struct tl_env *e = *state;
	struct hd_profile p;
	struct hd_err err;
	char path[1024], want[1200];

	snprintf(path, sizeof(path), "%s/none.yaml", e->dir);
	assert_int_equal(hd_profile_load(&p, path, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or "
	    "directory", path);
	assert_string_equal(err.msg, want);
}

static void
test_profile_rejects_bad_extension_values(void **state)
{
	assert_refused(state, V "extensions:\n  key_usage: [digitalsignatur]\n",
	    "6:15", "extensions.key_usage: 'digitalsignatur' is not a key "
	    "usage; use digitalSignature, nonRepudiation (or "
	    "contentCommitment), keyEncipherment, dataEncipherment, "
	    "keyAgreement, keyCertSign or cRLSign");
	assert_refused(state, V "extensions:\n  key_usage: [nonRepudiation, "
	    "contentCommitment]\n", "6:31",
	    "extensions.key_usage: nonRepudiation is listed twice");
	assert_refused(state, V "extensions:\n  extended_key_usage: "
	    "[code-signing]\n", "6:24", "extended key usage 'code-signing': "
	    "neither a known name (serverAuth, clientAuth, codeSigning, "
	    "emailProtection, timeStamping, OCSPSigning) nor a dotted OID "
	    "such as 1.3.6.1.5.5.7.3.3");
	assert_refused(state, V "extensions:\n  extended_key_usage: "
	    "[codeSigning, 1.3.6.1.5.5.7.3.3]\n", "6:37",
	    "extended key usage 'codeSigning' is listed twice");
	assert_refused(state, V "extensions:\n  extended_key_usage: [1]\n",
	    "6:24", "extended key usage '1': neither a known name (serverAuth, "
	    "clientAuth, codeSigning, emailProtection, timeStamping, "
	    "OCSPSigning) nor a dotted OID such as 1.3.6.1.5.5.7.3.3");
}

static void
test_profile_rejects_bad_alternative_names(void **state)
{
	assert_refused(state, V "extensions:\n  subject_alt_names: "
	    "[\"mail:a@b.c\"]\n", "6:23", "alternative name 'mail:a@b.c' must "
	    "start with email:, DNS:, URI: or IP:");
	assert_refused(state, V "extensions:\n  subject_alt_names: "
	    "[IP:192.0.2.256]\n", "6:23", "alternative name 'IP:192.0.2.256': "
	    "not an IPv4 or IPv6 address");
	assert_refused(state, V "extensions:\n  subject_alt_names: "
	    "[DNS:bad_name.example]\n", "6:23", "alternative name "
	    "'DNS:bad_name.example': not a DNS name (ASCII letters, digits, "
	    "'-' and '.'; \"*.\" first for a wildcard; xn-- for international "
	    "names)");
	assert_refused(state, V "extensions:\n  subject_alt_names: "
	    "[email:nobody]\n", "6:23", "alternative name 'email:nobody': not "
	    "an email address (local@domain, ASCII)");
	assert_refused(state, V "extensions:\n  subject_alt_names: "
	    "[\"URI:no scheme\"]\n", "6:23", "alternative name 'URI:no "
	    "scheme': not a URI (scheme:rest, printable ASCII)");
}

static void
test_profile_rejects_bad_labels(void **state)
{
	assert_refused(state, V "  label: x-{serial}\n", "5:10", "key.label "
	    "'x-{serial}': unknown placeholder at '{serial}'; use {date} or "
	    "{cn}");
	assert_refused(state, V "  label: \"\"\n", "5:10",
	    "key.label: empty; use e.g. \"codesign-{date}\"");
}

/* ---- written back as YAML ---------------------------------------------- */

/* a and b say the same, wherever they came from. */
static void
assert_same_profile(const struct hd_profile *a, const struct hd_profile *b)
{
	size_t i;

	assert_string_equal(a->name, b->name);
	assert_string_equal(a->description, b->description);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->bits, b->bits);
	assert_string_equal(a->curve, b->curve);
	assert_string_equal(a->label, b->label);
	assert_int_equal(a->exportable, b->exportable);
	assert_int_equal(a->nsubject, b->nsubject);
	for (i = 0; i < a->nsubject; i++) {
		assert_string_equal(a->subject[i].type, b->subject[i].type);
		assert_string_equal(a->subject[i].value, b->subject[i].value);
	}
	assert_string_equal(a->hash, b->hash);
	assert_int_equal(a->key_usage, b->key_usage);
	assert_int_equal(a->neku, b->neku);
	for (i = 0; i < a->neku; i++)
		assert_string_equal(a->eku[i], b->eku[i]);
	assert_int_equal(a->nsan, b->nsan);
	for (i = 0; i < a->nsan; i++)
		assert_string_equal(a->san[i], b->san[i]);
}

static void
assert_round_trip(void **state, const struct hd_profile *p)
{
	struct hd_profile back;
	struct hd_err err;
	char *yaml;

	assert_int_equal(hd_profile_to_yaml(p, &yaml, &err), 0);
	load_ok(state, yaml, &back);
	free(yaml);
	assert_same_profile(p, &back);
}

static void
test_profile_shipped_profiles_round_trip(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char path[1024];
	size_t i;

	for (i = 0; i < NSHIPPED; i++) {
		snprintf(path, sizeof(path), "%s/profiles/%s.yaml", top(),
		    shipped[i].name);
		assert_int_equal(hd_profile_load(&p, path, &err), 0);
		assert_round_trip(state, &p);
	}
}

static void
test_profile_tricky_values_round_trip(void **state)
{
	struct hd_profile p;

	load_ok(state,
	    "name: tricky_1.0\n"
	    "description: 'Quotes \" '' and \\ backslash, # no comment, "
	    "{braces}: colon, \xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9'\n"
	    "key: {type: ec, curve: P-256, label: \"{cn}-x-{date}\", "
	    "exportable: true}\n"
	    "subject:\n"
	    "  O: 'Tricky \"Q\" \\ Inc: yes'\n"
	    "  CN: \"Zo\\u00EB\"\n"
	    "  1.3.6.1.4.1.311.60.2.1.3: DE\n"
	    "  C: \"\"\n"
	    "hash: sha384\n"
	    "extensions:\n"
	    "  key_usage: [cRLSign, digitalSignature, keyAgreement]\n"
	    "  extended_key_usage: [clientAuth, 1.2.840.113583.1.1.5]\n"
	    "  subject_alt_names: ['URI:urn:x:\"y\"', 'IP:::1', "
	    "'email:a.b+c@example.net', 'DNS:xn--bcher-kva.example']\n", &p);
	assert_string_equal(p.subject[2].value, "Zo\xc3\xab");
	assert_round_trip(state, &p);
}

static void
test_profile_yaml_text_is_the_contract_format(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char *yaml;

	load_ok(state, V "description: Say \"hi\"\nsubject: {CN: \"\", C: DE}\n"
	    "extensions: {key_usage: [digitalSignature], "
	    "extended_key_usage: [codeSigning]}\n", &p);
	assert_int_equal(hd_profile_to_yaml(&p, &yaml, &err), 0);
	assert_string_equal(yaml,
	    "# hsmdesk request profile\n"
	    "name: \"t\"\n"
	    "description: \"Say \\\"hi\\\"\"\n"
	    "key:\n"
	    "  type: \"rsa\"\n"
	    "  bits: 2048\n"
	    "  label: \"t-{date}\"\n"
	    "  exportable: false\n"
	    "subject:\n"
	    "  C: \"DE\"\n"
	    "  CN: \"\"\n"
	    "hash: \"sha256\"\n"
	    "extensions:\n"
	    "  key_usage: [\"digitalSignature\"]\n"
	    "  extended_key_usage: [\"codeSigning\"]\n");
	free(yaml);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_profile_every_shipped_profile_loads),
		T(test_profile_shipped_directory_holds_only_those),
		T(test_profile_loads_the_contract_example),
		T(test_profile_defaults),
		T(test_profile_ec_keys_and_flow_style),
		T(test_profile_exportable_true_must_be_said),
		T(test_profile_subject_canonical_names),
		T(test_profile_key_usage_names),
		T(test_profile_eku_names_and_oids),
		T(test_profile_san_types),
		T(test_profile_rejects_unknown_keys_at_every_level),
		T(test_profile_rejects_duplicate_keys),
		T(test_profile_rejects_billion_laughs),
		T(test_profile_rejects_anchors_and_aliases),
		T(test_profile_rejects_wrong_types),
		T(test_profile_rejects_rsa_1024),
		T(test_profile_rejects_odd_rsa_sizes),
		T(test_profile_key_fields_must_fit_the_type),
		T(test_profile_requires_name_and_key),
		T(test_profile_rejects_bad_names),
		T(test_profile_rejects_weak_or_unknown_hash),
		T(test_profile_country_must_be_two_letters),
		T(test_profile_rejects_more_than_16_rdns),
		T(test_profile_rejects_more_than_16_list_items),
		T(test_profile_rejects_values_too_long_for_their_field),
		T(test_profile_rejects_file_over_64_kib),
		T(test_profile_rejects_binary_junk),
		T(test_profile_rejects_nul_and_controls_written_as_escapes),
		T(test_profile_rejects_null_values),
		T(test_profile_rejects_a_second_document),
		T(test_profile_rejects_empty_file),
		T(test_profile_reports_syntax_errors_where_they_are),
		T(test_profile_missing_file),
		T(test_profile_rejects_bad_extension_values),
		T(test_profile_rejects_bad_alternative_names),
		T(test_profile_rejects_bad_labels),
		T(test_profile_shipped_profiles_round_trip),
		T(test_profile_tricky_values_round_trip),
		T(test_profile_yaml_text_is_the_contract_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
