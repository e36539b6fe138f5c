/* Unit tests of the HA state on disk, at the limit: the largest
 * configuration vmhad accepts (HASTATE_MAX_VMS VMs, every name and config
 * path at its longest, every field at its maximum) fits the default config
 * copy and round-trips through it; one VM more, or one byte less of room,
 * is refused before the change is sent, with the reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hastate_disk.h"
#include "core/node.h"
#include "heartbeat/disk_format.h"

static uint32_t rng = 1;

/* A character a name may hold, drawn so that the text compresses badly. */
static char noise(void) {
        static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        rng = rng * 1103515245u + 12345u;
        return set[(rng >> 16) % (sizeof(set) - 1)];
}

/* VM i (1-based) with its name and config at their longest and every
 * field at its maximum; random text when noisy, else a repeating one. */
static struct hastate_msg longest_vm(uint32_t i, bool noisy) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };
        int n;

        m.u.vm.id = UINT64_MAX - i;
        n = snprintf(m.u.vm.name, sizeof(m.u.vm.name), "vm%05u-", i);
        for (size_t k = (size_t)n; k < HASTATE_NAME_MAX - 1; k++)
                m.u.vm.name[k] = noisy ? noise() : (char)('a' + k % 26);
        n = snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/srv/xen/%05u/", i);
        for (size_t k = (size_t)n; k < HASTATE_CONFIG_MAX - 1; k++)
                m.u.vm.config[k] = noisy ? noise() : (char)('a' + k % 26);
        m.u.vm.priority = HASTATE_PRIORITY_BEST_EFFORT;
        m.u.vm.order = HASTATE_ORDER_LIMIT;
        m.u.vm.start_delay_ms = HASTATE_MAX_START_DELAY_MS;
        m.u.vm.memory_mib = HASTATE_MAX_MEMORY_MIB;
        m.u.vm.owner = CORE_MAX_HOST_ID;
        return m;
}

/* n such VMs, the pool's settings at their maximum, every host in maintenance. */
static struct hastate *largest(size_t n, bool noisy) {
        struct hastate *s = hastate_new();
        struct hastate_msg m = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        struct hastate_error err;

        assert_non_null(s);
        m.u.pool = (struct hastate_pool){ .ha_enabled = true, .ftt_target = HASTATE_MAX_FTT, .allow_overcommit = true };
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        for (uint32_t id = 1; id <= CORE_MAX_HOST_ID; id++) {
                m = (struct hastate_msg){ .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 1 };
                m.u.maintenance.host_id = id;
                m.u.maintenance.on = true;
                assert_int_equal(hastate_apply(s, &m, &err), 0);
        }
        rng = 1;
        for (uint32_t i = 1; i <= n; i++) {
                m = longest_vm(i, noisy);
                if (hastate_apply(s, &m, &err) < 0)
                        fail_msg("vm %u: %s", i, err.msg);
        }
        return s;
}

static void test_the_default_copy_is_sized_for_the_largest_configuration(void **state) {
        (void)state;
        assert_int_equal(hastate_snapshot_max_len(HASTATE_MAX_VMS), 1437760);
        assert_int_equal(hastate_disk_blocks_for(HASTATE_MAX_VMS), DISK_DEFAULT_CONFIG_BLOCKS);
        assert_int_equal(hastate_disk_vms_for((uint64_t)DISK_DEFAULT_CONFIG_BLOCKS * DISK_BLOCK_SIZE), HASTATE_MAX_VMS);
        /* The old default of 32 blocks held this many in the worst case. */
        assert_int_equal(hastate_disk_vms_for(32 * DISK_BLOCK_SIZE), 372);
        for (size_t n = 1; n <= HASTATE_MAX_VMS; n = n * 3 + 1)
                assert_true(hastate_disk_vms_for((uint64_t)hastate_disk_blocks_for(n) * DISK_BLOCK_SIZE) >= n);
        assert_int_equal(hastate_disk_blocks_for(HASTATE_MAX_VMS + 1), 0);
}

/* The largest configuration, in the worst case for compression, goes into
 * a default copy and comes back the same. */
