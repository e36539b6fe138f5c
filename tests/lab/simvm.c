/* vmha-simvm: a sim VM, the guest of the sim driver.
 *
 * It runs as a process in its host's namespaces, so a host that powers off
 * takes it along, and a host whose control plane is frozen leaves it
 * running, as a Xen guest would be. From its config (simvm_config.h) it
 * takes its name, its memory and its virtual disk, a file on the lab's
 * shared storage. Every interval it appends one record to that disk,
 *
 *   INSTANCE SEQ MONOTONIC_NS HOST
 *
 * with a random instance id per start, in one write() and flushed before
 * the next, so tests/lab/check-disklog can prove S1 from the disks alone:
 * two instances whose records interleave ran at the same time. When its
 * config names a port, it serves it: each connection gets one line,
 * "SEQ NAME INSTANCE HOST", and is closed, so a client outside sees when
 * the VM answers again after a failover.
 *
 * Its command line names the VM (--name) and this run of it (--instance),
 * which is how the sim driver finds its VMs again after vmhad restarts;
 * the driver learns that it came up from --ready-fd, told "ready" once
 * the first record is on the disk. SIGTERM or SIGINT is a clean
 * stop asked from outside (exit 0); SIGUSR1 is a shutdown from inside the
 * guest (exit 0, said so on stderr); a record that cannot be written ends
 * it with exit 3, as a guest whose disk is gone would crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <qb/qbloop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/simvm_config.h"

#define DEFAULT_INTERVAL_MS 100u

struct simvm {
        struct simvm_config cfg;
        char host[VMHA_NAME_MAX];
        char instance[17];
        uint64_t seq;
        uint32_t interval_ms;
        int disk_fd, listen_fd;
        int ready_fd;                   /* told "ready" after the first record, then closed */
        qb_loop_t *loop;
        qb_loop_timer_handle timer;
        int exit_code;
};

static void say(const struct simvm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct simvm *vm, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "vmha-simvm %s [%s]: ", vm->cfg.name, vm->instance);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static uint64_t monotonic_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stop(struct simvm *vm, int code) {
        vm->exit_code = code;
        qb_loop_stop(vm->loop);
}

/* One record, in one write(): O_APPEND makes it land whole at the end. */
static int write_record(struct simvm *vm) {
        char line[160];
        int len;
        ssize_t w;

        len = snprintf(line, sizeof(line), "%s %" PRIu64 " %" PRIu64 " %s\n", vm->instance, vm->seq + 1,
                       monotonic_ns(), vm->host);
        do
                w = write(vm->disk_fd, line, (size_t)len);
        while (w < 0 && errno == EINTR);
        if (w != len) {
                say(vm, "virtual disk %s: record %" PRIu64 " not written: %s: the guest crashes", vm->cfg.disk,
                    vm->seq + 1, w < 0 ? strerror(errno) : "short write");
                return -EIO;
        }
        if (fdatasync(vm->disk_fd) < 0) {
                say(vm, "virtual disk %s: record %" PRIu64 " not flushed: %s: the guest crashes", vm->cfg.disk,
                    vm->seq + 1, strerror(errno));
                return -EIO;
        }
        vm->seq++;
        return 0;
}

static void on_tick(void *data) {
        struct simvm *vm = data;

        if (write_record(vm) < 0) {
                stop(vm, 3);
                return;
        }
        if (vm->ready_fd >= 0) {
                ssize_t w = write(vm->ready_fd, "ready\n", 6);
                (void)w;        /* a starter that went away no longer asks */
                close(vm->ready_fd);
                vm->ready_fd = -1;
        }
        qb_loop_timer_add(vm->loop, QB_LOOP_MED, (uint64_t)vm->interval_ms * 1000000ull, vm, on_tick, &vm->timer);
}

