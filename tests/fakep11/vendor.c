/*
 * fakep11's vendor modes, #included by fakep11.c (one translation unit,
 * one build command):
 *
 *   cloudhsm     a token that behaves as AWS CloudHSM's: PIN "user:password"
 *                (user $HSMDESK_FAKEP11_CU, default "cu"; the password is
 *                the real token's user PIN), no CKF_USER_PIN_INITIALIZED,
 *                read-only sessions refused, no search before login,
 *                certificate objects refused; model "CloudHSM-fake".
 *   attestation  each generated key pair gets a session certificate object
 *                with the pair's CKA_ID, labelled "Attestation for <label>",
 *                whose value is a fake attestation blob naming the key;
 *                the token no longer calls itself SoftHSM.
 *   login-ckr=N  C_Login returns N (decimal) without forwarding: vendor
 *                return values (Luna's CKR_USER_LOCKED_OUT is 2147483655).
 */

static void pad_copy(CK_UTF8CHAR *dst, size_t n, const char *src)
{
    size_t l = strlen(src);

    memset(dst, ' ', n);
    memcpy(dst, src, l < n ? l : n);
}

static void vendor_info(CK_INFO_PTR info)
{
    if (on(CLOUDHSM) || on(ATTESTATION))
        pad_copy(info->manufacturerID, 32, "fakep11");
    if (on(CLOUDHSM))
        pad_copy(info->libraryDescription, 32, "fakep11 CloudHSM mode");
    else if (on(ATTESTATION))
        pad_copy(info->libraryDescription, 32, "fakep11 attestation mode");
}

static void vendor_token_info(CK_TOKEN_INFO_PTR info)
{
    if (on(CLOUDHSM)) {
        info->flags &= ~(CK_FLAGS)CKF_USER_PIN_INITIALIZED;
        pad_copy(info->manufacturerID, 32, "fakep11");
        pad_copy(info->model, 16, "CloudHSM-fake");
    } else if (on(ATTESTATION)) {
        pad_copy(info->manufacturerID, 32, "fakep11");
        pad_copy(info->model, 16, "attesting");
    }
}

/* "user:password": check the user, leave *pin at the password. */
static CK_RV cloudhsm_pin(CK_UTF8CHAR_PTR *pin, CK_ULONG *len)
{
    const char *want = getenv("HSMDESK_FAKEP11_CU");
    CK_ULONG i;

    if (!want || !*want)
        want = "cu";
    if (!*pin)
        return CKR_ARGUMENTS_BAD;
    for (i = 0; i < *len && (*pin)[i] != ':'; i++)
        ;
    if (i == *len || i != strlen(want) || memcmp(*pin, want, i) != 0)
        return CKR_PIN_INCORRECT;
    *pin += i + 1;
    *len -= i + 1;
    return CKR_OK;
}

static int logged_in(CK_SESSION_HANDLE s)
{
    CK_SESSION_INFO si;

    return st.real.C_GetSessionInfo(s, &si) == CKR_OK &&
           si.state != CKS_RO_PUBLIC_SESSION && si.state != CKS_RW_PUBLIC_SESSION;
}

static CK_RV fk_OpenSession(CK_SLOT_ID slot, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n,
                            CK_SESSION_HANDLE_PTR s)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(CLOUDHSM) && !(f & CKF_RW_SESSION))
        return CKR_FUNCTION_NOT_SUPPORTED;   /* read-write sessions only */
    return st.real.C_OpenSession(slot, f, a, n, s);
}

static CK_RV fk_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG c)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(CLOUDHSM) && !logged_in(s))
        return CKR_USER_NOT_LOGGED_IN;
    return st.real.C_FindObjectsInit(s, t, c);
}

/* attestation: the last pair's private key and its attestation object,
 * so that a later change of the key's CKA_ID carries over. */
static CK_OBJECT_HANDLE att_key, att_obj;

static const CK_ATTRIBUTE *find_attr(CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; t && i < n; i++)
        if (t[i].type == type && t[i].pValue)
            return &t[i];
    return NULL;
}

static void attest_make(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR pub_t, CK_ULONG pub_n,
                        CK_OBJECT_HANDLE priv)
{
    const CK_ATTRIBUTE *id = find_attr(pub_t, pub_n, CKA_ID);
    const CK_ATTRIBUTE *lab = find_attr(pub_t, pub_n, CKA_LABEL);
    char label[160], blob[256];
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BBOOL no = CK_FALSE;
    CK_BYTE subject[] = { 0x30, 0x00 };
    int ll = lab ? (int)(lab->ulValueLen < 100 ? lab->ulValueLen : 100) : 0;
    CK_BYTE none = 0;

    snprintf(label, sizeof label, "Attestation for %.*s", ll,
             lab ? (const char *)lab->pValue : "");
    snprintf(blob, sizeof blob, "fakep11 fake attestation: key '%.*s' was generated "
             "on this token\n", ll, lab ? (const char *)lab->pValue : "");
    CK_ATTRIBUTE t[] = {
        { CKA_CLASS, &cls, sizeof cls }, { CKA_CERTIFICATE_TYPE, &ct, sizeof ct },
        { CKA_TOKEN, &no, sizeof no }, { CKA_PRIVATE, &no, sizeof no },
        { CKA_LABEL, label, (CK_ULONG)strlen(label) },
        { CKA_ID, id ? id->pValue : &none, id ? id->ulValueLen : 0 },
        { CKA_SUBJECT, subject, sizeof subject },
        { CKA_VALUE, blob, (CK_ULONG)strlen(blob) },
    };
    if (st.real.C_CreateObject(s, t, 8, &att_obj) != CKR_OK) {
        fprintf(stderr, "fakep11: attestation: cannot create the object\n");
        att_obj = CK_INVALID_HANDLE;
        return;
    }
    att_key = priv;
}

static void attest_follow_id(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                             CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    const CK_ATTRIBUTE *id = find_attr(t, n, CKA_ID);

    if (id && o == att_key && att_obj != CK_INVALID_HANDLE)
        (void)st.real.C_SetAttributeValue(s, att_obj, (CK_ATTRIBUTE_PTR)id, 1);
}
