/* Unit tests of the replicated HA state machine and its codecs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "core/hastate.h"

static struct hastate_msg protect_msg(uint64_t id, const char *name, uint32_t owner) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };

        m.u.vm.id = id;
        strcpy(m.u.vm.name, name);
        m.u.vm.priority = HASTATE_PRIORITY_RESTART;
        m.u.vm.order = 2;
        m.u.vm.start_delay_ms = 500;
        m.u.vm.memory_mib = 2048;
        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/%s.cfg", name);
        m.u.vm.owner = owner;
        return m;
}

static struct hastate *populated(void) {
        struct hastate *s = hastate_new();
        struct hastate_msg m = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 2 };
        struct hastate_error err;

        assert_non_null(s);
        m.u.pool = (struct hastate_pool){ true, 1, false };
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        m = protect_msg(10, "web", 1);
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        m = protect_msg(11, "db", 2);
        m.u.vm.priority = HASTATE_PRIORITY_BEST_EFFORT;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        m = (struct hastate_msg){ .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 1 };
        m.u.maintenance.host_id = 3;
        m.u.maintenance.on = true;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        return s;
}

static void test_messages_change_state_in_order(void **state) {
        struct hastate *s = populated();
        struct hastate_msg m = { .type = HASTATE_MSG_VM_OWNER, .sender = 2 };
        struct hastate_error err;

        assert_int_equal(s->generation, 4);
        assert_true(s->pool.ha_enabled);
        assert_int_equal(s->pool.ftt_target, 1);
        assert_true(core_view_has(&s->maintenance, 3));
        m.u.owner.vm_id = 10;
        m.u.owner.owner = 3;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_int_equal(hastate_vm_find(s, 10)->owner, 3);
        assert_int_equal(s->generation, 5);
        hastate_free(s);
}

static void test_protect_update_keeps_the_owner(void **state) {
        struct hastate *s = populated();
        struct hastate_msg m = protect_msg(10, "web", 3);
        struct hastate_error err;

        m.u.vm.memory_mib = 4096;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_int_equal(hastate_vm_find(s, 10)->memory_mib, 4096);
        assert_int_equal(hastate_vm_find(s, 10)->owner, 1);
        assert_int_equal(s->n_vms, 2);
        hastate_free(s);
}

static void test_invalid_messages_are_rejected_and_change_nothing(void **state) {
        struct hastate *s = populated();
        uint8_t *before, *after;
        size_t lb, la;
        struct hastate_error err;
        struct hastate_msg bad[8];
        size_t n = 0;

        assert_int_equal(hastate_snapshot_encode(s, &before, &lb), 0);
        bad[n] = protect_msg(0, "zero", 1);                     /* id 0 */
        n++;
        bad[n] = protect_msg(12, "web", 1);                     /* duplicate name */
        n++;
        bad[n] = protect_msg(12, "x", 1);
        bad[n].u.vm.memory_mib = 0;                             /* no memory */
        n++;
        bad[n] = protect_msg(12, "x", 300);                     /* owner out of range */
        n++;
        bad[n] = (struct hastate_msg){ .type = HASTATE_MSG_VM_OWNER, .sender = 1 };
        bad[n].u.owner.vm_id = 99;                              /* unknown vm */
        bad[n].u.owner.owner = 1;
        n++;
        bad[n] = (struct hastate_msg){ .type = HASTATE_MSG_POOL_SETTINGS, .sender = 0 };  /* sender 0 */
        n++;
        bad[n] = (struct hastate_msg){ .type = (enum hastate_msg_type)42, .sender = 1 };
        n++;
        bad[n] = protect_msg(12, "x", 1);
        bad[n].u.vm.name[0] = '\t';                             /* not printable */
        n++;
        for (size_t i = 0; i < n; i++) {
                memset(&err, 0, sizeof(err));
                assert_int_equal(hastate_apply(s, &bad[i], &err), -EINVAL);
                assert_true(err.msg[0] != '\0');
        }
        assert_int_equal(hastate_snapshot_encode(s, &after, &la), 0);
        assert_int_equal(la, lb);
        assert_memory_equal(before, after, lb);
        free(before);
        free(after);
        hastate_free(s);
}

