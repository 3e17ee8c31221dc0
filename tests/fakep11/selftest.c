/*
 * selftest for fakep11.so: checks every fault against a throwaway SoftHSM2
 * token created in a temporary directory (removed again at the end).
 *
 *   cc -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -o selftest selftest.c \
 *      $(pkg-config --cflags p11-kit-1) -ldl
 *   ./selftest ./fakep11.so
 *
 * Prints "ok - ..." / "not ok - ..." per check; exits non-zero if any failed.
 * (Internally it re-executes itself as "selftest --global FAKEP11.so" to check
 * that fakep11 also works when loaded with RTLD_GLOBAL.)
 */
#define _XOPEN_SOURCE 700

#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define SO_PIN "12345678"
#define USER_PIN "1234"
#define LABEL "fake"
#define PIN_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | \
                   CKF_USER_PIN_LOCKED | CKF_USER_PIN_TO_BE_CHANGED)

static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static int checks, failures;
static const char *prefix = "";

__attribute__((format(printf, 2, 3)))
static int check(int cond, const char *fmt, ...)
{
    va_list ap;
    checks++;
    if (!cond)
        failures++;
    printf("%s%s", cond ? "ok - " : "not ok - ", prefix);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

static int check_rv(CK_RV got, CK_RV want, const char *what)
{
    if (got == want)
        return check(1, "%s -> 0x%lx", what, (unsigned long)want);
    return check(0, "%s -> 0x%lx, expected 0x%lx", what, (unsigned long)got, (unsigned long)want);
}

static int find_token(const char *label, CK_SLOT_ID *out);

/* C_Initialize with the given fault list (NULL: none).  SoftHSM2 may give the
 * token a new slot ID on every C_Initialize, so look it up again unless the
 * caller needs the exact number of calls made (device-removed-after). */
static CK_RV start_(const char *fault, int find)
{
    CK_RV rv;
    if (fault)
        setenv("HSMDESK_FAKEP11_FAULT", fault, 1);
    else
        unsetenv("HSMDESK_FAKEP11_FAULT");
    rv = f->C_Initialize(NULL);
    if (rv == CKR_OK && find && !find_token(LABEL, &slot))
        check(0, "token '" LABEL "' not found after C_Initialize");
    return rv;
}
#define start(fault) start_(fault, 1)

static void stop(void)
{
    CK_RV rv = f->C_Finalize(NULL);
    if (rv != CKR_OK)
        check(0, "C_Finalize -> 0x%lx", (unsigned long)rv);
}

static CK_FLAGS token_flags(void)
{
    CK_TOKEN_INFO info;
    CK_RV rv = f->C_GetTokenInfo(slot, &info);
    if (rv != CKR_OK) {
        check(0, "C_GetTokenInfo -> 0x%lx", (unsigned long)rv);
        return 0;
    }
    return info.flags;
}

static CK_SESSION_HANDLE open_rw(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        check(0, "C_OpenSession -> 0x%lx", (unsigned long)rv);
    return s;
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE who, const char *pin)
{
    return f->C_Login(s, who, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static CK_RV set_pin(CK_SESSION_HANDLE s, const char *old_pin, const char *new_pin)
{
    return f->C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, strlen(old_pin),
                       (CK_UTF8CHAR_PTR)new_pin, strlen(new_pin));
}

static void pad_label(CK_UTF8CHAR out[32], const char *label)
{
    memset(out, ' ', 32);
    memcpy(out, label, strlen(label));
}

/* SoftHSM2 renumbers a slot after C_InitToken, so look the token up by label. */
static int find_token(const char *label, CK_SLOT_ID *out)
{
    CK_SLOT_ID ids[32];
    CK_ULONG n = 32;
    CK_UTF8CHAR want[32];

    pad_label(want, label);
    if (f->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
        return 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (f->C_GetTokenInfo(ids[i], &ti) == CKR_OK &&
            (ti.flags & CKF_TOKEN_INITIALIZED) && memcmp(ti.label, want, 32) == 0) {
            *out = ids[i];
            return 1;
        }
    }
    return 0;
}

static void *load_fake(const char *path, int mode)
{
    CK_C_GetFunctionList get;
    void *h = dlopen(path, mode);
    if (!check(h != NULL, "dlopen %s", path)) {
        fprintf(stderr, "%s\n", dlerror());
        return NULL;
    }
    get = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
    if (!check(get && get(&f) == CKR_OK && f, "C_GetFunctionList returns a list")) {
        dlclose(h);
        return NULL;
    }
    return h;
}

/* ---- the checks ---------------------------------------------------------- */

static void test_exports(void *h)
{
    static const char *const names[] = {
        "C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList",
        "C_GetSlotInfo", "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo",
        "C_InitToken", "C_InitPIN", "C_SetPIN", "C_OpenSession", "C_CloseSession",
        "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState",
        "C_SetOperationState", "C_Login", "C_Logout", "C_CreateObject", "C_CopyObject",
        "C_DestroyObject", "C_GetObjectSize", "C_GetAttributeValue", "C_SetAttributeValue",
        "C_FindObjectsInit", "C_FindObjects", "C_FindObjectsFinal", "C_EncryptInit",
        "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit", "C_Decrypt",
        "C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate",
        "C_DigestKey", "C_DigestFinal", "C_SignInit", "C_Sign", "C_SignUpdate",
        "C_SignFinal", "C_SignRecoverInit", "C_SignRecover", "C_VerifyInit", "C_Verify",
        "C_VerifyUpdate", "C_VerifyFinal", "C_VerifyRecoverInit", "C_VerifyRecover",
        "C_DigestEncryptUpdate", "C_DecryptDigestUpdate", "C_SignEncryptUpdate",
        "C_DecryptVerifyUpdate", "C_GenerateKey", "C_GenerateKeyPair", "C_WrapKey",
        "C_UnwrapKey", "C_DeriveKey", "C_SeedRandom", "C_GenerateRandom",
        "C_GetFunctionStatus", "C_CancelFunction", "C_WaitForSlotEvent",
    };
    size_t n = sizeof names / sizeof names[0], found = 0;
    const unsigned char *entries = (const unsigned char *)&f->C_Initialize;
    size_t filled = 0;

    for (size_t i = 0; i < n; i++) {
        if (dlsym(h, names[i]))
            found++;
        else
            fprintf(stderr, "missing export %s\n", names[i]);
    }
    check(n == 68 && found == n, "all %zu PKCS#11 v2.40 C_* symbols are exported", found);
    for (size_t i = 0; i < 68; i++) {      /* the 68 pointers after .version */
        CK_C_Initialize fn;
        memcpy(&fn, entries + i * sizeof fn, sizeof fn);
        filled += fn != NULL;
    }
    check(filled == 68, "function list has all 68 entries filled");
    check(f->version.major == 2 && f->version.minor == 40, "function list version is 2.40 (%u.%u)",
          f->version.major, f->version.minor);
}

static int setup_token(void)
{
    CK_SLOT_ID ids[32];
    CK_ULONG n = 32;
    CK_UTF8CHAR label[32];
    CK_SESSION_HANDLE s;

    if (!check_rv(start_(NULL, 0), CKR_OK, "C_Initialize without faults"))
        return 0;
    pad_label(label, LABEL);
    if (!check_rv(f->C_GetSlotList(CK_FALSE, ids, &n), CKR_OK, "C_GetSlotList") || n == 0 ||
        !check_rv(f->C_InitToken(ids[0], (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
                  CKR_OK, "C_InitToken through the fake module") ||
        !check(find_token(LABEL, &slot), "token '" LABEL "' found by label (slot %lu)",
               (unsigned long)slot)) {
        stop();
        return 0;
    }
    s = open_rw();
    check_rv(login(s, CKU_SO, SO_PIN), CKR_OK, "SO login");
    check_rv(f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)), CKR_OK, "C_InitPIN");
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
    check_rv(start(NULL), CKR_OK, "C_Initialize again");
    check(1, "token '" LABEL "' is now slot %lu", (unsigned long)slot);
    check((token_flags() & PIN_FLAGS) == 0, "no fault: no PIN flags reported");
    s = open_rw();
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, "no fault: user login");
    f->C_Logout(s);
    f->C_CloseSession(s);
    check_rv(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED, "second C_Initialize");
    stop();
    return 1;
}

/* pin-count-low / pin-final-try: flags only, login forwarded. */
static void test_count_flags(const char *fault, CK_FLAGS want)
{
    CK_SESSION_HANDLE s;
    char what[128];

    check_rv(start(fault), CKR_OK, fault);
    check((token_flags() & PIN_FLAGS) == want, "%s: token flags 0x%lx", fault,
          (unsigned long)(token_flags() & PIN_FLAGS));
    s = open_rw();
    snprintf(what, sizeof what, "%s: wrong user PIN", fault);
    check_rv(login(s, CKU_USER, "9999"), CKR_PIN_INCORRECT, what);
    snprintf(what, sizeof what, "%s: right user PIN", fault);
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, what);
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
}

