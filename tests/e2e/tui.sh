#!/usr/bin/env bash
#
# End-to-end tests of the terminal UI: the real binary ($HSMDESK_BUILD/
# hsmdesk) in a detached 80x24 tmux pane, driven with send-keys as a person
# would type, read back with capture-pane, against throwaway SoftHSM2
# stores.  Each run records its exit status and `stty -a` before and after
# (lib.bash, tui_start), so a test can tell that the terminal was restored.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/tui.sh
#
# Waits poll the pane every 50 ms (wait_for, wait_title); nothing sleeps
# for a fixed time to wait for a state.  HSMDESK_TEST_SEED fixes the key
# mash of t_mash (its seed is printed in that test's line).
# shellcheck disable=SC2317,SC2119	# t_* called through t_run; tui_start takes no args here

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

SO=83927461 UP=57319284 WRONG=90817263
LABEL=tui-e2e

tui_server_start

# ---- helpers of this file ---------------------------------------------------------

# _frame_problem W H: the first thing wrong with the main menu drawn at
# W x H (in the last capture), or nothing.
_frame_problem() {
	local w=$1 h=$2 top bot i line n item
	n=$(wc -l <<<"$TUI_SCREEN")
	((n == h)) || { echo "the capture has $n lines, not $h"; return; }
	line=$(tui_line 0)
	[[ $line =~ ^\ hsmdesk\ [^\ ]+\ (—|-)\ Main\ menu$ ]] ||
	    { echo "line 0 is not the menu's title: '$line'"; return; }
	top="┌$(printf '─%.0s' $(seq $((w - 2))))┐"
	bot="└$(printf '─%.0s' $(seq $((w - 2))))┘"
	[[ $(tui_line 3) == "$top" ]] ||
	    { echo "line 3 is not the box's top edge, $w wide"; return; }
	[[ $(tui_line $((h - 3))) == "$bot" ]] ||
	    { echo "line $((h - 3)) is not the box's bottom edge, $w wide"; return; }
	for ((i = 4; i < h - 3; i++)); do
		line=$(tui_line "$i")
		[[ ${#line} -eq $w && $line == │*│ ]] ||
		    { echo "line $i is not a box side to side ($w wide): '$line'"; return; }
	done
	for item in "1    Log in" "2    Generate key pair" "3    Export CSR" \
	    "4    Import certificate" "5    Find by thumbprint" \
	    "6    Sign files" "t    Token & keys" "h    Help" "q    Quit"; do
		_has_text "$item" || { echo "menu entry '$item' missing"; return; }
	done
	[[ $(tui_line $((h - 1))) == *"libsofthsm2.so | "* ]] ||
	    { echo "the last line is not the status bar"; return; }
	_has_text "Terminal too small" && echo "'Terminal too small' left over"
}

_frame_ok() {
	[[ -z $(_frame_problem "$@") ]]
}

# expect_menu_frame W H: wait for the menu drawn whole at W x H.
expect_menu_frame() {
	local p
	tui_wait_until 10 _frame_ok "$1" "$2" && return 0
	p=$(_frame_problem "$1" "$2")
	fail "the menu at $1x$2 is not drawn whole: $p"
}

# The status bar (last line) says "| logged in" (not "not logged in").
_status_logged_in() {
	[[ $(tail -n 1 <<<"$TUI_SCREEN") =~ \|\ logged\ in ]]
}

# The help screen's " N/M " position, or nothing.
_help_pos() {
	grep -Eo ' [0-9]+/[0-9]+ ' <<<"$TUI_SCREEN" | head -n 1
}

_help_moved() {
	[[ $(_help_pos) != "$1" ]]
}

_prev_screen=
_stable() {
	if [[ -n $_prev_screen && $TUI_SCREEN == "$_prev_screen" ]]; then
		return 0
	fi
	_prev_screen=$TUI_SCREEN
	return 1
}

# ---- 1. first run --------------------------------------------------------------------

t_first_run() {
	unset SOFTHSM2_CONF	# the embedded store under XDG_DATA_HOME
	tui_start
	wait_title "Initialize token" || tui_bail "an empty store opens on Initialize token"
	expect_screen 'This token is empty'
	expect_screen 'Token label'
	[[ -d $XDG_DATA_HOME/hsmdesk/softhsm/tokens ]] ||
	    fail "no embedded store at $XDG_DATA_HOME/hsmdesk/softhsm"
	tui_check "first run, no SOFTHSM2_CONF: the embedded store is made and Initialize token opens"

	tui_type "$LABEL"
	wait_for_re "Token label +$LABEL" || tui_bail "the label typed shows in its field"
	tui_keys Tab
	tui_type "$SO"
	wait_for_re 'SO PIN +\*{8}' || tui_bail "the SO PIN shows as a mask"
	tui_keys Tab
	tui_type "$SO"
	wait_for_re 'SO PIN again +\*{8}' || tui_bail "SO PIN again shows as a mask"
	tui_keys Tab
	tui_type "$UP"
	wait_for_re 'User PIN +\*{8}' || tui_bail "the user PIN shows as a mask"
	tui_keys Tab
	tui_type "$UP"
	wait_for_re 'User PIN again +\*{8}' || tui_bail "User PIN again shows as a mask"
	tui_keys Enter
	wait_for "Token '$LABEL' initialized" || tui_bail "Enter initializes the token"
	wait_title "Main menu"
	expect_screen "Token '$LABEL': not logged in"
	[[ $(tail -n 1 <<<"$TUI_SCREEN") =~ \'$LABEL\'\ [0-9a-f]{16} ]] ||
	    fail "the status bar does not show '$LABEL' and its serial"
	tui_check "label, SO PIN twice, user PIN twice: 'initialized', the menu, the label in the status bar"

	tui_keys q
	expect_tui_exit 0
	tui_check "q quits: status 0, stty -a as before, no sanitizer report"

	expect_never_on_screen "$SO" "the SO PIN"
	expect_never_on_screen "$UP" "the user PIN"
	tui_check "the PINs typed are never on screen ($(grep -c '^----$' \
	    "$TUI_RUN/captures") captures checked)"

	UP=$UP run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stdout_match '^LABEL '
	check "the token made in the TUI opens with the user PIN typed there (CLI)"
}

# ---- 2, 3. log in; token & keys ------------------------------------------------------

t_login_token() {
	store_init_token L "$SO" "$UP"
	p11tool --token-label L --login --pin "$UP" --keypairgen \
	    --key-type rsa:2048 --label signing-key --id 01
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens on an initialized token"

	tui_keys t
	wait_title "Token & keys" || tui_bail "t opens Token & keys"
	wait_for_re 'Serial +[0-9a-f]{16}'
	expect_screen 'Label +L( |$)' "no 'Label L'"
	expect_screen 'PIN +[a-z]' "no 'PIN <state>'"
	expect_screen 'Login +not logged in' "no 'Login not logged in'"
	expect_screen 'KEY +TYPE +NO-EXPORT' "no key list header"
	tui_keys Escape
	wait_title "Main menu"
	tui_check "t: Label, Serial, PIN state and the key list; Esc back to the menu"

	tui_keys 1
	wait_title "Log in" || tui_bail "1 opens Log in"
	wait_for "PIN state"
	tui_type "$WRONG"
	wait_for_re '> PIN +\*{8}' || tui_bail "the PIN typed shows as a mask"
	tui_keys Enter
	wait_for "PIN incorrect" || tui_bail "a wrong PIN says 'PIN incorrect'"
	local row
	row=$(grep -F '> PIN' <<<"$TUI_SCREEN")
	[[ -n $row && $row != *'*'* ]] ||
	    fail "the PIN field is not empty after a wrong PIN: '$row'"
	_status_logged_in && fail "the status bar says logged in after a wrong PIN"
	expect_never_on_screen "$WRONG" "the wrong PIN"
	tui_check "a wrong PIN: 'PIN incorrect', the field emptied, the PIN never shown"

	tui_type "$UP"
	wait_for_re '> PIN +\*{8}' || tui_bail "the PIN typed shows as a mask"
	tui_keys Enter
	wait_for "Logged in" || tui_bail "the right PIN logs in"
	wait_title "Main menu"
	expect_screen "Token 'L': logged in"
	_status_logged_in || fail "the status bar does not say 'logged in'"
	tui_check "the right PIN: 'Logged in', back at the menu, the status bar says logged in"

	tui_keys t
	wait_title "Token & keys" || tui_bail "t opens Token & keys"
	wait_for_re 'Login +logged in'
	wait_for_re 'signing-key +[^ ]+ +yes( |$)'
	expect_screen 'signing-key +RSA.?2048' "signing-key is not shown as RSA 2048"
	expect_screen 'extractable no' "the details do not say 'extractable no'"
	tui_keys Escape
	wait_title "Main menu"
	tui_check "logged in, t lists signing-key with NO-EXPORT yes; Esc back"

	tui_keys q
	expect_tui_exit 0
	tui_check "q quits: status 0, stty -a as before, no sanitizer report"

	expect_never_on_screen "$UP" "the user PIN"
	expect_never_on_screen "$WRONG" "the wrong PIN"
	tui_check "no PIN typed was ever on screen"
}

# ---- 4. Ctrl-C -----------------------------------------------------------------------

t_ctrl_c() {
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	tui_keys C-c
	expect_tui_exit 130
	# stderr is the terminal again after exit (so the sanitizer check above
	# would see a report)
	expect_screen '^hsmdesk: interrupted' "no 'hsmdesk: interrupted' on the terminal after exit"
	expect_prompt_usable
	tui_check "^C at the menu: status 130, stty -a as before, 'interrupted' on stderr, the shell prompt works"

	local part=${UP:0:6}
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	tui_keys 1
	wait_for "PIN state" || tui_bail "1 opens Log in"
	tui_type "$part"
	wait_for_re '> PIN +\*{8}' || tui_bail "the PIN typed shows as a mask"
	tui_keys C-c
	expect_tui_exit 130
	expect_prompt_usable
	expect_never_on_screen "$part" "the half-typed PIN"
	tui_check "^C on Log in with a PIN half typed: status 130, terminal restored, prompt works"
}

# ---- 5. SIGTERM, SIGHUP -------------------------------------------------------------

t_signals() {
	local pid
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	pid=$(tui_pid)
	kill -TERM "$pid"
	expect_tui_exit 143
	expect_prompt_usable
	tui_check "SIGTERM: status 143, stty -a as before, prompt works"

	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	pid=$(tui_pid)
	kill -HUP "$pid"
	expect_tui_exit 129
	pid_gone "$pid" || fail "process $pid still runs"
	tui_check "SIGHUP (kill): status 129, stty -a as before, no core"

	# the terminal itself going away: the pane's pty is closed
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	pid=$(tui_pid)
	tui_stop
	local i
	for ((i = 0; i < 200; i++)); do
		pid_gone "$pid" && break
		sleep 0.05
	done
	pid_gone "$pid" || fail "hsmdesk ($pid) still runs 10 s after its terminal closed"
	compgen -G "$T_DIR/core*" >/dev/null && fail "a core file was written"
	check "the terminal closed (tmux kill-session): hsmdesk exits, no core"
}

# ---- 6. resize ----------------------------------------------------------------------

t_resize() {
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	expect_menu_frame 80 24
	tui_check "at 80x24 the menu is drawn whole"

	tm resize-window -t "$TUI_SESSION" -x 20 -y 5
	wait_for "Terminal too small"
	tui_check "resized to 20x5: 'Terminal too small'"

	tm resize-window -t "$TUI_SESSION" -x 80 -y 24
	expect_menu_frame 80 24
	tui_check "back to 80x24: the menu again, intact"

	tm resize-window -t "$TUI_SESSION" -x 160 -y 50
	expect_menu_frame 160 50
	tui_check "at 160x50 the menu is drawn and the box fills the terminal"

	tm resize-window -t "$TUI_SESSION" -x 80 -y 24
	expect_menu_frame 80 24
	tui_keys q
	expect_tui_exit 0
	tui_check "q after the resizes (back at 80x24): status 0, stty -a as before"
}

# ---- 7, 8. help, a step not built --------------------------------------------------

t_help() {
	local key pos i
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	for key in F1 h; do
		tui_keys "$key"
		wait_title "Help" || tui_bail "$key opens Help"
		wait_for_re '1 +l +Log in'
		for ((i = 0; i < 8; i++)); do
			_has_re 'c +Change PIN' && break
			pos=$(_help_pos)
			tui_keys NPage
			tui_wait_until 3 _help_moved "$pos" || break
		done
		expect_screen 'c +Change PIN' "Help never shows the 'c Change PIN' binding (paging with PgDn)"
		tui_keys Escape
		wait_title "Main menu"
		tui_check "$key: Help lists 'Log in' and 'Change PIN' bindings; Esc returns"
	done

	tui_keys q
	expect_tui_exit 0
	tui_check "q quits: status 0, stty -a as before, no sanitizer report"
}

# ---- 9. key mash ---------------------------------------------------------------------

# One unit of the mash (one or two keys) into the array MASH.
#
# Left out on purpose, as they end the program by design: q, Esc and F10
# at the main menu (Quit), and Enter on the menu's Quit entry.  So Escape
# only comes after a key that makes it safe: "F1 Escape" (F1 opens Help
# over any screen, Escape closes it) and "t Escape" (at the menu t opens
# Token & keys, which Escape closes; on any other screen t does nothing or
# is typed into a field, and Escape goes back one screen, never past the
# menu).  The keys that move the menu cursor down (Down, j) only come
# followed by Up/k, which keeps the menu cursor on its first entry.  C-c,
# C-z and C-\ are signals, not keys.
_mash_unit() {
	local letters=abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 c
	case $((RANDOM % 24)) in
	[0-7])
		c=${letters:RANDOM%${#letters}:1}
		if [[ $c == j ]]; then MASH+=(j k); else MASH+=("$c"); fi ;;
	8) MASH+=(Tab) ;;
	9) MASH+=(Enter) ;;
	10) MASH+=(Up) ;;
	11) MASH+=(Left) ;;
	12) MASH+=(Right) ;;
	13) MASH+=(Down Up) ;;
	14) MASH+=(F1) ;;
	15) MASH+=(F2) ;;
	16) MASH+=(C-l) ;;
	17) MASH+=(PPage) ;;
	18) MASH+=(NPage) ;;
	19) MASH+=(BSpace) ;;
	20) MASH+=(F1 Escape) ;;
	*) MASH+=(t Escape) ;;
	esac
}

