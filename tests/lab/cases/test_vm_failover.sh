#!/bin/bash
# Protected sim VMs through host failures, judged on their virtual disks:
# two VMs protected in a three-host pool start on the master, h1, after
# their claims are confirmed; h1 crashes and both run again on one
# survivor, never before h1's watchdog would have fired, and within the
# failover budget; a VM killed outside vmha is restarted in place; the
# host that runs them freezes past its watchdog, which powers it off, and
# they run again on the last host; a stop request shuts one down for good.
# Every disk shows one writer at a time.
# A config that does not exist or does not parse is refused up front, and
# with HA disabled nothing starts.
. "$srcdir/tests/lab/cases/lib.sh"
. "$srcdir/tests/lab/cases/lib_vm.sh"

for p in tests/lab/vmha-simvm; do
    [ -x "$builddir/$p" ] || lab_skip_all "$p is not built"
done
lab_start 3 --timeout 2
WD=2000 MARGIN=1000 TIMEOUT=2000
# Detection (token + consensus), S2 (watchdog + margin after the last
# slot write), the claim's write and double collect, the VM's first record.
BUDGET=$((TIMEOUT + WD + MARGIN + 3000))
pool_formed_or_stop h1 h2 h3

# --- bad input: refused before the pool records it ---
out=$HALAB_DIR/set.out
hs h1 vm set vm-x --memory 64 --config "$HALAB_DIR/none.cfg" --priority restart >"$out" 2>&1
tap_ok "a config that does not exist is refused (exit $?)" test $? -ne 0
tap_grep "vm-x: --config: $HALAB_DIR/none.cfg: No such file" "$out" "and the reason names the file"
printf 'name = "vm-x"\nmemory = 64\ncolour = blue\ndisk = "/d"\n' >"$HALAB_DIR/bad.cfg"
hs h1 vm set vm-x --memory 64 --config "$HALAB_DIR/bad.cfg" >"$out" 2>&1
tap_grep "bad.cfg:3: unknown key 'colour'" "$out" "a config that does not parse is refused with its line"
tap_ok "neither reached the pool" bash -c "! '$HALAB' exec h2 haadm vm list | grep -q vm-x"
hs h1 vm start vm-nope >"$out" 2>&1
tap_grep "unknown VM 'vm-nope'" "$out" "vm start of an unknown VM is refused"

# --- protected VMs start on the master, once HA is enabled ---
vm_new vm-a 256 8001
vm_new vm-b 512 8002 --order 2
tap_ok "with HA disabled (a new pool's default), no VM starts" holds 3 "[ -z \"\$(vm_on vm-a)\$(vm_on vm-b)\" ]"
tap_ok "h1's log says why" log_has h1 "HA is disabled for the pool: no protected VM is started"
hs h1 enable >/dev/null
for v in vm-a vm-b; do
    tap_ok "$v runs on h1, the master, and nowhere else" wait_vm_on $v h1 15
done
tap_ok "h1's log: the claim was confirmed before the start" \
    log_after h1 "start vm-a: claim seq [0-9]+ is the newest" "vm-a runs here"
tap_ok "every host's HA state names h1 the owner" \
    bash -c "for h in h1 h2 h3; do '$HALAB' exec \$h haadm vm list | grep -E '^vm-a .* h1 ' >/dev/null || exit 1; done"
answer=$(halab exec h2 python3 -c 'import socket; print(socket.create_connection(("198.18.0.1", 8001), 2).makefile().readline().strip())')
tap_ok "vm-a answers on its port on h1 ($answer)" matches "$answer" '^[0-9]+ vm-a [0-9a-f]{16} h1$'

