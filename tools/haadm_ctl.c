/* haadm commands that talk to the local vmhad over libqb IPC: status,
 * metrics, enable, disable, pool set, vm set|list|remove, host maintenance
 * and fence (the status text itself is haadm_status.c).
 *
 * Each builds a request with the same code the daemon parses with
 * (daemon/ipc_proto.c), so client and server cannot disagree about the
 * protocol. When vmhad is not running the answer is exit status 3 and a
 * pointer to systemctl.
 */
#include "daemon/ipc_proto.h"
#include "daemon/json_strict.h"
#include "planner/planner.h"
#include "tools/haadm.h"
#include "tools/haadm_status.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <qb/qbipcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 10000

/* Sends req over a connection of conn_size bytes and returns the parsed
 * reply of at most buf_size bytes (caller frees), or an exit status in
 * *status when there is none. */
static json_object *call_with(const struct ipc_request *req, size_t conn_size, size_t buf_size, int *status) {
        struct qb_ipc_request_header hdr;
        struct iovec iov[2];
        qb_ipcc_connection_t *c;
        char *json = NULL, *buf = NULL;
        json_object *reply = NULL;
        ssize_t n;

        c = qb_ipcc_connect(IPC_SERVICE_NAME, conn_size);
        if (!c) {
                if (errno == EACCES || errno == EPERM)
                        haadm_usage_error("vmhad refused the connection: run as root or as a member of its ipc_group");
                else
                        fprintf(stderr, "haadm: vmhad is not running on this host (see 'systemctl status vmhad')\n");
                *status = errno == EACCES || errno == EPERM ? HAADM_EXIT_USAGE : HAADM_EXIT_NODAEMON;
                return NULL;
        }
        if (ipc_request_format(req, &json) < 0) {
                *status = haadm_usage_error("out of memory");
                goto out;
        }
        hdr.id = 1;
        hdr.size = (int32_t)(sizeof(hdr) + strlen(json));
        iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
        iov[1] = (struct iovec){ .iov_base = json, .iov_len = strlen(json) };
        buf = malloc(buf_size);
        if (!buf) {
                *status = haadm_usage_error("out of memory");
                goto out;
        }
        n = qb_ipcc_sendv_recv(c, iov, 2, buf, buf_size, REPLY_TIMEOUT_MS);
        if (n < (ssize_t)sizeof(struct qb_ipc_response_header)) {
                fprintf(stderr, "haadm: no answer from vmhad (%s); it may be hung: try 'haadm emergency'\n",
                        n < 0 ? strerror((int)-n) : "short reply");
                *status = HAADM_EXIT_NODAEMON;
                goto out;
        }
        {
                struct json_strict_error jerr;
                size_t len = (size_t)n - sizeof(struct qb_ipc_response_header);
                if (json_strict_parse_object(buf + sizeof(struct qb_ipc_response_header), len, HAADM_REPLY_DEPTH,
                                             &reply, &jerr) < 0) {
                        reply = NULL;
                        *status = haadm_usage_error("vmhad sent a malformed reply: %s", jerr.msg);
                }
        }
out:
        free(json);
        free(buf);
        qb_ipcc_disconnect(c);
        return reply;
}

static json_object *call(const struct ipc_request *req, int *status) {
        return call_with(req, IPC_MAX_MESSAGE + 4096, IPC_MAX_MESSAGE * 4, status);
}

/* A VM or host name from the command line, checked with the daemon's rule;
 * a bad one is named (safely shown) on stderr. */
static bool name_ok(const char *name, const char *cmd, const char *what) {
        char shown[128];

        if (vmha_name_valid(name, strlen(name)))
                return true;
        haadm_usage_error("%s: '%s' is not a valid %s name (" VMHA_NAME_RULE ")", cmd,
                          vmha_text_show(name, strlen(name), shown, sizeof(shown)), what);
        return false;
}

static bool reply_ok(json_object *r) {
        json_object *ok;
        return json_object_object_get_ex(r, "ok", &ok) ? json_object_get_boolean(ok) : true;
}

static const char *reply_error(json_object *r) {
        json_object *e;
        return json_object_object_get_ex(r, "error", &e) ? json_object_get_string(e) : "unknown error";
}

/* Runs a change request and reports the result. */
static int run_change(const struct ipc_request *req, const char *done) {
        int status = HAADM_EXIT_OK;
        json_object *r = call(req, &status);

        if (!r)
                return status;
        if (!reply_ok(r)) {
                fprintf(stderr, "haadm: %s\n", reply_error(r));
                json_object_put(r);
                return HAADM_EXIT_FAIL;
        }
        printf("%s\n", done);
        json_object_put(r);
        return HAADM_EXIT_OK;
}

