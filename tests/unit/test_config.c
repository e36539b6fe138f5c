/* vmha.conf parsing: defaults, every key, and errors that name file, line
 * and key while leaving the configuration untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <grp.h>

#include "daemon/config.h"

static char err[VMHA_CONFIG_ERROR_MAX];

static void test_minimal_file_gets_documented_defaults(void **state) {
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = LABEL=hb\n", "vmha.conf", &c, err,
                                                  sizeof(err)), 0);
        assert_string_equal(c.heartbeat_device, "LABEL=hb");
        assert_int_equal(c.timeout_ms, 5000);
        assert_string_equal(c.ipc_group, "vmha");
        assert_string_equal(c.state_dir, "/var/lib/vmha");
        assert_string_equal(c.watchdog_device, "");
        assert_int_equal(c.fence_action, VMHA_FENCE_REBOOT);
        assert_int_equal(c.max_fences_per_hour, 2);
        assert_string_equal(c.tiebreak_target, "");
        assert_string_equal(c.metrics_textfile, "");
}

/* The region's timeout is the pool's. The file's counts as set when the
 * file sets it, whatever its value: "timeout = 5" is as explicit as
 * "timeout = 10", although 5 s is the default. */
static void test_a_timeout_set_to_the_default_still_counts_as_set(void **state) {
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n", "vmha.conf", &c, err,
                                                  sizeof(err)), 0);
        assert_false(c.timeout_set);
        assert_false(vmha_config_timeout_differs(&c, 10000));
        assert_false(vmha_config_timeout_differs(&c, 5000));

        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\ntimeout = 5\n", "vmha.conf", &c,
                                                  err, sizeof(err)), 0);
        assert_true(c.timeout_set);
        assert_int_equal(c.timeout_ms, 5000);
        assert_true(vmha_config_timeout_differs(&c, 10000));
        assert_false(vmha_config_timeout_differs(&c, 5000));

        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\ntimeout = 5.000\n", "vmha.conf",
                                                  &c, err, sizeof(err)), 0);
        assert_true(vmha_config_timeout_differs(&c, 2500));

        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\ntimeout = 10\n", "vmha.conf", &c,
                                                  err, sizeof(err)), 0);
        assert_true(c.timeout_set);
        assert_false(vmha_config_timeout_differs(&c, 10000));
        assert_true(vmha_config_timeout_differs(&c, 5000));
}

static void test_every_key_is_read(void **state) {
        struct vmha_config c;
        const char *text =
                "# a full file\n"
                "[heartbeat]\n"
                "device = /dev/disk/by-id/scsi-hb\n"
                "timeout = 2.5\n"
                "[network]\n"
                "tiebreak_target = 198.18.0.254\n"
                "[daemon]\n"
                "ipc_group = wheel\n"
                "state_dir = /srv/vmha\n"
                "vm_memory_mib = 262144\n"
                "[fence]\n"
                "watchdog_device = /dev/watchdog1\n"
                "action = off\n"
                "max_fences_per_hour = 3\n"
                "[metrics]\n"
                "textfile = /var/lib/prometheus/node-exporter/vmha.prom\n";

        (void)state;
        assert_int_equal(vmha_config_parse_string(text, "vmha.conf", &c, err, sizeof(err)), 0);
        assert_string_equal(c.heartbeat_device, "/dev/disk/by-id/scsi-hb");
        assert_int_equal(c.timeout_ms, 2500);
        assert_string_equal(c.tiebreak_target, "198.18.0.254");
        assert_string_equal(c.ipc_group, "wheel");
        assert_string_equal(c.state_dir, "/srv/vmha");
        assert_int_equal(c.vm_memory_mib, 262144);
        assert_string_equal(c.watchdog_device, "/dev/watchdog1");
        assert_int_equal(c.fence_action, VMHA_FENCE_OFF);
        assert_int_equal(c.max_fences_per_hour, 3);
        assert_string_equal(c.metrics_textfile, "/var/lib/prometheus/node-exporter/vmha.prom");
}

