/* The loop's own events: disk completions, the tick, the clocks, systemd's
 * watchdog, and how long the loop's callbacks take.
 */
#include "daemon/vmhad.h"

#include "daemon/tiebreak.h"

#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

/* A callback this long is worth a line in the journal: the watchdog
 * timeout is a few seconds, and the loop feeds it. */
#define SLOW_CALLBACK_US 200000

uint64_t vmhad_now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t boot_offset_ms(void) {
        struct timespec b, m;
        clock_gettime(CLOCK_BOOTTIME, &b);
        clock_gettime(CLOCK_MONOTONIC, &m);
        int64_t off = ((int64_t)b.tv_sec - m.tv_sec) * 1000 + ((int64_t)b.tv_nsec - m.tv_nsec) / 1000000;
        return off > 0 ? (uint64_t)off : 0;
}

void vmhad_loop_note(struct vmhad *d, const char *what, uint64_t start_us) {
        uint64_t took = vmhad_now_us() - start_us;

        if (took <= d->longest_cb_us)
                return;
        d->longest_cb_us = took;
        snprintf(d->longest_cb, sizeof(d->longest_cb), "%s", what);
        d->longest_cb_at_ms = vmha_now_ms();
        if (took >= SLOW_CALLBACK_US)
                qb_log(LOG_WARNING, "the event loop spent %llu ms in %s", (unsigned long long)(took / 1000), what);
}

/* ---- the disk thread's completions ---- */

static enum node_block block_status(const struct disk_status *st) {
        if (st->error == 0)
                return NODE_BLOCK_OK;
        return st->error == -EPROTO ? NODE_BLOCK_FOREIGN : NODE_BLOCK_UNREADABLE;
}

static void on_round(struct vmhad *d) {
        struct node_event ev = { .type = NODE_EV_DISK_READ };
        uint32_t n = d->sb.slot_count;

        for (uint32_t id = 1; id <= n; id++) {
                struct node_slot_read *s = &d->slot_reads[id];
                struct node_mailbox_read *m = &d->mb_reads[id];

                s->status = block_status(&d->round.status[id]);
                if (s->status == NODE_BLOCK_OK)
                        s->slot = d->round.slots[id];
                else
                        snprintf(s->why, sizeof(s->why), "%.*s", (int)sizeof(s->why) - 1, d->round.status[id].msg.msg);
                m->status = block_status(&d->round.mb_status[id]);
                if (m->status == NODE_BLOCK_OK)
                        m->mb = d->round.mailboxes[id];
        }
        ev.u.disk.ok = d->round.read_ok;
        ev.u.disk.done_ms = d->round.read_done_ms;
        ev.u.disk.max_id = n;
        ev.u.disk.slots = d->slot_reads;
        ev.u.disk.mailboxes = d->mb_reads;
        vmhad_dispatch(d, &ev);
}

/* The disk thread's last config write: a failure is logged when a run of
 * them starts, not at every retry, and the end of the run is logged too. */
static void on_config_written(struct vmhad *d) {
        const struct disk_round *r = &d->round;
        uint64_t cap = d->config_capacity;

        d->config_attempts_seen = r->config_attempts;
        if (r->config_error == 0) {
                if (d->config_failing)
                        qb_log(LOG_NOTICE, "the HA configuration is on the heartbeat disk again (generation %llu, "
                                           "%llu bytes compressed)",
                               (unsigned long long)r->config_gen, (unsigned long long)r->config_stored);
                d->config_failing = false;
                return;
        }
        if (d->config_failing)
                return;
        d->config_failing = true;
        if (r->config_error == -EFBIG)
                qb_log(LOG_ERR, "cannot write the HA configuration to the heartbeat disk (generation %llu): it needs "
                                "%llu bytes (%llu compressed from %llu), a config copy holds %llu; the disk keeps an "
                                "older generation, which a cold start of the pool would go back to. Remove VMs, or "
                                "re-create the region at its default size with the pool stopped ('haadm disk init')",
                       (unsigned long long)r->config_gen,
                       (unsigned long long)(r->config_stored + sizeof(struct disk_raw_config)),
                       (unsigned long long)r->config_stored, (unsigned long long)r->config_raw,
                       (unsigned long long)cap);
        else
                qb_log(LOG_ERR, "cannot write the HA configuration to the heartbeat disk (generation %llu): %s; "
                                "trying again every disk interval, and saying so here once it works",
                       (unsigned long long)r->config_gen, strerror(-r->config_error));
}

