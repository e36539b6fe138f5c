/* fusewd: an emulated hardware watchdog for one lab host.
 *
 * The lab host has no /dev/watchdog, so this FUSE program exposes one file,
 * `watchdog`, that behaves like a Linux watchdog character device; the lab
 * bind-mounts it over /dev/watchdog0 (and /dev/watchdog) inside the host's
 * private mount namespace, so vmhad opens the same path as on real iron.
 * The one idea that makes it work: FUSE passes "restricted" ioctls, whose
 * argument size is encoded in the command number, to a filesystem that
 * implements `ioctl`, and every WDIOC_* command is of that kind. It uses
 * libfuse's low-level API so that an ioctl can answer with fewer bytes than
 * its number announces (WDIOC_KEEPALIVE with a NULL argument must work).
 *
 * It follows the kernel's watchdog core (drivers/watchdog/watchdog_dev.c):
 *   - one opener at a time (-EBUSY otherwise); open arms the timer;
 *   - WDIOC_SETTIMEOUT sets the timeout (1..3600 s), pings, and returns the
 *     timeout actually set; WDIOC_GETTIMEOUT, WDIOC_GETTIMELEFT,
 *     WDIOC_GETSUPPORT (WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE |
 *     WDIOF_KEEPALIVEPING), WDIOC_GETSTATUS, WDIOC_GETBOOTSTATUS
 *     (WDIOF_CARDRESET after this watchdog powered the host off);
 *     WDIOC_SETOPTIONS is refused with EOPNOTSUPP: it is declared _IOR,
 *     so FUSE never hands its input to the filesystem;
 *   - WDIOC_KEEPALIVE and any write ping it; a write holding 'V' arms the
 *     magic close, and only a release after that disarms. A release without
 *     it leaves the timer running ("watchdog did not stop!");
 *   - with --no-magic-close it is a driver without WDIOF_MAGICCLOSE (and
 *     without nowayout): WDIOC_GETSUPPORT does not announce it, 'V' means
 *     nothing, and every release disarms, a crash's included;
 *   - when the timer expires it powers the host off: SIGKILL to the pid
 *     read from --pidfile ("PID [STARTTIME]") when the device was opened,
 *     i.e. the host's PID-namespace init, exactly what `halab crash` does;
 *     then --exec CMD if given. If that process is gone first (the host
 *     powered itself off), the watchdog resets, as on a real reboot.
 * SIGUSR1 is a power cycle seen from outside (the lab crashed or booted the
 * host): the timer is disarmed and any opener is forgotten.
 *
 * Every event is appended to --log with a UTC and a monotonic timestamp,
 * and the current state is kept in --state (one line, key=value), which
 * `halab status` and the tests read.
 *
 * It does not emulate pretimeouts, nowayout, or a watchdog that cannot be
 * stopped.
 *
 * usage: fusewd [--pidfile F] [--exec CMD] [--log F] [--state F]
 *               [--name NAME] [--timeout S] [--no-magic-close] MOUNTPOINT
 */
#define FUSE_USE_VERSION 35

#include "daemon/proc_stat.h"
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <linux/watchdog.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WD_MIN_TIMEOUT 1
#define WD_MAX_TIMEOUT 3600
#define WD_FILE "/watchdog"

enum wd_state { WD_DISARMED, WD_ARMED, WD_FIRED };

/* All mutable state, guarded by lock. FUSE runs its handlers in several
 * threads; the expiry thread and the SIGUSR1 thread share this too. */
struct wd {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        enum wd_state state;
        int timeout;            /* seconds */
        int64_t deadline_ns;    /* CLOCK_MONOTONIC, valid while armed */
        uint64_t open_fh;       /* fh of the current opener, 0 if closed */
        uint64_t next_fh;
        bool expect_close;      /* 'V' seen in the opener's last write */
        bool magic_close;       /* announces WDIOF_MAGICCLOSE; else every release disarms */
        int bootstatus;         /* WDIOF_CARDRESET after a watchdog power-off */
        unsigned long keepalives;
        pid_t target_pid;       /* host init read from --pidfile at open */
        unsigned long long target_start; /* its start time, against pid reuse */
        const char *pidfile;
        const char *exec_cmd;
        const char *log_path;
        const char *state_path;
        const char *name;
};

