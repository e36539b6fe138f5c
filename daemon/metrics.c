/* The Prometheus text format of vmhad's metrics.
 *
 * The text is built in one growing buffer; a write that fails (no memory,
 * or the text would pass METRICS_TEXT_MAX) sticks, and the render returns
 * it at the end, so the family code reads straight through. Times are kept
 * in integer micro- or milliseconds and printed as exact decimal seconds.
 */
#include "daemon/metrics.h"
#include "core/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
        char *p;
        size_t len, cap;
        int err;
};

static const char *const host_state_names[] = {
        [METRICS_HOST_JOINING] = "joining",
        [METRICS_HOST_ALIVE] = "alive",
        [METRICS_HOST_FENCING] = "fencing",
        [METRICS_HOST_FENCED] = "fenced",
        [METRICS_HOST_LEFT] = "left",
        [METRICS_HOST_EMERGENCY] = "emergency",
};
_Static_assert(sizeof(host_state_names) / sizeof(host_state_names[0]) == _METRICS_HOST_STATE_MAX,
               "a name per host state");

static const char *const verdict_names[] = {
        [METRICS_VERDICT_NONE] = "none",
        [METRICS_VERDICT_SURVIVE] = "survive",
        [METRICS_VERDICT_WAIT] = "wait",
        [METRICS_VERDICT_FENCE] = "fence",
};
_Static_assert(sizeof(verdict_names) / sizeof(verdict_names[0]) == _METRICS_VERDICT_MAX, "a name per verdict");

const char *metrics_host_state_name(enum metrics_host_state st) {
        return (unsigned)st < _METRICS_HOST_STATE_MAX ? host_state_names[st] : "unknown";
}

const char *metrics_verdict_name(enum metrics_verdict v) {
        return (unsigned)v < _METRICS_VERDICT_MAX ? verdict_names[v] : "unknown";
}

/* Makes room for n more bytes and the NUL. */
static bool reserve(struct out *o, size_t n) {
        size_t cap;
        char *p;

        if (o->err)
                return false;
        if (o->len + n + 1 <= o->cap)
                return true;
        if (o->len + n > METRICS_TEXT_MAX) {
                o->err = -E2BIG;
                return false;
        }
        cap = o->cap ? o->cap : 8192;
        while (cap < o->len + n + 1)
                cap *= 2;
        p = realloc(o->p, cap);
        if (!p) {
                o->err = -ENOMEM;
                return false;
        }
        o->p = p;
        o->cap = cap;
        return true;
}

static void put_bytes(struct out *o, const char *s, size_t n) {
        if (!reserve(o, n))
                return;
        memcpy(o->p + o->len, s, n);
        o->len += n;
        o->p[o->len] = 0;
}

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* Only the fixed texts of this file pass through here, all shorter. */
        if (n < 0 || (size_t)n >= sizeof(buf)) {
                o->err = o->err ? o->err : -EINVAL;
                return;
        }
        put_bytes(o, buf, (size_t)n);
}


/* Text as the format wants it inside a label value (in_help: in a HELP
 * line, where a double quote stays as it is): a backslash, a double quote
 * and a newline escaped, and a byte that is not valid UTF-8 replaced with
 * U+FFFD. */
static void put_text(struct out *o, const char *s, bool in_help) {
        const unsigned char *p = (const unsigned char *)s;
        size_t n = strlen(s);

        while (n > 0) {
                uint32_t cp;
                size_t l = core_utf8_len(p, n, &cp);
                if (l == 0) {
                        put_bytes(o, "\xef\xbf\xbd", 3);
                        l = 1;
                } else if (*p == '\\') {
                        put_bytes(o, "\\\\", 2);
                } else if (*p == '\n') {
                        put_bytes(o, "\\n", 2);
                } else if (*p == '"' && !in_help) {
                        put_bytes(o, "\\\"", 2);
                } else {
                        put_bytes(o, (const char *)p, l);
                }
                p += l;
                n -= l;
        }
}

static void family(struct out *o, const char *name, const char *type, const char *help) {
        put(o, "# HELP %s ", name);
        put_text(o, help, true);
        put(o, "\n# TYPE %s %s\n", name, type);
}

