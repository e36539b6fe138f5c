/* vmhad: the imperative shell around the pure decision core.
 *
 * It gathers inputs (Corosync membership and quorum, CPG acknowledgements,
 * the disk thread's slot reads), hands them to survival_decide(), and
 * carries out what the verdict says: feed the watchdog right after a
 * completed slot write, publish this host's view on disk, fence itself on
 * FENCE. The replicated HA state travels over CPG in agreed order and is
 * applied by hastate_apply() on every member; the master keeps a snapshot
 * of it in the disk's config region.
 *
 * Everything runs on one libqb loop. The only other thread is the disk
 * thread; the only blocking call on this loop is the short wait for the
 * FENCING slot write on the way to a reboot.
 */
#include "daemon/cluster.h"
#include "daemon/config.h"
#include "core/core_timing.h"
#include "daemon/disk_thread.h"
#include "core/hastate.h"
#include "daemon/ipc_proto.h"
#include "core/poison.h"
#include "core/poolplan.h"
#include "core/s2.h"
#include "core/survival.h"
#include "daemon/tiebreak.h"
#include "core/wire.h"
#include "fence/emergency.h"
#include "fence/watchdog.h"
#include "heartbeat/disk_device.h"
#include "heartbeat/disk_region.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 32
#define CHANGE_REPLY_TIMEOUT_MS 5000

struct pending_reply {
        qb_ipcs_connection_t *conn;
        int32_t id;
        uint64_t seq;
        uint64_t deadline_ms;
        enum ipc_op op;
};

struct vmhad {
        struct vmha_config cfg;
        const char *config_path;
        qb_loop_t *loop;
        qb_loop_timer_handle tick_timer;

        struct cluster *cl;
        bool cl_up;
        bool vq_quorate;                /* what votequorum last said */
        uint32_t self;

        struct disk_thread *disk;
        struct disk_super sb;
        struct disk_round round;
        uint64_t round_seen;
        uint64_t write_seq_seen;

        struct watchdog *wd;
        unsigned wd_seconds;
        struct tiebreak *tiebreak;

        struct core_timing timing;
        struct core_peer peers[CORE_MAX_HOST_ID];
        size_t n_peers;
        struct survival_inputs in;
        struct survival_verdict verdict;
        bool have_verdict;
        bool fencing;
        uint32_t master;

        struct hastate *state;
        uint32_t state_source;          /* sender of the snapshot last adopted */
        uint64_t seq;                   /* our CPG message counter */

        qb_ipcs_service_t *ipcs;
        gid_t ipc_gid;
        bool ipc_gid_known;
        struct pending_reply pending[MAX_PENDING];

        /* Emergency mode: the causes that hold now, each with its detail. */
        bool emergency[_EMERGENCY_CAUSE_MAX];
        char emergency_detail[_EMERGENCY_CAUSE_MAX][512];
        bool got_membership, got_round;

        /* Mailbox: what this incarnation saw at start, what it acknowledged. */
        bool mailbox_known;
        uint64_t mailbox_seq_at_start;
        uint64_t acked_seq;
        struct poison_sent sent[CORE_MAX_HOST_ID + 1];
        uint64_t memory_mib[CORE_MAX_HOST_ID + 1];      /* what each host announced; 0: unknown */
        uint64_t joined_ms[CORE_MAX_HOST_ID + 1];       /* when each host last entered the membership */
        bool peer_emergency[CORE_MAX_HOST_ID + 1];      /* what each host's last acknowledgement said */
        uint64_t started_ms;
        bool sd_watchdog;
};

static struct vmhad *the_daemon;        /* for libqb callbacks without context */

static const char *host_name(struct vmhad *d, uint32_t id, char buf[16]) {
        const char *n = d->cl ? cluster_node_name(d->cl, id) : NULL;
        if (n && *n)
                return n;
        snprintf(buf, 16, "host %u", id);
        return buf;
}

/* ---- emergency mode ---- */

static bool in_emergency(const struct vmhad *d) {
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++)
                if (d->emergency[c])
                        return true;
        return false;
}

/* Sets or clears one cause; the banner goes to the journal (and to the
 * console under systemd) whenever a cause starts, with the next step. */
static void emergency_set(struct vmhad *d, enum emergency_cause c, bool on, const char *detail) {
        if (on == d->emergency[c])
                return;
        d->emergency[c] = on;
        if (on) {
                snprintf(d->emergency_detail[c], sizeof(d->emergency_detail[c]), "%s", detail ? detail : "");
                qb_log(LOG_CRIT, "*** EMERGENCY MODE: %s%s%s. %s This host starts no protected VM and holds "
                                 "no HA ownership until it is fixed; 'haadm emergency' shows every cause. ***",
                       emergency_cause_name(c), detail && *detail ? ": " : "", detail ? detail : "",
                       emergency_cause_help(c));
                if (getenv("INVOCATION_ID")) {
                        FILE *con = fopen("/dev/console", "we");
                        if (con) {
                                fprintf(con, "\nvmhad: EMERGENCY MODE: %s: %s\n%s\n\n", emergency_cause_name(c),
                                        detail ? detail : "", emergency_cause_help(c));
                                fclose(con);
                        }
                }
        } else {
                d->emergency_detail[c][0] = 0;
                qb_log(LOG_NOTICE, "emergency cause %s is gone%s", emergency_cause_name(c),
                       in_emergency(d) ? "" : ": leaving emergency mode");
        }
}

static void state_path(const struct vmhad *d, const char *file, char *buf, size_t len) {
        snprintf(buf, len, "%s/%s", d->cfg.state_dir, file);
}

/* Fence-loop damping from the fence history, at start-up and on --clear. */
static void check_fence_loop(struct vmhad *d) {
        char path[PATH_MAX + 32], text[8192], why[256];
        int64_t times[256], cleared = 0;
        size_t n = 0;
        FILE *f;

        state_path(d, "fence-history", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
                size_t len = fread(text, 1, sizeof(text) - 1, f);
                text[len] = 0;
                fclose(f);
                n = emergency_history_parse(text, times, 256);
        }
        state_path(d, "emergency-cleared", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
                long long v;
                if (fscanf(f, "%lld", &v) == 1)
                        cleared = v;
                fclose(f);
        }
        state_path(d, "emergency-sticky", path, sizeof(path));
        if (emergency_fence_loop(times, n, (int64_t)time(NULL), cleared, d->cfg.max_fences_per_hour)) {
                f = fopen(path, "we");
                if (f) {
                        fprintf(f, "%u self-fences within an hour\n", d->cfg.max_fences_per_hour);
                        fclose(f);
                }
        }
        if (access(path, F_OK) == 0) {
                snprintf(why, sizeof(why), "at least %u self-fences within an hour", d->cfg.max_fences_per_hour);
                emergency_set(d, EMERGENCY_FENCE_LOOP, true, why);
        } else {
                emergency_set(d, EMERGENCY_FENCE_LOOP, false, NULL);
        }
}

/* The region's UUID is recorded at the first start; a different one later
 * means the device now holds another cluster's region (or a re-created
 * one), which only the administrator may accept. */
static void check_cluster_uuid(struct vmhad *d) {
        char path[PATH_MAX + 32], recorded[64] = "", uuid[37];
        FILE *f;

        disk_uuid_format(d->sb.uuid, uuid);
        state_path(d, "cluster-uuid", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
                if (!fgets(recorded, sizeof(recorded), f))
                        recorded[0] = 0;
                fclose(f);
                recorded[strcspn(recorded, "\n")] = 0;
        }
        if (!recorded[0]) {
                f = fopen(path, "we");
                if (f) {
                        fprintf(f, "%s\n", uuid);
                        fclose(f);
                }
                return;
        }
        if (strcmp(recorded, uuid) != 0) {
                char why[160];
                snprintf(why, sizeof(why), "the region is %s, this host joined %s", uuid, recorded);
                emergency_set(d, EMERGENCY_DISK_OTHER_CLUSTER, true, why);
        } else {
                emergency_set(d, EMERGENCY_DISK_OTHER_CLUSTER, false, NULL);
        }
}

