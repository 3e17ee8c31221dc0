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
    dlclose(h);
    return failures ? 1 : 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb; (void)type; (void)ftw;
    return remove(path);
}

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
    test_bad_fault(dir, "bogus", "'bogus'");
    test_bad_fault(dir, "pin-count-low,pin-lockd", "'pin-lockd'");
    test_bad_fault(dir, "device-removed-after=x", "device-removed-after=x");
    test_bad_fault(dir, "device-removed-after", "device-removed-after");
    test_bad_fault(dir, "slow-login=-5", "slow-login=-5");
    test_bad_fault(dir, "pin-locked=1", "pin-locked=1");
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
