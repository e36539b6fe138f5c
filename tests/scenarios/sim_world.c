/* The simulated world, and the fake shell around each host's node engine.
 *
 * Time runs in 10 ms ticks. The world holds a simulated Corosync
 * (membership after token + consensus, per-host skew, quorum, CPG delivery
 * in agreed order with optional per-sender delay), a shared disk (slots,
 * mailboxes, claim blocks; per-host access ok, failing or hung; blocks that
 * read back undecodable), watchdogs that fire `watchdog_late` ms after
 * their nominal timeout, and VMs. A frozen host stops its control plane
 * while its VMs run on until its watchdog powers it off; a stalled host
 * stops only vmhad, right after a slot write completed, while Corosync
 * keeps it in the membership.
 *
 * Each host runs the production engine, core/node.c. The shell here does
 * what vmhad does with the engine's actions, with simulated delays: the
 * disk thread writes the slot and reads every slot once per interval,
 * claim writes and reads land one tick later, CPG messages are delivered
 * to the sender's reachable members. Nothing here decides anything.
 *
 * The ground truth it checks as it runs is in sim_truth.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/node.h"
#include "tests/scenarios/sim.h"

#include "tests/scenarios/sim_world.h"

void logf_(struct world *w, int host, const char *fmt, ...) {
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

/* ---------- the fake shell: carrying out the engine's actions ---------- */


static void queue_message(struct world *w, struct host *h, const uint8_t *data, size_t len) {
        for (int b = 1; b <= w->sc->nhosts; b++) {
                struct delivery *d;

                if (b != h->id && (!core_view_has(&h->members, (unsigned)b) || !reachable(w, h->id, b)))
                        continue;
                if (w->nq == MAXMSG) {
                        fprintf(stderr, "simulate: message queue full\n");
                        exit(2);
                }
                d = &w->q[w->nq++];
                d->due = w->now + h->ackdelay_ms;
                d->from = h->id;
                d->to = b;
                d->len = len;
                d->data = malloc(len);
                if (!d->data)
                        exit(2);
                memcpy(d->data, data, len);
        }
}