static void test_pin_locked(void *h)
{
    CK_C_GetTokenInfo exported = (CK_C_GetTokenInfo)dlsym(h, "C_GetTokenInfo");
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s;

    check_rv(start("pin-locked"), CKR_OK, "pin-locked");
    check((token_flags() & PIN_FLAGS) == CKF_USER_PIN_LOCKED, "pin-locked: CKF_USER_PIN_LOCKED set");
    check(exported && exported(slot, &ti) == CKR_OK && (ti.flags & CKF_USER_PIN_LOCKED),
          "pin-locked: exported C_GetTokenInfo symbol injects too");
    s = open_rw();
    check_rv(login(s, CKU_USER, USER_PIN), CKR_PIN_LOCKED, "pin-locked: right user PIN");
    check_rv(login(s, CKU_USER, "9999"), CKR_PIN_LOCKED, "pin-locked: wrong user PIN");
    check_rv(set_pin(s, USER_PIN, "4321"), CKR_PIN_LOCKED, "pin-locked: user C_SetPIN");
    check_rv(login(s, CKU_SO, SO_PIN), CKR_OK, "pin-locked: SO login still forwarded");
    check_rv(f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)), CKR_OK,
             "pin-locked: SO C_InitPIN");
    f->C_Logout(s);
    check((token_flags() & CKF_USER_PIN_LOCKED) == 0, "pin-locked: cleared after C_InitPIN");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, "pin-locked: user login after reset");
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
    check_rv(start("pin-locked"), CKR_OK, "pin-locked again");
    check((token_flags() & CKF_USER_PIN_LOCKED) != 0, "pin-locked: re-armed by a new C_Initialize");
    stop();
}

static void test_pin_expired(void)
{
    CK_SESSION_HANDLE s;
    CK_SESSION_INFO si;

    check_rv(start("pin-expired"), CKR_OK, "pin-expired");
    check((token_flags() & PIN_FLAGS) == CKF_USER_PIN_TO_BE_CHANGED,
          "pin-expired: CKF_USER_PIN_TO_BE_CHANGED set");
    s = open_rw();
    check_rv(login(s, CKU_USER, "9999"), CKR_PIN_INCORRECT, "pin-expired: wrong user PIN");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_PIN_EXPIRED, "pin-expired: right user PIN");
    check(f->C_GetSessionInfo(s, &si) == CKR_OK && si.state == CKS_RW_PUBLIC_SESSION,
          "pin-expired: session left logged out");
    check_rv(set_pin(s, USER_PIN, "4321"), CKR_OK, "pin-expired: C_SetPIN in public session");
    check((token_flags() & PIN_FLAGS) == 0, "pin-expired: cleared after C_SetPIN");
    check_rv(login(s, CKU_USER, "4321"), CKR_OK, "pin-expired: login with the new PIN");
    check_rv(set_pin(s, "4321", USER_PIN), CKR_OK, "pin-expired: PIN changed back");
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();

    check_rv(start("pin-expired"), CKR_OK, "pin-expired (SO reset)");
    s = open_rw();
    check_rv(login(s, CKU_SO, SO_PIN), CKR_OK, "pin-expired: SO login");
    check_rv(f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)), CKR_OK,
             "pin-expired: SO C_InitPIN");
    f->C_Logout(s);
    check((token_flags() & PIN_FLAGS) == 0, "pin-expired: cleared after C_InitPIN");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, "pin-expired: user login after reset");
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
}

static void test_device_removed(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_TOKEN_INFO ti;
    CK_SLOT_INFO si;
    CK_INFO info;
    CK_BYTE buf[16];
    CK_ULONG n;
    CK_RV rv;

    /* slot is the ID found by the last start(); these starts make no extra calls */
    check_rv(start_("device-removed-after=3", 0), CKR_OK, "device-removed-after=3");
    check_rv(f->C_GetTokenInfo(slot, &ti), CKR_OK, "removed-after=3: call 1 C_GetTokenInfo");
    check_rv(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK,
             "removed-after=3: call 2 C_OpenSession");
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_OK, "removed-after=3: call 3 C_GenerateRandom");
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_DEVICE_REMOVED,
             "removed-after=3: call 4 C_GenerateRandom");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_DEVICE_REMOVED, "removed: C_Login");
    check_rv(f->C_CloseSession(s), CKR_DEVICE_REMOVED, "removed: C_CloseSession");
    {
        CK_ATTRIBUTE a = { CKA_CLASS, buf, sizeof buf };
        check_rv(f->C_GetAttributeValue(s, 1, &a, 1), CKR_DEVICE_REMOVED,
                 "removed: C_GetAttributeValue");
        check_rv(f->C_CreateObject(s, &a, 1, &n), CKR_DEVICE_REMOVED, "removed: C_CreateObject");
        n = sizeof buf;
        check_rv(f->C_Sign(s, buf, 1, buf, &n), CKR_DEVICE_REMOVED, "removed: C_Sign");
    }
    check_rv(f->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT, "removed: C_GetTokenInfo");
    check(f->C_GetSlotInfo(slot, &si) == CKR_OK && !(si.flags & CKF_TOKEN_PRESENT),
          "removed: C_GetSlotInfo OK without CKF_TOKEN_PRESENT");
    n = 99;
    rv = f->C_GetSlotList(CK_TRUE, NULL, &n);
    check(rv == CKR_OK && n == 0, "removed: C_GetSlotList(TRUE) is empty (rv 0x%lx, %lu slots)",
          (unsigned long)rv, (unsigned long)n);
    n = 0;
    rv = f->C_GetSlotList(CK_FALSE, NULL, &n);
    check(rv == CKR_OK && n > 0, "removed: C_GetSlotList(FALSE) still lists %lu slot(s)",
          (unsigned long)n);
    check_rv(f->C_GetInfo(&info), CKR_OK, "removed: C_GetInfo");
    stop();

    check_rv(start(NULL), CKR_OK, "C_Initialize after removal");
    check_rv(f->C_GetTokenInfo(slot, &ti), CKR_OK, "C_Finalize reset the removal");
    stop();

    check_rv(start_("device-removed-after=0", 0), CKR_OK, "device-removed-after=0");
    check_rv(f->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT, "removed-after=0: first call");
    stop();
}

