#!/bin/bash
# The master of a three-host pool crashes: h2, the next lowest id, becomes
# master, and h2 and h3 agree on it (never two masters); h1 shows LEFT,
# then FENCED within the failover budget (not before the watchdog timeout
# plus the margin); the survivors' own verdicts (log and slot) are SURVIVE
# in the quorate partition {2,3}; h1's slot stays ALIVE and goes silent.
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
mark2=$(log_mark h2)
mark3=$(log_mark h3)

T0=$(ms_now)
halab crash h1 >/dev/null
tap_ok "h1 is powered off at once" wait_off h1 2
seq1=$(slot_field 1 seq)
track "$TRACK" 15 "h1=FENCED master=h2 verdict=SURVIVE" h2 h3
show "$TRACK"
seq2=$(slot_field 1 seq)

for o in h2 h3; do
    left=$(first_ms "$TRACK" $o h1=LEFT)
    master=$(first_ms "$TRACK" $o master=h2)
    fenced=$(first_ms "$TRACK" $o h1=FENCED)
    echo "# $o: h1 LEFT after $left ms, master h2 after $master ms, h1 FENCED after $fenced ms"
    tap_ok "$o names h2 master within the budget (${master} ms <= ${BUDGET} ms)" test "$master" -le "$BUDGET"
    tap_ok "$o never names two masters, nor one but h1 or h2" \
        only_lines "$TRACK" $o 'master=(h1|h2|none) verdict=(SURVIVE|WAIT)$'
    tap_ok "$o stops naming h1 master once h1 is out" \
        eval "! awk -v o=$o '\$2 == o && \$3 != \"h1=ALIVE\"' '$TRACK' | grep -q 'master=h1 '"
    seen=$(states_seen "$TRACK" $o h1)
    tap_ok "$o reports h1 LEFT, then FENCED (seen: $seen)" matches "$seen" '^(ALIVE )?LEFT FENCED$'
    tap_ok "$o counts h1 FENCED within the budget (${fenced} ms <= ${BUDGET} ms)" test "$fenced" -le "$BUDGET"
    tap_ok "$o does not count h1 FENCED before watchdog + margin (${fenced} ms >= $((WD + MARGIN)) ms)" \
        test "$fenced" -ge $((WD + MARGIN))
    tap_ok "$o ends with SURVIVE, master h2, h1 FENCED" \
        matches "$(awk -v o=$o '$2 == o' "$TRACK" | tail -1)" 'h1=FENCED h2=ALIVE h3=ALIVE master=h2 verdict=SURVIVE$'
done
tap_ok "h2 and h3 agree: the master is h2" test "$(master_of h2) $(master_of h3)" = "h2 h2"
tap_ok "h2's log: it became master" log_has_since h2 "$mark2" "master is now h2 \(id 2\): this host"
tap_ok "h3's log: h2 is master" log_has_since h3 "$mark3" "master is now h2 \(id 2\)$"
for i in 2 3; do
    tap_ok "h$i's own verdict is SURVIVE with the quorate partition {2,3} (its log)" \
        log_has_since h$i "$(eval echo \$mark$i)" "verdict SURVIVE: survive: quorate partition \{2,3\} reaches the disk"
    tap_ok "h$i's slot is ALIVE with view {2,3}" \
        test "$(slot_field $i state) $(slot_field $i view)" = "ALIVE [2, 3]"
    tap_ok "h$i's slot gives the reason" \
        test "$(slot_field $i reason)" = "survive: quorate partition {2,3} reaches the disk"
    tap_ok "h$i's slot keeps advancing" slot_advances $i
    tap_ok "h$i never fenced itself" eval "! log_has h$i 'fencing self'"
done
tap_ok "h1's slot still says ALIVE (it had no chance to write FENCING)" test "$(slot_field 1 state)" = ALIVE
tap_ok "h1's slot stopped advancing (seq $seq1 then $seq2)" test "$seq1" = "$seq2"
tap_ok "h1's own last verdict was SURVIVE (its log)" \
    matches "$(halab log h1 vmhad | grep -E ': verdict ' | tail -1)" 'verdict SURVIVE: survive: quorate partition'
tap_ok "h1 never decided to fence itself (its log)" eval '! log_has h1 "fencing self"'

keep_logs
tap_done
