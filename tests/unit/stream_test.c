/*
 * stream_test.c — TCP sessions and reassembly: the handshake and closing
 * states, in-order, out-of-order, overlapping (first and last wins, byte by
 * byte) and retransmitted data, holes and gap skipping, FIN/RST, sequence
 * wrap-around, depth, memcaps, midstream pickup, window checks, the consumer
 * API with tail retention, and one session driven through decode_packet()
 * and the flow table with pktgen-built packets.
 *
 * Most tests craft struct packet values with the fields the engine reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../tools/pktgen.h"
#include "kanshi/decode.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/stream.h"
#include "test.h"

#define C FLOW_DIR_TOSERVER
#define S FLOW_DIR_TOCLIENT

/* One connection: the engine, its flow and the next sequence numbers. */
struct conn {
    struct stream_ctx *ctx;
    struct flow f;
    uint32_t next[2]; /* next sequence number of each side */
    uint16_t win;
    unsigned flags; /* stream_packet() flags */
};

static uint32_t seg(struct conn *k, int dir, uint8_t fl, uint32_t seq, uint32_t ack,
                    const void *data, size_t len)
{
    struct packet p;

    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_TCP;
    p.flow = &k->f;
    p.dir = (uint8_t)dir;
    p.tcp_flags = fl;
    p.tcp_seq = seq;
    p.tcp_ack = ack;
    p.tcp_win = k->win;
    p.payload = data;
    p.payload_len = (uint32_t)len;
    return stream_packet(k->ctx, &p, k->flags);
}

static void conn_init(struct conn *k, const struct stream_config *cfg)
{
    struct stream_config def;

    memset(k, 0, sizeof(*k));
    if (cfg == NULL) {
        stream_config_default(&def);
        cfg = &def;
    }
    if (stream_ctx_create(&k->ctx, cfg) != 0)
        k->ctx = NULL;
    k->win = 65535;
}

static void conn_fini(struct conn *k)
{
    stream_session_free(k->ctx, k->f.tcp);
    k->f.tcp = NULL;
    stream_ctx_destroy(k->ctx);
}

static uint32_t handshake(struct conn *k, uint32_t cisn, uint32_t sisn)
{
    uint32_t r = 0;

    r |= seg(k, C, TH_SYN, cisn, 0, NULL, 0);
    r |= seg(k, S, TH_SYN | TH_ACK, sisn, cisn + 1, NULL, 0);
    r |= seg(k, C, TH_ACK, cisn + 1, sisn + 1, NULL, 0);
    k->next[C] = cisn + 1;
    k->next[S] = sisn + 1;
    return r;
}

/* len bytes from dir at its next sequence number, acking the other side. */
static uint32_t send_data(struct conn *k, int dir, const char *data, size_t len)
{
    uint32_t r = seg(k, dir, TH_ACK | TH_PUSH, k->next[dir], k->next[!dir], data, len);

    k->next[dir] += (uint32_t)len;
    return r;
}

/* A pure ACK from dir of everything the other side sent. */
static uint32_t ack(struct conn *k, int dir)
{
    return seg(k, dir, TH_ACK, k->next[dir], k->next[!dir], NULL, 0);
}

/* The bytes of dir's view [base, end) as a string (static buffer). */
static const char *stream_str(struct conn *k, int dir)
{
    static char buf[65536];
    struct stream_view v;
    size_t n;

    stream_view(k->f.tcp, dir, &v);
    n = (size_t)(v.end - v.base);
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    if (n > 0 && v.data != NULL)
        memcpy(buf, v.data, n);
    buf[n] = '\0';
    return buf;
}

static struct stream_view view(struct conn *k, int dir)
{
    struct stream_view v;

    stream_view(k->f.tcp, dir, &v);
    return v;
}

#define STATS(k) stream_ctx_stats((k)->ctx)

TEST(handshake_and_states)
{
    struct conn k;
    uint32_t r;

    conn_init(&k, NULL);
    r = seg(&k, C, TH_SYN, 1000, 0, NULL, 0);
    CHECK_INT(r, STREAM_R_TRACKED | STREAM_R_NEW);
    CHECK(k.f.tcp != NULL);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_SENT);
    /* A retransmitted SYN changes nothing. */
    CHECK_INT(seg(&k, C, TH_SYN, 1000, 0, NULL, 0), STREAM_R_TRACKED);
    /* A SYN/ACK acking the wrong number is refused. */
    r = seg(&k, S, TH_SYN | TH_ACK, 5000, 999, NULL, 0);
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->bad_handshake, 1);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_SENT);
    CHECK_INT(seg(&k, S, TH_SYN | TH_ACK, 5000, 1001, NULL, 0), STREAM_R_TRACKED);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_RECV);
    /* Server data before the third ACK: "ACK in wrong direction". */
    r = seg(&k, S, TH_ACK, 5001, 1001, "early", 5);
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->bad_handshake, 2);
    r = seg(&k, C, TH_ACK, 1001, 5001, NULL, 0);
    CHECK_INT(r, STREAM_R_TRACKED | STREAM_R_ESTABLISHED);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_ESTABLISHED);
    CHECK_STR(stream_state_name(stream_state(k.f.tcp)), "established");
    CHECK_INT(view(&k, S).end, 0); /* the early data was not kept */
    CHECK_INT(STATS(&k)->sessions, 1);
    CHECK_INT(STATS(&k)->sessions_active, 1);
    CHECK_INT(STATS(&k)->invalid, 2);
    conn_fini(&k);
}

TEST(data_on_third_ack_and_in_order)
{
    struct conn k;
    uint32_t r;
    struct stream_view v;

    conn_init(&k, NULL);
    seg(&k, C, TH_SYN, 100, 0, NULL, 0);
    seg(&k, S, TH_SYN | TH_ACK, 900, 101, NULL, 0);
    /* The handshake's last ACK carries data. */
    r = seg(&k, C, TH_ACK | TH_PUSH, 101, 901, "GET / ", 6);
    CHECK_INT(r, STREAM_R_TRACKED | STREAM_R_ESTABLISHED | STREAM_R_DATA);
    k.next[C] = 107;
    k.next[S] = 901;
    CHECK(send_data(&k, C, "HTTP/1.1\r\n", 10) & STREAM_R_DATA);
    CHECK(send_data(&k, C, "\r\n", 2) & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "GET / HTTP/1.1\r\n\r\n");
    v = view(&k, C);
    CHECK_INT(v.base, 0);
    CHECK_INT(v.inspected, 0);
    CHECK_INT(v.end, 18);
    CHECK_INT(v.acked, 0);
    CHECK_INT(v.flags, 0);
    /* The server acknowledges: acked moves, reported as ACKED. */
    r = ack(&k, S);
    CHECK(r & STREAM_R_ACKED);
    CHECK_INT(view(&k, C).acked, 18);
    CHECK(send_data(&k, S, "HTTP/1.1 200 OK\r\n", 17) & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, S), "HTTP/1.1 200 OK\r\n");
    CHECK_INT(STATS(&k)->segments, 4);
    CHECK_INT(STATS(&k)->bytes, 35);
    conn_fini(&k);
}