static void carry_out(struct world *w, struct host *h) {
        size_t n;
        const struct node_action *acts = node_actions(h->node, &n);
        /* The engine's queue is valid only until the next node_handle():
         * copy it first, for the actions that deliver events back. */
        struct node_action *copy = malloc((n ? n : 1) * sizeof(*copy));
        struct { uint8_t *data; size_t len; } sends[64];
        int nsends = 0;
        bool arm = false;

        if (!copy)
                exit(2);
        if (n)
                memcpy(copy, acts, n * sizeof(*copy));
        for (size_t i = 0; i < n; i++)
                if (copy[i].type == NODE_ACT_SEND && nsends < 64) {
                        sends[nsends].data = malloc(copy[i].len);
                        memcpy(sends[nsends].data, copy[i].data, copy[i].len);
                        sends[nsends++].len = copy[i].len;
                }
        for (size_t i = 0; i < n; i++) {
                const struct node_action *a = &copy[i];

                switch (a->type) {
                case NODE_ACT_LOG:
                        if (a->level <= 6)
                                logf_(w, h->id, "%s", a->text);
                        break;
                case NODE_ACT_WRITE_SLOT:
                        h->next_slot = a->slot;
                        break;
                case NODE_ACT_ARM_WATCHDOG:
                        arm = true;
                        break;
                case NODE_ACT_FEED:
                        if (h->wd_armed && w->now <= a->deadline_ms)
                                h->last_feed = w->now;
                        break;
                case NODE_ACT_FENCE:
                        /* FENCING goes to the disk at once when it can;
                         * reboot() follows at the deadline. */
                        if (h->disk == DISK_ACCESS_OK || h->disk == DISK_ACCESS_READFAIL)
                                disk_write_slot(w, h);
                        h->fence_pending = true;
                        h->fence_due = a->deadline_ms;
                        break;
                case NODE_ACT_SEND:
                        break;  /* below, from the copies */
                case NODE_ACT_WRITE_MAILBOX:
                        if (a->mailbox.host_id >= 1 && a->mailbox.host_id <= (uint32_t)w->sc->nhosts) {
                                h->outbox[a->mailbox.host_id] = a->mailbox;
                                h->outbox_pending[a->mailbox.host_id] = true;
                        }
                        break;
                case NODE_ACT_WRITE_CLAIMS:
                        claims_write(w, h, a->claims, a->n_claims);
                        break;
                case NODE_ACT_READ_CLAIMS:
                        claims_collect(w, h);
                        break;
                case NODE_ACT_START_VM:
                        if (a->vm_id >= 1 && a->vm_id <= (uint64_t)w->sc->nvms)
                                start_vm(w, h->id, (int)a->vm_id - 1);
                        break;
                case NODE_ACT_STOP_VM:
                        /* A clean stop: the guest ends at once. */
                        for (int k = 0; k < w->ninst; k++)
                                if (w->inst[k].alive && w->inst[k].host == h->id &&
                                    (uint64_t)w->inst[k].vm + 1 == a->vm_id) {
                                        w->inst[k].alive = false;
                                        logf_(w, h->id, "stopped %s", vm_name(w, w->inst[k].vm));
                                }
                        break;
                case NODE_ACT_TAKEOVER:
                        if (a->from != (uint32_t)h->id && a->vm_id >= 1 && a->vm_id <= (uint64_t)w->sc->nvms)
                                check_s2(w, h->id, (int)a->vm_id - 1, a->from);
                        break;
                case NODE_ACT_EMERGENCY:
                        logf_(w, h->id, "emergency %s: %s%s%s", a->on ? "starts" : "ends",
                              emergency_cause_name(a->cause), a->text[0] ? ": " : "", a->text);
                        break;
                case NODE_ACT_WRITE_CONFIG:
                case NODE_ACT_CHANGE_DONE:
                        break;
                }
        }
        for (int i = 0; i < nsends; i++) {
                queue_message(w, h, sends[i].data, sends[i].len);
                free(sends[i].data);
        }
        free(copy);
        /* The watchdog's answer is an event of its own, after this batch. */
        if (arm) {
                struct node_event ev = { .type = NODE_EV_WATCHDOG };
                if (h->nowatchdog) {
                        snprintf(ev.u.watchdog.detail, sizeof(ev.u.watchdog.detail), "no watchdog device");
                } else {
                        ev.u.watchdog.armed = true;
                        h->wd_armed = true;
                        h->last_feed = w->now;
                }
                deliver(w, h, &ev);
        }
}

void deliver(struct world *w, struct host *h, const struct node_event *ev) {
        if (!h->node || !h->powered)
                return;
        node_handle(h->node, ev, w->now);
        carry_out(w, h);
}

/* ---------- host lifecycle ---------- */

static uint64_t io_phase(const struct world *w, int id) {
        const struct scenario *sc = w->sc;

        if (sc->phase[id] >= 0)
                return (uint64_t)sc->phase[id] % w->timing.disk_interval_ms;
        return (uint64_t)id * w->timing.disk_interval_ms / (uint64_t)(sc->nhosts + 1);
}

static struct hastate *initial_state(const struct world *w) {
        const struct scenario *sc = w->sc;
        struct hastate *s = hastate_new();
        struct hastate_msg m = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        struct hastate_error err;

        if (!s)
                exit(2);
        m.u.pool = (struct hastate_pool){ true, 1, false };
        hastate_apply(s, &m, &err);
        for (int vm = 0; vm < sc->nvms; vm++) {
                struct hastate_msg p = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };

