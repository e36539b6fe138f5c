/* Heartbeat region codec: native structs <-> checksummed little-endian
 * blocks. Pure: no I/O, no allocation, no global state.
 *
 * Every decoder checks, in this order: magic, checksum, layout version,
 * cluster UUID, then the ranges of its fields. The checksum comes before the
 * version so that a flipped bit in the version field is reported as the
 * corruption it is, not as a layout from the future.
 */
#include "heartbeat/disk_format.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define CRC_FIELD_OFFSET 8u     /* offsetof(struct disk_raw_header, crc32) */
_Static_assert(__builtin_offsetof(struct disk_raw_header, crc32) == CRC_FIELD_OFFSET, "crc offset");

static int fail(struct disk_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct disk_error *err, int code, const char *fmt, ...) {
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return code;
}

/* zlib's CRC-32 over len bytes, with the 4-byte crc field taken as zero. */
static uint32_t block_crc(const uint8_t *p, size_t len) {
        static const uint8_t zero[4];
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, p, CRC_FIELD_OFFSET);
        crc = crc32(crc, zero, sizeof(zero));
        crc = crc32(crc, p + CRC_FIELD_OFFSET + 4, (uInt)(len - CRC_FIELD_OFFSET - 4));
        return (uint32_t)crc;
}

static void header_encode(struct disk_raw_header *h, uint32_t magic, uint32_t index,
                          const uint8_t uuid[DISK_UUID_SIZE]) {
        h->magic = htole32(magic);
        h->version = htole16(DISK_LAYOUT_VERSION);
        h->reserved = 0;
        h->crc32 = 0;
        h->index = htole32(index);
        memcpy(h->uuid, uuid, DISK_UUID_SIZE);
}

static void seal(void *buf, size_t len) {
        struct disk_raw_header *h = buf;
        h->crc32 = htole32(block_crc(buf, len));
}

/* Checks what every structure shares. `what` names it in messages ("slot 3").
 * crc_len is the number of bytes the checksum covers. */
static bool all_zero(const uint8_t *p, size_t len);

static int header_check(const void *buf, size_t buf_len, size_t crc_len, uint32_t magic,
                        const char *what, const uint8_t *uuid, uint32_t index, struct disk_error *err) {
        const struct disk_raw_header *h = buf;
        uint32_t m = le32toh(h->magic);

        if (m != magic) {
                if (all_zero(buf, buf_len < DISK_BLOCK_SIZE ? buf_len : DISK_BLOCK_SIZE))
                        return fail(err, -EBADMSG, "%s: blank (all zeros)", what);
                return fail(err, -EBADMSG, "%s: bad magic 0x%08x (expected 0x%08x)", what, m, magic);
        }
        if (le32toh(h->crc32) != block_crc(buf, crc_len))
                return fail(err, -EBADMSG, "%s: checksum mismatch", what);
        /* A valid structure of another version is not corrupt: say so, and
         * never read it as this version's. */
        if (le16toh(h->version) > DISK_LAYOUT_VERSION)
                return fail(err, -EPROTO, "%s: made by a newer vmha (layout version %u; this build reads %u)",
                            what, le16toh(h->version), DISK_LAYOUT_VERSION);
        if (le16toh(h->version) != DISK_LAYOUT_VERSION)
                return fail(err, -EPROTO, "%s: made by an older vmha (layout version %u; this build reads %u)",
                            what, le16toh(h->version), DISK_LAYOUT_VERSION);
        if (h->reserved != 0)
                return fail(err, -EBADMSG, "%s: reserved header field is not zero", what);
        if (uuid && memcmp(h->uuid, uuid, DISK_UUID_SIZE) != 0) {
                char a[37], b[37];
                disk_uuid_format(h->uuid, a);
                disk_uuid_format(uuid, b);
                return fail(err, -EPROTO, "%s: belongs to cluster %s, not %s", what, a, b);
        }
        if (le32toh(h->index) != index)
                return fail(err, -EBADMSG, "%s: index %u where %u belongs", what,
                            le32toh(h->index), index);
        return 0;
}

/* Copies a NUL-terminated string into a fixed on-disk field, zero-padded. */
static int text_encode(char *dst, size_t dst_len, const char *src) {
        size_t n = strnlen(src, dst_len);
        if (n >= dst_len)
                return -EINVAL;
        memset(dst, 0, dst_len);
        memcpy(dst, src, n);
        return 0;
}

