/* Deterministic scenario simulator for vmha's node engine.
 *
 * It runs N copies of core/node.c, the very engine vmhad runs, in a
 * simulated world (sim_world.c): simulated time in 10 ms ticks, Corosync,
 * a shared disk with faults, watchdogs and VMs. The shell around each
 * engine only carries out its actions, as vmhad does, so a scenario
 * exercises the decisions the real daemon makes.
 *
 * Independently of any golden log, the simulator checks against its ground
 * truth S1 (a protected VM never runs twice: at every start and every tick)
 * and S2 (a takeover is decided only when every other instance of the VM is
 * dead). A scenario may declare `expect s1-violation` only together with an
 * unsafe knob; it then passes only if the violation is really detected.
 *
 * Usage:
 *   simulate [--update] [--print] DIR...     run scenario directories
 *   simulate --random [--seconds S] [--sequences N] [--seed N] [--knob K] [--expect-violation]
 *     checks S1/S2, and that never two masters both reach the disk, over
 *     random fault sequences until the time or count budget is spent; with
 *     --expect-violation it succeeds only if one of them breaks either (for
 *     the unsafe knobs), counting only findings that the same sequence does
 *     not show with every fix in place. With --knob split-masters every
 *     surviving host restarts VMs, two masters are expected, and S1 must
 *     hold from the claims alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/scenarios/sim.h"

/* ---------- scenario mode ---------- */

static char *read_file(const char *path) {
        FILE *f = fopen(path, "r");
        char *buf;
        long len;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)len + 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                fclose(f);
                return NULL;
        }
        buf[len] = '\0';
        fclose(f);
        return buf;
}

static void report_first_diff(const char *got, const char *want) {
        int line = 1;
        const char *g = got, *x = want;

        while (*g && *x && *g == *x) {
                if (*g == '\n')
                        line++;
                g++;
                x++;
        }
        while (g > got && g[-1] != '\n')
                g--;
        while (x > want && x[-1] != '\n')
                x--;
        fprintf(stderr, "  expected.log differs at line %d:\n  want: %.*s\n  got:  %.*s\n", line,
                (int)strcspn(x, "\n"), x, (int)strcspn(g, "\n"), g);
}