static void report_last_fence(struct vmhad *d) {
        char path[PATH_MAX + 32], line[512], when[64] = "", reason[448] = "";
        FILE *f;

        state_path(d, "last-fence", path, sizeof(path));
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (strncmp(line, "time=", 5) == 0)
                        snprintf(when, sizeof(when), "%.63s", line + 5);
                else if (strncmp(line, "reason=", 7) == 0)
                        snprintf(reason, sizeof(reason), "%.447s", line + 7);
        }
        fclose(f);
        if (when[0])
                qb_log(LOG_WARNING, "this host fenced itself at %s: %s", when, reason);
}

/* ---- fencing ---- */

static void record_last_fence(struct vmhad *d, const char *reason) {
        char path[PATH_MAX + 32], when[64];
        time_t now = time(NULL);
        struct tm tm;
        FILE *f;

        state_path(d, "fence-history", path, sizeof(path));
        f = fopen(path, "ae");
        if (f) {
                fprintf(f, "%lld %s\n", (long long)now, reason);
                fflush(f);
                fsync(fileno(f));
                fclose(f);
        }
        state_path(d, "last-fence", path, sizeof(path));
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        f = fopen(path, "we");
        if (!f)
                return;
        fprintf(f, "time=%s\nunix=%lld\nreason=%s\n", when, (long long)now, reason);
        fflush(f);
        fsync(fileno(f));
        fclose(f);
}

/* FENCE is final for this incarnation: stop feeding for good, say FENCING
 * on the disk when it can be done quickly, then reboot. If reboot() fails,
 * the watchdog (never disarmed, never fed again) resets the host. */
static void self_fence(struct vmhad *d, const char *reason) {
        struct disk_slot s = { 0 };
        struct timespec ts;

        if (d->fencing)
                return;
        d->fencing = true;
        qb_log(LOG_CRIT, "fencing self: %s", reason);
        fprintf(stderr, "vmhad: FENCING SELF: %s\n", reason);
        record_last_fence(d, reason);
        if (d->disk) {
                clock_gettime(CLOCK_REALTIME, &ts);
                s.state = DISK_SLOT_FENCING;
                s.mailbox_ack_seq = d->acked_seq;
                s.ring_id = d->in.ring_id;
                memcpy(s.view, d->in.members.bits, DISK_VIEW_BYTES);
                s.watchdog_timeout_ms = d->wd_seconds * 1000;
                s.fence_unix_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
                snprintf(s.reason, sizeof(s.reason), "%.*s", (int)sizeof(s.reason) - 1, reason);
                disk_thread_set_slot(d->disk, &s);
                if (!disk_thread_wait_write(d->disk, 3 * d->timing.disk_interval_ms))
                        qb_log(LOG_CRIT, "fencing self: the FENCING slot write did not complete in time");
        }
        sync();
        reboot(d->cfg.fence_action == VMHA_FENCE_OFF ? RB_POWER_OFF : RB_AUTOBOOT);
        qb_log(LOG_CRIT, "fencing self: reboot() failed (%s); the watchdog will reset this host",
               strerror(errno));
        watchdog_abandon(d->wd);
        d->wd = NULL;
}

/* ---- the decision step ---- */

static void publish_slot(struct vmhad *d) {
        struct disk_slot s = { 0 };

        if (!d->disk || d->fencing)
                return;
        survival_fill_slot(&d->in, false, vmha_now_ms(), &s);
        s.watchdog_timeout_ms = d->wd_seconds * 1000;
        s.mailbox_ack_seq = d->acked_seq;
        if (d->have_verdict)
                snprintf(s.reason, sizeof(s.reason), "%.*s", (int)sizeof(s.reason) - 1, d->verdict.reason);
        disk_thread_set_slot(d->disk, &s);
}

static void arm_watchdog(struct vmhad *d) {
        char err[512];
        int r;

        if (d->wd || d->fencing)
                return;
        r = watchdog_open(d->cfg.watchdog_device[0] ? d->cfg.watchdog_device : NULL, d->wd_seconds, &d->wd,
                          err, sizeof(err));
        if (r < 0) {
                emergency_set(d, EMERGENCY_WATCHDOG, true, err);
                return;
        }
        qb_log(LOG_NOTICE, "watchdog %s armed with a %u s timeout", watchdog_path(d->wd), d->wd_seconds);
        emergency_set(d, EMERGENCY_WATCHDOG, false, NULL);
}

static void feed_if_allowed(struct vmhad *d, bool after_write) {
        if (!d->wd || d->fencing || !d->have_verdict)
                return;
        if (survival_may_feed(&d->verdict, after_write))
                watchdog_feed(d->wd);
}

static void decide(struct vmhad *d) {
        struct survival_verdict v;
        uint64_t now = vmha_now_ms();
        char name[16];

        if (d->fencing)
                return;
        /* A starting host decides nothing before it has heard Corosync and
         * had its first disk round (or the disk had its grace time to
         * answer): a verdict on missing inputs would be a guess. */
        if (!d->got_membership || (!d->got_round && now - d->started_ms < d->timing.io_grace_ms))
                return;
        d->in.tiebreak_ok = tiebreak_reachable(d->tiebreak, now, d->timing.disk_interval_ms);
        if (survival_decide(&d->in, now, &v) < 0)
                qb_log(LOG_ERR, "survival rule: inconsistent inputs (%s)", v.reason);
        if (!d->have_verdict || v.kind != d->verdict.kind || v.rule != d->verdict.rule)
                qb_log(v.kind == SURVIVAL_FENCE ? LOG_CRIT : LOG_NOTICE, "verdict %s: %s",
                       survival_kind_name(v.kind), v.reason);
        d->verdict = v;
        d->have_verdict = true;
        if (v.kind == SURVIVAL_FENCE) {
                self_fence(d, v.reason);
                return;
        }
        if (v.kind == SURVIVAL_SURVIVE) {
                if (d->in.joining) {
                        d->in.joining = false;
                        qb_log(LOG_NOTICE, "joined the pool: %s", v.reason);
                }
                arm_watchdog(d);
                uint32_t m = survival_master(&d->in);
                if (m != d->master) {
                        qb_log(LOG_NOTICE, "master is now %s (id %u)%s", host_name(d, m, name), m,
                               m == d->self ? ": this host" : "");
                        d->master = m;
                }
        } else if (v.kind == SURVIVAL_WAIT && d->master) {
                d->master = 0;
        }
        publish_slot(d);
}

/* ---- CPG messages ---- */

static int send_wire(struct vmhad *d, enum wire_type type, const uint8_t *payload, size_t len, uint64_t *seq) {
        uint8_t *buf;
        struct wire_header h = { .type = type, .sender = d->self, .seq = ++d->seq };
        int r;

        if (!d->cl_up)
                return -ENOTCONN;
        buf = malloc(WIRE_HEADER_SIZE + len);
        if (!buf)
                return -ENOMEM;
        wire_header_encode(&h, buf);
        if (len)
                memcpy(buf + WIRE_HEADER_SIZE, payload, len);
        r = cluster_send(d->cl, buf, WIRE_HEADER_SIZE + len);
        free(buf);
        if (seq)
                *seq = h.seq;
        return r;
}

