/*
 * libp11 and some modules print to stderr; under curses that would write
 * over the screen.  While curses owns the terminal, fd 2 goes to an
 * unlinked temp file (a pipe could fill and block the module), whose new
 * lines are read on every loop turn and shown on the Messages screen.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

void
msglog_add(struct tui *t, const char *line)
{
	char *copy = strdup(line);

	if (copy == NULL)
		return;
	if (t->nmsgs == TUI_MSGS) {
		free(t->msgs[0]);
		memmove(t->msgs, t->msgs + 1, (TUI_MSGS - 1) * sizeof(char *));
		t->nmsgs--;
	}
	t->msgs[t->nmsgs++] = copy;
	t->unseen++;
}

void
msglog_start(struct tui *t)
{
	const char *dir = getenv("TMPDIR");

	t->errfd = t->saved_stderr = -1;
	t->errfd = open(dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC,
	    0600);
	if (t->errfd == -1)
		return;
	fflush(stderr);
	t->saved_stderr = dup(STDERR_FILENO);
	if (t->saved_stderr == -1 || dup2(t->errfd, STDERR_FILENO) == -1) {
		close(t->errfd);
		t->errfd = -1;
	}
}

void
msglog_poll(struct tui *t)
{
	char buf[4096], *line, *save;
	ssize_t n;

	if (t->errfd == -1)
		return;
	fflush(stderr);
	while ((n = pread(t->errfd, buf, sizeof(buf) - 1, t->errpos)) > 0) {
		char *end = memrchr(buf, '\n', (size_t)n);

		if (end == NULL && n < (ssize_t)sizeof(buf) - 1)
			break;		/* wait for the rest of the line */
		if (end == NULL)
			end = buf + n - 1;
		*end = '\0';
		t->errpos += end - buf + 1;
		for (line = strtok_r(buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			msglog_add(t, line);
	}
}

void
msglog_stop(struct tui *t)
{
	int i;

	msglog_poll(t);
	if (t->saved_stderr != -1) {
		fflush(stderr);
		dup2(t->saved_stderr, STDERR_FILENO);
		close(t->saved_stderr);
	}
	if (t->errfd != -1)
		close(t->errfd);
	t->errfd = t->saved_stderr = -1;
	for (i = 0; i < t->nmsgs; i++)
		free(t->msgs[i]);
	t->nmsgs = 0;
}
