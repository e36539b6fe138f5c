/* The sim VM config (simvm_config.h). inih splits the lines into keys and
 * values; each value is then decoded strictly here: a quoted string, a
 * decimal number, or a one-element list, each optionally followed by a
 * '#' comment, and nothing else.
 */
#include "daemon/simvm_config.h"
#include "daemon/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KEY_NAME = 1, KEY_MEMORY = 2, KEY_DISK = 4, KEY_PORT = 8 };

struct parse_ctx {
        struct simvm_config cfg;
        unsigned seen;
        char msg[SIMVM_ERROR_MAX];
};

static const char *skip_space(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* The end of a value is blanks, then nothing or a '#' comment. */
static bool at_end(const char *p) {
        p = skip_space(p);
        return *p == 0 || *p == '#';
}

/* A quoted string at *p into out; *p moves past the closing quote. */
static int take_string(const char **p, char *out, size_t out_len, char *msg, size_t len) {
        char q = **p;
        const char *s = *p + 1, *e;

        if (q != '"' && q != '\'') {
                snprintf(msg, len, "expected a quoted string");
                return -EINVAL;
        }
        e = strchr(s, q);
        if (!e) {
                snprintf(msg, len, "the string has no closing %c", q);
                return -EINVAL;
        }
        if ((size_t)(e - s) >= out_len) {
                snprintf(msg, len, "the string is longer than %zu bytes", out_len - 1);
                return -EINVAL;
        }
        memcpy(out, s, (size_t)(e - s));
        out[e - s] = 0;
        *p = e + 1;
        return 0;
}

static int take_number(const char *v, uint64_t min, uint64_t max, uint64_t *out, char *msg, size_t len) {
        uint64_t n = 0;
        const char *p = v;

        if (*p < '0' || *p > '9') {
                snprintf(msg, len, "'%s' is not a decimal number", v);
                return -EINVAL;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (max - (uint64_t)(*p - '0')) / 10) {
                        snprintf(msg, len, "'%s' is larger than %llu", v, (unsigned long long)max);
                        return -EINVAL;
                }
                n = n * 10 + (uint64_t)(*p - '0');
        }
        if (!at_end(p)) {
                snprintf(msg, len, "'%s' is not a decimal number", v);
                return -EINVAL;
        }
        if (n < min) {
                snprintf(msg, len, "'%s' is smaller than %llu", v, (unsigned long long)min);
                return -EINVAL;
        }
        *out = n;
        return 0;
}

static int parse_name(struct parse_ctx *c, const char *v) {
        const char *p = v;

        if (take_string(&p, c->cfg.name, sizeof(c->cfg.name), c->msg, sizeof(c->msg)) < 0)
                return -EINVAL;
        if (!at_end(p)) {
                snprintf(c->msg, sizeof(c->msg), "text after the name");
                return -EINVAL;
        }
        if (!vmha_name_valid(c->cfg.name, strlen(c->cfg.name))) {
                snprintf(c->msg, sizeof(c->msg), "'%s' is not a valid VM name (%s)", c->cfg.name, VMHA_NAME_RULE);
                return -EINVAL;
        }
        return 0;
}

static int parse_memory(struct parse_ctx *c, const char *v) {
        return take_number(v, 1, SIMVM_MEMORY_MAX_MIB, &c->cfg.memory_mib, c->msg, sizeof(c->msg));
}

static int parse_port(struct parse_ctx *c, const char *v) {
        uint64_t port;

        if (take_number(v, 1, 65535, &port, c->msg, sizeof(c->msg)) < 0)
                return -EINVAL;
        c->cfg.port = (uint16_t)port;
        return 0;
}

