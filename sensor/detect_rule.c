/*
 * detect_rule.c — verifying one candidate rule against one packet, and what
 * follows a match.
 *
 * The order is cheapest first: protocol, addresses and ports (both ways for
 * "<>"), flow state, header keywords, flowbit and flowint checks, and only
 * then the payload tests (detect_payload.c).  After a match,
 * detect_rule_alert() runs the rule's post-match actions (flowbits
 * set/unset/toggle, flowint =/+/-) so later rules on the same packet see
 * them, then decides on the alert: noalert, suppress and thresholds
 * (threshold.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/app_layer.h"
#include "kanshi/flow.h"
#include "kanshi/flowvars.h"
#include "kanshi/stream.h"
#include "kanshi/threshold.h"
#include "detect_int.h"

/* Suricata's default pcre.match-limit and match-limit-recursion, applied
 * unless a rule's pcre has the O modifier. */
#define PCRE_MATCH_LIMIT 3500
#define PCRE_DEPTH_LIMIT 1500
#define PCRE_JIT_STACK_MIN (32 * 1024)
#define PCRE_JIT_STACK_MAX (512 * 1024)

struct detect_rule_ctx {
    struct flowvars_layout layout;
    pcre2_match_data *md;
    pcre2_match_context *mctx_limits, *mctx_free;
    pcre2_jit_stack *jit;
    struct threshold_ctx *th; /* NULL when no rule has a threshold or suppress */
    struct detect_pcre *hs;   /* the engine's pcres on Hyperscan; NULL: PCRE2 only */
    hs_scratch_t *hs_scratch; /* for them, grown by detect_pcre_scan() */
};

void detect_rule_ctx_set_remap(struct detect_rule_ctx *c, const struct flowvars_remap *remap,
                               size_t n)
{
    c->layout.remap = remap;
    c->layout.nremap = n;
}

int detect_rule_ctx_create(struct detect_rule_ctx **out, struct rule *const *rules, size_t n)
{
    struct detect_rule_ctx *c = calloc(1, sizeof(*c));
    uint32_t caps = 0;
    bool pcre = false, th = false, uniq = false;

    if (c == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = rules[i];
        c->layout.generation = r->generation;
        for (size_t k = 0; k < r->nmatches; k++) {
            if (r->matches[k].kind == RULE_MATCH_PCRE) {
                pcre = true;
                if (r->matches[k].u.pcre.ncaptures > caps)
                    caps = r->matches[k].u.pcre.ncaptures;
            }
        }
        for (size_t k = 0; k < r->nflowbits; k++)
            for (size_t j = 0; j < r->flowbits[k].nids; j++)
                if (r->flowbits[k].ids[j] >= c->layout.nbits)
                    c->layout.nbits = r->flowbits[k].ids[j] + 1;
        for (size_t k = 0; k < r->nflowints; k++) {
            const struct rule_flowint *fi = &r->flowints[k];
            if (fi->id >= c->layout.nints)
                c->layout.nints = fi->id + 1;
            if (fi->value_is_var && fi->value >= c->layout.nints)
                c->layout.nints = fi->value + 1;
        }
        if (r->threshold.type != TH_NONE || r->nsuppress > 0)
            th = true;
        if (r->threshold.unique_on != TH_UNIQUE_NONE)
            uniq = true;
    }
    if (pcre) {
        c->md = pcre2_match_data_create(caps + 1, NULL);
        c->mctx_limits = pcre2_match_context_create(NULL);
        c->mctx_free = pcre2_match_context_create(NULL);
        c->jit = pcre2_jit_stack_create(PCRE_JIT_STACK_MIN, PCRE_JIT_STACK_MAX, NULL);
        if (c->md == NULL || c->mctx_limits == NULL || c->mctx_free == NULL)
            goto fail;
        pcre2_set_match_limit(c->mctx_limits, PCRE_MATCH_LIMIT);
        pcre2_set_depth_limit(c->mctx_limits, PCRE_DEPTH_LIMIT);
        if (c->jit != NULL) { /* without it JIT uses its 32K default */
            pcre2_jit_stack_assign(c->mctx_limits, NULL, c->jit);
            pcre2_jit_stack_assign(c->mctx_free, NULL, c->jit);
        }
    }
    if (th && threshold_ctx_create(&c->th, 0, uniq) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    detect_rule_ctx_destroy(c);
    return -ENOMEM;
}

void detect_rule_ctx_destroy(struct detect_rule_ctx *c)
{
    if (c == NULL)
        return;
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mctx_limits);
    pcre2_match_context_free(c->mctx_free);
    pcre2_jit_stack_free(c->jit);
    hs_free_scratch(c->hs_scratch);
    threshold_ctx_destroy(c->th);
    free(c);
}

