/*
 * rules_test.c — the rule parser (signatures/rule_parse.c, rule_class.c):
 * the header, every keyword with its parsed values, every error message as
 * the error callback sees it, files with comments and continuation lines,
 * directories, classification files, and the real rulesets under ../shared
 * (ET Open and suricata-verify's strict tier) when present.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

/* What the error callback saw last. */
struct errcap {
    int n;
    char file[256];
    unsigned line;
    char msg[512];
};

static void capture(void *arg, const char *file, unsigned line, const char *msg)
{
    struct errcap *e = arg;

    e->n++;
    snprintf(e->file, sizeof(e->file), "%s", file);
    e->line = line;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

static struct errcap ec;
static struct ruleset *rs;

static void fresh(void)
{
    ruleset_destroy(rs);
    rs = NULL;
    memset(&ec, 0, sizeof(ec));
    if (ruleset_create(&rs, NULL, capture, &ec) != 0)
        abort();
}

/* Adds one rule to a fresh ruleset; returns the rule or NULL. */
static const struct rule *one(const char *text)
{
    fresh();
    if (ruleset_add_rule(rs, text, "t.rules", 7) != 0)
        return NULL;
    return rs->rules[rs->nrules - 1];
}

/* Adds text to a fresh ruleset expecting failure; returns the message. */
static const char *bad(const char *text)
{
    fresh();
    if (ruleset_add_rule(rs, text, "t.rules", 7) == 0)
        return "(rule loaded)";
    if (ec.n != 1 || ec.line != 7 || strcmp(ec.file, "t.rules") != 0 || rs->nerrors != 1 ||
        rs->nrules != 0)
        return "(bad report)";
    return ec.msg;
}

static const struct rule_content *content(const struct rule *r, size_t i)
{
    if (r == NULL || i >= r->nmatches || r->matches[i].kind != RULE_MATCH_CONTENT)
        return NULL;
    return &r->matches[i].u.content;
}

#define H "alert tcp any any -> any any "

TEST(header_basic)
{
    const struct rule *r = one("alert tcp 1.2.3.4 80 -> $HOME_NET [1024:] (msg:\"x\"; sid:5;)");

    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT(r->action, RULE_ACTION_ALERT);
    CHECK_INT(r->proto, RULE_PROTO_TCP);
    CHECK(!r->bidir);
    CHECK_INT(r->src.n4, 1);
    CHECK(!r->src.any);
    CHECK(port_set_match(&r->sp, 80) && !port_set_match(&r->sp, 81));
    CHECK_INT(r->dst.n4, 3);
    CHECK(port_set_match(&r->dp, 1024) && !port_set_match(&r->dp, 1023));
    CHECK_INT(r->sid, 5);
    CHECK_INT(r->gid, 1);
    CHECK_INT(r->rev, 0);
    CHECK_STR(r->msg, "x");
    CHECK(r->classtype == NULL);
    CHECK(r->metadata == NULL);
    CHECK_INT(r->priority, 3);
    CHECK_INT(r->nmatches, 0);
    CHECK_INT(r->has, 0);
    CHECK_STR(r->file, "t.rules");
    CHECK_INT(r->line, 7);
    CHECK_INT(ec.n, 0);

    static const struct {
        const char *text;
        enum rule_action action;
        enum rule_proto proto;
    } hs[] = {
        {"alert ip any any -> any any (sid:1;)", RULE_ACTION_ALERT, RULE_PROTO_IP},
        {"pass udp any any -> any any (sid:1;)", RULE_ACTION_PASS, RULE_PROTO_UDP},
        {"drop icmp any any -> any any (sid:1;)", RULE_ACTION_DROP, RULE_PROTO_ICMP},
        {"reject icmpv6 any any -> any any (sid:1;)", RULE_ACTION_REJECT, RULE_PROTO_ICMPV6},
        {"alert tcp-pkt any any -> any any (sid:1;)", RULE_ACTION_ALERT, RULE_PROTO_TCP_PKT},
        {"alert tcp-stream any any -> any any (sid:1;)", RULE_ACTION_ALERT, RULE_PROTO_TCP_STREAM},
        {"alert TCP any any -> any any (sid:1;)", RULE_ACTION_ALERT, RULE_PROTO_TCP},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(hs); i++) {
        r = one(hs[i].text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->action, hs[i].action);
            CHECK_INT(r->proto, hs[i].proto);
            CHECK(r->src.any && r->dst.any && r->sp.any && r->dp.any);
        }
    }

    r = one("alert udp $EXTERNAL_NET :1024 <> $HOME_NET 0 (sid:1;)");
    CHECK(r != NULL && r->bidir);
    CHECK(r != NULL && port_set_match(&r->dp, 0) && !port_set_match(&r->dp, 1));

    /* brackets may hold blanks; '(' may follow the last port directly */
    r = one("  alert tcp [1.2.3.4, 5.6.7.8] [80, 443] -> any any(sid:1;)  ");
    CHECK(r != NULL && r->src.n4 == 2 && r->sp.n == 2);
    r = one("alert\ttcp\tany any -> any any\t( sid : 9 ; )");
    CHECK(r != NULL && r->sid == 9);
}

TEST(header_errors)
{
    CHECK_STR(bad("alert tcp any any <- any any (sid:1;)"),
              "header: invalid direction '<-' (expected -> or <>)");
    CHECK_STR(bad("alert tcp any any => any any (sid:1;)"),
              "header: invalid direction '=>' (expected -> or <>)");
    CHECK_STR(bad("warn tcp any any -> any any (sid:1;)"), "header: unknown action 'warn'");
    CHECK_STR(bad("rejectboth tcp any any -> any any (sid:1;)"),
              "header: unsupported action 'rejectboth'");
    CHECK_STR(bad("alert smb any any -> any any (sid:1;)"), "header: unsupported protocol 'smb'");
    CHECK_STR(bad("alert nfs any any -> any any (sid:1;)"), "header: unsupported protocol 'nfs'");
    CHECK_STR(bad("alert http any any -> any any (sid:1;)"), "(rule loaded)");
    CHECK_STR(bad("alert dns any any -> any any (sid:1;)"), "(rule loaded)");
    CHECK_STR(bad("alert http1:request_line any any -> any any (sid:1;)"),
              "header: unsupported protocol 'http1:request_line'");
    CHECK_STR(bad("alert tcp:hook any any -> any any (sid:1;)"),
              "header: unsupported protocol 'tcp:hook'");
    CHECK_STR(bad("alert foo any any -> any any (sid:1;)"), "header: unknown protocol 'foo'");
    CHECK_STR(bad(""), "header: missing action");
    CHECK_STR(bad("alert"), "header: missing protocol");
    CHECK_STR(bad("alert tcp"), "header: missing source address");
    CHECK_STR(bad("alert tcp any"), "header: missing source port");
    CHECK_STR(bad("alert tcp any any"), "header: missing direction");
    CHECK_STR(bad("alert tcp any any ->"), "header: missing destination address");
    CHECK_STR(bad("alert tcp any any -> any (sid:1;)"), "header: missing destination port");
    CHECK_STR(bad("alert tcp any any -> any any"),
              "header: expected '(' after the destination port");
    CHECK_STR(bad("alert tcp any any -> any any any (sid:1;)"),
              "header: expected '(' after the destination port");
    CHECK_STR(bad("alert tcp any any -> any any (sid:1;"), "header: rule does not end with ')'");
    CHECK_STR(bad("alert tcp any any -> any any (sid:1;) x"), "header: rule does not end with ')'");
    CHECK_STR(bad("alert tcp 300.1.1.1 any -> any any (sid:1;)"),
              "header: invalid address '300.1.1.1'");
    CHECK_STR(bad("alert tcp any 70000 -> any any (sid:1;)"), "header: invalid port '70000'");
    CHECK_STR(bad("alert tcp any any -> $NOPE any (sid:1;)"), "header: unknown variable $NOPE");
    CHECK_STR(bad("alert tcp any any -> any $NOPE (sid:1;)"), "header: unknown variable $NOPE");
    CHECK_STR(bad("alert tcp [1.2.3.4,!1.2.3.4] any -> any any (sid:1;)"),
              "header: empty address set '[1.2.3.4,!1.2.3.4]'");
    CHECK_STR(bad("alert tcp [1.2.3.4 any -> any any (sid:1;)"),
              "header: unbalanced brackets in the source address");
    CHECK_STR(bad("alert tcp any [80 -> any any (sid:1;)"),
              "header: unbalanced brackets in the source port");
}

