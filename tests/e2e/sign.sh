#!/usr/bin/env bash
#
# End-to-end tests of sign and verify (signtool sign / signtool verify):
# keys and CSRs made on the token with `hsmdesk request`, certificates
# issued by a test CA made here with openssl (root and intermediate, no
# CRL or AIA URLs), accepted with --trust-root; every CMS signature is
# checked with `openssl cms -verify`, every Authenticode signature with
# `osslsigncode verify`, on PE files built here with MinGW.
#
#   make BUILD=build-asan SAN=1 unit
#   HSMDESK_BUILD=$PWD/build-asan HSMDESK_TOP=$PWD bash tests/e2e/sign.sh
#
# shellcheck disable=SC2317	# the t_* functions are called through t_run

# shellcheck source=lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

export SO=83927461 UP=57319284
SUBJ='C=US,ST=Washington,L=Seattle,O=Contoso Ltd'
NONASCII='Grüße – 証明書.txt'

# ---- fixtures -------------------------------------------------------------------


sha1_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

sha256_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 |
	    tr -d :
}

# Token "L", a test CA in ca/ (root and intermediate, EC P-256, no CRL or
# AIA URLs) and a code-signing certificate for a key made by hsmdesk
# (PROFILE) accepted beside it, the root trusted.  Sets THUMB.
ready() {	# ready PROFILE
	store_init_token L "$SO" "$UP"
	test_ca ca "/O=hsmdesk e2e/CN=E2E Root" 3650
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca/inter.key -subj "/O=hsmdesk e2e/CN=E2E Intermediate" \
	    -out ca/inter.csr
	ossl x509 -req -in ca/inter.csr -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 1825 -extfile ca/ext.cnf -extensions inter \
	    -out ca/inter.pem
	run_hsmdesk request --profile "$1" --subject "$SUBJ,CN=signer" \
	    --label signer --out signer.csr --pin env:UP
	((HD_STATUS == 0)) || t_abort "hsmdesk request failed: $HD_ERR"
	ossl x509 -req -in signer.csr -CA ca/inter.pem -CAkey ca/inter.key \
	    -CAcreateserial -days 365 -extfile ca/ext.cnf \
	    -extensions codesign -out signer.pem
	cat signer.pem ca/inter.pem ca/root.pem >bundle.pem
	run_hsmdesk accept bundle.pem --pin env:UP \
	    --trust-root "$(sha256_of ca/root.pem)"
	((HD_STATUS == 0)) || t_abort "hsmdesk accept failed: $HD_ERR"
	THUMB=$(sha1_of signer.pem)
	# a second CA the signer has nothing to do with
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout other.key -subj "/CN=Other Root" -days 30 -config \
	    ca/ext.cnf -extensions root -out other.pem
}

# Windows' notation of a thumbprint: lower case with colons.
colons() {
	sed 's/../&:/g; s/:$//' <<<"${1,,}"
}

# openssl's word on a detached CMS signature of FILE (FILE.p7s or SIG).
cms_ok() {	# cms_ok FILE [SIG]
	timeout 120 openssl cms -verify -binary -inform DER \
	    -in "${2:-$1.p7s}" -content "$1" -CAfile ca/root.pem -purpose any \
	    -out /dev/null </dev/null >"$T_DIR/.cms" 2>&1 ||
	    fail "openssl cms -verify rejects ${2:-$1.p7s}: $(cat "$T_DIR/.cms")"
}

# osslsigncode's word on a PE file's Authenticode signature(s).
pe_ok() {	# pe_ok FILE
	timeout 120 osslsigncode verify -CAfile ca/root.pem -ignore-cdp \
	    -in "$1" </dev/null >"$T_DIR/.osc" 2>&1 ||
	    fail "osslsigncode verify rejects $1: $(tail -5 "$T_DIR/.osc")"
}

# Two small Windows programs, 64- and 32-bit.
build_pe() {
	local tool
	for tool in x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc osslsigncode; do
		command -v "$tool" >/dev/null ||
		    t_abort "$tool is not installed (make deps)"
	done
	printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' \
	    >hello.c
	timeout 120 x86_64-w64-mingw32-gcc -O2 -o hello64.exe hello.c \
	    </dev/null >/dev/null 2>&1 || t_abort "x86_64 MinGW build failed"
	timeout 120 i686-w64-mingw32-gcc -O2 -s -o hello32.exe hello.c \
	    </dev/null >/dev/null 2>&1 || t_abort "i686 MinGW build failed"
}

