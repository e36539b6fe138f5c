/* Disk loop thread. */
#include "daemon/disk_thread.h"
#include "heartbeat/disk_io.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct disk_thread {
        struct disk_region *reg;
        uint32_t self_id;
        uint32_t interval_ms;
        uint64_t incarnation;
        pthread_t thread;
        int efd;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool quit, kick;
        struct disk_slot next;          /* what to write */
        uint64_t seq;
        struct disk_mailbox outbox[DISK_MAX_SLOTS + 1]; /* pending mailbox writes, by target */
        bool outbox_pending[DISK_MAX_SLOTS + 1];
        void *config;                   /* pending config snapshot, or NULL */
        uint32_t config_len;
        uint64_t config_gen;
        struct disk_round latest;
        struct disk_latency latency[_DISK_OP_MAX];

        /* Claims: at most one write of this host's claim area in the
         * kernel at a time, one collect asked at a time, and the results
         * in order for the main loop. */
        bool claims_kick;
        struct disk_claim *cw_next;     /* the write asked for, or NULL */
        size_t cw_n;
        bool cw_hung;                   /* the last write timed out and may still land */
        uint64_t cw_late_base;          /* disk_io_late()'s count before that write */
        uint64_t cw_gen;
        bool cr_pending;
        struct disk_claims_event events[DISK_CLAIMS_EVENTS];
        size_t n_events;
        struct disk_claims_block *cr_blocks;
        struct disk_status *cr_status;
};

uint64_t vmha_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t vmha_unix_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* CLOCK_MONOTONIC in microseconds, around each I/O for its latency. */
static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void disk_thread_note_io(struct disk_thread *t, enum disk_op op, uint64_t us, bool failed) {
        if ((unsigned)op >= _DISK_OP_MAX)
                return;
        pthread_mutex_lock(&t->lock);
        disk_latency_observe(&t->latency[op], us, failed);
        pthread_mutex_unlock(&t->lock);
}

/* Counts an I/O of this thread that began at start (now_us()) and
 * returned e. */
static void note_since(struct disk_thread *t, enum disk_op op, uint64_t start, int e) {
        disk_thread_note_io(t, op, now_us() - start, e < 0);
}

static void round_copy(struct disk_round *dst, const struct disk_round *src, uint32_t n) {
        struct disk_slot *slots = dst->slots;
        struct disk_status *status = dst->status, *mb_status = dst->mb_status;
        struct disk_mailbox *mailboxes = dst->mailboxes;
        *dst = *src;
        dst->slots = slots;
        dst->status = status;
        dst->mailboxes = mailboxes;
        dst->mb_status = mb_status;
        memcpy(dst->slots, src->slots, (n + 1) * sizeof(*slots));
        memcpy(dst->status, src->status, (n + 1) * sizeof(*status));
        memcpy(dst->mailboxes, src->mailboxes, (n + 1) * sizeof(*mailboxes));
        memcpy(dst->mb_status, src->mb_status, (n + 1) * sizeof(*mb_status));
}

static int round_alloc(struct disk_round *r, uint32_t n) {
        r->slots = calloc(n + 1, sizeof(*r->slots));
        r->status = calloc(n + 1, sizeof(*r->status));
        r->mailboxes = calloc(n + 1, sizeof(*r->mailboxes));
        r->mb_status = calloc(n + 1, sizeof(*r->mb_status));
        return r->slots && r->status && r->mailboxes && r->mb_status ? 0 : -ENOMEM;
}

void disk_round_free(struct disk_round *r) {
        free(r->slots);
        free(r->status);
        free(r->mailboxes);
        free(r->mb_status);
        r->slots = NULL;
        r->status = NULL;
        r->mailboxes = NULL;
        r->mb_status = NULL;
}

int disk_round_init(struct disk_round *r, uint32_t slot_count) {
        memset(r, 0, sizeof(*r));
        if (round_alloc(r, slot_count) < 0) {
                disk_round_free(r);
                return -ENOMEM;
        }
        return 0;
}

static bool device_hung(const struct disk_thread *t) {
        return disk_io_hung(t->reg->io);
}

/* Under the lock. A full queue drops the oldest: the main loop is stalled
 * for longer than any claim round takes, and the engine's deadlines act. */