TEST(out_of_order_and_holes)
{
    struct conn k;
    uint32_t b, r;

    conn_init(&k, NULL);
    handshake(&k, 7, 70000);
    b = k.next[C];
    /* Third, first, second. */
    r = seg(&k, C, TH_ACK, b + 10, k.next[S], "cccccccccc", 10);
    CHECK(!(r & STREAM_R_DATA));
    CHECK_INT(view(&k, C).end, 0);
    r = seg(&k, C, TH_ACK, b + 20, k.next[S], "dddd", 4); /* touches the third: one range */
    CHECK(!(r & STREAM_R_DATA));
    r = seg(&k, C, TH_ACK, b, k.next[S], "aaaaa", 5);
    CHECK(r & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "aaaaa");
    /* The hole 5..10 still holds the rest back. */
    r = seg(&k, C, TH_ACK, b + 5, k.next[S], "bbbbb", 5);
    CHECK(r & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "aaaaabbbbbccccccccccdddd");
    CHECK_INT(STATS(&k)->bytes, 24);
    CHECK_INT(STATS(&k)->overlaps, 0);
    CHECK_INT(STATS(&k)->gaps, 0);
    conn_fini(&k);
}

TEST(overlap_first_wins_byte_exact)
{
    struct conn k;
    uint32_t b, r;

    conn_init(&k, NULL);
    handshake(&k, 1, 2);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "AAAAAAAA", 8);
    /* Overlaps the tail of held data with other bytes, then extends it. */
    r = seg(&k, C, TH_ACK, b + 4, k.next[S], "BBBBBBBB", 8);
    CHECK(r & STREAM_R_OVERLAP);
    CHECK(r & STREAM_R_OVERLAP_DIFF);
    CHECK(r & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "AAAAAAAABBBB");
    /* Out of order: a range held, then a segment over it and the hole. */
    seg(&k, C, TH_ACK, b + 20, k.next[S], "XXXX", 4);                  /* 20..24 */
    r = seg(&k, C, TH_ACK, b + 12, k.next[S], "yyyyyyyyYYYYYYZZ", 16); /* 12..28 */
    CHECK(r & STREAM_R_OVERLAP_DIFF);
    CHECK_STR(stream_str(&k, C), "AAAAAAAABBBByyyyyyyyXXXXYYZZ");
    CHECK_INT(STATS(&k)->overlaps, 2);
    CHECK_INT(STATS(&k)->overlaps_diff, 2);
    CHECK_INT(STATS(&k)->retransmissions, 0);
    conn_fini(&k);
}

/* Suricata's bsd policy: held bytes stay, unless the new segment starts
 * before the one that brought them (stream.sh overlap-start, -coalesced). */
TEST(overlap_bsd)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t b;

    stream_config_default(&cfg);
    cfg.policy = STREAM_POLICY_BSD;
    conn_init(&k, &cfg);
    handshake(&k, 1, 2);
    b = k.next[C];
    /* out of order, then a segment starting before it */
    seg(&k, C, TH_ACK, b + 4, k.next[S], "XXXXXX", 6);
    seg(&k, C, TH_ACK, b, k.next[S], "ATTACK!!", 8);
    CHECK_STR(stream_str(&k, C), "ATTACK!!XX");
    /* starting at the same place keeps the held bytes; later still keeps */
    seg(&k, C, TH_ACK, b + 4, k.next[S], "YYYYYY", 6);
    seg(&k, C, TH_ACK, b + 6, k.next[S], "ZZ", 2);
    CHECK_STR(stream_str(&k, C), "ATTACK!!XX");
    CHECK_INT(STATS(&k)->overlaps_diff, 3);
    conn_fini(&k);

    /* in order: a resend covering two held segments differs in both: the
     * first (same start) is kept, the second (later start) replaced */
    conn_init(&k, &cfg);
    handshake(&k, 1, 2);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "ATT", 3);
    seg(&k, C, TH_ACK, b + 3, k.next[S], "XYZ", 3);
    seg(&k, C, TH_ACK, b, k.next[S], "atTACK", 6);
    CHECK_STR(stream_str(&k, C), "ATTACK");
    /* inspected bytes never change */
    stream_consume(k.ctx, k.f.tcp, C, 6, 100);
    seg(&k, C, TH_ACK, b + 6, k.next[S], "MORE", 4);
    seg(&k, C, TH_ACK, b + 2, k.next[S], "qqqqqqqq", 8);
    CHECK_STR(stream_str(&k, C), "ATTACKqqqq");
    conn_fini(&k);
}

TEST(overlap_last_wins_until_inspected)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t b;

    stream_config_default(&cfg);
    cfg.policy = STREAM_POLICY_LAST;
    conn_init(&k, &cfg);
    handshake(&k, 1, 2);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "AAAAAAAA", 8);
    seg(&k, C, TH_ACK, b + 4, k.next[S], "BBBBBBBB", 8);
    CHECK_STR(stream_str(&k, C), "AAAABBBBBBBB");
    /* Inspected bytes stay as they were inspected. */
    stream_consume(k.ctx, k.f.tcp, C, 6, 100);
    seg(&k, C, TH_ACK, b, k.next[S], "CCCCCCCCCC", 10);
    CHECK_STR(stream_str(&k, C), "AAAABBCCCCBB");
    /* Out-of-order bytes are replaced too. */
    seg(&k, C, TH_ACK, b + 14, k.next[S], "xx", 2);
    seg(&k, C, TH_ACK, b + 13, k.next[S], "yyyy", 4);
    seg(&k, C, TH_ACK, b + 12, k.next[S], "z", 1);
    CHECK_STR(stream_str(&k, C), "AAAABBCCCCBBzyyyy");
    CHECK_INT(STATS(&k)->overlaps_diff, 3);
    conn_fini(&k);
}