static void send_ack(struct vmhad *d) {
        if (d->fencing)
                return;         /* a host on its way down vouches for no one */
        struct wire_ack a = { .ring_id = d->in.ring_id, .disk_ok = survival_own_disk_ok(&d->in, vmha_now_ms()),
                              .memory_mib = d->cfg.vm_memory_mib, .emergency = in_emergency(d) };
        uint8_t buf[WIRE_ACK_MAX_SIZE];
        size_t len;

        memcpy(a.view, d->in.members.bits, DISK_VIEW_BYTES);
        len = wire_ack_encode(&a, buf);
        send_wire(d, WIRE_ACK, buf, len, NULL);
}

static void send_snapshot(struct vmhad *d) {
        uint8_t *buf;
        size_t len;

        if (hastate_snapshot_encode(d->state, &buf, &len) < 0)
                return;
        if (send_wire(d, WIRE_SNAPSHOT, buf, len, NULL) < 0)
                qb_log(LOG_WARNING, "could not send the HA state snapshot to joining hosts");
        free(buf);
}

static void persist_state(struct vmhad *d) {
        uint8_t *buf;
        size_t len;

        if (d->master != d->self || !d->disk)
                return;
        if (hastate_snapshot_encode(d->state, &buf, &len) < 0)
                return;
        disk_thread_set_config(d->disk, d->state->generation + 1, buf, (uint32_t)len);
        free(buf);
}

static void reply_json(qb_ipcs_connection_t *c, int32_t id, json_object *o);
static void reply_error(qb_ipcs_connection_t *c, int32_t id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void complete_pending(struct vmhad *d, uint64_t seq, int r, const char *why) {
        for (int i = 0; i < MAX_PENDING; i++) {
                struct pending_reply *p = &d->pending[i];
                if (!p->conn || p->seq != seq)
                        continue;
                if (r == 0) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "ok", json_object_new_boolean(1));
                        json_object_object_add(o, "generation", json_object_new_int64((int64_t)d->state->generation));
                        reply_json(p->conn, p->id, o);
                } else {
                        reply_error(p->conn, p->id, "%s", why);
                }
                qb_ipcs_connection_unref(p->conn);
                p->conn = NULL;
        }
}

static void on_change(struct vmhad *d, const struct wire_header *h, const uint8_t *p, size_t len) {
        struct hastate_msg m;
        struct hastate_error err;
        int r;

        r = hastate_msg_decode(p, len, &m, &err);
        if (r == 0 && m.sender != h->sender) {
                r = -EBADMSG;
                snprintf(err.msg, sizeof(err.msg), "sender %u claims to be %u", h->sender, m.sender);
        }
        if (r == 0)
                r = hastate_apply(d->state, &m, &err);
        if (r < 0)
                qb_log(LOG_WARNING, "HA state change from host %u rejected: %s", h->sender, err.msg);
        else
                persist_state(d);
        if (h->sender == d->self)
                complete_pending(d, h->seq, r, err.msg);
}

static void on_snapshot(struct vmhad *d, const struct wire_header *h, const uint8_t *p, size_t len) {
        struct hastate *s;
        struct hastate_error err;

        if (h->sender == d->self)
                return;
        if (hastate_snapshot_decode(p, len, &s, &err) < 0) {
                qb_log(LOG_WARNING, "HA state snapshot from host %u rejected: %s", h->sender, err.msg);
                return;
        }
        if (s->generation > d->state->generation ||
            (s->generation == d->state->generation && h->sender < d->state_source)) {
                qb_log(LOG_INFO, "adopted the HA state of host %u (generation %llu)", h->sender,
                       (unsigned long long)s->generation);
                hastate_free(d->state);
                d->state = s;
                d->state_source = h->sender;
                persist_state(d);
        } else {
                hastate_free(s);
        }
}

static void cl_deliver(void *ud, uint32_t from, const void *msg, size_t len) {
        struct vmhad *d = ud;
        struct wire_header h;
        const uint8_t *p;
        size_t plen;

        if (wire_header_decode(msg, len, &h, &p, &plen) < 0 || h.sender != from) {
                qb_log(LOG_WARNING, "dropped a garbled CPG message of %zu bytes from node %u", len, from);
                return;
        }
        switch (h.type) {
        case WIRE_ACK: {
                struct wire_ack a;
                struct core_peer *peer;
                if (wire_ack_decode(p, plen, &a) < 0) {
                        qb_log(LOG_WARNING, "dropped a garbled acknowledgement from node %u", from);
                        return;
                }
                peer = survival_peer_find(d->peers, d->n_peers, from);
                if (peer) {
                        d->memory_mib[from] = a.memory_mib;
                        d->peer_emergency[from] = a.emergency;
                }
                if (peer && from != d->self && disk_view_test(a.view, d->self))
                        survival_peer_observe_ack(peer, vmha_now_ms());
                break;
        }
        case WIRE_CHANGE:
                on_change(d, &h, p, plen);
                break;
        case WIRE_SNAPSHOT:
                on_snapshot(d, &h, p, plen);
                break;
        }
}

static void cl_membership(void *ud, const uint32_t *members, size_t n, uint64_t ring_id,
                          const uint32_t *joined, size_t n_joined) {
        struct vmhad *d = ud;
        struct core_view v = { 0 };
        char buf[512];
        bool others_joined = false;

        for (size_t i = 0; i < n; i++)
                if (members[i] >= 1 && members[i] <= d->sb.slot_count)
                        core_view_add(&v, members[i]);
        /* CPG and votequorum report a change separately, a few ms apart.
         * Until votequorum speaks for the new membership, a quorum that
         * belonged to a bigger one is not evidence: count it as lost. */
        bool shrank = false;
        for (unsigned id = 1; id <= d->sb.slot_count; id++)
                shrank |= core_view_has(&d->in.members, id) && !core_view_has(&v, id);
        if (shrank && d->in.quorate)
                qb_log(LOG_DEBUG, "membership shrank: quorum unknown until votequorum confirms it");
        survival_observe_membership(&d->in, &v, ring_id, shrank ? false : d->in.quorate, vmha_now_ms());
        d->got_membership = true;
        qb_log(LOG_NOTICE, "membership %s (ring %llu)", core_view_format(&v, buf, sizeof(buf)),
               (unsigned long long)ring_id);
        for (size_t i = 0; i < n_joined; i++) {
                others_joined |= joined[i] != d->self;
                if (joined[i] <= CORE_MAX_HOST_ID)
                        d->joined_ms[joined[i]] = vmha_now_ms();
        }
        if (others_joined)
                send_snapshot(d);
        decide(d);
}

static void cl_quorum(void *ud, bool quorate) {
        struct vmhad *d = ud;
        qb_log(LOG_DEBUG, "votequorum: %s", quorate ? "quorate" : "not quorate");
        if (quorate != d->vq_quorate)
                qb_log(LOG_NOTICE, "quorum %s", quorate ? "gained" : "lost");
        d->vq_quorate = quorate;
        survival_observe_membership(&d->in, &d->in.members, d->in.ring_id, quorate, vmha_now_ms());
        decide(d);
}

static void reconnect(void *data);

static void cl_lost(void *ud) {
        struct vmhad *d = ud;
        struct core_view alone = { 0 };

        d->cl_up = false;
        emergency_set(d, EMERGENCY_COROSYNC_DOWN, true, "the connection to corosync was lost");
        qb_loop_timer_add(d->loop, QB_LOOP_LOW, 1000000000ULL, d, reconnect, NULL);
        core_view_add(&alone, d->self);
        qb_log(LOG_CRIT, "corosync is gone: this host now counts itself alone and without quorum");
        survival_observe_membership(&d->in, &alone, d->in.ring_id, false, vmha_now_ms());
        decide(d);
}

/* Corosync went away: try again every second. The old handle is freed
 * here, outside its own callbacks. */
