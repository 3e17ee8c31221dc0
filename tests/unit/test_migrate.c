/*
 * core/migrate*.c: the migration plan between two throwaway SoftHSM2
 * tokens ("old" with one identity issued by the test CA, "new" empty).
 * The plan file must read back as written, refuse every kind of nonsense
 * with file:line:col and never be half-written; steps must not make a
 * second key for an identity, whether resumed or facing a stranger's key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testlib.h"

static struct tl_env env;
static struct hd_session *from, *to;

/* "old": key "sign-a" (EC) with a code signing certificate; "new". */
static int
setup(void **state)
{
	struct hd_accept_opts o = { NULL, HD_STORE_AUTO };
	struct hd_accept a;
	struct hd_err err;
	struct hd_key k;
	struct tl_ca ca;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	int rc = -1;

	(void)state;
	if (tl_env_new(&env) == -1 || tl_init_token(tl_softhsm(), "old") ||
	    tl_init_token(tl_softhsm(), "new") ||
	    (from = tl_login(tl_softhsm(), "old")) == NULL ||
	    (to = tl_login(tl_softhsm(), "new")) == NULL ||
	    tl_ca_new(&ca) == -1)
		return -1;
	if (tl_keygen(from, 1, "sign-a", &k) == 0 &&
	    (pub = tl_token_pub(from, &k)) != NULL &&
	    (x = tl_issue(&ca, pub, "Contoso Signing", -1, 365, "codeSigning",
	    HD_KU_DIGITAL_SIGNATURE)) != NULL &&
	    hd_cert_accept(from, tl_write_certs(&env, "a.pem", TL_PEM, &x, 1),
	    &o, &a, &err) == 0) {
		hd_accept_free(&a);
		rc = 0;
	}
	X509_free(x);
	EVP_PKEY_free(pub);
	tl_ca_free(&ca);
	return rc;
}

static int
teardown(void **state)
{
	(void)state;
	hd_close(to);
	hd_close(from);
	to = from = NULL;
	tl_env_free(&env);
	return 0;
}

static const char *
plan_path(void)
{
	static char path[700];

	snprintf(path, sizeof(path), "%s/plan.yaml", env.dir);
	return path;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static size_t
private_keys(struct hd_session *s)
{
	struct hd_key *k = NULL;
	struct hd_err err;
	size_t n = 0, i, priv = 0;

	assert_int_equal(hd_keys(s, &k, &n, &err), 0);
	for (i = 0; i < n; i++)
		priv += k[i].has_private;
	free(k);
	return priv;
}

static void
make_plan(struct hd_mig_plan *p)
{
	struct hd_err err;

	if (hd_mig_plan_make(from, to, plan_path(), 0, p, &err) != 0)
		fail_msg("plan: %s", err.msg);
	assert_int_equal(p->n, 1);
}

static void
test_plan_proposes_same_curve_and_reads_back_as_written(void **state)
{
	struct hd_mig_plan p, q;
	struct hd_err err;
	char *a, *b;

	(void)state;
	make_plan(&p);
	assert_string_equal(p.ids[0].old_key, "EC-P256");
	assert_string_equal(p.ids[0].new_key, "EC-P256");
	assert_string_equal(p.ids[0].new_label, "sign-a-new");
	assert_string_equal(p.ids[0].eku, "codeSigning");
	assert_int_equal(hd_mig_load(plan_path(), &q, &err), 0);
	assert_int_equal(q.n, 1);
	assert_memory_equal(&p.ids[0], &q.ids[0], sizeof(p.ids[0]));
	assert_memory_equal(&p.from, &q.from, sizeof(p.from));
	a = slurp(plan_path());
	assert_int_equal(hd_mig_save(&q, &err), 0);
	b = slurp(plan_path());
	assert_string_equal(a, b);
	free(a);
	free(b);
	hd_mig_free(&p);
	hd_mig_free(&q);
}

/* Replace the first `from` in the plan file with `with`. */
static void
edit(const char *from_s, const char *with)
{
	char *t = slurp(plan_path()), *at = strstr(t, from_s), *n;
	FILE *f;

	if (at == NULL)
		fail_msg("'%s' is not in the plan", from_s);
	assert_non_null(n = calloc(1, strlen(t) + strlen(with) + 1));
	memcpy(n, t, (size_t)(at - t));
	strcat(n, with);
	strcat(n, at + strlen(from_s));
	assert_non_null(f = fopen(plan_path(), "w"));
	fputs(n, f);
	fclose(f);
	free(n);
	free(t);
}

static void
test_plan_nonsense_is_refused_with_its_place(void **state)
{
	static const struct { const char *from, *with, *says; } bad[] = {
		{ "state: planned", "state: halfway", ":35:10: 'state'" },
		{ "version: 1", "version: 2", "plan version 1" },
		{ "  action: migrate", "  action: migrate\n  action: skip",
		  "duplicate key 'action'" },
		{ "  action: migrate", "  acton: migrate", "unknown key" },
		{ "    key: EC-P256\n    upgrade", "    key: DSA-1024\n    "
		  "upgrade", "must be RSA-2048" },
		{ "state: planned", "state: key-made", "'new_key_id' is not" },
		{ "identities:", "x: &a 1\nidentities:", "anchors" },
		{ "from:\n", "from: old\nfromx:\n", "expected 'key: value'" },
		{ "  serial:", "  serial: [1]\n  x:", "expected one value" },
	};
	struct hd_mig_plan p;
	struct hd_err err;
	char *orig;
	size_t i;
	FILE *f;

	(void)state;
	make_plan(&p);
	hd_mig_free(&p);
	orig = slurp(plan_path());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(f = fopen(plan_path(), "w"));
		fputs(orig, f);
		fclose(f);
		edit(bad[i].from, bad[i].with);
		assert_int_equal(hd_mig_load(plan_path(), &p, &err), -1);
		assert_int_equal(err.code, HD_E_INPUT);
		if (strstr(err.msg, bad[i].says) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg,
			    bad[i].says);
		assert_null(p.ids);
	}
	free(orig);
}

