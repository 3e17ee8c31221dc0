/*
 * Reading Windows PE files (PE32 and PE32+) for Authenticode.  Written by
 * hand: none of the libraries here parses PE.  The file is never mapped
 * or read whole; each structure is read with pread() after its offset
 * and size are checked against the file size in 64-bit arithmetic, so a
 * damaged or hostile file is refused with a message naming what is wrong.
 *
 * Layout (PE/COFF specification, "PE Format"):
 *   0      MS-DOS header, e_lfanew at 60
 *   pe_off "PE\0\0", COFF file header (20 bytes)
 *          optional header: magic, ..., CheckSum at 64, data directories
 *          section table (40 bytes a section)
 *   ...    section raw data, then anything appended, then the
 *          certificate table (data directory 4, a file offset)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "pe.h"

#define DOS_HDR		64
#define COFF_HDR	24	/* with the PE signature */
#define OPT_FIXED32	96	/* optional header before the directories */
#define OPT_FIXED64	112
#define SECT_HDR	40
#define DIR_SECURITY	4
#define WIN_CERT_HDR	8

static const char damaged_hint[] = "the file is damaged or is not a Windows "
    "program (EXE, DLL, SYS); build it or copy it again";

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* off and len are at most 2^32 each, so the sum cannot wrap. */
static int
in_file(const struct hd_pe *pe, uint64_t off, uint64_t len)
{
	return off <= pe->size && len <= pe->size - off;
}

/* "PATH: <what>" as bad input, with the damaged-file hint. */
static int __attribute__((format(printf, 3, 4)))
damaged(const struct hd_pe *pe, struct hd_err *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hd_err_set(err, HD_E_INPUT, 0, "%s: %s", pe->path, what);
	hd_err_hint(err, "%s", damaged_hint);
	return -1;
}

