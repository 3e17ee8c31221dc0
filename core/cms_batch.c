/*
 * Detached CMS signatures of many files: signing them on several PKCS#11
 * sessions at once (hd_sign_files), and putting a deferred batch's
 * outputs in place (hd_sign_commit).
 *
 * Parallel signing.  The batch is logged in once; PKCS#11 login state
 * belongs to the application, so every session of the token is logged
 * in.  libp11 (0.4.11 on) signs on a session taken from its slot's pool
 * and opens more, up to 16, when several threads sign at once, so each
 * worker thread here gets a session of its own for each C_Sign while all
 * share one key, certificate and chain, which they only read.  A file is
 * the unit of work: each worker takes the next file, signs it into its
 * own temp file with its own buffer and records the result in the file's
 * slot, so results come back in input order whatever order the workers
 * finish in.  hd_sign_open loaded the key on the calling thread first,
 * as libp11's method tables need.
 *
 * Committing a batch.  Each output was written to a temp file and closed
 * without fsync.  Instead of an fsync per file (a device cache flush
 * each), one syncfs(2) per file system writes every temp file's data and
 * inode to disk and flushes the device cache; then each temp file is
 * renamed into place and a second syncfs makes the renames durable.  A
 * signature thus appears under its name only once its content is on
 * disk, as with fsync then rename.  syncfs reports writeback errors, the
 * way fsync does, only since Linux 5.8, and only those since the
 * descriptor it is given was opened: so the descriptor is a dup of the
 * first temp file made on that file system, opened before any output of
 * the batch was written there.  On older kernels, other systems, or a
 * batch spread over more file systems than HD_SYNC_DEVS, each file is
 * fsynced as before.  syncfs also writes out what other programs left
 * unwritten on that file system: usually little, but it is not ours to
 * bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cms_int.h"

#define WORKERS_MAX 4

/* ---- which file systems a batch wrote to --------------------------------- */

/* syncfs reports writeback errors from Linux 5.8 on. */
static int
syncfs_reports_errors(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) == -1 || strcmp(u.sysname, "Linux") != 0 ||
	    sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major > 5 || (major == 5 && minor >= 8);
}

/* Called with t's temp file open and still empty. */
void
hd_sign_note_fs(struct hd_sign *g, const struct hd_tmpfile *t)
{
	size_t i;
	int fd;

	pthread_mutex_lock(&g->lock);
	for (i = 0; i < g->nsync && g->syncdev[i] != t->dev; i++)
		;
	if (i == g->nsync && !g->fsync_each) {
		if (g->nsync == HD_SYNC_DEVS || !syncfs_reports_errors() ||
		    (fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			g->fsync_each = 1;
		} else {
			g->syncfd[g->nsync] = fd;
			g->syncdev[g->nsync++] = t->dev;
		}
	}
	pthread_mutex_unlock(&g->lock);
}

void
hd_sign_close_fs(struct hd_sign *g)
{
	size_t i;

	for (i = 0; i < g->nsync; i++)
		close(g->syncfd[i]);
	g->nsync = 0;
	g->fsync_each = 0;
}

/* ---- committing ------------------------------------------------------------ */

/* Two paths name the same directory (as written: a batch's are alike). */
static int
same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;

	return la == lb && strncmp(a, b, la) == 0;
}

static void
first_error(int *rc, struct hd_err *err, const struct hd_err *e)
{
	if (*rc == 0)
		*err = *e;
	*rc = -1;
}

/* Without syncfs: fsync each, rename each, fsync each directory once. */
static int
commit_each(struct hd_sign *g, struct hd_err *err)
{
	struct hd_err e;
	size_t i;
	int rc = 0;

	for (i = 0; i < g->npending; i++)
		if (hd_tmp_sync_later(&g->pending[i], &e) == -1)
			first_error(&rc, err, &e);
	for (i = 0; i < g->npending; i++) {
		struct hd_tmpfile *t = &g->pending[i];
		const char *next = i + 1 < g->npending ?
		    g->pending[i + 1].path : NULL;
		int last = next == NULL || !same_dir(t->path, next);

		if (t->tmp == NULL)
			continue;	/* its sync failed */
		if (hd_tmp_place(t, last, &e) == -1)
			first_error(&rc, err, &e);
	}
	return rc;
}