static void
test_step_makes_key_then_csr_and_a_resume_adopts_the_key(void **state)
{
	struct hd_mig_plan p;
	struct hd_err err;
	char id[129];

	(void)state;
	make_plan(&p);
	assert_int_equal(hd_mig_step(&p, 0, from, to, NULL, NULL, &err), 0);
	assert_int_equal(p.ids[0].state, HD_MIG_KEY);
	snprintf(id, sizeof(id), "%s", p.ids[0].new_id);
	/* as if the run died between the key and its record */
	p.ids[0].state = HD_MIG_GENERATING;
	p.ids[0].new_id[0] = '\0';
	assert_int_equal(hd_mig_save(&p, &err), 0);
	hd_mig_free(&p);
	assert_int_equal(hd_mig_load(plan_path(), &p, &err), 0);
	assert_int_equal(hd_mig_step(&p, 0, from, to, NULL, NULL, &err), 0);
	assert_int_equal(p.ids[0].state, HD_MIG_KEY);
	assert_string_equal(p.ids[0].new_id, id);
	assert_int_equal(private_keys(to), 1);
	assert_int_equal(hd_mig_step(&p, 0, from, to, NULL, NULL, &err), 0);
	assert_int_equal(p.ids[0].state, HD_MIG_CSR);
	assert_int_equal(hd_mig_step(&p, 0, from, to, NULL, NULL, &err), 1);
	assert_int_equal(private_keys(to), 1);
	hd_mig_free(&p);
}

static void
test_step_refuses_when_a_key_has_the_new_label(void **state)
{
	struct hd_mig_plan p, q;
	struct hd_err err;
	struct hd_key k;

	(void)state;
	make_plan(&p);
	assert_int_equal(tl_keygen(to, 1, "sign-a-new", &k), 0);
	assert_int_equal(hd_mig_step(&p, 0, from, to, NULL, NULL, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "has a key labelled 'sign-a-new'"));
	assert_int_equal(private_keys(to), 1);
	assert_int_equal(hd_mig_load(plan_path(), &q, &err), 0);
	assert_int_equal(q.ids[0].state, HD_MIG_PLANNED);
	hd_mig_free(&q);
	hd_mig_free(&p);
}

static void
test_plan_for_other_tokens_is_refused(void **state)
{
	struct hd_mig_plan p;
	struct hd_err err;

	(void)state;
	make_plan(&p);
	assert_int_equal(hd_mig_check_tokens(&p, from, to, &err), 0);
	assert_int_equal(hd_mig_check_tokens(&p, to, from, &err), -1);
	assert_non_null(strstr(err.msg, "is for from token 'old'"));
	hd_mig_free(&p);
	/* and an existing plan is not replaced without asking */
	assert_int_equal(hd_mig_plan_make(from, to, plan_path(), 0, &p, &err),
	    -1);
	assert_non_null(strstr(err.msg, "exists already"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_plan_proposes_same_curve_and_reads_back_as_written,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_plan_nonsense_is_refused_with_its_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_step_makes_key_then_csr_and_a_resume_adopts_the_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_step_refuses_when_a_key_has_the_new_label, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_plan_for_other_tokens_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
