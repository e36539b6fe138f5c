/* The simulated disk thread: once per interval it writes the host's slot
 * (and any queued mailbox), reports the completion, then reads every slot
 * and mailbox; claim writes and reads complete one tick after they were
 * asked for (claimdelay: later, and a collect's blocks are read one after
 * the other). A failed I/O is reported at once, a hung one at its
 * deadline, as disk_thread.c does; a hung claim write is still in the
 * kernel and lands after the path comes back, even when its host died
 * meanwhile. A corrupt block reads back undecodable. With `readfail`,
 * writes land and every read fails at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/scenarios/sim_world.h"

void disk_write_slot(struct world *w, struct host *h) {
        struct disk_slot s = h->next_slot;

        s.host_id = (uint32_t)h->id;
        s.incarnation = h->incarnation;
        s.seq = ++h->seq;
        w->slot[h->id] = s;
        w->slot_written[h->id] = true;
}

/* ---------- the disk thread ---------- */

void disk_read(struct world *w, struct host *h) {
        struct node_slot_read slots[MAXH + 1];
        struct node_mailbox_read mbs[MAXH + 1];
        struct node_event ev = { .type = NODE_EV_DISK_READ };

        memset(slots, 0, sizeof(slots));
        memset(mbs, 0, sizeof(mbs));
        for (int b = 1; b <= w->sc->nhosts; b++) {
                if (w->corrupt[b] & CORRUPT_SLOT) {
                        slots[b].status = NODE_BLOCK_UNREADABLE;
                        snprintf(slots[b].why, sizeof(slots[b].why), "slot %d: checksum mismatch", b);
                } else if (w->slot_written[b]) {
                        slots[b].slot = w->slot[b];
                } else {
                        slots[b].slot.state = DISK_SLOT_EMPTY;
                }
                if (w->corrupt[b] & CORRUPT_MAILBOX)
                        mbs[b].status = NODE_BLOCK_UNREADABLE;
                else
                        mbs[b].mb = w->mbox[b];
        }
        ev.u.disk = (struct node_disk_read){ .ok = true, .done_ms = w->now, .max_id = (uint32_t)w->sc->nhosts,
                                             .slots = slots, .mailboxes = mbs };
        deliver(w, h, &ev);
}

static void disk_io_failed(struct world *w, struct host *h) {
        struct node_event ev = { .type = NODE_EV_SLOT_WRITTEN };

        /* A hung I/O counts as failed at its deadline, one interval on. */
        if (h->disk == DISK_ACCESS_HANG) {
                if (!h->hung)
                        h->hung_since = w->now;
                h->hung = true;
                if (w->now < h->hung_since + w->timing.disk_interval_ms)
                        return;
        }
        ev.u.slot_written.done_ms = w->now;
        deliver(w, h, &ev);
        ev = (struct node_event){ .type = NODE_EV_DISK_READ };
        ev.u.disk.done_ms = w->now;
        deliver(w, h, &ev);
}

void disk_round(struct world *w, struct host *h) {
        struct node_event ev = { .type = NODE_EV_SLOT_WRITTEN };

        if (h->disk != DISK_ACCESS_OK && h->disk != DISK_ACCESS_READFAIL) {
                disk_io_failed(w, h);
                return;
        }
        h->hung = false;
        for (int b = 1; b <= w->sc->nhosts; b++)
                if (h->outbox_pending[b]) {
                        w->mbox[b] = h->outbox[b];
                        h->outbox_pending[b] = false;
                }
        disk_write_slot(w, h);
        ev.u.slot_written.ok = true;
        ev.u.slot_written.seq = h->seq;
        ev.u.slot_written.done_ms = w->now;
        ev.u.slot_written.written = w->slot[h->id];
        if (h->stall_for) {
                /* vmhad stops right here, with the completion unhandled. */
                h->stalled = true;
                h->stalled_until = w->now + h->stall_for;
                h->stall_for = 0;
                h->deferred = ev;
                h->has_deferred = true;
                logf_(w, h->id, "vmhad stalls for %.2f s after a slot write", (double)(h->stalled_until - w->now) / 1000);
                return;
        }
        deliver(w, h, &ev);
        if (h->disk == DISK_ACCESS_READFAIL) {
                ev = (struct node_event){ .type = NODE_EV_DISK_READ };
                ev.u.disk.done_ms = w->now;
                deliver(w, h, &ev);
                return;
        }
        disk_read(w, h);
}

