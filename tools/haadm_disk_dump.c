/* haadm disk dump: every structure of the heartbeat region, each decoded
 * and verified on its own, as text or one JSON object. A corrupt structure
 * is counted and reported with what is wrong; the rest is still shown. The
 * config copies and the HA configuration inside are haadm_disk_config.c's.
 */
#include "heartbeat/disk_format.h"
#include "heartbeat/disk_region.h"
#include "tools/haadm.h"
#include "tools/haadm_disk.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void dump_super(struct haadm_dump *d) {
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
                /* See HAADM_BLKID_NOTE. */
                json_object_object_add(o, "blkid_recognises", json_object_new_boolean(0));
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
        fputs(HAADM_BLKID_NOTE, stdout);
}

static int dump_slots(struct haadm_dump *d) {
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

static int dump_mailboxes(struct haadm_dump *d) {
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

static int dump_claims(struct haadm_dump *d) {
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

int haadm_disk_dump(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct haadm_dump d = { 0 };
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
                        fputs(haadm_disk_usage, stdout);
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

        r = haadm_disk_open(device, DISK_IO_READ_ONLY, &io);
        if (r != HAADM_EXIT_OK)
                return r;
        if (d.json) {
                d.root = json_object_new_object();
                json_object_object_add(d.root, "device", json_object_new_string(device));
        }
        r = disk_region_attach(io, HAADM_DISK_IO_TIMEOUT_MS, &d.reg, &err);
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
                               "Read it with the vmha that made it%s.\n",
                               strstr(err.msg, "older vmha") ? ", or re-create it with 'haadm disk init --force' "
                               "while the whole pool is stopped" : "");
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
                r = haadm_dump_config(&d);
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

