/* Failures tolerated: the largest r such that for every set F of r live
 * hosts, the agile restart VMs of F fit in the free memory of the live hosts
 * outside F.
 *
 * Feasibility is monotone in F (a subset of a set that fits also fits), so
 * the planner walks r = 1, 2, ... and stops at the first r where some F does
 * not fit: ntol = r - 1. At each level it searches the failure sets as
 * multisets of host classes (hosts with the same free memory and the same
 * restart VM sizes are interchangeable), worst candidates first (most
 * restart plus free memory: what a failure takes from the survivors), and
 * prunes whole subtrees with a certificate that every completion packs:
 *
 *   First-fit-decreasing certificate. Pack F's VMs in decreasing size, any
 *   bin choice. An item x of size s can only fail if every survivor has
 *   less than s left, so each survivor is already loaded with items >= s,
 *   at least its capacity minus the largest residual below s. That residual
 *   is congruent to the capacity modulo q, the gcd of the sizes >= s, so it
 *   is at most (s - 1) - ((s - 1 - cap) mod q) (host free memory is rarely
 *   round, VM sizes are: this is what makes 64-host pools provable). And a
 *   survivor with room for s holds at least one item. Items placed before x
 *   weigh at most (items of F >= s) - s. So if, for every size s (grouped
 *   into at most 32 buckets [a, b], taking the weaker end of each),
 *       sum(items of F >= a) - a  <  sum over survivors of least_load(b)
 *   nothing can fail. Moving F's side to the left, the condition reads
 *       sum over h in F of w_h(k)  <  K_k
 *   with w_h(k) = load_h(>= a_k) + least_load_h(b_k) and K_k = a_k + the sum of
 *   least_load over all live hosts. It is additive over F: its maximum over
 *   the completions of a partial set is the partial sum plus the largest
 *   remaining w values, so one comparison per bucket proves a subtree.
 *
 * Sets the certificate cannot prove go to the packer (greedy first, then
 * branch and bound); a set whose restart memory exceeds the survivors' free
 * memory fails at once. A set the packer cannot decide within its budget,
 * or running out of the set budget, counts as not covered: the answer is
 * then a lower bound, marked inexact, with the sum condition's upper bound.
 * Running out of time is running out of budget: the caller's expired()
 * is asked before each level and each set, and every
 * PLAN_EXPIRED_POLL_NODES nodes of this search and the packer's together.
 * Sizes are in units of the gcd of the restart VM sizes.
 */
#include "planner/pack.h"
#include "planner/planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 32

struct nhost {
        size_t index;           /* pool index */
        int64_t cap;            /* free memory, in units, >= 0 */
        const uint64_t *items;  /* agile restart VM sizes, in units, decreasing */
        size_t n_items;
        uint64_t load;          /* sum of items */
};

struct nclass {
        size_t first;           /* hosts[first .. first + count) are identical */
        size_t count;
};

struct ntol_ctx {
        const struct plan_options *opts;
        struct plan_ntol *out;

        size_t n;                       /* live hosts */
        struct nhost *hosts;            /* sorted: worst failure candidates first */
        uint64_t *all_items;
        size_t n_all_items;
        struct nclass *classes;
        size_t n_classes;
        size_t *suffix_hosts;           /* hosts in classes j.. */

        int64_t total_cap;              /* sum of caps of all live hosts */
        size_t n_buckets;
        uint64_t lo[MAX_BUCKETS], hi[MAX_BUCKETS];
        int64_t limit[MAX_BUCKETS];     /* K_k */
        int64_t *w;                     /* w[host * n_buckets + k] */
        size_t *bucket_order;           /* per bucket: classes by w, decreasing */

        /* the level being searched */
        size_t r;
        size_t *chosen;                 /* per class */
        int64_t partial[MAX_BUCKETS];
        bool *in_f;                     /* per sorted host */
        uint64_t *scratch_items;
        int64_t *scratch_caps;
        bool found;                     /* a set that does not fit */
        bool undecided;                 /* a set we could not decide, or out of budget */
        bool out_of_budget;             /* of set or node budget, or of time */
        struct pack_deadline deadline;  /* the caller's time budget, whole computation */
        size_t *witness;                /* sorted host positions of the found set */
        size_t *undecided_set;
        size_t n_undecided_set;
};

