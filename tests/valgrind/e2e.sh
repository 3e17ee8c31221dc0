#!/usr/bin/env bash
#
# The login path and one of each step, the real binary under valgrind
# memcheck (make check-valgrind runs it; tests/run.sh does not).  hsmdesk
# is reached through a wrapper that HSMDESK_VG_BIN names, made by the
# Makefile: valgrind's own errors make the run exit 99, which no check
# here accepts, and its log is searched for the PIN and for leaks.
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=../e2e/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.bash"

export SO=83927461 UP=57319284
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'

vg_log_clean() {
	local logs
	logs=$(cat "$HSMDESK_VG_LOGS"/*.log 2>/dev/null)
	grep -q Memcheck <<<"$logs" || fail "no valgrind log: did valgrind run?"
	grep -Fq -- "$UP" <<<"$logs" && fail "the PIN is in valgrind's log"
	grep -Eq 'definitely lost: [1-9]' <<<"$logs" &&
	    fail "valgrind: definite leaks: $(grep -l 'definitely lost: [1-9]' "$HSMDESK_VG_LOGS"/*.log)"
	grep -Eq 'ERROR SUMMARY: [1-9]' <<<"$logs" &&
	    fail "valgrind: errors: $(grep -l 'ERROR SUMMARY: [1-9]' "$HSMDESK_VG_LOGS"/*.log)"
	rm -f "$HSMDESK_VG_LOGS"/*.log
	return 0
}

t_login() {
	store_init_token L "$SO" "$UP"
	run_hsmdesk keys --pin env:UP
	expect_status 0
	expect_no_pin "$UP"
	vg_log_clean
	check "keys (login, list, logout) under valgrind: clean"

	WRONG=11112222 run_hsmdesk keys --pin env:WRONG
	expect_status 1
	vg_log_clean
	check "a wrong PIN under valgrind: status 1, clean"

	printf '%s\n' "$UP" >pin.txt
	chmod 600 pin.txt
	run_hsmdesk keys --pin file:pin.txt
	expect_status 0
	vg_log_clean
	check "PIN from a file under valgrind: clean"
}

t_steps() {
	store_init_token L "$SO" "$UP"
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=vg" --label vg --out vg.csr --pin env:UP
	expect_status 0
	vg_log_clean
	check "request (keygen, CSR) under valgrind: clean"

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -subj /CN=VG -days 3 -out ca.pem 2>/dev/null
	printf 'extendedKeyUsage=codeSigning\n' >ext.cnf
	openssl x509 -req -in vg.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile ext.cnf -out vg.pem 2>/dev/null
	run_hsmdesk accept vg.pem --pin env:UP
	expect_status 0
	vg_log_clean
	check "accept under valgrind: clean"

	printf 'data\n' >a.txt
	run_hsmdesk sign --sha1 "$(openssl x509 -in vg.pem -noout \
	    -fingerprint -sha1 | cut -d= -f2 | tr -d :)" --pin env:UP a.txt
	expect_status 0
	run_hsmdesk verify --CAfile ca.pem a.txt
	expect_status 0
	vg_log_clean
	check "sign and verify (CMS) under valgrind: clean"
}

[[ -n ${HSMDESK_VG_LOGS:-} ]] || { echo "not ok - run through make check-valgrind"; exit 1; }
export HSMDESK_TEST_TIMEOUT=${HSMDESK_TEST_TIMEOUT:-180}
HD_TIMEOUT=$HSMDESK_TEST_TIMEOUT
t_run "valgrind: login" t_login
t_run "valgrind: steps" t_steps
e2e_finish
