#!/bin/bash
# vmhad on real Corosync: three hosts join with one master, a change made
# on one host shows on the others, the control socket refuses strangers,
# and a host whose network is cut fences itself while the other two report
# it gone within the failover budget.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 2

for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "$o sees $h ALIVE" wait_state "$o" "$h" ALIVE 10
    done
    tap_ok "$o names h1 the one master" test "$(master_of "$o")" = h1
done

tap_ok "haadm vm set on h2 is accepted" hs h2 vm set web-1 --priority restart --memory 2048 --config /etc/xen/web-1.cfg
for h in h1 h3; do
    tap_ok "$h lists web-1 with its settings" \
        wait_until 5 "hs $h vm list --json | python3 -c 'import json,sys; v=[x for x in json.load(sys.stdin)[\"vms\"] if x[\"name\"]==\"web-1\"]; sys.exit(0 if v and v[0][\"memory_mib\"]==2048 and v[0][\"priority\"]==\"restart\" else 1)'"
done
tap_status 1 "removing an unknown VM is refused" hs h1 vm remove nosuchvm
tap_status 2 "a malformed command is refused" hs h1 vm set 'bad name'
tap_status 2 "a stranger cannot use the control socket" \
    halab exec h1 setpriv --reuid=65534 --regid=65534 --clear-groups haadm status
tap_ok "and vmhad logs the refusal" log_has h1 "refused a control connection from uid 65534"

t0=$(ms_now)
halab net h3 down >/dev/null
tap_ok "h3 fences itself and powers off" wait_off h3 10
tap_ok "h3's own log says why" log_has h3 "fencing self: lost: no quorum, disk shows partition \{1,2\} beats \{3\}"
for o in h1 h2; do
    tap_ok "$o reports h3 FENCED" wait_state "$o" h3 FENCED 15
done
elapsed=$(ms_since "$t0")
budget=$((2000 + 2000 + 1000 + 1500))   # timeout + watchdog + margin + detection slack
tap_ok "h3 counted as fenced within the budget (${elapsed} ms <= ${budget} ms)" test "$elapsed" -le "$budget"
tap_ok "h3's slot ends FENCING" test "$(slot_field 3 state)" = FENCING
for o in h1 h2; do
    tap_ok "$o still SURVIVEs" test "$(verdict "$o")" = SURVIVE
done
tap_ok "h1 is still the master" test "$(master_of h2)" = h1

# A change made while h3 is away reaches it by state transfer when it joins.
tap_ok "a VM protected while h3 is down is accepted" hs h1 vm set db-1 --priority best-effort --memory 1024 --config /etc/xen/db-1.cfg
halab net h3 up >/dev/null
halab boot h3 >/dev/null
tap_ok "h3 boots and rejoins: ALIVE in h1's view" wait_state h1 h3 ALIVE 20
tap_ok "h3 learned both VMs from its peers" \
    wait_until 5 "hs h3 vm list --json | python3 -c 'import json,sys; n=sorted(v[\"name\"] for v in json.load(sys.stdin)[\"vms\"]); sys.exit(0 if n==[\"db-1\",\"web-1\"] else 1)'"
tap_ok "h3 reports its own fence after the reboot" log_has h3 "this host fenced itself at .*: lost: no quorum"

tap_done
