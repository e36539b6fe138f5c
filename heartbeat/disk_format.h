/* The heartbeat region's on-disk format: a pure codec, no I/O.
 *
 * The region sits at the start of a shared LUN. Every structure begins on
 * a 4 KiB boundary, carries a magic, the layout version, the cluster UUID
 * and a zlib CRC-32 over its bytes, and is written as one aligned write:
 *
 *   block 0                     superblock
 *   blocks 1 .. S               one slot per host id (written by that host)
 *   blocks S+1 .. 2S            one mailbox per host id (written by the master)
 *   2 config copies, A and B    the HA configuration snapshot, compressed,
 *                               double-buffered
 *   S x K claim blocks          each host's ownership claims, K blocks per host
 *
 * Host ids run from 1 to S; slot and mailbox i belong to host i.
 *
 * Fields on disk are fixed-width little-endian. The raw structs below exist
 * only to pin the layout down (their sizes are checked at compile time); the
 * codec encodes and decodes field by field into the native structs, and
 * never trusts a structure whose magic, version, UUID, checksum or ranges
 * are wrong. A decode error says exactly what is wrong, for example
 * "slot 3: checksum mismatch".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_BLOCK_SIZE         4096u
/* Version 2: config copies hold the snapshot compressed (DISK_CONFIG_DEFLATE)
 * and say its uncompressed length. A region of any other version is refused,
 * never read as this one. */
#define DISK_LAYOUT_VERSION     2u
#define DISK_MAX_SLOTS          255u
#define DISK_DEFAULT_SLOTS      64u
#define DISK_CLUSTER_NAME_MAX   64u     /* including the terminating NUL */
#define DISK_REASON_MAX         192u    /* including the terminating NUL */
#define DISK_UUID_SIZE          16u
#define DISK_VIEW_BYTES         32u     /* a bit per host id 0..255 */
#define DISK_DEFAULT_TIMEOUT_MS 5000u
#define DISK_MIN_TIMEOUT_MS     2000u
#define DISK_MAX_TIMEOUT_MS     600000u
#define DISK_DEFAULT_CLAIM_BLOCKS  4u   /* per host: 4 x 253 = 1012 claims */
#define DISK_MAX_CLAIM_BLOCKS      64u
/* Per copy: the largest HA configuration vmhad accepts (HASTATE_MAX_VMS VMs,
 * every name and config path at its longest) takes 1,437,760 bytes as a
 * snapshot; compressed, it is at most compressBound() of that, 1,438,211
 * bytes, plus the 64-byte header: 352 blocks (1.38 MiB). test_hastate_disk
 * checks this figure against hastate_disk_blocks_for(HASTATE_MAX_VMS). */
#define DISK_DEFAULT_CONFIG_BLOCKS 352u
#define DISK_MAX_CONFIG_BLOCKS     1024u
/* A snapshot inflates to at most this many bytes; a header that says more
 * is corrupt. */
#define DISK_CONFIG_RAW_MAX        (16u << 20)
#define DISK_CLAIMS_PER_BLOCK      253u
#define DISK_ERROR_MAX          160u

#define DISK_MAGIC_SUPER   0x42534d56u  /* "VMSB" */
#define DISK_MAGIC_SLOT    0x4c534d56u  /* "VMSL" */
#define DISK_MAGIC_MAILBOX 0x424d4d56u  /* "VMMB" */
#define DISK_MAGIC_CONFIG  0x46434d56u  /* "VMCF" */
#define DISK_MAGIC_CLAIMS  0x4c434d56u  /* "VMCL" */

typedef uint16_t le16_t;
typedef uint32_t le32_t;
typedef uint64_t le64_t;

/* ---- raw on-disk layout (little-endian) ---- */

struct disk_raw_header {
        le32_t magic;
        le16_t version;
        le16_t reserved;
        le32_t crc32;           /* over the structure, this field zeroed */
        le32_t index;           /* slot/mailbox host id, config copy, claim host */
        uint8_t uuid[DISK_UUID_SIZE];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_header) == 32, "header layout");

