/* Region-level reads and writes over disk_io. */
#include "heartbeat/disk_region.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void *block_alloc(size_t len) {
        void *p;
        return posix_memalign(&p, DISK_BLOCK_SIZE, len) == 0 ? memset(p, 0, len) : NULL;
}

int disk_region_format(struct disk_io *io, const struct disk_super *sb_in, unsigned timeout_ms,
                       struct disk_error *err) {
        struct disk_super sb = *sb_in;
        struct disk_layout l;
        uint64_t size;
        uint8_t *buf = NULL;
        size_t cfg_len;
        int r;

        r = disk_layout_init(&l, sb.slot_count, sb.claim_blocks, sb.config_blocks, err);
        if (r < 0)
                return r;
        sb.region_blocks = l.region_blocks;
        r = disk_io_size(io, &size);
        if (r < 0) {
                snprintf(err->msg, sizeof(err->msg), "cannot size the device: %s", strerror(-r));
                return r;
        }
        if (size < l.region_bytes) {
                snprintf(err->msg, sizeof(err->msg),
                         "device too small: the region needs %llu bytes (%.2f MiB), the device has %llu",
                         (unsigned long long)l.region_bytes, l.region_bytes / 1048576.0,
                         (unsigned long long)size);
                return -ENOSPC;
        }
        cfg_len = disk_layout_config_bytes(&l);
        buf = block_alloc(cfg_len > DISK_BLOCK_SIZE ? cfg_len : DISK_BLOCK_SIZE);
        if (!buf)
                return -ENOMEM;

        for (uint32_t id = 1; id <= sb.slot_count && r == 0; id++) {
                struct disk_slot s = { .host_id = id, .state = DISK_SLOT_EMPTY };
                struct disk_mailbox mb = { .host_id = id, .command = DISK_MAILBOX_NONE };

                r = disk_slot_encode(&sb, &s, buf);
                if (r == 0)
                        r = disk_io_pwrite(io, buf, DISK_BLOCK_SIZE, disk_layout_slot_offset(&l, id), timeout_ms);
                if (r == 0)
                        r = disk_mailbox_encode(&sb, &mb, buf);
                if (r == 0)
                        r = disk_io_pwrite(io, buf, DISK_BLOCK_SIZE, disk_layout_mailbox_offset(&l, id),
                                           timeout_ms);
                for (uint32_t b = 0; b < sb.claim_blocks && r == 0; b++) {
                        struct disk_claims_block cb = { .host_id = id, .block_no = b };
                        r = disk_claims_encode(&sb, &cb, buf);
                        if (r == 0)
                                r = disk_io_pwrite(io, buf, DISK_BLOCK_SIZE,
                                                   disk_layout_claims_offset(&l, id, b), timeout_ms);
                }
        }
        for (uint32_t copy = 0; copy < 2 && r == 0; copy++) {
                /* A holds generation 1, B generation 0: both valid and empty. */
                struct disk_config_header ch = { .copy = copy, .generation = copy == 0 ? 1 : 0,
                                                 .written_unix_ms = sb.created_unix * 1000 };
                r = disk_config_encode(&sb, &ch, NULL, buf, cfg_len);
                if (r == 0)
                        r = disk_io_pwrite(io, buf, cfg_len, disk_layout_config_offset(&l, copy), timeout_ms);
        }
        if (r == 0)
                r = disk_super_encode(&sb, buf);
        if (r == 0)
                r = disk_io_pwrite(io, buf, DISK_BLOCK_SIZE, disk_layout_super_offset(), timeout_ms);
        if (r < 0)
                snprintf(err->msg, sizeof(err->msg), "writing the region failed: %s", strerror(-r));
        free(buf);
        return r;
}

