/*
 * The capability probe: what a token says it can do, and what that means
 * for hsmdesk, in words an officer can act on before a ceremony.  Nothing
 * is kept on the token: the one object made, a certificate that shows
 * whether the token holds certificates, is a session object (CKA_TOKEN
 * false) destroyed at once and gone with the session anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "internal.h"

static const unsigned rsa_sizes[3] = { 2048, 3072, 4096 };
static const struct { const char *name; unsigned bits; } ec_curves[2] = {
	{ "P-256", 256 }, { "P-384", 384 },
};

static void
flag_words(char *buf, size_t len, CK_FLAGS f)
{
	snprintf(buf, len, "%s%s%s%s%s%s%s%s", f & CKF_HW ? "hw " : "",
	    f & CKF_SIGN ? "sign " : "", f & CKF_VERIFY ? "verify " : "",
	    f & CKF_GENERATE_KEY_PAIR ? "generate_key_pair " : "",
	    f & CKF_GENERATE ? "generate " : "",
	    f & CKF_ENCRYPT ? "encrypt " : "",
	    f & CKF_DECRYPT ? "decrypt " : "", f & CKF_DIGEST ? "digest " : "");
	if (buf[0] != '\0')
		buf[strlen(buf) - 1] = '\0';	/* the last blank */
}

static int
mechs_read(struct hd_session *s, struct hd_probe *p, struct hd_err *err)
{
	CK_MECHANISM_TYPE *t = NULL;
	CK_MECHANISM_INFO mi;
	CK_ULONG n = 0, i;
	CK_RV rv;

	CK_ULONG cap;

	if ((rv = s->fl->C_GetMechanismList(s->slot, NULL, &n)) != CKR_OK)
		return hd_err_ckr(err, rv, "listing mechanisms", "token");
	/* room to spare: through p11-kit-client.so (0.24) ASan saw the
	 * list written past a buffer of the size the first call gave */
	cap = n + 64;
	t = calloc(cap, sizeof(*t));
	p->mechs = calloc(cap, sizeof(*p->mechs));
	if (t == NULL || p->mechs == NULL) {
		free(t);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	n = cap;
	if ((rv = s->fl->C_GetMechanismList(s->slot, t, &n)) != CKR_OK ||
	    n > cap) {
		free(t);
		return hd_err_ckr(err, rv != CKR_OK ? rv : CKR_BUFFER_TOO_SMALL,
		    "listing mechanisms", "token");
	}
	for (i = 0; i < n; i++) {
		struct hd_mech *m = &p->mechs[i];

		if (s->fl->C_GetMechanismInfo(s->slot, t[i], &mi) != CKR_OK)
			memset(&mi, 0, sizeof(mi));
		m->type = t[i];
		hd_mech_name(t[i], m->name, sizeof(m->name));
		m->min_size = mi.ulMinKeySize;
		m->max_size = mi.ulMaxKeySize;
		m->flags = mi.flags;
		flag_words(m->flag_words, sizeof(m->flag_words), mi.flags);
	}
	p->nmechs = n;
	free(t);
	return 0;
}

static const struct hd_mech *
mech(const struct hd_probe *p, CK_MECHANISM_TYPE type)
{
	size_t i;

	for (i = 0; i < p->nmechs; i++)
		if (p->mechs[i].type == type)
			return &p->mechs[i];
	return NULL;
}

/* Sizes are bits, but some tokens give EC sizes in bytes (PKCS#11 leaves
 * it to the mechanism); a token that gives none is taken at its word. */
static int
covers(const struct hd_mech *m, unsigned bits, int ec)
{
	unsigned long v = bits;

	if (m == NULL)
		return 0;
	if (m->min_size == 0 && m->max_size == 0)
		return 1;
	if (ec && m->max_size < 128)
		v = (bits + 7) / 8;
	return v >= m->min_size && v <= m->max_size;
}

static void
what_it_can(struct hd_probe *p)
{
	const struct hd_mech *rsa = mech(p, CKM_RSA_PKCS_KEY_PAIR_GEN);
	const struct hd_mech *ec = mech(p, CKM_EC_KEY_PAIR_GEN);
	const struct hd_mech *m;
	size_t i;

	for (i = 0; i < 3; i++)
		p->rsa_gen[i] = rsa != NULL && (rsa->flags &
		    CKF_GENERATE_KEY_PAIR) && covers(rsa, rsa_sizes[i], 0);
	for (i = 0; i < 2; i++)
		p->ec_gen[i] = ec != NULL && (ec->flags &
		    CKF_GENERATE_KEY_PAIR) && covers(ec, ec_curves[i].bits, 1);
	p->rsa_pkcs = (m = mech(p, CKM_RSA_PKCS)) != NULL &&
	    (m->flags & CKF_SIGN);
	p->rsa_pss = (m = mech(p, CKM_RSA_PKCS_PSS)) != NULL &&
	    (m->flags & CKF_SIGN);
	p->ecdsa = (m = mech(p, CKM_ECDSA)) != NULL && (m->flags & CKF_SIGN);
}

/* A throwaway self-signed certificate, to offer the token. */
static int
probe_cert(unsigned char **der, int *len, unsigned char **subj, int *slen)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	int ok = k != NULL && x != NULL && n != NULL &&
	    X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"hsmdesk probe", -1, -1, 0) &&
	    X509_set_issuer_name(x, n) && X509_set_pubkey(x, k) &&
	    X509_sign(x, k, EVP_sha256()) > 0;

	*der = *subj = NULL;
	if (ok) {
		*len = i2d_X509(x, der);
		*slen = i2d_X509_NAME(n, subj);
		ok = *len > 0 && *slen > 0;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

static enum hd_tri
cert_check(struct hd_session *s, CK_SESSION_HANDLE h)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL no = CK_FALSE;
	unsigned char *der, *subj;
	int len, slen;
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	if (probe_cert(&der, &len, &subj, &slen) == -1) {
		OPENSSL_free(der);
		OPENSSL_free(subj);
		return HD_UNKNOWN;
	}
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
			{ CKA_TOKEN, &no, sizeof(no) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_SUBJECT, subj, (CK_ULONG)slen },
			{ CKA_VALUE, der, (CK_ULONG)len },
		};

		rv = s->fl->C_CreateObject(h, t, 6, &o);
	}
	if (rv == CKR_OK)
		(void)s->fl->C_DestroyObject(h, o);
	OPENSSL_free(der);
	OPENSSL_free(subj);
	return rv == CKR_OK ? HD_YES : HD_NO;
}

