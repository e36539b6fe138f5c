/* Deterministic scenario simulator for vmha's pure core.
 *
 * It runs N copies of the decision core (daemon/survival.h, s2.h,
 * takeover.h, hastate.h) against simulated time in 10 ms ticks, a simulated
 * Corosync (membership detection after token + consensus, rejoin after a
 * delay, per-host skew, quorum), a simulated shared disk (per-host access
 * ok, failing or hung; slots and ownership claims), simulated watchdogs
 * (firing `watchdog_late` ms after their nominal timeout, as real hardware
 * may) and simulated VMs. A frozen host stops its control plane (no
 * Corosync, no slot writes, no feeding, no decisions) while its VMs run on
 * until its watchdog powers it off.
 *
 * The glue in this file plays the daemon: it gathers inputs, calls the core
 * and carries out the outputs exactly as the API documentation says, so a
 * scenario exercises what the real vmhad will do.
 *
 * Independently of any golden log, the simulator checks against its ground
 * truth S1 (a protected VM never runs twice: at every start and every tick)
 * and S2 (a takeover is decided only when every other instance of the VM is
 * dead). A scenario may declare `expect s1-violation` only together with an
 * unsafe knob; it then passes only if the violation is really detected.
 *
 * Usage:
 *   simulate [--update] [--print] DIR...     run scenario directories
 *   simulate --random [--seconds S] [--sequences N] [--seed N] [--knob K] [--expect-violation]
 *     checks S1/S2 over random fault sequences until the time or count
 *     budget is spent; with --expect-violation it succeeds only if one of
 *     them violates S1 or S2 (for the unsafe knobs).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_timing.h"
#include "core/hastate.h"
#include "core/s2.h"
#include "core/survival.h"
#include "core/takeover.h"

#define MAXH 8
#define MAXVM 24
#define MAXEV 256
#define TICK_MS 10
#define MAXCLAIMS (MAXH * MAXVM)

/* ---------- scenario description ---------- */

enum ev_kind {
        EV_NET, EV_PARTITION, EV_HEAL, EV_DISK, EV_POWER, EV_FREEZE, EV_TIEBREAK,
        EV_ASSERT_RUNNING, EV_ASSERT_POWER,
};

enum disk_access { DISK_ACCESS_OK, DISK_ACCESS_FAIL, DISK_ACCESS_HANG };

struct event {
        uint64_t t;
        int line;
        enum ev_kind kind;
        int host;               /* 0 = all, where allowed */
        int arg;                /* up/down, on/off, disk access */
        int vm;                 /* assert running */
        uint64_t dur;           /* freeze */
        int group[MAXH + 1];    /* partition: group per host */
        char text[128];
};

struct vm_def {
        char name[16];
        int home;
        enum hastate_priority prio;
};

struct scenario {
        char name[128];
        uint32_t timeout_ms;
        int nhosts;
        bool tiebreak;
        uint32_t wd_late_ms;
        int64_t skew[MAXH + 1];
        int64_t phase[MAXH + 1];        /* -1: default */
        int nvms;
        struct vm_def vms[MAXVM];
        struct core_unsafe_knobs knobs;
        bool expect_s1;
        uint64_t end_ms;
        int nev;
        struct event ev[MAXEV];
};

/* ---------- simulated world ---------- */

struct pending_claim {
        int vm;
        uint64_t seq;
        bool had_prev;
        uint64_t prev_seq;
};

struct host {
        int id;
        bool powered, frozen;
        uint64_t frozen_until, frozen_at;
        bool net_up, tb_link;
        int group;
        enum disk_access disk;
        bool hung;
        uint64_t hung_since;

        /* Corosync */
        struct core_view members;
        uint64_t ring;
        bool quorate;
        bool pending, force_reform;
        struct core_view pend_target;
        uint64_t pend_due;
        bool members_changed;

        /* daemon */
        struct core_peer peers[MAXH];
        struct survival_inputs in;
        struct survival_verdict v;
        bool have_verdict, fenced, was_master;
        enum survival_kind logged_kind;
        enum survival_rule logged_rule;
        uint64_t next_io, seq, incarnation;
        struct hastate *hs;
        struct pending_claim pend[MAXVM];
        int npend;
        struct takeover_claim claims[MAXCLAIMS];
        size_t nclaims;
        uint32_t wait_logged[MAXVM];

        /* watchdog */
        bool wd_armed;
        uint64_t last_feed;
};

struct disk_claims_rec {
        int n;
        struct disk_claim c[MAXVM];
};

struct instance {
        int vm, host;
        bool alive;
};

struct world {
        const struct scenario *sc;
        struct core_timing timing;
        uint64_t now;
        uint64_t detect_ms, rejoin_ms;
        struct host h[MAXH + 1];
        struct disk_slot slot[MAXH + 1];
        bool slot_written[MAXH + 1];
        struct disk_claims_rec claims[MAXH + 1];
        struct instance inst[1024];
        int ninst;
        uint64_t ring_counter, incarnation_counter;
        bool s1_violation, s2_violation, assert_failed;
        bool s1_flagged[MAXVM];
        int violations;
        /* log */
        char *log;
        size_t log_len, log_cap;
        bool quiet_log;         /* random mode: keep only violations */
};

