/*
 * The subject form checked into a profile, field by field, through the
 * same core calls as the CLI's --subject, --san and --label, then
 * hd_profile_ready.  Each problem is marked beside its field and the first
 * is said in plain words: the core's messages without the CLI's advice
 * ("give --subject ...").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

static void
mark(struct field *f, const char *word, enum role r)
{
	f->mark = word;
	f->mark_role = r;
}

/* The first problem found is the one said. */
static void
say(struct req_verdict *v, int field, enum role r, const char *fmt, ...)
{
	va_list ap;

	if (v->fmsg[field][0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(v->fmsg[field], sizeof(v->fmsg[field]), fmt, ap);
		va_end(ap);
		v->frole[field] = r;
	}
	if (v->msg[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	v->role = r;
	v->bad = field;
}

const char *
req_check_say(const struct req_verdict *v, int cur, enum role *r)
{
	if (cur >= 0 && cur < FORM_MAX && v->fmsg[cur][0] != '\0') {
		*r = v->frole[cur];
		return v->fmsg[cur];
	}
	*r = v->role;
	return v->msg;
}

/* A core message as the TUI says it. */
static void
plain(const struct hd_err *err, char *out, size_t len)
{
	const char *p = err->msg, *q;
	char *cut;

	if (strncmp(p, "profile '", 9) == 0 && (q = strstr(p, "': ")))
		p = q + 3;
	if (strncmp(p, "subject: ", 9) == 0)
		p += 9;
	else if (strncmp(p, "subject ", 8) == 0)
		p += 8;
	snprintf(out, len, "%s", p);
	if ((cut = strstr(out, ": give ")) != NULL ||
	    (cut = strstr(out, "; give ")) != NULL)
		*cut = '\0';
	if (out[0] >= 'a' && out[0] <= 'z')
		out[0] -= 32;
	if (err->hint[0] != '\0' && strstr(err->hint, "--") == NULL) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, ": %s", err->hint);
	}
}

/* The value as one quoted RDN: '"' and '\' escaped (hd_dn_parse). */
static void
dn_quote(const char *type, const char *v, char *out, size_t len)
{
	size_t used = (size_t)snprintf(out, len, "%s=\"", type);

	for (; *v != '\0' && used + 3 < len; v++) {
		if (*v == '"' || *v == '\\')
			out[used++] = '\\';
		out[used++] = *v;
	}
	snprintf(out + used, len - used, "\"");
}

/* Blanks typed by accident at either end are not part of a value. */
static void
trimmed(const char *in, char *out, size_t len)
{
	size_t n;

	while (*in == ' ')
		in++;
	snprintf(out, len, "%s", in);
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

static struct hd_rdn *
rdn_of(struct hd_profile *p, const char *type)
{
	size_t i;

	for (i = 0; i < p->nsubject; i++)
		if (strcmp(p->subject[i].type, type) == 0)
			return &p->subject[i];
	return NULL;
}

static void
check_rdns(const struct hd_profile *base, struct form *fm, int nrdn,
    struct req_verdict *v)
{
	char val[FIELD_TEXT], dn[2 * FIELD_TEXT + 40], missing[200] = "";
	struct hd_rdn *rdn;
	struct hd_err err;
	int i, first = -1;
	size_t used = 0;

	for (i = 0; i < nrdn; i++) {
		const char *type = base->subject[i].type;

		trimmed(fm->f[i].text, val, sizeof(val));
		if (val[0] == '\0') {
			if ((rdn = rdn_of(&v->work, type)) != NULL)
				rdn->value[0] = '\0';
			mark(&fm->f[i], "required", RO_WARNING);
			snprintf(v->fmsg[i], sizeof(v->fmsg[i]), "%s is required: "
			    "type the value to be certified.", type);
			v->frole[i] = RO_WARNING;
			used += (size_t)snprintf(missing + used, used <
			    sizeof(missing) ? sizeof(missing) - used : 0,
			    "%s%s", used ? ", " : "", type);
			first = first < 0 ? i : first;
			continue;
		}
		dn_quote(type, val, dn, sizeof(dn));
		if (hd_profile_set_subject(&v->work, dn, &err) == -1) {
			mark(&fm->f[i], "invalid", RO_ERROR);
			plain(&err, dn, sizeof(dn));
			say(v, i, RO_ERROR, "%s.", dn);
		}
	}
	if (first >= 0)
		say(v, first, RO_WARNING, "Still to fill in: %s. Every field of "
		    "the subject is required.", missing);
}

static void
check_sans(struct form *fm, int f, struct req_verdict *v)
{
	char text[FIELD_TEXT], msg[600], *tok, *save;
	struct hd_err err;
	size_t n;

	v->work.nsan = 0;
	snprintf(text, sizeof(text), "%s", fm->f[f].text);
	for (tok = strtok_r(text, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		n = strlen(tok);
		while (n > 0 && tok[n - 1] == ',')
			tok[--n] = '\0';
		if (n == 0 || hd_profile_add_san(&v->work, tok, &err) == 0)
			continue;
		mark(&fm->f[f], "invalid", RO_ERROR);
		plain(&err, msg, sizeof(msg));
		say(v, f, RO_ERROR, "%s.", msg);
	}
}

static void
check_label(struct form *fm, int f, struct req_verdict *v)
{
	char val[FIELD_TEXT], msg[600];
	struct hd_err err;

	trimmed(fm->f[f].text, val, sizeof(val));
	if (val[0] == '\0') {
		mark(&fm->f[f], "required", RO_WARNING);
		say(v, f, RO_WARNING, "Key label: empty. Type one, e.g. "
		    "codesign-{cn}-{date} ({cn} and {date} are filled in).");
	} else if (hd_profile_set_label(&v->work, val, &err) == -1) {
		mark(&fm->f[f], "invalid", RO_ERROR);
		plain(&err, msg, sizeof(msg));
		say(v, f, RO_ERROR, "%s.", msg);
	}
}

/* hd_profile_ready failed: which field?  Each subject value is tried on
 * its own, then the names with the subject; -1 if none alone. */
static int
culprit(const struct req_verdict *v, int nrdn, int f_san)
{
	struct hd_profile *one = malloc(sizeof(*one));
	struct hd_err err;
	int i, found = -1;

	if (one == NULL)
		return -1;
	for (i = 0; i < nrdn && found < 0; i++) {
		*one = v->work;
		one->subject[0] = v->work.subject[i];
		one->nsubject = 1;
		one->nsan = 0;
		if (hd_profile_ready(one, &err) == -1)
			found = i;
	}
	if (found < 0 && v->work.nsan > 0)
		found = f_san;
	free(one);
	return found;
}

static void
check_ready(const struct req_form *rf, struct req_verdict *v)
{
	struct hd_err err;
	char msg[700];
	int f;

	if (hd_profile_ready(&v->work, &err) == 0)
		return;
	plain(&err, msg, sizeof(msg));
	if ((f = culprit(v, rf->nrdn, rf->f_san)) < 0) {
		say(v, 0, RO_ERROR, "%s.", msg);
		return;
	}
	mark(&rf->fm->f[f], "placeholder?", RO_ERROR);
	say(v, f, RO_ERROR, "%s.", msg);
}

int
req_check(const struct hd_profile *base, const struct req_form *rf,
    struct req_verdict *v)
{
	int i;

	v->work = *base;
	v->msg[0] = v->label[0] = '\0';
	v->bad = 0;
	for (i = 0; i < rf->fm->n; i++) {
		mark(&rf->fm->f[i], NULL, RO_NORMAL);
		v->fmsg[i][0] = '\0';
	}
	check_rdns(base, rf->fm, rf->nrdn, v);
	check_sans(rf->fm, rf->f_san, v);
	if (rf->f_label >= 0)
		check_label(rf->fm, rf->f_label, v);
	if (v->msg[0] == '\0')
		check_ready(rf, v);
	if (rf->f_label >= 0)
		hd_profile_label(&v->work, v->label, sizeof(v->label));
	return v->msg[0] == '\0' ? 0 : -1;
}
