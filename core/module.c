/*
 * Loading a PKCS#11 module.  We dlopen() it ourselves first, so that a
 * missing file, a library that is not a PKCS#11 module and a module whose
 * C_Initialize fails each get their own plain message; then libp11 loads
 * the same path (the dynamic loader hands back the same instance), so later
 * signing through libp11's EVP_PKEY shares one module, one login state.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libp11.h>

#include "internal.h"

static int
module_check_file(const char *path, struct hd_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		hd_err_set(err, HD_E_MODULE, 0, "module '%s': %s", path,
		    strerror(errno));
		hd_err_hint(err, "install the HSM vendor's PKCS#11 library or "
		    "name the right one with --module, HSMDESK_MODULE or "
		    "'module:' in config.yaml");
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return hd_err_set(err, HD_E_MODULE, 0, "module '%s': not a "
		    "regular file", path);
	return 0;
}

static int
module_dlopen(struct hd_session *s, struct hd_err *err)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_RV rv;

	s->dl = dlopen(s->module, RTLD_NOW | RTLD_LOCAL);
	if (s->dl == NULL) {
		hd_err_set(err, HD_E_MODULE, 0, "module '%s': cannot be "
		    "loaded: %s", s->module, dlerror());
		hd_err_hint(err, "give the path of the vendor's PKCS#11 .so");
		return -1;
	}
	*(void **)&get_list = dlsym(s->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		hd_err_set(err, HD_E_MODULE, 0, "module '%s': not a PKCS#11 "
		    "module (no C_GetFunctionList)", s->module);
		hd_err_hint(err, "give the path of the vendor's PKCS#11 .so");
		return -1;
	}
	rv = get_list(&s->fl);
	if (rv != CKR_OK || s->fl == NULL)
		return hd_err_ckr(err, rv, "C_GetFunctionList", "module");
	return 0;
}

static int
module_initialize(struct hd_session *s, struct hd_err *err)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = s->fl->C_Initialize(&args);
	if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return 0;
	hd_err_ckr(err, rv, "initialization failed", "module");
	snprintf(err->msg, sizeof(err->msg), "module '%s': initialization "
	    "failed: %s", s->module, hd_ckr_words(rv));
	if (strstr(s->module, "softhsm") != NULL)
		hd_err_hint(err, "SoftHSM2 could not read its configuration: "
		    "check SOFTHSM2_CONF and its tokendir");
	else
		hd_err_hint(err, "check the HSM client's configuration and "
		    "that its daemon or network connection is up");
	return -1;
}

struct hd_session *
hd_open(const char *module, struct hd_err *err)
{
	struct hd_session *s;

	hd_err_clear(err);
	if (module == NULL || *module == '\0')
		module = HD_DEFAULT_MODULE;
	if (strlen(module) >= sizeof(s->module)) {
		hd_err_set(err, HD_E_MODULE, 0, "module path too long");
		return NULL;
	}
	if (module_check_file(module, err) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		return NULL;
	}
	snprintf(s->module, sizeof(s->module), "%s", module);
	if (module_dlopen(s, err) == -1 || module_initialize(s, err) == -1)
		goto fail;
	s->p11 = PKCS11_CTX_new();
	if (s->p11 == NULL || PKCS11_CTX_load(s->p11, s->module) != 0) {
		hd_err_set(err, HD_E_MODULE, 0, "module '%s': libp11 could "
		    "not load it", s->module);
		hd_err_ossl(err);
		if (s->p11 != NULL)
			PKCS11_CTX_free(s->p11);
		s->p11 = NULL;
		goto fail;
	}
	return s;
fail:
	hd_close(s);
	return NULL;
}

void
hd_close(struct hd_session *s)
{
	struct hd_err ignored;

	if (s == NULL)
		return;
	if (s->logged_in)
		hd_logout(s, &ignored);
	hd_session_close(s);
	hd_signer_release(s);
	if (s->p11 != NULL) {
		/* libp11 calls C_Finalize and drops its dlopen reference */
		PKCS11_CTX_unload(s->p11);
		PKCS11_CTX_free(s->p11);
	} else if (s->fl != NULL) {
		s->fl->C_Finalize(NULL);
	}
	if (s->dl != NULL)
		dlclose(s->dl);
	free(s);
}

const char *
hd_module_path(const struct hd_session *s)
{
	return s->module;
}

uint64_t
hd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
hd_token_times(const struct hd_session *s, uint64_t *gen_ns,
    uint64_t *sign_ns)
{
	*gen_ns = s != NULL ? s->gen_ns : 0;
	*sign_ns = s != NULL ? s->sign_ns : 0;
}

/* "SoftHSM 2.6 (SoftHSM project), Cryptoki 2.40" */
int
hd_module_describe(struct hd_session *s, char *buf, size_t len)
{
	CK_INFO info;
	char desc[33], maker[33];

	if (s->fl->C_GetInfo(&info) != CKR_OK)
		return snprintf(buf, len, "%s", s->module) < 0 ? -1 : 0;
	hd_padded_copy(desc, sizeof(desc), info.libraryDescription, 32);
	hd_padded_copy(maker, sizeof(maker), info.manufacturerID, 32);
	snprintf(buf, len, "%s %u.%u (%s), Cryptoki %u.%u", desc,
	    info.libraryVersion.major, info.libraryVersion.minor, maker,
	    info.cryptokiVersion.major, info.cryptokiVersion.minor);
	return 0;
}

void
hd_padded_copy(char *dst, size_t dstlen, const unsigned char *src,
    size_t srclen)
{
	size_t n = srclen;

	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}
