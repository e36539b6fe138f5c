#!/bin/bash
# haadm disk init / dump, end to end on scratch files and loop devices:
# refusals write nothing, corruption is reported per structure, exit
# statuses and JSON are as documented.
set -u
srcdir=$(cd "$srcdir" && pwd)
builddir=$(cd "$builddir" && pwd)
. "$srcdir/tests/lib/tap.sh"
haadm="$builddir/tools/haadm"
put_config="$builddir/tests/cli/put_config"
work=$(mktemp -d /var/tmp/vmha-test-cli.XXXXXX)
loops=()
cleanup() {
    local l
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

json() {   # json FILE PYTHON-EXPRESSION-ON-d  -> exit 0 when true
    python3 -c "import json,sys; d=json.load(open('$1')); sys.exit(0 if ($2) else 1)"
}
flip() {       # flip FILE OFFSET: invert one bit, so the byte always changes
    python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^0x10]))" "$1" "$2"
}
unchanged() {  # unchanged FILE SUM
    [ "$(sha256sum <"$1")" = "$2" ]
}

# --- help and usage ---
tap_status 0 "haadm --help exits 0" "$haadm" --help
"$haadm" --help >help.txt 2>&1
tap_grep 'disk init DEVICE --cluster NAME' help.txt "haadm --help documents disk init"
tap_status 0 "haadm disk --help exits 0" "$haadm" disk --help
"$haadm" disk --help >dhelp.txt 2>&1
tap_grep '--slots N' dhelp.txt "haadm disk --help documents --slots"
tap_status 2 "unknown command exits 2" "$haadm" frobnicate
tap_status 2 "unknown disk subcommand exits 2" "$haadm" disk frobnicate
tap_status 2 "no arguments exits 2" "$haadm"

# --- init on a fresh file ---
truncate -s 8M lun.img
tap_status 0 "init on an empty 8 MiB file succeeds" "$haadm" disk init lun.img --cluster pool-a --slots 16 --timeout 2.5
"$haadm" disk init lun.img --cluster pool-a --slots 16 --timeout 2.5 --force >init.txt 2>&1
tap_grep 'blkid, mkfs and wipefs do not recognise a vmha region' init.txt "init says that blkid, mkfs and wipefs do not see the region"
tap_grep 'PARTUUID= or PARTLABEL=' init.txt "and how to name the device instead"
tap_status 0 "dump of a fresh region exits 0" "$haadm" disk dump lun.img
"$haadm" disk dump lun.img --json >dump.json
tap_ok "dump --json names cluster, slot count and timeout" \
    json dump.json 'd["superblock"]["cluster"]=="pool-a" and d["superblock"]["slots"]==16 and d["superblock"]["timeout_s"]==2.5'
tap_ok "dump --json lists every slot as valid and EMPTY" \
    json dump.json 'len(d["slots"])==16 and all(s["valid"] and s["error"] is None and s["state"]=="EMPTY" for s in d["slots"])'
tap_ok "dump --json lists every mailbox, claim area and both config copies" \
    json dump.json 'len(d["mailboxes"])==16 and len(d["claims"])==16 and [c["copy"] for c in d["config"]]==["A","B"] and d["errors"]==0'
"$haadm" disk dump lun.img >dump.txt
tap_grep '^  cluster +pool-a' dump.txt "dump prints the superblock as text"
tap_grep 'blkid, mkfs and wipefs do not recognise a vmha region' dump.txt "dump says so too"
tap_ok "dump --json says blkid does not recognise the region" json dump.json 'd["superblock"]["blkid_recognises"] is False'
tap_grep '0 corrupt structures' dump.txt "dump text ends with the corruption count"