/* ---------- claim blocks ---------- */

static bool path_ok(const struct host *h) {
        return h->disk == DISK_ACCESS_OK || h->disk == DISK_ACCESS_READFAIL;
}

/* f's copy of its host's claim block reaches the disk. */
static void land(struct world *w, const struct flight *f) {
        memcpy(w->claims[f->host], f->c, (size_t)f->n * sizeof(f->c[0]));
        w->nclaims[f->host] = f->n;
}

static void claims_done(struct world *w, int host, uint64_t incarnation, struct node_claims_written c) {
        struct host *h = &w->h[host];

        /* A completion reaches only the engine that issued the write. */
        if (!h->powered || h->incarnation != incarnation || h->n_claims_done == 8)
                return;
        c.done_ms = w->now;
        h->claims_done[h->n_claims_done++] = c;
}

/* Lands (or, on a path that does not work, drops) the earlier writes to
 * h's block that no engine waits for: orphans of an error and writes of a
 * previous incarnation. The block layer keeps a block's writes in order
 * once the kernel has returned them (an error ends with the request
 * aborted on the target): they never overtake a newer write. */
static void flush_unwaited(struct world *w, struct host *h) {
        for (int i = 0; i < w->nflight; i++) {
                struct flight *f = &w->flight[i];

                if (f->host != h->id || (!f->orphan && f->incarnation == h->incarnation))
                        continue;
                if (path_ok(h)) {
                        land(w, f);
                        logf_(w, h->id, "a claim write given up on lands now, before a newer one (%d claims)", f->n);
                }
                memmove(f, f + 1, (size_t)(w->nflight - i - 1) * sizeof(*f));
                w->nflight--;
                i--;
        }
}

void claims_write(struct world *w, struct host *h, const struct disk_claim *c, size_t n) {
        struct flight *f;

        flush_unwaited(w, h);

        if (w->nflight == MAXFLIGHT) {
                fprintf(stderr, "simulate: too many claim writes in flight\n");
                exit(2);
        }
        f = &w->flight[w->nflight++];
        memset(f, 0, sizeof(*f));
        f->host = h->id;
        f->incarnation = h->incarnation;
        f->issued = w->now;
        f->due = w->now + h->claims_ms;
        f->deadline = w->now + w->timing.disk_interval_ms;
        f->n = n < MAXVM ? (int)n : MAXVM;
        memcpy(f->c, c, (size_t)f->n * sizeof(*c));
        if (h->claimfail) {
                /* An error at once whose outcome is unknown: the target
                 * carries the write out a disk interval later. */
                h->claimfail = false;
                f->orphan = true;
                f->due += w->timing.disk_interval_ms;
                claims_done(w, h->id, h->incarnation, (struct node_claims_written){ .ok = false });
        }
}

/* One write: lands once due on a working path (a path that hung holds it
 * one more disk interval after it came back), fails at once on a failing
 * path, and is reported timed out, still in flight, at its deadline. A
 * failed write may be an orphan: reported failed, it lands all the same
 * once the path works again. Returns true when it ended. */
