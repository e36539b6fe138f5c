/* The tiebreak probe: is this host's tiebreak target (usually the VM
 * network's gateway) reachable? It decides even splits, so that a two-host
 * pool keeps the host whose VM network still works.
 *
 * One raw ICMP echo per disk interval, answered asynchronously on the main
 * loop. The shell hands the last reply's time to the engine, which counts
 * the target as reachable while it is at most three intervals old
 * (core_tiebreak_fresh). Nothing here blocks.
 */
#pragma once

#include <qb/qbloop.h>
#include <stdbool.h>
#include <stdint.h>

struct tiebreak;

/* Starts probing target (an IPv4 or IPv6 literal). -errno on failure
 * (raw sockets need CAP_NET_RAW). */
int tiebreak_new(qb_loop_t *loop, const char *target, struct tiebreak **ret);
void tiebreak_free(struct tiebreak *t);

/* Sends the next echo request; call once per interval. */
void tiebreak_probe(struct tiebreak *t);

/* When the target last answered: false when it never did. */
bool tiebreak_last_reply(const struct tiebreak *t, uint64_t *at_ms);