TEST(unsupported_codes)
{
    fresh();
    CHECK_INT(ruleset_add_rule(rs, "alert smb any any -> any any (sid:1;)", "f", 1),
              KANSHI_EUNSUPPORTED);
    CHECK_INT(ruleset_add_rule(rs, H "(tag:session,10,seconds; sid:1;)", "f", 2),
              KANSHI_EUNSUPPORTED);
    CHECK_STR(ec.msg, "tag: unsupported keyword");
    CHECK_INT(ruleset_add_rule(rs, H "(sid:1; Stream_size:server,>,1;)", "f", 3),
              KANSHI_EUNSUPPORTED);
    CHECK_STR(ec.msg, "Stream_size: unsupported keyword");
    CHECK_INT(ruleset_add_rule(rs, H "(sid:x;)", "f", 4), KANSHI_EPARSE);
    CHECK_INT(rs->nerrors, 4);
    CHECK_INT(rs->nrules, 0);
    CHECK_INT(ec.n, 4);
    /* errors without a callback are only counted */
    struct ruleset *quiet = NULL;
    CHECK_INT(ruleset_create(&quiet, NULL, NULL, NULL), 0);
    CHECK_INT(ruleset_add_rule(quiet, H "(sid:x;)", NULL, 1), KANSHI_EPARSE);
    CHECK_INT(ruleset_add_rule(quiet, H "(sid:1;)", NULL, 2), 0);
    CHECK_INT(quiet->nerrors, 1);
    CHECK_STR(quiet->rules[0]->file, "-");
    ruleset_destroy(quiet);
    ruleset_destroy(NULL);
}

TEST(identity_keywords)
{
    const struct rule *r =
        one(H "(msg:\"a \\\"q\\\" \\; b\\\\c \\: d \\x\"; sid:2000001; rev:12; gid:3;)");
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_STR(r->msg, "a \"q\" ; b\\c : d \\x");
        CHECK_INT(r->sid, 2000001);
        CHECK_INT(r->rev, 12);
        CHECK_INT(r->gid, 3);
    }
    r = one(H "(sid:4294967295; rev:0; gid:0;)");
    CHECK(r != NULL && r->sid == 4294967295u && r->gid == 0);

    CHECK_STR(bad(H "(msg:noquotes; sid:1;)"), "msg: value must be a quoted string");
    CHECK_STR(bad(H "(msg:\"x; sid:1;)"), "msg: value must be a quoted string");
    CHECK_STR(bad(H "(sid:0;)"), "sid: invalid value '0' (expected 1..4294967295)");
    CHECK_STR(bad(H "(sid:4294967296;)"),
              "sid: invalid value '4294967296' (expected 1..4294967295)");
    CHECK_STR(bad(H "(sid:-1;)"), "sid: invalid value '-1' (expected 1..4294967295)");
    CHECK_STR(bad(H "(sid:12a;)"), "sid: invalid value '12a' (expected 1..4294967295)");
    CHECK_STR(bad(H "(sid:1; rev:x;)"), "rev: invalid value 'x' (expected 0..4294967295)");
    CHECK_STR(bad(H "(sid:1; gid:;)"), "gid: missing value");
    CHECK_STR(bad(H "(msg:\"a\";)"), "sid: rule has no sid");
    CHECK_STR(bad(H "()"), "sid: rule has no sid");
    CHECK_STR(bad(H "(sid:1; sid:2;)"), "sid: duplicated keyword");
    CHECK_STR(bad(H "(msg:\"a\"; msg:\"b\"; sid:1;)"), "msg: duplicated keyword");
    CHECK_STR(bad(H "(sid;)"), "sid: missing value");
}

TEST(classtype_priority)
{
    const struct rule *r = one(H "(classtype:trojan-activity; sid:1;)");
    CHECK(r != NULL && r->priority == 1);
    CHECK(r != NULL && r->classtype != NULL && strcmp(r->classtype, "trojan-activity") == 0);
    r = one(H "(classtype:tcp-connection; sid:1;)");
    CHECK(r != NULL && r->priority == 4);
    r = one(H "(classtype:misc-activity; sid:1;)");
    CHECK(r != NULL && r->priority == 3);
    /* priority: wins over the classtype whatever the order */
    r = one(H "(priority:2; classtype:trojan-activity; sid:1;)");
    CHECK(r != NULL && r->priority == 2);
    r = one(H "(classtype:trojan-activity; priority:4; sid:1;)");
    CHECK(r != NULL && r->priority == 4);
    r = one(H "(sid:1; priority:1;)");
    CHECK(r != NULL && r->priority == 1);

    CHECK_STR(bad(H "(classtype:no-such-class; sid:1;)"),
              "classtype: unknown classtype 'no-such-class'");
    CHECK_STR(bad(H "(priority:0; sid:1;)"), "priority: invalid value '0' (expected 1..255)");
    CHECK_STR(bad(H "(priority:high; sid:1;)"), "priority: invalid value 'high' (expected 1..255)");
    CHECK_STR(bad(H "(classtype:unknown; classtype:unknown; sid:1;)"),
              "classtype: duplicated keyword");

    /* the built-in table */
    fresh();
    static const struct {
        const char *name;
        int prio;
    } cl[] = {
        {"not-suspicious", 3},         {"unknown", 3},          {"bad-unknown", 2},
        {"attempted-recon", 2},        {"attempted-admin", 1},  {"shellcode-detect", 1},
        {"web-application-attack", 1}, {"policy-violation", 1}, {"icmp-event", 3},
        {"command-and-control", 1},    {"coin-mining", 2},      {"social-engineering", 2},
        {"credential-theft", 1},       {"exploit-kit", 1},      {"domain-c2", 1},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cl); i++) {
        const struct rule_class *c = ruleset_find_class(rs, cl[i].name);
        CHECK(c != NULL && c->priority == cl[i].prio && c->description[0] != '\0');
    }
    CHECK(ruleset_find_class(rs, "TROJAN-ACTIVITY") != NULL);
    CHECK(ruleset_find_class(rs, "nope") == NULL);
    CHECK(rs->nclasses >= 43);
}

TEST(metadata_reference_target)
{
    const struct rule *r = one(H "(metadata: created_at 2010_09_23, updated_at 2019_07_26; "
                                 "reference:url,example.com/a; reference:cve,2020-1234; "
                                 "metadata:policy balanced; target:src_ip; sid:1;)");
    CHECK(r != NULL);
    if (r != NULL)
        CHECK_STR(r->metadata, "created_at 2010_09_23, updated_at 2019_07_26, policy balanced");
    r = one(H "(target:dest_ip; sid:1;)");
    CHECK(r != NULL);
    CHECK_STR(bad(H "(target:server; sid:1;)"),
              "target: invalid value 'server' (expected src_ip or dest_ip)");
    CHECK_STR(bad(H "(reference; sid:1;)"), "reference: missing value");
}