/* Shared option parsing: only --json, for the read-only commands. */
static int parse_json_flag(int argc, char **argv, const char *cmd, bool *json) {
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, {} };
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'j') {
                        *json = true;
                } else if (c == 'h') {
                        printf("usage: haadm %s [--json]\n", cmd);
                        return -1;
                } else {
                        return haadm_option_error(cmd, cmd, c, argv);
                }
        }
        if (optind < argc)
                return haadm_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        return 0;
}

/* A read-only command: parses [--json], asks vmhad, and prints the JSON
 * reply itself when --json was given. Returns the reply to print as text
 * (caller frees), or NULL with the exit status in *status. */
static json_object *query(int argc, char **argv, const char *cmd, enum ipc_op op, int *status) {
        struct ipc_request req = { .op = op };
        json_object *r;
        bool json = false;
        int e = parse_json_flag(argc, argv, cmd, &json);

        *status = HAADM_EXIT_OK;
        if (e) {
                *status = e < 0 ? HAADM_EXIT_OK : e;
                return NULL;
        }
        r = call(&req, status);
        if (!r)
                return NULL;
        if (!reply_ok(r)) {
                fprintf(stderr, "haadm: %s\n", reply_error(r));
                json_object_put(r);
                *status = HAADM_EXIT_FAIL;
                return NULL;
        }
        if (json) {
                puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(r);
                return NULL;
        }
        return r;
}

int haadm_status_main(int argc, char **argv) {
        json_object *r;
        int status;

        r = query(argc, argv, "status", IPC_OP_STATUS, &status);
        if (!r)
                return status;
        haadm_status_print(stdout, r);
        json_object_put(r);
        return HAADM_EXIT_OK;
}

static const char metrics_usage[] =
        "usage: haadm metrics\n"
        "Prints this host's vmhad metrics in the Prometheus text format: the text vmhad\n"
        "writes to the textfile of vmha.conf's [metrics] section, of this moment.\n";

int haadm_metrics_main(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_METRICS };
        json_object *r, *text;
        int status = HAADM_EXIT_OK;

        if (haadm_help_requested(argc, argv)) {
                fputs(metrics_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (argc > 1)
                return haadm_usage_error("metrics takes no arguments, not '%s'", argv[1]);
        r = call_with(&req, IPC_METRICS_MAX_REPLY + 4096, IPC_METRICS_MAX_REPLY + 4096, &status);
        if (!r)
                return status;
        if (!reply_ok(r)) {
                fprintf(stderr, "haadm: %s\n", reply_error(r));
                json_object_put(r);
                return HAADM_EXIT_FAIL;
        }
        if (!json_object_object_get_ex(r, "text", &text) || !json_object_is_type(text, json_type_string)) {
                json_object_put(r);
                return haadm_usage_error("vmhad sent a reply without the metrics text");
        }
        fwrite(json_object_get_string(text), 1, (size_t)json_object_get_string_len(text), stdout);
        json_object_put(r);
        if (fflush(stdout) != 0 || ferror(stdout))
                return haadm_usage_error("metrics: cannot write to standard output: %s", strerror(errno));
        return HAADM_EXIT_OK;
}

int haadm_enable_main(int argc, char **argv, bool enable) {
        struct ipc_request req = { .op = enable ? IPC_OP_ENABLE : IPC_OP_DISABLE };
        if (haadm_help_requested(argc, argv)) {
                puts("usage: haadm enable | haadm disable\n"
                     "Arms (enable) or disarms (disable) HA for the whole pool; asks this host's vmhad.");
                return HAADM_EXIT_OK;
        }
        if (argc > 1)
                return haadm_usage_error("%s takes no arguments", argv[0]);
        return run_change(&req, enable ? "HA enabled for the pool" : "HA disabled for the pool");
}

static int parse_yes_no(const char *s, bool *v) {
        if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)
                *v = true;
        else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0)
                *v = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return -EINVAL;
        *out = v;
        return 0;
}

