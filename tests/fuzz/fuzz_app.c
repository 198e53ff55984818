/*
 * fuzz_app.c — fuzz target of the application layer as the sensor drives
 * it: protocol probing and the parsers through sensor/app_layer.c, then the
 * rules on their buffers through detect_app_packet(), with a small ruleset
 * covering every protocol, transforms, raw content mixed with buffers and
 * the state tests.
 *
 * Input framing:
 *   byte 0      bit 0: UDP (else TCP); bits 1-2: server port 80, 443, 53
 *               or 8080
 *   records     2 bytes then LEN payload bytes:
 *                 0   bit 0 direction (to client), bit 1 a hole before the
 *                     data, bit 2 the direction ends after it
 *                 1   LEN
 * TCP directions accumulate their bytes as a stream view would show them
 * (from offset 0, kept whole); UDP records are datagrams.  After the last
 * record the flow ends: final inspection, then the state is freed.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kanshi/app_layer.h"
#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_rules[] = {
    "alert http any any -> any any (http.uri; content:\"/a\"; http.host; bsize:<20; sid:1;)",
    "alert http any any -> any any (flow:to_client; file_data; content:\"x\"; sid:2;)",
    "alert http any any -> any any (content:\"GET\"; http.method; content:\"GET\"; sid:3;)",
    "alert http any any -> any any (http.header; to_lowercase; content:\"host\"; "
    "http.stat_code; content:\"2\"; sid:4;)",
    "alert http any any -> any any (pcre:\"/^\\/[a-z]+/U\"; urilen:>2; sid:5;)",
    "alert dns any any -> any any (dns.query; dotprefix; content:\".com\"; endswith; "
    "dns.rrtype:1; sid:6;)",
    "alert tls any any -> any any (tls.sni; content:\"a\"; ja3.hash; bsize:32; sid:7;)",
    "alert tls any any -> any any (tls.cert_subject; content:\"CN=\"; tls_cert_expired; "
    "sid:8;)",
    "alert tcp any any -> any any (app-layer-protocol:!http; content:\"a\"; sid:9;)",
    "alert http any any -> any any (http.request_body; strip_whitespace; url_decode; "
    "content:\"a=b\"; sid:10;)",
};

static struct ruleset *rs; /* for the process's life: the engine points into it */
static struct detect_engine *de;
static struct detect_thread *dt;
static struct app_layer *al;
static uint8_t stream_buf[2][65536];

static void fuzz_init(void)
{
    char err[256];

    if (ruleset_create(&rs, NULL, NULL, NULL) != 0)
        abort();
    for (size_t i = 0; i < sizeof(fuzz_rules) / sizeof(fuzz_rules[0]); i++)
        if (ruleset_add_rule(rs, fuzz_rules[i], "fuzz", (unsigned)i + 1) != 0)
            abort();
    if (ruleset_finalize(rs) != 0 || detect_engine_create(&de, rs, err, sizeof(err)) != 0 ||
        detect_thread_create(&dt, de) != 0 || app_layer_create(&al, NULL) != 0)
        abort();
}

static void fuzz_alert(void *arg, const struct packet *p, const struct rule *r)
{
    (void)p;
    (void)r;
    (*(unsigned *)arg)++;
}

static void fuzz_packet(struct packet *p, struct flow *f, int dir, bool udp)
{
    memset(p, 0, sizeof(*p));
    p->flags = PKT_IPV4 | (udp ? PKT_UDP : PKT_TCP);
    p->src = f->addr[dir];
    p->dst = f->addr[!dir];
    p->sp = f->port[dir];
    p->dp = f->port[!dir];
    p->ip_proto = f->proto;
    p->tcp_flags = udp ? 0 : TH_ACK;
    p->flow = f;
    p->dir = (uint8_t)dir;
    p->ts_usec = 1700000000000000ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[] = {80, 443, 53, 8080};
    struct flow f;
    struct packet p;
    size_t len[2] = {0, 0}, i = 1;
    bool udp, ended[2] = {false, false};
    unsigned alerts = 0;

    if (de == NULL)
        fuzz_init();
    if (size < 1)
        return 0;
    udp = data[0] & 1;
    memset(&f, 0, sizeof(f));
    f.proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
    f.addr[0].family = f.addr[1].family = AF_INET;
    f.addr[0].a[0] = 10;
    f.addr[1].a[0] = 192;
    f.port[0] = 40000;
    f.port[1] = ports[(data[0] >> 1) & 3];
    while (i + 2 <= size) {
        int dir = data[i] & 1;
        bool hole = (data[i] & 2) != 0, eof = (data[i] & 4) != 0;
        size_t n = data[i + 1];

        i += 2;
        if (n > size - i)
            n = size - i;
        fuzz_packet(&p, &f, dir, udp);
        if (udp) {
            p.payload = data + i;
            p.payload_len = (uint32_t)n;
            app_layer_udp(al, &f, &p);
        } else if (!ended[dir]) {
            /* a hole: the view's base moves past bytes the parser never saw */
            size_t base = hole && len[dir] + 3 <= sizeof(stream_buf[0]) ? len[dir] + 3 : len[dir];
            if (base + n > sizeof(stream_buf[0]))
                n = sizeof(stream_buf[0]) - base;
            memcpy(stream_buf[dir] + base, data + i, n);
            len[dir] = base + n;
            ended[dir] = eof;
            p.payload = data + i;
            p.payload_len = (uint32_t)n;
            app_layer_tcp(al, &f, dir, stream_buf[dir] + base, base, len[dir], hole, eof);
        }
        detect_app_packet(dt, de, &p, udp ? NULL : stream_buf[dir], udp ? 0 : len[dir], false,
                          fuzz_alert, &alerts);
        i += n;
    }
    for (int d = 0; d < 2; d++) {
        fuzz_packet(&p, &f, d, udp);
        detect_app_packet(dt, de, &p, NULL, 0, true, fuzz_alert, &alerts);
    }
    app_layer_flow_free(al, &f);
    return 0;
}
