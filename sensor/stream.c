/*
 * stream.c — TCP sessions and stream reassembly (see include/kanshi/stream.h).
 *
 * Storage: per direction one linear buffer indexed by stream offset,
 * buf[o - base] holding the byte at offset o.  [base, contig) is
 * reassembled data (the consumer's tail from `keep` on, then what it has not
 * inspected); ranges[] lists the out-of-order data beyond the first hole
 * (sorted, disjoint, never touching contig), stored at its own offset too.
 * So an in-order segment — the common case — costs one memcpy, filling a
 * hole is a copy plus merging ranges, and the consumer gets one pointer.
 * The buffer slides forward (memmove of the kept tail and the out-of-order
 * data) when it would otherwise grow, and grows by doubling within the
 * reassembly memcap.  Buffers of the initial size and sessions are recycled
 * through free lists, so steady traffic does not call malloc.
 *
 * Sequence numbers become offsets relative to the highest sequence number
 * seen in the direction (next_seq <-> next_off): a signed 32-bit distance
 * from a point that moves with the stream, so wrap-around needs nothing
 * special and streams may exceed 4 GiB.  Anything further than the largest
 * TCP window (2^30) from that point is not believed.
 *
 * The state machine follows Suricata's where it matters for what is
 * reassembled: SYN, SYN/ACK (acking the ISN), ACK (acking the server's ISN);
 * data only from the established state; a server packet before the third
 * ACK is invalid ("ACK in wrong direction"); a RST is accepted only at the
 * exact next sequence number (bsd policy) or, optionally, in the window;
 * an ACK beyond what the other side could send is invalid; data beyond the
 * receiver's advertised window is invalid unless the session was picked up
 * mid-stream (window scale unknown).  The closing states are derived from
 * which FINs were seen and acknowledged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/stream.h"

#define STREAM_BUF_MIN 4096u
#define STREAM_MAX_RANGES 16
#define STREAM_MAX_WINDOW (1u << 30) /* RFC 7323: 65535 << 14 */
#define STREAM_MAX_BUF (1u << 31)

enum { PH_SYN_SENT, PH_SYN_RECV, PH_EST, PH_CLOSED };

/* Direction flags. */
enum {
    D_ISN = 1u << 0,    /* isn and next_seq known */
    D_WSCALE = 1u << 1, /* its SYN offered window scaling */
    D_WIN = 1u << 2,    /* win known */
    D_FIN = 1u << 3,
    D_FIN_ACKED = 1u << 4,
    D_EOF = 1u << 5, /* contig reached the FIN */
    D_RST = 1u << 6,
    D_DEPTH = 1u << 7,
    D_MEMCAP = 1u << 8,
    D_GAP_PENDING = 1u << 9,
    D_GAP = 1u << 10,
    D_DONE = D_EOF | D_RST | D_DEPTH | D_MEMCAP,
};

struct stream_range {
    uint64_t start, end;
};

/* Who brought the held bytes, for the bsd policy: piece i covers offsets
 * [off, next piece's off) and came from a segment starting at owner. */
#define STREAM_MAX_OWNERS 32
struct stream_owner {
    uint64_t off, owner;
};

struct stream_dir {
    uint8_t *buf;
    uint32_t cap;
    uint16_t flags;     /* D_* */
    uint8_t wscale;     /* shift of the windows this side advertises */
    uint8_t nranges;    /* out-of-order ranges in use */
    uint64_t base;      /* offset of buf[0] */
    uint64_t keep;      /* oldest offset the consumer still wants (>= base) */
    uint64_t inspected; /* consumer's mark (keep <= inspected <= contig) */
    uint64_t contig;    /* end of the contiguous data */
    uint64_t acked;     /* offset acknowledged by the other side */
    uint64_t next_off;  /* offset of next_seq */
    uint64_t fin_off;   /* offset of the FIN (D_FIN) */
    uint32_t isn, next_seq;
    uint32_t win; /* receive window this side advertises, scaled */
    struct stream_range ranges[STREAM_MAX_RANGES];
    uint8_t nowners; /* bsd policy: pieces recorded in owners (0: none yet) */
    struct stream_owner owners[STREAM_MAX_OWNERS];
};

struct tcp_session {
    struct tcp_session *prev, *next; /* the context's live list; next: free list */
    uint8_t phase;                   /* PH_* */
    uint8_t client;                  /* flow direction of the SYN's sender */
    uint8_t first_fin;               /* direction that closed first, 0xff: none */
    bool midstream;
    bool tfo; /* the SYN carried TCP Fast Open data (in the client's stream) */
    bool async; /* stream.async-oneside: established on the client's side alone */
    uint32_t early_end; /* SYN_RECV: end of the data the server sent before the third ACK */
    struct stream_dir d[2];
};

struct stream_ctx {
    struct stream_config cfg;
    struct tcp_session *live;     /* sessions in use */
    struct tcp_session *free_ssn; /* recycled sessions, still counted in memuse */
    void *free_bufs;              /* recycled STREAM_BUF_MIN buffers, chained through their
                                     first bytes, still counted in reassembly_memuse */
    struct stream_stats stats;
};

void stream_config_default(struct stream_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memcap = 64u << 20;
    cfg->reassembly_memcap = 256u << 20;
    cfg->depth = 1u << 20;
    cfg->ooo_limit = 1u << 20;
    cfg->policy = STREAM_POLICY_FIRST;
    cfg->midstream = false;
    cfg->gap_skip = true;
    cfg->rst_in_window = false;
}

int stream_ctx_create(struct stream_ctx **out, const struct stream_config *cfg)
{
    struct stream_ctx *ctx;

    if (cfg->memcap < sizeof(struct tcp_session) || cfg->reassembly_memcap == 0 ||
        (cfg->policy != STREAM_POLICY_FIRST && cfg->policy != STREAM_POLICY_LAST &&
         cfg->policy != STREAM_POLICY_BSD))
        return -EINVAL;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return -ENOMEM;
    ctx->cfg = *cfg;
    *out = ctx;
    return 0;
}

const struct stream_stats *stream_ctx_stats(const struct stream_ctx *ctx)
{
    return &ctx->stats;
}

/* --- memory ------------------------------------------------------------ */

