/* The node engine's claims and takeover: which protected VM starts here.
 *
 * One pass goes IDLE -> WRITING -> CONFIRMING -> IDLE:
 *   1. after each disk round, collect every claim block; plan on an
 *      accepted collect (takeover.h) and write this host's whole block
 *      with the new claims in it;
 *   2. once that write completed, collect again and start only the VMs
 *      whose claim is still the newest (takeover_confirm).
 * The rules an exhaustive model of claims requires (DESIGN.md, "Claims"):
 *   - a collect is accepted only when two passes agree (a multi-block read
 *     is not an atomic snapshot);
 *   - a collect in which any block could not be decoded blocks every
 *     takeover: an unknown block may hold the newest claim;
 *   - this host's block is only ever rewritten whole, one write at a time:
 *     a write that outlasts its deadline may still land, so the pass waits
 *     in WRITING until the shell says that it ended (landed: confirm as
 *     usual); a claim that lost (or whose write failed)
 *     stays in it: it is never "retracted", and never taken for ownership
 *     either;
 *   - at start the block is learned from the disk before anything is
 *     written, so a reboot keeps every claim of the previous incarnation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/node_internal.h"

int node_vm_init(struct node *n) {
        struct node_vms *v = &n->vm;

        v->claims = calloc(NODE_MAX_CLAIMS, sizeof(*v->claims));
        v->first = calloc(NODE_MAX_CLAIMS, sizeof(*v->first));
        return v->claims && v->first ? 0 : -ENOMEM;
}

void node_vm_free(struct node *n) {
        free(n->vm.claims);
        free(n->vm.first);
        free(n->vm.running);
        n->vm.claims = n->vm.first = NULL;
        n->vm.running = NULL;
}

void node_vm_set_running(struct node *n, const uint64_t *ids, size_t count) {
        struct node_vms *v = &n->vm;

        if (count > v->cap_running) {
                uint64_t *r = realloc(v->running, count * sizeof(*r));
                if (!r)
                        abort();
                v->running = r;
                v->cap_running = count;
        }
        if (count)
                memcpy(v->running, ids, count * sizeof(*ids));
        v->n_running = count;
}

static bool running_here(const struct node *n, uint64_t vm_id) {
        for (size_t i = 0; i < n->vm.n_running; i++)
                if (n->vm.running[i] == vm_id)
                        return true;
        return false;
}

static void mark_running(struct node *n, uint64_t vm_id) {
        uint64_t ids[NODE_MAX_CLAIMS];
        size_t k = n->vm.n_running < NODE_MAX_CLAIMS - 1 ? n->vm.n_running : NODE_MAX_CLAIMS - 1;

        if (running_here(n, vm_id))
                return;
        if (k)
                memcpy(ids, n->vm.running, k * sizeof(*ids));
        ids[k++] = vm_id;
        node_vm_set_running(n, ids, k);
}

static void ask_collect(struct node *n, uint64_t now_ms) {
        if (n->vm.read_outstanding)
                return;
        n->vm.read_outstanding = true;
        n->vm.read_asked_ms = now_ms;
        node_push(n, NODE_ACT_READ_CLAIMS);
}

static int claim_cmp(const void *a, const void *b) {
        const struct takeover_claim *x = a, *y = b;

        if (x->host_id != y->host_id)
                return x->host_id < y->host_id ? -1 : 1;
        if (x->vm_id != y->vm_id)
                return x->vm_id < y->vm_id ? -1 : 1;
        if (x->claim_seq != y->claim_seq)
                return x->claim_seq < y->claim_seq ? -1 : 1;
        return 0;
}

/* Field by field: a claim's padding is whatever its producer left. */
static bool same_claims(const struct takeover_claim *a, const struct takeover_claim *b, size_t k) {
        for (size_t i = 0; i < k; i++)
                if (claim_cmp(&a[i], &b[i]) != 0)
                        return false;
        return true;
}

