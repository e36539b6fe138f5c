#!/bin/bash
# A short freeze, just under the watchdog: `freeze h2 1.5` stops h2's vmhad
# and corosync for 1.5 s, less than the 2 s watchdog. Corosync on h1/h3
# (the lab's token of 800 ms, detection about 1.8 s) may or may not drop h2 before it
# thaws, and h2 resumes with a stale view. Either it is still a member and
# simply rejoins, or it finds itself out and fences (or its watchdog fires
# because the thaw came too late). Any outcome is allowed except this one:
# a survivor reports h2 FENCED while h2 still runs and writes its slot. So:
# whenever h1 or h3 reports h2 FENCED, h2 must already be off (or its slot
# must already say FENCING), and its slot must never advance afterwards.
# The outcome is printed as a TAP comment ("# outcome: ...").
. "$srcdir/tests/lab/cases/lib.sh"

matches() { printf '%s\n' "$1" | grep -Eq -- "$2"; }   # STRING REGEX

lab_start 3 --timeout 2
trap keep_lab_logs EXIT

pool_formed_or_stop h1 h2 h3
seq_before=$(slot_field 2 seq)
log_lines=$(halab log h2 vmhad | wc -l)

t0=$(ms_now)
halab freeze h2 1.5 >/dev/null
# Watch for 12 s. powered is sampled before each observer is asked, so "off
# before the FENCED report" is never inferred from a later sample.
declare -A t_fenced seq_at_fenced
violations='' t_off='' last_advance=0 last_seq=$seq_before
while [ "$(ms_since "$t0")" -lt 12000 ]; do
    for o in h1 h3; do
        if is_on h2; then on=yes; else on=no; [ -z "$t_off" ] && t_off=$(ms_since "$t0"); fi
        st=$(host_state "$o" h2)
        if [ "$st" = FENCED ]; then
            now=$(ms_since "$t0")
            slot_state=$(slot_field 2 state)
            if [ -z "${t_fenced[$o]:-}" ]; then
                t_fenced[$o]=$now
                seq_at_fenced[$o]=$(slot_field 2 seq)
            fi
            if [ "$on" = yes ] && [ "$slot_state" != FENCING ]; then
                violations="$violations $o@${now}ms(slot $slot_state seq $(slot_field 2 seq))"
            fi
        fi
    done
    s=$(slot_field 2 seq)
    if [ "$s" != "$last_seq" ]; then last_seq=$s; last_advance=$(ms_since "$t0"); fi
    sleep 0.05
done

# What happened to h2, from its own logs.
h2_new=$(halab log h2 vmhad | tail -n +"$((log_lines + 1))")
h2_fence=$(echo "$h2_new" | grep -m1 -o 'fencing self: .*' || true)
wd_expired=no
halab log h2 watchdog | grep -q 'expire timeout=2: power off' && wd_expired=yes
if is_on h2; then
    outcome="h2 rejoined and runs on (verdict $(verdict h2))"
elif [ -n "$h2_fence" ]; then
    outcome="h2 found itself out and fenced: ${h2_fence#fencing self: }"
elif [ "$wd_expired" = yes ]; then
    outcome="h2's watchdog expired before it could feed again"
else
    outcome="h2 is off, cause unknown"
fi
echo "# outcome: $outcome"
echo "# h2 off at ${t_off:-never} ms; h1 reported FENCED at ${t_fenced[h1]:-never} ms, h3 at ${t_fenced[h3]:-never} ms; h2's slot last seen advancing at ${last_advance} ms (seq $seq_before -> $last_seq, now $(slot_field 2 state)), watchdog expired: $wd_expired"
echo "$h2_new" | grep -E 'membership|quorum|verdict|fencing|master' | head -12 | sed 's/^/# h2 after the freeze: /'
for o in h1 h3; do
    halab log "$o" vmhad | grep -E 'membership|verdict' | tail -4 | sed "s/^/# $o: /"
done

tap_ok "no survivor reported h2 FENCED while h2 was powered and its slot not FENCING${violations:+ (at:$violations)}" \
    test -z "$violations"
for o in h1 h3; do
    if [ -n "${t_fenced[$o]:-}" ]; then
        tap_ok "$o reported h2 FENCED only after h2 was off (off ${t_off:-never} ms, FENCED ${t_fenced[$o]} ms)" \
            test -n "$t_off" -a "${t_off:-99999}" -le "${t_fenced[$o]}"
        tap_ok "h2's slot never advanced after $o reported it FENCED (seq ${seq_at_fenced[$o]})" \
            test "$(slot_field 2 seq)" = "${seq_at_fenced[$o]}"
        tap_ok "$o reports h2 FENCED no sooner than watchdog + margin after the freeze" \
            test "${t_fenced[$o]}" -ge 3000
    fi
done
if is_on h2; then
    tap_ok "h2 runs on with the verdict SURVIVE" test "$(verdict h2)" = SURVIVE
    tap_ok "h2 never fenced itself" test -z "$h2_fence"
    tap_ok "h2's slot advances" eval "s=\$(slot_field 2 seq); wait_until 3 '[ \"\$(slot_field 2 seq)\" -gt '\$s' ]'"
    for o in h1 h3; do
        tap_ok "$o sees h2 ALIVE again" wait_state "$o" h2 ALIVE 5
        tap_ok "$o never reported h2 FENCED" test -z "${t_fenced[$o]:-}"
    done
else
    tap_ok "h2's own log or its watchdog explains the power-off" \
        test -n "$h2_fence" -o "$wd_expired" = yes
    if [ -n "$h2_fence" ]; then
        tap_ok "h2 fenced itself for having lost (rule 2, 3 or 4) or on the master's poison pill" \
            matches "$h2_fence" '^fencing self: (lost: (no quorum|disk lost)|poison pill from h[13]: outside the surviving partition)'
    fi
    for o in h1 h3; do
        tap_ok "$o reports h2 FENCED" wait_state "$o" h2 FENCED 5
    done
fi
for o in h1 h3; do
    tap_ok "$o SURVIVEs throughout" eval "[ \"\$(verdict $o)\" = SURVIVE ] && ! log_has $o 'verdict FENCE|fencing self'"
done
tap_ok "h1 is still the master" test "$(master_of h3)" = h1

[ "$TAP_FAILED" -eq 0 ] || diag h1 h2 h3
tap_done
