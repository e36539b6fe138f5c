/* vmhad: start-up and the orderly stop.
 *
 * Before the event loop runs, vmhad waits for its heartbeat device and for
 * Corosync (emergency mode, not a failed start), pinging systemd's watchdog
 * while it waits. Then it creates the node engine with the pool's timeout
 * from the region and the hosts from Corosync's node list, and runs the
 * loop (see vmhad.h for the files and their roles).
 */
#include <config.h>      /* configure's: PACKAGE_VERSION (not daemon/config.h) */
#include "daemon/vmhad.h"

#include "daemon/cluster.h"
#include "daemon/metrics_file.h"
#include "daemon/tiebreak.h"
#include "fence/watchdog.h"
#include "heartbeat/disk_device.h"
#include "heartbeat/disk_region.h"

#include <errno.h>
#include <getopt.h>
#include <qb/qblog.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* Sleeps for ms before the loop runs, pinging systemd's watchdog at least
 * every third of its timeout. */
static void wait_pinging(struct vmhad *d, unsigned ms) {
        uint64_t step = d->sd_watchdog_usec ? d->sd_watchdog_usec / 3000 : ms;

        while (ms) {
                unsigned now = step && step < ms ? (unsigned)step : ms;
                struct timespec ts = { now / 1000, (long)(now % 1000) * 1000000L };
                vmhad_sd_ping(d);
                nanosleep(&ts, NULL);
                ms -= now;
        }
        vmhad_sd_ping(d);
}

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
                vmhad_emergency(d, EMERGENCY_DISK_MISSING, true, why);
                return r;
        }
        r = disk_io_open(path, DISK_IO_READ_WRITE, &io);
        if (r < 0) {
                snprintf(why, sizeof(why), "%.200s (%.200s): cannot open: %s", d->cfg.heartbeat_device, path,
                         strerror(-r));
                vmhad_emergency(d, EMERGENCY_DISK_MISSING, true, why);
                free(path);
                return r;
        }
        vmhad_emergency(d, EMERGENCY_DISK_MISSING, false, NULL);
        r = disk_region_attach(io, 2000, reg, &err);
        if (r < 0) {
                bool corrupt = r == -EBADMSG || r == -EPROTO;
                snprintf(why, sizeof(why), "%.150s (%.150s): %s", d->cfg.heartbeat_device, path, err.msg);
                vmhad_emergency(d, corrupt ? EMERGENCY_DISK_CORRUPT : EMERGENCY_DISK_UNREADABLE, true, why);
                disk_io_free(io);
                free(path);
                return r;
        }
        vmhad_emergency(d, EMERGENCY_DISK_CORRUPT, false, NULL);
        vmhad_emergency(d, EMERGENCY_DISK_UNREADABLE, false, NULL);
        free(path);
        return 0;
}

/* The HA state a cold start begins with: the disk's config snapshot. A
 * copy that does not verify (checksum, compressed stream, length) is never
 * used; with neither copy valid the pool starts empty, and says why. */
static struct hastate *load_state(struct disk_region *reg) {
        struct disk_config_header hdr[2];
        struct disk_status st[2] = { { 0 }, { 0 } };
        struct hastate_error err;
        struct hastate *s = NULL;
        void *payload = NULL;
        int current = -1, r;

        r = disk_region_read_config(reg, hdr, st, &current, &payload);
        if (r < 0)
                qb_log(LOG_WARNING, "cannot read the HA configuration on disk (%s): starting empty", strerror(-r));
        else if (current < 0)
                qb_log(LOG_WARNING, "no valid HA configuration on disk (%s; %s): starting empty", st[0].msg.msg,
                       st[1].msg.msg);
        else if (hdr[current].raw_len > 0) {
                if (hastate_snapshot_decode(payload, hdr[current].raw_len, &s, &err) < 0)
                        qb_log(LOG_ERR, "the HA configuration on disk is not usable (%s): starting empty", err.msg);
                else
                        qb_log(LOG_INFO, "loaded the HA configuration from disk (generation %llu, %zu VMs)",
                               (unsigned long long)s->generation, s->n_vms);
        }
        free(payload);
        return s ? s : hastate_new();
}

static int32_t on_signal(int32_t sig, void *data) {
        struct vmhad *d = data;

        qb_log(LOG_NOTICE, "signal %d: stopping", sig);
        vmhad_watchdog_stop(d);
        qb_loop_stop(d->loop);
        return 0;
}

/* Corosync may still be starting: wait quietly for a few seconds before
 * calling it an emergency. */
