#!/bin/bash
# A longer randomized S1/S2 search than `make check` runs: three seeds of
# VMHA_BENCH_SECONDS (default 60) each, which must find no violation; then,
# with each safety fix switched off in turn, how many sequences the search
# needs to find a violation (it must find one for some seed).
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
sim="$builddir/tests/scenarios/simulate"
seconds=${VMHA_BENCH_SECONDS:-60}
[ -x "$sim" ] || make -s tests/scenarios/simulate || exit 1
rc=0
for seed in 11 12 13; do
    "$sim" --random --seconds "$seconds" --seed "$seed" | grep -E '^(random|violation|#|  )' | head -60
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
done
for knob in no-margin no-fresh-ack no-claims; do
    found=0
    for seed in 1 2 3 4 5; do
        line=$("$sim" --random --knob "$knob" --seed "$seed" --seconds "$seconds" --expect-violation | tail -1)
        echo "knob $knob: $line"
        case "$line" in *", 1 with an S1/S2 violation"*) found=1 ;; esac
    done
    [ "$found" -eq 1 ] || { echo "knob $knob: no violation found: the search does not exercise it"; rc=1; }
done
exit $rc