static bool stream_buf_cache_release(struct stream_ctx *ctx)
{
    void *b = ctx->free_bufs;

    if (b == NULL)
        return false;
    memcpy(&ctx->free_bufs, b, sizeof(void *));
    free(b);
    ctx->stats.reassembly_memuse -= STREAM_BUF_MIN;
    return true;
}

static void stream_buf_release(struct stream_ctx *ctx, struct stream_dir *sd)
{
    if (sd->buf == NULL)
        return;
    if (sd->cap == STREAM_BUF_MIN) {
        memcpy(sd->buf, &ctx->free_bufs, sizeof(void *));
        ctx->free_bufs = sd->buf;
    } else {
        free(sd->buf);
        ctx->stats.reassembly_memuse -= sd->cap;
    }
    sd->buf = NULL;
    sd->cap = 0;
}

/* Grows sd's buffer to newcap bytes, keeping its contents.  0 or -ENOMEM
 * (the memcap or malloc said no). */
static int stream_buf_grow(struct stream_ctx *ctx, struct stream_dir *sd, uint32_t newcap)
{
    uint64_t delta = newcap - sd->cap;
    uint8_t *nb;

    if (sd->buf == NULL && newcap == STREAM_BUF_MIN && ctx->free_bufs != NULL) {
        sd->buf = ctx->free_bufs;
        memcpy(&ctx->free_bufs, sd->buf, sizeof(void *));
        sd->cap = STREAM_BUF_MIN;
        return 0;
    }
    while (ctx->stats.reassembly_memuse + delta > ctx->cfg.reassembly_memcap &&
           stream_buf_cache_release(ctx))
        ;
    if (ctx->stats.reassembly_memuse + delta > ctx->cfg.reassembly_memcap)
        return -ENOMEM;
    nb = realloc(sd->buf, newcap);
    if (nb == NULL)
        return -ENOMEM;
    ctx->stats.reassembly_memuse += delta;
    sd->buf = nb;
    sd->cap = newcap;
    return 0;
}

/* Highest offset stored in sd. */
static uint64_t stream_top(const struct stream_dir *sd)
{
    return sd->nranges > 0 ? sd->ranges[sd->nranges - 1].end : sd->contig;
}

/* Makes sd's buffer reach offset end: slides it first (dropping bytes
 * before keep), grows it if that is not enough.  0 or -ENOMEM. */
static int stream_ensure(struct stream_ctx *ctx, struct stream_dir *sd, uint64_t end)
{
    uint64_t need;
    uint32_t newcap = STREAM_BUF_MIN;

    if (sd->buf == NULL)
        sd->base = sd->keep;
    if (end - sd->base <= sd->cap)
        return 0;
    if (sd->buf != NULL && sd->keep > sd->base) {
        memmove(sd->buf, sd->buf + (sd->keep - sd->base), stream_top(sd) - sd->keep);
        sd->base = sd->keep;
        if (end - sd->base <= sd->cap)
            return 0;
    }
    need = end - sd->base;
    if (need > STREAM_MAX_BUF)
        return -ENOMEM;
    while (newcap < need)
        newcap <<= 1;
    return stream_buf_grow(ctx, sd, newcap);
}

static struct tcp_session *stream_session_alloc(struct stream_ctx *ctx)
{
    struct tcp_session *s = ctx->free_ssn;

    if (s != NULL) {
        ctx->free_ssn = s->next;
    } else {
        if (ctx->stats.memuse + sizeof(*s) > ctx->cfg.memcap)
            return NULL;
        s = malloc(sizeof(*s));
        if (s == NULL)
            return NULL;
        ctx->stats.memuse += sizeof(*s);
    }
    memset(s, 0, sizeof(*s));
    s->first_fin = 0xff;
    s->next = ctx->live;
    if (ctx->live != NULL)
        ctx->live->prev = s;
    ctx->live = s;
    ctx->stats.sessions_active++;
    return s;
}

void stream_session_free(struct stream_ctx *ctx, struct tcp_session *s)
{
    if (s == NULL)
        return;
    stream_buf_release(ctx, &s->d[0]);
    stream_buf_release(ctx, &s->d[1]);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        ctx->live = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = NULL;
    s->next = ctx->free_ssn;
    ctx->free_ssn = s;
    ctx->stats.sessions_active--;
}

void stream_ctx_destroy(struct stream_ctx *ctx)
{
    struct tcp_session *s;

    if (ctx == NULL)
        return;
    while (ctx->live != NULL)
        stream_session_free(ctx, ctx->live);
    while ((s = ctx->free_ssn) != NULL) {
        ctx->free_ssn = s->next;
        free(s);
    }
    while (stream_buf_cache_release(ctx))
        ;
    free(ctx);
}

/* --- names and views --------------------------------------------------- */

bool stream_midstream(const struct tcp_session *s)
{
    return s->midstream;
}

void stream_session_swap(struct tcp_session *s)
{
    struct stream_dir t = s->d[0];

    s->d[0] = s->d[1];
    s->d[1] = t;
    s->client ^= 1;
    if (s->first_fin != 0xff)
        s->first_fin ^= 1;
}

enum stream_state stream_state(const struct tcp_session *s)
{
    int c = s->client, sv = !c;
    uint16_t cf, sf;

    switch (s->phase) {
    case PH_SYN_SENT:
        return STREAM_STATE_SYN_SENT;
    case PH_SYN_RECV:
        return STREAM_STATE_SYN_RECV;
    case PH_CLOSED:
        return STREAM_STATE_CLOSED;
    default:
        break;
    }
    cf = s->d[c].flags;
    sf = s->d[sv].flags;
    if (!(cf & D_FIN) && !(sf & D_FIN))
        return STREAM_STATE_ESTABLISHED;
    if ((cf & D_FIN_ACKED) && (sf & D_FIN_ACKED))
        return STREAM_STATE_CLOSED;
    if (s->first_fin == c) {
        if (!(sf & D_FIN))
            return (cf & D_FIN_ACKED) ? STREAM_STATE_FIN_WAIT2 : STREAM_STATE_FIN_WAIT1;
        return (cf & D_FIN_ACKED) ? STREAM_STATE_TIME_WAIT : STREAM_STATE_CLOSING;
    }
    return (cf & D_FIN) ? STREAM_STATE_LAST_ACK : STREAM_STATE_CLOSE_WAIT;
}

