#!/bin/bash
# vmhad on real Corosync: three hosts join with one master, a change made
# on one host shows on the others, the control socket refuses strangers,
# and a host whose network is cut fences itself while the other two report
# it gone within the failover budget.
. "$srcdir/tests/lab/cases/lib.sh"

lab_start 3 --timeout 2

for o in h1 h2 h3; do
    for h in h1 h2 h3; do
        tap_ok "$o sees $h ALIVE" wait_state "$o" "$h" ALIVE 10
    done
    tap_ok "$o names h1 the one master" test "$(master_of "$o")" = h1
    # The lab runs corosync with token 800 ms and the default consensus.
    tap_ok "$o's vmhad counts with the token corosync runs with" \
        log_has "$o" "corosync's token is 800 ms: it sees a lost host after about 1760 ms"
done

# haadm metrics: the Prometheus text parses, names every host in the state
# haadm status shows, and the disk I/O counts grow between two scrapes.
metrics_agree() {
    local o=$1 d=$HALAB_DIR/metrics.$1
    mkdir -p "$d"
    hs "$o" metrics >"$d/a.prom" && hs "$o" status --json >"$d/status.json" && sleep 1 &&
        hs "$o" metrics >"$d/b.prom" || return 1
    "$prom_py" - "$d/a.prom" "$d/b.prom" "$d/status.json" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
def fams(path):
    return {f.name: f for f in text_string_to_metric_families(open(path, encoding="utf-8").read())}
def value(f, fam, name, **labels):
    v = [s.value for s in f[fam].samples if s.name == name and all(s.labels.get(k) == w for k, w in labels.items())]
    return v[0] if len(v) == 1 else None
a, b, st = fams(sys.argv[1]), fams(sys.argv[2]), json.load(open(sys.argv[3]))
bad = []
for h in st["hosts"]:
    cur = [s.labels["state"] for s in a["vmha_host_state"].samples if s.labels["host"] == h["name"] and s.value == 1]
    if cur != [h["state"].lower()]:
        bad.append("%s: status says %s, metrics %s" % (h["name"], h["state"], cur))
for op in ("slot_write", "read_round"):
    ca = value(a, "vmha_disk_io_duration_seconds", "vmha_disk_io_duration_seconds_count", op=op)
    cb = value(b, "vmha_disk_io_duration_seconds", "vmha_disk_io_duration_seconds_count", op=op)
    if ca is None or cb is None or cb <= ca:
        bad.append("%s: %s then %s I/Os" % (op, ca, cb))
if value(a, "vmha_verdict", "vmha_verdict", verdict=st["self"]["verdict"].lower()) != 1.0:
    bad.append("verdict %s is not the current one" % st["self"]["verdict"])
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
# Debian's python3, which has the parser, even where another python3 is first in PATH.
prom_py=python3
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then prom_py=$p; break; fi
done
for o in h1 h2 h3; do
    tap_ok "$o: haadm metrics parses and agrees with haadm status" metrics_agree "$o"
done

# The lab's hosts run the sim driver, which checks a VM's config: a sim VM's.
web_cfg=$(halab vm create web-1 --memory 2048)
tap_ok "haadm vm set on h2 is accepted" hs h2 vm set web-1 --priority restart --memory 2048 --config "$web_cfg"
for h in h1 h3; do
    tap_ok "$h lists web-1 with its settings" \
        wait_until 5 "hs $h vm list --json | python3 -c 'import json,sys; v=[x for x in json.load(sys.stdin)[\"vms\"] if x[\"name\"]==\"web-1\"]; sys.exit(0 if v and v[0][\"memory_mib\"]==2048 and v[0][\"priority\"]==\"restart\" else 1)'"
done
tap_status 1 "removing an unknown VM is refused" hs h1 vm remove nosuchvm
tap_status 2 "a malformed command is refused" hs h1 vm set 'bad name'
tap_status 2 "a stranger cannot use the control socket" \
    halab exec h1 setpriv --reuid=65534 --regid=65534 --clear-groups haadm status
tap_ok "and vmhad logs the refusal" log_has h1 "refused a control connection from uid 65534"

t0=$(ms_now)
halab net h3 down >/dev/null
tap_ok "h3 fences itself and powers off" wait_off h3 10
tap_ok "h3's own log says why" log_has h3 "fencing self: lost: no quorum, disk shows partition \{1,2\} beats \{3\}"
for o in h1 h2; do
    tap_ok "$o reports h3 FENCED" wait_state "$o" h3 FENCED 15
done
elapsed=$(ms_since "$t0")
budget=$((2000 + 2000 + 1000 + 1500))   # timeout + watchdog + margin + detection slack
tap_ok "h3 counted as fenced within the budget (${elapsed} ms <= ${budget} ms)" test "$elapsed" -le "$budget"
tap_ok "h3's slot ends FENCING" test "$(slot_field 3 state)" = FENCING
for o in h1 h2; do
    tap_ok "$o still SURVIVEs" test "$(verdict "$o")" = SURVIVE
done
tap_ok "h1 is still the master" test "$(master_of h2)" = h1

# A change made while h3 is away reaches it by state transfer when it joins.
db_cfg=$(halab vm create db-1 --memory 1024)
tap_ok "a VM protected while h3 is down is accepted" hs h1 vm set db-1 --priority best-effort --memory 1024 --config "$db_cfg"
halab net h3 up >/dev/null
halab boot h3 >/dev/null
tap_ok "h3 boots and rejoins: ALIVE in h1's view" wait_state h1 h3 ALIVE 20
tap_ok "h3 learned both VMs from its peers" \
    wait_until 5 "hs h3 vm list --json | python3 -c 'import json,sys; n=sorted(v[\"name\"] for v in json.load(sys.stdin)[\"vms\"]); sys.exit(0 if n==[\"db-1\",\"web-1\"] else 1)'"
tap_ok "h3 reports its own fence after the reboot" log_has h3 "this host fenced itself at .*: lost: no quorum"

tap_done