/* Each bad file must fail with exactly this message, and leave c alone. */
static void expect_error(const char *text, const char *message) {
        struct vmha_config c;
        memset(&c, 0x5a, sizeof(c));
        assert_int_equal(vmha_config_parse_string(text, "/etc/vmha/vmha.conf", &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, message);
        for (size_t i = 0; i < sizeof(c); i++)
                assert_int_equal(((unsigned char *)&c)[i], 0x5a);
}

static void test_errors_name_file_line_and_key(void **state) {
        (void)state;
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = 1\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '1' is not a number of seconds in 2..600");
        expect_error("[heartbeat]\ndevice = sdb\n",
                     "/etc/vmha/vmha.conf:2: [heartbeat] device: 'sdb' is neither an absolute path nor LABEL=, UUID=, PARTUUID= or PARTLABEL=");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[network]\ntiebreak_target = 300.1.1.1\n",
                     "/etc/vmha/vmha.conf:4: [network] tiebreak_target: '300.1.1.1' is not an IPv4 or IPv6 address");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[fence]\nmax_fences_per_hour = -1\n",
                     "/etc/vmha/vmha.conf:4: [fence] max_fences_per_hour: '-1' is not a whole number in 1..100");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[fence]\naction = halt\n",
                     "/etc/vmha/vmha.conf:4: [fence] action: unknown action 'halt' (expected reboot or off)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\ndevice = /dev/sdc\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] device: set twice");
}

static void test_unknown_sections_and_keys_are_errors(void **state) {
        (void)state;
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeuot = 5\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] unknown key 'timeuot'");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[fencing]\naction = off\n",
                     "/etc/vmha/vmha.conf:3: unknown section [fencing]");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[bogus]\n", "/etc/vmha/vmha.conf:3: unknown section [bogus]");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[bogus]\n[fence]\naction = off\n",
                     "/etc/vmha/vmha.conf:3: unknown section [bogus]");
        expect_error("device = /dev/sdb\n", "/etc/vmha/vmha.conf:1: unknown section []");
}

static void test_syntax_errors_and_missing_keys(void **state) {
        (void)state;
        expect_error("[heartbeat]\nthis line has no equals sign\n",
                     "/etc/vmha/vmha.conf:2: syntax error (expected [section] or key = value)");
        expect_error("[heartbeat]\ntimeout = 5\n", "/etc/vmha/vmha.conf: [heartbeat] device is required");
}

/* This version has no VM driver and no live migration: their keys would
 * be read and then do nothing, so they are refused, whatever the value. */
static void test_keys_of_what_this_version_lacks_are_refused(void **state) {
        (void)state;
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = xen\n",
                     "/etc/vmha/vmha.conf:4: [daemon] driver: 'xen': this version has no xen driver yet (none or sim)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = kvm\n",
                     "/etc/vmha/vmha.conf:4: [daemon] driver: unknown driver 'kvm' (expected none or sim)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[network]\nmigration_port = 8477\n",
                     "/etc/vmha/vmha.conf:4: [network] migration_port: not supported by this version (it migrates "
                     "no VM); remove the line");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[sim]\nvm_dir = /srv/vmdisks\n",
                     "/etc/vmha/vmha.conf:4: [sim] unknown key 'vm_dir'");
        /* Even a key set twice is refused for what it is. */
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = xen\ndriver = xen\n",
                     "/etc/vmha/vmha.conf:4: [daemon] driver: 'xen': this version has no xen driver yet (none or sim)");
}

static void test_the_sim_driver_needs_its_program_and_memory_and_nothing_does_nothing(void **state) {
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = sim\n"
                                                  "vm_memory_mib = 4096\n[sim]\nprogram = /usr/lib/vmha-simvm\n"
                                                  "log_dir = /var/log/vms\n",
                                                  "vmha.conf", &c, err, sizeof(err)),
                         0);
        assert_int_equal(c.driver, VMHA_DRIVER_SIM);
        assert_string_equal(c.sim_program, "/usr/lib/vmha-simvm");
        assert_string_equal(c.sim_log_dir, "/var/log/vms");
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n", "vmha.conf", &c, err,
                                                  sizeof(err)),
                         0);
        assert_int_equal(c.driver, VMHA_DRIVER_NONE);
        assert_string_equal(c.sim_log_dir, "/var/log/vmha");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = sim\nvm_memory_mib = 4096\n",
                     "/etc/vmha/vmha.conf: driver = sim needs [sim] program (the path of vmha-simvm)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = sim\n[sim]\nprogram = /p\n",
                     "/etc/vmha/vmha.conf: driver = sim needs [daemon] vm_memory_mib (the memory its sim host offers "
                     "VMs)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[sim]\nprogram = /p\n",
                     "/etc/vmha/vmha.conf: [sim] is set but the driver is none: set [daemon] driver = sim, or remove "
                     "[sim]");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\ndriver = sim\n[sim]\nprogram = vmha-simvm\n",
                     "/etc/vmha/vmha.conf:6: [sim] program: 'vmha-simvm' is not an absolute path");
}

