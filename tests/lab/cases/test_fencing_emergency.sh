#!/bin/bash
# haadm emergency at the console, for every cause the lab can produce: a
# healthy host says no; a host without a usable watchdog, with a heartbeat
# region of another cluster, without corosync or without vmhad (killed or
# frozen) says yes with the cause, exits 1, and answers within seconds even
# when vmhad is frozen; --json lists the causes; --clear ends what needs an
# administrator's word and refuses what does not.
. "$srcdir/tests/lab/cases/lib.sh"

# The host's console: its network, mount and UTS namespaces, but not its
# PID namespace, so that a command still answers when the host powers off
# under it (a frozen or killed vmhad leaves its watchdog armed: the host
# resets about 2 s later, as designed).
console() {   # host cmd...
    local h=$1 init
    shift
    read -r init _ <"$HALAB_DIR/$h/init.pid" || return 2
    PATH="$builddir/tools:$builddir/daemon:$PATH" nsenter -t "$init" -n -m -u -- "$@"
}

# Runs `haadm emergency ARGS` on HOST's console into $out; sets rc and ms.
emerg() {   # host args...
    local h=$1 t0
    shift
    t0=$(ms_now)
    console "$h" haadm emergency "$@" >"$out" 2>&1
    rc=$?
    ms=$(ms_since "$t0")
}

# The causes listed by haadm emergency --json in $out ("" when not JSON).
json_causes() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(str(d["emergency"]).lower(), " ".join(c["cause"] for c in d["causes"]))
' "$out" 2>/dev/null
}