static struct wd wd = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .state = WD_DISARMED,
        .timeout = 60,
        .next_fh = 1,
        .magic_close = true,
        .name = "host",
};

static int64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *state_name(enum wd_state s) {
        switch (s) {
        case WD_DISARMED:
                return "disarmed";
        case WD_ARMED:
                return "armed";
        case WD_FIRED:
                return "fired";
        }
        return "?";
}

/* Appends one event line: "UTC-TIME mono=SECONDS NAME EVENT details".
 * Called with the lock held, so lines never interleave. */
static void wd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void wd_log(const char *fmt, ...) {
        char line[512], when[64];
        struct timespec rt;
        struct tm tm;
        va_list ap;
        int n;

        clock_gettime(CLOCK_REALTIME, &rt);
        gmtime_r(&rt.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        n = snprintf(line, sizeof(line), "%s.%06ldZ mono=%.6f %s ", when, rt.tv_nsec / 1000,
                     (double)mono_ns() / 1e9, wd.name);
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(line) - 1)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        if (!wd.log_path) {
                fwrite(line, 1, (size_t)n, stderr);
                return;
        }
        int fd = open(wd.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
                if (write(fd, line, (size_t)n) < 0) {
                        /* nowhere better to report it */
                }
                close(fd);
        }
}

/* Rewrites the state file atomically (write, rename). Lock held. */
static void wd_publish(void) {
        char tmp[4096], buf[256];
        int n, fd;

        if (!wd.state_path)
                return;
        n = snprintf(buf, sizeof(buf),
                     "state=%s timeout=%d open=%s keepalives=%lu bootstatus=%d magic_close=%s\n",
                     state_name(wd.state), wd.timeout, wd.open_fh ? "yes" : "no", wd.keepalives,
                     wd.bootstatus, wd.magic_close ? "yes" : "no");
        snprintf(tmp, sizeof(tmp), "%s.tmp", wd.state_path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        if (write(fd, buf, (size_t)n) != n) {
                close(fd);
                unlink(tmp);
                return;
        }
        close(fd);
        rename(tmp, wd.state_path);
}

static void wd_arm(const char *why) {
        wd.state = WD_ARMED;
        wd.deadline_ns = mono_ns() + (int64_t)wd.timeout * 1000000000;
        wd_log("arm timeout=%d (%s)", wd.timeout, why);
        wd_publish();
        pthread_cond_broadcast(&wd.changed);
}

static void wd_disarm(const char *why) {
        if (wd.state == WD_ARMED)
                wd_log("disarm (%s)", why);
        wd.state = WD_DISARMED;
        wd_publish();
        pthread_cond_broadcast(&wd.changed);
}

static void wd_ping(const char *how) {
        if (wd.state != WD_ARMED)
                return;
        int64_t now = mono_ns();
        double left = (double)(wd.deadline_ns - now) / 1e9;
        wd.deadline_ns = now + (int64_t)wd.timeout * 1000000000;
        wd.keepalives++;
        wd_log("keepalive via=%s timeout=%d left_before=%.3f", how, wd.timeout, left);
        wd_publish();
        pthread_cond_broadcast(&wd.changed);
}

/* A process's start time (field 22 of /proc/PID/stat), 0 if it is gone. */

/* Remembers which host incarnation opened the watchdog: the pid in
 * --pidfile ("PID [STARTTIME]"), read at open. Expiry kills that one, and
 * only if it still is the same process, so a stale pid is never killed. */
static void wd_read_target(void) {
        char buf[64] = { 0 };
        long long pid = 0;
        unsigned long long st = 0;
        int fd;

        wd.target_pid = 0;
        wd.target_start = 0;
        if (!wd.pidfile)
                return;
        fd = open(wd.pidfile, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (read(fd, buf, sizeof(buf) - 1) > 0 && sscanf(buf, "%lld %llu", &pid, &st) >= 1 && pid > 1) {
                wd.target_pid = (pid_t)pid;
                wd.target_start = st ? st : proc_stat_start_time((pid_t)pid, NULL);
        }
        close(fd);
}

static bool wd_target_alive(void) {
        return wd.target_pid > 0 && proc_stat_start_time(wd.target_pid, NULL) == wd.target_start;
}

/* The timer fired: power the host off. Lock held. */
static void wd_expire(void) {
        pid_t pid = wd_target_alive() ? wd.target_pid : 0;

        wd.state = WD_FIRED;
        wd.bootstatus = WDIOF_CARDRESET;
        wd.open_fh = 0;
        wd.expect_close = false;
        if (pid > 0) {
                int r = kill(pid, SIGKILL);
                wd_log("expire timeout=%d: power off, SIGKILL to host init pid %d: %s", wd.timeout,
                       (int)pid, r == 0 ? "sent" : strerror(errno));
        } else {
                wd_log("expire timeout=%d: power off, but the host is already off", wd.timeout);
        }
        if (wd.exec_cmd) {
                pid_t c = fork();
                if (c == 0) {
                        execl("/bin/sh", "sh", "-c", wd.exec_cmd, (char *)NULL);
                        _exit(127);
                }
                wd_log("expire: ran '%s' as pid %d", wd.exec_cmd, (int)c);
        }
        wd_publish();
}

static void *wd_timer_thread(void *arg) {
        (void)arg;
        pthread_mutex_lock(&wd.lock);
        for (;;) {
                if (wd.state != WD_ARMED) {
                        pthread_cond_wait(&wd.changed, &wd.lock);
                        continue;
                }
                int64_t d = wd.deadline_ns, now = mono_ns();
                if (now >= d) {
                        wd_expire();
                        continue;
                }
                /* A host that powered itself off (vmhad's reboot() kills its
                 * PID namespace) resets its watchdog, as a real reboot does. */
                if (wd.target_pid > 0 && !wd_target_alive()) {
                        wd_log("host init pid %d is gone: power cycle resets the watchdog",
                               (int)wd.target_pid);
                        wd.target_pid = 0;
                        wd.open_fh = 0;
                        wd.expect_close = false;
                        wd_disarm("host powered off");
                        continue;
                }
                if (d > now + 200000000)
                        d = now + 200000000;
                struct timespec ts = { .tv_sec = d / 1000000000, .tv_nsec = d % 1000000000 };
                pthread_cond_timedwait(&wd.changed, &wd.lock, &ts);
        }
        return NULL;
}

/* SIGUSR1: the host was powered off or on from outside. */
static void *wd_signal_thread(void *arg) {
        sigset_t *set = arg;
        int sig;

        for (;;) {
                if (sigwait(set, &sig) != 0)
                        continue;
                while (waitpid(-1, NULL, WNOHANG) > 0) {
                }
                if (sig != SIGUSR1)
                        continue;
                pthread_mutex_lock(&wd.lock);
                wd_log("reset: host power-cycled from outside (state was %s)", state_name(wd.state));
                wd.state = WD_DISARMED;
                wd.open_fh = 0;
                wd.expect_close = false;
                wd.bootstatus = 0;
                wd.target_pid = 0;
                wd_publish();
                pthread_cond_broadcast(&wd.changed);
                pthread_mutex_unlock(&wd.lock);
        }
        return NULL;
}

/* ---- FUSE, low-level API ------------------------------------------------
 * The low-level API, because only it can answer an ioctl with fewer bytes
 * than its command number announces. WDIOC_KEEPALIVE is _IOR(..., int),
 * yet the kernel's documentation and most callers pass a NULL argument;
 * answering it with 0 bytes keeps the kernel from copying out to NULL. */

#define WD_INO 2

static void wd_stat(fuse_ino_t ino, struct stat *st) {
        memset(st, 0, sizeof(*st));
        st->st_ino = ino;
        if (ino == FUSE_ROOT_ID) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
        } else {
                st->st_mode = S_IFREG | 0600;
                st->st_nlink = 1;
        }
}

static void wd_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct fuse_entry_param e;

        if (parent != FUSE_ROOT_ID || strcmp(name, WD_FILE + 1) != 0) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        memset(&e, 0, sizeof(e));
        e.ino = WD_INO;
        e.attr_timeout = 1.0;
        e.entry_timeout = 1.0;
        wd_stat(WD_INO, &e.attr);
        fuse_reply_entry(req, &e);
}

