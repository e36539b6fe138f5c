#!/bin/bash
# Four hosts split two against two (partition h1,h2 h3,h4): neither side is
# quorate and there is no tiebreak target, so rule 2 gives the tie to the
# side with the lowest node id, {1,2}. Exactly one side survives: h3 and h4
# fence themselves (logs, FENCING slots, powered off), h1 and h2 SURVIVE
# (logs, ALIVE slots that keep advancing) and report h3, h4 FENCED within
# the budget.
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

lab_start 4 --timeout 2
TRACK=$HALAB_DIR/track
WD=2000 MARGIN=1000 TIMEOUT=2000
BUDGET=$((TIMEOUT + WD + MARGIN + 1500))   # + detection slack
WIN='\{1,2\} beats \{3,4\} \(tie, lowest node id\)'
SURV='(disk shows partition \{1,2\} beats \{(3,4|3|4)\} \((tie, lowest node id|bigger)\)|no other partition on the disk, \{1,2\} wins)'
LOSE='\{1,2\} beats \{(3,4\} \(tie, lowest node id|[34]\} \(bigger)\)'

for o in h1 h2 h3 h4; do
    tap_ok "$o sees all four ALIVE and h1 master before the split" \
        wait_until 10 "[ \"\$(host_state $o h1)\$(host_state $o h2)\$(host_state $o h3)\$(host_state $o h4)\$(master_of $o)\" = ALIVEALIVEALIVEALIVEh1 ]"
done

T0=$(ms_now)
for i in 1 2 3 4; do eval "mark$i=\$(log_mark h$i)"; done
halab partition h1,h2 h3,h4 >/dev/null
track "$TRACK" 15 "h3=FENCED h4=FENCED" h1 h2 &
tracker=$!
for h in h3 h4; do
    tap_ok "$h fences itself and powers off" wait_off $h 10
    echo "# $h off after $(ms_since "$T0") ms"
done
wait $tracker
show "$TRACK"
tap_ok "exactly one side survives: h1 and h2 are still powered" eval 'powered h1 && powered h2'

for h in h3 h4; do
    echo "# $h: $(halab log $h vmhad | grep -m1 'fencing self')"
    # The first of the two to decide loses the tie; the second may already
    # see the first FENCING (no longer a competitor) and lose to a bigger {1,2}.
    tap_ok "$h's log says it fences itself because {1,2} wins" \
        log_has_since $h "$(eval echo \$mark${h#h})" "fencing self: lost: no quorum, disk shows partition $LOSE"
    tap_ok "$h's log has its verdict FENCE" log_has_since $h "$(eval echo \$mark${h#h})" "verdict FENCE: lost: no quorum"
    tap_ok "$h never concluded SURVIVE after the split" \
        eval "! log_has_since $h $(eval echo \$mark${h#h}) 'verdict SURVIVE'"
    tap_ok "$h's slot says FENCING" test "$(slot_field ${h#h} state)" = FENCING
    tap_ok "$h's slot carries the reason" \
        matches "$(slot_field ${h#h} reason)" "^lost: no quorum, disk shows partition $LOSE"
done
tap_ok "the first of h3, h4 to decide lost the tie on the lowest node id" \
    eval 'log_has h3 "fencing self: lost: no quorum, disk shows partition $WIN" ||
          log_has h4 "fencing self: lost: no quorum, disk shows partition $WIN"'
for o in h1 h2; do
    for h in h3 h4; do
        fenced=$(first_ms "$TRACK" $o $h=FENCED)
        seen=$(states_seen "$TRACK" $o $h)
        echo "# $o: $h states $seen; FENCED after $fenced ms"
        tap_ok "$o reports $h FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
        tap_ok "$o does not count $h FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
            test "$fenced" -ge $((WD + MARGIN))
        tap_ok "$o never shows $h ALIVE again once it went (seen: $seen)" \
            matches "$seen" '^(ALIVE )?((LEFT|FENCING) )*FENCED$'
    done
    tap_ok "$o never fences: SURVIVE or WAIT, master h1 or none" \
        only_lines "$TRACK" $o 'master=(h1|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o now: SURVIVE, master h1, h3 and h4 FENCED" \
        test "$(host_state $o h3) $(host_state $o h4) $(master_of $o) $(verdict $o)" = "FENCED FENCED h1 SURVIVE"
    i=${o#h}
    # The tie, or {1,2} against what is left once h3 or h4 wrote FENCING.
    tap_ok "$o's log says it survives because {1,2} wins" \
        log_has_since $o "$(eval echo \$mark$i)" "verdict SURVIVE: survive: no quorum, $SURV"
    tap_ok "$o never fenced itself" eval "! log_has $o 'fencing self'"
    tap_ok "$o's slot is ALIVE with view {1,2}" test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [1, 2]"
    tap_ok "$o's slot says not quorate" test "$(slot_field $i quorate)" = false
    tap_ok "$o's slot keeps advancing" slot_advances $i
done

keep_logs
tap_done
