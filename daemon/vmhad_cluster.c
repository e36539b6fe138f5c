/* Corosync: membership, quorum, messages in agreed order, and coming back
 * after corosync went away. Each callback turns what Corosync said into one
 * engine event; the engine decides.
 */
#include "daemon/vmhad.h"

#include "daemon/cluster.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <string.h>

#define RECONNECT_NS 1000000000ULL

static void cl_membership(void *ud, const uint32_t *members, size_t n, uint64_t ring_id, const uint32_t *joined,
                          size_t n_joined) {
        struct vmhad *d = ud;
        struct node_event ev = { .type = NODE_EV_MEMBERSHIP };
        uint64_t start = vmhad_now_us();

        for (size_t i = 0; i < n; i++)
                if (members[i] >= 1 && members[i] <= d->sb.slot_count)
                        core_view_add(&ev.u.membership.members, members[i]);
        for (size_t i = 0; i < n_joined; i++)
                if (joined[i] >= 1 && joined[i] <= d->sb.slot_count)
                        core_view_add(&ev.u.membership.joined, joined[i]);
        ev.u.membership.ring_id = ring_id;
        vmhad_dispatch(d, &ev);
        vmhad_loop_note(d, "membership", start);
}

static void cl_quorum(void *ud, bool quorate) {
        struct vmhad *d = ud;
        struct node_event ev = { .type = NODE_EV_QUORUM };

        qb_log(LOG_DEBUG, "votequorum: %s", quorate ? "quorate" : "not quorate");
        ev.u.quorum.quorate = quorate;
        vmhad_dispatch(d, &ev);
}

static void cl_deliver(void *ud, uint32_t from, const void *msg, size_t len) {
        struct vmhad *d = ud;
        struct node_event ev = { .type = NODE_EV_MESSAGE };
        uint64_t start = vmhad_now_us();

        ev.u.message.from = from;
        ev.u.message.data = msg;
        ev.u.message.len = len;
        vmhad_dispatch(d, &ev);
        vmhad_loop_note(d, "message", start);
}

static void reconnect(void *data);

static void cl_lost(void *ud) {
        struct vmhad *d = ud;
        struct node_event ev = { .type = NODE_EV_COROSYNC_LOST };

        d->cl_up = false;
        vmhad_dispatch(d, &ev);
        vmhad_cluster_retry(d);
}

static const struct cluster_events events = {
        .membership = cl_membership,
        .quorum = cl_quorum,
        .deliver = cl_deliver,
        .lost = cl_lost,
};

int vmhad_cluster_connect(struct vmhad *d, char *err, size_t err_len) {
        return cluster_new(d->loop, &events, d, &d->cl, err, err_len);
}

void vmhad_cluster_note_token(struct vmhad *d) {
        uint32_t consensus, token = cluster_token_ms(d->cl, &consensus), timeout = node_timing(d->node)->timeout_ms;
        uint64_t detect = core_timing_detect_ms(token, consensus);

        if (token == 0) {
                qb_log(LOG_WARNING, "corosync did not report its token: counting with %u ms as before",
                       node_timing(d->node)->token_ms);
                return;
        }
        node_set_token(d->node, token);
        if (detect >= timeout)
                qb_log(LOG_WARNING, "corosync's token is %u ms: it sees a lost host after about %llu ms, not within "
                                    "the pool's timeout of %u ms; set totem.token to about %u",
                       token, (unsigned long long)detect, timeout, timeout / 5);
        else
                qb_log(LOG_INFO, "corosync's token is %u ms: it sees a lost host after about %llu ms", token,
                       (unsigned long long)detect);
}

void vmhad_cluster_retry(struct vmhad *d) {
        qb_loop_timer_add(d->loop, QB_LOOP_LOW, RECONNECT_NS, d, reconnect, NULL);
}

/* Corosync went away: try again every second from a timer, never by
 * sleeping on the loop. The old handle is freed here, outside its own
 * callbacks. */
static void reconnect(void *data) {
        struct vmhad *d = data;
        uint64_t start = vmhad_now_us();
        char err[256];

        cluster_free(d->cl);
        d->cl = NULL;
        if (vmhad_cluster_connect(d, err, sizeof(err)) < 0) {
                qb_log(LOG_DEBUG, "corosync not back yet: %s", err);
                vmhad_cluster_retry(d);
        } else if (cluster_local_id(d->cl) != d->self) {
                qb_log(LOG_CRIT, "corosync came back with node id %u, not %u: not rejoining",
                       cluster_local_id(d->cl), d->self);
                vmhad_cluster_retry(d);
        } else {
                d->cl_up = true;
                qb_log(LOG_NOTICE, "reconnected to corosync");
                vmhad_cluster_note_token(d);
                vmhad_emergency(d, EMERGENCY_COROSYNC_DOWN, false, NULL);
        }
        vmhad_loop_note(d, "corosync reconnect", start);
}
