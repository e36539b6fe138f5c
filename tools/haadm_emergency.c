/* haadm emergency: is this host in emergency mode, and why?
 *
 * It must answer at the console even when vmhad is down or hung, so it
 * looks for itself: the local configuration and state files, the
 * heartbeat disk (deadline I/O), Corosync (a probe thread with a timeout)
 * and, if it answers within a second or two, vmhad. Every cause is printed
 * with what it means and the next step (fence/emergency.c).
 *
 * --clear re-checks and, when only causes that need an administrator's
 * word remain (fence loop, a stale FENCE, a re-created region), clears
 * them: the damping marker, the recorded cluster UUID, a CLEAR in this
 * host's own mailbox. Exit status: 1 in emergency mode, 0 not, 2 when it
 * cannot tell.
 */
#include "daemon/config.h"
#include "daemon/cs_error.h"
#include "daemon/fence_history.h"
#include "daemon/ipc_proto.h"
#include "daemon/json_strict.h"
#include "fence/emergency.h"
#include "heartbeat/disk_device.h"
#include "heartbeat/disk_region.h"
#include "tools/haadm.h"

#include <corosync/cmap.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <qb/qbipcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 2000u
/* vmhad answers at once when it is well; a frozen one must not keep the
 * console waiting longer than the shortest watchdog timeout. */
#define DAEMON_TIMEOUT_MS 1000u

struct check {
        bool cause[_EMERGENCY_CAUSE_MAX];
        char detail[_EMERGENCY_CAUSE_MAX][384];
        bool cannot_tell;
        char cannot_tell_why[256];
        /* what the checks learned */
        uint32_t self_id;
        bool have_region;
        struct disk_super sb;
        bool have_mailbox;
        struct disk_mailbox mailbox;
        uint64_t acked_seq;
        char last_fence[512];
        bool daemon_answered;
};

static void set_cause(struct check *c, enum emergency_cause cause, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_cause(struct check *c, enum emergency_cause cause, const char *fmt, ...) {
        va_list ap;
        c->cause[cause] = true;
        va_start(ap, fmt);
        vsnprintf(c->detail[cause], sizeof(c->detail[cause]), fmt, ap);
        va_end(ap);
}

/* ---- running a probe with a deadline ---- */

struct probe {
        void *(*fn)(void *);
        void *arg;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done;
};

static void *probe_main(void *arg) {
        struct probe *p = arg;
        p->fn(p->arg);
        pthread_mutex_lock(&p->lock);
        p->done = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/* Runs fn(arg) in a thread; false when it did not finish in time (the
 * thread is then abandoned: a hung IPC peer must not hang the console). */
static bool run_with_deadline(void *(*fn)(void *), void *arg, unsigned timeout_ms) {
        static struct probe p;  /* outlives an abandoned thread */
        struct timespec deadline;
        pthread_t t;
        bool done;

        p = (struct probe){ .fn = fn, .arg = arg };
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.cond, NULL);
        if (pthread_create(&t, NULL, probe_main, &p) != 0)
                return false;
        pthread_detach(t);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p.lock);
        while (!p.done && pthread_cond_timedwait(&p.cond, &p.lock, &deadline) == 0)
                ;
        done = p.done;
        pthread_mutex_unlock(&p.lock);
        return done;
}

/* ---- Corosync ---- */

struct corosync_probe {
        cs_error_t err;
        uint32_t node_id;
        bool have_id;
};

static void *corosync_probe_fn(void *arg) {
        struct corosync_probe *cp = arg;
        cmap_handle_t h;

        cp->err = cmap_initialize(&h);
        if (cp->err != CS_OK)
                return NULL;
        cp->have_id = cmap_get_uint32(h, "runtime.votequorum.this_node_id", &cp->node_id) == CS_OK;
        cmap_finalize(h);
        return NULL;
}

static void check_corosync(struct check *c) {
        static struct corosync_probe cp;

        memset(&cp, 0, sizeof(cp));
        if (!run_with_deadline(corosync_probe_fn, &cp, PROBE_TIMEOUT_MS)) {
                set_cause(c, EMERGENCY_COROSYNC_DOWN, "corosync does not answer within %u ms", PROBE_TIMEOUT_MS);
                return;
        }
        if (cp.err != CS_OK) {
                set_cause(c, EMERGENCY_COROSYNC_DOWN, "cannot connect to corosync: %s (error %d)",
                          vmha_cs_error_text(cp.err), cp.err);
                return;
        }
        if (!cp.have_id) {
                set_cause(c, EMERGENCY_COROSYNC_DOWN, "corosync runs without votequorum");
                return;
        }
        c->self_id = cp.node_id;
}

