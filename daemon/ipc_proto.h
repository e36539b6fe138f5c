/* The control protocol between haadm and vmhad.
 *
 * Messages travel over libqb IPC; each payload is one JSON object (json-c).
 * A request is {"op": "NAME", "args": {...}}; a reply is
 * {"ok": true, "result": {...}} or {"ok": false, "error": "message"}.
 * This file is the pure half: building and strictly validating requests.
 * Anything unexpected (an unknown op or key, a key given twice, a wrong
 * type, a value out of range, a name that breaks the rule of name.h,
 * trailing bytes, deep nesting, an oversized message) is refused with a
 * message saying what is wrong, and nothing is done.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/name.h"

#define IPC_MAX_MESSAGE (64 * 1024)
#define IPC_NAME_MAX VMHA_NAME_MAX
#define IPC_PATH_MAX 256
#define IPC_ERROR_MAX 256
#define IPC_SERVICE_NAME "vmhad"
/* The metrics reply is the one that can be large: the text of a pool of
 * 255 hosts (daemon/metrics.h) with JSON's escapes. haadm metrics asks
 * for a connection this size. */
#define IPC_METRICS_MAX_REPLY (1024 * 1024)

enum ipc_op {
        IPC_OP_STATUS,
        IPC_OP_ENABLE,
        IPC_OP_DISABLE,
        IPC_OP_POOL_SET,
        IPC_OP_VM_SET,
        IPC_OP_VM_LIST,
        IPC_OP_VM_REMOVE,
        IPC_OP_HOST_MAINTENANCE,
        IPC_OP_HOST_FENCE,
        IPC_OP_EMERGENCY_CLEAR,
        IPC_OP_METRICS,
        IPC_OP_VM_START,
        IPC_OP_VM_STOP,
        _IPC_OP_MAX,
};

enum ipc_priority {
        IPC_PRIORITY_NONE,
        IPC_PRIORITY_RESTART,
        IPC_PRIORITY_BEST_EFFORT,
};

struct ipc_request {
        enum ipc_op op;
        /* pool_set */
        bool has_failures_to_tolerate;
        uint32_t failures_to_tolerate;
        bool has_allow_overcommit;
        bool allow_overcommit;
        /* vm_set, vm_remove */
        char vm[IPC_NAME_MAX];
        bool has_priority;
        enum ipc_priority priority;
        bool has_order;
        int32_t order;
        bool has_start_delay;
        uint32_t start_delay_s;
        bool has_memory;
        uint64_t memory_mib;
        bool has_config;
        char config[IPC_PATH_MAX];
        /* host_maintenance, host_fence */
        char host[IPC_NAME_MAX];
        bool on;
};

/* Parses and validates one request of len bytes (not necessarily
 * NUL-terminated). Returns 0, or -EBADMSG (-ENOMEM) with err set. */
int ipc_request_parse(const void *buf, size_t len, struct ipc_request *req, char err[IPC_ERROR_MAX]);

/* Serializes a request (malloc'd NUL-terminated JSON). Returns 0 or -errno. */
int ipc_request_format(const struct ipc_request *req, char **json);

const char *ipc_op_name(enum ipc_op op);
const char *ipc_priority_name(enum ipc_priority p);
int ipc_priority_from_name(const char *s, enum ipc_priority *p);
