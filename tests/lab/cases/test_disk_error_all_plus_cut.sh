#!/bin/bash
# The design's price: every host loses the LUN and then one host is cut
# off. Rule 4 needs a complete, freshly acknowledged membership, which no
# host has any more, and nobody can use the disk: every host fences, all
# within about the watchdog timeout plus detection. Once the LUN and the
# network are back and the hosts are powered on again, the pool re-forms:
# all ALIVE, one master, each host reporting its own fence.
. "$srcdir/tests/lab/cases/lib.sh"

# Local helpers (this file only; lib.sh is shared and not changed):
#   host_field OBSERVER HOST FIELD  a field of HOST in OBSERVER's status JSON
#   holds SECONDS 'cond'            cond is true at every poll for SECONDS
#   log_after HOST FIRST THEN       a line matching THEN follows the first
#                                   line matching FIRST in HOST's vmhad log
#   diag HOST...                    TAP comments: each host's verdicts and
#                                   fences, and its corosync token losses
#   is_on HOST                      HOST is powered: its init, by pid and start
#                                   time. (lib.sh's powered matches the PID
#                                   namespace inode, which a concurrent lab's
#                                   new namespace can reuse once HOST is off.)
#   keep_logs                       on exit, copies the hosts' logs to
#                                   $VMHA_LAB_KEEP/NAME when that is set
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
keep_logs() {
    local dest
    if [ -n "${VMHA_LAB_KEEP:-}" ] && [ -n "${HALAB_DIR:-}" ] && [ -d "$HALAB_DIR" ]; then
        dest=$VMHA_LAB_KEEP/$(basename "$0" .sh)
        rm -rf "$dest" && mkdir -p "$dest"
        for d in "$HALAB_DIR"/h*/log; do cp -r "$d" "$dest/$(basename "$(dirname "$d")")"; done
        "$builddir/tools/haadm" disk dump "$HALAB_DIR/lun.img" >"$dest/lun.txt" 2>&1
    fi
    lab_cleanup
}

lab_start 3 --timeout 2
trap keep_logs EXIT

for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "$o sees $h ALIVE before the fault" wait_state "$o" "$h" ALIVE 10
    done
done
if [ "$TAP_FAILED" -gt 0 ]; then
    echo "# the pool did not form cleanly, so the fault was not injected"
    diag h1 h2 h3
    tap_done
fi

RULE4='verdict SURVIVE: survive: disk lost, membership \{1,2,3\} complete and acknowledged by every host'
for h in h1 h2 h3; do halab disk "$h" error >/dev/null; done
for h in h1 h2 h3; do
    tap_ok "$h lives by rule 4 once the LUN fails" wait_until 5 "log_has $h '$RULE4'"
done

t0=$(ms_now)
halab net h3 down >/dev/null
# The pool's one timing value is 2 s: watchdog 2 s, Corosync detection
# about 0.9 s; slack for a busy machine.
budget=$((2000 + 1000 + 1500))
tap_ok "all three hosts power off" wait_until 10 '! is_on h1 && ! is_on h2 && ! is_on h3'
elapsed=$(ms_since "$t0")
tap_ok "the whole pool is off within watchdog + detection (${elapsed} ms <= ${budget} ms)" \
    test "$elapsed" -le "$budget"
# Without the disk and with an incomplete (or no longer acknowledged)
# membership a host loses by rule 4, or by rule 3 once it also has no quorum.
LOST='fencing self: lost: (disk lost, host [0-9]+ has (not|never) acknowledged this host|disk lost and membership \{[0-9,]+\} incomplete|no quorum and no disk)'
for h in h1 h2 h3; do
    tap_ok "$h fenced itself for lack of disk and complete membership (its log)" log_has "$h" "$LOST"
    tap_ok "$h never survived by rule 1 or 2 after the cut" \
        eval "! log_after $h '$RULE4' 'verdict SURVIVE: survive: (quorate|no quorum)'"
    tap_ok "$h's slot stayed ALIVE: the FENCING write could not reach the failing LUN" \
        test "$(slot_field "${h#h}" state)" = ALIVE
done
tap_ok "h3's own log names the missing acknowledgements or the lost quorum" \
    log_has h3 "fencing self: lost: (disk lost, host [12] has|no quorum and no disk)"

# Power the pool back on with a working LUN and network.
for h in h1 h2 h3; do halab disk "$h" ok >/dev/null; done
halab net h3 up >/dev/null
for h in h1 h2 h3; do
    tap_ok "$h boots" halab boot "$h"
done
for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "after the reboot $o sees $h ALIVE" wait_state "$o" "$h" ALIVE 20
    done
done
for h in h1 h2 h3; do
    tap_ok "$h SURVIVEs by rule 1 again" \
        eval "[ \"\$(verdict $h)\" = SURVIVE ] && status_json $h | grep -q 'quorate partition {1,2,3} reaches the disk'"
    tap_ok "$h reports its own earlier fence" log_has "$h" "this host fenced itself at .*: lost: "
    tap_ok "$h's slot advances" eval "s=\$(slot_field ${h#h} seq); wait_until 3 '[ \"\$(slot_field ${h#h} seq)\" -gt '\$s' ]'"
done
tap_ok "the pool has one master, h1, in every view" \
    eval '[ "$(master_of h1)" = h1 ] && [ "$(master_of h2)" = h1 ] && [ "$(master_of h3)" = h1 ]'

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
