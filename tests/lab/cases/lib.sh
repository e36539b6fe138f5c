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

host_state() { host_field "$1" "$2" state; }   # observer host

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

powered() { is_on "$1"; }
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

# ---- tracking states over time (the fault cases) ----
# track OUT SECONDS 'TOKENS' OBS...: polls every OBS's 'haadm status' and
# appends "MS OBS h1=STATE ... master=NAME verdict=V" to OUT each time that
# observer's line changes (MS counted from $T0, see ms_now). Stops when the
# last line of every OBS holds all TOKENS (e.g. 'h2=FENCED master=h1'), or
# after SECONDS; exits 1 on timeout.
track() {
    local out=$1 secs=$2 tokens=$3
    shift 3
    python3 - "$HALAB" "$out" "$secs" "$tokens" "$T0" "$@" <<'EOF'
import json, subprocess, sys, time
halab, out, secs, tokens, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(), int(sys.argv[5])
observers = sys.argv[6:]
last = {}
deadline = time.time() + secs
with open(out, "a") as f:
    while time.time() < deadline:
        for o in observers:
            try:
                r = subprocess.run([halab, "exec", o, "haadm", "status", "--json"],
                                   capture_output=True, text=True, timeout=3)
                d = json.loads(r.stdout)
                line = " ".join("%s=%s" % (h["name"], h["state"]) for h in d["hosts"])
                line += " master=" + (",".join(h["name"] for h in d["hosts"] if h["master"]) or "none")
                line += " verdict=" + d["self"]["verdict"]
            except Exception:
                line = "no-answer"
            if last.get(o) != line:
                last[o] = line
                f.write("%d %s %s\n" % (int(time.time() * 1000) - t0, o, line))
                f.flush()
        if all(o in last and all(t in last[o].split() for t in tokens) for o in observers):
            sys.exit(0)
        time.sleep(0.05)
sys.exit(1)
EOF
}
# first_ms OUT OBS TOKEN: when OBS first showed TOKEN (ms since T0), or 999999.
first_ms() {
    awk -v o="$2" -v t="$3" '$2 == o { for (i = 3; i <= NF; i++) if ($i == t) { print $1; exit } }
        END { if (NR == 0) print 999999 }' "$1" | grep . || echo 999999
}
# states_seen OUT OBS HOST: HOST's successive distinct states as OBS showed them.
states_seen() {
    awk -v o="$2" -v h="$3=" '$2 == o { for (i = 3; i <= NF; i++) if (index($i, h) == 1) {
        s = substr($i, length(h) + 1); if (s != prev) { printf "%s%s", sep, s; sep = " "; prev = s } } }
        END { print "" }' "$1"
}
# log_mark HOST: the number of lines of HOST's vmhad log so far.
log_mark() { halab log "$1" vmhad 2>/dev/null | wc -l; }
# log_has_since HOST MARK REGEX: a line after MARK matches.
log_has_since() { halab log "$1" vmhad 2>/dev/null | tail -n "+$(($2 + 1))" | grep -qE -- "$3"; }
# slot_advances ID: the slot's seq moves within a second.
slot_advances() {
    local a
    a=$(slot_field "$1" seq)
    sleep 1
    [ "$(slot_field "$1" seq)" != "$a" ]
}
# matches STRING ERE
matches() { [[ $1 =~ $2 ]]; }
# only_lines OUT OBS ERE: every line of OBS in the tracker's record matches ERE.
only_lines() { ! awk -v o="$2" '$2 == o' "$1" | grep -vE -- "$3"; }
# keep_track_logs: with FAULT_KEEP_LOGS=1 and a failed check, copy the hosts' logs
# and the tracker's records out of the lab before it is purged.
keep_track_logs() {
    [ "${FAULT_KEEP_LOGS:-0}" = 1 ] && [ "$TAP_FAILED" -gt 0 ] || return 0
    local d
    d=/var/tmp/halab-fault-logs.$(basename "$0" .sh).$$
    mkdir -p "$d"
    for h in "$HALAB_DIR"/h[0-9]*; do cp -r "$h/log" "$d/$(basename "$h")" 2>/dev/null; done
    cp "$HALAB_DIR"/track* "$d/" 2>/dev/null
    echo "# logs kept in $d"
}
# show FILE: the tracker's record as TAP comments.
show() { sed 's/^/# /' "$1"; }