static int run_scenario(const char *dir, bool update, bool print) {
        struct scenario *sc = calloc(1, sizeof(*sc));
        struct world *w;
        char path[1024], *want;
        const char *log;
        int ret = 0;
        bool log_ok;

        if (!sc) {
                perror("calloc");
                exit(2);
        }
        {
                char *rp = realpath(dir, NULL);
                const char *b = rp ? strrchr(rp, '/') : NULL;

                snprintf(sc->name, sizeof(sc->name), "%s", b ? b + 1 : dir);
                free(rp);
        }
        snprintf(path, sizeof(path), "%s/pool", dir);
        if (parse_pool(sc, path) < 0) {
                printf("FAIL %s: malformed pool\n", sc->name);
                free(sc);
                return 1;
        }
        snprintf(path, sizeof(path), "%s/events", dir);
        if (parse_events(sc, path) < 0) {
                printf("FAIL %s: malformed events\n", sc->name);
                free(sc);
                return 1;
        }
        w = world_new(sc, false);
        world_run(w);
        log = world_log(w);
        if (print)
                fputs(log, stdout);

        snprintf(path, sizeof(path), "%s/expected.log", dir);
        if (update) {
                FILE *f = fopen(path, "w");

                if (!f || fputs(log, f) < 0 || fclose(f) != 0) {
                        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
                        ret = 1;
                }
        }
        want = read_file(path);
        log_ok = want && strcmp(want, log) == 0;
        if (want && !log_ok)
                report_first_diff(log, want);

        /* S1/S2 are judged on ground truth, whatever expected.log says. */
        if (world_s1_violation(w) != sc->expect_s1 || (world_s2_violation(w) && !sc->expect_s1 && !sc->expect_s2) ||
            (sc->expect_s2 && !world_s2_violation(w)) ||
            world_assert_failed(w) || !log_ok)
                ret = 1;
        /* Two masters that both reach the disk: a defect in any scenario
         * that does not switch a fix off, and required in one that expects it. */
        if (sc->expect_two_masters ? !world_two_masters(w)
                                   : world_two_masters(w) && !sc->expect_s1 && !sc->expect_s2)
                ret = 1;
        if (sc->expect_s1)
                printf("%s %s: %s, %s%s\n", ret ? "FAIL" : "PASS", sc->name,
                       world_s1_violation(w) ? "expected S1 violation detected" : "expected S1 violation NOT detected",
                       log_ok ? "log matches" : want ? "log differs" : "no expected.log",
                       world_assert_failed(w) ? ", an assertion failed" : "");
        else
                printf("%s %s: %s%s%s, %s%s\n", ret ? "FAIL" : "PASS", sc->name,
                       world_s1_violation(w) ? "S1 VIOLATED" : "S1 holds",
                       sc->expect_s2 ? (world_s2_violation(w) ? ", expected S2 violation detected"
                                                              : ", expected S2 violation NOT detected")
                       : world_s2_violation(w) ? ", S2 VIOLATED" : ", S2 holds",
                       world_two_masters(w) ? (sc->expect_two_masters ? ", two masters as expected" : ", TWO MASTERS")
                                            : sc->expect_two_masters ? ", expected two masters NOT seen" : "",
                       log_ok ? "log matches" : want ? "log differs" : "no expected.log",
                       world_assert_failed(w) ? ", an assertion failed" : "");
        if (world_s1_violation(w) || world_s2_violation(w)) {
                /* Show the violation lines themselves. */
                const char *p = log;

                while ((p = strstr(p, " VIOLATION")) != NULL) {
                        const char *s = p, *e = strchr(p, '\n');

                        while (s > log && s[-1] != '\n')
                                s--;
                        printf("  %.*s\n", (int)(e ? e - s : (long)strlen(s)), s);
                        p = e ? e : p + 1;
                }
        }
        free(want);
        world_free(w);
        free(sc);
        return ret;
}

/* ---------- randomized mode ---------- */

static uint64_t rng_state;
static uint64_t rng(void) {
        /* splitmix64 */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}
static uint64_t rng_below(uint64_t n) {
        return n ? rng() % n : 0;
}

static void add_ev(struct scenario *sc, uint64_t t, enum ev_kind k, int host, int arg, uint64_t dur) {
        struct event *e = &sc->ev[sc->nev++];

        memset(e, 0, sizeof(*e));
        e->t = t;
        e->kind = k;
        e->host = host;
        e->arg = arg;
        e->dur = dur;
        describe_event(e);
}

/* A partition at t: x and y on one side, every other host on the other. */
static struct event *add_split(struct scenario *sc, uint64_t t, int x, int y) {
        struct event *e;

        add_ev(sc, t, EV_PARTITION, 0, 0, 0);
        e = &sc->ev[sc->nev - 1];
        for (int k = 1; k <= sc->nhosts; k++)
                e->group[k] = k == x || k == y ? 1 : 2;
        describe_event(e);
        return e;
}

/* Composite faults whose parts must fall within a narrow window of each
 * other, where drawing them one by one would almost never line them up.
 * Each ends within three timeouts of t, before the final heal. */