TEST(content_values)
{
    const struct rule *r = one(H "(content:\"GET \"; content:\"|0d 0a|Host|3a|\"; "
                                 "content:!\"a\\\"b\\;c\\\\d\\:e\"; content:\"|4142|C| 44 |\"; "
                                 "content: ! \"x\"; sid:1;)");
    const struct rule_content *c;

    CHECK(r != NULL && r->nmatches == 5);
    if (r == NULL || r->nmatches != 5)
        return;
    c = content(r, 0);
    CHECK(c->len == 4 && memcmp(c->pat, "GET ", 4) == 0 && c->flags == 0);
    CHECK_INT(r->matches[0].buffer, RULE_BUF_PAYLOAD);
    c = content(r, 1);
    CHECK(c->len == 7 && memcmp(c->pat, "\r\nHost:", 7) == 0);
    c = content(r, 2);
    CHECK(c->len == 9 && memcmp(c->pat, "a\"b;c\\d:e", 9) == 0);
    CHECK_INT(c->flags, CONTENT_NEGATED);
    c = content(r, 3);
    CHECK(c->len == 4 && memcmp(c->pat, "ABCD", 4) == 0);
    c = content(r, 4);
    CHECK(c->len == 1 && c->pat[0] == 'x' && c->flags == CONTENT_NEGATED);

    r = one(H "(content:\"|00 ff FF 7f|\"; sid:1;)");
    c = content(r, 0);
    CHECK(c != NULL && c->len == 4 && memcmp(c->pat, "\x00\xff\xff\x7f", 4) == 0);

    CHECK_STR(bad(H "(content:\"|41 4\"; sid:1;)"), "content: unterminated hex escape");
    CHECK_STR(bad(H "(content:\"|41 4|\"; sid:1;)"), "content: odd number of hex digits");
    CHECK_STR(bad(H "(content:\"|4 1 4|\"; sid:1;)"), "content: odd number of hex digits");
    CHECK_STR(bad(H "(content:\"|4g|\"; sid:1;)"), "content: invalid hex character 'g'");
    CHECK_STR(bad(H "(content:\"\"; sid:1;)"), "content: empty content");
    CHECK_STR(bad(H "(content:\"||\"; sid:1;)"), "content: empty content");
    CHECK_STR(bad(H "(content:abc; sid:1;)"), "content: value must be a quoted string");
    CHECK_STR(bad(H "(content:\"abc; sid:1;)"), "content: value must be a quoted string");
    CHECK_STR(bad(H "(content:\"a\\nb\"; sid:1;)"), "content: invalid escape '\\n'");
    CHECK_STR(bad(H "(content:\"a\"b\"; sid:1;)"), "content: unescaped '\"' inside content");
    CHECK_STR(bad(H "(content:\"ab\\\"; sid:1;)"), "content: trailing backslash");
    CHECK_STR(bad(H "(content:; sid:1;)"), "content: missing value");
    /* ';' ends the option even inside quotes, as in Suricata */
    CHECK_STR(bad(H "(content:\"a;b\"; sid:1;)"), "content: value must be a quoted string");
}

TEST(content_modifiers)
{
    const struct rule *r = one(H "(content:\"abc\"; nocase; offset:3; depth:10; rawbytes; "
                                 "content:\"de\"; distance:-2; within:5; endswith; "
                                 "content:\"xyz\"; startswith; fast_pattern; sid:1;)");
    const struct rule_content *c;

    CHECK(r != NULL && r->nmatches == 3);
    if (r == NULL || r->nmatches != 3)
        return;
    c = content(r, 0);
    CHECK_INT(c->flags, CONTENT_NOCASE | CONTENT_OFFSET | CONTENT_DEPTH | CONTENT_RAWBYTES);
    CHECK_INT(c->offset, 3);
    CHECK_INT(c->depth, 10);
    c = content(r, 1);
    CHECK_INT(c->flags, CONTENT_DISTANCE | CONTENT_WITHIN | CONTENT_ENDSWITH);
    CHECK_INT(c->distance, -2);
    CHECK_INT(c->within, 5);
    c = content(r, 2);
    CHECK(c->flags & CONTENT_STARTSWITH);
    CHECK(c->flags & CONTENT_FAST_PATTERN);
    CHECK_INT(c->depth, 3);
    CHECK_INT(c->offset, 0);

    r = one(H "(content:\"abc\"; depth:3; offset:0; sid:1;)");
    CHECK(r != NULL && content(r, 0)->depth == 3);
    r = one(H "(content:\"abc\"; within:65535; distance:65535; sid:1;)");
    CHECK(r != NULL && content(r, 0)->within == 65535 && content(r, 0)->distance == 65535);
    r = one(H "(content:\"a\"; distance:0; sid:1;)"); /* relative to the buffer start */
    CHECK(r != NULL && (content(r, 0)->flags & CONTENT_DISTANCE));

    CHECK_STR(bad(H "(nocase; content:\"a\"; sid:1;)"), "nocase: no preceding content");
    CHECK_STR(bad(H "(depth:4; sid:1;)"), "depth: no preceding content");
    CHECK_STR(bad(H "(offset:4; sid:1;)"), "offset: no preceding content");
    CHECK_STR(bad(H "(distance:4; sid:1;)"), "distance: no preceding content");
    CHECK_STR(bad(H "(within:4; sid:1;)"), "within: no preceding content");
    CHECK_STR(bad(H "(startswith; sid:1;)"), "startswith: no preceding content");
    CHECK_STR(bad(H "(endswith; sid:1;)"), "endswith: no preceding content");
    CHECK_STR(bad(H "(rawbytes; sid:1;)"), "rawbytes: no preceding content");
    CHECK_STR(bad(H "(fast_pattern; sid:1;)"), "fast_pattern: no preceding content");
    CHECK_STR(bad(H "(content:\"a\"; nocase; nocase; sid:1;)"),
              "nocase: given twice for the same content");
    CHECK_STR(bad(H "(content:\"a\"; nocase:1; sid:1;)"), "nocase: takes no value");
    CHECK_STR(bad(H "(content:\"abc\"; depth:0; sid:1;)"), "depth: depth 0 is invalid");
    CHECK_STR(bad(H "(content:\"abc\"; depth:2; sid:1;)"),
              "depth: depth 2 is less than the content length 3");
    CHECK_STR(bad(H "(content:\"abc\"; within:2; sid:1;)"),
              "within: within 2 is less than the content length 3");
    CHECK_STR(bad(H "(content:\"abc\"; depth:5; depth:6; sid:1;)"),
              "depth: given twice for the same content");
    CHECK_STR(bad(H "(content:\"abc\"; depth:5; within:6; sid:1;)"),
              "within: offset/depth can't be mixed with distance/within on the same content");
    CHECK_STR(bad(H "(content:\"abc\"; distance:1; offset:6; sid:1;)"),
              "offset: offset/depth can't be mixed with distance/within on the same content");
    CHECK_STR(bad(H "(content:\"abc\"; startswith; depth:5; sid:1;)"),
              "depth: can't be mixed with startswith");
    CHECK_STR(bad(H "(content:\"abc\"; startswith; offset:0; sid:1;)"),
              "offset: can't be mixed with startswith");
    CHECK_STR(bad(H "(content:\"abc\"; within:5; startswith; sid:1;)"),
              "startswith: can't be mixed with offset, depth, distance or within");
    CHECK_STR(bad(H "(content:\"abc\"; offset:-1; sid:1;)"),
              "offset: invalid value '-1' (expected 0..65535)");
    CHECK_STR(bad(H "(content:\"abc\"; offset:65536; sid:1;)"),
              "offset: invalid value '65536' (expected 0..65535)");
    CHECK_STR(bad(H "(content:\"abc\"; distance:-65536; sid:1;)"),
              "distance: invalid value '-65536' (expected -65535..65535)");
    CHECK_STR(bad(H "(content:\"abc\"; within:x; sid:1;)"),
              "within: unknown byte_extract variable 'x'");
    CHECK_STR(bad(H "(content:\"abc\"; within:-1; sid:1;)"),
              "within: invalid value '-1' (expected 0..65535)");
    CHECK_STR(bad(H "(content:\"abc\"; depth:; sid:1;)"), "depth: missing value");
}

