/*
 * detect_iponly.c — address-set prefilter for rules without a fast pattern.
 *
 * Thousands of ET Open rules (botcc, ciarmy, compromised, tor, dshield) test
 * nothing but addresses.  Evaluating them one by one per packet would cost
 * more than all other detection together, so, like Suricata's IP-only
 * engine, they are indexed by address: for each family and each side
 * (source, destination) the address space is cut into elementary intervals
 * at every range boundary of every rule, and each interval carries a bitmap
 * of the rules whose set covers it.  A packet costs two binary searches and
 * an AND of two bitmaps (two more for "<>" rules), whatever the number of
 * rules and addresses.
 *
 * The bitmap only proposes candidates: each is then verified in full like
 * every other rule, so the index never decides a match on its own.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/kanshi.h"
#include "detect_int.h"

typedef unsigned __int128 u128;

/* One side of one family: m elementary intervals starting at start[k],
 * interval k's rules in bits[k * words .. (k+1) * words). */
struct iponly_side {
    u128 *start;
    size_t m;
    uint64_t *bits;
};

struct iponly {
    size_t n;     /* indexed rules */
    size_t words; /* 64-bit words per bitmap */
    uint32_t *ids; /* bit j -> rule index */
    uint64_t *bidir; /* bitmap of "<>" rules */
    bool any_bidir;
    struct iponly_side side[2][2]; /* [family v4=0 v6=1][src=0 dst=1] */
};

static u128 v6_to_u128(const uint8_t a[16])
{
    u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | a[i];
    return v;
}

static const u128 U128_MAX = ~(u128)0;

/* Calls fn(lo, hi) for every range of set s in family fam (0 v4, 1 v6). */
static void set_ranges(const struct addr_set *s, int fam,
                       void (*fn)(void *arg, u128 lo, u128 hi), void *arg)
{
    if (s->any) {
        fn(arg, 0, fam == 0 ? 0xffffffffu : U128_MAX);
        return;
    }
    if (fam == 0) {
        for (size_t i = 0; i < s->n4; i++)
            fn(arg, s->v4[i].lo, s->v4[i].hi);
    } else {
        for (size_t i = 0; i < s->n6; i++)
            fn(arg, v6_to_u128(s->v6[i].lo), v6_to_u128(s->v6[i].hi));
    }
}

struct bound_acc {
    u128 *b;
    size_t n, cap;
    u128 max;
    bool oom;
};

static void bound_push(struct bound_acc *a, u128 v)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        u128 *nb = kanshi_reallocarray(a->b, nc, sizeof(*nb));
        if (nb == NULL) {
            a->oom = true;
            return;
        }
        a->b = nb;
        a->cap = nc;
    }
    a->b[a->n++] = v;
}

static void bound_add(void *arg, u128 lo, u128 hi)
{
    struct bound_acc *a = arg;
    bound_push(a, lo);
    if (hi < a->max)
        bound_push(a, hi + 1);
}

static int u128_cmp(const void *x, const void *y)
{
    u128 a = *(const u128 *)x, b = *(const u128 *)y;
    return a < b ? -1 : a > b;
}