static void narrow_window(struct scenario *sc, uint64_t t, int h) {
        uint64_t wd = sc->timeout_ms, iv = sc->timeout_ms / 10;
        int n = sc->nhosts, a = 1 + h % n, b = 1 + a % n, c = 1 + b % n;
        struct event *e;

        switch (rng_below(5)) {
        case 0: {       /* an owner dies; a restarter's claim write fails and lands a disk interval
                         * later, amid its next collect, which is slow; another restarter, later
                         * by its Corosync, claims in a lower block meanwhile */
                int d = a > b ? a : b, m = a > b ? b : a;

                add_ev(sc, t, EV_POWER, h, 0, 0);
                add_ev(sc, t, EV_CLAIMFAIL, d, 0, 0);
                add_ev(sc, t, EV_CLAIMDELAY, d, (int)(iv + TICK_MS * (1 + rng_below(iv / TICK_MS))), 0);
                if (m != h) {
                        sc->skew[d] = (int64_t)(TICK_MS * rng_below(iv / 2 / TICK_MS));
                        sc->skew[m] = sc->skew[d] + (int64_t)(iv + TICK_MS * rng_below(iv / 2 / TICK_MS));
                }
                break;
        }
        case 1: {       /* two hosts die; a survivor's slot turns unreadable, and another stands
                         * still for a few tokens: it resumes on the partition it had before,
                         * sometimes with its loop stalled as it froze (it hears the ring it
                         * knew again as it resumes) */
                uint64_t at = t + wd + TICK_MS * rng_below(wd / 2 / TICK_MS);
                uint64_t fr = at + TICK_MS * rng_below(wd / 2 / TICK_MS);

                add_ev(sc, t, EV_POWER, h, 0, 0);
                add_ev(sc, t, EV_POWER, a, 0, 0);
                add_ev(sc, at, EV_CORRUPT, c, CORRUPT_SLOT, 0);
                add_ev(sc, fr, EV_FREEZE, b, 0, wd / 2 + TICK_MS * rng_below(wd / 4 / TICK_MS));
                if (rng_below(2))
                        add_ev(sc, fr > iv ? fr - iv : 0, EV_STALL, b, 0, 2 * iv + TICK_MS * rng_below(iv / TICK_MS));
                break;
        }
        case 2: {       /* a host is off while the others split, and boots into one half, whose
                         * Corosync is the slowest (the other half decides on the disk first)
                         * and which holds host 1 (it wins a tie once the joiner counts) */
                int with = h == 1 ? 2 : 1;

                add_ev(sc, t, EV_POWER, h, 0, 0);
                e = add_split(sc, t + wd + TICK_MS * rng_below(wd / 2 / TICK_MS), h, with);
                add_ev(sc, e->t + TICK_MS * rng_below(wd / 5 / TICK_MS), EV_POWER, h, 1, 0);
                for (int k = 1; k <= n; k++)
                        if (k != with && sc->skew[k] > (int64_t)iv / 2)
                                sc->skew[k] = (int64_t)iv / 2;
                sc->skew[with] = (int64_t)(wd / 5);
                break;
        }
        case 3: {       /* two hosts die; a survivor holds the pool by rule 2; cut off from it,
                         * the two boot into a partition of their own. In a pool of two, the
                         * second boots as the first is about to take the pool alone, and its
                         * loop stalls after its first write */
                uint64_t at = t + wd / 2 + TICK_MS * rng_below(wd / 2 / TICK_MS);
                uint64_t up = at + TICK_MS * rng_below(wd / 2 / TICK_MS), second;

                add_ev(sc, t, EV_POWER, h, 0, 0);
                add_ev(sc, t, EV_POWER, a, 0, 0);
                add_split(sc, at, h, a);
                add_ev(sc, up, EV_POWER, h, 1, 0);
                if (n == 2) {
                        second = up + wd / 2 + TICK_MS * rng_below(wd / 4 / TICK_MS);
                        add_ev(sc, second, EV_STALL, a, 0, 5 * iv / 2);
                } else {
                        second = at + TICK_MS * rng_below(wd / 2 / TICK_MS);
                }
                add_ev(sc, second, EV_POWER, a, 1, 0);
                break;
        }
        default:        /* two kinds, one for each parity of the host drawn */
                if (h % 2) {
                        /* with no tiebreak, the first host's network goes, then another's
                         * disk reads fail: it fences, and the first host reads its FENCING
                         * before the partition it left does */
                        sc->tiebreak = false;
                        add_ev(sc, t, EV_NET, 1, 0, 0);
                        add_ev(sc, t + TICK_MS * rng_below(wd / 2 / TICK_MS), EV_DISK,
                               2 + (int)rng_below((uint64_t)n - 1), DISK_ACCESS_READFAIL, 0);
                } else {
                        /* the pool splits in halves of one size while no host reaches the
                         * tiebreak target, which comes back to each host at its own moment
                         * as they decide: one half publishes it before the other reads it */
                        uint64_t up = t + wd / 4 + TICK_MS * rng_below(wd / TICK_MS);

                        sc->tiebreak = true;
                        add_ev(sc, t > iv ? t - iv : 0, EV_TIEBREAK, 0, 0, 0);
                        if (n % 2)
                                add_ev(sc, t > iv ? t - iv : 0, EV_POWER, c, 0, 0);
                        add_split(sc, t, a, n == 4 ? b : a);
                        for (int k = 1; k <= n; k++)
                                if (!(n % 2) || k != c)
                                        add_ev(sc, up + TICK_MS * rng_below(iv / TICK_MS), EV_TIEBREAK, k, 1, 0);
                }
                break;
        }
}

