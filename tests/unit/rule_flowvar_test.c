/*
 * rule_flowvar_test.c — flowbits, flowint and noalert: parsing and every
 * error message (signatures/rule_flowvar.c), the per-flow storage
 * (sensor/flowvars.c), the evaluation order ruleset_finalize() sets up, and
 * detection across the packets of one flow through the real engine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/flowvars.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

static char last_err[512];
static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
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

static struct ruleset *load(const char *text)
{
    struct ruleset *rs;
    char *copy = strdup(text), *save = NULL;
    unsigned line = 1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        abort();
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (ruleset_add_rule(rs, l, "t.rules", line++) != 0)
            fprintf(stderr, "rule did not load: %s\n", last_err);
    free(copy);
    if (ruleset_finalize(rs) != 0)
        abort();
    return rs;
}

/* ---- parsing ----------------------------------------------------------- */

TEST(flowbits_parse)
{
    struct ruleset *rs = load(R("flowbits:set,a; flowbits:isset,b|c; flowbits:isnotset,a&b; "
                                "flowbits:toggle,c; flowbits:unset, d ;"));

    CHECK_INT(rs->nrules, 1);
    CHECK_INT(rs->nflowbits, 4);
    if (rs->nrules == 1) {
        const struct rule *r = rs->rules[0];
        CHECK_INT(r->nflowbits, 5);
        CHECK_INT(r->flowbits[0].cmd, FLOWBIT_SET);
        CHECK_INT(r->flowbits[0].nids, 1);
        CHECK_STR(ruleset_flowbit_name(rs, r->flowbits[0].ids[0]), "a");
        CHECK_INT(r->flowbits[1].cmd, FLOWBIT_ISSET);
        CHECK(r->flowbits[1].any);
        CHECK_INT(r->flowbits[1].nids, 2);
        CHECK_STR(ruleset_flowbit_name(rs, r->flowbits[1].ids[1]), "c");
        CHECK_INT(r->flowbits[2].cmd, FLOWBIT_ISNOTSET);
        CHECK(!r->flowbits[2].any);
        CHECK_INT(r->flowbits[3].cmd, FLOWBIT_TOGGLE);
        CHECK_INT(r->flowbits[4].cmd, FLOWBIT_UNSET);
        CHECK_STR(ruleset_flowbit_name(rs, r->flowbits[4].ids[0]), "d");
        CHECK(ruleset_flowbit_name(rs, 4) == NULL);
    }
    ruleset_destroy(rs);

    /* noalert, both spellings */
    rs = load(R("flowbits:noalert;") "\n"
                                     "alert tcp any any -> any any (noalert; sid:2;)\n"
                                     "alert tcp any any -> any any (sid:3;)");
    CHECK_INT(rs->nrules, 3);
    for (size_t i = 0; i < rs->nrules; i++)
        CHECK_INT(rs->rules[i]->flags & RULE_NOALERT, rs->rules[i]->sid == 3 ? 0 : RULE_NOALERT);
    ruleset_destroy(rs);
}

TEST(flowbits_errors)
{
    CHECK_STR(bad(R("flowbits:bogus,a;")),
              "flowbits: invalid command 'bogus' (expected set, unset, toggle, isset, isnotset "
              "or noalert)");
    CHECK_STR(bad(R("flowbits:set;")), "flowbits: set needs a flowbit name");
    CHECK_STR(bad(R("flowbits:noalert,a;")), "flowbits: noalert takes no name");
    CHECK_STR(bad(R("flowbits:set,a|b;")),
              "flowbits: '|' can only be used with isset and isnotset");
    CHECK_STR(bad(R("flowbits:isset,a|b&c;")), "flowbits: '|' and '&' can't be mixed");
    CHECK_STR(bad(R("flowbits:isset,a b;")), "flowbits: spaces are not allowed in flowbit names");
    CHECK_STR(bad(R("flowbits:isset,|;")), "flowbits: no flowbit name");
    CHECK_STR(bad(R("flowbits:isset,a; flowbits:isnotset,a;")),
              "flowbits: isset and isnotset of the same flowbit can never both hold");
    CHECK_STR(bad(R("flowbits;")), "flowbits: missing value");
    CHECK_STR(bad(R("noalert:1;")), "noalert: takes no value");
}

