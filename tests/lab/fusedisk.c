/* fusedisk: one host's fault-injecting view of the lab's shared LUN.
 *
 * Mounts a directory holding a single file, `lun`, whose reads and writes go
 * straight to a backing file (the LUN shared by every lab host). Opens with
 * O_DIRECT work and bypass the page cache of the mount (direct_io), so
 * what the daemon writes is at once visible through every other host's
 * mount, as on a real shared LUN.
 *
 * Faults come from a control file outside the mount, re-read on every
 * operation, so the lab flips them with a plain `echo hang > CTL`:
 *   ok      pass I/O through
 *   error   fail every read and write with EIO
 *   hang    block every read and write until the mode changes again,
 *           as an iSCSI path does when its target disappears
 *
 * usage: fusedisk BACKING MOUNTPOINT CTLFILE
 * It stays in the foreground; kill it or `fusermount3 -u MOUNTPOINT` to stop.
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum fault { FAULT_OK, FAULT_ERROR, FAULT_HANG };

static const char *backing_path;
static const char *ctl_path;
static int backing_fd = -1;

static enum fault fault_read(void) {
        char buf[16] = { 0 };
        int fd = open(ctl_path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return FAULT_OK;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return FAULT_OK;
        if (strncmp(buf, "error", 5) == 0)
                return FAULT_ERROR;
        if (strncmp(buf, "hang", 4) == 0)
                return FAULT_HANG;
        return FAULT_OK;
}

/* Applies the current fault: 0 to go on, -EIO to fail. Hangs while the
 * mode is "hang". */
static int fault_apply(void) {
        for (;;) {
                enum fault f = fault_read();
                if (f == FAULT_OK)
                        return 0;
                if (f == FAULT_ERROR)
                        return -EIO;
                /* Honour an interrupt if libfuse delivers one; the lab
                 * also aborts a powered-off host's connection itself. */
                if (fuse_interrupted())
                        return -EINTR;
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

static int fd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        (void)fi;
        memset(st, 0, sizeof(*st));
        if (strcmp(path, "/") == 0) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
                return 0;
        }
        if (strcmp(path, "/lun") == 0) {
                struct stat b;
                if (fstat(backing_fd, &b) < 0)
                        return -errno;
                st->st_mode = S_IFREG | 0600;
                st->st_nlink = 1;
                st->st_size = b.st_size;
                st->st_blksize = 4096;
                st->st_blocks = b.st_blocks;
                st->st_mtim = b.st_mtim;
                st->st_ctim = b.st_ctim;
                return 0;
        }
        return -ENOENT;
}

static int fd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
        (void)off;
        (void)fi;
        (void)flags;
        if (strcmp(path, "/") != 0)
                return -ENOENT;
        fill(buf, ".", NULL, 0, 0);
        fill(buf, "..", NULL, 0, 0);
        fill(buf, "lun", NULL, 0, 0);
        return 0;
}

static int fd_open(const char *path, struct fuse_file_info *fi) {
        if (strcmp(path, "/lun") != 0)
                return -ENOENT;
        fi->direct_io = 1;      /* no page cache on this side: a shared LUN */
        fi->keep_cache = 0;
        return 0;
}

static int fd_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        ssize_t n;
        int r;

        (void)path;
        (void)fi;
        r = fault_apply();
        if (r < 0)
                return r;
        n = pread(backing_fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
}

static int fd_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        ssize_t n;
        int r;

        (void)path;
        (void)fi;
        r = fault_apply();
        if (r < 0)
                return r;
        n = pwrite(backing_fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
}

static int fd_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
        int r;

        (void)path;
        (void)fi;
        r = fault_apply();
        if (r < 0)
                return r;
        return (datasync ? fdatasync(backing_fd) : fsync(backing_fd)) < 0 ? -errno : 0;
}

static int fd_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
        (void)path;
        (void)size;
        (void)fi;
        return -EPERM;  /* the LUN's size is fixed */
}

static const struct fuse_operations ops = {
        .getattr = fd_getattr,
        .readdir = fd_readdir,
        .open = fd_open,
        .read = fd_read,
        .write = fd_write,
        .fsync = fd_fsync,
        .truncate = fd_truncate,
};

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: %s BACKING MOUNTPOINT CTLFILE\n", argv[0]);
                return 2;
        }
        backing_path = argv[1];
        ctl_path = argv[3];
        /* O_DSYNC: a completed write through any host's mount is on the LUN. */
        backing_fd = open(backing_path, O_RDWR | O_DSYNC | O_CLOEXEC);
        if (backing_fd < 0) {
                fprintf(stderr, "fusedisk: %s: %s\n", backing_path, strerror(errno));
                return 1;
        }
        char *fargv[] = { argv[0], "-f", "-o", "fsname=vmha-lun,subtype=fusedisk,allow_other,auto_unmount,max_threads=16",
                          argv[2], NULL };
        return fuse_main(5, fargv, &ops, NULL);
}
