/* The sim driver: VMs are vmha-simvm processes in this host's namespaces.
 *
 * A start spawns vmha-simvm (posix_spawn: safe beside the disk thread) in
 * a session of its own, with its stderr appended to LOG_DIR/NAME.log and a
 * pipe on fd 3 on which it says "ready" once its first record is on its
 * virtual disk: that is STARTED. A stop is SIGTERM, then SIGKILL past its
 * deadline; pause and resume are SIGSTOP and SIGCONT; destroy is SIGKILL.
 * A VM that ends unasked is DIED, an orderly shutdown from inside the
 * guest when it exits 0, a crash otherwise.
 *
 * The VMs outlive vmhad, as Xen domains do: a new vmhad finds them in
 * /proc by their command line (vmha-simvm --name NAME --host HOST
 * --instance ID ... CONFIG, HOST this host's name) and adopts them. It is not their parent then, so when one ends,
 * the cause is unknown and it is reported as a crash.
 */
#include "daemon/driver.h"
#include "daemon/proc_stat.h"
#include "daemon/simvm_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum sim_phase { SIM_STARTING = 1, SIM_RUNNING, SIM_STOPPING };

struct sim_vm {
        char name[VMHA_NAME_MAX];
        char uuid[DRIVER_UUID_MAX];
        pid_t pid;
        unsigned long long start_time;  /* /proc/PID/stat field 22: tells a reused pid */
        bool child;                     /* spawned by this driver: its exit status is ours */
        uint64_t memory_mib;
        enum sim_phase phase;
        bool paused, forced, killed;
        uint64_t deadline_ms;           /* STARTING: up by; STOPPING: clean by */
        int ready_fd;                   /* STARTING: the read end of its ready pipe */
};

struct driver_sim {
        struct driver base;
        char program[SIMVM_PATH_MAX];
        char host[VMHA_NAME_MAX];
        char log_dir[SIMVM_PATH_MAX];
        uint64_t memory_mib;
        uint32_t record_interval_ms;
        struct sim_vm *vms;
        size_t n, cap;
        uint64_t next_adopt_ms;         /* the poll's next look into /proc */
};

/* The poll looks for sim VMs it does not know (started outside vmha, or
 * by an earlier vmhad) this often, not at every tick: a scan reads every
 * process's command line. A start, a stop and the like look at once. */
#define SIM_ADOPT_EVERY_MS 1000u

static struct driver_sim *sim_of(struct driver *d) {
        return (struct driver_sim *)d;
}

static void set_err(struct driver_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct driver_error *e, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
}

static struct sim_vm *find(struct driver_sim *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->vms[i].name, name) == 0)
                        return &s->vms[i];
        return NULL;
}

static struct sim_vm *add(struct driver_sim *s) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                struct sim_vm *v = realloc(s->vms, cap * sizeof(*v));
                if (!v)
                        return NULL;
                s->vms = v;
                s->cap = cap;
        }
        s->vms[s->n] = (struct sim_vm){ .ready_fd = -1 };
        return &s->vms[s->n++];
}

static void drop(struct driver_sim *s, struct sim_vm *v) {
        if (v->ready_fd >= 0)
                close(v->ready_fd);
        *v = s->vms[--s->n];
}