static void write_own_block(struct node *n) {
        struct node_action *a = node_push(n, NODE_ACT_WRITE_CLAIMS);
        struct disk_claim *c = node_own(n, (n->vm.n_own ? n->vm.n_own : 1) * sizeof(*c));

        memcpy(c, n->vm.own, n->vm.n_own * sizeof(*c));
        a->claims = c;
        a->n_claims = n->vm.n_own;
        n->vm.phase = NODE_CLAIMS_WRITING;
}

static void own_set(struct node *n, uint64_t vm_id, uint64_t seq) {
        struct node_vms *v = &n->vm;

        for (size_t i = 0; i < v->n_own; i++)
                if (v->own[i].vm_id == vm_id) {
                        v->own[i].claim_seq = seq;
                        return;
                }
        if (v->n_own < NODE_MAX_CLAIMS)
                v->own[v->n_own++] = (struct disk_claim){ .vm_id = vm_id, .claim_seq = seq };
}

static const char *vm_label(const struct node *n, uint64_t vm_id) {
        const struct hastate_vm *vm = hastate_vm_find(n->state, vm_id);
        return vm ? vm->name : "?";
}

static void announce_owner(struct node *n, uint64_t vm_id, uint64_t now_ms) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_OWNER, .sender = n->cfg.self_id };
        uint8_t buf[HASTATE_MSG_WIRE_MAX];
        size_t used;

        m.u.owner.vm_id = vm_id;
        m.u.owner.owner = n->cfg.self_id;
        if (hastate_msg_encode(&m, buf, sizeof(buf), &used) == 0)
                node_send_wire(n, WIRE_CHANGE, buf, used, now_ms, NULL);
}

static struct node_backoff *backoff_of(struct node *n, uint64_t vm_id, bool add) {
        struct node_vms *v = &n->vm;
        size_t oldest = 0;

        for (size_t i = 0; i < v->n_backoff; i++) {
                if (v->backoff[i].vm_id == vm_id)
                        return &v->backoff[i];
                if (v->backoff[i].last_ms < v->backoff[oldest].last_ms)
                        oldest = i;
        }
        if (!add)
                return NULL;
        if (v->n_backoff < NODE_MAX_BACKOFF)
                oldest = v->n_backoff++;
        v->backoff[oldest] = (struct node_backoff){ .vm_id = vm_id };
        return &v->backoff[oldest];
}

/* A start here: the next restart in place waits 1 s, then 2, 4, ... up to
 * a minute, for the starts within the last ten minutes. A VM that keeps
 * dying on this host is not restarted in a tight loop, each time with a
 * new claim written. */
static void note_start(struct node *n, uint64_t vm_id, uint64_t now_ms) {
        struct node_backoff *b = backoff_of(n, vm_id, true);
        uint64_t wait;

        if (b->starts && now_ms - b->last_ms > NODE_RESTART_WINDOW_MS)
                b->starts = 0;
        b->starts++;
        b->last_ms = now_ms;
        wait = b->starts > 7 ? NODE_RESTART_BACKOFF_MAX_MS
                             : (uint64_t)NODE_RESTART_BACKOFF_MIN_MS << (b->starts - 1);
        b->next_ms = now_ms + (wait < NODE_RESTART_BACKOFF_MAX_MS ? wait : NODE_RESTART_BACKOFF_MAX_MS);
        b->hold_logged = false;
}

/* Whether a restart in place of vm must wait; says so once per hold. */
static bool held_back(struct node *n, uint64_t vm_id, uint64_t now_ms) {
        struct node_backoff *b = backoff_of(n, vm_id, false);

        if (!b || now_ms >= b->next_ms)
                return false;
        if (!b->hold_logged)
                node_log(n, 5, "%s: restart here held back %llu ms: started %u times here in the last %u minutes",
                         vm_label(n, vm_id), (unsigned long long)(b->next_ms - now_ms), b->starts,
                         NODE_RESTART_WINDOW_MS / 60000u);
        b->hold_logged = true;
        return true;
}

/* A stop is asked again only this long after the last time: the driver
 * forces a clean stop that does not end within its own deadline. */
#define NODE_STOP_REPEAT_MS 30000u

