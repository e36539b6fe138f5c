/* Corosync adapter: three libraries, one loop. */
#include "daemon/cluster.h"
#include "daemon/cs_error.h"

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>
#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

struct cluster {
        qb_loop_t *loop;
        struct cluster_events ev;
        void *ud;
        cpg_handle_t cpg;
        votequorum_handle_t vq;
        int cpg_fd, vq_fd;
        bool have_cpg, have_vq, lost;
        uint32_t local_id;
        uint64_t ring_id;
        struct cluster_node *nodes;
        size_t n_nodes;
        uint32_t token_ms;              /* the totem token corosync runs with; 0: unknown */
        uint32_t consensus_ms;          /* and its consensus timeout; 0: unknown */
        uint32_t members[256];          /* the last group membership reported */
        size_t n_members;
        bool have_members;
};

static void lost(struct cluster *c) {
        if (c->lost)
                return;
        c->lost = true;
        if (c->have_cpg)
                qb_loop_poll_del(c->loop, c->cpg_fd);
        if (c->have_vq)
                qb_loop_poll_del(c->loop, c->vq_fd);
        c->ev.lost(c->ud);
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len) {
        struct cluster *c = NULL;
        (void)group;
        (void)pid;
        if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
                return;
        c->ev.deliver(c->ud, nodeid, msg, len);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group, const struct cpg_address *members,
                       size_t n, const struct cpg_address *left, size_t n_left,
                       const struct cpg_address *joined, size_t n_joined) {
        struct cluster *c = NULL;
        uint32_t ids[256], jids[256];
        size_t k = 0, kj = 0;

        (void)group;
        (void)left;
        (void)n_left;
        if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
                return;
        for (size_t i = 0; i < n && k < 256; i++) {
                bool dup = false;       /* one vmhad per node; tolerate a restart overlap */
                for (size_t j = 0; j < k; j++)
                        dup |= ids[j] == members[i].nodeid;
                if (!dup)
                        ids[k++] = members[i].nodeid;
        }
        for (size_t i = 0; i < n_joined && kj < 256; i++)
                jids[kj++] = joined[i].nodeid;
        qsort(ids, k, sizeof(ids[0]), cmp_u32);
        memcpy(c->members, ids, k * sizeof(ids[0]));
        c->n_members = k;
        c->have_members = true;
        c->ev.membership(c->ud, ids, k, c->ring_id, jids, kj);
}

static void on_totem_confchg(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *members) {
        struct cluster *c = NULL;
        (void)n;
        (void)members;
        if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
                return;
        qb_log(LOG_DEBUG, "totem ring %llu (%u members)", (unsigned long long)ring.seq, n);
        if (ring.seq == c->ring_id)
                return;
        c->ring_id = ring.seq;
        /* The ring's number comes after the group's confchg: report the
         * same membership again under its ring. */
        if (c->have_members)
                c->ev.membership(c->ud, c->members, c->n_members, c->ring_id, NULL, 0);
}

static void on_quorum(votequorum_handle_t h, uint64_t context, uint32_t quorate, uint32_t n,
                      votequorum_node_t nodes[]) {
        struct cluster *c = NULL;
        (void)context;
        (void)n;
        (void)nodes;
        if (votequorum_context_get(h, (void **)&c) != CS_OK || !c)
                return;
        c->ev.quorum(c->ud, quorate != 0);
}

static int32_t dispatch_cpg(int32_t fd, int32_t revents, void *data) {
        struct cluster *c = data;
        (void)fd;
        (void)revents;
        cs_error_t e = cpg_dispatch(c->cpg, CS_DISPATCH_ALL);
        if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
                qb_log(LOG_ERR, "lost the connection to corosync (cpg: %s, error %d)", vmha_cs_error_text(e), e);
                lost(c);
                return -1;
        }
        return 0;
}

static int32_t dispatch_vq(int32_t fd, int32_t revents, void *data) {
        struct cluster *c = data;
        (void)fd;
        (void)revents;
        cs_error_t e = votequorum_dispatch(c->vq, CS_DISPATCH_ALL);
        if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
                qb_log(LOG_ERR, "lost the connection to corosync (votequorum: %s, error %d)", vmha_cs_error_text(e),
                       e);
                lost(c);
                return -1;
        }
        return 0;
}

