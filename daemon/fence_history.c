/* Reading the fence history. */
#include "daemon/fence_history.h"

#include "fence/emergency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fence_history_read(const char *path, int64_t **times, size_t *n) {
        size_t want, len, lines = 1;
        const char *p;
        off_t size = 0;
        struct stat st;
        char *text;
        FILE *f;

        *times = NULL;
        *n = 0;
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fstat(fileno(f), &st) == 0)
                size = st.st_size;
        if (size > FENCE_HISTORY_MAX && fseeko(f, size - FENCE_HISTORY_MAX, SEEK_SET) < 0)
                size = 0;
        want = (size_t)(size > FENCE_HISTORY_MAX ? FENCE_HISTORY_MAX : size);
        text = malloc(want + 1);
        if (!text) {
                fclose(f);
                return -ENOMEM;
        }
        len = fread(text, 1, want, f);
        fclose(f);
        text[len] = 0;
        p = text;
        /* Read from the middle of a line: begin with the next whole one. */
        if (size > FENCE_HISTORY_MAX)
                p = strchr(text, '\n') ? strchr(text, '\n') + 1 : text + len;
        for (const char *q = p; (q = strchr(q, '\n')) != NULL; q++)
                lines++;
        *times = malloc(lines * sizeof(**times));
        if (!*times) {
                free(text);
                return -ENOMEM;
        }
        *n = emergency_history_parse(p, *times, lines);
        free(text);
        if (*n == 0) {
                free(*times);
                *times = NULL;
        }
        return 0;
}