# --- h1 crashes: both run again on one survivor ---
T0=$(ms_now)
halab crash h1 >/dev/null
for v in vm-a vm-b; do
    tap_ok "$v runs again on h2 (the new master) within $BUDGET ms" wait_vm_on $v h2 $((BUDGET / 1000 + 1))
    echo "# $v: crash of h1 to running on h2: $(ms_since "$T0") ms (polled)"
    set -- $(vm_instances $v)
    gap=$(( ($(vm_first_ns $v "$2") - $(vm_last_ns $v "$1")) / 1000000 ))
    echo "# $v: its disk's gap between h1's last record and h2's first: $gap ms"
    tap_ok "$v restarted no sooner than h1's watchdog could fire ($gap ms >= $WD ms)" test "$gap" -ge "$WD"
    tap_ok "$v restarted within the budget ($gap ms <= $BUDGET ms)" test "$gap" -le "$BUDGET"
done
tap_ok "h2's log: takeover only once h1 counted fenced" \
    log_after h2 "takeover: vm [0-9]+ from host 1 fenced" "start vm-a: claim seq"
tap_ok "h3 started nothing" bash -c "! '$HALAB' log h3 vmhad | grep -q 'runs here'"
disklog_ok "after the crash, each disk shows one writer at a time"

# --- a VM killed outside vmha is restarted in place ---
before=$(vm_instances vm-a | wc -l)
vm_kill vm-a
tap_ok "vm-a killed on h2 runs again on h2" \
    wait_until 10 "[ \"\$(vm_instances vm-a | wc -l)\" -gt $before ] && [ \"\$(vm_on vm-a)\" = h2 ]"
tap_ok "h2's log: it saw the crash and restarted in place" \
    log_after h2 "vm-a ended here unasked .*it crashed: killed" "claim vm-a seq [0-9]+: restart: this host owns"

# --- the host that runs them freezes past its watchdog ---
n=$(wc -l <"$HALAB_DIR/vms/vm-b.disk")
halab freeze h2 8 >/dev/null
T0=$(ms_now)
tap_ok "the frozen h2's VMs write on while its control plane is frozen" \
    wait_until 2 "[ \$(wc -l <'$HALAB_DIR/vms/vm-b.disk') -ge $((n + 5)) ]"
tap_ok "h2's watchdog powers it off" wait_off h2 10
for v in vm-a vm-b; do
    tap_ok "$v runs again on h3 within $BUDGET ms of the power-off" wait_vm_on $v h3 $((BUDGET / 1000 + 2))
done
echo "# freeze of h2 to both running on h3: $(ms_since "$T0") ms (polled)"
disklog_ok "after the freeze, each disk still shows one writer at a time"
tap_ok "vm-b's disk: h1, then h2, then h3" \
    bash -c "'$srcdir/tests/lab/check-disklog' '$HALAB_DIR/vms/vm-b.disk' | grep -q 'h1 ([0-9a-f]*, [0-9]* records) -> h2 ([0-9a-f]*, [0-9]* records) -> h3'"

# --- a stop request: its host shuts it down, and nothing starts it again ---
# (a change needs a quorate pool: h1 comes back first)
boot_host h1
tap_ok "h1 boots and rejoins" wait_state h3 h1 ALIVE 20
hs h3 vm stop vm-b >"$out" 2>&1
tap_grep "vm-b: requested stopped" "$out" "vm stop vm-b is applied"
tap_ok "vm stop vm-b: it runs nowhere" wait_until 10 "[ -z \"\$(vm_on vm-b)\" ]"
tap_ok "h3's log: a clean stop" \
    wait_until 5 "log_after h3 'stop vm-b: its requested state is stopped' 'vm-b stopped here: stopped cleanly'"
n=$(wc -l <"$HALAB_DIR/vms/vm-b.disk")
tap_ok "nothing starts it again" holds 3 "[ -z \"\$(vm_on vm-b)\" ] && [ \$(wc -l <'$HALAB_DIR/vms/vm-b.disk') = $n ]"
tap_ok "vm-a runs on, on h3 alone" test "$(vm_on vm-a)" = h3
disklog_ok "at the end, each disk still shows one writer at a time"

keep_lab_logs
tap_done
