/* The control socket: haadm's requests. Reads are answered from the
 * engine's state; a change is checked (admission control), handed to the
 * engine as a replicated message, and answered once it came back in agreed
 * order (NODE_ACT_CHANGE_DONE) or its time ran out.
 */
#include "daemon/vmhad.h"

#include "core/hastate.h"
#include "daemon/cluster.h"
#include "planner/planner.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <qb/qblog.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply_error(qb_ipcs_connection_t *c, int32_t id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void reply_json(qb_ipcs_connection_t *c, int32_t id, json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(s);
        int32_t room = qb_ipcs_connection_get_buffer_size(c);
        struct qb_ipc_response_header *h;

        /* A reply larger than the client's buffer would never arrive, and
         * the client would wait for it: say so instead. */
        if (room > 0 && sizeof(*h) + len > (size_t)room && len > IPC_ERROR_MAX + 256) {
                qb_log(LOG_WARNING, "a control reply of %zu bytes does not fit the client's %d-byte buffer", len,
                       room);
                json_object_put(o);
                reply_error(c, id, "the reply of %zu bytes does not fit this connection's %d-byte buffer", len, room);
                return;
        }
        h = malloc(sizeof(*h) + len);
        if (h) {
                h->id = id;
                h->size = (int32_t)(sizeof(*h) + len);
                h->error = 0;
                memcpy(h + 1, s, len);
                qb_ipcs_response_send(c, h, (size_t)h->size);
                free(h);
        }
        json_object_put(o);
}

static void reply_error(qb_ipcs_connection_t *c, int32_t id, const char *fmt, ...) {
        char msg[NODE_TEXT_MAX + 128];
        va_list ap;
        json_object *o = json_object_new_object();

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string(msg));
        reply_json(c, id, o);
}

/* What a change left, for the reply's "result": the pool's settings, the
 * VM as it now is, or what became of the VM or host it named. */
static json_object *change_result(struct vmhad *d, const struct vmhad_pending *p) {
        const struct hastate *s = node_state(d->node);
        json_object *o = json_object_new_object();

        switch (p->op) {
        case IPC_OP_ENABLE:
        case IPC_OP_DISABLE:
        case IPC_OP_POOL_SET:
                json_object_object_add(o, "ha_enabled", json_object_new_boolean(s->pool.ha_enabled));
                json_object_object_add(o, "failures_to_tolerate", json_object_new_int((int32_t)s->pool.ftt_target));
                json_object_object_add(o, "allow_overcommit", json_object_new_boolean(s->pool.allow_overcommit));
                break;
        case IPC_OP_VM_SET:
        case IPC_OP_VM_START:
        case IPC_OP_VM_STOP: {
                const struct hastate_vm *vm = NULL;
                for (size_t i = 0; i < s->n_vms && !vm; i++)
                        if (strcmp(s->vms[i].name, p->name) == 0)
                                vm = &s->vms[i];
                json_object_put(o);
                return vm ? vmhad_vm_json(d, vm) : NULL;
        }
        case IPC_OP_VM_REMOVE:
                json_object_object_add(o, "name", json_object_new_string(p->name));
                json_object_object_add(o, "protected", json_object_new_boolean(0));
                break;
        case IPC_OP_HOST_MAINTENANCE:
                json_object_object_add(o, "host", json_object_new_string(p->name));
                json_object_object_add(o, "maintenance", json_object_new_boolean(p->on));
                break;
        default:
                break;
        }
        return o;
}

void vmhad_ctl_change_done(struct vmhad *d, uint64_t seq, int r, const char *why) {
        for (int i = 0; i < VMHAD_MAX_PENDING; i++) {
                struct vmhad_pending *p = &d->pending[i];
                if (!p->conn || p->seq != seq)
                        continue;
                if (r == 0) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "ok", json_object_new_boolean(1));
                        json_object_object_add(o, "generation",
                                               json_object_new_int64((int64_t)node_state(d->node)->generation));
                        json_object_object_add(o, "result", change_result(d, p));
                        reply_json(p->conn, p->id, o);
                } else {
                        reply_error(p->conn, p->id, "%s", why);
                }
                qb_ipcs_connection_unref(p->conn);
                p->conn = NULL;
        }
}

void vmhad_ctl_expire(struct vmhad *d) {
        uint64_t now = vmha_now_ms();
        for (int i = 0; i < VMHAD_MAX_PENDING; i++) {
                struct vmhad_pending *p = &d->pending[i];
                if (p->conn && now > p->deadline_ms) {
                        reply_error(p->conn, p->id, "the change was not delivered within %d ms; "
                                    "check 'haadm status' before retrying", VMHAD_CHANGE_REPLY_TIMEOUT_MS);
                        qb_ipcs_connection_unref(p->conn);
                        p->conn = NULL;
                }
        }
}

