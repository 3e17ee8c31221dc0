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
#   HSMDESK_FAULTS_ONLY=REGEX ... only the tests whose names match
#
# To add a step: a step_NAME function (runs it), a left_NAME (fails if it
# left anything) and an ok_NAME (checks a successful run's output), then
# its name in the table.  To add a fault: a row in FAULT_TABLE.
#
# shellcheck disable=SC2317,SC2119	# called by name; tui_start takes no args here

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
#           refuse:REGEX  status 2, stderr matches REGEX, nothing signed,
#                         nothing recorded, nothing left
#           unrecorded:REGEX  (Authenticode) status 1, stderr matches
#                         REGEX, the file signed in place and named as
#                         NOT recorded, the log as it was
#           nockpt:REGEX  status 0, the output verifies, stderr warns
#                         /REGEX/: the records are in the log, no
#                         checkpoint; the next run's checkpoint covers
#                         them (audit verify: intact)
#   Every signing step's failure (fail:) also leaves a record per file
#   saying "failed: ..." (naming the TSA for a TSA fault; the TSA not
#   asked when the token failed first) -- with log=full, no record and
#   the .p7s removed -- and no run puts the PIN in the audit log.  At the
#   end of each row the whole log verifies.
#   FAULT is a fakep11 fault list; these items are not fakep11's:
#           tsa=MODE      the timestamped steps (tcms tbatch tpe) ask the
#                         local TSA's MODE (tests/tsa/tsa_server.c; slow
#                         with --tr-timeout 1), else its good one
#           log=ro        the audit log's directory is read-only
#           log=full      the audit log cannot grow: a file size limit
#                         (its size) set on hsmdesk while the token signs
ALL_STEPS="login request accept cms batch pe ps1"
SIGN_STEPS="cms batch pe ps1"
TS_STEPS="tcms tbatch tpe"
LOST='session is no longer valid'
GONE='removed|no longer present|not present'
TSAFAIL='no timestamp: http://127\.0\.0\.1:[0-9]+/tsa: '
NOCKPT="records written, but no checkpoint: key 'signer' on token 'L': signing the audit checkpoint failed"
FAULT_TABLE=(
	"session-invalid-after|$ALL_STEPS|sweep:$LOST"
	"device-removed-after|request ${HSMDESK_FAULTS_FULL:+accept cms }pe${HSMDESK_FAULTS_FULL:+ ps1}|sweep:$GONE"
	"sign-device-error|$SIGN_STEPS|fail:device reported an error|signing .* failed"
	"sign-device-error|login accept|ok"
	"mech-list-empty|$ALL_STEPS|ok"
	"slow-sign=1000|cms pe|ok"
	"slow-opensession=300|login accept|ok"
	# timestamps (issue 10)
	"tsa=down|$TS_STEPS|fail:${TSAFAIL}connection refused \\(3 attempts\\)"
	"tsa=http500|tbatch|fail:${TSAFAIL}HTTP status 500 \\(3 attempts\\)"
	"tsa=garbage|$TS_STEPS|fail:${TSAFAIL}bad response"
	"tsa=nonce|$TS_STEPS|fail:${TSAFAIL}wrong nonce"
	"tsa=noeku|$TS_STEPS|fail:${TSAFAIL}.*not for timestamping"
	"tsa=slow|tcms|fail:${TSAFAIL}no answer within 1 s \\(timeout\\) \\(3 attempts\\)"
	"tsa=good,sign-device-error|$TS_STEPS|fail:device reported an error|signing .* failed"
	"tsa=http500,sign-device-error|tpe|fail:device reported an error|signing .* failed"
	"tsa=good,session-invalid-after|tcms tpe|sweep:$LOST"
	# the audit log (issue 11)
	"log=ro|cms batch pe|refuse:audit log .*: cannot append to it: (Read-only file system|Permission denied); signing refused"
	"log=full|cms batch|fail:audit log .*: writing [0-9]+ bytes: File too large"
	"log=full|pe ps1|unrecorded:audit log .*: writing [0-9]+ bytes: File too large"
	"sign-device-error-after=1|cms pe tcms tpe|nockpt:$NOCKPT"
	"sign-device-error-after=3|batch|nockpt:$NOCKPT"
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

# A PE file, built once per run of this script; stripped (15 KiB), so
# that a few records make the audit log longer than it (log=full).
pe_fixture() {
	local pe=$E2E_ROOT/hello.exe
	if [[ ! -f $pe ]]; then
		command -v x86_64-w64-mingw32-gcc >/dev/null ||
		    t_abort "MinGW is not installed (make deps)"
		printf 'int main(void) { return 0; }\n' >"$E2E_ROOT/hello.c"
		timeout 120 x86_64-w64-mingw32-gcc -O2 -s -o "$pe" \
		    "$E2E_ROOT/hello.c" </dev/null >/dev/null 2>&1 ||
		    t_abort "MinGW build failed"
	fi
	cp "$pe" hello.orig.exe
}

# Token L with key "signer" and its accepted certificate (THUMB), a second
# key "k2" with a certificate not yet accepted (k2.pem), the inputs of the
# steps, and a snapshot of the token and the local store (snap_restore).
ready() {
	local fx=$E2E_ROOT/fixture
	if [[ -d $fx ]]; then	# made once per run of the script: copied
		cp -a "$fx/." . || t_abort "cannot copy the fixture"
		# SoftHSM2's token directory is named by absolute path
		printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		    "$T_DIR" >softhsm2.conf
		THUMB=$(<thumb)
		return 0
	fi
	make_fixture
	mkdir -p "$fx"
	cp -a . "$fx/" || t_abort "cannot save the fixture"
}

make_fixture() {
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
	echo "$THUMB" >thumb
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

# Token L's key and certificate objects as plain SoftHSM2 sees them, one
# line each (not the audit log's witness, a data object each checkpoint
# updates).
objects() {
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" --token-label L \
	    --login --pin "$UP" --list-objects </dev/null 2>/dev/null |
	    awk '/^[^ \t]/ { keep = /^[A-Z][a-z]+ Key Object|^Certificate Object/ }
	        keep' |
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

# Timestamped: --tr the local TSA's behaviour TSA_MODE (run_cell sets it
# from the fault's tsa=MODE), the slow one with a 1 s timeout.
tr_args() {
	local m=${TSA_MODE:-good}
	TR=(--tr "$(tsa_url "$m")" --tr-timeout "$([[ $m == slow ]] && echo 1 || echo 10)")
}
step_tcms() { tr_args; run_hsmdesk sign --sha1 "$THUMB" --pin env:UP "${TR[@]}" a.txt; }
left_tcms() { left_cms; }
ok_tcms() {
	expect_stdout_count 1 "\[timestamp .* from $(tsa_url good)\]$"
	cms_verify a.txt
	ts_ok a.txt.p7s
}

step_tbatch() {
	tr_args
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP "${TR[@]}" a.txt b.txt c.txt
}
left_tbatch() { left_batch; }
ok_tbatch() {
	expect_stdout_count 3 "\[timestamp .* from $(tsa_url good)\]$"
	ok_batch
	ts_ok c.txt.p7s
}

step_tpe() { tr_args; run_hsmdesk sign --sha1 "$THUMB" --pin env:UP "${TR[@]}" hello.exe; }
left_tpe() { left_pe; }
ok_tpe() {
	expect_stdout_count 1 "\[timestamp .* from $(tsa_url good)\]$"
	timeout 120 osslsigncode verify -CAfile ca/root.pem -TSA-CAfile \
	    tsa/ca.pem -ignore-cdp -in hello.exe </dev/null >"$T_DIR/.osc" 2>&1 ||
	    fail "osslsigncode verify rejects hello.exe: $(tail -5 "$T_DIR/.osc")"
	grep -qi 'Timestamp Server Signature verification: ok' "$T_DIR/.osc" ||
	    fail "osslsigncode: no good timestamp on hello.exe"
}

# The files a signing step signs (none: not a signing step).
inputs_of() {
	case $1 in
	cms|tcms)	echo a.txt ;;
	batch|tbatch)	echo a.txt b.txt c.txt ;;
	pe|tpe)		echo hello.exe ;;
	ps1)		echo s.ps1 ;;
	esac
}

