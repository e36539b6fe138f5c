#!/bin/bash
# The vmha demo: the shared-disk heartbeat region on a scratch file.
# 1. create a region, 2. dump it, 3. corrupt one slot, 4. show that the
# corruption is detected by checksum and the rest of the region still reads.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
haadm="$top/tools/haadm"
work=$(mktemp -d /var/tmp/vmha-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
lun="$work/lun.img"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "A 16 MiB scratch file stands in for the shared iSCSI LUN"
run truncate -s 16M "$lun"

step "Create the heartbeat region: 8 host slots, timeout 2 s"
run "$haadm" disk init "$lun" --cluster demo-pool --slots 8 --timeout 2

step "Dump it: superblock, slots, mailboxes, claims, config copies"
run "$haadm" disk dump "$lun"

step "A second init is refused: the device already holds a region"
run "$haadm" disk init "$lun" --cluster other || echo "(exit status $?, nothing written)"

step "Corrupt one byte of host 3's slot, as a bad sector or a stray write would"
offset=$((3 * 4096 + 517))
printf '$ printf x | dd of=%s bs=1 seek=%d conv=notrunc\n' "$lun" "$offset"
printf 'x' | dd of="$lun" bs=1 seek="$offset" conv=notrunc status=none

step "Dump again: slot 3 fails its CRC-32 and is reported, the rest still reads"
run "$haadm" disk dump "$lun" || echo "(exit status $? : corruption found)"

step "The same as JSON, for scripts"
"$haadm" disk dump "$lun" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("cluster:", d["superblock"]["cluster"], "  corrupt structures:", d["errors"])
for s in d["slots"]:
    print("  slot %d: %s" % (s["id"], "valid" if s["valid"] else "INVALID: " + s["error"]))
' || true

printf '\nDemo done; the scratch file is removed.\n'
