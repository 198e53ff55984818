/*
 * fuzz_decode.c — fuzz target of the packet decoders (sensor/decode*.c).
 *
 * The first input byte picks the link type from a small table; the rest is
 * the captured packet, with wirelen == caplen.  A second pass with a larger
 * wirelen exercises the snaplen-cut paths.  Every decoded packet also goes
 * through decode_checksum_check() and kanshi_addr_str().
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_linktypes[] = {
    1,   /* DLT_EN10MB */
    113, /* DLT_LINUX_SLL */
    276, /* DLT_LINUX_SLL2 */
    12,  /* DLT_RAW */
    101, /* LINKTYPE_RAW */
    0,   /* DLT_NULL */
    108, /* DLT_LOOP */
    228, /* DLT_IPV4 */
    229, /* DLT_IPV6 */
    147, /* unsupported */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct decode_stats st = {0};
    struct packet p;
    char buf[INET6_ADDRSTRLEN];
    int linktype;
    uint32_t len;

    if (size < 1 || size > 0x10000 + 1)
        return 0;
    linktype = fuzz_linktypes[data[0] % (sizeof(fuzz_linktypes) / sizeof(fuzz_linktypes[0]))];
    len = (uint32_t)(size - 1);

    for (int pass = 0; pass < 2; pass++) {
        uint32_t wirelen = pass == 0 ? len : len + (data[0] >> 4) * 100u;

        decode_packet(&p, linktype, data + 1, len, wirelen, 0, &st);
        decode_checksum_check(&p);
        kanshi_addr_str(&p.src, buf, sizeof(buf));
        kanshi_addr_str(&p.dst, buf, sizeof(buf));
        for (int i = 0; i < p.nevents; i++)
            (void)decode_event_name(p.events[i]);
        /* Invariants a later stage relies on. */
        if (p.nevents > PACKET_MAX_EVENTS || p.l3_len > len ||
            (p.l4 != NULL && (p.l4 < data + 1 || p.l4 + p.l4_len > data + 1 + len)) ||
            (p.payload != NULL && p.payload + p.payload_len > data + 1 + len) ||
            ((p.flags & (PKT_TCP | PKT_UDP | PKT_ICMPV4 | PKT_ICMPV6)) &&
             (p.flags & (PKT_INVALID | PKT_FRAGMENT))))
            __builtin_trap();
        /* what a tunnel carries, as the worker decodes it, nested up to the
         * depth limit (decode_tunnel_packet refuses deeper ones) */
        for (struct packet outer = p, inner; (outer.flags & PKT_TUNNEL) &&
                                             decode_tunnel_packet(&inner, &outer, &st) == 0;
             outer = inner) {
            if (inner.nevents > PACKET_MAX_EVENTS ||
                (inner.payload != NULL && inner.payload + inner.payload_len > data + 1 + len) ||
                (inner.l4 != NULL && (inner.l4 < data + 1 || inner.l4 + inner.l4_len >
                                                                 data + 1 + len)))
                __builtin_trap();
        }
    }
    return 0;
}