/* nodelist.node.N.nodeid and .name (or .ring0_addr) from cmap, and the
 * token and consensus corosync derived from its configuration (the runtime
 * keys hold token_coefficient applied). */
static int read_nodelist(struct cluster *c, char *err, size_t err_len) {
        cmap_handle_t cm;
        cmap_iter_handle_t it;
        char key[CMAP_KEYNAME_MAXLEN + 1];
        size_t vlen;
        cmap_value_types_t type;
        cs_error_t e;

        e = cmap_initialize(&cm);
        if (e != CS_OK) {
                snprintf(err, err_len, "cannot connect to corosync's cmap: %s (error %d)", vmha_cs_error_text(e), e);
                return -ENOTCONN;
        }
        e = cmap_iter_init(cm, "nodelist.node.", &it);
        while (e == CS_OK && cmap_iter_next(cm, it, key, &vlen, &type) == CS_OK) {
                unsigned idx;
                char field[64], k2[CMAP_KEYNAME_MAXLEN + 1];
                uint32_t id;
                char *name = NULL;
                if (sscanf(key, "nodelist.node.%u.%63s", &idx, field) != 2 || strcmp(field, "nodeid") != 0)
                        continue;
                if (cmap_get_uint32(cm, key, &id) != CS_OK)
                        continue;
                snprintf(k2, sizeof(k2), "nodelist.node.%u.name", idx);
                if (cmap_get_string(cm, k2, &name) != CS_OK) {
                        snprintf(k2, sizeof(k2), "nodelist.node.%u.ring0_addr", idx);
                        if (cmap_get_string(cm, k2, &name) != CS_OK)
                                name = NULL;
                }
                struct cluster_node *nn = realloc(c->nodes, (c->n_nodes + 1) * sizeof(*nn));
                if (!nn) {
                        free(name);
                        break;
                }
                c->nodes = nn;
                c->nodes[c->n_nodes].id = id;
                snprintf(c->nodes[c->n_nodes].name, CLUSTER_NODE_NAME_MAX, "%s", name ? name : "");
                if (!name)
                        snprintf(c->nodes[c->n_nodes].name, CLUSTER_NODE_NAME_MAX, "node%u", id);
                c->n_nodes++;
                free(name);
        }
        if (e == CS_OK)
                cmap_iter_finalize(cm, it);
        if (cmap_get_uint32(cm, "runtime.config.totem.token", &c->token_ms) != CS_OK)
                c->token_ms = 0;
        if (cmap_get_uint32(cm, "runtime.config.totem.consensus", &c->consensus_ms) != CS_OK)
                c->consensus_ms = 0;
        cmap_finalize(cm);
        if (c->n_nodes == 0) {
                snprintf(err, err_len, "corosync's configuration has no nodelist with node ids");
                return -EINVAL;
        }
        return 0;
}

