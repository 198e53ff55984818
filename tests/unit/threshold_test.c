/*
 * threshold_test.c — alert control: the threshold and detection_filter
 * keywords and threshold.config (signatures/rule_threshold.c) with every
 * error message, and the per-worker decisions (sensor/threshold.c): limit,
 * threshold, both, detection_filter with unique_on, rate_filter, suppress,
 * each tracking mode, window edges in packet time, and a full table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "kanshi/threshold.h"
#include "test.h"

static char last_err[512];
static int nerr;
static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    nerr++;
    snprintf(last_err, sizeof(last_err), "%s:%u: %s", file, line, msg);
}

#define R(opts) "alert tcp any any -> any any (" opts " sid:1;)"

static const char *bad(const char *rule)
{
    struct ruleset *rs;
    int rc;

    last_err[0] = '\0';
    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return "(no ruleset)";
    rc = ruleset_add_rule(rs, rule, "t.rules", 1);
    ruleset_destroy(rs);
    if (rc == 0)
        return "(rule loaded)";
    return strncmp(last_err, "t.rules:1: ", 11) == 0 ? last_err + 11 : last_err;
}

static struct ruleset *load(const char *rules, const char *config)
{
    struct ruleset *rs;
    char *copy = strdup(rules), *save = NULL;
    unsigned line = 1;

    nerr = 0;
    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        abort();
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (ruleset_add_rule(rs, l, "t.rules", line++) != 0)
            fprintf(stderr, "rule did not load: %s\n", last_err);
    free(copy);
    if (config != NULL && ruleset_load_threshold_text(rs, config, "threshold.config") < 0)
        abort();
    if (ruleset_finalize(rs) != 0)
        abort();
    return rs;
}

static const struct rule *by_sid(const struct ruleset *rs, uint32_t sid)
{
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i]->sid == sid)
            return rs->rules[i];
    return NULL;
}

/* ---- parsing ----------------------------------------------------------- */

TEST(keywords_parse)
{
    struct ruleset *rs = load(
        R("threshold: type limit, track by_src, count 2, seconds 60;") "\n"
                                                                       "alert tcp any any -> any "
                                                                       "any (threshold:type "
                                                                       "both,track by_both,count "
                                                                       "1,seconds 5; "
                                                                       "sid:2;)\n"
                                                                       "alert tcp any any -> any "
                                                                       "any "
                                                                       "(detection_filter:track "
                                                                       "by_dst, count 3, seconds "
                                                                       "10, "
                                                                       "unique_on dst_port; "
                                                                       "sid:3;)\n"
                                                                       "alert tcp any any -> any "
                                                                       "any (threshold:type "
                                                                       "threshold, track by_flow, "
                                                                       "count 10, "
                                                                       "seconds 1; sid:4;)\n",
        NULL);
    const struct rule *r;

    CHECK_INT(rs->nrules, 4);
    r = by_sid(rs, 1);
    CHECK(r != NULL && r->threshold.type == TH_LIMIT && r->threshold.track == TRACK_SRC &&
          r->threshold.count == 2 && r->threshold.seconds == 60);
    r = by_sid(rs, 2);
    CHECK(r != NULL && r->threshold.type == TH_BOTH && r->threshold.track == TRACK_BOTH);
    r = by_sid(rs, 3);
    CHECK(r != NULL && r->threshold.type == TH_DETECTION && r->threshold.track == TRACK_DST &&
          r->threshold.count == 3 && r->threshold.unique_on == TH_UNIQUE_DST_PORT);
    r = by_sid(rs, 4);
    CHECK(r != NULL && r->threshold.type == TH_THRESHOLD && r->threshold.track == TRACK_FLOW);
    ruleset_destroy(rs);
}