const char *stream_state_name(enum stream_state st)
{
    static const char *const names[] = {
        [STREAM_STATE_NONE] = "none",
        [STREAM_STATE_SYN_SENT] = "syn_sent",
        [STREAM_STATE_SYN_RECV] = "syn_recv",
        [STREAM_STATE_ESTABLISHED] = "established",
        [STREAM_STATE_FIN_WAIT1] = "fin_wait1",
        [STREAM_STATE_FIN_WAIT2] = "fin_wait2",
        [STREAM_STATE_CLOSING] = "closing",
        [STREAM_STATE_TIME_WAIT] = "time_wait",
        [STREAM_STATE_CLOSE_WAIT] = "close_wait",
        [STREAM_STATE_LAST_ACK] = "last_ack",
        [STREAM_STATE_CLOSED] = "closed",
    };

    if ((unsigned)st >= KANSHI_ARRAY_LEN(names))
        return "unknown";
    return names[st];
}

void stream_view(const struct tcp_session *s, int dir, struct stream_view *v)
{
    const struct stream_dir *sd = &s->d[dir & 1];
    uint16_t fl = sd->flags;

    v->base = sd->keep;
    v->inspected = sd->inspected;
    v->end = sd->contig;
    v->data = sd->buf != NULL && sd->contig > sd->keep ? sd->buf + (sd->keep - sd->base) : NULL;
    /* one-sided: nobody acknowledges, so what arrived counts as acked */
    v->acked = s->async ? sd->contig : sd->acked;
    v->fin = 0;
    if (fl & D_FIN) {
        v->fin = sd->fin_off;
        if (v->acked > sd->fin_off)
            v->acked = sd->fin_off;
    }
    v->flags = ((fl & D_FIN) ? STREAM_V_FIN : 0) | ((fl & D_EOF) ? STREAM_V_EOF : 0) |
               ((fl & D_RST) ? STREAM_V_RST : 0) | ((fl & D_DEPTH) ? STREAM_V_DEPTH : 0) |
               ((fl & D_MEMCAP) ? STREAM_V_MEMCAP : 0) |
               ((fl & D_GAP_PENDING) ? STREAM_V_GAP_PENDING : 0) |
               ((fl & D_GAP) ? STREAM_V_GAP : 0);
}

int stream_ooo_block(const struct tcp_session *s, int dir, unsigned i, const uint8_t **data,
                     size_t *len)
{
    const struct stream_dir *sd = &s->d[dir & 1];

    if (i >= sd->nranges || sd->buf == NULL || sd->ranges[i].start < sd->base ||
        sd->ranges[i].end <= sd->ranges[i].start)
        return -1;
    *data = sd->buf + (sd->ranges[i].start - sd->base);
    *len = (size_t)(sd->ranges[i].end - sd->ranges[i].start);
    return 0;
}

/* --- reassembly -------------------------------------------------------- */

/* Offset of sequence number seq in direction sd. */
static inline int64_t stream_off(const struct stream_dir *sd, uint32_t seq)
{
    return (int64_t)sd->next_off + (int32_t)(seq - sd->next_seq);
}

/* Moves ranges that now touch contig into it. */
static void stream_absorb(struct stream_dir *sd)
{
    unsigned n = 0;

    while (n < sd->nranges && sd->ranges[n].start <= sd->contig) {
        if (sd->ranges[n].end > sd->contig)
            sd->contig = sd->ranges[n].end;
        n++;
    }
    if (n > 0) {
        memmove(sd->ranges, sd->ranges + n, (sd->nranges - n) * sizeof(sd->ranges[0]));
        sd->nranges = (uint8_t)(sd->nranges - n);
    }
}

/* Adds [s, e) to the ranges, merging what it touches.  The caller checked
 * that the result fits. */
static void stream_range_add(struct stream_dir *sd, uint64_t s, uint64_t e)
{
    unsigned i = 0, j;

    while (i < sd->nranges && sd->ranges[i].end < s)
        i++;
    j = i;
    while (j < sd->nranges && sd->ranges[j].start <= e) {
        if (sd->ranges[j].start < s)
            s = sd->ranges[j].start;
        if (sd->ranges[j].end > e)
            e = sd->ranges[j].end;
        j++;
    }
    /* Ranges i..j-1 become one. */
    if (j == i) {
        memmove(sd->ranges + i + 1, sd->ranges + i, (sd->nranges - i) * sizeof(sd->ranges[0]));
        sd->nranges++;
    } else if (j > i + 1) {
        memmove(sd->ranges + i + 1, sd->ranges + j, (sd->nranges - j) * sizeof(sd->ranges[0]));
        sd->nranges = (uint8_t)(sd->nranges - (j - i - 1));
    }
    sd->ranges[i].start = s;
    sd->ranges[i].end = e;
}

/* Ranges there would be after adding [s, e). */
static unsigned stream_range_count_after(const struct stream_dir *sd, uint64_t s, uint64_t e)
{
    unsigned touched = 0;

    for (unsigned i = 0; i < sd->nranges; i++)
        if (sd->ranges[i].end >= s && sd->ranges[i].start <= e)
            touched++;
    return sd->nranges - touched + 1;
}

/* Compares bytes [a, b) held in sd with src (which holds them from offset
 * s); with the last-wins policy writes src over them.  True when they
 * differed. */
/* --- bsd policy: who brought the held bytes --------------------------- */

/* Index of the piece holding offset pos, or -1 when pos is before them. */
static int stream_owner_find(const struct stream_dir *sd, uint64_t pos)
{
    int i = -1;

    for (unsigned k = 0; k < sd->nowners && sd->owners[k].off <= pos; k++)
        i = (int)k;
    return i;
}

/* Offsets [a, b) came from a segment starting at owner.  Pieces wholly
 * before the oldest byte kept are dropped, neighbours with one owner merge;
 * when the table is full the bytes stay unowned (owner 0: they are kept,
 * as the first policy would). */
