/* Deadline-bounded direct I/O: one worker thread per device.
 *
 * The caller and the worker share one request slot under a mutex. The
 * caller posts a request with a private aligned bounce buffer and waits on
 * a CLOCK_MONOTONIC condition variable until the deadline. If the deadline
 * passes, the caller marks the request abandoned and returns -ETIMEDOUT;
 * the bounce buffer then belongs to the worker, which frees it when the
 * syscall eventually returns. The disk_io itself is reference-counted
 * between its owner and the worker, so freeing it while the worker hangs
 * is safe.
 */
#include "heartbeat/disk_io.h"
#include "heartbeat/disk_format.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum req_state {
        REQ_IDLE,       /* nothing posted; the worker waits */
        REQ_POSTED,     /* posted or running */
        REQ_DONE,       /* result ready for the caller */
};

struct disk_io {
        pthread_mutex_t lock;
        pthread_cond_t cond;    /* signalled on every state change */
        pthread_t worker;
        int fd;
        char *path;
        unsigned refs;          /* owner + worker */
        bool quit;

        enum req_state state;
        bool abandoned;         /* the caller gave up; the worker frees buf */
        bool is_write;
        void *buf;              /* aligned bounce buffer */
        size_t len;
        uint64_t off;
        int result;
        /* The last abandoned request, once it ended in the kernel. */
        uint64_t late_count;
        bool late_write;
        uint64_t late_off;
        int late_result;
};

static void io_unref_locked(struct disk_io *io, bool *last) {
        *last = --io->refs == 0;
}

static void io_destroy(struct disk_io *io) {
        pthread_mutex_destroy(&io->lock);
        pthread_cond_destroy(&io->cond);
        if (io->fd >= 0)
                close(io->fd);
        free(io->buf);
        free(io->path);
        free(io);
}

/* Full pread/pwrite; a short transfer is an I/O error. */
static int do_io(int fd, bool is_write, void *buf, size_t len, uint64_t off) {
        size_t done = 0;
        while (done < len) {
                ssize_t n = is_write ? pwrite(fd, (char *)buf + done, len - done, (off_t)(off + done))
                                     : pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                done += (size_t)n;
        }
        return 0;
}

static void *worker_main(void *arg) {
        struct disk_io *io = arg;
        bool last;

        pthread_mutex_lock(&io->lock);
        for (;;) {
                while (!io->quit && io->state != REQ_POSTED)
                        pthread_cond_wait(&io->cond, &io->lock);
                if (io->state != REQ_POSTED && io->quit)
                        break;

                bool is_write = io->is_write;
                void *buf = io->buf;
                size_t len = io->len;
                uint64_t off = io->off;
                pthread_mutex_unlock(&io->lock);

                int r = do_io(io->fd, is_write, buf, len, off);

                pthread_mutex_lock(&io->lock);
                if (io->abandoned) {
                        free(io->buf);
                        io->buf = NULL;
                        io->abandoned = false;
                        io->state = REQ_IDLE;
                        io->late_count++;
                        io->late_write = is_write;
                        io->late_off = off;
                        io->late_result = r;
                } else {
                        io->result = r;
                        io->state = REQ_DONE;
                }
                pthread_cond_broadcast(&io->cond);
        }
        io_unref_locked(io, &last);
        pthread_mutex_unlock(&io->lock);
        if (last)
                io_destroy(io);
        return NULL;
}

int disk_io_open(const char *path, enum disk_io_mode mode, struct disk_io **ret) {
        pthread_condattr_t ca;
        struct disk_io *io;
        struct stat st;
        int flags = O_DIRECT | O_CLOEXEC;
        int r;

        if (!path || !*path)
                return -EINVAL;
        /* Only a block device or a file: the open of a FIFO would wait for
         * a writer with no deadline, and O_DIRECT on a directory or a
         * character device fails with a mere EINVAL. */
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
                return -ENOTBLK;
        flags |= mode == DISK_IO_READ_WRITE ? (O_RDWR | O_DSYNC) : O_RDONLY;

        io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        io->fd = -1;
        io->path = strdup(path);
        if (!io->path) {
                free(io);
                return -ENOMEM;
        }
        io->fd = open(path, flags);
        if (io->fd < 0) {
                r = -errno;
                free(io->path);
                free(io);
                return r;
        }
        pthread_mutex_init(&io->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&io->cond, &ca);
        pthread_condattr_destroy(&ca);
        io->refs = 2;
        r = pthread_create(&io->worker, NULL, worker_main, io);
        if (r != 0) {
                io->refs = 1;
                io_destroy(io);
                return -r;
        }
        pthread_detach(io->worker);
        *ret = io;
        return 0;
}

