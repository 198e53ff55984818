/*
 * detect_pcre_test.c — pcre through Hyperscan must answer exactly as PCRE2.
 *
 * Differential: for crafted pcres (every flag, anchors, \s, $ before a
 * final newline, negation, relative) and for every pcre of ET Open that
 * goes to Hyperscan, PCRE2 and the Hyperscan path give the same yes/no over
 * crafted subjects and over payloads of the shared corpus; and the whole
 * payload evaluation of each rule (detect_payload_match) is the same with
 * and without Hyperscan.  Then the routing (a pcre whose position a later
 * test uses: Hyperscan rules it out, PCRE2 gives the position) and the lazy
 * compiler thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcap/pcap.h>
#include <pcre2.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "kanshi/decode.h"
#include "kanshi/detect.h"
#include "kanshi/rules.h"
#include "../../sensor/detect_int.h"
#include "../../sensor/detect_pcre.h"
#include "test.h"

static char last_err[512];
static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    snprintf(last_err, sizeof(last_err), "%s:%u: %s", file, line, msg);
}

struct subj {
    uint8_t *p;
    size_t n;
};
static struct subj *subjs;
static size_t nsubjs, capsubjs;
static size_t subj_from; /* differential() starts here */
static size_t subj_long; /* the first crafted subject after the exhaustive ones */

static void subj_add(const void *p, size_t n)
{
    if (nsubjs == capsubjs) {
        capsubjs = capsubjs ? capsubjs * 2 : 1024;
        subjs = realloc(subjs, capsubjs * sizeof(*subjs));
        if (subjs == NULL)
            abort();
    }
    subjs[nsubjs].p = malloc(n + 1);
    if (subjs[nsubjs].p == NULL)
        abort();
    memcpy(subjs[nsubjs].p, p, n);
    subjs[nsubjs].n = n;
    nsubjs++;
}

/* Every string up to 4 bytes over an alphabet that exercises anchors,
 * newlines, white space, case and word boundaries, and a few longer ones. */
static void crafted_subjects(void)
{
    static const char al[] = "aAbc\n\r \x0b_1";
    static const char *more[] = {
        "abc",        "ABC",         "abc\n",       "abc\r\n",      "abc\n\n",
        "x\nabc",     "a\x0b" "b",   "a\x0c" "b",   "a\x85" "b",    "a\xa0" "b",
        "a\tb",       "word",        "a word.",     "xxy",          "xxxxxy",
        "GET /index", "GET  /x",     "123-4567",    "foo@bar.com",  "Foo@Bar.COM",
        "AB",         "\xe0\xc0",    "a#b",         "a b",          "ab",
        "POST /cgi-bin/x.cgi?id=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "User-Agent: Mozilla/4.0\r\n", "\x00\x01\x02zz\xff",
    };
    const size_t na = sizeof(al) - 1;
    char buf[8];

    for (size_t len = 0; len <= 4; len++) {
        size_t tot = 1;
        for (size_t i = 0; i < len; i++)
            tot *= na;
        for (size_t x = 0; x < tot; x++) {
            size_t v = x;
            for (size_t i = 0; i < len; i++) {
                buf[i] = al[v % na];
                v /= na;
            }
            subj_add(buf, len);
        }
    }
    subj_long = nsubjs;
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        subj_add(more[i], strlen(more[i]));
    subj_add("\x00\x01\x02zz\xff", 6); /* with its NUL */
}

/* TCP and UDP payloads of the shared corpus: the first 1500 and one in 200
 * after those.  Returns how many (0 without the corpus). */
static size_t corpus_subjects(void)
{
    const char *path = test_shared_path("data/pcaps/corpus-ether.pcap");
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    struct decode_stats cs;
    struct packet p;
    pcap_t *pc;
    size_t n = 0, seen = 0;

    if (path == NULL || (pc = pcap_open_offline(path, err)) == NULL)
        return 0;
    memset(&cs, 0, sizeof(cs));
    while (pcap_next_ex(pc, &h, &data) == 1) {
        if (decode_packet(&p, pcap_datalink(pc), data, h->caplen, h->len, 0, &cs) != 0 ||
            !(p.flags & (PKT_TCP | PKT_UDP)) || p.payload_len == 0)
            continue;
        if (seen++ < 1500 || seen % 200 == 0) {
            subj_add(p.payload, p.payload_len);
            n++;
        }
    }
    pcap_close(pc);
    return n;
}

