#!/bin/bash
# The one test runner behind `make check`. Runs every entry of $VMHA_TESTS,
# counts individual results, and ends with "N passed, N failed".
#
# A test speaks TAP ("ok N - name" / "not ok N - name"); cmocka binaries are
# switched to TAP through CMOCKA_MESSAGE_OUTPUT. A test that exits non-zero
# without reporting a failure counts as one failure, and so does one that
# reports nothing at all, so a crash or an empty test can never pass.
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
export srcdir builddir
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logdir="$builddir/tests/logs"
mkdir -p "$logdir"

passed=0
failed=0
failed_names=()

for t in $VMHA_TESTS; do
    name=${t//\//_}
    log="$logdir/$name.log"
    if [ -x "$builddir/$t" ] && [ -f "$builddir/$t" ]; then
        path="$builddir/$t"
    else
        path="$srcdir/$t"
    fi
    start=${EPOCHREALTIME/./}
    if [[ "$t" == *.sh ]]; then
        timeout --signal=KILL "${VMHA_TEST_TIMEOUT:-900}" bash "$path" >"$log" 2>&1
    else
        timeout --signal=KILL "${VMHA_TEST_TIMEOUT:-900}" "$path" >"$log" 2>&1
    fi
    rc=$?
    tenths=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
    secs="$((tenths / 10)).$((tenths % 10))"
    ok=$(grep -cE '^ok [0-9]+' "$log")
    nok=$(grep -cE '^not ok [0-9]+' "$log")
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $t exited with status $rc" >>"$log"
    fi
    if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $t reported no result" >>"$log"
    fi
    passed=$((passed + ok))
    failed=$((failed + nok))
    if [ "$nok" -gt 0 ]; then
        failed_names+=("$t")
        echo "FAIL: $t ($ok passed, $nok failed, ${secs}s) -- log: $log"
        grep -E '^not ok' "$log" | head -20 | sed 's/^/    /'
        tail -n 15 "$log" | sed 's/^/    | /'
    else
        echo "PASS: $t ($ok passed, ${secs}s)"
    fi
done

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failing: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
