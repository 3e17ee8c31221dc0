/*
 * The Authenticode digest and the PE checksum, streamed through a 64 KiB
 * buffer so a file of any size takes the same memory.  Signing computes
 * both while it copies the file instead (pe_write.c), with the same
 * hd_pe_hash_chunk and hd_pe_csum_update.
 *
 * The digest ("Windows Authenticode Portable Executable Signature
 * Format", Calculating the PE Image Hash) covers the file except the
 * CheckSum field, the certificate table directory entry and the
 * certificate table.  The specification hashes the headers, then each
 * section's raw data sorted by offset, then whatever follows the last
 * section up to the certificate table; osslsigncode hashes the file
 * straight through.  hd_pe_open refuses files with gaps or overlaps
 * between those parts, so here the two are the same and the straight
 * read is used.  Data appended after the sections (installers, debug
 * symbols) is hashed.  An unsigned file whose length is not a multiple
 * of 8 is hashed as if padded with zeros to 8 bytes: signing inserts
 * exactly that padding before the certificate table (as signtool and
 * osslsigncode do), so the digest stays valid for the signed file.
 */
#include <stdlib.h>
#include <string.h>

#include "pe.h"

#define CHUNK (64 * 1024)

/* Where the digest's straight read ends: the certificate table or EOF. */
uint64_t
hd_pe_hash_end(const struct hd_pe *pe)
{
	return pe->cert_size != 0 ? pe->cert_off : pe->size;
}

/*
 * Feed ctx the bytes of buf, file offsets [off, off + len), that the
 * digest covers: all but the CheckSum field and the certificate table
 * entry, which may fall anywhere in the chunk or across its edges.
 */
int
hd_pe_hash_chunk(const struct hd_pe *pe, EVP_MD_CTX *ctx,
    const unsigned char *buf, uint64_t off, size_t len)
{
	const uint64_t cut[2][2] = {
		{ pe->checksum_off, (uint64_t)pe->checksum_off + 4 },
		{ pe->secdir_off, (uint64_t)pe->secdir_off + 8 },
	};
	uint64_t pos = off, end = off + len;
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t a = cut[i][0] < end ? cut[i][0] : end;
		uint64_t b = cut[i][1] < end ? cut[i][1] : end;

		if (a > pos && !EVP_DigestUpdate(ctx, buf + (pos - off),
		    (size_t)(a - pos)))
			return -1;
		if (b > pos)
			pos = b;
	}
	if (end > pos && !EVP_DigestUpdate(ctx, buf + (pos - off),
	    (size_t)(end - pos)))
		return -1;
	return 0;
}

static int
digest_fail(const struct hd_pe *pe, struct hd_err *err)
{
	hd_err_set(err, HD_E_INTERNAL, 0, "%s: computing the Authenticode "
	    "digest failed", pe->path);
	hd_err_ossl(err);
	return -1;
}

static int
digest_cancelled(const struct hd_pe *pe, struct hd_err *err)
{
	return hd_err_set(err, HD_E_CANCELLED, 0, "%s: digest cancelled",
	    pe->path);
}

static int
digest_stream(const struct hd_pe *pe, EVP_MD_CTX *ctx, unsigned char *buf,
    hd_progress_fn progress, void *arg, struct hd_err *err)
{
	static const unsigned char zeros[8];
	uint64_t end = hd_pe_hash_end(pe), off;
	size_t n;

	for (off = 0; off < end; off += n) {
		n = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		if (hd_pe_read(pe, off, buf, n, err) == -1)
			return -1;
		if (hd_pe_hash_chunk(pe, ctx, buf, off, n) == -1)
			return digest_fail(pe, err);
		if (progress != NULL && progress(arg, off + n, end) != 0)
			return digest_cancelled(pe, err);
	}
	/* a signed file's table offset is 8-aligned: no padding then */
	if (!EVP_DigestUpdate(ctx, zeros, (8 - end % 8) % 8))
		return digest_fail(pe, err);
	return 0;
}

