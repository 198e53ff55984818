/*
 * flow_test.c — the flow table: both directions map to one flow, handshake
 * states, timeouts per state, the memcap and its counters, flow_id format.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "kanshi/flow.h"
#include "test.h"

static struct flow_config cfg_default(void)
{
    return (struct flow_config){
        .memcap = 1 << 20,
        .hash_size = 1024,
        .timeout_new = 30,
        .timeout_est = 300,
        .timeout_closed = 0,
        .timeout_udp_est = 300,
        .timeout_icmp_est = 300,
    };
}

static void mkpkt(struct packet *p, const char *src, uint16_t sp, const char *dst, uint16_t dp,
                  uint8_t proto, uint8_t tcp_flags, uint64_t ts_sec)
{
    memset(p, 0, sizeof(*p));
    p->flags = PKT_IPV4;
    p->src.family = p->dst.family = AF_INET;
    inet_pton(AF_INET, src, p->src.a);
    inet_pton(AF_INET, dst, p->dst.a);
    p->ip_proto = proto;
    p->ts_usec = ts_sec * 1000000u + 123;
    p->wirelen = 60;
    if (proto == IPPROTO_TCP) {
        p->flags |= PKT_TCP;
        p->tcp_flags = tcp_flags;
    } else if (proto == IPPROTO_UDP) {
        p->flags |= PKT_UDP;
    } else if (proto == IPPROTO_ICMP) {
        p->flags |= PKT_ICMPV4;
    }
    p->sp = sp;
    p->dp = dp;
}

TEST(both_directions_one_flow)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    struct flow *f1, *f2;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_SYN, 1000);
    f1 = flow_lookup(ft, &p);
    CHECK(f1 != NULL);
    CHECK_INT(p.dir, FLOW_DIR_TOSERVER);
    mkpkt(&p, "192.0.2.1", 80, "10.0.0.1", 40000, IPPROTO_TCP, TH_SYN | TH_ACK, 1000);
    f2 = flow_lookup(ft, &p);
    CHECK(f1 == f2);
    CHECK_INT(p.dir, FLOW_DIR_TOCLIENT);
    CHECK(!flow_is_established(f1));
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_ACK, 1000);
    CHECK(flow_lookup(ft, &p) == f1);
    CHECK(flow_is_established(f1));
    CHECK_INT(f1->pkts[0], 2);
    CHECK_INT(f1->pkts[1], 1);
    /* A different port is another flow. */
    mkpkt(&p, "10.0.0.1", 40001, "192.0.2.1", 80, IPPROTO_TCP, TH_SYN, 1000);
    CHECK(flow_lookup(ft, &p) != f1);
    CHECK_INT(flow_table_stats(ft)->created, 2);
    CHECK_INT(flow_table_stats(ft)->active, 2);
    flow_table_destroy(ft);
}

TEST(synack_first_turns_round)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    struct flow *f;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "192.0.2.1", 80, "10.0.0.1", 40000, IPPROTO_TCP, TH_SYN | TH_ACK, 5);
    f = flow_lookup(ft, &p);
    CHECK(f != NULL);
    CHECK_INT(p.dir, FLOW_DIR_TOCLIENT);
    CHECK_INT(f->port[0], 40000);
    CHECK_INT(f->port[1], 80);
    /* No handshake seen from the start: never established. */
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_ACK, 5);
    flow_lookup(ft, &p);
    CHECK(!flow_is_established(f));
    flow_table_destroy(ft);
}

TEST(udp_established_after_both_directions)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    struct flow *f;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "10.0.0.1", 5353, "192.0.2.53", 53, IPPROTO_UDP, 0, 5);
    f = flow_lookup(ft, &p);
    CHECK(!flow_is_established(f));
    mkpkt(&p, "10.0.0.1", 5353, "192.0.2.53", 53, IPPROTO_UDP, 0, 5);
    flow_lookup(ft, &p);
    CHECK(!flow_is_established(f));
    mkpkt(&p, "192.0.2.53", 53, "10.0.0.1", 5353, IPPROTO_UDP, 0, 5);
    flow_lookup(ft, &p);
    CHECK(flow_is_established(f));
    flow_table_destroy(ft);
}

static int ended;
static void count_end(void *arg, struct flow *f)
{
    (void)arg;
    (void)f;
    ended++;
}

