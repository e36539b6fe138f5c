/* vmhad's CPG envelope and acknowledgement codec. */
#include "core/wire.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v) {
        v = htole64(v);
        memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return le32toh(v);
}

static uint64_t get64(const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, 8);
        return le64toh(v);
}

void wire_header_encode(const struct wire_header *h, uint8_t *buf) {
        put32(buf, WIRE_MAGIC);
        put32(buf + 4, (uint32_t)h->type);
        put32(buf + 8, h->sender);
        put64(buf + 12, h->seq);
}

int wire_header_decode(const void *buf, size_t len, struct wire_header *h, const uint8_t **payload,
                       size_t *payload_len) {
        const uint8_t *p = buf;
        uint32_t type;

        if (len < WIRE_HEADER_SIZE || get32(p) != WIRE_MAGIC)
                return -EBADMSG;
        type = get32(p + 4);
        if (type < WIRE_ACK || type > WIRE_SNAPSHOT)
                return -EBADMSG;
        h->type = (enum wire_type)type;
        h->sender = get32(p + 8);
        h->seq = get64(p + 12);
        if (h->sender < 1 || h->sender > DISK_MAX_SLOTS)
                return -EBADMSG;
        *payload = p + WIRE_HEADER_SIZE;
        *payload_len = len - WIRE_HEADER_SIZE;
        return 0;
}

size_t wire_ack_encode(const struct wire_ack *a, uint8_t *buf) {
        uint32_t n = a->n_echo > WIRE_ACK_MAX_ECHO ? WIRE_ACK_MAX_ECHO : a->n_echo;
        uint8_t *p;

        put64(buf, a->ring_id);
        memcpy(buf + 8, a->view, DISK_VIEW_BYTES);
        buf[8 + DISK_VIEW_BYTES] = (uint8_t)((a->disk_ok ? 1 : 0) | (a->emergency ? 2 : 0));
        put64(buf + 9 + DISK_VIEW_BYTES, a->memory_mib);
        buf[17 + DISK_VIEW_BYTES] = (uint8_t)n;
        p = buf + WIRE_ACK_FIXED_SIZE;
        for (uint32_t i = 0; i < n; i++, p += WIRE_ACK_ECHO_SIZE) {
                p[0] = (uint8_t)a->echo[i].host;
                put64(p + 1, a->echo[i].seq);
        }
        return WIRE_ACK_FIXED_SIZE + (size_t)n * WIRE_ACK_ECHO_SIZE;
}

int wire_ack_decode(const uint8_t *buf, size_t len, struct wire_ack *a) {
        uint8_t seen[DISK_VIEW_BYTES] = { 0 };
        const uint8_t *p;
        uint32_t n;

        if (len < WIRE_ACK_FIXED_SIZE || buf[8 + DISK_VIEW_BYTES] > 3 || (buf[8] & 1))
                return -EBADMSG;
        n = buf[17 + DISK_VIEW_BYTES];
        if (len != WIRE_ACK_FIXED_SIZE + (size_t)n * WIRE_ACK_ECHO_SIZE)
                return -EBADMSG;
        a->ring_id = get64(buf);
        memcpy(a->view, buf + 8, DISK_VIEW_BYTES);
        a->disk_ok = buf[8 + DISK_VIEW_BYTES] & 1;
        a->emergency = buf[8 + DISK_VIEW_BYTES] & 2;
        a->memory_mib = get64(buf + 9 + DISK_VIEW_BYTES);
        a->n_echo = n;
        p = buf + WIRE_ACK_FIXED_SIZE;
        for (uint32_t i = 0; i < n; i++, p += WIRE_ACK_ECHO_SIZE) {
                uint32_t host = p[0];
                if (host == 0 || host > DISK_MAX_SLOTS || disk_view_test(seen, host))
                        return -EBADMSG;
                disk_view_set(seen, host);
                a->echo[i].host = host;
                a->echo[i].seq = get64(p + 1);
        }
        return 0;
}

uint64_t wire_ack_echo_for(const struct wire_ack *a, uint32_t id) {
        for (uint32_t i = 0; i < a->n_echo; i++)
                if (a->echo[i].host == id)
                        return a->echo[i].seq;
        return 0;
}
