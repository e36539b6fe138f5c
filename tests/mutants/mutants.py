#!/usr/bin/env python3
"""Mutation test of the safety core: applies one deliberate bug at a time to
core/, rebuilds, and reports which layer catches it (the unit tests, the
golden scenarios, the randomized search). Run from a built tree:

    tests/mutants/mutants.py [--sequences N] [NAME...]

It restores every file it changed, also when interrupted. A mutant that no
layer catches is a hole in the tests: the run exits 1."""
import os, signal, subprocess, sys

MUTANTS = [
    # name, file, original, mutated, what it breaks
    ("tie-first-owner", "core/takeover.c",
     "        for (size_t i = 0; i < k; i++) {\n                const struct core_peer *o;",
     "        for (size_t i = 0; i < k && i < 1; i++) {\n                const struct core_peer *o;",
     "S2 checked only against the first of several hosts tied at the newest claim"),
    ("confirm-equal-ok", "core/takeover.c",
     "c->host_id != self && c->claim_seq >= claim_seq",
     "c->host_id != self && c->claim_seq > claim_seq",
     "claim confirmation takes an equal claim of another host for no conflict"),
    ("confirm-ignores-newer", "core/takeover.c",
     "else if (c->host_id != self && c->claim_seq >= claim_seq) {",
     "else if (0 && c->host_id != self && c->claim_seq >= claim_seq) {",
     "claim confirmation ignores newer and equal claims"),
    ("takeover-stale-read", "core/takeover.c",
     "return in->verdict->kind == SURVIVAL_SURVIVE && survival_own_read_fresh(in->survival, now_ms);",
     "return in->verdict->kind == SURVIVAL_SURVIVE;",
     "takeover without a fresh own disk read"),
    ("feed-on-fence", "core/survival.c",
     "        if (v->kind == SURVIVAL_FENCE)\n                return false;\n        if (slot_write_completed)",
     "        if (slot_write_completed)",
     "the watchdog fed on a FENCE verdict"),
    ("fencing-master", "core/survival.c",
     "!core_view_has(&in->members, p->id) ||\n                    peer_fencing(p))",
     "!core_view_has(&in->members, p->id))",
     "a FENCING host elected master"),
    ("replicated-owner-ignored", "core/takeover.c",
     "if (k == 0 && vm->replicated_owner != 0)",
     "if (0 && vm->replicated_owner != 0)",
     "a VM never claimed on the disk is placed though the replicated state names its owner"),
    ("ack-window-x10", "core/survival.c",
     "(!p->ack_seen || age_ms(now_ms, p->ack_ms) > t->disk_interval_ms))",
     "(!p->ack_seen || age_ms(now_ms, p->ack_ms) > 10ull * t->disk_interval_ms))",
     "a tenfold rule-4 acknowledgement window"),
    ("fencing-counted", "core/survival.c",
     "if (!core_view_has(view, id) || (id != in->self_id && peer_fencing(p)))",
     "if (!core_view_has(view, id))",
     "FENCING hosts counted in a partition's size"),
    ("seq-not-advance", "core/survival.c",
     "if (new_incarnation || s->seq != p->seq) {",
     "if (new_incarnation) {",
     "a new sequence number of the same incarnation not counted as an advance"),
    ("no-double-collect", "core/node_vm.c",
     "        if (n->timing.unsafe.single_collect) {",
     "        if (1) {",
     "a claim collect accepted on one pass"),
    ("no-yield-fence", "core/survival.c",
     "        if (mine.all_yield) {",
     "        if (0 && mine.all_yield) {",
     "a host whose slot stood still wins rule 2 as before"),
    ("unknown-claims-ignored", "core/node_vm.c",
     "        v->blocked = r->n_unknown > 0;",
     "        v->blocked = false;",
     "an unreadable claim block does not block the takeovers it may concern"),
]

def run(cmd, **kw):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

def layers(seqs):
    caught = []
    r = run("make -s -j2 tests/scenarios/simulate core/libvmha_core.a >/dev/null 2>&1 && "
            "make -s -j2 check VMHA_TESTS= >/dev/null 2>&1")
    if r.returncode != 0:
        return ["build"]
    bad = []
    for t in ("tests/unit/test_survival", "tests/unit/test_node", "tests/unit/test_hastate"):
        out = run("CMOCKA_MESSAGE_OUTPUT=TAP " + t).stdout
        if "not ok" in out:
            bad.append(os.path.basename(t))
    if bad:
        caught.append("unit(" + ",".join(bad) + ")")
    sc = []
    for d in sorted(os.listdir("tests/scenarios")):
        if os.path.exists(os.path.join("tests/scenarios", d, "pool")):
            if run("tests/scenarios/simulate tests/scenarios/" + d).returncode:
                sc.append(d)
    if sc:
        caught.append("scenarios(%d: %s)" % (len(sc), ",".join(sc[:4]) + ("..." if len(sc) > 4 else "")))
    # The randomized search, and again with split masters: every surviving
    # host restarts, so that claims race and tie.
    for label, extra in (("random", ""), ("split-masters", " --knob split-masters")):
        r = run("tests/scenarios/simulate --random --seed 1 --sequences %d --seconds 3000%s" % (seqs, extra))
        line = [l for l in r.stdout.splitlines() if l.startswith("random: seed")]
        if r.returncode:
            # "random: seed 1: N sequences, F faults, B with an S1/S2 violation, M with two masters, ..."
            caught.append(label + "(" + ", ".join(line[-1].split(", ")[1:4]) + ")" if line else label + "(crash)")
    return caught

def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    args = sys.argv[1:]
    seqs = 1500
    if args[:1] == ["--sequences"]:
        seqs = int(args[1]); args = args[2:]
    missed = 0
    for name, path, old, new, what in MUTANTS:
        if args and name not in args:
            continue
        if old is None:
            continue
        src = open(path).read()
        if src.count(old) != 1:
            print("%-26s SKIP: pattern not found once in %s" % (name, path)); missed += 1
            continue
        try:
            open(path, "w").write(src.replace(old, new))
            got = layers(seqs)
        finally:
            open(path, "w").write(src)
        print("%-26s %s: %s" % (name, "caught by " + " ".join(got) if got else "NOT CAUGHT", what), flush=True)
        missed += 0 if got else 1
    run("make -s -j2 tests/scenarios/simulate >/dev/null 2>&1; make -s -j2 check VMHA_TESTS= >/dev/null 2>&1")
    sys.exit(1 if missed else 0)

main()
