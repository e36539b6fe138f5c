/* The replicated HA state machine and its snapshot/wire codecs, pure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hastate.h"
#include "core/text.h"

#define SNAP_MAGIC   0x53484d56u        /* "VMHS" */
#define MSG_MAGIC    0x4d484d56u        /* "VMHM" */
#define CODEC_VERSION 2u        /* 2: a VM record's priority byte carries its requested state */
#define VM_STARTED_BIT 0x80u    /* in that byte, from version 2 */

static int fail(struct hastate_error *err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct hastate_error *err, int r, const char *fmt, ...) {
        va_list ap;

        if (err) {
                va_start(ap, fmt);
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return r;
}

struct hastate *hastate_new(void) {
        return calloc(1, sizeof(struct hastate));
}

void hastate_free(struct hastate *s) {
        if (!s)
                return;
        free(s->vms);
        free(s);
}

const char *hastate_priority_name(enum hastate_priority p) {
        switch (p) {
        case HASTATE_PRIORITY_NONE:        return "none";
        case HASTATE_PRIORITY_RESTART:     return "restart";
        case HASTATE_PRIORITY_BEST_EFFORT: return "best-effort";
        default:                           return "?";
        }
}

int hastate_priority_parse(const char *s, enum hastate_priority *p) {
        for (int i = 0; i < _HASTATE_PRIORITY_MAX; i++)
                if (strcmp(s, hastate_priority_name((enum hastate_priority)i)) == 0) {
                        *p = (enum hastate_priority)i;
                        return 0;
                }
        return -EINVAL;
}

const struct hastate_vm *hastate_vm_find(const struct hastate *s, uint64_t vm_id) {
        for (size_t i = 0; i < s->n_vms; i++)
                if (s->vms[i].id == vm_id)
                        return &s->vms[i];
        return NULL;
}

static struct hastate_vm *vm_find_mut(struct hastate *s, uint64_t vm_id) {
        return (struct hastate_vm *)hastate_vm_find(s, vm_id);
}

/* Restart order: priority restart first, then best-effort; then order; then id. */
static bool restarts_before(const struct hastate_vm *a, const struct hastate_vm *b) {
        if (a->priority != b->priority)
                return a->priority == HASTATE_PRIORITY_RESTART;
        if (a->order != b->order)
                return a->order < b->order;
        return a->id < b->id;
}

void hastate_restart_list(const struct hastate *s, struct takeover_vm *out, size_t max, size_t *n) {
        const struct hastate_vm *prev = NULL;

        /* Selection by repeated minimum: the list is short and this stays
         * allocation-free. */
        *n = 0;
        while (*n < max) {
                const struct hastate_vm *best = NULL;

                for (size_t i = 0; i < s->n_vms; i++) {
                        const struct hastate_vm *v = &s->vms[i];

                        if (v->priority == HASTATE_PRIORITY_NONE || !v->started ||
                            (prev && !restarts_before(prev, v)))
                                continue;
                        if (!best || restarts_before(v, best))
                                best = v;
                }
                if (!best)
                        break;
                out[(*n)++] = (struct takeover_vm){ .vm_id = best->id, .replicated_owner = best->owner };
                prev = best;
        }
}

static bool valid_host_id(uint32_t id) {
        return id >= 1 && id <= CORE_MAX_HOST_ID;
}


/* A config: NUL-terminated within its array, non-empty, and printable
 * UTF-8 (no control character, nothing malformed), as a control request's
 * JSON string brings it. It is shown in status output and logs. */
static bool valid_text(const char *s, size_t cap) {
        const unsigned char *u = (const unsigned char *)s;
        size_t n = strnlen(s, cap);

        if (n == 0 || n == cap)
                return false;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t k = core_utf8_len(u + i, n - i, &cp);

                /* No C0 or C1 control, no DEL: terminals obey them. */
                if (k == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                        return false;
                i += k;
        }
        return true;
}

/* A VM name, by the one rule (core/text.h) that control requests hold
 * names to: a change or a snapshot from another host, or the disk's copy,
 * must not bring in a name that no command could name. */
static bool valid_name(const char *s, size_t cap) {
        return core_name_valid(s, strnlen(s, cap), cap);
}

/* Everything about a VM record except uniqueness. */
static int vm_validate(const struct hastate_vm *vm, struct hastate_error *err) {
        if (vm->id == 0)
                return fail(err, -EINVAL, "vm id 0 is reserved");
        if (!valid_name(vm->name, sizeof(vm->name)))
                return fail(err, -EINVAL, "vm %llu: invalid name (1-63 letters, digits, '.', '_' or '-', "
                            "not starting with '-')", (unsigned long long)vm->id);
        if ((unsigned)vm->priority >= _HASTATE_PRIORITY_MAX)
                return fail(err, -EINVAL, "vm %s: unknown priority %d", vm->name, (int)vm->priority);
        if (vm->order < -HASTATE_ORDER_LIMIT || vm->order > HASTATE_ORDER_LIMIT)
                return fail(err, -EINVAL, "vm %s: order %d out of range", vm->name, vm->order);
        if (vm->start_delay_ms > HASTATE_MAX_START_DELAY_MS)
                return fail(err, -EINVAL, "vm %s: start delay %u ms exceeds one hour", vm->name,
                            vm->start_delay_ms);
        if (vm->memory_mib == 0 || vm->memory_mib > HASTATE_MAX_MEMORY_MIB)
                return fail(err, -EINVAL, "vm %s: memory %llu MiB out of range", vm->name,
                            (unsigned long long)vm->memory_mib);
        if (!valid_text(vm->config, sizeof(vm->config)))
                return fail(err, -EINVAL, "vm %s: config empty, too long or not printable UTF-8", vm->name);
        if (vm->owner != 0 && !valid_host_id(vm->owner))
                return fail(err, -EINVAL, "vm %s: owner %u is not a host id", vm->name, vm->owner);
        return 0;
}

static int vm_check_unique(const struct hastate *s, const struct hastate_vm *vm, struct hastate_error *err) {
        for (size_t i = 0; i < s->n_vms; i++)
                if (s->vms[i].id != vm->id && strcmp(s->vms[i].name, vm->name) == 0)
                        return fail(err, -EINVAL, "vm name %s already used by vm %llu", vm->name,
                                    (unsigned long long)s->vms[i].id);
        return 0;
}

static int apply_protect(struct hastate *s, const struct hastate_vm *vm, struct hastate_error *err) {
        struct hastate_vm *old;
        int r;

        r = vm_validate(vm, err);
        if (r < 0)
                return r;
        r = vm_check_unique(s, vm, err);
        if (r < 0)
                return r;
        old = vm_find_mut(s, vm->id);
        if (old) {
                uint32_t owner = old->owner;

                bool started = old->started;

                *old = *vm;
                old->owner = owner;
                old->started = started;
                return 0;
        }
        if (s->n_vms >= HASTATE_MAX_VMS)
                return fail(err, -EINVAL, "vm %s: already %u protected VMs", vm->name, HASTATE_MAX_VMS);
        if (s->n_vms == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                struct hastate_vm *v = realloc(s->vms, cap * sizeof(*v));

                if (!v)
                        return fail(err, -ENOMEM, "out of memory");
                s->vms = v;
                s->cap = cap;
        }
        s->vms[s->n_vms++] = *vm;
        return 0;
}

int hastate_apply(struct hastate *s, const struct hastate_msg *m, struct hastate_error *err) {
        struct hastate_vm *vm;
        int r = 0;

        if (!valid_host_id(m->sender))
                return fail(err, -EINVAL, "sender %u is not a host id", m->sender);

        switch (m->type) {
        case HASTATE_MSG_POOL_SETTINGS:
                if (m->u.pool.ftt_target > HASTATE_MAX_FTT)
                        return fail(err, -EINVAL, "failures-to-tolerate target %u out of range",
                                    m->u.pool.ftt_target);
                s->pool = m->u.pool;
                break;
        case HASTATE_MSG_VM_PROTECT:
                r = apply_protect(s, &m->u.vm, err);
                break;
        case HASTATE_MSG_VM_UNPROTECT:
                vm = vm_find_mut(s, m->u.unprotect.vm_id);
                if (!vm)
                        return fail(err, -EINVAL, "unprotect: no vm %llu",
                                    (unsigned long long)m->u.unprotect.vm_id);
                *vm = s->vms[--s->n_vms];
                break;
        case HASTATE_MSG_VM_OWNER:
                vm = vm_find_mut(s, m->u.owner.vm_id);
                if (!vm)
                        return fail(err, -EINVAL, "owner: no vm %llu", (unsigned long long)m->u.owner.vm_id);
                if (m->u.owner.owner != 0 && !valid_host_id(m->u.owner.owner))
                        return fail(err, -EINVAL, "owner: %u is not a host id", m->u.owner.owner);
                vm->owner = m->u.owner.owner;
                break;
        case HASTATE_MSG_VM_REQUEST:
                vm = vm_find_mut(s, m->u.request.vm_id);
                if (!vm)
                        return fail(err, -EINVAL, "request: no vm %llu", (unsigned long long)m->u.request.vm_id);
                vm->started = m->u.request.started;
                break;
        case HASTATE_MSG_HOST_MAINTENANCE:
                if (!valid_host_id(m->u.maintenance.host_id))
                        return fail(err, -EINVAL, "maintenance: %u is not a host id", m->u.maintenance.host_id);
                if (m->u.maintenance.on)
                        core_view_add(&s->maintenance, m->u.maintenance.host_id);
                else
                        core_view_del(&s->maintenance, m->u.maintenance.host_id);
                break;
        default:
                return fail(err, -EINVAL, "unknown message type %d", (int)m->type);
        }
        if (r < 0)
                return r;
        s->generation++;
        return 0;
}

/* ---- little-endian codec helpers ---- */

struct wbuf {
        uint8_t *p;
        size_t len, used;       /* used may exceed len: then it is the size needed */
};

static void put(struct wbuf *w, const void *src, size_t n) {
        if (w->used + n <= w->len)
                memcpy(w->p + w->used, src, n);
        w->used += n;
}
static void put_le(struct wbuf *w, uint64_t v, size_t n) {
        uint8_t b[8];

        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)(v >> (8 * i));
        put(w, b, n);
}

