/* plan_json: reads a JSON pool description into a planner pool, with json-c.
 *
 * Every error names the file and the JSON path of the offending value
 * (`pool.json: hosts[2].memory_mib: ...`), because the person reading it is
 * fixing a hand-written file. Validation is strict: wrong types, negative or
 * fractional sizes, unknown names, duplicates, unknown keys and anything
 * that is not strict JSON (json_strict.c: a key twice, a trailing comma, a
 * comment, a single-quoted string) are all errors. Names follow the rule
 * of daemon/name.h, and every value quoted in a message is made printable.
 */
#include "tools/plan_json.h"
#include "daemon/json_strict.h"
#include "daemon/name.h"
#include "planner/planner.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A pool description nests three levels: {"vms": [{...}]}. */
#define PLAN_JSON_DEPTH 8

struct ctx {
        const char *name;
        char *err;
        size_t err_size;
        char shown[128];        /* an untrusted value, made safe to print */
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *c, const char *fmt, ...) {
        int n = snprintf(c->err, c->err_size, "%s: ", c->name);
        if (n >= 0 && (size_t)n < c->err_size) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* A short rendering of a JSON value for messages. json-c escapes control
 * characters in strings; any byte beyond ASCII becomes \xHH too. */
static const char *show_value(struct ctx *c, struct json_object *v) {
        if (!v)
                return "null";
        const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        size_t n = 0;
        if (strlen(s) > 60)
                return "(a long value)";
        for (; *s && n + 5 < sizeof(c->shown); s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch >= 0x20 && ch < 0x7f)
                        c->shown[n++] = (char)ch;
                else
                        n += (size_t)snprintf(c->shown + n, sizeof(c->shown) - n, "\\x%02x", ch);
        }
        c->shown[n] = 0;
        return c->shown;
}

/* A string from the input, for messages: printable, without its quotes. */
static const char *show_text(struct ctx *c, const char *s) {
        return vmha_text_show(s, strlen(s), c->shown, sizeof(c->shown));
}

static const char *type_name(struct json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a non-integer number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "?";
}

static int check_keys(struct ctx *c, struct json_object *obj, const char *path, const char *const *allowed) {
        json_object_object_foreach(obj, key, val) {
                (void)val;
                bool ok = false;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = strcmp(key, allowed[i]) == 0;
                if (!ok)
                        return fail(c, "%s%sunknown key \"%s\"", path, *path ? ": " : "", show_text(c, key));
        }
        return 0;
}

static int get_int(struct ctx *c, struct json_object *v, const char *path, int64_t min, int64_t max,
                   const char *what, int64_t *ret) {
        if (json_object_get_type(v) != json_type_int)
                return fail(c, "%s: %s must be an integer, not %s (%s)", path, what, type_name(v), show_value(c, v));
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (errno == ERANGE || x < min || x > max) {
                if (min == 0 && x < 0)
                        return fail(c, "%s: %s must not be negative (got %s)", path, what, show_value(c, v));
                return fail(c, "%s: %s must be between %" PRId64 " and %" PRId64 " (got %s)", path, what, min, max,
                            show_value(c, v));
        }
        *ret = x;
        return 0;
}

static int get_string(struct ctx *c, struct json_object *v, const char *path, const char *what, const char **ret) {
        if (json_object_get_type(v) != json_type_string)
                return fail(c, "%s: %s must be a string, not %s (%s)", path, what, type_name(v), show_value(c, v));
        *ret = json_object_get_string(v);
        return 0;
}

/* Names follow the one rule of daemon/name.h, as `haadm vm set` and vmhad
 * check them. */
static int get_name(struct ctx *c, struct json_object *obj, const char *path, const char **ret) {
        struct json_object *v;
        char p[64];
        snprintf(p, sizeof(p), "%s.name", path);
        if (!json_object_object_get_ex(obj, "name", &v))
                return fail(c, "%s: missing \"name\"", path);
        int r = get_string(c, v, p, "the name", ret);
        if (r < 0)
                return r;
        if (!**ret)
                return fail(c, "%s: the name must not be empty", p);
        if (!vmha_name_valid(*ret, (size_t)json_object_get_string_len(v)))
                return fail(c, "%s: invalid name \"%s\" (" VMHA_NAME_RULE ")", p,
                            vmha_text_show(*ret, (size_t)json_object_get_string_len(v), c->shown, sizeof(c->shown)));
        return 0;
}

