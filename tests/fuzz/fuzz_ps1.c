/*
 * libFuzzer target for core/ps1.c: the input as a PowerShell script.  A
 * refused one must come with HD_E_INPUT and a message naming it.  An
 * accepted one must be split where the promises say (the script part
 * inside the file, a readable block holding one DER structure), give a
 * digest, and survive signing's round trip: its script part with a new
 * block (its own signature, or a stand-in) reads back with the same
 * script part, digest and signature, and no damage.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ps1.h"

/* A tiny DER SEQUENCE standing in for a PKCS#7 signature. */
static const unsigned char stand_in[] = { 0x30, 0x03, 0x02, 0x01, 0x2a };

static void
check_parts(const struct hd_ps1 *ps)
{
	if (ps->script_end > ps->size || (!ps->has_block &&
	    (ps->script_end != ps->size || ps->damaged[0] != '\0')))
		abort();
	if (ps->has_block && ps->damaged[0] == '\0' && (ps->sig_len == 0 ||
	    hd_pe_der_seq_len(ps->sig, ps->sig_len) != (long)ps->sig_len))
		abort();
	if (ps->damaged[0] != '\0' && ps->sig_len != 0)
		abort();
	if (ps->enc == HD_PS1_UTF16LE && ps->script_end % 2 != 0)
		abort();
}

/* What sign_ps1.c writes, read back. */
static void
round_trip(const struct hd_ps1 *ps, const struct hd_pe_digest *dg)
{
	const unsigned char *der = ps->sig_len ? ps->sig : stand_in;
	size_t len = ps->sig_len ? ps->sig_len : sizeof(stand_in), blen;
	struct hd_pe_digest dg2;
	unsigned char *block, *file;
	struct hd_ps1 back;
	struct hd_err err;

	if (hd_ps1_block(ps, der, len, &block, &blen, &err) == -1 ||
	    (file = malloc(ps->script_end + blen)) == NULL)
		abort();
	memcpy(file, ps->data, ps->script_end);
	memcpy(file + ps->script_end, block, blen);
	if (hd_ps1_parse(&back, file, ps->script_end + blen, "back.ps1",
	    &err) == -1 || !back.has_block || back.damaged[0] != '\0' ||
	    back.enc != ps->enc || back.script_end != ps->script_end ||
	    back.sig_len != len || memcmp(back.sig, der, len) != 0 ||
	    hd_ps1_digest(&back, EVP_sha256(), &dg2, &err) == -1 ||
	    dg2.len != dg->len || memcmp(dg2.value, dg->value, dg->len) != 0)
		abort();
	hd_ps1_free(&back);
	free(file);
	free(block);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_pe_digest dg;
	struct hd_ps1 ps;
	struct hd_err err;

	hd_err_clear(&err);
	if (hd_ps1_parse(&ps, data, size, "fuzz.ps1", &err) == -1) {
		if (err.code != HD_E_INPUT ||
		    strncmp(err.msg, "fuzz.ps1: ", 10) != 0 || ps.sig != NULL)
			abort();
		return 0;
	}
	check_parts(&ps);
	if (hd_ps1_digest(&ps, EVP_sha256(), &dg, &err) == -1)
		abort();
	/* a damaged block is refused by the signer, never rewritten */
	if (ps.damaged[0] == '\0')
		round_trip(&ps, &dg);
	hd_ps1_free(&ps);
	return 0;
}
