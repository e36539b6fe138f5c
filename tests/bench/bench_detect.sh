#!/bin/bash
# Detection and S2 times of vmhad in the lab: a non-master host (h3 of a
# three-host pool) crashes (power off) or has its network cut, RUNS times
# for each timeout. Measured from the fault, on the lab machine's clock:
#   (a) gone:   both survivors' `haadm status` no longer show h3 ALIVE
#               (LEFT, FENCING or FENCED);
#   (b) fenced: both report it FENCED, i.e. S2 allows a takeover of its VMs.
# Prints p50, p95 and max of each beside the budget timeout + watchdog +
# margin, and whether (b)'s p95 is within timeout + watchdog + 0.5 s.
# A benchmark: it prints figures and asserts nothing about time.
#
# usage: bench_detect.sh            RUNS=20 TIMEOUTS="2 5" FAULTS="crash cut"
# One lab per (timeout, fault); h3 is booted again between runs. The fault
# is timed just before the halab verb (its start-up, some 30 ms, counts).
# Needs root and the lab's programs built (make check builds them).
set -uo pipefail

srcdir=$(cd "${srcdir:-$(dirname "$0")/../..}" && pwd)
if [ -z "${builddir:-}" ] && [ -x ./tools/haadm ]; then builddir=.; fi
builddir=$(cd "${builddir:-$srcdir}" && pwd)
HALAB=$srcdir/tests/lab/halab
RUNS=${RUNS:-20}
TIMEOUTS=${TIMEOUTS:-2 5}
FAULTS=${FAULTS:-crash cut}

if [ "$(id -u)" != 0 ]; then
    echo "bench_detect: skipped (needs root)"
    exit 0
fi
for p in tests/lab/fusedisk tests/lab/fusewd daemon/vmhad tools/haadm; do
    if [ ! -x "$builddir/$p" ]; then
        echo "bench_detect: skipped ($p is not built in $builddir)"
        exit 0
    fi
done

export HALAB_BUILDDIR=$builddir
HALAB_DIR=$(mktemp -d /var/tmp/halab-bench.XXXXXX)
export HALAB_DIR
tmp=$(mktemp -d /var/tmp/bench-detect.XXXXXX)
pollers=()
cleanup() {
    local p
    for p in "${pollers[@]}"; do kill "$p" 2>/dev/null || true; done
    "$HALAB" down --purge >/dev/null 2>&1 || true
    rm -rf "$HALAB_DIR" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

halab() { "$HALAB" "$@"; }
now_ns() { date +%s%N; }

# h3's state as OBSERVER's vmhad reports it (text status, cheap to parse).
state_of() { halab exec "$1" haadm status 2>/dev/null | awk -v h="$2" '$2 == h { print $3; exit }'; }
self_verdict() { halab exec "$1" haadm status 2>/dev/null | sed -n 's/^this host: \([A-Z]*\):.*/\1/p'; }

wait_for() {   # seconds 'condition'
    local end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        eval "$2" && return 0
        sleep 0.2
    done
    return 1
}

# Waits until the pool is whole again: h3 ALIVE for h1, h2 and itself.
wait_whole() {
    wait_for "$1" '[ "$(state_of h1 h3)" = ALIVE ] && [ "$(state_of h2 h3)" = ALIVE ] &&
                   [ "$(state_of h3 h3)" = ALIVE ] && [ "$(self_verdict h3)" = SURVIVE ]'
}

# Powers h3 on again and waits until the pool is whole. h3's view of the
# LUN fails until corosync has merged it: the master poison-pills a host
# whose slot advances (JOINING) outside its membership, which at timeout
# 5 s (token 1 s) hits every boot (a daemon bug, see the report), and a host
# cold-started alone can win {3} on the disk and then lose to {1,2}.
rejoin_h3() {
    local try
    for try in 1 2 3; do
        halab exec h3 true 2>/dev/null && halab crash h3 >/dev/null
        halab disk h3 error >/dev/null
        if ! halab boot h3 >/dev/null 2>"$tmp/boot.err"; then
            echo "  (boot of h3 failed: $(tr '\n' ' ' <"$tmp/boot.err"); again)"
            sleep 2
            continue
        fi
        halab wait h1 3 yes 30 >/dev/null 2>&1
        halab disk h3 ok >/dev/null
        wait_whole 30 && return 0
        echo "  (h3 did not rejoin, try $try)"
    done
    return 1
}

# A poller inside OBSERVER: prints "STATE WALLCLOCK_NS" at every change of
# h3's state, from the first sample on, until FENCED or LIMIT seconds.
start_poller() {   # observer limit outfile
    halab exec "$1" /bin/sh -c '
        end=$(( $(date +%s) + $1 )); last=
        while [ "$(date +%s)" -le "$end" ]; do
            s=$(haadm status 2>/dev/null | awk "\$2 == \"h3\" { print \$3; exit }")
            t=$(date +%s%N)
            if [ -n "$s" ] && [ "$s" != "$last" ]; then echo "$s $t"; last=$s; fi
            [ "$s" = FENCED ] && exit 0
            sleep 0.02
        done' sh "$2" >"$3" 2>/dev/null &
    pollers+=($!)
}

# First time (ms after T0) an observer's log shows a state matching REGEX.
first_ms() {   # file t0 regex
    awk -v t0="$2" -v re="$3" '$2 > t0 && $1 ~ re { printf "%d\n", ($2 - t0) / 1e6; exit }' "$1"
}

# p50 p95 max (nearest rank) of a list of milliseconds, in seconds.
pct() {
    printf '%s\n' "$@" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - - 0"; exit }
            i50 = int(NR * 0.50 + 0.999999); i95 = int(NR * 0.95 + 0.999999)
            printf "%.2f %.2f %.2f %d\n", v[i50] / 1000, v[i95] / 1000, v[NR] / 1000, NR }'
}

