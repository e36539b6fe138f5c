/* VM drivers: what vmhad asks of a hypervisor, as a table of functions.
 *
 * vmhad's loop must never block, so every call returns at once. A call
 * that takes time (start, stop) only begins there; its outcome comes
 * later as a report from driver_poll(), which the loop calls every tick,
 * and every such call carries its deadline: a start that has not come up,
 * or a clean stop that has not ended, by then is reported failed (a stop
 * then turns forced). Errors say their cause: the call's return value is
 * 0 or a negative errno, with the text in a struct driver_error.
 *
 * Drivers: `sim` (driver_sim.c: vmha-simvm processes, for the lab and the
 * demo) and, later, `xen` (libxl). Live migration (migrate_send and
 * migrate_receive) is part of the table; a driver that cannot migrate
 * answers -EOPNOTSUPP with its reason.
 *
 * What a driver does not do: decide. Which VM starts where and when is the
 * node engine's; the driver carries it out and says what it sees.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/name.h"

#define DRIVER_ERROR_MAX 320u
#define DRIVER_UUID_MAX 40u
#define DRIVER_MAX_DOMAINS 4096u

struct driver_error {
        char msg[DRIVER_ERROR_MAX];
};

enum driver_domain_state {
        DRIVER_DOMAIN_RUNNING = 1,
        DRIVER_DOMAIN_PAUSED,
        DRIVER_DOMAIN_STOPPING,         /* a clean stop is under way */
};

struct driver_domain {
        char name[VMHA_NAME_MAX];
        char uuid[DRIVER_UUID_MAX];     /* this run of the domain (sim: its instance id) */
        uint64_t memory_mib;
        enum driver_domain_state state;
};

/* A VM to start: its name, its config (an xl config path) and memory. */
struct driver_vm {
        const char *name;
        const char *config;
        uint64_t memory_mib;
};

enum driver_report_type {
        DRIVER_REPORT_STARTED = 1,      /* it runs */
        DRIVER_REPORT_START_FAILED,     /* it did not come up: why */
        DRIVER_REPORT_STOPPED,          /* the stop asked for ended (forced: it took a destroy) */
        DRIVER_REPORT_DIED,             /* it ended unasked: guest_shutdown, or a crash with why */
};

struct driver_report {
        enum driver_report_type type;
        char name[VMHA_NAME_MAX];
        char uuid[DRIVER_UUID_MAX];
        bool forced;                    /* STOPPED: the clean stop outlasted its deadline */
        bool guest_shutdown;            /* DIED: an orderly shutdown from inside the guest */
        char why[DRIVER_ERROR_MAX];
};

struct driver;

typedef void (*driver_report_fn)(void *userdata, const struct driver_report *r);

struct driver_ops {
        const char *name;
        /* Checks that config is a config this driver can start, naming
         * name: 0, or -EINVAL/-ENOENT with the reason. */
        int (*check_config)(struct driver *d, const char *name, const char *config, struct driver_error *e);
        /* The domains running here (protected or not): at most max, *n set. A
         * domain started outside vmhad shows from the next poll on. */
        int (*list)(struct driver *d, struct driver_domain *out, size_t max, size_t *n, struct driver_error *e);
        /* Begins a start; STARTED or START_FAILED follows, by deadline_ms. */
        int (*start)(struct driver *d, const struct driver_vm *vm, uint64_t now_ms, uint64_t deadline_ms,
                     struct driver_error *e);
        /* Begins a clean stop; past clean_by_ms it is forced. STOPPED follows. */
        int (*stop)(struct driver *d, const char *name, uint64_t now_ms, uint64_t clean_by_ms, struct driver_error *e);
        int (*pause)(struct driver *d, const char *name, struct driver_error *e);
        int (*resume)(struct driver *d, const char *name, struct driver_error *e);
        /* At once, no clean stop: STOPPED (forced) follows. */
        int (*destroy)(struct driver *d, const char *name, struct driver_error *e);
        int (*migrate_send)(struct driver *d, const char *name, int fd, struct driver_error *e);
        int (*migrate_receive)(struct driver *d, const struct driver_vm *vm, int fd, struct driver_error *e);
        /* Memory this host has left for VMs, in MiB. */
        int (*free_memory)(struct driver *d, uint64_t *mib, struct driver_error *e);
        /* Reaps what ended, enforces deadlines, and reports. */
        void (*poll)(struct driver *d, uint64_t now_ms);
        void (*free)(struct driver *d);
};

struct driver {
        const struct driver_ops *ops;
        driver_report_fn report;
        void *userdata;
};

/* The sim driver's settings, from vmha.conf's [sim] section. */
struct driver_sim_config {
        const char *program;            /* the vmha-simvm to run */
        const char *host;               /* this host's name, for the VMs' records */
        const char *log_dir;            /* NAME.log: each VM's stderr */
        uint64_t memory_mib;            /* what this host offers VMs */
        uint32_t record_interval_ms;    /* 0: vmha-simvm's default */
};

/* 0 with *ret, or a negative errno with the reason. */
int driver_sim_new(const struct driver_sim_config *cfg, driver_report_fn report, void *userdata, struct driver **ret,
                   struct driver_error *e);

static inline void driver_free(struct driver *d) {
        if (d)
                d->ops->free(d);
}

const char *driver_report_name(enum driver_report_type t);
const char *driver_domain_state_name(enum driver_domain_state s);