/* One random fault sequence; returns the number of faults. */
static int random_scenario(struct scenario *sc, const struct core_unsafe_knobs *knobs) {
        static const uint32_t timeouts[] = { 2000, 3000, 5000 };
        int nf;
        uint64_t t;

        memset(sc, 0, sizeof(*sc));
        snprintf(sc->name, sizeof(sc->name), "random");
        sc->timeout_ms = timeouts[rng_below(3)];
        sc->nhosts = 2 + (int)rng_below(3);
        sc->tiebreak = rng_below(2);
        sc->wd_late_ms = (uint32_t)rng_below(sc->timeout_ms / 10 + 1);
        sc->knobs = *knobs;
        for (int b = 0; b <= MAXH; b++)
                sc->phase[b] = -1;
        for (int b = 1; b <= sc->nhosts; b++) {
                sc->skew[b] = (int64_t)rng_below(sc->timeout_ms / 5 + 1);
                sc->phase[b] = (int64_t)rng_below(sc->timeout_ms / 10);
                for (int k = 0; k < 1 + (int)rng_below(2); k++) {
                        struct vm_def *d = &sc->vms[sc->nvms++];

                        snprintf(d->name, sizeof(d->name), "v%d", sc->nvms);
                        d->home = b;
                        d->prio = HASTATE_PRIORITY_RESTART;
                }
        }
        nf = 1 + (int)rng_below(4);
        t = sc->timeout_ms / 2;
        for (int i = 0; i < nf; i++) {
                int h = 1 + (int)rng_below((uint64_t)sc->nhosts);
                uint64_t wd = sc->timeout_ms;

                /* Faults come close together (within a few timeouts), where the races are. */
                t += rng_below(2 * sc->timeout_ms) + TICK_MS * rng_below(3);
                t -= t % TICK_MS;
                switch (rng_below(27)) {
                case 0:
                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        break;
                case 1:
                        add_ev(sc, t, EV_FREEZE, h, 0, 100 + rng_below(wd - 200));
                        break;
                case 2:
                        add_ev(sc, t, EV_FREEZE, h, 0, wd + rng_below(2 * wd));
                        break;
                case 3: {
                        struct event *e;

                        add_ev(sc, t, EV_PARTITION, 0, 0, 0);
                        e = &sc->ev[sc->nev - 1];
                        for (int b = 1; b <= sc->nhosts; b++)
                                e->group[b] = 1 + (int)rng_below(2);
                        describe_event(e);
                        break;
                }
                case 4:
                        add_ev(sc, t, EV_NET, h, 0, 0);
                        break;
                case 5:
                        add_ev(sc, t, EV_DISK, h,
                               (int[]){ DISK_ACCESS_FAIL, DISK_ACCESS_HANG, DISK_ACCESS_READFAIL }[rng_below(3)], 0);
                        break;
                case 6:
                        add_ev(sc, t, EV_DISK, 0, DISK_ACCESS_FAIL, 0);
                        break;
                case 7:
                        add_ev(sc, t, EV_HEAL, 0, 0, 0);
                        break;
                case 8:
                        add_ev(sc, t, EV_DISK, rng_below(2) ? h : 0, DISK_ACCESS_OK, 0);
                        break;
                case 9:
                        add_ev(sc, t, EV_POWER, h, 1, 0);
                        break;
                case 10:
                        add_ev(sc, t, EV_TIEBREAK, h, (int)rng_below(2), 0);
                        break;
                case 11:        /* vmhad stops between a write's completion and its handling */
                        add_ev(sc, t, EV_STALL, h, 0, 100 + rng_below(wd - 300));
                        break;
                case 12:        /* late acknowledgements */
                        add_ev(sc, t, EV_ACKDELAY, h, (int)rng_below(sc->timeout_ms / 5), 0);
                        break;
                case 13:        /* an undecodable block */
                        add_ev(sc, t, EV_CORRUPT, h, 1 << rng_below(3), 0);
                        break;
                case 14:
                        add_ev(sc, t, EV_REPAIR, h, 0, 0);
                        break;
                case 15:
                        add_ev(sc, t, EV_REBOOTFAIL, h, 0, 0);
                        break;
                case 16: {      /* a long stall, split off meanwhile, its disk lost before it wakes */
                        uint64_t stall = wd - 200 - rng_below(wd / 8);
                        struct event *e;

                        add_ev(sc, 0, EV_REBOOTFAIL, h, 0, 0);
                        add_ev(sc, t, EV_STALL, h, 0, stall);
                        add_ev(sc, t + TICK_MS * (1 + rng_below(6)), EV_PARTITION, 0, 0, 0);
                        e = &sc->ev[sc->nev - 1];
                        for (int b = 1; b <= sc->nhosts; b++)
                                e->group[b] = b == h ? 2 : 1;
                        describe_event(e);
                        add_ev(sc, t + stall - rng_below(wd / 4), EV_DISK, h, DISK_ACCESS_FAIL, 0);
                        break;
                }
                case 17: {      /* an undecodable slot on a host that wins, no mailbox to the loser;
                                 * with three hosts or more, the loser splits off with a host that
                                 * boots as it does, then loses its network: its Corosync, the
                                 * slowest and restarted by each change, hears of the split last */
                        int o = 1 + h % sc->nhosts, x = 1 + o % sc->nhosts;
                        uint64_t cut = t + rng_below(wd);

                        add_ev(sc, t, EV_CORRUPT, h, CORRUPT_SLOT, 0);
                        add_ev(sc, t, EV_CORRUPT, o, CORRUPT_MAILBOX, 0);
                        if (x == h) {
                                add_ev(sc, cut, EV_NET, o, 0, 0);
                        } else {
                                sc->skew[o] = (int64_t)(wd / 5);
                                add_ev(sc, t > wd ? t - wd : 0, EV_POWER, x, 0, 0);
                                add_split(sc, cut, o, x);
                                add_ev(sc, cut + TICK_MS, EV_POWER, x, 1, 0);
                                add_ev(sc, cut + wd / 3, EV_NET, o, 0, 0);
                        }
                        add_ev(sc, t + rng_below(wd), EV_TIEBREAK, o, 0, 0);
                        break;
                }
                case 18: {      /* a VM moves to the master, whose claim block then turns unreadable and which freezes */
                        int m = h == 1 ? 2 : 1;
                        uint64_t at = t + 5 * wd / 2 + rng_below(wd / 2);

                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        add_ev(sc, at, EV_CORRUPT, m, CORRUPT_CLAIMS, 0);
                        add_ev(sc, at + TICK_MS * rng_below(50), EV_FREEZE, m, 0, wd + rng_below(2 * wd));
                        break;
                }
                case 20: {      /* slow claim I/O: writes outlast their deadline, collects see writes land */
                        uint64_t iv = sc->timeout_ms / 10;

                        add_ev(sc, t, EV_CLAIMDELAY, h, (int)(TICK_MS * (1 + rng_below(3 * iv / TICK_MS))), 0);
                        break;
                }
                case 21: {      /* a hang that clears: what was in flight lands late */
                        uint64_t iv = sc->timeout_ms / 10;

                        add_ev(sc, t, EV_DISK, h, DISK_ACCESS_HANG, 0);
                        add_ev(sc, t + iv / 2 + TICK_MS * rng_below(3 * iv / TICK_MS), EV_DISK, h, DISK_ACCESS_OK, 0);
                        break;
                }
                case 22: {      /* a crash behind a hung path, which comes back: its writes land after it died */
                        add_ev(sc, t, EV_DISK, h, DISK_ACCESS_HANG, 0);
                        add_ev(sc, t + TICK_MS * rng_below(wd / TICK_MS), EV_POWER, h, 0, 0);
                        add_ev(sc, t + wd + TICK_MS * rng_below(wd / TICK_MS), EV_DISK, h, DISK_ACCESS_OK, 0);
                        break;
                }
                case 23:        /* a crash and a quick reboot: the owner and the master restart at once */
                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        add_ev(sc, t + wd / 2 + TICK_MS * rng_below(2 * wd / TICK_MS), EV_POWER, h, 1, 0);
                        break;
                case 24: {      /* a slow path fails over to a fast one: later writes overtake earlier ones */
                        uint64_t iv = sc->timeout_ms / 10;

                        add_ev(sc, t, EV_CLAIMDELAY, h, (int)(iv + TICK_MS * (1 + rng_below(2 * iv / TICK_MS))), 0);
                        add_ev(sc, t + TICK_MS * rng_below(4 * iv / TICK_MS), EV_CLAIMDELAY, h, TICK_MS, 0);
                        break;
                }
                case 25: {      /* two owners die in turn while the restarter's claim path is slow, then fails
                                 * over to a fast one; the second owner boots again later */
                        int b = 1 + h % sc->nhosts, r = 1 + b % sc->nhosts;

                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        add_ev(sc, t + wd / 2 + TICK_MS * rng_below(wd / 4 / TICK_MS), EV_POWER, b, 0, 0);
                        if (r != h) {
                                add_ev(sc, t, EV_CLAIMDELAY, r, (int)(wd / 2), 0);
                                add_ev(sc, t + 2 * wd + TICK_MS * rng_below(wd / TICK_MS), EV_CLAIMDELAY, r, TICK_MS, 0);
                        }
                        add_ev(sc, t + 4 * wd + TICK_MS * rng_below(wd / TICK_MS), EV_POWER, b, 1, 0);
                        break;
                }
                case 26:        /* several faults in one narrow window, one race each */
                        narrow_window(sc, t, h);
                        break;
                default:        /* a restart without a watchdog */
                        add_ev(sc, t, EV_NOWATCHDOG, h, 0, 0);
                        add_ev(sc, t, EV_POWER, h, 0, 0);
                        add_ev(sc, t + sc->timeout_ms / 2, EV_POWER, h, 1, 0);
                        break;
                }
        }
        /* Heal everything, boot every host, and let it settle. */
        t += 3 * sc->timeout_ms;
        add_ev(sc, t, EV_HEAL, 0, 0, 0);
        add_ev(sc, t, EV_DISK, 0, DISK_ACCESS_OK, 0);
        add_ev(sc, t, EV_TIEBREAK, 0, 1, 0);
        for (int b = 1; b <= sc->nhosts; b++) {
                add_ev(sc, t, EV_REPAIR, b, 0, 0);
                add_ev(sc, t, EV_ACKDELAY, b, 0, 0);
                add_ev(sc, t, EV_CLAIMDELAY, b, TICK_MS, 0);
        }
        for (int b = 1; b <= sc->nhosts; b++)
                add_ev(sc, t, EV_POWER, b, 1, 0);
        sc->end_ms = t + 6 * sc->timeout_ms;
        /* Events in time order (a fault may schedule a later one). */
        for (int i = 1; i < sc->nev; i++)
                for (int j = i; j > 0 && sc->ev[j - 1].t > sc->ev[j].t; j--) {
                        struct event tmp = sc->ev[j];
                        sc->ev[j] = sc->ev[j - 1];
                        sc->ev[j - 1] = tmp;
                }
        return nf;
}

