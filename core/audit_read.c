/*
 * A log read line by line, whatever its size: audit verify and audit show
 * walk it once.  Lines longer than HD_AUDIT_LINE_MAX are an error (no
 * record hsmdesk writes comes near it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_int.h"

int
hd_audit_reader_open(struct hd_audit_reader *r, const char *path,
    struct hd_err *err)
{
	memset(r, 0, sizeof(*r));
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "audit log %s: %s", path, strerror(errno));
	r->cap = 2 * HD_AUDIT_LINE_MAX;
	if ((r->buf = malloc(r->cap)) == NULL) {
		close(r->fd);
		r->fd = -1;
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	return 0;
}

/* More bytes after the kept ones; -1 on a read error. */
static int
fill(struct hd_audit_reader *r, struct hd_err *err)
{
	ssize_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return hd_err_set(err, HD_E_IO, 0, "audit log: reading: %s",
		    strerror(errno));
	if (n == 0)
		r->eof = 1;
	r->len += (size_t)n;
	return 0;
}

int
hd_audit_reader_next(struct hd_audit_reader *r, const char **line,
    size_t *len, int *partial, struct hd_err *err)
{
	char *nl;

	*partial = 0;
	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl != NULL)
			break;
		if (r->eof) {
			if (r->pos == r->len)
				return 0;
			*partial = 1;
			*line = r->buf + r->pos;
			*len = r->len - r->pos;
			r->pos = r->len;
			r->lineno++;
			return 1;
		}
		if (r->len - r->pos >= HD_AUDIT_LINE_MAX)
			return hd_err_set(err, HD_E_INPUT, 0, "audit log: line "
			    "%llu is longer than %d bytes: not an audit "
			    "record", (unsigned long long)r->lineno + 1,
			    HD_AUDIT_LINE_MAX);
		if (fill(r, err) == -1)
			return -1;
	}
	*line = r->buf + r->pos;
	*len = (size_t)(nl - (r->buf + r->pos));
	r->pos += *len + 1;
	r->lineno++;
	return 1;
}

void
hd_audit_reader_close(struct hd_audit_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
