/* The sim driver against real vmha-simvm processes: starts, stops clean
 * and forced, pause and resume, deaths by crash and by guest shutdown,
 * refusals with their reason, start deadlines, and a second driver (a
 * restarted vmhad) that adopts what the first one started. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/driver.h"

static char dir[] = "/var/tmp/test-driver-sim.XXXXXX";
static char program[512];
static char host[32];                   /* unique: the driver adopts only its host's VMs */

#define MAX_REPORTS 32
static struct driver_report reports[MAX_REPORTS];
static size_t n_reports;

static void on_report(void *ud, const struct driver_report *r) {
        if (n_reports < MAX_REPORTS)
                reports[n_reports++] = *r;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Polls until a report of type t for name arrives, within ms. */
static const struct driver_report *await(struct driver *d, enum driver_report_type t, const char *name, int ms) {
        for (int waited = 0; waited <= ms; waited += 20) {
                d->ops->poll(d, now_ms());
                for (size_t i = 0; i < n_reports; i++)
                        if (reports[i].type == t && strcmp(reports[i].name, name) == 0)
                                return &reports[i];
                usleep(20000);
        }
        return NULL;
}

static char *path(const char *name, const char *ext) {
        static char buf[64][600];      /* the tests keep a few paths each */
        static int k;
        char *p = buf[k++ % 64];

        snprintf(p, 600, "%s/%s%s", dir, name, ext);
        return p;
}

/* A config for name with a disk that exists (or not). */
static const char *make_vm(const char *name, uint64_t memory, bool disk) {
        char *cfg = path(name, ".cfg");
        FILE *f = fopen(cfg, "w");

        assert_non_null(f);
        fprintf(f, "name = \"%s\"\nmemory = %llu\ndisk = [ '%s' ]\n", name, (unsigned long long)memory,
                path(name, ".disk"));
        fclose(f);
        if (disk)
                fclose(fopen(path(name, ".disk"), "w"));
        return cfg;
}

static long lines(const char *file) {
        FILE *f = fopen(file, "r");
        long n = 0;
        int c;

        if (!f)
                return -1;
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

static struct driver *new_driver(uint64_t memory) {
        struct driver_sim_config c = { .program = program, .host = host, .log_dir = dir, .memory_mib = memory,
                                       .record_interval_ms = 10 };
        struct driver_error e;
        struct driver *d = NULL;

        assert_int_equal(driver_sim_new(&c, on_report, NULL, &d, &e), 0);
        return d;
}

static int setup(void **state) {
        n_reports = 0;
        *state = new_driver(1024);
        return 0;
}

static int teardown(void **state) {
        struct driver *d = *state;
        struct driver_domain doms[16];
        struct driver_error e;
        size_t n = 0;

        d->ops->list(d, doms, 16, &n, &e);
        for (size_t i = 0; i < n; i++) {
                d->ops->destroy(d, doms[i].name, &e);
                await(d, DRIVER_REPORT_STOPPED, doms[i].name, 2000);
        }
        driver_free(d);
        return 0;
}

static void test_a_start_is_reported_once_the_first_record_is_on_disk(void **state) {
        struct driver *d = *state;
        const char *cfg = make_vm("vm-a", 256, true);
        struct driver_vm vm = { "vm-a", cfg, 256 };
        struct driver_domain doms[4];
        struct driver_error e;
        const struct driver_report *r;
        uint64_t free_mib;
        size_t n;
        char inst[20];
        FILE *f;

        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        r = await(d, DRIVER_REPORT_STARTED, "vm-a", 5000);
        assert_non_null(r);
        assert_true(lines(path("vm-a", ".disk")) >= 1);
        f = fopen(path("vm-a", ".disk"), "r");
        assert_int_equal(fscanf(f, "%16s", inst), 1);
        fclose(f);
        assert_string_equal(inst, r->uuid);
        assert_int_equal(d->ops->list(d, doms, 4, &n, &e), 0);
        assert_int_equal(n, 1);
        assert_string_equal(doms[0].name, "vm-a");
        assert_string_equal(doms[0].uuid, r->uuid);
        assert_int_equal(doms[0].memory_mib, 256);
        assert_int_equal(doms[0].state, DRIVER_DOMAIN_RUNNING);
        assert_int_equal(d->ops->free_memory(d, &free_mib, &e), 0);
        assert_int_equal(free_mib, 1024 - 256);
}

static void test_a_clean_stop_ends_the_records(void **state) {
        struct driver *d = *state;
        struct driver_vm vm = { "vm-b", make_vm("vm-b", 64, true), 64 };
        const struct driver_report *r;
        struct driver_error e;
        long k;

        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        assert_non_null(await(d, DRIVER_REPORT_STARTED, "vm-b", 5000));
        assert_int_equal(d->ops->stop(d, "vm-b", now_ms(), now_ms() + 5000, &e), 0);
        r = await(d, DRIVER_REPORT_STOPPED, "vm-b", 5000);
        assert_non_null(r);
        assert_false(r->forced);
        k = lines(path("vm-b", ".disk"));
        usleep(100000);
        assert_int_equal(lines(path("vm-b", ".disk")), k);
}

static void test_a_stop_past_its_deadline_is_forced(void **state) {
        struct driver *d = *state;
        struct driver_vm vm = { "vm-c", make_vm("vm-c", 64, true), 64 };
        const struct driver_report *r;
        struct driver_domain doms[4];
        struct driver_error e;
        size_t n;

        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        assert_non_null(await(d, DRIVER_REPORT_STARTED, "vm-c", 5000));
        /* Frozen behind the driver's back: SIGTERM cannot end it. */
        d->ops->list(d, doms, 4, &n, &e);
        assert_int_equal(n, 1);
        assert_int_equal(d->ops->pause(d, "vm-c", &e), 0);
        d->ops->list(d, doms, 4, &n, &e);
        assert_int_equal(doms[0].state, DRIVER_DOMAIN_PAUSED);
        assert_int_equal(d->ops->resume(d, "vm-c", &e), 0);
        d->ops->list(d, doms, 4, &n, &e);
        assert_int_equal(doms[0].state, DRIVER_DOMAIN_RUNNING);
        /* Blocking SIGTERM: stop it with SIGSTOP that the driver does not know of. */
        {
                char cmd[128];
                FILE *p;
                int pid = 0;
                snprintf(cmd, sizeof(cmd), "pgrep -f -- '--name vm-c --host %s '", host);
                p = popen(cmd, "r");
                assert_int_equal(fscanf(p, "%d", &pid), 1);
                pclose(p);
                kill(pid, SIGSTOP);
                /* the driver's SIGCONT goes only to a VM it paused */
        }
        assert_int_equal(d->ops->stop(d, "vm-c", now_ms(), now_ms() + 300, &e), 0);
        d->ops->list(d, doms, 4, &n, &e);
        assert_int_equal(doms[0].state, DRIVER_DOMAIN_STOPPING);
        r = await(d, DRIVER_REPORT_STOPPED, "vm-c", 3000);
        assert_non_null(r);
        assert_true(r->forced);
}

static void test_a_vm_that_cannot_boot_fails_with_its_reason(void **state) {
        struct driver *d = *state;
        struct driver_vm vm = { "vm-d", make_vm("vm-d", 64, false), 64 };
        const struct driver_report *r;
        struct driver_error e;

        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        r = await(d, DRIVER_REPORT_START_FAILED, "vm-d", 5000);
        assert_non_null(r);
        if (!strstr(r->why, "exit status 1 before it came up") || !strstr(r->why, "No such file"))
                fail_msg("why: %s", r->why);
}

static void test_a_start_that_does_not_come_up_in_time_is_destroyed(void **state) {
        struct driver *d = *state;
        const char *cfg = make_vm("vm-e", 64, false);
        struct driver_vm vm = { "vm-e", cfg, 64 };
        const struct driver_report *r;
        struct driver_error e;

        /* Its disk is a FIFO nobody reads: opening it never returns. */
        assert_int_equal(mkfifo(path("vm-e", ".disk"), 0600), 0);
        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 300, &e), 0);
        r = await(d, DRIVER_REPORT_START_FAILED, "vm-e", 5000);
        assert_non_null(r);
        assert_non_null(strstr(r->why, "did not come up in time"));
}

