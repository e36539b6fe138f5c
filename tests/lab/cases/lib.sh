# Shared pieces of the end-to-end lab cases (source it after setting
# nothing; it reads $srcdir and $builddir from the test runner).
#
#   lab_start N [halab up options]   a fresh lab in its own directory, torn
#                                    down on exit whatever happens
#   hs HOST [haadm args]             haadm inside HOST
#   host_state OBSERVER HOST         HOST's state as OBSERVER's vmhad reports it
#   wait_state OBSERVER HOST STATE SECONDS
#   verdict HOST                     HOST's own verdict (SURVIVE, WAIT, FENCE, ...)
#   powered HOST                     is HOST's PID namespace alive?
#   wait_off HOST SECONDS            until HOST is powered off
#   slot_field ID FIELD              a field of slot ID from 'haadm disk dump --json'
#   master_of OBSERVER               the master's name as OBSERVER reports it
#   log_has HOST REGEX               HOST's vmhad log matches
#   ms_now / ms_since T0             wall-clock milliseconds, for budgets
#
# Every helper prints nothing on success unless asked a value; failures
# are reported by the TAP checks (tests/lib/tap.sh) that call them.
set -u

srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
# shellcheck disable=SC1091
. "$srcdir/tests/lib/tap.sh"

HALAB=$srcdir/tests/lab/halab

lab_skip_all() {
    echo "ok 1 - # SKIP $*"
    echo "1..1"
    exit 0
}

lab_require() {
    [ "$(id -u)" = 0 ] || lab_skip_all "needs root"
    command -v corosync >/dev/null || lab_skip_all "corosync is not installed"
    local p
    for p in tests/lab/fusedisk tests/lab/fusewd daemon/vmhad tools/haadm; do
        [ -x "$builddir/$p" ] || lab_skip_all "$p is not built"
    done
}

halab() { "$HALAB" "$@"; }

lab_cleanup() {
    "$HALAB" down --purge >/dev/null 2>&1 || true
    [ -n "${HALAB_DIR:-}" ] && rm -rf "$HALAB_DIR"
}

# lab_start N [options]: fails the whole test if the lab does not come up.
lab_start() {
    lab_require
    HALAB_DIR=$(mktemp -d /var/tmp/halab-case.XXXXXX)
    export HALAB_DIR HALAB_BUILDDIR=$builddir
    trap lab_cleanup EXIT
    if ! halab up "$@" >"$HALAB_DIR.up.log" 2>&1; then
        echo "not ok 1 - the lab came up"
        sed 's/^/# /' "$HALAB_DIR.up.log"
        rm -f "$HALAB_DIR.up.log"
        echo "1..1"
        exit 1
    fi
    rm -f "$HALAB_DIR.up.log"
    # vmhad needs its first disk round and membership to join.
    local h n=$1
    for h in $(seq 1 "$n"); do
        wait_until 15 "[ \"\$(verdict h$h)\" = SURVIVE ]" || true
    done
}

hs() { local h=$1; shift; halab exec "$h" haadm "$@"; }

# The status JSON of OBSERVER, or empty when vmhad does not answer.
status_json() { hs "$1" status --json 2>/dev/null; }

host_state() {   # observer host
    status_json "$1" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for h in d["hosts"]:
    if h["name"] == sys.argv[1]:
        print(h["state"])
' "$2"
}

verdict() {
    status_json "$1" | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin)["self"]["verdict"])
except Exception:
    pass
'
}

master_of() {
    status_json "$1" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
print(",".join(h["name"] for h in d["hosts"] if h["master"]))
'
}

# wait_until SECONDS 'shell condition': polls every 0.1 s.
wait_until() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
    while [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ]; do
        eval "$2" && return 0
        sleep 0.1
    done
    return 1
}

wait_state() { wait_until "$4" "[ \"\$(host_state $1 $2)\" = $3 ]"; }

powered() { [ -n "$(halab pids "$1" 2>/dev/null)" ]; }
wait_off() { wait_until "$2" "! powered $1"; }

# A slot field from the LUN as the lab machine sees it (outside any host).
slot_field() {   # id field
    "$builddir/tools/haadm" disk dump "$HALAB_DIR/lun.img" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["slots"][int(sys.argv[1]) - 1]
v = s.get(sys.argv[2])
print(v if not isinstance(v, bool) else str(v).lower())
' "$1" "$2"
}

log_has() { halab log "$1" vmhad 2>/dev/null | grep -qE -- "$2"; }

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
ms_since() { echo $(( $(ms_now) - $1 )); }
