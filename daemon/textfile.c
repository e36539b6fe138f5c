/* Reading a small text file whole (textfile.h). */
#include "daemon/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_type_name(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return "a directory";
        case S_IFCHR:
                return "a character device";
        case S_IFBLK:
                return "a block device";
        case S_IFIFO:
                return "a FIFO";
        case S_IFSOCK:
                return "a socket";
        default:
                return "not a regular file";
        }
}

int vmha_read_small_file(const char *path, size_t max, const char *kind, char **text, size_t *len, char *err,
                         size_t err_len) {
        struct stat st;
        char *buf = NULL;
        size_t n = 0;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                snprintf(err, err_len, "%s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(err, err_len, "%s: %s", path, strerror(-r));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
                snprintf(err, err_len, "%s: is %s, not a %s (expected a regular file)", path,
                         file_type_name(st.st_mode), kind);
                goto out;
        }
        if ((uint64_t)st.st_size > max) {
                r = -EFBIG;
                snprintf(err, err_len, "%s: %lld bytes is too large for a %s (at most %zu)", path,
                         (long long)st.st_size, kind, max);
                goto out;
        }
        buf = malloc(max + 2);
        if (!buf) {
                r = -ENOMEM;
                snprintf(err, err_len, "%s: out of memory", path);
                goto out;
        }
        /* Up to one byte past the limit, in case the file grew since fstat(). */
        while (n <= max) {
                ssize_t got = read(fd, buf + n, max + 1 - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        r = -errno;
                        snprintf(err, err_len, "%s: %s", path, strerror(-r));
                        goto out;
                }
                if (got == 0)
                        break;
                n += (size_t)got;
        }
        if (n > max) {
                r = -EFBIG;
                snprintf(err, err_len, "%s: too large for a %s (at most %zu bytes)", path, kind, max);
                goto out;
        }
        buf[n] = 0;
        *text = buf;
        *len = n;
        buf = NULL;
out:
        free(buf);
        close(fd);
        return r;
}

