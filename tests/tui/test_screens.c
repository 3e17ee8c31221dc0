/*
 * Screen tests: the TUI is driven by a key script (tui/input.c), rendered
 * headless into an 80x24 (or other) curses screen writing to /dev/null,
 * and dumped as text.  Each dump is compared with tests/tui/expected/
 * NAME.txt; `make update-screens` rewrites them for review.  Random serial
 * numbers and the build path are masked so the files are stable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "testlib.h"

struct scase {
	const char *name;
	const char *keys;
	int init;		/* initialize token "prod" first */
	int keypairs;		/* make two key pairs on it */
	const char *faults;	/* through fakep11 */
	int rows, cols;
	int ascii;
	void (*after)(void);	/* checks on the token afterwards */
	const char *absent;	/* must not be on any screen (a PIN) */
};

static void
login_works(const char *pin)
{
	struct hd_err err;
	struct hd_session *s = hd_open(tl_softhsm(), &err);
	struct hd_pin *p = tl_pin(pin);

	assert_non_null(s);
	assert_int_equal(hd_token_select(s, "prod", &err), 0);
	if (hd_login(s, p, &err) != 0)
		fail_msg("login with %s: %s", pin, err.msg);
	hd_pin_free(p);
	hd_close(s);
}

static void after_change(void) { login_works("5678"); }
static void after_reset(void) { login_works("2468"); }
static void after_init(void) { login_works("4711"); }

static void
mask(char *s)
{
	const char *build = getenv("HSMDESK_BUILD");
	char *p;
	size_t i, run;

	for (i = 0; s[i] != '\0'; i++) {	/* 16 hex digits: a serial */
		for (run = 0; isxdigit((unsigned char)s[i + run]); run++)
			;
		if (run == 16 && (i == 0 || !isalnum((unsigned char)s[i - 1])))
			memset(s + i, 'S', 16);
		i += run ? run - 1 : 0;
	}
	if (build != NULL && *build != '\0')
		while ((p = strstr(s, build)) != NULL)
			memset(p, '#', strlen(build));
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The first differing line, both ways (cmocka cuts long messages). */
static void
show_diff(const char *want, const char *got)
{
	int line = 1;
	size_t wl, gl;

	while (*want != '\0' || *got != '\0') {
		wl = strcspn(want, "\n");
		gl = strcspn(got, "\n");
		if (wl != gl || strncmp(want, got, wl) != 0) {
			fprintf(stderr, "line %d\n  want: %.*s\n  got:  %.*s\n",
			    line, (int)wl, want, (int)gl, got);
			return;
		}
		want += wl + (want[wl] != '\0');
		got += gl + (got[gl] != '\0');
		line++;
	}
}

static void
compare(const char *name, const char *got)
{
	char path[1024], *want;
	const char *top = getenv("HSMDESK_TOP");
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/tui/expected/%s.txt",
	    top ? top : ".", name);
	if (getenv("HSMDESK_UPDATE_SCREENS") != NULL) {
		assert_non_null(f = fopen(path, "w"));
		fputs(got, f);
		fclose(f);
		return;
	}
	if ((want = slurp(path)) == NULL)
		fail_msg("%s: missing; run make update-screens", path);
	if (strcmp(want, got) != 0) {
		show_diff(want, got);
		free(want);
		fail_msg("screen %s differs from %s", name, path);
	}
	free(want);
}

static struct tl_env env;

