/*
 * What each certreq INF key means here: one table per section, every key
 * handled, ignored and listed (it means nothing on PKCS#11), ignored
 * unless TRUE (TRUE would change the request) or refused with the reason.
 * Key names and values follow Microsoft's certreq documentation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inf_int.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))
/* ---- [Version] and [RequestAttributes] --------------------------------- */

static int
k_signature(struct inf *f, struct inf_kv *kv)
{
	if (strcasecmp(kv->val, "$Windows NT$") != 0)
		return inf_fail(f, kv->line, kv->vcol, "Signature = %.40s: "
		    "certreq INF files have Signature = \"$Windows NT$\"",
		    kv->val);
	f->have_signature = 1;
	return 0;
}

static int
k_template(struct inf *f, struct inf_kv *kv)
{
	char why[96];

	if (kv->val[0] == '\0' || hd_text_check(kv->val,
	    sizeof(f->p->cert_template), why, sizeof(why)) == -1)
		return inf_fail(f, kv->line, kv->vcol, "CertificateTemplate: "
		    "%s", kv->val[0] ? why : "empty");
	snprintf(f->p->cert_template, sizeof(f->p->cert_template), "%s",
	    kv->val);
	return 0;
}

/* ---- [NewRequest] ------------------------------------------------------ */

static int
k_subject(struct inf *f, struct inf_kv *kv)
{
	if (kv->val[0] == '\0')
		return 0;	/* none here: --subject gives it */
	if (hd_profile_set_subject(f->p, kv->val, f->err) == 0)
		return 0;
	/* the message starts "subject: ...": the place is enough */
	hd_err_prefix(f->err, "%s:%zu:%zu: ", f->path, kv->line, kv->vcol);
	hd_err_hint(f->err, "%s", INF_HINT);
	return -1;
}

static int
k_algorithm(struct inf *f, struct inf_kv *kv)
{
	if (strcasecmp(kv->val, "RSA") == 0)
		f->ec = 0;
	else if (strcasecmp(kv->val, "ECDSA_P256") == 0)
		f->ec = 256;
	else if (strcasecmp(kv->val, "ECDSA_P384") == 0)
		f->ec = 384;
	else
		return inf_fail(f, kv->line, kv->vcol, "KeyAlgorithm = %.40s: "
		    "not supported; use RSA, ECDSA_P256 or ECDSA_P384",
		    kv->val);
	snprintf(f->alg, sizeof(f->alg), "%s", kv->val);
	return 0;
}

static int
k_length(struct inf *f, struct inf_kv *kv)
{
	size_t i;

	for (i = 0; kv->val[i] >= '0' && kv->val[i] <= '9'; i++)
		;
	if (i == 0 || kv->val[i] != '\0')
		return inf_fail(f, kv->line, kv->vcol, "KeyLength = %.40s: not "
		    "a number; use 2048, 3072 or 4096", kv->val);
	f->length = i > 9 ? 999999999UL : strtoul(kv->val, NULL, 10);
	f->len_line = kv->line;
	f->len_col = kv->vcol;
	return 0;
}

static int
k_hash(struct inf *f, struct inf_kv *kv)
{
	static const char *weak[] = { "sha1", "md5", "md4", "md2" };
	size_t i;

	if (!strcasecmp(kv->val, "sha256") || !strcasecmp(kv->val, "sha384") ||
	    !strcasecmp(kv->val, "sha512")) {
		for (i = 0; i < 6; i++)
			f->p->hash[i] = (char)(kv->val[i] | 0x20);
		f->p->hash[6] = '\0';
		return 0;
	}
	for (i = 0; i < N(weak); i++)
		if (strcasecmp(kv->val, weak[i]) == 0)
			return inf_fail(f, kv->line, kv->vcol, "HashAlgorithm "
			    "= %s: too weak, CAs refuse SHA-1 and MD5 "
			    "signatures; use SHA256, SHA384 or SHA512",
			    kv->val);
	return inf_fail(f, kv->line, kv->vcol, "HashAlgorithm = %.40s: not "
	    "supported; use SHA256, SHA384 or SHA512", kv->val);
}

static int
k_exportable(struct inf *f, struct inf_kv *kv)
{
	int b;

	if (inf_bool(f, kv, &b) == -1)
		return -1;
	if (b && !f->allow_exportable)
		return inf_fail(f, kv->line, kv->vcol, "%s = %s: hsmdesk keeps "
		    "keys on the HSM; pass --allow-exportable if policy really "
		    "wants an exportable key", kv->key, kv->val);
	f->p->exportable |= b;
	return 0;
}

