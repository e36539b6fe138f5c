/* libFuzzer target for every heartbeat decoder.
 *
 * The first input byte picks the structure; the rest is the block as read
 * from disk. A decoder must never crash, read out of bounds or accept a
 * block that does not re-encode to the same bytes it was given (for the
 * fixed-size structures): whatever it accepts, it must understand fully.
 *
 * With the high bit of the first byte set, the harness fixes the checksum
 * before decoding, so that mutations reach the field checks behind it.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "heartbeat/disk_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct disk_super fixed_super(void) {
        struct disk_super sb = {
                .uuid = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
                .cluster_name = "fuzz",
                .slot_count = 16,
                .timeout_ms = 5000,
                .claim_blocks = 2,
                .config_blocks = 2,
        };
        return sb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t block[2 * DISK_BLOCK_SIZE] __attribute__((aligned(4096)));
        static uint8_t again[2 * DISK_BLOCK_SIZE] __attribute__((aligned(4096)));
        struct disk_super sb = fixed_super(), out_sb;
        struct disk_error err;
        struct disk_layout l;

        if (size < 1)
                return 0;
        uint8_t kind = (data[0] & 0x7f) % 5;
        bool reseal = data[0] & 0x80;
        memset(block, 0, sizeof(block));
        memcpy(block, data + 1, size - 1 < sizeof(block) ? size - 1 : sizeof(block));
        disk_layout_from_super(&l, &sb);
        if (reseal && kind != 4) {
                struct disk_raw_header *h = (struct disk_raw_header *)block;
                h->crc32 = 0;
                h->crc32 = htole32((uint32_t)crc32(0, block, DISK_BLOCK_SIZE));
        }

        switch (kind) {
        case 0:
                if (disk_super_decode(block, DISK_BLOCK_SIZE, &out_sb, &err) == 0) {
                        if (disk_super_encode(&out_sb, again) != 0 || memcmp(again, block, DISK_BLOCK_SIZE))
                                abort();
                }
                break;
        case 1: {
                struct disk_slot s;
                if (disk_slot_decode(&sb, 3, block, &s, &err) == 0) {
                        if (disk_slot_encode(&sb, &s, again) != 0 || memcmp(again, block, DISK_BLOCK_SIZE))
                                abort();
                }
                break;
        }
        case 2: {
                struct disk_mailbox m;
                if (disk_mailbox_decode(&sb, 5, block, &m, &err) == 0) {
                        if (disk_mailbox_encode(&sb, &m, again) != 0 || memcmp(again, block, DISK_BLOCK_SIZE))
                                abort();
                }
                break;
        }
        case 3: {
                static struct disk_claims_block cb;
                if (disk_claims_decode(&sb, 2, 1, block, &cb, &err) == 0) {
                        if (disk_claims_encode(&sb, &cb, again) != 0 || memcmp(again, block, DISK_BLOCK_SIZE))
                                abort();
                }
                break;
        }
        case 4: {
                struct disk_config_header ch;
                const void *p;
                /* Exactly the bytes given: no reading past a short buffer. */
                size_t n = size - 1 < disk_layout_config_bytes(&l) ? size - 1 : disk_layout_config_bytes(&l);
                uint8_t *copy = malloc(n ? n : 1);
                memcpy(copy, data + 1, n);
                if (reseal && n >= sizeof(struct disk_raw_config)) {
                        struct disk_raw_config *rc = (struct disk_raw_config *)copy;
                        uint32_t len = le32toh(rc->payload_len);
                        if (len <= n - sizeof(*rc)) {
                                rc->hdr.crc32 = 0;
                                rc->hdr.crc32 = htole32((uint32_t)crc32(0, copy, (uInt)(sizeof(*rc) + len)));
                        }
                }
                if (disk_config_decode(&sb, 1, copy, n, &ch, &p, &err) == 0) {
                        if (ch.payload_len > n - sizeof(struct disk_raw_config))
                                abort();
                        volatile uint8_t sum = 0;
                        for (uint32_t i = 0; i < ch.payload_len; i++)
                                sum ^= ((const uint8_t *)p)[i];
                        (void)sum;
                }
                free(copy);
                break;
        }
        }
        return 0;
}
