/*
 * libFuzzer target for the audit log's readers: core/audit_json.c (the
 * strict one-line JSON parser), audit_verify.c (chain, checkpoints, their
 * certificates and signatures) and audit_show.c, on the input written to
 * a temporary file as a log.  No token: the witness is not read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct hd_audit_report r;
	struct hd_audit_filter f = { "2026", "A", "*.bin" };
	struct hd_audit_row *rows;
	struct hd_json j;
	struct hd_err err;
	size_t n;
	FILE *fp;

	if (hd_json_parse((const char *)data, size, &j) == 0)
		hd_json_free(&j);
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_audit.%ld.log",
		    (long)getpid());
	if ((fp = fopen(path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (hd_audit_verify(path, NULL, NULL, &r, &err) == 0 &&
	    (r.last_ckpt > r.lines || r.unproven != r.lines - r.last_ckpt ||
	    r.nproblems > HD_AUDIT_PROBLEMS || r.entries + r.checkpoints >
	    r.lines || r.witness != HD_WIT_NOT_CHECKED))
		abort();	/* the report contradicts itself */
	if (hd_audit_rows(path, size % 2 ? &f : NULL, &rows, &n, &err) == 0)
		hd_audit_rows_free(rows, n);
	unlink(path);
	return 0;
}