static void test_the_largest_configuration_fits_and_round_trips(void **state) {
        struct hastate *s = largest(HASTATE_MAX_VMS, true), *back = NULL;
        uint64_t cap = (uint64_t)DISK_DEFAULT_CONFIG_BLOCKS * DISK_BLOCK_SIZE;
        struct disk_super sb = { .uuid = { 7 }, .cluster_name = "p", .slot_count = 4, .timeout_ms = 5000,
                                 .claim_blocks = 1, .config_blocks = DISK_DEFAULT_CONFIG_BLOCKS };
        struct disk_config_header ch = { .copy = 0, .generation = 2, .flags = DISK_CONFIG_DEFLATE }, out;
        struct hastate_disk_size sz;
        struct hastate_error herr;
        struct disk_error derr;
        uint8_t *z, *buf, *raw;
        const void *p;
        size_t zlen, rlen;

        (void)state;
        assert_int_equal(s->n_vms, HASTATE_MAX_VMS);
        assert_int_equal(hastate_snapshot_len(s), hastate_snapshot_max_len(HASTATE_MAX_VMS));
        assert_int_equal(hastate_disk_check(s, cap, true, &sz), 0);
        assert_true(sz.fits);
        assert_int_equal(sz.raw_len, 1437760);
        assert_int_equal(sz.bound, 1438275);
        assert_true(sz.stored_len + 64 <= sz.bound);
        print_message("the largest configuration: %zu bytes, %zu compressed (random names), worst case %llu, "
                      "copy %llu\n", sz.raw_len, sz.stored_len, (unsigned long long)sz.bound, (unsigned long long)cap);

        assert_int_equal(hastate_disk_encode(s, &z, &zlen, &rlen), 0);
        assert_int_equal(zlen, sz.stored_len);
        ch.payload_len = (uint32_t)zlen;
        ch.raw_len = (uint32_t)rlen;
        buf = calloc(1, cap);
        assert_int_equal(disk_config_encode(&sb, &ch, z, buf, cap), 0);
        assert_int_equal(disk_config_decode(&sb, 0, buf, cap, &out, &p, &derr), 0);
        raw = malloc(out.raw_len);
        assert_int_equal(disk_config_inflate(&out, p, raw, &derr), 0);
        assert_int_equal(hastate_snapshot_decode(raw, out.raw_len, &back, &herr), 0);
        assert_int_equal(back->generation, s->generation);
        assert_memory_equal(&back->pool, &s->pool, sizeof(s->pool));
        assert_memory_equal(&back->maintenance, &s->maintenance, sizeof(s->maintenance));
        assert_int_equal(back->n_vms, s->n_vms);
        assert_memory_equal(back->vms, s->vms, s->n_vms * sizeof(*s->vms));
        free(z);
        free(buf);
        free(raw);
        hastate_free(back);
        hastate_free(s);
}

/* Which host has which VM does not change what the snapshot's worst case
 * is: a configuration that fits by its bound fits after any takeover. */
static void test_a_fit_by_the_bound_holds_whoever_owns_the_vms(void **state) {
        struct hastate *s = largest(100, false);
        uint64_t cap = (uint64_t)hastate_disk_blocks_for(100) * DISK_BLOCK_SIZE;
        struct hastate_disk_size sz;
        struct hastate_error err;

        (void)state;
        assert_int_equal(hastate_disk_check(s, cap, false, &sz), 0);
        assert_true(sz.fits);
        assert_false(sz.compressed);
        for (size_t i = 0; i < s->n_vms; i++) {
                struct hastate_msg m = { .type = HASTATE_MSG_VM_OWNER, .sender = 1 };
                m.u.owner.vm_id = s->vms[i].id;
                m.u.owner.owner = (uint32_t)(1 + i % 7);
                assert_int_equal(hastate_apply(s, &m, &err), 0);
        }
        assert_int_equal(hastate_disk_check(s, cap, false, &sz), 0);
        assert_true(sz.fits);
        hastate_free(s);
}

/* Where the bound does not fit, the compressed size decides, with the
 * reserve for ownership changes: exactly enough room fits, one byte less
 * is refused with both figures. */