static void stream_owner_set(struct stream_dir *sd, uint64_t a, uint64_t b, uint64_t owner)
{
    struct stream_owner t[STREAM_MAX_OWNERS + 2];
    unsigned n = 0;
    int ib;
    uint64_t after;

    if (a >= b)
        return;
    while (sd->nowners >= 2 && sd->owners[1].off <= sd->keep) {
        memmove(sd->owners, sd->owners + 1, (sd->nowners - 1) * sizeof(sd->owners[0]));
        sd->nowners--;
    }
    ib = stream_owner_find(sd, b);
    after = ib >= 0 ? sd->owners[ib].owner : 0;
    for (unsigned k = 0; k < sd->nowners && sd->owners[k].off < a; k++)
        t[n++] = sd->owners[k];
    t[n++] = (struct stream_owner){a, owner};
    t[n++] = (struct stream_owner){b, after};
    for (unsigned k = 0; k < sd->nowners; k++) {
        if (sd->owners[k].off < b)
            continue;
        if (sd->owners[k].off == b)
            n--; /* b was a boundary already: keep its own owner */
        if (n >= STREAM_MAX_OWNERS + 2)
            break;
        t[n++] = sd->owners[k];
    }
    /* merge neighbours with one owner */
    unsigned m = 0;
    for (unsigned k = 0; k < n; k++) {
        if (m > 0 && t[m - 1].owner == t[k].owner)
            continue;
        t[m++] = t[k];
    }
    if (m > STREAM_MAX_OWNERS) {
        /* past the table's reach the bytes are unowned (kept) */
        m = STREAM_MAX_OWNERS;
        t[m - 1].owner = 0;
    }
    memcpy(sd->owners, t, m * sizeof(t[0]));
    sd->nowners = (uint8_t)m;
}

/* bsd: in [a, b), the pieces brought by a segment starting after s take
 * the new bytes (those not inspected yet). */
static void stream_overlap_bsd(struct stream_dir *sd, uint64_t a, uint64_t b, const uint8_t *src,
                               uint64_t s)
{
    uint64_t pos = a;

    while (pos < b) {
        int i = stream_owner_find(sd, pos);
        uint64_t os = i >= 0 ? sd->owners[i].owner : 0, pe = b;

        if ((unsigned)(i + 1) < sd->nowners && sd->owners[i + 1].off < pe)
            pe = sd->owners[i + 1].off;
        if (s < os) {
            uint64_t w = pos > sd->inspected ? pos : sd->inspected;
            if (w < pe)
                memcpy(sd->buf + (w - sd->base), src + (w - s), pe - w);
            stream_owner_set(sd, pos, pe, s);
        }
        pos = pe;
    }
}

static bool stream_overlap(const struct stream_ctx *ctx, struct stream_dir *sd, uint64_t a,
                           uint64_t b, const uint8_t *src, uint64_t s)
{
    uint8_t *held = sd->buf + (a - sd->base);
    const uint8_t *now = src + (a - s);

    if (memcmp(held, now, b - a) == 0)
        return false;
    if (ctx->cfg.policy == STREAM_POLICY_BSD)
        stream_overlap_bsd(sd, a, b, src, s);
    if (ctx->cfg.policy == STREAM_POLICY_LAST) {
        /* Bytes the consumer already inspected cannot change. */
        uint64_t w = a > sd->inspected ? a : sd->inspected;
        if (w < b)
            memcpy(sd->buf + (w - sd->base), src + (w - s), b - w);
    }
    return true;
}

/* Stores bytes [s, e) (src holds them; 0 <= s < e) in sd. */
static void stream_insert(struct stream_ctx *ctx, struct stream_dir *sd, uint64_t s, uint64_t e,
                          const uint8_t *src, uint32_t *r)
{
    bool overlap = false, diff = false, dropped = false;
    uint64_t added = 0, old = sd->contig, bs;

    /* The part already contiguous: compare where still held. */
    if (s < sd->contig) {
        uint64_t a = s > sd->keep ? s : sd->keep, b = e < sd->contig ? e : sd->contig;

        overlap = true;
        if (sd->buf != NULL && a < b)
            diff |= stream_overlap(ctx, sd, a, b, src, s);
    }

    bs = s > sd->contig ? s : sd->contig;
    if (e > bs) {
        bool inorder = bs == sd->contig;
        uint64_t pos = bs;

        if (!inorder && ((ctx->cfg.ooo_limit != 0 && e - sd->contig > ctx->cfg.ooo_limit) ||
                         stream_range_count_after(sd, bs, e) > STREAM_MAX_RANGES)) {
            ctx->stats.ooo_drops++;
            dropped = true;
            goto count;
        }
        if (stream_ensure(ctx, sd, e) != 0) {
            ctx->stats.memcap_drops++;
            dropped = true;
            if (inorder)
                sd->flags |= D_MEMCAP; /* a hole that can never fill: stop here */
            goto count;
        }
        for (unsigned i = 0; i < sd->nranges && pos < e; i++) {
            const struct stream_range *rg = &sd->ranges[i];
            uint64_t ov;

            if (rg->end <= pos)
                continue;
            if (rg->start >= e)
                break;
            if (rg->start > pos) {
                memcpy(sd->buf + (pos - sd->base), src + (pos - s), rg->start - pos);
                if (ctx->cfg.policy == STREAM_POLICY_BSD)
                    stream_owner_set(sd, pos, rg->start, s);
                added += rg->start - pos;
                pos = rg->start;
            }
            ov = e < rg->end ? e : rg->end;
            overlap = true;
            diff |= stream_overlap(ctx, sd, pos, ov, src, s);
            pos = ov;
        }
        if (pos < e) {
            memcpy(sd->buf + (pos - sd->base), src + (pos - s), e - pos);
            if (ctx->cfg.policy == STREAM_POLICY_BSD)
                stream_owner_set(sd, pos, e, s);
            added += e - pos;
        }
        if (inorder)
            sd->contig = e;
        else
            stream_range_add(sd, bs, e);
        stream_absorb(sd);
    }

count:
    if (sd->contig > old) {
        ctx->stats.bytes += sd->contig - old;
        *r |= STREAM_R_DATA;
    }
    if (!overlap)
        return;
    if (added == 0 && !diff && !dropped) {
        ctx->stats.retransmissions++;
        *r |= STREAM_R_RETRANS;
        return;
    }
    ctx->stats.overlaps++;
    *r |= STREAM_R_OVERLAP;
    if (diff) {
        ctx->stats.overlaps_diff++;
        *r |= STREAM_R_OVERLAP_DIFF;
    }
}

/*
 * Skips holes the other side has acknowledged (the sensor missed their
 * segments), once the consumer has inspected everything before the hole;
 * until then the gap is pending.
 */
