/* Unit tests of the heartbeat codec: round trips, corruption detection
 * (every single-bit flip of every structure), exact error messages, and
 * torn writes of the double-buffered config region. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "heartbeat/disk_format.h"

static struct disk_super test_super(void) {
        struct disk_super sb = {
                .uuid = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
                .cluster_name = "pool-a",
                .slot_count = 16,
                .timeout_ms = 5000,
                .created_unix = 1790000000,
                .claim_blocks = 4,
                .config_blocks = 8,
        };
        struct disk_layout l;
        disk_layout_init(&l, sb.slot_count, sb.claim_blocks, sb.config_blocks, NULL);
        sb.region_blocks = l.region_blocks;
        return sb;
}

static struct disk_slot test_slot(void) {
        struct disk_slot s = {
                .host_id = 3,
                .state = DISK_SLOT_ALIVE,
                .incarnation = 0x0123456789abcdefULL,
                .seq = 4242,
                .ring_id = 77,
                .flags = DISK_SLOT_QUORATE | DISK_SLOT_DISK_OK,
                .watchdog_timeout_ms = 5000,
                .mailbox_ack_seq = 9,
                .claims_gen = 12,
                .write_unix_ms = 1790000000123ULL,
                .fence_unix_ms = 0,
                .reason = "survive: quorate partition {1,2,3} reaches the disk",
        };
        disk_view_set(s.view, 1);
        disk_view_set(s.view, 2);
        disk_view_set(s.view, 3);
        return s;
}

/* Recomputes a block's checksum after a test has edited its fields, so
 * that the decoder's later checks can be reached. */
static void reseal(void *block, size_t len) {
        struct disk_raw_header *h = block;
        h->crc32 = 0;
        h->crc32 = htole32((uint32_t)crc32(0, block, (uInt)len));
}

static uint8_t blk[DISK_BLOCK_SIZE] __attribute__((aligned(4096)));

static void test_superblock_round_trip_keeps_every_field(void **state) {
        struct disk_super sb = test_super(), out;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_super_encode(&sb, blk), 0);
        assert_int_equal(disk_super_decode(blk, sizeof(blk), &out, &err), 0);
        assert_memory_equal(out.uuid, sb.uuid, DISK_UUID_SIZE);
        assert_string_equal(out.cluster_name, "pool-a");
        assert_int_equal(out.slot_count, 16);
        assert_int_equal(out.timeout_ms, 5000);
        assert_int_equal(out.created_unix, 1790000000);
        assert_int_equal(out.claim_blocks, 4);
        assert_int_equal(out.config_blocks, 8);
        assert_int_equal(out.region_blocks, sb.region_blocks);
}

static void test_slot_round_trip_keeps_every_field(void **state) {
        struct disk_super sb = test_super();
        struct disk_slot s = test_slot(), out;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), 0);
        assert_memory_equal(&out, &s, sizeof(s));
}

static void test_mailbox_round_trip_keeps_every_field(void **state) {
        struct disk_super sb = test_super();
        struct disk_mailbox m = { .host_id = 5, .command = DISK_MAILBOX_FENCE, .sender = 1, .seq = 3,
                                  .sent_unix_ms = 1790000000999ULL, .reason = "lost the survival rule" }, out;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_mailbox_encode(&sb, &m, blk), 0);
        assert_int_equal(disk_mailbox_decode(&sb, 5, blk, &out, &err), 0);
        assert_memory_equal(&out, &m, sizeof(m));
}

static void test_claims_round_trip_keeps_every_claim(void **state) {
        struct disk_super sb = test_super();
        static struct disk_claims_block cb, out;
        struct disk_error err;

        (void)state;
        memset(&cb, 0, sizeof(cb));
        cb.host_id = 2;
        cb.block_no = 1;
        cb.gen = 99;
        cb.count = DISK_CLAIMS_PER_BLOCK;
        for (uint32_t i = 0; i < cb.count; i++)
                cb.claims[i] = (struct disk_claim){ .vm_id = 1000 + i, .claim_seq = 5 + i };
        assert_int_equal(disk_claims_encode(&sb, &cb, blk), 0);
        assert_int_equal(disk_claims_decode(&sb, 2, 1, blk, &out, &err), 0);
        assert_memory_equal(&out, &cb, sizeof(cb));
}

