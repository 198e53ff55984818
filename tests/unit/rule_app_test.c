/*
 * rule_app_test.c — the application-layer rule language (signatures/
 * rule_app.c): sticky buffers and where later keywords go, legacy content
 * modifiers, uricontent/urilen/bsize, transforms, pcre buffer modifiers,
 * app-layer-protocol and the DNS/TLS state tests; the header protocols; the
 * buffer's tests run alone (detect_payload_match_buf) and every error
 * message.
 */
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "../../sensor/detect_int.h"
#include "test.h"

static char last_err[512];
static int last_rc;
static struct ruleset *rs;

static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    (void)file;
    (void)line;
    snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* Loads one rule into a fresh ruleset (rs); its struct rule, or NULL with
 * last_err/last_rc set. */
static const struct rule *load(const char *text)
{
    ruleset_destroy(rs);
    rs = NULL;
    last_err[0] = '\0';
    if (ruleset_create(&rs, NULL, on_err, NULL) != 0)
        return NULL;
    last_rc = ruleset_add_rule(rs, text, "a.rules", 1);
    return last_rc == 0 && rs->nrules == 1 ? rs->rules[0] : NULL;
}

static const char *bad(const char *text)
{
    return load(text) != NULL ? "(rule loaded)" : last_err;
}

#define H(o) "alert http any any -> any any (" o " sid:1;)"
#define T(o) "alert tcp any any -> any any (" o " sid:1;)"

/* Tests of r on buffer b over s: 1 match, 0 not. */
static int on(const struct rule *r, enum rule_buffer b, const char *s)
{
    struct detect_rule_ctx *c;
    int m;

    if (r == NULL || detect_rule_ctx_create(&c, (struct rule *const *)&r, 1) != 0)
        return -1;
    m = detect_payload_match_buf(c, r, b, (const uint8_t *)s, strlen(s));
    detect_rule_ctx_destroy(c);
    return m;
}

TEST(header_protocols)
{
    static const struct {
        const char *proto;
        enum rule_proto rp;
        uint8_t app;
    } cases[] = {
        {"http", RULE_PROTO_TCP, APP_PROTO_HTTP}, {"http1", RULE_PROTO_TCP, APP_PROTO_HTTP},
        {"tls", RULE_PROTO_TCP, APP_PROTO_TLS},   {"dns", RULE_PROTO_IP, APP_PROTO_DNS},
        {"smtp", RULE_PROTO_TCP, APP_PROTO_SMTP}, {"ftp", RULE_PROTO_TCP, APP_PROTO_FTP},
        {"ssh", RULE_PROTO_TCP, APP_PROTO_SSH},   {"tcp", RULE_PROTO_TCP, APP_PROTO_UNKNOWN},
    };
    char text[128];

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        const struct rule *r;
        snprintf(text, sizeof(text), "alert %s any any -> any any (sid:1;)", cases[i].proto);
        r = load(text);
        CHECK(r != NULL);
        if (r != NULL) {
            CHECK_INT(r->proto, cases[i].rp);
            CHECK_INT(r->app_proto, cases[i].app);
        }
    }
    CHECK_STR(bad("alert smb any any -> any any (sid:1;)"), "header: unsupported protocol 'smb'");
    CHECK_INT(last_rc, KANSHI_EUNSUPPORTED);
}