/* A text field must be NUL-terminated, zero after the NUL, and printable. */
static int text_decode(char *dst, const char *src, size_t len, const char *what,
                       const char *field, struct disk_error *err) {
        size_t n = strnlen(src, len);
        if (n == len)
                return fail(err, -EBADMSG, "%s: %s is not terminated", what, field);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] == 0x7f)
                        return fail(err, -EBADMSG, "%s: %s holds a control character", what, field);
        for (size_t i = n; i < len; i++)
                if (src[i] != 0)
                        return fail(err, -EBADMSG, "%s: %s has bytes after its end", what, field);
        memcpy(dst, src, n + 1);
        return 0;
}

static bool all_zero(const uint8_t *p, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (p[i])
                        return false;
        return true;
}

/* ---- layout ---- */

int disk_layout_init(struct disk_layout *l, uint32_t slot_count, uint32_t claim_blocks,
                     uint32_t config_blocks, struct disk_error *err) {
        if (slot_count < 1 || slot_count > DISK_MAX_SLOTS)
                return fail(err, -EINVAL, "slot count %u out of range 1..%u", slot_count, DISK_MAX_SLOTS);
        if (claim_blocks < 1 || claim_blocks > DISK_MAX_CLAIM_BLOCKS)
                return fail(err, -EINVAL, "claim blocks per host %u out of range 1..%u",
                            claim_blocks, DISK_MAX_CLAIM_BLOCKS);
        if (config_blocks < 1 || config_blocks > DISK_MAX_CONFIG_BLOCKS)
                return fail(err, -EINVAL, "config blocks %u out of range 1..%u",
                            config_blocks, DISK_MAX_CONFIG_BLOCKS);
        l->slot_count = slot_count;
        l->claim_blocks = claim_blocks;
        l->config_blocks = config_blocks;
        l->region_blocks = 1 + 2 * slot_count + 2 * config_blocks + slot_count * claim_blocks;
        l->region_bytes = (uint64_t)l->region_blocks * DISK_BLOCK_SIZE;
        return 0;
}

void disk_layout_from_super(struct disk_layout *l, const struct disk_super *sb) {
        (void)disk_layout_init(l, sb->slot_count, sb->claim_blocks, sb->config_blocks, NULL);
}

uint64_t disk_layout_super_offset(void) {
        return 0;
}

uint64_t disk_layout_slot_offset(const struct disk_layout *l, uint32_t host_id) {
        (void)l;
        return (uint64_t)host_id * DISK_BLOCK_SIZE;
}

uint64_t disk_layout_mailbox_offset(const struct disk_layout *l, uint32_t host_id) {
        return ((uint64_t)l->slot_count + host_id) * DISK_BLOCK_SIZE;
}

uint64_t disk_layout_config_offset(const struct disk_layout *l, uint32_t copy) {
        return (1 + 2 * (uint64_t)l->slot_count + (uint64_t)copy * l->config_blocks) * DISK_BLOCK_SIZE;
}

uint64_t disk_layout_config_bytes(const struct disk_layout *l) {
        return (uint64_t)l->config_blocks * DISK_BLOCK_SIZE;
}

uint32_t disk_layout_config_payload_max(const struct disk_layout *l) {
        return (uint32_t)(disk_layout_config_bytes(l) - sizeof(struct disk_raw_config));
}

uint64_t disk_layout_config_span(uint32_t payload_len) {
        uint64_t n = sizeof(struct disk_raw_config) + (uint64_t)payload_len;
        return (n + DISK_BLOCK_SIZE - 1) / DISK_BLOCK_SIZE * DISK_BLOCK_SIZE;
}

uint64_t disk_layout_claims_offset(const struct disk_layout *l, uint32_t host_id, uint32_t block_no) {
        uint64_t first = 1 + 2 * (uint64_t)l->slot_count + 2 * (uint64_t)l->config_blocks;
        return (first + (uint64_t)(host_id - 1) * l->claim_blocks + block_no) * DISK_BLOCK_SIZE;
}

/* ---- superblock ---- */