# ---- CMS ------------------------------------------------------------------------

t_cms_batch() {
	local f
	ready codesign-ecdsa-p256
	: >empty.bin
	printf 'hello\n' >'with spaces.txt'
	printf 'grüße\n' >"$NONASCII"
	head -c $((20 * 1024 * 1024)) /dev/urandom >big.bin

	run_hsmdesk sign --sha1 "$(colons "$THUMB")" --chain --pin env:UP \
	    empty.bin 'with spaces.txt' "$NONASCII" big.bin
	expect_status 0
	expect_stdout_count 4 '^OK +cms '
	expect_stdout_match "^OK +cms +with spaces.txt -> with spaces.txt.p7s$"
	expect_stdout_match "^OK +cms +$NONASCII -> $NONASCII.p7s$"
	expect_no_pin "$UP"
	for f in empty.bin 'with spaces.txt' "$NONASCII" big.bin; do
		[[ -s $f.p7s ]] || fail "$f.p7s was not written"
		cms_ok "$f"
	done
	check "four files in one call (empty, spaces, non-ASCII, 20 MiB): openssl verifies each"

	run_hsmdesk verify 'with spaces.txt' big.bin empty.bin
	expect_status 0
	expect_stdout_count 3 '^  signature 0: good$'
	expect_stdout_match "^    thumbprint  $THUMB$"
	expect_stdout_match '^    signer      C=US, ST=Washington, L=Seattle, O=Contoso Ltd, CN=signer$'
	expect_stdout_match '^    signed at   20[0-9-]{8}T'
	expect_stdout_match '^    digest      sha256$'
	check "verify: good, with the local store's trusted root"

	run_hsmdesk verify --CAfile ca/root.pem --json big.bin empty.bin
	expect_status 0
	expect_json_array
	expect_json_fields "$(json_object_with "$HD_OUT" file big.bin)" \
	    '"type":"cms"' '"signature_file":"big.bin.p7s"' \
	    '"verdict":"good"' "\"sha1\":\"$THUMB\"" '"digest":"sha256"' \
	    '"status":"good"'
	check "verify --CAfile --json: one array, the fields"

	printf 'x' >>'with spaces.txt'
	run_hsmdesk verify 'with spaces.txt'
	expect_status 1
	expect_stdout_match 'content-changed|changed'
	check "verify: a changed file is bad (exit 1)"

	run_hsmdesk verify --CAfile other.pem big.bin
	expect_status 1
	check "verify against the wrong CA: exit 1"

	run_hsmdesk verify nothere.bin
	expect_status 2
	expect_stderr_match 'nothere.bin'
	check "verify of a missing file: exit 2"

	cp big.bin.p7s notsig.bin
	run_hsmdesk verify --sig empty.bin big.bin
	expect_status 2
	check "verify with a --sig that is not a signature: exit 2"
}

t_cms_options() {
	ready codesign-rsa2048
	printf 'data\n' >a.txt
	printf 'more\n' >b.txt
	run_hsmdesk sign --sha1 "${THUMB,,}" --chain --fd sha384 --pin env:UP \
	    a.txt
	expect_status 0
	cms_ok a.txt
	openssl cms -cmsout -print -inform DER -in a.txt.p7s 2>/dev/null |
	    grep -q 'sha384' || fail "a.txt.p7s: no sha384 in it"
	check "--fd sha384 (RSA): openssl verifies"

	run_hsmdesk sign --sha1 "${THUMB:0:8}" --chain --pss --pin env:UP \
	    --out b.sig b.txt
	expect_status 0
	expect_stdout_match '^OK +cms +b.txt -> b.sig$'
	cms_ok b.txt b.sig
	openssl cms -cmsout -print -inform DER -in b.sig 2>/dev/null |
	    grep -q 'rsassaPss' || fail "b.sig: not RSA-PSS"
	check "--pss --out, thumbprint prefix: openssl verifies RSA-PSS"

	run_hsmdesk verify --sig b.sig b.txt
	expect_status 0
	check "verify --sig"

	printf 'no chain\n' >c.txt
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP c.txt
	expect_status 0
	run_hsmdesk verify c.txt
	expect_status 0
	expect_stdout_match '^  signature 0: good$'
	check "signed without --chain: verify finds the intermediate in the local store"

	run_hsmdesk verify --CAfile ca/root.pem c.txt
	expect_status 1
	expect_stdout_match '^  signature 0: untrusted$'
	check "... but not with --CAfile alone (exit 1)"
}