static int cmp_u64_desc(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_u64_asc(const void *a, const void *b) {
        return -cmp_u64_desc(a, b);
}

static int cmp_size_asc(const void *a, const void *b) {
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        return x < y ? -1 : x > y;
}

/* Worst failure candidates first: most (restart memory + free memory), which
 * is what a failed host takes away from the sum condition; ties broken so
 * that identical hosts end up adjacent. */
static int cmp_nhost(const void *a, const void *b) {
        const struct nhost *x = a, *y = b;
        uint64_t vx = x->load + (uint64_t)x->cap, vy = y->load + (uint64_t)y->cap;
        if (vx != vy)
                return vx < vy ? 1 : -1;
        if (x->cap != y->cap)
                return x->cap < y->cap ? -1 : 1;
        if (x->n_items != y->n_items)
                return x->n_items < y->n_items ? -1 : 1;
        for (size_t i = 0; i < x->n_items; i++)
                if (x->items[i] != y->items[i])
                        return x->items[i] < y->items[i] ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static bool nhost_same(const struct nhost *x, const struct nhost *y) {
        return x->cap == y->cap && x->n_items == y->n_items &&
               memcmp(x->items, y->items, x->n_items * sizeof(*x->items)) == 0;
}

struct bucket_sort {
        const struct ntol_ctx *ctx;
        size_t bucket;
};

static int cmp_class_by_w(const void *a, const void *b, void *arg) {
        const struct bucket_sort *bs = arg;
        const struct ntol_ctx *c = bs->ctx;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        int64_t wx = c->w[c->classes[x].first * c->n_buckets + bs->bucket];
        int64_t wy = c->w[c->classes[y].first * c->n_buckets + bs->bucket];
        if (wx != wy)
                return wx < wy ? 1 : -1;
        return x < y ? -1 : x > y;
}

/* Collects live hosts and their agile restart VMs, in units of the gcd of
 * the VM sizes; groups identical hosts; builds the certificate's buckets. */
static int ctx_build(struct ntol_ctx *c, const struct plan_pool *pool) {
        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        int64_t *free_mib = NULL;
        size_t *count = NULL, *pos = NULL, *live_pos = NULL;
        uint64_t *distinct = NULL;
        int r = pool_compute_free_mib(pool, &free_mib);
        if (r < 0)
                return r;

        count = calloc(nh + 1, sizeof(*count));
        live_pos = calloc(nh + 1, sizeof(*live_pos));
        if (!count || !live_pos) {
                r = -ENOMEM;
                goto out;
        }
        uint64_t g = 0;
        size_t n_non_agile = 0, n_items = 0;
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, i);
                if (vm->host == PLAN_NO_HOST || vm->priority != PLAN_PRIORITY_RESTART)
                        continue;
                if (!vm->agile) {
                        n_non_agile++;
                        continue;
                }
                if (plan_pool_host(pool, vm->host)->state != PLAN_HOST_LIVE)
                        continue;
                g = pack_gcd(g, vm->memory_mib);
                count[vm->host]++;
                n_items++;
        }
        if (g == 0)
                g = 1;

        c->out->non_agile = calloc(n_non_agile + 1, sizeof(size_t));
        if (!c->out->non_agile) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, i);
                if (vm->host != PLAN_NO_HOST && vm->priority == PLAN_PRIORITY_RESTART && !vm->agile)
                        c->out->non_agile[c->out->n_non_agile++] = i;
        }

        c->n = 0;
        for (size_t h = 0; h < nh; h++)
                if (plan_pool_host(pool, h)->state == PLAN_HOST_LIVE)
                        c->n++;
        c->hosts = calloc(c->n + 1, sizeof(*c->hosts));
        c->all_items = calloc(n_items + 1, sizeof(*c->all_items));
        pos = calloc(nh + 1, sizeof(*pos));
        if (!c->hosts || !c->all_items || !pos) {
                r = -ENOMEM;
                goto out;
        }
        size_t k = 0, off = 0;
        for (size_t h = 0; h < nh; h++) {
                if (plan_pool_host(pool, h)->state != PLAN_HOST_LIVE)
                        continue;
                c->hosts[k] = (struct nhost){
                        .index = h,
                        .cap = free_mib[h] > 0 ? free_mib[h] / (int64_t)g : 0,
                        .items = c->all_items + off,
                };
                pos[h] = off;
                live_pos[h] = k;
                off += count[h];
                k++;
        }
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, i);
                if (vm->host == PLAN_NO_HOST || vm->priority != PLAN_PRIORITY_RESTART || !vm->agile ||
                    plan_pool_host(pool, vm->host)->state != PLAN_HOST_LIVE)
                        continue;
                struct nhost *h = &c->hosts[live_pos[vm->host]];
                c->all_items[pos[vm->host] + h->n_items] = vm->memory_mib / g;
                h->n_items++;
                h->load += vm->memory_mib / g;
        }
        c->n_all_items = n_items;
        c->total_cap = 0;
        for (size_t i = 0; i < c->n; i++) {
                qsort((uint64_t *)c->hosts[i].items, c->hosts[i].n_items, sizeof(uint64_t), cmp_u64_desc);
                c->total_cap += c->hosts[i].cap;
        }
        qsort(c->hosts, c->n, sizeof(*c->hosts), cmp_nhost);

        c->classes = calloc(c->n + 1, sizeof(*c->classes));
        c->suffix_hosts = calloc(c->n + 2, sizeof(*c->suffix_hosts));
        if (!c->classes || !c->suffix_hosts) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < c->n; i++) {
                if (i > 0 && nhost_same(&c->hosts[i], &c->hosts[i - 1])) {
                        c->classes[c->n_classes - 1].count++;
                        continue;
                }
                c->classes[c->n_classes++] = (struct nclass){ .first = i, .count = 1 };
        }
        for (size_t j = c->n_classes; j-- > 0;)
                c->suffix_hosts[j] = c->suffix_hosts[j + 1] + c->classes[j].count;

        /* Buckets of distinct nonzero sizes, at most MAX_BUCKETS. */
        distinct = calloc(n_items + 1, sizeof(*distinct));
        if (!distinct) {
                r = -ENOMEM;
                goto out;
        }
        memcpy(distinct, c->all_items, n_items * sizeof(*distinct));
        qsort(distinct, n_items, sizeof(*distinct), cmp_u64_asc);
        size_t nd = 0;
        for (size_t i = 0; i < n_items; i++)
                if (distinct[i] > 0 && (nd == 0 || distinct[nd - 1] != distinct[i]))
                        distinct[nd++] = distinct[i];
        c->n_buckets = nd < MAX_BUCKETS ? nd : MAX_BUCKETS;
        for (size_t b = 0; b < c->n_buckets; b++) {
                size_t from = b * nd / c->n_buckets, to = (b + 1) * nd / c->n_buckets;
                c->lo[b] = distinct[from];
                c->hi[b] = distinct[to - 1];
        }

        c->w = calloc(c->n * c->n_buckets + 1, sizeof(*c->w));
        c->bucket_order = calloc(c->n_classes * c->n_buckets + 1, sizeof(*c->bucket_order));
        if (!c->w || !c->bucket_order) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t b = 0; b < c->n_buckets; b++) {
                /* Loads made of items >= lo are multiples of q, so a residual
                 * is congruent to the capacity modulo q: the largest residual
                 * below hi is (hi - 1) - ((hi - 1 - cap) mod q). */
                uint64_t q = 0;
                for (size_t i = 0; i < n_items; i++)
                        if (c->all_items[i] >= c->lo[b])
                                q = pack_gcd(q, c->all_items[i]);
                int64_t e_all = 0;
                for (size_t i = 0; i < c->n; i++) {
                        const struct nhost *h = &c->hosts[i];
                        int64_t top = (int64_t)c->hi[b] - 1;
                        int64_t gap = (top - h->cap) % (int64_t)q;
                        if (gap < 0)
                                gap += (int64_t)q;
                        int64_t e = h->cap - (top - gap);
                        if (e < 0)
                                e = 0;
                        /* a survivor with room for hi holds at least one item >= lo */
                        if (h->cap >= (int64_t)c->hi[b] && e < (int64_t)c->lo[b])
                                e = (int64_t)c->lo[b];
                        int64_t l = 0;
                        for (size_t t = 0; t < h->n_items && h->items[t] >= c->lo[b]; t++)
                                l += (int64_t)h->items[t];
                        c->w[i * c->n_buckets + b] = l + e;
                        e_all += e;
                }
                c->limit[b] = e_all + (int64_t)c->lo[b];
        }
        for (size_t b = 0; b < c->n_buckets; b++) {
                size_t *order = c->bucket_order + b * c->n_classes;
                for (size_t j = 0; j < c->n_classes; j++)
                        order[j] = j;
                struct bucket_sort bs = { .ctx = c, .bucket = b };
                qsort_r(order, c->n_classes, sizeof(*order), cmp_class_by_w, &bs);
        }

        c->chosen = calloc(c->n_classes + 1, sizeof(*c->chosen));
        c->in_f = calloc(c->n + 1, sizeof(*c->in_f));
        c->scratch_items = calloc(n_items + 1, sizeof(*c->scratch_items));
        c->scratch_caps = calloc(c->n + 1, sizeof(*c->scratch_caps));
        c->witness = calloc(c->n + 1, sizeof(*c->witness));
        c->undecided_set = calloc(c->n + 1, sizeof(*c->undecided_set));
        if (!c->chosen || !c->in_f || !c->scratch_items || !c->scratch_caps || !c->witness ||
            !c->undecided_set)
                r = -ENOMEM;