TEST(retransmission_ignored)
{
    struct conn k;
    uint32_t b, r;

    conn_init(&k, NULL);
    handshake(&k, 50, 60);
    b = k.next[C];
    send_data(&k, C, "hello world", 11);
    r = seg(&k, C, TH_ACK, b, k.next[S], "hello world", 11);
    CHECK_INT(r & (STREAM_R_RETRANS | STREAM_R_OVERLAP | STREAM_R_DATA), STREAM_R_RETRANS);
    CHECK_INT(STATS(&k)->retransmissions, 1);
    /* A part of it, same bytes: still a retransmission. */
    r = seg(&k, C, TH_ACK, b + 6, k.next[S], "world", 5);
    CHECK(r & STREAM_R_RETRANS);
    /* Same bytes and some new ones: an overlap without different data. */
    r = seg(&k, C, TH_ACK, b + 6, k.next[S], "world!", 6);
    CHECK_INT(r & (STREAM_R_RETRANS | STREAM_R_OVERLAP | STREAM_R_OVERLAP_DIFF | STREAM_R_DATA),
              STREAM_R_OVERLAP | STREAM_R_DATA);
    /* Different bytes over held data: first wins, counted. */
    r = seg(&k, C, TH_ACK, b, k.next[S], "HELLO", 5);
    CHECK(r & STREAM_R_OVERLAP_DIFF);
    CHECK_STR(stream_str(&k, C), "hello world!");
    CHECK_INT(STATS(&k)->retransmissions, 2);
    CHECK_INT(STATS(&k)->overlaps, 2);
    CHECK_INT(STATS(&k)->overlaps_diff, 1);
    /* A retransmission of bytes already dropped by the consumer. */
    stream_consume(k.ctx, k.f.tcp, C, 12, 0);
    r = seg(&k, C, TH_ACK, b, k.next[S], "hello", 5);
    CHECK(r & STREAM_R_RETRANS);
    conn_fini(&k);
}

TEST(gap_skipped_after_ack)
{
    struct conn k;
    struct stream_view v;
    uint32_t b, r;

    conn_init(&k, NULL);
    handshake(&k, 10, 20);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "first.", 6);      /* 0..6 */
    seg(&k, C, TH_ACK, b + 10, k.next[S], "third.", 6); /* 10..16; 6..10 never seen */
    CHECK_INT(view(&k, C).end, 6);
    /* The server ACKs everything: the consumer has not inspected "first."
     * yet, so the gap is pending. */
    r = seg(&k, S, TH_ACK, k.next[S], b + 16, NULL, 0);
    CHECK(r & STREAM_R_GAP);
    v = view(&k, C);
    CHECK_INT(v.end, 6);
    CHECK_INT(v.acked, 16);
    CHECK(v.flags & STREAM_V_GAP_PENDING);
    /* Inspecting up to the hole lets the engine skip it. */
    stream_consume(k.ctx, k.f.tcp, C, v.end, 4096);
    v = view(&k, C);
    CHECK_INT(v.base, 10); /* no tail across a gap */
    CHECK_INT(v.inspected, 10);
    CHECK_INT(v.end, 16);
    CHECK(v.flags & STREAM_V_GAP);
    CHECK(!(v.flags & STREAM_V_GAP_PENDING));
    CHECK_STR(stream_str(&k, C), "third.");
    CHECK_INT(STATS(&k)->gaps, 1);
    CHECK_INT(STATS(&k)->gap_bytes, 4);
    /* A consumer that is up to date gets the skip at once; the missing
     * bytes may be the last ones (nothing after them). */
    stream_consume(k.ctx, k.f.tcp, C, 16, 4096);
    r = seg(&k, S, TH_ACK, k.next[S], b + 30, NULL, 0);
    CHECK(r & STREAM_R_GAP);
    CHECK_INT(view(&k, C).end, 30);
    CHECK_INT(STATS(&k)->gap_bytes, 18);
    /* Data after the skipped part continues the stream. */
    r = seg(&k, C, TH_ACK, b + 30, k.next[S], "more", 4);
    CHECK(r & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "more");
    conn_fini(&k);
}

TEST(gap_not_skipped_when_off)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t b;

    stream_config_default(&cfg);
    cfg.gap_skip = false;
    conn_init(&k, &cfg);
    handshake(&k, 10, 20);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "first.", 6);
    seg(&k, C, TH_ACK, b + 10, k.next[S], "third.", 6);
    stream_consume(k.ctx, k.f.tcp, C, 6, 0);
    CHECK(!(seg(&k, S, TH_ACK, k.next[S], b + 16, NULL, 0) & STREAM_R_GAP));
    CHECK_INT(view(&k, C).end, 6);
    CHECK_INT(STATS(&k)->gaps, 0);
    /* The hole filling late still works. */
    CHECK(seg(&k, C, TH_ACK, b + 6, k.next[S], "2nd.", 4) & STREAM_R_DATA);
    CHECK_INT(view(&k, C).end, 16);
    conn_fini(&k);
}

/* The server speaks before the third ACK (an SMTP banner) and the client's
 * ACK acknowledges that data: the session is established, the banner a
 * hole (suricata-verify issue-4220-01-ids); an ACK past what the server
 * sent is still refused. */
TEST(early_server_data)
{
    struct conn k;

    conn_init(&k, NULL);
    seg(&k, C, TH_SYN, 100, 0, NULL, 0);
    seg(&k, S, TH_SYN | TH_ACK, 500, 101, NULL, 0);
    CHECK(seg(&k, S, TH_ACK | TH_PUSH, 501, 101, "220 hi\r\n", 8) & STREAM_R_INVALID);
    CHECK(seg(&k, C, TH_ACK, 101, 510, NULL, 0) & STREAM_R_INVALID);
    CHECK(seg(&k, C, TH_ACK, 101, 509, NULL, 0) & STREAM_R_ESTABLISHED);
    CHECK(seg(&k, C, TH_ACK | TH_PUSH, 101, 509, "HELO x\r\n", 8) & STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "HELO x\r\n");
    conn_fini(&k);
}

/* stream.async-oneside: only the client's side is seen; its ACK after the
 * SYN establishes the session and its data counts as acknowledged. */
TEST(async_oneside)
{
    struct conn k;
    struct stream_config cfg;
    struct stream_view v;
    uint32_t b;

    stream_config_default(&cfg);
    conn_init(&k, &cfg);
    CHECK(seg(&k, C, TH_SYN, k.next[C] - 1, 0, NULL, 0) & STREAM_R_NEW);
    b = k.next[C];
    /* without the option: a bad handshake */
    CHECK(seg(&k, C, TH_ACK, b, 5001, NULL, 0) & STREAM_R_INVALID);
    conn_fini(&k);

    cfg.async_oneside = true;
    conn_init(&k, &cfg);
    seg(&k, C, TH_SYN, k.next[C] - 1, 0, NULL, 0);
    b = k.next[C];
    CHECK(seg(&k, C, TH_ACK, b, 5001, NULL, 0) & STREAM_R_ESTABLISHED);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_ESTABLISHED);
    CHECK(seg(&k, C, TH_ACK | TH_PUSH, b, 5001, "GET / HTTP/1.1\r\n", 16) & STREAM_R_DATA);
    stream_view(k.f.tcp, C, &v);
    CHECK_INT(v.end, 16);
    CHECK_INT(v.acked, 16);
    conn_fini(&k);
}

