/* haadm disk: create and inspect the heartbeat region.
 *
 * `init` refuses anything that looks like data (a filesystem, a partition
 * table, another vmha region) unless --force is given, and writes nothing
 * when it refuses. It sizes the config copies for the largest HA
 * configuration vmhad accepts, or for --vms N VMs with the longest names
 * and config paths. `dump` (haadm_disk_dump.c) decodes every structure on
 * its own, so one corrupt block is reported without hiding the rest.
 */
#include "core/hastate_disk.h"
#include "daemon/config.h"
#include "heartbeat/disk_device.h"
#include "heartbeat/disk_format.h"
#include "heartbeat/disk_io.h"
#include "heartbeat/disk_region.h"
#include "tools/haadm.h"
#include "tools/haadm_disk.h"

#include <ctype.h>
#include <errno.h>
#include <endian.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS HAADM_DISK_IO_TIMEOUT_MS

const char haadm_disk_usage[] =
        "usage: haadm disk init DEVICE --cluster NAME [--slots N] [--timeout SECONDS] [--vms N] [--force]\n"
        "       haadm disk dump DEVICE [--json]\n"
        "\n"
        "init   write a fresh heartbeat region at the start of DEVICE.\n"
        "       --cluster NAME     cluster name (1-63 characters: letters, digits, . _ -)\n"
        "       --slots N          host slots, 1..255 (default 64)\n"
        "       --timeout SECONDS  the pool's timeout, 2..600 (default 5); everything\n"
        "                          else (disk interval, watchdog) derives from it\n"
        "       --vms N            size the HA configuration copies for N VMs with the\n"
        "                          longest names and config paths, 1..4096 (default\n"
        "                          4096: any configuration vmhad accepts fits); vmhad\n"
        "                          refuses a change that would not fit\n"
        "       --force            overwrite a device that holds a filesystem, a\n"
        "                          partition table or another vmha region\n"
        "dump   print the superblock and every slot, mailbox, claim area and config\n"
        "       copy, and the HA configuration (pool settings, VMs) the current copy\n"
        "       holds. Exit status 0 when all is valid, 1 when something is corrupt,\n"
        "       2 on usage or I/O errors.\n"
        "       --json             one JSON object instead of tables\n"
        "\n"
        "DEVICE is a path or LABEL=..., UUID=..., PARTUUID=..., PARTLABEL=... (resolved with\n"
        "libblkid).\n";

/* On the command line a path may be relative to the current directory;
 * otherwise a device name is checked as vmha.conf checks it. */
int haadm_disk_open(const char *spec, enum disk_io_mode mode, struct disk_io **io) {
        char *abs = NULL, *path = NULL, why[512];
        int r;

        if (spec[0] && spec[0] != '/' && !strchr(spec, '=')) {
                char *cwd = get_current_dir_name();
                if (!cwd || asprintf(&abs, "%s/%s", cwd, spec) < 0) {
                        free(cwd);
                        return haadm_usage_error("%s: cannot make an absolute path: %s", spec, strerror(errno));
                }
                free(cwd);
        }
        if (disk_device_spec_check(abs ? abs : spec, why, sizeof(why)) < 0) {
                free(abs);
                return haadm_usage_error("device %s", why);
        }
        r = disk_device_resolve(abs ? abs : spec, &path);
        free(abs);
        if (r == -ENOENT)
                return haadm_usage_error("%s: no such device", spec);
        if (r < 0)
                return haadm_usage_error("%s: %s", spec, strerror(-r));
        r = disk_io_open(path, mode, io);
        if (r < 0) {
                haadm_usage_error("%s: %s%s", path, r == -EISDIR || r == -ENOTBLK ? "" : "cannot open: ",
                                  disk_device_open_error(path, r, why, sizeof(why)));
                free(path);
                return HAADM_EXIT_USAGE;
        }
        free(path);
        return HAADM_EXIT_OK;
}

