/* The heartbeat region on a device: format it, and read or write its
 * structures through deadline-bounded I/O.
 *
 * Every read decodes and verifies; a structure that fails is reported with
 * its error and its contents are never used. Bulk reads fetch a whole area
 * (all slots, all mailboxes) in one request, so that a disk interval costs
 * a bounded number of I/Os whatever the slot count.
 */
#pragma once

#include "heartbeat/disk_format.h"
#include "heartbeat/disk_io.h"

struct disk_region {
        struct disk_io *io;     /* owned */
        struct disk_super sb;
        struct disk_layout layout;
        unsigned timeout_ms;    /* deadline of each request */
};

/* Result of decoding one structure of a bulk read. */
struct disk_status {
        int error;              /* 0, -EBADMSG, -EPROTO */
        struct disk_error msg;
};

/* Writes a fresh region described by sb on io: every slot, mailbox, claim
 * block and both config copies first, the superblock last, so that an
 * interrupted format never leaves a region that looks valid. */
int disk_region_format(struct disk_io *io, const struct disk_super *sb, unsigned timeout_ms,
                       struct disk_error *err);

/* Reads and verifies the superblock; takes ownership of io on success.
 * Returns -EBADMSG/-EPROTO with err set when the superblock is not valid,
 * -ETIMEDOUT or another errno on I/O failure. */
int disk_region_attach(struct disk_io *io, unsigned timeout_ms, struct disk_region **ret,
                       struct disk_error *err);
void disk_region_free(struct disk_region *r);

/* Bulk reads. Arrays are indexed by host id and hold slot_count + 1 entries
 * (index 0 unused). The return value is 0 when the I/O worked, whatever the
 * structures held, or a negative errno when it did not. */
int disk_region_read_slots(struct disk_region *r, struct disk_slot *slots, struct disk_status *st);
int disk_region_read_mailboxes(struct disk_region *r, struct disk_mailbox *mbs, struct disk_status *st);
/* claim_blocks entries for one host. */
int disk_region_read_claims(struct disk_region *r, uint32_t host_id, struct disk_claims_block *cbs,
                            struct disk_status *st);

/* Every host's claim blocks in one request: slot_count * claim_blocks
 * entries, host h's block b at (h - 1) * claim_blocks + b. */
int disk_region_read_all_claims(struct disk_region *r, struct disk_claims_block *cbs, struct disk_status *st);

int disk_region_write_slot(struct disk_region *r, const struct disk_slot *slot);
int disk_region_write_mailbox(struct disk_region *r, const struct disk_mailbox *mb);
int disk_region_write_claims(struct disk_region *r, const struct disk_claims_block *cb);
/* This host's whole claim area (every one of its claim_blocks, n claims
 * in order, the rest empty) in one request, each block stamped gen.
 * -E2BIG when n claims do not fit. */
int disk_region_write_own_claims(struct disk_region *r, uint32_t host_id, const struct disk_claim *claims, size_t n,
                                 uint64_t gen);
/* Where that request writes: to tell its late end from another's. */
uint64_t disk_region_own_claims_offset(const struct disk_region *r, uint32_t host_id);

/* Reads config copy c (0 = A, 1 = B): its first block, then as many more as
 * its header says the payload spans (bounded by the copy), and verifies it
 * whole: the checksum first, then the compressed stream. A copy that fails
 * either is reported in st and never used. When it is valid, *raw holds the
 * inflated snapshot, hdr->raw_len bytes (malloc'd; NULL for an empty copy).
 * Returns 0 when the I/O worked, whatever the copy held. */
int disk_region_read_config_copy(struct disk_region *r, uint32_t c, struct disk_config_header *hdr,
                                 struct disk_status *st, void **raw);
/* Reads both config copies, each only as far as its header says its payload
 * goes, and verifies each on its own: checksum, then the compressed stream
 * (a stream that does not inflate to the length its header gives makes the
 * copy corrupt). st[0], st[1] and hdr[0], hdr[1] describe A and B.
 * *current is the copy to trust (-1 when neither is valid); when snapshot
 * is given, it receives a malloc'd copy of the current snapshot, inflated,
 * hdr[*current].raw_len bytes long. */
int disk_region_read_config(struct disk_region *r, struct disk_config_header hdr[2],
                            struct disk_status st[2], int *current, void **snapshot);
/* Writes a new generation into the copy that does not hold the newest valid
 * one: payload is len bytes of a zlib stream (disk_config_deflate) that
 * inflates to raw_len bytes, or nothing (both 0). The generation must be
 * higher than both copies'. Returns 0, -EFBIG when the payload does not fit
 * a copy, -ESTALE, or an I/O error. */
int disk_region_write_config(struct disk_region *r, uint64_t generation, const void *payload, uint32_t len,
                             uint32_t raw_len, uint64_t now_unix_ms);
/* The same for an uncompressed snapshot of len bytes: compresses it first
 * and says in *stored how many bytes that took (also on -EFBIG). */
int disk_region_write_snapshot(struct disk_region *r, uint64_t generation, const void *snapshot, size_t len,
                               uint64_t now_unix_ms, size_t *stored);