TEST(keywords_errors)
{
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 1;")), "threshold: missing seconds");
    CHECK_STR(bad(R("threshold:track by_src, count 1, seconds 1;")), "threshold: missing type");
    CHECK_STR(bad(R("threshold:type sometimes, track by_src, count 1, seconds 1;")),
              "threshold: invalid type 'sometimes' (expected limit, threshold or both)");
    CHECK_STR(bad(R("threshold:type backoff, track by_src, count 1, seconds 1;")),
              "threshold: invalid type 'backoff' (expected limit, threshold or both)");
    CHECK_STR(bad(R("threshold:type limit, track by_nobody, count 1, seconds 1;")),
              "threshold: invalid track 'by_nobody'");
    CHECK_STR(bad(R("threshold:type limit, track by_either, count 1, seconds 1;")),
              "threshold: track by_either is only valid for suppress");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count x, seconds 1;")),
              "threshold: invalid count 'x'");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 0, seconds 1;")),
              "threshold: count must be at least 1");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 1, seconds 0;")),
              "threshold: seconds must be at least 1");
    CHECK_STR(bad(R("threshold:type limit, type both, track by_src, count 1, seconds 1;")),
              "threshold: option 'type' given twice");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 1, seconds 1, colour red;")),
              "threshold: unknown option 'colour'");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 1, seconds 1, unique_on "
                    "dst_port;")),
              "threshold: option 'unique_on' is not valid here");
    CHECK_STR(bad(R("threshold:type limit, track, count 1, seconds 1;")),
              "threshold: option 'track' has no value");
    CHECK_STR(bad(R("threshold:type limit, , count 1, seconds 1;")), "threshold: empty option");
    CHECK_STR(bad(R("detection_filter:type limit, track by_src, count 1, seconds 1;")),
              "detection_filter: option 'type' is not valid here");
    CHECK_STR(bad(R("detection_filter:track by_rule, count 1, seconds 1, unique_on src_port;")),
              "detection_filter: unique_on needs track by_src, by_dst or by_both");
    CHECK_STR(bad(R("detection_filter:track by_src, count 1, seconds 1, unique_on proto;")),
              "detection_filter: invalid unique_on 'proto' (expected src_port or dst_port)");
    CHECK_STR(bad(R("threshold:type limit, track by_src, count 1, seconds 1; "
                    "detection_filter:track by_src, count 1, seconds 1;")),
              "detection_filter: only one threshold or detection_filter per rule");
}

TEST(config_parse_and_apply)
{
    static const char cfg[] =
        "# comment\n"
        "\n"
        "threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n"
        "event_filter gen_id 1, sig_id 0, type both, track by_dst, count 2, seconds 10\n"
        "suppress gen_id 1, sig_id 3\n"
        "suppress gen_id 1, sig_id 4, track by_src, ip 10.0.0.0/8\n"
        "suppress gen_id 0, sig_id 0, track by_either, ip [192.0.2.1,$HOME_NET]\n"
        "rate_filter gen_id 1, sig_id 5, track by_rule, count 3, seconds 10, new_action pass, "
        "timeout 20\n";
    struct ruleset *rs = load(
        R("threshold:type threshold, track by_dst, count 5, seconds 5;") "\n"
                                                                         "alert tcp any any -> any "
                                                                         "any (threshold:type "
                                                                         "limit, track by_dst, "
                                                                         "count 9, seconds 9; "
                                                                         "sid:2;)\n"
                                                                         "alert tcp any any -> any "
                                                                         "any (sid:3;)\n"
                                                                         "alert tcp any any -> any "
                                                                         "any (sid:4;)\n"
                                                                         "alert tcp any any -> any "
                                                                         "any (sid:5;)\n"
                                                                         "alert tcp any any -> any "
                                                                         "any (gid:2; sid:6;)\n",
        cfg);
    const struct rule *r;

    CHECK_INT(nerr, 0);
    /* sid 1: the config entry replaces the rule's own threshold */
    r = by_sid(rs, 1);
    CHECK(r != NULL && r->threshold.type == TH_LIMIT && r->threshold.track == TRACK_SRC &&
          r->threshold.count == 1 && r->threshold.seconds == 60);
    /* sid 2: the wildcard does not replace a rule's own threshold */
    r = by_sid(rs, 2);
    CHECK(r != NULL && r->threshold.type == TH_LIMIT && r->threshold.count == 9);
    /* sid 3: wildcard threshold, one plain suppress plus the global one */
    r = by_sid(rs, 3);
    CHECK(r != NULL && r->threshold.type == TH_BOTH && r->threshold.count == 2);
    CHECK(r != NULL && r->nsuppress == 2 && r->suppress[0]->track == TRACK_RULE);
    r = by_sid(rs, 4);
    CHECK(r != NULL && r->nsuppress == 2 && r->suppress[0]->track == TRACK_SRC);
    r = by_sid(rs, 5);
    CHECK(r != NULL && r->threshold.type == TH_RATE && r->threshold.track == TRACK_RULE &&
          r->threshold.new_action == TH_ACTION_PASS && r->threshold.timeout == 20);
    /* gid 2: not reached by "gen_id 1, sig_id 0", reached by "gen_id 0, sig_id 0" */
    r = by_sid(rs, 6);
    CHECK(r != NULL && r->threshold.type == TH_NONE && r->nsuppress == 1);
    /* applying again changes nothing */
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK(by_sid(rs, 3)->nsuppress == 2);
    ruleset_destroy(rs);
}