static int32_t on_connect(int32_t fd, int32_t revents, void *data) {
        struct simvm *vm = data;
        char line[160];
        int c, len;

        c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0)
                return 0;
        len = snprintf(line, sizeof(line), "%" PRIu64 " %s %s %s\n", vm->seq, vm->cfg.name, vm->instance, vm->host);
        /* A fresh socket's buffer holds one line; a client that vanished is its own loss. */
        if (send(c, line, (size_t)len, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
                say(vm, "port %u: %s", vm->cfg.port, strerror(errno));
        close(c);
        return 0;
}

static int32_t on_signal(int32_t sig, void *data) {
        struct simvm *vm = data;

        if (sig == SIGUSR1)
                say(vm, "shut down from inside the guest after record %" PRIu64, vm->seq);
        else
                say(vm, "stopped by %s after record %" PRIu64, strsignal(sig), vm->seq);
        stop(vm, 0);
        return 0;
}

static int open_port(struct simvm *vm) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(vm->cfg.port) };
        int one = 1, fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        vm->listen_fd = fd;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f, "usage: vmha-simvm --name NAME --host HOST [--interval-ms N] [--instance ID] [--ready-fd FD]\n"
                   "                  CONFIG\n"
                   "  runs the sim VM of CONFIG (name, memory, disk, port), appending a record\n"
                   "  'INSTANCE SEQ MONOTONIC_NS HOST' to its virtual disk every N ms (default %u);\n"
                   "  ID (16 hex digits) is random unless given; FD is told \"ready\" after the first record\n",
                DEFAULT_INTERVAL_MS);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "host", required_argument, NULL, 'H' },
                { "interval-ms", required_argument, NULL, 'i' },
                { "instance", required_argument, NULL, 'I' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct simvm vm = { .interval_ms = DEFAULT_INTERVAL_MS, .disk_fd = -1, .listen_fd = -1, .ready_fd = -1 };
        const char *name = NULL, *host = NULL, *instance = NULL;
        char err[SIMVM_ERROR_MAX + SIMVM_PATH_MAX];
        uint8_t rnd[8];
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'n': name = optarg; break;
                case 'H': host = optarg; break;
                case 'i': {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || v < 1 || v > 60000) {
                                fprintf(stderr, "vmha-simvm: --interval-ms '%s' is not a number in 1..60000\n", optarg);
                                return 2;
                        }
                        vm.interval_ms = (uint32_t)v;
                        break;
                }
                case 'I':
                        if (strlen(optarg) != 16 || strspn(optarg, "0123456789abcdef") != 16) {
                                fprintf(stderr, "vmha-simvm: --instance '%s' is not 16 lower-case hex digits\n", optarg);
                                return 2;
                        }
                        instance = optarg;
                        break;
                case 'r': {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (!*optarg || *end || v < 3 || v > 1024 || fcntl((int)v, F_GETFD) < 0) {
                                fprintf(stderr, "vmha-simvm: --ready-fd '%s' is not an open descriptor\n", optarg);
                                return 2;
                        }
                        vm.ready_fd = (int)v;
                        fcntl(vm.ready_fd, F_SETFD, FD_CLOEXEC);
                        break;
                }
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (!name || !host || optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        if (!vmha_name_valid(host, strlen(host))) {
                fprintf(stderr, "vmha-simvm: --host '%s' is not a valid host name (%s)\n", host, VMHA_NAME_RULE);
                return 2;
        }
        snprintf(vm.host, sizeof(vm.host), "%s", host);
        r = simvm_config_load(argv[optind], &vm.cfg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "vmha-simvm: %s\n", err);
                return 2;
        }
        if (strcmp(vm.cfg.name, name) != 0) {
                fprintf(stderr, "vmha-simvm: %s is the config of '%s', not of '%s'\n", argv[optind], vm.cfg.name,
                        name);
                return 2;
        }
        if (instance) {
                snprintf(vm.instance, sizeof(vm.instance), "%s", instance);
        } else if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
                fprintf(stderr, "vmha-simvm: no random instance id: %s\n", strerror(errno));
                return 1;
        } else {
                for (size_t i = 0; i < sizeof(rnd); i++)
                        snprintf(vm.instance + 2 * i, 3, "%02x", rnd[i]);
        }
        /* The disk must exist: a VM whose disk is missing does not boot. */
        vm.disk_fd = open(vm.cfg.disk, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (vm.disk_fd < 0) {
                fprintf(stderr, "vmha-simvm: %s: virtual disk %s: %s\n", name, vm.cfg.disk, strerror(errno));
                return 1;
        }
        if (vm.cfg.port && (r = open_port(&vm)) < 0) {
                fprintf(stderr, "vmha-simvm: %s: port %u: %s\n", name, vm.cfg.port, strerror(-r));
                return 1;
        }
        vm.loop = qb_loop_create();
        if (!vm.loop) {
                fprintf(stderr, "vmha-simvm: no event loop\n");
                return 1;
        }
        qb_loop_signal_add(vm.loop, QB_LOOP_HIGH, SIGTERM, &vm, on_signal, NULL);
        qb_loop_signal_add(vm.loop, QB_LOOP_HIGH, SIGINT, &vm, on_signal, NULL);
        qb_loop_signal_add(vm.loop, QB_LOOP_HIGH, SIGUSR1, &vm, on_signal, NULL);
        if (vm.listen_fd >= 0)
                qb_loop_poll_add(vm.loop, QB_LOOP_MED, vm.listen_fd, POLLIN, &vm, on_connect);
        say(&vm, "running on %s: %" PRIu64 " MiB, disk %s, port %u, a record every %u ms", vm.host, vm.cfg.memory_mib,
            vm.cfg.disk, vm.cfg.port, vm.interval_ms);
        /* The first record at once: a started VM is visible on its disk. */
        on_tick(&vm);
        if (vm.exit_code == 0)
                qb_loop_run(vm.loop);
        qb_loop_destroy(vm.loop);
        if (vm.listen_fd >= 0)
                close(vm.listen_fd);
        close(vm.disk_fd);
        return vm.exit_code;
}