TEST(fast_pattern)
{
    const struct rule *r = one(H "(content:\"abcdef\"; fast_pattern:only; sid:1;)");
    CHECK(r != NULL && content(r, 0)->flags == (CONTENT_FAST_PATTERN | CONTENT_FAST_PATTERN_ONLY));
    r = one(H "(content:\"abcdef\"; fast_pattern:2,4; content:\"x\"; sid:1;)");
    CHECK(r != NULL && content(r, 0)->flags == (CONTENT_FAST_PATTERN | CONTENT_FAST_PATTERN_CHOP));
    CHECK(r != NULL && content(r, 0)->fp_offset == 2 && content(r, 0)->fp_len == 4);
    CHECK(r != NULL && content(r, 1)->flags == 0);
    r = one(H "(content:\"abcdef\"; fast_pattern: 0 , 6 ; sid:1;)");
    CHECK(r != NULL && content(r, 0)->fp_len == 6);
    /* plain fast_pattern on negated content without positions is allowed */
    r = one(H "(content:!\"abc\"; fast_pattern; sid:1;)");
    CHECK(r != NULL);

    CHECK_STR(bad(H "(content:\"abcdef\"; fast_pattern:3,4; sid:1;)"),
              "fast_pattern: offset 3 + length 4 exceeds the content length 6");
    CHECK_STR(bad(H "(content:\"abcdef\"; fast_pattern:1,0; sid:1;)"),
              "fast_pattern: invalid offset,length '1,0'");
    CHECK_STR(bad(H "(content:\"abcdef\"; fast_pattern:foo; sid:1;)"),
              "fast_pattern: invalid argument 'foo' (expected only or offset,length)");
    CHECK_STR(bad(H "(content:\"a\"; fast_pattern; content:\"b\"; fast_pattern; sid:1;)"),
              "fast_pattern: can be used on only one content in a rule");
    CHECK_STR(bad(H "(content:!\"abc\"; fast_pattern:only; sid:1;)"),
              "fast_pattern: only and offset,length can't be used on negated content");
    CHECK_STR(bad(H "(content:!\"abc\"; fast_pattern; depth:5; sid:1;)"),
              "fast_pattern: can't be used on negated content with offset, depth, distance "
              "or within");
    CHECK_STR(bad(H "(content:\"abc\"; fast_pattern:only; depth:5; sid:1;)"),
              "fast_pattern: only can't be used with offset, depth, distance or within");
    CHECK_STR(bad(H "(content:\"abc\"; depth:5; fast_pattern:only; sid:1;)"),
              "fast_pattern: only can't be used with offset, depth, distance or within");
    CHECK_STR(bad(H "(content:\"abc\"; fast_pattern:only; content:\"d\"; distance:0; sid:1;)"),
              "fast_pattern: only can't be used on a content a relative content follows");
    CHECK_STR(bad(H "(content:\"abc\"; fast_pattern:; sid:1;)"), "fast_pattern: empty value");
}

TEST(flow_keyword)
{
    static const struct {
        const char *v;
        uint32_t bits;
    } ok[] = {
        {"established", RULE_FLOW_ESTABLISHED},
        {"not_established", RULE_FLOW_NOT_ESTABLISHED},
        {"stateless", RULE_FLOW_STATELESS},
        {"to_server", RULE_FLOW_TOSERVER},
        {"from_client", RULE_FLOW_TOSERVER},
        {"to_client", RULE_FLOW_TOCLIENT},
        {"from_server", RULE_FLOW_TOCLIENT},
        {"only_stream", RULE_FLOW_ONLY_STREAM},
        {"no_stream", RULE_FLOW_NO_STREAM},
        {"established, to_server", RULE_FLOW_ESTABLISHED | RULE_FLOW_TOSERVER},
        {"to_client,established,no_stream",
         RULE_FLOW_TOCLIENT | RULE_FLOW_ESTABLISHED | RULE_FLOW_NO_STREAM},
        {"stateless,to_server", RULE_FLOW_STATELESS | RULE_FLOW_TOSERVER},
        {"Established", RULE_FLOW_ESTABLISHED},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ok); i++) {
        char text[256];
        snprintf(text, sizeof(text), H "(flow:%s; sid:1;)", ok[i].v);
        const struct rule *r = one(text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->flow, ok[i].bits);
            CHECK_INT(r->has, RULE_HAS_FLOW);
        }
    }
    CHECK_STR(bad(H "(flow:to_server,to_client; sid:1;)"),
              "flow: 'to_client' conflicts with 'to_server'");
    CHECK_STR(bad(H "(flow:from_server,from_client; sid:1;)"),
              "flow: 'from_client' conflicts with 'from_server'");
    CHECK_STR(bad(H "(flow:established,not_established; sid:1;)"),
              "flow: 'not_established' conflicts with 'established'");
    CHECK_STR(bad(H "(flow:stateless,established; sid:1;)"),
              "flow: 'established' conflicts with 'stateless'");
    CHECK_STR(bad(H "(flow:only_stream,no_stream; sid:1;)"),
              "flow: 'no_stream' conflicts with 'only_stream'");
    CHECK_STR(bad(H "(flow:to_server,from_client; sid:1;)"),
              "flow: 'from_client' repeats 'to_server'");
    CHECK_STR(bad(H "(flow:established,,to_server; sid:1;)"), "flow: empty option");
    CHECK_STR(bad(H "(flow:established,; sid:1;)"), "flow: empty option");
    CHECK_STR(bad(H "(flow:sideways; sid:1;)"), "flow: invalid option 'sideways'");
    CHECK_STR(bad(H "(flow:established; flow:to_server; sid:1;)"), "flow: duplicated keyword");
    CHECK_STR(bad(H "(flow; sid:1;)"), "flow: missing value");
}

TEST(numeric_keywords)
{
    static const struct {
        const char *v;
        enum rule_num_op op;
        uint64_t a, b;
    } ok[] = {
        {"8", NUM_EQ, 8, 0},         {"<15", NUM_LT, 15, 0},     {">7", NUM_GT, 7, 0},
        {"<=3", NUM_LE, 3, 0},       {">=3", NUM_GE, 3, 0},      {"!5", NUM_NE, 5, 0},
        {"7<>20", NUM_RANGE, 7, 20}, {"7-20", NUM_RANGE, 7, 20}, {" 1 <> 3 ", NUM_RANGE, 1, 3},
        {"< 9", NUM_LT, 9, 0},       {"=4", NUM_EQ, 4, 0},       {"0", NUM_EQ, 0, 0},
        {"255", NUM_EQ, 255, 0},
    };
    static const struct {
        const char *kw;
        size_t off;
        uint32_t has;
    } kws[] = {
        {"dsize", offsetof(struct rule, dsize), RULE_HAS_DSIZE},
        {"ttl", offsetof(struct rule, ttl), RULE_HAS_TTL},
        {"itype", offsetof(struct rule, itype), RULE_HAS_ITYPE},
        {"icode", offsetof(struct rule, icode), RULE_HAS_ICODE},
    };
    for (size_t k = 0; k < KANSHI_ARRAY_LEN(kws); k++) {
        for (size_t i = 0; i < KANSHI_ARRAY_LEN(ok); i++) {
            char text[256];
            snprintf(text, sizeof(text), H "(%s:%s; sid:1;)", kws[k].kw, ok[i].v);
            const struct rule *r = one(text);
            CHECK(r != NULL);
            if (r == NULL)
                continue;
            const struct rule_num *n = (const void *)((const char *)r + kws[k].off);
            CHECK_INT(n->op, ok[i].op);
            CHECK_INT(n->a, ok[i].a);
            CHECK_INT(n->b, ok[i].b);
            CHECK_INT(r->has, kws[k].has);
        }
    }
    const struct rule *r = one(H "(dsize:65535; sid:1;)");
    CHECK(r != NULL && r->dsize.a == 65535);
    CHECK_STR(bad(H "(dsize:65536; sid:1;)"), "dsize: invalid value '65536' (expected 0..65535)");
    CHECK_STR(bad(H "(ttl:256; sid:1;)"), "ttl: invalid value '256' (expected 0..255)");
    CHECK_STR(bad(H "(itype:20<>7; sid:1;)"),
              "itype: invalid range '20<>7': the first bound must be below the second");
    CHECK_STR(bad(H "(icode:5-5; sid:1;)"),
              "icode: invalid range '5-5': the first bound must be below the second");
    CHECK_STR(bad(H "(icode:5-; sid:1;)"), "icode: invalid range '5-' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:<0; sid:1;)"), "ttl: '<0' can never match");
    CHECK_STR(bad(H "(ttl:>255; sid:1;)"), "ttl: '>255' can never match");
    CHECK_STR(bad(H "(ttl:abc; sid:1;)"), "ttl: invalid value 'abc' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:-3; sid:1;)"), "ttl: invalid value '-3' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:3 4; sid:1;)"), "ttl: invalid value '3 4'");
    CHECK_STR(bad(H "(ttl:<>4; sid:1;)"), "ttl: invalid value '<>4' (expected 0..255)");
    CHECK_STR(bad(H "(dsize:>1; dsize:<9; sid:1;)"), "dsize: duplicated keyword");
    CHECK_STR(bad(H "(dsize:99999999999999999999999; sid:1;)"),
              "dsize: invalid value '99999999999999999999999' (expected 0..65535)");
}