results=()
for t in $TIMEOUTS; do
    margin=$(awk -v t="$t" 'BEGIN { m = t / 2; if (m < 1) m = 1; print m }')
    budget=$(awk -v t="$t" -v m="$margin" 'BEGIN { print t + t + m }')
    limit=$(awk -v t="$t" 'BEGIN { printf "%d", 4 * t + 10 }')
    for fault in $FAULTS; do
        mkdir -p "$HALAB_DIR"
        if ! halab up 3 --timeout "$t" >"$tmp/up.log" 2>&1; then
            echo "bench_detect: the lab did not come up:" >&2
            cat "$tmp/up.log" >&2
            exit 1
        fi
        # h3 fences itself at every cut: do not let damping hold it out.
        sed -i 's/^\[fence\]$/[fence]\nmax_fences_per_hour = 100/' "$HALAB_DIR/h3/etc/vmha.conf"
        if ! wait_whole 20; then
            echo "  (h3 did not join at the start; booting it again)"
            rejoin_h3 || { echo "bench_detect: the pool did not form (timeout $t)" >&2; exit 1; }
        fi
        echo "timeout ${t}s, fault: $fault of h3 (master h1), $RUNS runs; budget timeout + watchdog + margin = ${budget}s"
        gone=() fenced=() missed=0
        for run in $(seq "$RUNS"); do
            sleep 1
            start_poller h1 "$limit" "$tmp/h1.log"
            start_poller h2 "$limit" "$tmp/h2.log"
            sleep 0.5
            t0=$(now_ns)
            case $fault in
            crash) halab crash h3 >/dev/null ;;
            cut) halab net h3 down >/dev/null ;;
            esac
            wait "${pollers[@]}" 2>/dev/null
            pollers=()
            g1=$(first_ms "$tmp/h1.log" "$t0" '^(LEFT|FENCING|FENCED)$')
            g2=$(first_ms "$tmp/h2.log" "$t0" '^(LEFT|FENCING|FENCED)$')
            f1=$(first_ms "$tmp/h1.log" "$t0" '^FENCED$')
            f2=$(first_ms "$tmp/h2.log" "$t0" '^FENCED$')
            if [ -n "$g1" ] && [ -n "$g2" ] && [ -n "$f1" ] && [ -n "$f2" ]; then
                g=$((g1 > g2 ? g1 : g2))
                f=$((f1 > f2 ? f1 : f2))
                gone+=("$g")
                fenced+=("$f")
                printf '  run %2d/%d: gone %5.2f s (h1 %.2f, h2 %.2f)   fenced %5.2f s (h1 %.2f, h2 %.2f)\n' \
                    "$run" "$RUNS" "$(awk -v v="$g" 'BEGIN{print v/1000}')" \
                    "$(awk -v v="$g1" 'BEGIN{print v/1000}')" "$(awk -v v="$g2" 'BEGIN{print v/1000}')" \
                    "$(awk -v v="$f" 'BEGIN{print v/1000}')" \
                    "$(awk -v v="$f1" 'BEGIN{print v/1000}')" "$(awk -v v="$f2" 'BEGIN{print v/1000}')"
            else
                missed=$((missed + 1))
                echo "  run $run/$RUNS: not seen within ${limit}s (h1: $(tr '\n' ' ' <"$tmp/h1.log"); h2: $(tr '\n' ' ' <"$tmp/h2.log"))"
            fi
            # Power h3 on again (a cut h3 fences itself first).
            if [ "$fault" = cut ]; then
                wait_for 15 '[ -z "$(halab pids h3)" ]' || echo "  run $run: h3 did not power off after the cut"
                halab net h3 up >/dev/null
            fi
            rejoin_h3 || { echo "bench_detect: h3 did not rejoin after run $run" >&2; exit 1; }
        done
        read -r g50 g95 gmax gn <<<"$(pct "${gone[@]}")"
        read -r f50 f95 fmax _ <<<"$(pct "${fenced[@]}")"
        target=$(awk -v t="$t" 'BEGIN { print t + t + 0.5 }')
        within=$(awk -v p="$f95" -v b="$target" 'BEGIN { print (p != "-" && p <= b) ? "yes" : "no" }')
        results+=("$(printf '%-7s %-6s %4s   %5s %5s %5s   %5s %5s %5s   %6s   %-4s (<= %ss)  %s' \
            "${t}s" "$fault" "$gn" "$g50" "$g95" "$gmax" "$f50" "$f95" "$fmax" "${budget}s" "$within" "$target" \
            "$([ "$missed" -gt 0 ] && echo "($missed runs missed)")")")
        halab down --purge >/dev/null
    done
done

echo
echo "detection (a: both survivors report h3 not ALIVE) and S2 (b: both report it FENCED),"
echo "seconds from the fault; budget = timeout + watchdog + margin"
printf '%-7s %-6s %4s   %-17s   %-17s   %6s   %s\n' timeout fault runs "(a) p50 p95 max" "(b) p50 p95 max" budget "(b) p95 <= timeout+watchdog+0.5s"
for r in "${results[@]}"; do echo "$r"; done