static void test_one_byte_short_of_room_is_refused_with_both_figures(void **state) {
        struct hastate *s = largest(500, true);
        struct hastate_disk_size sz;
        char why[512], needle[128];
        uint64_t need;

        (void)state;
        assert_int_equal(hastate_disk_check(s, 4096, false, &sz), 0);
        assert_true(sz.compressed);
        assert_false(sz.fits);
        need = sz.needed;
        assert_int_equal(need, 64 + sz.stored_len + 500ull * HASTATE_DISK_OWNER_RESERVE);
        assert_true(sz.bound > need);   /* else the bound would have decided */

        assert_int_equal(hastate_disk_check(s, need, false, &sz), 0);
        assert_true(sz.fits);
        assert_int_equal(hastate_disk_check(s, need - 1, false, &sz), 0);
        assert_false(sz.fits);
        hastate_disk_explain(&sz, why, sizeof(why));
        snprintf(needle, sizeof(needle), "the HA configuration would need %llu bytes on disk, a config copy of the "
                 "heartbeat region holds %llu (500 VMs", (unsigned long long)need, (unsigned long long)(need - 1));
        assert_non_null(strstr(why, needle));
        assert_non_null(strstr(why, "'haadm disk init' with the pool stopped"));
        hastate_free(s);
}

/* The engine, with the capacity of a config copy as configuration: a VM
 * that would not fit is refused before it is sent, with the reason, and
 * nothing changes; removals and settings are never refused for room. */
static void test_the_engine_refuses_a_vm_that_would_not_fit_before_sending_it(void **state) {
        static const uint32_t hosts[] = { 1, 2, 3 };
        struct hastate *s = largest(300, true);
        struct hastate_disk_size sz;
        struct node_config cfg = { .self_id = 1, .hosts = hosts, .n_hosts = 3, .timeout_ms = 5000 };
        struct hastate_msg m = longest_vm(301, true);
        struct node *n;
        char why[512];
        uint64_t gen = s->generation;
        struct hastate *with = largest(301, true);

        (void)state;
        /* Exactly room for the 300, with their reserve, and no more. */
        assert_int_equal(hastate_disk_check(s, 4096, false, &sz), 0);
        cfg.config_capacity = sz.needed;
        assert_int_equal(node_new(&cfg, s, 0, &n), 0);

        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), -EFBIG);
        assert_non_null(strstr(why, "refused: the HA configuration would need "));
        assert_non_null(strstr(why, "(301 VMs"));
        assert_int_equal(node_state(n)->n_vms, 300);
        assert_int_equal(node_state(n)->generation, gen);

        m = (struct hastate_msg){ .type = HASTATE_MSG_VM_UNPROTECT, .sender = 1 };
        m.u.unprotect.vm_id = node_state(n)->vms[0].id;
        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), 0);
        m = (struct hastate_msg){ .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), 0);
        /* An invalid change is refused as such, with the state machine's reason. */
        m = (struct hastate_msg){ .type = HASTATE_MSG_VM_UNPROTECT, .sender = 1 };
        m.u.unprotect.vm_id = 12345;
        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "unprotect: no vm 12345");
        node_free(n);

        /* With room for the 301, the 301st goes through. */
        assert_int_equal(hastate_disk_check(with, 4096, false, &sz), 0);
        cfg.config_capacity = sz.needed;
        assert_int_equal(node_new(&cfg, largest(300, true), 0, &n), 0);
        m = longest_vm(301, true);
        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), 0);
        node_free(n);
        hastate_free(with);
}

/* HASTATE_MAX_VMS is the limit whatever the room: one more is refused by
 * the state machine, and so by the engine's check. */
static void test_one_vm_past_the_maximum_is_refused(void **state) {
        static const uint32_t hosts[] = { 1, 2, 3 };
        struct node_config cfg = { .self_id = 1, .hosts = hosts, .n_hosts = 3, .timeout_ms = 5000,
                                   .config_capacity = (uint64_t)DISK_DEFAULT_CONFIG_BLOCKS * DISK_BLOCK_SIZE };
        struct hastate_msg m = longest_vm(HASTATE_MAX_VMS + 1, false);
        struct node *n;
        char why[512];

        (void)state;
        assert_int_equal(node_new(&cfg, largest(HASTATE_MAX_VMS, false), 0, &n), 0);
        assert_int_equal(node_check_change(n, &m, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "already 4096 protected VMs"));
        node_free(n);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_default_copy_is_sized_for_the_largest_configuration),
                cmocka_unit_test(test_the_largest_configuration_fits_and_round_trips),
                cmocka_unit_test(test_a_fit_by_the_bound_holds_whoever_owns_the_vms),
                cmocka_unit_test(test_one_byte_short_of_room_is_refused_with_both_figures),
                cmocka_unit_test(test_the_engine_refuses_a_vm_that_would_not_fit_before_sending_it),
                cmocka_unit_test(test_one_vm_past_the_maximum_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