void *detect_rule_ctx_pcre_md(struct detect_rule_ctx *c)
{
    return c->md;
}

void *detect_rule_ctx_pcre_mctx(struct detect_rule_ctx *c, bool limits)
{
    return limits ? c->mctx_limits : c->mctx_free;
}

void detect_rule_ctx_set_pcre(struct detect_rule_ctx *c, struct detect_pcre *dp)
{
    c->hs = dp;
}

struct detect_pcre *detect_rule_ctx_pcre_hs(struct detect_rule_ctx *c, hs_scratch_t ***scratch)
{
    *scratch = &c->hs_scratch;
    return c->hs;
}

/* ---- header ------------------------------------------------------------ */

static bool proto_match(const struct rule *r, const struct packet *p)
{
    switch (r->proto) {
    case RULE_PROTO_TCP:
    case RULE_PROTO_TCP_PKT:
    case RULE_PROTO_TCP_STREAM:
        return (p->flags & PKT_TCP) != 0;
    case RULE_PROTO_UDP:
        return (p->flags & PKT_UDP) != 0;
    case RULE_PROTO_ICMP:
        return (p->flags & (PKT_ICMPV4 | PKT_ICMPV6)) != 0;
    case RULE_PROTO_ICMPV6:
        return (p->flags & PKT_ICMPV6) != 0;
    case RULE_PROTO_IP:
    default:
        return (p->flags & (PKT_IPV4 | PKT_IPV6)) != 0;
    }
}

static bool endpoints_match(const struct rule *r, const struct kanshi_addr *sa, uint16_t sp,
                            const struct kanshi_addr *da, uint16_t dp, bool ports)
{
    if (!r->src.any && !addr_set_match(&r->src, sa))
        return false;
    if (!r->dst.any && !addr_set_match(&r->dst, da))
        return false;
    /* a rule naming ports never matches a port-less packet (ICMP, a
     * fragment), as Suricata's DetectRunInspectRuleHeader */
    if (!r->sp.any && (!ports || !port_set_match(&r->sp, sp)))
        return false;
    if (!r->dp.any && (!ports || !port_set_match(&r->dp, dp)))
        return false;
    return true;
}

/* flow:established: for TCP, the stream engine's word when it tracks the
 * session (so a midstream pickup counts, as in Suricata), else the flow
 * table's handshake tracking. */
static bool pkt_established(const struct packet *p)
{
    const struct flow *f = p->flow;

    if (f == NULL)
        return false;
    if ((p->flags & PKT_TCP) && f->tcp != NULL)
        return stream_state(f->tcp) >= STREAM_STATE_ESTABLISHED;
    return flow_is_established(f);
}

static bool flow_kw_match(const struct rule *r, const struct packet *p)
{
    uint32_t fl = r->flow;
    const struct flow *f = p->flow;

    if ((fl & RULE_FLOW_ESTABLISHED) && !pkt_established(p))
        return false;
    if ((fl & RULE_FLOW_NOT_ESTABLISHED) && pkt_established(p))
        return false;
    if (fl & RULE_FLOW_TOSERVER) {
        if (f == NULL || p->dir != FLOW_DIR_TOSERVER)
            return false;
    }
    if (fl & RULE_FLOW_TOCLIENT) {
        if (f == NULL || p->dir != FLOW_DIR_TOCLIENT)
            return false;
    }
    return true;
}

static bool tcp_flags_match(const struct rule_tcp_flags *t, uint8_t pkt)
{
    uint8_t v = pkt & (uint8_t)~t->ignore;

    switch (t->mod) {
    case FLAGS_PLUS:
        return (v & t->flags) == t->flags;
    case FLAGS_ANY:
        return t->flags == 0 ? v == 0 : (v & t->flags) != 0;
    case FLAGS_NOT: /* as Suricata: not all of the flags set */
        return (v & t->flags) != t->flags;
    case FLAGS_EXACT:
    default:
        return v == t->flags;
    }
}

