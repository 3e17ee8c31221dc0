/*
 * core/audit*.c: the signing audit log.  Records chained by SHA-256,
 * checkpoints signed on a SoftHSM2 token with RSA and EC keys and
 * checked against the test CA, the witness kept on the token, and every
 * kind of damage found at its line; the JSON written and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib_sign.h"
#include "audit_int.h"

/* A fresh log at name in the fixtures' dir; its path. */
static const char *
fresh(const char *name)
{
	const char *p = tl_pe_path(name);

	unlink(p);
	return p;
}

static void
record(struct hd_audit *a, const char *file, const char *result)
{
	struct hd_audit_entry e;
	struct hd_err err;

	hd_audit_entry_init(&e, "cms", file);
	snprintf(e.md, sizeof(e.md), "sha256");
	snprintf(e.sha256, sizeof(e.sha256), "%064d", 7);
	snprintf(e.out, sizeof(e.out), "%s.p7s", file);
	snprintf(e.result, sizeof(e.result), "%s", result);
	if (hd_audit_add(a, &e, &err) == -1)
		fail_msg("hd_audit_add: %s", err.msg);
}

/* A batch of n records and its checkpoint, by signer sg. */
static void
batch(const char *path, const struct tl_signer *sg, int n,
    struct hd_audit_flushed *res)
{
	struct hd_audit *a;
	struct hd_err err;
	char name[64];
	int i;

	if (hd_audit_open(path, &a, &err) == -1)
		fail_msg("hd_audit_open: %s", err.msg);
	if (hd_audit_signer(a, TS.s, &sg->key, sg->der, sg->len, &TS.inter, 1,
	    &err) == -1)
		fail_msg("hd_audit_signer: %s", err.msg);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "/srv/build/file%d.bin", i);
		record(a, name, "ok");
	}
	if (hd_audit_flush(a, 1, res, &err) == -1)
		fail_msg("hd_audit_flush: %s (%s)", err.msg, err.ossl);
	hd_audit_close(a);
}

static void
verify(const char *path, struct hd_audit_report *r)
{
	struct hd_err err;

	if (hd_audit_verify(path, TS.root, TS.s, r, &err) == -1)
		fail_msg("hd_audit_verify: %s", err.msg);
}

static void
assert_problem(const struct hd_audit_report *r, uint64_t line,
    const char *what)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++)
		if (r->problems[i].line == line &&
		    strstr(r->problems[i].what, what) != NULL)
			return;
	fail_msg("no problem '%s' at line %llu (%zu problems, first: %s)",
	    what, (unsigned long long)line, r->nproblems, r->nproblems ?
	    r->problems[0].what : "-");
}

static void
test_audit_batches_verify_with_rsa_and_ec_keys(void **state)
{
	const char *p = fresh("both.log");
	struct hd_audit_flushed res;
	struct hd_audit_report r;

	(void)state;
	TL_NEED_SIGN();
	batch(p, &TS.rsa, 2, &res);
	assert_int_equal(res.lines, 3);
	assert_int_equal(res.checkpoint, 3);
	assert_true(res.witness);
	batch(p, &TS.ec, 1, &res);
	assert_int_equal(res.checkpoint, 5);
	verify(p, &r);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.lines, 5);
	assert_int_equal(r.entries, 3);
	assert_int_equal(r.checkpoints, 2);
	assert_int_equal(r.last_ckpt, 5);
	assert_int_equal(r.unproven, 0);
	assert_true(r.cert_checked);
	assert_string_equal(r.last_ckpt_sha1, TS.ec.sha1);
	assert_int_equal(r.witness, HD_WIT_OK);
	assert_int_equal(r.witness_line, 5);
}

/* Line n of the file replaced by text (no newline), or removed (NULL). */
static void
rewrite_line(const char *src, const char *dst, int n, const char *text)
{
	char cmd[2048];

	if (text == NULL)
		snprintf(cmd, sizeof(cmd), "sed '%dd' '%s' >'%s'", n, src, dst);
	else
		snprintf(cmd, sizeof(cmd), "sed '%dc\\\n%s' '%s' >'%s'", n,
		    text, src, dst);
	assert_int_equal(system(cmd), 0);
}

