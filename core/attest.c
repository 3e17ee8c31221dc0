/*
 * Key-generation attestation: the token's own proof that a key was made
 * inside it and cannot leave, which code-signing CAs must see since the
 * CA/Browser Forum's 2023 code-signing requirements.
 *
 * Through PKCS#11 the one documented way is an attestation certificate
 * object beside the key: Yubico's YKCS11 module (YubiKey PIV) shows one for
 * each generated key, with the key's CKA_ID and a label naming it as
 * attestation ("X.509 Certificate for PIV Attestation 9a").  Other vendors
 * attest outside PKCS#11, with their own tools; for those, and for
 * tokens that have none, the refusal comes before any key is made and
 * names the vendor's tool.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

/* Tokens known to offer no attestation through PKCS#11, by the words in
 * their own description, and what to do instead. */
static const struct {
	const char *word;
	const char *why;
	const char *hint;
} none[] = {
	{ "cloudhsm", "AWS CloudHSM offers no per-key attestation through "
	  "PKCS#11", "make the request without --attest; ask the CA what "
	  "evidence it accepts for CloudHSM" },
	{ "softhsm", "SoftHSM2 keeps keys in files on this computer: it has "
	  "no key attestation", "a CA that requires attestation needs a "
	  "hardware token (README: Key attestation)" },
	{ "yubihsm", "the YubiHSM 2 PKCS#11 module does not return key "
	  "attestations", "make the request without --attest, then run "
	  "'yubihsm-shell -a sign-attestation-certificate -i KEY_ID "
	  "--attestation-id 0' and send its certificate with the CSR" },
	{ "luna", "Luna HSMs give key attestation (public key confirmation) "
	  "through their own tools, not as a PKCS#11 object", "make the "
	  "request without --attest, then run 'cmu getpkc -handle H "
	  "-outputfile key.pkc' (or lunacm) and send it with the CSR" },
	{ "safenet", "Luna HSMs give key attestation (public key "
	  "confirmation) through their own tools, not as a PKCS#11 object",
	  "make the request without --attest, then run 'cmu getpkc' and send "
	  "its output with the CSR" },
};

static int
lower_has(const char *hay, const char *word)
{
	char low[256];
	size_t i;

	for (i = 0; hay[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)hay[i]);
	low[i] = '\0';
	return strstr(low, word) != NULL;
}

int
hd_attest_supported(struct hd_session *s, struct hd_err *err)
{
	struct hd_token_info ti;
	char lib[160], who[512];
	size_t i;

	if (hd_token_info(s, &ti, err) == -1)
		return -1;
	hd_module_describe(s, lib, sizeof(lib));
	snprintf(who, sizeof(who), "%s %s %s %s", ti.manufacturer, ti.model,
	    lib, ti.cloudhsm ? "cloudhsm" : "");
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		if (!lower_has(who, none[i].word))
			continue;
		hd_err_set(err, HD_E_USAGE, 0, "token '%s': %s", ti.label,
		    none[i].why);
		hd_err_hint(err, "%s; nothing was created", none[i].hint);
		return -1;
	}
	return 0;
}

static int
label_says_attestation(struct hd_session *s, CK_OBJECT_HANDLE h)
{
	char label[129];
	long n = hd_attr_bytes(s, h, CKA_LABEL, label, sizeof(label) - 1);

	if (n < 0)
		return 0;
	label[n] = '\0';
	return lower_has(label, "attestation");
}

static int
value_read(struct hd_session *s, CK_OBJECT_HANDLE h, struct hd_attest *a)
{
	CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (s->fl->C_GetAttributeValue(s->sh, h, &v, 1) != CKR_OK ||
	    v.ulValueLen == 0 || v.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    v.ulValueLen > 1024 * 1024)
		return -1;
	if ((a->data = malloc(v.ulValueLen)) == NULL)
		return -1;
	v.pValue = a->data;
	if (s->fl->C_GetAttributeValue(s->sh, h, &v, 1) != CKR_OK) {
		hd_attest_free(a);
		return -1;
	}
	a->len = v.ulValueLen;
	EVP_Digest(a->data, a->len, md, &mdlen, EVP_sha256(), NULL);
	hd_hex(md, mdlen, a->sha256, sizeof(a->sha256));
	return 0;
}

/* The attestation of key k: a certificate object with k's CKA_ID whose
 * label calls it an attestation.  Logged in, as after hd_keygen. */
int
hd_attest_get(struct hd_session *s, const struct hd_key *k,
    struct hd_attest *out, struct hd_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)k->id, (CK_ULONG)k->id_len },
	};
	CK_OBJECT_HANDLE h[16];
	CK_ULONG n, i;

	memset(out, 0, sizeof(*out));
	if (hd_attest_supported(s, err) == -1 ||
	    hd_find(s, t, 2, h, 16, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!label_says_attestation(s, h[i]))
			continue;
		if (value_read(s, h[i], out) == -1)
			return hd_err_set(err, HD_E_TOKEN, 0, "key '%s': the "
			    "attestation object cannot be read", k->label);
		snprintf(out->source, sizeof(out->source), "certificate "
		    "object labelled as attestation, CKA_ID of the key");
		return 0;
	}
	hd_err_set(err, HD_E_TOKEN, 0, "key '%s': token '%s' offers no "
	    "attestation of it", k->label, hd_token_name(s));
	hd_err_hint(err, "hsmdesk looks for a certificate object with the "
	    "key's CKA_ID labelled as an attestation; this token has none. "
	    "Use the vendor's own tool, or request without --attest");
	return -1;
}

int
hd_attest_path(const char *csr_path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.attest", csr_path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The bytes as the token gave them: the CA checks them, not hsmdesk. */
int
hd_attest_write(const struct hd_attest *a, const char *path, int replace,
    struct hd_err *err)
{
	return hd_write_file(path, a->data, a->len, 0644, replace, err);
}

void
hd_attest_free(struct hd_attest *a)
{
	free(a->data);
	a->data = NULL;
	a->len = 0;
}

int
hd_ceremony_attest(char **rec, const struct hd_attest *a, const char *path,
    struct hd_err *err)
{
	const char *mark = "\nSecurity officer";
	char *at = strstr(*rec, mark), *n;
	size_t head = at != NULL ? (size_t)(at - *rec) : strlen(*rec);
	size_t len = strlen(*rec) + strlen(path) + 512;

	if ((n = malloc(len)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	snprintf(n, len, "%.*s\nKey attestation (from the token)\n"
	    "  found as            %s\n  size                %zu bytes\n"
	    "  SHA-256             %s\n  saved as            %s\n%s", (int)head,
	    *rec, a->source, a->len, a->sha256, path, *rec + head);
	free(*rec);
	*rec = n;
	return 0;
}
