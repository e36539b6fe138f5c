/* vmha.conf parsing: a table of known keys, each with its own validator.
 *
 * inih calls one handler per key; the handler validates it at once and, on
 * the first problem, records a message and stops the parse. inih reports
 * the line of that first error, so every message names file, line and key.
 * Duplicate keys, unknown sections and unknown keys are errors too: a typo
 * in an HA configuration must not silently fall back to a default.
 */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse_ctx {
        struct vmha_config cfg;
        char msg[VMHA_CONFIG_ERROR_MAX];
        unsigned seen;                  /* bit per key_table entry */
};

typedef int (*key_parser)(struct vmha_config *cfg, const char *value, char *msg, size_t len);

static int copy_string(char *dst, size_t dst_len, const char *value, char *msg, size_t len) {
        if (!*value) {
                snprintf(msg, len, "must not be empty");
                return -EINVAL;
        }
        if (strlen(value) >= dst_len) {
                snprintf(msg, len, "too long (at most %zu characters)", dst_len - 1);
                return -EINVAL;
        }
        strcpy(dst, value);
        return 0;
}

static int parse_device(struct vmha_config *c, const char *v, char *msg, size_t len) {
        if (v[0] != '/' && strncmp(v, "LABEL=", 6) && strncmp(v, "UUID=", 5) && strncmp(v, "PARTUUID=", 9)) {
                snprintf(msg, len, "'%s' is neither an absolute path nor LABEL=, UUID= or PARTUUID=", v);
                return -EINVAL;
        }
        return copy_string(c->heartbeat_device, sizeof(c->heartbeat_device), v, msg, len);
}

static int parse_timeout(struct vmha_config *c, const char *v, char *msg, size_t len) {
        char *end;
        double s;

        errno = 0;
        s = strtod(v, &end);
        if (errno || end == v || *end || !(s >= 2.0 && s <= 600.0)) {
                snprintf(msg, len, "'%s' is not a number of seconds in 2..600", v);
                return -EINVAL;
        }
        c->timeout_ms = (uint32_t)(s * 1000.0 + 0.5);
        return 0;
}

static int parse_tiebreak(struct vmha_config *c, const char *v, char *msg, size_t len) {
        unsigned char addr[16];
        if (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1) {
                snprintf(msg, len, "'%s' is not an IPv4 or IPv6 address", v);
                return -EINVAL;
        }
        return copy_string(c->tiebreak_target, sizeof(c->tiebreak_target), v, msg, len);
}

static int parse_driver(struct vmha_config *c, const char *v, char *msg, size_t len) {
        if (strcmp(v, "xen") == 0)
                c->driver = VMHA_DRIVER_XEN;
        else if (strcmp(v, "sim") == 0)
                c->driver = VMHA_DRIVER_SIM;
        else {
                snprintf(msg, len, "unknown driver '%s' (expected xen or sim)", v);
                return -EINVAL;
        }
        return 0;
}

static int parse_absolute(char *dst, size_t dst_len, const char *v, char *msg, size_t len) {
        if (v[0] != '/') {
                snprintf(msg, len, "'%s' is not an absolute path", v);
                return -EINVAL;
        }
        return copy_string(dst, dst_len, v, msg, len);
}

static int parse_sim_dir(struct vmha_config *c, const char *v, char *msg, size_t len) {
        return parse_absolute(c->sim_dir, sizeof(c->sim_dir), v, msg, len);
}

static int parse_state_dir(struct vmha_config *c, const char *v, char *msg, size_t len) {
        return parse_absolute(c->state_dir, sizeof(c->state_dir), v, msg, len);
}

static int parse_watchdog(struct vmha_config *c, const char *v, char *msg, size_t len) {
        return parse_absolute(c->watchdog_device, sizeof(c->watchdog_device), v, msg, len);
}

static int parse_group(struct vmha_config *c, const char *v, char *msg, size_t len) {
        for (const char *p = v; *p; p++)
                if (!(*p == '_' || *p == '-' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
                        snprintf(msg, len, "'%s' is not a valid group name", v);
                        return -EINVAL;
                }
        return copy_string(c->ipc_group, sizeof(c->ipc_group), v, msg, len);
}

static int parse_fence_action(struct vmha_config *c, const char *v, char *msg, size_t len) {
        if (strcmp(v, "reboot") == 0)
                c->fence_action = VMHA_FENCE_REBOOT;
        else if (strcmp(v, "off") == 0)
                c->fence_action = VMHA_FENCE_OFF;
        else {
                snprintf(msg, len, "unknown action '%s' (expected reboot or off)", v);
                return -EINVAL;
        }
        return 0;
}

static int parse_uint_range(const char *v, unsigned long lo, unsigned long hi, unsigned long *out,
                            char *msg, size_t len) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || v[0] == '+' || n < lo || n > hi) {
                snprintf(msg, len, "'%s' is not a whole number in %lu..%lu", v, lo, hi);
                return -EINVAL;
        }
        *out = n;
        return 0;
}

static int parse_max_fences(struct vmha_config *c, const char *v, char *msg, size_t len) {
        unsigned long n;
        int r = parse_uint_range(v, 1, 100, &n, msg, len);
        if (r == 0)
                c->max_fences_per_hour = (uint32_t)n;
        return r;
}

