/*
 * fakep11 - a fault-injecting PKCS#11 v2.40 shim for hsmdesk's tests.
 *
 * Why this exists: SoftHSM2 never reports a low/final-try/locked/expired
 * user PIN and its token can never be pulled out, so hsmdesk's handling of
 * those states could not be tested against it.  This module forwards EVERY
 * PKCS#11 call to a real module (SoftHSM2 by default) and, depending on
 * HSMDESK_FAKEP11_FAULT, lies about the token state on the way back.
 * See README.md next to this file for the fault syntax.
 *
 *   HSMDESK_FAKEP11_MODULE  real module (default /usr/lib/softhsm/libsofthsm2.so)
 *   HSMDESK_FAKEP11_FAULT   comma-separated fault list, read at C_Initialize
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -fPIC -shared \
 *           -o fakep11.so fakep11.c $(pkg-config --cflags p11-kit-1) -ldl
 *
 * This is a test tool: it writes diagnostics to stderr and keeps its state in
 * static variables.  Faults apply to all slots.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define EXPORT __attribute__((visibility("default")))

/* ---- faults ------------------------------------------------------------ */

enum fault {
    PIN_COUNT_LOW, PIN_FINAL_TRY, PIN_LOCKED, PIN_EXPIRED,
    DEVICE_REMOVED_AFTER, SLOW_LOGIN,
    KEYGEN_TEMPLATE_INCONSISTENT, KEYGEN_ATTRIBUTE_INVALID, KEYGEN_HALF,
    KEY_EXTRACTABLE, SETATTR_UNSUPPORTED, EC_POINT_RAW, SIGN_DEVICE_ERROR,
    CERT_REFUSED, SLOW_KEYGEN, NO_RSA_PSS, NO_RAW_RSA, DATA_REFUSED,
    SESSION_INVALID_AFTER, MECH_LIST_EMPTY, SIGN_DEVICE_ERROR_AFTER,
    CLOUDHSM, ATTESTATION, LOGIN_CKR,   /* vendor modes: vendor.c */
    N_FAULTS
};

static const struct {
    const char *name;
    int takes_value;            /* "name=N" (1) or plain "name" (0) */
} fault_names[N_FAULTS] = {
    [PIN_COUNT_LOW]        = { "pin-count-low", 0 },
    [PIN_FINAL_TRY]        = { "pin-final-try", 0 },
    [PIN_LOCKED]           = { "pin-locked", 0 },
    [PIN_EXPIRED]          = { "pin-expired", 0 },
    [DEVICE_REMOVED_AFTER] = { "device-removed-after", 1 },
    [SLOW_LOGIN]           = { "slow-login", 1 },
    [KEYGEN_TEMPLATE_INCONSISTENT] = { "keygen-template-inconsistent", 0 },
    [KEYGEN_ATTRIBUTE_INVALID]     = { "keygen-attribute-invalid", 0 },
    [KEYGEN_HALF]          = { "keygen-half", 0 },
    [KEY_EXTRACTABLE]      = { "key-extractable", 0 },
    [SETATTR_UNSUPPORTED]  = { "setattr-unsupported", 0 },
    [EC_POINT_RAW]         = { "ec-point-raw", 0 },
    [SIGN_DEVICE_ERROR]    = { "sign-device-error", 0 },
    [CERT_REFUSED]         = { "cert-refused", 0 },
    [SLOW_KEYGEN]          = { "slow-keygen", 1 },
    [NO_RSA_PSS]           = { "no-rsa-pss", 0 },
    [NO_RAW_RSA]           = { "no-raw-rsa", 0 },
    [DATA_REFUSED]         = { "data-refused", 0 },
    [CLOUDHSM]             = { "cloudhsm", 0 },
    [ATTESTATION]          = { "attestation", 0 },
    [LOGIN_CKR]            = { "login-ckr", 1 },
    [SESSION_INVALID_AFTER] = { "session-invalid-after", 1 },
    [MECH_LIST_EMPTY]      = { "mech-list-empty", 0 },
    [SIGN_DEVICE_ERROR_AFTER] = { "sign-device-error-after", 1 },
};

#define MAX_FUNCS 72                 /* >= the 68 PKCS#11 v2.40 functions */

struct config {
    unsigned active;                 /* bit (1u << fault) per active fault */
    unsigned long arg[N_FAULTS];     /* the N of "name=N" */
    unsigned long slow_ms[MAX_FUNCS]; /* slow-NAME=MS, by function (generic.c part) */
};

static int parse_slow(const char *item, const char *value, struct config *cfg);

