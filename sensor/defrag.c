/*
 * defrag.c — IPv4/IPv6 fragment reassembly (see include/kanshi/defrag.h).
 *
 * Layout: a pool of trackers (one per datagram) found through a seeded hash
 * table and kept on one LRU list.  The timeout is the same for every
 * datagram and each fragment renews it, so the list is also in order of
 * expiry: timeouts and evictions only ever look at its head.
 *
 * A tracker keeps its fragments whole, as they arrived, on two lists: by
 * offset (to see holes) and by arrival (to replay overlaps).  Nothing is
 * trimmed on arrival; the overlap policy is applied once, when the datagram
 * is complete, by replaying the fragments in arrival order over a per-byte
 * owner map: a fragment writes a byte when no one owns it yet or when the
 * policy lets it win against the byte's owner.  That is exactly the
 * "target host" semantics of each policy, for any pattern of overlaps, and
 * costs nothing when no fragment overlapped (plain copies).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "kanshi/defrag.h"
#include "kanshi/kanshi.h"

#define DEFRAG_BLOCK 2048u      /* recycled data block: a 1500-byte MTU fragment and its header */
#define DEFRAG_NO_OWNER 0xffffu /* owner map: byte not written yet */
#define DEFRAG_MAX_PER_DGRAM 8192u
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_HDR_LEN 8
#define IP_MAXPACKET 65535u

struct defrag_frag {
    struct defrag_frag *next;  /* by offset, equal offsets by arrival */
    struct defrag_frag *anext; /* by arrival */
    uint8_t *buf;              /* hdr_len header bytes, then len data bytes */
    uint32_t cap;              /* bytes of buf counted against the memcap */
    uint32_t off, len;         /* datagram data bytes [off, off + len) */
    uint16_t hdr_len;          /* offset-0 fragments: IP header / unfragmentable part */
    uint16_t nh_pos;           /* IPv6: header byte that names the fragment header */
    uint8_t nh;                /* IPv6: the fragment header's next header */
};

struct defrag_tracker {
    struct defrag_tracker *hnext;         /* hash chain; free list */
    struct defrag_tracker *lprev, *lnext; /* LRU, least recently updated first */
    struct defrag_frag *frags;            /* by offset */
    struct defrag_frag *afirst, *alast;   /* by arrival */
    uint64_t expires_usec;
    uint32_t hash, id;
    uint32_t nfrags;
    uint32_t end;     /* datagram data length once the last fragment is in */
    uint32_t max_end; /* furthest fragment end held */
    uint16_t vlan[2];
    uint8_t family, proto;
    uint8_t src[16], dst[16];
    bool seen_last, overlap;
};

struct defrag {
    struct defrag_config cfg;
    struct defrag_tracker *trackers;
    struct defrag_tracker *free_trackers;
    struct defrag_tracker **buckets;
    uint32_t mask, seed;
    struct defrag_tracker *lru_head, *lru_tail;
    struct defrag_frag *frag_pool, *free_frags;
    void *free_blocks; /* cached DEFRAG_BLOCK buffers, chained through their first bytes */
    uint64_t now_usec;
    uint16_t *owner;          /* per datagram byte, while reassembling */
    struct defrag_frag **arr; /* fragments by arrival, while reassembling */
    uint8_t *out;             /* the rebuilt packet */
    struct defrag_stats stats;
};

/* What defrag_process() reads from one fragment. */
struct defrag_in {
    const uint8_t *hdr, *data;
    uint32_t hdr_len, off, len;
    uint32_t id;
    uint16_t nh_pos;
    uint8_t family, proto, nh;
    bool mf;
};

static inline uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline void wr16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

void defrag_config_default(struct defrag_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memcap = 32u << 20;
    cfg->max_trackers = 65535;
    cfg->max_frags = 65535;
    cfg->max_frags_per_datagram = 1024;
    cfg->timeout = 60;
    cfg->policy = DEFRAG_POLICY_BSD;
}

static const char *const defrag_policy_names[DEFRAG_POLICY_COUNT] = {
    [DEFRAG_POLICY_BSD] = "bsd",         [DEFRAG_POLICY_FIRST] = "first",
    [DEFRAG_POLICY_LAST] = "last",       [DEFRAG_POLICY_LINUX] = "linux",
    [DEFRAG_POLICY_WINDOWS] = "windows", [DEFRAG_POLICY_SOLARIS] = "solaris",
};