static void wd_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct stat st;

        (void)fi;
        if (ino != FUSE_ROOT_ID && ino != WD_INO) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        wd_stat(ino, &st);
        fuse_reply_attr(req, &st, 1.0);
}

/* open(O_TRUNC) and `echo V >` truncate: accepted, nothing to do. */
static void wd_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                          struct fuse_file_info *fi) {
        (void)attr;
        (void)to_set;
        wd_ll_getattr(req, ino, fi);
}

static void wd_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi) {
        static const struct {
                const char *name;
                fuse_ino_t ino;
        } ents[] = { { ".", FUSE_ROOT_ID }, { "..", FUSE_ROOT_ID }, { WD_FILE + 1, WD_INO } };
        char buf[512];
        size_t used = 0;

        (void)fi;
        if (ino != FUSE_ROOT_ID) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        for (off_t i = off; i < (off_t)(sizeof(ents) / sizeof(ents[0])); i++) {
                struct stat st;
                wd_stat(ents[i].ino, &st);
                size_t n = fuse_add_direntry(req, buf + used, sizeof(buf) - used, ents[i].name, &st, i + 1);
                if (used + n > sizeof(buf) || used + n > size)
                        break;
                used += n;
        }
        fuse_reply_buf(req, buf, used);
}

static void wd_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (ino != WD_INO) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        pthread_mutex_lock(&wd.lock);
        if (wd.open_fh) {
                wd_log("open refused: already open (EBUSY)");
                pthread_mutex_unlock(&wd.lock);
                fuse_reply_err(req, EBUSY);
                return;
        }
        fi->fh = wd.next_fh++;
        fi->direct_io = 1;
        fi->nonseekable = 1;
        wd.open_fh = fi->fh;
        wd.expect_close = false;
        wd_read_target();
        wd_log("open fh=%llu host-pid=%d", (unsigned long long)fi->fh, (int)wd.target_pid);
        if (wd.state == WD_ARMED)
                wd_ping("open");
        else
                wd_arm("open");
        pthread_mutex_unlock(&wd.lock);
        fuse_reply_open(req, fi);
}

