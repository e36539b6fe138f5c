/* libFuzzer target for the control request parser: any byte string must
 * be either refused with a message or parsed into a request that
 * re-serializes and parses again to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ipc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ipc_request req, again;
        char err[IPC_ERROR_MAX];
        char *json;

        if (ipc_request_parse(data, size, &req, err) < 0) {
                if (!memchr(err, 0, sizeof(err)) || err[0] == 0)
                        abort();        /* every refusal says why */
                return 0;
        }
        if (ipc_request_format(&req, &json) < 0)
                abort();
        if (ipc_request_parse(json, strlen(json), &again, err) < 0 || memcmp(&req, &again, sizeof(req)) != 0)
                abort();
        free(json);
        return 0;
}