int cluster_new(qb_loop_t *loop, const struct cluster_events *ev, void *ud, struct cluster **ret,
                char *err, size_t err_len) {
        cpg_model_v1_data_t model = {
                .model = CPG_MODEL_V1,
                .cpg_deliver_fn = on_deliver,
                .cpg_confchg_fn = on_confchg,
                .cpg_totem_confchg_fn = on_totem_confchg,
                .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
        };
        votequorum_callbacks_t vqcb = { .votequorum_quorum_notify_fn = on_quorum };
        struct cpg_name group;
        struct cluster *c;
        cs_error_t e;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->loop = loop;
        c->ev = *ev;
        c->ud = ud;
        r = read_nodelist(c, err, err_len);
        if (r < 0)
                goto fail;

        e = cpg_model_initialize(&c->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, c);
        if (e != CS_OK) {
                snprintf(err, err_len, "cannot connect to corosync's CPG: %s (error %d)", vmha_cs_error_text(e), e);
                r = -ENOTCONN;
                goto fail;
        }
        c->have_cpg = true;
        cpg_context_set(c->cpg, c);
        if (cpg_local_get(c->cpg, &c->local_id) != CS_OK) {
                snprintf(err, err_len, "cannot read the local node id from corosync");
                r = -ENOTCONN;
                goto fail;
        }
        e = votequorum_initialize(&c->vq, &vqcb);
        if (e != CS_OK) {
                snprintf(err, err_len, "cannot connect to votequorum: %s (error %d): is the quorum "
                                       "provider corosync_votequorum configured?", vmha_cs_error_text(e), e);
                r = -ENOTCONN;
                goto fail;
        }
        c->have_vq = true;
        votequorum_context_set(c->vq, c);
        e = votequorum_trackstart(c->vq, 0, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
        if (e != CS_OK) {
                snprintf(err, err_len, "votequorum_trackstart failed: %s (error %d)", vmha_cs_error_text(e), e);
                r = -ENOTCONN;
                goto fail;
        }
        snprintf(group.value, sizeof(group.value), CLUSTER_GROUP_NAME);
        group.length = (uint32_t)strlen(group.value);
        /* No retry here: the caller runs on the event loop and tries
         * again from a timer. */
        e = cpg_join(c->cpg, &group);
        if (e == CS_ERR_TRY_AGAIN) {
                snprintf(err, err_len, "cannot join the CPG group %s yet: corosync says try again",
                         CLUSTER_GROUP_NAME);
                r = -EAGAIN;
                goto fail;
        }
        if (e != CS_OK) {
                snprintf(err, err_len, "cannot join the CPG group %s: %s (error %d)", CLUSTER_GROUP_NAME,
                         vmha_cs_error_text(e), e);
                r = -ENOTCONN;
                goto fail;
        }
        cpg_fd_get(c->cpg, &c->cpg_fd);
        votequorum_fd_get(c->vq, &c->vq_fd);
        qb_loop_poll_add(loop, QB_LOOP_HIGH, c->cpg_fd, POLLIN, c, dispatch_cpg);
        qb_loop_poll_add(loop, QB_LOOP_HIGH, c->vq_fd, POLLIN, c, dispatch_vq);
        *ret = c;
        return 0;
fail:
        c->lost = true;         /* nothing registered with the loop yet */
        cluster_free(c);
        return r;
}

void cluster_free(struct cluster *c) {
        if (!c)
                return;
        if (!c->lost) {
                qb_loop_poll_del(c->loop, c->cpg_fd);
                qb_loop_poll_del(c->loop, c->vq_fd);
        }
        if (c->have_cpg)
                cpg_finalize(c->cpg);
        if (c->have_vq)
                votequorum_finalize(c->vq);
        free(c->nodes);
        free(c);
}

uint32_t cluster_local_id(const struct cluster *c) {
        return c->local_id;
}

uint32_t cluster_token_ms(const struct cluster *c, uint32_t *consensus_ms) {
        *consensus_ms = c->consensus_ms;
        return c->token_ms;
}

const struct cluster_node *cluster_nodes(const struct cluster *c, size_t *n) {
        *n = c->n_nodes;
        return c->nodes;
}

const char *cluster_node_name(const struct cluster *c, uint32_t id) {
        for (size_t i = 0; i < c->n_nodes; i++)
                if (c->nodes[i].id == id)
                        return c->nodes[i].name;
        return NULL;
}

uint32_t cluster_node_id(const struct cluster *c, const char *name) {
        for (size_t i = 0; i < c->n_nodes; i++)
                if (strcmp(c->nodes[i].name, name) == 0)
                        return c->nodes[i].id;
        return 0;
}

int cluster_send(struct cluster *c, const void *msg, size_t len) {
        struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
        cs_error_t e;

        if (c->lost)
                return -ENOTCONN;
        e = cpg_mcast_joined(c->cpg, CPG_TYPE_AGREED, &iov, 1);
        if (e == CS_ERR_TRY_AGAIN)
                return -EAGAIN;
        return e == CS_OK ? 0 : -EIO;
}
