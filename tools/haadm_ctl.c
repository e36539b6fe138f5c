/* haadm commands that talk to the local vmhad over libqb IPC: status,
 * metrics, enable, disable, pool set|show, vm set|list|remove, host
 * maintenance and fence (the status text is haadm_status.c; pool show's
 * text and what the change commands print, with --json too, are
 * haadm_report.c's).
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
#include "tools/haadm_report.h"
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
                        *status = haadm_usage_error("vmhad refused the connection: run as root or as a member of its "
                                                    "ipc_group");
                else
                        *status = haadm_fail(HAADM_EXIT_NODAEMON, "vmhad is not running on this host (see "
                                             "'systemctl status vmhad')");
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
                *status = haadm_fail(HAADM_EXIT_NODAEMON, "no answer from vmhad (%s); it may be hung: try "
                                     "'haadm emergency'", n < 0 ? strerror((int)-n) : "short reply");
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

/* The "args" of a request as it goes to vmhad, for --json to show. */
static json_object *request_args(const struct ipc_request *req) {
        json_object *root, *args = NULL;
        char *text = NULL;

        if (ipc_request_format(req, &text) < 0)
                return NULL;
        root = json_tokener_parse(text);
        if (root && json_object_object_get_ex(root, "args", &args))
                json_object_get(args);
        json_object_put(root);
        free(text);
        return args;
}

/* Runs a change request and reports the outcome, as text or JSON. */
static int run_change(const struct ipc_request *req, const char *command, const char *done, bool json) {
        int status = HAADM_EXIT_OK;
        json_object *r = call(req, &status), *args;

        if (!r)
                return status;
        args = json ? request_args(req) : NULL;
        status = haadm_change_report(stdout, stderr, command, args, r, done, json);
        json_object_put(args);
        json_object_put(r);
        return status;
}

/* A change command's --json, wherever it stands: from here on its errors
 * are JSON too. */