static void logf_(struct world *w, int host, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(struct world *w, int host, const char *fmt, ...) {
        char line[768];
        int n;
        va_list ap;

        if (w->quiet_log && strncmp(fmt, "S1", 2) != 0 && strncmp(fmt, "S2", 2) != 0)
                return;
        if (host > 0)
                snprintf(line, sizeof(line), "%7.2f h%-2d ", (double)w->now / 1000.0, host);
        else
                snprintf(line, sizeof(line), "%7.2f --  ", (double)w->now / 1000.0);
        n = (int)strlen(line);
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
        n = (int)strlen(line);
        if (w->log_len + (size_t)n + 2 > w->log_cap) {
                size_t cap = w->log_cap ? 2 * w->log_cap : 65536;
                while (cap < w->log_len + (size_t)n + 2)
                        cap *= 2;
                w->log = realloc(w->log, cap);
                if (!w->log) {
                        perror("realloc");
                        exit(2);
                }
                w->log_cap = cap;
        }
        memcpy(w->log + w->log_len, line, (size_t)n);
        w->log_len += (size_t)n;
        w->log[w->log_len++] = '\n';
        w->log[w->log_len] = '\0';
}

static const char *vm_name(const struct world *w, int vm) {
        return w->sc->vms[vm].name;
}

static char *fmt_view(const struct core_view *v, char *buf, size_t len) {
        return core_view_format(v, buf, len);
}

/* ---------- ground truth ---------- */

static bool running(const struct host *h) {
        return h->powered && !h->frozen;
}

/* Who host a's Corosync can reach now (a's partition component). */
static void component(const struct world *w, int a, struct core_view *out) {
        memset(out, 0, sizeof(*out));
        core_view_add(out, (unsigned)a);
        if (!w->h[a].net_up)
                return;
        for (int b = 1; b <= w->sc->nhosts; b++)
                if (b != a && running(&w->h[b]) && w->h[b].net_up && w->h[b].group == w->h[a].group)
                        core_view_add(out, (unsigned)b);
}

static bool reachable(const struct world *w, int a, int b) {
        struct core_view c;

        if (!running(&w->h[a]) || !running(&w->h[b]))
                return false;
        component(w, a, &c);
        return core_view_has(&c, (unsigned)b);
}

static int alive_instances(const struct world *w, int vm, int except_host, char *where, size_t len) {
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

static bool vm_running_on(const struct world *w, int vm, int host) {
        for (int i = 0; i < w->ninst; i++)
                if (w->inst[i].alive && w->inst[i].vm == vm && w->inst[i].host == host)
                        return true;
        return false;
}

/* S2 against ground truth, at the moment a takeover is decided. */
static void check_s2(struct world *w, int host, int vm, uint32_t from) {
        char where[128];

        if (alive_instances(w, vm, host, where, sizeof(where)) > 0) {
                w->s2_violation = true;
                w->violations++;
                logf_(w, host, "S2 VIOLATION: takes over %s from h%u while it still runs on %s", vm_name(w, vm),
                      from, where);
        }
}

static void start_vm(struct world *w, int host, int vm) {
        char where[128];

        if (alive_instances(w, vm, host, where, sizeof(where)) > 0) {
                w->s1_violation = true;
                w->s1_flagged[vm] = true;
                w->violations++;
                logf_(w, host, "S1 VIOLATION: %s starts here while it runs on %s", vm_name(w, vm), where);
        }
        if (w->ninst < (int)(sizeof(w->inst) / sizeof(w->inst[0])))
                w->inst[w->ninst++] = (struct instance){ vm, host, true };
        logf_(w, host, "start %s", vm_name(w, vm));
}

static void check_s1_tick(struct world *w) {
        for (int vm = 0; vm < w->sc->nvms; vm++) {
                char where[128];
                int n = alive_instances(w, vm, 0, where, sizeof(where));

                if (n > 1 && !w->s1_flagged[vm]) {
                        w->s1_flagged[vm] = true;
                        w->s1_violation = true;
                        w->violations++;
                        logf_(w, 0, "S1 VIOLATION: %s runs on %s", vm_name(w, vm), where);
                } else if (n <= 1) {
                        w->s1_flagged[vm] = false;
                }
        }
}

/* ---------- host lifecycle ---------- */

static uint64_t io_phase(const struct world *w, int id) {
        const struct scenario *sc = w->sc;

        if (sc->phase[id] >= 0)
                return (uint64_t)sc->phase[id] % w->timing.disk_interval_ms;
        return (uint64_t)id * w->timing.disk_interval_ms / (uint64_t)(sc->nhosts + 1);
}

static void host_daemon_start(struct world *w, struct host *h, bool steady) {
        int n = w->sc->nhosts;

        memset(h->peers, 0, sizeof(h->peers));
        for (int i = 0; i < n; i++)
                survival_peer_init(&h->peers[i], (uint32_t)(i + 1), w->now);
        memset(&h->in, 0, sizeof(h->in));
        h->in.timing = &w->timing;
        h->in.self_id = (uint32_t)h->id;
        h->in.peers = h->peers;
        h->in.n_peers = (size_t)n;
        h->in.joining = !steady;
        h->have_verdict = false;
        h->fenced = false;
        h->was_master = false;
        h->npend = 0;
        h->nclaims = 0;
        memset(h->wait_logged, 0, sizeof(h->wait_logged));
        h->incarnation = ++w->incarnation_counter;
        h->seq = 0;
        h->next_io = w->now + io_phase(w, h->id);
        h->wd_armed = steady;
        h->last_feed = w->now;
}

static void host_power_off(struct world *w, struct host *h, const char *why) {
        if (!h->powered)
                return;
        h->powered = false;
        h->frozen = false;
        h->wd_armed = false;
        for (int i = 0; i < w->ninst; i++)
                if (w->inst[i].alive && w->inst[i].host == h->id)
                        w->inst[i].alive = false;
        logf_(w, h->id, "powered off: %s", why);
}

static void host_boot(struct world *w, struct host *h) {
        if (h->powered)
                return;
        h->powered = true;
        h->frozen = false;
        memset(&h->members, 0, sizeof(h->members));
        core_view_add(&h->members, (unsigned)h->id);
        h->quorate = false;
        h->pending = false;
        h->force_reform = false;
        h->ring = ++w->ring_counter;
        host_daemon_start(w, h, false);
        survival_observe_membership(&h->in, &h->members, h->ring, false, w->now);
        /* State transfer: a snapshot from any host it can reach, else keep its own. */
        for (int b = 1; b <= w->sc->nhosts; b++) {
                uint8_t *buf;
                size_t len;
                struct hastate *s;
                struct hastate_error err;

                if (b == h->id || !reachable(w, h->id, b))
                        continue;
                if (hastate_snapshot_encode(w->h[b].hs, &buf, &len) < 0)
                        break;
                if (hastate_snapshot_decode(buf, len, &s, &err) == 0) {
                        hastate_free(h->hs);
                        h->hs = s;
                }
                free(buf);
                break;
        }
        logf_(w, h->id, "boots, joining");
}

/* ---------- Corosync model ---------- */

static void corosync_step(struct world *w, struct host *h) {
        struct core_view target;
        bool lost = false, gained = false;
        char buf[96];

        h->members_changed = false;
        component(w, h->id, &target);
        if (core_view_equal(&target, &h->members) && !h->force_reform) {
                h->pending = false;
                return;
        }
        if (!h->pending || !core_view_equal(&target, &h->pend_target)) {
                uint64_t delay = 0;

                for (int b = 1; b <= w->sc->nhosts; b++) {
                        bool in_t = core_view_has(&target, (unsigned)b), in_m = core_view_has(&h->members, (unsigned)b);

                        lost |= in_m && !in_t;
                        gained |= in_t && !in_m;
                }
                if (lost || h->force_reform)
                        delay = w->detect_ms;
                if (gained && w->rejoin_ms > delay)
                        delay = w->rejoin_ms;
                h->pending = true;
                h->pend_target = target;
                h->pend_due = w->now + delay + (uint64_t)w->sc->skew[h->id];
        }
        if (w->now < h->pend_due)
                return;
        h->pending = false;
        h->force_reform = false;
        h->members = target;
        h->ring = ++w->ring_counter;
        h->quorate = 2 * core_view_count(&target) > (unsigned)w->sc->nhosts;
        h->members_changed = true;
        logf_(w, h->id, "membership %s%s", fmt_view(&target, buf, sizeof(buf)),
              h->quorate ? " quorate" : " no quorum");
}

static void send_acks(struct world *w, struct host *h) {
        for (int b = 1; b <= w->sc->nhosts; b++) {
                if (b == h->id || !core_view_has(&h->members, (unsigned)b) || !reachable(w, h->id, b))
                        continue;
                survival_peer_observe_ack(&w->h[b].peers[h->id - 1], w->now);
        }
}

static void broadcast_owner(struct world *w, struct host *h, int vm) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_OWNER, .sender = (uint32_t)h->id };
        struct hastate_error err;

        m.u.owner.vm_id = (uint64_t)vm + 1;
        m.u.owner.owner = (uint32_t)h->id;
        for (int b = 1; b <= w->sc->nhosts; b++) {
                if (b != h->id && (!core_view_has(&h->members, (unsigned)b) || !reachable(w, h->id, b)))
                        continue;
                if (hastate_apply(w->h[b].hs, &m, &err) < 0)
                        logf_(w, b, "hastate rejected owner change: %s", err.msg);
        }
}

