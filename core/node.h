/* The node engine: one host's whole brain, events in, actions out.
 *
 * vmhad and the scenario simulator drive this same code. The shell gathers
 * events (Corosync membership and quorum, CPG messages, the disk thread's
 * completions, ticks, the tiebreak probe, emergency causes it detects) and
 * hands each to node_handle() with the current monotonic time; the engine
 * decides and queues actions (write this slot, feed the watchdog before a
 * deadline, fence, send a CPG message, write a mailbox or a claim, start a
 * VM, log a decision) that the shell carries out in order. The engine
 * reads no clock and does no I/O, so a simulated shell with simulated
 * delays and faults tests exactly what runs in production.
 *
 * What the engine promises (DESIGN.md, "Rules the shell must keep"):
 *   - It asks for a feed only right after a slot write it has been told
 *     completed, or under rule 4 on fresh acknowledgements, and every feed
 *     carries a deadline: the shell must not feed after it. A write whose
 *     completion reaches the engine late (a stalled loop) feeds nothing.
 *   - FENCE is latched here and nowhere else: once FENCE, no feed, no
 *     acknowledgement, no takeover, ever, for this incarnation.
 *   - A slot, mailbox or claim block that could not be decoded is unknown,
 *     never silent (see node_disk_read).
 *   - A host in emergency mode is never master, starts no protected VM and
 *     publishes "not armed" (watchdog timeout 0) in its slot; peers never
 *     take over from a host whose slot says so.
 *
 * The shell must carry out every action of one call before the next call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "core/hastate.h"
#include "core/survival.h"
#include "core/takeover.h"
#include "fence/emergency.h"
#include "heartbeat/disk_format.h"

#define NODE_TEXT_MAX 512u
#define NODE_MAX_CLAIMS 4096u
#define NODE_NAME_MAX 64u

struct node;

struct node_config {
        uint32_t self_id;
        const uint32_t *hosts;          /* every configured host id, self included */
        const char *const *host_names;  /* parallel to hosts, for log lines; NULL: "host N" */
        size_t n_hosts;
        uint32_t timeout_ms;            /* the pool's timeout (from the superblock) */
        uint64_t vm_memory_mib;         /* what this host offers VMs; 0: unknown */
        bool vms;                       /* the shell has a VM driver: take over and start VMs */
        uint64_t config_capacity;       /* bytes of a config copy on the disk; 0: not known, not checked */
        /* Where this incarnation numbers its CPG messages from (random per
         * start, low 32 bits clear): a peer that still echoes a message of
         * the previous incarnation never dates an acknowledgement by one of
         * this incarnation's messages. 0 in tests that do not care. */
        uint64_t msg_seq_base;
        struct core_unsafe_knobs unsafe;/* tests only */
};

/* One structure of a disk read: decoded, or unknown with the reason. */
enum node_block {
        NODE_BLOCK_OK = 0,
        NODE_BLOCK_UNREADABLE,          /* checksum, torn, garbage: unknown */
        NODE_BLOCK_FOREIGN,             /* a newer layout or another cluster: unknown, and emergency */
};

struct node_slot_read {
        enum node_block status;
        struct disk_slot slot;          /* valid when status is OK */
        char why[96];                   /* when not OK */
};

struct node_mailbox_read {
        enum node_block status;
        struct disk_mailbox mb;
};

/* A disk round: every slot and every mailbox, as the disk thread read them.
 * Arrays are indexed by host id, [0] unused, up to max_id. */
struct node_disk_read {
        bool ok;                        /* the I/O itself worked */
        uint64_t done_ms;               /* when it completed (or failed, or passed its deadline) */
        uint32_t max_id;
        const struct node_slot_read *slots;
        const struct node_mailbox_read *mailboxes;
};

/* A collect of every host's claim block. */
/* The end of a write of this host's claim block. A write that the
 * deadline gave up on is still in the kernel and may land later:
 * `in_flight` says so, and the shell reports its end once more, with
 * `late` (ok: it landed). Until then the engine issues no other write to
 * its block: Linux, dm-multipath and iSCSI do not order two outstanding
 * writes to one block, and an older copy landing last would bring back a
 * superseded block. */
