#!/bin/bash
# A host of a three-host pool crashes (power off, no last word): the other
# two see it LEFT, then FENCED once S2 holds (not before the watchdog
# timeout plus the margin, and within the failover budget); its slot stays
# ALIVE but stops advancing; the survivors keep SURVIVE and master h1. When
# it boots again it rejoins cleanly with a new incarnation.
. "$srcdir/tests/lab/cases/lib.sh"

# ---- local helpers (candidates for lib.sh) --------------------------------
# track OUT SECONDS 'TOKENS' OBS...: polls every OBS's 'haadm status' and
# appends "MS OBS h1=STATE ... master=NAME verdict=V" to OUT each time that
# observer's line changes (MS counted from $T0, see ms_now). Stops when the
# last line of every OBS holds all TOKENS (e.g. 'h2=FENCED master=h1'), or
# after SECONDS; exits 1 on timeout.
track() {
    local out=$1 secs=$2 tokens=$3
    shift 3
    python3 - "$HALAB" "$out" "$secs" "$tokens" "$T0" "$@" <<'EOF'
import json, subprocess, sys, time
halab, out, secs, tokens, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(), int(sys.argv[5])
observers = sys.argv[6:]
last = {}
deadline = time.time() + secs
with open(out, "a") as f:
    while time.time() < deadline:
        for o in observers:
            try:
                r = subprocess.run([halab, "exec", o, "haadm", "status", "--json"],
                                   capture_output=True, text=True, timeout=3)
                d = json.loads(r.stdout)
                line = " ".join("%s=%s" % (h["name"], h["state"]) for h in d["hosts"])
                line += " master=" + (",".join(h["name"] for h in d["hosts"] if h["master"]) or "none")
                line += " verdict=" + d["self"]["verdict"]
            except Exception:
                line = "no-answer"
            if last.get(o) != line:
                last[o] = line
                f.write("%d %s %s\n" % (int(time.time() * 1000) - t0, o, line))
                f.flush()
        if all(o in last and all(t in last[o].split() for t in tokens) for o in observers):
            sys.exit(0)
        time.sleep(0.05)
sys.exit(1)
EOF
}
# first_ms OUT OBS TOKEN: when OBS first showed TOKEN (ms since T0), or 999999.
first_ms() {
    awk -v o="$2" -v t="$3" '$2 == o { for (i = 3; i <= NF; i++) if ($i == t) { print $1; exit } }
        END { if (NR == 0) print 999999 }' "$1" | grep . || echo 999999
}
# states_seen OUT OBS HOST: HOST's successive distinct states as OBS showed them.
states_seen() {
    awk -v o="$2" -v h="$3=" '$2 == o { for (i = 3; i <= NF; i++) if (index($i, h) == 1) {
        s = substr($i, length(h) + 1); if (s != prev) { printf "%s%s", sep, s; sep = " "; prev = s } } }
        END { print "" }' "$1"
}
# log_mark HOST: the number of lines of HOST's vmhad log so far.
log_mark() { halab log "$1" vmhad 2>/dev/null | wc -l; }
# log_has_since HOST MARK REGEX: a line after MARK matches.
log_has_since() { halab log "$1" vmhad 2>/dev/null | tail -n "+$(($2 + 1))" | grep -qE -- "$3"; }
# slot_advances ID: the slot's seq moves within a second.
slot_advances() {
    local a
    a=$(slot_field "$1" seq)
    sleep 1
    [ "$(slot_field "$1" seq)" != "$a" ]
}
# matches STRING ERE
matches() { [[ $1 =~ $2 ]]; }
# only_lines OUT OBS ERE: every line of OBS in the tracker's record matches ERE.
only_lines() { ! awk -v o="$2" '$2 == o' "$1" | grep -vE -- "$3"; }
# keep_logs: with FAULT_KEEP_LOGS=1 and a failed check, copy the hosts' logs
# and the tracker's records out of the lab before it is purged.
keep_logs() {
    [ "${FAULT_KEEP_LOGS:-0}" = 1 ] && [ "$TAP_FAILED" -gt 0 ] || return 0
    local d
    d=/var/tmp/halab-fault-logs.$(basename "$0" .sh).$$
    mkdir -p "$d"
    for h in "$HALAB_DIR"/h[0-9]*; do cp -r "$h/log" "$d/$(basename "$h")" 2>/dev/null; done
    cp "$HALAB_DIR"/track* "$d/" 2>/dev/null
    echo "# logs kept in $d"
}
# show FILE: the tracker's record as TAP comments.
show() { sed 's/^/# /' "$1"; }
# ---------------------------------------------------------------------------

lab_start 3 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack

for o in h1 h2 h3; do
    tap_ok "$o sees every host ALIVE and h1 master before the crash" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(master_of $o)\" = ALIVEALIVEALIVEh1 ]"
done
inc_before=$(slot_field 2 incarnation)

T0=$(ms_now)
halab crash h2 >/dev/null
tap_ok "h2 is powered off at once" wait_off h2 2
seq1=$(slot_field 2 seq)
track "$TRACK" 15 "h2=FENCED" h1 h3
show "$TRACK"
seq2=$(slot_field 2 seq)

