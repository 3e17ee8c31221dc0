#!/usr/bin/env bash
#
# Fault injection across the steps (issue 12): every fault of
# tests/fakep11 that the other scripts do not already cover, against every
# step it can reach, driven by one table.  For each cell: the exit status,
# a plain message naming the token, no partial file, no half-made object
# on the token (pkcs11-tool's listing before and after), no PIN on any
# output, and the step works again without the fault (checked with openssl
# and osslsigncode).
#
# Already covered elsewhere, so not repeated here: keygen-* faults,
# key-extractable, setattr-unsupported, ec-point-raw, sign-device-error on
# the CSR (request.sh); cert-refused (cert.sh); the PIN faults and
# device-removed-after on keys and change-pin (cli.sh); no-rsa-pss and
# no-raw-rsa (tests/unit/test_sign_mech.c).
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/faults.sh
#   HSMDESK_FAULTS_FULL=1 ...    every N of the *-after=N sweeps, not a sample
#
# To add a step: a step_NAME function (runs it), a left_NAME (fails if it
# left anything) and an ok_NAME (checks a successful run's output), then
# its name in the table.  To add a fault: a row in FAULT_TABLE.
#
# shellcheck disable=SC2317	# functions are called by name from the table

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'

# ---- the table ------------------------------------------------------------------
# FAULT | STEPS | EXPECT
#   EXPECT  ok            status 0, the output checks out
#           fail:REGEX    status 1, stderr matches REGEX, nothing left
#           sweep:REGEX   FAULT is NAME=N: N over a sample (every N with
#                         HSMDESK_FAULTS_FULL=1) until the step gets
#                         through; each failing N is status 1 (or 2 before
#                         the token is found), stderr matches REGEX and
#                         names token 'L', nothing left
# Timestamp and audit-log steps (issues 10, 11) are still to be added.
ALL_STEPS="login request accept cms batch pe ps1"
SIGN_STEPS="cms batch pe ps1"
LOST='session is no longer valid'
GONE='removed|no longer present|not present'
FAULT_TABLE=(
	"session-invalid-after|$ALL_STEPS|sweep:$LOST"
	"device-removed-after|request accept cms pe ps1|sweep:$GONE"
	"sign-device-error|$SIGN_STEPS|fail:device reported an error|signing .* failed"
	"sign-device-error|login accept|ok"
	"mech-list-empty|$ALL_STEPS|ok"
	"slow-sign=1000|cms pe|ok"
	"slow-findobjectsinit=300|login accept|ok"
)

# ---- fixtures ---------------------------------------------------------------------

ossl() {
	timeout 60 openssl "$@" </dev/null >"$T_DIR/.ossl" 2>&1 ||
	    t_abort "openssl $* failed: $(cat "$T_DIR/.ossl")"
}

sha_of() {	# sha_of sha1|sha256 CERT
	openssl x509 -in "$2" -noout -fingerprint "-$1" | cut -d= -f2 |
	    tr -d :
}

# A PE file, built once per run of this script.
pe_fixture() {
	local pe=$E2E_ROOT/hello.exe
	if [[ ! -f $pe ]]; then
		command -v x86_64-w64-mingw32-gcc >/dev/null ||
		    t_abort "MinGW is not installed (make deps)"
		printf 'int main(void) { return 0; }\n' >"$E2E_ROOT/hello.c"
		timeout 120 x86_64-w64-mingw32-gcc -O2 -o "$pe" \
		    "$E2E_ROOT/hello.c" </dev/null >/dev/null 2>&1 ||
		    t_abort "MinGW build failed"
	fi
	cp "$pe" hello.orig.exe
}

