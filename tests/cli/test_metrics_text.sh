#!/bin/bash
# vmhad's metrics text, read back by a real Prometheus parser: the Python
# client's text_string_to_metric_families (Debian's
# python3-prometheus-client). A realistic snapshot (tests/lib/
# metrics_fixture.h) rendered by the renderer vmhad uses, on standard
# output and through vmhad's textfile writer, must parse whole into the
# families vmhad documents, with their types, HELP texts, escaped label
# values read back as they were, one current state per host and
# consistent histograms. Needs the built tests/cli/metrics_sample. Speaks
# TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
sample="$builddir/tests/cli/metrics_sample"
work=$(mktemp -d /var/tmp/vmha-test-metrics.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The first Python that has the client (a pyenv python3 may lack Debian's).
py=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    echo "python3 with prometheus_client is missing: apt-get install python3-prometheus-client" >"$work/why"
    _tap_result 1 "a real Prometheus text parser is installed" "$work/why"
    tap_done
fi
if [ ! -x "$sample" ]; then
    echo "$sample is missing: run make check first" >"$work/why"
    _tap_result 1 "the metrics sample is built" "$work/why"
    tap_done
fi

tap_ok "the sample renders" sh -c "'$sample' >'$work/stdout.prom'"
tap_ok "vmhad's textfile writer writes the same text" "$sample" --textfile "$work/vmha.prom"
tap_ok "the textfile and the text are the same bytes" cmp "$work/stdout.prom" "$work/vmha.prom"
tap_ok "the writer leaves no temporary file" test ! -e "$work/vmha.prom.tmp"

# Prometheus' own linter, where it is installed (Debian's prometheus).
if command -v promtool >/dev/null 2>&1; then
    tap_ok "promtool check metrics finds nothing to say" sh -c "promtool check metrics <'$work/stdout.prom'"
else
    echo "ok $((TAP_N + 1)) - # SKIP promtool is not installed"
    TAP_N=$((TAP_N + 1))
fi

# check.py FILE: one line per check, "ok<TAB>DESC" or "not ok<TAB>DESC<TAB>WHY".
cat >"$work/check.py" <<'EOF'
import math, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
results = []
def check(desc, cond, why=""):
    results.append((bool(cond), desc, why))

try:
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    check("the whole text parses", True)
except Exception as e:
    print("not ok\tthe whole text parses\t%r" % (e,))
    sys.exit(0)

# The families vmhad documents, by the name the parser gives them (a
# counter's without _total) and their type.
want = {
    "vmha_info": "gauge", "vmha_host_state": "gauge", "vmha_host_master": "gauge",
    "vmha_slot_age_seconds": "gauge", "vmha_verdict": "gauge", "vmha_verdict_rule": "gauge",
    "vmha_quorate": "gauge", "vmha_ha_enabled": "gauge", "vmha_watchdog_armed": "gauge",
    "vmha_failures_tolerated": "gauge", "vmha_failures_tolerated_exact": "gauge",
    "vmha_failures_to_tolerate": "gauge", "vmha_protected_vms": "gauge",
    "vmha_self_fences": "counter", "vmha_last_self_fence_timestamp_seconds": "gauge",
    "vmha_vm_restarts": "counter", "vmha_vm_migrations": "counter",
    "vmha_loop_longest_callback_seconds": "gauge", "vmha_emergency": "gauge",
    "vmha_emergency_cause": "gauge", "vmha_disk_io_duration_seconds": "histogram",
    "vmha_disk_io_errors": "counter",
}
got = {n: f.type for n, f in fams.items()}
check("exactly the documented families, with their types", got == want,
      "missing %s, unexpected %s, types differ %s" % (
          sorted(set(want) - set(got)), sorted(set(got) - set(want)),
          sorted(n for n in want if n in got and got[n] != want[n])))
check("every family has a HELP text", all(f.documentation.strip() for f in fams.values()),
      [n for n, f in fams.items() if not f.documentation.strip()])
check("every name starts with vmha_", all(n.startswith("vmha_") for n in fams))

def samples(name):
    return fams[name].samples if name in fams else []

hosts = {}
for s in samples("vmha_host_state"):
    hosts.setdefault(s.labels["host"], []).append((s.labels["state"], s.value))
odd = 'h4 "lab" \\rack\nB'
check("escaped host names read back as they were", set(hosts) == {"h1", "h2", "h3", odd, "h\u00f4te5"},
      sorted(hosts))
states = {"joining", "alive", "fencing", "fenced", "left", "emergency"}
check("each host has one sample per state, exactly one of them 1",
      all({st for st, _ in v} == states and sorted(x for _, x in v) == [0.0] * 5 + [1.0] for v in hosts.values()),
      hosts)
cur = {h: next((st for st, x in v if x == 1.0), None) for h, v in hosts.items()}
check("the current states are the snapshot's", cur == {"h1": "alive", "h2": "alive", "h3": "fenced",
                                                      odd: "joining", "h\u00f4te5": "left"}, cur)
ages = {s.labels["host"]: s.value for s in samples("vmha_slot_age_seconds")}
check("slot ages in seconds, none for the slot never read",
      ages == {"h1": 0.12, "h2": 0.48, "h3": 12.345, "h\u00f4te5": 61.0}, ages)
master = [s.labels["host"] for s in samples("vmha_host_master") if s.value == 1.0]
check("one master", master == ["h1"], master)
verdict = {s.labels["verdict"]: s.value for s in samples("vmha_verdict")}
check("the verdict is a state set with survive current",
      verdict == {"none": 0.0, "survive": 1.0, "wait": 0.0, "fence": 0.0}, verdict)
one = lambda n: [s.value for s in samples(n)]
check("failures tolerated now and the target", one("vmha_failures_tolerated") == [1.0] and
      one("vmha_failures_to_tolerate") == [1.0])
check("counters: self-fences from the history, no restart or migration yet",
      [s.name for s in samples("vmha_self_fences")] == ["vmha_self_fences_total"] and
      one("vmha_self_fences") == [2.0] and one("vmha_vm_restarts") == [0.0] and
      one("vmha_vm_migrations") == [0.0])
cb = samples("vmha_loop_longest_callback_seconds")
check("the longest callback, labelled", len(cb) == 1 and cb[0].labels == {"callback": "disk completion"} and
      cb[0].value == 0.012345, cb)
causes = {s.labels["cause"]: s.value for s in samples("vmha_emergency_cause")}
check("emergency mode and its causes", one("vmha_emergency") == [0.0] and
      causes == {"heartbeat-device-unreadable": 0.0, "corosync-down": 0.0, "fence-loop": 0.0}, causes)

ops = {}
for s in samples("vmha_disk_io_duration_seconds"):
    ops.setdefault(s.labels["op"], {"buckets": [], "sum": None, "count": None})
    o = ops[s.labels["op"]]
    if s.name.endswith("_bucket"):
        o["buckets"].append((float(s.labels["le"]), s.value))
    elif s.name.endswith("_sum"):
        o["sum"] = s.value
    else:
        o["count"] = s.value
check("a histogram per kind of I/O", sorted(ops) == sorted(
    ["slot_write", "read_round", "mailbox_read", "mailbox_write", "config_write", "claims"]), sorted(ops))
bad = []
for op, o in ops.items():
    les = [le for le, _ in o["buckets"]]
    counts = [c for _, c in o["buckets"]]
    if les != sorted(les) or len(set(les)) != len(les) or not math.isinf(les[-1]):
        bad.append((op, "bounds", les))
    if counts != sorted(counts) or counts[-1] != o["count"]:
        bad.append((op, "counts", counts, o["count"]))
check("buckets rise to +Inf, counts never fall and +Inf equals _count", not bad, bad)
sw = ops.get("slot_write", {})
check("the slot writes' count and sum", sw.get("count") == 8.0 and abs((sw.get("sum") or 0) - 0.70765) < 1e-9, sw)
errors = {s.labels["op"]: s.value for s in samples("vmha_disk_io_errors")}
check("errors by kind", errors.get("slot_write") == 1.0 and errors.get("read_round") == 1.0 and
      errors.get("claims") == 0.0, errors)

for ok, desc, why in results:
    print("ok\t%s" % desc if ok else "not ok\t%s\t%r" % (desc, why))
EOF

for f in stdout.prom vmha.prom; do
    "$py" "$work/check.py" "$work/$f" >"$work/$f.results" 2>&1
    if ! grep -q . "$work/$f.results"; then
        _tap_result 1 "$f: the checks ran" "$work/$f.results"
    fi
    while IFS=$'\t' read -r status desc why; do
        case $status in
        ok) _tap_result 0 "$f: $desc" ;;
        "not ok")
            echo "$why" >"$work/why"
            _tap_result 1 "$f: $desc" "$work/why"
            ;;
        *)
            printf '%s\t%s\t%s\n' "$status" "$desc" "$why" >"$work/why"
            _tap_result 1 "$f: the checker said something unexpected" "$work/why"
            ;;
        esac
    done <"$work/$f.results"
done
tap_done