/* ---- the heartbeat disk ---- */

static void read_file(const char *dir, const char *name, char *buf, size_t len) {
        char path[PATH_MAX + 64];
        FILE *f;
        size_t n = 0;

        buf[0] = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return;
        n = fread(buf, 1, len - 1, f);
        buf[n] = 0;
        fclose(f);
}

static void check_disk(struct check *c, const struct vmha_config *cfg) {
        struct disk_io *io = NULL;
        struct disk_region *reg = NULL;
        struct disk_error err;
        char *path = NULL, recorded[64], uuid[37];
        int r;

        r = disk_device_resolve(cfg->heartbeat_device, &path);
        if (r < 0) {
                set_cause(c, EMERGENCY_DISK_MISSING, "%s: no such device", cfg->heartbeat_device);
                return;
        }
        r = disk_io_open(path, DISK_IO_READ_ONLY, &io);
        if (r == -EACCES || r == -EPERM) {
                c->cannot_tell = true;
                snprintf(c->cannot_tell_why, sizeof(c->cannot_tell_why), "%s: permission denied (run as root)", path);
                free(path);
                return;
        }
        if (r < 0) {
                char why[128];
                set_cause(c, EMERGENCY_DISK_MISSING, "%s: %s", path, disk_device_open_error(path, r, why, sizeof(why)));
                free(path);
                return;
        }
        r = disk_region_attach(io, PROBE_TIMEOUT_MS, &reg, &err);
        if (r == -EBADMSG || r == -EPROTO) {
                set_cause(c, EMERGENCY_DISK_CORRUPT, "%s: %s", path, err.msg);
                disk_io_free(io);
                free(path);
                return;
        }
        if (r < 0) {
                set_cause(c, EMERGENCY_DISK_UNREADABLE, "%s: %s", path,
                          r == -ETIMEDOUT ? "the read did not complete within 2 s" : err.msg);
                disk_io_free(io);
                free(path);
                return;
        }
        c->have_region = true;
        c->sb = reg->sb;
        disk_uuid_format(reg->sb.uuid, uuid);
        read_file(cfg->state_dir, "cluster-uuid", recorded, sizeof(recorded));
        recorded[strcspn(recorded, "\n")] = 0;
        if (recorded[0] && strcmp(recorded, uuid) != 0)
                set_cause(c, EMERGENCY_DISK_OTHER_CLUSTER, "the region is %s, this host joined %s", uuid, recorded);

        if (c->self_id >= 1 && c->self_id <= reg->sb.slot_count) {
                uint32_t n = reg->sb.slot_count;
                struct disk_slot *slots = calloc(n + 1, sizeof(*slots));
                struct disk_mailbox *mbs = calloc(n + 1, sizeof(*mbs));
                struct disk_status *st = calloc(n + 1, sizeof(*st)), *mst = calloc(n + 1, sizeof(*mst));
                if (slots && mbs && st && mst && disk_region_read_slots(reg, slots, st) == 0 &&
                    disk_region_read_mailboxes(reg, mbs, mst) == 0) {
                        if (st[c->self_id].error == 0)
                                c->acked_seq = slots[c->self_id].mailbox_ack_seq;
                        if (mst[c->self_id].error == 0) {
                                c->have_mailbox = true;
                                c->mailbox = mbs[c->self_id];
                                if (c->mailbox.command == DISK_MAILBOX_FENCE && c->mailbox.seq > c->acked_seq)
                                        set_cause(c, EMERGENCY_MAILBOX_FENCE, "FENCE %llu from host %u: %s",
                                                  (unsigned long long)c->mailbox.seq, c->mailbox.sender,
                                                  c->mailbox.reason);
                        }
                } else if (slots && mbs && st && mst) {
                        set_cause(c, EMERGENCY_DISK_UNREADABLE, "%s: reading the slots failed or timed out", path);
                }
                free(slots);
                free(mbs);
                free(st);
                free(mst);
        }
        disk_region_free(reg);
        free(path);
}

/* ---- local state ---- */

