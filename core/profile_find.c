/*
 * Finding profiles by name.  The places, first match wins:
 *   1. the user's:   $XDG_CONFIG_HOME/hsmdesk/profiles/ (files *.yaml)
 *   2. the shipped:  $HSMDESK_PROFILE_DIR when set; otherwise HD_PROFILE_DIR
 *      (set by the Makefile, /usr/local/share/hsmdesk/profiles by default)
 *      and then <directory of the running program>/../share/hsmdesk/
 *      profiles (installed under another PREFIX) and .../../profiles, so that
 *      build/hsmdesk finds the source tree's profiles/.
 * A profile is found by the `name` inside it, not by its file name.  Two
 * files in one directory with the same name are an error, never a silent
 * choice; a user profile of the same name as a shipped one replaces it.
 * A file that does not load is skipped, except when its file name is the
 * name asked for: then its error is the answer, so that a broken user
 * override can never quietly fall back to the shipped profile.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "profile_int.h"

#ifndef HD_PROFILE_DIR
#define HD_PROFILE_DIR "/usr/local/share/hsmdesk/profiles"
#endif

#define NDIRS 3

struct dirs {
	char dir[NDIRS][4096];
	size_t n;
};

static void
add_dir(struct dirs *d, const char *dir)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->dir[i], dir) == 0)
			return;
	if (d->n < NDIRS && strlen(dir) < sizeof(d->dir[0]))
		snprintf(d->dir[d->n++], sizeof(d->dir[0]), "%s", dir);
}

/* Beside the running program: <bin>/../share/hsmdesk/profiles (installed
 * under any PREFIX) and <build>/../profiles (the source tree). */
static void
add_exe_dir(struct dirs *d)
{
	static const char *const rel[] = { "../share/hsmdesk/profiles",
		"../profiles" };
	char exe[PATH_MAX], dir[PATH_MAX + 32], real[PATH_MAX];
	size_t i;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", exe, rel[i]);
		if (realpath(dir, real) != NULL)
			add_dir(d, real);
	}
}

static void
profile_dirs(struct dirs *d)
{
	const char *env = getenv("HSMDESK_PROFILE_DIR");
	char conf[4096], *slash;
	struct hd_err err;

	memset(d, 0, sizeof(*d));
	if (hd_config_path(conf, sizeof(conf) - 16, &err) == 0 &&
	    (slash = strrchr(conf, '/')) != NULL) {
		snprintf(slash + 1, sizeof(conf) - (size_t)(slash + 1 - conf),
		    "profiles");
		add_dir(d, conf);
	}
	if (env != NULL && env[0] != '\0') {
		add_dir(d, env);
		return;
	}
	add_dir(d, HD_PROFILE_DIR);
	add_exe_dir(d);
}

static int
yaml_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 &&
	    strcmp(e->d_name + n - 5, ".yaml") == 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The *.yaml files of dir, sorted; none when dir does not exist. */
static int
dir_files(const char *dir, struct dirent ***files, struct hd_err *err)
{
	int n;

	*files = NULL;
	if (hd_perm_check(dir, HD_E_CONFIG, err) == -1)
		return -1;
	if ((n = scandir(dir, files, yaml_file, by_name)) >= 0)
		return n;
	*files = NULL;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return hd_err_set(err, errno == ENOMEM ? HD_E_NOMEM : HD_E_IO, 0,
	    "%s: %s", dir, strerror(errno));
}

static void
free_files(struct dirent **files, int n)
{
	while (n > 0)
		free(files[--n]);
	free(files);
}

/* "x.yaml" names the profile x? */
static int
stem_is(const char *file, const char *name)
{
	size_t n = strlen(name);

	return strncmp(file, name, n) == 0 && strcmp(file + n, ".yaml") == 0;
}

/* Look for name in one directory: 1 found, 0 not, -1 error. */
static int
find_in(const char *dir, const char *name, struct hd_profile *p,
    struct hd_profile *tmp, struct hd_err *err)
{
	struct dirent **files;
	char path[8192], first[8192] = "";
	int n = dir_files(dir, &files, err), i, rc = 0;

	for (i = 0; i < n && rc != -1; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]->d_name);
		if (hd_profile_load(tmp, path, err) == -1) {
			if (stem_is(files[i]->d_name, name))
				rc = -1;	/* its error is the answer */
			continue;
		}
		if (strcmp(tmp->name, name) != 0)
			continue;
		if (rc == 1) {
			rc = hd_err_set(err, HD_E_INPUT, 0, "profile '%s' is "
			    "defined twice: %s and %s", name, first, path);
			hd_err_hint(err, "rename one of them");
			continue;
		}
		memcpy(p, tmp, sizeof(*p));
		snprintf(first, sizeof(first), "%s", path);
		rc = 1;
	}
	free_files(files, n);
	return n < 0 ? -1 : rc;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
