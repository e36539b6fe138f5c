/* libFuzzer target for what other hosts send over CPG: the envelope
 * (wire.c), acknowledgements, HA state changes and snapshots (hastate.c),
 * and the node engine that receives them (node_msg.c).
 *
 * Input: one flags byte, then up to FRAMES messages, each a 16-bit
 * little-endian length and that many bytes, delivered in that order to one
 * node engine (host 1 of hosts 1..4, all in a quorate membership) as CPG
 * would deliver them. With bit 0
 * of the flags set, the harness writes the right CRC-32 into a snapshot
 * message's last four bytes first, so that mutations get past it.
 *
 * For each message:
 *   - every decoder either refuses it or accepts something that encodes
 *     back to exactly the bytes it came from (and decodes again the same);
 *   - a change is applied to a copy of the engine's state by
 *     hastate_apply() alone: refused, the copy is unchanged to the byte;
 *     applied, the generation goes up by one and the copy keeps every rule;
 *   - the engine itself then holds either its old state or, for a change
 *     it takes, exactly the copy, or, for a snapshot it adopts, exactly
 *     that snapshot; its state always keeps every rule (hastate_check.c),
 *     and its generation never goes down.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hastate.h"
#include "core/node.h"
#include "core/wire.h"
#include "tests/fuzz/hastate_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES 16
#define SELF 1u

static const uint32_t hosts[] = { 1, 2, 3, 4 };

static bool configured(uint32_t id) {
        return id >= 1 && id <= sizeof(hosts) / sizeof(hosts[0]);
}

static void check_ack(const uint8_t *p, size_t len) {
        static struct wire_ack a;
        static uint8_t again[WIRE_ACK_MAX_SIZE];

        if (wire_ack_decode(p, len, &a) < 0)
                return;
        if (a.n_echo > WIRE_ACK_MAX_ECHO || disk_view_test(a.view, 0) || wire_ack_encode(&a, again) != len ||
            memcmp(again, p, len) != 0)
                abort();
        for (uint32_t i = 0; i < a.n_echo; i++)
                if (a.echo[i].host < 1 || a.echo[i].host > DISK_MAX_SLOTS ||
                    wire_ack_echo_for(&a, a.echo[i].host) != a.echo[i].seq)
                        abort();        /* a host echoed twice would answer the first */
}

/* Decodes a change; when it decodes, applies it to a copy of s. Returns
 * whether the copy took it, with the copy's snapshot in *after. */
static bool check_change(const struct hastate *s, const uint8_t *p, size_t len, uint32_t sender, uint8_t **after,
                         size_t *after_len) {
        static uint8_t again[HASTATE_MSG_WIRE_MAX];
        struct hastate_msg m, m2;
        struct hastate_error err;
        struct hastate *copy;
        uint8_t *before;
        size_t before_len, used;
        bool took;

        if (hastate_msg_decode(p, len, &m, &err) < 0)
                return false;
        if (hastate_msg_encode(&m, again, sizeof(again), &used) < 0 || used != len || memcmp(again, p, len) != 0)
                abort();
        if (hastate_msg_decode(again, used, &m2, &err) < 0 || memcmp(&m, &m2, sizeof(m)) != 0)
                abort();
        if (m.type == HASTATE_MSG_VM_PROTECT && !fuzz_printable_utf8(m.u.vm.name, strlen(m.u.vm.name)))
                abort();        /* a name no status output could show */

        before = fuzz_hastate_round_trip(s, &before_len);
        if (hastate_snapshot_decode(before, before_len, &copy, &err) < 0)
                abort();
        took = hastate_apply(copy, &m, &err) == 0;
        fuzz_hastate_check(copy);
        *after = fuzz_hastate_round_trip(copy, after_len);
        if (!took && (*after_len != before_len || memcmp(*after, before, before_len) != 0))
                abort();        /* a refused change changed something */
        if (took && copy->generation != s->generation + 1)
                abort();
        hastate_free(copy);
        free(before);
        return took && m.sender == sender;
}

