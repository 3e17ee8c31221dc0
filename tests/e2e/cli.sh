#!/usr/bin/env bash
#
# End-to-end tests of the hsmdesk command line (shared/CLI.md) against
# throwaway SoftHSM2 stores, and against tests/fakep11 for the token states
# SoftHSM2 cannot produce (PIN low/final/locked/expired, token removed).
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/cli.sh
#
# Each t_* function is one test with its own store (lib.bash, t_setup).
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

# PINs used throughout; distinctive so that a leak into any output shows.
export SO=83927461 UP=57319284 NP=64028517
WRONG=90817263
LABEL_RE='[0-9a-f]{16} +SoftHSM v2'

# ---- tokens, init-token ---------------------------------------------------------

t_tokens_fresh() {
	run_hsmdesk tokens
	expect_status 0
	expect_stdout_match '^LABEL +SERIAL +MODEL +STATE$'
	expect_stdout_count 1 '^\(uninitialized\) .*not initialized$'
	expect_stdout_count 2 '.'
	expect_stderr_empty
	check "tokens on a fresh store shows one uninitialized token"

	run_hsmdesk tokens --json
	expect_status 0
	expect_json_array
	expect_stdout_count 1 '^\[\{.*\}\]$'
	expect_json_fields "$HD_OUT" '"label":""' '"initialized":false' \
	    '"model":"SoftHSM v2"' '"state":"not initialized"' \
	    '"login_required":' '"user_pin_initialized":false' \
	    '"pin_locked":false' '"min_pin_length":' '"max_pin_length":'
	[[ $(json_objects "$HD_OUT" | grep -c '^{') -eq 1 ]] ||
	    fail "expected one token object"
	check "tokens --json: one object with the exact keys"

	run_hsmdesk --json tokens
	expect_status 0
	expect_json_array
	check "--json before the command is accepted too"
}

t_init_token() {
	run_hsmdesk init-token --label L --so-pin env:SO --pin env:UP
	expect_status 0
	expect_stdout_match "initialized"
	expect_no_pin "$SO"
	expect_no_pin "$UP"
	check "init-token --label L --so-pin env:SO --pin env:UP"

	run_hsmdesk tokens
	expect_status 0
	expect_stdout_count 1 "^L +$LABEL_RE +ready$"
	expect_stdout_count 1 '^\(uninitialized\) '
	check "tokens shows L ready (and SoftHSM2's next free slot)"

	run_hsmdesk tokens --json
	expect_json_array
	expect_json_fields "$(json_object_with "$HD_OUT" label L)" \
	    '"initialized":true' '"user_pin_initialized":true' \
	    '"state":"ready"' '"pin_locked":false'
	check "tokens --json shows L initialized and ready"

	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stdout_count 1 '^LABEL +ID +TYPE'
	check "the user PIN set by init-token works"

	run_hsmdesk init-token --label L --so-pin env:SO --pin env:UP
	expect_status 2
	expect_stderr_match "'L'.*already"
	expect_stderr_one_line
	check "init-token with a label already in use: status 2"

	run_hsmdesk tokens
	expect_stdout_count 1 '^L '
	expect_stdout_count 1 '^\(uninitialized\) '
	check "... and the free token stays uninitialized"

	run_hsmdesk --token L init-token --label M --so-pin env:SO --pin env:UP
	expect_status 2
	expect_stderr_match 'already initialized'
	expect_stderr_one_line
	check "--token L init-token on an initialized token: status 2"

	run_hsmdesk keys --pin env:UP
	expect_status 0
	check "... and token L still opens with its PIN"

	run_hsmdesk init-token --so-pin env:SO --pin env:UP
	expect_status 2
	expect_stderr_match -- '--label'
	check "init-token without --label: status 2"

	SHORT=12 run_hsmdesk init-token --label S --so-pin env:SO --pin env:SHORT
	expect_status 2
	expect_stderr_match 'user PIN.*2 characters|PIN.*length|accepts'
	check "init-token with a too short user PIN: status 2"

	run_hsmdesk tokens
	expect_stdout_no_match '^S '
	expect_stdout_count 1 '^\(uninitialized\) '
	check "... and nothing was initialized"

	run_hsmdesk init-token --label S --so-pin - --pin -
	expect_status 2
	expect_stderr_match 'standard input is already used'
	check "init-token --so-pin - --pin -: refused"
}

# ---- keys and PIN sources --------------------------------------------------------

