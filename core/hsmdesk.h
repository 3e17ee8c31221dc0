/*
 * hsmdesk core: the one header the front-ends (cli/, tui/) include.
 *
 * Every function returns 0 on success and -1 on failure, filling the
 * caller-owned struct hd_err.  The core never prints, never exits and never
 * touches the terminal; see ../shared/ARCHITECTURE.md.
 */
#ifndef HSMDESK_H
#define HSMDESK_H

#include <stddef.h>
#include <stdint.h>

#define HD_VERSION "0.1.0"

/* ---- errors (err.c) ---------------------------------------------------- */

/* Stable error codes; each has a name and an exit status in err.c's table. */
enum hd_code {
	HD_OK = 0,
	HD_E_USAGE,		/* the call's words are wrong */
	HD_E_INPUT,		/* a file or value is malformed or unusable */
	HD_E_CONFIG,		/* config file unreadable or invalid */
	HD_E_MODULE,		/* PKCS#11 module missing or not a module */
	HD_E_NO_TOKEN,		/* no (or no unique) token matches */
	HD_E_UNINIT,		/* the token is not initialized */
	HD_E_PIN,		/* PIN incorrect */
	HD_E_PIN_LOCKED,	/* PIN locked */
	HD_E_PIN_EXPIRED,	/* PIN must be changed first */
	HD_E_PIN_POLICY,	/* PIN length/content refused, or mistyped */
	HD_E_NO_PIN,		/* a PIN is needed and cannot be asked for */
	HD_E_TOKEN,		/* the token refused the operation */
	HD_E_DEVICE,		/* token removed or device error */
	HD_E_IO,		/* file system error */
	HD_E_NOMEM,
	HD_E_CANCELLED,		/* the operator cancelled (Ctrl-C, Esc) */
	HD_E_INTERNAL,
	HD_E_BAD_SIG,		/* a signature does not verify */
	HD_E_UNTRUSTED,		/* a valid signature without a trusted chain */
	HD_E_TSA,		/* no timestamp authority gave a timestamp */
	HD_E__COUNT
};

struct hd_err {
	enum hd_code code;
	unsigned long ckr;	/* PKCS#11 return value, 0 if none */
	char ossl[256];		/* OpenSSL's error string, "" if none */
	char msg[512];		/* names the object and the problem */
	char hint[512];		/* what to do; "" if nothing useful */
};

