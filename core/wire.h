/* vmhad's CPG messages: a fixed little-endian envelope and three kinds.
 *
 *   ACK       every disk interval: "these are the hosts I count in my
 *             membership, and my disk works or not" (rule 4's fresh
 *             acknowledgements)
 *   CHANGE    one replicated HA state message (hastate wire form)
 *   SNAPSHOT  the whole HA state, sent by every synced member when hosts
 *             join; receivers adopt the highest generation, ties to the
 *             lowest sender, so all converge on one state
 *
 * Every field is checked on receipt; a garbled message is dropped and
 * logged, never applied. Pure code.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heartbeat/disk_format.h"

#define WIRE_MAGIC 0x4d484d56u  /* "VMHM" */
#define WIRE_HEADER_SIZE 20u

enum wire_type {
        WIRE_ACK = 1,
        WIRE_CHANGE = 2,
        WIRE_SNAPSHOT = 3,
};

struct wire_header {
        enum wire_type type;
        uint32_t sender;
        uint64_t seq;
};

struct wire_ack {
        uint64_t ring_id;
        uint8_t view[DISK_VIEW_BYTES];
        bool disk_ok;
        bool emergency;         /* the sender is in emergency mode */
        uint64_t memory_mib;    /* memory the sender offers VMs; 0: unknown */
};
#define WIRE_ACK_SIZE (8u + DISK_VIEW_BYTES + 1u + 8u)

/* Writes the header into buf (WIRE_HEADER_SIZE bytes). */
void wire_header_encode(const struct wire_header *h, uint8_t *buf);
/* Checks magic and type; returns 0 or -EBADMSG. payload and payload_len
 * describe what follows the header. */
int wire_header_decode(const void *buf, size_t len, struct wire_header *h, const uint8_t **payload,
                       size_t *payload_len);

void wire_ack_encode(const struct wire_ack *a, uint8_t *buf);
int wire_ack_decode(const uint8_t *buf, size_t len, struct wire_ack *a);
