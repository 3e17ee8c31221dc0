#!/usr/bin/env bash
#
# End-to-end tests of the capability probe and of real-HSM quirks: probe
# output on SoftHSM2 against pkcs11-tool --list-mechanisms, the first-use
# record, AWS CloudHSM's behaviour through fakep11's cloudhsm mode (PIN
# user:password, no user-PIN flag, read-write sessions only, no listing
# before login, certificates refused), vendor return values, and
# request --attest through fakep11's attestation mode and on SoftHSM2.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/vendor.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284 CUP="cu:57319284"
SUBJ='CN=Contoso Release Signing,O=Contoso Ltd,L=Seattle,ST=Washington,C=US'


sha1_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

# A one-level test CA in ca/ (EC P-256, no CRL or AIA URLs).
make_ca() {
	test_ca ca "/CN=E2E Vendor Root" 30
}

issue() {	# issue CSR OUT
	ossl x509 -req -in "$1" -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions codesign \
	    -out "$2"
}

# pkcs11-tool's mechanism names as PKCS#11's: RSA-PKCS-PSS -> CKM_RSA_PKCS_PSS;
# the ones it names differently, and mechtype-0xNNNN, by number.
p11tool_mechs() {
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --list-mechanisms </dev/null 2>/dev/null | sed -n 's/^  //p'
}

t_probe_softhsm() {
	local json line name lo hi obj n_tool n_ours
	store_init_token L "$SO" "$UP"
	run_hsmdesk probe --json
	expect_status 0
	json=$HD_OUT
	n_ours=$(grep -o '"type":"0x' <<<"$json" | wc -l)
	n_tool=$(p11tool_mechs | wc -l)
	((n_tool > 20)) || t_abort "pkcs11-tool listed $n_tool mechanisms"
	((n_ours == n_tool)) ||
	    fail "probe lists $n_ours mechanisms, pkcs11-tool $n_tool"
	while IFS= read -r line; do
		name=${line%%,*}
		case $name in
		mechtype-0x*)
			name=$(printf '0x%08x' "$((16#${name#mechtype-0x}))")
			obj=$(grep -o "{\"name\":\"[^\"]*\",\"type\":\"$name\"[^}]*}" <<<"$json") ;;
		*)
			name=CKM_${name//-/_}
			name=${name/CKM_ECDSA_KEY_PAIR_GEN/CKM_EC_KEY_PAIR_GEN}
			obj=$(grep -o "{\"name\":\"$name\"[^}]*}" <<<"$json") ;;
		esac
		[[ -n $obj ]] || { fail "pkcs11-tool's $line is not in the probe"; continue; }
		if [[ $line =~ keySize=\{([0-9]+),([0-9]+)\} ]]; then
			lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
			[[ $obj == *"\"min_key_size\":$lo,\"max_key_size\":$hi,"* ]] ||
			    fail "$name: pkcs11-tool says {$lo,$hi}, probe: $obj"
		fi
	done < <(p11tool_mechs)
	check "probe --json lists the mechanisms and key sizes pkcs11-tool does"

	expect_json_fields "$json" '"rsa_key_sizes":[2048,3072,4096]' \
	    '"ec_curves":["P-256","P-384"]' '"rsa_pss":true' '"ecdsa":true' \
	    '"rw_session":true' '"ro_session":true' \
	    '"certificate_objects":true' '"login_state_public":true' \
	    '"login_state_user":null' '"listing_needs_login":false' \
	    '"cloudhsm":false'
	check "probe --json: what hsmdesk can do on SoftHSM2"

	run_hsmdesk probe --pin env:UP
	expect_status 0
	expect_stdout_match '^Key generation +RSA 2048, 3072, 4096; EC P-256, P-384$'
	expect_stdout_match '^Signing +RSA PKCS#1 v1.5, RSA-PSS \(--pss\), ECDSA$'
	expect_stdout_match '^Certificates +kept on the token'
	expect_stdout_match '^Login state +reported: public session before login, user session after$'
	expect_stdout_match '^Attestation +! .*SoftHSM2 .* no key attestation'
	expect_stdout_match '^CKM_RSA_PKCS_PSS +512 +16384  sign verify$'
	expect_no_pin "$UP"
	check "probe --pin: the plain-word summary, login state after login too"

	run_hsmdesk probe --pin env:NOPE
	expect_status 2
	expect_stderr_one_line
	check "probe with an unusable PIN source fails before probing"
}

