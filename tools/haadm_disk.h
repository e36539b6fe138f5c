/* haadm disk: the pieces its files share (haadm_disk.c: init and the
 * command group; haadm_disk_dump.c: dump; haadm_disk_config.c: the HA
 * configuration a config copy holds, decoded for dump).
 */
#pragma once

/* libblkid has no prober for a vmha region and no way to add one from
 * outside util-linux: blkid, mkfs and wipefs see nothing there. Said where
 * an administrator makes or inspects a region. */
#define HAADM_BLKID_NOTE \
        "note: blkid, mkfs and wipefs do not recognise a vmha region: they do not warn before\n" \
        "  overwriting it, and UUID= or LABEL= name a filesystem, never this region; name the\n" \
        "  device by its /dev/disk/by-id path, PARTUUID= or PARTLABEL=\n"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "heartbeat/disk_io.h"
#include "heartbeat/disk_region.h"

#define HAADM_DISK_IO_TIMEOUT_MS 5000u

extern const char haadm_disk_usage[];

/* Opens DEVICE (a path, relative ones too, or LABEL=... and friends).
 * Returns HAADM_EXIT_OK, or an exit status after saying what is wrong. */
int haadm_disk_open(const char *spec, enum disk_io_mode mode, struct disk_io **io);

int haadm_disk_dump(int argc, char **argv);

/* The state of a dump: the region, the output form, and how many
 * structures were found corrupt. */
struct haadm_dump {
        struct disk_region *reg;
        bool json;
        unsigned corrupt;
        json_object *root;
};

/* Both config copies: each copy's header and whether it is valid (its
 * checksum, its compressed stream and the snapshot inside); then the HA
 * configuration of the current copy in full: the pool's settings, the
 * hosts in maintenance and every VM with its fields. A corrupt copy is
 * reported with its reason and never decoded. Returns 0 or a negative
 * errno for an I/O error. */
int haadm_dump_config(struct haadm_dump *d);
