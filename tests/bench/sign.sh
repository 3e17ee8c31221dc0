#!/usr/bin/env bash
#
# make bench, part "sign": the `sign` command end to end, on a throwaway
# SoftHSM2 token with a certificate from a CA made here.
#
# 1. 500 files of 4 KiB, one `hsmdesk sign` call against 500 calls of one
#    file each, with an EC P-256 and an RSA-2048 key (issue 7: one call at
#    least 20x faster), and files per second.
# 2. A 100 MiB PE (a small MinGW program with 100 MiB appended): `hsmdesk
#    sign` against `osslsigncode sign` through the libp11 engine on the
#    same token and file (issue 8: ratio <= 1.0x), and peak RSS of each
#    (hsmdesk's target <= 32 MiB).
#
#   tests/bench/sign.sh BUILD_DIR [RUNS]

set -u
build=${1:?usage: sign.sh BUILD_DIR [RUNS]}
runs=${2:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
hd=$top/$build/hsmdesk
module=${HSMDESK_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
engine=$(find /usr/lib -name pkcs11.so -path '*engines-3*' 2>/dev/null | head -n 1)

for t in "$hd" osslsigncode x86_64-w64-mingw32-gcc openssl pkcs11-tool; do
	command -v "$t" >/dev/null || { echo "bench sign: $t missing" >&2; exit 2; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-bench.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 2
mkdir -p tokens home ca
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" >softhsm2.conf
export SOFTHSM2_CONF=$dir/softhsm2.conf HOME=$dir/home
export XDG_CONFIG_HOME=$dir/home/.config XDG_DATA_HOME=$dir/home/.local/share
export HSMDESK_MODULE=$module HSMDESK_PROFILE_DIR=$top/profiles
unset HSMDESK_FAKEP11_FAULT
PIN=24681357
softhsm2-util --init-token --free --label bench --so-pin 13572468 \
    --pin "$PIN" >/dev/null || exit 2

q() { "$@" </dev/null >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; exit 2; }; }
now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

cat >ca/ext.cnf <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[codesign]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
EOF
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca/root.key -subj "/CN=Bench Root" -days 30 -config ca/ext.cnf \
    -extensions root -out ca/root.pem
root256=$(openssl x509 -in ca/root.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)

# signer PROFILE LABEL: key + certificate on the token; prints the SHA-1
signer() {
	export BENCH_PIN=$PIN
	q "$hd" request --profile "$1" --label "$2" --out "$2.csr" \
	    --subject "CN=Bench $2,O=Contoso Ltd,L=Seattle,ST=Washington,C=US" \
	    --pin env:BENCH_PIN
	q openssl x509 -req -in "$2.csr" -CA ca/root.pem -CAkey ca/root.key \
	    -CAcreateserial -days 30 -extfile ca/ext.cnf -extensions codesign \
	    -out "$2.pem"
	cat "$2.pem" ca/root.pem >"$2.bundle"
	export BENCH_PIN=$PIN
	q "$hd" accept "$2.bundle" --trust-root "$root256" --pin env:BENCH_PIN
	openssl x509 -in "$2.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
}

status=0
ec=$(signer codesign-ecdsa-p256 ec) || exit 2
rsa=$(signer codesign-rsa2048 rsa) || exit 2

# ---- 500 files, one call against 500 calls --------------------------------
mkdir files
for i in $(seq 1 500); do head -c 4096 /dev/urandom >"files/f$i.bin"; done
echo "sign: 500 files of 4 KiB, one call vs 500 calls (median of $runs)"
for key in ec rsa; do
	thumb=${!key}
	: >one.t; : >many.t
	for ((r = 0; r < runs; r++)); do
		rm -f files/*.p7s
		export BENCH_PIN=$PIN
		t0=$(now_ns)
		q "$hd" -q sign --sha1 "$thumb" --pin env:BENCH_PIN files/*.bin
		echo $(($(now_ns) - t0)) >>one.t
		rm -f files/*.p7s
		t0=$(now_ns)
		for f in files/*.bin; do
			export BENCH_PIN=$PIN
			q "$hd" -q sign --sha1 "$thumb" --pin env:BENCH_PIN "$f"
		done
		echo $(($(now_ns) - t0)) >>many.t
	done
	one=$(median <one.t)
	many=$(median <many.t)
	ratio=$(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.1f", a / b }')
	printf '  %-4s one call %8s ms (%s files/s)   500 calls %9s ms   %sx faster\n' \
	    "$key" "$(ms "$one")" "$(awk -v n="$one" 'BEGIN { printf "%.0f", 500 / (n / 1e9) }')" \
	    "$(ms "$many")" "$ratio"
	if awk -v r="$ratio" 'BEGIN { exit !(r < 20) }'; then
		echo "  target missed: one call only ${ratio}x faster (< 20x)"
		status=1
	fi
done

# ---- 1 GiB: signing against hashing ---------------------------------------
# `hsmdesk sign` of one 1 GiB file (EC P-256, SHA-256) against `openssl dgst
# -sha256` and `sha256sum` of the same file, and `openssl cms -sign -binary`
# with a software key; the file is read once beforehand so that every
# command finds it in the page cache.  Targets: <= 1.1x openssl dgst, peak
# RSS <= 16 MiB.
head -c $((1024 * 1024 * 1024)) /dev/urandom >big.bin
cat big.bin >/dev/null
openssl pkey -in ca/root.key -out soft.key 2>/dev/null || exit 2
echo "sign: a 1 GiB file, hsmdesk sign (EC P-256) vs hashing it (median of $runs)"
: >hd1.t; : >dgst.t; : >sum.t; : >cms.t; : >hd1.rss
for ((r = 0; r < runs; r++)); do
	rm -f big.bin.p7s
	export BENCH_PIN=$PIN
	t0=$(now_ns)
	/usr/bin/time -f %M -o rss "$hd" -q sign --sha1 "$ec" \
	    --pin env:BENCH_PIN big.bin </dev/null >/dev/null 2>"$dir/err" ||
	    { cat "$dir/err" >&2; exit 2; }
	echo $(($(now_ns) - t0)) >>hd1.t
	cat rss >>hd1.rss
	t0=$(now_ns); q openssl dgst -sha256 big.bin; echo $(($(now_ns) - t0)) >>dgst.t
	t0=$(now_ns); q sha256sum big.bin; echo $(($(now_ns) - t0)) >>sum.t
	t0=$(now_ns)
	q openssl cms -sign -binary -in big.bin -signer ca/root.pem \
	    -inkey soft.key -outform DER -out soft.p7s
	echo $(($(now_ns) - t0)) >>cms.t
done
h=$(median <hd1.t); d=$(median <dgst.t); u=$(median <sum.t); m=$(median <cms.t)
hr=$(median <hd1.rss)
r_d=$(awk -v a="$h" -v b="$d" 'BEGIN { printf "%.2f", a / b }')
printf '  hsmdesk %8s ms, %5.1f MiB RSS   openssl dgst %8s ms (%sx)   sha256sum %8s ms (%sx)   openssl cms -sign %8s ms (%sx)\n' \
    "$(ms "$h")" "$(awk -v k="$hr" 'BEGIN { print k / 1024 }')" "$(ms "$d")" "$r_d" \
    "$(ms "$u")" "$(awk -v a="$h" -v b="$u" 'BEGIN { printf "%.2f", a / b }')" \
    "$(ms "$m")" "$(awk -v a="$h" -v b="$m" 'BEGIN { printf "%.2f", a / b }')"
openssl cms -verify -binary -inform DER -in big.bin.p7s -content big.bin \
    -CAfile ca/root.pem -purpose any -out /dev/null >/dev/null 2>&1 ||
    { echo "  big.bin.p7s does not verify"; status=1; }
if awk -v r="$r_d" -v k="$hr" 'BEGIN { exit !(r > 1.1 || k > 16384) }'; then
	echo "  target missed: ${r_d}x openssl dgst (> 1.1x) or RSS over 16 MiB"
	status=1
fi
rm -f big.bin big.bin.p7s soft.p7s

# ---- a 100 MiB PE against osslsigncode -------------------------------------
printf 'int main(void) { return 0; }\n' >hello.c
q x86_64-w64-mingw32-gcc -o small.exe hello.c
cp small.exe big.exe
head -c $((100 * 1024 * 1024)) /dev/urandom >>big.exe
echo "sign: a 100 MiB PE, hsmdesk sign vs osslsigncode sign (libp11 engine), RSA-2048 (median of $runs)"
: >hd.t; : >osc.t; : >hd.rss; : >osc.rss
for ((r = 0; r < runs; r++)); do
	cp big.exe a.exe
	export BENCH_PIN=$PIN
	t0=$(now_ns)
	/usr/bin/time -f %M -o rss "$hd" -q sign --sha1 "$rsa" --pin env:BENCH_PIN \
	    a.exe </dev/null >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; exit 2; }
	echo $(($(now_ns) - t0)) >>hd.t
	cat rss >>hd.rss
	rm -f b.exe
	t0=$(now_ns)
	# the PIN in a pkcs11: URI on osslsigncode's command line: a throwaway
	# token's, in a private directory; hsmdesk never takes one there
	/usr/bin/time -f %M -o rss osslsigncode sign -pkcs11engine "$engine" \
	    -pkcs11module "$module" -certs rsa.pem \
	    -key "pkcs11:token=bench;object=rsa;type=private;pin-value=$PIN" \
	    -h sha256 -in big.exe -out b.exe </dev/null >/dev/null 2>"$dir/err" ||
	    { cat "$dir/err" >&2; exit 2; }
	echo $(($(now_ns) - t0)) >>osc.t
	cat rss >>osc.rss
done
h=$(median <hd.t); o=$(median <osc.t)
hr=$(median <hd.rss); orss=$(median <osc.rss)
ratio=$(awk -v a="$h" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
printf '  hsmdesk %8s ms, %6.1f MiB RSS   osslsigncode %8s ms, %6.1f MiB RSS   %sx\n' \
    "$(ms "$h")" "$(awk -v k="$hr" 'BEGIN { print k / 1024 }')" \
    "$(ms "$o")" "$(awk -v k="$orss" 'BEGIN { print k / 1024 }')" "$ratio"
osslsigncode verify -CAfile ca/root.pem -ignore-cdp -in a.exe >/dev/null 2>&1 ||
    { echo "  hsmdesk's signed file does not verify"; status=1; }
if awk -v r="$ratio" 'BEGIN { exit !(r > 1.0) }'; then
	echo "  target missed: ${ratio}x osslsigncode (> 1.0x)"
	status=1
fi
if ((hr > 32 * 1024)); then
	echo "  target missed: peak RSS $((hr / 1024)) MiB > 32 MiB"
	status=1
fi
((status == 0)) && echo "sign: targets met (one call >= 20x; 1 GiB <= 1.1x openssl dgst, RSS <= 16 MiB; PE <= 1.0x osslsigncode, RSS <= 32 MiB)"
exit $status