static int
k_friendly(struct inf *f, struct inf_kv *kv)
{
	return hd_profile_set_label(f->p, kv->val, f->err) == -1 ?
	    inf_fail_kv(f, kv) : 0;
}

static int
k_request_type(struct inf *f, struct inf_kv *kv)
{
	static const char *other[] = { "CMC", "PKCS7", "Cert", "SCEP" };
	size_t i;

	if (strcasecmp(kv->val, "PKCS10") == 0)
		return 0;
	for (i = 0; i < N(other); i++)
		if (strcasecmp(kv->val, other[i]) == 0)
			return inf_fail(f, kv->line, kv->vcol, "RequestType = "
			    "%s: hsmdesk makes PKCS#10 requests only; set "
			    "RequestType = PKCS10 or remove the line", kv->val);
	return inf_fail(f, kv->line, kv->vcol, "RequestType = %.40s: unknown; "
	    "use PKCS10", kv->val);
}

/* certreq's names for the key usage bits, RFC 5280 §4.2.1.3. */
static const struct {
	const char *name;
	unsigned bits;
} cert_ku[] = {
	{ "CERT_DIGITAL_SIGNATURE_KEY_USAGE", 0x80 },
	{ "CERT_NON_REPUDIATION_KEY_USAGE", 0x40 },
	{ "CERT_KEY_ENCIPHERMENT_KEY_USAGE", 0x20 },
	{ "CERT_DATA_ENCIPHERMENT_KEY_USAGE", 0x10 },
	{ "CERT_KEY_AGREEMENT_KEY_USAGE", 0x08 },
	{ "CERT_KEY_CERT_SIGN_KEY_USAGE", 0x04 },
	{ "CERT_OFFLINE_CRL_SIGN_KEY_USAGE", 0x02 },
	{ "CERT_CRL_SIGN_KEY_USAGE", 0x02 },
	{ "CERT_ENCIPHER_ONLY_KEY_USAGE", 0x01 },
	{ "CERT_DECIPHER_ONLY_KEY_USAGE", 0x8000 },
};

/* One "0x80" or "CERT_..._KEY_USAGE" of a KeyUsage value. */
static int
ku_word(const char *w, unsigned *bits)
{
	size_t i;
	char *end;

	if ((w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) &&
	    strspn(w + 2, "0123456789abcdefABCDEF") == strlen(w + 2) &&
	    w[2] != '\0' && strlen(w + 2) <= 4) {
		*bits |= (unsigned)strtoul(w + 2, &end, 16);
		return 0;
	}
	for (i = 0; i < N(cert_ku); i++)
		if (strcasecmp(w, cert_ku[i].name) == 0) {
			*bits |= cert_ku[i].bits;
			return 0;
		}
	return -1;
}

static int
k_key_usage(struct inf *f, struct inf_kv *kv)
{
	char *w, *save = NULL, *e;
	unsigned bits = 0;

	for (w = strtok_r(kv->val, "|", &save); w != NULL;
	    w = strtok_r(NULL, "|", &save)) {
		while (*w == ' ' || *w == '\t')
			w++;
		for (e = w + strlen(w); e > w && (e[-1] == ' ' ||
		    e[-1] == '\t'); )
			*--e = '\0';
		if (ku_word(w, &bits) == -1)
			return inf_fail(f, kv->line, kv->vcol, "KeyUsage: "
			    "'%.60s' is neither hex such as 0x80 nor a name "
			    "such as CERT_DIGITAL_SIGNATURE_KEY_USAGE", w);
	}
	if (bits & 0x8001)
		return inf_fail(f, kv->line, kv->vcol, "KeyUsage: encipherOnly "
		    "and decipherOnly (0x01, 0x8000) are not supported");
	if (bits == 0 || (bits & ~0xfeu))
		return inf_fail(f, kv->line, kv->vcol, "KeyUsage = 0x%x: %s",
		    bits, bits ? "bits outside the X.509 key usages (0x02 to "
		    "0x80)" : "no usage at all; name at least one or remove "
		    "the line");
	f->p->key_usage = bits;
	return 0;
}

#define TRUE_ONLY(k, why) { k, K_IGNORE_FALSE, NULL, why, 0 }
#define IGNORE(k) { k, K_IGNORE, NULL, NULL, 0 }
#define REFUSE(k, why) { k, K_REFUSE, NULL, why, 0 }