/* Data ending before what the receiver acknowledged stays out of the
 * stream (Suricata's "before last ACK"); ending at it, it is accepted. */
TEST(old_acked_data)
{
    struct conn k;
    uint32_t b;

    conn_init(&k, NULL);
    handshake(&k, 10, 20);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "ATTACK-more", 11);
    seg(&k, S, TH_ACK, k.next[S], b + 11, NULL, 0);
    CHECK_INT(seg(&k, C, TH_ACK, b, k.next[S], "ATTACK", 6) &
                  (STREAM_R_OLD_ACKED | STREAM_R_DATA),
              STREAM_R_OLD_ACKED);
    CHECK(!(seg(&k, C, TH_ACK, b + 5, k.next[S], "K-more", 6) & STREAM_R_OLD_ACKED));
    CHECK_STR(stream_str(&k, C), "ATTACK-more");
    conn_fini(&k);
}

TEST(fin_client_first)
{
    struct conn k;
    struct stream_view v;
    uint32_t r, fin;

    conn_init(&k, NULL);
    handshake(&k, 1000, 2000);
    send_data(&k, C, "bye", 3);
    fin = k.next[C];
    r = seg(&k, C, TH_FIN | TH_ACK, fin, k.next[S], NULL, 0);
    CHECK(r & STREAM_R_FIN);
    CHECK(r & STREAM_R_EOF);
    k.next[C]++; /* the FIN takes one sequence number */
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_FIN_WAIT1);
    v = view(&k, C);
    CHECK(v.flags & STREAM_V_FIN);
    CHECK(v.flags & STREAM_V_EOF);
    CHECK_INT(v.fin, 3);
    /* The server acks the FIN (ack = fin + 1): acked stops at the FIN. */
    ack(&k, S);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_FIN_WAIT2);
    CHECK_INT(view(&k, C).acked, 3);
    /* Data from the client after its FIN is not stream data. */
    r = seg(&k, C, TH_ACK, fin, k.next[S], "late", 4);
    CHECK(r & STREAM_R_INVALID);
    CHECK_STR(stream_str(&k, C), "bye");
    /* The server may still send, then closes. */
    send_data(&k, S, "ok", 2);
    r = seg(&k, S, TH_FIN | TH_ACK, k.next[S], k.next[C], NULL, 0);
    CHECK(r & STREAM_R_EOF);
    k.next[S]++;
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_TIME_WAIT);
    ack(&k, C);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSED);
    CHECK_STR(stream_state_name(STREAM_STATE_TIME_WAIT), "time_wait");
    /* A new SYN with another ISN reuses the session: offsets restart. */
    r = seg(&k, C, TH_SYN, 777777, 0, NULL, 0);
    CHECK(r & STREAM_R_NEW);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_SENT);
    CHECK_INT(view(&k, C).end, 0);
    CHECK_INT(STATS(&k)->reused, 1);
    CHECK_INT(STATS(&k)->sessions, 2);
    conn_fini(&k);
}

TEST(fin_server_first_and_simultaneous)
{
    struct conn k;

    conn_init(&k, NULL);
    handshake(&k, 1, 1);
    seg(&k, S, TH_FIN | TH_ACK, k.next[S], k.next[C], NULL, 0);
    k.next[S]++;
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSE_WAIT);
    ack(&k, C);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSE_WAIT);
    seg(&k, C, TH_FIN | TH_ACK, k.next[C], k.next[S], NULL, 0);
    k.next[C]++;
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_LAST_ACK);
    ack(&k, S);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSED);
    conn_fini(&k);

    /* Both FINs cross before either is acked. */
    conn_init(&k, NULL);
    handshake(&k, 1, 1);
    seg(&k, C, TH_FIN | TH_ACK, k.next[C], k.next[S], NULL, 0);
    seg(&k, S, TH_FIN | TH_ACK, k.next[S], k.next[C], NULL, 0);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSING);
    k.next[C]++;
    k.next[S]++;
    ack(&k, S);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_TIME_WAIT);
    ack(&k, C);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSED);
    conn_fini(&k);
}

/* A FIN after a hole: the ACK of the FIN skips the hole and ends the stream. */
TEST(fin_after_hole)
{
    struct conn k;
    struct stream_view v;
    uint32_t b;

    conn_init(&k, NULL);
    handshake(&k, 5, 6);
    b = k.next[C];
    seg(&k, C, TH_ACK, b, k.next[S], "abc", 3);
    seg(&k, C, TH_ACK | TH_FIN, b + 6, k.next[S], "ghi", 3); /* 3..6 missed; FIN at 9 */
    v = view(&k, C);
    CHECK(v.flags & STREAM_V_FIN);
    CHECK(!(v.flags & STREAM_V_EOF));
    CHECK_INT(v.fin, 9);
    stream_consume(k.ctx, k.f.tcp, C, 3, 0);
    CHECK(seg(&k, S, TH_ACK, k.next[S], b + 10, NULL, 0) & STREAM_R_EOF);
    v = view(&k, C);
    CHECK(v.flags & STREAM_V_EOF);
    CHECK_INT(v.end, 9);
    CHECK_INT(v.acked, 9);
    CHECK_STR(stream_str(&k, C), "ghi");
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_FIN_WAIT2);
    /* Everything inspected: the buffer is released. */
    stream_consume(k.ctx, k.f.tcp, C, 9, 4096);
    CHECK(view(&k, C).data == NULL);
    conn_fini(&k);
}

