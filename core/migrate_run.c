/*
 * migrate run and accept: each identity moves planned -> generating ->
 * key-made -> csr-written -> done, and the plan file is rewritten
 * (atomically) after every move, so that a run stopped anywhere resumes
 * without making anything twice.  "generating" is written before the
 * token is asked for a key: if the run dies before the key's ID is
 * recorded, the resumed run finds the key by its label and adopts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <p11-kit/pkcs11.h>

#include "internal.h"
#include "migrate_int.h"
#include "profile_int.h"

/* Save, keeping the step's own error if there was one. */
static int
save(struct hd_mig_plan *p, struct hd_err *err)
{
	struct hd_err e2;

	hd_err_clear(&e2);
	if (hd_mig_save(p, &e2) == 0)
		return 0;
	if (err->code == HD_OK)
		*err = e2;
	return -1;
}

static void
note_err(struct hd_mig_ident *d, const struct hd_err *err)
{
	snprintf(d->note, sizeof(d->note), "%s", err->msg);
}

/* The identity's profile, with the plan's key type and label winning. */
static int
load_profile(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    struct hd_profile *pr, struct hd_err *err)
{
	char path[4096];

	if (hd_mig_path(p, d->profile, path, sizeof(path)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: path too long",
		    d->profile);
	if (hd_profile_load(pr, path, err) == -1)
		return -1;
	hd_mig_keyspec(d->new_key, &pr->type, &pr->bits, pr->curve);
	snprintf(pr->label, sizeof(pr->label), "%s", d->new_label);
	return hd_profile_ready(pr, err);
}

/* Private keys labelled label on s: 0, 1 (into k) or 2 (several). */
static int
keys_labelled(struct hd_session *s, const char *label, struct hd_key *k,
    struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n;

	if (hd_session_open(s, err) == -1 || hd_find(s, t, 2, h, 2, &n,
	    err) == -1)
		return -1;
	if (n == 1 && hd_key_find(s, label, NULL, k, err) == -1)
		return -1;
	return (int)n;
}

/* The old identity is still there: its certificate, with its key. */
static int
old_present(struct hd_session *from, const struct hd_mig_ident *d,
    struct hd_err *err)
{
	struct hd_token_info ti;
	struct hd_cert c;
	int rc;

	/* the token first: a listing of a token that went away would say
	 * "no such certificate", which is not the problem */
	memset(&c, 0, sizeof(c));
	rc = hd_token_info(from, &ti, err);
	if (rc == 0)
		rc = hd_cert_find(from, d->sha1, &c, err);
	hd_cert_free(&c);
	if (rc == -1) {
		hd_err_prefix(err, "identity '%s': old ", d->name);
		if (err->code == HD_E_DEVICE || err->code == HD_E_NO_TOKEN)
			hd_err_hint(err, "reconnect it and run the plan again: "
			    "the plan records what was done");
	}
	return rc;
}

static int
refuse_existing(const struct hd_mig_ident *d, struct hd_session *to,
    const struct hd_key *k, int n, struct hd_err *err)
{
	char id[129];

	hd_hex(k->id, k->id_len, id, sizeof(id));
	hd_err_set(err, HD_E_INPUT, 0, "identity '%s': token '%s' has %s "
	    "key labelled '%s' already; not making another", d->name,
	    hd_token_label(to), n == 1 ? "a" : "more than one", d->new_label);
	if (n == 1)
		hd_err_hint(err, "if it is this identity's new key, set "
		    "'new_key_id: %s' and 'state: key-made' in the plan; else "
		    "give the identity another 'new: label'", id);
	else
		hd_err_hint(err, "give the identity another 'new: label' in "
		    "the plan");
	return -1;
}

static int
record_key(struct hd_mig_plan *p, struct hd_mig_ident *d,
    const struct hd_key *k, struct hd_err *err)
{
	hd_hex(k->id, k->id_len, d->new_id, sizeof(d->new_id));
	d->state = HD_MIG_KEY;
	d->note[0] = '\0';
	return save(p, err);
}

/* planned or generating -> key-made. */
static int
make_key(struct hd_mig_plan *p, struct hd_mig_ident *d,
    struct hd_session *from, struct hd_session *to, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	struct hd_profile pr;
	struct hd_key k;
	int n;

	if (old_present(from, d, err) == -1 ||
	    load_profile(p, d, &pr, err) == -1 ||
	    (n = keys_labelled(to, d->new_label, &k, err)) == -1)
		return -1;
	if (n == 1 && d->state == HD_MIG_GENERATING)
		return record_key(p, d, &k, err);	/* an earlier run's */
	if (n > 0)
		return refuse_existing(d, to, &k, n, err);
	d->state = HD_MIG_GENERATING;
	if (save(p, err) == -1)
		return -1;
	if (hd_keygen(to, &pr, d->new_label, progress, arg, &k, err) == -1) {
		/* hd_keygen leaves no half pair, unless the device failed
		 * and it cannot know: then the resume looks again */
		if (err->code != HD_E_DEVICE)
			d->state = HD_MIG_PLANNED;
		note_err(d, err);
		save(p, err);
		return -1;
	}
	return record_key(p, d, &k, err);
}

/* key-made -> csr-written. */
static int
make_csr(struct hd_mig_plan *p, struct hd_mig_ident *d,
    struct hd_session *to, struct hd_err *err)
{
	struct hd_profile pr;
	struct hd_key k;
	struct hd_csr c;
	char path[4096];
	int rc;

	memset(&c, 0, sizeof(c));
	if (load_profile(p, d, &pr, err) == -1)
		return -1;
	if (hd_key_find(to, NULL, d->new_id, &k, err) == -1) {
		hd_err_prefix(err, "identity '%s': ", d->name);
		hd_err_hint(err, "the plan says the new key was made; if it "
		    "was deleted, set 'state: planned' and 'new_key_id: \"\"'");
		return -1;
	}
	if (hd_mig_path(p, d->csr, path, sizeof(path)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: path too long",
		    d->csr);
	rc = hd_csr_make(to, &pr, &k, &c, err);
	if (rc == 0)
		rc = hd_csr_write(&c, path, 0, 1, err);
	hd_csr_free(&c);
	if (rc == -1)
		return -1;
	d->state = HD_MIG_CSR;
	d->note[0] = '\0';
	return save(p, err);
}

int
hd_mig_step(struct hd_mig_plan *p, size_t i, struct hd_session *from,
    struct hd_session *to, hd_progress_fn progress, void *arg,
    struct hd_err *err)
{
	struct hd_mig_ident *d = &p->ids[i];

	hd_err_clear(err);
	if (d->skip || d->state >= HD_MIG_CSR)
		return 1;
	if (d->state == HD_MIG_KEY)
		return make_csr(p, d, to, err);
	return make_key(p, d, from, to, progress, arg, err);
}

static int
which_ident(struct hd_mig_plan *p, const struct hd_accept *a, size_t *which,
    struct hd_err *err)
{
	char id[129];
	size_t i;

	hd_hex(a->key.id, a->key.id_len, id, sizeof(id));
	for (i = 0; i < p->n; i++)
		if (p->ids[i].state >= HD_MIG_KEY &&
		    strcasecmp(p->ids[i].new_id, id) == 0) {
			*which = i;
			return 0;
		}
	hd_err_set(err, HD_E_INPUT, 0, "certificate %s (%s) is for key '%s', "
	    "which is not a new key of plan '%s'", a->cert.sha1,
	    a->cert.subject, a->key.label, p->path);
	hd_err_hint(err, "import it with 'hsmdesk accept', or give the "
	    "certificate issued for one of the plan's CSRs");
	return -1;
}

int
hd_mig_accept(struct hd_mig_plan *p, struct hd_session *to, const char *cert,
    const struct hd_accept_opts *o, struct hd_accept *out, size_t *which,
    struct hd_err *err)
{
	struct hd_mig_ident *d;

	hd_err_clear(err);
	if (hd_cert_inspect(to, cert, o, out, err) == -1)
		return -1;
	if (which_ident(p, out, which, err) == -1) {
		hd_accept_free(out);
		return -1;
	}
	hd_accept_free(out);
	if (hd_cert_accept(to, cert, o, out, err) == -1)
		return -1;
	d = &p->ids[*which];
	snprintf(d->new_sha1, sizeof(d->new_sha1), "%s", out->cert.sha1);
	d->state = HD_MIG_DONE;
	d->note[0] = '\0';
	return save(p, err);
}