/* ---------- the daemon's loop, on top of the core ---------- */

static void read_disk(struct world *w, struct host *h) {
        h->nclaims = 0;
        for (int b = 1; b <= w->sc->nhosts; b++) {
                if (w->slot_written[b])
                        survival_peer_observe_slot(&h->peers[b - 1], &w->slot[b], w->now);
                for (int i = 0; i < w->claims[b].n; i++)
                        h->claims[h->nclaims++] = (struct takeover_claim){
                                (uint32_t)b, w->claims[b].c[i].vm_id, w->claims[b].c[i].claim_seq };
        }
        survival_observe_io(&h->in, SURVIVAL_IO_READ, true, w->now);
}

static void claims_set(struct world *w, int host, uint64_t vm_id, uint64_t seq) {
        struct disk_claims_rec *r = &w->claims[host];

        for (int i = 0; i < r->n; i++)
                if (r->c[i].vm_id == vm_id) {
                        r->c[i].claim_seq = seq;
                        return;
                }
        r->c[r->n++] = (struct disk_claim){ vm_id, seq };
}

static void claims_del(struct world *w, int host, uint64_t vm_id) {
        struct disk_claims_rec *r = &w->claims[host];

        for (int i = 0; i < r->n; i++)
                if (r->c[i].vm_id == vm_id) {
                        r->c[i] = r->c[--r->n];
                        return;
                }
}

static bool claims_get(const struct world *w, int host, uint64_t vm_id, uint64_t *seq) {
        const struct disk_claims_rec *r = &w->claims[host];

        for (int i = 0; i < r->n; i++)
                if (r->c[i].vm_id == vm_id) {
                        *seq = r->c[i].claim_seq;
                        return true;
                }
        return false;
}

static size_t build_vms(struct world *w, struct host *h, struct takeover_vm *out) {
        size_t n;

        hastate_restart_list(h->hs, out, MAXVM, &n);
        for (size_t i = 0; i < n; i++) {
                int vm = (int)out[i].vm_id - 1;

                out[i].running_here = vm_running_on(w, vm, h->id);
                for (int j = 0; j < h->npend; j++)
                        out[i].claim_pending |= h->pend[j].vm == vm;
        }
        return n;
}

static void log_verdict(struct world *w, struct host *h) {
        if (h->have_verdict && h->logged_kind == h->v.kind && h->logged_rule == h->v.rule)
                return;
        h->have_verdict = true;
        h->logged_kind = h->v.kind;
        h->logged_rule = h->v.rule;
        if (h->v.rule == SURVIVAL_RULE_JOIN)
                logf_(w, h->id, "%s: %s", survival_kind_name(h->v.kind), h->v.reason);
        else
                logf_(w, h->id, "%s %s: %s", survival_kind_name(h->v.kind), survival_rule_name(h->v.rule),
                      h->v.reason);
}

static void decide(struct world *w, struct host *h) {
        h->in.tiebreak_ok = w->sc->tiebreak && h->net_up && h->tb_link;
        if (h->fenced)
                return;
        survival_decide(&h->in, w->now, &h->v);
        log_verdict(w, h);
        if (h->v.kind == SURVIVAL_FENCE) {
                h->fenced = true;
                logf_(w, h->id, "fencing: FENCING to the slot when the disk allows, watchdog no longer fed");
        } else if (h->v.kind == SURVIVAL_SURVIVE && h->in.joining) {
                h->in.joining = false;
                h->wd_armed = true;
                h->last_feed = w->now;
                logf_(w, h->id, "joined, watchdog armed");
        }
}

static void confirm_claims(struct world *w, struct host *h, const struct takeover_inputs *ti) {
        for (int i = 0; i < h->npend; i++) {
                struct pending_claim *p = &h->pend[i];
                char reason[TAKEOVER_REASON_MAX];
                int r = takeover_confirm(ti, w->now, (uint64_t)p->vm + 1, p->seq, reason, sizeof(reason));

                if (r == 0) {
                        start_vm(w, h->id, p->vm);
                        broadcast_owner(w, h, p->vm);
                } else {
                        logf_(w, h->id, "%s: %s", vm_name(w, p->vm), reason);
                        if (p->had_prev)
                                claims_set(w, h->id, (uint64_t)p->vm + 1, p->prev_seq);
                        else
                                claims_del(w, h->id, (uint64_t)p->vm + 1);
                }
        }
        h->npend = 0;
}