static void push_event(struct disk_thread *t, const struct disk_claims_event *ev) {
        if (t->n_events == DISK_CLAIMS_EVENTS) {
                free(t->events[0].claims);
                memmove(t->events, t->events + 1, (DISK_CLAIMS_EVENTS - 1) * sizeof(t->events[0]));
                t->n_events--;
        }
        t->events[t->n_events++] = *ev;
}

static void signal_main(struct disk_thread *t) {
        uint64_t one = 1;
        if (write(t->efd, &one, sizeof(one)) < 0) {
                /* the counter cannot overflow in practice */
        }
}

/* A collect of every host's claim blocks: the valid claims, and the hosts
 * with a block that could not be decoded (their claims are unknown). */
static void collect_claims(struct disk_thread *t, struct disk_claims_event *ev) {
        uint32_t k = t->reg->sb.claim_blocks, n = t->reg->sb.slot_count;
        uint64_t start = now_us();
        size_t max = (size_t)n * k * DISK_CLAIMS_PER_BLOCK, m = 0;
        int e = device_hung(t) ? -ETIMEDOUT : disk_region_read_all_claims(t->reg, t->cr_blocks, t->cr_status);

        note_since(t, DISK_OP_CLAIMS, start, e);
        ev->type = DISK_CLAIMS_READ;
        ev->done_ms = vmha_now_ms();
        ev->ok = e == 0;
        ev->error = e;
        if (!ev->ok)
                return;
        ev->claims = malloc((max ? max : 1) * sizeof(*ev->claims));
        if (!ev->claims) {
                ev->ok = false;
                ev->error = -ENOMEM;
                return;
        }
        for (uint32_t i = 0; i < n * k; i++) {
                uint32_t host = 1 + i / k;
                if (t->cr_status[i].error) {
                        if (ev->n_unknown == 0 || ev->unknown[ev->n_unknown - 1] != host)
                                ev->unknown[ev->n_unknown++] = host;
                        continue;
                }
                for (uint32_t c = 0; c < t->cr_blocks[i].count; c++)
                        ev->claims[m++] = (struct takeover_claim){ .host_id = host,
                                                                   .vm_id = t->cr_blocks[i].claims[c].vm_id,
                                                                   .claim_seq = t->cr_blocks[i].claims[c].claim_seq };
        }
        ev->n_claims = m;
}

/* The claims work the main loop asked for, and the late end of a claim
 * write that timed out. Never a second write while one may be in the
 * kernel: Linux does not order two outstanding writes to one block. */
static void serve_claims(struct disk_thread *t) {
        struct disk_claims_event ev;
        struct disk_claim *next;
        size_t n;
        bool was_write, read;
        uint64_t off;
        int res;

        pthread_mutex_lock(&t->lock);
        if (t->cw_hung && disk_io_late(t->reg->io, &was_write, &off, &res) > t->cw_late_base) {
                /* The next request to end late after ours was ours, unless
                 * more ended since: then ours ended too, how is unknown. */
                uint64_t c = disk_io_late(t->reg->io, &was_write, &off, &res);
                bool ours = c == t->cw_late_base + 1 && was_write &&
                            off == disk_region_own_claims_offset(t->reg, t->self_id);
                ev = (struct disk_claims_event){ .type = DISK_CLAIMS_WRITE, .late = true, .ok = ours && res == 0,
                                                 .error = ours ? res : -EIO, .done_ms = vmha_now_ms() };
                t->cw_hung = false;
                push_event(t, &ev);
                signal_main(t);
        }
        if (t->cw_next && !t->cw_hung && device_hung(t)) {
                /* Another request hangs in the kernel: this one would wait
                 * behind it. Never issued, so it cannot land: failed. */
                free(t->cw_next);
                t->cw_next = NULL;
                ev = (struct disk_claims_event){ .type = DISK_CLAIMS_WRITE, .error = -ETIMEDOUT,
                                                 .done_ms = vmha_now_ms() };
                push_event(t, &ev);
                signal_main(t);
        }
        next = t->cw_hung ? NULL : t->cw_next;
        n = t->cw_n;
        if (next)
                t->cw_next = NULL;
        read = t->cr_pending;
        t->cr_pending = false;
        uint64_t base = disk_io_late(t->reg->io, &was_write, &off, &res);
        uint64_t gen = ++t->cw_gen;
        pthread_mutex_unlock(&t->lock);

        if (next) {
                uint64_t start = now_us();
                int e = disk_region_write_own_claims(t->reg, t->self_id, next, n, gen);
                note_since(t, DISK_OP_CLAIMS, start, e);
                free(next);
                ev = (struct disk_claims_event){ .type = DISK_CLAIMS_WRITE, .ok = e == 0, .error = e,
                                                 .in_flight = e == -ETIMEDOUT, .done_ms = vmha_now_ms() };
                pthread_mutex_lock(&t->lock);
                if (e == -ETIMEDOUT) {
                        t->cw_hung = true;
                        t->cw_late_base = base;
                }
                push_event(t, &ev);
                pthread_mutex_unlock(&t->lock);
                signal_main(t);
        }
        if (read) {
                ev = (struct disk_claims_event){ 0 };
                collect_claims(t, &ev);
                pthread_mutex_lock(&t->lock);
                push_event(t, &ev);
                pthread_mutex_unlock(&t->lock);
                signal_main(t);
        }
}