static void test_slow_login(void)
{
    struct timespec a, b;
    CK_SESSION_HANDLE s;
    long ms;

    check_rv(start(" pin-count-low , slow-login=300,"), CKR_OK, "fault list with blanks and empty item");
    check((token_flags() & PIN_FLAGS) == CKF_USER_PIN_COUNT_LOW, "combined: pin-count-low active");
    s = open_rw();
    clock_gettime(CLOCK_MONOTONIC, &a);
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, "slow-login=300: login");
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    check(ms >= 300, "slow-login=300: C_Login took %ld ms", ms);
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
}

/* ---- object faults ----------------------------------------------------------
 * Two token key pairs are made without faults ("fk-p256", "fk-p521": CKA_ID
 * and CKA_LABEL), each fault is then checked against them, and they are
 * deleted at the end. */

#define ID256 "fk-p256"
#define ID521 "fk-p521"
#define P256_POINT 65                       /* raw uncompressed point sizes */
#define P521_POINT 133

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE p521_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static CK_BYTE der256[2 + P256_POINT], der521[3 + P521_POINT];  /* CKA_EC_POINT without faults */
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static CK_SESSION_HANDLE user_session(const char *what)
{
    CK_SESSION_HANDLE s = open_rw();
    char msg[128];
    snprintf(msg, sizeof msg, "%s: user login", what);
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, msg);
    return s;
}

static void end_session(CK_SESSION_HANDLE s)
{
    f->C_Logout(s);
    f->C_CloseSession(s);
}

/* EC key pair with CKA_ID = CKA_LABEL = id, sensitive and not extractable. */
static CK_RV gen_ec(CK_SESSION_HANDLE s, const CK_BYTE *params, CK_ULONG params_len,
                    const char *id, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
    CK_ULONG n = strlen(id);
    CK_ATTRIBUTE pub_t[] = {
        { CKA_TOKEN, &yes, 1 }, { CKA_EC_PARAMS, (void *)params, params_len },
        { CKA_ID, (void *)id, n }, { CKA_LABEL, (void *)id, n }, { CKA_VERIFY, &yes, 1 },
    };
    CK_ATTRIBUTE priv_t[] = {
        { CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 }, { CKA_SENSITIVE, &yes, 1 },
        { CKA_EXTRACTABLE, &no, 1 }, { CKA_SIGN, &yes, 1 },
        { CKA_ID, (void *)id, n }, { CKA_LABEL, (void *)id, n },
    };
    *pub = *priv = 12345;                   /* must be overwritten */
    return f->C_GenerateKeyPair(s, &mech, pub_t, 5, priv_t, 7, pub, priv);
}

/* Objects whose attribute `type` (CKA_ID or CKA_LABEL) is `value`. */
static CK_ULONG find_by(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type, const char *value,
                        CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ATTRIBUTE t = { type, (void *)value, strlen(value) };
    CK_OBJECT_HANDLE dummy[8];
    CK_ULONG n = 0;

    if (!out) {
        out = dummy;
        max = 8;
    }
    if (f->C_FindObjectsInit(s, &t, 1) != CKR_OK)
        return 0;
    if (f->C_FindObjects(s, out, max, &n) != CKR_OK)
        n = 0;
    f->C_FindObjectsFinal(s);
    return n;
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, const char *id, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[] = { { CKA_ID, (void *)id, strlen(id) }, { CKA_CLASS, &cls, sizeof cls } };
    CK_OBJECT_HANDLE o[2];
    CK_ULONG n = 0;

    if (f->C_FindObjectsInit(s, t, 2) != CKR_OK)
        return CK_INVALID_HANDLE;
    if (f->C_FindObjects(s, o, 2, &n) != CKR_OK)
        n = 0;
    f->C_FindObjectsFinal(s);
    if (n != 1)
        check(0, "exactly one key '%s' of class %lu (found %lu)", id, (unsigned long)cls,
              (unsigned long)n);
    return n == 1 ? o[0] : CK_INVALID_HANDLE;
}

static CK_ULONG get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG v = (CK_ULONG)-1;
    CK_ATTRIBUTE a = { type, &v, sizeof v };
    f->C_GetAttributeValue(s, o, &a, 1);
    return v;
}

static CK_RV ecdsa_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_ULONG *sig_len)
{
    CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
    CK_BYTE hash[32] = { 1, 2, 3 }, sig[256];
    CK_RV rv = f->C_SignInit(s, &mech, key);

    *sig_len = sizeof sig;
    return rv != CKR_OK ? rv : f->C_Sign(s, hash, sizeof hash, sig, sig_len);
}

