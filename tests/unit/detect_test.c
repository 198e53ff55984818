/*
 * detect_test.c — the detection engine: payload semantics (offset, depth,
 * distance, within, negation, backtracking, startswith/endswith, nocase),
 * header and flow tests, prefilter grouping and alert order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/rules.h"
#include "test.h"

static char last_err[512];
static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    snprintf(last_err, sizeof(last_err), "%s:%u: %s", file, line, msg);
}

/* Parses one rule and reports whether its payload tests match buf. */
static int pm(const char *rule, const char *buf)
{
    struct ruleset *rs;
    int m = -1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return -1;
    if (ruleset_add_rule(rs, rule, "t.rules", 1) == 0 && rs->nrules == 1)
        m = detect_match_payload(rs->rules[0], (const uint8_t *)buf, strlen(buf));
    else
        fprintf(stderr, "rule did not load: %s\n", last_err);
    ruleset_destroy(rs);
    return m;
}

#define R(opts) "alert tcp any any -> any any (" opts " sid:1;)"

TEST(content_plain_and_nocase)
{
    CHECK_INT(pm(R("content:\"abc\";"), "xxabcxx"), 1);
    CHECK_INT(pm(R("content:\"abc\";"), "xxABCxx"), 0);
    CHECK_INT(pm(R("content:\"abc\"; nocase;"), "xxABCxx"), 1);
    CHECK_INT(pm(R("content:\"|41 42|C\";"), "zABC"), 1);
    CHECK_INT(pm(R("content:\"abc\";"), "ab"), 0);
}

TEST(offset_depth_windows)
{
    /* depth counts from offset: window [2, 2+5) */
    CHECK_INT(pm(R("content:\"abc\"; offset:2; depth:5;"), "xxabcxx"), 1);
    CHECK_INT(pm(R("content:\"abc\"; offset:2; depth:5;"), "xxxxabc"), 1);
    CHECK_INT(pm(R("content:\"abc\"; offset:2; depth:5;"), "xxxxxabc"), 0);
    CHECK_INT(pm(R("content:\"abc\"; offset:3;"), "xxabcxx"), 0);
    CHECK_INT(pm(R("content:\"abc\"; depth:3;"), "abcx"), 1);
    CHECK_INT(pm(R("content:\"abc\"; depth:3;"), "xabc"), 0);
}

TEST(distance_within)
{
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; distance:0;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; distance:1;"), "abcd"), 0);
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; distance:1;"), "abxcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; within:2;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; within:3;"), "abxxcd"), 0);
    /* within counts from the end of distance */
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; distance:2; within:2;"), "abxxcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; content:\"cd\"; distance:2; within:2;"), "abxxxcd"), 0);
    /* negative distance looks back */
    CHECK_INT(pm(R("content:\"cd\"; content:\"bc\"; distance:-3; within:2;"), "abcd"), 1);
}

TEST(backtracking_over_earlier_matches)
{
    /* first "a=" is not followed closely by "1"; the second is */
    CHECK_INT(pm(R("content:\"a=\"; content:\"1\"; within:1;"), "a=2 a=1"), 1);
    CHECK_INT(pm(R("content:\"a=\"; content:\"1\"; within:1;"), "a=2 a=3"), 0);
    /* three-deep chain needing a retry at the first level */
    CHECK_INT(pm(R("content:\"x\"; content:\"y\"; within:1; content:\"z\"; within:1;"),
                 "xyq xyz"), 1);
}

TEST(negated_content)
{
    CHECK_INT(pm(R("content:\"GET\"; content:!\"admin\";"), "GET /index"), 1);
    CHECK_INT(pm(R("content:\"GET\"; content:!\"admin\";"), "GET /admin"), 0);
    /* relative negation: "b" must not directly follow this "a" */
    CHECK_INT(pm(R("content:\"a\"; content:!\"b\"; within:1;"), "ab"), 0);
    CHECK_INT(pm(R("content:\"a\"; content:!\"b\"; within:1;"), "ab ac"), 1);
    /* a negated content only: matches when absent */
    CHECK_INT(pm(R("content:!\"evil\";"), "good"), 1);
    CHECK_INT(pm(R("content:!\"evil\";"), "so evil"), 0);
}

