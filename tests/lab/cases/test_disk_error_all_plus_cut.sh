#!/bin/bash
# The design's price: every host loses the LUN and then one host is cut
# off. Rule 4 needs a complete, freshly acknowledged membership, which no
# host has any more, and nobody can use the disk: every host fences, all
# within about the watchdog timeout plus detection. Once the LUN and the
# network are back and the hosts are powered on again, the pool re-forms:
# all ALIVE, one master, each host reporting its own fence.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 2
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3

RULE4='verdict SURVIVE: survive: disk lost, membership \{1,2,3\} complete and acknowledged by every host'
for h in h1 h2 h3; do halab disk "$h" error >/dev/null; done
for h in h1 h2 h3; do
    tap_ok "$h lives by rule 4 once the LUN fails" wait_until 5 "log_has $h '$RULE4'"
done

t0=$(ms_now)
halab net h3 down >/dev/null
# The pool's one timing value is 2 s: watchdog 2 s, Corosync detection
# about 1.8 s (the lab's token is 800 ms); slack for a busy machine.
budget=$((2000 + 1000 + 1500))
tap_ok "all three hosts power off" wait_until 10 '! is_on h1 && ! is_on h2 && ! is_on h3'
elapsed=$(ms_since "$t0")
tap_ok "the whole pool is off within watchdog + detection (${elapsed} ms <= ${budget} ms)" \
    test "$elapsed" -le "$budget"
# Without the disk and with an incomplete (or no longer acknowledged)
# membership a host loses by rule 4, or by rule 3 once it also has no quorum.
LOST='fencing self: lost: (disk lost, host [0-9]+ has (not|never) acknowledged this host|disk lost and membership \{[0-9,]+\} incomplete|no quorum and no disk)'
for h in h1 h2 h3; do
    tap_ok "$h fenced itself for lack of disk and complete membership (its log)" log_has "$h" "$LOST"
    tap_ok "$h never survived by rule 1 or 2 after the cut" \
        eval "! log_after $h '$RULE4' 'verdict SURVIVE: survive: (quorate|no quorum)'"
    tap_ok "$h's slot stayed ALIVE: the FENCING write could not reach the failing LUN" \
        test "$(slot_field "${h#h}" state)" = ALIVE
done
tap_ok "h3's own log names the missing acknowledgements or the lost quorum" \
    log_has h3 "fencing self: lost: (disk lost, host [12] has|no quorum and no disk)"

# Power the pool back on with a working LUN and network.
for h in h1 h2 h3; do halab disk "$h" ok >/dev/null; done
halab net h3 up >/dev/null
for h in h1 h2 h3; do
    tap_ok "$h boots" halab boot "$h"
done
for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "after the reboot $o sees $h ALIVE" wait_state "$o" "$h" ALIVE 20
    done
done
for h in h1 h2 h3; do
    tap_ok "$h SURVIVEs by rule 1 again" \
        eval "[ \"\$(verdict $h)\" = SURVIVE ] && status_json $h | grep -q 'quorate partition {1,2,3} reaches the disk'"
    tap_ok "$h reports its own earlier fence" log_has "$h" "this host fenced itself at .*: lost: "
    tap_ok "$h's slot advances" eval "s=\$(slot_field ${h#h} seq); wait_until 3 '[ \"\$(slot_field ${h#h} seq)\" -gt '\$s' ]'"
done
tap_ok "the pool has one master, h1, in every view" \
    eval '[ "$(master_of h1)" = h1 ] && [ "$(master_of h2)" = h1 ] && [ "$(master_of h3)" = h1 ]'

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
