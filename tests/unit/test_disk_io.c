/* Tests of the deadline-bounded disk I/O, on a regular file and through the
 * lab's FUSE fault injector (tests/lab/fusedisk), which really blocks the
 * read and write syscalls in the kernel while its mode is "hang". */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/disk_thread.h"
#include "heartbeat/disk_format.h"
#include "heartbeat/disk_io.h"
#include "heartbeat/disk_region.h"

#define LUN_BYTES (4u << 20)

static char dir[256], backing[300], mnt[300], ctl[300], lun[320];
static pid_t fuse_pid = -1;

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_mode(const char *mode) {
        FILE *f = fopen(ctl, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", mode);
        fclose(f);
}

static void *aligned_block(size_t len, int fill) {
        void *p = NULL;
        if (posix_memalign(&p, DISK_BLOCK_SIZE, len) != 0)
                fail_msg("out of memory");
        memset(p, fill, len);
        return p;
}

/* Starts fusedisk over a fresh backing file; waits for the mount. */
static int setup_fuse(void **state) {
        const char *builddir = getenv("builddir") ? getenv("builddir") : ".";
        char exe[512];
        int fd;

        (void)state;
        snprintf(dir, sizeof(dir), "/var/tmp/vmha-test-disk-io.XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(backing, sizeof(backing), "%s/backing", dir);
        snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
        snprintf(ctl, sizeof(ctl), "%s/ctl", dir);
        snprintf(lun, sizeof(lun), "%s/lun", mnt);
        snprintf(exe, sizeof(exe), "%s/tests/lab/fusedisk", builddir);
        mkdir(mnt, 0700);
        fd = open(backing, O_CREAT | O_RDWR, 0600);
        if (fd < 0 || ftruncate(fd, LUN_BYTES) < 0)
                return -1;
        close(fd);
        set_mode("ok");

        fuse_pid = fork();
        if (fuse_pid == 0) {
                execl(exe, exe, backing, mnt, ctl, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 500; i++) {
                struct stat st;
                if (stat(lun, &st) == 0 && st.st_size == LUN_BYTES)
                        return 0;
                usleep(10000);
        }
        fprintf(stderr, "fusedisk did not come up at %s\n", mnt);
        return -1;
}

static int teardown_fuse(void **state) {
        char cmd[600];

        (void)state;
        set_mode("ok");
        if (fuse_pid > 0) {
                kill(fuse_pid, SIGTERM);
                waitpid(fuse_pid, NULL, 0);
        }
        snprintf(cmd, sizeof(cmd), "fusermount3 -u -z %s 2>/dev/null; rm -rf %s", mnt, dir);
        if (system(cmd) != 0)
                return -1;
        return 0;
}

static void test_roundtrip_on_regular_file(void **state) {
        char path[] = "/var/tmp/vmha-test-io.XXXXXX";
        struct disk_io *io;
        uint8_t *w = aligned_block(2 * DISK_BLOCK_SIZE, 0xa5), r[2 * DISK_BLOCK_SIZE];
        uint64_t size;
        int fd = mkstemp(path);

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        close(fd);
        assert_int_equal(disk_io_open(path, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_io_size(io, &size), 0);
        assert_int_equal(size, 1 << 20);
        /* The caller's buffers need no alignment: the worker bounces. */
        assert_int_equal(disk_io_pwrite(io, w, sizeof(r), 8 * DISK_BLOCK_SIZE, 1000), 0);
        memset(r, 0, sizeof(r));
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 8 * DISK_BLOCK_SIZE, 1000), 0);
        assert_memory_equal(r, w, sizeof(r));
        disk_io_free(io);
        free(w);
        unlink(path);
}

static void test_misaligned_requests_are_rejected(void **state) {
        char path[] = "/var/tmp/vmha-test-io.XXXXXX";
        struct disk_io *io;
        uint8_t buf[2 * DISK_BLOCK_SIZE];
        int fd = mkstemp(path);

        (void)state;
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        close(fd);
        assert_int_equal(disk_io_open(path, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_io_pread(io, buf, 512, 0, 1000), -EINVAL);
        assert_int_equal(disk_io_pread(io, buf, DISK_BLOCK_SIZE, 100, 1000), -EINVAL);
        assert_int_equal(disk_io_pwrite(io, buf, 0, 0, 1000), -EINVAL);
        disk_io_free(io);
        unlink(path);
}

static void test_read_past_the_end_is_an_io_error(void **state) {
        char path[] = "/var/tmp/vmha-test-io.XXXXXX";
        struct disk_io *io;
        uint8_t buf[DISK_BLOCK_SIZE];
        int fd = mkstemp(path);

        (void)state;
        assert_int_equal(ftruncate(fd, 8 * DISK_BLOCK_SIZE), 0);
        close(fd);
        assert_int_equal(disk_io_open(path, DISK_IO_READ_ONLY, &io), 0);
        assert_int_equal(disk_io_pread(io, buf, sizeof(buf), 8 * DISK_BLOCK_SIZE, 1000), -EIO);
        disk_io_free(io);
        unlink(path);
}

static void test_open_of_missing_device_fails_cleanly(void **state) {
        struct disk_io *io = NULL;

        (void)state;
        assert_int_equal(disk_io_open("/nonexistent/vmha-lun", DISK_IO_READ_ONLY, &io), -ENOENT);
        assert_null(io);
}

static void test_open_refuses_what_is_neither_a_block_device_nor_a_file(void **state) {
        char tmp[] = "/var/tmp/vmha-test-open.XXXXXX", fifo[sizeof(tmp) + 8];
        struct disk_io *io = NULL;

        (void)state;
        assert_non_null(mkdtemp(tmp));
        assert_int_equal(disk_io_open(tmp, DISK_IO_READ_ONLY, &io), -EISDIR);
        assert_int_equal(disk_io_open("/dev/null", DISK_IO_READ_ONLY, &io), -ENOTBLK);
        assert_int_equal(disk_io_open("/dev/zero", DISK_IO_READ_WRITE, &io), -ENOTBLK);
        /* A FIFO without a writer: refused at once, not waited on. */
        snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(10);
        assert_int_equal(disk_io_open(fifo, DISK_IO_READ_ONLY, &io), -ENOTBLK);
        alarm(0);
        assert_null(io);
        unlink(fifo);
        rmdir(tmp);
}

static void test_io_through_fuse_passes_o_direct(void **state) {
        struct disk_io *io;
        uint8_t *w = aligned_block(DISK_BLOCK_SIZE, 0x3c), r[DISK_BLOCK_SIZE];

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_io_pwrite(io, w, DISK_BLOCK_SIZE, 3 * DISK_BLOCK_SIZE, 2000), 0);
        assert_int_equal(disk_io_pread(io, r, DISK_BLOCK_SIZE, 3 * DISK_BLOCK_SIZE, 2000), 0);
        assert_memory_equal(r, w, DISK_BLOCK_SIZE);
        disk_io_free(io);
        free(w);
}

/* The core promise: a hung device costs the caller its deadline, no more. */
static void test_hung_read_returns_etimedout_at_its_deadline(void **state) {
        struct disk_io *io;
        uint8_t *w = aligned_block(DISK_BLOCK_SIZE, 0x77), r[DISK_BLOCK_SIZE];
        uint64_t t0, dt;

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_io_pwrite(io, w, DISK_BLOCK_SIZE, 0, 2000), 0);

        set_mode("hang");
        memset(r, 0xee, sizeof(r));
        t0 = now_ms();
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 300), -ETIMEDOUT);
        dt = now_ms() - t0;
        assert_true(dt >= 300);
        assert_true(dt < 3000);         /* generous: shared machines are noisy */
        assert_true(disk_io_hung(io));
        /* The caller's buffer is never written once the call returned. */
        for (size_t i = 0; i < sizeof(r); i++)
                assert_int_equal(r[i], 0xee);

        /* While the first read is still stuck, the next one times out too. */
        t0 = now_ms();
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 200), -ETIMEDOUT);
        assert_true(now_ms() - t0 < 3000);

        /* The device comes back: the stuck read drains, I/O works again. */
        set_mode("ok");
        for (int i = 0; i < 300 && disk_io_hung(io); i++)
                usleep(10000);
        assert_false(disk_io_hung(io));
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 2000), 0);
        assert_memory_equal(r, w, sizeof(r));
        for (int i = 0; i < 10; i++)
                assert_int_equal(r[i], 0x77);
        disk_io_free(io);
        free(w);
}