/* syncfs on each file system; one that fails takes its files along. */
static int
sync_all(struct hd_sign *g, int placed, struct hd_err *err)
{
	struct hd_err e;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < g->nsync; i++) {
		const char *name = NULL;

		if (syncfs(g->syncfd[i]) == 0)
			continue;
		for (j = 0; j < g->npending; j++) {
			struct hd_tmpfile *t = &g->pending[j];

			if (t->dev != g->syncdev[i] || t->path == NULL)
				continue;
			if (name == NULL)
				name = t->path;
			if (!placed)
				hd_tmp_discard(t);
		}
		hd_err_set(&e, HD_E_IO, 0, "%s: cannot write: %s",
		    name != NULL ? name : "signatures", strerror(errno));
		hd_err_hint(&e, placed ? "the signatures of this batch may "
		    "not all be on disk: sign the files again" : "check free "
		    "space; no signature of this batch on that file system "
		    "was put in place");
		first_error(&rc, err, &e);
	}
	return rc;
}

static int
commit_syncfs(struct hd_sign *g, struct hd_err *err)
{
	struct hd_err e;
	size_t i;
	int rc;

	rc = sync_all(g, 0, err);
	for (i = 0; i < g->npending; i++) {
		struct hd_tmpfile *t = &g->pending[i];

		if (t->tmp == NULL)
			continue;	/* its file system failed */
		if (hd_tmp_still_ours(t, &e) == -1 ||
		    hd_tmp_place(t, 0, &e) == -1)
			first_error(&rc, err, &e);
	}
	if (sync_all(g, 1, &e) == -1)
		first_error(&rc, err, &e);
	return rc;
}

/*
 * Batch (opts.defer): make every signature written since the last commit
 * durable and put it in place (see the top of this file).  A failure is
 * reported for the first file it hit; the others are placed.
 */
int
hd_sign_commit(struct hd_sign *g, struct hd_err *err)
{
	size_t i;
	int rc;

	hd_err_clear(err);
	rc = g->fsync_each || g->nsync == 0 ? commit_each(g, err) :
	    commit_syncfs(g, err);
	for (i = 0; i < g->npending; i++)
		hd_tmp_discard(&g->pending[i]);	/* frees what is left */
	g->npending = 0;
	hd_sign_close_fs(g);
	return rc;
}

/* ---- signing on several sessions ------------------------------------------- */

/*
 * How many sessions a batch should sign on: one per CPU (SoftHSM2 signs
 * on the CPU), at most WORKERS_MAX, and no more than the token has
 * sessions left when it says.
 */
unsigned
hd_sign_workers(struct hd_session *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cpus < 1 ? 1 : cpus > WORKERS_MAX ? WORKERS_MAX :
	    (unsigned)cpus;
	CK_TOKEN_INFO ti;
	CK_ULONG used;

	if (s->fl->C_GetTokenInfo(s->slot, &ti) != CKR_OK ||
	    ti.ulMaxSessionCount == CK_EFFECTIVELY_INFINITE ||
	    ti.ulMaxSessionCount == CK_UNAVAILABLE_INFORMATION)
		return n;
	used = ti.ulSessionCount == CK_UNAVAILABLE_INFORMATION ? 2 :
	    ti.ulSessionCount;
	if (ti.ulMaxSessionCount <= used + 1)
		return 1;
	return ti.ulMaxSessionCount - used < n ?
	    (unsigned)(ti.ulMaxSessionCount - used) : n;
}

struct batch {
	struct hd_sign *g;
	struct hd_sign_item *items;
	struct hd_tmpfile *tmp;		/* one per item */
	size_t n;
	atomic_size_t next;		/* the next item to take */
	atomic_int stop;
	pthread_mutex_t lock;		/* progress calls, done */
	size_t done;
	hd_progress_fn progress;
	void *arg;
};

struct lane {
	struct batch *b;
	unsigned char *buf;
	uint64_t sign_ns;
};

/* Tell the caller (one call at a time); non-zero: stop. */
static int
tell(struct batch *b, size_t finished)
{
	int stop;

	pthread_mutex_lock(&b->lock);
	b->done += finished;
	if (!atomic_load(&b->stop) && b->progress != NULL &&
	    b->progress(b->arg, b->done, b->n) != 0)
		atomic_store(&b->stop, 1);
	stop = atomic_load(&b->stop);
	pthread_mutex_unlock(&b->lock);
	return stop;
}