TEST(startswith_endswith)
{
    CHECK_INT(pm(R("content:\"GET\"; startswith;"), "GET /"), 1);
    CHECK_INT(pm(R("content:\"GET\"; startswith;"), " GET /"), 0);
    CHECK_INT(pm(R("content:\".exe\"; endswith;"), "a.exe"), 1);
    CHECK_INT(pm(R("content:\".exe\"; endswith;"), "a.exe "), 0);
    CHECK_INT(pm(R("content:\".EXE\"; nocase; endswith;"), "a.exe"), 1);
}

/* --- whole-packet detection -------------------------------------------- */

struct hits {
    uint32_t sids[16];
    int n;
};

static void collect(void *arg, const struct packet *p, const struct rule *r)
{
    struct hits *h = arg;
    (void)p;
    if (h->n < 16)
        h->sids[h->n++] = r->sid;
}

static struct ruleset *load(const char *text)
{
    struct ruleset *rs;
    char *copy = strdup(text), *save = NULL;
    unsigned line = 1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return NULL;
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (ruleset_add_rule(rs, l, "t.rules", line++) != 0)
            fprintf(stderr, "rule did not load: %s\n", last_err);
    free(copy);
    return rs;
}

static void tcp_pkt(struct packet *p, const char *src, uint16_t sp, const char *dst, uint16_t dp,
                    const char *payload)
{
    memset(p, 0, sizeof(*p));
    p->flags = PKT_IPV4 | PKT_TCP;
    p->src.family = p->dst.family = AF_INET;
    inet_pton(AF_INET, src, p->src.a);
    inet_pton(AF_INET, dst, p->dst.a);
    p->ip_proto = IPPROTO_TCP;
    p->ttl = 64;
    p->sp = sp;
    p->dp = dp;
    p->tcp_flags = TH_ACK | TH_PUSH;
    p->payload = (const uint8_t *)payload;
    p->payload_len = (uint32_t)strlen(payload);
}

static int run_pkt(struct ruleset *rs, const struct packet *p, struct hits *h)
{
    struct detect_engine *de;
    struct detect_thread *dt;
    char err[256];
    int n;

    memset(h, 0, sizeof(*h));
    if (detect_engine_create(&de, rs, err, sizeof(err)) != 0) {
        fprintf(stderr, "engine: %s\n", err);
        return -1;
    }
    if (detect_thread_create(&dt, de) != 0)
        return -1;
    n = detect_packet(dt, de, p, collect, h);
    detect_thread_destroy(dt);
    detect_engine_destroy(de);
    return n;
}

TEST(header_addresses_ports_direction)
{
    struct ruleset *rs = load(
        "alert tcp 10.0.0.0/8 any -> any 80 (msg:\"a\"; content:\"GET\"; sid:1;)\n"
        "alert tcp any 80 -> 10.0.0.0/8 any (msg:\"b\"; content:\"GET\"; sid:2;)\n"
        "alert tcp any 80 <> 10.0.0.0/8 any (msg:\"c\"; content:\"GET\"; sid:3;)\n"
        "alert udp any any -> any any (msg:\"d\"; content:\"GET\"; sid:4;)\n"
        "alert ip any any -> any any (msg:\"e\"; content:\"GET\"; sid:5;)\n"
        "alert tcp !10.0.0.0/8 any -> any any (msg:\"f\"; content:\"GET\"; sid:6;)\n");
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 6);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "GET / HTTP/1.1");
    CHECK_INT(run_pkt(rs, &p, &h), 3);
    CHECK_INT(h.sids[0], 1);
    CHECK_INT(h.sids[1], 3);
    CHECK_INT(h.sids[2], 5);
    tcp_pkt(&p, "192.0.2.1", 80, "10.1.2.3", 40000, "GET / HTTP/1.1");
    CHECK_INT(run_pkt(rs, &p, &h), 4);
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 3);
    CHECK_INT(h.sids[2], 5);
    CHECK_INT(h.sids[3], 6);
    ruleset_destroy(rs);
}

