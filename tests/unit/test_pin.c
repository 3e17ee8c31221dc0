/* core/pin.c: PIN buffers that are wiped and compared in constant time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "hsmdesk.h"
#include "testlib.h"

/* 1 when all n bytes at p are zero. */
static int
all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

static void
test_pin_new_buffer_is_empty(void **state)
{
	struct hd_pin *p = hd_pin_new();

	(void)state;
	assert_non_null(p);
	assert_int_equal(hd_pin_len(p), 0);
	assert_true(all_zero(hd_pin_buf(p), HD_PIN_MAX + 1));
	hd_pin_free(p);
}

static void
test_pin_set_len_gives_a_terminated_string(void **state)
{
	struct hd_pin *p = hd_pin_new();
	char *b = hd_pin_buf(p);

	(void)state;
	memcpy(b, "123456789", 9);
	hd_pin_set_len(p, 4);
	assert_int_equal(hd_pin_len(p), 4);
	assert_string_equal(b, "1234");
	hd_pin_free(p);
}

static void
test_pin_len_of_null_is_zero(void **state)
{
	(void)state;
	assert_int_equal(hd_pin_len(NULL), 0);
	hd_pin_clear(NULL);
	hd_pin_free(NULL);
}

static void
test_pin_clear_wipes_every_byte(void **state)
{
	struct hd_pin *p = hd_pin_new();
	char *b = hd_pin_buf(p);

	(void)state;
	memset(b, 'x', HD_PIN_MAX + 1);
	hd_pin_set_len(p, 8);
	hd_pin_clear(p);
	assert_int_equal(hd_pin_len(p), 0);
	assert_true(all_zero(b, HD_PIN_MAX + 1));
	hd_pin_free(p);
}

static void
test_pin_equal_for_same_content(void **state)
{
	struct hd_pin *a = tl_pin("4711-secret"), *b = tl_pin("4711-secret");

	(void)state;
	assert_true(hd_pin_equal(a, b));
	assert_true(hd_pin_equal(a, a));
	hd_pin_free(a);
	hd_pin_free(b);
}

static void
test_pin_not_equal_for_different_content(void **state)
{
	struct hd_pin *a = tl_pin("4711-secret"), *b = tl_pin("4711-secreT");

	(void)state;
	assert_false(hd_pin_equal(a, b));
	hd_pin_free(a);
	hd_pin_free(b);
}

static void
test_pin_not_equal_for_prefix(void **state)
{
	struct hd_pin *a = tl_pin("1234"), *b = tl_pin("12345");

	(void)state;
	assert_false(hd_pin_equal(a, b));
	assert_false(hd_pin_equal(b, a));
	hd_pin_free(a);
	hd_pin_free(b);
}

static void
test_pin_equal_ignores_bytes_past_the_length(void **state)
{
	struct hd_pin *a = tl_pin("1234"), *b = tl_pin("1234");

	(void)state;
	memcpy(hd_pin_buf(a) + 5, "junk", 4);
	assert_true(hd_pin_equal(a, b));
	hd_pin_free(a);
	hd_pin_free(b);
}

static void
test_pin_empty_pins_are_equal(void **state)
{
	struct hd_pin *a = hd_pin_new(), *b = hd_pin_new();

	(void)state;
	assert_true(hd_pin_equal(a, b));
	hd_pin_free(a);
	hd_pin_free(b);
}

static void
test_pin_set_len_clamps_to_max(void **state)
{
	struct hd_pin *p = hd_pin_new();
	char *b = hd_pin_buf(p);

	(void)state;
	memset(b, '7', HD_PIN_MAX + 1);
	hd_pin_set_len(p, HD_PIN_MAX + 100);
	assert_int_equal(hd_pin_len(p), HD_PIN_MAX);
	assert_int_equal(strlen(b), HD_PIN_MAX);
	hd_pin_set_len(p, (size_t)-1);
	assert_int_equal(hd_pin_len(p), HD_PIN_MAX);
	hd_pin_free(p);
}

static void
test_pin_clear_then_reuse(void **state)
{
	struct hd_pin *p = tl_pin("old-pin"), *q = tl_pin("new");

	(void)state;
	hd_pin_clear(p);
	memcpy(hd_pin_buf(p), "new", 3);
	hd_pin_set_len(p, 3);
	assert_string_equal(hd_pin_buf(p), "new");
	assert_true(hd_pin_equal(p, q));
	hd_pin_free(p);
	hd_pin_free(q);
}

/* kB of locked memory, from /proc/self/status (-1 if unknown). */
static long
locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
test_pin_held_means_no_core_dump_and_locked_memory(void **state)
{
	struct hd_pin *p;
	struct rlimit rl, ml;

	(void)state;
	p = hd_pin_new();
	assert_non_null(p);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_true(rl.rlim_cur == 0 && rl.rlim_max == 0);
	/* mlock is best effort: only where the limit allows a page, and
	 * not under ASan, whose mlock does nothing */
#ifndef __SANITIZE_ADDRESS__
	if (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && ml.rlim_cur >= 65536)
		assert_true(locked_kb() >= 4);
#else
	(void)ml;
	(void)locked_kb;
#endif
	hd_pin_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_new_buffer_is_empty),
		cmocka_unit_test(test_pin_set_len_gives_a_terminated_string),
		cmocka_unit_test(test_pin_len_of_null_is_zero),
		cmocka_unit_test(test_pin_clear_wipes_every_byte),
		cmocka_unit_test(test_pin_equal_for_same_content),
		cmocka_unit_test(test_pin_not_equal_for_different_content),
		cmocka_unit_test(test_pin_not_equal_for_prefix),
		cmocka_unit_test(test_pin_equal_ignores_bytes_past_the_length),
		cmocka_unit_test(test_pin_empty_pins_are_equal),
		cmocka_unit_test(test_pin_set_len_clamps_to_max),
		cmocka_unit_test(test_pin_clear_then_reuse),
		cmocka_unit_test(
		    test_pin_held_means_no_core_dump_and_locked_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
