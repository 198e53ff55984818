/*
 * rule_addr_test.c — address and port expressions (signatures/rule_addr.c):
 * every leaf form, lists, negation, variables and their defaults, the error
 * messages, and matching at the edges of ranges, with a brute-force
 * cross-check of random port lists.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

static char err[256];

static struct kanshi_addr A(const char *s) {
    struct kanshi_addr a = {0};

    if (strchr(s, ':') != NULL) {
        a.family = AF_INET6;
        if (inet_pton(AF_INET6, s, a.a) != 1)
            abort();
    } else {
        a.family = AF_INET;
        if (inet_pton(AF_INET, s, a.a) != 1)
            abort();
    }
    return a;
}

static bool
am(const struct addr_set *s, const char *addr)
{
    struct kanshi_addr a = A(addr);
    return addr_set_match(s, &a);
}

/* Parses expr with vars (NULL: none); the set must be freed by the caller. */
static int ap(struct addr_set *s, const char *expr, const struct rule_vars *v)
{
    memset(s, 0, sizeof(*s));
    err[0] = '\0';
    return addr_set_parse(s, expr, v, err, sizeof(err));
}

static int pp(struct port_set *s, const char *expr, const struct rule_vars *v)
{
    memset(s, 0, sizeof(*s));
    err[0] = '\0';
    return port_set_parse(s, expr, v, err, sizeof(err));
}

static struct rule_vars *defaults(void)
{
    struct rule_vars *v = NULL;

    if (rule_vars_create(&v) != 0 || rule_vars_set_defaults(v) != 0)
        abort();
    return v;
}

/* The set is sorted, disjoint and has no adjacent ranges left unmerged. */
static bool addr_normalised(const struct addr_set *s)
{
    for (size_t i = 0; i < s->n4; i++) {
        if (s->v4[i].lo > s->v4[i].hi)
            return false;
        if (i > 0 && (uint64_t)s->v4[i - 1].hi + 1 >= s->v4[i].lo)
            return false;
    }
    for (size_t i = 0; i < s->n6; i++)
        if (memcmp(s->v6[i].lo, s->v6[i].hi, 16) > 0 ||
            (i > 0 && memcmp(s->v6[i - 1].hi, s->v6[i].lo, 16) >= 0))
            return false;
    return true;
}

static bool port_normalised(const struct port_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i].lo > s->r[i].hi)
            return false;
        if (i > 0 && (uint32_t)s->r[i - 1].hi + 1 >= s->r[i].lo)
            return false;
    }
    return true;
}

TEST(addr_single_v4)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "1.2.3.4", NULL), 0);
    CHECK(!s.any);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.n6, 0);
    CHECK_INT(s.v4[0].lo, 0x01020304);
    CHECK_INT(s.v4[0].hi, 0x01020304);
    CHECK(am(&s, "1.2.3.4"));
    CHECK(!am(&s, "1.2.3.3"));
    CHECK(!am(&s, "1.2.3.5"));
    CHECK(!am(&s, "::1"));
    addr_set_fini(&s);
    addr_set_fini(&s); /* fini leaves an empty set; twice is harmless */
}

