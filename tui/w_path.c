/*
 * A path prompt with shell-like Tab completion: one match is completed
 * (a directory gets its '/'), several are completed to what they share
 * and listed under the prompt.  "~/" stands for the home directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tui.h"

#define SCAN_MAX 20000		/* entries looked at in one directory */

void
path_set(struct path_in *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->text, sizeof(p->text), "%s", text);
}

int
path_expand(const struct path_in *p, char *out, size_t len)
{
	const char *home = getenv("HOME");
	int n;

	if (strncmp(p->text, "~/", 2) == 0 && home != NULL && home[0] == '/')
		n = snprintf(out, len, "%s%s", home, p->text + 1);
	else
		n = snprintf(out, len, "%s", p->text);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
is_dir(const char *dir, const char *name)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static size_t
common(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	return i;
}

/* Keep the first PATH_CANDS names in sorted order; count the rest. */
static void
cand_add(struct path_in *p, const char *name)
{
	int i, j;

	if (p->ncand == PATH_CANDS &&
	    strcmp(name, p->cand[PATH_CANDS - 1]) > 0) {
		p->more++;
		return;
	}
	if (p->ncand == PATH_CANDS)
		p->more++;
	else
		p->ncand++;
	for (i = p->ncand - 1; i > 0 && strcmp(p->cand[i - 1], name) > 0; i--)
		;
	for (j = p->ncand - 1; j > i; j--)
		memcpy(p->cand[j], p->cand[j - 1], sizeof(p->cand[0]));
	snprintf(p->cand[i], sizeof(p->cand[0]), "%s", name);
}

struct scan {
	char dir[4096];		/* as opened: "" is the current directory */
	const char *prefix;
	char best[256];		/* what every match shares */
	char only[256];		/* the match, when there is one */
	int n;
};

static void
scan_dir(struct path_in *p, struct scan *sc)
{
	DIR *d = opendir(sc->dir[0] ? sc->dir : ".");
	struct dirent *e;
	size_t plen = strlen(sc->prefix);
	int seen = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && seen++ < SCAN_MAX) {
		if (strncmp(e->d_name, sc->prefix, plen) != 0 ||
		    strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    (e->d_name[0] == '.' && sc->prefix[0] != '.'))
			continue;
		if (sc->n++ == 0)
			snprintf(sc->best, sizeof(sc->best), "%s", e->d_name);
		else
			sc->best[common(sc->best, e->d_name)] = '\0';
		snprintf(sc->only, sizeof(sc->only), "%s", e->d_name);
		cand_add(p, e->d_name);
	}
	closedir(d);
}

static void
complete(struct path_in *p)
{
	struct path_in ex;
	struct scan sc;
	char *slash;
	size_t keep;

	memset(&sc, 0, sizeof(sc));
	p->ncand = p->more = 0;
	p->said = NULL;
	if (path_expand(p, ex.text, sizeof(ex.text)) == -1)
		return;
	slash = strrchr(ex.text, '/');
	snprintf(sc.dir, sizeof(sc.dir), "%.*s", slash ? (int)(slash -
	    ex.text + 1) : 0, ex.text);
	sc.prefix = slash ? slash + 1 : ex.text;
	scan_dir(p, &sc);
	slash = strrchr(p->text, '/');
	keep = slash ? (size_t)(slash - p->text + 1) : 0;
	if (sc.n == 0) {
		p->said = "no match";
	} else if (sc.n == 1) {
		snprintf(p->text + keep, sizeof(p->text) - keep, "%s%s",
		    sc.only, is_dir(sc.dir, sc.only) ? "/" : "");
		p->ncand = p->more = 0;
	} else {
		snprintf(p->text + keep, sizeof(p->text) - keep, "%s",
		    sc.best);
	}
}

int
path_key(struct path_in *p, int ch)
{
	size_t n = strlen(p->text);

	switch (ch) {
	case '\t':
		complete(p);
		return 0;
	case KEY_BACKSPACE: case 127: case 8:
		while (n > 0 && (p->text[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			p->text[n - 1] = '\0';
		p->ncand = p->more = 0;
		p->said = NULL;
		return 0;
	case 21:	/* ^U */
		p->text[0] = '\0';
		p->ncand = p->more = 0;
		p->said = NULL;
		return 0;
	}
	if (ch < 0x20 || ch > 0xff || ch == 0x7f)
		return -1;
	if (n + 1 < sizeof(p->text)) {
		p->text[n] = (char)ch;
		p->text[n + 1] = '\0';
	}
	p->ncand = p->more = 0;
	p->said = NULL;
	return 0;
}

/* The prompt at y (w columns), the matches of the last Tab under it. */
void
path_draw(struct tui *t, const struct path_in *p, int y, int x, int w)
{
	const char *shown = p->text;
	char line[512];
	size_t used = 0, n = strlen(shown);
	int i;

	if ((int)n > w - 2) {
		shown += n - (size_t)(w - 3);
		while ((*shown & 0xc0) == 0x80)
			shown++;
	}
	draw_text(t, y, x, w, RO_SELECTED, " %s%-*s", shown == p->text ? "" :
	    "<", w - 2 - (shown != p->text), shown);
	line[0] = '\0';
	for (i = 0; i < p->ncand && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%s  ", p->cand[i]);
	if (p->more > 0 && used < sizeof(line))
		snprintf(line + used, sizeof(line) - used, "(%d more)",
		    p->more);
	if (p->said != NULL)
		draw_text(t, y + 1, x, w, RO_WARNING, " %s", p->said);
	else if (line[0] != '\0')
		draw_text(t, y + 1, x, w, RO_DIM, " %s", line);
}