int disk_super_encode(const struct disk_super *sb, void *block) {
        struct disk_raw_super *r = block;
        struct disk_layout l;

        if (disk_layout_init(&l, sb->slot_count, sb->claim_blocks, sb->config_blocks, NULL) < 0)
                return -EINVAL;
        if (sb->timeout_ms < DISK_MIN_TIMEOUT_MS || sb->timeout_ms > DISK_MAX_TIMEOUT_MS)
                return -EINVAL;
        if (sb->cluster_name[0] == 0)
                return -EINVAL;
        memset(block, 0, DISK_BLOCK_SIZE);
        header_encode(&r->hdr, DISK_MAGIC_SUPER, 0, sb->uuid);
        if (text_encode(r->cluster_name, sizeof(r->cluster_name), sb->cluster_name) < 0)
                return -EINVAL;
        r->slot_count = htole32(sb->slot_count);
        r->timeout_ms = htole32(sb->timeout_ms);
        r->created_unix = htole64(sb->created_unix);
        r->block_size = htole32(DISK_BLOCK_SIZE);
        r->claim_blocks = htole32(sb->claim_blocks);
        r->config_blocks = htole32(sb->config_blocks);
        r->region_blocks = htole32(l.region_blocks);
        seal(block, DISK_BLOCK_SIZE);
        return 0;
}

int disk_super_decode(const void *block, size_t len, struct disk_super *sb, struct disk_error *err) {
        const struct disk_raw_super *r = block;
        struct disk_layout l;
        struct disk_error lerr;
        int e;

        if (len < DISK_BLOCK_SIZE)
                return fail(err, -EBADMSG, "superblock: short read (%zu bytes)", len);
        e = header_check(block, DISK_BLOCK_SIZE, DISK_BLOCK_SIZE, DISK_MAGIC_SUPER, "superblock", NULL, 0, err);
        if (e < 0)
                return e;
        memset(sb, 0, sizeof(*sb));
        memcpy(sb->uuid, r->hdr.uuid, DISK_UUID_SIZE);
        if (all_zero(sb->uuid, DISK_UUID_SIZE))
                return fail(err, -EBADMSG, "superblock: cluster UUID is all zero");
        e = text_decode(sb->cluster_name, r->cluster_name, sizeof(r->cluster_name),
                        "superblock", "cluster name", err);
        if (e < 0)
                return e;
        if (sb->cluster_name[0] == 0)
                return fail(err, -EBADMSG, "superblock: cluster name is empty");
        if (le32toh(r->block_size) != DISK_BLOCK_SIZE)
                return fail(err, -EBADMSG, "superblock: block size %u unsupported", le32toh(r->block_size));
        sb->slot_count = le32toh(r->slot_count);
        sb->timeout_ms = le32toh(r->timeout_ms);
        sb->created_unix = le64toh(r->created_unix);
        sb->claim_blocks = le32toh(r->claim_blocks);
        sb->config_blocks = le32toh(r->config_blocks);
        sb->region_blocks = le32toh(r->region_blocks);
        if (disk_layout_init(&l, sb->slot_count, sb->claim_blocks, sb->config_blocks, &lerr) < 0)
                return fail(err, -EBADMSG, "superblock: %s", lerr.msg);
        if (l.region_blocks != sb->region_blocks)
                return fail(err, -EBADMSG, "superblock: region size %u blocks does not match its layout (%u)",
                            sb->region_blocks, l.region_blocks);
        if (sb->timeout_ms < DISK_MIN_TIMEOUT_MS || sb->timeout_ms > DISK_MAX_TIMEOUT_MS)
                return fail(err, -EBADMSG, "superblock: timeout %u ms out of range %u..%u",
                            sb->timeout_ms, DISK_MIN_TIMEOUT_MS, DISK_MAX_TIMEOUT_MS);
        if (!all_zero(r->pad, sizeof(r->pad)))
                return fail(err, -EBADMSG, "superblock: padding is not zero");
        return 0;
}

/* ---- slots ---- */

int disk_slot_encode(const struct disk_super *sb, const struct disk_slot *s, void *block) {
        struct disk_raw_slot *r = block;

        if (s->host_id < 1 || s->host_id > sb->slot_count || (unsigned)s->state >= _DISK_SLOT_STATE_MAX ||
            (s->flags & ~(uint32_t)_DISK_SLOT_FLAGS_ALL))
                return -EINVAL;
        memset(block, 0, DISK_BLOCK_SIZE);
        header_encode(&r->hdr, DISK_MAGIC_SLOT, s->host_id, sb->uuid);
        r->host_id = htole32(s->host_id);
        r->state = htole32((uint32_t)s->state);
        r->incarnation = htole64(s->incarnation);
        r->seq = htole64(s->seq);
        r->ring_id = htole64(s->ring_id);
        memcpy(r->view, s->view, DISK_VIEW_BYTES);
        r->flags = htole32(s->flags);
        r->watchdog_timeout_ms = htole32(s->watchdog_timeout_ms);
        r->mailbox_ack_seq = htole64(s->mailbox_ack_seq);
        r->claims_gen = htole64(s->claims_gen);
        r->write_unix_ms = htole64(s->write_unix_ms);
        r->fence_unix_ms = htole64(s->fence_unix_ms);
        if (text_encode(r->reason, sizeof(r->reason), s->reason) < 0)
                return -EINVAL;
        seal(block, DISK_BLOCK_SIZE);
        return 0;
}

