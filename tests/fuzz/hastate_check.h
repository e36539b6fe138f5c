/* What every HA state the fuzz targets see must satisfy, whatever bytes it
 * came from: the fields hastate.h documents, in range, names that follow
 * the one name rule (daemon/name.h), configs that are printable UTF-8, ids
 * and names unique, a restart list in restart order, and a snapshot that
 * decodes back to the same bytes. Each check abort()s on a violation, so
 * that libFuzzer keeps the input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hastate.h"

/* Is s (len bytes) UTF-8 as RFC 3629 defines it, without a control
 * character (C0, DEL or C1)? */
bool fuzz_printable_utf8(const char *s, size_t len);

/* Every field and cross-record rule of s. */
void fuzz_hastate_check(const struct hastate *s);

/* Encodes s, decodes the snapshot again and checks that it encodes to the
 * same bytes. Returns the snapshot (malloc'd) and its length. */
uint8_t *fuzz_hastate_round_trip(const struct hastate *s, size_t *len);

/* A snapshot the decoder accepted (buf, len) against what its state encodes
 * back to (again): the same bytes, or, for a snapshot of an older codec
 * version, what decodes again to a state that encodes back to itself. */
bool fuzz_snapshot_reproduced(const uint8_t *buf, size_t len, const uint8_t *again, size_t again_len);