# ---- the audit log ---------------------------------------------------------------

LOG=home/.local/state/hsmdesk/audit.log

log_lines() { if [[ -f $LOG ]]; then wc -l <"$LOG"; else echo 0; fi; }

# The log's lines the last run added (run_cell counted them before).
new_lines() { tail -n "+$((LOG_N0 + 1))" "$LOG" 2>/dev/null; }

# Each input of STEP has a record of the last run that says
# "failed: ...REGEX...".
expect_failed_records() {	# expect_failed_records STEP [REGEX]
	local f rec
	for f in $(inputs_of "$1"); do
		rec=$(new_lines | grep -F "\"file\":\"$T_DIR/$f\"" | tail -n 1)
		if [[ -z $rec ]]; then
			fail "no audit record of $f"
		elif ! grep -Eq "\"result\":\"failed: [^\"]*(${2:-})" <<<"$rec"; then
			fail "the audit record of $f does not say failed${2:+ (/$2/)}: $rec"
		fi
	done
}

# audit verify on the whole log: intact, its last line a checkpoint.
expect_log_intact() {
	[[ -f $LOG ]] || return 0
	unset HSMDESK_FAKEP11_FAULT
	run_hsmdesk audit verify --CAfile ca/root.pem --pin env:UP
	expect_status 0
	expect_stdout_match '^result: intact'
	expect_stdout_match "^last valid checkpoint: line $(log_lines),"
	expect_no_pin "$UP"
}

