#!/usr/bin/env bash
#
# End-to-end tests of certificate import and lookup (accept, certs,
# export-cert): keys and CSRs made on the token with `hsmdesk request`,
# certificates issued by a test CA made here with openssl (root and
# intermediate, no CRL or AIA URLs), thumbprints compared with
# `openssl x509 -fingerprint`, and every refusal checked for what it
# leaves behind (nothing).
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/cert.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'
LRM=$'\u200e'

# ---- fixtures -------------------------------------------------------------------

# Token "L" and a test CA in ca/: root and intermediate, EC P-256.
ready() {
	store_init_token L "$SO" "$UP"
	test_ca ca "/O=hsmdesk e2e/CN=E2E Root" 3650
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca/inter.key -subj "/O=hsmdesk e2e/CN=E2E Intermediate" \
	    -out ca/inter.csr
	ossl x509 -req -in ca/inter.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 1825 -extfile ca/ext.cnf -extensions inter \
	    -out ca/inter.pem
}

# openssl for fixtures; aborts the test if it fails.

# request LABEL PROFILE: a key pair on L and LABEL.csr, through hsmdesk.
request() {
	run_hsmdesk request --profile "$2" --subject "$SUBJ,CN=$1" \
	    --label "$1" --out "$1.csr" --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request $1 failed: $HD_ERR"
}

# issue CSR OUT [EXT [DAYS]]: the intermediate signs CSR into OUT (PEM).
issue() {
	ossl x509 -req -in "$1" -CA ca/inter.pem -CAkey ca/inter.key \
	    -CAcreateserial -days "${4:-365}" -extfile ca/ext.cnf \
	    -extensions "${3:-codesign}" -out "$2"
}

# Fingerprints as PowerShell prints them: upper-case hex, no colons.
sha1_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

sha256_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 |
	    tr -d :
}

# Certificate objects on token L (pkcs11-tool's count).
cert_objects() {
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --list-objects --type cert </dev/null 2>/dev/null |
	    grep -c '^Certificate Object'
}

CERTS_DIR() {
	echo "$XDG_DATA_HOME/hsmdesk/certs"
}

# Nothing stored: no certificate object, no local store.
expect_nothing_stored() {
	local n
	n=$(cert_objects)
	((n == 0)) || fail "expected no certificate on the token, found $n"
	[[ ! -e $(CERTS_DIR) ]] || fail "$(CERTS_DIR) was created"
	return 0
}

# ---- accept -----------------------------------------------------------------------

t_accept_rsa() {
	local sha1
	ready
	request rsa-signer codesign-rsa2048
	issue rsa-signer.csr leaf.pem
	cat leaf.pem ca/inter.pem ca/root.pem >bundle.pem
	sha1=$(sha1_of leaf.pem)

	run_hsmdesk accept bundle.pem --pin env:UP
	expect_status 0
	[[ $(head -n 1 <<<"$HD_OUT") == "$sha1" ]] ||
	    fail "first line is not openssl's SHA-1 $sha1"
	expect_stdout_match "^  key +ok +fits private key 'rsa-signer' \(RSA-2048\) on token 'L'$"
	expect_stdout_match '^  validity +ok +valid .* \(36[45] days left\)$'
	expect_stdout_match '^  usage +ok +code signing'
	expect_stdout_match "^  chain +warning +ends at root 'CN=E2E Root, O=hsmdesk e2e', which is not trusted"
	expect_stdout_match "^stored on token 'L' beside key 'rsa-signer'$"
	expect_stdout_match '^chain: 2 more certificates in the file, 2 new'
	expect_stderr_empty
	expect_no_pin "$UP"
	check "accept RSA bundle: openssl's thumbprint, the checks, stored on L"

	[[ $(cert_objects) -eq 1 ]] || fail "pkcs11-tool: not one certificate"
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --read-object --type cert --label rsa-signer -o "$T_DIR/back.der" \
	    </dev/null >/dev/null 2>&1 || fail "pkcs11-tool cannot read it back"
	[[ $(openssl x509 -inform DER -in back.der -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :) == "$sha1" ]] ||
	    fail "the certificate object is not the certificate"
	check "pkcs11-tool reads the certificate object back under the key's label"

	run_hsmdesk keys --pin env:UP
	expect_stdout_match '^rsa-signer .* yes$'
	check "keys says the key has a certificate"

	run_hsmdesk certs --pin env:UP
	expect_status 0
	expect_stdout_match "^$sha1 [0-9-]{10} +36[45] yes token +rsa-signer$"
	expect_stdout_match '^    subject  CN=rsa-signer, O=Contoso Ltd, L=Seattle, ST=Washington, C=US$'
	expect_stdout_match '^    issuer   CN=E2E Intermediate, O=hsmdesk e2e$'
	expect_stdout_count 3 '^[0-9A-F]{40} '
	check "certs: thumbprint, days, key, label, subject, issuer"

	run_hsmdesk certs
	expect_status 0
	expect_stdout_match "^$sha1 .* \? +token +rsa-signer$"
	check "certs without a PIN: the label, private key unknown (?)"
}

