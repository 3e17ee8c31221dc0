/*
 * The token's part of a request, run off the UI thread: C_GenerateKeyPair
 * cannot be interrupted and takes seconds for RSA-4096, so a worker makes
 * the key pair and the CSR while this thread keeps the spinner turning
 * and reads the keyboard.  Esc or Ctrl-C asks whether to cancel; the
 * worker holds at its next checkpoint (hd_keygen's progress callback, or
 * after the CSR) until the question is answered, and a yes there makes
 * hd_keygen delete what it made.  Only the worker touches the session
 * while it runs.  Screen tests run it on this thread, keys from the
 * script.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "req.h"

struct job {
	struct jobask q;
	struct tui *t;		/* the worker uses t->s and nothing else */
	struct req *r;
	struct job_view *jv;
	int finished, phase, sync;
	int rc;
	struct hd_err err;
};

/*
 * Hold while the question is open; non-zero if the answer was cancel.
 * worked: the token has just done something (a script's key read here
 * came while it worked).
 */
static int
checkpoint(struct job *j, int worked)
{
	int c;

	if (j->sync && worked)
		jobask_script(j->t, &j->q, &j->jv->asking);
	pthread_mutex_lock(&j->q.mu);
	while (j->q.asking)
		pthread_cond_wait(&j->q.cv, &j->q.mu);
	c = j->q.cancel;
	pthread_mutex_unlock(&j->q.mu);
	return c;
}

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
	return checkpoint(arg, done == total);
}

static int
cancelled(struct job *j)
{
	return hd_err_set(&j->err, HD_E_CANCELLED, 0, "cancelled");
}

static int
work(struct job *j)
{
	struct req *r = j->r;

	if (r->mode == REQ_NEW) {
		if (hd_keygen(j->t->s, &r->p, r->label, on_progress, j,
		    &r->key, &j->err) == -1)
			return -1;
		r->key_made = 1;
	}
	pthread_mutex_lock(&j->q.mu);
	j->phase = 1;
	pthread_mutex_unlock(&j->q.mu);
	if (checkpoint(j, 0))
		return cancelled(j);
	if (hd_csr_make(j->t->s, &r->p, &r->key, &r->csr, &j->err) == -1)
		return -1;
	if (checkpoint(j, 1)) {
		hd_csr_free(&r->csr);
		return cancelled(j);
	}
	return 0;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	sigset_t all;

	sigfillset(&all);	/* signals are the UI thread's to see */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	j->rc = work(j);
	pthread_mutex_lock(&j->q.mu);
	j->finished = 1;
	pthread_mutex_unlock(&j->q.mu);
	return NULL;
}

/* One turn of the spinner: draw, then a key or 100 ms. */
static void
turn(struct tui *t, struct job *j)
{
	int ch, sig;

	tui_render(t);
	ch = tui_getkey(t);
	msglog_poll(t);
	if ((sig = tui_signal()) == SIGINT) {
		tui_signal_clear();
		ch = 3;
	} else if (sig != 0) {	/* TERM, HUP: cancel, and the loop ends */
		pthread_mutex_lock(&j->q.mu);
		j->q.cancel = 1;
		j->q.asking = 0;
		pthread_cond_broadcast(&j->q.cv);
		pthread_mutex_unlock(&j->q.mu);
		return;
	}
	if (ch != ERR)
		jobask_key(&j->q, ch);
}

static void
watch(struct tui *t, struct job *j)
{
	double t0 = jobask_clock(t);
	pthread_t th;
	int done;

	if (pthread_create(&th, NULL, worker, j) != 0) {
		j->rc = work(j);	/* no thread: no spinner, no cancel */
		return;
	}
	timeout(100);
	for (;;) {
		pthread_mutex_lock(&j->q.mu);
		done = j->finished;
		j->jv->asking = j->q.asking;
		j->jv->phase = j->phase;
		pthread_mutex_unlock(&j->q.mu);
		if (done)
			break;
		j->jv->elapsed = jobask_clock(t) - t0;
		j->jv->frame++;
		turn(t, j);
	}
	pthread_join(th, NULL);
	timeout(1000);
	j->jv->elapsed = jobask_clock(t) - t0;
}

int
req_job(struct tui *t, struct req *r, struct job_view *jv,
    struct hd_err *err)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	memset(jv, 0, sizeof(*jv));
	pthread_mutex_init(&j.q.mu, NULL);
	pthread_cond_init(&j.q.cv, NULL);
	j.t = t;
	j.r = r;
	j.jv = jv;
	j.sync = t->script != NULL;
	t->busy = 1;
	t->busy_login = hd_logged_in(t->s);
	if (j.sync)
		j.rc = work(&j);
	else
		watch(t, &j);
	t->busy = 0;
	jv->phase = j.phase;
	pthread_cond_destroy(&j.q.cv);
	pthread_mutex_destroy(&j.q.mu);
	*err = j.err;
	t->last_input = tui_now(t);
	return j.rc;
}
