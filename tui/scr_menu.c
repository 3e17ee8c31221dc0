/*
 * The main menu: the six steps of the signing lifecycle and the move
 * to a new HSM, then Token & keys, the Audit log, Help and Quit.  Digits,
 * first letters, arrows and Enter.
 */
#include <stddef.h>

#include "sign.h"

#define NITEMS 11

struct menu {
	struct list l;
};

static enum act
go(struct tui *t, const struct screen *scr, const void *arg)
{
	t->note[0] = '\0';
	tui_push(t, scr, arg);
	return ACT_NONE;
}

static enum act m_login(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_login, NULL); }
static enum act m_keygen(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_req_profile, NULL); }
static enum act m_csr(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_req_key, NULL); }
static enum act m_import(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_cert_import, NULL); }
static enum act m_find(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_certs, NULL); }
static enum act m_sign(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_sign_cert, NULL); }
static enum act m_migrate(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_migrate, NULL); }
static enum act m_token(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_token, NULL); }
static enum act m_audit(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_audit, NULL); }
static enum act m_help(struct tui *t, struct view *v)
	{ (void)v; return go(t, &scr_help, NULL); }
static enum act m_quit(struct tui *t, struct view *v)
	{ (void)t; (void)v; return ACT_QUIT; }

/* Esc backs out of screens; at the top it must not end a session. */
static enum act
m_esc(struct tui *t, struct view *v)
{
	(void)v;
	tui_note(t, RO_DIM, "q quits.");
	return ACT_NONE;
}

static enum act
m_logout(struct tui *t, struct view *v)
{
	struct hd_err err;

	(void)v;
	if (!hd_logged_in(t->s)) {
		tui_note(t, RO_DIM, "Not logged in.");
		return ACT_NONE;
	}
	if (hd_logout(t->s, &err) == -1)
		tui_note_err(t, &err);
	else
		tui_note(t, RO_OK, "Logged out.");
	return ACT_NONE;
}

static enum act menu_open(struct tui *t, struct view *v);

static enum act
menu_move(struct view *v, int ch)
{
	struct menu *m = v->st;

	list_key(&m->l, ch, NITEMS);
	return ACT_NONE;
}

static enum act menu_up(struct tui *t, struct view *v)
	{ (void)t; return menu_move(v, KEY_UP); }
static enum act menu_down(struct tui *t, struct view *v)
	{ (void)t; return menu_move(v, KEY_DOWN); }

/*
 * The menu's entries in the order drawn: the first NITEMS are the menu
 * itself.  Entries without a name stay out of the hint line, not help.
 */
static const struct binding table[] = {
	{ '1', 'l', "1", "Log in", m_login },
	{ '2', 'g', NULL, "Generate key pair", m_keygen },
	{ '3', 'e', NULL, "Export CSR", m_csr },
	{ '4', 'i', NULL, "Import certificate", m_import },
	{ '5', 'f', NULL, "Find by thumbprint", m_find },
	{ '6', 's', NULL, "Sign files", m_sign },
	{ '7', 'r', NULL, "Migrate to new HSM", m_migrate },
	{ 't', 0, "t", "Token & keys", m_token },
	{ 'a', 0, "a", "Audit log", m_audit },
	{ 'h', 0, "h", "Help", m_help },
	{ 'q', 0, "q", "Quit", m_quit },
	{ 27, 0, NULL, "Nothing at the menu (q quits)", m_esc },
	{ 'o', 0, "o", "Log out", m_logout },
	{ '\n', ' ', "Enter", "Open", menu_open },
	{ KEY_UP, 'k', NULL, "Previous entry", menu_up },
	{ KEY_DOWN, 'j', NULL, "Next entry", menu_down },
	{ 0, 0, NULL, NULL, NULL },
};

static const char *descr[NITEMS] = {
	"crypto-user login to the token",
	"HSM key pair from a profile",
	"PKCS#10 request signed in the HSM",
	"CA certificate beside its key",
	"certificates by SHA-1 thumbprint",
	"detached CMS and Authenticode",
	"identities moved to another token",
	"token state, keys, PINs",
	"what was signed, verified",
	"every key binding",
	"log out and leave",
};

static enum act
menu_open(struct tui *t, struct view *v)
{
	struct menu *m = v->st;

	return table[m->l.cur].fn(t, v);
}

static void
menu_enter(struct tui *t, struct view *v, const void *arg)
{
	struct menu *m = v->st;

	(void)t;
	(void)arg;
	m->l.n = NITEMS;
}

static void
menu_draw(struct tui *t, struct view *v)
{
	struct menu *m = v->st;
	int i, y;

	for (i = 0; i < NITEMS; i++) {
		y = 4 + i + (i >= 7);	/* a gap after the steps */
		draw_text(t, y, 3, 4, RO_TITLE, "%c", table[i].key);
		draw_text(t, y, 7, 24, i == m->l.cur ? RO_SELECTED : RO_NORMAL,
		    " %-22s", table[i].help);
		draw_text(t, y, 33, t->cols - 35, RO_NORMAL, "%s",
		    descr[i]);
	}
	if (t->ti.present && !t->ti.initialized)
		draw_text(t, NITEMS + 6, 3, t->cols - 6, RO_WARNING, "This token is "
		    "not initialized: t, then i, to initialize it.");
	else if (t->ti.present)
		draw_text(t, NITEMS + 6, 3, t->cols - 6, RO_DIM, "Token '%s': %s.",
		    t->ti.label, hd_logged_in(t->s) ? "logged in (o to log "
		    "out)" : "not logged in");
	draw_text(t, NITEMS + 8, 3, t->cols - 6, RO_DIM, "Module: %s",
	    t->module_desc);
}

const struct screen scr_menu = {
	.name = "menu",
	.title = "Main menu",
	.state_size = sizeof(struct menu),
	.keys = table,
	.enter = menu_enter,
	.draw = menu_draw,
};