static void test_config_round_trip_keeps_payload(void **state) {
        struct disk_super sb = test_super();
        struct disk_layout l;
        struct disk_config_header ch = { .copy = 1, .generation = 7, .written_unix_ms = 123 }, out;
        const char payload[] = "{\"vms\":[\"vm-a\",\"vm-b\"]}";
        const void *p;
        struct disk_error err;
        uint8_t *buf;

        (void)state;
        disk_layout_from_super(&l, &sb);
        buf = calloc(1, disk_layout_config_bytes(&l));
        ch.payload_len = sizeof(payload);
        ch.flags = DISK_CONFIG_DEFLATE;
        ch.raw_len = 4000;
        assert_int_equal(disk_config_encode(&sb, &ch, payload, buf, disk_layout_config_bytes(&l)), 0);
        assert_int_equal(disk_config_decode(&sb, 1, buf, disk_layout_config_bytes(&l), &out, &p, &err), 0);
        assert_int_equal(out.generation, 7);
        assert_int_equal(out.payload_len, sizeof(payload));
        assert_int_equal(out.flags, DISK_CONFIG_DEFLATE);
        assert_int_equal(out.raw_len, 4000);
        assert_memory_equal(p, payload, sizeof(payload));
        free(buf);
}

/* Flips every bit of an encoded structure in turn; the decoder must refuse
 * each one. */
static void flip_every_bit(uint8_t *buf, size_t len, int (*decode)(const uint8_t *, size_t)) {
        for (size_t byte = 0; byte < len; byte++) {
                for (int bit = 0; bit < 8; bit++) {
                        buf[byte] ^= (uint8_t)(1u << bit);
                        int r = decode(buf, len);
                        if (r == 0)
                                fail_msg("flip of byte %zu bit %d was not detected", byte, bit);
                        buf[byte] ^= (uint8_t)(1u << bit);
                }
        }
        assert_int_equal(decode(buf, len), 0);
}

static struct disk_super flip_sb;

static int decode_super(const uint8_t *b, size_t len) {
        struct disk_super out;
        struct disk_error err;
        return disk_super_decode(b, len, &out, &err);
}
static int decode_slot(const uint8_t *b, size_t len) {
        struct disk_slot out;
        struct disk_error err;
        (void)len;
        return disk_slot_decode(&flip_sb, 3, b, &out, &err);
}
static int decode_mailbox(const uint8_t *b, size_t len) {
        struct disk_mailbox out;
        struct disk_error err;
        (void)len;
        return disk_mailbox_decode(&flip_sb, 5, b, &out, &err);
}
static int decode_claims(const uint8_t *b, size_t len) {
        static struct disk_claims_block out;
        struct disk_error err;
        (void)len;
        return disk_claims_decode(&flip_sb, 2, 0, b, &out, &err);
}
static int decode_config(const uint8_t *b, size_t len) {
        struct disk_config_header out;
        struct disk_error err;
        return disk_config_decode(&flip_sb, 0, b, len, &out, NULL, &err);
}

static void test_every_single_bit_flip_is_detected_in_every_structure(void **state) {
        struct disk_slot s = test_slot();
        struct disk_mailbox m = { .host_id = 5, .command = DISK_MAILBOX_FENCE, .sender = 1, .seq = 3,
                                  .reason = "poison pill" };
        static struct disk_claims_block cb;
        struct disk_config_header ch = { .copy = 0, .generation = 3, .flags = DISK_CONFIG_DEFLATE,
                                         .payload_len = 300, .raw_len = 900 };
        struct disk_layout l;
        uint8_t payload[300];
        uint8_t *buf;

        (void)state;
        flip_sb = test_super();
        assert_int_equal(disk_super_encode(&flip_sb, blk), 0);
        flip_every_bit(blk, DISK_BLOCK_SIZE, decode_super);
        assert_int_equal(disk_slot_encode(&flip_sb, &s, blk), 0);
        flip_every_bit(blk, DISK_BLOCK_SIZE, decode_slot);
        assert_int_equal(disk_mailbox_encode(&flip_sb, &m, blk), 0);
        flip_every_bit(blk, DISK_BLOCK_SIZE, decode_mailbox);
        memset(&cb, 0, sizeof(cb));
        cb.host_id = 2;
        cb.count = 10;
        for (uint32_t i = 0; i < cb.count; i++)
                cb.claims[i] = (struct disk_claim){ .vm_id = 7 + i, .claim_seq = 1 };
        assert_int_equal(disk_claims_encode(&flip_sb, &cb, blk), 0);
        flip_every_bit(blk, DISK_BLOCK_SIZE, decode_claims);

        /* The config copy: every bit of its header and payload. */
        disk_layout_from_super(&l, &flip_sb);
        buf = calloc(1, disk_layout_config_bytes(&l));
        for (size_t i = 0; i < sizeof(payload); i++)
                payload[i] = (uint8_t)(i * 7);
        assert_int_equal(disk_config_encode(&flip_sb, &ch, payload, buf, disk_layout_config_bytes(&l)), 0);
        for (size_t byte = 0; byte < sizeof(struct disk_raw_config) + sizeof(payload); byte++)
                for (int bit = 0; bit < 8; bit++) {
                        buf[byte] ^= (uint8_t)(1u << bit);
                        if (decode_config(buf, disk_layout_config_bytes(&l)) == 0)
                                fail_msg("config flip of byte %zu bit %d was not detected", byte, bit);
                        buf[byte] ^= (uint8_t)(1u << bit);
                }
        assert_int_equal(decode_config(buf, disk_layout_config_bytes(&l)), 0);
        free(buf);
}

