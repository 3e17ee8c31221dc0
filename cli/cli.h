/* The command-line front-end: options, verbs, PIN sources, output. */
#ifndef HD_CLI_H
#define HD_CLI_H

#include <signal.h>
#include <stdio.h>

#include "hsmdesk.h"

/* Options a verb accepts, beyond the global ones (opts.c's table). */
enum {
	OPT_JSON = 1 << 0,
	OPT_PIN = 1 << 1,
	OPT_SO_PIN = 1 << 2,
	OPT_NEW_PIN = 1 << 3,
	OPT_LABEL = 1 << 4,
	OPT_PROFILE = 1 << 5,
	OPT_SUBJECT = 1 << 6,
	OPT_SAN = 1 << 7,
	OPT_OUT = 1 << 8,
	OPT_DER = 1 << 9,
	OPT_FORCE = 1 << 10,
	OPT_KEY = 1 << 11,
	OPT_ID = 1 << 12,
	OPT_INF = 1 << 13,
	OPT_ALLOW_EXPORTABLE = 1 << 14,
	OPT_YES = 1 << 15,
	/* sign, verify */
	OPT_FD = 1 << 16,
	OPT_TYPE = 1 << 17,
	OPT_PSS = 1 << 18,
	OPT_DESC = 1 << 19,
	OPT_URL = 1 << 20,
	OPT_AS = 1 << 21,
	OPT_TR = 1 << 22,	/* --tr, --td, --tr-timeout, --tr-optional */
	OPT_CAFILE = 1 << 23,
	OPT_SIG = 1 << 30,
	/* certificates; high bits, apart from those other verbs add */
	OPT_TRUST_ROOT = 1 << 24,
	OPT_SHA1 = 1 << 25,
	OPT_SHA256 = 1 << 26,
	OPT_EXPIRING = 1 << 27,
	OPT_CHAIN = 1 << 28,
	OPT_P7B = 1 << 29,
};

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
	int json, quiet, verbose, version, help;
	int used;		/* OPT_* bits given on the command line */
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
	int opts;
	int max_args;		/* words after the command */
};

/* opts.c */
int cli_parse(struct cli *c, int argc, char **argv);
int cli_check_opts(const struct verb *v, int used);

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

/* the TUI (tui/) */
int tui_run(struct cli *c);

#endif