static CK_RV create_cert(CK_SESSION_HANDLE s, CK_BBOOL token, CK_OBJECT_HANDLE *o)
{
    static CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    static CK_CERTIFICATE_TYPE type = CKC_X_509;
    static CK_BYTE subject[] = { 0x30, 0x00 }, value[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    CK_ATTRIBUTE t[] = {
        { CKA_CLASS, &cls, sizeof cls }, { CKA_CERTIFICATE_TYPE, &type, sizeof type },
        { CKA_TOKEN, &token, 1 }, { CKA_LABEL, "fk-cert", 7 }, { CKA_ID, "fk-cert", 7 },
        { CKA_SUBJECT, subject, sizeof subject }, { CKA_VALUE, value, sizeof value },
    };
    return f->C_CreateObject(s, t, 7, o);
}

static void test_keys_make(void)
{
    CK_OBJECT_HANDLE pub, priv, pub521, priv521, cert;
    CK_BBOOL ex = 9, se = 9, ne = 9, as = 9;
    CK_ATTRIBUTE flags[] = {
        { CKA_EXTRACTABLE, &ex, 1 }, { CKA_SENSITIVE, &se, 1 },
        { CKA_NEVER_EXTRACTABLE, &ne, 1 }, { CKA_ALWAYS_SENSITIVE, &as, 1 },
    };
    CK_ATTRIBUTE pt = { CKA_EC_POINT, der256, sizeof der256 };
    CK_ATTRIBUTE label = { CKA_LABEL, ID256, strlen(ID256) };
    CK_SESSION_HANDLE s;
    CK_ULONG n;
    CK_RV rv;

    check_rv(start(NULL), CKR_OK, "objects: C_Initialize without faults");
    s = user_session("no fault");
    check_rv(gen_ec(s, p256_params, sizeof p256_params, ID256, &pub, &priv), CKR_OK,
             "no fault: C_GenerateKeyPair P-256 '" ID256 "'");
    check(find_by(s, CKA_ID, ID256, NULL, 0) == 2 && find_by(s, CKA_LABEL, ID256, NULL, 0) == 2,
          "no fault: the pair is found by CKA_ID and by CKA_LABEL");
    check_rv(gen_ec(s, p521_params, sizeof p521_params, ID521, &pub521, &priv521), CKR_OK,
             "no fault: C_GenerateKeyPair P-521 '" ID521 "'");
    rv = f->C_GetAttributeValue(s, priv, flags, 4);
    check(rv == CKR_OK && !ex && se && ne && as,
          "no fault: private key not extractable, sensitive, never extractable, always sensitive");
    rv = f->C_GetAttributeValue(s, pub, &pt, 1);
    check(rv == CKR_OK && pt.ulValueLen == sizeof der256 && der256[0] == 0x04 &&
          der256[1] == P256_POINT && der256[2] == 0x04,
          "no fault: P-256 CKA_EC_POINT is DER 04 41 04... (%lu bytes)", (unsigned long)pt.ulValueLen);
    pt.pValue = der521;
    pt.ulValueLen = sizeof der521;
    rv = f->C_GetAttributeValue(s, pub521, &pt, 1);
    check(rv == CKR_OK && pt.ulValueLen == sizeof der521 && der521[0] == 0x04 &&
          der521[1] == 0x81 && der521[2] == P521_POINT && der521[3] == 0x04,
          "no fault: P-521 CKA_EC_POINT is DER 04 81 85 04... (%lu bytes)", (unsigned long)pt.ulValueLen);
    check_rv(f->C_SetAttributeValue(s, pub, &label, 1), CKR_OK, "no fault: C_SetAttributeValue");
    rv = ecdsa_sign(s, priv, &n);
    check(rv == CKR_OK && n == 64, "no fault: ECDSA signature (rv 0x%lx, %lu bytes)",
          (unsigned long)rv, (unsigned long)n);
    check_rv(create_cert(s, CK_FALSE, &cert), CKR_OK, "no fault: C_CreateObject certificate");
    f->C_DestroyObject(s, cert);
    end_session(s);
    stop();
}

static void test_keys_delete(void)
{
    CK_OBJECT_HANDLE o[8];
    CK_SESSION_HANDLE s;
    CK_ULONG n, gone = 0;

    check_rv(start(NULL), CKR_OK, "objects: clean-up");
    s = user_session("clean-up");
    n = find_by(s, CKA_ID, ID256, o, 8);
    n += find_by(s, CKA_ID, ID521, o + n, 8 - n);
    for (CK_ULONG i = 0; i < n; i++)
        gone += f->C_DestroyObject(s, o[i]) == CKR_OK;
    check(n == 4 && gone == 4, "clean-up: deleted %lu of the 4 key objects", (unsigned long)gone);
    end_session(s);
    stop();
}

/* keygen-template-inconsistent / keygen-attribute-invalid */
static void test_keygen_refused(const char *fault, CK_RV want)
{
    CK_OBJECT_HANDLE pub, priv;
    CK_SESSION_HANDLE s;
    char what[128];

    check_rv(start(fault), CKR_OK, fault);
    s = user_session(fault);
    snprintf(what, sizeof what, "%s: C_GenerateKeyPair", fault);
    check_rv(gen_ec(s, p256_params, sizeof p256_params, "fk-refused", &pub, &priv), want, what);
    check(find_by(s, CKA_ID, "fk-refused", NULL, 0) == 0 &&
          find_by(s, CKA_LABEL, "fk-refused", NULL, 0) == 0, "%s: nothing was created", fault);
    end_session(s);
    stop();
}

static void test_keygen_half(void)
{
    CK_OBJECT_HANDLE pub, priv, o[4], o2[4];
    CK_SESSION_HANDLE s;
    CK_ULONG n;

    check_rv(start("keygen-half"), CKR_OK, "keygen-half");
    s = user_session("keygen-half");
    check_rv(gen_ec(s, p256_params, sizeof p256_params, "fk-half", &pub, &priv), CKR_DEVICE_ERROR,
             "keygen-half: C_GenerateKeyPair");
    check(pub == CK_INVALID_HANDLE && priv == CK_INVALID_HANDLE,
          "keygen-half: no handles returned");
    n = find_by(s, CKA_ID, "fk-half", o, 4);
    check(n == 1 && get_ulong(s, o[0], CKA_CLASS) == CKO_PUBLIC_KEY,
          "keygen-half: only the public key is left (%lu object(s) with the CKA_ID)", (unsigned long)n);
    check(find_by(s, CKA_LABEL, "fk-half", o2, 4) == 1 && n == 1 && o2[0] == o[0],
          "keygen-half: the same public key is found by CKA_LABEL");
    if (n == 1)
        check_rv(f->C_DestroyObject(s, o[0]), CKR_OK, "keygen-half: leftover public key deleted");
    check(find_by(s, CKA_ID, "fk-half", NULL, 0) == 0, "keygen-half: nothing left");
    end_session(s);
    stop();
}

static void test_key_extractable(void)
{
    CK_OBJECT_CLASS cls = 0;
    CK_KEY_TYPE kt = 0;
    CK_BBOOL ex = 9, se = 9, ne = 9, as = 9, sign = 9;
    CK_BYTE id[32], value[80];
    CK_ATTRIBUTE t[] = {
        { CKA_CLASS, &cls, sizeof cls }, { CKA_EXTRACTABLE, &ex, 1 }, { CKA_SENSITIVE, &se, 1 },
        { CKA_ID, id, sizeof id }, { CKA_NEVER_EXTRACTABLE, &ne, 1 },
        { CKA_ALWAYS_SENSITIVE, &as, 1 }, { CKA_SIGN, &sign, 1 }, { CKA_KEY_TYPE, &kt, sizeof kt },
    };
    CK_ATTRIBUTE q[8], v[] = { { CKA_EXTRACTABLE, &ex, 1 }, { CKA_VALUE, value, sizeof value },
                               { CKA_SENSITIVE, &se, 1 } };
    CK_MECHANISM aes_gen = { CKM_AES_KEY_GEN, NULL, 0 };
    CK_ULONG len32 = 32;
    CK_ATTRIBUTE aes_t[] = { { CKA_VALUE_LEN, &len32, sizeof len32 }, { CKA_SENSITIVE, &yes, 1 },
                             { CKA_EXTRACTABLE, &no, 1 } };
    CK_OBJECT_HANDLE priv, aes;
    CK_SESSION_HANDLE s;
    CK_ULONG i, ok;
    CK_RV rv;

    check_rv(start("key-extractable"), CKR_OK, "key-extractable");
    s = user_session("key-extractable");
    priv = find_key(s, ID256, CKO_PRIVATE_KEY);
    rv = f->C_GetAttributeValue(s, priv, t, 8);
    check(rv == CKR_OK && ex == CK_TRUE && se == CK_FALSE && ne == CK_FALSE && as == CK_FALSE,
          "key-extractable: private key reports extractable, not sensitive, "
          "not never-extractable, not always-sensitive (rv 0x%lx)", (unsigned long)rv);
    check(cls == CKO_PRIVATE_KEY && kt == CKK_EC && sign == CK_TRUE &&
          t[3].ulValueLen == strlen(ID256) && memcmp(id, ID256, strlen(ID256)) == 0,
          "key-extractable: the other attributes of the template are forwarded");
    memcpy(q, t, sizeof q);
    for (i = 0; i < 8; i++) {
        q[i].pValue = NULL;
        q[i].ulValueLen = 0;
    }
    rv = f->C_GetAttributeValue(s, priv, q, 8);
    for (i = ok = 0; i < 8; i++)
        ok += q[i].ulValueLen == t[i].ulValueLen;
    check(rv == CKR_OK && ok == 8, "key-extractable: length query of the template (%lu/8 right)",
          (unsigned long)ok);
    ex = se = 9;
    rv = f->C_GetAttributeValue(s, priv, v, 3);
    check(rv == CKR_ATTRIBUTE_SENSITIVE && v[1].ulValueLen == CK_UNAVAILABLE_INFORMATION &&
          ex == CK_TRUE && se == CK_FALSE,
          "key-extractable: with sensitive CKA_VALUE in the template -> 0x%lx, flags still faked",
          (unsigned long)rv);
    check_rv(f->C_GenerateKey(s, &aes_gen, aes_t, 3, &aes), CKR_OK,
             "key-extractable: AES session key generated");
    ex = se = 9;
    rv = f->C_GetAttributeValue(s, aes, v, 1);
    rv = rv == CKR_OK ? f->C_GetAttributeValue(s, aes, v + 2, 1) : rv;
    check(rv == CKR_OK && ex == CK_FALSE && se == CK_TRUE,
          "key-extractable: secret keys are left alone");
    f->C_DestroyObject(s, aes);
    end_session(s);
    stop();
}

static void test_setattr_unsupported(void)
{
    CK_ATTRIBUTE label = { CKA_LABEL, "renamed", 7 };
    CK_BYTE buf[32];
    CK_ATTRIBUTE got = { CKA_LABEL, buf, sizeof buf };
    CK_OBJECT_HANDLE pub;
    CK_SESSION_HANDLE s;

    check_rv(start("setattr-unsupported"), CKR_OK, "setattr-unsupported");
    s = user_session("setattr-unsupported");
    pub = find_key(s, ID256, CKO_PUBLIC_KEY);
    check_rv(f->C_SetAttributeValue(s, pub, &label, 1), CKR_FUNCTION_NOT_SUPPORTED,
             "setattr-unsupported: C_SetAttributeValue");
    check(f->C_GetAttributeValue(s, pub, &got, 1) == CKR_OK && got.ulValueLen == strlen(ID256) &&
          memcmp(buf, ID256, strlen(ID256)) == 0, "setattr-unsupported: label unchanged");
    end_session(s);
    stop();
}

static void test_ec_point_raw(void)
{
    CK_BYTE pt[200], id[32], params[32];
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE one = { CKA_EC_POINT, NULL, 0 };
    CK_ATTRIBUTE t[] = {
        { CKA_KEY_TYPE, &kt, sizeof kt }, { CKA_EC_POINT, pt, sizeof pt },
        { CKA_ID, id, sizeof id }, { CKA_EC_PARAMS, params, sizeof params },
    };
    CK_ATTRIBUTE q[4];
    CK_OBJECT_HANDLE pub, pub521, priv;
    CK_SESSION_HANDLE s;
    CK_RV rv;

    check_rv(start("ec-point-raw"), CKR_OK, "ec-point-raw");
    s = user_session("ec-point-raw");
    pub = find_key(s, ID256, CKO_PUBLIC_KEY);
    rv = f->C_GetAttributeValue(s, pub, &one, 1);
    check(rv == CKR_OK && one.ulValueLen == P256_POINT,
          "ec-point-raw: length query answers the raw length (%lu)", (unsigned long)one.ulValueLen);
    one.pValue = pt;                        /* exactly the raw length */
    rv = f->C_GetAttributeValue(s, pub, &one, 1);
    check(rv == CKR_OK && one.ulValueLen == P256_POINT && memcmp(pt, der256 + 2, P256_POINT) == 0,
          "ec-point-raw: P-256 point is 04 X Y without the DER header (rv 0x%lx)", (unsigned long)rv);

    memcpy(q, t, sizeof q);
    for (int i = 0; i < 4; i++)
        q[i].pValue = NULL;
    rv = f->C_GetAttributeValue(s, pub, q, 4);
    check(rv == CKR_OK && q[0].ulValueLen == sizeof kt && q[1].ulValueLen == P256_POINT &&
          q[2].ulValueLen == strlen(ID256) && q[3].ulValueLen == sizeof p256_params,
          "ec-point-raw: length query of a 4-attribute template (%lu %lu %lu %lu)",
          (unsigned long)q[0].ulValueLen, (unsigned long)q[1].ulValueLen,
          (unsigned long)q[2].ulValueLen, (unsigned long)q[3].ulValueLen);
    rv = f->C_GetAttributeValue(s, pub, t, 4);    /* point buffer larger than needed */
    check(rv == CKR_OK && kt == CKK_EC && t[1].ulValueLen == P256_POINT &&
          memcmp(pt, der256 + 2, P256_POINT) == 0 && t[2].ulValueLen == strlen(ID256) &&
          memcmp(id, ID256, strlen(ID256)) == 0 && t[3].ulValueLen == sizeof p256_params &&
          memcmp(params, p256_params, sizeof p256_params) == 0,
          "ec-point-raw: 4-attribute template, the others forwarded (rv 0x%lx)", (unsigned long)rv);
    t[1].ulValueLen = P256_POINT - 1;
    t[2].ulValueLen = sizeof id;
    memset(id, 0, sizeof id);
    rv = f->C_GetAttributeValue(s, pub, t, 4);
    check(rv == CKR_BUFFER_TOO_SMALL && t[1].ulValueLen == CK_UNAVAILABLE_INFORMATION &&
          t[2].ulValueLen == strlen(ID256) && memcmp(id, ID256, strlen(ID256)) == 0,
          "ec-point-raw: %d-byte buffer -> 0x%lx, point unavailable, CKA_ID still returned",
          P256_POINT - 1, (unsigned long)rv);

    pub521 = find_key(s, ID521, CKO_PUBLIC_KEY);
    one.pValue = NULL;
    rv = f->C_GetAttributeValue(s, pub521, &one, 1);
    check(rv == CKR_OK && one.ulValueLen == P521_POINT,
          "ec-point-raw: P-521 length query (%lu)", (unsigned long)one.ulValueLen);
    one.pValue = pt;
    rv = f->C_GetAttributeValue(s, pub521, &one, 1);
    check(rv == CKR_OK && one.ulValueLen == P521_POINT && memcmp(pt, der521 + 3, P521_POINT) == 0,
          "ec-point-raw: P-521 point without the long-form header 04 81 85");

    priv = find_key(s, ID256, CKO_PRIVATE_KEY);
    one.ulValueLen = sizeof pt;
    rv = f->C_GetAttributeValue(s, priv, &one, 1);
    check(rv == CKR_ATTRIBUTE_TYPE_INVALID && one.ulValueLen == CK_UNAVAILABLE_INFORMATION,
          "ec-point-raw: private key has no CKA_EC_POINT -> 0x%lx", (unsigned long)rv);
    end_session(s);
    stop();
}

/* A session-only RSA-1024 key: SoftHSM2 2.6 has no multi-part ECDSA
 * (no CKM_ECDSA_SHA256), so C_SignUpdate/C_SignFinal are tried with RSA. */
static CK_OBJECT_HANDLE gen_session_rsa(CK_SESSION_HANDLE s)
{
    CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
    CK_ULONG bits = 1024;
    CK_ATTRIBUTE pub_t[] = { { CKA_TOKEN, &no, 1 }, { CKA_MODULUS_BITS, &bits, sizeof bits },
                             { CKA_VERIFY, &yes, 1 } };
    CK_ATTRIBUTE priv_t[] = { { CKA_TOKEN, &no, 1 }, { CKA_SENSITIVE, &yes, 1 },
                              { CKA_SIGN, &yes, 1 } };
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;

    check_rv(f->C_GenerateKeyPair(s, &mech, pub_t, 3, priv_t, 3, &pub, &priv), CKR_OK,
             "sign-device-error: session RSA key");
    return priv;
}

static void test_sign_device_error(void)
{
    CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 }, rsa_sha = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    CK_BYTE data[32] = { 1, 2, 3 }, sig[256];
    CK_ULONG n = sizeof sig;
    CK_OBJECT_HANDLE priv, rsa;
    CK_SESSION_HANDLE s;

    check_rv(start("sign-device-error"), CKR_OK, "sign-device-error");
    s = user_session("sign-device-error");
    priv = find_key(s, ID256, CKO_PRIVATE_KEY);
    check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK, "sign-device-error: C_SignInit forwarded");
    check_rv(f->C_Sign(s, data, sizeof data, sig, &n), CKR_DEVICE_ERROR,
             "sign-device-error: C_Sign");
    check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK,
             "sign-device-error: the failed operation ended, C_SignInit again");
    check_rv(f->C_Sign(s, data, sizeof data, NULL, &n), CKR_DEVICE_ERROR,
             "sign-device-error: C_Sign length query");
    rsa = gen_session_rsa(s);
    check_rv(f->C_SignInit(s, &rsa_sha, rsa), CKR_OK,
             "sign-device-error: C_SignInit CKM_SHA256_RSA_PKCS");
    check_rv(f->C_SignUpdate(s, data, sizeof data), CKR_OK, "sign-device-error: C_SignUpdate forwarded");
    n = sizeof sig;
    check_rv(f->C_SignFinal(s, sig, &n), CKR_DEVICE_ERROR, "sign-device-error: C_SignFinal");
    check_rv(f->C_SignFinal(s, sig, &n), CKR_OPERATION_NOT_INITIALIZED,
             "sign-device-error: operation ended (C_SignFinal again)");
    check_rv(f->C_Sign(s, data, sizeof data, sig, &n), CKR_OPERATION_NOT_INITIALIZED,
             "sign-device-error: C_Sign without C_SignInit");
    end_session(s);
    stop();
}

