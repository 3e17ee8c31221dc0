/* Atomic output and directories (fileio.c); internal to core. */
#ifndef HD_FILEIO_H
#define HD_FILEIO_H

#include <sys/types.h>

struct hd_err;

int hd_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct hd_err *err);
int hd_mkdirs(const char *path, mode_t mode, struct hd_err *err);
int hd_fsync_dir(const char *path);
/* paths.c: mkdir -p, then the last one made private (0700, ours). */
int hd_private_dir(const char *path, struct hd_err *err);

#endif