static int
state_public(CK_STATE st)
{
	return st == CKS_RO_PUBLIC_SESSION || st == CKS_RW_PUBLIC_SESSION;
}

/* Sessions, login state and listing, before any login. */
static void
sessions_check(struct hd_session *s, struct hd_probe *p)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_SESSION_HANDLE h;
	CK_SESSION_INFO si;
	CK_RV rv;

	rv = s->fl->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
	p->ro_session = rv == CKR_OK ? HD_YES : HD_NO;
	if (rv == CKR_OK)
		(void)s->fl->C_CloseSession(h);
	rv = s->fl->C_OpenSession(s->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &h);
	p->rw_session = rv == CKR_OK ? HD_YES : HD_NO;
	if (rv != CKR_OK)
		return;
	if (s->fl->C_GetSessionInfo(h, &si) == CKR_OK && !s->logged_in)
		p->state_public = state_public(si.state) ? HD_YES : HD_NO;
	/* CloudHSM refuses any search before login */
	rv = s->fl->C_FindObjectsInit(h, &t, 1);
	if (rv == CKR_OK)
		(void)s->fl->C_FindObjectsFinal(h);
	if (!s->logged_in)
		p->hidden_before_login = rv == CKR_USER_NOT_LOGGED_IN ?
		    HD_YES : rv == CKR_OK ? HD_NO : HD_UNKNOWN;
	p->cert_objects = cert_check(s, h);
	(void)s->fl->C_CloseSession(h);
}

static void
login_check(struct hd_session *s, struct hd_probe *p, struct hd_pin *pin,
    struct hd_err *err)
{
	CK_SESSION_INFO si;
	struct hd_err e2;

	if (pin == NULL || hd_login(s, pin, err) == -1)
		return;
	if (s->fl->C_GetSessionInfo(s->sh, &si) == CKR_OK)
		p->state_user = si.state == CKS_RW_USER_FUNCTIONS ||
		    si.state == CKS_RO_USER_FUNCTIONS ? HD_YES : HD_NO;
	hd_logout(s, &e2);
}

static void
info_read(struct hd_session *s, struct hd_probe *p)
{
	CK_TOKEN_INFO t;

	hd_module_describe(s, p->library, sizeof(p->library));
	snprintf(p->module, sizeof(p->module), "%s", s->module);
	if (s->fl->C_GetTokenInfo(s->slot, &t) != CKR_OK)
		return;
	snprintf(p->hw_version, sizeof(p->hw_version), "%u.%u",
	    t.hardwareVersion.major, t.hardwareVersion.minor);
	snprintf(p->fw_version, sizeof(p->fw_version), "%u.%u",
	    t.firmwareVersion.major, t.firmwareVersion.minor);
}

/*
 * Probe the selected token.  With a PIN the login state after login is
 * checked too (and the session logged out again); a wrong PIN fails the
 * probe, as it would any operation.
 */
int
hd_probe(struct hd_session *s, struct hd_pin *pin, struct hd_probe *out,
    struct hd_err *err)
{
	hd_err_clear(err);
	memset(out, 0, sizeof(*out));
	out->rw_session = out->ro_session = out->cert_objects = HD_UNKNOWN;
	out->state_public = out->state_user = HD_UNKNOWN;
	out->hidden_before_login = HD_UNKNOWN;
	if (hd_token_info(s, &out->token, err) == -1)
		return -1;
	if (!out->token.initialized)
		return hd_err_set(err, HD_E_UNINIT, 0, "token: not "
		    "initialized");
	out->cloudhsm = out->token.cloudhsm;
	info_read(s, out);
	if (mechs_read(s, out, err) == -1)
		return -1;
	what_it_can(out);
	sessions_check(s, out);
	login_check(s, out, pin, err);
	if (err->code != HD_OK) {
		hd_probe_free(out);
		return -1;
	}
	hd_probe_words(s, out);
	return 0;
}

void
hd_probe_free(struct hd_probe *p)
{
	free(p->mechs);
	p->mechs = NULL;
	p->nmechs = 0;
}
