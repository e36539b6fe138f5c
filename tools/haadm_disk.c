/* haadm disk: create and inspect the heartbeat region.
 *
 * `init` refuses anything that looks like data (a filesystem, a partition
 * table, another vmha region) unless --force is given, and writes nothing
 * when it refuses. `dump` decodes every structure on its own, so one corrupt
 * block is reported without hiding the rest.
 */
#include "daemon/config.h"
#include "heartbeat/disk_device.h"
#include "heartbeat/disk_format.h"
#include "heartbeat/disk_io.h"
#include "heartbeat/disk_region.h"
#include "tools/haadm.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 5000u

static const char disk_usage[] =
        "usage: haadm disk init DEVICE --cluster NAME [--slots N] [--timeout SECONDS] [--force]\n"
        "       haadm disk dump DEVICE [--json]\n"
        "\n"
        "init   write a fresh heartbeat region at the start of DEVICE.\n"
        "       --cluster NAME     cluster name (1-63 characters: letters, digits, . _ -)\n"
        "       --slots N          host slots, 1..255 (default 64)\n"
        "       --timeout SECONDS  the pool's timeout, 2..600 (default 5); everything\n"
        "                          else (disk interval, watchdog) derives from it\n"
        "       --force            overwrite a device that holds a filesystem, a\n"
        "                          partition table or another vmha region\n"
        "dump   print the superblock and every slot, mailbox, claim area and config\n"
        "       copy. Exit status 0 when all is valid, 1 when something is corrupt,\n"
        "       2 on usage or I/O errors.\n"
        "       --json             one JSON object instead of tables\n"
        "\n"
        "DEVICE is a path or LABEL=..., UUID=..., PARTUUID=..., PARTLABEL=... (resolved with\n"
        "libblkid).\n";

/* On the command line a path may be relative to the current directory;
 * otherwise a device name is checked as vmha.conf checks it. */
static int open_device(const char *spec, enum disk_io_mode mode, struct disk_io **io) {
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

/* Does the device already hold a vmha region? Returns 1 and describes it,
 * or 2 for a region of another layout version, which this build must not
 * be asked to overwrite. */
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
                        const char *m = strncmp(err.msg, "superblock: ", 12) == 0 ? err.msg + 12 : err.msg;
                        snprintf(what, len, "a vmha heartbeat region %s", m);
                        r = 2;
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
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct disk_super sb = {
                .slot_count = DISK_DEFAULT_SLOTS,
                .timeout_ms = DISK_DEFAULT_TIMEOUT_MS,
                .claim_blocks = DISK_DEFAULT_CLAIM_BLOCKS,
                .config_blocks = DISK_DEFAULT_CONFIG_BLOCKS,
        };
        const char *cluster = NULL, *device;
        struct disk_io *io = NULL;
        struct disk_layout layout;
        struct disk_error err;
        bool force = false;
        char what[256], uuid[37];
        unsigned long v;
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
                case 'f':
                        force = true;
                        break;
                case 'h':
                        fputs(disk_usage, stdout);
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

        r = open_device(device, DISK_IO_READ_WRITE, &io);
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
                        haadm_usage_error("%s: device too small: a region with %u slots needs %.2f MiB, the device has %.2f MiB",
                                          device, sb.slot_count, layout.region_bytes / 1048576.0, size / 1048576.0);
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
        r = HAADM_EXIT_OK;
out:
        disk_io_free(io);
        return r;
}

/* ---- dump ---- */

struct dump {
        struct disk_region *reg;
        bool json;
        unsigned corrupt;
        json_object *root;
};

static void view_text(const uint8_t view[DISK_VIEW_BYTES], uint32_t slots, char *out, size_t len) {
        size_t n = 0;
        out[0] = 0;
        n += (size_t)snprintf(out + n, len - n, "{");
        for (uint32_t id = 1; id <= slots && n < len; id++)
                if (disk_view_test(view, id))
                        n += (size_t)snprintf(out + n, len - n, "%s%u", out[n - 1] == '{' ? "" : ",", id);
        if (n < len)
                snprintf(out + n, len - n, "}");
}

