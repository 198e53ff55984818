/*
 * detect.c — rules to matches: Hyperscan prefilter, then full verification.
 *
 * Build (detect_engine_create): each rule joins the protocol groups it can
 * match (tcp, udp, icmp, other-IP; an "ip" rule joins all).  From each rule
 * one content is chosen as its fast pattern (the one marked fast_pattern,
 * else the longest non-negated one).  Equal patterns are merged, so a
 * pattern shared by many rules is scanned for once, and each group's
 * distinct patterns become one Hyperscan literal database.  Rules with no
 * usable pattern go on the group's "always" list.
 *
 * Per packet (detect_packet): one hs_scan() of the payload collects the
 * candidate rules (deduplicated with a generation stamp, so nothing is
 * cleared per packet), the "always" rules are added, and each candidate is
 * verified in ruleset order: header (protocol, addresses, ports,
 * direction), flow state, header tests, then every payload test in order
 * with Suricata's semantics for offset/depth/distance/within and its
 * bounded backtracking over earlier matches.
 */
#include <errno.h>
#include <hs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "detect_int.h"
#include "detect_pcre.h"

bool detect_app_rule(const struct rule *r)
{
    if ((r->buffers & ~(1ull << RULE_BUF_PAYLOAD)) != 0)
        return true;
    for (size_t i = 0; i < r->napp_tests; i++)
        if (r->app_tests[i].kind != APPT_PROTO)
            return true;
    return false;
}

const struct rule_content *detect_fast_pattern(const struct rule *r, size_t *len,
                                               const uint8_t **pat)
{
    const struct rule_content *best = NULL;

    for (size_t i = 0; i < r->nmatches; i++) {
        const struct rule_match *m = &r->matches[i];
        const struct rule_content *c;
        if (m->kind != RULE_MATCH_CONTENT || m->buffer != RULE_BUF_PAYLOAD)
            continue;
        c = &m->u.content;
        if (c->flags & CONTENT_NEGATED)
            continue;
        if (c->flags & CONTENT_FAST_PATTERN) {
            best = c;
            break;
        }
        if (best == NULL || c->len > best->len)
            best = c;
    }
    if (best == NULL || best->len == 0)
        return NULL;
    *pat = best->pat;
    *len = best->len;
    if ((best->flags & CONTENT_FAST_PATTERN_CHOP) && best->fp_len > 0 &&
        (size_t)best->fp_offset + best->fp_len <= best->len) {
        *pat = best->pat + best->fp_offset;
        *len = best->fp_len;
    }
    return best;
}

/*
 * Suricata's choice between packet and stream for a rule's payload tests:
 * a rule that can see TCP and has payload tests wants the stream, and the
 * packet too when a content is anchored with offset or depth (those count
 * from the start of a packet; such a rule can alert twice for the same
 * bytes, on the packet and on the stream, exactly as Suricata's does);
 * dsize, IP/ICMP/TCP header tests (flags, seq, ack, window and sameip too),
 * flow:no_stream and tcp-pkt keep it on packets, flow:only_stream and
 * tcp-stream on the stream.
 */
static uint8_t detect_inspect_mode(const struct rule *r)
{
    bool anchored = false;

    if (r->nmatches == 0)
        return INSPECT_PACKET;
    switch (r->proto) {
    case RULE_PROTO_UDP:
    case RULE_PROTO_ICMP:
    case RULE_PROTO_ICMPV6:
    case RULE_PROTO_TCP_PKT:
        return INSPECT_PACKET;
    case RULE_PROTO_TCP_STREAM:
        return INSPECT_STREAM_ONLY;
    default:
        break;
    }
    /* Keywords that make Suricata mark a rule "requires packet" before it
     * considers the stream. */
    if ((r->has & (RULE_HAS_DSIZE | RULE_HAS_TTL | RULE_HAS_TOS | RULE_HAS_ID |
                   RULE_HAS_IPOPTS | RULE_HAS_FRAGBITS | RULE_HAS_FRAGOFFSET | RULE_HAS_ITYPE |
                   RULE_HAS_ICODE | RULE_HAS_ICMP_ID | RULE_HAS_ICMP_SEQ | RULE_HAS_FLAGS |
                   RULE_HAS_SEQ | RULE_HAS_ACK | RULE_HAS_WINDOW | RULE_HAS_SAMEIP)) ||
        (r->flow & RULE_FLOW_NO_STREAM))
        return INSPECT_PACKET;
    if (r->flow & RULE_FLOW_ONLY_STREAM)
        return INSPECT_STREAM_ONLY;
    for (size_t i = 0; i < r->nmatches; i++) {
        const struct rule_match *m = &r->matches[i];
        if (m->kind == RULE_MATCH_CONTENT &&
            (m->u.content.flags &
             (CONTENT_OFFSET | CONTENT_DEPTH | CONTENT_STARTSWITH | CONTENT_OFFSET_VAR |
              CONTENT_DEPTH_VAR)))
            anchored = true;
    }
    return anchored ? INSPECT_STREAM_PKT : INSPECT_STREAM;
}

