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

lab_start 3 --timeout 2
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3

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
