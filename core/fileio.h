/* Atomic output and directories (fileio.c); internal to core. */
#ifndef HD_FILEIO_H
#define HD_FILEIO_H

#include <limits.h>
#include <sys/types.h>
#include <time.h>

struct hd_err;

/* A file being written through a temp file beside it (fileio.c). */
struct hd_out {
	int fd;
	int replace;
	unsigned long long written, flushed;	/* bytes; see writeback() */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};

int hd_out_begin(struct hd_out *o, const char *path, mode_t mode,
    int replace, struct hd_err *err);
int hd_out_write(struct hd_out *o, const void *data, size_t len,
    struct hd_err *err);
int hd_out_pwrite(struct hd_out *o, const void *data, size_t len, off_t off,
    struct hd_err *err);
int hd_out_commit(struct hd_out *o, struct hd_err *err);
void hd_out_abort(struct hd_out *o);
struct stat;
int hd_out_keep_owner(struct hd_out *o, const struct stat *in,
    struct hd_err *err);

int hd_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct hd_err *err);
int hd_mkdirs(const char *path, mode_t mode, struct hd_err *err);
int hd_fsync_dir(const char *path);
/* paths.c: mkdir -p, then the last one made private (0700, ours). */
int hd_private_dir(const char *path, struct hd_err *err);

/* An output written in steps: create, write, close, place (or discard). */
struct hd_tmpfile {
	char *path;		/* the target */
	char *tmp;		/* NULL once placed or discarded */
	int fd;			/* -1 once closed */
	int replace;
	dev_t dev;		/* the temp file's, to find it again */
	ino_t ino;
	off_t size;		/* as closed */
	struct timespec mtime;
};

int hd_tmp_create(struct hd_tmpfile *t, const char *path, mode_t mode,
    int replace, struct hd_err *err);
int hd_tmp_write(struct hd_tmpfile *t, const void *data, size_t len,
    struct hd_err *err);
int hd_tmp_close(struct hd_tmpfile *t, int sync, struct hd_err *err);
int hd_tmp_sync_later(struct hd_tmpfile *t, struct hd_err *err);
int hd_tmp_still_ours(struct hd_tmpfile *t, struct hd_err *err);
int hd_tmp_place(struct hd_tmpfile *t, int dirsync, struct hd_err *err);
void hd_tmp_discard(struct hd_tmpfile *t);

#endif
