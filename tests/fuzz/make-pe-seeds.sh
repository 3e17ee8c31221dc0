#!/bin/sh
# Regenerate tests/fuzz/corpus/pe/: tiny PE files (under 2 KiB each) made
# with the MinGW-w64 compilers, one signed by osslsigncode with a
# throwaway key that is not kept.  Run from the top of the tree; the
# outputs are committed so `make fuzz` needs no cross compiler.
set -eu
out=tests/fuzz/corpus/pe
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pe-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf 'int start(void) { return 42; }\n' >"$tmp/tiny.c"
# FileAlignment 16 instead of 512 keeps the files small
small="-Os -nostdlib -s -Wl,--file-alignment=16 -fno-asynchronous-unwind-tables"
x86_64-w64-mingw32-gcc $small -e start -o "$out/pe32plus.exe" "$tmp/tiny.c"
i686-w64-mingw32-gcc $small -e _start -o "$out/pe32.exe" "$tmp/tiny.c"
x86_64-w64-mingw32-gcc $small -shared -e start -o "$out/pe32plus.dll" \
	"$tmp/tiny.c"
# 13 bytes appended: data after the sections, odd length
cp "$out/pe32.exe" "$out/pe32-appended.exe"
printf 'appended-data' >>"$out/pe32-appended.exe"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=fuzz-seed -days 1 -keyout "$tmp/k.pem" -out "$tmp/c.pem" \
	2>/dev/null
rm -f "$out/pe32plus-signed.exe"
osslsigncode sign -certs "$tmp/c.pem" -key "$tmp/k.pem" -h sha256 \
	-in "$out/pe32plus.exe" -out "$out/pe32plus-signed.exe" >/dev/null
ls -l "$out"