struct node_claims_written {
        bool ok;
        bool in_flight;                 /* !ok: timed out, may still land */
        bool late;                      /* the end of a write reported in_flight */
        uint64_t done_ms;
};

struct node_claims_read {
        bool ok;
        uint64_t done_ms;
        const struct takeover_claim *claims;
        size_t n_claims;
        const uint32_t *unknown_hosts;  /* hosts whose claim block could not be decoded */
        size_t n_unknown;
};

enum node_event_type {
        NODE_EV_MEMBERSHIP = 1,         /* Corosync configuration change */
        NODE_EV_QUORUM,                 /* votequorum's word */
        NODE_EV_COROSYNC_LOST,          /* the connection to corosync is gone */
        NODE_EV_MESSAGE,                /* a CPG message, in agreed order */
        NODE_EV_SLOT_WRITTEN,           /* this host's slot write completed, failed or timed out */
        NODE_EV_DISK_READ,              /* a read of every slot and mailbox */
        NODE_EV_CLAIMS_WRITTEN,         /* this host's claim block write */
        NODE_EV_CLAIMS_READ,            /* a collect of every claim block */
        NODE_EV_TICK,                   /* twice per disk interval */
        NODE_EV_TIEBREAK_REPLY,         /* the tiebreak target answered at `at_ms` */
        NODE_EV_EMERGENCY,              /* a cause the shell detects starts or ends */
        NODE_EV_WATCHDOG,               /* the result of NODE_ACT_ARM_WATCHDOG */
        NODE_EV_CLOCK,                  /* CLOCK_BOOTTIME moved ahead of CLOCK_MONOTONIC */
        NODE_EV_VMS_RUNNING,            /* the driver's report: the protected VMs running here */
};

struct node_event {
        enum node_event_type type;
        union {
                struct {
                        struct core_view members;
                        uint64_t ring_id;
                        struct core_view joined;
                } membership;
                struct { bool quorate; } quorum;
                struct {
                        uint32_t from;
                        const uint8_t *data;
                        size_t len;
                } message;
                struct {
                        bool ok;
                        uint64_t seq;
                        uint64_t done_ms;
                        struct disk_slot written;       /* what was written */
                } slot_written;
                struct node_disk_read disk;
                struct node_claims_written claims_written;
                struct node_claims_read claims;
                struct { uint64_t at_ms; } tiebreak;
                struct {
                        enum emergency_cause cause;
                        bool on;
                        char detail[NODE_TEXT_MAX];
                } emergency;
                struct { bool armed; char detail[NODE_TEXT_MAX]; } watchdog;
                struct { uint64_t jump_ms; } clock;
                struct { const uint64_t *ids; size_t count; } vms;
        } u;
};

enum node_action_type {
        NODE_ACT_LOG = 1,               /* level (syslog), text */
        NODE_ACT_WRITE_SLOT,            /* what the next slot writes say */
        NODE_ACT_ARM_WATCHDOG,          /* open and arm; answer with NODE_EV_WATCHDOG */
        NODE_ACT_FEED,                  /* feed now, but never after deadline_ms */
        NODE_ACT_FENCE,                 /* reboot once the FENCING write is done or fence_by_ms passed */
        NODE_ACT_SEND,                  /* a CPG message: data, len */
        NODE_ACT_WRITE_MAILBOX,         /* another host's mailbox */
        NODE_ACT_WRITE_CLAIMS,          /* this host's whole claim block: claims, n_claims */
        NODE_ACT_READ_CLAIMS,           /* collect every claim block */
        NODE_ACT_START_VM,              /* vm_id: the claim for it is confirmed */
        NODE_ACT_WRITE_CONFIG,          /* the HA state snapshot: generation, data, len */
        NODE_ACT_CHANGE_DONE,           /* a change this host sent (seq) was applied (result 0) or not */
        NODE_ACT_EMERGENCY,             /* cause starts (on) or ends: show the banner */
        NODE_ACT_TAKEOVER,              /* decided: vm_id is claimed away from host `from` (for tests) */
        NODE_ACT_STOP_VM,               /* vm_id runs here and its requested state is stopped */
};

