/* The node engine's CPG messages: acknowledgements, replicated HA state
 * changes and snapshots.
 *
 * Every message this host sends gets the next sequence number, and the
 * engine remembers when it sent the last few. A peer's acknowledgement
 * echoes the latest sequence it has received from each host it counts; the
 * echo for this host dates the acknowledgement by this host's own clock, at
 * the sending of the echoed message. A late delivery therefore never makes
 * an old acknowledgement look fresh (rule 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hastate_disk.h"
#include "core/node_internal.h"

int node_send_wire(struct node *n, enum wire_type type, const uint8_t *payload, size_t len, uint64_t now_ms,
                   uint64_t *seq) {
        struct wire_header h = { .type = type, .sender = n->cfg.self_id };
        struct node_action *a;
        uint8_t *buf;

        if (n->emergency[EMERGENCY_COROSYNC_DOWN])
                return -ENOTCONN;
        h.seq = ++n->msg_seq;
        n->sent_seq[h.seq % NODE_SENT_RING] = h.seq;
        n->sent_ms[h.seq % NODE_SENT_RING] = now_ms;
        buf = node_own(n, WIRE_HEADER_SIZE + len);
        wire_header_encode(&h, buf);
        if (len)
                memcpy(buf + WIRE_HEADER_SIZE, payload, len);
        a = node_push(n, NODE_ACT_SEND);
        a->data = buf;
        a->len = WIRE_HEADER_SIZE + len;
        a->seq = h.seq;
        if (seq)
                *seq = h.seq;
        return 0;
}

void node_send_ack(struct node *n, uint64_t now_ms) {
        static struct wire_ack a;       /* 2.3 KiB: not on a small stack */
        uint8_t buf[WIRE_ACK_MAX_SIZE];
        size_t len;

        if (n->fencing)
                return;         /* a host on its way down vouches for no one */
        memset(&a, 0, sizeof(a));
        a.ring_id = n->in.ring_id;
        a.disk_ok = survival_own_disk_ok(&n->in, now_ms);
        a.memory_mib = n->cfg.vm_memory_mib;
        a.emergency = node_in_emergency(n);
        memcpy(a.view, n->in.members.bits, DISK_VIEW_BYTES);
        for (size_t i = 0; i < n->n_peers; i++) {
                uint32_t id = n->peers[i].id;
                if (id == n->cfg.self_id || !core_view_has(&n->in.members, id) || !n->rx_seq[id])
                        continue;
                a.echo[a.n_echo++] = (struct wire_echo){ .host = id, .seq = n->rx_seq[id] };
        }
        len = wire_ack_encode(&a, buf);
        node_send_wire(n, WIRE_ACK, buf, len, now_ms, NULL);
}

void node_send_snapshot(struct node *n, uint64_t now_ms) {
        uint8_t *buf;
        size_t len;

        if (hastate_snapshot_encode(n->state, &buf, &len) < 0)
                return;
        if (node_send_wire(n, WIRE_SNAPSHOT, buf, len, now_ms, NULL) < 0)
                node_log(n, 4, "could not send the HA state snapshot to joining hosts");
        free(buf);
}

void node_persist_state(struct node *n) {
        struct node_action *a;
        uint8_t *buf;
        size_t len;

        if (!node_is_master(n) || hastate_snapshot_encode(n->state, &buf, &len) < 0)
                return;
        a = node_push(n, NODE_ACT_WRITE_CONFIG);
        a->generation = n->state->generation + 1;
        a->data = node_own(n, len);
        memcpy((uint8_t *)a->data, buf, len);
        a->len = len;
        free(buf);
}

static void on_ack(struct node *n, uint32_t from, const uint8_t *p, size_t len) {
        static struct wire_ack a;
        struct core_peer *peer = survival_peer_find(n->peers, n->n_peers, from);
        uint64_t echoed;

        if (wire_ack_decode(p, len, &a) < 0) {
                node_log(n, 4, "dropped a garbled acknowledgement from node %u", from);
                return;
        }
        if (!peer || from == n->cfg.self_id)
                return;
        n->memory_mib[from] = a.memory_mib;
        n->peer_emergency[from] = a.emergency;
        if (!disk_view_test(a.view, n->cfg.self_id))
                return;
        /* Dated by the echoed message of this host: an echo older than the
         * ring remembers is no evidence at all. */
        echoed = wire_ack_echo_for(&a, n->cfg.self_id);
        if (echoed && n->sent_seq[echoed % NODE_SENT_RING] == echoed) {
                struct core_view view;

                memcpy(view.bits, a.view, DISK_VIEW_BYTES);
                survival_peer_observe_ack(peer, n->sent_ms[echoed % NODE_SENT_RING]);
                survival_peer_observe_ack_view(peer, &view, n->sent_ms[echoed % NODE_SENT_RING]);
        }
}