static void print_random_sequence(const struct scenario *sc, const struct world *w, uint64_t seq_seed) {
        char knobs[256];

        knobs_format(&sc->knobs, knobs, sizeof(knobs));
        printf("# replay: simulate --random --verbose --sequences 1 --seed %llu%s\n", (unsigned long long)seq_seed,
               knobs);
        printf("# pool: hosts %d, timeout %u, tiebreak %s, watchdog_late %u\n", sc->nhosts, sc->timeout_ms,
               sc->tiebreak ? "yes" : "no", sc->wd_late_ms);
        for (int b = 1; b <= sc->nhosts; b++)
                printf("# host h%d: skew %lld, phase %lld\n", b, (long long)sc->skew[b], (long long)sc->phase[b]);
        for (int i = 0; i < sc->nvms; i++) {
                if (sc->vms[i].home)
                        printf("# vm %s h%d %s\n", sc->vms[i].name, sc->vms[i].home, hastate_priority_name(sc->vms[i].prio));
                else
                        printf("# vm %s (no claim at time 0) %s\n", sc->vms[i].name, hastate_priority_name(sc->vms[i].prio));
        }
        for (int i = 0; i < sc->nev; i++)
                printf("# event %.2f %s\n", (double)sc->ev[i].t / 1000, sc->ev[i].text);
        fputs(world_log(w), stdout);
}