static void deliver(struct node *n, uint8_t *msg, size_t len, bool reseal, uint64_t now_ms) {
        const struct hastate *cur = node_state(n);
        struct node_event ev = { .type = NODE_EV_MESSAGE };
        struct wire_header h, h2;
        struct hastate_error err;
        struct hastate *snap = NULL;
        uint8_t head[WIRE_HEADER_SIZE], *before, *after = NULL, *now;
        const uint8_t *p;
        size_t plen, before_len, after_len = 0, now_len;
        uint64_t gen = cur->generation;
        bool change = false;

        before = fuzz_hastate_round_trip(cur, &before_len);
        ev.u.message.from = len >= 12 ? msg[8] : 2;
        if (wire_header_decode(msg, len, &h, &p, &plen) == 0) {
                wire_header_encode(&h, head);
                if (memcmp(head, msg, WIRE_HEADER_SIZE) != 0 || p != msg + WIRE_HEADER_SIZE ||
                    plen != len - WIRE_HEADER_SIZE)
                        abort();
                if (wire_header_decode(head, WIRE_HEADER_SIZE, &h2, &p, &plen) < 0 || h2.type != h.type ||
                    h2.sender != h.sender || h2.seq != h.seq)
                        abort();
                ev.u.message.from = h.sender;
                p = msg + WIRE_HEADER_SIZE;
                plen = len - WIRE_HEADER_SIZE;
                switch (h.type) {
                case WIRE_ACK:
                        check_ack(p, plen);
                        break;
                case WIRE_CHANGE:
                        change = check_change(cur, p, plen, h.sender, &after, &after_len) && configured(h.sender);
                        break;
                case WIRE_SNAPSHOT:
                        if (reseal && plen >= 4) {
                                uint32_t crc = (uint32_t)crc32(0, p, (uInt)(plen - 4));
                                for (int i = 0; i < 4; i++)
                                        msg[len - 4 + i] = (uint8_t)(crc >> (8 * i));
                        }
                        if (hastate_snapshot_decode(p, plen, &snap, &err) == 0) {
                                fuzz_hastate_check(snap);
                                after = fuzz_hastate_round_trip(snap, &after_len);
                                if (!fuzz_snapshot_reproduced(p, plen, after, after_len))
                                        abort();
                                if (!configured(h.sender) || h.sender == SELF)
                                        after_len = 0;  /* not to be adopted */
                        }
                        break;
                }
        }

        ev.u.message.data = msg;
        ev.u.message.len = len;
        node_handle(n, &ev, now_ms);

        cur = node_state(n);
        fuzz_hastate_check(cur);
        now = fuzz_hastate_round_trip(cur, &now_len);
        if (cur->generation < gen)
                abort();
        bool same_as_before = now_len == before_len && memcmp(now, before, now_len) == 0;
        bool same_as_after = after && now_len == after_len && memcmp(now, after, now_len) == 0;
        if (change && !same_as_after)
                abort();        /* the engine applied a change otherwise than hastate_apply() */
        if (!change && !same_as_before && !(snap && same_as_after))
                abort();        /* the state changed without a change or a snapshot to adopt */
        if (snap && after_len && snap->generation > gen && !same_as_after)
                abort();        /* a newer snapshot from a peer was not adopted */
        hastate_free(snap);
        free(before);
        free(after);
        free(now);
}

/* The engine as CPG leaves it once hosts 1..4 have joined a quorate
 * membership and one tick has passed: it has sent its snapshot and its
 * first acknowledgement (sequences 1 and 2), so that acknowledgements
 * echoing them count. */
static void start(struct node *n, uint64_t now_ms) {
        struct node_event ev = { .type = NODE_EV_MEMBERSHIP };

        for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
                core_view_add(&ev.u.membership.members, hosts[i]);
                if (hosts[i] != SELF)
                        core_view_add(&ev.u.membership.joined, hosts[i]);
        }
        ev.u.membership.ring_id = 4;
        node_handle(n, &ev, now_ms);
        ev = (struct node_event){ .type = NODE_EV_QUORUM, .u.quorum.quorate = true };
        node_handle(n, &ev, now_ms);
        ev = (struct node_event){ .type = NODE_EV_TICK };
        node_handle(n, &ev, now_ms + 50);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct node_config cfg = {
                .self_id = SELF,
                .hosts = hosts,
                .n_hosts = sizeof(hosts) / sizeof(hosts[0]),
                .timeout_ms = 5000,
        };
        struct node *n;
        uint64_t now_ms = 1000000;
        bool reseal;

        if (size < 1)
                return 0;
        reseal = data[0] & 1;
        if (node_new(&cfg, hastate_new(), now_ms, &n) < 0)
                abort();
        start(n, now_ms);
        data++;
        size--;
        for (int i = 0; i < FRAMES && size >= 2; i++) {
                size_t len = (size_t)data[0] | (size_t)data[1] << 8;
                uint8_t *msg;

                data += 2;
                size -= 2;
                if (len > size)
                        len = size;
                msg = malloc(len ? len : 1);    /* exactly len: no reading past the end */
                memcpy(msg, data, len);
                deliver(n, msg, len, reseal, now_ms += 100);
                free(msg);
                data += len;
                size -= len;
        }
        node_free(n);
        return 0;
}
