/* init-token, change-pin, reset-pin: every new PIN asked twice on a tty. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct pins {
	struct hd_pin *a, *b;
};

static int
pins_new(struct pins *p, struct hd_err *err)
{
	p->a = hd_pin_new();
	p->b = hd_pin_new();
	if (p->a == NULL || p->b == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	return 0;
}

static int
pins_done(struct pins *p, const struct hd_err *err, int failed)
{
	hd_pin_free(p->a);
	hd_pin_free(p->b);
	return failed ? cli_fail(err) : 0;
}

int
cmd_init_token(struct cli *c)
{
	struct hd_err err;
	struct pins p = { 0 };
	int failed = 1;

	if (c->label == NULL)
		return cli_usage_error("init-token: --label is required; "
		    "usage: hsmdesk init-token --label L [--so-pin SRC] "
		    "[--pin SRC]");
	if (pins_new(&p, &err) == -1 || cli_open(c, 1, &err) == -1 ||
	    pin_get(c, c->so_pin_src, "--so-pin", "New security officer "
	    "(SO) PIN: ", 1, p.a, &err) == -1 ||
	    pin_get(c, c->pin_src, "--pin", "New user PIN: ", 1, p.b,
	    &err) == -1 ||
	    hd_init_token(c->s, c->label, p.a, p.b, &err) == -1)
		goto out;
	if (!c->quiet)
		printf("token '%s' initialized\n", c->label);
	failed = 0;
out:
	return pins_done(&p, &err, failed);
}

int
cmd_change_pin(struct cli *c)
{
	struct hd_err err;
	struct pins p = { 0 };
	char prompt[96];
	int failed = 1;

	if (pins_new(&p, &err) == -1 || cli_open(c, 0, &err) == -1)
		goto out;
	snprintf(prompt, sizeof(prompt), "Current PIN for token '%s': ",
	    hd_token_label(c->s));
	if (pin_get(c, c->pin_src, "--pin", prompt, 0, p.a, &err) == -1 ||
	    pin_get(c, c->new_pin_src, "--new-pin", "New PIN: ", 1, p.b,
	    &err) == -1 ||
	    hd_change_pin(c->s, p.a, p.b, &err) == -1)
		goto out;
	if (!c->quiet)
		printf("token '%s': user PIN changed\n", hd_token_label(c->s));
	failed = 0;
out:
	return pins_done(&p, &err, failed);
}

int
cmd_reset_pin(struct cli *c)
{
	struct hd_err err;
	struct pins p = { 0 };
	char prompt[96];
	int failed = 1;

	if (pins_new(&p, &err) == -1 || cli_open(c, 0, &err) == -1)
		goto out;
	snprintf(prompt, sizeof(prompt), "Security officer (SO) PIN for "
	    "token '%s': ", hd_token_label(c->s));
	if (pin_get(c, c->so_pin_src, "--so-pin", prompt, 0, p.a,
	    &err) == -1 ||
	    pin_get(c, c->new_pin_src, "--new-pin", "New user PIN: ", 1, p.b,
	    &err) == -1 ||
	    hd_reset_pin(c->s, p.a, p.b, &err) == -1)
		goto out;
	if (!c->quiet)
		printf("token '%s': user PIN reset\n", hd_token_label(c->s));
	failed = 0;
out:
	return pins_done(&p, &err, failed);
}
