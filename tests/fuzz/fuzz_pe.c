/*
 * libFuzzer target for core/pe.c, pe_hash.c and pe_write.c.  The input is
 * the PE file, handed over in a memfd.  A refused file must come with
 * HD_E_INPUT and a message.  An accepted one must keep the layout
 * promises hd_pe_open makes, give a digest and a checksum, and survive
 * the writer: its signed output parses, has the same digest and a
 * correct checksum, and gives back the DER that went in.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pe.h"

/* A tiny DER SEQUENCE standing in for a PKCS#7 signature. */
static const unsigned char sig[] = { 0x30, 0x03, 0x02, 0x01, 0x2a };

static char out_dir[256];
static char out_path[300];

static void
cleanup(void)
{
	unlink(out_path);
	rmdir(out_dir);
}

/* Once: a private dir for the writer's output, on tmpfs if there is one. */
static void
init_out(void)
{
	if (out_dir[0] != '\0')
		return;
	snprintf(out_dir, sizeof(out_dir), "/dev/shm/fuzz_pe.XXXXXX");
	if (mkdtemp(out_dir) == NULL) {
		const char *t = getenv("TMPDIR");

		snprintf(out_dir, sizeof(out_dir), "%s/fuzz_pe.XXXXXX",
		    t ? t : "/tmp");
		if (mkdtemp(out_dir) == NULL)
			abort();
	}
	snprintf(out_path, sizeof(out_path), "%s/signed.exe", out_dir);
	atexit(cleanup);
}

static int
mem_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_pe", MFD_CLOEXEC);

	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	return fd;
}

static void
check_layout(const struct hd_pe *pe)
{
	if (pe->headers_size > pe->raw_end || pe->raw_end > pe->size ||
	    pe->secdir_off + 8 > pe->headers_size ||
	    pe->checksum_off + 4 > pe->secdir_off)
		abort();
	if (pe->cert_size != 0 && (pe->cert_off < pe->raw_end ||
	    pe->cert_off % 8 != 0 ||
	    (uint64_t)pe->cert_off + pe->cert_size != pe->size))
		abort();
}

/* The signature, if any, is handed out whole or refused cleanly. */
static void
check_signature(const struct hd_pe *pe)
{
	unsigned char *der;
	struct hd_err err;
	size_t len;

	if (hd_pe_signature(pe, &der, &len, &err) == 0) {
		if (der == NULL || len == 0 || len + 8 > pe->cert_size)
			abort();
		free(der);
	} else if (err.code != HD_E_INPUT || err.msg[0] == '\0' ||
	    der != NULL) {
		abort();
	}
}

/* The writer's output against what went in. */
static void
check_output(const struct hd_pe_digest *before)
{
	struct hd_pe_digest after;
	unsigned char *der;
	struct hd_pe out;
	struct hd_err err;
	uint32_t sum;
	size_t len;

	if (hd_pe_open(&out, out_path, &err) == -1 ||
	    hd_pe_digest(&out, EVP_sha256(), &after, NULL, NULL, &err) == -1 ||
	    hd_pe_checksum(&out, &sum, &err) == -1 ||
	    hd_pe_signature(&out, &der, &len, &err) == -1)
		abort();
	if (after.len != before->len ||
	    memcmp(after.value, before->value, after.len) != 0 ||
	    sum != out.checksum || len != sizeof(sig) ||
	    memcmp(der, sig, len) != 0 || out.cert_size != 16)
		abort();
	free(der);
	hd_pe_close(&out);
}

static void
check_accepted(const struct hd_pe *pe)
{
	struct hd_pe_digest dg;
	struct hd_err err;
	uint32_t sum;

	check_layout(pe);
	if (hd_pe_digest(pe, EVP_sha256(), &dg, NULL, NULL, &err) == -1 ||
	    hd_pe_checksum(pe, &sum, &err) == -1)
		abort();
	check_signature(pe);
	if (hd_pe_write_signed(pe, sig, sizeof(sig), &dg, out_path, 1, NULL,
	    NULL, &err) == -1)
		abort();
	check_output(&dg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_pe pe;
	struct hd_err err;
	int fd;

	init_out();
	fd = mem_file(data, size);
	hd_err_clear(&err);
	if (hd_pe_open_fd(&pe, fd, "fuzz.exe", &err) == 0) {
		check_accepted(&pe);
		hd_pe_close(&pe);
	} else if (err.code != HD_E_INPUT ||
	    strncmp(err.msg, "fuzz.exe: ", 10) != 0 || pe.sect != NULL) {
		abort();
	}
	close(fd);
	return 0;
}