static void reconnect(void *data) {
        struct vmhad *d = data;
        struct cluster_events ev = { .membership = cl_membership, .quorum = cl_quorum,
                                     .deliver = cl_deliver, .lost = cl_lost };
        char err[256];

        cluster_free(d->cl);
        d->cl = NULL;
        if (cluster_new(d->loop, &ev, d, &d->cl, err, sizeof(err)) < 0 || cluster_local_id(d->cl) != d->self) {
                if (d->cl && cluster_local_id(d->cl) != d->self)
                        qb_log(LOG_CRIT, "corosync came back with node id %u, not %u: not rejoining",
                               cluster_local_id(d->cl), d->self);
                qb_loop_timer_add(d->loop, QB_LOOP_LOW, 1000000000ULL, d, reconnect, NULL);
                return;
        }
        d->cl_up = true;
        emergency_set(d, EMERGENCY_COROSYNC_DOWN, false, NULL);
        qb_log(LOG_NOTICE, "reconnected to corosync");
}

/* ---- disk rounds and the tick ---- */

/* This host's mailbox, and the master's poison pills and clears. */
static void handle_mailboxes(struct vmhad *d, uint64_t now) {
        const struct disk_mailbox *mine = &d->round.mailbox;
        char name[16], reason[DISK_REASON_MAX + 64];

        if (d->fencing || !d->round.mailbox_ok)
                return;
        if (!d->mailbox_known) {
                /* What the previous incarnation acknowledged is in our slot. */
                if (d->round.status[d->self].error == 0)
                        d->acked_seq = d->round.slots[d->self].mailbox_ack_seq;
                d->mailbox_seq_at_start = mine->seq;
                d->mailbox_known = true;
        }
        switch (poison_inbox_check(mine, d->mailbox_seq_at_start, d->acked_seq)) {
        case POISON_INBOX_FENCE_NOW:
                d->acked_seq = mine->seq;
                snprintf(reason, sizeof(reason), "poison pill from %s: %s", host_name(d, mine->sender, name),
                         mine->reason);
                self_fence(d, reason);
                return;
        case POISON_INBOX_STALE_FENCE:
                snprintf(reason, sizeof(reason), "FENCE %llu from %s: %s", (unsigned long long)mine->seq,
                         host_name(d, mine->sender, name), mine->reason);
                emergency_set(d, EMERGENCY_MAILBOX_FENCE, true, reason);
                break;
        case POISON_INBOX_NOTHING:
                if (mine->command == DISK_MAILBOX_CLEAR && mine->seq > d->acked_seq) {
                        d->acked_seq = mine->seq;
                        emergency_set(d, EMERGENCY_MAILBOX_FENCE, false, NULL);
                }
                break;
        }

        /* The master's side. */
        bool master = d->have_verdict && d->verdict.kind == SURVIVAL_SURVIVE && d->master == d->self;
        for (size_t i = 0; master && i < d->n_peers; i++) {
                struct core_peer *p = &d->peers[i];
                const struct disk_mailbox *cur;
                struct disk_mailbox mb = { 0 };
                enum poison_action a;

                if (p->id == d->self || d->round.mb_status[p->id].error != 0)
                        continue;
                cur = &d->round.mailboxes[p->id];
                a = poison_decide(&d->timing, p, &d->sent[p->id], cur, true, now);
                if (a == POISON_NONE)
                        continue;
                mb.host_id = p->id;
                mb.sender = d->self;
                mb.seq = (cur->seq > d->sent[p->id].seq ? cur->seq : d->sent[p->id].seq) + 1;
                mb.sent_unix_ms = (uint64_t)time(NULL) * 1000;
                if (a == POISON_SEND_FENCE) {
                        mb.command = DISK_MAILBOX_FENCE;
                        snprintf(mb.reason, sizeof(mb.reason),
                                 "outside the surviving partition but still writing its slot");
                        qb_log(LOG_WARNING, "poison pill to %s: it left the membership but its slot still advances",
                               host_name(d, p->id, name));
                } else {
                        mb.command = DISK_MAILBOX_CLEAR;
                        snprintf(mb.reason, sizeof(mb.reason), "rejoined with a new incarnation");
                        qb_log(LOG_NOTICE, "clearing the mailbox of %s: it rejoined", host_name(d, p->id, name));
                }
                if (disk_thread_send_mailbox(d->disk, &mb) == 0)
                        d->sent[p->id] = (struct poison_sent){ .seq = mb.seq, .command = mb.command,
                                                               .incarnation = p->incarnation };
        }
}

static int32_t on_disk_event(int32_t fd, int32_t revents, void *data) {
        struct vmhad *d = data;
        uint64_t now = vmha_now_ms();
        bool new_write = false;

        (void)fd;
        (void)revents;
        disk_thread_take(d->disk, &d->round);
        if (d->round.written_seq != d->write_seq_seen) {
                /* A slot write completed, failed or passed its deadline. */
                d->write_seq_seen = d->round.written_seq;
                survival_observe_io(&d->in, SURVIVAL_IO_WRITE, d->round.write_ok, d->round.write_done_ms);
                new_write = d->round.write_ok;
                /* Rule 2 credits this host with the tiebreak flag only once
                 * a completed write published it. */
                if (new_write)
                        d->in.published_tiebreak_ok = d->round.written_flags & DISK_SLOT_TIEBREAK_OK;
        }
        if (d->round.round != d->round_seen) {
                d->round_seen = d->round.round;
                d->got_round = true;
                survival_observe_io(&d->in, SURVIVAL_IO_READ, d->round.read_ok, d->round.read_done_ms);
                if (d->round.read_ok)
                        for (size_t i = 0; i < d->n_peers; i++) {
                                uint32_t id = d->peers[i].id;
                                if (d->round.status[id].error == 0)
                                        survival_peer_observe_slot(&d->peers[i], &d->round.slots[id], now);
                        }
        }
        decide(d);
        if (new_write)
                feed_if_allowed(d, true);
        if (d->round.read_ok)
                handle_mailboxes(d, now);
        return 0;
}

static void expire_pending(struct vmhad *d) {
        uint64_t now = vmha_now_ms();
        for (int i = 0; i < MAX_PENDING; i++) {
                struct pending_reply *p = &d->pending[i];
                if (p->conn && now > p->deadline_ms) {
                        reply_error(p->conn, p->id, "the change was not delivered within %d ms; "
                                    "check 'haadm status' before retrying", CHANGE_REPLY_TIMEOUT_MS);
                        qb_ipcs_connection_unref(p->conn);
                        p->conn = NULL;
                }
        }
}

/* The tick runs twice per disk interval: rule 4 needs an acknowledgement
 * from every peer within one interval, and one late CPG message must not
 * fence a host that lives without its disk. */
static uint64_t tick_ns(const struct vmhad *d) {
        return (uint64_t)d->timing.disk_interval_ms * 1000000ULL / 2;
}

static void on_tick(void *data) {
        struct vmhad *d = data;

        send_ack(d);
        if (d->tiebreak)
                tiebreak_probe(d->tiebreak);
        decide(d);
        feed_if_allowed(d, false);
        expire_pending(d);
        if (d->sd_watchdog)
                sd_notify(0, "WATCHDOG=1");
        qb_loop_timer_add(d->loop, QB_LOOP_HIGH, tick_ns(d), d, on_tick, &d->tick_timer);
}

static int32_t on_signal(int32_t sig, void *data) {
        struct vmhad *d = data;
        unsigned owned = 0;

        qb_log(LOG_NOTICE, "signal %d: stopping", sig);
        for (size_t i = 0; i < d->state->n_vms; i++)
                owned += d->state->vms[i].owner == d->self;
        if (d->wd) {
                if (watchdog_may_disarm(d->state->pool.ha_enabled, owned, d->fencing)) {
                        watchdog_disarm(d->wd);
                        qb_log(LOG_NOTICE, "watchdog disarmed: orderly stop with no protected VM on this host");
                } else {
                        watchdog_abandon(d->wd);
                        qb_log(LOG_WARNING, "watchdog left armed: this host owns %u protected VM(s); "
                                            "it will reset unless vmhad comes back", owned);
                }
                d->wd = NULL;
        }
        qb_loop_stop(d->loop);
        return 0;
}