static void test_bad_starts_are_refused_at_once_with_the_reason(void **state) {
        struct driver *d = *state;
        struct driver_vm vm = { "vm-f", make_vm("vm-f", 64, true), 64 };
        struct driver_vm big = { "vm-g", make_vm("vm-g", 2048, true), 2048 };
        struct driver_vm other = { "vm-h", path("vm-f", ".cfg"), 64 };
        struct driver_vm none = { "vm-i", path("vm-i", ".cfg"), 64 };
        struct driver_error e;

        assert_int_equal(d->ops->start(d, &big, now_ms(), now_ms() + 5000, &e), -ENOMEM);
        assert_non_null(strstr(e.msg, "it needs 2048 MiB, this host has 1024 MiB free"));
        assert_int_equal(d->ops->start(d, &other, now_ms(), now_ms() + 5000, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "is the config of 'vm-f', not of 'vm-h'"));
        assert_int_equal(d->ops->start(d, &none, now_ms(), now_ms() + 5000, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "No such file"));
        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "vm-f runs here already"));
        assert_int_equal(d->ops->stop(d, "vm-x", now_ms(), now_ms() + 100, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "no VM vm-x runs on this host"));
        assert_int_equal(d->ops->migrate_send(d, "vm-f", -1, &e), -EOPNOTSUPP);
        assert_int_equal(d->ops->check_config(d, "vm-h", path("vm-f", ".cfg"), &e), -EINVAL);
        assert_int_equal(d->ops->check_config(d, "vm-f", path("vm-f", ".cfg"), &e), 0);
}

