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

struct hd_config {
	char *module;		/* NULL if not set */
	char *token;
	unsigned idle_logout;	/* seconds, 0 = never; default 300 */
	int cert_store;		/* enum hd_cert_store; default auto */
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

/* ---- Authenticode for PE files (sign_pe.c, verify_pe.c) ---------------- */

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
};

int hd_verify_file(const char *data, const char *sig,
    const struct hd_verify_opts *opts, struct hd_verify_result *res,
    struct hd_err *err);
const char *hd_verdict_name(enum hd_verdict v);

#endif
