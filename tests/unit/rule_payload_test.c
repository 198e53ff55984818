/*
 * rule_payload_test.c — the payload keywords besides content
 * (signatures/rule_payload.c parsing, sensor/detect_payload.c matching):
 * pcre with its flags, negation and relative chains, isdataat, byte_test,
 * byte_jump, byte_extract with variables in later keywords, byte_math,
 * pkt_data; edge offsets (first and last byte, one past the end), and every
 * parse error message.
 */
#include <string.h>

#include "kanshi/detect.h"
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

/* Parses one rule and reports whether its payload tests match buf[0..len);
 * -1 when the rule does not load. */
static int pmn(const char *rule, const void *buf, size_t len)
{
    struct ruleset *rs;
    int m = -1;

    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return -1;
    if (ruleset_add_rule(rs, rule, "t.rules", 1) == 0 && rs->nrules == 1)
        m = detect_match_payload(rs->rules[0], buf, len);
    else
        fprintf(stderr, "rule did not load: %s\n", last_err);
    ruleset_destroy(rs);
    return m;
}

static int pm(const char *rule, const char *buf)
{
    return pmn(rule, buf, strlen(buf));
}

/* The message of a rule that must not load ("t.rules:1: " stripped). */
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

static int load_rc(const char *rule)
{
    struct ruleset *rs;
    int rc;

    if (ruleset_create(&rs, NULL, NULL, NULL) != 0)
        return -1;
    rc = ruleset_add_rule(rs, rule, "t.rules", 1);
    ruleset_destroy(rs);
    return rc;
}

/* ---- pcre -------------------------------------------------------------- */

TEST(pcre_basic_and_flags)
{
    CHECK_INT(pm(R("pcre:\"/ab+c/\";"), "xxabbbcxx"), 1);
    CHECK_INT(pm(R("pcre:\"/ab+c/\";"), "xxABBCxx"), 0);
    CHECK_INT(pm(R("pcre:\"/ab+c/i\";"), "xxABBCxx"), 1);
    /* s: dot matches newline */
    CHECK_INT(pm(R("pcre:\"/a.b/\";"), "a\nb"), 0);
    CHECK_INT(pm(R("pcre:\"/a.b/s\";"), "a\nb"), 1);
    /* m: ^ at line starts */
    CHECK_INT(pm(R("pcre:\"/^two/\";"), "one\ntwo"), 0);
    CHECK_INT(pm(R("pcre:\"/^two/m\";"), "one\ntwo"), 1);
    /* x: blanks in the pattern ignored */
    CHECK_INT(pm(R("pcre:\"/a b c/x\";"), "abc"), 1);
    /* A: anchored at the start */
    CHECK_INT(pm(R("pcre:\"/bc/A\";"), "abc"), 0);
    CHECK_INT(pm(R("pcre:\"/ab/A\";"), "abc"), 1);
    /* E: $ only at the very end */
    CHECK_INT(pm(R("pcre:\"/c$/\";"), "abc\n"), 1);
    CHECK_INT(pm(R("pcre:\"/c$/E\";"), "abc\n"), 0);
    /* G: ungreedy; with R a following test sees where the match ended */
    CHECK_INT(pm(R("pcre:\"/a.*b/G\"; content:\"Y\"; distance:0; within:1;"), "aXbYb"), 1);
    CHECK_INT(pm(R("pcre:\"/a.*b/\"; content:\"Y\"; distance:0; within:1;"), "aXbYb"), 0);
    /* O and B accepted */
    CHECK_INT(pm(R("pcre:\"/abc/OB\";"), "abc"), 1);
    /* binary bytes through escapes */
    CHECK_INT(pmn(R("pcre:\"/\\x00\\xff/\";"), "a\0\xff", 3), 1);
    /* \; in the rule text is a literal ; for PCRE */
    CHECK_INT(pm(R("pcre:\"/a\\;b/\";"), "xa;b"), 1);
}

TEST(pcre_negated)
{
    CHECK_INT(pm(R("content:\"GET\"; pcre:!\"/admin/\";"), "GET /index"), 1);
    CHECK_INT(pm(R("content:\"GET\"; pcre:!\"/admin/\";"), "GET /admin"), 0);
    /* a negated relative pcre looks only after the cursor */
    CHECK_INT(pm(R("content:\"b\"; pcre:!\"/a/R\";"), "abc"), 1);
    CHECK_INT(pm(R("content:\"b\"; pcre:!\"/c/R\";"), "abc"), 0);
}