TEST(timeouts_by_state)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;

    ended = 0;
    CHECK_INT(flow_table_create(&ft, &c, count_end, NULL), 0);
    /* A half-open flow (new: 30 s) and an established UDP flow (300 s). */
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_SYN, 100);
    flow_lookup(ft, &p);
    mkpkt(&p, "10.0.0.2", 1000, "192.0.2.2", 53, IPPROTO_UDP, 0, 100);
    flow_lookup(ft, &p);
    mkpkt(&p, "192.0.2.2", 53, "10.0.0.2", 1000, IPPROTO_UDP, 0, 100);
    flow_lookup(ft, &p);
    /* 31 s later: only the half-open one goes. */
    mkpkt(&p, "10.0.0.9", 1, "192.0.2.9", 9, IPPROTO_UDP, 0, 131);
    flow_lookup(ft, &p);
    CHECK_INT(flow_timeout(ft), 1);
    CHECK_INT(ended, 1);
    CHECK_INT(flow_table_stats(ft)->active, 2);
    /* Time going backwards (merged captures) does not move the clock back. */
    mkpkt(&p, "10.0.0.2", 1000, "192.0.2.2", 53, IPPROTO_UDP, 0, 50);
    flow_lookup(ft, &p);
    CHECK_INT(flow_timeout(ft), 0);
    /* 301 s after its last packet the UDP flow goes, and the new one too. */
    mkpkt(&p, "10.0.0.8", 1, "192.0.2.8", 9, IPPROTO_UDP, 0, 500);
    flow_lookup(ft, &p);
    CHECK_INT(flow_timeout(ft), 2);
    CHECK_INT(flow_table_stats(ft)->timed_out, 3);
    flow_flush(ft);
    CHECK_INT(flow_table_stats(ft)->active, 0);
    CHECK_INT(ended, 4);
    flow_table_destroy(ft);
}

TEST(closed_flow_times_out_at_once)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    struct flow *f;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_SYN, 10);
    f = flow_lookup(ft, &p);
    mkpkt(&p, "192.0.2.1", 80, "10.0.0.1", 40000, IPPROTO_TCP, TH_RST | TH_ACK, 10);
    flow_lookup(ft, &p);
    CHECK_INT(f->state, FLOW_STATE_CLOSED);
    mkpkt(&p, "10.0.0.5", 1, "192.0.2.5", 2, IPPROTO_UDP, 0, 11);
    flow_lookup(ft, &p);
    CHECK_INT(flow_timeout(ft), 1);
    flow_table_destroy(ft);
}

TEST(memcap_recycles_half_open_then_counts)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    char ip[32];

    c.memcap = 4 * sizeof(struct flow);
    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    CHECK_INT(flow_table_stats(ft)->max_flows, 4);
    /* A SYN flood: ten half-open flows in a table of four. */
    for (int i = 0; i < 10; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
        mkpkt(&p, ip, 1234, "10.0.0.1", 80, IPPROTO_TCP, TH_SYN, 10);
        CHECK(flow_lookup(ft, &p) != NULL);
    }
    CHECK_INT(flow_table_stats(ft)->active, 4);
    CHECK_INT(flow_table_stats(ft)->emergency_evicted, 6);
    flow_table_destroy(ft);

    /* Four established flows fill the table: the fifth gets none. */
    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
        mkpkt(&p, ip, 1234, "10.0.0.1", 53, IPPROTO_UDP, 0, 10);
        flow_lookup(ft, &p);
        mkpkt(&p, "10.0.0.1", 53, ip, 1234, IPPROTO_UDP, 0, 10);
        flow_lookup(ft, &p);
    }
    mkpkt(&p, "203.0.113.1", 1, "10.0.0.1", 53, IPPROTO_UDP, 0, 10);
    CHECK(flow_lookup(ft, &p) == NULL);
    CHECK(p.flow == NULL);
    CHECK_INT(flow_table_stats(ft)->memcap_drops, 1);
    flow_table_destroy(ft);
}

TEST(flow_id_format)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;
    struct flow *f;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "10.0.0.1", 40000, "192.0.2.1", 80, IPPROTO_TCP, TH_SYN, 0x12345);
    f = flow_lookup(ft, &p);
    /* 51 bits, start seconds' low 16 bits on top, microseconds next. */
    CHECK(f->flow_id <= 0x7ffffffffffffULL);
    CHECK_INT((f->flow_id >> 48) & 0x7, 0x2345 & 0x7);
    CHECK_INT((f->flow_id >> 32) & 0xffff, 123);
    CHECK_INT(f->flow_id & 0xffffffffu, f->hash);
    flow_table_destroy(ft);
}

TEST(non_flow_packets)
{
    struct flow_table *ft;
    struct flow_config c = cfg_default();
    struct packet p;

    CHECK_INT(flow_table_create(&ft, &c, NULL, NULL), 0);
    mkpkt(&p, "10.0.0.1", 0, "192.0.2.1", 0, IPPROTO_UDP, 0, 1);
    p.flags = PKT_IPV4 | PKT_FRAGMENT;
    CHECK(flow_lookup(ft, &p) == NULL);
    memset(&p, 0, sizeof(p));
    CHECK(flow_lookup(ft, &p) == NULL);
    CHECK_INT(flow_table_stats(ft)->created, 0);
    flow_table_destroy(ft);
    /* A table without buckets is refused and *out left alone. */
    {
        struct flow_table *ft2 = NULL;
        c.hash_size = 0;
        CHECK_INT(flow_table_create(&ft2, &c, NULL, NULL), -EINVAL);
        CHECK(ft2 == NULL);
    }
}

int main(void)
{
    RUN(both_directions_one_flow);
    RUN(synack_first_turns_round);
    RUN(udp_established_after_both_directions);
    RUN(timeouts_by_state);
    RUN(closed_flow_times_out_at_once);
    RUN(memcap_recycles_half_open_then_counts);
    RUN(flow_id_format);
    RUN(non_flow_packets);
    return test_summary("flow");
}
