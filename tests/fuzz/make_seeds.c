/* Writes the seed corpora of the HA state snapshot and CPG message fuzz
 * targets with the real encoders, so that every seed is something vmhad
 * sends or stores. `make fuzz-seeds` runs it into tests/fuzz/corpus/.
 *
 *   make_seeds DIR    writes DIR/hastate_snapshot/gen-* and DIR/cpg_message/gen-*
 *
 * The input formats are the targets' (a flags byte first; for CPG, each
 * message behind a 16-bit little-endian length): see their opening
 * comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hastate.h"
#include "core/wire.h"

struct seed {
        uint8_t buf[65536];
        size_t len;
};

static void seed_start(struct seed *s, uint8_t flags) {
        s->buf[0] = flags;
        s->len = 1;
}

static void seed_add(struct seed *s, const void *p, size_t n) {
        if (s->len + n > sizeof(s->buf)) {
                fprintf(stderr, "make_seeds: seed too large\n");
                exit(1);
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
}

static void seed_write(const struct seed *s, const char *dir, const char *sub, const char *name) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/gen-%s", dir, sub, name);
        f = fopen(path, "we");
        if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
                fprintf(stderr, "make_seeds: %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

/* One CPG message: header, payload, behind its length. */
static void seed_add_message(struct seed *s, enum wire_type type, uint32_t sender, uint64_t seq,
                             const uint8_t *payload, size_t len) {
        struct wire_header h = { .type = type, .sender = sender, .seq = seq };
        uint8_t head[WIRE_HEADER_SIZE];
        size_t total = WIRE_HEADER_SIZE + len;
        uint8_t lenb[2] = { (uint8_t)total, (uint8_t)(total >> 8) };

        wire_header_encode(&h, head);
        seed_add(s, lenb, 2);
        seed_add(s, head, sizeof(head));
        seed_add(s, payload, len);
}

static void seed_add_change(struct seed *s, const struct hastate_msg *m, uint64_t seq) {
        uint8_t buf[HASTATE_MSG_WIRE_MAX];
        size_t used;

        if (hastate_msg_encode(m, buf, sizeof(buf), &used) < 0)
                exit(1);
        seed_add_message(s, WIRE_CHANGE, m->sender, seq, buf, used);
}

static struct hastate_msg protect(uint32_t sender, uint64_t id, const char *name, enum hastate_priority p,
                                  int32_t order, uint32_t owner) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_PROTECT, .sender = sender };

        m.u.vm.id = id;
        snprintf(m.u.vm.name, sizeof(m.u.vm.name), "%s", name);
        m.u.vm.priority = p;
        m.u.vm.order = order;
        m.u.vm.start_delay_ms = 30000;
        m.u.vm.memory_mib = 4096 * id;
        snprintf(m.u.vm.config, sizeof(m.u.vm.config), "/etc/xen/%s.cfg", name);
        m.u.vm.owner = owner;
        return m;
}

/* The HA state of a small pool: three VMs, settings, a host in maintenance. */
static struct hastate *sample_state(void) {
        struct hastate *s = hastate_new();
        struct hastate_error err;
        struct hastate_msg msgs[] = {
                { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1,
                  .u.pool = { .ha_enabled = true, .ftt_target = 1, .allow_overcommit = false } },
                protect(1, 1, "db", HASTATE_PRIORITY_RESTART, 0, 2),
                protect(1, 2, "web", HASTATE_PRIORITY_RESTART, 1, 3),
                protect(2, 3, "batch.q-1", HASTATE_PRIORITY_BEST_EFFORT, -5, 0),
                { .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 3, .u.maintenance = { .host_id = 4, .on = true } },
                { .type = HASTATE_MSG_VM_REQUEST, .sender = 1, .u.request = { .vm_id = 1, .started = true } },
                { .type = HASTATE_MSG_VM_REQUEST, .sender = 2, .u.request = { .vm_id = 2, .started = true } },
        };

        if (!s)
                exit(1);
        for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
                if (hastate_apply(s, &msgs[i], &err) < 0) {
                        fprintf(stderr, "make_seeds: %s\n", err.msg);
                        exit(1);
                }
        return s;
}