void node_vm_check_stops(struct node *n, uint64_t now_ms) {
        struct node_vms *v = &n->vm;
        size_t k = 0;

        /* Forget the stops of VMs that no longer run here. */
        for (size_t i = 0; i < v->n_stop_asked; i++)
                if (running_here(n, v->stop_asked[i].vm_id))
                        v->stop_asked[k++] = v->stop_asked[i];
        v->n_stop_asked = k;
        for (size_t i = 0; i < v->n_running; i++) {
                const struct hastate_vm *vm = hastate_vm_find(n->state, v->running[i]);
                struct node_action *a;
                size_t j;

                if (!vm || vm->started)
                        continue;
                for (j = 0; j < v->n_stop_asked && v->stop_asked[j].vm_id != vm->id; j++)
                        ;
                if (j < v->n_stop_asked && now_ms < v->stop_asked[j].asked_ms + NODE_STOP_REPEAT_MS)
                        continue;
                if (j == v->n_stop_asked) {
                        if (j == sizeof(v->stop_asked) / sizeof(v->stop_asked[0]))
                                continue;       /* the next reports come back to it */
                        v->n_stop_asked++;
                }
                v->stop_asked[j].vm_id = vm->id;
                v->stop_asked[j].asked_ms = now_ms;
                node_log(n, 5, "stop %s: its requested state is stopped", vm->name);
                a = node_push(n, NODE_ACT_STOP_VM);
                a->vm_id = vm->id;
        }
}

static void start_vm(struct node *n, uint64_t vm_id, uint64_t now_ms) {
        struct node_action *a = node_push(n, NODE_ACT_START_VM);

        a->vm_id = vm_id;
        mark_running(n, vm_id);
        note_start(n, vm_id, now_ms);
        announce_owner(n, vm_id, now_ms);
}

/* Whether the WAIT for (vm, from) was logged already; remembers it. */
static bool wait_logged(struct node *n, uint64_t vm_id, uint32_t from) {
        struct node_vms *v = &n->vm;
        uint64_t key = vm_id * 257 + from;

        for (size_t i = 0; i < v->n_wait_logged; i++)
                if (v->wait_logged[i] == key)
                        return true;
        if (v->n_wait_logged == sizeof(v->wait_logged) / sizeof(v->wait_logged[0]))
                v->n_wait_logged = 0;
        v->wait_logged[v->n_wait_logged++] = key;
        return false;
}

static void build_inputs(struct node *n, struct takeover_inputs *ti, struct takeover_vm *vms, size_t max) {
        size_t k;

        hastate_restart_list(n->state, vms, max, &k);
        for (size_t i = 0; i < k; i++)
                vms[i].running_here = running_here(n, vms[i].vm_id);
        *ti = (struct takeover_inputs){ .survival = &n->in, .verdict = &n->verdict, .claims = n->vm.claims,
                                        .n_claims = n->vm.n_claims, .vms = vms, .n_vms = k,
                                        .self_maintenance = core_view_has(&n->state->maintenance, n->cfg.self_id) };
}

