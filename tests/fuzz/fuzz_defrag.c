/*
 * fuzz_defrag.c — fuzz target of IP fragment reassembly (sensor/defrag.c).
 *
 * Input framing:
 *   byte 0     configuration: policy (low 3 bits, mod 6), small or default
 *              pools (bit 3), tiny memcap (bit 4)
 *   records    4 bytes of header then up to LEN data bytes:
 *                flags   bit 0 IPv6, bit 1 MF, bit 2 an option (IPv4) or a
 *                        hop-by-hop header (IPv6) in front, bit 3 another
 *                        VLAN, bits 4-5 datagram id, bit 6 another protocol
 *                        (IPv4), bit 7 the clock jumps 61 s (timeouts)
 *                offset  2 bytes, in 8-byte units (13 bits)
 *                len     data bytes that follow (fewer at the end of input)
 * Each record becomes a real fragment packet, is decoded with
 * decode_packet() and given to defrag_process(); every rebuilt datagram is
 * decoded in turn and checked: a whole IP packet, total length matching,
 * IPv4 header checksum right, never a fragment again.
 */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/decode.h"
#include "kanshi/defrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pkt[40 + 8 + 8 + 256];

static void wr16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static uint16_t csum(const uint8_t *b, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)b[i] << 8 | b[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Builds one fragment into pkt; returns its length. */
static uint32_t build(uint8_t fl, uint32_t off, const uint8_t *d, uint32_t len)
{
    uint32_t h;
    uint8_t *b = pkt;

    memset(pkt, 0, 56);
    if (!(fl & 1)) {
        h = (fl & 4) ? 24 : 20;
        b[0] = (uint8_t)(0x40 | h / 4);
        wr16(b + 2, h + len);
        wr16(b + 4, 0x100u + ((fl >> 4) & 3));
        wr16(b + 6, ((fl & 2) ? 0x2000u : 0) | (off & 0x1fff));
        b[8] = 64;
        b[9] = (fl & 0x40) ? 6 : 17;
        memcpy(b + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
        if (fl & 4)
            b[20] = 1; /* NOP, then EOLs */
        wr16(b + 10, csum(b, h));
    } else {
        uint32_t fh = (fl & 4) ? 48 : 40;

        b[0] = 0x60;
        b[7] = 64;
        b[8] = 0x20, b[9] = 0x01, b[23] = 1;
        b[24] = 0x20, b[25] = 0x01, b[39] = 2;
        if (fl & 4) {
            b[6] = 0;
            b[40] = 44;
            b[42] = 1; /* PadN over the rest */
            b[43] = 4;
        } else {
            b[6] = 44;
        }
        b[fh] = 17;
        wr16(b + fh + 2, ((off & 0x1fff) << 3) | ((fl & 2) ? 1u : 0));
        b[fh + 7] = (uint8_t)(1 + ((fl >> 4) & 3));
        h = fh + 8;
        wr16(b + 4, h - 40 + len);
    }
    memcpy(b + h, d, len);
    return h + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct defrag_config cfg;
    struct defrag *d;
    struct decode_stats st;
    uint64_t ts = 1700000000000000ull;
    size_t i = 1;

    if (size < 1 || size > 8192)
        return 0;
    memset(&st, 0, sizeof(st));
    defrag_config_default(&cfg);
    cfg.policy = (enum defrag_policy)((data[0] & 7) % DEFRAG_POLICY_COUNT);
    cfg.max_trackers = 8;
    cfg.max_frags = 256;
    if (data[0] & 8) {
        cfg.max_trackers = 2;
        cfg.max_frags = 6;
        cfg.max_frags_per_datagram = 4;
    }
    if (data[0] & 16)
        cfg.memcap = 5000;
    if (defrag_create(&d, &cfg) != 0)
        return 0;

    while (i + 4 <= size) {
        uint8_t fl = data[i];
        uint32_t off = (uint32_t)data[i + 1] << 8 | data[i + 2], len = data[i + 3];
        struct defrag_result res;
        struct packet p;
        uint32_t n;

        i += 4;
        if (len > size - i)
            len = (uint32_t)(size - i);
        n = build(fl, off, data + i, len);
        i += len;
        if (fl & 0x80)
            ts += 61000000ull;
        decode_packet(&p, DLT_RAW, pkt, n, n, ts, &st);
        if (fl & 8)
            p.vlan_id[0] = 7;
        if (defrag_process(d, &p, &res) != 1)
            continue;

        struct packet r;
        if (res.data == NULL || res.len < 20 || res.len > DEFRAG_MAX_PACKET ||
            decode_packet(&r, DLT_RAW, res.data, res.len, res.len, ts, &st) != 0 ||
            (r.flags & PKT_FRAGMENT) || r.l3_len != res.len)
            __builtin_trap();
        if ((r.flags & PKT_IPV4) && csum(res.data, r.l3_hdr_len) != 0)
            __builtin_trap();
        decode_checksum_check(&r);
    }
    defrag_timeout(d, ts + 3600000000ull);
    if (defrag_stats(d)->trackers_active != 0 || defrag_stats(d)->frags_active != 0)
        __builtin_trap();
    defrag_destroy(d);
    return 0;
}