/* name{key="value"} for the one-label samples; the value follows. */
static void labelled(struct out *o, const char *name, const char *key, const char *value) {
        put(o, "%s{%s=\"", name, key);
        put_text(o, value, false);
        put_bytes(o, "\"} ", 3);
}

/* Microseconds as exact decimal seconds, without trailing zeros. */
static void put_seconds_us(struct out *o, uint64_t us) {
        char frac[8];
        int n = snprintf(frac, sizeof(frac), "%06" PRIu64, us % 1000000);

        while (n > 0 && frac[n - 1] == '0')
                frac[--n] = 0;
        put(o, "%" PRIu64 "%s%s", us / 1000000, n ? "." : "", frac);
}

static void gauge(struct out *o, const char *name, const char *help, uint64_t v) {
        family(o, name, "gauge", help);
        put(o, "%s %" PRIu64 "\n", name, v);
}

static void counter(struct out *o, const char *name, const char *help, uint64_t v) {
        family(o, name, "counter", help);
        put(o, "%s %" PRIu64 "\n", name, v);
}

static void render_hosts(struct out *o, const struct metrics_snapshot *s) {
        family(o, "vmha_host_state", "gauge",
               "Each host's state as this host sees it: 1 for its current state, 0 for the others.");
        for (size_t i = 0; i < s->n_hosts; i++)
                for (unsigned st = 0; st < _METRICS_HOST_STATE_MAX; st++) {
                        put(o, "vmha_host_state{host=\"");
                        put_text(o, s->hosts[i].name, false);
                        put(o, "\",state=\"%s\"} %d\n", host_state_names[st], s->hosts[i].state == st);
                }
        family(o, "vmha_host_master", "gauge", "1 for the host this host counts as the pool's master, 0 for the others.");
        for (size_t i = 0; i < s->n_hosts; i++) {
                labelled(o, "vmha_host_master", "host", s->hosts[i].name);
                put(o, "%d\n", s->hosts[i].master);
        }
        family(o, "vmha_slot_age_seconds", "gauge",
               "Seconds since each host's disk slot last advanced, as this host read it, on this host's clock; "
               "no sample for a slot never read.");
        for (size_t i = 0; i < s->n_hosts; i++) {
                if (!s->hosts[i].slot_seen)
                        continue;
                labelled(o, "vmha_slot_age_seconds", "host", s->hosts[i].name);
                put_seconds_us(o, s->hosts[i].slot_age_ms * 1000);
                put(o, "\n");
        }
}

static void render_self(struct out *o, const struct metrics_snapshot *s) {
        family(o, "vmha_verdict", "gauge", "This host's survival verdict: 1 for the current one, 0 for the others.");
        for (unsigned v = 0; v < _METRICS_VERDICT_MAX; v++) {
                labelled(o, "vmha_verdict", "verdict", verdict_names[v]);
                put(o, "%d\n", s->verdict == v);
        }
        gauge(o, "vmha_verdict_rule", "The survival rule (1 to 4) that decided this host's verdict; 0 for none, "
              "or a joining host waiting to be admitted.", s->verdict_rule);
        gauge(o, "vmha_quorate", "1 when this host is in a quorate partition.", s->quorate);
        gauge(o, "vmha_ha_enabled", "1 when HA is enabled for the pool.", s->ha_enabled);
        gauge(o, "vmha_watchdog_armed", "1 when this host's watchdog is armed.", s->watchdog_armed);
        family(o, "vmha_failures_tolerated", "gauge",
               "Host failures the pool can tolerate now; no sample while a host's memory is unknown.");
        if (s->ntol_known)
                put(o, "vmha_failures_tolerated %u\n", s->failures_tolerated);
        family(o, "vmha_failures_tolerated_exact", "gauge",
               "1 when vmha_failures_tolerated is exact, 0 when it is a lower bound (the search ran out of time).");
        if (s->ntol_known)
                put(o, "vmha_failures_tolerated_exact %d\n", s->ntol_exact);
        gauge(o, "vmha_failures_to_tolerate", "The pool's target of host failures to tolerate.",
              s->failures_to_tolerate);
        gauge(o, "vmha_protected_vms", "Protected VMs in the pool's HA state.", s->protected_vms);
}