static json_object *view_json(const uint8_t view[DISK_VIEW_BYTES], uint32_t slots) {
        json_object *a = json_object_new_array();
        for (uint32_t id = 1; id <= slots; id++)
                if (disk_view_test(view, id))
                        json_object_array_add(a, json_object_new_int((int32_t)id));
        return a;
}

static json_object *error_json(const struct disk_status *st) {
        return st->error ? json_object_new_string(st->msg.msg) : NULL;
}

static void dump_super(struct dump *d) {
        const struct disk_super *sb = &d->reg->sb;
        char uuid[37], when[64];
        time_t t = (time_t)sb->created_unix;
        struct tm tm;

        disk_uuid_format(sb->uuid, uuid);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        if (d->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "valid", json_object_new_boolean(1));
                json_object_object_add(o, "cluster", json_object_new_string(sb->cluster_name));
                json_object_object_add(o, "uuid", json_object_new_string(uuid));
                json_object_object_add(o, "version", json_object_new_int(DISK_LAYOUT_VERSION));
                json_object_object_add(o, "slots", json_object_new_int((int32_t)sb->slot_count));
                json_object_object_add(o, "timeout_s", json_object_new_double(sb->timeout_ms / 1000.0));
                json_object_object_add(o, "created", json_object_new_string(when));
                json_object_object_add(o, "claim_blocks_per_host", json_object_new_int((int32_t)sb->claim_blocks));
                json_object_object_add(o, "config_blocks", json_object_new_int((int32_t)sb->config_blocks));
                json_object_object_add(o, "region_bytes", json_object_new_int64((int64_t)d->reg->layout.region_bytes));
                json_object_object_add(d->root, "superblock", o);
                return;
        }
        printf("superblock: valid\n");
        printf("  cluster      %s\n  uuid         %s\n  version      %u\n  slots        %u\n"
               "  timeout      %.1f s\n  created      %s\n  region       %llu bytes (%.2f MiB)\n"
               "  claims       %u blocks per host (%u claims)\n  config       %u blocks per copy\n",
               sb->cluster_name, uuid, DISK_LAYOUT_VERSION, sb->slot_count, sb->timeout_ms / 1000.0, when,
               (unsigned long long)d->reg->layout.region_bytes, d->reg->layout.region_bytes / 1048576.0,
               sb->claim_blocks, sb->claim_blocks * DISK_CLAIMS_PER_BLOCK, sb->config_blocks);
}