# Token L with key "signer" and its accepted certificate (THUMB), a second
# key "k2" with a certificate not yet accepted (k2.pem), the inputs of the
# steps, and a snapshot of the token and the local store (snap_restore).
ready() {
	store_init_token L "$SO" "$UP"
	mkdir -p ca
	printf '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n[cs]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
	    >ca/ext.cnf
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca/root.key -subj "/CN=Faults Root" -days 30 \
	    -config ca/ext.cnf -extensions ca -out ca/root.pem
	local k
	for k in signer k2; do
		run_hsmdesk request --profile codesign-ecdsa-p256 \
		    --subject "$SUBJ,CN=$k" --label "$k" --out "$k.csr" \
		    --pin env:UP
		((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
		ossl x509 -req -in "$k.csr" -CA ca/root.pem -CAkey ca/root.key \
		    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions cs \
		    -out "$k.pem"
		rm -f "$k.csr" "$k.csr.ceremony.txt"
	done
	cat signer.pem ca/root.pem >bundle.pem
	run_hsmdesk accept bundle.pem --pin env:UP \
	    --trust-root "$(sha_of sha256 ca/root.pem)"
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	THUMB=$(sha_of sha1 signer.pem)
	printf 'one\n' >a.txt
	printf 'two\n' >b.txt
	printf 'three\n' >c.txt
	printf 'Write-Host "hi"\r\n' >s.orig.ps1
	pe_fixture
	mkdir -p snap
	cp -a tokens "$XDG_DATA_HOME" snap/
	objects >snap/objects
}

snap_restore() {
	rm -rf tokens "$XDG_DATA_HOME"
	cp -a snap/tokens .
	cp -a snap/share "$XDG_DATA_HOME"
	rm -f ./*.p7s ./*.p7s.* ./*.tmp* new.csr new.csr.* hello.exe s.ps1
	cp hello.orig.exe hello.exe
	cp s.orig.ps1 s.ps1
}

# Token L's objects as plain SoftHSM2 sees them, one line each.
objects() {
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --login --pin "$UP" --list-objects </dev/null 2>/dev/null |
	    grep -E '^[A-Z][a-z]+ Key Object|^Certificate Object|label:|ID:' |
	    tr -s ' ' | paste -sd ' ' | sed 's/ \(Private\|Public\|Certificate\)/\n\1/g' |
	    sort
}

# Temporary files hsmdesk may have left beside its outputs.
no_temp_files() {
	local t
	t=$(compgen -G '*.??????' | grep -v '^hello\.orig\.exe$') &&
	    fail "temporary files left: $t"
	return 0
}

# ---- steps: step_X runs it, left_X checks a failure left nothing,
# ok_X checks a success ----------------------------------------------------------

step_login() { run_hsmdesk keys --pin env:UP; }
left_login() { :; }
ok_login() { expect_stdout_match '^signer '; }

step_request() {
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=new" --label new --out new.csr --pin env:UP
}
left_request() {
	[[ ! -e new.csr ]] || fail "new.csr written by a failed request"
	[[ ! -e new.csr.ceremony.txt ]] || fail "ceremony record of a failed request"
}
ok_request() {
	openssl req -in new.csr -noout -verify >/dev/null 2>&1 ||
	    fail "openssl req -verify rejects new.csr"
}

step_accept() { run_hsmdesk accept k2.pem --pin env:UP; }
left_accept() { :; }
ok_accept() {
	objects | grep -q '^Certificate Object.*label: k2' ||
	    fail "no certificate 'k2' on the token after accept"
}

step_cms() { run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a.txt; }
left_cms() {
	[[ -z $(compgen -G 'a.txt.p7s*') ]] || fail "output left: $(ls a.txt.p7s*)"
}
cms_verify() {
	openssl cms -verify -binary -inform DER -in "$1.p7s" -content "$1" \
	    -CAfile ca/root.pem -purpose any -out /dev/null >/dev/null 2>&1 ||
	    fail "openssl cms -verify rejects $1.p7s"
}
ok_cms() { cms_verify a.txt; }

step_batch() { run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a.txt b.txt c.txt; }
left_batch() {
	[[ -z $(compgen -G '*.txt.p7s*') ]] ||
	    fail "batch output left: $(ls ./*.txt.p7s*)"
}
ok_batch() { cms_verify a.txt; cms_verify b.txt; cms_verify c.txt; }

step_pe() { run_hsmdesk sign --sha1 "$THUMB" --pin env:UP hello.exe; }
left_pe() { cmp -s hello.exe hello.orig.exe || fail "hello.exe was changed"; }
ok_pe() {
	timeout 120 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in hello.exe </dev/null >/dev/null 2>&1 ||
	    fail "osslsigncode verify rejects hello.exe"
}

step_ps1() { run_hsmdesk sign --sha1 "$THUMB" --pin env:UP s.ps1; }
left_ps1() { cmp -s s.ps1 s.orig.ps1 || fail "s.ps1 was changed"; }
ok_ps1() {
	grep -q '^# SIG # Begin signature block' s.ps1 ||
	    fail "no signature block in s.ps1"
	timeout 120 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in s.ps1 </dev/null >/dev/null 2>&1 ||
	    fail "osslsigncode verify rejects s.ps1"
}

# ---- one cell -------------------------------------------------------------------

# A failed run: nothing written, the token as before -- or, when the
# message names a key pair it could not delete (the session died after
# the key was made), exactly that pair, which delete-key removes after
# recovery.
expect_nothing_left() {	# expect_nothing_left STEP
	local now label
	"left_$1"
	no_temp_files
	now=$(objects)
	[[ $now == "$(<snap/objects)" ]] && return 0
	label=$(sed -n "s/.*delete-key --label \([^ ]*\) --yes.*/\1/p" \
	    <<<"$HD_ERR" | head -n 1)
	if [[ -z $label ]]; then
		fail "the token changed: $(diff snap/objects <(printf '%s\n' "$now") |
		    grep '^[<>]' | head -n 4)"
		return 0
	fi
	unset HSMDESK_FAKEP11_FAULT
	run_hsmdesk delete-key --label "$label" --yes --pin env:UP
	((HD_STATUS == 0)) || fail "delete-key --label $label (as the message says) failed"
	[[ $(objects) == "$(<snap/objects)" ]] ||
	    fail "the token still differs after delete-key --label $label"
}

# The step without the fault, from the snapshot: status 0, output good.
expect_recovery() {	# expect_recovery STEP
	unset HSMDESK_FAKEP11_FAULT
	snap_restore
	"step_$1"
	expect_status 0
	"ok_$1"
}

# FAULT on STEP through fakep11, once.
run_cell() {	# run_cell STEP FAULT
	snap_restore
	export HSMDESK_FAKEP11_FAULT=$2
	HD_TIMEOUT=5 HSMDESK_MODULE=$HD_FAKEP11 "step_$1"
	unset HSMDESK_FAKEP11_FAULT
	expect_no_pin "$UP"
}

cell_ok() {	# cell_ok STEP FAULT
	run_cell "$1" "$2"
	expect_status 0
	"ok_$1"
	check "$2 / $1: works (status 0, output verifies)"
}

cell_fail() {	# cell_fail STEP FAULT REGEX
	run_cell "$1" "$2"
	expect_status 1
	expect_stderr_match "$3"
	expect_stdout_no_match '^OK '
	expect_nothing_left "$1"
	expect_recovery "$1"
	check "$2 / $1: status 1, /$3/, nothing left, works again without it"
}

sweep_points() {
	if [[ -n ${HSMDESK_FAULTS_FULL:-} ]]; then
		seq 0 600
	else
		echo 0 2 6 15 30 50 80 120 170 240 330 450 650
	fi
}

cell_sweep() {	# cell_sweep STEP FAULT REGEX
	local step=$1 fault=$2 re=$3 n tried=() bad=() through=0
	for n in $(sweep_points); do
		run_cell "$step" "$fault=$n"
		tried+=("$n")
		if ((HD_STATUS == 124 || HD_STATUS == 137)) &&
		    [[ $step != login && $step != accept ]]; then
			# libp11 0.4.12 waits forever when its first
			# C_OpenSession fails (OpenSC/libp11#579, fixed
			# upstream): known, reported, not ours to fix
			echo "# known: N=$n: $step hung in libp11 (killed)"
			_FAILS=()
			HD_CMD=
			continue
		fi
		case $HD_STATUS in
		0)	through=1
			"ok_$step"
			break ;;
		1)	grep -Eq -- "$re" <<<"$HD_ERR" ||
			    bad+=("N=$n: does not say /$re/: ${HD_ERR%%$'\n'*}")
			grep -Fq "token 'L'" <<<"$HD_ERR" ||
			    bad+=("N=$n: does not name token 'L'") ;;
		2)	grep -Eq 'no initialized token|no such token' <<<"$HD_ERR" ||
			    bad+=("N=$n: status 2: ${HD_ERR%%$'\n'*}") ;;
		*)	bad+=("N=$n: status $HD_STATUS") ;;
		esac
		expect_stdout_no_match '^OK '
		expect_nothing_left "$step"
		((${#_FAILS[@]} == 0)) || { bad+=("N=$n: see above"); break; }
	done
	((through)) || bad+=("no N of ${tried[*]} let $step through")
	((${#bad[@]} == 0)) || fail "$(printf '%s\n' "${bad[@]}")"
	HD_CMD=
	expect_recovery "$step"
	check "$fault=N / $step (N=${tried[*]}): each failure status 1, /$re/," \
	    "token named, nothing left; then works"
}

t_row() {	# one row of FAULT_TABLE, in ROW
	local fault steps expect step
	IFS='|' read -r fault steps expect <<<"$ROW"
	need_fakep11
	ready
	for step in $steps; do
		case $expect in
		ok)		cell_ok "$step" "$fault" ;;
		fail:*)		cell_fail "$step" "$fault" "${expect#fail:}" ;;
		sweep:*)	cell_sweep "$step" "$fault" "${expect#sweep:}" ;;
		esac
	done
}

for ROW in "${FAULT_TABLE[@]}"; do
	t_run "fault ${ROW%%|*}" t_row
done
e2e_finish
