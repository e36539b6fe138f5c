#!/bin/bash
# A host fences itself and comes back: h3's network is cut, it loses rule 2
# to {1,2} and fences (log, FENCING slot, powered off); h1 and h2 report it
# FENCED. With its network healed, `halab boot h3` brings it back: it
# rejoins by itself (ALIVE in every view, a new incarnation in its slot),
# its log reports the earlier self-fence at start, and `haadm emergency`
# says no (exit 0) while showing that last self-fence.
. "$srcdir/tests/lab/cases/lib.sh"


lab_start 3 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack
LOST='lost: no quorum, disk shows partition \{1,2\} beats \{3\} \(bigger\)'

for o in h1 h2 h3; do
    tap_ok "$o sees every host ALIVE and h1 master before the cut" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(master_of $o)\" = ALIVEALIVEALIVEh1 ]"
done
inc_before=$(slot_field 3 incarnation)

T0=$(ms_now)
halab net h3 down >/dev/null
track "$TRACK" 15 "h3=FENCED master=h1 verdict=SURVIVE" h1 h2 &
tracker=$!
tap_ok "h3 fences itself and powers off" wait_off h3 10
echo "# h3 off after $(ms_since "$T0") ms"
wait $tracker
show "$TRACK"
echo "# h3: $(halab log h3 vmhad | grep -m1 'fencing self')"
tap_ok "h3's log: it fences itself, {1,2} beats {3}" log_has h3 "fencing self: $LOST"
tap_ok "h3's slot says FENCING with the reason" \
    matches "$(slot_field 3 state) $(slot_field 3 reason)" "^FENCING $LOST"
fence_ms=$(slot_field 3 fence_unix_ms)
tap_ok "h3's slot records when it fenced" test "${fence_ms:-0}" -gt 0
for o in h1 h2; do
    fenced=$(first_ms "$TRACK" $o h3=FENCED)
    echo "# $o: h3 states $(states_seen "$TRACK" $o h3); FENCED after $fenced ms"
    tap_ok "$o reports h3 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
    tap_ok "$o never fences: SURVIVE or WAIT, master h1 or none" \
        only_lines "$TRACK" $o 'master=(h1|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o's own verdict: SURVIVE in the quorate {1,2} (its log)" \
        log_has $o "verdict SURVIVE: survive: quorate partition \{1,2\} reaches the disk"
done

# ---- heal and power on ----
halab net h3 up >/dev/null
mark=$(log_mark h3)
T0=$(ms_now)
halab boot h3 >/dev/null
echo "# halab boot h3 took $(ms_since "$T0") ms"
tap_ok "h3 is powered on" powered h3
track "$TRACK.boot" 20 "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE" h1 h2 h3
show "$TRACK.boot"
echo "# h3 ALIVE everywhere $(awk '{ t = $1 } END { print t }' "$TRACK.boot") ms after the boot command"
for o in h1 h2 h3; do
    tap_ok "$o sees h1, h2, h3 ALIVE with master h1 after the boot" \
        test "$(awk -v o=$o '$2 == o' "$TRACK.boot" | tail -1 | cut -d' ' -f3-)" = \
        "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE"
done
# Until the new incarnation writes its slot, the old record (ALIVE, silent)
# is all the others have: the rebooted host must not be shown ALIVE on it.
for o in h1 h2; do
    seen=$(states_seen "$TRACK.boot" $o h3)
    tap_ok "$o does not show the rebooting h3 ALIVE before it is JOINING (seen: $seen)" \
        eval "! matches '$seen' 'ALIVE JOINING'"
done
line=$(halab log h3 vmhad | tail -n "+$((mark + 1))" | grep -m1 'this host fenced itself at')
echo "# h3: $line"
tap_ok "h3's log reports at start that it fenced itself, and why" \
    matches "$line" "this host fenced itself at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: $LOST"
when=$(echo "$line" | sed -nE 's/.*fenced itself at ([^ ]+Z):.*/\1/p')
when_s=$(date -u -d "$when" +%s 2>/dev/null || echo 0)
tap_ok "the reported time is the fence's ($when vs slot $((fence_ms / 1000)))" \
    test $((when_s - fence_ms / 1000)) -le 1 -a $((fence_ms / 1000 - when_s)) -le 1
tap_ok "h3's log reports it before it joins" \
    eval "halab log h3 vmhad | tail -n +$((mark + 1)) | grep -E 'this host fenced itself|joined the pool' | head -1 | grep -q 'fenced itself'"
tap_ok "h3's log says it joined the pool" log_has_since h3 "$mark" "joined the pool: survive: quorate partition \{1,2,3\}"
tap_ok "h3 rejoins without any emergency banner but the lab's corosync start race" \
    eval "! halab log h3 vmhad | tail -n +$((mark + 1)) | grep 'EMERGENCY MODE' | grep -v 'corosync-down'"
inc_after=$(slot_field 3 incarnation)
tap_ok "h3's slot has a new incarnation ($inc_before -> $inc_after)" test "$inc_after" != "$inc_before"
tap_ok "h3's slot is ALIVE with view {1,2,3}" test "$(slot_field 3 state) $(slot_field 3 view)" = "ALIVE [1, 2, 3]"
tap_ok "h3's slot gives its verdict" test "$(slot_field 3 reason)" = "survive: quorate partition {1,2,3} reaches the disk"
tap_ok "h3's slot advances again" slot_advances 3

out=$HALAB_DIR/emergency.out
hs h3 emergency >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
tap_ok "haadm emergency on h3 exits 0 (not in emergency mode)" test "$rc" = 0
tap_grep '^emergency mode: no$' "$out" "haadm emergency says no"
tap_grep "^last self-fence: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: $LOST" "$out" \
    "haadm emergency shows the last self-fence with its reason"

keep_track_logs
tap_done
