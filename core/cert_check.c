/*
 * What accept tells the operator before it stores a certificate: is it
 * valid now, is it marked for code signing, does it chain to a root that
 * is trusted.  All of these are warnings: the certificate is still the
 * one the CA issued for the key, and the operator decides.  Trust anchors
 * are the system's roots and the roots the operator confirmed
 * (--trust-root); intermediates are only ever chain material.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert_int.h"

static void
check_set(struct hd_check *c, const char *name, enum hd_check_level lvl,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
check_set(struct hd_check *c, const char *name, enum hd_check_level lvl,
    const char *fmt, ...)
{
	va_list ap;

	c->name = name;
	c->level = lvl;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

void
hd_check_validity(const struct hd_cert *cert, time_t now, struct hd_check *c)
{
	char from[16], to[16];
	long ago = (long)(((int64_t)now - cert->not_after) / 86400);

	hd_cert_date(cert->not_before, from, sizeof(from));
	hd_cert_date(cert->not_after, to, sizeof(to));
	if (cert->not_after < (int64_t)now)
		check_set(c, "validity", HD_CHECK_WARN, "expired on %s (%ld "
		    "day%s ago): signatures made with it will not verify", to,
		    ago, ago == 1 ? "" : "s");
	else if (cert->not_before > (int64_t)now)
		check_set(c, "validity", HD_CHECK_WARN, "not valid before %s "
		    "(check this machine's clock, or wait)", from);
	else
		check_set(c, "validity", HD_CHECK_OK, "valid %s to %s (%d "
		    "day%s left)", from, to, cert->days_left,
		    cert->days_left == 1 ? "" : "s");
}

static const struct {
	uint32_t bit;
	const char *name;
} ku_names[] = {
	{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
	{ KU_NON_REPUDIATION, "nonRepudiation" },
	{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
	{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
	{ KU_KEY_AGREEMENT, "keyAgreement" },
	{ KU_KEY_CERT_SIGN, "keyCertSign" },
	{ KU_CRL_SIGN, "cRLSign" },
};

static void
list_add(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", word);
}

static void
ku_text(uint32_t ku, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(ku_names) / sizeof(ku_names[0]); i++)
		if (ku & ku_names[i].bit)
			list_add(buf, len, ku_names[i].name);
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

static void
eku_text(X509 *x, char *buf, size_t len)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);
	char oid[80];
	int i;

	buf[0] = '\0';
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);

		if (nid != NID_undef)
			snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
		else
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
		list_add(buf, len, oid);
	}
	EXTENDED_KEY_USAGE_free(eku);
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

/*
 * The key usage and extended key usage of a certificate (DER), in words,
 * for a details pane: "digitalSignature", "codeSigning, timeStamping";
 * "not restricted" when the extension is absent.
 */
int
hd_cert_usages(const struct hd_cert *c, char *ku, size_t kulen, char *eku,
    size_t ekulen)
{
	const unsigned char *p = c->der;
	X509 *x = c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
	uint32_t bits;

	snprintf(ku, kulen, "?");
	snprintf(eku, ekulen, "?");
	if (x == NULL) {
		ERR_clear_error();
		return -1;
	}
	bits = X509_get_key_usage(x);
	if (bits == UINT32_MAX)
		snprintf(ku, kulen, "not restricted (no extension)");
	else
		ku_text(bits, ku, kulen);
	if (X509_get_extended_key_usage(x) == UINT32_MAX)
		snprintf(eku, ekulen, "not restricted (no extension)");
	else
		eku_text(x, eku, ekulen);
	X509_free(x);
	ERR_clear_error();
	return 0;
}

/*
 * Code signing needs digitalSignature in the key usage (when there is
 * one) and codeSigning in the extended key usage (RFC 5280 §4.2.1.12;
 * Windows and osslsigncode check it).
 */
void
hd_check_usage(X509 *x, struct hd_check *c)
{
	uint32_t ku, xku;
	char has[256];

	if (X509_get_extension_flags(x) & EXFLAG_INVALID) {
		check_set(c, "usage", HD_CHECK_WARN, "its extensions cannot "
		    "be decoded; verifiers will reject it");
		ERR_clear_error();
		return;
	}
	ku = X509_get_key_usage(x);
	xku = X509_get_extended_key_usage(x);
	if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE)) {
		ku_text(ku, has, sizeof(has));
		check_set(c, "usage", HD_CHECK_WARN, "key usage lacks "
		    "digitalSignature (has: %s): signatures made with it "
		    "will be rejected", has);
	} else if (xku == UINT32_MAX) {
		check_set(c, "usage", HD_CHECK_WARN, "no extended key usage, "
		    "so not marked for code signing (accepted for any purpose "
		    "by Windows, but signing policies usually ask for "
		    "codeSigning)");
	} else if (!(xku & (XKU_CODE_SIGN | XKU_ANYEKU))) {
		eku_text(x, has, sizeof(has));
		check_set(c, "usage", HD_CHECK_WARN, "not for code signing: "
		    "the extended key usage lacks codeSigning (has: %s)", has);
	} else {
		eku_text(x, has, sizeof(has));
		check_set(c, "usage", HD_CHECK_OK, "code signing (extended "
		    "key usage: %s)", has);
	}
	ERR_clear_error();
}

