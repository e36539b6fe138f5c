#!/bin/bash
# The lab itself, before any vmhad runs in it: three hosts come up quorate;
# a cut link, a partition, a crash and a boot move Corosync's membership as
# expected; a partition decides who reaches the tiebreak target, and
# nothing outside the lab is reachable; a crash leaves no process behind;
# a hung disk hangs one host's reads only; the emulated watchdog powers a
# host off when it is not fed and not when it is closed with 'V'; a sim VM
# runs in its host, reachable on its port, writes on through a freeze of
# the control plane, which is let go later, and dies with its host, and
# `halab vm check` tells one writer at a time from two; `halab down` leaves nothing
# behind, twice.
#
# Needs root, corosync, and tests/lab/{fusedisk,fusewd,wdclient,vmha-simvm} built.
# Runs in its own lab directory, so it never meets another lab.
set -u

srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
# shellcheck disable=SC1091
. "$srcdir/tests/lib/tap.sh"

HALAB=$srcdir/tests/lab/halab
WDCLIENT=$builddir/tests/lab/wdclient
SIMVM=$builddir/tests/lab/vmha-simvm

skip_all() {
    echo "ok 1 - # SKIP $*"
    echo "1..1"
    exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v corosync >/dev/null || skip_all "corosync is not installed"
for p in tests/lab/fusedisk tests/lab/fusewd tests/lab/wdclient tests/lab/vmha-simvm; do
    [ -x "$builddir/$p" ] || skip_all "$p is not built"
done

HALAB_DIR=$(mktemp -d /var/tmp/halab-test.XXXXXX)
export HALAB_DIR HALAB_BUILDDIR=$builddir HALAB_VMHAD=0
cleanup() {
    "$HALAB" down --purge >/dev/null 2>&1 || true
    rm -rf "$HALAB_DIR"
}
trap cleanup EXIT

halab() { "$HALAB" "$@"; }

# members HOST "N yes|no" [SECONDS]: HOST's corosync gets there in time.
members() { halab wait "$1" ${2% *} ${2#* } "${3:-10}"; }

all_members() {   # "N yes|no" hosts...
    local want=$1 h
    shift
    for h in "$@"; do members "$h" "$want" || return 1; done
}

no_process_left() {   # host
    local left
    left=$(halab pids "$1")
    [ -z "$left" ] || { echo "left in $1: $left"; return 1; }
}

state_of() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

# The global pid of a host's corosync.
corosync_pid() {
    local p
    for p in $(halab pids "$1"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = corosync ] && { echo "$p"; return 0; }
    done
    return 1
}

# Reads the LUN inside HOST: one direct 4 KiB read under a 2 s timeout.
lun_read() {
    halab exec "$1" timeout 2 dd if=/dev/vmha-lun of=/dev/null iflag=direct bs=4096 count=1 status=none
}

# ICMP echo from inside HOST (there is no ping on the machine).
reach() {   # host address
    halab exec "$1" python3 -c '
import os, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
h = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xffff, 1)
try:
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(h), os.getpid() & 0xffff, 1), (sys.argv[1], 0))
    s.recvfrom(64)
except (socket.timeout, OSError):
    sys.exit(1)' "$2"
}
unreachable() { ! reach "$@"; }