static bool flight_step(struct world *w, struct flight *f) {
        struct host *h = &w->h[f->host];
        struct node_claims_written c = { .late = f->reported };

        if (h->disk == DISK_ACCESS_HANG)
                f->hung = true;
        if (h->disk == DISK_ACCESS_FAIL && !f->orphan) {
                /* An error leaves the outcome unknown: the target may still
                 * carry the write out after the path comes back (here: one
                 * issued in an odd tick does). */
                claims_done(w, f->host, f->incarnation, c);
                if ((f->issued / TICK_MS) % 2 == 0)
                        return true;
                f->orphan = f->hung = true;
                return false;
        }
        if (path_ok(h) && w->now >= f->due &&
            (!f->hung || w->now >= h->disk_ok_since + w->timing.disk_interval_ms)) {
                land(w, f);
                if (f->orphan || f->reported || f->incarnation != h->incarnation || !h->powered)
                        logf_(w, f->host, "a claim write given up on lands now (%d claims)", f->n);
                c.ok = true;
                if (!f->orphan)
                        claims_done(w, f->host, f->incarnation, c);
                return true;
        }
        if (!f->reported && !f->orphan && w->now >= f->deadline) {
                f->reported = true;
                claims_done(w, f->host, f->incarnation, (struct node_claims_written){ .in_flight = true });
        }
        return false;
}

void claims_collect(struct world *w, struct host *h) {
        h->claims_read_pending = true;
        h->claims_read_start = w->now;
        h->rd_failed = h->rd_done = false;
        memset(h->rd_got, 0, sizeof(h->rd_got));
}

/* A collect reads block b at start + TICK + (claims_ms - TICK) * (b - 1) /
 * (n - 1): with claimdelay, writes land between its reads. */
static void collect_step(struct world *w, struct host *h) {
        int n = w->sc->nhosts;
        bool all = true;

        for (int b = 1; b <= n; b++) {
                uint64_t at = h->claims_read_start + TICK_MS +
                              (uint64_t)(h->claims_ms - TICK_MS) * (uint64_t)(b - 1) / (uint64_t)(n > 1 ? n - 1 : 1);

                if (h->rd_got[b])
                        continue;
                if (w->now < at) {
                        all = false;
                        continue;
                }
                h->rd_got[b] = true;
                h->rd_failed |= h->disk != DISK_ACCESS_OK;
                h->rd_unknown[b] = (w->corrupt[b] & CORRUPT_CLAIMS) != 0;
                h->rd_n[b] = w->nclaims[b];
                memcpy(h->rd[b], w->claims[b], (size_t)w->nclaims[b] * sizeof(w->claims[b][0]));
        }
        if (all) {
                h->claims_read_pending = false;
                h->rd_done = true;
                h->rd_done_ms = w->now;         /* handled later if vmhad does not run now */
        }
}

void claims_step(struct world *w, struct host *h) {
        for (int i = 0; i < w->nflight; i++)
                if (w->flight[i].host == h->id && flight_step(w, &w->flight[i])) {
                        memmove(&w->flight[i], &w->flight[i + 1], (size_t)(w->nflight - i - 1) * sizeof(w->flight[0]));
                        w->nflight--;
                        i--;
                }
        if (h->powered && h->claims_read_pending)
                collect_step(w, h);
}

void claims_deliver(struct world *w, struct host *h) {
        for (int i = 0; i < h->n_claims_done && h->powered && !h->frozen && !h->stalled; i++) {
                struct node_event ev = { .type = NODE_EV_CLAIMS_WRITTEN };

                ev.u.claims_written = h->claims_done[i];
                deliver(w, h, &ev);
        }
        h->n_claims_done = 0;
        if (h->rd_done && h->powered) {
                struct takeover_claim all[MAXH * MAXVM];
                uint32_t unknown[MAXH];
                size_t n = 0, nu = 0;
                struct node_event ev = { .type = NODE_EV_CLAIMS_READ };

                h->rd_done = false;
                for (int b = 1; b <= w->sc->nhosts; b++) {
                        if (h->rd_unknown[b]) {
                                unknown[nu++] = (uint32_t)b;
                                continue;
                        }
                        for (int i = 0; i < h->rd_n[b]; i++)
                                all[n++] = (struct takeover_claim){ (uint32_t)b, h->rd[b][i].vm_id,
                                                                     h->rd[b][i].claim_seq };
                }
                ev.u.claims = (struct node_claims_read){ .ok = !h->rd_failed, .done_ms = h->rd_done_ms,
                                                         .claims = all, .n_claims = n, .unknown_hosts = unknown,
                                                         .n_unknown = nu };
                deliver(w, h, &ev);
        }
}