struct rbuf {
        const uint8_t *p;
        size_t len, off;
        bool bad;
};

static uint64_t get_le(struct rbuf *r, size_t n) {
        uint64_t v = 0;

        if (r->bad || r->len - r->off < n) {
                r->bad = true;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t)r->p[r->off + i] << (8 * i);
        r->off += n;
        return v;
}
static void get_bytes(struct rbuf *r, void *dst, size_t n) {
        if (r->bad || r->len - r->off < n) {
                r->bad = true;
                return;
        }
        memcpy(dst, r->p + r->off, n);
        r->off += n;
}

/* zlib's CRC-32, the same checksum as the disk format's. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
        return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void put_vm(struct wbuf *w, const struct hastate_vm *vm) {
        size_t nl = strnlen(vm->name, sizeof(vm->name) - 1);
        size_t cl = strnlen(vm->config, sizeof(vm->config) - 1);

        put_le(w, vm->id, 8);
        put_le(w, (uint64_t)vm->priority | (vm->started ? VM_STARTED_BIT : 0u), 1);
        put_le(w, (uint32_t)vm->order, 4);
        put_le(w, vm->start_delay_ms, 4);
        put_le(w, vm->memory_mib, 8);
        put_le(w, vm->owner, 4);
        put_le(w, nl, 2);
        put_le(w, cl, 2);
        put(w, vm->name, nl);
        put(w, vm->config, cl);
}

/* Reads a VM record of codec version `version`; field ranges are checked
 * by vm_validate() after. Version 1 had no requested state: its VMs all
 * ran, so they read as started. */