/* ---- control IPC ---- */

static void reply_json(qb_ipcs_connection_t *c, int32_t id, json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(s);
        struct qb_ipc_response_header *h = malloc(sizeof(*h) + len);

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
        char msg[IPC_ERROR_MAX + 128];
        va_list ap;
        json_object *o = json_object_new_object();

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string(msg));
        reply_json(c, id, o);
}

static const char *host_state_name(struct vmhad *d, const struct core_peer *p, uint64_t now) {
        if (p->id == d->self) {
                if (d->fencing)
                        return "FENCING";
                if (in_emergency(d))
                        return "EMERGENCY";
                return d->in.joining ? "JOINING" : "ALIVE";
        }
        if (!p->member) {
                if (s2_takeover_allowed(&d->timing, p, now, NULL))
                        return "FENCED";
                if (p->slot_seen && p->state == DISK_SLOT_FENCING)
                        return "FENCING";
                return "LEFT";
        }
        /* A host that (re)joined has said nothing new until its slot moves:
         * what the slot holds is its previous incarnation's last word. */
        if (!p->slot_seen || p->state == DISK_SLOT_JOINING || p->advanced_ms < d->joined_ms[p->id])
                return "JOINING";
        if (p->state == DISK_SLOT_FENCING)
                return "FENCING";
        return d->peer_emergency[p->id] ? "EMERGENCY" : "ALIVE";
}

static json_object *vm_json(struct vmhad *d, const struct hastate_vm *vm) {
        json_object *o = json_object_new_object();
        char name[16];
        json_object_object_add(o, "name", json_object_new_string(vm->name));
        json_object_object_add(o, "id", json_object_new_int64((int64_t)vm->id));
        json_object_object_add(o, "priority", json_object_new_string(hastate_priority_name(vm->priority)));
        json_object_object_add(o, "order", json_object_new_int(vm->order));
        json_object_object_add(o, "start_delay_s", json_object_new_int64(vm->start_delay_ms / 1000));
        json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)vm->memory_mib));
        json_object_object_add(o, "config", json_object_new_string(vm->config));
        json_object_object_add(o, "owner", vm->owner ? json_object_new_string(host_name(d, vm->owner, name)) : NULL);
        return o;
}

/* ---- the planner's view ---- */

static bool peer_alive(const struct vmhad *d, const struct core_peer *p) {
        if (p->id == d->self)
                return !d->fencing;
        return p->member && !(p->slot_seen && p->state == DISK_SLOT_FENCING);
}

/* Builds the plan pool of this moment; -ENODATA names a host whose memory
 * is unknown in *unknown. Host i of the pool is d->peers[i]. */
static int build_plan(struct vmhad *d, const struct hastate *s, struct plan_pool **pool, const char **unknown) {
        struct poolplan_host hosts[CORE_MAX_HOST_ID];
        static char names[CORE_MAX_HOST_ID][16];

        for (size_t i = 0; i < d->n_peers; i++) {
                const struct core_peer *p = &d->peers[i];
                uint64_t mem = p->id == d->self ? d->cfg.vm_memory_mib : d->memory_mib[p->id];
                hosts[i] = (struct poolplan_host){ .id = p->id, .name = host_name(d, p->id, names[i]),
                                                   .alive = peer_alive(d, p), .memory_known = mem > 0,
                                                   .memory_mib = mem };
        }
        return poolplan_build(s, hosts, d->n_peers, pool, unknown);
}

/* "{h2,h5}" from host indexes of the plan pool. */
static void format_hosts(struct vmhad *d, const size_t *idx, size_t n, char *buf, size_t len) {
        size_t used = (size_t)snprintf(buf, len, "{");
        char name[16];
        for (size_t i = 0; i < n && used < len; i++)
                used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                                         host_name(d, d->peers[idx[i]].id, name));
        if (used < len)
                snprintf(buf + used, len - used, "}");
}

/* Admission control: would this change leave the pool unable to restart
 * its protected VMs after the failures it must tolerate? Returns 0 to go
 * on, -EPERM with the planner's reason in err. */
