/* The fence history reader: a missing file is an empty history, malformed
 * lines are skipped, and a history past its size limit is read from its
 * end, starting at a whole line, so the newest fences always count. */
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

#include "daemon/fence_history.h"

static char path[64];

static int setup(void **state) {
        int fd;
        (void)state;
        snprintf(path, sizeof(path), "/tmp/vmha-test-fh.XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        return 0;
}

static int teardown(void **state) {
        (void)state;
        unlink(path);
        return 0;
}

static void test_a_missing_history_is_empty(void **state) {
        int64_t *times = (int64_t *)1;
        size_t n = 99;
        (void)state;
        assert_int_equal(fence_history_read("/nonexistent/vmha/fence-history", &times, &n), 0);
        assert_int_equal(n, 0);
        assert_null(times);
}

static void test_lines_are_read_in_order_and_malformed_ones_skipped(void **state) {
        FILE *f = fopen(path, "w");
        int64_t *times;
        size_t n;
        (void)state;
        fputs("1700000000 fencing self: no quorum\nnonsense\n-5 negative\n1700000100 rule 3\n\n1700000200", f);
        fclose(f);
        assert_int_equal(fence_history_read(path, &times, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(times[0], 1700000000);
        assert_int_equal(times[1], 1700000100);
        assert_int_equal(times[2], 1700000200);
        free(times);
}

static void test_a_long_history_is_read_from_its_end_at_a_whole_line(void **state) {
        FILE *f = fopen(path, "w");
        const char *pad = "fencing self: no quorum, disk shows partition {1,2} wins over {3} ........";
        int64_t *times, t;
        size_t n, written = 0, bytes = 0, per_line;
        (void)state;
        /* 1.5 times the limit, each line as long as the others. */
        for (t = 1000000000; bytes < FENCE_HISTORY_MAX + FENCE_HISTORY_MAX / 2; t++, written++)
                bytes += (size_t)fprintf(f, "%lld %s\n", (long long)t, pad);
        fclose(f);
        per_line = bytes / written;
        assert_int_equal(fence_history_read(path, &times, &n), 0);
        /* The newest is there, and everything read is a whole line's time. */
        assert_int_equal(times[n - 1], t - 1);
        for (size_t i = 1; i < n; i++)
                assert_int_equal(times[i], times[i - 1] + 1);
        assert_true(times[0] >= 1000000000);
        assert_int_equal(n, FENCE_HISTORY_MAX / per_line);
        free(times);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_missing_history_is_empty),
                cmocka_unit_test_setup_teardown(test_lines_are_read_in_order_and_malformed_ones_skipped, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_long_history_is_read_from_its_end_at_a_whole_line, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
