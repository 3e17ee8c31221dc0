/*
 * The probe's findings in plain words, one line per topic, shared by the
 * probe command, the TUI's Token capabilities screen and the record kept
 * on a token's first use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "fileio.h"

static void
line(struct hd_probe *p, const char *topic, int warn, const char *fmt, ...)
{
	struct hd_probe_line *l;
	va_list ap;

	if (p->nlines == HD_PROBE_LINES)
		return;
	l = &p->lines[p->nlines++];
	snprintf(l->topic, sizeof(l->topic), "%s", topic);
	l->warn = warn;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
}

static void
keygen_words(struct hd_probe *p)
{
	static const char *const rsa[3] = { "2048", "3072", "4096" };
	static const char *const ec[2] = { "P-256", "P-384" };
	char r[64] = "", e[32] = "";
	size_t i;

	for (i = 0; i < 3; i++)
		if (p->rsa_gen[i])
			snprintf(r + strlen(r), sizeof(r) - strlen(r), "%s%s",
			    r[0] ? ", " : "", rsa[i]);
	for (i = 0; i < 2; i++)
		if (p->ec_gen[i])
			snprintf(e + strlen(e), sizeof(e) - strlen(e), "%s%s",
			    e[0] ? ", " : "", ec[i]);
	if (r[0] == '\0' && e[0] == '\0')
		line(p, "Key generation", 1, "none of hsmdesk's key types: "
		    "no RSA 2048-4096 or EC P-256/P-384 key pair generation");
	else
		line(p, "Key generation", r[0] == '\0' || e[0] == '\0',
		    "%s%s%s%s%s", r[0] ? "RSA " : "", r, r[0] && e[0] ? "; " :
		    "", e[0] ? "EC " : "", e[0] ? e : "(no EC curves)");
}

static void
sign_words(struct hd_probe *p)
{
	if (!p->rsa_pkcs && !p->rsa_pss && !p->ecdsa) {
		line(p, "Signing", 1, "no RSA or ECDSA signing mechanism");
		return;
	}
	line(p, "Signing", p->rsa_pkcs && !p->rsa_pss, "%s%s%s%s",
	    p->rsa_pkcs ? "RSA PKCS#1 v1.5" : "",
	    p->rsa_pss ? (p->rsa_pkcs ? ", RSA-PSS (--pss)" : "RSA-PSS") :
	    p->rsa_pkcs ? ", no RSA-PSS (sign without --pss)" : "",
	    p->ecdsa && (p->rsa_pkcs || p->rsa_pss) ? ", " : "",
	    p->ecdsa ? "ECDSA" : "");
}

static void
store_words(struct hd_probe *p)
{
	if (p->cert_objects == HD_YES)
		line(p, "Certificates", 0, "kept on the token, beside their "
		    "key");
	else if (p->cert_objects == HD_NO)
		line(p, "Certificates", 1, "refused by the token: accept keeps "
		    "them in the local store (config.yaml cert_store: auto)");
	else
		line(p, "Certificates", 1, "not checked (no read-write "
		    "session)");
}

static void
session_words(struct hd_probe *p)
{
	if (p->rw_session == HD_YES && p->ro_session == HD_YES)
		line(p, "Sessions", 0, "read-write and read-only");
	else if (p->rw_session == HD_YES)
		line(p, "Sessions", 0, "read-write only (as CloudHSM); "
		    "hsmdesk opens read-write sessions");
	else
		line(p, "Sessions", 1, "no read-write session: key generation "
		    "and certificate import will fail");
}

static void
login_words(struct hd_probe *p)
{
	const struct hd_token_info *t = &p->token;

	line(p, "Login state", p->state_public == HD_NO ||
	    p->state_user == HD_NO, "%s%s%s",
	    p->state_public == HD_YES ? "reported: public session before "
	    "login" : p->state_public == HD_NO ? "NOT reported: the token "
	    "claims a user session before login" : "not checked",
	    p->state_user == HD_YES ? ", user session after" :
	    p->state_user == HD_NO ? ", but NOT a user session after login" :
	    " (with a PIN, after login too)",
	    t->user_pin_flag ? "" : t->cloudhsm ? "; user PIN flag not set "
	    "(CloudHSM never sets it; hsmdesk logs in anyway)" :
	    "; user PIN flag not set: set the user PIN first");
	if (p->hidden_before_login == HD_YES)
		line(p, "Listing", 0, "objects only after login (as CloudHSM): "
		    "hsmdesk logs in before listing keys and certificates");
	else if (p->hidden_before_login == HD_NO)
		line(p, "Listing", 0, "public objects without login, private "
		    "keys after login");
}

static void
pin_words(struct hd_probe *p)
{
	const struct hd_token_info *t = &p->token;

	if (t->cloudhsm)
		line(p, "PIN", 0, "crypto user and password, joined as "
		    "user:password (the TUI asks for both; CLI: --pin with "
		    "user:password)");
	else if (strstr(p->library, "YubiHSM") != NULL)
		line(p, "PIN", 0, "authentication key ID (4 hex digits) "
		    "followed by its password, e.g. 0001password");
	else if (t->protected_path)
		line(p, "PIN", 0, "entered on the device's own PIN pad");
	else
		line(p, "PIN", 0, "%lu to %lu characters", t->min_pin,
		    t->max_pin);
}

void
hd_probe_words(struct hd_session *s, struct hd_probe *p)
{
	struct hd_err e;

	p->nlines = 0;
	line(p, "Token", 0, "'%s' (serial %s), %s %s, firmware %s",
	    p->token.label, p->token.serial, p->token.manufacturer,
	    p->token.model, p->fw_version);
	line(p, "Module", 0, "%s", p->library);
	keygen_words(p);
	sign_words(p);
	store_words(p);
	session_words(p);
	login_words(p);
	pin_words(p);
	if (hd_attest_supported(s, &e) == 0)
		line(p, "Attestation", 0, "request --attest looks for the "
		    "token's key-generation attestation");
	else
		line(p, "Attestation", 1, "%s", e.msg);
}

/* The whole report as text: the lines, then the mechanisms. */
int
hd_probe_text(const struct hd_probe *p, char **out)
{
	size_t cap = 1024 + (p->nlines + p->nmechs) * 300, n = 0, i;
	char *b = malloc(cap);

	*out = NULL;
	if (b == NULL)
		return -1;
	for (i = 0; i < p->nlines; i++)
		n += (size_t)snprintf(b + n, cap - n, "%-15s %s%s\n",
		    p->lines[i].topic, p->lines[i].warn ? "! " : "",
		    p->lines[i].text);
	n += (size_t)snprintf(b + n, cap - n, "\n%-32s %9s %9s  %s\n",
	    "MECHANISM", "MIN", "MAX", "FLAGS");
	for (i = 0; i < p->nmechs; i++) {
		const struct hd_mech *m = &p->mechs[i];

		n += (size_t)snprintf(b + n, cap - n, "%-32s %9lu %9lu  %s\n",
		    m->name, m->min_size, m->max_size, m->flag_words);
	}
	*out = b;
	return 0;
}

