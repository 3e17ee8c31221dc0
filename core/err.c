/*
 * The error model: a stable code, the PKCS#11 return value, OpenSSL's
 * error, a message naming the object and a hint saying what to do.
 * Codes and CKR values are each described in one table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <p11-kit/pkcs11.h>

#include "hsmdesk.h"

/* err_vendor.c */
const char *hd_ckr_vendor_name(unsigned long ckr, char *buf, size_t len);
int hd_ckr_vendor(unsigned long ckr, char *words, size_t wlen, char *hint,
    size_t hlen, enum hd_code *code);

static const struct {
	const char *name;
	int exit_status;	/* shared/CLI.md: 1 ran and failed, 2 bad input */
} codes[HD_E__COUNT] = {
	[HD_OK] = { "ok", 0 },
	[HD_E_USAGE] = { "usage", 2 },
	[HD_E_INPUT] = { "bad-input", 2 },
	[HD_E_CONFIG] = { "config", 2 },
	[HD_E_MODULE] = { "module", 2 },
	[HD_E_NO_TOKEN] = { "no-token", 2 },
	[HD_E_UNINIT] = { "uninitialized", 2 },
	[HD_E_PIN] = { "pin-incorrect", 1 },
	[HD_E_PIN_LOCKED] = { "pin-locked", 1 },
	[HD_E_PIN_EXPIRED] = { "pin-expired", 1 },
	[HD_E_PIN_POLICY] = { "pin-policy", 2 },
	[HD_E_NO_PIN] = { "no-pin", 2 },
	[HD_E_TOKEN] = { "token-refused", 1 },
	[HD_E_DEVICE] = { "device", 1 },
	[HD_E_IO] = { "io", 1 },
	[HD_E_NOMEM] = { "out-of-memory", 1 },
	[HD_E_CANCELLED] = { "cancelled", 130 },
	[HD_E_INTERNAL] = { "internal", 1 },
	[HD_E_BAD_SIG] = { "bad-signature", 1 },
	[HD_E_UNTRUSTED] = { "untrusted", 1 },
	[HD_E_TSA] = { "tsa", 1 },
};

/* Every CKR value an operator can meet, in plain words, with what to do. */
static const struct ckr_entry {
	unsigned long ckr;
	const char *name;
	enum hd_code code;
	const char *words;
	const char *hint;
} ckrs[] = {
	{ CKR_OK, "CKR_OK", HD_OK, "ok", "" },
	{ CKR_CANCEL, "CKR_CANCEL", HD_E_CANCELLED, "cancelled", "" },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY", HD_E_NOMEM,
	  "the PKCS#11 module ran out of memory", "" },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", HD_E_NO_TOKEN,
	  "the slot is gone", "list the tokens again with 'hsmdesk tokens'" },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", HD_E_DEVICE,
	  "the module reported a general error",
	  "check the HSM client's own log and connection" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", HD_E_TOKEN,
	  "the token could not carry out the operation",
	  "check the HSM client's own log" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", HD_E_INTERNAL,
	  "the module rejected the arguments", "" },
	{ CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY", HD_E_TOKEN,
	  "an attribute is read-only on this token", "" },
	{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", HD_E_TOKEN,
	  "the attribute is sensitive and cannot be read", "" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID",
	  HD_E_TOKEN, "the token does not know an attribute", "" },
	{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID",
	  HD_E_TOKEN, "the token refused an attribute value", "" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", HD_E_DEVICE,
	  "the device reported an error",
	  "check the HSM's connection and its own log, then try again" },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", HD_E_TOKEN,
	  "the token's memory is full", "delete unused objects" },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", HD_E_DEVICE,
	  "the token was removed",
	  "reconnect the token and start the operation again" },
	{ CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", HD_E_CANCELLED,
	  "the operation was cancelled", "" },
	{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED",
	  HD_E_TOKEN, "the module does not support this function",
	  "the token's documentation lists what it supports" },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", HD_E_TOKEN,
	  "the key is gone", "" },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", HD_E_TOKEN,
	  "the key type does not fit the mechanism", "" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", HD_E_TOKEN,
	  "the token does not support the mechanism",
	  "the token's documentation lists its mechanisms" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", HD_E_TOKEN,
	  "the object is gone", "" },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", HD_E_TOKEN,
	  "another operation is still active on the session", "" },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", HD_E_PIN,
	  "PIN incorrect",
	  "check the PIN; it was not retried, and repeated failures lock the "
	  "token" },
	{ CKR_PIN_INVALID, "CKR_PIN_INVALID", HD_E_PIN_POLICY,
	  "the PIN has characters the token does not accept", "" },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", HD_E_PIN_POLICY,
	  "PIN length out of range", "" },
	{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", HD_E_PIN_EXPIRED,
	  "the PIN has expired and must be changed",
	  "change it with 'hsmdesk change-pin'" },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED", HD_E_PIN_LOCKED,
	  "PIN locked",
	  "the security officer must reset it with 'hsmdesk reset-pin'" },
	{ CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", HD_E_DEVICE,
	  "the session was closed", "start the operation again" },
	{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT", HD_E_TOKEN,
	  "the token has too many open sessions",
	  "close other programs using the token" },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID",
	  HD_E_DEVICE, "the session is no longer valid",
	  "start the operation again" },
	{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", HD_E_TOKEN,
	  "the session is read-only", "" },
	{ CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS",
	  HD_E_TOKEN, "another program holds a read-only session",
	  "close other programs using the token" },
	{ CKR_SESSION_READ_WRITE_SO_EXISTS, "CKR_SESSION_READ_WRITE_SO_EXISTS",
	  HD_E_TOKEN, "a security officer session is open",
	  "close other programs using the token" },
	{ CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", HD_E_TOKEN,
	  "the signature is invalid", "" },
	{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", HD_E_TOKEN,
	  "the token needs an attribute that was not given", "" },
	{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", HD_E_TOKEN,
	  "the token refused the attribute template", "" },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", HD_E_DEVICE,
	  "the token is not present", "insert or reconnect the token" },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", HD_E_DEVICE,
	  "the token is not recognized", "" },
	{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", HD_E_TOKEN,
	  "the token is write-protected", "" },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", HD_E_TOKEN,
	  "a user is already logged in", "" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", HD_E_TOKEN,
	  "user not logged in", "log in first" },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED",
	  HD_E_UNINIT, "the user PIN has not been set",
	  "the security officer sets it with 'hsmdesk reset-pin'" },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", HD_E_INTERNAL,
	  "invalid user type", "" },
	{ CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	  "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", HD_E_TOKEN,
	  "another user is logged in to the token",
	  "close other programs using the token" },
	{ CKR_USER_TOO_MANY_TYPES, "CKR_USER_TOO_MANY_TYPES", HD_E_TOKEN,
	  "too many users are logged in", "" },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", HD_E_INTERNAL,
	  "buffer too small", "" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED",
	  HD_E_INTERNAL, "the module is not initialized", "" },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED,
	  "CKR_CRYPTOKI_ALREADY_INITIALIZED", HD_E_INTERNAL,
	  "the module is already initialized", "" },
	{ CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG", HD_E_TOKEN,
	  "the token has no random number generator", "" },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", HD_E_TOKEN,
	  "the data is too long for the key", "" },
	{ CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", HD_E_TOKEN,
	  "the token does not support that key size",
	  "the token's documentation lists the sizes it supports" },
	{ CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID", HD_E_TOKEN,
	  "the token does not support that curve", "" },
};