TEST(rst_handling)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t r;

    /* Exact next sequence number: accepted. */
    conn_init(&k, NULL);
    handshake(&k, 100, 200);
    send_data(&k, C, "abc", 3);
    r = seg(&k, S, TH_RST, k.next[S] + 1, 0, NULL, 0); /* off by one */
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->bad_rst, 1);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_ESTABLISHED);
    r = seg(&k, S, TH_RST | TH_ACK, k.next[S], k.next[C], "why", 3);
    CHECK(r & STREAM_R_RST);
    CHECK(r & STREAM_R_EOF);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSED);
    CHECK(view(&k, C).flags & STREAM_V_RST);
    CHECK(view(&k, S).flags & STREAM_V_RST);
    CHECK_INT(view(&k, S).end, 0); /* RST data is not stream data */
    CHECK_STR(stream_str(&k, C), "abc");
    /* Data after the reset is ignored. */
    r = send_data(&k, C, "def", 3);
    CHECK(r & STREAM_R_INVALID);
    CHECK_STR(stream_str(&k, C), "abc");
    /* A RST acking data never sent is refused. */
    conn_fini(&k);
    conn_init(&k, NULL);
    handshake(&k, 100, 200);
    r = seg(&k, S, TH_RST | TH_ACK, k.next[S], k.next[C] + 100000, NULL, 0);
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->bad_rst, 1);
    conn_fini(&k);

    /* In-window policy: anywhere in the receive window. */
    stream_config_default(&cfg);
    cfg.rst_in_window = true;
    conn_init(&k, &cfg);
    handshake(&k, 100, 200);
    CHECK(seg(&k, C, TH_RST, k.next[C] + 70000, 0, NULL, 0) & STREAM_R_INVALID);
    CHECK(seg(&k, C, TH_RST, k.next[C] + 1000, 0, NULL, 0) & STREAM_R_RST);
    conn_fini(&k);

    /* Refused connection: RST/ACK to the SYN. */
    conn_init(&k, NULL);
    seg(&k, C, TH_SYN, 42, 0, NULL, 0);
    r = seg(&k, S, TH_RST | TH_ACK, 0, 43, NULL, 0);
    CHECK(r & STREAM_R_RST);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_CLOSED);
    conn_fini(&k);
}

TEST(sequence_wrap_around)
{
    struct conn k;
    char data[100], want[101];
    uint32_t isn = 0xffffffc0u; /* the stream crosses 2^32 after 63 bytes */

    for (int i = 0; i < 100; i++)
        data[i] = want[i] = (char)('a' + i % 26);
    want[100] = '\0';
    conn_init(&k, NULL);
    handshake(&k, isn, 0xfffffff0u);
    /* Out of order across the wrap: 50..100, then 0..50. */
    seg(&k, C, TH_ACK, isn + 1 + 50, k.next[S], data + 50, 50);
    CHECK_INT(view(&k, C).end, 0);
    seg(&k, C, TH_ACK, isn + 1, k.next[S], data, 50);
    CHECK_INT(view(&k, C).end, 100);
    CHECK_STR(stream_str(&k, C), want);
    k.next[C] = isn + 101;
    CHECK(ack(&k, S) & STREAM_R_ACKED);
    CHECK_INT(view(&k, C).acked, 100);
    /* The server's side wraps too. */
    for (int i = 0; i < 10; i++)
        send_data(&k, S, data + i * 10, 10);
    CHECK_STR(stream_str(&k, S), want);
    conn_fini(&k);
}

TEST(depth_limit)
{
    struct conn k;
    struct stream_config cfg;
    char data[150];
    uint32_t r;

    memset(data, 'd', sizeof(data));
    stream_config_default(&cfg);
    cfg.depth = 100;
    conn_init(&k, &cfg);
    handshake(&k, 1, 1);
    r = send_data(&k, C, data, 60);
    CHECK(!(r & STREAM_R_EOF));
    r = send_data(&k, C, data, 60);
    CHECK(r & STREAM_R_EOF);
    CHECK_INT(view(&k, C).end, 100);
    CHECK(view(&k, C).flags & STREAM_V_DEPTH);
    send_data(&k, C, data, 30);
    CHECK_INT(view(&k, C).end, 100);
    CHECK_INT(STATS(&k)->depth_reached, 1);
    CHECK_INT(STATS(&k)->depth_bytes, 50);
    /* The other direction is not affected. */
    send_data(&k, S, data, 10);
    CHECK_INT(view(&k, S).end, 10);
    conn_fini(&k);
}

TEST(memcaps)
{
    struct conn k, k2;
    struct stream_config cfg;
    static char data[5000];
    uint32_t r;

    /* Reassembly memcap: one 4 KiB buffer.  Unconsumed data beyond it stops
     * the direction; the session goes on. */
    stream_config_default(&cfg);
    cfg.reassembly_memcap = 4096;
    conn_init(&k, &cfg);
    handshake(&k, 1, 1);
    r = send_data(&k, C, data, 4000);
    CHECK(r & STREAM_R_DATA);
    r = send_data(&k, C, data, 1000);
    CHECK(r & STREAM_R_EOF);
    CHECK(view(&k, C).flags & STREAM_V_MEMCAP);
    CHECK_INT(view(&k, C).end, 4000);
    CHECK_INT(STATS(&k)->memcap_drops, 1);
    CHECK_INT(STATS(&k)->reassembly_memuse, 4096);
    /* The other direction cannot get a buffer either, but the session
     * still tracks its state. */
    r = send_data(&k, S, data, 10);
    CHECK(r & STREAM_R_TRACKED);
    CHECK_INT(view(&k, S).end, 0);
    r = seg(&k, S, TH_FIN | TH_ACK, k.next[S], k.next[C], NULL, 0);
    CHECK(r & STREAM_R_FIN);
    conn_fini(&k);

    /* Consumed data does not count: the buffer slides. */
    conn_init(&k, &cfg);
    handshake(&k, 1, 1);
    for (int i = 0; i < 50; i++) {
        send_data(&k, C, data, 1000);
        stream_consume(k.ctx, k.f.tcp, C, view(&k, C).end, 256);
    }
    CHECK_INT(view(&k, C).end, 50000);
    CHECK(!(view(&k, C).flags & STREAM_V_MEMCAP));
    CHECK_INT(STATS(&k)->memcap_drops, 0);
    conn_fini(&k);

    /* Session memcap: room for one session only (its size as counted). */
    conn_init(&k, NULL);
    seg(&k, C, TH_SYN, 1, 0, NULL, 0);
    stream_config_default(&cfg);
    cfg.memcap = STATS(&k)->memuse;
    CHECK(cfg.memcap > 100);
    conn_fini(&k);
    conn_init(&k, &cfg);
    memset(&k2, 0, sizeof(k2));
    k2.ctx = k.ctx;
    k2.win = 65535;
    CHECK(seg(&k, C, TH_SYN, 1, 0, NULL, 0) & STREAM_R_NEW);
    CHECK_INT(seg(&k2, C, TH_SYN, 1, 0, NULL, 0), 0);
    CHECK(k2.f.tcp == NULL);
    CHECK_INT(STATS(&k)->memcap_drops, 1);
    /* Freed sessions are recycled. */
    stream_session_free(k.ctx, k.f.tcp);
    k.f.tcp = NULL;
    CHECK(seg(&k2, C, TH_SYN, 1, 0, NULL, 0) & STREAM_R_NEW);
    CHECK_INT(STATS(&k)->sessions_active, 1);
    stream_session_free(k2.ctx, k2.f.tcp);
    conn_fini(&k);
    CHECK_INT(stream_ctx_create(&k.ctx, &cfg), 0);
    stream_ctx_destroy(k.ctx);
    cfg.memcap = 10;
    CHECK_INT(stream_ctx_create(&k.ctx, &cfg), -EINVAL);
}

