/* The control protocol's request parser: valid requests round-trip, and
 * every malformed one is refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ipc_proto.h"

static char err[IPC_ERROR_MAX];

static int parse(const char *s, struct ipc_request *r) {
        return ipc_request_parse(s, strlen(s), r, err);
}

static void test_status_without_args_parses(void **state) {
        struct ipc_request r;
        (void)state;
        assert_int_equal(parse("{\"op\":\"status\"}", &r), 0);
        assert_int_equal(r.op, IPC_OP_STATUS);
        assert_int_equal(parse("  {\"op\":\"vm_list\", \"args\": {}}\n", &r), 0);
        assert_int_equal(r.op, IPC_OP_VM_LIST);
}

static void test_vm_set_reads_every_field(void **state) {
        struct ipc_request r;
        (void)state;
        assert_int_equal(parse("{\"op\":\"vm_set\",\"args\":{\"name\":\"vm-a\",\"priority\":\"best-effort\","
                               "\"order\":-3,\"start_delay_s\":10,\"memory_mib\":8192,\"config\":\"/etc/xen/a.cfg\"}}",
                               &r), 0);
        assert_string_equal(r.vm, "vm-a");
        assert_true(r.has_priority);
        assert_int_equal(r.priority, IPC_PRIORITY_BEST_EFFORT);
        assert_int_equal(r.order, -3);
        assert_int_equal(r.start_delay_s, 10);
        assert_int_equal(r.memory_mib, 8192);
        assert_string_equal(r.config, "/etc/xen/a.cfg");
}

static void expect_refused(const char *s, const char *message);

static void test_format_then_parse_round_trips(void **state) {
        struct ipc_request r = { .op = IPC_OP_VM_SET, .has_priority = true, .priority = IPC_PRIORITY_RESTART,
                                 .has_memory = true, .memory_mib = 1024, .has_order = true, .order = 7 }, back;
        char *json;
        (void)state;
        strcpy(r.vm, "web-1");
        assert_int_equal(ipc_request_format(&r, &json), 0);
        assert_int_equal(parse(json, &back), 0);
        assert_memory_equal(&r, &back, sizeof(r));
        free(json);

        struct ipc_request m = { .op = IPC_OP_HOST_MAINTENANCE, .on = true };
        strcpy(m.host, "h2");
        assert_int_equal(ipc_request_format(&m, &json), 0);
        assert_int_equal(parse(json, &back), 0);
        assert_memory_equal(&m, &back, sizeof(m));
        free(json);

        for (int op = IPC_OP_VM_START; op <= IPC_OP_VM_STOP; op++) {
                struct ipc_request v = { .op = (enum ipc_op)op };
                strcpy(v.vm, "db");
                assert_int_equal(ipc_request_format(&v, &json), 0);
                assert_non_null(strstr(json, op == IPC_OP_VM_START ? "\"vm_start\"" : "\"vm_stop\""));
                assert_int_equal(parse(json, &back), 0);
                assert_memory_equal(&v, &back, sizeof(v));
                free(json);
        }
        expect_refused("{\"op\":\"vm_start\"}", "vm_start: missing argument 'name'");
        expect_refused("{\"op\":\"vm_stop\",\"args\":{\"name\":\"a\",\"on\":\"h1\"}}",
                       "vm_stop: unknown argument 'on'");
}

static void expect_refused(const char *s, const char *message) {
        struct ipc_request r;
        assert_int_equal(parse(s, &r), -EBADMSG);
        assert_string_equal(err, message);
}

static void test_malformed_requests_are_refused_with_a_reason(void **state) {
        (void)state;
        expect_refused("", "empty request");
        expect_refused("{\"op\":", "malformed JSON: incomplete");
        expect_refused("[1,2]", "expected a JSON object at the top level");
        expect_refused("42", "expected a JSON object at the top level");
        expect_refused("{\"op\":\"status\"} x", "malformed JSON: unexpected character");
        expect_refused("{\"op\":\"status\"}{\"op\":\"status\"}", "malformed JSON: unexpected character");
        expect_refused("{\"args\":{}}", "missing \"op\" string");
        expect_refused("{\"op\":7}", "missing \"op\" string");
        expect_refused("{\"op\":\"reboot\"}", "unknown op 'reboot'");
        expect_refused("{\"op\":\"status\",\"extra\":1}", "unknown field 'extra'");
        expect_refused("{\"op\":\"status\",\"args\":[]}", "\"args\" must be an object");
        expect_refused("{\"op\":\"vm_set\",\"args\":{}}", "vm_set: missing argument 'name'");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"prio\":\"restart\"}}",
                       "vm_set: unknown argument 'prio'");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a b\"}}",
                       "args.name: invalid name (" VMHA_NAME_RULE ")");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"priority\":\"sometimes\"}}",
                       "args.priority: expected \"restart\", \"best-effort\" or \"none\"");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"memory_mib\":0}}",
                       "args.memory_mib: 0 is out of range 1..16777216");
        /* 16 TiB, as haadm vm set --memory and vmha.conf's vm_memory_mib. */
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"memory_mib\":16777217}}",
                       "args.memory_mib: 16777217 is out of range 1..16777216");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"memory_mib\":\"4096\"}}",
                       "args.memory_mib: expected an integer");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\",\"config\":\"relative.cfg\"}}",
                       "args.config: expected an absolute path shorter than 256 bytes");
        expect_refused("{\"op\":\"host_maintenance\",\"args\":{\"host\":\"h1\"}}",
                       "host_maintenance: missing argument 'on'");
        expect_refused("{\"op\":\"host_maintenance\",\"args\":{\"host\":\"h1\",\"on\":1}}",
                       "args.on: expected true or false");
        expect_refused("{\"op\":\"pool_set\",\"args\":{}}", "pool_set: nothing to set");
        expect_refused("{\"op\":\"vm_set\",\"args\":{\"name\":\"a\"}}", "vm_set: nothing to change");
        expect_refused("{\"op\":\"pool_set\",\"args\":{\"failures_to_tolerate\":-1}}",
                       "args.failures_to_tolerate: -1 is out of range 0..254");
        expect_refused("{\"op\":\"status\",\"args\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":1}}}}}}}}}",
                       "malformed JSON: nesting too deep");
}

