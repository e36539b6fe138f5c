/* The one rule for VM and host names, and a safe rendering of anything
 * that failed it (see name.h). */
#include "daemon/name.h"

#include <stdio.h>
#include <string.h>

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
}

bool vmha_name_valid(const char *s, size_t len) {
        if (len < 1 || len >= VMHA_NAME_MAX || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!name_char(s[i]))
                        return false;
        return true;
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
