/*
 * Writing a signed PE file: the input up to its certificate table (or
 * its end), zeros to the next multiple of 8, then a new certificate
 * table holding one WIN_CERTIFICATE with the PKCS#7 SignedData, its
 * length padded to 8 (PE/COFF: The Attribute Certificate Table).  The
 * certificate table directory entry and the checksum are set to match.
 * Streamed through one buffer into a temp file beside the output,
 * fsynced and renamed, so a failure never leaves a partial file.  Written
 * over the input itself, the new file keeps its mode and owner.
 *
 * One pass (hd_pe_write_body): each chunk read is hashed for the
 * Authenticode digest, then written, so the digest the token signs is
 * that of exactly the bytes in the output, whatever the input does
 * meanwhile.  The two fields the digest leaves out are the only bytes
 * written differently: the CheckSum field and the certificate table
 * entry go out as zeros and are set with pwrite once the signature's
 * size is known (hd_pe_write_finish); the checksum adds the entry then.
 * A file changed while it is copied would give a signed file nobody
 * made, so its size, mtime and ctime are compared with those at open
 * after the copy, and hd_pe_read refuses a file that got shorter.  (A
 * rewrite within one tick of the file system's clock keeps both times on
 * kernels without fine-grained timestamps; nothing short of reading the
 * file twice could tell.  Changes after the copy do not matter: the
 * output holds what was signed.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fileio.h"
#include "pe.h"

/* 256 KiB: few system calls, and the buffer stays in cache while it is
 * hashed, summed and written (measured on a 100 MiB file: 64 KiB and
 * 1 MiB were both slower) */
#define CHUNK (256 * 1024)

struct hd_pe_writer {
	const struct hd_pe *pe;
	struct hd_out out;
	int out_open;		/* the temp file exists */
	struct hd_pe_csum csum;
	EVP_MD_CTX *md;		/* the digest; NULL without */
	unsigned char *buf;
	hd_progress_fn progress;
	void *arg;
	uint64_t done, total;	/* the bar: the body, then one for the rest */
	uint64_t body_end;	/* input bytes kept */
	uint64_t table_off;	/* new certificate table, 8-aligned */
	int body_done;
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
cancelled(struct hd_pe_writer *w, struct hd_err *err)
{
	return hd_err_set(err, HD_E_CANCELLED, 0, "%s: cancelled; nothing "
	    "was written", w->out.path);
}

static int
report(struct hd_pe_writer *w, struct hd_err *err)
{
	if (w->progress != NULL && w->progress(w->arg, w->done, w->total))
		return cancelled(w, err);
	return 0;
}

static int
emit(struct hd_pe_writer *w, const void *p, size_t n, struct hd_err *err)
{
	if (hd_out_write(&w->out, p, n, err) == -1)
		return -1;
	hd_pe_csum_update(&w->csum, p, n);
	w->done += n;
	return 0;
}

static int
hash_fail(struct hd_pe_writer *w, struct hd_err *err)
{
	hd_err_set(err, HD_E_INTERNAL, 0, "%s: computing the Authenticode "
	    "digest failed", w->pe->path);
	hd_err_ossl(err);
	return -1;
}

/*
 * The input up to the old table: hashed as read, then the checksum
 * field and the table entry zeroed (both outside the digest) and the
 * chunk summed and written.
 */
static int
copy_body(struct hd_pe_writer *w, struct hd_err *err)
{
	const struct hd_pe *pe = w->pe;
	uint64_t off;
	size_t n;

	for (off = 0; off < w->body_end; off += n) {
		n = w->body_end - off < CHUNK ? (size_t)(w->body_end - off) :
		    CHUNK;
		if (hd_pe_read(pe, off, w->buf, n, err) == -1)
			return -1;
		if (w->md != NULL &&
		    hd_pe_hash_chunk(pe, w->md, w->buf, off, n) == -1)
			return hash_fail(w, err);
		hd_pe_patch(w->buf, off, n, pe->checksum_off, NULL, 4);
		hd_pe_patch(w->buf, off, n, pe->secdir_off, NULL, 8);
		if (emit(w, w->buf, n, err) == -1 || report(w, err) == -1)
			return -1;
	}
	return 0;
}

/* Zeros up to the table: hashed, as hd_pe_digest does for the input. */
static int
pad_body(struct hd_pe_writer *w, struct hd_err *err)
{
	static const unsigned char zeros[8];
	size_t n = (size_t)(w->table_off - w->body_end);

	if (w->md != NULL && !EVP_DigestUpdate(w->md, zeros, n))
		return hash_fail(w, err);
	return emit(w, zeros, n, err);
}

/* The input must be as it was when opened (and parsed). */
static int
unchanged(const struct hd_pe *pe, struct stat *st, struct hd_err *err)
{
	if (fstat(pe->fd, st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", pe->path,
		    strerror(errno));
	if ((uint64_t)st->st_size != pe->size) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: changed while being signed "
		    "(%llu bytes when opened, %llu now)", pe->path,
		    (unsigned long long)pe->size,
		    (unsigned long long)st->st_size);
	} else if (st->st_mtim.tv_sec != pe->mtime.tv_sec ||
	    st->st_mtim.tv_nsec != pe->mtime.tv_nsec ||
	    st->st_ctim.tv_sec != pe->ctime.tv_sec ||
	    st->st_ctim.tv_nsec != pe->ctime.tv_nsec) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: changed while being signed",
		    pe->path);
	} else {
		return 0;
	}
	hd_err_hint(err, "make sure nothing else writes the file while it is "
	    "signed, then sign it again; it was left as it is now");
	return -1;
}

