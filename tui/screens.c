/* The table of screens (for help) and the keys every screen shares. */
#include "sign.h"

static enum act
g_help(struct tui *t, struct view *v)
{
	(void)v;
	if (t->stack[t->depth - 1].scr != &scr_help)
		tui_push(t, &scr_help, NULL);
	return ACT_NONE;
}

static enum act
g_msgs(struct tui *t, struct view *v)
{
	(void)v;
	if (t->stack[t->depth - 1].scr != &scr_msgs)
		tui_push(t, &scr_msgs, NULL);
	return ACT_NONE;
}

static enum act
g_redraw(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	clearok(curscr, TRUE);
	return ACT_NONE;
}

static enum act
g_quit(struct tui *t, struct view *v)
{
	(void)t;
	(void)v;
	return ACT_QUIT;
}

const struct binding tui_global_keys[] = {
	{ KEY_F(1), '?', "F1", "Help", g_help },
	{ KEY_F(2), 'm', "F2", "Messages", g_msgs },
	{ 12, 0, "^L", "Redraw", g_redraw },
	{ KEY_F(10), 0, "F10", "Quit", g_quit },
	{ 0, 0, NULL, NULL, NULL },
};

const struct screen *const tui_screens[] = {
	&scr_menu, &scr_login, &scr_token, &scr_inittok, &scr_change_pin,
	&scr_reset_pin, &scr_msgs, &scr_help, &scr_req_profile,
	&scr_req_inf, &scr_req_subject, &scr_req_confirm, &scr_req_run,
	&scr_req_save, &scr_req_done, &scr_req_key, &scr_ask, &scr_delkey,
	&scr_sign_cert, &scr_sign_files, &scr_sign_opts, &scr_sign_confirm,
	&scr_sign_run, &scr_sign_verify, &scr_cert_import, &scr_cert_checks,
	&scr_cert_done, &scr_certs, &scr_cert_copy, &scr_audit, &scr_migrate,
	&scr_migrate_view, NULL,
	&scr_cert_done, &scr_certs, &scr_cert_copy, &scr_caps, NULL,
};
