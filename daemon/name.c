/* The one rule for VM and host names, and a safe rendering of anything
 * that failed it (see name.h). */
#include "daemon/name.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

bool vmha_name_valid(const char *s, size_t len) {
        return core_name_valid(s, len, VMHA_NAME_MAX);
}

const char *vmha_text_show(const char *s, size_t len, char *out, size_t out_len) {
        size_t n = 0;

        if (out_len == 0)
                return out;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                char piece[8];

                if (c == '"' || c == '\\')
                        snprintf(piece, sizeof(piece), "\\%c", c);
                else if (c >= 0x20 && c < 0x7f)
                        snprintf(piece, sizeof(piece), "%c", c);
                else
                        snprintf(piece, sizeof(piece), "\\x%02x", c);
                /* Keep room for "..." and the NUL. */
                if (n + strlen(piece) + 4 > out_len) {
                        snprintf(out + n, out_len - n, "%s", out_len - n > 3 ? "..." : "");
                        return out;
                }
                memcpy(out + n, piece, strlen(piece));
                n += strlen(piece);
        }
        out[n] = 0;
        return out;
}