static void stream_gap(struct stream_ctx *ctx, struct stream_dir *sd, uint32_t *r)
{
    uint64_t lim = sd->acked;

    if (!ctx->cfg.gap_skip || (sd->flags & (D_RST | D_MEMCAP | D_DEPTH))) {
        sd->flags &= (uint16_t)~D_GAP_PENDING;
        return;
    }
    if ((sd->flags & D_FIN) && lim > sd->fin_off)
        lim = sd->fin_off;
    if (ctx->cfg.depth != 0 && lim > ctx->cfg.depth)
        lim = ctx->cfg.depth;
    while (lim > sd->contig) {
        uint64_t ns, old = sd->contig;

        if (sd->inspected < sd->contig) {
            sd->flags |= D_GAP_PENDING;
            *r |= STREAM_R_GAP;
            return;
        }
        ns = sd->nranges > 0 && sd->ranges[0].start < lim ? sd->ranges[0].start : lim;
        ctx->stats.gaps++;
        ctx->stats.gap_bytes += ns - old;
        sd->flags |= D_GAP;
        *r |= STREAM_R_GAP;
        /* Nothing before the gap may be matched with what follows it. */
        sd->contig = sd->inspected = sd->keep = ns;
        if (sd->nranges == 0)
            sd->base = ns; /* nothing stored past it */
        stream_absorb(sd);
        if (sd->contig > ns) {
            ctx->stats.bytes += sd->contig - ns;
            *r |= STREAM_R_DATA;
        }
    }
    sd->flags &= (uint16_t)~D_GAP_PENDING;
}

/* Updates the end-of-data flags of sd. */
static void stream_settle(struct stream_ctx *ctx, struct stream_dir *sd)
{
    if ((sd->flags & D_FIN) && sd->contig >= sd->fin_off)
        sd->flags |= D_EOF;
    if (ctx->cfg.depth != 0 && sd->contig >= ctx->cfg.depth && !(sd->flags & D_DEPTH)) {
        sd->flags |= D_DEPTH;
        ctx->stats.depth_reached++;
    }
}

/* Offers the segment data of sd at offset soff to reassembly. */
static void stream_data(struct stream_ctx *ctx, struct stream_dir *sd, int64_t soff,
                        const uint8_t *data, uint32_t len, uint32_t *r)
{
    int64_t s = soff, e = soff + len;
    uint64_t depth = ctx->cfg.depth;

    ctx->stats.segments++;
    if ((sd->flags & D_FIN) && e > (int64_t)sd->fin_off) {
        /* Data past the FIN: not part of the stream. */
        ctx->stats.invalid++;
        *r |= STREAM_R_INVALID;
        e = (int64_t)sd->fin_off;
        if (s >= e)
            return;
    }
    if (e <= 0) {
        /* All before the first byte: an old retransmission. */
        ctx->stats.retransmissions++;
        *r |= STREAM_R_RETRANS;
        return;
    }
    if (s < 0) {
        data += -s;
        s = 0;
    }
    if (sd->flags & (D_MEMCAP | D_RST))
        return;
    if (depth != 0) {
        if ((uint64_t)s >= depth) {
            ctx->stats.depth_bytes += (uint64_t)(e - s);
            return;
        }
        if ((uint64_t)e > depth) {
            ctx->stats.depth_bytes += (uint64_t)e - depth;
            e = (int64_t)depth;
        }
    }
    stream_insert(ctx, sd, (uint64_t)s, (uint64_t)e, data, r);
}

/* --- state machine ----------------------------------------------------- */

static void stream_invalid(struct stream_ctx *ctx, uint64_t *reason, uint32_t *r)
{
    ctx->stats.invalid++;
    if (reason != NULL)
        (*reason)++;
    *r |= STREAM_R_INVALID;
}

/* Offset in p's TCP header of option kind with length optlen (0: any
 * length), or 0 when absent. */
static uint32_t stream_tcp_opt(const struct packet *p, uint8_t want, uint8_t optlen)
{
    const uint8_t *t = p->l4;
    uint32_t hlen, i = 20;

    if (t == NULL || p->l4_len < 20)
        return 0;
    hlen = (uint32_t)(t[12] >> 4) * 4;
    if (hlen > p->l4_len)
        hlen = p->l4_len;
    while (i < hlen) {
        uint8_t kind = t[i];

        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (hlen - i < 2 || t[i + 1] < 2 || t[i + 1] > hlen - i)
            break;
        if (kind == want && (optlen == 0 || t[i + 1] == optlen))
            return i;
        i += t[i + 1];
    }
    return 0;
}

/* Window scale offered in p's TCP options, or -1. */
static int stream_wscale_opt(const struct packet *p)
{
    uint32_t i = stream_tcp_opt(p, 3, 3);

    if (i == 0)
        return -1;
    return p->l4[i + 2] > 14 ? 14 : p->l4[i + 2];
}

/* Sets up direction sd from its SYN (or SYN/ACK) p. */
static void stream_dir_syn(struct stream_dir *sd, const struct packet *p)
{
    int ws = stream_wscale_opt(p);

    sd->isn = p->tcp_seq;
    sd->next_seq = p->tcp_seq + 1;
    sd->next_off = 0;
    sd->flags |= D_ISN | D_WIN;
    sd->win = p->tcp_win; /* never scaled on a SYN */
    if (ws >= 0) {
        sd->flags |= D_WSCALE;
        sd->wscale = (uint8_t)ws;
    }
}

/* (Re)starts s as a session opened by p, a SYN from direction d. */
static void stream_start_syn(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p,
                             int d)
{
    stream_buf_release(ctx, &s->d[0]);
    stream_buf_release(ctx, &s->d[1]);
    memset(s->d, 0, sizeof(s->d));
    s->phase = PH_SYN_SENT;
    s->client = (uint8_t)d;
    s->first_fin = 0xff;
    s->midstream = false;
    s->tfo = false;
    s->async = false;
    s->early_end = 0;
    stream_dir_syn(&s->d[d], p);
}

/* A SYN with a TCP Fast Open option (kind 34, or 254 with the experimental
 * magic) may carry data (RFC 7413):
 * as Suricata, it goes into the client's stream at offset 0 and the
 * handshake then expects it acknowledged. */