# The file size limit on the running hsmdesk once fakep11's mark shows
# that the token is signing (SoftHSM2 cannot start under a small one):
# the child of the timeout(1) that HD_WRAP recorded.
fsize_watch() {	# fsize_watch BYTES, in the background
	local i w pid
	for ((i = 0; i < 800; i++)); do
		[[ -e $T_DIR/mark && -s $T_DIR/wrap.pid ]] && break
		sleep 0.025
	done
	w=$(<"$T_DIR/wrap.pid")
	pid=$(cat "/proc/$w/task/$w/children" 2>/dev/null)
	[[ -n $pid ]] && prlimit --pid "${pid%% *}" --fsize="$1:$1"
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
	TSA_MODE=good
	snap_restore
	"step_$1"
	expect_status 0
	"ok_$1"
	expect_file_no_pin "$UP" "$LOG"
}

# hsmdesk with the audit log's directory read-only: a read-only bind
# mount in a private mount namespace when root (root writes through
# modes), else mode 0555 (run_cell restores it).
ro_log() {
	local d=$T_DIR/${LOG%/*}
	mkdir -p "$d"
	chmod 700 "$d"
	if ((EUID == 0)) && unshare -m true 2>/dev/null; then
		# shellcheck disable=SC2016	# for that sh
		HD_WRAP=(unshare -m sh -c 'mount --bind "$0" "$0" &&
		    mount -o remount,ro,bind "$0" "$0" && exec "$@"' "$d")
	else
		chmod 555 "$d"
		[[ -f $LOG ]] && chmod 444 "$LOG"
	fi
}

# Enough records in the log that it is longer than any output of the
# steps (for log=full: the limit is the log's size).
grow_log() {	# grow_log BYTES
	local i
	mkdir -p grow
	while (($(stat -c %s "$LOG" 2>/dev/null || echo 0) < $1)); do
		for i in $(seq 24); do echo "$i" >"grow/$i.txt"; done
		HD_CMD=
		"$HD_BIN" sign --sha1 "$THUMB" --pin env:UP grow/*.txt \
		    </dev/null >/dev/null 2>&1 || t_abort "sign grow/*.txt failed"
		rm -f grow/*.p7s
	done
}

# FAULT on STEP through fakep11, once.  Sets LOG_N0 (the log's lines
# before), TSA_MODE and TSA_N0 (its requests before).
run_cell() {	# run_cell STEP FAULT
	local item p11=() full=0 secs=5 watch=
	snap_restore
	TSA_MODE=good
	for item in ${2//,/ }; do
		case $item in
		tsa=good)	;;
		tsa=*)		TSA_MODE=${item#tsa=}; secs=20 ;;
		log=ro)		ro_log ;;
		log=full)	full=1; p11+=(slow-sign=400) ;;
		*)		p11+=("$item") ;;
		esac
	done
	if ((full)); then
		grow_log $(($(stat -c %s hello.orig.exe) + 8192))
		rm -f "$T_DIR/mark" "$T_DIR/wrap.pid"
		export HSMDESK_FAKEP11_MARK=$T_DIR/mark
		# shellcheck disable=SC2016	# for that sh
		HD_WRAP=(sh -c 'echo $$ >"$0"; exec "$@"' "$T_DIR/wrap.pid")
		fsize_watch "$(stat -c %s "$LOG")" &
		watch=$!
	fi
	LOG_N0=$(log_lines)
	TSA_N0=$(tsa_requests "$TSA_MODE")
	echo "$1" >>"$E2E_ROOT/faulted"	# for the figures at the end
	HSMDESK_FAKEP11_FAULT=$(IFS=,; echo "${p11[*]}")
	export HSMDESK_FAKEP11_FAULT
	HD_TIMEOUT=$secs HSMDESK_MODULE=$HD_FAKEP11 "step_$1"
	unset HSMDESK_FAKEP11_FAULT HSMDESK_FAKEP11_MARK
	HD_WRAP=()
	[[ -n $watch ]] && wait "$watch"
	chmod -f 700 "$T_DIR/${LOG%/*}"
	chmod -f 600 "$LOG"
	expect_no_pin "$UP"
	expect_file_no_pin "$UP" "$LOG"
}

cell_ok() {	# cell_ok STEP FAULT
	run_cell "$1" "$2"
	expect_status 0
	"ok_$1"
	check "$2 / $1: works (status 0, output verifies)"
}

cell_fail() {	# cell_fail STEP FAULT REGEX
	local what=
	run_cell "$1" "$2"
	expect_status 1
	expect_stderr_match "$3"
	expect_stdout_no_match '^OK '
	if [[ $2 == *log=full* ]]; then
		[[ $(log_lines) == "$LOG_N0" ]] || fail "the log changed"
		[[ $1 == *cms || $1 == *batch ]] && expect_stdout_match \
		    "^FAILED  cms +a.txt: signature removed .*a.txt.p7s: it could not be recorded in the audit log"
		what=", nothing recorded"
	elif [[ -n $(inputs_of "$1") ]]; then
		expect_failed_records "$1" "$3"
		what=", recorded as failed"
	fi
	if [[ $2 == tsa=*,* ]]; then	# the token failed before the TSA
		[[ $(tsa_requests "$TSA_MODE") == "$TSA_N0" ]] ||
		    fail "the TSA was asked although the token failed"
		what+=", the TSA not asked"
	fi
	expect_nothing_left "$1"
	expect_recovery "$1"
	check "$2 / $1: status 1, /$3/, nothing left$what, works again without it"
}

cell_refuse() {	# cell_refuse STEP FAULT REGEX
	run_cell "$1" "$2"
	expect_status 2
	expect_stderr_match "$3"
	expect_stderr_one_line
	expect_stdout_no_match '^OK '
	[[ $(log_lines) == "$LOG_N0" ]] || fail "the log changed"
	expect_nothing_left "$1"
	expect_recovery "$1"
	check "$2 / $1: refused (status 2), /$3/, nothing signed or recorded, works again without it"
}

# An Authenticode file signed in place whose record cannot be written.
cell_unrecorded() {	# cell_unrecorded STEP FAULT REGEX
	local f
	f=$(inputs_of "$1")
	run_cell "$1" "$2"
	expect_status 1
	expect_stderr_match "$3"
	expect_stdout_match "^FAILED  authenticode $f: signed in place, but NOT recorded in the audit log"
	"ok_$1"		# it is signed: the message must say so
	[[ $(log_lines) == "$LOG_N0" ]] || fail "the log changed"
	no_temp_files
	expect_recovery "$1"
	expect_log_intact
	check "$2 / $1: status 1, /$3/, $f named as signed but NOT recorded, the log as it was; works again"
}

# The records are written, the checkpoint cannot be signed.
cell_nockpt() {	# cell_nockpt STEP FAULT REGEX
	local n new
	n=$(wc -w <<<"$(inputs_of "$1")")
	run_cell "$1" "$2"
	expect_status 0
	expect_stderr_match "$3"
	"ok_$1"
	new=$(new_lines)
	[[ $(grep -c '"kind":"sign",.*"result":"ok"}$' <<<"$new") == "$n" &&
	    $(grep -c . <<<"$new") == "$n" ]] ||
	    fail "expected $n ok records and no checkpoint, got: $new"
	expect_recovery "$1"
	expect_log_intact
	check "$2 / $1: status 0, the output verifies, its records written, /$3/; the next run's checkpoint covers them (intact)"
}

# make check: a few points spread over each step's calls (enough to land
# before the login, in the token's work and after it); FULL: every N.
sweep_points() {
	if [[ -n ${HSMDESK_FAULTS_FULL:-} ]]; then
		seq 0 600
	else
		echo 3 28 70 130 400
	fi
}

# Each N from sweep_points until the step gets through (status 0, stderr
# clean).  A signing step gets through in two stages: its files signed,
# then the audit checkpoint and the witness on the token, which fail with
# a warning (status 0: the signatures stand, and are recorded).  When
# the sample leaps over that window, N is bisected between the last
# failure and the first clean run until it lands in it; in the window,
# every third N (every N when FULL) until a clean run, each warning
# saying the session went.
cell_sweep() {	# cell_sweep STEP FAULT REGEX
	local step=$1 fault=$2 re=$3 n tried=() bad=() through=0 pts i=0
	local last=-1 hi=0 win=0 extra=0 signs stride=3
	[[ -n ${HSMDESK_FAULTS_FULL:-} ]] && stride=1
	signs=$(inputs_of "$step")
	read -ra pts <<<"$(sweep_points | tr '\n' ' ')"
	while ((i < ${#pts[@]})); do
		n=${pts[i]}
		i=$((i + 1))
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
		0)	"ok_$step"
			if [[ -n $HD_ERR ]]; then
				win=1
				grep -Eq -- "$re" <<<"$HD_ERR" ||
				    bad+=("N=$n: status 0, but stderr does not say /$re/: ${HD_ERR%%$'\n'*}")
				grep -Fq "token 'L'" <<<"$HD_ERR" ||
				    bad+=("N=$n: status 0, stderr does not name token 'L'")
				[[ ${pts[i]:-} != $((n + 1)) ]] && ((extra++ < 60)) &&
				    pts=("${pts[@]:0:i}" $((n + stride)) "${pts[@]:i}")
				continue
			fi
			if [[ -n $signs ]] && ((!win && last + 1 < n &&
			    extra++ < 60)); then
				hi=$n
				pts=("${pts[@]:0:i}" $(((last + n) / 2)) "${pts[@]:i}")
				continue
			fi
			through=1
			break ;;
		1)	grep -Eq -- "$re" <<<"$HD_ERR" ||
			    bad+=("N=$n: does not say /$re/: ${HD_ERR%%$'\n'*}")
			grep -Fq "token 'L'" <<<"$HD_ERR" ||
			    bad+=("N=$n: does not name token 'L'") ;;
		2)	grep -Eq 'no initialized token|no such token' <<<"$HD_ERR" ||
			    bad+=("N=$n: status 2: ${HD_ERR%%$'\n'*}") ;;
		*)	bad+=("N=$n: status $HD_STATUS") ;;
		esac
		last=$n
		expect_stdout_no_match '^OK '
		expect_nothing_left "$step"
		((${#_FAILS[@]} == 0)) || { bad+=("N=$n: see above"); break; }
		if ((hi > 0 && !win)); then	# bisecting
			if ((n + 1 < hi)); then
				pts=("${pts[@]:0:i}" $(((n + hi) / 2)) "${pts[@]:i}")
			else
				through=1	# no window: hi got through clean
				break
			fi
		fi
	done
	((through)) || bad+=("no N of ${tried[*]} let $step through")
	((${#bad[@]} == 0)) || fail "$(printf '%s\n' "${bad[@]}")"
	HD_CMD=
	expect_recovery "$step"
	check "$fault=N / $step (N=${tried[*]}): each failure status 1, /$re/," \
	    "token named, nothing left; each warning (audit checkpoint," \
	    "witness) says so too; then works"
}

t_row() {	# one row of FAULT_TABLE, in ROW
	local fault steps expect step
	IFS='|' read -r fault steps expect <<<"$ROW"
	need_fakep11
	ready
	[[ " $steps " == *" t"[a-z]* ]] && tsa_start
	for step in $steps; do
		case $expect in
		ok)		cell_ok "$step" "$fault" ;;
		fail:*)		cell_fail "$step" "$fault" "${expect#fail:}" ;;
		sweep:*)	cell_sweep "$step" "$fault" "${expect#sweep:}" ;;
		refuse:*)	cell_refuse "$step" "$fault" "${expect#refuse:}" ;;
		unrecorded:*)	cell_unrecorded "$step" "$fault" "${expect#unrecorded:}" ;;
		nockpt:*)	cell_nockpt "$step" "$fault" "${expect#nockpt:}" ;;
		esac
	done
	if [[ -f $LOG ]]; then
		expect_log_intact
		check "$fault: the audit log of the row verifies (intact, a checkpoint last)"
	fi
}


# ---- files ------------------------------------------------------------------------

# hsmdesk ARGS in the background through fakep11 with FAULT (one that
# creates $T_DIR/mark when the slow call begins); waits for the mark.
# Sets BG_PID.
start_marked() {	# start_marked FAULT ARGS...
	local fault=$1 i
	shift
	rm -f "$T_DIR/mark"
	HSMDESK_MODULE=$HD_FAKEP11 HSMDESK_FAKEP11_FAULT=$fault \
	    HSMDESK_FAKEP11_MARK=$T_DIR/mark \
	    "$HD_BIN" "$@" </dev/null >"$T_DIR/.stdout" 2>"$T_DIR/.stderr" &
	BG_PID=$!
	HD_CMD="hsmdesk $* ($fault, in the background)"
	for ((i = 0; i < 400; i++)); do
		[[ -e $T_DIR/mark ]] && return 0
		sleep 0.025
	done
	fail "the slow call never began"
}

wait_marked() {
	wait "$BG_PID"
	HD_STATUS=$?
	HD_OUT=$(<"$T_DIR/.stdout")
	HD_ERR=$(<"$T_DIR/.stderr")
	! grep -Eq 'Sanitizer|runtime error:' <<<"$HD_ERR" ||
	    fail "sanitizer report on stderr"
	expect_no_pin "$UP"
	expect_file_no_pin "$UP" "$LOG"
}

t_files() {
	need_fakep11
	ready
	local shm

	# disk full: a file size limit set while the token signs, so the
	# output is what hits it (SoftHSM2 itself cannot start under one)
	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP hello.exe
	prlimit --pid "$BG_PID" --fsize=8192:8192 ||
	    t_abort "prlimit --pid failed"
	wait_marked
	expect_status 1
	expect_stderr_match 'hello.exe.*File too large'
	left_pe
	no_temp_files
	expect_recovery pe
	check "file size limit (EFBIG) while writing a signed PE: status 1, not killed by SIGXFSZ, original intact, no temp file; works after"

	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP a.txt b.txt
	prlimit --pid "$BG_PID" --fsize=256:256 || t_abort "prlimit --pid failed"
	wait_marked
	expect_status 1
	expect_stderr_match 'File too large'
	left_batch
	no_temp_files
	check "file size limit on a CMS batch: status 1, no .p7s and no temp file"

	# read-only output directory: a read-only mount in a private mount
	# namespace when root (root writes through modes), else mode 0555
	snap_restore
	mkdir ro
	if ((EUID == 0)) && unshare -m true 2>/dev/null; then
		# shellcheck disable=SC2016	# for that sh
		HD_WRAP=(unshare -m sh -c 'mount -t tmpfs -o ro,size=64k none "$0" && exec "$@"' "$T_DIR/ro")
	else
		chmod 555 ro
	fi
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --out ro/a.p7s a.txt
	HD_WRAP=()
	expect_status 1
	expect_stderr_match 'ro/a.p7s.*(Read-only|Permission denied)'
	[[ -z $(ls -A ro) ]] || fail "files left in ro/: $(ls -A ro)"
	chmod 755 ro
	check "read-only output directory: status 1, a message naming the file, nothing written"

	# another file system: the temporary file must be made beside the
	# output, not beside the input, or the rename would fail (EXDEV)
	shm=$(mktemp -d /dev/shm/hsmdesk-e2e.XXXXXX) || t_abort "no /dev/shm"
	snap_restore
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --out "$shm/a.p7s" a.txt
	expect_status 0
	openssl cms -verify -binary -inform DER -in "$shm/a.p7s" -content a.txt \
	    -CAfile ca/root.pem -purpose any -out /dev/null >/dev/null 2>&1 ||
	    fail "openssl cms -verify rejects $shm/a.p7s"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --out "$shm/h.exe" hello.exe
	expect_status 0
	timeout 120 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in "$shm/h.exe" </dev/null >/dev/null 2>&1 ||
	    fail "osslsigncode verify rejects $shm/h.exe"
	left_pe
	[[ $(ls -A "$shm") == $'a.p7s\nh.exe' ]] ||
	    fail "$shm holds: $(ls -A "$shm")"
	no_temp_files
	rm -rf "$shm"
	check "output on another file system (/dev/shm): CMS and PE verify, no temp file on either side"

	# the input changes or goes while the token signs
	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP a.txt
	echo more >>a.txt
	wait_marked
	expect_status 2
	expect_stderr_match 'a.txt: changed while it was being signed'
	left_cms
	check "CMS input changed during signing: refused (status 2), no .p7s"

	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP hello.exe
	rm hello.exe
	wait_marked
	expect_status 2
	expect_stderr_match 'hello.exe: removed while it was being signed'
	[[ ! -e hello.exe ]] || fail "a removed hello.exe was written again"
	no_temp_files
	check "PE input removed during signing: refused (status 2), not recreated"

	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP s.ps1
	printf '# edited\r\n' >>s.ps1
	wait_marked
	expect_status 2
	expect_stderr_match 's.ps1: changed while it was being signed'
	grep -q '^# edited' s.ps1 || fail "the edit to s.ps1 was lost"
	check "PowerShell input changed during signing: refused, the edit kept"
}

# ---- signals ----------------------------------------------------------------------
# INT and TERM during key generation (request.sh), during hashing of a big
# file (sign.sh) and the TUI at its menu and PIN entry (tui.sh) are
# covered there; here SIGHUP for those, and all three while the token
# itself works (a slow C_Sign).

t_signals_cli() {
	need_fakep11
	ready
	local sig st

	snap_restore
	start_marked slow-keygen=1500 request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=new" --label new --out new.csr --pin env:UP
	kill -HUP "$BG_PID"
	wait_marked
	expect_status 129
	left_request
	no_temp_files
	[[ $(objects) == "$(<snap/objects)" ]] || fail "the token changed"
	check "SIGHUP during key generation: status 129, the pair deleted, no CSR"

	for sig in INT TERM HUP; do
		case $sig in INT) st=130 ;; TERM) st=143 ;; HUP) st=129 ;; esac
		snap_restore
		start_marked slow-sign=1200 sign --sha1 "$THUMB" --pin env:UP a.txt b.txt
		kill -"$sig" "$BG_PID"
		wait_marked
		expect_status "$st"
		expect_stderr_match 'sign interrupted'
		left_batch
		no_temp_files
		snap_restore
		start_marked slow-sign=1200 sign --sha1 "$THUMB" --pin env:UP hello.exe
		kill -"$sig" "$BG_PID"
		wait_marked
		expect_status "$st"
		left_pe
		no_temp_files
		check "SIG$sig while the token signs (CMS batch, PE): status $st, nothing written"
	done

	snap_restore
	truncate -s 16G huge.bin
	timeout --preserve-status -s HUP 2 "$HD_BIN" sign --sha1 "$THUMB" \
	    --pin env:UP huge.bin </dev/null >"$T_DIR/.stdout" 2>"$T_DIR/.stderr"
	HD_STATUS=$?
	HD_ERR=$(<"$T_DIR/.stderr")
	expect_status 129
	[[ -z $(compgen -G 'huge.bin.p7s*') ]] || fail "output left"
	rm -f huge.bin
	check "SIGHUP while hashing a 16 GiB file: status 129, nothing written"
}

t_signals_tui() {
	local sig st pid part=${UP:0:5}
	store_init_token L "$SO" "$UP"
	for sig in TERM HUP; do
		case $sig in TERM) st=143 ;; HUP) st=129 ;; esac
		tui_start
		wait_title "Main menu" || tui_bail "the menu opens"
		tui_keys 1
		wait_for "PIN state" || tui_bail "1 opens Log in"
		tui_type "$part"
		wait_for_re '> PIN +\*' || tui_bail "the PIN typed shows as a mask"
		pid=$(tui_pid)
		kill -"$sig" "$pid"
		expect_tui_exit "$st"
		expect_prompt_usable
		expect_never_on_screen "$part" "the half-typed PIN"
		tui_check "SIG$sig with the PIN dialog open: status $st, stty -a as before, prompt works"
	done
}

# ---- file modes ---------------------------------------------------------------------

t_perms() {
	local cdir=$XDG_CONFIG_HOME/hsmdesk bad
	store_init_token L "$SO" "$UP"
	mkdir -p "$cdir/profiles"
	chmod 700 "$cdir"
	printf 'token: L\n' >"$cdir/config.yaml"
	chmod 600 "$cdir/config.yaml"
	run_hsmdesk keys --pin env:UP
	expect_status 0
	check "a config file 0600 in a 0700 directory is read"

	chmod 620 "$cdir/config.yaml"
	run_hsmdesk keys --pin env:UP
	expect_status 2
	expect_stderr_match "config.yaml: writable by its group.*chmod go-w"
	chmod 602 "$cdir/config.yaml"
	run_hsmdesk tokens
	expect_status 2
	expect_stderr_match "config.yaml: writable by every user"
	chmod 600 "$cdir/config.yaml"
	chmod 770 "$cdir"
	run_hsmdesk tokens
	expect_status 2
	expect_stderr_match "hsmdesk: writable by its group"
	chmod 700 "$cdir"
	check "config.yaml or its directory writable by group or others: refused (status 2), chmod named"

	cp "$HSMDESK_TOP/profiles/codesign-ecdsa-p256.yaml" "$cdir/profiles/"
	chmod 777 "$cdir/profiles"
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ,CN=x" --out x.csr \
	    --pin env:UP
	expect_status 2
	expect_stderr_match "profiles: writable by every user"
	[[ ! -e x.csr ]] || fail "x.csr written"
	chmod 755 "$cdir/profiles"
	run_hsmdesk request --profile codesign-ecdsa-p256 --subject "$SUBJ,CN=x" --out x.csr \
	    --pin env:UP
	expect_status 0
	check "a profile directory writable by others: refused; 0755: used"

	# what hsmdesk itself makes: the embedded store, the local store
	unset SOFTHSM2_CONF
	run_hsmdesk tokens
	expect_status 0
	write_config $'cert_store: local\n'
	chmod 600 "$cdir/config.yaml"
	export SOFTHSM2_CONF=$T_DIR/softhsm2.conf
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout r.key -subj "/CN=R" -days 3 -out r.pem
	ossl x509 -req -in x.csr -CA r.pem -CAkey r.key -CAcreateserial \
	    -days 2 -out x.pem
	run_hsmdesk accept x.pem --pin env:UP
	expect_status 0
	bad=$(find "$XDG_DATA_HOME/hsmdesk" \( -type d ! -perm 700 \) -o \
	    \( -type f ! -perm 600 \) | head -n 5)
	[[ -z $bad ]] || fail "not 0700/0600: $(xargs ls -ld <<<"$bad")"
	[[ -n $(find "$XDG_DATA_HOME/hsmdesk" -type f) ]] ||
	    fail "nothing was made in $XDG_DATA_HOME/hsmdesk"
	check "the embedded store and the local certificate store: directories 0700, files 0600"
}

# t_run, unless HSMDESK_FAULTS_ONLY is set and NAME does not match it.
f_run() {	# f_run NAME FUNCTION
	[[ -z ${HSMDESK_FAULTS_ONLY:-} || $1 =~ $HSMDESK_FAULTS_ONLY ]] || return 0
	t_run "$@"
}

for ROW in "${FAULT_TABLE[@]}"; do
	f_run "fault ${ROW%%|*}" t_row
done
f_run "file modes" t_perms
f_run "files" t_files
f_run "signals (CLI)" t_signals_cli
if [[ -z ${HSMDESK_FAULTS_ONLY:-} || "signals (TUI)" =~ $HSMDESK_FAULTS_ONLY ]]; then
	tui_server_start
	t_run "signals (TUI)" t_signals_tui
fi
# the figures docs/SECURITY.md quotes: faulted runs in all, and per step
if [[ -s $E2E_ROOT/faulted ]]; then
	echo "# faulted runs: $(wc -l <"$E2E_ROOT/faulted"); per step:" \
	    "$(sort "$E2E_ROOT/faulted" | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')"
fi
e2e_finish
