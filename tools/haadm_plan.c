/* haadm plan: the planner, offline, on a JSON pool description.
 *
 * Four questions, one per mode: how many host failures does the pool
 * tolerate (default); where do VMs restart if these hosts fail (--fail);
 * which live migrations empty this host (--evacuate); would this change keep
 * the pool within its target (--protect, --grow, --start, --maintenance).
 * The file is read with plan_json.c; the answers come from planner/. Output
 * is a table for people, or one JSON object with --json.
 */
#include "planner/planner.h"
#include "tools/haadm.h"
#include "tools/plan_json.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plan_usage[] =
        "usage: haadm plan --input FILE [--json]\n"
        "       haadm plan --input FILE --fail H1[,H2...] [--json]\n"
        "       haadm plan --input FILE --evacuate HOST [--json]\n"
        "       haadm plan --input FILE (--protect VM | --grow VM=MIB | --start VM@HOST |\n"
        "                               --maintenance HOST) [--json]\n"
        "\n"
        "Runs the restart planner on a pool described in FILE (JSON, see below).\n"
        "\n"
        "  (no mode)          failures tolerated: the largest number of live hosts that\n"
        "                     can fail together with every agile restart VM still\n"
        "                     finding room; whether that is exact or a lower bound\n"
        "                     (then with an upper bound and a failure it could not\n"
        "                     decide); a failure one bigger that does not fit;\n"
        "                     non-agile restart VMs (left out of the count)\n"
        "  --fail H1,H2       restart plan if these hosts fail: restart VMs by order\n"
        "                     group, then best-effort VMs; what cannot be placed\n"
        "  --evacuate HOST    live migrations, in order, that empty HOST for\n"
        "                     maintenance without overcommitting any host at any step\n"
        "  --protect VM       admission control: does the change keep failures\n"
        "  --grow VM=MIB      tolerated at or above the pool's failures_to_tolerate?\n"
        "  --start VM@HOST    (give VM priority restart; grow VM to MIB; start the\n"
        "  --maintenance HOST halted VM on HOST; evacuate HOST and put it into\n"
        "                     maintenance.) Exit status 1 when it is refused\n"
        "  --json             print one JSON object instead of tables\n"
        "  --input FILE       the pool description (required)\n"
        "\n"
        "FILE: {\"failures_to_tolerate\": 1, \"allow_overcommit\": false,\n"
        "       \"hosts\": [{\"name\": \"h1\", \"memory_mib\": 262144, \"state\": \"live\"}, ...],\n"
        "       \"vms\": [{\"name\": \"vm1\", \"memory_mib\": 4096, \"host\": \"h1\",\n"
        "                \"priority\": \"restart\", \"order\": 0, \"start_delay_s\": 0,\n"
        "                \"agile\": true}, ...]}\n"
        "  state: live, dead or maintenance (default live); host: null for a halted VM;\n"
        "  priority: restart, best-effort or none (default none); order and\n"
        "  start_delay_s default to 0; agile (false: pinned to its host) defaults to\n"
        "  true; failures_to_tolerate null or absent means no target.\n"
        "\n"
        "Exit status: 0 success, 1 change refused, 2 bad usage or bad input.\n";

enum mode {
        MODE_NTOL,
        MODE_FAIL,
        MODE_EVACUATE,
        MODE_CHANGE,
};

static int print_json(struct json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return HAADM_EXIT_OK;
}

static struct json_object *host_list_json(const struct plan_pool *pool, const size_t *hosts, size_t n) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_string(plan_pool_host(pool, hosts[i])->name));
        return a;
}

static struct json_object *vm_list_json(const struct plan_pool *pool, const size_t *vms, size_t n) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_string(plan_pool_vm(pool, vms[i])->name));
        return a;
}

static void print_host_set(const struct plan_pool *pool, const size_t *hosts, size_t n) {
        fputc('{', stdout);
        for (size_t i = 0; i < n; i++)
                printf("%s%s", i ? "," : "", plan_pool_host(pool, hosts[i])->name);
        fputc('}', stdout);
}

static void print_vm_list(const struct plan_pool *pool, const size_t *vms, size_t n, bool details) {
        for (size_t i = 0; i < n; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, vms[i]);
                printf("%s%s", i ? ", " : "", vm->name);
                if (details)
                        printf(" (%s, %" PRIu64 " MiB%s)", plan_priority_to_string(vm->priority), vm->memory_mib,
                               vm->agile ? "" : ", pinned");
        }
}