static struct {
    pthread_mutex_t lock;            /* guards load/unload/init/finalize */
    void *handle;                    /* dlopen handle of the real module */
    CK_FUNCTION_LIST real;           /* copy of the real module's list */
    int loaded;
    int initialized;                 /* fake is between C_Initialize/C_Finalize */
    struct config cfg;
    unsigned long calls;             /* counted calls since C_Initialize */
    unsigned long gcalls;            /* the same, for session-invalid-after */
    unsigned long signs;             /* for sign-device-error-after */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int on(enum fault f)
{
    return (__atomic_load_n(&st.cfg.active, __ATOMIC_SEQ_CST) >> f) & 1u;
}

static void clear_fault(enum fault f)
{
    __atomic_and_fetch(&st.cfg.active, ~(1u << f), __ATOMIC_SEQ_CST);
}

static int parse_number(const char *s, unsigned long *out)
{
    char *end;
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return (errno != 0 || *end != '\0') ? -1 : 0;
}

static CK_RV parse_one(char *item, struct config *cfg)
{
    char *value = strchr(item, '=');
    if (value)
        *value++ = '\0';
    for (int f = 0; f < N_FAULTS; f++) {
        if (strcmp(item, fault_names[f].name) != 0)
            continue;
        if (fault_names[f].takes_value != (value != NULL) ||
            (value && parse_number(value, &cfg->arg[f]) != 0)) {
            fprintf(stderr, "fakep11: bad fault '%s%s%s' in HSMDESK_FAKEP11_FAULT "
                    "(expected '%s%s')\n", item, value ? "=" : "", value ? value : "",
                    fault_names[f].name, fault_names[f].takes_value ? "=N" : "");
            return CKR_ARGUMENTS_BAD;
        }
        cfg->active |= 1u << f;
        return CKR_OK;
    }
    if (strncmp(item, "slow-", 5) == 0) {
        int r = parse_slow(item + 5, value, cfg);
        if (r != -1)
            return r == 0 ? CKR_OK : CKR_ARGUMENTS_BAD;
    }
    fprintf(stderr, "fakep11: unknown fault '%s%s%s' in HSMDESK_FAKEP11_FAULT\n", item,
            value ? "=" : "", value ? value : "");
    return CKR_ARGUMENTS_BAD;
}

/* Comma-separated list; blanks around items and empty items are ignored. */
static CK_RV parse_faults(const char *spec, struct config *cfg)
{
    CK_RV rv = CKR_OK;
    char *copy, *save = NULL;

    memset(cfg, 0, sizeof *cfg);
    if (!spec)
        return CKR_OK;
    if (!(copy = strdup(spec)))
        return CKR_HOST_MEMORY;
    for (char *tok = strtok_r(copy, ",", &save); tok && rv == CKR_OK;
         tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        size_t n = strlen(tok);
        while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        if (n > 0)
            rv = parse_one(tok, cfg);
    }
    free(copy);
    return rv;
}

/* ---- the PKCS#11 v2.40 function table (X-macros) ---------------------- */

/* Shorthands for the common (session, buffer in, buffer out) shapes. */
#define ARG_S CK_SESSION_HANDLE s
#define SIG_MECH_KEY (ARG_S, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k)
#define SIG_IN_OUT (ARG_S, CK_BYTE_PTR i, CK_ULONG il, CK_BYTE_PTR o, CK_ULONG_PTR ol), (s, i, il, o, ol)
#define SIG_IN (ARG_S, CK_BYTE_PTR i, CK_ULONG il), (s, i, il)
#define SIG_OUT (ARG_S, CK_BYTE_PTR o, CK_ULONG_PTR ol), (s, o, ol)
#define SIG_SESSION (ARG_S), (s)
#define SIG_TEMPLATE (ARG_S, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG c), (s, o, t, c)

/* X(name without "C_", parameter list, argument list).  SPECIAL_FUNCS have
 * hand-written fk_* functions (fault behaviour); FORWARDED_FUNCS get generated
 * ones that only count the call and forward it. */
#define SPECIAL_FUNCS(X) \
    X(Initialize, (CK_VOID_PTR a), (a)) \
    X(Finalize, (CK_VOID_PTR r), (r)) \
    X(GetInfo, (CK_INFO_PTR i), (i)) \
    X(OpenSession, (CK_SLOT_ID sl, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n, \
                    CK_SESSION_HANDLE_PTR s), (sl, f, a, n, s)) \
    X(FindObjectsInit, (ARG_S, CK_ATTRIBUTE_PTR t, CK_ULONG c), (s, t, c)) \
    X(GetFunctionList, (CK_FUNCTION_LIST_PTR_PTR l), (l)) \
    X(GetSlotList, (CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR c), (p, l, c)) \
    X(GetSlotInfo, (CK_SLOT_ID s, CK_SLOT_INFO_PTR i), (s, i)) \
    X(GetTokenInfo, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), (s, i)) \
    X(InitPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR p, CK_ULONG l), (s, p, l)) \
    X(SetPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR o, CK_ULONG ol, CK_UTF8CHAR_PTR n, \
               CK_ULONG nl), (s, o, ol, n, nl)) \
    X(Login, (CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l), (s, u, p, l)) \
    X(CreateObject, (ARG_S, CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR o), (s, t, c, o)) \
    X(GetAttributeValue, SIG_TEMPLATE) \
    X(SetAttributeValue, SIG_TEMPLATE) \
    X(Sign, SIG_IN_OUT) X(SignFinal, SIG_OUT) \
    X(GetMechanismList, (CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR c), (s, l, c)) \
    X(GetMechanismInfo, (CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i), (s, t, i)) \
    X(SignInit, SIG_MECH_KEY) \
    X(GenerateKeyPair, (ARG_S, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pc, \
                        CK_ATTRIBUTE_PTR vt, CK_ULONG vc, CK_OBJECT_HANDLE_PTR pk, \
                        CK_OBJECT_HANDLE_PTR vk), (s, m, pt, pc, vt, vc, pk, vk))