/* '/path', or [ '/path' ] as xl writes a disk list. */
static int parse_disk(struct parse_ctx *c, const char *v) {
        const char *p = v;
        bool list = *p == '[';

        if (list)
                p = skip_space(p + 1);
        if (take_string(&p, c->cfg.disk, sizeof(c->cfg.disk), c->msg, sizeof(c->msg)) < 0)
                return -EINVAL;
        if (list) {
                p = skip_space(p);
                if (*p == ',') {
                        snprintf(c->msg, sizeof(c->msg), "a sim VM has one disk");
                        return -EINVAL;
                }
                if (*p != ']') {
                        snprintf(c->msg, sizeof(c->msg), "the disk list has no closing ]");
                        return -EINVAL;
                }
                p++;
        }
        if (!at_end(p)) {
                snprintf(c->msg, sizeof(c->msg), "text after the disk");
                return -EINVAL;
        }
        if (c->cfg.disk[0] != '/') {
                snprintf(c->msg, sizeof(c->msg), "disk '%s' is not an absolute path", c->cfg.disk);
                return -EINVAL;
        }
        return 0;
}

static const struct {
        const char *key;
        unsigned bit;
        int (*parse)(struct parse_ctx *c, const char *v);
} keys[] = {
        { "name", KEY_NAME, parse_name },
        { "memory", KEY_MEMORY, parse_memory },
        { "disk", KEY_DISK, parse_disk },
        { "port", KEY_PORT, parse_port },
};

static int handler(void *user, const char *section, const char *key, const char *value) {
        struct parse_ctx *c = user;

        if (c->msg[0])
                return 0;
        if (section[0]) {
                snprintf(c->msg, sizeof(c->msg), "[%s]: a VM config has no sections", section);
                return 0;
        }
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                if (strcmp(key, keys[i].key) != 0)
                        continue;
                if (c->seen & keys[i].bit) {
                        snprintf(c->msg, sizeof(c->msg), "%s is set twice", key);
                        return 0;
                }
                c->seen |= keys[i].bit;
                if (keys[i].parse(c, value) < 0) {
                        /* "key: reason"; the keys of the table are short. */
                        size_t k = strlen(key) + 2, m = strnlen(c->msg, sizeof(c->msg) - k - 1);
                        memmove(c->msg + k, c->msg, m);
                        memcpy(c->msg, key, k - 2);
                        memcpy(c->msg + k - 2, ": ", 2);
                        c->msg[k + m] = 0;
                        return 0;
                }
                return 1;
        }
        snprintf(c->msg, sizeof(c->msg), "unknown key '%s' (a sim VM config knows name, memory, disk and port)", key);
        return 0;
}

int simvm_config_parse(const char *text, size_t len, const char *what, struct simvm_config *out, char *err,
                       size_t err_len) {
        struct parse_ctx c = { 0 };
        char *copy;
        int r;

        if (memchr(text, 0, len)) {
                snprintf(err, err_len, "%s: holds a NUL byte: not a VM config", what);
                return -EINVAL;
        }
        copy = strndup(text, len);
        if (!copy) {
                snprintf(err, err_len, "%s: out of memory", what);
                return -ENOMEM;
        }
        /* inih returns the line of the first handler that returned 0. */
        r = ini_parse_string(copy, handler, &c);
        free(copy);
        if (c.msg[0]) {
                snprintf(err, err_len, "%s:%d: %s", what, r, c.msg);
                return -EINVAL;
        }
        if (r != 0) {
                snprintf(err, err_len, "%s:%d: syntax error (expected key = value)", what, r);
                return -EINVAL;
        }
        if ((c.seen & (KEY_NAME | KEY_MEMORY | KEY_DISK)) != (KEY_NAME | KEY_MEMORY | KEY_DISK)) {
                snprintf(err, err_len, "%s: %s is not set (a sim VM needs name, memory and disk)", what,
                         !(c.seen & KEY_NAME) ? "name" : !(c.seen & KEY_MEMORY) ? "memory" : "disk");
                return -EINVAL;
        }
        *out = c.cfg;
        return 0;
}

int simvm_config_load(const char *path, struct simvm_config *out, char *err, size_t err_len) {
        char *text = NULL;
        size_t len = 0;
        int r = vmha_read_small_file(path, SIMVM_FILE_MAX, "VM config", &text, &len, err, err_len);

        if (r < 0)
                return r;
        r = simvm_config_parse(text, len, path, out, err, err_len);
        free(text);
        return r;
}