int disk_slot_decode(const struct disk_super *sb, uint32_t host_id, const void *block,
                     struct disk_slot *s, struct disk_error *err) {
        const struct disk_raw_slot *r = block;
        char what[32];
        uint32_t st;
        int e;

        snprintf(what, sizeof(what), "slot %u", host_id);
        e = header_check(block, DISK_BLOCK_SIZE, DISK_BLOCK_SIZE, DISK_MAGIC_SLOT, what, sb->uuid, host_id, err);
        if (e < 0)
                return e;
        memset(s, 0, sizeof(*s));
        s->host_id = le32toh(r->host_id);
        if (s->host_id != host_id)
                return fail(err, -EBADMSG, "%s: names host %u", what, s->host_id);
        st = le32toh(r->state);
        if (st >= _DISK_SLOT_STATE_MAX)
                return fail(err, -EBADMSG, "%s: unknown state %u", what, st);
        s->state = (enum disk_slot_state)st;
        s->incarnation = le64toh(r->incarnation);
        s->seq = le64toh(r->seq);
        s->ring_id = le64toh(r->ring_id);
        memcpy(s->view, r->view, DISK_VIEW_BYTES);
        if (disk_view_test(s->view, 0))
                return fail(err, -EBADMSG, "%s: view names host id 0", what);
        for (unsigned id = sb->slot_count + 1; id < 8 * DISK_VIEW_BYTES; id++)
                if (disk_view_test(s->view, id))
                        return fail(err, -EBADMSG, "%s: view names host %u beyond the %u slots",
                                    what, id, sb->slot_count);
        s->flags = le32toh(r->flags);
        if (s->flags & ~(uint32_t)_DISK_SLOT_FLAGS_ALL)
                return fail(err, -EBADMSG, "%s: unknown flags 0x%x", what, s->flags);
        s->watchdog_timeout_ms = le32toh(r->watchdog_timeout_ms);
        s->mailbox_ack_seq = le64toh(r->mailbox_ack_seq);
        s->claims_gen = le64toh(r->claims_gen);
        s->write_unix_ms = le64toh(r->write_unix_ms);
        s->fence_unix_ms = le64toh(r->fence_unix_ms);
        e = text_decode(s->reason, r->reason, sizeof(r->reason), what, "reason", err);
        if (e < 0)
                return e;
        if (!all_zero(r->pad, sizeof(r->pad)))
                return fail(err, -EBADMSG, "%s: padding is not zero", what);
        return 0;
}

/* ---- mailboxes ---- */

int disk_mailbox_encode(const struct disk_super *sb, const struct disk_mailbox *mb, void *block) {
        struct disk_raw_mailbox *r = block;

        if (mb->host_id < 1 || mb->host_id > sb->slot_count ||
            (unsigned)mb->command >= _DISK_MAILBOX_COMMAND_MAX || mb->sender > sb->slot_count)
                return -EINVAL;
        memset(block, 0, DISK_BLOCK_SIZE);
        header_encode(&r->hdr, DISK_MAGIC_MAILBOX, mb->host_id, sb->uuid);
        r->command = htole32((uint32_t)mb->command);
        r->sender = htole32(mb->sender);
        r->seq = htole64(mb->seq);
        r->sent_unix_ms = htole64(mb->sent_unix_ms);
        if (text_encode(r->reason, sizeof(r->reason), mb->reason) < 0)
                return -EINVAL;
        seal(block, DISK_BLOCK_SIZE);
        return 0;
}

