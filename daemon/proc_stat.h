/* A process's start time from /proc/PID/stat: with its pid, it names one
 * process for good, as a pid alone does not once it is reused. */
#pragma once

#include <sys/types.h>

/* Field 22 (start time in clock ticks since boot), 0 when the process is
 * gone; *state (when not NULL) gets field 3, its state ('Z' a zombie,
 * 'T' stopped). */
unsigned long long proc_stat_start_time(pid_t pid, char *state);