#define FORWARDED_FUNCS(X) \
    X(WaitForSlotEvent, (CK_FLAGS f, CK_SLOT_ID_PTR s, CK_VOID_PTR r), (f, s, r)) \
    X(InitToken, (CK_SLOT_ID s, CK_UTF8CHAR_PTR p, CK_ULONG l, CK_UTF8CHAR_PTR lb), (s, p, l, lb)) \
    X(CloseSession, SIG_SESSION) \
    X(CloseAllSessions, (CK_SLOT_ID s), (s)) \
    X(GetSessionInfo, (ARG_S, CK_SESSION_INFO_PTR i), (s, i)) \
    X(GetOperationState, SIG_OUT) \
    X(SetOperationState, (ARG_S, CK_BYTE_PTR st_, CK_ULONG l, CK_OBJECT_HANDLE ek, \
                          CK_OBJECT_HANDLE ak), (s, st_, l, ek, ak)) \
    X(Logout, SIG_SESSION) \
    X(CopyObject, (ARG_S, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG c, \
                   CK_OBJECT_HANDLE_PTR n), (s, o, t, c, n)) \
    X(DestroyObject, (ARG_S, CK_OBJECT_HANDLE o), (s, o)) \
    X(GetObjectSize, (ARG_S, CK_OBJECT_HANDLE o, CK_ULONG_PTR z), (s, o, z)) \
    X(FindObjects, (ARG_S, CK_OBJECT_HANDLE_PTR o, CK_ULONG m, CK_ULONG_PTR c), (s, o, m, c)) \
    X(FindObjectsFinal, SIG_SESSION) \
    X(EncryptInit, SIG_MECH_KEY) X(Encrypt, SIG_IN_OUT) X(EncryptUpdate, SIG_IN_OUT) X(EncryptFinal, SIG_OUT) \
    X(DecryptInit, SIG_MECH_KEY) X(Decrypt, SIG_IN_OUT) X(DecryptUpdate, SIG_IN_OUT) X(DecryptFinal, SIG_OUT) \
    X(DigestInit, (ARG_S, CK_MECHANISM_PTR m), (s, m)) \
    X(Digest, SIG_IN_OUT) X(DigestUpdate, SIG_IN) \
    X(DigestKey, (ARG_S, CK_OBJECT_HANDLE k), (s, k)) \
    X(DigestFinal, SIG_OUT) \
    X(SignUpdate, SIG_IN) \
    X(SignRecoverInit, SIG_MECH_KEY) X(SignRecover, SIG_IN_OUT) \
    X(VerifyInit, SIG_MECH_KEY) \
    X(Verify, (ARG_S, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR g, CK_ULONG gl), (s, d, dl, g, gl)) \
    X(VerifyUpdate, SIG_IN) \
    X(VerifyFinal, (ARG_S, CK_BYTE_PTR g, CK_ULONG gl), (s, g, gl)) \
    X(VerifyRecoverInit, SIG_MECH_KEY) X(VerifyRecover, SIG_IN_OUT) \
    X(DigestEncryptUpdate, SIG_IN_OUT) X(DecryptDigestUpdate, SIG_IN_OUT) \
    X(SignEncryptUpdate, SIG_IN_OUT) X(DecryptVerifyUpdate, SIG_IN_OUT) \
    X(GenerateKey, (ARG_S, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG c, \
                    CK_OBJECT_HANDLE_PTR k), (s, m, t, c, k)) \
    X(WrapKey, (ARG_S, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE k, \
                CK_BYTE_PTR o, CK_ULONG_PTR ol), (s, m, wk, k, o, ol)) \
    X(UnwrapKey, (ARG_S, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE uk, CK_BYTE_PTR w, CK_ULONG wl, \
                  CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR k), \
                 (s, m, uk, w, wl, t, c, k)) \
    X(DeriveKey, (ARG_S, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR t, CK_ULONG c, \
                  CK_OBJECT_HANDLE_PTR k), (s, m, b, t, c, k)) \
    X(SeedRandom, SIG_IN) \
    X(GenerateRandom, (ARG_S, CK_BYTE_PTR o, CK_ULONG ol), (s, o, ol)) \
    X(GetFunctionStatus, SIG_SESSION) \
    X(CancelFunction, SIG_SESSION)

#define ALL_FUNCS(X) SPECIAL_FUNCS(X) FORWARDED_FUNCS(X)

/* Entries arrive as "name, (params), (args)" but shorthand entries arrive as
 * "name, SIG_X"; APPLY re-splits them after SIG_X has been expanded. */
