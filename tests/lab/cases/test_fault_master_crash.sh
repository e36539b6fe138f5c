#!/bin/bash
# The master of a three-host pool crashes: h2, the next lowest id, becomes
# master, and h2 and h3 agree on it (never two masters); h1 shows LEFT,
# then FENCED within the failover budget (not before the watchdog timeout
# plus the margin); the survivors' own verdicts (log and slot) are SURVIVE
# in the quorate partition {2,3}; h1's slot stays ALIVE and goes silent.
. "$srcdir/tests/lab/cases/lib.sh"


lab_start 3 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack

for o in h1 h2 h3; do
    tap_ok "$o sees every host ALIVE and h1 master before the crash" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(master_of $o)\" = ALIVEALIVEALIVEh1 ]"
done
mark2=$(log_mark h2)
mark3=$(log_mark h3)

T0=$(ms_now)
halab crash h1 >/dev/null
tap_ok "h1 is powered off at once" wait_off h1 2
seq1=$(slot_field 1 seq)
track "$TRACK" 15 "h1=FENCED master=h2 verdict=SURVIVE" h2 h3
show "$TRACK"
seq2=$(slot_field 1 seq)

for o in h2 h3; do
    left=$(first_ms "$TRACK" $o h1=LEFT)
    master=$(first_ms "$TRACK" $o master=h2)
    fenced=$(first_ms "$TRACK" $o h1=FENCED)
    echo "# $o: h1 LEFT after $left ms, master h2 after $master ms, h1 FENCED after $fenced ms"
    tap_ok "$o names h2 master within the budget (${master} ms <= ${BUDGET} ms)" test "$master" -le "$BUDGET"
    tap_ok "$o never names two masters, nor one but h1 or h2" \
        only_lines "$TRACK" $o 'master=(h1|h2|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o stops naming h1 master once h1 is out" \
        eval "! awk -v o=$o '\$2 == o && \$3 != \"h1=ALIVE\"' '$TRACK' | grep -q 'master=h1 '"
    seen=$(states_seen "$TRACK" $o h1)
    tap_ok "$o reports h1 LEFT, then FENCED (seen: $seen)" matches "$seen" '^(ALIVE )?LEFT FENCED$'
    tap_ok "$o counts h1 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
    tap_ok "$o does not count h1 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
        test "$fenced" -ge $((WD + MARGIN))
    tap_ok "$o ends with SURVIVE, master h2, h1 FENCED" \
        matches "$(awk -v o=$o '$2 == o' "$TRACK" | tail -1)" 'h1=FENCED h2=ALIVE h3=ALIVE master=h2 verdict=SURVIVE$'
done
tap_ok "h2 and h3 agree: the master is h2" test "$(master_of h2) $(master_of h3)" = "h2 h2"
tap_ok "h2's log: it became master" log_has_since h2 "$mark2" "master is now h2 \(id 2\): this host"
tap_ok "h3's log: h2 is master" log_has_since h3 "$mark3" "master is now h2 \(id 2\)$"
for i in 2 3; do
    tap_ok "h$i's own verdict is SURVIVE with the quorate partition {2,3} (its log)" \
        log_has_since h$i "$(eval echo \$mark$i)" "verdict SURVIVE: survive: quorate partition \{2,3\} reaches the disk"
    tap_ok "h$i's slot is ALIVE with view {2,3}" \
        test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [2, 3]"
    tap_ok "h$i's slot gives the reason" \
        test "$(slot_field $i reason)" = "survive: quorate partition {2,3} reaches the disk"
    tap_ok "h$i's slot keeps advancing" slot_advances $i
    tap_ok "h$i never fenced itself" eval "! log_has h$i 'fencing self'"
done
tap_ok "h1's slot still says ALIVE (it had no chance to write FENCING)" test "$(slot_field 1 state)" = ALIVE
tap_ok "h1's slot stopped advancing (seq $seq1 then $seq2)" test "$seq1" = "$seq2"
tap_ok "h1's own last verdict was SURVIVE (its log)" \
    matches "$(halab log h1 vmhad | grep -E ': verdict ' | tail -1)" 'verdict SURVIVE: survive: quorate partition'
tap_ok "h1 never decided to fence itself (its log)" eval '! log_has h1 "fencing self"'

keep_track_logs
tap_done