static int get_vm(struct rbuf *r, unsigned version, struct hastate_vm *vm, struct hastate_error *err) {
        size_t nl, cl;

        memset(vm, 0, sizeof(*vm));
        vm->id = get_le(r, 8);
        {
                uint64_t b = get_le(r, 1);
                /* The priority is checked by vm_validate(); the bit is
                 * taken off first only where it means something. */
                vm->started = version >= 2 ? (b & VM_STARTED_BIT) != 0 : true;
                if (version >= 2)
                        b &= ~(uint64_t)VM_STARTED_BIT;
                vm->priority = (enum hastate_priority)b;
        }
        vm->order = (int32_t)(uint32_t)get_le(r, 4);
        vm->start_delay_ms = (uint32_t)get_le(r, 4);
        vm->memory_mib = get_le(r, 8);
        vm->owner = (uint32_t)get_le(r, 4);
        nl = (size_t)get_le(r, 2);
        cl = (size_t)get_le(r, 2);
        if (r->bad)
                return fail(err, -EBADMSG, "truncated vm record");
        if (nl >= sizeof(vm->name) || cl >= sizeof(vm->config))
                return fail(err, -EBADMSG, "vm %llu: name or config length out of range",
                            (unsigned long long)vm->id);
        get_bytes(r, vm->name, nl);
        get_bytes(r, vm->config, cl);
        if (r->bad)
                return fail(err, -EBADMSG, "truncated vm record");
        /* A NUL inside would hide the bytes after it: the record would
         * decode like a shorter one and not encode back to itself. */
        if (strlen(vm->name) != nl || strlen(vm->config) != cl)
                return fail(err, -EBADMSG, "vm %llu: NUL byte inside the name or config",
                            (unsigned long long)vm->id);
        if (vm_validate(vm, err) < 0)
                return -EBADMSG;
        return 0;
}