/* The engine's PCRE2 limits (detect_rule.c), to count the subjects where
 * they, not the regex, decide. */
#define LIMIT_MATCH 3500
#define LIMIT_DEPTH 1500

struct diff {
    size_t evals;    /* Hyperscan answers compared */
    size_t matches;  /* of those, yes */
    size_t mismatch; /* Hyperscan and PCRE2 (no limits) differ */
    size_t limited;  /* PCRE2 with the engine's limits gave up (no match for the rule)... */
    size_t limited_yes; /* ...where the regex matches: the answers Hyperscan changes */
    size_t full_evals, full_mismatch; /* detect_payload_match with/without Hyperscan */
};

/*
 * Compares, for every pcre of rs that Hyperscan answers, detect_pcre_scan()
 * with pcre2_match() over every subject, and every rule's whole payload
 * evaluation with and without Hyperscan.  Prints the first few mismatches.
 */
static void differential(struct ruleset *rs, struct detect_pcre *dp, struct diff *d,
                         bool full)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *lim = pcre2_match_context_create(NULL);
    struct detect_rule_ctx *plain = NULL, *hs = NULL;
    hs_scratch_t *scratch = NULL;
    int shown = 0;

    CHECK(md != NULL && lim != NULL);
    pcre2_set_match_limit(lim, LIMIT_MATCH);
    pcre2_set_depth_limit(lim, LIMIT_DEPTH);
    CHECK_INT(detect_rule_ctx_create(&plain, rs->rules, rs->nrules), 0);
    CHECK_INT(detect_rule_ctx_create(&hs, rs->rules, rs->nrules), 0);
    if (plain == NULL || hs == NULL)
        goto out;
    detect_rule_ctx_set_pcre(hs, dp);
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct rule *r = rs->rules[i];
        bool any = false;
        for (size_t k = 0; k < r->nmatches; k++) {
            const struct rule_pcre *pc = &r->matches[k].u.pcre;
            if (r->matches[k].kind != RULE_MATCH_PCRE)
                continue;
            for (size_t s = subj_from; s < nsubjs; s++) {
                int h = detect_pcre_scan(dp, r, k, subjs[s].p, subjs[s].n, &scratch);
                int rc, p;
                if (h < 0)
                    break; /* PCRE2's */
                any = true;
                rc = pcre2_match(pc->code, subjs[s].p, subjs[s].n, 0, 0, md, NULL);
                p = rc >= 0;
                d->evals++;
                d->matches += h == 1;
                if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
                    /* no limit here: an error would be a test problem */
                    CHECK_INT(rc, PCRE2_ERROR_NOMATCH);
                }
                if (h != p) {
                    d->mismatch++;
                    if (shown++ < 10)
                        fprintf(stderr, "MISMATCH sid %u pcre %s: subject %zu (%zu bytes): "
                                        "hyperscan %d pcre2 %d\n",
                                r->sid, pc->source, s, subjs[s].n, h, p);
                }
                rc = pcre2_match(pc->code, subjs[s].p, subjs[s].n, 0, 0, md, lim);
                if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
                    d->limited++;
                    d->limited_yes += h == 1;
                    if (d->limited <= 3)
                        fprintf(stderr, "note: PCRE2's limits hit: sid %u pcre %s, subject "
                                        "%zu bytes, regex %s\n",
                                r->sid, pc->source, subjs[s].n, h ? "matches" : "does not");
                }
            }
        }
        if (!any || !full)
            continue;
        for (size_t s = subj_from; s < nsubjs; s++) {
            int a = detect_payload_match(plain, r, subjs[s].p, subjs[s].n);
            int b = detect_payload_match(hs, r, subjs[s].p, subjs[s].n);
            d->full_evals++;
            if (a != b) {
                d->full_mismatch++;
                if (shown++ < 10)
                    fprintf(stderr, "MISMATCH rule sid %u over subject %zu: pcre2 %d, hs %d\n",
                            r->sid, s, a, b);
            }
        }
    }