static int pid_of(const char *name) {
        char cmd[128];
        FILE *p;
        int pid = 0;

        snprintf(cmd, sizeof(cmd), "pgrep -f -- 'vmha-simvm --name %s --host %s '", name, host);
        p = popen(cmd, "r");
        if (fscanf(p, "%d", &pid) != 1)
                pid = 0;
        pclose(p);
        return pid;
}

static void test_deaths_tell_a_crash_from_a_guest_shutdown(void **state) {
        struct driver *d = *state;
        struct driver_vm a = { "vm-j", make_vm("vm-j", 64, true), 64 };
        struct driver_vm b = { "vm-k", make_vm("vm-k", 64, true), 64 };
        const struct driver_report *r;
        struct driver_error e;

        assert_int_equal(d->ops->start(d, &a, now_ms(), now_ms() + 5000, &e), 0);
        assert_int_equal(d->ops->start(d, &b, now_ms(), now_ms() + 5000, &e), 0);
        assert_non_null(await(d, DRIVER_REPORT_STARTED, "vm-j", 5000));
        assert_non_null(await(d, DRIVER_REPORT_STARTED, "vm-k", 5000));
        kill(pid_of("vm-j"), SIGKILL);
        kill(pid_of("vm-k"), SIGUSR1);
        r = await(d, DRIVER_REPORT_DIED, "vm-j", 3000);
        assert_non_null(r);
        assert_false(r->guest_shutdown);
        if (!strstr(r->why, "it crashed: killed by Killed"))
                fail_msg("why: %s", r->why);
        r = await(d, DRIVER_REPORT_DIED, "vm-k", 3000);
        assert_non_null(r);
        assert_true(r->guest_shutdown);
}

static void test_a_new_driver_adopts_the_running_vms(void **state) {
        struct driver *d = *state, *d2;
        struct driver_vm vm = { "vm-l", make_vm("vm-l", 128, true), 128 };
        struct driver_domain doms[4];
        const struct driver_report *r;
        struct driver_error e;
        char uuid[DRIVER_UUID_MAX];
        size_t n;

        assert_int_equal(d->ops->start(d, &vm, now_ms(), now_ms() + 5000, &e), 0);
        r = await(d, DRIVER_REPORT_STARTED, "vm-l", 5000);
        assert_non_null(r);
        snprintf(uuid, sizeof(uuid), "%s", r->uuid);
        d2 = new_driver(512);
        assert_int_equal(d2->ops->list(d2, doms, 4, &n, &e), 0);
        assert_int_equal(n, 1);
        assert_string_equal(doms[0].name, "vm-l");
        assert_string_equal(doms[0].uuid, uuid);
        assert_int_equal(doms[0].memory_mib, 128);
        assert_int_equal(d2->ops->start(d2, &vm, now_ms(), now_ms() + 5000, &e), -EEXIST);
        n_reports = 0;
        kill(pid_of("vm-l"), SIGKILL);
        assert_non_null(await(d, DRIVER_REPORT_DIED, "vm-l", 3000));  /* the parent reaps it */
        n_reports = 0;
        r = await(d2, DRIVER_REPORT_DIED, "vm-l", 3000);
        assert_non_null(r);
        assert_non_null(strstr(r->why, "cause unknown"));
        driver_free(d2);
}

int main(void) {
        const char *b = getenv("builddir");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_start_is_reported_once_the_first_record_is_on_disk, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_clean_stop_ends_the_records, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_stop_past_its_deadline_is_forced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_vm_that_cannot_boot_fails_with_its_reason, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_start_that_does_not_come_up_in_time_is_destroyed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_bad_starts_are_refused_at_once_with_the_reason, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deaths_tell_a_crash_from_a_guest_shutdown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_new_driver_adopts_the_running_vms, setup, teardown),
        };
        int r;

        snprintf(program, sizeof(program), "%s/tests/lab/vmha-simvm", b ? b : ".");
        snprintf(host, sizeof(host), "test-%d", (int)getpid());
        if (access(program, X_OK) < 0) {
                fprintf(stderr, "%s is not built\n", program);
                return 1;
        }
        if (!mkdtemp(dir))
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        if (r == 0) {
                char cmd[600];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                if (system(cmd) != 0)
                        return 1;
        }
        return r;
}