TEST(pcre_relative_chains)
{
    /* R starts at the end of the previous content */
    CHECK_INT(pm(R("content:\"key=\"; pcre:\"/^\\d+/R\";"), "key=123"), 1);
    CHECK_INT(pm(R("content:\"key=\"; pcre:\"/^\\d+/R\";"), "key=x123"), 0);
    /* the content is retried when the relative pcre fails on the first */
    CHECK_INT(pm(R("content:\"key=\"; pcre:\"/^\\d+/R\";"), "key=x key=9"), 1);
    /* a content relative to a pcre: searched from the pcre's end */
    CHECK_INT(pm(R("pcre:\"/id=\\d+/\"; content:\"|3b|\"; within:1;"), "id=42;"), 1);
    CHECK_INT(pm(R("pcre:\"/id=\\d+/\"; content:\"|3b|\"; within:1;"), "id=42 ;"), 0);
    /* the pcre is re-run from one byte after its previous start */
    CHECK_INT(pm(R("pcre:\"/id=\\d/\"; content:\"!\"; within:1;"), "id=1 id=2!"), 1);
    /* pcre after pcre */
    CHECK_INT(pm(R("pcre:\"/a+/\"; pcre:\"/^b/R\";"), "aab"), 1);
    CHECK_INT(pm(R("pcre:\"/a+/\"; pcre:\"/^b/R\";"), "aacb"), 0);
    /* ^ with R anchors at the cursor, $ at the buffer's end */
    CHECK_INT(pm(R("content:\"x\"; pcre:\"/^yz$/R\";"), "xyz"), 1);
    /* a relative pcre at the very end of the buffer runs on an empty subject */
    CHECK_INT(pm(R("content:\"end\"; pcre:\"/^$/R\";"), "the end"), 1);
}

TEST(pcre_errors)
{
    CHECK_STR(bad(R("pcre:abc;")), "pcre: value must be a quoted string");
    CHECK_INT(pm(R("pcre:/a.c/;"), "xxabc"), 1);
    CHECK_STR(bad(R("pcre:\"abc\";")), "pcre: expected \"/regex/flags\"");
    CHECK_STR(bad(R("pcre:\"/abc\";")), "pcre: expected \"/regex/flags\"");
    CHECK_STR(bad(R("pcre:\"/abc/q\";")), "pcre: unknown modifier 'q'");
    CHECK_CONTAINS(bad(R("pcre:\"/a(b/\";")), "pcre: invalid regex at offset 3: ");
    CHECK_STR(bad(R("pcre:\"/abc/U\";")), "(rule loaded)");
    CHECK_INT(load_rc(R("pcre:\"/abc/H\";")), 0);
    CHECK_INT(load_rc(R("pcre:\"/a(b/\";")), KANSHI_EPARSE);
}

TEST(pcre_parsed)
{
    struct ruleset *rs;

    CHECK_INT(ruleset_create(&rs, NULL, NULL, NULL), 0);
    CHECK_INT(ruleset_add_rule(rs, R("content:\"a\"; pcre:!\"/(x)(y)/RO\";"), "t", 1), 0);
    CHECK_INT(rs->nrules, 1);
    if (rs->nrules == 1) {
        const struct rule *r = rs->rules[0];
        CHECK_INT(r->nmatches, 2);
        CHECK_INT(r->matches[1].kind, RULE_MATCH_PCRE);
        CHECK_INT(r->matches[1].u.pcre.flags, PCRE_NEGATED | PCRE_RELATIVE | PCRE_NOLIMIT);
        CHECK_INT(r->matches[1].u.pcre.ncaptures, 2);
        CHECK(r->matches[1].u.pcre.code != NULL);
        /* the content is marked as anchoring a relative test */
        CHECK_INT(r->matches[0].next, MATCH_WITHIN_NEXT | MATCH_DISTANCE_NEXT);
    }
    ruleset_destroy(rs);
}

/* ---- isdataat ---------------------------------------------------------- */

TEST(isdataat_absolute)
{
    /* isdataat:N holds when there is a byte at offset N */
    CHECK_INT(pm(R("content:\"a\"; isdataat:3;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"a\"; isdataat:4;"), "abcd"), 0);
    CHECK_INT(pm(R("content:\"a\"; isdataat:0;"), "a"), 1);
    CHECK_INT(pm(R("content:\"a\"; isdataat:!4;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"a\"; isdataat:!3;"), "abcd"), 0);
    /* isdataat alone as the payload test */
    CHECK_INT(pm(R("isdataat:10;"), "0123456789"), 0);
    CHECK_INT(pm(R("isdataat:9;"), "0123456789"), 1);
}