static void connect_corosync(struct vmhad *d) {
        char err[VMHA_CONFIG_ERROR_MAX];

        for (unsigned tries = 0; vmhad_cluster_connect(d, err, sizeof(err)) < 0; tries++) {
                if (tries == 5)
                        vmhad_emergency(d, EMERGENCY_COROSYNC_DOWN, true, err);
                else if (tries < 5)
                        qb_log(LOG_INFO, "waiting for corosync: %s", err);
                sd_notify(0, "STATUS=waiting for corosync");
                wait_pinging(d, 1000);
        }
        vmhad_emergency(d, EMERGENCY_COROSYNC_DOWN, false, NULL);
        d->cl_up = true;
}

/* The engine, with the hosts of Corosync's node list. */
static int start_engine(struct vmhad *d, struct disk_region *reg) {
        uint32_t ids[CORE_MAX_HOST_ID];
        const char *names[CORE_MAX_HOST_ID];
        size_t n, count = 0;
        const struct cluster_node *nodes = cluster_nodes(d->cl, &n);
        struct node_config nc = { .self_id = d->self, .hosts = ids, .host_names = names,
                                  .timeout_ms = d->sb.timeout_ms, .vm_memory_mib = d->cfg.vm_memory_mib,
                                  .vms = d->cfg.driver != VMHA_DRIVER_NONE,
                                  .config_capacity = disk_layout_config_bytes(&reg->layout) };
        int r;

        for (size_t i = 0; i < n && count < CORE_MAX_HOST_ID; i++) {
                if (nodes[i].id < 1 || nodes[i].id > d->sb.slot_count) {
                        qb_log(LOG_CRIT, "corosync node %s has id %u, beyond the region's %u slots", nodes[i].name,
                               nodes[i].id, d->sb.slot_count);
                        return -ERANGE;
                }
                ids[count] = nodes[i].id;
                names[count++] = nodes[i].name;
        }
        nc.n_hosts = count;
        /* A new base per start: see node_config.msg_seq_base. */
        if (getrandom(&nc.msg_seq_base, sizeof(nc.msg_seq_base), 0) != sizeof(nc.msg_seq_base))
                nc.msg_seq_base = (uint64_t)vmha_unix_ms() << 16;
        nc.msg_seq_base &= ~(uint64_t)UINT32_MAX;
        d->config_capacity = nc.config_capacity;
        r = node_new(&nc, load_state(reg), vmha_now_ms(), &d->node);
        if (r < 0) {
                qb_log(LOG_CRIT, "cannot start the node engine: %s", strerror(-r));
                return r;
        }
        /* What the shell found before the engine existed. */
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++)
                if (d->early[c])
                        vmhad_emergency(d, c, true, d->early_detail[c]);
        return 0;
}

static int start_disk(struct vmhad *d, struct disk_region *reg) {
        struct disk_slot initial = { .state = DISK_SLOT_JOINING };    /* not armed yet: watchdog 0 */
        int r;

        if (disk_round_init(&d->round, d->sb.slot_count) < 0)
                return -ENOMEM;
        d->slot_reads = calloc(d->sb.slot_count + 1, sizeof(*d->slot_reads));
        d->mb_reads = calloc(d->sb.slot_count + 1, sizeof(*d->mb_reads));
        if (!d->slot_reads || !d->mb_reads)
                return -ENOMEM;
        snprintf(initial.reason, sizeof(initial.reason), "starting");
        /* A hung read or write counts as failed at the end of its interval. */
        reg->timeout_ms = node_timing(d->node)->disk_interval_ms;
        r = disk_thread_start(reg, d->self, node_timing(d->node)->disk_interval_ms, &initial, &d->disk);
        if (r < 0)
                qb_log(LOG_CRIT, "cannot start the disk thread: %s", strerror(-r));
        return r;
}

static const char usage_text[] =
        "usage: vmhad [-c FILE] [-f] [-v] [-t]\n"
        "       vmhad -h\n"
        "  -c, --config FILE  configuration file (default " VMHA_CONFIG_PATH ")\n"
        "  -f, --foreground   log to stderr as well (systemd runs it in the foreground anyway)\n"
        "  -v, --verbose      debug logging\n"
        "  -t, --check-config check the configuration and exit\n"
        "  -h, --help         print this usage and exit\n"
        "      --version      print the version and exit\n";