TEST(sticky_buffers)
{
    const struct rule *r = load(H("content:\"raw\"; http.uri; content:\"/a\"; content:\"b\"; "
                                  "distance:0; http.host; content:\"h\"; pkt_data; "
                                  "content:\"raw2\";"));

    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT(r->nmatches, 5);
    CHECK_INT(r->matches[0].buffer, RULE_BUF_PAYLOAD);
    CHECK_INT(r->matches[1].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(r->matches[2].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(r->matches[3].buffer, RULE_BUF_HTTP_HOST);
    CHECK_INT(r->matches[4].buffer, RULE_BUF_PAYLOAD);
    CHECK(r->buffers & (1ull << RULE_BUF_HTTP_URI));
    CHECK(r->buffers & (1ull << RULE_BUF_HTTP_HOST));
    CHECK(detect_app_rule(r));
    /* each buffer's tests alone, relative within their buffer */
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/a?b"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "b/a"), 0);
    CHECK_INT(on(r, RULE_BUF_HTTP_HOST, "host"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_HOST, "x"), 0);
    CHECK_INT(on(r, RULE_BUF_PAYLOAD, "raw raw2"), 1);
    /* an http rule without buffers stays a packet/stream rule */
    r = load(H("content:\"x\";"));
    CHECK(r != NULL && !detect_app_rule(r));
    /* a tcp rule using a buffer becomes a rule for its protocol */
    r = load(T("dns.query; content:\"x\";"));
    CHECK(r != NULL && r->app_proto == APP_PROTO_DNS);
    r = load(T("tls.sni; content:\"x\";"));
    CHECK(r != NULL && r->app_proto == APP_PROTO_TLS);
}

TEST(legacy_modifiers)
{
    const struct rule *r = load(H("content:\"GET\"; http_method; content:\"/x\"; nocase; "
                                  "http_uri; content:\"y\"; http_uri; distance:0; "
                                  "uricontent:\"z\";"));

    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT(r->matches[0].buffer, RULE_BUF_HTTP_METHOD);
    CHECK_INT(r->matches[1].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(r->matches[2].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(r->matches[3].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/X?y&z"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "y/X z"), 0);
    CHECK_INT(on(r, RULE_BUF_HTTP_METHOD, "GET"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_METHOD, "POST"), 0);
    /* a relative isdataat after a modified content follows its buffer */
    r = load(H("content:\"/?\"; http_uri; isdataat:3,relative;"));
    CHECK(r != NULL && r->matches[1].buffer == RULE_BUF_HTTP_URI);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/?abc"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/?ab"), 0);
    /* the other legacy names */
    static const struct {
        const char *kw;
        enum rule_buffer b;
    } mods[] = {
        {"http_raw_uri", RULE_BUF_HTTP_URI_RAW},
        {"http_host", RULE_BUF_HTTP_HOST},
        {"http_raw_host", RULE_BUF_HTTP_HOST_RAW},
        {"http_user_agent", RULE_BUF_HTTP_USER_AGENT},
        {"http_cookie", RULE_BUF_HTTP_COOKIE},
        {"http_header", RULE_BUF_HTTP_HEADER},
        {"http_raw_header", RULE_BUF_HTTP_HEADER_RAW},
        {"http_client_body", RULE_BUF_HTTP_REQUEST_BODY},
        {"http_server_body", RULE_BUF_HTTP_RESPONSE_BODY},
        {"http_stat_code", RULE_BUF_HTTP_STAT_CODE},
        {"http_stat_msg", RULE_BUF_HTTP_STAT_MSG},
    };
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(mods); i++) {
        char text[160];
        snprintf(text, sizeof(text), H("content:\"a\"; %s;"), mods[i].kw);
        r = load(text);
        CHECK(r != NULL && r->matches[0].buffer == mods[i].b);
    }
}

TEST(length_and_transforms)
{
    const struct rule *r = load(H("http.host; bsize:<6; content:\"ab\";"));

    CHECK_INT(on(r, RULE_BUF_HTTP_HOST, "abcde"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_HOST, "abcdef"), 0);
    r = load(H("urilen:5<>8;"));
    CHECK(r != NULL && r->matches[0].buffer == RULE_BUF_HTTP_URI);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/abcde"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/abcdefg"), 0);
    r = load(H("urilen:3,raw;"));
    CHECK(r != NULL && r->matches[0].buffer == RULE_BUF_HTTP_URI_RAW);
    r = load("alert dns any any -> any any (dns.query; dotprefix; to_lowercase; "
             "content:\".evil.com\"; endswith; sid:1;)");
    CHECK(r != NULL);
    if (r != NULL)
        CHECK_INT(r->xform[RULE_BUF_DNS_QUERY], RULE_XFORM_DOTPREFIX | RULE_XFORM_TO_LOWER);
}

