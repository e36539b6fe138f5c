/* /proc/PID/stat (proc_stat.h). */
#include "daemon/proc_stat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long long proc_stat_start_time(pid_t pid, char *state) {
        char path[64], buf[1024], *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        /* The name in parentheses may hold anything: the fields follow the
         * last ')'. After ") " come fields 3 (the state) to 22. */
        p = strrchr(buf, ')');
        if (!p || !p[1] || !p[2])
                return 0;
        if (state)
                *state = p[2];
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}