TEST(flowint_parse)
{
    struct ruleset *rs = load(R("flowint:cnt,+,1; flowint:cnt,>,max; flowint:other,notset; "
                                "flowint:x.y/z,=,4294967295; flowint:cnt,isnotset;"));
    CHECK_INT(rs->nrules, 1);
    CHECK_INT(rs->nflowints, 4);
    if (rs->nrules == 1) {
        const struct rule *r = rs->rules[0];
        CHECK_INT(r->nflowints, 5);
        CHECK_INT(r->flowints[0].op, FLOWINT_ADD);
        CHECK_INT(r->flowints[0].value, 1);
        CHECK_INT(r->flowints[1].op, FLOWINT_GT);
        CHECK(r->flowints[1].value_is_var);
        CHECK_STR(ruleset_flowint_name(rs, r->flowints[1].value), "max");
        CHECK_INT(r->flowints[2].op, FLOWINT_NOTSET);
        CHECK_INT(r->flowints[3].value, 4294967295u);
        CHECK_INT(r->flowints[4].op, FLOWINT_NOTSET);
    }
    ruleset_destroy(rs);
    const char *ops[] = {"==", "!=", "<", "<=", ">", ">=", "=", "-"};
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ops); i++) {
        char rule[128];
        snprintf(rule, sizeof(rule), R("flowint:v,%s,3;"), ops[i]);
        CHECK_STR(bad(rule), "(rule loaded)");
    }
}

TEST(flowint_errors)
{
    CHECK_STR(bad(R("flowint:v;")), "flowint: expected name, operator[, value]");
    CHECK_STR(bad(R("flowint:1v,=,1;")), "flowint: invalid variable name '1v'");
    CHECK_STR(bad(R("flowint:v,~,1;")), "flowint: invalid operator '~'");
    CHECK_STR(bad(R("flowint:v,isset,1;")), "flowint: isset takes no value");
    CHECK_STR(bad(R("flowint:v,+;")), "flowint: + needs a value");
    CHECK_STR(bad(R("flowint:v,=,4294967296;")),
              "flowint: invalid value '4294967296' (expected 0..4294967295 or a variable)");
    CHECK_STR(bad(R("flowint:v,=,a b;")), "flowint: invalid variable name 'a b'");
}

/* ---- ordering ---------------------------------------------------------- */

TEST(finalize_orders_setters_first)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"reader\"; flowbits:isset,x; sid:10;)\n"
        "alert tcp any any -> any any (msg:\"plain\"; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"both\"; flowbits:isset,y; flowbits:set,x; sid:20;)\n"
        "alert tcp any any -> any any (msg:\"setter\"; flowbits:set,y; sid:30;)\n"
        "alert tcp any any -> any any (msg:\"prio\"; priority:1; sid:40;)\n"
        "pass tcp any any -> any any (msg:\"pass\"; sid:50;)\n"
        "alert tcp any any -> any any (msg:\"fi-read\"; flowint:c,>,1; sid:60;)\n"
        "alert tcp any any -> any any (msg:\"fi-set\"; flowint:c,+,1; sid:70;)\n");
    static const uint32_t want[] = {50, 30, 20, 10, 70, 60, 40, 5};

    CHECK_INT(rs->nrules, 8);
    for (size_t i = 0; i < rs->nrules && i < 8; i++) {
        CHECK_INT(rs->rules[i]->sid, want[i]);
        CHECK_INT(rs->rules[i]->idx, i);
    }
    /* finalize is idempotent and adding a rule re-opens it */
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK_INT(rs->rules[0]->sid, 50);
    CHECK_INT(ruleset_add_rule(rs, "alert tcp any any -> any any (flowbits:set,z; sid:1;)", "t", 9),
              0);
    CHECK(!rs->finalized);
    CHECK_INT(ruleset_finalize(rs), 0);
    CHECK_INT(rs->rules[1]->sid, 1); /* setters by sid: 1 before 30 */
    /* the duplicate-sid index follows the new order */
    CHECK_INT(ruleset_add_rule(rs, "alert tcp any any -> any any (sid:10;)", "t", 10),
              KANSHI_EPARSE);
    CHECK_CONTAINS(last_err, "duplicate sid 10 (gid 1), first at t.rules:1");
    ruleset_destroy(rs);
}