static void on_change(struct node *n, const struct wire_header *h, const uint8_t *p, size_t len) {
        struct hastate_msg m;
        struct hastate_error err;
        int r;

        r = hastate_msg_decode(p, len, &m, &err);
        if (r == 0 && m.sender != h->sender) {
                r = -EBADMSG;
                snprintf(err.msg, sizeof(err.msg), "sender %u claims to be %u", h->sender, m.sender);
        }
        if (r == 0)
                r = hastate_apply(n->state, &m, &err);
        if (r < 0)
                node_log(n, 4, "HA state change from host %u rejected: %s", h->sender, err.msg);
        else
                node_persist_state(n);
        if (h->sender == n->cfg.self_id) {
                struct node_action *a = node_push(n, NODE_ACT_CHANGE_DONE);
                a->seq = h->seq;
                a->result = r;
                a->generation = n->state->generation;
                snprintf(a->text, sizeof(a->text), "%s", r < 0 ? err.msg : "");
        }
}

static void on_snapshot(struct node *n, const struct wire_header *h, const uint8_t *p, size_t len) {
        struct hastate *s;
        struct hastate_error err;

        if (h->sender == n->cfg.self_id)
                return;
        if (hastate_snapshot_decode(p, len, &s, &err) < 0) {
                node_log(n, 4, "HA state snapshot from host %u rejected: %s", h->sender, err.msg);
                return;
        }
        if (s->generation > n->state->generation ||
            (s->generation == n->state->generation && h->sender < n->state_source)) {
                node_log(n, 6, "adopted the HA state of host %u (generation %llu)", h->sender,
                         (unsigned long long)s->generation);
                hastate_free(n->state);
                n->state = s;
                n->state_source = h->sender;
                node_persist_state(n);
        } else {
                hastate_free(s);
        }
}

void node_on_message(struct node *n, uint32_t from, const uint8_t *data, size_t len, uint64_t now_ms) {
        struct wire_header h;
        const uint8_t *p;
        size_t plen;

        (void)now_ms;
        if (wire_header_decode(data, len, &h, &p, &plen) < 0 || h.sender != from ||
            !survival_peer_find(n->peers, n->n_peers, from)) {
                node_log(n, 4, "dropped a garbled CPG message of %zu bytes from node %u", len, from);
                return;
        }
        n->rx_seq[from] = h.seq;       /* agreed order; a restarted sender starts from a new base */
        switch (h.type) {
        case WIRE_ACK:
                on_ack(n, from, p, plen);
                break;
        case WIRE_CHANGE:
                on_change(n, &h, p, plen);
                break;
        case WIRE_SNAPSHOT:
                on_snapshot(n, &h, p, plen);
                break;
        }
}

int node_check_change(const struct node *n, const struct hastate_msg *m, char *why, size_t why_len) {
        struct hastate_disk_size sz;
        struct hastate_error err;
        struct hastate *next = hastate_dup(n->state);
        int r;

        if (!next) {
                snprintf(why, why_len, "out of memory");
                return -ENOMEM;
        }
        r = hastate_apply(next, m, &err);
        if (r < 0) {
                snprintf(why, why_len, "%s", err.msg);
                goto out;
        }
        /* Only a VM added or changed can outgrow the copy; settings,
         * maintenance and removals are never refused for room. */
        if (m->type != HASTATE_MSG_VM_PROTECT)
                goto out;
        r = hastate_disk_check(next, n->cfg.config_capacity, false, &sz);
        if (r < 0) {
                snprintf(why, why_len, "out of memory");
                goto out;
        }
        if (!sz.fits) {
                char text[NODE_TEXT_MAX];
                hastate_disk_explain(&sz, text, sizeof(text));
                snprintf(why, why_len, "refused: %s", text);
                r = -EFBIG;
        }
out:
        hastate_free(next);
        return r;
}

uint64_t node_send_change(struct node *n, const struct hastate_msg *m) {
        uint8_t buf[HASTATE_MSG_WIRE_MAX];
        uint64_t seq = 0;
        size_t used;

        n->n_acts = 0;
        if (hastate_msg_encode(m, buf, sizeof(buf), &used) < 0)
                return 0;
        /* The send time only dates acknowledgements; a change is not one,
         * so the last tick's time is good enough. */
        if (node_send_wire(n, WIRE_CHANGE, buf, used, n->sent_ms[n->msg_seq % NODE_SENT_RING], &seq) < 0)
                return 0;
        return seq;
}