not_found(const struct dirs *d, const char *name, struct hd_err *err)
{
	char where[600] = "";
	size_t i, used = 0;

	for (i = 0; i < d->n; i++)
		used += snprintf(where + used, used < sizeof(where) ?
		    sizeof(where) - used : 0, "%s%s", i ? ", " : "",
		    d->dir[i]);
	hd_err_set(err, HD_E_INPUT, 0, "profile '%.80s': not found",
	    hd_shown(name));
	hd_err_hint(err, "looked in %s; 'hsmdesk profile list' shows the "
	    "profiles there, or give the path of a .yaml file", where);
	return -1;
}

int
hd_profile_find(struct hd_profile *p, const char *name_or_path,
    struct hd_err *err)
{
	struct hd_profile *tmp;
	struct dirs d;
	size_t i;
	int rc = 0;

	if (strchr(name_or_path, '/') != NULL ||
	    has_suffix(name_or_path, ".yaml") ||
	    has_suffix(name_or_path, ".yml"))
		return hd_profile_load(p, name_or_path, err);
	profile_dirs(&d);
	if ((tmp = malloc(sizeof(*tmp))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < d.n && rc == 0; i++)
		if (hd_profile_name_ok(name_or_path))
			rc = find_in(d.dir[i], name_or_path, p, tmp, err);
	free(tmp);
	if (rc == 0)
		return not_found(&d, name_or_path, err);
	return rc == 1 ? 0 : -1;
}

/* ---- listing ----------------------------------------------------------- */

struct plist {
	struct hd_profile *v;
	size_t n, cap;
	size_t dir_start;	/* entries before this came from earlier dirs */
};

static struct hd_profile *
grow(struct plist *l, struct hd_err *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct hd_profile *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	return &l->v[l->n];
}

/* An entry for a file that did not load: its file name and why. */
static void
mark_broken(struct hd_profile *e, const char *file, const char *path,
    const char *why)
{
	char p[sizeof(e->path)];
	size_t plen;

	snprintf(p, sizeof(p), "%s", path);	/* path may be e->path */
	plen = strlen(p);
	hd_profile_init(e);
	memcpy(e->path, p, sizeof(p));
	/* the file name without ".yaml" stands in for the name */
	snprintf(e->name, sizeof(e->name), "%.*s", (int)(strlen(file) - 5),
	    file);
	if (strncmp(why, p, plen) == 0 && why[plen] == ':')
		why += plen + 1 + (why[plen + 1] == ' ');
	snprintf(e->description, sizeof(e->description), "broken: %s", why);
	e->broken = 1;
}

/* 1 if e's name is taken: by an earlier directory (e is dropped) or by
 * an earlier file of this one (e becomes a broken entry). */
static int
shadowed(struct plist *l, struct hd_profile *e, const char *file)
{
	char why[4200];
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].broken || strcmp(l->v[i].name, e->name) != 0)
			continue;
		if (i < l->dir_start)
			return 1;
		snprintf(why, sizeof(why), "name '%s' is also used by %s",
		    e->name, l->v[i].path);
		mark_broken(e, file, e->path, why);
		return 0;
	}
	return 0;
}

static int
list_dir(struct plist *l, const char *dir, struct hd_err *err)
{
	struct dirent **files;
	struct hd_profile *e;
	struct hd_err e2;
	char path[8192];
	int n = dir_files(dir, &files, &e2), i;

	l->dir_start = l->n;
	if (n < 0 && e2.code == HD_E_NOMEM)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	if (n < 0) {	/* say so rather than show an empty directory */
		if ((e = grow(l, err)) == NULL)
			return -1;
		mark_broken(e, "(unreadable).yaml", dir, e2.msg);
		l->n++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if ((e = grow(l, err)) == NULL)
			break;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]->d_name);
		if (hd_profile_load(e, path, &e2) == -1)
			mark_broken(e, files[i]->d_name, path, e2.msg);
		if (e->broken || !shadowed(l, e, files[i]->d_name))
			l->n++;
	}
	free_files(files, n);
	return i < n ? -1 : 0;
}

static int
by_profile_name(const void *a, const void *b)
{
	const struct hd_profile *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->path, y->path);
}

/*
 * Every profile that can be used, sorted by name: a user profile hides a
 * shipped one of the same name (its path shows which it is).  Files that
 * do not load are listed too, with broken set and the error as their
 * description, so one bad file hides nothing else.  Free *list with free().
 */
int
hd_profile_list(struct hd_profile **list, size_t *n, struct hd_err *err)
{
	struct plist l = { NULL, 0, 0, 0 };
	struct dirs d;
	size_t i;

	*list = NULL;
	*n = 0;
	profile_dirs(&d);
	for (i = 0; i < d.n; i++)
		if (list_dir(&l, d.dir[i], err) == -1) {
			free(l.v);
			return -1;
		}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(l.v[0]), by_profile_name);
	*list = l.v;
	*n = l.n;
	return 0;
}
