/*
 * core/profile_find.c: profiles found by name in the user's directory and
 * the shipped one (HSMDESK_PROFILE_DIR pointing at the source tree's
 * profiles/ through HSMDESK_TOP), and listed.
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

#include "hsmdesk.h"
#include "testlib.h"

struct fenv {
	struct tl_env e;
	char user[700];		/* $XDG_CONFIG_HOME/hsmdesk/profiles */
	char shipped[PATH_MAX];
};

static int
setup(void **state)
{
	static struct fenv f;
	const char *top = getenv("HSMDESK_TOP");
	char dir[700];

	if (tl_env_new(&f.e) == -1)
		return -1;
	snprintf(f.shipped, sizeof(f.shipped), "%s/profiles",
	    top ? top : ".");
	setenv("HSMDESK_PROFILE_DIR", f.shipped, 1);
	snprintf(dir, sizeof(dir), "%s/config", f.e.dir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/config/hsmdesk", f.e.dir);
	mkdir(dir, 0700);
	snprintf(f.user, sizeof(f.user), "%s/config/hsmdesk/profiles",
	    f.e.dir);
	if (mkdir(f.user, 0700) == -1)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fenv *f = *state;

	tl_env_free(&f->e);
	unsetenv("HSMDESK_PROFILE_DIR");
	return 0;
}

/* A user profile file; returns its path. */
static const char *
user_file(void **state, const char *file, const char *text)
{
	struct fenv *f = *state;
	char rel[800];
	const char *p;

	snprintf(rel, sizeof(rel), "config/hsmdesk/profiles/%s", file);
	assert_non_null(p = tl_write(&f->e, rel, text));
	return p;
}

static void
assert_found(const char *name, const char *path, unsigned bits)
{
	struct hd_profile p;
	struct hd_err err;

	if (hd_profile_find(&p, name, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_string_equal(p.path, path);
	assert_int_equal(p.bits, bits);
}

static void
test_find_shipped_profile_by_name(void **state)
{
	struct fenv *f = *state;
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/codesign-rsa3072.yaml", f->shipped);
	assert_found("codesign-rsa3072", path, 3072);
}

static void
test_find_uses_the_name_inside_not_the_file_name(void **state)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s", user_file(state, "mine.yaml",
	    "name: release-signing\nkey: {type: rsa, bits: 4096}\n"));
	assert_found("release-signing", path, 4096);
}

static void
test_find_user_profile_wins_over_shipped(void **state)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s", user_file(state, "override.yaml",
	    "name: codesign-rsa3072\nkey: {type: rsa, bits: 4096}\n"));
	assert_found("codesign-rsa3072", path, 4096);
}

static void
test_find_takes_paths(void **state)
{
	struct fenv *f = *state;
	struct hd_profile p;
	struct hd_err err;
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/tls-server-rsa2048.yaml",
	    f->shipped);
	assert_found(path, path, 2048);
	/* a .yaml or .yml name is a file, even without a '/' */
	assert_int_equal(hd_profile_find(&p, "no-such-file.yml", &err), -1);
	assert_string_equal(err.msg, "no-such-file.yml: cannot read: No such "
	    "file or directory");
}

