#!/bin/bash
# Measures Corosync's failure detection in the lab: the time from a fault
# on h3 (its link cut, or a crash) until h1 sees 2 members, quorate, and the
# time h3 takes to rejoin after the link is back. Prints figures; asserts
# nothing about time.
#
# usage: bench_detection.sh [TIMEOUT_SECONDS...]   (default: 2 5)
#        SAMPLES=N (default 5)
# Needs root and the lab's programs built (see tests/lab/README).
set -euo pipefail

srcdir=$(cd "${srcdir:-$(dirname "$0")/../../..}" && pwd)
builddir=$(cd "${builddir:-$srcdir}" && pwd)
HALAB=$srcdir/tests/lab/halab
SAMPLES=${SAMPLES:-5}
export HALAB_BUILDDIR=$builddir HALAB_VMHAD=0
HALAB_DIR=$(mktemp -d /var/tmp/halab-bench.XXXXXX)
export HALAB_DIR
trap '"$HALAB" down --purge >/dev/null 2>&1 || true; rm -rf "$HALAB_DIR"' EXIT

# Polls from inside h1 (no nsenter per sample), so the resolution is one
# corosync-quorumtool run, about 10 ms.
until_members() {   # host "N yes|no": prints seconds waited
    "$HALAB" exec "$1" /bin/sh -c '
        s=$(date +%s%N)
        while :; do
            o=$(corosync-quorumtool -s 2>/dev/null)
            n=$(echo "$o" | sed -n "s/^Nodes: *//p")
            q=$(echo "$o" | sed -n "s/^Quorate: *//p" | tr A-Z a-z)
            [ "$n $q" = "$2" ] && break
        done
        echo $(( ($(date +%s%N) - s) / 1000000 ))' sh "$1" "$2"
}

stats() {   # label values...
    local label=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v l="$label" '
        { v[NR] = $1 / 1000; s += $1 / 1000 }
        END { printf "  %-28s min %.2f  median %.2f  max %.2f  (n=%d; ms:", l, v[1], v[int((NR + 1) / 2)], v[NR], NR
              for (i = 1; i <= NR; i++) printf " %d", v[i] * 1000; print ")" }'
}

for timeout in "${@:-2 5}"; do
    for t in $timeout; do
        "$HALAB" up 3 --timeout "$t" >/dev/null
        token=$(awk '/token:/ { print $2; exit }' "$HALAB_DIR/h1/corosync/corosync.conf")
        echo "timeout ${t}s: token ${token} ms, token_coefficient 0, 3 hosts"
        cut=() rejoin=() crash=()
        for _ in $(seq "$SAMPLES"); do
            "$HALAB" net h3 down >/dev/null
            cut+=("$(until_members h1 "2 yes")")
            "$HALAB" net h3 up >/dev/null
            rejoin+=("$(until_members h1 "3 yes")")
            "$HALAB" wait h3 3 yes 20 >/dev/null
            sleep 1
        done
        for _ in $(seq "$SAMPLES"); do
            "$HALAB" crash h3 >/dev/null
            crash+=("$(until_members h1 "2 yes")")
            "$HALAB" boot h3 >/dev/null
            "$HALAB" wait h3 3 yes 20 >/dev/null
            "$HALAB" wait h1 3 yes 20 >/dev/null
            sleep 1
        done
        stats "cut -> 2 members on h1" "${cut[@]}"
        stats "crash -> 2 members on h1" "${crash[@]}"
        stats "link up -> 3 members on h1" "${rejoin[@]}"
        "$HALAB" down --purge >/dev/null
        mkdir -p "$HALAB_DIR"
    done
done
