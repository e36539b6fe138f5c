#!/bin/bash
# Two hosts with a tiebreak target (the lab's gw): partition h1 h2,gw cuts
# h1 off from both h2 and the tiebreak target. Neither side is quorate (no
# two_node) and the split is even, so rule 2 decides on the tiebreak: h2
# reaches gw and survives, h1 fences itself although it has the lower id.
# Checked from h2's view (h1 FENCED, h2 master) and from each host's own
# log and disk slot (the reasons name the tiebreak).
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

lab_start 2 --timeout 2 --tiebreak
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack
WIN='\{2\} beats \{1\} \(tie, tiebreak target reachable\)'

for o in h1 h2; do
    tap_ok "$o sees both ALIVE and h1 master before the split" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(master_of $o)\" = ALIVEALIVEh1 ]"
done
tap_ok "h1's log: it probes the tiebreak target" log_has h1 "probing the tiebreak target 198.18.0.254"
tap_ok "h2's log: it probes the tiebreak target" log_has h2 "probing the tiebreak target 198.18.0.254"
tap_ok "both slots publish the tiebreak target reachable" \
    wait_until 5 '[ "$(slot_field 1 tiebreak_ok) $(slot_field 2 tiebreak_ok)" = "true true" ]'

T0=$(ms_now)
mark1=$(log_mark h1)
mark2=$(log_mark h2)
halab partition h1 h2,gw >/dev/null
track "$TRACK" 15 "h1=FENCED master=h2 verdict=SURVIVE" h2 &
tracker=$!
tap_ok "h1 fences itself and powers off, despite the lower id" wait_off h1 10
echo "# h1 off after $(ms_since "$T0") ms"
wait $tracker
show "$TRACK"
tap_ok "h2 is still powered" powered h2

echo "# h1: $(halab log h1 vmhad | grep -m1 'fencing self')"
tap_ok "h1's log: it fences itself because h2's side reaches the tiebreak target" \
    log_has_since h1 "$mark1" "fencing self: lost: no quorum, disk shows partition $WIN"
tap_ok "h1's log has its verdict FENCE" \
    log_has_since h1 "$mark1" "verdict FENCE: lost: no quorum, disk shows partition $WIN"
tap_ok "h1 never concluded SURVIVE after the split" eval "! log_has_since h1 $mark1 'verdict SURVIVE'"
tap_ok "h1's slot says FENCING" test "$(slot_field 1 state)" = FENCING
tap_ok "h1's slot carries the tiebreak reason" \
    matches "$(slot_field 1 reason)" "^lost: no quorum, disk shows partition $WIN"

echo "# h2: $(halab log h2 vmhad | grep -E 'verdict SURVIVE: survive: no quorum' | head -1)"
# h2 decides on the tie as soon as it reads h1's settled view {1}; only if
# h1 went from {1} to FENCING between two of h2's reads is there no tie
# left for h2 to break (then h2 wins alone and h1's reason carries it).
tap_ok "h2's log: it survives because it reaches the tiebreak target (or h1 had already conceded on it)" \
    eval 'log_has_since h2 "$mark2" "verdict SURVIVE: survive: no quorum, disk shows partition $WIN" ||
          { log_has_since h2 "$mark2" "verdict SURVIVE: survive: no quorum, no other partition on the disk, \{2\} wins" &&
            log_has_since h1 "$mark1" "fencing self: lost: no quorum, disk shows partition $WIN"; }'
tap_ok "h2's log: no other verdict after the split than WAIT and SURVIVE" \
    eval "! halab log h2 vmhad | tail -n +$((mark2 + 1)) | grep -E ': verdict ' | grep -vE 'verdict (WAIT|SURVIVE):'"
tap_ok "h2 never fenced itself" eval "! log_has h2 'fencing self'"
tap_ok "h2's log: it became master" log_has h2 "master is now h2 \(id 2\): this host"
tap_ok "h2's slot is ALIVE with view {2}, not quorate, tiebreak reachable" \
    test "$(slot_field 2 state) $(slot_field 2 view) $(slot_field 2 quorate) $(slot_field 2 tiebreak_ok)" = "ALIVE [2] false true"
tap_ok "h2's slot keeps advancing" slot_advances 2

fenced=$(first_ms "$TRACK" h2 h1=FENCED)
master=$(first_ms "$TRACK" h2 master=h2)
seen=$(states_seen "$TRACK" h2 h1)
echo "# h2: h1 states $seen; master h2 after $master ms; h1 FENCED after $fenced ms"
tap_ok "h2 reports h1 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
tap_ok "h2 does not count h1 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
    test "$fenced" -ge $((WD + MARGIN))
tap_ok "h2 never shows h1 ALIVE again once it went (seen: $seen)" \
    matches "$seen" '^(ALIVE )?((LEFT|FENCING) )*FENCED$'
tap_ok "h2 never fences: SURVIVE or WAIT, master h1, h2 or none" \
    only_lines "$TRACK" h2 'master=(h1|h2|none) verdict=(SURVIVE|WAIT)$'
tap_ok "h2 now: SURVIVE, master h2, h1 FENCED" \
    test "$(host_state h2 h1) $(master_of h2) $(verdict h2)" = "FENCED h2 SURVIVE"

keep_logs
tap_done