static void
test_audit_finds_each_damage_at_its_line(void **state)
{
	const char *p = fresh("damage.log"), *q = tl_pe_path("damaged.log");
	struct hd_audit_flushed res;
	struct hd_audit_report r;
	char cmd[2048];

	(void)state;
	TL_NEED_SIGN();
	batch(p, &TS.ec, 3, &res);
	batch(p, &TS.ec, 2, &res);		/* lines 5, 6 and 7 */

	snprintf(cmd, sizeof(cmd), "sed '2s/file1/file9/' '%s' >'%s'", p, q);
	assert_int_equal(system(cmd), 0);
	verify(q, &r);
	assert_problem(&r, 3, "does not match line 2: line 2 was altered");
	assert_int_equal(r.last_ckpt, 7);	/* still genuine */

	rewrite_line(p, q, 2, NULL);
	verify(q, &r);
	assert_problem(&r, 2, "record 3 follows record 1: 1 line(s)");

	rewrite_line(p, q, 6, "{\"v\":1}");
	verify(q, &r);
	assert_problem(&r, 6, "a record without seq or prev");

	rewrite_line(p, q, 6, "not json");
	verify(q, &r);
	assert_problem(&r, 6, "not an audit record");
	assert_int_equal(r.last_ckpt, 4);
	assert_int_equal(r.unproven, 3);

	snprintf(cmd, sizeof(cmd), "head -n 4 '%s' >'%s'", p, q);
	assert_int_equal(system(cmd), 0);
	verify(q, &r);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.witness, HD_WIT_CUT);
	assert_non_null(strstr(r.witness_text, "ends at line 4"));

	snprintf(cmd, sizeof(cmd), "head -c -5 '%s' >'%s'", p, q);
	assert_int_equal(system(cmd), 0);
	verify(q, &r);
	assert_problem(&r, 7, "ends in the middle of this line");
}

/* A checkpoint whose signature is another key's, or over other bytes. */
static void
test_audit_refuses_forged_checkpoints(void **state)
{
	const char *p = fresh("forged.log"), *q = tl_pe_path("forged2.log");
	struct hd_audit_flushed res;
	struct hd_audit_report r;
	char cmd[2048];

	(void)state;
	TL_NEED_SIGN();
	batch(p, &TS.rsa, 1, &res);
	/* the count changed: the signature no longer covers the line */
	snprintf(cmd, sizeof(cmd), "sed '2s/\"count\":1/\"count\":01/' '%s' "
	    ">'%s'", p, q);
	assert_int_equal(system(cmd), 0);
	verify(q, &r);
	assert_int_not_equal(r.nproblems, 0);
	assert_int_equal(r.last_ckpt, 0);

	/* the EC certificate put in place of the RSA one */
	snprintf(cmd, sizeof(cmd), "sed '2s/\"cert_sha1\":\"%s\"/"
	    "\"cert_sha1\":\"%s\"/' '%s' >'%s'", TS.rsa.sha1, TS.ec.sha1, p,
	    q);
	assert_int_equal(system(cmd), 0);
	verify(q, &r);
	assert_problem(&r, 2, "not the one its cert_sha1 names");

	/* a CA that issued none of them */
	{
		struct hd_err err;

		assert_int_equal(hd_audit_verify(p, TS.other_root, NULL, &r,
		    &err), 0);
		assert_problem(&r, 2, "does not chain to --CAfile");
		assert_int_equal(r.witness, HD_WIT_NOT_CHECKED);
	}
}

static void
test_audit_open_refuses_what_it_cannot_append_to(void **state)
{
	struct hd_audit *a = NULL;
	struct hd_err err;
	const char *p;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(hd_audit_open(tl_pe_path("no/such/dir/a.log"), &a,
	    &err), -1);
	assert_null(a);
	assert_int_equal(err.code, HD_E_CONFIG);
	assert_non_null(strstr(err.msg, "cannot append to it"));
	assert_non_null(strstr(err.msg, "signing refused"));

	p = fresh("partial.log");
	tl_spit(p, "{\"v\":1,\"seq\":1", 14);
	assert_int_equal(hd_audit_open(p, &a, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "ends in the middle of a line"));

	tl_spit(p, "hello\n", 6);
	assert_int_equal(hd_audit_open(p, &a, &err), -1);
	assert_non_null(strstr(err.msg, "not an hsmdesk audit record"));
	assert_non_null(strstr(err.hint, "audit verify"));
}

/* Names with quotes, control characters and bytes that are not UTF-8
 * stay one valid JSON line, read back as written (the bad byte as its
 * Latin-1 reading). */
