/* haadm disk dump: the two config copies and the HA configuration inside.
 *
 * A copy is valid when its checksum holds, its compressed stream inflates
 * to the length its header gives, and the snapshot inside decodes (its own
 * CRC and every field's range). Only then is anything of it shown; a copy
 * that fails is reported with the first thing that is wrong, and the other
 * copy is what a cold start of the pool would use. The current copy's HA
 * configuration is printed in full: the pool's settings, the hosts in
 * maintenance, and every VM with its fields.
 */
#include "core/hastate.h"
#include "heartbeat/disk_format.h"
#include "heartbeat/disk_region.h"
#include "tools/haadm_disk.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct copy {
        struct disk_config_header hdr;
        struct disk_status st;
        struct hastate *state;  /* when valid */
};

/* Reads and verifies copy c down to its snapshot's fields. */
static int read_copy(struct haadm_dump *d, uint32_t c, struct copy *out) {
        struct hastate_error herr;
        void *raw = NULL;
        int r;

        memset(out, 0, sizeof(*out));
        r = disk_region_read_config_copy(d->reg, c, &out->hdr, &out->st, &raw);
        if (r < 0)
                return r;
        if (out->st.error == 0 && out->hdr.raw_len == 0) {
                out->state = hastate_new();     /* a fresh region's empty copy */
                r = out->state ? 0 : -ENOMEM;
        } else if (out->st.error == 0) {
                r = hastate_snapshot_decode(raw, out->hdr.raw_len, &out->state, &herr);
                if (r == -EBADMSG) {
                        out->st.error = r;
                        snprintf(out->st.msg.msg, sizeof(out->st.msg.msg), "config %c: %.*s", c == 0 ? 'A' : 'B',
                                 (int)sizeof(out->st.msg.msg) - 16, herr.msg);
                        r = 0;
                }
        }
        free(raw);
        return r;
}

static void when_text(uint64_t unix_ms, char *buf, size_t len) {
        time_t t = (time_t)(unix_ms / 1000);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, len, "?");
}

static void copies_json(struct haadm_dump *d, const struct copy cp[2], int current) {
        json_object *arr = json_object_new_array();

        for (int c = 0; c < 2; c++) {
                json_object *o = json_object_new_object();
                const struct copy *k = &cp[c];

                json_object_object_add(o, "copy", json_object_new_string(c == 0 ? "A" : "B"));
                json_object_object_add(o, "valid", json_object_new_boolean(!k->st.error));
                json_object_object_add(o, "error", k->st.error ? json_object_new_string(k->st.msg.msg) : NULL);
                json_object_object_add(o, "current", json_object_new_boolean(current == c));
                if (!k->st.error) {
                        json_object_object_add(o, "generation", json_object_new_int64((int64_t)k->hdr.generation));
                        json_object_object_add(o, "compressed",
                                               json_object_new_boolean(k->hdr.flags & DISK_CONFIG_DEFLATE));
                        json_object_object_add(o, "payload_bytes", json_object_new_int64(k->hdr.payload_len));
                        json_object_object_add(o, "snapshot_bytes", json_object_new_int64(k->hdr.raw_len));
                        json_object_object_add(o, "written_unix_ms",
                                               json_object_new_int64((int64_t)k->hdr.written_unix_ms));
                        json_object_object_add(o, "vms", json_object_new_int64((int64_t)k->state->n_vms));
                }
                json_object_array_add(arr, o);
        }
        json_object_object_add(d->root, "config", arr);
}

static void copies_text(const struct copy cp[2], int current) {
        printf("\nconfig copies:\n");
        for (int c = 0; c < 2; c++) {
                const struct copy *k = &cp[c];
                char when[32];

                if (k->st.error) {
                        printf("  %c  CORRUPT  %s\n", c == 0 ? 'A' : 'B', k->st.msg.msg);
                        continue;
                }
                when_text(k->hdr.written_unix_ms, when, sizeof(when));
                if (k->hdr.payload_len == 0)
                        printf("  %c  generation %llu, empty, written %s%s\n", c == 0 ? 'A' : 'B',
                               (unsigned long long)k->hdr.generation, when, current == c ? "  (current)" : "");
                else
                        printf("  %c  generation %llu, %u bytes compressed from %u, %zu VMs, written %s%s\n",
                               c == 0 ? 'A' : 'B', (unsigned long long)k->hdr.generation, k->hdr.payload_len,
                               k->hdr.raw_len, k->state->n_vms, when, current == c ? "  (current)" : "");
        }
        if (current < 0)
                printf("  no valid config copy: the HA configuration cannot be recovered from disk\n");
}

