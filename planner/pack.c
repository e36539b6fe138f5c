/* Bin-packing feasibility: do these VMs fit in these hosts' free memory?
 *
 * The idea: almost every instance the planner meets is easy, so the cheap
 * tests go first. Sizes are divided by their greatest common divisor (VM
 * sizes are round numbers, host free memory is not, and the remainder of
 * every host is wasted anyway), then: total size, largest item, and for each
 * size s the count of items >= s against the slots of size s the bins have.
 * Then best-fit and worst-fit decreasing. Only when both greedy packings
 * fail does an exact branch and bound run: items in decreasing order, each
 * tried in the bins that can take it, tightest first, with
 *  - one branch per distinct residual (bins with the same free space are
 *    interchangeable),
 *  - a waste bound (space no remaining item fits in is lost),
 *  - memoization of failed states: the multiset of residuals at an item
 *    position, kept as two independent 64-bit commutative hashes. A hash
 *    collision could only make a feasible instance look infeasible, that is
 *    make the planner more pessimistic, never over-report.
 * The search stops after a node budget, or when the caller's deadline says
 * time is up, and then says PACK_UNKNOWN.
 */
#include "planner/pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t pack_gcd(uint64_t a, uint64_t b) {
        while (b) {
                uint64_t t = a % b;
                a = b;
                b = t;
        }
        return a;
}

bool pack_deadline_check(struct pack_deadline *d) {
        if (d->hit)
                return true;
        if (!d->expired)
                return false;
        d->nodes = 0;
        d->hit = d->expired(d->arg);
        return d->hit;
}

