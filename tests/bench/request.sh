#!/usr/bin/env bash
#
# make bench, part "request": per key type, the median wall time of
# `hsmdesk request` (key pair + CSR, end to end: process start, module
# load, login, keygen, CSR signing, files written) against the median of
# `pkcs11-tool --keypairgen` (process start, module load, login, keygen
# only) on the same throwaway SoftHSM2 token in the same run, and the
# time hsmdesk spends outside the token's C_GenerateKeyPair and signing
# calls (wall time minus what `hsmdesk -v` reports for those calls).
#
# Targets (issue 5): EC P-256 end to end <= 1.5x pkcs11-tool's bare
# keygen; hsmdesk's own time < 20 ms per request for every key type.
#
#   tests/bench/request.sh BUILD_DIR [RUNS]

set -u
build=${1:?usage: request.sh BUILD_DIR [RUNS]}
runs=${2:-9}
top=$(cd "$(dirname "$0")/../.." && pwd)
hd=$top/$build/hsmdesk
module=${HSMDESK_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
subject='CN=Bench Signing Key,O=Contoso Ltd,L=Seattle,ST=Washington,C=US'

[[ -x $hd ]] || { echo "bench: $hd not built" >&2; exit 2; }
command -v pkcs11-tool >/dev/null || { echo "bench: pkcs11-tool missing" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-bench.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/tokens" "$dir/out" "$dir/home"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" >"$dir/softhsm2.conf"
export SOFTHSM2_CONF=$dir/softhsm2.conf HOME=$dir/home
export XDG_CONFIG_HOME=$dir/home/.config XDG_DATA_HOME=$dir/home/.local/share
export HSMDESK_MODULE=$module HSMDESK_PROFILE_DIR=$top/profiles
export BENCH_PIN=24681357
unset HSMDESK_FAKEP11_FAULT
softhsm2-util --init-token --free --label bench --so-pin 13572468 \
    --pin "$BENCH_PIN" >/dev/null || exit 2

now_ns() { date +%s%N; }

# median of the numbers on stdin (one per line)
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# one `hsmdesk -v request`; prints "WALL_NS TOKEN_NS"
hd_once() {	# hd_once PROFILE N
	local t0 t1 gen sign
	t0=$(now_ns)
	"$hd" -v request --profile "$1" --subject "$subject" \
	    --label "bench-$2" --out "$dir/out/$2.csr" --pin env:BENCH_PIN \
	    >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; return 1; }
	t1=$(now_ns)
	gen=$(sed -n 's/.*C_GenerateKeyPair \([0-9.]*\) ms.*/\1/p' "$dir/err")
	sign=$(sed -n 's/.*signing \([0-9.]*\) ms.*/\1/p' "$dir/err")
	echo "$((t1 - t0)) $(awk -v g="$gen" -v s="$sign" 'BEGIN { printf "%d", (g + s) * 1e6 }')"
}

# one `pkcs11-tool --keypairgen`; prints WALL_NS
p11_once() {	# p11_once KEYTYPE N
	local t0 t1
	t0=$(now_ns)
	pkcs11-tool --module "$module" --token-label bench --login \
	    --pin "$BENCH_PIN" --keypairgen --key-type "$1" \
	    --label "p11-$2" --id "$(printf '%04x' "$2")" \
	    >/dev/null 2>"$dir/err" </dev/null || { cat "$dir/err" >&2; return 1; }
	t1=$(now_ns)
	echo "$((t1 - t0))"
}

ms() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

printf 'request: key pair + CSR vs pkcs11-tool --keypairgen, median of %d runs each, SoftHSM2\n' "$runs"
printf '%-20s %12s %12s %7s %12s %12s\n' "profile" "hsmdesk ms" "p11tool ms" "ratio" "token ms" "own ms"
status=0
n=0
# warm-up, untimed: the first run pays for cold caches (libraries, token)
hd_once codesign-ecdsa-p256 0 >/dev/null && p11_once EC:prime256v1 0 >/dev/null &&
    "$hd" delete-key --label bench-0 --yes --pin env:BENCH_PIN >/dev/null || exit 1
for row in codesign-ecdsa-p256:EC:prime256v1 codesign-ecdsa-p384:EC:secp384r1 \
    codesign-rsa2048:rsa:2048 codesign-rsa3072:rsa:3072 rsa4096:rsa:4096; do
	prof=${row%%:*}
	ktype=${row#*:}
	if [[ $prof == rsa4096 ]]; then
		# no shipped profile asks for RSA-4096: one made here
		sed -e 's/^name: .*/name: "rsa4096"/' -e 's/bits: 3072/bits: 4096/' \
		    "$top/profiles/codesign-rsa3072.yaml" >"$dir/rsa4096.yaml"
		prof=$dir/rsa4096.yaml
	fi
	: >"$dir/hd" && : >"$dir/p11"
	for ((i = 0; i < runs; i++)); do
		n=$((n + 1))
		hd_once "$prof" "$n" >>"$dir/hd" || exit 1
		p11_once "$ktype" "$n" >>"$dir/p11" || exit 1
		# untimed: both keys go again, so every run sees the same
		# (empty) token -- SoftHSM2's calls slow down with its size
		"$hd" delete-key --label "bench-$n" --yes --pin env:BENCH_PIN \
		    >/dev/null || exit 1
		for t in privkey pubkey; do
			pkcs11-tool --module "$module" --token-label bench \
			    --login --pin "$BENCH_PIN" --delete-object --type $t \
			    --id "$(printf '%04x' "$n")" >/dev/null 2>&1 </dev/null ||
			    exit 1
		done
	done
	hwall=$(cut -d' ' -f1 "$dir/hd" | median)
	htok=$(cut -d' ' -f2 "$dir/hd" | median)
	own=$(awk '{ print $1 - $2 }' "$dir/hd" | median)
	pwall=$(median <"$dir/p11")
	ratio=$(awk -v a="$hwall" -v b="$pwall" 'BEGIN { printf "%.2f", a / b }')
	printf '%-20s %12s %12s %6sx %12s %12s\n' "${prof##*/}" "$(ms "$hwall")" \
	    "$(ms "$pwall")" "$ratio" "$(ms "$htok")" "$(ms "$own")"
	if ((own >= 20000000)); then
		echo "  target missed: hsmdesk's own time $(ms "$own") ms >= 20 ms"
		status=1
	fi
	if [[ $prof == codesign-ecdsa-p256 ]] &&
	    awk -v r="$ratio" 'BEGIN { exit !(r > 1.5) }'; then
		echo "  target missed: EC P-256 end to end ${ratio}x > 1.5x pkcs11-tool"
		status=1
	fi
done
((status == 0)) && echo "request: targets met (P-256 <= 1.5x, own time < 20 ms)"
exit $status