/*
 * Suricata's protocol-detection-only rules: nothing but app-layer-protocol
 * tests (at least one) on a non-application header protocol, besides
 * flowbits that only set, flow options and addresses.  They are inspected
 * only on the packet where a direction's protocol detection ended, so they
 * alert once per direction, not on every packet of the flow.
 */
static bool detect_pdonly_rule(const struct rule *r)
{
    const uint32_t flow_ok = RULE_FLOW_ESTABLISHED | RULE_FLOW_NOT_ESTABLISHED |
                             RULE_FLOW_STATELESS | RULE_FLOW_TOSERVER | RULE_FLOW_TOCLIENT;

    if (r->app_proto != 0 || r->nmatches != 0 || r->buffers != 0 || r->absent != 0 ||
        r->napp_tests == 0 || (r->has & ~(uint32_t)RULE_HAS_FLOW) != 0 ||
        (r->flow & ~flow_ok) != 0 || r->nflowints != 0)
        return false;
    for (size_t i = 0; i < r->napp_tests; i++)
        if (r->app_tests[i].kind != APPT_PROTO)
            return false;
    for (size_t i = 0; i < r->nflowbits; i++)
        if (r->flowbits[i].cmd != FLOWBIT_SET)
            return false;
    return true;
}

/*
 * Suricata's IP-only rules: nothing but protocol and addresses (ports any,
 * no payload, no header or flow test; flowbits only tested).  Suricata runs
 * them on the first packet of each flow direction only, so they alert at
 * most once per direction of a flow (and on every packet without a flow).
 */
static bool detect_iponly_rule(const struct rule *r)
{
    if (r->nmatches > 0 || !r->sp.any || !r->dp.any || r->has != 0 || r->flow != 0 ||
        r->nflowints > 0 || r->app_proto != 0 || r->napp_tests > 0)
        return false;
    for (size_t i = 0; i < r->nflowbits; i++)
        if (r->flowbits[i].cmd != FLOWBIT_ISSET && r->flowbits[i].cmd != FLOWBIT_ISNOTSET)
            return false;
    return true;
}

/* Which groups a rule belongs to, as a bit mask of GRP_*; mode is its
 * INSPECT_* mode. */
static unsigned rule_groups(const struct rule *r, uint8_t mode)
{
    unsigned tcp = 0;

    if (mode != INSPECT_PACKET)
        tcp |= 1u << GRP_TCP;
    if (mode == INSPECT_PACKET || mode == INSPECT_STREAM_PKT)
        tcp |= 1u << GRP_TCP_PKT;
    switch (r->proto) {
    case RULE_PROTO_TCP:
    case RULE_PROTO_TCP_PKT:
    case RULE_PROTO_TCP_STREAM:
        return tcp;
    case RULE_PROTO_UDP:
        return 1u << GRP_UDP;
    case RULE_PROTO_ICMP:
    case RULE_PROTO_ICMPV6:
        return 1u << GRP_ICMP;
    case RULE_PROTO_IP:
    default:
        return tcp | (1u << GRP_UDP) | (1u << GRP_ICMP) | (1u << GRP_OTHER);
    }
}


