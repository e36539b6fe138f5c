#!/bin/bash
# vmha-simvm and check-disklog without a lab: a sim VM refuses a bad
# config, a missing disk and a wrong name; it appends its records, answers
# on its port, stops cleanly on SIGTERM and on a shutdown from inside, and
# crashes when its disk fails. check-disklog passes one writer after
# another, catches two at once (S1), and refuses a disk that is not one.
# Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
simvm=$builddir/tests/lab/vmha-simvm
check=$srcdir/tests/lab/check-disklog
work=$(mktemp -d /var/tmp/vmha-test-simvm.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
cd "$work"

# A port nobody listens on (the kernel picks one, we take it back).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
disk=$work/vm-a.disk
: >"$disk"
cat >vm-a.cfg <<EOF
# a sim VM
name = "vm-a"
memory = 256
disk = [ '$disk' ]
port = $port
EOF

# --- bad input: a clear error, exit 2 (or 1 for the disk), nothing written
printf 'name = "vm-a"\nmemory = 256\nvcpus = 2\ndisk = "%s"\n' "$disk" >bad.cfg
tap_status 2 "a config with an unknown key is refused" "$simvm" --name vm-a --host h1 bad.cfg
"$simvm" --name vm-a --host h1 bad.cfg 2>err || true
tap_grep "bad.cfg:3: unknown key 'vcpus'" err "the refusal names the file, the line and the key"
tap_status 2 "a config of another VM is refused" "$simvm" --name vm-b --host h1 vm-a.cfg
tap_status 2 "a config that does not exist is refused" "$simvm" --name vm-a --host h1 "$work/none.cfg"
tap_status 2 "a bad host name is refused" "$simvm" --name vm-a --host -h1 vm-a.cfg
sed "s|$disk|$work/missing.disk|" vm-a.cfg >nodisk.cfg
"$simvm" --name vm-a --host h1 nodisk.cfg 2>err
tap_ok "a VM whose virtual disk is missing does not start (exit 1)" test $? -eq 1
tap_grep "virtual disk $work/missing.disk: No such file" err "and says which disk is missing"
tap_ok "no refusal wrote a record" test ! -s "$disk"

# --- a run: records, its port, a clean stop
"$simvm" --name vm-a --host h1 --interval-ms 20 vm-a.cfg 2>run1.err &
pid=$!
pids+=("$pid")
for _ in $(seq 50); do [ "$(wc -l <"$disk")" -ge 10 ] && break; sleep 0.1; done
tap_ok "the VM appends records to its disk" test "$(wc -l <"$disk")" -ge 10
tap_ok "its command line names the VM" grep -qa -- "--name.vm-a" "/proc/$pid/cmdline"
answer=$(exec 3<>"/dev/tcp/127.0.0.1/$port" && head -1 <&3)
set -- $answer
tap_ok "its port answers 'SEQ NAME INSTANCE HOST' ($answer)" \
    test "${1:-0}" -ge 1 -a "${2:-}" = vm-a -a "${4:-}" = h1 -a "${#3}" -eq 16
kill -TERM "$pid"
wait "$pid"
tap_ok "SIGTERM stops it cleanly (exit 0)" test $? -eq 0
tap_grep "stopped by Terminated" run1.err "and it says so"
n1=$(wc -l <"$disk")
sleep 0.2
tap_ok "a stopped VM writes nothing more" test "$(wc -l <"$disk")" -eq "$n1"
first=$(head -1 "$disk")
set -- $first
tap_ok "a record is 'INSTANCE SEQ MONOTONIC_NS HOST' ($first)" test "${#1}" -eq 16 -a "$2" = 1 -a "$4" = h1

# --- a second run on another host, after the first: one writer at a time
"$simvm" --name vm-a --host h2 --interval-ms 20 vm-a.cfg 2>run2.err &
pid=$!
pids+=("$pid")
sleep 0.3
kill -USR1 "$pid"
wait "$pid"
tap_ok "a shutdown from inside the guest ends it with exit 0" test $? -eq 0
tap_grep "shut down from inside the guest" run2.err "and it says so"
"$check" "$disk" >check.out 2>&1
tap_ok "check-disklog passes two writers one after the other" test $? -eq 0
tap_grep "h1 \([0-9a-f]{8}, [0-9]+ records\) -> h2 \([0-9a-f]{8}, [0-9]+ records\); one writer at a time" \
    check.out "and names them in order"

# --- two at once: S1 violated, and check-disklog must say so
both=$work/both.disk
: >"$both"
sed "s|$disk|$both|; /^port/d" vm-a.cfg >both.cfg
"$simvm" --name vm-a --host h1 --interval-ms 10 both.cfg 2>/dev/null &
p1=$!
"$simvm" --name vm-a --host h2 --interval-ms 10 both.cfg 2>/dev/null &
p2=$!
pids+=("$p1" "$p2")
sleep 0.4
kill -TERM "$p1" "$p2"
wait "$p1" "$p2"
"$check" "$both" >check.out 2>&1
tap_ok "check-disklog fails (exit 1) when two instances ran at once" test $? -eq 1
tap_grep "^S1 VIOLATION: $both:[0-9]+: instance [0-9a-f]{16} on h[12] wrote record" check.out \
    "and names the record"
"$check" "$work" >check.out 2>&1
tap_ok "a directory is checked disk by disk, and one bad disk fails it" test $? -eq 1

# --- a disk that is not a disk log
printf 'not a record\n' >junk.disk
tap_status 2 "a line that is not a record is refused (exit 2)" "$check" junk.disk
head -3 "$disk" | sed 2d >gap.disk
tap_status 2 "a missing record in one instance is refused" "$check" gap.disk
printf '%s' "$(head -1 "$disk")" >cut.disk
tap_status 2 "a record cut short is refused" "$check" cut.disk
tap_status 2 "a disk that does not exist is refused" "$check" "$work/nothing.disk"

# --- the guest's disk fails: it crashes, as a guest would
sed "s|$disk|/dev/full|; /^port/d" vm-a.cfg >full.cfg
"$simvm" --name vm-a --host h1 full.cfg 2>err
tap_ok "a record that cannot be written ends the VM with exit 3" test $? -eq 3
tap_grep "record 1 not (written|flushed)" err "and it says which record"
tap_done
