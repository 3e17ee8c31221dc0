/*
 * What core files share and front-ends never see: the session and the
 * raw PKCS#11 helpers.
 */
#ifndef HD_INTERNAL_H
#define HD_INTERNAL_H

#include <p11-kit/pkcs11.h>

#include "hsmdesk.h"

struct PKCS11_ctx_st;

struct hd_session {
	char module[4096];
	void *dl;			/* our dlopen() handle of the module */
	CK_FUNCTION_LIST_PTR fl;	/* shared with libp11's instance */
	struct PKCS11_ctx_st *p11;	/* libp11 context on the same module */
	struct PKCS11_slot_st *p11_slots;	/* signer.c's, see there */
	unsigned int p11_nslots;

	/* The selected token, found again by serial and label before every
	 * operation: slot IDs change when tokens come and go. */
	int selected;
	int selected_uninit;		/* chosen for init-token only */
	char label[33];
	char serial[17];
	CK_SLOT_ID slot;

	CK_SESSION_HANDLE sh;		/* 0 when no session is open */
	int logged_in;

	/* Time inside the token's key generation and signing calls, so a
	 * benchmark can tell the token's time from hsmdesk's own. */
	uint64_t gen_ns, sign_ns;

	/* config.yaml vendor: "cloudhsm" forces that vendor's quirks on a
	 * token that does not say what it is; "" = judge by its info */
	char vendor[16];
};

/* module.c: CLOCK_MONOTONIC in nanoseconds */
uint64_t hd_now_ns(void);

/* token.c */
int hd_token_resolve(struct hd_session *s, struct hd_err *err);
void hd_fill_info(struct hd_token_info *ti, CK_SLOT_ID slot,
    const CK_SLOT_INFO *si, const CK_TOKEN_INFO *t);
int hd_slot_info(struct hd_session *s, CK_SLOT_ID slot,
    struct hd_token_info *ti, struct hd_err *err);
const char *hd_token_name(const struct hd_session *s);

/* vendor.c: what the token does not report but the vendor is known for */
void hd_vendor_fix_info(struct hd_session *s, struct hd_token_info *ti,
    const CK_INFO *lib);
int hd_module_per_caller(const struct hd_session *s);

/* probe_words.c: the probe's findings as plain-word lines */
void hd_probe_words(struct hd_session *s, struct hd_probe *p);

/* err_vendor.c */
const char *hd_ckr_vendor_name(unsigned long ckr, char *buf, size_t len);
int hd_ckr_vendor(unsigned long ckr, char *words, size_t wlen, char *hint,
    size_t hlen, enum hd_code *code);
void hd_vendor_hint(struct hd_session *s, struct hd_err *err,
    unsigned long rv);

/* login.c */
int hd_session_open(struct hd_session *s, struct hd_err *err);
void hd_session_close(struct hd_session *s);

/* input_check.c: -1 and err if the file open as fd (fstat'ed into
 * before) changed, or path names it no more */
struct stat;
int hd_input_unchanged(int fd, const char *path, const struct stat *before,
    struct hd_err *err);

/* perm_check.c: 0 if path (and, for _file, its directory) is absent or
 * writable by its owner only, the owner being the user or root */
int hd_perm_check(const char *path, enum hd_code code, struct hd_err *err);
int hd_perm_check_file(const char *path, enum hd_code code,
    struct hd_err *err);

/* session_check.c: 1 and err filled if the token dropped s's session */
int hd_session_gone(struct hd_session *s, struct hd_err *err);

/* p11.c: small raw helpers shared by the core files */
#define HD_MAX_OBJECTS 4096
enum hd_tri hd_attr_bool(struct hd_session *s, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type);
void hd_attr_bools(struct hd_session *s, CK_OBJECT_HANDLE h,
    const CK_ATTRIBUTE_TYPE *types, enum hd_tri *out, size_t n);
long hd_attr_bytes(struct hd_session *s, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, void *buf, size_t len);
int hd_find(struct hd_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n, struct hd_err *err);
int hd_find_class(struct hd_session *s, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n, struct hd_err *err);
int hd_find_by_id(struct hd_session *s, CK_OBJECT_CLASS cls,
    const unsigned char *id, size_t idlen, CK_OBJECT_HANDLE *out,
    struct hd_err *err);

