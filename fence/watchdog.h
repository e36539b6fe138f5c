/* The hardware watchdog: the guarantee behind S2.
 *
 * Survivors take over a silent host's VMs once its watchdog must have
 * fired. That only holds if the watchdog really is armed with the timeout
 * the pool counts on, and is fed only while this host is entitled to live.
 * This module drives the Linux watchdog API on a real device; whether to
 * feed is decided by the pure core (survival_may_feed), never here.
 *
 * Disarming is the dangerous operation: a disarmed host can freeze without
 * being reset. It happens only on an orderly stop that watchdog_may_disarm()
 * allows, and never on the fence path (watchdog_abandon() closes the device
 * without the magic character, so the timer keeps running).
 *
 * A close that vmhad did not choose must not disarm either: Linux stops the
 * timer on every close unless the driver has magic close (then only a close
 * after 'V' stops it) or nowayout is set (then nothing does). A device with
 * neither is refused, since a SIGKILL of vmhad or a restart by systemd
 * would disarm a host whose guests run on. No refusal writes the 'V'.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct watchdog;

#define WATCHDOG_DEFAULT_PATHS { "/dev/watchdog0", "/dev/watchdog", NULL }

/* Opens the device at path (NULL: /dev/watchdog0, then /dev/watchdog),
 * sets the timeout to timeout_s, reads it back and feeds once. Refuses
 * (-ENODEV, -ENOTTY, -ERANGE, -EOPNOTSUPP, ...) with a message in err when
 * the device is missing, is no watchdog, would stop its timer on close
 * (watchdog_may_use()), cannot set a timeout, or does not hold exactly
 * timeout_s. A refused device is closed without the magic character: a
 * timer that survives a close keeps running, and the message says so.
 * nowayout is read from sysfs under $VMHA_SYSFS_ROOT (default /sys; tests
 * point it elsewhere). Once open, the timer runs: the caller must feed or
 * let the host reset. */
int watchdog_open(const char *path, unsigned timeout_s, struct watchdog **ret, char *err, size_t err_len);

/* Restarts the timer (WDIOC_KEEPALIVE). */
int watchdog_feed(struct watchdog *wd);

/* Orderly stop: writes the magic 'V' and closes, which stops the timer on
 * drivers with magic close unless nowayout is set. Frees wd. */
int watchdog_disarm(struct watchdog *wd);

/* Fence path: closes without the magic character; the timer keeps running
 * and resets the host. Frees wd. NULL is a no-op. */
void watchdog_abandon(struct watchdog *wd);

unsigned watchdog_timeout_s(const struct watchdog *wd);
const char *watchdog_path(const struct watchdog *wd);
/* Whether the driver announced magic-close support (WDIOF_MAGICCLOSE). */
bool watchdog_has_magic_close(const struct watchdog *wd);
/* Whether sysfs showed nowayout set: then not even watchdog_disarm() stops
 * the timer, and an orderly stop leaves the host to reset. */
bool watchdog_has_nowayout(const struct watchdog *wd);

/* Pure: may vmhad use a device, given whether its driver announces magic
 * close and whether nowayout is set? Only if a close it did not choose
 * (a crash, a SIGKILL, a restart) leaves the timer running, which needs
 * one of the two. */
bool watchdog_may_use(bool magic_close, bool nowayout);

/* Reads nowayout for the watchdog character device numbered dev: the entry
 * of SYSFS_ROOT/class/watchdog whose `dev` file holds dev's major:minor,
 * then its `nowayout` file ("1" = set). The legacy /dev/watchdog (misc
 * 10:130) belongs to watchdog0. sysfs_root NULL: $VMHA_SYSFS_ROOT, else
 * /sys. Returns 0 when sysfs knows the device, with its entry's name in
 * name (if not NULL) and *ret_nowayout set (false when the kernel has no
 * nowayout file); -ENOENT when it does not, with *ret_nowayout false. */
int watchdog_sysfs_nowayout(const char *sysfs_root, dev_t dev, char *name, size_t name_len, bool *ret_nowayout);

/* Pure: may an orderly stop disarm the watchdog? Only when the VM driver
 * lists no protected VM running on this host and this host holds no claim,
 * and never while fencing. The HA-enabled flag does not count: HA can be
 * switched on while this vmhad is stopped, and the pool then takes this
 * silent host for dead once its watchdog must have fired; a guest still
 * running on a disarmed host would then run twice. */
bool watchdog_may_disarm(unsigned protected_vms_running, bool holds_claim, bool fencing);

/* The whole-second watchdog timeout for a pool timeout in milliseconds:
 * rounded down, so the device never fires later than S2 assumes. */
unsigned watchdog_seconds_for(unsigned timeout_ms);
