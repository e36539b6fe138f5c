/* Unit tests of the compressed config copy (layout version 2): a snapshot
 * goes in compressed and comes out whole; a copy whose checksum holds but
 * whose stream is damaged, short, long or followed by other bytes is
 * corrupt, never trusted; a copy of layout version 1 is refused as older,
 * never read as version 2; and the sizing arithmetic. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "heartbeat/disk_format.h"
#include "heartbeat/disk_region.h"

static struct disk_super test_super(uint32_t config_blocks) {
        struct disk_super sb = {
                .uuid = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
                .cluster_name = "pool-a",
                .slot_count = 4,
                .timeout_ms = 5000,
                .created_unix = 1790000000,
                .claim_blocks = 1,
                .config_blocks = config_blocks,
        };
        struct disk_layout l;
        disk_layout_init(&l, sb.slot_count, sb.claim_blocks, sb.config_blocks, NULL);
        sb.region_blocks = l.region_blocks;
        return sb;
}

/* A snapshot-like text: repetitive, as HA configurations are. */
static uint8_t *sample(size_t len) {
        uint8_t *p = malloc(len);
        for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)("vm-web-/etc/xen/web.cfg-"[i % 24] + (i / 2400) % 3);
        return p;
}

/* Recomputes a copy's checksum over its header and payload_len bytes, as
 * a writer would: what follows then passes the checksum and must be
 * caught by what comes after it. */
static void reseal(uint8_t *buf) {
        struct disk_raw_config *r = (struct disk_raw_config *)buf;
        uint32_t len = le32toh(r->payload_len);

        r->hdr.crc32 = 0;
        r->hdr.crc32 = htole32((uint32_t)crc32(0, buf, (uInt)(sizeof(*r) + len)));
}

struct copy {
        struct disk_super sb;
        uint8_t *buf;
        size_t len;
        uint8_t *raw;
        size_t raw_len;
};

static void make_copy(struct copy *c, size_t raw_len) {
        struct disk_layout l;
        struct disk_config_header ch = { .copy = 1, .generation = 9, .flags = DISK_CONFIG_DEFLATE,
                                         .raw_len = (uint32_t)raw_len, .written_unix_ms = 5 };
        size_t cap = compressBound(raw_len), zlen;
        uint8_t *z = malloc(cap);

        c->sb = test_super(8);
        disk_layout_from_super(&l, &c->sb);
        c->len = disk_layout_config_bytes(&l);
        c->buf = calloc(1, c->len);
        c->raw = sample(raw_len);
        c->raw_len = raw_len;
        assert_int_equal(disk_config_deflate(c->raw, raw_len, z, cap, &zlen), 0);
        assert_true(zlen < raw_len / 4);
        ch.payload_len = (uint32_t)zlen;
        assert_int_equal(disk_config_encode(&c->sb, &ch, z, c->buf, disk_layout_config_span(ch.payload_len)), 0);
        free(z);
}

static void free_copy(struct copy *c) {
        free(c->buf);
        free(c->raw);
}

/* Decodes and inflates; returns the first error, message in err. */
static int open_copy(const struct copy *c, struct disk_error *err, uint8_t **raw) {
        struct disk_config_header ch;
        const void *p;
        int r;

        *raw = NULL;
        r = disk_config_decode(&c->sb, 1, c->buf, c->len, &ch, &p, err);
        if (r < 0)
                return r;
        *raw = malloc(ch.raw_len);
        r = disk_config_inflate(&ch, p, *raw, err);
        if (r < 0) {
                free(*raw);
                *raw = NULL;
        }
        return r;
}

static void test_a_compressed_snapshot_round_trips(void **state) {
        struct copy c;
        struct disk_config_header ch;
        struct disk_error err;
        const void *p;
        uint8_t *raw;

        (void)state;
        make_copy(&c, 20000);
        assert_int_equal(disk_config_decode(&c.sb, 1, c.buf, c.len, &ch, &p, &err), 0);
        assert_int_equal(ch.flags, DISK_CONFIG_DEFLATE);
        assert_int_equal(ch.raw_len, 20000);
        assert_int_equal(ch.generation, 9);
        assert_int_equal(open_copy(&c, &err, &raw), 0);
        assert_memory_equal(raw, c.raw, c.raw_len);
        free(raw);
        free_copy(&c);
}

