/*
 * Sign files, step 2: the files.  A browser of one directory at a time
 * (directories first; Enter opens one, Space marks a file), and under it
 * a path prompt: what is typed there is a path or a glob(3) pattern,
 * Tab completes it, Enter marks every file it matches (or opens the
 * directory it names).  F4 goes on with the marked files.
 */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sign.h"

#define ENTRIES 1000

struct sfiles {
	struct sgn *g;
	char dir[1024];			/* as shown and joined: "" is "." */
	char name[ENTRIES][256];
	int isdir[ENTRIES];
	struct list l;
	struct path_in p;
};

static int
list_rows(const struct tui *t)
{
	return t->rows - 15;
}

static void
join(const struct sfiles *s, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s%s", s->dir, name);
}

static int
cmp_names(const void *a, const void *b)
{
	const char *x = a, *y = b;

	/* directories carry a trailing '/' and sort first */
	int dx = x[strlen(x) - 1] == '/', dy = y[strlen(y) - 1] == '/';

	if (dx != dy)
		return dy - dx;
	return strcmp(x, y);
}

static void
scan(struct tui *t, struct sfiles *s)
{
	DIR *d = opendir(s->dir[0] ? s->dir : ".");
	struct dirent *e;
	char path[1400];
	struct stat st;
	int i, n = 0;

	if (d == NULL) {
		tui_note(t, RO_ERROR, "%s: cannot open the directory.",
		    s->dir);
		s->l.n = 0;
		return;
	}
	snprintf(s->name[n++], 256, "../");
	while ((e = readdir(d)) != NULL && n < ENTRIES) {
		if (e->d_name[0] == '.')
			continue;
		join(s, e->d_name, path, sizeof(path));
		if (stat(path, &st) == -1)
			continue;
		snprintf(s->name[n++], 256, "%s%s", e->d_name,
		    S_ISDIR(st.st_mode) ? "/" : "");
	}
	closedir(d);
	qsort(s->name + 1, (size_t)n - 1, sizeof(s->name[0]), cmp_names);
	for (i = 0; i < n; i++)
		s->isdir[i] = s->name[i][strlen(s->name[i]) - 1] == '/';
	s->l.n = n;
	s->l.cur = s->l.top = 0;
}

static void
files_enter(struct tui *t, struct view *v, const void *arg)
{
	struct sfiles *s = v->st;

	s->g = (struct sgn *)arg;
	scan(t, s);
}

/* Open dir (relative to the current one unless absolute). */
static void
go_dir(struct tui *t, struct sfiles *s, const char *name)
{
	char next[1400], *slash;
	size_t n;

	if (strcmp(name, "../") == 0) {
		n = strlen(s->dir);
		if (strcmp(s->dir, "/") == 0)
			return;
		if (n == 0 || (n >= 3 && strcmp(s->dir + n - 3, "../") == 0)) {
			snprintf(next, sizeof(next), "%s../", s->dir);
		} else {	/* "a/b/" -> "a/", "/x/" -> "/" */
			s->dir[n - 1] = '\0';
			slash = strrchr(s->dir, '/');
			*(slash ? slash + 1 : s->dir) = '\0';
			snprintf(next, sizeof(next), "%s", s->dir);
		}
	} else if (name[0] == '/') {
		snprintf(next, sizeof(next), "%s%s", name,
		    name[strlen(name) - 1] == '/' ? "" : "/");
	} else {
		snprintf(next, sizeof(next), "%s%s%s", s->dir, name,
		    name[strlen(name) - 1] == '/' ? "" : "/");
	}
	snprintf(s->dir, sizeof(s->dir), "%s", next);
	scan(t, s);
}

static void
toggle(struct tui *t, struct sfiles *s)
{
	char path[1400], why[300];
	int i;

	if (s->l.n == 0 || s->isdir[s->l.cur])
		return;
	join(s, s->name[s->l.cur], path, sizeof(path));
	if ((i = sign_find(s->g, path)) >= 0)
		sign_remove(s->g, i);
	else if (sign_add(s->g, path, why, sizeof(why)) == -1)
		tui_note(t, RO_ERROR, "%s.", why);
	list_key(&s->l, KEY_DOWN, list_rows(t));
}

