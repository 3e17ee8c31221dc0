/*
 * The audit record's SHA-256 and size of the file signed.  A file signed
 * in place (Authenticode) is gone once signed, so its hash is taken from
 * the original: either before signing (hd_audit_hash_file) or, to save
 * the wall time of a second SHA-256 pass over a large file, on a second
 * thread while the signing reads the same file (hd_audit_hash_begin/end):
 * the two digests then share two CPUs instead of adding up.  The thread
 * reads through a descriptor opened before signing starts, so it still
 * reads the original after the signed copy is renamed over its name;
 * that the file did not change meanwhile is the signing's own check
 * (input_check.c, pe_write.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"

struct hd_audit_hash {
	pthread_t th;
	int fd;
	struct hd_audit_entry *e;
	struct hd_err err;
	int rc;
};

static int
hash_fd(struct hd_audit_entry *e, int fd, struct hd_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(HD_STREAM_CHUNK), out[32];
	ssize_t n;
	int rc = -1;

	e->size = 0;
	if (md == NULL || buf == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
		goto out;
	}
	while ((n = read(fd, buf, HD_STREAM_CHUNK)) > 0 ||
	    (n == -1 && errno == EINTR)) {
		if (n == -1)
			continue;
		EVP_DigestUpdate(md, buf, (size_t)n);
		e->size += (uint64_t)n;
	}
	if (n == -1) {
		hd_err_set(err, HD_E_IO, 0, "%s: reading: %s", e->file,
		    strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(md, out, NULL);
	hd_hex(out, sizeof(out), e->sha256, sizeof(e->sha256));
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

static int
open_file(const struct hd_audit_entry *e, struct hd_err *err)
{
	int fd = open(e->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		hd_err_set(err, HD_E_INPUT, 0, "%s: %s", e->file,
		    strerror(errno));
	return fd;
}

/* The file's SHA-256 and size, as it is now (before it is signed). */
int
hd_audit_hash_file(struct hd_audit_entry *e, struct hd_err *err)
{
	int fd, rc;

	if ((fd = open_file(e, err)) == -1)
		return -1;
	rc = hash_fd(e, fd, err);
	close(fd);
	return rc;
}

static void *
hash_thread(void *arg)
{
	struct hd_audit_hash *h = arg;

	h->rc = hash_fd(h->e, h->fd, &h->err);
	return NULL;
}

/* Start hashing e's file on a thread; e's sha256 and size are the
 * thread's until hd_audit_hash_end. */
int
hd_audit_hash_begin(struct hd_audit_entry *e, struct hd_audit_hash **out,
    struct hd_err *err)
{
	struct hd_audit_hash *h;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	h->e = e;
	hd_err_clear(&h->err);
	if ((h->fd = open_file(e, err)) == -1) {
		free(h);
		return -1;
	}
	if (pthread_create(&h->th, NULL, hash_thread, h) != 0) {
		/* no thread: hash here, before signing, as before */
		int rc = hash_fd(e, h->fd, err);

		close(h->fd);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* Wait for the hash (h may be NULL: nothing was started). */
int
hd_audit_hash_end(struct hd_audit_hash *h, struct hd_err *err)
{
	int rc;

	if (h == NULL)
		return 0;
	pthread_join(h->th, NULL);
	close(h->fd);
	rc = h->rc;
	if (rc == -1)
		*err = h->err;
	free(h);
	return rc;
}
