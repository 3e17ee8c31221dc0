/*
 * Windows PE files for Authenticode (pe.c, pe_hash.c, pe_write.c);
 * internal to core.  Parsing, the Authenticode digest, the PE checksum
 * and writing the signed file: everything short of making the PKCS#7.
 *
 * References: Microsoft "PE Format" (the PE/COFF specification) and
 * "Windows Authenticode Portable Executable Signature Format" 1.0.
 */
#ifndef HD_PE_H
#define HD_PE_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "hsmdesk.h"

/* WIN_CERTIFICATE (PE/COFF: The Attribute Certificate Table) */
#define HD_WIN_CERT_REVISION_2_0	0x0200
#define HD_WIN_CERT_TYPE_PKCS_SIGNED	0x0002

/* The largest signature read or embedded: real ones are a few KiB. */
#define HD_PE_SIG_MAX	(16u * 1024 * 1024)

struct hd_pe_section {
	char name[9];		/* printable; long names stay "/4" */
	uint32_t raw_off;	/* PointerToRawData */
	uint32_t raw_size;	/* SizeOfRawData */
};

/*
 * A PE file checked for Authenticode by hd_pe_open: every structure lies
 * inside the file, the headers and section raw data follow each other
 * without gaps, and an existing certificate table sits at the end.
 */
struct hd_pe {
	char path[4096];		/* names the file in messages */
	int fd;
	int own_fd;			/* hd_pe_close closes fd */
	uint64_t size;			/* at open; < 4 GiB */
	struct timespec mtime, ctime;	/* at open: a change shows here */
	int pe32plus;			/* optional header magic 0x20b */
	uint16_t machine;
	uint32_t pe_off;		/* e_lfanew: "PE\0\0" */
	uint32_t checksum_off;		/* the CheckSum field */
	uint32_t checksum;		/* as stored */
	uint32_t secdir_off;		/* certificate table directory entry */
	uint32_t headers_size;		/* SizeOfHeaders */
	uint32_t nrvas;			/* NumberOfRvaAndSizes */
	struct hd_pe_section *sect;	/* in file order */
	uint16_t nsect;
	uint64_t raw_end;		/* where headers and sections end */
	uint32_t cert_off;		/* certificate table; 0 if unsigned */
	uint32_t cert_size;
};

/* An Authenticode digest and the algorithm that made it. */
struct hd_pe_digest {
	const EVP_MD *md;
	unsigned char value[EVP_MAX_MD_SIZE];
	unsigned len;
};

/* The PE checksum, fed in order (imagehlp CheckSumMappedFile). */
struct hd_pe_csum {
	uint64_t sum;
	uint64_t len;
};

/* pe.c */
int hd_pe_open(struct hd_pe *pe, const char *path, struct hd_err *err);
int hd_pe_open_fd(struct hd_pe *pe, int fd, const char *name,
    struct hd_err *err);
void hd_pe_close(struct hd_pe *pe);
int hd_pe_signature(const struct hd_pe *pe, unsigned char **der,
    size_t *len, struct hd_err *err);
int hd_pe_read(const struct hd_pe *pe, uint64_t off, void *buf, size_t len,
    struct hd_err *err);
long hd_pe_der_seq_len(const unsigned char *buf, size_t n);

/* pe_hash.c */
int hd_pe_digest(const struct hd_pe *pe, const EVP_MD *md,
    struct hd_pe_digest *out, hd_progress_fn progress, void *arg,
    struct hd_err *err);
int hd_pe_checksum(const struct hd_pe *pe, uint32_t *out,
    struct hd_err *err);
void hd_pe_csum_init(struct hd_pe_csum *c);
void hd_pe_csum_update(struct hd_pe_csum *c, const void *data, size_t len);
uint32_t hd_pe_csum_final(const struct hd_pe_csum *c);
uint64_t hd_pe_hash_end(const struct hd_pe *pe);
int hd_pe_hash_chunk(const struct hd_pe *pe, EVP_MD_CTX *ctx,
    const unsigned char *buf, uint64_t off, size_t len);
void hd_pe_patch(unsigned char *buf, uint64_t off, size_t len,
    uint64_t field, const unsigned char *val, size_t vlen);

/* pe_write.c: in one pass, hd_pe_write_body copies the file into the
 * output and gives the digest of what it wrote, then hd_pe_write_finish
 * adds the signature made of that digest and puts the file in place;
 * hd_pe_write_free removes an output not finished. */
struct hd_pe_writer;
int hd_pe_write_begin(struct hd_pe_writer **w, const struct hd_pe *pe,
    const EVP_MD *md, const char *out, int replace, hd_progress_fn progress,
    void *arg, struct hd_err *err);
int hd_pe_write_body(struct hd_pe_writer *w, struct hd_pe_digest *dg,
    struct hd_err *err);
int hd_pe_write_finish(struct hd_pe_writer *w, const unsigned char *der,
    size_t len, struct hd_err *err);
void hd_pe_write_free(struct hd_pe_writer *w);
int hd_pe_write_signed(const struct hd_pe *pe, const unsigned char *der,
    size_t len, const struct hd_pe_digest *expect, const char *out,
    int replace, hd_progress_fn progress, void *arg, struct hd_err *err);

#endif
