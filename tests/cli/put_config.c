/* put_config: writes an HA configuration into a heartbeat region, as the
 * master's vmhad would, for the command-line tests of `haadm disk` (no
 * daemon, no Corosync).
 *
 *   put_config IMAGE N short|long|random [GENERATION]
 *
 * N VMs named vm-00001..., with priority, order, delay, memory and owner
 * set; "long" makes every name 63 bytes and every config path 255 (as
 * long as vmhad allows), "random" does the same with pseudo-random
 * characters, which compress worst. The pool has HA enabled, a target of
 * one failure and host 2 in maintenance. Prints what the configuration
 * needs on disk and whether vmhad's own check (core/hastate_disk.h)
 * admits it; exit status 0 written, 1 refused (-EFBIG: it does not fit),
 * 2 anything else.
 */
#include "core/hastate.h"
#include "core/hastate_disk.h"
#include "heartbeat/disk_io.h"
#include "heartbeat/disk_region.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;

static char pick(void) {
        static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        rng = rng * 1103515245u + 12345u;
        return set[(rng >> 16) % (sizeof(set) - 1)];
}

/* Fills dst (cap bytes, NUL included) with prefix and then len - strlen(prefix) more characters. */
static void fill(char *dst, size_t len, const char *prefix, bool random) {
        size_t n = strlen(prefix);

        memcpy(dst, prefix, n);
        for (size_t i = n; i < len; i++)
                dst[i] = random ? pick() : (char)('a' + i % 26);
        dst[len] = 0;
}

int main(int argc, char **argv) {
        struct hastate *s = hastate_new();
        struct hastate_msg m = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        struct hastate_error herr;
        struct hastate_disk_size sz;
        struct disk_region *reg;
        struct disk_error derr;
        struct disk_io *io;
        uint8_t *raw;
        size_t len, stored;
        unsigned long n;
        uint64_t gen;
        bool lng, rnd;
        int r;

        if (argc < 4 || argc > 5 || (strcmp(argv[3], "short") && strcmp(argv[3], "long") && strcmp(argv[3], "random"))) {
                fprintf(stderr, "usage: put_config IMAGE N short|long|random [GENERATION]\n");
                return 2;
        }
        n = strtoul(argv[2], NULL, 10);
        gen = argc == 5 ? strtoull(argv[4], NULL, 10) : 2;
        lng = strcmp(argv[3], "short") != 0;
        rnd = strcmp(argv[3], "random") == 0;
        m.u.pool = (struct hastate_pool){ .ha_enabled = true, .ftt_target = 1 };
        if (!s || hastate_apply(s, &m, &herr) < 0)
                return 2;
        m = (struct hastate_msg){ .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 1 };
        m.u.maintenance.host_id = 2;
        m.u.maintenance.on = true;
        if (hastate_apply(s, &m, &herr) < 0)
                return 2;
        for (unsigned long i = 1; i <= n; i++) {
                char prefix[32];
                m = (struct hastate_msg){ .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };
                m.u.vm.id = i;
                snprintf(prefix, sizeof(prefix), "vm-%05lu", i);
                if (lng)
                        fill(m.u.vm.name, HASTATE_NAME_MAX - 1, prefix, rnd);
                else
                        snprintf(m.u.vm.name, sizeof(m.u.vm.name), "%s", prefix);
                snprintf(prefix, sizeof(prefix), "/etc/xen/%05lu-", i);
                if (lng)
                        fill(m.u.vm.config, HASTATE_CONFIG_MAX - 1, prefix, rnd);
                else
                        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/vm-%05lu.cfg", i);
                m.u.vm.priority = i % 3 ? HASTATE_PRIORITY_RESTART : HASTATE_PRIORITY_BEST_EFFORT;
                m.u.vm.order = (int32_t)(i % 7);
                m.u.vm.start_delay_ms = (uint32_t)(i % 4) * 1000;
                m.u.vm.memory_mib = 1024 * (1 + i % 16);
                m.u.vm.owner = (uint32_t)(1 + i % 3);
                if (hastate_apply(s, &m, &herr) < 0) {
                        fprintf(stderr, "put_config: %s\n", herr.msg);
                        return 2;
                }
        }
        if (disk_io_open(argv[1], DISK_IO_READ_WRITE, &io) < 0 ||
            disk_region_attach(io, 5000, &reg, &derr) < 0) {
                fprintf(stderr, "put_config: cannot open the region on %s\n", argv[1]);
                return 2;
        }
        if (hastate_disk_check(s, disk_layout_config_bytes(&reg->layout), true, &sz) < 0 ||
            hastate_snapshot_encode(s, &raw, &len) < 0)
                return 2;
        printf("%lu VMs: snapshot %zu bytes, compressed %zu, worst case %llu, copy holds %llu, vmhad %s\n", n,
               sz.raw_len, sz.stored_len, (unsigned long long)sz.bound, (unsigned long long)sz.capacity,
               sz.fits ? "admits it" : "refuses it");
        r = disk_region_write_snapshot(reg, gen, raw, len, 1790000000000ull, &stored);
        if (r < 0)
                printf("not written: %s\n", r == -EFBIG ? "does not fit a config copy" : strerror(-r));
        free(raw);
        hastate_free(s);
        disk_region_free(reg);
        return r == 0 ? 0 : r == -EFBIG ? 1 : 2;
}