# HOST's own vmhad has joined (SURVIVE, ALIVE) and h1 sees it ALIVE. h1's
# view alone is not enough: a Corosync member whose vmhad is still starting
# shows ALIVE there.
joined() {   # host seconds
    wait_until "$2" "[ \"\$(verdict $1)\" = SURVIVE ] && [ \"\$(host_state $1 $1)\" = ALIVE ] &&
                     [ \"\$(host_state h1 $1)\" = ALIVE ]"
}

lab_start 3 --timeout 2
out=$(mktemp)
trap 'rm -f "$out"; lab_cleanup' EXIT

for h in h1 h2 h3; do
    tap_ok "h1 sees $h ALIVE" wait_state h1 "$h" ALIVE 10
done

# (a) A healthy host.
emerg h1
tap_ok "healthy h1: haadm emergency exits 0 (got $rc)" test "$rc" = 0
tap_grep "^emergency mode: no$" "$out" "healthy h1: 'emergency mode: no'"
# (f) --json, healthy.
emerg h1 --json
tap_ok "healthy h1: --json exits 0 and says emergency false, no cause" test "$rc $(json_causes)" = "0 false "

# (b) No usable watchdog: vmhad restarts and finds /dev/watchdog0 to be a
# plain file. The lazy unmount lets the old vmhad close (and, with no
# protected VM, disarm) the real one as it stops.
halab exec h2 umount -l /dev/watchdog0
halab restart-daemon h2 >/dev/null
tap_ok "h2's vmhad reports emergency watchdog-unavailable" \
    wait_until 10 "[ \"\$(self_emergency h2)\" = 'true watchdog-unavailable' ]"
emerg h2
tap_ok "no watchdog on h2: haadm emergency exits 1 (got $rc)" test "$rc" = 1
tap_grep "^emergency mode: yes$" "$out" "no watchdog on h2: 'emergency mode: yes'"
tap_grep "^  watchdog-unavailable: " "$out" "no watchdog on h2: cause watchdog-unavailable with its detail"
tap_grep "Load a suitable driver" "$out" "no watchdog on h2: and the next step"
tap_ok "h2's haadm status shows h2 EMERGENCY" test "$(host_state h2 h2)" = EMERGENCY
tap_ok "and so do the other hosts' (h1 shows h2 EMERGENCY)" wait_state h1 h2 EMERGENCY 3
emerg h2 --json
tap_ok "no watchdog on h2: --json exits 1 and lists watchdog-unavailable" \
    test "$rc $(json_causes)" = "1 true watchdog-unavailable"
emerg h2 --clear
tap_ok "--clear on h2 is refused (exit $rc, want 1): a missing watchdog needs no word but a fix" test "$rc" = 1
tap_grep "cannot clear emergency mode: watchdog-unavailable remains" "$out" "and says what remains"
# h2 has no watchdog to reset it, so a frozen vmhad stays frozen: the
# answer must come from haadm's own deadline, inside the host.
halab exec h2 sh -c 'kill -STOP "$(cat /run/vmhad.lab.pid)"'
t0=$(ms_now)
halab exec h2 haadm emergency >"$out" 2>&1
rc=$?
ms=$(ms_since "$t0")
halab exec h2 sh -c 'kill -CONT "$(cat /run/vmhad.lab.pid)"'
tap_ok "vmhad frozen on h2 (no watchdog, no reset): haadm emergency exits 1 (got $rc)" test "$rc" = 1
tap_ok "vmhad frozen on h2: it answers within 3 s (${ms} ms)" test "$ms" -le 3000
tap_grep "^  vmhad-not-running: vmhad is not running or did not answer" "$out" "vmhad frozen on h2: cause vmhad-not-running"
tap_ok "h2's vmhad, thawed, answers again" wait_until 5 "[ \"\$(self_emergency h2)\" = 'true watchdog-unavailable' ]"

# (e) A heartbeat region of another cluster: this host joined another one.
halab exec h1 sh -c 'echo 00000000-0000-4000-8000-000000000001 >/var/lib/vmha/cluster-uuid'
emerg h1
tap_ok "other cluster on h1: haadm emergency exits 1, even before vmhad knows (got $rc)" test "$rc" = 1
tap_grep "^  heartbeat-region-of-another-cluster: the region is .*, this host joined 00000000-0000-4000-8000-000000000001" \
    "$out" "other cluster on h1: cause heartbeat-region-of-another-cluster with both UUIDs"
halab restart-daemon h1 >/dev/null
tap_ok "h1's vmhad, restarted, reports emergency heartbeat-region-of-another-cluster" \
    wait_until 10 "[ \"\$(self_emergency h1)\" = 'true heartbeat-region-of-another-cluster' ]"
tap_ok "h1's haadm status shows h1 EMERGENCY" test "$(host_state h1 h1)" = EMERGENCY
emerg h1 --json
tap_ok "other cluster on h1: --json lists it, needs_clear true" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["causes"]; sys.exit(0 if d["emergency"] and len(c)==1 and c[0]["cause"]=="heartbeat-region-of-another-cluster" and c[0]["needs_clear"] and c[0]["meaning"] else 1)' "$out"
emerg h1 --clear
tap_ok "haadm emergency --clear on h1 exits 0 (got $rc)" test "$rc" = 0
tap_grep "emergency mode cleared" "$out" "and says emergency mode cleared"
tap_ok "h1 leaves emergency mode (status ALIVE)" wait_state h1 h1 ALIVE 5
emerg h1
tap_ok "and haadm emergency on h1 exits 0 again (got $rc)" test "$rc" = 0

# (d) vmhad killed: haadm answers by itself. The host resets ~2 s later.
halab exec h3 sh -c 'kill -KILL "$(cat /run/vmhad.lab.pid)"'
emerg h3
tap_ok "vmhad killed on h3: haadm emergency exits 1 (got $rc)" test "$rc" = 1
tap_ok "vmhad killed on h3: it answers within 3 s (${ms} ms)" test "$ms" -le 3000
tap_grep "^  vmhad-not-running: " "$out" "vmhad killed on h3: cause vmhad-not-running"
tap_ok "h3, its watchdog armed and no longer fed, powers off" wait_off h3 10
tap_grep "expire" "$HALAB_DIR/h3/log/watchdog.log" "and the watchdog log shows the expiry"
boot_host h3
tap_ok "h3 boots and is ALIVE again (on h1, and its own vmhad SURVIVEs)" joined h3 20

# (d') vmhad frozen: the IPC probe must not hang the console.
halab exec h3 sh -c 'kill -STOP "$(cat /run/vmhad.lab.pid)"'
emerg h3
tap_ok "vmhad frozen on h3: haadm emergency exits 1 (got $rc)" test "$rc" = 1
tap_ok "vmhad frozen on h3: it answers within 3 s (${ms} ms)" test "$ms" -le 3000
tap_grep "^  vmhad-not-running: " "$out" "vmhad frozen on h3: cause vmhad-not-running"
tap_ok "h3 powers off (watchdog)" wait_off h3 10
boot_host h3
tap_ok "h3 boots and is ALIVE again (on h1, and its own vmhad SURVIVEs)" joined h3 20

# (c) Corosync killed: no membership, no quorum. vmhad counts itself alone
# and loses to {1,2} on the disk, so h3 fences itself.
halab exec h3 pkill -x corosync
emerg h3
tap_ok "corosync killed on h3: haadm emergency exits 1 (got $rc)" test "$rc" = 1
tap_ok "corosync killed on h3: it answers within 3 s (${ms} ms)" test "$ms" -le 3000
tap_grep "^  corosync-down: " "$out" "corosync killed on h3: cause corosync-down"
emerg_json_rc=0
console h3 haadm emergency --json >"$out" 2>/dev/null || emerg_json_rc=$?
tap_ok "corosync killed on h3: --json exits 1 (got $emerg_json_rc)" \
    test "$emerg_json_rc" = 1
tap_ok "corosync killed on h3: --json parses and lists corosync-down" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["emergency"] and "corosync-down" in [c["cause"] for c in d["causes"]] else 1)' "$out"
tap_ok "h3 fences itself and powers off" wait_off h3 10
tap_ok "h3's log: corosync lost, then fencing self" \
    eval 'log_has h3 "corosync is gone" && log_has h3 "fencing self: lost: no quorum, disk shows partition \{1,2\} beats \{3\}"'
for o in h1 h2; do
    tap_ok "$o reports h3 FENCED" wait_state "$o" h3 FENCED 15
done

tap_done