void disk_io_free(struct disk_io *io) {
        bool last;

        if (!io)
                return;
        pthread_mutex_lock(&io->lock);
        io->quit = true;
        if (io->state == REQ_POSTED)
                io->abandoned = true;   /* the worker frees the buffer */
        pthread_cond_broadcast(&io->cond);
        io_unref_locked(io, &last);
        pthread_mutex_unlock(&io->lock);
        if (last)
                io_destroy(io);
}

static void deadline_after(struct timespec *ts, unsigned timeout_ms) {
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += timeout_ms / 1000;
        ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* Waits on the condition until pred holds or the deadline passes. */
#define WAIT_UNTIL(io, pred, deadline, timed_out)                                          \
        do {                                                                               \
                (timed_out) = false;                                                       \
                while (!(pred)) {                                                          \
                        if (pthread_cond_timedwait(&(io)->cond, &(io)->lock, (deadline)) == \
                            ETIMEDOUT && !(pred)) {                                        \
                                (timed_out) = true;                                        \
                                break;                                                     \
                        }                                                                  \
                }                                                                          \
        } while (0)

static int submit(struct disk_io *io, bool is_write, void *buf, size_t len, uint64_t off,
                  unsigned timeout_ms) {
        struct timespec deadline;
        void *bounce;
        bool timed_out;
        int r;

        if (len == 0 || len % DISK_BLOCK_SIZE || off % DISK_BLOCK_SIZE)
                return -EINVAL;
        if (posix_memalign(&bounce, DISK_BLOCK_SIZE, len) != 0)
                return -ENOMEM;
        if (is_write)
                memcpy(bounce, buf, len);

        deadline_after(&deadline, timeout_ms);
        pthread_mutex_lock(&io->lock);
        /* An earlier request may still be hung in the kernel: wait for it
         * within this request's deadline, no longer. */
        WAIT_UNTIL(io, io->state == REQ_IDLE, &deadline, timed_out);
        if (timed_out) {
                pthread_mutex_unlock(&io->lock);
                free(bounce);
                return -ETIMEDOUT;
        }
        io->state = REQ_POSTED;
        io->abandoned = false;
        io->is_write = is_write;
        io->buf = bounce;
        io->len = len;
        io->off = off;
        pthread_cond_broadcast(&io->cond);

        WAIT_UNTIL(io, io->state == REQ_DONE, &deadline, timed_out);
        if (timed_out) {
                io->abandoned = true;   /* the bounce buffer is the worker's now */
                pthread_mutex_unlock(&io->lock);
                return -ETIMEDOUT;
        }
        r = io->result;
        io->buf = NULL;
        io->state = REQ_IDLE;
        pthread_cond_broadcast(&io->cond);
        pthread_mutex_unlock(&io->lock);

        if (r == 0 && !is_write)
                memcpy(buf, bounce, len);
        free(bounce);
        return r;
}

int disk_io_pread(struct disk_io *io, void *buf, size_t len, uint64_t off, unsigned timeout_ms) {
        return submit(io, false, buf, len, off, timeout_ms);
}

int disk_io_pwrite(struct disk_io *io, const void *buf, size_t len, uint64_t off, unsigned timeout_ms) {
        return submit(io, true, (void *)buf, len, off, timeout_ms);
}

int disk_io_size(struct disk_io *io, uint64_t *bytes) {
        struct stat st;

        if (fstat(io->fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                uint64_t sz;
                if (ioctl(io->fd, BLKGETSIZE64, &sz) < 0)
                        return -errno;
                *bytes = sz;
                return 0;
        }
        if (S_ISREG(st.st_mode)) {
                *bytes = (uint64_t)st.st_size;
                return 0;
        }
        return -ENOTBLK;
}

const char *disk_io_path(const struct disk_io *io) {
        return io->path;
}

bool disk_io_hung(struct disk_io *io) {
        bool hung;
        pthread_mutex_lock(&io->lock);
        hung = io->state == REQ_POSTED && io->abandoned;
        pthread_mutex_unlock(&io->lock);
        return hung;
}

uint64_t disk_io_late(struct disk_io *io, bool *was_write, uint64_t *off, int *result) {
        uint64_t n;

        pthread_mutex_lock(&io->lock);
        n = io->late_count;
        *was_write = io->late_write;
        *off = io->late_off;
        *result = io->late_result;
        pthread_mutex_unlock(&io->lock);
        return n;
}