status_json_field() {   # python expression on the status JSON
    halab status --json | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

# --- up ---------------------------------------------------------------------
tap_ok "up: 3 hosts with timeout 2 s and a tiebreak target come up" halab up 3 --timeout 2 --tiebreak
LAB_ID=$(status_json_field 'd["lab"]')
for h in h1 h2 h3; do
    tap_ok "up: $h is quorate with 3 members" members $h "3 yes" 2
done
tap_ok "up: status --json reports 3 powered, quorate hosts" \
    test "$(status_json_field 'sum(h["powered"] and h["quorate"] and h["members"] == 3 for h in d["hosts"])')" = 3

# --- network cut ------------------------------------------------------------
halab net h3 down >/dev/null
tap_ok "net: with h3 cut, h1 sees 2 members, quorate" members h1 "2 yes"
tap_ok "net: with h3 cut, h2 sees 2 members, quorate" members h2 "2 yes"
tap_ok "net: with h3 cut, h3 is alone and not quorate" members h3 "1 no"
halab net h3 up >/dev/null
tap_ok "net: healed, all see 3 members again" all_members "3 yes" h1 h2 h3

# --- partition --------------------------------------------------------------
halab partition h1 h2,h3 >/dev/null
tap_ok "partition h1 | h2,h3: h1 alone, not quorate" members h1 "1 no"
tap_ok "partition h1 | h2,h3: h2 sees 2, quorate" members h2 "2 yes"
tap_ok "partition h1 | h2,h3: h3 sees 2, quorate" members h3 "2 yes"
tap_ok "partition h1 | h2,h3: the tiebreak target (not named) is out of reach" \
    unreachable h2 198.18.0.254
halab partition h1,gw h2,h3 >/dev/null
tap_ok "partition h1,gw | h2,h3: h1 reaches the tiebreak target" reach h1 198.18.0.254
tap_ok "partition h1,gw | h2,h3: h2 does not" unreachable h2 198.18.0.254
tap_ok "nothing outside the lab is reachable" unreachable h1 192.0.2.1
halab partition h1,h2,h3,gw >/dev/null
tap_ok "partition with one group heals: 3 members everywhere" all_members "3 yes" h1 h2 h3
tap_ok "healed: h3 reaches the tiebreak target" reach h3 198.18.0.254

# --- crash and boot ---------------------------------------------------------
h2_pids=$(halab pids h2 | tr '\n' ' ')
halab crash h2 >/dev/null
tap_ok "crash: no process left in h2's PID namespace" no_process_left h2
gone=0
for p in $h2_pids; do [ -d "/proc/$p" ] && gone=1; done
tap_ok "crash: every process h2 had ($h2_pids) is gone" test $gone = 0
tap_ok "crash: h1 and h3 see 2 members, quorate" all_members "2 yes" h1 h3
halab boot h2 >/dev/null
tap_ok "boot: h2 rejoins, 3 members everywhere" all_members "3 yes" h2 h1 h3

# --- disk hang --------------------------------------------------------------
halab disk h1 hang >/dev/null
( lun_read h1; echo $? >"$HALAB_DIR/h1-read.rc" ) &
bg_read=$!
sleep 2.6
h1_done=$(cat "$HALAB_DIR/h1-read.rc" 2>/dev/null || echo running)
# Done with 124 (timed out) or still blocked: fusedisk does not honour FUSE
# interrupts, so the timed-out dd stays blocked until the disk heals.
tap_ok "disk hang: h1's read does not complete within its 2 s timeout (got: $h1_done)" \
    test "$h1_done" = running -o "$h1_done" = 124
tap_ok "disk hang: h2's read still works" lun_read h2
halab disk h1 ok >/dev/null
wait $bg_read
tap_ok "disk hang: h1's read ended as timed out (124)" test "$(cat "$HALAB_DIR/h1-read.rc")" = 124
tap_ok "disk healed: h1's read works again" lun_read h1

# --- watchdog ---------------------------------------------------------------
wdlog=$HALAB_DIR/h1/log/watchdog.log
t0=$(date +%s.%N)
halab exec h1 "$WDCLIENT" --timeout 2 --feeds 2 --wait 30 >"$HALAB_DIR/wdclient-h1.out" 2>&1
t1=$(date +%s.%N)
# wdclient's last feed is 1 s after its start; the watchdog fires 2 s later.
off_after=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
tap_ok "watchdog: unfed h1 is powered off ~2 s after its last feed (wdclient ran $off_after s)" \
    awk -v d="$off_after" 'BEGIN { exit !(d >= 2.5 && d <= 5.0) }'
tap_ok "watchdog: nothing of h1 is left" no_process_left h1
tap_grep "expire timeout=2: power off, SIGKILL to host init pid [0-9]+: sent" "$wdlog" \
    "watchdog: the log records the expiry and the power-off"
gap=$(awk '/keepalive via=write/ { k = $2 } / expire / { e = $2 } END {
    sub("mono=", "", k); sub("mono=", "", e); printf "%.3f", e - k }' "$wdlog")
tap_ok "watchdog: expiry came $gap s after the last keepalive (2 s timeout)" \
    awk -v g="$gap" 'BEGIN { exit !(g >= 1.95 && g <= 2.5) }'
tap_ok "watchdog: the log has the arm, the new timeout and both kinds of keepalive" \
    bash -c "grep -q 'arm timeout=60 (open)' '$wdlog' && grep -q 'settimeout 2' '$wdlog' &&
             grep -q 'keepalive via=ioctl' '$wdlog' && grep -q 'keepalive via=write' '$wdlog'"
tap_ok "watchdog: h2 and h3 see h1 gone" all_members "2 yes" h2 h3
tap_ok "watchdog: magic close on h3 exits cleanly" \
    halab exec h3 "$WDCLIENT" --timeout 2 --feeds 2 --magic
sleep 3
tap_ok "watchdog: after a magic close h3 stays powered on" test "$(halab members h3)" = "2 yes"
tap_grep "disarm \(magic close\)" "$HALAB_DIR/h3/log/watchdog.log" "watchdog: h3's log shows the disarm"
tap_ok "watchdog: status shows h3's watchdog disarmed, h1's fired" \
    test "$(status_json_field '[h["watchdog"] for h in d["hosts"]]')" = "['fired', 'disarmed', 'disarmed']"
halab boot h1 >/dev/null
tap_ok "boot after the watchdog: h1 rejoins" all_members "3 yes" h1 h2 h3

# --- a sim VM ---------------------------------------------------------------
# Started by hand here (vmhad's sim driver starts them in the cases with
# vmhad): it lives in its host's PID namespace and its network.
cfg=$(halab vm create vm-a --memory 64 --port 8001)
tap_ok "vm create: prints the config's path on the lab's shared storage ($cfg)" \
    test "$cfg" = "$HALAB_DIR/vms/vm-a.cfg" -a -f "$HALAB_DIR/vms/vm-a.disk"
tap_status 1 "vm create: a second vm-a is refused" halab vm create vm-a --memory 64
tap_status 1 "vm create: a port already taken is refused" halab vm create vm-b --memory 64 --port 8001
tap_status 1 "vm create: a bad name is refused" halab vm create -x --memory 64
start_vm() {   # host: vmha-simvm in the background, in HOST
    halab exec "$1" "$SIMVM" --name vm-a --host "$1" --interval-ms 20 "$cfg" 2>>"$HALAB_DIR/vm-a.$1.err" &
}
records() { wc -l <"$HALAB_DIR/vms/vm-a.disk"; }
vm_on() { halab vm list --json | python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)[0]["hosts"]))'; }
wait_records() {   # more than N records within 5 s
    local n=$1
    for _ in $(seq 50); do [ "$(records)" -gt "$n" ] && return 0; sleep 0.1; done
    return 1
}
start_vm h3
tap_ok "vm: vm-a writes its disk on h3" wait_records 5
tap_ok "vm list: vm-a runs on h3 (got: $(vm_on))" test "$(vm_on)" = h3
answer=$(halab exec h1 python3 -c 'import socket; print(socket.create_connection(("198.18.0.3", 8001), 2).makefile().readline().strip())')
tap_ok "vm: h1 reaches vm-a's port on h3 ($answer)" bash -c "[[ '$answer' =~ ^[0-9]+\ vm-a\ [0-9a-f]{16}\ h3$ ]]"

