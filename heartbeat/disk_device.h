/* Naming and inspecting the heartbeat device, with libblkid.
 *
 * A device is given as an absolute path or as LABEL=, UUID=, PARTUUID= or
 * PARTLABEL= with a value. vmha.conf and haadm check a name with the same
 * function, so a name one accepts the other accepts too. Before a region is
 * written, the device is probed so that a filesystem or a partition table
 * is never destroyed by accident.
 */
#pragma once

#include <stddef.h>

/* The tags a device name may use, for messages. */
#define DISK_DEVICE_TAGS "LABEL=, UUID=, PARTUUID= or PARTLABEL="

/* Is spec a valid device name? Returns 0, or -EINVAL and says why in
 * why (e.g. "'LABEL=' has no value"). */
int disk_device_spec_check(const char *spec, char *why, size_t why_len);

/* Resolves a device name to a path (malloc'd). Returns 0, -ENOENT when a
 * tag matches no device, -EINVAL when disk_device_spec_check() refuses
 * it. */
int disk_device_resolve(const char *spec, char **path);

/* What path is when disk_io_open() refused it with -EISDIR or -ENOTBLK:
 * "is a directory", "is a character device, not a block device or file",
 * ... For any other error, strerror(-r). */
const char *disk_device_open_error(const char *path, int r, char *buf, size_t len);

/* Probes for a filesystem, RAID member or partition table. Returns 1 and
 * describes it in what (e.g. "a filesystem (ext4)", "a partition
 * table (gpt)"), 0 when none is found, or a negative errno. */
int disk_device_probe(const char *path, char *what, size_t what_len);
