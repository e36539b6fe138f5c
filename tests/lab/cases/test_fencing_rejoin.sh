#!/bin/bash
# At the default timeout (5 s; Corosync token 1 s) hosts must join without
# fencing themselves: at a cold start of the pool, and when a crashed host
# boots into the running pool. The master must not poison-pill a host that
# is only JOINING (its slot advances before Corosync has merged it).
#
# These checks caught two races, now fixed: the master poison-pilled a host
# that was booting into the running pool before Corosync merged it, and at
# a cold start a host alone in its membership took the pool by the disk
# and then fenced itself on the tie.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 5

# Cold start: no host may have fenced itself.
tap_ok "cold start: no host fenced itself" \
    eval '! log_has h1 "fencing self" && ! log_has h2 "fencing self" && ! log_has h3 "fencing self"'
if ! powered h3; then
    echo "# h3 fenced itself at the cold start:"
    halab log h3 vmhad 2>/dev/null | grep -E "verdict|fencing self|joined" | sed 's/^/#   /'
    # Power it on again for the rest, its disk failing until corosync merged.
    halab disk h3 error >/dev/null
    boot_host h3
    halab wait h1 3 yes 20 >/dev/null 2>&1
    halab disk h3 ok >/dev/null
fi
for h in h1 h2 h3; do
    tap_ok "h1 sees $h ALIVE" wait_state h1 "$h" ALIVE 15
done

# Crashes, then boots into the running pool: up to 3 cycles (the race is
# not hit every time), stopping at the first failure.
for cycle in 1 2 3; do
    halab crash h3 >/dev/null
    tap_ok "cycle $cycle: h1 notices h3 is gone" wait_until 10 "[ \"\$(host_state h1 h3)\" != ALIVE ]"
    pills_before=$(halab log h1 vmhad | grep -c "poison pill to h3" || true)
    boot_host h3
    tap_ok "cycle $cycle: h3 rejoins (ALIVE on h1 and on itself)" \
        wait_until 20 '[ "$(host_state h1 h3)" = ALIVE ] && [ "$(host_state h3 h3)" = ALIVE ]'
    sleep 2
    # A host booting into the running pool is never poison-pilled.
    tap_ok "cycle $cycle: the master sent h3 no poison pill while it joined" \
        test "$(halab log h1 vmhad | grep -c "poison pill to h3" || true)" = "$pills_before"
    tap_ok "cycle $cycle: h3 is still powered on and ALIVE 2 s later" \
        eval 'powered h3 && [ "$(host_state h1 h3)" = ALIVE ]'
    if [ "$(halab log h1 vmhad | grep -c "poison pill to h3" || true)" != "$pills_before" ]; then
        echo "# h1: $(halab log h1 vmhad | grep "poison pill to h3" | tail -1)"
        echo "# h3: $(halab log h3 vmhad | grep -E "verdict WAIT: joining" | tail -1)"
        echo "# h3: $(halab log h3 vmhad | grep "fencing self" | tail -1)"
        break
    fi
done

tap_done
