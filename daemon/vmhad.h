/* vmhad's private header: the daemon's state and the functions its files
 * share.
 *
 * vmhad is the imperative shell around core/node.c. It gathers events
 * (Corosync, the disk thread, ticks, the tiebreak probe, the clocks, the
 * control socket) and hands each to the engine with the current time; it
 * carries out the actions the engine queues, and decides nothing itself.
 * The files, by role:
 *   vmhad_main.c     start-up, the orderly stop
 *   vmhad_node.c     feeding events to the engine and carrying out its actions
 *   vmhad_fence.c    the watchdog and the path to a reboot
 *   vmhad_loop.c     disk completions, the tick, clocks, systemd's watchdog,
 *                    the loop's longest callback
 *   vmhad_cluster.c  Corosync membership, quorum, messages, reconnection
 *   vmhad_local.c    local state: fence history, cluster UUID, emergency causes
 *                    found before the engine exists
 *   vmhad_ctl.c      the control socket and its change requests
 *   vmhad_status.c   haadm status and the planner's view (admission control)
 *   vmhad_metrics.c  the metrics: haadm metrics and the textfile
 *   vmhad_vm.c       the VM driver, claims I/O and VM starts
 *
 * Everything runs on one libqb loop; no callback sleeps or blocks on I/O
 * that has no deadline. The only other threads are the disk thread (and
 * the disk_io workers behind it), the metrics textfile writer, and the
 * short-lived thread that writes the local fence record on the way to a
 * reboot.
 */
#pragma once

#include "core/hastate_disk.h"
#include "core/node.h"
#include "daemon/config.h"
#include "daemon/disk_thread.h"
#include "daemon/ipc_proto.h"
#include "daemon/metrics.h"

#include <json-c/json.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>
#include <stdbool.h>
#include <stdint.h>

#define VMHAD_MAX_PENDING 32
#define VMHAD_CHANGE_REPLY_TIMEOUT_MS 5000
#define VMHAD_DETAIL_MAX 512

struct cluster;
struct watchdog;
struct tiebreak;
struct metrics_file;
struct driver;

struct vmhad_pending {
        qb_ipcs_connection_t *conn;
        int32_t id;
        uint64_t seq;
        uint64_t deadline_ms;
        enum ipc_op op;                 /* what the reply's "result" describes */
        char name[IPC_NAME_MAX];        /* the VM or host it names */
        bool on;                        /* host maintenance */
};

/* The failures-tolerated figure, computed under a time budget and kept
 * until the HA state or the pool's view of its hosts changes. */
struct vmhad_ntol_cache {
        bool valid;
        uint64_t key;
        int result;                     /* 0, or -ENODATA: a host's memory is unknown */
        char unknown[64];
        unsigned failures_tolerated;
        bool exact;
        bool expired;                   /* the time budget ended the search */
};

struct vmhad {
        struct vmha_config cfg;
        const char *config_path;
        qb_loop_t *loop;

        struct cluster *cl;
        bool cl_up;
        uint32_t self;

        struct disk_thread *disk;
        struct disk_super sb;
        struct disk_round round;
        uint64_t round_seen, write_seq_seen;
        struct node_slot_read *slot_reads;
        struct node_mailbox_read *mb_reads;

        struct watchdog *wd;
        unsigned wd_seconds;
        struct tiebreak *tiebreak;
        uint64_t tiebreak_seen_ms;

        struct node *node;

        /* The VM driver (vmhad_vm.c); NULL: driver = none. The VMs taken
         * over from another host and not yet running here, to count
         * vm_restarts once they do. */
        struct driver *driver;
        uint64_t *taken;
        size_t n_taken, cap_taken;
        bool claims_write_refused;      /* the engine must hear of it after its queue */

        /* Emergency causes the shell found before the engine existed, and
         * which causes the journal has been told about. */
        bool early[_EMERGENCY_CAUSE_MAX];
        char early_detail[_EMERGENCY_CAUSE_MAX][VMHAD_DETAIL_MAX];
        bool announced[_EMERGENCY_CAUSE_MAX];

        /* The path to a reboot (vmhad_fence.c). */
        bool fencing;
        bool fence_done;
        char fence_reason[NODE_TEXT_MAX];

        /* Control socket. */
        qb_ipcs_service_t *ipcs;
        gid_t ipc_gid;
        bool ipc_gid_known;
        struct vmhad_pending pending[VMHAD_MAX_PENDING];

        /* Loop health. */
        uint64_t boot_offset_ms;        /* CLOCK_BOOTTIME - CLOCK_MONOTONIC at the last tick */
        uint64_t sd_watchdog_usec;      /* 0: systemd's watchdog is off */
        uint64_t longest_cb_us;
        char longest_cb[32];
        uint64_t longest_cb_at_ms;

        struct vmhad_ntol_cache ntol;