/* The system's roots, the local anchors and extra (may be NULL). */
X509_STORE *
hd_trust_store(X509 *extra, struct hd_err *err)
{
	X509_STORE *st = X509_STORE_new();
	struct hd_cert *l = NULL;
	size_t n = 0, i;
	int ok = st != NULL;

	if (!ok) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		return NULL;
	}
	/* a machine without system roots is fine: local anchors remain */
	(void)X509_STORE_set_default_paths(st);
	ERR_clear_error();
	if (hd_store_load(HD_CERT_ANCHOR, NULL, &l, &n, err) == -1)
		ok = 0;
	for (i = 0; ok && i < n; i++) {
		X509 *x = hd_cert_x509(&l[i]);

		ok = x != NULL && X509_STORE_add_cert(st, x) == 1;
		X509_free(x);
	}
	if (ok && extra != NULL)
		ok = X509_STORE_add_cert(st, extra) == 1;
	hd_certs_free(l, n);
	ERR_clear_error();
	if (!ok) {
		if (err->code == HD_OK)
			hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

static int
verify(X509_STORE *st, X509 *x, STACK_OF(X509) *untrusted, int *error,
    X509 **at, STACK_OF(X509) **chain)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	if (ctx == NULL || !X509_STORE_CTX_init(ctx, st, x, untrusted)) {
		X509_STORE_CTX_free(ctx);
		return -1;
	}
	/* validity is its own check: report the chain whatever the dates */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	ok = X509_verify_cert(ctx) == 1;
	*error = X509_STORE_CTX_get_error(ctx);
	if (at != NULL && (*at = X509_STORE_CTX_get_current_cert(ctx)))
		X509_up_ref(*at);
	if (chain != NULL)
		*chain = X509_STORE_CTX_get1_chain(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* 1 if root is one of the store's anchors. */
int
hd_is_trusted(X509_STORE *st, X509 *root)
{
	int e;

	return verify(st, root, NULL, &e, NULL, NULL) == 1;
}

static void
name_of(X509 *x, char *buf, size_t len)
{
	struct hd_cert c;

	buf[0] = '\0';
	if (x != NULL && hd_cert_describe(x, 0, &c) == 0) {
		snprintf(buf, len, "%s", c.subject);
		hd_cert_free(&c);
	}
}

static void
chain_fail(struct hd_check *c, int e, X509 *at)
{
	char who[200];

	name_of(at, who, sizeof(who));
	switch (e) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		check_set(c, "chain", HD_CHECK_WARN, "self-signed: nothing "
		    "vouches for it, so its signatures verify only where it "
		    "is trusted by hand");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		check_set(c, "chain", HD_CHECK_WARN, "ends at root '%s', which "
		    "is not trusted here yet", who);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		check_set(c, "chain", HD_CHECK_WARN, "incomplete: no issuer "
		    "known for '%s'; a bundle (.p7b) with the intermediate "
		    "and root certificates completes it", who);
		break;
	default:
		check_set(c, "chain", HD_CHECK_WARN, "does not verify at '%s': "
		    "%s", who, X509_verify_cert_error_string(e));
	}
}

/*
 * Does leaf chain to a trusted root, with the file's other certificates
 * and the local store's chain material as intermediates, and trust_now
 * (the root being trusted by this call) as one more anchor?
 */
int
hd_check_chain(X509 *leaf, STACK_OF(X509) *bundle, X509 *trust_now,
    struct hd_check *c, struct hd_err *err)
{
	X509_STORE *st = hd_trust_store(trust_now, err);
	STACK_OF(X509) *pool = NULL, *chain = NULL;
	X509 *at = NULL;
	int e = 0, ok, i, rc = -1;

	if (st == NULL || hd_store_pool(&pool, err) == -1)
		goto out;
	for (i = 0; i < sk_X509_num(bundle); i++)
		if (!X509_add_cert(pool, sk_X509_value(bundle, i),
		    X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP))
			goto nomem;
	if ((ok = verify(st, leaf, pool, &e, &at, &chain)) == -1)
		goto nomem;
	if (ok) {
		char root[200];
		int n = sk_X509_num(chain);

		name_of(sk_X509_value(chain, n - 1), root, sizeof(root));
		if (n > 2)
			check_set(c, "chain", HD_CHECK_OK, "chains to trusted "
			    "root '%s' through %d intermediate%s", root, n - 2,
			    n == 3 ? "" : "s");
		else
			check_set(c, "chain", HD_CHECK_OK, "chains to trusted "
			    "root '%s'%s", root, n == 2 ? "" :
			    " (it is that root)");
	} else {
		chain_fail(c, e, at);
	}
	rc = 0;
	goto out;
nomem:
	hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
out:
	X509_free(at);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(pool, X509_free);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}
