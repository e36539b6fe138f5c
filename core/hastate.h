/* The replicated HA state: pool settings, protected VMs and their owners,
 * host maintenance flags.
 *
 * It changes only through messages that CPG delivers in agreed order, so
 * every member that applies the same messages from the same snapshot holds
 * the same state. hastate_apply() is a pure transition: it validates the
 * message completely first, and an invalid message is rejected with a
 * reason and changes nothing (not even the generation).
 *
 * A host that joins gets the state as a snapshot (hastate_snapshot_encode /
 * _decode): a little-endian byte buffer with a magic, a version and a
 * CRC-32, validated field by field on decode. Messages have a wire form too
 * (hastate_msg_encode / _decode) for CPG.
 *
 * What it does not do: decide anything. Ownership recorded here follows the
 * disk claims (takeover.h); it is never the evidence S2 rests on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/survival.h"
#include "core/takeover.h"

#define HASTATE_NAME_MAX        64u     /* including the NUL */
#define HASTATE_CONFIG_MAX      256u    /* xl config path or sim spec, including the NUL */
#define HASTATE_MAX_VMS         4096u
#define HASTATE_MAX_MEMORY_MIB  (16ull * 1024 * 1024)  /* 16 TiB */
#define HASTATE_MAX_START_DELAY_MS 3600000u
#define HASTATE_MAX_FTT         (CORE_MAX_HOST_ID - 1)
#define HASTATE_ORDER_LIMIT     1000000
#define HASTATE_ERROR_MAX       160u

enum hastate_priority {
        HASTATE_PRIORITY_NONE = 0,
        HASTATE_PRIORITY_RESTART = 1,
        HASTATE_PRIORITY_BEST_EFFORT = 2,
        _HASTATE_PRIORITY_MAX,
};

struct hastate_pool {
        bool ha_enabled;
        uint32_t ftt_target;            /* failures-to-tolerate target */
        bool allow_overcommit;
};

struct hastate_vm {
        uint64_t id;                    /* nonzero, unique */
        char name[HASTATE_NAME_MAX];    /* unique; the name rule of daemon/name.h */
        enum hastate_priority priority;
        int32_t order;                  /* start order within a priority */
        uint32_t start_delay_ms;
        uint64_t memory_mib;
        char config[HASTATE_CONFIG_MAX];/* xl config path or sim spec, non-empty, printable UTF-8 */
        uint32_t owner;                 /* host id, 0 when not placed */
        bool started;                   /* requested state: started (haadm vm start) or stopped */
};

struct hastate {
        uint64_t generation;            /* messages applied */
        struct hastate_pool pool;
        struct core_view maintenance;   /* hosts in maintenance */
        struct hastate_vm *vms;
        size_t n_vms, cap;
};

enum hastate_msg_type {
        HASTATE_MSG_POOL_SETTINGS = 1,
        HASTATE_MSG_VM_PROTECT,         /* add, or update all but the owner and the requested state */
        HASTATE_MSG_VM_UNPROTECT,
        HASTATE_MSG_VM_OWNER,
        HASTATE_MSG_HOST_MAINTENANCE,
        HASTATE_MSG_VM_REQUEST,         /* requested state: start or stop */
        _HASTATE_MSG_MAX,
};

struct hastate_msg {
        enum hastate_msg_type type;
        uint32_t sender;                /* host id of the sender */
        union {
                struct hastate_pool pool;
                struct hastate_vm vm;   /* VM_PROTECT: owner applies only when adding */
                struct { uint64_t vm_id; } unprotect;
                struct { uint64_t vm_id; uint32_t owner; } owner;
                struct { uint32_t host_id; bool on; } maintenance;
                struct { uint64_t vm_id; bool started; } request;
        } u;
};

struct hastate_error {
        char msg[HASTATE_ERROR_MAX];
};

struct hastate *hastate_new(void);
void hastate_free(struct hastate *s);

/* Applies m. Returns 0, -EINVAL (invalid message, state unchanged, reason
 * in err) or -ENOMEM (state unchanged). */
int hastate_apply(struct hastate *s, const struct hastate_msg *m, struct hastate_error *err);

const struct hastate_vm *hastate_vm_find(const struct hastate *s, uint64_t vm_id);

/* The protected VMs in restart order, as takeover_plan() wants them:
 * priority restart before best-effort, then by order, then by id; VMs with
 * priority none, and VMs whose requested state is stopped, are left out. running_here and claim_pending are left
 * false for the caller to set. Writes at most max, sets *n. */
void hastate_restart_list(const struct hastate *s, struct takeover_vm *out, size_t max, size_t *n);
const char *hastate_priority_name(enum hastate_priority p);
/* "restart", "best-effort", "none"; -EINVAL for anything else. */
int hastate_priority_parse(const char *s, enum hastate_priority *p);

/* A deep copy (NULL when out of memory), to try a change on. */
struct hastate *hastate_dup(const struct hastate *s);

/* Snapshot: *buf is malloc'd (free() it). 0 or -ENOMEM. */
int hastate_snapshot_encode(const struct hastate *s, uint8_t **buf, size_t *len);
/* The length hastate_snapshot_encode() would give, without encoding. */
size_t hastate_snapshot_len(const struct hastate *s);
/* The length of the longest snapshot of n_vms VMs: every name and config
 * at its longest (HASTATE_NAME_MAX - 1, HASTATE_CONFIG_MAX - 1 bytes). */
size_t hastate_snapshot_max_len(size_t n_vms);
/* 0 with a new *out, or -EBADMSG (reason in err) for malformed input, or -ENOMEM. */
int hastate_snapshot_decode(const void *buf, size_t len, struct hastate **out, struct hastate_error *err);

/* Wire form of one message. encode: 0, or -ENOSPC when len is too small
 * (*used then says how much is needed), -EINVAL for an unknown type. */
#define HASTATE_MSG_WIRE_MAX 512u
int hastate_msg_encode(const struct hastate_msg *m, uint8_t *buf, size_t len, size_t *used);
/* 0, or -EBADMSG (reason in err). Semantic checks happen in hastate_apply(). */
int hastate_msg_decode(const void *buf, size_t len, struct hastate_msg *m, struct hastate_error *err);