static bool wd_is_opener(struct fuse_file_info *fi) {
        return fi && wd.open_fh && fi->fh == wd.open_fh;
}

static void wd_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi) {
        (void)ino;
        (void)off;
        pthread_mutex_lock(&wd.lock);
        if (wd_is_opener(fi) && size > 0) {
                /* As the kernel does: each write decides the magic close anew. */
                wd.expect_close = memchr(buf, 'V', size) != NULL;
                if (wd.expect_close)
                        wd_log(wd.magic_close ? "magic close character written"
                                              : "magic close character written (means nothing: no magic close)");
                wd_ping("write");
        }
        pthread_mutex_unlock(&wd.lock);
        fuse_reply_write(req, size);
}

static void wd_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        (void)ino;
        (void)size;
        (void)off;
        (void)fi;
        fuse_reply_err(req, EINVAL);    /* a watchdog device has no read */
}

static void wd_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        (void)ino;
        (void)fi;
        fuse_reply_err(req, 0);
}

static void wd_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        (void)ino;
        pthread_mutex_lock(&wd.lock);
        if (!wd_is_opener(fi)) {
                /* Released after a power cycle or expiry: nothing to do. */
        } else if (!wd.magic_close) {
                /* The kernel's watchdog_release(): a driver without
                 * WDIOF_MAGICCLOSE stops on any close (nowayout unset). */
                wd.open_fh = 0;
                wd.expect_close = false;
                wd_log("release: no magic close in this driver, so any close stops the timer");
                wd_disarm("release without magic close support");
        } else if (wd.expect_close) {
                wd.open_fh = 0;
                wd.expect_close = false;
                wd_log("release with magic close");
                wd_disarm("magic close");
        } else {
                wd.open_fh = 0;
                wd_log("release without magic close: watchdog did not stop, still armed");
                wd_ping("release");
        }
        wd_publish();
        pthread_mutex_unlock(&wd.lock);
        fuse_reply_err(req, 0);
}

