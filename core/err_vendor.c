/*
 * Return values the PKCS#11 standard leaves to vendors (CKR_VENDOR_DEFINED
 * and up), and standard ones that mean something particular on a known
 * HSM.  Vendor values overlap between vendors, so each is said as "on
 * <vendor>"; the Luna values are those of Thales' cryptoki_v2.h.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct vendor_ckr {
	const char *vendor;
	unsigned long ckr;
	const char *name;
	enum hd_code code;
	const char *words;
	const char *hint;
} vckrs[] = {
	{ "Luna", CKR_VENDOR_DEFINED + 0x07, "CKR_USER_LOCKED_OUT",
	  HD_E_PIN_LOCKED, "the user is locked out after too many failed "
	  "logins", "the partition's security officer must unlock the user "
	  "(lunacm: role resetpw or partition resetpw); no login was retried" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x1a, "CKR_USER_NOT_AUTHORIZED",
	  HD_E_TOKEN, "the user is not authorized for this operation",
	  "the partition's policy or an M of N activation is needed: ask the "
	  "security officer to activate the partition" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x1f, "CKR_UNABLE_TO_CONNECT",
	  HD_E_DEVICE, "the client cannot reach the HSM",
	  "check the network link and the client's certificate registration "
	  "(vtl verify)" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x20, "CKR_PARTITION_DISABLED",
	  HD_E_TOKEN, "the partition is disabled",
	  "the HSM administrator must enable it" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x24, "CKR_TIMEOUT", HD_E_DEVICE,
	  "the HSM did not answer in time", "try again; check the HSM's "
	  "load and network" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x25, "CKR_ECC_UNKNOWN_CURVE",
	  HD_E_TOKEN, "the HSM does not know that curve",
	  "choose a P-256 or P-384 profile" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x2a, "CKR_HSM_STORAGE_FULL",
	  HD_E_TOKEN, "the HSM's storage is full", "delete unused keys" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x2d, "CKR_PED_CLIENT_NOT_RUNNING",
	  HD_E_DEVICE, "the PED client is not running",
	  "start pedclient for a PED-authenticated partition" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x2e, "CKR_PED_UNPLUGGED",
	  HD_E_DEVICE, "the PED is not connected",
	  "connect the PED and present the keys it asks for" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x30, "CKR_OPERATION_NOT_ALLOWED",
	  HD_E_TOKEN, "the partition's policy forbids the operation",
	  "ask the security officer which policy blocks it (partition "
	  "showpolicies)" },
	{ "Luna", CKR_VENDOR_DEFINED + 0x76, "CKR_HSM_TAMPERED", HD_E_DEVICE,
	  "the HSM reports it was tampered with",
	  "stop: the HSM administrator must investigate before any use" },
};

static const struct vendor_ckr *
vfind(unsigned long ckr)
{
	size_t i;

	for (i = 0; i < sizeof(vckrs) / sizeof(vckrs[0]); i++)
		if (vckrs[i].ckr == ckr)
			return &vckrs[i];
	return NULL;
}

/* "CKR_USER_LOCKED_OUT (Luna)" for a known vendor value, else NULL. */
const char *
hd_ckr_vendor_name(unsigned long ckr, char *buf, size_t len)
{
	const struct vendor_ckr *v = vfind(ckr);

	if (v == NULL)
		return NULL;
	snprintf(buf, len, "%s on %s", v->name, v->vendor);
	return buf;
}

/* Words, hint and code of a vendor value; 0 if known, -1 if not. */
int
hd_ckr_vendor(unsigned long ckr, char *words, size_t wlen, char *hint,
    size_t hlen, enum hd_code *code)
{
	const struct vendor_ckr *v = vfind(ckr);

	if (v == NULL) {
		if (ckr < CKR_VENDOR_DEFINED)
			return -1;
		snprintf(words, wlen, "the module returned vendor error "
		    "0x%08lx", ckr);
		snprintf(hint, hlen, "its meaning is in the HSM vendor's "
		    "documentation; on CloudHSM a vendor error often means a "
		    "quorum (M of N) approval is required or the crypto user "
		    "is locked: check cloudhsm-cli's user list and the "
		    "client log");
		*code = HD_E_TOKEN;
		return 0;
	}
	snprintf(words, wlen, "%s", v->words);
	snprintf(hint, hlen, "%s", v->hint);
	*code = v->code;
	return 0;
}

/*
 * A failure's hint for what it means on the vendor at hand, where the
 * standard value says less than the operator needs.  Called after
 * hd_err_ckr; leaves err alone on other tokens.
 */
void
hd_vendor_hint(struct hd_session *s, struct hd_err *err, unsigned long rv)
{
	if (!hd_vendor_cloudhsm(s))
		return;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE ||
	    rv == CKR_ARGUMENTS_BAD)
		hd_err_hint(err, "CloudHSM's PIN is the crypto user's name and "
		    "password as user:password (the TUI asks for both); it was "
		    "not retried, and repeated failures lock the user");
	else if (rv == CKR_PIN_LOCKED)
		hd_err_hint(err, "the crypto user is locked: an admin must "
		    "change its password (cloudhsm-cli user change-password)");
	else if (rv == CKR_USER_NOT_LOGGED_IN)
		hd_err_hint(err, "CloudHSM lists nothing before login: log in "
		    "first");
	else if (rv == CKR_TEMPLATE_INCONSISTENT ||
	    rv == CKR_ATTRIBUTE_TYPE_INVALID)
		hd_err_hint(err, "CloudHSM refuses attributes it does not "
		    "support even where PKCS#11 allows them (its 'Supported "
		    "attributes' table); nothing was created");
}
