/* haadm: shared pieces of the administrator's command line.
 *
 * Each command group lives in its own file (haadm_disk.c, haadm_plan.c, ...)
 * and exports one entry point, called with argv[0] set to the group's name.
 * Exit statuses are the same everywhere.
 */
#pragma once

enum {
        HAADM_EXIT_OK = 0,
        HAADM_EXIT_FAIL = 1,      /* the answer is "no": corrupt, refused, unsafe */
        HAADM_EXIT_USAGE = 2,     /* bad usage, bad input, or an I/O error */
        HAADM_EXIT_NODAEMON = 3,  /* vmhad is not running */
};

/* vmhad's replies nest a few levels (status: hosts[], each an object). */
#define HAADM_REPLY_DEPTH 16

#include <stdbool.h>

/* Prints "haadm: MESSAGE" on stderr and returns HAADM_EXIT_USAGE. In JSON
 * mode (below) the message is a JSON object on stdout instead. */
int haadm_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for any exit status: returns status. */
int haadm_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON mode, for a command given --json: from now on every error it
 * reports through haadm_usage_error() or haadm_fail() is printed as
 * {"ok": false, "command": command, "error": ..., "exit_status": ...} on
 * stdout, so that a script reads one JSON object whatever happens. */
void haadm_json_errors(const char *command);
/* Is --json among the arguments (before any "--")? */
bool haadm_json_requested(int argc, char **argv);

/* For an option getopt_long() refused, with an optstring starting with
 * ':' (so that a missing value is told apart from an unknown option):
 * "CMD: option --X needs a value" or "CMD: unknown option '--X' (see
 * 'haadm HELP --help')". Returns HAADM_EXIT_USAGE. */
int haadm_option_error(const char *cmd, const char *help, int c, char **argv);

/* Is --help or -h among the arguments (before any "--")? Every command
 * then prints its usage on stdout and exits 0. */
bool haadm_help_requested(int argc, char **argv);

int haadm_disk_main(int argc, char **argv);
int haadm_plan_main(int argc, char **argv);
/* Commands served by the local vmhad (haadm_ctl.c). */
int haadm_status_main(int argc, char **argv);
int haadm_metrics_main(int argc, char **argv);
int haadm_enable_main(int argc, char **argv, bool enable);
int haadm_pool_main(int argc, char **argv);
int haadm_vm_main(int argc, char **argv);
int haadm_host_main(int argc, char **argv);
/* Answers without vmhad (haadm_emergency.c). */
int haadm_emergency_main(int argc, char **argv);
