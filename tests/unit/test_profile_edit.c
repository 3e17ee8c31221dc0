/*
 * core/profile_edit.c: filling a profile in from --subject, --san and
 * friends, and the key label its template makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hsmdesk.h"

/* A codesign-like profile with C, O and CN to be filled in. */
static void
base(struct hd_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "t");
	snprintf(p->hash, sizeof(p->hash), "sha256");
	snprintf(p->subject[0].type, sizeof(p->subject[0].type), "C");
	snprintf(p->subject[1].type, sizeof(p->subject[1].type), "O");
	snprintf(p->subject[2].type, sizeof(p->subject[2].type), "CN");
	p->nsubject = 3;
}

static void
assert_subject(const struct hd_profile *p, const char *want)
{
	char dn[1024];

	assert_int_equal(hd_dn_format(p->subject, p->nsubject, dn,
	    sizeof(dn)), 0);
	assert_string_equal(dn, want);
}

static void
test_set_subject_fills_replaces_adds_and_orders(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_set_subject(&p, "CN=Contoso Release, "
	    "O=\"Contoso, Ltd\", OU=Build, S=Bavaria", &err), 0);
	assert_subject(&p, "C=, ST=Bavaria, O=Contoso\\, Ltd, OU=Build, "
	    "CN=Contoso Release");
	assert_int_equal(hd_profile_set_subject(&p, "C=DE, cn=Other", &err),
	    0);
	assert_subject(&p, "C=DE, ST=Bavaria, O=Contoso\\, Ltd, OU=Build, "
	    "CN=Other");
}

static void
test_set_subject_failure_leaves_the_profile_alone(void **state)
{
	struct hd_profile p, before;
	struct hd_err err;

	(void)state;
	base(&p);
	before = p;
	assert_int_equal(hd_profile_set_subject(&p, "CN=x, C=Germany", &err),
	    -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_string_equal(err.msg, "subject: C: 'Germany' must be two "
	    "capital letters, an ISO 3166 country code such as US");
	assert_memory_equal(&p, &before, sizeof(p));
}

static void
test_set_subject_refuses_a_17th_attribute(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char dn[400];
	int i, used = 0;

	(void)state;
	base(&p);
	for (i = 0; i < 14; i++)
		used += snprintf(dn + used, sizeof(dn) - (size_t)used,
		    "%s1.2.3.%d=x", i ? "," : "", i);
	assert_int_equal(hd_profile_set_subject(&p, dn, &err), -1);
	assert_string_equal(err.msg, "subject: more than 16 attributes");
	assert_int_equal(p.nsubject, 3);
}

static void
test_add_san_checks_and_canonicalizes(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_add_san(&p, "dns:host.contoso.com", &err),
	    0);
	assert_int_equal(hd_profile_add_san(&p, "Email:a@contoso.com", &err),
	    0);
	assert_int_equal(hd_profile_add_san(&p, "ip:fe80::1", &err), 0);
	assert_int_equal(hd_profile_add_san(&p, "uri:https://contoso.com/",
	    &err), 0);
	assert_string_equal(p.san[0], "DNS:host.contoso.com");
	assert_string_equal(p.san[1], "email:a@contoso.com");
	assert_string_equal(p.san[2], "IP:fe80::1");
	assert_string_equal(p.san[3], "URI:https://contoso.com/");
	assert_int_equal(hd_profile_add_san(&p, "DNS:HOST.contoso.com", &err),
	    -1);
	assert_string_equal(err.msg, "alternative name 'DNS:HOST.contoso.com' "
	    "is listed twice");
	assert_int_equal(p.nsan, 4);
}

static void
test_add_san_refuses_malformed_names(void **state)
{
	static const char *bad[] = { "host.contoso.com", "DNS:", "DNS:a..b",
		"DNS:-a.com", "DNS:a-.com", "DNS:a.*.com", "DNS:h\xc3\xa9.com",
		"DNS:a.com.", "email:@a.com", "email:a@b@c.com", "email:a b@c.com",
		"IP:1.2.3", "IP:10.0.0.0/8", "URI:1http://x", "URI:http:",
		"IP:1.2.3.4\x1b[2J" };
	struct hd_profile p;
	struct hd_err err;
	size_t i;
	char label[64];

	(void)state;
	base(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(label, sizeof(label), "#%zu", i);
		if (hd_profile_add_san(&p, bad[i], &err) != -1)
			fail_msg("%s '%s' accepted", label, bad[i]);
		assert_int_equal(err.code, HD_E_INPUT);
	}
	assert_int_equal(p.nsan, 0);
	assert_int_equal(hd_profile_add_san(&p, "IP:1.2.3.4\x1b[2J", &err), -1);
	assert_string_equal(err.msg, "alternative name: control character "
	    "U+001B at byte 11");
}

