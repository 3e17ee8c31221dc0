/*
 * The key ceremony record: a plain-text account of one key generation,
 * saved beside the CSR for the security officer to file and sign.  The
 * attributes are the token's own claims, said as such.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->failed)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL) {
			b->failed = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *
said(enum hd_tri t)
{
	return t == HD_YES ? "yes" : t == HD_NO ? "no" : "not reported";
}

static void
section_who(struct buf *b, struct hd_session *s)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "?", when[32], mod[160];
	time_t now = time(NULL);
	struct hd_token_info ti;
	struct hd_err e;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	hd_module_describe(s, mod, sizeof(mod));
	memset(&ti, 0, sizeof(ti));
	hd_token_info(s, &ti, &e);
	put(b, "Date (UTC)          %s\n", when);
	put(b, "Operator            %s@%s\n", pw ? pw->pw_name : "?", host);
	put(b, "Module              %s\n                    %s\n",
	    hd_module_path(s), mod);
	put(b, "Token               %s (serial %s, %s %s)\n", s->label,
	    s->serial, ti.manufacturer, ti.model);
}

static void
section_key(struct buf *b, const struct hd_profile *p, const struct hd_key *k)
{
	char id[129];

	hd_hex(k->id, k->id_len, id, sizeof(id));
	put(b, "Profile             %s (%s)\n", p->name, p->path);
	put(b, "Key label           %s\n", k->label);
	put(b, "Key ID (CKA_ID)     %s%s\n", id, k->id_random ? "  (random: "
	    "the token refused to set it to the key identifier)" : "");
	if (k->curve[0] != '\0')
		put(b, "Key                 %s %s\n", k->type, k->curve);
	else
		put(b, "Key                 %s-%u\n", k->type, k->bits);
	put(b, "\nToken-reported attributes of the private key (the token's "
	    "own claim,\nnot an attestation):\n");
	put(b, "  sensitive           %s\n", said(k->sensitive));
	put(b, "  extractable         %s\n", said(k->extractable));
	put(b, "  never extractable   %s\n", said(k->never_extractable));
	put(b, "  always sensitive    %s\n", said(k->always_sensitive));
	put(b, "  generated on token  %s (CKA_LOCAL)\n", said(k->local));
}

static void
section_csr(struct buf *b, const struct hd_profile *p, const struct hd_csr *c,
    const char *path)
{
	char ku[200];
	size_t i;

	hd_ku_words(p->key_usage, ku, sizeof(ku));
	put(b, "\nCertificate signing request (PKCS#10)\n");
	put(b, "  subject             %s\n", c->subject);
	put(b, "  key usage           %s\n", ku);
	put(b, "  extended key usage  ");
	for (i = 0; i < p->neku; i++)
		put(b, "%s%s", i ? ", " : "", p->eku[i]);
	put(b, "%s\n", p->neku ? "" : "(none requested)");
	for (i = 0; i < p->nsan; i++)
		put(b, "  alternative name    %s\n", p->san[i]);
	if (p->cert_template[0] != '\0')
		put(b, "  CA template         %s\n", p->cert_template);
	put(b, "  signature hash      %s\n", p->hash);
	put(b, "  SHA-256 of the CSR  %s\n", c->sha256);
	put(b, "  saved as            %s\n", path ? path : "(not saved)");
}

/* The record as text (malloc'd, for the caller to free). */
int
hd_ceremony_text(struct hd_session *s, const struct hd_profile *p,
    const struct hd_key *k, const struct hd_csr *c, const char *csr_path,
    char **out, struct hd_err *err)
{
	struct buf b = { NULL, 0, 0, 0 };

	put(&b, "hsmdesk %s key ceremony record\n\n", HD_VERSION);
	section_who(&b, s);
	section_key(&b, p, k);
	section_csr(&b, p, c, csr_path);
	put(&b, "\nSecurity officer   ______________________________  Date "
	    "__________\nWitness            ______________________________  "
	    "Date __________\n");
	if (b.failed) {
		free(b.p);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	*out = b.p;
	return 0;
}

/* "req.pem" -> "req.pem.ceremony.txt", beside the CSR. */
int
hd_ceremony_path(const char *csr_path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.ceremony.txt", csr_path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Save the record beside the CSR, atomically, as the CSR itself is. */
int
hd_ceremony_write(const char *text, const char *csr_path, int replace,
    struct hd_err *err)
{
	char path[4096];

	if (hd_ceremony_path(csr_path, path, sizeof(path)) == -1)
		return hd_err_set(err, HD_E_USAGE, 0, "%s: path too long",
		    csr_path);
	return hd_write_file(path, text, strlen(text), 0644, replace, err);
}
