/* Pure fencing decisions: watchdog disarm policy, fence-loop damping,
 * poison pills on both ends. And watchdog_open() against a fake driver:
 * which devices it refuses, and that a refusal never writes the magic 'V'. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/watchdog.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/poison.h"
#include "fence/emergency.h"
#include "fence/watchdog.h"

/* A fake watchdog driver. The test binary is linked with --wrap=ioctl, so
 * watchdog.c's ioctls land here; they are answered for the one file that
 * fake_wd_at() named and passed on for every other. watchdog.c writes to
 * that file as to the device, so a test reads back whether it wrote 'V'. */
static struct {
        bool on;
        dev_t dev;
        ino_t ino;
        unsigned options;       /* WDIOC_GETSUPPORT */
        int timeout;            /* set by WDIOC_SETTIMEOUT */
        int holds;              /* > 0: WDIOC_GETTIMEOUT answers this instead */
        unsigned keepalives;
} fake_wd;

int __real_ioctl(int fd, unsigned long request, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);

int __wrap_ioctl(int fd, unsigned long request, ...) {
        struct watchdog_info *info;
        struct stat st;
        va_list ap;
        void *arg;

        va_start(ap, request);
        arg = va_arg(ap, void *);
        va_end(ap);
        if (!fake_wd.on || fstat(fd, &st) != 0 || st.st_dev != fake_wd.dev || st.st_ino != fake_wd.ino)
                return __real_ioctl(fd, request, arg);
        switch (request) {
        case WDIOC_GETSUPPORT:
                info = arg;
                memset(info, 0, sizeof(*info));
                info->options = fake_wd.options;
                snprintf((char *)info->identity, sizeof(info->identity), "fake");
                return 0;
        case WDIOC_SETTIMEOUT:
                fake_wd.timeout = *(int *)arg;
                return 0;
        case WDIOC_GETTIMEOUT:
                *(int *)arg = fake_wd.holds > 0 ? fake_wd.holds : fake_wd.timeout;
                return 0;
        case WDIOC_KEEPALIVE:
                fake_wd.keepalives++;
                return 0;
        }
        errno = ENOTTY;
        return -1;
}

static void fake_wd_at(const char *path, unsigned options) {
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        memset(&fake_wd, 0, sizeof(fake_wd));
        fake_wd.on = true;
        fake_wd.dev = st.st_dev;
        fake_wd.ino = st.st_ino;
        fake_wd.options = options;
}

/* An empty file in $TMPDIR to stand for the device; path is PATH_MAX long. */
static void device_file(char *path) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        int fd;

        snprintf(path, 4096, "%s/vmha-test-wd.XXXXXX", tmp);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
}

/* Whether the file holds the magic character anywhere. */
static bool file_has_v(const char *path) {
        char buf[256];
        ssize_t n;
        bool v = false;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                v = v || memchr(buf, 'V', (size_t)n) != NULL;
        close(fd);
        return v;
}

static void test_disarm_only_with_no_protected_vm_running_and_no_claim(void **state) {
        (void)state;
        assert_true(watchdog_may_disarm(0, false, false));
        /* a protected VM still running here keeps the timer armed */
        assert_false(watchdog_may_disarm(1, false, false));
        assert_false(watchdog_may_disarm(2, false, false));
        /* so does a claim, even with nothing running yet */
        assert_false(watchdog_may_disarm(0, true, false));
        assert_false(watchdog_may_disarm(2, true, false));
        /* never on the fence path */
        assert_false(watchdog_may_disarm(0, false, true));
        assert_false(watchdog_may_disarm(1, true, true));
}

/* A fake sysfs tree in $TMPDIR: root holds class/watchdog/. */
static void fake_sysfs(char *root) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char path[4096];

        snprintf(root, 4096, "%s/vmha-test-sysfs.XXXXXX", tmp);
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/class", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/class/watchdog", root);
        assert_int_equal(mkdir(path, 0755), 0);
}

/* class/watchdog/NAME with dev "MAJ:MIN" and, unless nowayout is NULL, a
 * nowayout file holding it. */
