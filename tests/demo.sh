#!/bin/bash
# The vmha demo (./quickstart.sh demo, as root; about a minute):
#   0. the heartbeat region's checksums, on a scratch file (a few seconds);
#   1. a three-host pool in the lab (real corosync and vmhad per host, a
#      shared LUN, an emulated watchdog each) comes up: haadm status;
#   2. six sim VMs, five protected, start on the master once claimed;
#   3. the host that runs them crashes: they run again on a survivor, with
#      times, and check-disklog shows one writer at a time on every disk;
#   4. one host's network is cut: it fences itself, the survivors agree;
#      a timeline of what each host saw and decided, with elapsed times;
#   5. the host is powered on again and rejoins by itself;
#   6. the lab is taken down; nothing is left behind.
# Programs come from the in-tree build ($VMHA_BUILDDIR to use another).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${VMHA_BUILDDIR:-$top}" && pwd)
haadm="$build/tools/haadm"
halab="$top/tests/lab/halab"
export HALAB_BUILDDIR=$build

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
note() { printf '   %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "demo: needs root (network, PID and mount namespaces, FUSE)" >&2
    exit 1
fi
for p in corosync ip unshare nsenter fusermount3 python3; do
    command -v "$p" >/dev/null || { echo "demo: $p is not installed" >&2; exit 1; }
done
if [ ! -x "$build/daemon/vmhad" ] || [ ! -x "$haadm" ]; then
    echo "demo: build first (make in $build)" >&2
    exit 1
fi
if [ ! -x "$build/tests/lab/fusedisk" ] || [ ! -x "$build/tests/lab/fusewd" ] || [ ! -x "$build/tests/lab/wdclient" ] ||
    [ ! -x "$build/tests/lab/vmha-simvm" ]; then
    echo "==> building the lab's programs"
    make -C "$build" -s tests/lab/fusedisk tests/lab/fusewd tests/lab/wdclient tests/lab/vmha-simvm
fi

work=$(mktemp -d /var/tmp/vmha-demo.XXXXXX)
HALAB_DIR=$work/lab
export HALAB_DIR
watchers=()
cleanup() {
    local p
    for p in "${watchers[@]}"; do kill "$p" 2>/dev/null || true; done
    "$halab" down --purge >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

halab() { "$halab" "$@"; }
hs() { local h=$1; shift; halab exec "$h" haadm "$@"; }
start_ns=${EPOCHREALTIME/./}

# ---------------------------------------------------------------------------
step "0. The heartbeat region on a scratch file: every structure is checksummed"
lun=$work/lun.img
truncate -s 16M "$lun"
run "$haadm" disk init "$lun" --cluster demo-pool --slots 8 --timeout 2
note "(corrupting one byte of host 3's slot, as a bad sector would)"
printf 'x' | dd of="$lun" bs=1 seek=$((3 * 4096 + 517)) conv=notrunc status=none
printf '$ haadm disk dump %s --json   (summary)\n' "$lun"
"$haadm" disk dump "$lun" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = [s for s in d["slots"] if not s["valid"]]
print("   cluster %s: %d slots, %d corrupt structure(s)" % (d["superblock"]["cluster"], len(d["slots"]), d["errors"]))
for s in bad:
    print("   %s; the other slots still read" % s["error"])
' || true
rm -f "$lun"

# ---------------------------------------------------------------------------
step "1. A pool of three hosts: real corosync and vmhad on each, one shared LUN"
note "Each host is a set of namespaces with its own corosync, vmhad, watchdog"
note "(it powers the host off when vmhad stops feeding it) and view of the LUN."
printf '$ halab up 3 --timeout 2\n'
halab up 3 --timeout 2 | sed 's/^/   /'
# vmhad needs its first disk rounds and the membership to join.
all_joined() {
    hs "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["self"]["verdict"] == "SURVIVE" and all(h["state"] == "ALIVE" for h in d["hosts"]) else 1)
' 2>/dev/null
}
pool_joined() {
    local _
    for _ in $(seq 150); do
        all_joined h1 && all_joined h2 && all_joined h3 && return 0
        sleep 0.1
    done
    return 1
}
if ! pool_joined; then
    # A host that fenced itself while the pool was forming: power it on.
    for h in h1 h2 h3; do
        if [ -z "$(halab pids "$h" 2>/dev/null)" ]; then
            note "($h fenced itself while the pool formed; booting it again)"
            halab boot "$h" >/dev/null
        fi
    done
    pool_joined || note "(the pool has not fully formed; going on)"
fi
echo '$ haadm status        (on h1)'
hs h1 status | sed 's/^/   /'

# ---------------------------------------------------------------------------
step "2. Six sim VMs, five of them protected: each starts only after its claim"
note "A sim VM is a process (vmha-simvm) that appends numbered records to its"
note "virtual disk on the lab's shared storage, so two copies running at once"
note "would show on the disk. The master claims each VM on the heartbeat disk,"
note "re-reads every claim, and only then starts it."
vm_on() {   # name: the hosts whose processes run it
    halab vm list --json | python3 -c '
import json, sys
print(" ".join(next(v["hosts"] for v in json.load(sys.stdin) if v["name"] == sys.argv[1])))' "$1"
}
vms="web db app cache batch"
echo '$ haadm enable'
hs h1 enable | sed 's/^/   /'
for spec in "web 512 8001 restart 1" "db 1024 8002 restart 0" "app 512 8003 restart 1" \
    "cache 256 8004 best-effort 2" "batch 256 8005 best-effort 3" "scratch 128 8006 none 0"; do
    # shellcheck disable=SC2086
    set -- $spec
    cfg=$(halab vm create "$1" --memory "$2" --port "$3")
    printf '$ haadm vm set %s --memory %s --config %s --priority %s --order %s\n' "$1" "$2" "$cfg" "$4" "$5"
    hs h1 vm set "$1" --memory "$2" --config "$cfg" --priority "$4" --order "$5" | sed 's/^/   /'
done
for v in $vms; do
    printf '$ haadm vm start %s\n' "$v"
    hs h1 vm start "$v" | sed 's/^/   /'
done
for _ in $(seq 150); do
    up=0
    for v in $vms; do [ -n "$(vm_on "$v")" ] && up=$((up + 1)); done
    [ "$up" = 5 ] && break
    sleep 0.1
done
echo '$ haadm vm list       (on h2: the replicated state)'
hs h2 vm list | sed 's/^/   /'
echo '$ halab vm list       (the processes: where each VM really runs)'
halab vm list | sed 's/^/   /'
note "scratch has priority none: vmha protects it not, and leaves it alone."

# ---------------------------------------------------------------------------
step "3. Crash h1, the host that runs them: they run again on a survivor, once"
note "Power off, no last word. The survivors wait until h1 is certainly"
note "fenced (its watchdog timeout plus a margin after its last heartbeat),"
note "then the new master claims each VM on the disk and starts it."
printf '$ halab crash h1\n'
# The VMs' records carry CLOCK_MONOTONIC, which every lab host shares.
tc=$(python3 -c 'import time; print(time.monotonic_ns())')
halab crash h1 >/dev/null
instances() { awk '{ print $1 }' "$HALAB_DIR/vms/$1.disk" | uniq | wc -l; }
for _ in $(seq 200); do
    up=0
    for v in $vms; do [ "$(instances "$v")" -ge 2 ] && up=$((up + 1)); done
    [ "$up" = 5 ] && break
    sleep 0.1
done
for v in $vms; do
    awk -v tc="$tc" -v v="$v" -v on="$(vm_on "$v")" 'NR == 1 { first = $1 } $1 != first && !done {
        printf "   %+6.2f s  %-6s runs again on %s (its first record there)\n", ($3 - tc) / 1e9, v, on; done = 1 }' \
        "$HALAB_DIR/vms/$v.disk"
done | sort -n
echo '$ halab vm check      (check-disklog: every disk, record by record)'
halab vm check | sed "s|$HALAB_DIR/vms/||; s/^/   /" || true
note "Each disk shows h1's instance, then h2's: never two writers at once."
note "The gap on each disk is the VM's downtime (timeout 2 s: detection,"
note "then h1's watchdog and the margin, then the claim and the start)."
printf '$ halab boot h1\n'
halab boot h1 >/dev/null 2>&1 || { sleep 2; halab boot h1 >/dev/null; }
pool_joined || note "(h1 has not fully rejoined yet; going on)"

# ---------------------------------------------------------------------------
step "4. Cut h3's network: it must fence itself, and h1 and h2 must agree"
note "Budget: timeout 2 s + watchdog 2 s + margin 1 s, measured from the"
note "moment the survivors lose sight of h3 (corosync detection ~1 s)."
events=$work/events
: >"$events"
# Every new line of each host's vmhad log, stamped on arrival.
stamp() {   # host
    local line
    while IFS= read -r line; do
        case $line in
        *membership* | *verdict* | *"fencing self"*)
            printf '%s %s %s\n' "${EPOCHREALTIME/./}" "$1" "${line#* [0-9][0-9]:[0-9][0-9]:[0-9][0-9] }" ;;
        esac
    done >>"$events"
}
for h in h1 h2 h3; do
    tail -n0 -F "$HALAB_DIR/$h/log/vmhad.log" 2>/dev/null > >(stamp "$h") &
    watchers+=($!)