/* fragbits, as Suricata: '!' holds when not all of the bits are set. */
static bool fragbits_match(const struct rule_fragbits *f, uint8_t pkt)
{
    switch (f->mod) {
    case FLAGS_PLUS:
        return (pkt & f->bits) == f->bits;
    case FLAGS_ANY:
        return (pkt & f->bits) != 0;
    case FLAGS_NOT:
        return (pkt & f->bits) != f->bits;
    case FLAGS_EXACT:
    default:
        return pkt == f->bits;
    }
}

/* ICMP id/sequence: only for the messages that carry them. */
static bool icmp_id_seq(const struct packet *p, uint16_t *id, uint16_t *seq)
{
    if (p->l4 == NULL || p->l4_len < 8)
        return false;
    if (p->flags & PKT_ICMPV4) {
        switch (p->icmp_type) {
        case 0:  /* echo reply */
        case 8:  /* echo */
        case 13: /* timestamp */
        case 14: /* timestamp reply */
        case 15: /* information request */
        case 16: /* information reply */
        case 17: /* address mask request */
        case 18: /* address mask reply */
            break;
        default:
            return false;
        }
    } else if (p->flags & PKT_ICMPV6) {
        if (p->icmp_type != 128 && p->icmp_type != 129)
            return false;
    } else {
        return false;
    }
    *id = (uint16_t)(p->l4[4] << 8 | p->l4[5]);
    *seq = (uint16_t)(p->l4[6] << 8 | p->l4[7]);
    return true;
}

static bool ip_tests_match(const struct rule *r, const struct packet *p, uint32_t has)
{
    bool v4 = (p->flags & PKT_IPV4) != 0;

    if (has & (RULE_HAS_TOS | RULE_HAS_ID | RULE_HAS_IPOPTS | RULE_HAS_FRAGBITS)) {
        if (!v4)
            return false;
        if ((has & RULE_HAS_TOS) && !rule_num_match(&r->tos, p->tos))
            return false;
        if ((has & RULE_HAS_ID) && !rule_num_match(&r->id, p->ip_id))
            return false;
        if (has & RULE_HAS_IPOPTS) {
            if (r->ipopts == 0xffff ? !(p->flags & PKT_IPV4_OPTS) : !(p->ipopts & r->ipopts))
                return false;
        }
        if ((has & RULE_HAS_FRAGBITS) && !fragbits_match(&r->fragbits, p->frag_flags))
            return false;
    }
    if (has & RULE_HAS_FRAGOFFSET) {
        uint64_t off;
        if (v4)
            off = p->frag_offset;
        else if (p->flags & PKT_FRAGMENT)
            off = (uint64_t)p->frag_offset * 8; /* bytes for IPv6, as Suricata */
        else
            return false;
        if (!rule_num_match(&r->fragoffset, off))
            return false;
    }
    if ((has & RULE_HAS_SAMEIP) &&
        (p->src.family != p->dst.family || memcmp(p->src.a, p->dst.a, 16) != 0))
        return false;
    return true;
}

static bool l4_tests_match(const struct rule *r, const struct packet *p, uint32_t has)
{
    if (has & (RULE_HAS_SEQ | RULE_HAS_ACK | RULE_HAS_WINDOW)) {
        if (!(p->flags & PKT_TCP))
            return false;
        if ((has & RULE_HAS_SEQ) && !rule_num_match(&r->seq, p->tcp_seq))
            return false;
        if ((has & RULE_HAS_ACK) && !rule_num_match(&r->ack, p->tcp_ack))
            return false;
        if ((has & RULE_HAS_WINDOW) && !rule_num_match(&r->window, p->tcp_win))
            return false;
    }
    if (has & (RULE_HAS_ICMP_ID | RULE_HAS_ICMP_SEQ)) {
        uint16_t id, seq;
        if (!icmp_id_seq(p, &id, &seq))
            return false;
        if ((has & RULE_HAS_ICMP_ID) && !rule_num_match(&r->icmp_id, id))
            return false;
        if ((has & RULE_HAS_ICMP_SEQ) && !rule_num_match(&r->icmp_seq, seq))
            return false;
    }
    return true;
}

