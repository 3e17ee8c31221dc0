/*
 * libFuzzer target for core/profile.c: every input is a profile.yaml.
 * hd_profile_load must return 0 or -1 without crashing or leaking; a
 * profile it accepts must keep the contract's bounds, and must read back
 * the same after hd_profile_to_yaml (the text `profile convert` prints).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsmdesk.h"

static char path[4096], again[4096];

static void
remove_files(void)
{
	if (path[0] != '\0')
		unlink(path);
	if (again[0] != '\0')
		unlink(again);
}

static void
make_file(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(buf, len, "%s/hsmdesk-fuzz-%s.XXXXXX", dir, name);
	if ((fd = mkstemp(buf)) == -1) {
		perror(buf);
		abort();
	}
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_file(path, sizeof(path), "profile");
	make_file(again, sizeof(again), "again");
	atexit(remove_files);
	return 0;
}

static void
write_file(const char *file, const void *data, size_t size)
{
	FILE *f = fopen(file, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(file);
		abort();
	}
}

/* What PROFILES.md promises of every profile that loads. */
static void
check_bounds(const struct hd_profile *p)
{
	size_t i;

	if (p->name[0] == '\0' || strspn(p->name, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != strlen(p->name) || p->label[0] == '\0' ||
	    p->nsubject > HD_DN_MAX || p->neku > HD_LIST_MAX ||
	    p->nsan > HD_LIST_MAX || p->nignored != 0 || p->broken ||
	    (p->key_usage & ~0xfeu) != 0)
		abort();
	if (strcmp(p->hash, "sha256") && strcmp(p->hash, "sha384") &&
	    strcmp(p->hash, "sha512"))
		abort();
	if (p->type == HD_KEY_RSA ? (p->bits != 2048 && p->bits != 3072 &&
	    p->bits != 4096) || p->curve[0] != '\0' :
	    p->bits != 0 || (strcmp(p->curve, "P-256") &&
	    strcmp(p->curve, "P-384")))
		abort();
	for (i = 0; i + 1 < p->nsubject; i++)
		if (strcmp(p->subject[i].type, p->subject[i + 1].type) == 0)
			abort();
}

static void
same(const struct hd_profile *a, const struct hd_profile *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || strcmp(a->description,
	    b->description) || a->type != b->type || a->bits != b->bits ||
	    strcmp(a->curve, b->curve) || strcmp(a->label, b->label) ||
	    a->exportable != b->exportable || a->nsubject != b->nsubject ||
	    strcmp(a->hash, b->hash) || a->key_usage != b->key_usage ||
	    a->neku != b->neku || a->nsan != b->nsan)
		abort();
	for (i = 0; i < a->nsubject; i++)
		if (strcmp(a->subject[i].type, b->subject[i].type) ||
		    strcmp(a->subject[i].value, b->subject[i].value))
			abort();
	for (i = 0; i < a->neku; i++)
		if (strcmp(a->eku[i], b->eku[i]))
			abort();
	for (i = 0; i < a->nsan; i++)
		if (strcmp(a->san[i], b->san[i]))
			abort();
}

static void
round_trip(const struct hd_profile *p)
{
	static struct hd_profile back;
	struct hd_err err;
	char *yaml, label[129];

	if (hd_profile_to_yaml(p, &yaml, &err) != 0)
		abort();
	write_file(again, yaml, strlen(yaml));
	if (hd_profile_load(&back, again, &err) != 0) {
		fprintf(stderr, "%s\n%s\n", err.msg, yaml);
		abort();
	}
	free(yaml);
	same(p, &back);
	/* these must only answer, never crash */
	(void)hd_profile_ready(p, &err);
	(void)hd_profile_label(p, label, sizeof(label));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hd_profile p;
	struct hd_err err;
	int rc;

	write_file(path, data, size);
	hd_err_clear(&err);
	rc = hd_profile_load(&p, path, &err);
	if (rc == 0) {
		check_bounds(&p);
		round_trip(&p);
	} else if (rc == -1) {
		/* a refused file leaves only its path and says why */
		if (p.name[0] != '\0' || p.nsubject != 0 || err.code == HD_OK ||
		    err.msg[0] == '\0' || strncmp(err.msg, path, strlen(path)))
			abort();
	} else {
		abort();
	}
	return 0;
}