static void test_the_first_error_is_reported_with_its_own_line(void **state) {
        (void)state;
        expect_error("[heartbeat]\ndevice = /dev/sdb\nfoo = 1\nbar = 2\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] unknown key 'foo'");
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = 1\n[fence]\naction = halt\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '1' is not a number of seconds in 2..600");
        expect_error("[heartbeat]\nno equals sign\nfoo = 1\n",
                     "/etc/vmha/vmha.conf:2: syntax error (expected [section] or key = value)");
        expect_error("[heartbeat]\nfoo = 1\nno equals sign\n", "/etc/vmha/vmha.conf:2: [heartbeat] unknown key 'foo'");
}

/* A file of `prefix`, then a line of n characters ending in `tail`. */
static char *with_long_line(const char *prefix, size_t n, const char *tail) {
        size_t p = strlen(prefix), t = strlen(tail);
        char *s = malloc(p + n + 2);

        assert_non_null(s);
        memcpy(s, prefix, p);
        memset(s + p, '#', n - t);
        memcpy(s + p + n - t, tail, t);
        strcpy(s + p + n, "\n");
        return s;
}

static void test_an_over_long_line_is_refused_not_cut(void **state) {
        struct vmha_config c;
        char *text;

        (void)state;
        /* inih would read the comment's last characters as a line of their own. */
        text = with_long_line("[heartbeat]\ndevice = /dev/sdb\n[fence]\n", 300, "action = off");
        expect_error(text, "/etc/vmha/vmha.conf:4: line too long (300 characters; at most 199)");
        free(text);
        text = with_long_line("[heartbeat]\ndevice = /dev/sdb\n[fence]\n", VMHA_CONFIG_LINE_MAX + 1, "action = off");
        expect_error(text, "/etc/vmha/vmha.conf:4: line too long (200 characters; at most 199)");
        free(text);
        /* The longest line that fits is read whole: still one comment. */
        text = with_long_line("[heartbeat]\ndevice = /dev/sdb\n[fence]\n", VMHA_CONFIG_LINE_MAX, "action = off");
        assert_int_equal(vmha_config_parse_string(text, "vmha.conf", &c, err, sizeof(err)), 0);
        assert_int_equal(c.fence_action, VMHA_FENCE_REBOOT);
        free(text);
}

static void test_a_commented_out_setting_never_applies(void **state) {
        struct vmha_config c;
        const char *text =
                "[heartbeat]\n"
                "device = /dev/sdb\n"
                "# timeout = 9\n"
                "[fence]\n"
                "# action = off\n"
                "; action = off\n"
                "   # action = off\n"
                "\t; action = off\n"
                "max_fences_per_hour = 3 # was: 5\n";

        (void)state;
        assert_int_equal(vmha_config_parse_string(text, "vmha.conf", &c, err, sizeof(err)), 0);
        assert_int_equal(c.timeout_ms, 5000);
        assert_int_equal(c.fence_action, VMHA_FENCE_REBOOT);
        assert_int_equal(c.max_fences_per_hour, 3);
}

static void test_inline_comments_after_a_value_are_ignored(void **state) {
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb  # the LUN\ntimeout = 5 # seconds\n"
                                                  "[fence]\naction = off ; not reboot\n",
                                                  "vmha.conf", &c, err, sizeof(err)), 0);
        assert_string_equal(c.heartbeat_device, "/dev/sdb");
        assert_int_equal(c.timeout_ms, 5000);
        assert_int_equal(c.fence_action, VMHA_FENCE_OFF);
        /* As with inih's ";", a "#" that does not follow whitespace within
         * the value is part of it. */
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nipc_group = a#b\n",
                     "/etc/vmha/vmha.conf:4: [daemon] ipc_group: 'a#b' is not a valid group name");
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = # five\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '# five' is not a plain decimal number of seconds "
                     "(like 5 or 2.5, at most 3 decimals)");
}