done
state_of() {   # observer host
    hs "$1" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    print([h["state"] for h in json.load(sys.stdin)["hosts"] if h["name"] == sys.argv[1]][0])
except Exception:
    pass
' "$2"
}
# Pollers: what each survivor's haadm status says of h3, and h3's power.
watch_state() {   # observer
    local last=ALIVE s
    for _ in $(seq 300); do
        s=$(state_of "$1" h3)
        if [ -n "$s" ] && [ "$s" != "$last" ]; then
            echo "${EPOCHREALTIME/./} $1 haadm status: h3 $s" >>"$events"
            last=$s
        fi
        [ "$s" = FENCED ] && return 0
        sleep 0.05
    done
}
watch_power() {
    for _ in $(seq 400); do
        if [ -z "$(halab pids h3 2>/dev/null)" ]; then
            echo "${EPOCHREALTIME/./} h3 POWERED OFF (no process left in the host)" >>"$events"
            return 0
        fi
        sleep 0.05
    done
}
sleep 0.5
t0=${EPOCHREALTIME/./}
printf '$ halab net h3 down\n'
halab net h3 down >/dev/null
echo "$t0 lab h3's link cut" >>"$events"
watch_state h1 &
p1=$!
watch_state h2 &
p2=$!
watch_power &
p3=$!
wait "$p1" "$p2" "$p3" || true
sleep 0.3
echo
echo "   timeline (seconds after the cut; vmhad log lines as they arrived):"
sort -n "$events" | awk -v t0="$t0" '{
    t = ($1 - t0) / 1e6; who = $2; $1 = ""; $2 = ""; sub(/^  /, "")
    printf "   %+6.2f s  %-4s %s\n", t, who, $0 }'
