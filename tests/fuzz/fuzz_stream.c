/*
 * fuzz_stream.c — fuzz target of TCP session tracking and reassembly
 * (sensor/stream.c), driven through its consumer API.
 *
 * Input framing:
 *   byte 0       configuration: midstream (bit 0), last-wins policy (1; with
 *                bit 7: bsd policy),
 *                depth 300 (2), no gap skipping (3), RST in window (4),
 *                4 KiB reassembly memcap (5), ooo limit 200 (6)
 *   bytes 1-8    initial sequence numbers of the two sides (big endian)
 *   records      7 bytes then LEN payload bytes:
 *                  0     bit 0 direction, bit 1 consume after, bit 2 consume
 *                        only half, bit 3 bad checksum, bits 4-7 kept tail
 *                        (x 16 bytes)
 *                  1     TCP flags
 *                  2-3   sequence delta (signed) from the side's cursor
 *                  4     ack delta (signed) from the other side's cursor
 *                  5     window (x 256)
 *                  6     LEN
 * The harness keeps a cursor per side (its next sequence number as far as
 * the harness knows), builds a struct packet for each record and feeds it,
 * then checks the views: offsets ordered, data readable, and bytes once
 * inspected never changing (with first-wins: bytes once seen never
 * changing).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/flow.h"
#include "kanshi/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SHADOW 65536u

/* What the harness saw of one direction: bytes [lo, hi) by offset. */
struct shadow {
    uint8_t b[SHADOW];
    uint64_t lo, hi, inspected;
};

static struct shadow sh[2];

static void shadow_check(const struct tcp_session *s, int dir, bool first_wins)
{
    struct shadow *w = &sh[dir];
    struct stream_view v;
    uint64_t a, z, lim;

    stream_view(s, dir, &v);
    if (v.base > v.inspected || v.inspected > v.end || (v.end > v.base && v.data == NULL) ||
        v.end - v.base > (1u << 30))
        __builtin_trap();
    if ((v.flags & STREAM_V_EOF) && (!(v.flags & STREAM_V_FIN) || v.end != v.fin))
        __builtin_trap();
    /* Bytes seen before must not have changed: all of them with first
     * wins, the inspected ones with any policy. */
    lim = first_wins ? w->hi : w->inspected;
    a = v.base > w->lo ? v.base : w->lo;
    z = v.end < lim ? v.end : lim;
    for (uint64_t o = a; o < z; o++)
        if (v.data[o - v.base] != w->b[o % SHADOW])
            __builtin_trap();
    /* Remember (a window of) what is visible now. */
    w->lo = v.end - v.base > SHADOW ? v.end - SHADOW : v.base;
    w->hi = v.end;
    for (uint64_t o = w->lo; o < w->hi; o++)
        w->b[o % SHADOW] = v.data[o - v.base];
    w->inspected = v.inspected;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stream_config cfg;
    struct stream_ctx *ctx;
    struct flow f;
    uint32_t cursor[2];
    size_t i = 9;
    bool first_wins;

    if (size < 9 || size > 16384)
        return 0;
    stream_config_default(&cfg);
    cfg.midstream = data[0] & 1;
    cfg.policy = (data[0] & 2) ? ((data[0] & 0x80) ? STREAM_POLICY_BSD : STREAM_POLICY_LAST)
                               : STREAM_POLICY_FIRST;
    if (data[0] & 4)
        cfg.depth = 300;
    cfg.gap_skip = !(data[0] & 8);
    cfg.rst_in_window = data[0] & 16;
    if (data[0] & 32)
        cfg.reassembly_memcap = 4096;
    if (data[0] & 64)
        cfg.ooo_limit = 200;
    first_wins = cfg.policy == STREAM_POLICY_FIRST;
    if (stream_ctx_create(&ctx, &cfg) != 0)
        return 0;
    memset(&f, 0, sizeof(f));
    memset(sh, 0, sizeof(sh));
    cursor[0] =
        (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    cursor[1] =
        (uint32_t)data[5] << 24 | (uint32_t)data[6] << 16 | (uint32_t)data[7] << 8 | data[8];

    while (i + 7 <= size) {
        const uint8_t *h = data + i;
        int dir = h[0] & 1;
        int16_t sd = (int16_t)((uint16_t)h[2] << 8 | h[3]);
        int8_t ad = (int8_t)h[4];
        uint32_t len = h[6], r;
        struct packet p;

        i += 7;
        if (len > size - i)
            len = (uint32_t)(size - i);
        memset(&p, 0, sizeof(p));
        p.flags = PKT_IPV4 | PKT_TCP | ((h[0] & 8) ? PKT_L4_CSUM_BAD : 0);
        p.flow = &f;
        p.dir = (uint8_t)dir;
        p.tcp_flags = h[1];
        p.tcp_seq = cursor[dir] + (uint32_t)(int32_t)sd;
        p.tcp_ack = cursor[!dir] + (uint32_t)(int32_t)ad;
        p.tcp_win = (uint16_t)(h[5] << 8);
        p.payload = data + i;
        p.payload_len = len;
        i += len;

        r = stream_packet(ctx, &p, STREAM_PKT_CHECK_CSUM);
        if (sd == 0)
            cursor[dir] += len + ((h[1] & 0x03) ? 1 : 0); /* SYN or FIN */
        if (f.tcp == NULL)
            continue;
        if (r & STREAM_R_NEW)
            memset(sh, 0, sizeof(sh));
        for (int d = 0; d < 2; d++) {
            shadow_check(f.tcp, d, first_wins);
            if (h[0] & 2) {
                struct stream_view v;

                stream_view(f.tcp, d, &v);
                stream_consume(ctx, f.tcp, d,
                               (h[0] & 4) ? v.inspected + (v.end - v.inspected) / 2 : v.end,
                               (size_t)(h[0] >> 4) * 16);
                shadow_check(f.tcp, d, first_wins);
            }
        }
        (void)stream_state_name(stream_state(f.tcp));
        if (stream_ctx_stats(ctx)->reassembly_memuse > cfg.reassembly_memcap ||
            stream_ctx_stats(ctx)->sessions_active > 1)
            __builtin_trap();
    }
    stream_session_free(ctx, f.tcp);
    if (stream_ctx_stats(ctx)->sessions_active != 0)
        __builtin_trap();
    stream_ctx_destroy(ctx);
    return 0;
}