/* ---- per-flow storage -------------------------------------------------- */

TEST(flowvars_storage)
{
    struct flow f;
    struct flowvars_layout l1 = {.generation = 7, .nbits = 70, .nints = 3};
    struct flowvars_layout l2 = {.generation = 8, .nbits = 2, .nints = 1};
    uint32_t v = 0;

    memset(&f, 0, sizeof(f));
    CHECK(!flowvars_bit(&f, &l1, 0));
    /* unsetting an unset bit allocates nothing */
    CHECK_INT(flowvars_bit_put(&f, &l1, 3, FLOWVARS_UNSET), 0);
    CHECK(f.vars == NULL);
    CHECK_INT(flowvars_bit_put(&f, &l1, 69, FLOWVARS_SET), 0);
    CHECK(flowvars_bit(&f, &l1, 69));
    CHECK(!flowvars_bit(&f, &l1, 68));
    CHECK_INT(flowvars_bit_put(&f, &l1, 69, FLOWVARS_TOGGLE), 0);
    CHECK(!flowvars_bit(&f, &l1, 69));
    CHECK_INT(flowvars_bit_put(&f, &l1, 0, FLOWVARS_TOGGLE), 0);
    CHECK(flowvars_bit(&f, &l1, 0));
    CHECK_INT(flowvars_bit_put(&f, &l1, 0, FLOWVARS_UNSET), 0);
    CHECK(!flowvars_bit(&f, &l1, 0));
    CHECK_INT(flowvars_bit_put(&f, &l1, 70, FLOWVARS_SET), -EINVAL);
    CHECK(!flowvars_int(&f, &l1, 2, &v));
    CHECK_INT(flowvars_int_put(&f, &l1, 2, 42), 0);
    CHECK(flowvars_int(&f, &l1, 2, &v) && v == 42);
    CHECK(!flowvars_int(&f, &l1, 1, &v));
    CHECK_INT(flowvars_int_put(&f, &l1, 3, 1), -EINVAL);
    CHECK(!flowvars_bit(&f, &l1, 200));
    /* another ruleset generation sees nothing, and writing resets */
    CHECK_INT(flowvars_bit_put(&f, &l1, 5, FLOWVARS_SET), 0);
    CHECK(!flowvars_bit(&f, &l2, 1));
    CHECK(!flowvars_int(&f, &l2, 0, &v));
    CHECK_INT(flowvars_bit_put(&f, &l2, 1, FLOWVARS_SET), 0);
    CHECK(flowvars_bit(&f, &l2, 1));
    CHECK(!flowvars_bit(&f, &l1, 5));
    CHECK_INT(flowvars_bit_put(NULL, &l2, 1, FLOWVARS_SET), -EINVAL);
    flowvars_free(&f);
    CHECK(f.vars == NULL);
    flowvars_free(&f);
    flowvars_free(NULL);
}

/* ---- detection across one flow ----------------------------------------- */

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

struct run {
    struct detect_engine *de;
    struct detect_thread *dt;
};

static int run_open(struct run *x, struct ruleset *rs)
{
    char err[256];

    if (detect_engine_create(&x->de, rs, err, sizeof(err)) != 0)
        return -1;
    return detect_thread_create(&x->dt, x->de);
}

static void run_close(struct run *x)
{
    detect_thread_destroy(x->dt);
    detect_engine_destroy(x->de);
}