static bool header_tests_match(const struct rule *r, const struct packet *p)
{
    uint32_t has = r->has;

    if ((has & RULE_HAS_FLOW) && !flow_kw_match(r, p))
        return false;
    if ((has & RULE_HAS_DSIZE) && !rule_num_match(&r->dsize, p->payload_len))
        return false;
    if ((has & RULE_HAS_TTL) && !rule_num_match(&r->ttl, p->ttl))
        return false;
    if (has & (RULE_HAS_ITYPE | RULE_HAS_ICODE)) {
        if (!(p->flags & (PKT_ICMPV4 | PKT_ICMPV6)))
            return false;
        if ((has & RULE_HAS_ITYPE) && !rule_num_match(&r->itype, p->icmp_type))
            return false;
        if ((has & RULE_HAS_ICODE) && !rule_num_match(&r->icode, p->icmp_code))
            return false;
    }
    if ((has & RULE_HAS_IP_PROTO) &&
        !(r->ip_proto_set[p->ip_proto >> 3] & (1u << (p->ip_proto & 7))))
        return false;
    if (has & RULE_HAS_FLAGS) {
        if (!(p->flags & PKT_TCP) || !tcp_flags_match(&r->tcp_flags, p->tcp_flags))
            return false;
    }
    if (!ip_tests_match(r, p, has) || !l4_tests_match(r, p, has))
        return false;
    return true;
}

/* ---- flow variables ---------------------------------------------------- */

static bool flowbits_match(const struct detect_rule_ctx *c, const struct rule *r,
                           const struct packet *p)
{
    for (size_t i = 0; i < r->nflowbits; i++) {
        const struct rule_flowbit *fb = &r->flowbits[i];
        bool want = fb->cmd == FLOWBIT_ISSET, ok;

        if (fb->cmd != FLOWBIT_ISSET && fb->cmd != FLOWBIT_ISNOTSET)
            continue;
        if (p->flow == NULL)
            return false;
        ok = !fb->any;
        for (size_t k = 0; k < fb->nids; k++) {
            bool hit = flowvars_bit(p->flow, &c->layout, fb->ids[k]) == want;
            if (fb->any && hit) {
                ok = true;
                break;
            }
            if (!fb->any && !hit) {
                ok = false;
                break;
            }
        }
        if (!ok)
            return false;
    }
    return true;
}

static uint32_t flowint_target(const struct detect_rule_ctx *c, const struct flow *f,
                               const struct rule_flowint *fi)
{
    uint32_t v = 0;

    if (!fi->value_is_var)
        return fi->value;
    /* an unset target variable counts as 0, as in Suricata */
    if (!flowvars_int(f, &c->layout, fi->value, &v))
        v = 0;
    return v;
}

static bool flowints_match(const struct detect_rule_ctx *c, const struct rule *r,
                           const struct packet *p)
{
    for (size_t i = 0; i < r->nflowints; i++) {
        const struct rule_flowint *fi = &r->flowints[i];
        uint32_t v = 0, t;
        bool set;

        if (fi->op == FLOWINT_SET || fi->op == FLOWINT_ADD || fi->op == FLOWINT_SUB)
            continue;
        if (p->flow == NULL)
            return false;
        set = flowvars_int(p->flow, &c->layout, fi->id, &v);
        if (fi->op == FLOWINT_ISSET || fi->op == FLOWINT_NOTSET) {
            if (set != (fi->op == FLOWINT_ISSET))
                return false;
            continue;
        }
        if (!set)
            return false;
        t = flowint_target(c, p->flow, fi);
        switch (fi->op) {
        case FLOWINT_EQ:
            set = v == t;
            break;
        case FLOWINT_NE:
            set = v != t;
            break;
        case FLOWINT_LT:
            set = v < t;
            break;
        case FLOWINT_LE:
            set = v <= t;
            break;
        case FLOWINT_GT:
            set = v > t;
            break;
        case FLOWINT_GE:
            set = v >= t;
            break;
        default:
            break;
        }
        if (!set)
            return false;
    }
    return true;
}

