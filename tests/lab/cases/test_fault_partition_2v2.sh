#!/bin/bash
# Four hosts split two against two (partition h1,h2 h3,h4): neither side is
# quorate and there is no tiebreak target, so rule 2 gives the tie to the
# side with the lowest node id, {1,2}. Exactly one side survives: h3 and h4
# fence themselves (logs, FENCING slots, powered off), h1 and h2 SURVIVE
# (logs, ALIVE slots that keep advancing) and report h3, h4 FENCED within
# the budget.
. "$srcdir/tests/lab/cases/lib.sh"


lab_start 4 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack
WIN='\{1,2\} beats \{3,4\} \(tie, lowest node id\)'
SURV='(disk shows partition \{1,2\} beats \{(3,4|3|4)\} \((tie, lowest node id|bigger)\)|no other partition on the disk, \{1,2\} wins)'
LOSE='\{1,2\} beats \{(3,4\} \(tie, lowest node id|[34]\} \(bigger)\)'

for o in h1 h2 h3 h4; do
    tap_ok "$o sees all four ALIVE and h1 master before the split" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(host_state $o h4)\$(master_of $o)\" = ALIVEALIVEALIVEALIVEh1 ]"
done

T0=$(ms_now)
for i in 1 2 3 4; do eval "mark$i=\$(log_mark h$i)"; done
halab partition h1,h2 h3,h4 >/dev/null
track "$TRACK" 15 "h3=FENCED h4=FENCED" h1 h2 &
tracker=$!
for h in h3 h4; do
    tap_ok "$h fences itself and powers off" wait_off $h 10
    echo "# $h off after $(ms_since "$T0") ms"
done
wait $tracker
show "$TRACK"
tap_ok "exactly one side survives: h1 and h2 are still powered" eval 'powered h1 && powered h2'

for h in h3 h4; do
    echo "# $h: $(halab log $h vmhad | grep -m1 'fencing self')"
    # The first of the two to decide loses the tie; the second may already
    # see the first FENCING (no longer a competitor) and lose to a bigger {1,2}.
    tap_ok "$h's log says it fences itself because {1,2} wins" \
        log_has_since $h "$(eval echo \$mark${h#h})" "fencing self: lost: no quorum, disk shows partition $LOSE"
    tap_ok "$h's log has its verdict FENCE" log_has_since $h "$(eval echo \$mark${h#h})" "verdict FENCE: lost: no quorum"
    tap_ok "$h never concluded SURVIVE after the split" \
        eval "! log_has_since $h $(eval echo \$mark${h#h}) 'verdict SURVIVE'"
    tap_ok "$h's slot says FENCING" test "$(slot_field ${h#h} state)" = FENCING
    tap_ok "$h's slot carries the reason" \
        matches "$(slot_field ${h#h} reason)" "^lost: no quorum, disk shows partition $LOSE"
done
tap_ok "the first of h3, h4 to decide lost the tie on the lowest node id" \
    eval 'log_has h3 "fencing self: lost: no quorum, disk shows partition $WIN" ||
          log_has h4 "fencing self: lost: no quorum, disk shows partition $WIN"'
for o in h1 h2; do
    for h in h3 h4; do
        fenced=$(first_ms "$TRACK" $o $h=FENCED)
        seen=$(states_seen "$TRACK" $o $h)
        echo "# $o: $h states $seen; FENCED after $fenced ms"
        tap_ok "$o reports $h FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
        tap_ok "$o does not count $h FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
            test "$fenced" -ge $((WD + MARGIN))
        tap_ok "$o never shows $h ALIVE again once it went (seen: $seen)" \
            matches "$seen" '^(ALIVE )?((LEFT|FENCING) )*FENCED$'
    done
    tap_ok "$o never fences: SURVIVE or WAIT, master h1 or none" \
        only_lines "$TRACK" $o 'master=(h1|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o now: SURVIVE, master h1, h3 and h4 FENCED" \
        test "$(host_state $o h3) $(host_state $o h4) $(master_of $o) $(verdict $o)" = "FENCED FENCED h1 SURVIVE"
    i=${o#h}
    # The tie, or {1,2} against what is left once h3 or h4 wrote FENCING.
    tap_ok "$o's log says it survives because {1,2} wins" \
        log_has_since $o "$(eval echo \$mark$i)" "verdict SURVIVE: survive: no quorum, $SURV"
    tap_ok "$o never fenced itself" eval "! log_has $o 'fencing self'"
    tap_ok "$o's slot is ALIVE with view {1,2}" test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [1, 2]"
    tap_ok "$o's slot says not quorate" test "$(slot_field $i quorate)" = false
    tap_ok "$o's slot keeps advancing" slot_advances $i
done

keep_track_logs
tap_done
