#!/bin/bash
# A frozen control plane longer than the watchdog: `freeze h2 6` stops
# h2's vmhad and corosync for 6 s (its VMs would run on). Nothing feeds
# h2's watchdog, which powers h2 off after 2 s. The survivors see h2 leave
# the membership, its slot go silent, and after watchdog + margin report it
# FENCED (S2). h2 must never write its slot after that moment: it is off.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 2
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3
seq_before=$(slot_field 2 seq)

t0=$(ms_now)
halab freeze h2 6 >/dev/null
# Watch until h1 first reports h2 FENCED: when h2 went off, and h2's slot
# seq at that moment.
t_off='' t_fenced='' seq_at_fenced='' state_at_fenced=''
while [ "$(ms_since "$t0")" -lt 12000 ]; do
    [ -z "$t_off" ] && ! is_on h2 && t_off=$(ms_since "$t0")
    if [ "$(host_state h1 h2)" = FENCED ]; then
        t_fenced=$(ms_since "$t0")
        seq_at_fenced=$(slot_field 2 seq)
        state_at_fenced=$(slot_field 2 state)
        is_on h2 && on_at_fenced=yes || on_at_fenced=no
        break
    fi
    sleep 0.05
done
echo "# h2 off after ${t_off:-?} ms, h1 reports it FENCED after ${t_fenced:-?} ms (slot seq $seq_before before, ${seq_at_fenced:-?} then)"

tap_ok "h2's watchdog powers it off within watchdog + slack (${t_off:-never} ms <= 3000 ms)" \
    test -n "$t_off" -a "${t_off:-99999}" -le 3000
tap_ok "h2's watchdog log shows the expiry" eval "halab log h2 watchdog | grep -q 'expire timeout=2: power off'"
tap_ok "h2 did not fence itself: it was frozen" eval '! log_has h2 "fencing self"'
tap_ok "h2's last verdict before the freeze was SURVIVE" \
    eval "halab log h2 vmhad | grep -E 'verdict' | tail -1 | grep -q 'verdict SURVIVE'"
tap_ok "h1 reports h2 FENCED (after ${t_fenced:-never} ms)" test -n "$t_fenced"
tap_ok "h2 was already off when h1 first reported it FENCED" test "${on_at_fenced:-yes}" = no
tap_ok "FENCED came no sooner than watchdog + margin after the freeze" test "${t_fenced:-0}" -ge 3000
tap_ok "h3 reports h2 FENCED too" wait_state h3 h2 FENCED 3
sleep 3    # past the thaw at 6 s
tap_ok "h2 is still off after the thaw" eval '! is_on h2'
tap_ok "h2's slot never advanced after h1 declared it FENCED (seq $seq_at_fenced)" \
    test "$(slot_field 2 seq)" = "$seq_at_fenced"
tap_ok "h2's slot still says $state_at_fenced, not FENCING: it never ran again" \
    test "$(slot_field 2 state)" = ALIVE
for o in h1 h3; do
    tap_ok "$o still SURVIVEs, with h2 out of its membership" \
        eval "[ \"\$(verdict $o)\" = SURVIVE ] && [ \"\$(host_field $o h2 network)\" = false ] && [ \"\$(host_state $o h2)\" = FENCED ]"
done
tap_ok "h1 is still the master" eval '[ "$(master_of h1)" = h1 ] && [ "$(master_of h3)" = h1 ]'

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
