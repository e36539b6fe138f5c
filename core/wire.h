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

/* An acknowledgement echoes, for every host it counts, the sequence of the
 * latest message it has received from that host: the acknowledged host
 * judges freshness by when it sent that message, not by when the
 * acknowledgement happened to arrive. */
struct wire_echo {
        uint32_t host;
        uint64_t seq;
};
#define WIRE_ACK_MAX_ECHO DISK_MAX_SLOTS

struct wire_ack {
        uint64_t ring_id;
        uint8_t view[DISK_VIEW_BYTES];
        bool disk_ok;
        bool emergency;         /* the sender is in emergency mode */
        uint64_t memory_mib;    /* memory the sender offers VMs; 0: unknown */
        uint32_t n_echo;
        struct wire_echo echo[WIRE_ACK_MAX_ECHO];
};
#define WIRE_ACK_FIXED_SIZE (8u + DISK_VIEW_BYTES + 1u + 8u + 1u)
#define WIRE_ACK_ECHO_SIZE 9u
#define WIRE_ACK_MAX_SIZE (WIRE_ACK_FIXED_SIZE + WIRE_ACK_MAX_ECHO * WIRE_ACK_ECHO_SIZE)

/* Writes the header into buf (WIRE_HEADER_SIZE bytes). */
void wire_header_encode(const struct wire_header *h, uint8_t *buf);
/* Checks magic and type; returns 0 or -EBADMSG. payload and payload_len
 * describe what follows the header. */
int wire_header_decode(const void *buf, size_t len, struct wire_header *h, const uint8_t **payload,
                       size_t *payload_len);

/* Writes at most WIRE_ACK_MAX_SIZE bytes into buf; returns the length. */
size_t wire_ack_encode(const struct wire_ack *a, uint8_t *buf);
/* 0, or -EBADMSG for a wrong length, unknown flag bits, an echo of host 0
 * or beyond the slots, or a host echoed twice. */
int wire_ack_decode(const uint8_t *buf, size_t len, struct wire_ack *a);
/* The sequence a echoes for host id, 0 when it echoes none. */
uint64_t wire_ack_echo_for(const struct wire_ack *a, uint32_t id);
