/* Corosync error codes become words an administrator can act on, never a
 * bare number or an enum name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <corosync/corotypes.h>

#include "daemon/cs_error.h"

static void test_the_usual_codes_say_what_is_wrong(void **state) {
        (void)state;
        assert_string_equal(vmha_cs_error_text(CS_ERR_LIBRARY),
                            "corosync is not running (nothing answers on its IPC socket)");
        assert_non_null(strstr(vmha_cs_error_text(CS_ERR_ACCESS), "refused access"));
        assert_non_null(strstr(vmha_cs_error_text(CS_ERR_TRY_AGAIN), "busy"));
        assert_non_null(strstr(vmha_cs_error_text(CS_ERR_NOT_EXIST), "configured"));
}

static void test_every_code_has_words_and_no_enum_name(void **state) {
        (void)state;
        for (int e = 0; e <= 101; e++) {
                const char *t = vmha_cs_error_text(e);
                assert_non_null(t);
                assert_true(strlen(t) > 3);
                assert_null(strstr(t, "CS_ERR"));
        }
        assert_string_equal(vmha_cs_error_text(77), "unknown corosync error");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_usual_codes_say_what_is_wrong),
                cmocka_unit_test(test_every_code_has_words_and_no_enum_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
