/* The watchdog, and the path to a reboot.
 *
 * The engine decides when to feed (with a deadline) and when to fence; this
 * file only does it. On the fence path nothing blocks before the FENCING
 * write: the engine queued that slot, the disk thread is kicked, and the
 * reboot follows when the write completed or its deadline passed. The local
 * record comes after, under a bound. The watchdog device is never closed on
 * this path: if reboot() returns, the loop stops here without feeding and
 * the watchdog resets the host.
 */
#include "daemon/vmhad.h"

#include "fence/watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define FENCE_RECORD_BOUND_MS 500

void vmhad_arm_watchdog(struct vmhad *d) {
        struct node_event ev = { .type = NODE_EV_WATCHDOG };
        int r;

        if (d->fencing)
                return;
        if (!d->wd) {
                r = watchdog_open(d->cfg.watchdog_device[0] ? d->cfg.watchdog_device : NULL, d->wd_seconds, &d->wd,
                                  ev.u.watchdog.detail, sizeof(ev.u.watchdog.detail));
                if (r == 0)
                        qb_log(LOG_NOTICE, "watchdog %s armed with a %u s timeout", watchdog_path(d->wd),
                               d->wd_seconds);
        }
        ev.u.watchdog.armed = d->wd != NULL;
        vmhad_dispatch(d, &ev);
}

/* The deadline is checked right before the ioctl: a loop that stalled
 * between the engine's decision and here feeds nothing. */
void vmhad_feed(struct vmhad *d, uint64_t deadline_ms) {
        uint64_t now;

        if (!d->wd || d->fencing)
                return;
        now = vmha_now_ms();
        if (now > deadline_ms) {
                qb_log(LOG_WARNING, "not feeding the watchdog: its evidence expired %llu ms ago",
                       (unsigned long long)(now - deadline_ms));
                return;
        }
        if (watchdog_feed(d->wd) < 0)
                qb_log(LOG_ERR, "feeding the watchdog %s failed: %s", watchdog_path(d->wd), strerror(errno));
}

struct fence_record {
        const struct vmha_config *cfg;
        char reason[NODE_TEXT_MAX];
};

static void *record_thread(void *arg) {
        struct fence_record *r = arg;
        vmhad_record_fence(r->cfg, r->reason);
        return NULL;
}

/* The local record (fence history, last fence) is written on a thread of
 * its own from the moment the fence starts: when the watchdog resets the
 * host before the FENCING slot write completes, the record is there all
 * the same. */
static struct fence_record record;
static pthread_t record_tid;
static bool record_started;

static void record_start(struct vmhad *d) {
        record.cfg = &d->cfg;
        snprintf(record.reason, sizeof(record.reason), "%s", d->fence_reason);
        record_started = pthread_create(&record_tid, NULL, record_thread, &record) == 0;
        if (!record_started)
                qb_log(LOG_ERR, "fencing self: cannot write the local fence record");
}

/* Before the reboot, under a bound: a root disk that hangs must not keep
 * this host from rebooting. */
static void record_wait(void) {
        struct timespec until;

        if (!record_started)
                return;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FENCE_RECORD_BOUND_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (pthread_timedjoin_np(record_tid, NULL, &until) != 0) {
                qb_log(LOG_ERR, "fencing self: the local fence record did not complete within %d ms",
                       FENCE_RECORD_BOUND_MS);
                pthread_detach(record_tid);
        }
        record_started = false;
}

static void fence_finish(struct vmhad *d, bool written) {
        if (d->fence_done)
                return;
        d->fence_done = true;
        if (!written)
                qb_log(LOG_CRIT, "fencing self: the FENCING slot write did not complete in time");
        record_wait();
        reboot(d->cfg.fence_action == VMHA_FENCE_OFF ? RB_POWER_OFF : RB_AUTOBOOT);
        qb_log(LOG_CRIT, "fencing self: reboot() failed (%s); waiting for the watchdog to reset this host",
               strerror(errno));
        /* Never feed, never close the device (closing pings it, and some
         * drivers stop on close): the watchdog resets the host. */
        for (;;)
                pause();
}

static void fence_deadline(void *data) {
        fence_finish(data, false);
}

void vmhad_fence_start(struct vmhad *d, const char *reason, uint64_t deadline_ms) {
        uint64_t now = vmha_now_ms();

        if (d->fencing)
                return;
        d->fencing = true;
        snprintf(d->fence_reason, sizeof(d->fence_reason), "%s", reason);
        fprintf(stderr, "vmhad: FENCING SELF: %s\n", reason);
        sd_notify(0, "STATUS=fencing self");
        record_start(d);
        if (!d->disk) {
                fence_finish(d, false);
                return;
        }
        /* The engine's WRITE_SLOT before this action set the FENCING slot. */
        disk_thread_kick(d->disk);
        qb_loop_timer_add(d->loop, QB_LOOP_HIGH, (deadline_ms > now ? deadline_ms - now : 0) * 1000000ULL, d,
                          fence_deadline, NULL);
}

/* After each disk completion: has the FENCING write landed? */
void vmhad_fence_check(struct vmhad *d) {
        if (d->fencing && !d->fence_done && d->round.write_ok && d->round.written_state == DISK_SLOT_FENCING)
                fence_finish(d, true);
}

/* An orderly stop disarms only a host that runs no protected VM and holds
 * no claim; otherwise the watchdog stays armed and resets the host unless
 * vmhad comes back to feed it. */
void vmhad_watchdog_stop(struct vmhad *d) {
        unsigned running = vmhad_vm_running(d);
        bool holds = false;

        if (!d->wd)
                return;
        if (d->node) {
                const struct hastate *s = node_state(d->node);
                for (size_t i = 0; i < s->n_vms; i++)
                        holds |= s->vms[i].owner == d->self;
        }
        if (watchdog_may_disarm(running, holds, d->fencing)) {
                bool nowayout = watchdog_has_nowayout(d->wd);
                watchdog_disarm(d->wd);
                if (nowayout)
                        qb_log(LOG_WARNING, "watchdog not disarmed: its driver has nowayout set, so the timer "
                                            "keeps running and this host resets unless vmhad comes back");
                else
                        qb_log(LOG_NOTICE, "watchdog disarmed: orderly stop with no protected VM on this host");
        } else {
                watchdog_abandon(d->wd);
                qb_log(LOG_WARNING, "watchdog left armed: this host %s; it will reset unless vmhad comes back",
                       d->fencing ? "is fencing itself" : "owns protected VMs");
        }
        d->wd = NULL;
}
