/*
 * Writing a signed PE file: the input up to its certificate table (or
 * its end), zeros to the next multiple of 8, then a new certificate
 * table holding one WIN_CERTIFICATE with the PKCS#7 SignedData, its
 * length padded to 8 (PE/COFF: The Attribute Certificate Table).  The
 * certificate table directory entry and the checksum are set to match.
 * Streamed through one 64 KiB buffer into a temp file beside the output,
 * fsynced and renamed, so a failure never leaves a partial file.  Written
 * over the input itself, the new file keeps its mode and owner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fileio.h"
#include "pe.h"

#define CHUNK (64 * 1024)

struct pe_out {
	const struct hd_pe *pe;
	struct hd_out out;
	struct hd_pe_csum csum;
	EVP_MD_CTX *md;		/* re-checks the digest; NULL without */
	unsigned char *buf;
	hd_progress_fn progress;
	void *arg;
	uint64_t done, total;
	uint64_t body_end;	/* input bytes kept */
	uint64_t table_off;	/* new certificate table, 8-aligned */
	uint32_t entry_len;	/* its one WIN_CERTIFICATE, padded */
};

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int
emit(struct pe_out *w, const void *p, size_t n, struct hd_err *err)
{
	if (hd_out_write(&w->out, p, n, err) == -1)
		return -1;
	hd_pe_csum_update(&w->csum, p, n);
	w->done += n;
	if (w->progress != NULL && w->progress(w->arg, w->done, w->total))
		return hd_err_set(err, HD_E_CANCELLED, 0, "%s: cancelled; "
		    "nothing was written", w->out.path);
	return 0;
}

static int
hash_fail(struct pe_out *w, struct hd_err *err)
{
	hd_err_set(err, HD_E_INTERNAL, 0, "%s: computing the Authenticode "
	    "digest failed", w->pe->path);
	hd_err_ossl(err);
	return -1;
}

/* The input up to the old table, with the new directory entry. */
static int
copy_body(struct pe_out *w, struct hd_err *err)
{
	const struct hd_pe *pe = w->pe;
	unsigned char dir[8];
	uint64_t off;
	size_t n;

	put_le32(dir, (uint32_t)w->table_off);
	put_le32(dir + 4, w->entry_len);
	for (off = 0; off < w->body_end; off += n) {
		n = w->body_end - off < CHUNK ? (size_t)(w->body_end - off) :
		    CHUNK;
		if (hd_pe_read(pe, off, w->buf, n, err) == -1)
			return -1;
		if (w->md != NULL &&
		    hd_pe_hash_chunk(pe, w->md, w->buf, off, n) == -1)
			return hash_fail(w, err);
		/* zero while summing; the real checksum goes in last */
		hd_pe_patch(w->buf, off, n, pe->checksum_off, NULL, 4);
		hd_pe_patch(w->buf, off, n, pe->secdir_off, dir, 8);
		if (emit(w, w->buf, n, err) == -1)
			return -1;
	}
	return 0;
}

/* Zeros up to the table: hashed, as the digest of the input was. */
static int
pad_body(struct pe_out *w, struct hd_err *err)
{
	static const unsigned char zeros[8];
	size_t n = (size_t)(w->table_off - w->body_end);

	if (w->md != NULL && !EVP_DigestUpdate(w->md, zeros, n))
		return hash_fail(w, err);
	return emit(w, zeros, n, err);
}

/* The file must not have changed between digest and signature. */
static int
check_digest(struct pe_out *w, const struct hd_pe_digest *expect,
    struct hd_err *err)
{
	unsigned char v[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (w->md == NULL)
		return 0;
	if (!EVP_DigestFinal_ex(w->md, v, &len))
		return hash_fail(w, err);
	if (len == expect->len && CRYPTO_memcmp(v, expect->value, len) == 0)
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: changed since its digest was "
	    "computed; the signature would not match it", w->pe->path);
	hd_err_hint(err, "make sure nothing else writes the file while it "
	    "is signed, then sign it again");
	return -1;
}

static int
write_table(struct pe_out *w, const unsigned char *der, size_t len,
    struct hd_err *err)
{
	static const unsigned char zeros[8];
	unsigned char h[8];

