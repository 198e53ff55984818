/*
 * threshold.c — per-worker alert thresholding (see threshold.h).
 *
 * The decisions follow Suricata's detect-engine-threshold.c: a window opens
 * at the first match of a key and lasts `seconds` (a packet at exactly the
 * window's end is still inside); limit alerts on the first `count` matches
 * of a window, threshold on every count-th, both once when the count is
 * reached, detection_filter on every match after the first `count`, and
 * rate_filter always alerts but switches to its new action (in IDS mode,
 * `pass` means no alert) once `count` is exceeded, for `timeout` seconds.
 *
 * Table: open addressing over a power-of-two array; a key may live in any
 * of PROBE slots from its hash.  Expired entries are free slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "kanshi/threshold.h"

#define TH_DEFAULT_SLOTS 16384
#define TH_PROBE 32
#define TH_UNIQUE_POOL 64          /* distinct-port sets for unique_on */
#define TH_PORT_WORDS (65536 / 64) /* one bit per port */
#define USEC 1000000u

struct th_slot {
    const struct rule *rule; /* NULL: free */
    uint8_t track, family;
    uint8_t a[16], b[16];
    uint64_t flow_id;
    uint64_t tv1;        /* window start, usec */
    uint64_t expire;     /* usec after which the entry is gone */
    uint64_t tv_timeout; /* rate_filter: second the new action began, 0 when off */
    uint32_t count;
    int32_t uniq; /* distinct-port set index, -1 none */
};

struct threshold_ctx {
    struct th_slot *slots;
    size_t mask;
    uint64_t *uniq; /* TH_UNIQUE_POOL sets of TH_PORT_WORDS words */
    int32_t *ufree; /* free set indexes */
    size_t nufree;
    struct threshold_stats stats;
};

int threshold_ctx_create(struct threshold_ctx **out, size_t nslots, bool want_unique)
{
    struct threshold_ctx *t = calloc(1, sizeof(*t));
    size_t n = 1;

    if (t == NULL)
        return -ENOMEM;
    if (nslots == 0)
        nslots = TH_DEFAULT_SLOTS;
    while (n < nslots && n < ((size_t)1 << 30))
        n <<= 1;
    t->slots = kanshi_calloc(n, sizeof(*t->slots));
    t->mask = n - 1;
    if (t->slots == NULL)
        goto fail;
    if (want_unique) {
        t->uniq = kanshi_calloc((size_t)TH_UNIQUE_POOL * TH_PORT_WORDS, sizeof(uint64_t));
        t->ufree = kanshi_calloc(TH_UNIQUE_POOL, sizeof(*t->ufree));
        if (t->uniq == NULL || t->ufree == NULL)
            goto fail;
        for (int i = 0; i < TH_UNIQUE_POOL; i++)
            t->ufree[t->nufree++] = TH_UNIQUE_POOL - 1 - i;
    }
    *out = t;
    return 0;
fail:
    threshold_ctx_destroy(t);
    return -ENOMEM;
}

void threshold_ctx_destroy(struct threshold_ctx *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t->uniq);
    free(t->ufree);
    free(t);
}

const struct threshold_stats *threshold_ctx_stats(const struct threshold_ctx *t)
{
    return &t->stats;
}

/* ---- keys -------------------------------------------------------------- */

struct th_key {
    const struct rule *rule;
    uint8_t track, family;
    uint8_t a[16], b[16];
    uint64_t flow_id;
};

static void key_of(struct th_key *k, const struct rule *r, enum rule_th_track track,
                   const struct packet *p)
{
    memset(k, 0, sizeof(*k));
    k->rule = r;
    k->track = (uint8_t)track;
    if (track == TRACK_SRC || track == TRACK_DST || track == TRACK_BOTH)
        k->family = p->src.family;
    switch (track) {
    case TRACK_SRC:
        memcpy(k->a, p->src.a, 16);
        break;
    case TRACK_DST:
        memcpy(k->a, p->dst.a, 16);
        break;
    case TRACK_BOTH:
        /* an address pair, whichever way the packet goes */
        if (memcmp(p->src.a, p->dst.a, 16) <= 0) {
            memcpy(k->a, p->src.a, 16);
            memcpy(k->b, p->dst.a, 16);
        } else {
            memcpy(k->a, p->dst.a, 16);
            memcpy(k->b, p->src.a, 16);
        }
        break;
    case TRACK_FLOW:
        k->flow_id = p->flow != NULL ? p->flow->flow_id : 0;
        break;
    default:
        break;
    }
}

