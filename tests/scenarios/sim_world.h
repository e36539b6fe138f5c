/* The simulated world's private state, shared by sim_world.c (the world,
 * Corosync, the engine's actions) and sim_disk.c (the disk thread). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/node.h"
#include "tests/scenarios/sim.h"

#define MAXMSG 4096

struct instance {
        int vm, host;
        bool alive;
};

struct delivery {
        uint64_t due;
        int from, to;
        uint8_t *data;
        size_t len;
};

struct host {
        int id;
        bool powered, frozen;
        uint64_t frozen_until, frozen_at;
        bool net_up, tb_link;
        int group;
        enum disk_access disk;
        bool hung;
        uint64_t hung_since;
        bool rebootfail, nowatchdog;
        bool claimfail;                 /* armed: the next claim write fails and lands later */
        uint64_t stall_for;             /* armed: stall after the next slot write */
        bool stalled;
        uint64_t stalled_until;
        struct node_event deferred;     /* the write completion handled after the stall */
        bool has_deferred;
        uint32_t ackdelay_ms;

        /* Corosync */
        struct core_view members;
        uint64_t ring;
        bool quorate;
        bool pending, force_reform;
        struct core_view pend_target;
        uint64_t pend_due;

        /* the engine and its disk thread */
        struct node *node;
        uint64_t next_io, next_tick, seq, incarnation;
        struct disk_slot next_slot;
        bool fence_pending;
        uint64_t fence_due;
        struct disk_mailbox outbox[MAXH + 1];
        bool outbox_pending[MAXH + 1];
        /* claim I/O (sim_disk.c): a collect reads one block after the
         * other over claims_ms; completions wait for vmhad to run */
        uint32_t claims_ms;             /* a claim write's or collect's duration (claimdelay) */
        uint64_t disk_ok_since;         /* when the disk path last came back */
        bool claims_read_pending, rd_failed, rd_done;
        uint64_t claims_read_start, rd_done_ms;
        bool rd_got[MAXH + 1], rd_unknown[MAXH + 1];
        struct disk_claim rd[MAXH + 1][MAXVM];
        int rd_n[MAXH + 1];
        struct node_claims_written claims_done[8];
        int n_claims_done;

        /* watchdog */
        bool wd_armed;
        uint64_t last_feed;
};

/* A write of one host's claim block, from issue until it lands or fails:
 * the kernel's, not vmhad's, so it outlives a timeout, a freeze and even
 * the host that issued it. */
struct flight {
        int host;
        uint64_t incarnation;           /* the engine that issued it */
        uint64_t issued, due, deadline; /* lands no sooner than due; reported timed out at deadline */
        bool hung, reported;            /* met a hung path; reported in flight */
        bool orphan;                    /* reported failed, lands all the same */
        struct disk_claim c[MAXVM];
        int n;
};

#define MAXFLIGHT 64

struct world {
        const struct scenario *sc;
        struct core_timing timing;
        uint64_t now;
        uint64_t detect_ms, rejoin_ms;
        struct host h[MAXH + 1];
        struct disk_slot slot[MAXH + 1];
        bool slot_written[MAXH + 1];
        struct disk_mailbox mbox[MAXH + 1];
        struct disk_claim claims[MAXH + 1][MAXVM];
        int nclaims[MAXH + 1];
        struct flight flight[MAXFLIGHT];
        int nflight;
        int corrupt[MAXH + 1];          /* enum corrupt_what bits: as every host reads it */
        struct instance inst[1024];
        int ninst;
        struct delivery q[MAXMSG];
        int nq;
        uint64_t ring_counter, incarnation_counter;
        bool s1_violation, s2_violation, assert_failed;
        bool two_masters;               /* two masters that both reach the disk, one by rule 2 */
        bool two_masters_flagged;
        bool s1_flagged[MAXVM];
        char *log;
        size_t log_len, log_cap;
        bool quiet_log;         /* random mode: keep only violations */
};

static inline const char *vm_name(const struct world *w, int vm) {
        return w->sc->vms[vm].name;
}

static inline bool running(const struct host *h) {
        return h->powered && !h->frozen;
}

static inline bool vmhad_running(const struct host *h) {
        return running(h) && !h->stalled;
}

void logf_(struct world *w, int host, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Hands ev to h's engine and carries out what it asks. */
void deliver(struct world *w, struct host *h, const struct node_event *ev);

/* sim_truth.c: the ground truth, judged on the world's own state. */
/* The live instances of vm, but the one on except_host (0: none), and
 * where they run, for a log line. */
int alive_instances(const struct world *w, int vm, int except_host, char *where, size_t len);
bool vm_running_on(const struct world *w, int vm, int host);
void check_s2(struct world *w, int host, int vm, uint32_t from);
/* Starts vm on host, flagging S1 if another instance is alive. */
void start_vm(struct world *w, int host, int vm);
void check_masters(struct world *w);
void check_s1_tick(struct world *w);

/* sim_disk.c */
void disk_write_slot(struct world *w, struct host *h);
void disk_read(struct world *w, struct host *h);
void disk_round(struct world *w, struct host *h);
/* Issue a claim write or a collect for h's engine. */
void claims_write(struct world *w, struct host *h, const struct disk_claim *c, size_t n);
void claims_collect(struct world *w, struct host *h);
/* The disk's side, every tick for every host, running or not. */
void claims_step(struct world *w, struct host *h);
/* Hands h's engine the completions that waited for it. */
void claims_deliver(struct world *w, struct host *h);