                p.u.vm.id = (uint64_t)vm + 1;
                snprintf(p.u.vm.name, sizeof(p.u.vm.name), "%s", sc->vms[vm].name);
                p.u.vm.priority = sc->vms[vm].prio;
                p.u.vm.memory_mib = 1024;
                snprintf(p.u.vm.config, sizeof(p.u.vm.config), "sim:%s", sc->vms[vm].name);
                p.u.vm.owner = (uint32_t)sc->vms[vm].home;
                p.u.vm.started = true;  /* a scenario's VMs are meant to run */
                if (hastate_apply(s, &p, &err) < 0) {
                        fprintf(stderr, "%s: %s\n", sc->name, err.msg);
                        exit(2);
                }
        }
        return s;
}

static void host_daemon_start(struct world *w, struct host *h, struct hastate *state) {
        uint32_t ids[MAXH];
        char names[MAXH][16];
        const char *name_ptrs[MAXH];
        struct node_config cfg = { .self_id = (uint32_t)h->id, .hosts = ids, .host_names = name_ptrs,
                                   .n_hosts = (size_t)w->sc->nhosts,
                                   .timeout_ms = w->sc->timeout_ms, .vm_memory_mib = 65536, .vms = true,
                                   .unsafe = w->sc->knobs,
                                   .msg_seq_base = (uint64_t)(w->incarnation_counter + 1) << 32 };

        for (int i = 0; i < w->sc->nhosts; i++) {
                ids[i] = (uint32_t)(i + 1);
                snprintf(names[i], sizeof(names[i]), "h%d", i + 1);
                name_ptrs[i] = names[i];
        }
        node_free(h->node);
        h->node = NULL;
        if (node_new(&cfg, state, w->now, &h->node) < 0) {
                fprintf(stderr, "simulate: node_new failed\n");
                exit(2);
        }
        h->incarnation = ++w->incarnation_counter;
        h->seq = 0;
        memset(&h->next_slot, 0, sizeof(h->next_slot));
        h->next_slot.state = DISK_SLOT_JOINING;
        snprintf(h->next_slot.reason, sizeof(h->next_slot.reason), "starting");
        h->next_io = w->now + io_phase(w, h->id);
        h->next_tick = h->next_io;
        h->wd_armed = false;
        h->fence_pending = false;
        h->claims_read_pending = h->rd_done = false;
        h->n_claims_done = 0;
        h->stalled = h->has_deferred = false;
        memset(h->outbox_pending, 0, sizeof(h->outbox_pending));
}

static void host_power_off(struct world *w, struct host *h, const char *why) {
        if (!h->powered)
                return;
        h->powered = false;
        h->frozen = false;
        h->stalled = false;
        h->wd_armed = false;
        node_free(h->node);
        h->node = NULL;
        for (int i = 0; i < w->ninst; i++)
                if (w->inst[i].alive && w->inst[i].host == h->id)
                        w->inst[i].alive = false;
        logf_(w, h->id, "powered off: %s", why);
}

static void membership_events(struct world *w, struct host *h, const struct core_view *old) {
        struct node_event ev = { .type = NODE_EV_MEMBERSHIP };

        ev.u.membership.members = h->members;
        ev.u.membership.ring_id = h->ring;
        for (int b = 1; b <= w->sc->nhosts; b++)
                if (core_view_has(&h->members, (unsigned)b) && !core_view_has(old, (unsigned)b))
                        core_view_add(&ev.u.membership.joined, (unsigned)b);
        deliver(w, h, &ev);
        ev = (struct node_event){ .type = NODE_EV_QUORUM };
        ev.u.quorum.quorate = h->quorate;
        deliver(w, h, &ev);
}

static void host_boot(struct world *w, struct host *h) {
        struct core_view none = { { 0 } };
        struct hastate *s = NULL;

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
        /* The HA state a cold start begins with: the disk's snapshot, here
         * the scenario's configuration (owners as at time 0). */
        s = initial_state(w);
        host_daemon_start(w, h, s);
        logf_(w, h->id, "boots, joining");
        membership_events(w, h, &none);
}

/* ---------- Corosync model ---------- */