static const struct ckr_entry *
ckr_find(unsigned long ckr)
{
	size_t i;

	for (i = 0; i < sizeof(ckrs) / sizeof(ckrs[0]); i++)
		if (ckrs[i].ckr == ckr)
			return &ckrs[i];
	return NULL;
}

const char *
hd_ckr_name(unsigned long ckr)
{
	const struct ckr_entry *e = ckr_find(ckr);

	static char vname[80];	/* a message's lifetime; one thread names */

	if (e != NULL)
		return e->name;
	if (hd_ckr_vendor_name(ckr, vname, sizeof(vname)) != NULL)
		return vname;
	return ckr >= CKR_VENDOR_DEFINED ? "CKR_VENDOR_DEFINED" : "CKR_?";
}

const char *
hd_ckr_words(unsigned long ckr)
{
	const struct ckr_entry *e = ckr_find(ckr);

	return e != NULL ? e->words : "the module returned an unknown error";
}

const char *
hd_code_name(enum hd_code code)
{
	return (unsigned)code < HD_E__COUNT ? codes[code].name : "?";
}

int
hd_code_exit(enum hd_code code)
{
	return (unsigned)code < HD_E__COUNT ? codes[code].exit_status : 1;
}

void
hd_err_clear(struct hd_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

int
hd_err_set(struct hd_err *err, enum hd_code code, unsigned long ckr,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	hd_err_clear(err);
	err->code = code;
	err->ckr = ckr;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
hd_err_hint(struct hd_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

/*
 * Fill err from a PKCS#11 return value: "token 'x': PIN incorrect" and the
 * table's hint.  what may be NULL ("<object>: <words>"); otherwise it says
 * which step failed ("<object>: <what>: <words>").
 */
int
hd_err_ckr(struct hd_err *err, unsigned long ckr, const char *what,
    const char *object)
{
	const struct ckr_entry *e = ckr_find(ckr);
	enum hd_code code = e != NULL ? e->code : HD_E_TOKEN;
	char words[160], vhint[400] = "";

	if (e != NULL)
		snprintf(words, sizeof(words), "%s", e->words);
	else if (hd_ckr_vendor(ckr, words, sizeof(words), vhint,
	    sizeof(vhint), &code) == -1)
		snprintf(words, sizeof(words), "the module returned error "
		    "0x%08lx", ckr);
	if (what != NULL)
		hd_err_set(err, code, ckr, "%s: %s: %s", object, what, words);
	else
		hd_err_set(err, code, ckr, "%s: %s", object, words);
	if (e != NULL && e->hint[0] != '\0')
		hd_err_hint(err, "%s", e->hint);
	else if (vhint[0] != '\0')
		hd_err_hint(err, "%s", vhint);
	return -1;
}

/* Attach OpenSSL's queued error (the oldest is usually the cause). */
void
hd_err_ossl(struct hd_err *err)
{
	unsigned long e = ERR_get_error();

	if (err == NULL || e == 0)
		return;
	ERR_error_string_n(e, err->ossl, sizeof(err->ossl));
	ERR_clear_error();
}
