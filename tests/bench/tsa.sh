#!/usr/bin/env bash
#
# make bench, part "tsa": RFC 3161 timestamps against the local test TSA
# (tests/tsa/tsa_server.c on 127.0.0.1, so the figures are hsmdesk's own
# cost, not a network's), on a throwaway SoftHSM2 token with an EC P-256
# key and a certificate from a CA made here.
#
# 100 files of 4 KiB, each signed (CMS) with a timestamp: one `hsmdesk
# sign --tr` call against 100 calls of one file each, and the same one
# call without --tr; the difference per file is what a timestamp costs.
#
#   tests/bench/tsa.sh BUILD_DIR [RUNS]

set -u
build=${1:?usage: tsa.sh BUILD_DIR [RUNS]}
runs=${2:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
hd=$top/$build/hsmdesk
tsa=$top/$build/tests/tsa_server
module=${HSMDESK_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}

[[ -x $tsa ]] || make -s -C "$top" BUILD="$build" "$build/tests/tsa_server" \
    >/dev/null || { echo "bench tsa: cannot build $tsa" >&2; exit 2; }
for t in "$hd" openssl softhsm2-util; do
	command -v "$t" >/dev/null || { echo "bench tsa: $t missing" >&2; exit 2; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-bench.XXXXXX") || exit 2
tsa_pid=
trap '[[ -n $tsa_pid ]] && kill "$tsa_pid"; rm -rf "$dir"' EXIT
cd "$dir" || exit 2
mkdir -p tokens home ca tsa
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" >softhsm2.conf
export SOFTHSM2_CONF=$dir/softhsm2.conf HOME=$dir/home
export XDG_CONFIG_HOME=$dir/home/.config XDG_DATA_HOME=$dir/home/.local/share
export HSMDESK_MODULE=$module HSMDESK_PROFILE_DIR=$top/profiles
unset HSMDESK_FAKEP11_FAULT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
PIN=24681357
softhsm2-util --init-token --free --label bench --so-pin 13572468 \
    --pin "$PIN" >/dev/null || exit 2

q() { "$@" </dev/null >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; exit 2; }; }
now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

"$tsa" "$dir/tsa" 3600 </dev/null >/dev/null 2>&1 &
tsa_pid=$!
for _ in $(seq 100); do [[ -s tsa/ports ]] && break; sleep 0.05; done
url="http://127.0.0.1:$(awk '$1 == "good" { print $2 }' tsa/ports)/"

printf '[root]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n[cs]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
    >ca/ext.cnf
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca/root.key -subj "/CN=Bench Root" -days 30 -config ca/ext.cnf \
    -extensions root -out ca/root.pem
export BENCH_PIN=$PIN
q "$hd" request --profile codesign-ecdsa-p256 --label ec --out ec.csr \
    --subject "CN=Bench,O=Contoso Ltd,L=Seattle,ST=Washington,C=US" \
    --pin env:BENCH_PIN
q openssl x509 -req -in ec.csr -CA ca/root.pem -CAkey ca/root.key \
    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions cs -out ec.pem
cat ec.pem ca/root.pem >ec.bundle
q "$hd" accept ec.bundle --pin env:BENCH_PIN --trust-root \
    "$(openssl x509 -in ca/root.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)"
thumb=$(openssl x509 -in ec.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)

mkdir files
for i in $(seq 1 100); do head -c 4096 /dev/urandom >"files/f$i.bin"; done
echo "tsa: 100 files of 4 KiB, CMS with a timestamp each, local TSA (median of $runs)"
: >one.t; : >many.t; : >none.t
for ((r = 0; r < runs; r++)); do
	rm -f files/*.p7s
	t0=$(now_ns)
	q "$hd" -q sign --sha1 "$thumb" --pin env:BENCH_PIN files/*.bin
	echo $(($(now_ns) - t0)) >>none.t
	rm -f files/*.p7s
	t0=$(now_ns)
	q "$hd" -q sign --sha1 "$thumb" --pin env:BENCH_PIN --tr "$url" files/*.bin
	echo $(($(now_ns) - t0)) >>one.t
	rm -f files/*.p7s
	t0=$(now_ns)
	for f in files/*.bin; do
		q "$hd" -q sign --sha1 "$thumb" --pin env:BENCH_PIN --tr "$url" "$f"
	done
	echo $(($(now_ns) - t0)) >>many.t
done
# every signature carries a token: the figures are for real work
n=$(for f in files/*.p7s; do openssl cms -cmsout -print -inform DER -in "$f" |
    grep -c 'id-smime-aa-timeStampToken'; done | awk '{ s += $1 } END { print s }')
[[ $n == 100 ]] || { echo "bench tsa: $n of 100 signatures have a timestamp" >&2; exit 1; }
one=$(median <one.t)
many=$(median <many.t)
none=$(median <none.t)
printf '  one call %8s ms (%s files/s)   100 calls %9s ms   %sx faster\n' \
    "$(ms "$one")" "$(awk -v n="$one" 'BEGIN { printf "%.0f", 100 / (n / 1e9) }')" \
    "$(ms "$many")" "$(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.1f", a / b }')"
printf '  without --tr, one call %s ms: a timestamp costs %s ms per file\n' \
    "$(ms "$none")" "$(awk -v a="$one" -v b="$none" 'BEGIN { printf "%.2f", (a - b) / 100 / 1e6 }')"
