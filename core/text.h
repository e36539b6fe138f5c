/* The text rules shared by the pure core and the daemon, header-only so
 * that every program that checks text links nothing more: a name (VM or
 * host) and a UTF-8 sequence. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A name: 1 to max - 1 ASCII letters, digits, '.', '_' or '-', not
 * starting with '-' (daemon/name.h has max, the replicated state its
 * arrays). */
static inline bool core_name_valid(const char *s, size_t len, size_t max) {
        if (len < 1 || len >= max || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* The length of the valid UTF-8 sequence at s (of at most n >= 1 bytes),
 * or 0: malformed, overlong, a surrogate, or beyond U+10FFFF. *cp gets
 * the code point. */
static inline size_t core_utf8_len(const unsigned char *s, size_t n, uint32_t *cp) {
        size_t len;
        uint32_t c, min;

        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, c = s[0] & 0x1fu, min = 0x80;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, c = s[0] & 0x0fu, min = 0x800;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, c = s[0] & 0x07u, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}