static int run_ntol(const struct plan_pool *pool, bool json) {
        struct plan_ntol *n = NULL;
        int r = plan_failures_tolerated(pool, NULL, &n);
        if (r < 0)
                return haadm_usage_error("plan: cannot compute failures tolerated: %s", strerror(-r));
        int target = plan_pool_target(pool);
        bool overcommitted = target != PLAN_NO_TARGET && n->failures_tolerated < (unsigned)target;

        if (json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "failures_tolerated", json_object_new_int64(n->failures_tolerated));
                json_object_object_add(o, "exact", json_object_new_boolean(n->exact));
                json_object_object_add(o, "upper_bound", json_object_new_int64(n->upper_bound));
                json_object_object_add(o, "target", target == PLAN_NO_TARGET ? NULL : json_object_new_int(target));
                json_object_object_add(o, "overcommitted", json_object_new_boolean(overcommitted));
                json_object_object_add(o, "uncovered_failure",
                                       n->n_uncovered ? host_list_json(pool, n->uncovered, n->n_uncovered) : NULL);
                json_object_object_add(o, "undecided_failure",
                                       n->n_undecided ? host_list_json(pool, n->undecided, n->n_undecided) : NULL);
                json_object_object_add(o, "non_agile_restart_vms", vm_list_json(pool, n->non_agile, n->n_non_agile));
                json_object_object_add(o, "live_hosts", json_object_new_int64(n->live_hosts));
                plan_ntol_free(n);
                return print_json(o);
        }

        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        if (n->exact)
                printf("Failures tolerated:  %u (exact)\n", n->failures_tolerated);
        else
                printf("Failures tolerated:  %u (lower bound, at most %u: the search ran out of budget)\n",
                       n->failures_tolerated, n->upper_bound);
        if (target == PLAN_NO_TARGET)
                printf("Target:              none\n");
        else
                printf("Target:              %d%s\n", target,
                       !overcommitted ? "" :
                       n->exact || n->upper_bound < (unsigned)target
                               ? "  -- OVERCOMMITTED: fewer failures tolerated than the target"
                               : "  -- OVERCOMMITTED as far as proven: the target may be met, but it could not be shown");
        printf("Uncovered failure:   ");
        if (n->n_uncovered) {
                print_host_set(pool, n->uncovered, n->n_uncovered);
                struct plan_restart_plan *p = NULL;
                if (plan_restart_for_failure(pool, n->uncovered, n->n_uncovered, NULL, &p) == 0) {
                        size_t shown = 0, more = 0;
                        for (size_t i = 0; i < p->n_unplaced; i++) {
                                const struct plan_vm *vm = plan_pool_vm(pool, p->unplaced[i]);
                                if (vm->priority != PLAN_PRIORITY_RESTART || !vm->agile)
                                        continue;
                                if (shown == 8) {
                                        more++;
                                        continue;
                                }
                                printf("%s%s", shown++ ? ", " : " would leave ", vm->name);
                        }
                        if (more)
                                printf(" and %zu more", more);
                        if (shown)
                                printf(" unplaced");
                        plan_restart_plan_free(p);
                }
                fputc('\n', stdout);
        } else if (n->n_undecided) {
                printf("none proven; ");
                print_host_set(pool, n->undecided, n->n_undecided);
                printf(" could not be decided\n");
        } else {
                printf("none: every live host may fail\n");
        }
        printf("Non-agile restart VMs (left out): ");
        if (n->n_non_agile)
                print_vm_list(pool, n->non_agile, n->n_non_agile, false);
        else
                printf("none");
        printf("\n\n%-20s %-12s %12s %12s %12s %8s\n", "HOST", "STATE", "MEMORY MiB", "FREE MiB", "RESTART MiB",
               "VMS");
        for (size_t h = 0; h < nh; h++) {
                const struct plan_host *host = plan_pool_host(pool, h);
                uint64_t restart = 0;
                unsigned count = 0;
                for (size_t i = 0; i < nv; i++) {
                        const struct plan_vm *vm = plan_pool_vm(pool, i);
                        if (vm->host != h)
                                continue;
                        count++;
                        if (vm->priority == PLAN_PRIORITY_RESTART && vm->agile)
                                restart += vm->memory_mib;
                }
                printf("%-20s %-12s %12" PRIu64 " %12" PRId64 " %12" PRIu64 " %8u\n", host->name,
                       plan_host_state_to_string(host->state), host->memory_mib, plan_pool_host_free_mib(pool, h),
                       restart, count);
        }
        plan_ntol_free(n);
        return HAADM_EXIT_OK;
}

