/*
 * The Sign files wizard's shared state: the certificate (with a private
 * key on the token), the files, the options, then the run and its
 * results.  The first screen (scr_sign_cert) owns it; the later ones sit
 * above it on the stack and borrow it.
 */
#ifndef HD_SIGN_H
#define HD_SIGN_H

#include <stdint.h>

#include "tui.h"

#define SIGN_FILES 64

enum sign_type { SIGN_AUTO, SIGN_CMS, SIGN_PE, SIGN__TYPES };

/* How one file went. */
enum sign_state { SF_WAITING, SF_WORKING, SF_STAMPING, SF_OK, SF_FAILED,
	SF_SKIPPED };

struct sign_file {
	char path[1024];
	int pe;				/* a PE image (MZ ... PE\0\0) */
	int ps1;		/* a PowerShell script: Authenticode too */
	uint64_t size, done;		/* bytes: the file's, hashed so far */
	enum sign_state state;
	char out[1100];			/* the signature: f.p7s, or f itself */
	char why[400];			/* the failure in words */
	struct hd_audit_entry ae;	/* its audit record (sign_record.c) */
	int logged;			/* ae is in the log already */
	char stamp[600];		/* SF_STAMPING: which TSA, which try;
					 * SF_OK: the timestamp's time */
};

struct sgn {
	struct hd_cert cert;		/* chosen; its der is ours */
	struct hd_key key;		/* the token key it certifies */
	unsigned char *chain;		/* PEM: the issuers, "" if none */
	size_t chain_len;
	struct hd_der pe_chain[8];	/* the same, DER, for hd_sign_pe */
	size_t npe_chain;
	struct sign_file f[SIGN_FILES];
	int n;
	int md;				/* 0 sha256, 1 sha384, 2 sha512 */
	enum sign_type type;
	char desc[256], url[256];	/* Authenticode /d, /du */
	int append;			/* Authenticode /as */
	struct hd_audit *audit;		/* open while the run lasts */
	int audit_broken;		/* a record could not be written */
	char tsa[1024];			/* /tr: TSA URLs, blank-separated;
					 * "" signs without a timestamp */
	int tsa_set;			/* tsa filled from config.yaml once */
	int tsa_optional;		/* no TSA answers: sign without a
					 * timestamp (--tr-optional) */
	struct hd_tsa *stamps;		/* the run's TSAs (scr_sign_run) */
	void *job;			/* the running sign_job, for them */
};

/* sign.c */
void sign_free(struct sgn *g);
const char *sign_md(const struct sgn *g);
/* The type used for file i: CMS or PE (auto resolved). */
enum sign_type sign_type_of(const struct sgn *g, int i);
const char *sign_type_words(enum sign_type t);
/* Add path (a regular file) once; -1 with a reason in why. */
int sign_add(struct sgn *g, const char *path, char *why, size_t len);
int sign_find(const struct sgn *g, const char *path);
void sign_remove(struct sgn *g, int i);
/* The issuers of g->cert, from the local store, as PEM. */
int sign_load_chain(struct tui *t, struct sgn *g, struct hd_err *err);
/* The run's TSAs from g->tsa (NULL without any); -1 with err. */
int sign_tsa_open(struct sgn *g, struct hd_err *err);
/* "12.3 MiB" */
void sign_bytes(uint64_t n, char *buf, size_t len);

/* sign_job.c: the files signed off the UI thread */
struct sign_view {
	int cur;			/* the file being signed */
	int asking;			/* "cancel?" is on screen */
	double elapsed;			/* seconds */
	uint64_t done, total;		/* bytes, all files */
};
/* Sign every file (hd_sign_open done by the caller on this thread for
 * CMS: cms may be NULL when only PE files are signed).  0 ran (see each
 * file's state); -1 cancelled. */
int sign_job(struct tui *t, struct sgn *g, struct hd_sign *cms,
    struct sign_view *sv);
/* hd_tsa_opts.asking for g->stamps: the file being signed is at its
 * timestamping stage. */
void sign_job_asking(void *arg, const char *url, unsigned attempt);

/* sign_record.c: the run's audit records (docs/AUDIT.md) */
int sign_record_open(struct tui *t, struct sgn *g, struct hd_err *err);
int sign_record_start(struct sgn *g, int i, struct hd_err *err);
void sign_record_done(struct sgn *g, int i,
    const struct hd_sign_result *cms, const char *pe_md, const char *out,
    const char *why);
void sign_record_finish(struct sgn *g, char *note, size_t len, int *bad);

extern const struct screen scr_sign_cert, scr_sign_files, scr_sign_opts,
    scr_sign_confirm, scr_sign_run, scr_sign_verify;

#endif