void hd_err_clear(struct hd_err *err);
int hd_err_set(struct hd_err *err, enum hd_code code, unsigned long ckr,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void hd_err_hint(struct hd_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int hd_err_ckr(struct hd_err *err, unsigned long ckr, const char *what,
    const char *object);
void hd_err_ossl(struct hd_err *err);
const char *hd_code_name(enum hd_code code);
int hd_code_exit(enum hd_code code);
const char *hd_ckr_name(unsigned long ckr);
const char *hd_ckr_words(unsigned long ckr);

/* ---- PINs (pin.c) ------------------------------------------------------ */

/*
 * A PIN lives only in a buffer the core owns: locked in memory where the
 * system allows, wiped with OPENSSL_cleanse when cleared or freed.
 * Front-ends read characters straight into hd_pin_buf().
 */
#define HD_PIN_MAX 255
struct hd_pin;

struct hd_pin *hd_pin_new(void);
void hd_pin_free(struct hd_pin *pin);
char *hd_pin_buf(struct hd_pin *pin);		/* HD_PIN_MAX + 1 bytes */
void hd_pin_set_len(struct hd_pin *pin, size_t len);
size_t hd_pin_len(const struct hd_pin *pin);
void hd_pin_clear(struct hd_pin *pin);
int hd_pin_equal(const struct hd_pin *a, const struct hd_pin *b);

/* ---- paths and configuration (paths.c, config.c) ----------------------- */

#define HD_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define HD_TSA_URLS 8		/* timestamp servers in a list */

struct hd_config {
	char *module;		/* NULL if not set */
	char *token;
	char *module2, *token2;	/* a second token sign looks in for a
				 * thumbprint (cut-over signing); NULL */
	unsigned idle_logout;	/* seconds, 0 = never; default 300 */
	int cert_store;		/* enum hd_cert_store; default auto */
	char *audit_log;	/* the signing audit log; NULL: the default */
	int allow_no_audit;	/* sign --no-audit is allowed (default no) */
	char *vendor;		/* "cloudhsm", "none", "auto"; NULL = auto */
	char *p11kit_server;	/* P11_KIT_SERVER_ADDRESS for a remote token
				 * through p11-kit-client.so; NULL if none */
	char *tsa[HD_TSA_URLS];	/* tsa: timestamp servers, in order */
	size_t ntsa;
	char path[4096];	/* the file it came from, "" if none */
};

int hd_config_load(struct hd_config *cfg, const char *path,
    struct hd_err *err);
void hd_config_free(struct hd_config *cfg);
int hd_config_path(char *buf, size_t len, struct hd_err *err);
int hd_data_dir(char *buf, size_t len, struct hd_err *err);
int hd_embedded_ensure(char *conf, size_t len, struct hd_err *err);
int hd_write_file(const char *path, const void *data, size_t len,
    unsigned mode, int replace, struct hd_err *err);

/* ---- module and tokens (module.c, token.c) ----------------------------- */

struct hd_session;

/* Token flags in plain terms, read fresh from C_GetTokenInfo. */
struct hd_token_info {
	unsigned long slot;	/* valid only until the slot list changes */
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	char slot_desc[65];
	int present, initialized, login_required, user_pin_set;
	int read_only, protected_path;
	int pin_count_low, pin_final_try, pin_locked, pin_to_change;
	int so_pin_count_low, so_pin_final_try, so_pin_locked;
	unsigned long min_pin, max_pin;
	int user_pin_flag;	/* CKF_USER_PIN_INITIALIZED as reported;
				 * user_pin_set is also 1 on a CloudHSM,
				 * whose token never sets it */
	int cloudhsm;		/* the token is (configured as) a CloudHSM */
};

struct hd_session *hd_open(const char *module, struct hd_err *err);
void hd_close(struct hd_session *s);
const char *hd_module_path(const struct hd_session *s);
/* Nanoseconds spent in C_GenerateKeyPair and in signing on the token. */
void hd_token_times(const struct hd_session *s, uint64_t *gen_ns,
    uint64_t *sign_ns);
int hd_module_describe(struct hd_session *s, char *buf, size_t len);

int hd_tokens(struct hd_session *s, struct hd_token_info **list, size_t *n,
    struct hd_err *err);
int hd_token_select(struct hd_session *s, const char *spec,
    struct hd_err *err);
int hd_token_select_uninit(struct hd_session *s, const char *spec,
    struct hd_err *err);
int hd_token_info(struct hd_session *s, struct hd_token_info *ti,
    struct hd_err *err);
const char *hd_token_label(const struct hd_session *s);
int hd_token_selected(const struct hd_session *s);
int hd_token_state_words(const struct hd_token_info *ti, char *buf,
    size_t len);

/* ---- login and PIN management (login.c, pinmgmt.c) --------------------- */

int hd_login(struct hd_session *s, struct hd_pin *pin, struct hd_err *err);
/* Close every hd_sign first: the keys they hold are gone after it. */
int hd_logout(struct hd_session *s, struct hd_err *err);
/* After a failure: if the token dropped the session, say so in err
 * instead of the step's own guess (1 if err was rewritten). */
int hd_session_explain(struct hd_session *s, struct hd_err *err);
int hd_logged_in(const struct hd_session *s);
int hd_pin_check_len(const struct hd_token_info *ti, const struct hd_pin *pin,
    const char *which, struct hd_err *err);

int hd_init_token(struct hd_session *s, const char *label,
    struct hd_pin *so_pin, struct hd_pin *user_pin, struct hd_err *err);
int hd_change_pin(struct hd_session *s, struct hd_pin *old_pin,
    struct hd_pin *new_pin, struct hd_err *err);
int hd_reset_pin(struct hd_session *s, struct hd_pin *so_pin,
    struct hd_pin *new_pin, struct hd_err *err);

/* ---- keys (keys.c) ----------------------------------------------------- */

enum hd_tri { HD_NO = 0, HD_YES = 1, HD_UNKNOWN = -1 };

struct hd_key {
	char label[129];
	unsigned char id[64];
	size_t id_len;
	char type[24];		/* "RSA", "EC", "EdDSA", ... */
	unsigned bits;		/* RSA modulus or EC field size */
	char curve[32];		/* "P-256", ... for EC, "" otherwise */
	int has_private, has_public, has_cert;
	enum hd_tri sensitive, extractable, never_extractable;
	enum hd_tri always_sensitive, local, can_sign;
	int id_random;		/* CKA_ID could not be set to the key's hash */
};

int hd_keys(struct hd_session *s, struct hd_key **keys, size_t *n,
    struct hd_err *err);
void hd_hex(const unsigned char *in, size_t n, char *out, size_t outlen);

/* ---- key pairs (keygen.c) ---------------------------------------------- */

/* Progress of a long operation; a non-zero return asks to cancel. */
typedef int (*hd_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct hd_profile;
int hd_keygen(struct hd_session *s, const struct hd_profile *p,
    const char *label, hd_progress_fn progress, void *arg, struct hd_key *out,
    struct hd_err *err);
int hd_key_find(struct hd_session *s, const char *label, const char *idhex,
    struct hd_key *out, struct hd_err *err);
int hd_key_delete(struct hd_session *s, const struct hd_key *k,
    struct hd_err *err);
int hd_hex_decode(const char *hex, unsigned char *out, size_t max,
    size_t *n);

/* ---- request profiles (profile.c, inf.c, dn.c) -------------------------- */

enum hd_keytype { HD_KEY_RSA, HD_KEY_EC };

#define HD_DN_MAX 16
#define HD_LIST_MAX 16

/* One relative distinguished name: "CN", "O", "OU", "L", "ST", "C",
 * "emailAddress", "serialNumber", ... or a dotted OID. */
struct hd_rdn {
	char type[32];
	char value[256];	/* UTF-8; "" = required, asked at request time */
};

/* X.509 key usage bits, RFC 5280 §4.2.1.3 (OpenSSL's KU_* values). */
enum {
	HD_KU_DIGITAL_SIGNATURE = 0x0080, HD_KU_NON_REPUDIATION = 0x0040,
	HD_KU_KEY_ENCIPHERMENT = 0x0020, HD_KU_DATA_ENCIPHERMENT = 0x0010,
	HD_KU_KEY_AGREEMENT = 0x0008, HD_KU_KEY_CERT_SIGN = 0x0004,
	HD_KU_CRL_SIGN = 0x0002,
};

struct hd_profile {
	char name[64];
	char description[256];
	char path[4096];		/* the file it came from */
	enum hd_keytype type;
	unsigned bits;			/* RSA: 2048, 3072, 4096 */
	char curve[8];			/* EC: "P-256", "P-384" */
	char label[129];		/* template: {date}, {cn} */
	int exportable;
	struct hd_rdn subject[HD_DN_MAX];	/* in conventional order */
	size_t nsubject;
	char hash[8];			/* "sha256", "sha384", "sha512" */
	unsigned key_usage;		/* HD_KU_* bits */
	char eku[HD_LIST_MAX][64];	/* names (codeSigning) or OIDs */
	size_t neku;
	char san[HD_LIST_MAX][256];	/* "email:x", "DNS:x", "URI:x", "IP:x" */
	size_t nsan;
	char cert_template[128];	/* INF [RequestAttributes] */
	char ignored[HD_LIST_MAX][64];	/* INF keys without meaning here */
	size_t nignored;
	int broken;			/* hd_profile_list: the file at path
					 * failed; description says why */
};

int hd_profile_load(struct hd_profile *p, const char *path,
    struct hd_err *err);
int hd_profile_find(struct hd_profile *p, const char *name_or_path,
    struct hd_err *err);
int hd_profile_list(struct hd_profile **list, size_t *n, struct hd_err *err);
int hd_profile_to_yaml(const struct hd_profile *p, char **out,
    struct hd_err *err);
int hd_inf_load(struct hd_profile *p, const char *path, int allow_exportable,
    struct hd_err *err);
int hd_profile_set_subject(struct hd_profile *p, const char *dn,
    struct hd_err *err);
int hd_profile_add_san(struct hd_profile *p, const char *san,
    struct hd_err *err);
int hd_profile_ready(const struct hd_profile *p, struct hd_err *err);
int hd_profile_label(const struct hd_profile *p, char *buf, size_t len);
int hd_profile_set_label(struct hd_profile *p, const char *tmpl,
    struct hd_err *err);
int hd_profile_add_eku(struct hd_profile *p, const char *eku,
    struct hd_err *err);
void hd_ku_words(unsigned ku, char *buf, size_t len);
int hd_dn_parse(const char *text, struct hd_rdn *rdn, size_t max, size_t *n,
    struct hd_err *err);
void hd_dn_order(struct hd_rdn *rdn, size_t n);
int hd_dn_format(const struct hd_rdn *rdn, size_t n, char *buf, size_t len);

/* ---- certificate signing requests (csr.c) ------------------------------ */

struct hd_csr {
	unsigned char *der;
	size_t len;
	char sha256[65];	/* of the DER, lower-case hex */
	char subject[1024];	/* as encoded, "C=US, ..., CN=x" */
};

int hd_csr_make(struct hd_session *s, const struct hd_profile *p,
    const struct hd_key *k, struct hd_csr *out, struct hd_err *err);
int hd_csr_write(const struct hd_csr *c, const char *path, int der,
    int replace, struct hd_err *err);
void hd_csr_free(struct hd_csr *c);

/* ---- key ceremony record (ceremony.c) ---------------------------------- */

int hd_ceremony_text(struct hd_session *s, const struct hd_profile *p,
    const struct hd_key *k, const struct hd_csr *c, const char *csr_path,
    char **out, struct hd_err *err);
int hd_ceremony_path(const char *csr_path, char *buf, size_t len);
int hd_ceremony_write(const char *text, const char *csr_path, int replace,
    struct hd_err *err);

/* ---- migration to a new token (migrate*.c) ------------------------------ */

/*
 * A plan moves each signing identity (key pair + certificate) of an old
 * token to a new one: a new key there, a CSR for the same CA, then the
 * issued certificate.  The plan file (YAML) records where each identity is,
 * rewritten atomically after every step, so a run can stop and resume.
 */
enum hd_mig_state {
	HD_MIG_PLANNED,		/* nothing made yet */
	HD_MIG_GENERATING,	/* key generation started: a key with the
				 * new label may exist (adopted on resume) */
	HD_MIG_KEY,		/* the new key exists (new_id) */
	HD_MIG_CSR,		/* CSR written; waiting for the certificate */
	HD_MIG_DONE,		/* the new certificate accepted (new_sha1) */
	HD_MIG__COUNT
};

struct hd_mig_side {
	char module[4096];
	char token[33];		/* label */
	char serial[17];
};

struct hd_mig_ident {
	char name[64];		/* [a-z0-9._-]: file names, messages */
	int skip;		/* action: skip (the officer's choice) */
	/* the old identity, as inventoried */
	char old_label[129];
	char old_id[129];	/* CKA_ID, hex */
	char old_key[16];	/* "RSA-2048", "EC-P256" */
	char sha1[41], sha256[65];
	char subject[512], issuer[512];
	char not_after[16];	/* YYYY-MM-DD */
	int expired;
	char ku[128], eku[256];	/* in words */
	/* the proposal */
	char new_key[16];	/* "RSA-3072", "EC-P256" */
	char upgrade[256];	/* why stronger than the old, "" if not */
	char new_label[129];
	char profile[4096];	/* relative to the plan's directory */
	char csr[4096];		/* likewise */
	/* progress */
	enum hd_mig_state state;
	char new_id[129];	/* the new key's CKA_ID, hex */
	char new_sha1[41];	/* the accepted certificate's */
	char note[512];		/* the last failure, "" if none */
};

struct hd_mig_plan {
	char path[4096];
	char created[32];	/* ISO 8601 UTC */
	struct hd_mig_side from, to;
	struct hd_mig_ident *ids;
	size_t n;
	/* hd_mig_plan_make: key pairs left out, having no certificate */
	size_t n_nocert;
	char nocert[512];	/* their labels, ", "-separated, cut short */
};

const char *hd_mig_state_name(enum hd_mig_state st);
void hd_mig_free(struct hd_mig_plan *p);
int hd_mig_load(const char *path, struct hd_mig_plan *p, struct hd_err *err);
int hd_mig_save(const struct hd_mig_plan *p, struct hd_err *err);
/* Inventory from (logged in) and propose; writes the profiles, then the
 * plan at path (refusing to replace one unless replace). */
int hd_mig_plan_make(struct hd_session *from, struct hd_session *to,
    const char *path, int replace, struct hd_mig_plan *out,
    struct hd_err *err);
/* The plan names these tokens (by serial and label). */
int hd_mig_check_tokens(const struct hd_mig_plan *p, struct hd_session *from,
    struct hd_session *to, struct hd_err *err);
/* Resolve a plan-relative path (profile, csr) into buf. */
int hd_mig_path(const struct hd_mig_plan *p, const char *rel, char *buf,
    size_t len);
/* What comes next for identity d, in words (a command to run). */
void hd_mig_next(const struct hd_mig_plan *p, const struct hd_mig_ident *d,
    char *buf, size_t len);
/* One step of identity i (both logged in): key, then CSR; the plan is
 * saved after each.  1: nothing left for run to do (CSR written, done or
 * skipped). */
int hd_mig_step(struct hd_mig_plan *p, size_t i, struct hd_session *from,
    struct hd_session *to, hd_progress_fn progress, void *arg,
    struct hd_err *err);
/* Accept an issued certificate on the new token for one of the plan's
 * new keys; that identity becomes done.  *which: its index. */
struct hd_accept_opts;
struct hd_accept;
int hd_mig_accept(struct hd_mig_plan *p, struct hd_session *to,
    const char *cert, const struct hd_accept_opts *o, struct hd_accept *out,
    size_t *which, struct hd_err *err);

/* ---- Authenticode for PE files (sign_pe.c, verify_pe.c) ---------------- */

/* A signature's timestamp, as verify reports it.  One that verifies
 * dates the signature: its signer's chain is checked at that time, so a
 * certificate that expired since still passes (as on Windows). */
struct hd_ts_report {
	int present;		/* the signature carries a timestamp */
	int ok;			/* 1 its token verifies (signature, chain to
				 * the TSA CA file, imprint), 0 not */
	char time[32];		/* "2026-01-31T12:00:00Z" */
	int64_t when;		/* the same, seconds since 1970 */
	char subject[256];	/* the TSA certificate's subject */
	char why[256];		/* when not ok: why, in words */
};

/* A DER-encoded certificate. */
struct hd_der {
	const unsigned char *der;
	size_t len;
};

/* signtool sign's choices; zeroed means SHA-256, in place, no extras. */
struct hd_sign_pe_opts {
	const char *md;		/* "sha256" (NULL), "sha384", "sha512": /fd */
	const char *desc;	/* program name, /d (UTF-8); NULL: none */
	const char *url;	/* more-information URL, /du; NULL: none */
	int append;		/* /as: nest the new signature in the existing
				 * one; an unsigned file gets it as primary */
	const char *out;	/* NULL: sign the file in place; else write
				 * the signed copy here */
	int replace;		/* with out: an existing out may be replaced */
	hd_progress_fn progress;	/* NULL: none; non-zero cancels */
	void *arg;
	struct hd_tsa *tsa;	/* timestamp the new signature; NULL: none */
};

struct hd_sign_pe_result {
	char path[4096];	/* the file written: in place, the target a
				 * symlink points to (the link stays) */
	int had_signature;	/* it was signed before: replaced, or (append)
				 * kept with the new one nested in it */
	unsigned nsigs;		/* signatures in the file now, nested ones too */
	unsigned long other_links;	/* in place: other hard links to the
				 * file, which still name the unsigned content */
	char sha1[41];		/* signer certificate's SHA-1 thumbprint */
	char md[16];		/* "SHA256", "SHA384", "SHA512" */
	char tsa[512];		/* the TSA that timestamped it, "" if none */
	char ts_time[32];	/* its time, "2026-01-31T12:00:00Z", or "" */
};

int hd_sign_pe(struct hd_session *s, const struct hd_key *k,
    const struct hd_der *cert, const struct hd_der *chain, size_t nchain,
    const char *path, const struct hd_sign_pe_opts *o,
    struct hd_sign_pe_result *res, struct hd_err *err);

enum hd_sig_state {
	HD_SIG_OK = 0,
	HD_SIG_MALFORMED,	/* not an Authenticode signature of a PE file */
	HD_SIG_BAD,		/* the signature does not verify */
	HD_SIG_FILE_CHANGED,	/* the file's digest is not the signed one */
	HD_SIG_UNTRUSTED,	/* the signer's certificate is not trusted,
				 * not valid now, or not for code signing */
};

/* One signature of a file: the primary one, then the nested ones. */
struct hd_sig_report {
	unsigned index;		/* 0: primary; 1, 2, ...: nested */
	enum hd_sig_state state;
	char sha1[41];		/* signer certificate's SHA-1 thumbprint
				 * (40 upper-case hex), "" if not found */
	char subject[256];	/* the signer certificate's subject */
	char md[32];		/* the file digest's algorithm: "SHA256" */
	char result[512];	/* the outcome in words */
	struct hd_ts_report ts;	/* its RFC 3161 timestamp, if any */
};

/* cafile NULL: the system's roots and the local store's trusted ones. */
int hd_verify_pe(const char *path, const char *cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err);
const char *hd_sig_state_name(enum hd_sig_state st);

/* ---- Authenticode for PowerShell scripts (sign_ps1.c, verify_ps1.c) ---- */

/* 1 if path names a script PowerShell's SIP signs: .ps1, .psm1, .psd1. */
int hd_ps1_name(const char *path);
/* As hd_sign_pe and hd_verify_pe, for a script: the same options
 * (desc, url, append, out, replace, progress) and results. */
int hd_sign_ps1(struct hd_session *s, const struct hd_key *k,
    const struct hd_der *cert, const struct hd_der *chain, size_t nchain,
    const char *path, const struct hd_sign_pe_opts *o,
    struct hd_sign_pe_result *res, struct hd_err *err);
int hd_verify_ps1(const char *path, const char *cafile,
    struct hd_sig_report **sigs, size_t *n, hd_progress_fn progress,
    void *arg, struct hd_err *err);
/* As hd_verify_pe and hd_verify_ps1, with the timestamps checked against
 * tsa_cafile (NULL: cafile if given, else the system's roots). */
int hd_verify_pe_ts(const char *path, const char *cafile,
    const char *tsa_cafile, struct hd_sig_report **sigs, size_t *n,
    hd_progress_fn progress, void *arg, struct hd_err *err);
int hd_verify_ps1_ts(const char *path, const char *cafile,
    const char *tsa_cafile, struct hd_sig_report **sigs, size_t *n,
    hd_progress_fn progress, void *arg, struct hd_err *err);
/* ---- certificates (thumb.c, cert_*.c) ---------------------------------- */

/* Where a certificate is kept. */
enum hd_cert_where {
	HD_CERT_TOKEN,		/* a certificate object beside its key */
	HD_CERT_LOCAL,		/* local store: the token could not hold it */
	HD_CERT_CHAIN,		/* local store: intermediate or root, chain
				 * material only */
	HD_CERT_ANCHOR,		/* local store: a root the operator trusted */
};

/* config.yaml cert_store: where accept puts a certificate. */
enum hd_cert_store {
	HD_STORE_AUTO,		/* the token; the local store if it refuses */
	HD_STORE_TOKEN,		/* the token only */
	HD_STORE_LOCAL,		/* the local store only */
};

struct hd_cert {
	char sha1[41];		/* upper-case hex, as PowerShell prints it */
	char sha256[65];	/* upper-case hex */
	char subject[512];	/* "CN=x, O=y", most specific first */
	char issuer[512];
	char serial[80];	/* hex */
	int64_t not_before, not_after;	/* seconds since 1970, UTC */
	int days_left;		/* whole days to not_after; < 0: expired */
	int self_signed, ca;
	char key_label[129];	/* "" when no key is known */
	unsigned char id[64];	/* CKA_ID it is filed under (leaves) */
	size_t id_len;
	enum hd_tri has_key;	/* private key on the token; HD_UNKNOWN when
				 * not logged in (private keys are hidden) */
	enum hd_cert_where where;
	unsigned char *der;	/* the certificate; hd_cert_free */
	size_t der_len;
};

/* Listing filters; NULL or -1 for "any". */
struct hd_cert_filter {
	const char *sha1;	/* thumbprint prefix, any notation */
	const char *sha256;	/* prefix */
	const char *subject;	/* substring, case-insensitive */
	int expiring_days;	/* not after now + days (expired included) */
};

enum hd_cert_format { HD_FMT_PEM, HD_FMT_DER, HD_FMT_P7B };

int hd_thumb_normalize(const char *in, size_t max, char *out, size_t outlen,
    struct hd_err *err);
int hd_fingerprint_group(const char *hex, char *out, size_t len);
const char *hd_cert_where_name(enum hd_cert_where w);
void hd_cert_date(int64_t t, char *buf, size_t len);	/* YYYY-MM-DD, UTC */
void hd_cert_free(struct hd_cert *c);
int hd_cert_usages(const struct hd_cert *c, char *ku, size_t kulen,
    char *eku, size_t ekulen);
void hd_certs_free(struct hd_cert *list, size_t n);
int hd_certs(struct hd_session *s, struct hd_cert **list, size_t *n,
    struct hd_err *err);
int hd_certs_filter(struct hd_cert *list, size_t *n,
    const struct hd_cert_filter *f, struct hd_err *err);
int hd_cert_find(struct hd_session *s, const char *sha1, struct hd_cert *out,
    struct hd_err *err);
int hd_cert_export(struct hd_session *s, const struct hd_cert *c, int chain,
    enum hd_cert_format fmt, const char *path, int replace, size_t *count,
    struct hd_err *err);
/* c's issuers the local store knows, up to a root, without c itself: each
 * DER malloc'd; free with hd_ders_free. */
int hd_cert_chain(const struct hd_cert *c, struct hd_der **certs, size_t *n,
    struct hd_err *err);
void hd_ders_free(struct hd_der *certs, size_t n);

/* What a file is, by its content, for sign --type auto. */
enum hd_file_type {
	HD_FILE_DATA,		/* anything else: a detached CMS signature */
	HD_FILE_PE,		/* "MZ" and a "PE\0\0" header: Authenticode */
};

/* -1 (HD_E_INPUT) when path is missing, not a regular file or unreadable. */
int hd_file_type(const char *path, enum hd_file_type *type,
    struct hd_err *err);

/* certreq -accept: the checks made before anything is stored. */
enum hd_check_level { HD_CHECK_OK, HD_CHECK_WARN };

struct hd_check {
	const char *name;	/* "key", "validity", "usage", "chain" */
	enum hd_check_level level;
	char text[400];
};

/* A self-signed CA certificate in the file: a candidate trust anchor. */
struct hd_root {
	char sha256[65];	/* what --trust-root takes */
	char sha1[41];
	char subject[512];
	int trusted;		/* 1 before this call (local store or the
				 * system's), 2 trusted by this call */
};

#define HD_ACCEPT_CHECKS 6
#define HD_ACCEPT_ROOTS 4

struct hd_accept_opts {
	const char *trust_root;		/* SHA-256 of a root in the file */
	enum hd_cert_store store;
};

struct hd_accept {
	struct hd_cert cert;		/* the certificate for the token key */
	struct hd_key key;		/* that key */
	struct hd_check checks[HD_ACCEPT_CHECKS];
	size_t nchecks;
	struct hd_root roots[HD_ACCEPT_ROOTS];
	size_t nroots;
	size_t nchain;			/* other certificates in the file */
	size_t chain_added;		/* ... newly put in the local store */
	int duplicate;			/* already stored: nothing changed */
	int stored;			/* hd_cert_accept stored it */
	unsigned long refused;		/* the token's refusal (CKR) that sent
					 * it to the local store, or 0 */
};

int hd_cert_file_check(const char *path, size_t *ncerts, struct hd_err *err);
int hd_cert_inspect(struct hd_session *s, const char *path,
    const struct hd_accept_opts *o, struct hd_accept *out,
    struct hd_err *err);
int hd_cert_accept(struct hd_session *s, const char *path,
    const struct hd_accept_opts *o, struct hd_accept *out,
    struct hd_err *err);
void hd_accept_free(struct hd_accept *a);

/* ---- RFC 3161 timestamps (tsa.c, tsa_attach.c, tsa_verify.c) ---------- */

#define HD_TSA_TIMEOUT 15	/* seconds, signtool's and osslsigncode's
				 * order of magnitude */
#define HD_TSA_ATTEMPTS 3

struct hd_tsa_opts {
	const char *urls[HD_TSA_URLS];	/* http:// or https://, in order */
	size_t nurls;
	const char *md;		/* /td: "sha256" (NULL), "sha384", "sha512" */
	unsigned timeout;	/* seconds per attempt; 0: HD_TSA_TIMEOUT */
	unsigned attempts;	/* per TSA and file; 0: HD_TSA_ATTEMPTS */
	int optional;		/* no TSA answers: sign without a timestamp */
	/* called before each request (a progress stage); may be NULL */
	void (*asking)(void *arg, const char *url, unsigned attempt);
	void *arg;
};

/*
 * One batch's TSAs: hd_tsa_open once, the handle in each file's signing
 * options (hd_sign_opts.tsa, hd_sign_pe_opts.tsa), hd_tsa_close.  A TSA
 * that failed is not asked again in the batch.
 */
struct hd_tsa;
int hd_tsa_open(const struct hd_tsa_opts *o, struct hd_tsa **out,
    struct hd_err *err);
void hd_tsa_close(struct hd_tsa *t);
/* Why the last file got no timestamp (--tr-optional), "" if it got one. */
const char *hd_tsa_skipped(const struct hd_tsa *t);
/* How TSA i failed in this batch, "" if it has not (or there is none). */
const char *hd_tsa_failure(const struct hd_tsa *t, size_t i);
const char *hd_tsa_url(const struct hd_tsa *t, size_t i);


/* ---- detached CMS signatures (cms_sign.c, cms_verify.c) ----------------- */

/*
 * Signing many files with one key: hd_sign_open once (the key is looked up
 * once), hd_sign_file per file, hd_sign_close.  The certificate is DER or
 * PEM; the chain, optional, is a PEM bundle or concatenated DER
 * certificates, all added to each signature.  The session must be logged in.
 */
struct hd_sign;

struct hd_sign_opts {
	const char *md;		/* "sha256" (NULL), "sha384", "sha512" */
	int pss;		/* RSA-PSS (RFC 4056) instead of PKCS#1 v1.5 */
	int replace;		/* an existing output may be replaced (only
				 * once the new one is complete) */
	int defer;		/* batch: outputs are fsynced and renamed
				 * into place by hd_sign_commit */
	struct hd_tsa *tsa;	/* timestamp each signature; NULL: none */
};

/* What hd_sign_open settled on, for the operator. */
struct hd_sign_info {
	char subject[1024];	/* the signer certificate's */
	char sha1[41];		/* its SHA-1 thumbprint, upper-case hex */
	char md[8];		/* "sha256", ... */
	char alg[32];		/* "RSA PKCS#1 v1.5", "RSA-PSS", "ECDSA" */
	char mechanism[24];	/* "CKM_RSA_PKCS_PSS", ... on the token */
};

struct hd_sign_result {
	char out[4096];		/* the signature file */
	uint64_t size;		/* bytes signed */
	char digest[129];	/* the file's digest, lower-case hex */
	size_t sig_len;		/* bytes of DER written */
	char tsa[512];		/* the TSA that timestamped it, "" if none */
	char ts_time[32];	/* its time, "2026-01-31T12:00:00Z", or "" */
};

int hd_sign_open(struct hd_session *s, const struct hd_key *k,
    const unsigned char *cert, size_t cert_len, const unsigned char *chain,
    size_t chain_len, const struct hd_sign_opts *opts, struct hd_sign **out,
    struct hd_err *err);
void hd_sign_info(const struct hd_sign *g, struct hd_sign_info *info);
int hd_sign_file(struct hd_sign *g, const char *in, const char *out,
    hd_progress_fn progress, void *arg, struct hd_sign_result *res,
    struct hd_err *err);
int hd_sign_commit(struct hd_sign *g, struct hd_err *err);
void hd_sign_close(struct hd_sign *g);

/*
 * Many files at once (cms_batch.c): hd_sign_files signs items[0..n) with
 * g on up to `workers` PKCS#11 sessions in parallel (hd_sign_workers says
 * how many suit the token and the machine), each item's result in its
 * own slot.  progress(arg, files_done, n) is called one call at a time,
 * after each file and during long ones; non-zero stops the batch: files
 * not finished are left HD_ITEM_TODO with nothing written.  With
 * opts.defer the signed files wait for hd_sign_commit, in input order.
 */
enum hd_item_state { HD_ITEM_TODO, HD_ITEM_SIGNED, HD_ITEM_FAILED };

struct hd_sign_item {
	const char *in;
	const char *out;		/* NULL: in.p7s */
	enum hd_item_state state;
	struct hd_err err;		/* HD_ITEM_FAILED: why */
	struct hd_sign_result res;	/* HD_ITEM_SIGNED */
};

unsigned hd_sign_workers(struct hd_session *s);
void hd_sign_files(struct hd_sign *g, struct hd_sign_item *items, size_t n,
    unsigned workers, hd_progress_fn progress, void *arg);
int hd_sign_out_path(const char *in, char *buf, size_t len);

/* Verification: each check below, in this order; the first that fails is
 * the verdict.  Chains are checked at the current time. */
enum hd_verdict {
	HD_V_GOOD = 0,
	HD_V_NOT_CMS,		/* the signature file is something else */
	HD_V_CORRUPT,		/* a damaged CMS signature */
	HD_V_NOT_DETACHED,	/* a CMS signature carrying its content */
	HD_V_BAD_SIGNATURE,	/* the signed attributes do not verify */
	HD_V_CONTENT_CHANGED,	/* the data is not what was signed */
	HD_V_UNTRUSTED,		/* no chain to a trusted root */
	HD_V_EXPIRED,		/* a certificate is outside its validity */
	HD_V_USAGE,		/* key usage or EKU does not allow signing */
	HD_V_ERROR,		/* the checks could not run (see the error) */
	HD_V__COUNT
};

struct hd_verify_opts {
	const char *cafile;	/* trusted roots (PEM); NULL: the system's
				 * and the local store's trusted roots, its
				 * intermediates helping to build chains */
	int any_eku;		/* accept any extended key usage */
	const char *tsa_cafile;	/* the timestamp's TSA roots (PEM); NULL:
				 * cafile if given, else the system's */
	hd_progress_fn progress;	/* over the data file; may be NULL */
	void *arg;
};

/* Each check: 1 passed, 0 failed, -1 not reached. */
struct hd_verify_result {
	enum hd_verdict verdict;
	int signature_ok, content_ok, chain_ok, usage_ok;
	int nsigners;
	char subject[1024];	/* the signer's, "" if not found */
	char issuer[1024];
	char sha1[41];		/* signer thumbprint, upper-case hex */
	char not_after[32];	/* "2026-01-31T12:00:00Z" */
	char signing_time[32];	/* the signed attribute; "" if absent */
	char md[16];		/* digest algorithm, "sha256" */
	char alg[32];		/* "RSA PKCS#1 v1.5", "RSA-PSS", "ECDSA" */
	char chain[1024];	/* the chain or why there is none, in words */
	uint64_t size;		/* bytes of data hashed */
	struct hd_ts_report ts;	/* the first signer's RFC 3161 timestamp */
};

int hd_verify_file(const char *data, const char *sig,
    const struct hd_verify_opts *opts, struct hd_verify_result *res,
    struct hd_err *err);
const char *hd_verdict_name(enum hd_verdict v);

/* ---- signing audit log (audit*.c; docs/AUDIT.md) ------------------------ */

/*
 * One JSON line per signature, chained by SHA-256 over the previous
 * line's bytes, closed by a checkpoint line the signing key signs on the
 * token.  A front-end opens the log before it signs (hd_audit_open
 * refuses a log it cannot append to), names the signer once, adds an
 * entry per file once the file's output is in place, and flushes.
 */
struct hd_audit;

/* One signature (or attempt) as the log records it. */
struct hd_audit_entry {
	char time[32];		/* "2026-01-31T12:00:00Z", when it was made */
	const char *type;	/* "cms", "authenticode-pe", "authenticode-ps1" */
	char file[4096];	/* absolute */
	uint64_t size;
	char sha256[65];	/* of the file signed, as it was signed */
	char md[16];		/* digest algorithm: "sha256" */
	char out[4096];		/* the signature: f.p7s, or the file itself */
	char tsa[512];		/* timestamp authority URL; "" if none */
	char ts_time[32];	/* the timestamp's genTime; "" if none */
	char result[600];	/* "ok", or "failed: why" */
};

/* What a checkpoint did, for the operator. */
struct hd_audit_flushed {
	uint64_t lines;		/* lines in the log after the flush */
	uint64_t checkpoint;	/* the checkpoint's line number, 0 if none */
	int witness;		/* 1 the token holds the checkpoint's witness */
	char witness_why[512];	/* else why not */
};

int hd_audit_default_path(char *buf, size_t len, struct hd_err *err);
int hd_audit_open(const char *path, struct hd_audit **out,
    struct hd_err *err);
const char *hd_audit_path(const struct hd_audit *a);
/* chain: the certificate's issuers (hd_cert_chain), carried in each
 * checkpoint so that a verifier with only the root can check it. */
int hd_audit_signer(struct hd_audit *a, struct hd_session *s,
    const struct hd_key *k, const unsigned char *cert, size_t cert_len,
    const struct hd_der *chain, size_t nchain, struct hd_err *err);
void hd_audit_entry_init(struct hd_audit_entry *e, const char *type,
    const char *file);
int hd_audit_hash_file(struct hd_audit_entry *e, struct hd_err *err);
/* The same on a thread while the file is signed (audit_hash.c). */
struct hd_audit_hash;
int hd_audit_hash_begin(struct hd_audit_entry *e, struct hd_audit_hash **h,
    struct hd_err *err);
int hd_audit_hash_end(struct hd_audit_hash *h, struct hd_err *err);
int hd_audit_add(struct hd_audit *a, const struct hd_audit_entry *e,
    struct hd_err *err);
size_t hd_audit_pending(const struct hd_audit *a);
void hd_audit_drop(struct hd_audit *a);
int hd_audit_flush(struct hd_audit *a, int checkpoint,
    struct hd_audit_flushed *res, struct hd_err *err);
void hd_audit_close(struct hd_audit *a);

/* audit verify: the chain, the checkpoints and the token's witness. */
#define HD_AUDIT_PROBLEMS 16
enum hd_witness_state {
	HD_WIT_NOT_CHECKED,	/* no token session given */
	HD_WIT_NONE,		/* the token holds no witness for this log */
	HD_WIT_OK,		/* the log reaches the witnessed checkpoint */
	HD_WIT_CUT,		/* the log ends before it, or differs there */
};

struct hd_audit_problem {
	uint64_t line;
	char what[400];
};

struct hd_audit_report {
	uint64_t lines, entries, checkpoints;
	uint64_t last_ckpt;		/* line of the last valid checkpoint */
	char last_ckpt_time[32];
	char last_ckpt_sha1[41];
	char last_ckpt_subject[256];
	int cert_checked;		/* the checkpoints' certificates were
					 * checked against --CAfile */
	uint64_t unproven;		/* lines after the last valid one */
	struct hd_audit_problem problems[HD_AUDIT_PROBLEMS];
	size_t nproblems, more_problems;
	enum hd_witness_state witness;
	uint64_t witness_line;
	char witness_text[512];
};

/* -1 (err): the log cannot be read at all.  0: see r->nproblems. */
int hd_audit_verify(const char *path, const char *cafile,
    struct hd_session *s, struct hd_audit_report *r, struct hd_err *err);

/* audit show: the entries, filtered; NULL or 0 for "any". */
struct hd_audit_filter {
	const char *since;	/* "YYYY-MM-DD" or an ISO 8601 UTC prefix */
	const char *sha1;	/* thumbprint prefix */
	const char *file;	/* glob on the path (or its base name) */
};

struct hd_audit_row {
	uint64_t line;
	int checkpoint;			/* a checkpoint, not a signature */
	char time[32], user[64], host[256], token[17];
	char cert_sha1[41], type[24], md[16], sha256[65];
	char file[4096], out[4096], result[600], tsa[512], ts_time[32];
	uint64_t size, count;
	char *raw;			/* the line as stored, no newline */
};

int hd_audit_rows(const char *path, const struct hd_audit_filter *f,
    struct hd_audit_row **rows, size_t *n, struct hd_err *err);
void hd_audit_rows_free(struct hd_audit_row *rows, size_t n);
/* ---- capability probe and vendor quirks (probe.c, vendor.c) ------------ */

/* One mechanism as the token reports it (C_GetMechanismInfo). */
struct hd_mech {
	unsigned long type;		/* CKM_* */
	char name[48];			/* "CKM_RSA_PKCS_PSS", or "0x..." */
	unsigned long min_size, max_size;	/* key sizes, as reported */
	unsigned long flags;		/* CKF_SIGN, CKF_GENERATE_KEY_PAIR... */
	char flag_words[96];		/* "sign verify generate_key_pair" */
};

/* What hsmdesk can do on the token, each line a topic and plain words. */
#define HD_PROBE_LINES 12
struct hd_probe_line {
	char topic[24];			/* "Key generation", ... */
	char text[240];
	int warn;			/* a limitation the operator should know */
};

struct hd_probe {
	char library[160];		/* hd_module_describe */
	char module[4096];
	struct hd_token_info token;
	char hw_version[8], fw_version[8];
	struct hd_mech *mechs;
	size_t nmechs;
	int rsa_gen[3];			/* 2048, 3072, 4096 can be generated */
	int ec_gen[2];			/* P-256, P-384 */
	int rsa_pkcs, rsa_pss, ecdsa;	/* signing mechanisms */
	enum hd_tri rw_session, ro_session;
	enum hd_tri cert_objects;	/* a certificate object is accepted */
	enum hd_tri state_public;	/* C_GetSessionInfo: public session
					 * before login */
	enum hd_tri state_user;		/* ... user functions after (PIN) */
	enum hd_tri hidden_before_login;	/* objects seen only after
					 * login (PIN) */
	int cloudhsm;			/* hd_vendor_cloudhsm */
	struct hd_probe_line lines[HD_PROBE_LINES];
	size_t nlines;
};

/* pin may be NULL: the checks that need a login are then left unknown. */
int hd_probe(struct hd_session *s, struct hd_pin *pin, struct hd_probe *out,
    struct hd_err *err);
void hd_probe_free(struct hd_probe *p);
const char *hd_mech_name(unsigned long type, char *buf, size_t len);
/* First use of a token: 1 and the record's path when the token (by serial)
 * has no record yet in $XDG_STATE_HOME/hsmdesk/tokens/; 0 when it has. */
int hd_probe_record_path(const struct hd_session *s, char *buf, size_t len,
    struct hd_err *err);
int hd_probe_first_use(struct hd_session *s, struct hd_probe *out,
    char *path, size_t len, struct hd_err *err);
int hd_probe_text(const struct hd_probe *p, char **out);

/* p11-kit's registered modules (p11kit.c): name and library path. */
struct hd_p11kit_module {
	char name[64];		/* the .module file's name, without it */
	char path[4096];	/* its module: line, made absolute */
	char config[4096];	/* the .module file */
};
int hd_p11kit_modules(struct hd_p11kit_module **list, size_t *n,
    struct hd_err *err);
/* A module named in config.yaml or --module: a path (has a '/'), else a
 * p11-kit registered name ("softhsm2", optionally "p11-kit:softhsm2"),
 * else a library in p11-kit's module directory ("p11-kit-client"). */
int hd_module_resolve(const char *name, char *path, size_t len,
    struct hd_err *err);
#define HD_P11KIT_CLIENT "p11-kit-client"

/* Vendor quirks (vendor.c).  name: "cloudhsm", "none" or "auto"/NULL. */
int hd_vendor_set(struct hd_session *s, const char *name, struct hd_err *err);
int hd_vendor_cloudhsm(struct hd_session *s);
/* CloudHSM's PIN is "user:password": join the two into pin (wiped). */
int hd_pin_join_user(struct hd_pin *pin, const char *user,
    struct hd_pin *password, struct hd_err *err);

/* Key-generation attestation (attest.c). */
struct hd_attest {
	unsigned char *data;		/* as the token gives it */
	size_t len;
	char source[96];		/* how it was found, in words */
	char sha256[65];
};
/* 0 if the token can offer one, else -1 and err says why (before keygen). */
int hd_attest_supported(struct hd_session *s, struct hd_err *err);
int hd_attest_get(struct hd_session *s, const struct hd_key *k,
    struct hd_attest *out, struct hd_err *err);
int hd_attest_write(const struct hd_attest *a, const char *path, int replace,
    struct hd_err *err);
void hd_attest_free(struct hd_attest *a);
/* "req.pem" -> "req.pem.attest", beside the CSR. */
int hd_attest_path(const char *csr_path, char *buf, size_t len);
/* Add the attestation's section to a ceremony record (hd_ceremony_text). */
int hd_ceremony_attest(char **rec, const struct hd_attest *a,
    const char *path, struct hd_err *err);

#endif