static void *thread_main(void *arg) {
        struct disk_thread *t = arg;
        uint32_t n = t->reg->sb.slot_count;
        struct disk_round r;
        struct timespec next;
        bool ok = disk_round_init(&r, n) == 0;

        clock_gettime(CLOCK_MONOTONIC, &next);
        pthread_mutex_lock(&t->lock);
        while (!t->quit && ok) {
                struct disk_slot s = t->next;
                s.host_id = t->self_id;
                s.incarnation = t->incarnation;
                s.seq = ++t->seq;
                s.write_unix_ms = vmha_unix_ms();
                t->kick = false;
                pthread_mutex_unlock(&t->lock);

                uint64_t start = now_us();
                int e = disk_region_write_slot(t->reg, &s);
                uint64_t took = now_us() - start;
                r.write_ok = e == 0;
                r.write_done_ms = vmha_now_ms();
                r.written_seq = s.seq;
                r.written_flags = s.flags;
                r.written_state = s.state;
                if (e < 0)
                        r.write_error = e;

                /* Let the main loop feed on the completed write at once. */
                pthread_mutex_lock(&t->lock);
                t->latest.write_ok = r.write_ok;
                t->latest.write_done_ms = r.write_done_ms;
                t->latest.written_seq = r.written_seq;
                t->latest.written_flags = r.written_flags;
                t->latest.written_state = r.written_state;
                t->latest.write_error = r.write_error;
                disk_latency_observe(&t->latency[DISK_OP_SLOT_WRITE], took, !r.write_ok);
                pthread_cond_broadcast(&t->cond);
                pthread_mutex_unlock(&t->lock);
                /* Each completion reaches the main loop as it happens, a
                 * failure as well as a success: a host that lives by rule 4
                 * must not learn of a failed write a round late. */
                {
                        uint64_t one = 1;
                        if (write(t->efd, &one, sizeof(one)) < 0) {
                                /* the counter cannot overflow in practice */
                        }
                }

                /* With a request hung in the kernel, every later one would
                 * wait out its own deadline behind it, and the round would
                 * cost one deadline per I/O: skip the rest of the round, so
                 * that the next slot write comes one interval on. */
                bool hung = device_hung(t);
                if (hung) {
                        e = -ETIMEDOUT;
                } else {
                        start = now_us();
                        e = disk_region_read_slots(t->reg, r.slots, r.status);
                        note_since(t, DISK_OP_READ_ROUND, start, e);
                }
                r.read_ok = e == 0;
                r.read_done_ms = vmha_now_ms();
                if (e < 0)
                        r.read_error = e;
                hung = hung || device_hung(t);
                if (hung) {
                        e = -ETIMEDOUT;
                } else {
                        start = now_us();
                        e = disk_region_read_mailboxes(t->reg, r.mailboxes, r.mb_status);
                        note_since(t, DISK_OP_MAILBOX_READ, start, e);
                }
                if (e < 0)
                        for (uint32_t id = 0; id <= n; id++)
                                r.mb_status[id].error = e;
                r.mailbox_ok = e == 0 && r.mb_status[t->self_id].error == 0;
                if (r.mailbox_ok)
                        r.mailbox = r.mailboxes[t->self_id];

                /* Mailbox writes for other hosts (they wait for a round
                 * without a hung request). */
                for (uint32_t id = 1; id <= n && !(hung = hung || device_hung(t)); id++) {
                        struct disk_mailbox mb;
                        pthread_mutex_lock(&t->lock);
                        bool pending = t->outbox_pending[id];
                        mb = t->outbox[id];
                        t->outbox_pending[id] = false;
                        pthread_mutex_unlock(&t->lock);
                        if (!pending)
                                continue;
                        start = now_us();
                        e = disk_region_write_mailbox(t->reg, &mb);
                        note_since(t, DISK_OP_MAILBOX_WRITE, start, e);
                        if (e < 0) {
                                pthread_mutex_lock(&t->lock);
                                if (!t->outbox_pending[id]) {   /* retry next round */
                                        t->outbox[id] = mb;
                                        t->outbox_pending[id] = true;
                                }
                                pthread_mutex_unlock(&t->lock);
                        }
                }

                pthread_mutex_lock(&t->lock);
                void *cfg = hung || device_hung(t) ? NULL : t->config;
                uint32_t cfg_len = t->config_len;
                uint64_t cfg_gen = t->config_gen;
                if (cfg)
                        t->config = NULL;
                pthread_mutex_unlock(&t->lock);
                if (cfg) {
                        size_t stored;
                        start = now_us();
                        e = disk_region_write_snapshot(t->reg, cfg_gen, cfg, cfg_len, vmha_unix_ms(), &stored);
                        /* -ESTALE: the disk holds a newer one; -EFBIG: it does
                         * not fit. Neither is an I/O error. */
                        note_since(t, DISK_OP_CONFIG_WRITE, start, e == -ESTALE || e == -EFBIG ? 0 : e);
                        r.config_attempts++;
                        r.config_gen = cfg_gen;
                        r.config_error = e == -ESTALE ? 0 : e;
                        r.config_stored = stored;
                        r.config_raw = cfg_len;
                        if (e < 0 && e != -ESTALE && e != -EFBIG) {
                                /* Retry with the next round unless a newer one came;
                                 * one that does not fit never will. */
                                pthread_mutex_lock(&t->lock);
                                if (!t->config) {
                                        t->config = cfg;
                                        cfg = NULL;
                                }
                                pthread_mutex_unlock(&t->lock);
                        }
                        free(cfg);
                }

                pthread_mutex_lock(&t->lock);
                r.round = t->latest.round + 1;
                round_copy(&t->latest, &r, n);
                pthread_mutex_unlock(&t->lock);
                signal_main(t);
                serve_claims(t);

                pthread_mutex_lock(&t->lock);
                next.tv_nsec += (long)t->interval_ms * 1000000L;
                while (next.tv_nsec >= 1000000000L) {
                        next.tv_sec++;
                        next.tv_nsec -= 1000000000L;
                }
                /* After a long stall, do not run a burst of catch-up rounds. */
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > next.tv_sec + 1)
                        next = now;
                while (!t->quit && !t->kick) {
                        if (t->claims_kick) {
                                /* Claims are served at once, between rounds. */
                                t->claims_kick = false;
                                pthread_mutex_unlock(&t->lock);
                                serve_claims(t);
                                pthread_mutex_lock(&t->lock);
                                continue;
                        }
                        if (pthread_cond_timedwait(&t->cond, &t->lock, &next) == ETIMEDOUT)
                                break;
                }
        }
        pthread_mutex_unlock(&t->lock);
        disk_round_free(&r);
        return NULL;
}