t_cms_errors() {
	ready codesign-ecdsa-p256
	printf 'one\n' >one.txt
	printf 'two\n' >two.txt
	mkdir adir
	run_hsmdesk sign --sha1 "$THUMB" --chain --pin env:UP one.txt \
	    missing.txt adir two.txt
	expect_status 2
	expect_stdout_match '^OK +cms +one.txt -> one.txt.p7s$'
	expect_stdout_match '^OK +cms +two.txt -> two.txt.p7s$'
	expect_stdout_match '^FAILED +cms +missing.txt: '
	expect_stdout_match '^FAILED +cms +adir: .*directory'
	[[ ! -e missing.txt.p7s && ! -e adir.p7s ]] || fail "a .p7s for a bad input"
	cms_ok one.txt
	cms_ok two.txt
	check "a missing file and a directory among good ones: others signed, exit 2"

	run_hsmdesk sign --sha1 0000DEAD --pin env:UP one.txt
	expect_status 2
	expect_stderr_match 'no certificate with thumbprint 0000DEAD'
	check "unknown thumbprint: exit 2"

	run_hsmdesk sign --sha1 "$THUMB" --tr ftp://tsa.example --pin env:UP \
	    one.txt
	expect_status 2
	expect_stderr_match 'not an http:// or https:// URL'
	check "--tr with a URL that is not http(s): exit 2 (tsa.sh tests timestamps)"

	run_hsmdesk sign --sha1 "$THUMB" --out x.p7s one.txt two.txt
	expect_status 2
	check "--out with two files: usage error"

	run_hsmdesk sign --sha1 "$(sha1_of ca/inter.pem)" --pin env:UP one.txt
	expect_status 2
	expect_stderr_match 'private key is not on token'
	check "a certificate without a key on the token is refused"

	run_hsmdesk sign --sha1 "$THUMB" --pss --pin env:UP one.txt two.txt
	expect_status 2
	expect_stderr_one_line
	expect_stderr_match 'RSA-PSS needs an RSA key'
	check "--pss with an EC key: refused before any file (exit 2)"

	printf 'just text\n' >notes.txt
	run_hsmdesk sign --sha1 "$THUMB" --type authenticode --pin env:UP \
	    notes.txt
	expect_status 2
	expect_stderr_match 'neither a PE file .* nor a PowerShell script'
	check "--type authenticode on a text file: refused (exit 2)"
}

# PowerShell scripts: signed inside, as signtool does (issue 9's core).
t_ps1() {
	ready codesign-ecdsa-p256
	printf 'Write-Host "hello"\r\n' >crlf.ps1
	printf '\xef\xbb\xbfWrite-Host "Gr\xc3\xbc\xc3\x9fe"\n' >bom.psm1
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP crlf.ps1 bom.psm1
	expect_status 0
	expect_stdout_match 'crlf.ps1'
	pe_ok crlf.ps1
	grep -q 'Signature verification: ok' "$T_DIR/.osc" ||
	    fail "osslsigncode did not say ok for crlf.ps1"
	pe_ok bom.psm1
	grep -q '^# SIG # Begin signature block' crlf.ps1 ||
	    fail "no signature block in crlf.ps1"
	[[ ! -e crlf.ps1.p7s ]] || fail "a .p7s was written for a script"
	check "sign (auto) signs .ps1/.psm1 inside; osslsigncode verify: ok"

	run_hsmdesk verify --CAfile ca/root.pem crlf.ps1 bom.psm1
	expect_status 0
	check "hsmdesk verify: both scripts good"

	run_hsmdesk sign --sha1 "$THUMB" --as --pin env:UP bom.psm1
	expect_status 0
	pe_ok bom.psm1
	grep -Eq 'Number of verified signatures: 2|Signature Index: 1' "$T_DIR/.osc" ||
	    fail "osslsigncode does not count 2 signatures in bom.psm1"
	check "--as on a signed script: a nested second signature"

	sed -i 's/hello/HELLO/' crlf.ps1
	run_hsmdesk verify --CAfile ca/root.pem crlf.ps1
	expect_status 1
	check "a changed script: verify exit 1"

	head -c -200 bom.psm1 >cut.ps1
	printf '\r\n# SIG # End signature block\r\n' >>cut.ps1
	cp cut.ps1 cut.orig
	run_hsmdesk verify --CAfile ca/root.pem cut.ps1
	expect_status 2
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP cut.ps1
	expect_status 2
	cmp -s cut.ps1 cut.orig || fail "cut.ps1 was changed"
	check "a truncated signature block: verify exit 2; sign refuses it (exit 2), unchanged"

	printf 'Write-Host \x00oops\n' >nul.ps1
	cp nul.ps1 nul.orig
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP nul.ps1
	expect_status 2
	cmp -s nul.ps1 nul.orig || fail "nul.ps1 was changed"
	check "a script with a NUL byte: refused (exit 2), unchanged"
}