static void check_local(struct check *c, const struct vmha_config *cfg) {
        char text[8192], cleared[32];
        int64_t *times = NULL;
        size_t n = 0;
        char path[PATH_MAX + 32];

        snprintf(path, sizeof(path), "%s/fence-history", cfg->state_dir);
        fence_history_read(path, &times, &n);
        read_file(cfg->state_dir, "emergency-cleared", cleared, sizeof(cleared));
        snprintf(path, sizeof(path), "%s/emergency-sticky", cfg->state_dir);
        if (access(path, F_OK) == 0 ||
            emergency_fence_loop(times, n, (int64_t)time(NULL), atoll(cleared), cfg->max_fences_per_hour))
                set_cause(c, EMERGENCY_FENCE_LOOP, "at least %u self-fences within an hour", cfg->max_fences_per_hour);
        free(times);
        read_file(cfg->state_dir, "last-fence", text, sizeof(text));
        if (text[0]) {
                char when[64] = "", reason[400] = "";
                for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                        if (strncmp(line, "time=", 5) == 0)
                                snprintf(when, sizeof(when), "%.63s", line + 5);
                        else if (strncmp(line, "reason=", 7) == 0)
                                snprintf(reason, sizeof(reason), "%.399s", line + 7);
                }
                snprintf(c->last_fence, sizeof(c->last_fence), "%s: %s", when, reason);
        }
}

/* ---- vmhad ---- */

struct daemon_probe {
        enum ipc_op op;
        bool connected;
        json_object *reply;
};

static void *daemon_probe_fn(void *arg) {
        struct daemon_probe *dp = arg;
        struct ipc_request req = { .op = dp->op };
        struct qb_ipc_request_header hdr;
        struct iovec iov[2];
        qb_ipcc_connection_t *conn;
        static char buf[IPC_MAX_MESSAGE * 4];
        char *json = NULL;
        ssize_t n;

        conn = qb_ipcc_connect(IPC_SERVICE_NAME, IPC_MAX_MESSAGE + 4096);
        if (!conn)
                return NULL;
        dp->connected = true;
        if (ipc_request_format(&req, &json) == 0) {
                hdr.id = 1;
                hdr.size = (int32_t)(sizeof(hdr) + strlen(json));
                iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
                iov[1] = (struct iovec){ .iov_base = json, .iov_len = strlen(json) };
                n = qb_ipcc_sendv_recv(conn, iov, 2, buf, sizeof(buf), (int32_t)DAEMON_TIMEOUT_MS);
                if (n > (ssize_t)sizeof(struct qb_ipc_response_header)) {
                        struct json_strict_error jerr;
                        if (json_strict_parse_object(buf + sizeof(struct qb_ipc_response_header),
                                                     (size_t)n - sizeof(struct qb_ipc_response_header),
                                                     HAADM_REPLY_DEPTH, &dp->reply, &jerr) < 0)
                                dp->reply = NULL;
                }
        }
        free(json);
        qb_ipcc_disconnect(conn);
        return NULL;
}

static json_object *ask_daemon(enum ipc_op op, bool *answered) {
        static struct daemon_probe dp;

        memset(&dp, 0, sizeof(dp));
        dp.op = op;
        *answered = run_with_deadline(daemon_probe_fn, &dp, DAEMON_TIMEOUT_MS) && dp.reply;
        return *answered ? dp.reply : NULL;
}

static void check_daemon(struct check *c, const struct vmha_config *cfg) {
        bool answered;
        json_object *r = ask_daemon(IPC_OP_STATUS, &answered), *self, *causes;
        const char *const defaults[] = { "/dev/watchdog0", "/dev/watchdog" };

        c->daemon_answered = answered;
        if (!answered) {
                set_cause(c, EMERGENCY_DAEMON_DOWN, "vmhad is not running or did not answer within %u ms",
                          DAEMON_TIMEOUT_MS);
                /* Without vmhad's word, look for the watchdog device itself. */
                if (cfg->watchdog_device[0] ? access(cfg->watchdog_device, F_OK) != 0
                                            : access(defaults[0], F_OK) != 0 && access(defaults[1], F_OK) != 0)
                        set_cause(c, EMERGENCY_WATCHDOG, "no watchdog device (%s)",
                                  cfg->watchdog_device[0] ? cfg->watchdog_device : "/dev/watchdog0, /dev/watchdog");
                return;
        }
        if (json_object_object_get_ex(r, "self", &self) && json_object_object_get_ex(self, "emergency_causes", &causes))
                for (size_t i = 0; i < json_object_array_length(causes); i++) {
                        json_object *e = json_object_array_get_idx(causes, i), *name, *detail;
                        if (!json_object_object_get_ex(e, "cause", &name) || !json_object_object_get_ex(e, "detail", &detail))
                                continue;
                        for (int k = 0; k < _EMERGENCY_CAUSE_MAX; k++)
                                if (strcmp(json_object_get_string(name), emergency_cause_name(k)) == 0 && !c->cause[k])
                                        set_cause(c, (enum emergency_cause)k, "%s", json_object_get_string(detail));
                }
        json_object_put(r);
}

