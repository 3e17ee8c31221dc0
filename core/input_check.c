/*
 * Did the file being signed change while the token signed it?  Hashing
 * and signing take time (a slow HSM, a big file); an editor or a build
 * can write the file meanwhile.  The signature would then be of content
 * that no longer exists, or an in-place signer would put the old content
 * back over the new.  Checked between signing and writing: the open file
 * against what fstat said when it was opened, and the path against the
 * open file (removed, or replaced by a rename).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int
hd_input_unchanged(int fd, const char *path, const struct stat *before,
    struct hd_err *err)
{
	struct stat now, named;

	if (fstat(fd, &now) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", path,
		    strerror(errno));
	if (stat(path, &named) == -1) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: removed while it was "
		    "being signed (%s)", path, strerror(errno));
		hd_err_hint(err, "nothing was written");
		return -1;
	}
	if (named.st_dev != now.st_dev || named.st_ino != now.st_ino) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: replaced by another file "
		    "while it was being signed", path);
		hd_err_hint(err, "nothing was written; sign it again once it "
		    "no longer changes");
		return -1;
	}
	if (now.st_size != before->st_size ||
	    !same_time(&now.st_mtim, &before->st_mtim) ||
	    !same_time(&now.st_ctim, &before->st_ctim)) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: changed while it was "
		    "being signed", path);
		hd_err_hint(err, "nothing was written; sign it again once it "
		    "no longer changes");
		return -1;
	}
	return 0;
}
