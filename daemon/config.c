/* vmha.conf parsing: a table of known keys, each with its own validator.
 *
 * inih calls one handler per key; the handler validates it at once. The
 * text reaches inih through our own line reader, which is what makes the
 * messages exact: it numbers the lines, stops the parse at the first
 * problem (inih alone would go on, and a later error would overwrite the
 * first one's message), refuses a line longer than inih's line buffer
 * (inih would cut it and read the rest as a new line, so the tail of a long
 * comment could become a setting) and checks every [section] header, even
 * of a section with no keys. Duplicate keys, unknown sections and unknown
 * keys are errors too: a typo in an HA configuration must not silently
 * fall back to a default. So are the keys of what this version does not
 * have yet (the xen driver, live migration): a key that is read but does
 * nothing would let an administrator believe it is in force.
 */
#include "daemon/config.h"
#include "daemon/textfile.h"
#include "heartbeat/disk_device.h"
#include "planner/planner.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct parse_ctx {
        struct vmha_config cfg;
        const char *p, *end;            /* the text not yet handed to inih */
        int line;                       /* number of the line inih works on */
        char msg[VMHA_CONFIG_ERROR_MAX];
        int msg_line;                   /* the line msg is about */
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
        if (disk_device_spec_check(v, msg, len) < 0)
                return -EINVAL;
        return copy_string(c->heartbeat_device, sizeof(c->heartbeat_device), v, msg, len);
}

int vmha_seconds_parse(const char *s, uint32_t *ms) {
        uint64_t whole = 0, frac = 0;
        size_t n = 0, d = 0;

        while (s[n] >= '0' && s[n] <= '9' && n < 6)   /* up to 999999 s: no overflow */
                whole = whole * 10 + (uint64_t)(s[n++] - '0');
        if (n == 0 || (s[n] >= '0' && s[n] <= '9'))
                return -EINVAL;
        if (s[n] == '.') {
                for (n++; s[n] >= '0' && s[n] <= '9'; n++, d++) {
                        if (d == 3)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t)(s[n] - '0');
                }
                if (d == 0)
                        return -EINVAL;
                for (; d < 3; d++)
                        frac *= 10;
        }
        if (s[n])
                return -EINVAL;
        *ms = (uint32_t)(whole * 1000 + frac);
        return 0;
}