static void corosync_step(struct world *w, struct host *h) {
        struct core_view target, old;
        bool lost = false, gained = false;

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
        old = h->members;
        h->members = target;
        h->ring = ++w->ring_counter;
        h->quorate = 2 * core_view_count(&target) > (unsigned)w->sc->nhosts;
        /* A stalled vmhad hears of it when it wakes up. */
        if (!h->stalled)
                membership_events(w, h, &old);
}

static void deliver_messages(struct world *w) {
        int kept = 0;

        for (int i = 0; i < w->nq; i++) {
                struct delivery *d = &w->q[i];
                struct host *to = &w->h[d->to];

                if (d->due > w->now || (vmhad_running(to) == false && running(to) && to->stalled)) {
                        w->q[kept++] = *d;      /* not yet, or a stalled receiver: later, in order */
                        continue;
                }
                if (vmhad_running(to)) {
                        struct node_event ev = { .type = NODE_EV_MESSAGE };
                        ev.u.message.from = (uint32_t)d->from;
                        ev.u.message.data = d->data;
                        ev.u.message.len = d->len;
                        deliver(w, to, &ev);
                }
                free(d->data);
        }
        w->nq = kept;
}

/* ---------- events ---------- */

/* The VM events act on the world, not on each host. */
static void apply_vm_event(struct world *w, const struct event *e) {
        if (e->kind == EV_VMKILL) {
                for (int i = 0; i < w->ninst; i++)
                        if (w->inst[i].alive && w->inst[i].vm == e->vm) {
                                w->inst[i].alive = false;
                                logf_(w, w->inst[i].host, "%s dies", vm_name(w, e->vm));
                        }
        } else if (e->kind == EV_VMREQUEST) {
                struct host *h = &w->h[e->host];
                struct hastate_msg m = { .type = HASTATE_MSG_VM_REQUEST, .sender = (uint32_t)e->host };

                m.u.request.vm_id = (uint64_t)e->vm + 1;
                m.u.request.started = e->arg;
                if (!vmhad_running(h) || node_send_change(h->node, &m) == 0) {
                        logf_(w, e->host, "cannot send the request: vmhad is not running or not connected");
                        return;
                }
                carry_out(w, h);
        } else if (e->kind == EV_ASSERT_STOPPED) {
                char where[128];
                int n = alive_instances(w, e->vm, 0, where, sizeof(where));

                logf_(w, 0, "assert %s: %s runs on %s", n == 0 ? "holds" : "FAILED", vm_name(w, e->vm),
                      n ? where : "no host");
                w->assert_failed |= n != 0;
        }
}

