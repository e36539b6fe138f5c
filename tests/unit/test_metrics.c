/* The metrics renderer: every family has HELP and TYPE before its samples,
 * label values are escaped, histograms are cumulative and end with +Inf,
 * what is not known is left out, and the largest pool fits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"
#include "tests/lib/metrics_fixture.h"

static char *render(const struct metrics_snapshot *s, size_t *len) {
        char *text = NULL;
        size_t n = 0;
        assert_int_equal(metrics_render(s, &text, &n), 0);
        assert_non_null(text);
        assert_int_equal(strlen(text), n);
        if (len)
                *len = n;
        return text;
}

static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

/* The metric name of a sample line: up to '{' or ' '. */
static void sample_name(const char *line, char *out, size_t len) {
        size_t n = strcspn(line, "{ ");
        snprintf(out, len, "%.*s", (int)n, line);
}

struct family_seen {
        char name[96];
        char type[16];
        bool help, typed;
};

static void test_every_family_has_help_and_type_before_its_samples(void **state) {
        struct metrics_fixture f;
        struct family_seen fam[64];
        size_t nfam = 0, samples = 0;
        char *text, *save = NULL, *line;
        (void)state;

        metrics_fixture_init(&f);
        text = render(&f.snap, NULL);
        assert_true(text[strlen(text) - 1] == '\n');
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[96], type[16];
                if (sscanf(line, "# HELP %95s", name) == 1) {
                        for (size_t i = 0; i < nfam; i++)
                                assert_string_not_equal(fam[i].name, name);     /* one HELP per family */
                        assert_true(nfam < 64);
                        memset(&fam[nfam], 0, sizeof(fam[nfam]));
                        snprintf(fam[nfam].name, sizeof(fam[nfam].name), "%s", name);
                        fam[nfam++].help = true;
                        assert_true(strlen(line) > strlen("# HELP  ") + strlen(name));   /* says something */
                        continue;
                }
                if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
                        assert_true(nfam > 0);
                        assert_string_equal(fam[nfam - 1].name, name);  /* right after its HELP */
                        assert_false(fam[nfam - 1].typed);
                        assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0 ||
                                    strcmp(type, "histogram") == 0);
                        snprintf(fam[nfam - 1].type, sizeof(fam[nfam - 1].type), "%s", type);
                        fam[nfam - 1].typed = true;
                        continue;
                }
                assert_true(line[0] != '#');
                /* A sample belongs to the family declared last. */
                assert_true(nfam > 0 && fam[nfam - 1].typed);
                sample_name(line, name, sizeof(name));
                const struct family_seen *cur = &fam[nfam - 1];
                if (strcmp(cur->type, "histogram") == 0) {
                        size_t n = strlen(cur->name);
                        assert_memory_equal(name, cur->name, n);
                        assert_true(strcmp(name + n, "_bucket") == 0 || strcmp(name + n, "_sum") == 0 ||
                                    strcmp(name + n, "_count") == 0);
                } else {
                        assert_string_equal(name, cur->name);
                }
                samples++;
        }
        assert_true(nfam >= 20);
        assert_true(samples > 100);
        for (size_t i = 0; i < nfam; i++) {
                assert_true(fam[i].help && fam[i].typed);
                assert_memory_equal(fam[i].name, "vmha_", 5);
                if (strcmp(fam[i].type, "counter") == 0)
                        assert_non_null(strstr(fam[i].name, "_total"));
        }
        free(text);
}

static void test_label_values_are_escaped_and_valid_utf8(void **state) {
        struct metrics_fixture f;
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        strcpy(f.hosts[1].name, "bad\xff\xc3(\xe0\x80\x80z");    /* a stray byte, a cut and an overlong form */
        text = render(&f.snap, NULL);
        assert_true(has_line(text, "vmha_host_master{host=\"h4 \\\"lab\\\" \\\\rack\\nB\"} 0"));
        assert_true(has_line(text, "vmha_host_master{host=\"h\xc3\xb4te5\"} 0"));
        assert_true(has_line(text, "vmha_host_master{host=\"bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd"
                                   "\xef\xbf\xbdz\"} 0"));
        assert_null(strstr(text, "\xff"));
        /* The only newlines are the ends of lines: no label value breaks one. */
        for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
                assert_true(p[1] == 0 || p[1] == '#' || strncmp(p + 1, "vmha_", 5) == 0);
        free(text);
}

