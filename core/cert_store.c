/*
 * The local certificate store, for what a token cannot or should not
 * hold (NOTES-PKCS11.md: CloudHSM before SDK 5.13 and many YubiHSM set-ups
 * refuse certificate objects):
 *
 *   $XDG_DATA_HOME/hsmdesk/certs/             directories 0700
 *     keys/SERIAL/CKAID_SHA1.pem   a certificate for key CKAID on token
 *                                  SERIAL, kept here instead of on it
 *     chain/SHA1.pem               intermediates and untrusted roots
 *     trusted/SHA1.pem             roots the operator confirmed
 *
 * One PEM certificate per file, mode 0600, written atomically; a file is
 * never rewritten (its name is its content's thumbprint).  Files whose
 * content does not match their name are ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cert_int.h"
#include "fileio.h"
#include "yamlutil.h"

#define PATHLEN 4096

static const char *const subdirs[] = {
	[HD_CERT_LOCAL] = "keys", [HD_CERT_CHAIN] = "chain",
	[HD_CERT_ANCHOR] = "trusted",
};

/* A token serial as a file name: letters and digits kept, the rest %XX. */
static void
serial_name(const char *serial, char *out, size_t len)
{
	size_t k = 0;

	for (; *serial != '\0' && k + 4 < len; serial++) {
		unsigned char ch = (unsigned char)*serial;

		if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' &&
		    (ch | 0x20) <= 'z'))
			out[k++] = (char)ch;
		else
			k += (size_t)snprintf(out + k, len - k, "%%%02X", ch);
	}
	out[k] = '\0';
	if (k == 0)
		snprintf(out, len, "%%");	/* a token without a serial */
}