#define APPLY(m, ...) m(__VA_ARGS__)

/* ---- the real module --------------------------------------------------- */

static CK_RV load_real(void)        /* caller holds st.lock */
{
    const char *path = getenv("HSMDESK_FAKEP11_MODULE");
    CK_C_GetFunctionList get_list;
    CK_FUNCTION_LIST_PTR list = NULL;

    if (st.loaded)
        return CKR_OK;
    if (!path || !*path)
        path = DEFAULT_MODULE;
    if (!(st.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "fakep11: cannot load real module: %s\n", dlerror());
        return CKR_GENERAL_ERROR;
    }
    get_list = (CK_C_GetFunctionList)dlsym(st.handle, "C_GetFunctionList");
    if (!get_list || get_list == C_GetFunctionList ||   /* would deadlock on st.lock */
        get_list(&list) != CKR_OK || !list) {
        fprintf(stderr, "fakep11: %s is not a usable PKCS#11 module (or is fakep11 itself)\n",
                path);
        dlclose(st.handle);
        st.handle = NULL;
        return CKR_GENERAL_ERROR;
    }
    st.real = *list;
    /* If fakep11 itself sits in the global symbol scope (RTLD_GLOBAL,
     * LD_PRELOAD), the real module's list can end up pointing at OUR exported
     * C_* functions through symbol interposition, and forwarding would recurse
     * forever.  Repair such entries from the real module's own symbols. */
#define REPAIR(n, ...) \
    if (st.real.C_##n == C_##n) st.real.C_##n = (CK_C_##n)dlsym(st.handle, "C_" #n);
    ALL_FUNCS(REPAIR)
#undef REPAIR
    st.loaded = 1;
    return CKR_OK;
}

static void unload_real(void)       /* caller holds st.lock */
{
    if (st.loaded)
        dlclose(st.handle);
    st.handle = NULL;
    st.loaded = 0;
    memset(&st.real, 0, sizeof st.real);
}

/*
 * Run at the top of every function except C_Initialize, C_Finalize and
 * C_GetFunctionList.  Counts the call and sets *gone once more than N calls
 * have been made under device-removed-after=N (calls 1..N behave normally).
 */
static CK_RV enter(int *gone)
{
    if (!__atomic_load_n(&st.initialized, __ATOMIC_SEQ_CST))
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    unsigned long n = __atomic_add_fetch(&st.calls, 1, __ATOMIC_SEQ_CST);
    *gone = on(DEVICE_REMOVED_AFTER) && n > st.cfg.arg[DEVICE_REMOVED_AFTER];
    return CKR_OK;
}

/* ---- functions with fault behaviour ------------------------------------- */

static CK_RV fk_Initialize(CK_VOID_PTR init_args)
{
    struct config cfg;
    CK_RV rv;

    pthread_mutex_lock(&st.lock);
    if (st.initialized) {
        pthread_mutex_unlock(&st.lock);
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    rv = parse_faults(getenv("HSMDESK_FAKEP11_FAULT"), &cfg);
    if (rv == CKR_OK)
        rv = load_real();
    if (rv == CKR_OK)
        rv = st.real.C_Initialize(init_args);
    if (rv == CKR_OK) {
        st.cfg = cfg;
        __atomic_store_n(&st.calls, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&st.gcalls, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&st.signs, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&st.initialized, 1, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&st.lock);
    return rv;
}

static CK_RV fk_Finalize(CK_VOID_PTR reserved)
{
    CK_RV rv = CKR_CRYPTOKI_NOT_INITIALIZED;

    pthread_mutex_lock(&st.lock);
    if (st.initialized) {
        rv = st.real.C_Finalize(reserved);
        if (rv == CKR_OK) {     /* reset everything; next C_Initialize re-reads env */
            __atomic_store_n(&st.initialized, 0, __ATOMIC_SEQ_CST);
            memset(&st.cfg, 0, sizeof st.cfg);
            __atomic_store_n(&st.calls, 0, __ATOMIC_SEQ_CST);
            unload_real();
        }
    }
    pthread_mutex_unlock(&st.lock);
    return rv;
}

static CK_FUNCTION_LIST fake_list;

static CK_RV fk_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    CK_RV rv;

    if (!list)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&st.lock);
    rv = load_real();
    pthread_mutex_unlock(&st.lock);
    if (rv == CKR_OK)
        *list = &fake_list;
    return rv;
}

static void vendor_info(CK_INFO_PTR info);
static void vendor_token_info(CK_TOKEN_INFO_PTR info);

static CK_RV fk_GetInfo(CK_INFO_PTR info)       /* never "removed" */
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv == CKR_OK)
        rv = st.real.C_GetInfo(info);
    if (rv == CKR_OK)
        vendor_info(info);
    return rv;
}

static CK_RV fk_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone && present) {      /* the slots are still there, the tokens are not */
        if (!count)
            return CKR_ARGUMENTS_BAD;
        *count = 0;
        return CKR_OK;
    }
    return st.real.C_GetSlotList(present, list, count);
}