int haadm_pool_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "failures-to-tolerate", required_argument, NULL, 'f' },
                { "allow-overcommit", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct ipc_request req = { .op = IPC_OP_POOL_SET };
        long v;
        int c;

        if (argc < 2 || strcmp(argv[1], "set") != 0) {
                if (haadm_help_requested(argc, argv)) {
                        puts("usage: haadm pool set [--failures-to-tolerate N] [--allow-overcommit yes|no]");
                        return HAADM_EXIT_OK;
                }
                return haadm_usage_error("usage: haadm pool set [--failures-to-tolerate N] [--allow-overcommit yes|no]");
        }
        argc--;
        argv++;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (parse_long(optarg, 0, PLAN_MAX_FAILURES_TO_TOLERATE, &v) < 0)
                                return haadm_usage_error("pool set: --failures-to-tolerate must be 0..%d, not '%s'",
                                                         PLAN_MAX_FAILURES_TO_TOLERATE, optarg);
                        req.has_failures_to_tolerate = true;
                        req.failures_to_tolerate = (uint32_t)v;
                        break;
                case 'o':
                        if (parse_yes_no(optarg, &req.allow_overcommit) < 0)
                                return haadm_usage_error("pool set: --allow-overcommit takes yes or no, not '%s'", optarg);
                        req.has_allow_overcommit = true;
                        break;
                case 'h':
                        puts("usage: haadm pool set [--failures-to-tolerate N] [--allow-overcommit yes|no]");
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("pool set", "pool", c, argv);
                }
        }
        if (optind < argc)
                return haadm_usage_error("pool set: unexpected argument '%s'", argv[optind]);
        if (!req.has_failures_to_tolerate && !req.has_allow_overcommit)
                return haadm_usage_error("pool set: nothing to set (see 'haadm pool --help')");
        return run_change(&req, "pool settings changed");
}

static const char vm_usage[] =
        "usage: haadm vm set NAME [--priority restart|best-effort|none] [--order N]\n"
        "                         [--start-delay SECONDS] [--memory MiB] [--config PATH]\n"
        "       haadm vm list [--json]\n"
        "       haadm vm remove NAME\n";

static int vm_set(int argc, char **argv) {
        static const struct option opts[] = {
                { "priority", required_argument, NULL, 'p' },
                { "order", required_argument, NULL, 'o' },
                { "start-delay", required_argument, NULL, 'd' },
                { "memory", required_argument, NULL, 'm' },
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct ipc_request req = { .op = IPC_OP_VM_SET };
        char done[128];
        long v;
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (ipc_priority_from_name(optarg, &req.priority) < 0)
                                return haadm_usage_error("vm set: unknown priority '%s' (restart, best-effort or none)", optarg);
                        req.has_priority = true;
                        break;
                case 'o':
                        if (parse_long(optarg, PLAN_MIN_ORDER, PLAN_MAX_ORDER, &v) < 0)
                                return haadm_usage_error("vm set: --order must be a whole number in %d..%d, not '%s'",
                                                         PLAN_MIN_ORDER, PLAN_MAX_ORDER, optarg);
                        req.has_order = true;
                        req.order = (int32_t)v;
                        break;
                case 'd':
                        if (parse_long(optarg, 0, PLAN_MAX_START_DELAY_S, &v) < 0)
                                return haadm_usage_error("vm set: --start-delay must be 0..%d seconds, not '%s'",
                                                         PLAN_MAX_START_DELAY_S, optarg);
                        req.has_start_delay = true;
                        req.start_delay_s = (uint32_t)v;
                        break;
                case 'm':
                        if (parse_long(optarg, 1, (long)PLAN_MAX_VM_MEMORY_MIB, &v) < 0)
                                return haadm_usage_error("vm set: --memory must be a whole number of MiB in 1..%llu "
                                                         "(16 TiB), not '%s'",
                                                         (unsigned long long)PLAN_MAX_VM_MEMORY_MIB, optarg);
                        req.has_memory = true;
                        req.memory_mib = (uint64_t)v;
                        break;
                case 'c':
                        if (optarg[0] != '/' || strlen(optarg) >= IPC_PATH_MAX)
                                return haadm_usage_error("vm set: --config needs an absolute path, not '%s'", optarg);
                        req.has_config = true;
                        snprintf(req.config, sizeof(req.config), "%s", optarg);
                        break;
                case 'h':
                        fputs(vm_usage, stdout);
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("vm set", "vm", c, argv);
                }
        }
        if (optind >= argc)
                return haadm_usage_error("vm set: missing NAME\n%s", vm_usage);
        if (!name_ok(argv[optind], "vm set", "VM"))
                return HAADM_EXIT_USAGE;
        snprintf(req.vm, sizeof(req.vm), "%s", argv[optind++]);
        if (optind < argc)
                return haadm_usage_error("vm set: unexpected argument '%s'", argv[optind]);
        if (!req.has_priority && !req.has_order && !req.has_start_delay && !req.has_memory && !req.has_config)
                return haadm_usage_error("vm set: nothing to change: give at least one option (see 'haadm vm --help')");
        snprintf(done, sizeof(done), "%s updated", req.vm);
        return run_change(&req, done);
}