/*
 * Start writing pe, signed, to out: the temp file is made now.  With md,
 * hd_pe_write_body computes the Authenticode digest.  Without replace,
 * an existing out is an error.  out may be pe's own path: the original
 * is read through the open descriptor.
 */
int
hd_pe_write_begin(struct hd_pe_writer **wp, const struct hd_pe *pe,
    const EVP_MD *md, const char *out, int replace, hd_progress_fn progress,
    void *arg, struct hd_err *err)
{
	struct hd_pe_writer *w;
	struct stat st;

	*wp = NULL;
	if (unchanged(pe, &st, err) == -1)
		return -1;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory",
		    pe->path);
	w->pe = pe;
	w->progress = progress;
	w->arg = arg;
	hd_pe_csum_init(&w->csum);
	w->body_end = hd_pe_hash_end(pe);
	w->table_off = (w->body_end + 7) / 8 * 8;
	w->total = w->table_off + 1;
	w->buf = malloc(CHUNK);
	w->md = md != NULL ? EVP_MD_CTX_new() : NULL;
	*wp = w;
	if (w->buf == NULL || (md != NULL && w->md == NULL))
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory",
		    pe->path);
	if (w->md != NULL && !EVP_DigestInit_ex(w->md, md, NULL))
		return hash_fail(w, err);
	if (hd_out_begin(&w->out, out, st.st_mode & 0777, replace, err) == -1)
		return -1;
	w->out_open = 1;
	return hd_out_keep_owner(&w->out, &st, err);
}

/*
 * Copy the input into the output up to where the new certificate table
 * goes; dg gets the digest of what was written (with md).  Fails if the
 * input changed meanwhile.
 */
int
hd_pe_write_body(struct hd_pe_writer *w, struct hd_pe_digest *dg,
    struct hd_err *err)
{
	struct stat st;

	memset(dg, 0, sizeof(*dg));
	if (report(w, err) == -1 || copy_body(w, err) == -1 ||
	    pad_body(w, err) == -1 || report(w, err) == -1 ||
	    unchanged(w->pe, &st, err) == -1)
		return -1;
	if (w->md != NULL) {
		if (!EVP_DigestFinal_ex(w->md, dg->value, &dg->len))
			return hash_fail(w, err);
		dg->md = EVP_MD_CTX_get0_md(w->md);
	}
	w->body_done = 1;
	return 0;
}

/* The signature to embed must be one DER structure a table can hold. */
static int
check_der(const struct hd_pe *pe, const unsigned char *der, size_t len,
    struct hd_err *err)
{
	if (len == 0 || len > HD_PE_SIG_MAX ||
	    hd_pe_der_seq_len(der, len) != (long)len)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: the signature to "
		    "embed is not one DER-encoded PKCS#7 structure (%zu bytes)",
		    pe->path, len);
	return 0;
}

static int
write_table(struct hd_pe_writer *w, const unsigned char *der, size_t len,
    uint32_t entry_len, struct hd_err *err)
{
	static const unsigned char zeros[8];
	unsigned char h[8];

	put_le32(h, entry_len);
	h[4] = HD_WIN_CERT_REVISION_2_0 & 0xff;
	h[5] = HD_WIN_CERT_REVISION_2_0 >> 8;
	h[6] = HD_WIN_CERT_TYPE_PKCS_SIGNED & 0xff;
	h[7] = HD_WIN_CERT_TYPE_PKCS_SIGNED >> 8;
	if (emit(w, h, sizeof(h), err) == -1 || emit(w, der, len, err) == -1)
		return -1;
	return emit(w, zeros, entry_len - sizeof(h) - len, err);
}