TEST(midstream_off_and_on)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t r;

    /* Off (default): no session without a SYN. */
    conn_init(&k, NULL);
    r = seg(&k, C, TH_ACK | TH_PUSH, 5000, 9000, "data", 4);
    CHECK_INT(r, 0);
    CHECK(k.f.tcp == NULL);
    CHECK_INT(STATS(&k)->no_session, 1);
    CHECK_INT(seg(&k, S, TH_SYN | TH_ACK, 9000, 5000, NULL, 0), 0);
    conn_fini(&k);

    /* On: picked up at the first packet; the other side's offsets come from
     * its ACK. */
    stream_config_default(&cfg);
    cfg.midstream = true;
    conn_init(&k, &cfg);
    r = seg(&k, C, TH_ACK | TH_PUSH, 5000, 9000, "data", 4);
    CHECK_INT(r, STREAM_R_TRACKED | STREAM_R_NEW | STREAM_R_ESTABLISHED | STREAM_R_DATA);
    CHECK_STR(stream_str(&k, C), "data");
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_ESTABLISHED);
    r = seg(&k, S, TH_ACK | TH_PUSH, 9000, 5004, "resp", 4);
    CHECK(r & STREAM_R_DATA);
    CHECK(r & STREAM_R_ACKED);
    CHECK_STR(stream_str(&k, S), "resp");
    CHECK_INT(view(&k, C).acked, 4);
    /* No window checks without a handshake (scale unknown). */
    CHECK(seg(&k, C, TH_ACK, 5004, 9004, "x", 1) & STREAM_R_DATA);
    CHECK_INT(STATS(&k)->midstream, 1);
    /* A RST alone never starts a session. */
    conn_fini(&k);
    conn_init(&k, &cfg);
    CHECK_INT(seg(&k, C, TH_RST, 1, 0, NULL, 0), 0);
    /* A SYN/ACK first: its sender is the server. */
    r = seg(&k, S, TH_SYN | TH_ACK, 300, 101, NULL, 0);
    CHECK(r & STREAM_R_NEW);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_RECV);
    r = seg(&k, C, TH_ACK | TH_PUSH, 101, 301, "hi", 2);
    CHECK(r & STREAM_R_ESTABLISHED);
    CHECK_STR(stream_str(&k, C), "hi");
    conn_fini(&k);
}

TEST(window_and_ack_checks)
{
    struct conn k;
    char data[2000];
    uint32_t r;

    memset(data, 'w', sizeof(data));
    conn_init(&k, NULL);
    k.win = 1000; /* both sides advertise 1000 bytes, no scaling */
    handshake(&k, 1, 1);
    /* 1500 bytes in a 1000-byte window: out of window, dropped whole. */
    r = seg(&k, C, TH_ACK, k.next[C], k.next[S], data, 1500);
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->out_of_window, 1);
    CHECK_INT(view(&k, C).end, 0);
    CHECK(send_data(&k, C, data, 1000) & STREAM_R_DATA);
    /* The window is full until the server acks. */
    r = seg(&k, C, TH_ACK, k.next[C], k.next[S], data, 10);
    CHECK(r & STREAM_R_INVALID);
    ack(&k, S);
    CHECK(send_data(&k, C, data, 10) & STREAM_R_DATA);
    /* An ACK for bytes the client could not have sent yet. */
    r = seg(&k, S, TH_ACK, k.next[S], k.next[C] + 5000, NULL, 0);
    CHECK(r & STREAM_R_INVALID);
    CHECK_INT(STATS(&k)->bad_ack, 1);
    /* A keep-alive (one byte below next_seq) is not data. */
    r = seg(&k, C, TH_ACK, k.next[C] - 1, k.next[S], "k", 1);
    CHECK(!(r & (STREAM_R_DATA | STREAM_R_OVERLAP | STREAM_R_RETRANS | STREAM_R_INVALID)));
    /* A zero-window probe is not data and not invalid either. */
    k.win = 0;
    ack(&k, S);
    r = seg(&k, C, TH_ACK, k.next[C], k.next[S], "p", 1);
    CHECK(!(r & (STREAM_R_DATA | STREAM_R_INVALID)));
    CHECK_INT(view(&k, C).end, 1010);
    CHECK_INT(STATS(&k)->invalid, 3);
    conn_fini(&k);
}

/* Window scaling comes from the SYN options (read from p->l4). */
static uint32_t syn_ws(struct conn *k, int dir, uint8_t fl, uint32_t seq, uint32_t ack_no, int ws)
{
    uint8_t th[24] = {0};
    struct packet p;

    th[12] = ws >= 0 ? 0x60 : 0x50;
    th[20] = 3, th[21] = 3, th[22] = (uint8_t)(ws < 0 ? 0 : ws), th[23] = 0;
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_TCP;
    p.flow = &k->f;
    p.dir = (uint8_t)dir;
    p.tcp_flags = fl;
    p.tcp_seq = seq;
    p.tcp_ack = ack_no;
    p.tcp_win = 100;
    p.l4 = th;
    p.l4_len = ws >= 0 ? 24 : 20;
    return stream_packet(k->ctx, &p, 0);
}

TEST(window_scaling)
{
    struct conn k;
    static char data[3000];

    /* Both offer: the server's window of 100 << 5 = 3200 bytes. */
    conn_init(&k, NULL);
    syn_ws(&k, C, TH_SYN, 10, 0, 7);
    syn_ws(&k, S, TH_SYN | TH_ACK, 20, 11, 5);
    k.win = 100;
    k.next[C] = 11;
    k.next[S] = 21;
    ack(&k, C);
    ack(&k, S); /* a scaled window from the server */
    CHECK(send_data(&k, C, data, 3000) & STREAM_R_DATA);
    conn_fini(&k);

    /* Only one offers: no scaling, 3000 bytes do not fit in 100. */
    conn_init(&k, NULL);
    syn_ws(&k, C, TH_SYN, 10, 0, 7);
    syn_ws(&k, S, TH_SYN | TH_ACK, 20, 11, -1);
    k.win = 100;
    k.next[C] = 11;
    k.next[S] = 21;
    ack(&k, C);
    ack(&k, S);
    CHECK(send_data(&k, C, data, 3000) & STREAM_R_INVALID);
    k.next[C] -= 3000;
    CHECK(send_data(&k, C, data, 101) & STREAM_R_INVALID);
    k.next[C] -= 101;
    CHECK(send_data(&k, C, data, 100) & STREAM_R_DATA);
    conn_fini(&k);
}