t_mash() {
	local seed=${HSMDESK_TEST_SEED:-$((RANDOM * 32768 + RANDOM))} b i
	local seen="" title
	local -a MASH=()
	RANDOM=$seed
	while ((${#MASH[@]} < 300)); do
		_mash_unit
	done
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	for ((b = 0; b < ${#MASH[@]}; b += 30)); do
		tui_keys "${MASH[@]:b:30}"
		tui_capture
		title=$(tui_line 0)
		title=${title#* hsmdesk * [—-] }
		[[ $seen == *"[$title]"* ]] || seen+="[$title]"
		tui_running || {
			fail "hsmdesk stopped during keys $((b + 1))-$((b + 30))" \
			    "(HSMDESK_TEST_SEED=$seed); the keys: ${MASH[*]:0:b+30}"
			break
		}
	done
	# let it work through the keys: until two captures 200 ms apart agree
	TUI_WAIT_MS=200 tui_wait_until 15 _stable ||
	    fail "the screen did not settle within 15 s after the mash"
	tui_running || fail "hsmdesk is not running after the mash"
	[[ $(tui_line 0) =~ ^\ hsmdesk\  ]] ||
	    fail "the title line is not 'hsmdesk ...': '$(tui_line 0)'"
	tui_check "${#MASH[@]} random keys in batches of 30 (seed $seed): still running," \
	    "title line intact; screens after the batches: ${seen//][/, }"

	tui_running || exit 0
	tui_keys F10
	expect_tui_exit 0
	tui_check "F10 after the mash: status 0, stty -a as before, no sanitizer report"
}

# ---- 10. first frame ----------------------------------------------------------------

t_first_frame() {
	local t1 t2 ms menu
	store_init_token L "$SO" "$UP"
	TUI_WAIT_MS=10
	tui_start
	tui_wait_until 10 _has_text hsmdesk ||
	    tui_bail "no 'hsmdesk' on screen within 10 s of starting"
	t1=${EPOCHREALTIME/[.,]/}
	wait_title "Main menu" || tui_bail "the menu opens"
	t2=${EPOCHREALTIME/[.,]/}
	ms=$(((t1 - ${TUI_T0/[.,]/}) / 1000))
	menu=$(((t2 - ${TUI_T0/[.,]/}) / 1000))
	TUI_WAIT_MS=50	# lib.bash's default again
	tui_keys q
	expect_tui_exit 0
	tui_check "first frame: 'hsmdesk' on screen ${ms} ms after tmux new-session," \
	    "the menu after ${menu} ms (sanitizer build, 10 ms polling; measured, not asserted)"
}

# ---- 11. the request wizard ----------------------------------------------------------

# Log in from the main menu with the user PIN.
_tui_login() {
	tui_keys 1
	wait_for "PIN state" || return 1
	tui_type "$UP"
	tui_keys Enter
	wait_for "Logged in to token" || return 1
	wait_title "Main menu"
}

# The profile list's details pane names the selected profile's file.
_file_line() { grep -E '^│  File ' <<<"$TUI_SCREEN"; }
_file_is() { _has_re "^│  File +.*/$1\.yaml "; }
_file_moved() { [[ $(_file_line) != "$1" ]]; }

# _pick_profile NAME: move the list's cursor down to profile NAME.
_pick_profile() {
	local i before
	for ((i = 0; i < 12; i++)); do
		tui_capture
		_file_is "$1" && return 0
		before=$(_file_line)
		tui_keys Down
		tui_wait_until 5 _file_moved "$before" || return 1
	done
	return 1
}

# _fill_subject CN: C, ST, L, O and CN of the codesign profiles.
_fill_subject() {
	local v
	for v in DE Berlin Berlin "Contoso GmbH"; do
		tui_type "$v"
		tui_keys Tab
	done
	tui_type "$1"
	wait_for_re "Common name \(CN\) +$1"
}

# _new_request PROFILE CN: from the menu to the result of Generate key pair.
_new_request() {
	tui_keys 2
	wait_title "Request profile" || return 1
	_pick_profile "$1" || { fail "profile $1 not in the list"; return 1; }
	tui_keys Enter
	wait_title "Subject and key label" || return 1
	_fill_subject "$2" || return 1
	tui_keys F4
	wait_title "Check the request" || return 1
	tui_keys Enter
	wait_for "Made in the token" 60
}

# The private keys the CLI lists (LABEL lines after the header).
_cli_key_labels() {
	UP=$UP run_hsmdesk keys --pin env:UP
	expect_status 0
	sed 1d <<<"$HD_OUT" | awk '{print $1}'
}

t_wizard() {
	local csr=$T_DIR/out/req.csr text dgst sum labels
	store_init_token L "$SO" "$UP"
	mkdir -p "$T_DIR/out"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"

	tui_keys 2
	wait_title "Request profile" || tui_bail "2 opens the profile list"
	expect_screen 'codesign-ecdsa-p256 +Code signing, ECDSA P-256'
	expect_screen 'Load a certreq INF'
	_pick_profile codesign-ecdsa-p256 || tui_bail "codesign-ecdsa-p256 can be chosen"
	expect_screen 'Key +EC P-256, not exportable, sha256 signature'
	tui_keys Enter
	wait_title "Subject and key label" || tui_bail "Enter opens the subject form"
	expect_screen 'Country \(C\) +required'
	_fill_subject "Alice Release" || tui_bail "the CN typed shows in its field"
	wait_for_re 'Key label will be +codesign-Alice-Release-[0-9]{8}'
	tui_check "2, codesign-ecdsa-p256: empty fields say 'required'; the label follows the CN typed"

	tui_keys Escape
	wait_title "Request profile" || tui_bail "Esc goes back to the profiles"
	tui_keys Enter
	wait_title "Subject and key label"
	wait_for_re 'Common name \(CN\) +Alice Release'
	expect_screen 'Organization \(O\) +Contoso GmbH'
	tui_check "Esc back to the profile list and Enter again: the CN typed is still there"

	tui_keys F4
	wait_title "Check the request" || tui_bail "F4 goes on to the confirm screen"
	expect_screen 'Subject +C=DE, ST=Berlin, L=Berlin, O=Contoso GmbH, CN=Alice Release'
	expect_screen 'Exportable +no: sensitive, never leaves the token'
	expect_screen 'Extended use +codeSigning'
	expect_screen "Token +L \(serial [0-9a-f]{16}"
	tui_keys Escape
	wait_title "Subject and key label"
	wait_for_re 'Common name \(CN\) +Alice Release'
	tui_keys F4
	wait_title "Check the request"
	tui_check "confirm: the DN in C, ST, L, O, CN order, not exportable, codeSigning, the token; Esc back keeps the form"

	tui_keys Enter
	wait_for "Made in the token" 60 || tui_bail "Enter makes the key pair and the CSR"
	expect_screen 'sensitive +yes +extractable +no'
	expect_screen 'always sensitive +yes +never extractable +yes'
	expect_screen 'generated on token yes'
	expect_screen 'Key ceremony record'
	tui_check "result: the token says sensitive, not extractable, always sensitive, never extractable, local; the record shows"

	tui_keys Enter
	wait_title "Save the CSR" || tui_bail "Enter opens Save the CSR"
	wait_for_re 'File +\./codesign-Alice-Release-[0-9]{8}\.csr'
	tui_keys C-u
	tui_type "$T_DIR/ou"
	tui_keys Tab
	wait_for "$T_DIR/out/" || tui_bail "Tab completes the directory"
	tui_type "req.csr"
	tui_keys Enter
	wait_title "CSR saved" || tui_bail "Enter saves"
	tui_check "save: ./<label>.csr offered; Tab completes '$T_DIR/ou' to out/; Enter saves"

	openssl req -in "$csr" -noout -verify >"$T_DIR/.v" 2>&1 ||
	    fail "openssl req -verify failed: $(cat "$T_DIR/.v")"
	grep -q 'verify OK' "$T_DIR/.v" || fail "openssl req -verify did not say OK"
	text=$(openssl req -in "$csr" -noout -text 2>&1)
	grep -q 'Subject: C = DE, ST = Berlin, L = Berlin, O = Contoso GmbH, CN = Alice Release' <<<"$text" ||
	    fail "the CSR's subject is not the one typed: $(grep Subject: <<<"$text")"
	grep -q 'Code Signing' <<<"$text" || fail "the CSR asks for no Code Signing EKU"
	grep -q 'Digital Signature' <<<"$text" || fail "the CSR asks for no digitalSignature"
	grep -q 'prime256v1' <<<"$text" || fail "the CSR's key is not P-256"
	dgst=$(openssl req -in "$csr" -outform DER | sha256sum | cut -d' ' -f1)
	[[ -f $csr.ceremony.txt ]] || fail "no ceremony record beside the CSR"
	grep -q "SHA-256 of the CSR  $dgst" "$csr.ceremony.txt" ||
	    fail "the ceremony record does not name the CSR's SHA-256"
	# polled, not read from the last capture: the title can be on screen
	# a moment before the rest of the summary
	wait_for "$dgst" || fail "the summary does not show the CSR's SHA-256"
	tui_check "openssl req -verify OK; subject, codeSigning and P-256 in -text; ceremony record beside it with the CSR's SHA-256, as on screen"

	tui_keys i
	wait_title "Import certificate" || tui_bail "i goes to Import certificate"
	expect_screen 'The certificate your CA issued for a key on this token'
	tui_keys Escape
	wait_title "Main menu"
	tui_check "i on the summary: Import certificate, the next step; Esc to the menu"

	sum=$(sha256sum <"$csr")
	_new_request codesign-ecdsa-p256 Bob || tui_bail "a second key pair and CSR"
	tui_keys Enter
	wait_title "Save the CSR"
	tui_keys C-u
	tui_type "$csr"
	tui_keys Enter
	wait_for "Overwrite both?" || tui_bail "saving over req.csr asks first"
	expect_screen 'out/req\.csr and its' "the question does not name req.csr"
	expect_screen 'ceremony record exist already'
	tui_keys Enter
	wait_for "Not overwritten" || tui_bail "Enter answers No"
	[[ $(sha256sum <"$csr") == "$sum" ]] || fail "req.csr changed although the answer was No"
	grep -q "CN=Alice Release" "$csr.ceremony.txt" || fail "the first ceremony record changed"
	tui_check "the same file again: the question, Enter (the default) is No, req.csr and its record unchanged"

	tui_keys Escape
	wait_title "Key pair and CSR"
	tui_keys Escape
	wait_for "delete the new key pair 'codesign-Bob-" || tui_bail "Esc on the result asks before deleting"
	tui_keys y
	wait_for "was deleted from token" || tui_bail "y deletes the key pair"
	wait_title "Check the request"
	tui_keys Escape
	wait_title "Subject and key label"
	tui_keys Escape
	wait_title "Request profile"
	tui_keys Escape
	wait_title "Main menu"
	tui_keys q
	expect_tui_exit 0
	expect_never_on_screen "$UP" "the user PIN"
	labels=$(_cli_key_labels)
	[[ $labels =~ ^codesign-Alice-Release-[0-9]{8}$ ]] ||
	    fail "the token's keys are not just Alice's: $(tr '\n' ' ' <<<"$labels")"
	tui_check "Esc on the unsaved result, y: Bob's key pair deleted; the CLI lists only Alice's; q exits 0"
}

t_wizard_rsa() {
	local csr text
	export NO_COLOR=1
	store_init_token L "$SO" "$UP"
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"
	_new_request codesign-rsa2048 Alice || tui_bail "codesign-rsa2048: key pair and CSR"
	expect_screen 'sensitive +yes +extractable +no'
	tui_keys Enter
	wait_title "Save the CSR"
	wait_for_re 'File +\./codesign-Alice-[0-9]{8}\.csr'
	tui_keys Enter
	wait_title "CSR saved" || tui_bail "Enter saves under the name offered"
	csr=$(compgen -G "$T_DIR/codesign-Alice-*.csr" | head -n 1)
	[[ -n $csr ]] || tui_bail "no codesign-Alice-*.csr in the working directory"
	openssl req -in "$csr" -noout -verify 2>&1 | grep -q 'verify OK' ||
	    fail "openssl req -verify: not OK"
	text=$(openssl req -in "$csr" -noout -text 2>&1)
	grep -q 'rsaEncryption' <<<"$text" || fail "not an RSA key"
	grep -q 'Public-Key: (2048 bit)' <<<"$text" || fail "not 2048 bits"
	grep -q 'CN = Alice' <<<"$text" || fail "CN=Alice missing"
	grep -q 'Code Signing' <<<"$text" || fail "no Code Signing EKU"
	tui_check "NO_COLOR, codesign-rsa2048: saved as ./<label>.csr in the working directory; openssl verifies an RSA-2048 request"
	tui_keys Enter
	wait_title "Main menu"
	tui_keys q
	expect_tui_exit 0
	tui_check "Enter on the summary: the menu; q exits 0"
}

t_wizard_cancel() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	export HSMDESK_FAKEP11_FAULT=slow-keygen=3000
	tui_start --module "$HD_FAKEP11"
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"
	tui_keys 2
	wait_title "Request profile"
	_pick_profile codesign-ecdsa-p256 || tui_bail "codesign-ecdsa-p256 can be chosen"
	tui_keys Enter
	wait_title "Subject and key label"
	_fill_subject Carol
	tui_keys F4
	wait_title "Check the request"
	tui_keys Enter
	wait_for_re '[-|/\\]  Generating the key pair \(EC P-256\) inside token' ||
	    tui_bail "the spinner shows while the token works"
	tui_keys Escape
	wait_for "Cancel? When the token has finished" || tui_bail "Esc asks whether to cancel"
	tui_keys y
	wait_for "Cancelled." 20 || tui_bail "y cancels"
	expect_screen 'the new key pair was deleted'
	tui_check "slow token: spinner; Esc asks; y: 'Cancelled', the key pair made meanwhile deleted"

	tui_keys Escape
	wait_title "Check the request"
	tui_keys Enter
	wait_for "Generating the key pair" || tui_bail "Enter again starts again"
	tui_keys C-c
	wait_for "Cancel? When the token has finished" || tui_bail "Ctrl-C asks whether to cancel"
	tui_keys n
	wait_for "Made in the token" 20 || tui_bail "n lets the token finish"
	tui_running || fail "Ctrl-C ended hsmdesk"
	tui_check "Ctrl-C while the token works asks too; n: it finishes, hsmdesk still runs"

	tui_keys F10
	expect_tui_exit 0
	expect_screen "hsmdesk: the new key pair 'codesign-Carol-[0-9]{8}' was deleted: its CSR was never saved" \
	    "no word on stderr about the unsaved key pair"
	unset HSMDESK_FAKEP11_FAULT
	[[ -z $(_cli_key_labels) ]] || fail "key pairs left on the token: $(_cli_key_labels | tr '\n' ' ')"
	tui_check "F10 with a key pair whose CSR was never saved: deleted, said on stderr; the token is empty"
}

# ---- Sign files -------------------------------------------------------------------

# openssl for fixtures; aborts the test if it fails.

# Token L with key "signer" (EC P-256, by `hsmdesk request`) and its
# certificate from a test CA made here (ca/root.pem -> intermediate ->
# leaf, no CRL or AIA URLs), accepted beside it with `hsmdesk accept`.
_signer_ready() {
	store_init_token L "$SO" "$UP"
	test_ca ca "/CN=E2E Root" 3650
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca/inter.key -subj "/CN=E2E Intermediate" -out ca/inter.csr
	ossl x509 -req -in ca/inter.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 1825 -extfile ca/ext.cnf -extensions inter \
	    -out ca/inter.pem
	UP=$UP run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "C=DE,ST=Berlin,L=Berlin,O=Contoso GmbH,CN=Contoso Release Signing" \
	    --label signer --out signer.csr --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
	ossl x509 -req -in signer.csr -CA ca/inter.pem -CAkey ca/inter.key \
	    -CAcreateserial -days 365 -extfile ca/ext.cnf -extensions codesign \
	    -out leaf.pem
	cat leaf.pem ca/inter.pem ca/root.pem >bundle.pem
	UP=$UP run_hsmdesk accept bundle.pem --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	mkdir -p dist
	printf 'release notes\n' >dist/notes.txt
	head -c 3000000 /dev/urandom >dist/app.tar
}

t_sign() {
	local f sha1
	_signer_ready
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	tui_keys 6
	wait_title "Log in" || tui_bail "Sign files without a login goes to Log in"
	tui_type "$UP"
	tui_keys Enter
	wait_title "Sign files: choose the certificate" || tui_bail "and comes back after it"
	wait_for "Contoso Release Signing" || tui_bail "the certificate is listed"
	sha1=$(openssl x509 -in leaf.pem -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
	tui_type "zz"
	wait_for "None matches the filter." || tui_bail "a filter matching nothing"
	tui_keys C-u
	tui_type "${sha1:0:8}"
	wait_for_re "Filter \\(thumbprint or subject\\): +${sha1:0:8}" ||
	    tui_bail "the thumbprint prefix is typed"
	expect_screen "SHA-1  ${sha1^^}" "the thumbprint prefix (lower case) finds it"
	tui_keys Enter
	wait_title "Sign files: choose the files" || tui_bail "Enter takes the certificate"
	tui_type "dist/*"
	tui_keys Enter
	wait_for "2 files marked." || tui_bail "a glob marks both files"
	tui_keys F4
	wait_title "Sign files: options" || tui_bail "F4 goes to the options"
	expect_screen 'CMS +2\.9 MiB +dist/app\.tar' "app.tar is CMS (auto)"
	tui_keys Enter
	wait_title "Sign files: confirm" || tui_bail "Enter goes to the confirm"
	expect_screen 'dist/notes\.txt +dist/notes\.txt\.p7s'
	tui_keys Enter
	wait_for "2 of 2 files signed." 60 || tui_bail "both files are signed"
	expect_screen "✓ CMS +dist/app.tar: dist/app.tar.p7s"
	# HSMDESK_SIGN_CAPTURE=FILE keeps this screen (the README's capture)
	[[ -n ${HSMDESK_SIGN_CAPTURE:-} ]] && printf '%s\n' "$TUI_SCREEN" \
	    >"$HSMDESK_SIGN_CAPTURE"
	tui_keys v
	wait_title "Sign files: verify" || tui_bail "v verifies"
	tui_type "ca/root.pem"
	tui_keys Enter
	wait_for "2 of 2 signatures good." 30 || tui_bail "both verify in the TUI"
	expect_screen "✓ dist/notes.txt: good: signature valid, chain trusted"
	tui_keys F10
	expect_tui_exit 0
	for f in dist/notes.txt dist/app.tar; do
		openssl cms -verify -binary -inform DER -in "$f.p7s" -content "$f" \
		    -CAfile ca/root.pem -purpose any -out /dev/null 2>"$T_DIR/.v" ||
		    fail "openssl cms -verify $f.p7s: $(cat "$T_DIR/.v")"
	done
	tui_check "Sign files: login first, certificate, glob, options, confirm, two CMS signatures openssl verifies; verify screen says good"
}

# A small PE (mingw) and a text file: auto gives Authenticode and CMS.
t_sign_pe() {
	_signer_ready
	printf 'int main(void) { return 0; }\n' >hello.c
	timeout 120 x86_64-w64-mingw32-gcc -o dist/hello.exe hello.c \
	    >"$T_DIR/.cc" 2>&1 || t_abort "mingw: $(cat "$T_DIR/.cc")"
	printf 'Write-Host "hello"\r\n' >dist/tool.ps1
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"
	tui_keys 6
	wait_title "Sign files: choose the certificate" || tui_bail "6 opens Sign files"
	tui_keys Enter
	wait_title "Sign files: choose the files" || tui_bail "Enter takes the certificate"
	tui_type "dist/hello.exe"
	tui_keys Enter
	wait_for "1 file marked." || tui_bail "the path marks the PE"
	tui_type "dist/notes.txt"
	tui_keys Enter
	wait_for "(2 marked)" || tui_bail "the path marks the text"
	tui_type "dist/tool.ps1"
	tui_keys Enter
	wait_for "(3 marked)" || tui_bail "the path marks the script"
	tui_keys F4
	wait_title "Sign files: options" || tui_bail "F4 goes to the options"
	expect_screen 'Authenticode +[0-9.]+ KiB +dist/hello\.exe' "the PE gets Authenticode"
	expect_screen 'CMS +[0-9]+ B +dist/notes\.txt' "the text gets CMS"
	expect_screen 'Authenticode +[0-9]+ B +dist/tool\.ps1' "the script gets Authenticode"
	tui_keys Down Down
	tui_type "Hello Tool"
	wait_for_re 'Description \(/d\) +Hello Tool' || tui_bail "the description is typed"
	tui_keys Enter
	wait_title "Sign files: confirm" || tui_bail "Enter goes to the confirm"
	expect_screen 'Authenticode +dist/hello\.exe +in the file'
	tui_keys Enter
	wait_for "3 of 3 files signed." 60 || tui_bail "the three files are signed"
	tui_keys v
	wait_title "Sign files: verify" || tui_bail "v verifies"
	tui_type "ca/root.pem"
	tui_keys Enter
	wait_for "3 of 3 signatures good." 30 || tui_bail "all three verify in the TUI"
	expect_screen 'SHA256 Authenticode'
	tui_keys F10
	expect_tui_exit 0
	timeout 60 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in dist/hello.exe >"$T_DIR/.v" 2>&1 ||
	    fail "osslsigncode verify hello.exe: $(tail -n 5 "$T_DIR/.v")"
	grep -q "Hello Tool" "$T_DIR/.v" ||
	    fail "osslsigncode shows no description 'Hello Tool'"
	timeout 60 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in dist/tool.ps1 >"$T_DIR/.v" 2>&1 ||
	    fail "osslsigncode verify tool.ps1: $(tail -n 5 "$T_DIR/.v")"
	openssl cms -verify -binary -inform DER -in dist/notes.txt.p7s \
	    -content dist/notes.txt -CAfile ca/root.pem -purpose any \
	    -out /dev/null 2>"$T_DIR/.v" ||
	    fail "openssl cms -verify notes.txt.p7s: $(cat "$T_DIR/.v")"
	tui_check "Sign files, auto: the PE and the .ps1 get Authenticode (osslsigncode verifies both), the text CMS (openssl verifies)"
}

# Esc while an 8 GiB (sparse) file is hashed: asks; y cancels; no .p7s and
# no temporary file is left; the small file after it is skipped.
t_sign_cancel() {
	local left
	_signer_ready
	rm -f dist/*
	truncate -s 8G dist/a-big.bin
	printf 'small\n' >dist/b-small.txt
	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"
	tui_keys 6
	wait_title "Sign files: choose the certificate" || tui_bail "6 opens Sign files"
	tui_keys Enter
	wait_title "Sign files: choose the files" || tui_bail "Enter takes the certificate"
	tui_type "dist/*"
	tui_keys Enter
	wait_for "2 files marked." || tui_bail "both files marked"
	tui_keys F4
	wait_title "Sign files: options" || tui_bail "F4 goes to the options"
	tui_keys Enter
	wait_title "Sign files: confirm" || tui_bail "Enter goes to the confirm"
	tui_keys Enter
	wait_for_re '> CMS +dist/a-big\.bin +\[' || tui_bail "the big file's bar shows"
	tui_keys Escape
	wait_for "Cancel? The file being signed is left as it was" ||
	    tui_bail "Esc asks whether to cancel"
	tui_keys y
	wait_for "Cancelled: 0 of 2 signed" 30 || tui_bail "y cancels"
	expect_screen "✗ CMS +dist/a-big.bin: cancelled; nothing written"
	expect_screen "- CMS +dist/b-small.txt: not signed \(cancelled\)"
	tui_keys F10
	expect_tui_exit 0
	left=$(ls -A dist | grep -v -x -e a-big.bin -e b-small.txt)
	[[ -z $left ]] || fail "left in dist/: $left"
	tui_check "Esc while hashing 8 GiB asks; y: cancelled, no .p7s or temp file left, the rest skipped"
}

# A CA made here with openssl: a root that signs leaves directly.
_make_root_ca() {
	test_ca ca "/O=hsmdesk e2e/CN=E2E Root" 3650
}

# The SHA-1 row of the Find screen's details pane.
_details_sha1() {
	grep -Eo '^│ SHA-1 +[0-9A-F]{40}' <<<"$TUI_SCREEN" | grep -Eo '[0-9A-F]{40}'
}

t_certs() {
	local sha1 shown
	store_init_token L "$SO" "$UP"
	_make_root_ca || tui_bail "openssl makes a test CA"
	export UP
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "C=US,ST=Washington,L=Seattle,O=Contoso Ltd,CN=Dana" --label dana --out dana.csr \
	    --pin env:UP
	((HD_STATUS == 0)) || tui_bail "hsmdesk request: $HD_ERR"
	openssl x509 -req -in dana.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 365 -extfile ca/ext.cnf -extensions codesign \
	    -out dana.pem </dev/null >/dev/null 2>&1 || tui_bail "the CA signs"
	cat ca/root.pem >>dana.pem
	sha1=$(openssl x509 -in dana.pem -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :)

	tui_start
	wait_title "Main menu" || tui_bail "the menu opens"
	_tui_login || tui_bail "the user PIN logs in"
	tui_keys 4
	wait_title "Import certificate" || tui_bail "4 opens Import certificate"
	tui_type "dana.p"
	tui_keys Tab
	wait_for "./dana.pem" || tui_bail "Tab completes ./dana.p to ./dana.pem"
	tui_keys Enter
	wait_title "Check the certificate" || tui_bail "Enter checks the file"
	expect_screen "ok +key +fits private key 'dana'"
	expect_screen "Root 'O=hsmdesk e2e, CN=E2E Root' is not trusted yet|Root 'CN=E2E Root, O=hsmdesk e2e' is not trusted yet"
	tui_check "import: Tab completion, the checks, the new root's fingerprint"
	tui_keys Enter
	wait_for "y: Trust it" || tui_bail "Enter asks about the root"
	tui_keys y
	wait_title "Certificate imported" || tui_bail "y stores it"
	expect_screen "$sha1" "openssl's SHA-1 on the result"
	expect_screen "on token 'L'"
	expect_screen "now a trust anchor"
	tui_check "stored on the token beside 'dana', openssl's SHA-1 thumbprint shown, the root an anchor"

	tui_keys 5
	wait_title "Find by thumbprint" || tui_bail "5 opens Find by thumbprint"
	tui_type "${sha1:0:6}"
	wait_for "1 of 2, by thumbprint" || tui_bail "6 digits leave one of two"
	shown=$(_details_sha1)
	[[ $shown == "$sha1" ]] ||
	    fail "the details pane shows '$shown', openssl says $sha1"
	tui_keys y
	wait_for "Sent to the terminal's clipboard (OSC 52)" ||
	    fail "y shows the thumbprint and says it was sent"
	tui_keys Escape
	wait_for "1 of 2, by thumbprint"
	tui_keys Escape
	wait_title "Main menu"
	tui_keys q
	expect_tui_exit 0
	tui_check "find: the first six digits typed find it; the SHA-1 shown is openssl's; y copies; q exits 0"
}

t_run "tui first run" t_first_run
t_run "tui login, token & keys" t_login_token
t_run "tui Ctrl-C" t_ctrl_c
t_run "tui signals" t_signals
t_run "tui resize" t_resize
t_run "tui help" t_help
t_run "tui key mash" t_mash
t_run "tui first frame" t_first_frame
t_run "tui wizard: generate, save, overwrite, discard" t_wizard
t_run "tui wizard: RSA-2048, NO_COLOR" t_wizard_rsa
t_run "tui wizard: cancel while the token works" t_wizard_cancel
t_run "tui sign files: two files, openssl verifies" t_sign
t_run "tui sign files: PE and text, auto types" t_sign_pe
t_run "tui sign files: Esc while hashing cancels cleanly" t_sign_cancel
t_run "tui certificate: import, then find by thumbprint" t_certs
e2e_finish