t_pin_sources() {
	store_init_token L "$SO" "$UP"

	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stdout_match '^LABEL +ID +TYPE +SENSITIVE +EXTRACTABLE'
	expect_no_pin "$UP"
	check "keys --pin env:VAR"

	printf '%s\n' "$UP" >pin600
	chmod 600 pin600
	run_hsmdesk keys --pin "file:$T_DIR/pin600"
	expect_status 0
	expect_stdout_match '^LABEL '
	expect_stderr_no_match 'warning'
	expect_no_pin "$UP"
	check "keys --pin file: (mode 0600, no warning)"

	printf '%s\n' "$UP" >pin644
	chmod 644 pin644
	run_hsmdesk keys --pin "file:$T_DIR/pin644"
	expect_status 0
	expect_stdout_match '^LABEL '
	expect_stderr_match 'pin644.*(readable by others|chmod)'
	expect_no_pin "$UP"
	check "keys --pin file: (mode 0644) works and warns"

	run_hsmdesk -q keys --pin "file:$T_DIR/pin644"
	expect_status 0
	check "... -q still works"

	run_hsmdesk keys --pin "file:$T_DIR/nonexistent"
	expect_status 2
	expect_stderr_match 'nonexistent'
	check "keys --pin file: with a missing file: status 2"

	run_hsmdesk_stdin "$UP"$'\n' keys --pin -
	expect_status 0
	expect_stdout_match '^LABEL '
	expect_no_pin "$UP"
	check "keys --pin - (one line on stdin)"

	run_hsmdesk_stdin "$UP"$'\r\n' keys --pin -
	expect_status 0
	check "keys --pin - with a CRLF line end"

	run_hsmdesk_stdin "" keys --pin -
	expect_status 2
	expect_stderr_match 'standard input|stdin'
	check "keys --pin - with nothing on stdin: status 2"

	run_hsmdesk keys --pin env:HSMDESK_TEST_UNSET_VAR
	expect_status 2
	expect_stderr_match 'HSMDESK_TEST_UNSET_VAR'
	check "keys --pin env: with an unset variable: status 2"

	W=$WRONG run_hsmdesk keys --pin env:W
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	expect_stderr_one_line
	expect_stdout_empty
	expect_no_pin "$WRONG"
	check "keys with a wrong PIN: status 1, 'PIN incorrect', PIN not shown"

	run_hsmdesk keys --pin 1234
	expect_status 2
	expect_stderr_match 'env:'
	expect_stderr_match 'file:'
	expect_no_pin 1234
	check "a literal --pin 1234 is refused and not echoed"

	run_hsmdesk_noterm 10 keys
	expect_status 2
	expect_stderr_match -- '--pin'
	expect_stderr_match 'terminal'
	check "keys, no terminal and no --pin: status 2 at once (no hang)"

	run_hsmdesk_noterm 10 change-pin
	expect_status 2
	check "change-pin, no terminal and no --pin: status 2 at once"

	run_hsmdesk_stdin "$UP"$'\n'"$NP"$'\n' change-pin --pin - --new-pin -
	expect_status 2
	expect_stderr_match 'standard input is already used'
	expect_no_pin "$UP"
	check "--pin - --new-pin -: refused"

	run_hsmdesk keys --pin env:UP
	expect_status 0
	check "... and the PIN was not changed"
}