TEST(addr_cidr)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "10.0.0.0/8", NULL), 0);
    CHECK(am(&s, "10.0.0.0"));
    CHECK(am(&s, "10.255.255.255"));
    CHECK(!am(&s, "9.255.255.255"));
    CHECK(!am(&s, "11.0.0.0"));
    addr_set_fini(&s);

    /* host bits are masked off, as Suricata does */
    CHECK_INT(ap(&s, "10.1.2.3/8", NULL), 0);
    CHECK_INT(s.v4[0].lo, 0x0a000000);
    CHECK_INT(s.v4[0].hi, 0x0affffff);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "1.2.3.4/32", NULL), 0);
    CHECK_INT(s.v4[0].lo, s.v4[0].hi);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "0.0.0.0/0", NULL), 0);
    CHECK(!s.any); /* all of IPv4 but no IPv6 */
    CHECK(am(&s, "0.0.0.0"));
    CHECK(am(&s, "255.255.255.255"));
    CHECK(!am(&s, "::"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "192.168.0.0/255.255.0.0", NULL), 0);
    CHECK_INT(s.v4[0].lo, 0xc0a80000);
    CHECK_INT(s.v4[0].hi, 0xc0a8ffff);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "192.168.0.0/255.0.255.0", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid CIDR /255.0.255.0");
    CHECK_INT(ap(&s, "1.2.3.4/33", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid CIDR /33");
    CHECK_INT(ap(&s, "1.2.3.4/", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid CIDR /");
    CHECK_INT(ap(&s, "1.2.3.4/-1", NULL), KANSHI_EPARSE);
    CHECK_INT(ap(&s, "1.2.3.4/8/8", NULL), KANSHI_EPARSE);
}

TEST(addr_range)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "1.2.3.4-1.2.3.9", NULL), 0);
    CHECK(am(&s, "1.2.3.4"));
    CHECK(am(&s, "1.2.3.9"));
    CHECK(!am(&s, "1.2.3.3"));
    CHECK(!am(&s, "1.2.3.10"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "fe80::1-fe80::ff", NULL), 0);
    CHECK_INT(s.n6, 1);
    CHECK(am(&s, "fe80::1"));
    CHECK(am(&s, "fe80::ff"));
    CHECK(!am(&s, "fe80::"));
    CHECK(!am(&s, "fe80::100"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "1.2.3.9-1.2.3.4", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "start above end");
    CHECK_INT(ap(&s, "1.2.3.4-::1", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "mixed families");
    CHECK_INT(ap(&s, "1.2.3.4-", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address '1.2.3.4-'");
}

TEST(addr_v6)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "2001:db8::/32", NULL), 0);
    CHECK_INT(s.n4, 0);
    CHECK_INT(s.n6, 1);
    CHECK(am(&s, "2001:db8::"));
    CHECK(am(&s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK(!am(&s, "2001:db9::"));
    CHECK(!am(&s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK(!am(&s, "32.1.13.184")); /* same leading bytes as IPv4 */
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "::1", NULL), 0);
    CHECK(am(&s, "::1"));
    CHECK(!am(&s, "::2"));
    CHECK(!am(&s, "::"));
    addr_set_fini(&s);

    /* a prefix that crosses the 64-bit halves */
    CHECK_INT(ap(&s, "2001:db8:0:0:8000::/65", NULL), 0);
    CHECK(am(&s, "2001:db8::8000:0:0:0"));
    CHECK(am(&s, "2001:db8::ffff:ffff:ffff:ffff"));
    CHECK(!am(&s, "2001:db8::7fff:ffff:ffff:ffff"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "::/0", NULL), 0);
    CHECK(am(&s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK(!s.any);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "::ffff:1.2.3.4", NULL), 0);
    CHECK(am(&s, "::ffff:1.2.3.4"));
    CHECK(!am(&s, "1.2.3.4"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "::1/129", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid CIDR /129");
    CHECK_INT(ap(&s, "2001:db8:::1", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address '2001:db8:::1'");
    CHECK_INT(ap(&s, "::1/255.0.0.0", NULL), KANSHI_EPARSE); /* netmasks are IPv4 only */
}

TEST(addr_any_and_negation)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "any", NULL), 0);
    CHECK(s.any);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.n6, 1);
    CHECK(am(&s, "0.0.0.0"));
    CHECK(am(&s, "::"));
    struct kanshi_addr none = {0};
    CHECK(addr_set_match(&s, &none));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "!1.2.3.4", NULL), 0);
    CHECK(!s.any);
    CHECK_INT(s.n4, 2);
    CHECK_INT(s.v4[0].hi, 0x01020303);
    CHECK_INT(s.v4[1].lo, 0x01020305);
    CHECK(!am(&s, "1.2.3.4"));
    CHECK(am(&s, "1.2.3.3"));
    CHECK(am(&s, "1.2.3.5"));
    CHECK(am(&s, "0.0.0.0"));
    CHECK(am(&s, "255.255.255.255"));
    CHECK(am(&s, "::1"));
    struct kanshi_addr absent = {0};
    CHECK(!addr_set_match(&s, &absent));
    addr_set_fini(&s);

    /* complement at the edges of the space */
    CHECK_INT(ap(&s, "!0.0.0.0", NULL), 0);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.v4[0].lo, 1);
    CHECK(!am(&s, "0.0.0.0"));
    addr_set_fini(&s);
    CHECK_INT(ap(&s, "!255.255.255.255", NULL), 0);
    CHECK_INT(s.v4[0].hi, 0xfffffffe);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "!!1.2.3.4", NULL), 0);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.n6, 0);
    CHECK(am(&s, "1.2.3.4"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "!any", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "empty address set");
    CHECK_INT(ap(&s, "ANY", NULL), 0);
    CHECK(s.any);
    addr_set_fini(&s);
}