static uint64_t mix64(uint64_t x) {
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

static uint64_t mix64b(uint64_t x) {
        x ^= 0x2545f4914f6cdd1dull;
        x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdull;
        x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ull;
        return x ^ (x >> 33);
}

struct packer {
        size_t n, m;
        const uint64_t *size;   /* normalized sizes, decreasing */
        const uint64_t *suffix; /* suffix[i] = sum of size[i..n) */
        int64_t *res;           /* residual per bin */
        size_t *path;           /* bin of each sorted item */
        size_t *scratch;        /* m candidates per depth */
        uint64_t h1, h2;        /* multiset hashes of res[] */
        uint64_t nodes, budget;
        struct pack_deadline *deadline; /* NULL: none */
        uint64_t *memo;         /* pairs of keys, open addressing; (0,0) empty */
        size_t memo_size, memo_count;
};

static void memo_keys(const struct packer *p, size_t i, uint64_t *k1, uint64_t *k2) {
        *k1 = p->h1 + mix64(i * 0x100000001b3ull);
        *k2 = (p->h2 ^ mix64b(i)) | 1;
}

static bool memo_has(const struct packer *p, size_t i) {
        if (!p->memo)
                return false;
        uint64_t k1, k2;
        memo_keys(p, i, &k1, &k2);
        size_t mask = p->memo_size - 1;
        for (size_t s = k1 & mask;; s = (s + 1) & mask) {
                if (p->memo[2 * s + 1] == 0)
                        return false;
                if (p->memo[2 * s] == k1 && p->memo[2 * s + 1] == k2)
                        return true;
        }
}

static void memo_add(struct packer *p, size_t i) {
        if (!p->memo || p->memo_count * 4 >= p->memo_size * 3)
                return;
        uint64_t k1, k2;
        memo_keys(p, i, &k1, &k2);
        size_t mask = p->memo_size - 1, s = k1 & mask;
        while (p->memo[2 * s + 1] != 0)
                s = (s + 1) & mask;
        p->memo[2 * s] = k1;
        p->memo[2 * s + 1] = k2;
        p->memo_count++;
}

static void res_set(struct packer *p, size_t b, int64_t v) {
        p->h1 += mix64((uint64_t)v) - mix64((uint64_t)p->res[b]);
        p->h2 += mix64b((uint64_t)v) - mix64b((uint64_t)p->res[b]);
        p->res[b] = v;
}

/* Returns PACK_FITS, PACK_NO_FIT, or PACK_UNKNOWN when the budget or the
 * time ran out. */
static enum pack_verdict search(struct packer *p, size_t i) {
        if (i == p->n)
                return PACK_FITS;
        /* Every node counted counts towards the deadline, the one over
         * budget too: the failure-set search goes on after a packing gives
         * up, and the deadline must see all its nodes. */
        p->nodes++;
        if (p->deadline && pack_deadline_tick(p->deadline))
                return PACK_UNKNOWN;
        if (p->nodes > p->budget)
                return PACK_UNKNOWN;

        uint64_t smallest = p->size[p->n - 1];
        uint64_t live = 0;
        for (size_t b = 0; b < p->m; b++)
                if ((uint64_t)p->res[b] >= smallest)
                        live += (uint64_t)p->res[b];
        if (p->suffix[i] > live)
                return PACK_NO_FIT;
        if (memo_has(p, i))
                return PACK_NO_FIT;

        uint64_t s = p->size[i];
        size_t *cand = p->scratch + i * p->m, nc = 0;
        for (size_t b = 0; b < p->m; b++) {
                if ((uint64_t)p->res[b] < s)
                        continue;
                bool dup = false;
                for (size_t k = 0; k < nc && !dup; k++)
                        dup = p->res[cand[k]] == p->res[b];
                if (dup)
                        continue;
                /* insertion keeps candidates tightest first */
                size_t k = nc++;
                while (k > 0 && p->res[cand[k - 1]] > p->res[b]) {
                        cand[k] = cand[k - 1];
                        k--;
                }
                cand[k] = b;
        }
        for (size_t k = 0; k < nc; k++) {
                size_t b = cand[k];
                int64_t old = p->res[b];
                res_set(p, b, old - (int64_t)s);
                p->path[i] = b;
                enum pack_verdict v = search(p, i + 1);
                res_set(p, b, old);
                if (v != PACK_NO_FIT)
                        return v;
        }
        memo_add(p, i);
        return PACK_NO_FIT;
}

/* Greedy decreasing packing: best fit (tightest bin) or worst fit (roomiest
 * bin). Fills path[] and returns true when everything fits. */
static bool greedy(struct packer *p, const int64_t *caps, bool best) {
        for (size_t b = 0; b < p->m; b++)
                p->res[b] = caps[b];
        for (size_t i = 0; i < p->n; i++) {
                size_t pick = SIZE_MAX;
                for (size_t b = 0; b < p->m; b++) {
                        if ((uint64_t)p->res[b] < p->size[i])
                                continue;
                        if (pick == SIZE_MAX || (best ? p->res[b] < p->res[pick] : p->res[b] > p->res[pick]))
                                pick = b;
                }
                if (pick == SIZE_MAX)
                        return false;
                p->res[pick] -= (int64_t)p->size[i];
                p->path[i] = pick;
        }
        return true;
}

struct sort_item {
        uint64_t size;
        size_t index;
};

static int cmp_sort_item_desc(const void *a, const void *b) {
        const struct sort_item *x = a, *y = b;
        if (x->size != y->size)
                return x->size < y->size ? 1 : -1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Necessary conditions, on normalized sizes sorted decreasing: the total,
 * and for each distinct size s, items >= s against the whole slots of size
 * s in the bins. */
static bool necessary_conditions_hold(const uint64_t *size, size_t n, const int64_t *caps, size_t m) {
        uint64_t total = 0, room = 0;
        for (size_t i = 0; i < n; i++)
                total += size[i];
        for (size_t b = 0; b < m; b++)
                room += (uint64_t)caps[b];
        if (total > room)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (size[i] == 0)
                        break;
                if (i + 1 < n && size[i + 1] == size[i])
                        continue;
                /* items 0..i are all >= size[i] */
                uint64_t slots = 0;
                for (size_t b = 0; b < m && slots <= i; b++)
                        slots += (uint64_t)caps[b] / size[i];
                if (slots < i + 1)
                        return false;
        }
        return true;
}

int pack_items(const uint64_t *items, size_t n_items, const int64_t *caps_in, size_t n_bins,
               uint64_t node_budget, struct pack_deadline *deadline, size_t *assign,
               struct pack_stats *stats, enum pack_verdict *ret) {
        struct sort_item *sorted = NULL, *bin_order = NULL;
        uint64_t *size = NULL, *suffix = NULL;
        int64_t *caps = NULL, *res = NULL;
        size_t *path = NULL, *scratch = NULL;
        uint64_t *memo = NULL;
        int r = 0;

        if (n_items == 0) {
                *ret = PACK_FITS;
                return 0;
        }
        if (n_bins == 0) {
                *ret = PACK_NO_FIT;
                return 0;
        }

        uint64_t g = 0;
        for (size_t i = 0; i < n_items; i++)
                g = pack_gcd(g, items[i]);
        if (g == 0)
                g = 1;

        sorted = malloc(n_items * sizeof(*sorted));
        size = malloc(n_items * sizeof(*size));
        suffix = malloc((n_items + 1) * sizeof(*suffix));
        caps = malloc(n_bins * sizeof(*caps));
        res = malloc(n_bins * sizeof(*res));
        path = malloc(n_items * sizeof(*path));
        if (!sorted || !size || !suffix || !caps || !res || !path) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n_items; i++)
                sorted[i] = (struct sort_item){ .size = items[i] / g, .index = i };
        qsort(sorted, n_items, sizeof(*sorted), cmp_sort_item_desc);
        for (size_t i = 0; i < n_items; i++)
                size[i] = sorted[i].size;
        suffix[n_items] = 0;
        for (size_t i = n_items; i-- > 0;)
                suffix[i] = suffix[i + 1] + size[i];
        /* Bins in a canonical order (roomiest first), so that the same
         * instance is searched the same way whatever order it came in. */
        bin_order = malloc(n_bins * sizeof(*bin_order));
        if (!bin_order) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t b = 0; b < n_bins; b++)
                bin_order[b] = (struct sort_item){ .size = caps_in[b] > 0 ? (uint64_t)caps_in[b] / g : 0, .index = b };
        qsort(bin_order, n_bins, sizeof(*bin_order), cmp_sort_item_desc);
        for (size_t b = 0; b < n_bins; b++)
                caps[b] = (int64_t)bin_order[b].size;

        struct packer p = {
                .n = n_items, .m = n_bins, .size = size, .suffix = suffix,
                .res = res, .path = path, .budget = node_budget, .deadline = deadline,
        };

        enum pack_verdict v;
        if (!necessary_conditions_hold(size, n_items, caps, n_bins)) {
                v = PACK_NO_FIT;
        } else if (greedy(&p, caps, true) || greedy(&p, caps, false)) {
                v = PACK_FITS;
                if (stats)
                        stats->greedy_fits++;
        } else {
                scratch = malloc(n_items * n_bins * sizeof(*scratch));
                if (!scratch) {
                        r = -ENOMEM;
                        goto out;
                }
                size_t msize = 1024;
                while (msize < 2 * node_budget && msize < (1u << 20))
                        msize *= 2;
                memo = calloc(2 * msize, sizeof(*memo));   /* without it, the search is only slower */
                p.memo = memo;
                p.memo_size = memo ? msize : 0;
                p.scratch = scratch;
                for (size_t b = 0; b < n_bins; b++) {
                        res[b] = caps[b];
                        p.h1 += mix64((uint64_t)caps[b]);
                        p.h2 += mix64b((uint64_t)caps[b]);
                }
                v = search(&p, 0);
                if (stats) {
                        stats->exact_runs++;
                        stats->nodes += p.nodes;
                }
        }
        if (v == PACK_FITS && assign)
                for (size_t i = 0; i < n_items; i++)
                        assign[sorted[i].index] = bin_order[path[i]].index;
        *ret = v;
out:
        free(sorted);
        free(bin_order);
        free(size);
        free(suffix);
        free(caps);
        free(res);
        free(path);
        free(scratch);
        free(memo);
        return r;
}