TEST(config_errors)
{
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"limit gen_id 1, sig_id 1", "unknown entry 'limit' (expected threshold, event_filter, "
                                     "rate_filter or suppress)"},
        {"threshold gen_id 1, sig_id 1, type limit, track by_src, count 1", "missing seconds"},
        {"threshold sig_id 1, type limit, track by_src, count 1, seconds 1", "missing gen_id"},
        {"threshold gen_id 1, sig_id x, type limit, track by_src, count 1, seconds 1",
         "invalid sig_id 'x'"},
        {"rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, timeout 1",
         "missing new_action"},
        {"rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, new_action x, "
         "timeout 1",
         "invalid new_action 'x'"},
        {"suppress gen_id 1, sig_id 1, track by_src", "suppress with track needs ip"},
        {"suppress gen_id 1, sig_id 1, ip 1.2.3.4",
         "suppress with ip needs track by_src, by_dst or by_either"},
        {"suppress gen_id 1, sig_id 1, track by_src, ip 1.2.3", "ip: invalid address '1.2.3'"},
        {"suppress gen_id 1, sig_id 1, type limit", "option 'type' is not valid here"},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        struct ruleset *rs;
        char text[512];
        CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
        snprintf(text, sizeof(text), "# c\n%s\n", cases[i].line);
        nerr = 0;
        CHECK_INT(ruleset_load_threshold_text(rs, text, "th.conf"), 0);
        CHECK_INT(nerr, 1);
        CHECK_INT(rs->nerrors, 1);
        char want[512];
        snprintf(want, sizeof(want), "th.conf:2: threshold.config: %s", cases[i].msg);
        CHECK_STR(last_err, want);
        ruleset_destroy(rs);
    }
    /* a file: good lines load around a bad one */
    char path[] = "/tmp/kanshi-th-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char body[] = "suppress gen_id 1, sig_id 1\nbogus\nsuppress gen_id 1, sig_id 2\n";
    CHECK_INT(write(fd, body, sizeof(body) - 1), (long long)(sizeof(body) - 1));
    close(fd);
    struct ruleset *rs;
    CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
    CHECK_INT(ruleset_load_threshold(rs, path), 2);
    CHECK_INT(rs->nerrors, 1);
    CHECK_INT(ruleset_load_threshold(rs, "/nonexistent/threshold.config"), -ENOENT);
    ruleset_destroy(rs);
    unlink(path);
}

/* ---- decisions --------------------------------------------------------- */

static struct packet pkt(const char *src, uint16_t sp, const char *dst, uint16_t dp, double t)
{
    struct packet p;

    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_TCP;
    p.src.family = p.dst.family = AF_INET;
    inet_pton(AF_INET, src, p.src.a);
    inet_pton(AF_INET, dst, p.dst.a);
    p.sp = sp;
    p.dp = dp;
    p.ts_usec = (uint64_t)(t * 1e6);
    return p;
}