TEST(consumer_tail_retention)
{
    struct conn k;
    struct stream_view v;
    static char data[20000];
    const char *pat = "EVIL-PATTERN";
    int found = 0;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 23);
    /* The pattern straddles the boundary of two segments. */
    memcpy(data + 9995, pat, strlen(pat));
    conn_init(&k, NULL);
    handshake(&k, 3, 4);
    for (int i = 0; i < 20; i++) {
        send_data(&k, C, data + i * 1000, 1000);
        v = view(&k, C);
        /* Inspect new bytes, with the kept tail before them. */
        CHECK(v.base <= v.inspected && v.inspected <= v.end);
        CHECK(v.inspected - v.base <= 64);
        CHECK(memcmp(v.data, data + v.base, (size_t)(v.end - v.base)) == 0);
        if (memmem(v.data, (size_t)(v.end - v.base), pat, strlen(pat)) != NULL && v.base < 10007 &&
            v.end >= 10007)
            found++;
        stream_consume(k.ctx, k.f.tcp, C, v.end, 64);
    }
    CHECK_INT(found, 1); /* only thanks to the tail: the match ends at 10007 */
    v = view(&k, C);
    CHECK_INT(v.inspected, 20000);
    CHECK_INT(v.base, 20000 - 64);
    /* Sliding kept the buffer small. */
    CHECK_INT(STATS(&k)->reassembly_memuse, 4096);
    /* The mark never goes back, nor past the end. */
    stream_consume(k.ctx, k.f.tcp, C, 100, 64);
    CHECK_INT(view(&k, C).inspected, 20000);
    stream_consume(k.ctx, k.f.tcp, C, 999999, 64);
    CHECK_INT(view(&k, C).inspected, 20000);
    /* Partial consumption leaves the rest new. */
    send_data(&k, C, "0123456789", 10);
    stream_consume(k.ctx, k.f.tcp, C, 20004, 2);
    v = view(&k, C);
    CHECK_INT(v.base, 20002);
    CHECK_INT(v.inspected, 20004);
    CHECK(memcmp(v.data, "23456789", 8) == 0);
    /* A larger keep later cannot bring dropped bytes back. */
    stream_consume(k.ctx, k.f.tcp, C, 20004, 1000);
    CHECK_INT(view(&k, C).base, 20002);
    conn_fini(&k);
}

TEST(ooo_limits)
{
    struct conn k;
    struct stream_config cfg;
    uint32_t b, r;

    stream_config_default(&cfg);
    cfg.ooo_limit = 1000;
    conn_init(&k, &cfg);
    handshake(&k, 1, 1);
    b = k.next[C];
    /* Too far past the contiguous end. */
    r = seg(&k, C, TH_ACK, b + 995, k.next[S], "0123456789", 10);
    CHECK(!(r & STREAM_R_DATA));
    CHECK_INT(STATS(&k)->ooo_drops, 1);
    /* 16 holes are fine, a 17th is not. */
    for (uint32_t i = 0; i < 16; i++)
        seg(&k, C, TH_ACK, b + 10 + i * 10, k.next[S], "x", 1);
    CHECK_INT(STATS(&k)->ooo_drops, 1);
    seg(&k, C, TH_ACK, b + 500, k.next[S], "x", 1);
    CHECK_INT(STATS(&k)->ooo_drops, 2);
    /* Filling the start absorbs the first range only. */
    seg(&k, C, TH_ACK, b, k.next[S], "0123456789", 10);
    CHECK_INT(view(&k, C).end, 11);
    conn_fini(&k);
}

TEST(checksum_flag)
{
    struct conn k;
    struct packet p;

    conn_init(&k, NULL);
    handshake(&k, 1, 1);
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_TCP | PKT_L4_CSUM_BAD;
    p.flow = &k.f;
    p.dir = C;
    p.tcp_flags = TH_ACK;
    p.tcp_seq = k.next[C];
    p.tcp_ack = k.next[S];
    p.tcp_win = 1000;
    p.payload = (const uint8_t *)"bad";
    p.payload_len = 3;
    CHECK_INT(stream_packet(k.ctx, &p, STREAM_PKT_CHECK_CSUM), STREAM_R_CSUM);
    CHECK_INT(view(&k, C).end, 0);
    CHECK_INT(STATS(&k)->csum_bad, 1);
    /* Without the flag the verdict is not the engine's business. */
    CHECK(stream_packet(k.ctx, &p, 0) & STREAM_R_DATA);
    CHECK_INT(view(&k, C).end, 3);
    /* Not TCP, or no flow: nothing. */
    p.flags = PKT_IPV4 | PKT_UDP;
    CHECK_INT(stream_packet(k.ctx, &p, 0), 0);
    p.flags = PKT_IPV4 | PKT_TCP;
    p.flow = NULL;
    CHECK_INT(stream_packet(k.ctx, &p, 0), 0);
    conn_fini(&k);
}

TEST(invalid_before_handshake)
{
    struct conn k;
    uint32_t r;

    conn_init(&k, NULL);
    seg(&k, C, TH_SYN, 10, 0, NULL, 0);
    /* Client data before the SYN/ACK. */
    r = seg(&k, C, TH_ACK, 11, 0, "x", 1);
    CHECK(r & STREAM_R_INVALID);
    /* A SYN with a new ISN restarts the attempt. */
    seg(&k, C, TH_SYN, 500, 0, NULL, 0);
    CHECK(seg(&k, S, TH_SYN | TH_ACK, 9, 11, NULL, 0) & STREAM_R_INVALID);
    seg(&k, S, TH_SYN | TH_ACK, 9, 501, NULL, 0);
    CHECK_INT(stream_state(k.f.tcp), STREAM_STATE_SYN_RECV);
    /* A third ACK with the wrong ack number. */
    CHECK(seg(&k, C, TH_ACK, 501, 11, NULL, 0) & STREAM_R_INVALID);
    CHECK(seg(&k, C, TH_ACK, 501, 10, NULL, 0) & STREAM_R_ESTABLISHED);
    /* A SYN in the established state (not a retransmission). */
    CHECK(seg(&k, C, TH_SYN, 12345, 0, NULL, 0) & STREAM_R_INVALID);
    CHECK(seg(&k, C, TH_SYN, 500, 0, NULL, 0) == STREAM_R_TRACKED);
    CHECK_INT(STATS(&k)->bad_handshake, 4);
    conn_fini(&k);
}

