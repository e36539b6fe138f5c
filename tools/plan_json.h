/* plan_json: the JSON pool description that `haadm plan` reads, turned into
 * a planner pool (the planner itself knows nothing of JSON).
 *
 *   {"failures_to_tolerate": 1, "allow_overcommit": false,
 *    "hosts": [{"name": "h1", "memory_mib": 262144, "state": "live"}, ...],
 *    "vms":   [{"name": "vm1", "memory_mib": 4096, "host": "h1",
 *              "priority": "restart", "order": 0, "start_delay_s": 0,
 *              "agile": true}, ...]}
 *
 * Optional: failures_to_tolerate (null: no target), allow_overcommit
 * (false), a host's state (live), a VM's host (null: halted), priority
 * (none), order (0), start_delay_s (0), agile (true). Unknown keys are
 * errors, so that a typo never silently changes the plan.
 */
#pragma once

#include <stddef.h>

struct plan_pool;

/* Parses text (the contents of the file `name`, which is used only in
 * messages). On error returns -EINVAL and writes into err a message that
 * starts with name and the JSON path, for example
 * `pool.json: vms[3].priority: unknown priority "sometimes" (expected
 * restart, best-effort or none)`; -ENOMEM when out of memory. */
int plan_json_parse(const char *name, const char *text, size_t len, struct plan_pool **ret, char *err,
                    size_t err_size);

/* Reads and parses a file; I/O errors are reported like parse errors. */
int plan_json_load(const char *path, struct plan_pool **ret, char *err, size_t err_size);
