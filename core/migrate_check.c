/*
 * A plan file an officer has edited must still make sense before a run
 * touches a token: names unique and usable as file names, key types this
 * hsmdesk can make, and states that agree with what they record.
 */
#include <stdio.h>
#include <string.h>

#include "migrate_int.h"

#define CHECK_HINT "fix the plan file, or make a new one with 'hsmdesk " \
	"migrate plan'"

int
hd_mig_keyspec(const char *spec, enum hd_keytype *type, unsigned *bits,
    char curve[8])
{
	static const struct { const char *spec; enum hd_keytype t;
	    unsigned bits; const char *curve; } ks[] = {
		{ "RSA-2048", HD_KEY_RSA, 2048, "" },
		{ "RSA-3072", HD_KEY_RSA, 3072, "" },
		{ "RSA-4096", HD_KEY_RSA, 4096, "" },
		{ "EC-P256", HD_KEY_EC, 256, "P-256" },
		{ "EC-P384", HD_KEY_EC, 384, "P-384" },
	};
	size_t i;

	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
		if (strcmp(spec, ks[i].spec) == 0) {
			*type = ks[i].t;
			*bits = ks[i].bits;
			snprintf(curve, 8, "%s", ks[i].curve);
			return 0;
		}
	return -1;
}

static int
hex_ok(const char *s, size_t want)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return s[n] == '\0' && (want == 0 ? n > 0 && n % 2 == 0 : n == want);
}

static int
bad(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    struct hd_err *err, const char *what)
{
	hd_err_set(err, HD_E_INPUT, 0, "plan '%s': identity '%s': %s",
	    p->path, d->name, what);
	hd_err_hint(err, CHECK_HINT);
	return -1;
}

static int
ident_ok(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    struct hd_err *err)
{
	enum hd_keytype t;
	unsigned bits;
	char curve[8];

	if (d->name[0] == '\0' || strspn(d->name,
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(d->name))
		return bad(p, d, err, "'name' may hold only a-z, 0-9, '.', "
		    "'_' and '-'");
	if (!hex_ok(d->sha1, 40))
		return bad(p, d, err, "'old: sha1' is not a SHA-1 thumbprint "
		    "(40 hex digits)");
	if (hd_mig_keyspec(d->new_key, &t, &bits, curve) == -1)
		return bad(p, d, err, "'new: key' must be RSA-2048, RSA-3072, "
		    "RSA-4096, EC-P256 or EC-P384");
	if (d->new_label[0] == '\0' || d->profile[0] == '\0' ||
	    d->csr[0] == '\0')
		return bad(p, d, err, "'new: label', 'profile' and 'csr' "
		    "must not be empty");
	if (d->state >= HD_MIG_KEY && !hex_ok(d->new_id, 0))
		return bad(p, d, err, "state says the key is made, but "
		    "'new_key_id' is not the key's CKA_ID in hex");
	if (d->state == HD_MIG_DONE && !hex_ok(d->new_sha1, 40))
		return bad(p, d, err, "state 'done' needs 'new_sha1', the "
		    "new certificate's thumbprint");
	if (d->state < HD_MIG_KEY && d->new_id[0] != '\0')
		return bad(p, d, err, "'new_key_id' is set, but the state "
		    "says no key was made");
	return 0;
}

int
hd_mig_validate(const struct hd_mig_plan *p, struct hd_err *err)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		if (ident_ok(p, &p->ids[i], err) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(p->ids[i].name, p->ids[j].name) == 0 ||
			    strcmp(p->ids[i].new_label,
			    p->ids[j].new_label) == 0)
				return bad(p, &p->ids[i], err, "its name or "
				    "new label is used by another identity");
	}
	if (strcmp(p->from.serial, p->to.serial) == 0 &&
	    strcmp(p->from.module, p->to.module) == 0) {
		hd_err_set(err, HD_E_INPUT, 0, "plan '%s': 'from' and 'to' "
		    "name the same token", p->path);
		hd_err_hint(err, CHECK_HINT);
		return -1;
	}
	return 0;
}
