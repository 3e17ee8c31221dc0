/*
 * Shared by the unit tests: a throwaway SoftHSM2 token store in a temp
 * dir (its own SOFTHSM2_CONF, HOME and XDG dirs), so no test touches a
 * real token or the user's files.
 */
#ifndef HD_TESTLIB_H
#define HD_TESTLIB_H

#include "hsmdesk.h"

struct tl_env {
	char dir[512];
	char conf[600];
};

#define TL_SO_PIN "12345678"
#define TL_PIN "1234"

int tl_env_new(struct tl_env *e);
void tl_env_free(struct tl_env *e);
void tl_rmrf(const char *dir);
struct hd_pin *tl_pin(const char *text);
/* Initialize the uninitialized token of a fresh store as label. */
int tl_init_token(const char *module, const char *label);
/* An RSA-2048 key pair with CKA_ID = CKA_LABEL = label. */
int tl_gen_rsa(const char *module, const char *token, const char *label,
    int extractable);
/* The module path to test against: SoftHSM2, or the fault injector. */
const char *tl_softhsm(void);
const char *tl_fakep11(void);
/* Open module, select the token labelled token and log in as the user;
 * NULL (and a line on stderr) if any step fails. */
struct hd_session *tl_login(const char *module, const char *token);
/* profiles/NAME.yaml of the source tree (HSMDESK_TOP); a static path. */
const char *tl_shipped_profile(const char *name);
/*
 * The public key of token object h, built here from its raw attributes
 * (RSA: CKA_MODULUS, CKA_PUBLIC_EXPONENT; EC: CKA_EC_PARAMS and the DER
 * CKA_EC_POINT, whose raw point goes to point/plen if not NULL), not
 * through core/pubkey.c; NULL if it cannot be read.
 */
struct evp_pkey_st;
struct evp_pkey_st *tl_object_pubkey(struct hd_session *s, unsigned long h,
    unsigned char *point, size_t *plen);
/* RFC 5280 §4.2.1.2 (1): SHA-1 of the subjectPublicKey BIT STRING. */
int tl_spki_sha1(struct evp_pkey_st *pk, unsigned char id[20]);
/* Write text to dir/name; returns a static path. */
const char *tl_write(const struct tl_env *e, const char *name,
    const char *text);

/* ---- certificates: a software test CA issuing for token keys ---------- */

struct x509_st;
struct evp_pkey_st;
struct hd_session;

struct tl_ca {
	struct evp_pkey_st *root_key, *inter_key;
	struct x509_st *root, *inter;
};

/* Root "Test Root" and intermediate "Test Intermediate", EC P-256, no
 * CRL or AIA URLs. */
int tl_ca_new(struct tl_ca *ca);
void tl_ca_free(struct tl_ca *ca);
/* A certificate for pub signed by the intermediate, valid from `from`
 * to `to` days from now; eku "" for none, else "codeSigning" etc.; ku 0
 * for no key usage extension. */
struct x509_st *tl_issue(const struct tl_ca *ca, struct evp_pkey_st *pub,
    const char *cn, long from, long to, const char *eku, unsigned ku);
/* Write certs to dir/name as TL_PEM (concatenated), TL_DER (the first),
 * TL_P7B (PKCS#7 DER) or TL_P7B_PEM; returns a static path. */
enum { TL_PEM, TL_DER, TL_P7B, TL_P7B_PEM };
const char *tl_write_certs(const struct tl_env *e, const char *name,
    int fmt, struct x509_st *const *certs, size_t n);
/* The public key of token key k (logged-in session s). */
struct evp_pkey_st *tl_token_pub(struct hd_session *s, const struct hd_key *k);
/* A key pair on the logged-in token through hd_keygen: RSA-2048 or P-256. */
int tl_keygen(struct hd_session *s, int ec, const char *label,
    struct hd_key *out);

#endif
