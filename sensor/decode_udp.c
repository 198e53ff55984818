/*
 * decode_udp.c — the UDP header.
 *
 * The UDP length must cover the 8-byte header and fit in the IP payload as
 * the IP header declares it; a UDP length shorter than the IP payload is
 * allowed (the rest is ignored), so the payload ends where UDP says.
 */
#include "decode_int.h"

#define UDP_HDR_LEN 8

void decode_udp(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st)
{
    uint32_t ulen;

    if (ip_plen < UDP_HDR_LEN) {
        /* The IP packet has no room for a UDP header. */
        decode_fail(p, st, DE_UDP_HLEN_TOO_SMALL);
        return;
    }
    if (len < UDP_HDR_LEN) {
        /* There was room, but the capture was cut inside the header. */
        decode_fail(p, st, DE_UDP_PKT_TOO_SMALL);
        return;
    }
    ulen = decode_rd16(b + 4);
    if (ulen < UDP_HDR_LEN) {
        decode_fail(p, st, DE_UDP_LEN_INVALID);
        return;
    }
    if (ulen > ip_plen) {
        decode_fail(p, st, DE_UDP_HLEN_INVALID);
        return;
    }
    p->sp = decode_rd16(b);
    p->dp = decode_rd16(b + 2);
    p->payload = b + UDP_HDR_LEN;
    p->payload_len = (ulen < len ? ulen : len) - UDP_HDR_LEN;
    p->flags |= PKT_UDP;
    st->udp++;
    decode_udp_tunnel(p, st); /* VXLAN, Geneve, Teredo: decode_tunnel.c */
}