/* Index of the interval holding v: the last start <= v. */
static size_t side_find(const struct iponly_side *s, u128 v)
{
    size_t lo = 0, hi = s->m;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->start[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

struct mark_ctx {
    struct iponly_side *s;
    size_t words, bit;
    u128 max;
};

static void mark_range(void *arg, u128 lo, u128 hi)
{
    struct mark_ctx *c = arg;
    size_t k0 = side_find(c->s, lo);
    size_t k1 = hi < c->max ? side_find(c->s, hi + 1) : c->s->m;

    /* k1 is the interval starting at hi+1: excluded. */
    for (size_t k = k0; k < k1; k++)
        c->s->bits[k * c->words + c->bit / 64] |= 1ULL << (c->bit % 64);
}

static int side_build(struct iponly_side *s, struct rule *const *rules, const uint32_t *ids,
                      size_t n, size_t words, int fam, int which)
{
    struct bound_acc acc = {.max = fam == 0 ? 0xffffffffu : U128_MAX};
    size_t m = 0;

    bound_push(&acc, 0);
    for (size_t j = 0; j < n; j++) {
        const struct rule *r = rules[ids[j]];
        set_ranges(which == 0 ? &r->src : &r->dst, fam, bound_add, &acc);
    }
    if (acc.oom) {
        free(acc.b);
        return -ENOMEM;
    }
    qsort(acc.b, acc.n, sizeof(*acc.b), u128_cmp);
    for (size_t i = 0; i < acc.n; i++)
        if (m == 0 || acc.b[i] != acc.b[m - 1])
            acc.b[m++] = acc.b[i];
    s->start = acc.b;
    s->m = m;
    s->bits = kanshi_calloc(m * words + 1, sizeof(uint64_t));
    if (s->bits == NULL)
        return -ENOMEM;
    for (size_t j = 0; j < n; j++) {
        const struct rule *r = rules[ids[j]];
        struct mark_ctx c = {.s = s, .words = words, .bit = j, .max = acc.max};
        set_ranges(which == 0 ? &r->src : &r->dst, fam, mark_range, &c);
    }
    return 0;
}

bool detect_iponly_eligible(const struct rule *r)
{
    return !(r->src.any && r->dst.any);
}

int detect_iponly_build(struct iponly **out, struct rule *const *rules, const uint32_t *ids,
                        size_t n)
{
    struct iponly *io;
    int rc = -ENOMEM;

    *out = NULL;
    if (n == 0)
        return 0;
    io = calloc(1, sizeof(*io));
    if (io == NULL)
        return -ENOMEM;
    io->n = n;
    io->words = (n + 63) / 64;
    io->ids = kanshi_calloc(n, sizeof(*io->ids));
    io->bidir = kanshi_calloc(io->words, sizeof(uint64_t));
    if (io->ids == NULL || io->bidir == NULL)
        goto fail;
    memcpy(io->ids, ids, n * sizeof(*ids));
    for (size_t j = 0; j < n; j++) {
        if (rules[ids[j]]->bidir) {
            io->bidir[j / 64] |= 1ULL << (j % 64);
            io->any_bidir = true;
        }
    }
    for (int fam = 0; fam < 2; fam++)
        for (int which = 0; which < 2; which++)
            if ((rc = side_build(&io->side[fam][which], rules, ids, n, io->words, fam, which)) !=
                0)
                goto fail;
    *out = io;
    return 0;
fail:
    detect_iponly_free(io);
    return rc;
}

void detect_iponly_free(struct iponly *io)
{
    if (io == NULL)
        return;
    for (int f = 0; f < 2; f++) {
        for (int w = 0; w < 2; w++) {
            free(io->side[f][w].start);
            free(io->side[f][w].bits);
        }
    }
    free(io->ids);
    free(io->bidir);
    free(io);
}

size_t detect_iponly_size(const struct iponly *io)
{
    size_t b = 0;
    if (io == NULL)
        return 0;
    for (int f = 0; f < 2; f++)
        for (int w = 0; w < 2; w++)
            b += io->side[f][w].m * (sizeof(u128) + io->words * sizeof(uint64_t));
    return b;
}

static const uint64_t *side_bits(const struct iponly *io, int fam, int which,
                                 const struct kanshi_addr *a)
{
    const struct iponly_side *s = &io->side[fam][which];
    u128 v;

    if (fam == 0) {
        v = (u128)((uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 | (uint32_t)a->a[2] << 8 |
                   a->a[3]);
    } else {
        v = v6_to_u128(a->a);
    }
    return &s->bits[side_find(s, v) * io->words];
}

void detect_iponly_lookup(const struct iponly *io, const struct packet *p, uint32_t *stamp,
                          uint32_t gen, uint32_t *cand, size_t *ncand)
{
    int fam;
    const uint64_t *s, *d, *rs = NULL, *rd = NULL;

    if (io == NULL || p->src.family != p->dst.family)
        return;
    fam = p->src.family == AF_INET6 ? 1 : 0;
    s = side_bits(io, fam, 0, &p->src);
    d = side_bits(io, fam, 1, &p->dst);
    if (io->any_bidir) {
        rs = side_bits(io, fam, 0, &p->dst);
        rd = side_bits(io, fam, 1, &p->src);
    }
    for (size_t w = 0; w < io->words; w++) {
        uint64_t m = s[w] & d[w];
        if (rs != NULL)
            m |= rs[w] & rd[w] & io->bidir[w];
        while (m != 0) {
            uint32_t rid = io->ids[w * 64 + (size_t)__builtin_ctzll(m)];
            m &= m - 1;
            if (stamp[rid] != gen) {
                stamp[rid] = gen;
                cand[(*ncand)++] = rid;
            }
        }
    }
}
