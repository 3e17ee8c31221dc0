/*
 * PowerShell scripts for Authenticode (ps1.c, sign_ps1.c, verify_ps1.c);
 * internal to core.  A script is text in UTF-8 (with or without a BOM)
 * or UTF-16LE (with a BOM); a signature is a comment block at its end:
 *
 *   <script>\r\n# SIG # Begin signature block\r\n
 *   # <64 base64 characters of the DER PKCS#7>\r\n ...
 *   # SIG # End signature block\r\n
 *
 * in the script's encoding.  What is signed is the script part, BOM
 * included, as UTF-16LE.  Sources: osslsigncode 2.9 (script.c) and
 * OpenAuthenticode, which agree on this; Microsoft documents neither
 * the block nor the digest (about_Signing only shows the block).
 */
#ifndef HD_PS1_H
#define HD_PS1_H

#include <stddef.h>

#include "pe.h"

/* Scripts are small; a larger file is not one. */
#define HD_PS1_MAX	(64u * 1024 * 1024)

enum hd_ps1_enc {
	HD_PS1_UTF8 = 0,	/* no BOM */
	HD_PS1_UTF8_BOM,
	HD_PS1_UTF16LE,		/* with its BOM */
};

struct hd_ps1 {
	char path[4096];		/* names the file in messages */
	const unsigned char *data;	/* the whole file (not owned) */
	size_t size;
	enum hd_ps1_enc enc;
	size_t script_end;		/* bytes before the signature block */
	int has_block;			/* a signature block follows */
	unsigned char *sig;		/* its DER, if it could be read */
	size_t sig_len;
	char damaged[256];		/* why the block cannot be read, or "" */
};

/* ps1.c */
int hd_ps1_parse(struct hd_ps1 *ps, const unsigned char *data, size_t size,
    const char *name, struct hd_err *err);
void hd_ps1_free(struct hd_ps1 *ps);
const char *hd_ps1_enc_name(enum hd_ps1_enc enc);
int hd_ps1_digest(const struct hd_ps1 *ps, const EVP_MD *md,
    struct hd_pe_digest *out, struct hd_err *err);
int hd_ps1_block(const struct hd_ps1 *ps, const unsigned char *der,
    size_t len, unsigned char **out, size_t *outlen, struct hd_err *err);
int hd_ps1_read(int fd, const char *name, unsigned char **data,
    size_t *size, struct hd_err *err);

#endif
