#!/usr/bin/env bash
#
# End-to-end tests of the signing audit log (docs/AUDIT.md): what sign
# records, that `audit verify` finds every kind of tampering with its line
# (an edited line, a deleted one, two swapped, a cut tail through the
# token's witness, a whole log rewritten with a fresh chain), that two
# processes signing at once keep one chain, that signing refuses to go on
# without its record, and that the PIN never reaches the log (checked
# after every run: run_hsmdesk below).  Checkpoint signatures are also
# checked with `openssl dgst -verify`.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/audit.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'
LOG=home/.local/state/hsmdesk/audit.log


# Token "L" with an EC key made by hsmdesk, its code signing certificate
# from a test root (ca.pem) accepted beside it.  Sets THUMB.
ready() {
	store_init_token L "$SO" "$UP"
	printf '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n[cs]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >ext.cnf
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -subj "/CN=Audit Root" -days 30 -config ext.cnf \
	    -extensions ca -out ca.pem
	run_hsmdesk request --profile codesign-ecdsa-p256 \
	    --subject "$SUBJ,CN=signer" --label signer --out signer.csr \
	    --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
	ossl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 30 -extfile ext.cnf -extensions cs \
	    -out signer.pem
	cat signer.pem ca.pem >bundle.pem
	run_hsmdesk accept bundle.pem --pin env:UP --trust-root \
	    "$(openssl x509 -in ca.pem -noout -fingerprint -sha256 |
	    cut -d= -f2 | tr -d :)"
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	THUMB=$(openssl x509 -in signer.pem -noout -fingerprint -sha1 |
	    cut -d= -f2 | tr -d :)
}

files() {	# files PREFIX N: N small files PREFIX1.txt ...
	local i
	for ((i = 1; i <= $2; i++)); do
		printf '%s %d\n' "$1" "$i" >"$1$i.txt"
	done
}

# Every run: the PIN on no output and in no log this test has written.
run_hsmdesk() {
	_hd_exec "$HD_TIMEOUT" /dev/null "$@"
	expect_no_pin "$UP"
	expect_file_no_pin "$UP" "$LOG" ./*.log
}

verify_log() {	# verify_log FILE
	run_hsmdesk audit verify --CAfile ca.pem --log "$1" --pin env:UP
}

# The line's field, as written (no JSON escapes in what the tests use).
field() {	# field LINE KEY
	sed -E "s/.*\"$2\":\"?([^\",]*)\"?[,}].*/\1/" <<<"$1"
}

# ---- what is recorded ---------------------------------------------------