/*
 * The Authenticode digest of the file with md (SHA-256, -384, -512).  For
 * a signed file it is the digest its signature should hold; for an
 * unsigned one, the digest hd_pe_write_signed's output will have.
 */
int
hd_pe_digest(const struct hd_pe *pe, const EVP_MD *md,
    struct hd_pe_digest *out, hd_progress_fn progress, void *arg,
    struct hd_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(CHUNK);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (ctx == NULL || buf == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory", pe->path);
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, md, NULL)) {
		digest_fail(pe, err);
		goto out;
	}
	if (digest_stream(pe, ctx, buf, progress, arg, err) == -1)
		goto out;
	if (!EVP_DigestFinal_ex(ctx, out->value, &out->len)) {
		digest_fail(pe, err);
		goto out;
	}
	out->md = md;
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * The PE checksum (imagehlp's CheckSumMappedFile, not documented by
 * Microsoft; written by hand as nothing here computes it): the file as
 * little-endian 16-bit words summed with end-around carry, an odd last
 * byte counting as a word of its own, then the file length added.  The
 * caller feeds the CheckSum field as zeros.  Summing in 64 bits and
 * folding at the end gives the same 16-bit result as folding each step.
 */
void
hd_pe_csum_init(struct hd_pe_csum *c)
{
	c->sum = 0;
	c->len = 0;
}

static uint64_t
fold(uint64_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/*
 * Whole 32-bit little-endian words may be added instead of pairs of
 * 16-bit ones: 2^16 is 1 modulo 2^16 - 1, so the folded sum is the same
 * (RFC 1071, 2(B)), and twice as few additions go by.
 */
void
hd_pe_csum_update(struct hd_pe_csum *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t s = c->sum;

	if (len > 0 && c->len % 2 == 1) {	/* high byte of a word */
		s += (uint64_t)p[0] << 8;
		p++;
		len--;
		c->len++;
	}
	c->len += len;
	for (; len >= 4; p += 4, len -= 4)
		s += (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	for (; len >= 2; p += 2, len -= 2)
		s += (uint64_t)(p[0] | p[1] << 8);
	if (len == 1)
		s += p[0];
	c->sum = fold(s);
}

/* The checksum of a file of c->len bytes (less than 4 GiB). */
uint32_t
hd_pe_csum_final(const struct hd_pe_csum *c)
{
	return (uint32_t)fold(c->sum) + (uint32_t)c->len;
}

/*
 * The checksum the file should have in its CheckSum field: of the whole
 * file, certificate table included, with that field taken as zero.
 */
int
hd_pe_checksum(const struct hd_pe *pe, uint32_t *out, struct hd_err *err)
{
	unsigned char *buf = malloc(CHUNK);
	struct hd_pe_csum c;
	uint64_t off;
	size_t n;

	if (buf == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory",
		    pe->path);
	hd_pe_csum_init(&c);
	for (off = 0; off < pe->size; off += n) {
		n = pe->size - off < CHUNK ? (size_t)(pe->size - off) : CHUNK;
		if (hd_pe_read(pe, off, buf, n, err) == -1) {
			free(buf);
			return -1;
		}
		hd_pe_patch(buf, off, n, pe->checksum_off, NULL, 4);
		hd_pe_csum_update(&c, buf, n);
	}
	free(buf);
	*out = hd_pe_csum_final(&c);
	return 0;
}

/*
 * Put vlen bytes of val (zeros if NULL) at file offset field into buf,
 * which holds file offsets [off, off + len): whatever part of the field
 * falls inside it.
 */
void
hd_pe_patch(unsigned char *buf, uint64_t off, size_t len, uint64_t field,
    const unsigned char *val, size_t vlen)
{
	size_t i;

	for (i = 0; i < vlen; i++) {
		uint64_t at = field + i;

		if (at >= off && at < off + len)
			buf[at - off] = val != NULL ? val[i] : 0;
	}
}