/* FNV-1a: a VM's id is a function of its name, so every host that is
 * asked to protect the same name proposes the same id. */
static uint64_t vm_id_for(const char *name) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = name; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 0x100000001b3ULL;
        }
        return h ? h : 1;
}

static const struct hastate_vm *vm_by_name(struct vmhad *d, const char *name) {
        for (size_t i = 0; i < node_state(d->node)->n_vms; i++)
                if (strcmp(node_state(d->node)->vms[i].name, name) == 0)
                        return &node_state(d->node)->vms[i];
        return NULL;
}

/* haadm, vmha.conf and the control protocol check a VM's memory against
 * the planner's limit; the replicated state must hold every value they
 * take, and refuse none of them. */
_Static_assert(PLAN_MAX_VM_MEMORY_MIB == HASTATE_MAX_MEMORY_MIB, "one VM memory limit");

/* Builds the replicated message for a change request. Returns 0, or a
 * negative errno with a message for the administrator in err. */
static int change_message(struct vmhad *d, const struct ipc_request *req, struct hastate_msg *m, char *err,
                          size_t err_len) {
        memset(m, 0, sizeof(*m));
        m->sender = d->self;
        switch (req->op) {
        case IPC_OP_ENABLE:
        case IPC_OP_DISABLE:
                m->type = HASTATE_MSG_POOL_SETTINGS;
                m->u.pool = node_state(d->node)->pool;
                m->u.pool.ha_enabled = req->op == IPC_OP_ENABLE;
                return 0;
        case IPC_OP_POOL_SET:
                m->type = HASTATE_MSG_POOL_SETTINGS;
                m->u.pool = node_state(d->node)->pool;
                if (req->has_failures_to_tolerate) {
                        size_t hosts = node_inputs(d->node)->n_peers;
                        if (req->failures_to_tolerate >= hosts) {
                                snprintf(err, err_len, "a pool of %zu hosts cannot tolerate %u failures",
                                         hosts, req->failures_to_tolerate);
                                return -EINVAL;
                        }
                        m->u.pool.ftt_target = req->failures_to_tolerate;
                }
                if (req->has_allow_overcommit)
                        m->u.pool.allow_overcommit = req->allow_overcommit;
                return 0;
        case IPC_OP_VM_SET: {
                const struct hastate_vm *cur = vm_by_name(d, req->vm);
                m->type = HASTATE_MSG_VM_PROTECT;
                if (cur) {
                        m->u.vm = *cur;
                } else {
                        if (!req->has_memory || !req->has_config) {
                                snprintf(err, err_len, "%s is not known yet: give its --memory and --config", req->vm);
                                return -EINVAL;
                        }
                        m->u.vm.id = vm_id_for(req->vm);
                        snprintf(m->u.vm.name, sizeof(m->u.vm.name), "%s", req->vm);
                }
                if (req->has_priority)
                        m->u.vm.priority = (enum hastate_priority)req->priority;
                if (req->has_order)
                        m->u.vm.order = req->order;
                if (req->has_start_delay)
                        m->u.vm.start_delay_ms = req->start_delay_s * 1000;
                if (req->has_memory)
                        m->u.vm.memory_mib = req->memory_mib;
                if (req->has_config)
                        snprintf(m->u.vm.config, sizeof(m->u.vm.config), "%s", req->config);
                /* A config the driver could not start is refused here,
                 * before the whole pool records it. */
                if (req->has_config && vmhad_vm_check_request(d, m->u.vm.name, m->u.vm.config, err, err_len) < 0)
                        return -EINVAL;
                return 0;
        }
        case IPC_OP_VM_REMOVE: {
                const struct hastate_vm *cur = vm_by_name(d, req->vm);
                if (!cur) {
                        snprintf(err, err_len, "unknown VM '%s' (see 'haadm vm list')", req->vm);
                        return -ENOENT;
                }
                m->type = HASTATE_MSG_VM_UNPROTECT;
                m->u.unprotect.vm_id = cur->id;
                return 0;
        }
        case IPC_OP_VM_START:
        case IPC_OP_VM_STOP: {
                const struct hastate_vm *cur = vm_by_name(d, req->vm);
                if (!cur) {
                        snprintf(err, err_len, "unknown VM '%s' (see 'haadm vm list')", req->vm);
                        return -ENOENT;
                }
                if (req->op == IPC_OP_VM_START && cur->priority == HASTATE_PRIORITY_NONE) {
                        snprintf(err, err_len, "%s has priority none: vmha does not start it (give it "
                                               "--priority restart or best-effort first)", req->vm);
                        return -EINVAL;
                }
                m->type = HASTATE_MSG_VM_REQUEST;
                m->u.request.vm_id = cur->id;
                m->u.request.started = req->op == IPC_OP_VM_START;
                return 0;
        }
        case IPC_OP_HOST_MAINTENANCE: {
                uint32_t id = d->cl ? cluster_node_id(d->cl, req->host) : 0;
                if (!id) {
                        snprintf(err, err_len, "unknown host '%s'", req->host);
                        return -ENOENT;
                }
                m->type = HASTATE_MSG_HOST_MAINTENANCE;
                m->u.maintenance.host_id = id;
                m->u.maintenance.on = req->on;
                return 0;
        }
        default:
                snprintf(err, err_len, "%s is not a change", ipc_op_name(req->op));
                return -EINVAL;
        }
}