int disk_region_attach(struct disk_io *io, unsigned timeout_ms, struct disk_region **ret,
                       struct disk_error *err) {
        struct disk_region *reg;
        uint8_t *buf;
        uint64_t size;
        int r;

        buf = block_alloc(DISK_BLOCK_SIZE);
        if (!buf)
                return -ENOMEM;
        r = disk_io_pread(io, buf, DISK_BLOCK_SIZE, disk_layout_super_offset(), timeout_ms);
        if (r < 0) {
                snprintf(err->msg, sizeof(err->msg), "superblock: read failed: %s", strerror(-r));
                free(buf);
                return r;
        }
        reg = calloc(1, sizeof(*reg));
        if (!reg) {
                free(buf);
                return -ENOMEM;
        }
        r = disk_super_decode(buf, DISK_BLOCK_SIZE, &reg->sb, err);
        free(buf);
        if (r < 0) {
                free(reg);
                return r;
        }
        disk_layout_from_super(&reg->layout, &reg->sb);
        if (disk_io_size(io, &size) == 0 && size < reg->layout.region_bytes) {
                snprintf(err->msg, sizeof(err->msg),
                         "superblock: region of %llu bytes does not fit the %llu-byte device",
                         (unsigned long long)reg->layout.region_bytes, (unsigned long long)size);
                free(reg);
                return -EBADMSG;
        }
        reg->io = io;
        reg->timeout_ms = timeout_ms;
        *ret = reg;
        return 0;
}

void disk_region_free(struct disk_region *r) {
        if (!r)
                return;
        disk_io_free(r->io);
        free(r);
}

/* Reads n consecutive blocks starting at off into a fresh aligned buffer. */
static int read_blocks(struct disk_region *r, uint64_t off, size_t n, uint8_t **ret) {
        uint8_t *buf = block_alloc(n * DISK_BLOCK_SIZE);
        int e;

        if (!buf)
                return -ENOMEM;
        e = disk_io_pread(r->io, buf, n * DISK_BLOCK_SIZE, off, r->timeout_ms);
        if (e < 0) {
                free(buf);
                return e;
        }
        *ret = buf;
        return 0;
}

int disk_region_read_slots(struct disk_region *r, struct disk_slot *slots, struct disk_status *st) {
        uint32_t n = r->sb.slot_count;
        uint8_t *buf;
        int e = read_blocks(r, disk_layout_slot_offset(&r->layout, 1), n, &buf);

        if (e < 0)
                return e;
        for (uint32_t id = 1; id <= n; id++)
                st[id].error = disk_slot_decode(&r->sb, id, buf + (size_t)(id - 1) * DISK_BLOCK_SIZE,
                                                &slots[id], &st[id].msg);
        free(buf);
        return 0;
}

int disk_region_read_mailboxes(struct disk_region *r, struct disk_mailbox *mbs, struct disk_status *st) {
        uint32_t n = r->sb.slot_count;
        uint8_t *buf;
        int e = read_blocks(r, disk_layout_mailbox_offset(&r->layout, 1), n, &buf);

        if (e < 0)
                return e;
        for (uint32_t id = 1; id <= n; id++)
                st[id].error = disk_mailbox_decode(&r->sb, id, buf + (size_t)(id - 1) * DISK_BLOCK_SIZE,
                                                   &mbs[id], &st[id].msg);
        free(buf);
        return 0;
}

int disk_region_read_claims(struct disk_region *r, uint32_t host_id, struct disk_claims_block *cbs,
                            struct disk_status *st) {
        uint32_t n = r->sb.claim_blocks;
        uint8_t *buf;
        int e;

        if (host_id < 1 || host_id > r->sb.slot_count)
                return -EINVAL;
        e = read_blocks(r, disk_layout_claims_offset(&r->layout, host_id, 0), n, &buf);
        if (e < 0)
                return e;
        for (uint32_t b = 0; b < n; b++)
                st[b].error = disk_claims_decode(&r->sb, host_id, b, buf + (size_t)b * DISK_BLOCK_SIZE,
                                                 &cbs[b], &st[b].msg);
        free(buf);
        return 0;
}

static int write_block(struct disk_region *r, uint64_t off, int (*encode)(const struct disk_super *,
                       const void *, void *), const void *obj) {
        uint8_t *buf = block_alloc(DISK_BLOCK_SIZE);
        int e;

        if (!buf)
                return -ENOMEM;
        e = encode(&r->sb, obj, buf);
        if (e == 0)
                e = disk_io_pwrite(r->io, buf, DISK_BLOCK_SIZE, off, r->timeout_ms);
        free(buf);
        return e;
}

static int encode_slot(const struct disk_super *sb, const void *o, void *b) {
        return disk_slot_encode(sb, o, b);
}
static int encode_mailbox(const struct disk_super *sb, const void *o, void *b) {
        return disk_mailbox_encode(sb, o, b);
}
static int encode_claims(const struct disk_super *sb, const void *o, void *b) {
        return disk_claims_encode(sb, o, b);
}

