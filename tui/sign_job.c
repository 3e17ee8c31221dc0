/*
 * The files signed off the UI thread, as req_job.c makes key pairs:
 * hashing a large file takes seconds, so a worker hashes and has the
 * token sign while this thread draws the bars and reads the keyboard.
 * Esc or Ctrl-C asks whether to cancel; the worker holds at its next
 * progress report until the question is answered, and a yes makes the
 * progress callback return non-zero, so the core removes the partial
 * output; files not started are skipped.  The worker writes the files'
 * states under the mutex and this thread draws holding it.  hd_sign_open
 * ran on this thread first (libp11 initializes lazily, not thread-safe).
 * Screen tests run it on this thread, keys from the script.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sign.h"

struct sjob {
	struct jobask q;
	struct tui *t;		/* the worker uses t->s and nothing else */
	struct sgn *g;
	struct hd_sign *cms;
	struct sign_view *sv;
	int finished, sync, cur;
	uint64_t base;		/* bytes of the files before cur */
};

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct sjob *j = arg;
	int c;

	(void)total;
	pthread_mutex_lock(&j->q.mu);
	j->g->f[j->cur].done = done;
	j->sv->done = j->base + done;
	pthread_mutex_unlock(&j->q.mu);
	if (j->sync)
		jobask_script(j->t, &j->q, &j->sv->asking);
	pthread_mutex_lock(&j->q.mu);
	while (j->q.asking)
		pthread_cond_wait(&j->q.cv, &j->q.mu);
	c = j->q.cancel;
	pthread_mutex_unlock(&j->q.mu);
	return c;
}

/* The worker asks a TSA: the file's own stage, "timestamping", with the
 * TSA and the attempt, drawn in place of its bar. */
void
sign_job_asking(void *arg, const char *url, unsigned attempt)
{
	struct sgn *g = arg;
	struct sjob *j = g->job;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->q.mu);
	g->f[j->cur].state = SF_STAMPING;
	if (attempt > 1)
		snprintf(g->f[j->cur].stamp, sizeof(g->f[j->cur].stamp),
		    "%s, attempt %u", url, attempt);
	else
		snprintf(g->f[j->cur].stamp, sizeof(g->f[j->cur].stamp), "%s",
		    url);
	pthread_mutex_unlock(&j->q.mu);
}

/* The summary's words for a timestamp (under the mutex): its time, or
 * that there is none (only with "sign without a timestamp if no TSA
 * answers", the options' --tr-optional; else the file failed). */
static void
stamped(struct sjob *j, struct sign_file *f, const char *ts_time)
{
	if (j->g->stamps == NULL)
		f->stamp[0] = '\0';
	else if (ts_time[0] != '\0')
		snprintf(f->stamp, sizeof(f->stamp), "timestamp %s", ts_time);
	else
		snprintf(f->stamp, sizeof(f->stamp), "no timestamp");
}

static int
sign_pe(struct sjob *j, struct sign_file *f, char *out, size_t len,
    char md[16], struct hd_err *err)
{
	struct sgn *g = j->g;
	struct hd_der cert = { g->cert.der, g->cert.der_len };
	struct hd_sign_pe_opts o;
	struct hd_sign_pe_result res;

	memset(&o, 0, sizeof(o));
	o.md = sign_md(g);
	o.desc = g->desc[0] ? g->desc : NULL;
	o.url = g->url[0] ? g->url : NULL;
	o.append = g->append;
	o.progress = on_progress;
	o.arg = j;
	o.tsa = g->stamps;
	if ((f->ps1 ? hd_sign_ps1 : hd_sign_pe)(j->t->s, &g->key, &cert,
	    g->pe_chain, g->npe_chain, f->path, &o, &res, err) == -1)
		return -1;
	snprintf(out, len, "%s", res.path);
	snprintf(md, 16, "%s", res.md);
	snprintf(f->ae.tsa, sizeof(f->ae.tsa), "%s", res.tsa);
	snprintf(f->ae.ts_time, sizeof(f->ae.ts_time), "%s", res.ts_time);
	return 0;
}

static int
sign_cms(struct sjob *j, struct sign_file *f, char *out, size_t len,
    struct hd_sign_result *res, struct hd_err *err)
{
	if (j->cms == NULL)
		return hd_err_set(err, HD_E_INPUT, 0, "CMS signing is not "
		    "open");
	if (hd_sign_file(j->cms, f->path, NULL, on_progress, j, res,
	    err) == -1)
		return -1;
	snprintf(out, len, "%s", res->out);
	snprintf(f->ae.tsa, sizeof(f->ae.tsa), "%s", res->tsa);
	snprintf(f->ae.ts_time, sizeof(f->ae.ts_time), "%s", res->ts_time);
	return 0;
}