t_accept_formats() {
	local f sha1 n=0
	ready
	for f in der p7b p7bpem multi; do
		request "ec-$f" codesign-ecdsa-p256
		issue "ec-$f.csr" "ec-$f.pem"
	done
	ossl x509 -in ec-der.pem -outform DER -out ec.cer
	cat ec-p7b.pem ca/inter.pem ca/root.pem >p7b.pem
	ossl crl2pkcs7 -nocrl -certfile p7b.pem -outform DER -out ec.p7b
	cat ec-p7bpem.pem ca/inter.pem >p7c.pem
	ossl crl2pkcs7 -nocrl -certfile p7c.pem -out ec-pem.p7b
	{ echo "Bag Attributes: text before the blocks"; cat ca/root.pem \
	    ca/inter.pem ec-multi.pem; } >multi.pem
	for f in ec.cer:ec-der ec.p7b:ec-p7b ec-pem.p7b:ec-p7bpem \
	    multi.pem:ec-multi; do
		sha1=$(sha1_of "${f#*:}.pem")
		run_hsmdesk accept "${f%%:*}" --pin env:UP
		expect_status 0
		expect_stdout_match "^$sha1$"
		expect_stdout_match "fits private key '${f#*:}' \(EC P-256\)"
		check "accept ${f%%:*}: the EC leaf found and stored"
		n=$((n + 1))
	done
	[[ $(cert_objects) -eq $n ]] || fail "expected $n certificate objects"
	check "four formats, four certificates on the token"
}

t_accept_again() {
	ready
	request again codesign-ecdsa-p256
	issue again.csr again.pem
	run_hsmdesk accept again.pem --pin env:UP
	expect_status 0
	run_hsmdesk accept again.pem --pin env:UP
	expect_status 0
	expect_stdout_match "^already on the token beside key 'again': nothing changed$"
	[[ $(cert_objects) -eq 1 ]] || fail "not one certificate object"
	check "accept the same certificate again: nothing changed, and says so"
}

t_accept_warnings() {
	ready
	request web codesign-ecdsa-p256
	issue web.csr web.pem tls 5
	run_hsmdesk accept web.pem --pin env:UP
	expect_status 0
	expect_stdout_match '^  usage +warning +not for code signing: the extended key usage lacks codeSigning \(has: serverAuth\)$'
	expect_stdout_match '^  chain +warning +incomplete'
	expect_stdout_match "^stored on token 'L'"
	check "a TLS certificate is stored, with a usage warning"

	run_hsmdesk certs --expiring 30
	expect_status 1
	expect_stdout_count 1 '^[0-9A-F]{40} .* +[45] \? +token +web$'
	expect_stderr_one_line
	expect_stderr_match '1 certificate expires within 30 days'
	check "certs --expiring 30: lists it, exit 1"

	run_hsmdesk certs --expiring 2
	expect_status 0
	expect_stdout_count 0 '^[0-9A-F]{40} '
	check "certs --expiring 2: none, exit 0"
}