TEST(header_tests)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"syn\"; flags:S; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"pa\"; flags:PA; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"a+\"; flags:A+; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"dsize\"; dsize:>3; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"ttl\"; ttl:<10; sid:5;)\n"
        "alert icmp any any -> any any (msg:\"echo\"; itype:8; sid:6;)\n");
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 6);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "abcd");
    CHECK_INT(run_pkt(rs, &p, &h), 3); /* pa, a+, dsize */
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 3);
    CHECK_INT(h.sids[2], 4);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "");
    p.tcp_flags = TH_SYN;
    p.ttl = 5;
    CHECK_INT(run_pkt(rs, &p, &h), 2); /* syn, ttl */
    CHECK_INT(h.sids[0], 1);
    CHECK_INT(h.sids[1], 5);
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_ICMPV4;
    p.ip_proto = IPPROTO_ICMP;
    p.src.family = p.dst.family = AF_INET;
    p.icmp_type = 8;
    p.ttl = 64;
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 6);
    ruleset_destroy(rs);
}

TEST(ip_proto_operators)
{
    struct ruleset *rs = load("alert ip any any -> any any (msg:\"not tcp\"; ip_proto:!6; sid:1;)\n"
                              "alert ip any any -> any any (msg:\"tcp\"; ip_proto:6; sid:2;)\n"
                              "alert ip any any -> any any (msg:\"gt\"; ip_proto:>17; sid:3;)\n");
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 3);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "x");
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 2);
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4;
    p.src.family = p.dst.family = AF_INET;
    p.ip_proto = 47; /* GRE */
    CHECK_INT(run_pkt(rs, &p, &h), 2);
    CHECK_INT(h.sids[0], 1);
    CHECK_INT(h.sids[1], 3);
    ruleset_destroy(rs);
}

TEST(flow_keywords)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"est\"; flow:established,to_server; "
        "content:\"x\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"toclient\"; flow:to_client; content:\"x\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"notest\"; flow:not_established; content:\"x\"; "
        "sid:3;)\n");
    struct flow f;
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 3);
    memset(&f, 0, sizeof(f));
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "x");
    /* no flow at all: only not_established */
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 3);
    p.flow = &f;
    p.dir = FLOW_DIR_TOSERVER;
    f.state = FLOW_STATE_ESTABLISHED;
    f.tcp_seen = FLOW_TCP_SYN | FLOW_TCP_SYNACK | FLOW_TCP_ACK;
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 1);
    p.dir = FLOW_DIR_TOCLIENT;
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 2);
    ruleset_destroy(rs);
}

TEST(prefilter_shares_patterns)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"1\"; content:\"shared\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"2\"; content:\"SHARED\"; nocase; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"3\"; content:\"shared\"; content:\"tail\"; "
        "distance:0; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"4\"; content:\"a\"; content:\"longer one\"; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"5\"; content:\"longer one\"; content:\"zz\"; "
        "fast_pattern; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"6\"; dsize:>0; sid:6;)\n");
    struct detect_engine *de;
    char err[256];
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 6);
    CHECK_INT(detect_engine_create(&de, rs, err, sizeof(err)), 0);
    /* "shared" (1,3), "shared"/nocase (2), "longer one" (4), "zz" (5); 6 has none */
    CHECK_INT(detect_engine_info(de)->patterns, 4);
    CHECK_INT(detect_engine_info(de)->no_fast_pattern, 1);
    CHECK(detect_engine_info(de)->db_bytes > 0);
    detect_engine_destroy(de);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "a longer one with shared tail zz");
    CHECK_INT(run_pkt(rs, &p, &h), 6);
    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "SHARED");
    CHECK_INT(run_pkt(rs, &p, &h), 2);
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 6);
    ruleset_destroy(rs);
}