/* keys.c: reading a key's description from its objects */
void hd_key_init(struct hd_key *k);
void hd_key_ident(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_key *k);
void hd_key_type_size(struct hd_session *s, CK_OBJECT_HANDLE h,
    struct hd_key *k);
void hd_key_private_attrs(struct hd_session *s, CK_OBJECT_HANDLE h,
    struct hd_key *k);

/* pubkey.c */
struct evp_pkey_st;
struct evp_pkey_st *hd_object_pubkey(struct hd_session *s,
    CK_OBJECT_HANDLE h);
int hd_key_id(struct evp_pkey_st *pk, unsigned char id[20]);

/* signer.c: the token key as libp11's signing EVP_PKEY */
struct hd_signer;
struct hd_signer *hd_signer_open(struct hd_session *s, const struct hd_key *k,
    struct hd_err *err);
struct evp_pkey_st *hd_signer_pkey(struct hd_signer *g);
void hd_signer_close(struct hd_signer *g);
void hd_signer_release(struct hd_session *s);
int hd_signer_rw(struct hd_session *s, struct hd_err *err);
int hd_signer_login(struct hd_session *s, const char *pin,
    struct hd_err *err);

/* sign_mech.c: the token mechanism behind a signature */
enum hd_sigmech {
	HD_SIG_RSA_PKCS,	/* CKM_RSA_PKCS: PKCS#1 v1.5 */
	HD_SIG_RSA_PSS,		/* CKM_RSA_PKCS_PSS */
	HD_SIG_RSA_PSS_RAW,	/* PSS padded by OpenSSL, CKM_RSA_X_509 */
	HD_SIG_ECDSA,		/* CKM_ECDSA */
};
int hd_sigmech_choose(struct hd_session *s, const struct hd_key *k, int pss,
    enum hd_sigmech *out, struct hd_err *err);
int hd_sigmech_apply(struct evp_pkey_st *pk, enum hd_sigmech m,
    struct hd_err *err);
const char *hd_sigmech_name(enum hd_sigmech m);

/* stream.c: a file fed to a BIO chain, refusing one that changes */
#include <sys/stat.h>
struct bio_st;
struct hd_stream {
	const char *path;
	int fd;
	struct stat st;		/* at open */
};
int hd_stream_open(struct hd_stream *f, const char *path,
    struct hd_err *err);
uint64_t hd_stream_size(const struct hd_stream *f);
int hd_stream_feed(struct hd_stream *f, struct bio_st *sink,
    unsigned char *buf, size_t len, hd_progress_fn progress, void *arg,
    const char *doing, struct hd_err *err);
void hd_stream_close(struct hd_stream *f);
#define HD_STREAM_CHUNK (1024 * 1024)

/* cms_sign.c: for core callers that hold OpenSSL objects already (the
 * certificate store); cert and chain are only read */
struct x509_st;
struct stack_st_X509;
int hd_sign_open_x509(struct hd_session *s, const struct hd_key *k,
    struct x509_st *cert, struct stack_st_X509 *chain,
    const struct hd_sign_opts *opts, struct hd_sign **out,
    struct hd_err *err);

/* cms_verify.c: a certificate's SHA-1 thumbprint (40 upper-case hex
 * digits) and a name as one line, "C=US, O=..., CN=..." */
struct X509_name_st;
int hd_cms_thumbprint(const struct x509_st *x, char out[41]);
void hd_cms_name(const struct X509_name_st *n, char *buf, size_t len);
struct asn1_string_st;
void hd_cms_time(const struct asn1_string_st *t, char *buf, size_t len);

/* uri.c: RFC 7512 token matching */
int hd_uri_match(const char *uri, const struct hd_token_info *ti,
    struct hd_err *err);

/* Copy a blank-padded PKCS#11 string into a C string, trimming blanks. */
void hd_padded_copy(char *dst, size_t dstlen, const unsigned char *src,
    size_t srclen);

#endif
