#!/bin/bash
# haadm disk init / dump, end to end on scratch files and loop devices:
# refusals write nothing, corruption is reported per structure, exit
# statuses and JSON are as documented.
set -u
srcdir=$(cd "$srcdir" && pwd)
builddir=$(cd "$builddir" && pwd)
. "$srcdir/tests/lib/tap.sh"
haadm="$builddir/tools/haadm"
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
truncate -s 4M lun.img
tap_status 0 "init on an empty 4 MiB file succeeds" "$haadm" disk init lun.img --cluster pool-a --slots 16 --timeout 2.5
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
tap_grep 'device too small: a region with 64 slots needs 1.75 MiB, the device has 1.00 MiB' small.txt \
    "the too-small refusal gives both sizes"
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
truncate -s 4M new.img
"$haadm" disk init new.img --cluster pool-n --slots 8 >/dev/null
newer new.img 7
"$haadm" disk dump new.img >new.txt 2>&1
tap_status 1 "dump of a newer region exits 1" "$haadm" disk dump new.img
tap_grep '^UNSUPPORTED superblock: made by a newer vmha \(layout version 7; this build reads 1\)' new.txt \
    "dump says the region was made by a newer vmha, with both versions"
tap_ok "and does not call it corrupt" bash -c "! grep -q CORRUPT new.txt"
"$haadm" disk dump new.img --json >new.json
tap_ok "JSON marks the superblock unsupported, not corrupt" \
    json new.json 'd["superblock"]["valid"]==False and d["superblock"]["supported"]==False and "newer vmha" in d["superblock"]["error"]'
sum=$(sha256sum <new.img)
"$haadm" disk init new.img --cluster x >newinit.txt 2>&1
tap_status 1 "init over a newer region is refused" "$haadm" disk init new.img --cluster x
tap_grep 'holds a vmha heartbeat region made by a newer vmha \(layout version 7; this build reads 1\); refusing' \
    newinit.txt "the refusal names the newer layout version"
tap_ok "the refusal does not suggest --force" bash -c "! grep -q -- --force newinit.txt"
tap_ok "the newer region is untouched" unchanged new.img "$sum"

tap_done
