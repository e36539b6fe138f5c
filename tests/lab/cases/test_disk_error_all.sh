#!/bin/bash
# Every host loses the LUN (I/O errors) while the network stays whole.
# Rule 4: each host lives on without the disk because the membership is
# complete and every other host keeps acknowledging it over CPG. Nobody
# fences (losing the disk alone must not take the pool down); once the LUN
# works again every slot advances and every host is back under rule 1.
. "$srcdir/tests/lab/cases/lib.sh"

# The pool's timeout is 2 s (disk interval 200 ms: rule 4 wants every
# peer's acknowledgement within 200 ms). VMHA_LAB_TIMEOUT overrides it, to
# tell a stalled lab network from a wrong verdict.
lab_start 3 --timeout "${VMHA_LAB_TIMEOUT:-2}"
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3

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
    # Rule 4, fed (every acknowledgement fresh) or for a moment holding
    # unfed (one late under load): both keep the host alive.
    tap_ok "$h's own reason names rule 4" \
        eval "status_json $h | grep -qE 'disk lost, (membership \\{1,2,3\\} complete and acknowledged|host [0-9] has not acknowledged)'"
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