struct node_action {
        enum node_action_type type;
        int level;
        char text[NODE_TEXT_MAX];
        struct disk_slot slot;
        struct disk_mailbox mailbox;
        uint64_t deadline_ms;
        uint64_t vm_id;
        uint32_t from;
        uint64_t seq;
        uint64_t generation;
        int result;
        enum emergency_cause cause;
        bool on;
        const uint8_t *data;            /* owned by the engine until the next node_handle() */
        size_t len;
        const struct disk_claim *claims;/* likewise */
        size_t n_claims;
};

/* Creates the engine at now_ms. state is the HA state to begin with (the
 * disk's config snapshot at a cold start); the engine takes it. */
int node_new(const struct node_config *cfg, struct hastate *state, uint64_t now_ms, struct node **ret);
void node_free(struct node *n);

/* Handles one event at now_ms. Each call (this one, node_send_change and
 * node_fence_by_hand) starts a new queue of actions. */
void node_handle(struct node *n, const struct node_event *ev, uint64_t now_ms);

/* The actions queued by the last node_handle(), in the order to carry them out. */
const struct node_action *node_actions(const struct node *n, size_t *count);

/* Read-only views for status reports and tests. */
const struct survival_inputs *node_inputs(const struct node *n);
const struct survival_verdict *node_verdict(const struct node *n);   /* NULL before the first */
const struct hastate *node_state(const struct node *n);
const struct core_timing *node_timing(const struct node *n);
/* Corosync's token as it really runs (0: keep the token the engine has,
 * timeout/5 until a first call says otherwise). The engine counts
 * a gap in the events against it, and a confirmation after one against four
 * of it. */
void node_set_token(struct node *n, uint32_t token_ms);
uint32_t node_master(const struct node *n);     /* 0 when this host knows none */
/* Whether this host may decide a takeover now: SURVIVE on a disk read of
 * this disk interval. A master without one decides again on its next read
 * before it plans anything. */
bool node_acts_on_disk(const struct node *n, uint64_t now_ms);
/* The configured name of host id ("host N" when none was given). */
const char *node_host_name(const struct node *n, uint32_t id, char buf[NODE_NAME_MAX]);
bool node_fencing(const struct node *n);
bool node_joining(const struct node *n);
bool node_armed(const struct node *n);
bool node_in_emergency(const struct node *n);
bool node_emergency_cause(const struct node *n, enum emergency_cause c, const char **detail);
/* What host id last announced in its acknowledgements. */
bool node_peer_emergency(const struct node *n, uint32_t id);
uint64_t node_peer_memory_mib(const struct node *n, uint32_t id);
uint64_t node_peer_joined_ms(const struct node *n, uint32_t id);
/* The latest disk round's mailbox of host id (NULL when unknown). */
const struct disk_mailbox *node_mailbox(const struct node *n, uint32_t id);
bool node_disk_read_ok(const struct node *n);

/* Checks an administrator's change before it is sent: it must apply to the
 * current state, and a VM it adds or changes must leave a configuration
 * that fits a config copy on the disk (core/hastate_disk.h). Returns 0,
 * -EINVAL (invalid), -EFBIG (would not fit) or -ENOMEM, with the reason in
 * why. Changes nothing. */
int node_check_change(const struct node *n, const struct hastate_msg *m, char *why, size_t why_len);
/* Queues a CPG message of this host (a replicated change from the control
 * socket): returns the message sequence to match NODE_ACT_CHANGE_DONE, or
 * 0 when it cannot be sent (no corosync). */
uint64_t node_send_change(struct node *n, const struct hastate_msg *m);
/* Queues a poison pill by hand to target (haadm host fence). 0, or -EPERM
 * with the reason in why. */
int node_fence_by_hand(struct node *n, uint32_t target, const char *by, char *why, size_t why_len);