/* Runs n matches of rule sid at times t0, t0+step, ...; returns the number
 * allowed, and the pattern in out ('A' allowed, '.' held). */
static int series(struct threshold_ctx *t, const struct rule *r, const char *src, int n, double t0,
                  double step, char *out)
{
    int k = 0;

    for (int i = 0; i < n; i++) {
        struct packet p = pkt(src, 1000, "192.0.2.1", 80, t0 + i * step);
        bool a = threshold_allow(t, r, &p);
        out[i] = a ? 'A' : '.';
        k += a;
    }
    out[n] = '\0';
    return k;
}

TEST(limit_threshold_both)
{
    struct ruleset *rs =
        load("alert tcp any any -> any any (threshold:type limit, track by_src, count 2, "
             "seconds 10; sid:1;)\n"
             "alert tcp any any -> any any (threshold:type threshold, track by_src, count 3, "
             "seconds 10; sid:2;)\n"
             "alert tcp any any -> any any (threshold:type both, track by_src, count 3, "
             "seconds 10; sid:3;)\n"
             "alert tcp any any -> any any (threshold:type threshold, track by_src, count 1, "
             "seconds 10; sid:4;)\n"
             "alert tcp any any -> any any (sid:5;)\n",
             NULL);
    struct threshold_ctx *t;
    char out[64];

    CHECK_INT(threshold_ctx_create(&t, 0, false), 0);
    series(t, by_sid(rs, 1), "10.0.0.1", 6, 100, 1, out);
    CHECK_STR(out, "AA....");
    /* another source has its own count */
    series(t, by_sid(rs, 1), "10.0.0.2", 3, 100, 1, out);
    CHECK_STR(out, "AA.");
    /* a new window after 10 s */
    series(t, by_sid(rs, 1), "10.0.0.1", 3, 111, 1, out);
    CHECK_STR(out, "AA.");
    series(t, by_sid(rs, 2), "10.0.0.1", 7, 100, 1, out);
    CHECK_STR(out, "..A..A.");
    series(t, by_sid(rs, 3), "10.0.0.1", 7, 100, 1, out);
    CHECK_STR(out, "..A....");
    series(t, by_sid(rs, 4), "10.0.0.1", 3, 100, 1, out);
    CHECK_STR(out, "AAA");
    series(t, by_sid(rs, 5), "10.0.0.1", 3, 100, 1, out);
    CHECK_STR(out, "AAA");
    CHECK(threshold_ctx_stats(t)->held > 0);
    threshold_ctx_destroy(t);
    ruleset_destroy(rs);
}

TEST(window_edges)
{
    struct ruleset *rs = load("alert tcp any any -> any any (threshold:type limit, track by_src, "
                              "count 1, seconds 10; sid:1;)\n",
                              NULL);
    struct threshold_ctx *t;
    char out[8];

    CHECK_INT(threshold_ctx_create(&t, 0, false), 0);
    /* exactly at the window's end is still inside; a microsecond later is not */
    series(t, rs->rules[0], "10.0.0.1", 2, 100, 10, out);
    CHECK_STR(out, "A.");
    series(t, rs->rules[0], "10.0.0.1", 1, 110.000001, 0, out);
    CHECK_STR(out, "A");
    threshold_ctx_destroy(t);
    ruleset_destroy(rs);
}

