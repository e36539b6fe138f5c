/* libFuzzer target for the pool description `haadm plan` reads: any byte
 * string is the file.
 *
 * A file is either refused with one message that names the file and is
 * safe to print (printable ASCII only: every value it quotes is escaped),
 * or read into a pool whose names all follow the name rule, which this
 * harness writes back as JSON of its own and which reads back to the same
 * pool. The pool then goes through what `haadm plan` does with it by
 * default, failures tolerated, on small budgets, and the answer must be
 * consistent with itself.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/name.h"
#include "planner/planner.h"
#include "tools/plan_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "pool.json"

static void check_message(const char *err, size_t len) {
        if (!memchr(err, 0, len) || strncmp(err, NAME ": ", strlen(NAME ": ")) != 0 ||
            strlen(err) == strlen(NAME ": "))
                abort();
        for (const char *p = err; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
                        fprintf(stderr, "unprintable byte 0x%02x in: %s\n", (unsigned char)*p, err);
                        abort();
                }
}

/* The pool as a description, every key spelled out. */
static char *pool_write(const struct plan_pool *pool) {
        struct json_object *root = json_object_new_object(), *hosts = json_object_new_array(),
                           *vms = json_object_new_array();
        char *text;

        json_object_object_add(root, "failures_to_tolerate",
                               plan_pool_target(pool) == PLAN_NO_TARGET ? NULL
                                                                        : json_object_new_int(plan_pool_target(pool)));
        json_object_object_add(root, "allow_overcommit", json_object_new_boolean(plan_pool_allows_overcommit(pool)));
        for (size_t i = 0; i < plan_pool_n_hosts(pool); i++) {
                const struct plan_host *h = plan_pool_host(pool, i);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(h->name));
                json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)h->memory_mib));
                json_object_object_add(o, "state", json_object_new_string(plan_host_state_to_string(h->state)));
                json_object_array_add(hosts, o);
        }
        for (size_t i = 0; i < plan_pool_n_vms(pool); i++) {
                const struct plan_vm *v = plan_pool_vm(pool, i);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(v->name));
                json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)v->memory_mib));
                json_object_object_add(o, "host", v->host == PLAN_NO_HOST ? NULL
                                                  : json_object_new_string(plan_pool_host(pool, v->host)->name));
                json_object_object_add(o, "priority", json_object_new_string(plan_priority_to_string(v->priority)));
                json_object_object_add(o, "order", json_object_new_int(v->order));
                json_object_object_add(o, "start_delay_s", json_object_new_int64(v->start_delay_s));
                json_object_object_add(o, "agile", json_object_new_boolean(v->agile));
                json_object_array_add(vms, o);
        }
        json_object_object_add(root, "hosts", hosts);
        json_object_object_add(root, "vms", vms);
        text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
        if (!text)
                abort();
        return text;
}

static void same_pool(const struct plan_pool *a, const struct plan_pool *b) {
        if (plan_pool_target(a) != plan_pool_target(b) ||
            plan_pool_allows_overcommit(a) != plan_pool_allows_overcommit(b) ||
            plan_pool_n_hosts(a) != plan_pool_n_hosts(b) || plan_pool_n_vms(a) != plan_pool_n_vms(b))
                abort();
        for (size_t i = 0; i < plan_pool_n_hosts(a); i++) {
                const struct plan_host *x = plan_pool_host(a, i), *y = plan_pool_host(b, i);
                if (strcmp(x->name, y->name) || x->memory_mib != y->memory_mib || x->state != y->state)
                        abort();
        }
        for (size_t i = 0; i < plan_pool_n_vms(a); i++) {
                const struct plan_vm *x = plan_pool_vm(a, i), *y = plan_pool_vm(b, i);
                if (strcmp(x->name, y->name) || x->memory_mib != y->memory_mib || x->host != y->host ||
                    x->priority != y->priority || x->order != y->order || x->start_delay_s != y->start_delay_s ||
                    x->agile != y->agile)
                        abort();
        }
}

/* Names follow the rule, sizes and ranges are the planner's, VMs run on
 * hosts of the pool. */
static void check_pool(const struct plan_pool *pool) {
        int target = plan_pool_target(pool);
        if (target != PLAN_NO_TARGET && (target < 0 || target > PLAN_MAX_FAILURES_TO_TOLERATE))
                abort();
        for (size_t i = 0; i < plan_pool_n_hosts(pool); i++) {
                const struct plan_host *h = plan_pool_host(pool, i);
                if (!vmha_name_valid(h->name, strlen(h->name)) || h->memory_mib > PLAN_MAX_MEMORY_MIB)
                        abort();
        }
        for (size_t i = 0; i < plan_pool_n_vms(pool); i++) {
                const struct plan_vm *v = plan_pool_vm(pool, i);
                if (!vmha_name_valid(v->name, strlen(v->name)) || v->memory_mib > PLAN_MAX_MEMORY_MIB ||
                    (v->host != PLAN_NO_HOST && v->host >= plan_pool_n_hosts(pool)) ||
                    v->order < PLAN_MIN_ORDER || v->order > PLAN_MAX_ORDER ||
                    v->start_delay_s > PLAN_MAX_START_DELAY_S)
                        abort();
        }
}

static void check_set(const struct plan_pool *pool, const size_t *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (set[i] >= plan_pool_n_hosts(pool) || (i > 0 && set[i] <= set[i - 1]) ||
                    plan_pool_host(pool, set[i])->state != PLAN_HOST_LIVE)
                        abort();
}

/* Failures tolerated on small budgets: a lower bound that never exceeds
 * its upper bound, a proven uncovered set one host larger. */
static void check_ntol(const struct plan_pool *pool) {
        struct plan_options opts;
        struct plan_ntol *nt = NULL;

        plan_options_init(&opts);
        opts.set_budget = 64;
        opts.node_budget = 4096;
        opts.pack_budget = 4096;
        if (plan_failures_tolerated(pool, &opts, &nt) < 0)
                return;
        if (nt->failures_tolerated > nt->upper_bound || (nt->exact && nt->failures_tolerated != nt->upper_bound) ||
            nt->failures_tolerated > nt->live_hosts || nt->live_hosts > plan_pool_n_hosts(pool) ||
            (nt->n_uncovered && nt->n_uncovered != nt->failures_tolerated + 1) ||
            (nt->exact && nt->n_undecided))
                abort();
        check_set(pool, nt->uncovered, nt->n_uncovered);
        check_set(pool, nt->undecided, nt->n_undecided);
        for (size_t i = 0; i < nt->n_non_agile; i++)
                if (nt->non_agile[i] >= plan_pool_n_vms(pool))
                        abort();
        plan_ntol_free(nt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct plan_pool *pool = NULL, *again = NULL;
        char err[512];
        char *text;

        memset(err, 0, sizeof(err));
        if (plan_json_parse(NAME, (const char *)data, size, &pool, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
                return 0;
        }
        check_pool(pool);
        text = pool_write(pool);
        if (plan_json_parse(NAME, text, strlen(text), &again, err, sizeof(err)) < 0) {
                fprintf(stderr, "the pool as written back is refused: %s\n%s\n", err, text);
                abort();
        }
        same_pool(pool, again);
        check_ntol(pool);
        plan_pool_free(again);
        plan_pool_free(pool);
        free(text);
        return 0;
}
