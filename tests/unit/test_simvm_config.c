/* The sim VM config: what parses, and that each kind of bad input is
 * refused with its line and reason and leaves the output untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/simvm_config.h"

static char err[SIMVM_ERROR_MAX];

static int parse(const char *text, struct simvm_config *c) {
        err[0] = 0;
        return simvm_config_parse(text, strlen(text), "vm.cfg", c, err, sizeof(err));
}

static void refused(const char *text, const char *why) {
        struct simvm_config c;

        memset(&c, 0x5a, sizeof(c));
        assert_int_equal(parse(text, &c), -EINVAL);
        if (!strstr(err, why))
                fail_msg("expected '%s' in: %s", why, err);
        for (size_t i = 0; i < sizeof(c); i++)
                assert_int_equal(((unsigned char *)&c)[i], 0x5a);
}

static void test_an_xl_style_config_parses(void **state) {
        struct simvm_config c;

        assert_int_equal(parse("# a sim VM\n"
                               "name = \"vm-a\"\n"
                               "memory = 512   # MiB\n"
                               "disk = [ '/srv/sim/vm-a.disk' ]\n"
                               "port = 8001\n",
                               &c),
                         0);
        assert_string_equal(c.name, "vm-a");
        assert_int_equal(c.memory_mib, 512);
        assert_string_equal(c.disk, "/srv/sim/vm-a.disk");
        assert_int_equal(c.port, 8001);
}

static void test_a_bare_disk_path_and_no_port_parse(void **state) {
        struct simvm_config c;

        assert_int_equal(parse("name='b'\nmemory=1\ndisk='/d'\n", &c), 0);
        assert_string_equal(c.disk, "/d");
        assert_int_equal(c.port, 0);
}

static void test_missing_keys_are_named(void **state) {
        refused("memory = 1\ndisk = '/d'\n", "name is not set");
        refused("name = 'a'\ndisk = '/d'\n", "memory is not set");
        refused("name = 'a'\nmemory = 1\n", "disk is not set");
}

static void test_unknown_and_repeated_keys_are_refused_with_their_line(void **state) {
        refused("name = 'a'\nmemory = 1\nvcpus = 2\ndisk = '/d'\n", "vm.cfg:3: unknown key 'vcpus'");
        refused("name = 'a'\nmemory = 1\nmemory = 2\ndisk = '/d'\n", "vm.cfg:3: memory is set twice");
        refused("[domain]\nname = 'a'\nmemory = 1\ndisk = '/d'\n", "a VM config has no sections");
}

static void test_bad_values_are_refused_with_the_reason(void **state) {
        refused("name = a\nmemory = 1\ndisk = '/d'\n", "name: expected a quoted string");
        refused("name = 'a\nmemory = 1\ndisk = '/d'\n", "no closing '");
        refused("name = '-a'\nmemory = 1\ndisk = '/d'\n", "not a valid VM name");
        refused("name = 'a' 'b'\nmemory = 1\ndisk = '/d'\n", "text after the name");
        refused("name = 'a'\nmemory = 0\ndisk = '/d'\n", "smaller than 1");
        refused("name = 'a'\nmemory = 12x\ndisk = '/d'\n", "not a decimal number");
        refused("name = 'a'\nmemory = 99999999999999999999\ndisk = '/d'\n", "larger than");
        refused("name = 'a'\nmemory = 1\ndisk = 'd'\n", "not an absolute path");
        refused("name = 'a'\nmemory = 1\ndisk = [ '/d', '/e' ]\n", "one disk");
        refused("name = 'a'\nmemory = 1\ndisk = [ '/d'\n", "no closing ]");
        refused("name = 'a'\nmemory = 1\ndisk = '/d'\nport = 65536\n", "port: '65536' is larger than 65535");
        refused("name = 'a'\nmemory = 1\ndisk = '/d'\nport = 0\n", "smaller than 1");
}

static void test_a_line_that_is_not_key_value_is_a_syntax_error(void **state) {
        refused("name = 'a'\njust words\nmemory = 1\ndisk = '/d'\n", "vm.cfg:2: syntax error");
}

static void test_a_nul_byte_is_refused(void **state) {
        struct simvm_config c;
        static const char text[] = "name = 'a'\0\nmemory = 1\ndisk = '/d'\n";

        assert_int_equal(simvm_config_parse(text, sizeof(text) - 1, "vm.cfg", &c, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "NUL"));
}

static void test_load_names_a_missing_file(void **state) {
        struct simvm_config c;

        assert_int_equal(simvm_config_load("/nonexistent/vm.cfg", &c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "/nonexistent/vm.cfg: No such file"));
        assert_int_equal(simvm_config_load("/", &c, err, sizeof(err)), -EISDIR);
        assert_non_null(strstr(err, "/: is a directory, not a VM config"));
}

static void test_load_reads_a_file(void **state) {
        char path[] = "/tmp/test-simvm-config.XXXXXX";
        struct simvm_config c;
        int fd = mkstemp(path);
        static const char text[] = "name = \"vm-x\"\nmemory = 64\ndisk = [ \"/x.disk\" ]\n";

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
        close(fd);
        assert_int_equal(simvm_config_load(path, &c, err, sizeof(err)), 0);
        unlink(path);
        assert_string_equal(c.name, "vm-x");
        assert_int_equal(c.memory_mib, 64);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_an_xl_style_config_parses),
                cmocka_unit_test(test_a_bare_disk_path_and_no_port_parse),
                cmocka_unit_test(test_missing_keys_are_named),
                cmocka_unit_test(test_unknown_and_repeated_keys_are_refused_with_their_line),
                cmocka_unit_test(test_bad_values_are_refused_with_the_reason),
                cmocka_unit_test(test_a_line_that_is_not_key_value_is_a_syntax_error),
                cmocka_unit_test(test_a_nul_byte_is_refused),
                cmocka_unit_test(test_load_names_a_missing_file),
                cmocka_unit_test(test_load_reads_a_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
