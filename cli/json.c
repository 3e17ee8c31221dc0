/* Just enough JSON for --json listings: RFC 8259 string escaping. */
#include <stdio.h>

#include "cli.h"

void
json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
json_kv_str(FILE *f, const char *k, const char *v, int comma)
{
	json_str(f, k);
	fputc(':', f);
	json_str(f, v);
	if (comma)
		fputc(',', f);
}

void
json_kv_bool(FILE *f, const char *k, int v, int comma)
{
	fprintf(f, "\"%s\":%s%s", k, v ? "true" : "false", comma ? "," : "");
}

void
json_kv_tri(FILE *f, const char *k, enum hd_tri v, int comma)
{
	fprintf(f, "\"%s\":%s%s", k, v == HD_UNKNOWN ? "null" : v ? "true" :
	    "false", comma ? "," : "");
}

void
json_kv_num(FILE *f, const char *k, unsigned long v, int comma)
{
	fprintf(f, "\"%s\":%lu%s", k, v, comma ? "," : "");
}

void
json_kv_int(FILE *f, const char *k, long v, int comma)
{
	fprintf(f, "\"%s\":%ld%s", k, v, comma ? "," : "");
}
