/* haadm status, and the planner's view of the pool: admission control and
 * the failures-tolerated figure.
 *
 * The failures-tolerated search runs on the event loop, so it runs under a
 * time budget (a result cut short is a lower bound, never an over-report),
 * and its answer is kept until the HA state or the hosts change.
 */
#include "daemon/vmhad.h"

#include "core/poolplan.h"
#include "core/s2.h"
#include "planner/planner.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTOL_BUDGET_MS 50       /* per search on the loop: a fraction of a disk interval */

static const struct core_peer *peers(const struct vmhad *d, size_t *n) {
        const struct survival_inputs *in = node_inputs(d->node);
        *n = in->n_peers;
        return in->peers;
}

enum metrics_host_state vmhad_host_state(struct vmhad *d, const struct core_peer *p, uint64_t now) {
        if (p->id == d->self) {
                if (d->fencing || node_fencing(d->node))
                        return METRICS_HOST_FENCING;
                if (vmhad_in_emergency(d))
                        return METRICS_HOST_EMERGENCY;
                return node_joining(d->node) ? METRICS_HOST_JOINING : METRICS_HOST_ALIVE;
        }
        if (!p->member) {
                if (s2_takeover_allowed(node_timing(d->node), p, now, NULL))
                        return METRICS_HOST_FENCED;
                if (p->slot_seen && p->state == DISK_SLOT_FENCING)
                        return METRICS_HOST_FENCING;
                return METRICS_HOST_LEFT;
        }
        /* A host that (re)joined has said nothing new until its slot moves:
         * what the slot holds is its previous incarnation's last word. */
        if (!p->slot_seen || p->state == DISK_SLOT_JOINING || p->advanced_ms < node_peer_joined_ms(d->node, p->id))
                return METRICS_HOST_JOINING;
        if (p->state == DISK_SLOT_FENCING)
                return METRICS_HOST_FENCING;
        return node_peer_emergency(d->node, p->id) ? METRICS_HOST_EMERGENCY : METRICS_HOST_ALIVE;
}

/* As haadm status shows them. */
static const char *host_state_name(enum metrics_host_state st) {
        static const char *const names[] = {
                [METRICS_HOST_JOINING] = "JOINING",     [METRICS_HOST_ALIVE] = "ALIVE",
                [METRICS_HOST_FENCING] = "FENCING",     [METRICS_HOST_FENCED] = "FENCED",
                [METRICS_HOST_LEFT] = "LEFT",           [METRICS_HOST_EMERGENCY] = "EMERGENCY",
        };
        _Static_assert(sizeof(names) / sizeof(names[0]) == _METRICS_HOST_STATE_MAX, "a name per state");
        return (unsigned)st < _METRICS_HOST_STATE_MAX ? names[st] : "?";
}

json_object *vmhad_vm_json(struct vmhad *d, const struct hastate_vm *vm) {
        json_object *o = json_object_new_object();
        char name[NODE_NAME_MAX];

        json_object_object_add(o, "name", json_object_new_string(vm->name));
        json_object_object_add(o, "id", json_object_new_int64((int64_t)vm->id));
        json_object_object_add(o, "priority", json_object_new_string(hastate_priority_name(vm->priority)));
        json_object_object_add(o, "order", json_object_new_int(vm->order));
        json_object_object_add(o, "start_delay_s", json_object_new_int64(vm->start_delay_ms / 1000));
        json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)vm->memory_mib));
        json_object_object_add(o, "config", json_object_new_string(vm->config));
        json_object_object_add(o, "owner",
                               vm->owner ? json_object_new_string(vmhad_host_name(d, vm->owner, name)) : NULL);
        json_object_object_add(o, "requested", json_object_new_string(vm->started ? "started" : "stopped"));
        return o;
}

/* ---- the planner's view ---- */

static bool peer_alive(const struct vmhad *d, const struct core_peer *p) {
        if (p->id == d->self)
                return !d->fencing;
        return p->member && !(p->slot_seen && p->state == DISK_SLOT_FENCING);
}

/* Builds the plan pool of this moment; -ENODATA names a host whose memory
 * is unknown in *unknown. Host i of the pool is peer i. */
static int build_plan(struct vmhad *d, const struct hastate *s, struct plan_pool **pool, const char **unknown) {
        static char names[CORE_MAX_HOST_ID][NODE_NAME_MAX];
        struct poolplan_host hosts[CORE_MAX_HOST_ID];
        size_t n;
        const struct core_peer *ps = peers(d, &n);

        for (size_t i = 0; i < n; i++) {
                const struct core_peer *p = &ps[i];
                uint64_t mem = node_peer_memory_mib(d->node, p->id);
                hosts[i] = (struct poolplan_host){ .id = p->id, .name = vmhad_host_name(d, p->id, names[i]),
                                                   .alive = peer_alive(d, p), .memory_known = mem > 0,
                                                   .memory_mib = mem };
        }
        return poolplan_build(s, hosts, n, pool, unknown);
}

