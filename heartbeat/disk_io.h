/* Deadline-bounded direct I/O on the heartbeat device.
 *
 * Shared LUNs usually fail by hanging, not by returning errors: an iSCSI
 * path that is gone leaves pread() blocked for minutes. The decision loop
 * must never wait on that. Every disk_io owns a worker thread that does the
 * actual O_DIRECT pread/pwrite into its own aligned bounce buffer; callers
 * wait for the result at most until their deadline and then get -ETIMEDOUT.
 * A request that times out stays with the worker, which finishes (or stays
 * hung) on its own; the caller's buffer is never touched after the call
 * returns. While the worker is still hung, new requests time out too.
 *
 * Offsets and lengths must be multiples of DISK_BLOCK_SIZE.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk_io;

enum disk_io_mode {
        DISK_IO_READ_ONLY,
        DISK_IO_READ_WRITE,
};

/* Opens an already resolved device path with O_DIRECT (and O_DSYNC for
 * writing) and starts the worker. Returns 0 or a negative errno: -EISDIR
 * for a directory, -ENOTBLK for anything else that is neither a block
 * device nor a regular file (a FIFO is refused, never waited on). */
int disk_io_open(const char *path, enum disk_io_mode mode, struct disk_io **ret);

/* Stops the worker. A worker stuck in a hung syscall is left to finish on
 * its own and frees what it holds when it does. NULL is a no-op. */
void disk_io_free(struct disk_io *io);

/* Reads or writes len bytes at off, waiting at most timeout_ms. Returns 0,
 * -ETIMEDOUT when the deadline passed (or an earlier request is still hung),
 * -EIO (or the syscall's errno) on an I/O error, -EINVAL for misaligned
 * requests. A short read or write counts as -EIO. */
int disk_io_pread(struct disk_io *io, void *buf, size_t len, uint64_t off, unsigned timeout_ms);
int disk_io_pwrite(struct disk_io *io, const void *buf, size_t len, uint64_t off, unsigned timeout_ms);

/* Size of the device or file in bytes. */
int disk_io_size(struct disk_io *io, uint64_t *bytes);

const char *disk_io_path(const struct disk_io *io);

/* True while a request that already timed out is still in the kernel. */
bool disk_io_hung(struct disk_io *io);

/* How many timed-out requests have ended in the kernel since the open,
 * and how the last of them ended: a write or a read, at which offset, 0 or
 * -errno. A caller that gave up on a write learns from it whether, and
 * when, that write landed after all. */
uint64_t disk_io_late(struct disk_io *io, bool *was_write, uint64_t *off, int *result);
