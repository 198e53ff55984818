/*
 * iponly_test.c — the address-set prefilter must find exactly the rules
 * that rule-by-rule evaluation finds.  Random rulesets of address-only rules
 * (CIDRs, lists, negations, ranges, "<>", IPv4 and IPv6) are checked against
 * brute force on random packets aimed at the rules' boundaries.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../../sensor/detect_int.h"
#include "kanshi/detect.h"
#include "kanshi/decode.h"
#include "kanshi/rules.h"
#include "test.h"

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Addresses come from a small pool so rules overlap and packets hit. */
static const char *const pool4[] = {"10.0.0.0",   "10.1.0.0",     "192.168.1.0", "192.168.1.128",
                                    "172.16.5.4", "203.0.113.7",  "198.51.100.0", "8.8.8.8",
                                    "1.128.0.0",  "2.125.160.216", "0.0.0.0",     "255.255.255.255"};
static const char *const pool6[] = {"2001:db8::", "2001:db8:1::1", "fe80::1", "::1", "2001:db8:ffff::"};

static void rand_elem(char *buf, size_t len)
{
    int k = (int)(rnd() % 10);
    if (k < 6) {
        snprintf(buf, len, "%s%s/%u", rnd() % 5 == 0 ? "!" : "", pool4[rnd() % 12],
                 8 + rnd() % 25);
    } else if (k < 8) {
        snprintf(buf, len, "%s-%s", pool4[rnd() % 6], pool4[6 + rnd() % 4]);
    } else {
        snprintf(buf, len, "%s/%u", pool6[rnd() % 5], 16 + rnd() % 113);
    }
}

static void rand_set(char *buf, size_t len)
{
    char e[128];
    int n = 1 + (int)(rnd() % 4);

    if (rnd() % 6 == 0) {
        snprintf(buf, len, "any");
        return;
    }
    snprintf(buf, len, "[");
    for (int i = 0; i < n; i++) {
        rand_elem(e, sizeof(e));
        strncat(buf, e, len - strlen(buf) - 2);
        if (i + 1 < n)
            strncat(buf, ",", len - strlen(buf) - 2);
    }
    strncat(buf, "]", len - strlen(buf) - 1);
}

static void on_err(void *a, const char *f, unsigned l, const char *m)
{
    (void)a;
    (void)f;
    (void)l;
    (void)m;
}

static void rand_addr(struct kanshi_addr *a, bool v6)
{
    if (v6) {
        a->family = AF_INET6;
        inet_pton(AF_INET6, pool6[rnd() % 5], a->a);
        a->a[15] ^= (uint8_t)(rnd() % 3);
        if (rnd() % 3 == 0)
            a->a[rnd() % 16] = (uint8_t)rnd();
    } else {
        uint32_t v;
        a->family = AF_INET;
        inet_pton(AF_INET, pool4[rnd() % 12], a->a);
        memcpy(&v, a->a, 4);
        v = ntohl(v);
        /* near a boundary: +-1, or somewhere random */
        switch (rnd() % 4) {
        case 0:
            v -= 1;
            break;
        case 1:
            v += 1 + rnd() % 300;
            break;
        case 2:
            v = rnd();
            break;
        default:
            break;
        }
        v = htonl(v);
        memcpy(a->a, &v, 4);
    }
}

static int collected;
static void count(void *arg, const struct packet *p, const struct rule *r)
{
    uint8_t *seen = arg;
    (void)p;
    seen[r->sid]++;
    collected++;
}

