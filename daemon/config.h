/* vmha.conf: the daemon's local configuration (INI, read with inih).
 *
 * The file names this host's view of the pool's fixed resources: the
 * heartbeat device, the pool's timeout, the tiebreak target, the watchdog,
 * who may talk to the daemon and where its metrics go, and the VM driver
 * (none, or sim for the lab and the demo; the xen driver and live
 * migration's keys are refused until this version has them).
 * Everything that changes at
 * run time (protected VMs, priorities, maintenance) is replicated state,
 * not configuration. A bad file is refused whole, with the file, line and
 * key of the first problem; the daemon does not start on it. Comments start
 * a line with '#' or ';', or follow a value after whitespace
 * ("timeout = 5  # seconds").
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMHA_CONFIG_PATH "/etc/vmha/vmha.conf"

enum vmha_driver {
        VMHA_DRIVER_NONE,       /* protects no VM: the safety core alone */
        VMHA_DRIVER_SIM,        /* vmha-simvm processes, for the lab and the demo */
};

enum vmha_fence_action {
        VMHA_FENCE_REBOOT,      /* reboot(RB_AUTOBOOT) */
        VMHA_FENCE_OFF,         /* reboot(RB_POWER_OFF) */
};

struct vmha_config {
        char heartbeat_device[PATH_MAX];        /* path, LABEL=, UUID=, PARTUUID=, PARTLABEL= */
        uint32_t timeout_ms;                    /* 2000..600000, default 5000 */
        bool timeout_set;                       /* the file sets timeout, to any value */
        char tiebreak_target[64];               /* IPv4/IPv6 address, or empty */
        char ipc_group[64];                     /* group allowed to use haadm, besides root */
        bool ipc_group_set;                     /* the file names ipc_group */
        char state_dir[PATH_MAX];               /* /var/lib/vmha */
        char watchdog_device[PATH_MAX];         /* empty: /dev/watchdog0, then /dev/watchdog */
        enum vmha_fence_action fence_action;
        uint32_t max_fences_per_hour;           /* damping; default 2 */
        uint64_t vm_memory_mib;                 /* memory this host offers VMs; 0: unknown */
        char metrics_textfile[PATH_MAX];        /* node_exporter textfile (*.prom), or empty: none */
        enum vmha_driver driver;                /* [daemon] driver, default none */
        char sim_program[PATH_MAX];             /* [sim] program: the vmha-simvm to run */
        char sim_log_dir[PATH_MAX];             /* [sim] log_dir: each VM's NAME.log, default /var/log/vmha */
        bool sim_set;                           /* some [sim] key is set */
};

#define VMHA_CONFIG_ERROR_MAX 512
/* The longest line, without its newline: inih's line buffer. A longer line
 * is refused, never cut. */
#define VMHA_CONFIG_LINE_MAX 199
/* A larger file is no configuration file. */
#define VMHA_CONFIG_FILE_MAX (1024 * 1024)

/* Fills cfg with the defaults. */
void vmha_config_defaults(struct vmha_config *cfg);

/* Parses the file at path (or text, naming it name in messages) into cfg,
 * on top of the defaults. Returns 0, or -EINVAL with err set to
 * "FILE:LINE: [section] key: problem", or -errno when the file cannot be
 * read (-EISDIR for a directory, -EINVAL for a device, FIFO or socket:
 * only a regular file is read). cfg is left untouched on error. */
int vmha_config_load(const char *path, struct vmha_config *cfg, char *err, size_t err_len);
int vmha_config_parse_string(const char *text, const char *name, struct vmha_config *cfg,
                             char *err, size_t err_len);
/* The same on len bytes that need not end in a NUL: what a file's contents
 * go through, so a NUL byte inside is refused as in a file. */
int vmha_config_parse_buffer(const char *text, size_t len, const char *name, struct vmha_config *cfg,
                             char *err, size_t err_len);

/* Seconds as written by people: plain decimal with at most three decimals
 * ("5", "2.5", "0.125"), no sign, exponent, hex or blanks, so a value is
 * used exactly as written, to the millisecond ("1.9999" is refused, not
 * rounded to 2). Returns 0 and *ms, or -EINVAL. vmha.conf's timeout and
 * haadm's --timeout both read seconds with it. */
int vmha_seconds_parse(const char *s, uint32_t *ms);

/* The ipc_group's id, looked up on this host (what the parser cannot
 * tell). Returns 0 and *gid when the group exists. When it does not, or
 * cannot be looked up: -ENOENT (or -errno) with an error in err if the
 * file names the group, so that vmhad -t and the start refuse it; 1 with
 * a warning in err if only the default ("vmha") is missing, and then only
 * root may use haadm. name is the file's name for the messages. */
int vmha_config_ipc_gid(const struct vmha_config *cfg, const char *name, gid_t *gid, char *err, size_t err_len);

/* Does the file's timeout disagree with the heartbeat region's, which is
 * the pool's and wins? Only a timeout the file sets counts, and it counts
 * whatever its value: "timeout = 5" against a 10 s region disagrees,
 * although 5 s is the default. */
bool vmha_config_timeout_differs(const struct vmha_config *cfg, uint32_t region_timeout_ms);

const char *vmha_driver_name(enum vmha_driver d);
const char *vmha_fence_action_name(enum vmha_fence_action a);
