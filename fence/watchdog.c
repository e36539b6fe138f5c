/* Linux watchdog API: open, WDIOC_GETSUPPORT, nowayout from sysfs,
 * WDIOC_SETTIMEOUT, read back, WDIOC_KEEPALIVE, magic close. */
#include "fence/watchdog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The legacy /dev/watchdog: misc major 10, WATCHDOG_MINOR 130. */
#define WATCHDOG_MISC_MAJOR 10
#define WATCHDOG_MISC_MINOR 130

struct watchdog {
        int fd;
        unsigned timeout_s;
        bool magic_close;
        bool nowayout;
        char path[256];
};

/* Reads a small sysfs file into buf, NUL-terminated. 0 or -errno. */
static int read_small_file(const char *path, char *buf, size_t len) {
        ssize_t n;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, len - 1);
        if (n < 0)
                r = -errno;
        else
                buf[n] = 0;
        close(fd);
        return r;
}

/* Whether CLASS_DIR/NAME/dev holds the device number dev. */
static bool sysfs_entry_is(const char *class_dir, const char *name, dev_t dev) {
        char path[4096], buf[32];
        unsigned maj, min;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s/dev", class_dir, name) >= sizeof(path))
                return false;
        if (read_small_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &maj, &min) != 2)
                return false;
        return maj == major(dev) && min == minor(dev);
}

/* The class/watchdog entry of device dev into name: by its number, or
 * watchdog0 for the legacy misc device, which the watchdog core registers
 * for the device with id 0 only. 0 or -ENOENT. */
static int sysfs_find(const char *class_dir, dev_t dev, char *name, size_t name_len) {
        struct dirent *de;
        DIR *dir;
        int r = -ENOENT;

        dir = opendir(class_dir);
        if (!dir)
                return -ENOENT;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' || !sysfs_entry_is(class_dir, de->d_name, dev))
                        continue;
                snprintf(name, name_len, "%s", de->d_name);
                r = 0;
                break;
        }
        closedir(dir);
        if (r < 0 && major(dev) == WATCHDOG_MISC_MAJOR && minor(dev) == WATCHDOG_MISC_MINOR) {
                char path[4096];
                struct stat st;

                if ((size_t)snprintf(path, sizeof(path), "%s/watchdog0", class_dir) < sizeof(path) &&
                    stat(path, &st) == 0) {
                        snprintf(name, name_len, "watchdog0");
                        r = 0;
                }
        }
        return r;
}

int watchdog_sysfs_nowayout(const char *sysfs_root, dev_t dev, char *name, size_t name_len, bool *ret_nowayout) {
        char class_dir[4096], found[256], path[4096], buf[16];
        int r;

        *ret_nowayout = false;
        if (!sysfs_root)
                sysfs_root = getenv("VMHA_SYSFS_ROOT");
        if (!sysfs_root || !*sysfs_root)
                sysfs_root = "/sys";
        if ((size_t)snprintf(class_dir, sizeof(class_dir), "%s/class/watchdog", sysfs_root) >= sizeof(class_dir))
                return -ENOENT;
        r = sysfs_find(class_dir, dev, found, sizeof(found));
        if (r < 0)
                return r;
        if (name)
                snprintf(name, name_len, "%s", found);
        /* A kernel without the attribute cannot tell: count it as not set. */
        if ((size_t)snprintf(path, sizeof(path), "%s/%s/nowayout", class_dir, found) < sizeof(path) &&
            read_small_file(path, buf, sizeof(buf)) == 0)
                *ret_nowayout = buf[0] == '1';
        return 0;
}

bool watchdog_may_use(bool magic_close, bool nowayout) {
        return magic_close || nowayout;
}

/* Completes a refusal's message: the device was closed without the magic
 * character, so its timer goes on. */
static void note_timer_runs(char *err, size_t err_len) {
        size_t n = strnlen(err, err_len);

        if (n + 1 < err_len)
                snprintf(err + n, err_len - n,
                         "; closed without the magic character, so its timer keeps running (it may guard "
                         "guests a previous vmhad left running here): this host resets unless a vmhad feeds it");
}

