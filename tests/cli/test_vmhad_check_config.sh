#!/bin/bash
# `vmhad --check-config` against the daemon's and haadm's rules: one check
# of device names for vmha.conf and haadm, unknown sections refused even
# without keys, and only a regular file read as a configuration (a
# directory, a device or a FIFO is refused at once, never read or waited
# on). Needs no root, no corosync and no heartbeat device. Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
vmhad="$builddir/daemon/vmhad"
haadm="$builddir/tools/haadm"
work=$(mktemp -d /var/tmp/vmha-test-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

conf() {   # conf FILE DEVICE [EXTRA-LINES]
    printf '[heartbeat]\ndevice = %s\n%s' "$2" "${3:-}" >"$1"
}
# check NAME CONF: vmhad -t, bounded in time, output in NAME.out
check() {
    timeout 10 "$vmhad" -t -c "$2" >"$1.out" 2>&1
}

# --- the usage lists every option, -h included ---
for o in -h --help; do
    "$vmhad" "$o" >help.out 2>help.err
    tap_status 0 "vmhad $o exits 0" "$vmhad" "$o"
    tap_ok "vmhad $o prints the usage on stdout only" bash -c '[ -s help.out ] && [ ! -s help.err ]'
done
tap_grep '^       vmhad -h$' help.out "the usage's synopsis has vmhad -h"
tap_grep '^  -h, --help ' help.out "the usage lists -h, --help"
for o in -c -f -v -t; do
    tap_grep "^usage: vmhad .*\\[$o[] ]" help.out "the usage's synopsis has $o"
done
"$vmhad" --bogus >bad.out 2>bad.err
tap_ok "a bad option prints the usage on stderr, with -h" bash -c '[ ! -s bad.out ] && grep -q -- "-h, --help" bad.err'

conf good.conf /dev/disk/by-id/scsi-hb
tap_status 0 "a good file passes -t" check good good.conf
tap_grep '^good.conf: ok$' good.out "-t says the file is ok"

# --- device names: one rule for vmha.conf and haadm ---
conf label.conf 'LABEL='
tap_status 1 "-t refuses an empty LABEL=" check label label.conf
tap_grep "label.conf:2: \[heartbeat\] device: 'LABEL=' has no value" label.out "-t says the tag has no value"
"$haadm" disk dump 'LABEL=' >hlabel.out 2>&1
tap_status 2 "haadm refuses the same name" "$haadm" disk dump 'LABEL='
tap_grep "'LABEL=' has no value" hlabel.out "haadm gives the same reason"

conf partlabel.conf 'PARTLABEL=vmha-hb'
tap_status 0 "-t takes PARTLABEL=" check partlabel partlabel.conf
"$haadm" disk dump 'PARTLABEL=vmha-no-such-partlabel' >hpart.out 2>&1
tap_grep 'PARTLABEL=vmha-no-such-partlabel: no such device' hpart.out \
    "haadm takes PARTLABEL= as a name and looks for the device"

conf tag.conf 'SERIAL=abc'
tap_status 1 "-t refuses an unknown tag" check tag tag.conf
"$haadm" disk dump 'SERIAL=abc' >htag.out 2>&1
tap_grep "'SERIAL=' is not a device tag" tag.out "-t names the unknown tag"
tap_grep "'SERIAL=' is not a device tag" htag.out "haadm names it the same way"

conf rel.conf 'sdb'
tap_status 1 "-t refuses a relative path" check rel rel.conf
tap_grep "'sdb' is neither an absolute path nor LABEL=, UUID=, PARTUUID= or PARTLABEL=" rel.out \
    "-t says what a device name may be"

# --- the shipped example passes as it is ---
tap_status 0 "-t takes systemd/vmha.conf.example" check example "$srcdir/systemd/vmha.conf.example"

# --- what this version lacks is refused, not read and ignored ---
printf '[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = xen\n' >driver.conf
tap_status 1 "-t refuses driver = xen" check driver driver.conf
tap_grep "^vmhad: driver.conf:4: \\[daemon\\] driver: 'xen': this version has no xen driver yet \\(none or sim\\)$" \
    driver.out "-t says this version has no xen driver"
printf '[heartbeat]\ndevice = /dev/sdb\n[network]\nmigration_port = 8477\n' >port.conf
tap_status 1 "-t refuses migration_port, even at its old default" check port port.conf
tap_grep 'port.conf:4: \[network\] migration_port: not supported by this version \(it migrates no VM\)' port.out \
    "-t says migration_port is not supported by this version"
printf '[heartbeat]\ndevice = /dev/sdb\n[sim]\nprogram = /usr/bin/true\n' >sim.conf
tap_status 1 "-t refuses [sim] without driver = sim" check sim sim.conf
tap_grep 'sim.conf: \[sim\] is set but the driver is none' sim.out "-t says [sim] would do nothing"
printf '[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = sim\nvm_memory_mib = 1024\n[sim]\nprogram = %s/none\n' \
    "$work" >simprog.conf
tap_status 1 "-t refuses a sim program that does not exist" check simprog simprog.conf
tap_grep "simprog.conf: \\[sim\\] program: $work/none: No such file or directory" simprog.out \
    "-t names the missing program"
"$haadm" emergency --config driver.conf >hdriver.out 2>&1
tap_grep "^emergency mode: cannot tell: driver.conf:4: \\[daemon\\] driver: 'xen'" hdriver.out \
    "haadm emergency refuses the same file for the same reason"

# --- ipc_group: a group the file names must exist on this host ---
printf '[heartbeat]\ndevice = /dev/sdb\n[daemon]\nipc_group = vmha-test-no-such-group\n' >group.conf
tap_status 1 "-t refuses an ipc_group that does not exist" check group group.conf
tap_grep "^vmhad: group.conf: \[daemon\] ipc_group: group 'vmha-test-no-such-group' does not exist on this host" \
    group.out "-t names the missing group"
tap_ok "-t does not call such a file ok" bash -c '! grep -q ": ok" group.out'
# At start too, before anything else is done: no state directory made,
# no wait for the (missing) heartbeat device.
printf '[heartbeat]\ndevice = /dev/disk/by-id/vmha-test-no-such-device\n[daemon]\nipc_group = vmha-test-no-such-group\nstate_dir = %s/state\n' \
    "$work" >group-start.conf
timeout --signal=KILL 10 "$vmhad" -c group-start.conf >start.out 2>&1
tap_status 1 "vmhad does not start with an ipc_group that does not exist" \
    timeout --signal=KILL 10 "$vmhad" -c group-start.conf
tap_grep "^vmhad: group-start.conf: \[daemon\] ipc_group: group 'vmha-test-no-such-group' does not exist" start.out \
    "and says why on stderr"
tap_ok "and makes no state directory" test ! -e "$work/state"
printf '[heartbeat]\ndevice = /dev/sdb\n[daemon]\nipc_group = root\n' >root.conf
tap_status 0 "-t takes an ipc_group that exists" check root root.conf

# --- sections ---
printf '[heartbeat]\ndevice = /dev/sdb\n[bogus]\n' >empty-section.conf
tap_status 1 "-t refuses an unknown section without keys" check empty empty-section.conf
tap_grep 'empty-section.conf:3: unknown section \[bogus\]' empty.out "-t names the section and its line"

# --- the metrics textfile: the key's form, then where it points ---
mkdir textfile-dir
conf metrics.conf /dev/sdb "[metrics]
textfile = $work/textfile-dir/vmha.prom
"
tap_status 0 "-t takes a textfile in an existing directory" check metrics metrics.conf
conf nodir.conf /dev/sdb "[metrics]
textfile = $work/no-such-dir/vmha.prom
"
tap_status 1 "-t refuses a textfile whose directory is missing" check nodir nodir.conf
tap_grep "nodir.conf: \[metrics\] textfile: .*/no-such-dir: no such directory" nodir.out \
    "-t names the key and the missing directory"
conf suffix.conf /dev/sdb "[metrics]
textfile = $work/textfile-dir/vmha.txt
"
tap_status 1 "-t refuses a textfile that the collector would not read" check suffix suffix.conf
tap_grep "suffix.conf:4: \[metrics\] textfile: '.*vmha.txt' does not name a file ending in .prom" suffix.out \
    "-t says the file must end in .prom"
mkdir textfile-dir/d.prom
conf dprom.conf /dev/sdb "[metrics]
textfile = $work/textfile-dir/d.prom
"
tap_status 1 "-t refuses a textfile that is a directory" check dprom dprom.conf
tap_grep "textfile: .*/d.prom: exists and is not a regular file" dprom.out "-t says it is not a regular file"

# --- only a regular file is a configuration ---
mkdir confdir
tap_status 1 "-t refuses a directory" check dir confdir
tap_grep 'confdir: is a directory, not a configuration file' dir.out "-t says it is a directory"
tap_status 1 "-t refuses /dev/zero at once" check zero /dev/zero
tap_grep '/dev/zero: is a character device, not a configuration file' zero.out "-t says it is a character device"
tap_status 1 "-t refuses /dev/null" check null /dev/null
mkfifo fifo
tap_status 1 "-t refuses a FIFO without waiting for a writer" check fifo fifo
tap_grep 'fifo: is a FIFO, not a configuration file' fifo.out "-t says it is a FIFO"
tap_status 1 "-t refuses a missing file" check missing missing.conf
tap_grep 'missing.conf: No such file or directory' missing.out "-t says the file is missing"

tap_done