static void fake_sysfs_entry(const char *root, const char *name, dev_t dev, const char *nowayout) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/class/watchdog/%s", root, name);
        if (mkdir(path, 0755) != 0)
                assert_int_equal(errno, EEXIST);
        snprintf(path, sizeof(path), "%s/class/watchdog/%s/dev", root, name);
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "%u:%u\n", major(dev), minor(dev));
        fclose(f);
        snprintf(path, sizeof(path), "%s/class/watchdog/%s/nowayout", root, name);
        if (!nowayout) {
                unlink(path);
                return;
        }
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "%s\n", nowayout);
        fclose(f);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void fake_sysfs_remove(const char *root) {
        assert_int_equal(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_a_device_is_usable_only_with_magic_close_or_nowayout(void **state) {
        (void)state;
        assert_true(watchdog_may_use(true, false));
        assert_true(watchdog_may_use(false, true));
        assert_true(watchdog_may_use(true, true));
        /* every close stops its timer: a crash of vmhad would disarm the host */
        assert_false(watchdog_may_use(false, false));
}

static void test_sysfs_nowayout_is_found_by_the_device_number(void **state) {
        char root[4096], name[64];
        bool nowayout = true;
        (void)state;
        fake_sysfs(root);
        fake_sysfs_entry(root, "watchdog0", makedev(248, 0), "0");
        fake_sysfs_entry(root, "watchdog1", makedev(248, 1), "1");
        fake_sysfs_entry(root, "watchdog2", makedev(248, 2), NULL);
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(248, 1), name, sizeof(name), &nowayout), 0);
        assert_string_equal(name, "watchdog1");
        assert_true(nowayout);
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(248, 0), name, sizeof(name), &nowayout), 0);
        assert_string_equal(name, "watchdog0");
        assert_false(nowayout);
        /* a kernel without the attribute: not set */
        nowayout = true;
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(248, 2), NULL, 0, &nowayout), 0);
        assert_false(nowayout);
        /* the legacy /dev/watchdog (misc 10:130) is watchdog0 */
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(10, 130), name, sizeof(name), &nowayout), 0);
        assert_string_equal(name, "watchdog0");
        assert_false(nowayout);
        fake_sysfs_entry(root, "watchdog0", makedev(248, 0), "1");
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(10, 130), name, sizeof(name), &nowayout), 0);
        assert_true(nowayout);
        /* a number no watchdog has: unknown, so not set */
        nowayout = true;
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(1, 3), name, sizeof(name), &nowayout), -ENOENT);
        assert_false(nowayout);
        fake_sysfs_remove(root);
        /* no class/watchdog at all */
        nowayout = true;
        assert_int_equal(watchdog_sysfs_nowayout(root, makedev(248, 1), NULL, 0, &nowayout), -ENOENT);
        assert_false(nowayout);
}

static void test_open_refuses_a_device_without_magic_close_unless_nowayout_is_set(void **state) {
        const char *nowayout_phrase = "driver stops the timer on close (no magic close) and nowayout is not set: "
                                      "a crash of vmhad would disarm this host; load the driver with nowayout=1";
        struct watchdog *wd = NULL;
        char path[4096], root[4096], err[512];
        struct stat st;
        (void)state;
        /* not a character device, so unknown to sysfs: nowayout not set */
        device_file(path);
        fake_wd_at(path, WDIOF_SETTIMEOUT | WDIOF_KEEPALIVEPING);
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), -EOPNOTSUPP);
        assert_null(wd);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, nowayout_phrase));
        assert_non_null(strstr(err, "not in sysfs"));
        /* refused before it was touched, and closed without 'V' */
        assert_int_equal(fake_wd.timeout, 0);
        assert_false(file_has_v(path));
        unlink(path);

        /* A character device that a fake sysfs knows: /dev/null stands in. */
        if (stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode)) {
                fake_wd.on = false;
                skip();
        }
        fake_sysfs(root);
        fake_sysfs_entry(root, "watchdog3", st.st_rdev, "0");
        assert_int_equal(setenv("VMHA_SYSFS_ROOT", root, 1), 0);
        fake_wd_at("/dev/null", WDIOF_SETTIMEOUT | WDIOF_KEEPALIVEPING);
        assert_int_equal(watchdog_open("/dev/null", 5, &wd, err, sizeof(err)), -EOPNOTSUPP);
        assert_non_null(strstr(err, nowayout_phrase));
        assert_non_null(strstr(err, "sysfs watchdog3"));
        /* nowayout=1: closing can no longer stop it, so it is usable */
        fake_sysfs_entry(root, "watchdog3", st.st_rdev, "1");
        assert_int_equal(watchdog_open("/dev/null", 5, &wd, err, sizeof(err)), 0);
        assert_true(watchdog_has_nowayout(wd));
        assert_false(watchdog_has_magic_close(wd));
        assert_int_equal(watchdog_timeout_s(wd), 5);
        watchdog_abandon(wd);
        /* a later refusal of such a device says its timer keeps running */
        fake_wd.holds = 9;
        assert_int_equal(watchdog_open("/dev/null", 5, &wd, err, sizeof(err)), -ERANGE);
        assert_non_null(strstr(err, "its timer keeps running"));
        assert_int_equal(unsetenv("VMHA_SYSFS_ROOT"), 0);
        fake_sysfs_remove(root);
        fake_wd.on = false;
}

