#!/bin/bash
# End-to-end tests of `haadm plan` on the fixtures in tests/cli/plan/:
# JSON answers parsed and checked with python3, tables spot-checked, and
# every kind of bad input rejected with exit status 2 and a message naming
# the JSON path. Speaks TAP.
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
HAADM="$builddir/tools/haadm"
FIX="$srcdir/tests/cli/plan"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
    n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
    [ -s "$tmp/out" ] && sed 's/^/#   out: /' "$tmp/out" | head -20
    [ -s "$tmp/err" ] && sed 's/^/#   err: /' "$tmp/err" | head -5
    return 0
}

# run ARGS...: runs haadm, output in $tmp/out and $tmp/err, status in $rc
run() { "$HAADM" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }

# json_ok DESC PYTHON-EXPRESSION ARGS...: exit 0 and the expression holds for d = the JSON output
json_ok() {
    local desc=$1 expr=$2; shift 2
    run "$@"
    if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/out" "$expr" 2>>"$tmp/err"; then
        pass "$desc"
    else
        fail "$desc (exit $rc)"
    fi
}

# usage_error DESC NEEDLE ARGS...: exit 2 and stderr contains NEEDLE
usage_error() {
    local desc=$1 needle=$2; shift 2
    run "$@"
    if [ "$rc" -eq 2 ] && grep -qF -- "$needle" "$tmp/err"; then
        pass "$desc"
    else
        fail "$desc (exit $rc, expected 2 and '$needle')"
    fi
}

# text_ok DESC NEEDLE ARGS...: exit 0 and stdout contains NEEDLE
text_ok() {
    local desc=$1 needle=$2; shift 2
    run "$@"
    if [ "$rc" -eq 0 ] && grep -qF -- "$needle" "$tmp/out"; then
        pass "$desc"
    else
        fail "$desc (exit $rc, expected '$needle')"
    fi
}

if [ ! -x "$HAADM" ]; then
    echo "not ok 1 - haadm not built at $HAADM"
    exit 1
fi

# ---- failures tolerated ----
json_ok "ntol of the sample pool is 2, exact, on target" \
    'd["failures_tolerated"] == 2 and d["exact"] is True and d["target"] == 2 and d["overcommitted"] is False' \
    plan --input "$FIX/pool.json" --json
json_ok "a pool that tolerates its target has all live hosts as the uncovered failure" \
    'd["uncovered_failure"] == ["h1", "h2", "h3"] and d["live_hosts"] == 3' \
    plan --input "$FIX/pool.json" --json
json_ok "non-agile restart VMs are listed apart" \
    'd["non_agile_restart_vms"] == ["vm-pinned"]' \
    plan --input "$FIX/pool.json" --json
json_ok "an overcommitted pool says so and names a failure that does not fit" \
    'd["failures_tolerated"] == 1 and d["overcommitted"] is True and d["uncovered_failure"] == ["h1", "h2"]' \
    plan --input "$FIX/overcommitted.json" --json
json_ok "without failures_to_tolerate the target is null and nothing is overcommitted" \
    'd["target"] is None and d["overcommitted"] is False and d["failures_tolerated"] == 1' \
    plan --input "$FIX/no_target.json" --json
json_ok "greedy packing fails but the exact search proves one failure tolerated" \
    'd["failures_tolerated"] == 1 and d["exact"] is True and len(d["uncovered_failure"]) == 2' \
    plan --input "$FIX/ffd_trap.json" --json
text_ok "the table shows failures tolerated and the target" "Failures tolerated:  2 (exact)" \
    plan --input "$FIX/pool.json"
text_ok "the table says which VMs an uncovered failure leaves unplaced" "{h1,h2} would leave" \
    plan --input "$FIX/overcommitted.json"
text_ok "the table flags an overcommitted pool" "OVERCOMMITTED" \
    plan --input "$FIX/overcommitted.json"