static CK_RV fk_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    rv = st.real.C_GetSlotInfo(slot, info);
    if (rv == CKR_OK && gone)
        info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
    return rv;
}

static CK_RV fk_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_TOKEN_NOT_PRESENT;
    rv = st.real.C_GetTokenInfo(slot, info);
    if (rv != CKR_OK)
        return rv;
    if (on(PIN_COUNT_LOW))
        info->flags |= CKF_USER_PIN_COUNT_LOW;
    if (on(PIN_FINAL_TRY))
        info->flags |= CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY;
    if (on(PIN_LOCKED))
        info->flags |= CKF_USER_PIN_LOCKED;
    if (on(PIN_EXPIRED))
        info->flags |= CKF_USER_PIN_TO_BE_CHANGED;
    vendor_token_info(info);
    return CKR_OK;
}

static void sleep_ms(unsigned long ms)
{
    struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static CK_RV cloudhsm_pin(CK_UTF8CHAR_PTR *pin, CK_ULONG *len);

static CK_RV fk_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(SLOW_LOGIN))
        sleep_ms(st.cfg.arg[SLOW_LOGIN]);
    if (user == CKU_USER && on(PIN_LOCKED))
        return CKR_PIN_LOCKED;              /* not forwarded, whatever the PIN */
    if (on(LOGIN_CKR))
        return (CK_RV)st.cfg.arg[LOGIN_CKR];
    if (user == CKU_USER && on(CLOUDHSM) && (rv = cloudhsm_pin(&pin, &len)) != CKR_OK)
        return rv;
    rv = st.real.C_Login(s, user, pin, len);
    if (rv == CKR_OK && user == CKU_USER && on(PIN_EXPIRED)) {
        st.real.C_Logout(s);                /* right PIN, but "expired" */
        return CKR_PIN_EXPIRED;
    }
    return rv;
}

static CK_RV fk_InitPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    rv = st.real.C_InitPIN(s, pin, len);
    if (rv == CKR_OK) {                     /* the SO reset the user PIN */
        clear_fault(PIN_LOCKED);
        clear_fault(PIN_EXPIRED);
    }
    return rv;
}

static int is_so_session(CK_SESSION_HANDLE s)
{
    CK_SESSION_INFO info;
    return st.real.C_GetSessionInfo(s, &info) == CKR_OK && info.state == CKS_RW_SO_FUNCTIONS;
}

static CK_RV fk_SetPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
                       CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    /* In a non-SO session C_SetPIN changes (and verifies) the user PIN. */
    int user_pin = !is_so_session(s);
    if (user_pin && on(PIN_LOCKED))
        return CKR_PIN_LOCKED;
    rv = st.real.C_SetPIN(s, old_pin, old_len, new_pin, new_len);
    if (rv == CKR_OK && user_pin)
        clear_fault(PIN_EXPIRED);
    return rv;
}

/* ---- object faults: key generation, attributes, signing, certificates -- */

/* slow-keygen=MS: the pair exists, the call has not returned yet -- the
 * moment an operator's Ctrl-C is most awkward.  $HSMDESK_FAKEP11_MARK, if
 * set, is created then, so a test knows when to send its signal. */
static void slow_keygen(void)
{
    const char *mark = getenv("HSMDESK_FAKEP11_MARK");
    int fd;

    if (mark != NULL && *mark != '\0' &&
        (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
        close(fd);
    sleep_ms(st.cfg.arg[SLOW_KEYGEN]);
}

static void attest_make(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                        CK_OBJECT_HANDLE priv);
static void attest_follow_id(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                             CK_ATTRIBUTE_PTR t, CK_ULONG n);

static CK_RV fk_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech,
                                CK_ATTRIBUTE_PTR pub_t, CK_ULONG pub_n,
                                CK_ATTRIBUTE_PTR priv_t, CK_ULONG priv_n,
                                CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(KEYGEN_TEMPLATE_INCONSISTENT))   /* not forwarded: nothing is created */
        return CKR_TEMPLATE_INCONSISTENT;
    if (on(KEYGEN_ATTRIBUTE_INVALID))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    rv = st.real.C_GenerateKeyPair(s, mech, pub_t, pub_n, priv_t, priv_n, pub, priv);
    if (rv == CKR_OK && on(ATTESTATION))
        attest_make(s, pub_t, pub_n, *priv);
    if (rv == CKR_OK && on(SLOW_KEYGEN))
        slow_keygen();
    if (rv != CKR_OK || !on(KEYGEN_HALF))
        return rv;
    /* keygen-half: the token "fails" half-way, leaving only the public key */
    rv = st.real.C_DestroyObject(s, *priv);
    if (rv != CKR_OK)
        fprintf(stderr, "fakep11: keygen-half: cannot destroy the private key (0x%lx)\n",
                (unsigned long)rv);
    *pub = *priv = CK_INVALID_HANDLE;       /* the caller must search by CKA_ID/CKA_LABEL */
    return CKR_DEVICE_ERROR;
}

/* The C_GetAttributeValue results that still fill in the other attributes. */
static int per_attribute_rv(CK_RV rv)
{
    return rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
           rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL;
}