t_first_use() {
	local serial rec
	store_init_token L "$SO" "$UP"
	run_hsmdesk tokens --json
	serial=$(json_object_with "$HD_OUT" label L |
	    sed -n 's/.*"serial":"\([^"]*\)".*/\1/p')
	rec=$XDG_STATE_HOME/hsmdesk/tokens/$serial.txt
	[[ ! -e $rec ]] || fail "tokens (no token used) wrote $rec"
	check "listing tokens is no use of one: nothing recorded"

	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stderr_empty
	[[ -f $rec ]] || fail "no first-use record $rec"
	[[ -f $rec ]] && expect_mode "$rec" 600
	grep -q '^Key generation  RSA 2048' "$rec" 2>/dev/null ||
	    fail "the record lacks the summary: $(head -3 "$rec" 2>/dev/null)"
	check "first use: the probe's report kept in \$XDG_STATE_HOME/hsmdesk/tokens/SERIAL.txt, quietly off a terminal"

	echo stale >"$rec"
	run_hsmdesk keys --pin env:UP
	expect_status 0
	[[ $(cat "$rec") == stale ]] || fail "the record was rewritten"
	check "second use: not probed again"

	run_hsmdesk keys --pin env:WRONG_UNSET
	rm -f "$rec"
	run_hsmdesk keys --pin env:NOPE
	[[ ! -e $rec ]] || fail "a failed command recorded the token"
	check "a failed command does not probe"
}

# CloudHSM through fakep11: the whole request, accept, sign, verify flow.
t_cloudhsm() {
	local thumb
	store_init_token L "$SO" "$UP"
	need_fakep11
	make_ca
	export HSMDESK_FAKEP11_FAULT=cloudhsm
	run_hsmdesk --module "$HD_FAKEP11" tokens
	expect_status 0
	expect_stdout_match '^L +[0-9a-f]+ +CloudHSM-fake +ready$'
	check "cloudhsm: no CKF_USER_PIN_INITIALIZED, and the token is ready"

	run_hsmdesk --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match "PIN incorrect .*CloudHSM's PIN is the crypto user's name and password as user:password"
	check "cloudhsm: a bare password is refused, and the hint says user:password"

	run_hsmdesk --module "$HD_FAKEP11" probe
	expect_status 0
	expect_stdout_match '^Sessions +read-write only \(as CloudHSM\)'
	expect_stdout_match '^Listing +objects only after login \(as CloudHSM\)'
	expect_stdout_match '^Certificates +! refused by the token: accept keeps them in the local store'
	expect_stdout_match '^PIN +crypto user and password, joined as user:password'
	expect_stdout_match 'user PIN flag not set \(CloudHSM never sets it'
	expect_stdout_match '^Attestation +! .*AWS CloudHSM offers no per-key attestation'
	check "cloudhsm: probe names each quirk"

	run_hsmdesk --module "$HD_FAKEP11" request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ" --label cloud --out cloud.csr --pin env:CUP
	expect_status 0
	timeout 60 openssl req -verify -noout -in cloud.csr >/dev/null 2>&1 ||
	    fail "openssl req -verify rejects cloud.csr"
	expect_no_pin "$UP"
	check "cloudhsm: request with user:password; the CSR verifies"

	issue cloud.csr cloud.pem
	run_hsmdesk --module "$HD_FAKEP11" accept cloud.pem --pin env:CUP
	expect_status 0
	expect_stdout_match "refused the certificate object .*stored in the local store instead"
	check "cloudhsm: accept keeps the certificate in the local store"

	thumb=$(sha1_of cloud.pem)
	run_hsmdesk --module "$HD_FAKEP11" certs
	expect_status 2
	expect_stderr_match '--pin: needed, and there is no terminal to ask on'
	run_hsmdesk --module "$HD_FAKEP11" certs --pin env:CUP
	expect_status 0
	expect_stdout_match "^$thumb .* local +cloud$"
	check "cloudhsm: certs logs in first (nothing is listed before login)"

	printf 'release build\n' >app.bin
	run_hsmdesk --module "$HD_FAKEP11" sign --sha1 "$thumb" --pin env:CUP \
	    app.bin
	expect_status 0
	timeout 60 openssl cms -verify -binary -inform DER -in app.bin.p7s \
	    -content app.bin -CAfile ca/root.pem -purpose any -out /dev/null \
	    </dev/null >/dev/null 2>&1 || fail "openssl cms -verify rejects app.bin.p7s"
	run_hsmdesk verify --CAfile ca/root.pem app.bin
	expect_status 0
	check "cloudhsm: sign through read-write sessions; openssl and verify accept it"

	unset HSMDESK_FAKEP11_FAULT
	write_config 'vendor: cloudhsm'
	run_hsmdesk probe
	expect_status 0
	expect_stdout_match '^PIN +crypto user and password'
	write_config 'vendor: thales'
	run_hsmdesk tokens
	run_hsmdesk probe
	expect_status 2
	expect_stderr_match "vendor 'thales': expected auto, cloudhsm or none"
	check "config.yaml vendor: cloudhsm applies the quirks; a wrong value is refused"
}

