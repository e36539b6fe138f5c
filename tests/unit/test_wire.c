/* vmhad's CPG envelope: round trips, and garbled messages refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/wire.h"

static void test_header_round_trips(void **state) {
        struct wire_header h = { .type = WIRE_CHANGE, .sender = 7, .seq = 0x1122334455667788ULL }, out;
        uint8_t buf[WIRE_HEADER_SIZE + 3] = { 0 };
        const uint8_t *p;
        size_t n;

        (void)state;
        wire_header_encode(&h, buf);
        assert_int_equal(wire_header_decode(buf, sizeof(buf), &out, &p, &n), 0);
        assert_int_equal(out.type, WIRE_CHANGE);
        assert_int_equal(out.sender, 7);
        assert_int_equal(out.seq, 0x1122334455667788ULL);
        assert_ptr_equal(p, buf + WIRE_HEADER_SIZE);
        assert_int_equal(n, 3);
}

static void test_garbled_headers_are_refused(void **state) {
        struct wire_header h = { .type = WIRE_ACK, .sender = 2, .seq = 1 }, out;
        uint8_t buf[WIRE_HEADER_SIZE];
        const uint8_t *p;
        size_t n;

        (void)state;
        wire_header_encode(&h, buf);
        assert_int_equal(wire_header_decode(buf, WIRE_HEADER_SIZE - 1, &out, &p, &n), -EBADMSG);
        buf[0] ^= 1;
        assert_int_equal(wire_header_decode(buf, sizeof(buf), &out, &p, &n), -EBADMSG);
        buf[0] ^= 1;
        buf[4] = 9;     /* unknown type */
        assert_int_equal(wire_header_decode(buf, sizeof(buf), &out, &p, &n), -EBADMSG);
        h.sender = 0;
        wire_header_encode(&h, buf);
        assert_int_equal(wire_header_decode(buf, sizeof(buf), &out, &p, &n), -EBADMSG);
        h.sender = 256;
        wire_header_encode(&h, buf);
        assert_int_equal(wire_header_decode(buf, sizeof(buf), &out, &p, &n), -EBADMSG);
}

static void test_ack_round_trips_and_checks_its_size(void **state) {
        struct wire_ack a = { .ring_id = 42, .disk_ok = true, .emergency = true, .memory_mib = 65536 }, out;
        uint8_t buf[WIRE_ACK_FIXED_SIZE];

        (void)state;
        disk_view_set(a.view, 1);
        disk_view_set(a.view, 3);
        assert_int_equal(wire_ack_encode(&a, buf), sizeof(buf));
        assert_int_equal(wire_ack_decode(buf, sizeof(buf), &out), 0);
        assert_int_equal(out.ring_id, 42);
        assert_true(out.disk_ok);
        assert_true(out.emergency);
        assert_int_equal(out.memory_mib, 65536);
        assert_true(disk_view_test(out.view, 3));
        assert_false(disk_view_test(out.view, 2));
        assert_int_equal(wire_ack_decode(buf, sizeof(buf) - 1, &out), -EBADMSG);
        buf[8 + DISK_VIEW_BYTES] = 4;   /* only the disk_ok and emergency bits exist */
        assert_int_equal(wire_ack_decode(buf, sizeof(buf), &out), -EBADMSG);
        buf[8 + DISK_VIEW_BYTES] = 1;
        buf[8] |= 1;                    /* host id 0 in the view */
        assert_int_equal(wire_ack_decode(buf, sizeof(buf), &out), -EBADMSG);
}

static void test_ack_echoes_the_latest_sequence_per_host(void **state) {
        static struct wire_ack a, out;
        uint8_t buf[WIRE_ACK_MAX_SIZE];
        size_t len;

        (void)state;
        a.n_echo = 2;
        a.echo[0] = (struct wire_echo){ .host = 1, .seq = 77 };
        a.echo[1] = (struct wire_echo){ .host = 255, .seq = 1ull << 40 };
        len = wire_ack_encode(&a, buf);
        assert_int_equal(len, WIRE_ACK_FIXED_SIZE + 2 * WIRE_ACK_ECHO_SIZE);
        assert_int_equal(wire_ack_decode(buf, len, &out), 0);
        assert_int_equal(wire_ack_echo_for(&out, 1), 77);
        assert_int_equal(wire_ack_echo_for(&out, 255), 1ull << 40);
        assert_int_equal(wire_ack_echo_for(&out, 2), 0);
        /* a count that does not match the length */
        assert_int_equal(wire_ack_decode(buf, len - 1, &out), -EBADMSG);
        /* the same host echoed twice */
        buf[WIRE_ACK_FIXED_SIZE + WIRE_ACK_ECHO_SIZE] = 1;
        assert_int_equal(wire_ack_decode(buf, len, &out), -EBADMSG);
        /* host 0 */
        buf[WIRE_ACK_FIXED_SIZE + WIRE_ACK_ECHO_SIZE] = 0;
        assert_int_equal(wire_ack_decode(buf, len, &out), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_round_trips),
                cmocka_unit_test(test_garbled_headers_are_refused),
                cmocka_unit_test(test_ack_round_trips_and_checks_its_size),
                cmocka_unit_test(test_ack_echoes_the_latest_sequence_per_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