TEST(index_agrees_with_brute_force)
{
    for (int round = 0; round < 20; round++) {
        struct ruleset *rs;
        struct detect_engine *de;
        struct detect_thread *dt;
        char err[256], src[600], dst[600], rule[1400];
        int nrules = 10 + (int)(rnd() % 150);

        CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
        for (int i = 1; i <= nrules; i++) {
            rand_set(src, sizeof(src));
            rand_set(dst, sizeof(dst));
            snprintf(rule, sizeof(rule), "alert %s %s any %s %s any (msg:\"r\"; sid:%d;)",
                     rnd() % 4 == 0 ? "tcp" : "ip", src, rnd() % 5 == 0 ? "<>" : "->", dst, i);
            ruleset_add_rule(rs, rule, "rand.rules", (unsigned)i); /* empty sets may fail */
        }
        CHECK_INT(detect_engine_create(&de, rs, err, sizeof(err)), 0);
        CHECK(detect_engine_info(de)->iponly > 0);
        CHECK_INT(detect_thread_create(&dt, de), 0);
        for (int k = 0; k < 3000; k++) {
            struct packet p;
            uint8_t seen[256] = {0};
            bool v6 = rnd() % 4 == 0;

            memset(&p, 0, sizeof(p));
            p.flags = (v6 ? PKT_IPV6 : PKT_IPV4) | PKT_TCP;
            p.ip_proto = IPPROTO_TCP;
            rand_addr(&p.src, v6);
            rand_addr(&p.dst, v6);
            p.sp = 1234;
            p.dp = 80;
            detect_packet(dt, de, &p, count, seen);
            for (size_t i = 0; i < rs->nrules; i++) {
                const struct rule *r = rs->rules[i];
                int want = detect_rule_match(r, &p) ? 1 : 0;
                if (seen[r->sid] != want) {
                    char a[64], b[64];
                    fprintf(stderr, "sid %u: index %d, brute force %d for %s -> %s\n", r->sid,
                            seen[r->sid], want, kanshi_addr_str(&p.src, a, sizeof(a)),
                            kanshi_addr_str(&p.dst, b, sizeof(b)));
                    CHECK(seen[r->sid] == want);
                    goto next_round;
                }
            }
        }
    next_round:
        detect_thread_destroy(dt);
        detect_engine_destroy(de);
        ruleset_destroy(rs);
    }
    /* The random packets must actually hit rules, or the test proves nothing. */
    CHECK(collected > 1000);
}

TEST(reputation_list_scale)
{
    /* 2000 single-address rules, like ET's CINS/botcc lists: all indexed,
     * none on the per-packet list. */
    struct ruleset *rs;
    struct detect_engine *de;
    struct detect_thread *dt;
    char err[256], rule[256];
    struct packet p;
    static uint8_t seen[4096];

    CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
    for (int i = 1; i <= 2000; i++) {
        snprintf(rule, sizeof(rule),
                 "alert ip [45.%d.%d.1,45.%d.%d.2] any -> $HOME_NET any (msg:\"rep\"; sid:%d;)",
                 i / 250, i % 250, i / 250, i % 250, i);
        CHECK_INT(ruleset_add_rule(rs, rule, "rep.rules", (unsigned)i), 0);
    }
    CHECK_INT(detect_engine_create(&de, rs, err, sizeof(err)), 0);
    CHECK_INT(detect_engine_info(de)->iponly, 2000);
    CHECK_INT(detect_thread_create(&dt, de), 0);
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_UDP;
    p.ip_proto = IPPROTO_UDP;
    p.src.family = p.dst.family = AF_INET;
    inet_pton(AF_INET, "45.3.17.2", p.src.a);
    inet_pton(AF_INET, "192.168.1.1", p.dst.a);
    collected = 0;
    CHECK_INT(detect_packet(dt, de, &p, count, seen), 1);
    inet_pton(AF_INET, "45.3.17.3", p.src.a);
    CHECK_INT(detect_packet(dt, de, &p, count, seen), 0);
    inet_pton(AF_INET, "45.3.17.1", p.src.a);
    inet_pton(AF_INET, "8.8.8.8", p.dst.a);
    CHECK_INT(detect_packet(dt, de, &p, count, seen), 0);
    detect_thread_destroy(dt);
    detect_engine_destroy(de);
    ruleset_destroy(rs);
}

int main(void)
{
    RUN(index_agrees_with_brute_force);
    RUN(reputation_list_scale);
    return test_summary("iponly");
}
