#!/usr/bin/env bash
#
# End-to-end tests of RFC 3161 timestamps (sign --tr/--td, signtool's
# /tr /td) against the local test TSA (tests/tsa/tsa_server.c, one
# loopback port per behaviour): CMS signatures checked with `openssl ts
# -verify` on the token taken out of them and `openssl cms -verify`,
# Authenticode ones with `osslsigncode verify -TSA-CAfile`.  The failing
# TSAs fail at once (no slow one here: test_tsa.c has it), so a generous
# --tr-timeout only keeps a loaded machine from failing the good ones.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/tsa.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284

# ---- fixtures -------------------------------------------------------------------


# The local TSA (lib.bash's tsa_start); url MODE gives a behaviour's URL.
url() { tsa_url "$1"; }
requests() { tsa_requests "$1"; }

# Token "L" with a code-signing certificate from a test CA (ca/root.pem,
# trusted); THUMB.  The TSA started.
ready() {
	store_init_token L "$SO" "$UP"
	mkdir -p ca
	printf '[root]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n[cs]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
	    >ca/ext.cnf
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca/root.key -subj "/CN=TSA e2e Root" -days 30 \
	    -config ca/ext.cnf -extensions root -out ca/root.pem
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "C=US,ST=WA,L=Seattle,O=Contoso,CN=signer" \
	    --label signer --out signer.csr --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
	ossl x509 -req -in signer.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions cs \
	    -out signer.pem
	cat signer.pem ca/root.pem >bundle.pem
	run_hsmdesk accept bundle.pem --pin env:UP --trust-root \
	    "$(openssl x509 -in ca/root.pem -noout -fingerprint -sha256 |
	    cut -d= -f2 | tr -d :)"
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	THUMB=$(openssl x509 -in signer.pem -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :)
	tsa_start
}

# A second code-signing certificate on token L from the same CA (the
# cut-over's other signer; one token is enough here): THUMB2.
second_signer() {
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "C=US,ST=WA,L=Seattle,O=Contoso,CN=signer2" \
	    --label signer2 --out signer2.csr --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
	ossl x509 -req -in signer2.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions cs \
	    -out signer2.pem
	cat signer2.pem ca/root.pem >bundle2.pem
	run_hsmdesk accept bundle2.pem --pin env:UP --trust-root \
	    "$(openssl x509 -in ca/root.pem -noout -fingerprint -sha256 |
	    cut -d= -f2 | tr -d :)"
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	THUMB2=$(openssl x509 -in signer2.pem -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :)
}

build_pe() {
	command -v x86_64-w64-mingw32-gcc >/dev/null ||
	    t_abort "MinGW is not installed (make deps)"
	printf 'int main(void) { return 0; }\n' >hello.c
	timeout 120 x86_64-w64-mingw32-gcc -O2 -o hello.exe hello.c \
	    </dev/null >/dev/null 2>&1 || t_abort "MinGW build failed"
}

# The genTime of token.der (cms_token), by openssl ts, as the audit log
# writes times: 2026-01-31T12:00:00Z.
gen_time() {
	local t
	t=$(openssl ts -reply -token_in -in token.der -text 2>/dev/null |
	    sed -n 's/^Time stamp: //p')
	[[ -n $t ]] || { echo "(no Time stamp in the token)"; return; }
	date -u -d "$t" +%Y-%m-%dT%H:%M:%SZ
}

LOG=home/.local/state/hsmdesk/audit.log

# KEY's value in the last audit record of FILE signed by THUMB.
rec() {		# rec FILE THUMB KEY
	grep -F "\"cert_sha1\":\"$2\"" "$LOG" 2>/dev/null |
	    grep -F "/$1\"," | grep -F '"file":' | tail -1 |
	    sed -nE "s/.*\"$3\":\"([^\"]*)\".*/\1/p"
}