static void test_lax_json_is_refused(void **state) {
        (void)state;
        expect_refused("{\"op\":\"status\",\"op\":\"vm_list\"}",
                       "malformed JSON: key \"op\" appears twice in one object");
        expect_refused("{\"op\":\"status\",\"o\\u0070\":\"vm_list\"}",
                       "malformed JSON: key \"op\" appears twice in one object");
        expect_refused("{\"op\":\"vm_remove\",\"args\":{\"name\":\"a\",\"name\":\"b\"}}",
                       "malformed JSON: key \"name\" appears twice in one object");
        expect_refused("{'op':\"status\"}", "malformed JSON: single-quoted strings are not JSON (use \")");
        expect_refused("{\"op\":\"status\",}", "malformed JSON: unexpected character");
        expect_refused("{\"op\":\"status\" /* why */}", "malformed JSON: object value separator ',' expected");
        expect_refused("{\"op\":\"pool_set\",\"args\":{\"failures_to_tolerate\":NaN}}",
                       "malformed JSON: NaN and Infinity are not JSON numbers");
}

static void test_names_follow_the_shared_rule(void **state) {
        struct ipc_request r;
        (void)state;
        expect_refused("{\"op\":\"vm_remove\",\"args\":{\"name\":\"h\\u001b[31m\"}}",
                       "args.name: invalid name (" VMHA_NAME_RULE ")");
        expect_refused("{\"op\":\"host_fence\",\"args\":{\"host\":\"a,b\"}}",
                       "args.host: invalid name (" VMHA_NAME_RULE ")");
        expect_refused("{\"op\":\"host_fence\",\"args\":{\"host\":\"-h1\"}}",
                       "args.host: invalid name (" VMHA_NAME_RULE ")");
        expect_refused("{\"op\":\"host_fence\",\"args\":{\"host\":\"h\\u00e9\"}}",
                       "args.host: invalid name (" VMHA_NAME_RULE ")");
        assert_int_equal(parse("{\"op\":\"host_fence\",\"args\":{\"host\":\"h1.pool_a-2\"}}", &r), 0);
        assert_string_equal(r.host, "h1.pool_a-2");
}

static void test_embedded_nul_and_oversize_are_refused(void **state) {
        struct ipc_request r;
        static char big[IPC_MAX_MESSAGE + 2];
        const char nul[] = "{\"op\":\"vm_remove\",\"args\":{\"name\":\"a\\u0000b\"}}";
        (void)state;
        assert_int_equal(parse(nul, &r), -EBADMSG);
        assert_string_equal(err, "args.name: invalid name (" VMHA_NAME_RULE ")");
        memset(big, ' ', sizeof(big) - 1);
        assert_int_equal(ipc_request_parse(big, sizeof(big) - 1, &r, err), -EBADMSG);
        assert_string_equal(err, "request of 65537 bytes exceeds the limit of 65536");
}

static void test_metrics_takes_no_arguments_and_refuses_garbled_ones(void **state) {
        struct ipc_request r = { .op = IPC_OP_METRICS }, back;
        char *json;
        (void)state;
        assert_int_equal(parse("{\"op\":\"metrics\"}", &r), 0);
        assert_int_equal(r.op, IPC_OP_METRICS);
        assert_int_equal(parse("{\"op\":\"metrics\",\"args\":{}}", &r), 0);
        assert_int_equal(ipc_request_format(&r, &json), 0);
        assert_int_equal(parse(json, &back), 0);
        assert_memory_equal(&r, &back, sizeof(r));
        free(json);
        expect_refused("{\"op\":\"metrics\",\"args\":{\"format\":\"json\"}}", "metrics: unknown argument 'format'");
        expect_refused("{\"op\":\"metrics\",\"args\":\"all\"}", "\"args\" must be an object");
        expect_refused("{\"op\":\"metrics\",\"since\":0}", "unknown field 'since'");
        expect_refused("{\"op\":\"Metrics\"}", "unknown op 'Metrics'");
        expect_refused("{\"op\":\"metrics\"", "malformed JSON: incomplete");
        expect_refused("{\"op\":\"metrics\",\"op\":\"metrics\"}",
                       "malformed JSON: key \"op\" appears twice in one object");
        {
                static const char nul_after[] = "{\"op\":\"metrics\"}\n\0";       /* a NUL past the object */
                assert_int_equal(ipc_request_parse(nul_after, sizeof(nul_after) - 1, &r, err), -EBADMSG);
                assert_string_equal(err, "malformed JSON: data after the top-level object");
        }
        assert_string_equal(ipc_op_name(IPC_OP_METRICS), "metrics");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_without_args_parses),
                cmocka_unit_test(test_vm_set_reads_every_field),
                cmocka_unit_test(test_format_then_parse_round_trips),
                cmocka_unit_test(test_malformed_requests_are_refused_with_a_reason),
                cmocka_unit_test(test_lax_json_is_refused),
                cmocka_unit_test(test_names_follow_the_shared_rule),
                cmocka_unit_test(test_embedded_nul_and_oversize_are_refused),
                cmocka_unit_test(test_metrics_takes_no_arguments_and_refuses_garbled_ones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
