/* Poison pill decisions (pure). */
#include "core/poison.h"

enum poison_action poison_decide(const struct core_timing *t, const struct core_peer *p,
                                 const struct poison_sent *sent, const struct disk_mailbox *current,
                                 bool self_member_master, uint64_t now_ms) {
        bool still_writing;

        if (!self_member_master || !p->slot_seen)
                return POISON_NONE;
        /* Still writing means: its slot advanced after it had left and its
         * departure had settled, and recently. A crashed host stops at
         * once, and one that fences itself says FENCING: neither needs a
         * pill. */
        still_writing = p->advanced_ms >= p->left_ms + t->settle_ms && now_ms >= p->advanced_ms &&
                        now_ms - p->advanced_ms <= 3ull * t->disk_interval_ms;
        /* ... and for a whole timeout since it started writing outside the
         * membership: a host that resumes from a short freeze first gets
         * the time its Corosync needs to merge it back, or to show it the
         * split so that it fences itself. */
        still_writing = still_writing && p->writing_since_ms >= p->left_ms &&
                        now_ms - p->writing_since_ms >= t->disk_timeout_ms;

        /* Back in the membership with a new incarnation after a pill:
         * clear the mailbox so the host is not held in emergency mode. */
        if (p->member) {
                if (current && current->command == DISK_MAILBOX_FENCE && p->state == DISK_SLOT_ALIVE &&
                    p->incarnation != sent->incarnation &&
                    !(sent->command == DISK_MAILBOX_CLEAR && sent->incarnation == p->incarnation))
                        return POISON_SEND_CLEAR;
                return POISON_NONE;
        }
        /* Outside the surviving membership, settled out, still writing, and
         * running as a member of some partition: a joining host runs no VM
         * and is never told to fence. */
        if (!still_writing || p->state != DISK_SLOT_ALIVE)
                return POISON_NONE;
        if (now_ms < p->left_ms || now_ms - p->left_ms < t->settle_ms)
                return POISON_NONE;
        if (sent->command == DISK_MAILBOX_FENCE && sent->incarnation == p->incarnation)
                return POISON_NONE;     /* already sent to this incarnation */
        return POISON_SEND_FENCE;
}

enum poison_inbox poison_inbox_check(const struct disk_mailbox *mb, uint64_t seq_at_start, uint64_t acked_seq) {
        if (mb->command != DISK_MAILBOX_FENCE || mb->seq <= acked_seq)
                return POISON_INBOX_NOTHING;
        if (mb->seq > seq_at_start)
                return POISON_INBOX_FENCE_NOW;
        return POISON_INBOX_STALE_FENCE;
}
