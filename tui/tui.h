/*
 * The curses front-end.  One screen is active at a time on a small stack
 * (menu -> step -> dialog).  Each screen is a table of functions and a
 * table of key bindings; the loop dispatches keys through that table and
 * the help screen is drawn from the same tables.
 */
#ifndef HD_TUI_H
#define HD_TUI_H

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <time.h>

#include "hsmdesk.h"
#include "../cli/cli.h"

#define TUI_MIN_ROWS 24
#define TUI_MIN_COLS 80
#define TUI_DEPTH 12
#define TUI_MSGS 200
#define TUI_KEY_END (-100)	/* the script ran out */

/* What a key handler asks the loop to do next. */
enum act { ACT_NONE = 0, ACT_POP, ACT_QUIT, ACT_UNHANDLED };

/* Colour roles; screens never name a raw colour. */
enum role { RO_NORMAL, RO_TITLE, RO_SELECTED, RO_ERROR, RO_WARNING, RO_OK, RO_DIM,
	RO_STATUS, RO__COUNT };

struct tui;
struct view;

struct binding {
	int key, key2;		/* key2: an alternative (0 if none) */
	const char *name;	/* as shown in help and hints: "Enter" */
	const char *help;
	enum act (*fn)(struct tui *, struct view *);
};

struct screen {
	const char *name;
	const char *title;
	size_t state_size;	/* zeroed state allocated on push */
	const struct binding *keys;
	void (*enter)(struct tui *, struct view *, const void *arg);
	void (*draw)(struct tui *, struct view *);
	/* keys not in the table (text entry); may be NULL */
	enum act (*other)(struct tui *, struct view *, int ch);
	void (*leave)(struct tui *, struct view *);	/* wipe secrets */
	int secret;		/* holds a PIN: popped on idle timeout */
};

struct view {
	const struct screen *scr;
	void *st;
};

struct tui {
	struct cli *cli;
	struct hd_session *s;
	struct hd_token_info ti;	/* last read; ti.present 0 if none */
	char module_desc[128];
	int rows, cols;
	struct view stack[TUI_DEPTH];
	int depth;
	int quit, exit_status;
	char note[320];			/* one-line message under the title */
	enum role note_role;
	time_t last_input, last_refresh;
	int ascii;			/* ASCII borders instead of UTF-8 */
	int color;

	/* captured stderr of libp11 and the module (msglog.c) */
	char *msgs[TUI_MSGS];
	int nmsgs, unseen;
	int errfd, saved_stderr;
	long errpos;

	/* script input, for screen tests (input.c) */
	const char *script;
	char *dump;
	size_t dumplen, dumpcap;
	time_t fake_now;

	/* a worker thread has the session (req_job.c): draw from here */
	int busy, busy_login;

	int keys_gen;			/* bumped when a key is deleted */
	/* the last thumbprint copied with OSC 52 (script mode: not sent) */
	char clip[41], clip64[64];	/* and its base64, as sent */
	int clips;
	/* said on stderr after the terminal is restored ("" if nothing) */
	char exit_note[512];
};

