/*
 * Files the way an operator can trust: outputs are written to a temp file
 * in the target directory, fsynced, then renamed over the target, so a
 * crash or a full disk never leaves a partial file; the directory is
 * fsynced so the rename itself survives a power cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsmdesk.h"
#include "fileio.h"

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int
hd_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc;

	dir_of(path, dir, sizeof(dir));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Put tmp in place of path; without replace, an existing path wins. */
static int
place(const char *tmp, const char *path, int replace)
{
	if (replace)
		return rename(tmp, path);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without RENAME_NOREPLACE: link() never replaces */
	if (link(tmp, path) == -1)
		return -1;
	unlink(tmp);
	return 0;
}

int
hd_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct hd_err *err)
{
	return hd_write_file(path, data, len, mode, 1, err);
}

/*
 * Write data to path through a temp file in the same directory, fsynced
 * and renamed into place.  Without replace, an existing file is an error
 * (HD_E_USAGE, "exists already") and is left as it was.
 */
int
hd_write_file(const char *path, const void *data, size_t len, mode_t mode,
    int replace, struct hd_err *err)
{
	struct hd_out o;

	if (hd_out_begin(&o, path, mode, replace, err) == -1)
		return -1;
	if (hd_out_write(&o, data, len, err) == -1) {
		hd_out_abort(&o);
		return -1;
	}
	return hd_out_commit(&o, err);
}

/* The error for errno while writing path; the original is untouched. */
static int
out_fail(const char *path, int e, struct hd_err *err)
{
	if (e == EEXIST) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already", path);
		hd_err_hint(err, "choose another name, or allow overwriting "
		    "(--force); the existing file is unchanged");
		return -1;
	}
	hd_err_set(err, HD_E_IO, 0, "%s: cannot write: %s", path,
	    strerror(e));
	hd_err_hint(err, "check free space and permissions; the previous "
	    "file, if any, is unchanged");
	return -1;
}

/*
 * Start writing path: a temp file beside it with the given mode.  Data
 * too large to hold in memory (a signed executable) is streamed through
 * hd_out_write; nothing appears at path before hd_out_commit.
 */
int
hd_out_begin(struct hd_out *o, const char *path, mode_t mode, int replace,
    struct hd_err *err)
{
	struct stat st;

	o->fd = -1;
	o->replace = replace;
	/* fail before a long write; place() still decides at the end */
	if (!replace && lstat(path, &st) == 0)
		return out_fail(path, EEXIST, err);
	if (snprintf(o->path, sizeof(o->path), "%s", path) >=
	    (int)sizeof(o->path) || snprintf(o->tmp, sizeof(o->tmp),
	    "%s.XXXXXX", path) >= (int)sizeof(o->tmp))
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", path);
	if ((o->fd = mkostemp(o->tmp, O_CLOEXEC)) == -1)
		return out_fail(path, errno, err);
	if (fchmod(o->fd, mode) == -1) {
		int e = errno;

		hd_out_abort(o);
		return out_fail(path, e, err);
	}
	return 0;
}

int
hd_out_write(struct hd_out *o, const void *data, size_t len,
    struct hd_err *err)
{
	if (write_all(o->fd, data, len) == -1)
		return out_fail(o->path, errno, err);
	return 0;
}

/* Overwrite len bytes at off, already written, e.g. a header checksum. */
int
hd_out_pwrite(struct hd_out *o, const void *data, size_t len, off_t off,
    struct hd_err *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = pwrite(o->fd, p, len, off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return out_fail(o->path, errno, err);
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync, close and rename into place; on failure the temp file goes. */
int
hd_out_commit(struct hd_out *o, struct hd_err *err)
{
	int e;

	if (fsync(o->fd) == -1) {
		e = errno;
		goto fail;
	}
	e = close(o->fd) == -1 ? errno : 0;
	o->fd = -1;
	if (e != 0 || place(o->tmp, o->path, o->replace) == -1) {
		e = e != 0 ? e : errno;
		goto fail;
	}
	(void)hd_fsync_dir(o->path);
	return 0;
fail:
	hd_out_abort(o);
	return out_fail(o->path, e, err);
}

/* Drop the temp file; the target is as it was. */
void
hd_out_abort(struct hd_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	o->fd = -1;
	unlink(o->tmp);
}

/* mkdir -p with the given mode for the directories it creates. */
int
hd_mkdirs(const char *path, mode_t mode, struct hd_err *err)
{
	char buf[PATH_MAX];
	size_t i;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", path);
	for (i = 1; buf[i] != '\0'; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			goto fail;
		buf[i] = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	return hd_err_set(err, HD_E_IO, 0, "%s: cannot create directory: %s",
	    buf, strerror(errno));
}
