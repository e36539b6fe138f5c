/* haadm: the vmha administrator's command line. Dispatches to the command
 * groups; each group parses its own options and prints its own help. */
#include <config.h>      /* configure's: PACKAGE_VERSION */
#include "tools/haadm.h"
#include "tools/haadm_report.h"

#include "daemon/config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
        "usage: haadm [--help] COMMAND [ARGS...]\n"
        "       haadm --version     print haadm's version and exit\n"
        "\n"
        "Commands:\n"
        "  disk init DEVICE --cluster NAME [--slots N] [--timeout SECONDS] [--vms N] [--force]\n"
        "                        write a fresh heartbeat region on a shared device\n"
        "  disk dump DEVICE [--json]\n"
        "                        show the superblock, every slot, mailbox, claim area\n"
        "                        and config copy, and the HA configuration stored;\n"
        "                        corrupt structures are reported\n"
        "  plan --input FILE [--fail H1,H2 | --evacuate H | --protect VM | --grow VM=MIB |\n"
        "                     --start VM@HOST | --maintenance HOST] [--json]\n"
        "                        offline planner on a JSON pool description\n"
        "  status [--json]       the pool as this host's vmhad sees it\n"
        "  metrics               this host's vmhad metrics in the Prometheus text format\n"
        "  enable | disable [--json]\n"
        "                        arm or disarm HA pool-wide\n"
        "  pool show [--json]    every pool setting, as this host's vmhad holds it\n"
        "  pool set [--failures-to-tolerate N] [--allow-overcommit yes|no] [--json]\n"
        "  vm set NAME [--priority restart|best-effort|none] [--order N]\n"
        "              [--start-delay SECONDS] [--memory MiB] [--config PATH] [--json]\n"
        "  vm list [--json] | vm remove NAME [--json]\n"
        "  vm start NAME [--json] | vm stop NAME [--json]\n"
        "  host maintenance HOST on|off [--json]\n"
        "  host fence HOST [--yes | -y] [--json]\n"
        "                        poison pill: tell HOST through its mailbox to fence itself;\n"
        "                        asks for confirmation unless --yes (or -y) is given\n"
        "  emergency [--clear] [--json] [--config FILE]\n"
        "                        is this host in emergency mode, and why (works without vmhad);\n"
        "                        also 'haadm host-is-in-emergency-mode'\n"
        "\n"
        "With --json, a command that changes the pool prints its outcome, or its error, as\n"
        "one JSON object on stdout, with the same exit status as without.\n"
        "\n"
        "DEVICE is a path, or LABEL=..., UUID=..., PARTUUID=... or PARTLABEL=... (resolved\n"
        "with libblkid).\n"
        "Run 'haadm COMMAND --help' for a command's options.\n"
        "\n"
        "Environment:\n"
        "  VMHA_CONFIG           the vmha.conf that 'haadm emergency' reads when --config\n"
        "                        is not given (default " VMHA_CONFIG_PATH ")\n"
        "\n"
        "Exit status: 0 success, 1 negative answer (corrupt data, refused change),\n"
        "2 usage or I/O error, 3 vmhad not running.\n";

static const char *json_command;        /* set: errors are JSON on stdout */

void haadm_json_errors(const char *command) {
        json_command = command;
}

bool haadm_json_requested(int argc, char **argv) {
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--json") == 0)
                        return true;
        return false;
}

static int vfail(int status, const char *fmt, va_list ap) {
        char msg[1024];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (json_command)
                haadm_error_json(stdout, json_command, msg, status);
        else
                fprintf(stderr, "haadm: %s\n", msg);
        return status;
}

int haadm_fail(int status, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(status, fmt, ap);
        va_end(ap);
        return r;
}

int haadm_usage_error(const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(HAADM_EXIT_USAGE, fmt, ap);
        va_end(ap);
        return r;
}

int haadm_option_error(const char *cmd, const char *help, int c, char **argv) {
        const char *opt = argv[optind - 1];

        if (c == ':')
                return haadm_usage_error("%s: option %s needs a value", cmd, opt);
        return haadm_usage_error("%s: unknown option '%s' (see 'haadm %s --help')", cmd, opt, help);
}

bool haadm_help_requested(int argc, char **argv) {
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        return false;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fputs(usage_text, stderr);
                return HAADM_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(usage_text, stdout);
                return HAADM_EXIT_OK;
        }
        if (strcmp(argv[1], "--version") == 0) {
                puts("haadm (vmha) " PACKAGE_VERSION);
                return HAADM_EXIT_OK;
        }
        if (strcmp(argv[1], "disk") == 0)
                return haadm_disk_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "plan") == 0)
                return haadm_plan_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "status") == 0)
                return haadm_status_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "metrics") == 0)
                return haadm_metrics_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "enable") == 0 || strcmp(argv[1], "disable") == 0)
                return haadm_enable_main(argc - 1, argv + 1, argv[1][0] == 'e');
        if (strcmp(argv[1], "pool") == 0)
                return haadm_pool_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "vm") == 0)
                return haadm_vm_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "host") == 0)
                return haadm_host_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "emergency") == 0 || strcmp(argv[1], "host-is-in-emergency-mode") == 0)
                return haadm_emergency_main(argc - 1, argv + 1);
        haadm_usage_error("unknown command '%s' (see 'haadm --help')", argv[1]);
        return HAADM_EXIT_USAGE;
}