static void plan(struct node *n, uint64_t now_ms) {
        static struct takeover_vm vms[HASTATE_MAX_VMS];
        static struct takeover_action act[HASTATE_MAX_VMS];
        struct takeover_inputs ti;
        size_t count = 0;

        if (!n->have_verdict || n->fencing)
                return;
        if (n->in.self_unarmed && !n->timing.unsafe.unarmed_owner)
                return;         /* emergency mode: takes no ownership */
        if (!n->state->pool.ha_enabled) {
                /* The administrator's switch: the hosts still watch each
                 * other and fence, but start nothing. */
                if (!n->vm.ha_off_logged)
                        node_log(n, 5, "HA is disabled for the pool: no protected VM is started, restarted or "
                                       "taken over until 'haadm enable'");
                n->vm.ha_off_logged = true;
                return;
        }
        n->vm.ha_off_logged = false;
        if (n->vm.blocked) {
                if (!wait_logged(n, 0, 0))
                        node_log(n, 4, "no takeover: %s", n->vm.blocked_why);
                return;
        }
        build_inputs(n, &ti, vms, HASTATE_MAX_VMS);
        if (takeover_plan(&ti, now_ms, act, HASTATE_MAX_VMS, &count) < 0)
                return;
        for (size_t i = 0; i < count; i++) {
                struct takeover_action *a = &act[i];
                struct node_action *t;

                if (a->kind == TAKEOVER_WAIT) {
                        if (!wait_logged(n, a->vm_id, a->from_host))
                                node_log(n, 6, "%s: %s", vm_label(n, a->vm_id), a->reason);
                        continue;
                }
                if (a->from_host == n->cfg.self_id && held_back(n, a->vm_id, now_ms))
                        continue;
                t = node_push(n, NODE_ACT_TAKEOVER);
                t->vm_id = a->vm_id;
                t->from = a->from_host;
                if (a->kind == TAKEOVER_START) {
                        node_log(n, 5, "%s: %s", vm_label(n, a->vm_id), a->reason);
                        start_vm(n, a->vm_id, now_ms);
                        continue;
                }
                node_log(n, 5, "claim %s seq %llu: %s", vm_label(n, a->vm_id), (unsigned long long)a->claim_seq,
                         a->reason);
                own_set(n, a->vm_id, a->claim_seq);
                if (n->vm.n_pending < NODE_MAX_PENDING)
                        n->vm.pending[n->vm.n_pending++] = (struct node_pending_claim){ a->vm_id, a->claim_seq };
        }
        if (n->vm.n_pending)
                write_own_block(n);
}

static void confirm(struct node *n, uint64_t now_ms) {
        static struct takeover_vm vms[HASTATE_MAX_VMS];
        struct takeover_inputs ti;

        build_inputs(n, &ti, vms, HASTATE_MAX_VMS);
        for (size_t i = 0; i < n->vm.n_pending; i++) {
                struct node_pending_claim *p = &n->vm.pending[i];
                char reason[TAKEOVER_REASON_MAX];
                const struct hastate_vm *vm = hastate_vm_find(n->state, p->vm_id);
                bool wanted = vm && vm->started;
                int r = n->vm.blocked || !n->state->pool.ha_enabled || !wanted
                                ? -EAGAIN
                                : takeover_confirm(&ti, now_ms, p->vm_id, p->seq, reason, sizeof(reason));

                if (n->vm.blocked)
                        snprintf(reason, sizeof(reason), "abort: %s", n->vm.blocked_why);
                else if (!n->state->pool.ha_enabled)
                        snprintf(reason, sizeof(reason), "abort: HA was disabled for the pool");
                else if (!wanted)
                        snprintf(reason, sizeof(reason), "abort: %s meanwhile", vm ? "stopped by request" : "unprotected");
                if (r == 0) {
                        node_log(n, 5, "start %s: claim seq %llu is the newest", vm_label(n, p->vm_id),
                                 (unsigned long long)p->seq);
                        start_vm(n, p->vm_id, now_ms);
                } else {
                        node_log(n, 5, "%s: %s", vm_label(n, p->vm_id), reason);
                }
        }
        n->vm.n_pending = 0;
        n->vm.phase = NODE_CLAIMS_IDLE;
}

static void abort_pending(struct node *n, const char *why) {
        for (size_t i = 0; i < n->vm.n_pending; i++)
                node_log(n, 5, "%s: claim seq %llu unconfirmed: %s", vm_label(n, n->vm.pending[i].vm_id),
                         (unsigned long long)n->vm.pending[i].seq, why);
        n->vm.n_pending = 0;
        n->vm.phase = NODE_CLAIMS_IDLE;
}

void node_vm_on_disk_read(struct node *n, uint64_t now_ms) {
        if (!n->cfg.vms || n->fencing || n->vm.phase != NODE_CLAIMS_IDLE)
                return;
        /* A collect slower than a disk interval goes on: starting it over
         * at every round would never let two passes agree. */
        if (n->vm.read_outstanding || n->vm.first_valid)
                return;
        n->vm.read_tries = 0;
        ask_collect(n, now_ms);
}