static void test_a_file_that_is_no_watchdog_is_refused_without_the_magic_character(void **state) {
        struct watchdog *wd = NULL;
        char path[4096], err[512];
        (void)state;
        device_file(path);
        fake_wd.on = false;     /* a plain file: WDIOC_GETSUPPORT fails */
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), -ENOTTY);
        assert_null(wd);
        assert_non_null(strstr(err, "not a watchdog device"));
        assert_false(file_has_v(path));
        unlink(path);
}

static void test_a_refused_device_is_closed_without_the_magic_character(void **state) {
        struct watchdog *wd = NULL;
        char path[4096], err[512];
        (void)state;
        device_file(path);
        /* it holds another timeout than the one asked for */
        fake_wd_at(path, WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE | WDIOF_KEEPALIVEPING);
        fake_wd.holds = 7;
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), -ERANGE);
        assert_null(wd);
        assert_non_null(strstr(err, "the device holds 7 s"));
        assert_non_null(strstr(err, "its timer keeps running"));
        assert_non_null(strstr(err, "this host resets unless a vmhad feeds it"));
        assert_false(file_has_v(path));
        /* it cannot set a timeout at all */
        fake_wd_at(path, WDIOF_MAGICCLOSE);
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), -EOPNOTSUPP);
        assert_non_null(strstr(err, "its timer keeps running"));
        assert_false(file_has_v(path));
        fake_wd.on = false;
        unlink(path);
}

static void test_only_an_orderly_disarm_writes_the_magic_character(void **state) {
        struct watchdog *wd = NULL;
        char path[4096], err[512];
        (void)state;
        device_file(path);
        fake_wd_at(path, WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE | WDIOF_KEEPALIVEPING);
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), 0);
        assert_int_equal(fake_wd.timeout, 5);
        assert_int_equal(fake_wd.keepalives, 1);
        assert_int_equal(watchdog_timeout_s(wd), 5);
        assert_true(watchdog_has_magic_close(wd));
        assert_int_equal(watchdog_feed(wd), 0);
        assert_int_equal(fake_wd.keepalives, 2);
        watchdog_abandon(wd);
        assert_false(file_has_v(path));
        assert_int_equal(watchdog_open(path, 5, &wd, err, sizeof(err)), 0);
        assert_int_equal(watchdog_disarm(wd), 0);
        assert_true(file_has_v(path));
        fake_wd.on = false;
        unlink(path);
}

static void test_watchdog_seconds_round_down_so_it_never_fires_late(void **state) {
        (void)state;
        assert_int_equal(watchdog_seconds_for(5000), 5);
        assert_int_equal(watchdog_seconds_for(2500), 2);
        assert_int_equal(watchdog_seconds_for(2999), 2);
}

static void test_fence_loop_counts_fences_within_the_hour_after_the_last_clear(void **state) {
        int64_t t[] = { 1000, 5000, 5100, 8000 };
        (void)state;
        /* now 8100: 5000, 5100 and 8000 fall within the hour */
        assert_true(emergency_fence_loop(t, 4, 8100, 0, 2));
        assert_true(emergency_fence_loop(t, 4, 8100, 0, 3));
        assert_false(emergency_fence_loop(t, 4, 8100, 0, 4));
        /* a clear at 5100 forgives everything up to it */
        assert_false(emergency_fence_loop(t, 4, 8100, 5100, 2));
        /* an hour after 5100, only 8000 still counts */
        assert_false(emergency_fence_loop(t, 4, 5100 + 3600 + 10, 0, 2));
        assert_true(emergency_fence_loop(t, 4, 5100 + 3600 + 10, 0, 1));
        /* one fence is never a loop at the default of 2 */
        assert_false(emergency_fence_loop(t, 1, 1001, 0, 2));
}

