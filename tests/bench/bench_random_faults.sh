#!/bin/bash
# A longer randomized S1/S2 search than `make check` runs: several seeds,
# 60 s each by default (VMHA_BENCH_SECONDS), and the same search with each
# safety fix switched off, which must find a violation.
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
sim="$builddir/tests/scenarios/simulate"
seconds=${VMHA_BENCH_SECONDS:-60}
[ -x "$sim" ] || make -s tests/scenarios/simulate || exit 1
rc=0
for seed in 11 12 13; do
    "$sim" --random --seconds "$seconds" --seed "$seed" || rc=1
done
for knob in no-margin no-fresh-ack no-claims; do
    echo "== with knob $knob (a violation must be found)"
    "$sim" --random --seconds "$seconds" --seed 7 --knob "$knob" --expect-violation || {
        echo "no violation found with $knob"; rc=1; }
done
exit $rc