void node_vm_on_claims_written(struct node *n, const struct node_claims_written *w, uint64_t now_ms) {
        struct node_vms *v = &n->vm;

        if (w->late) {
                /* Only now may this host's block be written again; a
                 * write that landed late completed all the same. */
                if (v->write_in_flight)
                        node_log(n, 5, "the timed-out claim write ended: %s", w->ok ? "it landed" : "it failed");
                v->write_in_flight = false;
                if (n->timing.unsafe.overlap_claims)
                        return;         /* unsafe: that write is not the one in WRITING */
        }
        if (v->phase != NODE_CLAIMS_WRITING)
                return;
        if (!w->ok && w->in_flight && !n->timing.unsafe.overlap_claims) {
                v->write_in_flight = true;
                node_log(n, 5, "the claim write outlasts its deadline: waiting for it to land or fail");
                return;
        }
        if (!w->ok) {
                abort_pending(n, w->in_flight ? "the claim write timed out" : "the claim write failed");
                return;
        }
        v->written_ms = w->done_ms;
        v->phase = NODE_CLAIMS_CONFIRMING;
        v->first_valid = false;
        v->read_tries = 0;
        v->read_outstanding = false;
        ask_collect(n, now_ms);
}

void node_vm_on_claims_read(struct node *n, const struct node_claims_read *r, uint64_t now_ms) {
        struct node_vms *v = &n->vm;
        size_t k = r->n_claims < NODE_MAX_CLAIMS ? r->n_claims : NODE_MAX_CLAIMS;
        struct takeover_claim *sorted;

        v->read_outstanding = false;
        if (n->fencing)
                return;
        if (!r->ok) {
                v->first_valid = false;
                if (v->phase == NODE_CLAIMS_CONFIRMING)
                        abort_pending(n, "the claims could not be re-read");
                return;
        }
        sorted = node_own(n, (k ? k : 1) * sizeof(*sorted));
        if (k)
                memcpy(sorted, r->claims, k * sizeof(*sorted));
        qsort(sorted, k, sizeof(*sorted), claim_cmp);
        if (n->timing.unsafe.single_collect) {
                /* unsafe: the one pass is taken for a snapshot */
        } else if (!v->first_valid || v->n_first != k || v->first_unknown != r->n_unknown ||
                   !same_claims(v->first, sorted, k)) {
                /* First pass, or the two passes differ: a write landed in
                 * between. Collect again, a bounded number of times. */
                if (v->first_valid && ++v->read_tries >= 4) {
                        v->first_valid = false;
                        if (v->phase == NODE_CLAIMS_CONFIRMING)
                                abort_pending(n, "the claim blocks kept changing under the re-read");
                        return;
                }
                memcpy(v->first, sorted, k * sizeof(*sorted));
                v->n_first = k;
                v->first_unknown = (uint32_t)r->n_unknown;
                v->first_valid = true;
                ask_collect(n, now_ms);
                return;
        }
        v->first_valid = false;
        memcpy(v->claims, sorted, k * sizeof(*sorted));
        v->n_claims = k;
        v->collect_ms = r->done_ms;
        v->blocked = r->n_unknown > 0;
        if (v->blocked)
                snprintf(v->blocked_why, sizeof(v->blocked_why),
                         "the claim block of host %u cannot be read: it may hold a newer claim", r->unknown_hosts[0]);
        if (!v->own_known) {
                v->n_own = 0;
                for (size_t i = 0; i < k; i++)
                        if (sorted[i].host_id == n->cfg.self_id && v->n_own < NODE_MAX_CLAIMS)
                                v->own[v->n_own++] = (struct disk_claim){ sorted[i].vm_id, sorted[i].claim_seq };
                v->own_known = true;
        }
        if (v->phase == NODE_CLAIMS_CONFIRMING)
                confirm(n, now_ms);
        else if (v->phase == NODE_CLAIMS_IDLE && now_ms > r->done_ms + n->timing.disk_interval_ms &&
                 !n->timing.unsafe.stale_collect)
                /* Handled late (the loop stalled): other claims may have
                 * landed since. The next disk round collects anew. */
                node_log(n, 6, "no takeover on a claim collect that completed %llu ms ago",
                         (unsigned long long)(now_ms - r->done_ms));
        else if (v->phase == NODE_CLAIMS_IDLE)
                plan(n, now_ms);
}