static void test_a_damaged_stream_behind_a_valid_checksum_is_corrupt(void **state) {
        struct copy c;
        struct disk_error err;
        uint8_t *raw;

        (void)state;
        make_copy(&c, 20000);
        c.buf[sizeof(struct disk_raw_config) + 1] ^= 0x5a;  /* the zlib header's second byte */
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_null(raw);
        assert_non_null(strstr(err.msg, "config B: "));
        free_copy(&c);
}

static void test_a_stream_of_another_length_than_its_header_says_is_corrupt(void **state) {
        struct copy c;
        struct disk_raw_config *r;
        struct disk_error err;
        uint8_t *raw;

        (void)state;
        make_copy(&c, 20000);
        r = (struct disk_raw_config *)c.buf;
        r->raw_len = htole32(19999);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: inflates to more than the 19999 bytes the header says");
        r->raw_len = htole32(20001);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: inflates to 20000 bytes, the header says 20001");
        free_copy(&c);
}

static void test_a_short_stream_or_bytes_after_it_are_corrupt(void **state) {
        struct copy c;
        struct disk_raw_config *r;
        struct disk_error err;
        uint8_t *raw;
        uint32_t len;

        (void)state;
        make_copy(&c, 20000);
        r = (struct disk_raw_config *)c.buf;
        len = le32toh(r->payload_len);
        r->payload_len = htole32(len - 3);      /* the output is whole, its check value is not */
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: compressed stream does not end after the 20000 bytes the header "
                                     "says (cut short, or longer)");
        r->payload_len = htole32(len / 2);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: compressed stream ends early or is damaged");
        r->payload_len = htole32(len + 2);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: 2 bytes after the end of the compressed stream");
        free_copy(&c);
}

static void test_header_fields_are_checked_before_anything_inflates(void **state) {
        struct copy c;
        struct disk_raw_config *r;
        struct disk_error err;
        uint8_t *raw;

        (void)state;
        make_copy(&c, 20000);
        r = (struct disk_raw_config *)c.buf;
        r->flags = htole32(2);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: unknown flags 0x2");
        r->flags = 0;
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_non_null(strstr(err.msg, "with flags 0x0 cannot inflate"));
        r->flags = htole32(DISK_CONFIG_DEFLATE);
        r->raw_len = htole32(DISK_CONFIG_RAW_MAX + 1);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        /* And a flipped bit is a checksum mismatch, found first. */
        r->raw_len = htole32(20000);
        reseal(c.buf);
        c.buf[sizeof(*r) + 10] ^= 1;
        assert_int_equal(open_copy(&c, &err, &raw), -EBADMSG);
        assert_string_equal(err.msg, "config B: checksum mismatch");
        free_copy(&c);
}

static void test_a_version_1_copy_is_refused_as_older_not_read(void **state) {
        struct copy c;
        struct disk_raw_config *r;
        struct disk_error err;
        uint8_t *raw;

        (void)state;
        make_copy(&c, 20000);
        /* Version 1 kept the length where version 2 does, and zeros where
         * version 2 keeps its flags and raw length. */
        r = (struct disk_raw_config *)c.buf;
        r->hdr.version = htole16(1);
        r->flags = 0;
        r->raw_len = 0;
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EPROTO);
        assert_string_equal(err.msg, "config B: made by an older vmha (layout version 1; this build reads 2)");
        r->hdr.version = htole16(3);
        reseal(c.buf);
        assert_int_equal(open_copy(&c, &err, &raw), -EPROTO);
        assert_string_equal(err.msg, "config B: made by a newer vmha (layout version 3; this build reads 2)");
        free_copy(&c);
}

static void test_sizing_is_compress_bound_plus_the_header_in_whole_blocks(void **state) {
        (void)state;
        assert_int_equal(disk_config_bytes_max(1437760), 64 + 1438211);
        assert_int_equal(disk_config_blocks_for(1437760), 352);
        assert_int_equal(disk_config_blocks_for(0), 1);
        assert_int_equal(disk_config_blocks_for(DISK_CONFIG_RAW_MAX + 1ull), 0);
        assert_int_equal(disk_config_blocks_for(DISK_MAX_CONFIG_BLOCKS * 4096ull), 0);
        assert_int_equal(disk_layout_config_span(0), DISK_BLOCK_SIZE);
        assert_int_equal(disk_layout_config_span(DISK_BLOCK_SIZE - 64), DISK_BLOCK_SIZE);
        assert_int_equal(disk_layout_config_span(DISK_BLOCK_SIZE - 63), 2 * DISK_BLOCK_SIZE);
}

