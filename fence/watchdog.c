/* Linux watchdog API: open, WDIOC_SETTIMEOUT, read back, WDIOC_KEEPALIVE,
 * magic close. */
#include "fence/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct watchdog {
        int fd;
        unsigned timeout_s;
        bool magic_close;
        char path[256];
};

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
        if (ioctl(wd->fd, WDIOC_GETSUPPORT, &info) == 0) {
                wd->magic_close = info.options & WDIOF_MAGICCLOSE;
                if (!(info.options & WDIOF_SETTIMEOUT)) {
                        snprintf(err, err_len, "watchdog %s (%.32s): the driver cannot set a timeout", path,
                                 (const char *)info.identity);
                        r = -EOPNOTSUPP;
                        goto refuse;
                }
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
        if (wd->magic_close)
                note_timer_runs(err, err_len);
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

bool watchdog_may_disarm(unsigned protected_vms_running, bool holds_claim, bool fencing) {
        return !fencing && protected_vms_running == 0 && !holds_claim;
}

unsigned watchdog_seconds_for(unsigned timeout_ms) {
        return timeout_ms / 1000;
}