TEST(addr_lists)
{
    struct addr_set s;

    /* adjacent and overlapping elements merge */
    CHECK_INT(ap(&s, "[10.128.0.0/9,10.0.0.0/9]", NULL), 0);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.v4[0].lo, 0x0a000000);
    CHECK_INT(s.v4[0].hi, 0x0affffff);
    addr_set_fini(&s);
    CHECK_INT(ap(&s, "[1.2.3.5,1.2.3.4,1.2.3.4/31]", NULL), 0);
    CHECK_INT(s.n4, 1);
    CHECK_INT(s.v4[0].lo, 0x01020304);
    CHECK_INT(s.v4[0].hi, 0x01020305);
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "[ 1.2.3.4 , 5.6.7.8 ,::1 ]", NULL), 0);
    CHECK_INT(s.n4, 2);
    CHECK_INT(s.n6, 1);
    CHECK(am(&s, "5.6.7.8"));
    CHECK(addr_normalised(&s));
    addr_set_fini(&s);

    /* union minus negated elements */
    CHECK_INT(ap(&s, "[10.0.0.0/8,!10.1.0.0/16]", NULL), 0);
    CHECK_INT(s.n4, 2);
    CHECK(am(&s, "10.0.0.1"));
    CHECK(!am(&s, "10.1.2.3"));
    CHECK(am(&s, "10.2.0.0"));
    CHECK(!am(&s, "11.0.0.0"));
    CHECK(!am(&s, "::1"));
    addr_set_fini(&s);

    /* the order of positive and negative elements does not matter */
    CHECK_INT(ap(&s, "[!10.1.0.0/16,10.0.0.0/8]", NULL), 0);
    CHECK_INT(s.n4, 2);
    CHECK(!am(&s, "10.1.0.0"));
    addr_set_fini(&s);

    /* only negated elements: any minus those */
    CHECK_INT(ap(&s, "[!1.2.3.4,!5.6.7.8]", NULL), 0);
    CHECK(!s.any);
    CHECK(!am(&s, "1.2.3.4"));
    CHECK(!am(&s, "5.6.7.8"));
    CHECK(am(&s, "1.2.3.5"));
    CHECK(am(&s, "::"));
    CHECK_INT(s.n4, 3);
    addr_set_fini(&s);

    /* nested negated lists */
    CHECK_INT(ap(&s, "![1.0.0.0/8,![1.2.0.0/16]]", NULL), 0);
    CHECK(am(&s, "1.2.3.4")); /* inner list excludes it, outer ! brings it back */
    CHECK(!am(&s, "1.1.1.1"));
    CHECK(am(&s, "2.0.0.0"));
    CHECK(am(&s, "::1"));
    CHECK(addr_normalised(&s));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "[1.0.0.0/8,[!1.2.0.0/16,!1.3.0.0/16]]", NULL), 0);
    CHECK(s.any); /* 1/8 plus (any minus two /16s inside it) */
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "[[[[1.2.3.4]]]]", NULL), 0);
    CHECK(am(&s, "1.2.3.4"));
    addr_set_fini(&s);

    /* "any" inside a list */
    CHECK_INT(ap(&s, "[any,!192.168.0.0/16]", NULL), 0);
    CHECK(!am(&s, "192.168.1.1"));
    CHECK(am(&s, "192.169.0.0"));
    addr_set_fini(&s);
}