static void test_history_parse_skips_malformed_lines(void **state) {
        int64_t t[8];
        (void)state;
        assert_int_equal(emergency_history_parse("100 lost: no quorum\nbogus\n200 poison pill\n-5 x\n300\n", t, 8), 3);
        assert_int_equal(t[0], 100);
        assert_int_equal(t[1], 200);
        assert_int_equal(t[2], 300);
        assert_int_equal(emergency_history_parse("", t, 8), 0);
        assert_int_equal(emergency_history_parse("1 a\n2 b\n3 c\n", t, 2), 2);
        /* An empty line does not count the next fence twice; a line is
         * read from its first character. */
        assert_int_equal(emergency_history_parse("100 a\n\n200 b\n \n 300 c\n+400 d\n", t, 8), 2);
        assert_int_equal(t[0], 100);
        assert_int_equal(t[1], 200);
}

static void test_every_cause_has_a_name_and_a_next_step(void **state) {
        (void)state;
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++) {
                assert_true(strlen(emergency_cause_name((enum emergency_cause)c)) > 3);
                assert_true(strlen(emergency_cause_help((enum emergency_cause)c)) > 40);
        }
        assert_true(emergency_cause_needs_clear(EMERGENCY_FENCE_LOOP));
        assert_false(emergency_cause_needs_clear(EMERGENCY_COROSYNC_DOWN));
}

/* The administrator reads why a watchdog was refused, what the refused
 * device does, and what to do, where the cause is shown. */
static void test_watchdog_cause_says_why_a_device_is_refused_and_what_it_does(void **state) {
        const char *help = emergency_cause_help(EMERGENCY_WATCHDOG);
        (void)state;
        assert_non_null(strstr(help, "stops its timer on close unless it supports magic close or is loaded with "
                                     "nowayout=1"));
        assert_non_null(strstr(help, "cannot hold the pool's timeout exactly"));
        assert_non_null(strstr(help, "vmhad never writes the magic character on a refusal"));
        assert_non_null(strstr(help, "resets this host when it expires"));
        assert_non_null(strstr(help, "restart vmhad"));
}

static struct core_timing timing(void) {
        struct core_timing t = { .timeout_ms = 2000, .disk_interval_ms = 200, .disk_timeout_ms = 2000,
                                 .watchdog_timeout_ms = 2000, .settle_ms = 400, .s2_margin_ms = 1000 };
        return t;
}

static void test_poison_goes_to_a_departed_host_that_still_writes(void **state) {
        struct core_timing t = timing();
        struct core_peer p = { .id = 3, .slot_seen = true, .state = DISK_SLOT_ALIVE, .incarnation = 7,
                               .advanced_ms = 9900, .writing_since_ms = 9000 + 100, .member = false, .left_ms = 9000 };
        struct poison_sent none = { 0 };
        (void)state;
        /* writing outside the membership for less than a timeout: its own
         * Corosync may still merge it back, or fence it */
        p.writing_since_ms = 9900 - t.disk_timeout_ms + 1;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 9900), POISON_NONE);
        p.writing_since_ms = 9900 - t.disk_timeout_ms;
        p.left_ms = p.writing_since_ms - 100;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 9900), POISON_SEND_FENCE);
        p.left_ms = 9000;
        p.writing_since_ms = 9000 - t.disk_timeout_ms;  /* before it left: a stale mark */
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        p.writing_since_ms = 9000;
        p.advanced_ms = 9000 + t.disk_timeout_ms;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, p.advanced_ms), POISON_SEND_FENCE);
        p.advanced_ms = 9900;
        /* not the master: nothing */
        assert_int_equal(poison_decide(&t, &p, &none, NULL, false, 10000), POISON_NONE);
        /* departure not settled yet */
        p.left_ms = 9800;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        p.left_ms = 9000;
        /* silent on disk: S2 handles it, no pill needed */
        p.advanced_ms = 7000;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        /* crashed: its last write came before it left, however recent */
        p.advanced_ms = 8990;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 9500), POISON_NONE);
        /* wrote once more right after leaving, then stopped */
        p.advanced_ms = 9300;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        p.advanced_ms = 9900;
        /* joining: runs no VM, never told to fence */
        p.state = DISK_SLOT_JOINING;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        p.state = DISK_SLOT_ALIVE;
        /* already fencing */
        p.state = DISK_SLOT_FENCING;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
        p.state = DISK_SLOT_ALIVE;
        /* sent once to this incarnation: not again */
        struct poison_sent sent = { .seq = 4, .command = DISK_MAILBOX_FENCE, .incarnation = 7 };
        assert_int_equal(poison_decide(&t, &p, &sent, NULL, true, 10000), POISON_NONE);
        /* still a member: never */
        p.member = true;
        assert_int_equal(poison_decide(&t, &p, &none, NULL, true, 10000), POISON_NONE);
}