static uint64_t key_hash(const struct th_key *k)
{
    /* by the rule's place, not its address: the same traffic makes the same
     * table whatever the allocator did (replays give the same alerts) */
    uint64_t h = ((uint64_t)k->rule->idx + 1) * UINT64_C(0x9E3779B97F4A7C15);
    const uint8_t *bytes[2] = {k->a, k->b};

    h ^= (uint64_t)k->track << 8 | k->family;
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < 16; i++) {
            h ^= bytes[j][i];
            h *= UINT64_C(0x100000001B3);
        }
    }
    h ^= k->flow_id;
    h *= UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 33);
}

static bool key_eq(const struct th_slot *s, const struct th_key *k)
{
    return s->rule == k->rule && s->track == k->track && s->family == k->family &&
           s->flow_id == k->flow_id && memcmp(s->a, k->a, 16) == 0 && memcmp(s->b, k->b, 16) == 0;
}

static void slot_release(struct threshold_ctx *t, struct th_slot *s)
{
    if (s->rule != NULL && s->uniq >= 0 && t->uniq != NULL)
        t->ufree[t->nufree++] = s->uniq;
    s->rule = NULL;
    s->uniq = -1;
}

/* The live entry of k, or NULL; expired entries met on the way are freed. */
static struct th_slot *lookup(struct threshold_ctx *t, const struct th_key *k, uint64_t h,
                              uint64_t now)
{
    for (size_t i = 0; i < TH_PROBE; i++) {
        struct th_slot *s = &t->slots[(h + i) & t->mask];
        if (s->rule == NULL)
            continue;
        if (now > s->expire) {
            slot_release(t, s);
            continue;
        }
        if (key_eq(s, k))
            return s;
    }
    return NULL;
}

/* A slot for a new entry of k: a free one, else the one expiring first. */
static struct th_slot *insert(struct threshold_ctx *t, const struct th_key *k, uint64_t h,
                              uint64_t now)
{
    struct th_slot *victim = NULL;

    for (size_t i = 0; i < TH_PROBE; i++) {
        struct th_slot *s = &t->slots[(h + i) & t->mask];
        if (s->rule == NULL) {
            victim = s;
            break;
        }
        if (victim == NULL || s->expire < victim->expire)
            victim = s;
    }
    if (victim->rule != NULL) {
        t->stats.evicted++;
        slot_release(t, victim);
    }
    memset(victim, 0, sizeof(*victim));
    victim->rule = k->rule;
    victim->track = k->track;
    victim->family = k->family;
    memcpy(victim->a, k->a, 16);
    memcpy(victim->b, k->b, 16);
    victim->flow_id = k->flow_id;
    victim->tv1 = now;
    victim->count = 1;
    victim->uniq = -1;
    return victim;
}

static void slot_expiry(struct th_slot *s, const struct rule_threshold *th)
{
    uint64_t e = s->tv1 + (uint64_t)th->seconds * USEC;

    if (th->type == TH_RATE && s->tv_timeout != 0) {
        uint64_t te = (s->tv_timeout + th->timeout + 1) * USEC;
        if (te > e)
            e = te;
    }
    s->expire = e;
}

/* ---- unique_on --------------------------------------------------------- */

/* Records port in s's distinct-port set; true when it was not there.  With
 * no set available every port counts as new. */