static bool cluster_name_ok(const char *s) {
        size_t n = strlen(s);
        if (n < 1 || n >= DISK_CLUSTER_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
                        return false;
        return true;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
        char *end;
        unsigned long v;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

/* Does the device already hold a vmha region? Returns 1 and describes it
 * (an older layout version too: --force replaces it), or 2 for a region of
 * a newer layout version, which this build must not be asked to overwrite. */
static int existing_region(struct disk_io *io, char *what, size_t len) {
        struct disk_super sb;
        struct disk_error err;
        void *buf;
        int r = 0, d;

        if (posix_memalign(&buf, DISK_BLOCK_SIZE, DISK_BLOCK_SIZE) != 0)
                return -ENOMEM;
        if (disk_io_pread(io, buf, DISK_BLOCK_SIZE, 0, IO_TIMEOUT_MS) == 0) {
                d = disk_super_decode(buf, DISK_BLOCK_SIZE, &sb, &err);
                if (d == 0) {
                        char u[37];
                        disk_uuid_format(sb.uuid, u);
                        snprintf(what, len, "the vmha heartbeat region of cluster '%s' (%s)",
                                 sb.cluster_name, u);
                        r = 1;
                } else if (d == -EPROTO) {
                        const struct disk_raw_header *h = buf;
                        const char *m = strncmp(err.msg, "superblock: ", 12) == 0 ? err.msg + 12 : err.msg;
                        snprintf(what, len, "a vmha heartbeat region %s", m);
                        r = le16toh(h->version) > DISK_LAYOUT_VERSION ? 2 : 1;
                } else if (*(uint32_t *)buf == htole32(DISK_MAGIC_SUPER)) {
                        snprintf(what, len, "a damaged vmha heartbeat region (%s)", err.msg);
                        r = 1;
                }
        }
        free(buf);
        return r;
}

static int disk_init(int argc, char **argv) {
        static const struct option opts[] = {
                { "cluster", required_argument, NULL, 'c' },
                { "slots", required_argument, NULL, 's' },
                { "timeout", required_argument, NULL, 't' },
                { "vms", required_argument, NULL, 'v' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct disk_super sb = {
                .slot_count = DISK_DEFAULT_SLOTS,
                .timeout_ms = DISK_DEFAULT_TIMEOUT_MS,
                .claim_blocks = DISK_DEFAULT_CLAIM_BLOCKS,
        };
        const char *cluster = NULL, *device;
        struct disk_io *io = NULL;
        struct disk_layout layout;
        struct disk_error err;
        bool force = false;
        char what[256], uuid[37];
        unsigned long v, vms = HASTATE_MAX_VMS;
        int c, r;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        cluster = optarg;
                        break;
                case 's':
                        if (parse_uint(optarg, 1000000, &v) < 0 || v < 1 || v > DISK_MAX_SLOTS)
                                return haadm_usage_error("disk init: --slots must be a whole number in 1..%u, not '%s'",
                                                         DISK_MAX_SLOTS, optarg);
                        sb.slot_count = (uint32_t)v;
                        break;
                case 't':
                        if (vmha_seconds_parse(optarg, &sb.timeout_ms) < 0)
                                return haadm_usage_error("disk init: --timeout takes plain decimal seconds with at most "
                                                         "3 decimals (like 5 or 2.5), not '%s'", optarg);
                        if (sb.timeout_ms < DISK_MIN_TIMEOUT_MS || sb.timeout_ms > DISK_MAX_TIMEOUT_MS)
                                return haadm_usage_error("disk init: --timeout must be %u..%u seconds, not '%s'",
                                                         DISK_MIN_TIMEOUT_MS / 1000, DISK_MAX_TIMEOUT_MS / 1000,
                                                         optarg);
                        break;
                case 'v':
                        if (parse_uint(optarg, 1000000, &v) < 0 || v < 1 || v > HASTATE_MAX_VMS)
                                return haadm_usage_error("disk init: --vms must be a whole number in 1..%u, not '%s'",
                                                         HASTATE_MAX_VMS, optarg);
                        vms = v;
                        break;
                case 'f':
                        force = true;
                        break;
                case 'h':
                        fputs(haadm_disk_usage, stdout);
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("disk init", "disk", c, argv);
                }
        }
        if (optind >= argc)
                return haadm_usage_error("disk init: missing DEVICE (see 'haadm disk --help')");
        device = argv[optind++];
        if (optind < argc)
                return haadm_usage_error("disk init: unexpected argument '%s'", argv[optind]);
        if (!cluster)
                return haadm_usage_error("disk init: --cluster NAME is required");
        if (!cluster_name_ok(cluster))
                return haadm_usage_error("disk init: cluster name '%s' must be 1-%u characters of letters, digits, '.', '_' or '-'",
                                         cluster, DISK_CLUSTER_NAME_MAX - 1);
        snprintf(sb.cluster_name, sizeof(sb.cluster_name), "%s", cluster);
        /* Room for vms VMs whatever their names: never less than that. */
        sb.config_blocks = hastate_disk_blocks_for(vms);

        r = haadm_disk_open(device, DISK_IO_READ_WRITE, &io);
        if (r != HAADM_EXIT_OK)
                return r;

        /* Refuse before writing anything. */
        r = disk_layout_init(&layout, sb.slot_count, sb.claim_blocks, sb.config_blocks, &err);
        if (r == 0) {
                uint64_t size;
                r = disk_io_size(io, &size);
                if (r < 0) {
                        haadm_usage_error("%s: %s", device,
                                          r == -ENOTBLK ? "neither a block device nor a regular file" : strerror(-r));
                        r = HAADM_EXIT_USAGE;
                        goto out;
                }
                if (size < layout.region_bytes) {
                        haadm_usage_error("%s: device too small: a region with %u slots and room for %lu VMs needs "
                                          "%.2f MiB, the device has %.2f MiB%s",
                                          device, sb.slot_count, vms, layout.region_bytes / 1048576.0, size / 1048576.0,
                                          vms > 1 ? " (--vms or --slots make it smaller)" : "");
                        r = HAADM_EXIT_USAGE;
                        goto out;
                }
        }
        if (!force) {
                r = disk_device_probe(disk_io_path(io), what, sizeof(what));
                if (r == 0)
                        r = existing_region(io, what, sizeof(what));
                if (r < 0) {
                        haadm_usage_error("%s: cannot probe the device: %s", device, strerror(-r));
                        r = HAADM_EXIT_USAGE;
                        goto out;
                }
                if (r > 0) {
                        /* A newer vmha's region is not data to destroy on this build's word. */
                        const char *hint = r == 2 ? "Use the vmha that made it." : "Use --force to destroy it.";
                        if (strcmp(device, disk_io_path(io)) != 0)
                                haadm_usage_error("%s (%s) holds %s; refusing to overwrite it (nothing was written). %s",
                                                  device, disk_io_path(io), what, hint);
                        else
                                haadm_usage_error("%s holds %s; refusing to overwrite it (nothing was written). %s",
                                                  device, what, hint);
                        r = HAADM_EXIT_FAIL;
                        goto out;
                }
        }

        if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != sizeof(sb.uuid)) {
                r = haadm_usage_error("cannot get random bytes for the cluster UUID: %s", strerror(errno));
                goto out;
        }
        sb.uuid[6] = (uint8_t)((sb.uuid[6] & 0x0f) | 0x40);     /* RFC 4122 version 4 */
        sb.uuid[8] = (uint8_t)((sb.uuid[8] & 0x3f) | 0x80);
        sb.created_unix = (uint64_t)time(NULL);

        r = disk_region_format(io, &sb, IO_TIMEOUT_MS, &err);
        if (r < 0) {
                r = haadm_usage_error("%s: %s", device, err.msg);
                goto out;
        }
        disk_uuid_format(sb.uuid, uuid);
        printf("initialised the heartbeat region on %s: cluster '%s', uuid %s, %u slots, timeout %.1f s, %.2f MiB\n",
               device, sb.cluster_name, uuid, sb.slot_count, sb.timeout_ms / 1000.0,
               layout.region_bytes / 1048576.0);
        printf("HA configuration copies: %llu bytes each, room for %zu VMs with the longest names and config paths%s\n",
               (unsigned long long)disk_layout_config_bytes(&layout),
               hastate_disk_vms_for(disk_layout_config_bytes(&layout)),
               vms == HASTATE_MAX_VMS ? " (as many as vmhad accepts)" : "; more when they compress");
        fputs(HAADM_BLKID_NOTE, stdout);
        r = HAADM_EXIT_OK;
out:
        disk_io_free(io);
        return r;
}

int haadm_disk_main(int argc, char **argv) {
        if (argc < 2) {
                fputs(haadm_disk_usage, stderr);
                return HAADM_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(haadm_disk_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (strcmp(argv[1], "init") == 0)
                return disk_init(argc - 1, argv + 1);
        if (strcmp(argv[1], "dump") == 0)
                return haadm_disk_dump(argc - 1, argv + 1);
        return haadm_usage_error("disk: unknown subcommand '%s' (see 'haadm disk --help')", argv[1]);
}