/* main.c */
void tui_push(struct tui *t, const struct screen *scr, const void *arg);
void tui_pop(struct tui *t);
void tui_note(struct tui *t, enum role r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui_note_err(struct tui *t, const struct hd_err *err);
void tui_refresh_token(struct tui *t);
time_t tui_now(const struct tui *t);
void tui_render(struct tui *t);
void tui_pop_to_menu(struct tui *t);
int tui_signal(void);
void tui_signal_clear(void);
int tui_run_script(struct cli *c, const char *keys, int rows, int cols,
    char **out);

/* input.c */
int tui_getkey(struct tui *t);
int tui_script_take(struct tui *t, int key);
void tui_dump(struct tui *t);

/* theme.c */
void theme_init(struct tui *t);
void role_on(struct tui *t, enum role r);
void role_off(struct tui *t, enum role r);

/* draw.c */
void draw_frame(struct tui *t, const char *title);
void draw_status(struct tui *t);
void draw_too_small(struct tui *t);
void draw_text(struct tui *t, int y, int x, int w, enum role r,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void draw_hline(struct tui *t, int y, int x, int w);
void draw_box(struct tui *t, int y, int x, int h, int w, const char *title);
int draw_wrap(struct tui *t, int y, int x, int w, int maxrows, enum role r,
    const char *text);
void draw_hints(struct tui *t, const struct binding *b);
const char *tui_keyname(int key, char *buf, size_t len);
const char *tui_tilde(const char *path, char *buf, size_t len);

/* w_form.c: labelled text and PIN fields */
#define FORM_MAX 20
#define FIELD_TEXT 512
enum field_kind { F_TEXT, F_PIN };
struct field {
	const char *label;
	enum field_kind kind;
	char text[FIELD_TEXT];
	size_t max;		/* bytes of text allowed (32 unless set) */
	int utf8;		/* bytes >= 0x80 accepted: UTF-8 text */
	const char *mark;	/* a word after the value ("required"), or NULL */
	enum role mark_role;
	struct hd_pin *pin;
};
struct form {
	struct field f[FORM_MAX];
	int n, cur, top;
};
/* How a form is laid out: rows shown, label, value and mark widths. */
struct form_look {
	int rows, labw, valw, markw;
};
int form_add(struct form *fm, const char *label, enum field_kind kind);
int form_add_text(struct form *fm, const char *label, const char *text,
    size_t max);
void form_free(struct form *fm);
void form_clear_pins(struct form *fm);
void form_draw(struct tui *t, struct form *fm, int y, int x);
void form_draw_in(struct tui *t, struct form *fm, int y, int x,
    const struct form_look *lk);
/* 1: Enter on the last field (submit); 0: consumed; -1: not ours */
int form_key(struct form *fm, int ch);

/* w_path.c: a path prompt with Tab completion */
#define PATH_CANDS 6
struct path_in {
	char text[4096];
	char cand[PATH_CANDS][128];
	int ncand, more;
	const char *said;	/* after a Tab: "no match", ... or NULL */
};
void path_set(struct path_in *p, const char *text);
/* 0: consumed; -1: not ours */
int path_key(struct path_in *p, int ch);
void path_draw(struct tui *t, const struct path_in *p, int y, int x, int w);
/* The path to open: a leading "~/" is the home directory. */
int path_expand(const struct path_in *p, char *out, size_t len);

/* scr_ask.c: a yes/no question over the screen below; No is the default */
void ask_box(struct tui *t, const char *question, const char *yes,
    enum role r);
struct ask_arg {
	const char *question;
	const char *yes;	/* what y does: "Overwrite", "Delete it" */
	enum role role;		/* RO_WARNING, or RO_ERROR for a loss */
	void (*answer)(struct tui *, void *ctx, int yes);
	void *ctx;
};

/* w_list.c: a scrolling selection */
struct list {
	int n, cur, top;
};
void list_fix(struct list *l, int rows);
int list_key(struct list *l, int ch, int rows);

/* msglog.c */
void msglog_start(struct tui *t);
void msglog_poll(struct tui *t);
void msglog_stop(struct tui *t);
void msglog_add(struct tui *t, const char *line);

/* jobask.c: the cancel question of the worker threads (req_job.c,
 * sign_job.c) */
#include <pthread.h>
struct jobask {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int asking, cancel;	/* the question is open; the answer was yes */
};
double jobask_clock(const struct tui *t);
void jobask_key(struct jobask *q, int ch);
void jobask_script(struct tui *t, struct jobask *q, int *shown);

/* cert_words.c: certificates in words, for the import and find screens */
#define CERT_NEAR_DAYS 30	/* fewer days left than this: a warning */
enum role cert_role(const struct hd_cert *c);
void cert_days(const struct hd_cert *c, char *buf, size_t len);
void cert_validity(const struct hd_cert *c, char *buf, size_t len);
void cert_key_words(const struct hd_key *k, char *buf, size_t len);
/* "ABCD EF01 ..." in two halves of a SHA-256 (or one of a SHA-1) */
void cert_groups(const char *hex, char *a, char *b, size_t len);
int cert_row(struct tui *t, int y, const char *name, enum role r,
    const char *value);
/* Send the thumbprint to the terminal's clipboard (OSC 52); recorded in
 * t->clip, not sent, in script mode. */
void cert_copy(struct tui *t, const char *sha1);

/* The screens (scr_*.c) and their table (screens.c). */
extern const struct screen scr_caps;
extern const struct screen scr_menu, scr_login, scr_token, scr_inittok,
    scr_change_pin, scr_reset_pin, scr_help, scr_msgs, scr_ask,
    scr_delkey;
/* the request wizard (req.h) */
extern const struct screen scr_req_profile, scr_req_inf, scr_req_key,
    scr_req_subject, scr_req_confirm, scr_req_run, scr_req_save,
    scr_req_done;
/* certificates: import (accept) and find by thumbprint */
extern const struct screen scr_cert_import, scr_cert_checks, scr_cert_done,
    scr_certs, scr_cert_copy;
/* the signing audit log (scr_audit.c) */
extern const struct screen scr_audit;
/* migration to a new token (scr_migrate*.c) */
extern const struct screen scr_migrate, scr_migrate_view;
extern const struct screen *const tui_screens[];
extern const struct binding tui_global_keys[];

#endif