static int try_open(const char *path, unsigned timeout_s, struct watchdog **ret, char *err, size_t err_len) {
        struct watchdog_info info;
        struct watchdog *wd;
        char sysfs_name[256] = "";
        struct stat st;
        int t, r;

        wd = calloc(1, sizeof(*wd));
        if (!wd)
                return -ENOMEM;
        snprintf(wd->path, sizeof(wd->path), "%s", path);
        wd->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (wd->fd < 0) {
                r = -errno;
                snprintf(err, err_len, "watchdog %s: cannot open: %s", path, strerror(errno));
                free(wd);
                return r;
        }
        /* From here on the timer runs, and no refusal writes the magic 'V':
         * a previous vmhad may have armed this timer while guests run here,
         * and it is not this one's to stop. The host resets unless a vmhad
         * feeds it. */
        memset(&info, 0, sizeof(info));
        if (ioctl(wd->fd, WDIOC_GETSUPPORT, &info) < 0) {
                r = -errno;
                snprintf(err, err_len, "watchdog %s: not a watchdog device: WDIOC_GETSUPPORT failed: %s", path,
                         strerror(-r));
                goto out;
        }
        wd->magic_close = info.options & WDIOF_MAGICCLOSE;
        /* fstat follows what the path named: /dev/watchdog and a symlink
         * both lead to the device's number. A device sysfs does not know
         * (the lab's FUSE file) counts as nowayout not set. */
        if (fstat(wd->fd, &st) == 0 && S_ISCHR(st.st_mode))
                (void)watchdog_sysfs_nowayout(NULL, st.st_rdev, sysfs_name, sizeof(sysfs_name), &wd->nowayout);
        if (!watchdog_may_use(wd->magic_close, wd->nowayout)) {
                /* The close below stops the timer: that is what this
                 * driver does on every close, a crash's included. */
                snprintf(err, err_len,
                         "watchdog %s (%.32s, %s%s) refused: driver stops the timer on close (no magic close) "
                         "and nowayout is not set: a crash of vmhad would disarm this host; load the driver "
                         "with nowayout=1",
                         path, (const char *)info.identity, sysfs_name[0] ? "sysfs " : "not in sysfs",
                         sysfs_name);
                r = -EOPNOTSUPP;
                goto out;
        }
        if (!(info.options & WDIOF_SETTIMEOUT)) {
                snprintf(err, err_len, "watchdog %s (%.32s): the driver cannot set a timeout", path,
                         (const char *)info.identity);
                r = -EOPNOTSUPP;
                goto refuse;
        }
        t = (int)timeout_s;
        if (ioctl(wd->fd, WDIOC_SETTIMEOUT, &t) < 0) {
                r = -errno;
                snprintf(err, err_len, "watchdog %s: cannot set a %u s timeout: %s", path, timeout_s,
                         strerror(errno));
                goto refuse;
        }
        t = 0;
        if (ioctl(wd->fd, WDIOC_GETTIMEOUT, &t) < 0) {
                r = -errno;
                snprintf(err, err_len, "watchdog %s: cannot read the timeout back: %s", path, strerror(errno));
                goto refuse;
        }
        if (t != (int)timeout_s) {
                snprintf(err, err_len,
                         "watchdog %s: asked for a %u s timeout, the device holds %d s; "
                         "the pool's timing depends on it, so HA cannot be armed",
                         path, timeout_s, t);
                r = -ERANGE;
                goto refuse;
        }
        wd->timeout_s = timeout_s;
        if (ioctl(wd->fd, WDIOC_KEEPALIVE, NULL) < 0 && write(wd->fd, "\0", 1) != 1) {
                r = -errno;
                snprintf(err, err_len, "watchdog %s: cannot feed it: %s", path, strerror(errno));
                goto refuse;
        }
        *ret = wd;
        return 0;
refuse:
        /* Past watchdog_may_use(): this timer survives the close. */
        note_timer_runs(err, err_len);
out:
        close(wd->fd);
        free(wd);
        return r;
}

int watchdog_open(const char *path, unsigned timeout_s, struct watchdog **ret, char *err, size_t err_len) {
        static const char *const defaults[] = WATCHDOG_DEFAULT_PATHS;
        int r = -ENODEV;

        if (timeout_s < 1) {
                snprintf(err, err_len, "watchdog: a timeout of %u s is not possible", timeout_s);
                return -EINVAL;
        }
        if (path)
                return try_open(path, timeout_s, ret, err, err_len);
        for (size_t i = 0; defaults[i]; i++) {
                if (access(defaults[i], F_OK) != 0)
                        continue;
                return try_open(defaults[i], timeout_s, ret, err, err_len);
        }
        snprintf(err, err_len, "no watchdog device: neither /dev/watchdog0 nor /dev/watchdog exists "
                               "(load the hardware's watchdog driver, e.g. iTCO_wdt, ipmi_watchdog or xen_wdt)");
        return r;
}

int watchdog_feed(struct watchdog *wd) {
        if (ioctl(wd->fd, WDIOC_KEEPALIVE, NULL) == 0)
                return 0;
        return write(wd->fd, "\0", 1) == 1 ? 0 : -errno;
}

int watchdog_disarm(struct watchdog *wd) {
        int r = 0;

        if (!wd)
                return 0;
        if (write(wd->fd, "V", 1) != 1)
                r = -errno;
        if (close(wd->fd) < 0 && r == 0)
                r = -errno;
        free(wd);
        return r;
}

void watchdog_abandon(struct watchdog *wd) {
        if (!wd)
                return;
        close(wd->fd);
        free(wd);
}

unsigned watchdog_timeout_s(const struct watchdog *wd) {
        return wd->timeout_s;
}

const char *watchdog_path(const struct watchdog *wd) {
        return wd->path;
}

bool watchdog_has_magic_close(const struct watchdog *wd) {
        return wd->magic_close;
}

bool watchdog_has_nowayout(const struct watchdog *wd) {
        return wd->nowayout;
}

bool watchdog_may_disarm(unsigned protected_vms_running, bool holds_claim, bool fencing) {
        return !fencing && protected_vms_running == 0 && !holds_claim;
}

unsigned watchdog_seconds_for(unsigned timeout_ms) {
        return timeout_ms / 1000;
}
