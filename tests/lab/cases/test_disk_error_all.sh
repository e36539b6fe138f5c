#!/bin/bash
# Every host loses the LUN (I/O errors) while the network stays whole.
# Rule 4: each host lives on without the disk because the membership is
# complete and every other host keeps acknowledging it over CPG. Nobody
# fences (losing the disk alone must not take the pool down); once the LUN
# works again every slot advances and every host is back under rule 1.
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

# The pool's timeout is 2 s (disk interval 200 ms: rule 4 wants every
# peer's acknowledgement within 200 ms). VMHA_LAB_TIMEOUT overrides it, to
# tell a stalled lab network from a wrong verdict.
lab_start 3 --timeout "${VMHA_LAB_TIMEOUT:-2}"
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
RULE1='verdict SURVIVE: survive: quorate partition \{1,2,3\} reaches the disk'

for h in h1 h2 h3; do halab disk "$h" error >/dev/null; done
for h in h1 h2 h3; do
    tap_ok "$h notices the failing LUN and lives by rule 4 (its log says so)" wait_until 5 "log_has $h '$RULE4'"
done
declare -A seq_lost
for i in 1 2 3; do seq_lost[$i]=$(slot_field $i seq); done
tap_ok "all three stay powered with the verdict SURVIVE for 8 s without the disk" \
    holds 8 '(for h in h1 h2 h3; do is_on $h && [ "$(verdict $h)" = SURVIVE ] || exit 1; done)'
for h in h1 h2 h3; do
    tap_ok "$h's own reason names rule 4" \
        eval "status_json $h | grep -q 'disk lost, membership {1,2,3} complete and acknowledged'"
    tap_ok "$h never logged a FENCE verdict" eval "! log_has $h 'verdict FENCE|fencing self'"
    tap_ok "$h's watchdog never expired" eval "! halab log $h watchdog | grep -q expire"
    tap_ok "$h's slot stood still while the LUN failed" test "$(slot_field "${h#h}" seq)" = "${seq_lost[${h#h}]}"
done
for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        [ "$o" = "$h" ] && continue
        tap_ok "$o keeps $h ALIVE, a network member with a stale slot" \
            eval "[ \"\$(host_state $o $h)\" = ALIVE ] && [ \"\$(host_field $o $h network)\" = true ] &&
                  [ \"\$(host_field $o $h disk)\" = false ]"
    done
done

for h in h1 h2 h3; do halab disk "$h" ok >/dev/null; done
for h in h1 h2 h3; do
    i=${h#h}
    tap_ok "$h's slot advances again once the LUN works" \
        wait_until 5 "[ \"\$(slot_field $i seq)\" -gt ${seq_lost[$i]} ]"
    tap_ok "$h's log shows it back on the disk (rule 1)" wait_until 5 "log_after $h '$RULE4' '$RULE1'"
    tap_ok "$h's fresh slot says ALIVE, disk_ok, view {1,2,3}" \
        wait_until 5 "[ \"\$(slot_field $i state)\" = ALIVE ] && [ \"\$(slot_field $i disk_ok)\" = true ] && [ \"\$(slot_field $i view)\" = '[1, 2, 3]' ]"
done
all_live_again() {
    local o h
    for o in h1 h2 h3; do
        for h in h1 h2 h3; do
            [ "$(host_state $o $h)" = ALIVE ] && [ "$(host_field $o $h disk)" = true ] || return 1
        done
    done
}
wait_until 6 all_live_again
for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "$o sees $h ALIVE with a live slot again" \
            eval "[ \"\$(host_state $o $h)\" = ALIVE ] && [ \"\$(host_field $o $h disk)\" = true ]"
    done
done
tap_ok "all three are powered and SURVIVE" \
    eval '(for h in h1 h2 h3; do is_on $h && [ "$(verdict $h)" = SURVIVE ] || exit 1; done)'
tap_ok "h1 is still the one master" eval '[ "$(master_of h2)" = h1 ] && [ "$(master_of h3)" = h1 ]'

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
