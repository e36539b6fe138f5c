/* The metrics textfile writer: each text replaces the file whole and
 * readable by the collector, the newest text wins, a failed write is
 * reported and retried with the next text, and the path checks of
 * `vmhad -t` say what is wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/metrics_file.h"

static char dir[64], path[128], msg[8192];

static int setup(void **state) {
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/vmha-test-mf.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/vmha.prom", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(long ms) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Waits (at most 5 s) until the writer has written `count` texts or
 * reports an error; returns its result. */
static int wait_written(struct metrics_file *f, uint64_t count) {
        for (int i = 0; i < 500; i++) {
                uint64_t written;
                int r = metrics_file_result(f, &written, msg, sizeof(msg));
                if (written >= count || r < 0)
                        return r;
                sleep_ms(10);
        }
        fail_msg("the writer wrote nothing within 5 s");
        return -ETIMEDOUT;
}

static char *slurp(const char *p) {
        static char buf[4096];
        FILE *f = fopen(p, "r");
        size_t n;
        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static void test_a_text_replaces_the_file_whole_and_readable(void **state) {
        struct metrics_file *f;
        struct stat st;
        char tmp[160];
        mode_t old = umask(077);
        (void)state;

        assert_int_equal(metrics_file_new(path, &f), 0);
        metrics_file_submit(f, strdup("vmha_up 1\n"), 10);
        assert_int_equal(wait_written(f, 1), 0);
        assert_string_equal(slurp(path), "vmha_up 1\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);      /* whatever the umask */
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        assert_int_equal(access(tmp, F_OK), -1);        /* no temporary left behind */
        metrics_file_free(f);
        metrics_file_free(NULL);
        umask(old);
}

static void test_the_newest_text_wins(void **state) {
        struct metrics_file *f;
        char text[32];
        (void)state;

        assert_int_equal(metrics_file_new(path, &f), 0);
        for (int i = 0; i < 100; i++) {
                snprintf(text, sizeof(text), "vmha_n %d\n", i);
                metrics_file_submit(f, strdup(text), strlen(text));
        }
        /* Some texts were replaced before they were written; the last one
         * always is written. */
        for (int i = 0; i < 500 && strcmp(slurp(path) ? slurp(path) : "", "vmha_n 99\n") != 0; i++)
                sleep_ms(10);
        assert_string_equal(slurp(path), "vmha_n 99\n");
        assert_int_equal(metrics_file_result(f, NULL, msg, sizeof(msg)), 0);
        metrics_file_free(f);
}

static void test_a_failed_write_is_reported_and_the_next_text_retries(void **state) {
        struct metrics_file *f;
        char sub[96], subpath[160];
        uint64_t written;
        (void)state;

        snprintf(sub, sizeof(sub), "%s/later", dir);
        snprintf(subpath, sizeof(subpath), "%s/vmha.prom", sub);
        assert_int_equal(metrics_file_new(subpath, &f), 0);
        metrics_file_submit(f, strdup("a 1\n"), 4);
        assert_int_equal(wait_written(f, 1), -ENOENT);
        assert_non_null(strstr(msg, "open "));
        assert_non_null(strstr(msg, "later/vmha.prom.tmp: No such file or directory"));
        /* The directory appears: the next text gets through. */
        assert_int_equal(mkdir(sub, 0755), 0);
        metrics_file_submit(f, strdup("a 2\n"), 4);
        for (int i = 0; i < 500 && metrics_file_result(f, &written, msg, sizeof(msg)) < 0; i++)
                sleep_ms(10);
        assert_int_equal(metrics_file_result(f, &written, msg, sizeof(msg)), 0);
        assert_string_equal(msg, "");
        assert_int_equal(written, 1);
        assert_string_equal(slurp(subpath), "a 2\n");
        metrics_file_free(f);
}

static void test_the_path_check_says_what_is_wrong(void **state) {
        char p[160], e[512];
        FILE *f;
        (void)state;

        assert_int_equal(metrics_file_check(path, e, sizeof(e)), 0);
        snprintf(p, sizeof(p), "%s/none/vmha.prom", dir);
        assert_int_equal(metrics_file_check(p, e, sizeof(e)), -ENOENT);
        assert_non_null(strstr(e, "/none: no such directory (create it, or install node_exporter's textfile collector)"));
        snprintf(p, sizeof(p), "%s/file", dir);
        f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/file/vmha.prom", dir);
        assert_int_equal(metrics_file_check(p, e, sizeof(e)), -ENOTDIR);
        assert_non_null(strstr(e, "/file: not a directory"));
        snprintf(p, sizeof(p), "%s/d.prom", dir);
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(metrics_file_check(p, e, sizeof(e)), -EISDIR);
        assert_non_null(strstr(e, "/d.prom: exists and is not a regular file"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_text_replaces_the_file_whole_and_readable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_newest_text_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_failed_write_is_reported_and_the_next_text_retries, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_the_path_check_says_what_is_wrong, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
