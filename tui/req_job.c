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
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tui *t;		/* the worker uses t->s and nothing else */
	struct req *r;
	struct job_view *jv;
	int asking, cancel, finished, phase, sync;
	int rc;
	struct hd_err err;
};

static double
mono(const struct tui *t)
{
	struct timespec ts;

	if (t->script != NULL)
		return 0;	/* screen tests: a clock that stands still */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A key while the token works: Esc or ^C asks; then only y (or a second
 * ^C) cancels, and anything else goes on. */
static void
on_key(struct job *j, int ch)
{
	pthread_mutex_lock(&j->mu);
	if (!j->asking) {
		j->asking = ch == 27 || ch == 3;
	} else if (ch == 'y' || ch == 'Y' || ch == 3) {
		j->cancel = 1;
		j->asking = 0;
	} else if (ch == 'n' || ch == 'N' || ch == 27 || ch == '\n') {
		j->asking = 0;
	}
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Screen tests: an <ESC> or <^C> next in the script was pressed while
 * the token worked; the answer follows it. */
static void
script_ask(struct job *j)
{
	int ch;

	if (j->cancel || !(tui_script_take(j->t, 27) ||
	    tui_script_take(j->t, 3)))
		return;
	on_key(j, 27);
	while (j->asking) {
		j->jv->asking = 1;
		tui_render(j->t);
		if ((ch = tui_getkey(j->t)) == TUI_KEY_END)
			ch = 'n';
		on_key(j, ch);
	}
	j->jv->asking = 0;
}

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
		script_ask(j);
	pthread_mutex_lock(&j->mu);
	while (j->asking)
		pthread_cond_wait(&j->cv, &j->mu);
	c = j->cancel;
	pthread_mutex_unlock(&j->mu);
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
	pthread_mutex_lock(&j->mu);
	j->phase = 1;
	pthread_mutex_unlock(&j->mu);
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
	pthread_mutex_lock(&j->mu);
	j->finished = 1;
	pthread_mutex_unlock(&j->mu);
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
		pthread_mutex_lock(&j->mu);
		j->cancel = 1;
		j->asking = 0;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		return;
	}
	if (ch != ERR)
		on_key(j, ch);
}

static void
watch(struct tui *t, struct job *j)
{
	double t0 = mono(t);
	pthread_t th;
	int done;

	if (pthread_create(&th, NULL, worker, j) != 0) {
		j->rc = work(j);	/* no thread: no spinner, no cancel */
		return;
	}
	timeout(100);
	for (;;) {
		pthread_mutex_lock(&j->mu);
		done = j->finished;
		j->jv->asking = j->asking;
		j->jv->phase = j->phase;
		pthread_mutex_unlock(&j->mu);
		if (done)
			break;
		j->jv->elapsed = mono(t) - t0;
		j->jv->frame++;
		turn(t, j);
	}
	pthread_join(th, NULL);
	timeout(1000);
	j->jv->elapsed = mono(t) - t0;
}

int
req_job(struct tui *t, struct req *r, struct job_view *jv,
    struct hd_err *err)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	memset(jv, 0, sizeof(*jv));
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
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
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	*err = j.err;
	t->last_input = tui_now(t);
	return j.rc;
}
