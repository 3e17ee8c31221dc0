/*
 * What the certificate files in core share: the parsed bundle, the local
 * store and the token's certificate objects.  Internal to core (and the
 * fuzz target, which feeds hd_cert_parse).
 */
#ifndef HD_CERT_INT_H
#define HD_CERT_INT_H

#include <time.h>

#include <openssl/x509.h>

#include "internal.h"

/* A bundle is small by design; so is the number of certificates in it. */
#define HD_CERT_FILE_MAX (1024 * 1024)
#define HD_BUNDLE_MAX 64

/* cert_parse.c: PEM, DER, PKCS#7 (PEM or DER) into certificates. */
int hd_cert_parse(const unsigned char *buf, size_t len, const char *name,
    STACK_OF(X509) **out, struct hd_err *err);
int hd_cert_read(const char *path, STACK_OF(X509) **out, struct hd_err *err);
int hd_cert_describe(X509 *x, time_t now, struct hd_cert *c);
X509 *hd_cert_x509(const struct hd_cert *c);
/* Pieces of a description, shared with cert_lite.c. */
void hd_cert_name_text(const X509_NAME *n, char *buf, size_t len);
int hd_cert_time(const ASN1_TIME *t, int64_t *out);
void hd_cert_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len);
int hd_cert_days_until(int64_t t, time_t now);

/* cert_lite.c: the same description without decoding the key, for
 * listings; -1 for a self-issued certificate (use hd_cert_describe). */
int hd_cert_describe_der(const unsigned char *der, size_t len, time_t now,
    struct hd_cert *c);

/* cert_check.c: what accept reports before storing. */
void hd_check_validity(const struct hd_cert *cert, time_t now,
    struct hd_check *c);
void hd_check_usage(X509 *x, struct hd_check *c);
X509_STORE *hd_trust_store(X509 *extra, struct hd_err *err);
int hd_check_chain(X509 *leaf, STACK_OF(X509) *bundle, X509 *trust_now,
    struct hd_check *c, struct hd_err *err);
int hd_is_trusted(X509_STORE *st, X509 *root);

/* cert_store.c: $XDG_DATA_HOME/hsmdesk/certs */
int hd_store_put(enum hd_cert_where w, const char *serial,
    const unsigned char *id, size_t idlen, X509 *x, int *added,
    struct hd_err *err);
int hd_store_has_leaf(const char *serial, const unsigned char *id,
    size_t idlen, const char *sha1, struct hd_err *err);
int hd_store_load(enum hd_cert_where w, const char *serial,
    struct hd_cert **list, size_t *n, struct hd_err *err);
int hd_store_pool(STACK_OF(X509) **out, struct hd_err *err);
int hd_store_pool_add(STACK_OF(X509) *untrusted, struct hd_err *err);

/* cert_token.c: certificate objects and key matching, raw PKCS#11 */
int hd_token_match(struct hd_session *s, STACK_OF(X509) *certs, int *which,
    struct hd_key *key, size_t *uncompared, struct hd_err *err);
int hd_token_cert_has(struct hd_session *s, const unsigned char *der,
    size_t len, struct hd_err *err);
int hd_token_cert_put(struct hd_session *s, X509 *x, const struct hd_key *k,
    CK_RV *rv, struct hd_err *err);
int hd_token_certs(struct hd_session *s, struct hd_cert **list, size_t *n,
    struct hd_err *err);
void hd_certs_key_info(struct hd_session *s, struct hd_cert *l, size_t n);

#endif