TEST(empty_ruleset)
{
    struct ruleset *rs = load("");
    struct packet p;
    struct hits h;

    tcp_pkt(&p, "10.1.2.3", 40000, "192.0.2.1", 80, "anything");
    CHECK_INT(run_pkt(rs, &p, &h), 0);
    ruleset_destroy(rs);
}

TEST(ip_header_keywords)
{
    struct ruleset *rs = load(
        "alert ip any any -> any any (msg:\"tos\"; tos:16; sid:1;)\n"
        "alert ip any any -> any any (msg:\"id\"; id:4660; sid:2;)\n"
        "alert ip any any -> any any (msg:\"rr\"; ipopts:rr; sid:3;)\n"
        "alert ip any any -> any any (msg:\"anyopt\"; ipopts:any; sid:4;)\n"
        "alert ip any any -> any any (msg:\"MF\"; fragbits:M; sid:5;)\n"
        "alert ip any any -> any any (msg:\"D+\"; fragbits:D+; sid:6;)\n"
        "alert ip any any -> any any (msg:\"!MD\"; fragbits:!MD; sid:7;)\n"
        "alert ip any any -> any any (msg:\"*RM\"; fragbits:*RM; sid:8;)\n"
        "alert ip any any -> any any (msg:\"off\"; fragoffset:>0; sid:9;)\n"
        "alert ip any any -> any any (msg:\"same\"; sameip; sid:10;)\n");
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 10);
    tcp_pkt(&p, "10.1.2.3", 1, "10.1.2.4", 2, "");
    p.tos = 16;
    p.ip_id = 4660;
    p.frag_flags = IPFRAG_DF;
    CHECK_INT(run_pkt(rs, &p, &h), 4); /* tos, id, D+, !MD */
    CHECK_INT(h.sids[0], 1);
    CHECK_INT(h.sids[1], 2);
    CHECK_INT(h.sids[2], 6);
    CHECK_INT(h.sids[3], 7);
    tcp_pkt(&p, "10.1.2.3", 1, "10.1.2.3", 2, "");
    p.flags |= PKT_IPV4_OPTS;
    p.ipopts = IPOPT_BIT_RR | IPOPT_BIT_NOP;
    p.frag_flags = IPFRAG_MF | IPFRAG_DF;
    p.frag_offset = 3;
    CHECK_INT(run_pkt(rs, &p, &h), 6); /* rr, any, D+, *RM, off, same (M is exact: no) */
    CHECK_INT(h.sids[0], 3);
    CHECK_INT(h.sids[1], 4);
    CHECK_INT(h.sids[2], 6);
    CHECK_INT(h.sids[3], 8);
    CHECK_INT(h.sids[4], 9);
    CHECK_INT(h.sids[5], 10);
    /* IPv4-only keywords never match IPv6; fragoffset needs a fragment */
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV6;
    p.src.family = p.dst.family = AF_INET6;
    p.src.a[15] = 1;
    p.tos = 16;
    p.frag_offset = 3;
    CHECK_INT(run_pkt(rs, &p, &h), 0);
    p.flags |= PKT_FRAGMENT;
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 9);
    ruleset_destroy(rs);
}