out:
    hs_free_scratch(scratch);
    detect_rule_ctx_destroy(plain);
    detect_rule_ctx_destroy(hs);
    pcre2_match_context_free(lim);
    pcre2_match_data_free(md);
}

/* The crafted pcres: each alone, negated, and relative to a content.
 * Strings in rule syntax (backslashes as written in a rule). */
static const char *const crafted[] = {
    "/abc/",          "/abc/i",          "/a.c/",            "/a.c/s",
    "/^abc/",         "/^abc/m",         "/^b/m",            "/abc$/",
    "/abc$/m",        "/c$/",            "/abc$/E",          "/abc\\Z/",
    "/abc\\z/",       "/\\Aabc/",        "/abc/A",           "/a\\s+b/",
    "/a\\sb/",        "/a\\Sb/",         "/a\\vb/",          "/a\\hb/",
    "/\\bword\\b/",   "/\\Bor/",         "/x{2,5}y/",        "/[[:space:]]b/",
    "/[[:punct:]]/",  "/a b # comment/x", "/a\\ b/x",        "/a[ ]b/x",
    "/a+?b/G",        "/(?i)abc/",       "/(?m)^b/",         "/(?s)a.b/",
    "/(a|b)c/",       "/a(?=b)/",        "/(a)\\1/",         "/a|/",
    "/a*/",           "/[^\\n]+\\n$/",   "/\\x41\\x42/i",    "/\\d{3}-\\d{4}/",
    "/\\w+@\\w+\\.com/i", "/^GET\\s\\/[a-z]+/", "/^\\s*$/m",  "/\\n^b/m",
    "/a{,3}/",        "/\\p{L}/",        "/[\\xe0-\\xff]/i", "/\\x85/",
    "/^.{2}$/",       "/^.{2}$/s",       "/\\r\\n$/",        "/\\n\\z/",
    "/^\\x00\\x01/",  "/zz\\xff$/",      "/[A-z]/i",         "/[^a-z0-9]{2}/i",
    "/a\\x0bb/",      "/\\e\\a\\f/",     "/\\cA/",           "/\\012/",
    "/(?:ab)+$/",     "/\\Qa.b\\E/",     "/ab(?#x)c/",       "/a(?x) b/",
    "/a{2}|c\\n$/m",  "/\\Aa|b\\z/",     "/(?i:a)B/",        "/\\t/",
};

static struct ruleset *crafted_ruleset(void)
{
    struct ruleset *rs;
    char rule[512];
    unsigned sid = 1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
        /* alone, negated, relative, negated relative */
        const char *pre[] = {"pcre:\"", "pcre:!\"", "content:\"a\"; pcre:\"",
                             "content:\"b\"; pcre:!\""};
        for (size_t j = 0; j < 4; j++) {
            char opt[256];
            snprintf(opt, sizeof(opt), "%s%s%s\";", pre[j], crafted[i], j >= 2 ? "R" : "");
            snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:%u;)", opt, sid);
            if (ruleset_add_rule(rs, rule, "crafted.rules", sid) != 0)
                fprintf(stderr, "crafted rule did not load: %s\n", last_err);
            sid++;
        }
    }
    if (ruleset_finalize(rs) != 0) {
        ruleset_destroy(rs);
        return NULL;
    }
    return rs;
}

/* The route of the first pcre of a crafted rule with these options. */
static int route_of(const char *opts)
{
    struct ruleset *rs;
    char rule[512], expr[256];
    unsigned flags = 0;
    int route = -1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return -1;
    snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", opts);
    if (ruleset_add_rule(rs, rule, "t.rules", 1) == 0) {
        const struct rule *r = rs->rules[0];
        for (size_t k = 0; k < r->nmatches; k++) {
            if (r->matches[k].kind == RULE_MATCH_PCRE) {
                route = (int)detect_pcre_route(r, k, expr, sizeof(expr), &flags);
                break;
            }
        }
    } else {
        fprintf(stderr, "rule did not load: %s\n", last_err);
    }
    ruleset_destroy(rs);
    return route;
}