TEST(isdataat_relative)
{
    /* relative: at least N bytes after the cursor, as Suricata counts */
    CHECK_INT(pm(R("content:\"ab\"; isdataat:2,relative;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; isdataat:3,relative;"), "abcd"), 0);
    CHECK_INT(pm(R("content:\"cd\"; isdataat:1,relative;"), "abcd"), 0);
    /* !1,relative: the match ends the buffer */
    CHECK_INT(pm(R("content:\"cd\"; isdataat:!1,relative;"), "abcd"), 1);
    CHECK_INT(pm(R("content:\"ab\"; isdataat:!1,relative;"), "abcd"), 0);
    /* the content is retried to satisfy a relative isdataat */
    CHECK_INT(pm(R("content:\"x\"; isdataat:!1,relative;"), "x x"), 1);
    CHECK_INT(pm(R("content:\"a\"; isdataat:1,relative,rawbytes;"), "ab"), 1);
}

TEST(isdataat_errors)
{
    CHECK_STR(bad(R("isdataat:x;")), "isdataat: unknown byte_extract variable 'x'");
    CHECK_STR(bad(R("isdataat:-1;")),
              "isdataat: invalid size '-1' (expected 0..65535 or a variable)");
    CHECK_STR(bad(R("isdataat:70000;")),
              "isdataat: invalid size '70000' (expected 0..65535 or a variable)");
    CHECK_STR(bad(R("isdataat:1,bogus;")),
              "isdataat: invalid option 'bogus' (expected relative or rawbytes)");
    CHECK_STR(bad(R("isdataat:1,relative,rawbytes,relative,x;")), "isdataat: too many arguments");
    CHECK_STR(bad(R("isdataat;")), "isdataat: missing value");
}

/* ---- byte_test --------------------------------------------------------- */

TEST(byte_test_binary)
{
    static const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0xff};

    CHECK_INT(pmn(R("byte_test:1,=,1,0;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:2,=,0x0102,0;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:2,=,0x0201,0,little;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:4,>,0x01020303,0;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:4,<,0x01020304,0;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:4,<=,0x01020304,0;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:4,>=,0x01020305,0;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:1,&,0x80,4;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:1,&,0x80,0;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:1,^,0xff,4;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:1,!=,0xff,4;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:1,!,0xfe,4;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:1,!>,1,0;"), buf, 5), 1);
    /* the last byte is readable, one past it is not */
    CHECK_INT(pmn(R("byte_test:1,=,255,4;"), buf, 5), 1);
    CHECK_INT(pmn(R("byte_test:2,>,0,4;"), buf, 5), 0);
    CHECK_INT(pmn(R("byte_test:1,>,0,5;"), buf, 5), 0);
    /* 8 bytes */
    static const uint8_t eight[] = {0, 0, 0, 0, 0, 0, 1, 0};
    CHECK_INT(pmn(R("byte_test:8,=,256,0;"), eight, 8), 1);
    /* bitmask: masked then shifted right by the mask's trailing zeros */
    static const uint8_t h[] = {0x48};
    CHECK_INT(pmn(R("byte_test:1,=,0x9,0,bitmask 0xf8;"), h, 1), 1);
    CHECK_INT(pmn(R("byte_test:1,=,0x9,0,bitmask f8;"), h, 1), 1);
}

TEST(byte_test_relative_string)
{
    CHECK_INT(pm(R("content:\"len=\"; byte_test:3,>,99,0,relative,string,dec;"), "len=100;"), 1);
    CHECK_INT(pm(R("content:\"len=\"; byte_test:3,>,100,0,relative,string,dec;"), "len=100;"), 0);
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,255,0,relative,string,hex;"), "v:ff"), 1);
    CHECK_INT(pm(R("content:\"v:\"; byte_test:3,=,8,0,relative,string,oct;"), "v:010"), 1);
    /* string without a base is decimal */
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,12,0,relative,string;"), "v:12"), 1);
    /* not a number: no match */
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,0,0,relative,string,dec;"), "v:zz"), 0);
    /* negative relative offset looks back */
    CHECK_INT(pm(R("content:\"bc\"; byte_test:1,=,0x61,-3,relative;"), "abc"), 1);
    /* relative with nothing left after the cursor: no match */
    CHECK_INT(pm(R("content:\"abc\"; byte_test:1,>,0,0,relative;"), "abc"), 0);
    /* the content is retried until a byte_test relative to it holds */
    CHECK_INT(pm(R("content:\"n=\"; byte_test:1,=,0x37,0,relative;"), "n=5 n=7"), 1);
}

