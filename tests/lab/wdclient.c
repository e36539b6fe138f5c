/* wdclient: a minimal watchdog user, to check a watchdog device (the lab's
 * fusewd, or a real one) the way vmhad will drive it.
 *
 * It opens the device, asks what it supports, sets the timeout, feeds it a
 * few times (alternating WDIOC_KEEPALIVE and a plain write), and then
 * either closes it with the magic 'V' (--magic) or stops feeding and waits
 * for the watchdog to power the host off (the default). Every step is
 * printed, with a monotonic timestamp, on stdout.
 *
 * usage: wdclient [--device DEV] [--timeout S] [--feeds N] [--interval MS]
 *                 [--magic] [--wait S]
 * Exit status: 0 done (magic close, or --wait elapsed), 1 an operation
 * failed, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define SAY(...)                                              \
        do {                                                  \
                printf("[%.3f] wdclient: ", now_s());         \
                printf(__VA_ARGS__);                          \
                printf("\n");                                 \
                fflush(stdout);                               \
        } while (0)

static int fail(const char *what) {
        SAY("%s failed: %s", what, strerror(errno));
        return 1;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "device", required_argument, NULL, 'd' }, { "timeout", required_argument, NULL, 't' },
                { "feeds", required_argument, NULL, 'f' },  { "interval", required_argument, NULL, 'i' },
                { "magic", no_argument, NULL, 'm' },        { "wait", required_argument, NULL, 'w' },
                { NULL, 0, NULL, 0 },
        };
        const char *dev = "/dev/watchdog0";
        int timeout = 2, feeds = 2, interval_ms = 500, magic = 0, wait_s = 30, c;

        while ((c = getopt_long(argc, argv, "d:t:f:i:mw:", longopts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        dev = optarg;
                        break;
                case 't':
                        timeout = atoi(optarg);
                        break;
                case 'f':
                        feeds = atoi(optarg);
                        break;
                case 'i':
                        interval_ms = atoi(optarg);
                        break;
                case 'm':
                        magic = 1;
                        break;
                case 'w':
                        wait_s = atoi(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [--device DEV] [--timeout S] [--feeds N] [--interval MS] "
                                "[--magic] [--wait S]\n",
                                argv[0]);
                        return 2;
                }
        }

        int fd = open(dev, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return fail("open");
        SAY("opened %s", dev);

        struct watchdog_info info;
        memset(&info, 0, sizeof(info));
        if (ioctl(fd, WDIOC_GETSUPPORT, &info) < 0)
                return fail("WDIOC_GETSUPPORT");
        SAY("identity '%.32s' options 0x%x magicclose=%d settimeout=%d", (char *)info.identity,
            info.options, !!(info.options & WDIOF_MAGICCLOSE), !!(info.options & WDIOF_SETTIMEOUT));

        int t = timeout;
        if (ioctl(fd, WDIOC_SETTIMEOUT, &t) < 0)
                return fail("WDIOC_SETTIMEOUT");
        SAY("WDIOC_SETTIMEOUT %d -> %d", timeout, t);
        t = -1;
        if (ioctl(fd, WDIOC_GETTIMEOUT, &t) < 0)
                return fail("WDIOC_GETTIMEOUT");
        SAY("WDIOC_GETTIMEOUT %d", t);

        for (int i = 0; i < feeds; i++) {
                struct timespec ts = { interval_ms / 1000, (long)(interval_ms % 1000) * 1000000 };
                nanosleep(&ts, NULL);
                if (i % 2 == 0) {
                        /* NULL, as the kernel's documentation and vmhad do. */
                        if (ioctl(fd, WDIOC_KEEPALIVE, NULL) < 0)
                                return fail("WDIOC_KEEPALIVE");
                        SAY("fed (WDIOC_KEEPALIVE)");
                } else {
                        if (write(fd, "\0", 1) != 1)
                                return fail("write");
                        SAY("fed (write)");
                }
        }

        if (magic) {
                if (write(fd, "V", 1) != 1)
                        return fail("write V");
                if (close(fd) < 0)
                        return fail("close");
                SAY("magic close done");
                return 0;
        }
        SAY("stopped feeding; waiting up to %d s for the power-off", wait_s);
        sleep((unsigned)wait_s);
        SAY("still alive after %d s", wait_s);
        return 0;
}