static void test_unprotect_removes_the_vm(void **state) {
        struct hastate *s = populated();
        struct hastate_msg m = { .type = HASTATE_MSG_VM_UNPROTECT, .sender = 1 };
        struct hastate_error err;

        m.u.unprotect.vm_id = 10;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_null(hastate_vm_find(s, 10));
        assert_non_null(hastate_vm_find(s, 11));
        assert_int_equal(hastate_apply(s, &m, &err), -EINVAL);
        assert_string_equal(err.msg, "unprotect: no vm 10");
        hastate_free(s);
}

static void test_snapshot_round_trips(void **state) {
        struct hastate *s = populated(), *t;
        uint8_t *buf, *buf2;
        size_t len, len2;
        struct hastate_error err;

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), 0);
        assert_int_equal(t->generation, s->generation);
        assert_int_equal(t->n_vms, 2);
        assert_string_equal(hastate_vm_find(t, 11)->name, "db");
        assert_int_equal(hastate_vm_find(t, 11)->priority, HASTATE_PRIORITY_BEST_EFFORT);
        assert_string_equal(hastate_vm_find(t, 10)->config, "/etc/xen/web.cfg");
        assert_int_equal(hastate_snapshot_encode(t, &buf2, &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        free(buf);
        free(buf2);
        hastate_free(s);
        hastate_free(t);
}

static void test_snapshot_decode_rejects_every_truncation_and_bit_flip(void **state) {
        struct hastate *s = populated(), *t;
        uint8_t *buf;
        size_t len;
        struct hastate_error err;

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
                assert_int_equal(hastate_snapshot_decode(buf, cut, &t, &err), -EBADMSG);
                assert_null(t);
        }
        for (size_t i = 0; i < len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        buf[i] ^= (uint8_t)(1u << bit);
                        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
                        buf[i] ^= (uint8_t)(1u << bit);
                }
        free(buf);
        hastate_free(s);
}

/* Recomputes the trailing CRC so that semantic checks are reached. */
static uint32_t crc32_ref(const uint8_t *p, size_t n) {
        return (uint32_t)crc32(0L, p, (uInt)n);
}
static void reseal(uint8_t *buf, size_t len) {
        uint32_t c = crc32_ref(buf, len - 4);

        for (int i = 0; i < 4; i++)
                buf[len - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
}

static void test_snapshot_decode_validates_fields_behind_a_valid_checksum(void **state) {
        struct hastate *s = populated(), *t;
        uint8_t *buf;
        size_t len;
        struct hastate_error err;
        size_t vm0 = 4 + 2 + 2 + 8 + 4 + 4 + 32 + 4;   /* first VM record */

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        buf[vm0 + 8] = 7;                               /* priority 7 */
        reseal(buf, len);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
        assert_string_equal(err.msg, "vm web: unknown priority 7");
        free(buf);

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        buf[16] = 0x80;                                 /* unknown pool flag */
        reseal(buf, len);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
        free(buf);

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        buf[vm0 + 8 + 1 + 4 + 4 + 8] = 0xff;            /* owner 255+ */
        buf[vm0 + 8 + 1 + 4 + 4 + 8 + 1] = 0x01;
        reseal(buf, len);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
        free(buf);
        hastate_free(s);
}

/* Whatever a snapshot decodes to encodes back to the same bytes: a NUL
 * inside a name or config, or a reserved field that is not zero, would
 * decode like something else and is refused. Names follow the name rule
 * and configs are printable UTF-8, as control requests bring them. */
static void test_snapshot_decode_accepts_only_what_it_reproduces(void **state) {
        static const struct { size_t off; uint8_t byte; const char *why; } bad[] = {
                { 6, 1, "snapshot: reserved field is not zero" },
                { 60 + 33 + 1, 0, "vm 10: NUL byte inside the name or config" },
                { 60 + 33 + 3 + 4, 0, "vm 10: NUL byte inside the name or config" },
                { 60 + 33 + 1, ' ', "vm 10: invalid name (1-63 letters, digits, '.', '_' or '-', not starting with '-')" },
                { 60 + 33, '-', "vm 10: invalid name (1-63 letters, digits, '.', '_' or '-', not starting with '-')" },
                { 60 + 33 + 1, 0xe9, "vm 10: invalid name (1-63 letters, digits, '.', '_' or '-', not starting with '-')" },
                { 60 + 33 + 3 + 1, 0xe9, "vm web: config empty, too long or not printable UTF-8" },
                { 60 + 33 + 3 + 1, 0x9b, "vm web: config empty, too long or not printable UTF-8" },
                { 60 + 8, 0x83, "vm web: unknown priority 3" },
        };
        struct hastate *s = populated(), *t;
        struct hastate_error err;
        uint8_t *buf;
        size_t len;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
                assert_memory_equal(buf + 60 + 33, "web/etc/xen/web.cfg", 19);
                buf[bad[i].off] = bad[i].byte;
                reseal(buf, len);
                assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
                assert_null(t);
                assert_string_equal(err.msg, bad[i].why);
                free(buf);
        }
        hastate_free(s);
}