static void test_hung_write_returns_etimedout_and_completes_later(void **state) {
        struct disk_io *io;
        uint8_t *w = aligned_block(DISK_BLOCK_SIZE, 0x42), r[DISK_BLOCK_SIZE];

        (void)state;
        set_mode("hang");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_io_pwrite(io, w, DISK_BLOCK_SIZE, 5 * DISK_BLOCK_SIZE, 250), -ETIMEDOUT);
        free(w);        /* the worker holds its own copy */
        {
                bool was_write;
                uint64_t off;
                int res;
                assert_int_equal(disk_io_late(io, &was_write, &off, &res), 0);
                set_mode("ok");
                for (int i = 0; i < 300 && disk_io_hung(io); i++)
                        usleep(10000);
                /* The write the caller gave up on landed: it says so. */
                assert_int_equal(disk_io_late(io, &was_write, &off, &res), 1);
                assert_true(was_write);
                assert_int_equal(off, 5 * DISK_BLOCK_SIZE);
                assert_int_equal(res, 0);
        }
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 5 * DISK_BLOCK_SIZE, 2000), 0);
        assert_int_equal(r[0], 0x42);
        disk_io_free(io);
}

static void test_error_mode_returns_eio(void **state) {
        struct disk_io *io;
        uint8_t r[DISK_BLOCK_SIZE];

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        set_mode("error");
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 2000), -EIO);
        assert_int_equal(disk_io_pwrite(io, r, sizeof(r), 0, 2000), -EIO);
        set_mode("ok");
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 2000), 0);
        disk_io_free(io);
}

