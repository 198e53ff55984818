/*
 * decode_icmp.c — ICMPv4 and ICMPv6 headers: type, code, and the echo id and
 * sequence number.
 *
 * Type and code checks are deliberately conservative: a type is unknown only
 * when it lies in a range IANA has not assigned, and a code is checked only
 * for types whose codes are fully specified.  A false event on legitimate
 * new traffic would cost more than a missed oddity.  Unknown types and codes
 * are recorded; the header stays usable.
 */
#include "decode_int.h"

#define ICMP_HDR_LEN 8
/*
 * Number of codes defined per ICMPv4 type 0..43 (IANA "ICMP Type Numbers");
 * 0: codes not checked (unassigned, deprecated or loosely specified types).
 */
static const uint8_t icmpv4_ncodes[44] = {
    [0] = 1,  /* echo reply */
    [3] = 16, /* destination unreachable */
    [4] = 1,  /* source quench */
    [5] = 4,  /* redirect */
    [8] = 1,  /* echo request */
    [10] = 1, /* router solicitation */
    [11] = 2, /* time exceeded */
    [12] = 3, /* parameter problem */
    [13] = 1, /* timestamp */
    [14] = 1, /* timestamp reply */
    [15] = 1, /* information request */
    [16] = 1, /* information reply */
    [17] = 1, /* address mask request */
    [18] = 1, /* address mask reply */
    [40] = 6, /* Photuris */
    [42] = 1, /* extended echo request */
    [43] = 5, /* extended echo reply */
};

enum {
    ICMPV4_ECHOREPLY = 0,
    ICMPV4_ECHO = 8,
    ICMPV6_ECHO_REQUEST = 128,
    ICMPV6_ECHO_REPLY = 129,
};

/* Reads the common 8-byte header; false (event raised) when it is cut. */
static bool icmp_header(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st,
                        enum decode_event too_small)
{
    if (len < ICMP_HDR_LEN) {
        decode_fail(p, st, too_small);
        return false;
    }
    p->icmp_type = b[0];
    p->icmp_code = b[1];
    p->payload = b + ICMP_HDR_LEN;
    p->payload_len = len - ICMP_HDR_LEN;
    return true;
}

void decode_icmpv4(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                   struct decode_stats *st)
{
    uint8_t type;

    (void)ip_plen;
    if (!icmp_header(p, b, len, st, DE_ICMPV4_PKT_TOO_SMALL))
        return;
    type = p->icmp_type;
    if (type == ICMPV4_ECHO || type == ICMPV4_ECHOREPLY) {
        p->icmp_id = decode_rd16(b + 4);
        p->icmp_seq = decode_rd16(b + 6);
    }
    if (type < sizeof(icmpv4_ncodes)) {
        if (icmpv4_ncodes[type] != 0 && p->icmp_code >= icmpv4_ncodes[type])
            decode_event(p, st, DE_ICMPV4_UNKNOWN_CODE);
    } else if (type != 253 && type != 254) { /* 253, 254: RFC 4727 experiments */
        decode_event(p, st, DE_ICMPV4_UNKNOWN_TYPE);
    }
    p->flags |= PKT_ICMPV4;
    st->icmpv4++;
}

/* ICMPv6 codes per type (IANA "ICMPv6 Parameters"); types not listed: any. */
static const struct icmpv6_code {
    uint8_t type, max_code;
} icmpv6_codes[] = {
    {1, 8},                                           /* destination unreachable */
    {2, 0},                                           /* packet too big */
    {3, 1},                                           /* time exceeded */
    {4, 10},                                          /* parameter problem */
    {128, 0},                                         /* echo request */
    {129, 0},                                         /* echo reply */
    {130, 0}, {131, 0}, {132, 0},                     /* MLD */
    {133, 0}, {134, 0}, {135, 0}, {136, 0}, {137, 0}, /* neighbour discovery */
    {143, 0},                                         /* MLDv2 report */
};

/*
 * Unassigned ICMPv6 types: above the error range (1-4) up to the private
 * experimentation values 100/101 and 127, and above the informational range
 * (128-161) except the experimentation values 200/201 and the reserved 255.
 */
static bool icmpv6_type_unknown(uint8_t type)
{
    return (type >= 5 && type <= 99) || (type >= 102 && type <= 126) ||
           (type >= 162 && type <= 199) || (type >= 202 && type <= 254);
}

void decode_icmpv6(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                   struct decode_stats *st)
{
    uint8_t type;

    (void)ip_plen;
    if (!icmp_header(p, b, len, st, DE_ICMPV6_PKT_TOO_SMALL))
        return;
    type = p->icmp_type;
    if (type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY) {
        p->icmp_id = decode_rd16(b + 4);
        p->icmp_seq = decode_rd16(b + 6);
    }
    if (icmpv6_type_unknown(type)) {
        decode_event(p, st, DE_ICMPV6_UNKNOWN_TYPE);
    } else {
        for (size_t i = 0; i < sizeof(icmpv6_codes) / sizeof(icmpv6_codes[0]); i++) {
            if (icmpv6_codes[i].type == type) {
                if (p->icmp_code > icmpv6_codes[i].max_code)
                    decode_event(p, st, DE_ICMPV6_UNKNOWN_CODE);
                break;
            }
        }
    }
    p->flags |= PKT_ICMPV6;
    st->icmpv6++;
}