static int parse_timeout(struct vmha_config *c, const char *v, char *msg, size_t len) {
        uint32_t ms;

        if (vmha_seconds_parse(v, &ms) < 0) {
                snprintf(msg, len, "'%s' is not a plain decimal number of seconds (like 5 or 2.5, at most 3 decimals)",
                         v);
                return -EINVAL;
        }
        if (ms < 2000 || ms > 600000) {
                snprintf(msg, len, "'%s' is not a number of seconds in 2..600", v);
                return -EINVAL;
        }
        c->timeout_ms = ms;
        c->timeout_set = true;
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

static int parse_absolute(char *dst, size_t dst_len, const char *v, char *msg, size_t len) {
        if (v[0] != '/') {
                snprintf(msg, len, "'%s' is not an absolute path", v);
                return -EINVAL;
        }
        return copy_string(dst, dst_len, v, msg, len);
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
        if (copy_string(c->ipc_group, sizeof(c->ipc_group), v, msg, len) < 0)
                return -EINVAL;
        c->ipc_group_set = true;
        return 0;
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
        int r = parse_uint_range(v, 1, PLAN_MAX_VM_MEMORY_MIB, &n, msg, len);
        if (r == 0)
                c->vm_memory_mib = n;
        return r;
}

static int parse_driver(struct vmha_config *c, const char *v, char *msg, size_t len) {
        if (strcmp(v, "none") == 0)
                c->driver = VMHA_DRIVER_NONE;
        else if (strcmp(v, "sim") == 0)
                c->driver = VMHA_DRIVER_SIM;
        else if (strcmp(v, "xen") == 0) {
                snprintf(msg, len, "'xen': this version has no xen driver yet (none or sim)");
                return -EINVAL;
        } else {
                snprintf(msg, len, "unknown driver '%s' (expected none or sim)", v);
                return -EINVAL;
        }
        return 0;
}

static int parse_sim_program(struct vmha_config *c, const char *v, char *msg, size_t len) {
        c->sim_set = true;
        return parse_absolute(c->sim_program, sizeof(c->sim_program), v, msg, len);
}

static int parse_sim_log_dir(struct vmha_config *c, const char *v, char *msg, size_t len) {
        c->sim_set = true;
        return parse_absolute(c->sim_log_dir, sizeof(c->sim_log_dir), v, msg, len);
}

/* The collector reads only *.prom files; the writer puts its temporary
 * file beside, under the same name plus ".tmp". */
static int parse_metrics_textfile(struct vmha_config *c, const char *v, char *msg, size_t len) {
        static const char suffix[] = ".prom";
        const char *base = strrchr(v, '/');
        size_t n = strlen(v), s = sizeof(suffix) - 1;

        if (v[0] != '/') {
                snprintf(msg, len, "'%s' is not an absolute path", v);
                return -EINVAL;
        }
        if (n < s || strcmp(v + n - s, suffix) != 0 || strlen(base + 1) <= s) {
                snprintf(msg, len, "'%s' does not name a file ending in .prom (the collector reads no other)", v);
                return -EINVAL;
        }
        if (n + strlen(".tmp") >= sizeof(c->metrics_textfile)) {
                snprintf(msg, len, "too long (at most %zu characters)", sizeof(c->metrics_textfile) - 1 - strlen(".tmp"));
                return -EINVAL;
        }
        return copy_string(c->metrics_textfile, sizeof(c->metrics_textfile), v, msg, len);
}

static const struct {
        const char *section;
        const char *key;
        key_parser parse;
} key_table[] = {
        { "heartbeat", "device", parse_device },
        { "heartbeat", "timeout", parse_timeout },
        { "network", "tiebreak_target", parse_tiebreak },
        { "daemon", "ipc_group", parse_group },
        { "daemon", "state_dir", parse_state_dir },
        { "daemon", "vm_memory_mib", parse_vm_memory },
        { "daemon", "driver", parse_driver },
        { "sim", "program", parse_sim_program },
        { "sim", "log_dir", parse_sim_log_dir },
        { "fence", "watchdog_device", parse_watchdog },
        { "fence", "action", parse_fence_action },
        { "fence", "max_fences_per_hour", parse_max_fences },
        { "metrics", "textfile", parse_metrics_textfile },
};
#define N_KEYS (sizeof(key_table) / sizeof(key_table[0]))
_Static_assert(N_KEYS <= 8 * sizeof(unsigned), "seen bitmap");

/* What a later version will read, refused by this one with the reason. A
 * NULL key stands for the whole section. */
static const struct {
        const char *section;
        const char *key;
        const char *why;
} unsupported_table[] = {
        { "network", "migration_port", "it migrates no VM" },
};

/* The reason this version refuses [section] key (key NULL: the section),
 * or NULL when it does not. */
static const char *unsupported(const char *section, const char *key) {
        for (size_t i = 0; i < sizeof(unsupported_table) / sizeof(unsupported_table[0]); i++)
                if (strcmp(section, unsupported_table[i].section) == 0 &&
                    (!unsupported_table[i].key || (key && strcmp(key, unsupported_table[i].key) == 0)))
                        return unsupported_table[i].why;
        return NULL;
}

static void set_error(struct parse_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct parse_ctx *ctx, const char *fmt, ...) {
        va_list ap;

        if (ctx->msg[0])
                return;         /* the first problem is the one reported */
        va_start(ap, fmt);
        vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
        va_end(ap);
        ctx->msg_line = ctx->line;
}

static bool section_known(const char *section) {
        for (size_t i = 0; i < N_KEYS; i++)
                if (strcmp(section, key_table[i].section) == 0)
                        return true;
        return false;
}

/* "5 # seconds" -> "5": a '#' after whitespace starts a comment, as ';'
 * already does in inih, and whitespace means what it means to inih (any
 * isspace() byte, a form feed as much as a blank), so that a value never
 * keeps whitespace at its end that inih would have taken off. */
static void strip_inline_comment(char *value) {
        char *p = value;

        while ((p = strchr(p, '#')) != NULL) {
                if (p > value && isspace((unsigned char)p[-1])) {
                        while (p > value && isspace((unsigned char)p[-1]))
                                p--;
                        *p = 0;
                        return;
                }
                p++;
        }
}

static int handler(void *user, const char *section, const char *name, const char *raw) {
        struct parse_ctx *ctx = user;
        char why[VMHA_CONFIG_ERROR_MAX - 100];
        char value[VMHA_CONFIG_LINE_MAX + 1];

        if (ctx->msg[0])
                return 0;
        snprintf(value, sizeof(value), "%s", raw);
        strip_inline_comment(value);
        if (unsupported(section, name)) {
                set_error(ctx, "[%s] %s: not supported by this version (%s); remove the line", section, name,
                          unsupported(section, name));
                return 0;
        }
        if (!section_known(section)) {
                set_error(ctx, "unknown section [%s]", section);
                return 0;
        }
        for (size_t i = 0; i < N_KEYS; i++) {
                if (strcmp(section, key_table[i].section) != 0 || strcmp(name, key_table[i].key) != 0)
                        continue;
                if (ctx->seen & (1u << i)) {
                        set_error(ctx, "[%s] %s: set twice", section, name);
                        return 0;
                }
                ctx->seen |= 1u << i;
                if (key_table[i].parse(&ctx->cfg, value, why, sizeof(why)) < 0) {
                        set_error(ctx, "[%s] %s: %s", section, name, why);
                        return 0;
                }
                return 1;
        }
        set_error(ctx, "[%s] unknown key '%s'", section, name);
        return 0;
}

/* A "[name]" header: its section must be known even if no key follows.
 * Anything else that starts with '[' is left to inih's syntax check. */
static void check_section_header(struct parse_ctx *ctx, const char *line) {
        const char *open = line + strspn(line, " \t"), *close;

        if (*open != '[' || !(close = strchr(open + 1, ']')))
                return;
        char name[VMHA_CONFIG_LINE_MAX + 1];
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
        if (unsupported(name, NULL))
                set_error(ctx, "[%s]: not supported by this version (%s); remove the section", name,
                          unsupported(name, NULL));
        else if (!section_known(name))
                set_error(ctx, "unknown section [%s]", name);
}

/* inih's line reader (fgets-like): hands over one line at a time and ends
 * the parse, as if at the end of the file, at the first problem. */
static char *read_line(char *str, int num, void *stream) {
        struct parse_ctx *ctx = stream;
        const char *nl;
        size_t n;

        if (ctx->msg[0] || ctx->p >= ctx->end)
                return NULL;
        nl = memchr(ctx->p, '\n', (size_t)(ctx->end - ctx->p));
        n = (size_t)((nl ? nl : ctx->end) - ctx->p);
        ctx->line++;
        if (memchr(ctx->p, 0, n)) {
                set_error(ctx, "contains a NUL byte (not a text file?)");
                return NULL;
        }
        if (n > VMHA_CONFIG_LINE_MAX || n >= (size_t)num) {
                set_error(ctx, "line too long (%zu characters; at most %d)", n, VMHA_CONFIG_LINE_MAX);
                return NULL;
        }
        memcpy(str, ctx->p, n);
        str[n] = 0;
        ctx->p += n + (nl != NULL);
        check_section_header(ctx, str);
        return ctx->msg[0] ? NULL : str;
}

void vmha_config_defaults(struct vmha_config *cfg) {
        memset(cfg, 0, sizeof(*cfg));
        cfg->timeout_ms = 5000;
        snprintf(cfg->ipc_group, sizeof(cfg->ipc_group), "vmha");
        snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/vmha");
        snprintf(cfg->sim_log_dir, sizeof(cfg->sim_log_dir), "/var/log/vmha");
        cfg->fence_action = VMHA_FENCE_REBOOT;
        cfg->max_fences_per_hour = 2;
}

/* Cross-key checks once the whole file is read. */
static int finish(struct parse_ctx *ctx, const char *name, struct vmha_config *cfg, char *err,
                  size_t err_len) {
        if (!ctx->cfg.heartbeat_device[0]) {
                snprintf(err, err_len, "%s: [heartbeat] device is required", name);
                return -EINVAL;
        }
        /* Settings that would do nothing are refused: an administrator
         * would believe them in force. */
        if (ctx->cfg.driver == VMHA_DRIVER_SIM && !ctx->cfg.sim_program[0]) {
                snprintf(err, err_len, "%s: driver = sim needs [sim] program (the path of vmha-simvm)", name);
                return -EINVAL;
        }
        if (ctx->cfg.driver == VMHA_DRIVER_SIM && !ctx->cfg.vm_memory_mib) {
                snprintf(err, err_len, "%s: driver = sim needs [daemon] vm_memory_mib (the memory its sim host "
                                       "offers VMs)", name);
                return -EINVAL;
        }
        if (ctx->cfg.driver != VMHA_DRIVER_SIM && ctx->cfg.sim_set) {
                snprintf(err, err_len, "%s: [sim] is set but the driver is %s: set [daemon] driver = sim, or "
                                       "remove [sim]", name, vmha_driver_name(ctx->cfg.driver));
                return -EINVAL;
        }
        *cfg = ctx->cfg;
        return 0;
}

/* r is inih's answer: 0, or the line of the first line it could not parse
 * or whose handler failed. A syntax error before our first message wins. */
static int report(int r, const struct parse_ctx *ctx, const char *name, char *err, size_t err_len) {
        if (ctx->msg[0] && (r <= 0 || r >= ctx->msg_line))
                snprintf(err, err_len, "%s:%d: %s", name, ctx->msg_line, ctx->msg);
        else if (r > 0)
                snprintf(err, err_len, "%s:%d: syntax error (expected [section] or key = value)", name, r);
        else
                snprintf(err, err_len, "%s: cannot parse", name);
        return -EINVAL;
}

int vmha_config_parse_buffer(const char *text, size_t len, const char *name, struct vmha_config *cfg,
                             char *err, size_t err_len) {
        struct parse_ctx ctx = { .p = text, .end = text + len };
        int r;

        vmha_config_defaults(&ctx.cfg);
        r = ini_parse_stream(read_line, &ctx, handler, &ctx);
        if (r != 0 || ctx.msg[0])
                return report(r, &ctx, name, err, err_len);
        return finish(&ctx, name, cfg, err, err_len);
}

int vmha_config_parse_string(const char *text, const char *name, struct vmha_config *cfg,
                             char *err, size_t err_len) {
        return vmha_config_parse_buffer(text, strlen(text), name, cfg, err, err_len);
}

int vmha_config_load(const char *path, struct vmha_config *cfg, char *err, size_t err_len) {
        char *text = NULL;
        size_t len = 0;
        int r;

        r = vmha_read_small_file(path, VMHA_CONFIG_FILE_MAX, "configuration file", &text, &len, err, err_len);
        if (r < 0)
                return r;
        r = vmha_config_parse_buffer(text, len, path, cfg, err, err_len);
        free(text);
        return r;
}

int vmha_config_ipc_gid(const struct vmha_config *cfg, const char *name, gid_t *gid, char *err, size_t err_len) {
        struct group gr, *found = NULL;
        char buf[16384];
        int r;

        r = getgrnam_r(cfg->ipc_group, &gr, buf, sizeof(buf), &found);
        if (r == 0 && found) {
                *gid = found->gr_gid;
                return 0;
        }
        if (!cfg->ipc_group_set) {
                snprintf(err, err_len, "%s: ipc_group is not set and its default group '%s' does not exist on "
                                       "this host: only root may use haadm",
                         name, cfg->ipc_group);
                return 1;
        }
        if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
                snprintf(err, err_len, "%s: [daemon] ipc_group: group '%s' does not exist on this host (create it, "
                                       "or name an existing group)",
                         name, cfg->ipc_group);
        else
                snprintf(err, err_len, "%s: [daemon] ipc_group: cannot look up group '%s': %s", name, cfg->ipc_group,
                         strerror(r));
        return r == 0 ? -ENOENT : -r;
}

bool vmha_config_timeout_differs(const struct vmha_config *cfg, uint32_t region_timeout_ms) {
        return cfg->timeout_set && cfg->timeout_ms != region_timeout_ms;
}

const char *vmha_driver_name(enum vmha_driver d) {
        return d == VMHA_DRIVER_SIM ? "sim" : "none";
}

const char *vmha_fence_action_name(enum vmha_fence_action a) {
        return a == VMHA_FENCE_OFF ? "off" : "reboot";
}
