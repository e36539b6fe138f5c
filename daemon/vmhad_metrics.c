/* vmhad's metrics: the snapshot of this moment for the renderer
 * (daemon/metrics.c), the textfile for node_exporter and the text of
 * `haadm metrics`.
 *
 * Rendering runs on the loop: it reads what vmhad already holds, and the
 * one search in it, the failures tolerated, is the budgeted and cached one
 * of haadm status. The file write, which may block, is the writer
 * thread's (daemon/metrics_file.c).
 */
#include "daemon/vmhad.h"

#include "daemon/metrics_file.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_PERIOD_MIN_MS 1000

static enum metrics_verdict verdict_of(const struct survival_verdict *v) {
        if (!v)
                return METRICS_VERDICT_NONE;
        switch (v->kind) {
        case SURVIVAL_SURVIVE:
                return METRICS_VERDICT_SURVIVE;
        case SURVIVAL_WAIT:
                return METRICS_VERDICT_WAIT;
        case SURVIVAL_FENCE:
                return METRICS_VERDICT_FENCE;
        }
        return METRICS_VERDICT_NONE;
}

static unsigned rule_of(const struct survival_verdict *v) {
        return v && v->rule >= SURVIVAL_RULE_1_QUORUM && v->rule <= SURVIVAL_RULE_4_NO_DISK ? (unsigned)v->rule : 0;
}

static void fill_hosts(struct vmhad *d, struct metrics_host *hosts, size_t *n_hosts, uint64_t now) {
        const struct survival_inputs *in = node_inputs(d->node);
        uint32_t master = node_master(d->node);
        char name[NODE_NAME_MAX];

        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];
                struct metrics_host *h = &hosts[i];
                h->id = p->id;
                snprintf(h->name, sizeof(h->name), "%s", vmhad_host_name(d, p->id, name));
                h->state = vmhad_host_state(d, p, now);
                h->master = master == p->id;
                h->slot_seen = p->slot_seen;
                h->slot_age_ms = p->slot_seen && now > p->advanced_ms ? now - p->advanced_ms : 0;
        }
        *n_hosts = in->n_peers;
}

int vmhad_metrics_text(struct vmhad *d, char **text, size_t *len) {
        struct metrics_host *hosts = calloc(CORE_MAX_HOST_ID, sizeof(*hosts));
        struct metrics_cause causes[_EMERGENCY_CAUSE_MAX];
        const struct survival_verdict *v = node_verdict(d->node);
        const struct hastate *st = node_state(d->node);
        const struct vmhad_ntol_cache *nt = vmhad_ntol(d);
        struct metrics_snapshot s = { 0 };
        char self[NODE_NAME_MAX];
        int r;

        if (!hosts)
                return -ENOMEM;
        fill_hosts(d, hosts, &s.n_hosts, vmha_now_ms());
        s.hosts = hosts;
        s.cluster = d->sb.cluster_name;
        s.self = vmhad_host_name(d, d->self, self);
        s.verdict = verdict_of(v);
        s.verdict_rule = rule_of(v);
        s.quorate = node_inputs(d->node)->quorate;
        s.ha_enabled = st->pool.ha_enabled;
        s.watchdog_armed = d->wd != NULL && node_armed(d->node);
        s.ntol_known = nt->result == 0;
        s.failures_tolerated = nt->failures_tolerated;
        s.ntol_exact = nt->exact;
        s.failures_to_tolerate = st->pool.ftt_target;
        s.protected_vms = st->n_vms;
        s.self_fences = d->self_fences;
        s.last_self_fence_unix = d->last_self_fence_unix;
        s.vm_restarts = d->vm_restarts;
        s.vm_migrations = d->vm_migrations;
        s.longest_cb_us = d->longest_cb_us;
        s.longest_cb = d->longest_cb;
        s.emergency = vmhad_in_emergency(d);
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++) {
                const char *detail;
                /* haadm's own cause: vmhad does not answer. Not vmhad's to tell. */
                if (c == EMERGENCY_DAEMON_DOWN)
                        continue;
                causes[s.n_causes++] = (struct metrics_cause){ emergency_cause_name(c),
                                                               node_emergency_cause(d->node, c, &detail) };
        }
        s.causes = causes;
        if (d->disk)
                disk_thread_latency(d->disk, s.disk);
        r = metrics_render(&s, text, len);
        free(hosts);
        return r;
}

/* The writer thread never logs: each change of its result is logged here,
 * once. */
static void log_write_result(struct vmhad *d) {
        char msg[PATH_MAX + 160];
        int r = metrics_file_result(d->metrics_file, NULL, msg, sizeof(msg));

        if (r == d->metrics_error)
                return;
        if (r < 0)
                qb_log(LOG_WARNING, "cannot write the metrics textfile %s: %s (retrying every period)",
                       d->cfg.metrics_textfile, msg);
        else
                qb_log(LOG_NOTICE, "the metrics textfile %s is written again", d->cfg.metrics_textfile);
        d->metrics_error = r;
}

static uint64_t period_ms(const struct vmhad *d) {
        uint32_t interval = node_timing(d->node)->disk_interval_ms;
        return interval > METRICS_PERIOD_MIN_MS ? interval : METRICS_PERIOD_MIN_MS;
}

static void on_metrics_timer(void *data) {
        struct vmhad *d = data;
        uint64_t start = vmhad_now_us();
        char *text = NULL;
        size_t len;
        int r;

        /* On the way to a reboot nothing else is written. */
        if (d->fencing || !d->metrics_file)
                return;
        log_write_result(d);
        r = vmhad_metrics_text(d, &text, &len);
        if (r == 0)
                metrics_file_submit(d->metrics_file, text, len);
        else
                qb_log(LOG_ERR, "cannot render the metrics: %s", strerror(-r));
        qb_loop_timer_add(d->loop, QB_LOOP_LOW, period_ms(d) * 1000000ULL, d, on_metrics_timer, NULL);
        vmhad_loop_note(d, "metrics", start);
}

void vmhad_metrics_start(struct vmhad *d) {
        char err[PATH_MAX + 160];
        int r;

        if (!d->cfg.metrics_textfile[0])
                return;
        if (metrics_file_check(d->cfg.metrics_textfile, err, sizeof(err)) < 0)
                qb_log(LOG_WARNING, "metrics textfile %s: %s; vmhad tries every period", d->cfg.metrics_textfile, err);
        r = metrics_file_new(d->cfg.metrics_textfile, &d->metrics_file);
        if (r < 0) {
                qb_log(LOG_ERR, "cannot start the metrics textfile writer: %s; no textfile", strerror(-r));
                return;
        }
        qb_log(LOG_INFO, "writing metrics to %s every %llu ms", d->cfg.metrics_textfile,
               (unsigned long long)period_ms(d));
        qb_loop_timer_add(d->loop, QB_LOOP_LOW, 0, d, on_metrics_timer, NULL);
}

void vmhad_metrics_stop(struct vmhad *d) {
        metrics_file_free(d->metrics_file);
        d->metrics_file = NULL;
}
