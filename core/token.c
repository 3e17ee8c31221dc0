/*
 * Token discovery.  Tokens are chosen by label, serial or RFC 7512 URI and
 * found again before every operation: slot IDs change when a token is
 * added or initialized (SoftHSM2 renumbers them), so none is remembered.
 * Uninitialized tokens are never opened (C_OpenSession on one can hang);
 * they are only offered for initialization.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void
hd_fill_info(struct hd_token_info *ti, CK_SLOT_ID slot, const CK_SLOT_INFO *si,
    const CK_TOKEN_INFO *t)
{
	CK_FLAGS f = t->flags;

	memset(ti, 0, sizeof(*ti));
	ti->slot = slot;
	ti->present = 1;
	hd_padded_copy(ti->slot_desc, sizeof(ti->slot_desc),
	    si->slotDescription, sizeof(si->slotDescription));
	hd_padded_copy(ti->label, sizeof(ti->label), t->label, 32);
	hd_padded_copy(ti->manufacturer, sizeof(ti->manufacturer),
	    t->manufacturerID, 32);
	hd_padded_copy(ti->model, sizeof(ti->model), t->model, 16);
	hd_padded_copy(ti->serial, sizeof(ti->serial), t->serialNumber, 16);
	ti->initialized = (f & CKF_TOKEN_INITIALIZED) != 0;
	ti->login_required = (f & CKF_LOGIN_REQUIRED) != 0;
	ti->user_pin_set = (f & CKF_USER_PIN_INITIALIZED) != 0;
	ti->user_pin_flag = ti->user_pin_set;
	ti->read_only = (f & CKF_WRITE_PROTECTED) != 0;
	ti->protected_path = (f & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	ti->pin_count_low = (f & CKF_USER_PIN_COUNT_LOW) != 0;
	ti->pin_final_try = (f & CKF_USER_PIN_FINAL_TRY) != 0;
	ti->pin_locked = (f & CKF_USER_PIN_LOCKED) != 0;
	ti->pin_to_change = (f & CKF_USER_PIN_TO_BE_CHANGED) != 0;
	ti->so_pin_count_low = (f & CKF_SO_PIN_COUNT_LOW) != 0;
	ti->so_pin_final_try = (f & CKF_SO_PIN_FINAL_TRY) != 0;
	ti->so_pin_locked = (f & CKF_SO_PIN_LOCKED) != 0;
	ti->min_pin = t->ulMinPinLen;
	ti->max_pin = t->ulMaxPinLen;
}

int
hd_slot_info(struct hd_session *s, CK_SLOT_ID slot, struct hd_token_info *ti,
    struct hd_err *err)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO t;
	CK_RV rv;

	char obj[64];

	if (s->selected && s->slot == slot)
		snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	else
		snprintf(obj, sizeof(obj), "slot %lu", (unsigned long)slot);
	if ((rv = s->fl->C_GetSlotInfo(slot, &si)) != CKR_OK)
		return hd_err_ckr(err, rv, "reading the slot", obj);
	if ((rv = s->fl->C_GetTokenInfo(slot, &t)) != CKR_OK)
		return hd_err_ckr(err, rv, "reading the token", obj);
	hd_fill_info(ti, slot, &si, &t);
	hd_vendor_fix_info(s, ti, NULL);
	return 0;
}

/* A fresh list of the slots that hold a token. */
int
hd_tokens(struct hd_session *s, struct hd_token_info **list, size_t *n,
    struct hd_err *err)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG count = 0, i;
	struct hd_token_info *out = NULL;
	size_t k = 0;
	CK_RV rv;

	*list = NULL;
	*n = 0;
	if ((rv = s->fl->C_GetSlotList(CK_TRUE, NULL, &count)) != CKR_OK)
		return hd_err_ckr(err, rv, "listing slots", "module");
	if (count == 0)
		return 0;
	slots = calloc(count, sizeof(*slots));
	out = calloc(count, sizeof(*out));
	if (slots == NULL || out == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto fail;
	}
	if ((rv = s->fl->C_GetSlotList(CK_TRUE, slots, &count)) != CKR_OK) {
		hd_err_ckr(err, rv, "listing slots", "module");
		goto fail;
	}
	for (i = 0; i < count; i++) {
		/* a token pulled out between the two calls is just skipped */
		if (hd_slot_info(s, slots[i], &out[k], err) == 0)
			k++;
	}
	hd_err_clear(err);
	free(slots);
	*list = out;
	*n = k;
	return 0;