static int
setup(void **state)
{
	struct scase *c = *state;

	if (tl_env_new(&env) == -1)
		return -1;
	if (c->init && tl_init_token(tl_softhsm(), "prod") == -1)
		return -1;
	if (c->keypairs && (tl_gen_rsa(tl_softhsm(), "prod", "signing", 0) ||
	    tl_gen_rsa(tl_softhsm(), "prod", "exportable", 1)))
		return -1;
	if (c->faults != NULL)
		setenv("HSMDESK_FAKEP11_FAULT", c->faults, 1);
	if (c->ascii)
		setenv("HSMDESK_ASCII", "1", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unsetenv("HSMDESK_FAKEP11_FAULT");
	unsetenv("HSMDESK_ASCII");
	tl_env_free(&env);
	return 0;
}

static void
run_case(void **state)
{
	struct scase *c = *state;
	struct cli cl;
	char *out = NULL;

	memset(&cl, 0, sizeof(cl));
	cl.module = c->faults ? tl_fakep11() : tl_softhsm();
	cl.cfg.idle_logout = 300;
	tui_run_script(&cl, c->keys, c->rows ? c->rows : 24,
	    c->cols ? c->cols : 80, &out);
	hd_close(cl.s);
	assert_non_null(out);
	mask(out);
	if (c->absent != NULL && strstr(out, c->absent) != NULL)
		fail_msg("'%s' is on screen", c->absent);
	compare(c->name, out);
	free(out);
	if (c->after != NULL)
		c->after();
}

static struct scase cases[] = {
	{ .name = "first-run-init" , .keys = "" },
	{ .name = "init-done", .keys = "prod<TAB>12345678<TAB>12345678<TAB>"
	  "4711<TAB>4711<ENTER>", .after = after_init, .absent = "4711" },
	{ .name = "init-mismatch", .keys = "prod<TAB>12345678<TAB>87654321"
	  "<TAB>4711<TAB>4711<ENTER>" },
	{ .name = "menu", .keys = "", .init = 1 },
	{ .name = "menu-large", .keys = "", .init = 1, .rows = 50,
	  .cols = 160 },
	{ .name = "menu-ascii", .keys = "<DOWN><DOWN>", .init = 1,
	  .ascii = 1 },
	{ .name = "login-ok", .keys = "1<DUMP>1234<ENTER>", .init = 1,
	  .absent = "1234" },
	{ .name = "login-wrong-pin", .keys = "19999<ENTER>", .init = 1,
	  .absent = "9999" },
	{ .name = "login-final-try", .keys = "1<DUMP>0000<ENTER>", .init = 1,
	  .faults = "pin-final-try" },
	{ .name = "login-locked", .keys = "1<DUMP>1234<ENTER>", .init = 1,
	  .faults = "pin-locked" },
	{ .name = "login-pin-expired", .keys = "11234<ENTER>", .init = 1,
	  .faults = "pin-expired" },
	{ .name = "token-keys", .keys = "11234<ENTER>t<DUMP><DOWN>",
	  .init = 1, .keypairs = 1 },
	{ .name = "token-not-logged-in", .keys = "t", .init = 1,
	  .keypairs = 1 },
	{ .name = "change-pin", .keys = "tc<DUMP>1234<TAB>5678<TAB>5678"
	  "<ENTER>", .init = 1, .after = after_change },
	{ .name = "change-pin-mismatch", .keys = "tc1234<TAB>5678<TAB>5679"
	  "<ENTER>", .init = 1 },
	{ .name = "reset-pin", .keys = "tR12345678<TAB>2468<TAB>2468<ENTER>",
	  .init = 1, .after = after_reset },
	{ .name = "help", .keys = "h<DUMP><PGDN>", .init = 1 },
	{ .name = "too-small", .keys = "<RESIZE:20x60><DUMP><RESIZE:24x80>",
	  .init = 1 },
	{ .name = "idle-logout", .keys = "11234<ENTER><DUMP><IDLE:301>",
	  .init = 1 },
	{ .name = "token-removed", .keys = "trrrrrrrrrr", .init = 1,
	  .faults = "device-removed-after=40" },
	{ .name = "not-built", .keys = "2", .init = 1 },
	{ .name = "messages", .keys = "m", .init = 1 },
};

/* Random keys must never crash it or leave a broken screen. */
static void
test_random_keys_do_not_break_the_screen(void **state)
{
	static const int pool[] = { 'a', 'z', '1', '2', '3', '4', '5', '6',
		't', 'c', 'R', 'i', 'r', 'h', 'm', 'o', 'j', 'k', ' ', '\t' };
	static const char *named[] = { "<ENTER>", "<ESC>", "<UP>", "<DOWN>",
		"<PGUP>", "<PGDN>", "<HOME>", "<END>", "<BS>", "<F1>", "<F2>",
		"<^L>", "<^U>", "<BTAB>", "<RESIZE:20x50>", "<RESIZE:24x80>",
		"<IDLE:400>" };
	char script[8192];
	unsigned seed;
	int run;

	(void)state;
	for (run = 0; run < 12; run++) {
		struct cli cl;
		char *out = NULL;
		size_t len = 0;
		int i;

		seed = 1234u + (unsigned)run;
		for (i = 0; i < 300 && len + 20 < sizeof(script); i++) {
			int r = rand_r(&seed) % 3;

			if (r == 0)
				len += (size_t)snprintf(script + len,
				    sizeof(script) - len, "%s", named[rand_r(
				    &seed) % (sizeof(named) / sizeof(*named))]);
			else
				script[len++] = (char)pool[rand_r(&seed) %
				    (sizeof(pool) / sizeof(*pool))];
		}
		snprintf(script + len, sizeof(script) - len, "<RESIZE:24x80>");
		memset(&cl, 0, sizeof(cl));
		cl.module = tl_softhsm();
		cl.cfg.idle_logout = 300;
		tui_run_script(&cl, script, 24, 80, &out);
		hd_close(cl.s);
		assert_non_null(out);
		assert_non_null(strstr(out, "hsmdesk"));
		free(out);
	}
}

int
main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	setlocale(LC_ALL, "C.UTF-8");
	for (i = 0; i < n; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = &cases[i];
	}
	memset(&tests[n], 0, sizeof(tests[n]));
	tests[n].name = "random_keys_do_not_break_the_screen";
	tests[n].test_func = test_random_keys_do_not_break_the_screen;
	tests[n].setup_func = setup;
	tests[n].teardown_func = teardown;
	tests[n].initial_state = &(struct scase){ .init = 1 };
	return _cmocka_run_group_tests("screens", tests, n + 1, NULL, NULL);
}