t_trust_root() {
	local root inter spaced
	ready
	request tr codesign-ecdsa-p256
	issue tr.csr tr.pem
	cat tr.pem ca/inter.pem ca/root.pem >tr-bundle.pem
	root=$(sha256_of ca/root.pem)
	inter=$(sha256_of ca/inter.pem)

	run_hsmdesk accept tr-bundle.pem --pin env:UP
	expect_status 0
	expect_stdout_match "^  root +warning +'CN=E2E Root, O=hsmdesk e2e' is not trusted; its SHA-256 fingerprint is $root$"
	expect_stdout_match "hsmdesk accept tr-bundle.pem --trust-root $root$"
	check "an untrusted root: its fingerprint (openssl's) and how to trust it"

	run_hsmdesk accept tr-bundle.pem --pin env:UP --trust-root "$inter"
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'intermediates are chain material, never trust anchors'
	check "--trust-root with the intermediate's fingerprint: refused"

	# as copied from Windows: U+200E, lower case, spaces
	spaced=$(sed 's/../& /g' <<<"${root,,}")
	run_hsmdesk accept tr-bundle.pem --pin env:UP \
	    --trust-root "$LRM$spaced"
	expect_status 0
	expect_stdout_match "^  root +ok +'CN=E2E Root, O=hsmdesk e2e' \(SHA-256 $root\) is now a trust anchor$"
	expect_stdout_match '^  chain +ok +chains to trusted root .* through 1 intermediate$'
	expect_stdout_match 'already on the token'
	check "--trust-root in Windows notation: the root becomes an anchor"

	run_hsmdesk certs
	expect_stdout_count 1 "^$(sha1_of ca/root.pem) .* trusted-root +-$"
	expect_stdout_count 1 "^$(sha1_of ca/inter.pem) .* chain +-$"
	expect_mode "$(CERTS_DIR)" 700
	expect_mode "$(CERTS_DIR)/trusted" 700
	expect_mode "$(CERTS_DIR)/trusted/$(sha1_of ca/root.pem).pem" 600
	check "certs shows the trusted root and the chain; store 0700/0600"
}

# ---- refusals ---------------------------------------------------------------------

# refused FILE REGEX [STATUS]: accept FILE fails with one line, nothing stored.
refused() {
	run_hsmdesk accept "$1" --pin env:UP
	expect_status "${3:-2}"
	expect_stdout_empty
	expect_stderr_one_line
	expect_stderr_match "$2"
	expect_nothing_stored
}

t_bad_input() {
	ready
	request mine codesign-ecdsa-p256
	head -c 600 /dev/urandom >garbage.bin
	issue mine.csr mine.pem
	head -c 300 mine.pem >truncated.pem
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out private.pem
	ossl req -x509 -key private.pem -subj "/CN=Stranger" -days 30 \
	    -out stranger.pem
	ossl crl2pkcs7 -nocrl -outform DER -out empty.p7b
	: >empty.pem

	refused garbage.bin 'garbage.bin: not a certificate'
	check "garbage: exit 2, nothing stored"
	refused truncated.pem 'truncated.pem: damaged or truncated PEM'
	check "truncated PEM: exit 2, nothing stored"
	refused private.pem 'private.pem: holds a private key .*private keys must never travel'
	check "a private key file: refused, private keys must never travel"
	refused mine.csr 'mine.csr: a certificate signing request, not a certificate'
	check "a CSR given as a certificate: exit 2"
	refused stranger.pem "no private key on token 'L' fits certificate 'CN=Stranger'"
	check "a certificate for a key not on the token: exit 2, nothing stored"
	refused empty.p7b 'empty.p7b: an empty PKCS#7 bundle'
	check "an empty bundle: exit 2"
	refused empty.pem 'empty.pem: empty file'
	check "an empty file: exit 2"
	refused nowhere.pem 'nowhere.pem: no such file'
	check "a missing file: exit 2"

	run_hsmdesk_noterm 20 accept private.pem
	expect_status 2
	expect_stderr_match 'private keys must never travel'
	check "a bad file is refused before any PIN is asked for"
}

t_usage() {
	ready
	run_hsmdesk accept --pin env:UP
	expect_status 2
	expect_stderr_match 'which certificate file'
	check "accept without a file: exit 2"

	run_hsmdesk accept a.pem b.pem --pin env:UP
	expect_status 2
	expect_stderr_match "unexpected argument 'b.pem'"
	check "accept with two files: exit 2"

	run_hsmdesk accept x.pem --trust-root 0D00FF --pin env:UP
	expect_status 2
	expect_stderr_match '64 hex digits'
	check "--trust-root with a prefix: exit 2"

	run_hsmdesk certs --sha1 'A8:G1'
	expect_status 2
	expect_stderr_match "'G' at position 4 is not a hex digit"
	check "certs --sha1 with a non-hex character: exit 2 naming it"

	run_hsmdesk certs --expiring soon
	expect_status 2
	expect_stderr_match 'expected a number of days'
	check "certs --expiring soon: exit 2"

	run_hsmdesk export-cert --sha1 AB
	expect_status 2
	expect_stderr_match -- '--out FILE'
	check "export-cert without --out: exit 2"

	run_hsmdesk export-cert --sha1 AB --der --chain --out x.der
	expect_status 2
	expect_stderr_match 'DER holds one certificate'
	check "export-cert --der --chain: exit 2"

	run_hsmdesk certs --trust-root AB
	expect_status 2
	expect_stderr_match 'not an option of this command'
	check "certs --trust-root: not its option"
}

# ---- where certificates go --------------------------------------------------------