/* The host's memory has the limit of a VM's: 16 TiB, as haadm vm set
 * --memory and vmhad's control requests. */
static void test_vm_memory_has_the_one_memory_limit(void **state) {
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nvm_memory_mib = 16777216\n",
                                                  "vmha.conf", &c, err, sizeof(err)), 0);
        assert_int_equal(c.vm_memory_mib, 16777216);
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nvm_memory_mib = 16777217\n",
                     "/etc/vmha/vmha.conf:4: [daemon] vm_memory_mib: '16777217' is not a whole number in 1..16777216");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nvm_memory_mib = 17179869184\n",
                     "/etc/vmha/vmha.conf:4: [daemon] vm_memory_mib: '17179869184' is not a whole number in "
                     "1..16777216");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nvm_memory_mib = 0\n",
                     "/etc/vmha/vmha.conf:4: [daemon] vm_memory_mib: '0' is not a whole number in 1..16777216");
}

/* A group the file names must exist on this host: a typo must not quietly
 * leave only root able to use haadm. */
static void test_an_ipc_group_that_does_not_exist_is_an_error(void **state) {
        struct vmha_config c;
        gid_t gid = 4242;

        (void)state;
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n[daemon]\nipc_group = root\n",
                                                  "vmha.conf", &c, err, sizeof(err)), 0);
        assert_true(c.ipc_group_set);
        assert_int_equal(vmha_config_ipc_gid(&c, "vmha.conf", &gid, err, sizeof(err)), 0);
        assert_int_equal(gid, 0);

        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n[daemon]\n"
                                                  "ipc_group = vmha-test-no-such-group\n",
                                                  "vmha.conf", &c, err, sizeof(err)), 0);
        gid = 4242;
        assert_int_equal(vmha_config_ipc_gid(&c, "vmha.conf", &gid, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "vmha.conf: [daemon] ipc_group: group 'vmha-test-no-such-group' does not exist on "
                                 "this host (create it, or name an existing group)");
        assert_int_equal(gid, 4242);

        /* The default names no group the administrator chose: a missing
         * "vmha" leaves haadm to root, with a warning. */
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n", "vmha.conf", &c, err,
                                                  sizeof(err)), 0);
        assert_false(c.ipc_group_set);
        if (getgrnam("vmha")) {
                assert_int_equal(vmha_config_ipc_gid(&c, "vmha.conf", &gid, err, sizeof(err)), 0);
        } else {
                assert_int_equal(vmha_config_ipc_gid(&c, "vmha.conf", &gid, err, sizeof(err)), 1);
                assert_string_equal(err, "vmha.conf: ipc_group is not set and its default group 'vmha' does not "
                                         "exist on this host: only root may use haadm");
        }
}

/* Whitespace is what it is to inih: a form feed or a carriage return
 * before the "#" starts a comment too, and none is left at the end of the
 * value (inih would have taken it off a value without a comment). */
static void test_inline_comments_follow_any_whitespace(void **state) {
        struct vmha_config c;
        char text[2][128];

        (void)state;
        snprintf(text[0], sizeof(text[0]), "[heartbeat]\ndevice = /dev/sdb\f\r  # the LUN\n");
        snprintf(text[1], sizeof(text[1]), "[heartbeat]\ndevice = /dev/sdb\f#the LUN\n");
        for (int i = 0; i < 2; i++) {
                assert_int_equal(vmha_config_parse_string(text[i], "vmha.conf", &c, err, sizeof(err)), 0);
                assert_string_equal(c.heartbeat_device, "/dev/sdb");
        }
}

/* The buffer entry point reads exactly len bytes, and a NUL among them is
 * refused as in a file. */
