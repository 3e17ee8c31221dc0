/*
 * Where PINs come from on the command line: env:VAR, file:PATH, "-" (one
 * line on stdin) or, with none given, a prompt on the terminal with echo
 * off.  A literal PIN in argv is refused: every user can read the process
 * list.  Characters go straight into the core's PIN buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Refuse a literal PIN, wiping it from argv so ps shows it no longer. */
int
pin_source_check(char *src, const char *opt)
{
	if (strcmp(src, "-") == 0 || strncmp(src, "env:", 4) == 0 ||
	    strncmp(src, "file:", 5) == 0)
		return 0;
	OPENSSL_cleanse(src, strlen(src));
	return cli_usage_error("%s: a PIN given on the command line can be "
	    "read by every user in the process list; use %s env:VAR, %s "
	    "file:PATH or %s - (one line on stdin)", opt, opt, opt, opt);
}

/* Read one line from fd into pin, byte by byte (nothing read past it). */
static int
read_line(int fd, struct hd_pin *pin, const char *what, struct hd_err *err)
{
	char *buf = hd_pin_buf(pin);
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r == -1 && errno == EINTR && !interrupted)
			continue;
		if (interrupted) {
			hd_pin_clear(pin);
			return hd_err_set(err, HD_E_CANCELLED, 0, "%s: "
			    "interrupted", what);
		}
		if (r == -1) {
			hd_pin_clear(pin);
			return hd_err_set(err, HD_E_INPUT, 0, "%s: %s", what,
			    strerror(errno));
		}
		if (r == 0 || ch == '\n')
			break;
		if (n == HD_PIN_MAX) {
			hd_pin_clear(pin);
			return hd_err_set(err, HD_E_PIN_POLICY, 0, "%s: longer "
			    "than %d characters", what, HD_PIN_MAX);
		}
		buf[n++] = ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	hd_pin_set_len(pin, n);
	return 0;
}

static int
pin_from_env(const char *var, const char *opt, struct hd_pin *pin,
    struct hd_err *err)
{
	const char *v = getenv(var);
	size_t n;

	if (v == NULL || *v == '\0')
		return hd_err_set(err, HD_E_NO_PIN, 0, "%s env:%s: the variable "
		    "is not set or empty", opt, var);
	if ((n = strlen(v)) > HD_PIN_MAX)
		return hd_err_set(err, HD_E_PIN_POLICY, 0, "%s env:%s: longer "
		    "than %d characters", opt, var, HD_PIN_MAX);
	memcpy(hd_pin_buf(pin), v, n);
	hd_pin_set_len(pin, n);
	/* read once: wiped where it lay and taken out of the environment,
	 * so no module's child process and no later dump can find it */
	OPENSSL_cleanse((char *)v, n);
	unsetenv(var);
	return 0;
}

static int
pin_from_file(struct cli *c, const char *path, const char *opt,
    struct hd_pin *pin, struct hd_err *err)
{
	struct stat st;
	char what[300];
	int fd, rc;

	snprintf(what, sizeof(what), "%s file:%s", opt, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: %s", what,
		    strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0 && !c->quiet)
		fprintf(stderr, "hsmdesk: %s: warning: readable by others; "
		    "chmod 600 it\n", path);
	rc = read_line(fd, pin, what, err);
	close(fd);
	if (rc == 0 && hd_pin_len(pin) == 0)
		rc = hd_err_set(err, HD_E_NO_PIN, 0, "%s: empty", what);
	return rc;
}

/* Prompt on /dev/tty with echo off; the terminal is restored on every path. */
static int
pin_from_tty(const char *prompt, struct hd_pin *pin, struct hd_err *err)
{
	struct termios old, quiet;
	struct sigaction sa, oint, oterm, ohup;
	int fd, rc;

	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return -2;
	if (tcgetattr(fd, &old) == -1) {
		close(fd);
		return -2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns */
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGHUP, &sa, &ohup);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) == -1) {
		/* nothing to do: the read below still works */
	}
	tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = read_line(fd, pin, "PIN entry", err);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) == -1) {
		/* the prompt line stays open; harmless */
	}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	close(fd);
	return rc;
}

static int
pin_tty_twice(const char *prompt, struct hd_pin *pin, struct hd_err *err)
{
	struct hd_pin *again = hd_pin_new();
	int rc;

	if (again == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	rc = pin_from_tty(prompt, pin, err);
	if (rc == 0)
		rc = pin_from_tty("Type it again: ", again, err);
	if (rc == 0 && !hd_pin_equal(pin, again)) {
		hd_pin_clear(pin);
		rc = hd_err_set(err, HD_E_PIN_POLICY, 0, "new PIN: the two "
		    "entries differ; nothing was changed");
		hd_err_hint(err, "run the command again and type the same PIN "
		    "twice");
	}
	hd_pin_free(again);
	return rc;
}

/*
 * Fill pin from src (NULL: the terminal).  confirm: on a terminal, ask
 * twice.  Fails at once, never hangs, when there is no terminal.
 */
int
pin_get(struct cli *c, const char *src, const char *opt, const char *prompt,
    int confirm, struct hd_pin *pin, struct hd_err *err)
{
	int rc;

	if (src != NULL && strncmp(src, "env:", 4) == 0)
		return pin_from_env(src + 4, opt, pin, err);
	if (src != NULL && strncmp(src, "file:", 5) == 0)
		return pin_from_file(c, src + 5, opt, pin, err);
	if (src != NULL) {	/* "-", checked at parse time */
		rc = read_line(STDIN_FILENO, pin, "standard input", err);
		if (rc == 0 && hd_pin_len(pin) == 0)
			rc = hd_err_set(err, HD_E_NO_PIN, 0, "%s -: no PIN on "
			    "standard input", opt);
		return rc;
	}
	rc = confirm ? pin_tty_twice(prompt, pin, err) :
	    pin_from_tty(prompt, pin, err);
	if (rc == -2) {
		hd_err_set(err, HD_E_NO_PIN, 0, "%s: needed, and there is no "
		    "terminal to ask on", opt);
		hd_err_hint(err, "give %s env:VAR, %s file:PATH or %s -", opt,
		    opt, opt);
		return -1;
	}
	return rc;
}
