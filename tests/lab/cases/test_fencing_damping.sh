#!/bin/bash
# Fence-loop damping (max_fences_per_hour, 2 by default): a host that
# fenced itself once rejoins by itself when it boots again and reports the
# fence; after the second self-fence within the hour it boots into sticky
# emergency mode (fence-loop) and stays out of the pool until
# `haadm emergency --clear`, after which it rejoins.
. "$srcdir/tests/lab/cases/lib.sh"

# Cuts h3's network, waits until it fenced itself, heals and boots it.
fence_h3_by_cut() {   # round
    halab net h3 down >/dev/null
    tap_ok "cut $1: h3 fences itself and powers off" wait_off h3 10
    tap_ok "cut $1: h1 reports h3 FENCED" wait_state h1 h3 FENCED 15
    halab net h3 up >/dev/null
    boot_host h3
}

lab_start 3 --timeout 2
out=$(mktemp)
trap 'rm -f "$out"; lab_cleanup' EXIT
lib3=$HALAB_DIR/h3/lib

for h in h1 h2 h3; do
    tap_ok "h1 sees $h ALIVE" wait_state h1 "$h" ALIVE 10
done
tap_ok "max_fences_per_hour is not set in h3's vmha.conf (default 2)" \
    eval "! grep -q max_fences_per_hour '$HALAB_DIR/h3/etc/vmha.conf'"

# First self-fence: h3 rejoins by itself.
fence_h3_by_cut 1
tap_ok "after boot 1: h3 rejoins by itself (ALIVE on h3)" wait_state h3 h3 ALIVE 20
for o in h1 h2; do
    tap_ok "after boot 1: $o sees h3 ALIVE" wait_state "$o" h3 ALIVE 10
done
tap_ok "after boot 1: h3 is not in emergency mode" test "$(self_emergency h3)" = "false "
tap_ok "after boot 1: h3's log reports the earlier fence" log_has h3 "this host fenced itself at .*: lost: no quorum"
tap_ok "after boot 1: one line in h3's fence history" test "$(wc -l <"$lib3/fence-history")" = 1
hs h3 emergency >"$out" 2>&1
rc=$?
tap_ok "after boot 1: haadm emergency on h3 exits 0 (got $rc)" test "$rc" = 0
tap_grep "^emergency mode: no$" "$out" "after boot 1: 'emergency mode: no'"
tap_grep "^last self-fence: [0-9T:-]+Z: lost: no quorum" "$out" "after boot 1: 'last self-fence: TIME: REASON'"

# Second self-fence within the hour: sticky emergency mode.
fence_h3_by_cut 2
tap_ok "after boot 2: h3's vmhad reports emergency fence-loop" \
    wait_until 20 "[ \"\$(self_emergency h3)\" = 'true fence-loop' ]"
tap_ok "after boot 2: h3's status shows h3 EMERGENCY" test "$(host_state h3 h3)" = EMERGENCY
tap_ok "after boot 2: h3's log has the fence-loop banner" log_has h3 "EMERGENCY MODE: fence-loop: at least 2 self-fences within an hour"
tap_ok "after boot 2: the marker /var/lib/vmha/emergency-sticky exists" test -f "$lib3/emergency-sticky"
hs h3 emergency >"$out" 2>&1
rc=$?
tap_ok "after boot 2: haadm emergency on h3 exits 1 (got $rc)" test "$rc" = 1
tap_grep "^emergency mode: yes$" "$out" "after boot 2: 'emergency mode: yes'"
tap_grep "^  fence-loop: at least 2 self-fences within an hour" "$out" "after boot 2: cause fence-loop"
tap_grep "haadm emergency --clear" "$out" "after boot 2: and the next step names --clear"
sleep 2
tap_ok "after boot 2: h3 stays in EMERGENCY" test "$(host_state h3 h3)" = EMERGENCY

# The administrator's word.
hs h3 emergency --clear >"$out" 2>&1
rc=$?
tap_ok "haadm emergency --clear on h3 exits 0 (got $rc)" test "$rc" = 0
tap_grep "^emergency mode cleared$" "$out" "and says emergency mode cleared"
tap_grep "^emergency mode: no$" "$out" "and re-checks: 'emergency mode: no'"
tap_ok "after --clear: h3 leaves emergency mode (ALIVE on h3)" wait_state h3 h3 ALIVE 5
tap_ok "after --clear: h3's log says it leaves emergency mode" log_has h3 "emergency cause fence-loop is gone: leaving emergency mode"
tap_ok "after --clear: the sticky marker is gone" test ! -e "$lib3/emergency-sticky"
hs h3 emergency >"$out" 2>&1
rc=$?
tap_ok "after --clear: haadm emergency on h3 exits 0 (got $rc)" test "$rc" = 0
for o in h1 h2; do
    tap_ok "after --clear: $o sees h3 ALIVE" wait_state "$o" h3 ALIVE 5
done

tap_done
