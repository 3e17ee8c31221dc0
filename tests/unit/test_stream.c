/*
 * core/stream.c: a file goes into a BIO exactly as it was when opened, in
 * chunks, with progress; a file that changes meanwhile, or that is not a
 * regular file, is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "internal.h"
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

struct prog {
	int calls;
	uint64_t done[16], total;
	const char *truncate;	/* cut this file at the second call */
};

static int
progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	if (p->calls < 16)
		p->done[p->calls] = done;
	p->calls++;
	p->total = total;
	if (p->calls == 2 && p->truncate != NULL)
		assert_int_equal(truncate(p->truncate, 3), 0);
	return 0;
}

/* Feed path into a memory BIO, 7 bytes at a time. */
static int
feed(const char *path, struct prog *p, BIO *mem, struct hd_err *err)
{
	unsigned char buf[7];
	struct hd_stream f;
	int rc;

	if (hd_stream_open(&f, path, err) == -1)
		return -1;
	rc = hd_stream_feed(&f, mem, buf, sizeof(buf), progress, p, "signed",
	    err);
	hd_stream_close(&f);
	return rc;
}

static void
test_feeds_exact_bytes_in_chunks(void **state)
{
	const char *text = "twenty bytes of text";
	const char *path = tl_write(*state, "in.txt", text);
	BIO *mem = BIO_new(BIO_s_mem());
	struct prog p = { 0 };
	struct hd_err err;
	char *got;
	long n;

	assert_int_equal(feed(path, &p, mem, &err), 0);
	n = BIO_get_mem_data(mem, &got);
	assert_int_equal(n, 20);
	assert_memory_equal(got, text, 20);
	/* start, then after 7, 14, 20 bytes */
	assert_int_equal(p.calls, 4);
	assert_true(p.done[0] == 0 && p.done[1] == 7 && p.done[2] == 14 &&
	    p.done[3] == 20 && p.total == 20);
	BIO_free(mem);
}

static void
test_file_cut_short_is_refused(void **state)
{
	const char *path = tl_write(*state, "cut.txt", "twenty bytes of text");
	BIO *mem = BIO_new(BIO_s_mem());
	struct prog p = { .truncate = path };
	struct hd_err err;

	assert_int_equal(feed(path, &p, mem, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "cut.txt: changed while being "
	    "signed"));
	BIO_free(mem);
}

static void
test_not_a_regular_file_is_refused(void **state)
{
	struct tl_env *e = *state;
	struct hd_stream f;
	struct hd_err err;
	char fifo[1024];

	snprintf(fifo, sizeof(fifo), "%s/fifo", e->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* no writer: opening must not block */
	assert_int_equal(hd_stream_open(&f, fifo, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(hd_stream_open(&f, e->dir, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(fifo, sizeof(fifo), "%s/missing", e->dir);
	assert_int_equal(hd_stream_open(&f, fifo, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "cannot open"));
}

static int
cancel(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)total;
	return done > 0;
}

static void
test_progress_cancels(void **state)
{
	const char *path = tl_write(*state, "c.txt", "twenty bytes of text");
	unsigned char buf[7];
	BIO *mem = BIO_new(BIO_s_mem());
	struct hd_stream f;
	struct hd_err err;

	assert_int_equal(hd_stream_open(&f, path, &err), 0);
	assert_int_equal(hd_stream_feed(&f, mem, buf, sizeof(buf), cancel,
	    NULL, "verified", &err), -1);
	assert_int_equal(err.code, HD_E_CANCELLED);
	assert_int_equal(BIO_pending(mem), 7);
	hd_stream_close(&f);
	BIO_free(mem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feeds_exact_bytes_in_chunks),
		cmocka_unit_test(test_file_cut_short_is_refused),
		cmocka_unit_test(test_not_a_regular_file_is_refused),
		cmocka_unit_test(test_progress_cancels),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