# --- freeze -----------------------------------------------------------------
cpid=$(corosync_pid h3)
halab freeze h3 3 >/dev/null
tap_ok "freeze: h3's corosync is stopped (state T)" test "$(state_of "$cpid")" = T
before=$(records)
tap_ok "freeze: h1 sees h3 leave while it is frozen" members h1 "2 yes" 3
tap_ok "freeze: vm-a on frozen h3 writes on, as a guest would" wait_records "$((before + 10))"
sleep 2.5
st=$(state_of "$cpid")
tap_ok "freeze: after 3 s h3's corosync runs again (state $st)" test "$st" = S -o "$st" = R
tap_ok "freeze: h3 rejoins, 3 members everywhere" all_members "3 yes" h3 h1 h2

# --- a sim VM dies with its host, and the disks tell the truth ----------------
halab crash h3 >/dev/null
n=$(records)
sleep 0.3
tap_ok "crash: vm-a died with h3 (no record since, runs nowhere)" test "$(records)" = "$n" -a -z "$(vm_on)"
start_vm h2
tap_ok "vm: vm-a writes again, on h2" wait_records "$n"
tap_ok "vm check: one writer at a time (h3, then h2)" halab vm check
start_vm h1
wait_records "$(($(records) + 5))"
tap_status 1 "vm check: vm-a started on h1 while it runs on h2 is caught (S1)" halab vm check
halab vm check 2>&1 | grep -q '^S1 VIOLATION: .*vm-a.disk' &&
    _tap_result 0 "vm check: and it names the disk and the record" ||
    _tap_result 1 "vm check: and it names the disk and the record"
for h in h1 h2; do
    for p in $(halab pids $h); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = vmha-simvm ] && kill -TERM "$p"
    done
done
for _ in $(seq 30); do [ -z "$(vm_on)" ] && break; sleep 0.1; done
tap_ok "vm: stopped everywhere" test -z "$(vm_on)"
halab boot h3 >/dev/null
tap_ok "boot: h3 rejoins" all_members "3 yes" h3 h1 h2

# --- down -------------------------------------------------------------------
all_pids=$(for h in h1 h2 h3; do halab pids $h; done | tr '\n' ' ')
tap_ok "down: succeeds" halab down
tap_ok "down: no network namespace of the lab is left" \
    bash -c "! ip netns list | grep -q 'halab-$LAB_ID-'"
tap_ok "down: no FUSE mount of the lab is left" bash -c "! grep -q ' $HALAB_DIR/' /proc/mounts"
left=""
for p in $all_pids; do [ -d "/proc/$p" ] && left="$left $p"; done
tap_ok "down: no host process is left ($left)" test -z "$left"
# Every process the lab recorded (FUSE programs, inits, timers), by pid and
# start time, so a recycled pid does not count.
recorded_alive() {
    local kind desc pid st
    while read -r kind desc pid st; do
        [ "$kind" = proc ] || continue
        [ "$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat" 2>/dev/null)" = "$st" ] &&
            echo "still alive: $desc $pid"
    done <"$HALAB_DIR/created.last"
    return 0
}
tap_ok "down: the lab recorded what it started" test -s "$HALAB_DIR/created.last"
tap_ok "down: no process the lab started is left (fusedisk, fusewd, inits)" \
    test -z "$(recorded_alive)"
tap_ok "down: a second down is fine" halab down

tap_done
