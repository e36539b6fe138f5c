/* The shared strict JSON reader and the one name rule: what json-c's strict
 * mode lets through is refused with its position, well-formed JSON is not
 * mistaken for a repeated key, and names are ASCII and printable. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "daemon/json_strict.h"
#include "daemon/name.h"

static struct json_strict_error err;

static int parse_n(const char *s, size_t len) {
        struct json_object *o = NULL;
        int r = json_strict_parse_object(s, len, 8, &o, &err);
        if (r == 0)
                assert_non_null(o);
        json_object_put(o);
        return r;
}

static int parse(const char *s) {
        return parse_n(s, strlen(s));
}

/* Refused with exactly this message, at this byte offset. */
static void expect_refused(const char *s, int code, size_t offset, const char *message) {
        assert_int_equal(parse(s), code);
        assert_string_equal(err.msg, message);
        assert_int_equal(err.offset, offset);
}

static void test_well_formed_objects_are_read(void **state) {
        (void)state;
        assert_int_equal(parse("{}"), 0);
        assert_int_equal(parse(" \n{\"a\": [1, 2, {\"b\": null}], \"c\": {\"d\": true}}\n"), 0);
        /* The same key in different objects is no repetition. */
        assert_int_equal(parse("{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}], \"c\": {\"a\": {\"a\": 3}}}"), 0);
        /* Braces, quotes, commas and colons inside strings are text. */
        assert_int_equal(parse("{\"a\": \"}{,:\\\"\", \"a\\\"\": \"'NaN'\", \"b\": [\"]\", \"[\"]}"), 0);
        /* A key that is a value elsewhere is not a key twice. */
        assert_int_equal(parse("{\"a\": \"b\", \"b\": \"a\"}"), 0);
}

static void test_a_key_twice_is_refused_at_its_second_place(void **state) {
        (void)state;
        expect_refused("{\"a\": 1, \"a\": 2}", -EBADMSG, 9, "key \"a\" appears twice in one object");
        expect_refused("{\"x\": {\"b\": 1, \"c\": 2, \"b\": 3}}", -EBADMSG, 23,
                       "key \"b\" appears twice in one object");
        expect_refused("{\"v\": [{\"n\": 1}, {\"n\": 1, \"n\": 2}]}", -EBADMSG, 26,
                       "key \"n\" appears twice in one object");
        /* Keys are compared decoded: \u0061 is "a", and NULs count. */
        expect_refused("{\"a\": 1, \"\\u0061\": 2}", -EBADMSG, 9, "key \"a\" appears twice in one object");
        assert_int_equal(parse("{\"h\\u0000a\": 1, \"h\\u0000b\": 2}"), 0);
        expect_refused("{\"h\\u0000a\": 1, \"h\\u0000a\": 2}", -EBADMSG, 16,
                       "key \"h\\x00a\" appears twice in one object");
}

static void test_what_strict_mode_lets_through_is_refused(void **state) {
        (void)state;
        expect_refused("{'a': 1}", -EBADMSG, 1, "single-quoted strings are not JSON (use \")");
        expect_refused("{\"a\": NaN}", -EBADMSG, 6, "NaN and Infinity are not JSON numbers");
        expect_refused("{\"a\": -Infinity}", -EBADMSG, 7, "NaN and Infinity are not JSON numbers");
        expect_refused("{\"a\": \"x\ty\"}", -EBADMSG, 8, "control character 0x09 in a string (write it as \\u0009)");
        assert_int_equal(parse("{\"a\": 1,}"), -EBADMSG);
        assert_int_equal(parse("{\"a\": [1, 2,]}"), -EBADMSG);
        assert_int_equal(parse("{\"a\": 1 // note\n}"), -EBADMSG);
        assert_int_equal(parse("{/* note */ \"a\": 1}"), -EBADMSG);
        assert_int_equal(parse("{\"a\": \"\xff\"}"), -EBADMSG);
        assert_int_equal(parse("{\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": {\"g\": {\"h\": 1}}}}}}}}"), -EBADMSG);
}

static void test_data_after_the_object_is_refused(void **state) {
        (void)state;
        assert_int_equal(parse("{\"a\": 1} \n\t"), 0);
        expect_refused("{\"a\": 1} x", -EBADMSG, 9, "unexpected character");
        assert_int_equal(parse_n("{\"a\": 1}\0x", 10), -EBADMSG);
        assert_string_equal(err.msg, "data after the top-level object");
        assert_int_equal(err.offset, 8);
        expect_refused("{\"a\": ", -EBADMSG, 6, "incomplete");
}

static void test_a_top_level_that_is_not_an_object_says_so(void **state) {
        (void)state;
        expect_refused("42", -EINVAL, 0, "expected a JSON object at the top level");
        expect_refused("  [1, 2]", -EINVAL, 2, "expected a JSON object at the top level");
        expect_refused("\"text\"", -EINVAL, 0, "expected a JSON object at the top level");
        expect_refused(" \n", -EBADMSG, 2, "no JSON value (the input is empty)");
}

static void test_names_are_printable_ascii_of_1_to_63_bytes(void **state) {
        char long_name[80];

        (void)state;
        assert_true(vmha_name_valid("vm-1", 4));
        assert_true(vmha_name_valid("a.b_c-D9", 8));
        assert_false(vmha_name_valid("", 0));
        assert_false(vmha_name_valid("-a", 2));
        assert_false(vmha_name_valid("a,b", 3));
        assert_false(vmha_name_valid("a b", 3));
        assert_false(vmha_name_valid("h\0a", 3));
        assert_false(vmha_name_valid("h\x1b[31m", 6));
        assert_false(vmha_name_valid("h\xc3\xa9", 3));
        memset(long_name, 'x', sizeof(long_name));
        assert_true(vmha_name_valid(long_name, 63));
        assert_false(vmha_name_valid(long_name, 64));
}

static void test_untrusted_text_is_shown_printable(void **state) {
        char out[16];

        (void)state;
        assert_string_equal(vmha_text_show("h\x1b[1m\"\\", 7, out, sizeof(out)), "h\\x1b[1m\\\"\\\\");
        assert_string_equal(vmha_text_show("\xff\0", 2, out, sizeof(out)), "\\xff\\x00");
        assert_string_equal(vmha_text_show("abcdefghijklmnopqrstuvwxyz", 26, out, sizeof(out)), "abcdefghijkl...");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_well_formed_objects_are_read),
                cmocka_unit_test(test_a_key_twice_is_refused_at_its_second_place),
                cmocka_unit_test(test_what_strict_mode_lets_through_is_refused),
                cmocka_unit_test(test_data_after_the_object_is_refused),
                cmocka_unit_test(test_a_top_level_that_is_not_an_object_says_so),
                cmocka_unit_test(test_names_are_printable_ascii_of_1_to_63_bytes),
                cmocka_unit_test(test_untrusted_text_is_shown_printable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
