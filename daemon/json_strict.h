/* json_strict: one JSON object, read strictly, with json-c.
 *
 * Both JSON readers (the control requests vmhad takes and the pool
 * description `haadm plan` takes) go through here, so they refuse the same
 * things: trailing commas, comments, single-quoted strings, NaN and
 * Infinity, raw control characters in strings, invalid UTF-8, anything
 * after the object, nesting beyond a limit, a top level that is not an
 * object, and an object that has a key twice (json-c keeps the last one
 * silently, so two readers of one file could act on different values).
 */
#pragma once

#include <stddef.h>

struct json_object;

#define JSON_STRICT_ERROR_MAX 160

struct json_strict_error {
        size_t offset;                  /* byte offset of the problem in the text */
        char msg[JSON_STRICT_ERROR_MAX];
};

/* Parses len bytes of text. Returns 0 and the object in *ret (the caller
 * puts it), -EBADMSG when the text is not strict JSON, -EINVAL when it
 * does not start with an object ("expected a JSON object at the top
 * level"), or -ENOMEM; err says what and where. */
int json_strict_parse_object(const char *text, size_t len, int max_depth, struct json_object **ret,
                             struct json_strict_error *err);