# --- refusals change nothing ---
sum=$(sha256sum <lun.img)
tap_status 1 "init over an existing region is refused" "$haadm" disk init lun.img --cluster pool-b
"$haadm" disk init lun.img --cluster pool-b >refuse.txt 2>&1
tap_grep "holds the vmha heartbeat region of cluster 'pool-a'" refuse.txt "the refusal names the existing cluster"
tap_ok "a refused init writes nothing" unchanged lun.img "$sum"
tap_status 2 "--slots 0 is refused" "$haadm" disk init lun.img --cluster x --slots 0 --force
tap_status 2 "--slots 256 is refused" "$haadm" disk init lun.img --cluster x --slots 256 --force
tap_status 2 "--slots abc is refused" "$haadm" disk init lun.img --cluster x --slots abc --force
tap_status 2 "--timeout 1 is refused" "$haadm" disk init lun.img --cluster x --timeout 1 --force
tap_status 2 "--timeout 1.9999 is refused, not rounded to 2" "$haadm" disk init lun.img --cluster x --timeout 1.9999 --force
tap_status 2 "--timeout 2.0004 is refused (more than millisecond precision)" \
    "$haadm" disk init lun.img --cluster x --timeout 2.0004 --force
tap_status 2 "--timeout 0x5 is refused, not read as hex" "$haadm" disk init lun.img --cluster x --timeout 0x5 --force
"$haadm" disk init lun.img --cluster x --timeout 5e0 --force >exp.txt 2>&1
tap_grep "--timeout takes plain decimal seconds with at most 3 decimals \(like 5 or 2.5\), not '5e0'" exp.txt \
    "the refusal says what a timeout looks like"
tap_status 2 "a missing --cluster is refused" "$haadm" disk init lun.img --force
tap_status 2 "a bad cluster name is refused" "$haadm" disk init lun.img --cluster 'a b' --force
tap_status 2 "an unknown option is refused" "$haadm" disk init lun.img --cluster x --frobnicate
tap_status 2 "a second device argument is refused" "$haadm" disk init lun.img other.img --cluster x
tap_ok "refused options wrote nothing" unchanged lun.img "$sum"

truncate -s 1M small.img
"$haadm" disk init small.img --cluster x >small.txt 2>&1
tap_status 2 "a device too small for 64 slots is refused" "$haadm" disk init small.img --cluster x
tap_grep 'device too small: a region with 64 slots and room for 4096 VMs needs 4.25 MiB, the device has 1.00 MiB \(--vms or --slots make it smaller\)' \
    small.txt "the too-small refusal gives both sizes and what makes the region smaller"
tap_ok "the too-small device stays all zeros" cmp -s small.img <(head -c 1048576 /dev/zero)

tap_status 2 "init of a missing file exits 2" "$haadm" disk init missing.img --cluster x
tap_status 2 "dump of a missing file exits 2" "$haadm" disk dump missing.img
tap_status 2 "dump of an unknown tag exits 2" "$haadm" disk dump LABEL=vmha-no-such-label
tap_status 2 "a malformed tag exits 2" "$haadm" disk dump FOO=bar

# --- what is neither a block device nor a file is refused up front ---
mkfifo fifo
timeout 10 "$haadm" disk dump fifo >fifo.txt 2>&1
tap_status 2 "dump of a FIFO is refused at once, not waited on" timeout 10 "$haadm" disk dump fifo
tap_grep 'fifo: is a FIFO, not a block device or file' fifo.txt "the refusal says it is a FIFO"
"$haadm" disk dump /dev/null >null.txt 2>&1
tap_grep '^haadm: /dev/null: is a character device, not a block device or file$' null.txt \
    "dump of /dev/null says it is a character device"
"$haadm" disk init /dev/zero --cluster x --force >zero.txt 2>&1
tap_status 2 "init on /dev/zero is refused" "$haadm" disk init /dev/zero --cluster x --force
tap_grep '/dev/zero: is a character device, not a block device or file' zero.txt \
    "init on /dev/zero says it is a character device"
mkdir adir
"$haadm" disk dump adir >adir.txt 2>&1
tap_grep 'adir: is a directory, not a block device or file' adir.txt "dump of a directory says it is a directory"