const char *defrag_policy_name(enum defrag_policy pol)
{
    if ((unsigned)pol >= DEFRAG_POLICY_COUNT)
        return "unknown";
    return defrag_policy_names[pol];
}

int defrag_policy_parse(const char *name, enum defrag_policy *out)
{
    for (unsigned i = 0; i < DEFRAG_POLICY_COUNT; i++) {
        if (name != NULL && strcasecmp(name, defrag_policy_names[i]) == 0) {
            *out = (enum defrag_policy)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *defrag_event_name(uint32_t ev, int family)
{
    static const struct {
        uint32_t ev;
        const char *v4, *v6;
    } names[] = {
        {DEFRAG_EV_OVERLAP, "decoder.ipv4.frag_overlap", "decoder.ipv6.frag_overlap"},
        {DEFRAG_EV_TOO_LARGE, "decoder.ipv4.frag_pkt_too_large", "decoder.ipv6.frag_pkt_too_large"},
        {DEFRAG_EV_IGNORED, "decoder.ipv4.frag_ignored", "decoder.ipv6.frag_ignored"},
        {DEFRAG_EV_AFTER_LAST, "decoder.ipv4.frag_after_last", "decoder.ipv6.frag_after_last"},
        {DEFRAG_EV_TOO_MANY, "decoder.ipv4.frag_too_many", "decoder.ipv6.frag_too_many"},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(names); i++) {
        if (names[i].ev == ev) {
            if (family == AF_INET)
                return names[i].v4;
            if (family == AF_INET6)
                return names[i].v6;
        }
    }
    return "decoder.unknown";
}

int defrag_create(struct defrag **out, const struct defrag_config *cfg)
{
    struct defrag *d;
    uint32_t nb = 1;

    if (cfg->memcap == 0 || cfg->max_trackers == 0 || cfg->max_frags == 0 ||
        cfg->max_frags_per_datagram == 0 || cfg->max_frags_per_datagram > DEFRAG_MAX_PER_DGRAM ||
        cfg->timeout == 0 || cfg->timeout > 86400 || (unsigned)cfg->policy >= DEFRAG_POLICY_COUNT ||
        cfg->max_trackers > (1u << 30))
        return -EINVAL;
    while (nb < cfg->max_trackers)
        nb <<= 1;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -ENOMEM;
    d->cfg = *cfg;
    d->mask = nb - 1;
    d->buckets = kanshi_calloc(nb, sizeof(*d->buckets));
    d->trackers = kanshi_calloc(cfg->max_trackers, sizeof(*d->trackers));
    d->frag_pool = kanshi_calloc(cfg->max_frags, sizeof(*d->frag_pool));
    d->owner = kanshi_calloc(IP_MAXPACKET + 1, sizeof(*d->owner));
    d->arr = kanshi_calloc(cfg->max_frags_per_datagram, sizeof(*d->arr));
    d->out = malloc(DEFRAG_MAX_PACKET);
    if (d->buckets == NULL || d->trackers == NULL || d->frag_pool == NULL || d->owner == NULL ||
        d->arr == NULL || d->out == NULL) {
        defrag_destroy(d);
        return -ENOMEM;
    }
    for (uint32_t i = cfg->max_trackers; i-- > 0;) {
        d->trackers[i].hnext = d->free_trackers;
        d->free_trackers = &d->trackers[i];
    }
    for (uint32_t i = cfg->max_frags; i-- > 0;) {
        d->frag_pool[i].next = d->free_frags;
        d->free_frags = &d->frag_pool[i];
    }
    if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
        d->seed = 0x64667267u; /* no entropy yet at early boot: still works */
    *out = d;
    return 0;
}

static void defrag_buf_put(struct defrag *d, uint8_t *buf, uint32_t cap)
{
    if (cap == DEFRAG_BLOCK) {
        memcpy(buf, &d->free_blocks, sizeof(void *));
        d->free_blocks = buf;
        return;
    }
    free(buf);
    d->stats.bytes_active -= cap;
}

/* Frees one cached block; false when there is none. */
static bool defrag_block_release(struct defrag *d)
{
    void *b = d->free_blocks;

    if (b == NULL)
        return false;
    memcpy(&d->free_blocks, b, sizeof(void *));
    free(b);
    d->stats.bytes_active -= DEFRAG_BLOCK;
    return true;
}

/* A buffer of at least need bytes within the memcap, or NULL. */
static uint8_t *defrag_buf_get(struct defrag *d, uint32_t need, uint32_t *cap)
{
    uint8_t *b;
    uint32_t size = need <= DEFRAG_BLOCK ? DEFRAG_BLOCK : need;

    if (size == DEFRAG_BLOCK && d->free_blocks != NULL) {
        b = d->free_blocks;
        memcpy(&d->free_blocks, b, sizeof(void *));
        *cap = DEFRAG_BLOCK;
        return b;
    }
    while (d->stats.bytes_active + size > d->cfg.memcap && defrag_block_release(d))
        ;
    if (d->stats.bytes_active + size > d->cfg.memcap)
        return NULL;
    b = malloc(size);
    if (b == NULL)
        return NULL;
    d->stats.bytes_active += size;
    *cap = size;
    return b;
}

static uint32_t defrag_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t defrag_hash(const struct defrag *d, const struct packet *p,
                            const struct defrag_in *in)
{
    size_t alen = in->family == AF_INET6 ? 16 : 4;
    uint32_t h = d->seed, w;

    for (size_t i = 0; i < alen; i += 4) {
        memcpy(&w, p->src.a + i, 4);
        h = defrag_mix(h ^ w) + 0x9e3779b9u;
        memcpy(&w, p->dst.a + i, 4);
        h = defrag_mix(h ^ w) + 0x9e3779b9u;
    }
    h = defrag_mix(h ^ in->id);
    return defrag_mix(h ^ ((uint32_t)in->proto << 24 | (uint32_t)p->vlan_id[0] << 12 |
                           p->vlan_id[1] | (uint32_t)in->family << 28));
}

static bool defrag_match(const struct defrag_tracker *t, uint32_t h, const struct packet *p,
                         const struct defrag_in *in)
{
    size_t alen = in->family == AF_INET6 ? 16 : 4;

    return t->hash == h && t->id == in->id && t->family == in->family && t->proto == in->proto &&
           t->vlan[0] == p->vlan_id[0] && t->vlan[1] == p->vlan_id[1] &&
           memcmp(t->src, p->src.a, alen) == 0 && memcmp(t->dst, p->dst.a, alen) == 0;
}

static void lru_remove(struct defrag *d, struct defrag_tracker *t)
{
    if (t->lprev != NULL)
        t->lprev->lnext = t->lnext;
    else
        d->lru_head = t->lnext;
    if (t->lnext != NULL)
        t->lnext->lprev = t->lprev;
    else
        d->lru_tail = t->lprev;
    t->lprev = t->lnext = NULL;
}

static void lru_append(struct defrag *d, struct defrag_tracker *t)
{
    t->lnext = NULL;
    t->lprev = d->lru_tail;
    if (d->lru_tail != NULL)
        d->lru_tail->lnext = t;
    else
        d->lru_head = t;
    d->lru_tail = t;
}

/* Forgets a datagram: its fragments go back to the pools. */
static void defrag_tracker_release(struct defrag *d, struct defrag_tracker *t)
{
    struct defrag_tracker **pp = &d->buckets[t->hash & d->mask];
    struct defrag_frag *f, *next;

    for (f = t->frags; f != NULL; f = next) {
        next = f->next;
        defrag_buf_put(d, f->buf, f->cap);
        f->buf = NULL;
        f->next = d->free_frags;
        d->free_frags = f;
        d->stats.frags_active--;
    }
    while (*pp != NULL && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp == t)
        *pp = t->hnext;
    lru_remove(d, t);
    memset(t, 0, sizeof(*t));
    t->hnext = d->free_trackers;
    d->free_trackers = t;
    d->stats.trackers_active--;
}

void defrag_destroy(struct defrag *d)
{
    if (d == NULL)
        return;
    if (d->trackers != NULL)
        while (d->lru_head != NULL)
            defrag_tracker_release(d, d->lru_head);
    while (defrag_block_release(d))
        ;
    free(d->buckets);
    free(d->trackers);
    free(d->frag_pool);
    free(d->owner);
    free(d->arr);
    free(d->out);
    free(d);
}

static size_t defrag_expire(struct defrag *d)
{
    size_t n = 0;

    while (d->lru_head != NULL && d->lru_head->expires_usec < d->now_usec) {
        defrag_tracker_release(d, d->lru_head);
        d->stats.timeouts++;
        n++;
    }
    return n;
}

size_t defrag_timeout(struct defrag *d, uint64_t now_usec)
{
    if (now_usec > d->now_usec)
        d->now_usec = now_usec;
    return defrag_expire(d);
}

const struct defrag_stats *defrag_stats(const struct defrag *d)
{
    return &d->stats;
}

/* True when fragment n, arriving after o, takes over the bytes they share. */
static bool defrag_wins(enum defrag_policy pol, const struct defrag_frag *n,
                        const struct defrag_frag *o)
{
    uint32_t ne = n->off + n->len, oe = o->off + o->len;

    switch (pol) {
    case DEFRAG_POLICY_FIRST:
        return false;
    case DEFRAG_POLICY_LAST:
        return true;
    case DEFRAG_POLICY_LINUX:
        return n->off <= o->off;
    case DEFRAG_POLICY_WINDOWS:
        return n->off < o->off && ne > oe;
    case DEFRAG_POLICY_SOLARIS:
        return n->off < o->off && ne >= oe;
    case DEFRAG_POLICY_BSD:
    default:
        return n->off < o->off;
    }
}

/*
 * Reads the fragment fields of p into *in.  False when the fragment cannot
 * be used: a capture cut short, or headers that do not add up.
 */
static bool defrag_parse(const struct packet *p, struct defrag_in *in)
{
    const uint8_t *b = p->l3;
    uint32_t tot;

    memset(in, 0, sizeof(*in));
    in->off = (uint32_t)p->frag_offset * 8;
    in->mf = (p->frag_flags & IPFRAG_MF) != 0;
    in->id = p->ip_id;
    in->hdr = b;
    if (p->flags & PKT_IPV4) {
        if (p->l3_len < IPV4_HDR_LEN || p->l3_hdr_len < IPV4_HDR_LEN)
            return false;
        tot = rd16(b + 2);
        if (p->l3_len < tot || tot < p->l3_hdr_len)
            return false;
        in->family = AF_INET;
        in->proto = p->ip_proto;
        in->hdr_len = p->l3_hdr_len;
        in->data = b + p->l3_hdr_len;
        in->len = tot - p->l3_hdr_len;
        return true;
    }

    /* IPv6: the decoder stopped at the fragment header; l3_hdr_len is the
     * offset of the fragment's data.  Walk the headers before it to find the
     * next-header byte that names it (it is 44 there). */
    uint32_t fh, off = IPV6_HDR_LEN, pos = 6;
    uint8_t nh;

    if (p->l3_hdr_len < IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN || p->l3_len < p->l3_hdr_len)
        return false;
    fh = p->l3_hdr_len - IPV6_FRAG_HDR_LEN;
    tot = IPV6_HDR_LEN + (uint32_t)rd16(b + 4);
    if (p->l3_len < tot || tot < p->l3_hdr_len)
        return false;
    nh = b[6];
    while (off < fh) {
        const uint8_t *h = b + off;
        uint32_t hlen;

        if (fh - off < 2)
            return false;
        if (nh == 0 || nh == 43 || nh == 60)
            hlen = ((uint32_t)h[1] + 1) * 8;
        else if (nh == 51)
            hlen = ((uint32_t)h[1] + 2) * 4;
        else
            return false;
        pos = off;
        nh = h[0];
        off += hlen;
    }
    if (off != fh || nh != 44)
        return false;
    in->family = AF_INET6;
    in->proto = 0; /* not part of an IPv6 datagram's identity */
    in->nh = b[fh];
    in->nh_pos = (uint16_t)pos;
    in->hdr_len = fh;
    in->data = b + p->l3_hdr_len;
    in->len = tot - p->l3_hdr_len;
    return true;
}

static struct defrag_tracker *defrag_lookup(struct defrag *d, const struct packet *p,
                                            const struct defrag_in *in)
{
    uint32_t h = defrag_hash(d, p, in);
    struct defrag_tracker *t;
    size_t alen = in->family == AF_INET6 ? 16 : 4;

    for (t = d->buckets[h & d->mask]; t != NULL; t = t->hnext)
        if (defrag_match(t, h, p, in))
            return t;

    t = d->free_trackers;
    if (t == NULL) {
        /* Every tracker in use: give up the least recently updated one. */
        defrag_tracker_release(d, d->lru_head);
        d->stats.evicted++;
        t = d->free_trackers;
    }
    d->free_trackers = t->hnext;
    memset(t, 0, sizeof(*t));
    t->hash = h;
    t->id = in->id;
    t->family = in->family;
    t->proto = in->proto;
    t->vlan[0] = p->vlan_id[0];
    t->vlan[1] = p->vlan_id[1];
    memcpy(t->src, p->src.a, alen);
    memcpy(t->dst, p->dst.a, alen);
    t->hnext = d->buckets[h & d->mask];
    d->buckets[h & d->mask] = t;
    lru_append(d, t);
    d->stats.trackers++;
    d->stats.trackers_active++;
    return t;
}

/* A fragment record and buffer for t, giving up other datagrams (least
 * recently updated first) when the pool or the memcap is exhausted. */
static struct defrag_frag *defrag_frag_alloc(struct defrag *d, struct defrag_tracker *t,
                                             uint32_t need)
{
    for (;;) {
        struct defrag_tracker *victim;
        uint32_t cap;
        uint8_t *buf;

        if (d->free_frags != NULL && (buf = defrag_buf_get(d, need, &cap)) != NULL) {
            struct defrag_frag *f = d->free_frags;

            d->free_frags = f->next;
            memset(f, 0, sizeof(*f));
            f->buf = buf;
            f->cap = cap;
            d->stats.frags_active++;
            return f;
        }
        victim = d->lru_head == t ? t->lnext : d->lru_head;
        if (victim == NULL)
            return NULL;
        defrag_tracker_release(d, victim);
        d->stats.evicted++;
    }
}

static bool defrag_complete(const struct defrag_tracker *t)
{
    uint32_t reach = 0;

    if (!t->seen_last)
        return false;
    for (const struct defrag_frag *f = t->frags; f != NULL; f = f->next) {
        if (f->off > reach)
            return false;
        if (f->off + f->len > reach)
            reach = f->off + f->len;
    }
    return reach >= t->end;
}

/* Replays the fragments in arrival order over the owner map (see top). */
static void defrag_paint(struct defrag *d, const struct defrag_tracker *t, uint8_t *payload)
{
    uint16_t *owner = d->owner;
    uint32_t n = 0;

    for (uint32_t i = 0; i < t->end; i++)
        owner[i] = DEFRAG_NO_OWNER;
    for (struct defrag_frag *f = t->afirst; f != NULL; f = f->anext) {
        uint32_t i = f->off, fend = f->off + f->len;
        const uint8_t *src = f->buf + f->hdr_len;

        while (i < fend) {
            uint16_t o = owner[i];
            uint32_t j = i + 1;

            while (j < fend && owner[j] == o)
                j++;
            if (o == DEFRAG_NO_OWNER || defrag_wins(d->cfg.policy, f, d->arr[o])) {
                memcpy(payload + i, src + (i - f->off), j - i);
                for (uint32_t k = i; k < j; k++)
                    owner[k] = (uint16_t)n;
            }
            i = j;
        }
        d->arr[n++] = f;
    }
}

/* Builds the complete packet of t into d->out and forgets t.  1 when a
 * packet was built, 0 when the datagram had to be dropped (too large). */
static int defrag_rebuild(struct defrag *d, struct defrag_tracker *t, struct defrag_result *res)
{
    struct defrag_frag *first = NULL;
    uint32_t hl, tot;
    uint8_t *o = d->out;

    /* The header comes from the fragment that owns byte 0: the offset-0
     * fragments are the only ones covering it. */
    for (struct defrag_frag *f = t->afirst; f != NULL; f = f->anext)
        if (f->off == 0 && (first == NULL || defrag_wins(d->cfg.policy, f, first)))
            first = f;
    hl = first->hdr_len;
    tot = hl + t->end;
    if ((t->family == AF_INET && tot > IP_MAXPACKET) ||
        (t->family == AF_INET6 && tot - IPV6_HDR_LEN > IP_MAXPACKET)) {
        res->events |= DEFRAG_EV_TOO_LARGE;
        d->stats.too_large++;
        defrag_tracker_release(d, t);
        return 0;
    }

    if (t->overlap) {
        defrag_paint(d, t, o + hl);
    } else {
        for (const struct defrag_frag *f = t->frags; f != NULL; f = f->next)
            memcpy(o + hl + f->off, f->buf + f->hdr_len, f->len);
    }
    memcpy(o, first->buf, hl);
    if (t->family == AF_INET) {
        uint32_t sum = 0;

        wr16(o + 2, tot);
        wr16(o + 6, 0); /* no flags, no offset: Suricata clears the field too */
        wr16(o + 10, 0);
        for (uint32_t i = 0; i + 1 < hl; i += 2)
            sum += rd16(o + i);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        wr16(o + 10, ~sum & 0xffff);
        d->stats.reassembled4++;
    } else {
        wr16(o + 4, tot - IPV6_HDR_LEN);
        o[first->nh_pos] = first->nh;
        d->stats.reassembled6++;
    }
    res->data = o;
    res->len = tot;
    defrag_tracker_release(d, t);
    return 1;
}

int defrag_process(struct defrag *d, const struct packet *p, struct defrag_result *res)
{
    struct defrag_in in;
    struct defrag_tracker *t;
    struct defrag_frag *f, **pp;
    uint32_t end;
    bool is4 = (p->flags & PKT_IPV4) != 0;

    memset(res, 0, sizeof(*res));
    if (!(p->flags & PKT_FRAGMENT) || !(p->flags & (PKT_IPV4 | PKT_IPV6)) || p->l3 == NULL)
        return -EINVAL;
    if (p->ts_usec > d->now_usec)
        d->now_usec = p->ts_usec;
    defrag_expire(d);
    if (is4)
        d->stats.fragments4++;
    else
        d->stats.fragments6++;

    if (!defrag_parse(p, &in)) {
        d->stats.invalid++;
        return 0;
    }
    end = in.off + in.len;
    /* As Suricata: an IPv4 datagram needs room for at least a bare header. */
    if (end > (is4 ? IP_MAXPACKET - IPV4_HDR_LEN : IP_MAXPACKET)) {
        res->events |= DEFRAG_EV_TOO_LARGE;
        d->stats.too_large++;
        return 0;
    }
    /* Other decoder failures (e.g. an IPv6 fragment whose length is not a
     * multiple of 8), and fragments carrying nothing, are not reassembled. */
    if ((p->flags & PKT_INVALID) || in.len == 0) {
        d->stats.invalid++;
        return 0;
    }

    t = defrag_lookup(d, p, &in);
    t->expires_usec = d->now_usec + (uint64_t)d->cfg.timeout * 1000000u;
    lru_remove(d, t);
    lru_append(d, t);

    /* The last fragment fixes the datagram's length: nothing may go past it,
     * and a second, different last fragment is not believed. */
    if ((t->seen_last && (end > t->end || (!in.mf && end != t->end))) ||
        (!t->seen_last && !in.mf && t->max_end > end)) {
        res->events |= DEFRAG_EV_AFTER_LAST;
        d->stats.after_last++;
        goto unused;
    }
    if (t->nfrags >= d->cfg.max_frags_per_datagram) {
        res->events |= DEFRAG_EV_TOO_MANY;
        d->stats.too_many++;
        goto unused;
    }

    f = defrag_frag_alloc(d, t, (in.off == 0 ? in.hdr_len : 0) + in.len);
    if (f == NULL) {
        res->events |= DEFRAG_EV_IGNORED;
        d->stats.memcap_drops++;
        goto unused;
    }
    f->off = in.off;
    f->len = in.len;
    if (in.off == 0) {
        f->hdr_len = (uint16_t)in.hdr_len;
        f->nh = in.nh;
        f->nh_pos = in.nh_pos;
        memcpy(f->buf, in.hdr, in.hdr_len);
    }
    memcpy(f->buf + f->hdr_len, in.data, in.len);

    /* Insert by offset, after fragments of the same offset; note overlaps
     * on the way (the list is sorted, so the walk can stop at end). */
    for (pp = &t->frags; *pp != NULL && (*pp)->off <= in.off; pp = &(*pp)->next)
        if ((*pp)->off + (*pp)->len > in.off)
            res->events |= DEFRAG_EV_OVERLAP;
    f->next = *pp;
    *pp = f;
    if (f->next != NULL && f->next->off < end)
        res->events |= DEFRAG_EV_OVERLAP;
    if (res->events & DEFRAG_EV_OVERLAP) {
        t->overlap = true;
        d->stats.overlaps++;
    }
    if (t->alast != NULL)
        t->alast->anext = f;
    else
        t->afirst = f;
    t->alast = f;
    t->nfrags++;
    if (end > t->max_end)
        t->max_end = end;
    if (!in.mf) {
        t->seen_last = true;
        t->end = end;
    }

    if (defrag_complete(t))
        return defrag_rebuild(d, t, res);
    return 0;

unused:
    /* A datagram that this fragment would have started is not kept. */
    if (t->nfrags == 0)
        defrag_tracker_release(d, t);
    return 0;
}
