/*
 * PKCS#11 mechanism names for the capability probe.  Hand-written: no
 * library here exports the table (p11-kit keeps its own private).  The
 * names are the specification's (PKCS#11 v2.40 §6), so a listing can be
 * compared with pkcs11-tool's and with vendor documentation.
 */
#include <stdio.h>

#include "internal.h"

#define M(n) { CKM_##n, "CKM_" #n }

static const struct {
	CK_MECHANISM_TYPE type;
	const char *name;
} mechs[] = {
	M(RSA_PKCS_KEY_PAIR_GEN), M(RSA_PKCS), M(RSA_9796), M(RSA_X_509),
	M(MD2_RSA_PKCS), M(MD5_RSA_PKCS), M(SHA1_RSA_PKCS),
	M(RIPEMD128_RSA_PKCS), M(RIPEMD160_RSA_PKCS), M(RSA_PKCS_OAEP),
	M(RSA_X9_31_KEY_PAIR_GEN), M(RSA_X9_31), M(SHA1_RSA_X9_31),
	M(RSA_PKCS_PSS), M(SHA1_RSA_PKCS_PSS), M(DSA_KEY_PAIR_GEN), M(DSA),
	M(DSA_SHA1), M(DSA_SHA224), M(DSA_SHA256), M(DSA_SHA384),
	M(DSA_SHA512), M(DH_PKCS_KEY_PAIR_GEN), M(DH_PKCS_DERIVE),
	M(SHA256_RSA_PKCS), M(SHA384_RSA_PKCS), M(SHA512_RSA_PKCS),
	M(SHA256_RSA_PKCS_PSS), M(SHA384_RSA_PKCS_PSS),
	M(SHA512_RSA_PKCS_PSS), M(SHA224_RSA_PKCS), M(SHA224_RSA_PKCS_PSS),
	M(DES_KEY_GEN), M(DES_ECB), M(DES_CBC), M(DES_MAC), M(DES_CBC_PAD),
	M(DES2_KEY_GEN), M(DES3_KEY_GEN), M(DES3_ECB), M(DES3_CBC),
	M(DES3_MAC), M(DES3_CBC_PAD), M(DES3_CMAC), M(MD2), M(MD5),
	M(MD5_HMAC), M(SHA_1), M(SHA_1_HMAC), M(RIPEMD160), M(SHA256),
	M(SHA256_HMAC), M(SHA224), M(SHA224_HMAC), M(SHA384), M(SHA384_HMAC),
	M(SHA512), M(SHA512_HMAC), M(GENERIC_SECRET_KEY_GEN),
	M(EC_KEY_PAIR_GEN), M(ECDSA), M(ECDSA_SHA1), M(ECDSA_SHA224),
	M(ECDSA_SHA256), M(ECDSA_SHA384), M(ECDSA_SHA512), M(ECDH1_DERIVE),
	M(ECDH1_COFACTOR_DERIVE), M(AES_KEY_GEN), M(AES_ECB), M(AES_CBC),
	M(AES_MAC), M(AES_CBC_PAD), M(AES_CTR), M(AES_GCM), M(AES_CCM),
	M(AES_CMAC), M(AES_KEY_WRAP), M(AES_KEY_WRAP_PAD),
	M(DES_ECB_ENCRYPT_DATA), M(DES_CBC_ENCRYPT_DATA),
	M(DES3_ECB_ENCRYPT_DATA), M(DES3_CBC_ENCRYPT_DATA),
	M(AES_ECB_ENCRYPT_DATA), M(AES_CBC_ENCRYPT_DATA),
	M(DSA_PARAMETER_GEN), M(DH_PKCS_PARAMETER_GEN),
	M(EC_EDWARDS_KEY_PAIR_GEN), M(EDDSA), M(GOSTR3410_KEY_PAIR_GEN),
	M(SHA512_224), M(SHA512_256),
};

/* The mechanism's name, or its number in hex for one not in the table. */
const char *
hd_mech_name(unsigned long type, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].type == type) {
			snprintf(buf, len, "%s", mechs[i].name);
			return buf;
		}
	snprintf(buf, len, "0x%08lx", type);
	return buf;
}