TEST(num_match)
{
    struct rule_num n = {NUM_EQ, 5, 0};
    CHECK(rule_num_match(&n, 5) && !rule_num_match(&n, 4) && !rule_num_match(&n, 6));
    n.op = NUM_NE;
    CHECK(!rule_num_match(&n, 5) && rule_num_match(&n, 4));
    n.op = NUM_LT;
    CHECK(rule_num_match(&n, 4) && !rule_num_match(&n, 5));
    n.op = NUM_LE;
    CHECK(rule_num_match(&n, 5) && !rule_num_match(&n, 6));
    n.op = NUM_GT;
    CHECK(rule_num_match(&n, 6) && !rule_num_match(&n, 5));
    n.op = NUM_GE;
    CHECK(rule_num_match(&n, 5) && !rule_num_match(&n, 4));
    n = (struct rule_num){NUM_RANGE, 7, 10};
    CHECK(!rule_num_match(&n, 7) && rule_num_match(&n, 8) && rule_num_match(&n, 9) &&
          !rule_num_match(&n, 10));
}

/* Is protocol x in what r's ip_proto keywords accept together? */
static bool proto_in(const struct rule *r, unsigned x)
{
    return (r->ip_proto_set[x >> 3] & (1u << (x & 7))) != 0;
}

TEST(ip_proto_keyword)
{
    static const struct {
        const char *v;
        uint8_t num;
        enum rule_num_op op;
    } ok[] = {
        {"6", 6, NUM_EQ},          {"tcp", 6, NUM_EQ},    {"UDP", 17, NUM_EQ},  {"icmp", 1, NUM_EQ},
        {"ipv6-icmp", 58, NUM_EQ}, {"gre", 47, NUM_EQ},   {"esp", 50, NUM_EQ},  {"!17", 17, NUM_NE},
        {"<10", 10, NUM_LT},       {">134", 134, NUM_GT}, {"! tcp", 6, NUM_NE}, {"0", 0, NUM_EQ},
        {"255", 255, NUM_EQ},      {"sctp", 132, NUM_EQ},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ok); i++) {
        char text[128];
        snprintf(text, sizeof(text), "alert ip any any -> any any (ip_proto:%s; sid:1;)", ok[i].v);
        const struct rule *r = one(text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->ip_proto, ok[i].num);
            CHECK_INT(r->ip_proto_op, ok[i].op);
            CHECK_INT(r->has, RULE_HAS_IP_PROTO);
        }
    }
    CHECK_STR(bad(H "(ip_proto:256; sid:1;)"),
              "ip_proto: invalid protocol '256' (expected 0..255 or a name)");
    CHECK_STR(bad(H "(ip_proto:bogus; sid:1;)"), "ip_proto: unknown protocol 'bogus'");
    CHECK_STR(bad(H "(ip_proto:<0; sid:1;)"), "ip_proto: '<0' can never match");
    CHECK_STR(bad(H "(ip_proto:>255; sid:1;)"), "ip_proto: '>255' can never match");
    /* one keyword: the accepted set is exactly what the operator says */
    const struct rule *r = one("alert ip any any -> any any (ip_proto:<10; sid:1;)");
    CHECK(r != NULL);
    for (unsigned x = 0; r != NULL && x < 256; x++)
        CHECK_INT(proto_in(r, x), x < 10);
}

/* Alerts of one rule, as its own engine, on an IPv4 packet of protocol proto
 * from 192.0.2.1 to 10.0.0.1; -1 when the rule or the engine fails. */
static void count_alert(void *arg, const struct packet *p, const struct rule *r)
{
    (void)p;
    (void)r;
    (*(int *)arg)++;
}

static int fires_on_proto(const char *text, uint8_t proto)
{
    struct ruleset *set;
    struct detect_engine *de;
    struct detect_thread *dt;
    struct packet p;
    char err[256];
    int n = -1;

    if (ruleset_create(&set, NULL, NULL, NULL) != 0)
        return -1;
    if (ruleset_add_rule(set, text, "t.rules", 1) == 0 && ruleset_finalize(set) == 0 &&
        detect_engine_create(&de, set, err, sizeof(err)) == 0) {
        if (detect_thread_create(&dt, de) == 0) {
            memset(&p, 0, sizeof(p));
            p.flags = PKT_IPV4;
            p.src.family = p.dst.family = AF_INET;
            inet_pton(AF_INET, "192.0.2.1", p.src.a); /* $EXTERNAL_NET */
            inet_pton(AF_INET, "10.0.0.1", p.dst.a);  /* $HOME_NET */
            p.ip_proto = proto;
            p.ttl = 64;
            n = 0;
            detect_packet(dt, de, &p, count_alert, &n);
            detect_thread_destroy(dt);
        }
        detect_engine_destroy(de);
    }
    ruleset_destroy(set);
    return n;
}

/* Several ip_proto keywords must all hold, as in Suricata; ET's "GPL POLICY
 * TRAFFIC Non-Standard IP protocol" (sid 2101620) is eight of them. */
#define GPL_NONSTD                                                                              \
    "alert ip $EXTERNAL_NET any -> $HOME_NET any (msg:\"GPL POLICY TRAFFIC Non-Standard IP "    \
    "protocol\"; ip_proto:!1; ip_proto:!2; ip_proto:!47; ip_proto:!50; ip_proto:!51; "          \
    "ip_proto:!6; ip_proto:!89; ip_proto:!17; classtype:non-standard-protocol; sid:2101620; "   \
    "rev:7;)"

TEST(ip_proto_repeated)
{
    static const uint8_t std[] = {1, 2, 6, 17, 47, 50, 51, 89};
    const struct rule *r = one(GPL_NONSTD);

    CHECK(r != NULL);
    if (r != NULL) {
        /* the first keyword stays in ip_proto / ip_proto_op */
        CHECK_INT(r->ip_proto, 1);
        CHECK_INT(r->ip_proto_op, NUM_NE);
        CHECK_INT(r->has, RULE_HAS_IP_PROTO);
        for (unsigned x = 0; x < 256; x++)
            CHECK_INT(proto_in(r, x), memchr(std, (int)x, sizeof(std)) == NULL);
    }
    /* a range from '>' and '<', holes from '!' */
    r = one("alert ip any any -> any any (ip_proto:>5; ip_proto:<10; ip_proto:!7; sid:1;)");
    CHECK(r != NULL);
    for (unsigned x = 0; r != NULL && x < 256; x++)
        CHECK_INT(proto_in(r, x), x > 5 && x < 10 && x != 7);
    r = one("alert ip any any -> any any (ip_proto:!tcp; ip_proto:>3; sid:1;)");
    CHECK(r != NULL && !proto_in(r, 3) && proto_in(r, 4) && !proto_in(r, 6) && proto_in(r, 255));
    /* what Suricata refuses */
    CHECK_STR(bad(H "(ip_proto:6; ip_proto:17; sid:1;)"),
              "ip_proto: an exact protocol can't be combined with another ip_proto");
    CHECK_STR(bad(H "(ip_proto:!6; ip_proto:17; sid:1;)"),
              "ip_proto: an exact protocol can't be combined with another ip_proto");
    CHECK_STR(bad(H "(ip_proto:6; ip_proto:!17; sid:1;)"),
              "ip_proto: an exact protocol can't be combined with another ip_proto");
    CHECK_STR(bad(H "(ip_proto:>5; ip_proto:>6; sid:1;)"),
              "ip_proto: only one ip_proto with '>' in a rule");
    CHECK_STR(bad(H "(ip_proto:<5; ip_proto:!2; ip_proto:<6; sid:1;)"),
              "ip_proto: only one ip_proto with '<' in a rule");
    CHECK_STR(bad(H "(ip_proto:>34; ip_proto:<14; sid:1;)"),
              "ip_proto: '<14' with the ip_proto before it can never match");
    CHECK_STR(bad(H "(ip_proto:>9; ip_proto:<10; sid:1;)"),
              "ip_proto: '<10' with the ip_proto before it can never match");
    CHECK_STR(bad(H "(ip_proto:<2; ip_proto:!0; ip_proto:!1; sid:1;)"),
              "ip_proto: '!1' with the ip_proto before it can never match");
}