out:
        free(free_mib);
        free(count);
        free(pos);
        free(live_pos);
        free(distinct);
        return r;
}

static void ctx_done(struct ntol_ctx *c) {
        free(c->hosts);
        free(c->all_items);
        free(c->classes);
        free(c->suffix_hosts);
        free(c->w);
        free(c->bucket_order);
        free(c->chosen);
        free(c->in_f);
        free(c->scratch_items);
        free(c->scratch_caps);
        free(c->witness);
        free(c->undecided_set);
}

/* Largest possible certificate sum over completions: the partial sum plus
 * the `need` largest w values among classes j and after. */
static bool subtree_certified(const struct ntol_ctx *c, size_t j, size_t need) {
        for (size_t b = 0; b < c->n_buckets; b++) {
                int64_t sum = c->partial[b];
                const size_t *order = c->bucket_order + b * c->n_classes;
                size_t left = need;
                for (size_t t = 0; t < c->n_classes && left > 0; t++) {
                        size_t cl = order[t];
                        if (cl < j)
                                continue;
                        size_t take = c->classes[cl].count < left ? c->classes[cl].count : left;
                        sum += (int64_t)take * c->w[c->classes[cl].first * c->n_buckets + b];
                        left -= take;
                }
                if (sum >= c->limit[b])
                        return false;
        }
        return true;
}