/* ---- snapshot ---- */

/* The fixed part of a snapshot (magic to VM count, and the CRC), and of a
 * VM record before its name and config. put_snapshot() and put_vm() write
 * exactly these. */
#define SNAP_FIXED_LEN  (4 + 2 + 2 + 8 + 4 + 4 + sizeof(((struct core_view *)0)->bits) + 4 + 4)
#define SNAP_VM_FIXED_LEN (8 + 1 + 4 + 4 + 8 + 4 + 2 + 2)

size_t hastate_snapshot_max_len(size_t n_vms) {
        return SNAP_FIXED_LEN + n_vms * (SNAP_VM_FIXED_LEN + (HASTATE_NAME_MAX - 1) + (HASTATE_CONFIG_MAX - 1));
}

static void put_snapshot(struct wbuf *w, const struct hastate *s) {
        put_le(w, SNAP_MAGIC, 4);
        put_le(w, CODEC_VERSION, 2);
        put_le(w, 0, 2);
        put_le(w, s->generation, 8);
        put_le(w, (s->pool.ha_enabled ? 1u : 0u) | (s->pool.allow_overcommit ? 2u : 0u), 4);
        put_le(w, s->pool.ftt_target, 4);
        put(w, s->maintenance.bits, sizeof(s->maintenance.bits));
        put_le(w, s->n_vms, 4);
        for (size_t i = 0; i < s->n_vms; i++)
                put_vm(w, &s->vms[i]);
}

size_t hastate_snapshot_len(const struct hastate *s) {
        struct wbuf w = { NULL, 0, 0 };

        put_snapshot(&w, s);            /* measures only */
        return w.used + 4;
}

int hastate_snapshot_encode(const struct hastate *s, uint8_t **buf, size_t *len) {
        struct wbuf w = { NULL, 0, 0 };
        uint8_t *p;

        put_snapshot(&w, s);            /* measure */
        p = malloc(w.used + 4);
        if (!p)
                return -ENOMEM;
        w = (struct wbuf){ p, w.used + 4, 0 };
        put_snapshot(&w, s);
        put_le(&w, crc32_ieee(p, w.used), 4);
        *buf = p;
        *len = w.used;
        return 0;
}

struct hastate *hastate_dup(const struct hastate *s) {
        struct hastate *d = hastate_new();

        if (!d)
                return NULL;
        *d = *s;
        d->vms = NULL;
        d->cap = s->n_vms;
        if (s->n_vms) {
                d->vms = malloc(s->n_vms * sizeof(*d->vms));
                if (!d->vms) {
                        free(d);
                        return NULL;
                }
                memcpy(d->vms, s->vms, s->n_vms * sizeof(*d->vms));
        }
        return d;
}