/* "{h2,h5}" from host indexes of the plan pool. */
static void format_hosts(struct vmhad *d, const size_t *idx, size_t n, char *buf, size_t len) {
        size_t used = (size_t)snprintf(buf, len, "{"), np;
        const struct core_peer *ps = peers(d, &np);
        char name[NODE_NAME_MAX];

        for (size_t i = 0; i < n && used < len; i++)
                used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                                         vmhad_host_name(d, ps[idx[i]].id, name));
        if (used < len)
                snprintf(buf + used, len - used, "}");
}

struct budget {
        uint64_t until_us;
};

static bool budget_expired(void *arg) {
        const struct budget *b = arg;
        return vmhad_now_us() >= b->until_us;
}

static void timed_options(struct plan_options *opts, struct budget *b) {
        plan_options_init(opts);
        b->until_us = vmhad_now_us() + NTOL_BUDGET_MS * 1000ULL;
        opts->expired = budget_expired;
        opts->expired_arg = b;
}

/* What the failures-tolerated figure depends on. */
static uint64_t ntol_key(struct vmhad *d) {
        uint64_t h = 0xcbf29ce484222325ULL, n;
        const struct core_peer *ps = peers(d, &n);

#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3ULL)
        MIX(node_state(d->node)->generation);
        for (size_t i = 0; i < n; i++) {
                MIX(ps[i].id);
                MIX(peer_alive(d, &ps[i]));
                MIX(node_peer_memory_mib(d->node, ps[i].id));
        }
#undef MIX
        return h;
}

const struct vmhad_ntol_cache *vmhad_ntol(struct vmhad *d) {
        struct vmhad_ntol_cache *c = &d->ntol;
        uint64_t key = ntol_key(d), start = vmhad_now_us();
        struct plan_pool *pp = NULL;
        struct plan_ntol *nt = NULL;
        struct plan_options opts;
        struct budget b;
        const char *unknown = NULL;

        if (c->valid && c->key == key)
                return c;
        memset(c, 0, sizeof(*c));
        c->key = key;
        c->valid = true;
        timed_options(&opts, &b);
        c->result = build_plan(d, node_state(d->node), &pp, &unknown);
        if (c->result == 0)
                c->result = plan_failures_tolerated(pp, &opts, &nt);
        if (c->result == 0) {
                c->failures_tolerated = nt->failures_tolerated;
                c->exact = nt->exact;
                c->expired = nt->stats.expired;
        } else if (unknown) {
                snprintf(c->unknown, sizeof(c->unknown), "%s", unknown);
        }
        plan_ntol_free(nt);
        plan_pool_free(pp);
        vmhad_loop_note(d, "failures-tolerated search", start);
        return c;
}

/* Admission control: would this change leave the pool unable to restart
 * its protected VMs after the failures it must tolerate? Returns 0 to go
 * on, -EPERM with the planner's reason in err. */