t_keys_listing() {
	store_init_token L "$SO" "$UP"
	p11tool --token-label L --login --pin "$UP" --keypairgen \
	    --key-type rsa:2048 --id 01 --label k1
	p11tool --token-label L --login --pin "$UP" --keypairgen \
	    --key-type EC:prime256v1 --id 02 --label k2
	p11tool --token-label L --login --pin "$UP" --keypairgen \
	    --key-type EC:prime256v1 --id 03 --label k3 --extractable
	command -v openssl >/dev/null || t_abort "openssl not found"
	timeout 60 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout cert.key -subj /CN=hsmdesk-e2e -days 2 -outform DER \
	    -out cert.der </dev/null >"$T_DIR/.fixture" 2>&1 ||
	    t_abort "openssl req failed: $(cat "$T_DIR/.fixture")"
	p11tool --token-label L --login --pin "$UP" --write-object cert.der \
	    --type cert --id 01 --label k1

	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stdout_match '^LABEL +ID +TYPE +SENSITIVE +EXTRACTABLE +NEVER-EXTR +LOCAL +CERT$'
	#                 LABEL ID TYPE        SENS EXTR NEVER LOCAL CERT
	expect_stdout_count 1 '^k1 +01 +RSA-2048 +yes +no +yes +yes +yes$'
	expect_stdout_count 1 '^k2 +02 +EC P-256 +yes +no +yes +yes +no$'
	expect_stdout_count 1 '^k3 +03 +EC P-256 +yes +yes +no +yes +no$'
	expect_stdout_count 4 '.'
	expect_no_pin "$UP"
	check "keys: RSA-2048 with certificate, EC P-256, extractable EC"

	run_hsmdesk keys --json --pin env:UP
	expect_status 0
	expect_json_array
	[[ $(json_objects "$HD_OUT" | grep -c '^{') -eq 3 ]] ||
	    fail "expected 3 key objects"
	expect_json_fields "$(json_object_with "$HD_OUT" label k1)" \
	    '"id":"01"' '"type":"RSA"' '"bits":2048' '"sensitive":true' \
	    '"extractable":false' '"never_extractable":true' '"local":true' \
	    '"certificate":true'
	expect_json_fields "$(json_object_with "$HD_OUT" label k2)" \
	    '"id":"02"' '"type":"EC"' '"curve":"P-256"' '"sensitive":true' \
	    '"extractable":false' '"never_extractable":true' '"local":true' \
	    '"certificate":false'
	expect_json_fields "$(json_object_with "$HD_OUT" label k3)" \
	    '"id":"03"' '"extractable":true' '"never_extractable":false' \
	    '"certificate":false'
	check "keys --json: sensitive/extractable/never_extractable/local/certificate"

	run_hsmdesk --token L keys --pin env:UP
	expect_status 0
	expect_stdout_count 1 '^k1 '
	check "--token LABEL selects the token"

	run_hsmdesk tokens
	expect_status 0
	serial=$(awk '/^L /{print $2}' <<<"$HD_OUT")
	[[ -n $serial ]] || fail "no serial for L in 'tokens'"
	run_hsmdesk --token "$serial" keys --pin env:UP
	expect_status 0
	expect_stdout_count 1 '^k1 '
	check "--token SERIAL selects the token"

	run_hsmdesk --token "pkcs11:token=L" keys --pin env:UP
	expect_status 0
	expect_stdout_count 1 '^k1 '
	check "--token pkcs11:token=L selects the token"

	run_hsmdesk keys extra --pin env:UP
	expect_status 2
	expect_stderr_match "extra"
	check "keys with an unexpected argument: status 2"
}

# ---- change-pin, reset-pin -----------------------------------------------------

t_change_pin() {
	store_init_token L "$SO" "$UP"

	run_hsmdesk change-pin --pin env:UP --new-pin env:NP
	expect_status 0
	expect_stdout_match 'changed'
	expect_no_pin "$UP"
	expect_no_pin "$NP"
	check "change-pin --pin env:UP --new-pin env:NP"

	run_hsmdesk keys --pin env:UP
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	check "... the old PIN works no more"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... the new PIN works"

	SHORT=12 run_hsmdesk change-pin --pin env:NP --new-pin env:SHORT
	expect_status 2
	expect_stderr_match 'new PIN'
	expect_no_pin "$NP"
	check "change-pin to a too short PIN: status 2"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... nothing changed: the PIN still works"

	LONG=$(printf '7%.0s' {1..300}) run_hsmdesk change-pin --pin env:NP \
	    --new-pin env:LONG
	expect_status 2
	expect_stderr_match 'longer|length|characters'
	expect_stderr_no_match '7777777777'
	check "change-pin to a 300-character PIN (env:): status 2"

	printf '7%.0s' {1..300} >long.pin
	chmod 600 long.pin
	run_hsmdesk change-pin --pin env:NP --new-pin "file:$T_DIR/long.pin"
	expect_status 2
	expect_stderr_match 'longer|length|characters'
	check "change-pin to a 300-character PIN (file:): status 2"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... nothing changed: the PIN still works"

	W=$WRONG run_hsmdesk change-pin --pin env:W --new-pin env:UP
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	expect_no_pin "$WRONG"
	check "change-pin with a wrong current PIN: status 1"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... nothing changed: the PIN still works"
}

