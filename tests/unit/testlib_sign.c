/* Signing fixtures: see testlib_sign.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib_sign.h"

struct tl_sign TS;

/* One config for the whole CA: no CRL distribution points, no AIA. */
static const char ca_cnf[] =
    "[req]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[dn]\n"
    "CN = unused\n"
    "[v3_root]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[v3_inter]\n"
    "basicConstraints = critical,CA:TRUE,pathlen:0\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid:always\n"
    "[v3_leaf]\n"
    "basicConstraints = critical,CA:FALSE\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid:always\n"
    "[v3_tls]\n"
    "basicConstraints = critical,CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = serverAuth\n";

static int
not_ready(const char *why)
{
	snprintf(TS.why, sizeof(TS.why), "%s", why);
	return -1;
}

const char *
tl_copy(const char *src, const char *name)
{
	const char *dst = tl_pe_path(name);
	unsigned char *b;
	size_t n;

	unlink(dst);
	b = tl_slurp(src, &n, 0);
	tl_spit(dst, b, n);
	free(b);
	assert_int_equal(chmod(dst, 0644), 0);
	return dst;
}

int
tl_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int
tl_ossl_verify_ca(const char *file, const char *ca, char *text, size_t len)
{
	const char *txt = tl_pe_path("verify-ca.txt");
	unsigned char *t;
	size_t n;
	int rc;

	unlink(txt);
	rc = tl_run("osslsigncode verify -CAfile '%s' -ignore-cdp -in '%s' "
	    "> '%s' 2>&1", ca, file, txt);
	t = tl_slurp(txt, &n, 0);
	snprintf(text, len, "%s", (char *)t);
	free(t);
	return rc;
}

/* The fixtures' dir, where the openssl commands run. */
static char dir[700];

static int
make_ca(void)
{
	const char *cnf = tl_pe_path("ca.cnf");

	tl_spit(cnf, ca_cnf, strlen(ca_cnf));
	snprintf(dir, sizeof(dir), "%s", tl_pe_path("."));
	snprintf(TS.root, sizeof(TS.root), "%s", tl_pe_path("root.pem"));
	snprintf(TS.other_root, sizeof(TS.other_root), "%s",
	    tl_pe_path("other-root.pem"));
	if (tl_run("cd '%s' && openssl req -x509 -config ca.cnf -extensions "
	    "v3_root -newkey rsa:2048 -nodes -keyout root.key -out root.pem "
	    "-subj '/CN=hsmdesk Test Root/O=hsmdesk tests' -days 3", dir) ||
	    tl_run("cd '%s' && openssl req -x509 -config ca.cnf -extensions "
	    "v3_root -newkey rsa:2048 -nodes -keyout other-root.key -out "
	    "other-root.pem -subj '/CN=Unrelated Root' -days 3", dir) ||
	    tl_run("cd '%s' && openssl req -new -config ca.cnf -newkey "
	    "ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key "
	    "-out inter.csr -subj '/CN=hsmdesk Test Code Signing CA' && "
	    "openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key "
	    "-CAcreateserial -extfile ca.cnf -extensions v3_inter -days 3 "
	    "-outform DER -out inter.der", dir))
		return not_ready("making the test CA with openssl failed; see the "
		    "log in the test's temp dir");
	return 0;
}

/* The CSR's extensions (key usage, codeSigning) copied into the leaf. */
static int
issue(const char *name, const char *ext, const char *copy)
{
	return tl_run("cd '%s' && openssl x509 -req -in %s.csr -CA inter.der "
	    "-CAform DER -CAkey inter.key -CAcreateserial -extfile ca.cnf "
	    "-extensions %s %s -days 3 -outform DER -out %s-%s.der", dir,
	    name, ext, copy, name, ext);
}

