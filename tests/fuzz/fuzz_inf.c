/*
 * libFuzzer target for core/inf.c, inf_keys.c and inf_text.c: every input
 * is a certreq request.inf, in whatever encoding.  hd_inf_load must return
 * 0 or -1 without crashing or leaking, whether exportable keys are allowed
 * or not; both answers must agree; a profile it accepts must keep the
 * contract's bounds and read back the same after hd_profile_to_yaml (what
 * `hsmdesk profile convert` prints).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsmdesk.h"

static char path[4096], yaml_path[4096];

static void
remove_files(void)
{
	if (path[0] != '\0')
		unlink(path);
	if (yaml_path[0] != '\0')
		unlink(yaml_path);
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
	make_file(path, sizeof(path), "inf");
	make_file(yaml_path, sizeof(yaml_path), "inf-yaml");
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

static int
one_of(const char *s, const char *a, const char *b, const char *c)
{
	return !strcmp(s, a) || !strcmp(s, b) || (c != NULL && !strcmp(s, c));
}

/* What PROFILES.md promises of every INF file that loads. */
static void
check_bounds(const struct hd_profile *p)
{
	size_t i;

	if (strncmp(p->name, "inf:", 4) != 0 || p->label[0] == '\0' ||
	    strcmp(p->path, path) != 0 || p->nsubject > HD_DN_MAX ||
	    p->neku > HD_LIST_MAX || p->nsan > HD_LIST_MAX ||
	    p->nignored > HD_LIST_MAX || p->broken ||
	    (p->key_usage & ~0xfeu) != 0)
		abort();
	if (!one_of(p->hash, "sha256", "sha384", "sha512"))
		abort();
	if (p->type == HD_KEY_RSA ? (p->bits != 2048 && p->bits != 3072 &&
	    p->bits != 4096) || p->curve[0] != '\0' :
	    p->bits != 0 || !one_of(p->curve, "P-256", "P-384", NULL))
		abort();
	for (i = 0; i < p->nsubject; i++)
		if (p->subject[i].type[0] == '\0')
			abort();
	for (i = 0; i + 1 < p->nsubject; i++)
		if (strcmp(p->subject[i].type, p->subject[i + 1].type) == 0)
			abort();
}

static void
same_request(const struct hd_profile *a, const struct hd_profile *b)
{
	size_t i;

	if (a->type != b->type || a->bits != b->bits ||
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

/* profile convert: the YAML must load as the same request. */
static void
round_trip(const struct hd_profile *p)
{
	static struct hd_profile back;
	struct hd_err err;
	char *yaml;

	if (hd_profile_to_yaml(p, &yaml, &err) != 0)
		abort();
	write_file(yaml_path, yaml, strlen(yaml));
	if (hd_profile_load(&back, yaml_path, &err) != 0) {
		fprintf(stderr, "%s\n%s\n", err.msg, yaml);
		abort();
	}
	free(yaml);
	same_request(p, &back);
	if (strcmp(p->description, back.description) != 0)
		abort();
}

static void
check_refused(const struct hd_profile *p, const struct hd_err *err)
{
	/* a refused file leaves only its path and says where and why */
	if (p->name[0] != '\0' || p->nsubject != 0 || p->nsan != 0 ||
	    p->neku != 0 || p->nignored != 0 || p->cert_template[0] != '\0' ||
	    strcmp(p->path, path) != 0 || err->code == HD_OK ||
	    err->msg[0] == '\0' || strncmp(err->msg, path, strlen(path)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hd_profile strict, lax;
	struct hd_err e1, e2;
	int rs, rl;

	write_file(path, data, size);
	hd_err_clear(&e1);
	hd_err_clear(&e2);
	rs = hd_inf_load(&strict, path, 0, &e1);
	rl = hd_inf_load(&lax, path, 1, &e2);
	if ((rs != 0 && rs != -1) || (rl != 0 && rl != -1))
		abort();
	if (rs == -1)
		check_refused(&strict, &e1);
	if (rl == -1)
		check_refused(&lax, &e2);
	/* --allow-exportable only ever lets more through, and only an
	 * exportable key: everything else reads the same either way */
	if (rs == 0 && (rl != 0 || strict.exportable))
		abort();
	if (rl == 0 && !lax.exportable && rs != 0)
		abort();
	if (rs == 0)
		same_request(&strict, &lax);
	if (rl == 0) {
		check_bounds(&lax);
		round_trip(&lax);
	}
	return 0;
}
