/*
 * Request wizard, step 2: the subject, the alternative names and the key
 * label, in a form.  Every change is checked the way the CLI checks
 * --subject and --san (hd_profile_set_subject, hd_profile_add_san,
 * hd_profile_set_label, then hd_profile_ready), and what is wrong is said
 * beside the field.  Nothing empty and no placeholder goes on to the CA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

struct rsubj {
	struct req *r;
	struct form fm;
	struct req_form rf;
	char names[HD_DN_MAX][32];	/* the fields' labels */
	struct req_verdict v;
};

static const struct {
	const char *type, *name;
} rdn_names[] = {
	{ "C", "Country (C)" }, { "ST", "State (ST)" },
	{ "L", "Locality (L)" }, { "O", "Organization (O)" },
	{ "OU", "Org. unit (OU)" }, { "CN", "Common name (CN)" },
	{ "emailAddress", "Email (E)" }, { "serialNumber", "Serial number" },
	{ "DC", "Domain part (DC)" },
};

static void
field_name(const char *type, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(rdn_names) / sizeof(rdn_names[0]); i++)
		if (strcmp(type, rdn_names[i].type) == 0) {
			snprintf(buf, len, "%s", rdn_names[i].name);
			return;
		}
	snprintf(buf, len, "%s", type);
}

static const char *
memo_get(const struct req *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->nmemo; i++)
		if (strcmp(r->memo[i].type, type) == 0)
			return r->memo[i].value;
	return NULL;
}

static void
memo_put(struct req *r, const char *type, const char *value)
{
	size_t i;

	for (i = 0; i < r->nmemo && strcmp(r->memo[i].type, type); i++)
		;
	if (i == HD_DN_MAX)
		return;
	if (i == r->nmemo) {
		r->nmemo++;
		memcpy(r->memo[i].type, type, strnlen(type,
		    sizeof(r->memo[i].type) - 1) + 1);
	}
	snprintf(r->memo[i].value, sizeof(r->memo[i].value), "%s", value);
}

/* Keep what was typed in r, for when this step is opened again. */
static void
remember(struct rsubj *s)
{
	struct req *r = s->r;
	int i;

	for (i = 0; i < s->rf.nrdn; i++)
		memo_put(r, r->base.subject[i].type, s->fm.f[i].text);
	snprintf(r->san_text, sizeof(r->san_text), "%s",
	    s->fm.f[s->rf.f_san].text);
	r->san_typed = 1;
	if (s->rf.f_label >= 0) {
		snprintf(r->label_text, sizeof(r->label_text), "%s",
		    s->fm.f[s->rf.f_label].text);
		snprintf(r->label_for, sizeof(r->label_for), "%s",
		    r->base.name);
	}
}


/* The INF keys that were read but mean nothing here, said once more. */
static void
ignored_line(struct tui *t, const struct req *r, int y)
{
	char buf[600];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < r->base.nignored && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		    "%s%s", i ? ", " : "", r->base.ignored[i]);
	if (buf[0] != '\0')
		draw_text(t, y, 3, t->cols - 6, RO_WARNING, "Ignored INF keys "
		    "(no meaning on PKCS#11): %s", buf);
	else
		draw_text(t, y, 3, t->cols - 6, RO_DIM, "Empty fields are "
		    "required. Tab or Enter: next field.");
}

static void
subj_enter(struct tui *t, struct view *v, const void *arg)
{
	struct rsubj *s = v->st;
	struct req *r = (struct req *)arg;
	const char *m;
	char sans[FIELD_TEXT];
	size_t i;

	(void)t;
	s->r = r;
	if (r->base.nsubject == 0) {	/* an INF without Subject: a CN */
		snprintf(r->base.subject[0].type, sizeof(r->base.subject[0].type),
		    "CN");
		r->base.subject[0].value[0] = '\0';
		r->base.nsubject = 1;
	}
	for (i = 0; i < r->base.nsubject && i < FORM_MAX - 2; i++) {
		m = memo_get(r, r->base.subject[i].type);
		field_name(r->base.subject[i].type, s->names[i],
		    sizeof(s->names[i]));
		form_add_text(&s->fm, s->names[i], m ? m :
		    r->base.subject[i].value, 255);
	}
	s->rf.fm = &s->fm;
	s->rf.nrdn = (int)i;
	req_sans(&r->base, sans, sizeof(sans));
	s->rf.f_san = s->fm.n;
	form_add_text(&s->fm, "Alt. names", r->san_typed ? r->san_text :
	    r->base.nsan ? sans : "", FIELD_TEXT - 1);
	s->rf.f_label = -1;
	if (r->mode == REQ_NEW) {
		s->rf.f_label = s->fm.n;
		form_add_text(&s->fm, "Key label", strcmp(r->label_for,
		    r->base.name) == 0 ? r->label_text : r->base.label, 128);
	}
	req_check(&r->base, &s->rf, &s->v);
	for (i = 0; i < (size_t)s->rf.nrdn; i++)	/* the first empty one */
		if (s->fm.f[i].text[0] == '\0') {
			s->fm.cur = (int)i;
			break;
		}
}