t_record() {
	local line ck
	ready
	files a 3
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt a2.txt a3.txt
	expect_status 0
	[[ -f $LOG ]] || t_abort "no audit log at $LOG"
	expect_mode "$LOG" 600
	[[ $(wc -l <"$LOG") -eq 4 ]] || fail "expected 3 records and a " \
	    "checkpoint, got $(wc -l <"$LOG") lines"
	line=$(sed -n 2p "$LOG")
	[[ $(field "$line" file) == "$T_DIR/a2.txt" ]] ||
	    fail "line 2: file is not $T_DIR/a2.txt: $line"
	[[ $(field "$line" sha256) == "$(sha256sum <a2.txt | cut -c1-64)" ]] ||
	    fail "line 2: sha256 is not the file's: $line"
	[[ $(field "$line" size) == "$(stat -c %s a2.txt)" ]] ||
	    fail "line 2: wrong size: $line"
	for k in '"type":"cms"' '"digest":"sha256"' '"result":"ok"' \
	    "\"cert_sha1\":\"$THUMB\"" "\"out\":\"$T_DIR/a2.txt.p7s\"" \
	    "\"user\":\"$(id -un)\"" '"tsa":""' '"kind":"sign"' '"seq":2,'; do
		grep -Fq -- "$k" <<<"$line" || fail "line 2 lacks $k: $line"
	done
	# the chain: line 2's prev is the SHA-256 of line 1 and its newline
	[[ $(field "$line" prev) == "$(sed -n 1p "$LOG" | sha256sum |
	    cut -c1-64)" ]] || fail "line 2's prev is not line 1's SHA-256"
	expect_file_no_pin "$UP" "$LOG"
	check "a batch gives one record per file and a checkpoint"

	# the checkpoint verifies with openssl alone
	ck=$(tail -n 1 "$LOG")
	printf '%s' "${ck%%,\"sig\":\"*}" >stmt
	field "$ck" sig | base64 -d >sig.bin
	field "$ck" cert | base64 -d >cert.der
	openssl x509 -inform DER -in cert.der -pubkey -noout >pub.pem
	openssl dgst -sha256 -verify pub.pem -signature sig.bin stmt \
	    >/dev/null 2>&1 || fail "openssl dgst -verify rejects the checkpoint"
	[[ $(field "$ck" count) == 3 ]] || fail "checkpoint count is not 3: $ck"
	check "openssl verifies the checkpoint's signature over its line"

	verify_log "$LOG"
	expect_status 0
	expect_stdout_match '^last valid checkpoint: line 4, .*CN=signer'
	expect_stdout_match 'chain checked against --CAfile'
	expect_stdout_match "^witness: token 'L' witnessed the checkpoint at line 4"
	expect_stdout_match '^result: intact'
	expect_no_pin "$UP"
	check "audit verify: intact, with the witness"

	run_hsmdesk audit show --log "$LOG" --file 'a2*'
	expect_status 0
	expect_stdout_count 1 'a2.txt'
	run_hsmdesk audit show --json --sha1 "${THUMB:0:8}" --since 2000-01-01
	expect_status 0
	expect_stdout_count 3 '^\{"v":1,.*"kind":"sign"'
	run_hsmdesk audit show --sha1 0000
	expect_stdout_empty
	check "audit show filters by file, thumbprint and date"
}

# ---- tampering ----------------------------------------------------------

t_tamper() {
	local zero
	ready
	files a 3
	files b 2
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt a2.txt a3.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP b1.txt b2.txt
	expect_status 0
	[[ $(wc -l <"$LOG") -eq 7 ]] || t_abort "expected 7 lines: $(cat "$LOG")"
	verify_log "$LOG"
	expect_status 0
	check "two batches: 7 lines, intact"

	sed '2s/"size":[0-9]*/"size":1/' "$LOG" >edited.log
	verify_log edited.log
	expect_status 1
	expect_stdout_match '^line 3: its prev hash does not match line 2: line 2 was altered'
	expect_stdout_match '^result: TAMPERED'
	check "an edited line is found, by its line"

	sed 3d "$LOG" >deleted.log
	verify_log deleted.log
	expect_status 1
	expect_stdout_match '^line 3: record 4 follows record 2: 1 line\(s\) before it were removed'
	check "a deleted line is found, by its line"

	sed -n '5{h;n;G;p;d};p' "$LOG" >swapped.log
	cmp -s swapped.log "$LOG" && t_abort "the swap changed nothing"
	verify_log swapped.log
	expect_status 1
	expect_stdout_match '^line 5: record 6 follows record 4'
	expect_stdout_match '^line 6: record 5 after record 6: lines were moved'
	check "two swapped lines are found, by their lines"

	head -n 4 "$LOG" >cut.log
	verify_log cut.log
	expect_status 1
	expect_stdout_match '^last valid checkpoint: line 4'
	expect_stdout_match "^witness: token 'L' witnessed a checkpoint at line 7, but the log ends at line 4"
	check "a cut tail (records and checkpoint) is found by the token's witness"

	# a fresh chain over altered records, checkpoints re-counted but
	# their signatures kept: every checkpoint must fail
	zero=$(printf '0%.0s' {1..64})
	prev=$zero
	: >forged.log
	while IFS= read -r l; do
		l=$(sed -E "s/\"prev\":\"[0-9a-f]{64}\"/\"prev\":\"$prev\"/;
		    s/\"head\":\"[0-9a-f]{64}\"/\"head\":\"$prev\"/;
		    s/a2\.txt/evil.txt/g" <<<"$l")
		printf '%s\n' "$l" >>forged.log
		prev=$(printf '%s\n' "$l" | sha256sum | cut -c1-64)
	done <"$LOG"
	verify_log forged.log
	expect_status 1
	expect_stdout_match "^line 4: the checkpoint's signature does not verify"
	expect_stdout_match "^line 7: the checkpoint's signature does not verify"
	expect_stdout_match '^no valid checkpoint'
	expect_stdout_match "^witness: .*witnessed a different checkpoint at line 7"
	check "a rewritten log with a valid-looking chain is found"

	printf 'garbage\n' >>"$LOG"
	verify_log "$LOG"
	expect_status 1
	expect_stdout_match '^line 8: not an audit record'
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt
	expect_status 2
	expect_stderr_match "audit log .*: its last line is not an hsmdesk audit record; signing refused"
	expect_stderr_one_line
	[[ -e a1.txt.p7s && a1.txt.p7s -nt "$LOG" ]] &&
	    fail "a1.txt was signed again despite the corrupt log"
	check "a corrupt log: verify names the line, signing refuses"

	run_hsmdesk audit verify --log missing.log --pin env:UP
	expect_status 2
	expect_stderr_match 'audit log missing.log: No such file'
	check "a missing log is unusable (status 2)"
}

# ---- two processes at once ------------------------------------------------

t_concurrent() {
	local n=12 p1 p2 s1 s2
	ready
	files a $n
	files b $n
	"$HD_BIN" sign --sha1 "$THUMB" --pin env:UP a*.txt >a.out 2>&1 &
	p1=$!
	"$HD_BIN" sign --sha1 "$THUMB" --pin env:UP b*.txt >b.out 2>&1 &
	p2=$!
	wait $p1; s1=$?
	wait $p2; s2=$?
	((s1 == 0 && s2 == 0)) || fail "sign failed: $(cat a.out b.out)"
	expect_file_no_pin "$UP" a.out b.out "$LOG"
	[[ $(wc -l <"$LOG") -eq $((2 * n + 2)) ]] ||
	    fail "expected $((2 * n + 2)) lines, got $(wc -l <"$LOG")"
	[[ $(grep -c '"kind":"checkpoint"' "$LOG") -eq 2 ]] ||
	    fail "expected 2 checkpoints"
	verify_log "$LOG"
	expect_status 0
	expect_stdout_match "^audit log .*: $((2 * n + 2)) lines, $((2 * n)) signature records, 2 checkpoints"
	expect_stdout_match '^result: intact'
	check "two processes signing at once keep one unbroken chain"
}

# ---- refusals ----------------------------------------------------------------

t_refuse() {
	ready
	files a 1
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --log nodir/audit.log \
	    a1.txt
	expect_status 2
	expect_stderr_match '^hsmdesk: audit log nodir/audit.log: cannot append to it: No such file or directory; signing refused'
	[[ -e a1.txt.p7s ]] && fail "a1.txt was signed without its record"
	check "an unusable log location refuses signing"

	mkdir logdir
	write_config "audit_log: $T_DIR/logdir
"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt
	expect_status 2
	expect_stderr_match "audit log $T_DIR/logdir: .*signing refused"
	[[ -e a1.txt.p7s ]] && fail "a1.txt was signed without its record"
	check "config.yaml's audit_log is used (here: a directory, refused)"

	write_config "audit_log: $T_DIR/team.log
"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt
	expect_status 0
	[[ $(grep -c . team.log) -eq 2 ]] || fail "team.log has no record"
	check "config.yaml's audit_log names a shared log"

	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --no-audit a1.txt
	expect_status 2
	expect_stderr_match "--no-audit needs 'allow_no_audit: true' in config.yaml"
	write_config "allow_no_audit: true
audit_log: $T_DIR/team.log
"
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP --no-audit a1.txt
	expect_status 0
	expect_stderr_match 'not recorded in any audit log'
	[[ $(grep -c . team.log) -eq 2 ]] || fail "--no-audit wrote a record"
	check "--no-audit only where config.yaml allows it"
}

# ---- the log cannot be written after signing ---------------------------------

# A log already past a file size limit (ulimit -f, SIGXFSZ ignored so
# write() fails with EFBIG): the signing works, the records cannot be
# written.  CMS signatures are then removed; an Authenticode script
# signed in place is reported as not recorded and the batch stops.
t_append_fails() {
	local before
	ready
	files a 45
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a*.txt
	expect_status 0
	(($(stat -c %s "$LOG") > 20 * 1024)) || t_abort "log too small"
	rm -f a*.txt.p7s
	before=$(sha256sum <"$LOG")
	printf 'Write-Host "one"\r\n' >one.ps1
	printf 'Write-Host "two"\r\n' >two.ps1
	cp one.ps1 one.orig
	HD_WRAP=(bash -c 'trap "" XFSZ; ulimit -f 20; exec "$@"' wrap)
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt a2.txt
	expect_status 1
	expect_stderr_match "audit log .*: writing [0-9]+ bytes: File too large"
	expect_stdout_match '^FAILED  cms +a1.txt: signature removed .*a1.txt.p7s: it could not be recorded in the audit log'
	[[ -e a1.txt.p7s || -e a2.txt.p7s ]] &&
	    fail "a signature the log does not know of was left"
	check "records that cannot be written: the CMS signatures are removed"

	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP a1.txt one.ps1 a2.txt \
	    two.ps1
	HD_WRAP=()
	expect_status 1
	expect_stdout_match '^FAILED  cms +a1.txt: not written: the audit log cannot be written'
	[[ -e a1.txt.p7s || -e a2.txt.p7s ]] &&
	    fail "a CMS signature of the stopped batch was left"
	expect_stdout_match '^FAILED  authenticode one.ps1: signed in place, but NOT recorded in the audit log'
	expect_stdout_match '^FAILED  authenticode two.ps1: not signed: the audit log cannot be written'
	cmp -s one.ps1 one.orig && fail "one.ps1 was not signed (the test proves nothing)"
	grep -q 'SIG # Begin' two.ps1 && fail "two.ps1 was signed after the failure"
	[[ $(sha256sum <"$LOG") == "$before" ]] || fail "the log changed"
	verify_log "$LOG"
	expect_status 0
	check "an Authenticode file that cannot be recorded is named and the batch stops"
}

# ---- a token without data objects, and PowerShell --------------------------

t_no_witness() {
	ready
	files a 1
	HSMDESK_FAKEP11_FAULT=data-refused run_hsmdesk --module "$HD_FAKEP11" \
	    sign --sha1 "$THUMB" --pin env:UP a1.txt
	expect_status 0
	expect_stderr_match "no witness on the token \(token 'L' cannot hold the audit witness"
	verify_log "$LOG"
	expect_status 0
	expect_stdout_match "^witness: token 'L' holds no witness for this log.*a cut tail cannot be detected"
	check "a token that refuses data objects: said at signing and at verify"

	printf 'Write-Host "hello"\r\n' >s.ps1
	sum=$(sha256sum <s.ps1 | cut -c1-64)
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP s.ps1
	expect_status 0
	line=$(grep -F '"type":"authenticode-ps1"' "$LOG")
	[[ $(field "$line" sha256) == "$sum" ]] ||
	    fail "the script's record has not the unsigned script's SHA-256"
	[[ $(field "$line" out) == "$T_DIR/s.ps1" ]] || fail "out: $line"
	check "a PowerShell script is recorded as authenticode-ps1"
}

t_run "record" t_record
t_run "tampering" t_tamper
t_run "concurrent" t_concurrent
t_run "refusals" t_refuse
t_run "append fails" t_append_fails
t_run "witness and PowerShell" t_no_witness
e2e_finish