TEST(tracking_modes)
{
    struct ruleset *rs =
        load("alert tcp any any -> any any (threshold:type limit, track by_dst, count 1, "
             "seconds 60; sid:1;)\n"
             "alert tcp any any -> any any (threshold:type limit, track by_rule, count 1, "
             "seconds 60; sid:2;)\n"
             "alert tcp any any -> any any (threshold:type limit, track by_both, count 1, "
             "seconds 60; sid:3;)\n"
             "alert tcp any any -> any any (threshold:type limit, track by_flow, count 1, "
             "seconds 60; sid:4;)\n",
             NULL);
    struct threshold_ctx *t;
    struct packet a = pkt("10.0.0.1", 1, "10.0.0.9", 80, 1);
    struct packet b = pkt("10.0.0.2", 1, "10.0.0.9", 80, 2);
    struct packet back = pkt("10.0.0.9", 80, "10.0.0.1", 1, 3);
    struct flow f1, f2;

    CHECK_INT(threshold_ctx_create(&t, 0, false), 0);
    /* by_dst: a and b share the destination */
    CHECK(threshold_allow(t, by_sid(rs, 1), &a));
    CHECK(!threshold_allow(t, by_sid(rs, 1), &b));
    /* by_rule: one count for everything */
    CHECK(threshold_allow(t, by_sid(rs, 2), &a));
    CHECK(!threshold_allow(t, by_sid(rs, 2), &back));
    /* by_both: the pair, either way round */
    CHECK(threshold_allow(t, by_sid(rs, 3), &a));
    CHECK(!threshold_allow(t, by_sid(rs, 3), &back));
    CHECK(threshold_allow(t, by_sid(rs, 3), &b));
    /* by_flow: per flow; without a flow always allowed */
    memset(&f1, 0, sizeof(f1));
    memset(&f2, 0, sizeof(f2));
    f1.flow_id = 1;
    f2.flow_id = 2;
    a.flow = &f1;
    b.flow = &f2;
    CHECK(threshold_allow(t, by_sid(rs, 4), &a));
    CHECK(!threshold_allow(t, by_sid(rs, 4), &a));
    CHECK(threshold_allow(t, by_sid(rs, 4), &b));
    CHECK(threshold_allow(t, by_sid(rs, 4), &back));
    CHECK(threshold_allow(t, by_sid(rs, 4), &back));
    threshold_ctx_destroy(t);
    ruleset_destroy(rs);
}

TEST(detection_filter)
{
    struct ruleset *rs =
        load("alert tcp any any -> any any (detection_filter:track by_src, count 2, seconds 10; "
             "sid:1;)\n"
             "alert tcp any any -> any any (detection_filter:track by_dst, count 1, seconds 60, "
             "unique_on dst_port; sid:2;)\n"
             "alert tcp any any -> any any (detection_filter:track by_src, count 2, seconds 60, "
             "unique_on src_port; sid:3;)\n",
             NULL);
    struct threshold_ctx *t;
    char out[16];

    CHECK_INT(threshold_ctx_create(&t, 0, true), 0);
    series(t, by_sid(rs, 1), "10.0.0.1", 5, 100, 1, out);
    CHECK_STR(out, "..AAA");
    /* unique_on dst_port: the same port again does not count */
    struct packet p80 = pkt("3.3.3.3", 1, "1.1.1.1", 80, 0);
    struct packet p81 = pkt("3.3.3.3", 1, "1.1.1.1", 81, 1);
    CHECK(!threshold_allow(t, by_sid(rs, 2), &p80));
    CHECK(!threshold_allow(t, by_sid(rs, 2), &p80));
    CHECK(threshold_allow(t, by_sid(rs, 2), &p81));
    /* once past the count, repeats alert too */
    CHECK(threshold_allow(t, by_sid(rs, 2), &p80));
    /* src ports 1, 1, 2, 2: only 2 distinct, count 2 not exceeded */
    uint16_t ports[] = {1, 1, 2, 2, 3};
    for (int i = 0; i < 5; i++) {
        struct packet p = pkt("5.5.5.5", ports[i], "2.2.2.2", 80, i);
        CHECK(threshold_allow(t, by_sid(rs, 3), &p) == (i == 4));
    }
    threshold_ctx_destroy(t);
    ruleset_destroy(rs);
}

