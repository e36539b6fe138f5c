#!/bin/bash
# The decision code is pure: core/, planner/ and the heartbeat codec
# include nothing but libc, zlib and the project's own pure headers. A
# socket, a clock or a thread in there would make the simulator's proof
# say nothing about the daemon. One TAP line per directory.
set -u
srcdir=${srcdir:-.}
cd "$srcdir" || exit 1

# libc headers the pure code may use: no I/O, no clocks, no threads.
libc='assert|ctype|endian|errno|inttypes|limits|math|stdarg|stdbool|stddef|stdint|stdio|stdlib|string|zlib'
pure_project='core/[a-z0-9_]+|planner/[a-z0-9_]+|heartbeat/disk_format|fence/emergency'

n=0
failed=0
check() {
    local what=$1; shift
    local bad
    n=$((n + 1))
    bad=$(grep -HnE '^[[:space:]]*#[[:space:]]*include' "$@" |
          grep -vE "#[[:space:]]*include[[:space:]]*<($libc)\.h>" |
          grep -vE "#[[:space:]]*include[[:space:]]*\"($pure_project)\.h\"")
    if [ -z "$bad" ]; then
        echo "ok $n - $what includes only libc, zlib and pure project headers"
    else
        echo "not ok $n - $what includes impure headers:"
        printf '%s\n' "$bad" | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
}
check core/ core/*.c core/*.h
check planner/ planner/*.c planner/*.h
check "the heartbeat codec" heartbeat/disk_format.c heartbeat/disk_format.h
check "the emergency-mode rules" fence/emergency.c fence/emergency.h
# stdio is allowed for snprintf only: nothing pure opens a file.
n=$((n + 1))
bad=$(grep -HnE '\b(fopen|fread|fwrite|printf|fprintf|puts|open|read|write|clock_gettime|time|sleep|usleep|pthread_[a-z_]+|malloc_trim)\(' \
      core/*.c planner/*.c heartbeat/disk_format.c fence/emergency.c | grep -vE '(snprintf|vsnprintf)\(' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)')
if [ -z "$bad" ]; then
    echo "ok $n - the pure code calls no I/O, clock or thread function"
else
    echo "not ok $n - the pure code calls I/O, clock or thread functions:"
    printf '%s\n' "$bad" | sed 's/^/#   /'
    failed=$((failed + 1))
fi
echo "1..$n"
[ "$failed" -eq 0 ]