/* Read exactly len bytes at off; a file that shrank is an error. */
int
hd_pe_read(const struct hd_pe *pe, uint64_t off, void *buf, size_t len,
    struct hd_err *err)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t r = pread(pe->fd, p, len, (off_t)off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return hd_err_set(err, HD_E_IO, 0, "%s: cannot read: "
			    "%s", pe->path, strerror(errno));
		if (r == 0) {
			hd_err_set(err, HD_E_IO, 0, "%s: changed while being "
			    "read: it ends at offset %llu now", pe->path,
			    (unsigned long long)off);
			hd_err_hint(err, "leave the file alone while hsmdesk "
			    "reads it, then try again");
			return -1;
		}
		p += r;
		off += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

static int
parse_dos(struct hd_pe *pe, struct hd_err *err)
{
	unsigned char b[DOS_HDR];

	if (pe->size == 0)
		return damaged(pe, err, "is empty");
	if (pe->size < DOS_HDR)
		return damaged(pe, err, "is %llu bytes, too short for an "
		    "MS-DOS header (64 bytes)", (unsigned long long)pe->size);
	if (hd_pe_read(pe, 0, b, sizeof(b), err) == -1)
		return -1;
	if (b[0] != 'M' || b[1] != 'Z')
		return damaged(pe, err, "no MZ signature at the start: not a "
		    "Windows program");
	pe->pe_off = le32(b + 60);
	/* keeps the 32-bit fields, CheckSum among them, word-aligned as
	 * CheckSumMappedFile assumes; linkers use 64 to 256 */
	if (pe->pe_off % 4 != 0)
		return damaged(pe, err, "PE header offset %u (e_lfanew) is "
		    "not a multiple of 4", pe->pe_off);
	if (pe->pe_off >= pe->size)
		return damaged(pe, err, "PE header offset %u (e_lfanew) is "
		    "past end of file (file size %llu)", pe->pe_off,
		    (unsigned long long)pe->size);
	return 0;
}

static int
parse_coff(struct hd_pe *pe, uint16_t *opt_size, struct hd_err *err)
{
	unsigned char b[COFF_HDR];

	if (!in_file(pe, pe->pe_off, COFF_HDR))
		return damaged(pe, err, "COFF header ends past end of file "
		    "(offset %u + size %u > file size %llu)", pe->pe_off,
		    COFF_HDR, (unsigned long long)pe->size);
	if (hd_pe_read(pe, pe->pe_off, b, sizeof(b), err) == -1)
		return -1;
	if (memcmp(b, "PE\0\0", 4) != 0)
		return damaged(pe, err, "no PE signature at offset %u "
		    "(e_lfanew): an MS-DOS program or not a Windows program",
		    pe->pe_off);
	pe->machine = le16(b + 4);
	pe->nsect = le16(b + 6);
	*opt_size = le16(b + 20);
	return 0;
}

/* Magic, CheckSum, SizeOfHeaders, NumberOfRvaAndSizes: the fixed part. */
static int
parse_opt_fixed(struct hd_pe *pe, uint16_t opt_size, uint32_t *fixed,
    struct hd_err *err)
{
	uint64_t off = (uint64_t)pe->pe_off + COFF_HDR;
	unsigned char b[OPT_FIXED64];
	uint16_t magic;

	if (opt_size < 2)
		return damaged(pe, err, "has no optional header "
		    "(SizeOfOptionalHeader is %u): an object file, not a "
		    "program", opt_size);
	if (!in_file(pe, off, opt_size))
		return damaged(pe, err, "optional header ends past end of "
		    "file (offset %llu + size %u > file size %llu)",
		    (unsigned long long)off, opt_size,
		    (unsigned long long)pe->size);
	if (hd_pe_read(pe, off, b, 2, err) == -1)
		return -1;
	magic = le16(b);
	if (magic != 0x10b && magic != 0x20b)
		return damaged(pe, err, "optional header magic 0x%x is "
		    "neither PE32 (0x10b) nor PE32+ (0x20b)", magic);
	pe->pe32plus = magic == 0x20b;
	*fixed = pe->pe32plus ? OPT_FIXED64 : OPT_FIXED32;
	if (opt_size < *fixed)
		return damaged(pe, err, "optional header is %u bytes, too "
		    "short for %s (%u)", opt_size, pe->pe32plus ? "PE32+" :
		    "PE32", *fixed);
	if (hd_pe_read(pe, off, b, *fixed, err) == -1)
		return -1;
	pe->headers_size = le32(b + 60);
	pe->checksum_off = (uint32_t)off + 64;
	pe->checksum = le32(b + 64);
	pe->nrvas = le32(b + *fixed - 4);
	return 0;
}

static int
parse_opt(struct hd_pe *pe, uint16_t opt_size, struct hd_err *err)
{
	uint64_t off = (uint64_t)pe->pe_off + COFF_HDR;
	unsigned char d[8];
	uint32_t fixed = 0, room;

	if (parse_opt_fixed(pe, opt_size, &fixed, err) == -1)
		return -1;
	room = (opt_size - fixed) / 8;
	if (pe->nrvas > room)
		return damaged(pe, err, "NumberOfRvaAndSizes is %u but the "
		    "optional header has room for %u data directories",
		    pe->nrvas, room);
	if (pe->nrvas <= DIR_SECURITY) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: has no certificate table "
		    "entry (NumberOfRvaAndSizes is %u, at least 5 needed)",
		    pe->path, pe->nrvas);
		hd_err_hint(err, "such a file cannot carry an Authenticode "
		    "signature; relink it with the usual 16 data directories");
		return -1;
	}
	pe->secdir_off = (uint32_t)(off + fixed + 8 * DIR_SECURITY);
	if (hd_pe_read(pe, pe->secdir_off, d, sizeof(d), err) == -1)
		return -1;
	pe->cert_off = le32(d);
	pe->cert_size = le32(d + 4);
	return 0;
}

/* The 8-byte name, printable; a nameless section is called by number. */
static void
sect_name(char out[9], const unsigned char *raw, unsigned idx)
{
	size_t i;

	for (i = 0; i < 8 && raw[i] != '\0'; i++)
		out[i] = raw[i] > 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, 9, "#%u", idx + 1);
}

static int
sect_fill(struct hd_pe *pe, const unsigned char *tab, struct hd_err *err)
{
	unsigned i;

	for (i = 0; i < pe->nsect; i++) {
		const unsigned char *h = tab + (size_t)i * SECT_HDR;
		struct hd_pe_section *s = &pe->sect[i];

		sect_name(s->name, h, i);
		s->raw_size = le32(h + 16);
		s->raw_off = le32(h + 20);
		if (s->raw_size > 0 && !in_file(pe, s->raw_off, s->raw_size))
			return damaged(pe, err, "section %s raw data ends past "
			    "end of file (offset %u + size %u > file size "
			    "%llu)", s->name, s->raw_off, s->raw_size,
			    (unsigned long long)pe->size);
	}
	return 0;
}

