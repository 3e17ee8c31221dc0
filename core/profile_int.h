/*
 * What the request-profile files share (profile.c, profile_find.c,
 * profile_edit.c, profile_write.c, inf.c, dn.c); internal to core.
 */
#ifndef HD_PROFILE_INT_H
#define HD_PROFILE_INT_H

#include <stddef.h>

#include "hsmdesk.h"

/* dn.c: text, attribute names and values */

/* Decode one UTF-8 character of s; its length, or 0 if malformed. */
size_t hd_utf8_decode(const unsigned char *s, unsigned long *cp);
/* Control, invisible and direction-changing characters. */
int hd_invisible(unsigned long cp);
/*
 * One line of printable UTF-8 that fits in max bytes (NUL included):
 * no control, invisible or direction-changing characters, which would
 * let a value read differently on screen than in the certificate.
 */
int hd_text_check(const char *s, size_t max, char *why, size_t whylen);
/* s itself if it is safe to show in a message, else a stand-in. */
const char *hd_shown(const char *s);
/* A dotted OID: two or more arcs, digits only, X.660's first two arcs. */
int hd_oid_check(const char *oid);
/* Fill rdn with the canonical type name and a checked value ("" ok). */
int hd_rdn_set(struct hd_rdn *rdn, const char *type, const char *value,
    struct hd_err *err);
/* Put printf-style text in front of err's message. */
void hd_err_prefix(struct hd_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* profile_edit.c: building a profile field by field */

/* Zero p and set the defaults: sha256, not exportable. */
void hd_profile_init(struct hd_profile *p);
int hd_profile_name_ok(const char *name);
/* Key usage by its RFC 5280 name (any case; contentCommitment too). */
int hd_ku_lookup(const char *name, unsigned *bit);
const char *hd_ku_name(unsigned bit);

/* A loadable profile name made from a file name ("inf:Req.inf" -> "req"). */
void hd_profile_name_from(const char *file, char *buf, size_t len);

/* inf_text.c: an INF file as UTF-8 lines */

struct hd_inf_line {
	size_t no;		/* 1-based */
	const char *start;	/* where the line began, for columns */
	char *s;		/* without comment and outer blanks */
};

/* UTF-8 (BOM or not) or UTF-16 with a BOM, to malloc'd UTF-8. */
int hd_inf_decode(const char *path, const char *raw, size_t len, char **text,
    struct hd_err *err);
int hd_inf_line(const char *path, char *text, size_t *pos,
    struct hd_inf_line *l, struct hd_err *err);
/* The 1-based column of at, counted in characters from start. */
size_t hd_inf_col(const char *start, const char *at);

#endif