static int admission_check(struct vmhad *d, const struct hastate_msg *m, char *err, size_t len) {
        struct plan_options opts;
        struct plan_pool *before = NULL, *after = NULL;
        struct plan_ntol *nb = NULL, *na = NULL;
        struct hastate *next = NULL;
        struct hastate_error herr;
        const char *unknown = NULL;
        uint8_t *buf = NULL;
        size_t blen;
        int r;

        if (m->type != HASTATE_MSG_POOL_SETTINGS && m->type != HASTATE_MSG_VM_PROTECT &&
            !(m->type == HASTATE_MSG_HOST_MAINTENANCE && m->u.maintenance.on))
                return 0;
        /* The state as it would be: a copy with the change applied. */
        r = hastate_snapshot_encode(d->state, &buf, &blen);
        if (r == 0)
                r = hastate_snapshot_decode(buf, blen, &next, &herr);
        free(buf);
        if (r == 0 && hastate_apply(next, m, &herr) < 0) {
                snprintf(err, len, "%s", herr.msg);
                hastate_free(next);
                return -EINVAL;
        }
        if (r == 0)
                r = build_plan(d, d->state, &before, &unknown);
        if (r == 0)
                r = build_plan(d, next, &after, &unknown);
        if (r == -ENODATA) {
                qb_log(LOG_NOTICE, "admission control skipped: the memory of %s is not known "
                                   "(set vm_memory_mib in its vmha.conf)", unknown);
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        plan_options_init(&opts);
        if (m->type == HASTATE_MSG_HOST_MAINTENANCE) {
                struct plan_change ch = { .kind = PLAN_CHANGE_HOST_MAINTENANCE };
                struct plan_admission *adm = NULL;
                for (size_t i = 0; i < d->n_peers; i++)
                        if (d->peers[i].id == m->u.maintenance.host_id)
                                ch.host = i;
                r = plan_check_change(before, &ch, &adm);
                if (r == 0 && !adm->allowed) {
                        snprintf(err, len, "%s", adm->reason);
                        r = -EPERM;
                }
                plan_admission_free(adm);
                goto out;
        }
        r = plan_failures_tolerated(before, &opts, &nb);
        if (r == 0)
                r = plan_failures_tolerated(after, &opts, &na);
        if (r < 0)
                goto out;
        if (!next->pool.allow_overcommit && na->failures_tolerated < next->pool.ftt_target &&
            (na->failures_tolerated < nb->failures_tolerated || next->pool.ftt_target > d->state->pool.ftt_target)) {
                char set[256] = "";
                format_hosts(d, na->uncovered, na->n_uncovered, set, sizeof(set));
                snprintf(err, len,
                         "refused: the pool would tolerate %s%u host failure(s) (now %u), below the target of %u%s%s%s; "
                         "give it more room, or allow overcommit with 'haadm pool set --allow-overcommit yes'",
                         na->exact ? "" : "at least ", na->failures_tolerated, nb->failures_tolerated,
                         next->pool.ftt_target, na->n_uncovered ? ": if " : "", na->n_uncovered ? set : "",
                         na->n_uncovered ? " failed, their protected VMs would not all find room" : "");
                r = -EPERM;
        }
out:
        plan_ntol_free(nb);
        plan_ntol_free(na);
        plan_pool_free(before);
        plan_pool_free(after);
        hastate_free(next);
        return r;
}

static json_object *status_json(struct vmhad *d) {
        json_object *o = json_object_new_object(), *hosts = json_object_new_array(), *pool, *vms, *self;
        uint64_t now = vmha_now_ms();
        char name[16];

        for (size_t i = 0; i < d->n_peers; i++) {
                const struct core_peer *p = &d->peers[i];
                json_object *h = json_object_new_object();
                bool disk_alive = p->slot_seen && now - p->advanced_ms <= d->timing.disk_timeout_ms;
                json_object_object_add(h, "id", json_object_new_int((int32_t)p->id));
                json_object_object_add(h, "name", json_object_new_string(host_name(d, p->id, name)));
                json_object_object_add(h, "state", json_object_new_string(host_state_name(d, p, now)));
                json_object_object_add(h, "master", json_object_new_boolean(d->master == p->id &&
                                                                            d->verdict.kind == SURVIVAL_SURVIVE));
                json_object_object_add(h, "network", json_object_new_boolean(p->member));
                json_object_object_add(h, "disk", json_object_new_boolean(disk_alive));
                json_object_object_add(h, "disk_age_ms",
                                       p->slot_seen ? json_object_new_int64((int64_t)(now - p->advanced_ms)) : NULL);
                json_object_object_add(h, "maintenance",
                                       json_object_new_boolean(core_view_has(&d->state->maintenance, p->id)));
                json_object_array_add(hosts, h);
        }
        json_object_object_add(o, "hosts", hosts);

        pool = json_object_new_object();
        json_object_object_add(pool, "cluster", json_object_new_string(d->sb.cluster_name));
        json_object_object_add(pool, "ha_enabled", json_object_new_boolean(d->state->pool.ha_enabled));
        json_object_object_add(pool, "failures_to_tolerate", json_object_new_int((int32_t)d->state->pool.ftt_target));
        json_object_object_add(pool, "allow_overcommit", json_object_new_boolean(d->state->pool.allow_overcommit));
        json_object_object_add(pool, "config_generation", json_object_new_int64((int64_t)d->state->generation));
        json_object_object_add(pool, "timeout_s", json_object_new_double(d->timing.timeout_ms / 1000.0));
        json_object_object_add(pool, "quorate", json_object_new_boolean(d->in.quorate));
        {
                struct plan_pool *pp = NULL;
                struct plan_ntol *nt = NULL;
                struct plan_options opts;
                const char *unknown = NULL;
                char note[160];
                plan_options_init(&opts);
                if (build_plan(d, d->state, &pp, &unknown) == 0 && plan_failures_tolerated(pp, &opts, &nt) == 0) {
                        json_object_object_add(pool, "failures_tolerated", json_object_new_int((int32_t)nt->failures_tolerated));
                        json_object_object_add(pool, "ntol_exact", json_object_new_boolean(nt->exact));
                        json_object_object_add(pool, "overcommitted",
                                               json_object_new_boolean(nt->failures_tolerated < d->state->pool.ftt_target));
                } else {
                        snprintf(note, sizeof(note), "unknown: the memory of %s is not known", unknown ? unknown : "a host");
                        json_object_object_add(pool, "failures_tolerated", NULL);
                        json_object_object_add(pool, "ntol_note", json_object_new_string(note));
                        json_object_object_add(pool, "overcommitted", NULL);
                }
                plan_ntol_free(nt);
                plan_pool_free(pp);
        }
        json_object_object_add(o, "pool", pool);

        self = json_object_new_object();
        json_object_object_add(self, "id", json_object_new_int((int32_t)d->self));
        json_object_object_add(self, "verdict", json_object_new_string(d->have_verdict ? survival_kind_name(d->verdict.kind)
                                                                                        : "NONE"));
        json_object_object_add(self, "reason", json_object_new_string(d->have_verdict ? d->verdict.reason : ""));
        json_object_object_add(self, "watchdog", json_object_new_boolean(d->wd != NULL));
        {
                json_object *causes = json_object_new_array();
                for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++) {
                        if (!d->emergency[c])
                                continue;
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "cause", json_object_new_string(emergency_cause_name(c)));
                        json_object_object_add(e, "detail", json_object_new_string(d->emergency_detail[c]));
                        json_object_array_add(causes, e);
                }
                json_object_object_add(self, "emergency", json_object_new_boolean(in_emergency(d)));
                json_object_object_add(self, "emergency_causes", causes);
        }
        json_object_object_add(o, "self", self);

        vms = json_object_new_array();
        for (size_t i = 0; i < d->state->n_vms; i++)
                json_object_array_add(vms, vm_json(d, &d->state->vms[i]));
        json_object_object_add(o, "vms", vms);
        return o;
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
        for (size_t i = 0; i < d->state->n_vms; i++)
                if (strcmp(d->state->vms[i].name, name) == 0)
                        return &d->state->vms[i];
        return NULL;
}

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
                m->u.pool = d->state->pool;
                m->u.pool.ha_enabled = req->op == IPC_OP_ENABLE;
                return 0;
        case IPC_OP_POOL_SET:
                m->type = HASTATE_MSG_POOL_SETTINGS;
                m->u.pool = d->state->pool;
                if (req->has_failures_to_tolerate) {
                        if (req->failures_to_tolerate >= d->n_peers) {
                                snprintf(err, err_len, "a pool of %zu hosts cannot tolerate %u failures",
                                         d->n_peers, req->failures_to_tolerate);
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
        struct hastate_msg m;
        uint8_t buf[HASTATE_MSG_WIRE_MAX];
        char err[IPC_ERROR_MAX];
        size_t used;
        uint64_t seq;
        int slot = -1;

        if (!d->cl_up || !d->in.quorate || !d->have_verdict || d->verdict.kind != SURVIVAL_SURVIVE) {
                reply_error(c, id, "refused: this host is not part of a quorate, surviving partition (%s)",
                            d->have_verdict ? d->verdict.reason : "no verdict yet");
                return;
        }
        if (change_message(d, req, &m, err, sizeof(err)) < 0 || admission_check(d, &m, err, sizeof(err)) < 0) {
                reply_error(c, id, "%s", err);
                return;
        }
        if (hastate_msg_encode(&m, buf, sizeof(buf), &used) < 0) {
                reply_error(c, id, "internal error: cannot encode the change");
                return;
        }
        for (int i = 0; i < MAX_PENDING && slot < 0; i++)
                if (!d->pending[i].conn)
                        slot = i;
        if (slot < 0) {
                reply_error(c, id, "busy: too many changes in flight, retry");
                return;
        }
        if (send_wire(d, WIRE_CHANGE, buf, used, &seq) < 0) {
                reply_error(c, id, "cannot send the change to the pool (corosync busy or gone), retry");
                return;
        }
        qb_ipcs_connection_ref(c);
        d->pending[slot] = (struct pending_reply){ .conn = c, .id = id, .seq = seq, .op = req->op,
                                                   .deadline_ms = vmha_now_ms() + CHANGE_REPLY_TIMEOUT_MS };
}

/* haadm host fence: a poison pill by hand. Never to the last survivor. */
static void handle_host_fence(struct vmhad *d, qb_ipcs_connection_t *c, int32_t id, const struct ipc_request *req) {
        uint32_t target = d->cl ? cluster_node_id(d->cl, req->host) : 0;
        struct disk_mailbox mb = { 0 };
        unsigned alive = 0;
        bool target_alive = false;
        char name[16];
        json_object *o;

        if (!target) {
                reply_error(c, id, "unknown host '%s'", req->host);
                return;
        }
        if (!d->have_verdict || d->verdict.kind != SURVIVAL_SURVIVE || !d->round.read_ok ||
            d->round.mb_status[target].error != 0) {
                reply_error(c, id, "refused: this host must be surviving and reach the disk to send a poison pill");
                return;
        }
        for (size_t i = 0; i < d->n_peers; i++) {
                const struct core_peer *p = &d->peers[i];
                bool a = p->id == d->self || (p->member && !(p->slot_seen && p->state == DISK_SLOT_FENCING));
                alive += a;
                if (p->id == target)
                        target_alive = a;
        }
        if (target_alive && alive <= 1) {
                reply_error(c, id, "refused: %s is the last surviving host of the pool", req->host);
                return;
        }
        mb.host_id = target;
        mb.sender = d->self;
        mb.command = DISK_MAILBOX_FENCE;
        mb.seq = (d->round.mailboxes[target].seq > d->sent[target].seq ? d->round.mailboxes[target].seq
                                                                        : d->sent[target].seq) + 1;
        mb.sent_unix_ms = (uint64_t)time(NULL) * 1000;
        snprintf(mb.reason, sizeof(mb.reason), "fenced by hand from %s (haadm host fence)", host_name(d, d->self, name));
        if (disk_thread_send_mailbox(d->disk, &mb) < 0) {
                reply_error(c, id, "cannot queue the poison pill");
                return;
        }
        d->sent[target] = (struct poison_sent){ .seq = mb.seq, .command = mb.command,
                                                .incarnation = survival_peer_find(d->peers, d->n_peers, target)->incarnation };
        qb_log(LOG_WARNING, "poison pill to %s by hand (haadm host fence)", req->host);
        o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)mb.seq));
        reply_json(c, id, o);
}