static int
parse_sections(struct hd_pe *pe, uint16_t opt_size, struct hd_err *err)
{
	uint64_t off = (uint64_t)pe->pe_off + COFF_HDR + opt_size;
	uint64_t len = (uint64_t)pe->nsect * SECT_HDR;
	unsigned char *tab;
	int rc;

	if (!in_file(pe, off, len))
		return damaged(pe, err, "section table ends past end of file "
		    "(%u sections at offset %llu: %llu + %llu > file size "
		    "%llu)", pe->nsect, (unsigned long long)off,
		    (unsigned long long)off, (unsigned long long)len,
		    (unsigned long long)pe->size);
	if (pe->headers_size > pe->size)
		return damaged(pe, err, "SizeOfHeaders %u is past end of file "
		    "(file size %llu)", pe->headers_size,
		    (unsigned long long)pe->size);
	if (off + len > pe->headers_size)
		return damaged(pe, err, "section table ends at %llu, past "
		    "the end of the headers (SizeOfHeaders %u)",
		    (unsigned long long)(off + len), pe->headers_size);
	if (pe->nsect == 0)
		return 0;
	tab = malloc((size_t)len);
	pe->sect = calloc(pe->nsect, sizeof(*pe->sect));
	if (tab == NULL || pe->sect == NULL) {
		free(tab);
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory "
		    "reading %u section headers", pe->path, pe->nsect);
	}
	rc = hd_pe_read(pe, off, tab, (size_t)len, err);
	if (rc == 0)
		rc = sect_fill(pe, tab, err);
	free(tab);
	return rc;
}

static int
by_raw_off(const void *a, const void *b)
{
	const struct hd_pe_section *x = a, *y = b;

	if (x->raw_off != y->raw_off)
		return x->raw_off < y->raw_off ? -1 : 1;
	return (x->raw_size > y->raw_size) - (x->raw_size < y->raw_size);
}

/* prev is "" for the headers, or the name of the section before. */
static int
layout_error(const struct hd_pe *pe, const struct hd_pe_section *s,
    const char *prev, uint64_t pos, struct hd_err *err)
{
	char who[32];

	if (prev[0] != '\0')
		snprintf(who, sizeof(who), "section %s", prev);
	else
		snprintf(who, sizeof(who), "the headers");
	if (s->raw_off < pos)
		return damaged(pe, err, "section %s raw data (offset %u) "
		    "overlaps %s, which end%s at %llu", s->name, s->raw_off,
		    who, prev[0] != '\0' ? "s" : "", (unsigned long long)pos);
	hd_err_set(err, HD_E_INPUT, 0, "%s: %llu bytes at offset %llu, "
	    "between %s and section %s, belong to no section", pe->path,
	    (unsigned long long)(s->raw_off - pos), (unsigned long long)pos,
	    who, s->name);
	hd_err_hint(err, "the Authenticode specification leaves such bytes "
	    "out of the digest and osslsigncode hashes them, so a signature "
	    "would not verify everywhere; relink the file");
	return -1;
}

/*
 * Headers and section raw data must follow each other without gaps or
 * overlaps.  Only then is the specification's digest (headers, sections
 * sorted by offset, then the rest) the same as hashing the file straight
 * through, which is what osslsigncode does; see pe_hash.c.
 */