/* Each command answers with exactly the bytes it produces. Input exists
 * only for _IOW commands (WDIOC_SETTIMEOUT); WDIOC_SETOPTIONS is declared
 * _IOR although it carries input, so FUSE never passes its value, and it is
 * refused rather than guessed. */
static void wd_ll_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
                        struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
                        size_t out_bufsz) {
        struct watchdog_info info;
        int v = 0, err = 0;
        const void *out = NULL;
        size_t out_len = 0;

        (void)ino;
        (void)arg;
        (void)flags;
        pthread_mutex_lock(&wd.lock);
        if (!wd_is_opener(fi)) {
                err = EBADF;
                goto out;
        }
        switch (cmd) {
        case WDIOC_GETSUPPORT:
                memset(&info, 0, sizeof(info));
                info.options = WDIOF_SETTIMEOUT | WDIOF_KEEPALIVEPING | (wd.magic_close ? WDIOF_MAGICCLOSE : 0);
                info.firmware_version = 1;
                snprintf((char *)info.identity, sizeof(info.identity), "vmha lab fusewd");
                out = &info;
                out_len = sizeof(info);
                break;
        case WDIOC_GETSTATUS:
                v = 0;
                out = &v;
                out_len = sizeof(v);
                break;
        case WDIOC_GETBOOTSTATUS:
                v = wd.bootstatus;
                out = &v;
                out_len = sizeof(v);
                break;
        case WDIOC_KEEPALIVE:
                wd_ping("ioctl");
                break;
        case WDIOC_SETTIMEOUT:
                if (in_bufsz < sizeof(int)) {
                        err = EINVAL;
                        break;
                }
                memcpy(&v, in_buf, sizeof(v));
                if (v < WD_MIN_TIMEOUT || v > WD_MAX_TIMEOUT) {
                        wd_log("settimeout %d refused (range %d..%d)", v, WD_MIN_TIMEOUT, WD_MAX_TIMEOUT);
                        err = EINVAL;
                        break;
                }
                wd.timeout = v;
                wd_log("settimeout %d", v);
                wd_ping("settimeout");
                wd_publish();
                out = &wd.timeout;
                out_len = sizeof(int);
                break;
        case WDIOC_GETTIMEOUT:
                v = wd.timeout;
                out = &v;
                out_len = sizeof(v);
                break;
        case WDIOC_GETTIMELEFT:
                v = wd.state == WD_ARMED ? (int)((wd.deadline_ns - mono_ns()) / 1000000000) : 0;
                out = &v;
                out_len = sizeof(v);
                break;
        case WDIOC_SETOPTIONS:
                wd_log("WDIOC_SETOPTIONS refused: FUSE does not pass its argument");
                err = EOPNOTSUPP;
                break;
        default:
                err = ENOTTY;
        }
out:
        if (out_len > out_bufsz)
                out_len = out_bufsz;
        if (err)
                fuse_reply_err(req, err);
        else
                fuse_reply_ioctl(req, 0, out, out_len);
        pthread_mutex_unlock(&wd.lock);
}