static int is_private_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof cls };
    return st.real.C_GetAttributeValue(s, o, &a, 1) == CKR_OK && a.ulValueLen == sizeof cls &&
           cls == CKO_PRIVATE_KEY;
}

/* key-extractable: patch the flags the real module has just filled in. */
static void fake_extractable(CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        CK_BBOOL v;
        switch (t[i].type) {
        case CKA_EXTRACTABLE:
            v = CK_TRUE;
            break;
        case CKA_SENSITIVE: case CKA_NEVER_EXTRACTABLE: case CKA_ALWAYS_SENSITIVE:
            v = CK_FALSE;
            break;
        default:
            continue;
        }
        if (t[i].pValue && t[i].ulValueLen == sizeof v)     /* a value was returned */
            memcpy(t[i].pValue, &v, sizeof v);
    }
}

/* Size of the "04 LEN" header if der[0..n) is exactly one DER OCTET STRING,
 * else 0 (the value is then passed on as it is). */
static CK_ULONG octet_string_header(const CK_BYTE *der, CK_ULONG n)
{
    CK_ULONG hdr = 2, len = 0;

    if (n < 2 || der[0] != 0x04)
        return 0;
    if (der[1] < 0x80) {
        len = der[1];
    } else {
        CK_ULONG k = der[1] & 0x7fu;
        if (k == 0 || k > 4 || n < 2 + k)
            return 0;
        for (CK_ULONG i = 0; i < k; i++)
            len = len << 8 | der[2 + i];
        hdr += k;
    }
    return len == n - hdr ? hdr : 0;
}

/* ec-point-raw for one CKA_EC_POINT entry of the caller's template, whose DER
 * value is der_len bytes long on the real module. */
static CK_RV raw_ec_point(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR a,
                          CK_ULONG der_len)
{
    CK_BYTE_PTR der = malloc(der_len ? der_len : 1);
    CK_ATTRIBUTE q = { CKA_EC_POINT, der, der_len };
    CK_ULONG hdr, raw;
    CK_RV rv;

    if (!der)
        return CKR_HOST_MEMORY;
    rv = st.real.C_GetAttributeValue(s, o, &q, 1);
    if (rv != CKR_OK) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        free(der);
        return rv;
    }
    hdr = octet_string_header(der, q.ulValueLen);
    raw = q.ulValueLen - hdr;
    if (!a->pValue) {                       /* length query: the raw length */
        a->ulValueLen = raw;
    } else if (a->ulValueLen < raw) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        rv = CKR_BUFFER_TOO_SMALL;
    } else {
        memcpy(a->pValue, der + hdr, raw);
        a->ulValueLen = raw;
    }
    free(der);
    return rv;
}

/* Forward t with every CKA_EC_POINT entry turned into a length query (the
 * caller's buffer is sized for the raw point, not for the DER one), then
 * fetch each point separately and hand out its contents. */
static CK_RV get_attrs_raw_ec_point(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                    CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    CK_ATTRIBUTE_PTR copy = calloc(n, sizeof *copy);
    CK_RV rv;

    if (!copy)
        return CKR_HOST_MEMORY;
    memcpy(copy, t, n * sizeof *copy);
    for (CK_ULONG i = 0; i < n; i++)
        if (copy[i].type == CKA_EC_POINT)
            copy[i].pValue = NULL;
    rv = st.real.C_GetAttributeValue(s, o, copy, n);
    if (per_attribute_rv(rv)) {
        for (CK_ULONG i = 0; i < n; i++) {
            if (t[i].type != CKA_EC_POINT || copy[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
                t[i].ulValueLen = copy[i].ulValueLen;
                continue;
            }
            CK_RV one = raw_ec_point(s, o, &t[i], copy[i].ulValueLen);
            if (one != CKR_OK && rv == CKR_OK)
                rv = one;
        }
    }
    free(copy);
    return rv;
}

static CK_RV fk_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                  CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (!t || n == 0 || !(on(EC_POINT_RAW) || on(KEY_EXTRACTABLE)))
        return st.real.C_GetAttributeValue(s, o, t, n);
    /* forward first, then patch the attributes that are faked */
    if (on(EC_POINT_RAW))
        rv = get_attrs_raw_ec_point(s, o, t, n);
    else
        rv = st.real.C_GetAttributeValue(s, o, t, n);
    if (on(KEY_EXTRACTABLE) && per_attribute_rv(rv) && is_private_key(s, o))
        fake_extractable(t, n);
    return rv;
}

static CK_RV fk_SetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                  CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(SETATTR_UNSUPPORTED))
        return CKR_FUNCTION_NOT_SUPPORTED;
    rv = st.real.C_SetAttributeValue(s, o, t, n);
    if (rv == CKR_OK && on(ATTESTATION))
        attest_follow_id(s, o, t, n);
    return rv;
}