# FILE's record by THUMB names the TSA URL and the time WANT.
rec_ts() {	# rec_ts FILE THUMB URL WANT
	local got
	got=$(rec "$1" "$2" tsa)
	[[ $got == "$3" ]] ||
	    fail "$1 by ${2:0:8}: the audit record's tsa is '$got', not '$3'"
	got=$(rec "$1" "$2" ts_time)
	[[ $got == "$4" ]] ||
	    fail "$1 by ${2:0:8}: the audit record's ts_time is '$got', not the token's $4"
}

cms_ok() {	# cms_ok FILE
	timeout 60 openssl cms -verify -binary -inform DER -in "$1.p7s" \
	    -content "$1" -CAfile ca/root.pem -purpose any -out /dev/null \
	    </dev/null >"$T_DIR/.cms" 2>&1 ||
	    fail "openssl cms -verify rejects $1.p7s: $(cat "$T_DIR/.cms")"
}

# osslsigncode verify with the TSA's CA; its output in $T_DIR/.osc
pe_ok() {	# pe_ok FILE
	timeout 60 osslsigncode verify -CAfile ca/root.pem -TSA-CAfile \
	    tsa/ca.pem -ignore-cdp -in "$1" </dev/null >"$T_DIR/.osc" 2>&1 ||
	    fail "osslsigncode verify rejects $1: $(tail -8 "$T_DIR/.osc")"
}

# ---- CMS --------------------------------------------------------------------------

t_cms() {
	ready
	printf 'data\n' >a.txt
	printf 'more\n' >b.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url good)" \
	    --td sha384 --tr-timeout 10 a.txt b.txt
	expect_status 0
	expect_stdout_count 2 "^OK +cms .*\[timestamp 20[0-9-]+T[0-9:]+Z from $(url good)\]$"
	for f in a.txt b.txt; do
		cms_ok "$f"
		ts_ok "$f.p7s"
	done
	openssl ts -reply -token_in -in token.der -text 2>/dev/null |
	    grep -q 'Hash Algorithm: sha384' || fail "the token's imprint is not sha384"
	check "--tr --td sha384: openssl cms and openssl ts -verify accept each"

	tls="https://127.0.0.1:$(awk '$1 == "tls" { print $2 }' tsa/ports)/tsa"
	SSL_CERT_FILE=tsa/ca.pem run_hsmdesk sign --sha1 "$THUMB" --pin env:UP \
	    --tr "$tls" --tr-timeout 10 b.txt
	expect_status 0
	expect_stdout_match "from $tls\]$"
	ts_ok b.txt.p7s
	SSL_CERT_FILE=ca/root.pem run_hsmdesk sign --sha1 "$THUMB" --pin env:UP \
	    --tr "$tls" --tr-timeout 10 b.txt
	expect_status 1
	expect_stderr_match 'TLS failed \(certificate verify failed\)'
	check "https:// TSA: the server's certificate checked; its token verifies"

	run_hsmdesk verify --TSA-CAfile tsa/ca.pem a.txt
	expect_status 0
	expect_stdout_match '^    timestamp   20[0-9-]+T[0-9:]+Z, good$'
	expect_stdout_match '^    TSA         O=hsmdesk tests, CN=hsmdesk test TSA$'
	check "verify --TSA-CAfile: the time, the TSA, good"

	run_hsmdesk verify --TSA-CAfile ca/root.pem a.txt
	expect_stdout_match '^    timestamp   .*, does not verify'
	check "verify against the wrong TSA CA: the timestamp does not verify"
}

