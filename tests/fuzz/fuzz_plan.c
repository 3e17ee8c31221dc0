/*
 * libFuzzer target for core/migrate_yaml.c and migrate_check.c: every
 * input is a migration plan.  hd_mig_load must return 0 or -1 without
 * crashing or leaking; a plan it accepts must save (atomically, to a
 * second file) and load back the same, field for field: what run
 * rewrites after each step is what it will read at the next.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsmdesk.h"

static char path[4096], again[4200];

static void
remove_files(void)
{
	if (path[0] != '\0')
		unlink(path);
	if (again[0] != '\0')
		unlink(again);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	(void)argc;
	(void)argv;
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/hsmdesk-fuzz-plan.XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1) {
		perror(path);
		abort();
	}
	close(fd);
	snprintf(again, sizeof(again), "%s.again", path);
	atexit(remove_files);
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

static void
round_trip(struct hd_mig_plan *p)
{
	struct hd_mig_plan q;
	struct hd_err err;
	size_t i;

	snprintf(p->path, sizeof(p->path), "%s", again);
	if (hd_mig_save(p, &err) != 0 || hd_mig_load(again, &q, &err) != 0)
		abort();
	if (q.n != p->n || memcmp(&q.from, &p->from, sizeof(q.from)) ||
	    memcmp(&q.to, &p->to, sizeof(q.to)) ||
	    strcmp(q.created, p->created))
		abort();
	for (i = 0; i < q.n; i++)
		if (memcmp(&q.ids[i], &p->ids[i], sizeof(q.ids[i])) != 0)
			abort();
	hd_mig_free(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_mig_plan p;
	struct hd_err err;
	int rc;

	write_input(data, size);
	hd_err_clear(&err);
	rc = hd_mig_load(path, &p, &err);
	if (rc == 0) {
		round_trip(&p);
		hd_mig_free(&p);
	} else if (rc != -1 || p.ids != NULL || err.code != HD_E_INPUT ||
	    err.msg[0] == '\0') {
		abort();
	}
	return 0;
}