TEST(pcre_buffers)
{
    const struct rule *r = load(T("pcre:\"/^\\/a/U\"; pcre:\"/GET/M\"; pcre:\"/ok/Q\";"));

    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT(r->app_proto, APP_PROTO_HTTP);
    CHECK_INT(r->matches[0].buffer, RULE_BUF_HTTP_URI);
    CHECK_INT(r->matches[1].buffer, RULE_BUF_HTTP_METHOD);
    CHECK_INT(r->matches[2].buffer, RULE_BUF_HTTP_RESPONSE_BODY);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/a/b"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_URI, "/b/a"), 0);
    /* the modifier naming the current sticky buffer is allowed */
    CHECK(load(H("http.uri; pcre:\"/x/U\";")) != NULL);
}

TEST(state_tests)
{
    const struct rule *r = load("alert tls any any -> any any (tls.version:1.2; sid:1;)");

    CHECK(r != NULL && r->napp_tests == 1 && r->app_tests[0].kind == APPT_TLS_VERSION &&
          r->app_tests[0].num.a == 0x0303);
    r = load("alert tls any any -> any any (tls.version:0x0304; sid:1;)");
    CHECK(r != NULL && r->app_tests[0].num.a == 0x0304);
    r = load("alert tls any any -> any any (tls_cert_notafter:<2015-10-22; sid:1;)");
    CHECK(r != NULL && r->app_tests[0].num.op == NUM_LT && r->app_tests[0].num.a == 1445472000);
    r = load("alert tls any any -> any any (tls_cert_notbefore:2014<>2015-01-01T00:00:01; "
             "sid:1;)");
    CHECK(r != NULL && r->app_tests[0].num.op == NUM_RANGE &&
          r->app_tests[0].num.a == 1388534400 && r->app_tests[0].num.b == 1420070401);
    r = load("alert tls any any -> any any (tls_cert_expired; sid:1;)");
    CHECK(r != NULL && r->app_tests[0].kind == APPT_TLS_EXPIRED);
    r = load("alert dns any any -> any any (dns.opcode:!0; dns.rrtype:16; sid:1;)");
    CHECK(r != NULL && r->napp_tests == 2 && r->app_tests[0].num.op == NUM_NE);
    /* app-layer-protocol alone keeps a rule on the packet path */
    r = load(T("app-layer-protocol:!tls; content:\"x\";"));
    CHECK(r != NULL && !detect_app_rule(r) && r->app_tests[0].kind == APPT_PROTO &&
          r->app_tests[0].num.op == NUM_NE && r->app_tests[0].num.a == APP_PROTO_TLS);
    CHECK(load(T("app-layer-protocol:failed;")) != NULL);
    /* the legacy TLS keywords with a value: "contains" on their field */
    r = load("alert tls any any -> any any (tls.subject:\"CN=*.example.com\"; "
             "tls.issuerdn:!\"O=Evil\"; sid:1;)");
    CHECK(r != NULL && r->nmatches == 2);
    CHECK_INT(on(r, RULE_BUF_TLS_CERT_SUBJECT, "C=JP, CN=*.example.com"), 1);
    CHECK_INT(on(r, RULE_BUF_TLS_CERT_SUBJECT, "CN=www.example.com"), 0);
    CHECK_INT(on(r, RULE_BUF_TLS_CERT_ISSUER, "C=JP, O=Good"), 1);
    CHECK_INT(on(r, RULE_BUF_TLS_CERT_ISSUER, "C=JP, O=Evil"), 0);
}