int disk_thread_start(struct disk_region *region, uint32_t self_id, uint32_t interval_ms,
                      const struct disk_slot *initial, struct disk_thread **ret) {
        pthread_condattr_t ca;
        struct disk_thread *t;
        uint32_t n = region->sb.slot_count;
        int r;

        if (self_id < 1 || self_id > n)
                return -ERANGE;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->reg = region;
        t->self_id = self_id;
        t->interval_ms = interval_ms;
        t->next = *initial;
        if (getrandom(&t->incarnation, sizeof(t->incarnation), 0) != sizeof(t->incarnation))
                t->incarnation = (uint64_t)vmha_now_ms() ^ ((uint64_t)getpid() << 32);
        t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        t->cr_blocks = calloc((size_t)n * region->sb.claim_blocks, sizeof(*t->cr_blocks));
        t->cr_status = calloc((size_t)n * region->sb.claim_blocks, sizeof(*t->cr_status));
        if (disk_round_init(&t->latest, n) < 0 || t->efd < 0 || !t->cr_blocks || !t->cr_status) {
                r = -ENOMEM;
                goto fail;
        }
        pthread_mutex_init(&t->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t->cond, &ca);
        pthread_condattr_destroy(&ca);
        r = -pthread_create(&t->thread, NULL, thread_main, t);
        if (r < 0)
                goto fail;
        *ret = t;
        return 0;
fail:
        if (t->efd >= 0)
                close(t->efd);
        disk_round_free(&t->latest);
        free(t->cr_blocks);
        free(t->cr_status);
        free(t);
        return r;
}