TEST(ip_proto_repeated_matches)
{
    /* the sensor tests the set: GRE and the others are standard, 99 is not */
    CHECK_INT(fires_on_proto(GPL_NONSTD, 99), 1);
    CHECK_INT(fires_on_proto(GPL_NONSTD, 132), 1);
    CHECK_INT(fires_on_proto(GPL_NONSTD, 47), 0);
    CHECK_INT(fires_on_proto(GPL_NONSTD, 17), 0);
    CHECK_INT(fires_on_proto(GPL_NONSTD, 1), 0);
    /* one keyword, each operator */
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:47; sid:1;)", 47), 1);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:47; sid:1;)", 46), 0);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:>50; sid:1;)", 51), 1);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:>50; sid:1;)", 50), 0);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:<50; sid:1;)", 49), 1);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:<50; sid:1;)", 50), 0);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:!50; sid:1;)", 50), 0);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:!50; sid:1;)", 51), 1);
    /* a window from two keywords */
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:>40; ip_proto:<50; sid:1;)",
                             45),
              1);
    CHECK_INT(fires_on_proto("alert ip any any -> any any (ip_proto:>40; ip_proto:<50; sid:1;)",
                             50),
              0);
}

TEST(flags_keyword)
{
    static const struct {
        const char *v;
        uint8_t flags, ignore;
        enum rule_flags_mod mod;
    } ok[] = {
        {"SA", TH_SYN | TH_ACK, 0, FLAGS_EXACT},
        {"S,12", TH_SYN, TH_CWR | TH_ECE, FLAGS_EXACT},
        {" S,12", TH_SYN, TH_CWR | TH_ECE, FLAGS_EXACT},
        {"S,CE", TH_SYN, TH_CWR | TH_ECE, FLAGS_EXACT},
        {"+S", TH_SYN, 0, FLAGS_PLUS},
        {"SUF+", TH_SYN | TH_URG | TH_FIN, 0, FLAGS_PLUS},
        {"RSF*", TH_RST | TH_SYN | TH_FIN, 0, FLAGS_ANY},
        {"*SA", TH_SYN | TH_ACK, 0, FLAGS_ANY},
        {"!R", TH_RST, 0, FLAGS_NOT},
        {"0", 0, 0, FLAGS_EXACT},
        {"FSRPAUCE", 0xff, 0, FLAGS_EXACT},
        {"SF12", TH_SYN | TH_FIN | TH_CWR | TH_ECE, 0, FLAGS_EXACT},
        {"sa", TH_SYN | TH_ACK, 0, FLAGS_EXACT},
        {"A,U", TH_ACK, TH_URG, FLAGS_EXACT},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ok); i++) {
        char text[128];
        snprintf(text, sizeof(text), H "(flags:%s; sid:1;)", ok[i].v);
        const struct rule *r = one(text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->tcp_flags.flags, ok[i].flags);
            CHECK_INT(r->tcp_flags.ignore, ok[i].ignore);
            CHECK_INT(r->tcp_flags.mod, ok[i].mod);
            CHECK_INT(r->has, RULE_HAS_FLAGS);
        }
    }
    CHECK_STR(bad(H "(flags:SX; sid:1;)"), "flags: invalid flag 'X'");
    CHECK_STR(bad(H "(flags:+*S; sid:1;)"), "flags: more than one modifier in '+*S'");
    CHECK_STR(bad(H "(flags:+; sid:1;)"), "flags: no flags given");
    CHECK_STR(bad(H "(flags:,12; sid:1;)"), "flags: no flags given");
    CHECK_STR(bad(H "(flags:S,; sid:1;)"), "flags: empty ignore mask");
    CHECK_STR(bad(H "(flags:S,9; sid:1;)"), "flags: invalid flag '9' in the ignore mask");
    CHECK_STR(bad(H "(flags:S; flags:A; sid:1;)"), "flags: duplicated keyword");
}

TEST(option_syntax)
{
    CHECK_STR(bad(H "(sid:1; bogus_kw; )"), "bogus_kw: unsupported keyword");
    CHECK_STR(bad(H "(sid:1; xbits:set,a,track ip_src;)"), "xbits: unsupported keyword");
    CHECK_STR(bad(H "(sid:1)"), "sid: missing ';' after the value");
    CHECK_STR(bad(H "(sid:1; nocase)"), "nocase: missing ';'");
    CHECK_STR(bad(H "(sid:1; ;)"), "options: empty keyword");
    CHECK_STR(bad(H "(sid:1; :x;)"), "options: empty keyword");
    CHECK_STR(bad(H "(sid:1; content :\"a\" ; nocase ;)"), "(rule loaded)");
    char kw[200];
    memset(kw, 'k', 100);
    strcpy(kw + 100, ";");
    char text[300];
    snprintf(text, sizeof(text), H "(sid:1; %s)", kw);
    CHECK_CONTAINS(bad(text), "keyword too long");

    /* a rule past the 64 KiB bound */
    size_t n = 70 * 1024;
    char *big = malloc(n + 64);
    strcpy(big, H "(sid:1; msg:\"");
    size_t l = strlen(big);
    memset(big + l, 'a', n);
    strcpy(big + l + n, "\";)");
    CHECK_STR(bad(big), "header: rule longer than 65536 bytes");
    free(big);
}

TEST(duplicate_sid)
{
    fresh();
    CHECK_INT(ruleset_add_rule(rs, H "(sid:10;)", "a.rules", 1), 0);
    CHECK_INT(ruleset_add_rule(rs, H "(sid:10; gid:2;)", "a.rules", 2), 0);
    CHECK_INT(ruleset_add_rule(rs, H "(sid:10; rev:2;)", "b.rules", 5), KANSHI_EPARSE);
    CHECK_STR(ec.msg, "sid: duplicate sid 10 (gid 1), first at a.rules:1");
    CHECK_STR(ec.file, "b.rules");
    CHECK_INT(ec.line, 5);
    CHECK_INT(rs->nrules, 2);
    CHECK_INT(rs->nerrors, 1);
    /* a failed rule does not take its sid */
    CHECK_INT(ruleset_add_rule(rs, H "(sid:11; bogus;)", "a.rules", 3), KANSHI_EUNSUPPORTED);
    CHECK_INT(ruleset_add_rule(rs, H "(sid:11;)", "a.rules", 4), 0);
    /* many rules: the index grows */
    for (unsigned i = 0; i < 5000; i++) {
        char t[128];
        snprintf(t, sizeof(t), H "(sid:%u;)", 100000 + i);
        CHECK_INT(ruleset_add_rule(rs, t, "c.rules", i + 1), 0);
    }
    CHECK_INT(ruleset_add_rule(rs, H "(sid:104999;)", "d.rules", 1), KANSHI_EPARSE);
    CHECK_STR(ec.msg, "sid: duplicate sid 104999 (gid 1), first at c.rules:5000");
    CHECK_INT(rs->nrules, 5003);
}

static const char *tmpdir(void)
{
    static char dir[64];

    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/kanshi_rules_test.XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
    }
    return dir;
}

/* Files and folders made under tmpdir(), removed (in reverse) at the end. */
static char made[16][256];
static int nmade;

static void remember(const char *path)
{
    if (nmade < (int)KANSHI_ARRAY_LEN(made))
        snprintf(made[nmade++], sizeof(made[0]), "%s", path);
}

static void cleanup(void)
{
    while (nmade > 0)
        remove(made[--nmade]);
    if (tmpdir()[0] != '\0')
        rmdir(tmpdir());
}

static const char *write_file(const char *name, const char *content)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir(), name);
    remember(path);
    f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(content, f);
    fclose(f);
    return path;
}