TEST(routing)
{
    /* whatever follows: Hyperscan rules it out, PCRE2 confirms (and gives
     * the position a relative test after it reads) */
    CHECK_INT(route_of("content:\"a\"; pcre:\"/b/\";"), DPCRE_HS);
    CHECK_INT(route_of("content:\"a\"; pcre:\"/b/R\";"), DPCRE_HS);
    CHECK_INT(route_of("pcre:\"/b/\"; content:\"c\"; distance:0;"), DPCRE_HS);
    CHECK_INT(route_of("pcre:\"/b/\"; pcre:\"/c/R\";"), DPCRE_HS);
    CHECK_INT(route_of("pcre:\"/b/\"; isdataat:2,relative;"), DPCRE_HS);
    CHECK_INT(route_of("pcre:!\"/b/\"; content:\"c\"; distance:0;"), DPCRE_HS);
    /* flags */
    CHECK_INT(route_of("pcre:\"/b/A\";"), DPCRE_FLAGS);
    CHECK_INT(route_of("pcre:\"/b$/E\";"), DPCRE_FLAGS);
    CHECK_INT(route_of("pcre:\"/b/E\";"), DPCRE_HS);
    CHECK_INT(route_of("pcre:\"/b/ismxG\";"), DPCRE_HS);
    /* constructs */
    CHECK_INT(route_of("pcre:\"/(a)\\1/\";"), DPCRE_SYNTAX);
    CHECK_INT(route_of("pcre:\"/a*/\";"), DPCRE_SYNTAX);
    CHECK_INT(route_of("pcre:\"/\\p{L}/\";"), DPCRE_SYNTAX);
    CHECK_INT(route_of("pcre:\"/(*CR)a/\";"), DPCRE_SYNTAX);
    CHECK_INT(route_of("pcre:\"/a{,3}b/\";"), DPCRE_SYNTAX);
    CHECK_INT(route_of("pcre:\"/a\\Rb/\";"), DPCRE_SYNTAX);
}

/* The relative-content case end to end: Hyperscan only rules the pcre out;
 * when it matches, PCRE2 gives the position the rule needs (c right after
 * the pcre's match). */
TEST(relative_after_position_from_pcre2)
{
    struct ruleset *rs;
    struct detect_pcre *dp = NULL;
    struct detect_pcre_stats st;
    struct detect_rule_ctx *c = NULL;
    hs_scratch_t *scratch = NULL;
    const uint8_t s1[] = "xxbbc", s2[] = "xxbxc";

    CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
    CHECK_INT(ruleset_add_rule(rs,
                               "alert tcp any any -> any any (pcre:\"/b+/\"; content:\"c\"; "
                               "distance:0; within:1; sid:1;)",
                               "t.rules", 1),
              0);
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK_INT(detect_pcre_create(&dp, rs->rules, rs->nrules, DETECT_PCRE_EAGER), 0);
    detect_pcre_stats(dp, &st);
    CHECK_INT(st.pcres, 1);
    CHECK_INT(st.candidates, 1);
    CHECK_INT(detect_pcre_scan(dp, rs->rules[0], 0, s1, 5, &scratch), 1);
    CHECK_INT(detect_pcre_scan(dp, rs->rules[0], 0, (const uint8_t *)"xxxxc", 5, &scratch), 0);
    CHECK_INT(detect_rule_ctx_create(&c, rs->rules, rs->nrules), 0);
    detect_rule_ctx_set_pcre(c, dp);
    CHECK_INT(detect_payload_match(c, rs->rules[0], s1, 5), 1);
    CHECK_INT(detect_payload_match(c, rs->rules[0], s2, 5), 0);
    detect_rule_ctx_destroy(c);
    hs_free_scratch(scratch);
    detect_pcre_destroy(dp);
    ruleset_destroy(rs);
}