static void post_match(struct detect_rule_ctx *c, const struct rule *r, const struct packet *p)
{
    struct flow *f = p->flow;

    if (f == NULL)
        return;
    for (size_t i = 0; i < r->nflowbits; i++) {
        const struct rule_flowbit *fb = &r->flowbits[i];
        enum flowvars_bit_op op;
        if (fb->cmd == FLOWBIT_SET)
            op = FLOWVARS_SET;
        else if (fb->cmd == FLOWBIT_UNSET)
            op = FLOWVARS_UNSET;
        else if (fb->cmd == FLOWBIT_TOGGLE)
            op = FLOWVARS_TOGGLE;
        else
            continue;
        for (size_t k = 0; k < fb->nids; k++)
            (void)flowvars_bit_put(f, &c->layout, fb->ids[k], op);
    }
    for (size_t i = 0; i < r->nflowints; i++) {
        const struct rule_flowint *fi = &r->flowints[i];
        uint32_t v, t;
        bool set;

        if (fi->op != FLOWINT_SET && fi->op != FLOWINT_ADD && fi->op != FLOWINT_SUB)
            continue;
        t = flowint_target(c, f, fi);
        set = flowvars_int(f, &c->layout, fi->id, &v);
        if (fi->op == FLOWINT_SET)
            v = t;
        else if (fi->op == FLOWINT_ADD)
            v = set ? v + t : t; /* adding to an unset variable starts it at 0 */
        else if (set)
            v -= t;
        else
            continue; /* subtracting from an unset variable does nothing */
        (void)flowvars_int_put(f, &c->layout, fi->id, v);
    }
}

/* ---- application layer ------------------------------------------------- */

/* The rule's protocol (alert http ...) and its app-layer-protocol tests
 * against the flow's detected protocol; a flow whose protocol is not known
 * yet matches neither "http" nor "!http", as in Suricata. */
static bool app_proto_match(const struct rule *r, const struct packet *p)
{
    const struct app_flow *a = p->flow != NULL ? p->flow->app : NULL;
    uint8_t proto = a != NULL ? a->proto : APP_PROTO_UNKNOWN;

    if (r->app_proto != 0 && proto != r->app_proto)
        return false;
    for (size_t i = 0; i < r->napp_tests; i++) {
        const struct rule_app_test *t = &r->app_tests[i];
        uint8_t pr = proto;
        bool hit;
        if (t->kind != APPT_PROTO)
            continue;
        if (t->num.b >= 1 && t->num.b <= 4 && a != NULL) {
            int d = t->num.b == 1 ? 0 : t->num.b == 2 ? 1 : (p->dir & 1);
            pr = a->dir_proto[d];
            if (t->num.b == 3 && (pr == APP_PROTO_UNKNOWN || pr == APP_PROTO_FAILED ||
                                  pr != t->num.a))
                pr = a->dir_proto[!d] == t->num.a ? a->dir_proto[!d] : pr;
        }
        if (pr == APP_PROTO_UNKNOWN && t->num.a != APP_PROTO_UNKNOWN)
            return false;
        hit = pr == t->num.a;
        if (hit != (t->num.op == NUM_EQ))
            return false;
    }
    return true;
}

/* ---- the rule ---------------------------------------------------------- */

bool detect_rule_eval(struct detect_rule_ctx *c, const struct rule *r, const struct packet *p,
                      const uint8_t *buf, size_t len)
{
    bool ports = (p->flags & (PKT_TCP | PKT_UDP)) != 0;

    if (!proto_match(r, p))
        return false;
    if (!endpoints_match(r, &p->src, p->sp, &p->dst, p->dp, ports) &&
        !(r->bidir && endpoints_match(r, &p->dst, p->dp, &p->src, p->sp, ports)))
        return false;
    if (!header_tests_match(r, p))
        return false;
    if (r->nflowbits > 0 && !flowbits_match(c, r, p))
        return false;
    if (r->nflowints > 0 && !flowints_match(c, r, p))
        return false;
    if ((r->app_proto != 0 || r->napp_tests > 0) && !app_proto_match(r, p))
        return false;
    if (r->buffers & (1ull << RULE_BUF_PAYLOAD)) { /* tests on the packet or stream */
        /* Like Suricata, payload tests never match a packet without payload. */
        if (len == 0)
            return false;
        if (!detect_payload_match(c, r, buf, len))
            return false;
    }
    return true;
}

void detect_rule_post_match(struct detect_rule_ctx *c, const struct rule *r,
                            const struct packet *p)
{
    post_match(c, r, p);
}

bool detect_rule_alert(struct detect_rule_ctx *c, const struct rule *r, const struct packet *p)
{
    post_match(c, r, p);
    if (r->flags & RULE_NOALERT)
        return false;
    if (c->th == NULL)
        return true;
    return threshold_allow(c->th, r, p);
}

bool detect_rule_match(const struct rule *r, const struct packet *p)
{
    struct detect_rule_ctx *c;
    bool m;

    if (detect_rule_ctx_create(&c, (struct rule *const *)&r, 1) != 0)
        return false;
    m = detect_rule_eval(c, r, p, p->payload, p->payload_len);
    detect_rule_ctx_destroy(c);
    return m;
}