static void test_corrupt_slot_reports_checksum_mismatch_with_its_id(void **state) {
        struct disk_super sb = test_super();
        struct disk_slot s = test_slot(), out;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        blk[200] ^= 0x10;
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "slot 3: checksum mismatch");
}

static void test_unsupported_version_is_named(void **state) {
        struct disk_super sb = test_super(), out;
        struct disk_error err;
        struct disk_raw_header *h = (struct disk_raw_header *)blk;

        (void)state;
        assert_int_equal(disk_super_encode(&sb, blk), 0);
        h->version = htole16(9);
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_super_decode(blk, sizeof(blk), &out, &err), -EPROTO);
        assert_string_equal(err.msg, "superblock: made by a newer vmha (layout version 9; this build reads 2)");
        h->version = htole16(1);
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_super_decode(blk, sizeof(blk), &out, &err), -EPROTO);
        assert_string_equal(err.msg, "superblock: made by an older vmha (layout version 1; this build reads 2)");
}

static void test_slot_of_another_cluster_is_refused(void **state) {
        struct disk_super sb = test_super(), other = test_super();
        struct disk_slot s = test_slot(), out;
        struct disk_error err;

        (void)state;
        other.uuid[0] ^= 0xff;
        assert_int_equal(disk_slot_encode(&other, &s, blk), 0);
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), -EPROTO);
        assert_non_null(strstr(err.msg, "slot 3: belongs to cluster ee223344-"));
}

static void test_slot_written_at_wrong_position_is_refused(void **state) {
        struct disk_super sb = test_super();
        struct disk_slot s = test_slot(), out;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        assert_int_equal(disk_slot_decode(&sb, 4, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "slot 4: index 3 where 4 belongs");
}

static void test_blank_block_is_reported_as_blank(void **state) {
        struct disk_super sb = test_super();
        struct disk_mailbox out;
        struct disk_error err;

        (void)state;
        memset(blk, 0, sizeof(blk));
        assert_int_equal(disk_mailbox_decode(&sb, 2, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "mailbox 2: blank (all zeros)");
}

static void test_out_of_range_fields_are_refused_even_with_valid_checksum(void **state) {
        struct disk_super sb = test_super(), sbout;
        struct disk_slot s = test_slot(), out;
        struct disk_raw_slot *rs = (struct disk_raw_slot *)blk;
        struct disk_raw_super *rsb = (struct disk_raw_super *)blk;
        struct disk_error err;

        (void)state;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        rs->state = htole32(17);
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "slot 3: unknown state 17");

        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        rs->view[3] = 0x80;     /* host 31, beyond 16 slots */
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "slot 3: view names host 31 beyond the 16 slots");

        assert_int_equal(disk_slot_encode(&sb, &s, blk), 0);
        memset(rs->reason, 'x', sizeof(rs->reason));
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_slot_decode(&sb, 3, blk, &out, &err), -EBADMSG);
        assert_string_equal(err.msg, "slot 3: reason is not terminated");

        assert_int_equal(disk_super_encode(&sb, blk), 0);
        rsb->slot_count = htole32(0);
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_super_decode(blk, sizeof(blk), &sbout, &err), -EBADMSG);
        assert_string_equal(err.msg, "superblock: slot count 0 out of range 1..255");

        assert_int_equal(disk_super_encode(&sb, blk), 0);
        rsb->timeout_ms = htole32(100);
        reseal(blk, DISK_BLOCK_SIZE);
        assert_int_equal(disk_super_decode(blk, sizeof(blk), &sbout, &err), -EBADMSG);
        assert_string_equal(err.msg, "superblock: timeout 100 ms out of range 2000..600000");
}

