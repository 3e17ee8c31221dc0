/*
 * The signer of a batch, looked up once: the certificate by thumbprint,
 * its private key on the token and its issuers; and that chain as one
 * buffer for CMS --chain.  Shared by sign (cmd_sign.c) and the cut-over's
 * two signers (sign_dual.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
sign_key_find(struct hd_session *s, const char *sha1, struct hd_cert *cert,
    struct hd_key *key, struct hd_der **chain, size_t *nchain,
    struct hd_err *err)
{
	char id[129];

	if (hd_cert_find(s, sha1, cert, err) == -1)
		return -1;
	if (cert->has_key != HD_YES || cert->id_len == 0) {
		hd_err_set(err, HD_E_INPUT, 0, "certificate %s (%s): its "
		    "private key is not on token '%s'", cert->sha1,
		    cert->subject, hd_token_label(s));
		hd_err_hint(err, "'hsmdesk certs' shows which certificates "
		    "have a key; sign with one of those");
		return -1;
	}
	hd_hex(cert->id, cert->id_len, id, sizeof(id));
	if (hd_key_find(s, NULL, id, key, err) == -1 ||
	    hd_cert_chain(cert, chain, nchain, err) == -1)
		return -1;
	return 0;
}

/* *buf NULL and *len 0 when there is no chain. */
int
sign_chain_cat(const struct hd_der *chain, size_t n, unsigned char **buf,
    size_t *len, struct hd_err *err)
{
	size_t i, total = 0;

	*buf = NULL;
	*len = 0;
	for (i = 0; i < n; i++)
		total += chain[i].len;
	if (total == 0)
		return 0;
	if ((*buf = malloc(total)) == NULL)
		return hd_err_set(err, HD_E_NOMEM, 0, "out of memory");
	for (i = 0; i < n; i++) {
		memcpy(*buf + *len, chain[i].der, chain[i].len);
		*len += chain[i].len;
	}
	return 0;
}