static const struct inf_key newreq_keys[] = {
	{ "Subject", K_HANDLE, k_subject, NULL, 0 },
	{ "KeyAlgorithm", K_HANDLE, k_algorithm, NULL, 0 },
	{ "KeyLength", K_HANDLE, k_length, NULL, 0 },
	{ "HashAlgorithm", K_HANDLE, k_hash, NULL, 0 },
	{ "Exportable", K_HANDLE, k_exportable, NULL, 0 },
	{ "ExportableEncrypted", K_HANDLE, k_exportable, NULL, 0 },
	{ "FriendlyName", K_HANDLE, k_friendly, NULL, 0 },
	{ "RequestType", K_HANDLE, k_request_type, NULL, 0 },
	{ "KeyUsage", K_HANDLE, k_key_usage, NULL, 0 },
	/* Windows key storage and UI: the HSM decides these */
	IGNORE("ProviderName"), IGNORE("ProviderType"),
	IGNORE("MachineKeySet"), IGNORE("KeySpec"), IGNORE("KeyContainer"),
	IGNORE("Silent"), IGNORE("UserProtected"), IGNORE("KeyProtection"),
	IGNORE("KeyUsageProperty"), IGNORE("SecurityDescriptor"),
	IGNORE("EncryptionAlgorithm"), IGNORE("EncryptionLength"),
	IGNORE("SuppressDefaults"),
	/* for other request types only, per Microsoft's documentation */
	IGNORE("RequesterName"), IGNORE("NotBefore"), IGNORE("NotAfter"),
	IGNORE("ValidityPeriod"), IGNORE("ValidityPeriodUnits"),
	TRUE_ONLY("SMIME", "adds an S/MIME capabilities extension, which "
	    "hsmdesk does not make"),
	TRUE_ONLY("UseExistingKeySet", "reuses a Windows key; hsmdesk makes "
	    "a new key on the HSM"),
	TRUE_ONLY("PrivateKeyArchive", "sends the private key to the CA; "
	    "hsmdesk keeps keys on the HSM"),
	TRUE_ONLY("AlternateSignatureAlgorithm", "asks for an RSA-PSS "
	    "signature; hsmdesk signs requests with PKCS#1 v1.5 or ECDSA"),
	REFUSE("RenewalCert", "makes a renewal request (PKCS#7 or CMC); "
	    "hsmdesk makes new PKCS#10 requests only"),
	REFUSE("X500NameFlags", "changes how the subject is encoded; hsmdesk "
	    "encodes it as UTF8String in the order C, ST, L, O, OU, CN"),
	REFUSE("SubjectNameFlags", "fills the subject in from Active "
	    "Directory; give it with Subject = or --subject"),
};

/* ---- [Extensions] and [EnhancedKeyUsageExtension] ---------------------- */

static const struct {
	const char *name;	/* certreq's, any case */
	const char *prefix;	/* ours; NULL: refused, why says why */
	const char *why;
} san_names[] = {
	{ "dns", "DNS:", NULL }, { "email", "email:", NULL },
	{ "url", "URI:", NULL }, { "uri", "URI:", NULL },
	{ "ipaddress", "IP:", NULL }, { "ip address", "IP:", NULL },
	{ "upn", NULL, "a UPN needs an otherName, which hsmdesk does not "
	  "encode; ask the CA to add it" },
	{ "directoryname", NULL, "directory names are not supported" },
	{ "registeredid", NULL, "registered IDs are not supported" },
};

/* One "dns=host" of a 2.5.29.17 value. */
static int
san_entry(struct inf *f, struct inf_kv *kv, char *e)
{
	char *eq = strchr(e, '='), *name_end, san[300];
	size_t i;

	if (eq == NULL)
		return inf_fail(f, kv->line, kv->vcol, "%s: '%.60s' is not "
		    "TYPE=value, e.g. dns=www.example.com", kv->key, e);
	for (name_end = eq; name_end > e && (name_end[-1] == ' ' ||
	    name_end[-1] == '\t'); name_end--)
		;
	*name_end = '\0';
	for (i = 0; i < N(san_names); i++)
		if (strcasecmp(e, san_names[i].name) == 0)
			break;
	if (i == N(san_names))
		return inf_fail(f, kv->line, kv->vcol, "%s: '%.40s' names are "
		    "not supported; use dns, email, url or ipaddress", kv->key,
		    e);
	if (san_names[i].prefix == NULL)
		return inf_fail(f, kv->line, kv->vcol, "%s: %s", kv->key,
		    san_names[i].why);
	for (eq++; *eq == ' ' || *eq == '\t'; eq++)
		;
	snprintf(san, sizeof(san), "%s%s", san_names[i].prefix, eq);
	return hd_profile_add_san(f->p, san, f->err) == -1 ?
	    inf_fail_kv(f, kv) : 0;
}