struct disk_raw_super {
        struct disk_raw_header hdr;
        char cluster_name[DISK_CLUSTER_NAME_MAX];
        le32_t slot_count;
        le32_t timeout_ms;
        le64_t created_unix;
        le32_t block_size;
        le32_t claim_blocks;    /* per host */
        le32_t config_blocks;   /* per copy */
        le32_t region_blocks;   /* total, superblock included */
        uint8_t pad[DISK_BLOCK_SIZE - 32 - DISK_CLUSTER_NAME_MAX - 32];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_super) == DISK_BLOCK_SIZE, "superblock layout");

struct disk_raw_slot {
        struct disk_raw_header hdr;
        le32_t host_id;
        le32_t state;
        le64_t incarnation;
        le64_t seq;
        le64_t ring_id;
        uint8_t view[DISK_VIEW_BYTES];
        le32_t flags;
        le32_t watchdog_timeout_ms;
        le64_t mailbox_ack_seq;
        le64_t claims_gen;
        le64_t write_unix_ms;
        le64_t fence_unix_ms;
        char reason[DISK_REASON_MAX];
        uint8_t pad[DISK_BLOCK_SIZE - 32 - 72 - DISK_VIEW_BYTES - DISK_REASON_MAX];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_slot) == DISK_BLOCK_SIZE, "slot layout");

struct disk_raw_mailbox {
        struct disk_raw_header hdr;
        le32_t command;
        le32_t sender;
        le64_t seq;
        le64_t sent_unix_ms;
        char reason[DISK_REASON_MAX];
        uint8_t pad[DISK_BLOCK_SIZE - 32 - 24 - DISK_REASON_MAX];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_mailbox) == DISK_BLOCK_SIZE, "mailbox layout");

struct disk_raw_claim {
        le64_t vm_id;
        le64_t claim_seq;
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_claim) == 16, "claim layout");

struct disk_raw_claims {
        struct disk_raw_header hdr;
        le32_t block_no;
        le32_t count;
        le64_t gen;
        struct disk_raw_claim claims[DISK_CLAIMS_PER_BLOCK];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_claims) == DISK_BLOCK_SIZE, "claims layout");

/* A config copy is a header followed by a payload: the daemon's serialized
 * HA configuration, compressed with zlib (compress2) when flags say
 * DISK_CONFIG_DEFLATE. payload_len counts the bytes stored after the header,
 * raw_len what they inflate to. The checksum covers the header and exactly
 * payload_len bytes, and is checked before anything is inflated. The copy
 * spans config_blocks blocks; a write covers only the blocks its header and
 * payload need, and the bytes after them mean nothing. */
struct disk_raw_config {
        struct disk_raw_header hdr;
        le64_t generation;
        le32_t payload_len;     /* stored bytes; where version 1 kept it */
        le32_t flags;           /* DISK_CONFIG_*; version 1 kept a zero here */
        le64_t written_unix_ms;
        le32_t raw_len;         /* the payload's length once inflated */
        uint8_t pad[64 - 32 - 28];
} __attribute__((packed));
_Static_assert(sizeof(struct disk_raw_config) == 64, "config header layout");

/* ---- native, decoded forms ---- */

enum disk_config_flags {
        DISK_CONFIG_DEFLATE = 1u << 0,  /* the payload is a zlib stream */
        _DISK_CONFIG_FLAGS_ALL = (1u << 1) - 1,
};

enum disk_slot_state {
        DISK_SLOT_EMPTY   = 0,  /* never used by a host */
        DISK_SLOT_JOINING = 1,
        DISK_SLOT_ALIVE   = 2,
        DISK_SLOT_FENCING = 3,
        DISK_SLOT_LEFT    = 4,
        _DISK_SLOT_STATE_MAX,
};

enum disk_slot_flags {
        DISK_SLOT_QUORATE     = 1u << 0,  /* writer's partition has quorum */
        DISK_SLOT_TIEBREAK_OK = 1u << 1,  /* writer reaches its tiebreak target */
        DISK_SLOT_DISK_OK     = 1u << 2,  /* writer's last read of all slots worked */
        DISK_SLOT_YIELDS      = 1u << 3,  /* writer's slot stood still: it yields under rule 2 */
        _DISK_SLOT_FLAGS_ALL  = (1u << 4) - 1,
};