TEST(errors)
{
    CHECK_STR(bad(H("http_uri;")), "http_uri: no preceding content");
    CHECK_STR(bad(H("content:\"a\"; http_uri; http_header;")),
              "http_header: the content is already in buffer http.uri");
    CHECK_STR(bad(H("content:\"a\"; rawbytes; http_uri;")),
              "http_uri: can't be combined with rawbytes");
    CHECK_STR(bad(H("http.uri:x;")), "http.uri: takes no value");
    CHECK_STR(bad(H("bsize:3;")), "bsize: needs a sticky buffer before it");
    CHECK_STR(bad(H("dotprefix;")), "dotprefix: needs a sticky buffer before it");
    CHECK_STR(bad(H("http.uri; bsize:;")), "bsize: missing value");
    CHECK_STR(bad(H("urilen:3,bogus;")), "urilen: invalid option 'bogus' (expected norm or raw)");
    CHECK_STR(bad(H("dns.query; content:\"a\";")),
              "dns.query: a dns buffer in a rule for http");
    CHECK_STR(bad("alert udp any any -> any any (http.uri; content:\"a\"; sid:1;)"),
              "http.uri: a http buffer in a rule for a protocol without it");
    CHECK_STR(bad("alert icmp any any -> any any (dns.query; content:\"a\"; sid:1;)"),
              "dns.query: a dns buffer in an icmp rule");
    CHECK_STR(bad("alert smtp any any -> any any (file_data; content:\"a\"; sid:1;)"),
              "file_data: unsupported for protocol smtp (HTTP only)");
    CHECK_INT(last_rc, KANSHI_EUNSUPPORTED);
    CHECK_STR(bad(T("app-layer-protocol:nosuch;")),
              "app-layer-protocol: unsupported protocol 'nosuch'");
    CHECK_STR(bad("alert tls any any -> any any (tls.version:9.9; sid:1;)"),
              "tls.version: invalid version '9.9' (expected 1.0, 1.1, 1.2, 1.3 or 0xNNNN)");
    CHECK_STR(bad("alert tls any any -> any any (tls_cert_notafter:2015-13-01; sid:1;)"),
              "tls_cert_notafter: invalid date (expected YYYY[-MM[-DD[THH[:MM[:SS]]]]])");
    CHECK_STR(bad("alert tls any any -> any any (tls_cert_valid:1; sid:1;)"),
              "tls_cert_valid: takes no value");
    CHECK_STR(bad(T("http.uri; pcre:\"/x/H\";")),
              "pcre: modifier 'H' in a rule that already selected buffer http.uri");
    CHECK_STR(bad(H("absent;")), "absent: needs a sticky buffer before it");
    CHECK_STR(bad(H("http.uri; absent: maybe;")),
              "absent: invalid value 'maybe' (expected or_else)");
    CHECK_STR(bad(H("http.uri; absent; absent;")), "absent: given twice for the same buffer");
    CHECK_STR(bad(H("http.uri; content:\"a\"; absent;")),
              "absent: a buffer that must be absent can't have tests");
    CHECK_STR(bad(H("http.uri; absent; content:\"a\";")),
              "absent: a buffer that must be absent can't have tests");
}

TEST(absent_and_header_buffers)
{
    const struct rule *r = load(H("http.request_body; absent; http.method; content:\"POST\";"));

    CHECK(r != NULL && r->absent == (1ull << RULE_BUF_HTTP_REQUEST_BODY) &&
          r->absent_or_else == 0);
    r = load(H("http.request_body; absent: or_else; content:!\"abc\";"));
    CHECK(r != NULL && r->absent_or_else == (1ull << RULE_BUF_HTTP_REQUEST_BODY));
    CHECK_INT(on(r, RULE_BUF_HTTP_REQUEST_BODY, "xyz"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_REQUEST_BODY, "abc"), 0);
    r = load(H("http.request_header; content:\"Connection: Upgrade\"; startswith; endswith;"));
    CHECK(r != NULL && r->matches[0].buffer == RULE_BUF_HTTP_REQUEST_HEADER);
    CHECK_INT(on(r, RULE_BUF_HTTP_REQUEST_HEADER, "Connection: Upgrade"), 1);
    CHECK_INT(on(r, RULE_BUF_HTTP_REQUEST_HEADER, "Connection: Upgrade, x"), 0);
    r = load(H("http.response_header; content:\"first\";"));
    CHECK(r != NULL && r->matches[0].buffer == RULE_BUF_HTTP_RESPONSE_HEADER);
}

int main(void)
{
    RUN(header_protocols);
    RUN(sticky_buffers);
    RUN(legacy_modifiers);
    RUN(length_and_transforms);
    RUN(pcre_buffers);
    RUN(state_tests);
    RUN(errors);
    RUN(absent_and_header_buffers);
    ruleset_destroy(rs);
    return test_summary("rule_app");
}