static void plan(struct world *w, struct host *h, const struct takeover_inputs *ti) {
        struct takeover_action act[MAXVM];
        size_t n = 0;

        if (takeover_plan(ti, w->now, act, MAXVM, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                struct takeover_action *a = &act[i];
                int vm = (int)a->vm_id - 1;

                if (a->kind == TAKEOVER_WAIT) {
                        if (h->wait_logged[vm] != a->from_host)
                                logf_(w, h->id, "%s: %s", vm_name(w, vm), a->reason);
                        h->wait_logged[vm] = a->from_host;
                        continue;
                }
                h->wait_logged[vm] = 0;
                if (a->from_host != (uint32_t)h->id)
                        check_s2(w, h->id, vm, a->from_host);
                if (a->kind == TAKEOVER_START) {
                        logf_(w, h->id, "%s: %s", vm_name(w, vm), a->reason);
                        start_vm(w, h->id, vm);
                        broadcast_owner(w, h, vm);
                        continue;
                }
                logf_(w, h->id, "claim %s seq %llu: %s", vm_name(w, vm), (unsigned long long)a->claim_seq,
                      a->reason);
                h->pend[h->npend] = (struct pending_claim){ vm, a->claim_seq, false, 0 };
                h->pend[h->npend].had_prev = claims_get(w, h->id, a->vm_id, &h->pend[h->npend].prev_seq);
                h->npend++;
        }
}

static void write_slot(struct world *w, struct host *h) {
        struct disk_slot *s = &w->slot[h->id];

        memset(s, 0, sizeof(*s));
        survival_fill_slot(&h->in, h->fenced, w->now, s);
        s->host_id = (uint32_t)h->id;
        s->incarnation = h->incarnation;
        s->seq = ++h->seq;
        w->slot_written[h->id] = true;
        for (int i = 0; i < h->npend; i++)
                claims_set(w, h->id, (uint64_t)h->pend[i].vm + 1, h->pend[i].seq);
        survival_observe_io(&h->in, SURVIVAL_IO_WRITE, true, w->now);
}

/* What the I/O thread reports for this round: a failed I/O at once, a
 * hung one at its deadline (one interval after it was issued). */
static void note_io_failure(struct world *w, struct host *h) {
        if (h->disk == DISK_ACCESS_HANG) {
                if (!h->hung)
                        h->hung_since = w->now;
                h->hung = true;
                if (w->now < h->hung_since + w->timing.disk_interval_ms)
                        return;
        }
        survival_observe_io(&h->in, SURVIVAL_IO_READ, false, w->now);
        survival_observe_io(&h->in, SURVIVAL_IO_WRITE, false, w->now);
}

static void daemon_step(struct world *w, struct host *h) {
        bool wrote = false;

        if (h->members_changed)
                survival_observe_membership(&h->in, &h->members, h->ring, h->quorate, w->now);

        if (w->now >= h->next_io) {
                bool disk = h->disk == DISK_ACCESS_OK;
                struct takeover_vm vms[MAXVM];
                struct takeover_inputs ti;

                while (h->next_io <= w->now)
                        h->next_io += w->timing.disk_interval_ms;
                if (disk)
                        h->hung = false;
                else
                        note_io_failure(w, h);
                if (disk)
                        read_disk(w, h);
                decide(w, h);
                ti = (struct takeover_inputs){ &h->in, &h->v, h->claims, h->nclaims, vms, 0 };
                ti.n_vms = build_vms(w, h, vms);
                if (!h->fenced)
                        plan(w, h, &ti);
                if (disk) {
                        write_slot(w, h);
                        wrote = true;
                } else if (h->npend > 0) {
                        logf_(w, h->id, "claim write failed: disk unreachable");
                        h->npend = 0;
                }
        } else if (h->npend > 0) {
                /* The claims were written one tick ago: re-read all claims, then confirm. */
                bool disk = h->disk == DISK_ACCESS_OK;
                struct takeover_vm vms[MAXVM];
                struct takeover_inputs ti;

                if (disk)
                        read_disk(w, h);
                decide(w, h);
                ti = (struct takeover_inputs){ &h->in, &h->v, h->claims, h->nclaims, vms, 0 };
                ti.n_vms = build_vms(w, h, vms);
                if (disk) {
                        confirm_claims(w, h, &ti);
                } else {
                        logf_(w, h->id, "claims unconfirmed: disk unreachable");
                        h->npend = 0;
                }
        } else if (h->members_changed || h->in.joining || !h->have_verdict || h->v.kind == SURVIVAL_WAIT ||
                   h->v.rule == SURVIVAL_RULE_4_NO_DISK) {
                /* Between disk intervals only membership changes, the end of
                 * WAIT and rule 4's acknowledgements can change the verdict. */
                decide(w, h);
        }

        if (h->have_verdict && !h->fenced && h->v.kind == SURVIVAL_SURVIVE) {
                bool master = survival_master(&h->in) == (uint32_t)h->id;
                char buf[96];

                if (master && !h->was_master)
                        logf_(w, h->id, "master of %s", fmt_view(&h->members, buf, sizeof(buf)));
                h->was_master = master;
        } else {
                h->was_master = false;
        }

        if (h->wd_armed && h->have_verdict && !h->fenced && survival_may_feed(&h->v, wrote))
                h->last_feed = w->now;
}

/* ---------- events ---------- */

static void apply_event(struct world *w, const struct event *e) {
        const struct scenario *sc = w->sc;

        logf_(w, 0, "event: %s", e->text);
        switch (e->kind) {
        case EV_NET:
                for (int b = 1; b <= sc->nhosts; b++)
                        if (e->host == 0 || e->host == b)
                                w->h[b].net_up = e->arg;
                break;
        case EV_PARTITION:
                for (int b = 1; b <= sc->nhosts; b++)
                        w->h[b].group = e->group[b];
                break;
        case EV_HEAL:
                for (int b = 1; b <= sc->nhosts; b++) {
                        w->h[b].group = 0;
                        w->h[b].net_up = true;
                }
                break;
        case EV_DISK:
                for (int b = 1; b <= sc->nhosts; b++)
                        if (e->host == 0 || e->host == b)
                                w->h[b].disk = (enum disk_access)e->arg;
                break;
        case EV_POWER:
                for (int b = 1; b <= sc->nhosts; b++)
                        if (e->host == 0 || e->host == b) {
                                if (e->arg)
                                        host_boot(w, &w->h[b]);
                                else
                                        host_power_off(w, &w->h[b], "power cut");
                        }
                break;
        case EV_FREEZE: {
                struct host *h = &w->h[e->host];

                if (h->powered && !h->frozen) {
                        h->frozen = true;
                        h->frozen_at = w->now;
                        h->frozen_until = w->now + e->dur;
                }
                break;
        }
        case EV_TIEBREAK:
                for (int b = 1; b <= sc->nhosts; b++)
                        if (e->host == 0 || e->host == b)
                                w->h[b].tb_link = e->arg;
                break;
        case EV_ASSERT_RUNNING: {
                char where[128];
                int n = alive_instances(w, e->vm, 0, where, sizeof(where));
                bool ok = n == 1 && (e->host == 0 || vm_running_on(w, e->vm, e->host));

                logf_(w, 0, "assert %s: %s runs on %s", ok ? "holds" : "FAILED", vm_name(w, e->vm),
                      n ? where : "no host");
                if (!ok)
                        w->assert_failed = true;
                break;
        }
        case EV_ASSERT_POWER: {
                bool ok = w->h[e->host].powered == (bool)e->arg;

                logf_(w, 0, "assert %s: h%d is %s", ok ? "holds" : "FAILED", e->host,
                      w->h[e->host].powered ? "on" : "off");
                if (!ok)
                        w->assert_failed = true;
                break;
        }
        }
}

/* ---------- the run ---------- */

static void world_init(struct world *w, const struct scenario *sc, bool quiet) {
        memset(w, 0, sizeof(*w));
        w->sc = sc;
        w->quiet_log = quiet;
        if (core_timing_init(&w->timing, sc->timeout_ms) < 0) {
                fprintf(stderr, "%s: bad timeout %u\n", sc->name, sc->timeout_ms);
                exit(2);
        }
        core_timing_set_unsafe(&w->timing, &sc->knobs);
        w->detect_ms = (uint64_t)w->timing.token_ms * 22 / 10;  /* token + consensus (1.2 token) */
        w->rejoin_ms = (uint64_t)w->timing.token_ms * 15 / 10;

        /* Steady state at time 0: every host up, one ring, every VM on its home host. */
        for (int b = 1; b <= sc->nhosts; b++) {
                struct host *h = &w->h[b];

                h->id = b;
                h->powered = true;
                h->net_up = true;
                h->tb_link = true;
                h->disk = DISK_ACCESS_OK;
                for (int c = 1; c <= sc->nhosts; c++)
                        core_view_add(&h->members, (unsigned)c);
                h->ring = 1;
                h->quorate = 2 * (unsigned)sc->nhosts > (unsigned)sc->nhosts;
                h->hs = hastate_new();
                if (!h->hs) {
                        perror("hastate_new");
                        exit(2);
                }
        }
        w->ring_counter = 1;
        for (int b = 1; b <= sc->nhosts; b++) {
                struct host *h = &w->h[b];
                struct hastate_msg m = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
                struct hastate_error err;

                m.u.pool = (struct hastate_pool){ true, 1, false };
                hastate_apply(h->hs, &m, &err);
                for (int vm = 0; vm < sc->nvms; vm++) {
                        struct hastate_msg p = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };

                        p.u.vm.id = (uint64_t)vm + 1;
                        snprintf(p.u.vm.name, sizeof(p.u.vm.name), "%s", sc->vms[vm].name);
                        p.u.vm.priority = sc->vms[vm].prio;
                        p.u.vm.memory_mib = 1024;
                        snprintf(p.u.vm.config, sizeof(p.u.vm.config), "sim:%s", sc->vms[vm].name);
                        p.u.vm.owner = (uint32_t)sc->vms[vm].home;
                        if (hastate_apply(h->hs, &p, &err) < 0) {
                                fprintf(stderr, "%s: %s\n", sc->name, err.msg);
                                exit(2);
                        }
                }
                host_daemon_start(w, h, true);
                survival_observe_membership(&h->in, &h->members, h->ring, h->quorate, 0);
                for (int c = 0; c < sc->nhosts; c++) {
                        h->peers[c].member = true;
                        survival_peer_observe_ack(&h->peers[c], 0);
                }
                write_slot(w, h);
                h->in.read_ok_seen = true;
        }
        for (int vm = 0; vm < sc->nvms; vm++) {
                w->inst[w->ninst++] = (struct instance){ vm, sc->vms[vm].home, true };
                claims_set(w, sc->vms[vm].home, (uint64_t)vm + 1, 1);
        }
        for (int b = 1; b <= sc->nhosts; b++) {
                read_disk(w, &w->h[b]);
                decide(w, &w->h[b]);
        }
}