int disk_mailbox_decode(const struct disk_super *sb, uint32_t host_id, const void *block,
                        struct disk_mailbox *mb, struct disk_error *err) {
        const struct disk_raw_mailbox *r = block;
        char what[32];
        uint32_t c;
        int e;

        snprintf(what, sizeof(what), "mailbox %u", host_id);
        e = header_check(block, DISK_BLOCK_SIZE, DISK_BLOCK_SIZE, DISK_MAGIC_MAILBOX, what, sb->uuid, host_id, err);
        if (e < 0)
                return e;
        memset(mb, 0, sizeof(*mb));
        mb->host_id = host_id;
        c = le32toh(r->command);
        if (c >= _DISK_MAILBOX_COMMAND_MAX)
                return fail(err, -EBADMSG, "%s: unknown command %u", what, c);
        mb->command = (enum disk_mailbox_command)c;
        mb->sender = le32toh(r->sender);
        if (mb->sender > sb->slot_count)
                return fail(err, -EBADMSG, "%s: sender %u beyond the %u slots", what, mb->sender, sb->slot_count);
        mb->seq = le64toh(r->seq);
        mb->sent_unix_ms = le64toh(r->sent_unix_ms);
        e = text_decode(mb->reason, r->reason, sizeof(r->reason), what, "reason", err);
        if (e < 0)
                return e;
        if (!all_zero(r->pad, sizeof(r->pad)))
                return fail(err, -EBADMSG, "%s: padding is not zero", what);
        return 0;
}

/* ---- ownership claims ---- */

int disk_claims_encode(const struct disk_super *sb, const struct disk_claims_block *cb, void *block) {
        struct disk_raw_claims *r = block;

        if (cb->host_id < 1 || cb->host_id > sb->slot_count || cb->block_no >= sb->claim_blocks ||
            cb->count > DISK_CLAIMS_PER_BLOCK)
                return -EINVAL;
        memset(block, 0, DISK_BLOCK_SIZE);
        header_encode(&r->hdr, DISK_MAGIC_CLAIMS, cb->host_id, sb->uuid);
        r->block_no = htole32(cb->block_no);
        r->count = htole32(cb->count);
        r->gen = htole64(cb->gen);
        for (uint32_t i = 0; i < cb->count; i++) {
                if (cb->claims[i].vm_id == 0)
                        return -EINVAL;
                r->claims[i].vm_id = htole64(cb->claims[i].vm_id);
                r->claims[i].claim_seq = htole64(cb->claims[i].claim_seq);
        }
        seal(block, DISK_BLOCK_SIZE);
        return 0;
}

int disk_claims_decode(const struct disk_super *sb, uint32_t host_id, uint32_t block_no,
                       const void *block, struct disk_claims_block *cb, struct disk_error *err) {
        const struct disk_raw_claims *r = block;
        char what[48];
        int e;

        snprintf(what, sizeof(what), "claims %u block %u", host_id, block_no);
        e = header_check(block, DISK_BLOCK_SIZE, DISK_BLOCK_SIZE, DISK_MAGIC_CLAIMS, what, sb->uuid, host_id, err);
        if (e < 0)
                return e;
        memset(cb, 0, sizeof(*cb));
        cb->host_id = host_id;
        cb->block_no = le32toh(r->block_no);
        if (cb->block_no != block_no)
                return fail(err, -EBADMSG, "%s: names block %u", what, cb->block_no);
        cb->count = le32toh(r->count);
        if (cb->count > DISK_CLAIMS_PER_BLOCK)
                return fail(err, -EBADMSG, "%s: count %u exceeds %u", what, cb->count, DISK_CLAIMS_PER_BLOCK);
        cb->gen = le64toh(r->gen);
        for (uint32_t i = 0; i < cb->count; i++) {
                cb->claims[i].vm_id = le64toh(r->claims[i].vm_id);
                cb->claims[i].claim_seq = le64toh(r->claims[i].claim_seq);
                if (cb->claims[i].vm_id == 0)
                        return fail(err, -EBADMSG, "%s: claim %u has VM id 0", what, i);
        }
        if (!all_zero((const uint8_t *)&r->claims[cb->count],
                      (DISK_CLAIMS_PER_BLOCK - cb->count) * sizeof(struct disk_raw_claim)))
                return fail(err, -EBADMSG, "%s: bytes after the last claim are not zero", what);
        return 0;
}

/* ---- config copies ---- */

/* What a header may say: a payload is compressed and inflates to a bounded,
 * non-zero length; no payload means nothing to inflate. */
