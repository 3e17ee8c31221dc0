/*
 * Files that steer hsmdesk must be the user's alone.  config.yaml names
 * the PKCS#11 module hsmdesk loads (code that runs with the user's
 * rights and sees the PIN) and a profile sets the key a request makes:
 * whoever can write either, or the directory holding them, can change
 * what the next run does.  So a config file, a profile directory, or
 * the directory of either, that another user can write or owns, is
 * refused with the command that fixes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* 0 if path is absent or safe, -1 and err (code) if not. */
int
hd_perm_check(const char *path, enum hd_code code, struct hd_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    hd_err_set(err, code, 0, "%s: %s", path, strerror(errno));
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		hd_err_set(err, code, 0, "%s: owned by another user (uid %lu); "
		    "hsmdesk does not take its settings from files others "
		    "control", path, (unsigned long)st.st_uid);
		hd_err_hint(err, "move it away, or have it owned by you or "
		    "root");
		return -1;
	}
	/* in a sticky directory (/tmp) others cannot replace our files,
	 * and what they put there is theirs: the owner check above */
	if (S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0)
		return 0;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		hd_err_set(err, code, 0, "%s: writable by %s; whoever can write "
		    "it can change which module and keys hsmdesk uses", path,
		    (st.st_mode & S_IWOTH) ? "every user" : "its group");
		hd_err_hint(err, "chmod go-w '%s'", path);
		return -1;
	}
	return 0;
}

/* The file and the directory it is in. */
int
hd_perm_check_file(const char *path, enum hd_code code, struct hd_err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (slash != NULL && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (hd_perm_check(dir, code, err) == -1)
			return -1;
	}
	return hd_perm_check(path, code, err);
}