static void test_encoders_refuse_unrepresentable_values(void **state) {
        struct disk_super sb = test_super();
        struct disk_slot s = test_slot();
        struct disk_mailbox m = { .host_id = 17 };
        static struct disk_claims_block cb;

        (void)state;
        s.host_id = 0;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), -EINVAL);
        s = test_slot();
        s.state = _DISK_SLOT_STATE_MAX;
        assert_int_equal(disk_slot_encode(&sb, &s, blk), -EINVAL);
        assert_int_equal(disk_mailbox_encode(&sb, &m, blk), -EINVAL);
        memset(&cb, 0, sizeof(cb));
        cb.host_id = 1;
        cb.count = 1;   /* a claim with VM id 0 */
        assert_int_equal(disk_claims_encode(&sb, &cb, blk), -EINVAL);
        sb.slot_count = 256;
        assert_int_equal(disk_super_encode(&sb, blk), -EINVAL);
}

static void test_layout_places_structures_without_overlap(void **state) {
        struct disk_layout l;
        struct disk_error err;
        uint64_t end_slots, end_mb, end_cfg, end_claims;

        (void)state;
        assert_int_equal(disk_layout_init(&l, 64, 4, 32, &err), 0);
        end_slots = disk_layout_slot_offset(&l, 64) + DISK_BLOCK_SIZE;
        assert_int_equal(disk_layout_mailbox_offset(&l, 1), end_slots);
        end_mb = disk_layout_mailbox_offset(&l, 64) + DISK_BLOCK_SIZE;
        assert_int_equal(disk_layout_config_offset(&l, 0), end_mb);
        assert_int_equal(disk_layout_config_offset(&l, 1), end_mb + disk_layout_config_bytes(&l));
        end_cfg = disk_layout_config_offset(&l, 1) + disk_layout_config_bytes(&l);
        assert_int_equal(disk_layout_claims_offset(&l, 1, 0), end_cfg);
        end_claims = disk_layout_claims_offset(&l, 64, 3) + DISK_BLOCK_SIZE;
        assert_int_equal(end_claims, l.region_bytes);
        assert_int_equal(disk_layout_init(&l, 0, 4, 32, &err), -EINVAL);
        assert_string_equal(err.msg, "slot count 0 out of range 1..255");
        assert_int_equal(disk_layout_init(&l, 256, 4, 32, &err), -EINVAL);
}

/* Writes generations 2, 3, 4, ... alternately into A and B, and tears each
 * new write at every byte boundary: the reader must always find either the
 * previous generation intact or, once the write is whole, the new one. */
