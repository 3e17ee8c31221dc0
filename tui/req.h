/*
 * The request wizard's shared state: what certreq -new does, one step per
 * screen (profile, subject, confirm, run, save, done), and the renewal
 * path of Export CSR (key, profile, subject, confirm, run, save, done).
 * The first screen of the wizard owns the state; the later ones sit above
 * it on the stack and borrow it, so it outlives them all.
 */
#ifndef HD_REQ_H
#define HD_REQ_H

#include "tui.h"

enum req_mode {
	REQ_NEW,	/* Generate key pair: a new key, then its CSR */
	REQ_RENEW,	/* Export CSR: a CSR for a key already on the token */
};

/* A subject value typed, kept by attribute type across profiles. */
struct req_memo {
	char type[32];
	char value[256];
};

struct req {
	enum req_mode mode;
	struct hd_profile base;		/* as chosen: shipped, yours, an INF */
	struct hd_profile p;		/* with the operator's values; ready */
	char label[129];		/* NEW: the key label asked for */
	struct hd_key key;		/* NEW: as made; RENEW: as chosen */
	int key_made;			/* NEW: our key pair is on the token */
	struct hd_csr csr;		/* signed, once the run succeeded */
	char *record;			/* NEW: the ceremony record */
	double took;			/* seconds the token worked */
	int saved, der;
	char path[4096];		/* where the CSR was saved */
	char record_path[4200];		/* and the record beside it */

	/* what was typed, so that going back loses nothing */
	struct req_memo memo[HD_DN_MAX];
	size_t nmemo;
	char san_text[FIELD_TEXT];
	int san_typed;
	char label_text[129];
	char label_for[64];		/* the profile label_text was typed for */
};

struct req *req_new(enum req_mode mode);
/* Free r; a new key pair whose CSR was never saved is deleted first. */
void req_free(struct tui *t, struct req *r);
/* Delete our new key pair now; 0 if it is gone, the note says either. */
int req_discard(struct tui *t, struct req *r, const char *why);
/* Forget the key pair and the CSR of a run (it is gone, or kept). */
void req_reset_run(struct req *r);

/* req_check.c: the subject form checked into a profile */
struct req_form {
	struct form *fm;
	int nrdn;		/* fields 0..nrdn-1: base->subject[0..] */
	int f_san, f_label;	/* field numbers; f_label -1 if none */
};
struct req_verdict {
	struct hd_profile work;	/* the base with what is typed */
	char label[129];	/* the key label expanded, "" if not yet */
	char msg[700];		/* the first problem, in plain words */
	enum role role;
	int bad;		/* its field */
	char fmsg[FORM_MAX][300];	/* each field's own problem, or "" */
	enum role frole[FORM_MAX];
};
/* What to say under the form: the cursor's field's problem, or the first. */
const char *req_check_say(const struct req_verdict *v, int cur,
    enum role *r);
/* 0 if the profile can go to the CA; fields get their marks either way. */
int req_check(const struct hd_profile *base, const struct req_form *rf,
    struct req_verdict *v);

/* req_job.c: the token's part, with a spinner and Esc/^C to cancel */
struct job_view {
	int phase;		/* 0: the key pair, 1: the CSR */
	int asking;		/* "cancel?" is on screen */
	double elapsed;		/* seconds */
	unsigned frame;
};
/* Make the key pair (REQ_NEW) and the CSR while the top screen draws
 * progress from jv.  0 done; -1 failed or cancelled (HD_E_CANCELLED).
 * A key pair made before a later failure is still on the token then
 * (r->key_made): the caller deletes it. */
int req_job(struct tui *t, struct req *r, struct job_view *jv,
    struct hd_err *err);

/* Words for the confirm, result and done screens. */
void req_profile_key(const struct hd_profile *p, char *buf, size_t len);
void req_key_words(const struct hd_key *k, char *buf, size_t len);
void req_eku(const struct hd_profile *p, char *buf, size_t len);
void req_sans(const struct hd_profile *p, char *buf, size_t len);
const char *req_tri(enum hd_tri v);
/* "C=DE, ST=Berlin, ..., CN=x" of the values given so far */
void req_dn(const struct hd_profile *p, char *buf, size_t len);
/* The screens' shared "Esc: back one step". */
enum act req_back(struct tui *t, struct view *v);

#endif