static int dump_slots(struct dump *d) {
        uint32_t n = d->reg->sb.slot_count;
        struct disk_slot *slots = calloc(n + 1, sizeof(*slots));
        struct disk_status *st = calloc(n + 1, sizeof(*st));
        json_object *arr = NULL;
        int r;

        if (!slots || !st) {
                r = -ENOMEM;
                goto out;
        }
        r = disk_region_read_slots(d->reg, slots, st);
        if (r < 0)
                goto out;
        if (d->json)
                arr = json_object_new_array();
        else
                printf("\nslots:\n  %4s  %-8s %10s %18s %10s  %-5s %-5s %-5s  %s\n", "id", "state", "seq",
                       "incarnation", "ring", "quor", "tieb", "disk", "view / reason");
        for (uint32_t id = 1; id <= n; id++) {
                const struct disk_slot *s = &slots[id];
                if (st[id].error)
                        d->corrupt++;
                if (d->json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "id", json_object_new_int((int32_t)id));
                        json_object_object_add(o, "valid", json_object_new_boolean(!st[id].error));
                        json_object_object_add(o, "error", error_json(&st[id]));
                        if (!st[id].error) {
                                json_object_object_add(o, "state", json_object_new_string(disk_slot_state_name(s->state)));
                                json_object_object_add(o, "seq", json_object_new_int64((int64_t)s->seq));
                                json_object_object_add(o, "incarnation", json_object_new_int64((int64_t)s->incarnation));
                                json_object_object_add(o, "ring_id", json_object_new_int64((int64_t)s->ring_id));
                                json_object_object_add(o, "view", view_json(s->view, n));
                                json_object_object_add(o, "quorate", json_object_new_boolean(s->flags & DISK_SLOT_QUORATE));
                                json_object_object_add(o, "tiebreak_ok", json_object_new_boolean(s->flags & DISK_SLOT_TIEBREAK_OK));
                                json_object_object_add(o, "disk_ok", json_object_new_boolean(s->flags & DISK_SLOT_DISK_OK));
                                json_object_object_add(o, "yields", json_object_new_boolean(s->flags & DISK_SLOT_YIELDS));
                                json_object_object_add(o, "watchdog_timeout_ms", json_object_new_int64(s->watchdog_timeout_ms));
                                json_object_object_add(o, "mailbox_ack_seq", json_object_new_int64((int64_t)s->mailbox_ack_seq));
                                json_object_object_add(o, "claims_gen", json_object_new_int64((int64_t)s->claims_gen));
                                json_object_object_add(o, "written_unix_ms", json_object_new_int64((int64_t)s->write_unix_ms));
                                json_object_object_add(o, "fence_unix_ms", json_object_new_int64((int64_t)s->fence_unix_ms));
                                json_object_object_add(o, "reason", json_object_new_string(s->reason));
                        }
                        json_object_array_add(arr, o);
                } else if (st[id].error) {
                        printf("  %4u  CORRUPT  %s\n", id, st[id].msg.msg);
                } else {
                        char view[4 * DISK_MAX_SLOTS + 8];
                        view_text(s->view, n, view, sizeof(view));
                        printf("  %4u  %-8s %10llu %18llx %10llu  %-5s %-5s %-5s  %s%s%s%s\n", id,
                               disk_slot_state_name(s->state), (unsigned long long)s->seq,
                               (unsigned long long)s->incarnation, (unsigned long long)s->ring_id,
                               s->flags & DISK_SLOT_QUORATE ? "yes" : "no",
                               s->flags & DISK_SLOT_TIEBREAK_OK ? "yes" : "no",
                               s->flags & DISK_SLOT_DISK_OK ? "yes" : "no", view,
                               s->flags & DISK_SLOT_YIELDS ? " (yields)" : "", s->reason[0] ? " " : "", s->reason);
                }
        }
        if (d->json)
                json_object_object_add(d->root, "slots", arr);
out:
        free(slots);
        free(st);
        return r;
}

static int dump_mailboxes(struct dump *d) {
        uint32_t n = d->reg->sb.slot_count;
        struct disk_mailbox *mbs = calloc(n + 1, sizeof(*mbs));
        struct disk_status *st = calloc(n + 1, sizeof(*st));
        json_object *arr = NULL;
        int r;

        if (!mbs || !st) {
                r = -ENOMEM;
                goto out;
        }
        r = disk_region_read_mailboxes(d->reg, mbs, st);
        if (r < 0)
                goto out;
        if (d->json)
                arr = json_object_new_array();
        else
                printf("\nmailboxes:\n  %4s  %-8s %6s %10s  %s\n", "id", "command", "sender", "seq", "reason");
        for (uint32_t id = 1; id <= n; id++) {
                const struct disk_mailbox *m = &mbs[id];
                if (st[id].error)
                        d->corrupt++;
                if (d->json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "id", json_object_new_int((int32_t)id));
                        json_object_object_add(o, "valid", json_object_new_boolean(!st[id].error));
                        json_object_object_add(o, "error", error_json(&st[id]));
                        if (!st[id].error) {
                                json_object_object_add(o, "command", json_object_new_string(disk_mailbox_command_name(m->command)));
                                json_object_object_add(o, "sender", json_object_new_int((int32_t)m->sender));
                                json_object_object_add(o, "seq", json_object_new_int64((int64_t)m->seq));
                                json_object_object_add(o, "sent_unix_ms", json_object_new_int64((int64_t)m->sent_unix_ms));
                                json_object_object_add(o, "reason", json_object_new_string(m->reason));
                        }
                        json_object_array_add(arr, o);
                } else if (st[id].error) {
                        printf("  %4u  CORRUPT  %s\n", id, st[id].msg.msg);
                } else {
                        printf("  %4u  %-8s %6u %10llu  %s\n", id, disk_mailbox_command_name(m->command), m->sender,
                               (unsigned long long)m->seq, m->reason);
                }
        }
        if (d->json)
                json_object_object_add(d->root, "mailboxes", arr);