/* ---- output ---- */

static bool any_cause(const struct check *c) {
        for (int k = 0; k < _EMERGENCY_CAUSE_MAX; k++)
                if (c->cause[k])
                        return true;
        return false;
}

static int report(const struct check *c, bool json) {
        bool yes = any_cause(c);
        int status = yes ? HAADM_EXIT_FAIL : c->cannot_tell ? HAADM_EXIT_USAGE : HAADM_EXIT_OK;

        if (json) {
                json_object *o = json_object_new_object(), *arr = json_object_new_array();
                json_object_object_add(o, "emergency", c->cannot_tell && !yes ? NULL : json_object_new_boolean(yes));
                for (int k = 0; k < _EMERGENCY_CAUSE_MAX; k++) {
                        if (!c->cause[k])
                                continue;
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "cause", json_object_new_string(emergency_cause_name(k)));
                        json_object_object_add(e, "detail", json_object_new_string(c->detail[k]));
                        json_object_object_add(e, "meaning", json_object_new_string(emergency_cause_help(k)));
                        json_object_object_add(e, "needs_clear", json_object_new_boolean(emergency_cause_needs_clear(k)));
                        json_object_array_add(arr, e);
                }
                json_object_object_add(o, "causes", arr);
                json_object_object_add(o, "last_fence", c->last_fence[0] ? json_object_new_string(c->last_fence) : NULL);
                if (c->cannot_tell)
                        json_object_object_add(o, "cannot_tell", json_object_new_string(c->cannot_tell_why));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
                return status;
        }
        if (c->cannot_tell && !yes)
                printf("emergency mode: cannot tell: %s\n", c->cannot_tell_why);
        else
                printf("emergency mode: %s\n", yes ? "yes" : "no");
        for (int k = 0; k < _EMERGENCY_CAUSE_MAX; k++)
                if (c->cause[k])
                        printf("\n  %s: %s\n    %s\n", emergency_cause_name(k), c->detail[k], emergency_cause_help(k));
        if (c->last_fence[0])
                printf("\nlast self-fence: %s\n", c->last_fence);
        return status;
}

/* Without a usable vmha.conf nothing can be checked: say so, in JSON too
 * (same fields as report(), plus "error"). */
static int report_config_error(const char *err, bool json) {
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "emergency", NULL);
                json_object_object_add(o, "causes", json_object_new_array());
                json_object_object_add(o, "last_fence", NULL);
                json_object_object_add(o, "cannot_tell", json_object_new_string(err));
                json_object_object_add(o, "error", json_object_new_string(err));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                printf("emergency mode: cannot tell: %s\n", err);
        }
        return HAADM_EXIT_USAGE;
}

static void run_checks(struct check *c, const struct vmha_config *cfg) {
        memset(c, 0, sizeof(*c));
        check_corosync(c);
        check_disk(c, cfg);
        check_local(c, cfg);
        check_daemon(c, cfg);
}

