/* core/uri.c: RFC 7512 PKCS#11 URIs matched against one token. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void
fill(struct hd_token_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->slot = 42;
	snprintf(ti->label, sizeof(ti->label), "prod; signing key");
	snprintf(ti->manufacturer, sizeof(ti->manufacturer), "SoftHSM project");
	snprintf(ti->model, sizeof(ti->model), "SoftHSM v2");
	snprintf(ti->serial, sizeof(ti->serial), "a1b2c3d4e5f60718");
	snprintf(ti->slot_desc, sizeof(ti->slot_desc), "Slot 42");
	ti->present = ti->initialized = 1;
}

/* hd_uri_match on the filled token; err is checked only on -1. */
static int
match(const char *uri, struct hd_err *err)
{
	struct hd_token_info ti;
	char *copy;
	int rc;

	fill(&ti);
	/* a heap copy, so ASan sees a read past the URI's end */
	if ((copy = strdup(uri)) == NULL)
		fail_msg("strdup");
	hd_err_clear(err);
	rc = hd_uri_match(copy, &ti, err);
	free(copy);
	return rc;
}

static void
assert_malformed(const char *uri)
{
	struct hd_err err;

	assert_int_equal(match(uri, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, uri));
	assert_non_null(strstr(err.msg, "malformed"));
}

static void
test_uri_serial_selects_the_token(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60718", &err), 1);
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60719", &err), 0);
}

static void
test_uri_manufacturer_and_model_match_with_escaped_spaces(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:manufacturer=SoftHSM%20project",
	    &err), 1);
	assert_int_equal(match("pkcs11:model=SoftHSM%20v2", &err), 1);
	assert_int_equal(match("pkcs11:model=SoftHSM%20v3", &err), 0);
}

static void
test_uri_slot_id_matches_decimal_slot(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:slot-id=42", &err), 1);
	assert_int_equal(match("pkcs11:slot-id=4", &err), 0);
}

static void
test_uri_slot_description_matches(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:slot-description=Slot%2042", &err), 1);
}

static void
test_uri_label_with_space_and_semicolon_is_percent_decoded(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:token=prod%3B%20signing%20key", &err),
	    1);
	assert_int_equal(match("pkcs11:token=prod%3b%20signing%20key", &err),
	    1);
	/* an unescaped ';' ends the label: "prod" is another token */
	assert_int_equal(match("pkcs11:token=prod", &err), 0);
}

static void
test_uri_every_token_attribute_must_match(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:token=prod%3B%20signing%20key;"
	    "serial=a1b2c3d4e5f60718;slot-id=42", &err), 1);
	assert_int_equal(match("pkcs11:token=prod%3B%20signing%20key;"
	    "serial=0000000000000000", &err), 0);
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60718;"
	    "model=HSM%20v9", &err), 0);
}

static void
test_uri_object_type_and_id_are_ignored(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60718;object=sign;"
	    "type=private;id=%01%02", &err), 1);
	assert_int_equal(match("pkcs11:object=anything;type=cert", &err), 1);
}

static void
test_uri_empty_path_matches_any_token(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:", &err), 1);
	assert_int_equal(match("pkcs11:;;serial=a1b2c3d4e5f60718;", &err), 1);
}

static void
test_uri_query_part_is_ignored(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60718"
	    "?pin-value=1234&module-path=/x.so", &err), 1);
	assert_int_equal(match("pkcs11:serial=a1b2c3d4e5f60718?serial=zz",
	    &err), 1);
	assert_int_equal(match("pkcs11:?serial=zz", &err), 1);
}

static void
test_uri_rejects_bad_hex_escape(void **state)
{
	(void)state;
	assert_malformed("pkcs11:token=%G1");
}

static void
test_uri_rejects_truncated_escape(void **state)
{
	(void)state;
	assert_malformed("pkcs11:token=%4");
	assert_malformed("pkcs11:token=ab%");
	assert_malformed("pkcs11:token=%4;serial=a1b2c3d4e5f60718");
}

static void
test_uri_rejects_escaped_nul(void **state)
{
	(void)state;
	assert_malformed("pkcs11:token=a%00b");
}

static void
test_uri_rejects_attribute_without_equals(void **state)
{
	(void)state;
	assert_malformed("pkcs11:token");
	assert_malformed("pkcs11:serial=a1b2c3d4e5f60718;token");
}

static void
test_uri_rejects_attribute_without_equals_before_query(void **state)
{
	/* the '=' in the query belongs to no path attribute */
	(void)state;
	assert_malformed("pkcs11:token?pin-value=1234");
}

static void
test_uri_rejects_value_longer_than_any_label(void **state)
{
	char uri[400];

	(void)state;
	memset(uri, 'a', sizeof(uri) - 1);
	uri[sizeof(uri) - 1] = '\0';
	memcpy(uri, "pkcs11:token=", 13);
	assert_malformed(uri);
}

static void
test_uri_rejects_other_schemes(void **state)
{
	struct hd_err err;

	(void)state;
	assert_int_equal(match("prod", &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_string_equal(err.msg, "'prod': not a pkcs11: URI");
	assert_int_equal(match("pkcs12:token=prod", &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_int_equal(match("", &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_serial_selects_the_token),
		cmocka_unit_test(
		    test_uri_manufacturer_and_model_match_with_escaped_spaces),
		cmocka_unit_test(test_uri_slot_id_matches_decimal_slot),
		cmocka_unit_test(test_uri_slot_description_matches),
		cmocka_unit_test(
		    test_uri_label_with_space_and_semicolon_is_percent_decoded),
		cmocka_unit_test(test_uri_every_token_attribute_must_match),
		cmocka_unit_test(test_uri_object_type_and_id_are_ignored),
		cmocka_unit_test(test_uri_empty_path_matches_any_token),
		cmocka_unit_test(test_uri_query_part_is_ignored),
		cmocka_unit_test(test_uri_rejects_bad_hex_escape),
		cmocka_unit_test(test_uri_rejects_truncated_escape),
		cmocka_unit_test(test_uri_rejects_escaped_nul),
		cmocka_unit_test(test_uri_rejects_attribute_without_equals),
		cmocka_unit_test(
		    test_uri_rejects_attribute_without_equals_before_query),
		cmocka_unit_test(test_uri_rejects_value_longer_than_any_label),
		cmocka_unit_test(test_uri_rejects_other_schemes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
