#!/bin/bash
# A host whose watchdog driver lacks magic close (and has no nowayout):
# every close stops its timer, so a SIGKILL of vmhad or a restart would
# disarm the host while its guests run on. h1 gets such a watchdog (`up
# --wd-no-magic-close h1`; h1 would otherwise be the master). Its vmhad
# must refuse the device and say why, go into emergency mode with cause
# watchdog-unavailable, publish no armed watchdog and never lead; it must
# never write the magic 'V' to it, and the device is never left to fire.
# h2 and h3, with ordinary watchdogs, arm them, survive and elect h2.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 2 --wd-no-magic-close h1
trap keep_lab_logs EXIT
WDLOG1=$HALAB_DIR/h1/log/watchdog.log
REASON='driver stops the timer on close \(no magic close\) and nowayout is not set: a crash of vmhad would disarm this host; load the driver with nowayout=1'

# The lab gave h1, and only h1, the driver without magic close.
tap_grep "magic_close=no" "$HALAB_DIR/h1/wd.state" "h1's fusewd runs without magic close"
for h in h2 h3; do
    tap_grep "magic_close=yes" "$HALAB_DIR/$h/wd.state" "$h's fusewd has magic close"
done

# h1 refuses its watchdog, with the device and the reason.
tap_ok "h1's vmhad refuses /dev/watchdog0 and gives the reason" \
    wait_until 10 "log_has h1 'watchdog /dev/watchdog0 .*refused: $REASON'"
tap_ok "h1's vmhad logs EMERGENCY MODE: watchdog-unavailable with that reason" \
    log_has h1 "EMERGENCY MODE: watchdog-unavailable: watchdog /dev/watchdog0 .*no magic close"
tap_ok "h1 reports itself in emergency mode, cause watchdog-unavailable" \
    wait_until 10 "[ \"\$(self_emergency h1)\" = 'true watchdog-unavailable' ]"
tap_ok "h1's haadm status shows h1 EMERGENCY" wait_state h1 h1 EMERGENCY 5
for o in h2 h3; do
    tap_ok "$o shows h1 EMERGENCY" wait_state "$o" h1 EMERGENCY 5
done
tap_ok "h1's vmhad never armed a watchdog" eval '! log_has h1 "armed with a"'
tap_ok "h1's slot publishes no armed watchdog (watchdog_timeout_ms 0)" \
    wait_until 5 "[ \"\$(slot_field 1 watchdog_timeout_ms)\" = 0 ]"

# The device was closed without 'V', and the close (this driver's only
# way) stopped the timer: it never fired.
tap_grep "release: no magic close in this driver" "$WDLOG1" "h1's watchdog log shows the refusing close stop the timer"
tap_ok "nothing ever wrote the magic 'V' to h1's watchdog" eval "! grep -q 'magic close character written' '$WDLOG1'"

# h2 and h3 are not affected: armed, fed, ALIVE everywhere, one master of
# theirs that all agree on.
for h in h2 h3; do
    tap_ok "$h's watchdog is armed with the pool's 2 s timeout" \
        wait_until 10 "grep -q 'state=armed timeout=2 ' '$HALAB_DIR/$h/wd.state'"
    tap_ok "$h is not in emergency mode" test "$(self_emergency $h)" = "false "
    tap_ok "$h's own verdict is SURVIVE" test "$(verdict $h)" = SURVIVE
    tap_ok "$h's slot publishes its armed watchdog (2000 ms)" \
        test "$(slot_field "${h#h}" watchdog_timeout_ms)" = 2000
    for o in h2 h3; do
        tap_ok "$o sees $h ALIVE" wait_state "$o" "$h" ALIVE 10
    done
done
tap_ok "h2 and h3 elect h2 master (h1 would lead if it were armed)" \
    wait_until 10 "[ \"\$(master_of h2)\" = h2 ] && [ \"\$(master_of h3)\" = h2 ]"

# For three watchdog timeouts: h1 stays powered (nothing armed to reset
# it), never master on any host, still in emergency mode; h2 and h3 keep
# h2 as master and their watchdogs fed.
k2=$(sed -n 's/.*keepalives=\([0-9]*\).*/\1/p' "$HALAB_DIR/h2/wd.state")
tap_ok "for 6 s: h1 powered, in emergency mode, nobody's master; h2 master on h2 and h3" \
    holds 6 "is_on h1 && [ \"\$(self_emergency h1)\" = 'true watchdog-unavailable' ] &&
             [ \"\$(master_of h1)\" != h1 ] && [ \"\$(master_of h2)\" = h2 ] && [ \"\$(master_of h3)\" = h2 ]"
tap_ok "h1's watchdog never fired" eval "! grep -q ' expire ' '$WDLOG1'"
tap_ok "h1's vmhad still never armed a watchdog" eval '! log_has h1 "armed with a"'
tap_ok "h1's slot still publishes no armed watchdog" test "$(slot_field 1 watchdog_timeout_ms)" = 0
tap_ok "h2's watchdog was fed meanwhile (keepalives $k2 -> more)" \
    test "$(sed -n 's/.*keepalives=\([0-9]*\).*/\1/p' "$HALAB_DIR/h2/wd.state")" -gt "${k2:-0}"
for h in h2 h3; do
    tap_ok "$h still powered and not in emergency mode" eval "is_on $h && [ \"\$(self_emergency $h)\" = 'false ' ]"
done
diag h1 h2 h3

tap_done
