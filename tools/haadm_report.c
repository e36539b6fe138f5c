/* haadm pool show and the outcome of change commands, from vmhad's replies
 * (see haadm_report.h). It lives apart from the IPC code so that what it
 * prints can be checked without a running vmhad.
 */
#include "tools/haadm_report.h"
#include "tools/haadm.h"
#include "tools/haadm_status.h"

#include <json-c/json.h>
#include <string.h>

static void print_json(FILE *out, json_object *o) {
        fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void haadm_error_json(FILE *out, const char *command, const char *msg, int status) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "command", command ? json_object_new_string(command) : NULL);
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "exit_status", json_object_new_int(status));
        print_json(out, o);
        json_object_put(o);
}

static void print_config_disk(FILE *out, json_object *pool) {
        json_object *cd, *err;

        if (!json_object_object_get_ex(pool, "config_disk", &cd) || !cd)
                return;
        fprintf(out, "  config on disk        %s of %s bytes per copy%s; room for %s VMs in the worst case\n",
                haadm_json_text(cd, "stored_bytes"), haadm_json_text(cd, "capacity_bytes"),
                json_object_object_get_ex(cd, "fits", &err) && err && !json_object_get_boolean(err) ?
                        " (DOES NOT FIT)" : "",
                haadm_json_text(cd, "vms_guaranteed"));
        if (json_object_object_get_ex(cd, "write_error", &err) && err)
                fprintf(out, "  config write          FAILING: %s (see the journal of vmhad)\n",
                        json_object_get_string(err));
}

void haadm_pool_print(FILE *out, json_object *pool) {
        const char *ntol = haadm_json_text(pool, "failures_tolerated");
        json_object *note;

        fprintf(out, "pool %s\n", haadm_json_text(pool, "cluster"));
        fprintf(out, "  HA                    %s\n", haadm_json_true(pool, "ha_enabled") ? "enabled" : "disabled");
        if (strcmp(ntol, "-") != 0)
                fprintf(out, "  failures to tolerate  %s (the pool tolerates %s%s now%s)\n",
                        haadm_json_text(pool, "failures_to_tolerate"), ntol,
                        haadm_json_true(pool, "ntol_exact") ? "" : " or more",
                        haadm_json_true(pool, "overcommitted") ? ": OVERCOMMITTED" : "");
        else
                fprintf(out, "  failures to tolerate  %s (%s)\n", haadm_json_text(pool, "failures_to_tolerate"),
                        json_object_object_get_ex(pool, "ntol_note", &note) && note ? json_object_get_string(note) :
                                                                                     "failures tolerated unknown");
        fprintf(out, "  overcommit            %s\n", haadm_json_true(pool, "allow_overcommit") ? "allowed" : "refused");
        fprintf(out, "  config generation     %s\n", haadm_json_text(pool, "config_generation"));
        fprintf(out, "  timeout               %s s\n", haadm_json_text(pool, "timeout_s"));
        fprintf(out, "  quorate               %s\n", haadm_json_true(pool, "quorate") ? "yes" : "NO");
        print_config_disk(out, pool);
}

static bool reply_ok(json_object *r) {
        json_object *ok;
        return json_object_object_get_ex(r, "ok", &ok) ? json_object_get_boolean(ok) : true;
}

int haadm_change_report(FILE *out, FILE *err, const char *command, json_object *request, json_object *reply,
                        const char *done, bool json) {
        json_object *o, *v;

        if (!reply_ok(reply)) {
                const char *why = json_object_object_get_ex(reply, "error", &v) && v ? json_object_get_string(v) :
                                                                                      "unknown error";
                if (json)
                        haadm_error_json(out, command, why, HAADM_EXIT_FAIL);
                else
                        fprintf(err, "haadm: %s\n", why);
                return HAADM_EXIT_FAIL;
        }
        if (!json) {
                fprintf(out, "%s\n", done);
                return HAADM_EXIT_OK;
        }
        o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "command", json_object_new_string(command));
        json_object_object_add(o, "request", request ? json_object_get(request) : json_object_new_object());
        if (json_object_object_get_ex(reply, "generation", &v))
                json_object_object_add(o, "generation", json_object_get(v));
        json_object_object_add(o, "result", json_object_object_get_ex(reply, "result", &v) ? json_object_get(v) : NULL);
        json_object_object_add(o, "message", json_object_new_string(done));
        print_json(out, o);
        json_object_put(o);
        return HAADM_EXIT_OK;
}