/* The whole path: pktgen frames, decode_packet(), flow_lookup(),
 * stream_packet(), and the flow table's end callback freeing sessions. */
static struct stream_ctx *cb_ctx;

static void on_flow_end(void *arg, struct flow *f)
{
    (void)arg;
    stream_session_free(cb_ctx, f->tcp);
}

TEST(through_decoder_and_flow_table)
{
    static uint8_t frame[2048];
    struct flow_config fc = {.memcap = 1 << 20,
                             .hash_size = 64,
                             .timeout_new = 30,
                             .timeout_est = 300,
                             .timeout_closed = 10,
                             .timeout_udp_est = 60,
                             .timeout_icmp_est = 60};
    struct stream_config sc;
    struct flow_table *ft;
    struct decode_stats st;
    struct kanshi_addr cli, srv;
    struct pktgen_pkt pk;
    struct stream_view v;
    struct packet p;
    uint32_t cseq = 0x7ffffff0, sseq = 0xdead0000, r = 0;
    const char *req = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    struct {
        int from_client;
        uint8_t fl;
        const char *data;
        size_t off, len;
    } script[] = {
        {1, TH_SYN, NULL, 0, 0},
        {0, TH_SYN | TH_ACK, NULL, 0, 0},
        {1, TH_ACK, NULL, 0, 0},
        {1, TH_ACK | TH_PUSH, req, 10, 16}, /* second half first */
        {1, TH_ACK | TH_PUSH, req, 0, 10},
        {1, TH_ACK | TH_PUSH, req, 26, 11},
        {0, TH_ACK, NULL, 0, 0},
        {1, TH_FIN | TH_ACK, NULL, 0, 0},
        {0, TH_FIN | TH_ACK, NULL, 0, 0},
        {1, TH_ACK, NULL, 0, 0},
    };
    int n;

    memset(&st, 0, sizeof(st));
    stream_config_default(&sc);
    CHECK_INT(stream_ctx_create(&cb_ctx, &sc), 0);
    CHECK_INT(flow_table_create(&ft, &fc, on_flow_end, NULL), 0);
    pktgen_addr_parse(&cli, "10.0.0.1");
    pktgen_addr_parse(&srv, "10.0.0.2");
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(script); i++) {
        int c = script[i].from_client;
        uint32_t seq0;

        pktgen_pkt_init(&pk, IPPROTO_TCP, c ? &cli : &srv, c ? 40000 : 80, c ? &srv : &cli,
                        c ? 80 : 40000);
        pk.tcp_flags = script[i].fl;
        seq0 = c ? cseq : sseq;
        pk.seq = seq0 + (uint32_t)script[i].off;
        pk.ack = (script[i].fl & TH_ACK) ? (c ? sseq : cseq) : 0;
        pk.payload = (const uint8_t *)script[i].data + script[i].off;
        pk.payload_len = script[i].len;
        if (script[i].data == NULL)
            pk.payload = NULL;
        n = pktgen_build(frame, sizeof(frame), &pk);
        CHECK(n > 0);
        CHECK_INT(
            decode_packet(&p, 1 /* DLT_EN10MB */, frame, (uint32_t)n, (uint32_t)n, 1000 + i, &st),
            0);
        CHECK(decode_checksum_check(&p));
        CHECK(flow_lookup(ft, &p) != NULL);
        r = stream_packet(cb_ctx, &p, STREAM_PKT_CHECK_CSUM);
        CHECK(r & STREAM_R_TRACKED);
        /* Sequence numbers move by SYN, FIN and the data in order. */
        if (script[i].fl & (TH_SYN | TH_FIN)) {
            if (c)
                cseq++;
            else
                sseq++;
        }
        if (i == 5)
            cseq += (uint32_t)strlen(req);
    }
    CHECK(p.flow->tcp != NULL);
    CHECK_INT(stream_state(p.flow->tcp), STREAM_STATE_CLOSED);
    stream_view(p.flow->tcp, FLOW_DIR_TOSERVER, &v);
    CHECK_INT(v.end, strlen(req));
    CHECK(v.data != NULL && memcmp(v.data, req, strlen(req)) == 0);
    CHECK(v.flags & STREAM_V_EOF);
    CHECK_INT(v.acked, strlen(req));
    CHECK_INT(stream_ctx_stats(cb_ctx)->sessions_active, 1);
    flow_flush(ft);
    CHECK_INT(stream_ctx_stats(cb_ctx)->sessions_active, 0);
    flow_table_destroy(ft);
    stream_ctx_destroy(cb_ctx);
}

TEST(destroy_frees_live_sessions)
{
    struct conn k;

    /* Left to stream_ctx_destroy(): ASan would report a leak otherwise. */
    conn_init(&k, NULL);
    handshake(&k, 1, 1);
    send_data(&k, C, "leak?", 5);
    stream_ctx_destroy(k.ctx);
    stream_ctx_destroy(NULL);
    stream_session_free(NULL, NULL);
    CHECK_STR(stream_state_name((enum stream_state)99), "unknown");
}

int main(void)
{
    RUN(handshake_and_states);
    RUN(data_on_third_ack_and_in_order);
    RUN(out_of_order_and_holes);
    RUN(overlap_first_wins_byte_exact);
    RUN(overlap_bsd);
    RUN(overlap_last_wins_until_inspected);
    RUN(retransmission_ignored);
    RUN(gap_skipped_after_ack);
    RUN(gap_not_skipped_when_off);
    RUN(old_acked_data);
    RUN(async_oneside);
    RUN(early_server_data);
    RUN(fin_client_first);
    RUN(fin_server_first_and_simultaneous);
    RUN(fin_after_hole);
    RUN(rst_handling);
    RUN(sequence_wrap_around);
    RUN(depth_limit);
    RUN(memcaps);
    RUN(midstream_off_and_on);
    RUN(window_and_ack_checks);
    RUN(window_scaling);
    RUN(consumer_tail_retention);
    RUN(ooo_limits);
    RUN(checksum_flag);
    RUN(invalid_before_handshake);
    RUN(through_decoder_and_flow_table);
    RUN(destroy_frees_live_sessions);
    return test_summary("stream");
}