for o in h1 h3; do
    left=$(first_ms "$TRACK" $o h2=LEFT)
    fenced=$(first_ms "$TRACK" $o h2=FENCED)
    echo "# $o: h2 LEFT after $left ms, FENCED after $fenced ms"
    seen=$(states_seen "$TRACK" $o h2)
    tap_ok "$o reports h2 LEFT, then FENCED (seen: $seen)" matches "$seen" '^(ALIVE )?LEFT FENCED$'
    tap_ok "$o counts h2 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
    tap_ok "$o does not count h2 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
        test "$fenced" -ge $((WD + MARGIN))
    # WAIT (no master) is allowed for the few ms until votequorum confirms.
    tap_ok "$o never loses: SURVIVE (or a brief WAIT) with no master but h1" \
        only_lines "$TRACK" $o 'master=(h1|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o ends with SURVIVE and master h1" \
        matches "$(awk -v o=$o '$2 == o' "$TRACK" | tail -1)" 'master=h1 verdict=SURVIVE$'
done

tap_ok "h2's slot still says ALIVE (it had no chance to write FENCING)" test "$(slot_field 2 state)" = ALIVE
tap_ok "h2's slot stopped advancing (seq $seq1 then $seq2)" test "$seq1" = "$seq2"
tap_ok "h2's slot is still silent a second later" test "$(slot_field 2 seq)" = "$seq2"
tap_ok "h2's own last verdict was SURVIVE (its log)" \
    matches "$(halab log h2 vmhad | grep -E ': verdict ' | tail -1)" 'verdict SURVIVE: survive: quorate partition'
tap_ok "h2's slot keeps its last reason: it survived in {1,2,3}" \
    test "$(slot_field 2 reason)" = "survive: quorate partition {1,2,3} reaches the disk"
tap_ok "h2 never decided to fence itself (its log)" eval '! log_has h2 "fencing self"'
for i in 1 3; do
    tap_ok "h$i's own verdict is SURVIVE with the quorate partition {1,3} (its log)" \
        log_has h$i "verdict SURVIVE: survive: quorate partition \{1,3\} reaches the disk"
    tap_ok "h$i's slot is ALIVE with view {1,3}" \
        test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [1, 3]"
    tap_ok "h$i's slot gives the reason" \
        test "$(slot_field $i reason)" = "survive: quorate partition {1,3} reaches the disk"
    tap_ok "h$i's slot keeps advancing" slot_advances $i
done
tap_ok "h1 never fenced itself" eval '! log_has h1 "fencing self"'
tap_ok "h3 never fenced itself" eval '! log_has h3 "fencing self"'
# A pill is for a host 'outside the surviving partition but still writing its
# slot'; a crashed host's slot stopped when it died.
tap_ok "h1 sends no poison pill to the crashed h2, whose slot is silent" \
    eval '! log_has h1 "poison pill to h2"'

# ---- power it on again ----
mark=$(log_mark h2)
T0=$(ms_now)
halab boot h2 >/dev/null
echo "# halab boot h2 took $(ms_since "$T0") ms"
tap_ok "h2 is powered on" powered h2
track "$TRACK.boot" 20 "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE" h1 h2 h3
show "$TRACK.boot"
for o in h1 h2 h3; do
    tap_ok "$o sees h1, h2, h3 ALIVE with master h1 after the boot" \
        test "$(awk -v o=$o '$2 == o' "$TRACK.boot" | tail -1 | cut -d' ' -f3-)" = \
        "h1=ALIVE h2=ALIVE h3=ALIVE master=h1 verdict=SURVIVE"
done
# Until the new incarnation writes its slot, the old record (ALIVE, silent)
# is all the others have: the rebooted host must not be shown ALIVE on it.
for o in h1 h3; do
    seen=$(states_seen "$TRACK.boot" $o h2)
    tap_ok "$o does not show the rebooting h2 ALIVE before it is JOINING (seen: $seen)" \
        eval "! matches '$seen' 'ALIVE JOINING'"
done
echo "# h2 ALIVE everywhere $(awk '{ t = $1 } END { print t }' "$TRACK.boot") ms after the boot command"
tap_ok "h2's log says it joined the pool" log_has_since h2 "$mark" "joined the pool: survive: quorate partition \{1,2,3\}"
tap_ok "h2's log reports no self-fence at start (it crashed, it did not fence)" \
    eval '! log_has_since h2 "$mark" "this host fenced itself"'
tap_ok "h2 rejoins without an unacknowledged FENCE (no emergency from a pill)" \
    eval '! log_has_since h2 "$mark" "EMERGENCY MODE: unacknowledged-fence"'
inc_after=$(slot_field 2 incarnation)
tap_ok "h2's slot has a new incarnation ($inc_before -> $inc_after)" test "$inc_after" != "$inc_before"
tap_ok "h2's slot is ALIVE with view {1,2,3}" test "$(slot_field 2 state) $(slot_field 2 view)" = "ALIVE [1, 2, 3]"
tap_ok "h2's slot advances again" slot_advances 2
tap_ok "h2 is not in emergency mode" test "$(status_json h2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["self"]["emergency"])')" = False

keep_logs
tap_done
