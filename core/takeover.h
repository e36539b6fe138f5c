/* Takeover: which protected VMs this host may claim and start, as pure steps.
 *
 * Ownership is recorded on the disk. Before a host starts a protected VM it
 * writes the claim "VM v belongs to me" with claim_seq = (highest claim_seq
 * it has seen for v) + 1 into its own claims record, re-reads every host's
 * claims, and starts v only if no other host has a claim for v with a
 * claim_seq at least as high. Of two hosts that claim concurrently, at most
 * one starts: whichever wrote second sees the first's claim on its re-read.
 *
 * S2 is checked against the VM's current recorded owner: the host(s)
 * holding the highest claim_seq for it, falling back to the replicated
 * owner for a VM that was never claimed. A partition can hide a CPG
 * ownership change, but not a claim on the disk (CE3).
 *
 * The daemon drives it:
 *   1. after each successful read of all slots and claims, call
 *      takeover_plan(); write every TAKEOVER_CLAIM into this host's claims
 *      record (keeping the claims it already holds);
 *   2. after that write completed, re-read all claims and call
 *      takeover_confirm() for each claim; start the VM only on 0 (GO), and
 *      broadcast the ownership change over CPG (hastate VM_OWNER).
 *   3. on an abort, put back the entry this host had for that VM before
 *      the claim (or drop it if it had none): an unconfirmed claim must not
 *      stay the newest one, or nobody would ever start the VM.
 * A host's claims record survives its reboots: at start the daemon reads
 * its own record back and keeps every entry; it never drops the claim of a
 * VM it may be running.
 * Only a SURVIVE verdict with a disk read of its own within the last
 * interval takes over anything. The master (lowest surviving id) takes over
 * VMs of dead owners onto itself; any surviving host restarts a VM it
 * itself owns but does not run (first start, or after its own reboot). A
 * master in maintenance places and takes over nothing: those VMs wait.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "core/s2.h"
#include "core/survival.h"

#define TAKEOVER_REASON_MAX 288u
#define TAKEOVER_MAX_OWNERS 8u

/* One claim as read from a host's on-disk claims record. */
struct takeover_claim {
        uint32_t host_id;
        uint64_t vm_id;
        uint64_t claim_seq;
};

/* A protected VM as this host knows it, listed in restart order (priority,
 * then order). VMs with priority none are not passed in. */
struct takeover_vm {
        uint64_t vm_id;
        uint32_t replicated_owner;      /* per the replicated HA state, 0 = none */
        bool running_here;              /* this host's driver runs it */
        bool claim_pending;             /* this host wrote a claim not yet confirmed */
};

struct takeover_inputs {
        const struct survival_inputs *survival;
        const struct survival_verdict *verdict;
        const struct takeover_claim *claims;    /* every host's claims, as last read */
        size_t n_claims;
        const struct takeover_vm *vms;
        size_t n_vms;
        bool self_maintenance;          /* this host is in maintenance: it takes no VM of another */
};

enum takeover_kind {
        TAKEOVER_CLAIM = 1,     /* write claim (vm_id, claim_seq) to this host's record */
        TAKEOVER_START,         /* unsafe.no_claims only: start at once, no claim */
        TAKEOVER_WAIT,          /* the owner is not certainly dead yet */
};

struct takeover_action {
        enum takeover_kind kind;
        uint64_t vm_id;
        uint32_t from_host;             /* the recorded owner, 0 for none, self for a restart */
        uint64_t claim_seq;
        uint64_t ready_ms;              /* TAKEOVER_WAIT: when S2 will allow it */
        char reason[TAKEOVER_REASON_MAX];
};

/* Highest claim_seq any host holds for vm_id (0 when none). */
uint64_t takeover_claims_max_seq(const struct takeover_claim *claims, size_t n, uint64_t vm_id);

/* The recorded owners of vm_id: every host holding the highest claim_seq
 * (normally one). Returns how many were written to owners (at most max). */
size_t takeover_claims_owners(const struct takeover_claim *claims, size_t n, uint64_t vm_id,
                              uint32_t *owners, size_t max);

/* Plans claims. Writes up to max actions, sets *n_out. Returns 0, or
 * -EAGAIN (no actions) when this host may not take over anything now:
 * verdict not SURVIVE, or no own disk read within the last interval. */
int takeover_plan(const struct takeover_inputs *in, uint64_t now_ms, struct takeover_action *out,
                  size_t max, size_t *n_out);

/* After the claim (vm_id, claim_seq) was written and all claims re-read
 * (in->claims): 0 to start the VM, -EBUSY when another host holds a claim
 * at least as new, -ENOENT when this host's claim is not on the disk,
 * -EAGAIN when the verdict or the disk no longer allows acting. */
int takeover_confirm(const struct takeover_inputs *in, uint64_t now_ms, uint64_t vm_id,
                     uint64_t claim_seq, char *reason, size_t reason_len);