static void test_each_host_has_exactly_one_current_state(void **state) {
        struct metrics_fixture f;
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        text = render(&f.snap, NULL);
        assert_true(has_line(text, "vmha_host_state{host=\"h3\",state=\"fenced\"} 1"));
        assert_true(has_line(text, "vmha_host_state{host=\"h3\",state=\"alive\"} 0"));
        for (size_t i = 0; i < f.snap.n_hosts; i++) {
                int ones = 0;
                if (i == 3)     /* its name is escaped in the text: see the escaping test */
                        continue;
                for (unsigned st = 0; st < _METRICS_HOST_STATE_MAX; st++) {
                        char line[256];
                        snprintf(line, sizeof(line), "vmha_host_state{host=\"%s\",state=\"%s\"} %d",
                                 f.hosts[i].name, metrics_host_state_name(st), f.hosts[i].state == st);
                        assert_true(has_line(text, line));
                        ones += f.hosts[i].state == st;
                }
                assert_int_equal(ones, 1);
        }
        assert_true(has_line(text, "vmha_verdict{verdict=\"survive\"} 1"));
        assert_true(has_line(text, "vmha_verdict{verdict=\"fence\"} 0"));
        assert_true(has_line(text, "vmha_host_master{host=\"h1\"} 1"));
        free(text);
}

/* The bucket lines of one op, in order: le values and counts. */
static size_t buckets_of(const char *text, const char *op, double *le, uint64_t *count, size_t max) {
        char prefix[128];
        size_t n = 0;
        snprintf(prefix, sizeof(prefix), "vmha_disk_io_duration_seconds_bucket{op=\"%s\",le=\"", op);
        for (const char *p = text; (p = strstr(p, prefix)) != NULL && n < max; p++) {
                const char *v = p + strlen(prefix);
                unsigned long long c;
                le[n] = strncmp(v, "+Inf", 4) == 0 ? 1e300 : strtod(v, NULL);
                assert_int_equal(sscanf(strchr(v, '}'), "} %llu", &c), 1);
                count[n++] = c;
        }
        return n;
}

static void test_histograms_are_cumulative_and_end_with_inf(void **state) {
        struct metrics_fixture f;
        double le[64];
        uint64_t count[64];
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        text = render(&f.snap, NULL);
        for (int op = 0; op < _DISK_OP_MAX; op++) {
                const struct disk_latency *h = &f.snap.disk[op];
                size_t n = buckets_of(text, disk_op_name(op), le, count, 64);
                char line[160];
                assert_int_equal(n, DISK_LATENCY_BUCKETS + 1);
                for (size_t i = 1; i < n; i++) {
                        assert_true(le[i] > le[i - 1]);         /* bounds increase */
                        assert_true(count[i] >= count[i - 1]);  /* counts never fall */
                }
                assert_true(le[n - 1] == 1e300);                /* +Inf is last ... */
                assert_int_equal(count[n - 1], h->count);       /* ... and counts everything */
                snprintf(line, sizeof(line), "vmha_disk_io_duration_seconds_count{op=\"%s\"} %llu", disk_op_name(op),
                         (unsigned long long)h->count);
                assert_true(has_line(text, line));
        }
        /* The slot writes: 80, 120, 300, 450, 900, 1800, 4000 us and 0.7 s. */
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"slot_write\",le=\"0.0001\"} 1"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"slot_write\",le=\"0.0005\"} 4"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"slot_write\",le=\"0.5\"} 7"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"slot_write\",le=\"1\"} 8"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_sum{op=\"slot_write\"} 0.70765"));
        assert_true(has_line(text, "vmha_disk_io_errors_total{op=\"slot_write\"} 1"));
        /* On a bound counts in that bucket; past the last, only in +Inf. */
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"mailbox_read\",le=\"0.001\"} 1"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"read_round\",le=\"60\"} 1"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_bucket{op=\"read_round\",le=\"+Inf\"} 2"));
        assert_true(has_line(text, "vmha_disk_io_duration_seconds_count{op=\"claims\"} 0"));
        free(text);
}