static void test_free_while_hung_returns_at_once(void **state) {
        struct disk_io *io;
        uint8_t r[DISK_BLOCK_SIZE];
        uint64_t t0;

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_ONLY, &io), 0);
        set_mode("hang");
        assert_int_equal(disk_io_pread(io, r, sizeof(r), 0, 100), -ETIMEDOUT);
        t0 = now_ms();
        disk_io_free(io);
        assert_true(now_ms() - t0 < 1000);
        set_mode("ok");
        usleep(200000);         /* let the worker drain and free itself */
}

static void test_region_format_and_slot_io_through_fuse(void **state) {
        struct disk_super sb = { .cluster_name = "t", .slot_count = 8, .timeout_ms = 2000,
                                 .claim_blocks = 2, .config_blocks = 2, .uuid = { 1, 2, 3 } };
        struct disk_io *io;
        struct disk_region *reg;
        struct disk_error err;
        struct disk_slot slots[9], s = { .host_id = 4, .state = DISK_SLOT_ALIVE, .seq = 17 };
        struct disk_status st[9];
        struct disk_config_header hdr[2];
        struct disk_status cst[2];
        int current;
        void *payload;
        size_t stored;

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_region_format(io, &sb, 2000, &err), 0);
        assert_int_equal(disk_region_attach(io, 2000, &reg, &err), 0);
        assert_int_equal(disk_region_write_slot(reg, &s), 0);
        assert_int_equal(disk_region_read_slots(reg, slots, st), 0);
        for (int id = 1; id <= 8; id++)
                assert_int_equal(st[id].error, 0);
        assert_int_equal(slots[4].seq, 17);
        assert_int_equal(slots[4].state, DISK_SLOT_ALIVE);
        assert_int_equal(slots[3].state, DISK_SLOT_EMPTY);

        assert_int_equal(disk_region_write_snapshot(reg, 2, "hello", 5, 1, &stored), 0);
        assert_true(stored > 0);
        assert_int_equal(disk_region_write_snapshot(reg, 2, "again", 5, 1, &stored), -ESTALE);
        assert_int_equal(disk_region_read_config(reg, hdr, cst, &current, &payload), 0);
        assert_int_equal(current, 1);
        assert_int_equal(hdr[1].generation, 2);
        assert_int_equal(hdr[1].flags, DISK_CONFIG_DEFLATE);
        assert_int_equal(hdr[1].raw_len, 5);
        assert_int_equal(hdr[1].payload_len, stored);
        assert_memory_equal(payload, "hello", 5);
        free(payload);
        /* Two blocks per copy: a snapshot that does not compress into them
         * is refused whole, and the copies stay as they were. */
        {
                uint8_t *noise = malloc(3 * DISK_BLOCK_SIZE);
                uint32_t x = 1;
                for (size_t i = 0; i < 3 * DISK_BLOCK_SIZE; i++) {
                        x = x * 1103515245u + 12345u;
                        noise[i] = (uint8_t)(x >> 24);
                }
                assert_int_equal(disk_region_write_snapshot(reg, 3, noise, 3 * DISK_BLOCK_SIZE, 1, &stored), -EFBIG);
                assert_true(stored > disk_layout_config_payload_max(&reg->layout));
                free(noise);
        }
        assert_int_equal(disk_region_read_config(reg, hdr, cst, &current, &payload), 0);
        assert_int_equal(current, 1);
        assert_int_equal(hdr[1].generation, 2);
        assert_memory_equal(payload, "hello", 5);
        free(payload);

        /* With the device hung, a bulk read fails by its deadline. */
        set_mode("hang");
        reg->timeout_ms = 200;
        assert_int_equal(disk_region_read_slots(reg, slots, st), -ETIMEDOUT);
        set_mode("ok");
        disk_region_free(reg);
}