TEST(crafted_differential)
{
    struct ruleset *rs = crafted_ruleset();
    struct detect_pcre *dp = NULL;
    struct detect_pcre_stats st;
    struct diff d = {0};

    CHECK(rs != NULL);
    if (rs == NULL)
        return;
    CHECK_INT(detect_pcre_create(&dp, rs->rules, rs->nrules, DETECT_PCRE_EAGER), 0);
    detect_pcre_stats(dp, &st);
    differential(rs, dp, &d, true);
    printf("crafted: %zu pcres: %zu Hyperscan (%zu compiled, %zu refused), PCRE2: "
           "%zu flags, %zu syntax; %zu subjects, %zu answers compared (%zu yes), %zu rule "
           "evaluations, %zu mismatches\n",
           st.pcres, st.candidates, st.compiled, st.refused, st.flags, st.syntax, nsubjs, d.evals, d.matches, d.full_evals, d.mismatch + d.full_mismatch);
    CHECK_INT(st.pcres, 4 * sizeof(crafted) / sizeof(crafted[0]));
    CHECK(st.compiled > 100);
    CHECK(st.refused > 0); /* lookahead, \n^ under m */
    CHECK(d.evals > 100000);
    CHECK(d.matches > 1000);
    CHECK_INT(d.mismatch, 0);
    CHECK_INT(d.full_mismatch, 0);
    detect_pcre_destroy(dp);
    ruleset_destroy(rs);
}