TEST(byte_test_errors)
{
    CHECK_STR(bad(R("byte_test:1,=,1;")),
              "byte_test: expected bytes, operator, value, offset[, options]");
    CHECK_STR(bad(R("byte_test:9,=,1,0;")),
              "byte_test: can't extract more than 8 bytes without string");
    CHECK_STR(bad(R("byte_test:24,=,1,0,string,oct;")),
              "byte_test: can't extract more than 23 bytes as a base-8 string");
    CHECK_STR(bad(R("byte_test:21,=,1,0,string,dec;")),
              "byte_test: can't extract more than 20 bytes as a base-10 string");
    CHECK_STR(bad(R("byte_test:0,=,1,0;")), "byte_test: number of bytes must be at least 1");
    CHECK_STR(bad(R("byte_test:1,~,1,0;")),
              "byte_test: invalid operator '~' (expected <, >, =, <=, >=, &, ^, optionally "
              "after !)");
    CHECK_STR(bad(R("byte_test:1,=,q1,0;")), "byte_test: unknown byte_extract variable 'q1'");
    CHECK_STR(bad(R("byte_test:1,=,1x,0;")), "byte_test: invalid value '1x'");
    CHECK_STR(bad(R("byte_test:1,=,1,70000;")),
              "byte_test: invalid offset '70000' (expected -65535..65535 or a variable)");
    CHECK_STR(bad(R("byte_test:1,=,1,0,dec;")), "byte_test: base 'dec' without string");
    CHECK_STR(bad(R("byte_test:1,=,1,0,string,hex,oct;")), "byte_test: more than one base");
    CHECK_STR(bad(R("byte_test:1,=,1,0,string,dce;")),
              "byte_test: string can't be combined with dce");
    CHECK_STR(bad(R("byte_test:1,=,1,0,big,little;")), "byte_test: endianness given twice");
    CHECK_STR(bad(R("byte_test:1,=,1,0,string bin;")),
              "byte_test: invalid string base 'bin' (expected dec, hex or oct)");
    CHECK_STR(bad(R("byte_test:1,=,1,0,bitmask 0;")), "byte_test: invalid bitmask '0'");
    CHECK_STR(bad(R("byte_test:1,=,1,0,align;")), "byte_test: invalid option 'align'");
    CHECK_STR(bad(R("byte_test:1,=,1,0,a,b,c,d,e,f,g,h,i,j,k,l,m;")),
              "byte_test: too many arguments");
}

/* ---- byte_jump --------------------------------------------------------- */

TEST(byte_jump_moves_the_cursor)
{
    /* length 3 then "abc", then "X" right after */
    static const uint8_t b1[] = {3, 'a', 'b', 'c', 'X'};
    CHECK_INT(pmn(R("byte_jump:1,0; content:\"X\"; within:1;"), b1, 5), 1);
    CHECK_INT(pmn(R("byte_jump:1,0; content:\"c\"; within:1;"), b1, 5), 0);
    /* jumping exactly to the end of the buffer fails */
    static const uint8_t b2[] = {3, 'a', 'b', 'c'};
    CHECK_INT(pmn(R("byte_jump:1,0; isdataat:!1,relative;"), b2, 4), 0);
    /* multiplier, align, post_offset */
    static const uint8_t b3[] = {1, 'a', 'b', 'c', 'd', 'e', 'f', 'X'};
    CHECK_INT(pmn(R("byte_jump:1,0,multiplier 2; content:\"c\"; within:1;"), b3, 8), 1);
    CHECK_INT(pmn(R("byte_jump:1,0,align; content:\"e\"; within:1;"), b3, 8), 1);
    CHECK_INT(pmn(R("byte_jump:1,0,post_offset 2; content:\"d\"; within:1;"), b3, 8), 1);
    CHECK_INT(pmn(R("byte_jump:1,0,post_offset -1; content:\"a\"; within:1;"), b3, 8), 1);
    /* from_beginning and from_end */
    CHECK_INT(pmn(R("byte_jump:1,0,from_beginning; content:\"a\"; within:1;"), b3, 8), 1);
    CHECK_INT(pmn(R("byte_jump:1,0,from_end,post_offset -2; content:\"X\"; within:1;"), b3, 8), 1);
    /* before the buffer start: clamped to it */
    CHECK_INT(pmn(R("byte_jump:1,0,post_offset -10; content:\"|01|a\"; within:2;"), b3, 8), 1);
    /* string lengths: the digits consumed count, not nbytes */
    CHECK_INT(pm(R("byte_jump:4,0,string,dec; content:\"X\"; within:1;"), "2;abX"), 0);
    CHECK_INT(pm(R("byte_jump:2,0,string,dec; content:\"Z\"; within:1;"), "3;abZ"), 1);
    /* zero bytes: only post_offset moves, even from the very end */
    CHECK_INT(pm(R("content:\"end\"; byte_jump:0,0,relative,post_offset -3; "
                   "content:\"end\"; within:3;"),
                 "the end"),
              1);
    /* little endian, relative */
    static const uint8_t b4[] = {'L', 2, 0, 'a', 'b', 'Y'};
    CHECK_INT(
        pmn(R("content:\"L\"; byte_jump:2,0,relative,little; content:\"Y\"; within:1;"), b4, 6), 1);
}