t_vendor_errors() {
	store_init_token L "$SO" "$UP"
	need_fakep11
	HSMDESK_FAKEP11_FAULT=login-ckr=2147483655 run_hsmdesk \
	    --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 1
	expect_stderr_one_line
	expect_stderr_match "login: the user is locked out after too many failed logins \(CKR_USER_LOCKED_OUT on Luna\); the partition's security officer must unlock"
	check "Luna's CKR_USER_LOCKED_OUT (0x80000007): named, with what to do"

	HSMDESK_FAKEP11_FAULT=login-ckr=2147483905 run_hsmdesk \
	    --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 1
	expect_stderr_match 'vendor error 0x80000101 \(CKR_VENDOR_DEFINED\); .*quorum \(M of N\)'
	check "an unknown vendor value: its number, and where to look"
}

t_attest() {
	local sum
	store_init_token L "$SO" "$UP"
	need_fakep11
	HSMDESK_FAKEP11_FAULT=attestation run_hsmdesk --module "$HD_FAKEP11" \
	    request --profile codesign-rsa2048 --subject "$SUBJ" --label att \
	    --attest --out att.csr --pin env:UP
	expect_status 0
	expect_stdout_match '^  attestation att.csr.attest \(6[0-9] bytes, SHA-256 [0-9a-f]{64}\)$'
	grep -qx "fakep11 fake attestation: key 'att' was generated on this token" \
	    att.csr.attest 2>/dev/null || fail "att.csr.attest is not the token's blob"
	sum=$(sha256sum att.csr.attest | cut -d' ' -f1)
	grep -q "^  SHA-256             $sum$" att.csr.ceremony.txt ||
	    fail "the ceremony record does not name the attestation's SHA-256"
	grep -q '^  saved as            att.csr.attest$' att.csr.ceremony.txt ||
	    fail "the ceremony record does not name the file"
	timeout 60 openssl req -verify -noout -in att.csr >/dev/null 2>&1 ||
	    fail "openssl req -verify rejects att.csr"
	check "request --attest: the token's attestation beside the CSR and in the ceremony record"

	run_hsmdesk request --profile codesign-rsa2048 --subject "$SUBJ" \
	    --label soft --attest --out soft.csr --pin env:UP
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "token 'L': SoftHSM2 keeps keys in files on this computer: it has no key attestation; .*nothing was created"
	[[ ! -e soft.csr && ! -e soft.csr.attest && ! -e soft.csr.ceremony.txt ]] ||
	    fail "files were left: $(ls soft.csr* 2>&1)"
	run_hsmdesk keys --pin env:UP
	[[ $HD_OUT != *soft* ]] || fail "a key 'soft' was made"
	check "request --attest on SoftHSM2: refused before any key, nothing left"

	HSMDESK_FAKEP11_FAULT=attestation run_hsmdesk --module "$HD_FAKEP11" \
	    request --profile codesign-rsa2048 --subject "$SUBJ" --key soft2 \
	    --attest --out x.csr --pin env:UP
	expect_status 2
	check "request --attest --key with no such key: usage error"
}

t_modules() {
	mkdir -p "$XDG_CONFIG_HOME/pkcs11/modules"
	printf 'module: %s\n' "$SOFTHSM_MODULE" \
	    >"$XDG_CONFIG_HOME/pkcs11/modules/e2e-hsm.module"
	run_hsmdesk modules
	expect_status 0
	expect_stdout_match "^e2e-hsm +$SOFTHSM_MODULE$"
	check "modules lists p11-kit's registered modules, the user's too"

	store_init_token L "$SO" "$UP"
	run_hsmdesk --module e2e-hsm tokens
	expect_status 0
	expect_stdout_match '^L '
	write_config 'module: p11-kit:e2e-hsm'
	run_hsmdesk tokens
	expect_status 0
	expect_stdout_match '^L '
	check "a module named by its p11-kit name, on --module or in config.yaml"

	run_hsmdesk --module no-such-hsm tokens
	expect_status 2
	expect_stderr_match "module 'no-such-hsm': neither a path nor a module p11-kit knows"
	check "an unknown module name: one line saying so"
}

t_run "probe on SoftHSM2 against pkcs11-tool" t_probe_softhsm
t_run "first use of a token" t_first_use
t_run "AWS CloudHSM quirks through fakep11" t_cloudhsm
t_run "vendor return values" t_vendor_errors
t_run "key attestation" t_attest
t_run "p11-kit module names" t_modules
e2e_finish