t_reset_pin() {
	store_init_token L "$SO" "$UP"

	run_hsmdesk reset-pin --so-pin env:SO --new-pin env:NP
	expect_status 0
	expect_stdout_match 'reset'
	expect_no_pin "$SO"
	expect_no_pin "$NP"
	check "reset-pin with the right SO PIN: status 0"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... the new user PIN works"

	run_hsmdesk keys --pin env:UP
	expect_status 1
	check "... the old user PIN works no more"

	W=$WRONG run_hsmdesk reset-pin --so-pin env:W --new-pin env:UP
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	expect_stderr_one_line
	expect_no_pin "$WRONG"
	expect_no_pin "$UP"
	check "reset-pin with a wrong SO PIN: status 1"

	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... nothing changed: the user PIN still works"
}

# ---- modules, tokens, configuration -------------------------------------------------

t_no_such_token() {
	store_init_token L "$SO" "$UP"

	run_hsmdesk --token nope keys --pin env:UP
	expect_status 2
	expect_stderr_match "nope"
	expect_stderr_one_line
	check "--token nope: status 2"

	run_hsmdesk --token nope change-pin --pin env:UP --new-pin env:NP
	expect_status 2
	check "--token nope change-pin: status 2"
}

t_no_token_at_all() {
	run_hsmdesk keys --pin env:UP
	expect_status 2
	expect_stderr_match 'no initialized token'
	expect_stderr_match 'init-token'
	check "keys with no initialized token: status 2, says init-token"
}

t_modules() {
	run_hsmdesk --module "$T_DIR/no/such/libnope.so" tokens
	expect_status 2
	expect_stderr_match 'libnope\.so'
	expect_stderr_one_line
	check "--module with no such file: status 2"

	run_hsmdesk --module "$T_DIR" tokens
	expect_status 2
	check "--module naming a directory: status 2"

	run_hsmdesk --module /etc/passwd tokens
	expect_status 2
	expect_stderr_match '/etc/passwd'
	check "--module /etc/passwd (not a library): status 2"

	lib=/usr/lib/x86_64-linux-gnu/libyaml-0.so.2
	[[ -f $lib ]] || lib=$(ldconfig -p 2>/dev/null |
	    awk '/libyaml-0\.so\.2 /{print $NF; exit}')
	if [[ -n $lib && -f $lib ]]; then
		run_hsmdesk --module "$lib" tokens
		expect_status 2
		expect_stderr_match 'PKCS#11|C_GetFunctionList'
	else
		fail "no libyaml-0.so.2 found to use as a non-PKCS#11 library"
	fi
	check "--module libyaml (a .so without C_GetFunctionList): status 2"

	run_hsmdesk --module "$SOFTHSM_MODULE" tokens
	expect_status 0
	expect_stdout_count 1 '^\(uninitialized\) '
	check "--module naming SoftHSM2 works"
}

t_module_env() {
	need_fakep11
	store_init_token L "$SO" "$UP"

	HSMDESK_MODULE=$T_DIR/env-module.so run_hsmdesk tokens
	expect_status 2
	expect_stderr_match 'env-module\.so'
	check "HSMDESK_MODULE is used (a missing one is named)"

	export HSMDESK_FAKEP11_FAULT=pin-locked
	HSMDESK_MODULE=$HD_FAKEP11 run_hsmdesk tokens
	expect_status 0
	expect_stdout_match '^L .*PIN locked$'
	check "HSMDESK_MODULE=fakep11.so is loaded (it reports PIN locked)"
	unset HSMDESK_FAKEP11_FAULT

	HSMDESK_MODULE=$T_DIR/env-module.so run_hsmdesk --module \
	    "$SOFTHSM_MODULE" tokens
	expect_status 0
	check "--module wins over HSMDESK_MODULE"
}

