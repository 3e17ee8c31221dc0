/*
 * Shared by the unit tests: a throwaway SoftHSM2 token store in a temp
 * dir (its own SOFTHSM2_CONF, HOME and XDG dirs), so no test touches a
 * real token or the user's files.
 */
#ifndef HD_TESTLIB_H
#define HD_TESTLIB_H

#include "hsmdesk.h"

struct tl_env {
	char dir[512];
	char conf[600];
};

#define TL_SO_PIN "12345678"
#define TL_PIN "1234"

int tl_env_new(struct tl_env *e);
void tl_env_free(struct tl_env *e);
void tl_rmrf(const char *dir);
struct hd_pin *tl_pin(const char *text);
/* Initialize the uninitialized token of a fresh store as label. */
int tl_init_token(const char *module, const char *label);
/* An RSA-2048 key pair with CKA_ID = CKA_LABEL = label. */
int tl_gen_rsa(const char *module, const char *token, const char *label,
    int extractable);
/* The module path to test against: SoftHSM2, or the fault injector. */
const char *tl_softhsm(void);
const char *tl_fakep11(void);
/* Write text to dir/name; returns a static path. */
const char *tl_write(const struct tl_env *e, const char *name,
    const char *text);

#endif