# --- filesystems and partition tables ---
truncate -s 8M fs.img
mkfs.ext4 -q -F fs.img
sum=$(sha256sum <fs.img)
"$haadm" disk init fs.img --cluster x >fs.txt 2>&1
tap_status 1 "init on an ext4 filesystem is refused" "$haadm" disk init fs.img --cluster x
tap_grep 'holds a filesystem \(ext4\); refusing' fs.txt "the refusal names the filesystem"
tap_ok "the filesystem is untouched" unchanged fs.img "$sum"
tap_status 0 "init --force destroys the filesystem" "$haadm" disk init fs.img --cluster x --force
tap_status 0 "and the region is valid" "$haadm" disk dump fs.img

truncate -s 8M pt.img
printf 'label: gpt\n,4M\n' | sfdisk -q pt.img
sum=$(sha256sum <pt.img)
"$haadm" disk init pt.img --cluster x >pt.txt 2>&1
tap_status 1 "init on a GPT-partitioned disk is refused" "$haadm" disk init pt.img --cluster x
tap_grep 'holds a partition table \(gpt\)' pt.txt "the refusal names the partition table"
tap_ok "the partition table is untouched" unchanged pt.img "$sum"

# --- devices named by tag, on a loop device ---
truncate -s 8M tag.img
mkfs.ext4 -q -F -L vmha-test-$$ tag.img
if loop=$(losetup -f --show tag.img 2>/dev/null); then
    loops+=("$loop")
    "$haadm" disk init "LABEL=vmha-test-$$" --cluster x >tag.txt 2>&1
    tap_grep "LABEL=vmha-test-$$ \\($loop\\) holds a filesystem" tag.txt "LABEL= resolves to the loop device"
    tap_status 0 "init --force by LABEL= writes the region" "$haadm" disk init "LABEL=vmha-test-$$" --cluster x --force
    tap_status 0 "the loop device now holds a valid region" "$haadm" disk dump "$loop"
else
    _tap_result 1 "a loop device could be set up for the LABEL= test"
fi

# --- corruption is reported per structure ---
truncate -s 4M c.img
"$haadm" disk init c.img --cluster pool-c --slots 8 >/dev/null
# flip one byte inside slot 3 (block 3)
flip c.img $((3 * 4096 + 300))
"$haadm" disk dump c.img >c.txt 2>&1
tap_status 1 "dump exits 1 when a slot is corrupt" "$haadm" disk dump c.img
tap_grep '^ +3  CORRUPT  slot 3: checksum mismatch' c.txt "the corrupt slot is named with its error"
tap_grep '^ +4  EMPTY' c.txt "the other slots are still shown"
"$haadm" disk dump c.img --json >c.json
tap_ok "JSON marks slot 3 invalid with its error and slot 4 valid" \
    json c.json 'd["slots"][2]["valid"]==False and d["slots"][2]["error"]=="slot 3: checksum mismatch" and d["slots"][3]["valid"] and d["errors"]==1'
# corrupt mailbox 2 (block 8 + 2) and config copy A
flip c.img $(((8 + 2) * 4096 + 40))
flip c.img $(((1 + 16) * 4096 + 10))
"$haadm" disk dump c.img --json >c2.json
tap_ok "JSON reports the corrupt mailbox and config copy A, and B becomes current" \
    json c2.json 'd["mailboxes"][1]["valid"]==False and d["config"][0]["valid"]==False and d["config"][1]["current"] and d["errors"]==3'
# a corrupt superblock stops the dump with exit 1
flip c.img 100
"$haadm" disk dump c.img >c3.txt 2>&1
tap_status 1 "dump exits 1 when the superblock is corrupt" "$haadm" disk dump c.img
tap_grep 'CORRUPT superblock: checksum mismatch' c3.txt "the corrupt superblock is reported"
"$haadm" disk dump c.img --json >c3.json
tap_ok "JSON reports the invalid superblock" json c3.json 'd["superblock"]["valid"]==False and "checksum" in d["superblock"]["error"]'
tap_status 2 "dump with an unknown option exits 2" "$haadm" disk dump c.img --frobnicate