int vmhad_admission_check(struct vmhad *d, const struct hastate_msg *m, char *err, size_t len) {
        const struct hastate *cur = node_state(d->node);
        const struct vmhad_ntol_cache *before;
        struct plan_options opts;
        struct plan_pool *bpool = NULL, *apool = NULL;
        struct plan_ntol *na = NULL;
        struct hastate *next = NULL;
        struct hastate_error herr;
        struct budget b;
        const char *unknown = NULL;
        uint8_t *buf = NULL;
        size_t blen;
        int r;

        if (m->type != HASTATE_MSG_POOL_SETTINGS && m->type != HASTATE_MSG_VM_PROTECT &&
            !(m->type == HASTATE_MSG_HOST_MAINTENANCE && m->u.maintenance.on))
                return 0;
        /* The state as it would be: a copy with the change applied. */
        r = hastate_snapshot_encode(cur, &buf, &blen);
        if (r == 0)
                r = hastate_snapshot_decode(buf, blen, &next, &herr);
        free(buf);
        if (r == 0 && hastate_apply(next, m, &herr) < 0) {
                snprintf(err, len, "%s", herr.msg);
                hastate_free(next);
                return -EINVAL;
        }
        if (r == 0)
                r = build_plan(d, cur, &bpool, &unknown);
        if (r == 0)
                r = build_plan(d, next, &apool, &unknown);
        if (r == -ENODATA) {
                qb_log(LOG_NOTICE, "admission control skipped: the memory of %s is not known "
                                   "(set vm_memory_mib in its vmha.conf)", unknown);
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        if (m->type == HASTATE_MSG_HOST_MAINTENANCE) {
                struct plan_change ch = { .kind = PLAN_CHANGE_HOST_MAINTENANCE };
                struct plan_admission *adm = NULL;
                size_t n;
                const struct core_peer *ps = peers(d, &n);
                for (size_t i = 0; i < n; i++)
                        if (ps[i].id == m->u.maintenance.host_id)
                                ch.host = i;
                timed_options(&opts, &b);
                r = plan_check_change_opts(bpool, &ch, &opts, &adm);
                if (r == 0 && !adm->allowed) {
                        snprintf(err, len, "%s", adm->reason);
                        r = -EPERM;
                }
                plan_admission_free(adm);
                goto out;
        }
        before = vmhad_ntol(d);
        if (before->result < 0) {
                r = 0;
                goto out;
        }
        timed_options(&opts, &b);
        r = plan_failures_tolerated(apool, &opts, &na);
        if (r < 0)
                goto out;
        if (!next->pool.allow_overcommit && na->failures_tolerated < next->pool.ftt_target &&
            (na->failures_tolerated < before->failures_tolerated || next->pool.ftt_target > cur->pool.ftt_target)) {
                char set[256] = "";
                format_hosts(d, na->uncovered, na->n_uncovered, set, sizeof(set));
                snprintf(err, len,
                         "refused: the pool would tolerate %s%u host failure(s) (now %u), below the target of %u%s%s%s; "
                         "give it more room, or allow overcommit with 'haadm pool set --allow-overcommit yes'",
                         na->exact ? "" : "at least ", na->failures_tolerated, before->failures_tolerated,
                         next->pool.ftt_target, na->n_uncovered ? ": if " : "", na->n_uncovered ? set : "",
                         na->n_uncovered ? " failed, their protected VMs would not all find room" : "");
                r = -EPERM;
        }
out:
        plan_ntol_free(na);
        plan_pool_free(bpool);
        plan_pool_free(apool);
        hastate_free(next);
        return r;
}

/* ---- haadm status ---- */

static json_object *hosts_json(struct vmhad *d, uint64_t now) {
        json_object *hosts = json_object_new_array();
        uint32_t master = node_master(d->node);
        const struct core_timing *t = node_timing(d->node);
        char name[NODE_NAME_MAX];
        size_t n;
        const struct core_peer *ps = peers(d, &n);

        for (size_t i = 0; i < n; i++) {
                const struct core_peer *p = &ps[i];
                json_object *h = json_object_new_object();
                bool disk_alive = p->slot_seen && now - p->advanced_ms <= t->disk_timeout_ms;
                json_object_object_add(h, "id", json_object_new_int((int32_t)p->id));
                json_object_object_add(h, "name", json_object_new_string(vmhad_host_name(d, p->id, name)));
                json_object_object_add(h, "state",
                                       json_object_new_string(host_state_name(vmhad_host_state(d, p, now))));
                json_object_object_add(h, "master", json_object_new_boolean(master == p->id));
                json_object_object_add(h, "network", json_object_new_boolean(p->member));
                json_object_object_add(h, "disk", json_object_new_boolean(disk_alive));
                json_object_object_add(h, "disk_age_ms",
                                       p->slot_seen ? json_object_new_int64((int64_t)(now - p->advanced_ms)) : NULL);
                json_object_object_add(h, "maintenance",
                                       json_object_new_boolean(core_view_has(&node_state(d->node)->maintenance, p->id)));
                json_object_array_add(hosts, h);
        }
        return hosts;
}

/* What the HA configuration takes in a config copy on the disk, measured
 * (compressed) once per generation: status is asked often, the state
 * changes seldom. */
static json_object *config_disk_json(struct vmhad *d) {
        const struct hastate *s = node_state(d->node);
        struct hastate_disk_size *sz = &d->config_size;
        json_object *o = json_object_new_object();
        uint64_t start = vmhad_now_us();

        if (!d->config_size_valid || d->config_size_gen != s->generation) {
                d->config_size_valid = hastate_disk_check(s, d->config_capacity, true, sz) == 0;
                d->config_size_gen = s->generation;
                vmhad_loop_note(d, "config size", start);
        }
        json_object_object_add(o, "capacity_bytes", json_object_new_int64((int64_t)d->config_capacity));
        json_object_object_add(o, "vms_guaranteed",
                               json_object_new_int64((int64_t)hastate_disk_vms_for(d->config_capacity)));
        if (d->config_size_valid) {
                json_object_object_add(o, "snapshot_bytes", json_object_new_int64((int64_t)sz->raw_len));
                json_object_object_add(o, "stored_bytes",
                                       json_object_new_int64((int64_t)(sz->stored_len + sizeof(struct disk_raw_config))));
                json_object_object_add(o, "worst_case_bytes", json_object_new_int64((int64_t)sz->bound));
                json_object_object_add(o, "fits", json_object_new_boolean(sz->fits));
        }
        /* Only the master writes: elsewhere, a former master included, this
         * is null. */
        json_object_object_add(o, "write_error",
                               !d->config_failing || node_master(d->node) != d->self ? NULL :
                               json_object_new_string(d->round.config_error == -EFBIG ? "does not fit a config copy" :
                                                      strerror(-d->round.config_error)));
        return o;
}

static json_object *pool_json(struct vmhad *d) {
        const struct hastate *s = node_state(d->node);
        const struct vmhad_ntol_cache *nt = vmhad_ntol(d);
        json_object *pool = json_object_new_object();

        json_object_object_add(pool, "cluster", json_object_new_string(d->sb.cluster_name));
        json_object_object_add(pool, "ha_enabled", json_object_new_boolean(s->pool.ha_enabled));
        json_object_object_add(pool, "failures_to_tolerate", json_object_new_int((int32_t)s->pool.ftt_target));
        json_object_object_add(pool, "allow_overcommit", json_object_new_boolean(s->pool.allow_overcommit));
        json_object_object_add(pool, "config_generation", json_object_new_int64((int64_t)s->generation));
        json_object_object_add(pool, "timeout_s", json_object_new_double(node_timing(d->node)->timeout_ms / 1000.0));
        json_object_object_add(pool, "quorate", json_object_new_boolean(node_inputs(d->node)->quorate));
        json_object_object_add(pool, "config_disk", config_disk_json(d));
        if (nt->result == 0) {
                json_object_object_add(pool, "failures_tolerated", json_object_new_int((int32_t)nt->failures_tolerated));
                json_object_object_add(pool, "ntol_exact", json_object_new_boolean(nt->exact));
                json_object_object_add(pool, "overcommitted",
                                       json_object_new_boolean(nt->failures_tolerated < s->pool.ftt_target));
                if (nt->expired)
                        json_object_object_add(pool, "ntol_note",
                                               json_object_new_string("a lower bound: the search ran out of time"));
        } else {
                char note[160];
                snprintf(note, sizeof(note), "unknown: the memory of %s is not known",
                         nt->unknown[0] ? nt->unknown : "a host");
                json_object_object_add(pool, "failures_tolerated", NULL);
                json_object_object_add(pool, "ntol_note", json_object_new_string(note));
                json_object_object_add(pool, "overcommitted", NULL);
        }
        return pool;
}

static json_object *self_json(struct vmhad *d) {
        const struct survival_verdict *v = node_verdict(d->node);
        json_object *self = json_object_new_object(), *causes = json_object_new_array(), *loop;

        json_object_object_add(self, "id", json_object_new_int((int32_t)d->self));
        json_object_object_add(self, "verdict", json_object_new_string(v ? survival_kind_name(v->kind) : "NONE"));
        json_object_object_add(self, "reason", json_object_new_string(v ? v->reason : ""));
        json_object_object_add(self, "watchdog", json_object_new_boolean(d->wd != NULL && node_armed(d->node)));
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++) {
                const char *detail;
                if (!node_emergency_cause(d->node, c, &detail))
                        continue;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "cause", json_object_new_string(emergency_cause_name(c)));
                json_object_object_add(e, "detail", json_object_new_string(detail));
                json_object_array_add(causes, e);
        }
        json_object_object_add(self, "emergency", json_object_new_boolean(vmhad_in_emergency(d)));
        json_object_object_add(self, "emergency_causes", causes);
        loop = json_object_new_object();
        json_object_object_add(loop, "longest_callback_ms", json_object_new_double(d->longest_cb_us / 1000.0));
        json_object_object_add(loop, "longest_callback", json_object_new_string(d->longest_cb));
        json_object_object_add(loop, "longest_callback_age_s",
                               json_object_new_int64(d->longest_cb_us ?
                                                     (int64_t)(vmha_now_ms() - d->longest_cb_at_ms) / 1000 : 0));
        json_object_object_add(self, "loop", loop);
        return self;
}

json_object *vmhad_status_json(struct vmhad *d) {
        json_object *o = json_object_new_object(), *vms = json_object_new_array();
        const struct hastate *s = node_state(d->node);

        json_object_object_add(o, "hosts", hosts_json(d, vmha_now_ms()));
        json_object_object_add(o, "pool", pool_json(d));
        json_object_object_add(o, "self", self_json(d));
        for (size_t i = 0; i < s->n_vms; i++)
                json_object_array_add(vms, vmhad_vm_json(d, &s->vms[i]));
        json_object_object_add(o, "vms", vms);
        return o;
}
