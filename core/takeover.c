/* Takeover planning and claim confirmation, pure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/takeover.h"

uint64_t takeover_claims_max_seq(const struct takeover_claim *claims, size_t n, uint64_t vm_id) {
        uint64_t max = 0;

        for (size_t i = 0; i < n; i++)
                if (claims[i].vm_id == vm_id && claims[i].claim_seq > max)
                        max = claims[i].claim_seq;
        return max;
}

size_t takeover_claims_owners(const struct takeover_claim *claims, size_t n, uint64_t vm_id,
                              uint32_t *owners, size_t max) {
        uint64_t top = takeover_claims_max_seq(claims, n, vm_id);
        size_t k = 0;

        if (top == 0)
                return 0;
        for (size_t i = 0; i < n && k < max; i++) {
                bool dup = false;

                if (claims[i].vm_id != vm_id || claims[i].claim_seq != top)
                        continue;
                for (size_t j = 0; j < k; j++)
                        dup |= owners[j] == claims[i].host_id;
                if (!dup)
                        owners[k++] = claims[i].host_id;
        }
        return k;
}

static bool may_act(const struct takeover_inputs *in, uint64_t now_ms) {
        return in->verdict->kind == SURVIVAL_SURVIVE && survival_own_read_fresh(in->survival, now_ms);
}

/* The recorded owners of vm: by the disk claims, or the replicated owner
 * for a VM never claimed (always, when claims are switched off). */
static size_t recorded_owners(const struct takeover_inputs *in, const struct takeover_vm *vm,
                              uint32_t owners[TAKEOVER_MAX_OWNERS]) {
        const struct core_timing *t = in->survival->timing;
        size_t k = 0;

        if (!t->unsafe.no_claims)
                k = takeover_claims_owners(in->claims, in->n_claims, vm->vm_id, owners, TAKEOVER_MAX_OWNERS);
        if (k == 0 && vm->replicated_owner != 0)
                owners[k++] = vm->replicated_owner;
        return k;
}

static void plan_one(const struct takeover_inputs *in, uint64_t now_ms, bool master,
                     const struct takeover_vm *vm, struct takeover_action *a, bool *emit) {
        const struct survival_inputs *s = in->survival;
        const struct core_timing *t = s->timing;
        uint32_t owners[TAKEOVER_MAX_OWNERS];
        size_t k = recorded_owners(in, vm, owners);
        struct s2_result r;

        memset(&r, 0, sizeof(r));
        snprintf(r.reason, sizeof(r.reason), "a tie with this host's own claim");
        *emit = false;
        memset(a, 0, sizeof(*a));
        a->vm_id = vm->vm_id;
        a->kind = t->unsafe.no_claims ? TAKEOVER_START : TAKEOVER_CLAIM;
        a->claim_seq = takeover_claims_max_seq(in->claims, in->n_claims, vm->vm_id) + 1;

        if (k == 1 && owners[0] == s->self_id) {
                a->from_host = s->self_id;
                snprintf(a->reason, sizeof(a->reason), "restart: this host owns vm %llu and does not run it",
                         (unsigned long long)vm->vm_id);
                *emit = true;
                return;
        }
        if (!master)
                return;
        if (in->self_maintenance) {
                a->kind = TAKEOVER_WAIT;
                a->from_host = k ? owners[0] : 0;
                snprintf(a->reason, sizeof(a->reason), "wait: vm %llu: this host, the master, is in maintenance "
                         "and takes no VM", (unsigned long long)vm->vm_id);
                *emit = true;
                return;
        }
        if (k == 0) {
                snprintf(a->reason, sizeof(a->reason), "place: vm %llu has no owner",
                         (unsigned long long)vm->vm_id);
                *emit = true;
                return;
        }
        for (size_t i = 0; i < k; i++) {
                const struct core_peer *o;

                if (owners[i] == s->self_id)
                        continue;       /* a tie with this host: S2 on the others */
                o = survival_peer_find_const(s->peers, s->n_peers, owners[i]);
                a->from_host = owners[i];
                if (!s2_takeover_allowed(t, o, now_ms, &r)) {
                        if (!r.counting)
                                return; /* owner alive as far as we know: nothing to say */
                        a->kind = TAKEOVER_WAIT;
                        a->ready_ms = r.ready_ms;
                        snprintf(a->reason, sizeof(a->reason), "wait: vm %llu: %s",
                                 (unsigned long long)vm->vm_id, r.reason);
                        *emit = true;
                        return;
                }
        }
        snprintf(a->reason, sizeof(a->reason), "takeover: vm %llu from %s", (unsigned long long)vm->vm_id,
                 r.reason);
        *emit = true;
}

int takeover_plan(const struct takeover_inputs *in, uint64_t now_ms, struct takeover_action *out,
                  size_t max, size_t *n_out) {
        bool master;

        *n_out = 0;
        if (!may_act(in, now_ms))
                return -EAGAIN;
        master = survival_master(in->survival, now_ms) == in->survival->self_id ||
                 in->survival->timing->unsafe.split_masters;
        for (size_t i = 0; i < in->n_vms && *n_out < max; i++) {
                const struct takeover_vm *vm = &in->vms[i];
                bool emit;

                if (vm->running_here || vm->claim_pending)
                        continue;
                plan_one(in, now_ms, master, vm, &out[*n_out], &emit);
                if (emit)
                        (*n_out)++;
        }
        return 0;
}

int takeover_confirm(const struct takeover_inputs *in, uint64_t now_ms, uint64_t vm_id,
                     uint64_t claim_seq, char *reason, size_t reason_len) {
        uint32_t self = in->survival->self_id;
        bool mine = false;

        if (!may_act(in, now_ms)) {
                snprintf(reason, reason_len, "abort vm %llu: verdict %s or no fresh disk read",
                         (unsigned long long)vm_id, survival_kind_name(in->verdict->kind));
                return -EAGAIN;
        }
        for (size_t i = 0; i < in->n_claims; i++) {
                const struct takeover_claim *c = &in->claims[i];

                if (c->vm_id != vm_id)
                        continue;
                if (c->host_id == self && c->claim_seq == claim_seq)
                        mine = true;
                else if (c->host_id != self && c->claim_seq >= claim_seq) {
                        snprintf(reason, reason_len, "abort vm %llu: host %u claims it with seq %llu >= %llu",
                                 (unsigned long long)vm_id, c->host_id,
                                 (unsigned long long)c->claim_seq, (unsigned long long)claim_seq);
                        return -EBUSY;
                }
        }
        if (!mine) {
                snprintf(reason, reason_len, "abort vm %llu: own claim seq %llu not on the disk",
                         (unsigned long long)vm_id, (unsigned long long)claim_seq);
                return -ENOENT;
        }
        snprintf(reason, reason_len, "start vm %llu: claim seq %llu is the newest",
                 (unsigned long long)vm_id, (unsigned long long)claim_seq);
        return 0;
}