int hastate_snapshot_decode(const void *buf, size_t len, struct hastate **out, struct hastate_error *err) {
        struct rbuf r = { buf, len, 0, false };
        struct hastate *s = NULL;
        uint32_t flags, n;
        unsigned version;
        int ret;

        *out = NULL;
        if (len < 4 + 60)
                return fail(err, -EBADMSG, "snapshot: %zu bytes is too short", len);
        if (crc32_ieee(buf, len - 4) != (uint32_t)(((const uint8_t *)buf)[len - 4] |
                                                   ((const uint8_t *)buf)[len - 3] << 8 |
                                                   ((const uint8_t *)buf)[len - 2] << 16 |
                                                   (uint32_t)((const uint8_t *)buf)[len - 1] << 24))
                return fail(err, -EBADMSG, "snapshot: checksum mismatch");
        r.len = len - 4;
        if (get_le(&r, 4) != SNAP_MAGIC)
                return fail(err, -EBADMSG, "snapshot: bad magic");
        version = (unsigned)get_le(&r, 2);
        /* An older snapshot is read as it was written: a pool upgraded
         * keeps its configuration. A newer one is not guessed at. */
        if (version < 1 || version > CODEC_VERSION)
                return fail(err, -EBADMSG, "snapshot: version %u, this vmha reads 1 to %u", version,
                            CODEC_VERSION);
        if (get_le(&r, 2) != 0)         /* reserved: a snapshot decodes whole or not at all */
                return fail(err, -EBADMSG, "snapshot: reserved field is not zero");

        s = hastate_new();
        if (!s)
                return -ENOMEM;
        s->generation = get_le(&r, 8);
        flags = (uint32_t)get_le(&r, 4);
        s->pool.ftt_target = (uint32_t)get_le(&r, 4);
        get_bytes(&r, s->maintenance.bits, sizeof(s->maintenance.bits));
        n = (uint32_t)get_le(&r, 4);
        if (flags & ~3u) {
                ret = fail(err, -EBADMSG, "snapshot: unknown pool flags 0x%x", flags);
                goto out;
        }
        s->pool.ha_enabled = flags & 1u;
        s->pool.allow_overcommit = flags & 2u;
        if (s->pool.ftt_target > HASTATE_MAX_FTT) {
                ret = fail(err, -EBADMSG, "snapshot: failures-to-tolerate target %u out of range",
                           s->pool.ftt_target);
                goto out;
        }
        if (s->maintenance.bits[0] & 1u) {
                ret = fail(err, -EBADMSG, "snapshot: host id 0 in maintenance");
                goto out;
        }
        if (n > HASTATE_MAX_VMS) {
                ret = fail(err, -EBADMSG, "snapshot: %u VMs exceeds %u", n, HASTATE_MAX_VMS);
                goto out;
        }
        for (uint32_t i = 0; i < n; i++) {
                struct hastate_vm vm;

                ret = get_vm(&r, version, &vm, err);
                if (ret < 0)
                        goto out;
                if (hastate_vm_find(s, vm.id)) {
                        ret = fail(err, -EBADMSG, "snapshot: vm %llu appears twice", (unsigned long long)vm.id);
                        goto out;
                }
                if (vm_check_unique(s, &vm, err) < 0) {
                        ret = -EBADMSG;
                        goto out;
                }
                ret = apply_protect(s, &vm, err);
                if (ret < 0)
                        goto out;
        }
        if (r.bad || r.off != r.len) {
                ret = fail(err, -EBADMSG, "snapshot: %s", r.bad ? "truncated" : "trailing bytes");
                goto out;
        }
        *out = s;
        s = NULL;
        ret = 0;
out:
        hastate_free(s);
        return ret;
}

/* ---- messages ---- */