static void stream_syn_data(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p,
                            int d, uint32_t *r)
{
    struct stream_dir *sd = &s->d[d];

    uint32_t exp = stream_tcp_opt(p, 254, 0);

    /* option 34, or the experimental form: kind 254 with magic 0xF989 */
    if (p->payload_len == 0 ||
        (stream_tcp_opt(p, 34, 0) == 0 &&
         (exp == 0 || p->l4[exp + 1] < 4 || p->l4[exp + 2] != 0xf9 || p->l4[exp + 3] != 0x89)))
        return;
    s->tfo = true;
    stream_data(ctx, sd, 0, p->payload, p->payload_len, r);
    sd->next_off = p->payload_len;
    sd->next_seq = p->tcp_seq + 1 + p->payload_len;
}

/* The server did not take the Fast Open data (its SYN/ACK acks only the
 * SYN): the client sends it again after the handshake. */
static void stream_tfo_refused(struct stream_ctx *ctx, struct tcp_session *s, struct stream_dir *cd)
{
    stream_buf_release(ctx, cd);
    cd->nranges = 0;
    cd->nowners = 0;
    cd->base = cd->keep = cd->inspected = cd->contig = 0;
    cd->next_off = 0;
    cd->next_seq = cd->isn + 1;
    s->tfo = false;
}

/* Direction od learns its sequence numbers from an ACK of d (midstream). */
static void stream_learn_from_ack(struct stream_dir *od, uint32_t ack)
{
    od->isn = ack - 1;
    od->next_seq = ack;
    od->next_off = 0;
    od->acked = 0;
    od->flags |= D_ISN;
}

static struct tcp_session *stream_start(struct stream_ctx *ctx, const struct packet *p, uint32_t *r)
{
    uint8_t hs = p->tcp_flags & (TH_SYN | TH_ACK | TH_RST);
    int d = p->dir;
    struct tcp_session *s;

    if (hs != TH_SYN && (!ctx->cfg.midstream || (p->tcp_flags & TH_RST))) {
        ctx->stats.no_session++;
        return NULL;
    }
    s = stream_session_alloc(ctx);
    if (s == NULL) {
        ctx->stats.memcap_drops++;
        return NULL;
    }
    ctx->stats.sessions++;
    *r |= STREAM_R_TRACKED | STREAM_R_NEW;
    if (hs == TH_SYN) {
        stream_start_syn(ctx, s, p, d);
        stream_syn_data(ctx, s, p, d, r);
        return s;
    }
    ctx->stats.midstream++;
    s->midstream = true;
    if (hs == (TH_SYN | TH_ACK)) {
        /* The SYN was missed: the sender is the server. */
        s->client = (uint8_t)!d;
        s->phase = PH_SYN_RECV;
        stream_dir_syn(&s->d[d], p);
        s->d[d].flags &= (uint16_t)~D_WSCALE;
        s->d[d].wscale = 0;
        stream_learn_from_ack(&s->d[!d], p->tcp_ack);
        return s;
    }
    s->client = (uint8_t)d;
    s->phase = PH_EST;
    *r |= STREAM_R_ESTABLISHED;
    return s;
}

/* Accepts a RST: the session is over in both directions. */
static void stream_close_rst(struct tcp_session *s, uint32_t *r)
{
    s->phase = PH_CLOSED;
    s->d[0].flags |= D_RST;
    s->d[1].flags |= D_RST;
    s->d[0].flags &= (uint16_t)~D_GAP_PENDING;
    s->d[1].flags &= (uint16_t)~D_GAP_PENDING;
    *r |= STREAM_R_RST;
}

/* The ACK of p (from d) acknowledges something o could have sent. */
static bool stream_ack_ok(const struct tcp_session *s, const struct packet *p, int d)
{
    const struct stream_dir *sd = &s->d[d], *od = &s->d[!d];
    int64_t aoff = stream_off(od, p->tcp_ack);

    if (!(p->tcp_flags & TH_ACK))
        return true;
    if (aoff > (int64_t)od->next_off + STREAM_MAX_WINDOW ||
        aoff < (int64_t)od->next_off - STREAM_MAX_WINDOW)
        return false;
    /* o can send up to the right edge d advertised; its FIN may follow. */
    if (!s->midstream && (sd->flags & D_WIN) && aoff > (int64_t)(od->acked + sd->win) + 1)
        return false;
    return true;
}

static bool stream_rst_ok(const struct stream_ctx *ctx, const struct tcp_session *s,
                          const struct packet *p, int d)
{
    const struct stream_dir *sd = &s->d[d], *od = &s->d[!d];
    int64_t soff, lo, hi;

    if (!stream_ack_ok(s, p, d))
        return false;
    if (!(sd->flags & D_ISN) || p->tcp_seq == sd->next_seq)
        return true;
    if (!ctx->cfg.rst_in_window && !s->midstream)
        return false;
    /* In the receive window of the other side. */
    soff = stream_off(sd, p->tcp_seq);
    lo = (int64_t)sd->acked;
    hi = lo + ((od->flags & D_WIN) ? (int64_t)od->win : (int64_t)STREAM_MAX_WINDOW);
    return soff >= lo && soff < hi;
}

static void stream_est(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p, int d,
                       uint32_t *r);