static void setup_logging(bool foreground, bool verbose) {
        qb_log_init("vmhad", LOG_DAEMON, verbose ? LOG_DEBUG : LOG_INFO);
        qb_log_format_set(QB_LOG_STDERR, "%t %p: %b");
        qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, foreground ? QB_TRUE : QB_FALSE);
        qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", verbose ? LOG_DEBUG : LOG_INFO);
        qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "verbose", no_argument, NULL, 'v' },
                { "check-config", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },       /* long only: -v is --verbose */
                {}
        };
        static struct vmhad daemon_ctx;
        struct vmhad *d = &daemon_ctx;
        struct disk_region *reg = NULL;
        char err[VMHA_CONFIG_ERROR_MAX];
        bool foreground = false, verbose = false, check_only = false;
        int c, r;

        vmhad_daemon = d;
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
                case 'V':
                        puts("vmhad (vmha) " PACKAGE_VERSION);
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
        /* Who may use haadm is decided now, by the group as it is at start. */
        r = vmha_config_ipc_gid(&d->cfg, d->config_path, &d->ipc_gid, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "vmhad: %s\n", err);
                return 1;
        }
        d->ipc_gid_known = r == 0;
        if (check_only) {
                if (!d->ipc_gid_known)
                        fprintf(stderr, "vmhad: warning: %s\n", err);
                /* The parser checked the key's form; whether its directory is
                 * there is checked here (and logged at start). */
                if (d->cfg.metrics_textfile[0] && metrics_file_check(d->cfg.metrics_textfile, err, sizeof(err)) < 0) {
                        fprintf(stderr, "vmhad: %s: [metrics] textfile: %s\n", d->config_path, err);
                        return 1;
                }
                if (vmhad_vm_check_config(&d->cfg, d->config_path, err, sizeof(err)) < 0) {
                        fprintf(stderr, "vmhad: %s\n", err);
                        return 1;
                }
                printf("%s: ok\n", d->config_path);
                return 0;
        }

        if (vmhad_vm_check_config(&d->cfg, d->config_path, err, sizeof(err)) < 0) {
                fprintf(stderr, "vmhad: %s\n", err);
                return 1;
        }
        setup_logging(foreground, verbose);
        if (!d->ipc_gid_known)
                qb_log(LOG_WARNING, "%s", err);
        mkdir(d->cfg.state_dir, 0700);
        if (sd_watchdog_enabled(0, &d->sd_watchdog_usec) <= 0)
                d->sd_watchdog_usec = 0;
        vmhad_report_last_fence(d);
        vmhad_check_fence_loop(d);
        /* A page fault on a swapped-out page must not delay a heartbeat. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                qb_log(LOG_WARNING, "mlockall failed (%s): heartbeats may stall under memory pressure",
                       strerror(errno));

        /* systemd hears READY at once: a host waiting for its disk or for
         * Corosync is running, in emergency mode, not failing to start. */
        sd_notify(0, "READY=1");
        while (open_region(d, &reg) < 0) {
                sd_notify(0, "STATUS=emergency mode: waiting for the heartbeat device");
                wait_pinging(d, 2000);
        }
        d->sb = reg->sb;
        vmhad_check_cluster_uuid(d);
        if (vmha_config_timeout_differs(&d->cfg, d->sb.timeout_ms))
                qb_log(LOG_WARNING, "vmha.conf's timeout (%u ms) differs from the heartbeat region's "
                                    "(%u ms); the region's is the pool's and is used",
                       d->cfg.timeout_ms, d->sb.timeout_ms);

        d->loop = qb_loop_create();
        connect_corosync(d);
        d->self = cluster_local_id(d->cl);
        if (d->self < 1 || d->self > d->sb.slot_count) {
                qb_log(LOG_CRIT, "this host's corosync node id %u has no slot (the region has %u slots)", d->self,
                       d->sb.slot_count);
                return 1;
        }
        if (start_engine(d, reg) < 0)
                return 1;
        vmhad_cluster_note_token(d);
        d->wd_seconds = watchdog_seconds_for(node_timing(d->node)->watchdog_timeout_ms);
        if (start_disk(d, reg) < 0)
                return 1;
        if (vmhad_vm_start(d, err, sizeof(err)) < 0) {
                qb_log(LOG_CRIT, "cannot start the VM driver: %s", err);
                return 1;
        }
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
        r = vmhad_ctl_start(d);
        if (r < 0) {
                qb_log(LOG_CRIT, "cannot start the control socket: %s", strerror(-r));
                return 1;
        }
        vmhad_loop_start(d);
        vmhad_metrics_start(d);
        qb_log(LOG_NOTICE, "vmhad " PACKAGE_VERSION " started: host %u of cluster %s, timeout %.1f s, watchdog %u s",
               d->self, d->sb.cluster_name, node_timing(d->node)->timeout_ms / 1000.0, d->wd_seconds);
        sd_notify(0, "STATUS=running");
        qb_loop_run(d->loop);

        sd_notify(0, "STOPPING=1");
        if (d->ipcs)
                qb_ipcs_destroy(d->ipcs);
        vmhad_metrics_stop(d);
        disk_thread_stop(d->disk);
        vmhad_vm_stop(d);
        tiebreak_free(d->tiebreak);
        cluster_free(d->cl);
        node_free(d->node);
        disk_round_free(&d->round);
        free(d->slot_reads);
        free(d->mb_reads);
        qb_loop_destroy(d->loop);
        qb_log_fini();
        return 0;
}
