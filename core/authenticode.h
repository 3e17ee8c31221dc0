/*
 * Authenticode signatures (spc.c, sign_pe.c, verify_pe.c); internal to
 * core.  A PKCS#7 SignedData (not CMS) whose content is Microsoft's
 * SpcIndirectDataContent.
 *
 * Reference: "Windows Authenticode Portable Executable Signature Format"
 * 1.0 (Microsoft), sections "Authenticode-Specific Structures" and
 * "Authenticode Signatures".
 */
#ifndef HD_AUTHENTICODE_H
#define HD_AUTHENTICODE_H

#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "pe.h"

#define HD_OID_SPC_INDIRECT_DATA	"1.3.6.1.4.1.311.2.1.4"
#define HD_OID_SPC_STATEMENT_TYPE	"1.3.6.1.4.1.311.2.1.11"
#define HD_OID_SPC_SP_OPUS_INFO		"1.3.6.1.4.1.311.2.1.12"
#define HD_OID_SPC_PE_IMAGE_DATA	"1.3.6.1.4.1.311.2.1.15"
#define HD_OID_SPC_INDIVIDUAL_SP_KEY	"1.3.6.1.4.1.311.2.1.21"
#define HD_OID_SPC_NESTED_SIGNATURE	"1.3.6.1.4.1.311.2.4.1"
#define HD_OID_SPC_SIPINFO		"1.3.6.1.4.1.311.2.1.30"

/* What an SpcIndirectDataContent signs: its data type. */
enum hd_spc_kind {
	HD_SPC_OTHER = 0,
	HD_SPC_PE,			/* SPC_PE_IMAGE_DATAOBJ */
	HD_SPC_PS1,			/* SpcSipInfo, PowerShell's SIP */
};

/* spc.c: the Spc* structures, DER in buffers the caller frees with
 * OPENSSL_free. */
int hd_spc_indirect_data(enum hd_spc_kind kind, const struct hd_pe_digest *dg,
    unsigned char **der, int *len);
int hd_spc_opus_info(const char *desc, const char *url, unsigned char **der,
    int *len, struct hd_err *err);
int hd_spc_statement_type(unsigned char **der, int *len);
/* What an SpcIndirectDataContent says: the data type and the digest. */
struct hd_spc_digest {
	enum hd_spc_kind kind;
	const EVP_MD *md;		/* NULL: an algorithm not accepted */
	char md_name[32];		/* "SHA256", or the OID's name */
	unsigned char value[EVP_MAX_MD_SIZE];
	unsigned len;
};
int hd_spc_indirect_parse(const unsigned char *der, long len,
    struct hd_spc_digest *out);
int hd_spc_body(const unsigned char *der, long len,
    const unsigned char **body, long *blen);
const EVP_MD *hd_spc_md(const char *name);

/* verify_pe.c: the Authenticode content of p7, its DER and the checks a
 * signature must pass without a trust store (the signer's own). */
ASN1_STRING *hd_ac_content(PKCS7 *p7);
int hd_ac_nested(PKCS7 *p7, STACK_OF(PKCS7) **out);
int hd_ac_self_check(PKCS7 *p7, enum hd_spc_kind kind,
    const struct hd_pe_digest *dg, char *why, size_t len);
void hd_ac_thumbprint(X509 *x, char out[41]);

/* verify_pe.c: checking the signatures of a file against a CA file;
 * digest gives the file's digest with md, once per algorithm. */
struct hd_ac_verifier {
	const char *path;		/* names the file in messages */
	enum hd_spc_kind kind;
	X509_STORE *store;
	STACK_OF(X509) *pool;		/* no CA file: the local store's
					 * intermediates, untrusted */
	struct hd_pe_digest dg[4];	/* the file's, one per algorithm */
	size_t ndg;
	int (*digest)(void *ctx, const EVP_MD *md, struct hd_pe_digest *out,
	    struct hd_err *err);
	void *ctx;
	const struct hd_pe *pe;		/* hd_verify_pe's */
	const char *tsa_cafile;		/* timestamps' roots; NULL: system */
	hd_progress_fn progress;
	void *arg;
};
int hd_ac_load_store(struct hd_ac_verifier *v, const char *cafile,
    struct hd_err *err);
int hd_ac_verify_der(struct hd_ac_verifier *v, const unsigned char *der,
    size_t len, struct hd_sig_report **sigs, size_t *n, struct hd_err *err);

/* authenticode.c: making a signature of g->dg, whatever the file. */
struct hd_ac_sign {
	struct hd_session *s;
	const struct hd_key *k;
	const struct hd_sign_pe_opts *o;
	enum hd_spc_kind kind;
	const char *path;		/* names the file in messages */
	const EVP_MD *md;
	X509 *cert;
	STACK_OF(X509) *chain;
	unsigned char *opus;		/* SpcSpOpusInfo DER */
	int opus_len;
	struct hd_signer *signer;
	struct hd_pe_digest dg;		/* the file's digest, to be signed */
	PKCS7 *old;			/* the signature to nest into */
	unsigned char *der;		/* the signature to embed */
	int len;
	char tsa[512], ts_time[32];	/* its timestamp's, "" if none */
};
int hd_ac_setup(struct hd_ac_sign *g, const struct hd_der *cert,
    const struct hd_der *chain, size_t nchain, struct hd_err *err);
int hd_ac_old(struct hd_ac_sign *g, const unsigned char *der, size_t len,
    struct hd_err *err);
int hd_ac_open(struct hd_ac_sign *g, struct hd_err *err);
int hd_ac_make(struct hd_ac_sign *g, struct hd_err *err);
void hd_ac_result(struct hd_ac_sign *g, struct hd_sign_pe_result *res);
void hd_ac_free(struct hd_ac_sign *g);

#endif
