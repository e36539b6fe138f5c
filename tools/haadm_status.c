/* haadm status as text: what vmhad's status reply says, for people.
 *
 * It lives apart from the IPC code so that the text can be checked without
 * a running vmhad: haadm_status_print() takes the reply as vmhad sends it.
 */
#include "tools/haadm_status.h"

#include <json-c/json.h>
#include <string.h>

const char *haadm_json_text(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return "-";
        return json_object_get_string(v);
}

bool haadm_json_true(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* Emergency mode is why a host takes no part in HA: each cause is shown
 * with its detail, and where to read more. */
static void print_emergency(FILE *out, json_object *self) {
        json_object *causes;
        size_t n;

        if (!json_object_object_get_ex(self, "emergency_causes", &causes) ||
            !json_object_is_type(causes, json_type_array) || (n = json_object_array_length(causes)) == 0)
                return;
        fprintf(out, "EMERGENCY MODE (%zu cause%s; 'haadm emergency' says what to do):\n", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(causes, i);
                fprintf(out, "  %s: %s\n", haadm_json_text(e, "cause"), haadm_json_text(e, "detail"));
        }
}

void haadm_status_print(FILE *out, json_object *r) {
        json_object *hosts = NULL, *pool = NULL, *self = NULL, *vms = NULL;
        const char *ntol;

        json_object_object_get_ex(r, "pool", &pool);
        json_object_object_get_ex(r, "self", &self);
        json_object_object_get_ex(r, "hosts", &hosts);
        json_object_object_get_ex(r, "vms", &vms);
        fprintf(out, "pool %s: HA %s, %s, config generation %s\n", haadm_json_text(pool, "cluster"),
                haadm_json_true(pool, "ha_enabled") ? "enabled" : "disabled",
                haadm_json_true(pool, "quorate") ? "quorate" : "NOT QUORATE",
                haadm_json_text(pool, "config_generation"));
        ntol = haadm_json_text(pool, "failures_tolerated");
        fprintf(out, "failures tolerated: %s%s (target %s, overcommit %s)%s\n", ntol,
                haadm_json_true(pool, "ntol_exact") || strcmp(ntol, "-") == 0 ? "" : " or more",
                haadm_json_text(pool, "failures_to_tolerate"),
                haadm_json_true(pool, "allow_overcommit") ? "allowed" : "refused",
                haadm_json_true(pool, "overcommitted") ? "  OVERCOMMITTED" : "");
        fprintf(out, "this host: %s: %s\n", haadm_json_text(self, "verdict"), haadm_json_text(self, "reason"));
        print_emergency(out, self);
        fprintf(out, "\n  %3s  %-16s %-9s %-6s %-7s %-12s %s\n", "id", "host", "state", "master", "network", "disk",
                "maintenance");
        for (size_t i = 0; hosts && i < json_object_array_length(hosts); i++) {
                json_object *h = json_object_array_get_idx(hosts, i), *age;
                char disk[32];
                if (json_object_object_get_ex(h, "disk_age_ms", &age) && age)
                        snprintf(disk, sizeof(disk), "%s %.1fs", haadm_json_true(h, "disk") ? "yes" : "no",
                                 json_object_get_int64(age) / 1000.0);
                else
                        snprintf(disk, sizeof(disk), "never seen");
                fprintf(out, "  %3s  %-16s %-9s %-6s %-7s %-12s %s\n", haadm_json_text(h, "id"),
                        haadm_json_text(h, "name"), haadm_json_text(h, "state"),
                        haadm_json_true(h, "master") ? "yes" : "", haadm_json_true(h, "network") ? "yes" : "no",
                        disk, haadm_json_true(h, "maintenance") ? "on" : "");
        }
        fprintf(out, "\n%zu protected VM(s)\n", vms ? json_object_array_length(vms) : 0);
}