TEST(load_file)
{
    const char *path =
        write_file("one.rules", "# a comment\n"
                                "\n"
                                "   # an indented comment\n"
                                "alert tcp any any -> any any (msg:\"first\"; sid:1;)\n"
                                "alert tcp any any -> any any (msg:\"cont\"; \\\n"
                                "    content:\"abc\"; \\\n"
                                "    sid:2;)\r\n"
                                "alert tcp any any -> any any (sid:3; bogus;)\n"
                                "alert tcp any any -> any any \\\n"
                                "  (sid:4; depth:3;)\n"
                                "#alert tcp any any -> any any (sid:5;)\n"
                                "alert tcp any any -> any any (sid:6;)");
    char p[256];

    snprintf(p, sizeof(p), "%s", path);
    fresh();
    CHECK_INT(ruleset_load_path(rs, p), 3);
    CHECK_INT(rs->nrules, 3);
    CHECK_INT(rs->nerrors, 2);
    CHECK_INT(ec.n, 2);
    CHECK_STR(ec.file, p);
    CHECK_INT(ec.line, 9); /* the first line of the continued rule */
    CHECK_STR(ec.msg, "depth: no preceding content");
    if (rs->nrules == 3) {
        CHECK_INT(rs->rules[0]->line, 4);
        CHECK_INT(rs->rules[1]->sid, 2);
        CHECK_INT(rs->rules[1]->line, 5);
        CHECK_INT(rs->rules[1]->nmatches, 1);
        CHECK_STR(rs->rules[1]->file, p);
        CHECK_INT(rs->rules[2]->sid, 6);
        CHECK_INT(rs->rules[2]->line, 12);
    }

    /* a file ending inside a continuation */
    snprintf(p, sizeof(p), "%s",
             write_file("tail.rules", "alert tcp any any -> any any \\\n"
                                      "(sid:1;)\\\n"));
    fresh();
    CHECK_INT(ruleset_load_path(rs, p), 1);

    /* a rule past the bound in a file is reported and the next one loads */
    size_t n = 70 * 1024;
    char *big = malloc(n + 200);
    strcpy(big, "alert tcp any any -> any any (msg:\"");
    size_t l = strlen(big);
    memset(big + l, 'a', n);
    strcpy(big + l + n, "\\\n\"; sid:1;)\nalert tcp any any -> any any (sid:2;)\n");
    snprintf(p, sizeof(p), "%s", write_file("big.rules", big));
    free(big);
    fresh();
    CHECK_INT(ruleset_load_path(rs, p), 1);
    CHECK_INT(rs->nerrors, 1);
    CHECK_STR(ec.msg, "header: rule longer than 65536 bytes");
    CHECK_INT(ec.line, 1);

    fresh();
    CHECK_INT(ruleset_load_path(rs, "/nonexistent/kanshi.rules"), -ENOENT);
}

TEST(load_directory)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "%s/dir", tmpdir());
    mkdir(dir, 0700);
    remember(dir);
    write_file("dir/b.rules", "alert tcp any any -> any any (sid:20;)\n"
                              "alert tcp any any -> any any (sid:21;)\n");
    write_file("dir/a.rules", "alert tcp any any -> any any (sid:10;)\n"
                              "alert tcp any any -> any any (sid:20;)\n");
    write_file("dir/c.txt", "alert tcp any any -> any any (sid:30;)\n");
    write_file("dir/.hidden.rules", "alert tcp any any -> any any (sid:40;)\n");
    fresh();
    CHECK_INT(ruleset_load_path(rs, dir), 3);
    CHECK_INT(rs->nrules, 3);
    if (rs->nrules == 3) {
        CHECK_INT(rs->rules[0]->sid, 10);
        CHECK_INT(rs->rules[1]->sid, 20);
        CHECK_INT(rs->rules[2]->sid, 21);
        CHECK_CONTAINS(rs->rules[1]->file, "dir/a.rules");
    }
    CHECK_INT(rs->nerrors, 1);
    CHECK_CONTAINS(ec.file, "dir/b.rules");
    CHECK_INT(ec.line, 1);
    CHECK_CONTAINS(ec.msg, "sid: duplicate sid 20 (gid 1), first at ");
    CHECK_CONTAINS(ec.msg, "dir/a.rules:2");
}

TEST(classification_file)
{
    char p[256];

    snprintf(p, sizeof(p), "%s",
             write_file("classification.config",
                        "# comment\n"
                        "config classification: my-class,My own class, with a comma,4\n"
                        "config classification:trojan-activity,Overridden, 2\n"
                        "config classification: broken\n"
                        "config reference: url http://\n"
                        "config classification: bad name,x,1\n"
                        "config classification: other,desc,high\n"
                        "   \n"));
    fresh();
    CHECK_INT(ruleset_load_classification(rs, p), KANSHI_EPARSE);
    CHECK_INT(ec.n, 4);
    CHECK_STR(ec.file, p);
    CHECK_INT(ec.line, 7);
    CHECK_STR(ec.msg, "classification: invalid priority 'high'");
    const struct rule_class *c = ruleset_find_class(rs, "my-class");
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_STR(c->description, "My own class, with a comma");
        CHECK_INT(c->priority, 4);
    }
    c = ruleset_find_class(rs, "trojan-activity");
    CHECK(c != NULL && c->priority == 2 && strcmp(c->description, "Overridden") == 0);
    CHECK(ruleset_find_class(rs, "other") == NULL);
    CHECK_INT(ruleset_add_rule(rs, H "(classtype:my-class; sid:1;)", "x", 1), 0);
    CHECK_INT(ruleset_add_rule(rs, H "(classtype:trojan-activity; sid:2;)", "x", 2), 0);
    if (rs->nrules == 2) {
        CHECK_INT(rs->rules[0]->priority, 4);
        CHECK_INT(rs->rules[1]->priority, 2);
    }
    CHECK_INT(ruleset_load_classification(rs, "/nonexistent/classification.config"), -ENOENT);

    /* the shipped file holds the built-in table, unchanged */
    fresh();
    size_t before = rs->nclasses;
    CHECK_INT(ruleset_load_classification(rs, "signatures/rules/classification.config"), 0);
    CHECK_INT(rs->nclasses, before);
    CHECK_INT(ec.n, 0);
}

TEST(user_vars)
{
    struct rule_vars *v = NULL;
    struct ruleset *r2 = NULL;

    CHECK_INT(rule_vars_create(&v), 0);
    CHECK_INT(rule_vars_set_address(v, "HOME_NET", "10.9.0.0/16"), 0);
    CHECK_INT(rule_vars_set_port(v, "WEB", "[80,8080]"), 0);
    CHECK_INT(ruleset_create(&r2, v, capture, &ec), 0);
    memset(&ec, 0, sizeof(ec));
    CHECK_INT(ruleset_add_rule(r2, "alert tcp any any -> $HOME_NET $WEB (sid:1;)", "v", 1), 0);
    /* no defaults were added to a caller's table */
    CHECK_INT(ruleset_add_rule(r2, "alert tcp $EXTERNAL_NET any -> any any (sid:2;)", "v", 2),
              KANSHI_EPARSE);
    CHECK_STR(ec.msg, "header: unknown variable $EXTERNAL_NET");
    if (r2->nrules == 1) {
        CHECK_INT(r2->rules[0]->dst.n4, 1);
        CHECK_INT(r2->rules[0]->dp.n, 2);
    }
    ruleset_destroy(r2);
}

/* suricata-verify's strict tier: every rule loads. */
TEST(suricata_verify_strict)
{
    static const char *files[] = {
        "peer-tests/suricata-verify/tests/bug-1401-01/1.rules",
        "peer-tests/suricata-verify/tests/bug-1401-04/2.rules",
        "peer-tests/suricata-verify/tests/detect-itype/test.rules",
        "peer-tests/suricata-verify/tests/udp-5379/udp-trailing-data/test.rules",
    };
    static const int counts[] = {1, 1, 4, 1};
    int found = 0;

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(files); i++) {
        const char *path = test_shared_path(files[i]);
        if (path == NULL)
            continue;
        found++;
        fresh();
        CHECK_INT(ruleset_load_path(rs, path), counts[i]);
        CHECK_INT(rs->nerrors, 0);
        if (ec.n > 0)
            fprintf(stderr, "%s:%u: %s\n", ec.file, ec.line, ec.msg);
    }
    if (found == 0)
        SKIP("../shared/peer-tests/suricata-verify not present");
    fresh();
    const char *path = test_shared_path("peer-tests/suricata-verify/tests/detect-itype/test.rules");
    if (path != NULL && ruleset_load_path(rs, path) == 4) {
        CHECK_INT(rs->rules[3]->itype.op, NUM_RANGE);
        CHECK_INT(rs->rules[3]->itype.a, 7);
        CHECK_INT(rs->rules[3]->itype.b, 20);
        CHECK_INT(rs->rules[1]->itype.op, NUM_LT);
    }
}

/* Counts errors that are not "unsupported ..." (keywords, protocols). */
static void count_hard(void *arg, const char *file, unsigned line, const char *msg)
{
    int *hard = arg;

    if (strstr(msg, ": unsupported ") == NULL) {
        if (*hard < 10)
            fprintf(stderr, "  %s:%u: %s\n", file, line, msg);
        (*hard)++;
    }
}