static int fp_cmp(const void *a, const void *b)
{
    const struct fp_entry *x = a, *y = b;

    if (x->nocase != y->nocase)
        return x->nocase ? 1 : -1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    for (size_t i = 0; i < x->len; i++) {
        int cx = x->nocase ? detect_lower(x->pat[i]) : x->pat[i];
        int cy = y->nocase ? detect_lower(y->pat[i]) : y->pat[i];
        if (cx != cy)
            return cx - cy;
    }
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static bool fp_same(const struct fp_entry *x, const struct fp_entry *y)
{
    if (x->nocase != y->nocase || x->len != y->len)
        return false;
    for (size_t i = 0; i < x->len; i++) {
        int cx = x->nocase ? detect_lower(x->pat[i]) : x->pat[i];
        int cy = y->nocase ? detect_lower(y->pat[i]) : y->pat[i];
        if (cx != cy)
            return false;
    }
    return true;
}

/* Builds group g from its fast patterns: merges equal ones, then compiles
 * (or loads from the cache c, which may be NULL) the group's database. */
int detect_group_build(struct detect_group *g, struct fp_entry *fps, size_t nfps,
                       struct detect_cache *c, char *err, size_t errlen, struct detect_info *info)
{
    const char **exprs = NULL;
    size_t *lens = NULL;
    unsigned *flags = NULL, *ids = NULL;
    size_t np = 0;
    int rc = -ENOMEM;

    if (nfps == 0)
        return 0;
    qsort(fps, nfps, sizeof(*fps), fp_cmp);
    g->pat_off = kanshi_calloc(nfps + 1, sizeof(*g->pat_off));
    g->pat_rules = kanshi_calloc(nfps, sizeof(*g->pat_rules));
    exprs = kanshi_calloc(nfps, sizeof(*exprs));
    lens = kanshi_calloc(nfps, sizeof(*lens));
    flags = kanshi_calloc(nfps, sizeof(*flags));
    ids = kanshi_calloc(nfps, sizeof(*ids));
    if (g->pat_off == NULL || g->pat_rules == NULL || exprs == NULL || lens == NULL ||
        flags == NULL || ids == NULL)
        goto out;
    for (size_t i = 0; i < nfps; i++) {
        if (i == 0 || !fp_same(&fps[i - 1], &fps[i])) {
            exprs[np] = (const char *)fps[i].pat;
            lens[np] = fps[i].len;
            flags[np] = HS_FLAG_SINGLEMATCH | (fps[i].nocase ? HS_FLAG_CASELESS : 0);
            ids[np] = (unsigned)np;
            g->pat_off[np] = (uint32_t)i;
            np++;
        }
        /* a rule may repeat: only if it put the same pattern twice, which
         * detect_fast_pattern never does */
        g->pat_rules[i] = fps[i].rule;
    }
    g->pat_off[np] = (uint32_t)nfps;
    g->npatterns = (uint32_t)np;
    if ((rc = detect_cache_compile_lit(c, exprs, flags, ids, lens, (unsigned)np, HS_MODE_BLOCK,
                                       &g->db, info, err, errlen)) != 0)
        goto out;
    {
        size_t sz = 0;
        if (hs_database_size(g->db, &sz) == HS_SUCCESS)
            info->db_bytes += sz;
    }
    info->patterns += np;
    rc = 0;
out:
    free(exprs);
    free(lens);
    free(flags);
    free(ids);
    return rc;
}

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int detect_engine_create(struct detect_engine **out, const struct ruleset *rs, char *err,
                         size_t errlen)
{
    return detect_engine_create_opts(out, rs, NULL, err, errlen);
}

int detect_engine_create_opts(struct detect_engine **out, const struct ruleset *rs,
                              const struct detect_options *opts, char *err, size_t errlen)
{
    struct detect_engine *de;
    struct detect_cache *cache = NULL;
    uint64_t tdb;
    struct fp_entry *fps[GRP_COUNT] = {0};
    size_t nfps[GRP_COUNT] = {0};
    uint32_t *ipo = NULL;
    size_t nipo = 0;
    uint64_t t0 = mono_usec();
    int rc = -ENOMEM;

    de = calloc(1, sizeof(*de));
    if (de == NULL)
        return -ENOMEM;
    de->rules = rs->rules;
    de->nrules = rs->nrules;
    de->flowvars_remap = rs->flowvars_remap;
    de->nflowvars_remap = rs->nflowvars_remap;
    de->inspect = kanshi_calloc(rs->nrules + 1, 1);
    if (de->inspect == NULL)
        goto fail;
    for (size_t i = 0; i < rs->nrules; i++)
        de->inspect[i] = (uint8_t)(detect_inspect_mode(rs->rules[i]) |
                                   (detect_iponly_rule(rs->rules[i]) ? INSPECT_IPONLY : 0) |
                                   (detect_pdonly_rule(rs->rules[i]) ? INSPECT_PDONLY : 0));
    ipo = kanshi_calloc(rs->nrules + 1, sizeof(*ipo));
    if (ipo == NULL)
        goto fail;
    for (int g = 0; g < GRP_COUNT; g++) {
        fps[g] = kanshi_calloc(rs->nrules + 1, sizeof(struct fp_entry));
        de->groups[g].always = kanshi_calloc(rs->nrules + 1, sizeof(uint32_t));
        if (fps[g] == NULL || de->groups[g].always == NULL)
            goto fail;
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct rule *r = rs->rules[i];
        const uint8_t *pat = NULL;
        size_t len = 0;
        const struct rule_content *c;
        unsigned gm;

        if (detect_app_rule(r)) {
            de->info.app_rules++; /* detect_app.c's */
            continue;
        }
        c = detect_fast_pattern(r, &len, &pat);
        gm = rule_groups(r, de->inspect[i] & INSPECT_MODE);
        if (c == NULL) {
            de->info.no_fast_pattern++;
            if (detect_iponly_eligible(r)) {
                ipo[nipo++] = (uint32_t)i;
                continue;
            }
        }
        for (int g = 0; g < GRP_COUNT; g++) {
            if (!(gm & (1u << g)))
                continue;
            if (c == NULL) {
                de->groups[g].always[de->groups[g].nalways++] = (uint32_t)i;
            } else {
                fps[g][nfps[g]++] = (struct fp_entry){
                    .pat = pat,
                    .len = len,
                    .nocase = (c->flags & CONTENT_NOCASE) != 0,
                    .rule = (uint32_t)i,
                };
            }
        }
    }
    if ((rc = detect_cache_open_opts(&cache, opts, &de->info, err, errlen)) != 0)
        goto fail;
    tdb = mono_usec();
    for (int g = 0; g < GRP_COUNT; g++) {
        rc = detect_group_build(&de->groups[g], fps[g], nfps[g], cache, err, errlen, &de->info);
        if (rc != 0)
            goto fail;
        if (nfps[g] > 0 || de->groups[g].nalways > 0)
            de->info.groups++;
    }
    if (de->info.app_rules > 0 &&
        (rc = detect_app_build(&de->app, rs->rules, rs->nrules, cache, &de->info, err,
                               errlen)) != 0)
        goto fail;
    de->info.db_usec = mono_usec() - tdb;
    detect_cache_close(cache, &de->info);
    cache = NULL;
    if ((rc = detect_iponly_build(&de->iponly, rs->rules, ipo, nipo)) != 0)
        goto fail;
    de->info.iponly = nipo;
    de->info.iponly_bytes = detect_iponly_size(de->iponly);
    /* pcres Hyperscan can answer: classified here, compiled on first use
     * by a thread of their own (compiling them all would take seconds) */
    if ((rc = detect_pcre_create(&de->pcre, rs->rules, rs->nrules, DETECT_PCRE_LAZY)) != 0) {
        if (rc != -ENOMEM)
            snprintf(err, errlen, "starting the pcre compiler thread: %s", strerror(-rc));
        goto fail;
    }
    {
        struct detect_pcre_stats ps;
        detect_pcre_stats(de->pcre, &ps);
        de->info.pcres = ps.pcres;
        de->info.pcre_hs = ps.candidates;
        de->info.pcre_flags = ps.flags;
        de->info.pcre_syntax = ps.syntax;
    }
    free(ipo);
    for (int g = 0; g < GRP_COUNT; g++)
        free(fps[g]);
    de->info.rules = rs->nrules;
    de->info.compile_usec = mono_usec() - t0;
    *out = de;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory building the detection engine");
    detect_cache_close(cache, NULL);
    free(ipo);
    for (int g = 0; g < GRP_COUNT; g++)
        free(fps[g]);
    detect_engine_destroy(de);
    return rc;
}

void detect_engine_destroy(struct detect_engine *de)
{
    if (de == NULL)
        return;
    detect_pcre_destroy(de->pcre);
    for (int g = 0; g < GRP_COUNT; g++) {
        hs_free_database(de->groups[g].db);
        free(de->groups[g].pat_off);
        free(de->groups[g].pat_rules);
        free(de->groups[g].always);
    }
    detect_iponly_free(de->iponly);
    detect_app_free(de->app);
    free(de->inspect);
    free(de);
}

const struct detect_info *detect_engine_info(const struct detect_engine *de)
{
    return &de->info;
}

int detect_thread_create(struct detect_thread **out, const struct detect_engine *de)
{
    struct detect_thread *dt = calloc(1, sizeof(*dt));

    if (dt == NULL)
        return -ENOMEM;
    for (int g = 0; g < GRP_COUNT; g++) {
        if (de->groups[g].db != NULL &&
            hs_alloc_scratch(de->groups[g].db, &dt->scratch) != HS_SUCCESS) {
            detect_thread_destroy(dt);
            return KANSHI_EHS;
        }
    }
    if (de->app != NULL && detect_app_scratch(de->app, &dt->scratch) != 0) {
        detect_thread_destroy(dt);
        return KANSHI_EHS;
    }
    dt->stamp = kanshi_calloc(de->nrules + 1, sizeof(*dt->stamp));
    dt->cand = kanshi_calloc(de->nrules + 1, sizeof(*dt->cand));
    if (dt->stamp == NULL || dt->cand == NULL ||
        detect_rule_ctx_create(&dt->rctx, de->rules, de->nrules) != 0) {
        detect_thread_destroy(dt);
        return -ENOMEM;
    }
    detect_rule_ctx_set_pcre(dt->rctx, de->pcre);
    detect_rule_ctx_set_remap(dt->rctx, de->flowvars_remap, de->nflowvars_remap);
    *out = dt;
    return 0;
}

void detect_thread_destroy(struct detect_thread *dt)
{
    if (dt == NULL)
        return;
    hs_free_scratch(dt->scratch);
    detect_rule_ctx_destroy(dt->rctx);
    free(dt->xbuf);
    free(dt->hbuf);
    free(dt->stamp);
    free(dt->cand);
    free(dt);
}

int detect_on_match(unsigned id, unsigned long long from, unsigned long long to,
                           unsigned flags, void *ctx)
{
    struct detect_thread *dt = ctx;
    const struct detect_group *g = dt->grp;

    (void)from;
    (void)to;
    (void)flags;
    for (uint32_t i = g->pat_off[id]; i < g->pat_off[id + 1]; i++) {
        uint32_t rid = g->pat_rules[i];
        if (dt->stamp[rid] != dt->gen) {
            dt->stamp[rid] = dt->gen;
            dt->cand[dt->ncand++] = rid;
        }
    }
    return 0;
}

int detect_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int packet_group(const struct packet *p)
{
    if (p->flags & PKT_TCP)
        return GRP_TCP;
    if (p->flags & PKT_UDP)
        return GRP_UDP;
    if (p->flags & (PKT_ICMPV4 | PKT_ICMPV6))
        return GRP_ICMP;
    return GRP_OTHER;
}

/* Adds the group's rules without fast pattern to the candidates. */
static void detect_add_always(struct detect_thread *dt, const struct detect_group *g)
{
    for (size_t i = 0; i < g->nalways; i++) {
        uint32_t rid = g->always[i];
        if (dt->stamp[rid] != dt->gen) {
            dt->stamp[rid] = dt->gen;
            dt->cand[dt->ncand++] = rid;
        }
    }
}

/* Adds the rules whose fast pattern occurs in buf to the candidates. */
static void detect_scan(struct detect_thread *dt, const struct detect_group *g, const uint8_t *buf,
                        size_t len)
{
    if (g->db == NULL || len == 0)
        return;
    dt->grp = g;
    hs_scan(g->db, (const char *)buf, (unsigned)len, 0, dt->scratch, detect_on_match, dt);
}

/* One rule on one packet: payload tests on the stream chunk or the packet,
 * as de->inspect says. */
static bool detect_rule_inspect(struct detect_thread *dt, const struct detect_engine *de,
                                uint32_t rid, const struct packet *p,
                                const struct detect_stream *st)
{
    const struct rule *r = de->rules[rid];
    uint8_t mode = de->inspect[rid] & INSPECT_MODE;

    /* stream-only rules (flow:only_stream, tcp-stream) never see a packet
     * that cannot have a stream: UDP, ICMP, other protocols */
    if (mode == INSPECT_STREAM_ONLY && !(p->flags & PKT_TCP))
        return false;
    if ((de->inspect[rid] & INSPECT_PDONLY) && !(p->flags & PKT_PROTO_DETECT_DONE))
        return false;
    /* as Suricata: packet rules skip the flow-end pseudo packets */
    if (mode == INSPECT_PACKET && (p->flags & PKT_PSEUDO))
        return false;
    if (st == NULL || mode == INSPECT_PACKET)
        return detect_rule_eval(dt->rctx, r, p, p->payload, p->payload_len);
    if (st->chunk_len > 0 && detect_rule_eval(dt->rctx, r, p, st->chunk, st->chunk_len))
        return true;
    if (mode == INSPECT_STREAM_ONLY || (mode == INSPECT_STREAM && st->added))
        return false;
    return detect_rule_eval(dt->rctx, r, p, p->payload, p->payload_len);
}

int detect_packet_stream(struct detect_thread *dt, const struct detect_engine *de,
                         const struct packet *p, const struct detect_stream *st,
                         detect_alert_fn fn, void *arg)
{
    const struct detect_group *g;
    struct flow *f = p->flow;
    bool iponly_done, passed = false;
    int n = 0;

    if (!(p->flags & (PKT_IPV4 | PKT_IPV6)))
        return 0;
    if (f != NULL && f->dropped)
        return 0;
    iponly_done = f != NULL && (f->iponly_dirs & (1u << (p->dir & 1)));
    if (f != NULL)
        f->iponly_dirs |= (uint8_t)(1u << (p->dir & 1));
    if (st != NULL && !(p->flags & PKT_TCP))
        st = NULL;
    g = &de->groups[packet_group(p)];
    if (++dt->gen == 0) {
        memset(dt->stamp, 0, (de->nrules + 1) * sizeof(*dt->stamp));
        dt->gen = 1;
    }
    dt->ncand = 0;
    /* As Suricata's stream prefilter: the chunk, and the payload of a
     * packet whose data did not go into the stream. */
    if (st != NULL)
        detect_scan(dt, g, st->chunk, st->chunk_len);
    if (st == NULL || !st->added)
        detect_scan(dt, g, p->payload, p->payload_len);
    detect_add_always(dt, g);
    if (p->flags & PKT_TCP) {
        /* ...and the packet rules over every payload. */
        const struct detect_group *gp = &de->groups[GRP_TCP_PKT];
        detect_scan(dt, gp, p->payload, p->payload_len);
        detect_add_always(dt, gp);
    }
    detect_iponly_lookup(de->iponly, p, dt->stamp, dt->gen, dt->cand, &dt->ncand);
    if (dt->ncand > 1)
        qsort(dt->cand, dt->ncand, sizeof(*dt->cand), detect_u32_cmp);
    for (size_t i = 0; i < dt->ncand; i++) {
        const struct rule *r = de->rules[dt->cand[i]];
        if (iponly_done && (de->inspect[dt->cand[i]] & INSPECT_IPONLY))
            continue;
        if (!detect_rule_inspect(dt, de, dt->cand[i], p, st))
            continue;
        if (passed) {
            /* after a pass rule, later matches still set their flowbits
             * (Suricata runs them) but alert no more */
            detect_rule_post_match(dt->rctx, r, p);
            continue;
        }
        if (detect_rule_alert(dt->rctx, r, p)) {
            n++;
            if (fn != NULL)
                fn(arg, p, r);
            /* rules run pass first (ruleset order), as Suricata's alert
             * finalisation stops at a pass */
            passed = r->action == RULE_ACTION_PASS;
            if (f != NULL &&
                (r->action == RULE_ACTION_DROP || r->action == RULE_ACTION_REJECT))
                f->dropped = 1;
        }
    }
    return n;
}

int detect_packet(struct detect_thread *dt, const struct detect_engine *de,
                  const struct packet *p, detect_alert_fn fn, void *arg)
{
    return detect_packet_stream(dt, de, p, NULL, fn, arg);
}
