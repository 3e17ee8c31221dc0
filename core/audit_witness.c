/*
 * The witness: the latest checkpoint's line number and hash, kept on the
 * token in a private data object (CKO_DATA), so that cutting a log's
 * tail, checkpoint and all, still shows: the log no longer reaches the
 * witnessed line.  One object per log, labelled with the SHA-256 of the
 * log's first line (a moved or shared log keeps its witness).
 *
 * Raw PKCS#11 (C_CreateObject, C_SetAttributeValue): libp11 0.4.12 has
 * no calls for data objects.  Tokens that refuse data objects (some HSM
 * policies) get no witness, and audit verify says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

static int
find_witness(struct hd_session *s, const char *logid, CK_OBJECT_HANDLE *h,
    struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_APPLICATION, (void *)HD_AUDIT_WITNESS_APP,
		  sizeof(HD_AUDIT_WITNESS_APP) - 1 },
		{ CKA_LABEL, (void *)logid, (CK_ULONG)strlen(logid) },
	};
	CK_ULONG n;

	if (hd_find(s, t, 3, h, 1, &n, err) == -1)
		return -1;
	return n > 0;
}

static int
refused(struct hd_session *s, CK_RV rv, struct hd_err *err)
{
	/* a token that dropped the session refused nothing: say that */
	if (hd_session_gone(s, err))
		return -1;
	return hd_err_set(err, HD_E_TOKEN, rv, "token '%s' cannot hold the "
	    "audit witness (a private data object): %s", hd_token_name(s),
	    hd_ckr_name(rv));
}

int
hd_audit_witness_put(struct hd_session *s, const char *logid,
    uint64_t line, const char hash[65], struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	char val[128];
	CK_ATTRIBUTE v = { CKA_VALUE, val, 0 };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_MODIFIABLE, &yes, sizeof(yes) },
		{ CKA_APPLICATION, (void *)HD_AUDIT_WITNESS_APP,
		  sizeof(HD_AUDIT_WITNESS_APP) - 1 },
		{ CKA_LABEL, (void *)logid, (CK_ULONG)strlen(logid) },
		{ CKA_VALUE, val, 0 },
	};
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	int found;

	if (s == NULL || !s->logged_in || s->sh == 0)
		return hd_err_set(err, HD_E_TOKEN, 0, "no token session");
	v.ulValueLen = t[6].ulValueLen = (CK_ULONG)snprintf(val, sizeof(val),
	    "line %llu sha256 %s", (unsigned long long)line, hash);
	if ((found = find_witness(s, logid, &h, err)) == -1)
		return -1;
	if (found) {
		if (s->fl->C_SetAttributeValue(s->sh, h, &v, 1) == CKR_OK)
			return 0;
		/* a token that will not change CKA_VALUE: a new object */
		if ((rv = s->fl->C_DestroyObject(s->sh, h)) != CKR_OK)
			return refused(s, rv, err);
	}
	if ((rv = s->fl->C_CreateObject(s->sh, t, 7, &h)) != CKR_OK)
		return refused(s, rv, err);
	return 0;
}

/* 1 found (line, hash), 0 no witness for this log, -1 error. */
int
hd_audit_witness_get(struct hd_session *s, const char *logid,
    uint64_t *line, char hash[65], struct hd_err *err)
{
	CK_OBJECT_HANDLE h;
	char val[128];
	unsigned long long l;
	long n;
	int found;

	if ((found = find_witness(s, logid, &h, err)) != 1)
		return found;
	n = hd_attr_bytes(s, h, CKA_VALUE, val, sizeof(val) - 1);
	if (n <= 0)
		return hd_err_set(err, HD_E_TOKEN, 0, "token '%s': the audit "
		    "witness cannot be read", hd_token_name(s));
	val[n] = '\0';
	if (sscanf(val, "line %llu sha256 %64[0-9a-f]", &l, hash) != 2 ||
	    strlen(hash) != 64)
		return hd_err_set(err, HD_E_TOKEN, 0, "token '%s': the audit "
		    "witness holds '%s', not a line and a hash",
		    hd_token_name(s), val);
	*line = l;
	return 1;
}