fail:
	free(slots);
	free(out);
	return -1;
}

static int
token_matches(const char *spec, const struct hd_token_info *ti)
{
	struct hd_err ignored;

	if (strncmp(spec, "pkcs11:", 7) == 0)
		return hd_uri_match(spec, ti, &ignored) == 1;
	return strcmp(spec, ti->label) == 0 || strcmp(spec, ti->serial) == 0;
}

/* A malformed pkcs11: URI is the caller's mistake, not a missing token. */
static int
spec_check(const char *spec, struct hd_err *err)
{
	struct hd_token_info none;

	if (spec == NULL || strncmp(spec, "pkcs11:", 7) != 0)
		return 0;
	memset(&none, 0, sizeof(none));
	return hd_uri_match(spec, &none, err) == -1 ? -1 : 0;
}

static void
names_join(char *buf, size_t len, const struct hd_token_info *l, size_t n,
    int initialized)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		if (l[i].initialized != initialized)
			continue;
		used += snprintf(buf + used, len - used, "%s'%s' (serial %s)",
		    used ? ", " : "", l[i].label, l[i].serial);
	}
}

static int
select_one(struct hd_session *s, const struct hd_token_info *ti, int uninit)
{
	s->selected = 1;
	s->selected_uninit = uninit;
	s->slot = ti->slot;
	snprintf(s->label, sizeof(s->label), "%s", ti->label);
	snprintf(s->serial, sizeof(s->serial), "%s", ti->serial);
	return 0;
}

/* Count candidates; remember the last one. */
static size_t
candidates(const struct hd_token_info *l, size_t n, const char *spec,
    int initialized, size_t *last)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (l[i].initialized != initialized)
			continue;
		if (spec != NULL && !token_matches(spec, &l[i]))
			continue;
		c++;
		*last = i;
	}
	return c;
}

static int
select_fail_none(const char *spec, const struct hd_token_info *l, size_t n,
    struct hd_err *err)
{
	size_t last;

	if (spec == NULL) {
		hd_err_set(err, HD_E_NO_TOKEN, 0, "no initialized token found");
		hd_err_hint(err, "initialize one with 'hsmdesk init-token "
		    "--label NAME', or choose another module with --module");
		return -1;
	}
	if (candidates(l, n, spec, 0, &last) > 0) {
		hd_err_set(err, HD_E_UNINIT, 0, "token '%s': not initialized",
		    spec);
		hd_err_hint(err, "initialize it with 'hsmdesk init-token'");
		return -1;
	}
	hd_err_set(err, HD_E_NO_TOKEN, 0, "token '%s': no such token", spec);
	hd_err_hint(err, "'hsmdesk tokens' lists the tokens this module has");
	return -1;
}

/*
 * Select the initialized token named by spec (label, serial or RFC 7512
 * URI), or, with spec NULL, the only initialized token.
 */
int
hd_token_select(struct hd_session *s, const char *spec, struct hd_err *err)
{
	struct hd_token_info *l;
	size_t n, c, last = 0;
	char names[400];
	int rc = -1;

	if (spec != NULL && *spec == '\0')
		spec = NULL;
	if (spec_check(spec, err) == -1 || hd_tokens(s, &l, &n, err) == -1)
		return -1;
	c = candidates(l, n, spec, 1, &last);
	if (c == 1)
		rc = select_one(s, &l[last], 0);
	else if (c == 0)
		select_fail_none(spec, l, n, err);
	else {
		names_join(names, sizeof(names), l, n, 1);
		hd_err_set(err, HD_E_NO_TOKEN, 0, "%s%s%s: %zu tokens match: %s",
		    spec ? "token '" : "", spec ? spec : "more than one token",
		    spec ? "'" : "", c, names);
		hd_err_hint(err, "choose one with --token SERIAL or 'token:' in "
		    "config.yaml");
	}
	free(l);
	return rc;
}

