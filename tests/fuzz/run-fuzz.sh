#!/bin/bash
# Runs each libFuzzer target for a fixed time from its seed corpus
# (tests/fuzz/corpus/NAME/). Prints one TAP line per target.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
# target:seconds; VMHA_FUZZ_SECONDS overrides every budget.
targets="disk_decode:30 ipc_request:15"
work=$(mktemp -d /var/tmp/vmha-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0
failed=0
for entry in $targets; do
    name=${entry%%:*}
    secs=${VMHA_FUZZ_SECONDS:-${entry##*:}}
    n=$((n + 1))
    fuzzer="$builddir/tests/fuzz/fuzz_$name"
    corpus="$work/$name"
    mkdir -p "$corpus" "$work/artifacts-$name"
    cp "$srcdir/tests/fuzz/corpus/$name/"* "$corpus/"
    if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$work/artifacts-$name/" "$corpus" 2>"$work/$name.log"; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$')
        echo "ok $n - fuzz_$name survives ${secs}s of fuzzing (${runs:-?} inputs)"
    else
        tail -40 "$work/$name.log" | sed 's/^/# /'
        ls "$work/artifacts-$name" | sed 's/^/# crash input: /'
        echo "not ok $n - fuzz_$name found a crash"
        failed=1
    fi
done
echo "1..$n"
exit $failed