out:
        free(mbs);
        free(st);
        return r;
}

static int dump_claims(struct dump *d) {
        uint32_t n = d->reg->sb.slot_count, nb = d->reg->sb.claim_blocks;
        struct disk_claims_block *cbs = calloc(nb, sizeof(*cbs));
        struct disk_status *st = calloc(nb, sizeof(*st));
        json_object *arr = NULL;
        unsigned total = 0;
        int r = 0;

        if (!cbs || !st) {
                r = -ENOMEM;
                goto out;
        }
        if (d->json)
                arr = json_object_new_array();
        else
                printf("\nownership claims:\n");
        for (uint32_t id = 1; id <= n; id++) {
                json_object *o = NULL, *claims = NULL, *errors = NULL;
                unsigned count = 0, bad = 0;

                r = disk_region_read_claims(d->reg, id, cbs, st);
                if (r < 0)
                        goto out;
                if (d->json) {
                        o = json_object_new_object();
                        claims = json_object_new_array();
                        errors = json_object_new_array();
                }
                for (uint32_t b = 0; b < nb; b++) {
                        if (st[b].error) {
                                bad++;
                                d->corrupt++;
                                if (d->json)
                                        json_object_array_add(errors, json_object_new_string(st[b].msg.msg));
                                else
                                        printf("  host %u: CORRUPT %s\n", id, st[b].msg.msg);
                                continue;
                        }
                        for (uint32_t i = 0; i < cbs[b].count; i++) {
                                count++;
                                if (d->json) {
                                        json_object *c = json_object_new_object();
                                        json_object_object_add(c, "vm_id", json_object_new_int64((int64_t)cbs[b].claims[i].vm_id));
                                        json_object_object_add(c, "claim_seq", json_object_new_int64((int64_t)cbs[b].claims[i].claim_seq));
                                        json_object_array_add(claims, c);
                                } else {
                                        printf("  host %u: vm %llu claim %llu\n", id,
                                               (unsigned long long)cbs[b].claims[i].vm_id,
                                               (unsigned long long)cbs[b].claims[i].claim_seq);
                                }
                        }
                }
                total += count;
                if (d->json) {
                        json_object_object_add(o, "host", json_object_new_int((int32_t)id));
                        json_object_object_add(o, "valid", json_object_new_boolean(bad == 0));
                        json_object_object_add(o, "errors", errors);
                        json_object_object_add(o, "claims", claims);
                        json_object_array_add(arr, o);
                }
        }
        if (d->json)
                json_object_object_add(d->root, "claims", arr);
        else
                printf("  %u claims over %u hosts\n", total, n);
out:
        free(cbs);
        free(st);
        return r;
}

static int dump_config(struct dump *d) {
        struct disk_config_header hdr[2];
        struct disk_status st[2];
        json_object *arr = NULL;
        int current, r;

        r = disk_region_read_config(d->reg, hdr, st, &current, NULL);
        if (r < 0)
                return r;
        if (d->json)
                arr = json_object_new_array();
        else
                printf("\nconfig copies:\n");
        for (int c = 0; c < 2; c++) {
                const char *name = c == 0 ? "A" : "B";
                if (st[c].error)
                        d->corrupt++;
                if (d->json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "copy", json_object_new_string(name));
                        json_object_object_add(o, "valid", json_object_new_boolean(!st[c].error));
                        json_object_object_add(o, "error", error_json(&st[c]));
                        json_object_object_add(o, "current", json_object_new_boolean(current == c));
                        if (!st[c].error) {
                                json_object_object_add(o, "generation", json_object_new_int64((int64_t)hdr[c].generation));
                                json_object_object_add(o, "payload_bytes", json_object_new_int64(hdr[c].payload_len));
                                json_object_object_add(o, "written_unix_ms", json_object_new_int64((int64_t)hdr[c].written_unix_ms));
                        }
                        json_object_array_add(arr, o);
                } else if (st[c].error) {
                        printf("  %s  CORRUPT  %s\n", name, st[c].msg.msg);
                } else {
                        printf("  %s  generation %llu, %u payload bytes%s\n", name,
                               (unsigned long long)hdr[c].generation, hdr[c].payload_len,
                               current == c ? "  (current)" : "");
                }
        }
        if (d->json)
                json_object_object_add(d->root, "config", arr);
        else if (current < 0)
                printf("  no valid config copy: the HA configuration cannot be recovered from disk\n");
        return 0;
}

