/* The scenario grammar: pool and events files (tests/scenarios/README).
 * Malformed lines are rejected with FILE:LINE and a reason. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/scenarios/sim.h"

static const struct {
        const char *name;
        size_t offset;
} knob_names[] = {
        { "no-margin", offsetof(struct core_unsafe_knobs, no_margin) },
        { "no-fresh-ack", offsetof(struct core_unsafe_knobs, no_fresh_ack) },
        { "no-claims", offsetof(struct core_unsafe_knobs, no_claims) },
        { "stale-feed", offsetof(struct core_unsafe_knobs, stale_feed) },
        { "unknown-as-silent", offsetof(struct core_unsafe_knobs, unknown_as_silent) },
        { "unarmed-owner", offsetof(struct core_unsafe_knobs, unarmed_owner) },
        { "hasty-join", offsetof(struct core_unsafe_knobs, hasty_join) },
        { "blind-watch", offsetof(struct core_unsafe_knobs, blind_watch) },
        { "unknown-master", offsetof(struct core_unsafe_knobs, unknown_master) },
        { "no-yield", offsetof(struct core_unsafe_knobs, no_yield) },
        { "mutual-yield", offsetof(struct core_unsafe_knobs, mutual_yield) },
        { "stale-quorum", offsetof(struct core_unsafe_knobs, stale_quorum) },
        { "stale-partition", offsetof(struct core_unsafe_knobs, stale_partition) },
        { "hasty-fencing", offsetof(struct core_unsafe_knobs, hasty_fencing) },
        { "lone-publisher", offsetof(struct core_unsafe_knobs, lone_publisher) },
        { "stale-yield", offsetof(struct core_unsafe_knobs, stale_yield) },
        { "same-ring", offsetof(struct core_unsafe_knobs, same_ring) },
        { "fencing-quorum", offsetof(struct core_unsafe_knobs, fencing_quorum) },
        { "overlap-claims", offsetof(struct core_unsafe_knobs, overlap_claims) },
        { "stale-collect", offsetof(struct core_unsafe_knobs, stale_collect) },
        { "single-collect", offsetof(struct core_unsafe_knobs, single_collect) },
        { "quorate-join", offsetof(struct core_unsafe_knobs, quorate_join) },
        { "young-member", offsetof(struct core_unsafe_knobs, young_member) },
        { "young-tiebreak", offsetof(struct core_unsafe_knobs, young_tiebreak) },
        { "stale-ack-master", offsetof(struct core_unsafe_knobs, stale_ack_master) },
        { "joiner-view", offsetof(struct core_unsafe_knobs, joiner_view) },
        { "unknown-settled", offsetof(struct core_unsafe_knobs, unknown_settled) },
        { "hasty-quorum", offsetof(struct core_unsafe_knobs, hasty_quorum) },
        { "split-masters", offsetof(struct core_unsafe_knobs, split_masters) },
};
#define N_KNOBS (sizeof(knob_names) / sizeof(knob_names[0]))

bool knob_set(struct core_unsafe_knobs *k, const char *name) {
        for (size_t i = 0; i < N_KNOBS; i++)
                if (strcmp(knob_names[i].name, name) == 0) {
                        *(bool *)((char *)k + knob_names[i].offset) = true;
                        return true;
                }
        return false;
}

bool knobs_any(const struct core_unsafe_knobs *k) {
        for (size_t i = 0; i < N_KNOBS; i++)
                if (knob_names[i].offset != offsetof(struct core_unsafe_knobs, split_masters) &&
                    *(const bool *)((const char *)k + knob_names[i].offset))
                        return true;
        return false;
}

size_t knobs_one_fewer(const struct core_unsafe_knobs *k, struct core_unsafe_knobs *out, size_t max) {
        size_t n = 0, set = 0;

        for (size_t i = 0; i < N_KNOBS; i++)
                if (knob_names[i].offset != offsetof(struct core_unsafe_knobs, split_masters) &&
                    *(const bool *)((const char *)k + knob_names[i].offset))
                        set++;
        for (size_t i = 0; i < N_KNOBS && set > 1 && n < max; i++)
                if (knob_names[i].offset != offsetof(struct core_unsafe_knobs, split_masters) &&
                    *(const bool *)((const char *)k + knob_names[i].offset)) {
                        out[n] = *k;
                        *(bool *)((char *)&out[n] + knob_names[i].offset) = false;
                        n++;
                }
        return n;
}

void knobs_format(const struct core_unsafe_knobs *k, char *buf, size_t len) {
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < N_KNOBS && used < len; i++)
                if (*(const bool *)((const char *)k + knob_names[i].offset))
                        used += (size_t)snprintf(buf + used, len - used, " --knob %s", knob_names[i].name);
}

/* ---------- parsing ---------- */