TEST(et_open)
{
    const char *dir = test_shared_path("data/rules/et-open-2024");
    char cls[4096];
    struct ruleset *et = NULL;
    int hard = 0;

    if (dir == NULL)
        SKIP("../shared/data/rules/et-open-2024 not present");
    snprintf(cls, sizeof(cls), "%s/classification.config", dir);
    CHECK_INT(ruleset_create(&et, NULL, count_hard, &hard), 0);
    CHECK_INT(ruleset_load_classification(et, cls), 0);
    int n = ruleset_load_path(et, dir);
    printf("et-open-2024: %d rules loaded, %zu rejected\n", n, et->nerrors);
    CHECK(n > 1000);
    CHECK_INT((size_t)n, et->nrules);
    /* everything rejected is rejected as not yet supported, never misparsed */
    CHECK_INT(hard, 0);
    size_t tcpudp = 0, contents = 0;
    for (size_t i = 0; i < et->nrules; i++) {
        const struct rule *r = et->rules[i];
        tcpudp += r->proto == RULE_PROTO_TCP || r->proto == RULE_PROTO_UDP;
        contents += r->nmatches;
        CHECK(r->sid != 0 && r->msg != NULL);
    }
    printf("et-open-2024: %zu tcp/udp rules, %zu contents\n", tcpudp, contents);
    CHECK(tcpudp > 1000);
    ruleset_destroy(et);
}

TEST(header_keywords)
{
    const struct rule *r;

    r = one(H "(tos:x1F; id:\"12345\"; ipopts:rr; fragbits:+MD; fragoffset:>100; sameip; "
              "seq:0; ack:4294967295; window:!1024; sid:1;)");
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_INT(r->tos.op, NUM_EQ);
        CHECK_INT(r->tos.a, 0x1f);
        CHECK_INT(r->id.a, 12345);
        CHECK_INT(r->ipopts, IPOPT_BIT_RR);
        CHECK_INT(r->fragbits.bits, IPFRAG_MF | IPFRAG_DF);
        CHECK_INT(r->fragbits.mod, FLAGS_PLUS);
        CHECK_INT(r->fragoffset.op, NUM_GT);
        CHECK_INT(r->ack.a, 4294967295u);
        CHECK_INT(r->window.op, NUM_NE);
        CHECK_INT(r->has & (RULE_HAS_TOS | RULE_HAS_ID | RULE_HAS_IPOPTS | RULE_HAS_FRAGBITS |
                            RULE_HAS_FRAGOFFSET | RULE_HAS_SAMEIP | RULE_HAS_SEQ |
                            RULE_HAS_ACK | RULE_HAS_WINDOW),
                  RULE_HAS_TOS | RULE_HAS_ID | RULE_HAS_IPOPTS | RULE_HAS_FRAGBITS |
                      RULE_HAS_FRAGOFFSET | RULE_HAS_SAMEIP | RULE_HAS_SEQ | RULE_HAS_ACK |
                      RULE_HAS_WINDOW);
    }
    r = one("alert icmp any any -> any any (icmp_id:\"0\"; icmp_seq:!7; tos:!0x10; "
            "ipopts:any; fragbits:!R; sid:2;)");
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_INT(r->icmp_id.a, 0);
        CHECK_INT(r->icmp_seq.op, NUM_NE);
        CHECK_INT(r->tos.op, NUM_NE);
        CHECK_INT(r->tos.a, 0x10);
        CHECK_INT(r->ipopts, 0xffff);
        CHECK_INT(r->fragbits.mod, FLAGS_NOT);
    }
    CHECK_STR(bad(H "(tos:256; sid:1;)"), "tos: invalid value '256' (expected 0..255 or xNN)");
    CHECK_STR(bad(H "(id:65536; sid:1;)"), "id: invalid value '65536' (expected 0..65535)");
    CHECK_STR(bad(H "(id:\"5; sid:1;)"), "id: unbalanced quotes in '\"5'");
    CHECK_STR(bad(H "(ipopts:bogus; sid:1;)"),
              "ipopts: invalid option 'bogus' (expected rr, eol, nop, ts, sec, esec, lsrr, "
              "ssrr, satid or any)");
    CHECK_STR(bad(H "(fragbits:MX; sid:1;)"),
              "fragbits: invalid fragment bit 'X' (expected M, D or R)");
    CHECK_STR(bad(H "(fragbits:+*M; sid:1;)"), "fragbits: more than one modifier in '+*M'");
    CHECK_STR(bad(H "(fragbits:+; sid:1;)"), "fragbits: no fragment bits given");
    CHECK_STR(bad(H "(seq:4294967296; sid:1;)"),
              "seq: invalid value '4294967296' (expected 0..4294967295)");
    CHECK_STR(bad(H "(window:x; sid:1;)"), "window: invalid value 'x' (expected 0..65535)");
    CHECK_STR(bad(H "(icmp_seq:-1; sid:1;)"), "icmp_seq: invalid value '-1' (expected 0..65535)");
    CHECK_STR(bad(H "(sameip:1; sid:1;)"), "sameip: takes no value");
    CHECK_STR(bad(H "(fragoffset:1; fragoffset:2; sid:1;)"), "fragoffset: duplicated keyword");
}

TEST(num_operators_extended)
{
    static const struct {
        const char *v;
        enum rule_num_op op;
        uint64_t a, b;
    } ok[] = {
        {"!=5", NUM_NE, 5, 0},
        {"!2-9", NUM_NRANGE, 2, 9},
        {"!2<>9", NUM_NRANGE, 2, 9},
        {"0x10", NUM_EQ, 16, 0},
        {">0x0f", NUM_GT, 15, 0},
        {"&0xc0=0x80", NUM_BAND_EQ, 0xc0, 0x80},
        {"&0xc0!=0", NUM_BAND_NE, 0xc0, 0},
        {"= 7", NUM_EQ, 7, 0},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ok); i++) {
        char text[128];
        snprintf(text, sizeof(text), H "(ttl:%s; sid:1;)", ok[i].v);
        const struct rule *r = one(text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->ttl.op, ok[i].op);
            CHECK_INT(r->ttl.a, ok[i].a);
            CHECK_INT(r->ttl.b, ok[i].b);
        }
    }
    struct rule_num n = {NUM_NRANGE, 2, 9};
    CHECK(rule_num_match(&n, 2) && rule_num_match(&n, 9) && rule_num_match(&n, 0));
    CHECK(!rule_num_match(&n, 3) && !rule_num_match(&n, 8));
    n = (struct rule_num){NUM_BAND_EQ, 0xc0, 0x80};
    CHECK(rule_num_match(&n, 0x85) && !rule_num_match(&n, 0xc5) && !rule_num_match(&n, 0x05));
    n.op = NUM_BAND_NE;
    CHECK(!rule_num_match(&n, 0x85) && rule_num_match(&n, 0xc5));
    CHECK_STR(bad(H "(ttl:&0xc0; sid:1;)"),
              "ttl: invalid bitmask test '&0xc0' (expected &MASK=VALUE or &MASK!=VALUE)");
    CHECK_STR(bad(H "(ttl:&x=1; sid:1;)"), "ttl: invalid bitmask '&x=1' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:&1=256; sid:1;)"), "ttl: invalid value '&1=256' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:0x100; sid:1;)"), "ttl: invalid value '0x100' (expected 0..255)");
    CHECK_STR(bad(H "(ttl:!9-2; sid:1;)"),
              "ttl: invalid range '!9-2': the first bound must be below the second");
    CHECK_STR(bad(H "(ttl:>=3-5; sid:1;)"), "ttl: invalid value '>=3-5'");
}

int main(void)
{
    RUN(header_basic);
    RUN(header_errors);
    RUN(unsupported_codes);
    RUN(identity_keywords);
    RUN(classtype_priority);
    RUN(metadata_reference_target);
    RUN(content_values);
    RUN(content_modifiers);
    RUN(fast_pattern);
    RUN(flow_keyword);
    RUN(numeric_keywords);
    RUN(num_match);
    RUN(ip_proto_keyword);
    RUN(ip_proto_repeated);
    RUN(ip_proto_repeated_matches);
    RUN(flags_keyword);
    RUN(header_keywords);
    RUN(num_operators_extended);
    RUN(option_syntax);
    RUN(duplicate_sid);
    RUN(load_file);
    RUN(load_directory);
    RUN(classification_file);
    RUN(user_vars);
    RUN(suricata_verify_strict);
    RUN(et_open);
    ruleset_destroy(rs);
    cleanup();
    return test_summary("rules");
}
