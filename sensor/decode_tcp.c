/*
 * decode_tcp.c — the TCP header and a validating walk of its options.
 *
 * A header that is too short or whose data offset does not fit stops
 * decoding (PKT_INVALID, no PKT_TCP).  Bad options are recorded but leave the
 * header usable, as in Suricata: the segment is still part of its stream.
 * Option values are not kept; the stream stage reads what it needs (MSS,
 * window scale, SACK) from the header itself.
 */
#include <stddef.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#define TCP_HDR_LEN 20

enum { TCP_OPT_EOL = 0, TCP_OPT_NOP = 1 };

/* Option kinds with a length rule; index = bit in the duplicate mask. */
static const struct tcp_opt {
    uint8_t kind;
    uint8_t min_len, max_len;
    uint8_t step; /* (len - min_len) % step == 0 */
} tcp_opts[] = {
    {2, 4, 4, 1},    /* MSS */
    {3, 3, 3, 1},    /* window scale */
    {4, 2, 2, 1},    /* SACK permitted */
    {5, 10, 34, 8},  /* SACK: 1 to 4 blocks of 8 bytes */
    {8, 10, 10, 1},  /* timestamps */
    {19, 18, 18, 1}, /* TCP MD5 signature */
    {29, 4, 40, 1},  /* TCP-AO */
    {34, 2, 18, 2},  /* TCP Fast Open cookie (even length) */
};

static void tcp_options(struct packet *p, const uint8_t *o, uint32_t len, struct decode_stats *st)
{
    uint32_t seen = 0, i = 0;

    while (i < len) {
        uint8_t kind = o[i], olen;

        if (kind == TCP_OPT_EOL)
            return;
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2) {
            /* A kind in the last byte leaves no room for its length. */
            decode_event(p, st, DE_TCP_INVALID_OPTLEN);
            return;
        }
        olen = o[i + 1];
        if (olen < 2 || olen > len - i) {
            decode_event(p, st, DE_TCP_OPT_INVALID_LEN);
            return;
        }
        for (size_t k = 0; k < KANSHI_ARRAY_LEN(tcp_opts); k++) {
            const struct tcp_opt *t = &tcp_opts[k];

            if (t->kind != kind)
                continue;
            if (olen < t->min_len || olen > t->max_len || (olen - t->min_len) % t->step != 0)
                decode_event(p, st, DE_TCP_OPT_INVALID_LEN);
            else if (seen & (1u << k))
                decode_event(p, st, DE_TCP_OPT_DUPLICATE);
            seen |= 1u << k;
            break;
        }
        i += olen;
    }
}

void decode_tcp(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st)
{
    uint32_t hlen;

    (void)ip_plen;
    if (len < TCP_HDR_LEN) {
        decode_fail(p, st, DE_TCP_PKT_TOO_SMALL);
        return;
    }
    hlen = (uint32_t)(b[12] >> 4) * 4;
    if (hlen < TCP_HDR_LEN) {
        decode_fail(p, st, DE_TCP_HLEN_TOO_SMALL);
        return;
    }
    if (hlen > len) {
        decode_fail(p, st, DE_TCP_PKT_TOO_SMALL);
        return;
    }
    p->sp = decode_rd16(b);
    p->dp = decode_rd16(b + 2);
    p->tcp_seq = decode_rd32(b + 4);
    p->tcp_ack = decode_rd32(b + 8);
    p->tcp_flags = b[13];
    p->tcp_win = decode_rd16(b + 14);
    if (hlen > TCP_HDR_LEN)
        tcp_options(p, b + TCP_HDR_LEN, hlen - TCP_HDR_LEN, st);
    p->payload = b + hlen;
    p->payload_len = len - hlen;
    p->flags |= PKT_TCP;
    st->tcp++;
}