/* $XDG_STATE_HOME/hsmdesk/tokens/SERIAL.txt (~/.local/state when unset). */
int
hd_probe_record_path(const struct hd_session *s, char *buf, size_t len,
    struct hd_err *err)
{
	const char *v = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char serial[17];
	size_t i;
	int n;

	/* a serial is printable ASCII, but it names a file: keep it tame */
	for (i = 0; s->serial[i] != '\0' && i < sizeof(serial) - 1; i++)
		serial[i] = (s->serial[i] == '/' || s->serial[i] == '.' ||
		    s->serial[i] < 0x21 || s->serial[i] > 0x7e) ? '_' :
		    s->serial[i];
	serial[i] = '\0';
	if (v != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s/hsmdesk/tokens/%s.txt", v, serial);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/hsmdesk/tokens/%s.txt",
		    home, serial);
	else
		return hd_err_set(err, HD_E_CONFIG, 0, "neither "
		    "XDG_STATE_HOME nor HOME is set to an absolute path");
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_CONFIG, 0, "state path too long");
	return 0;
}

/*
 * A token's first use: probe it briefly (no PIN) and keep the report, so
 * the next use knows.  1 when it ran now, 0 when the token was seen
 * before, -1 on error (nothing recorded; it runs again next time).
 */
int
hd_probe_first_use(struct hd_session *s, struct hd_probe *out, char *path,
    size_t len, struct hd_err *err)
{
	struct stat st;
	char dir[4096], *text, *slash;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s->selected || s->selected_uninit)
		return 0;
	if (hd_probe_record_path(s, path, len, err) == -1)
		return -1;
	if (stat(path, &st) == 0)
		return 0;
	if (hd_probe(s, NULL, out, err) == -1)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (hd_probe_text(out, &text) == -1) {
		hd_probe_free(out);
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	}
	rc = hd_private_dir(dir, err);
	if (rc == 0)
		rc = hd_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	if (rc == -1)
		hd_probe_free(out);
	return rc == -1 ? -1 : 1;
}
