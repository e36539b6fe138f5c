/* The config of a sim VM: a small, strict subset of the xl domain config.
 *
 *   name = "vm-a"                    # the name rule of daemon/name.h
 *   memory = 512                     # MiB
 *   disk = [ '/var/lib/vmha-sim/vm-a.disk' ]   # its virtual disk, absolute
 *   port = 8001                      # optional: the TCP port it serves
 *
 * Strings take single or double quotes; disk is one absolute path, bare or
 * as a one-element list. Every key at most once; an unknown key is an
 * error, not ignored as xl would, so a typo cannot run a VM without what
 * the administrator believes it has. vmha-simvm reads it to run; vmhad's
 * sim driver reads it to refuse a config that does not parse before it
 * protects the VM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/name.h"

#define SIMVM_PATH_MAX 256u
#define SIMVM_FILE_MAX 16384u
#define SIMVM_ERROR_MAX 320u
#define SIMVM_MEMORY_MAX_MIB (16ull * 1024 * 1024)

struct simvm_config {
        char name[VMHA_NAME_MAX];
        uint64_t memory_mib;
        char disk[SIMVM_PATH_MAX];
        uint16_t port;                  /* 0: serves no port */
};

/* Parses text (len bytes; `what` names it in messages). 0, or -EINVAL with
 * "what:LINE: reason" in err; *out is written only on success. */
int simvm_config_parse(const char *text, size_t len, const char *what, struct simvm_config *out, char *err,
                       size_t err_len);
/* Reads and parses the file at path: 0, or a negative errno with the
 * reason (a missing file, a file too large, a parse error) in err. */
int simvm_config_load(const char *path, struct simvm_config *out, char *err, size_t err_len);
