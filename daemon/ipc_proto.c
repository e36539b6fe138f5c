/* Strict parsing of control requests with json-c.
 *
 * json_strict.c is given the exact byte count and a small nesting limit;
 * the result must be one complete object with nothing after it and no key
 * twice. Each op
 * has a table of the keys it accepts; any other key is an error, so a
 * typo in a client never turns into a silently ignored setting.
 */
#include "daemon/ipc_proto.h"
#include "daemon/json_strict.h"
#include "planner/planner.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 8

static const char *const op_names[] = {
        [IPC_OP_STATUS] = "status",
        [IPC_OP_ENABLE] = "enable",
        [IPC_OP_DISABLE] = "disable",
        [IPC_OP_POOL_SET] = "pool_set",
        [IPC_OP_VM_SET] = "vm_set",
        [IPC_OP_VM_LIST] = "vm_list",
        [IPC_OP_VM_REMOVE] = "vm_remove",
        [IPC_OP_HOST_MAINTENANCE] = "host_maintenance",
        [IPC_OP_HOST_FENCE] = "host_fence",
        [IPC_OP_EMERGENCY_CLEAR] = "emergency_clear",
        [IPC_OP_METRICS] = "metrics",
        [IPC_OP_VM_START] = "vm_start",
        [IPC_OP_VM_STOP] = "vm_stop",
};
_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == _IPC_OP_MAX, "a name per op");

/* The keys each op accepts in "args"; the ones marked '!' are required. */
static const char *const op_keys[][8] = {
        [IPC_OP_STATUS] = { NULL },
        [IPC_OP_ENABLE] = { NULL },
        [IPC_OP_DISABLE] = { NULL },
        [IPC_OP_POOL_SET] = { "failures_to_tolerate", "allow_overcommit", NULL },
        [IPC_OP_VM_SET] = { "!name", "priority", "order", "start_delay_s", "memory_mib", "config", NULL },
        [IPC_OP_VM_LIST] = { NULL },
        [IPC_OP_VM_REMOVE] = { "!name", NULL },
        [IPC_OP_HOST_MAINTENANCE] = { "!host", "!on", NULL },
        [IPC_OP_HOST_FENCE] = { "!host", NULL },
        [IPC_OP_EMERGENCY_CLEAR] = { NULL },
        [IPC_OP_METRICS] = { NULL },
        [IPC_OP_VM_START] = { "!name", NULL },
        [IPC_OP_VM_STOP] = { "!name", NULL },
};
_Static_assert(sizeof(op_keys) / sizeof(op_keys[0]) == _IPC_OP_MAX, "a key list per op");

