#!/usr/bin/env bash
#
# make bench, part "certs": 1,000 certificates on a throwaway SoftHSM2
# token (one P-256 key pair, 1,000 certificates for it from a test CA,
# stored in one session by tests/bench/bench_certs.c the way accept
# stores them), then
#   - `hsmdesk certs` (every certificate parsed, thumbprints, key lookup,
#     sorted, printed) against `pkcs11-tool --list-objects --type cert`,
#     median wall time of RUNS runs each; target <= 1.0x;
#   - one filter keystroke of the Find by thumbprint screen at 1,000
#     certificates (hd_certs_filter on a copy of the list), median of
#     KEYS keystrokes; target < 20 ms.
#
#   tests/bench/certs.sh BUILD_DIR [RUNS] [KEYS]

set -u
build=${1:?usage: certs.sh BUILD_DIR [RUNS] [KEYS]}
runs=${2:-7}
keys=${3:-600}
count=1000
top=$(cd "$(dirname "$0")/../.." && pwd)
hd=$top/$build/hsmdesk
bc=$top/$build/tests/bench_certs
module=${HSMDESK_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}

make --no-print-directory -C "$top" BUILD="$build" "$build/tests/bench_certs" \
    >/dev/null || exit 2
[[ -x $hd ]] || { echo "bench: $hd not built" >&2; exit 2; }
command -v pkcs11-tool >/dev/null || { echo "bench: pkcs11-tool missing" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-bench.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/tokens" "$dir/home"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" >"$dir/softhsm2.conf"
export SOFTHSM2_CONF=$dir/softhsm2.conf HOME=$dir/home
export XDG_CONFIG_HOME=$dir/home/.config XDG_DATA_HOME=$dir/home/.local/share
export HSMDESK_MODULE=$module HSMDESK_TOKEN=bench
unset HSMDESK_FAKEP11_FAULT
softhsm2-util --init-token --free --label bench --so-pin 12345678 \
    --pin 1234 >/dev/null || exit 2

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

t0=$(now_ns)
"$bc" "$module" fill "$count" || exit 1
t1=$(now_ns)
printf 'certs: setup: %d certificates issued and stored in %s ms\n' "$count" \
    "$(ms $((t1 - t0)))"

hd_once() {
	local a b
	a=$(now_ns)
	"$hd" certs --token bench >"$dir/hd.out" 2>"$dir/err" ||
	    { cat "$dir/err" >&2; return 1; }
	b=$(now_ns)
	echo $((b - a))
}
p11_once() {
	local a b
	a=$(now_ns)
	pkcs11-tool --module "$module" --token-label bench --list-objects \
	    --type cert >"$dir/p11.out" 2>"$dir/err" </dev/null ||
	    { cat "$dir/err" >&2; return 1; }
	b=$(now_ns)
	echo $((b - a))
}

# warm-up, untimed; and both must see all of them
hd_once >/dev/null && p11_once >/dev/null || exit 1
nh=$(grep -c '^[0-9A-F]\{40\} ' "$dir/hd.out")
np=$(grep -c '^Certificate Object' "$dir/p11.out")
if ((nh != count || np != count)); then
	echo "certs: hsmdesk listed $nh, pkcs11-tool $np; expected $count" >&2
	exit 1
fi
: >"$dir/hd" && : >"$dir/p11"
for ((i = 0; i < runs; i++)); do
	hd_once >>"$dir/hd" || exit 1
	p11_once >>"$dir/p11" || exit 1
done
h=$(median <"$dir/hd")
p=$(median <"$dir/p11")
ratio=$(awk -v a="$h" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
status=0
printf 'certs: list %d certificates, median of %d runs: hsmdesk certs %s ms, pkcs11-tool --list-objects --type cert %s ms, %sx\n' \
    "$count" "$runs" "$(ms "$h")" "$(ms "$p")" "$ratio"
if awk -v r="$ratio" 'BEGIN { exit !(r > 1.0) }'; then
	echo "  target missed: hsmdesk certs ${ratio}x > 1.0x pkcs11-tool"
	status=1
fi

read -r n med worst _ < <("$bc" "$module" filter "$keys") || exit 1
printf 'certs: filter keystroke at %d certificates, median of %d: %s ms (worst %s ms)\n' \
    "$n" "$keys" "$med" "$worst"
if awk -v m="$med" 'BEGIN { exit !(m >= 20) }'; then
	echo "  target missed: a filter keystroke takes ${med} ms >= 20 ms"
	status=1
fi
((status == 0)) && echo "certs: targets met (list <= 1.0x pkcs11-tool, keystroke < 20 ms)"
exit $status