TEST(rate_filter_and_suppress)
{
    static const char cfg[] =
        "rate_filter gen_id 1, sig_id 1, track by_src, count 2, seconds 10, new_action pass, "
        "timeout 5\n"
        "rate_filter gen_id 1, sig_id 2, track by_src, count 1, seconds 10, new_action drop, "
        "timeout 5\n"
        "suppress gen_id 1, sig_id 3\n"
        "suppress gen_id 1, sig_id 4, track by_src, ip 10.0.0.0/8\n"
        "suppress gen_id 1, sig_id 5, track by_dst, ip 10.0.0.0/8\n"
        "suppress gen_id 1, sig_id 6, track by_either, ip 10.9.9.9\n";
    struct ruleset *rs = load("alert tcp any any -> any any (sid:1;)\n"
                              "alert tcp any any -> any any (sid:2;)\n"
                              "alert tcp any any -> any any (sid:3;)\n"
                              "alert tcp any any -> any any (sid:4;)\n"
                              "alert tcp any any -> any any (sid:5;)\n"
                              "alert tcp any any -> any any (sid:6;)\n",
                              cfg);
    struct threshold_ctx *t;
    char out[16];

    CHECK_INT(threshold_ctx_create(&t, 0, false), 0);
    /* pass after the rate is exceeded, for `timeout` seconds, then back */
    series(t, by_sid(rs, 1), "10.0.0.1", 5, 100, 1, out);
    CHECK_STR(out, "AA...");
    series(t, by_sid(rs, 1), "10.0.0.1", 1, 110, 0, out);
    CHECK_STR(out, "A");
    /* a drop new_action still alerts in IDS mode */
    series(t, by_sid(rs, 2), "10.0.0.1", 4, 100, 1, out);
    CHECK_STR(out, "AAAA");
    struct packet in = pkt("10.1.1.1", 1, "192.0.2.1", 80, 1);
    struct packet out_p = pkt("192.0.2.1", 80, "10.1.1.1", 1, 1);
    struct packet other = pkt("192.0.2.1", 80, "192.0.2.2", 1, 1);
    struct packet either = pkt("192.0.2.1", 80, "10.9.9.9", 1, 1);
    CHECK(!threshold_allow(t, by_sid(rs, 3), &other));
    CHECK(!threshold_allow(t, by_sid(rs, 4), &in));
    CHECK(threshold_allow(t, by_sid(rs, 4), &out_p));
    CHECK(!threshold_allow(t, by_sid(rs, 5), &out_p));
    CHECK(threshold_allow(t, by_sid(rs, 5), &in));
    CHECK(!threshold_allow(t, by_sid(rs, 6), &either));
    CHECK(threshold_allow(t, by_sid(rs, 6), &other));
    CHECK_INT(threshold_ctx_stats(t)->suppressed, 4);
    threshold_ctx_destroy(t);
    ruleset_destroy(rs);
}

TEST(full_table_evicts)
{
    struct ruleset *rs = load("alert tcp any any -> any any (threshold:type limit, track by_src, "
                              "count 1, seconds 60; sid:1;)\n",
                              NULL);
    struct threshold_ctx *t;
    char src[32];
    int allowed = 0;

    /* 64 slots, 1000 sources: every first match still alerts, entries are
     * evicted, and nothing grows */
    CHECK_INT(threshold_ctx_create(&t, 64, false), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(src, sizeof(src), "10.0.%d.%d", i / 250, i % 250 + 1);
        struct packet p = pkt(src, 1, "192.0.2.1", 80, 1 + i * 0.001);
        allowed += threshold_allow(t, rs->rules[0], &p);
    }
    CHECK_INT(allowed, 1000);
    CHECK(threshold_ctx_stats(t)->evicted >= 1000 - 64);
    threshold_ctx_destroy(t);
    threshold_ctx_destroy(NULL);
    ruleset_destroy(rs);
}

int main(void)
{
    RUN(keywords_parse);
    RUN(keywords_errors);
    RUN(config_parse_and_apply);
    RUN(config_errors);
    RUN(limit_threshold_both);
    RUN(window_edges);
    RUN(tracking_modes);
    RUN(detection_filter);
    RUN(rate_filter_and_suppress);
    RUN(full_table_evicts);
    return test_summary("threshold");
}
