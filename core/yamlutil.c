/*
 * Shared by the YAML readers (config.c, profile.c): a capped file read and
 * a libyaml event parser that refuses anchors and aliases, so no document
 * can expand itself (the "billion laughs"), and that puts the file, line
 * and column in front of every problem.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

int
hd_read_small(const char *path, size_t max, enum hd_code code, char **buf,
    size_t *len, struct hd_err *err)
{
	FILE *f = fopen(path, "rb");
	int bad;

	*buf = NULL;
	*len = 0;
	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		return hd_err_set(err, code, 0, "%s: cannot read: %s", path,
		    strerror(errno));
	}
	if ((*buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	*len = fread(*buf, 1, max + 1, f);
	bad = ferror(f) || *len > max;
	if (bad && ferror(f))
		hd_err_set(err, code, 0, "%s: read error", path);
	else if (bad)
		hd_err_set(err, code, 0, "%s: larger than %zu KiB", path,
		    max / 1024);
	fclose(f);
	if (bad) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		return -1;
	}
	(*buf)[*len] = '\0';
	return 0;
}

void
hd_yaml_init(struct hd_yaml *y, const char *path, const char *buf, size_t len,
    enum hd_code code, const char *hint, struct hd_err *err)
{
	memset(y, 0, sizeof(*y));
	yaml_parser_initialize(&y->parser);
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf,
	    len);
	y->path = path;
	y->buf = (const unsigned char *)buf;
	y->len = len;
	y->code = code;
	y->hint = hint;
	y->err = err;
}

void
hd_yaml_done(struct hd_yaml *y)
{
	yaml_parser_delete(&y->parser);
}

int
hd_yaml_fail(struct hd_yaml *y, yaml_mark_t at, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hd_err_set(y->err, y->code, 0, "%s:%zu:%zu: %s", y->path,
	    at.line + 1, at.column + 1, what);
	if (y->hint != NULL)
		hd_err_hint(y->err, "%s", y->hint);
	return -1;
}

/* libyaml gives a byte offset for encoding problems: turn it into a mark. */
static yaml_mark_t
mark_at_offset(const struct hd_yaml *y, size_t off)
{
	yaml_mark_t m = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < off && i < y->len; i++) {
		if (y->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if ((y->buf[i] & 0xc0) != 0x80) {
			m.column++;	/* count characters, not bytes */
		}
	}
	m.index = off;
	return m;
}

static int
syntax_fail(struct hd_yaml *y)
{
	yaml_parser_t *p = &y->parser;

	if (p->error == YAML_MEMORY_ERROR)
		return hd_err_set(y->err, HD_E_NOMEM, 0, "out of memory");
	if (p->error == YAML_READER_ERROR)
		return hd_yaml_fail(y, mark_at_offset(y, p->problem_offset),
		    "%s: the file must be UTF-8 text", p->problem ?
		    p->problem : "unreadable character");
	return hd_yaml_fail(y, p->problem_mark, "%s", p->problem ?
	    p->problem : "YAML syntax error");
}

static int
has_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return 1;
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor != NULL;
	default:
		return 0;
	}
}

int
hd_yaml_next(struct hd_yaml *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev))
		return syntax_fail(y);
	if (has_anchor(ev)) {
		hd_yaml_fail(y, ev->start_mark,
		    "anchors and aliases are not allowed");
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

int
hd_yaml_begin(struct hd_yaml *y, yaml_event_t *root)
{
	yaml_event_type_t type;
	int i;

	/* stream start, document start, then the root node */
	for (i = 0; i < 3; i++) {
		if (hd_yaml_next(y, root) == -1)
			return -1;
		type = root->type;
		if (type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(root);
			return 1;	/* no document at all */
		}
		if (i < 2)
			yaml_event_delete(root);
	}
	if (type == YAML_SCALAR_EVENT && root->data.scalar.length == 0) {
		yaml_event_delete(root);	/* "---" alone */
		return hd_yaml_finish(y) == -1 ? -1 : 1;
	}
	return 0;
}

int
hd_yaml_finish(struct hd_yaml *y)
{
	yaml_event_t ev;
	yaml_event_type_t type;
	int rc = 0;

	do {
		if (hd_yaml_next(y, &ev) == -1)
			return -1;
		type = ev.type;	/* yaml_event_delete() clears it */
		if (type == YAML_DOCUMENT_START_EVENT)
			rc = hd_yaml_fail(y, ev.start_mark, "only one YAML "
			    "document is allowed");
		yaml_event_delete(&ev);
	} while (rc == 0 && type != YAML_STREAM_END_EVENT &&
	    type != YAML_NO_EVENT);
	return rc;
}