static void set_positions(const struct ntol_ctx *c, size_t *ret) {
        size_t k = 0;
        for (size_t j = 0; j < c->n_classes; j++)
                for (size_t t = 0; t < c->chosen[j]; t++)
                        ret[k++] = c->classes[j].first + t;
}

/* The search stops here, as when a budget runs out. */
static void stop_out_of_time(struct ntol_ctx *c) {
        c->undecided = true;
        c->out_of_budget = true;
        c->out->stats.expired = true;
}

/* Records the set being decided as the undecided one, unless there is one. */
static void note_undecided_set(struct ntol_ctx *c) {
        if (c->n_undecided_set == 0) {
                c->n_undecided_set = c->r;
                set_positions(c, c->undecided_set);
        }
}

/* Decides one failure set (the first chosen[j] hosts of each class). */
static int leaf_check(struct ntol_ctx *c) {
        struct plan_ntol_stats *st = &c->out->stats;
        if (pack_deadline_check(&c->deadline)) {
                stop_out_of_time(c);
                note_undecided_set(c);
                return 0;
        }
        if (++st->sets_checked > c->opts->set_budget) {
                c->undecided = true;
                c->out_of_budget = true;
                note_undecided_set(c);
                return 0;
        }
        for (size_t i = 0; i < c->n; i++)
                c->in_f[i] = false;
        for (size_t j = 0; j < c->n_classes; j++)
                for (size_t t = 0; t < c->chosen[j]; t++)
                        c->in_f[c->classes[j].first + t] = true;

        /* the sum condition: F's restart memory against the survivors' free memory */
        int64_t load = 0, cap_f = 0;
        size_t ni = 0, nb = 0;
        for (size_t i = 0; i < c->n; i++) {
                const struct nhost *h = &c->hosts[i];
                if (c->in_f[i]) {
                        load += (int64_t)h->load;
                        cap_f += h->cap;
                        memcpy(c->scratch_items + ni, h->items, h->n_items * sizeof(*h->items));
                        ni += h->n_items;
                } else {
                        c->scratch_caps[nb++] = h->cap;
                }
        }
        if (load > c->total_cap - cap_f || (ni > 0 && nb == 0)) {
                c->found = true;
                set_positions(c, c->witness);
                return 0;
        }
        /* the certificate, exact for this set */
        bool certified = true;
        for (size_t b = 0; b < c->n_buckets && certified; b++) {
                int64_t sum = 0;
                for (size_t i = 0; i < c->n; i++)
                        if (c->in_f[i])
                                sum += c->w[i * c->n_buckets + b];
                certified = sum < c->limit[b];
        }
        if (certified)
                return 0;

        struct pack_stats ps = { 0 };
        enum pack_verdict v;
        int r = pack_items(c->scratch_items, ni, c->scratch_caps, nb, c->opts->pack_budget, &c->deadline, NULL,
                           &ps, &v);
        if (r < 0)
                return r;
        st->ffd_fits += ps.greedy_fits;
        st->exact_runs += ps.exact_runs;
        st->pack_nodes += ps.nodes;
        if (v == PACK_NO_FIT) {
                c->found = true;
                set_positions(c, c->witness);
        } else if (v == PACK_UNKNOWN) {
                if (!c->undecided) {
                        c->undecided = true;
                        note_undecided_set(c);
                }
                if (c->deadline.hit)
                        stop_out_of_time(c);
        }
        return 0;
}