/* A snapshot of codec version 1, which had no requested state, is read
 * as written, its VMs started: an upgraded pool keeps its configuration.
 * A version newer than this vmha's is refused. */
static void test_a_version_1_snapshot_reads_its_vms_as_started(void **state) {
        struct hastate *s = populated(), *t;
        struct hastate_error err;
        uint8_t *buf, *old;
        size_t len, k = 0;

        (void)state;
        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        /* The same bytes as version 1 wrote them: the requested state's
         * bit clear in each priority byte (web, then db). */
        old = malloc(len);
        memcpy(old, buf, len);
        k = len;
        old[4] = 1;
        old[60 + 8] &= 0x7f;
        old[60 + 33 + 3 + 16 + 8] &= 0x7f;
        reseal(old, k);
        assert_int_equal(hastate_snapshot_decode(old, k, &t, &err), 0);
        assert_int_equal(t->n_vms, 2);
        assert_true(hastate_vm_find(t, 10)->started);
        assert_true(hastate_vm_find(t, 11)->started);
        assert_string_equal(hastate_vm_find(t, 11)->config, "/etc/xen/db.cfg");
        hastate_free(t);
        buf[4] = 3;
        reseal(buf, len);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), -EBADMSG);
        assert_string_equal(err.msg, "snapshot: version 3, this vmha reads 1 to 2");
        free(buf);
        free(old);
        hastate_free(s);
}

/* The requested state changes only by its own message: a protect update
 * keeps it, as it keeps the owner. */
static void test_the_requested_state_changes_only_by_request(void **state) {
        struct hastate *s = populated();
        struct hastate_msg m = { .type = HASTATE_MSG_VM_REQUEST, .sender = 1 };
        struct hastate_error err;

        (void)state;
        assert_false(hastate_vm_find(s, 10)->started);  /* protected, not started */
        m.u.request.vm_id = 10;
        m.u.request.started = true;
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_true(hastate_vm_find(s, 10)->started);
        m = protect_msg(10, "web", 3);
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        assert_true(hastate_vm_find(s, 10)->started);
        m = (struct hastate_msg){ .type = HASTATE_MSG_VM_REQUEST, .sender = 1 };
        m.u.request.vm_id = 99;
        assert_int_equal(hastate_apply(s, &m, &err), -EINVAL);
        assert_string_equal(err.msg, "request: no vm 99");
        hastate_free(s);
}