static void apply_event(struct world *w, const struct event *e) {
        const struct scenario *sc = w->sc;

        logf_(w, 0, "event: %s", e->text);
        if (e->kind == EV_VMKILL || e->kind == EV_VMREQUEST || e->kind == EV_ASSERT_STOPPED) {
                apply_vm_event(w, e);
                return;
        }
        for (int b = 1; b <= sc->nhosts; b++) {
                struct host *h = &w->h[b];

                if (e->host != 0 && e->host != b)
                        continue;
                switch (e->kind) {
                case EV_NET:
                        h->net_up = e->arg;
                        break;
                case EV_PARTITION:
                        h->group = e->group[b];
                        break;
                case EV_HEAL:
                        h->group = 0;
                        h->net_up = true;
                        break;
                case EV_DISK:
                        if ((e->arg == DISK_ACCESS_OK || e->arg == DISK_ACCESS_READFAIL) &&
                            h->disk != DISK_ACCESS_OK && h->disk != DISK_ACCESS_READFAIL)
                                h->disk_ok_since = w->now;
                        h->disk = (enum disk_access)e->arg;
                        break;
                case EV_CLAIMDELAY:
                        h->claims_ms = (uint32_t)e->arg;
                        break;
                case EV_POWER:
                        if (e->arg)
                                host_boot(w, h);
                        else
                                host_power_off(w, h, "power cut");
                        break;
                case EV_FREEZE:
                        if (h->powered && !h->frozen) {
                                h->frozen = true;
                                h->frozen_at = w->now;
                                h->frozen_until = w->now + e->dur;
                        }
                        break;
                case EV_TIEBREAK:
                        h->tb_link = e->arg;
                        break;
                case EV_STALL:
                        h->stall_for = e->dur;
                        break;
                case EV_ACKDELAY:
                        h->ackdelay_ms = (uint32_t)e->arg;
                        break;
                case EV_CORRUPT:
                        w->corrupt[b] |= e->arg;
                        break;
                case EV_REPAIR:
                        w->corrupt[b] = 0;
                        break;
                case EV_REBOOTFAIL:
                        h->rebootfail = true;
                        break;
                case EV_NOWATCHDOG:
                        h->nowatchdog = true;
                        break;
                case EV_CLAIMFAIL:
                        h->claimfail = true;
                        break;
                case EV_ASSERT_RUNNING:
                case EV_ASSERT_POWER:
                case EV_VMKILL:
                case EV_VMREQUEST:
                case EV_ASSERT_STOPPED:
                        break;
                }
        }
        if (e->kind == EV_ASSERT_RUNNING) {
                char where[128];
                int n = alive_instances(w, e->vm, 0, where, sizeof(where));
                bool ok = n == 1 && (e->host == 0 || vm_running_on(w, e->vm, e->host));

                logf_(w, 0, "assert %s: %s runs on %s", ok ? "holds" : "FAILED", vm_name(w, e->vm),
                      n ? where : "no host");
                w->assert_failed |= !ok;
        } else if (e->kind == EV_ASSERT_POWER) {
                bool ok = w->h[e->host].powered == (bool)e->arg;

                logf_(w, 0, "assert %s: h%d is %s", ok ? "holds" : "FAILED", e->host,
                      w->h[e->host].powered ? "on" : "off");
                w->assert_failed |= !ok;
        }
}

/* ---------- the run ---------- */

static void report_running(struct world *w, struct host *h) {
        uint64_t ids[MAXVM];
        size_t k = 0;
        struct node_event ev = { .type = NODE_EV_VMS_RUNNING };

        for (int vm = 0; vm < w->sc->nvms; vm++)
                if (vm_running_on(w, vm, h->id))
                        ids[k++] = (uint64_t)vm + 1;
        ev.u.vms.ids = ids;
        ev.u.vms.count = k;
        deliver(w, h, &ev);
}

struct world *world_new(const struct scenario *sc, bool quiet) {
        struct world *w = calloc(1, sizeof(*w));
        struct core_view none = { { 0 } };

        if (!w)
                exit(2);
        w->sc = sc;
        w->quiet_log = quiet;
        if (core_timing_init(&w->timing, sc->timeout_ms) < 0) {
                fprintf(stderr, "%s: bad timeout %u\n", sc->name, sc->timeout_ms);
                exit(2);
        }
        core_timing_set_unsafe(&w->timing, &sc->knobs);
        w->detect_ms = (uint64_t)w->timing.token_ms * 22 / 10;  /* token + consensus (1.2 token) */
        w->rejoin_ms = (uint64_t)w->timing.token_ms * 15 / 10;