static void test_deflate_refuses_an_output_buffer_too_small(void **state) {
        uint8_t *raw = sample(20000), out[64];
        size_t n;

        (void)state;
        assert_int_equal(disk_config_deflate(raw, 20000, out, sizeof(out), &n), -ENOSPC);
        assert_int_equal(disk_config_deflate(raw, 0, out, sizeof(out), &n), -EINVAL);
        free(raw);
}

/* On a region in a file: a write covers only the blocks it needs, a copy
 * whose stream is damaged is reported and the other copy is used. */
static void test_region_uses_the_other_copy_when_one_does_not_inflate(void **state) {
        char path[] = "/var/tmp/vmha-test-config.XXXXXX";
        struct disk_super sb = test_super(4);
        struct disk_config_header hdr[2];
        struct disk_status st[2];
        struct disk_region *reg;
        struct disk_error err;
        struct disk_io *io;
        uint8_t *raw = sample(30000), blk[DISK_BLOCK_SIZE];
        void *snap;
        size_t stored;
        int fd = mkstemp(path), current;
        uint64_t off;

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        assert_int_equal(disk_io_open(path, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_region_format(io, &sb, 2000, &err), 0);
        assert_int_equal(disk_region_attach(io, 2000, &reg, &err), 0);
        assert_int_equal(disk_region_write_snapshot(reg, 2, raw, 30000, 1, &stored), 0);
        assert_int_equal(disk_region_write_snapshot(reg, 3, raw, 20000, 1, &stored), 0);
        assert_int_equal(disk_region_read_config(reg, hdr, st, &current, &snap), 0);
        assert_int_equal(current, 0);   /* A: generation 3 */
        assert_int_equal(hdr[0].raw_len, 20000);
        assert_memory_equal(snap, raw, 20000);
        free(snap);

        /* Damage A's stream and reseal its checksum: B (generation 2) it is. */
        off = disk_layout_config_offset(&reg->layout, 0);
        assert_int_equal(pread(fd, blk, sizeof(blk), (off_t)off), (ssize_t)sizeof(blk));
        blk[sizeof(struct disk_raw_config) + 1] ^= 0x5a;
        reseal(blk);
        assert_int_equal(pwrite(fd, blk, sizeof(blk), (off_t)off), (ssize_t)sizeof(blk));
        assert_int_equal(disk_region_read_config(reg, hdr, st, &current, &snap), 0);
        assert_int_equal(st[0].error, -EBADMSG);
        assert_non_null(strstr(st[0].msg.msg, "config A: "));
        assert_int_equal(current, 1);
        assert_int_equal(hdr[1].generation, 2);
        assert_int_equal(hdr[1].raw_len, 30000);
        assert_memory_equal(snap, raw, 30000);
        free(snap);
        /* The next write goes over the damaged copy, never over B. */
        assert_int_equal(disk_region_write_snapshot(reg, 4, raw, 100, 1, &stored), 0);
        assert_int_equal(disk_region_read_config(reg, hdr, st, &current, &snap), 0);
        assert_int_equal(current, 0);
        assert_int_equal(st[1].error, 0);
        assert_int_equal(hdr[1].generation, 2);
        free(snap);
        disk_region_free(reg);
        close(fd);
        unlink(path);
        free(raw);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_compressed_snapshot_round_trips),
                cmocka_unit_test(test_a_damaged_stream_behind_a_valid_checksum_is_corrupt),
                cmocka_unit_test(test_a_stream_of_another_length_than_its_header_says_is_corrupt),
                cmocka_unit_test(test_a_short_stream_or_bytes_after_it_are_corrupt),
                cmocka_unit_test(test_header_fields_are_checked_before_anything_inflates),
                cmocka_unit_test(test_a_version_1_copy_is_refused_as_older_not_read),
                cmocka_unit_test(test_sizing_is_compress_bound_plus_the_header_in_whole_blocks),
                cmocka_unit_test(test_deflate_refuses_an_output_buffer_too_small),
                cmocka_unit_test(test_region_uses_the_other_copy_when_one_does_not_inflate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
