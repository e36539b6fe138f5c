#!/bin/bash
# Runs each libFuzzer target for a fixed time from its seed corpus
# (tests/fuzz/corpus/NAME/), one target at a time and at the lowest CPU
# priority. Prints one TAP line per target with what it did: inputs run,
# inputs per second, coverage (edges) and features.
#
#   tests/fuzz/run-fuzz.sh                 short budgets, about 2 minutes in all
#                                          (what `make check` runs)
#   tests/fuzz/run-fuzz.sh --long SECONDS  SECONDS per target, then a table of
#                                          the figures of every target
#   tests/fuzz/run-fuzz.sh [--long S] NAME...   only these targets (e.g. config)
#
# VMHA_FUZZ_SECONDS overrides every short budget. Run it from the build
# directory (builddir= and srcdir= say otherwise). When a target finds a
# crash, its log and the input are kept in a directory under /var/tmp that
# the last lines name; reproduce with `tests/fuzz/fuzz_NAME INPUT`.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
# target:seconds, in the order they run.
targets="disk_decode:25 ipc_request:15 plan_json:15 config:15 hastate_snapshot:15 cpg_message:20"
long=
if [ "${1:-}" = --long ]; then
    long=${2:-}
    if ! [[ "$long" =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: run-fuzz.sh [--long SECONDS] [NAME...]" >&2
        exit 2
    fi
    shift 2
fi
if [ $# -gt 0 ]; then
    chosen=
    for name in "$@"; do
        entry=$(printf '%s\n' $targets | grep "^$name:") || { echo "run-fuzz.sh: no target $name" >&2; exit 2; }
        chosen="$chosen $entry"
    done
    targets=$chosen
fi

work=$(mktemp -d /var/tmp/vmha-fuzz.XXXXXX)
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT
n=0
failed=0
table=()
for entry in $targets; do
    name=${entry%%:*}
    secs=${long:-${VMHA_FUZZ_SECONDS:-${entry##*:}}}
    n=$((n + 1))
    fuzzer="$builddir/tests/fuzz/fuzz_$name"
    corpus="$work/$name"
    log="$work/$name.log"
    mkdir -p "$corpus" "$work/artifacts-$name"
    cp "$srcdir/tests/fuzz/corpus/$name/"* "$corpus/"
    nice -n 19 "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts-$name/" "$corpus" 2>"$log"
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
    cov=$(printf '%s' "$done_line" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
    ft=$(printf '%s' "$done_line" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
    figures="${runs:-?} inputs, ${rate:-?}/s, cov ${cov:-?}, ft ${ft:-?}"
    if [ "$rc" -eq 0 ]; then
        echo "ok $n - fuzz_$name survives ${secs}s of fuzzing ($figures)"
        table+=("$(printf '%-22s %8ss %12s %9s %7s %7s' "fuzz_$name" "$secs" "${runs:-?}" "${rate:-?}" \
                   "${cov:-?}" "${ft:-?}")")
    else
        tail -40 "$log" | sed 's/^/# /'
        for a in "$work/artifacts-$name"/*; do
            [ -e "$a" ] && echo "# crash input: $a"
        done
        echo "not ok $n - fuzz_$name found a crash after ${runs:-?} inputs (log: $log)"
        keep=1
        failed=1
    fi
done
echo "1..$n"
if [ -n "$long" ] && [ "${#table[@]}" -gt 0 ]; then
    printf '# %-22s %9s %12s %9s %7s %7s\n' target time executions exec/s cov ft
    printf '# %s\n' "${table[@]}"
fi
[ "$keep" = 1 ] && echo "# kept: $work"
exit $failed