# ---- restart plans ----
json_ok "restart plan runs order groups in order, then best-effort VMs" \
    '[(r["vm"], r["host"], r["order"]) for r in d["restarts"]] == [("vm-a", "h3", 0), ("vm-b", "h3", 1), ("vm-d", "h3", 0)] and d["unplaced"] == []' \
    plan --input "$FIX/pool.json" --fail h1,h2 --json
json_ok "restart plan carries each VM's start delay" \
    'd["restarts"][0]["start_delay_s"] == 10 and d["restarts"][1]["start_delay_s"] == 0' \
    plan --input "$FIX/pool.json" --fail h1,h2 --json
json_ok "restart plan lists a pinned VM as unplaced" \
    '[r["vm"] for r in d["restarts"]] == ["vm-c"] and d["unplaced"] == ["vm-pinned"]' \
    plan --input "$FIX/pool.json" --fail h3 --json
json_ok "restart plan with every live host failed places nothing and lists everything" \
    'd["restarts"] == [] and set(d["unplaced"]) == {"vm-a", "vm-b", "vm-c", "vm-d", "vm-pinned"}' \
    plan --input "$FIX/pool.json" --fail h1,h2,h3 --json
json_ok "restart plan places every VM of a tolerated failure even where greedy packing fails" \
    'len(d["restarts"]) == 9 and d["unplaced"] == []' \
    plan --input "$FIX/ffd_trap.json" --fail a --json
json_ok "restart plan never overcommits a survivor" \
    'all(sum({"t0":4096,"t1":4096,"t2":4096}.get(r["vm"], 3072) for r in d["restarts"] if r["host"] == h) <= cap for h, cap in (("b", 11264), ("c", 9216), ("d", 10240)))' \
    plan --input "$FIX/ffd_trap.json" --fail a --json
json_ok "a host named twice in --fail counts once" \
    'len(d["restarts"]) == 3' \
    plan --input "$FIX/pool.json" --fail h1,h2,h1 --json
text_ok "the restart table shows steps and unplaced VMs" "Unplaced: vm-pinned (restart, 2048 MiB, pinned)" \
    plan --input "$FIX/pool.json" --fail h3

# ---- evacuation ----
json_ok "evacuation first moves a VM to make room, then migrates" \
    'd["migrations"] == [{"vm": "small", "from": "a", "to": "b"}, {"vm": "big", "from": "h", "to": "a"}] and d["unplaced"] == []' \
    plan --input "$FIX/evacuate.json" --evacuate h --json
json_ok "evacuation of a host with room elsewhere moves its VMs directly" \
    'sorted(m["vm"] for m in d["migrations"]) == ["vm-a", "vm-d"] and all(m["from"] == "h1" and m["to"] in ("h2", "h3") for m in d["migrations"])' \
    plan --input "$FIX/pool.json" --evacuate h1 --json
json_ok "evacuation lists a pinned VM as unplaced" \
    'd["unplaced"] == ["vm-pinned"] and [m["vm"] for m in d["migrations"]] == ["vm-c"]' \
    plan --input "$FIX/pool.json" --evacuate h3 --json
text_ok "the evacuation table marks moves that make room" "(makes room)" \
    plan --input "$FIX/evacuate.json" --evacuate h