/* Printable UTF-8 is a config, C1 controls and overlong forms are not. */
static void test_protect_takes_a_utf8_config(void **state) {
        struct hastate *s = hastate_new();
        struct hastate_error err;
        struct hastate_msg m = protect_msg(12, "caf", 1);

        (void)state;
        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/caf\xc3\xa9-\xe2\x82\xac.cfg");
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        m.u.vm.id = 13;
        snprintf(m.u.vm.name, sizeof(m.u.vm.name), "other");
        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/\xc2\x9b" "31m.cfg");
        assert_int_equal(hastate_apply(s, &m, &err), -EINVAL);
        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/\xc0\xaf.cfg");
        assert_int_equal(hastate_apply(s, &m, &err), -EINVAL);
        assert_int_equal(s->n_vms, 1);
        hastate_free(s);
}

static void test_empty_state_snapshot_round_trips(void **state) {
        struct hastate *s = hastate_new(), *t;
        uint8_t *buf;
        size_t len;
        struct hastate_error err;

        assert_int_equal(hastate_snapshot_encode(s, &buf, &len), 0);
        assert_int_equal(hastate_snapshot_decode(buf, len, &t, &err), 0);
        assert_int_equal(t->n_vms, 0);
        free(buf);
        hastate_free(s);
        hastate_free(t);
        hastate_free(NULL);
}

