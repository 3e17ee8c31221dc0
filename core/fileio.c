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
 * (HD_E_IO with EEXIST) and is left as it was.
 */
int
hd_write_file(const char *path, const void *data, size_t len, mode_t mode,
    int replace, struct hd_err *err)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail_noclean;
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (place(tmp, path, replace) == -1)
		goto fail;
	(void)hd_fsync_dir(path);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
fail_noclean:
	if (errno == EEXIST) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already", path);
		hd_err_hint(err, "choose another name, or allow overwriting "
		    "(--force); the existing file is unchanged");
		return -1;
	}
	hd_err_set(err, HD_E_IO, 0, "%s: cannot write: %s", path,
	    strerror(errno));
	hd_err_hint(err, "check free space and permissions; the previous "
	    "file, if any, is unchanged");
	return -1;
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