static int
make_key(struct tl_signer *sg, const char *profile, const char *name)
{
	static struct hd_profile p;
	const char *top = getenv("HSMDESK_TOP");
	char path[4096], dn[128];
	struct hd_csr csr;
	struct hd_err err;
	int rc;

	snprintf(path, sizeof(path), "%s/profiles/%s.yaml", top ? top : ".",
	    profile);
	snprintf(sg->cn, sizeof(sg->cn), "hsmdesk Test Signer %s", name);
	snprintf(dn, sizeof(dn), "CN=%s,O=Contoso Ltd,L=Seattle,"
	    "ST=Washington,C=US", sg->cn);
	if (hd_profile_load(&p, path, &err) == -1 ||
	    hd_profile_set_subject(&p, dn, &err) == -1 ||
	    hd_keygen(TS.s, &p, name, NULL, NULL, &sg->key, &err) == -1 ||
	    hd_csr_make(TS.s, &p, &sg->key, &csr, &err) == -1)
		return not_ready(err.msg);
	snprintf(path, sizeof(path), "%s.csr", name);
	rc = hd_csr_write(&csr, tl_pe_path(path), 0, 1, &err);
	hd_csr_free(&csr);
	if (rc == -1 || issue(name, "v3_leaf", "-copy_extensions copyall"))
		return not_ready("issuing the leaf certificate failed");
	snprintf(path, sizeof(path), "%s-v3_leaf.der", name);
	sg->der = tl_slurp(tl_pe_path(path), &sg->len, 0);
	return 0;
}

void
tl_thumbprint(const char *path, const char *form, char out[41])
{
	char cmd[1200], line[200];
	size_t i, k = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "openssl x509 -inform %s -in '%s' -noout "
	    "-fingerprint -sha1", form, path);
	out[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), p) != NULL && strchr(line, '=') != NULL)
		for (i = strchr(line, '=') - line + 1; line[i] != '\0' &&
		    line[i] != '\n' && k < 40; i++)
			if (line[i] != ':')
				out[k++] = line[i];
	out[k] = '\0';
	pclose(p);
}

static void
load_der(struct hd_der *d, const char *name)
{
	size_t n;

	d->der = tl_slurp(tl_pe_path(name), &n, 0);
	d->len = n;
}

static int
session(void)
{
	struct hd_err err;
	struct hd_pin *pin;
	int rc;

	if (tl_init_token(tl_softhsm(), "authenticode") == -1)
		return not_ready("initializing the SoftHSM2 token failed");
	if ((TS.s = hd_open(tl_softhsm(), &err)) == NULL ||
	    hd_token_select(TS.s, "authenticode", &err) == -1)
		return not_ready(err.msg);
	pin = tl_pin(TL_PIN);
	rc = hd_login(TS.s, pin, &err);
	hd_pin_free(pin);
	return rc == -1 ? not_ready(err.msg) : 0;
}

int
tl_sign_setup(void **state)
{
	if (tl_pe_setup(state) == -1)
		return -1;
	if (!TP.ready)
		return 0;
	if (session() == -1 || make_ca() == -1 ||
	    make_key(&TS.rsa, "codesign-rsa2048", "rsa") == -1 ||
	    make_key(&TS.ec, "codesign-ecdsa-p256", "ec") == -1 ||
	    issue("rsa", "v3_tls", ""))
		return 0;
	tl_thumbprint(tl_pe_path("rsa-v3_leaf.der"), "DER", TS.rsa.sha1);
	tl_thumbprint(tl_pe_path("ec-v3_leaf.der"), "DER", TS.ec.sha1);
	load_der(&TS.inter, "inter.der");
	load_der(&TS.tls, "rsa-v3_tls.der");
	TS.ready = 1;
	return 0;
}

int
tl_sign_teardown(void **state)
{
	hd_close(TS.s);
	free(TS.rsa.der);
	free(TS.ec.der);
	free((void *)TS.inter.der);
	free((void *)TS.tls.der);
	memset(&TS, 0, sizeof(TS));
	return tl_pe_teardown(state);
}