static bool json_mode(int argc, char **argv, const char *command) {
        bool json = haadm_json_requested(argc, argv);

        if (json)
                haadm_json_errors(command);
        return json;
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
        bool json;

        if (haadm_help_requested(argc, argv)) {
                puts("usage: haadm enable [--json] | haadm disable [--json]\n"
                     "Arms (enable) or disarms (disable) HA for the whole pool; asks this host's vmhad.");
                return HAADM_EXIT_OK;
        }
        json = json_mode(argc, argv, argv[0]);
        if (argc > 1 + json)
                return haadm_usage_error("%s takes no arguments but --json", argv[0]);
        return run_change(&req, argv[0], enable ? "HA enabled for the pool" : "HA disabled for the pool", json);
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

static const char pool_usage[] =
        "usage: haadm pool show [--json]\n"
        "       haadm pool set [--failures-to-tolerate N] [--allow-overcommit yes|no] [--json]\n";

/* haadm pool show: every pool setting, from this host's vmhad. */
static int pool_show(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_STATUS };
        json_object *r, *pool = NULL;
        bool json = json_mode(argc, argv, "pool show");
        int status = HAADM_EXIT_OK;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(pool_usage, stdout);
                        return HAADM_EXIT_OK;
                }
                if (strcmp(argv[i], "--json") != 0)
                        return haadm_usage_error("pool show: %s '%s' (see 'haadm pool --help')",
                                                 argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
        }
        r = call(&req, &status);
        if (!r)
                return status;
        if (!reply_ok(r)) {
                status = haadm_fail(HAADM_EXIT_FAIL, "%s", reply_error(r));
        } else if (!json_object_object_get_ex(r, "pool", &pool) || !json_object_is_type(pool, json_type_object)) {
                status = haadm_usage_error("vmhad's reply has no pool settings");
        } else if (json) {
                puts(json_object_to_json_string_ext(pool, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                haadm_pool_print(stdout, pool);
        }
        json_object_put(r);
        return status;
}

static int pool_set(int argc, char **argv) {
        static const struct option opts[] = {
                { "failures-to-tolerate", required_argument, NULL, 'f' },
                { "allow-overcommit", required_argument, NULL, 'o' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct ipc_request req = { .op = IPC_OP_POOL_SET };
        bool json = json_mode(argc, argv, "pool set");
        long v;
        int c;

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
                case 'j':
                        break;
                case 'h':
                        fputs(pool_usage, stdout);
                        return HAADM_EXIT_OK;
                default:
                        return haadm_option_error("pool set", "pool", c, argv);
                }
        }
        if (optind < argc)
                return haadm_usage_error("pool set: unexpected argument '%s'", argv[optind]);
        if (!req.has_failures_to_tolerate && !req.has_allow_overcommit)
                return haadm_usage_error("pool set: nothing to set (see 'haadm pool --help')");
        return run_change(&req, "pool set", "pool settings changed", json);
}

int haadm_pool_main(int argc, char **argv) {
        if (argc >= 2 && strcmp(argv[1], "set") == 0)
                return pool_set(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "show") == 0)
                return pool_show(argc - 1, argv + 1);
        if (haadm_help_requested(argc, argv)) {
                fputs(pool_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (argc < 2)
                return haadm_usage_error("pool: missing subcommand\n%s", pool_usage);
        return haadm_usage_error("pool: unknown subcommand '%s'\n%s", argv[1], pool_usage);
}

static const char vm_usage[] =
        "usage: haadm vm set NAME [--priority restart|best-effort|none] [--order N]\n"
        "                         [--start-delay SECONDS] [--memory MiB] [--config PATH] [--json]\n"
        "       haadm vm start NAME [--json]\n"
        "       haadm vm stop NAME [--json]\n"
        "       haadm vm list [--json]\n"
        "       haadm vm remove NAME [--json]\n";

static int vm_set(int argc, char **argv) {
        static const struct option opts[] = {
                { "priority", required_argument, NULL, 'p' },
                { "order", required_argument, NULL, 'o' },
                { "start-delay", required_argument, NULL, 'd' },
                { "memory", required_argument, NULL, 'm' },
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct ipc_request req = { .op = IPC_OP_VM_SET };
        bool json = json_mode(argc, argv, "vm set");
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
                case 'j':
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
        return run_change(&req, "vm set", done, json);
}

static int vm_list(int argc, char **argv) {
        json_object *r, *vms;
        int status;

        r = query(argc, argv, "vm list", IPC_OP_VM_LIST, &status);
        if (!r)
                return status;
        json_object_object_get_ex(r, "vms", &vms);
        printf("%-24s %-12s %6s %6s %9s %-10s %-9s %s\n", "vm", "priority", "order", "delay", "memory", "owner",
               "requested", "config");
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *v = json_object_array_get_idx(vms, i);
                printf("%-24s %-12s %6s %5ss %6s MiB %-10s %-9s %s\n", haadm_json_text(v, "name"),
                       haadm_json_text(v, "priority"), haadm_json_text(v, "order"), haadm_json_text(v, "start_delay_s"),
                       haadm_json_text(v, "memory_mib"), haadm_json_text(v, "owner"), haadm_json_text(v, "requested"),
                       haadm_json_text(v, "config"));
        }
        json_object_put(r);
        return HAADM_EXIT_OK;
}

/* vm remove, start and stop: one VM name and --json. */
static int vm_named(int argc, char **argv, enum ipc_op op, const char *what, const char *done_tail) {
        struct ipc_request req = { .op = op };
        const char *name = NULL;
        bool json;
        char done[128];

        if (haadm_help_requested(argc, argv)) {
                fputs(vm_usage, stdout);
                return HAADM_EXIT_OK;
        }
        json = json_mode(argc, argv, what);
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        continue;
                if (name)
                        return haadm_usage_error("%s: unexpected argument '%s'", what, argv[i]);
                name = argv[i];
        }
        if (!name)
                return haadm_usage_error("usage: haadm %s NAME [--json]", what);
        if (!name_ok(name, what, "VM"))
                return HAADM_EXIT_USAGE;
        snprintf(req.vm, sizeof(req.vm), "%s", name);
        snprintf(done, sizeof(done), "%s%s", req.vm, done_tail);
        return run_change(&req, what, done, json);
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
        if (strcmp(argv[1], "remove") == 0)
                return vm_named(argc - 1, argv + 1, IPC_OP_VM_REMOVE, "vm remove", " is no longer protected");
        if (strcmp(argv[1], "start") == 0)
                return vm_named(argc - 1, argv + 1, IPC_OP_VM_START, "vm start",
                                ": requested started (its owner starts it once its claim is confirmed)");
        if (strcmp(argv[1], "stop") == 0)
                return vm_named(argc - 1, argv + 1, IPC_OP_VM_STOP, "vm stop",
                                ": requested stopped (its host shuts it down)");
        return haadm_usage_error("vm: unknown subcommand '%s'\n%s", argv[1], vm_usage);
}

static const char host_usage[] =
        "usage: haadm host maintenance HOST on|off [--json]\n"
        "       haadm host fence HOST [--yes | -y] [--json]\n"
        "maintenance  put HOST into maintenance (on) or take it out (off)\n"
        "fence        write a poison pill into HOST's mailbox: it fences itself within a\n"
        "             disk interval; --yes (or -y) skips the confirmation on the terminal\n";

/* haadm host fence: a poison pill by hand, after confirmation. */
static int host_fence(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_HOST_FENCE };
        bool yes = false, json = json_mode(argc, argv, "host fence");
        const char *host = NULL;
        char done[160], answer[16];

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
                        yes = true;
                else if (strcmp(argv[i], "--json") == 0)
                        continue;
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
                if (!isatty(STDIN_FILENO) || json)
                        return haadm_usage_error("host fence: %s; confirm with --yes",
                                                 json ? "--json asks nothing" : "not on a terminal");
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
        return run_change(&req, "host fence", done, json);
}

int haadm_host_main(int argc, char **argv) {
        struct ipc_request req = { .op = IPC_OP_HOST_MAINTENANCE };
        const char *args[3];
        size_t n = 0;
        bool json;
        char done[128];

        if (haadm_help_requested(argc, argv)) {
                fputs(host_usage, stdout);
                return HAADM_EXIT_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "fence") == 0)
                return host_fence(argc - 1, argv + 1);
        json = json_mode(argc, argv, "host maintenance");
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--json") != 0) {
                        if (n == 3)
                                return haadm_usage_error("%s", host_usage);
                        args[n++] = argv[i];
                }
        if (n != 3 || strcmp(args[0], "maintenance") != 0)
                return haadm_usage_error("%s", host_usage);
        if (!name_ok(args[1], "host maintenance", "host"))
                return HAADM_EXIT_USAGE;
        if (strcmp(args[2], "on") == 0)
                req.on = true;
        else if (strcmp(args[2], "off") != 0)
                return haadm_usage_error("host maintenance: expected on or off, not '%s'", args[2]);
        snprintf(req.host, sizeof(req.host), "%s", args[1]);
        snprintf(done, sizeof(done), "%s: maintenance %s", req.host, req.on ? "on" : "off");
        return run_change(&req, "host maintenance", done, json);
}
