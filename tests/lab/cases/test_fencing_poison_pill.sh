#!/bin/bash
# haadm host fence: a poison pill by hand. The target acknowledges it on
# disk and fences itself, the survivors count it FENCED; haadm asks for
# confirmation, refuses unknown hosts and the last surviving host; after
# the fenced host boots again, the master clears its mailbox and it rejoins
# (not in emergency mode).
. "$srcdir/tests/lab/cases/lib.sh"

# A field of host ID's mailbox on the LUN, as the lab machine sees it.
mailbox_field() {   # id field
    "$builddir/tools/haadm" disk dump "$HALAB_DIR/lun.img" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = [x for x in d["mailboxes"] if x.get("id", x.get("host_id")) == int(sys.argv[1])]
m = m[0] if m else d["mailboxes"][int(sys.argv[1]) - 1]
v = m.get(sys.argv[2])
print(v if not isinstance(v, bool) else str(v).lower())
' "$1" "$2"
}

lab_start 3 --timeout 2

for h in h1 h2 h3; do
    tap_ok "h1 sees $h ALIVE" wait_state h1 "$h" ALIVE 10
done

# Without --yes and without a terminal: usage error, nothing sent.
seq_before=$(mailbox_field 3 seq)
out=$(mktemp)
halab exec h1 haadm host fence h3 </dev/null >"$out" 2>&1
rc=$?
tap_ok "host fence without --yes and no terminal exits 2 (got $rc)" test "$rc" = 2
tap_grep "confirm with --yes" "$out" "and says to confirm with --yes"
sleep 1
tap_ok "and nothing happens: h3 still powered" powered h3
tap_ok "and h3's mailbox is untouched (seq $seq_before)" test "$(mailbox_field 3 seq)" = "$seq_before"
tap_ok "and h1 still sees h3 ALIVE" test "$(host_state h1 h3)" = ALIVE

tap_status 1 "fencing an unknown host is refused (exit 1)" hs h1 host fence h9 --yes

t0=$(ms_now)
halab exec h1 haadm host fence h3 --yes >"$out" 2>&1
rc=$?
tap_ok "host fence h3 --yes from h1 is accepted (exit $rc)" test "$rc" = 0
tap_grep "poison pill written to h3" "$out" "and says the poison pill was written"
tap_ok "h3 fences itself and powers off" wait_off h3 10
echo "# h3 powered off $(ms_since "$t0") ms after the pill"
tap_ok "h3's log says 'fencing self: poison pill from h1'" log_has h3 "fencing self: poison pill from h1"
tap_ok "h1's log records the pill by hand" log_has h1 "poison pill to h3 by hand"
tap_ok "h3's slot ends FENCING" test "$(slot_field 3 state)" = FENCING
mb_seq=$(mailbox_field 3 seq)
ack=$(slot_field 3 mailbox_ack_seq)
tap_ok "h3's mailbox holds a FENCE" test "$(mailbox_field 3 command)" = FENCE
tap_ok "h3 acknowledged it in its slot (ack $ack = mailbox seq $mb_seq)" test -n "$ack" -a "$ack" = "$mb_seq"
for o in h1 h2; do
    tap_ok "$o reports h3 FENCED" wait_state "$o" h3 FENCED 15
done
echo "# h3 FENCED on h1 and h2 $(ms_since "$t0") ms after the pill"
for o in h1 h2; do
    tap_ok "$o still SURVIVEs" test "$(verdict "$o")" = SURVIVE
done

# Power h3 on again: the master clears the mailbox, h3 rejoins.
boot_host h3
tap_ok "the master (h1) clears h3's mailbox" wait_until 20 "log_has h1 'clearing the mailbox of h3'"
tap_ok "h3's mailbox now holds a CLEAR" wait_until 5 "[ \"\$(mailbox_field 3 command)\" = CLEAR ]"
for o in h1 h2 h3; do
    tap_ok "$o sees h3 ALIVE again" wait_state "$o" h3 ALIVE 20
done
tap_ok "h3 is not in emergency mode (status)" \
    test "$(status_json h3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["self"]["emergency"])')" = False
halab exec h3 haadm emergency >"$out" 2>&1
rc=$?
tap_ok "haadm emergency on h3 exits 0 (got $rc)" test "$rc" = 0
tap_grep "^emergency mode: no" "$out" "and says 'emergency mode: no'"
tap_grep "last self-fence: .*poison pill from h1" "$out" "and reports the last self-fence, the pill"

# The last surviving host: a two-host pool, fence one, then the other.
lab_cleanup
trap - EXIT
lab_start 2 --timeout 2
for h in h1 h2; do
    tap_ok "2-host pool: h1 sees $h ALIVE" wait_state h1 "$h" ALIVE 10
done
tap_status 0 "2-host pool: fencing h2 from h1 is accepted" hs h1 host fence h2 --yes
tap_ok "h2 powers off" wait_off h2 10
tap_ok "h1 reports h2 FENCED" wait_state h1 h2 FENCED 15
tap_ok "h1 still SURVIVEs alone" test "$(verdict h1)" = SURVIVE
halab exec h1 haadm host fence h1 --yes >"$out" 2>&1
rc=$?
tap_ok "fencing the last survivor h1 is refused (exit $rc, want 1)" test "$rc" = 1
tap_grep "last surviving host" "$out" "with 'last surviving host'"
sleep 1
tap_ok "and h1 is still powered and SURVIVEs" eval 'powered h1 && [ "$(verdict h1)" = SURVIVE ]'
rm -f "$out"

tap_done