# --- a region of a newer layout version is not corrupt ---
newer() {      # newer FILE VERSION: set the superblock's layout version and reseal its checksum
    python3 -c "
import struct, sys, zlib
f = open(sys.argv[1], 'r+b'); b = bytearray(f.read(4096))
struct.pack_into('<H', b, 4, int(sys.argv[2])); struct.pack_into('<I', b, 8, 0)
struct.pack_into('<I', b, 8, zlib.crc32(bytes(b)) & 0xffffffff)
f.seek(0); f.write(b)" "$1" "$2"
}
truncate -s 8M new.img
"$haadm" disk init new.img --cluster pool-n --slots 8 >/dev/null
newer new.img 7
"$haadm" disk dump new.img >new.txt 2>&1
tap_status 1 "dump of a newer region exits 1" "$haadm" disk dump new.img
tap_grep '^UNSUPPORTED superblock: made by a newer vmha \(layout version 7; this build reads 2\)' new.txt \
    "dump says the region was made by a newer vmha, with both versions"
tap_ok "and does not call it corrupt" bash -c "! grep -q CORRUPT new.txt"
"$haadm" disk dump new.img --json >new.json
tap_ok "JSON marks the superblock unsupported, not corrupt" \
    json new.json 'd["superblock"]["valid"]==False and d["superblock"]["supported"]==False and "newer vmha" in d["superblock"]["error"]'
sum=$(sha256sum <new.img)
"$haadm" disk init new.img --cluster x >newinit.txt 2>&1
tap_status 1 "init over a newer region is refused" "$haadm" disk init new.img --cluster x
tap_grep 'holds a vmha heartbeat region made by a newer vmha \(layout version 7; this build reads 2\); refusing' \
    newinit.txt "the refusal names the newer layout version"
tap_ok "the refusal does not suggest --force" bash -c "! grep -q -- --force newinit.txt"
tap_ok "the newer region is untouched" unchanged new.img "$sum"

# --- a region of an older layout version is refused, never read as this one ---
truncate -s 8M old.img
"$haadm" disk init old.img --cluster pool-o --slots 8 >/dev/null
newer old.img 1
"$haadm" disk dump old.img >old.txt 2>&1
tap_status 1 "dump of an older region exits 1" "$haadm" disk dump old.img
tap_grep '^UNSUPPORTED superblock: made by an older vmha \(layout version 1; this build reads 2\)' old.txt \
    "dump says the region was made by an older vmha, with both versions"
tap_grep "re-create it with 'haadm disk init --force' while the whole pool is stopped" old.txt \
    "and how to replace it"
sum=$(sha256sum <old.img)
"$haadm" disk init old.img --cluster x >oldinit.txt 2>&1
tap_status 1 "init over an older region is refused without --force" "$haadm" disk init old.img --cluster x
tap_grep 'holds a vmha heartbeat region made by an older vmha \(layout version 1; this build reads 2\); refusing.*Use --force' \
    oldinit.txt "the refusal names the older layout version and suggests --force"
tap_ok "the older region is untouched" unchanged old.img "$sum"
tap_status 0 "init --force replaces an older region" "$haadm" disk init old.img --cluster x --force
tap_status 0 "and the new region is valid" "$haadm" disk dump old.img