TEST(etopen_differential)
{
    const char *path = test_shared_path("data/rules/et-open-2024");
    char et[4096], cls[4200];
    struct ruleset *rs;
    struct detect_pcre *dp = NULL;
    struct detect_pcre_stats st;
    struct diff d = {0};
    size_t ncorpus;
    struct timespec t0, t1;

#ifdef __SANITIZE_ADDRESS__
    /* the same code paths as the crafted set, at ten times the cost */
    SKIP("the ET Open differential runs in the plain build, not under the sanitizers");
#endif
    if (path == NULL)
        SKIP("data/rules/et-open-2024 not found");
    snprintf(et, sizeof(et), "%s", path); /* test_shared_path's buffer is reused */
    snprintf(cls, sizeof(cls), "%s/classification.config", et);
    if ((ncorpus = corpus_subjects()) == 0)
        SKIP("data/pcaps/corpus-ether.pcap not found");
    CHECK_INT(ruleset_create(&rs, NULL, NULL, NULL), 0);
    ruleset_load_classification(rs, cls);
    CHECK(ruleset_load_path(rs, et) > 20000);
    CHECK_INT(ruleset_finalize(rs), 0);
    /* what the engine build pays: routing, and starting the thread */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(detect_pcre_create(&dp, rs->rules, rs->nrules, DETECT_PCRE_LAZY), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    detect_pcre_destroy(dp);
    printf("ET Open: routing at engine build (LAZY) %.3f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    dp = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(detect_pcre_create(&dp, rs->rules, rs->nrules, DETECT_PCRE_EAGER), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    detect_pcre_stats(dp, &st);
    printf("ET Open: %zu pcres: %zu to Hyperscan (%zu compiled, %zu refused), to PCRE2: "
           "%zu flags, %zu syntax; all compiled in %.2f s, %zu bytes\n",
           st.pcres, st.candidates, st.compiled, st.refused, st.flags, st.syntax,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           st.db_bytes);
    subj_from = subj_long;
    differential(rs, dp, &d, false);
    subj_from = 0;
    printf("ET Open: %zu subjects (%zu corpus payloads), %zu answers compared (%zu yes), "
           "PCRE2's match limits hit on %zu (%zu where the regex matches), %zu mismatches\n",
           nsubjs - subj_long, ncorpus, d.evals, d.matches, d.limited, d.limited_yes,
           d.mismatch);
    CHECK(st.compiled > 1000);
    CHECK(d.matches > 0);
    CHECK_INT(d.mismatch, 0);
    detect_pcre_destroy(dp);
    ruleset_destroy(rs);
}

/* LAZY: the first evaluation asks, PCRE2 answers; the thread compiles; then
 * Hyperscan answers. */
TEST(lazy_compile)
{
    struct ruleset *rs;
    struct detect_pcre *dp = NULL;
    struct detect_pcre_stats st;
    hs_scratch_t *scratch = NULL;
    const uint8_t s[] = "GET /index.php?id=1";
    int rc = -1;

    CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
    CHECK_INT(ruleset_add_rule(rs,
                               "alert tcp any any -> any any (pcre:\"/index\\.php\\?id=\\d+/\"; "
                               "sid:1;)",
                               "t.rules", 1),
              0);
    CHECK_INT(ruleset_add_rule(rs,
                               "alert tcp any any -> any any (pcre:\"/nothing here/\"; sid:2;)",
                               "t.rules", 2),
              0);
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK_INT(detect_pcre_create(&dp, rs->rules, rs->nrules, DETECT_PCRE_LAZY), 0);
    CHECK_INT(detect_pcre_scan(dp, rs->rules[0], 0, s, sizeof(s) - 1, &scratch), -1);
    for (int i = 0; i < 1000 && rc < 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        rc = detect_pcre_scan(dp, rs->rules[0], 0, s, sizeof(s) - 1, &scratch);
    }
    CHECK_INT(rc, 1);
    CHECK_INT(detect_pcre_scan(dp, rs->rules[0], 0, s, 5, &scratch), 0);
    detect_pcre_stats(dp, &st);
    CHECK_INT(st.candidates, 2);
    CHECK_INT(st.compiled, 1); /* only what was asked for */
    CHECK(st.db_bytes > 0);
    detect_pcre_destroy(dp);
    hs_free_scratch(scratch);
    ruleset_destroy(rs);
}

/* The engine: its workers get the Hyperscan path, and answer the same. */
TEST(engine_thread)
{
    struct ruleset *rs;
    struct detect_engine *de = NULL;
    struct detect_thread *dt = NULL;
    char err[256];

    CHECK_INT(ruleset_create(&rs, NULL, on_err, NULL), 0);
    CHECK_INT(ruleset_add_rule(rs,
                               "alert tcp any any -> any any (content:\"GET\"; "
                               "pcre:\"/id=\\d+/R\"; sid:1;)",
                               "t.rules", 1),
              0);
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK_INT(detect_engine_create(&de, rs, err, sizeof(err)), 0);
    CHECK_INT(detect_thread_create(&dt, de), 0);
    if (de != NULL && dt != NULL) {
        struct detect_pcre_stats st;
        const uint8_t s[] = "GET /index.php?id=1", n[] = "GET /index.php?id=x";
        int ok = 0;
        CHECK(de->pcre != NULL);
        for (int i = 0; i < 300; i++) {
            struct timespec ts = {0, 10 * 1000000L};
            ok += detect_payload_match(dt->rctx, rs->rules[0], s, sizeof(s) - 1) == 1;
            ok += detect_payload_match(dt->rctx, rs->rules[0], n, sizeof(n) - 1) == 0;
            detect_pcre_stats(de->pcre, &st);
            if (st.compiled == 1 && i > 2)
                break;
            nanosleep(&ts, NULL);
        }
        detect_pcre_stats(de->pcre, &st);
        CHECK_INT(st.compiled, 1);
        /* and now through Hyperscan */
        CHECK_INT(detect_payload_match(dt->rctx, rs->rules[0], s, sizeof(s) - 1), 1);
        CHECK_INT(detect_payload_match(dt->rctx, rs->rules[0], n, sizeof(n) - 1), 0);
        CHECK(ok >= 6);
    }
    detect_thread_destroy(dt);
    detect_engine_destroy(de);
    ruleset_destroy(rs);
}

int main(void)
{
    crafted_subjects();
    RUN(routing);
    RUN(relative_after_position_from_pcre2);
    RUN(crafted_differential);
    RUN(lazy_compile);
    RUN(engine_thread);
    RUN(etopen_differential);
    for (size_t i = 0; i < nsubjs; i++)
        free(subjs[i].p);
    free(subjs);
    return test_summary("detect_pcre");
}
