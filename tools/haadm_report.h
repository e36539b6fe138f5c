/* What haadm prints from vmhad's replies to `pool show` and to the
 * commands that change the pool (haadm_report.c): text for people, or with
 * --json one JSON object on standard output, on success and on error
 * alike, with the same exit status either way.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct json_object;

/* The text of `haadm pool show`: every pool setting and what goes with it
 * (the failures tolerated now, the configuration's generation and its room
 * on the disk), from the "pool" object of vmhad's status reply. */
void haadm_pool_print(FILE *out, struct json_object *pool);

/* The outcome of a change command: reply is vmhad's answer to request
 * (the request's "args", as sent). Text: `done` on out, or vmhad's reason
 * on err. JSON: {"ok": true, "command", "request", "generation" (of the HA
 * state the change made, when it is one), "result", "message"}
 * or {"ok": false, "command", "error", "exit_status"} on out. Returns the
 * exit status: 0, or 1 for a refused change. */
int haadm_change_report(FILE *out, FILE *err, const char *command, struct json_object *request,
                        struct json_object *reply, const char *done, bool json);

/* {"ok": false, "command": command, "error": msg, "exit_status": status} on out. */
void haadm_error_json(FILE *out, const char *command, const char *msg, int status);