static int has_class(CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_CLASS want)
{
    for (CK_ULONG i = 0; t && i < n; i++) {
        CK_OBJECT_CLASS cls;
        if (t[i].type != CKA_CLASS || !t[i].pValue || t[i].ulValueLen != sizeof cls)
            continue;
        memcpy(&cls, t[i].pValue, sizeof cls);
        if (cls == want)
            return 1;
    }
    return 0;
}

static CK_RV fk_CreateObject(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                             CK_OBJECT_HANDLE_PTR o)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if ((on(CERT_REFUSED) || on(CLOUDHSM)) && has_class(t, n, CKO_CERTIFICATE))
        return CKR_TEMPLATE_INCONSISTENT;
    if (on(DATA_REFUSED) && has_class(t, n, CKO_DATA))
        return CKR_TEMPLATE_INCONSISTENT;
    return st.real.C_CreateObject(s, t, n, o);
}

/* sign-device-error: let the real module finish the operation and throw the
 * signature away, so the operation ends as after a real device error (a new
 * C_SignInit works).  Errors of the real module itself (no C_SignInit, bad
 * session or arguments) are returned as they are. */
static CK_RV sign_and_discard(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, int final)
{
    CK_ULONG n = 0;
    CK_BYTE_PTR sig;
    CK_RV rv = final ? st.real.C_SignFinal(s, NULL, &n) : st.real.C_Sign(s, data, len, NULL, &n);

    if (rv != CKR_OK)
        return rv;
    if (!(sig = malloc(n ? n : 1)))
        return CKR_HOST_MEMORY;
    rv = final ? st.real.C_SignFinal(s, sig, &n) : st.real.C_Sign(s, data, len, sig, &n);
    free(sig);
    return rv == CKR_OK ? CKR_DEVICE_ERROR : rv;
}

/* sign-device-error, or sign-device-error-after=N: the first N calls with
 * an output buffer (N signatures) go through, every later call fails as
 * sign-device-error does -- a token that fails at the last signature of a
 * run, e.g. the audit checkpoint after the files' signatures. */
static int sign_fails(CK_BYTE_PTR sig)
{
    if (on(SIGN_DEVICE_ERROR))
        return 1;
    if (!on(SIGN_DEVICE_ERROR_AFTER))
        return 0;
    if (sig == NULL)
        return __atomic_load_n(&st.signs, __ATOMIC_SEQ_CST) >=
               st.cfg.arg[SIGN_DEVICE_ERROR_AFTER];
    return __atomic_fetch_add(&st.signs, 1, __ATOMIC_SEQ_CST) >=
           st.cfg.arg[SIGN_DEVICE_ERROR_AFTER];
}

static CK_RV fk_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len,
                     CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (sign_fails(sig))
        return sign_and_discard(s, data, len, 0);
    return st.real.C_Sign(s, data, len, sig, sig_len);
}

static CK_RV fk_SignFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (sign_fails(sig))
        return sign_and_discard(s, NULL, 0, 1);
    return st.real.C_SignFinal(s, sig, sig_len);
}

/* no-rsa-pss / no-raw-rsa: the token "lacks" RSA-PSS (every *_RSA_PKCS_PSS)
 * or raw RSA (CKM_RSA_X_509), as many HSMs do. */
static int hidden(CK_MECHANISM_TYPE m)
{
    int pss = m == CKM_RSA_PKCS_PSS || m == CKM_SHA1_RSA_PKCS_PSS ||
              m == CKM_SHA224_RSA_PKCS_PSS || m == CKM_SHA256_RSA_PKCS_PSS ||
              m == CKM_SHA384_RSA_PKCS_PSS || m == CKM_SHA512_RSA_PKCS_PSS;

    return (on(NO_RSA_PSS) && pss) || (on(NO_RAW_RSA) && m == CKM_RSA_X_509);
}

static CK_RV fk_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
    CK_MECHANISM_TYPE_PTR all;
    CK_ULONG n = 0, k = 0;
    int gone;
    CK_RV rv = enter(&gone);

    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (on(MECH_LIST_EMPTY)) {       /* "fine, and I can do nothing" */
        if (!count)
            return CKR_ARGUMENTS_BAD;
        *count = 0;
        return CKR_OK;
    }
    if (!on(NO_RSA_PSS) && !on(NO_RAW_RSA))
        return st.real.C_GetMechanismList(slot, list, count);
    if (!count)
        return CKR_ARGUMENTS_BAD;
    if ((rv = st.real.C_GetMechanismList(slot, NULL, &n)) != CKR_OK)
        return rv;
    if (!(all = calloc(n ? n : 1, sizeof *all)))
        return CKR_HOST_MEMORY;
    if ((rv = st.real.C_GetMechanismList(slot, all, &n)) == CKR_OK) {
        for (CK_ULONG i = 0; i < n; i++)
            if (!hidden(all[i]))
                all[k++] = all[i];
        if (list && *count < k)
            rv = CKR_BUFFER_TOO_SMALL;
        else if (list)
            memcpy(list, all, k * sizeof *all);
        *count = k;
    }
    free(all);
    return rv;
}