/* Add bytes the copy summed as zeros, at file offset off, to the sum. */
static void
csum_add(struct hd_pe_csum *c, uint64_t off, const unsigned char *p,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		c->sum += (uint64_t)p[i] << ((off + i) % 2 ? 8 : 0);
}

/* The directory entry, then the checksum of the whole file. */
static int
write_fields(struct hd_pe_writer *w, uint32_t entry_len, struct hd_err *err)
{
	const struct hd_pe *pe = w->pe;
	unsigned char dir[8], sum[4];

	put_le32(dir, (uint32_t)w->table_off);
	put_le32(dir + 4, entry_len);
	if (hd_out_pwrite(&w->out, dir, sizeof(dir), (off_t)pe->secdir_off,
	    err) == -1)
		return -1;
	csum_add(&w->csum, pe->secdir_off, dir, sizeof(dir));
	put_le32(sum, hd_pe_csum_final(&w->csum));
	return hd_out_pwrite(&w->out, sum, sizeof(sum),
	    (off_t)pe->checksum_off, err);
}

/*
 * Add der (PKCS#7 SignedData) as the certificate table, set the fields
 * and put the file in place (fsync, rename).  After hd_pe_write_body.
 */
int
hd_pe_write_finish(struct hd_pe_writer *w, const unsigned char *der,
    size_t len, struct hd_err *err)
{
	uint64_t end;
	uint32_t entry_len;

	if (!w->body_done)
		return hd_err_set(err, HD_E_INTERNAL, 0, "%s: the signed file "
		    "has no body", w->pe->path);
	if (check_der(w->pe, der, len, err) == -1)
		return -1;
	entry_len = (uint32_t)((8 + len + 7) / 8 * 8);
	end = w->table_off + entry_len;
	if (end > UINT32_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: signed, it would be "
		    "%llu bytes; Authenticode cannot sign a file of 4 GiB or "
		    "more", w->pe->path, (unsigned long long)end);
	if (write_table(w, der, len, entry_len, err) == -1 ||
	    write_fields(w, entry_len, err) == -1)
		return -1;
	w->done = w->total;
	if (report(w, err) == -1)
		return -1;
	w->out_open = 0;
	return hd_out_commit(&w->out, err);
}

/* Free w; an output not finished is removed, the target untouched. */
void
hd_pe_write_free(struct hd_pe_writer *w)
{
	if (w == NULL)
		return;
	if (w->out_open)
		hd_out_abort(&w->out);
	EVP_MD_CTX_free(w->md);
	free(w->buf);
	free(w);
}

/* The file must not have changed between digest and signature. */
static int
check_digest(const struct hd_pe *pe, const struct hd_pe_digest *expect,
    const struct hd_pe_digest *got, struct hd_err *err)
{
	if (got->len == expect->len &&
	    CRYPTO_memcmp(got->value, expect->value, got->len) == 0)
		return 0;
	hd_err_set(err, HD_E_INPUT, 0, "%s: changed since its digest was "
	    "computed; the signature would not match it", pe->path);
	hd_err_hint(err, "make sure nothing else writes the file while it "
	    "is signed, then sign it again");
	return -1;
}

/*
 * Write pe signed with der (PKCS#7 SignedData) to out, replacing any
 * certificate table it had: a signature made beforehand.  With expect,
 * the bytes copied must have that digest, so a file changed after it was
 * hashed is not signed.  Without replace, an existing out is an error.
 */
int
hd_pe_write_signed(const struct hd_pe *pe, const unsigned char *der,
    size_t len, const struct hd_pe_digest *expect, const char *out,
    int replace, hd_progress_fn progress, void *arg, struct hd_err *err)
{
	struct hd_pe_writer *w = NULL;
	struct hd_pe_digest dg;
	int rc = -1;

	if (check_der(pe, der, len, err) == 0 &&
	    hd_pe_write_begin(&w, pe, expect != NULL ? expect->md : NULL, out,
	    replace, progress, arg, err) == 0 &&
	    hd_pe_write_body(w, &dg, err) == 0 &&
	    (expect == NULL || check_digest(pe, expect, &dg, err) == 0) &&
	    hd_pe_write_finish(w, der, len, err) == 0)
		rc = 0;
	hd_pe_write_free(w);
	return rc;
}