static int get_memory(struct ctx *c, struct json_object *obj, const char *path, uint64_t *ret) {
        struct json_object *v;
        char p[64];
        snprintf(p, sizeof(p), "%s.memory_mib", path);
        if (!json_object_object_get_ex(obj, "memory_mib", &v))
                return fail(c, "%s: missing \"memory_mib\"", path);
        int64_t x;
        int r = get_int(c, v, p, 0, (int64_t)PLAN_MAX_VM_MEMORY_MIB, "memory (MiB)", &x);
        if (r < 0)
                return r;
        *ret = (uint64_t)x;
        return 0;
}

static int parse_host(struct ctx *c, struct plan_pool *pool, struct json_object *obj, size_t i) {
        static const char *const keys[] = { "name", "memory_mib", "state", NULL };
        char path[32];
        snprintf(path, sizeof(path), "hosts[%zu]", i);
        if (json_object_get_type(obj) != json_type_object)
                return fail(c, "%s: expected an object, not %s", path, type_name(obj));
        int r = check_keys(c, obj, path, keys);
        if (r < 0)
                return r;
        const char *name, *state_s;
        uint64_t mem;
        enum plan_host_state state = PLAN_HOST_LIVE;
        struct json_object *v;
        if ((r = get_name(c, obj, path, &name)) < 0 || (r = get_memory(c, obj, path, &mem)) < 0)
                return r;
        if (json_object_object_get_ex(obj, "state", &v)) {
                char p[48];
                snprintf(p, sizeof(p), "%s.state", path);
                if ((r = get_string(c, v, p, "the state", &state_s)) < 0)
                        return r;
                if (plan_host_state_from_string(state_s, &state) < 0)
                        return fail(c, "%s: unknown state \"%s\" (expected live, dead or maintenance)", p,
                                    show_text(c, state_s));
        }
        r = plan_pool_add_host(pool, name, mem, state, NULL);
        if (r == -EEXIST)
                return fail(c, "%s.name: duplicate host name \"%s\"", path, name);
        return r;
}

static int parse_vm(struct ctx *c, struct plan_pool *pool, struct json_object *obj, size_t i) {
        static const char *const keys[] = { "name", "memory_mib", "host", "priority", "order", "start_delay_s",
                                            "agile", NULL };
        char path[32], p[64];
        snprintf(path, sizeof(path), "vms[%zu]", i);
        if (json_object_get_type(obj) != json_type_object)
                return fail(c, "%s: expected an object, not %s", path, type_name(obj));
        int r = check_keys(c, obj, path, keys);
        if (r < 0)
                return r;
        struct plan_vm vm = PLAN_VM_INIT;
        struct json_object *v;
        const char *s;
        int64_t x;
        if ((r = get_name(c, obj, path, &vm.name)) < 0 || (r = get_memory(c, obj, path, &vm.memory_mib)) < 0)
                return r;
        if (json_object_object_get_ex(obj, "host", &v) && v) {
                snprintf(p, sizeof(p), "%s.host", path);
                if ((r = get_string(c, v, p, "the host (or null for a halted VM)", &s)) < 0)
                        return r;
                if (plan_pool_find_host(pool, s, &vm.host) < 0)
                        return fail(c, "%s: unknown host \"%s\"", p, show_text(c, s));
        }
        if (json_object_object_get_ex(obj, "priority", &v)) {
                snprintf(p, sizeof(p), "%s.priority", path);
                if ((r = get_string(c, v, p, "the priority", &s)) < 0)
                        return r;
                if (plan_priority_from_string(s, &vm.priority) < 0)
                        return fail(c, "%s: unknown priority \"%s\" (expected restart, best-effort or none)", p,
                                    show_text(c, s));
        }
        if (json_object_object_get_ex(obj, "order", &v)) {
                snprintf(p, sizeof(p), "%s.order", path);
                if ((r = get_int(c, v, p, PLAN_MIN_ORDER, PLAN_MAX_ORDER, "the order", &x)) < 0)
                        return r;
                vm.order = (int32_t)x;
        }
        if (json_object_object_get_ex(obj, "start_delay_s", &v)) {
                snprintf(p, sizeof(p), "%s.start_delay_s", path);
                if ((r = get_int(c, v, p, 0, PLAN_MAX_START_DELAY_S, "the start delay (seconds)", &x)) < 0)
                        return r;
                vm.start_delay_s = (uint32_t)x;
        }
        if (json_object_object_get_ex(obj, "agile", &v)) {
                snprintf(p, sizeof(p), "%s.agile", path);
                if (json_object_get_type(v) != json_type_boolean)
                        return fail(c, "%s: must be true or false, not %s (%s)", p, type_name(v), show_value(c, v));
                vm.agile = json_object_get_boolean(v);
        }
        r = plan_pool_add_vm(pool, &vm, NULL);
        if (r == -EEXIST)
                return fail(c, "%s.name: duplicate VM name \"%s\"", path, vm.name);
        return r;
}