static uint32_t stream_syn_sent(struct stream_ctx *ctx, struct tcp_session *s,
                                const struct packet *p, int d)
{
    uint8_t hs = p->tcp_flags & (TH_SYN | TH_ACK | TH_RST);
    struct stream_dir *cd = &s->d[s->client], *sv = &s->d[!s->client];
    uint32_t r = STREAM_R_TRACKED;

    if (d == s->client) {
        if (hs == TH_SYN) {
            /* A retransmission, or a new attempt with another ISN. */
            if (p->tcp_seq != cd->isn) {
                stream_start_syn(ctx, s, p, d);
                stream_syn_data(ctx, s, p, d, &r);
            }
            return r;
        }
        if ((p->tcp_flags & TH_RST) && p->tcp_seq == cd->next_seq) {
            stream_close_rst(s, &r);
            return r | STREAM_R_EOF;
        }
        if (ctx->cfg.async_oneside && hs == TH_ACK && p->tcp_seq == cd->next_seq) {
            /* Suricata's async-oneside: the SYN/ACK went another way; the
             * client's ACK tells the server's numbers */
            s->async = true;
            s->phase = PH_EST;
            stream_learn_from_ack(sv, p->tcp_ack);
            r |= STREAM_R_ESTABLISHED;
            stream_est(ctx, s, p, d, &r);
            return r;
        }
        stream_invalid(ctx, &ctx->stats.bad_handshake, &r);
        return r;
    }
    if (hs == (TH_SYN | TH_ACK)) {
        if (s->tfo && p->tcp_ack == cd->isn + 1) {
            stream_tfo_refused(ctx, s, cd);
        } else if (p->tcp_ack != cd->next_seq) {
            stream_invalid(ctx, &ctx->stats.bad_handshake, &r);
            return r;
        }
        stream_dir_syn(sv, p);
        /* Window scaling is on only when both SYNs offered it. */
        if (!((sv->flags & D_WSCALE) && (cd->flags & D_WSCALE)))
            sv->wscale = cd->wscale = 0;
        cd->acked = 0;
        s->phase = PH_SYN_RECV;
        return r;
    }
    if ((p->tcp_flags & (TH_RST | TH_ACK)) == (TH_RST | TH_ACK) && p->tcp_ack == cd->next_seq) {
        stream_close_rst(s, &r); /* connection refused */
        return r | STREAM_R_EOF;
    }
    stream_invalid(ctx, (p->tcp_flags & TH_RST) ? &ctx->stats.bad_rst : &ctx->stats.bad_handshake,
                   &r);
    return r;
}

/* Returns true when p completed the handshake and goes on as established
 * data; otherwise *r says what happened. */
static bool stream_syn_recv(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p,
                            int d, uint32_t *r)
{
    uint8_t hs = p->tcp_flags & (TH_SYN | TH_ACK | TH_RST);
    struct stream_dir *cd = &s->d[s->client], *sv = &s->d[!s->client];

    *r |= STREAM_R_TRACKED;
    if (p->tcp_flags & TH_RST) {
        if (stream_rst_ok(ctx, s, p, d)) {
            stream_close_rst(s, r);
            *r |= STREAM_R_EOF;
        } else {
            stream_invalid(ctx, &ctx->stats.bad_rst, r);
        }
        return false;
    }
    if (d == s->client) {
        if (hs == TH_SYN && p->tcp_seq == cd->isn)
            return false; /* retransmitted SYN */
        /* the third ACK; or one acknowledging the data the server sent
         * before it (seen, not taken: it becomes a hole), as Suricata
         * accepts the session then */
        if (hs == TH_ACK && p->tcp_seq == cd->next_seq &&
            (p->tcp_ack == sv->next_seq ||
             (s->early_end != 0 && (int32_t)(p->tcp_ack - sv->next_seq) > 0 &&
              (int32_t)(p->tcp_ack - s->early_end) <= 0))) {
            s->phase = PH_EST;
            *r |= STREAM_R_ESTABLISHED;
            return true;
        }
    } else if (hs == (TH_SYN | TH_ACK) && p->tcp_seq == sv->isn) {
        return false; /* retransmitted SYN/ACK */
    } else if (hs == TH_ACK && p->payload_len > 0 && p->tcp_seq == sv->next_seq &&
               (s->early_end == 0 || (int32_t)(p->tcp_seq + p->payload_len - s->early_end) > 0)) {
        /* server data before the third ACK: noted (still invalid) */
        s->early_end = p->tcp_seq + p->payload_len;
    }
    /* Including server data before the third ACK: Suricata's "ACK in wrong
     * direction". */
    stream_invalid(ctx, &ctx->stats.bad_handshake, r);
    return false;
}

/* A session that may start over: closed, or both FINs seen and ours acked. */
static bool stream_reusable(const struct tcp_session *s)
{
    enum stream_state st = stream_state(s);

    return st == STREAM_STATE_CLOSED || st == STREAM_STATE_TIME_WAIT;
}

/* Records the FIN of direction sd at offset foff. */
static void stream_fin(struct stream_ctx *ctx, struct tcp_session *s, struct stream_dir *sd, int d,
                       int64_t foff, uint32_t *r)
{
    if (sd->flags & D_FIN) {
        if ((uint64_t)foff != sd->fin_off)
            stream_invalid(ctx, NULL, r);
        return;
    }
    if (foff < (int64_t)sd->contig) {
        /* Data already reassembled lies past it: not believed. */
        stream_invalid(ctx, NULL, r);
        return;
    }
    sd->flags |= D_FIN;
    sd->fin_off = (uint64_t)foff;
    if (sd->acked > sd->fin_off)
        sd->flags |= D_FIN_ACKED;
    if (s->first_fin == 0xff)
        s->first_fin = (uint8_t)d;
    *r |= STREAM_R_FIN;
    /* Out-of-order data at or past the FIN is not part of the stream. */
    while (sd->nranges > 0 && sd->ranges[sd->nranges - 1].start >= sd->fin_off)
        sd->nranges--;
    if (sd->nranges > 0 && sd->ranges[sd->nranges - 1].end > sd->fin_off)
        sd->ranges[sd->nranges - 1].end = sd->fin_off;
}

