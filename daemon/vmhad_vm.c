/* VMs in the shell: the driver, the engine's claims I/O and starts.
 *
 * The engine decides which protected VM starts here and when (its claim
 * confirmed on the disk); this file carries that out and tells the engine
 * what runs. Every tick the driver is polled (its reports are logged here:
 * started, failed, died) and its list of domains, as protected VM ids,
 * goes to the engine: a VM that died on this host is then missing, and
 * the engine, which owns it, claims and starts it again. The claim writes
 * and collects go to the disk thread, which serves them between rounds;
 * their results come back with the disk thread's other completions.
 */
#include "daemon/vmhad.h"

#include "daemon/cluster.h"
#include "daemon/driver.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A start that has not come up by then is destroyed and reported failed. */
#define VM_START_TIMEOUT_MS 30000

int vmhad_vm_check_config(const struct vmha_config *cfg, const char *path, char *err, size_t len) {
        if (cfg->driver == VMHA_DRIVER_SIM && access(cfg->sim_program, X_OK) < 0) {
                snprintf(err, len, "%s: [sim] program: %s: %s", path, cfg->sim_program, strerror(errno));
                return -errno;
        }
        return 0;
}

static const struct hastate_vm *vm_named(const struct vmhad *d, const char *name) {
        const struct hastate *s = node_state(d->node);

        for (size_t i = 0; i < s->n_vms; i++)
                if (strcmp(s->vms[i].name, name) == 0)
                        return &s->vms[i];
        return NULL;
}

/* Whether vm_id was taken over from another host and has not run here
 * since; forget: it has now (or will not), drop it. */
static bool taken_over(struct vmhad *d, uint64_t vm_id, bool forget) {
        for (size_t i = 0; i < d->n_taken; i++)
                if (d->taken[i] == vm_id) {
                        if (forget)
                                d->taken[i] = d->taken[--d->n_taken];
                        return true;
                }
        return false;
}

static void on_report(void *userdata, const struct driver_report *r) {
        struct vmhad *d = userdata;
        const struct hastate_vm *vm = d->node ? vm_named(d, r->name) : NULL;

        switch (r->type) {
        case DRIVER_REPORT_STARTED:
                qb_log(LOG_NOTICE, "%s runs here (instance %s): %s", r->name, r->uuid, r->why);
                if (vm && taken_over(d, vm->id, true))
                        d->vm_restarts++;
                break;
        case DRIVER_REPORT_START_FAILED:
                qb_log(LOG_ERR, "%s did not start here: %s", r->name, r->why);
                if (vm)
                        taken_over(d, vm->id, true);
                break;
        case DRIVER_REPORT_STOPPED:
                qb_log(LOG_NOTICE, "%s stopped here%s: %s", r->name, r->forced ? " (forced)" : "", r->why);
                break;
        case DRIVER_REPORT_DIED:
                qb_log(vm ? LOG_WARNING : LOG_NOTICE, "%s ended here unasked (instance %s): %s%s", r->name, r->uuid,
                       r->why, vm ? "" : " (not a protected VM)");
                break;
        }
}

int vmhad_vm_start(struct vmhad *d, char *err, size_t len) {
        struct driver_error e;
        char host[NODE_NAME_MAX];
        int r;

        if (d->cfg.driver != VMHA_DRIVER_SIM)
                return 0;
        struct driver_sim_config c = { .program = d->cfg.sim_program, .host = vmhad_host_name(d, d->self, host),
                                       .log_dir = d->cfg.sim_log_dir,
                                       .memory_mib = d->cfg.vm_memory_mib };
        r = driver_sim_new(&c, on_report, d, &d->driver, &e);
        if (r < 0) {
                snprintf(err, len, "%s", e.msg);
                return r;
        }
        qb_log(LOG_INFO, "VM driver sim: %s, %llu MiB for VMs, their logs in %s", d->cfg.sim_program,
               (unsigned long long)d->cfg.vm_memory_mib, d->cfg.sim_log_dir);
        return 0;
}

void vmhad_vm_stop(struct vmhad *d) {
        driver_free(d->driver);         /* the VMs run on, as domains outlive a toolstack */
        d->driver = NULL;
        free(d->taken);
        d->taken = NULL;
        d->n_taken = d->cap_taken = 0;
}

/* The protected VMs the driver lists here, as ids for the engine. */
static size_t running_ids(struct vmhad *d, uint64_t *ids, size_t max) {
        static struct driver_domain doms[DRIVER_MAX_DOMAINS];
        struct driver_error e;
        size_t n = 0, k = 0;

        if (d->driver->ops->list(d->driver, doms, DRIVER_MAX_DOMAINS, &n, &e) < 0) {
                qb_log(LOG_ERR, "the VM driver cannot list the domains here: %s", e.msg);
                return 0;
        }
        for (size_t i = 0; i < n && k < max; i++) {
                const struct hastate_vm *vm = vm_named(d, doms[i].name);
                if (vm)
                        ids[k++] = vm->id;
        }
        return k;
}

unsigned vmhad_vm_running(struct vmhad *d) {
        static uint64_t ids[HASTATE_MAX_VMS];

        return d->driver && d->node ? (unsigned)running_ids(d, ids, HASTATE_MAX_VMS) : 0;
}

void vmhad_vm_tick(struct vmhad *d) {
        static uint64_t ids[HASTATE_MAX_VMS];
        struct node_event ev = { .type = NODE_EV_VMS_RUNNING };

        if (!d->driver)
                return;
        d->driver->ops->poll(d->driver, vmha_now_ms());
        ev.u.vms.ids = ids;
        ev.u.vms.count = running_ids(d, ids, HASTATE_MAX_VMS);
        vmhad_dispatch(d, &ev);
}

