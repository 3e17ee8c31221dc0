/*
 * libFuzzer target for core/uri.c.  The first byte picks the form: odd
 * prefixes "pkcs11:" to the rest so the attribute parser is reached,
 * even passes the rest as is.  The rest is one NUL-terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char prefix[] = "pkcs11:";

/* Values with ';', '%' and blanks, as the unit tests use. */
static void
fill(struct hd_token_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->slot = 42;
	snprintf(ti->label, sizeof(ti->label), "prod; signing key");
	snprintf(ti->manufacturer, sizeof(ti->manufacturer), "SoftHSM project");
	snprintf(ti->model, sizeof(ti->model), "SoftHSM v2");
	snprintf(ti->serial, sizeof(ti->serial), "a1b2c3d4e5f60718");
	snprintf(ti->slot_desc, sizeof(ti->slot_desc), "Slot 42 100%%");
	ti->present = ti->initialized = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_token_info ti;
	struct hd_err err;
	size_t pre;
	char *uri;
	int rc;

	if (size == 0)
		return 0;
	pre = (data[0] & 1) ? sizeof(prefix) - 1 : 0;
	/* exactly sized, so ASan catches a read past the terminating NUL */
	if ((uri = malloc(pre + size)) == NULL)
		abort();
	memcpy(uri, prefix, pre);
	memcpy(uri + pre, data + 1, size - 1);
	uri[pre + size - 1] = '\0';
	fill(&ti);
	hd_err_clear(&err);
	rc = hd_uri_match(uri, &ti, &err);
	if (rc < -1 || rc > 1 ||
	    (rc == -1 && (err.code != HD_E_USAGE || err.msg[0] == '\0')))
		abort();
	free(uri);
	return 0;
}
