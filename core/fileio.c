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
	o->written = o->flushed = 0;
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

/*
 * A large output (a signed executable) has each 8 MiB handed to the disk
 * as soon as it is written, so the fsync at commit finds little left to
 * wait for instead of all of it: about 30-50 ms less for 100 MiB here.
 * Only a hint (Linux's sync_file_range starts writeback and waits for
 * nothing); durability still comes from the fsync.
 */
#define WRITEBACK_STEP (8ull << 20)

static void
writeback(struct hd_out *o)
{
#ifdef SYNC_FILE_RANGE_WRITE
	while (o->written - o->flushed >= WRITEBACK_STEP) {
		(void)sync_file_range(o->fd, (off_t)o->flushed,
		    (off_t)WRITEBACK_STEP, SYNC_FILE_RANGE_WRITE);
		o->flushed += WRITEBACK_STEP;
	}
#else
	(void)o;
#endif
}

int
hd_out_write(struct hd_out *o, const void *data, size_t len,
    struct hd_err *err)
{
	if (write_all(o->fd, data, len) == -1)
		return out_fail(o->path, errno, err);
	o->written += len;
	writeback(o);
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

/* ---- output written in steps (signatures of large files) -------------- */

static int
tmp_fail(struct hd_tmpfile *t, const char *what, struct hd_err *err)
{
	int e = errno;

	hd_err_set(err, e == ENOMEM ? HD_E_NOMEM : HD_E_IO, 0, "%s: cannot "
	    "%s: %s", t->path ? t->path : "output", what, strerror(e));
	hd_err_hint(err, "check free space and permissions; the previous "
	    "file, if any, is unchanged");
	hd_tmp_discard(t);
	return -1;
}

static int
tmp_exists(const char *path, int replace, struct hd_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1 || (replace && S_ISREG(st.st_mode)))
		return 0;
	hd_err_set(err, HD_E_USAGE, 0, "%s: %s", path, S_ISREG(st.st_mode) ?
	    "exists already" : "exists and is not a regular file");
	hd_err_hint(err, "choose another name%s; the existing file is "
	    "unchanged", S_ISREG(st.st_mode) ?
	    ", or allow overwriting (--force)" : "");
	return -1;
}

/*
 * Start writing path: a temp file beside it, made now so that a directory
 * that cannot be written fails before the long work, not after.  Without
 * replace an existing path is refused now (and again when placing).
 */
int
hd_tmp_create(struct hd_tmpfile *t, const char *path, mode_t mode,
    int replace, struct hd_err *err)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->replace = replace;
	if (tmp_exists(path, replace, err) == -1)
		return -1;
	if ((t->path = strdup(path)) == NULL ||
	    asprintf(&t->tmp, "%s.XXXXXX", path) == -1) {
		t->tmp = NULL;
		errno = ENOMEM;
		return tmp_fail(t, "write", err);
	}
	if ((t->fd = mkostemp(t->tmp, O_CLOEXEC)) == -1) {
		free(t->tmp);
		t->tmp = NULL;
		return tmp_fail(t, "write", err);
	}
	if (fchmod(t->fd, mode) == -1 || fstat(t->fd, &st) == -1)
		return tmp_fail(t, "write", err);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return 0;
}

int
hd_tmp_write(struct hd_tmpfile *t, const void *data, size_t len,
    struct hd_err *err)
{
	if (write_all(t->fd, data, len) == -1)
		return tmp_fail(t, "write", err);
	return 0;
}

/*
 * Close the temp file; with sync, fsync it first so that it is complete
 * on disk.  A batch closes without sync and calls hd_tmp_sync_later for
 * all of them at the end.
 */
int
hd_tmp_close(struct hd_tmpfile *t, int sync, struct hd_err *err)
{
	int fd = t->fd;
	struct stat st;

	t->fd = -1;
	if ((sync && fsync(fd) == -1) || fstat(fd, &st) == -1) {
		close(fd);
		return tmp_fail(t, "write", err);
	}
	t->size = st.st_size;
	t->mtime = st.st_mtim;
	if (close(fd) == -1)
		return tmp_fail(t, "write", err);
	return 0;
}