TEST(byte_jump_errors)
{
    CHECK_STR(bad(R("byte_jump:1;")), "byte_jump: expected bytes, offset[, options]");
    CHECK_STR(bad(R("byte_jump:9,0;")),
              "byte_jump: can't extract more than 8 bytes without string");
    CHECK_STR(bad(R("byte_jump:1,0,from_beginning,from_end;")),
              "byte_jump: from_beginning and from_end can't be combined");
    CHECK_STR(bad(R("byte_jump:1,0,multiplier 0;")),
              "byte_jump: invalid multiplier '0' (expected 1..65535)");
    CHECK_STR(bad(R("byte_jump:1,0,post_offset x;")),
              "byte_jump: invalid post_offset 'x' (expected -65535..65535)");
    CHECK_STR(bad(R("byte_jump:1,0,align 2;")), "byte_jump: invalid option 'align 2'");
    CHECK_STR(bad(R("byte_jump:x,0;")), "byte_jump: unknown byte_extract variable 'x'");
}

/* ---- byte_extract and variables ---------------------------------------- */

TEST(byte_extract_variables)
{
    /* the extracted length used as within */
    static const uint8_t b1[] = {3, 'x', 'a', 'b', 'Q'};
    CHECK_INT(pmn(R("byte_extract:1,0,len; content:\"b\"; within:len;"), b1, 5), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,len; content:\"Q\"; within:len;"), b1, 5), 0);
    /* as distance: skip len bytes after the cursor (end of the extracted byte) */
    CHECK_INT(pmn(R("byte_extract:1,0,len; content:\"Q\"; distance:len; within:1;"), b1, 5), 1);
    /* as offset/depth of an absolute content */
    static const uint8_t b2[] = {2, 0, 'z', 'k'};
    CHECK_INT(pmn(R("byte_extract:1,0,off; content:\"z\"; offset:off; depth:1;"), b2, 4), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,off; content:\"k\"; offset:off; depth:1;"), b2, 4), 0);
    CHECK_INT(pmn(R("byte_extract:1,0,d; content:\"|02 00|\"; depth:d;"), b2, 4), 1);
    /* as byte_test value and offset, isdataat size */
    static const uint8_t b3[] = {5, 1, 9, 9, 9, 5};
    CHECK_INT(pmn(R("byte_extract:1,0,v; byte_test:1,=,v,5;"), b3, 6), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,v; byte_test:1,=,v,4;"), b3, 6), 0);
    CHECK_INT(pmn(R("byte_extract:1,0,o; byte_test:1,=,5,o;"), b3, 6), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,n; isdataat:n;"), b3, 6), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,n; isdataat:!n;"), b3, 6), 0);
    /* as byte_jump offset */
    CHECK_INT(pmn(R("byte_extract:1,1,o; byte_jump:1,o; content:\"|05|\"; within:1;"), b3, 6), 0);
    /* multiplier and align */
    static const uint8_t b4[] = {3, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
    CHECK_INT(
        pmn(R("byte_extract:1,0,l,multiplier 2; content:\"g\"; distance:l; within:1;"), b4, 9), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,l,align 4; content:\"e\"; distance:l; within:1;"), b4, 9), 1);
    /* string value, relative, and the cursor after the digits */
    CHECK_INT(pm(R("content:\"n=\"; byte_extract:2,0,n,relative,string,dec; "
                   "content:\"!\"; within:1;"),
                 "n=12!"),
              1);
    CHECK_INT(
        pm(R("content:\"n=\"; byte_extract:2,0,n,relative,string; byte_test:1,=,n,0;"), "\x0cn=12"),
        1);
    /* little endian */
    static const uint8_t b5[] = {1, 0, 'a', 'b'};
    CHECK_INT(pmn(R("byte_extract:2,0,l,little; content:\"a\"; within:l;"), b5, 4), 1);
    /* out of the buffer: no match */
    CHECK_INT(pmn(R("byte_extract:2,3,l; content:\"a\";"), b5, 4), 0);
}