static int32_t ipc_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid) {
        struct vmhad *d = the_daemon;
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

static int32_t ipc_msg(qb_ipcs_connection_t *c, void *data, size_t size) {
        struct vmhad *d = the_daemon;
        struct qb_ipc_request_header *h = data;
        struct ipc_request req;
        char err[IPC_ERROR_MAX];

        if (size < sizeof(*h) || (size_t)h->size != size) {
                qb_log(LOG_WARNING, "dropped a malformed control message of %zu bytes", size);
                reply_error(c, 0, "malformed message framing");
                return 0;
        }
        if (ipc_request_parse(h + 1, size - sizeof(*h), &req, err) < 0) {
                qb_log(LOG_WARNING, "refused a control request: %s", err);
                reply_error(c, h->id, "bad request: %s", err);
                return 0;
        }
        switch (req.op) {
        case IPC_OP_STATUS:
                reply_json(c, h->id, status_json(d));
                break;
        case IPC_OP_VM_LIST: {
                json_object *o = json_object_new_object(), *vms = json_object_new_array();
                for (size_t i = 0; i < d->state->n_vms; i++)
                        json_object_array_add(vms, vm_json(d, &d->state->vms[i]));
                json_object_object_add(o, "vms", vms);
                reply_json(c, h->id, o);
                break;
        }
        case IPC_OP_HOST_FENCE:
                handle_host_fence(d, c, h->id, &req);
                break;
        case IPC_OP_EMERGENCY_CLEAR: {
                json_object *o = json_object_new_object();
                check_fence_loop(d);
                check_cluster_uuid(d);
                json_object_object_add(o, "ok", json_object_new_boolean(1));
                json_object_object_add(o, "emergency", json_object_new_boolean(in_emergency(d)));
                reply_json(c, h->id, o);
                break;
        }
        default:
                handle_change(d, c, h->id, &req);
                break;
        }
        return 0;
}

static void ipc_destroyed(qb_ipcs_connection_t *c) {
        struct vmhad *d = the_daemon;
        for (int i = 0; i < MAX_PENDING; i++)
                if (d->pending[i].conn == c)
                        d->pending[i].conn = NULL;
}

static int32_t ipc_closed(qb_ipcs_connection_t *c) {
        (void)c;
        return 0;
}

static int32_t loop_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                                 qb_ipcs_dispatch_fn_t fn) {
        return qb_loop_poll_add(the_daemon->loop, p, fd, events, data, fn);
}

static int32_t loop_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                                 qb_ipcs_dispatch_fn_t fn) {
        return qb_loop_poll_mod(the_daemon->loop, p, fd, events, data, fn);
}

static int32_t loop_dispatch_del(int32_t fd) {
        return qb_loop_poll_del(the_daemon->loop, fd);
}

static int32_t loop_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn) {
        return qb_loop_job_add(the_daemon->loop, p, data, fn);
}

static int start_ipc(struct vmhad *d) {
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
        struct group *g = getgrnam(d->cfg.ipc_group);

        if (g) {
                d->ipc_gid = g->gr_gid;
                d->ipc_gid_known = true;
        } else {
                qb_log(LOG_WARNING, "ipc_group %s does not exist: only root may use haadm", d->cfg.ipc_group);
        }
        d->ipcs = qb_ipcs_create(IPC_SERVICE_NAME, 0, QB_IPC_SHM, &handlers);
        if (!d->ipcs)
                return -errno;
        qb_ipcs_poll_handlers_set(d->ipcs, &poll);
        return qb_ipcs_run(d->ipcs);
}

/* ---- start-up ---- */

/* Opens the heartbeat region; a failure is an emergency cause, and the
 * caller tries again. */
static int open_region(struct vmhad *d, struct disk_region **reg) {
        char *path = NULL, why[512];
        struct disk_io *io;
        struct disk_error err;
        int r;

        r = disk_device_resolve(d->cfg.heartbeat_device, &path);
        if (r < 0) {
                snprintf(why, sizeof(why), "%.256s: %s", d->cfg.heartbeat_device,
                         r == -ENOENT ? "no such device" : "not a valid device name");
                emergency_set(d, EMERGENCY_DISK_MISSING, true, why);
                return r;
        }
        r = disk_io_open(path, DISK_IO_READ_WRITE, &io);
        if (r < 0) {
                snprintf(why, sizeof(why), "%.200s (%.200s): cannot open: %s", d->cfg.heartbeat_device, path, strerror(-r));
                emergency_set(d, EMERGENCY_DISK_MISSING, true, why);
                free(path);
                return r;
        }
        emergency_set(d, EMERGENCY_DISK_MISSING, false, NULL);
        r = disk_region_attach(io, 2000, reg, &err);
        if (r < 0) {
                bool corrupt = r == -EBADMSG || r == -EPROTO;
                snprintf(why, sizeof(why), "%.150s (%.150s): %s", d->cfg.heartbeat_device, path, err.msg);
                emergency_set(d, corrupt ? EMERGENCY_DISK_CORRUPT : EMERGENCY_DISK_UNREADABLE, true, why);
                disk_io_free(io);
                free(path);
                return r;
        }
        emergency_set(d, EMERGENCY_DISK_CORRUPT, false, NULL);
        emergency_set(d, EMERGENCY_DISK_UNREADABLE, false, NULL);
        free(path);
        return 0;
}

/* The HA state a cold start begins with: the disk's config snapshot. */
static void load_state(struct vmhad *d, struct disk_region *reg) {
        struct disk_config_header hdr[2];
        struct disk_status st[2];
        struct hastate_error err;
        struct hastate *s;
        void *payload = NULL;
        int current;

        d->state = hastate_new();
        d->state_source = d->self;
        if (disk_region_read_config(reg, hdr, st, &current, &payload) < 0 || current < 0) {
                qb_log(LOG_WARNING, "no readable HA configuration on disk: starting empty");
                free(payload);
                return;
        }
        if (hdr[current].payload_len == 0) {
                free(payload);
                return;
        }
        if (hastate_snapshot_decode(payload, hdr[current].payload_len, &s, &err) < 0) {
                qb_log(LOG_ERR, "the HA configuration on disk is not usable (%s): starting empty", err.msg);
        } else {
                hastate_free(d->state);
                d->state = s;
                qb_log(LOG_INFO, "loaded the HA configuration from disk (generation %llu, %zu VMs)",
                       (unsigned long long)s->generation, s->n_vms);
        }
        free(payload);
}

