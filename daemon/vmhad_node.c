/* Feeding events to the node engine and carrying out its actions.
 *
 * The engine's queue is valid only until its next call, and carrying out
 * an action may produce a new event (the watchdog's answer): such events
 * wait until the whole queue has been carried out.
 */
#include "daemon/vmhad.h"

#include "daemon/cluster.h"
#include "fence/watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qblog.h>

struct vmhad *vmhad_daemon;

const char *vmhad_host_name(const struct vmhad *d, uint32_t id, char buf[NODE_NAME_MAX]) {
        const char *n = d->cl ? cluster_node_name(d->cl, id) : NULL;
        if (n && *n)
                return n;
        if (d->node)
                return node_host_name(d->node, id, buf);
        snprintf(buf, NODE_NAME_MAX, "host %u", id);
        return buf;
}

bool vmhad_in_emergency(const struct vmhad *d) {
        if (d->node)
                return node_in_emergency(d->node);
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++)
                if (d->early[c])
                        return true;
        return false;
}

/* The banner goes to the journal (and to the console under systemd)
 * whenever a cause starts, with the next step; once per start. */
static void announce(struct vmhad *d, enum emergency_cause c, bool on, const char *detail) {
        if (on == d->announced[c])
                return;
        d->announced[c] = on;
        if (!on) {
                qb_log(LOG_NOTICE, "emergency cause %s is gone%s", emergency_cause_name(c),
                       vmhad_in_emergency(d) ? "" : ": leaving emergency mode");
                return;
        }
        qb_log(LOG_CRIT, "*** EMERGENCY MODE: %s%s%s. %s This host starts no protected VM and holds "
                         "no HA ownership until it is fixed; 'haadm emergency' shows every cause. ***",
               emergency_cause_name(c), detail && *detail ? ": " : "", detail ? detail : "", emergency_cause_help(c));
        if (getenv("INVOCATION_ID")) {
                FILE *con = fopen("/dev/console", "we");
                if (con) {
                        fprintf(con, "\nvmhad: EMERGENCY MODE: %s: %s\n%s\n\n", emergency_cause_name(c),
                                detail ? detail : "", emergency_cause_help(c));
                        fclose(con);
                }
        }
}

/* A cause the shell detects. Before the engine exists the shell keeps it;
 * afterwards the engine does, and says so with NODE_ACT_EMERGENCY. */
void vmhad_emergency(struct vmhad *d, enum emergency_cause c, bool on, const char *detail) {
        if (!d->node) {
                d->early[c] = on;
                snprintf(d->early_detail[c], sizeof(d->early_detail[c]), "%s", on && detail ? detail : "");
                announce(d, c, on, detail);
                return;
        }
        struct node_event ev = { .type = NODE_EV_EMERGENCY };
        ev.u.emergency.cause = c;
        ev.u.emergency.on = on;
        snprintf(ev.u.emergency.detail, sizeof(ev.u.emergency.detail), "%s", on && detail ? detail : "");
        vmhad_dispatch(d, &ev);
}

static void send_message(struct vmhad *d, const struct node_action *a) {
        int r;

        if (!d->cl_up)
                return;
        r = cluster_send(d->cl, a->data, a->len);
        if (r < 0)
                qb_log(LOG_DEBUG, "CPG send of %zu bytes failed: %d", a->len, r);
}

/* The engine reads no wall clock: when this host fenced is stamped here. */
static void write_slot(struct vmhad *d, const struct disk_slot *slot) {
        struct disk_slot s = *slot;

        if (d->fence_done)
                return;
        if (s.state == DISK_SLOT_FENCING && !s.fence_unix_ms)
                s.fence_unix_ms = vmha_unix_ms();
        disk_thread_set_slot(d->disk, &s);
}

static void write_mailbox(struct vmhad *d, const struct node_action *a) {
        struct disk_mailbox mb = a->mailbox;

        mb.sent_unix_ms = vmha_unix_ms();
        if (disk_thread_send_mailbox(d->disk, &mb) < 0)
                qb_log(LOG_ERR, "cannot queue the mailbox write to host %u", mb.host_id);
}

void vmhad_carry_out(struct vmhad *d) {
        size_t n;
        const struct node_action *acts = node_actions(d->node, &n);
        bool arm = false;

        for (size_t i = 0; i < n; i++) {
                const struct node_action *a = &acts[i];

                switch (a->type) {
                case NODE_ACT_LOG:
                        qb_log(a->level, "%s", a->text);
                        break;
                case NODE_ACT_WRITE_SLOT:
                        write_slot(d, &a->slot);
                        break;
                case NODE_ACT_ARM_WATCHDOG:
                        arm = true;
                        break;
                case NODE_ACT_FEED:
                        vmhad_feed(d, a->deadline_ms);
                        break;
                case NODE_ACT_FENCE:
                        vmhad_fence_start(d, a->text, a->deadline_ms);
                        break;
                case NODE_ACT_SEND:
                        send_message(d, a);
                        break;
                case NODE_ACT_WRITE_MAILBOX:
                        write_mailbox(d, a);
                        break;
                case NODE_ACT_WRITE_CONFIG:
                        if (disk_thread_set_config(d->disk, a->generation, a->data, (uint32_t)a->len) < 0)
                                qb_log(LOG_ERR, "cannot queue the HA state snapshot for the disk");
                        break;
                case NODE_ACT_CHANGE_DONE:
                        vmhad_ctl_change_done(d, a->seq, a->result, a->text);
                        break;
                case NODE_ACT_EMERGENCY:
                        announce(d, a->cause, a->on, a->text);
                        break;
                case NODE_ACT_WRITE_CLAIMS:
                case NODE_ACT_READ_CLAIMS:
                case NODE_ACT_START_VM:
                case NODE_ACT_STOP_VM:
                case NODE_ACT_TAKEOVER:
                        /* Only a shell with a VM driver is asked for these
                         * (node_config.vms). */
                        vmhad_vm_carry_out(d, a);
                        break;
                }
        }
        if (arm)
                vmhad_arm_watchdog(d);         /* answers with NODE_EV_WATCHDOG */
        vmhad_vm_after_actions(d);
}

void vmhad_dispatch(struct vmhad *d, const struct node_event *ev) {
        node_handle(d->node, ev, vmha_now_ms());
        vmhad_carry_out(d);
}