static void
subj_leave(struct tui *t, struct view *v)
{
	struct rsubj *s = v->st;

	(void)t;
	remember(s);
	form_free(&s->fm);
}

static void
subj_draw(struct tui *t, struct view *v)
{
	struct rsubj *s = v->st;
	struct req *r = s->r;
	int valw = t->cols - 40 > 60 ? 60 : t->cols - 40;
	struct form_look lk = { s->fm.n, 20, valw, t->cols - 26 - valw };
	char dn[1100];
	const char *msg;
	enum role role;
	int y;

	if (lk.rows > t->rows - 17)
		lk.rows = t->rows - 17;
	draw_text(t, 4, 3, t->cols - 6, RO_NORMAL, "Profile %s: %s",
	    r->base.name, r->base.description[0] ? r->base.description :
	    r->base.path);
	if (r->mode == REQ_RENEW)
		draw_text(t, 5, 3, t->cols - 6, RO_DIM, "For the CSR of key "
		    "'%s'; empty fields are required.", r->key.label);
	else
		ignored_line(t, r, 5);
	form_draw_in(t, &s->fm, 6, 3, &lk);
	y = 7 + lk.rows;
	if (r->mode == REQ_NEW) {
		draw_text(t, y, 3, 19, RO_DIM, "Key label will be");
		draw_text(t, y, 22, t->cols - 25, s->v.label[0] ? RO_NORMAL :
		    RO_DIM, "%s", s->v.label[0] ? s->v.label : "(known once "
		    "the fields it uses are filled in)");
	}
	req_dn(&s->v.work, dn, sizeof(dn));
	draw_text(t, y + 1, 3, 19, RO_DIM, "Subject as sent");
	draw_wrap(t, y + 1, 22, t->cols - 25, 2, RO_TITLE, dn[0] ? dn : "-");
	msg = req_check_say(&s->v, s->fm.cur, &role);
	draw_wrap(t, y + 3, 3, t->cols - 6, 3, role, msg);
}

static enum act
subj_go(struct tui *t, struct view *v)
{
	struct rsubj *s = v->st;
	struct req *r = s->r;

	if (req_check(&r->base, &s->rf, &s->v) == -1) {
		s->fm.cur = s->v.bad;
		tui_note(t, RO_ERROR, "Not yet: the field marked beside it "
		    "needs a change.");
		return ACT_NONE;
	}
	t->note[0] = '\0';
	remember(s);
	r->p = s->v.work;
	snprintf(r->label, sizeof(r->label), "%s", s->v.label);
	tui_push(t, &scr_req_confirm, r);
	return ACT_NONE;
}

static enum act
subj_other(struct tui *t, struct view *v, int ch)
{
	struct rsubj *s = v->st;
	int r = form_key(&s->fm, ch);

	if (r == 1)
		return subj_go(t, v);
	if (r == -1)
		return ACT_UNHANDLED;
	req_check(&s->r->base, &s->rf, &s->v);
	return ACT_NONE;
}

static const struct binding keys[] = {
	{ KEY_F(4), 0, "F4", "Continue (or Enter on the last field)",
	  subj_go },
	{ 27, 0, "Esc", "Back (what is typed is kept)", req_back },
	{ '\t', KEY_DOWN, NULL, "Next field (also Enter)", NULL },
	{ KEY_BTAB, KEY_UP, NULL, "Previous field", NULL },
	{ 21, 0, NULL, "Erase the field", NULL },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen scr_req_subject = {
	.name = "req-subject",
	.title = "Subject and key label",
	.state_size = sizeof(struct rsubj),
	.keys = keys,
	.enter = subj_enter,
	.draw = subj_draw,
	.other = subj_other,
	.leave = subj_leave,
};