static int parse_vm_memory(struct vmha_config *c, const char *v, char *msg, size_t len) {
        unsigned long n;
        int r = parse_uint_range(v, 1, 16ul * 1024 * 1024 * 1024, &n, msg, len);
        if (r == 0)
                c->vm_memory_mib = n;
        return r;
}

static int parse_migration_port(struct vmha_config *c, const char *v, char *msg, size_t len) {
        unsigned long n;
        int r = parse_uint_range(v, 1, 65535, &n, msg, len);
        if (r == 0)
                c->migration_port = (uint16_t)n;
        return r;
}

static const struct {
        const char *section;
        const char *key;
        key_parser parse;
} key_table[] = {
        { "heartbeat", "device", parse_device },
        { "heartbeat", "timeout", parse_timeout },
        { "network", "tiebreak_target", parse_tiebreak },
        { "network", "migration_port", parse_migration_port },
        { "daemon", "driver", parse_driver },
        { "daemon", "ipc_group", parse_group },
        { "daemon", "state_dir", parse_state_dir },
        { "daemon", "vm_memory_mib", parse_vm_memory },
        { "fence", "watchdog_device", parse_watchdog },
        { "fence", "action", parse_fence_action },
        { "fence", "max_fences_per_hour", parse_max_fences },
        { "sim", "vm_dir", parse_sim_dir },
};
#define N_KEYS (sizeof(key_table) / sizeof(key_table[0]))
_Static_assert(N_KEYS <= 8 * sizeof(unsigned), "seen bitmap");

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *ctx = user;
        char why[VMHA_CONFIG_ERROR_MAX - 100];
        bool section_known = false;

        for (size_t i = 0; i < N_KEYS; i++) {
                if (strcmp(section, key_table[i].section) != 0)
                        continue;
                section_known = true;
                if (strcmp(name, key_table[i].key) != 0)
                        continue;
                if (ctx->seen & (1u << i)) {
                        snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s: set twice", section, name);
                        return 0;
                }
                ctx->seen |= 1u << i;
                if (key_table[i].parse(&ctx->cfg, value, why, sizeof(why)) < 0) {
                        snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s: %s", section, name, why);
                        return 0;
                }
                return 1;
        }
        if (!section_known)
                snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%s]", section);
        else
                snprintf(ctx->msg, sizeof(ctx->msg), "[%s] unknown key '%s'", section, name);
        return 0;
}

void vmha_config_defaults(struct vmha_config *cfg) {
        memset(cfg, 0, sizeof(*cfg));
        cfg->timeout_ms = 5000;
        cfg->driver = VMHA_DRIVER_XEN;
        snprintf(cfg->ipc_group, sizeof(cfg->ipc_group), "vmha");
        snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/vmha");
        cfg->fence_action = VMHA_FENCE_REBOOT;
        cfg->max_fences_per_hour = 2;
        cfg->migration_port = 8477;
}

/* Cross-key checks once the whole file is read. */
static int finish(struct parse_ctx *ctx, const char *name, struct vmha_config *cfg, char *err,
                  size_t err_len) {
        if (!ctx->cfg.heartbeat_device[0]) {
                snprintf(err, err_len, "%s: [heartbeat] device is required", name);
                return -EINVAL;
        }
        if (ctx->cfg.driver == VMHA_DRIVER_SIM && !ctx->cfg.sim_dir[0]) {
                snprintf(err, err_len, "%s: [sim] vm_dir is required with driver = sim", name);
                return -EINVAL;
        }
        *cfg = ctx->cfg;
        return 0;
}

static int report(int r, struct parse_ctx *ctx, const char *name, char *err, size_t err_len) {
        if (r > 0 && ctx->msg[0])
                snprintf(err, err_len, "%s:%d: %s", name, r, ctx->msg);
        else if (r > 0)
                snprintf(err, err_len, "%s:%d: syntax error (expected [section] or key = value)", name, r);
        else
                snprintf(err, err_len, "%s: cannot parse", name);
        return -EINVAL;
}

int vmha_config_parse_string(const char *text, const char *name, struct vmha_config *cfg,
                             char *err, size_t err_len) {
        struct parse_ctx ctx = { 0 };
        int r;

        vmha_config_defaults(&ctx.cfg);
        r = ini_parse_string(text, handler, &ctx);
        if (r != 0)
                return report(r, &ctx, name, err, err_len);
        return finish(&ctx, name, cfg, err, err_len);
}

int vmha_config_load(const char *path, struct vmha_config *cfg, char *err, size_t err_len) {
        struct parse_ctx ctx = { 0 };
        FILE *f;
        int r;

        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                snprintf(err, err_len, "%s: %s", path, strerror(errno));
                return r;
        }
        vmha_config_defaults(&ctx.cfg);
        r = ini_parse_file(f, handler, &ctx);
        fclose(f);
        if (r != 0)
                return report(r, &ctx, path, err, err_len);
        return finish(&ctx, path, cfg, err, err_len);
}

const char *vmha_driver_name(enum vmha_driver d) {
        return d == VMHA_DRIVER_SIM ? "sim" : "xen";
}

const char *vmha_fence_action_name(enum vmha_fence_action a) {
        return a == VMHA_FENCE_OFF ? "off" : "reboot";
}
