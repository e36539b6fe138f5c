/* libFuzzer target for the HA state snapshot decoder: what a joining host
 * receives over CPG and what a cold start reads from the disk's config
 * copy.
 *
 * The first input byte holds flags, the rest is the snapshot. With bit 0
 * set the harness writes the right CRC-32 over the trailing four bytes
 * first, so that mutations reach the field checks behind it.
 *
 * A snapshot is either refused with a reason, or decoded into a state that
 * keeps every rule of hastate.h (hastate_check.c) and encodes back to
 * exactly the bytes it came from (a version-1 snapshot, to what encodes
 * back to itself): whatever the decoder accepts, it has understood whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hastate.h"
#include "tests/fuzz/hastate_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hastate_error err;
        struct hastate *s = (struct hastate *)&err;     /* must become NULL */
        uint8_t *buf, *again;
        size_t len, again_len;

        if (size < 1)
                return 0;
        len = size - 1;
        buf = malloc(len ? len : 1);    /* exactly len: no reading past the end */
        memcpy(buf, data + 1, len);
        if ((data[0] & 1) && len >= 4) {
                uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(len - 4));
                for (int i = 0; i < 4; i++)
                        buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
        }
        memset(&err, 0, sizeof(err));
        if (hastate_snapshot_decode(buf, len, &s, &err) < 0) {
                if (s || !err.msg[0] || !memchr(err.msg, 0, sizeof(err.msg)))
                        abort();        /* refused: no state, and a reason */
                free(buf);
                return 0;
        }
        fuzz_hastate_check(s);
        again = fuzz_hastate_round_trip(s, &again_len);
        if (!fuzz_snapshot_reproduced(buf, len, again, again_len))
                abort();        /* accepted bytes it does not reproduce */
        free(again);
        hastate_free(s);
        free(buf);
        return 0;
}
