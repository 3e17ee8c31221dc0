#!/usr/bin/env bash
#
# A remote token through p11-kit's RPC, end to end: `p11-kit server` exports
# a throwaway SoftHSM2 token on a Unix socket in the test's directory, and
# hsmdesk loads p11-kit-client.so, named in config.yaml with the socket
# (p11kit_server).  Login, request, accept, sign and verify all go through
# the client module; every output is checked with openssl.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/remote.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='CN=Contoso Release Signing,O=Contoso Ltd,L=Seattle,ST=Washington,C=US'
P11KIT=$(command -v p11-kit || echo /usr/bin/p11-kit)
CLIENT=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so


sha1_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

# p11-kit server in the foreground, in the background of this test; it is
# stopped when the test's subshell ends.
server_start() {
	[[ -x $P11KIT && -f $CLIENT ]] ||
	    t_abort "p11-kit or $CLIENT missing (Debian: p11-kit, p11-kit-modules)"
	"$P11KIT" server -f --provider "$SOFTHSM_MODULE" -n "$T_DIR/p11.sock" \
	    "pkcs11:token=L" >"$T_DIR/server.out" 2>&1 &
	SERVER=$!
	trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
	for _ in $(seq 100); do
		[[ -S $T_DIR/p11.sock ]] && return 0
		kill -0 "$SERVER" 2>/dev/null || break
		sleep 0.1
	done
	t_abort "p11-kit server did not start: $(cat "$T_DIR/server.out")"
}

t_remote_flow() {
	local thumb
	store_init_token L "$SO" "$UP"
	server_start
	test_ca ca "/CN=E2E Remote Root" 30
	# the client side knows only the socket: no SoftHSM2 store of its own
	unset SOFTHSM2_CONF
	write_config "module: p11-kit-client
p11kit_server: unix:path=$T_DIR/p11.sock
token: L"

	run_hsmdesk tokens
	expect_status 0
	expect_stdout_match '^L +[0-9a-f]+ +SoftHSM v2 +ready$'
	expect_stdout_count 1 '^L '
	check "tokens through p11-kit-client.so: the one exported token"

	run_hsmdesk probe
	expect_status 0
	expect_stdout_match "^Module +.*"
	expect_stdout_match '^Key generation +RSA 2048, 3072, 4096; EC P-256, P-384$'
	check "probe through the client module"

	run_hsmdesk request --profile codesign-rsa2048 --subject "$SUBJ" \
	    --label remote --out remote.csr --pin env:UP
	expect_status 0
	timeout 60 openssl req -verify -noout -in remote.csr >/dev/null 2>&1 ||
	    fail "openssl req -verify rejects remote.csr"
	expect_no_pin "$UP"
	check "login and request through p11-kit: the CSR verifies"

	ossl x509 -req -in remote.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions codesign \
	    -out remote.pem
	run_hsmdesk accept remote.pem --pin env:UP
	expect_status 0
	thumb=$(sha1_of remote.pem)
	expect_stdout_match "^$thumb$"
	check "accept through p11-kit: the certificate beside the remote key"

	printf 'remote build\n' >app.bin
	run_hsmdesk sign --sha1 "$thumb" --pin env:UP app.bin
	expect_status 0
	timeout 60 openssl cms -verify -binary -inform DER -in app.bin.p7s \
	    -content app.bin -CAfile ca/root.pem -purpose any -out /dev/null \
	    </dev/null >/dev/null 2>&1 || fail "openssl cms -verify rejects app.bin.p7s"
	run_hsmdesk verify --CAfile ca/root.pem app.bin
	expect_status 0
	check "sign through p11-kit; openssl cms -verify and hsmdesk verify accept it"

	kill "$SERVER" 2>/dev/null
	wait "$SERVER" 2>/dev/null
	run_hsmdesk keys --pin env:UP
	((HD_STATUS != 0)) || fail "keys succeeded with the server gone"
	expect_stderr_one_line
	check "server gone: one line, no hang"
}

t_run "remote token through p11-kit server" t_remote_flow
e2e_finish