static void snapshot_seeds(const char *dir) {
        struct hastate *empty = hastate_new(), *sample = sample_state();
        struct seed s;
        uint8_t *buf;
        size_t len;

        hastate_snapshot_encode(empty, &buf, &len);
        seed_start(&s, 0);
        seed_add(&s, buf, len);
        seed_write(&s, dir, "hastate_snapshot", "empty");
        free(buf);

        hastate_snapshot_encode(sample, &buf, &len);
        seed_start(&s, 0);
        seed_add(&s, buf, len);
        seed_write(&s, dir, "hastate_snapshot", "three-vms");
        s.buf[0] = 1;           /* the same, the CRC rewritten by the harness */
        seed_write(&s, dir, "hastate_snapshot", "three-vms-resealed");
        free(buf);
        hastate_free(empty);
        hastate_free(sample);
}

static void cpg_seeds(const char *dir) {
        static struct wire_ack a;
        uint8_t buf[WIRE_ACK_MAX_SIZE], *snap;
        struct hastate *sample = sample_state();
        struct seed s;
        size_t len;

        /* Host 2 acknowledges hosts 1, 2 and 3, echoing host 1's first
         * acknowledgement (its sequence 2: the fuzz target's engine sent
         * its snapshot first). */
        memset(&a, 0, sizeof(a));
        a.ring_id = 0x100000004ull;
        disk_view_set(a.view, 1);
        disk_view_set(a.view, 2);
        disk_view_set(a.view, 3);
        a.disk_ok = true;
        a.memory_mib = 262144;
        a.echo[a.n_echo++] = (struct wire_echo){ .host = 1, .seq = 2 };
        a.echo[a.n_echo++] = (struct wire_echo){ .host = 3, .seq = 12 };
        len = wire_ack_encode(&a, buf);
        seed_start(&s, 0);
        seed_add_message(&s, WIRE_ACK, 2, 40, buf, len);
        a.emergency = true;
        a.disk_ok = false;
        a.n_echo = 0;
        len = wire_ack_encode(&a, buf);
        seed_add_message(&s, WIRE_ACK, 3, 41, buf, len);
        seed_write(&s, dir, "cpg_message", "acks");

        /* Every kind of change, in an order that applies. */
        struct hastate_msg changes[] = {
                { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 2, .u.pool = { .ha_enabled = true, .ftt_target = 2 } },
                protect(2, 10, "db", HASTATE_PRIORITY_RESTART, 0, 2),
                protect(3, 11, "web", HASTATE_PRIORITY_BEST_EFFORT, 3, 0),
                { .type = HASTATE_MSG_VM_OWNER, .sender = 2, .u.owner = { .vm_id = 11, .owner = 3 } },
                { .type = HASTATE_MSG_VM_REQUEST, .sender = 3, .u.request = { .vm_id = 11, .started = true } },
                { .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 4, .u.maintenance = { .host_id = 4, .on = true } },
                { .type = HASTATE_MSG_VM_REQUEST, .sender = 1, .u.request = { .vm_id = 11, .started = false } },
                { .type = HASTATE_MSG_VM_UNPROTECT, .sender = 1, .u.unprotect = { .vm_id = 10 } },
        };
        seed_start(&s, 0);
        for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
                seed_add_change(&s, &changes[i], 1 + i);
        seed_write(&s, dir, "cpg_message", "changes");

        /* A joining host's view: a snapshot from host 3, then a change on it. */
        hastate_snapshot_encode(sample, &snap, &len);
        seed_start(&s, 0);
        seed_add_message(&s, WIRE_SNAPSHOT, 3, 5, snap, len);
        struct hastate_msg owner = { .type = HASTATE_MSG_VM_OWNER, .sender = 3, .u.owner = { .vm_id = 3, .owner = 1 } };
        seed_add_change(&s, &owner, 6);
        seed_write(&s, dir, "cpg_message", "snapshot-then-change");
        s.buf[0] = 1;
        seed_write(&s, dir, "cpg_message", "snapshot-then-change-resealed");
        free(snap);
        hastate_free(sample);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: make_seeds DIR\n");
                return 2;
        }
        snapshot_seeds(argv[1]);
        cpg_seeds(argv[1]);
        return 0;
}
