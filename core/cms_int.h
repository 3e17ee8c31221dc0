/*
 * Detached CMS signing (cms_sign.c: one file; cms_batch.c: many files on
 * several sessions, and putting a batch's outputs in place); internal to
 * core.
 */
#ifndef HD_CMS_INT_H
#define HD_CMS_INT_H

#include <pthread.h>

#include <openssl/x509.h>

#include "internal.h"
#include "fileio.h"

#define HD_SYNC_DEVS 8	/* file systems a batch syncs with syncfs */

struct hd_sign {
	struct hd_session *s;
	struct hd_key key;
	struct hd_signer *signer;
	X509 *cert;
	STACK_OF(X509) *chain;		/* without the signer certificate */
	const EVP_MD *md;
	char md_name[8];
	enum hd_sigmech mech;
	struct hd_sign_opts opts;
	unsigned char *buf;		/* HD_STREAM_CHUNK bytes */
	struct hd_tmpfile *pending;	/* opts.defer: written, not synced */
	size_t npending, cap;
	/* opts.defer: a descriptor on each file system written to, opened
	 * before anything of the batch was written there (cms_batch.c) */
	int syncfd[HD_SYNC_DEVS];
	dev_t syncdev[HD_SYNC_DEVS];
	size_t nsync;
	int fsync_each;			/* syncfs will not do: fsync each */
	pthread_mutex_t lock;		/* the above, for hd_sign_files */
};

/* cms_sign.c: sign in into the temp file t for out, closed (fsynced
 * unless deferred) but not placed; the token's time in *sign_ns. */
int hd_sign_one(struct hd_sign *g, unsigned char *buf, const char *in,
    const char *out, hd_progress_fn progress, void *arg,
    struct hd_sign_result *res, struct hd_tmpfile *t, uint64_t *sign_ns,
    struct hd_err *err);
int hd_sign_pending_add(struct hd_sign *g, struct hd_tmpfile *t,
    struct hd_err *err);

/* cms_batch.c */
void hd_sign_note_fs(struct hd_sign *g, const struct hd_tmpfile *t);
void hd_sign_close_fs(struct hd_sign *g);

#endif