static double wall_seconds(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sequence seq_seed again and prints it, with the log kept quiet
 * (its violations only). */
static void replay_print(struct scenario *sc, uint64_t seq_seed, const struct core_unsafe_knobs *knobs) {
        uint64_t saved = rng_state;
        struct world *w;

        rng_state = seq_seed;
        random_scenario(sc, knobs);
        w = world_new(sc, true);
        world_run(w);
        print_random_sequence(sc, w, seq_seed);
        world_free(w);
        rng_state = saved;
}

/* Whether sequence seq_seed shows the same kind of finding with fewer
 * fixes switched off: with every fix in place (split-masters kept: it is
 * a stress, not a fix), or, with several knobs, with any one of them off
 * no more. Each knob of a finding must be needed for it. */
static bool also_with_fewer_knobs(struct scenario *sc, uint64_t seq_seed, const struct core_unsafe_knobs *knobs,
                                  bool s1s2, bool two_masters) {
        struct core_unsafe_knobs sets[40] = { { .split_masters = knobs->split_masters } };
        size_t n = 1 + knobs_one_fewer(knobs, sets + 1, sizeof(sets) / sizeof(sets[0]) - 1);
        uint64_t saved = rng_state;
        bool same = false;

        for (size_t i = 0; i < n && !same; i++) {
                struct world *w;

                rng_state = seq_seed;
                random_scenario(sc, &sets[i]);
                w = world_new(sc, true);
                world_run(w);
                same = (s1s2 && (world_s1_violation(w) || world_s2_violation(w))) ||
                       (two_masters && world_two_masters(w));
                world_free(w);
        }
        rng_state = saved;
        return same;
}

static int run_random(double seconds, long max_seqs, uint64_t seed, const struct core_unsafe_knobs *knobs,
                      bool expect_violation, bool verbose) {
        struct scenario *sc = calloc(1, sizeof(*sc));
        struct world *w;
        double start = wall_seconds(), el;
        long seqs = 0, faults = 0, bad = 0, masters = 0, shared = 0;

        if (!sc) {
                perror("calloc");
                exit(2);
        }
        rng_state = seed;
        do {
                uint64_t seq_seed = rng_state;
                bool b1, b2;

                faults += random_scenario(sc, knobs);
                w = world_new(sc, !verbose);
                world_run(w);
                seqs++;
                if (verbose)
                        print_random_sequence(sc, w, seq_seed);
                b1 = world_s1_violation(w) || world_s2_violation(w);
                /* With split masters every host acts as master on purpose. */
                b2 = world_two_masters(w) && !knobs->split_masters;
                world_free(w);
                if (expect_violation && (b1 || b2) && also_with_fewer_knobs(sc, seq_seed, knobs, b1, b2)) {
                        /* What the fix prevents must be what the knob
                         * brings: the same sequence with the fix in place
                         * (or with a knob fewer) shows the same finding,
                         * so it does not count. */
                        printf("sequence %ld: also with a knob fewer, not counted\n", seqs);
                        b1 = b2 = false;
                        shared++;
                }
                if (b1) {
                        if (bad < 3 && !expect_violation && !verbose) {
                                printf("violation in sequence %ld:\n", seqs);
                                replay_print(sc, seq_seed, knobs);
                        }
                        bad++;
                }
                if (b2) {
                        if (masters < 3 && !expect_violation && !verbose) {
                                printf("two masters in sequence %ld:\n", seqs);
                                replay_print(sc, seq_seed, knobs);
                        }
                        masters++;
                }
                el = wall_seconds() - start;
        } while (el < seconds && (max_seqs == 0 || seqs < max_seqs) && !(expect_violation && bad + masters > 0));
        printf("random: seed %llu: %ld sequences, %ld faults, %ld with an S1/S2 violation, %ld with two masters, "
               "%.1f s (%.0f sequences/s, %.0f faults/s)\n",
               (unsigned long long)seed, seqs, faults, bad, masters, el, (double)seqs / el, (double)faults / el);
        if (shared)
                printf("random: %ld findings not counted: the same sequence shows them with a knob fewer\n", shared);
        free(sc);
        /* Two masters that both reach the disk break rule 2's one winner:
         * without a knob that fails the run as a violation does. */
        if (expect_violation)
                return bad + masters > 0 ? 0 : 1;
        return bad == 0 && masters == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
        bool update = false, print = false, random_mode = false, expect_violation = false, verbose = false;
        double seconds = 20;
        long max_seqs = 0;
        uint64_t seed = 1;
        struct core_unsafe_knobs knobs = { 0 };
        int failed = 0, ran = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--update") == 0)
                        update = true;
                else if (strcmp(argv[i], "--print") == 0)
                        print = true;
                else if (strcmp(argv[i], "--random") == 0)
                        random_mode = true;
                else if (strcmp(argv[i], "--verbose") == 0)
                        verbose = true;
                else if (strcmp(argv[i], "--expect-violation") == 0)
                        expect_violation = true;
                else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
                        seconds = atof(argv[++i]);
                else if (strcmp(argv[i], "--sequences") == 0 && i + 1 < argc)
                        max_seqs = atol(argv[++i]);
                else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
                        seed = strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--knob") == 0 && i + 1 < argc) {
                        const char *k = argv[++i];

                        if (!knob_set(&knobs, k)) {
                                fprintf(stderr, "unknown knob %s\n", k);
                                return 2;
                        }
                } else if (argv[i][0] == '-') {
                        fprintf(stderr, "usage: simulate [--update] [--print] DIR... | --random [--seconds S] "
                                        "[--sequences N] [--seed N] [--knob K] [--expect-violation] [--verbose]\n");
                        return 2;
                } else {
                        failed += run_scenario(argv[i], update, print);
                        ran++;
                }
        }
        if (random_mode)
                return run_random(seconds, max_seqs, seed, &knobs, expect_violation, verbose);
        if (ran == 0) {
                fprintf(stderr, "simulate: no scenario given\n");
                return 2;
        }
        return failed ? 1 : 0;
}
