/* vmha.conf: the daemon's local configuration (INI, read with inih).
 *
 * The file names this host's view of the pool's fixed resources: the
 * heartbeat device, the pool's timeout, the tiebreak target, the VM driver,
 * the watchdog and who may talk to the daemon. Everything that changes at
 * run time (protected VMs, priorities, maintenance) is replicated state,
 * not configuration. A bad file is refused whole, with the file, line and
 * key of the first problem; the daemon does not start on it. Comments start
 * a line with '#' or ';', or follow a value after whitespace
 * ("timeout = 5  # seconds").
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define VMHA_CONFIG_PATH "/etc/vmha/vmha.conf"

enum vmha_driver {
        VMHA_DRIVER_XEN,
        VMHA_DRIVER_SIM,
};

enum vmha_fence_action {
        VMHA_FENCE_REBOOT,      /* reboot(RB_AUTOBOOT) */
        VMHA_FENCE_OFF,         /* reboot(RB_POWER_OFF) */
};

struct vmha_config {
        char heartbeat_device[PATH_MAX];        /* path, LABEL=, UUID=, PARTUUID=, PARTLABEL= */
        uint32_t timeout_ms;                    /* 2000..600000, default 5000 */
        char tiebreak_target[64];               /* IPv4/IPv6 address, or empty */
        enum vmha_driver driver;
        char sim_dir[PATH_MAX];                 /* sim driver: shared VM disk directory */
        char ipc_group[64];                     /* group allowed to use haadm, besides root */
        char state_dir[PATH_MAX];               /* /var/lib/vmha */
        char watchdog_device[PATH_MAX];         /* empty: /dev/watchdog0, then /dev/watchdog */
        enum vmha_fence_action fence_action;
        uint32_t max_fences_per_hour;           /* damping; default 2 */
        uint16_t migration_port;                /* default 8477 */
        uint64_t vm_memory_mib;                 /* memory this host offers VMs; 0: unknown */
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

const char *vmha_driver_name(enum vmha_driver d);
const char *vmha_fence_action_name(enum vmha_fence_action a);
