/* Names of VMs and hosts: one rule everywhere.
 *
 * `haadm vm set`, the pool description `haadm plan` reads and the daemon's
 * control requests all check a name with vmha_name_valid(): 1 to 63
 * ASCII letters, digits, '.', '_' or '-', not starting with '-'. Such a
 * name is safe everywhere it goes: on a terminal, in JSON output, in a
 * comma-separated list (`haadm plan --fail h1,h2`), as a command-line
 * argument, and it cannot hide a NUL that makes two names one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VMHA_NAME_MAX 64        /* buffer size: a name has at most 63 bytes */
#define VMHA_NAME_RULE "1-63 letters, digits, '.', '_' or '-', not starting with '-'"

/* Does s (len bytes, which may include NULs) follow the rule? */
bool vmha_name_valid(const char *s, size_t len);

/* Renders len bytes of untrusted text for a message: printable ASCII as it
 * is, '"' and '\' escaped, any other byte as \xHH, cut with "..." to fit
 * out_len. Returns out. */
const char *vmha_text_show(const char *s, size_t len, char *out, size_t out_len);