static void report(struct driver_sim *s, enum driver_report_type t, const struct sim_vm *v, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void report(struct driver_sim *s, enum driver_report_type t, const struct sim_vm *v, const char *fmt, ...) {
        struct driver_report r = { .type = t, .forced = v->forced };
        va_list ap;

        snprintf(r.name, sizeof(r.name), "%s", v->name);
        snprintf(r.uuid, sizeof(r.uuid), "%s", v->uuid);
        va_start(ap, fmt);
        vsnprintf(r.why, sizeof(r.why), fmt, ap);
        va_end(ap);
        if (s->base.report)
                s->base.report(s->base.userdata, &r);
}

/* The last line the VM wrote to its log: why a start failed. */
static void last_log_line(const struct driver_sim *s, const char *name, char *out, size_t len) {
        char path[SIMVM_PATH_MAX + VMHA_NAME_MAX + 8], buf[1024];
        ssize_t got = -1;
        int fd;

        out[0] = 0;
        snprintf(path, sizeof(path), "%s/%s.log", s->log_dir, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                off_t end = lseek(fd, 0, SEEK_END);
                off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
                got = pread(fd, buf, sizeof(buf) - 1, from);
                close(fd);
        }
        if (got <= 0)
                return;
        buf[got] = 0;
        while (got > 0 && buf[got - 1] == '\n')
                buf[--got] = 0;
        char *nl = strrchr(buf, '\n');
        const char *line = nl ? nl + 1 : buf;
        size_t k = strnlen(line, len - 1);
        memcpy(out, line, k);
        out[k] = 0;
}

static void describe_status(int status, char *out, size_t len) {
        if (WIFEXITED(status))
                snprintf(out, len, "exit status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(out, len, "killed by %s", strsignal(WTERMSIG(status)));
        else
                snprintf(out, len, "wait status %#x", status);
}

/* vmha-simvm's command line: NAME after --name, ID after --instance, the
 * config last. 0 when pid is a sim VM of host. */
static int read_cmdline(pid_t pid, const char *host, char *name, char *uuid, char *config) {
        char path[64], buf[4096];
        char *argv[32];
        int argc = 0, fd;
        ssize_t got;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        got = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (got <= 0)
                return -ENOENT;
        buf[got] = 0;
        for (char *p = buf; p < buf + got && argc < 32; p += strlen(p) + 1)
                argv[argc++] = p;
        const char *base = strrchr(argv[0], '/');
        if (strcmp(base ? base + 1 : argv[0], "vmha-simvm") != 0)
                return -ENOENT;
        bool ours = false;
        name[0] = uuid[0] = 0;
        for (int i = 1; i + 1 < argc; i++) {
                if (strcmp(argv[i], "--host") == 0)
                        ours = strcmp(argv[i + 1], host) == 0;
                else if (strcmp(argv[i], "--name") == 0)
                        snprintf(name, VMHA_NAME_MAX, "%s", argv[i + 1]);
                else if (strcmp(argv[i], "--instance") == 0)
                        snprintf(uuid, DRIVER_UUID_MAX, "%s", argv[i + 1]);
        }
        snprintf(config, SIMVM_PATH_MAX, "%s", argv[argc - 1]);
        return name[0] && ours ? 0 : -ENOENT;
}

static bool known_pid(const struct driver_sim *s, pid_t pid) {
        for (size_t i = 0; i < s->n; i++)
                if (s->vms[i].pid == pid)
                        return true;
        return false;
}

/* Adopts every sim VM in /proc this driver does not know yet. */
static void adopt(struct driver_sim *s) {
        DIR *dir = opendir("/proc");
        struct dirent *de;

        if (!dir)
                return;
        while ((de = readdir(dir))) {
                char name[VMHA_NAME_MAX], uuid[DRIVER_UUID_MAX], config[SIMVM_PATH_MAX], state = 0;
                char err[SIMVM_ERROR_MAX + SIMVM_PATH_MAX];
                struct simvm_config cfg;
                struct sim_vm *v;
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 0 || known_pid(s, (pid_t)pid) || read_cmdline((pid_t)pid, s->host, name, uuid, config) < 0)
                        continue;
                unsigned long long st = proc_stat_start_time((pid_t)pid, &state);
                if (!st || state == 'Z' || find(s, name))
                        continue;       /* gone, or a second process of a known VM: list shows the first */
                v = add(s);
                if (!v)
                        break;
                snprintf(v->name, sizeof(v->name), "%s", name);
                snprintf(v->uuid, sizeof(v->uuid), "%s", uuid);
                v->pid = (pid_t)pid;
                v->start_time = st;
                v->phase = SIM_RUNNING;
                v->paused = state == 'T';
                v->memory_mib = simvm_config_load(config, &cfg, err, sizeof(err)) == 0 ? cfg.memory_mib : 0;
        }
        closedir(dir);
}

/* The config of VM name, read and checked once. */
static int load_config(const char *name, const char *config, struct simvm_config *cfg, struct driver_error *e) {
        char err[SIMVM_ERROR_MAX + SIMVM_PATH_MAX];
        int r = simvm_config_load(config, cfg, err, sizeof(err));

        if (r < 0) {
                set_err(e, "%s", err);
                return r;
        }
        if (strcmp(cfg->name, name) != 0) {
                set_err(e, "%s is the config of '%s', not of '%s'", config, cfg->name, name);
                return -EINVAL;
        }
        return 0;
}

static int sim_check_config(struct driver *d, const char *name, const char *config, struct driver_error *e) {
        struct simvm_config cfg;

        return load_config(name, config, &cfg, e);
}

static int sim_list(struct driver *d, struct driver_domain *out, size_t max, size_t *n, struct driver_error *e) {
        struct driver_sim *s = sim_of(d);
        size_t k = 0;

        for (size_t i = 0; i < s->n && k < max; i++) {
                const struct sim_vm *v = &s->vms[i];
                struct driver_domain *o = &out[k++];

                snprintf(o->name, sizeof(o->name), "%s", v->name);
                snprintf(o->uuid, sizeof(o->uuid), "%s", v->uuid);
                o->memory_mib = v->memory_mib;
                o->state = v->phase == SIM_STOPPING ? DRIVER_DOMAIN_STOPPING
                           : v->paused               ? DRIVER_DOMAIN_PAUSED
                                                     : DRIVER_DOMAIN_RUNNING;
        }
        *n = k;
        return 0;
}

static uint64_t used_mib(const struct driver_sim *s) {
        uint64_t sum = 0;

        for (size_t i = 0; i < s->n; i++)
                sum += s->vms[i].memory_mib;
        return sum;
}

static uint64_t free_mib(const struct driver_sim *s) {
        uint64_t used = used_mib(s);

        return used < s->memory_mib ? s->memory_mib - used : 0;
}

static int sim_free_memory(struct driver *d, uint64_t *mib, struct driver_error *e) {
        struct driver_sim *s = sim_of(d);

        adopt(s);
        *mib = free_mib(s);
        return 0;
}

static int sim_start(struct driver *d, const struct driver_vm *vm, uint64_t now_ms, uint64_t deadline_ms,
                     struct driver_error *e) {
        struct driver_sim *s = sim_of(d);
        char interval[16], log_path[SIMVM_PATH_MAX + VMHA_NAME_MAX + 8];
        struct simvm_config cfg;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        struct sim_vm *v;
        uint8_t rnd[8];
        char uuid[DRIVER_UUID_MAX];
        int pipefd[2], r;
        pid_t pid;

        adopt(s);
        v = find(s, vm->name);
        if (v) {
                set_err(e, "%s runs here already (pid %d, instance %s)", vm->name, (int)v->pid, v->uuid);
                return -EEXIST;
        }
        r = load_config(vm->name, vm->config, &cfg, e);
        if (r < 0)
                return r;
        if (cfg.memory_mib > free_mib(s)) {
                set_err(e, "not enough free memory for %s: it needs %" PRIu64 " MiB, this host has %" PRIu64 " MiB free",
                        vm->name, cfg.memory_mib, free_mib(s));
                return -ENOMEM;
        }
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
                set_err(e, "no random instance id: %s", strerror(errno));
                return -EIO;
        }
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(uuid + 2 * i, 3, "%02x", rnd[i]);
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                set_err(e, "%s: no ready pipe: %s", vm->name, strerror(-r));
                return r;
        }
        snprintf(log_path, sizeof(log_path), "%s/%s.log", s->log_dir, vm->name);
        snprintf(interval, sizeof(interval), "%u", s->record_interval_ms);
        char *argv[16];
        int argc = 0;
        argv[argc++] = s->program;
        argv[argc++] = "--name";
        argv[argc++] = (char *)vm->name;
        argv[argc++] = "--host";
        argv[argc++] = s->host;
        argv[argc++] = "--instance";
        argv[argc++] = uuid;
        argv[argc++] = "--ready-fd";
        argv[argc++] = "3";
        if (s->record_interval_ms) {
                argv[argc++] = "--interval-ms";
                argv[argc++] = interval;
        }
        argv[argc++] = (char *)vm->config;
        argv[argc] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_APPEND | O_CREAT, 0640);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 3);
        posix_spawnattr_init(&attr);
        /* Its own session: a signal to vmhad's process group spares it. */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        {
                sigset_t none, all;
                sigemptyset(&none);
                sigfillset(&all);
                posix_spawnattr_setsigmask(&attr, &none);
                posix_spawnattr_setsigdefault(&attr, &all);
        }
        r = posix_spawn(&pid, s->program, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(pipefd[1]);
        if (r != 0) {
                close(pipefd[0]);
                set_err(e, "%s: cannot run %s: %s", vm->name, s->program, strerror(r));
                return -r;
        }
        fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        v = add(s);
        if (!v) {
                kill(pid, SIGKILL);
                close(pipefd[0]);
                set_err(e, "%s: out of memory", vm->name);
                return -ENOMEM;
        }
        snprintf(v->name, sizeof(v->name), "%s", vm->name);
        snprintf(v->uuid, sizeof(v->uuid), "%s", uuid);
        v->pid = pid;
        v->child = true;
        v->start_time = proc_stat_start_time(pid, NULL);
        v->memory_mib = cfg.memory_mib;
        v->phase = SIM_STARTING;
        v->deadline_ms = deadline_ms;
        v->ready_fd = pipefd[0];
        return 0;
}