enum disk_mailbox_command {
        DISK_MAILBOX_NONE  = 0,
        DISK_MAILBOX_FENCE = 1,
        DISK_MAILBOX_CLEAR = 2,
        _DISK_MAILBOX_COMMAND_MAX,
};

struct disk_super {
        uint8_t uuid[DISK_UUID_SIZE];
        char cluster_name[DISK_CLUSTER_NAME_MAX];
        uint32_t slot_count;
        uint32_t timeout_ms;
        uint64_t created_unix;
        uint32_t claim_blocks;
        uint32_t config_blocks;
        uint32_t region_blocks;
};

struct disk_slot {
        uint32_t host_id;
        enum disk_slot_state state;
        uint64_t incarnation;
        uint64_t seq;
        uint64_t ring_id;
        uint8_t view[DISK_VIEW_BYTES];
        uint32_t flags;
        uint32_t watchdog_timeout_ms;
        uint64_t mailbox_ack_seq;
        uint64_t claims_gen;
        uint64_t write_unix_ms;
        uint64_t fence_unix_ms;
        char reason[DISK_REASON_MAX];
};

struct disk_mailbox {
        uint32_t host_id;
        enum disk_mailbox_command command;
        uint32_t sender;
        uint64_t seq;
        uint64_t sent_unix_ms;
        char reason[DISK_REASON_MAX];
};

struct disk_claim {
        uint64_t vm_id;
        uint64_t claim_seq;
};

struct disk_claims_block {
        uint32_t host_id;
        uint32_t block_no;
        uint32_t count;
        uint64_t gen;
        struct disk_claim claims[DISK_CLAIMS_PER_BLOCK];
};

/* A copy with a payload is always compressed (flags DISK_CONFIG_DEFLATE,
 * raw_len > 0); an empty one has flags, payload_len and raw_len all 0. */
struct disk_config_header {
        uint32_t copy;          /* 0 = A, 1 = B */
        uint64_t generation;
        uint32_t flags;         /* enum disk_config_flags */
        uint32_t payload_len;   /* bytes stored after the header */
        uint32_t raw_len;       /* bytes the payload inflates to */
        uint64_t written_unix_ms;
};

/* Where each structure lives, derived from a superblock. Offsets in bytes. */
struct disk_layout {
        uint32_t slot_count;
        uint32_t claim_blocks;
        uint32_t config_blocks;
        uint32_t region_blocks;
        uint64_t region_bytes;
};

/* An error message from a decoder: "slot 3: checksum mismatch". */
struct disk_error {
        char msg[DISK_ERROR_MAX];
};

/* Layout arithmetic. disk_layout_init() checks the ranges and returns
 * -EINVAL (with a message) when they are out of bounds. */
int disk_layout_init(struct disk_layout *l, uint32_t slot_count, uint32_t claim_blocks,
                     uint32_t config_blocks, struct disk_error *err);
uint64_t disk_layout_super_offset(void);
uint64_t disk_layout_slot_offset(const struct disk_layout *l, uint32_t host_id);
uint64_t disk_layout_mailbox_offset(const struct disk_layout *l, uint32_t host_id);
uint64_t disk_layout_config_offset(const struct disk_layout *l, uint32_t copy);
uint64_t disk_layout_config_bytes(const struct disk_layout *l);
uint32_t disk_layout_config_payload_max(const struct disk_layout *l);
/* Bytes of a copy that a header with payload_len bytes after it spans,
 * rounded up to whole blocks: what a write covers and a read fetches. */
uint64_t disk_layout_config_span(uint32_t payload_len);
uint64_t disk_layout_claims_offset(const struct disk_layout *l, uint32_t host_id, uint32_t block_no);
void disk_layout_from_super(struct disk_layout *l, const struct disk_super *sb);

/* Encoders fill a DISK_BLOCK_SIZE buffer (config: buf_len bytes, at least
 * the header and payload, at most disk_layout_config_bytes) completely,
 * checksum included. They return 0 or -EINVAL for values that
 * cannot be represented. */