t_config() {
	need_fakep11
	store_init_token L1 "$SO" "$UP"
	store_init_token L2 "$SO" "$NP"

	run_hsmdesk keys --pin env:NP
	expect_status 2
	expect_stderr_match 'L1'
	expect_stderr_match 'L2'
	check "two initialized tokens and no --token: status 2, both named"

	write_config $'token: L2\n'
	run_hsmdesk keys --pin env:NP
	expect_status 0
	expect_stdout_match '^LABEL '
	check "config.yaml 'token: L2' selects L2"

	run_hsmdesk --token L1 keys --pin env:UP
	expect_status 0
	check "--token L1 wins over config.yaml's token"

	write_config "module: $T_DIR/cfg-module.so"$'\n'
	run_hsmdesk tokens
	expect_status 2
	expect_stderr_match 'cfg-module\.so'
	check "config.yaml 'module:' is used (a missing one is named)"

	HSMDESK_MODULE=$SOFTHSM_MODULE run_hsmdesk tokens
	expect_status 0
	check "HSMDESK_MODULE wins over config.yaml's module"

	write_config "module: $HD_FAKEP11"$'\n'"token: L2"$'\n'
	HSMDESK_FAKEP11_FAULT=pin-locked run_hsmdesk keys --pin env:NP
	expect_status 1
	expect_stderr_match "'L2'.*PIN locked"
	check "config.yaml 'module: fakep11.so' and 'token: L2' both honoured"

	write_config "module: $SOFTHSM_MODULE"$'\n'"bogus: 1"$'\n'
	run_hsmdesk tokens
	expect_status 2
	expect_stderr_match 'config\.yaml:2:1'
	expect_stderr_match 'bogus'
	expect_stderr_one_line
	check "config.yaml with an unknown key: status 2, config.yaml:2:1"

	write_config $'module: [a, b]\n'
	run_hsmdesk tokens
	expect_status 2
	expect_stderr_match 'config\.yaml:1:[0-9]+'
	check "config.yaml with a non-scalar value: status 2, file:line:col"
}

t_usage() {
	run_hsmdesk frobnicate
	expect_status 2
	expect_stderr_match 'frobnicate'
	expect_stderr_one_line
	expect_stdout_empty
	check "unknown command: status 2"

	run_hsmdesk tokens --label x
	expect_status 2
	expect_stderr_match -- '--label'
	expect_stdout_empty
	check "tokens --label x (an option tokens does not take): status 2"

	run_hsmdesk keys --so-pin env:SO
	expect_status 2
	expect_stderr_match -- '--so-pin'
	check "keys --so-pin: status 2"

	run_hsmdesk --frobnicate tokens
	expect_status 2
	expect_stdout_empty
	check "unknown option --frobnicate: status 2"

	run_hsmdesk --version
	expect_status 0
	expect_stdout_match '^hsmdesk [0-9]+\.[0-9]+\.[0-9]+'
	expect_stderr_empty
	check "--version: status 0"

	run_hsmdesk --help
	expect_status 0
	expect_stdout_match '^usage: hsmdesk'
	expect_stdout_match 'init-token'
	expect_stderr_empty
	check "--help: status 0, usage on stdout"

	run_hsmdesk help
	expect_status 0
	expect_stdout_match '^usage: hsmdesk'
	check "help: status 0"
}

t_embedded_store() {
	unset SOFTHSM2_CONF
	local base=$XDG_DATA_HOME/hsmdesk

	run_hsmdesk tokens
	expect_status 0
	expect_stdout_count 1 '^\(uninitialized\) '
	expect_mode "$base" 700
	expect_mode "$base/softhsm" 700
	expect_mode "$base/softhsm/tokens" 700
	expect_mode "$base/softhsm/softhsm2.conf" 600
	grep -Fqx "directories.tokendir = $base/softhsm/tokens" \
	    "$base/softhsm/softhsm2.conf" 2>/dev/null ||
	    fail "softhsm2.conf does not point at $base/softhsm/tokens"
	check "no SOFTHSM2_CONF, no --module: embedded store created 0700"

	run_hsmdesk init-token --label E --so-pin env:SO --pin env:UP
	expect_status 0
	run_hsmdesk tokens
	expect_status 0
	expect_stdout_count 1 "^E +$LABEL_RE +ready$"
	[[ -n $(ls -A "$base/softhsm/tokens" 2>/dev/null) ]] ||
	    fail "no token directory under $base/softhsm/tokens"
	check "the embedded store keeps an initialized token"

	chmod 755 "$base/softhsm"
	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_mode "$base/softhsm" 700
	check "a loosened embedded store directory is made 0700 again"

	unset XDG_DATA_HOME
	run_hsmdesk tokens
	expect_status 0
	expect_stdout_count 1 '^\(uninitialized\) '
	expect_mode "$HOME/.local/share/hsmdesk/softhsm" 700
	check "without XDG_DATA_HOME: \$HOME/.local/share/hsmdesk/softhsm"
}

# ---- faults through fakep11 -------------------------------------------------------

