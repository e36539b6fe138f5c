/* Corosync adapter: CPG for membership and agreed-order messages,
 * votequorum for quorum, cmap for the configured node list.
 *
 * Membership means the CPG group "vmha": the hosts whose vmhad runs, not
 * merely whose corosync runs. A host whose vmhad died is gone from the
 * pool's point of view; its watchdog, left armed by the dead process,
 * resets it. Every callback runs on the daemon's qb_loop. When the local
 * corosync goes away, `lost` is called once and the adapter stops; the
 * daemon treats itself as alone and without quorum, and may reconnect.
 */
#pragma once

#include <qb/qbloop.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_GROUP_NAME "vmha"
#define CLUSTER_NODE_NAME_MAX 64

struct cluster;

struct cluster_node {
        uint32_t id;
        char name[CLUSTER_NODE_NAME_MAX];
};

struct cluster_events {
        /* The group membership changed (ids sorted ascending), with the
         * totem ring sequence it belongs to and the ids that joined. */
        void (*membership)(void *ud, const uint32_t *members, size_t n, uint64_t ring_id,
                           const uint32_t *joined, size_t n_joined);
        void (*quorum)(void *ud, bool quorate);
        /* A message in agreed order; the sender receives its own too. */
        void (*deliver)(void *ud, uint32_t from, const void *msg, size_t len);
        void (*lost)(void *ud);
};

/* Connects to the local corosync, reads the node list, joins the group and
 * registers its file descriptors with loop. Returns 0 or -errno (e.g.
 * -ENOTCONN when corosync is not running, -EAGAIN when it asks to try the
 * join again), with err set. It never sleeps: the caller retries. */
int cluster_new(qb_loop_t *loop, const struct cluster_events *ev, void *ud, struct cluster **ret,
                char *err, size_t err_len);
void cluster_free(struct cluster *c);

uint32_t cluster_local_id(const struct cluster *c);
/* Corosync's totem token as it runs (runtime.config.totem.token), and its
 * consensus timeout; 0 when cmap did not say. */
uint32_t cluster_token_ms(const struct cluster *c, uint32_t *consensus_ms);
const struct cluster_node *cluster_nodes(const struct cluster *c, size_t *n);
const char *cluster_node_name(const struct cluster *c, uint32_t id);
/* Looks a node up by name; 0 when unknown. */
uint32_t cluster_node_id(const struct cluster *c, const char *name);

/* Multicasts msg in agreed order. -EAGAIN under back-pressure. */
int cluster_send(struct cluster *c, const void *msg, size_t len);
