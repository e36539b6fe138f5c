/* haadm status as text, from vmhad's reply: the pool line, this host's
 * verdict, and every emergency cause with its detail when there are any. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tools/haadm_status.h"

static const char reply_head[] =
        "{\"pool\": {\"cluster\": \"pool-a\", \"ha_enabled\": true, \"quorate\": true, \"config_generation\": 7,"
        " \"failures_tolerated\": 1, \"ntol_exact\": true, \"failures_to_tolerate\": 1,"
        " \"allow_overcommit\": false, \"overcommitted\": false},"
        " \"hosts\": [{\"id\": 1, \"name\": \"h1\", \"state\": \"ALIVE\", \"master\": true, \"network\": true,"
        " \"disk\": true, \"disk_age_ms\": 1500, \"maintenance\": false}],"
        " \"vms\": [],"
        " \"self\": {\"id\": 1, \"verdict\": \"SURVIVE\", \"reason\": \"quorate\", \"emergency\": %s,"
        " \"emergency_causes\": %s}}";

/* The text for a reply with these causes (caller frees). */
static char *status_text(const char *emergency, const char *causes) {
        char json[2048], *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        json_object *r;

        snprintf(json, sizeof(json), reply_head, emergency, causes);
        r = json_tokener_parse(json);
        assert_non_null(r);
        assert_non_null(out);
        haadm_status_print(out, r);
        fclose(out);
        json_object_put(r);
        return text;
}

static void test_status_shows_every_emergency_cause_with_its_detail(void **state) {
        char *text;

        (void)state;
        text = status_text("true", "[{\"cause\": \"heartbeat-device-missing\", \"detail\": \"/dev/sdb: no such device\"},"
                                   " {\"cause\": \"watchdog-unavailable\", \"detail\": \"no watchdog device\"}]");
        assert_non_null(strstr(text, "this host: SURVIVE: quorate\n"
                                     "EMERGENCY MODE (2 causes; 'haadm emergency' says what to do):\n"
                                     "  heartbeat-device-missing: /dev/sdb: no such device\n"
                                     "  watchdog-unavailable: no watchdog device\n"));
        free(text);
}

static void test_status_without_causes_says_nothing_of_emergency(void **state) {
        char *text;

        (void)state;
        text = status_text("false", "[]");
        assert_non_null(strstr(text, "pool pool-a: HA enabled, quorate, config generation 7\n"));
        assert_non_null(strstr(text, "this host: SURVIVE: quorate\n\n"));
        assert_null(strstr(text, "EMERGENCY"));
        assert_non_null(strstr(text, "h1"));
        assert_non_null(strstr(text, "yes 1.5s"));
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_shows_every_emergency_cause_with_its_detail),
                cmocka_unit_test(test_status_without_causes_says_nothing_of_emergency),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
