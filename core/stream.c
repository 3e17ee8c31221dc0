/*
 * A file fed through an OpenSSL BIO chain (CMS digest BIOs) in large
 * read()s, so memory stays flat for any size.  The file must not change
 * meanwhile: its size and mtime are taken before and after, and exactly
 * the bytes it had at the start are read.  A file rewritten in place
 * within one tick of the file system clock keeps its mtime; nothing short
 * of a second pass could tell, so that is left undetected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "internal.h"

int
hd_stream_open(struct hd_stream *f, const char *path, struct hd_err *err)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f->fd == -1) {
		hd_err_set(err, errno == ENOENT || errno == EACCES ?
		    HD_E_INPUT : HD_E_IO, 0, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(f->fd, &f->st) == -1) {
		hd_err_set(err, HD_E_IO, 0, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(f->st.st_mode)) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: not a regular file", path);
		hd_err_hint(err, "only regular files can be signed and "
		    "verified: a pipe or device has no fixed content");
		goto fail;
	}
	(void)fcntl(f->fd, F_SETFL, 0);
	(void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
fail:
	hd_stream_close(f);
	return -1;
}

void
hd_stream_close(struct hd_stream *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

uint64_t
hd_stream_size(const struct hd_stream *f)
{
	return (uint64_t)f->st.st_size;
}

static int
changed(const struct hd_stream *f, const char *doing, struct hd_err *err)
{
	hd_err_set(err, HD_E_INPUT, 0, "%s: changed while being %s", f->path,
	    doing);
	hd_err_hint(err, "something is writing to it: %s it once it is "
	    "complete", strcmp(doing, "signed") == 0 ? "sign" : "verify");
	return -1;
}

static int
same(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_dev == b->st_dev &&
	    a->st_ino == b->st_ino &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static ssize_t
read_some(int fd, unsigned char *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Write the file's bytes into sink, len bytes of buf at a time, calling
 * progress(arg, done, total) first and after each chunk; a non-zero
 * return cancels (HD_E_CANCELLED).  doing is "signed" or "verified".
 */
int
hd_stream_feed(struct hd_stream *f, BIO *sink, unsigned char *buf,
    size_t len, hd_progress_fn progress, void *arg, const char *doing,
    struct hd_err *err)
{
	uint64_t total = hd_stream_size(f), done = 0;
	struct stat after;
	ssize_t r;

	if (progress != NULL && progress(arg, 0, total) != 0)
		goto cancelled;
	while (done < total) {
		size_t want = total - done < len ? (size_t)(total - done) : len;

		if ((r = read_some(f->fd, buf, want)) == -1)
			return hd_err_set(err, HD_E_IO, 0, "%s: read failed "
			    "after %llu bytes: %s", f->path,
			    (unsigned long long)done, strerror(errno));
		if (r == 0)
			return changed(f, doing, err);	/* it got shorter */
		if (BIO_write(sink, buf, (int)r) != (int)r) {
			hd_err_set(err, HD_E_INTERNAL, 0, "%s: hashing failed",
			    f->path);
			hd_err_ossl(err);
			return -1;
		}
		done += (uint64_t)r;
		if (progress != NULL && progress(arg, done, total) != 0)
			goto cancelled;
	}
	if (fstat(f->fd, &after) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", f->path,
		    strerror(errno));
	if (!same(&f->st, &after))
		return changed(f, doing, err);
	return 0;
cancelled:
	hd_err_set(err, HD_E_CANCELLED, 0, "%s: cancelled", f->path);
	return -1;
}