static int run_fail(const struct plan_pool *pool, const size_t *failed, size_t n_failed, bool json) {
        struct plan_restart_plan *p = NULL;
        int r = plan_restart_for_failure(pool, failed, n_failed, NULL, &p);
        if (r < 0)
                return haadm_usage_error("plan: cannot compute the restart plan: %s", strerror(-r));
        if (json) {
                struct json_object *o = json_object_new_object(), *a = json_object_new_array();
                for (size_t i = 0; i < p->n_restarts; i++) {
                        const struct plan_vm *vm = plan_pool_vm(pool, p->restarts[i].vm);
                        struct json_object *e = json_object_new_object();
                        json_object_object_add(e, "vm", json_object_new_string(vm->name));
                        json_object_object_add(e, "host",
                                               json_object_new_string(plan_pool_host(pool, p->restarts[i].host)->name));
                        json_object_object_add(e, "order", json_object_new_int(vm->order));
                        json_object_object_add(e, "start_delay_s", json_object_new_int64(vm->start_delay_s));
                        json_object_array_add(a, e);
                }
                json_object_object_add(o, "restarts", a);
                json_object_object_add(o, "unplaced", vm_list_json(pool, p->unplaced, p->n_unplaced));
                plan_restart_plan_free(p);
                return print_json(o);
        }
        printf("Restart plan if ");
        print_host_set(pool, failed, n_failed);
        printf(" fail%s:\n\n", n_failed == 1 ? "s" : "");
        printf("%4s  %-11s %6s %7s  %-24s %-20s %10s\n", "STEP", "PRIORITY", "ORDER", "DELAY", "VM", "HOST",
               "MEMORY MiB");
        for (size_t i = 0; i < p->n_restarts; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, p->restarts[i].vm);
                printf("%4zu  %-11s %6" PRId32 " %6" PRIu32 "s  %-24s %-20s %10" PRIu64 "\n", i + 1,
                       plan_priority_to_string(vm->priority), vm->order, vm->start_delay_s, vm->name,
                       plan_pool_host(pool, p->restarts[i].host)->name, vm->memory_mib);
        }
        if (p->n_restarts == 0)
                printf("   -  nothing to restart\n");
        printf("\nUnplaced: ");
        if (p->n_unplaced)
                print_vm_list(pool, p->unplaced, p->n_unplaced, true);
        else
                printf("none");
        fputc('\n', stdout);
        plan_restart_plan_free(p);
        return HAADM_EXIT_OK;
}

static int run_evacuate(const struct plan_pool *pool, size_t host, bool json) {
        struct plan_evacuation *ev = NULL;
        int r = plan_evacuate_host(pool, host, NULL, &ev);
        if (r == -EINVAL)
                return haadm_usage_error("--evacuate: %s is dead; only a live host (or one in maintenance) can be "
                                         "evacuated", plan_pool_host(pool, host)->name);
        if (r < 0)
                return haadm_usage_error("plan: cannot compute the evacuation: %s", strerror(-r));
        if (json) {
                struct json_object *o = json_object_new_object(), *a = json_object_new_array();
                for (size_t i = 0; i < ev->n_migrations; i++) {
                        const struct plan_migration *m = &ev->migrations[i];
                        struct json_object *e = json_object_new_object();
                        json_object_object_add(e, "vm", json_object_new_string(plan_pool_vm(pool, m->vm)->name));
                        json_object_object_add(e, "from", json_object_new_string(plan_pool_host(pool, m->from)->name));
                        json_object_object_add(e, "to", json_object_new_string(plan_pool_host(pool, m->to)->name));
                        json_object_array_add(a, e);
                }
                json_object_object_add(o, "migrations", a);
                json_object_object_add(o, "unplaced", vm_list_json(pool, ev->unplaced, ev->n_unplaced));
                plan_evacuation_free(ev);
                return print_json(o);
        }
        printf("Evacuation of %s (live migrations, one at a time):\n\n", plan_pool_host(pool, host)->name);
        printf("%4s  %-24s %-20s %-20s %10s\n", "STEP", "VM", "FROM", "TO", "MEMORY MiB");
        for (size_t i = 0; i < ev->n_migrations; i++) {
                const struct plan_migration *m = &ev->migrations[i];
                const struct plan_vm *vm = plan_pool_vm(pool, m->vm);
                printf("%4zu  %-24s %-20s %-20s %10" PRIu64 "%s\n", i + 1, vm->name,
                       plan_pool_host(pool, m->from)->name, plan_pool_host(pool, m->to)->name, vm->memory_mib,
                       m->from != host ? "  (makes room)" : "");
        }
        if (ev->n_migrations == 0)
                printf("   -  nothing to migrate\n");
        printf("\nUnplaced (stay on %s): ", plan_pool_host(pool, host)->name);
        if (ev->n_unplaced)
                print_vm_list(pool, ev->unplaced, ev->n_unplaced, true);
        else
                printf("none");
        fputc('\n', stdout);
        plan_evacuation_free(ev);
        return HAADM_EXIT_OK;
}

