/*
 * core/profile_ready.c: a profile goes to a CA only with every subject
 * value filled in and no placeholder left anywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hsmdesk.h"

static void
profile(struct hd_profile *p, const char *dn)
{
	struct hd_err err;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "codesign");
	if (dn != NULL && hd_profile_set_subject(p, dn, &err) != 0)
		fail_msg("%s", err.msg);
}

static void
assert_not_ready(const struct hd_profile *p, const char *msg)
{
	struct hd_err err;

	assert_int_equal(hd_profile_ready(p, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_code_exit(err.code), 2);
	assert_string_equal(err.msg, msg);
}

static void
test_ready_with_real_values(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	profile(&p, "C=DE, O=Contoso GmbH, CN=Contoso Release Signing");
	assert_int_equal(hd_profile_add_san(&p, "DNS:build.contoso.de", &err),
	    0);
	assert_int_equal(hd_profile_ready(&p, &err), 0);
}

static void
test_ready_refuses_an_empty_subject(void **state)
{
	struct hd_profile p;

	(void)state;
	profile(&p, NULL);
	assert_not_ready(&p, "profile 'codesign': the subject is empty: give "
	    "--subject \"CN=...\"");
}

static void
test_ready_names_the_required_fields(void **state)
{
	struct hd_profile p;

	(void)state;
	profile(&p, "O=Contoso");
	snprintf(p.subject[1].type, sizeof(p.subject[1].type), "CN");
	p.nsubject = 2;
	assert_not_ready(&p, "profile 'codesign': subject CN is required: "
	    "give --subject \"CN=...\"");
	p.subject[0].value[0] = '\0';
	assert_not_ready(&p, "profile 'codesign': subject O, CN are required: "
	    "give --subject \"O=...,CN=...\"");
}

static void
test_ready_refuses_placeholders(void **state)
{
	static const char *fake[] = { "CN=example.com", "CN=www.example.com",
		"CN=host.EXAMPLE.org", "O=Example Corp", "O=ExampleOrg",
		"O=example inc.", "CN=CHANGE ME", "CN=change-me", "CN=TODO",
		"OU=tbd", "O=Your Company", "CN=<FQDN of the server>",
		"CN={DNS ENTRY}", "CN=[name]", "emailAddress=a@example.net",
		"CN=build.example", "O=placeholder", "O=XXX" };
	struct hd_profile p;
	struct hd_err err;
	char type[40], want[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fake) / sizeof(fake[0]); i++) {
		profile(&p, fake[i]);
		snprintf(type, sizeof(type), "%.*s",
		    (int)(strchr(fake[i], '=') - fake[i]), fake[i]);
		snprintf(want, sizeof(want), "profile 'codesign': subject %s "
		    "'%s' looks like a placeholder: give the real value with "
		    "--subject \"%s=...\"", type, strchr(fake[i], '=') + 1,
		    type);
		if (hd_profile_ready(&p, &err) != -1)
			fail_msg("'%s' taken as real", fake[i]);
		assert_string_equal(err.msg, want);
		assert_string_equal(err.hint, "a CA signs what it receives; "
		    "example values must never reach it");
	}
}

static void
test_ready_keeps_real_names_that_look_alike(void **state)
{
	static const char *real[] = { "CN=examples.com", "CN=myexample.com",
		"O=Example Street Bakery", "CN=todo-app.contoso.com",
		"O=Tbd Holdings Ltd", "CN=example.com.contoso.de",
		"CN=www.counterexample.org", "O=<<Contoso>> Ltd" };
	struct hd_profile p;
	struct hd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		profile(&p, real[i]);
		if (hd_profile_ready(&p, &err) != 0)
			fail_msg("'%s' refused: %s", real[i], err.msg);
	}
}

static void
test_ready_refuses_placeholder_alternative_names(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	profile(&p, "CN=Contoso Release");
	assert_int_equal(hd_profile_add_san(&p, "DNS:build.contoso.de", &err),
	    0);
	assert_int_equal(hd_profile_add_san(&p, "URI:https://www.example.com/"
	    "x", &err), 0);
	assert_not_ready(&p, "profile 'codesign': alternative name "
	    "'URI:https://www.example.com/x' looks like a placeholder");
	profile(&p, "CN=Contoso Release");
	assert_int_equal(hd_profile_add_san(&p, "email:release@example.org",
	    &err), 0);
	assert_not_ready(&p, "profile 'codesign': alternative name "
	    "'email:release@example.org' looks like a placeholder");
}

/* serverAuth needs a DNS or IP name, emailProtection an email name. */
static void
test_ready_needs_names_for_tls_and_smime(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	profile(&p, "C=DE, O=Contoso GmbH, CN=build.contoso.de");
	assert_int_equal(hd_profile_add_eku(&p, "serverAuth", &err), 0);
	assert_not_ready(&p, "profile 'codesign': a TLS server certificate "
	    "needs its host names: give --san DNS:name (repeatable)");
	assert_int_equal(hd_profile_add_san(&p, "email:ops@contoso.de",
	    &err), 0);
	assert_int_equal(hd_profile_ready(&p, &err), -1);
	assert_int_equal(hd_profile_add_san(&p, "IP:192.0.2.7", &err), 0);
	assert_int_equal(hd_profile_ready(&p, &err), 0);

	profile(&p, "C=DE, O=Contoso GmbH, CN=Ops");
	assert_int_equal(hd_profile_add_eku(&p, "1.3.6.1.5.5.7.3.4", &err), 0);
	assert_not_ready(&p, "profile 'codesign': an S/MIME certificate "
	    "needs its mailbox: give --san email:address");
	assert_int_equal(hd_profile_add_san(&p, "email:ops@contoso.de",
	    &err), 0);
	assert_int_equal(hd_profile_ready(&p, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_with_real_values),
		cmocka_unit_test(test_ready_refuses_an_empty_subject),
		cmocka_unit_test(test_ready_names_the_required_fields),
		cmocka_unit_test(test_ready_refuses_placeholders),
		cmocka_unit_test(test_ready_keeps_real_names_that_look_alike),
		cmocka_unit_test(
		    test_ready_refuses_placeholder_alternative_names),
		cmocka_unit_test(test_ready_needs_names_for_tls_and_smime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
