#!/usr/bin/env bash
#
# End-to-end tests of the migration assistant (migrate plan/run/accept/
# status) and of cut-over signing (sign --sha1 OLD --sha1 NEW): two
# throwaway SoftHSM2 tokens in one store, "old" holding three identities
# (RSA-2048, EC P-256, and an expired EC one) issued by test CA A, their
# new keys' certificates issued by test CA B (made here with openssl).
# Signatures are checked with `openssl cms -verify` against each CA and
# with `osslsigncode verify`; faults (a slow key generation killed, a token
# removed) come from tests/fakep11.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/migrate.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284 UP2=66120931
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'

# ---- fixtures -------------------------------------------------------------------

ossl() {
	timeout 60 openssl "$@" </dev/null >"$T_DIR/.ossl" 2>&1 ||
	    t_abort "openssl $* failed: $(cat "$T_DIR/.ossl")"
}

sha1_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

sha256_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 |
	    tr -d :
}

# A CA in DIR (root and intermediate, EC P-256) that openssl ca can use.
make_ca() {	# make_ca DIR NAME
	mkdir -p "$1/new"
	: >"$1/index.txt"
	echo 1000 >"$1/serial"
	cat >"$1/ext.cnf" <<-EOF
		[ca]
		default_ca = ca_default
		[ca_default]
		database = $1/index.txt
		new_certs_dir = $1/new
		serial = $1/serial
		default_md = sha256
		policy = any
		preserve = yes
		unique_subject = no
		copy_extensions = none
		[any]
		countryName = optional
		stateOrProvinceName = optional
		localityName = optional
		organizationName = optional
		commonName = supplied
		[root]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		[inter]
		basicConstraints = critical, CA:TRUE, pathlen:0
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[codesign]
		basicConstraints = CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = codeSigning
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/root.key" -subj "/O=hsmdesk e2e/CN=$2 Root" \
	    -days 3650 -config "$1/ext.cnf" -extensions root -out "$1/root.pem"
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/inter.key" -subj "/O=hsmdesk e2e/CN=$2 Intermediate" \
	    -out "$1/inter.csr"
	ossl x509 -req -in "$1/inter.csr" -CA "$1/root.pem" \
	    -CAkey "$1/root.key" -CAcreateserial -days 1825 \
	    -extfile "$1/ext.cnf" -extensions inter -out "$1/inter.pem"
}

# CA DIR issues CSR as OUT (a code signing certificate); dates optional.
issue() {	# issue DIR CSR OUT [STARTDATE ENDDATE]
	local dates=(-days 365)
	[[ -n ${4:-} ]] && dates=(-startdate "$4" -enddate "$5")
	ossl ca -batch -notext -config "$1/ext.cnf" -cert "$1/inter.pem" \
	    -keyfile "$1/inter.key" -in "$2" -extensions codesign \
	    -extfile "$1/ext.cnf" "${dates[@]}" -out "$3"
	cat "$3" "$1/inter.pem" "$1/root.pem" >"$3.bundle"
}

# An identity on token "old": key by PROFILE, certificate from CA A.
old_identity() {	# old_identity LABEL PROFILE [STARTDATE ENDDATE]
	run_hsmdesk --token old request --profile "$2" \
	    --subject "$SUBJ,CN=$1" --label "$1" --out "$1.csr" --pin env:UP
	((HD_STATUS == 0)) || t_abort "request $1 failed: $HD_ERR"
	issue caA "$1.csr" "$1.pem" "${@:3}"
	run_hsmdesk --token old accept "$1.pem.bundle" --pin env:UP \
	    --trust-root "$(sha256_of caA/root.pem)"
	((HD_STATUS == 0)) || t_abort "accept $1 failed: $HD_ERR"
}

# Tokens old and new; on old: ec-sign (EC P-256), plus what is asked:
# rsa (RSA-2048), expired (EC, expired in 2021).
ready() {	# ready [rsa] [expired]
	local w
	store_init_token old "$SO" "$UP"
	store_init_token new "$SO" "$UP2"
	make_ca caA "E2E A"
	make_ca caB "E2E B"
	old_identity ec-sign codesign-ecdsa-p256
	for w in "$@"; do
		case $w in
		rsa) old_identity rsa-sign codesign-rsa2048 ;;
		ec2) old_identity ec2-sign codesign-ecdsa-p256 ;;
		expired) old_identity gone-sign codesign-ecdsa-p256 \
		    20200101000000Z 20210101000000Z ;;
		esac
	done
}

