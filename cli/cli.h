/* The command-line front-end: options, verbs, PIN sources, output. */
#ifndef HD_CLI_H
#define HD_CLI_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>

#include "hsmdesk.h"

/* Options a verb accepts, beyond the global ones (opts.c's table): bits
 * of a 64-bit set, as 32 were not enough. */
typedef uint64_t optset;

#define OPT_JSON	((optset)1 << 0)
#define OPT_PIN	((optset)1 << 1)
#define OPT_SO_PIN	((optset)1 << 2)
#define OPT_NEW_PIN	((optset)1 << 3)
#define OPT_LABEL	((optset)1 << 4)
#define OPT_PROFILE	((optset)1 << 5)
#define OPT_SUBJECT	((optset)1 << 6)
#define OPT_SAN	((optset)1 << 7)
#define OPT_OUT	((optset)1 << 8)
#define OPT_DER	((optset)1 << 9)
#define OPT_FORCE	((optset)1 << 10)
#define OPT_KEY	((optset)1 << 11)
#define OPT_ID	((optset)1 << 12)
#define OPT_INF	((optset)1 << 13)
#define OPT_ALLOW_EXPORTABLE	((optset)1 << 14)
#define OPT_YES	((optset)1 << 15)
/* sign, verify */
#define OPT_FD	((optset)1 << 16)
#define OPT_TYPE	((optset)1 << 17)
#define OPT_PSS	((optset)1 << 18)
#define OPT_DESC	((optset)1 << 19)
#define OPT_URL	((optset)1 << 20)
#define OPT_AS	((optset)1 << 21)
#define OPT_TR	((optset)1 << 22)	/* --tr, --td, --tr-timeout, --tr-optional */
#define OPT_CAFILE	((optset)1 << 23)
#define OPT_SIG	((optset)1 << 30)
/* certificates */
#define OPT_TRUST_ROOT	((optset)1 << 24)
#define OPT_SHA1	((optset)1 << 25)
#define OPT_SHA256	((optset)1 << 26)
#define OPT_EXPIRING	((optset)1 << 27)
#define OPT_CHAIN	((optset)1 << 28)
#define OPT_P7B	((optset)1 << 29)
/* every audit option shares one bit (--log, --no-audit, --since, --file);
 * each verb refuses the ones it has no use for */
#define OPT_AUDIT	((optset)1 << 31)
/* request --attest */
#define OPT_ATTEST	((optset)1 << 32)

#define CLI_MAX_SAN 16

struct cli {
	const char *module;	/* resolved module path */
	int embedded;		/* the default SoftHSM2 store */
	const char *token;
	const char *pin_src, *so_pin_src, *new_pin_src;
	const char *label;
	const char *module_opt;
	const char *profile, *subject, *out, *key, *id, *inf;
	const char *san[CLI_MAX_SAN];
	int nsan;
	int der, force, allow_exportable, yes;
	const char *trust_root, *sha1, *sha256, *expiring;
	int chain, p7b;
	const char *fd, *type, *desc, *url, *td, *cafile, *sig;
	const char *tr[HD_TSA_URLS];	/* --tr, in order */
	int ntr;
	const char *tr_timeout, *tsa_cafile;
	int tr_optional;
	int pss, append;
	const char *log, *since, *file;	/* audit log, audit show filters */
	int no_audit;
	/* migrate (cmd_migrate.c); sign's second --sha1 and --pin */
	const char *from_module, *from_token, *from_pin_src;
	const char *to_module, *to_token, *to_pin_src;
	const char *sha1b, *pin2_src;
	int attest;		/* request --attest */
	int json, quiet, verbose, version, help;
	optset used;		/* OPT_* bits given on the command line */
	int stdin_taken;	/* "-" may be used by one PIN option only */
	char **args;
	int nargs;
	struct hd_config cfg;
	struct hd_session *s;
};

struct verb {
	const char *name;
	const char *usage;
	int (*run)(struct cli *);
	optset opts;
	int max_args;		/* words after the command */
};

/* opts.c */
int cli_parse(struct cli *c, int argc, char **argv);
int cli_check_opts(const struct verb *v, optset used);