/* sign-device-error-after=2: two signatures (length queries not counted),
 * then every C_Sign fails, its length query too; C_Initialize re-arms it. */
static void test_sign_device_error_after(void)
{
    CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
    CK_BYTE data[32] = { 4, 5, 6 }, sig[256];
    CK_ULONG n;
    CK_OBJECT_HANDLE priv;
    CK_SESSION_HANDLE s;
    const char *w[] = { "first", "second" };

    check_rv(start("sign-device-error-after=2"), CKR_OK, "sign-device-error-after=2");
    s = user_session("sign-device-error-after");
    priv = find_key(s, ID256, CKO_PRIVATE_KEY);
    for (int i = 0; i < 2; i++) {
        char what[96];
        snprintf(what, sizeof what, "sign-device-error-after=2: %s signature", w[i]);
        check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK, what);
        check_rv(f->C_Sign(s, data, sizeof data, NULL, &n), CKR_OK, what);
        n = sizeof sig;
        check_rv(f->C_Sign(s, data, sizeof data, sig, &n), CKR_OK, what);
    }
    check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK, "sign-device-error-after=2: C_SignInit");
    check_rv(f->C_Sign(s, data, sizeof data, NULL, &n), CKR_DEVICE_ERROR,
             "sign-device-error-after=2: third length query");
    check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK,
             "sign-device-error-after=2: the failed operation ended");
    n = sizeof sig;
    check_rv(f->C_Sign(s, data, sizeof data, sig, &n), CKR_DEVICE_ERROR,
             "sign-device-error-after=2: third signature");
    end_session(s);
    stop();
    check_rv(start("sign-device-error-after=0"), CKR_OK, "sign-device-error-after=0");
    s = user_session("sign-device-error-after=0");
    priv = find_key(s, ID256, CKO_PRIVATE_KEY);
    check_rv(f->C_SignInit(s, &ecdsa, priv), CKR_OK, "sign-device-error-after=0: C_SignInit");
    n = sizeof sig;
    check_rv(f->C_Sign(s, data, sizeof data, sig, &n), CKR_DEVICE_ERROR,
             "sign-device-error-after=0: the first signature fails");
    end_session(s);
    stop();
}

