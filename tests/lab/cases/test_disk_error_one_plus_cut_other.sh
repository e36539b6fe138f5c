#!/bin/bash
# Two faults: h1 loses the LUN (it lives by rule 4), then h3's network is
# cut. What the survival rules demand:
#   h1: no disk, and its membership is no longer complete and acknowledged
#       (the ring stalls as soon as h3 is cut, so no peer's acknowledgement
#       arrives any more, and later h3 is gone from {1,2}): it loses by
#       rule 4 and fences. Its FENCING write cannot reach the LUN,
#       so its slot simply goes silent.
#   h3: alone, no quorum, but it has the disk: rule 2. The disk shows the
#       other side ({1,2}, or {2} once h1 is gone) at least as big and with
#       the lower id, so h3 loses and fences, writing FENCING.
#   h2: the disk works. While h1 is still a member, {1,2} is quorate (rule
#       1). Once h1 is gone h2 is alone without quorum: rule 2 against h3's
#       {3}, a tie that the lower id wins, or no competitor at all once h3
#       wrote FENCING. h2 survives: one host keeps the pool. (The whole pool
#       fences only when every host loses the disk, test_disk_error_all_plus_cut.)
# The survivor reports both others FENCED (S2), and their slots never advance
# again.
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
        tap_ok "$o sees $h ALIVE before the faults" wait_state "$o" "$h" ALIVE 10
    done
done
if [ "$TAP_FAILED" -gt 0 ]; then
    echo "# the pool did not form cleanly, so the fault was not injected"
    diag h1 h2 h3
    tap_done
fi

halab disk h1 error >/dev/null
tap_ok "h1 lives by rule 4 once its LUN fails" \
    wait_until 5 "log_has h1 'verdict SURVIVE: survive: disk lost, membership \{1,2,3\} complete and acknowledged by every host'"

t0=$(ms_now)
halab net h3 down >/dev/null
budget=$((2000 + 1000 + 1500))   # watchdog + detection + slack
tap_ok "h1 and h3 power off" wait_until 10 '! is_on h1 && ! is_on h3'
elapsed=$(ms_since "$t0")
tap_ok "both are off within watchdog + detection (${elapsed} ms <= ${budget} ms)" test "$elapsed" -le "$budget"

# Rule 4: without its disk, h1 lives only on a complete, freshly
# acknowledged membership. Either it sees the membership shrink and fences
# itself (by rule 4, or by rule 3 while votequorum has not yet confirmed
# the smaller membership's quorum), or the acknowledgements stop first: it
# holds, unfed, and its watchdog resets it.
h1_rule4_end() {
    log_has h1 'fencing self: lost: (disk lost and membership \{1,2\} incomplete \(missing \{3\}\)|no quorum and no disk, membership \{1,2\})' ||
        { log_has h1 'holding: disk lost, host [23] has (not|never) acknowledged this host' &&
          halab log h1 watchdog 2>/dev/null | grep -q 'expire timeout=2: power off'; }
}
tap_ok "h1 went down by rule 4: fenced on the incomplete membership, or unfed and reset by its watchdog" h1_rule4_end
tap_ok "h1's slot never says FENCING (its LUN fails)" test "$(slot_field 1 state)" = ALIVE
tap_ok "h3 fenced itself by rule 2: the disk shows the other partition winning" \
    log_has h3 'fencing self: lost: no quorum, disk shows partition \{(1,2|2)\} beats \{3\}'
tap_ok "h3's slot says FENCING" test "$(slot_field 3 state)" = FENCING

tap_ok "h2 stays powered with the verdict SURVIVE for 6 s" \
    holds 6 'is_on h2 && [ "$(verdict h2)" = SURVIVE ]'
tap_ok "h2 never logged a FENCE verdict" eval '! log_has h2 "verdict FENCE|fencing self"'
tap_ok "h2's reason: rule 2 alone, nothing else on the disk (or the tie it wins)" \
    eval "status_json h2 | grep -Eq 'survive: no quorum, (no other partition on the disk, \{2\} wins|disk shows partition \{2\} beats \{3\})'"
tap_ok "h2's log shows the rule 2 verdict" \
    log_has h2 'verdict SURVIVE: survive: no quorum, (no other partition on the disk, \{2\} wins|disk shows partition \{2\} beats \{3\})'
tap_ok "h2's slot keeps advancing with the view {2}" \
    eval "s=\$(slot_field 2 seq); wait_until 3 '[ \"\$(slot_field 2 seq)\" -gt '\$s' ]' && [ \"\$(slot_field 2 view)\" = '[2]' ]"
for h in h1 h3; do
    tap_ok "h2 reports $h FENCED" wait_state h2 "$h" FENCED 10
done
tap_ok "h2 is the master" test "$(master_of h2)" = h2
s1=$(slot_field 1 seq); s3=$(slot_field 3 seq)
sleep 2
tap_ok "h1's and h3's slots never advance again" \
    eval "[ \"\$(slot_field 1 seq)\" = $s1 ] && [ \"\$(slot_field 3 seq)\" = $s3 ]"

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
