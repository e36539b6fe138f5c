/* The HA state invariants the fuzz targets check (see hastate_check.h). */
#include "tests/fuzz/hastate_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/name.h"

bool fuzz_printable_utf8(const char *str, size_t len) {
        const unsigned char *s = (const unsigned char *)str;

        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                size_t n;
                uint32_t cp, min;

                if (c < 0x20 || c == 0x7f)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 1, cp = c & 0x1f, min = 0xa0;       /* no C1 control */
                else if (c >= 0xe0 && c <= 0xef)
                        n = 2, cp = c & 0x0f, min = 0x800;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 3, cp = c & 0x07, min = 0x10000;
                else
                        return false;
                if (len - i - 1 < n)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + k] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

static void fail(const char *what, unsigned long long id) {
        fprintf(stderr, "HA state invariant broken: %s (vm %llu)\n", what, id);
        abort();
}

static bool restarts_before(const struct takeover_vm *a, const struct takeover_vm *b, const struct hastate *s) {
        const struct hastate_vm *x = hastate_vm_find(s, a->vm_id), *y = hastate_vm_find(s, b->vm_id);

        if (x->priority != y->priority)
                return x->priority == HASTATE_PRIORITY_RESTART;
        if (x->order != y->order)
                return x->order < y->order;
        return x->id < y->id;
}

void fuzz_hastate_check(const struct hastate *s) {
        static struct takeover_vm list[HASTATE_MAX_VMS + 1];
        size_t n_list, n_prio = 0;

        if (s->n_vms > HASTATE_MAX_VMS || s->n_vms > s->cap || (s->n_vms && !s->vms))
                fail("VM count", 0);
        if (s->pool.ftt_target > HASTATE_MAX_FTT)
                fail("failures-to-tolerate target", 0);
        if (core_view_has(&s->maintenance, 0))
                fail("host 0 in maintenance", 0);
        for (size_t i = 0; i < s->n_vms; i++) {
                const struct hastate_vm *v = &s->vms[i];
                size_t nl = strnlen(v->name, sizeof(v->name)), cl = strnlen(v->config, sizeof(v->config));

                if (v->id == 0)
                        fail("vm id 0", 0);
                if (nl == sizeof(v->name) || !vmha_name_valid(v->name, nl))
                        fail("name breaks the name rule", v->id);
                if (cl == 0 || cl == sizeof(v->config) || !fuzz_printable_utf8(v->config, cl))
                        fail("config empty, unterminated or not printable UTF-8", v->id);
                if ((unsigned)v->priority >= _HASTATE_PRIORITY_MAX)
                        fail("priority", v->id);
                if (v->order < -HASTATE_ORDER_LIMIT || v->order > HASTATE_ORDER_LIMIT)
                        fail("order", v->id);
                if (v->start_delay_ms > HASTATE_MAX_START_DELAY_MS)
                        fail("start delay", v->id);
                if (v->memory_mib == 0 || v->memory_mib > HASTATE_MAX_MEMORY_MIB)
                        fail("memory", v->id);
                if (v->owner > CORE_MAX_HOST_ID)
                        fail("owner", v->id);
                for (size_t k = 0; k < i; k++)
                        if (s->vms[k].id == v->id || strcmp(s->vms[k].name, v->name) == 0)
                                fail("id or name twice", v->id);
                n_prio += v->priority != HASTATE_PRIORITY_NONE && v->started;
        }
        hastate_restart_list(s, list, HASTATE_MAX_VMS + 1, &n_list);
        if (n_list != n_prio)
                fail("restart list leaves out or repeats VMs", 0);
        for (size_t i = 0; i < n_list; i++) {
                const struct hastate_vm *v = hastate_vm_find(s, list[i].vm_id);
                if (!v || v->priority == HASTATE_PRIORITY_NONE || !v->started || list[i].replicated_owner != v->owner)
                        fail("restart list entry", list[i].vm_id);
                if (i > 0 && !restarts_before(&list[i - 1], &list[i], s))
                        fail("restart list out of order", list[i].vm_id);
        }
}

uint8_t *fuzz_hastate_round_trip(const struct hastate *s, size_t *len) {
        struct hastate_error err;
        struct hastate *again;
        uint8_t *buf, *buf2;
        size_t len2;

        if (hastate_snapshot_encode(s, &buf, len) < 0)
                abort();
        if (hastate_snapshot_decode(buf, *len, &again, &err) < 0) {
                fprintf(stderr, "a snapshot of a valid state is refused: %s\n", err.msg);
                abort();
        }
        if (again->generation != s->generation || again->n_vms != s->n_vms)
                abort();
        if (hastate_snapshot_encode(again, &buf2, &len2) < 0 || len2 != *len || memcmp(buf, buf2, len2) != 0)
                abort();
        free(buf2);
        hastate_free(again);
        return buf;
}

bool fuzz_snapshot_reproduced(const uint8_t *buf, size_t len, const uint8_t *again, size_t again_len) {
        struct hastate_error err;
        struct hastate *t = NULL;
        uint8_t *third;
        size_t third_len;
        bool ok;

        if (again_len == len && memcmp(again, buf, len) == 0)
                return true;
        /* Only an older version may come back different: version 1. */
        if (len < 6 || buf[4] != 1 || buf[5] != 0)
                return false;
        if (hastate_snapshot_decode(again, again_len, &t, &err) < 0)
                return false;
        fuzz_hastate_check(t);
        third = fuzz_hastate_round_trip(t, &third_len);
        ok = third_len == again_len && memcmp(third, again, again_len) == 0;
        free(third);
        hastate_free(t);
        return ok;
}
