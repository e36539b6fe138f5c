/* Reading a small text file whole: vmha.conf and the sim VMs' configs.
 *
 * The whole file, NUL-terminated, so that a parser sees every byte (a NUL
 * inside included). Only a regular file is read: O_NONBLOCK keeps the open
 * of a FIFO from waiting for a writer, and fstat() refuses it, a directory
 * or a device (/dev/zero would never end) before anything is read. A file
 * longer than max is refused, also one that grew past it since fstat().
 */
#pragma once

#include <stddef.h>

/* 0 with *text (malloc'd, NUL-terminated) and *len, or a negative errno
 * with "PATH: reason" in err (-EISDIR, -EINVAL for a device, FIFO or
 * socket, -EFBIG); kind names the file in messages ("configuration file"). */
int vmha_read_small_file(const char *path, size_t max, const char *kind, char **text, size_t *len, char *err,
                         size_t err_len);