/* The disk thread's claim results, in order, to the engine. */
void vmhad_vm_claims_events(struct vmhad *d) {
        struct disk_claims_event c;

        while (disk_thread_take_claims(d->disk, &c)) {
                struct node_event ev = { 0 };

                if (c.type == DISK_CLAIMS_WRITE) {
                        ev.type = NODE_EV_CLAIMS_WRITTEN;
                        ev.u.claims_written.ok = c.ok;
                        ev.u.claims_written.in_flight = c.in_flight;
                        ev.u.claims_written.late = c.late;
                        ev.u.claims_written.done_ms = c.done_ms;
                        if (!c.ok)
                                qb_log(LOG_WARNING, "claim write %s: %s", c.late ? "ended late" : "failed",
                                       c.in_flight ? "it outlasted its deadline and may still land"
                                                   : strerror(-c.error));
                } else {
                        ev.type = NODE_EV_CLAIMS_READ;
                        ev.u.claims.ok = c.ok;
                        ev.u.claims.done_ms = c.done_ms;
                        ev.u.claims.claims = c.claims;
                        ev.u.claims.n_claims = c.n_claims;
                        ev.u.claims.unknown_hosts = c.unknown;
                        ev.u.claims.n_unknown = c.n_unknown;
                        if (!c.ok)
                                qb_log(LOG_WARNING, "claim collect failed: %s", strerror(-c.error));
                }
                vmhad_dispatch(d, &ev);
                free(c.claims);
        }
}

static void start_vm(struct vmhad *d, uint64_t vm_id) {
        const struct hastate_vm *vm = hastate_vm_find(node_state(d->node), vm_id);
        struct driver_error e;
        uint64_t now = vmha_now_ms();

        if (!vm) {
                qb_log(LOG_ERR, "the engine asked to start vm %llu, which the HA state does not hold",
                       (unsigned long long)vm_id);
                return;
        }
        struct driver_vm dv = { .name = vm->name, .config = vm->config, .memory_mib = vm->memory_mib };
        if (d->driver->ops->start(d->driver, &dv, now, now + VM_START_TIMEOUT_MS, &e) < 0) {
                qb_log(LOG_ERR, "%s did not start here: %s", vm->name, e.msg);
                taken_over(d, vm_id, true);
                return;
        }
        qb_log(LOG_NOTICE, "starting %s here (%s)", vm->name, vm->config);
}

/* A clean stop (the guest shuts down) that outlasts this is forced. */
#define VM_STOP_TIMEOUT_MS 60000

static void stop_vm(struct vmhad *d, uint64_t vm_id) {
        const struct hastate_vm *vm = hastate_vm_find(node_state(d->node), vm_id);
        struct driver_error e;
        uint64_t now = vmha_now_ms();

        if (!vm)
                return;
        if (d->driver->ops->stop(d->driver, vm->name, now, now + VM_STOP_TIMEOUT_MS, &e) < 0)
                qb_log(LOG_ERR, "%s cannot be stopped here: %s", vm->name, e.msg);
        else
                qb_log(LOG_NOTICE, "stopping %s here (requested stopped; forced after %d s)", vm->name,
                       VM_STOP_TIMEOUT_MS / 1000);
}

bool vmhad_vm_carry_out(struct vmhad *d, const struct node_action *a) {
        int r;

        if (!d->driver) {
                qb_log(LOG_ERR, "the engine asked for VM action %d without a VM driver", a->type);
                return true;
        }
        switch (a->type) {
        case NODE_ACT_WRITE_CLAIMS:
                r = disk_thread_write_claims(d->disk, a->claims, a->n_claims);
                if (r < 0) {
                        /* Never issued: the engine must hear that it failed. */
                        qb_log(LOG_ERR, "cannot write this host's claims (%zu): %s", a->n_claims, strerror(-r));
                        d->claims_write_refused = true;
                }
                return true;
        case NODE_ACT_READ_CLAIMS:
                disk_thread_read_claims(d->disk);
                return true;
        case NODE_ACT_START_VM:
                start_vm(d, a->vm_id);
                return true;
        case NODE_ACT_STOP_VM:
                stop_vm(d, a->vm_id);
                return true;
        case NODE_ACT_TAKEOVER:
                if (a->from && a->from != d->self && !taken_over(d, a->vm_id, false)) {
                        if (d->n_taken == d->cap_taken) {
                                size_t cap = d->cap_taken ? 2 * d->cap_taken : 16;
                                uint64_t *t = realloc(d->taken, cap * sizeof(*t));
                                if (!t)
                                        return true;
                                d->taken = t;
                                d->cap_taken = cap;
                        }
                        d->taken[d->n_taken++] = a->vm_id;
                }
                return true;
        default:
                return false;
        }
}

/* After the queue is carried out: a claim write the disk thread refused. */
void vmhad_vm_after_actions(struct vmhad *d) {
        if (!d->claims_write_refused)
                return;
        d->claims_write_refused = false;
        struct node_event ev = { .type = NODE_EV_CLAIMS_WRITTEN };
        ev.u.claims_written.done_ms = vmha_now_ms();
        vmhad_dispatch(d, &ev);
}

int vmhad_vm_check_request(struct vmhad *d, const char *name, const char *config, char *err, size_t len) {
        struct driver_error e;
        int r;

        if (!d->driver)
                return 0;
        r = d->driver->ops->check_config(d->driver, name, config, &e);
        if (r < 0)
                snprintf(err, len, "%s: --config: %s", name, e.msg);
        return r;
}