t_fault_pin_count_low() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	export HSMDESK_FAKEP11_FAULT=pin-count-low

	run_hsmdesk --module "$HD_FAKEP11" tokens
	expect_status 0
	expect_stdout_match '^L .*(tries low|low)'
	check "pin-count-low: tokens says PIN tries low"

	W=$WRONG run_hsmdesk --module "$HD_FAKEP11" keys --pin env:W
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	expect_stderr_match 'few tries'
	expect_stderr_one_line
	expect_no_pin "$WRONG"
	check "pin-count-low + wrong PIN: status 1, says few tries left"

	run_hsmdesk --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 0
	check "pin-count-low + right PIN: status 0"
}

t_fault_pin_final_try() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	export HSMDESK_FAKEP11_FAULT=pin-final-try

	run_hsmdesk --module "$HD_FAKEP11" tokens
	expect_status 0
	expect_stdout_match '^L .*final'
	check "pin-final-try: tokens says final PIN try"

	run_hsmdesk --module "$HD_FAKEP11" tokens --json
	expect_json_fields "$(json_object_with "$HD_OUT" label L)" \
	    '"pin_final_try":true'
	check "pin-final-try: tokens --json has pin_final_try true"

	W=$WRONG run_hsmdesk --module "$HD_FAKEP11" keys --pin env:W
	expect_status 1
	expect_stderr_match 'PIN incorrect'
	expect_stderr_match 'final try'
	expect_stderr_match 'one more wrong PIN locks'
	expect_no_pin "$WRONG"
	check "pin-final-try + wrong PIN: status 1, one more wrong PIN locks"
}

t_fault_pin_locked() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	export HSMDESK_FAKEP11_FAULT=pin-locked

	run_hsmdesk --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 1
	expect_stderr_match 'PIN locked'
	expect_stderr_match 'reset-pin'
	expect_stderr_one_line
	expect_stdout_empty
	check "pin-locked: keys status 1, 'PIN locked', mentions reset-pin"

	run_hsmdesk --module "$HD_FAKEP11" tokens
	expect_status 0
	expect_stdout_match '^L .*PIN locked$'
	check "pin-locked: tokens shows PIN locked"

	run_hsmdesk --module "$HD_FAKEP11" tokens --json
	expect_json_fields "$(json_object_with "$HD_OUT" label L)" \
	    '"pin_locked":true' '"state":"PIN locked"'
	check "pin-locked: tokens --json has pin_locked true"

	run_hsmdesk --module "$HD_FAKEP11" change-pin --pin env:UP \
	    --new-pin env:NP
	expect_status 1
	expect_stderr_match 'PIN locked'
	check "pin-locked: change-pin status 1, PIN locked"

	run_hsmdesk --module "$HD_FAKEP11" reset-pin --so-pin env:SO \
	    --new-pin env:NP
	expect_status 0
	check "pin-locked: reset-pin by the SO succeeds"

	unset HSMDESK_FAKEP11_FAULT
	run_hsmdesk keys --pin env:NP
	expect_status 0
	check "... and the reset PIN works"
}

t_fault_pin_expired() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	export HSMDESK_FAKEP11_FAULT=pin-expired

	run_hsmdesk --module "$HD_FAKEP11" tokens
	expect_status 0
	expect_stdout_match '^L .*must be changed'
	check "pin-expired: tokens says the PIN must be changed"

	run_hsmdesk --module "$HD_FAKEP11" keys --pin env:UP
	expect_status 1
	expect_stderr_match 'must be changed'
	expect_stderr_match 'change-pin'
	expect_stderr_one_line
	expect_stdout_empty
	expect_no_pin "$UP"
	check "pin-expired: keys status 1, must be changed, hints change-pin"

	run_hsmdesk --module "$HD_FAKEP11" change-pin --pin env:UP \
	    --new-pin env:NP
	expect_status 0
	expect_no_pin "$UP"
	expect_no_pin "$NP"
	check "pin-expired: change-pin succeeds"

	unset HSMDESK_FAKEP11_FAULT
	run_hsmdesk keys --pin env:NP
	expect_status 0
	run_hsmdesk keys --pin env:UP
	expect_status 1
	check "... the new PIN works, the old one no more"
}

# "N=5: msg" lines: runs of consecutive N with the same text on one line.
_runs_collapse() {
	awk '!/^N=[0-9]+:/ { if (NR > 1 && first != "") flush(); first = ""
		print; next }
	{
		n = $1; sub(/^N=/, "", n); sub(/:$/, "", n)
		rest = $0; sub(/^N=[0-9]+:? /, "", rest)
		if (first != "" && rest == prev && n == last + 1) { last = n; next }
		if (first != "") flush()
		first = n; last = n; prev = rest
	}
	function flush() {
		printf "N=%s%s: %s\n", first, (last != first ? ".." last : ""), prev
	}
	END { if (first != "") flush() }'
}