static int
check_layout(struct hd_pe *pe, struct hd_err *err)
{
	struct hd_pe_section *s;
	const char *prev = "";
	uint64_t pos = pe->headers_size;
	unsigned i;
	int rc = 0;

	pe->raw_end = pos;
	if (pe->nsect == 0)
		return 0;
	if ((s = malloc(pe->nsect * sizeof(*s))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory",
		    pe->path);
	memcpy(s, pe->sect, pe->nsect * sizeof(*s));
	qsort(s, pe->nsect, sizeof(*s), by_raw_off);
	for (i = 0; i < pe->nsect && rc == 0; i++) {
		if (s[i].raw_size == 0)
			continue;
		if (s[i].raw_off != pos) {
			rc = layout_error(pe, &s[i], prev, pos, err);
			break;
		}
		pos += s[i].raw_size;
		prev = s[i].name;
	}
	pe->raw_end = pos;
	free(s);
	return rc;
}

/*
 * An existing certificate table must start 8-aligned after the section
 * data and end the file: since MS12-024 nothing may follow it, and
 * bytes after it would be covered by no signature.
 */
static int
check_cert(struct hd_pe *pe, struct hd_err *err)
{
	uint64_t end = (uint64_t)pe->cert_off + pe->cert_size;

	if (pe->cert_off == 0 && pe->cert_size == 0)
		return 0;
	if (pe->cert_off == 0 || pe->cert_size < WIN_CERT_HDR)
		return damaged(pe, err, "certificate table entry is broken "
		    "(offset %u, size %u)", pe->cert_off, pe->cert_size);
	if (pe->cert_off < pe->raw_end)
		return damaged(pe, err, "certificate table (offset %u) "
		    "overlaps the headers or section data, which end at %llu",
		    pe->cert_off, (unsigned long long)pe->raw_end);
	if (!in_file(pe, pe->cert_off, pe->cert_size))
		return damaged(pe, err, "certificate table ends past end of "
		    "file (offset %u + size %u > file size %llu)", pe->cert_off,
		    pe->cert_size, (unsigned long long)pe->size);
	if (pe->cert_off % 8 != 0)
		return damaged(pe, err, "certificate table offset %u is not a "
		    "multiple of 8", pe->cert_off);
	if (end != pe->size)
		return damaged(pe, err, "%llu bytes follow the certificate "
		    "table, which ends at %llu; no signature covers them",
		    (unsigned long long)(pe->size - end),
		    (unsigned long long)end);
	return 0;
}

static int
parse(struct hd_pe *pe, struct hd_err *err)
{
	uint16_t opt_size = 0;

	if (parse_dos(pe, err) == -1 || parse_coff(pe, &opt_size, err) == -1 ||
	    parse_opt(pe, opt_size, err) == -1 ||
	    parse_sections(pe, opt_size, err) == -1 ||
	    check_layout(pe, err) == -1 || check_cert(pe, err) == -1)
		return -1;
	return 0;
}

/* The file must be a regular one the certificate table can address. */
static int
file_size(struct hd_pe *pe, struct hd_err *err)
{
	struct stat st;

	if (fstat(pe->fd, &st) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: %s", pe->path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hd_err_set(err, HD_E_INPUT, 0, "%s: not a regular file",
		    pe->path);
	/* the certificate table's offset is 32 bits */
	if ((uint64_t)st.st_size > UINT32_MAX)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: is %llu bytes; "
		    "Authenticode cannot sign a file of 4 GiB or more",
		    pe->path, (unsigned long long)st.st_size);
	pe->size = (uint64_t)st.st_size;
	pe->mtime = st.st_mtim;
	pe->ctime = st.st_ctim;
	return 0;
}

/*
 * Parse the PE file open on fd, which stays the caller's; name is what
 * messages call it.  The file must not change until hd_pe_close.  On
 * failure nothing is left to close and pe->fd is -1.
 */
int
hd_pe_open_fd(struct hd_pe *pe, int fd, const char *name,
    struct hd_err *err)
{
	memset(pe, 0, sizeof(*pe));
	pe->fd = fd;
	snprintf(pe->path, sizeof(pe->path), "%s", name);
	if (file_size(pe, err) == -1 || parse(pe, err) == -1) {
		hd_pe_close(pe);
		return -1;
	}
	return 0;
}

/* Open and parse path read-only. */
int
hd_pe_open(struct hd_pe *pe, const char *path, struct hd_err *err)
{
	/* O_NONBLOCK: a FIFO must not hang the open; fstat refuses it */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd == -1) {
		memset(pe, 0, sizeof(*pe));
		pe->fd = -1;
		return hd_err_set(err, errno == ENOENT ? HD_E_INPUT : HD_E_IO,
		    0, "%s: cannot open: %s", path, strerror(errno));
	}
	if (hd_pe_open_fd(pe, fd, path, err) == -1) {
		close(fd);
		return -1;
	}
	pe->own_fd = 1;
	return 0;
}

void
hd_pe_close(struct hd_pe *pe)
{
	free(pe->sect);
	pe->sect = NULL;
	if (pe->own_fd && pe->fd != -1)
		close(pe->fd);
	pe->fd = -1;
	pe->own_fd = 0;
}