static json_object *vm_json(const struct hastate_vm *vm) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(vm->name));
        json_object_object_add(o, "id", json_object_new_uint64(vm->id));
        json_object_object_add(o, "priority", json_object_new_string(hastate_priority_name(vm->priority)));
        json_object_object_add(o, "order", json_object_new_int(vm->order));
        json_object_object_add(o, "start_delay_ms", json_object_new_int64(vm->start_delay_ms));
        json_object_object_add(o, "memory_mib", json_object_new_uint64(vm->memory_mib));
        json_object_object_add(o, "config", json_object_new_string(vm->config));
        json_object_object_add(o, "owner", vm->owner ? json_object_new_int((int32_t)vm->owner) : NULL);
        return o;
}

static void state_json(struct haadm_dump *d, const struct hastate *s, int current) {
        json_object *o, *pool, *maint, *vms;

        if (current < 0) {
                json_object_object_add(d->root, "ha_config", NULL);
                return;
        }
        o = json_object_new_object();
        pool = json_object_new_object();
        maint = json_object_new_array();
        vms = json_object_new_array();
        json_object_object_add(o, "copy", json_object_new_string(current == 0 ? "A" : "B"));
        json_object_object_add(o, "config_generation", json_object_new_int64((int64_t)s->generation));
        json_object_object_add(pool, "ha_enabled", json_object_new_boolean(s->pool.ha_enabled));
        json_object_object_add(pool, "failures_to_tolerate", json_object_new_int((int32_t)s->pool.ftt_target));
        json_object_object_add(pool, "allow_overcommit", json_object_new_boolean(s->pool.allow_overcommit));
        json_object_object_add(o, "pool", pool);
        for (unsigned id = 1; id < 8 * DISK_VIEW_BYTES; id++)
                if (core_view_has(&s->maintenance, id))
                        json_object_array_add(maint, json_object_new_int((int32_t)id));
        json_object_object_add(o, "maintenance", maint);
        for (size_t i = 0; i < s->n_vms; i++)
                json_object_array_add(vms, vm_json(&s->vms[i]));
        json_object_object_add(o, "vms", vms);
        json_object_object_add(d->root, "ha_config", o);
}

static void state_text(const struct hastate *s, int current) {
        char maint[4 * 8 * DISK_VIEW_BYTES + 8] = "";
        size_t used = 0;

        if (current < 0)
                return;
        for (unsigned id = 1; id < 8 * DISK_VIEW_BYTES && used < sizeof(maint); id++)
                if (core_view_has(&s->maintenance, id))
                        used += (size_t)snprintf(maint + used, sizeof(maint) - used, "%s%u", used ? "," : "", id);
        printf("\nHA configuration (copy %c):\n", current == 0 ? 'A' : 'B');
        printf("  generation            %llu\n", (unsigned long long)s->generation);
        printf("  HA                    %s\n", s->pool.ha_enabled ? "enabled" : "disabled");
        printf("  failures to tolerate  %u\n", s->pool.ftt_target);
        printf("  overcommit            %s\n", s->pool.allow_overcommit ? "allowed" : "refused");
        printf("  maintenance           %s\n", used ? maint : "none");
        printf("  protected VMs         %zu\n", s->n_vms);
        if (!s->n_vms)
                return;
        printf("\n  %-24s %-16s %-12s %8s %8s %9s %5s  %s\n", "vm", "id", "priority", "order", "delay", "memory",
               "owner", "config");
        for (size_t i = 0; i < s->n_vms; i++) {
                const struct hastate_vm *v = &s->vms[i];
                char owner[16], delay[24];

                snprintf(owner, sizeof(owner), v->owner ? "%u" : "-", v->owner);
                snprintf(delay, sizeof(delay), v->start_delay_ms % 1000 ? "%.3fs" : "%.0fs", v->start_delay_ms / 1000.0);
                printf("  %-24s %016llx %-12s %8d %8s %5llu MiB %5s  %s\n", v->name, (unsigned long long)v->id,
                       hastate_priority_name(v->priority), v->order, delay, (unsigned long long)v->memory_mib, owner,
                       v->config);
        }
}

int haadm_dump_config(struct haadm_dump *d) {
        struct copy cp[2];
        int current, r;

        r = read_copy(d, 0, &cp[0]);
        if (r == 0)
                r = read_copy(d, 1, &cp[1]);
        else
                memset(&cp[1], 0, sizeof(cp[1]));
        if (r < 0)
                goto out;
        current = disk_config_pick(!cp[0].st.error, &cp[0].hdr, !cp[1].st.error, &cp[1].hdr);
        if (current < 0)
                current = -1;
        d->corrupt += (cp[0].st.error != 0) + (cp[1].st.error != 0);
        if (d->json) {
                copies_json(d, cp, current);
                state_json(d, current >= 0 ? cp[current].state : NULL, current);
        } else {
                copies_text(cp, current);
                state_text(current >= 0 ? cp[current].state : NULL, current);
        }
out:
        hastate_free(cp[0].state);
        hastate_free(cp[1].state);
        return r;
}
