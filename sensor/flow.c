/*
 * flow.c — the per-worker bidirectional flow table (see include/kanshi/flow.h).
 *
 * Layout: a power-of-two array of hash buckets chaining flows, a pool of
 * preallocated flows with a free list, and one LRU list per timeout class
 * (new, established, closed).  Within one list every flow has the same
 * timeout, so the list head is always the next to expire and flow_timeout()
 * only looks at heads: O(1) per packet, no periodic full scan.
 *
 * The hash is seeded at random per table, so an attacker who knows the code
 * cannot aim packets at one bucket; the flow_id mixes the hash with the start
 * time exactly as Suricata's FlowGetId() does, so ids look and sort alike.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kanshi/flow.h"
#include "kanshi/kanshi.h"

enum { FLOW_LIST_NEW, FLOW_LIST_EST, FLOW_LIST_CLOSED, FLOW_LIST_COUNT, FLOW_LIST_NONE = 255 };

struct flow_list {
    struct flow *head, *tail;
};

struct flow_table {
    struct flow **buckets;
    uint32_t mask;
    uint32_t seed;
    struct flow *pool;
    size_t pool_size;
    struct flow *free_list; /* chained through hnext */
    struct flow_list lists[FLOW_LIST_COUNT];
    uint64_t now_usec;
    struct flow_config cfg;
    struct flow_stats stats;
    flow_end_fn on_end;
    void *on_end_arg;
};

/* A 32-bit finalising mix (from MurmurHash3's fmix32, a public-domain idea). */
static inline uint32_t flow_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static inline uint32_t flow_hash_words(uint32_t h, const uint8_t *a, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, a + i, 4);
        h = flow_mix(h ^ w) + 0x9e3779b9u;
    }
    return h;
}

/* Hash that is the same for both directions: endpoints are combined in a
 * fixed order chosen by comparing them. */
static uint32_t flow_hash(const struct flow_table *ft, const struct packet *p, uint16_t sp,
                          uint16_t dp)
{
    size_t alen = p->src.family == AF_INET6 ? 16 : 4;
    int c = memcmp(p->src.a, p->dst.a, alen);
    const uint8_t *lo = p->src.a, *hi = p->dst.a;
    uint16_t plo = sp, phi = dp;
    uint32_t h = ft->seed;

    if (c > 0 || (c == 0 && sp > dp)) {
        lo = p->dst.a;
        hi = p->src.a;
        plo = dp;
        phi = sp;
    }
    h = flow_hash_words(h, lo, alen);
    h = flow_hash_words(h, hi, alen);
    h = flow_mix(h ^ ((uint32_t)plo << 16 | phi));
    h = flow_mix(h ^ ((uint32_t)p->ip_proto << 24 | (uint32_t)p->vlan_id[0] << 12 |
                      p->vlan_id[1]));
    return h;
}

static inline bool addr_eq(const struct kanshi_addr *a, const struct kanshi_addr *b)
{
    return a->family == b->family &&
           memcmp(a->a, b->a, a->family == AF_INET6 ? 16 : 4) == 0;
}

/* Returns 0 when p goes client->server on f, 1 when server->client, -1 when
 * p is not of f. */
static int flow_match(const struct flow *f, const struct packet *p, uint16_t sp, uint16_t dp)
{
    if (f->proto != p->ip_proto || f->vlan[0] != p->vlan_id[0] || f->vlan[1] != p->vlan_id[1])
        return -1;
    if (f->port[0] == sp && f->port[1] == dp && addr_eq(&f->addr[0], &p->src) &&
        addr_eq(&f->addr[1], &p->dst))
        return FLOW_DIR_TOSERVER;
    if (f->port[0] == dp && f->port[1] == sp && addr_eq(&f->addr[0], &p->dst) &&
        addr_eq(&f->addr[1], &p->src))
        return FLOW_DIR_TOCLIENT;
    return -1;
}

static void list_remove(struct flow_table *ft, struct flow *f)
{
    struct flow_list *l;

    if (f->list == FLOW_LIST_NONE)
        return;
    l = &ft->lists[f->list];
    if (f->lprev != NULL)
        f->lprev->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext != NULL)
        f->lnext->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
    f->list = FLOW_LIST_NONE;
}

static void list_append(struct flow_table *ft, struct flow *f, uint8_t which)
{
    struct flow_list *l = &ft->lists[which];

    f->list = which;
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail != NULL)
        l->tail->lnext = f;
    else
        l->head = f;
    l->tail = f;
}

static uint8_t flow_list_of(const struct flow *f)
{
    switch (f->state) {
    case FLOW_STATE_ESTABLISHED:
        return FLOW_LIST_EST;
    case FLOW_STATE_CLOSED:
        return FLOW_LIST_CLOSED;
    default:
        return FLOW_LIST_NEW;
    }
}

