/*
 * Self-test of fakep11's vendor modes (vendor.c), #included by selftest.c:
 * cloudhsm, attestation's self-description, login-ckr.
 */

static void test_cloudhsm(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
    CK_TOKEN_INFO info;
    CK_ATTRIBUTE t = { CKA_LABEL, "x", 1 };

    check_rv(start("cloudhsm"), CKR_OK, "cloudhsm");
    check_rv(f->C_GetTokenInfo(slot, &info), CKR_OK, "cloudhsm: C_GetTokenInfo");
    check(!(info.flags & CKF_USER_PIN_INITIALIZED),
          "cloudhsm: CKF_USER_PIN_INITIALIZED cleared");
    check(memcmp(info.model, "CloudHSM-fake   ", 16) == 0, "cloudhsm: model CloudHSM-fake");
    check_rv(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s),
             CKR_FUNCTION_NOT_SUPPORTED, "cloudhsm: read-only session refused");
    s = open_rw();
    check_rv(f->C_FindObjectsInit(s, &t, 1), CKR_USER_NOT_LOGGED_IN,
             "cloudhsm: C_FindObjectsInit before login");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_PIN_INCORRECT,
             "cloudhsm: the bare password is refused");
    check_rv(login(s, CKU_USER, "admin:" USER_PIN), CKR_PIN_INCORRECT,
             "cloudhsm: another crypto user is refused");
    check_rv(login(s, CKU_USER, "cu:" USER_PIN), CKR_OK, "cloudhsm: cu:password logs in");
    check_rv(f->C_FindObjectsInit(s, &t, 1), CKR_OK, "cloudhsm: C_FindObjectsInit after login");
    f->C_FindObjectsFinal(s);
    check_rv(create_cert(s, CK_FALSE, &o), CKR_TEMPLATE_INCONSISTENT,
             "cloudhsm: certificate object refused");
    end_session(s);
    stop();
}

static void test_login_ckr(void)
{
    CK_SESSION_HANDLE s;
    CK_TOKEN_INFO info;

    check_rv(start("login-ckr=2147483655"), CKR_OK, "login-ckr");
    s = open_rw();
    check_rv(login(s, CKU_USER, USER_PIN), 0x80000007UL, "login-ckr: C_Login returns N");
    f->C_CloseSession(s);
    stop();
    check_rv(start("attestation"), CKR_OK, "attestation");
    check_rv(f->C_GetTokenInfo(slot, &info), CKR_OK, "attestation: C_GetTokenInfo");
    check(memcmp(info.manufacturerID, "fakep11 ", 8) == 0,
          "attestation: the token no longer says SoftHSM");
    stop();
}

static void test_vendor_modes(void)
{
    test_cloudhsm();
    test_login_ckr();
}