static int signal_vm(struct driver_sim *s, const char *name, int sig, struct sim_vm **out, struct driver_error *e) {
        struct sim_vm *v;

        adopt(s);
        v = find(s, name);
        if (!v) {
                set_err(e, "no VM %s runs on this host", name);
                return -ENOENT;
        }
        if (kill(v->pid, sig) < 0 && errno != ESRCH) {
                int r = -errno;
                set_err(e, "%s (pid %d): %s: %s", name, (int)v->pid, strsignal(sig), strerror(-r));
                return r;
        }
        *out = v;
        return 0;
}

static int sim_stop(struct driver *d, const char *name, uint64_t now_ms, uint64_t clean_by_ms,
                    struct driver_error *e) {
        struct sim_vm *v;
        int r = signal_vm(sim_of(d), name, SIGTERM, &v, e);

        if (r < 0)
                return r;
        if (v->paused)
                kill(v->pid, SIGCONT);  /* a paused guest cannot shut down */
        v->paused = false;
        if (v->phase != SIM_STOPPING) {
                v->phase = SIM_STOPPING;
                v->deadline_ms = clean_by_ms;
        }
        return 0;
}

/* Pause (SIGSTOP) or resume (SIGCONT): the guest's vCPUs stop or go on. */
static int set_paused(struct driver *d, const char *name, bool paused, struct driver_error *e) {
        struct sim_vm *v;
        int r = signal_vm(sim_of(d), name, paused ? SIGSTOP : SIGCONT, &v, e);

        if (r == 0)
                v->paused = paused;
        return r;
}

