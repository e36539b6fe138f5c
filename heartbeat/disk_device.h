/* Naming and inspecting the heartbeat device, with libblkid.
 *
 * A device is given as a path or as LABEL=, UUID= or PARTUUID=. Before a
 * region is written, the device is probed so that a filesystem or a
 * partition table is never destroyed by accident.
 */
#pragma once

#include <stddef.h>

/* Resolves a device spec to a path (malloc'd). Returns 0, -ENOENT when a
 * tag matches no device, -EINVAL for an unknown tag. */
int disk_device_resolve(const char *spec, char **path);

/* Probes for a filesystem, RAID member or partition table. Returns 1 and
 * describes it in what (e.g. "a filesystem (ext4)", "a partition
 * table (gpt)"), 0 when none is found, or a negative errno. */
int disk_device_probe(const char *path, char *what, size_t what_len);
