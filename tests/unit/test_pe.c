/*
 * core/pe.c: parsing PE32 and PE32+ files and reading their signature.
 * The files are built by testlib_pe.c with MinGW-w64; the damaged ones
 * are made here by patching a good one, each refused with a message
 * naming the file and what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pe.h"
#include "testlib_pe.h"

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* ---- parsing good files ------------------------------------------------- */

static void
test_pe_parses_pe32plus_exe(void **state)
{
	struct hd_pe pe;
	struct hd_err err;
	uint32_t sum;

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_pe_open(&pe, TP.exe64, &err), 0);
	assert_int_equal(pe.pe32plus, 1);
	assert_int_equal(pe.machine, 0x8664);
	assert_true(pe.nsect > 3);
	assert_string_equal(pe.sect[0].name, ".text");
	assert_int_equal(pe.cert_off, 0);
	assert_int_equal(pe.cert_size, 0);
	/* ld writes the checksum, an independent implementation */
	assert_int_equal(hd_pe_checksum(&pe, &sum, &err), 0);
	assert_int_equal(sum, pe.checksum);
	hd_pe_close(&pe);
	assert_int_equal(pe.fd, -1);
}

static void
test_pe_parses_pe32_exe_and_pe32plus_dll(void **state)
{
	struct hd_pe pe;
	struct hd_err err;
	uint32_t sum;

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_pe_open(&pe, TP.exe32, &err), 0);
	assert_int_equal(pe.pe32plus, 0);
	assert_int_equal(pe.machine, 0x14c);
	assert_int_equal(hd_pe_checksum(&pe, &sum, &err), 0);
	assert_int_equal(sum, pe.checksum);
	hd_pe_close(&pe);
	assert_int_equal(hd_pe_open(&pe, TP.dll64, &err), 0);
	assert_int_equal(pe.pe32plus, 1);
	assert_int_equal(pe.raw_end, pe.size);
	hd_pe_close(&pe);
}

