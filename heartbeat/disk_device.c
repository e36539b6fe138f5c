/* Device naming and content probing through libblkid. */
#include "heartbeat/disk_device.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const tags[] = { "LABEL=", "UUID=", "PARTUUID=", "PARTLABEL=" };

int disk_device_spec_check(const char *spec, char *why, size_t why_len) {
        const char *eq = strchr(spec, '=');

        if (!*spec) {
                snprintf(why, why_len, "must not be empty");
                return -EINVAL;
        }
        if (spec[0] == '/')
                return 0;
        if (eq) {
                for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
                        if (strncmp(spec, tags[i], strlen(tags[i])) != 0)
                                continue;
                        if (eq[1] == 0) {
                                snprintf(why, why_len, "'%s' has no value", spec);
                                return -EINVAL;
                        }
                        return 0;
                }
                snprintf(why, why_len, "'%.*s' is not a device tag (expected %s)", (int)(eq - spec + 1), spec,
                         DISK_DEVICE_TAGS);
                return -EINVAL;
        }
        snprintf(why, why_len, "'%s' is neither an absolute path nor %s", spec, DISK_DEVICE_TAGS);
        return -EINVAL;
}

int disk_device_resolve(const char *spec, char **path) {
        char why[256], *p;

        if (disk_device_spec_check(spec, why, sizeof(why)) < 0)
                return -EINVAL;
        if (spec[0] != '/') {
                p = blkid_evaluate_tag(spec, NULL, NULL);
                if (!p)
                        return -ENOENT;
                *path = p;
                return 0;
        }
        p = strdup(spec);
        if (!p)
                return -ENOMEM;
        *path = p;
        return 0;
}

const char *disk_device_open_error(const char *path, int r, char *buf, size_t len) {
        struct stat st;
        const char *what = "neither a block device nor a file";

        if (r != -EISDIR && r != -ENOTBLK)
                return strerror(-r);
        if (r == -EISDIR)
                return "is a directory, not a block device or file";
        if (stat(path, &st) == 0) {
                if (S_ISCHR(st.st_mode))
                        what = "a character device";
                else if (S_ISFIFO(st.st_mode))
                        what = "a FIFO";
                else if (S_ISSOCK(st.st_mode))
                        what = "a socket";
        }
        snprintf(buf, len, "is %s, not a block device or file", what);
        return buf;
}

int disk_device_probe(const char *path, char *what, size_t what_len) {
        blkid_probe pr;
        const char *val = NULL;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        pr = blkid_new_probe();
        if (!pr) {
                close(fd);
                return -ENOMEM;
        }
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
                r = -EIO;
                goto out;
        }
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);

        r = blkid_do_safeprobe(pr);
        if (r == 1) {           /* nothing found */
                r = 0;
        } else if (r == -2) {   /* several signatures: certainly not empty */
                snprintf(what, what_len, "several conflicting signatures");
                r = 1;
        } else if (r < 0) {
                r = -EIO;
        } else if (blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0) {
                snprintf(what, what_len, "a partition table (%s)", val);
                r = 1;
        } else if (blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0) {
                const char *usage = NULL;
                blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
                snprintf(what, what_len, "%s (%s)",
                         usage && strcmp(usage, "filesystem") == 0 ? "a filesystem" :
                         usage && strcmp(usage, "raid") == 0 ? "a RAID member" :
                         usage && strcmp(usage, "crypto") == 0 ? "an encrypted volume" : "a signature",
                         val);
                r = 1;
        } else {
                snprintf(what, what_len, "an unidentified signature");
                r = 1;
        }
out:
        blkid_free_probe(pr);
        close(fd);
        return r;
}