static int feed(struct run *x, struct flow *f, const char *payload, struct hits *h)
{
    struct packet p;

    memset(&p, 0, sizeof(p));
    memset(h, 0, sizeof(*h));
    p.flags = PKT_IPV4 | PKT_TCP;
    p.src.family = p.dst.family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", p.src.a);
    inet_pton(AF_INET, "10.0.0.2", p.dst.a);
    p.ip_proto = IPPROTO_TCP;
    p.sp = 40000;
    p.dp = 80;
    p.tcp_flags = TH_ACK;
    p.payload = (const uint8_t *)payload;
    p.payload_len = (uint32_t)strlen(payload);
    p.flow = f;
    return detect_packet(x->dt, x->de, &p, collect, h);
}

TEST(flowbits_across_packets)
{
    /* written "checker first" on purpose: finalize puts the setter first */
    struct ruleset *rs =
        load("alert tcp any any -> any any (msg:\"data\"; content:\"DATA\"; flowbits:isset,helo; "
             "flowbits:unset,helo; flowbits:set,data; sid:2;)\n"
             "alert tcp any any -> any any (msg:\"helo\"; content:\"HELO\"; flowbits:set,helo; "
             "flowbits:noalert; sid:1;)\n"
             "alert tcp any any -> any any (msg:\"subj\"; content:\"Subject\"; "
             "flowbits:isset,data|other; sid:3;)\n"
             "alert tcp any any -> any any (msg:\"nohelo\"; content:\"DATA\"; "
             "flowbits:isnotset,helo; sid:4;)\n"
             "alert tcp any any -> any any (msg:\"toggle\"; content:\"tog\"; flowbits:toggle,t; "
             "noalert; sid:5;)\n"
             "alert tcp any any -> any any (msg:\"t&data\"; content:\"qq\"; flowbits:isset,t&data; "
             "sid:6;)\n");
    struct run x;
    struct flow f;
    struct hits h;

    CHECK_INT(rs->nrules, 6);
    CHECK_INT(run_open(&x, rs), 0);
    memset(&f, 0, sizeof(f));
    /* DATA before HELO: only "nohelo" */
    CHECK_INT(feed(&x, &f, "DATA", &h), 1);
    CHECK_INT(h.sids[0], 4);
    /* HELO sets the bit without alerting */
    CHECK_INT(feed(&x, &f, "HELO x", &h), 0);
    /* HELO and DATA in one packet: the setter runs first, the checker sees
     * it; sid 2 unsets helo before sid 4 (a reader only) looks */
    CHECK_INT(feed(&x, &f, "HELO DATA", &h), 2);
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 4);
    /* helo was unset by sid 2, data set */
    CHECK_INT(feed(&x, &f, "DATA", &h), 1);
    CHECK_INT(h.sids[0], 4);
    CHECK_INT(feed(&x, &f, "Subject: hi", &h), 1);
    CHECK_INT(h.sids[0], 3);
    /* & needs both; toggle flips */
    CHECK_INT(feed(&x, &f, "qq", &h), 0);
    CHECK_INT(feed(&x, &f, "tog", &h), 0);
    CHECK_INT(feed(&x, &f, "qq", &h), 1);
    CHECK_INT(h.sids[0], 6);
    CHECK_INT(feed(&x, &f, "tog", &h), 0);
    CHECK_INT(feed(&x, &f, "qq", &h), 0);
    /* without a flow: no flowbit check holds, isnotset included */
    CHECK_INT(feed(&x, NULL, "DATA Subject", &h), 0);
    /* another flow starts empty */
    struct flow g;
    memset(&g, 0, sizeof(g));
    CHECK_INT(feed(&x, &g, "Subject", &h), 0);
    flowvars_free(&f);
    flowvars_free(&g);
    run_close(&x);
    ruleset_destroy(rs);
}