static int sim_pause(struct driver *d, const char *name, struct driver_error *e) {
        return set_paused(d, name, true, e);
}

static int sim_resume(struct driver *d, const char *name, struct driver_error *e) {
        return set_paused(d, name, false, e);
}

static int sim_destroy(struct driver *d, const char *name, struct driver_error *e) {
        struct sim_vm *v;
        int r = signal_vm(sim_of(d), name, SIGKILL, &v, e);

        if (r == 0) {
                v->phase = SIM_STOPPING;
                v->forced = v->killed = true;
                v->deadline_ms = 0;
        }
        return r;
}

static int sim_migrate_send(struct driver *d, const char *name, int fd, struct driver_error *e) {
        set_err(e, "%s: the sim driver cannot migrate yet (no migration channel in this version)", name);
        return -EOPNOTSUPP;
}

static int sim_migrate_receive(struct driver *d, const struct driver_vm *vm, int fd, struct driver_error *e) {
        set_err(e, "%s: the sim driver cannot migrate yet (no migration channel in this version)", vm->name);
        return -EOPNOTSUPP;
}

/* A VM that ended: say how, and forget it. */
static void ended(struct driver_sim *s, struct sim_vm *v, bool have_status, int status) {
        char how[96], last[256];

        if (have_status)
                describe_status(status, how, sizeof(how));
        else
                snprintf(how, sizeof(how), "it ended while this vmhad was not its parent: cause unknown");
        if (v->phase == SIM_STARTING) {
                last_log_line(s, v->name, last, sizeof(last));
                if (v->killed)
                        report(s, DRIVER_REPORT_START_FAILED, v, "it did not come up in time, so it was destroyed");
                else
                        report(s, DRIVER_REPORT_START_FAILED, v, "%s before it came up%s%s", how, last[0] ? ": " : "",
                               last);
        } else if (v->phase == SIM_STOPPING) {
                report(s, DRIVER_REPORT_STOPPED, v, "%s", v->forced ? "destroyed" : "stopped cleanly");
        } else if (have_status && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                struct driver_report r = { .type = DRIVER_REPORT_DIED, .guest_shutdown = true };
                snprintf(r.name, sizeof(r.name), "%s", v->name);
                snprintf(r.uuid, sizeof(r.uuid), "%s", v->uuid);
                snprintf(r.why, sizeof(r.why), "the guest shut itself down");
                if (s->base.report)
                        s->base.report(s->base.userdata, &r);
        } else {
                /* Its last words say why only when it ended by itself. */
                bool own = have_status && WIFEXITED(status);
                last_log_line(s, v->name, last, sizeof(last));
                report(s, DRIVER_REPORT_DIED, v, "it crashed: %s%s%s", how, own && last[0] ? ": " : "",
                       own ? last : "");
        }
        drop(s, v);
}