/* An established (or closing) session. */
static void stream_est(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p, int d,
                       uint32_t *r)
{
    struct stream_dir *sd = &s->d[d], *od = &s->d[!d];
    uint8_t fl = p->tcp_flags;
    uint32_t seq = p->tcp_seq, len = p->payload_len;
    int64_t soff, end;

    *r |= STREAM_R_TRACKED;
    if (fl & TH_SYN) {
        if ((fl & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN && stream_reusable(s) &&
            (!(sd->flags & D_ISN) || seq != sd->isn)) {
            /* The same ports again: a new connection. */
            stream_start_syn(ctx, s, p, d);
            ctx->stats.sessions++;
            ctx->stats.reused++;
            *r |= STREAM_R_NEW;
            return;
        }
        if ((sd->flags & D_ISN) && seq == sd->isn)
            return; /* a handshake retransmission */
        stream_invalid(ctx, &ctx->stats.bad_handshake, r);
        return;
    }
    /* Mid-stream: each side's numbers come from its first packet or from
     * the other side's ACK. */
    if (!(sd->flags & D_ISN)) {
        sd->isn = seq - 1;
        sd->next_seq = seq;
        sd->next_off = 0;
        sd->flags |= D_ISN;
    }
    if ((fl & TH_ACK) && !(od->flags & D_ISN))
        stream_learn_from_ack(od, p->tcp_ack);

    if (fl & TH_RST) {
        if (stream_rst_ok(ctx, s, p, d))
            stream_close_rst(s, r);
        else
            stream_invalid(ctx, &ctx->stats.bad_rst, r);
        return;
    }

    soff = stream_off(sd, seq);
    if (soff + len > (int64_t)sd->next_off + STREAM_MAX_WINDOW ||
        soff < (int64_t)sd->next_off - STREAM_MAX_WINDOW) {
        stream_invalid(ctx, &ctx->stats.out_of_window, r);
        return;
    }
    if (len > 0 && !s->midstream && (od->flags & D_WIN) &&
        soff + len > (int64_t)(sd->acked + od->win)) {
        if (od->win == 0 && len == 1 && soff == (int64_t)sd->next_off) {
            len = 0; /* a zero-window probe: the receiver drops its byte */
        } else {
            stream_invalid(ctx, &ctx->stats.out_of_window, r);
            return;
        }
    }
    if (!stream_ack_ok(s, p, d)) {
        stream_invalid(ctx, &ctx->stats.bad_ack, r);
        return;
    }

    if (fl & TH_ACK) {
        int64_t aoff = stream_off(od, p->tcp_ack);

        if (aoff > (int64_t)od->acked) {
            od->acked = (uint64_t)aoff;
            *r |= STREAM_R_ACKED;
            if (aoff > (int64_t)od->next_off) {
                /* Acks data the sensor never saw. */
                od->next_off = (uint64_t)aoff;
                od->next_seq = p->tcp_ack;
            }
            if ((od->flags & D_FIN) && od->acked > od->fin_off)
                od->flags |= D_FIN_ACKED;
        }
    }
    sd->win = (uint32_t)p->tcp_win << sd->wscale;
    sd->flags |= D_WIN;

    /* A keep-alive: at most one byte just below next_seq; not data. */
    if (len <= 1 && soff == (int64_t)sd->next_off - 1 && !(fl & TH_FIN))
        len = 0;
    if (len > 0 && s->phase == PH_EST && soff + len < (int64_t)sd->acked &&
        (ctx->cfg.gap_skip || soff + len <= (int64_t)sd->contig)) {
        /* all of it acknowledged already: an old retransmission, kept out
         * of the stream as Suricata does (without gap skipping, a hole the
         * receiver acknowledged may still be filled late) */
        ctx->stats.retransmissions++;
        *r |= STREAM_R_RETRANS | STREAM_R_OLD_ACKED;
    } else if (len > 0 && s->phase == PH_EST) {
        stream_data(ctx, sd, soff, p->payload, len, r);
    }
    if (fl & TH_FIN)
        stream_fin(ctx, s, sd, d, soff + p->payload_len, r);
    end = soff + p->payload_len + ((fl & TH_FIN) ? 1 : 0);
    if (end > (int64_t)sd->next_off) {
        sd->next_off = (uint64_t)end;
        sd->next_seq = seq + p->payload_len + ((fl & TH_FIN) ? 1u : 0u);
    }
    stream_gap(ctx, od, r);
    stream_gap(ctx, sd, r);
}

/* After a RST: only a new connection on the same ports is of interest. */
static uint32_t stream_closed(struct stream_ctx *ctx, struct tcp_session *s, const struct packet *p,
                              int d)
{
    uint32_t r = STREAM_R_TRACKED;
    struct stream_dir *sd = &s->d[d];

    if ((p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN &&
        (!(sd->flags & D_ISN) || p->tcp_seq != sd->isn)) {
        stream_start_syn(ctx, s, p, d);
        ctx->stats.sessions++;
        ctx->stats.reused++;
        return r | STREAM_R_NEW;
    }
    if (p->payload_len > 0)
        stream_invalid(ctx, NULL, &r);
    return r;
}

uint32_t stream_packet(struct stream_ctx *ctx, const struct packet *p, unsigned flags)
{
    struct flow *f = p->flow;
    struct tcp_session *s;
    uint32_t r = 0;
    uint16_t done0, done1;
    int d = p->dir;

    if (!(p->flags & PKT_TCP) || f == NULL || d < 0 || d > 1)
        return 0;
    if ((flags & STREAM_PKT_CHECK_CSUM) && (p->flags & PKT_L4_CSUM_BAD)) {
        ctx->stats.csum_bad++;
        return STREAM_R_CSUM;
    }
    s = f->tcp;
    if (s == NULL) {
        s = stream_start(ctx, p, &r);
        if (s == NULL)
            return r;
        f->tcp = s;
        if (s->phase != PH_EST)
            return r;
    } else if (s->phase == PH_SYN_SENT) {
        return stream_syn_sent(ctx, s, p, d);
    } else if (s->phase == PH_SYN_RECV) {
        if (!stream_syn_recv(ctx, s, p, d, &r))
            return r;
    } else if (s->phase == PH_CLOSED) {
        return stream_closed(ctx, s, p, d);
    }

    done0 = s->d[0].flags & D_DONE;
    done1 = s->d[1].flags & D_DONE;
    stream_est(ctx, s, p, d, &r);
    stream_settle(ctx, &s->d[0]);
    stream_settle(ctx, &s->d[1]);
    if ((r & STREAM_R_NEW) == 0 &&
        ((s->d[0].flags & D_DONE) != done0 || (s->d[1].flags & D_DONE) != done1))
        r |= STREAM_R_EOF;
    return r;
}

void stream_consume(struct stream_ctx *ctx, struct tcp_session *s, int dir, uint64_t upto,
                    size_t keep)
{
    struct stream_dir *sd = &s->d[dir & 1];
    uint32_t r = 0;
    uint64_t k;

    if (upto > sd->contig)
        upto = sd->contig;
    if (upto > sd->inspected)
        sd->inspected = upto;
    k = sd->inspected > keep ? sd->inspected - keep : 0;
    if (k > sd->keep)
        sd->keep = k;
    if (sd->flags & D_GAP_PENDING) {
        stream_gap(ctx, sd, &r);
        stream_settle(ctx, sd);
    }
    if ((sd->flags & D_DONE) && sd->inspected == sd->contig && sd->buf != NULL) {
        /* Nothing more will come: the buffer can go. */
        stream_buf_release(ctx, sd);
        sd->nranges = 0;
        sd->base = sd->keep = sd->contig;
    }
}