	put_le32(h, w->entry_len);
	h[4] = HD_WIN_CERT_REVISION_2_0 & 0xff;
	h[5] = HD_WIN_CERT_REVISION_2_0 >> 8;
	h[6] = HD_WIN_CERT_TYPE_PKCS_SIGNED & 0xff;
	h[7] = HD_WIN_CERT_TYPE_PKCS_SIGNED >> 8;
	if (emit(w, h, sizeof(h), err) == -1 || emit(w, der, len, err) == -1)
		return -1;
	return emit(w, zeros, w->entry_len - sizeof(h) - len, err);
}

/* Sizes of the output; refuses a signature no table can hold. */
static int
plan(struct pe_out *w, const unsigned char *der, size_t len,
    struct hd_err *err)
{
	const struct hd_pe *pe = w->pe;

	if (len == 0 || len > HD_PE_SIG_MAX ||
	    hd_pe_der_seq_len(der, len) != (long)len)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: the signature to "
		    "embed is not one DER-encoded PKCS#7 structure (%zu bytes)",
		    pe->path, len);
	w->body_end = hd_pe_hash_end(pe);
	w->table_off = (w->body_end + 7) / 8 * 8;
	w->entry_len = (uint32_t)((8 + len + 7) / 8 * 8);
	w->total = w->table_off + w->entry_len;
	if (w->total > UINT32_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: signed, it would be "
		    "%llu bytes; Authenticode cannot sign a file of 4 GiB or "
		    "more", pe->path, (unsigned long long)w->total);
	return 0;
}

/* The input's permissions for the output; it must still be as opened. */
static int
out_mode(const struct hd_pe *pe, struct stat *st, struct hd_err *err)
{
	if (fstat(pe->fd, st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", pe->path,
		    strerror(errno));
	if ((uint64_t)st->st_size != pe->size)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: changed since it "
		    "was opened (%llu bytes then, %llu now)", pe->path,
		    (unsigned long long)pe->size,
		    (unsigned long long)st->st_size);
	return 0;
}

static int
write_all_parts(struct pe_out *w, const unsigned char *der, size_t len,
    const struct hd_pe_digest *expect, struct hd_err *err)
{
	unsigned char sum[4];

	if (copy_body(w, err) == -1 || pad_body(w, err) == -1 ||
	    check_digest(w, expect, err) == -1 ||
	    write_table(w, der, len, err) == -1)
		return -1;
	put_le32(sum, hd_pe_csum_final(&w->csum));
	return hd_out_pwrite(&w->out, sum, sizeof(sum),
	    (off_t)w->pe->checksum_off, err);
}

/*
 * Write pe signed with der (PKCS#7 SignedData) to out, replacing any
 * certificate table it had.  With expect, the bytes copied must have
 * that digest, so a file changed after it was hashed is not signed.
 * Without replace, an existing out is an error.  out may be pe's own
 * path: the original is read through the open descriptor.
 */
int
hd_pe_write_signed(const struct hd_pe *pe, const unsigned char *der,
    size_t len, const struct hd_pe_digest *expect, const char *out,
    int replace, hd_progress_fn progress, void *arg, struct hd_err *err)
{
	struct pe_out w;
	struct stat st;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.pe = pe;
	w.progress = progress;
	w.arg = arg;
	hd_pe_csum_init(&w.csum);
	if (plan(&w, der, len, err) == -1 || out_mode(pe, &st, err) == -1)
		return -1;
	w.buf = malloc(CHUNK);
	w.md = expect != NULL ? EVP_MD_CTX_new() : NULL;
	if (w.buf == NULL || (expect != NULL && w.md == NULL)) {
		hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory", pe->path);
		goto out;
	}
	if (w.md != NULL && !EVP_DigestInit_ex(w.md, expect->md, NULL)) {
		hash_fail(&w, err);
		goto out;
	}
	if (hd_out_begin(&w.out, out, st.st_mode & 0777, replace, err) == -1)
		goto out;
	if (hd_out_keep_owner(&w.out, &st, err) == -1 ||
	    write_all_parts(&w, der, len, expect, err) == -1) {
		hd_out_abort(&w.out);
		goto out;
	}
	rc = hd_out_commit(&w.out, err);
out:
	EVP_MD_CTX_free(w.md);
	free(w.buf);
	return rc;
}