/*
 * Entries of a {text} value, split at sep ('&' for names, ',' for
 * OIDs); each _continue_ line holds whole entries.
 */
static int
text_entries(struct inf *f, struct inf_kv *kv, const char *sep)
{
	char *e, *save = NULL, *end;
	int rc;

	for (e = strtok_r(kv->val, sep, &save); e != NULL;
	    e = strtok_r(NULL, sep, &save)) {
		while (*e == ' ' || *e == '\t')
			e++;
		for (end = e + strlen(e); end > e && (end[-1] == ' ' ||
		    end[-1] == '\t'); )
			*--end = '\0';
		if (*e == '\0')
			continue;
		if (sep[0] == '&')
			rc = san_entry(f, kv, e);
		else if ((rc = hd_profile_add_eku(f->p, e, f->err)) == -1)
			inf_fail_kv(f, kv);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
ext_start(struct inf *f, struct inf_kv *kv, int what)
{
	if (strncasecmp(kv->val, "{text}", 6) != 0)
		return inf_fail(f, kv->line, kv->vcol, "%s: only the "
		    "\"{text}...\" form is supported", kv->key);
	memmove(kv->val, kv->val + 6, strlen(kv->val + 6) + 1);
	f->cont = what;
	return text_entries(f, kv, what == S_EKU ? "," : "&");
}

static int
k_san(struct inf *f, struct inf_kv *kv)
{
	return ext_start(f, kv, S_EXT);
}

static int
k_ext_eku(struct inf *f, struct inf_kv *kv)
{
	return ext_start(f, kv, S_EKU);
}

static int
k_continue(struct inf *f, struct inf_kv *kv)
{
	if (f->cont == S_NONE)
		return inf_fail(f, kv->line, kv->kcol, "_continue_ without a "
		    "2.5.29.17 or 2.5.29.37 line before it");
	return text_entries(f, kv, f->cont == S_EKU ? "," : "&");
}

static int
k_oid(struct inf *f, struct inf_kv *kv)
{
	if (hd_oid_check(kv->val) == -1)
		return inf_fail(f, kv->line, kv->vcol, "OID = %.60s: not a "
		    "dotted OID such as 1.3.6.1.5.5.7.3.3", kv->val);
	return hd_profile_add_eku(f->p, kv->val, f->err) == -1 ?
	    inf_fail_kv(f, kv) : 0;
}

static const struct inf_key version_keys[] = {
	{ "Signature", K_HANDLE, k_signature, NULL, 0 },
};

static const struct inf_key ext_keys[] = {
	{ "2.5.29.17", K_HANDLE, k_san, NULL, 0 },
	{ "2.5.29.37", K_HANDLE, k_ext_eku, NULL, 0 },
	{ "_continue_", K_HANDLE, k_continue, NULL, 1 },
	REFUSE("2.5.29.15", "write the key usage as KeyUsage = in "
	    "[NewRequest]"),
	REFUSE("2.5.29.19", "basic constraints are for CA certificates; "
	    "hsmdesk does not request them"),
	REFUSE("Critical", "hsmdesk marks key usage critical and the other "
	    "extensions not, as RFC 5280 recommends"),
};

static const struct inf_key eku_keys[] = {
	{ "OID", K_HANDLE, k_oid, NULL, 1 },
};

static const struct inf_key attr_keys[] = {
	{ "CertificateTemplate", K_HANDLE, k_template, NULL, 0 },
	REFUSE("SAN", "the SAN request attribute is insecure on the CA side; "
	    "use [Extensions] 2.5.29.17 = \"{text}dns=...\""),
};

const struct inf_section hd_inf_sections[S__COUNT] = {
	[S_VERSION] = { "Version", version_keys, N(version_keys),
	    "only Signature belongs here" },
	[S_NEWREQ] = { "NewRequest", newreq_keys, N(newreq_keys),
	    "unknown key; it could change the request" },
	[S_EXT] = { "Extensions", ext_keys, N(ext_keys),
	    "only 2.5.29.17 (alternative names) and 2.5.29.37 (extended key "
	    "usage) are read; other extensions would change the request" },
	[S_EKU] = { "EnhancedKeyUsageExtension", eku_keys, N(eku_keys),
	    "only OID = lines belong here" },
	[S_ATTR] = { "RequestAttributes", attr_keys, N(attr_keys),
	    "only CertificateTemplate is read; other attributes would change "
	    "the request" },
};