int disk_region_write_slot(struct disk_region *r, const struct disk_slot *slot) {
        if (slot->host_id < 1 || slot->host_id > r->sb.slot_count)
                return -EINVAL;
        return write_block(r, disk_layout_slot_offset(&r->layout, slot->host_id), encode_slot, slot);
}

int disk_region_write_mailbox(struct disk_region *r, const struct disk_mailbox *mb) {
        if (mb->host_id < 1 || mb->host_id > r->sb.slot_count)
                return -EINVAL;
        return write_block(r, disk_layout_mailbox_offset(&r->layout, mb->host_id), encode_mailbox, mb);
}

int disk_region_write_claims(struct disk_region *r, const struct disk_claims_block *cb) {
        if (cb->host_id < 1 || cb->host_id > r->sb.slot_count || cb->block_no >= r->sb.claim_blocks)
                return -EINVAL;
        return write_block(r, disk_layout_claims_offset(&r->layout, cb->host_id, cb->block_no),
                           encode_claims, cb);
}

int disk_region_read_all_claims(struct disk_region *r, struct disk_claims_block *cbs, struct disk_status *st) {
        uint32_t k = r->sb.claim_blocks, n = r->sb.slot_count * k;
        uint8_t *buf;
        int e = read_blocks(r, disk_layout_claims_offset(&r->layout, 1, 0), n, &buf);

        if (e < 0)
                return e;
        for (uint32_t i = 0; i < n; i++)
                st[i].error = disk_claims_decode(&r->sb, 1 + i / k, i % k, buf + (size_t)i * DISK_BLOCK_SIZE, &cbs[i],
                                                 &st[i].msg);
        free(buf);
        return 0;
}

int disk_region_write_own_claims(struct disk_region *r, uint32_t host_id, const struct disk_claim *claims, size_t n,
                                 uint64_t gen) {
        uint32_t k = r->sb.claim_blocks;
        uint8_t *buf;
        int e = 0;

        if (host_id < 1 || host_id > r->sb.slot_count)
                return -EINVAL;
        if (n > (size_t)k * DISK_CLAIMS_PER_BLOCK)
                return -E2BIG;
        buf = block_alloc((size_t)k * DISK_BLOCK_SIZE);
        if (!buf)
                return -ENOMEM;
        for (uint32_t b = 0; b < k && e == 0; b++) {
                struct disk_claims_block cb = { .host_id = host_id, .block_no = b, .gen = gen };
                size_t from = (size_t)b * DISK_CLAIMS_PER_BLOCK;

                cb.count = n > from ? (uint32_t)(n - from < DISK_CLAIMS_PER_BLOCK ? n - from : DISK_CLAIMS_PER_BLOCK) : 0;
                memcpy(cb.claims, claims + from, cb.count * sizeof(*claims));
                e = disk_claims_encode(&r->sb, &cb, buf + (size_t)b * DISK_BLOCK_SIZE);
        }
        if (e == 0)
                e = disk_io_pwrite(r->io, buf, (size_t)k * DISK_BLOCK_SIZE,
                                   disk_layout_claims_offset(&r->layout, host_id, 0), r->timeout_ms);
        free(buf);
        return e;
}

uint64_t disk_region_own_claims_offset(const struct disk_region *r, uint32_t host_id) {
        return disk_layout_claims_offset(&r->layout, host_id, 0);
}

int disk_region_read_config_copy(struct disk_region *r, uint32_t c, struct disk_config_header *hdr,
                                 struct disk_status *st, void **raw) {
        uint64_t off = disk_layout_config_offset(&r->layout, c), span = DISK_BLOCK_SIZE;
        uint32_t max = disk_layout_config_payload_max(&r->layout);
        const struct disk_raw_config *rc;
        const void *payload;
        uint8_t *buf;
        int e;

        *raw = NULL;
        e = read_blocks(r, off, 1, &buf);
        if (e < 0)
                return e;
        rc = (const struct disk_raw_config *)buf;
        if (le32toh(rc->hdr.magic) == DISK_MAGIC_CONFIG && le32toh(rc->payload_len) <= max)
                span = disk_layout_config_span(le32toh(rc->payload_len));
        if (span > DISK_BLOCK_SIZE) {
                free(buf);
                e = read_blocks(r, off, span / DISK_BLOCK_SIZE, &buf);
                if (e < 0)
                        return e;
        }
        /* A length beyond the copy is the decoder's to report. */
        st->error = disk_config_decode(&r->sb, c, buf, span, hdr, &payload, &st->msg);
        if (st->error == 0 && hdr->raw_len > 0) {
                *raw = malloc(hdr->raw_len);
                if (!*raw) {
                        free(buf);
                        return -ENOMEM;
                }
                st->error = disk_config_inflate(hdr, payload, *raw, &st->msg);
                if (st->error == -ENOMEM) {
                        free(buf);
                        free(*raw);
                        *raw = NULL;
                        return -ENOMEM;
                }
                if (st->error < 0) {
                        free(*raw);
                        *raw = NULL;
                }
        }
        free(buf);
        return 0;
}