static void handle_change(struct vmhad *d, qb_ipcs_connection_t *c, int32_t id, const struct ipc_request *req) {
        const struct survival_verdict *v = node_verdict(d->node);
        struct hastate_msg m;
        char err[NODE_TEXT_MAX];
        uint64_t seq;
        int slot = -1;

        if (!d->cl_up || !node_inputs(d->node)->quorate || !v || v->kind != SURVIVAL_SURVIVE || d->fencing) {
                reply_error(c, id, "refused: this host is not part of a quorate, surviving partition (%s)",
                            v ? v->reason : "no verdict yet");
                return;
        }
        /* Invalid, too big for the disk, or against the planner: refused
         * here, before any host sees it. */
        if (change_message(d, req, &m, err, sizeof(err)) < 0 || node_check_change(d->node, &m, err, sizeof(err)) < 0 ||
            vmhad_admission_check(d, &m, err, sizeof(err)) < 0) {
                reply_error(c, id, "%s", err);
                return;
        }
        for (int i = 0; i < VMHAD_MAX_PENDING && slot < 0; i++)
                if (!d->pending[i].conn)
                        slot = i;
        if (slot < 0) {
                reply_error(c, id, "busy: too many changes in flight, retry");
                return;
        }
        seq = node_send_change(d->node, &m);
        vmhad_carry_out(d);
        if (!seq) {
                reply_error(c, id, "cannot send the change to the pool (corosync busy or gone), retry");
                return;
        }
        qb_ipcs_connection_ref(c);
        d->pending[slot] = (struct vmhad_pending){ .conn = c, .id = id, .seq = seq,
                                                   .deadline_ms = vmha_now_ms() + VMHAD_CHANGE_REPLY_TIMEOUT_MS,
                                                   .op = req->op, .on = req->on };
        snprintf(d->pending[slot].name, sizeof(d->pending[slot].name), "%s",
                 req->op == IPC_OP_HOST_MAINTENANCE ? req->host : req->vm);
}

/* haadm host fence: a poison pill by hand. The engine refuses it to the
 * last survivor and without a disk. */
static void handle_host_fence(struct vmhad *d, qb_ipcs_connection_t *c, int32_t id, const struct ipc_request *req) {
        uint32_t target = d->cl ? cluster_node_id(d->cl, req->host) : 0;
        char why[IPC_ERROR_MAX], by[NODE_NAME_MAX];
        const struct node_action *acts;
        uint64_t seq = 0;
        size_t n;
        json_object *o;

        if (!target) {
                reply_error(c, id, "unknown host '%s'", req->host);
                return;
        }
        if (node_fence_by_hand(d->node, target, vmhad_host_name(d, d->self, by), why, sizeof(why)) < 0) {
                reply_error(c, id, "%s", why);
                return;
        }
        acts = node_actions(d->node, &n);
        for (size_t i = 0; i < n; i++)
                if (acts[i].type == NODE_ACT_WRITE_MAILBOX)
                        seq = acts[i].mailbox.seq;
        vmhad_carry_out(d);
        o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq));
        {
                json_object *res = json_object_new_object();
                json_object_object_add(res, "host", json_object_new_string(req->host));
                json_object_object_add(res, "mailbox_seq", json_object_new_int64((int64_t)seq));
                json_object_object_add(o, "result", res);
        }
        reply_json(c, id, o);
}

/* haadm metrics: the same text as the textfile, of this moment. */
static void reply_metrics(struct vmhad *d, qb_ipcs_connection_t *c, int32_t id) {
        char *text = NULL;
        size_t len;
        int r = vmhad_metrics_text(d, &text, &len);
        json_object *o;

        if (r < 0) {
                reply_error(c, id, "cannot render the metrics: %s", strerror(-r));
                return;
        }
        o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
        free(text);
        reply_json(c, id, o);
}