static void
test_find_not_found_says_where_it_looked(void **state)
{
	struct fenv *f = *state;
	struct hd_profile p;
	struct hd_err err;

	assert_int_equal(hd_profile_find(&p, "nope", &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_int_equal(hd_code_exit(err.code), 2);
	assert_string_equal(err.msg, "profile 'nope': not found");
	assert_non_null(strstr(err.hint, f->user));
	assert_non_null(strstr(err.hint, f->shipped));
	assert_non_null(strstr(err.hint, "hsmdesk profile list"));
	/* not a profile name at all: looked nowhere, same answer */
	assert_int_equal(hd_profile_find(&p, "Code Sign", &err), -1);
	assert_string_equal(err.msg, "profile 'Code Sign': not found");
}

static void
test_find_broken_file_of_that_name_is_the_answer(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char want[1200];
	const char *path = user_file(state, "codesign-rsa3072.yaml",
	    "name: codesign-rsa3072\nkey: {type: rsa, bits: 1024}\n");

	/* never a quiet fall-back to the shipped profile */
	assert_int_equal(hd_profile_find(&p, "codesign-rsa3072", &err), -1);
	snprintf(want, sizeof(want), "%s:2:24: key.bits: 1024 is below the "
	    "minimum; use 2048, 3072 or 4096", path);
	assert_string_equal(err.msg, want);
}

static void
test_find_skips_other_broken_files(void **state)
{
	struct fenv *f = *state;
	char path[PATH_MAX + 64];

	user_file(state, "junk.yaml", "name: [\n");
	user_file(state, "old.yaml", "name: old\nkey: {type: dsa}\n");
	snprintf(path, sizeof(path), "%s/codesign-rsa2048.yaml", f->shipped);
	assert_found("codesign-rsa2048", path, 2048);
}

static void
test_find_refuses_a_name_defined_twice(void **state)
{
	struct hd_profile p;
	struct hd_err err;
	char a[1024], b[1024], want[3000];

	snprintf(a, sizeof(a), "%s", user_file(state, "a.yaml",
	    "name: dup\nkey: {type: rsa, bits: 2048}\n"));
	snprintf(b, sizeof(b), "%s", user_file(state, "b.yaml",
	    "name: dup\nkey: {type: rsa, bits: 4096}\n"));
	assert_int_equal(hd_profile_find(&p, "dup", &err), -1);
	snprintf(want, sizeof(want), "profile 'dup' is defined twice: %s and "
	    "%s", a, b);
	assert_string_equal(err.msg, want);
	assert_string_equal(err.hint, "rename one of them");
}

static const char *shipped_names[] = {
	"codesign-ecdsa-p256", "codesign-ecdsa-p384", "codesign-rsa2048",
	"codesign-rsa3072", "smime-rsa3072", "tls-server-rsa2048",
};

static void
test_list_shipped_profiles_sorted(void **state)
{
	struct hd_profile *l;
	struct hd_err err;
	size_t n, i;

	(void)state;
	assert_int_equal(hd_profile_list(&l, &n, &err), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		assert_string_equal(l[i].name, shipped_names[i]);
		assert_int_equal(l[i].broken, 0);
	}
	free(l);
}

static void
test_list_user_override_and_broken_file(void **state)
{
	struct hd_profile *l;
	struct hd_err err;
	char over[1024], broken[1024], want[1200];
	size_t n;

	snprintf(over, sizeof(over), "%s", user_file(state, "mine.yaml",
	    "name: codesign-rsa2048\nkey: {type: rsa, bits: 4096}\n"));
	snprintf(broken, sizeof(broken), "%s", user_file(state, "aaa.yaml",
	    "name: aaa\nkey: {type: rsa, bits: 2048}\nbogus: 1\n"));
	user_file(state, ".hidden.yaml", "not: loaded\n");
	user_file(state, "notes.txt", "not: loaded\n");
	assert_int_equal(hd_profile_list(&l, &n, &err), 0);
	assert_int_equal(n, 7);
	/* the broken file is listed, under its file name, and hides nothing */
	assert_string_equal(l[0].name, "aaa");
	assert_int_equal(l[0].broken, 1);
	assert_string_equal(l[0].path, broken);
	snprintf(want, sizeof(want), "broken: 3:1: unknown key 'bogus'; "
	    "allowed: name, description, key, subject, hash, extensions");
	assert_string_equal(l[0].description, want);
	assert_string_equal(l[3].name, "codesign-rsa2048");
	assert_string_equal(l[3].path, over);
	assert_int_equal(l[3].bits, 4096);
	assert_string_equal(l[4].name, "codesign-rsa3072");
	free(l);
}

static void
test_list_marks_a_duplicate_name_broken(void **state)
{
	struct hd_profile *l;
	struct hd_err err;
	char a[1024], want[1200];
	size_t n, i, broken = 0;

	snprintf(a, sizeof(a), "%s", user_file(state, "a.yaml",
	    "name: dup\nkey: {type: rsa, bits: 2048}\n"));
	user_file(state, "b.yaml", "name: dup\nkey: {type: rsa, bits: 4096}\n");
	assert_int_equal(hd_profile_list(&l, &n, &err), 0);
	assert_int_equal(n, 8);
	snprintf(want, sizeof(want), "broken: name 'dup' is also used by %s",
	    a);
	for (i = 0; i < n; i++)
		if (l[i].broken) {
			broken++;
			assert_string_equal(l[i].name, "b");
			assert_string_equal(l[i].description, want);
		}
	assert_int_equal(broken, 1);
	free(l);
}

static void
test_list_without_shipped_dir_still_lists_user_profiles(void **state)
{
	struct hd_profile *l;
	struct hd_err err;
	size_t n;

	setenv("HSMDESK_PROFILE_DIR", "/nonexistent/hsmdesk-profiles", 1);
	user_file(state, "x.yaml", "name: only-mine\nkey: {type: ec, "
	    "curve: P-256}\n");
	assert_int_equal(hd_profile_list(&l, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].name, "only-mine");
	free(l);
}

/* Without HSMDESK_PROFILE_DIR, <program's directory>/../profiles counts. */
static void
test_find_next_to_the_program(void **state)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32], file[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	FILE *f;

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	assert_non_null(slash = strrchr(exe, '/'));
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../profiles", exe);
	if (mkdir(dir, 0700) == -1)
		skip();		/* a real one is there: leave it alone */
	snprintf(file, sizeof(file), "%s/t.yaml", dir);
	assert_non_null(f = fopen(file, "w"));
	fputs("name: beside-the-program\nkey: {type: rsa, bits: 3072}\n", f);
	fclose(f);
	unsetenv("HSMDESK_PROFILE_DIR");
	{
		struct hd_profile p;
		struct hd_err err;
		int rc = hd_profile_find(&p, "beside-the-program", &err);

		unlink(file);
		rmdir(dir);
		assert_int_equal(rc, 0);
		assert_int_equal(p.bits, 3072);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_find_shipped_profile_by_name),
		T(test_find_uses_the_name_inside_not_the_file_name),
		T(test_find_user_profile_wins_over_shipped),
		T(test_find_takes_paths),
		T(test_find_not_found_says_where_it_looked),
		T(test_find_broken_file_of_that_name_is_the_answer),
		T(test_find_skips_other_broken_files),
		T(test_find_refuses_a_name_defined_twice),
		T(test_list_shipped_profiles_sorted),
		T(test_list_user_override_and_broken_file),
		T(test_list_marks_a_duplicate_name_broken),
		T(test_list_without_shipped_dir_still_lists_user_profiles),
		T(test_find_next_to_the_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
