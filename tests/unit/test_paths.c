/*
 * core/paths.c (XDG directories, the embedded SoftHSM2 store) and
 * core/fileio.c (atomic writes, output in steps, mkdir -p).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsmdesk.h"
#include "fileio.h"
#include "testlib.h"

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

/* dir/name into a static buffer. */
static const char *
at(const struct tl_env *e, const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	return path;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		fail_msg("stat %s", path);
	return st.st_mode & 07777;
}

/* The whole file, or "" if it cannot be read. */
static const char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* How many entries of dir start with prefix. */
static int
count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- XDG paths ---------------------------------------------------------- */

static void
test_config_path_is_under_xdg_config_home(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char buf[1024], want[1024];

	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/config/hsmdesk/config.yaml", e->dir);
	assert_string_equal(buf, want);
}

static void
test_data_dir_is_under_xdg_data_home(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char buf[1024], want[1024];

	assert_int_equal(hd_data_dir(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/data/hsmdesk", e->dir);
	assert_string_equal(buf, want);
}

static void
test_config_path_falls_back_to_home_dot_config(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char buf[1024], want[1024];

	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/home/.config/hsmdesk/config.yaml",
	    e->dir);
	assert_string_equal(buf, want);
}

static void
test_data_dir_falls_back_to_home_local_share(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char buf[1024], want[1024];

	unsetenv("XDG_DATA_HOME");
	assert_int_equal(hd_data_dir(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/home/.local/share/hsmdesk", e->dir);
	assert_string_equal(buf, want);
}

static void
test_relative_xdg_values_are_ignored(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char buf[1024], want[1024];

	setenv("XDG_CONFIG_HOME", "relative/config", 1);
	setenv("XDG_DATA_HOME", "", 1);
	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/home/.config/hsmdesk/config.yaml",
	    e->dir);
	assert_string_equal(buf, want);
	assert_int_equal(hd_data_dir(buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/home/.local/share/hsmdesk", e->dir);
	assert_string_equal(buf, want);
}

static void
test_paths_fail_without_xdg_or_home(void **state)
{
	struct hd_err err;
	char buf[1024];

	(void)state;
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_DATA_HOME");
	unsetenv("HOME");
	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	assert_string_equal(err.msg,
	    "neither XDG_CONFIG_HOME nor HOME is set to an absolute path");
	assert_int_equal(hd_data_dir(buf, sizeof(buf), &err), -1);
	assert_string_equal(err.msg,
	    "neither XDG_DATA_HOME nor HOME is set to an absolute path");
}

static void
test_paths_fail_with_relative_home(void **state)
{
	struct hd_err err;
	char buf[1024];

	(void)state;
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "home", 1);
	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
}

static void
test_paths_fail_rather_than_truncate(void **state)
{
	struct hd_err err;
	char buf[16];

	(void)state;
	assert_int_equal(hd_config_path(buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, HD_E_CONFIG);
	assert_non_null(strstr(err.msg, "path too long"));
	assert_int_equal(hd_data_dir(buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "path too long"));
}

/* ---- the embedded SoftHSM2 store --------------------------------------- */

static void
ensure_ok(char *conf, size_t len)
{
	struct hd_err err;

	if (hd_embedded_ensure(conf, len, &err) == -1)
		fail_msg("hd_embedded_ensure: %s", err.msg);
}

static void
test_embedded_creates_private_conf_and_token_dir(void **state)
{
	struct tl_env *e = *state;
	char conf[1024], line[1200];

	ensure_ok(conf, sizeof(conf));
	assert_string_equal(conf, at(e, "data/hsmdesk/softhsm/softhsm2.conf"));
	assert_int_equal(mode_of(conf), 0600);
	assert_int_equal(mode_of(at(e, "data/hsmdesk")), 0700);
	assert_int_equal(mode_of(at(e, "data/hsmdesk/softhsm")), 0700);
	assert_int_equal(mode_of(at(e, "data/hsmdesk/softhsm/tokens")), 0700);
	snprintf(line, sizeof(line), "\ndirectories.tokendir = %s\n",
	    at(e, "data/hsmdesk/softhsm/tokens"));
	assert_non_null(strstr(slurp(conf), line));
	assert_non_null(strstr(slurp(conf), "\nobjectstore.backend = file\n"));
}

static void
test_embedded_is_idempotent_and_keeps_the_conf(void **state)
{
	struct stat before, after;
	char conf[1024], again[1024], text[8192];
	FILE *f;

	(void)state;
	ensure_ok(conf, sizeof(conf));
	/* the operator's own edit must survive */
	assert_non_null(f = fopen(conf, "a"));
	fputs("log.level = DEBUG\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(text, sizeof(text), "%s", slurp(conf));
	assert_int_equal(stat(conf, &before), 0);
	ensure_ok(again, sizeof(again));
	assert_string_equal(again, conf);
	assert_int_equal(stat(conf, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_string_equal(slurp(conf), text);
}

static void
test_embedded_tightens_loose_dirs_to_0700(void **state)
{
	struct tl_env *e = *state;
	char conf[1024];

	assert_int_equal(mkdir(at(e, "data"), 0755), 0);
	assert_int_equal(mkdir(at(e, "data/hsmdesk"), 0755), 0);
	assert_int_equal(chmod(at(e, "data/hsmdesk"), 0755), 0);
	assert_int_equal(mkdir(at(e, "data/hsmdesk/softhsm"), 0777), 0);
	assert_int_equal(chmod(at(e, "data/hsmdesk/softhsm"), 0777), 0);
	ensure_ok(conf, sizeof(conf));
	assert_int_equal(mode_of(at(e, "data/hsmdesk")), 0700);
	assert_int_equal(mode_of(at(e, "data/hsmdesk/softhsm")), 0700);
	/* XDG_DATA_HOME itself is the user's, not ours */
	assert_int_equal(mode_of(at(e, "data")), 0755);
}

static void
test_embedded_refuses_dir_owned_by_another_user(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char conf[1024], want[1100];

	if (geteuid() != 0)
		skip();		/* only root can give a directory away */
	assert_int_equal(mkdir(at(e, "data"), 0755), 0);
	assert_int_equal(mkdir(at(e, "data/hsmdesk"), 0755), 0);
	assert_int_equal(chown(at(e, "data/hsmdesk"), 65534, 65534), 0);
	assert_int_equal(hd_embedded_ensure(conf, sizeof(conf), &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: owned by another user",
	    at(e, "data/hsmdesk"));
	assert_string_equal(err.msg, want);
	assert_int_equal(mode_of(at(e, "data/hsmdesk")), 0755);
}

static void
test_embedded_fails_when_conf_buffer_too_small(void **state)
{
	struct hd_err err;
	char conf[16];

	(void)state;
	assert_int_equal(hd_embedded_ensure(conf, sizeof(conf), &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_non_null(strstr(err.msg, "path too long"));
}

/* ---- atomic writes ------------------------------------------------------ */

static void
test_write_atomic_writes_content_and_mode(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024];
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s", at(e, "out.pem"));
	assert_int_equal(hd_write_atomic(path, "-----BEGIN-----\n", 16, 0644,
	    &err), 0);
	umask(old);
	assert_string_equal(slurp(path), "-----BEGIN-----\n");
	assert_int_equal(mode_of(path), 0644);
	assert_int_equal(count_prefixed(e->dir, "out.pem"), 1);
}

static void
test_write_atomic_writes_empty_file(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s", at(e, "empty"));
	assert_int_equal(hd_write_atomic(path, "", 0, 0600, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_write_atomic_replaces_existing_file_by_rename(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024], old[16] = "";
	int fd;

	snprintf(path, sizeof(path), "%s", tl_write(e, "out.pem", "old\n"));
	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(hd_write_atomic(path, "new content\n", 12, 0600,
	    &err), 0);
	assert_string_equal(slurp(path), "new content\n");
	assert_int_equal(mode_of(path), 0600);
	/* a reader that had the file open still sees the whole old file */
	assert_int_equal(read(fd, old, sizeof(old) - 1), 4);
	assert_string_equal(old, "old\n");
	close(fd);
	assert_int_equal(count_prefixed(e->dir, "out.pem"), 1);
}

static void
test_write_atomic_into_missing_dir_fails_cleanly(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024], want[1100];

	snprintf(path, sizeof(path), "%s", at(e, "nodir/out.pem"));
	assert_int_equal(hd_write_atomic(path, "x", 1, 0600, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot write: No such file or "
	    "directory", path);
	assert_string_equal(err.msg, want);
	assert_non_null(strstr(err.hint, "unchanged"));
	assert_int_equal(count_prefixed(e->dir, "nodir"), 0);
	assert_int_equal(count_prefixed(e->dir, "out.pem"), 0);
}

static void
test_write_atomic_in_read_only_dir_keeps_original(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char dir[1024], path[1100];

	if (geteuid() == 0)
		skip();		/* root writes into a read-only directory */
	snprintf(dir, sizeof(dir), "%s", at(e, "ro"));
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/out.pem", dir);
	assert_int_equal(hd_write_atomic(path, "original\n", 9, 0600, &err),
	    0);
	assert_int_equal(chmod(dir, 0500), 0);
	assert_int_equal(hd_write_atomic(path, "replaced\n", 9, 0600, &err),
	    -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_non_null(strstr(err.msg, "Permission denied"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_string_equal(slurp(path), "original\n");
	assert_int_equal(count_prefixed(dir, "out.pem"), 1);
}

static void
test_write_atomic_over_a_directory_removes_its_temp_file(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024], inside[1100];

	/* the temp file is written, then rename() fails: cleanup must run */
	snprintf(path, sizeof(path), "%s", at(e, "out.pem"));
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(inside, sizeof(inside), "%s/keep", path);
	assert_int_equal(hd_write_atomic(inside, "kept\n", 5, 0600, &err), 0);
	assert_int_equal(hd_write_atomic(path, "x", 1, 0600, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	assert_non_null(strstr(err.msg, "cannot write: Is a directory"));
	assert_int_equal(count_prefixed(e->dir, "out.pem"), 1);
	assert_string_equal(slurp(inside), "kept\n");
}

static void
test_mkdirs_creates_parents_with_mode(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024];
	mode_t old = umask(0);

	snprintf(path, sizeof(path), "%s", at(e, "a/b/c"));
	assert_int_equal(hd_mkdirs(path, 0750, &err), 0);
	umask(old);
	assert_int_equal(mode_of(at(e, "a")), 0750);
	assert_int_equal(mode_of(at(e, "a/b/c")), 0750);
	/* existing directories are fine */
	assert_int_equal(hd_mkdirs(path, 0750, &err), 0);
}

static void
test_mkdirs_reports_the_component_that_failed(void **state)
{
	struct tl_env *e = *state;
	struct hd_err err;
	char path[1024], want[1100];

	tl_write(e, "file", "x");
	snprintf(path, sizeof(path), "%s", at(e, "file/sub/dir"));
	assert_int_equal(hd_mkdirs(path, 0700, &err), -1);
	assert_int_equal(err.code, HD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot create directory: Not a "
	    "directory", at(e, "file/sub"));
	assert_string_equal(err.msg, want);
}

/* ---- output in steps (hd_tmp_*) ------------------------------------------ */

static void
test_tmp_nothing_visible_until_placed(void **state)
{
	struct tl_env *e = *state;
	struct hd_tmpfile t;
	struct hd_err err;
	char path[1024];

	snprintf(path, sizeof(path), "%s", at(e, "sig.p7s"));
	assert_int_equal(hd_tmp_create(&t, path, 0644, 0, &err), 0);
	assert_int_equal(hd_tmp_write(&t, "DER", 3, &err), 0);
	assert_int_equal(hd_tmp_close(&t, 1, &err), 0);
	assert_int_equal(count_prefixed(e->dir, "sig.p7s."), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hd_tmp_place(&t, 1, &err), 0);
	assert_string_equal(slurp(path), "DER");
	assert_int_equal(mode_of(path), 0644);
	assert_int_equal(count_prefixed(e->dir, "sig.p7s"), 1);
	assert_null(t.tmp);
}

static void
test_tmp_existing_target_refused_before_writing(void **state)
{
	struct tl_env *e = *state;
	struct hd_tmpfile t;
	struct hd_err err;
	char path[1024];

	snprintf(path, sizeof(path), "%s", tl_write(e, "old.p7s", "old"));
	assert_int_equal(hd_tmp_create(&t, path, 0644, 0, &err), -1);
	assert_int_equal(err.code, HD_E_USAGE);
	assert_non_null(strstr(err.msg, "exists already"));
	assert_int_equal(count_prefixed(e->dir, "old.p7s"), 1);

	/* with replace, the old file stays until the new one is placed */
	assert_int_equal(hd_tmp_create(&t, path, 0644, 1, &err), 0);
	assert_int_equal(hd_tmp_write(&t, "new", 3, &err), 0);
	assert_string_equal(slurp(path), "old");
	hd_tmp_discard(&t);
	assert_string_equal(slurp(path), "old");
	assert_int_equal(count_prefixed(e->dir, "old.p7s"), 1);

	/* a directory is never replaced */
	snprintf(path, sizeof(path), "%s", at(e, "adir"));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(hd_tmp_create(&t, path, 0644, 1, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

/* A batch closes without fsync and syncs later; a temp file swapped
 * meanwhile is not ours to sync, place or remove. */
static void
test_tmp_sync_later_checks_it_is_still_ours(void **state)
{
	struct tl_env *e = *state;
	struct hd_tmpfile t, u;
	struct hd_err err;
	char path[1024], swapped[1024];

	snprintf(path, sizeof(path), "%s", at(e, "a.p7s"));
	assert_int_equal(hd_tmp_create(&t, path, 0644, 0, &err), 0);
	assert_int_equal(hd_tmp_write(&t, "A", 1, &err), 0);
	assert_int_equal(hd_tmp_close(&t, 0, &err), 0);
	assert_int_equal(hd_tmp_sync_later(&t, &err), 0);
	assert_int_equal(hd_tmp_place(&t, 1, &err), 0);
	assert_string_equal(slurp(path), "A");

	snprintf(path, sizeof(path), "%s", at(e, "b.p7s"));
	assert_int_equal(hd_tmp_create(&u, path, 0644, 0, &err), 0);
	assert_int_equal(hd_tmp_close(&u, 0, &err), 0);
	snprintf(swapped, sizeof(swapped), "%s", u.tmp);
	assert_int_equal(unlink(swapped), 0);
	tl_write(e, swapped + strlen(e->dir) + 1, "not ours");
	assert_int_equal(hd_tmp_sync_later(&u, &err), -1);
	assert_non_null(strstr(err.msg, "replaced by another program"));
	assert_string_equal(slurp(swapped), "not ours");
	assert_int_equal(access(path, F_OK), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_path_is_under_xdg_config_home),
		T(test_data_dir_is_under_xdg_data_home),
		T(test_config_path_falls_back_to_home_dot_config),
		T(test_data_dir_falls_back_to_home_local_share),
		T(test_relative_xdg_values_are_ignored),
		T(test_paths_fail_without_xdg_or_home),
		T(test_paths_fail_with_relative_home),
		T(test_paths_fail_rather_than_truncate),
		T(test_embedded_creates_private_conf_and_token_dir),
		T(test_embedded_is_idempotent_and_keeps_the_conf),
		T(test_embedded_tightens_loose_dirs_to_0700),
		T(test_embedded_refuses_dir_owned_by_another_user),
		T(test_embedded_fails_when_conf_buffer_too_small),
		T(test_write_atomic_writes_content_and_mode),
		T(test_write_atomic_writes_empty_file),
		T(test_write_atomic_replaces_existing_file_by_rename),
		T(test_write_atomic_into_missing_dir_fails_cleanly),
		T(test_write_atomic_in_read_only_dir_keeps_original),
		T(test_write_atomic_over_a_directory_removes_its_temp_file),
		T(test_mkdirs_creates_parents_with_mode),
		T(test_mkdirs_reports_the_component_that_failed),
		T(test_tmp_nothing_visible_until_placed),
		T(test_tmp_existing_target_refused_before_writing),
		T(test_tmp_sync_later_checks_it_is_still_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