static void
one(struct sjob *j, int i)
{
	struct sign_file *f = &j->g->f[i];
	char out[sizeof(f->out)], md[16] = "", ts[32];
	struct hd_sign_result res;
	struct hd_err err;
	int rc, pe = sign_type_of(j->g, i) == SIGN_PE;

	pthread_mutex_lock(&j->q.mu);
	j->cur = i;
	j->sv->cur = i;
	f->state = j->q.cancel || j->g->audit_broken ? SF_SKIPPED :
	    SF_WORKING;
	pthread_mutex_unlock(&j->q.mu);
	if (f->state == SF_SKIPPED)
		return;
	memset(&err, 0, sizeof(err));
	rc = sign_record_start(j->g, i, &err);
	if (rc == 0)
		rc = pe ? sign_pe(j, f, out, sizeof(out), md, &err) :
		    sign_cms(j, f, out, sizeof(out), &res, &err);
	snprintf(ts, sizeof(ts), "%s", f->ae.ts_time);
	sign_record_done(j->g, i, pe ? NULL : &res, md, out, rc == 0 ? NULL :
	    err.msg);
	pthread_mutex_lock(&j->q.mu);
	f->state = rc == 0 && f->why[0] == '\0' ? SF_OK : SF_FAILED;
	if (rc == 0) {
		snprintf(f->out, sizeof(f->out), "%s", out);
		stamped(j, f, ts);
	}
	if (rc == 0)
		;	/* f->why: sign_record_done's, if any */
	else if (err.code == HD_E_CANCELLED)
		snprintf(f->why, sizeof(f->why), "cancelled; nothing written");
	else	/* the row names the file already */
		snprintf(f->why, sizeof(f->why), "%s", strncmp(err.msg,
		    f->path, strlen(f->path)) == 0 && strncmp(err.msg +
		    strlen(f->path), ": ", 2) == 0 ? err.msg +
		    strlen(f->path) + 2 : err.msg);
	j->base += rc == 0 ? f->size : f->done;	/* bytes hashed */
	j->sv->done = j->base;
	pthread_mutex_unlock(&j->q.mu);
}

static void *
worker(void *arg)
{
	struct sjob *j = arg;
	sigset_t all;
	int i;

	sigfillset(&all);	/* signals are the UI thread's to see */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (i = 0; i < j->g->n; i++)
		one(j, i);
	pthread_mutex_lock(&j->q.mu);
	j->finished = 1;
	pthread_mutex_unlock(&j->q.mu);
	return NULL;
}

/* One frame: draw (holding the mutex: the worker writes the states),
 * then a key or 100 ms. */
static void
turn(struct tui *t, struct sjob *j)
{
	int ch, sig;

	pthread_mutex_lock(&j->q.mu);
	j->sv->asking = j->q.asking;
	tui_render(t);
	pthread_mutex_unlock(&j->q.mu);
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
watch(struct tui *t, struct sjob *j)
{
	double t0 = jobask_clock(t);
	pthread_t th;
	int done, i;

	if (pthread_create(&th, NULL, worker, j) != 0) {
		for (i = 0; i < j->g->n; i++)	/* no thread: no bars */
			one(j, i);
		return;
	}
	timeout(100);
	for (;;) {
		pthread_mutex_lock(&j->q.mu);
		done = j->finished;
		pthread_mutex_unlock(&j->q.mu);
		if (done)
			break;
		j->sv->elapsed = jobask_clock(t) - t0;
		turn(t, j);
	}
	pthread_join(th, NULL);
	timeout(1000);
	j->sv->elapsed = jobask_clock(t) - t0;
}

int
sign_job(struct tui *t, struct sgn *g, struct hd_sign *cms,
    struct sign_view *sv)
{
	struct sjob j;
	int i;

	memset(&j, 0, sizeof(j));
	memset(sv, 0, sizeof(*sv));
	for (i = 0; i < g->n; i++) {
		sv->total += g->f[i].size;
		g->f[i].state = SF_WAITING;
		g->f[i].done = 0;
		g->f[i].why[0] = g->f[i].out[0] = g->f[i].stamp[0] = '\0';
	}
	pthread_mutex_init(&j.q.mu, NULL);
	pthread_cond_init(&j.q.cv, NULL);
	j.t = t;
	j.g = g;
	j.cms = cms;
	j.sv = sv;
	j.sync = t->script != NULL;
	g->job = &j;
	t->busy = 1;
	t->busy_login = hd_logged_in(t->s);
	if (j.sync)
		for (i = 0; i < g->n; i++)
			one(&j, i);
	else
		watch(t, &j);
	t->busy = 0;
	g->job = NULL;
	pthread_cond_destroy(&j.q.cv);
	pthread_mutex_destroy(&j.q.mu);
	t->last_input = tui_now(t);
	return j.q.cancel ? -1 : 0;
}
