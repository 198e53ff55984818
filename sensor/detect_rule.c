/*
 * detect_rule.c — verifying one candidate rule against one packet.
 *
 * The order is cheapest first: protocol, addresses and ports (both ways for
 * "<>"), flow state, header keywords, and only then the payload tests.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kanshi/flow.h"
#include "detect_int.h"

static bool rule_has_payload_tests(const struct rule *r)
{
    return r->nmatches > 0;
}

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
    if (ports) {
        if (!r->sp.any && !port_set_match(&r->sp, sp))
            return false;
        if (!r->dp.any && !port_set_match(&r->dp, dp))
            return false;
    }
    return true;
}

static bool flow_kw_match(const struct rule *r, const struct packet *p)
{
    uint32_t fl = r->flow;
    const struct flow *f = p->flow;

    if (fl & RULE_FLOW_ESTABLISHED) {
        if (f == NULL || !flow_is_established(f))
            return false;
    }
    if (fl & RULE_FLOW_NOT_ESTABLISHED) {
        if (f != NULL && flow_is_established(f))
            return false;
    }
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
    case FLAGS_NOT:
        return (v & t->flags) == 0;
    case FLAGS_EXACT:
    default:
        return v == t->flags;
    }
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
    if (has & RULE_HAS_IP_PROTO) {
        struct rule_num n = {.op = r->ip_proto_op, .a = r->ip_proto};
        if (!rule_num_match(&n, p->ip_proto))
            return false;
    }
    if (has & RULE_HAS_FLAGS) {
        if (!(p->flags & PKT_TCP) || !tcp_flags_match(&r->tcp_flags, p->tcp_flags))
            return false;
    }
    return true;
}

bool detect_rule_match(const struct rule *r, const struct packet *p)
{
    bool ports = (p->flags & (PKT_TCP | PKT_UDP)) != 0;

    if (!proto_match(r, p))
        return false;
    if (!endpoints_match(r, &p->src, p->sp, &p->dst, p->dp, ports) &&
        !(r->bidir && endpoints_match(r, &p->dst, p->dp, &p->src, p->sp, ports)))
        return false;
    if (!header_tests_match(r, p))
        return false;
    if (rule_has_payload_tests(r)) {
        /* Like Suricata, payload tests never match a packet without payload. */
        if (p->payload_len == 0)
            return false;
        if (!detect_match_payload(r, p->payload, p->payload_len))
            return false;
    }
    return true;
}