static bool unique_add(struct threshold_ctx *t, struct th_slot *s, uint16_t port)
{
    uint64_t *set;

    if (t->uniq == NULL)
        return true;
    if (s->uniq < 0) {
        if (t->nufree == 0)
            return true;
        s->uniq = t->ufree[--t->nufree];
        memset(t->uniq + (size_t)s->uniq * TH_PORT_WORDS, 0, TH_PORT_WORDS * sizeof(uint64_t));
    }
    set = t->uniq + (size_t)s->uniq * TH_PORT_WORDS;
    if (set[port / 64] >> (port % 64) & 1)
        return false;
    set[port / 64] |= UINT64_C(1) << (port % 64);
    return true;
}

/* ---- decisions --------------------------------------------------------- */

static bool suppressed(const struct rule *r, const struct packet *p)
{
    for (size_t i = 0; i < r->nsuppress; i++) {
        const struct rule_suppress *s = r->suppress[i];
        switch (s->track) {
        case TRACK_SRC:
            if (addr_set_match(&s->addrs, &p->src))
                return true;
            break;
        case TRACK_DST:
            if (addr_set_match(&s->addrs, &p->dst))
                return true;
            break;
        case TRACK_EITHER:
            if (addr_set_match(&s->addrs, &p->src) || addr_set_match(&s->addrs, &p->dst))
                return true;
            break;
        default:
            return true; /* no track: every alert of the rule */
        }
    }
    return false;
}

static bool rate_reached(struct th_slot *s, const struct rule_threshold *th, uint64_t now)
{
    uint64_t sec = now / USEC;

    if (s->tv_timeout != 0) {
        if (sec - s->tv_timeout > th->timeout) {
            s->tv_timeout = 0;
            return false;
        }
        return true;
    }
    if (now <= s->tv1 + (uint64_t)th->seconds * USEC) {
        if (++s->count > th->count) {
            s->tv_timeout = sec;
            return true;
        }
    } else {
        s->tv1 = now;
        s->count = 1;
    }
    return false;
}

bool threshold_allow(struct threshold_ctx *t, const struct rule *r, const struct packet *p)
{
    const struct rule_threshold *th = &r->threshold;
    struct th_key k;
    struct th_slot *s;
    uint64_t h, now = p->ts_usec;
    bool alert = false;

    if (r->nsuppress > 0 && suppressed(r, p)) {
        t->stats.suppressed++;
        return false;
    }
    if (th->type == TH_NONE)
        return true;
    if (th->track == TRACK_FLOW && p->flow == NULL)
        return true;
    key_of(&k, r, th->track, p);
    h = key_hash(&k);
    s = lookup(t, &k, h, now);

    switch (th->type) {
    case TH_LIMIT:
        if (s != NULL) {
            alert = ++s->count <= th->count;
        } else {
            s = insert(t, &k, h, now);
            alert = true;
        }
        break;
    case TH_THRESHOLD:
        if (s != NULL) {
            if (++s->count >= th->count) {
                alert = true;
                s->count = 0;
            }
        } else if (th->count == 1) {
            alert = true; /* no entry needed */
        } else {
            s = insert(t, &k, h, now);
        }
        break;
    case TH_BOTH:
        if (s != NULL) {
            alert = ++s->count == th->count;
        } else {
            s = insert(t, &k, h, now);
            alert = th->count == 1;
        }
        break;
    case TH_DETECTION: {
        uint16_t port = th->unique_on == TH_UNIQUE_SRC_PORT ? p->sp : p->dp;
        if (s != NULL) {
            if (th->unique_on == TH_UNIQUE_NONE || unique_add(t, s, port))
                s->count++;
            alert = s->count > th->count;
        } else {
            s = insert(t, &k, h, now);
            if (th->unique_on != TH_UNIQUE_NONE)
                unique_add(t, s, port);
        }
        break;
    }
    case TH_RATE:
        if (s != NULL) {
            alert = !(rate_reached(s, th, now) && th->new_action == TH_ACTION_PASS);
        } else {
            s = insert(t, &k, h, now);
            alert = true;
        }
        break;
    case TH_NONE:
    default:
        return true;
    }
    if (s != NULL)
        slot_expiry(s, th);
    if (!alert)
        t->stats.held++;
    return alert;
}
