/* The node engine's private state, shared by its files:
 *   node.c          events, the survival verdict, feeding, fencing, acks
 *   node_msg.c      CPG messages: acknowledgements, HA state changes, snapshots
 *   node_mailbox.c  this host's mailbox and the master's poison pills
 *   node_vm.c       claims and takeover: which VM starts here, and when
 */
#pragma once

#include "core/node.h"
#include "core/poison.h"
#include "core/wire.h"

#define NODE_SENT_RING 64u      /* own messages remembered for echoed acknowledgements */
#define NODE_MAX_PENDING 64u    /* claims written and not yet confirmed */
#define NODE_MAX_BACKOFF 256u   /* VMs whose starts here are remembered for the back-off */
#define NODE_RESTART_BACKOFF_MIN_MS 1000u
#define NODE_RESTART_BACKOFF_MAX_MS 60000u
#define NODE_RESTART_WINDOW_MS (10u * 60u * 1000u)

enum node_claims_phase {
        NODE_CLAIMS_IDLE,       /* nothing written and unconfirmed */
        NODE_CLAIMS_WRITING,    /* a write of this host's block is outstanding */
        NODE_CLAIMS_CONFIRMING, /* written: re-reading every block */
};

struct node_pending_claim {
        uint64_t vm_id;
        uint64_t seq;
};

/* The starts of one VM on this host: a restart in place waits out a
 * back-off that doubles with each start in the window. */
struct node_backoff {
        uint64_t vm_id;
        unsigned starts;                /* in the window */
        uint64_t last_ms;               /* the last start */
        uint64_t next_ms;               /* no restart in place before */
        bool hold_logged;
};

struct node_vms {
        /* The last accepted collect (two passes that agreed). */
        bool collect_valid;
        uint64_t collect_ms;
        struct takeover_claim *claims;
        size_t n_claims;
        bool blocked;                   /* a claim block was unreadable in it */
        char blocked_why[128];
        /* The first pass of a collect in progress. */
        bool first_valid;
        struct takeover_claim *first;
        size_t n_first;
        uint32_t first_unknown;         /* hosts unknown in the first pass */
        bool read_outstanding;
        uint64_t read_asked_ms;
        unsigned read_tries;

        /* This host's block, as last written (or as read at start). */
        bool own_known;
        struct disk_claim own[NODE_MAX_CLAIMS];
        size_t n_own;
        enum node_claims_phase phase;
        uint64_t written_ms;
        bool write_in_flight;           /* the write outlasted its deadline: it may still land */
        struct node_pending_claim pending[NODE_MAX_PENDING];
        size_t n_pending;

        /* What the driver runs here. */
        uint64_t *running;
        size_t n_running, cap_running;
        struct node_backoff backoff[NODE_MAX_BACKOFF];
        size_t n_backoff;
        uint64_t wait_logged[64];       /* vm ids whose WAIT was logged (small cache) */
        size_t n_wait_logged;
        bool ha_off_logged;             /* "HA is disabled" said since it was */
        struct { uint64_t vm_id, asked_ms; } stop_asked[64];   /* stops asked, not yet seen done */
        size_t n_stop_asked;
};

struct node {
        struct node_config cfg;
        uint32_t hosts[CORE_MAX_HOST_ID];
        char names[CORE_MAX_HOST_ID + 1][NODE_NAME_MAX];        /* by id; empty: none given */
        struct core_timing timing;
        struct core_peer peers[CORE_MAX_HOST_ID];
        size_t n_peers;
        struct survival_inputs in;
        struct survival_verdict verdict;
        bool have_verdict;
        bool fencing;
        uint32_t master;
        uint64_t started_ms;
        uint64_t last_event_ms;         /* when node_handle() last ran */
        bool got_membership, got_round;
        bool vq_quorate;

        /* Watchdog and emergency mode. */
        bool armed, arm_requested;
        bool emergency[_EMERGENCY_CAUSE_MAX];
        char emergency_detail[_EMERGENCY_CAUSE_MAX][NODE_TEXT_MAX];

        /* The tiebreak probe's last answer. */
        bool tb_replied;
        uint64_t tb_last_ms;

        /* The slot this host publishes, as last queued. */
        bool slot_queued;
        struct disk_slot slot;
        bool last_read_ok;

        /* CPG. */
        uint64_t msg_seq;
        uint64_t sent_seq[NODE_SENT_RING], sent_ms[NODE_SENT_RING];
        uint64_t rx_seq[CORE_MAX_HOST_ID + 1];
        uint64_t memory_mib[CORE_MAX_HOST_ID + 1];
        uint64_t joined_ms[CORE_MAX_HOST_ID + 1];
        bool peer_emergency[CORE_MAX_HOST_ID + 1];
        struct hastate *state;
        uint32_t state_source;

        /* Mailboxes. */
        bool mailbox_known;
        uint64_t mailbox_seq_at_start, acked_seq;
        struct poison_sent sent[CORE_MAX_HOST_ID + 1];
        struct disk_mailbox mailboxes[CORE_MAX_HOST_ID + 1];
        bool mailbox_ok[CORE_MAX_HOST_ID + 1];

        struct node_vms vm;

        /* The action queue, and the buffers its actions point into. */
        struct node_action *acts;
        size_t n_acts, cap_acts;
        void **owned;
        size_t n_owned, cap_owned;
};

/* node.c */
struct node_action *node_push(struct node *n, enum node_action_type type);
void *node_own(struct node *n, size_t len);
void node_log(struct node *n, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void node_emergency_set(struct node *n, enum emergency_cause c, bool on, const char *detail);
void node_self_fence(struct node *n, const char *reason, uint64_t now_ms);
void node_decide(struct node *n, uint64_t now_ms);
bool node_is_master(const struct node *n);

/* node_msg.c */
int node_send_wire(struct node *n, enum wire_type type, const uint8_t *payload, size_t len, uint64_t now_ms,
                   uint64_t *seq);
void node_send_ack(struct node *n, uint64_t now_ms);
void node_send_snapshot(struct node *n, uint64_t now_ms);
void node_on_message(struct node *n, uint32_t from, const uint8_t *data, size_t len, uint64_t now_ms);
void node_persist_state(struct node *n);

/* node_mailbox.c */
/* own_slot_ack: the mailbox acknowledgement in this host's slot as just
 * read (what a previous incarnation acknowledged), 0 when unknown. */
void node_handle_mailboxes(struct node *n, uint64_t now_ms, uint64_t own_slot_ack);

/* node_vm.c */
int node_vm_init(struct node *n);
void node_vm_free(struct node *n);
void node_vm_on_disk_read(struct node *n, uint64_t now_ms);
void node_vm_on_claims_written(struct node *n, const struct node_claims_written *w, uint64_t now_ms);
void node_vm_on_claims_read(struct node *n, const struct node_claims_read *r, uint64_t now_ms);
void node_vm_set_running(struct node *n, const uint64_t *ids, size_t count);
/* After the driver's report: stop what runs here and should not. */
void node_vm_check_stops(struct node *n, uint64_t now_ms);