/* The prompt's text: a directory opens; else every match is marked. */
static void
take_prompt(struct tui *t, struct sfiles *s)
{
	char pat[4096], why[300] = "";
	struct stat st;
	glob_t gl;
	size_t i;
	int added = 0, bad = 0;

	if (path_expand(&s->p, pat, sizeof(pat)) == -1)
		return;
	if (stat(pat, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(s->dir, sizeof(s->dir), "%s%s", pat,
		    pat[strlen(pat) - 1] == '/' ? "" : "/");
		scan(t, s);
		path_set(&s->p, "");
		return;
	}
	if (glob(pat, 0, NULL, &gl) != 0) {
		tui_note(t, RO_WARNING, "Nothing matches %s.", s->p.text);
		return;
	}
	for (i = 0; i < gl.gl_pathc; i++) {
		if (sign_find(s->g, gl.gl_pathv[i]) >= 0)
			continue;
		if (sign_add(s->g, gl.gl_pathv[i], why, sizeof(why)) == 0)
			added++;
		else
			bad++;
	}
	globfree(&gl);
	tui_note(t, bad ? RO_WARNING : RO_OK, "%d file%s marked%s%s.", added,
	    added == 1 ? "" : "s", bad ? "; skipped: " : "", bad ? why : "");
	path_set(&s->p, "");
}

static enum act
files_open(struct tui *t, struct view *v)
{
	struct sfiles *s = v->st;

	if (s->p.text[0] != '\0')
		take_prompt(t, s);
	else if (s->l.n > 0 && s->isdir[s->l.cur])
		go_dir(t, s, s->name[s->l.cur]);
	else
		toggle(t, s);
	return ACT_NONE;
}

static enum act
files_mark(struct tui *t, struct view *v)
{
	toggle(t, v->st);
	return ACT_NONE;
}

static enum act
files_next(struct tui *t, struct view *v)
{
	struct sfiles *s = v->st;

	if (s->g->n == 0) {
		tui_note(t, RO_WARNING, "No file marked: Space marks the file "
		    "under the cursor, or type a pattern and Enter.");
		return ACT_NONE;
	}
	t->note[0] = '\0';
	tui_push(t, &scr_sign_opts, s->g);
	return ACT_NONE;
}

static enum act
files_back(struct tui *t, struct view *v)
{
	struct sfiles *s = v->st;

	(void)t;
	if (s->p.text[0] != '\0') {
		path_set(&s->p, "");
		return ACT_NONE;
	}
	return ACT_POP;
}

static void
files_draw(struct tui *t, struct view *v)
{
	struct sfiles *s = v->st;
	char path[1400];
	int i, rows = list_rows(t), k;

	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "In %s   (%d marked)",
	    s->dir[0] ? s->dir : "./", s->g->n);
	list_fix(&s->l, rows);
	for (i = 0; i < rows && s->l.top + i < s->l.n; i++) {
		k = s->l.top + i;
		join(s, s->name[k], path, sizeof(path));
		draw_text(t, 5 + i, 3, t->cols - 6, k == s->l.cur ?
		    RO_SELECTED : s->isdir[k] ? RO_TITLE : RO_NORMAL,
		    " %s %-*s", s->isdir[k] ? " " : sign_find(s->g, path) >= 0 ?
		    "*" : " ", t->cols - 10, s->name[k]);
	}
	draw_text(t, t->rows - 9, 3, t->cols - 6, RO_DIM, "Path or pattern "
	    "(*.exe, dist/*; Tab completes, Enter marks the matches):");
	path_draw(t, &s->p, t->rows - 8, 3, t->cols - 6);
	draw_text(t, t->rows - 6, 3, t->cols - 6, RO_DIM, "Signing as %s",
	    s->g->cert.subject);
}

static enum act
files_other(struct tui *t, struct view *v, int ch)
{
	struct sfiles *s = v->st;

	if (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_PPAGE ||
	    ch == KEY_NPAGE || ch == KEY_HOME || ch == KEY_END) {
		list_key(&s->l, ch, list_rows(t));
		return ACT_NONE;
	}
	if (ch == '\t' || ch == KEY_BACKSPACE || ch == 21 || (ch > 0x20 &&
	    ch <= 0xff && ch != 0x7f))
		return path_key(&s->p, ch) == 0 ? ACT_NONE : ACT_UNHANDLED;
	return ACT_UNHANDLED;
}

static enum act
files_space(struct tui *t, struct view *v)
{
	struct sfiles *s = v->st;

	if (s->p.text[0] != '\0')	/* a space in a name being typed */
		return path_key(&s->p, ' ') == 0 ? ACT_NONE : ACT_UNHANDLED;
	return files_mark(t, v);
}

static const struct binding keys[] = {
	{ ' ', 0, "Space", "Mark", files_space },
	{ '\n', 0, "Enter", "Open dir / take pattern", files_open },
	{ KEY_F(4), 0, "F4", "Next", files_next },
	{ 27, 0, "Esc", "Back", files_back },
	{ '\t', 0, NULL, "Complete the path typed", NULL },
	{ KEY_UP, KEY_DOWN, NULL, "Move in the directory (also PgUp, PgDn)",
	  NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_sign_files = {
	.name = "sign-files",
	.title = "Sign files: choose the files",
	.state_size = sizeof(struct sfiles),
	.keys = keys,
	.enter = files_enter,
	.draw = files_draw,
	.other = files_other,
};