TEST(addr_errors)
{
    struct addr_set s;

    CHECK_INT(ap(&s, "300.1.1.1", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address '300.1.1.1'");
    CHECK_INT(ap(&s, "1.2.3", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address '1.2.3'");
    CHECK_INT(ap(&s, "example.com", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address 'example.com'");
    CHECK_INT(ap(&s, "[1.2.3.4,!1.2.3.4]", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "empty address set '[1.2.3.4,!1.2.3.4]'");
    CHECK_INT(ap(&s, "[1.2.3.4", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unbalanced brackets in '[1.2.3.4'");
    CHECK_INT(ap(&s, "1.2.3.4]", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unbalanced brackets in '1.2.3.4]'");
    CHECK_INT(ap(&s, "[1.2.3.4]]", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unbalanced brackets");
    CHECK_INT(ap(&s, "", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "missing address");
    CHECK_INT(ap(&s, "[]", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unexpected ']' in address");
    CHECK_INT(ap(&s, "[1.2.3.4,]", NULL), KANSHI_EPARSE);
    CHECK_INT(ap(&s, "[1.2.3.4 5.6.7.8]", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unexpected '5' in address list");
    CHECK_INT(ap(&s, "1.2.3.4 5.6.7.8", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unexpected '5'");
    CHECK_INT(ap(&s, "!", NULL), KANSHI_EPARSE);
    CHECK_INT(ap(&s, "$", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "missing variable name after '$'");
    CHECK_INT(ap(&s, "$FOO", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unknown variable $FOO");

    char big[300];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(ap(&s, big, NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "invalid address");

    /* deep nesting is refused, not recursed into */
    char deep[400];
    memset(deep, '[', 200);
    strcpy(deep + 200, "1.2.3.4");
    memset(deep + 207, ']', 190);
    deep[397] = '\0';
    CHECK_INT(ap(&s, deep, NULL), KANSHI_EPARSE);
    CHECK_STR(err, "address nested too deep");
}

TEST(vars_defaults)
{
    struct rule_vars *v = defaults();
    struct addr_set s, t;

    CHECK_INT(ap(&s, "$HOME_NET", v), 0);
    CHECK_INT(s.n4, 3);
    CHECK_INT(s.n6, 0);
    CHECK(am(&s, "192.168.0.0"));
    CHECK(am(&s, "10.255.255.255"));
    CHECK(am(&s, "172.16.0.0"));
    CHECK(am(&s, "172.31.255.255"));
    CHECK(!am(&s, "172.32.0.0"));
    CHECK(!am(&s, "8.8.8.8"));
    addr_set_fini(&s);

    CHECK_INT(ap(&s, "$EXTERNAL_NET", v), 0);
    CHECK(!am(&s, "10.1.1.1"));
    CHECK(am(&s, "8.8.8.8"));
    CHECK(am(&s, "::1"));
    CHECK_INT(ap(&t, "!$HOME_NET", v), 0);
    CHECK_INT(s.n4, t.n4);
    CHECK(s.n4 == t.n4 && memcmp(s.v4, t.v4, s.n4 * sizeof(*s.v4)) == 0);
    addr_set_fini(&t);
    CHECK_INT(ap(&t, "$AIM_SERVERS", v), 0);
    CHECK(s.n4 == t.n4 && memcmp(s.v4, t.v4, s.n4 * sizeof(*s.v4)) == 0);
    addr_set_fini(&t);
    /* !$EXTERNAL_NET is $HOME_NET again */
    CHECK_INT(ap(&t, "!$EXTERNAL_NET", v), 0);
    CHECK_INT(t.n4, 3);
    CHECK_INT(t.n6, 0);
    addr_set_fini(&t);
    addr_set_fini(&s);

    static const char *homes[] = {"HTTP_SERVERS",   "SMTP_SERVERS",  "SQL_SERVERS", "DNS_SERVERS",
                                  "TELNET_SERVERS", "DC_SERVERS",    "DNP3_SERVER", "DNP3_CLIENT",
                                  "MODBUS_CLIENT",  "MODBUS_SERVER", "ENIP_CLIENT", "ENIP_SERVER"};
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(homes); i++) {
        char e[64];
        snprintf(e, sizeof(e), "$%s", homes[i]);
        CHECK_INT(ap(&s, e, v), 0);
        CHECK_INT(s.n4, 3);
        CHECK(am(&s, "192.168.1.1"));
        addr_set_fini(&s);
    }

    struct port_set ps;
    static const struct {
        const char *var;
        uint16_t in, out;
    } ports[] = {
        {"$HTTP_PORTS", 80, 81},      {"$SHELLCODE_PORTS", 81, 80}, {"$ORACLE_PORTS", 1521, 80},
        {"$SSH_PORTS", 22, 23},       {"$DNP3_PORTS", 20000, 80},   {"$MODBUS_PORTS", 502, 80},
        {"$FILE_DATA_PORTS", 143, 8}, {"$FTP_PORTS", 21, 20},       {"$GENEVE_PORTS", 6081, 80},
        {"$VXLAN_PORTS", 4789, 80},   {"$TEREDO_PORTS", 3544, 80},  {"$SIP_PORTS", 5061, 5062},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ports); i++) {
        CHECK_INT(pp(&ps, ports[i].var, v), 0);
        CHECK(port_set_match(&ps, ports[i].in));
        CHECK(!port_set_match(&ps, ports[i].out));
        port_set_fini(&ps);
    }
    CHECK_INT(pp(&ps, "$FILE_DATA_PORTS", v), 0);
    CHECK_INT(ps.n, 3);
    CHECK(port_set_match(&ps, 80) && port_set_match(&ps, 110));
    port_set_fini(&ps);
    CHECK_INT(pp(&ps, "$SIP_PORTS", v), 0);
    CHECK_INT(ps.n, 1); /* 5060 and 5061 merge */
    port_set_fini(&ps);

    /* address and port groups are separate namespaces */
    CHECK_INT(ap(&s, "$HTTP_PORTS", v), KANSHI_EPARSE);
    CHECK_STR(err, "unknown variable $HTTP_PORTS");
    CHECK_INT(pp(&ps, "$HOME_NET", v), KANSHI_EPARSE);
    CHECK_STR(err, "unknown variable $HOME_NET");
    rule_vars_destroy(v);
}

TEST(vars_user)
{
    struct rule_vars *v = NULL;
    struct addr_set s;

    CHECK_INT(rule_vars_create(&v), 0);
    /* defined before what it refers to: resolved at use */
    CHECK_INT(rule_vars_set_address(v, "A", "[$B,1.1.1.1]"), 0);
    CHECK_INT(rule_vars_set_address(v, "B", "2.2.2.2"), 0);
    CHECK_INT(ap(&s, "$A", v), 0);
    CHECK(am(&s, "1.1.1.1"));
    CHECK(am(&s, "2.2.2.2"));
    CHECK_INT(s.n4, 2);
    addr_set_fini(&s);

    /* replacing a definition */
    CHECK_INT(rule_vars_set_address(v, "B", "3.3.3.3"), 0);
    CHECK_INT(ap(&s, "$A", v), 0);
    CHECK(!am(&s, "2.2.2.2"));
    CHECK(am(&s, "3.3.3.3"));
    addr_set_fini(&s);

    /* a var used twice is no loop */
    CHECK_INT(ap(&s, "[$B,$B,!$B,1.1.1.1]", v), 0);
    CHECK(am(&s, "1.1.1.1"));
    CHECK(!am(&s, "3.3.3.3"));
    addr_set_fini(&s);

    /* set_defaults keeps what is set */
    CHECK_INT(rule_vars_set_address(v, "HOME_NET", "[$B]"), 0);
    CHECK_INT(rule_vars_set_defaults(v), 0);
    CHECK_INT(ap(&s, "$EXTERNAL_NET", v), 0);
    CHECK(!am(&s, "3.3.3.3"));
    CHECK(am(&s, "10.0.0.1"));
    addr_set_fini(&s);

    /* a leading '$' in the name is tolerated */
    CHECK_INT(rule_vars_set_port(v, "$MY_PORTS", "[1000:2000,!1500]"), 0);
    struct port_set ps;
    CHECK_INT(pp(&ps, "$MY_PORTS", v), 0);
    CHECK_INT(ps.n, 2);
    CHECK(!port_set_match(&ps, 1500));
    CHECK(port_set_match(&ps, 2000));
    port_set_fini(&ps);

    /* loops */
    CHECK_INT(rule_vars_set_address(v, "L1", "[$L2,1.1.1.1]"), 0);
    CHECK_INT(rule_vars_set_address(v, "L2", "!$L1"), 0);
    CHECK_INT(ap(&s, "$L1", v), KANSHI_EPARSE);
    CHECK_STR(err, "variable loop at $L1");
    CHECK_INT(ap(&s, "[8.8.8.8,$L2]", v), KANSHI_EPARSE);
    CHECK_STR(err, "variable loop at $L2");
    CHECK_INT(rule_vars_set_address(v, "SELF", "[$SELF]"), 0);
    CHECK_INT(ap(&s, "$SELF", v), KANSHI_EPARSE);
    CHECK_STR(err, "variable loop at $SELF");

    /* a long chain without a loop is refused past the nesting bound */
    for (int i = 0; i < 30; i++) {
        char name[16], val[16];
        snprintf(name, sizeof(name), "C%d", i);
        snprintf(val, sizeof(val), "$C%d", i + 1);
        CHECK_INT(rule_vars_set_address(v, name, val), 0);
    }
    CHECK_INT(rule_vars_set_address(v, "C30", "1.2.3.4"), 0);
    CHECK_INT(ap(&s, "$C20", v), 0);
    addr_set_fini(&s);
    CHECK_INT(ap(&s, "$C0", v), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "variables nested too deep");

    /* an error inside a var's value */
    CHECK_INT(rule_vars_set_address(v, "BAD", "[1.2.3.4,300.0.0.1]"), 0);
    CHECK_INT(ap(&s, "$BAD", v), KANSHI_EPARSE);
    CHECK_STR(err, "invalid address '300.0.0.1'");
    CHECK_INT(ap(&s, "$HOME_NET_X", v), KANSHI_EPARSE);
    CHECK_STR(err, "unknown variable $HOME_NET_X");
    rule_vars_destroy(v);
    rule_vars_destroy(NULL);
}

TEST(ports_forms)
{
    struct port_set s;

    CHECK_INT(pp(&s, "80", NULL), 0);
    CHECK(!s.any);
    CHECK_INT(s.n, 1);
    CHECK(port_set_match(&s, 80));
    CHECK(!port_set_match(&s, 79));
    CHECK(!port_set_match(&s, 81));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "1024:", NULL), 0);
    CHECK_INT(s.r[0].lo, 1024);
    CHECK_INT(s.r[0].hi, 65535);
    CHECK(port_set_match(&s, 65535));
    CHECK(!port_set_match(&s, 1023));
    port_set_fini(&s);

    CHECK_INT(pp(&s, ":1023", NULL), 0);
    CHECK(port_set_match(&s, 0));
    CHECK(port_set_match(&s, 1023));
    CHECK(!port_set_match(&s, 1024));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "0", NULL), 0);
    CHECK(port_set_match(&s, 0));
    CHECK(!port_set_match(&s, 1));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "65535", NULL), 0);
    CHECK(port_set_match(&s, 65535));
    CHECK(!port_set_match(&s, 65534));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "0:65535", NULL), 0);
    CHECK(s.any);
    port_set_fini(&s);
    CHECK_INT(pp(&s, "any", NULL), 0);
    CHECK(s.any);
    CHECK(port_set_match(&s, 0) && port_set_match(&s, 65535));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "!80", NULL), 0);
    CHECK_INT(s.n, 2);
    CHECK(port_set_match(&s, 0));
    CHECK(port_set_match(&s, 79));
    CHECK(!port_set_match(&s, 80));
    CHECK(port_set_match(&s, 81));
    CHECK(port_set_match(&s, 65535));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "![0,65535]", NULL), 0);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.r[0].lo, 1);
    CHECK_INT(s.r[0].hi, 65534);
    port_set_fini(&s);

    CHECK_INT(pp(&s, "[1:10,!5, 20:30 ,25]", NULL), 0);
    CHECK_INT(s.n, 3);
    CHECK(port_set_match(&s, 4) && !port_set_match(&s, 5) && port_set_match(&s, 6));
    CHECK(port_set_match(&s, 30) && !port_set_match(&s, 31) && !port_set_match(&s, 11));
    CHECK(port_normalised(&s));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "[!80,!443]", NULL), 0);
    CHECK(port_set_match(&s, 8080) && !port_set_match(&s, 443));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "![80,[443,8080]]", NULL), 0);
    CHECK(!port_set_match(&s, 8080) && port_set_match(&s, 8081));
    port_set_fini(&s);

    CHECK_INT(pp(&s, "[1:3,4:6]", NULL), 0);
    CHECK_INT(s.n, 1); /* adjacent ranges merge */
    port_set_fini(&s);
}

TEST(ports_errors)
{
    struct port_set s;

    CHECK_INT(pp(&s, "70000", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid port '70000'");
    CHECK_INT(pp(&s, "65536", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid port '65536'");
    CHECK_INT(pp(&s, "10:5", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid port range '10:5' (start above end)");
    CHECK_INT(pp(&s, ":", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid port ':'");
    CHECK_INT(pp(&s, "1:2:3", NULL), KANSHI_EPARSE);
    CHECK_INT(pp(&s, "http", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "invalid port 'http'");
    CHECK_INT(pp(&s, "-1", NULL), KANSHI_EPARSE);
    CHECK_INT(pp(&s, "[80,!80]", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "empty port set '[80,!80]'");
    CHECK_INT(pp(&s, "!any", NULL), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "empty port set");
    CHECK_INT(pp(&s, "!0:65535", NULL), KANSHI_EPARSE);
    CHECK_INT(pp(&s, "[80,443", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unbalanced brackets in '[80,443'");
    CHECK_INT(pp(&s, "$NOPE", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "unknown variable $NOPE");
    CHECK_INT(pp(&s, "", NULL), KANSHI_EPARSE);
    CHECK_STR(err, "missing port");
}

/* Random port lists against a bitmap computed the slow way. */
TEST(ports_random_vs_bruteforce)
{
    static uint8_t want[65536];
    char expr[2048];
    unsigned seed = 12345;

    for (int iter = 0; iter < 200; iter++) {
        int n = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 12;
        uint8_t pos[65536];
        size_t len = 0;
        bool any_pos = false;

        memset(pos, 0, sizeof(pos));
        memset(want, 0, sizeof(want));
        len += (size_t)snprintf(expr + len, sizeof(expr) - len, "[");
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned a = (seed >> 8) & 0xffff;
            seed = seed * 1103515245 + 12345;
            unsigned b = a + ((seed >> 8) % 3000);
            bool neg = ((seed >> 4) & 3) == 0;
            if (b > 65535)
                b = 65535;
            len += (size_t)snprintf(expr + len, sizeof(expr) - len, "%s%s%u:%u", i ? "," : "",
                                    neg ? "!" : "", a, b);
            for (unsigned x = a; x <= b; x++)
                pos[x] |= neg ? 2 : 1;
            any_pos |= !neg;
        }
        snprintf(expr + len, sizeof(expr) - len, "]");
        size_t count = 0;
        for (unsigned x = 0; x < 65536; x++) {
            bool in = any_pos ? (pos[x] & 1) : true;
            want[x] = in && !(pos[x] & 2);
            count += want[x];
        }
        struct port_set s;
        int rc = pp(&s, expr, NULL);
        if (count == 0) {
            CHECK_INT(rc, KANSHI_EPARSE);
            continue;
        }
        CHECK_INT(rc, 0);
        if (rc != 0)
            continue;
        CHECK(port_normalised(&s));
        CHECK(s.any == (count == 65536));
        unsigned bad = 0;
        for (unsigned x = 0; x < 65536; x++)
            bad += port_set_match(&s, (uint16_t)x) != want[x];
        CHECK_INT(bad, 0);
        port_set_fini(&s);
    }
}

/* A long list as an ET blocklist has: every listed address and none other. */
TEST(addr_long_list)
{
    char *expr = malloc(20000);
    size_t len = 0;
    struct addr_set s;

    len += (size_t)sprintf(expr, "[");
    for (int i = 0; i < 1000; i++)
        len += (size_t)sprintf(expr + len, "%s%d.%d.%d.%d", i ? "," : "", 1 + (i * 7) % 200,
                               (i * 13) % 256, (i * 17) % 256, (i * 3) % 256);
    strcpy(expr + len, "]");
    CHECK_INT(ap(&s, expr, NULL), 0);
    CHECK(addr_normalised(&s));
    for (int i = 0; i < 1000; i++) {
        struct kanshi_addr a = {.family = AF_INET};
        a.a[0] = (uint8_t)(1 + (i * 7) % 200);
        a.a[1] = (uint8_t)((i * 13) % 256);
        a.a[2] = (uint8_t)((i * 17) % 256);
        a.a[3] = (uint8_t)((i * 3) % 256);
        CHECK(addr_set_match(&s, &a));
        a.a[3] ^= 0x80; /* very likely not listed: check against the list */
        bool listed = false;
        for (int j = 0; j < 1000 && !listed; j++)
            listed = a.a[0] == 1 + (j * 7) % 200 && a.a[1] == (j * 13) % 256 &&
                     a.a[2] == (j * 17) % 256 && a.a[3] == (j * 3) % 256;
        CHECK(addr_set_match(&s, &a) == listed);
    }
    addr_set_fini(&s);
    free(expr);
}

int main(void)
{
    RUN(addr_single_v4);
    RUN(addr_cidr);
    RUN(addr_range);
    RUN(addr_v6);
    RUN(addr_any_and_negation);
    RUN(addr_lists);
    RUN(addr_errors);
    RUN(vars_defaults);
    RUN(vars_user);
    RUN(ports_forms);
    RUN(ports_errors);
    RUN(ports_random_vs_bruteforce);
    RUN(addr_long_list);
    return test_summary("rule_addr");
}