static void render_events(struct out *o, const struct metrics_snapshot *s) {
        counter(o, "vmha_self_fences_total", "Self-fences of this host recorded in its fence history.",
                s->self_fences);
        family(o, "vmha_last_self_fence_timestamp_seconds", "gauge",
               "When this host last fenced itself, in seconds since the epoch; no sample when it never did.");
        if (s->last_self_fence_unix > 0)
                put(o, "vmha_last_self_fence_timestamp_seconds %" PRId64 "\n", s->last_self_fence_unix);
        counter(o, "vmha_vm_restarts_total", "Protected VMs of failed hosts that this vmhad restarted here.",
                s->vm_restarts);
        counter(o, "vmha_vm_migrations_total", "Live migrations from this host that this vmhad completed.",
                s->vm_migrations);
        family(o, "vmha_loop_longest_callback_seconds", "gauge",
               "The longest time one callback of vmhad's event loop took since it started, labelled with "
               "the callback.");
        if (s->longest_cb_us) {
                labelled(o, "vmha_loop_longest_callback_seconds", "callback", s->longest_cb ? s->longest_cb : "");
                put_seconds_us(o, s->longest_cb_us);
                put(o, "\n");
        }
        gauge(o, "vmha_emergency", "1 when this host is in emergency mode.", s->emergency);
        family(o, "vmha_emergency_cause", "gauge",
               "Each emergency cause: 1 while it holds, 0 otherwise ('haadm emergency' says what to do).");
        for (size_t i = 0; i < s->n_causes; i++) {
                labelled(o, "vmha_emergency_cause", "cause", s->causes[i].name);
                put(o, "%d\n", s->causes[i].on);
        }
}

static void render_disk(struct out *o, const struct metrics_snapshot *s) {
        family(o, "vmha_disk_io_duration_seconds", "histogram",
               "How long the disk thread's I/O took, by kind: slot_write, read_round (every slot), mailbox_read "
               "(every mailbox), mailbox_write, config_write, claims. A failed I/O counts with the time it took.");
        for (int op = 0; op < _DISK_OP_MAX; op++) {
                const struct disk_latency *h = &s->disk[op];
                uint64_t cum = 0;
                for (unsigned b = 0; b <= DISK_LATENCY_BUCKETS; b++) {
                        cum += h->bucket[b];
                        put(o, "vmha_disk_io_duration_seconds_bucket{op=\"%s\",le=\"", disk_op_name(op));
                        if (b < DISK_LATENCY_BUCKETS)
                                put_seconds_us(o, disk_latency_bound_us(b));
                        else
                                put(o, "+Inf");
                        put(o, "\"} %" PRIu64 "\n", cum);
                }
                put(o, "vmha_disk_io_duration_seconds_sum{op=\"%s\"} ", disk_op_name(op));
                put_seconds_us(o, h->sum_us);
                put(o, "\nvmha_disk_io_duration_seconds_count{op=\"%s\"} %" PRIu64 "\n", disk_op_name(op), h->count);
        }
        family(o, "vmha_disk_io_errors_total", "counter",
               "Disk I/O of the disk thread that failed or passed its deadline, by kind.");
        for (int op = 0; op < _DISK_OP_MAX; op++)
                put(o, "vmha_disk_io_errors_total{op=\"%s\"} %" PRIu64 "\n", disk_op_name(op), s->disk[op].errors);
}

int metrics_render(const struct metrics_snapshot *s, char **text, size_t *len) {
        struct out o = { 0 };

        family(&o, "vmha_info", "gauge", "Always 1: the cluster and this host's name.");
        put(&o, "vmha_info{cluster=\"");
        put_text(&o, s->cluster ? s->cluster : "", false);
        put(&o, "\",host=\"");
        put_text(&o, s->self ? s->self : "", false);
        put(&o, "\"} 1\n");
        render_hosts(&o, s);
        render_self(&o, s);
        render_events(&o, s);
        render_disk(&o, s);
        if (o.err) {
                free(o.p);
                return o.err;
        }
        *text = o.p;
        *len = o.len;
        return 0;
}
