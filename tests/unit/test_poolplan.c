/* The planner's view of the live pool, built from the replicated state. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/poolplan.h"

static struct hastate *three_vms(void) {
        struct hastate *s = hastate_new();
        struct hastate_error err;
        const char *names[] = { "web", "db", "cache" };
        for (int i = 0; i < 3; i++) {
                struct hastate_msg m = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };
                m.u.vm.id = (uint64_t)(i + 1);
                strcpy(m.u.vm.name, names[i]);
                m.u.vm.priority = i == 2 ? HASTATE_PRIORITY_BEST_EFFORT : HASTATE_PRIORITY_RESTART;
                m.u.vm.memory_mib = 4096;
                m.u.vm.order = i;
                strcpy(m.u.vm.config, "/etc/xen/x.cfg");
                m.u.vm.owner = (uint32_t)(i + 1);
                assert_int_equal(hastate_apply(s, &m, &err), 0);
        }
        struct hastate_msg p = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1,
                                 .u.pool = { .ha_enabled = true, .ftt_target = 1 } };
        assert_int_equal(hastate_apply(s, &p, &err), 0);
        return s;
}

static void test_hosts_vms_owners_and_target_carry_over(void **state) {
        struct hastate *s = three_vms();
        struct poolplan_host hosts[] = {
                { .id = 1, .name = "h1", .alive = true, .memory_known = true, .memory_mib = 16384 },
                { .id = 2, .name = "h2", .alive = true, .memory_known = true, .memory_mib = 16384 },
                { .id = 3, .name = "h3", .alive = false, .memory_known = false },
        };
        struct plan_pool *pool;
        const char *unknown = NULL;

        (void)state;
        assert_int_equal(poolplan_build(s, hosts, 3, &pool, &unknown), 0);
        assert_int_equal(plan_pool_n_hosts(pool), 3);
        assert_int_equal(plan_pool_host(pool, 2)->state, PLAN_HOST_DEAD);
        assert_int_equal(plan_pool_n_vms(pool), 3);
        assert_int_equal(plan_pool_vm(pool, 0)->host, 0);
        assert_int_equal(plan_pool_vm(pool, 1)->host, 1);
        /* a VM whose owner is gone counts as halted */
        assert_int_equal(plan_pool_vm(pool, 2)->host, PLAN_NO_HOST);
        assert_int_equal(plan_pool_vm(pool, 2)->priority, PLAN_PRIORITY_BEST_EFFORT);
        assert_int_equal(plan_pool_target(pool), 1);
        plan_pool_free(pool);
        hastate_free(s);
}

static void test_live_host_with_unknown_memory_is_named(void **state) {
        struct hastate *s = three_vms();
        struct poolplan_host hosts[] = {
                { .id = 1, .name = "h1", .alive = true, .memory_known = true, .memory_mib = 16384 },
                { .id = 2, .name = "h2", .alive = true, .memory_known = false },
        };
        struct plan_pool *pool = NULL;
        const char *unknown = NULL;

        (void)state;
        assert_int_equal(poolplan_build(s, hosts, 2, &pool, &unknown), -ENODATA);
        assert_string_equal(unknown, "h2");
        assert_null(pool);
        hastate_free(s);
}

static void test_maintenance_flag_becomes_host_state(void **state) {
        struct hastate *s = three_vms();
        struct hastate_error err;
        struct hastate_msg m = { .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 1,
                                 .u.maintenance = { .host_id = 2, .on = true } };
        struct poolplan_host hosts[] = {
                { .id = 1, .name = "h1", .alive = true, .memory_known = true, .memory_mib = 16384 },
                { .id = 2, .name = "h2", .alive = true, .memory_known = true, .memory_mib = 16384 },
        };
        struct plan_pool *pool;
        const char *unknown;

        (void)state;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_int_equal(poolplan_build(s, hosts, 2, &pool, &unknown), 0);
        assert_int_equal(plan_pool_host(pool, 1)->state, PLAN_HOST_MAINTENANCE);
        assert_int_equal(plan_pool_host(pool, 0)->state, PLAN_HOST_LIVE);
        plan_pool_free(pool);
        hastate_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hosts_vms_owners_and_target_carry_over),
                cmocka_unit_test(test_live_host_with_unknown_memory_is_named),
                cmocka_unit_test(test_maintenance_flag_becomes_host_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