/* The disk thread behind a hung request: each round still writes the slot
 * (failing at its deadline, so the engine learns of it at once), and it
 * issues no read behind the hung request, so a round costs one deadline,
 * not one per I/O. */
static void test_disk_thread_skips_the_rest_of_a_round_behind_a_hung_request(void **state) {
        struct disk_super sb = { .cluster_name = "t", .slot_count = 4, .timeout_ms = 2000,
                                 .claim_blocks = 1, .config_blocks = 2, .uuid = { 4, 5, 6 } };
        struct disk_slot init = { .state = DISK_SLOT_ALIVE };
        struct disk_latency a[_DISK_OP_MAX], b[_DISK_OP_MAX];
        struct disk_io *io;
        struct disk_region *reg;
        struct disk_error err;
        struct disk_thread *t;
        struct disk_round r;
        bool read_ok = false;

        (void)state;
        set_mode("ok");
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_region_format(io, &sb, 2000, &err), 0);
        assert_int_equal(disk_region_attach(io, 2000, &reg, &err), 0);
        reg->timeout_ms = 150;
        assert_int_equal(disk_round_init(&r, 4), 0);
        assert_int_equal(disk_thread_start(reg, 1, 150, &init, &t), 0);
        for (int i = 0; i < 300 && !read_ok; i++) {
                usleep(10000);
                disk_thread_take(t, &r);
                read_ok = r.read_ok;
        }
        assert_true(read_ok);

        set_mode("hang");
        usleep(1500 * 1000);
        disk_thread_latency(t, a);
        usleep(1500 * 1000);
        disk_thread_latency(t, b);
        assert_true(b[DISK_OP_SLOT_WRITE].count >= a[DISK_OP_SLOT_WRITE].count + 3);
        assert_int_equal(b[DISK_OP_READ_ROUND].count, a[DISK_OP_READ_ROUND].count);
        assert_int_equal(b[DISK_OP_MAILBOX_READ].count, a[DISK_OP_MAILBOX_READ].count);
        disk_thread_take(t, &r);
        assert_false(r.write_ok);
        assert_false(r.read_ok);

        set_mode("ok");
        read_ok = false;
        for (int i = 0; i < 500 && !read_ok; i++) {
                usleep(10000);
                disk_thread_take(t, &r);
                read_ok = r.read_ok && r.write_ok;
        }
        assert_true(read_ok);
        disk_thread_stop(t);
        disk_round_free(&r);
}

/* The disk thread's claims: this host's area written whole, every host's
 * collected, an undecodable block named as unknown, and a write that
 * outlasts its deadline reported in flight, then late once it landed,
 * with no other claim write issued in between. */
static bool take_claims(struct disk_thread *t, struct disk_claims_event *ev, int ms) {
        for (int waited = 0; waited < ms; waited += 10) {
                if (disk_thread_take_claims(t, ev))
                        return true;
                usleep(10000);
        }
        return false;
}