static CK_RV fk_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO_PTR info)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (hidden(m))
        return CKR_MECHANISM_INVALID;
    return st.real.C_GetMechanismInfo(slot, m, info);
}

static CK_RV fk_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    int gone;
    CK_RV rv = enter(&gone);
    if (rv != CKR_OK)
        return rv;
    if (gone)
        return CKR_DEVICE_REMOVED;
    if (m && hidden(m->mechanism))
        return CKR_MECHANISM_INVALID;
    return st.real.C_SignInit(s, m, key);
}

/* The vendor modes (cloudhsm, attestation) live in their own file. */
#include "vendor.c"

/* ---- plain forwarding and the exported symbols ---------------------------- */

#define FORWARD_(n, params, args) \
    static CK_RV fk_##n params \
    { \
        int gone; \
        CK_RV rv = enter(&gone); \
        if (rv != CKR_OK) \
            return rv; \
        return gone ? CKR_DEVICE_REMOVED : st.real.C_##n args; \
    }
#define FORWARD(n, ...) APPLY(FORWARD_, n, __VA_ARGS__)
FORWARDED_FUNCS(FORWARD)

/* ---- faults for any function: slow-NAME=MS, session-invalid-after=N ------
 * A thin layer generated in front of every fk_* function (the list and the
 * exported symbols both go through it), so these faults need no change to
 * the hand-written functions above. */

#define FN_ENUM(n, ...) FN_##n,
enum { ALL_FUNCS(FN_ENUM) N_FUNCS };
#define FN_NAME(n, ...) #n,
static const char *const fn_names[N_FUNCS] = { ALL_FUNCS(FN_NAME) };
_Static_assert(N_FUNCS <= MAX_FUNCS, "MAX_FUNCS too small");

/* slow-NAME=MS: NAME is the function's name without "C_", any case. */
static int parse_slow(const char *name, const char *value, struct config *cfg)
{
    unsigned long ms;

    for (int i = 0; i < N_FUNCS; i++) {
        if (strcasecmp(name, fn_names[i]) != 0)
            continue;
        if (!value || parse_number(value, &ms) != 0 || ms == 0) {
            fprintf(stderr, "fakep11: bad fault 'slow-%s%s%s' in HSMDESK_FAKEP11_FAULT "
                    "(expected 'slow-%s=MS')\n", name, value ? "=" : "",
                    value ? value : "", name);
            return -2;          /* known name: the caller must not say "unknown" */
        }
        cfg->slow_ms[i] = ms;
        return 0;
    }
    return -1;
}

/* The functions whose first argument is not a session handle. */
static int takes_session(int fn)
{
    switch (fn) {
    case FN_Initialize: case FN_Finalize: case FN_GetInfo: case FN_GetFunctionList:
    case FN_GetSlotList: case FN_GetSlotInfo: case FN_GetTokenInfo:
    case FN_GetMechanismList: case FN_GetMechanismInfo: case FN_InitToken:
    case FN_OpenSession: case FN_CloseAllSessions: case FN_WaitForSlotEvent:
        return 0;
    default:
        return 1;
    }
}

static void touch_mark(void)
{
    const char *mark = getenv("HSMDESK_FAKEP11_MARK");
    int fd;

    if (mark != NULL && *mark != '\0' &&
        (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
        close(fd);
}

static CK_RV generic_faults(int fn)
{
    unsigned long n;

    if (fn == FN_Initialize || fn == FN_Finalize || fn == FN_GetFunctionList ||
        !__atomic_load_n(&st.initialized, __ATOMIC_SEQ_CST))
        return CKR_OK;
    n = __atomic_add_fetch(&st.gcalls, 1, __ATOMIC_SEQ_CST);
    if (on(SESSION_INVALID_AFTER) && n > st.cfg.arg[SESSION_INVALID_AFTER] &&
        takes_session(fn))
        return CKR_SESSION_HANDLE_INVALID;  /* the token dropped every session */
    if (st.cfg.slow_ms[fn] != 0) {
        touch_mark();
        sleep_ms(st.cfg.slow_ms[fn]);
    }
    return CKR_OK;
}

#define WRAP_(n, params, args) \
    static CK_RV fw_##n params \
    { \
        CK_RV rv = generic_faults(FN_##n); \
        return rv != CKR_OK ? rv : fk_##n args; \
    }
#define WRAP(n, ...) APPLY(WRAP_, n, __VA_ARGS__)
ALL_FUNCS(WRAP)

/* The exported C_* symbols, for loaders that dlsym() them by name. */
#define EXPORT_(n, params, args) EXPORT CK_RV C_##n params { return fw_##n args; }
#define EXPORT_FN(n, ...) APPLY(EXPORT_, n, __VA_ARGS__)
ALL_FUNCS(EXPORT_FN)

/* The list handed out by C_GetFunctionList points at the static fw_*
 * functions, so it cannot be interposed by other modules' C_* symbols. */
#define LIST_ENTRY(n, ...) .C_##n = fw_##n,
static CK_FUNCTION_LIST fake_list = {
    .version = { 2, 40 },
    ALL_FUNCS(LIST_ENTRY)
};