/* Clears what only an administrator's word ends. */
static int clear(struct check *c, const struct vmha_config *cfg) {
        char path[PATH_MAX + 32], uuid[37];
        FILE *f;
        bool answered;

        for (int k = 0; k < _EMERGENCY_CAUSE_MAX; k++)
                if (c->cause[k] && !emergency_cause_needs_clear(k)) {
                        fprintf(stderr, "haadm: cannot clear emergency mode: %s remains (%s)\n",
                                emergency_cause_name(k), c->detail[k]);
                        return HAADM_EXIT_FAIL;
                }
        if (c->cause[EMERGENCY_FENCE_LOOP]) {
                snprintf(path, sizeof(path), "%s/emergency-sticky", cfg->state_dir);
                unlink(path);
                snprintf(path, sizeof(path), "%s/emergency-cleared", cfg->state_dir);
                f = fopen(path, "we");
                if (!f)
                        return haadm_usage_error("cannot write %s: %s", path, strerror(errno));
                fprintf(f, "%lld\n", (long long)time(NULL));
                fclose(f);
        }
        if (c->cause[EMERGENCY_DISK_OTHER_CLUSTER] && c->have_region) {
                snprintf(path, sizeof(path), "%s/cluster-uuid", cfg->state_dir);
                f = fopen(path, "we");
                if (!f)
                        return haadm_usage_error("cannot write %s: %s", path, strerror(errno));
                disk_uuid_format(c->sb.uuid, uuid);
                fprintf(f, "%s\n", uuid);
                fclose(f);
        }
        if (c->cause[EMERGENCY_MAILBOX_FENCE] && c->have_mailbox) {
                char *dev = NULL;
                struct disk_io *io = NULL;
                struct disk_region *reg = NULL;
                struct disk_error err;
                struct disk_mailbox mb = { .host_id = c->self_id, .command = DISK_MAILBOX_CLEAR,
                                           .sender = c->self_id, .seq = c->mailbox.seq + 1,
                                           .sent_unix_ms = (uint64_t)time(NULL) * 1000,
                                           .reason = "cleared by hand (haadm emergency --clear)" };
                int r = disk_device_resolve(cfg->heartbeat_device, &dev);
                if (r == 0)
                        r = disk_io_open(dev, DISK_IO_READ_WRITE, &io);
                if (r == 0) {
                        r = disk_region_attach(io, PROBE_TIMEOUT_MS, &reg, &err);
                        if (r < 0)
                                disk_io_free(io);
                }
                if (r == 0)
                        r = disk_region_write_mailbox(reg, &mb);
                disk_region_free(reg);
                free(dev);
                if (r < 0)
                        return haadm_usage_error("cannot write this host's mailbox: %s", strerror(-r));
        }
        json_object_put(ask_daemon(IPC_OP_EMERGENCY_CLEAR, &answered));
        printf("emergency mode cleared%s\n", answered ? "" : " (vmhad is not running; it re-checks when it starts)");
        return HAADM_EXIT_OK;
}

int haadm_emergency_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "clear", no_argument, NULL, 'x' },
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *config = getenv("VMHA_CONFIG") ? getenv("VMHA_CONFIG") : VMHA_CONFIG_PATH;
        struct vmha_config cfg;
        struct check c;
        bool do_clear = false, json = false;
        char err[VMHA_CONFIG_ERROR_MAX];
        int opt, r;

        optind = 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (opt) {
                case 'x':
                        do_clear = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 'h':
                        puts("usage: haadm emergency [--clear] [--json] [--config FILE]\n"
                             "       haadm host-is-in-emergency-mode [--json]\n"
                             "Tells whether this host is in emergency mode and why, even when vmhad is down.\n"
                             "Exit status: 1 in emergency mode, 0 not, 2 when it cannot tell.\n"
                             "--clear          re-check, then clear the causes only an administrator may end\n"
                             "--json           one JSON object instead of text\n"
                             "--config FILE    the vmha.conf to read (default: $VMHA_CONFIG, else\n"
                             "                 " VMHA_CONFIG_PATH ")\n"
                             "\n"
                             "watchdog-unavailable: vmhad needs a watchdog whose timer outlives a close that\n"
                             "vmhad did not choose (a crash, a SIGKILL): its driver supports magic close, or\n"
                             "is loaded with nowayout=1 (read from /sys/class/watchdog/NAME/nowayout; where\n"
                             "sysfs does not show it, it counts as not set). vmhad refuses any other device,\n"
                             "and one that cannot set the pool's timeout, hold it exactly, or be fed. It\n"
                             "never writes the magic character 'V' to a device it refuses (the timer may\n"
                             "guard guests an earlier vmhad left running), so what the refusing close does\n"
                             "is the driver's:\n"
                             "  - no magic close, no nowayout: the close stops the timer; nothing runs on;\n"
                             "  - magic close or nowayout (even one sysfs does not show): the timer, running\n"
                             "    since the open, keeps running with the timeout the device holds; nothing\n"
                             "    feeds it, and it resets this host within that timeout.\n"
                             "vmhad opens the watchdog once per start: fix the driver, then restart vmhad.");
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("emergency", "emergency", opt, argv);
                }
        }
        if (optind < argc)
                return haadm_usage_error("emergency: unexpected argument '%s'", argv[optind]);
        r = vmha_config_load(config, &cfg, err, sizeof(err));
        if (r < 0)
                return report_config_error(err, json);
        run_checks(&c, &cfg);
        if (!do_clear)
                return report(&c, json);
        if (c.cannot_tell)
                return haadm_usage_error("cannot clear: %s", c.cannot_tell_why);
        if (!any_cause(&c)) {
                printf("emergency mode: no\n");
                return HAADM_EXIT_OK;
        }
        r = clear(&c, &cfg);
        if (r != HAADM_EXIT_OK)
                return r;
        run_checks(&c, &cfg);
        return report(&c, json);
}