int disk_super_encode(const struct disk_super *sb, void *block);
int disk_slot_encode(const struct disk_super *sb, const struct disk_slot *slot, void *block);
int disk_mailbox_encode(const struct disk_super *sb, const struct disk_mailbox *mb, void *block);
int disk_claims_encode(const struct disk_super *sb, const struct disk_claims_block *cb, void *block);
int disk_config_encode(const struct disk_super *sb, const struct disk_config_header *ch,
                       const void *payload, void *buf, size_t buf_len);

/* Decoders verify magic, version, checksum, cluster UUID (where a superblock
 * is given) and every range. On error they return -EBADMSG (corrupt) or
 * -EPROTO (a valid structure of another version or cluster) and describe it
 * in err. The superblock decoder takes the block size it was read with. */
int disk_super_decode(const void *block, size_t len, struct disk_super *sb, struct disk_error *err);
int disk_slot_decode(const struct disk_super *sb, uint32_t host_id, const void *block,
                     struct disk_slot *slot, struct disk_error *err);
int disk_mailbox_decode(const struct disk_super *sb, uint32_t host_id, const void *block,
                        struct disk_mailbox *mb, struct disk_error *err);
int disk_claims_decode(const struct disk_super *sb, uint32_t host_id, uint32_t block_no,
                       const void *block, struct disk_claims_block *cb, struct disk_error *err);
/* Decodes a config copy of buf_len bytes; *payload points into buf. */
int disk_config_decode(const struct disk_super *sb, uint32_t copy, const void *buf, size_t buf_len,
                       struct disk_config_header *ch, const void **payload, struct disk_error *err);

/* Sizing a config copy. The most bytes a snapshot of raw_len bytes can take
 * in a copy, header included, whatever it compresses to (compressBound), and
 * the blocks per copy that therefore always hold it; 0 when raw_len is
 * beyond DISK_CONFIG_RAW_MAX or needs more than DISK_MAX_CONFIG_BLOCKS. */
uint64_t disk_config_bytes_max(uint64_t raw_len);
uint32_t disk_config_blocks_for(uint64_t raw_len);
/* Compresses raw_len bytes of a snapshot into out, which has room for
 * out_cap bytes (compressBound(raw_len) always suffices); *out_len is what
 * it took. Returns 0, -ENOSPC when out_cap is too small, -EINVAL for an
 * empty or oversized snapshot. Pure: no allocation. */
int disk_config_deflate(const void *raw, size_t raw_len, void *out, size_t out_cap, size_t *out_len);
/* Inflates the payload of a copy decoded into ch into raw, which holds
 * ch->raw_len bytes. A stream that is not zlib, is truncated, has bytes
 * after its end or inflates to another length than raw_len is corrupt:
 * -EBADMSG with the reason in err ("config B: ..."). */
int disk_config_inflate(const struct disk_config_header *ch, const void *payload, void *raw,
                        struct disk_error *err);

/* Of two config copies, which one to trust: the valid one with the higher
 * generation. Returns the copy index, or -ENOENT when neither is valid. */
int disk_config_pick(int a_valid, const struct disk_config_header *a,
                     int b_valid, const struct disk_config_header *b);
/* Which copy to overwrite next: never the newest valid one. */
uint32_t disk_config_next_copy(int a_valid, const struct disk_config_header *a,
                               int b_valid, const struct disk_config_header *b);

const char *disk_slot_state_name(enum disk_slot_state s);
const char *disk_mailbox_command_name(enum disk_mailbox_command c);

static inline bool disk_view_test(const uint8_t view[DISK_VIEW_BYTES], unsigned id) {
        return id < 8 * DISK_VIEW_BYTES && (view[id / 8] >> (id % 8)) & 1;
}
static inline void disk_view_set(uint8_t view[DISK_VIEW_BYTES], unsigned id) {
        if (id < 8 * DISK_VIEW_BYTES)
                view[id / 8] |= (uint8_t)(1u << (id % 8));
}

/* UUID text form, 36 characters plus NUL. */
void disk_uuid_format(const uint8_t uuid[DISK_UUID_SIZE], char out[37]);