/* Chooses how many hosts of class j fail, most first (worst first). */
static int level_search(struct ntol_ctx *c, size_t j, size_t need) {
        if (c->found || c->out_of_budget)
                return 0;
        if (++c->out->stats.set_nodes > c->opts->node_budget) {
                c->undecided = true;
                c->out_of_budget = true;
                return 0;
        }
        if (need == 0)
                return leaf_check(c);   /* asks the deadline itself */
        if (pack_deadline_tick(&c->deadline)) {
                stop_out_of_time(c);
                return 0;
        }
        if (j >= c->n_classes || c->suffix_hosts[j] < need)
                return 0;
        if (subtree_certified(c, j, need))
                return 0;

        size_t max = c->classes[j].count < need ? c->classes[j].count : need;
        size_t min = need > c->suffix_hosts[j + 1] ? need - c->suffix_hosts[j + 1] : 0;
        const int64_t *wj = c->w + c->classes[j].first * c->n_buckets;
        for (size_t k = max + 1; k-- > min;) {
                c->chosen[j] = k;
                for (size_t b = 0; b < c->n_buckets; b++)
                        c->partial[b] += (int64_t)k * wj[b];
                int r = level_search(c, j + 1, need - k);
                for (size_t b = 0; b < c->n_buckets; b++)
                        c->partial[b] -= (int64_t)k * wj[b];
                c->chosen[j] = 0;
                if (r < 0)
                        return r;
                if (c->found || c->out_of_budget)
                        return 0;
        }
        return 0;
}

