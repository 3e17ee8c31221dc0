/*
 * Shared by the two halves of the INF reader: inf.c (lines, sections,
 * the whole file) and inf_keys.c (what each key means); internal.
 */
#ifndef HD_INF_INT_H
#define HD_INF_INT_H

#include <stddef.h>

#include "profile_int.h"

#define INF_HINT "hsmdesk reads the part of certreq's INF format described " \
	"in 'man hsmdesk'; fix or remove the line"

enum { S_NONE, S_VERSION, S_NEWREQ, S_EXT, S_EKU, S_ATTR, S__COUNT };
enum kind { K_HANDLE, K_IGNORE, K_IGNORE_FALSE, K_REFUSE };

struct inf_kv {
	const char *key;
	char *val;		/* unquoted */
	size_t line, kcol, vcol;
};

struct inf;

struct inf_key {
	const char *name;
	enum kind kind;
	int (*fn)(struct inf *f, struct inf_kv *kv);
	const char *why;	/* why TRUE, or the key, is refused */
	int repeat;
};

struct inf_section {
	const char *name;
	const struct inf_key *keys;
	size_t nkeys;
	const char *others;	/* what to say about a key not in keys */
};

struct inf {
	const char *path;
	struct hd_profile *p;
	struct hd_err *err;
	int allow_exportable;
	int sect;
	size_t seen[S__COUNT][40];	/* line of each key's first use */
	size_t sect_line[S__COUNT];	/* line of each section header */
	int have_signature;
	int cont;			/* what _continue_ adds to: S_* */
	int ec;				/* KeyAlgorithm: 0 RSA, 256, 384 */
	unsigned long length;
	size_t len_line, len_col;
	char alg[16];
};

extern const struct inf_section hd_inf_sections[S__COUNT];

int inf_fail(struct inf *f, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A setter refused kv's value: put the place in front of its message. */
int inf_fail_kv(struct inf *f, const struct inf_kv *kv);
int inf_bool(struct inf *f, const struct inf_kv *kv, int *b);

#endif