static int run_change(const struct plan_pool *pool, const struct plan_change *change, bool json) {
        struct plan_admission *a = NULL;
        int r = plan_check_change(pool, change, &a);
        if (r == -EINVAL && change->kind == PLAN_CHANGE_START_VM)
                return haadm_usage_error("--start: %s is already running", plan_pool_vm(pool, change->vm)->name);
        if (r < 0)
                return haadm_usage_error("plan: cannot check the change: %s", strerror(-r));
        int target = plan_pool_target(pool);
        int status = a->allowed ? HAADM_EXIT_OK : HAADM_EXIT_FAIL;
        if (json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "allowed", json_object_new_boolean(a->allowed));
                json_object_object_add(o, "overcommitted", json_object_new_boolean(a->overcommitted));
                json_object_object_add(o, "failures_tolerated_before", json_object_new_int64(a->ntol_before));
                json_object_object_add(o, "failures_tolerated_after", json_object_new_int64(a->ntol_after));
                json_object_object_add(o, "exact", json_object_new_boolean(a->exact));
                json_object_object_add(o, "target", target == PLAN_NO_TARGET ? NULL : json_object_new_int(target));
                json_object_object_add(o, "reason", json_object_new_string(a->reason));
                print_json(o);
        } else {
                printf("%s: %s\n", a->allowed ? (a->overcommitted ? "allowed (overcommitted)" : "allowed") : "refused",
                       a->reason);
        }
        plan_admission_free(a);
        return status;
}

/* "h1,h2" -> host indexes; duplicates are ignored. */
static int parse_host_list(const struct plan_pool *pool, const char *list, size_t **ret, size_t *n_ret) {
        size_t nh = plan_pool_n_hosts(pool), n = 0;
        size_t *set = calloc(nh + 1, sizeof(*set));
        char *copy = strdup(list);
        int r = HAADM_EXIT_OK;
        if (!set || !copy) {
                r = haadm_usage_error("out of memory");
                goto out;
        }
        char *save = NULL;
        if (!*copy || copy[strlen(copy) - 1] == ',' || *copy == ',' || strstr(copy, ",,")) {
                r = haadm_usage_error("--fail: empty host name in '%s' (expected H1,H2,...)", list);
                goto out;
        }
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t h;
                if (plan_pool_find_host(pool, tok, &h) < 0) {
                        r = haadm_usage_error("--fail: unknown host \"%s\"", tok);
                        goto out;
                }
                bool dup = false;
                for (size_t i = 0; i < n && !dup; i++)
                        dup = set[i] == h;
                if (!dup)
                        set[n++] = h;
        }
        *ret = set;
        *n_ret = n;
        set = NULL;
out:
        free(set);
        free(copy);
        return r;
}