static void test_buffer_with_a_nul_is_refused(void **state) {
        static const char text[] = "[heartbeat]\ndevice = /dev/sdb\n\0[fence]\n";
        struct vmha_config c;

        (void)state;
        assert_int_equal(vmha_config_parse_buffer(text, sizeof(text) - 1, "vmha.conf", &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "vmha.conf:3: contains a NUL byte (not a text file?)");
        assert_int_equal(vmha_config_parse_buffer(text, 30, "vmha.conf", &c, err, sizeof(err)), 0);
        assert_string_equal(c.heartbeat_device, "/dev/sdb");
}

static void test_device_names_follow_the_shared_rule(void **state) {
        struct vmha_config c;

        (void)state;
        expect_error("[heartbeat]\ndevice = LABEL=\n", "/etc/vmha/vmha.conf:2: [heartbeat] device: 'LABEL=' has no value");
        expect_error("[heartbeat]\ndevice = PARTUUID=\n",
                     "/etc/vmha/vmha.conf:2: [heartbeat] device: 'PARTUUID=' has no value");
        expect_error("[heartbeat]\ndevice = SERIAL=abc\n",
                     "/etc/vmha/vmha.conf:2: [heartbeat] device: 'SERIAL=' is not a device tag "
                     "(expected LABEL=, UUID=, PARTUUID= or PARTLABEL=)");
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = PARTLABEL=vmha-hb\n", "vmha.conf", &c, err,
                                                  sizeof(err)), 0);
        assert_string_equal(c.heartbeat_device, "PARTLABEL=vmha-hb");
}

static void test_the_metrics_textfile_is_an_absolute_prom_file(void **state) {
        struct vmha_config c;

        (void)state;
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\ntextfile = vmha.prom\n",
                     "/etc/vmha/vmha.conf:4: [metrics] textfile: 'vmha.prom' is not an absolute path");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\ntextfile = /var/lib/node-exporter/vmha.txt\n",
                     "/etc/vmha/vmha.conf:4: [metrics] textfile: '/var/lib/node-exporter/vmha.txt' does not name "
                     "a file ending in .prom (the collector reads no other)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\ntextfile = /var/lib/node-exporter/\n",
                     "/etc/vmha/vmha.conf:4: [metrics] textfile: '/var/lib/node-exporter/' does not name "
                     "a file ending in .prom (the collector reads no other)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\ntextfile = /var/lib/.prom\n",
                     "/etc/vmha/vmha.conf:4: [metrics] textfile: '/var/lib/.prom' does not name "
                     "a file ending in .prom (the collector reads no other)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\ntextfile =\n",
                     "/etc/vmha/vmha.conf:4: [metrics] textfile: '' is not an absolute path");
        expect_error("[heartbeat]\ndevice = /dev/sdb\n[metrics]\n[metrics]\ntextfile = /a.prom\ntextfile = /b.prom\n",
                     "/etc/vmha/vmha.conf:6: [metrics] textfile: set twice");
        /* Inline comments are stripped before the check. */
        assert_int_equal(vmha_config_parse_string("[heartbeat]\ndevice = /dev/sdb\n[metrics]\n"
                                                  "textfile = /m/vmha.prom  # node_exporter\n",
                                                  "vmha.conf", &c, err, sizeof(err)), 0);
        assert_string_equal(c.metrics_textfile, "/m/vmha.prom");
}

static void expect_load_refused(const char *path, int code, const char *message) {
        struct vmha_config c;
        char want[VMHA_CONFIG_ERROR_MAX];

        memset(&c, 0x5a, sizeof(c));
        assert_int_equal(vmha_config_load(path, &c, err, sizeof(err)), code);
        snprintf(want, sizeof(want), "%s: is %s, not a configuration file (expected a regular file)", path, message);
        assert_string_equal(err, want);
        assert_int_equal(((unsigned char *)&c)[0], 0x5a);
}