static int parse_error(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int parse_error(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

static int parse_host(const struct scenario *sc, const char *s, bool allow_all) {
        char *end;
        long v;

        if (allow_all && strcmp(s, "all") == 0)
                return 0;
        if (s[0] != 'h')
                return -1;
        v = strtol(s + 1, &end, 10);
        if (*end || v < 1 || v > sc->nhosts)
                return -1;
        return (int)v;
}

static int parse_vm(const struct scenario *sc, const char *s) {
        for (int i = 0; i < sc->nvms; i++)
                if (strcmp(sc->vms[i].name, s) == 0)
                        return i;
        return -1;
}

static bool parse_seconds(const char *s, uint64_t *ms) {
        char *end;
        double v = strtod(s, &end);

        if (*end || end == s || v < 0 || v > 100000)
                return false;
        *ms = (uint64_t)(v * 1000.0 + 0.5);
        return true;
}

static bool parse_uint(const char *s, long max, long *out) {
        char *end;
        long v = strtol(s, &end, 10);

        if (*end || end == s || v < 0 || v > max)
                return false;
        *out = v;
        return true;
}

#define MAXTOK 16
static int tokenize(char *line, char **tok) {
        int n = 0;
        char *hash = strchr(line, '#');

        if (hash)
                *hash = '\0';
        for (char *p = strtok(line, " \t\r\n"); p && n < MAXTOK; p = strtok(NULL, " \t\r\n"))
                tok[n++] = p;
        return n;
}

int parse_pool(struct scenario *sc, const char *file) {
        FILE *f = fopen(file, "r");
        char line[512];
        int ln = 0;

        if (!f)
                return parse_error(file, 0, "cannot open: %s", strerror(errno));
        sc->timeout_ms = CORE_DEFAULT_TIMEOUT_MS;
        sc->wd_late_ms = 300;
        sc->end_ms = 40000;
        for (int i = 0; i <= MAXH; i++)
                sc->phase[i] = -1;
        while (fgets(line, sizeof(line), f)) {
                char *t[MAXTOK];
                int n;
                long v;

                ln++;
                n = tokenize(line, t);
                if (n == 0)
                        continue;
                if (strcmp(t[0], "timeout") == 0 && n == 2 && parse_uint(t[1], CORE_MAX_TIMEOUT_MS, &v)) {
                        sc->timeout_ms = (uint32_t)v;
                } else if (strcmp(t[0], "hosts") == 0 && n == 2 && parse_uint(t[1], MAXH, &v) && v >= 2) {
                        sc->nhosts = (int)v;
                } else if (strcmp(t[0], "tiebreak") == 0 && n == 2 &&
                           (strcmp(t[1], "yes") == 0 || strcmp(t[1], "no") == 0)) {
                        sc->tiebreak = strcmp(t[1], "yes") == 0;
                } else if (strcmp(t[0], "watchdog_late") == 0 && n == 2 && parse_uint(t[1], 10000, &v)) {
                        sc->wd_late_ms = (uint32_t)v;
                } else if ((strcmp(t[0], "skew") == 0 || strcmp(t[0], "phase") == 0) && n == 3 &&
                           sc->nhosts > 0 && parse_host(sc, t[1], false) > 0 && parse_uint(t[2], 10000, &v)) {
                        if (t[0][0] == 's')
                                sc->skew[parse_host(sc, t[1], false)] = v;
                        else
                                sc->phase[parse_host(sc, t[1], false)] = v;
                } else if (strcmp(t[0], "nowatchdog") == 0 && n == 2 && sc->nhosts > 0 &&
                           parse_host(sc, t[1], false) > 0) {
                        sc->no_watchdog_at_start[parse_host(sc, t[1], false)] = true;
                } else if (strcmp(t[0], "vm") == 0 && (n == 3 || n == 4) && sc->nhosts > 0 &&
                           sc->nvms < MAXVM && parse_host(sc, t[2], false) > 0 && strlen(t[1]) < 16 &&
                           parse_vm(sc, t[1]) < 0) {
                        struct vm_def *d = &sc->vms[sc->nvms];

                        snprintf(d->name, sizeof(d->name), "%s", t[1]);
                        d->home = parse_host(sc, t[2], false);
                        d->prio = HASTATE_PRIORITY_RESTART;
                        if (n == 4 && hastate_priority_parse(t[3], &d->prio) < 0) {
                                fclose(f);
                                return parse_error(file, ln, "unknown priority '%s'", t[3]);
                        }
                        sc->nvms++;
                } else if (strcmp(t[0], "knob") == 0 && n == 2 && knob_set(&sc->knobs, t[1])) {
                        ;
                } else if (strcmp(t[0], "expect") == 0 && n == 2 && strcmp(t[1], "s1-violation") == 0) {
                        sc->expect_s1 = true;
                } else if (strcmp(t[0], "expect") == 0 && n == 2 && strcmp(t[1], "s2-violation") == 0) {
                        sc->expect_s2 = true;
                } else if (strcmp(t[0], "expect") == 0 && n == 2 && strcmp(t[1], "two-masters") == 0) {
                        sc->expect_two_masters = true;
                } else if (strcmp(t[0], "end") == 0 && n == 2 && parse_seconds(t[1], &sc->end_ms)) {
                        ;
                } else {
                        fclose(f);
                        return parse_error(file, ln, "cannot parse pool line (see tests/scenarios/README)");
                }
        }
        fclose(f);
        if (sc->nhosts == 0)
                return parse_error(file, ln, "no `hosts N` line");
        if (sc->expect_two_masters && !knobs_any(&sc->knobs))
                return parse_error(file, ln, "`expect two-masters` is allowed only with an unsafe knob");
        if (sc->expect_s2 && !knobs_any(&sc->knobs))
                return parse_error(file, ln, "`expect s2-violation` is allowed only with an unsafe knob");
        if (sc->expect_s1 && !knobs_any(&sc->knobs))
                return parse_error(file, ln, "`expect s1-violation` is allowed only with an unsafe knob");
        return 0;
}

static int parse_event_line(struct scenario *sc, const char *file, int ln, char *line) {
        char copy[512], *t[MAXTOK];
        struct event *e;
        int n, hst;
        long v;

        snprintf(copy, sizeof(copy), "%s", line);
        n = tokenize(line, t);
        if (n == 0)
                return 0;
        if (sc->nev >= MAXEV)
                return parse_error(file, ln, "too many events");
        e = &sc->ev[sc->nev];
        memset(e, 0, sizeof(*e));
        e->line = ln;
        if (!parse_seconds(t[0], &e->t))
                return parse_error(file, ln, "'%s' is not a time in seconds", t[0]);
        if (sc->nev > 0 && e->t < sc->ev[sc->nev - 1].t)
                return parse_error(file, ln, "events must be in time order");
        if (n < 2)
                return parse_error(file, ln, "missing verb");
        /* the event's text, for the log: everything after the time */
        {
                size_t len = 0;

                for (int i = 1; i < n; i++)
                        len += (size_t)snprintf(e->text + len, sizeof(e->text) - len, "%s%s", i > 1 ? " " : "", t[i]);
                (void)copy;
        }
        hst = n >= 3 ? parse_host(sc, t[2], true) : -1;
        if (strcmp(t[1], "net") == 0 && n == 4 && hst >= 0 &&
            (strcmp(t[3], "up") == 0 || strcmp(t[3], "down") == 0)) {
                e->kind = EV_NET;
                e->host = hst;
                e->arg = strcmp(t[3], "up") == 0;
        } else if (strcmp(t[1], "tiebreak") == 0 && n == 4 && hst >= 0 &&
                   (strcmp(t[3], "up") == 0 || strcmp(t[3], "down") == 0)) {
                e->kind = EV_TIEBREAK;
                e->host = hst;
                e->arg = strcmp(t[3], "up") == 0;
        } else if (strcmp(t[1], "disk") == 0 && n == 4 && hst >= 0 &&
                   (strcmp(t[3], "ok") == 0 || strcmp(t[3], "fail") == 0 || strcmp(t[3], "hang") == 0 ||
                    strcmp(t[3], "readfail") == 0)) {
                e->kind = EV_DISK;
                e->host = hst;
                e->arg = strcmp(t[3], "ok") == 0     ? DISK_ACCESS_OK
                         : strcmp(t[3], "fail") == 0 ? DISK_ACCESS_FAIL
                         : strcmp(t[3], "hang") == 0 ? DISK_ACCESS_HANG
                                                     : DISK_ACCESS_READFAIL;
        } else if (strcmp(t[1], "power") == 0 && n == 4 && hst > 0 &&
                   (strcmp(t[3], "on") == 0 || strcmp(t[3], "off") == 0)) {
                e->kind = EV_POWER;
                e->host = hst;
                e->arg = strcmp(t[3], "on") == 0;
        } else if ((strcmp(t[1], "boot") == 0 || strcmp(t[1], "crash") == 0) && n == 3 && hst > 0) {
                e->kind = EV_POWER;
                e->host = hst;
                e->arg = strcmp(t[1], "boot") == 0;
        } else if (strcmp(t[1], "freeze") == 0 && n == 4 && hst > 0 && parse_seconds(t[3], &e->dur) && e->dur > 0) {
                e->kind = EV_FREEZE;
                e->host = hst;
        } else if (strcmp(t[1], "stall") == 0 && n == 4 && hst > 0 && parse_seconds(t[3], &e->dur) && e->dur > 0) {
                e->kind = EV_STALL;
                e->host = hst;
        } else if (strcmp(t[1], "ackdelay") == 0 && n == 4 && hst > 0 && parse_uint(t[3], 60000, &v)) {
                e->kind = EV_ACKDELAY;
                e->host = hst;
                e->arg = (int)v;
        } else if (strcmp(t[1], "claimdelay") == 0 && n == 4 && hst > 0 && parse_uint(t[3], 60000, &v) &&
                   v >= TICK_MS) {
                e->kind = EV_CLAIMDELAY;
                e->host = hst;
                e->arg = (int)v;
        } else if (strcmp(t[1], "corrupt") == 0 && n == 4 && hst > 0 &&
                   (strcmp(t[3], "slot") == 0 || strcmp(t[3], "claims") == 0 || strcmp(t[3], "mailbox") == 0)) {
                e->kind = EV_CORRUPT;
                e->host = hst;
                e->arg = t[3][0] == 's' ? CORRUPT_SLOT : t[3][0] == 'c' ? CORRUPT_CLAIMS : CORRUPT_MAILBOX;
        } else if (strcmp(t[1], "claimfail") == 0 && n == 3 && hst > 0) {
                e->kind = EV_CLAIMFAIL;
                e->host = hst;
        } else if ((strcmp(t[1], "repair") == 0 || strcmp(t[1], "rebootfail") == 0 ||
                    strcmp(t[1], "nowatchdog") == 0) && n == 3 && hst > 0) {
                e->kind = t[1][0] == 'r' && t[1][2] == 'p' ? EV_REPAIR : t[1][0] == 'r' ? EV_REBOOTFAIL : EV_NOWATCHDOG;
                e->host = hst;
        } else if (strcmp(t[1], "heal") == 0 && n == 2) {
                e->kind = EV_HEAL;
        } else if (strcmp(t[1], "partition") == 0 && n >= 3) {
                int g = 1;
                bool seen[MAXH + 1] = { false };

                e->kind = EV_PARTITION;
                for (int i = 2; i < n; i++) {
                        char buf[128], *save = NULL;

                        if (strcmp(t[i], "|") == 0) {
                                g++;
                                continue;
                        }
                        snprintf(buf, sizeof(buf), "%s", t[i]);
                        for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                                int x = parse_host(sc, p, false);

                                if (x <= 0 || seen[x])
                                        return parse_error(file, ln, "partition: bad or repeated host '%s'", p);
                                seen[x] = true;
                                e->group[x] = g;
                        }
                }
                for (int x = 1; x <= sc->nhosts; x++)
                        if (!seen[x])
                                return parse_error(file, ln, "partition: host h%d is in no group", x);
        } else if (strcmp(t[1], "assert") == 0 && n >= 4 && strcmp(t[2], "running") == 0 &&
                   parse_vm(sc, t[3]) >= 0 && (n == 4 || (n == 6 && strcmp(t[4], "on") == 0 &&
                                                         parse_host(sc, t[5], false) > 0))) {
                e->kind = EV_ASSERT_RUNNING;
                e->vm = parse_vm(sc, t[3]);
                e->host = n == 6 ? parse_host(sc, t[5], false) : 0;
        } else if (strcmp(t[1], "assert") == 0 && n == 4 && strcmp(t[2], "stopped") == 0 && parse_vm(sc, t[3]) >= 0) {
                e->kind = EV_ASSERT_STOPPED;
                e->vm = parse_vm(sc, t[3]);
        } else if (strcmp(t[1], "vmkill") == 0 && n == 3 && parse_vm(sc, t[2]) >= 0) {
                e->kind = EV_VMKILL;
                e->vm = parse_vm(sc, t[2]);
        } else if ((strcmp(t[1], "vmstart") == 0 || strcmp(t[1], "vmstop") == 0) && n == 4 &&
                   parse_vm(sc, t[2]) >= 0 && parse_host(sc, t[3], false) > 0) {
                e->kind = EV_VMREQUEST;
                e->vm = parse_vm(sc, t[2]);
                e->host = parse_host(sc, t[3], false);
                e->arg = strcmp(t[1], "vmstart") == 0;
        } else if (strcmp(t[1], "assert") == 0 && n == 4 && (strcmp(t[2], "on") == 0 || strcmp(t[2], "off") == 0) &&
                   parse_host(sc, t[3], false) > 0) {
                e->kind = EV_ASSERT_POWER;
                e->host = parse_host(sc, t[3], false);
                e->arg = strcmp(t[2], "on") == 0;
        } else {
                return parse_error(file, ln, "cannot parse event (see tests/scenarios/README)");
        }
        sc->nev++;
        return 0;
}

int parse_events(struct scenario *sc, const char *file) {
        FILE *f = fopen(file, "r");
        char line[512];
        int ln = 0, r = 0;

        if (!f)
                return parse_error(file, 0, "cannot open: %s", strerror(errno));
        while (r == 0 && fgets(line, sizeof(line), f)) {
                ln++;
                r = parse_event_line(sc, file, ln, line);
        }
        fclose(f);
        return r;
}

/* The events-file form of a generated event, for replay and for the log. */
void describe_event(struct event *e) {
        char who[8];
        size_t n;

        snprintf(who, sizeof(who), e->host ? "h%d" : "all", e->host);
        switch (e->kind) {
        case EV_NET:
                snprintf(e->text, sizeof(e->text), "net %s %s", who, e->arg ? "up" : "down");
                break;
        case EV_PARTITION:
                n = (size_t)snprintf(e->text, sizeof(e->text), "partition");
                for (int g = 1; g <= 2; g++) {
                        bool first = true;

                        n += (size_t)snprintf(e->text + n, sizeof(e->text) - n, "%s", g > 1 ? " |" : "");
                        for (int b = 1; b <= MAXH; b++)
                                if (e->group[b] == g) {
                                        n += (size_t)snprintf(e->text + n, sizeof(e->text) - n, "%sh%d",
                                                              first ? " " : ",", b);
                                        first = false;
                                }
                }
                break;
        case EV_HEAL:
                snprintf(e->text, sizeof(e->text), "heal");
                break;
        case EV_DISK:
                snprintf(e->text, sizeof(e->text), "disk %s %s", who,
                         e->arg == DISK_ACCESS_OK     ? "ok"
                         : e->arg == DISK_ACCESS_FAIL ? "fail"
                         : e->arg == DISK_ACCESS_HANG ? "hang"
                                                      : "readfail");
                break;
        case EV_POWER:
                snprintf(e->text, sizeof(e->text), "power %s %s", who, e->arg ? "on" : "off");
                break;
        case EV_FREEZE:
                snprintf(e->text, sizeof(e->text), "freeze %s %.2f", who, (double)e->dur / 1000);
                break;
        case EV_TIEBREAK:
                snprintf(e->text, sizeof(e->text), "tiebreak %s %s", who, e->arg ? "up" : "down");
                break;
        case EV_STALL:
                snprintf(e->text, sizeof(e->text), "stall %s %.2f", who, (double)e->dur / 1000);
                break;
        case EV_ACKDELAY:
                snprintf(e->text, sizeof(e->text), "ackdelay %s %d", who, e->arg);
                break;
        case EV_CLAIMDELAY:
                snprintf(e->text, sizeof(e->text), "claimdelay %s %d", who, e->arg);
                break;
        case EV_CORRUPT:
                snprintf(e->text, sizeof(e->text), "corrupt %s %s", who,
                         e->arg == CORRUPT_SLOT ? "slot" : e->arg == CORRUPT_CLAIMS ? "claims" : "mailbox");
                break;
        case EV_REPAIR:
                snprintf(e->text, sizeof(e->text), "repair %s", who);
                break;
        case EV_REBOOTFAIL:
                snprintf(e->text, sizeof(e->text), "rebootfail %s", who);
                break;
        case EV_NOWATCHDOG:
                snprintf(e->text, sizeof(e->text), "nowatchdog %s", who);
                break;
        case EV_CLAIMFAIL:
                snprintf(e->text, sizeof(e->text), "claimfail %s", who);
                break;
        default:
                snprintf(e->text, sizeof(e->text), "?");
        }
}

