/* ICMP echo to the tiebreak target over a raw socket. */
#include "daemon/tiebreak.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct tiebreak {
        qb_loop_t *loop;
        int fd;
        int family;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        uint16_t ident, seq;
        bool replied;
        uint64_t last_reply_ms;
};

static uint64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t inet_checksum(const void *data, size_t len) {
        const uint8_t *p = data;
        uint32_t sum = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                sum += (uint32_t)p[len - 1] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t)~sum);
}

static int32_t on_reply(int32_t fd, int32_t revents, void *data) {
        struct tiebreak *t = data;
        uint8_t buf[512];
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n;

        (void)revents;
        while ((n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen)) > 0) {
                if (t->family == AF_INET) {
                        struct ip *ip = (struct ip *)buf;
                        size_t hl = (size_t)ip->ip_hl * 4;
                        struct icmp *ic = (struct icmp *)(buf + hl);
                        if ((size_t)n >= hl + 8 && ic->icmp_type == ICMP_ECHOREPLY && ntohs(ic->icmp_id) == t->ident &&
                            ((struct sockaddr_in *)&from)->sin_addr.s_addr ==
                                    ((struct sockaddr_in *)&t->addr)->sin_addr.s_addr) {
                                t->replied = true;
                                t->last_reply_ms = mono_ms();
                        }
                } else {
                        struct icmp6_hdr *ic = (struct icmp6_hdr *)buf;
                        if ((size_t)n >= 8 && ic->icmp6_type == ICMP6_ECHO_REPLY && ntohs(ic->icmp6_id) == t->ident &&
                            memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr,
                                   &((struct sockaddr_in6 *)&t->addr)->sin6_addr, 16) == 0) {
                                t->replied = true;
                                t->last_reply_ms = mono_ms();
                        }
                }
                flen = sizeof(from);
        }
        return 0;
}

int tiebreak_new(qb_loop_t *loop, const char *target, struct tiebreak **ret) {
        struct tiebreak *t = calloc(1, sizeof(*t));
        int r;

        if (!t)
                return -ENOMEM;
        t->loop = loop;
        t->ident = (uint16_t)(getpid() & 0xffff);
        if (inet_pton(AF_INET, target, &((struct sockaddr_in *)&t->addr)->sin_addr) == 1) {
                t->family = AF_INET;
                ((struct sockaddr_in *)&t->addr)->sin_family = AF_INET;
                t->addr_len = sizeof(struct sockaddr_in);
                t->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
        } else if (inet_pton(AF_INET6, target, &((struct sockaddr_in6 *)&t->addr)->sin6_addr) == 1) {
                t->family = AF_INET6;
                ((struct sockaddr_in6 *)&t->addr)->sin6_family = AF_INET6;
                t->addr_len = sizeof(struct sockaddr_in6);
                t->fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
        } else {
                free(t);
                return -EINVAL;
        }
        if (t->fd < 0) {
                r = -errno;
                free(t);
                return r;
        }
        qb_loop_poll_add(loop, QB_LOOP_MED, t->fd, POLLIN, t, on_reply);
        *ret = t;
        return 0;
}

void tiebreak_free(struct tiebreak *t) {
        if (!t)
                return;
        qb_loop_poll_del(t->loop, t->fd);
        close(t->fd);
        free(t);
}

void tiebreak_probe(struct tiebreak *t) {
        uint8_t pkt[64] __attribute__((aligned(8))) = { 0 };

        t->seq++;
        if (t->family == AF_INET) {
                struct icmp *ic = (struct icmp *)pkt;
                ic->icmp_type = ICMP_ECHO;
                ic->icmp_id = htons(t->ident);
                ic->icmp_seq = htons(t->seq);
                ic->icmp_cksum = inet_checksum(pkt, sizeof(pkt));
        } else {
                struct icmp6_hdr *ic = (struct icmp6_hdr *)pkt;
                ic->icmp6_type = ICMP6_ECHO_REQUEST;
                ic->icmp6_id = htons(t->ident);
                ic->icmp6_seq = htons(t->seq);   /* the kernel fills the ICMPv6 checksum */
        }
        if (sendto(t->fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&t->addr, t->addr_len) < 0) {
                /* unreachable network: no reply will come, which is the answer */
        }
}

bool tiebreak_last_reply(const struct tiebreak *t, uint64_t *at_ms) {
        if (!t || !t->replied)
                return false;
        *at_ms = t->last_reply_ms;
        return true;
}