# Pull the token out after N PKCS#11 calls, for every N until the command
# gets through: no crash and no output at any N; after the token was
# selected, status 1 and a message that says it is gone.
_removal_sweep() {	# _removal_sweep WHAT ARGS...
	local what=$1 n ok_seen=0 after=0 unnamed=() bad=() msgs=() line
	shift
	for ((n = 0; n <= 80; n++)); do
		HSMDESK_FAKEP11_FAULT=device-removed-after=$n \
		    run_hsmdesk --module "$HD_FAKEP11" "$@"
		line=${HD_ERR%%$'\n'*}
		msgs+=("N=$n: status $HD_STATUS: ${line:-(no stderr)}")
		case $HD_STATUS in
		0)	ok_seen=1
			break ;;
		1)	after=$((after + 1))
			grep -Eq 'removed|no longer present|not present' \
			    <<<"$HD_ERR" || bad+=("N=$n: does not say removed")
			grep -Fq "token 'L'" <<<"$HD_ERR" ||
			    unnamed+=("N=$n: $line") ;;
		2)	grep -Eq 'no initialized token|no such token' \
			    <<<"$HD_ERR" || bad+=("N=$n: status 2: $line") ;;
		*)	bad+=("N=$n: status $HD_STATUS") ;;
		esac
		[[ $HD_STATUS -eq 0 || -z $HD_OUT ]] ||
		    bad+=("N=$n: output on stdout after a failure")
		((${#_FAILS[@]} == 0)) || break		# a crash: stop here
	done
	((ok_seen)) || bad+=("no N up to $n let the command through")
	((after > 0)) || bad+=("no failure after the token was selected")
	if ((${#bad[@]} > 0)); then
		HD_CMD=
		fail "$(printf '%s\n' "${bad[@]}" | _runs_collapse)"
		fail "all runs of: hsmdesk --module $HD_FAKEP11 $*"
		fail "$(printf '%s\n' "${msgs[@]}" | _runs_collapse)"
	fi
	check "device removed during $what (N=0..$n): status 1, 'removed', no crash"
	if ((${#unnamed[@]} > 0)); then
		HD_CMD=
		fail "hsmdesk --module $HD_FAKEP11 $*: status 1 messages that" \
		    "do not name token 'L':"
		fail "$(printf '%s\n' "${unnamed[@]}" | _runs_collapse)"
	fi
	check "device removed during $what: every message names token 'L'"
}

t_fault_device_removed() {
	need_fakep11
	store_init_token L "$SO" "$UP"
	p11tool --token-label L --login --pin "$UP" --keypairgen \
	    --key-type EC:prime256v1 --id 01 --label k1

	# Every N, so the test does not depend on the core's call count: the
	# failures land before selection, at resolve, session, login, listing.
	_removal_sweep keys keys --pin env:UP
	# the same PIN again, so that a run that gets through changes nothing
	# (a second env:UP would not do: hsmdesk unsets a variable it read)
	UP2=$UP _removal_sweep change-pin change-pin --pin env:UP --new-pin env:UP2

	unset HSMDESK_FAKEP11_FAULT
	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_stdout_count 1 '^k1 '
	check "after the removals the token and its PIN are intact"
}

t_run "tokens" t_tokens_fresh
t_run "init-token" t_init_token
t_run "PIN sources" t_pin_sources
t_run "keys" t_keys_listing
t_run "change-pin" t_change_pin
t_run "reset-pin" t_reset_pin
t_run "token selection" t_no_such_token
t_run "no token" t_no_token_at_all
t_run "modules" t_modules
t_run "HSMDESK_MODULE" t_module_env
t_run "config.yaml" t_config
t_run "usage" t_usage
t_run "embedded store" t_embedded_store
t_run "fakep11 pin-count-low" t_fault_pin_count_low
t_run "fakep11 pin-final-try" t_fault_pin_final_try
t_run "fakep11 pin-locked" t_fault_pin_locked
t_run "fakep11 pin-expired" t_fault_pin_expired
t_run "fakep11 device-removed" t_fault_device_removed
e2e_finish