static int parse_array(struct ctx *c, struct plan_pool *pool, struct json_object *root, const char *key,
                       int (*each)(struct ctx *, struct plan_pool *, struct json_object *, size_t)) {
        struct json_object *arr;
        if (!json_object_object_get_ex(root, key, &arr))
                return fail(c, "%s: missing (expected an array)", key);
        if (json_object_get_type(arr) != json_type_array)
                return fail(c, "%s: expected an array, not %s", key, type_name(arr));
        size_t n = json_object_array_length(arr);
        for (size_t i = 0; i < n; i++) {
                int r = each(c, pool, json_object_array_get_idx(arr, i), i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void offset_to_line(const char *text, size_t off, size_t len, unsigned *line, unsigned *col) {
        *line = 1;
        *col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (text[i] == '\n') {
                        (*line)++;
                        *col = 1;
                } else {
                        (*col)++;
                }
        }
}

int plan_json_parse(const char *name, const char *text, size_t len, struct plan_pool **ret, char *err,
                    size_t err_size) {
        static const char *const keys[] = { "failures_to_tolerate", "allow_overcommit", "hosts", "vms", NULL };
        struct ctx c = { .name = name, .err = err, .err_size = err_size };
        struct json_object *root = NULL, *v;
        struct json_strict_error jerr;
        struct plan_pool *pool = NULL;
        int r;

        r = json_strict_parse_object(text, len, PLAN_JSON_DEPTH, &root, &jerr);
        if (r == -EBADMSG) {
                unsigned line, col;
                offset_to_line(text, jerr.offset, len, &line, &col);
                r = fail(&c, "malformed JSON at line %u, column %u: %s", line, col, jerr.msg);
                goto out;
        }
        if (r == -EINVAL) {
                r = fail(&c, "%s", jerr.msg);
                goto out;
        }
        if (r < 0) {
                fail(&c, "out of memory");
                goto out;
        }
        if ((r = check_keys(&c, root, "", keys)) < 0)
                goto out;
        if ((r = plan_pool_new(&pool)) < 0)
                goto out;
        if (json_object_object_get_ex(root, "failures_to_tolerate", &v) && v) {
                int64_t x;
                if ((r = get_int(&c, v, "failures_to_tolerate", 0, PLAN_MAX_FAILURES_TO_TOLERATE, "the target",
                                 &x)) < 0)
                        goto out;
                plan_pool_set_target(pool, (int)x);
        }
        if (json_object_object_get_ex(root, "allow_overcommit", &v)) {
                if (json_object_get_type(v) != json_type_boolean) {
                        r = fail(&c, "allow_overcommit: must be true or false, not %s (%s)", type_name(v),
                                 show_value(&c, v));
                        goto out;
                }
                plan_pool_set_allow_overcommit(pool, json_object_get_boolean(v));
        }
        if ((r = parse_array(&c, pool, root, "hosts", parse_host)) < 0)
                goto out;
        if ((r = parse_array(&c, pool, root, "vms", parse_vm)) < 0)
                goto out;
        *ret = pool;
        pool = NULL;
out:
        plan_pool_free(pool);
        json_object_put(root);
        return r;
}

int plan_json_load(const char *path, struct plan_pool **ret, char *err, size_t err_size) {
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0, cap = 0;
        int r;
        if (!f) {
                r = -errno;
                snprintf(err, err_size, "%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        for (;;) {
                if (len + 65536 > cap) {
                        cap = cap ? 2 * cap : 65536;
                        char *t = realloc(text, cap + 1);
                        if (!t) {
                                r = -ENOMEM;
                                snprintf(err, err_size, "%s: out of memory", path);
                                goto out;
                        }
                        text = t;
                }
                size_t n = fread(text + len, 1, cap - len, f);
                len += n;
                if (n == 0)
                        break;
        }
        if (ferror(f)) {
                r = -EIO;
                snprintf(err, err_size, "%s: read error", path);
                goto out;
        }
        r = plan_json_parse(path, text ? text : "", len, ret, err, err_size);
out:
        free(text);
        fclose(f);
        return r;
}