/* main.c */
int cli_fail(const struct hd_err *err);
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int cli_open(struct cli *c, int uninit, struct hd_err *err);
/* sign_tsa.c: sign's timestamp options */
int cli_tsa_open(struct cli *c, struct hd_tsa **t);
void cli_tsa_note(const struct hd_tsa *t, unsigned *warned, const char *in,
    const char *tsa, const char *when, char *out, size_t len);
int cli_login(struct cli *c, struct hd_pin *pin, struct hd_err *err);

/* pinsrc.c */
int pin_source_check(char *src, const char *opt);
int pin_get(struct cli *c, const char *src, const char *opt,
    const char *prompt, int confirm, struct hd_pin *pin, struct hd_err *err);

/* progress.c: the progress bar, and the signal that stops a batch */
struct progress {
	const char *name;
	int show, drawn;
	uint64_t start, last;	/* nanoseconds, monotonic */
};

extern volatile sig_atomic_t cli_interrupted;
void cli_catch_signals(int on);
void progress_start(struct progress *p, const struct cli *c,
    const char *name);
int progress_cb(void *arg, uint64_t done, uint64_t total);
int progress_files_cb(void *arg, uint64_t done, uint64_t total);
void progress_end(struct progress *p);

/* json.c */
void json_str(FILE *f, const char *s);
void json_kv_str(FILE *f, const char *k, const char *v, int comma);
void json_kv_bool(FILE *f, const char *k, int v, int comma);
void json_kv_tri(FILE *f, const char *k, enum hd_tri v, int comma);
void json_kv_num(FILE *f, const char *k, unsigned long v, int comma);
void json_kv_int(FILE *f, const char *k, long v, int comma);

/* cmd_token.c, cmd_pin.c */
int cmd_tokens(struct cli *c);
int cmd_keys(struct cli *c);
int cmd_init_token(struct cli *c);
int cmd_change_pin(struct cli *c);
int cmd_reset_pin(struct cli *c);
int cmd_delete_key(struct cli *c);
int cmd_profile(struct cli *c);
int cmd_request(struct cli *c);

/* cmd_cert.c */
int cmd_accept(struct cli *c);
int cmd_certs(struct cli *c);
int cmd_export_cert(struct cli *c);

/* cmd_sign.c, cmd_verify.c */
int cmd_sign(struct cli *c);
int cmd_verify(struct cli *c);

/* cmd_audit.c, sign_audit.c: the signing audit log */
int cmd_audit(struct cli *c);
const char *audit_log_path(const struct cli *c);
int sign_audit_open(struct cli *c, struct hd_audit **a);
int sign_audit_start(struct hd_audit *a, struct hd_audit_entry *e,
    const char *type, const char *in, int hash, struct hd_err *err);
void sign_audit_md(struct hd_audit_entry *e, const char *md);
void sign_audit_result(struct hd_audit_entry *e, const char *why);
int sign_audit_flush(struct hd_audit *a, int checkpoint, struct hd_err *err);
/* sign_key.c: the signer's certificate, key and chain (sign, sign_dual) */
int sign_key_find(struct hd_session *s, const char *sha1, struct hd_cert *cert,
    struct hd_key *key, struct hd_der **chain, size_t *nchain,
    struct hd_err *err);
int sign_chain_cat(const struct hd_der *chain, size_t n, unsigned char **buf,
    size_t *len, struct hd_err *err);
/* cmd_migrate.c, sign_dual.c */
int cmd_migrate(struct cli *c);
/* migrate's options and a second --sha1/--pin only where they belong;
 * v NULL: the TUI */
int cli_check_migrate(const struct cli *c, const struct verb *v);
int sign_dual(struct cli *c);
/* req_attest.c: request --attest */
struct hd_attest;
int req_attest_check(struct cli *c, struct hd_err *err);
int req_attest_get(struct cli *c, const struct hd_key *k, struct hd_attest *a,
    struct hd_err *err);
int req_attest_save(struct cli *c, const struct hd_attest *a, char **rec,
    struct hd_err *err);
void req_attest_undo(struct cli *c);
void req_attest_print(const struct cli *c, const struct hd_attest *a);

/* cmd_probe.c */
int cmd_probe(struct cli *c);
int cmd_modules(struct cli *c);
void cli_first_use(struct cli *c, int say);

/* the TUI (tui/) */
int tui_run(struct cli *c);

#endif