static void test_disk_thread_writes_and_collects_claims(void **state) {
        struct disk_super sb = { .cluster_name = "t", .slot_count = 4, .timeout_ms = 2000,
                                 .claim_blocks = 2, .config_blocks = 2, .uuid = { 7, 8, 9 } };
        struct disk_slot init = { .state = DISK_SLOT_ALIVE };
        struct disk_claim mine[300], theirs[2] = { { 5, 9 }, { 6, 2 } };
        struct disk_claims_event ev;
        struct disk_io *io;
        struct disk_region *reg;
        struct disk_error err;
        struct disk_thread *t;
        size_t from1 = 0, from2 = 0;

        (void)state;
        set_mode("ok");
        for (size_t i = 0; i < 300; i++)
                mine[i] = (struct disk_claim){ .vm_id = 1000 + i, .claim_seq = 1 };
        assert_int_equal(disk_io_open(lun, DISK_IO_READ_WRITE, &io), 0);
        assert_int_equal(disk_region_format(io, &sb, 2000, &err), 0);
        assert_int_equal(disk_region_attach(io, 2000, &reg, &err), 0);
        assert_int_equal(disk_region_write_own_claims(reg, 2, theirs, 2, 1), 0);
        /* Host 3's second block is garbage: its claims are unknown. */
        {
                uint8_t *junk = aligned_block(DISK_BLOCK_SIZE, 0x6b);
                assert_int_equal(disk_io_pwrite(reg->io, junk, DISK_BLOCK_SIZE,
                                                disk_layout_claims_offset(&reg->layout, 3, 1), 2000), 0);
                free(junk);
        }
        reg->timeout_ms = 200;
        assert_int_equal(disk_thread_start(reg, 1, 200, &init, &t), 0);
        /* 300 claims take both of this host's blocks. */
        assert_int_equal(disk_thread_write_claims(t, mine, 300), 0);
        assert_true(take_claims(t, &ev, 3000));
        assert_int_equal(ev.type, DISK_CLAIMS_WRITE);
        assert_true(ev.ok);
        disk_thread_read_claims(t);
        assert_true(take_claims(t, &ev, 3000));
        assert_int_equal(ev.type, DISK_CLAIMS_READ);
        assert_true(ev.ok);
        for (size_t i = 0; i < ev.n_claims; i++) {
                from1 += ev.claims[i].host_id == 1;
                from2 += ev.claims[i].host_id == 2 && ev.claims[i].vm_id == 5 + i - from1 &&
                         ev.claims[i].claim_seq == (i - from1 == 0 ? 9 : 2);
        }
        assert_int_equal(from1, 300);
        assert_int_equal(from2, 2);
        assert_int_equal(ev.n_unknown, 1);
        assert_int_equal(ev.unknown[0], 3);
        free(ev.claims);
        /* Too many claims for two blocks: refused, nothing queued. */
        {
                static struct disk_claim many[2 * DISK_CLAIMS_PER_BLOCK + 1];
                assert_int_equal(disk_thread_write_claims(t, many, 2 * DISK_CLAIMS_PER_BLOCK + 1), -E2BIG);
        }

        /* A write that hangs: in flight, then late once it landed. */
        set_mode("hang");
        mine[0].claim_seq = 2;
        /* Unless a slot write of a round hung first: then the claim write
         * is never issued (failed, not in flight), and it is asked again. */
        for (int tries = 0; tries < 10; tries++) {
                assert_int_equal(disk_thread_write_claims(t, mine, 1), 0);
                assert_true(take_claims(t, &ev, 3000));
                assert_int_equal(ev.type, DISK_CLAIMS_WRITE);
                assert_false(ev.ok);
                if (ev.in_flight)
                        break;
                set_mode("ok");
                usleep(500 * 1000);
                while (take_claims(t, &ev, 10))
                        ;
                set_mode("hang");
        }
        assert_true(ev.in_flight);
        mine[0].claim_seq = 3;
        assert_int_equal(disk_thread_write_claims(t, mine, 1), 0);    /* must wait for the first */
        usleep(600 * 1000);
        assert_false(take_claims(t, &ev, 10));
        set_mode("ok");
        assert_true(take_claims(t, &ev, 5000));
        assert_int_equal(ev.type, DISK_CLAIMS_WRITE);
        assert_true(ev.late);
        assert_true(ev.ok);
        assert_true(take_claims(t, &ev, 5000));        /* then the second is issued */
        assert_int_equal(ev.type, DISK_CLAIMS_WRITE);
        assert_false(ev.late);
        assert_true(ev.ok);
        disk_thread_read_claims(t);
        assert_true(take_claims(t, &ev, 3000));
        assert_int_equal(ev.type, DISK_CLAIMS_READ);
        assert_true(ev.ok);
        assert_int_equal(ev.claims[0].host_id, 1);
        assert_int_equal(ev.claims[0].claim_seq, 3);
        free(ev.claims);
        disk_thread_stop(t);
}

int main(void) {
        const struct CMUnitTest plain[] = {
                cmocka_unit_test(test_roundtrip_on_regular_file),
                cmocka_unit_test(test_misaligned_requests_are_rejected),
                cmocka_unit_test(test_read_past_the_end_is_an_io_error),
                cmocka_unit_test(test_open_of_missing_device_fails_cleanly),
                cmocka_unit_test(test_open_refuses_what_is_neither_a_block_device_nor_a_file),
        };
        const struct CMUnitTest fuse[] = {
                cmocka_unit_test(test_io_through_fuse_passes_o_direct),
                cmocka_unit_test(test_hung_read_returns_etimedout_at_its_deadline),
                cmocka_unit_test(test_hung_write_returns_etimedout_and_completes_later),
                cmocka_unit_test(test_error_mode_returns_eio),
                cmocka_unit_test(test_free_while_hung_returns_at_once),
                cmocka_unit_test(test_region_format_and_slot_io_through_fuse),
                cmocka_unit_test(test_disk_thread_skips_the_rest_of_a_round_behind_a_hung_request),
                cmocka_unit_test(test_disk_thread_writes_and_collects_claims),
        };
        int failed = cmocka_run_group_tests_name("disk_io", plain, NULL, NULL);
        failed += cmocka_run_group_tests_name("disk_io_fuse", fuse, setup_fuse, teardown_fuse);
        return failed;
}