static void
test_pe_open_fd_leaves_the_descriptor_open(void **state)
{
	struct hd_pe pe;
	struct hd_err err;
	int fd;

	(void)state;
	TL_NEED_PE();
	fd = open(TP.exe32, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(hd_pe_open_fd(&pe, fd, "hello32.exe", &err), 0);
	assert_string_equal(pe.path, "hello32.exe");
	hd_pe_close(&pe);
	assert_int_equal(pe.fd, -1);
	assert_true(fcntl(fd, F_GETFD) != -1);
	assert_int_equal(close(fd), 0);
}

/* ---- the signature inside a signed file --------------------------------- */

static void
test_pe_signature_is_the_der_osslsigncode_extracts(void **state)
{
	const char *out = tl_pe_path("ossl-signed.exe");
	unsigned char *want, *der;
	size_t n, len;
	struct hd_pe pe;
	struct hd_err err;

	(void)state;
	TL_NEED_PE();
	tl_ossl_sign(TP.dll64, out, "sha256");
	want = tl_ossl_sig(out, &n);
	assert_int_equal(hd_pe_open(&pe, out, &err), 0);
	assert_int_equal(hd_pe_signature(&pe, &der, &len, &err), 0);
	assert_int_equal(len, n);
	assert_memory_equal(der, want, n);
	free(der);
	free(want);
	hd_pe_close(&pe);
}

static void
test_pe_signature_of_unsigned_file_is_an_error(void **state)
{
	unsigned char *der = (unsigned char *)"x";
	struct hd_pe pe;
	struct hd_err err;
	size_t len = 1;
	char want[700];

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_pe_open(&pe, TP.exe32, &err), 0);
	assert_int_equal(hd_pe_signature(&pe, &der, &len, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: has no signature", TP.exe32);
	assert_string_equal(err.msg, want);
	assert_null(der);
	assert_int_equal(len, 0);
	hd_pe_close(&pe);
}

/*
 * A signed copy of dll64 with its WIN_CERTIFICATE patched; what is the
 * message, with %u the certificate table size less minus.
 */
static void
check_bad_entry(uint32_t len, uint16_t rev, uint16_t type,
    unsigned char first, const char *what, uint32_t minus)
{
	const char *out = tl_pe_path("ossl-signed.exe");
	const char *bad = tl_pe_path("bad-sig.dll");
	unsigned char *b, *der;
	struct hd_pe pe;
	struct hd_err err;
	size_t n, dlen;
	char want[900], msg[600];

	tl_ossl_sign(TP.dll64, out, "sha256");
	assert_int_equal(hd_pe_open(&pe, out, &err), 0);
	hd_pe_close(&pe);
	b = tl_slurp(out, &n, 0);
	if (len != 0)
		wr32(b + pe.cert_off, len);
	wr16(b + pe.cert_off + 4, rev);
	wr16(b + pe.cert_off + 6, type);
	b[pe.cert_off + 8] = first;
	tl_spit(bad, b, n);
	free(b);
	assert_int_equal(hd_pe_open(&pe, bad, &err), 0);
	assert_int_equal(hd_pe_signature(&pe, &der, &dlen, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(msg, sizeof(msg), what, pe.cert_size - minus);
	snprintf(want, sizeof(want), "%s: %s", bad, msg);
	assert_string_equal(err.msg, want);
	hd_pe_close(&pe);
}

static void
test_pe_signature_refuses_broken_entries(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_bad_entry(0x7fffffff, 0x0200, 2, 0x30, "the first certificate "
	    "table entry claims 2147483647 bytes but the table has %u", 0);
	check_bad_entry(0, 0x0100, 1, 0x30, "the first certificate table "
	    "entry is not an Authenticode signature (revision 0x0100, type "
	    "0x0001)", 0);
	/* osslsigncode's dwLength counts the padding */
	check_bad_entry(0, 0x0200, 2, 0x04, "the signature is not "
	    "DER-encoded PKCS#7 (%u bytes)", 8);
}

/* ---- damaged files ------------------------------------------------------ */

/* A file under test: bytes, length, and where its headers are. */
struct img {
	unsigned char *b;
	size_t n;
	uint32_t pe, opt, nrvas_at, dir4, sect;
	unsigned nsect;
	char want[512];
};

static void
img_load(struct img *m, const char *path)
{
	uint16_t opt_size;

	memset(m, 0, sizeof(*m));
	m->b = tl_slurp(path, &m->n, 4096);
	m->pe = rd32(m->b + 60);
	m->opt = m->pe + 24;
	opt_size = (uint16_t)(m->b[m->pe + 20] | m->b[m->pe + 21] << 8);
	m->nsect = (unsigned)(m->b[m->pe + 6] | m->b[m->pe + 7] << 8);
	m->nrvas_at = m->opt + (m->b[m->opt + 1] == 2 ? 108 : 92);
	m->dir4 = m->nrvas_at + 4 + 4 * 8;
	m->sect = m->opt + opt_size;
}

static const char *
sname(const struct img *m, unsigned i)
{
	static char name[9];

	memcpy(name, m->b + m->sect + 40 * i, 8);
	name[8] = '\0';
	return name;
}

static uint32_t
sraw(const struct img *m, unsigned i, int size)
{
	return rd32(m->b + m->sect + 40 * i + (size ? 16 : 20));
}

#define W(...) snprintf(m->want, sizeof(m->want), __VA_ARGS__)

static void
m_empty(struct img *m)
{
	m->n = 0;
	W("is empty");
}

static void
m_short(struct img *m)
{
	m->n = 63;
	W("is 63 bytes, too short for an MS-DOS header (64 bytes)");
}

static void
m_no_mz(struct img *m)
{
	m->b[1] = 'X';
	W("no MZ signature at the start: not a Windows program");
}

static void
m_lfanew_past_end(struct img *m)
{
	wr32(m->b + 60, (uint32_t)(m->n + 4) & ~3u);
	W("PE header offset %u (e_lfanew) is past end of file (file size %zu)",
	    (uint32_t)(m->n + 4) & ~3u, m->n);
}

static void
m_lfanew_unaligned(struct img *m)
{
	wr32(m->b + 60, m->pe + 2);
	W("PE header offset %u (e_lfanew) is not a multiple of 4", m->pe + 2);
}

static void
m_cut_in_coff(struct img *m)
{
	m->n = m->pe + 10;
	W("COFF header ends past end of file (offset %u + size 24 > file size "
	    "%zu)", m->pe, m->n);
}

static void
m_no_pe(struct img *m)
{
	m->b[m->pe + 1] = 'X';
	W("no PE signature at offset %u (e_lfanew): an MS-DOS program or not "
	    "a Windows program", m->pe);
}

static void
m_no_opt(struct img *m)
{
	wr16(m->b + m->pe + 20, 0);
	W("has no optional header (SizeOfOptionalHeader is 0): an object "
	    "file, not a program");
}

static void
m_cut_in_opt(struct img *m)
{
	m->n = m->opt + 50;
	W("optional header ends past end of file (offset %u + size %u > file "
	    "size %zu)", m->opt, m->sect - m->opt, m->n);
}

static void
m_rom_magic(struct img *m)
{
	wr16(m->b + m->opt, 0x107);
	W("optional header magic 0x107 is neither PE32 (0x10b) nor PE32+ "
	    "(0x20b)");
}

static void
m_opt_too_short(struct img *m)
{
	int plus = m->b[m->opt + 1] == 2;

	wr16(m->b + m->pe + 20, plus ? 100 : 90);
	W("optional header is %u bytes, too short for %s (%u)", plus ? 100 : 90,
	    plus ? "PE32+" : "PE32", plus ? 112 : 96);
}

static void
m_absurd_nrvas(struct img *m)
{
	wr32(m->b + m->nrvas_at, 0xffffffff);
	W("NumberOfRvaAndSizes is 4294967295 but the optional header has room "
	    "for 16 data directories");
}

static void
m_few_nrvas(struct img *m)
{
	wr32(m->b + m->nrvas_at, 4);
	W("has no certificate table entry (NumberOfRvaAndSizes is 4, at "
	    "least 5 needed)");
}

static void
m_absurd_nsect(struct img *m)
{
	wr16(m->b + m->pe + 6, 0xffff);
	W("section table ends past end of file (65535 sections at offset %u: "
	    "%u + 2621400 > file size %zu)", m->sect, m->sect, m->n);
}

static void
m_headers_past_end(struct img *m)
{
	wr32(m->b + m->opt + 60, (uint32_t)m->n + 1);
	W("SizeOfHeaders %u is past end of file (file size %zu)",
	    (uint32_t)m->n + 1, m->n);
}

static void
m_table_past_headers(struct img *m)
{
	wr32(m->b + m->opt + 60, m->sect + 8);
	W("section table ends at %u, past the end of the headers "
	    "(SizeOfHeaders %u)", m->sect + 40 * m->nsect, m->sect + 8);
}

/* Cut one byte off the section that ends the file. */
static void
m_cut_in_section(struct img *m)
{
	unsigned i, last = 0;

	for (i = 0; i < m->nsect; i++)
		if (sraw(m, i, 0) + sraw(m, i, 1) == m->n)
			last = i;
	m->n--;
	W("section %s raw data ends past end of file (offset %u + size %u > "
	    "file size %zu)", sname(m, last), sraw(m, last, 0),
	    sraw(m, last, 1), m->n);
}

static void
m_absurd_section_size(struct img *m)
{
	wr32(m->b + m->sect + 16, 0xffffffff);
	W("section %s raw data ends past end of file (offset %u + size "
	    "4294967295 > file size %zu)", sname(m, 0), sraw(m, 0, 0), m->n);
}

/* The first section 512 bytes shorter: a gap before the second. */
static void
m_gap_between_sections(struct img *m)
{
	uint32_t end = sraw(m, 0, 0) + sraw(m, 0, 1);
	char first[9];

	assert_true(sraw(m, 0, 1) > 512);
	assert_int_equal(sraw(m, 1, 0), end);
	snprintf(first, sizeof(first), "%s", sname(m, 0));
	wr32(m->b + m->sect + 16, sraw(m, 0, 1) - 512);
	W("512 bytes at offset %u, between section %s and section %s, belong "
	    "to no section", end - 512, first, sname(m, 1));
}

static void
m_section_in_headers(struct img *m)
{
	uint32_t h = rd32(m->b + m->opt + 60);

	wr32(m->b + m->sect + 20, h - 8);
	W("section %s raw data (offset %u) overlaps the headers, which end at "
	    "%u", sname(m, 0), h - 8, h);
}

/* The second section moved onto the first; the shorter sorts first. */
static void
m_overlapping_sections(struct img *m)
{
	uint32_t at = sraw(m, 0, 0);
	unsigned first = sraw(m, 0, 1) < sraw(m, 1, 1) ? 0 : 1;
	char name[9];

	assert_true(sraw(m, 0, 1) != sraw(m, 1, 1));
	wr32(m->b + m->sect + 40 + 20, at);
	snprintf(name, sizeof(name), "%s", sname(m, first));
	W("section %s raw data (offset %u) overlaps section %s, which ends at "
	    "%u", sname(m, 1 - first), at, name, at + sraw(m, first, 1));
}

static void
m_cert_in_sections(struct img *m)
{
	wr32(m->b + m->dir4, sraw(m, 0, 0));
	wr32(m->b + m->dir4 + 4, 256);
	W("certificate table (offset %u) overlaps the headers or section data, "
	    "which end at %zu", sraw(m, 0, 0), m->n);
}

static void
m_cert_past_end(struct img *m)
{
	wr32(m->b + m->dir4, (uint32_t)m->n);
	wr32(m->b + m->dir4 + 4, 256);
	W("certificate table ends past end of file (offset %zu + size 256 > "
	    "file size %zu)", m->n, m->n);
}

static void
m_cert_unaligned(struct img *m)
{
	wr32(m->b + m->dir4, (uint32_t)m->n + 4);
	wr32(m->b + m->dir4 + 4, 8);
	m->n += 12;
	W("certificate table offset %zu is not a multiple of 8", m->n - 8);
}

static void
m_data_after_cert(struct img *m)
{
	wr32(m->b + m->dir4, (uint32_t)m->n);
	wr32(m->b + m->dir4 + 4, 8);
	m->n += 24;
	W("16 bytes follow the certificate table, which ends at %zu; no "
	    "signature covers them", m->n - 16);
}

static void
m_cert_entry_broken(struct img *m)
{
	wr32(m->b + m->dir4, 0);
	wr32(m->b + m->dir4 + 4, 8);
	W("certificate table entry is broken (offset 0, size 8)");
}

static const struct {
	const char *name;
	void (*mutate)(struct img *);
} damages[] = {
	{ "empty", m_empty }, { "short", m_short }, { "no-mz", m_no_mz },
	{ "lfanew-past-end", m_lfanew_past_end },
	{ "lfanew-unaligned", m_lfanew_unaligned },
	{ "cut-in-coff", m_cut_in_coff }, { "no-pe", m_no_pe },
	{ "no-opt", m_no_opt }, { "cut-in-opt", m_cut_in_opt },
	{ "rom-magic", m_rom_magic }, { "opt-too-short", m_opt_too_short },
	{ "absurd-nrvas", m_absurd_nrvas }, { "few-nrvas", m_few_nrvas },
	{ "absurd-nsect", m_absurd_nsect },
	{ "headers-past-end", m_headers_past_end },
	{ "table-past-headers", m_table_past_headers },
	{ "cut-in-section", m_cut_in_section },
	{ "absurd-section-size", m_absurd_section_size },
	{ "gap-between-sections", m_gap_between_sections },
	{ "section-in-headers", m_section_in_headers },
	{ "overlapping-sections", m_overlapping_sections },
	{ "cert-in-sections", m_cert_in_sections },
	{ "cert-past-end", m_cert_past_end },
	{ "cert-unaligned", m_cert_unaligned },
	{ "data-after-cert", m_data_after_cert },
	{ "cert-entry-broken", m_cert_entry_broken },
};

static void
check_damages(const char *base)
{
	char name[64], want[1200];
	struct hd_pe pe;
	struct hd_err err;
	struct img m;
	size_t i;

	for (i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
		img_load(&m, base);
		damages[i].mutate(&m);
		snprintf(name, sizeof(name), "damaged-%s.exe", damages[i].name);
		tl_spit(tl_pe_path(name), m.b, m.n);
		free(m.b);
		if (hd_pe_open(&pe, tl_pe_path(name), &err) == 0)
			fail_msg("%s: accepted", name);
		snprintf(want, sizeof(want), "%s: %s", tl_pe_path(name),
		    m.want);
		assert_string_equal(err.msg, want);
		assert_int_equal(err.code, HD_E_INPUT);
		assert_true(err.hint[0] != '\0');
		assert_int_equal(pe.fd, -1);
		assert_null(pe.sect);
	}
}

static void
test_pe_refuses_damaged_pe32plus_files(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_damages(TP.dll64);
}

static void
test_pe_refuses_damaged_pe32_files(void **state)
{
	(void)state;
	TL_NEED_PE();
	check_damages(TP.exe32);
}

static void
test_pe_refuses_what_is_not_a_file(void **state)
{
	struct hd_pe pe;
	struct hd_err err;
	char want[800];

	(void)state;
	assert_int_equal(mkdir(tl_pe_path("dir.exe"), 0700), 0);
	assert_int_equal(hd_pe_open(&pe, tl_pe_path("dir.exe"), &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: not a regular file",
	    tl_pe_path("dir.exe"));
	assert_string_equal(err.msg, want);
	assert_int_equal(pe.fd, -1);
	/* a FIFO with no writer must not hang the open */
	assert_int_equal(mkfifo(tl_pe_path("fifo.exe"), 0600), 0);
	assert_int_equal(hd_pe_open(&pe, tl_pe_path("fifo.exe"), &err), -1);
	snprintf(want, sizeof(want), "%s: not a regular file",
	    tl_pe_path("fifo.exe"));
	assert_string_equal(err.msg, want);
	assert_int_equal(hd_pe_open(&pe, tl_pe_path("missing.exe"), &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", tl_pe_path("missing.exe"));
	assert_string_equal(err.msg, want);
}

/* ---- hd_file_type: what sign --type auto decides on ---------------------- */

static void
test_file_type_finds_pe_by_content(void **state)
{
	enum hd_file_type t = HD_FILE_DATA;
	struct hd_err err;
	const char *renamed = tl_pe_path("program.txt");

	(void)state;
	TL_NEED_PE();
	assert_int_equal(hd_file_type(TP.exe64, &t, &err), 0);
	assert_int_equal(t, HD_FILE_PE);
	assert_int_equal(hd_file_type(TP.dll64, &t, &err), 0);
	assert_int_equal(t, HD_FILE_PE);
	/* by content, not by name */
	assert_int_equal(tl_run("cp '%s' '%s'", TP.exe32, renamed), 0);
	assert_int_equal(hd_file_type(renamed, &t, &err), 0);
	assert_int_equal(t, HD_FILE_PE);
}

static void
test_file_type_mz_without_pe_header_is_data(void **state)
{
	enum hd_file_type t = HD_FILE_PE;
	struct hd_err err;
	const char *mz = tl_pe_path("mz.bin"), *empty = tl_pe_path("e.bin");
	unsigned char b[128];

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 'M';
	b[1] = 'Z';
	b[60] = 64;		/* e_lfanew: zeros there, not "PE\0\0" */
	tl_spit(mz, b, sizeof(b));
	assert_int_equal(hd_file_type(mz, &t, &err), 0);
	assert_int_equal(t, HD_FILE_DATA);
	tl_spit(empty, b, 0);
	t = HD_FILE_PE;
	assert_int_equal(hd_file_type(empty, &t, &err), 0);
	assert_int_equal(t, HD_FILE_DATA);
}

static void
test_file_type_refuses_missing_file_and_directory(void **state)
{
	enum hd_file_type t;
	struct hd_err err;
	char dir[700];

	(void)state;
	hd_err_clear(&err);
	assert_int_equal(hd_file_type("/nonexistent/x.exe", &t, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_string_equal(err.msg, "/nonexistent/x.exe: No such file or "
	    "directory");
	snprintf(dir, sizeof(dir), "%s", tl_pe_path("adir"));
	assert_int_equal(tl_run("mkdir -p '%s'", dir), 0);
	hd_err_clear(&err);
	assert_int_equal(hd_file_type(dir, &t, &err), -1);
	assert_int_equal(err.code, HD_E_INPUT);
	assert_non_null(strstr(err.msg, "is a directory"));
	/* a FIFO nobody writes to: refused at once, not waited on */
	snprintf(dir, sizeof(dir), "%s", tl_pe_path("fifo"));
	assert_int_equal(tl_run("rm -f '%s' && mkfifo '%s'", dir, dir), 0);
	hd_err_clear(&err);
	assert_int_equal(hd_file_type(dir, &t, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pe_parses_pe32plus_exe),
		T(test_pe_parses_pe32_exe_and_pe32plus_dll),
		T(test_pe_open_fd_leaves_the_descriptor_open),
		T(test_pe_signature_is_the_der_osslsigncode_extracts),
		T(test_pe_signature_of_unsigned_file_is_an_error),
		T(test_pe_signature_refuses_broken_entries),
		T(test_pe_refuses_damaged_pe32plus_files),
		T(test_pe_refuses_damaged_pe32_files),
		T(test_pe_refuses_what_is_not_a_file),
		T(test_file_type_finds_pe_by_content),
		T(test_file_type_mz_without_pe_header_is_data),
		T(test_file_type_refuses_missing_file_and_directory),
	};

	return cmocka_run_group_tests(tests, tl_pe_setup, tl_pe_teardown);
}
