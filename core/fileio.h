/* Atomic output and directories (fileio.c); internal to core. */
#ifndef HD_FILEIO_H
#define HD_FILEIO_H

#include <limits.h>
#include <sys/types.h>

struct hd_err;

/* A file being written through a temp file beside it (fileio.c). */
struct hd_out {
	int fd;
	int replace;
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

int hd_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct hd_err *err);
int hd_mkdirs(const char *path, mode_t mode, struct hd_err *err);
int hd_fsync_dir(const char *path);
/* paths.c: mkdir -p, then the last one made private (0700, ours). */
int hd_private_dir(const char *path, struct hd_err *err);

#endif