static void test_message_wire_form_round_trips_every_type(void **state) {
        struct hastate_msg in[6], out;
        uint8_t buf[HASTATE_MSG_WIRE_MAX];
        size_t used;
        struct hastate_error err;

        in[0] = (struct hastate_msg){ .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        in[0].u.pool = (struct hastate_pool){ true, 2, true };
        in[1] = protect_msg(10, "web", 1);
        in[2] = (struct hastate_msg){ .type = HASTATE_MSG_VM_UNPROTECT, .sender = 3 };
        in[2].u.unprotect.vm_id = 10;
        in[3] = (struct hastate_msg){ .type = HASTATE_MSG_VM_OWNER, .sender = 2 };
        in[3].u.owner.vm_id = 10;
        in[3].u.owner.owner = 2;
        in[4] = (struct hastate_msg){ .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 2 };
        in[4].u.maintenance.host_id = 4;
        in[4].u.maintenance.on = true;
        in[5] = (struct hastate_msg){ .type = HASTATE_MSG_VM_REQUEST, .sender = 3 };
        in[5].u.request.vm_id = 10;
        in[5].u.request.started = true;
        for (int i = 0; i < 6; i++) {
                assert_int_equal(hastate_msg_encode(&in[i], buf, sizeof(buf), &used), 0);
                assert_int_equal(hastate_msg_decode(buf, used, &out, &err), 0);
                assert_int_equal(out.type, in[i].type);
                assert_int_equal(out.sender, in[i].sender);
                switch (in[i].type) {
                case HASTATE_MSG_POOL_SETTINGS:
                        assert_true(out.u.pool.ha_enabled && out.u.pool.allow_overcommit);
                        assert_int_equal(out.u.pool.ftt_target, 2);
                        break;
                case HASTATE_MSG_VM_PROTECT:
                        assert_string_equal(out.u.vm.name, "web");
                        assert_string_equal(out.u.vm.config, "/etc/xen/web.cfg");
                        assert_int_equal(out.u.vm.memory_mib, 2048);
                        assert_int_equal(out.u.vm.order, 2);
                        assert_int_equal(out.u.vm.start_delay_ms, 500);
                        assert_int_equal(out.u.vm.owner, 1);
                        break;
                case HASTATE_MSG_VM_UNPROTECT:
                        assert_int_equal(out.u.unprotect.vm_id, 10);
                        break;
                case HASTATE_MSG_VM_OWNER:
                        assert_int_equal(out.u.owner.vm_id, 10);
                        assert_int_equal(out.u.owner.owner, 2);
                        break;
                case HASTATE_MSG_VM_REQUEST:
                        assert_int_equal(out.u.request.vm_id, 10);
                        assert_true(out.u.request.started);
                        break;
                default:
                        assert_int_equal(out.u.maintenance.host_id, 4);
                        assert_true(out.u.maintenance.on);
                }
                /* every truncation and one trailing byte are rejected */
                for (size_t cut = 0; cut < used; cut++)
                        assert_int_equal(hastate_msg_decode(buf, cut, &out, &err), -EBADMSG);
                assert_int_equal(hastate_msg_decode(buf, used + 1, &out, &err), -EBADMSG);
        }
        assert_int_equal(hastate_msg_encode(&in[1], buf, 8, &used), -ENOSPC);
        assert_true(used > 8);
}

static void test_restart_list_orders_by_priority_then_order_and_skips_none(void **state) {
        struct hastate *s = hastate_new();
        struct hastate_error err;
        struct takeover_vm out[8];
        size_t n;
        struct { uint64_t id; const char *name; enum hastate_priority p; int32_t order; } v[] = {
                { 1, "a", HASTATE_PRIORITY_BEST_EFFORT, 0 }, { 2, "b", HASTATE_PRIORITY_RESTART, 5 },
                { 3, "c", HASTATE_PRIORITY_NONE, 0 },        { 4, "d", HASTATE_PRIORITY_RESTART, 1 },
                { 5, "e", HASTATE_PRIORITY_RESTART, 5 },
        };

        for (size_t i = 0; i < 5; i++) {
                struct hastate_msg m = protect_msg(v[i].id, v[i].name, 1);

                m.u.vm.priority = v[i].p;
                m.u.vm.order = v[i].order;
                m.u.vm.started = true;
                assert_int_equal(hastate_apply(s, &m, &err), 0);
        }
        /* f is stopped: left out like c, whose priority is none. */
        {
                struct hastate_msg m = protect_msg(6, "f", 1);
                assert_int_equal(hastate_apply(s, &m, &err), 0);
        }
        hastate_restart_list(s, out, 8, &n);
        assert_int_equal(n, 4);
        assert_int_equal(out[0].vm_id, 4);
        assert_int_equal(out[1].vm_id, 2);
        assert_int_equal(out[2].vm_id, 5);
        assert_int_equal(out[3].vm_id, 1);
        assert_int_equal(out[0].replicated_owner, 1);
        hastate_restart_list(s, out, 2, &n);
        assert_int_equal(n, 2);
        hastate_free(s);
}

static void test_priority_names_parse_back(void **state) {
        enum hastate_priority p;

        assert_int_equal(hastate_priority_parse("best-effort", &p), 0);
        assert_int_equal(p, HASTATE_PRIORITY_BEST_EFFORT);
        assert_int_equal(hastate_priority_parse("always", &p), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_messages_change_state_in_order),
                cmocka_unit_test(test_protect_update_keeps_the_owner),
                cmocka_unit_test(test_invalid_messages_are_rejected_and_change_nothing),
                cmocka_unit_test(test_unprotect_removes_the_vm),
                cmocka_unit_test(test_snapshot_round_trips),
                cmocka_unit_test(test_snapshot_decode_rejects_every_truncation_and_bit_flip),
                cmocka_unit_test(test_snapshot_decode_validates_fields_behind_a_valid_checksum),
                cmocka_unit_test(test_snapshot_decode_accepts_only_what_it_reproduces),
                cmocka_unit_test(test_protect_takes_a_utf8_config),
                cmocka_unit_test(test_a_version_1_snapshot_reads_its_vms_as_started),
                cmocka_unit_test(test_the_requested_state_changes_only_by_request),
                cmocka_unit_test(test_empty_state_snapshot_round_trips),
                cmocka_unit_test(test_message_wire_form_round_trips_every_type),
                cmocka_unit_test(test_restart_list_orders_by_priority_then_order_and_skips_none),
                cmocka_unit_test(test_priority_names_parse_back),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
