#!/bin/bash
# Two hosts with a tiebreak target (the lab's gw): partition h1 h2,gw cuts
# h1 off from both h2 and the tiebreak target. Neither side is quorate (no
# two_node) and the split is even, so rule 2 decides on the tiebreak: h2
# reaches gw and survives, h1 fences itself although it has the lower id.
# Checked from h2's view (h1 FENCED, h2 master) and from each host's own
# log and disk slot (the reasons name the tiebreak).
. "$srcdir/tests/lab/cases/lib.sh"


lab_start 2 --timeout 2 --tiebreak
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack
WIN='\{2\} beats \{1\} \(tie, tiebreak target reachable\)'

for o in h1 h2; do
    tap_ok "$o sees both ALIVE and h1 master before the split" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(master_of $o)\" = ALIVEALIVEh1 ]"
done
tap_ok "h1's log: it probes the tiebreak target" log_has h1 "probing the tiebreak target 198.18.0.254"
tap_ok "h2's log: it probes the tiebreak target" log_has h2 "probing the tiebreak target 198.18.0.254"
tap_ok "both slots publish the tiebreak target reachable" \
    wait_until 5 '[ "$(slot_field 1 tiebreak_ok) $(slot_field 2 tiebreak_ok)" = "true true" ]'

T0=$(ms_now)
mark1=$(log_mark h1)
mark2=$(log_mark h2)
halab partition h1 h2,gw >/dev/null
track "$TRACK" 15 "h1=FENCED master=h2 verdict=SURVIVE" h2 &
tracker=$!
tap_ok "h1 fences itself and powers off, despite the lower id" wait_off h1 10
echo "# h1 off after $(ms_since "$T0") ms"
wait $tracker
show "$TRACK"
tap_ok "h2 is still powered" powered h2

echo "# h1: $(halab log h1 vmhad | grep -m1 'fencing self')"
tap_ok "h1's log: it fences itself because h2's side reaches the tiebreak target" \
    log_has_since h1 "$mark1" "fencing self: lost: no quorum, disk shows partition $WIN"
tap_ok "h1's log has its verdict FENCE" \
    log_has_since h1 "$mark1" "verdict FENCE: lost: no quorum, disk shows partition $WIN"
tap_ok "h1 never concluded SURVIVE after the split" eval "! log_has_since h1 $mark1 'verdict SURVIVE'"
tap_ok "h1's slot says FENCING" test "$(slot_field 1 state)" = FENCING
tap_ok "h1's slot carries the tiebreak reason" \
    matches "$(slot_field 1 reason)" "^lost: no quorum, disk shows partition $WIN"

echo "# h2: $(halab log h2 vmhad | grep -E 'verdict SURVIVE: survive: no quorum' | head -1)"
# h2 decides on the tie as soon as it reads h1's settled view {1}; only if
# h1 went from {1} to FENCING between two of h2's reads is there no tie
# left for h2 to break (then h2 wins alone and h1's reason carries it).
tap_ok "h2's log: it survives because it reaches the tiebreak target (or h1 had already conceded on it)" \
    eval 'log_has_since h2 "$mark2" "verdict SURVIVE: survive: no quorum, disk shows partition $WIN" ||
          { log_has_since h2 "$mark2" "verdict SURVIVE: survive: no quorum, no other partition on the disk, \{2\} wins" &&
            log_has_since h1 "$mark1" "fencing self: lost: no quorum, disk shows partition $WIN"; }'
tap_ok "h2's log: no other verdict after the split than WAIT and SURVIVE" \
    eval "! halab log h2 vmhad | tail -n +$((mark2 + 1)) | grep -E ': verdict ' | grep -vE 'verdict (WAIT|SURVIVE):'"
tap_ok "h2 never fenced itself" eval "! log_has h2 'fencing self'"
tap_ok "h2's log: it became master" log_has h2 "master is now h2 \(id 2\): this host"
tap_ok "h2's slot is ALIVE with view {2}, not quorate, tiebreak reachable" \
    test "$(slot_field 2 state) $(slot_field 2 view) $(slot_field 2 quorate) $(slot_field 2 tiebreak_ok)" = "ALIVE [2] false true"
tap_ok "h2's slot keeps advancing" slot_advances 2

fenced=$(first_ms "$TRACK" h2 h1=FENCED)
master=$(first_ms "$TRACK" h2 master=h2)
seen=$(states_seen "$TRACK" h2 h1)
echo "# h2: h1 states $seen; master h2 after $master ms; h1 FENCED after $fenced ms"
tap_ok "h2 reports h1 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
tap_ok "h2 does not count h1 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
    test "$fenced" -ge $((WD + MARGIN))
tap_ok "h2 never shows h1 ALIVE again once it went (seen: $seen)" \
    matches "$seen" '^(ALIVE )?((LEFT|FENCING) )*FENCED$'
tap_ok "h2 never fences: SURVIVE or WAIT, master h1, h2 or none" \
    only_lines "$TRACK" h2 'master=(h1|h2|none) verdict=(SURVIVE|WAIT)$'
tap_ok "h2 now: SURVIVE, master h2, h1 FENCED" \
    test "$(host_state h2 h1) $(master_of h2) $(verdict h2)" = "FENCED h2 SURVIVE"

keep_track_logs
tap_done