# Private keys on token new.
new_keys() {
	run_hsmdesk --token new keys --pin env:UP2 --json
	grep -o '"label":"[^"]*"' <<<"$HD_OUT" | sort
}

plan() {	# plan [more options]
	run_hsmdesk migrate plan --from-token old --to-token new \
	    --from-pin env:UP --out plan.yaml "$@"
}

# The value of KEY in identity NAME's block of plan.yaml.
plan_field() {	# plan_field NAME KEY
	awk -v n="$1" -v k="$2" '
	    /^- name: / { cur = $3 }
	    cur == n && $1 == k ":" { sub(/^[^:]*: */, ""); gsub(/"/, "");
		print; exit }' plan.yaml
}

cms_ok() {	# cms_ok FILE SIG CA
	timeout 60 openssl cms -verify -binary -inform DER -in "$2" \
	    -content "$1" -CAfile "$3" -purpose any -out /dev/null \
	    </dev/null >"$T_DIR/.cms" 2>&1
}

# ---- the whole flow -------------------------------------------------------------

t_full() {
	local ec_new rsa_new ec_old rsa_old f
	ready rsa expired
	# a key pair without a certificate is no identity
	run_hsmdesk --token old request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=lonely" --label lonely --out lonely.csr \
	    --pin env:UP
	ec_old=$(sha1_of ec-sign.pem)
	rsa_old=$(sha1_of rsa-sign.pem)

	plan
	expect_status 0
	expect_stdout_match '^rsa-sign +RSA-2048 +-> RSA-3072 +planned'
	expect_stdout_match 'upgraded: RSA-2048 is below'
	expect_stdout_match '^ec-sign +EC-P256 +-> EC-P256 +planned'
	expect_stdout_match '^gone-sign .* skip '
	expect_stdout_match "^left out: 1 key pair without a certificate \\('lonely'\\)"
	expect_no_pin "$UP"
	[[ $(plan_field rsa-sign sha1) == "$rsa_old" ]] ||
	    fail "plan.yaml: rsa-sign's sha1 is not the old certificate's"
	[[ $(plan_field gone-sign expired) == true ]] ||
	    fail "plan.yaml: gone-sign is not marked expired"
	grep -q 'codeSigning' plan.yaml || fail "plan.yaml: no EKU"
	grep -q '^  CN: "rsa-sign"' plan.yaml.d/rsa-sign.yaml ||
	    fail "the profile lacks the old subject: $(cat plan.yaml.d/rsa-sign.yaml)"
	grep -q 'bits: 3072' plan.yaml.d/rsa-sign.yaml ||
	    fail "the profile is not RSA-3072"
	check "plan: three identities, RSA-2048 -> RSA-3072 flagged, expired skipped"

	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 0
	expect_stdout_match '2 CSRs waiting'
	for f in rsa-sign ec-sign; do
		openssl req -verify -noout -in "plan.yaml.d/$f.csr" \
		    >/dev/null 2>&1 || fail "$f.csr does not verify"
		openssl req -noout -subject -in "plan.yaml.d/$f.csr" |
		    grep -q "CN *= *$f" || fail "$f.csr: not the old subject"
	done
	openssl req -noout -text -in plan.yaml.d/rsa-sign.csr |
	    grep -q '3072 bit' || fail "rsa-sign.csr: not an RSA-3072 key"
	[[ -e plan.yaml.d/gone-sign.csr ]] && fail "a CSR for a skipped identity"
	[[ $(new_keys | grep -c '"label"') == 2 ]] ||
	    fail "token new: expected 2 keys: $(new_keys)"
	check "run: two keys on token new, two CSRs that verify, the old subjects"

	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 0
	[[ $(new_keys | grep -c '"label"') == 2 ]] ||
	    fail "a second run made keys: $(new_keys)"
	check "run again: nothing new on token new"

	for f in rsa-sign ec-sign; do
		issue caB "plan.yaml.d/$f.csr" "$f-new.pem"
		# the plain accept first: the plan learns of it all the same
		[[ $f == ec-sign ]] && run_hsmdesk --token new accept \
		    "$f-new.pem.bundle" --pin env:UP2 \
		    --trust-root "$(sha256_of caB/root.pem)"
		run_hsmdesk migrate accept plan.yaml "$f-new.pem.bundle" \
		    --to-pin env:UP2 --trust-root "$(sha256_of caB/root.pem)"
		expect_status 0
		expect_stdout_match "^$f: done; new certificate $(sha1_of "$f-new.pem")"
	done
	check "migrate accept: both identities done (one accepted before)"
	ec_new=$(sha1_of ec-sign-new.pem)
	rsa_new=$(sha1_of rsa-sign-new.pem)

	run_hsmdesk migrate accept plan.yaml ec-sign.pem.bundle --to-pin env:UP2
	expect_status 2
	expect_stderr_one_line
	check "migrate accept: a certificate for no key of the plan is refused"

	run_hsmdesk migrate status plan.yaml --out partners
	expect_status 0
	expect_stdout_match '2 of 3 done, 1 skipped, 0 to go'
	expect_stdout_match "sign --sha1 $rsa_old --sha1 $rsa_new"
	openssl verify -CAfile caB/root.pem -untrusted partners/ec-sign-chain.pem \
	    partners/ec-sign-chain.pem >/dev/null 2>&1 ||
	    fail "partners/ec-sign-chain.pem does not verify against CA B"
	[[ $(grep -c 'BEGIN CERT' partners/rsa-sign-chain.pem) == 3 ]] ||
	    fail "the bundle is not leaf, intermediate, root"
	check "status: all done, bundles with the chain for partners"

	write_config $'token: old\ntoken2: new\n'
	echo "release notes" >notes.txt
	run_hsmdesk sign --sha1 "$ec_old" --sha1 "$ec_new" --pin env:UP \
	    --pin env:UP2 --chain notes.txt
	expect_status 0
	expect_no_pin "$UP2"
	cms_ok notes.txt notes.txt.p7s caA/root.pem ||
	    fail "notes.txt.p7s does not verify against CA A: $(cat .cms)"
	cms_ok notes.txt "notes.txt.${ec_new:0:8}.p7s" caB/root.pem ||
	    fail "the second .p7s does not verify against CA B: $(cat .cms)"
	cms_ok notes.txt notes.txt.p7s caB/root.pem &&
	    fail "notes.txt.p7s verifies against CA B: not the old signer"
	check "dual CMS: FILE.p7s for the old chain, FILE.<sha1>.p7s for the new"

	# one audit record per signer, each naming its own output, then a
	# checkpoint by each signer's key
	local log=$XDG_STATE_HOME/hsmdesk/audit.log rec
	for k in "$ec_old:notes.txt.p7s" \
	    "$ec_new:notes.txt.${ec_new:0:8}.p7s"; do
		rec=$(grep -F "\"cert_sha1\":\"${k%%:*}\"" "$log" |
		    grep -F '"kind":"sign"' | grep -F "/${k#*:}\"") ||
		    fail "no audit record by ${k%%:*} for ${k#*:}"
		grep -Fq '"result":"ok"' <<<"$rec" ||
		    fail "the record is not ok: $rec"
	done
	[[ $(grep -c '"kind":"checkpoint"' "$log") -ge 2 ]] ||
	    fail "not a checkpoint per signer: $(cat "$log")"
	cat caA/root.pem caB/root.pem >roots.pem
	run_hsmdesk audit verify --CAfile roots.pem
	expect_status 0
	check "dual CMS: each signature recorded in the audit log, which verifies"

	t_dual_pe "$rsa_old" "$rsa_new"
}

# An Authenticode PE: primary old signer, nested new one.
t_dual_pe() {
	if ! command -v x86_64-w64-mingw32-gcc >/dev/null ||
	    ! command -v osslsigncode >/dev/null; then
		t_abort "MinGW or osslsigncode not installed (make deps)"
	fi
	printf 'int main(void) { return 0; }\n' >hello.c
	timeout 120 x86_64-w64-mingw32-gcc -O2 -o hello.exe hello.c \
	    </dev/null >/dev/null 2>&1 || t_abort "MinGW build failed"
	run_hsmdesk sign --sha1 "$1" --sha1 "$2" --pin env:UP --pin env:UP2 \
	    hello.exe
	expect_status 0
	expect_stdout_match '2 signatures'
	cat caA/root.pem caB/root.pem >roots.pem
	timeout 60 osslsigncode verify -CAfile roots.pem -ignore-cdp \
	    -in hello.exe </dev/null >osc.txt 2>&1 ||
	    fail "osslsigncode verify: $(tail -5 osc.txt)"
	grep -q 'Number of verified signatures: 2' osc.txt ||
	    fail "not two signatures: $(cat osc.txt)"
	# the primary is the old signer (CN=rsa-sign by CA A)
	awk '/Signature Index: 0/,/Signature Index: 1/' osc.txt |
	    grep -q 'E2E A Intermediate' || fail "the primary is not CA A's"
	check "dual Authenticode: old signer primary, new nested; osslsigncode verifies"

	printf 'Write-Output "hello"\r\n' >hello.ps1
	chmod 640 hello.ps1
	run_hsmdesk sign --sha1 "$1" --sha1 "$2" --pin env:UP --pin env:UP2 \
	    hello.ps1
	expect_status 0
	timeout 60 osslsigncode verify -CAfile roots.pem -ignore-cdp \
	    -in hello.ps1 </dev/null >osc.txt 2>&1 ||
	    fail "osslsigncode verify hello.ps1: $(tail -5 osc.txt)"
	grep -q 'Number of verified signatures: 2' osc.txt ||
	    fail "hello.ps1: not two signatures: $(cat osc.txt)"
	[[ $(stat -c %a hello.ps1) == 640 ]] || fail "hello.ps1 lost its mode"
	compgen -G '.hsmdesk-dual-*' >/dev/null && fail "a temp file was left"
	check "dual Authenticode on a PowerShell script; mode kept, no temp file"
}

# ---- stop and resume -------------------------------------------------------------

# hsmdesk migrate run in the background; its pid in RUN_PID.
run_bg() {
	"$HD_BIN" migrate run plan.yaml --to-pin env:UP2 </dev/null \
	    >"$T_DIR/.stdout" 2>"$T_DIR/.stderr" &
	RUN_PID=$!
}

wait_mark() {
	local i
	for ((i = 0; i < 400; i++)); do
		[[ -e $T_DIR/mark ]] && return 0
		sleep 0.05
	done
	fail "the key generation never started"
	return 1
}

# Killed (SIGKILL, no chance to clean up) while the token makes the
# second identity's key: the resumed run adopts that key, makes no other.
t_resume() {
	local id
	need_fakep11
	ready ec2
	# both through fakep11: a second module over the same SoftHSM2 would
	# find it initialized already, which fakep11 does not take
	plan --to-module "$HD_FAKEP11" --from-module "$HD_FAKEP11"
	((HD_STATUS == 0)) || t_abort "plan failed: $HD_ERR"
	export HSMDESK_FAKEP11_FAULT=slow-keygen=1500
	export HSMDESK_FAKEP11_MARK=$T_DIR/mark
	run_bg
	wait_mark && rm -f "$T_DIR/mark" && wait_mark
	kill -KILL "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	unset HSMDESK_FAKEP11_FAULT HSMDESK_FAKEP11_MARK
	cp plan.yaml plan.killed
	run_hsmdesk migrate status plan.yaml
	expect_status 0
	expect_stdout_match '^ec-sign .* csr-written '
	expect_stdout_match '^ec2-sign .* generating '
	[[ $(new_keys | grep -c '"label"') == 2 ]] ||
	    fail "token new: expected 2 keys after the kill: $(new_keys)"
	run_hsmdesk migrate status plan.yaml --json
	expect_status 0
	expect_json_array
	expect_json_fields "$(json_object_with "$HD_OUT" name ec2-sign)" \
	    '"state":"generating"' '"action":"migrate"' '"new_key":"EC-P256"'
	check "killed mid-run: the plan reads, one CSR written, one key in generation"

	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 0
	expect_stdout_match '^ec2-sign +csr-written'
	[[ $(new_keys | grep -c '"label"') == 2 ]] ||
	    fail "token new: the resume made another key: $(new_keys)"
	id=$(plan_field ec2-sign new_key_id)
	run_hsmdesk --token new keys --pin env:UP2
	grep -q "$id" <<<"$HD_OUT" ||
	    fail "new_key_id $id is not the key on the token: $HD_OUT"
	openssl req -verify -noout -in plan.yaml.d/ec2-sign.csr >/dev/null \
	    2>&1 || fail "ec2-sign.csr does not verify"
	[[ -e plan.yaml.d/ec-sign.csr ]] || fail "ec-sign.csr is gone"
	check "resume: the interrupted key adopted, no second one, its CSR written"
}

# ---- bad input ------------------------------------------------------------------

t_bad_plan() {
	ready
	plan
	((HD_STATUS == 0)) || t_abort "plan failed: $HD_ERR"
	cp plan.yaml plan.orig

	sed 's/^  state: planned/  state: halfway/' plan.orig >plan.yaml
	cp plan.yaml plan.edited
	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match "plan.yaml:[0-9]+:[0-9]+: 'state': 'halfway'"
	cmp -s plan.yaml plan.edited || fail "the refused plan was rewritten"
	[[ -z $(new_keys) ]] || fail "keys made from a bad plan: $(new_keys)"
	check "a nonsense state: status 2, file:line:col, the plan untouched"

	printf 'version: 1\nidentities: [\n' >plan.yaml
	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 2
	expect_stderr_match 'plan.yaml:'
	sed 's/^  state: planned/  state: key-made/' plan.orig >plan.yaml
	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 2
	expect_stderr_match "state says the key is made, but 'new_key_id'"
	sed 's/^  action: migrate/  acton: migrate/' plan.orig >plan.yaml
	run_hsmdesk migrate status plan.yaml
	expect_status 2
	expect_stderr_match "unknown key 'acton'"
	run_hsmdesk migrate status nosuch.yaml
	expect_status 2
	expect_stderr_match "plan 'nosuch.yaml': no such file"
	run_hsmdesk keys --from-token old --pin env:UP
	expect_status 2
	expect_stderr_match 'keys: --from-\* and --to-\* are options of migrate'
	run_hsmdesk certs --sha1 AB --sha1 CD
	expect_status 2
	expect_stderr_match 'two of each are for sign'
	check "broken YAML, inconsistent states, typos, no file, misplaced options: status 2, one line"

	cp plan.orig plan.yaml
	store_init_token other "$SO" "$UP2"
	run_hsmdesk migrate run plan.yaml --to-token other --to-pin env:UP2
	expect_status 2
	expect_stderr_match "plan 'plan.yaml' is for to token 'new'"
	cmp -s plan.yaml plan.orig || fail "the plan was rewritten"
	check "a plan for other tokens: status 2, names both, plan untouched"

	run_hsmdesk --token new request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=squatter" --label ec-sign-new --out sq.csr \
	    --pin env:UP2
	((HD_STATUS == 0)) || t_abort "request failed: $HD_ERR"
	run_hsmdesk migrate run plan.yaml --to-pin env:UP2
	expect_status 2
	expect_stderr_match "identity 'ec-sign': token 'new' has a key labelled 'ec-sign-new' already; not making another"
	[[ $(new_keys | grep -c '"label"') == 1 ]] ||
	    fail "token new: a key was added: $(new_keys)"
	[[ $(plan_field ec-sign state) == planned ]] ||
	    fail "the identity's state moved: $(plan_field ec-sign state)"
	check "the new key exists already: status 2, nothing made, state kept"
}

# The old token goes away at call N of its module: every N until the
# run gets through must leave a plan that reads and no duplicate key, and
# some N must stop it after the first identity.
t_old_removed() {
	local n mid=0 rc
	need_fakep11
	ready ec2
	plan
	((HD_STATUS == 0)) || t_abort "plan failed: $HD_ERR"
	for ((n = 5; n < 400; n += 5)); do
		HSMDESK_FAKEP11_FAULT=device-removed-after=$n \
		    run_hsmdesk migrate run plan.yaml --from-module \
		    "$HD_FAKEP11" --to-pin env:UP2
		rc=$HD_STATUS
		if ((rc != 0)); then
			# 2: not found at the start, 1: gone during the run
			((rc == 1 || rc == 2)) || fail "N=$n: status $rc"
			expect_stderr_one_line
			grep -Eq "token '(old|pkcs11:serial=[0-9a-f]+)'" \
			    <<<"$HD_ERR" ||
			    fail "N=$n: the error does not name the old token"
		fi
		[[ $(plan_field ec-sign state) == csr-written &&
		    $(plan_field ec2-sign state) == planned ]] &&
		    ((rc == 1)) && mid=1
		run_hsmdesk migrate status plan.yaml
		((HD_STATUS == 0)) || fail "N=$n: the plan does not read: $HD_ERR"
		(($(new_keys | grep -c '"label"') <= 2)) ||
		    fail "N=$n: more keys than identities: $(new_keys)"
		((rc == 0)) && break
	done
	((mid)) || fail "no N stopped the run between the two identities"
	[[ $(plan_field ec2-sign state) == csr-written ]] ||
	    fail "the run never got through"
	[[ $(new_keys | grep -c '"label"') == 2 ]] ||
	    fail "token new: not one key per identity: $(new_keys)"
	check "old token removed mid-run: status 1, plan intact, resumed without duplicates"
}

t_run "plan, run, accept, status, dual sign" t_full
t_run "resume after a kill" t_resume
t_run "bad plans" t_bad_plan
t_run "old token removed" t_old_removed
e2e_finish
