/* The scenario simulator's shared definitions.
 *
 * sim_world.c  the simulated world (Corosync, shared disk, watchdogs, VMs)
 *              and the fake shell that drives one core/node.c engine per host
 * sim_parse.c  the pool and events grammar (tests/scenarios/README)
 * simulate.c   scenario mode, the randomized search, main()
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "core/hastate.h"
#include "core/node.h"

#define MAXH 8
#define MAXVM 24
#define MAXEV 256
#define TICK_MS 10

enum ev_kind {
        EV_NET, EV_PARTITION, EV_HEAL, EV_DISK, EV_POWER, EV_FREEZE, EV_TIEBREAK,
        EV_ASSERT_RUNNING, EV_ASSERT_POWER,
        EV_STALL,               /* vmhad stops right after its next slot write completes */
        EV_ACKDELAY,            /* CPG messages from hN arrive arg ms late */
        EV_CORRUPT,             /* hN's slot / claims / mailbox reads back undecodable */
        EV_REPAIR,              /* ... and decodes again */
        EV_REBOOTFAIL,          /* hN's reboot() fails: it runs on until its watchdog fires */
        EV_NOWATCHDOG,          /* hN's next start finds no watchdog */
        EV_CLAIMDELAY,          /* hN's claim writes and collects take arg ms */
        EV_CLAIMFAIL,           /* hN's next claim write fails, and lands a disk interval later */
        EV_VMKILL,              /* every instance of vm dies (killed outside vmha), its hosts live on */
        EV_VMREQUEST,           /* haadm vm start (arg 1) or stop (arg 0) of vm, through hN */
        EV_ASSERT_STOPPED,      /* no instance of vm runs */
};

/* READFAIL: writes land, reads fail (a path that fails only one way). */
enum disk_access { DISK_ACCESS_OK, DISK_ACCESS_FAIL, DISK_ACCESS_HANG, DISK_ACCESS_READFAIL };

enum corrupt_what { CORRUPT_SLOT = 1, CORRUPT_CLAIMS = 2, CORRUPT_MAILBOX = 4 };

struct event {
        uint64_t t;
        int line;
        enum ev_kind kind;
        int host;               /* 0 = all, where allowed */
        int arg;                /* up/down, on/off, disk access, delay, corrupt_what */
        int vm;                 /* assert running */
        uint64_t dur;           /* freeze, stall */
        int group[MAXH + 1];    /* partition: group per host */
        char text[128];
};

struct vm_def {
        char name[16];
        int home;               /* 0: placed by the master, no claim at time 0 */
        enum hastate_priority prio;
};

struct scenario {
        char name[128];
        uint32_t timeout_ms;
        int nhosts;
        bool tiebreak;
        uint32_t wd_late_ms;
        int64_t skew[MAXH + 1];
        bool no_watchdog_at_start[MAXH + 1];   /* pool: nowatchdog hN */
        int64_t phase[MAXH + 1];        /* -1: default */
        int nvms;
        struct vm_def vms[MAXVM];
        struct core_unsafe_knobs knobs;
        bool expect_s1;
        bool expect_s2;                 /* expect s2-violation: a takeover while the VM runs, S1 kept */
        bool expect_two_masters;        /* expect two-masters: a knob twin of a rule-2 fix */
        uint64_t end_ms;
        int nev;
        struct event ev[MAXEV];
};

struct world;

/* sim_world.c */
struct world *world_new(const struct scenario *sc, bool quiet);
void world_run(struct world *w);
void world_free(struct world *w);
const char *world_log(const struct world *w);
bool world_s1_violation(const struct world *w);
bool world_s2_violation(const struct world *w);
bool world_two_masters(const struct world *w);
bool world_assert_failed(const struct world *w);

/* sim_parse.c */
int parse_pool(struct scenario *sc, const char *file);
int parse_events(struct scenario *sc, const char *file);
bool knobs_any(const struct core_unsafe_knobs *k);
/* Sets the knob named name; false when there is none. */
bool knob_set(struct core_unsafe_knobs *k, const char *name);
/* When two knobs or more are set (split-masters aside): each set with one
 * of them cleared, into out (up to max); returns how many. */
size_t knobs_one_fewer(const struct core_unsafe_knobs *k, struct core_unsafe_knobs *out, size_t max);
/* " --knob NAME" for every knob set, into buf. */
void knobs_format(const struct core_unsafe_knobs *k, char *buf, size_t len);
void describe_event(struct event *e);
