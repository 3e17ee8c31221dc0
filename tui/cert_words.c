/*
 * Certificates in words for the import and find screens: validity with
 * days left, the colour that says expired or expiring, a key's type and
 * attributes, fingerprints in groups of four, and the OSC 52 copy.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "tui.h"

enum role
cert_role(const struct hd_cert *c)
{
	if (c->days_left < 0)
		return RO_ERROR;
	return c->days_left < CERT_NEAR_DAYS ? RO_WARNING : RO_NORMAL;
}

void
cert_days(const struct hd_cert *c, char *buf, size_t len)
{
	if (c->days_left < 0)
		snprintf(buf, len, "expired %d day%s ago", -c->days_left,
		    c->days_left == -1 ? "" : "s");
	else
		snprintf(buf, len, "%d day%s left", c->days_left,
		    c->days_left == 1 ? "" : "s");
}

void
cert_validity(const struct hd_cert *c, char *buf, size_t len)
{
	char from[16], to[16], days[40];

	hd_cert_date(c->not_before, from, sizeof(from));
	hd_cert_date(c->not_after, to, sizeof(to));
	cert_days(c, days, sizeof(days));
	snprintf(buf, len, "%s to %s (%s)", from, to, days);
}

static const char *
yn(enum hd_tri v, const char *yes, const char *no)
{
	return v == HD_UNKNOWN ? "?" : v == HD_YES ? yes : no;
}

void
cert_key_words(const struct hd_key *k, char *buf, size_t len)
{
	char size[48];

	if (k->curve[0] != '\0')
		snprintf(size, sizeof(size), "%s %s", k->type, k->curve);
	else
		snprintf(size, sizeof(size), "%s-%u", k->type, k->bits);
	snprintf(buf, len, "'%s' %s, %s, %s", k->label, size,
	    yn(k->sensitive, "sensitive", "NOT sensitive"),
	    k->extractable == HD_YES ? "EXTRACTABLE" :
	    k->never_extractable == HD_YES ? "never extractable" :
	    yn(k->extractable, "EXTRACTABLE", "not extractable"));
}

void
cert_groups(const char *hex, char *a, char *b, size_t len)
{
	char g[100];
	size_t n;

	if (hd_fingerprint_group(hex, g, sizeof(g)) == -1) {
		snprintf(a, len, "%s", hex);
		b[0] = '\0';
		return;
	}
	n = strlen(g);
	if (n <= 49) {		/* a SHA-1: one line */
		snprintf(a, len, "%s", g);
		b[0] = '\0';
		return;
	}
	/* a SHA-256: eight groups a line */
	snprintf(a, len, "%.39s", g);
	snprintf(b, len, "%s", g + 40);
}

int
cert_row(struct tui *t, int y, const char *name, enum role r,
    const char *value)
{
	draw_text(t, y, 3, 12, RO_DIM, "%s", name);
	return draw_wrap(t, y, 15, t->cols - 18, 2, r, value);
}

/*
 * OSC 52 (xterm "Manipulate Selection Data"): ESC ] 52 ; c ; base64 ST.
 * Written after curses has flushed its own output, to the same stream.
 */
void
cert_copy(struct tui *t, const char *sha1)
{
	snprintf(t->clip, sizeof(t->clip), "%s", sha1);
	EVP_EncodeBlock((unsigned char *)t->clip64,
	    (const unsigned char *)t->clip, (int)strlen(t->clip));
	t->clips++;
	if (t->script != NULL)
		return;
	refresh();
	fprintf(stdout, "\033]52;c;%s\033\\", t->clip64);
	fflush(stdout);
}