t_cms_fails() {
	ready
	printf 'data\n' >a.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url down)" \
	    --tr-timeout 10 a.txt
	expect_status 1
	expect_stderr_match "a.txt: no timestamp: $(url down): connection refused"
	[[ ! -e a.txt.p7s ]] || fail "a.txt.p7s was written without a timestamp"
	check "TSA down: exit 1, the TSA and 'refused' named, no .p7s"

	for m in http500:'HTTP status 500' garbage:'bad response' \
	    nonce:'wrong nonce' noeku:'not for timestamping'; do
		run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr \
		    "$(url "${m%%:*}")" --tr-timeout 10 a.txt
		expect_status 1
		expect_stderr_match "a.txt: no timestamp: $(url "${m%%:*}"): .*${m#*:}"
		[[ ! -e a.txt.p7s ]] || fail "${m%%:*}: a.txt.p7s was written"
	done
	check "HTTP 500, garbage, wrong nonce, no EKU: each named, exit 1, nothing written"

	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url down)" \
	    --tr-timeout 10 --tr-optional a.txt
	expect_status 0
	expect_stdout_match '^OK +cms +a.txt -> a.txt.p7s \[no timestamp\]$'
	expect_stderr_match 'a.txt: signed without a timestamp .*refused'
	cms_ok a.txt
	check "--tr-optional: signed, without a timestamp, and said so"

	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr ftp://x a.txt
	expect_status 2
	check "--tr with a URL that is not http(s): exit 2"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url good)" \
	    --td md5 a.txt
	expect_status 2
	check "--td md5: exit 2"
}

# A failing TSA costs its attempts once per batch, not once per file.
t_batch() {
	ready
	for i in 1 2 3 4 5; do printf '%s\n' "$i" >"f$i.txt"; done
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url http500)" \
	    --tr "$(url good)" --tr-timeout 10 f1.txt f2.txt f3.txt f4.txt f5.txt
	expect_status 0
	expect_stdout_count 5 "from $(url good)\]$"
	[[ $(requests http500) == 3 ]] ||
	    fail "the failing TSA was asked $(requests http500) times, not 3"
	[[ $(requests good) == 5 ]] ||
	    fail "the good TSA was asked $(requests good) times, not 5"
	ts_ok f5.txt.p7s
	expect_stderr_match "^hsmdesk: TSA $(url http500): HTTP status 500 \(3 attempts\); not asked again in this batch$"
	[[ $(grep -c 'HTTP status 500' <<<"$HD_ERR") == 1 ]] ||
	    fail "the failing TSA was reported more than once"
	check "batch: the failing TSA asked 3 times in all, said once, the next one per file"

	write_config "tsa:
  - $(url good)
"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr-timeout 10 f1.txt
	expect_status 0
	expect_stdout_match "from $(url good)\]$"
	check "config.yaml tsa: list used without --tr"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr none f1.txt
	expect_status 0
	expect_stdout_no_match 'timestamp'
	check "--tr none: no timestamp despite the config"

	# the proxy answers itself: it must get the absolute URL
	http_proxy="http://127.0.0.1:$(awk '$1 == "good" { print $2 }' \
	    tsa/ports)" no_proxy='' NO_PROXY='' run_hsmdesk sign --sha1 "$THUMB" \
	    --pin env:UP --tr http://tsa.example.invalid/ts f2.txt
	expect_status 0
	grep -q '^good POST http://tsa.example.invalid' tsa/log ||
	    fail "no proxied request: $(tail -3 tsa/log)"
	check "http_proxy from the environment is used"
}

# ---- Authenticode -----------------------------------------------------------------

t_pe() {
	ready
	build_pe
	cp hello.exe orig.exe
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url good)" \
	    --tr-timeout 10 hello.exe
	expect_status 0
	expect_stdout_match "hello.exe .*\[timestamp .* from $(url good)\]$"
	pe_ok hello.exe
	grep -qi 'Timestamp Server Signature verification: ok' "$T_DIR/.osc" ||
	    fail "osslsigncode: no good timestamp: $(grep -i time "$T_DIR/.osc")"
	check "PE: osslsigncode verify -TSA-CAfile accepts the timestamp"

	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url good)" \
	    --tr-timeout 10 --as --fd sha512 hello.exe
	expect_status 0
	pe_ok hello.exe
	n=$(grep -ci 'Timestamp Server Signature verification: ok' "$T_DIR/.osc")
	((n == 2)) || fail "$n good timestamps, not 2: $(cat "$T_DIR/.osc")"
	check "PE --as: the nested signature has its own timestamp"

	run_hsmdesk verify --TSA-CAfile tsa/ca.pem hello.exe
	expect_status 0
	expect_stdout_count 2 '^    timestamp   20[0-9-]+T[0-9:]+Z, good$'
	check "verify: both signatures' timestamps shown, good"

	cp orig.exe fail.exe
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url nonce)" \
	    --tr-timeout 10 fail.exe
	expect_status 1
	expect_stderr_match 'wrong nonce'
	cmp -s fail.exe orig.exe || fail "fail.exe was changed"
	check "PE: no TSA answers: exit 1, the file byte for byte as it was"

	printf 'Write-Host "hi"\r\n' >s.ps1
	cp s.ps1 s.orig
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url garbage)" \
	    --tr-timeout 10 s.ps1
	expect_status 1
	cmp -s s.ps1 s.orig || fail "s.ps1 was changed"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url garbage)" \
	    --tr "$(url good)" --tr-timeout 10 s.ps1
	expect_status 0
	pe_ok s.ps1
	grep -qi 'Timestamp Server Signature verification: ok' "$T_DIR/.osc" ||
	    fail "osslsigncode: no good timestamp on s.ps1"
	check "PowerShell: unchanged on failure; the next TSA's timestamp verifies"
}

