/*
 * Why an operation failed, when the token itself went away under it.
 * A session the token dropped (fail-over, removal, a restart) makes later
 * calls fail in ways the step that saw them cannot tell apart from its
 * own answers ("no such object", an attribute it could not read, a key
 * OpenSSL says does not match).  After a failure the front-end asks the
 * token once more about the session; if that fails too, the token's
 * answer is the message, not the step's guess.
 */
#include <stdio.h>

#include <p11-kit/pkcs11.h>

#include "internal.h"

/* The return values that mean "this session, or the token, is gone". */
static int
session_lost(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	    rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	    rv == CKR_DEVICE_ERROR || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

/* 1 (and err says why) if the token no longer knows s's session. */
int
hd_session_gone(struct hd_session *s, struct hd_err *err)
{
	CK_SESSION_INFO si;
	char obj[64];
	CK_RV rv;

	if (s == NULL || s->fl == NULL || s->sh == 0)
		return 0;
	rv = s->fl->C_GetSessionInfo(s->sh, &si);
	if (!session_lost(rv))
		return 0;
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	hd_err_ckr(err, rv, NULL, obj);
	return 1;
}

int
hd_session_explain(struct hd_session *s, struct hd_err *err)
{
	struct hd_err lost;

	if (err->code == HD_OK || err->code == HD_E_CANCELLED ||
	    !hd_session_gone(s, &lost) || err->ckr == lost.ckr)
		return 0;
	*err = lost;
	return 1;
}
