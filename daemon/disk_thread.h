/* The disk loop: one thread that writes this host's slot and reads every
 * slot and this host's mailbox once per disk interval.
 *
 * It never blocks the main loop: every I/O has a deadline (disk_io), and
 * results reach the main loop through an eventfd plus a snapshot taken
 * under a mutex. The main loop decides what the next slot says and feeds
 * the watchdog right after a write completed; a stalled thread therefore
 * stops the feeding, as the design requires.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/takeover.h"
#include "daemon/disk_latency.h"
#include "heartbeat/disk_region.h"

struct disk_thread;

/* What the main loop learns after each round. */
struct disk_round {
        uint64_t round;                 /* increases by one per completed round */
        bool write_ok;                  /* this round's slot write completed */
        uint64_t write_done_ms;         /* monotonic completion time */
        uint64_t written_seq;
        uint32_t written_flags;         /* the flags that write carried (DISK_SLOT_*) */
        uint32_t written_state;         /* and its state (DISK_SLOT_ALIVE, FENCING, ...) */
        bool read_ok;                   /* all slots read (each still verified on its own) */
        uint64_t read_done_ms;
        struct disk_slot *slots;        /* [slot_count + 1], valid where status[i].error == 0 */
        struct disk_status *status;
        bool mailbox_ok;
        struct disk_mailbox mailbox;    /* this host's */
        struct disk_mailbox *mailboxes; /* [slot_count + 1], every host's, valid where mb_status[i].error == 0 */
        struct disk_status *mb_status;
        int write_error, read_error;    /* 0 or -errno of the last failure */
        /* The last config snapshot write (a count of attempts, to notice a
         * new one): its generation, 0 or -errno (-EFBIG: it does not fit
         * a copy, and is not retried), and its size compressed. */
        uint64_t config_attempts;
        uint64_t config_gen;
        int config_error;
        uint64_t config_stored;
        uint64_t config_raw;
};

/* Allocates (and frees) a round's arrays for slot_count slots. */
int disk_round_init(struct disk_round *r, uint32_t slot_count);
void disk_round_free(struct disk_round *r);

/* Starts the thread on an attached region (owned by the thread from now
 * on). The first slot written says `initial`. The eventfd becomes readable
 * after each round. */
int disk_thread_start(struct disk_region *region, uint32_t self_id, uint32_t interval_ms,
                      const struct disk_slot *initial, struct disk_thread **ret);
/* Stops the thread; waits at most one I/O deadline for it. */
void disk_thread_stop(struct disk_thread *t);

int disk_thread_fd(const struct disk_thread *t);
/* Copies the latest round into out (whose four arrays the caller allocated
 * with slot_count + 1 entries) and drains the eventfd. */
void disk_thread_take(struct disk_thread *t, struct disk_round *out);
/* Sets what the next slot writes say (seq, incarnation and write time are
 * filled in by the thread). */
void disk_thread_set_slot(struct disk_thread *t, const struct disk_slot *s);
/* Queues a config snapshot (copied, uncompressed) to be compressed and
 * written to the disk's config region at the next round; a newer one
 * replaces one not yet written. A write that fails is tried again at the
 * next rounds, unless it does not fit a copy (-EFBIG) or is stale. */
int disk_thread_set_config(struct disk_thread *t, uint64_t generation, const void *payload, uint32_t len);
/* Queues a mailbox write (to another host's mailbox: a poison pill or a
 * clear) for the next round. At most one per target is kept: a newer one
 * replaces an older one not yet written. */
int disk_thread_send_mailbox(struct disk_thread *t, const struct disk_mailbox *mb);
/* Asks for a round now instead of at the next tick. */
void disk_thread_kick(struct disk_thread *t);
const struct disk_super *disk_thread_super(const struct disk_thread *t);
uint64_t disk_thread_incarnation(const struct disk_thread *t);
struct disk_region *disk_thread_region(struct disk_thread *t);

/* Claims. A write of this host's whole claim area, or a collect of every
 * host's, is served at once between rounds, on the thread; each result
 * comes back as an event, in order (the eventfd tells). A write that
 * outlasts its deadline is reported in_flight, and once more, `late`,
 * when it ended in the kernel (ok: it landed); until then no other claim
 * write is issued, and one asked for waits. */
#define DISK_CLAIMS_EVENTS 8
enum disk_claims_event_type { DISK_CLAIMS_WRITE = 1, DISK_CLAIMS_READ };
struct disk_claims_event {
        enum disk_claims_event_type type;
        bool ok;
        int error;                      /* 0 or -errno */
        bool in_flight, late;           /* WRITE */
        uint64_t done_ms;
        struct takeover_claim *claims;  /* READ: malloc'd, the taker frees it */
        size_t n_claims;
        uint32_t unknown[DISK_MAX_SLOTS];       /* READ: hosts with an undecodable block */
        size_t n_unknown;
};
/* Queues the write (copied; a newer one replaces one not yet issued).
 * -E2BIG when n claims do not fit this host's blocks. */
int disk_thread_write_claims(struct disk_thread *t, const struct disk_claim *claims, size_t n);
void disk_thread_read_claims(struct disk_thread *t);
/* The oldest claims event not taken yet: true and *out, or false. */
bool disk_thread_take_claims(struct disk_thread *t, struct disk_claims_event *out);
/* How long the I/O took, by kind, since the thread started: copied under
 * the thread's lock. */
void disk_thread_latency(struct disk_thread *t, struct disk_latency out[_DISK_OP_MAX]);
/* Counts an I/O done on another thread with disk_thread_region() (the
 * claims): us microseconds on CLOCK_MONOTONIC, failed when it returned an
 * error. Safe from any thread. */
void disk_thread_note_io(struct disk_thread *t, enum disk_op op, uint64_t us, bool failed);

uint64_t vmha_now_ms(void);
/* Wall-clock time in ms, for the times written to the disk. */
uint64_t vmha_unix_ms(void);