# ---- admission control ----
run plan --input "$FIX/admission.json" --protect vm-e --json
if [ "$rc" -eq 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["allowed"] is False and d["failures_tolerated_before"] == 2 and d["failures_tolerated_after"] == 1
assert "protecting vm-e (12288 MiB) drops failures tolerated from 2 to 1, below the target 2; the failure of {h1,h2}" in d["reason"], d["reason"]' "$tmp/out" 2>>"$tmp/err"; then
    pass "protecting a VM that breaks the target is refused (exit 1) with the reason"
else
    fail "protecting a VM that breaks the target is refused (exit 1) with the reason"
fi
run plan --input "$FIX/overcommit_allowed.json" --protect vm-e --json
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["allowed"] is True and d["overcommitted"] is True and "overcommitted" in d["reason"]' "$tmp/out" 2>>"$tmp/err"; then
    pass "with allow_overcommit the change is allowed and flagged overcommitted"
else
    fail "with allow_overcommit the change is allowed and flagged overcommitted"
fi
text_ok "starting a halted VM that keeps the target is allowed" "allowed: starting vm-off (4096 MiB) on h3" \
    plan --input "$FIX/pool.json" --start vm-off@h3
run plan --input "$FIX/pool.json" --grow vm-a=40000
if [ "$rc" -eq 1 ] && grep -qF "refused: growing vm-a from 8192 to 40000 MiB is impossible" "$tmp/out"; then
    pass "growing a VM beyond its host's memory is refused"
else
    fail "growing a VM beyond its host's memory is refused"
fi
run plan --input "$FIX/pool.json" --maintenance h3
if [ "$rc" -eq 1 ] && grep -qF "vm-pinned (pinned to the host)" "$tmp/out"; then
    pass "maintenance of a host with a pinned VM is refused"
else
    fail "maintenance of a host with a pinned VM is refused"
fi

# ---- usage and bad input: exit 2, message names the JSON path ----
usage_error "unknown priority names vms[3].priority" \
    'vms[3].priority: unknown priority "sometimes" (expected restart, best-effort or none)' \
    plan --input "$FIX/bad_priority.json"
usage_error "unknown state names hosts[1].state" 'hosts[1].state: unknown state "asleep"' \
    plan --input "$FIX/bad_state.json"
usage_error "unknown host of a VM names vms[1].host" 'vms[1].host: unknown host "h9"' \
    plan --input "$FIX/bad_vm_host.json"
usage_error "duplicate host name is rejected" 'hosts[2].name: duplicate host name "h1"' \
    plan --input "$FIX/bad_dup_host.json"
usage_error "duplicate VM name is rejected" 'vms[4].name: duplicate VM name "vm-a"' \
    plan --input "$FIX/bad_dup_vm.json"
usage_error "negative memory is rejected" 'vms[2].memory_mib: memory (MiB) must not be negative' \
    plan --input "$FIX/bad_negative_memory.json"
usage_error "fractional memory is rejected" 'hosts[1].memory_mib: memory (MiB) must be an integer, not a non-integer number (32768.5)' \
    plan --input "$FIX/bad_fractional_memory.json"
usage_error "memory given as a string is rejected" 'vms[0].memory_mib: memory (MiB) must be an integer, not a string' \
    plan --input "$FIX/bad_string_memory.json"
usage_error "an unknown key is rejected" 'vms[1]: unknown key "ordre"' \
    plan --input "$FIX/bad_unknown_key.json"
usage_error "a non-boolean agile is rejected" 'vms[5].agile: must be true or false' \
    plan --input "$FIX/bad_agile.json"
usage_error "malformed JSON is rejected with its position" 'bad_malformed.json: malformed JSON at line' \
    plan --input "$FIX/bad_malformed.json"
usage_error "a missing file is reported" 'nonexistent.json: cannot open' \
    plan --input "$FIX/nonexistent.json"
usage_error "an unknown host in --fail is rejected" '--fail: unknown host "h9"' \
    plan --input "$FIX/pool.json" --fail h1,h9
usage_error "an empty name in --fail is rejected" '--fail: empty host name' \
    plan --input "$FIX/pool.json" --fail h1,
usage_error "an unknown host in --evacuate is rejected" '--evacuate: unknown host "nope"' \
    plan --input "$FIX/pool.json" --evacuate nope
usage_error "evacuating a dead host is rejected" '--evacuate: h4 is dead' \
    plan --input "$FIX/pool.json" --evacuate h4
usage_error "an unknown option is rejected" "plan: unknown option '--frobnicate' (see 'haadm plan --help')" \
    plan --input "$FIX/pool.json" --frobnicate
usage_error "an option without its value says so" "plan: option --input needs a value" \
    plan --input
usage_error "an option without its value says so, wherever it is" "plan: option --fail needs a value" \
    plan --input "$FIX/pool.json" --fail
usage_error "a missing --input is rejected" 'plan: missing --input FILE' \
    plan --json
usage_error "two questions at once are rejected" 'cannot be combined' \
    plan --input "$FIX/pool.json" --fail h1 --evacuate h2
usage_error "an unknown VM in --protect is rejected" '--protect: unknown VM "ghost"' \
    plan --input "$FIX/pool.json" --protect ghost
usage_error "--grow without a size is rejected" '--grow: expected VM=MIB' \
    plan --input "$FIX/pool.json" --grow vm-a
usage_error "starting a running VM is rejected" '--start: vm-a is already running' \
    plan --input "$FIX/pool.json" --start vm-a@h2

# ---- strict JSON: what json-c alone would take ----
# lax NAME TEXT: writes TEXT (printf format) to $tmp/NAME.json
lax() { printf "$2" >"$tmp/$1.json"; }
lax dupkey '{"hosts": [{"name": "a", "memory_mib": 1024, "memory_mib": 99999}], "vms": []}\n'
usage_error "a key given twice is rejected with its position" \
    'dupkey.json: malformed JSON at line 1, column 46: key "memory_mib" appears twice in one object' \
    plan --input "$tmp/dupkey.json"
lax dupescaped '{"hosts": [], "vms": [], "h\\u006fsts": []}\n'
usage_error "a key given twice under another spelling is rejected" 'key "hosts" appears twice in one object' \
    plan --input "$tmp/dupescaped.json"
lax comma '{"hosts": [{"name": "a", "memory_mib": 1024},], "vms": []}\n'
usage_error "a trailing comma is rejected" 'comma.json: malformed JSON at line 1, column 46' \
    plan --input "$tmp/comma.json"
lax comment '{"hosts": [], // none yet\n "vms": []}\n'
usage_error "a comment is rejected" 'comment.json: malformed JSON at line 1, column 15' \
    plan --input "$tmp/comment.json"
lax squote "{'hosts': [], \"vms\": []}\n"
usage_error "a single-quoted string is rejected" 'single-quoted strings are not JSON' \
    plan --input "$tmp/squote.json"
lax top42 '42\n'
usage_error "a bare number at the top level gets a clear message" \
    'top42.json: expected a JSON object at the top level' plan --input "$tmp/top42.json"
lax toparr '[{"hosts": []}]\n'
usage_error "an array at the top level gets the same message" \
    'toparr.json: expected a JSON object at the top level' plan --input "$tmp/toparr.json"

# ---- limits: the same as haadm pool set / vm set and vmhad ----
lax ftt '{"failures_to_tolerate": 255, "hosts": [], "vms": []}\n'
usage_error "failures_to_tolerate beyond 254 is rejected, as pool set does" \
    'failures_to_tolerate: the target must be between 0 and 254 (got 255)' plan --input "$tmp/ftt.json"
lax delay '{"hosts": [{"name": "h1", "memory_mib": 1024}], "vms": [{"name": "v", "memory_mib": 1, "start_delay_s": 3601}]}\n'
usage_error "a start delay beyond 3600 s is rejected, as vm set does" \
    'vms[0].start_delay_s: the start delay (seconds) must be between 0 and 3600 (got 3601)' plan --input "$tmp/delay.json"
lax order '{"hosts": [{"name": "h1", "memory_mib": 1024}], "vms": [{"name": "v", "memory_mib": 1, "order": -1000001}]}\n'
usage_error "an order beyond -1000000..1000000 is rejected, as vm set does" \
    'vms[0].order: the order must be between -1000000 and 1000000 (got -1000001)' plan --input "$tmp/order.json"
lax vmmem '{"hosts": [{"name": "h1", "memory_mib": 1024}], "vms": [{"name": "v", "memory_mib": 16777217}]}\n'
usage_error "a VM's memory beyond 16 TiB is rejected, as vm set does" \
    'vms[0].memory_mib: memory (MiB) must be between 0 and 16777216 (got 16777217)' plan --input "$tmp/vmmem.json"
lax hostmem '{"hosts": [{"name": "h1", "memory_mib": 17179869184}], "vms": []}\n'
usage_error "a host's memory beyond 16 TiB is rejected, as vmha.conf does" \
    'hosts[0].memory_mib: memory (MiB) must be between 0 and 16777216 (got 17179869184)' plan --input "$tmp/hostmem.json"
usage_error "--grow beyond 16 TiB is rejected" "--grow: memory must be a whole number of MiB in 0..16777216 (16 TiB), not '16777217'" \
    plan --input "$FIX/pool.json" --grow vm-a=16777217
lax limits '{"failures_to_tolerate": 254, "hosts": [{"name": "h1", "memory_mib": 16777216}], "vms": [{"name": "v", "memory_mib": 16777216, "start_delay_s": 3600, "order": 1000000}]}\n'
json_ok "the largest values vm set and pool set take are taken" 'd["target"] == 254' \
    plan --input "$tmp/limits.json" --json

# ---- names: the rule haadm vm set and vmhad use ----
lax esc '{"hosts": [{"name": "h\\u001b[31m", "memory_mib": 1024}], "vms": []}\n'
run plan --input "$tmp/esc.json"
if [ "$rc" -eq 2 ] && grep -qF 'hosts[0].name: invalid name "h\x1b[31m" (1-63 letters' "$tmp/err" &&
    ! grep -q $'\x1b' "$tmp/err"; then
    pass "a name with an escape sequence is rejected, and the message shows it escaped"
else
    fail "a name with an escape sequence is rejected, and the message shows it escaped"
fi
lax nul '{"hosts": [{"name": "h\\u0000a", "memory_mib": 1024}, {"name": "h\\u0000b", "memory_mib": 1024}], "vms": []}\n'
usage_error "a name with a NUL is rejected (h\\0a and h\\0b would collide)" 'hosts[0].name: invalid name' \
    plan --input "$tmp/nul.json"
lax comma_name '{"hosts": [{"name": "a,b", "memory_mib": 1024}], "vms": []}\n'
usage_error "a host name with a comma (which --fail could not name) is rejected" \
    'hosts[0].name: invalid name "a,b"' plan --input "$tmp/comma_name.json"
lax utf8 '{"hosts": [{"name": "h\xc3\xa9", "memory_mib": 1024}], "vms": []}\n'
usage_error "a non-ASCII name is rejected" 'hosts[0].name: invalid name' plan --input "$tmp/utf8.json"
lax latin1 '{"hosts": [{"name": "h\xe9", "memory_mib": 1024}], "vms": []}\n'
usage_error "bytes that are not UTF-8 are rejected before any output" 'latin1.json: malformed JSON at line 1' \
    plan --input "$tmp/latin1.json"
lax vmname '{"hosts": [{"name": "h1", "memory_mib": 1024}], "vms": [{"name": "-v", "memory_mib": 1}]}\n'
usage_error "a VM name starting with '-' is rejected" 'vms[0].name: invalid name "-v"' plan --input "$tmp/vmname.json"
lax state '{"hosts": [{"name": "h1", "memory_mib": 1024, "state": "\\u001b[2J"}], "vms": []}\n'
run plan --input "$tmp/state.json"
if [ "$rc" -eq 2 ] && grep -qF 'hosts[0].state: unknown state' "$tmp/err" && ! grep -q $'\x1b' "$tmp/err"; then
    pass "an unknown value is quoted without its control characters"
else
    fail "an unknown value is quoted without its control characters"
fi

# ---- help ----
run plan --help
if [ "$rc" -eq 0 ] && grep -qF -- "--fail H1,H2" "$tmp/out" && grep -qF -- "--evacuate HOST" "$tmp/out" &&
    grep -qF -- "--input FILE" "$tmp/out" && grep -qF -- "--json" "$tmp/out"; then
    pass "plan --help documents every mode and option"
else
    fail "plan --help documents every mode and option"
fi

echo "1..$n"
[ "$failures" -eq 0 ]
