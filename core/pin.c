/*
 * PIN buffers.  A PIN is kept in one page-sized allocation that is locked
 * in memory when the system allows (so it is not swapped out) and excluded
 * from core dumps, and wiped with OPENSSL_cleanse on clear and free.
 * The first buffer also makes the whole process non-dumpable and sets its
 * core size limit to 0, for good: once logged in, the module's memory
 * holds secrets of its own (SoftHSM2 keeps the token key derived from the
 * PIN), which no buffer of ours can wipe.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "hsmdesk.h"

struct hd_pin {
	char buf[HD_PIN_MAX + 1];
	size_t len;
};

/* No core file and no ptrace by other processes of the same user. */
static void
no_dumps(void)
{
	static int done;
	struct rlimit rl = { 0, 0 };

	if (__atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST))
		return;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
}

struct hd_pin *
hd_pin_new(void)
{
	void *p = mmap(NULL, sizeof(struct hd_pin), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	no_dumps();
	(void)mlock(p, sizeof(struct hd_pin));	/* best effort: RLIMIT */
#ifdef MADV_DONTDUMP
	(void)madvise(p, sizeof(struct hd_pin), MADV_DONTDUMP);
#endif
	memset(p, 0, sizeof(struct hd_pin));
	return p;
}

void
hd_pin_free(struct hd_pin *pin)
{
	if (pin == NULL)
		return;
	OPENSSL_cleanse(pin, sizeof(*pin));
	(void)munlock(pin, sizeof(*pin));
	munmap(pin, sizeof(*pin));
}

char *
hd_pin_buf(struct hd_pin *pin)
{
	return pin->buf;
}

void
hd_pin_set_len(struct hd_pin *pin, size_t len)
{
	pin->len = len > HD_PIN_MAX ? HD_PIN_MAX : len;
	pin->buf[pin->len] = '\0';
}

size_t
hd_pin_len(const struct hd_pin *pin)
{
	return pin == NULL ? 0 : pin->len;
}

void
hd_pin_clear(struct hd_pin *pin)
{
	if (pin == NULL)
		return;
	OPENSSL_cleanse(pin->buf, sizeof(pin->buf));
	pin->len = 0;
}

/* Constant time in the PIN's content, so a mistyped retype leaks nothing. */
int
hd_pin_equal(const struct hd_pin *a, const struct hd_pin *b)
{
	if (a->len != b->len)
		return 0;
	return CRYPTO_memcmp(a->buf, b->buf, a->len) == 0;
}
