/*
 * What core files share and front-ends never see: the session and the
 * raw PKCS#11 helpers.
 */
#ifndef HD_INTERNAL_H
#define HD_INTERNAL_H

#include <p11-kit/pkcs11.h>

#include "hsmdesk.h"

struct PKCS11_ctx_st;

struct hd_session {
	char module[4096];
	void *dl;			/* our dlopen() handle of the module */
	CK_FUNCTION_LIST_PTR fl;	/* shared with libp11's instance */
	struct PKCS11_ctx_st *p11;	/* libp11 context on the same module */

	/* The selected token, found again by serial and label before every
	 * operation: slot IDs change when tokens come and go. */
	int selected;
	int selected_uninit;		/* chosen for init-token only */
	char label[33];
	char serial[17];
	CK_SLOT_ID slot;

	CK_SESSION_HANDLE sh;		/* 0 when no session is open */
	int logged_in;
};

/* token.c */
int hd_token_resolve(struct hd_session *s, struct hd_err *err);
void hd_fill_info(struct hd_token_info *ti, CK_SLOT_ID slot,
    const CK_SLOT_INFO *si, const CK_TOKEN_INFO *t);
int hd_slot_info(struct hd_session *s, CK_SLOT_ID slot,
    struct hd_token_info *ti, struct hd_err *err);
const char *hd_token_name(const struct hd_session *s);

/* login.c */
int hd_session_open(struct hd_session *s, struct hd_err *err);
void hd_session_close(struct hd_session *s);

/* uri.c: RFC 7512 token matching */
int hd_uri_match(const char *uri, const struct hd_token_info *ti,
    struct hd_err *err);

/* Copy a blank-padded PKCS#11 string into a C string, trimming blanks. */
void hd_padded_copy(char *dst, size_t dstlen, const unsigned char *src,
    size_t srclen);

#endif