int hastate_msg_encode(const struct hastate_msg *m, uint8_t *buf, size_t len, size_t *used) {
        struct wbuf w = { buf, len, 0 };

        put_le(&w, MSG_MAGIC, 4);
        put_le(&w, CODEC_VERSION, 2);
        put_le(&w, (uint64_t)m->type, 2);
        put_le(&w, m->sender, 4);
        switch (m->type) {
        case HASTATE_MSG_POOL_SETTINGS:
                put_le(&w, (m->u.pool.ha_enabled ? 1u : 0u) | (m->u.pool.allow_overcommit ? 2u : 0u), 4);
                put_le(&w, m->u.pool.ftt_target, 4);
                break;
        case HASTATE_MSG_VM_PROTECT:
                put_vm(&w, &m->u.vm);
                break;
        case HASTATE_MSG_VM_UNPROTECT:
                put_le(&w, m->u.unprotect.vm_id, 8);
                break;
        case HASTATE_MSG_VM_OWNER:
                put_le(&w, m->u.owner.vm_id, 8);
                put_le(&w, m->u.owner.owner, 4);
                break;
        case HASTATE_MSG_HOST_MAINTENANCE:
                put_le(&w, m->u.maintenance.host_id, 4);
                put_le(&w, m->u.maintenance.on ? 1 : 0, 1);
                break;
        case HASTATE_MSG_VM_REQUEST:
                put_le(&w, m->u.request.vm_id, 8);
                put_le(&w, m->u.request.started ? 1 : 0, 1);
                break;
        default:
                return -EINVAL;
        }
        *used = w.used;
        return w.used <= len ? 0 : -ENOSPC;
}

int hastate_msg_decode(const void *buf, size_t len, struct hastate_msg *m, struct hastate_error *err) {
        struct rbuf r = { buf, len, 0, false };
        uint32_t flags, type;
        uint64_t on;

        memset(m, 0, sizeof(*m));
        if (get_le(&r, 4) != MSG_MAGIC || r.bad)
                return fail(err, -EBADMSG, "message: bad magic");
        if (get_le(&r, 2) != CODEC_VERSION)
                return fail(err, -EBADMSG, "message: unsupported version");
        type = (uint32_t)get_le(&r, 2);
        m->sender = (uint32_t)get_le(&r, 4);
        m->type = (enum hastate_msg_type)type;
        switch (type) {
        case HASTATE_MSG_POOL_SETTINGS:
                flags = (uint32_t)get_le(&r, 4);
                m->u.pool.ftt_target = (uint32_t)get_le(&r, 4);
                if (flags & ~3u)
                        return fail(err, -EBADMSG, "message: unknown pool flags 0x%x", flags);
                m->u.pool.ha_enabled = flags & 1u;
                m->u.pool.allow_overcommit = flags & 2u;
                break;
        case HASTATE_MSG_VM_PROTECT:
                if (get_vm(&r, CODEC_VERSION, &m->u.vm, err) < 0)
                        return -EBADMSG;
                break;
        case HASTATE_MSG_VM_UNPROTECT:
                m->u.unprotect.vm_id = get_le(&r, 8);
                break;
        case HASTATE_MSG_VM_OWNER:
                m->u.owner.vm_id = get_le(&r, 8);
                m->u.owner.owner = (uint32_t)get_le(&r, 4);
                break;
        case HASTATE_MSG_HOST_MAINTENANCE:
                m->u.maintenance.host_id = (uint32_t)get_le(&r, 4);
                on = get_le(&r, 1);
                if (on > 1)
                        return fail(err, -EBADMSG, "message: maintenance flag %llu", (unsigned long long)on);
                m->u.maintenance.on = on;
                break;
        case HASTATE_MSG_VM_REQUEST:
                m->u.request.vm_id = get_le(&r, 8);
                on = get_le(&r, 1);
                if (on > 1)
                        return fail(err, -EBADMSG, "message: requested state %llu", (unsigned long long)on);
                m->u.request.started = on;
                break;
        default:
                return fail(err, -EBADMSG, "message: unknown type %u", type);
        }
        if (r.bad)
                return fail(err, -EBADMSG, "message: truncated");
        if (r.off != r.len)
                return fail(err, -EBADMSG, "message: %zu trailing bytes", r.len - r.off);
        return 0;
}