# --- config copies sized for the HA configuration: the default and --vms ---
reseal_config() {   # reseal_config FILE OFFSET PYTHON: edit the copy at OFFSET (b, a bytearray), then reseal
    python3 -c "
import struct, sys, zlib
f = open(sys.argv[1], 'r+b'); off = int(sys.argv[2]); f.seek(off); b = bytearray(f.read(1 << 21))
$3
n = struct.unpack_from('<I', b, 40)[0]
struct.pack_into('<I', b, 8, 0)
struct.pack_into('<I', b, 8, zlib.crc32(bytes(b[:64 + n])) & 0xffffffff)
f.seek(off); f.write(b)" "$1" "$2"
}
truncate -s 8M size.img
"$haadm" disk init size.img --cluster pool-s --slots 8 >size.txt 2>&1
tap_grep 'HA configuration copies: 1441792 bytes each, room for 4096 VMs with the longest names and config paths \(as many as vmhad accepts\)' \
    size.txt "by default the config copies hold the largest configuration vmhad accepts"
"$haadm" disk dump size.img --json >size.json
tap_ok "the default copy is 352 blocks" json size.json 'd["superblock"]["config_blocks"]==352'
tap_status 0 "4096 VMs with the longest names and paths, in random letters, fit the default copy" \
    "$put_config" size.img 4096 random
"$haadm" disk dump size.img --json >size4096.json
tap_ok "dump decodes all 4096 VMs from the current copy" \
    json size4096.json 'd["ha_config"]["copy"]=="B" and len(d["ha_config"]["vms"])==4096 and d["errors"]==0'
tap_ok "the copy says it is compressed and both of its lengths" \
    json size4096.json 'd["config"][1]["compressed"] and d["config"][1]["snapshot_bytes"]==1437760 and 0 < d["config"][1]["payload_bytes"] < 1437760'

sum=$(sha256sum <size.img)
refused_vms() {     # refused_vms VALUE
    "$haadm" disk init size.img --cluster x --vms "$1" --force >vms.txt 2>&1
    local rc=$?
    [ "$rc" -eq 2 ] && grep -q -- "--vms must be a whole number in 1..4096, not '$1'" vms.txt
}
tap_ok "--vms 0 is refused" refused_vms 0
tap_ok "--vms 4097 is refused" refused_vms 4097
tap_ok "--vms abc is refused" refused_vms abc
tap_ok "--vms -1 is refused" refused_vms -1
tap_ok "refused --vms values wrote nothing" unchanged size.img "$sum"

truncate -s 2M vms.img
tap_status 2 "a 2 MiB device is too small for the default region" "$haadm" disk init vms.img --cluster x
"$haadm" disk init vms.img --cluster pool-v --slots 8 --vms 100 >vms-init.txt 2>&1
tap_ok "with --vms 100 the region fits a 2 MiB device" test $? -eq 0
tap_grep 'HA configuration copies: 36864 bytes each, room for 104 VMs with the longest names and config paths; more when they compress' \
    vms-init.txt "init says what the copies hold"
"$haadm" disk dump vms.img --json >vms.json
tap_ok "--vms 100 makes 9-block copies" json vms.json 'd["superblock"]["config_blocks"]==9'
tap_status 0 "100 VMs with the longest names and paths, in random letters, fit" "$put_config" vms.img 100 random 2
"$put_config" vms.img 104 random 3 >vms104.txt
tap_ok "so do 104, as init said" test $? -eq 0
"$put_config" vms.img 400 long 4 >vms400.txt
tap_ok "400 long names of repeating letters fit too: they compress" test $? -eq 0
"$put_config" vms.img 400 random 5 >vms-big.txt
tap_ok "400 VMs of random letters do not fit, and are not written" test $? -eq 1
tap_grep 'vmhad refuses it' vms-big.txt "vmhad's own check refuses them as well"
"$haadm" disk dump vms.img --json >vms-after.json
tap_ok "the disk keeps the last configuration that fitted" \
    json vms-after.json 'd["ha_config"]["config_generation"]>0 and len(d["ha_config"]["vms"])==400 and d["errors"]==0 and max(c["generation"] for c in d["config"])==4'

