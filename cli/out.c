/* How the CLI reports problems: one line on stderr, then the exit status. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hsmdesk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return 2;
}

/* One line: the object and the problem, then what to do. */
int
cli_fail(const struct hd_err *err)
{
	fprintf(stderr, "hsmdesk: %s", err->msg);
	if (err->ckr != 0)
		fprintf(stderr, " (%s)", hd_ckr_name(err->ckr));
	if (err->hint[0] != '\0')
		fprintf(stderr, "; %s", err->hint);
	if (err->ossl[0] != '\0')
		fprintf(stderr, " [%s]", err->ossl);
	fputc('\n', stderr);
	return hd_code_exit(err->code);
}

