/* The metrics textfile writer thread.
 *
 * No fsync: the rename alone makes the replacement atomic for readers,
 * and a crash can at worst lose the newest text, which the next one
 * replaces within a second. Syncing would only add waits on a busy disk.
 */
#include "daemon/metrics_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp"
#define WRITER_STACK (256 * 1024)       /* vmhad locks its memory: no 8 MiB default stack */

struct metrics_file {
        char path[PATH_MAX];
        char tmp[PATH_MAX + sizeof(TMP_SUFFIX)];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool quit;
        bool busy;                      /* in a write, without the lock */
        bool orphaned;                  /* stopped while busy: the thread frees everything */
        char *pending;                  /* the newest text not written yet */
        size_t pending_len;
        uint64_t written;
        int error;
        char error_msg[PATH_MAX + 128];
};

static void dir_of(const char *path, char *dir, size_t len) {
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 0;

        snprintf(dir, len, "%.*s", (int)(n ? n : 1), n ? path : "/");
}

int metrics_file_check(const char *path, char *err, size_t err_len) {
        char dir[PATH_MAX];
        struct stat st;

        dir_of(path, dir, sizeof(dir));
        if (stat(dir, &st) < 0) {
                int r = -errno;
                if (r == -ENOENT)
                        snprintf(err, err_len, "%s: no such directory (create it, or install node_exporter's "
                                 "textfile collector)", dir);
                else
                        snprintf(err, err_len, "%s: %s", dir, strerror(-r));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                snprintf(err, err_len, "%s: not a directory", dir);
                return -ENOTDIR;
        }
        if (geteuid() == 0 && access(dir, W_OK) < 0) {
                int r = -errno;
                snprintf(err, err_len, "%s: cannot write there: %s", dir, strerror(-r));
                return r;
        }
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                snprintf(err, err_len, "%s: exists and is not a regular file", path);
                return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
        }
        return 0;
}

/* One atomic replacement of the textfile. Returns 0, or -errno with msg. */
static int write_text(struct metrics_file *f, const char *text, size_t len, char *msg, size_t msg_len) {
        const char *what = "open";
        int fd, r = 0;

        fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                r = -errno;
                snprintf(msg, msg_len, "open %s: %s", f->tmp, strerror(-r));
                return r;
        }
        while (len > 0 && r == 0) {
                ssize_t n = write(fd, text, len);
                if ((n < 0 && errno != EINTR) || n == 0) {
                        what = "write";
                        r = n < 0 ? -errno : -EIO;
                } else if (n > 0) {
                        text += n;
                        len -= (size_t)n;
                }
        }
        /* Readable by the collector whatever vmhad's umask. */
        if (r == 0 && fchmod(fd, 0644) < 0) {
                what = "chmod";
                r = -errno;
        }
        if (close(fd) < 0 && r == 0) {
                what = "close";
                r = -errno;
        }
        if (r == 0 && rename(f->tmp, f->path) < 0) {
                r = -errno;
                snprintf(msg, msg_len, "rename over %s: %s", f->path, strerror(-r));
                unlink(f->tmp);
                return r;
        }
        if (r < 0) {
                snprintf(msg, msg_len, "%s %s: %s", what, f->tmp, strerror(-r));
                unlink(f->tmp);
        }
        return r;
}

static void destroy(struct metrics_file *f) {
        free(f->pending);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        free(f);
}

static void *writer_main(void *arg) {
        struct metrics_file *f = arg;
        char msg[sizeof(f->error_msg)];

        pthread_mutex_lock(&f->lock);
        for (;;) {
                while (!f->quit && !f->pending)
                        pthread_cond_wait(&f->cond, &f->lock);
                if (f->quit)
                        break;
                char *text = f->pending;
                size_t len = f->pending_len;
                f->pending = NULL;
                f->busy = true;
                pthread_mutex_unlock(&f->lock);

                msg[0] = 0;
                int r = write_text(f, text, len, msg, sizeof(msg));
                free(text);

                pthread_mutex_lock(&f->lock);
                f->busy = false;
                f->error = r;
                snprintf(f->error_msg, sizeof(f->error_msg), "%s", r < 0 ? msg : "");
                if (r == 0)
                        f->written++;
        }
        bool orphaned = f->orphaned;
        pthread_mutex_unlock(&f->lock);
        if (orphaned)
                destroy(f);
        return NULL;
}

int metrics_file_new(const char *path, struct metrics_file **ret) {
        struct metrics_file *f;
        pthread_attr_t attr;
        int r;

        if (strlen(path) >= sizeof(f->path))
                return -ENAMETOOLONG;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        snprintf(f->path, sizeof(f->path), "%s", path);
        snprintf(f->tmp, sizeof(f->tmp), "%s" TMP_SUFFIX, path);
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->cond, NULL);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, WRITER_STACK);
        r = -pthread_create(&f->thread, &attr, writer_main, f);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                destroy(f);
                return r;
        }
        *ret = f;
        return 0;
}

void metrics_file_free(struct metrics_file *f) {
        pthread_t th;
        bool busy;

        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        f->quit = true;
        busy = f->orphaned = f->busy;
        th = f->thread;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        if (busy) {
                pthread_detach(th);     /* f belongs to the thread now */
                return;
        }
        pthread_join(th, NULL);
        destroy(f);
}

void metrics_file_submit(struct metrics_file *f, char *text, size_t len) {
        pthread_mutex_lock(&f->lock);
        free(f->pending);
        f->pending = text;
        f->pending_len = len;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
}

int metrics_file_result(struct metrics_file *f, uint64_t *written, char *msg, size_t msg_len) {
        int r;

        pthread_mutex_lock(&f->lock);
        r = f->error;
        if (written)
                *written = f->written;
        snprintf(msg, msg_len, "%s", f->error_msg);
        pthread_mutex_unlock(&f->lock);
        return r;
}
