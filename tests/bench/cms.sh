#!/usr/bin/env bash
#
# make bench, part "cms": detached CMS signing against `openssl cms -sign`,
# the >4 GiB interoperability check, and batch fsync (tests/bench/bench_cms.c
# says what and the targets).
#
#   tests/bench/cms.sh BUILD_DIR [RUNS]

set -u
build=${1:?usage: cms.sh BUILD_DIR [RUNS]}
top=$(cd "$(dirname "$0")/../.." && pwd)
make --no-print-directory -C "$top" BUILD="$build" "$build/tests/bench_cms" \
    >/dev/null || exit 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/hsmdesk-bench.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
# a throwaway HOME and token store: bench_cms makes its own under TMPDIR
export TMPDIR=$dir HSMDESK_TOP=$top HSMDESK_BUILD=$top/$build
unset HSMDESK_MODULE SOFTHSM2_CONF HSMDESK_FAKEP11_FAULT
"$top/$build/tests/bench_cms" "${2:-5}"