static void test_seconds_are_exact_decimals(void **state) {
        struct metrics_fixture f;
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        f.hosts[1].slot_age_ms = 0;
        text = render(&f.snap, NULL);
        assert_true(has_line(text, "vmha_slot_age_seconds{host=\"h1\"} 0.12"));
        assert_true(has_line(text, "vmha_slot_age_seconds{host=\"h2\"} 0"));
        assert_true(has_line(text, "vmha_slot_age_seconds{host=\"h3\"} 12.345"));
        assert_true(has_line(text, "vmha_slot_age_seconds{host=\"h\xc3\xb4te5\"} 61"));
        assert_true(has_line(text, "vmha_loop_longest_callback_seconds{callback=\"disk completion\"} 0.012345"));
        assert_true(has_line(text, "vmha_last_self_fence_timestamp_seconds 1700000000"));
        free(text);
}

static void test_what_is_not_known_is_left_out(void **state) {
        struct metrics_fixture f;
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        f.snap.ntol_known = false;
        f.snap.last_self_fence_unix = 0;
        f.snap.longest_cb_us = 0;
        text = render(&f.snap, NULL);
        /* Host 4's slot was never read: no age for it. */
        assert_null(strstr(text, "vmha_slot_age_seconds{host=\"h4"));
        assert_null(strstr(text, "\nvmha_failures_tolerated "));
        assert_null(strstr(text, "\nvmha_failures_tolerated_exact "));
        assert_null(strstr(text, "\nvmha_last_self_fence_timestamp_seconds "));
        assert_null(strstr(text, "\nvmha_loop_longest_callback_seconds{"));
        /* The families themselves stay, so that their meaning is there. */
        assert_non_null(strstr(text, "# TYPE vmha_failures_tolerated gauge\n"));
        assert_true(has_line(text, "vmha_failures_to_tolerate 1"));
        free(text);
}

static void test_counters_that_nothing_increments_yet_are_zero(void **state) {
        struct metrics_fixture f;
        char *text;
        (void)state;

        metrics_fixture_init(&f);
        text = render(&f.snap, NULL);
        assert_true(has_line(text, "# TYPE vmha_vm_restarts_total counter"));
        assert_true(has_line(text, "vmha_vm_restarts_total 0"));
        assert_true(has_line(text, "vmha_vm_migrations_total 0"));
        assert_true(has_line(text, "vmha_self_fences_total 2"));
        free(text);
}

static void test_the_largest_pool_fits_and_a_larger_text_is_refused(void **state) {
        static struct metrics_host hosts[5000];
        struct metrics_fixture f;
        char *text = NULL;
        size_t len;
        (void)state;

        metrics_fixture_init(&f);
        for (size_t i = 0; i < 5000; i++) {
                char name[METRICS_NAME_MAX];
                /* 63 characters, all but three needing an escape. */
                snprintf(name, sizeof(name), "%03zu", i % 1000);
                for (size_t c = 3; c < METRICS_NAME_MAX - 1; c++)
                        name[c] = c % 2 ? '"' : '\\';
                name[METRICS_NAME_MAX - 1] = 0;
                metrics_fixture_host(&hosts[i], (uint32_t)i + 1, name, METRICS_HOST_ALIVE, true, 5000);
                assert_int_equal(strlen(hosts[i].name), METRICS_NAME_MAX - 1);
        }
        f.snap.hosts = hosts;
        f.snap.n_hosts = 255;
        text = render(&f.snap, &len);
        print_message("# 255 hosts with 63-character names: %zu bytes\n", len);
        assert_true(len < METRICS_TEXT_MAX);
        free(text);

        text = NULL;
        f.snap.n_hosts = 5000;
        assert_int_equal(metrics_render(&f.snap, &text, &len), -E2BIG);
        assert_null(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_family_has_help_and_type_before_its_samples),
                cmocka_unit_test(test_label_values_are_escaped_and_valid_utf8),
                cmocka_unit_test(test_each_host_has_exactly_one_current_state),
                cmocka_unit_test(test_histograms_are_cumulative_and_end_with_inf),
                cmocka_unit_test(test_seconds_are_exact_decimals),
                cmocka_unit_test(test_what_is_not_known_is_left_out),
                cmocka_unit_test(test_counters_that_nothing_increments_yet_are_zero),
                cmocka_unit_test(test_the_largest_pool_fits_and_a_larger_text_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