TEST(byte_extract_errors)
{
    CHECK_STR(bad(R("byte_extract:1,0;")), "byte_extract: expected bytes, offset, name[, options]");
    CHECK_STR(bad(R("byte_extract:1,0,1abc;")), "byte_extract: invalid variable name '1abc'");
    CHECK_STR(bad(R("byte_extract:1,0,a; byte_extract:1,1,a;")),
              "byte_extract: variable 'a' defined twice");
    CHECK_STR(bad(R("byte_extract:1,0,a,align 3;")),
              "byte_extract: invalid align '3' (expected 2 or 4)");
    CHECK_STR(bad(R("byte_extract:15,0,a,string,hex;")),
              "byte_extract: can't extract more than 14 bytes as a base-16 string");
    CHECK_STR(bad(R("byte_extract:0,0,a;")), "byte_extract: number of bytes must be at least 1");
    CHECK_STR(bad(R("byte_extract:n,0,a;")), "byte_extract: invalid number of bytes 'n'");
    CHECK_STR(bad(R("content:\"a\"; distance:v; byte_extract:1,0,v;")),
              "distance: unknown byte_extract variable 'v'");
    char rule[1024] = "alert tcp any any -> any any (";
    for (int i = 0; i <= RULE_BYTEVARS_MAX; i++) {
        char kw[64];
        snprintf(kw, sizeof(kw), "byte_extract:1,0,v%d; ", i);
        strcat(rule, kw);
    }
    strcat(rule, "sid:1;)");
    CHECK_STR(bad(rule), "byte_extract: more than 16 byte_extract/byte_math variables");
}

/* ---- byte_math --------------------------------------------------------- */

TEST(byte_math_ops)
{
    static const uint8_t b[] = {0x10, 0x04, 0x14, 0x0c, 0x40, 0x04, 0x01, 0x00};

    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper +, rvalue 4, result r; "
                    "byte_test:1,=,r,2;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper -, rvalue 4, result r; "
                    "byte_test:1,=,r,3;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper *, rvalue 4, result r; "
                    "byte_test:1,=,r,4;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper /, rvalue 4, result r; "
                    "byte_test:1,=,r,1;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper >>, rvalue 2, result r; "
                    "byte_test:1,=,r,5;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 1, oper <<, rvalue 4, result r; "
                    "byte_test:1,=,r,4;"),
                  b, 8),
              1);
    /* rvalue from a variable; division by a zero variable: no match */
    CHECK_INT(pmn(R("byte_extract:1,1,d; byte_math:bytes 1, offset 0, oper /, rvalue d, "
                    "result r; byte_test:1,=,r,5;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_extract:1,7,z; byte_math:bytes 1, offset 0, oper /, rvalue z, "
                    "result r;"),
                  b, 8),
              0);
    /* little endian, bitmask after the operation, relative */
    CHECK_INT(pmn(R("content:\"|01|\"; byte_math:bytes 2, offset -2, oper +, rvalue 0, "
                    "result r, relative, endian little; byte_test:2,=,r,5,little;"),
                  b, 8),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 2, oper +, rvalue 0, result r, bitmask 0x0c; "
                    "byte_test:1,=,r,6;"),
                  b, 8),
              1);
    /* the cursor moves past the bytes read */
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 5, oper +, rvalue 0, result r; "
                    "content:\"|01|\"; within:1;"),
                  b, 8),
              1);
    /* string */
    CHECK_INT(pm(R("byte_math:bytes 2, offset 0, oper +, rvalue 1, result r, string dec; "
                   "byte_test:1,=,r,2;"),
                 "41+"),
              0);
    CHECK_INT(pm(R("byte_math:bytes 2, offset 0, oper +, rvalue 1, result r, string dec; "
                   "byte_test:1,=,r,2;"),
                 "41*X"),
              1);
}

TEST(byte_math_errors)
{
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper +, rvalue 1;")),
              "byte_math: bytes, offset, oper, rvalue and result are required");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper %, rvalue 1, result r;")),
              "byte_math: invalid oper '%' (expected +, -, *, /, << or >>)");
    CHECK_STR(bad(R("byte_math:bytes 11, offset 0, oper +, rvalue 1, result r;")),
              "byte_math: bytes must be 1..10");
    CHECK_STR(bad(R("byte_math:bytes 5, offset 0, oper <<, rvalue 1, result r;")),
              "byte_math: bytes must be 1..4 with << or >>");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper /, rvalue 0, result r;")),
              "byte_math: rvalue 0 with oper /");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper +, rvalue 5000000000, result r;")),
              "byte_math: invalid rvalue '5000000000' (expected 0..4294967295 or a variable)");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper +, rvalue nope, result r;")),
              "byte_math: unknown byte_extract variable 'nope'");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper +, rvalue 1, result r, sideways;")),
              "byte_math: invalid option 'sideways'");
}

