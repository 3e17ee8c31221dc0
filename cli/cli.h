/* The command-line front-end: options, verbs, PIN sources, output. */
#ifndef HD_CLI_H
#define HD_CLI_H

#include <stdio.h>

#include "hsmdesk.h"

/* Options a verb accepts, beyond the global ones. */
enum {
	OPT_JSON = 1 << 0,
	OPT_PIN = 1 << 1,
	OPT_SO_PIN = 1 << 2,
	OPT_NEW_PIN = 1 << 3,
	OPT_LABEL = 1 << 4,
};

struct cli {
	const char *module;	/* resolved module path */
	int embedded;		/* the default SoftHSM2 store */
	const char *token;
	const char *pin_src, *so_pin_src, *new_pin_src;
	const char *label;
	int json, quiet, verbose;
	int used;		/* OPT_* bits given on the command line */
	int stdin_taken;	/* "-" may be used by one PIN option only */
	const char *badopt;	/* the argument getopt stopped at */
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
};

/* main.c */
int cli_fail(const struct hd_err *err);
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int cli_open(struct cli *c, int uninit, struct hd_err *err);

/* pinsrc.c */
int pin_source_check(char *src, const char *opt);
int pin_get(struct cli *c, const char *src, const char *opt,
    const char *prompt, int confirm, struct hd_pin *pin, struct hd_err *err);

/* json.c */
void json_str(FILE *f, const char *s);
void json_kv_str(FILE *f, const char *k, const char *v, int comma);
void json_kv_bool(FILE *f, const char *k, int v, int comma);
void json_kv_tri(FILE *f, const char *k, enum hd_tri v, int comma);
void json_kv_num(FILE *f, const char *k, unsigned long v, int comma);

/* cmd_token.c, cmd_pin.c */
int cmd_tokens(struct cli *c);
int cmd_keys(struct cli *c);
int cmd_init_token(struct cli *c);
int cmd_change_pin(struct cli *c);
int cmd_reset_pin(struct cli *c);

/* the TUI (tui/) */
int tui_run(struct cli *c);

#endif