static int mech_listed(CK_MECHANISM_TYPE m)
{
    CK_MECHANISM_TYPE l[512];
    CK_ULONG n = 0, want = 0;

    if (f->C_GetMechanismList(slot, NULL, &want) != CKR_OK)
        return -1;
    n = sizeof l / sizeof l[0];
    if (f->C_GetMechanismList(slot, l, &n) != CKR_OK || n != want)
        return -1;
    for (CK_ULONG i = 0; i < n; i++)
        if (l[i] == m)
            return 1;
    return 0;
}

/* no-rsa-pss, no-raw-rsa: mechanisms gone from the list, the info and
 * C_SignInit; the others still there. */
static void test_mech_hidden(const char *fault, CK_MECHANISM_TYPE gone, CK_MECHANISM_TYPE kept)
{
    CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
    CK_MECHANISM m = { gone, NULL, 0 }, k = { kept, NULL, 0 };
    CK_MECHANISM_INFO mi;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE rsa;

    check_rv(start(fault), CKR_OK, fault);
    check(mech_listed(gone) == 0, "%s: 0x%lx not in C_GetMechanismList", fault,
          (unsigned long)gone);
    check(mech_listed(kept) == 1, "%s: 0x%lx still listed", fault, (unsigned long)kept);
    check_rv(f->C_GetMechanismInfo(slot, gone, &mi), CKR_MECHANISM_INVALID,
             "no-*: C_GetMechanismInfo of a hidden mechanism");
    if (kept == CKM_RSA_PKCS_PSS) {
        k.pParameter = &pss;
        k.ulParameterLen = sizeof pss;
    }
    s = user_session(fault);
    rsa = gen_session_rsa(s);
    check_rv(f->C_SignInit(s, &m, rsa), CKR_MECHANISM_INVALID, "no-*: C_SignInit refused");
    check_rv(f->C_SignInit(s, &k, rsa), CKR_OK, "no-*: C_SignInit of another forwarded");
    end_session(s);
    stop();
}