/* The length of the one DER SEQUENCE at the start of buf, or -1. */
long
hd_pe_der_seq_len(const unsigned char *buf, size_t n)
{
	const unsigned char *p = buf;
	long len;
	int tag, cls, r;

	if (n == 0 || n > HD_PE_SIG_MAX)
		return -1;
	r = ASN1_get_object(&p, &len, &tag, &cls, (long)n);
	ERR_clear_error();
	/* 0x80: error or too long; 0x21: indefinite length, not DER */
	if (r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL)
		return -1;
	return (long)(p - buf) + len;
}

static int
sig_header(const struct hd_pe *pe, uint32_t *len, struct hd_err *err)
{
	unsigned char h[WIN_CERT_HDR];
	uint16_t rev, type;

	if (pe->cert_size == 0)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: has no signature",
		    pe->path);
	if (hd_pe_read(pe, pe->cert_off, h, sizeof(h), err) == -1)
		return -1;
	*len = le32(h);
	rev = le16(h + 4);
	type = le16(h + 6);
	if (*len < WIN_CERT_HDR || *len > pe->cert_size)
		return damaged(pe, err, "the first certificate table entry "
		    "claims %u bytes but the table has %u", *len,
		    pe->cert_size);
	if (rev != HD_WIN_CERT_REVISION_2_0 ||
	    type != HD_WIN_CERT_TYPE_PKCS_SIGNED)
		return damaged(pe, err, "the first certificate table entry is "
		    "not an Authenticode signature (revision 0x%04x, type "
		    "0x%04x)", rev, type);
	if (*len - WIN_CERT_HDR > HD_PE_SIG_MAX)
		return damaged(pe, err, "the signature is %u bytes, more than "
		    "the %u hsmdesk reads", *len - WIN_CERT_HDR, HD_PE_SIG_MAX);
	return 0;
}

/*
 * The PKCS#7 SignedData DER of the first WIN_CERTIFICATE, without its
 * padding, in a buffer the caller frees.  Nested signatures live inside
 * it (unsigned attribute 1.3.6.1.4.1.311.2.4.1), so a caller adding one
 * changes this DER and writes it back with hd_pe_write_signed.
 */
int
hd_pe_signature(const struct hd_pe *pe, unsigned char **der, size_t *len,
    struct hd_err *err)
{
	unsigned char *buf;
	uint32_t entry = 0;
	long n;

	*der = NULL;
	*len = 0;
	if (sig_header(pe, &entry, err) == -1)
		return -1;
	if ((buf = malloc(entry - WIN_CERT_HDR + 1)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "%s: out of memory "
		    "reading the signature", pe->path);
	if (hd_pe_read(pe, (uint64_t)pe->cert_off + WIN_CERT_HDR, buf,
	    entry - WIN_CERT_HDR, err) == -1) {
		free(buf);
		return -1;
	}
	n = hd_pe_der_seq_len(buf, entry - WIN_CERT_HDR);
	if (n < 0) {
		free(buf);
		return damaged(pe, err, "the signature is not DER-encoded "
		    "PKCS#7 (%u bytes)", entry - WIN_CERT_HDR);
	}
	*der = buf;
	*len = (size_t)n;
	return 0;
}

/* By content, as Windows does: an MS-DOS header whose e_lfanew points at
 * "PE\0\0" is a PE file (PE/COFF: MS-DOS Stub, Signature). */
int
hd_file_type(const char *path, enum hd_file_type *type, struct hd_err *err)
{
	unsigned char b[DOS_HDR], sig[4];
	struct stat st = { 0 };
	ssize_t r;
	int fd;

	*type = HD_FILE_DATA;
	/* O_NONBLOCK: a FIFO must not hang us before it is refused */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return hd_err_set(err, HD_E_INPUT, 0, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: %s", path,
		    S_ISDIR(st.st_mode) ? "is a directory, not a file" :
		    "not a regular file");
		close(fd);
		return -1;
	}
	r = pread(fd, b, sizeof(b), 0);
	if (r == -1) {
		hd_err_set(err, HD_E_INPUT, 0, "%s: cannot read: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (r == (ssize_t)sizeof(b) && b[0] == 'M' && b[1] == 'Z' &&
	    pread(fd, sig, 4, (off_t)le32(b + 60)) == 4 &&
	    memcmp(sig, "PE\0\0", 4) == 0)
		*type = HD_FILE_PE;
	close(fd);
	return 0;
}