static int copy_set(const struct ntol_ctx *c, const size_t *positions, size_t n, size_t **ret) {
        size_t *s = calloc(n + 1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                s[i] = c->hosts[positions[i]].index;
        qsort(s, n, sizeof(*s), cmp_size_asc);
        *ret = s;
        return 0;
}

/* The sum condition alone: the worst k hosts (most restart plus free
 * memory) failing together leave too little free memory once k exceeds this.
 * An upper bound on failures tolerated. */
static unsigned sum_condition_bound(const struct ntol_ctx *c) {
        int64_t taken = 0;
        for (size_t k = 0; k < c->n; k++) {
                taken += (int64_t)c->hosts[k].load + c->hosts[k].cap;
                if (taken > c->total_cap)
                        return (unsigned)k;
        }
        return c->n_all_items ? (unsigned)(c->n ? c->n - 1 : 0) : (unsigned)c->n;
}

int plan_failures_tolerated(const struct plan_pool *pool, const struct plan_options *opts,
                            struct plan_ntol **ret) {
        struct plan_options defaults;
        if (!opts) {
                plan_options_init(&defaults);
                opts = &defaults;
        }
        struct plan_ntol *out = calloc(1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        struct ntol_ctx c = {
                .opts = opts, .out = out,
                .deadline = { .expired = opts->expired, .arg = opts->expired_arg },
        };
        int r = ctx_build(&c, pool);
        if (r < 0)
                goto out;

        out->live_hosts = (unsigned)c.n;
        out->upper_bound = sum_condition_bound(&c);
        out->exact = true;
        out->failures_tolerated = 0;
        size_t level;
        for (level = 1; level < c.n; level++) {
                c.r = level;
                c.found = c.undecided = c.out_of_budget = false;
                memset(c.partial, 0, sizeof(c.partial));
                if (pack_deadline_check(&c.deadline)) {
                        stop_out_of_time(&c);
                } else {
                        out->stats.levels++;
                        r = level_search(&c, 0, level);
                        if (r < 0)
                                goto out;
                }
                if (c.found) {
                        r = copy_set(&c, c.witness, level, &out->uncovered);
                        if (r < 0)
                                goto out;
                        out->n_uncovered = level;
                        break;
                }
                if (c.undecided) {
                        out->exact = false;
                        if (c.n_undecided_set > 0) {
                                r = copy_set(&c, c.undecided_set, c.n_undecided_set, &out->undecided);
                                if (r < 0)
                                        goto out;
                                out->n_undecided = c.n_undecided_set;
                        }
                        break;
                }
                out->failures_tolerated = (unsigned)level;
        }
        if (level == c.n && c.n > 0) {
                /* Every live host fails: only a pool without restart VMs survives that. */
                out->stats.levels++;
                if (c.n_all_items == 0) {
                        out->failures_tolerated = (unsigned)c.n;
                } else {
                        size_t *all = calloc(c.n, sizeof(*all));
                        if (!all) {
                                r = -ENOMEM;
                                goto out;
                        }
                        for (size_t i = 0; i < c.n; i++)
                                all[i] = i;
                        r = copy_set(&c, all, c.n, &out->uncovered);
                        free(all);
                        if (r < 0)
                                goto out;
                        out->n_uncovered = c.n;
                }
        }
        if (out->exact || out->upper_bound < out->failures_tolerated)
                out->upper_bound = out->failures_tolerated;
        *ret = out;
        out = NULL;
out:
        ctx_done(&c);
        plan_ntol_free(out);
        return r;
}

void plan_ntol_free(struct plan_ntol *ntol) {
        if (!ntol)
                return;
        free(ntol->uncovered);
        free(ntol->undecided);
        free(ntol->non_agile);
        free(ntol);
}