static void world_free(struct world *w) {
        for (int b = 1; b <= w->sc->nhosts; b++)
                hastate_free(w->h[b].hs);
        free(w->log);
}

static void world_run(struct world *w) {
        const struct scenario *sc = w->sc;
        int next_ev = 0;

        for (w->now = TICK_MS; w->now <= sc->end_ms; w->now += TICK_MS) {
                while (next_ev < sc->nev && sc->ev[next_ev].t <= w->now)
                        apply_event(w, &sc->ev[next_ev++]);

                for (int b = 1; b <= sc->nhosts; b++) {
                        struct host *h = &w->h[b];

                        if (h->powered && h->frozen && w->now >= h->frozen_until) {
                                h->frozen = false;
                                logf_(w, b, "resumes after %.2f s frozen", (double)(w->now - h->frozen_at) / 1000);
                                /* Its Corosync starts over: a token lost while frozen
                                 * means a new ring after detection. */
                                h->pending = false;
                                if (w->now - h->frozen_at > w->timing.token_ms)
                                        h->force_reform = true;
                        }
                        if (h->powered && h->wd_armed &&
                            w->now >= h->last_feed + w->timing.watchdog_timeout_ms + sc->wd_late_ms) {
                                logf_(w, b, "watchdog fired (last fed at %.2f)", (double)h->last_feed / 1000);
                                host_power_off(w, h, "watchdog reset");
                        }
                }
                for (int b = 1; b <= sc->nhosts; b++)
                        if (running(&w->h[b]))
                                corosync_step(w, &w->h[b]);
                for (int b = 1; b <= sc->nhosts; b++) {
                        struct host *h = &w->h[b];

                        if (running(h) && w->now >= h->next_io)
                                send_acks(w, h);
                }
                for (int b = 1; b <= sc->nhosts; b++)
                        if (running(&w->h[b]))
                                daemon_step(w, &w->h[b]);
                check_s1_tick(w);
        }
        w->now = sc->end_ms;
        for (int vm = 0; vm < sc->nvms; vm++) {
                char where[128];
                int n = alive_instances(w, vm, 0, where, sizeof(where));

                logf_(w, 0, "end: %s runs on %s", vm_name(w, vm), n ? where : "no host");
        }
}

/* ---------- parsing ---------- */