int32_t vmhad_on_disk_event(int32_t fd, int32_t revents, void *data) {
        struct vmhad *d = data;
        uint64_t start = vmhad_now_us();

        (void)fd;
        (void)revents;
        disk_thread_take(d->disk, &d->round);
        if (d->round.written_seq != d->write_seq_seen) {
                /* A slot write completed, failed or passed its deadline. */
                struct node_event ev = { .type = NODE_EV_SLOT_WRITTEN };
                d->write_seq_seen = d->round.written_seq;
                ev.u.slot_written.ok = d->round.write_ok;
                ev.u.slot_written.seq = d->round.written_seq;
                ev.u.slot_written.done_ms = d->round.write_done_ms;
                ev.u.slot_written.written.flags = d->round.written_flags;
                ev.u.slot_written.written.state = d->round.written_state;
                vmhad_dispatch(d, &ev);
                vmhad_fence_check(d);
        }
        if (d->round.round != d->round_seen) {
                d->round_seen = d->round.round;
                on_round(d);
        }
        if (d->round.config_attempts != d->config_attempts_seen)
                on_config_written(d);
        vmhad_vm_claims_events(d);
        vmhad_loop_note(d, "disk completion", start);
        return 0;
}

/* ---- the tick ---- */

/* Twice per disk interval: rule 4 needs an acknowledgement from every peer
 * within one interval, and one late CPG message must not fence a host that
 * lives without its disk. */
static uint64_t tick_ns(const struct vmhad *d) {
        return (uint64_t)node_timing(d->node)->disk_interval_ms * 1000000ULL / 2;
}

static void on_tick(void *data) {
        struct vmhad *d = data;
        uint64_t start = vmhad_now_us(), at, off;
        struct node_event ev;

        if (tiebreak_last_reply(d->tiebreak, &at) && at != d->tiebreak_seen_ms) {
                d->tiebreak_seen_ms = at;
                ev = (struct node_event){ .type = NODE_EV_TIEBREAK_REPLY };
                ev.u.tiebreak.at_ms = at;
                vmhad_dispatch(d, &ev);
        }
        /* CLOCK_BOOTTIME runs on through a suspend, CLOCK_MONOTONIC does
         * not: the difference grows by the time this host was away. */
        off = boot_offset_ms();
        if (off > d->boot_offset_ms) {
                ev = (struct node_event){ .type = NODE_EV_CLOCK };
                ev.u.clock.jump_ms = off - d->boot_offset_ms;
                d->boot_offset_ms = off;
                vmhad_dispatch(d, &ev);
        }
        vmhad_vm_tick(d);
        ev = (struct node_event){ .type = NODE_EV_TICK };
        vmhad_dispatch(d, &ev);
        if (d->tiebreak)
                tiebreak_probe(d->tiebreak);
        vmhad_ctl_expire(d);
        if (!d->fencing)
                qb_loop_timer_add(d->loop, QB_LOOP_HIGH, tick_ns(d), d, on_tick, NULL);
        vmhad_loop_note(d, "tick", start);
}

/* ---- systemd's watchdog ---- */

void vmhad_sd_ping(struct vmhad *d) {
        if (d->sd_watchdog_usec)
                sd_notify(0, "WATCHDOG=1");
}

/* Pinged from the loop in every state (waiting, emergency, fencing), at a
 * third of systemd's timeout. */
static void on_sd_timer(void *data) {
        struct vmhad *d = data;
        vmhad_sd_ping(d);
        qb_loop_timer_add(d->loop, QB_LOOP_HIGH, d->sd_watchdog_usec * 1000 / 3, d, on_sd_timer, NULL);
}

void vmhad_loop_start(struct vmhad *d) {
        d->boot_offset_ms = boot_offset_ms();
        qb_loop_poll_add(d->loop, QB_LOOP_HIGH, disk_thread_fd(d->disk), POLLIN, d, vmhad_on_disk_event);
        qb_loop_timer_add(d->loop, QB_LOOP_HIGH, tick_ns(d), d, on_tick, NULL);
        if (d->sd_watchdog_usec)
                qb_loop_timer_add(d->loop, QB_LOOP_HIGH, d->sd_watchdog_usec * 1000 / 3, d, on_sd_timer, NULL);
}
