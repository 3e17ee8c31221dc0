# shellcheck shell=bash
#
# Helpers for hsmdesk's end-to-end tests (bash).  Sourced by the test
# scripts; tests/run.sh runs every tests/e2e/*.sh, so run on its own this
# file does nothing and exits 0.
#
# A test script looks like:
#
#   . "$(dirname "$0")/lib.bash"
#   t_keys() {
#       store_init_token L "$SO" "$UP"
#       run_hsmdesk keys --pin env:UP
#       expect_status 0
#       expect_stdout_match '^LABEL '
#       check "keys: env: PIN lists the keys"
#   }
#   t_run "keys" t_keys
#   e2e_finish
#
# Every test function runs in a subshell with its own throwaway SoftHSM2
# store (t_setup): SOFTHSM2_CONF, HOME, XDG_CONFIG_HOME and XDG_DATA_HOME all
# point into a mktemp -d directory, HSMDESK_MODULE is unset, and the
# directory is removed when the test ends.  Results are TAP-like lines,
# "ok - ..." or "not ok - ..." followed by indented details; tests/run.sh
# counts them.
#
# Environment: HSMDESK_BUILD (default $HSMDESK_TOP/build-asan), HSMDESK_TOP
# (default: two levels up from this file).

[[ "${BASH_SOURCE[0]}" != "$0" ]] || exit 0

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${HSMDESK_TOP:=$(cd "$E2E_LIB_DIR/../.." && pwd)}"
: "${HSMDESK_BUILD:=$HSMDESK_TOP/build-asan}"
export HSMDESK_TOP HSMDESK_BUILD

HD_BIN=$HSMDESK_BUILD/hsmdesk
HD_FAKEP11=$HSMDESK_BUILD/fakep11.so
SOFTHSM_MODULE=${HSMDESK_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
HD_TIMEOUT=${HSMDESK_TEST_TIMEOUT:-20}	# seconds for any one command

# Sanitizer settings as tests/run.sh sets them, unless the caller chose.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HSMDESK_TOP/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C.UTF-8

# The real HOME, remembered only to prove that the tests never write there.
E2E_REAL_HOME=${HOME:-}
E2E_REAL_DIRS=()
if [[ -n $E2E_REAL_HOME ]]; then
	for d in "$E2E_REAL_HOME/.local/share/hsmdesk" \
	    "$E2E_REAL_HOME/.config/hsmdesk" \
	    "$E2E_REAL_HOME/.local/state/hsmdesk"; do
		[[ -e $d ]] || E2E_REAL_DIRS+=("$d")
	done
fi

E2E_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-e2e.XXXXXX") || {
	echo "not ok - e2e: mktemp -d failed"
	exit 1
}
trap 'rm -rf "$E2E_ROOT"' EXIT
E2E_RESULTS=$E2E_ROOT/results
: >"$E2E_RESULTS"

# ---- results -----------------------------------------------------------------

_FAILS=()		# failure details of the current check
HD_WRAP=()		# what timeout(1) runs under (run_hsmdesk_noterm)
_RUN_SHOWN=0		# the last run's context is already in _FAILS

_indent() {
	sed 's/^/    /'
}

# First lines of a captured stream, indented, for failure details.
_excerpt() {		# _excerpt NAME TEXT
	local name=$1 text=$2 n
	if [[ -z $text ]]; then
		printf '%s: (empty)\n' "$name"
		return
	fi
	n=$(printf '%s\n' "$text" | wc -l)
	printf '%s:\n' "$name"
	printf '%s\n' "$text" | head -n 25 | sed 's/^/  | /'
	((n > 25)) && printf '  | ... (%d more lines)\n' $((n - 25))
	return 0
}

# Record a failure for the current check.  With a run in progress its
# command, status, stdout and stderr are added once.
fail() {
	_FAILS+=("$*")
	if [[ -n ${HD_CMD:-} && $_RUN_SHOWN -eq 0 ]]; then
		_RUN_SHOWN=1
		_FAILS+=("command: ${HD_ENV_SHOWN:+$HD_ENV_SHOWN }$HD_CMD" \
		    "status: $HD_STATUS" \
		    "$(_excerpt stderr "$HD_ERR")" \
		    "$(_excerpt stdout "$HD_OUT")")
	fi
}

