/*
 * libFuzzer target for core/config.c: every input is a config.yaml.
 * hd_config_load must return 0 or -1 without crashing or leaking, and
 * keep its promises on both paths: a file it accepts is one well-formed
 * YAML document whose scalars are read whole (libyaml is the oracle).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "hsmdesk.h"

static char path[4096];

static void
remove_file(void)
{
	if (path[0] != '\0')
		unlink(path);
}

/* One temp file per process, made once and overwritten by every input. */
static int
make_file(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/hsmdesk-fuzz-config.XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1) {
		perror(path);
		return -1;
	}
	close(fd);
	atexit(remove_file);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (make_file() == -1)
		abort();
	return 0;
}

static void
write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* 1 if libyaml reads the whole stream as at most one document in which
 * no scalar holds a NUL (which a C string would cut short), else 0. */
static int
one_clean_document(const uint8_t *data, size_t size)
{
	yaml_parser_t p;
	yaml_event_t ev;
	yaml_event_type_t type;
	int docs = 0, ok = 1;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, data, size);
	do {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = 0;
			break;
		}
		type = ev.type;
		if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			ok = 0;
		if (type == YAML_SCALAR_EVENT &&
		    strlen((const char *)ev.data.scalar.value) !=
		    ev.data.scalar.length)
			ok = 0;
		yaml_event_delete(&ev);
	} while (ok && type != YAML_STREAM_END_EVENT);
	yaml_parser_delete(&p);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_config cfg;
	struct hd_err err;
	int rc;

	write_input(data, size);
	hd_err_clear(&err);
	rc = hd_config_load(&cfg, path, &err);
	if (rc == 0) {
		/* a loaded file names itself and stays within the bounds */
		if (strcmp(cfg.path, path) != 0 || cfg.idle_logout > 86400 ||
		    cfg.cert_store < HD_STORE_AUTO ||
		    cfg.cert_store > HD_STORE_LOCAL ||
		    (cfg.module != NULL && cfg.module[0] == '\0') ||
		    (cfg.token != NULL && cfg.token[0] == '\0'))
			abort();
		if (!one_clean_document(data, size))
			abort();
	} else if (rc == -1) {
		/* a refused file leaves nothing to free and says why */
		if (cfg.module != NULL || cfg.token != NULL ||
		    err.code == HD_OK || err.msg[0] == '\0')
			abort();
	} else {
		abort();
	}
	hd_config_free(&cfg);
	return 0;
}