TEST(flowint_across_packets)
{
    struct ruleset *rs = load(
        "alert tcp any any -> any any (msg:\"count\"; content:\"x\"; flowint:n,+,1; noalert; "
        "sid:1;)\n"
        "alert tcp any any -> any any (msg:\"three\"; content:\"x\"; flowint:n,==,3; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"unset\"; content:\"x\"; flowint:n,notset; "
        "sid:3;)\n"
        "alert tcp any any -> any any (msg:\"max\"; content:\"m\"; flowint:max,=,2; noalert; "
        "sid:4;)\n"
        "alert tcp any any -> any any (msg:\"gtmax\"; content:\"x\"; flowint:n,>,max; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"dec\"; content:\"d\"; flowint:n,-,5; flowint:z,-,1; "
        "noalert; sid:6;)\n"
        "alert tcp any any -> any any (msg:\"zset\"; content:\"z\"; flowint:z,isset; sid:7;)\n");
    struct run x;
    struct flow f;
    struct hits h;

    CHECK_INT(run_open(&x, rs), 0);
    memset(&f, 0, sizeof(f));
    /* Evaluation order: the writers (sids 1, 4, 6) before the readers (2,
     * 3, 5, 7), so the readers see this packet's changes. */
    CHECK_INT(rs->rules[0]->sid, 1);
    CHECK_INT(rs->rules[3]->sid, 2);
    CHECK_INT(feed(&x, &f, "x", &h), 1); /* n = 1; 1 > max (unset counts as 0) */
    CHECK_INT(h.sids[0], 5);
    CHECK_INT(feed(&x, &f, "x", &h), 1); /* n = 2 */
    CHECK_INT(h.sids[0], 5);
    CHECK_INT(feed(&x, &f, "m", &h), 0); /* max = 2 */
    CHECK_INT(feed(&x, &f, "x", &h), 2); /* n = 3: == 3, > 2 */
    CHECK_INT(h.sids[0], 2);
    CHECK_INT(h.sids[1], 5);
    /* subtracting wraps as an unsigned 32-bit value; from unset does nothing */
    CHECK_INT(feed(&x, &f, "d", &h), 0);
    CHECK_INT(feed(&x, &f, "z", &h), 0);
    CHECK_INT(feed(&x, &f, "x", &h), 1); /* n = 3 - 5 + 1 = 4294967295 > 2 */
    CHECK_INT(h.sids[0], 5);
    /* on a fresh flow sid 1 sets n before sid 3 tests notset, so sid 3
     * never fires together with sid 1 (Suricata's order) */
    struct flow g;
    memset(&g, 0, sizeof(g));
    CHECK_INT(feed(&x, &g, "x", &h), 1);
    CHECK_INT(h.sids[0], 5);
    flowvars_free(&g);
    flowvars_free(&f);
    run_close(&x);
    ruleset_destroy(rs);
}

/* A reload: the flow keeps its variables by name, through the new engine,
 * and through two reloads; names the new rules drop are gone; beyond
 * FLOWVARS_REMAP_MAX rulesets back they read as unset. */