/* Select an uninitialized token for init-token; never an initialized one. */
int
hd_token_select_uninit(struct hd_session *s, const char *spec,
    struct hd_err *err)
{
	struct hd_token_info *l;
	size_t n, c, last = 0;
	int rc = -1;

	if (spec != NULL && *spec == '\0')
		spec = NULL;
	if (spec_check(spec, err) == -1 || hd_tokens(s, &l, &n, err) == -1)
		return -1;
	c = candidates(l, n, spec, 0, &last);
	if (c >= 1) {
		/* uninitialized tokens carry no name: any of them will do */
		rc = select_one(s, &l[last], 1);
	} else if (spec != NULL && candidates(l, n, spec, 1, &last) > 0) {
		hd_err_set(err, HD_E_USAGE, 0, "token '%s': already "
		    "initialized; initializing it again would erase its keys",
		    spec);
		hd_err_hint(err, "hsmdesk never re-initializes a token; use "
		    "the vendor's tool if you really mean to wipe it");
	} else {
		hd_err_set(err, HD_E_NO_TOKEN, 0, "%s%s%s: no uninitialized "
		    "token", spec ? "token '" : "", spec ? spec : "module",
		    spec ? "'" : "");
		hd_err_hint(err, "'hsmdesk tokens' lists the tokens; an HSM's "
		    "own tool creates new partitions or slots");
	}
	free(l);
	return rc;
}

/* Find the selected token again: its slot ID may have changed. */
int
hd_token_resolve(struct hd_session *s, struct hd_err *err)
{
	struct hd_token_info *l;
	size_t n, i;
	int rc = -1;

	if (!s->selected)
		return hd_err_set(err, HD_E_INTERNAL, 0, "no token selected");
	if (hd_tokens(s, &l, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (s->selected_uninit ? (l[i].slot == s->slot &&
		    !l[i].initialized) : (l[i].initialized &&
		    strcmp(l[i].serial, s->serial) == 0 &&
		    strcmp(l[i].label, s->label) == 0)) {
			s->slot = l[i].slot;
			rc = 0;
			break;
		}
	}
	free(l);
	if (rc == -1) {
		hd_err_set(err, HD_E_DEVICE, CKR_TOKEN_NOT_PRESENT, "token "
		    "'%s': no longer present", hd_token_name(s));
		hd_err_hint(err, "reconnect the token, then try again");
	}
	return rc;
}

int
hd_token_info(struct hd_session *s, struct hd_token_info *ti,
    struct hd_err *err)
{
	if (hd_token_resolve(s, err) == -1)
		return -1;
	return hd_slot_info(s, s->slot, ti, err);
}

const char *
hd_token_label(const struct hd_session *s)
{
	return s->selected ? s->label : "";
}

int
hd_token_selected(const struct hd_session *s)
{
	return s != NULL && s->selected;
}

const char *
hd_token_name(const struct hd_session *s)
{
	if (s->selected_uninit || s->label[0] == '\0')
		return "(uninitialized)";
	return s->label;
}

/* The token's PIN state in plain words, for listings and the login screen. */
int
hd_token_state_words(const struct hd_token_info *ti, char *buf, size_t len)
{
	const char *w;

	if (!ti->initialized)
		w = "not initialized";
	else if (!ti->user_pin_set && ti->login_required)
		w = "user PIN not set";
	else if (ti->pin_locked)
		w = "PIN locked";
	else if (ti->pin_final_try)
		w = "final PIN try: one more wrong PIN locks it";
	else if (ti->pin_to_change)
		w = "PIN must be changed";
	else if (ti->pin_count_low)
		w = "PIN tries low";
	else
		w = "ready";
	return snprintf(buf, len, "%s", w) < 0 ? -1 : 0;
}