static int disk_dump(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct dump d = { 0 };
        struct disk_io *io = NULL;
        struct disk_error err;
        const char *device;
        int c, r;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'j':
                        d.json = true;
                        break;
                case 'h':
                        fputs(disk_usage, stdout);
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("disk dump", "disk", c, argv);
                }
        }
        if (optind >= argc)
                return haadm_usage_error("disk dump: missing DEVICE (see 'haadm disk --help')");
        device = argv[optind++];
        if (optind < argc)
                return haadm_usage_error("disk dump: unexpected argument '%s'", argv[optind]);

        r = open_device(device, DISK_IO_READ_ONLY, &io);
        if (r != HAADM_EXIT_OK)
                return r;
        if (d.json) {
                d.root = json_object_new_object();
                json_object_object_add(d.root, "device", json_object_new_string(device));
        }
        r = disk_region_attach(io, IO_TIMEOUT_MS, &d.reg, &err);
        if (r == -EBADMSG || r == -EPROTO) {
                /* Without a superblock this build can read, the layout is
                 * unknown: report and stop. -EPROTO is a valid superblock
                 * of another layout version, which is not corruption. */
                bool other_version = r == -EPROTO;
                disk_io_free(io);
                if (d.json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "valid", json_object_new_boolean(0));
                        json_object_object_add(o, "supported", json_object_new_boolean(!other_version));
                        json_object_object_add(o, "error", json_object_new_string(err.msg));
                        json_object_object_add(d.root, "superblock", o);
                        json_object_object_add(d.root, "errors", json_object_new_int(1));
                        puts(json_object_to_json_string_ext(d.root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(d.root);
                } else if (other_version) {
                        printf("UNSUPPORTED %s\n", err.msg);
                        printf("This build cannot read the rest of the region; it is not damaged. "
                               "Read it with the vmha that made it.\n");
                } else {
                        printf("CORRUPT %s\n", err.msg);
                        printf("The rest of the region cannot be located without a valid superblock.\n");
                }
                return HAADM_EXIT_FAIL;
        }
        if (r < 0) {
                disk_io_free(io);
                json_object_put(d.root);
                return haadm_usage_error("%s: %s", device, err.msg);
        }
        dump_super(&d);
        r = dump_slots(&d);
        if (r == 0)
                r = dump_mailboxes(&d);
        if (r == 0)
                r = dump_claims(&d);
        if (r == 0)
                r = dump_config(&d);
        if (r < 0) {
                disk_region_free(d.reg);
                json_object_put(d.root);
                return haadm_usage_error("%s: read failed: %s", device, strerror(-r));
        }
        if (d.json) {
                json_object_object_add(d.root, "errors", json_object_new_int((int32_t)d.corrupt));
                puts(json_object_to_json_string_ext(d.root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(d.root);
        } else {
                printf("\n%u corrupt structure%s\n", d.corrupt, d.corrupt == 1 ? "" : "s");
        }
        disk_region_free(d.reg);
        return d.corrupt ? HAADM_EXIT_FAIL : HAADM_EXIT_OK;
}

int haadm_disk_main(int argc, char **argv) {
        if (argc < 2) {
                fputs(disk_usage, stderr);
                return HAADM_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(disk_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (strcmp(argv[1], "init") == 0)
                return disk_init(argc - 1, argv + 1);
        if (strcmp(argv[1], "dump") == 0)
                return disk_dump(argc - 1, argv + 1);
        return haadm_usage_error("disk: unknown subcommand '%s' (see 'haadm disk --help')", argv[1]);
}
