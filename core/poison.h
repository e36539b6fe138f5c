/* Poison pills: telling a host that is alive on the disk but lost the
 * survival rule to fence itself, through its mailbox.
 *
 * Pure decisions on both ends. The sender (the master of the surviving
 * partition) picks ALIVE hosts that left its membership and whose slots
 * kept advancing after their departure settled: only one partition
 * survives, so such a host is on a losing side that has not stopped yet.
 * Crashed hosts (silent), fencing ones (FENCING) and joining ones (which
 * run no VM) get none. The receiver acts on
 * a FENCE newer than anything it saw when it started; an older one that it
 * never acknowledged is a cause of emergency mode, not a reason to fence a
 * freshly booted host again. Clears are sent once a fenced host is back in
 * the membership with a new incarnation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "core/survival.h"
#include "heartbeat/disk_format.h"

/* What the sender remembers per target. */
struct poison_sent {
        uint64_t seq;                   /* last command sequence sent, 0 when none */
        enum disk_mailbox_command command;
        uint64_t incarnation;           /* the target's incarnation it was aimed at */
};

enum poison_action {
        POISON_NONE,
        POISON_SEND_FENCE,
        POISON_SEND_CLEAR,
};

/* Sender side: what to write into peer p's mailbox now. self_member_master
 * says this host is the master of a surviving partition. */
enum poison_action poison_decide(const struct core_timing *t, const struct core_peer *p,
                                 const struct poison_sent *sent, const struct disk_mailbox *current,
                                 bool self_member_master, uint64_t now_ms);

/* Receiver side. */
enum poison_inbox {
        POISON_INBOX_NOTHING,           /* nothing to act on */
        POISON_INBOX_FENCE_NOW,         /* a FENCE sent to this incarnation: acknowledge and fence */
        POISON_INBOX_STALE_FENCE,       /* an unacknowledged FENCE from before this start */
};

/* seq_at_start: the mailbox sequence this daemon saw when it started;
 * acked_seq: the last sequence this host acknowledged in its slot. */
enum poison_inbox poison_inbox_check(const struct disk_mailbox *mb, uint64_t seq_at_start, uint64_t acked_seq);
