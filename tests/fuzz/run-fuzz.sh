#!/bin/bash
# Runs the heartbeat decoders' libFuzzer target for a fixed time, starting
# from the seed corpus (valid blocks of every kind). Prints TAP.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
secs=${VMHA_FUZZ_SECONDS:-30}
fuzzer="$builddir/tests/fuzz/fuzz_disk_decode"
work=$(mktemp -d /var/tmp/vmha-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$srcdir"/tests/fuzz/corpus/* "$work/"
mkdir -p "$work/artifacts"
echo "1..1"
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$work/artifacts/" "$work" 2>"$work/log"; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
    echo "ok 1 - decoders survive ${secs}s of fuzzing (${runs:-?} inputs)"
else
    tail -40 "$work/log"
    ls "$work/artifacts" | sed 's/^/# crash input: /'
    echo "not ok 1 - the decoder fuzz target found a crash"
    exit 1
fi