static void test_mech_faults(void)
{
    check_rv(start(NULL), CKR_OK, "no fault");
    check(mech_listed(CKM_RSA_PKCS_PSS) == 1 && mech_listed(CKM_RSA_X_509) == 1,
          "without faults SoftHSM2 lists CKM_RSA_PKCS_PSS and CKM_RSA_X_509");
    stop();
    test_mech_hidden("no-rsa-pss", CKM_RSA_PKCS_PSS, CKM_RSA_X_509);
    test_mech_hidden("no-raw-rsa", CKM_RSA_X_509, CKM_RSA_PKCS_PSS);
    test_mech_hidden("no-rsa-pss,no-raw-rsa", CKM_SHA256_RSA_PKCS_PSS, CKM_RSA_PKCS);
}

static void test_cert_refused(void)
{
    static CK_OBJECT_CLASS data_cls = CKO_DATA;
    CK_ATTRIBUTE data_t[] = { { CKA_CLASS, &data_cls, sizeof data_cls }, { CKA_TOKEN, &no, 1 },
                              { CKA_LABEL, "fk-data", 7 }, { CKA_VALUE, "x", 1 } };
    CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
    CK_SESSION_HANDLE s;

    check_rv(start("cert-refused"), CKR_OK, "cert-refused");
    s = user_session("cert-refused");
    check_rv(create_cert(s, CK_TRUE, &o), CKR_TEMPLATE_INCONSISTENT,
             "cert-refused: C_CreateObject certificate");
    check(find_by(s, CKA_LABEL, "fk-cert", NULL, 0) == 0, "cert-refused: no certificate stored");
    check_rv(f->C_CreateObject(s, data_t, 4, &o), CKR_OK,
             "cert-refused: C_CreateObject data object forwarded");
    f->C_DestroyObject(s, o);
    end_session(s);
    stop();
}

static void test_data_refused(void)
{
    static CK_OBJECT_CLASS data_cls = CKO_DATA;
    CK_ATTRIBUTE data_t[] = { { CKA_CLASS, &data_cls, sizeof data_cls }, { CKA_TOKEN, &no, 1 },
                              { CKA_LABEL, "fk-data", 7 }, { CKA_VALUE, "x", 1 } };
    CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
    CK_SESSION_HANDLE s;

    check_rv(start("data-refused"), CKR_OK, "data-refused");
    s = user_session("data-refused");
    check_rv(f->C_CreateObject(s, data_t, 4, &o), CKR_TEMPLATE_INCONSISTENT,
             "data-refused: C_CreateObject data object");
    check(find_by(s, CKA_LABEL, "fk-data", NULL, 0) == 0, "data-refused: no data object stored");
    check_rv(create_cert(s, CK_TRUE, &o), CKR_OK,
             "data-refused: C_CreateObject certificate forwarded");
    f->C_DestroyObject(s, o);
    end_session(s);
    stop();
}

/* Two faults on one C_GetAttributeValue. */
static void test_attr_faults_combined(void)
{
    CK_BYTE pt[P256_POINT];
    CK_BBOOL ex = 9;
    CK_ATTRIBUTE pub_t = { CKA_EC_POINT, pt, sizeof pt }, priv_t = { CKA_EXTRACTABLE, &ex, 1 };
    CK_SESSION_HANDLE s;
    CK_RV rv, rv2;

    check_rv(start("ec-point-raw,key-extractable"), CKR_OK, "ec-point-raw,key-extractable");
    s = user_session("combined");
    rv = f->C_GetAttributeValue(s, find_key(s, ID256, CKO_PUBLIC_KEY), &pub_t, 1);
    rv2 = f->C_GetAttributeValue(s, find_key(s, ID256, CKO_PRIVATE_KEY), &priv_t, 1);
    check(rv == CKR_OK && rv2 == CKR_OK && pub_t.ulValueLen == P256_POINT && ex == CK_TRUE,
          "combined: raw EC point and extractable private key");
    end_session(s);
    stop();
}

/* slow-keygen=MS: the key pair is made, after MS milliseconds. */
static void test_slow_keygen(void)
{
    struct timespec a, b;
    CK_OBJECT_HANDLE pub, priv, o[4];
    CK_SESSION_HANDLE s;
    CK_ULONG i, n;
    long ms;

    check_rv(start("slow-keygen=300"), CKR_OK, "slow-keygen=300");
    s = user_session("slow-keygen");
    clock_gettime(CLOCK_MONOTONIC, &a);
    check_rv(gen_ec(s, p256_params, sizeof p256_params, "fk-slow", &pub, &priv), CKR_OK,
             "slow-keygen=300: C_GenerateKeyPair");
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    check(ms >= 300, "slow-keygen=300: C_GenerateKeyPair took %ld ms", ms);
    n = find_by(s, CKA_ID, "fk-slow", o, 4);
    check(n == 2, "slow-keygen: the pair was made (%lu object(s))", (unsigned long)n);
    for (i = 0; i < n; i++)
        f->C_DestroyObject(s, o[i]);
    end_session(s);
    stop();
}


/* session-invalid-after=N: from call N+1 on, calls on a session fail with
 * CKR_SESSION_HANDLE_INVALID; calls without one still work. */
static void test_session_invalid(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE, s2 = CK_INVALID_HANDLE;
    CK_TOKEN_INFO ti;
    CK_BYTE buf[16];

    check_rv(start_("session-invalid-after=2", 0), CKR_OK, "session-invalid-after=2");
    check_rv(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK,
             "session-invalid-after=2: call 1 C_OpenSession");
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_OK,
             "session-invalid-after=2: call 2 C_GenerateRandom");
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_SESSION_HANDLE_INVALID,
             "session-invalid-after=2: call 3 C_GenerateRandom");
    check_rv(login(s, CKU_USER, USER_PIN), CKR_SESSION_HANDLE_INVALID,
             "session invalid: C_Login");
    check_rv(f->C_GetTokenInfo(slot, &ti), CKR_OK, "session invalid: C_GetTokenInfo works");
    check_rv(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s2), CKR_OK,
             "session invalid: C_OpenSession works");
    check_rv(f->C_GenerateRandom(s2, buf, sizeof buf), CKR_SESSION_HANDLE_INVALID,
             "session invalid: a new session is refused too");
    f->C_CloseAllSessions(slot);
    stop();
    check_rv(start(NULL), CKR_OK, "C_Initialize after session-invalid");
    s = open_rw();
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_OK, "C_Finalize reset the fault");
    f->C_CloseSession(s);
    stop();
}