_result() {		# _result ok|not-ok DESCRIPTION
	if [[ $1 == ok ]]; then
		printf 'ok - %s\n' "$2"
		echo ok >>"$E2E_RESULTS"
	else
		printf 'not ok - %s\n' "$2"
		echo fail >>"$E2E_RESULTS"
	fi
}

# Close the current check: "ok - DESC", or "not ok - DESC" and the details.
check() {
	local desc="${T_NAME:+$T_NAME: }$*" f
	if ((${#_FAILS[@]} == 0)); then
		_result ok "$desc"
	else
		_result not-ok "$desc"
		for f in "${_FAILS[@]}"; do
			printf '%s\n' "$f"
		done | _indent
	fi
	_FAILS=()
	_RUN_SHOWN=0
	HD_CMD=
}

# Give up on the current test (a fixture could not be made): one "not ok".
t_abort() {
	fail "$@"
	check "test aborted"
	exit 0
}

# ---- running hsmdesk -----------------------------------------------------------

# After each run: a crash, a sanitizer report or a timeout fails the check
# whatever else it expects.
_sanity() {
	if ((HD_STATUS == 124)); then
		fail "timed out after ${HD_LAST_TIMEOUT}s (hang?)"
	elif ((HD_STATUS >= 125)); then
		fail "killed by a signal or could not be run (status $HD_STATUS)"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    <<<"$HD_ERR"; then
		fail "sanitizer report on stderr"
	fi
	return 0
}

# _hd_exec SECONDS STDIN_FILE ARGS...: run hsmdesk, capture everything.
_hd_exec() {
	local secs=$1 in=$2 v
	shift 2
	HD_CMD=$(printf '%q ' hsmdesk "$@")
	HD_CMD=${HD_CMD% }
	HD_ENV_SHOWN=
	for v in HSMDESK_MODULE HSMDESK_FAKEP11_FAULT; do
		[[ -n ${!v+x} ]] && HD_ENV_SHOWN+="$v=${!v} "
	done
	[[ -z ${SOFTHSM2_CONF+x} ]] && HD_ENV_SHOWN+="(SOFTHSM2_CONF unset) "
	HD_ENV_SHOWN=${HD_ENV_SHOWN% }
	HD_LAST_TIMEOUT=$secs
	_RUN_SHOWN=0
	"${HD_WRAP[@]}" timeout -k 5 "$secs" "$HD_BIN" "$@" <"$in" \
	    >"$T_DIR/.stdout" \
	    2>"$T_DIR/.stderr"
	HD_STATUS=$?
	HD_OUT=$(<"$T_DIR/.stdout")
	HD_ERR=$(<"$T_DIR/.stderr")
	_sanity
}

# run_hsmdesk ARGS...: stdin is /dev/null, never the caller's terminal.
run_hsmdesk() {
	_hd_exec "$HD_TIMEOUT" /dev/null "$@"
}

# run_hsmdesk_stdin TEXT ARGS...: TEXT (as is, no newline added) on stdin.
run_hsmdesk_stdin() {
	local text=$1
	shift
	printf '%s' "$text" >"$T_DIR/.stdin"
	_hd_exec "$HD_TIMEOUT" "$T_DIR/.stdin" "$@"
	rm -f "$T_DIR/.stdin"
}

# run_hsmdesk_timeout SECONDS ARGS...: stdin /dev/null, a shorter limit.
run_hsmdesk_timeout() {
	local secs=$1
	shift
	_hd_exec "$secs" /dev/null "$@"
}

# run_hsmdesk_noterm SECONDS ARGS...: no terminal at all: stdin /dev/null
# and, where setsid(1) exists, no controlling terminal (/dev/tty fails).
run_hsmdesk_noterm() {
	local secs=$1
	shift
	if command -v setsid >/dev/null; then
		HD_WRAP=(setsid -w)
	fi
	_hd_exec "$secs" /dev/null "$@"
	HD_WRAP=()
}

# ---- expectations (about the last run) ---------------------------------------

expect_status() {
	((HD_STATUS == $1)) || fail "expected exit status $1, got $HD_STATUS"
}

expect_stdout_match() {
	grep -Eq -- "$1" <<<"$HD_OUT" || fail "stdout does not match /$1/"
}

expect_stdout_no_match() {
	! grep -Eq -- "$1" <<<"$HD_OUT" || fail "stdout matches /$1/"
}

expect_stderr_match() {
	grep -Eq -- "$1" <<<"$HD_ERR" || fail "stderr does not match /$1/"
}

expect_stderr_no_match() {
	! grep -Eq -- "$1" <<<"$HD_ERR" || fail "stderr matches /$1/"
}

expect_stdout_empty() {
	[[ -z $HD_OUT ]] || fail "stdout is not empty"
}

expect_stderr_empty() {
	[[ -z $HD_ERR ]] || fail "stderr is not empty"
}

# shared/CLI.md: every failure prints one line to stderr.
expect_stderr_one_line() {
	local n
	n=$(grep -c . <<<"$HD_ERR")
	((n == 1)) || fail "expected one line on stderr, got $n"
}

# The PIN appears in neither stdout nor stderr.
expect_no_pin() {
	local pin=$1
	if grep -Fq -- "$pin" <<<"$HD_OUT"; then
		fail "the PIN '$pin' appears on stdout"
	fi
	if grep -Fq -- "$pin" <<<"$HD_ERR"; then
		fail "the PIN '$pin' appears on stderr"
	fi
	return 0
}

# The PIN appears in none of the FILEs (that exist): the audit log, ...
expect_file_no_pin() {	# expect_file_no_pin PIN FILE...
	local pin=$1 f
	shift
	for f in "$@"; do
		[[ -e $f ]] || continue
		! grep -Fq -- "$pin" "$f" || fail "the PIN '$pin' appears in $f"
	done
	return 0
}

# Number of lines on stdout that match REGEX.
expect_stdout_count() {	# expect_stdout_count N REGEX
	local n
	n=$(grep -Ec -- "$2" <<<"$HD_OUT")
	((n == $1)) || fail "expected $1 stdout line(s) matching /$2/, got $n"
}

# expect_mode PATH OCTAL: a file or directory's permission bits.
expect_mode() {
	local m
	if [[ ! -e $1 ]]; then
		fail "$1: does not exist"
		return
	fi
	m=$(stat -c %a "$1")
	[[ $m == "$2" ]] || fail "$1: mode $m, expected $2"
}

# ---- JSON, without a JSON parser ----------------------------------------------

# The objects of a flat JSON array, one per line ("[{..},{..}]" only).
json_objects() {
	sed -e 's/^\[//' -e 's/\]$//' -e 's/},{/}\n{/g' <<<"$1"
}

# The one object of array TEXT whose "key":"value" is given; empty if none.
json_object_with() {	# json_object_with TEXT KEY VALUE
	json_objects "$1" | grep -F -- "\"$2\":\"$3\""
}

# expect_json_fields OBJECT FIELD... : each FIELD ('"k":v') is in OBJECT.
expect_json_fields() {
	local obj=$1 f
	shift
	if [[ -z $obj ]]; then
		fail "no JSON object found"
		return
	fi
	for f in "$@"; do
		grep -Fq -- "$f" <<<"$obj" || fail "JSON lacks $f in: $obj"
	done
}

# A shallow well-formedness check: one line, an array of objects, balanced
# braces and quotes.  Not a parser; enough to catch a stray comma or brace.
expect_json_array() {
	local t=$HD_OUT open close q
	[[ $(grep -c . <<<"$t") -eq 1 ]] || fail "JSON: not exactly one line"
	[[ $t =~ ^\[(\{.*\}(,\{.*\})*)?\]$ ]] || fail "JSON: not an array of objects"
	[[ $t != *',]'* && $t != *',}'* && $t != *'{,'* && $t != *'[,'* ]] ||
	    fail "JSON: stray comma"
	open=${t//[^\{]/}
	close=${t//[^\}]/}
	((${#open} == ${#close})) || fail "JSON: unbalanced braces"
	q=${t//\\\"/}
	q=${q//[^\"]/}
	((${#q} % 2 == 0)) || fail "JSON: unbalanced quotes"
}

# ---- fixtures -----------------------------------------------------------------

# A fresh SoftHSM2 store and private HOME/XDG dirs; called by t_run.
t_setup() {
	T_DIR=$(mktemp -d "$E2E_ROOT/t.XXXXXX") || return 1
	trap 'rm -rf "$T_DIR"' EXIT
	mkdir -p "$T_DIR/tokens" "$T_DIR/home/.config" \
	    "$T_DIR/home/.local/share" || return 1
	cat >"$T_DIR/softhsm2.conf" <<-EOF || return 1
		directories.tokendir = $T_DIR/tokens
		objectstore.backend = file
		log.level = ERROR
	EOF
	export SOFTHSM2_CONF=$T_DIR/softhsm2.conf
	export HOME=$T_DIR/home
	export XDG_CONFIG_HOME=$T_DIR/home/.config
	export XDG_DATA_HOME=$T_DIR/home/.local/share
	export XDG_STATE_HOME=$T_DIR/home/.local/state
	unset HSMDESK_MODULE HSMDESK_FAKEP11_FAULT HSMDESK_FAKEP11_MODULE NO_COLOR
	cd "$T_DIR" || return 1
}

# t_run NAME FUNCTION: run one test in a subshell with its own store.
t_run() {
	local name=$1 fn=$2 rc
	(
		T_NAME=$name
		t_setup || t_abort "could not create the test store"
		"$fn"
		exit 0
	)
	rc=$?
	if ((rc != 0)); then
		_result not-ok "$name: the test script stopped (status $rc)"
	fi
}

# Write config.yaml (the text as given) where hsmdesk looks for it.
write_config() {
	mkdir -p "$XDG_CONFIG_HOME/hsmdesk"
	printf '%s' "$1" >"$XDG_CONFIG_HOME/hsmdesk/config.yaml"
}

# Initialize a free token through plain SoftHSM2 (not through hsmdesk).
store_init_token() {	# store_init_token LABEL SO_PIN USER_PIN
	command -v softhsm2-util >/dev/null ||
	    t_abort "softhsm2-util not found (Debian package softhsm2)"
	timeout 60 softhsm2-util --init-token --free --label "$1" \
	    --so-pin "$2" --pin "$3" </dev/null >"$T_DIR/.fixture" 2>&1 ||
	    t_abort "softhsm2-util --init-token --label $1 failed:" \
	    "$(cat "$T_DIR/.fixture")"
}

# pkcs11-tool on plain SoftHSM2; aborts the test if it fails.
p11tool() {
	command -v pkcs11-tool >/dev/null ||
	    t_abort "pkcs11-tool not found (Debian package opensc)"
	timeout 60 pkcs11-tool --module "$SOFTHSM_MODULE" "$@" </dev/null \
	    >"$T_DIR/.fixture" 2>&1 ||
	    t_abort "pkcs11-tool $* failed:" "$(cat "$T_DIR/.fixture")"
}

need_fakep11() {
	[[ -f $HD_FAKEP11 ]] || t_abort "$HD_FAKEP11 not built (make" \
	    "BUILD=build-asan SAN=1 unit); fault test not run"
}

# ---- the local test TSA (tests/tsa/tsa_server.c) ------------------------------

# Start it in $T_DIR/tsa (ca.pem there is the TSA's CA); TSA_PID.  It
# ends with the test (and on its own after 300 s).  HD_TSA_SLOW sets the
# slow behaviour's delay in seconds (default 3).
tsa_start() {
	mkdir -p "$T_DIR/tsa"
	"$HSMDESK_BUILD/tests/tsa_server" "$T_DIR/tsa" 300 </dev/null \
	    >"$T_DIR/tsa/out" 2>&1 &
	TSA_PID=$!
	trap 'kill "$TSA_PID" 2>/dev/null; rm -rf "$T_DIR"' EXIT
	for _ in $(seq 100); do
		[[ -s $T_DIR/tsa/ports ]] && return 0
		sleep 0.05
	done
	t_abort "the test TSA did not start: $(cat "$T_DIR/tsa/out")"
}

tsa_url() {		# tsa_url MODE: that behaviour's URL
	echo "http://127.0.0.1:$(awk -v m="$1" '$1 == m { print $2 }' \
	    "$T_DIR/tsa/ports")/tsa"
}

tsa_requests() {	# tsa_requests MODE: how many requests it served
	grep -c "^$1 " "$T_DIR/tsa/log" 2>/dev/null || true
}

# From a DER CMS signature SIG: its one signer's signature value
# (sig.bin) and its RFC 3161 token (token.der), both by openssl asn1parse.
cms_token() {	# cms_token SIG
	local lines off hl l
	openssl asn1parse -inform DER -in "$1" >"$T_DIR/.asn1" 2>&1 ||
	    { fail "$1: openssl asn1parse failed"; return 1; }
	lines=$(grep -n 'id-smime-aa-timeStampToken' "$T_DIR/.asn1" |
	    cut -d: -f1)
	[[ -n $lines ]] || { fail "$1: no id-smime-aa-timeStampToken"; return 1; }
	# the attribute's SET, then the token's SEQUENCE
	read -r off hl l < <(sed -n "$((lines + 2))p" "$T_DIR/.asn1" |
	    sed -E 's/^ *([0-9]+):d=[0-9]+ +hl=([0-9]+) +l= *([0-9]+).*/\1 \2 \3/')
	dd if="$1" of=token.der bs=1 skip="$off" count=$((hl + l)) \
	    status=none
	# the signature value: the last OCTET STRING before the unsigned
	# attributes [1]
	sed -n "1,${lines}p" "$T_DIR/.asn1" | grep 'OCTET STRING' | tail -1 |
	    sed 's/.*\[HEX DUMP\]://' | xxd -r -p >sig.bin
	[[ -s sig.bin ]] || { fail "$1: no signature value found"; return 1; }
}

ts_ok() {	# ts_ok SIG: openssl ts -verify on its token
	cms_token "$1" || return
	timeout 60 openssl ts -verify -token_in -in token.der -data sig.bin \
	    -CAfile "$T_DIR/tsa/ca.pem" </dev/null >"$T_DIR/.ts" 2>&1 ||
	    fail "openssl ts -verify rejects the token in $1: $(cat "$T_DIR/.ts")"
}

# ---- the terminal UI under tmux ---------------------------------------------------
#
# The real binary in a detached tmux pane, driven with send-keys and read
# with capture-pane.  One tmux server per script (socket hsmdesk-e2e-PID,
# no tmux.conf) is started by tui_server_start and killed on exit.  Each
# tui_start runs hsmdesk in a new 80x24 session inside a small sh wrapper
# that records, in $TUI_RUN: stty.before, pid (hsmdesk's own), status,
# stty.after; then prints "E2E-EXIT <status>" and becomes an interactive
# shell (prompt "e2e$ "), so a test can prove the terminal still takes a
# command line.  The wrapper uses job control (set -m) as a login shell
# would: hsmdesk is alone in the terminal's foreground process group, so
# ^C reaches it and not the wrapper.  The program's environment is built
# from nothing (env -i): the test's HOME, XDG_* and SOFTHSM2_CONF, and
# TERM=xterm-256color, LANG=LC_ALL=C.UTF-8 -- never the caller's; NO_COLOR
# only when the test sets it.
#
# Every capture taken is appended to $TUI_RUN/captures, so a test can ask
# whether a secret was ever on screen (expect_never_on_screen).

TUI_SOCK=hsmdesk-e2e-$$
TUI_SOCK_PATH=
TUI_SESSION=
TUI_RUN=
TUI_N=0
TUI_SCREEN=
TUI_STATUS=
TUI_WAIT_MS=50		# polling interval of the wait_* helpers

tm() {
	tmux -L "$TUI_SOCK" -f /dev/null "$@"
}

# Single-quote for sh (the wrapper and tmux's default-shell, /bin/sh).
_sq() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# Start this script's tmux server; kill it (and the scratch dir) on exit.
tui_server_start() {
	if ! command -v tmux >/dev/null; then
		_result not-ok "tui: tmux not found (Debian package tmux)"
		exit 1
	fi
	trap 'tmux -L "$TUI_SOCK" kill-server >/dev/null 2>&1
	    [[ -n $TUI_SOCK_PATH ]] && rm -f "$TUI_SOCK_PATH"
	    rm -rf "$E2E_ROOT"' EXIT
	tm start-server \; set -g exit-empty off \
	    \; set -g default-terminal xterm-256color \
	    \; set -g default-shell /bin/sh \
	    \; set -g remain-on-exit on \
	    \; set -g history-limit 5000 >/dev/null 2>&1 || {
		_result not-ok "tui: could not start a tmux server (-L $TUI_SOCK)"
		exit 1
	}
	# kill-server leaves the socket file behind
	TUI_SOCK_PATH=$(tm display-message -p '#{socket_path}' 2>/dev/null)
}

# End the current session (its processes get SIGHUP).
tui_stop() {
	[[ -n $TUI_SESSION ]] && tm kill-session -t "$TUI_SESSION" >/dev/null 2>&1
	TUI_SESSION=
	return 0
}

# tui_start [ARGS...]: hsmdesk ARGS in a new 80x24 session.  Sets TUI_RUN,
# TUI_SESSION and TUI_T0 (EPOCHREALTIME just before the session began).
tui_start() {
	local v cmd a env=() args=""
	tui_stop
	TUI_N=$((TUI_N + 1))
	TUI_RUN=$T_DIR/tui.$TUI_N
	TUI_SESSION=hd${BASHPID}_$TUI_N
	TUI_SCREEN=
	TUI_STATUS=
	mkdir -p "$TUI_RUN" || t_abort "mkdir $TUI_RUN failed"
	: >"$TUI_RUN/captures"
	# the subshell of t_run removes $T_DIR on exit: end the session first
	trap 'tui_stop; rm -rf "$T_DIR"' EXIT
	for a in "$@"; do
		args+=" $(_sq "$a")"
	done
	cat >"$TUI_RUN/run.sh" <<-WRAPPER
		set -m
		trap : INT
		d=$(_sq "$TUI_RUN")
		cd $(_sq "$T_DIR") || exit 1
		stty -a >"\$d/stty.before" 2>&1
		sh -c 'echo \$\$ >"\$1/pid"; shift; exec "\$@"' sh "\$d" $(_sq "$HD_BIN")$args
		echo \$? >"\$d/status.tmp"
		stty -a >"\$d/stty.after" 2>&1
		mv "\$d/status.tmp" "\$d/status"
		echo "E2E-EXIT \$(cat "\$d/status")"
		PS1='e2e\$ ' exec sh -i
	WRAPPER
	env=(PATH=/usr/local/bin:/usr/bin:/bin TERM=xterm-256color
	    LANG=C.UTF-8 LC_ALL=C.UTF-8 TMPDIR="$T_DIR")
	for v in HOME XDG_CONFIG_HOME XDG_DATA_HOME SOFTHSM2_CONF \
	    HSMDESK_MODULE HSMDESK_FAKEP11_FAULT HSMDESK_FAKEP11_MODULE \
	    NO_COLOR ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
		[[ -n ${!v+x} ]] && env+=("$v=${!v}")
	done
	cmd="exec env -i"
	for v in "${env[@]}"; do
		cmd+=" $(_sq "$v")"
	done
	cmd+=" /bin/sh $(_sq "$TUI_RUN/run.sh")"
	# shellcheck disable=SC2034	# read by the tests (time to first frame)
	TUI_T0=$EPOCHREALTIME
	tm new-session -d -s "$TUI_SESSION" -x 80 -y 24 "$cmd" ||
	    t_abort "tmux new-session failed"
}

# Capture the pane (as text, trailing blanks cut) into TUI_SCREEN; with
# "all" (or TUI_CAPTURE=all), the scroll-back history too, wrapped lines
# joined.
tui_capture() {
	if [[ ${1:-${TUI_CAPTURE:-}} == all ]]; then
		TUI_SCREEN=$(tm capture-pane -p -J -S - -t "$TUI_SESSION" 2>&1)
	else
		TUI_SCREEN=$(tm capture-pane -p -t "$TUI_SESSION" 2>&1)
	fi
	printf '%s\n----\n' "$TUI_SCREEN" >>"$TUI_RUN/captures"
}

# Line N (from 0) of the last capture.
tui_line() {
	sed -n "$(($1 + 1))p" <<<"$TUI_SCREEN"
}

_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# tui_wait_until SECONDS CMD...: capture every TUI_WAIT_MS until CMD
# (which may look at TUI_SCREEN) succeeds.  1 on timeout.
tui_wait_until() {
	local secs=$1 end
	shift
	end=$(($(_now_ms) + secs * 1000))
	while :; do
		tui_capture
		"$@" && return 0
		(($(_now_ms) >= end)) && return 1
		sleep "0.$(printf '%03d' "$TUI_WAIT_MS")"
	done
}

_has_text() { grep -Fq -- "$1" <<<"$TUI_SCREEN"; }
_has_re() { grep -Eq -- "$1" <<<"$TUI_SCREEN"; }
_lacks_text() { ! grep -Fq -- "$1" <<<"$TUI_SCREEN"; }

# wait_for TEXT [SECONDS]: until the screen shows TEXT; else a failure.
wait_for() {
	tui_wait_until "${2:-10}" _has_text "$1" && _settle && return 0
	fail "timed out after ${2:-10}s waiting for '$1' on screen"
	return 1
}

# wait_for_re REGEX [SECONDS]: the same with an extended regex.
wait_for_re() {
	tui_wait_until "${2:-10}" _has_re "$1" && _settle && return 0
	fail "timed out after ${2:-10}s waiting for /$1/ on screen"
	return 1
}

# wait_gone TEXT [SECONDS]: until TEXT is no longer on screen.
wait_gone() {
	tui_wait_until "${2:-10}" _lacks_text "$1" && return 0
	fail "timed out after ${2:-10}s waiting for '$1' to leave the screen"
	return 1
}

# Keys by tmux name (Enter Tab Escape F1 Up C-c ...) or text, as given.
tui_keys() {
	tm send-keys -t "$TUI_SESSION" "$@"
}

# Text typed literally, character by character.
tui_type() {
	tm send-keys -t "$TUI_SESSION" -l -- "$1"
}

tui_pid() {
	cat "$TUI_RUN/pid" 2>/dev/null
}

# The hsmdesk process is alive and the wrapper has not seen it exit.
tui_running() {
	local pid
	pid=$(tui_pid)
	[[ -n $pid && ! -e $TUI_RUN/status ]] && kill -0 "$pid" 2>/dev/null
}

_tui_exited() { [[ -e $TUI_RUN/status ]]; }

# tui_wait_exit [SECONDS]: until the wrapper recorded the exit status
# (TUI_STATUS; empty on timeout).  Ends with a capture including history.
tui_wait_exit() {
	local secs=${1:-10}
	TUI_STATUS=
	if tui_wait_until "$secs" _tui_exited; then
		TUI_STATUS=$(<"$TUI_RUN/status")
		TUI_CAPTURE=all tui_wait_until 5 _has_text "E2E-EXIT $TUI_STATUS" ||
		    fail "the pane does not show the wrapper's 'E2E-EXIT' line"
	else
		fail "hsmdesk did not exit within ${secs}s"
	fi
	tui_capture all
	[[ -n $TUI_STATUS ]]
}

# expect_tui_exit STATUS [SECONDS]: hsmdesk exits with STATUS, the terminal
# modes (stty -a) are as before it started, no sanitizer report, no core.
expect_tui_exit() {
	local want=$1 secs=${2:-10}
	tui_wait_exit "$secs" || return 0
	[[ $TUI_STATUS == "$want" ]] ||
	    fail "expected exit status $want, got $TUI_STATUS"
	expect_stty_restored
	expect_no_sanitizer
	if compgen -G "$T_DIR/core*" >/dev/null; then
		fail "a core file was written: $(echo "$T_DIR"/core*)"
	fi
	return 0
}

expect_stty_restored() {
	local d
	if [[ ! -s $TUI_RUN/stty.before || ! -s $TUI_RUN/stty.after ]]; then
		fail "stty -a before/after not recorded"
		return 0
	fi
	d=$(diff "$TUI_RUN/stty.before" "$TUI_RUN/stty.after") ||
	    fail "$(printf 'stty -a after hsmdesk differs from before:\n%s' \
	    "$(_indent <<<"$d")")"
	return 0
}

# The pane (with history, after exit) shows no sanitizer report.
expect_no_sanitizer() {
	local l
	l=$(grep -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    <<<"$TUI_SCREEN" | head -n 3)
	[[ -z $l ]] || fail "$(printf 'sanitizer report in the pane:\n%s' \
	    "$(_indent <<<"$l")")"
	return 0
}

# The shell the wrapper left behind takes a command line and echoes it.
expect_prompt_usable() {
	# shellcheck disable=SC2016	# expanded by that shell, not here
	tui_keys -l 'echo "$((40+2))ok"'
	tui_keys Enter
	tui_wait_until 5 _has_re '^42ok$' ||
	    fail "the shell after hsmdesk did not run a typed command"
	return 0
}

expect_screen() {	# expect_screen REGEX [WHAT]
	_has_re "$1" || fail "${2:-screen does not match /$1/}"
	return 0
}

expect_screen_no() {	# expect_screen_no REGEX [WHAT]
	! _has_re "$1" || fail "${2:-screen matches /$1/}"
	return 0
}

# TEXT never appeared in any capture of this run.
expect_never_on_screen() {	# expect_never_on_screen TEXT [WHAT]
	local n what=${2:-"'$1'"}
	n=$(grep -Fc -- "$1" "$TUI_RUN/captures")
	((n == 0)) || fail "$what appeared on screen ($n capture line(s))"
	return 0
}

# wait_title NAME [SECONDS]: the title line names screen NAME.
wait_title() {
	wait_for_re "^ hsmdesk [^ ]+ (—|-) $1\$" "${2:-10}"
}

# Until two captures in a row are the same (at most 2 s): tmux may show a
# new title or message a moment before the rest of the screen, and a check
# read from $TUI_SCREEN right after wait_for or wait_title must see the
# whole frame.
_settle() {
	local prev end
	end=$(($(_now_ms) + 2000))
	prev=$TUI_SCREEN
	while (($(_now_ms) < end)); do
		sleep "0.$(printf '%03d' "$TUI_WAIT_MS")"
		tui_capture
		[[ $TUI_SCREEN == "$prev" ]] && return 0
		prev=$TUI_SCREEN
	done
	return 0
}

# A pid that no longer runs (gone, or a zombie nobody reaped yet).
pid_gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[[ $st == Z || $st == X ]]
}

# check, with the last capture added to the details of a failure.
tui_check() {
	if ((${#_FAILS[@]} > 0)); then
		_FAILS+=("$(_excerpt "last capture (${TUI_SESSION:-no session})" \
		    "$(sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' <<<"$TUI_SCREEN")")")
	fi
	check "$@"
}

# tui_bail DESC: close the check DESC (failed) and end the test here; the
# later checks of this test, which need the state it failed to reach, are
# not run.
tui_bail() {
	tui_check "$@"
	exit 0
}

# ---- the end -------------------------------------------------------------------

# Print the summary; exit 1 if anything failed or nothing ran.
e2e_finish() {
	local d pass fail
	for d in "${E2E_REAL_DIRS[@]}"; do
		if [[ -e $d ]]; then
			T_NAME=
			fail "$d appeared in the real HOME during the tests"
			check "the real HOME is left alone"
		fi
	done
	pass=$(grep -c '^ok$' "$E2E_RESULTS")
	fail=$(grep -c '^fail$' "$E2E_RESULTS")
	printf '# %d passed, %d failed\n' "$pass" "$fail"
	((fail == 0 && pass > 0))
	exit
}

# Refuse to start without the binary under test.
if [[ ! -x $HD_BIN ]]; then
	_result not-ok "e2e: $HD_BIN not built (make BUILD=build-asan SAN=1 unit)"
	exit 1
fi

# ossl ARGS...: openssl with no input, its output kept for the failure
# message; a failure ends the test (t_abort).
ossl() {
	timeout 60 openssl "$@" </dev/null >"$T_DIR/.ossl" 2>&1 ||
	    t_abort "openssl $* failed: $(cat "$T_DIR/.ossl")"
}

# test_ca DIR SUBJECT [DAYS]: a test CA made with openssl, EC P-256, no
# CRL or AIA URLs: the extension sections certificates are issued with in
# DIR/ext.cnf (root, inter, codesign, tls) and the root in DIR/root.key
# and DIR/root.pem.
test_ca() {
	mkdir -p "$1"
	cat >"$1/ext.cnf" <<-'EOF'
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
		[tls]
		basicConstraints = CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		authorityKeyIdentifier = keyid
	EOF
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/root.key" -subj "$2" -days "${3:-3650}" \
	    -config "$1/ext.cnf" -extensions root -out "$1/root.pem"
}
