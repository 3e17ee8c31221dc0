/*
 * request --attest: the token's key-generation attestation, saved beside
 * the CSR (CSR.attest) and named in the ceremony record.  Checked before
 * the PIN is asked for, so a token without attestation makes nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
req_attest_check(struct cli *c, struct hd_err *err)
{
	char path[4096];

	if (!c->attest)
		return 0;
	if (hd_attest_path(c->out, path, sizeof(path)) == -1)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: path too long",
		    c->out);
	if (!c->force && access(path, F_OK) == 0) {
		hd_err_set(err, HD_E_USAGE, 0, "%s: exists already (the "
		    "attestation of an earlier request)", path);
		hd_err_hint(err, "choose another --out, or pass --force");
		return -1;
	}
	return hd_attest_supported(c->s, err);
}

/* After the key, before the CSR: a key the token does not attest fails
 * the request (the caller deletes a key it made). */
int
req_attest_get(struct cli *c, const struct hd_key *k, struct hd_attest *a,
    struct hd_err *err)
{
	memset(a, 0, sizeof(*a));
	return c->attest ? hd_attest_get(c->s, k, a, err) : 0;
}

/* Save it beside the CSR and add it to the record (rec may be NULL). */
int
req_attest_save(struct cli *c, const struct hd_attest *a, char **rec,
    struct hd_err *err)
{
	char path[4096];

	if (!c->attest)
		return 0;
	if (hd_attest_path(c->out, path, sizeof(path)) == -1)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: path too long",
		    c->out);
	if (rec != NULL && *rec != NULL &&
	    hd_ceremony_attest(rec, a, path, err) == -1)
		return -1;
	return hd_attest_write(a, path, c->force, err);
}

void
req_attest_undo(struct cli *c)
{
	char path[4096];

	if (c->attest && hd_attest_path(c->out, path, sizeof(path)) == 0)
		unlink(path);
}

void
req_attest_print(const struct cli *c, const struct hd_attest *a)
{
	char path[4096];

	if (c->attest && hd_attest_path(c->out, path, sizeof(path)) == 0)
		printf("  attestation %s (%zu bytes, SHA-256 %s)\n", path,
		    a->len, a->sha256);
}