/* buf = fmt..., made a private directory when create is set. */
static int
dir_step(char *buf, size_t len, int create, struct hd_err *err,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
dir_step(char *buf, size_t len, int create, struct hd_err *err,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", buf);
	return create ? hd_private_dir(buf, err) : 0;
}

/* The directory for w (and serial); created 0700 when create is set. */
static int
store_dir(char *buf, size_t len, enum hd_cert_where w, const char *serial,
    int create, struct hd_err *err)
{
	char data[PATHLEN - 200], ser[64];

	if (w == HD_CERT_TOKEN)
		return hd_err_set(err, HD_E_INTERNAL, 0, "no directory for "
		    "token certificates");
	if (hd_data_dir(data, sizeof(data), err) == -1 ||
	    dir_step(buf, len, create, err, "%s", data) == -1 ||
	    dir_step(buf, len, create, err, "%s/certs", data) == -1 ||
	    dir_step(buf, len, create, err, "%s/certs/%s", data,
	    subdirs[w]) == -1)
		return -1;
	if (w != HD_CERT_LOCAL)
		return 0;
	serial_name(serial ? serial : "", ser, sizeof(ser));
	return dir_step(buf, len, create, err, "%s/certs/%s/%s", data,
	    subdirs[w], ser);
}

static int
sha1_hex(X509 *x, char out[41])
{
	unsigned char d[20];
	unsigned int n, i;

	if (!X509_digest(x, EVP_sha1(), d, &n) || n != 20)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", d[i]);
	return 0;
}

static int
file_name(char *buf, size_t len, const char *dir, enum hd_cert_where w,
    const unsigned char *id, size_t idlen, const char *sha1)
{
	char idhex[129];

	if (w != HD_CERT_LOCAL)
		return snprintf(buf, len, "%s/%s.pem", dir, sha1) < (int)len ?
		    0 : -1;
	hd_hex(id, idlen, idhex, sizeof(idhex));
	return snprintf(buf, len, "%s/%s_%s.pem", dir, idhex, sha1) <
	    (int)len ? 0 : -1;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
write_pem(const char *path, X509 *x, struct hd_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (b == NULL || !PEM_write_bio_X509(b, x) ||
	    (len = BIO_get_mem_data(b, &data)) <= 0)
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	else
		rc = hd_write_file(path, data, (size_t)len, 0600, 0, err);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/* A root just trusted is no longer chain material only. */
static void
unchain(const char *sha1)
{
	char dir[PATHLEN], path[PATHLEN + 64];
	struct hd_err e;

	if (store_dir(dir, sizeof(dir), HD_CERT_CHAIN, NULL, 0, &e) == 0 &&
	    file_name(path, sizeof(path), dir, HD_CERT_CHAIN, NULL, 0,
	    sha1) == 0 && unlink(path) == 0)
		(void)hd_fsync_dir(path);
}

/*
 * File x under w (LOCAL: for key id on token serial).  *added says
 * whether it was new; a certificate already there is left as it is, and
 * a trusted root is not filed again as chain material.
 */
int
hd_store_put(enum hd_cert_where w, const char *serial,
    const unsigned char *id, size_t idlen, X509 *x, int *added,
    struct hd_err *err)
{
	char dir[PATHLEN], path[PATHLEN + 200], sha1[41];

	*added = 0;
	if (w == HD_CERT_LOCAL && idlen == 0)
		return hd_err_set(err, HD_E_INPUT, 0, "the key has no CKA_ID "
		    "to file its certificate under");
	if (sha1_hex(x, sha1) == -1)
		return hd_err_set(err, HD_E_INTERNAL, 0, "no SHA-1 digest");
	if (w == HD_CERT_CHAIN) {
		if (store_dir(dir, sizeof(dir), HD_CERT_ANCHOR, NULL, 0,
		    err) == -1 || file_name(path, sizeof(path), dir,
		    HD_CERT_ANCHOR, NULL, 0, sha1) == -1)
			return -1;
		if (exists(path))
			return 0;
	}
	if (store_dir(dir, sizeof(dir), w, serial, 1, err) == -1)
		return -1;
	if (file_name(path, sizeof(path), dir, w, id, idlen, sha1) == -1)
		return hd_err_set(err, HD_E_IO, 0, "%s: path too long", dir);
	if (!exists(path)) {
		if (write_pem(path, x, err) == -1)
			return -1;
		*added = 1;
	}
	if (w == HD_CERT_ANCHOR)
		unchain(sha1);
	return 0;
}

/* 1 if the local store holds this certificate for key id on serial. */
int
hd_store_has_leaf(const char *serial, const unsigned char *id, size_t idlen,
    const char *sha1, struct hd_err *err)
{
	char dir[PATHLEN], path[PATHLEN + 200];

	if (store_dir(dir, sizeof(dir), HD_CERT_LOCAL, serial, 0, err) == -1 ||
	    file_name(path, sizeof(path), dir, HD_CERT_LOCAL, id, idlen,
	    sha1) == -1)
		return -1;
	return exists(path);
}

/* Read dir/name; 0 and *x filled, or -1 for a file that is not ours. */
static int
load_one(const char *dir, const char *name, X509 **x)
{
	char path[PATHLEN + 300], *buf;
	size_t len;
	struct hd_err e;
	BIO *b;

	*x = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (hd_read_small(path, 64 * 1024, HD_E_IO, &buf, &len, &e) != 0)
		return -1;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
		*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	free(buf);
	ERR_clear_error();
	return *x != NULL ? 0 : -1;
}

/* Does the file name say what the certificate is?  Fills id for LOCAL. */
static int
name_fits(const char *name, enum hd_cert_where w, struct hd_cert *c)
{
	const char *us = strchr(name, '_');
	char idhex[129];
	size_t n;

	if (w != HD_CERT_LOCAL)
		return strncmp(name, c->sha1, 40) == 0 &&
		    strcmp(name + 40, ".pem") == 0;
	if (us == NULL || (size_t)(us - name) >= sizeof(idhex) ||
	    strncmp(us + 1, c->sha1, 40) != 0 || strcmp(us + 41, ".pem") != 0)
		return 0;
	snprintf(idhex, sizeof(idhex), "%.*s", (int)(us - name), name);
	if (hd_hex_decode(idhex, c->id, sizeof(c->id), &n) == -1)
		return 0;
	c->id_len = n;
	return 1;
}

static int
grow(struct hd_cert **list, size_t n, size_t *cap)
{
	struct hd_cert *l;

	if (n < *cap)
		return 0;
	*cap = *cap ? 2 * *cap : 16;
	if ((l = realloc(*list, *cap * sizeof(**list))) == NULL)
		return -1;
	*list = l;
	return 0;
}

/*
 * The certificates filed under w (LOCAL: for token serial), appended to
 * *list (which may hold *n already).  A missing directory is empty.
 */
int
hd_store_load(enum hd_cert_where w, const char *serial, struct hd_cert **list,
    size_t *n, struct hd_err *err)
{
	char dir[PATHLEN];
	size_t cap = *n;
	struct dirent *d;
	time_t now = time(NULL);
	DIR *dh;
	X509 *x;

	if (store_dir(dir, sizeof(dir), w, serial, 0, err) == -1)
		return -1;
	if ((dh = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : hd_err_set(err, HD_E_IO, 0,
		    "%s: %s", dir, strerror(errno));
	while ((d = readdir(dh)) != NULL) {
		struct hd_cert c;

		if (d->d_name[0] == '.' || load_one(dir, d->d_name, &x) == -1)
			continue;
		if (hd_cert_describe(x, now, &c) == 0 && c.der != NULL &&
		    name_fits(d->d_name, w, &c)) {
			if (grow(list, *n, &cap) == -1) {
				hd_cert_free(&c);
				X509_free(x);
				closedir(dh);
				return hd_err_set(err, HD_E_NOMEM, 0,
				    "out of memory");
			}
			c.where = w;
			c.has_key = w == HD_CERT_LOCAL ? HD_UNKNOWN : HD_NO;
			(*list)[(*n)++] = c;
		} else {
			hd_cert_free(&c);
		}
		X509_free(x);
	}
	closedir(dh);
	return 0;
}

/* Every intermediate and root the local store knows, for chains. */
int
hd_store_pool(STACK_OF(X509) **out, struct hd_err *err)
{
	struct hd_cert *l = NULL;
	size_t n = 0, i;
	int ok;

	*out = sk_X509_new_null();
	ok = *out != NULL &&
	    hd_store_load(HD_CERT_CHAIN, NULL, &l, &n, err) == 0 &&
	    hd_store_load(HD_CERT_ANCHOR, NULL, &l, &n, err) == 0;
	for (i = 0; ok && i < n; i++) {
		X509 *x = hd_cert_x509(&l[i]);

		if (x == NULL || !sk_X509_push(*out, x)) {
			X509_free(x);
			ok = 0;
		}
	}
	hd_certs_free(l, n);
	if (!ok) {
		if (err->code == HD_OK)
			hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Add the local store's certificates to untrusted (for chain building). */
int
hd_store_pool_add(STACK_OF(X509) *untrusted, struct hd_err *err)
{
	STACK_OF(X509) *pool;
	int i, ok = 1;

	if (hd_store_pool(&pool, err) == -1)
		return -1;
	for (i = 0; ok && i < sk_X509_num(pool); i++)
		ok = X509_add_cert(untrusted, sk_X509_value(pool, i),
		    X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP);
	sk_X509_pop_free(pool, X509_free);
	return ok ? 0 : hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
}
