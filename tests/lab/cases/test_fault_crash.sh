#!/bin/bash
# A host of a three-host pool crashes (power off, no last word): the other
# two see it LEFT, then FENCED once S2 holds (not before the watchdog
# timeout plus the margin, and within the failover budget); its slot stays
# ALIVE but stops advancing; the survivors keep SURVIVE and master h1. When
# it boots again it rejoins cleanly with a new incarnation.
. "$srcdir/tests/lab/cases/lib.sh"


lab_start 3 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack

for o in h1 h2 h3; do
    tap_ok "$o sees every host ALIVE and h1 master before the crash" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(master_of $o)\" = ALIVEALIVEALIVEh1 ]"
done
inc_before=$(slot_field 2 incarnation)

T0=$(ms_now)
halab crash h2 >/dev/null
tap_ok "h2 is powered off at once" wait_off h2 2
seq1=$(slot_field 2 seq)
track "$TRACK" 15 "h2=FENCED" h1 h3
show "$TRACK"
seq2=$(slot_field 2 seq)

for o in h1 h3; do
    left=$(first_ms "$TRACK" $o h2=LEFT)
    fenced=$(first_ms "$TRACK" $o h2=FENCED)
    echo "# $o: h2 LEFT after $left ms, FENCED after $fenced ms"
    seen=$(states_seen "$TRACK" $o h2)
    tap_ok "$o reports h2 LEFT, then FENCED (seen: $seen)" matches "$seen" '^(ALIVE )?LEFT FENCED$'
    tap_ok "$o counts h2 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
    tap_ok "$o does not count h2 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
        test "$fenced" -ge $((WD + MARGIN))
    # WAIT (no master) is allowed for the few ms until votequorum confirms.
    tap_ok "$o never loses: SURVIVE (or a brief WAIT) with no master but h1" \
        only_lines "$TRACK" $o 'master=(h1|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o ends with SURVIVE and master h1" \
        matches "$(awk -v o=$o '$2 == o' "$TRACK" | tail -1)" 'master=h1 verdict=SURVIVE$'
done

tap_ok "h2's slot still says ALIVE (it had no chance to write FENCING)" test "$(slot_field 2 state)" = ALIVE
tap_ok "h2's slot stopped advancing (seq $seq1 then $seq2)" test "$seq1" = "$seq2"
tap_ok "h2's slot is still silent a second later" test "$(slot_field 2 seq)" = "$seq2"
tap_ok "h2's own last verdict was SURVIVE (its log)" \
    matches "$(halab log h2 vmhad | grep -E ': verdict ' | tail -1)" 'verdict SURVIVE: survive: quorate partition'
tap_ok "h2's slot keeps its last reason: it survived in {1,2,3}" \
    test "$(slot_field 2 reason)" = "survive: quorate partition {1,2,3} reaches the disk"
tap_ok "h2 never decided to fence itself (its log)" eval '! log_has h2 "fencing self"'
for i in 1 3; do
    tap_ok "h$i's own verdict is SURVIVE with the quorate partition {1,3} (its log)" \
        log_has h$i "verdict SURVIVE: survive: quorate partition \{1,3\} reaches the disk"
    tap_ok "h$i's slot is ALIVE with view {1,3}" \
        test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [1, 3]"
    tap_ok "h$i's slot gives the reason" \
        test "$(slot_field $i reason)" = "survive: quorate partition {1,3} reaches the disk"
    tap_ok "h$i's slot keeps advancing" slot_advances $i
done
tap_ok "h1 never fenced itself" eval '! log_has h1 "fencing self"'
tap_ok "h3 never fenced itself" eval '! log_has h3 "fencing self"'
# A pill is for a host 'outside the surviving partition but still writing its
# slot'; a crashed host's slot stopped when it died.
tap_ok "h1 sends no poison pill to the crashed h2, whose slot is silent" \
    eval '! log_has h1 "poison pill to h2"'

# ---- power it on again ----
mark=$(log_mark h2)
T0=$(ms_now)
halab boot h2 >/dev/null
echo "# halab boot h2 took $(ms_since "$T0") ms"
tap_ok "h2 is powered on" powered h2
track "$TRACK.boot" 20 "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE" h1 h2 h3
show "$TRACK.boot"
for o in h1 h2 h3; do
    tap_ok "$o sees h1, h2, h3 ALIVE with master h1 after the boot" \
        test "$(awk -v o=$o '$2 == o' "$TRACK.boot" | tail -1 | cut -d' ' -f3-)" = \
        "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE"
done
# Until the new incarnation writes its slot, the old record (ALIVE, silent)
# is all the others have: the rebooted host must not be shown ALIVE on it.
for o in h1 h3; do
    seen=$(states_seen "$TRACK.boot" $o h2)
    tap_ok "$o does not show the rebooting h2 ALIVE before it is JOINING (seen: $seen)" \
        eval "! matches '$seen' 'ALIVE JOINING'"
done
echo "# h2 ALIVE everywhere $(awk '{ t = $1 } END { print t }' "$TRACK.boot") ms after the boot command"
tap_ok "h2's log says it joined the pool" log_has_since h2 "$mark" "joined the pool: survive: quorate partition \{1,2,3\}"
tap_ok "h2's log reports no self-fence at start (it crashed, it did not fence)" \
    eval '! log_has_since h2 "$mark" "this host fenced itself"'
tap_ok "h2 rejoins without an unacknowledged FENCE (no emergency from a pill)" \
    eval '! log_has_since h2 "$mark" "EMERGENCY MODE: unacknowledged-fence"'
inc_after=$(slot_field 2 incarnation)
tap_ok "h2's slot has a new incarnation ($inc_before -> $inc_after)" test "$inc_after" != "$inc_before"
tap_ok "h2's slot is ALIVE with view {1,2,3}" test "$(slot_field 2 state) $(slot_field 2 view)" = "ALIVE [1, 2, 3]"
tap_ok "h2's slot advances again" slot_advances 2
tap_ok "h2 is not in emergency mode" test "$(status_json h2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["self"]["emergency"])')" = False

keep_track_logs
tap_done
