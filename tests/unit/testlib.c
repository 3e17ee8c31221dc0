/* Test fixtures: see testlib.h. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "testlib.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tl_rmrf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
tl_env_new(struct tl_env *e)
{
	const char *tmp = getenv("TMPDIR");
	char sub[700];
	FILE *f;

	snprintf(e->dir, sizeof(e->dir), "%s/hsmdesk-unit.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(sub, sizeof(sub), "%s/tokens", e->dir);
	mkdir(sub, 0700);
	snprintf(e->conf, sizeof(e->conf), "%s/softhsm2.conf", e->dir);
	if ((f = fopen(e->conf, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", sub);
	fclose(f);
	setenv("SOFTHSM2_CONF", e->conf, 1);
	snprintf(sub, sizeof(sub), "%s/home", e->dir);
	setenv("HOME", sub, 1);
	snprintf(sub, sizeof(sub), "%s/config", e->dir);
	setenv("XDG_CONFIG_HOME", sub, 1);
	snprintf(sub, sizeof(sub), "%s/data", e->dir);
	setenv("XDG_DATA_HOME", sub, 1);
	unsetenv("HSMDESK_MODULE");
	unsetenv("HSMDESK_FAKEP11_FAULT");
	return 0;
}

void
tl_env_free(struct tl_env *e)
{
	if (e->dir[0] != '\0')
		tl_rmrf(e->dir);
	e->dir[0] = '\0';
}

struct hd_pin *
tl_pin(const char *text)
{
	struct hd_pin *p = hd_pin_new();

	if (p == NULL)
		return NULL;
	memcpy(hd_pin_buf(p), text, strlen(text));
	hd_pin_set_len(p, strlen(text));
	return p;
}

int
tl_init_token(const char *module, const char *label)
{
	struct hd_err err;
	struct hd_session *s = hd_open(module, &err);
	struct hd_pin *so = tl_pin(TL_SO_PIN), *up = tl_pin(TL_PIN);
	int rc = -1;

	if (s != NULL && hd_token_select_uninit(s, NULL, &err) == 0 &&
	    hd_init_token(s, label, so, up, &err) == 0)
		rc = 0;
	if (rc == -1)
		fprintf(stderr, "tl_init_token: %s\n", err.msg);
	hd_pin_free(so);
	hd_pin_free(up);
	hd_close(s);
	return rc;
}

const char *
tl_softhsm(void)
{
	return HD_DEFAULT_MODULE;
}

const char *
tl_fakep11(void)
{
	static char path[1024];
	const char *b = getenv("HSMDESK_BUILD");

	snprintf(path, sizeof(path), "%s/fakep11.so", b ? b : "build-asan");
	return path;
}

const char *
tl_write(const struct tl_env *e, const char *name, const char *text)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/* An RSA-2048 key pair made through the raw layer, on token label. */
int
tl_gen_rsa(const char *module, const char *token, const char *label,
    int extractable)
{
	CK_BBOOL yes = CK_TRUE, ext = extractable ? CK_TRUE : CK_FALSE;
	CK_BBOOL sens = extractable ? CK_FALSE : CK_TRUE;
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
		{ CKA_ID, (void *)label, strlen(label) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SIGN, &yes, 1 }, { CKA_SENSITIVE, &sens, 1 },
		{ CKA_EXTRACTABLE, &ext, 1 },
		{ CKA_ID, (void *)label, strlen(label) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	struct hd_err err;
	struct hd_session *s = hd_open(module, &err);
	struct hd_pin *p = tl_pin(TL_PIN);
	int rc = -1;

	if (s != NULL && hd_token_select(s, token, &err) == 0 &&
	    hd_login(s, p, &err) == 0 &&
	    s->fl->C_GenerateKeyPair(s->sh, &m, pub, 6, priv, 7, &hpub,
	    &hpriv) == CKR_OK)
		rc = 0;
	hd_pin_free(p);
	hd_close(s);
	return rc;
}