TEST(tcp_icmp_keywords)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"seq\"; seq:1000; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"ack0\"; ack:0; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"win\"; window:!512; sid:3;)\n"
        "alert ip any any -> any any (msg:\"icmpid\"; icmp_id:77; sid:4;)\n"
        "alert icmp any any -> any any (msg:\"icmpseq\"; icmp_seq:>5; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"dsize-range\"; dsize:!2-10; sid:6;)\n");
    struct packet p;
    struct hits h;
    static const uint8_t echo[8] = {8, 0, 0, 0, 0, 77, 0, 9};

    CHECK(rs != NULL && rs->nrules == 6);
    tcp_pkt(&p, "10.1.2.3", 1, "10.1.2.4", 2, "abcdef");
    p.tcp_seq = 1000;
    p.tcp_ack = 5;
    p.tcp_win = 512;
    CHECK_INT(run_pkt(rs, &p, &h), 1);
    CHECK_INT(h.sids[0], 1);
    p.tcp_seq = 999;
    p.tcp_ack = 0;
    p.tcp_win = 513;
    p.payload_len = 10;
    CHECK_INT(run_pkt(rs, &p, &h), 3); /* ack0, win, dsize 10 (outside 2..10 exclusive) */
    CHECK_INT(h.sids[2], 6);
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_ICMPV4;
    p.src.family = p.dst.family = AF_INET;
    p.icmp_type = 8;
    p.l4 = echo;
    p.l4_len = sizeof(echo);
    CHECK_INT(run_pkt(rs, &p, &h), 2);
    CHECK_INT(h.sids[0], 4);
    CHECK_INT(h.sids[1], 5);
    /* destination unreachable carries no id/seq */
    p.icmp_type = 3;
    CHECK_INT(run_pkt(rs, &p, &h), 0);
    /* truncated header */
    p.icmp_type = 0;
    p.l4_len = 6;
    CHECK_INT(run_pkt(rs, &p, &h), 0);
    /* ICMPv6 echo reply */
    p.flags = PKT_IPV6 | PKT_ICMPV6;
    p.icmp_type = 129;
    p.l4_len = sizeof(echo);
    CHECK_INT(run_pkt(rs, &p, &h), 2);
    ruleset_destroy(rs);
}

TEST(engine_alert_control)
{
    /* noalert suppresses the alert; a threshold holds the second one back
     * within one detect thread; pcre-only rules are always verified */
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"quiet\"; content:\"x\"; noalert; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"once\"; content:\"x\"; threshold:type limit, "
        "track by_src, count 1, seconds 60; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"re\"; pcre:\"/x{2,}/\"; sid:3;)\n");
    struct detect_engine *de;
    struct detect_thread *dt;
    char err[256];
    struct packet p;
    struct hits h;

    CHECK(rs != NULL && rs->nrules == 3);
    CHECK_INT(detect_engine_create(&de, rs, err, sizeof(err)), 0);
    CHECK_INT(detect_thread_create(&dt, de), 0);
    tcp_pkt(&p, "10.1.2.3", 1, "10.1.2.4", 2, "xx");
    memset(&h, 0, sizeof(h));
    CHECK_INT(detect_packet(dt, de, &p, collect, &h), 2);
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 3);
    p.ts_usec = 5000000;
    memset(&h, 0, sizeof(h));
    CHECK_INT(detect_packet(dt, de, &p, collect, &h), 1);
    CHECK_INT(h.sids[0], 3);
    tcp_pkt(&p, "10.1.2.3", 1, "10.1.2.4", 2, "x");
    memset(&h, 0, sizeof(h));
    CHECK_INT(detect_packet(dt, de, &p, collect, &h), 0);
    detect_thread_destroy(dt);
    detect_engine_destroy(de);
    ruleset_destroy(rs);
}

int main(void)
{
    RUN(content_plain_and_nocase);
    RUN(offset_depth_windows);
    RUN(distance_within);
    RUN(backtracking_over_earlier_matches);
    RUN(negated_content);
    RUN(startswith_endswith);
    RUN(header_addresses_ports_direction);
    RUN(header_tests);
    RUN(ip_proto_operators);
    RUN(flow_keywords);
    RUN(ip_header_keywords);
    RUN(tcp_icmp_keywords);
    RUN(engine_alert_control);
    RUN(prefilter_shares_patterns);
    RUN(empty_ruleset);
    return test_summary("detect");
}
