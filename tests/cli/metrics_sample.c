/* Renders the realistic metrics snapshot of tests/lib/metrics_fixture.h,
 * for tests/cli/test_metrics_text.sh to parse with a real Prometheus
 * parser:
 *   metrics_sample                  the text on standard output
 *   metrics_sample --textfile PATH  the text written to PATH by vmhad's
 *                                   textfile writer, as vmhad does it
 */
#include "daemon/metrics.h"
#include "daemon/metrics_file.h"
#include "tests/lib/metrics_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int write_textfile(const char *path, char *text, size_t len) {
        struct metrics_file *f;
        char msg[8192];
        int r = metrics_file_new(path, &f);

        if (r < 0) {
                fprintf(stderr, "metrics_sample: cannot start the writer: %s\n", strerror(-r));
                return 1;
        }
        metrics_file_submit(f, text, len);
        for (int i = 0; i < 500; i++) {
                uint64_t written;
                struct timespec ts = { 0, 10000000L };
                r = metrics_file_result(f, &written, msg, sizeof(msg));
                if (r < 0 || written > 0)
                        break;
                nanosleep(&ts, NULL);
        }
        metrics_file_free(f);
        if (r < 0) {
                fprintf(stderr, "metrics_sample: %s\n", msg);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv) {
        struct metrics_fixture f;
        char *text;
        size_t len;
        int r;

        metrics_fixture_init(&f);
        r = metrics_render(&f.snap, &text, &len);
        if (r < 0) {
                fprintf(stderr, "metrics_sample: cannot render: %s\n", strerror(-r));
                return 1;
        }
        if (argc == 3 && strcmp(argv[1], "--textfile") == 0)
                return write_textfile(argv[2], text, len);
        if (argc != 1) {
                fprintf(stderr, "usage: metrics_sample [--textfile PATH]\n");
                return 2;
        }
        fwrite(text, 1, len, stdout);
        free(text);
        return fflush(stdout) == 0 ? 0 : 1;
}
