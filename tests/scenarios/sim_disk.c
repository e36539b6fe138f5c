/* The simulated disk thread: once per interval it writes the host's slot
 * (and any queued mailbox), reports the completion, then reads every slot
 * and mailbox; claim writes and reads complete one tick after they were
 * asked for. A failed I/O is reported at once, a hung one at its deadline,
 * as disk_thread.c does; a corrupt block reads back undecodable. With
 * `readfail`, writes land and every read fails at once. */
#include <stdio.h>
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

void claims_io(struct world *w, struct host *h) {
        if (h->claims_write_pending && w->now >= h->claims_write_due) {
                struct node_event ev = { .type = NODE_EV_CLAIMS_WRITTEN };

                h->claims_write_pending = false;
                ev.u.claims_written.ok = h->disk == DISK_ACCESS_OK || h->disk == DISK_ACCESS_READFAIL;
                ev.u.claims_written.done_ms = w->now;
                if (ev.u.claims_written.ok) {
                        memcpy(w->claims[h->id], h->claims_to_write, (size_t)h->n_claims_to_write * sizeof(struct disk_claim));
                        w->nclaims[h->id] = h->n_claims_to_write;
                }
                deliver(w, h, &ev);
        }
        if (h->claims_read_pending && w->now >= h->claims_read_due) {
                struct takeover_claim all[MAXH * MAXVM];
                uint32_t unknown[MAXH];
                size_t n = 0, nu = 0;
                struct node_event ev = { .type = NODE_EV_CLAIMS_READ };

                h->claims_read_pending = false;
                for (int b = 1; b <= w->sc->nhosts; b++) {
                        if (w->corrupt[b] & CORRUPT_CLAIMS) {
                                unknown[nu++] = (uint32_t)b;
                                continue;
                        }
                        for (int i = 0; i < w->nclaims[b]; i++)
                                all[n++] = (struct takeover_claim){ (uint32_t)b, w->claims[b][i].vm_id,
                                                                     w->claims[b][i].claim_seq };
                }
                ev.u.claims = (struct node_claims_read){ .ok = h->disk == DISK_ACCESS_OK, .done_ms = w->now,
                                                         .claims = all, .n_claims = n, .unknown_hosts = unknown,
                                                         .n_unknown = nu };
                deliver(w, h, &ev);
        }
}

