/*
 * sensorsim.c — kanshi-sensorsim: a scriptable sensor uplink for the
 * collector's end-to-end tests.
 *
 * It speaks the real protocol (include/kanshi/wire.h, DEALER with CURVE) on
 * one connection and runs the commands of its command line in order, so a
 * test can do what a real sensor never would: claim another organisation,
 * skip sequence numbers, resend, or send malformed, truncated and oversized
 * frames.
 *
 *   kanshi-sensorsim --endpoint E --collector-key Z85|FILE --key SECRET [--timeout MS]
 *       hello [NEXT]                      HELLO, wait for the ACK, print "ack N"
 *       alerts FROM COUNT [--batch B] [--interval MS] [--nowait]
 *              [--claim-org NAME] [--claim-tier N] [--claim-sensor ID] [--sid N]
 *                                         ALERTS FROM.., waiting for each ACK
 *       stats                             a STATS heartbeat
 *       junk KIND                         one bad frame: magic version type short
 *              length truncated trailing oversized json multipart count seq ack
 *       sleep MS
 *
 * Exit status: 0 done, 1 usage or set-up error, 3 an ACK did not come in
 * time, 4 the collector refused the handshake.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "kanshi/eve.h"
#include "kanshi/kanshi.h"
#include "kanshi/uplink.h"
#include "kanshi/wire.h"

struct sim {
    void *ctx, *dealer, *mon;
    int timeout_ms;
    uint64_t acked;
    bool refused, connected;
    struct wire_buf wb;
    struct jbuf jb;
};

static int64_t sim_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sim_monitor(struct sim *s)
{
    for (;;) {
        zmq_msg_t ev, addr;
        uint16_t event = 0;
        zmq_msg_init(&ev);
        zmq_msg_init(&addr);
        if (zmq_msg_recv(&ev, s->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            zmq_msg_close(&addr);
            return;
        }
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, s->mon, 0);
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            s->refused = true;
        else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            s->connected = true;
    }
}

/* Reads ACKs until one covers seq (or any ACK when seq is 0) or the time is
 * up.  0, 3 (timeout) or 4 (refused). */
static int sim_wait_ack(struct sim *s, uint64_t seq, bool any)
{
    int64_t end = sim_ms() + s->timeout_ms;

    for (;;) {
        zmq_pollitem_t it[2] = {{.socket = s->dealer, .events = ZMQ_POLLIN},
                                {.socket = s->mon, .events = ZMQ_POLLIN}};
        int64_t left = end - sim_ms();
        zmq_msg_t m;

        if (left <= 0) {
            fprintf(stderr, "sensorsim: no ACK for %" PRIu64 " within %d ms\n", seq, s->timeout_ms);
            return 3;
        }
        if (zmq_poll(it, 2, (long)left) < 0 && zmq_errno() != EINTR)
            return 1;
        sim_monitor(s);
        if (s->refused) {
            fprintf(stderr, "sensorsim: the collector refused the handshake\n");
            return 4;
        }
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, s->dealer, ZMQ_DONTWAIT) >= 0) {
            enum wire_type type;
            const uint8_t *body;
            size_t len;
            uint64_t a;
            if (wire_decode_header(zmq_msg_data(&m), zmq_msg_size(&m), &type, &body, &len) == 0 &&
                type == WIRE_ACK && wire_decode_ack(body, len, &a) == 0) {
                s->acked = a;
                if (any || a >= seq) {
                    zmq_msg_close(&m);
                    return 0;
                }
            }
        }
        zmq_msg_close(&m);
    }
}