static int parse_error(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int parse_error(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

static int parse_host(const struct scenario *sc, const char *s, bool allow_all) {
        char *end;
        long v;

        if (allow_all && strcmp(s, "all") == 0)
                return 0;
        if (s[0] != 'h')
                return -1;
        v = strtol(s + 1, &end, 10);
        if (*end || v < 1 || v > sc->nhosts)
                return -1;
        return (int)v;
}

static int parse_vm(const struct scenario *sc, const char *s) {
        for (int i = 0; i < sc->nvms; i++)
                if (strcmp(sc->vms[i].name, s) == 0)
                        return i;
        return -1;
}

static bool parse_seconds(const char *s, uint64_t *ms) {
        char *end;
        double v = strtod(s, &end);

        if (*end || end == s || v < 0 || v > 100000)
                return false;
        *ms = (uint64_t)(v * 1000.0 + 0.5);
        return true;
}

static bool parse_uint(const char *s, long max, long *out) {
        char *end;
        long v = strtol(s, &end, 10);

        if (*end || end == s || v < 0 || v > max)
                return false;
        *out = v;
        return true;
}

#define MAXTOK 16
static int tokenize(char *line, char **tok) {
        int n = 0;
        char *hash = strchr(line, '#');

        if (hash)
                *hash = '\0';
        for (char *p = strtok(line, " \t\r\n"); p && n < MAXTOK; p = strtok(NULL, " \t\r\n"))
                tok[n++] = p;
        return n;
}

static int parse_pool(struct scenario *sc, const char *file) {
        FILE *f = fopen(file, "r");
        char line[512];
        int ln = 0;

        if (!f)
                return parse_error(file, 0, "cannot open: %s", strerror(errno));
        sc->timeout_ms = CORE_DEFAULT_TIMEOUT_MS;
        sc->wd_late_ms = 300;
        sc->end_ms = 40000;
        for (int i = 0; i <= MAXH; i++)
                sc->phase[i] = -1;
        while (fgets(line, sizeof(line), f)) {
                char *t[MAXTOK];
                int n;
                long v;

                ln++;
                n = tokenize(line, t);
                if (n == 0)
                        continue;
                if (strcmp(t[0], "timeout") == 0 && n == 2 && parse_uint(t[1], CORE_MAX_TIMEOUT_MS, &v)) {
                        sc->timeout_ms = (uint32_t)v;
                } else if (strcmp(t[0], "hosts") == 0 && n == 2 && parse_uint(t[1], MAXH, &v) && v >= 2) {
                        sc->nhosts = (int)v;
                } else if (strcmp(t[0], "tiebreak") == 0 && n == 2 &&
                           (strcmp(t[1], "yes") == 0 || strcmp(t[1], "no") == 0)) {
                        sc->tiebreak = strcmp(t[1], "yes") == 0;
                } else if (strcmp(t[0], "watchdog_late") == 0 && n == 2 && parse_uint(t[1], 10000, &v)) {
                        sc->wd_late_ms = (uint32_t)v;
                } else if ((strcmp(t[0], "skew") == 0 || strcmp(t[0], "phase") == 0) && n == 3 &&
                           sc->nhosts > 0 && parse_host(sc, t[1], false) > 0 && parse_uint(t[2], 10000, &v)) {
                        if (t[0][0] == 's')
                                sc->skew[parse_host(sc, t[1], false)] = v;
                        else
                                sc->phase[parse_host(sc, t[1], false)] = v;
                } else if (strcmp(t[0], "vm") == 0 && (n == 3 || n == 4) && sc->nhosts > 0 &&
                           sc->nvms < MAXVM && parse_host(sc, t[2], false) > 0 && strlen(t[1]) < 16 &&
                           parse_vm(sc, t[1]) < 0) {
                        struct vm_def *d = &sc->vms[sc->nvms];

                        snprintf(d->name, sizeof(d->name), "%s", t[1]);
                        d->home = parse_host(sc, t[2], false);
                        d->prio = HASTATE_PRIORITY_RESTART;
                        if (n == 4 && hastate_priority_parse(t[3], &d->prio) < 0) {
                                fclose(f);
                                return parse_error(file, ln, "unknown priority '%s'", t[3]);
                        }
                        sc->nvms++;
                } else if (strcmp(t[0], "knob") == 0 && n == 2 && strcmp(t[1], "no-margin") == 0) {
                        sc->knobs.no_margin = true;
                } else if (strcmp(t[0], "knob") == 0 && n == 2 && strcmp(t[1], "no-fresh-ack") == 0) {
                        sc->knobs.no_fresh_ack = true;
                } else if (strcmp(t[0], "knob") == 0 && n == 2 && strcmp(t[1], "no-claims") == 0) {
                        sc->knobs.no_claims = true;
                } else if (strcmp(t[0], "expect") == 0 && n == 2 && strcmp(t[1], "s1-violation") == 0) {
                        sc->expect_s1 = true;
                } else if (strcmp(t[0], "end") == 0 && n == 2 && parse_seconds(t[1], &sc->end_ms)) {
                        ;
                } else {
                        fclose(f);
                        return parse_error(file, ln, "cannot parse pool line (see tests/scenarios/README)");
                }
        }
        fclose(f);
        if (sc->nhosts == 0)
                return parse_error(file, ln, "no `hosts N` line");
        if (sc->expect_s1 && !sc->knobs.no_margin && !sc->knobs.no_fresh_ack && !sc->knobs.no_claims)
                return parse_error(file, ln, "`expect s1-violation` is allowed only with an unsafe knob");
        return 0;
}

static int parse_event_line(struct scenario *sc, const char *file, int ln, char *line) {
        char copy[512], *t[MAXTOK];
        struct event *e;
        int n, hst;

        snprintf(copy, sizeof(copy), "%s", line);
        n = tokenize(line, t);
        if (n == 0)
                return 0;
        if (sc->nev >= MAXEV)
                return parse_error(file, ln, "too many events");
        e = &sc->ev[sc->nev];
        memset(e, 0, sizeof(*e));
        e->line = ln;
        if (!parse_seconds(t[0], &e->t))
                return parse_error(file, ln, "'%s' is not a time in seconds", t[0]);
        if (sc->nev > 0 && e->t < sc->ev[sc->nev - 1].t)
                return parse_error(file, ln, "events must be in time order");
        if (n < 2)
                return parse_error(file, ln, "missing verb");
        /* the event's text, for the log: everything after the time */
        {
                size_t len = 0;

                for (int i = 1; i < n; i++)
                        len += (size_t)snprintf(e->text + len, sizeof(e->text) - len, "%s%s", i > 1 ? " " : "", t[i]);
                (void)copy;
        }
        hst = n >= 3 ? parse_host(sc, t[2], true) : -1;
        if (strcmp(t[1], "net") == 0 && n == 4 && hst >= 0 &&
            (strcmp(t[3], "up") == 0 || strcmp(t[3], "down") == 0)) {
                e->kind = EV_NET;
                e->host = hst;
                e->arg = strcmp(t[3], "up") == 0;
        } else if (strcmp(t[1], "tiebreak") == 0 && n == 4 && hst >= 0 &&
                   (strcmp(t[3], "up") == 0 || strcmp(t[3], "down") == 0)) {
                e->kind = EV_TIEBREAK;
                e->host = hst;
                e->arg = strcmp(t[3], "up") == 0;
        } else if (strcmp(t[1], "disk") == 0 && n == 4 && hst >= 0 &&
                   (strcmp(t[3], "ok") == 0 || strcmp(t[3], "fail") == 0 || strcmp(t[3], "hang") == 0)) {
                e->kind = EV_DISK;
                e->host = hst;
                e->arg = strcmp(t[3], "ok") == 0 ? DISK_ACCESS_OK
                         : strcmp(t[3], "fail") == 0 ? DISK_ACCESS_FAIL : DISK_ACCESS_HANG;
        } else if (strcmp(t[1], "power") == 0 && n == 4 && hst > 0 &&
                   (strcmp(t[3], "on") == 0 || strcmp(t[3], "off") == 0)) {
                e->kind = EV_POWER;
                e->host = hst;
                e->arg = strcmp(t[3], "on") == 0;
        } else if ((strcmp(t[1], "boot") == 0 || strcmp(t[1], "crash") == 0) && n == 3 && hst > 0) {
                e->kind = EV_POWER;
                e->host = hst;
                e->arg = strcmp(t[1], "boot") == 0;
        } else if (strcmp(t[1], "freeze") == 0 && n == 4 && hst > 0 && parse_seconds(t[3], &e->dur) && e->dur > 0) {
                e->kind = EV_FREEZE;
                e->host = hst;
        } else if (strcmp(t[1], "heal") == 0 && n == 2) {
                e->kind = EV_HEAL;
        } else if (strcmp(t[1], "partition") == 0 && n >= 3) {
                int g = 1;
                bool seen[MAXH + 1] = { false };

                e->kind = EV_PARTITION;
                for (int i = 2; i < n; i++) {
                        char buf[128], *save = NULL;

                        if (strcmp(t[i], "|") == 0) {
                                g++;
                                continue;
                        }
                        snprintf(buf, sizeof(buf), "%s", t[i]);
                        for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                                int x = parse_host(sc, p, false);

                                if (x <= 0 || seen[x])
                                        return parse_error(file, ln, "partition: bad or repeated host '%s'", p);
                                seen[x] = true;
                                e->group[x] = g;
                        }
                }
                for (int x = 1; x <= sc->nhosts; x++)
                        if (!seen[x])
                                return parse_error(file, ln, "partition: host h%d is in no group", x);
        } else if (strcmp(t[1], "assert") == 0 && n >= 4 && strcmp(t[2], "running") == 0 &&
                   parse_vm(sc, t[3]) >= 0 && (n == 4 || (n == 6 && strcmp(t[4], "on") == 0 &&
                                                         parse_host(sc, t[5], false) > 0))) {
                e->kind = EV_ASSERT_RUNNING;
                e->vm = parse_vm(sc, t[3]);
                e->host = n == 6 ? parse_host(sc, t[5], false) : 0;
        } else if (strcmp(t[1], "assert") == 0 && n == 4 && (strcmp(t[2], "on") == 0 || strcmp(t[2], "off") == 0) &&
                   parse_host(sc, t[3], false) > 0) {
                e->kind = EV_ASSERT_POWER;
                e->host = parse_host(sc, t[3], false);
                e->arg = strcmp(t[2], "on") == 0;
        } else {
                return parse_error(file, ln, "cannot parse event (see tests/scenarios/README)");
        }
        sc->nev++;
        return 0;
}

static int parse_events(struct scenario *sc, const char *file) {
        FILE *f = fopen(file, "r");
        char line[512];
        int ln = 0, r = 0;

        if (!f)
                return parse_error(file, 0, "cannot open: %s", strerror(errno));
        while (r == 0 && fgets(line, sizeof(line), f)) {
                ln++;
                r = parse_event_line(sc, file, ln, line);
        }
        fclose(f);
        return r;
}

/* ---------- scenario mode ---------- */

static char *read_file(const char *path) {
        FILE *f = fopen(path, "r");
        char *buf;
        long len;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)len + 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                fclose(f);
                return NULL;
        }
        buf[len] = '\0';
        fclose(f);
        return buf;
}