# ---- the audit log and cut-over signing ------------------------------------------

# The time osslsigncode reads from the N-th timestamp of its last output.
osc_time() {	# osc_time N
	local t
	t=$(grep -i '^[[:space:]]*Timestamp time: ' "$T_DIR/.osc" | sed -n "${1}p" |
	    sed 's/^[^:]*: //')
	[[ -n $t ]] || { echo "(no timestamp time from osslsigncode)"; return; }
	date -u -d "$t" +%Y-%m-%dT%H:%M:%SZ
}

t_audit() {
	ready
	build_pe
	printf 'data\n' >a.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url good)" \
	    --tr-timeout 10 a.txt hello.exe
	expect_status 0
	cms_token a.txt.p7s && rec_ts a.txt "$THUMB" "$(url good)" "$(gen_time)"
	check "CMS: the audit record names the TSA and the token's genTime"

	pe_ok hello.exe
	rec_ts hello.exe "$THUMB" "$(url good)" "$(osc_time 1)"
	check "PE: the audit record names the TSA and the timestamp's time"

	printf 'more\n' >b.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --tr "$(url down)" \
	    --tr-timeout 10 --tr-optional b.txt
	expect_status 0
	[[ $(rec b.txt "$THUMB" result) == ok ]] || fail "b.txt: no ok record"
	grep -F '/b.txt",' "$LOG" | grep -Fq '"tsa":"","ts_time":""' ||
	    fail "b.txt: its record claims a timestamp: $(grep -F /b.txt "$LOG")"
	check "--tr-optional without an answer: recorded with no tsa, no ts_time"
}

