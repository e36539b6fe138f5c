/* Ground truth of the simulated world: S1 (no VM runs twice, checked at
 * every start and tick), S2 (no takeover while another instance of the VM
 * is alive) and rule 2's one winner (never two masters that both reach the
 * disk). Judged on the world's own state, never on the log.
 */
#include <stdio.h>
#include <string.h>

#include "core/node.h"
#include "tests/scenarios/sim.h"

#include "tests/scenarios/sim_world.h"

int alive_instances(const struct world *w, int vm, int except_host, char *where, size_t len) {
        int n = 0;
        size_t used = 0;

        if (where && len)
                where[0] = '\0';
        for (int i = 0; i < w->ninst; i++) {
                const struct instance *in = &w->inst[i];

                if (!in->alive || in->vm != vm || in->host == except_host)
                        continue;
                n++;
                if (where && used < len)
                        used += (size_t)snprintf(where + used, len - used, "%sh%d%s", used ? ", " : "",
                                                 in->host, w->h[in->host].frozen ? " (frozen)" : "");
        }
        return n;
}

bool vm_running_on(const struct world *w, int vm, int host) {
        for (int i = 0; i < w->ninst; i++)
                if (w->inst[i].alive && w->inst[i].vm == vm && w->inst[i].host == host)
                        return true;
        return false;
}

/* S2: a takeover is decided only while the VM runs nowhere. With split
 * masters, restarters decide on what they read before the others' claims
 * landed, and only the claims keep S1: S2 is then checked against the
 * host the decision names. */
void check_s2(struct world *w, int host, int vm, uint32_t from) {
        char where[128];

        if (w->sc->knobs.split_masters ? vm_running_on(w, vm, (int)from)
                                       : alive_instances(w, vm, host, where, sizeof(where)) > 0) {
                if (w->sc->knobs.split_masters)
                        snprintf(where, sizeof(where), "h%u", from);
                w->s2_violation = true;
                logf_(w, host, "S2 VIOLATION: takes over %s from h%u while it still runs on %s", vm_name(w, vm),
                      from, where);
        }
}

void start_vm(struct world *w, int host, int vm) {
        char where[128];

        if (alive_instances(w, vm, host, where, sizeof(where)) > 0) {
                w->s1_violation = true;
                w->s1_flagged[vm] = true;
                logf_(w, host, "S1 VIOLATION: %s starts here while it runs on %s", vm_name(w, vm), where);
        }
        if (w->ninst < (int)(sizeof(w->inst) / sizeof(w->inst[0])))
                w->inst[w->ninst++] = (struct instance){ vm, host, true };
        logf_(w, host, "start %s", vm_name(w, vm));
}

/* Rule 2 must give one winner: never two hosts that both reach the disk
 * and both act as master, one of them by rule 2. A host reaches the disk
 * when its path works and its engine read it this disk interval: only
 * then may it decide a takeover (a host that reads again decides again
 * first). */
void check_masters(struct world *w) {
        int first = 0, second = 0;
        bool by_rule2 = false;

        for (int b = 1; b <= w->sc->nhosts; b++) {
                const struct host *h = &w->h[b];
                const struct survival_verdict *v;

                if (!vmhad_running((struct host *)h) ||
                    (h->disk != DISK_ACCESS_OK && h->disk != DISK_ACCESS_READFAIL) ||
                    node_master(h->node) != (uint32_t)b || !node_acts_on_disk(h->node, w->now))
                        continue;
                v = node_verdict(h->node);
                by_rule2 |= v && v->rule == SURVIVAL_RULE_2_DISK;
                if (!first)
                        first = b;
                else if (!second)
                        second = b;
        }
        if (second && by_rule2) {
                if (!w->two_masters_flagged)
                        logf_(w, 0, "TWO MASTERS: h%d (%s) and h%d (%s) both reach the disk", first,
                              node_verdict(w->h[first].node)->reason, second, node_verdict(w->h[second].node)->reason);
                w->two_masters = w->two_masters_flagged = true;
        } else {
                w->two_masters_flagged = false;
        }
}

void check_s1_tick(struct world *w) {
        for (int vm = 0; vm < w->sc->nvms; vm++) {
                char where[128];
                int n = alive_instances(w, vm, 0, where, sizeof(where));

                if (n > 1 && !w->s1_flagged[vm]) {
                        w->s1_flagged[vm] = true;
                        w->s1_violation = true;
                        logf_(w, 0, "S1 VIOLATION: %s runs on %s", vm_name(w, vm), where);
                } else if (n <= 1) {
                        w->s1_flagged[vm] = false;
                }
        }
}