static void
test_audit_escapes_file_names(void **state)
{
	const char *p = fresh("names.log");
	const char *name = "/srv/a \"quoted\"\\ \n\t\x01 gr\xc3\xbc\xc3\x9f" "e \xff.bin";
	struct hd_audit_flushed res;
	struct hd_audit_row *rows;
	struct hd_audit *a;
	struct hd_err err;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	assert_int_equal(hd_audit_open(p, &a, &err), 0);
	assert_int_equal(hd_audit_signer(a, TS.s, &TS.ec.key, TS.ec.der,
	    TS.ec.len, NULL, 0, &err), 0);
	record(a, name, "failed: the token said \"no\"");
	assert_int_equal(hd_audit_flush(a, 0, &res, &err), 0);
	hd_audit_close(a);
	assert_int_equal(hd_audit_rows(p, NULL, &rows, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].file, "/srv/a \"quoted\"\\ \n\t\x01 "
	    "gr\xc3\xbc\xc3\x9f" "e \xc3\xbf.bin");
	assert_string_equal(rows[0].result, "failed: the token said \"no\"");
	assert_null(strchr(rows[0].raw, '\n'));
	assert_non_null(strstr(rows[0].raw, "\\u00ff"));
	hd_audit_rows_free(rows, n);
}

static void
test_audit_json_parser_is_strict(void **state)
{
	static const char *const bad[] = {
		"", "{", "{}x", "{\"a\":}", "{\"a\":1,}", "{\"a\" :1}",
		"{\"a\":01}", "{\"a\":-1}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\x\"}", "{\"a\":\"b}", "[1]", "{\"a\":true}",
		"{\"a\":\"\x01\"}",
	};
	struct hd_json j;
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hd_json_parse(bad[i], strlen(bad[i]), &j) == 0) {
			hd_json_free(&j);
			fail_msg("accepted: %s", bad[i]);
		}
	assert_int_equal(hd_json_parse("{}", 2, &j), 0);
	hd_json_free(&j);
	assert_int_equal(hd_json_parse("{\"a\":\"x\\u00e9\\\"\",\"n\":42}", 24,
	    &j), 0);
	assert_string_equal(hd_json_get(&j, "a"), "x\xc3\xa9\"");
	assert_int_equal(hd_json_u64(&j, "n", &v), 0);
	assert_int_equal(v, 42);
	assert_null(hd_json_get(&j, "n"));	/* a number, not a string */
	hd_json_free(&j);
}

static void
test_audit_rows_filter_by_date_thumbprint_and_glob(void **state)
{
	const char *p = fresh("rows.log");
	struct hd_audit_filter f = { NULL, NULL, NULL };
	struct hd_audit_flushed res;
	struct hd_audit_row *rows;
	struct hd_err err;
	size_t n;

	(void)state;
	TL_NEED_SIGN();
	batch(p, &TS.rsa, 3, &res);
	batch(p, &TS.ec, 2, &res);
	assert_int_equal(hd_audit_rows(p, &f, &rows, &n, &err), 0);
	assert_int_equal(n, 7);			/* checkpoints too */
	assert_true(rows[3].checkpoint);
	assert_int_equal(rows[3].count, 3);
	hd_audit_rows_free(rows, n);
	f.sha1 = TS.ec.sha1;
	assert_int_equal(hd_audit_rows(p, &f, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	hd_audit_rows_free(rows, n);
	f.sha1 = NULL;
	f.file = "file1.*";
	assert_int_equal(hd_audit_rows(p, &f, &rows, &n, &err), 0);
	assert_int_equal(n, 2);			/* one in each batch */
	assert_string_equal(rows[0].file, "/srv/build/file1.bin");
	hd_audit_rows_free(rows, n);
	f.file = NULL;
	f.since = "2999-01-01";
	assert_int_equal(hd_audit_rows(p, &f, &rows, &n, &err), 0);
	assert_int_equal(n, 0);
	hd_audit_rows_free(rows, n);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_audit_batches_verify_with_rsa_and_ec_keys),
		T(test_audit_finds_each_damage_at_its_line),
		T(test_audit_refuses_forged_checkpoints),
		T(test_audit_open_refuses_what_it_cannot_append_to),
		T(test_audit_escapes_file_names),
		T(test_audit_json_parser_is_strict),
		T(test_audit_rows_filter_by_date_thumbprint_and_glob),
	};

	return cmocka_run_group_tests(tests, tl_sign_setup, tl_sign_teardown);
}