# sign_signalled SIG: sign the 64 GiB sparse huge.bin, SIG after 2 s
# (logged in by then, and far from done hashing even on a fast machine);
# the run's status and output as run_hsmdesk leaves them.
sign_signalled() {
	timeout --preserve-status -s "$1" 2 "$HD_BIN" sign --sha1 "$THUMB" \
	    --pin env:UP huge.bin </dev/null >out.txt 2>err.txt
	HD_STATUS=$?
	HD_ERR=$(<err.txt)
	HD_OUT=$(<out.txt)
	# shellcheck disable=SC2034	# fail() in lib.bash shows it
	HD_CMD="hsmdesk sign --sha1 $THUMB --pin env:UP huge.bin (SIG$1 at 2 s)"
	! grep -Eq 'Sanitizer|runtime error:' err.txt ||
	    fail "sanitizer report on stderr"
	expect_stderr_match 'sign interrupted'
	# neither the signature nor its temporary file (huge.bin.p7s.XXXXXX)
	[[ -z $(compgen -G 'huge.bin.p7s*') ]] ||
	    fail "output or temporary file left: $(ls -a)"
	expect_no_pin "$UP"
}

t_cms_interrupt() {
	ready codesign-ecdsa-p256
	truncate -s 64G huge.bin
	sign_signalled INT
	expect_status 130
	check "Ctrl-C during a 2 GiB file: no .p7s, exit 130"

	sign_signalled TERM
	expect_status 143
	check "SIGTERM: no .p7s, exit 143"

	# a batch (signed on several sessions at once): small files done
	# before the signal are not saved either, and the summary says so
	printf 'one\n' >small1.txt
	printf 'two\n' >small2.txt
	timeout --preserve-status -s INT 2 "$HD_BIN" sign --sha1 "$THUMB" \
	    --pin env:UP small1.txt huge.bin small2.txt </dev/null \
	    >out.txt 2>err.txt
	HD_STATUS=$?
	HD_ERR=$(<err.txt)
	HD_OUT=$(<out.txt)
	HD_CMD="hsmdesk sign ... small1.txt huge.bin small2.txt (SIGINT at 2 s)"
	! grep -Eq 'Sanitizer|runtime error:' err.txt ||
	    fail "sanitizer report on stderr"
	expect_status 130
	expect_stderr_match 'sign interrupted'
	expect_stdout_match '^FAILED +cms +small1.txt: not written: interrupted'
	expect_stdout_match '^FAILED +cms +huge.bin: not signed: interrupted'
	[[ -z $(compgen -G '*.p7s*') ]] ||
	    fail "output or temporary file left: $(ls -a)"
	check "Ctrl-C during a batch of three: no .p7s at all, exit 130"
}

# ---- Authenticode -----------------------------------------------------------------