static void sim_poll(struct driver *d, uint64_t now_ms) {
        struct driver_sim *s = sim_of(d);

        if (now_ms >= s->next_adopt_ms) {
                adopt(s);
                s->next_adopt_ms = now_ms + SIM_ADOPT_EVERY_MS;
        }

        for (size_t i = 0; i < s->n;) {
                struct sim_vm *v = &s->vms[i];
                int status;

                if (v->child) {
                        pid_t w = waitpid(v->pid, &status, WNOHANG);
                        if (w == v->pid || (w < 0 && errno == ECHILD)) {
                                ended(s, v, w == v->pid, status);
                                continue;
                        }
                } else {
                        char st = 0;
                        if (proc_stat_start_time(v->pid, &st) != v->start_time || st == 'Z') {
                                ended(s, v, false, 0);  /* gone, or dead and not ours to reap */
                                continue;
                        }
                }
                if (v->phase == SIM_STARTING && v->ready_fd >= 0) {
                        char buf[16];
                        ssize_t got = read(v->ready_fd, buf, sizeof(buf));
                        if (got > 0 && memcmp(buf, "ready", 5) == 0) {
                                close(v->ready_fd);
                                v->ready_fd = -1;
                                v->phase = SIM_RUNNING;
                                report(s, DRIVER_REPORT_STARTED, v, "its first record is on its disk");
                        } else if (got == 0) {
                                close(v->ready_fd);
                                v->ready_fd = -1;       /* it is ending: the reaping reports why */
                        }
                }
                if (v->phase == SIM_STARTING && !v->killed && now_ms >= v->deadline_ms) {
                        kill(v->pid, SIGKILL);
                        v->killed = true;
                }
                if (v->phase == SIM_STOPPING && !v->forced && now_ms >= v->deadline_ms) {
                        kill(v->pid, SIGKILL);
                        v->forced = v->killed = true;
                }
                i++;
        }
}

static void sim_free(struct driver *d) {
        struct driver_sim *s = sim_of(d);

        for (size_t i = 0; i < s->n; i++)
                if (s->vms[i].ready_fd >= 0)
                        close(s->vms[i].ready_fd);
        free(s->vms);
        free(s);
}

static const struct driver_ops sim_ops = {
        .name = "sim",
        .check_config = sim_check_config,
        .list = sim_list,
        .start = sim_start,
        .stop = sim_stop,
        .pause = sim_pause,
        .resume = sim_resume,
        .destroy = sim_destroy,
        .migrate_send = sim_migrate_send,
        .migrate_receive = sim_migrate_receive,
        .free_memory = sim_free_memory,
        .poll = sim_poll,
        .free = sim_free,
};

int driver_sim_new(const struct driver_sim_config *cfg, driver_report_fn fn, void *userdata, struct driver **ret,
                   struct driver_error *e) {
        struct driver_sim *s;

        if (access(cfg->program, X_OK) < 0) {
                int r = -errno;
                set_err(e, "sim driver: %s: %s", cfg->program, strerror(-r));
                return r;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                set_err(e, "sim driver: out of memory");
                return -ENOMEM;
        }
        s->base = (struct driver){ .ops = &sim_ops, .report = fn, .userdata = userdata };
        snprintf(s->program, sizeof(s->program), "%s", cfg->program);
        snprintf(s->host, sizeof(s->host), "%s", cfg->host);
        snprintf(s->log_dir, sizeof(s->log_dir), "%s", cfg->log_dir);
        s->memory_mib = cfg->memory_mib;
        s->record_interval_ms = cfg->record_interval_ms;
        adopt(s);
        *ret = &s->base;
        return 0;
}
