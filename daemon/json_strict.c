/* Strict JSON with json-c, and what json-c's strict mode lets through.
 *
 * json-c parses, with JSON_TOKENER_STRICT (which refuses trailing commas,
 * comments and trailing data) and JSON_TOKENER_VALIDATE_UTF8. In json-c
 * 0.16 strict mode still takes a single-quoted key, NaN and Infinity, raw
 * control characters in strings and a key given twice. So once json-c has
 * accepted the text, one pass over the same bytes, which need only tell
 * strings from structure because the text is known to be well formed,
 * refuses those. It keeps the keys of every open object, each decoded by
 * json-c itself (so "a" and "\u0061" are the same key), and refuses the
 * first key that repeats one of its object.
 */
#include "daemon/json_strict.h"
#include "daemon/name.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct json_strict_error *err, int code, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(struct json_strict_error *err, int code, size_t offset, const char *fmt, ...) {
        va_list ap;

        err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        return code;
}

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct frame {
        bool object;
        bool want_key;          /* in an object, after '{' or ',' */
        size_t first_key;       /* this object's keys start here in keys[] */
};

struct scan {
        const char *text;
        struct frame *frames;
        size_t depth, max_frames;
        struct json_object **keys;      /* decoded keys of the open objects */
        size_t n_keys, cap_keys;
        struct json_tokener *tok;       /* decodes one key at a time */
};

/* The string token starting at text[i] ends at the returned index (its
 * closing quote). Raw control characters are refused. */
static int string_end(const struct scan *s, size_t i, size_t end, size_t *close, struct json_strict_error *err) {
        for (size_t j = i + 1; j < end; j++) {
                unsigned char c = (unsigned char)s->text[j];
                if (c == '\\') {
                        j++;
                } else if (c == '"') {
                        *close = j;
                        return 0;
                } else if (c < 0x20) {
                        return fail(err, -EBADMSG, j, "control character 0x%02x in a string (write it as \\u%04x)",
                                    c, c);
                }
        }
        return fail(err, -EBADMSG, i, "unterminated string");
}

static int add_key(struct scan *s, size_t at, size_t close, struct json_strict_error *err) {
        struct frame *f = &s->frames[s->depth - 1];
        struct json_object *key;
        const char *k;
        size_t klen;

        json_tokener_reset(s->tok);
        key = json_tokener_parse_ex(s->tok, s->text + at, (int)(close - at + 1));
        if (!key || !json_object_is_type(key, json_type_string)) {
                json_object_put(key);
                return fail(err, -EBADMSG, at, "malformed key");
        }
        k = json_object_get_string(key);
        klen = (size_t)json_object_get_string_len(key);
        for (size_t i = f->first_key; i < s->n_keys; i++) {
                if ((size_t)json_object_get_string_len(s->keys[i]) == klen &&
                    memcmp(json_object_get_string(s->keys[i]), k, klen) == 0) {
                        char shown[64];
                        vmha_text_show(k, klen, shown, sizeof(shown));
                        json_object_put(key);
                        return fail(err, -EBADMSG, at, "key \"%s\" appears twice in one object", shown);
                }
        }
        if (s->n_keys == s->cap_keys) {
                size_t cap = s->cap_keys ? 2 * s->cap_keys : 16;
                struct json_object **t = realloc(s->keys, cap * sizeof(*t));
                if (!t) {
                        json_object_put(key);
                        return fail(err, -ENOMEM, at, "out of memory");
                }
                s->keys = t;
                s->cap_keys = cap;
        }
        s->keys[s->n_keys++] = key;
        return 0;
}

static int push(struct scan *s, bool object, size_t at, struct json_strict_error *err) {
        if (s->depth == s->max_frames)
                return fail(err, -EBADMSG, at, "nesting too deep");
        s->frames[s->depth++] = (struct frame){ .object = object, .want_key = object, .first_key = s->n_keys };
        return 0;
}

static void pop(struct scan *s) {
        struct frame *f;

        if (s->depth == 0)
                return;
        f = &s->frames[--s->depth];
        while (s->n_keys > f->first_key)
                json_object_put(s->keys[--s->n_keys]);
}

/* The pass over text[0..end) that json-c has already accepted. */
static int check_text(const char *text, size_t end, int max_depth, struct json_strict_error *err) {
        struct scan s = { .text = text, .max_frames = (size_t)max_depth + 1 };
        int r = 0;

        s.frames = calloc(s.max_frames, sizeof(*s.frames));
        s.tok = json_tokener_new();
        if (!s.frames || !s.tok) {
                r = fail(err, -ENOMEM, 0, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < end && r == 0; i++) {
                struct frame *top = s.depth ? &s.frames[s.depth - 1] : NULL;
                size_t close = i;

                switch (text[i]) {
                case '{':
                case '[':
                        r = push(&s, text[i] == '{', i, err);
                        break;
                case '}':
                case ']':
                        pop(&s);
                        break;
                case ':':
                        if (top)
                                top->want_key = false;
                        break;
                case ',':
                        if (top && top->object)
                                top->want_key = true;
                        break;
                case '"':
                        r = string_end(&s, i, end, &close, err);
                        if (r < 0)
                                break;
                        if (top && top->object && top->want_key)
                                r = add_key(&s, i, close, err);
                        i = close;
                        break;
                case '\'':
                        r = fail(err, -EBADMSG, i, "single-quoted strings are not JSON (use \")");
                        break;
                case 'N':
                case 'I':
                        r = fail(err, -EBADMSG, i, "NaN and Infinity are not JSON numbers");
                        break;
                default:
                        break;
                }
        }
out:
        while (s.depth)
                pop(&s);
        free(s.frames);
        free(s.keys);
        json_tokener_free(s.tok);
        return r;
}

int json_strict_parse_object(const char *text, size_t len, int max_depth, struct json_object **ret,
                             struct json_strict_error *err) {
        struct json_tokener *tok;
        struct json_object *root;
        enum json_tokener_error jerr;
        size_t start = 0, end;
        int r;

        while (start < len && is_ws(text[start]))
                start++;
        if (start == len)
                return fail(err, -EBADMSG, len, "no JSON value (the input is empty)");
        if (text[start] != '{')
                return fail(err, -EINVAL, start, "expected a JSON object at the top level");
        if (len > INT_MAX)
                return fail(err, -EBADMSG, 0, "too large");
        tok = json_tokener_new_ex(max_depth);
        if (!tok)
                return fail(err, -ENOMEM, 0, "out of memory");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        root = json_tokener_parse_ex(tok, text, (int)len);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!root || jerr != json_tokener_success) {
                json_object_put(root);
                if (jerr == json_tokener_continue)
                        return fail(err, -EBADMSG, len, "incomplete");
                return fail(err, -EBADMSG, end, "%s", json_tokener_error_desc(jerr));
        }
        for (size_t i = end; i < len; i++)
                if (!is_ws(text[i])) {
                        json_object_put(root);
                        return fail(err, -EBADMSG, i, "data after the top-level object");
                }
        r = check_text(text, end, max_depth, err);
        if (r < 0) {
                json_object_put(root);
                return r;
        }
        *ret = root;
        return 0;
}
