/* The node engine's mailboxes: this host's inbox, and the master's poison
 * pills and clears (core/poison.h decides; this file keeps the sequence
 * numbers and queues the writes). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/node_internal.h"

static void inbox(struct node *n, uint64_t now_ms, uint64_t own_slot_ack) {
        const struct disk_mailbox *mine = &n->mailboxes[n->cfg.self_id];
        char reason[DISK_REASON_MAX + 64], name[NODE_NAME_MAX];

        if (!n->mailbox_ok[n->cfg.self_id])
                return;
        if (!n->mailbox_known) {
                /* What the previous incarnation acknowledged is in our slot. */
                if (own_slot_ack > n->acked_seq)
                        n->acked_seq = own_slot_ack;
                n->mailbox_seq_at_start = mine->seq;
                n->mailbox_known = true;
        }
        switch (poison_inbox_check(mine, n->mailbox_seq_at_start, n->acked_seq)) {
        case POISON_INBOX_FENCE_NOW:
                n->acked_seq = mine->seq;
                snprintf(reason, sizeof(reason), "poison pill from %s: %s", node_host_name(n, mine->sender, name),
                         mine->reason);
                node_self_fence(n, reason, now_ms);
                return;
        case POISON_INBOX_STALE_FENCE:
                snprintf(reason, sizeof(reason), "FENCE %llu from %s: %s", (unsigned long long)mine->seq,
                         node_host_name(n, mine->sender, name), mine->reason);
                node_emergency_set(n, EMERGENCY_MAILBOX_FENCE, true, reason);
                break;
        case POISON_INBOX_NOTHING:
                if (mine->command == DISK_MAILBOX_CLEAR && mine->seq > n->acked_seq) {
                        n->acked_seq = mine->seq;
                        node_emergency_set(n, EMERGENCY_MAILBOX_FENCE, false, NULL);
                }
                break;
        }
}

static uint64_t next_mailbox_seq(const struct node *n, uint32_t target) {
        uint64_t cur = n->mailboxes[target].seq;
        return (cur > n->sent[target].seq ? cur : n->sent[target].seq) + 1;
}

static void send_mailbox(struct node *n, const struct core_peer *p, enum disk_mailbox_command cmd,
                         const char *reason) {
        struct node_action *a = node_push(n, NODE_ACT_WRITE_MAILBOX);

        a->mailbox.host_id = p->id;
        a->mailbox.sender = n->cfg.self_id;
        a->mailbox.command = cmd;
        a->mailbox.seq = next_mailbox_seq(n, p->id);
        snprintf(a->mailbox.reason, sizeof(a->mailbox.reason), "%s", reason);
        n->sent[p->id] = (struct poison_sent){ .seq = a->mailbox.seq, .command = cmd, .incarnation = p->incarnation };
}

void node_handle_mailboxes(struct node *n, uint64_t now_ms, uint64_t own_slot_ack) {
        if (n->fencing)
                return;
        inbox(n, now_ms, own_slot_ack);
        if (n->fencing || !node_is_master(n))
                return;
        for (size_t i = 0; i < n->n_peers; i++) {
                const struct core_peer *p = &n->peers[i];
                enum poison_action act;
                char name[NODE_NAME_MAX];

                if (p->id == n->cfg.self_id || !n->mailbox_ok[p->id])
                        continue;
                act = poison_decide(&n->timing, p, &n->sent[p->id], &n->mailboxes[p->id], true, now_ms);
                if (act == POISON_SEND_FENCE) {
                        node_log(n, 4, "poison pill to %s: it left the membership but its slot still advances",
                                 node_host_name(n, p->id, name));
                        send_mailbox(n, p, DISK_MAILBOX_FENCE,
                                     "outside the surviving partition but still writing its slot");
                } else if (act == POISON_SEND_CLEAR) {
                        node_log(n, 5, "clearing the mailbox of %s: it rejoined", node_host_name(n, p->id, name));
                        send_mailbox(n, p, DISK_MAILBOX_CLEAR, "rejoined with a new incarnation");
                }
        }
}

int node_fence_by_hand(struct node *n, uint32_t target, const char *by, char *why, size_t why_len) {
        const struct core_peer *t = survival_peer_find_const(n->peers, n->n_peers, target);
        unsigned alive = 0;
        bool target_alive = false;
        char reason[DISK_REASON_MAX], name[NODE_NAME_MAX];

        n->n_acts = 0;
        if (!t) {
                snprintf(why, why_len, "host %u is not configured", target);
                return -ENOENT;
        }
        if (!n->have_verdict || n->verdict.kind != SURVIVAL_SURVIVE || n->fencing || !n->last_read_ok ||
            !n->mailbox_ok[target]) {
                snprintf(why, why_len, "refused: this host must be surviving and reach the disk to send a poison pill");
                return -EPERM;
        }
        for (size_t i = 0; i < n->n_peers; i++) {
                const struct core_peer *p = &n->peers[i];
                bool a = p->id == n->cfg.self_id ||
                         (p->member && !(p->slot_seen && p->state == DISK_SLOT_FENCING));
                alive += a;
                if (p->id == target)
                        target_alive = a;
        }
        if (target_alive && alive <= 1) {
                snprintf(why, why_len, "refused: %s is the last surviving host of the pool",
                         node_host_name(n, target, name));
                return -EPERM;
        }
        snprintf(reason, sizeof(reason), "fenced by hand from %.60s (haadm host fence)", by);
        node_log(n, 4, "poison pill to %s by hand (haadm host fence)", node_host_name(n, target, name));
        send_mailbox(n, t, DISK_MAILBOX_FENCE, reason);
        return 0;
}