TEST(flowvars_across_reloads)
{
    /* ruleset 1: sets "a" (HELO) and "b" (MAIL), x = 7 (CNT) */
    struct ruleset *rs1 =
        load("alert tcp any any -> any any (content:\"HELO\"; flowbits:set,a; noalert; sid:1;)\n"
             "alert tcp any any -> any any (content:\"MAIL\"; flowbits:set,b; noalert; sid:2;)\n"
             "alert tcp any any -> any any (content:\"CNT\"; flowint:x,=,7; noalert; sid:3;)\n");
    /* ruleset 2: other names first, so "a" and "b" get other ids; "b" is
     * only read; x is compared */
    struct ruleset *rs2 =
        load("alert tcp any any -> any any (content:\"Z\"; flowbits:set,zz; noalert; sid:9;)\n"
             "alert tcp any any -> any any (content:\"Y\"; flowint:yy,=,1; noalert; sid:8;)\n"
             "alert tcp any any -> any any (content:\"DATA\"; flowbits:isset,a; sid:10;)\n"
             "alert tcp any any -> any any (content:\"DATA\"; flowbits:isset,b; sid:11;)\n"
             "alert tcp any any -> any any (content:\"DATA\"; flowint:x,==,7; sid:12;)\n"
             "alert tcp any any -> any any (content:\"DATA\"; flowbits:isset,zz; sid:13;)\n");
    /* ruleset 3: no "b" any more */
    struct ruleset *rs3 =
        load("alert tcp any any -> any any (content:\"DATA\"; flowbits:isset,a; sid:20;)\n"
             "alert tcp any any -> any any (content:\"DATA\"; flowint:x,==,7; sid:22;)\n"
             "alert tcp any any -> any any (content:\"Q\"; flowbits:set,q; noalert; sid:23;)\n");
    struct run x;
    struct flow f, g;
    struct hits h;

    memset(&f, 0, sizeof(f));
    memset(&g, 0, sizeof(g));
    CHECK_INT(run_open(&x, rs1), 0);
    CHECK_INT(feed(&x, &f, "HELO MAIL CNT", &h), 0);
    CHECK_INT(feed(&x, &g, "HELO", &h), 0);
    run_close(&x);

    /* without inheriting, the new rules see nothing (the old behaviour) */
    CHECK_INT(run_open(&x, rs2), 0);
    CHECK_INT(feed(&x, &f, "DATA", &h), 0);
    run_close(&x);

    CHECK_INT(ruleset_inherit_flowvars(rs2, rs1), 0);
    CHECK_INT(rs2->nflowvars_remap, 1);
    CHECK(ruleset_flowbit_name(rs2, 0) != NULL && strcmp(ruleset_flowbit_name(rs2, 0), "a") != 0);
    CHECK_INT(run_open(&x, rs2), 0);
    CHECK_INT(feed(&x, &f, "DATA", &h), 3); /* a, b and x carried over; zz never set */
    CHECK_INT(h.sids[0], 10);
    CHECK_INT(h.sids[1], 11);
    CHECK_INT(h.sids[2], 12);
    /* a write moves the block into the new layout, keeping the rest */
    CHECK_INT(feed(&x, &f, "Z", &h), 0);
    CHECK_INT(feed(&x, &f, "DATA", &h), 4);
    run_close(&x);

    /* a second reload: f was rewritten under rs2, g still holds rs1's
     * block: both keep "a" and lose "b" */
    CHECK_INT(ruleset_inherit_flowvars(rs3, rs2), 0);
    CHECK_INT(rs3->nflowvars_remap, 2);
    CHECK_INT(run_open(&x, rs3), 0);
    CHECK_INT(feed(&x, &f, "DATA", &h), 2);
    CHECK_INT(h.sids[0], 20);
    CHECK_INT(h.sids[1], 22);
    CHECK_INT(feed(&x, &g, "DATA", &h), 1);
    CHECK_INT(h.sids[0], 20);
    run_close(&x);

    /* a chain longer than FLOWVARS_REMAP_MAX: g's rs1 block is forgotten */
    {
        struct ruleset *prev = rs3, *chain[FLOWVARS_REMAP_MAX];
        for (int i = 0; i < FLOWVARS_REMAP_MAX; i++) {
            chain[i] = load("alert tcp any any -> any any (content:\"DATA\"; flowbits:isset,a; "
                            "sid:30;)\n");
            CHECK_INT(ruleset_inherit_flowvars(chain[i], prev), 0);
            prev = chain[i];
        }
        CHECK_INT(prev->nflowvars_remap, FLOWVARS_REMAP_MAX);
        CHECK_INT(run_open(&x, prev), 0);
        CHECK_INT(feed(&x, &g, "DATA", &h), 0);
        CHECK_INT(feed(&x, &f, "DATA", &h), 0); /* rs2's is 5 back: also gone */
        run_close(&x);
        for (int i = 0; i < FLOWVARS_REMAP_MAX; i++)
            ruleset_destroy(chain[i]);
    }
    flowvars_free(&f);
    flowvars_free(&g);
    ruleset_destroy(rs1);
    ruleset_destroy(rs2);
    ruleset_destroy(rs3);
}

int main(void)
{
    RUN(flowbits_parse);
    RUN(flowbits_errors);
    RUN(flowint_parse);
    RUN(flowint_errors);
    RUN(finalize_orders_setters_first);
    RUN(flowvars_storage);
    RUN(flowbits_across_packets);
    RUN(flowint_across_packets);
    RUN(flowvars_across_reloads);
    return test_summary("rule_flowvar");
}