        /* Time 0: every host up in one ring, every homed VM running on its
         * home host with a claim; the engines start, join and arm. */
        w->ring_counter = 1;
        for (int vm = 0; vm < sc->nvms; vm++) {
                int home = sc->vms[vm].home;
                if (!home)
                        continue;
                w->inst[w->ninst++] = (struct instance){ vm, home, true };
                w->claims[home][w->nclaims[home]++] = (struct disk_claim){ (uint64_t)vm + 1, 1 };
        }
        for (int b = 1; b <= sc->nhosts; b++) {
                struct host *h = &w->h[b];

                h->id = b;
                h->powered = true;
                h->net_up = true;
                h->tb_link = true;
                h->disk = DISK_ACCESS_OK;
                h->claims_ms = TICK_MS;
                for (int c = 1; c <= sc->nhosts; c++)
                        core_view_add(&h->members, (unsigned)c);
                h->ring = 1;
                h->quorate = true;
                h->nowatchdog = sc->no_watchdog_at_start[b];
                host_daemon_start(w, h, initial_state(w));
                report_running(w, h);
                membership_events(w, h, &none);
                disk_write_slot(w, h);
        }
        /* Two disk rounds: the second publishes every host joined and armed. */
        for (int round = 0; round < 2; round++)
                for (int b = 1; b <= sc->nhosts; b++) {
                        struct host *h = &w->h[b];
                        struct node_event ev = { .type = NODE_EV_SLOT_WRITTEN };

                        if (round)
                                disk_write_slot(w, h);
                        ev.u.slot_written = (typeof(ev.u.slot_written)){ .ok = true, .seq = h->seq, .done_ms = 0,
                                                                         .written = w->slot[b] };
                        deliver(w, h, &ev);
                        disk_read(w, h);
                }
        return w;
}

void world_free(struct world *w) {
        if (!w)
                return;
        for (int b = 1; b <= w->sc->nhosts; b++)
                node_free(w->h[b].node);
        for (int i = 0; i < w->nq; i++)
                free(w->q[i].data);
        free(w->log);
        free(w);
}

static void host_step(struct world *w, struct host *h) {
        if (h->stalled && w->now >= h->stalled_until) {
                struct core_view none = { { 0 } };

                h->stalled = false;
                logf_(w, h->id, "vmhad resumes after its stall");
                if (h->has_deferred) {
                        h->has_deferred = false;
                        deliver(w, h, &h->deferred);
                }
                membership_events(w, h, &none);
        }
        if (!vmhad_running(h))
                return;
        if (h->fence_pending && w->now >= h->fence_due) {
                h->fence_pending = false;
                if (h->rebootfail) {
                        logf_(w, h->id, "reboot() failed: running on until the watchdog fires");
                } else {
                        host_power_off(w, h, "fenced itself: reboot");
                        return;
                }
        }
        if (w->now >= h->next_tick) {
                struct node_event ev = { .type = NODE_EV_TICK };

                while (h->next_tick <= w->now)
                        h->next_tick += w->timing.disk_interval_ms / 2;
                if (w->sc->tiebreak && h->net_up && h->tb_link) {
                        struct node_event tb = { .type = NODE_EV_TIEBREAK_REPLY };
                        tb.u.tiebreak.at_ms = w->now;
                        deliver(w, h, &tb);
                }
                /* As vmhad does: the driver's list, then the tick. */
                report_running(w, h);
                deliver(w, h, &ev);
        }
        if (w->now >= h->next_io) {
                while (h->next_io <= w->now)
                        h->next_io += w->timing.disk_interval_ms;
                disk_round(w, h);
        }
}

void world_run(struct world *w) {
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
                deliver_messages(w);
                for (int b = 1; b <= sc->nhosts; b++)
                        if (running(&w->h[b]))
                                host_step(w, &w->h[b]);
                for (int b = 1; b <= sc->nhosts; b++) {
                        claims_step(w, &w->h[b]);
                        if (vmhad_running(&w->h[b]))
                                claims_deliver(w, &w->h[b]);
                }
                check_s1_tick(w);
                check_masters(w);
        }
        w->now = sc->end_ms;
        for (int vm = 0; vm < sc->nvms; vm++) {
                char where[128];
                int n = alive_instances(w, vm, 0, where, sizeof(where));

                logf_(w, 0, "end: %s runs on %s", vm_name(w, vm), n ? where : "no host");
        }
}

const char *world_log(const struct world *w) {
        return w->log ? w->log : "";
}

bool world_s1_violation(const struct world *w) {
        return w->s1_violation;
}

bool world_s2_violation(const struct world *w) {
        return w->s2_violation;
}

bool world_two_masters(const struct world *w) {
        return w->two_masters;
}

bool world_assert_failed(const struct world *w) {
        return w->assert_failed;
}
