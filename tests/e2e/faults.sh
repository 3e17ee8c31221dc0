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
# Timestamp and audit-log steps (issues 10, 11) are still to be added.
ALL_STEPS="login request accept cms batch pe ps1"
SIGN_STEPS="cms batch pe ps1"
LOST='session is no longer valid'
GONE='removed|no longer present|not present'
FAULT_TABLE=(
	"session-invalid-after|$ALL_STEPS|sweep:$LOST"
	"device-removed-after|request ${HSMDESK_FAULTS_FULL:+accept cms }pe${HSMDESK_FAULTS_FULL:+ ps1}|sweep:$GONE"
	"sign-device-error|$SIGN_STEPS|fail:device reported an error|signing .* failed"
	"sign-device-error|login accept|ok"
	"mech-list-empty|$ALL_STEPS|ok"
	"slow-sign=1000|cms pe|ok"
	"slow-opensession=300|login accept|ok"
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

# make check: a few points spread over each step's calls (enough to land
# before the login, in the token's work and after it); FULL: every N.
sweep_points() {
	if [[ -n ${HSMDESK_FAULTS_FULL:-} ]]; then
		seq 0 600
	else
		echo 3 28 70 130 400
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
}

t_files() {
	need_fakep11
	ready
	local shm

	# disk full: a file size limit set while the token signs, so the
	# output is what hits it (SoftHSM2 itself cannot start under one)
	snap_restore
	start_marked slow-sign=800 sign --sha1 "$THUMB" --pin env:UP hello.exe
	prlimit --pid "$BG_PID" --fsize=16384:16384 ||
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

for ROW in "${FAULT_TABLE[@]}"; do
	t_run "fault ${ROW%%|*}" t_row
done
t_run "file modes" t_perms
t_run "files" t_files
t_run "signals (CLI)" t_signals_cli
tui_server_start
t_run "signals (TUI)" t_signals_tui
e2e_finish
