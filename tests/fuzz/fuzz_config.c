/* libFuzzer target for vmha.conf: any byte string is the file's contents.
 *
 * A file is either refused whole, with a message that names the file and
 * leaves the configuration untouched, or read into a configuration that
 * this harness writes back as a vmha.conf of its own (one "key=value" line
 * per setting) and that reads back to the very same configuration. So
 * whatever the parser accepts it has understood, value by value, and no
 * setting depends on how it was spelled.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "vmha.conf"

struct writer {
        char *p, *end;
        const char *section;    /* of the last line written */
};

static void put(struct writer *w, const char *section, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Appends "[section]" when it changes, then "key=value". */
static void put(struct writer *w, const char *section, const char *key, const char *fmt, ...) {
        va_list ap;

        if (section != w->section) {
                w->p += snprintf(w->p, (size_t)(w->end - w->p), "[%s]\n", section);
                w->section = section;
        }
        w->p += snprintf(w->p, (size_t)(w->end - w->p), "%s=", key);
        va_start(ap, fmt);
        w->p += vsnprintf(w->p, (size_t)(w->end - w->p), fmt, ap);
        va_end(ap);
        w->p += snprintf(w->p, (size_t)(w->end - w->p), "\n");
        if (w->p >= w->end)
                abort();        /* the buffer holds any configuration */
}

/* A vmha.conf that says exactly what c says, every key spelled out. */
static size_t config_write(const struct vmha_config *c, char *buf, size_t len) {
        struct writer w = { buf, buf + len, NULL };

        put(&w, "heartbeat", "device", "%s", c->heartbeat_device);
        if (c->timeout_set)
                put(&w, "heartbeat", "timeout", "%u.%03u", c->timeout_ms / 1000, c->timeout_ms % 1000);
        if (c->tiebreak_target[0])
                put(&w, "network", "tiebreak_target", "%s", c->tiebreak_target);
        if (c->ipc_group_set)
                put(&w, "daemon", "ipc_group", "%s", c->ipc_group);
        put(&w, "daemon", "state_dir", "%s", c->state_dir);
        if (c->vm_memory_mib)
                put(&w, "daemon", "vm_memory_mib", "%llu", (unsigned long long)c->vm_memory_mib);
        put(&w, "daemon", "driver", "%s", vmha_driver_name(c->driver));
        if (c->watchdog_device[0])
                put(&w, "fence", "watchdog_device", "%s", c->watchdog_device);
        put(&w, "fence", "action", "%s", vmha_fence_action_name(c->fence_action));
        put(&w, "fence", "max_fences_per_hour", "%u", c->max_fences_per_hour);
        if (c->metrics_textfile[0])
                put(&w, "metrics", "textfile", "%s", c->metrics_textfile);
        if (c->driver == VMHA_DRIVER_SIM) {
                put(&w, "sim", "program", "%s", c->sim_program);
                put(&w, "sim", "log_dir", "%s", c->sim_log_dir);
        }
        return (size_t)(w.p - buf);
}

static void same_config(const struct vmha_config *a, const struct vmha_config *b) {
        if (strcmp(a->heartbeat_device, b->heartbeat_device) || a->timeout_ms != b->timeout_ms ||
            a->timeout_set != b->timeout_set || strcmp(a->tiebreak_target, b->tiebreak_target) ||
            a->ipc_group_set != b->ipc_group_set || strcmp(a->metrics_textfile, b->metrics_textfile) ||
            strcmp(a->ipc_group, b->ipc_group) ||
            strcmp(a->state_dir, b->state_dir) || strcmp(a->watchdog_device, b->watchdog_device) ||
            a->fence_action != b->fence_action || a->max_fences_per_hour != b->max_fences_per_hour ||
            a->vm_memory_mib != b->vm_memory_mib || a->driver != b->driver ||
            (a->driver == VMHA_DRIVER_SIM &&
             (strcmp(a->sim_program, b->sim_program) || strcmp(a->sim_log_dir, b->sim_log_dir))))
                abort();
}

/* What the parser promises of every configuration it accepts. */
static void check_ranges(const struct vmha_config *c) {
        if (!c->heartbeat_device[0] || c->timeout_ms < 2000 || c->timeout_ms > 600000 ||
            c->max_fences_per_hour < 1 || c->max_fences_per_hour > 100 ||
            (c->fence_action != VMHA_FENCE_REBOOT && c->fence_action != VMHA_FENCE_OFF) || !c->ipc_group[0] ||
            c->state_dir[0] != '/' || (c->metrics_textfile[0] && c->metrics_textfile[0] != '/') ||
            (c->watchdog_device[0] && c->watchdog_device[0] != '/') ||
            (c->driver == VMHA_DRIVER_SIM && (c->sim_program[0] != '/' || !c->vm_memory_mib)) ||
            (c->driver != VMHA_DRIVER_SIM && c->sim_set))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct vmha_config cfg, again, poison;
        static char text[8 * PATH_MAX];
        char err[VMHA_CONFIG_ERROR_MAX];
        size_t len;

        memset(&poison, 0xa5, sizeof(poison));
        cfg = poison;
        memset(err, 0, sizeof(err));
        if (vmha_config_parse_buffer((const char *)data, size, NAME, &cfg, err, sizeof(err)) < 0) {
                /* Refused whole: cfg untouched, and the message names the file. */
                if (memcmp(&cfg, &poison, sizeof(cfg)) != 0)
                        abort();
                if (!memchr(err, 0, sizeof(err)) || strncmp(err, NAME ":", strlen(NAME ":")) != 0 ||
                    strlen(err) <= strlen(NAME ":"))
                        abort();
                return 0;
        }
        check_ranges(&cfg);
        len = config_write(&cfg, text, sizeof(text));
        if (vmha_config_parse_buffer(text, len, NAME, &again, err, sizeof(err)) < 0) {
                fprintf(stderr, "the configuration as written back is refused: %s\n%s", err, text);
                abort();
        }
        same_config(&cfg, &again);
        return 0;
}
