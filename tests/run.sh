#!/bin/sh
# Run every test against one build (default: the sanitizer build) and end
# with the plain summary line "N passed, N failed".
#   tests/run.sh [BUILD_DIR]
# Unit tests are cmocka binaries in BUILD/tests/; end-to-end tests are the
# tests/e2e/*.sh scripts, which print "ok - ..." / "not ok - ..." lines.
build=${1:-build-asan}
top=$(cd "$(dirname "$0")/.." && pwd)
export HSMDESK_BUILD="$top/$build"
export HSMDESK_TOP="$top"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# never the caller's terminal type, HOME or HSM settings
unset HSMDESK_MODULE SOFTHSM2_CONF
export TERM=xterm-256color LC_ALL=C.UTF-8

passed=0 failed=0 failures=""
log=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-tests.XXXXXX") || exit 2
trap 'rm -rf "$log"' EXIT

for t in "$HSMDESK_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	"$t" >"$log/$name" 2>&1
	rc=$?
	grep -E '^\[ *(PASSED|FAILED|SKIPPED) *\]' "$log/$name" | sed "s/^/$name: /"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name")
	passed=$((passed + ${p:-0}))
	if [ $rc -ne 0 ] || [ -n "$f" ]; then
		failed=$((failed + ${f:-1}))
		failures="$failures $name"
		cat "$log/$name"
	fi
done

# the fault-injecting module checks itself first: the tests lean on it
st="$HSMDESK_BUILD/tests/fakep11-selftest"
if [ -x "$st" ]; then
	"$st" "$HSMDESK_BUILD/fakep11.so" >"$log/fakep11" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log/fakep11")
	f=$(grep -c '^not ok ' "$log/fakep11")
	echo "fakep11-selftest: $p passed, $f failed"
	passed=$((passed + p))
	if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
		failed=$((failed + (f > 0 ? f : 1)))
		failures="$failures fakep11-selftest"
		grep -v '^ok ' "$log/fakep11"
	fi
fi

for t in "$top"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	bash "$t" >"$log/$name" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log/$name")
	f=$(grep -c '^not ok ' "$log/$name")
	echo "$name: $p passed, $f failed"
	passed=$((passed + p))
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		failed=$((failed + f))
		failures="$failures $name"
		grep -v '^ok ' "$log/$name"
	fi
done

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