static void report_first_diff(const char *got, const char *want) {
        int line = 1;
        const char *g = got, *x = want;

        while (*g && *x && *g == *x) {
                if (*g == '\n')
                        line++;
                g++;
                x++;
        }
        while (g > got && g[-1] != '\n')
                g--;
        while (x > want && x[-1] != '\n')
                x--;
        fprintf(stderr, "  expected.log differs at line %d:\n  want: %.*s\n  got:  %.*s\n", line,
                (int)strcspn(x, "\n"), x, (int)strcspn(g, "\n"), g);
}

static int run_scenario(const char *dir, bool update, bool print) {
        struct scenario *sc = calloc(1, sizeof(*sc));
        struct world *w = malloc(sizeof(*w));
        char path[1024], *want;
        int ret = 0;
        bool log_ok;

        if (!sc || !w) {
                perror("calloc");
                exit(2);
        }
        {
                char *rp = realpath(dir, NULL);
                const char *b = rp ? strrchr(rp, '/') : NULL;

                snprintf(sc->name, sizeof(sc->name), "%s", b ? b + 1 : dir);
                free(rp);
        }
        snprintf(path, sizeof(path), "%s/pool", dir);
        if (parse_pool(sc, path) < 0) {
                printf("FAIL %s: malformed pool\n", sc->name);
                free(sc);
                free(w);
                return 1;
        }
        snprintf(path, sizeof(path), "%s/events", dir);
        if (parse_events(sc, path) < 0) {
                printf("FAIL %s: malformed events\n", sc->name);
                free(sc);
                free(w);
                return 1;
        }
        world_init(w, sc, false);
        world_run(w);
        if (print)
                fputs(w->log, stdout);

        snprintf(path, sizeof(path), "%s/expected.log", dir);
        if (update) {
                FILE *f = fopen(path, "w");

                if (!f || fputs(w->log, f) < 0 || fclose(f) != 0) {
                        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
                        ret = 1;
                }
        }
        want = read_file(path);
        log_ok = want && strcmp(want, w->log) == 0;
        if (want && !log_ok)
                report_first_diff(w->log, want);

        /* S1/S2 are judged on ground truth, whatever expected.log says. */
        if (w->s1_violation != sc->expect_s1 || (w->s2_violation && !sc->expect_s1) || w->assert_failed || !log_ok)
                ret = 1;
        if (sc->expect_s1)
                printf("%s %s: %s, %s%s\n", ret ? "FAIL" : "PASS", sc->name,
                       w->s1_violation ? "expected S1 violation detected" : "expected S1 violation NOT detected",
                       log_ok ? "log matches" : want ? "log differs" : "no expected.log",
                       w->assert_failed ? ", an assertion failed" : "");
        else
                printf("%s %s: %s%s, %s%s\n", ret ? "FAIL" : "PASS", sc->name,
                       w->s1_violation ? "S1 VIOLATED" : "S1 holds",
                       w->s2_violation ? ", S2 VIOLATED" : ", S2 holds",
                       log_ok ? "log matches" : want ? "log differs" : "no expected.log",
                       w->assert_failed ? ", an assertion failed" : "");
        if (w->s1_violation || w->s2_violation) {
                /* Show the violation lines themselves. */
                const char *p = w->log;

                while ((p = strstr(p, " VIOLATION")) != NULL) {
                        const char *s = p, *e = strchr(p, '\n');

                        while (s > w->log && s[-1] != '\n')
                                s--;
                        printf("  %.*s\n", (int)(e ? e - s : (long)strlen(s)), s);
                        p = e ? e : p + 1;
                }
        }
        free(want);
        world_free(w);
        free(w);
        free(sc);
        return ret;
}

/* ---------- randomized mode ---------- */

static uint64_t rng_state;
static uint64_t rng(void) {
        /* splitmix64 */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}
static uint64_t rng_below(uint64_t n) {
        return n ? rng() % n : 0;
}

/* The events-file form of a generated event, for replay and for the log. */
static void describe_event(struct event *e) {
        char who[8];
        size_t n;

        snprintf(who, sizeof(who), e->host ? "h%d" : "all", e->host);
        switch (e->kind) {
        case EV_NET:
                snprintf(e->text, sizeof(e->text), "net %s %s", who, e->arg ? "up" : "down");
                break;
        case EV_PARTITION:
                n = (size_t)snprintf(e->text, sizeof(e->text), "partition");
                for (int g = 1; g <= 2; g++) {
                        bool first = true;

                        n += (size_t)snprintf(e->text + n, sizeof(e->text) - n, "%s", g > 1 ? " |" : "");
                        for (int b = 1; b <= MAXH; b++)
                                if (e->group[b] == g) {
                                        n += (size_t)snprintf(e->text + n, sizeof(e->text) - n, "%sh%d",
                                                              first ? " " : ",", b);
                                        first = false;
                                }
                }
                break;
        case EV_HEAL:
                snprintf(e->text, sizeof(e->text), "heal");
                break;
        case EV_DISK:
                snprintf(e->text, sizeof(e->text), "disk %s %s", who,
                         e->arg == DISK_ACCESS_OK ? "ok" : e->arg == DISK_ACCESS_FAIL ? "fail" : "hang");
                break;
        case EV_POWER:
                snprintf(e->text, sizeof(e->text), "power %s %s", who, e->arg ? "on" : "off");
                break;
        case EV_FREEZE:
                snprintf(e->text, sizeof(e->text), "freeze %s %.2f", who, (double)e->dur / 1000);
                break;
        case EV_TIEBREAK:
                snprintf(e->text, sizeof(e->text), "tiebreak %s %s", who, e->arg ? "up" : "down");
                break;
        default:
                snprintf(e->text, sizeof(e->text), "?");
        }
}

static void add_ev(struct scenario *sc, uint64_t t, enum ev_kind k, int host, int arg, uint64_t dur) {
        struct event *e = &sc->ev[sc->nev++];

        memset(e, 0, sizeof(*e));
        e->t = t;
        e->kind = k;
        e->host = host;
        e->arg = arg;
        e->dur = dur;
        describe_event(e);
}