/* ---- forms ET Open uses ------------------------------------------------ */

/*
 * string with big or little: Suricata's byte_test, byte_jump and byte_math
 * take the pair (the endianness is moot, the digits are text); byte_extract
 * refuses it there and here.  ET's sid 2017961 is "byte_jump:8,116,relative,
 * multiplier 2,little,string".
 */
TEST(string_with_endianness)
{
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,12,0,relative,string,little;"), "v:12"), 1);
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,21,0,relative,little,string,dec;"), "v:12"),
              0);
    CHECK_INT(pm(R("content:\"v:\"; byte_test:2,=,0x12,0,relative,string,hex,big;"), "v:12"), 1);
    CHECK_INT(pm(R("byte_jump:2,0,string,dec,little; content:\"Z\"; within:1;"), "3;abZ"), 1);
    CHECK_INT(pm(R("byte_jump:2,0,little,string; content:\"b\"; within:1;"), "3;abZ"), 0);
    CHECK_INT(pm(R("content:\"MZ\"; byte_jump:1,0,relative,multiplier 2,little,string; "
                   "content:\"PE\"; within:2;"),
                 "MZ2abcdPE"),
              1);
    CHECK_INT(pm(R("byte_math:bytes 2, offset 0, oper +, rvalue 1, result r, string dec, "
                   "endian little; byte_test:1,=,r,2;"),
                 "41*X"),
              1);
    CHECK_STR(bad(R("byte_extract:2,0,n,string,little;")),
              "byte_extract: string can't be combined with an endianness");
    CHECK_STR(bad(R("byte_extract:2,0,n,big,string,dec;")),
              "byte_extract: string can't be combined with an endianness");
    CHECK_STR(bad(R("byte_jump:2,0,string,dce;")), "byte_jump: string can't be combined with dce");
    CHECK_STR(bad(R("byte_math:bytes 2, offset 0, oper +, rvalue 1, result r, string dec, dce;")),
              "byte_math: string can't be combined with dce");
}

/*
 * Variable names as Suricata's token takes them: a letter or '_' first, then
 * anything but blanks, separators and quotes.  ET's Kelihos rules (sids
 * 2017612, 2017614) name one "kelihos.p2p".
 */