static int vm_list(int argc, char **argv) {
        json_object *r, *vms;
        int status;

        r = query(argc, argv, "vm list", IPC_OP_VM_LIST, &status);
        if (!r)
                return status;
        json_object_object_get_ex(r, "vms", &vms);
        printf("%-24s %-12s %6s %6s %9s %-10s %s\n", "vm", "priority", "order", "delay", "memory", "owner", "config");
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *v = json_object_array_get_idx(vms, i);
                printf("%-24s %-12s %6s %5ss %6s MiB %-10s %s\n", haadm_json_text(v, "name"), haadm_json_text(v, "priority"), haadm_json_text(v, "order"),
                       haadm_json_text(v, "start_delay_s"), haadm_json_text(v, "memory_mib"), haadm_json_text(v, "owner"), haadm_json_text(v, "config"));
        }
        json_object_put(r);
        return HAADM_EXIT_OK;
}

int haadm_vm_main(int argc, char **argv) {
        if (argc < 2)
                return haadm_usage_error("vm: missing subcommand\n%s", vm_usage);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(vm_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (strcmp(argv[1], "set") == 0)
                return vm_set(argc - 1, argv + 1);
        if (strcmp(argv[1], "list") == 0)
                return vm_list(argc - 1, argv + 1);
        if (strcmp(argv[1], "remove") == 0) {
                struct ipc_request req = { .op = IPC_OP_VM_REMOVE };
                char done[128];
                if (haadm_help_requested(argc - 1, argv + 1)) {
                        fputs(vm_usage, stdout);
                        return HAADM_EXIT_OK;
                }
                if (argc != 3)
                        return haadm_usage_error("usage: haadm vm remove NAME");
                if (!name_ok(argv[2], "vm remove", "VM"))
                        return HAADM_EXIT_USAGE;
                snprintf(req.vm, sizeof(req.vm), "%s", argv[2]);
                snprintf(done, sizeof(done), "%s is no longer protected", req.vm);
                return run_change(&req, done);
        }
        return haadm_usage_error("vm: unknown subcommand '%s'\n%s", argv[1], vm_usage);
}

static const char host_usage[] =
        "usage: haadm host maintenance HOST on|off\n"
        "       haadm host fence HOST [--yes | -y]\n"
        "maintenance  put HOST into maintenance (on) or take it out (off)\n"
        "fence        write a poison pill into HOST's mailbox: it fences itself within a\n"
        "             disk interval; --yes (or -y) skips the confirmation on the terminal\n";

/* haadm host fence: a poison pill by hand, after confirmation. */
static int host_fence(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_HOST_FENCE };
        bool yes = false;
        const char *host = NULL;
        char done[160], answer[16];

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
                        yes = true;
                else if (argv[i][0] == '-')
                        return haadm_usage_error("host fence: unknown option '%s'", argv[i]);
                else if (!host)
                        host = argv[i];
                else
                        return haadm_usage_error("host fence: unexpected argument '%s'", argv[i]);
        }
        if (!host)
                return haadm_usage_error("host fence: missing HOST\n%s", host_usage);
        if (!name_ok(host, "host fence", "host"))
                return HAADM_EXIT_USAGE;
        if (!yes) {
                if (!isatty(STDIN_FILENO))
                        return haadm_usage_error("host fence: not on a terminal; confirm with --yes");
                printf("Fence %s? It reboots at once, and its protected VMs restart elsewhere.\n"
                       "Type 'yes' to go on: ", host);
                fflush(stdout);
                if (!fgets(answer, sizeof(answer), stdin) || strcmp(answer, "yes\n") != 0) {
                        printf("nothing done\n");
                        return HAADM_EXIT_FAIL;
                }
        }
        snprintf(req.host, sizeof(req.host), "%s", host);
        snprintf(done, sizeof(done), "poison pill written to %s's mailbox; it fences itself within a disk interval",
                 host);
        return run_change(&req, done);
}

int haadm_host_main(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_HOST_MAINTENANCE };
        char done[128];

        if (haadm_help_requested(argc, argv)) {
                fputs(host_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "fence") == 0)
                return host_fence(argc - 1, argv + 1);
        if (argc != 4 || strcmp(argv[1], "maintenance") != 0)
                return haadm_usage_error("%s", host_usage);
        if (!name_ok(argv[2], "host maintenance", "host"))
                return HAADM_EXIT_USAGE;
        if (strcmp(argv[3], "on") == 0)
                req.on = true;
        else if (strcmp(argv[3], "off") != 0)
                return haadm_usage_error("host maintenance: expected on or off, not '%s'", argv[3]);
        snprintf(req.host, sizeof(req.host), "%s", argv[2]);
        snprintf(done, sizeof(done), "%s: maintenance %s", req.host, req.on ? "on" : "off");
        return run_change(&req, done);
}