static void
test_add_san_refuses_a_17th(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char san[64];
	int i;

	(void)state;
	base(&p);
	for (i = 0; i < HD_LIST_MAX; i++) {
		snprintf(san, sizeof(san), "DNS:h%d.contoso.com", i);
		assert_int_equal(hd_profile_add_san(&p, san, &err), 0);
	}
	assert_int_equal(hd_profile_add_san(&p, "DNS:x.contoso.com", &err), -1);
	assert_string_equal(err.msg, "more than 16 alternative names");
}

static void
test_add_eku_names_oids_and_limits(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_add_eku(&p, "TIMESTAMPING", &err), 0);
	assert_int_equal(hd_profile_add_eku(&p, "1.3.6.1.5.5.7.3.2", &err), 0);
	assert_int_equal(hd_profile_add_eku(&p, "2.999", &err), 0);
	assert_string_equal(p.eku[0], "timeStamping");
	assert_string_equal(p.eku[1], "clientAuth");
	assert_string_equal(p.eku[2], "2.999");
	assert_int_equal(hd_profile_add_eku(&p, "3.1", &err), -1);
	assert_int_equal(hd_profile_add_eku(&p, "1.3..6", &err), -1);
	assert_int_equal(hd_profile_add_eku(&p, "1.03.6", &err), -1);
	assert_int_equal(hd_profile_add_eku(&p, "0.40", &err), -1);
	assert_int_equal(hd_profile_add_eku(&p, "1.3.6.", &err), -1);
	assert_int_equal(p.neku, 3);
}

static void
test_set_label_takes_only_known_placeholders(void **state)
{
	struct hd_profile p;
	struct hd_err err;

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_set_label(&p, "k-{cn}-{date}", &err), 0);
	assert_string_equal(p.label, "k-{cn}-{date}");
	assert_int_equal(hd_profile_set_label(&p, "k-{date", &err), -1);
	assert_string_equal(err.msg, "label 'k-{date': unknown placeholder at "
	    "'{date'; use {date} or {cn}");
	assert_int_equal(hd_profile_set_label(&p, "k}", &err), -1);
	assert_string_equal(p.label, "k-{cn}-{date}");
}

static void
today(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y%m%d", &tm);
}

static void
test_label_expands_date_and_cn(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char label[129], want[129], date[16];

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_set_subject(&p, "CN=Zo\xc3\xab Corp/Inc. "
	    "#1", &err), 0);
	assert_int_equal(hd_profile_set_label(&p, "sign-{cn}-{date}", &err),
	    0);
	assert_int_equal(hd_profile_label(&p, label, sizeof(label)), 0);
	today(date, sizeof(date));
	snprintf(want, sizeof(want), "sign-Zo--Corp-Inc.--1-%s", date);
	assert_string_equal(label, want);
}

static void
test_label_fails_without_cn_or_room(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char label[129];

	(void)state;
	base(&p);
	assert_int_equal(hd_profile_set_label(&p, "{cn}", &err), 0);
	assert_int_equal(hd_profile_label(&p, label, sizeof(label)), -1);
	assert_string_equal(label, "");
	assert_int_equal(hd_profile_set_subject(&p, "CN=abcdef", &err), 0);
	assert_int_equal(hd_profile_label(&p, label, 6), -1);
	assert_string_equal(label, "");
	assert_int_equal(hd_profile_label(&p, label, 7), 0);
	assert_string_equal(label, "abcdef");
	assert_int_equal(hd_profile_set_label(&p, "{date}", &err), 0);
	assert_int_equal(hd_profile_label(&p, label, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_set_subject_fills_replaces_adds_and_orders),
		cmocka_unit_test(
		    test_set_subject_failure_leaves_the_profile_alone),
		cmocka_unit_test(test_set_subject_refuses_a_17th_attribute),
		cmocka_unit_test(test_add_san_checks_and_canonicalizes),
		cmocka_unit_test(test_add_san_refuses_malformed_names),
		cmocka_unit_test(test_add_san_refuses_a_17th),
		cmocka_unit_test(test_add_eku_names_oids_and_limits),
		cmocka_unit_test(test_set_label_takes_only_known_placeholders),
		cmocka_unit_test(test_label_expands_date_and_cn),
		cmocka_unit_test(test_label_fails_without_cn_or_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