# ---- more helpers of the lab cases ----
# host_field OBSERVER HOST FIELD  a field of HOST in OBSERVER's status JSON
# holds SECONDS 'cond'            cond is true at every poll for SECONDS
# log_after HOST FIRST THEN       a line matching THEN follows the first line
#                                 matching FIRST in HOST's vmhad log
# diag HOST...                    TAP comments: each host's verdicts and fences,
#                                 and its corosync token losses
# is_on HOST                      HOST is powered: its init, by pid and start
#                                 time (a PID namespace inode can be reused by
#                                 another lab's new namespace once HOST is off)
# keep_lab_logs                   on exit, copies the hosts' logs to
#                                 $VMHA_LAB_KEEP/NAME when that is set, then
#                                 tears the lab down
host_field() {
    status_json "$1" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for h in d["hosts"]:
    if h["name"] == sys.argv[1]:
        v = h.get(sys.argv[2])
        print(str(v).lower() if isinstance(v, bool) else v)
' "$2" "$3"
}
holds() {
    local t0 deadline
    t0=$(ms_now)
    deadline=$((t0 + $1 * 1000))
    while [ "$(ms_now)" -lt "$deadline" ]; do
        eval "$2" || { echo "false after $(ms_since "$t0") ms: $2"; return 1; }
        sleep 0.2
    done
}
log_after() {
    halab log "$1" vmhad 2>/dev/null | awk -v a="$2" -v b="$3" \
        'seen && $0 ~ b { found = 1 } !seen && $0 ~ a { seen = 1 } END { exit !found }'
}
diag() {
    local h
    for h in "$@"; do
        halab log "$h" vmhad 2>/dev/null | grep -E "verdict|fencing self|fenced itself|membership|quorum" |
            tail -12 | sed "s/^/# $h vmhad: /"
        halab log "$h" corosync 2>/dev/null | grep -E "Token has not been received|A new membership" |
            tail -6 | sed "s/^/# $h corosync: /"
    done
}
is_on() {
    local pid st s
    read -r pid st 2>/dev/null <"$HALAB_DIR/$1/init.pid" || return 1
    s=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    [ -n "$st" ] && [ "${20}" = "$st" ]
}
keep_lab_logs() {
    local dest
    if [ -n "${VMHA_LAB_KEEP:-}" ] && [ -n "${HALAB_DIR:-}" ] && [ -d "$HALAB_DIR" ]; then
        dest=$VMHA_LAB_KEEP/$(basename "$0" .sh)
        rm -rf "$dest" && mkdir -p "$dest"
        for d in "$HALAB_DIR"/h*/log; do cp -r "$d" "$dest/$(basename "$(dirname "$d")")"; done
        "$builddir/tools/haadm" disk dump "$HALAB_DIR/lun.img" >"$dest/lun.txt" 2>&1
    fi
    lab_cleanup
}

# boot_host HOST: halab boot, tried again when the lab could not reap the
# previous incarnation in time under load ("processes still alive after
# power-off"; not what the cases test).
boot_host() {
    local _
    for _ in 1 2; do
        halab boot "$1" >/dev/null 2>"$HALAB_DIR.boot.err" && { rm -f "$HALAB_DIR.boot.err"; return 0; }
        echo "# halab boot $1 failed: $(tr '\n' ' ' <"$HALAB_DIR.boot.err"); again in 2 s"
        sleep 2
    done
    rm -f "$HALAB_DIR.boot.err"
    halab boot "$1" >/dev/null
}

# pool_formed_or_stop HOST...: every host sees every host ALIVE (one TAP
# check each); if not, the fault is not injected and the test ends here
# with the hosts' recent decisions as comments.
pool_formed_or_stop() {
    local o h
    for o in "$@"; do
        for h in "$@"; do
            tap_ok "$o sees $h ALIVE before the fault" wait_state "$o" "$h" ALIVE 10
        done
    done
    if [ "$TAP_FAILED" -gt 0 ]; then
        echo "# the pool did not form cleanly, so the fault was not injected"
        diag "$@"
        tap_done
    fi
}

# self_emergency HOST: "true|false CAUSE..." as HOST's vmhad reports itself.
self_emergency() {
    status_json "$1" | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)["self"]
except Exception:
    sys.exit(0)
print(str(s["emergency"]).lower(), " ".join(c["cause"] for c in s["emergency_causes"]))
'
}