t_pe() {
	ready codesign-rsa2048
	build_pe
	printf 'plain\n' >plain.txt
	run_hsmdesk sign --sha1 "$THUMB" --d 'Hello App' \
	    --du https://example.com/hello --pin env:UP hello64.exe \
	    hello32.exe plain.txt
	expect_status 0
	expect_stdout_match '^OK +authenticode +hello64.exe -> '
	expect_stdout_match '^OK +authenticode +hello32.exe -> '
	expect_stdout_match '^OK +cms +plain.txt -> plain.txt.p7s$'
	pe_ok hello64.exe
	pe_ok hello32.exe
	grep -q 'Hello App' "$T_DIR/.osc" || fail "osslsigncode: no 'Hello App'"
	grep -q 'https://example.com/hello' "$T_DIR/.osc" ||
	    fail "osslsigncode: no URL"
	expect_no_pin "$UP"
	check "PE32+ and PE32 (auto type) signed; osslsigncode verifies, shows --d/--du"

	run_hsmdesk sign --sha1 "$THUMB" --as --fd sha384 --pin env:UP \
	    hello64.exe
	expect_status 0
	expect_stdout_match '2 signatures'
	pe_ok hello64.exe
	grep -Eq 'Number of signatures: 2|Signature Index: 1' "$T_DIR/.osc" ||
	    fail "osslsigncode does not see two signatures"
	check "--as: a nested signature, osslsigncode sees 2"

	run_hsmdesk verify --CAfile ca/root.pem hello64.exe hello32.exe
	expect_status 0
	expect_stdout_count 3 '^  signature [01].*: good$'
	expect_stdout_match '^  signature 1 \(nested\): good$'
	expect_stdout_match "^    thumbprint  $THUMB$"
	check "verify agrees: both files, nested signature too"

	run_hsmdesk verify hello32.exe
	expect_status 0
	check "verify with the trusted root of the local store"

	run_hsmdesk verify --CAfile other.pem hello32.exe
	expect_status 1
	check "verify against the wrong CA: exit 1"

	printf 'X' | dd of=hello32.exe bs=1 seek=1200 conv=notrunc 2>/dev/null
	run_hsmdesk verify --CAfile ca/root.pem hello32.exe
	expect_status 1
	check "verify a tampered PE: exit 1"

	run_hsmdesk sign --sha1 "$THUMB" --type authenticode --pin env:UP \
	    plain.txt
	expect_status 2
	expect_stdout_match '^FAILED +authenticode +plain.txt: neither a PE file'
	check "--type authenticode on a text file: unusable, exit 2"
}

t_pe_ec() {
	ready codesign-ecdsa-p256
	build_pe
	run_hsmdesk sign --sha1 "$(colons "$THUMB")" --fd sha512 --pin env:UP \
	    hello64.exe hello32.exe
	expect_status 0
	expect_stdout_count 2 '^OK +authenticode '
	pe_ok hello64.exe
	pe_ok hello32.exe
	expect_no_pin "$UP"
	check "ECDSA P-256, --fd sha512: osslsigncode verifies both"

	ln hello32.exe link32.exe
	run_hsmdesk sign --sha1 "$THUMB" --pin env:UP hello32.exe
	expect_status 0
	expect_stdout_match '^OK +authenticode +hello32.exe -> .*/hello32.exe \(1 signature, the old one replaced\)$'
	expect_stderr_match '^hsmdesk: hello32.exe: 1 other hard link still names the unsigned file$'
	pe_ok hello32.exe
	check "signing again without --as replaces the signature; a hard link is named"
	rm link32.exe

	cp hello64.exe copy.exe
	run_hsmdesk sign --sha1 "$THUMB" --type cms --pin env:UP copy.exe
	expect_status 0
	expect_stdout_match '^OK +cms +copy.exe -> copy.exe.p7s$'
	check "--type cms on a PE file: a detached signature"

	run_hsmdesk verify hello64.exe hello32.exe
	expect_status 0
	expect_stdout_match '^    digest      SHA512$'
	check "verify: good"

	cp hello.c hello2.c
	timeout 120 x86_64-w64-mingw32-gcc -O2 -o unsigned.exe hello2.c \
	    </dev/null >/dev/null 2>&1 || t_abort "MinGW build failed"
	run_hsmdesk verify unsigned.exe hello32.exe
	expect_status 2
	expect_stderr_match 'not signed'
	check "verify of an unsigned PE among signed ones: exit 2"
}

t_run "CMS batch" t_cms_batch
t_run "CMS options" t_cms_options
t_run "CMS errors" t_cms_errors
t_run "CMS interrupt" t_cms_interrupt
t_run "Authenticode" t_pe
t_run "Authenticode EC" t_pe_ec
t_run "PowerShell" t_ps1
e2e_finish