TEST(dotted_variable_names)
{
    /* the value at 2 repeats at 6, 10, 14, 18, 22 and differs at 0, 4, 8, 25 */
    uint8_t b[27];
    memset(b, 0x11, sizeof(b));
    for (int i = 2; i <= 22; i += 4) {
        b[i] = 0xbe;
        b[i + 1] = 0xef;
    }
    static const char kelihos[] =
        "alert tcp $EXTERNAL_NET 80 -> $HOME_NET any (msg:\"ET DELETED Kelihos p2p traffic "
        "detected via byte_test CnC Response\"; flow:established,from_server; "
        "flowbits:isset,ET.Kelihos-P2P; byte_extract:2,2,kelihos.p2p; "
        "byte_test:2,=,kelihos.p2p,6; byte_test:2,=,kelihos.p2p,10; "
        "byte_test:2,=,kelihos.p2p,14; byte_test:2,=,kelihos.p2p,18; "
        "byte_test:2,=,kelihos.p2p,22; byte_test:2,!=,kelihos.p2p,0; "
        "byte_test:2,!=,kelihos.p2p,4; byte_test:2,!=,kelihos.p2p,8; "
        "byte_test:2,!=,kelihos.p2p,25; classtype:command-and-control; sid:2017614; rev:2;)";
    CHECK_INT(pmn(kelihos, b, sizeof(b)), 1);
    b[19] = 0x00; /* one repeat differs */
    CHECK_INT(pmn(kelihos, b, sizeof(b)), 0);
    b[19] = 0xef;
    b[25] = 0xbe; /* one place that must differ is the same */
    b[26] = 0xef;
    CHECK_INT(pmn(kelihos, b, sizeof(b)), 0);
    /* in content positions, byte_jump, isdataat and byte_math too */
    static const uint8_t c[] = {3, 'x', 'a', 'b', 'Q'};
    CHECK_INT(pmn(R("byte_extract:1,0,my.len; content:\"b\"; within:my.len;"), c, 5), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,my-len; content:\"Q\"; within:my-len;"), c, 5), 0);
    CHECK_INT(pmn(R("byte_extract:1,0,a.b; isdataat:a.b,relative;"), c, 5), 1);
    CHECK_INT(pmn(R("byte_extract:1,0,a.b; isdataat:!a.b,relative;"), c, 5), 0);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper +, rvalue 1, result n.1; "
                    "byte_test:1,=,n.1,0;"),
                  c, 5),
              0);
    /* byte_jump from offset _n.0: 3 - 3 reads the 3 at 0, 3 - 2 the 'x' at 1 */
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper -, rvalue 3, result _n.0; "
                    "byte_jump:1,_n.0; content:\"Q\"; within:1;"),
                  c, 5),
              1);
    CHECK_INT(pmn(R("byte_math:bytes 1, offset 0, oper -, rvalue 2, result _n.0; "
                    "byte_jump:1,_n.0; content:\"Q\"; within:1;"),
                  c, 5),
              0);
    /* still not names */
    CHECK_STR(bad(R("byte_extract:1,0,.x;")), "byte_extract: invalid variable name '.x'");
    CHECK_STR(bad(R("byte_extract:1,0,-x;")), "byte_extract: invalid variable name '-x'");
    CHECK_STR(bad(R("byte_extract:1,0,a:b;")), "byte_extract: invalid variable name 'a:b'");
    CHECK_STR(bad(R("byte_extract:1,0,a'b;")), "byte_extract: invalid variable name 'a'b'");
    CHECK_STR(bad(R("byte_extract:1,0,a b;")), "byte_extract: invalid variable name 'a b'");
    CHECK_STR(bad(R("byte_math:bytes 1, offset 0, oper +, rvalue 1, result 2.x;")),
              "byte_math: invalid variable name '2.x'");
    /* a dotted name must be defined before use like any other */
    CHECK_STR(bad(R("byte_test:2,=,kelihos.p2p,6;")),
              "byte_test: unknown byte_extract variable 'kelihos.p2p'");
}

/* ---- pkt_data and interleaving ----------------------------------------- */

TEST(pkt_data_and_interleaving)
{
    CHECK_INT(pm(R("pkt_data; content:\"abc\";"), "xabc"), 1);
    CHECK_INT(pm(R("content:\"a\"; pkt_data; content:\"c\"; distance:1; within:1;"), "abc"), 1);
    CHECK_STR(bad(R("pkt_data:1;")), "pkt_data: takes no value");
    /* content, pcre, byte_test, isdataat interleaved in rule order */
    CHECK_INT(pm(R("content:\"hdr\"; pcre:\"/^:\\d+/R\"; byte_test:1,=,0x2c,0,relative; "
                   "isdataat:3,relative;"),
                 "hdr:42,xy"),
              1);
    CHECK_INT(pm(R("content:\"hdr\"; pcre:\"/^:\\d+/R\"; byte_test:1,=,0x2c,0,relative; "
                   "isdataat:4,relative;"),
                 "hdr:42,xy"),
              0);
    /* fast_pattern:only can't anchor a relative keyword */
    CHECK_STR(bad(R("content:\"abc\"; fast_pattern:only; byte_test:1,=,1,0,relative;")),
              "fast_pattern: only can't be used on a content a relative keyword follows");
}

TEST(recursion_budget)
{
    /* a pathological chain stops at the budget instead of running away */
    char buf[4096];
    memset(buf, 'a', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    CHECK_INT(pm(R("content:\"a\"; content:\"a\"; within:1; content:\"a\"; within:1; "
                   "content:\"b\"; within:1;"),
                 buf),
              0);
}

int main(void)
{
    RUN(pcre_basic_and_flags);
    RUN(pcre_negated);
    RUN(pcre_relative_chains);
    RUN(pcre_errors);
    RUN(pcre_parsed);
    RUN(isdataat_absolute);
    RUN(isdataat_relative);
    RUN(isdataat_errors);
    RUN(byte_test_binary);
    RUN(byte_test_relative_string);
    RUN(byte_test_errors);
    RUN(byte_jump_moves_the_cursor);
    RUN(byte_jump_errors);
    RUN(byte_extract_variables);
    RUN(byte_extract_errors);
    RUN(byte_math_ops);
    RUN(byte_math_errors);
    RUN(string_with_endianness);
    RUN(dotted_variable_names);
    RUN(pkt_data_and_interleaving);
    RUN(recursion_budget);
    return test_summary("rule_payload");
}
