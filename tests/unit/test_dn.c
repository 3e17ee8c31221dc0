/* core/dn.c: distinguished names as typed, ordered and rendered. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hsmdesk.h"

/* text parses into exactly the "TYPE=value" pairs of want, in order. */
static void
assert_parsed(const char *text, const char *const *want, size_t nwant)
{
	struct hd_rdn rdn[HD_DN_MAX];
	struct hd_err err;
	char pair[400];
	size_t n, i;

	if (hd_dn_parse(text, rdn, HD_DN_MAX, &n, &err) != 0)
		fail_msg("'%s' refused: %s", text, err.msg);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++) {
		snprintf(pair, sizeof(pair), "%s=%s", rdn[i].type,
		    rdn[i].value);
		assert_string_equal(pair, want[i]);
	}
}

static void
assert_refused(const char *text, const char *msg)
{
	struct hd_rdn rdn[HD_DN_MAX];
	struct hd_err err;
	size_t n;

	assert_int_equal(hd_dn_parse(text, rdn, HD_DN_MAX, &n, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_code_exit(err.code), 2);
	assert_string_equal(err.msg, msg);
}

#define PARSED(text, ...) do { \
	static const char *const w_[] = { __VA_ARGS__ }; \
	assert_parsed(text, w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

static void
test_dn_parses_quoted_value_with_comma_and_s_for_state(void **state)
{
	(void)state;
	PARSED("CN=www.example.com, O=\"Information Technology, Inc\", "
	    "S=Washington", "CN=www.example.com",
	    "O=Information Technology, Inc", "ST=Washington");
}

static void
test_dn_takes_semicolons_and_blanks(void **state)
{
	(void)state;
	PARSED("  CN = a ;O=b,\tOU =  c  ", "CN=a", "O=b", "OU=c");
}

static void
test_dn_names_are_case_insensitive_and_stored_canonically(void **state)
{
	(void)state;
	PARSED("cn=a, st=b, ou=c, organizationname=d", "CN=a", "ST=b",
	    "OU=c", "O=d");
}

static void
test_dn_knows_aliases_and_oids(void **state)
{
	(void)state;
	PARSED("E=a@b.c, serialnumber=123, dc=corp, OID.2.5.4.3=x, "
	    "2.5.4.10=Org, 1.3.6.1.4.1.311.60.2.1.3=DE, countryName=US",
	    "emailAddress=a@b.c", "serialNumber=123", "DC=corp", "CN=x",
	    "O=Org", "1.3.6.1.4.1.311.60.2.1.3=DE", "C=US");
}

static void
test_dn_rfc4514_escapes(void **state)
{
	(void)state;
	PARSED("CN=a\\,b\\+c\\;d, O=\\23hash, OU=caf\\C3\\A9, L=x\\ ",
	    "CN=a,b+c;d", "O=#hash", "OU=caf\xc3\xa9", "L=x ");
}

static void
test_dn_quoted_values_take_doubled_and_escaped_quotes(void **state)
{
	(void)state;
	PARSED("O=\"A \"\"B\"\" \\\"C\\\"\", CN=\" padded \"",
	    "O=A \"B\" \"C\"", "CN= padded ");
}

static void
test_dn_unquoted_trailing_blanks_are_trimmed(void **state)
{
	(void)state;
	PARSED("CN=a b   ,O=c", "CN=a b", "O=c");
}

static void
test_dn_rejects_empty_text(void **state)
{
	(void)state;
	assert_refused("  ", "subject: empty; write TYPE=value pairs, e.g. "
	    "\"CN=www.example.com, O=Example\"");
}

static void
test_dn_rejects_missing_equals(void **state)
{
	(void)state;
	assert_refused("CN", "subject: 'CN' has no '='; write TYPE=value, "
	    "e.g. CN=www.example.com");
}

static void
test_dn_rejects_empty_value(void **state)
{
	(void)state;
	assert_refused("CN=a, O=", "subject: O has an empty value");
	assert_refused("CN=\"\"", "subject: CN has an empty value");
}

static void
test_dn_rejects_unknown_attribute(void **state)
{
	(void)state;
	assert_refused("CN=a, SN=Smith", "subject: unknown attribute 'SN'; use "
	    "C, ST (or S), L, O, OU, CN, emailAddress (or E), serialNumber, "
	    "DC or a dotted OID such as 2.5.4.5");
}

static void
test_dn_rejects_bad_oid(void **state)
{
	(void)state;
	assert_refused("1.40.3=x", "subject: unknown attribute '1.40.3'; use "
	    "C, ST (or S), L, O, OU, CN, emailAddress (or E), serialNumber, "
	    "DC or a dotted OID such as 2.5.4.5");
	assert_refused("C_N=x", "subject: an attribute name holds letters, "
	    "digits and dots; use C, ST (or S), L, O, OU, CN, emailAddress "
	    "(or E), serialNumber, DC or a dotted OID such as 2.5.4.5");
}

static void
test_dn_rejects_multi_valued_rdn(void **state)
{
	(void)state;
	assert_refused("CN=a+O=b", "subject: CN: multi-valued RDNs ('+') are "
	    "not supported; write \\+ or quote the value");
}

static void
test_dn_rejects_quote_inside_unquoted_value(void **state)
{
	(void)state;
	assert_refused("O=Foo \"Bar\"", "subject: O: a '\"' inside a value; "
	    "quote the whole value or write \\\"");
}

static void
test_dn_rejects_unclosed_quote(void **state)
{
	(void)state;
	assert_refused("CN=a, O=\"Foo, Inc", "subject: O: the quoted value "
	    "is not closed");
}

static void
test_dn_rejects_text_after_closing_quote(void **state)
{
	(void)state;
	assert_refused("O=\"Foo\" Inc, CN=a", "subject: O: text after the "
	    "closing quote; put a ',' between attributes");
}

static void
test_dn_rejects_empty_attributes_between_separators(void **state)
{
	(void)state;
	assert_refused("CN=a,,O=b", "subject: an empty attribute at "
	    "character 6; write TYPE=value");
	assert_refused("CN=a, ", "subject: nothing after the last separator");
}

static void
test_dn_rejects_ber_hex_values(void **state)
{
	(void)state;
	assert_refused("CN=#0403616263", "subject: CN: a value starting with "
	    "'#' (hex-encoded BER) is not supported; write \\# or quote the "
	    "value");
}

static void
test_dn_rejects_bad_escapes(void **state)
{
	(void)state;
	assert_refused("CN=a\\q", "subject: CN: a '\\' must be followed by "
	    "one of  \"#+,;<=>\\ or two hex digits");
	assert_refused("CN=a\\", "subject: CN: a '\\' must be followed by "
	    "one of  \"#+,;<=>\\ or two hex digits");
	assert_refused("CN=a\\00b", "subject: CN: \\00 (a NUL byte) is not "
	    "allowed");
}

static void
test_dn_rejects_an_attribute_given_twice(void **state)
{
	(void)state;
	assert_refused("CN=a, O=b, cn=c", "subject: CN is given twice; a "
	    "profile holds one value per attribute");
	assert_refused("ST=a, S=b", "subject: ST is given twice; a profile "
	    "holds one value per attribute");
}

static void
test_dn_rejects_more_than_max_attributes(void **state)
{
	struct hd_rdn rdn[2];
	struct hd_err err;
	size_t n;
	char text[400];
	int i, used = 0;

	(void)state;
	for (i = 0; i < HD_DN_MAX + 1; i++)
		used += snprintf(text + used, sizeof(text) - (size_t)used,
		    "%s1.2.3.%d=x", i ? "," : "", i);
	assert_refused(text, "subject: more than 16 attributes");
	assert_int_equal(hd_dn_parse("CN=a, O=b, C=US", rdn, 2, &n, &err), -1);
	assert_string_equal(err.msg, "subject: more than 2 attributes");
}

static void
test_dn_country_must_be_two_capital_letters(void **state)
{
	(void)state;
	PARSED("C=DE", "C=DE");
	assert_refused("C=USA", "subject: C: 'USA' must be two capital letters, "
	    "an ISO 3166 country code such as US");
	assert_refused("C=us", "subject: C: 'us' must be two capital letters, "
	    "an ISO 3166 country code such as US");
}

static void
test_dn_enforces_rfc5280_lengths_in_characters(void **state)
{
	char text[400];
	int i, used;

	(void)state;
	/* 64 two-byte characters fit: the bound counts characters */
	used = snprintf(text, sizeof(text), "CN=");
	for (i = 0; i < 64; i++)
		used += snprintf(text + used, sizeof(text) - (size_t)used,
		    "\xc3\xa9");
	{
		struct hd_rdn rdn[1];
		struct hd_err err;
		size_t n;

		assert_int_equal(hd_dn_parse(text, rdn, 1, &n, &err), 0);
	}
	snprintf(text + used, sizeof(text) - (size_t)used, "x");
	assert_refused(text, "subject: CN: 65 characters; at most 64 "
	    "(RFC 5280)");
}

static void
test_dn_rejects_values_too_long_for_the_field(void **state)
{
	char text[400] = "emailAddress=";

	(void)state;
	memset(text + 13, 'a', 300);
	text[313] = '\0';
	assert_refused(text, "subject: emailAddress: 300 bytes long; at most "
	    "255");
}

static void
test_dn_rejects_invalid_utf8_and_control_characters(void **state)
{
	(void)state;
	assert_refused("CN=caf\\E9", "subject: CN: not valid UTF-8 at byte 4");
	assert_refused("CN=a\\0Ab", "subject: CN: control character U+000A "
	    "at byte 2");
	/* a right-to-left override makes "gpj.exe" read as "exe.jpg" */
	assert_refused("CN=x\xe2\x80\xaegpj.exe", "subject: CN: invisible "
	    "character U+202E at byte 2");
}

static void
test_dn_checks_the_string_types(void **state)
{
	(void)state;
	assert_refused("emailAddress=z\xc3\xb6@b.c", "subject: emailAddress: "
	    "'z\xc3\xb6@b.c' must be ASCII");
	assert_refused("serialNumber=a_b", "subject: serialNumber: 'a_b' may "
	    "only hold letters, digits, blanks and '()+,-./:=?");
	PARSED("serialNumber=HRB 1234 (Berlin)", "serialNumber=HRB 1234 "
	    "(Berlin)");
}

static void
test_dn_order_is_conventional_and_stable(void **state)
{
	struct hd_rdn rdn[HD_DN_MAX];
	struct hd_err err;
	char out[400];
	size_t n;

	(void)state;
	assert_int_equal(hd_dn_parse("OU=b, 1.2.3=x, CN=c, emailAddress=e@f, "
	    "C=US, O=o, L=l, ST=s, DC=d", rdn, HD_DN_MAX, &n, &err), 0);
	hd_dn_order(rdn, n);
	assert_int_equal(hd_dn_format(rdn, n, out, sizeof(out)), 0);
	assert_string_equal(out, "C=US, ST=s, L=l, O=o, OU=b, CN=c, 1.2.3=x, "
	    "emailAddress=e@f, DC=d");
}

static void
test_dn_format_escapes_per_rfc4514(void **state)
{
	struct hd_rdn rdn[3] = {
		{ "O", "A, \"B\" + C; <D> \\" },
		{ "OU", "#lead and trail " },
		{ "CN", " x" },
	};
	char out[200];

	(void)state;
	assert_int_equal(hd_dn_format(rdn, 3, out, sizeof(out)), 0);
	assert_string_equal(out, "O=A\\, \\\"B\\\" \\+ C\\; \\<D\\> \\\\, "
	    "OU=\\#lead and trail\\ , CN=\\ x");
}

static void
test_dn_format_parses_back_to_the_same_rdns(void **state)
{
	struct hd_rdn rdn[3] = {
		{ "O", "A, \"B\" + C; <D> \\" },
		{ "OU", "#lead and trail " },
		{ "CN", " Zo\xc3\xab" },
	}, back[HD_DN_MAX];
	struct hd_err err;
	char out[200];
	size_t n, i;

	(void)state;
	assert_int_equal(hd_dn_format(rdn, 3, out, sizeof(out)), 0);
	assert_int_equal(hd_dn_parse(out, back, HD_DN_MAX, &n, &err), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_string_equal(back[i].type, rdn[i].type);
		assert_string_equal(back[i].value, rdn[i].value);
	}
}

static void
test_dn_format_refuses_a_small_buffer(void **state)
{
	struct hd_rdn rdn[1] = { { "CN", "www.example.com" } };
	char out[10];

	(void)state;
	assert_int_equal(hd_dn_format(rdn, 1, out, sizeof(out)), -1);
	assert_int_equal(hd_dn_format(rdn, 1, out, 0), -1);
	assert_int_equal(hd_dn_format(rdn, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_dn_parses_quoted_value_with_comma_and_s_for_state),
		cmocka_unit_test(test_dn_takes_semicolons_and_blanks),
		cmocka_unit_test(
		    test_dn_names_are_case_insensitive_and_stored_canonically),
		cmocka_unit_test(test_dn_knows_aliases_and_oids),
		cmocka_unit_test(test_dn_rfc4514_escapes),
		cmocka_unit_test(
		    test_dn_quoted_values_take_doubled_and_escaped_quotes),
		cmocka_unit_test(test_dn_unquoted_trailing_blanks_are_trimmed),
		cmocka_unit_test(test_dn_rejects_empty_text),
		cmocka_unit_test(test_dn_rejects_missing_equals),
		cmocka_unit_test(test_dn_rejects_empty_value),
		cmocka_unit_test(test_dn_rejects_unknown_attribute),
		cmocka_unit_test(test_dn_rejects_bad_oid),
		cmocka_unit_test(test_dn_rejects_multi_valued_rdn),
		cmocka_unit_test(test_dn_rejects_quote_inside_unquoted_value),
		cmocka_unit_test(test_dn_rejects_unclosed_quote),
		cmocka_unit_test(test_dn_rejects_text_after_closing_quote),
		cmocka_unit_test(
		    test_dn_rejects_empty_attributes_between_separators),
		cmocka_unit_test(test_dn_rejects_ber_hex_values),
		cmocka_unit_test(test_dn_rejects_bad_escapes),
		cmocka_unit_test(test_dn_rejects_an_attribute_given_twice),
		cmocka_unit_test(test_dn_rejects_more_than_max_attributes),
		cmocka_unit_test(test_dn_country_must_be_two_capital_letters),
		cmocka_unit_test(test_dn_enforces_rfc5280_lengths_in_characters),
		cmocka_unit_test(test_dn_rejects_values_too_long_for_the_field),
		cmocka_unit_test(
		    test_dn_rejects_invalid_utf8_and_control_characters),
		cmocka_unit_test(test_dn_checks_the_string_types),
		cmocka_unit_test(test_dn_order_is_conventional_and_stable),
		cmocka_unit_test(test_dn_format_escapes_per_rfc4514),
		cmocka_unit_test(test_dn_format_parses_back_to_the_same_rdns),
		cmocka_unit_test(test_dn_format_refuses_a_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