/* One random fault sequence; returns the number of faults. */
static int random_scenario(struct scenario *sc, const struct core_unsafe_knobs *knobs) {
        static const uint32_t timeouts[] = { 2000, 3000, 5000 };
        int nf;
        uint64_t t;

        memset(sc, 0, sizeof(*sc));
        snprintf(sc->name, sizeof(sc->name), "random");
        sc->timeout_ms = timeouts[rng_below(3)];
        sc->nhosts = 2 + (int)rng_below(3);
        sc->tiebreak = rng_below(2);
        sc->wd_late_ms = (uint32_t)rng_below(sc->timeout_ms / 10 + 1);
        sc->knobs = *knobs;
        for (int b = 0; b <= MAXH; b++)
                sc->phase[b] = -1;
        for (int b = 1; b <= sc->nhosts; b++) {
                sc->skew[b] = (int64_t)rng_below(sc->timeout_ms / 5 + 1);
                sc->phase[b] = (int64_t)rng_below(sc->timeout_ms / 10);
                for (int k = 0; k < 1 + (int)rng_below(2); k++) {
                        struct vm_def *d = &sc->vms[sc->nvms++];

                        snprintf(d->name, sizeof(d->name), "v%d", sc->nvms);
                        d->home = b;
                        d->prio = HASTATE_PRIORITY_RESTART;
                }
        }
        nf = 1 + (int)rng_below(4);
        t = sc->timeout_ms / 2;
        for (int i = 0; i < nf; i++) {
                int h = 1 + (int)rng_below((uint64_t)sc->nhosts);
                uint64_t wd = sc->timeout_ms;

                /* Faults come close together (within a few timeouts), where the races are. */
                t += rng_below(2 * sc->timeout_ms) + TICK_MS * rng_below(3);
                t -= t % TICK_MS;
                switch (rng_below(11)) {
                case 0:
                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        break;
                case 1:
                        add_ev(sc, t, EV_FREEZE, h, 0, 100 + rng_below(wd - 200));
                        break;
                case 2:
                        add_ev(sc, t, EV_FREEZE, h, 0, wd + rng_below(2 * wd));
                        break;
                case 3: {
                        struct event *e;

                        add_ev(sc, t, EV_PARTITION, 0, 0, 0);
                        e = &sc->ev[sc->nev - 1];
                        for (int b = 1; b <= sc->nhosts; b++)
                                e->group[b] = 1 + (int)rng_below(2);
                        describe_event(e);
                        break;
                }
                case 4:
                        add_ev(sc, t, EV_NET, h, 0, 0);
                        break;
                case 5:
                        add_ev(sc, t, EV_DISK, h, rng_below(2) ? DISK_ACCESS_FAIL : DISK_ACCESS_HANG, 0);
                        break;
                case 6:
                        add_ev(sc, t, EV_DISK, 0, DISK_ACCESS_FAIL, 0);
                        break;
                case 7:
                        add_ev(sc, t, EV_HEAL, 0, 0, 0);
                        break;
                case 8:
                        add_ev(sc, t, EV_DISK, rng_below(2) ? h : 0, DISK_ACCESS_OK, 0);
                        break;
                case 9:
                        add_ev(sc, t, EV_POWER, h, 1, 0);
                        break;
                default:
                        add_ev(sc, t, EV_TIEBREAK, h, (int)rng_below(2), 0);
                        break;
                }
        }
        /* Heal everything, boot every host, and let it settle. */
        t += 3 * sc->timeout_ms;
        add_ev(sc, t, EV_HEAL, 0, 0, 0);
        add_ev(sc, t, EV_DISK, 0, DISK_ACCESS_OK, 0);
        add_ev(sc, t, EV_TIEBREAK, 0, 1, 0);
        for (int b = 1; b <= sc->nhosts; b++)
                add_ev(sc, t, EV_POWER, b, 1, 0);
        sc->end_ms = t + 6 * sc->timeout_ms;
        return nf;
}

static void print_random_sequence(const struct scenario *sc, const struct world *w, uint64_t seq_seed) {
        printf("# replay: simulate --random --verbose --sequences 1 --seed %llu%s%s%s\n",
               (unsigned long long)seq_seed, sc->knobs.no_margin ? " --knob no-margin" : "",
               sc->knobs.no_fresh_ack ? " --knob no-fresh-ack" : "", sc->knobs.no_claims ? " --knob no-claims" : "");
        printf("# pool: hosts %d, timeout %u, tiebreak %s, watchdog_late %u\n", sc->nhosts, sc->timeout_ms,
               sc->tiebreak ? "yes" : "no", sc->wd_late_ms);
        for (int b = 1; b <= sc->nhosts; b++)
                printf("# host h%d: skew %lld, phase %lld\n", b, (long long)sc->skew[b], (long long)sc->phase[b]);
        for (int i = 0; i < sc->nev; i++)
                printf("# event %.2f %s\n", (double)sc->ev[i].t / 1000, sc->ev[i].text);
        fputs(w->log, stdout);
}

static double wall_seconds(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_random(double seconds, long max_seqs, uint64_t seed, const struct core_unsafe_knobs *knobs,
                      bool expect_violation, bool verbose) {
        struct scenario *sc = calloc(1, sizeof(*sc));
        struct world *w = malloc(sizeof(*w));
        double start = wall_seconds(), el;
        long seqs = 0, faults = 0, bad = 0;

        if (!sc || !w) {
                perror("calloc");
                exit(2);
        }
        rng_state = seed;
        do {
                uint64_t seq_seed = rng_state;

                faults += random_scenario(sc, knobs);
                world_init(w, sc, !verbose);
                world_run(w);
                seqs++;
                if (verbose)
                        print_random_sequence(sc, w, seq_seed);
                if (w->s1_violation || w->s2_violation) {
                        if (bad < 3 && !expect_violation && !verbose) {
                                printf("violation in sequence %ld:\n", seqs);
                                print_random_sequence(sc, w, seq_seed);
                        }
                        bad++;
                }
                world_free(w);
                el = wall_seconds() - start;
        } while (el < seconds && (max_seqs == 0 || seqs < max_seqs) && !(expect_violation && bad > 0));
        printf("random: seed %llu: %ld sequences, %ld faults, %ld with an S1/S2 violation, %.1f s "
               "(%.0f sequences/s, %.0f faults/s)\n",
               (unsigned long long)seed, seqs, faults, bad, el, (double)seqs / el, (double)faults / el);
        free(sc);
        free(w);
        return expect_violation ? (bad > 0 ? 0 : 1) : (bad == 0 ? 0 : 1);
}

int main(int argc, char **argv) {
        bool update = false, print = false, random_mode = false, expect_violation = false, verbose = false;
        double seconds = 20;
        long max_seqs = 0;
        uint64_t seed = 1;
        struct core_unsafe_knobs knobs = { 0 };
        int failed = 0, ran = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--update") == 0)
                        update = true;
                else if (strcmp(argv[i], "--print") == 0)
                        print = true;
                else if (strcmp(argv[i], "--random") == 0)
                        random_mode = true;
                else if (strcmp(argv[i], "--verbose") == 0)
                        verbose = true;
                else if (strcmp(argv[i], "--expect-violation") == 0)
                        expect_violation = true;
                else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
                        seconds = atof(argv[++i]);
                else if (strcmp(argv[i], "--sequences") == 0 && i + 1 < argc)
                        max_seqs = atol(argv[++i]);
                else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
                        seed = strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--knob") == 0 && i + 1 < argc) {
                        const char *k = argv[++i];

                        if (strcmp(k, "no-margin") == 0)
                                knobs.no_margin = true;
                        else if (strcmp(k, "no-fresh-ack") == 0)
                                knobs.no_fresh_ack = true;
                        else if (strcmp(k, "no-claims") == 0)
                                knobs.no_claims = true;
                        else {
                                fprintf(stderr, "unknown knob %s\n", k);
                                return 2;
                        }
                } else if (argv[i][0] == '-') {
                        fprintf(stderr, "usage: simulate [--update] [--print] DIR... | --random [--seconds S] "
                                        "[--sequences N] [--seed N] [--knob K] [--expect-violation] [--verbose]\n");
                        return 2;
                } else {
                        failed += run_scenario(argv[i], update, print);
                        ran++;
                }
        }
        if (random_mode)
                return run_random(seconds, max_seqs, seed, &knobs, expect_violation, verbose);
        if (ran == 0) {
                fprintf(stderr, "simulate: no scenario given\n");
                return 2;
        }
        return failed ? 1 : 0;
}