static uint64_t flow_timeout_usec(const struct flow_table *ft, const struct flow *f)
{
    uint32_t s;

    switch (f->state) {
    case FLOW_STATE_ESTABLISHED:
        if (f->proto == IPPROTO_TCP)
            s = ft->cfg.timeout_est;
        else if (f->proto == IPPROTO_UDP)
            s = ft->cfg.timeout_udp_est;
        else
            s = ft->cfg.timeout_icmp_est;
        break;
    case FLOW_STATE_CLOSED:
        s = ft->cfg.timeout_closed;
        break;
    default:
        s = ft->cfg.timeout_new;
        break;
    }
    return (uint64_t)s * 1000000u;
}

static void flow_unhash(struct flow_table *ft, struct flow *f)
{
    struct flow **pp = &ft->buckets[f->hash & ft->mask];

    while (*pp != NULL && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp == f)
        *pp = f->hnext;
    f->hnext = NULL;
}

/* Takes f out of the table and hands it back to the pool. */
static void flow_end(struct flow_table *ft, struct flow *f)
{
    if (ft->on_end != NULL)
        ft->on_end(ft->on_end_arg, f);
    list_remove(ft, f);
    flow_unhash(ft, f);
    f->hnext = ft->free_list;
    ft->free_list = f;
    ft->stats.active--;
}

int flow_table_create(struct flow_table **out, const struct flow_config *cfg, flow_end_fn on_end,
                      void *arg)
{
    struct flow_table *ft;
    uint32_t nb = 1;

    if (cfg->hash_size == 0 || cfg->hash_size > (1u << 30))
        return -EINVAL;
    while (nb < cfg->hash_size)
        nb <<= 1;
    ft = calloc(1, sizeof(*ft));
    if (ft == NULL)
        return -ENOMEM;
    ft->cfg = *cfg;
    ft->mask = nb - 1;
    ft->buckets = kanshi_calloc(nb, sizeof(*ft->buckets));
    ft->pool_size = cfg->memcap / sizeof(struct flow);
    if (ft->pool_size == 0)
        ft->pool_size = 1;
    /* calloc'd pages are only backed when touched, so a large memcap costs
     * nothing until flows are actually used. */
    ft->pool = kanshi_calloc(ft->pool_size, sizeof(struct flow));
    if (ft->buckets == NULL || ft->pool == NULL) {
        flow_table_destroy(ft);
        return -ENOMEM;
    }
    for (size_t i = ft->pool_size; i-- > 0;) {
        ft->pool[i].hnext = ft->free_list;
        ft->pool[i].list = FLOW_LIST_NONE;
        ft->free_list = &ft->pool[i];
    }
    if (getrandom(&ft->seed, sizeof(ft->seed), GRND_NONBLOCK) != sizeof(ft->seed))
        ft->seed = 0x6b616e73u; /* no entropy yet at early boot: still works */
    ft->stats.max_flows = ft->pool_size;
    ft->on_end = on_end;
    ft->on_end_arg = arg;
    *out = ft;
    return 0;
}

void flow_table_destroy(struct flow_table *ft)
{
    if (ft == NULL)
        return;
    free(ft->buckets);
    free(ft->pool);
    free(ft);
}

/* Gets a free flow, recycling the oldest half-open one when the pool is
 * empty.  NULL when nothing can be had. */
static struct flow *flow_alloc(struct flow_table *ft)
{
    struct flow *f = ft->free_list;

    if (f == NULL) {
        flow_timeout(ft);
        f = ft->free_list;
    }
    if (f == NULL && ft->lists[FLOW_LIST_NEW].head != NULL) {
        flow_end(ft, ft->lists[FLOW_LIST_NEW].head);
        ft->stats.emergency_evicted++;
        f = ft->free_list;
    }
    if (f == NULL)
        return NULL;
    ft->free_list = f->hnext;
    return f;
}

/* Suricata's FlowGetId(): 16 bits of start seconds, 16 of start
 * microseconds and the 32-bit flow hash, cut to 51 bits so JavaScript and
 * JSON tools keep it exact. */
static uint64_t flow_make_id(uint64_t ts_usec, uint32_t hash)
{
    uint64_t secs = ts_usec / 1000000u, usecs = ts_usec % 1000000u;
    uint64_t id = (secs & 0xffffu) << 48 | (usecs & 0xffffu) << 32 | hash;
    return id & 0x7ffffffffffffULL;
}

static void flow_update_tcp(struct flow *f, const struct packet *p, int dir)
{
    uint8_t fl = p->tcp_flags;

    if (fl & TH_RST) {
        f->tcp_seen |= FLOW_TCP_RST;
        f->state = FLOW_STATE_CLOSED;
        return;
    }
    if ((fl & (TH_SYN | TH_ACK)) == TH_SYN && dir == FLOW_DIR_TOSERVER) {
        f->tcp_seen |= FLOW_TCP_SYN;
    } else if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && dir == FLOW_DIR_TOCLIENT) {
        if (f->tcp_seen & FLOW_TCP_SYN)
            f->tcp_seen |= FLOW_TCP_SYNACK;
    } else if ((fl & (TH_SYN | TH_ACK)) == TH_ACK && dir == FLOW_DIR_TOSERVER &&
               (f->tcp_seen & (FLOW_TCP_SYNACK | FLOW_TCP_ACK)) == FLOW_TCP_SYNACK) {
        f->tcp_seen |= FLOW_TCP_ACK;
        if (f->state == FLOW_STATE_NEW)
            f->state = FLOW_STATE_ESTABLISHED;
    }
    if (fl & TH_FIN) {
        f->tcp_seen |= FLOW_TCP_FIN;
        f->state = FLOW_STATE_CLOSED;
    }
}