/* During a file: polled after each chunk, so a stop ends it early. */
static int
file_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)done;
	(void)total;
	return tell(arg, 0);
}

static void
sign_item(struct lane *l, size_t i)
{
	struct batch *b = l->b;
	struct hd_sign_item *it = &b->items[i];
	struct hd_tmpfile *t = &b->tmp[i];

	if (hd_sign_one(b->g, l->buf, it->in, it->out, file_progress, b,
	    &it->res, t, &l->sign_ns, &it->err) == -1) {
		it->state = it->err.code == HD_E_CANCELLED ? HD_ITEM_TODO :
		    HD_ITEM_FAILED;
		return;
	}
	if (!b->g->opts.defer && hd_tmp_place(t, 1, &it->err) == -1) {
		it->state = HD_ITEM_FAILED;
		return;
	}
	it->state = HD_ITEM_SIGNED;
}

static void *
lane_run(void *arg)
{
	struct lane *l = arg;
	struct batch *b = l->b;
	size_t i;

	while (!atomic_load(&b->stop) &&
	    (i = atomic_fetch_add(&b->next, 1)) < b->n) {
		sign_item(l, i);
		(void)tell(b, 1);
	}
	return NULL;
}

/* Deferred outputs join the batch in input order. */
static void
gather(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct hd_sign_item *it = &b->items[i];

		if (it->state != HD_ITEM_SIGNED || !b->g->opts.defer)
			continue;
		if (hd_sign_pending_add(b->g, &b->tmp[i], &it->err) == -1)
			it->state = HD_ITEM_FAILED;
	}
}

static int
lanes_open(struct lane *lanes, unsigned n, struct batch *b)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		lanes[i].b = b;
		if ((lanes[i].buf = malloc(HD_STREAM_CHUNK)) == NULL)
			return i > 0 ? (int)i : -1;
	}
	return (int)n;
}

/*
 * Sign items[0..n) on up to `workers` sessions; the calling thread is
 * one of them.  Each item ends HD_ITEM_SIGNED, HD_ITEM_FAILED (its err
 * says why) or, after a stop, HD_ITEM_TODO.
 */
void
hd_sign_files(struct hd_sign *g, struct hd_sign_item *items, size_t n,
    unsigned workers, hd_progress_fn progress, void *arg)
{
	struct lane lanes[WORKERS_MAX];
	pthread_t th[WORKERS_MAX];
	int started[WORKERS_MAX] = { 0 };
	struct batch b;
	size_t i;
	int nl;

	for (i = 0; i < n; i++) {
		items[i].state = HD_ITEM_TODO;
		hd_err_clear(&items[i].err);
	}
	memset(&b, 0, sizeof(b));
	memset(lanes, 0, sizeof(lanes));
	b.g = g;
	b.items = items;
	b.n = n;
	b.progress = progress;
	b.arg = arg;
	atomic_init(&b.next, 0);
	atomic_init(&b.stop, 0);
	if (workers < 1)
		workers = 1;
	if (workers > WORKERS_MAX)
		workers = WORKERS_MAX;
	if (workers > n)
		workers = n > 0 ? (unsigned)n : 1;
	b.tmp = calloc(n > 0 ? n : 1, sizeof(*b.tmp));
	nl = b.tmp != NULL ? lanes_open(lanes, workers, &b) : -1;
	if (nl == -1) {
		for (i = 0; i < n; i++) {
			items[i].state = HD_ITEM_FAILED;
			hd_err_set(&items[i].err, HD_E_NOMEM, 0, "%s: out of "
			    "memory", items[i].in);
		}
		free(b.tmp);
		return;
	}
	pthread_mutex_init(&b.lock, NULL);
	/* a thread that cannot start leaves its share to the others */
	for (i = 1; i < (size_t)nl; i++)
		started[i] = pthread_create(&th[i], NULL, lane_run,
		    &lanes[i]) == 0;
	lane_run(&lanes[0]);
	for (i = 1; i < (size_t)nl; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (i = 0; i < (size_t)nl; i++) {
		g->s->sign_ns += lanes[i].sign_ns;
		free(lanes[i].buf);
	}
	gather(&b);
	pthread_mutex_destroy(&b.lock);
	free(b.tmp);
}