/* slow-NAME=MS on any function, case-insensitive, with the mark file. */
static void test_slow_generic(const char *dir)
{
    struct timespec a, b;
    CK_SESSION_HANDLE s;
    CK_BYTE buf[8];
    char mark[4096];
    long ms;

    snprintf(mark, sizeof mark, "%s/mark", dir);
    setenv("HSMDESK_FAKEP11_MARK", mark, 1);
    check_rv(start("slow-GenerateRandom=300"), CKR_OK, "slow-GenerateRandom=300");
    s = open_rw();
    check(access(mark, F_OK) != 0, "slow-*: no mark before the slow call");
    clock_gettime(CLOCK_MONOTONIC, &a);
    check_rv(f->C_GenerateRandom(s, buf, sizeof buf), CKR_OK, "slow-GenerateRandom: forwarded");
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    check(ms >= 300, "slow-GenerateRandom=300: took %ld ms", ms);
    check(access(mark, F_OK) == 0, "slow-*: HSMDESK_FAKEP11_MARK created");
    clock_gettime(CLOCK_MONOTONIC, &a);
    f->C_CloseSession(s);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    check(ms < 300, "slow-GenerateRandom: other calls not slowed (%ld ms)", ms);
    stop();
    unsetenv("HSMDESK_FAKEP11_MARK");
    unlink(mark);
}

/* mech-list-empty: CKR_OK and no mechanisms at all. */
static void test_mech_list_empty(void)
{
    CK_MECHANISM_TYPE l[4];
    CK_ULONG n = 99;
    CK_RV rv;

    check_rv(start("mech-list-empty"), CKR_OK, "mech-list-empty");
    rv = f->C_GetMechanismList(slot, NULL, &n);
    check(rv == CKR_OK && n == 0, "mech-list-empty: size query OK, 0 (rv 0x%lx, %lu)",
          (unsigned long)rv, (unsigned long)n);
    n = 4;
    rv = f->C_GetMechanismList(slot, l, &n);
    check(rv == CKR_OK && n == 0, "mech-list-empty: list OK, 0 (rv 0x%lx, %lu)",
          (unsigned long)rv, (unsigned long)n);
    stop();
}

static void test_object_faults(void)
{
    test_keys_make();
    test_keygen_refused("keygen-template-inconsistent", CKR_TEMPLATE_INCONSISTENT);
    test_keygen_refused("keygen-attribute-invalid", CKR_ATTRIBUTE_VALUE_INVALID);
    test_keygen_half();
    test_slow_keygen();
    test_key_extractable();
    test_setattr_unsupported();
    test_ec_point_raw();
    test_sign_device_error();
    test_sign_device_error_after();
    test_cert_refused();
    test_data_refused();
    test_mech_faults();
    test_attr_faults_combined();
    test_keys_delete();
}

/* A bad fault list must fail C_Initialize and name the culprit on stderr. */
static void test_bad_fault(const char *dir, const char *fault, const char *culprit)
{
    char path[4096], line[512] = "";
    CK_INFO info;
    CK_RV rv;
    FILE *fp;
    int saved = dup(2), fd;

    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fflush(stderr);
    dup2(fd, 2);
    rv = start(fault);
    fflush(stderr);
    dup2(saved, 2);
    close(fd);
    close(saved);
    if ((fp = fopen(path, "r"))) {
        if (!fgets(line, sizeof line, fp))
            line[0] = '\0';
        fclose(fp);
    }
    line[strcspn(line, "\n")] = '\0';
    check(rv == CKR_ARGUMENTS_BAD && strstr(line, culprit),
          "bad fault \"%s\" -> 0x%lx, stderr: %s", fault, (unsigned long)rv, line);
    if (rv == CKR_OK)
        stop();
    check_rv(f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED, "  ...and the module is not initialized");
}

/* Child mode: fakep11 in the global symbol scope must not call itself. */
static int global_child(const char *fake)
{
    CK_SESSION_HANDLE s;
    void *h;

    prefix = "[RTLD_GLOBAL] ";
    alarm(60);          /* a self-interposition loop would deadlock: fail instead */
    if (!(h = load_fake(fake, RTLD_NOW | RTLD_GLOBAL)))
        return 1;
    check_rv(start("pin-count-low"), CKR_OK, "C_Initialize");
    check(find_token(LABEL, &slot), "token found");
    check((token_flags() & PIN_FLAGS) == CKF_USER_PIN_COUNT_LOW, "pin-count-low flag");
    s = open_rw();
    check_rv(login(s, CKU_USER, USER_PIN), CKR_OK, "user login");
    f->C_Logout(s);
    f->C_CloseSession(s);
    stop();
    test_object_faults();   /* the hand-written object functions reach SoftHSM2 too */
    dlclose(h);
    return failures ? 1 : 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb; (void)type; (void)ftw;
    return remove(path);
}

#include "selftest_vendor.c"

int main(int argc, char **argv)
{
    char dir[] = "/tmp/fakep11-selftest.XXXXXX";
    char path[4096];
    FILE *conf;
    void *h;
    pid_t pid;
    int status = 0;

    if (argc == 3 && strcmp(argv[1], "--global") == 0)
        return global_child(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/fakep11.so\n", argv[0]);
        return 2;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/tokens", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/softhsm2.conf", dir);
    if (!(conf = fopen(path, "w"))) {
        perror(path);
        return 1;
    }
    fprintf(conf, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
                  "log.level = ERROR\n", dir);
    fclose(conf);
    setenv("SOFTHSM2_CONF", path, 1);

    if (!(h = load_fake(argv[1], RTLD_NOW | RTLD_LOCAL)))
        goto out;
    test_exports(h);
    if (!setup_token()) {
        dlclose(h);
        goto out;
    }
    test_count_flags("pin-count-low", CKF_USER_PIN_COUNT_LOW);
    test_count_flags("pin-final-try", CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
    test_pin_locked(h);
    test_pin_expired();
    test_device_removed();
    test_slow_login();
    test_session_invalid();
    test_slow_generic(dir);
    test_mech_list_empty();
    test_object_faults();
    test_vendor_modes();
    test_bad_fault(dir, "bogus", "'bogus'");
    test_bad_fault(dir, "pin-count-low,pin-lockd", "'pin-lockd'");
    test_bad_fault(dir, "device-removed-after=x", "device-removed-after=x");
    test_bad_fault(dir, "device-removed-after", "device-removed-after");
    test_bad_fault(dir, "slow-login=-5", "slow-login=-5");
    test_bad_fault(dir, "pin-locked=1", "pin-locked=1");
    test_bad_fault(dir, "keygen-half=1", "keygen-half=1");
    test_bad_fault(dir, "slow-keygen", "slow-keygen");
    test_bad_fault(dir, "session-invalid-after", "session-invalid-after");
    test_bad_fault(dir, "slow-sign", "slow-sign");
    test_bad_fault(dir, "slow-sign=0", "slow-sign=0");
    test_bad_fault(dir, "slow-signn=5", "unknown fault 'slow-signn=5'");
    test_bad_fault(dir, "mech-list-empty=1", "mech-list-empty=1");
    dlclose(h);

    fflush(stdout);
    if ((pid = fork()) == 0) {
        execl("/proc/self/exe", argv[0], "--global", argv[1], (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "fakep11 loaded RTLD_GLOBAL still reaches SoftHSM2 (status 0x%x)", status);

out:
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("# %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
