#!/usr/bin/env bash
#
# End-to-end tests of profiles, key pair generation and CSR export
# (profile, request, delete-key): every CSR is checked with
# `openssl req -verify`, the key on the token with `hsmdesk keys` and
# pkcs11-tool, and every failure for what it leaves behind (nothing).
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/request.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='CN=Contoso Release Signing,O=Contoso Ltd,L=Seattle,ST=Washington,C=US'
DATA=$HSMDESK_TOP/tests/data

# An initialized token "L" and the softhsm2 module, as most tests want.
ready() {
	store_init_token L "$SO" "$UP"
}

# Number of objects of a class (privkey, pubkey, cert) on token L.
objects() {
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --login --pin "$UP" --list-objects --type "$1" </dev/null \
	    2>/dev/null | grep -c "^${2:-Private Key Object}"
}

expect_no_keys() {
	local n
	n=$(objects privkey "Private Key Object")
	((n == 0)) || fail "expected no private key on the token, found $n"
	n=$(objects pubkey "Public Key Object")
	((n == 0)) || fail "expected no public key on the token, found $n"
}

expect_no_file() {
	local f
	for f in "$@"; do
		[[ ! -e $f ]] || fail "$f exists (nothing should be left)"
	done
	f=$(compgen -G "$T_DIR/*.XXXXXX" "$T_DIR"/out/*.??????) &&
	    fail "temporary files left: $f"
	return 0
}

# openssl's verdict and the subject it reads, in RFC 2253-like order.
expect_csr_verifies() {	# expect_csr_verifies FILE [DER]
	local form=PEM
	[[ ${2:-} == der ]] && form=DER
	openssl req -inform "$form" -in "$1" -noout -verify \
	    >"$T_DIR/.verify" 2>&1 ||
	    fail "openssl req -verify $1 failed: $(cat "$T_DIR/.verify")"
	grep -q 'verify OK' "$T_DIR/.verify" ||
	    fail "openssl req -verify $1 did not say OK"
	openssl req -inform "$form" -in "$1" -noout -text >"$T_DIR/.text" \
	    2>&1 || fail "openssl req -text $1 failed"
}

csr_text_has() {
	grep -Eq -- "$1" "$T_DIR/.text" || fail "CSR text does not match /$1/"
}

# The SHA-1 of the subjectPublicKey BIT STRING of the CSR's key (RFC 5280
# key identifier method 1), computed by openssl alone.
csr_key_id() {
	local der=$T_DIR/.spki line off hl len
	openssl req -in "$1" -noout -pubkey | openssl pkey -pubin \
	    -outform DER -out "$der" 2>/dev/null || return 1
	line=$(openssl asn1parse -inform DER -in "$der" | grep 'BIT STRING' |
	    head -n 1)
	off=$(sed 's/^ *\([0-9]*\):.*/\1/' <<<"$line")
	hl=$(sed 's/.*hl= *\([0-9]*\).*/\1/' <<<"$line")
	len=$(sed 's/.* l= *\([0-9]*\).*/\1/' <<<"$line")
	# skip the tag, length and the "unused bits" byte
	tail -c +$((off + hl + 2)) "$der" | head -c $((len - 1)) |
	    openssl dgst -sha1 -r | cut -d' ' -f1
}

# ---- profiles -------------------------------------------------------------------

t_profile_list() {
	run_hsmdesk profile list
	expect_status 0
	for p in codesign-rsa2048 codesign-rsa3072 codesign-ecdsa-p256 \
	    codesign-ecdsa-p384 tls-server-rsa2048 smime-rsa3072; do
		expect_stdout_count 1 "^$p "
	done
	expect_stdout_match '^codesign-ecdsa-p384 +EC P-384 '
	expect_stdout_match '^codesign-rsa3072 +RSA-3072 '
	check "profile list shows the six shipped profiles with their keys"

	mkdir -p "$XDG_CONFIG_HOME/hsmdesk/profiles"
	sed 's/^name: .*/name: "mine-p256"/' \
	    "$HSMDESK_TOP/profiles/codesign-ecdsa-p256.yaml" \
	    >"$XDG_CONFIG_HOME/hsmdesk/profiles/mine.yaml"
	printf 'name: bad\nkey: [\n' \
	    >"$XDG_CONFIG_HOME/hsmdesk/profiles/bad.yaml"
	run_hsmdesk profile list
	expect_status 0
	expect_stdout_count 1 '^mine-p256 +EC P-256 '
	expect_stdout_match 'BROKEN: .*bad\.yaml'
	check "a user's profile appears beside them; a broken one says why"

	run_hsmdesk profile list --json
	expect_status 0
	expect_json_array
	expect_json_fields "$(json_object_with "$HD_OUT" name mine-p256)" \
	    '"key":"EC P-256"' '"broken":false'
	check "profile list --json"
}

t_profile_show() {
	run_hsmdesk profile show codesign-rsa3072
	expect_status 0
	expect_stdout_match '^# .*/profiles/codesign-rsa3072\.yaml$'
	expect_stdout_match '^  bits: 3072$'
	expect_stdout_match 'codeSigning'
	check "profile show NAME prints the profile as YAML"

	run_hsmdesk profile show "$HSMDESK_TOP/profiles/smime-rsa3072.yaml"
	expect_status 0
	expect_stdout_match '^name: "smime-rsa3072"$'
	check "profile show PATH"

	run_hsmdesk profile show no-such-profile
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "no-such-profile"
	check "profile show of an unknown name: status 2, one line"

	run_hsmdesk profile frobnicate
	expect_status 2
	expect_stderr_one_line
	check "profile with an unknown subcommand: status 2"
}

t_profile_convert() {
	local f name
	mkdir -p "$XDG_CONFIG_HOME/hsmdesk/profiles"
	for f in "$DATA"/*.inf; do
		name=$(basename "$f" .inf)
		cp "$f" "$T_DIR/orig.inf"
		run_hsmdesk profile convert "$f"
		expect_status 0
		expect_stdout_match '^name: '
		expect_stdout_match '^key:$'
		cmp -s "$f" "$T_DIR/orig.inf" || fail "$f was changed"
		# what convert prints is a profile hsmdesk loads
		printf '%s\n' "$HD_OUT" >"$T_DIR/conv-$name.yaml"
		run_hsmdesk profile show "$T_DIR/conv-$name.yaml"
		expect_status 0
		check "profile convert $name.inf gives a loadable profile"
	done

	run_hsmdesk profile convert "$DATA/signtool-request.inf"
	expect_stderr_match "'ProviderName' ignored"
	check "INF keys without meaning on PKCS#11 are reported as ignored"
}

t_profile_hostile() {
	local y
	mkdir -p "$T_DIR/p"
	y=$T_DIR/p/rsa1024.yaml
	sed 's/bits: 2048/bits: 1024/' \
	    "$HSMDESK_TOP/profiles/codesign-rsa2048.yaml" >"$y"
	grep -q 'bits: 1024' "$y" || t_abort "sed did not make an RSA-1024 profile"
	run_hsmdesk profile show "$y"
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'rsa1024\.yaml:[0-9]+:[0-9]+: .*1024'
	check "RSA 1024 refused, with file:line:column"

	cat >"$T_DIR/p/laughs.yaml" <<-'EOF'
		name: &a lol
		description: *a
	EOF
	run_hsmdesk profile show "$T_DIR/p/laughs.yaml"
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'laughs\.yaml:[0-9]+:[0-9]+: .*(anchor|alias)'
	check "YAML anchors/aliases refused"

	head -c 70000 /dev/urandom >"$T_DIR/p/junk.yaml"
	run_hsmdesk profile show "$T_DIR/p/junk.yaml"
	expect_status 2
	expect_stderr_one_line
	check "70 KB of binary junk refused (status 2, one line)"
}

# ---- request ----------------------------------------------------------------------

t_request_ec() {
	local id
	ready
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out a.csr --pin env:UP
	expect_status 0
	expect_no_pin "$UP"
	expect_stdout_match '^  subject +C=US, ST=Washington, L=Seattle, O=Contoso Ltd, CN=Contoso Release Signing$'
	expect_stdout_match 'token says sensitive yes, extractable no, never extractable yes'
	expect_stdout_match "^  SHA-256 +$(sha256sum <(openssl req -in a.csr -outform DER) | cut -c1-64)$"
	check "request codesign-ecdsa-p256: summary with the CSR's real SHA-256"

	expect_csr_verifies a.csr
	csr_text_has 'Subject: C = US, ST = Washington, L = Seattle, O = Contoso Ltd, CN = Contoso Release Signing'
	csr_text_has 'ASN1 OID: prime256v1'
	csr_text_has 'X509v3 Key Usage: critical'
	csr_text_has 'Code Signing'
	csr_text_has 'ecdsa-with-SHA256'
	check "openssl req -verify: OK; subject in conventional order, EKU codeSigning"

	id=$(csr_key_id a.csr)
	run_hsmdesk keys --pin env:UP
	expect_stdout_match "^codesign-Contoso-Release-Signing-[0-9]{8} +$id +EC P-256 +yes +no +yes +yes +no$"
	check "keys: the new key, CKA_ID = SHA-1 of its subjectPublicKey, not extractable"

	[[ -s a.csr.ceremony.txt ]] || fail "no ceremony record"
	grep -q "^Key ID (CKA_ID) *$id$" a.csr.ceremony.txt ||
	    fail "ceremony record lacks the CKA_ID"
	grep -Eq '^  never extractable +yes$' a.csr.ceremony.txt ||
	    fail "ceremony record lacks the attributes"
	grep -Fq "$(openssl req -in a.csr -outform DER | sha256sum | cut -c1-64)" \
	    a.csr.ceremony.txt || fail "ceremony record lacks the CSR's SHA-256"
	check "ceremony record beside the CSR: CKA_ID, attributes, CSR SHA-256"

	run_hsmdesk request --profile codesign-ecdsa-p384 --subject "$SUBJ" \
	    --out b.der --der --pin env:UP
	expect_status 0
	expect_csr_verifies b.der der
	csr_text_has 'NIST CURVE: P-384'
	csr_text_has 'ecdsa-with-SHA384'
	check "request codesign-ecdsa-p384 --der: a DER CSR signed with SHA-384"

	run_hsmdesk keys --pin env:UP
	expect_stdout_count 2 '^codesign-Contoso-Release-Signing-[0-9]{8}(-[0-9]+)? '
	check "the second key's label was made unique"
}

t_request_rsa() {
	ready
	run_hsmdesk request --profile codesign-rsa2048 --subject "$SUBJ" \
	    --label 'release-{date}' --out r.csr --pin env:UP
	expect_status 0
	expect_csr_verifies r.csr
	csr_text_has 'Public-Key: \(2048 bit\)'
	csr_text_has 'sha256WithRSAEncryption'
	run_hsmdesk keys --pin env:UP
	expect_stdout_match "^release-[0-9]{8} +$(csr_key_id r.csr) +RSA-2048 +yes +no +yes"
	check "request codesign-rsa2048 --label: RSA-2048 on the token, CSR verifies"

	run_hsmdesk request --profile tls-server-rsa2048 --subject "$SUBJ" \
	    --san DNS:build.contoso.com --san DNS:www.contoso.com \
	    --out tls.csr --pin env:UP
	expect_status 0
	expect_csr_verifies tls.csr
	csr_text_has 'DNS:build.contoso.com, DNS:www.contoso.com'
	csr_text_has 'TLS Web Server Authentication'
	check "tls-server-rsa2048 with two --san: subjectAltName requested"

	run_hsmdesk request --profile tls-server-rsa2048 --subject "$SUBJ" \
	    --out notls.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'needs its host names: give --san DNS:'
	expect_no_file notls.csr
	check "tls-server-rsa2048 without --san: status 2 before the token"
}

t_request_renewal() {
	local before
	ready
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --label rk --out first.csr --pin env:UP
	expect_status 0
	before=$(openssl req -in first.csr -noout -pubkey)
	run_hsmdesk request --key rk --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ" --out renew.csr --pin env:UP
	expect_status 0
	expect_stdout_match '^CSR for the existing key'
	expect_csr_verifies renew.csr
	[[ $(openssl req -in renew.csr -noout -pubkey) == "$before" ]] ||
	    fail "the renewal CSR has another public key"
	[[ ! -e renew.csr.ceremony.txt ]] ||
	    fail "a renewal made a key ceremony record"
	((n = $(objects privkey "Private Key Object"), n == 1)) ||
	    fail "expected 1 private key after the renewal, found $n"
	check "request --key LABEL: a new CSR for the same key, no new key"

	run_hsmdesk request --key nope --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ" --out x.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "'nope'"
	expect_no_file x.csr
	check "request --key with an unknown label: status 2, nothing written"
}

t_request_inf() {
	ready
	run_hsmdesk request --inf "$DATA/codesign-p256.inf" --out inf.csr \
	    --pin env:UP
	expect_status 0
	expect_csr_verifies inf.csr
	csr_text_has 'Code Signing'
	check "request --inf codesign-p256.inf: CSR verifies"

	sed 's/^KeyUsage = 0x80/&\r\nExportable = TRUE/' \
	    "$DATA/codesign-p256.inf" >exp.inf
	grep -q '^Exportable = TRUE' exp.inf || t_abort "sed made no exp.inf"
	run_hsmdesk request --inf exp.inf --out e.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'allow-exportable'
	expect_no_file e.csr
	((n = $(objects privkey "Private Key Object"), n == 1)) ||
	    fail "expected only the first key, found $n"
	check "an INF with Exportable = TRUE is refused without --allow-exportable"

	run_hsmdesk request --inf exp.inf --allow-exportable --out e.csr \
	    --pin env:UP
	expect_status 0
	expect_stderr_match 'WARNING: the private key will be EXPORTABLE'
	expect_stdout_match 'sensitive yes, extractable yes'
	expect_csr_verifies e.csr
	check "--allow-exportable: made as asked, and said loudly"

	run_hsmdesk request --inf "$DATA/signtool-request.inf" --out s.csr \
	    --pin env:UP
	expect_status 2
	expect_stderr_match "www.example.com' looks like a placeholder"
	run_hsmdesk request --inf "$DATA/signtool-request.inf" --out s.csr \
	    --subject 'CN=sign.contoso.com' --pin env:UP
	expect_status 0
	expect_csr_verifies s.csr
	csr_text_has 'CN = sign.contoso.com'
	check "signtool-request.inf: example CN refused, --subject overrides it"
}

t_request_refusals() {
	ready
	run_hsmdesk request --profile codesign-ecdsa-p256 --out a.csr \
	    --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'CN.* required'
	check "shipped profile without --subject: the required fields are named"

	run_hsmdesk request --profile codesign-ecdsa-p256 --out a.csr \
	    --subject 'CN=Test,O=Example Corp,L=City,ST=State,C=US' --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'placeholder'
	check "a placeholder subject is never sent to a CA"

	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ,C=USA" \
	    --out a.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	check "a three-letter country code: status 2"

	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ"
	expect_status 2
	expect_stderr_match -- '--out'
	run_hsmdesk request --subject "$SUBJ" --out a.csr
	expect_status 2
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --inf "$DATA/codesign-p256.inf" --out a.csr
	expect_status 2
	check "request without --out, without a profile, or with two: status 2"

	run_hsmdesk request --id 'zz12' --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ" --out a.csr
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "--id 'zz12': not a CKA_ID in hex"
	expect_stderr_no_match 'PIN'
	check "a malformed --id is refused before the PIN is asked for"

	echo original >keep.csr
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out keep.csr --pin env:UP
	expect_status 2
	expect_stderr_match 'keep.csr: exists already'
	[[ $(cat keep.csr) == original ]] || fail "keep.csr was changed"
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out missing/dir/a.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "cannot write in 'missing/dir'"
	expect_no_keys
	check "existing output or missing directory: status 2 before the token is touched"

	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out keep.csr --force --pin env:UP
	expect_status 0
	expect_csr_verifies keep.csr
	check "--force replaces the existing file"
}

# The write fails after the token made the key (the output is a directory:
# the final rename fails, whoever runs the test): the key is deleted.
t_request_write_fails() {
	ready
	mkdir taken.csr
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out taken.csr --force --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match 'taken.csr: cannot write: .*; the previous file, if any, is unchanged; the new key pair .* was deleted'
	expect_stderr_no_match '; ;'
	expect_no_keys
	[[ -d taken.csr && -z $(ls -A taken.csr) ]] ||
	    fail "taken.csr changed"
	expect_no_file taken.csr.ceremony.txt
	check "the CSR cannot be written: status 1, the new key pair deleted"
}

t_request_faults() {
	need_fakep11
	ready
	export HSMDESK_MODULE=$HD_FAKEP11
	HSMDESK_FAKEP11_FAULT=keygen-template-inconsistent run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out a.csr \
	    --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match 'CKR_TEMPLATE_INCONSISTENT'
	expect_no_file a.csr
	expect_no_keys
	check "the token refuses the template: CKR named, a hint, nothing left"

	HSMDESK_FAKEP11_FAULT=keygen-half run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out a.csr \
	    --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_no_file a.csr
	expect_no_keys
	check "the token makes half a pair: no public key left without its private key"

	HSMDESK_FAKEP11_FAULT=key-extractable run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out a.csr \
	    --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match 'extractable'
	expect_no_file a.csr
	expect_no_keys
	check "the token reports the new key extractable: loud, deleted, status 1"

	HSMDESK_FAKEP11_FAULT=sign-device-error run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out a.csr \
	    --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match 'was deleted'
	expect_no_file a.csr a.csr.ceremony.txt
	expect_no_keys
	check "signing the CSR fails on the token: the new key pair deleted"

	HSMDESK_FAKEP11_FAULT=setattr-unsupported run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out a.csr \
	    --pin env:UP
	expect_status 0
	expect_stdout_match 'random: the token refused to set it'
	expect_csr_verifies a.csr
	check "a token that refuses C_SetAttributeValue keeps the random CKA_ID"

	HSMDESK_FAKEP11_FAULT=ec-point-raw run_hsmdesk request \
	    --profile codesign-ecdsa-p256 --subject "$SUBJ" --out raw.csr \
	    --pin env:UP
	expect_status 0
	expect_csr_verifies raw.csr
	expect_stdout_match "CKA_ID $(csr_key_id raw.csr)"
	check "a token returning CKA_EC_POINT raw: the CSR and CKA_ID are right"
}

# Ctrl-C while the token generates: the pair it made is deleted.
t_request_interrupted() {
	local pid i rc
	need_fakep11
	ready
	export HSMDESK_MODULE=$HD_FAKEP11 HSMDESK_FAKEP11_FAULT=slow-keygen=3000
	export HSMDESK_FAKEP11_MARK=$T_DIR/mark
	"$HD_BIN" request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out a.csr --pin env:UP </dev/null >"$T_DIR/.stdout" \
	    2>"$T_DIR/.stderr" &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		[[ -e $T_DIR/mark ]] && break
		sleep 0.05
	done
	[[ -e $T_DIR/mark ]] || fail "the key generation never started"
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	HD_STATUS=$rc HD_ERR=$(<"$T_DIR/.stderr") HD_OUT=$(<"$T_DIR/.stdout")
	expect_status 130
	expect_stderr_one_line
	expect_stderr_match 'cancelled; the new key pair was deleted'
	unset HSMDESK_MODULE HSMDESK_FAKEP11_FAULT
	expect_no_file a.csr a.csr.ceremony.txt
	expect_no_keys
	check "Ctrl-C during key generation: status 130, the pair deleted, no file"

	export HSMDESK_MODULE=$HD_FAKEP11 HSMDESK_FAKEP11_FAULT=slow-keygen=3000
	rm -f "$T_DIR/mark"
	"$HD_BIN" request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --out b.csr --pin env:UP </dev/null >"$T_DIR/.stdout" \
	    2>"$T_DIR/.stderr" &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		[[ -e $T_DIR/mark ]] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid"
	HD_STATUS=$? HD_ERR=$(<"$T_DIR/.stderr")
	unset HSMDESK_MODULE HSMDESK_FAKEP11_FAULT
	expect_status 143
	expect_stderr_match 'cancelled; the new key pair was deleted'
	expect_no_file b.csr b.csr.ceremony.txt
	expect_no_keys
	check "SIGTERM during key generation: status 143, the pair deleted"
}

# ---- delete-key ---------------------------------------------------------------------

t_delete_key() {
	ready
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ" \
	    --label gone --out a.csr --pin env:UP
	expect_status 0
	run_hsmdesk delete-key --label gone --pin env:UP
	expect_status 2
	expect_stderr_match -- '--yes'
	((n = $(objects privkey "Private Key Object"), n == 1)) ||
	    fail "the key went without --yes"
	check "delete-key without --yes: status 2, the key stays"

	run_hsmdesk delete-key --label gone --yes --pin env:UP
	expect_status 0
	expect_stdout_match "deleted key 'gone'"
	expect_no_keys
	check "delete-key --label L --yes removes both halves"

	run_hsmdesk delete-key --label gone --yes --pin env:UP
	expect_status 2
	expect_stderr_one_line
	check "delete-key of a key that is not there: status 2"
}

t_run "profile list" t_profile_list
t_run "profile show" t_profile_show
t_run "profile convert" t_profile_convert
t_run "hostile profiles" t_profile_hostile
t_run "request EC" t_request_ec
t_run "request RSA" t_request_rsa
t_run "request renewal" t_request_renewal
t_run "request INF" t_request_inf
t_run "request refusals" t_request_refusals
t_run "request write fails" t_request_write_fails
t_run "request faults" t_request_faults
t_run "request interrupted" t_request_interrupted
t_run "delete-key" t_delete_key
e2e_finish