# sign --sha1 OLD --sha1 NEW --tr: each of the signatures its own token.
t_dual() {
	local p2 sig t
	ready
	second_signer
	build_pe
	printf 'data\n' >a.txt
	run_hsmdesk sign --sha1 "$THUMB" --sha1 "$THUMB2" --pin env:UP \
	    --tr "$(url good)" --tr-timeout 10 a.txt hello.exe
	expect_status 0
	p2=${THUMB2:0:8}
	expect_stdout_match "^OK +cms +a.txt -> a.txt.p7s \(${THUMB:0:8}\) \[timestamp [0-9TZ:-]+ from $(url good)\], a.txt.$p2.p7s \($p2\) \[timestamp [0-9TZ:-]+ from $(url good)\]$"
	expect_stdout_match "^OK +authenticode hello.exe -> hello.exe \(2 signatures: ${THUMB:0:8} \[timestamp [0-9TZ:-]+ from $(url good)\], nested $p2 \[timestamp [0-9TZ:-]+ from $(url good)\]\)$"
	[[ $(requests good) == 4 ]] ||
	    fail "the TSA was asked $(requests good) times, not 4"
	for sig in a.txt.p7s "a.txt.$p2.p7s"; do
		ts_ok "$sig"
		timeout 60 openssl cms -verify -binary -inform DER -in "$sig" \
		    -content a.txt -CAfile ca/root.pem -purpose any \
		    -out /dev/null </dev/null >"$T_DIR/.cms" 2>&1 ||
		    fail "openssl cms -verify rejects $sig: $(cat "$T_DIR/.cms")"
	done
	cp token.der token2.der	# the second's; then the primary's
	cms_token a.txt.p7s && cmp -s token.der token2.der &&
	    fail "the two signatures carry the same token"
	check "CMS: two .p7s, each with its own token that openssl ts -verify accepts"

	cms_token a.txt.p7s && rec_ts a.txt "$THUMB" "$(url good)" "$(gen_time)"
	cms_token "a.txt.$p2.p7s" &&
	    rec_ts a.txt "$THUMB2" "$(url good)" "$(gen_time)"
	check "CMS: each signer's audit record carries its own token's time"

	pe_ok hello.exe
	n=$(grep -ci 'Timestamp Server Signature verification: ok' "$T_DIR/.osc")
	((n == 2)) || fail "$n good timestamps, not 2: $(cat "$T_DIR/.osc")"
	check "PE: the primary and the nested signature both timestamped (osslsigncode -TSA-CAfile)"
	t=$(osc_time 1)
	rec_ts hello.exe "$THUMB" "$(url good)" "$t"
	t=$(osc_time 2)
	rec_ts hello.exe "$THUMB2" "$(url good)" "$t"
	check "PE: each signer's audit record carries the TSA and its timestamp's time"

	printf 'more\n' >b.txt
	run_hsmdesk sign --sha1 "$THUMB" --sha1 "$THUMB2" --pin env:UP \
	    --tr "$(url down)" --tr-timeout 10 b.txt
	expect_status 1
	expect_stderr_match "b.txt: no timestamp: $(url down): connection refused"
	[[ ! -e b.txt.p7s && ! -e b.txt.$p2.p7s ]] ||
	    fail "a signature was left without its timestamp: $(ls b.txt*)"
	run_hsmdesk sign --sha1 "$THUMB" --sha1 "$THUMB2" --pin env:UP \
	    --tr "$(url down)" --tr-timeout 10 --tr-optional b.txt
	expect_status 0
	expect_stdout_match "^OK +cms +b.txt -> b.txt.p7s \(${THUMB:0:8}\) \[no timestamp\], b.txt.$p2.p7s \($p2\) \[no timestamp\]$"
	expect_stderr_match 'b.txt.p7s: signed without a timestamp .*refused'
	expect_stderr_match "b.txt.$p2.p7s: signed without a timestamp .*refused"
	check "dual, no TSA answers: nothing left behind; --tr-optional signs and says so"

	# the TSA answers the primary's request, then fails: neither .p7s
	printf 'x\n' >c.txt
	printf 'old\n' >c.txt.p7s
	run_hsmdesk sign --sha1 "$THUMB" --sha1 "$THUMB2" --pin env:UP \
	    --tr "$(url once)" --tr-timeout 10 c.txt
	expect_status 1
	expect_stderr_match "c.txt: no timestamp: $(url once): HTTP status 500"
	[[ $(requests once) == 4 ]] ||
	    fail "the TSA was asked $(requests once) times, not 1 + 3"
	[[ $(cat c.txt.p7s) == old ]] ||
	    fail "c.txt.p7s was replaced though the second signature failed"
	[[ ! -e c.txt.$p2.p7s ]] || fail "c.txt.$p2.p7s was written"
	[[ $(rec c.txt "$THUMB" result) == failed:* ]] ||
	    fail "the primary's record says '$(rec c.txt "$THUMB" result)'"
	check "dual, the second timestamp fails: neither signature written, the old .p7s kept, both records failed"
}

t_run "CMS timestamps" t_cms
t_run "TSA failures" t_cms_fails
t_run "TSA batch, config, proxy" t_batch
t_run "Authenticode timestamps" t_pe
t_run "timestamps in the audit log" t_audit
t_run "cut-over signing with timestamps" t_dual
e2e_finish
