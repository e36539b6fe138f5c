# TAP helpers for shell tests. Source it, call the checks, end with tap_done.
#   tap_ok DESC CMD...         passes when CMD exits 0
#   tap_status N DESC CMD...   passes when CMD exits with status N
#   tap_grep PATTERN FILE DESC passes when FILE matches the extended regex
#   tap_fail DESC WHY...       one failed result, each WHY a line of its reason
#   tap_done                   prints the plan and sets the exit status
# Output of failing commands is shown as TAP comments.

TAP_N=0
TAP_FAILED=0

_tap_result() {       # status desc [output-file]
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAILED=$((TAP_FAILED + 1))
        [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -40
    fi
    return 0
}

tap_ok() {
    local desc=$1 out
    shift
    out=$(mktemp)
    "$@" >"$out" 2>&1
    _tap_result $? "$desc" "$out"
    rm -f "$out"
}

tap_status() {
    local want=$1 desc=$2 out rc
    shift 2
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "exit status $rc, expected $want" >>"$out"
        _tap_result 1 "$desc" "$out"
    else
        _tap_result 0 "$desc"
    fi
    rm -f "$out"
}

tap_grep() {
    if grep -qE -e "$1" -- "$2"; then
        _tap_result 0 "$3"
    else
        local why
        why=$(mktemp)
        { echo "no match for /$1/ in:"; cat -- "$2"; } >"$why"
        _tap_result 1 "$3" "$why"
        rm -f "$why"
    fi
}

tap_fail() {
    local desc=$1 why
    shift
    why=$(mktemp)
    printf '%s\n' "$@" >"$why"
    _tap_result 1 "$desc" "$why"
    rm -f "$why"
}

tap_done() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
    exit $?
}