        /* What the metrics count over the daemon's life. */
        uint64_t self_fences;           /* in the fence history (vmhad_local.c) */
        int64_t last_self_fence_unix;   /* 0: none */
        /* vm_restarts: a protected VM taken over from another host has
         * started here (the driver's report on a NODE_ACT_START_VM that
         * followed a NODE_ACT_TAKEOVER, vmhad_vm.c). vm_migrations, once
         * there is live migration: one away from this host completed. */
        uint64_t vm_restarts;
        uint64_t vm_migrations;

        /* The metrics textfile (vmhad_metrics.c); NULL: none configured. */
        struct metrics_file *metrics_file;
        int metrics_error;              /* the write result last logged */

        /* The config snapshot on the disk: the disk thread's last write
         * seen, and whether writes are failing (logged once per run of
         * failures); what the current state needs there, by generation. */
        uint64_t config_attempts_seen;
        bool config_failing;
        uint64_t config_capacity;
        bool config_size_valid;
        uint64_t config_size_gen;
        struct hastate_disk_size config_size;
};

extern struct vmhad *vmhad_daemon;      /* for libqb callbacks without context */

/* vmhad_node.c */
void vmhad_dispatch(struct vmhad *d, const struct node_event *ev);
void vmhad_emergency(struct vmhad *d, enum emergency_cause c, bool on, const char *detail);
bool vmhad_in_emergency(const struct vmhad *d);
const char *vmhad_host_name(const struct vmhad *d, uint32_t id, char buf[NODE_NAME_MAX]);
void vmhad_carry_out(struct vmhad *d);

/* vmhad_vm.c */
int vmhad_vm_check_config(const struct vmha_config *cfg, const char *path, char *err, size_t len);
int vmhad_vm_start(struct vmhad *d, char *err, size_t len);
void vmhad_vm_stop(struct vmhad *d);
void vmhad_vm_tick(struct vmhad *d);
void vmhad_vm_claims_events(struct vmhad *d);
/* Carries out a VM or claims action: true when a is one. */
bool vmhad_vm_carry_out(struct vmhad *d, const struct node_action *a);
void vmhad_vm_after_actions(struct vmhad *d);
/* The protected VMs the driver runs here. */
unsigned vmhad_vm_running(struct vmhad *d);
/* A VM config the driver could not start: 0, or <0 with the reason. */
int vmhad_vm_check_request(struct vmhad *d, const char *name, const char *config, char *err, size_t len);

/* vmhad_fence.c */
void vmhad_arm_watchdog(struct vmhad *d);
void vmhad_feed(struct vmhad *d, uint64_t deadline_ms);
void vmhad_fence_start(struct vmhad *d, const char *reason, uint64_t deadline_ms);
void vmhad_fence_check(struct vmhad *d);
void vmhad_watchdog_stop(struct vmhad *d);

/* vmhad_loop.c */
void vmhad_loop_start(struct vmhad *d);
void vmhad_loop_note(struct vmhad *d, const char *what, uint64_t start_us);
uint64_t vmhad_now_us(void);
int32_t vmhad_on_disk_event(int32_t fd, int32_t revents, void *data);
void vmhad_sd_ping(struct vmhad *d);

/* vmhad_cluster.c */
int vmhad_cluster_connect(struct vmhad *d, char *err, size_t err_len);
void vmhad_cluster_retry(struct vmhad *d);
/* Hands the engine the token corosync runs with, and warns when corosync
 * would see a lost host only after the pool's timeout. */
void vmhad_cluster_note_token(struct vmhad *d);

/* vmhad_local.c */
void vmhad_state_path(const struct vmhad *d, const char *file, char *buf, size_t len);
void vmhad_check_fence_loop(struct vmhad *d);
void vmhad_check_cluster_uuid(struct vmhad *d);
void vmhad_report_last_fence(struct vmhad *d);
void vmhad_record_fence(const struct vmha_config *cfg, const char *reason);

/* vmhad_ctl.c */
int vmhad_ctl_start(struct vmhad *d);
void vmhad_ctl_change_done(struct vmhad *d, uint64_t seq, int result, const char *why);
void vmhad_ctl_expire(struct vmhad *d);

/* vmhad_status.c */
json_object *vmhad_status_json(struct vmhad *d);
enum metrics_host_state vmhad_host_state(struct vmhad *d, const struct core_peer *p, uint64_t now);
/* The failures-tolerated figure of this moment (searched under a time
 * budget, then kept until what it depends on changes). */
const struct vmhad_ntol_cache *vmhad_ntol(struct vmhad *d);
json_object *vmhad_vm_json(struct vmhad *d, const struct hastate_vm *vm);
int vmhad_admission_check(struct vmhad *d, const struct hastate_msg *m, char *err, size_t len);

/* vmhad_metrics.c */
/* The metrics text of this moment (malloc'd). 0, -ENOMEM or -E2BIG. */
int vmhad_metrics_text(struct vmhad *d, char **text, size_t *len);
/* Starts writing the textfile, when vmha.conf names one, every second
 * (or every disk interval, when longer). */
void vmhad_metrics_start(struct vmhad *d);
void vmhad_metrics_stop(struct vmhad *d);