static int
replaced(struct hd_tmpfile *t, struct hd_err *err)
{
	hd_err_set(err, HD_E_IO, 0, "%s: its temporary file %s was replaced "
	    "by another program", t->path, t->tmp);
	free(t->tmp);	/* not ours to remove */
	t->tmp = NULL;
	hd_tmp_discard(t);
	return -1;
}

/* The file st describes is t's temp file as closed: inode numbers are
 * reused at once, so the size and mtime too. */
static int
same_tmp(const struct hd_tmpfile *t, const struct stat *st)
{
	return st->st_dev == t->dev && st->st_ino == t->ino &&
	    st->st_size == t->size && st->st_mtim.tv_sec == t->mtime.tv_sec &&
	    st->st_mtim.tv_nsec == t->mtime.tv_nsec;
}

/* fsync a temp file closed earlier, making sure it is still ours. */
int
hd_tmp_sync_later(struct hd_tmpfile *t, struct hd_err *err)
{
	struct stat st;
	int fd = open(t->tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd == -1)
		return tmp_fail(t, "write", err);
	if (fstat(fd, &st) == -1 || !same_tmp(t, &st)) {
		close(fd);
		return replaced(t, err);
	}
	rc = fsync(fd);
	close(fd);
	return rc == -1 ? tmp_fail(t, "write", err) : 0;
}

/* A temp file closed earlier (and synced with its file system) must
 * still be ours before it is renamed into place. */
int
hd_tmp_still_ours(struct hd_tmpfile *t, struct hd_err *err)
{
	struct stat st;

	if (lstat(t->tmp, &st) == -1)
		return tmp_fail(t, "write", err);
	return same_tmp(t, &st) ? 0 : replaced(t, err);
}

/* Rename the (synced) temp file into place; dirsync: fsync the directory
 * too (a batch does that once per directory instead).  Frees t. */
int
hd_tmp_place(struct hd_tmpfile *t, int dirsync, struct hd_err *err)
{
	if (place(t->tmp, t->path, t->replace) == -1) {
		if (errno != EEXIST)
			return tmp_fail(t, "rename the new file into place",
			    err);
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already", t->path);
		hd_err_hint(err, "another program made it meanwhile; it is "
		    "unchanged");
		hd_tmp_discard(t);
		return -1;
	}
	free(t->tmp);
	t->tmp = NULL;
	if (dirsync)
		(void)hd_fsync_dir(t->path);
	hd_tmp_discard(t);
	return 0;
}

/* Remove the temp file, if any, and free t; the target is untouched. */
void
hd_tmp_discard(struct hd_tmpfile *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	if (t->tmp != NULL)
		unlink(t->tmp);
	free(t->tmp);
	free(t->path);
	t->tmp = t->path = NULL;
}

/*
 * Replacing the input (out names the same file), the new file gets its
 * owner and group.  Only root may give a file away: anyone else signing
 * another user's file is refused rather than taking it over.
 */
int
hd_out_keep_owner(struct hd_out *o, const struct stat *in, struct hd_err *err)
{
	struct stat out, tmp;
	int e;

	if (stat(o->path, &out) == -1 || out.st_dev != in->st_dev ||
	    out.st_ino != in->st_ino)
		return 0;
	if (fstat(o->fd, &tmp) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", o->tmp,
		    strerror(errno));
	if (tmp.st_uid == in->st_uid && tmp.st_gid == in->st_gid)
		return 0;
	if (fchown(o->fd, tmp.st_uid == in->st_uid ? (uid_t)-1 :
	    in->st_uid, tmp.st_gid == in->st_gid ? (gid_t)-1 :
	    in->st_gid) == 0)
		return 0;
	e = errno;
	hd_err_set(err, HD_E_IO, 0, "%s: cannot keep its owner %lu:%lu: %s",
	    o->path, (unsigned long)in->st_uid, (unsigned long)in->st_gid,
	    strerror(e));
	hd_err_hint(err, "sign it as its owner (or root), or write a signed "
	    "copy elsewhere; the file is unchanged");
	return -1;
}