struct flow *flow_lookup(struct flow_table *ft, struct packet *p)
{
    uint16_t sp = 0, dp = 0;
    uint32_t h;
    struct flow *f;
    int dir = -1;

    p->flow = NULL;
    if (!(p->flags & (PKT_IPV4 | PKT_IPV6)) || (p->flags & PKT_FRAGMENT))
        return NULL;
    if (p->ts_usec > ft->now_usec)
        ft->now_usec = p->ts_usec;
    if (p->flags & (PKT_TCP | PKT_UDP)) {
        sp = p->sp;
        dp = p->dp;
    }
    h = flow_hash(ft, p, sp, dp);
    for (f = ft->buckets[h & ft->mask]; f != NULL; f = f->hnext) {
        if (f->hash == h && (dir = flow_match(f, p, sp, dp)) >= 0)
            break;
    }
    if (f == NULL) {
        f = flow_alloc(ft);
        if (f == NULL) {
            ft->stats.memcap_drops++;
            return NULL;
        }
        memset(f, 0, sizeof(*f));
        f->list = FLOW_LIST_NONE;
        f->hash = h;
        f->proto = p->ip_proto;
        f->vlan[0] = p->vlan_id[0];
        f->vlan[1] = p->vlan_id[1];
        /* A flow first seen with SYN/ACK was opened by the other side. */
        if ((p->flags & PKT_TCP) && (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
            f->addr[0] = p->dst;
            f->addr[1] = p->src;
            f->port[0] = dp;
            f->port[1] = sp;
            dir = FLOW_DIR_TOCLIENT;
        } else {
            f->addr[0] = p->src;
            f->addr[1] = p->dst;
            f->port[0] = sp;
            f->port[1] = dp;
            dir = FLOW_DIR_TOSERVER;
        }
        f->start_usec = p->ts_usec;
        f->flow_id = flow_make_id(p->ts_usec, h);
        f->hnext = ft->buckets[h & ft->mask];
        ft->buckets[h & ft->mask] = f;
        ft->stats.created++;
        ft->stats.active++;
        if (p->flags & PKT_TCP)
            ft->stats.tcp++;
        else if (p->flags & PKT_UDP)
            ft->stats.udp++;
        else if (p->flags & (PKT_ICMPV4 | PKT_ICMPV6))
            ft->stats.icmp++;
        else
            ft->stats.other++;
    }

    f->last_usec = p->ts_usec > f->last_usec ? p->ts_usec : f->last_usec;
    f->pkts[dir]++;
    f->bytes[dir] += p->wirelen;
    f->seen_dir |= (uint8_t)(1u << dir);
    if (p->flags & PKT_TCP)
        flow_update_tcp(f, p, dir);
    else if (f->seen_dir == 3 && f->state == FLOW_STATE_NEW)
        f->state = FLOW_STATE_ESTABLISHED;

    /* Move to the tail of its state's list: lists stay ordered by last use. */
    list_remove(ft, f);
    list_append(ft, f, flow_list_of(f));

    p->flow = f;
    p->dir = (uint8_t)dir;
    return f;
}

void flow_swap(struct flow *f)
{
    struct kanshi_addr a = f->addr[0];
    uint16_t port = f->port[0];
    uint64_t n;

    f->addr[0] = f->addr[1];
    f->addr[1] = a;
    f->port[0] = f->port[1];
    f->port[1] = port;
    n = f->pkts[0], f->pkts[0] = f->pkts[1], f->pkts[1] = n;
    n = f->bytes[0], f->bytes[0] = f->bytes[1], f->bytes[1] = n;
    f->seen_dir = flow_dir_bits_swap(f->seen_dir);
    f->iponly_dirs = flow_dir_bits_swap(f->iponly_dirs);
}

size_t flow_timeout(struct flow_table *ft)
{
    size_t n = 0;

    for (int l = 0; l < FLOW_LIST_COUNT; l++) {
        struct flow *f;
        while ((f = ft->lists[l].head) != NULL &&
               f->last_usec + flow_timeout_usec(ft, f) < ft->now_usec) {
            flow_end(ft, f);
            ft->stats.timed_out++;
            n++;
        }
    }
    return n;
}

void flow_flush(struct flow_table *ft)
{
    for (int l = 0; l < FLOW_LIST_COUNT; l++)
        while (ft->lists[l].head != NULL)
            flow_end(ft, ft->lists[l].head);
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft)
{
    return &ft->stats;
}