static void test_clear_goes_to_a_fenced_host_that_rejoined(void **state) {
        struct core_timing t = timing();
        struct core_peer p = { .id = 3, .slot_seen = true, .state = DISK_SLOT_ALIVE, .incarnation = 8,
                               .advanced_ms = 9900, .member = true };
        struct disk_mailbox cur = { .host_id = 3, .command = DISK_MAILBOX_FENCE, .seq = 4 };
        struct poison_sent sent = { .seq = 4, .command = DISK_MAILBOX_FENCE, .incarnation = 7 };
        (void)state;
        assert_int_equal(poison_decide(&t, &p, &sent, &cur, true, 10000), POISON_SEND_CLEAR);
        sent = (struct poison_sent){ .seq = 5, .command = DISK_MAILBOX_CLEAR, .incarnation = 8 };
        assert_int_equal(poison_decide(&t, &p, &sent, &cur, true, 10000), POISON_NONE);
}

static void test_inbox_acts_on_new_fences_and_flags_stale_ones(void **state) {
        struct disk_mailbox mb = { .host_id = 2, .command = DISK_MAILBOX_FENCE, .seq = 5 };
        (void)state;
        assert_int_equal(poison_inbox_check(&mb, 4, 4), POISON_INBOX_FENCE_NOW);
        assert_int_equal(poison_inbox_check(&mb, 5, 4), POISON_INBOX_STALE_FENCE);
        assert_int_equal(poison_inbox_check(&mb, 5, 5), POISON_INBOX_NOTHING);
        mb.command = DISK_MAILBOX_CLEAR;
        assert_int_equal(poison_inbox_check(&mb, 4, 4), POISON_INBOX_NOTHING);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_disarm_only_with_no_protected_vm_running_and_no_claim),
                cmocka_unit_test(test_a_device_is_usable_only_with_magic_close_or_nowayout),
                cmocka_unit_test(test_sysfs_nowayout_is_found_by_the_device_number),
                cmocka_unit_test(test_open_refuses_a_device_without_magic_close_unless_nowayout_is_set),
                cmocka_unit_test(test_a_file_that_is_no_watchdog_is_refused_without_the_magic_character),
                cmocka_unit_test(test_a_refused_device_is_closed_without_the_magic_character),
                cmocka_unit_test(test_only_an_orderly_disarm_writes_the_magic_character),
                cmocka_unit_test(test_watchdog_seconds_round_down_so_it_never_fires_late),
                cmocka_unit_test(test_fence_loop_counts_fences_within_the_hour_after_the_last_clear),
                cmocka_unit_test(test_history_parse_skips_malformed_lines),
                cmocka_unit_test(test_every_cause_has_a_name_and_a_next_step),
                cmocka_unit_test(test_watchdog_cause_says_why_a_device_is_refused_and_what_it_does),
                cmocka_unit_test(test_poison_goes_to_a_departed_host_that_still_writes),
                cmocka_unit_test(test_clear_goes_to_a_fenced_host_that_rejoined),
                cmocka_unit_test(test_inbox_acts_on_new_fences_and_flags_stale_ones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