fenced_at() { awk -v o="$1" -v t0="$t0" '$2 == o && /h3 FENCED/ { printf "%.2f", ($1 - t0) / 1e6; exit }' "$events"; }
f1=$(fenced_at h1)
f2=$(fenced_at h2)
echo
if [ -n "$f1" ] && [ -n "$f2" ]; then
    note "h1 and h2 both count h3 as fenced ${f1} s and ${f2} s after the cut (budget:"
    note "timeout + watchdog + margin = 5 s): h3 left their membership and wrote"
    note "FENCING, then they waited out its watchdog plus the margin (invariant S2)."
    note "From here on its protected VMs may start elsewhere, never twice."
else
    note "h3 was not reported FENCED by both survivors (h1: ${f1:-no}, h2: ${f2:-no})"
fi
echo '$ haadm status        (on h1)'
hs h1 status | sed 's/^/   /'

# ---------------------------------------------------------------------------
step "5. Heal the network and power h3 on: it rejoins by itself"
printf '$ halab net h3 up; halab boot h3\n'
halab net h3 up >/dev/null
tb=${EPOCHREALTIME/./}
# (tried again if the lab could not yet reap h3's previous incarnation)
halab boot h3 >/dev/null 2>&1 || { sleep 2; halab boot h3 >/dev/null; }
for _ in $(seq 200); do
    [ "$(state_of h1 h3)" = ALIVE ] && [ "$(state_of h3 h3)" = ALIVE ] && break
    sleep 0.1
done
note "h3 ALIVE again on h1 and on itself $(awk -v a="$tb" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f", (b - a) / 1e6 }') s after power-on"
echo '$ haadm status        (on h1)'
hs h1 status | sed 's/^/   /'
echo '$ haadm emergency     (on h3: one fence is not a loop; it is reported)'
hs h3 emergency | sed 's/^/   /' || true

# ---------------------------------------------------------------------------
step "6. Take the lab down"
for p in "${watchers[@]}"; do kill "$p" 2>/dev/null || true; done
watchers=()
printf '$ halab down --purge\n'
halab down --purge | sed 's/^/   /'
printf '\nDemo done in %s s; nothing is left behind.\n' \
    "$(awk -v a="$start_ns" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')"