static int sim_send(struct sim *s, const void *p, size_t len, int flags)
{
    if (zmq_send(s->dealer, p, len, flags) < 0) {
        fprintf(stderr, "sensorsim: send: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    return 0;
}

static int cmd_hello(struct sim *s, uint64_t next)
{
    struct wire_hello h;
    int rc;

    memset(&h, 0, sizeof(h));
    h.next_seq = next;
    snprintf(h.software, sizeof(h.software), "sensorsim-%s", KANSHI_VERSION);
    snprintf(h.firmware, sizeof(h.firmware), "none");
    snprintf(h.ruleset, sizeof(h.ruleset), "sim-rules-1");
    snprintf(h.schema, sizeof(h.schema), "%s", WIRE_SCHEMA);
    s->wb.len = 0;
    if (wire_encode_hello(&s->wb, &h) != 0 || sim_send(s, s->wb.p, s->wb.len, 0) != 0)
        return 1;
    if ((rc = sim_wait_ack(s, 0, true)) == 0)
        printf("ack %" PRIu64 "\n", s->acked);
    return rc;
}

struct alert_opts {
    uint64_t batch, interval_ms, sid;
    bool nowait;
    const char *claim_org, *claim_sensor;
    unsigned claim_tier;
};

static void sim_alert_json(struct sim *s, uint64_t seq, const struct alert_opts *o)
{
    char ts[40], ip[32];
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    eve_format_time((uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000, ts, sizeof(ts));
    snprintf(ip, sizeof(ip), "10.%u.%u.%u", (unsigned)(seq >> 16) & 255, (unsigned)(seq >> 8) & 255,
             (unsigned)seq & 255);
    jbuf_reset(&s->jb);
    jbuf_open_object(&s->jb, NULL);
    jbuf_string(&s->jb, "timestamp", ts);
    jbuf_uint(&s->jb, "flow_id", seq);
    jbuf_string(&s->jb, "event_type", "alert");
    jbuf_string(&s->jb, "src_ip", ip);
    jbuf_uint(&s->jb, "src_port", 40000 + seq % 20000);
    jbuf_string(&s->jb, "dest_ip", "192.0.2.10");
    jbuf_uint(&s->jb, "dest_port", 80);
    jbuf_string(&s->jb, "proto", "TCP");
    jbuf_open_object(&s->jb, "alert");
    jbuf_string(&s->jb, "action", "allowed");
    jbuf_uint(&s->jb, "gid", 1);
    jbuf_uint(&s->jb, "signature_id", o->sid);
    jbuf_uint(&s->jb, "rev", 1);
    jbuf_string(&s->jb, "signature", "KANSHI TEST sensorsim alert");
    jbuf_string(&s->jb, "category", "Test");
    jbuf_uint(&s->jb, "severity", 2);
    jbuf_close_object(&s->jb);
    jbuf_open_object(&s->jb, "kanshi");
    if (o->claim_sensor != NULL)
        jbuf_string(&s->jb, "sensor_id", o->claim_sensor);
    if (o->claim_org != NULL)
        jbuf_string(&s->jb, "organisation", o->claim_org);
    if (o->claim_tier != 0)
        jbuf_uint(&s->jb, "tier", o->claim_tier);
    jbuf_string(&s->jb, "ruleset_version", "sim-rules-1");
    jbuf_uint(&s->jb, "sim_seq", seq);
    jbuf_close_object(&s->jb);
    jbuf_close_object(&s->jb);
}

static int cmd_alerts(struct sim *s, uint64_t from, uint64_t count, const struct alert_opts *o)
{
    uint64_t seq = from, end = from + count;
    int rc;

    while (seq < end) {
        uint64_t last = seq;
        if (wire_alerts_begin(&s->wb) != 0)
            return 1;
        for (uint64_t i = 0; i < o->batch && seq < end; i++, seq++) {
            sim_alert_json(s, seq, o);
            if (!jbuf_ok(&s->jb) ||
                wire_alerts_add(&s->wb, seq, (const uint8_t *)s->jb.p, (uint32_t)s->jb.len) != 0)
                return 1;
            last = seq;
        }
        if (wire_alerts_end(&s->wb) != 0 || sim_send(s, s->wb.p, s->wb.len, 0) != 0)
            return 1;
        if (!o->nowait && (rc = sim_wait_ack(s, last, false)) != 0)
            return rc;
        if (o->interval_ms != 0)
            usleep((useconds_t)(o->interval_ms * 1000));
    }
    if (!o->nowait)
        printf("ack %" PRIu64 "\n", s->acked);
    return 0;
}

static int cmd_stats(struct sim *s)
{
    static const struct {
        uint16_t id;
        uint64_t v;
    } counters[] = {
        {WC_PACKETS, 123456}, {WC_BYTES, 98765432},      {WC_KERNEL_DROPS, 7},
        {WC_IF_DROPS, 1},     {WC_FLOW_MEMCAP_DROPS, 2}, {WC_ALERTS, 42},
        {WC_SPOOL_ALERTS, 5}, {WC_SPOOL_DROPPED, 0},
    };
    struct wire_stats *st = calloc(1, sizeof(*st));
    int rc;

    if (st == NULL)
        return 1;
    st->uptime = 60;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(counters); i++) {
        st->c[st->n].id = counters[i].id;
        st->c[st->n++].value = counters[i].v;
    }
    s->wb.len = 0;
    rc = wire_encode_stats(&s->wb, st) != 0 || sim_send(s, s->wb.p, s->wb.len, 0) != 0;
    free(st);
    return rc;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A valid ALERTS frame of two alerts, to be spoilt. */
static int sim_good_frame(struct sim *s, uint64_t seq)
{
    static const char a[] = "{\"event_type\":\"alert\",\"alert\":{\"signature_id\":1}}";

    if (wire_alerts_begin(&s->wb) != 0 ||
        wire_alerts_add(&s->wb, seq, (const uint8_t *)a, sizeof(a) - 1) != 0 ||
        wire_alerts_add(&s->wb, seq + 1, (const uint8_t *)a, sizeof(a) - 1) != 0 ||
        wire_alerts_end(&s->wb) != 0)
        return 1;
    return 0;
}

static int cmd_junk(struct sim *s, const char *kind)
{
    struct wire_buf *b = &s->wb;
    uint8_t *big;
    size_t n;

    if (strcmp(kind, "oversized") == 0) {
        n = WIRE_MAX_FRAME + 4096;
        if ((big = calloc(1, n)) == NULL)
            return 1;
        big[0] = WIRE_MAGIC0;
        big[1] = WIRE_MAGIC1;
        big[2] = WIRE_VERSION;
        big[3] = WIRE_ALERTS;
        put32(big + 4, (uint32_t)(n - WIRE_HDR_LEN));
        int rc = sim_send(s, big, n, 0);
        free(big);
        return rc;
    }
    if (strcmp(kind, "multipart") == 0) {
        if (sim_good_frame(s, 1) != 0 || sim_send(s, b->p, b->len, ZMQ_SNDMORE) != 0)
            return 1;
        return sim_send(s, b->p, b->len, 0);
    }
    if (strcmp(kind, "short") == 0)
        return sim_send(s, "KS\1", 3, 0);
    if (strcmp(kind, "ack") == 0) {
        b->len = 0;
        return wire_encode_ack(b, 1) != 0 || sim_send(s, b->p, b->len, 0) != 0;
    }
    if (strcmp(kind, "json") == 0) {
        static const char bad[] = "{\"event_type\":\"alert\", not json";
        if (wire_alerts_begin(b) != 0 ||
            wire_alerts_add(b, 999999, (const uint8_t *)bad, sizeof(bad) - 1) != 0 ||
            wire_alerts_end(b) != 0)
            return 1;
        return sim_send(s, b->p, b->len, 0);
    }
    if (sim_good_frame(s, 1000000) != 0)
        return 1;
    if (strcmp(kind, "trailing") == 0) {
        uint8_t *f = malloc(b->len + 1);
        int rc;
        if (f == NULL)
            return 1;
        memcpy(f, b->p, b->len);
        f[b->len] = 0;
        put32(f + 4, (uint32_t)(b->len + 1 - WIRE_HDR_LEN));
        rc = sim_send(s, f, b->len + 1, 0);
        free(f);
        return rc;
    }
    if (strcmp(kind, "magic") == 0) {
        b->p[0] = 'X';
    } else if (strcmp(kind, "version") == 0) {
        b->p[2] = 99;
    } else if (strcmp(kind, "type") == 0) {
        b->p[3] = 99;
    } else if (strcmp(kind, "length") == 0) {
        b->len -= 5; /* the header still claims the whole body */
    } else if (strcmp(kind, "truncated") == 0) {
        b->len -= 5; /* cut inside the last alert, header fixed: the body ends early */
        put32(b->p + 4, (uint32_t)(b->len - WIRE_HDR_LEN));
    } else if (strcmp(kind, "count") == 0) {
        put32(b->p + WIRE_HDR_LEN, 0);
    } else if (strcmp(kind, "seq") == 0) {
        memset(b->p + WIRE_HDR_LEN + 4, 0, 8); /* first alert's sequence 0 */
    } else {
        fprintf(stderr, "sensorsim: unknown junk kind \"%s\"\n", kind);
        return 1;
    }
    return sim_send(s, b->p, b->len, 0);
}

static int sim_connect(struct sim *s, const char *endpoint, const char *ckey, const char *keyfile)
{
    char sec[UPLINK_KEY_LEN + 1], pub[UPLINK_KEY_LEN + 1], server[UPLINK_KEY_LEN + 1];
    char err[512];
    /* Frames still queued at exit (an 8 MB junk frame takes a while) are
     * delivered, not dropped, when the socket closes. */
    int linger = 3000;

    if (strlen(ckey) == UPLINK_KEY_LEN)
        snprintf(server, sizeof(server), "%s", ckey);
    else if (uplink_read_key_file(ckey, 0, server, err, sizeof(err)) != 0) {
        fprintf(stderr, "sensorsim: %s\n", err);
        return 1;
    }
    if (uplink_read_key_file(keyfile, 1, sec, err, sizeof(err)) != 0) {
        fprintf(stderr, "sensorsim: %s\n", err);
        return 1;
    }
    zmq_curve_public(pub, sec);
    s->ctx = zmq_ctx_new();
    s->dealer = zmq_socket(s->ctx, ZMQ_DEALER);
    if (s->dealer == NULL || zmq_setsockopt(s->dealer, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_setsockopt(s->dealer, ZMQ_CURVE_SERVERKEY, server, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(s->dealer, ZMQ_CURVE_PUBLICKEY, pub, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(s->dealer, ZMQ_CURVE_SECRETKEY, sec, UPLINK_KEY_LEN) != 0 ||
        zmq_socket_monitor(s->dealer, "inproc://sim-monitor",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
        (s->mon = zmq_socket(s->ctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(s->mon, "inproc://sim-monitor") != 0 || zmq_connect(s->dealer, endpoint) != 0) {
        fprintf(stderr, "sensorsim: %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        return 1;
    }
    explicit_bzero(sec, sizeof(sec));
    return 0;
}

/* Waits for the handshake so that frames are not queued before it. */
static int sim_wait_connected(struct sim *s)
{
    int64_t end = sim_ms() + s->timeout_ms;

    while (!s->connected && !s->refused && sim_ms() < end) {
        zmq_pollitem_t it = {.socket = s->mon, .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 50);
        sim_monitor(s);
    }
    if (s->refused) {
        fprintf(stderr, "sensorsim: the collector refused the handshake\n");
        return 4;
    }
    if (!s->connected) {
        fprintf(stderr, "sensorsim: no handshake within %d ms\n", s->timeout_ms);
        return 3;
    }
    return 0;
}

static uint64_t num(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s) {
        fprintf(stderr, "sensorsim: \"%s\" is not a number\n", s);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *ckey = NULL, *key = NULL;
    struct sim s = {.timeout_ms = 5000};
    int i = 1, rc = 0;

    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--endpoint") == 0)
            endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--collector-key") == 0)
            ckey = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0)
            key = argv[i + 1];
        else if (strcmp(argv[i], "--timeout") == 0)
            s.timeout_ms = (int)num(argv[i + 1]);
        else
            break;
    }
    if (endpoint == NULL || ckey == NULL || key == NULL || i >= argc) {
        fprintf(stderr, "usage: kanshi-sensorsim --endpoint E --collector-key Z85|FILE --key FILE "
                        "[--timeout MS] COMMAND...\n(see tests/tools/sensorsim.c)\n");
        return 1;
    }
    log_init("kanshi-sensorsim", LOG_LEVEL_WARN);
    wire_buf_init(&s.wb);
    jbuf_init(&s.jb);
    if ((rc = sim_connect(&s, endpoint, ckey, key)) == 0)
        rc = sim_wait_connected(&s);
    while (rc == 0 && i < argc) {
        const char *cmd = argv[i++];
        if (strcmp(cmd, "hello") == 0) {
            uint64_t next = i < argc && argv[i][0] >= '0' && argv[i][0] <= '9' ? num(argv[i++]) : 1;
            rc = cmd_hello(&s, next);
        } else if (strcmp(cmd, "alerts") == 0 && i + 1 < argc) {
            struct alert_opts o = {.batch = 100, .sid = 9900001};
            uint64_t from = num(argv[i]), count = num(argv[i + 1]);
            i += 2;
            while (i < argc && strncmp(argv[i], "--", 2) == 0) {
                const char *opt = argv[i++];
                if (strcmp(opt, "--nowait") == 0) {
                    o.nowait = true;
                    continue;
                }
                if (i >= argc) {
                    fprintf(stderr, "sensorsim: %s needs a value\n", opt);
                    return 1;
                }
                if (strcmp(opt, "--batch") == 0)
                    o.batch = num(argv[i++]);
                else if (strcmp(opt, "--interval") == 0)
                    o.interval_ms = num(argv[i++]);
                else if (strcmp(opt, "--sid") == 0)
                    o.sid = num(argv[i++]);
                else if (strcmp(opt, "--claim-org") == 0)
                    o.claim_org = argv[i++];
                else if (strcmp(opt, "--claim-sensor") == 0)
                    o.claim_sensor = argv[i++];
                else if (strcmp(opt, "--claim-tier") == 0)
                    o.claim_tier = (unsigned)num(argv[i++]);
                else {
                    fprintf(stderr, "sensorsim: unknown option %s\n", opt);
                    return 1;
                }
            }
            if (o.batch == 0 || o.batch > WIRE_MAX_BATCH)
                o.batch = 100;
            rc = cmd_alerts(&s, from, count, &o);
        } else if (strcmp(cmd, "stats") == 0) {
            rc = cmd_stats(&s);
        } else if (strcmp(cmd, "junk") == 0 && i < argc) {
            rc = cmd_junk(&s, argv[i++]);
        } else if (strcmp(cmd, "sleep") == 0 && i < argc) {
            usleep((useconds_t)(num(argv[i++]) * 1000));
        } else {
            fprintf(stderr, "sensorsim: unknown command \"%s\"\n", cmd);
            rc = 1;
        }
    }
    if (s.mon != NULL)
        zmq_close(s.mon);
    if (s.dealer != NULL) {
        zmq_socket_monitor(s.dealer, NULL, 0);
        zmq_close(s.dealer);
    }
    if (s.ctx != NULL)
        zmq_ctx_term(s.ctx);
    wire_buf_fini(&s.wb);
    jbuf_fini(&s.jb);
    return rc;
}