static int bad(char err[IPC_ERROR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(char err[IPC_ERROR_MAX], const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, IPC_ERROR_MAX, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

const char *ipc_op_name(enum ipc_op op) {
        return (unsigned)op < _IPC_OP_MAX ? op_names[op] : "invalid";
}

const char *ipc_priority_name(enum ipc_priority p) {
        switch (p) {
        case IPC_PRIORITY_RESTART:
                return "restart";
        case IPC_PRIORITY_BEST_EFFORT:
                return "best-effort";
        default:
                return "none";
        }
}

int ipc_priority_from_name(const char *s, enum ipc_priority *p) {
        if (strcmp(s, "restart") == 0)
                *p = IPC_PRIORITY_RESTART;
        else if (strcmp(s, "best-effort") == 0)
                *p = IPC_PRIORITY_BEST_EFFORT;
        else if (strcmp(s, "none") == 0)
                *p = IPC_PRIORITY_NONE;
        else
                return -EINVAL;
        return 0;
}

/* Untrusted text in a message: at most 64 bytes, printable. */
static const char *show(const char *s, char *out, size_t out_len) {
        return vmha_text_show(s, strnlen(s, 64), out, out_len);
}

static bool key_allowed(enum ipc_op op, const char *key, bool *required) {
        for (size_t i = 0; op_keys[op][i]; i++) {
                const char *k = op_keys[op][i];
                bool req = k[0] == '!';
                if (strcmp(k + req, key) == 0) {
                        *required = req;
                        return true;
                }
        }
        return false;
}

static int get_int(json_object *v, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   char err[IPC_ERROR_MAX]) {
        if (!json_object_is_type(v, json_type_int))
                return bad(err, "args.%s: expected an integer", key);
        errno = 0;
        int64_t n = json_object_get_int64(v);
        if (errno == ERANGE || n < lo || n > hi)
                return bad(err, "args.%s: %lld is out of range %lld..%lld", key,
                           (long long)json_object_get_int64(v), (long long)lo, (long long)hi);
        *out = n;
        return 0;
}

static int get_name(json_object *v, const char *key, char out[IPC_NAME_MAX], char err[IPC_ERROR_MAX]) {
        const char *s;
        if (!json_object_is_type(v, json_type_string))
                return bad(err, "args.%s: expected a string", key);
        s = json_object_get_string(v);
        if (!vmha_name_valid(s, (size_t)json_object_get_string_len(v)))
                return bad(err, "args.%s: invalid name (" VMHA_NAME_RULE ")", key);
        strcpy(out, s);
        return 0;
}

static int parse_arg(struct ipc_request *req, const char *key, json_object *v, char err[IPC_ERROR_MAX]) {
        int64_t n;
        int r;

        if (strcmp(key, "name") == 0)
                return get_name(v, key, req->vm, err);
        if (strcmp(key, "host") == 0)
                return get_name(v, key, req->host, err);
        if (strcmp(key, "on") == 0 || strcmp(key, "allow_overcommit") == 0) {
                if (!json_object_is_type(v, json_type_boolean))
                        return bad(err, "args.%s: expected true or false", key);
                if (key[0] == 'o') {
                        req->on = json_object_get_boolean(v);
                } else {
                        req->has_allow_overcommit = true;
                        req->allow_overcommit = json_object_get_boolean(v);
                }
                return 0;
        }
        if (strcmp(key, "failures_to_tolerate") == 0) {
                r = get_int(v, key, 0, PLAN_MAX_FAILURES_TO_TOLERATE, &n, err);
                req->has_failures_to_tolerate = r == 0;
                req->failures_to_tolerate = (uint32_t)n;
                return r;
        }
        if (strcmp(key, "priority") == 0) {
                if (!json_object_is_type(v, json_type_string) ||
                    ipc_priority_from_name(json_object_get_string(v), &req->priority) < 0)
                        return bad(err, "args.priority: expected \"restart\", \"best-effort\" or \"none\"");
                req->has_priority = true;
                return 0;
        }
        if (strcmp(key, "order") == 0) {
                r = get_int(v, key, PLAN_MIN_ORDER, PLAN_MAX_ORDER, &n, err);
                req->has_order = r == 0;
                req->order = (int32_t)n;
                return r;
        }
        if (strcmp(key, "start_delay_s") == 0) {
                r = get_int(v, key, 0, PLAN_MAX_START_DELAY_S, &n, err);
                req->has_start_delay = r == 0;
                req->start_delay_s = (uint32_t)n;
                return r;
        }
        if (strcmp(key, "memory_mib") == 0) {
                r = get_int(v, key, 1, (int64_t)PLAN_MAX_VM_MEMORY_MIB, &n, err);
                req->has_memory = r == 0;
                req->memory_mib = (uint64_t)n;
                return r;
        }
        if (strcmp(key, "config") == 0) {
                const char *s;
                if (!json_object_is_type(v, json_type_string))
                        return bad(err, "args.config: expected a string");
                s = json_object_get_string(v);
                if (s[0] != '/' || strlen(s) >= IPC_PATH_MAX ||
                    strlen(s) != (size_t)json_object_get_string_len(v))
                        return bad(err, "args.config: expected an absolute path shorter than %d bytes",
                                   IPC_PATH_MAX);
                strcpy(req->config, s);
                req->has_config = true;
                return 0;
        }
        return bad(err, "args.%s: not handled", key);
}

int ipc_request_parse(const void *buf, size_t len, struct ipc_request *req, char err[IPC_ERROR_MAX]) {
        json_object *root = NULL, *op = NULL, *args = NULL;
        struct json_strict_error jerr;
        char shown[72];
        int r = 0;

        memset(req, 0, sizeof(*req));
        if (len == 0)
                return bad(err, "empty request");
        if (len > IPC_MAX_MESSAGE)
                return bad(err, "request of %zu bytes exceeds the limit of %d", len, IPC_MAX_MESSAGE);
        r = json_strict_parse_object(buf, len, JSON_DEPTH, &root, &jerr);
        if (r == -ENOMEM) {
                bad(err, "out of memory");
                return r;
        }
        if (r < 0)
                return bad(err, "%s%s", r == -EBADMSG ? "malformed JSON: " : "", jerr.msg);
        json_object_object_foreach(root, key, val) {
                if (strcmp(key, "op") == 0)
                        op = val;
                else if (strcmp(key, "args") == 0)
                        args = val;
                else {
                        r = bad(err, "unknown field '%s'", show(key, shown, sizeof(shown)));
                        goto out;
                }
        }
        if (!op || !json_object_is_type(op, json_type_string)) {
                r = bad(err, "missing \"op\" string");
                goto out;
        }
        req->op = _IPC_OP_MAX;
        for (unsigned i = 0; i < _IPC_OP_MAX; i++)
                if (strcmp(json_object_get_string(op), op_names[i]) == 0)
                        req->op = (enum ipc_op)i;
        if (req->op == _IPC_OP_MAX) {
                r = bad(err, "unknown op '%s'", show(json_object_get_string(op), shown, sizeof(shown)));
                goto out;
        }
        if (args && !json_object_is_type(args, json_type_object)) {
                r = bad(err, "\"args\" must be an object");
                goto out;
        }
        if (args) {
                json_object_object_foreach(args, akey, aval) {
                        bool required;
                        if (!key_allowed(req->op, akey, &required)) {
                                r = bad(err, "%s: unknown argument '%s'", op_names[req->op],
                                        show(akey, shown, sizeof(shown)));
                                goto out;
                        }
                        r = parse_arg(req, akey, aval, err);
                        if (r < 0)
                                goto out;
                }
        }
        for (size_t i = 0; op_keys[req->op][i]; i++) {
                const char *k = op_keys[req->op][i];
                if (k[0] == '!' && !(args && json_object_object_get_ex(args, k + 1, NULL))) {
                        r = bad(err, "%s: missing argument '%s'", op_names[req->op], k + 1);
                        goto out;
                }
        }
        if (req->op == IPC_OP_POOL_SET && !req->has_failures_to_tolerate && !req->has_allow_overcommit)
                r = bad(err, "pool_set: nothing to set");
        if (req->op == IPC_OP_VM_SET && !req->has_priority && !req->has_order && !req->has_start_delay &&
            !req->has_memory && !req->has_config)
                r = bad(err, "vm_set: nothing to change");
out:
        json_object_put(root);
        if (r < 0) {
                enum ipc_op keep = req->op;
                memset(req, 0, sizeof(*req));
                req->op = keep;
        }
        return r;
}

int ipc_request_format(const struct ipc_request *req, char **json) {
        json_object *root, *args;

        if ((unsigned)req->op >= _IPC_OP_MAX)
                return -EINVAL;
        root = json_object_new_object();
        args = json_object_new_object();
        json_object_object_add(root, "op", json_object_new_string(op_names[req->op]));
        switch (req->op) {
        case IPC_OP_POOL_SET:
                if (req->has_failures_to_tolerate)
                        json_object_object_add(args, "failures_to_tolerate",
                                               json_object_new_int64(req->failures_to_tolerate));
                if (req->has_allow_overcommit)
                        json_object_object_add(args, "allow_overcommit", json_object_new_boolean(req->allow_overcommit));
                break;
        case IPC_OP_VM_SET:
                json_object_object_add(args, "name", json_object_new_string(req->vm));
                if (req->has_priority)
                        json_object_object_add(args, "priority", json_object_new_string(ipc_priority_name(req->priority)));
                if (req->has_order)
                        json_object_object_add(args, "order", json_object_new_int(req->order));
                if (req->has_start_delay)
                        json_object_object_add(args, "start_delay_s", json_object_new_int64(req->start_delay_s));
                if (req->has_memory)
                        json_object_object_add(args, "memory_mib", json_object_new_int64((int64_t)req->memory_mib));
                if (req->has_config)
                        json_object_object_add(args, "config", json_object_new_string(req->config));
                break;
        case IPC_OP_VM_REMOVE:
        case IPC_OP_VM_START:
        case IPC_OP_VM_STOP:
                json_object_object_add(args, "name", json_object_new_string(req->vm));
                break;
        case IPC_OP_HOST_MAINTENANCE:
                json_object_object_add(args, "host", json_object_new_string(req->host));
                json_object_object_add(args, "on", json_object_new_boolean(req->on));
                break;
        case IPC_OP_HOST_FENCE:
                json_object_object_add(args, "host", json_object_new_string(req->host));
                break;
        default:
                break;
        }
        json_object_object_add(root, "args", args);
        *json = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
        return *json ? 0 : -ENOMEM;
}