static void test_seconds_are_plain_decimal_to_the_millisecond(void **state) {
        static const char *const refused[] = { "", "0x5", "1.9999", "2.0004", "+5", "-5", "5e0", "5.", ".5", "inf",
                                               "nan", " 5", "5 ", "5,5", "1000000", "1e3" };
        uint32_t ms;

        (void)state;
        assert_int_equal(vmha_seconds_parse("5", &ms), 0);
        assert_int_equal(ms, 5000);
        assert_int_equal(vmha_seconds_parse("2.5", &ms), 0);
        assert_int_equal(ms, 2500);
        assert_int_equal(vmha_seconds_parse("2.001", &ms), 0);
        assert_int_equal(ms, 2001);
        assert_int_equal(vmha_seconds_parse("0.125", &ms), 0);
        assert_int_equal(ms, 125);
        assert_int_equal(vmha_seconds_parse("999999.999", &ms), 0);
        assert_int_equal(ms, 999999999);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                if (vmha_seconds_parse(refused[i], &ms) != -EINVAL)
                        fail_msg("'%s' was taken as %u ms", refused[i], ms);
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = 0x5\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '0x5' is not a plain decimal number of seconds "
                     "(like 5 or 2.5, at most 3 decimals)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = 1.9999\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '1.9999' is not a plain decimal number of seconds "
                     "(like 5 or 2.5, at most 3 decimals)");
        expect_error("[heartbeat]\ndevice = /dev/sdb\ntimeout = 600.001\n",
                     "/etc/vmha/vmha.conf:3: [heartbeat] timeout: '600.001' is not a number of seconds in 2..600");
}

static void test_load_reads_only_a_regular_file(void **state) {
        char dir[] = "/var/tmp/vmha-test-conf.XXXXXX", fifo[sizeof(dir) + 8];

        (void)state;
        assert_non_null(mkdtemp(dir));
        expect_load_refused(dir, -EISDIR, "a directory");
        /* A FIFO without a writer: refused at once, not waited on. */
        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        expect_load_refused(fifo, -EINVAL, "a FIFO");
        /* /dev/zero never ends; /dev/null reads as an empty file. */
        expect_load_refused("/dev/zero", -EINVAL, "a character device");
        expect_load_refused("/dev/null", -EINVAL, "a character device");
        unlink(fifo);
        rmdir(dir);
}

static void test_load_reads_a_real_file_and_reports_missing_ones(void **state) {
        char path[] = "/var/tmp/vmha-test-conf.XXXXXX";
        struct vmha_config c;
        int fd = mkstemp(path);
        const char text[] = "[heartbeat]\ndevice = UUID=abc\ntimeout = 3\n";

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
        close(fd);
        assert_int_equal(vmha_config_load(path, &c, err, sizeof(err)), 0);
        assert_int_equal(c.timeout_ms, 3000);
        unlink(path);
        assert_int_equal(vmha_config_load(path, &c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "No such file or directory"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal_file_gets_documented_defaults),
                cmocka_unit_test(test_every_key_is_read),
                cmocka_unit_test(test_a_timeout_set_to_the_default_still_counts_as_set),
                cmocka_unit_test(test_errors_name_file_line_and_key),
                cmocka_unit_test(test_unknown_sections_and_keys_are_errors),
                cmocka_unit_test(test_syntax_errors_and_missing_keys),
                cmocka_unit_test(test_keys_of_what_this_version_lacks_are_refused),
                cmocka_unit_test(test_the_sim_driver_needs_its_program_and_memory_and_nothing_does_nothing),
                cmocka_unit_test(test_the_first_error_is_reported_with_its_own_line),
                cmocka_unit_test(test_an_over_long_line_is_refused_not_cut),
                cmocka_unit_test(test_a_commented_out_setting_never_applies),
                cmocka_unit_test(test_inline_comments_after_a_value_are_ignored),
                cmocka_unit_test(test_inline_comments_follow_any_whitespace),
                cmocka_unit_test(test_buffer_with_a_nul_is_refused),
                cmocka_unit_test(test_device_names_follow_the_shared_rule),
                cmocka_unit_test(test_vm_memory_has_the_one_memory_limit),
                cmocka_unit_test(test_an_ipc_group_that_does_not_exist_is_an_error),
                cmocka_unit_test(test_the_metrics_textfile_is_an_absolute_prom_file),
                cmocka_unit_test(test_seconds_are_plain_decimal_to_the_millisecond),
                cmocka_unit_test(test_load_reads_only_a_regular_file),
                cmocka_unit_test(test_load_reads_a_real_file_and_reports_missing_ones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