# --- dump decodes the HA configuration: pool settings and every VM ---
truncate -s 8M cfg.img
"$haadm" disk init cfg.img --cluster pool-d --slots 8 >/dev/null
"$put_config" cfg.img 3 short >/dev/null
"$haadm" disk dump cfg.img >cfg.txt
tap_grep '^  B  generation 2, [0-9]+ bytes compressed from [0-9]+, 3 VMs, written 2026-09-21T14:13:20Z  \(current\)$' \
    cfg.txt "the current copy is named with its generation, sizes and VM count"
tap_grep '^HA configuration \(copy B\):$' cfg.txt "dump shows the HA configuration of the current copy"
tap_grep '^  HA +enabled$' cfg.txt "with HA enabled"
tap_grep '^  failures to tolerate +1$' cfg.txt "the failures-to-tolerate target"
tap_grep '^  overcommit +refused$' cfg.txt "whether overcommit is allowed"
tap_grep '^  maintenance +2$' cfg.txt "the hosts in maintenance"
tap_grep '^  vm-00002 +0000000000000002 restart +2 +2s +3072 MiB +3  /etc/xen/vm-00002.cfg$' cfg.txt \
    "and every VM with its fields"
"$haadm" disk dump cfg.img --json >cfg.json
tap_ok "JSON has the pool settings" \
    json cfg.json 'd["ha_config"]["pool"]=={"ha_enabled": True, "failures_to_tolerate": 1, "allow_overcommit": False} and d["ha_config"]["maintenance"]==[2]'
tap_ok "JSON has every VM with its fields" \
    json cfg.json 'd["ha_config"]["vms"][2]=={"name": "vm-00003", "id": 3, "priority": "best-effort", "order": 3, "start_delay_ms": 3000, "memory_mib": 4096, "config": "/etc/xen/vm-00003.cfg", "owner": 1}'

# a corrupt current copy is reported, not decoded; the other copy is shown
cfg_b=$(((1 + 16 + 352) * 4096))
cp cfg.img cfg2.img
flip cfg2.img $((cfg_b + 70))
"$haadm" disk dump cfg2.img >cfg2.txt 2>&1
tap_status 1 "dump exits 1 when the current config copy is corrupt" "$haadm" disk dump cfg2.img
tap_grep '^  B  CORRUPT  config B: checksum mismatch$' cfg2.txt "the corrupt copy is named with its checksum error"
tap_grep '^HA configuration \(copy A\):$' cfg2.txt "and the configuration shown is the other copy's"
tap_ok "nothing of the corrupt copy is decoded" bash -c "! grep -q vm-0000 cfg2.txt"
"$haadm" disk dump cfg2.img --json >cfg2.json
tap_ok "JSON marks copy B invalid with its error and decodes copy A" \
    json cfg2.json 'd["config"][1]["valid"]==False and d["config"][1]["error"]=="config B: checksum mismatch" and "generation" not in d["config"][1] and d["ha_config"]["copy"]=="A" and d["ha_config"]["vms"]==[] and d["errors"]==1'
# a stream damaged behind a valid checksum, or of another length than its header says, is corrupt too
cp cfg.img cfg3.img
reseal_config cfg3.img "$cfg_b" 'b[65] ^= 0x5a'
"$haadm" disk dump cfg3.img >cfg3.txt 2>&1
tap_status 1 "a copy whose compressed stream is damaged is corrupt" "$haadm" disk dump cfg3.img
tap_grep '^  B  CORRUPT  config B: ' cfg3.txt "and reported as such"
cp cfg.img cfg4.img
reseal_config cfg4.img "$cfg_b" 'struct.pack_into("<I", b, 56, struct.unpack_from("<I", b, 56)[0] + 1)'
"$haadm" disk dump cfg4.img >cfg4.txt 2>&1
tap_grep '^  B  CORRUPT  config B: inflates to [0-9]+ bytes, the header says [0-9]+$' cfg4.txt \
    "a copy that inflates to another length than its header says is corrupt"
tap_ok "and is not decoded" bash -c "! grep -q vm-0000 cfg4.txt"

tap_done
