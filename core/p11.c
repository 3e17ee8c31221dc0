/*
 * Small raw PKCS#11 helpers the core files share: attribute reads and
 * object searches.  Raw because libp11 0.4.12 exposes neither.
 */
#include <stdio.h>

#include "internal.h"

enum hd_tri
hd_attr_bool(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof(v))
		return HD_UNKNOWN;
	return v ? HD_YES : HD_NO;
}

/*
 * Several CK_BBOOL attributes in one call: every call costs a token a
 * lookup (SoftHSM2 locks and checks the object's file), and key listings
 * and the read-back after key generation ask for six.  PKCS#11 §5.7 lets
 * one attribute fail (CKR_ATTRIBUTE_SENSITIVE / _TYPE_INVALID) while the
 * others are filled; any other answer, and tokens that fill nothing then,
 * get one call per attribute.
 */
void
hd_attr_bools(struct hd_session *s, CK_OBJECT_HANDLE h,
    const CK_ATTRIBUTE_TYPE *types, enum hd_tri *out, size_t n)
{
	CK_BBOOL v[16];
	CK_ATTRIBUTE a[16];
	size_t i;
	CK_RV rv;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++)
		a[i] = (CK_ATTRIBUTE){ types[i], &v[i], sizeof(v[i]) };
	rv = s->fl->C_GetAttributeValue(s->sh, h, a, (CK_ULONG)n);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE &&
	    rv != CKR_ATTRIBUTE_TYPE_INVALID) {
		for (i = 0; i < n; i++)
			out[i] = hd_attr_bool(s, h, types[i]);
		return;
	}
	for (i = 0; i < n; i++)
		out[i] = a[i].ulValueLen != sizeof(v[i]) ? HD_UNKNOWN :
		    v[i] ? HD_YES : HD_NO;
}

/* Read a variable-length attribute; returns its length, or -1. */
long
hd_attr_bytes(struct hd_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    void *buf, size_t len)
{
	CK_ATTRIBUTE a = { type, buf, (CK_ULONG)len };

	if (s->fl->C_GetAttributeValue(s->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > len)
		return -1;
	return (long)a.ulValueLen;
}

int
hd_find(struct hd_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n, struct hd_err *err)
{
	char obj[64];
	CK_RV rv;

	*n = 0;
	snprintf(obj, sizeof(obj), "token '%s'", hd_token_name(s));
	if ((rv = s->fl->C_FindObjectsInit(s->sh, tmpl, ntmpl)) != CKR_OK) {
		hd_err_ckr(err, rv, "listing objects", obj);
		hd_vendor_hint(s, err, rv);
		return -1;
	}
	rv = s->fl->C_FindObjects(s->sh, out, max, n);
	(void)s->fl->C_FindObjectsFinal(s->sh);
	if (rv != CKR_OK)
		return hd_err_ckr(err, rv, "listing objects", obj);
	return 0;
}

int
hd_find_class(struct hd_session *s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out,
    CK_ULONG max, CK_ULONG *n, struct hd_err *err)
{
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };

	return hd_find(s, &t, 1, out, max, n, err);
}

/* The one object of class cls with this CKA_ID; 1 found, 0 none, -1 error. */
int
hd_find_by_id(struct hd_session *s, CK_OBJECT_CLASS cls,
    const unsigned char *id, size_t idlen, CK_OBJECT_HANDLE *out,
    struct hd_err *err)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, (CK_ULONG)idlen },
	};
	CK_ULONG n;

	if (hd_find(s, t, 2, out, 1, &n, err) == -1)
		return -1;
	return n > 0;
}