t_cert_refused() {
	local sha1 serial f
	ready
	need_fakep11
	request cloud codesign-ecdsa-p256
	issue cloud.csr cloud.pem
	sha1=$(sha1_of cloud.pem)
	HSMDESK_FAKEP11_FAULT=cert-refused run_hsmdesk --module "$HD_FAKEP11" \
	    accept cloud.pem --pin env:UP
	expect_status 0
	expect_stdout_match "^$sha1$"
	expect_stdout_match "^token 'L' refused the certificate object \(CKR_TEMPLATE_INCONSISTENT\): stored in the local store instead"
	check "fakep11 cert-refused: stored in the local store, and says so"

	run_hsmdesk tokens --json
	serial=$(json_object_with "$HD_OUT" label L |
	    sed -n 's/.*"serial":"\([^"]*\)".*/\1/p')
	[[ -n $serial ]] || t_abort "no serial for token L in: $HD_OUT"
	f=$(compgen -G "$(CERTS_DIR)/keys/$serial/*_$sha1.pem")
	[[ -n $f ]] || fail "no $(CERTS_DIR)/keys/$serial/*_$sha1.pem"
	[[ -n $f ]] && expect_mode "$f" 600
	expect_mode "$(CERTS_DIR)/keys/$serial" 700
	[[ $(cert_objects) -eq 0 ]] || fail "a certificate object was made"
	check "filed under the token serial and CKA_ID, 0600 in 0700 dirs"

	run_hsmdesk certs --pin env:UP --sha1 "${sha1:0:10}"
	expect_status 0
	expect_stdout_match "^$sha1 .* yes local +cloud$"
	check "certs lists it like a token certificate (through SoftHSM2)"

	run_hsmdesk export-cert --sha1 "${sha1:0:10}" --der --out cloud.cer
	expect_status 0
	[[ $(openssl x509 -inform DER -in cloud.cer -noout -fingerprint \
	    -sha1 | cut -d= -f2 | tr -d :) == "$sha1" ]] ||
	    fail "the export is not the certificate"
	check "export-cert finds it in the local store"

	HSMDESK_FAKEP11_FAULT=cert-refused run_hsmdesk --module "$HD_FAKEP11" \
	    accept cloud.pem --pin env:UP
	expect_status 0
	expect_stdout_match '^already in the local store'
	check "accept again: nothing changed"
}

t_config_local() {
	ready
	write_config $'cert_store: local\n'
	request loc codesign-ecdsa-p256
	issue loc.csr loc.pem
	run_hsmdesk accept loc.pem --pin env:UP
	expect_status 0
	expect_stdout_match 'stored in the local store \(config.yaml: cert_store: local\)'
	[[ $(cert_objects) -eq 0 ]] || fail "a certificate object was made"
	check "config.yaml cert_store: local keeps certificates off the token"

	write_config $'cert_store: disk\n'
	run_hsmdesk certs
	expect_status 2
	expect_stderr_match 'config.yaml:1:13: expected auto, token or local'
	check "cert_store: disk is refused with file:line:column"
}

# ---- lookup and export ------------------------------------------------------------