static const struct fuse_lowlevel_ops ops = {
        .lookup = wd_ll_lookup,
        .getattr = wd_ll_getattr,
        .setattr = wd_ll_setattr,
        .readdir = wd_ll_readdir,
        .open = wd_ll_open,
        .read = wd_ll_read,
        .write = wd_ll_write,
        .flush = wd_ll_flush,
        .release = wd_ll_release,
        .ioctl = wd_ll_ioctl,
};

static void usage(const char *argv0) {
        fprintf(stderr,
                "usage: %s [--pidfile FILE] [--exec CMD] [--log FILE] [--state FILE]\n"
                "          [--name NAME] [--timeout SECONDS] [--no-magic-close] MOUNTPOINT\n",
                argv0);
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "pidfile", required_argument, NULL, 'p' }, { "exec", required_argument, NULL, 'e' },
                { "log", required_argument, NULL, 'l' },     { "state", required_argument, NULL, 's' },
                { "name", required_argument, NULL, 'n' },    { "timeout", required_argument, NULL, 't' },
                { "no-magic-close", no_argument, NULL, 'M' },
                { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
        };
        static sigset_t sigs;
        pthread_t timer, sigthr;
        int c;

        while ((c = getopt_long(argc, argv, "p:e:l:s:n:t:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        wd.pidfile = optarg;
                        break;
                case 'e':
                        wd.exec_cmd = optarg;
                        break;
                case 'l':
                        wd.log_path = optarg;
                        break;
                case 's':
                        wd.state_path = optarg;
                        break;
                case 'n':
                        wd.name = optarg;
                        break;
                case 't':
                        wd.timeout = atoi(optarg);
                        if (wd.timeout < WD_MIN_TIMEOUT || wd.timeout > WD_MAX_TIMEOUT) {
                                fprintf(stderr, "fusewd: --timeout must be in %d..%d\n", WD_MIN_TIMEOUT,
                                        WD_MAX_TIMEOUT);
                                return 2;
                        }
                        break;
                case 'M':
                        wd.magic_close = false;
                        break;
                case 'h':
                        usage(argv[0]);
                        return 0;
                default:
                        usage(argv[0]);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                usage(argv[0]);
                return 2;
        }

        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&wd.changed, &ca);
        pthread_condattr_destroy(&ca);

        /* Blocked here, so every thread FUSE creates inherits the mask and
         * only the signal thread receives SIGUSR1 (and reaps --exec children). */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGUSR1);
        sigaddset(&sigs, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        if (pthread_create(&timer, NULL, wd_timer_thread, NULL) != 0 ||
            pthread_create(&sigthr, NULL, wd_signal_thread, &sigs) != 0) {
                fprintf(stderr, "fusewd: cannot start threads\n");
                return 1;
        }

        pthread_mutex_lock(&wd.lock);
        wd_log("start: default timeout=%d, power-off target %s, magic close %s", wd.timeout,
               wd.pidfile ? wd.pidfile : "(none)", wd.magic_close ? "yes" : "no (every release disarms)");
        wd_publish();
        pthread_mutex_unlock(&wd.lock);

        /* Single-threaded: no handler ever blocks. */
        char *fargv[] = { argv[0], "-o", "fsname=vmha-wd,subtype=fusewd,allow_other,auto_unmount", NULL };
        struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
        struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
        int r = 1;

        if (!se)
                return 1;
        if (fuse_set_signal_handlers(se) == 0) {
                if (fuse_session_mount(se, argv[optind]) == 0) {
                        r = fuse_session_loop(se) == 0 ? 0 : 1;
                        fuse_session_unmount(se);
                }
                fuse_remove_signal_handlers(se);
        }
        fuse_session_destroy(se);
        pthread_mutex_lock(&wd.lock);
        wd_log("stop: unmounted (state was %s)", state_name(wd.state));
        pthread_mutex_unlock(&wd.lock);
        return r;
}
