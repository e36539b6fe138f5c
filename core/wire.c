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

void wire_ack_encode(const struct wire_ack *a, uint8_t *buf) {
        put64(buf, a->ring_id);
        memcpy(buf + 8, a->view, DISK_VIEW_BYTES);
        buf[8 + DISK_VIEW_BYTES] = (uint8_t)((a->disk_ok ? 1 : 0) | (a->emergency ? 2 : 0));
        put64(buf + 9 + DISK_VIEW_BYTES, a->memory_mib);
}

int wire_ack_decode(const uint8_t *buf, size_t len, struct wire_ack *a) {
        if (len != WIRE_ACK_SIZE || buf[8 + DISK_VIEW_BYTES] > 3 || (buf[8] & 1))
                return -EBADMSG;
        a->ring_id = get64(buf);
        memcpy(a->view, buf + 8, DISK_VIEW_BYTES);
        a->disk_ok = buf[8 + DISK_VIEW_BYTES] & 1;
        a->emergency = buf[8 + DISK_VIEW_BYTES] & 2;
        a->memory_mib = get64(buf + 9 + DISK_VIEW_BYTES);
        return 0;
}
