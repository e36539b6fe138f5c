/* The text of `haadm status`, from vmhad's status reply (haadm_status.c). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct json_object;

/* Prints the pool, this host (with every emergency cause and its detail
 * when there are any), the host table and the VM count. */
void haadm_status_print(FILE *out, struct json_object *reply);

/* A field of a reply as text ("-" when it is missing or null), and
 * whether a field is true. */
const char *haadm_json_text(struct json_object *o, const char *key);
bool haadm_json_true(struct json_object *o, const char *key);