static int32_t ipc_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid) {
        struct vmhad *d = vmhad_daemon;
        bool ok = uid == 0;

        if (!ok && d->ipc_gid_known) {
                struct passwd *pw = getpwuid(uid);
                gid_t groups[256];
                int n = 256;
                ok = gid == d->ipc_gid;
                if (!ok && pw && getgrouplist(pw->pw_name, gid, groups, &n) >= 0)
                        for (int i = 0; i < n && !ok; i++)
                                ok = groups[i] == d->ipc_gid;
        }
        if (!ok) {
                qb_log(LOG_WARNING, "refused a control connection from uid %u gid %u: not root and not in group %s",
                       (unsigned)uid, (unsigned)gid, d->cfg.ipc_group);
                return -EACCES;
        }
        if (uid != 0)
                qb_ipcs_connection_auth_set(c, uid, gid, 0600);
        return 0;
}

static void handle_request(struct vmhad *d, qb_ipcs_connection_t *c, void *data, size_t size) {
        struct qb_ipc_request_header *h = data;
        struct ipc_request req;
        char err[IPC_ERROR_MAX];

        if (size < sizeof(*h) || (size_t)h->size != size) {
                qb_log(LOG_WARNING, "dropped a malformed control message of %zu bytes", size);
                reply_error(c, 0, "malformed message framing");
                return;
        }
        if (ipc_request_parse(h + 1, size - sizeof(*h), &req, err) < 0) {
                qb_log(LOG_WARNING, "refused a control request: %s", err);
                reply_error(c, h->id, "bad request: %s", err);
                return;
        }
        switch (req.op) {
        case IPC_OP_STATUS:
                reply_json(c, h->id, vmhad_status_json(d));
                break;
        case IPC_OP_VM_LIST: {
                json_object *o = json_object_new_object(), *vms = json_object_new_array();
                for (size_t i = 0; i < node_state(d->node)->n_vms; i++)
                        json_object_array_add(vms, vmhad_vm_json(d, &node_state(d->node)->vms[i]));
                json_object_object_add(o, "vms", vms);
                reply_json(c, h->id, o);
                break;
        }
        case IPC_OP_HOST_FENCE:
                handle_host_fence(d, c, h->id, &req);
                break;
        case IPC_OP_METRICS:
                reply_metrics(d, c, h->id);
                break;
        case IPC_OP_EMERGENCY_CLEAR: {
                json_object *o = json_object_new_object();
                vmhad_check_fence_loop(d);
                vmhad_check_cluster_uuid(d);
                json_object_object_add(o, "ok", json_object_new_boolean(1));
                json_object_object_add(o, "emergency", json_object_new_boolean(vmhad_in_emergency(d)));
                reply_json(c, h->id, o);
                break;
        }
        default:
                handle_change(d, c, h->id, &req);
                break;
        }
}

static int32_t ipc_msg(qb_ipcs_connection_t *c, void *data, size_t size) {
        struct vmhad *d = vmhad_daemon;
        uint64_t start = vmhad_now_us();

        handle_request(d, c, data, size);
        vmhad_loop_note(d, "control request", start);
        return 0;
}

static void ipc_destroyed(qb_ipcs_connection_t *c) {
        struct vmhad *d = vmhad_daemon;
        for (int i = 0; i < VMHAD_MAX_PENDING; i++)
                if (d->pending[i].conn == c)
                        d->pending[i].conn = NULL;
}

static int32_t ipc_closed(qb_ipcs_connection_t *c) {
        (void)c;
        return 0;
}

static int32_t loop_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                                 qb_ipcs_dispatch_fn_t fn) {
        return qb_loop_poll_add(vmhad_daemon->loop, p, fd, events, data, fn);
}

static int32_t loop_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                                 qb_ipcs_dispatch_fn_t fn) {
        return qb_loop_poll_mod(vmhad_daemon->loop, p, fd, events, data, fn);
}

static int32_t loop_dispatch_del(int32_t fd) {
        return qb_loop_poll_del(vmhad_daemon->loop, fd);
}

static int32_t loop_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn) {
        return qb_loop_job_add(vmhad_daemon->loop, p, data, fn);
}

int vmhad_ctl_start(struct vmhad *d) {
        static struct qb_ipcs_service_handlers handlers = {
                .connection_accept = ipc_accept,
                .msg_process = ipc_msg,
                .connection_closed = ipc_closed,
                .connection_destroyed = ipc_destroyed,
        };
        static struct qb_ipcs_poll_handlers poll = {
                .job_add = loop_job_add,
                .dispatch_add = loop_dispatch_add,
                .dispatch_mod = loop_dispatch_mod,
                .dispatch_del = loop_dispatch_del,
        };
        /* d->ipc_gid was looked up at start (vmha_config_ipc_gid()). */
        d->ipcs = qb_ipcs_create(IPC_SERVICE_NAME, 0, QB_IPC_SHM, &handlers);
        if (!d->ipcs)
                return -errno;
        qb_ipcs_poll_handlers_set(d->ipcs, &poll);
        return qb_ipcs_run(d->ipcs);
}

