/*
 * What the YAML readers in core (config.c, profile.c) share: a size-capped
 * file read, and an event parser that refuses anchors and aliases and
 * reports every problem as "FILE:LINE:COL: what".  Internal to core.
 */
#ifndef HD_YAMLUTIL_H
#define HD_YAMLUTIL_H

#include <stddef.h>

#include <yaml.h>

#include "hsmdesk.h"

/* Config files, profiles and INF files are small by design. */
#define HD_TEXT_MAX (64 * 1024)

struct hd_yaml {
	yaml_parser_t parser;
	const char *path;
	const unsigned char *buf;	/* the input: where reader errors are */
	size_t len;
	enum hd_code code;		/* HD_E_CONFIG or HD_E_INPUT */
	const char *hint;		/* set with every refusal */
	struct hd_err *err;
};

/*
 * Read all of path into a malloc'd, NUL-terminated buffer of at most max
 * bytes.  Returns 1 without touching err when the file does not exist,
 * so the caller decides whether that is an error.
 */
int hd_read_small(const char *path, size_t max, enum hd_code code, char **buf,
    size_t *len, struct hd_err *err);

void hd_yaml_init(struct hd_yaml *y, const char *path, const char *buf,
    size_t len, enum hd_code code, const char *hint, struct hd_err *err);
void hd_yaml_done(struct hd_yaml *y);

/* Fill err with "PATH:LINE:COL: <fmt>" at mark; always returns -1. */
int hd_yaml_fail(struct hd_yaml *y, yaml_mark_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The next event; anchors and aliases are refused, as is bad syntax. */
int hd_yaml_next(struct hd_yaml *y, yaml_event_t *ev);

/*
 * Read up to the root node of the one document.  Returns 0 with *root
 * filled (the caller deletes it), 1 for an empty file or document (the
 * rest of the stream already checked), -1 on error.
 */
int hd_yaml_begin(struct hd_yaml *y, yaml_event_t *root);

/* After the root node: the end of the document, then of the stream. */
int hd_yaml_finish(struct hd_yaml *y);

#endif