t_certs_lookup() {
	local a b pasted i first
	ready
	request alpha codesign-ecdsa-p256
	request beta codesign-ecdsa-p256
	issue alpha.csr alpha.pem
	issue beta.csr beta.pem
	a=$(sha1_of alpha.pem)
	b=$(sha1_of beta.pem)
	# sixteen more self-signed CA certificates as chain material: of 18
	# certificates, two share a first hex digit
	for i in $(seq 1 16); do
		ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout /dev/null -subj "/CN=Extra $i" -days 30 \
		    -config ca/ext.cnf -extensions root -out "x$i.pem"
	done
	cat alpha.pem x*.pem >alpha-bundle.pem
	run_hsmdesk accept alpha-bundle.pem --pin env:UP
	expect_status 0
	run_hsmdesk accept beta.pem --pin env:UP
	expect_status 0
	check "two certificates and sixteen chain certificates stored"

	pasted="$LRM$(sed 's/../& /g' <<<"${a,,}")"
	run_hsmdesk certs --sha1 "$pasted"
	expect_status 0
	expect_stdout_count 1 '^[0-9A-F]{40} '
	expect_stdout_match "^$a "
	check "certs --sha1 as copied from Windows (U+200E, lower case, spaces)"

	run_hsmdesk certs --sha256 "$(sha256_of beta.pem | cut -c1-12)"
	expect_stdout_count 1 '^[0-9A-F]{40} '
	expect_stdout_match "^$b "
	check "certs --sha256 PREFIX"

	run_hsmdesk certs --subject 'ALPHA'
	expect_stdout_count 1 '^[0-9A-F]{40} '
	check "certs --subject, case-insensitive"

	run_hsmdesk certs --json --pin env:UP
	expect_status 0
	expect_json_array
	expect_json_fields "$(json_object_with "$HD_OUT" sha1 "$a")" \
	    '"key_label":"alpha"' '"private_key":true' '"stored":"token"' \
	    '"subject":"CN=alpha, O=Contoso Ltd, L=Seattle, ST=Washington, C=US"' \
	    '"issuer":"CN=E2E Intermediate, O=hsmdesk e2e"' '"days_left":36' \
	    "\"sha256\":\"$(sha256_of alpha.pem)\""
	[[ $(json_objects "$HD_OUT" | grep -c '^{') -eq 18 ]] ||
	    fail "expected 18 objects"
	check "certs --json: every certificate with the expected fields"

	first=$(grep -Eo '^[0-9A-F]{40}' <<<"$(build_list)" | cut -c1 | sort |
	    uniq -d | head -n 1)
	run_hsmdesk certs --sha1 "$first"
	expect_status 0
	(($(grep -Ec '^[0-9A-F]{40} ' <<<"$HD_OUT") >= 2)) ||
	    fail "a shared prefix should list several"
	check "certs --sha1 with a shared prefix lists them all"

	run_hsmdesk export-cert --sha1 "$first" --out amb.pem
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "thumbprint '$first' fits [0-9]+ certificates:"
	[[ ! -e amb.pem ]] || fail "amb.pem was written"
	check "export-cert with an ambiguous prefix: exit 2, the candidates listed"
}

# The thumbprints certs lists (no PIN needed).
build_list() {
	"$HD_BIN" certs </dev/null 2>/dev/null
}

t_export() {
	local sha1
	ready
	request exp codesign-rsa2048
	issue exp.csr exp.pem
	cat exp.pem ca/inter.pem ca/root.pem >exp-bundle.pem
	sha1=$(sha1_of exp.pem)
	run_hsmdesk accept exp-bundle.pem --pin env:UP
	expect_status 0

	run_hsmdesk export-cert --sha1 "${sha1:0:8}" --out out.pem
	expect_status 0
	expect_stdout_match "^out.pem: 1 certificate \(PEM\), $sha1$"
	[[ $(sha1_of out.pem) == "$sha1" ]] || fail "out.pem is not it"
	check "export-cert --sha1 PREFIX --out out.pem"

	run_hsmdesk export-cert --sha1 "${sha1:0:8}" --out out.pem
	expect_status 2
	expect_stderr_match 'out.pem: exists already'
	run_hsmdesk export-cert --sha1 "${sha1:0:8}" --out out.pem --force \
	    --chain
	expect_status 0
	[[ $(grep -c 'BEGIN CERTIFICATE' out.pem) -eq 3 ]] ||
	    fail "expected 3 certificates in out.pem"
	openssl verify -CAfile ca/root.pem -untrusted out.pem out.pem \
	    >/dev/null 2>&1 || fail "openssl verify of the exported chain"
	check "an existing file needs --force; --chain verifies with openssl"

	run_hsmdesk export-cert --sha1 "$sha1" --chain --p7b --out out.p7b
	expect_status 0
	[[ $(openssl pkcs7 -inform DER -in out.p7b -print_certs -noout |
	    grep -c '^subject') -eq 3 ]] || fail "out.p7b does not hold 3"
	check "export-cert --chain --p7b: a DER PKCS#7 openssl reads"

	run_hsmdesk export-cert --sha1 "$sha1" --der --out out.cer
	expect_status 0
	[[ $(openssl x509 -inform DER -in out.cer -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :) == "$sha1" ]] || fail "out.cer is not it"
	check "export-cert --der"

	run_hsmdesk export-cert --sha1 0000 --out none.pem
	expect_status 2
	expect_stderr_match 'no certificate with thumbprint 0000'
	check "export-cert of an unknown thumbprint: exit 2"
}

t_run "accept RSA" t_accept_rsa
t_run "accept formats" t_accept_formats
t_run "accept again" t_accept_again
t_run "accept warnings" t_accept_warnings
t_run "trust root" t_trust_root
t_run "bad input" t_bad_input
t_run "usage" t_usage
t_run "cert-refused" t_cert_refused
t_run "cert_store: local" t_config_local
t_run "lookup" t_certs_lookup
t_run "export" t_export
e2e_finish
