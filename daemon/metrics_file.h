/* The metrics textfile: vmhad's metrics text, written for node_exporter's
 * textfile collector.
 *
 * A file write can block (a full or hung file system), and no callback of
 * vmhad's loop may block, so the writes happen on a small thread of their
 * own. The loop hands it each new text; the thread writes the newest one
 * to a temporary file in the same directory and renames it over the
 * textfile, so the collector never reads half a file. A text that arrives
 * while a write is under way replaces the one waiting: a stalled file
 * system costs one text in memory, never a queue. The thread never logs;
 * the loop asks how the last write went and logs changes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct metrics_file;

/* Whether path can be the textfile: its directory exists and is one, and
 * (as root, which vmhad runs as) is writable; the file itself is not a
 * directory or a special file. Returns 0, or -errno with err set
 * ("DIR: no such directory ..."). For `vmhad -t` and vmhad's start. */
int metrics_file_check(const char *path, char *err, size_t err_len);

/* Starts the writer thread for path. Returns 0, -ENOMEM or -errno. */
int metrics_file_new(const char *path, struct metrics_file **ret);
/* Stops the thread. One blocked in a write is left to finish on its own
 * (it frees what it owns): a stop never waits on the file system.
 * metrics_file_free(NULL) is a no-op. */
void metrics_file_free(struct metrics_file *f);

/* Hands over text (malloc'd, len bytes; the writer frees it) to be written
 * next. Only takes a mutex that the thread never holds across I/O. */
void metrics_file_submit(struct metrics_file *f, char *text, size_t len);

/* How the last write went: 0, or -errno with a message in msg; *written
 * counts the texts written so far. */
int metrics_file_result(struct metrics_file *f, uint64_t *written, char *msg, size_t msg_len);