int disk_region_read_config(struct disk_region *r, struct disk_config_header hdr[2],
                            struct disk_status st[2], int *current, void **snapshot) {
        void *raw[2] = { NULL, NULL };
        int e = 0;

        for (uint32_t c = 0; c < 2 && e == 0; c++)
                e = disk_region_read_config_copy(r, c, &hdr[c], &st[c], &raw[c]);
        if (e == 0) {
                *current = disk_config_pick(st[0].error == 0, &hdr[0], st[1].error == 0, &hdr[1]);
                if (*current < 0)
                        *current = -1;
                if (snapshot) {
                        *snapshot = NULL;
                        if (*current >= 0) {
                                *snapshot = raw[*current] ? raw[*current] : malloc(1);
                                raw[*current] = NULL;
                                if (!*snapshot)
                                        e = -ENOMEM;
                        }
                }
        }
        free(raw[0]);
        free(raw[1]);
        return e;
}

int disk_region_write_config(struct disk_region *r, uint64_t generation, const void *payload, uint32_t len,
                             uint32_t raw_len, uint64_t now_unix_ms) {
        struct disk_config_header hdr[2], ch;
        struct disk_status st[2];
        uint64_t span;
        uint8_t *buf;
        int current, e;

        if (len > disk_layout_config_payload_max(&r->layout))
                return -EFBIG;
        if ((len == 0) != (raw_len == 0) || raw_len > DISK_CONFIG_RAW_MAX)
                return -EINVAL;
        e = disk_region_read_config(r, hdr, st, &current, NULL);
        if (e < 0)
                return e;
        for (int c = 0; c < 2; c++)
                if (st[c].error == 0 && hdr[c].generation >= generation)
                        return -ESTALE;
        ch = (struct disk_config_header){
                .copy = disk_config_next_copy(st[0].error == 0, &hdr[0], st[1].error == 0, &hdr[1]),
                .generation = generation,
                .flags = len ? DISK_CONFIG_DEFLATE : 0,
                .payload_len = len,
                .raw_len = raw_len,
                .written_unix_ms = now_unix_ms,
        };
        /* Only the blocks the new copy spans: what lies after them is not
         * covered by its checksum and is never read as part of it. */
        span = disk_layout_config_span(len);
        buf = block_alloc(span);
        if (!buf)
                return -ENOMEM;
        e = disk_config_encode(&r->sb, &ch, payload, buf, span);
        if (e == 0)
                e = disk_io_pwrite(r->io, buf, span, disk_layout_config_offset(&r->layout, ch.copy), r->timeout_ms);
        free(buf);
        return e;
}

int disk_region_write_snapshot(struct disk_region *r, uint64_t generation, const void *snapshot, size_t len,
                               uint64_t now_unix_ms, size_t *stored) {
        size_t cap = len ? compressBound((uLong)len) : 0, zlen = 0;
        void *z = NULL;
        int e = 0;

        *stored = 0;
        if (len > DISK_CONFIG_RAW_MAX)
                return -EFBIG;
        if (len) {
                z = malloc(cap);
                if (!z)
                        return -ENOMEM;
                e = disk_config_deflate(snapshot, len, z, cap, &zlen);
        }
        if (e == 0) {
                *stored = zlen;
                e = disk_region_write_config(r, generation, z, (uint32_t)(zlen <= UINT32_MAX ? zlen : UINT32_MAX),
                                             (uint32_t)len, now_unix_ms);
        }
        free(z);
        return e;
}
