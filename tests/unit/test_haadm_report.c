/* What haadm prints from vmhad's replies to pool show and to the change
 * commands, text and --json, from canned replies: no vmhad needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tools/haadm.h"
#include "tools/haadm_report.h"

static const char pool_reply[] =
        "{\"cluster\": \"pool-a\", \"ha_enabled\": true, \"failures_to_tolerate\": 1, \"allow_overcommit\": false,"
        " \"config_generation\": 7, \"timeout_s\": 5.0, \"quorate\": true, \"failures_tolerated\": 2,"
        " \"ntol_exact\": true, \"overcommitted\": false,"
        " \"config_disk\": {\"capacity_bytes\": 1441792, \"vms_guaranteed\": 4096, \"snapshot_bytes\": 1263,"
        " \"stored_bytes\": 512, \"worst_case_bytes\": 1341, \"fits\": true, \"write_error\": %s}}";

struct out {
        char *text, *err;
        size_t len, err_len;
        FILE *f, *ef;
};

static void out_open(struct out *o) {
        memset(o, 0, sizeof(*o));
        o->f = open_memstream(&o->text, &o->len);
        o->ef = open_memstream(&o->err, &o->err_len);
        assert_non_null(o->f);
        assert_non_null(o->ef);
}

static void out_close(struct out *o) {
        fclose(o->f);
        fclose(o->ef);
}

static void out_free(struct out *o) {
        free(o->text);
        free(o->err);
}

static char *pool_text(const char *write_error) {
        char json[2048];
        struct out o;
        json_object *pool;

        snprintf(json, sizeof(json), pool_reply, write_error);
        pool = json_tokener_parse(json);
        assert_non_null(pool);
        out_open(&o);
        haadm_pool_print(o.f, pool);
        out_close(&o);
        json_object_put(pool);
        free(o.err);
        return o.text;
}

static void test_pool_show_prints_every_setting(void **state) {
        char *text = pool_text("null");

        (void)state;
        assert_string_equal(text,
                            "pool pool-a\n"
                            "  HA                    enabled\n"
                            "  failures to tolerate  1 (the pool tolerates 2 now)\n"
                            "  overcommit            refused\n"
                            "  config generation     7\n"
                            "  timeout               5.0 s\n"
                            "  quorate               yes\n"
                            "  config on disk        512 of 1441792 bytes per copy; room for 4096 VMs in the worst case\n");
        free(text);
}

static void test_pool_show_says_when_the_configuration_is_not_written(void **state) {
        char *text = pool_text("\"does not fit a config copy\"");

        (void)state;
        assert_non_null(strstr(text, "  config write          FAILING: does not fit a config copy (see the journal "
                                     "of vmhad)\n"));
        free(text);
}

/* The outcome of a change for reply, as text or JSON; *status its exit status. */
static void report(const char *reply, bool json, struct out *o, int *status) {
        json_object *r = json_tokener_parse(reply);
        json_object *req = json_tokener_parse("{\"name\": \"db1\", \"memory_mib\": 8192}");

        assert_non_null(r);
        out_open(o);
        *status = haadm_change_report(o->f, o->ef, "vm set", req, r, "db1 updated", json);
        out_close(o);
        json_object_put(r);
        json_object_put(req);
}

static const char ok_reply[] =
        "{\"ok\": true, \"generation\": 12, \"result\": {\"name\": \"db1\", \"memory_mib\": 8192, \"owner\": null}}";
static const char refused_reply[] = "{\"ok\": false, \"error\": \"refused: the HA configuration would need 9 bytes\"}";

static void test_a_change_in_text_says_what_was_done(void **state) {
        struct out o;
        int status;

        (void)state;
        report(ok_reply, false, &o, &status);
        assert_int_equal(status, HAADM_EXIT_OK);
        assert_string_equal(o.text, "db1 updated\n");
        assert_string_equal(o.err, "");
        out_free(&o);
        report(refused_reply, false, &o, &status);
        assert_int_equal(status, HAADM_EXIT_FAIL);
        assert_string_equal(o.text, "");
        assert_string_equal(o.err, "haadm: refused: the HA configuration would need 9 bytes\n");
        out_free(&o);
}

static void test_a_change_in_json_describes_the_outcome(void **state) {
        json_object *j, *v;
        struct out o;
        int status;

        (void)state;
        report(ok_reply, true, &o, &status);
        assert_int_equal(status, HAADM_EXIT_OK);
        assert_string_equal(o.err, "");
        j = json_tokener_parse(o.text);
        assert_non_null(j);
        assert_true(json_object_object_get_ex(j, "ok", &v) && json_object_get_boolean(v));
        assert_true(json_object_object_get_ex(j, "command", &v));
        assert_string_equal(json_object_get_string(v), "vm set");
        assert_true(json_object_object_get_ex(j, "generation", &v) && json_object_get_int(v) == 12);
        assert_true(json_object_object_get_ex(j, "request", &v));
        assert_string_equal(json_object_to_json_string(v), "{ \"name\": \"db1\", \"memory_mib\": 8192 }");
        assert_true(json_object_object_get_ex(j, "result", &v));
        assert_true(json_object_object_get_ex(v, "memory_mib", &v) && json_object_get_int(v) == 8192);
        assert_true(json_object_object_get_ex(j, "message", &v));
        assert_string_equal(json_object_get_string(v), "db1 updated");
        json_object_put(j);
        out_free(&o);
}

static void test_a_refused_change_in_json_is_an_error_object_with_the_same_status(void **state) {
        json_object *j, *v;
        struct out o;
        int status;

        (void)state;
        report(refused_reply, true, &o, &status);
        assert_int_equal(status, HAADM_EXIT_FAIL);
        assert_string_equal(o.err, "");
        j = json_tokener_parse(o.text);
        assert_non_null(j);
        assert_true(json_object_object_get_ex(j, "ok", &v) && !json_object_get_boolean(v));
        assert_true(json_object_object_get_ex(j, "error", &v));
        assert_string_equal(json_object_get_string(v), "refused: the HA configuration would need 9 bytes");
        assert_true(json_object_object_get_ex(j, "exit_status", &v) && json_object_get_int(v) == HAADM_EXIT_FAIL);
        assert_true(json_object_object_get_ex(j, "command", &v));
        assert_string_equal(json_object_get_string(v), "vm set");
        json_object_put(j);
        out_free(&o);
}

/* host fence is no HA state change: its reply has no generation. */
static void test_an_outcome_without_a_generation_leaves_it_out(void **state) {
        json_object *j;
        struct out o;
        int status;

        (void)state;
        report("{\"ok\": true, \"seq\": 4, \"result\": {\"host\": \"h2\", \"mailbox_seq\": 4}}", true, &o, &status);
        assert_int_equal(status, HAADM_EXIT_OK);
        j = json_tokener_parse(o.text);
        assert_non_null(j);
        assert_false(json_object_object_get_ex(j, "generation", NULL));
        json_object_put(j);
        out_free(&o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pool_show_prints_every_setting),
                cmocka_unit_test(test_pool_show_says_when_the_configuration_is_not_written),
                cmocka_unit_test(test_a_change_in_text_says_what_was_done),
                cmocka_unit_test(test_a_change_in_json_describes_the_outcome),
                cmocka_unit_test(test_a_refused_change_in_json_is_an_error_object_with_the_same_status),
                cmocka_unit_test(test_an_outcome_without_a_generation_leaves_it_out),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
