#!/bin/bash
# Rule 4 in the lab: one host's LUN hangs while the network stays whole.
# The host lives on without its disk, on the fresh CPG acknowledgements of
# a complete membership: it stays powered with the verdict SURVIVE and says
# so in its log, while the other two keep it ALIVE (a network member) with a
# stale disk slot. When the LUN answers again its slot advances and it is
# back under rule 1.
. "$srcdir/tests/lab/cases/lib.sh"

# The pool's timeout is 2 s (disk interval 200 ms: rule 4 wants every
# peer's acknowledgement within 200 ms). VMHA_LAB_TIMEOUT overrides it, to
# tell a stalled lab network from a wrong verdict.
lab_start 3 --timeout "${VMHA_LAB_TIMEOUT:-2}"
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3

RULE4='verdict SURVIVE: survive: disk lost, membership \{1,2,3\} complete and acknowledged by every host'
RULE1='verdict SURVIVE: survive: quorate partition \{1,2,3\} reaches the disk'

# Only what happens from the fault on counts (the pool's own formation
# may pass through {1,3}).
mark1=$(log_mark h1)
mark3=$(log_mark h3)
halab disk h2 hang >/dev/null
tap_ok "h2 notices the hung LUN and lives by rule 4 (its log says so)" wait_until 5 "log_has h2 '$RULE4'"
seq_hung=$(slot_field 2 seq)
tap_ok "h2 stays powered with the verdict SURVIVE for 8 s without its disk" \
    holds 8 'is_on h2 && [ "$(verdict h2)" = SURVIVE ]'
tap_ok "h2's own reason names rule 4" \
    eval 'status_json h2 | grep -qE "disk lost, (membership \\{1,2,3\\} complete and acknowledged|host [0-9] has not acknowledged)"'
tap_ok "h2 never logged a FENCE verdict" eval '! log_has h2 "verdict FENCE|fencing self"'
tap_ok "h2's watchdog never expired" eval '! halab log h2 watchdog | grep -q expire'
tap_ok "h2's slot did not advance while its LUN hung" test "$(slot_field 2 seq)" = "$seq_hung"
for o in h1 h3; do
    tap_ok "$o keeps h2 ALIVE (a network member)" test "$(host_state "$o" h2)" = ALIVE
    tap_ok "$o has h2 in its network membership" test "$(host_field "$o" h2 network)" = true
    tap_ok "$o sees h2's disk slot stale" test "$(host_field "$o" h2 disk)" = false
    tap_ok "$o still SURVIVEs" test "$(verdict "$o")" = SURVIVE
    mark=$([ "$o" = h1 ] && echo "$mark1" || echo "$mark3")
    tap_ok "$o never lost h2 from its membership" eval "! log_has_since $o $mark 'membership \{1,3\}'"
done
for h in h1 h3; do
    tap_ok "$h's slot keeps advancing" eval "s=\$(slot_field ${h#h} seq); wait_until 3 '[ \"\$(slot_field ${h#h} seq)\" -gt '\$s' ]'"
done

halab disk h2 ok >/dev/null
tap_ok "h2's slot advances again once the LUN answers" \
    wait_until 5 "[ \"\$(slot_field 2 seq)\" -gt $seq_hung ]"
tap_ok "h2's log shows it back on the disk (rule 1)" wait_until 5 "log_after h2 '$RULE4' '$RULE1'"
tap_ok "h2's fresh slot says ALIVE, disk_ok, view {1,2,3}" \
    wait_until 5 "[ \"\$(slot_field 2 state)\" = ALIVE ] && [ \"\$(slot_field 2 disk_ok)\" = true ] && [ \"\$(slot_field 2 view)\" = '[1, 2, 3]' ]"
for o in h1 h3; do
    tap_ok "$o sees h2's disk slot live again" wait_until 5 "[ \"\$(host_field $o h2 disk)\" = true ]"
    tap_ok "$o still reports h2 ALIVE" test "$(host_state "$o" h2)" = ALIVE
done
tap_ok "h2 is still powered and SURVIVEs" eval 'is_on h2 && [ "$(verdict h2)" = SURVIVE ]'
tap_ok "nobody fenced" eval '! log_has h1 "fencing self" && ! log_has h2 "fencing self" && ! log_has h3 "fencing self"'

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