static void test_torn_config_write_at_any_byte_keeps_previous_generation(void **state) {
        struct disk_super sb = test_super();
        struct disk_layout l;
        size_t bytes;
        uint8_t *copy[2], *img;
        struct disk_config_header hdr[2];
        int valid[2];
        uint8_t payload[2][700];

        (void)state;
        sb.config_blocks = 1;
        disk_layout_init(&l, sb.slot_count, sb.claim_blocks, sb.config_blocks, NULL);
        sb.region_blocks = l.region_blocks;
        bytes = disk_layout_config_bytes(&l);
        copy[0] = calloc(1, bytes);
        copy[1] = calloc(1, bytes);
        img = calloc(1, bytes);

        /* Start: A holds generation 1, B generation 0. */
        for (uint32_t c = 0; c < 2; c++) {
                struct disk_config_header ch = { .copy = c, .generation = c == 0 ? 1 : 0 };
                assert_int_equal(disk_config_encode(&sb, &ch, NULL, copy[c], bytes), 0);
        }
        for (uint64_t gen = 2; gen <= 5; gen++) {
                struct disk_error err;
                const void *p;
                uint64_t prev = gen - 1;

                for (uint32_t c = 0; c < 2; c++)
                        valid[c] = disk_config_decode(&sb, c, copy[c], bytes, &hdr[c], NULL, &err) == 0;
                uint32_t target = disk_config_next_copy(valid[0], &hdr[0], valid[1], &hdr[1]);
                assert_int_equal(hdr[1 - target].generation, prev);

                uint8_t *pl = payload[gen % 2];
                memset(pl, (int)gen, sizeof(payload[0]));
                struct disk_config_header ch = { .copy = target, .generation = gen, .flags = DISK_CONFIG_DEFLATE,
                                                 .payload_len = (uint32_t)(sizeof(payload[0]) - gen),
                                                 .raw_len = 2000 };
                assert_int_equal(disk_config_encode(&sb, &ch, pl, img, bytes), 0);

                for (size_t torn = 0; torn <= bytes; torn++) {
                        uint8_t *t = malloc(bytes);
                        memcpy(t, img, torn);
                        memcpy(t + torn, copy[target] + torn, bytes - torn);
                        struct disk_config_header th[2];
                        const void *tp[2];
                        int tv[2];
                        for (uint32_t c = 0; c < 2; c++) {
                                const uint8_t *src = c == target ? t : copy[c];
                                tv[c] = disk_config_decode(&sb, c, src, bytes, &th[c], &tp[c], &err) == 0;
                        }
                        int pick = disk_config_pick(tv[0], &th[0], tv[1], &th[1]);
                        if (pick < 0)
                                fail_msg("generation %llu torn at %zu: no valid copy", (unsigned long long)gen, torn);
                        if (th[pick].generation != gen && th[pick].generation != prev)
                                fail_msg("torn at %zu: picked generation %llu", torn,
                                         (unsigned long long)th[pick].generation);
                        if (torn < sizeof(struct disk_raw_config) + ch.payload_len &&
                            th[pick].generation != prev)
                                fail_msg("torn at %zu: an incomplete write was trusted", torn);
                        if (th[pick].generation == gen)
                                assert_memory_equal(tp[pick], pl, ch.payload_len);
                        free(t);
                }
                memcpy(copy[target], img, bytes);
                assert_int_equal(disk_config_decode(&sb, target, copy[target], bytes, &hdr[target], &p, &err), 0);
        }
        free(copy[0]);
        free(copy[1]);
        free(img);
}

static void test_config_pick_prefers_newest_valid_copy(void **state) {
        struct disk_config_header a = { .generation = 5 }, b = { .generation = 6 };

        (void)state;
        assert_int_equal(disk_config_pick(1, &a, 1, &b), 1);
        assert_int_equal(disk_config_pick(1, &a, 0, &b), 0);
        assert_int_equal(disk_config_pick(0, &a, 1, &b), 1);
        assert_int_equal(disk_config_pick(0, &a, 0, &b), -ENOENT);
        assert_int_equal(disk_config_next_copy(1, &a, 1, &b), 0);
        assert_int_equal(disk_config_next_copy(1, &a, 0, &b), 1);
        assert_int_equal(disk_config_next_copy(0, &a, 0, &b), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_superblock_round_trip_keeps_every_field),
                cmocka_unit_test(test_slot_round_trip_keeps_every_field),
                cmocka_unit_test(test_mailbox_round_trip_keeps_every_field),
                cmocka_unit_test(test_claims_round_trip_keeps_every_claim),
                cmocka_unit_test(test_config_round_trip_keeps_payload),
                cmocka_unit_test(test_every_single_bit_flip_is_detected_in_every_structure),
                cmocka_unit_test(test_corrupt_slot_reports_checksum_mismatch_with_its_id),
                cmocka_unit_test(test_unsupported_version_is_named),
                cmocka_unit_test(test_slot_of_another_cluster_is_refused),
                cmocka_unit_test(test_slot_written_at_wrong_position_is_refused),
                cmocka_unit_test(test_blank_block_is_reported_as_blank),
                cmocka_unit_test(test_out_of_range_fields_are_refused_even_with_valid_checksum),
                cmocka_unit_test(test_encoders_refuse_unrepresentable_values),
                cmocka_unit_test(test_layout_places_structures_without_overlap),
                cmocka_unit_test(test_torn_config_write_at_any_byte_keeps_previous_generation),
                cmocka_unit_test(test_config_pick_prefers_newest_valid_copy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