void disk_thread_stop(struct disk_thread *t) {
        if (!t)
                return;
        pthread_mutex_lock(&t->lock);
        t->quit = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
        disk_region_free(t->reg);
        free(t->config);
        free(t->cw_next);
        free(t->cr_blocks);
        free(t->cr_status);
        for (size_t i = 0; i < t->n_events; i++)
                free(t->events[i].claims);
        close(t->efd);
        disk_round_free(&t->latest);
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->cond);
        free(t);
}

int disk_thread_fd(const struct disk_thread *t) {
        return t->efd;
}

void disk_thread_take(struct disk_thread *t, struct disk_round *out) {
        uint64_t v;
        while (read(t->efd, &v, sizeof(v)) == sizeof(v))
                ;
        pthread_mutex_lock(&t->lock);
        round_copy(out, &t->latest, t->reg->sb.slot_count);
        pthread_mutex_unlock(&t->lock);
}

void disk_thread_set_slot(struct disk_thread *t, const struct disk_slot *s) {
        pthread_mutex_lock(&t->lock);
        t->next = *s;
        pthread_mutex_unlock(&t->lock);
}

int disk_thread_set_config(struct disk_thread *t, uint64_t generation, const void *payload, uint32_t len) {
        void *copy = malloc(len ? len : 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, payload, len);
        pthread_mutex_lock(&t->lock);
        free(t->config);
        t->config = copy;
        t->config_len = len;
        t->config_gen = generation;
        pthread_mutex_unlock(&t->lock);
        return 0;
}

int disk_thread_send_mailbox(struct disk_thread *t, const struct disk_mailbox *mb) {
        if (mb->host_id < 1 || mb->host_id > t->reg->sb.slot_count)
                return -EINVAL;
        pthread_mutex_lock(&t->lock);
        t->outbox[mb->host_id] = *mb;
        t->outbox_pending[mb->host_id] = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        return 0;
}

void disk_thread_kick(struct disk_thread *t) {
        pthread_mutex_lock(&t->lock);
        t->kick = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
}

const struct disk_super *disk_thread_super(const struct disk_thread *t) {
        return &t->reg->sb;
}

uint64_t disk_thread_incarnation(const struct disk_thread *t) {
        return t->incarnation;
}

struct disk_region *disk_thread_region(struct disk_thread *t) {
        return t->reg;
}

void disk_thread_latency(struct disk_thread *t, struct disk_latency out[_DISK_OP_MAX]) {
        pthread_mutex_lock(&t->lock);
        memcpy(out, t->latency, sizeof(t->latency));
        pthread_mutex_unlock(&t->lock);
}

int disk_thread_write_claims(struct disk_thread *t, const struct disk_claim *claims, size_t n) {
        struct disk_claim *copy;

        if (n > (size_t)t->reg->sb.claim_blocks * DISK_CLAIMS_PER_BLOCK)
                return -E2BIG;
        copy = malloc((n ? n : 1) * sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, claims, n * sizeof(*copy));
        pthread_mutex_lock(&t->lock);
        free(t->cw_next);
        t->cw_next = copy;
        t->cw_n = n;
        t->claims_kick = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        return 0;
}

void disk_thread_read_claims(struct disk_thread *t) {
        pthread_mutex_lock(&t->lock);
        t->cr_pending = true;
        t->claims_kick = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
}

bool disk_thread_take_claims(struct disk_thread *t, struct disk_claims_event *out) {
        bool got = false;

        pthread_mutex_lock(&t->lock);
        if (t->n_events) {
                *out = t->events[0];
                memmove(t->events, t->events + 1, (t->n_events - 1) * sizeof(t->events[0]));
                t->n_events--;
                got = true;
        }
        pthread_mutex_unlock(&t->lock);
        return got;
}
