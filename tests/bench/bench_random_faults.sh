#!/bin/bash
# A longer randomized S1/S2 search than `make check` runs, with every fault
# kind the search draws: VMHA_BENCH_SEQUENCES (default 100000) sequences
# from one seed, which must show no violation of S1 or S2 and never two
# masters that both reach the disk; then, with each safety fix switched off
# in turn, how many sequences the search needs to find a violation of
# either (at most VMHA_BENCH_KNOB_SEQUENCES each, seeds 1 to 3 side by side;
# it must find one for some seed, and the first finding stops the others).
# VMHA_BENCH_SEQUENCES=0 runs the knob table alone; VMHA_BENCH_KNOBS
# names the knobs to try instead of all. no-fresh-ack runs together with
# stale-quorum, which also holds off its counterexample (a host resuming
# from a freeze); stale-quorum, stale-partition and same-ring run with
# stale-ack-master, and hasty-quorum with joiner-view, as in `make check`;
# single-collect runs with split masters, where restarts race. A finding
# that the same sequence shows with every fix in place, or with one knob of
# several fewer, does not count.
# stale-collect is left out: it is a second line that only another master
# beside this one reaches (scenario ce17_stale_collect).
# Budgets are counts, not times, so the figures are
# the same on any machine; the rate is printed for information.
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
sim="$builddir/tests/scenarios/simulate"
sequences=${VMHA_BENCH_SEQUENCES:-100000}
knob_sequences=${VMHA_BENCH_KNOB_SEQUENCES:-20000}
seed=${VMHA_BENCH_SEED:-7}
[ -x "$sim" ] || make -s tests/scenarios/simulate || exit 1
rc=0
out=$(mktemp)
split=$(mktemp)
if [ "$sequences" -gt 0 ]; then
    # The plain search and, beside it on the other core, the same with split
    # masters (every surviving host restarts: claims alone must keep S1).
    "$sim" --random --knob split-masters --sequences "$((sequences / 2))" --seconds 86400 --seed "$seed" >"$split" &
    pid=$!
    "$sim" --random --sequences "$sequences" --seconds 86400 --seed "$seed" >"$out"
    [ $? -eq 0 ] || rc=1
    wait "$pid" || rc=1
    # The first findings in full (at most 60 lines), then always the summary.
    grep -E '^(violation|two masters|#|  )' "$out" | head -60
    # Every finding's replay line, so each can be replayed.
    grep '^# replay:' "$out"
    grep '^random:' "$out"
    echo "split masters:"
    grep -E '^(violation|#|  )' "$split" | head -60
    grep '^# replay:' "$split"
    grep '^random:' "$split"
    rm -f "$out" "$split"
fi
knobs=${VMHA_BENCH_KNOBS:-"
    no-margin no-fresh-ack,stale-quorum no-claims stale-feed unknown-as-silent unarmed-owner
    hasty-join blind-watch unknown-master no-yield mutual-yield stale-quorum,stale-ack-master stale-yield
    same-ring,stale-ack-master fencing-quorum overlap-claims split-masters,single-collect
    stale-partition,stale-ack-master hasty-fencing lone-publisher,young-member quorate-join,hasty-quorum
    young-member,unknown-settled young-member hasty-quorum,joiner-view unknown-settled young-tiebreak
    stale-ack-master joiner-view"}
for knob in $knobs; do
    found=0
    args=()
    for k in ${knob//,/ }; do args+=(--knob "$k"); done
    # The three seeds side by side. The first finding ends the others: the
    # figure is how many sequences that seed needed.
    tmp=$(mktemp -d)
    declare -A pids=()
    for s in 1 2 3; do
        "$sim" --random "${args[@]}" --seed "$s" --sequences "$knob_sequences" --seconds 86400 \
            --expect-violation >"$tmp/$s" 2>&1 &
        pids[$s]=$!
    done
    while [ "${#pids[@]}" -gt 0 ] && [ "$found" -eq 0 ]; do
        wait -n "${pids[@]}"
        for s in "${!pids[@]}"; do
            kill -0 "${pids[$s]}" 2>/dev/null && continue
            unset "pids[$s]"
            line=$(grep '^random: seed' "$tmp/$s" | tail -1)
            echo "knob $knob: $line"
            case "$line" in *", 1 with an S1/S2 violation"* | *", 1 with two masters"*) found=1 ;; esac
        done
    done
    for s in "${!pids[@]}"; do
        kill "${pids[$s]}" 2>/dev/null
        wait "${pids[$s]}" 2>/dev/null
        echo "knob $knob: seed $s stopped: another seed found it first"
    done
    unset pids
    rm -rf "$tmp"
    [ "$found" -eq 1 ] || { echo "knob $knob: no violation found: the search does not exercise it"; rc=1; }
done
exit $rc