static int parse_change(const struct plan_pool *pool, int opt, const char *arg, struct plan_change *c) {
        char *copy = strdup(arg), *sep;
        int r = HAADM_EXIT_OK;
        if (!copy)
                return haadm_usage_error("out of memory");
        switch (opt) {
        case 'p':
                c->kind = PLAN_CHANGE_PROTECT_VM;
                if (plan_pool_find_vm(pool, copy, &c->vm) < 0)
                        r = haadm_usage_error("--protect: unknown VM \"%s\"", copy);
                break;
        case 'g': {
                c->kind = PLAN_CHANGE_GROW_VM;
                sep = strrchr(copy, '=');
                char *end = NULL;
                if (!sep || !sep[1]) {
                        r = haadm_usage_error("--grow: expected VM=MIB, not '%s'", arg);
                        break;
                }
                *sep = '\0';
                errno = 0;
                unsigned long long mib = strtoull(sep + 1, &end, 10);
                if (errno || *end || sep[1] == '-' || mib > PLAN_MAX_VM_MEMORY_MIB)
                        r = haadm_usage_error("--grow: memory must be a whole number of MiB in 0..%llu (16 TiB), "
                                              "not '%s'", (unsigned long long)PLAN_MAX_VM_MEMORY_MIB, sep + 1);
                else if (plan_pool_find_vm(pool, copy, &c->vm) < 0)
                        r = haadm_usage_error("--grow: unknown VM \"%s\"", copy);
                c->memory_mib = mib;
                break;
        }
        case 's':
                c->kind = PLAN_CHANGE_START_VM;
                sep = strrchr(copy, '@');
                if (!sep) {
                        r = haadm_usage_error("--start: expected VM@HOST, not '%s'", arg);
                        break;
                }
                *sep = '\0';
                if (plan_pool_find_vm(pool, copy, &c->vm) < 0)
                        r = haadm_usage_error("--start: unknown VM \"%s\"", copy);
                else if (plan_pool_find_host(pool, sep + 1, &c->host) < 0)
                        r = haadm_usage_error("--start: unknown host \"%s\"", sep + 1);
                break;
        case 'm':
                c->kind = PLAN_CHANGE_HOST_MAINTENANCE;
                if (plan_pool_find_host(pool, copy, &c->host) < 0)
                        r = haadm_usage_error("--maintenance: unknown host \"%s\"", copy);
                break;
        }
        free(copy);
        return r;
}

static const char *option_name(const struct option *opts, int val) {
        for (; opts->name; opts++)
                if (opts->val == val)
                        return opts->name;
        return "?";
}

int haadm_plan_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "fail", required_argument, NULL, 'f' },
                { "evacuate", required_argument, NULL, 'e' },
                { "protect", required_argument, NULL, 'p' },
                { "grow", required_argument, NULL, 'g' },
                { "start", required_argument, NULL, 's' },
                { "maintenance", required_argument, NULL, 'm' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *input = NULL, *mode_arg = NULL, *mode_name = NULL;
        enum mode mode = MODE_NTOL;
        int change_opt = 0;
        bool json = false;
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        input = optarg;
                        break;
                case 'f':
                case 'e':
                case 'p':
                case 'g':
                case 's':
                case 'm':
                        if (mode_arg)
                                return haadm_usage_error("plan: --%s and --%s cannot be combined (one question at a time)",
                                                         mode_name, option_name(opts, c));
                        mode_arg = optarg;
                        mode_name = option_name(opts, c);
                        mode = c == 'f' ? MODE_FAIL : c == 'e' ? MODE_EVACUATE : MODE_CHANGE;
                        change_opt = c;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        fputs(plan_usage, stdout);
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("plan", "plan", c, argv);
                }
        }
        if (optind < argc)
                return haadm_usage_error("plan: unexpected argument '%s' (see 'haadm plan --help')", argv[optind]);
        if (!input)
                return haadm_usage_error("plan: missing --input FILE (see 'haadm plan --help')");

        struct plan_pool *pool = NULL;
        char err[512];
        if (plan_json_load(input, &pool, err, sizeof(err)) < 0)
                return haadm_usage_error("%s", err);

        int r;
        size_t *failed = NULL, n_failed = 0, host;
        struct plan_change change = { 0 };
        switch (mode) {
        case MODE_NTOL:
                r = run_ntol(pool, json);
                break;
        case MODE_FAIL:
                r = parse_host_list(pool, mode_arg, &failed, &n_failed);
                if (r == HAADM_EXIT_OK)
                        r = run_fail(pool, failed, n_failed, json);
                break;
        case MODE_EVACUATE:
                if (plan_pool_find_host(pool, mode_arg, &host) < 0)
                        r = haadm_usage_error("--evacuate: unknown host \"%s\"", mode_arg);
                else
                        r = run_evacuate(pool, host, json);
                break;
        case MODE_CHANGE:
                r = parse_change(pool, change_opt, mode_arg, &change);
                if (r == HAADM_EXIT_OK)
                        r = run_change(pool, &change, json);
                break;
        default:
                r = HAADM_EXIT_USAGE;
        }
        free(failed);
        plan_pool_free(pool);
        return r;
}