static bool config_shape_ok(uint32_t flags, uint32_t payload_len, uint32_t raw_len) {
        if (payload_len == 0)
                return flags == 0 && raw_len == 0;
        return flags == DISK_CONFIG_DEFLATE && raw_len > 0 && raw_len <= DISK_CONFIG_RAW_MAX;
}

int disk_config_encode(const struct disk_super *sb, const struct disk_config_header *ch,
                       const void *payload, void *buf, size_t buf_len) {
        struct disk_raw_config *r = buf;
        struct disk_layout l;

        disk_layout_from_super(&l, sb);
        if (ch->copy > 1 || buf_len > disk_layout_config_bytes(&l) ||
            buf_len < sizeof(*r) + (size_t)ch->payload_len || ch->payload_len > disk_layout_config_payload_max(&l) ||
            !config_shape_ok(ch->flags, ch->payload_len, ch->raw_len))
                return -EINVAL;
        memset(buf, 0, buf_len);
        header_encode(&r->hdr, DISK_MAGIC_CONFIG, ch->copy, sb->uuid);
        r->generation = htole64(ch->generation);
        r->payload_len = htole32(ch->payload_len);
        r->flags = htole32(ch->flags);
        r->raw_len = htole32(ch->raw_len);
        r->written_unix_ms = htole64(ch->written_unix_ms);
        if (ch->payload_len)
                memcpy((uint8_t *)buf + sizeof(*r), payload, ch->payload_len);
        seal(buf, sizeof(*r) + ch->payload_len);
        return 0;
}

int disk_config_decode(const struct disk_super *sb, uint32_t copy, const void *buf, size_t buf_len,
                       struct disk_config_header *ch, const void **payload, struct disk_error *err) {
        const struct disk_raw_config *r = buf;
        struct disk_layout l;
        const char *what = copy == 0 ? "config A" : "config B";
        uint32_t len;
        int e;

        disk_layout_from_super(&l, sb);
        if (buf_len < sizeof(*r))
                return fail(err, -EBADMSG, "%s: short read (%zu bytes)", what, buf_len);
        if (le32toh(r->hdr.magic) == DISK_MAGIC_CONFIG) {
                /* The length decides what the checksum covers: bound it first. */
                len = le32toh(r->payload_len);
                if (len > disk_layout_config_payload_max(&l) || sizeof(*r) + len > buf_len)
                        return fail(err, -EBADMSG, "%s: payload length %u exceeds the copy (%u bytes)",
                                    what, len, disk_layout_config_payload_max(&l));
        } else {
                len = 0;
        }
        e = header_check(buf, buf_len, sizeof(*r) + len, DISK_MAGIC_CONFIG, what, sb->uuid, copy, err);
        if (e < 0)
                return e;
        if (!all_zero(r->pad, sizeof(r->pad)))
                return fail(err, -EBADMSG, "%s: reserved fields are not zero", what);
        if (le32toh(r->flags) & ~(uint32_t)_DISK_CONFIG_FLAGS_ALL)
                return fail(err, -EBADMSG, "%s: unknown flags 0x%x", what, le32toh(r->flags));
        if (!config_shape_ok(le32toh(r->flags), len, le32toh(r->raw_len)))
                return fail(err, -EBADMSG, "%s: %u stored bytes with flags 0x%x cannot inflate to %u bytes", what,
                            len, le32toh(r->flags), le32toh(r->raw_len));
        memset(ch, 0, sizeof(*ch));
        ch->copy = copy;
        ch->generation = le64toh(r->generation);
        ch->flags = le32toh(r->flags);
        ch->payload_len = len;
        ch->raw_len = le32toh(r->raw_len);
        ch->written_unix_ms = le64toh(r->written_unix_ms);
        if (payload)
                *payload = (const uint8_t *)buf + sizeof(*r);
        return 0;
}

uint64_t disk_config_bytes_max(uint64_t raw_len) {
        if (raw_len > DISK_CONFIG_RAW_MAX)
                return 0;
        return sizeof(struct disk_raw_config) + compressBound((uLong)raw_len);
}

uint32_t disk_config_blocks_for(uint64_t raw_len) {
        uint64_t bytes = disk_config_bytes_max(raw_len);
        uint64_t blocks = (bytes + DISK_BLOCK_SIZE - 1) / DISK_BLOCK_SIZE;

        return bytes && blocks <= DISK_MAX_CONFIG_BLOCKS ? (uint32_t)blocks : 0;
}