static const char usage_text[] =
        "usage: vmhad [-c CONFIG] [-f] [-v]\n"
        "  -c, --config FILE  configuration file (default " VMHA_CONFIG_PATH ")\n"
        "  -f, --foreground   log to stderr as well (systemd runs it in the foreground anyway)\n"
        "  -v, --verbose      debug logging\n"
        "  -t, --check-config check the configuration and exit\n";

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "verbose", no_argument, NULL, 'v' },
                { "check-config", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        static struct vmhad daemon_ctx;
        struct vmhad *d = &daemon_ctx;
        struct cluster_events ev = { .membership = cl_membership, .quorum = cl_quorum,
                                     .deliver = cl_deliver, .lost = cl_lost };
        struct disk_region *reg = NULL;
        struct disk_slot initial = { .state = DISK_SLOT_JOINING };
        char err[VMHA_CONFIG_ERROR_MAX];
        bool foreground = false, verbose = false, check_only = false;
        uint64_t now;
        int c, r;

        the_daemon = d;
        d->config_path = VMHA_CONFIG_PATH;
        while ((c = getopt_long(argc, argv, "c:fvth", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        d->config_path = optarg;
                        break;
                case 'f':
                        foreground = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 't':
                        check_only = true;
                        break;
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                default:
                        fputs(usage_text, stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vmhad: unexpected argument '%s'\n%s", argv[optind], usage_text);
                return 2;
        }
        r = vmha_config_load(d->config_path, &d->cfg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "vmhad: %s\n", err);
                return 1;
        }
        if (check_only) {
                printf("%s: ok\n", d->config_path);
                return 0;
        }

        qb_log_init("vmhad", LOG_DAEMON, verbose ? LOG_DEBUG : LOG_INFO);
        qb_log_format_set(QB_LOG_STDERR, "%t %p: %b");
        qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, foreground ? QB_TRUE : QB_FALSE);
        qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
                          verbose ? LOG_DEBUG : LOG_INFO);
        qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO);
        mkdir(d->cfg.state_dir, 0700);
        report_last_fence(d);
        check_fence_loop(d);
        /* A page fault on a swapped-out page must not delay a heartbeat. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                qb_log(LOG_WARNING, "mlockall failed (%s): heartbeats may stall under memory pressure",
                       strerror(errno));

        /* systemd hears READY at once: a host waiting for its disk or for
         * Corosync is running, in emergency mode, not failing to start. */
        sd_notify(0, "READY=1");
        while ((r = open_region(d, &reg)) < 0) {
                sd_notify(0, "STATUS=emergency mode: waiting for the heartbeat device");
                sleep(2);
        }
        d->sb = reg->sb;
        check_cluster_uuid(d);
        if (core_timing_init(&d->timing, d->sb.timeout_ms) < 0) {
                qb_log(LOG_CRIT, "the heartbeat region's timeout %u ms is out of range", d->sb.timeout_ms);
                return 1;
        }
        if (d->cfg.timeout_ms != 5000 && d->cfg.timeout_ms != d->sb.timeout_ms)
                qb_log(LOG_WARNING, "vmha.conf's timeout (%u ms) differs from the heartbeat region's "
                                    "(%u ms); the region's is the pool's and is used",
                       d->cfg.timeout_ms, d->sb.timeout_ms);
        d->wd_seconds = watchdog_seconds_for(d->timing.watchdog_timeout_ms);
        /* A hung read or write counts as failed at the end of its interval. */
        reg->timeout_ms = d->timing.disk_interval_ms;

        d->loop = qb_loop_create();
        /* Corosync may still be starting: wait quietly for a few seconds
         * before calling it an emergency. */
        for (unsigned tries = 0; (r = cluster_new(d->loop, &ev, d, &d->cl, err, sizeof(err))) < 0; tries++) {
                if (tries == 5)
                        emergency_set(d, EMERGENCY_COROSYNC_DOWN, true, err);
                else if (tries < 5)
                        qb_log(LOG_INFO, "waiting for corosync: %s", err);
                sd_notify(0, "STATUS=waiting for corosync");
                sleep(1);
        }
        emergency_set(d, EMERGENCY_COROSYNC_DOWN, false, NULL);
        d->cl_up = true;
        d->self = cluster_local_id(d->cl);
        if (d->self < 1 || d->self > d->sb.slot_count) {
                qb_log(LOG_CRIT, "this host's corosync node id %u has no slot (the region has %u slots)",
                       d->self, d->sb.slot_count);
                return 1;
        }

        now = vmha_now_ms();
        d->started_ms = now;
        {
                size_t n;
                const struct cluster_node *nodes = cluster_nodes(d->cl, &n);
                for (size_t i = 0; i < n && d->n_peers < CORE_MAX_HOST_ID; i++) {
                        if (nodes[i].id < 1 || nodes[i].id > d->sb.slot_count) {
                                qb_log(LOG_CRIT, "corosync node %s has id %u, beyond the region's %u slots",
                                       nodes[i].name, nodes[i].id, d->sb.slot_count);
                                return 1;
                        }
                        survival_peer_init(&d->peers[d->n_peers++], nodes[i].id, now);
                }
        }
        d->in.timing = &d->timing;
        d->in.self_id = d->self;
        d->in.peers = d->peers;
        d->in.n_peers = d->n_peers;
        d->in.joining = true;
        core_view_add(&d->in.members, d->self);
        d->in.membership_since_ms = now;
        load_state(d, reg);

        if (disk_round_init(&d->round, d->sb.slot_count) < 0) {
                qb_log(LOG_CRIT, "out of memory");
                return 1;
        }
        initial.watchdog_timeout_ms = d->wd_seconds * 1000;
        snprintf(initial.reason, sizeof(initial.reason), "starting");
        r = disk_thread_start(reg, d->self, d->timing.disk_interval_ms, &initial, &d->disk);
        if (r < 0) {
                qb_log(LOG_CRIT, "cannot start the disk thread: %s", strerror(-r));
                return 1;
        }
        qb_loop_poll_add(d->loop, QB_LOOP_HIGH, disk_thread_fd(d->disk), POLLIN, d, on_disk_event);
        qb_loop_signal_add(d->loop, QB_LOOP_HIGH, SIGTERM, d, on_signal, NULL);
        qb_loop_signal_add(d->loop, QB_LOOP_HIGH, SIGINT, d, on_signal, NULL);
        if (d->cfg.tiebreak_target[0]) {
                r = tiebreak_new(d->loop, d->cfg.tiebreak_target, &d->tiebreak);
                if (r < 0)
                        qb_log(LOG_ERR, "cannot probe the tiebreak target %s (%s): even splits will go "
                                        "to the lowest id", d->cfg.tiebreak_target, strerror(-r));
                else
                        qb_log(LOG_INFO, "probing the tiebreak target %s", d->cfg.tiebreak_target);
        }
        r = start_ipc(d);
        if (r < 0) {
                qb_log(LOG_CRIT, "cannot start the control socket: %s", strerror(-r));
                return 1;
        }
        qb_loop_timer_add(d->loop, QB_LOOP_HIGH, tick_ns(d), d, on_tick, &d->tick_timer);
        {
                uint64_t usec;
                d->sd_watchdog = sd_watchdog_enabled(0, &usec) > 0;
        }
        qb_log(LOG_NOTICE, "vmhad started: host %u of cluster %s, timeout %.1f s, watchdog %u s",
               d->self, d->sb.cluster_name, d->timing.timeout_ms / 1000.0, d->wd_seconds);
        sd_notify(0, "STATUS=running");
        qb_loop_run(d->loop);

        sd_notify(0, "STOPPING=1");
        if (d->ipcs)
                qb_ipcs_destroy(d->ipcs);
        disk_thread_stop(d->disk);
        tiebreak_free(d->tiebreak);
        cluster_free(d->cl);
        hastate_free(d->state);
        disk_round_free(&d->round);
        qb_loop_destroy(d->loop);
        qb_log_fini();
        return 0;
}