int disk_config_deflate(const void *raw, size_t raw_len, void *out, size_t out_cap, size_t *out_len) {
        uLongf n = (uLongf)out_cap;
        int z;

        if (raw_len == 0 || raw_len > DISK_CONFIG_RAW_MAX)
                return -EINVAL;
        z = compress2(out, &n, raw, (uLong)raw_len, Z_DEFAULT_COMPRESSION);
        if (z == Z_BUF_ERROR)
                return -ENOSPC;
        if (z != Z_OK)
                return -EINVAL;
        *out_len = n;
        return 0;
}

int disk_config_inflate(const struct disk_config_header *ch, const void *payload, void *raw,
                        struct disk_error *err) {
        const char *what = ch->copy == 0 ? "config A" : "config B";
        uLongf out = ch->raw_len;
        uLong in = ch->payload_len;
        int z;

        if (ch->payload_len == 0)
                return ch->raw_len == 0 ? 0 : fail(err, -EBADMSG, "%s: no payload to inflate", what);
        if (ch->flags != DISK_CONFIG_DEFLATE)
                return fail(err, -EBADMSG, "%s: payload is not compressed (flags 0x%x)", what, ch->flags);
        /* uncompress2() says how much of the stream it used, so bytes after
         * its end are caught as well as a short or a long stream. */
        z = uncompress2(raw, &out, payload, &in);
        if (z == Z_OK && in == ch->payload_len && out == ch->raw_len)
                return 0;
        if (z == Z_OK && in != ch->payload_len)
                return fail(err, -EBADMSG, "%s: %lu bytes after the end of the compressed stream", what,
                            (unsigned long)(ch->payload_len - in));
        if (z == Z_OK)
                return fail(err, -EBADMSG, "%s: inflates to %lu bytes, the header says %u", what,
                            (unsigned long)out, ch->raw_len);
        /* The output is full: with input left, the stream is longer than
         * the header says; with none, it may also have been cut short. */
        if (z == Z_BUF_ERROR && in < ch->payload_len)
                return fail(err, -EBADMSG, "%s: inflates to more than the %u bytes the header says", what,
                            ch->raw_len);
        if (z == Z_BUF_ERROR)
                return fail(err, -EBADMSG, "%s: compressed stream does not end after the %u bytes the header says "
                            "(cut short, or longer)", what, ch->raw_len);
        if (z == Z_DATA_ERROR && in == ch->payload_len)
                return fail(err, -EBADMSG, "%s: compressed stream ends early or is damaged", what);
        if (z == Z_MEM_ERROR)
                return fail(err, -ENOMEM, "%s: out of memory while inflating", what);
        return fail(err, -EBADMSG, "%s: payload does not inflate (%s)", what, zError(z));
}

int disk_config_pick(int a_valid, const struct disk_config_header *a,
                     int b_valid, const struct disk_config_header *b) {
        if (a_valid && b_valid)
                return b->generation > a->generation ? 1 : 0;
        if (a_valid)
                return 0;
        if (b_valid)
                return 1;
        return -ENOENT;
}

uint32_t disk_config_next_copy(int a_valid, const struct disk_config_header *a,
                               int b_valid, const struct disk_config_header *b) {
        int newest = disk_config_pick(a_valid, a, b_valid, b);
        return newest == 0 ? 1 : 0;
}

/* ---- names ---- */

const char *disk_slot_state_name(enum disk_slot_state s) {
        static const char *const names[] = {
                [DISK_SLOT_EMPTY] = "EMPTY",     [DISK_SLOT_JOINING] = "JOINING",
                [DISK_SLOT_ALIVE] = "ALIVE",     [DISK_SLOT_FENCING] = "FENCING",
                [DISK_SLOT_LEFT] = "LEFT",
        };
        return (unsigned)s < _DISK_SLOT_STATE_MAX ? names[s] : "INVALID";
}

const char *disk_mailbox_command_name(enum disk_mailbox_command c) {
        static const char *const names[] = {
                [DISK_MAILBOX_NONE] = "NONE", [DISK_MAILBOX_FENCE] = "FENCE",
                [DISK_MAILBOX_CLEAR] = "CLEAR",
        };
        return (unsigned)c < _DISK_MAILBOX_COMMAND_MAX ? names[c] : "INVALID";
}

void disk_uuid_format(const uint8_t u[DISK_UUID_SIZE], char out[37]) {
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                 u[13], u[14], u[15]);
}
