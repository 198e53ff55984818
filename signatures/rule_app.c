/*
 * rule_app.c — the application-layer part of the rule language: sticky
 * buffers (http.uri; content:...), the legacy content modifiers
 * (content:...; http_uri;), uricontent, urilen, bsize, transforms
 * (dotprefix, ...), app-layer-protocol and the DNS and TLS state tests.
 *
 * A sticky buffer switches every later payload keyword of the rule to that
 * buffer until the next one (or pkt_data); a legacy modifier moves only the
 * content before it.  Each buffer belongs to one protocol: a rule using one
 * is a rule for that protocol, whatever its header says ("alert tcp ...
 * (http.uri; ...)" is an HTTP rule, as in Suricata), and a rule mixing two
 * protocols does not load.
 *
 * The keyword tables are what the parser (rule_parse.c) consults before its
 * own; the buffers themselves are filled by the sensor's parsers
 * (sensor/app_*.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kanshi/app.h"
#include "kanshi/kanshi.h"
#include "rule_int.h"

enum { STICKY, MODIFIER };

struct buf_kw {
    const char *name;
    enum rule_buffer buf;
    uint8_t proto; /* enum app_proto */
    uint8_t kind;  /* STICKY or MODIFIER */
};

/* clang-format off */
static const struct buf_kw buf_kws[] = {
    /* HTTP sticky buffers, dotted names and their underscore aliases */
    {"http.method", RULE_BUF_HTTP_METHOD, APP_PROTO_HTTP, STICKY},
    {"http.uri", RULE_BUF_HTTP_URI, APP_PROTO_HTTP, STICKY},
    {"http.uri.raw", RULE_BUF_HTTP_URI_RAW, APP_PROTO_HTTP, STICKY},
    {"http.protocol", RULE_BUF_HTTP_PROTOCOL, APP_PROTO_HTTP, STICKY},
    {"http_protocol", RULE_BUF_HTTP_PROTOCOL, APP_PROTO_HTTP, STICKY},
    {"http.request_line", RULE_BUF_HTTP_REQUEST_LINE, APP_PROTO_HTTP, STICKY},
    {"http_request_line", RULE_BUF_HTTP_REQUEST_LINE, APP_PROTO_HTTP, STICKY},
    {"http.host", RULE_BUF_HTTP_HOST, APP_PROTO_HTTP, STICKY},
    {"http.host.raw", RULE_BUF_HTTP_HOST_RAW, APP_PROTO_HTTP, STICKY},
    {"http.user_agent", RULE_BUF_HTTP_USER_AGENT, APP_PROTO_HTTP, STICKY},
    {"http.cookie", RULE_BUF_HTTP_COOKIE, APP_PROTO_HTTP, STICKY},
    {"http.accept", RULE_BUF_HTTP_ACCEPT, APP_PROTO_HTTP, STICKY},
    {"http_accept", RULE_BUF_HTTP_ACCEPT, APP_PROTO_HTTP, STICKY},
    {"http.accept_enc", RULE_BUF_HTTP_ACCEPT_ENC, APP_PROTO_HTTP, STICKY},
    {"http_accept_enc", RULE_BUF_HTTP_ACCEPT_ENC, APP_PROTO_HTTP, STICKY},
    {"http.accept_lang", RULE_BUF_HTTP_ACCEPT_LANG, APP_PROTO_HTTP, STICKY},
    {"http_accept_lang", RULE_BUF_HTTP_ACCEPT_LANG, APP_PROTO_HTTP, STICKY},
    {"http.referer", RULE_BUF_HTTP_REFERER, APP_PROTO_HTTP, STICKY},
    {"http_referer", RULE_BUF_HTTP_REFERER, APP_PROTO_HTTP, STICKY},
    {"http.connection", RULE_BUF_HTTP_CONNECTION, APP_PROTO_HTTP, STICKY},
    {"http_connection", RULE_BUF_HTTP_CONNECTION, APP_PROTO_HTTP, STICKY},
    {"http.content_type", RULE_BUF_HTTP_CONTENT_TYPE, APP_PROTO_HTTP, STICKY},
    {"http_content_type", RULE_BUF_HTTP_CONTENT_TYPE, APP_PROTO_HTTP, STICKY},
    {"http.content_len", RULE_BUF_HTTP_CONTENT_LEN, APP_PROTO_HTTP, STICKY},
    {"http_content_len", RULE_BUF_HTTP_CONTENT_LEN, APP_PROTO_HTTP, STICKY},
    {"http.header", RULE_BUF_HTTP_HEADER, APP_PROTO_HTTP, STICKY},
    {"http.header.raw", RULE_BUF_HTTP_HEADER_RAW, APP_PROTO_HTTP, STICKY},
    {"http.header_names", RULE_BUF_HTTP_HEADER_NAMES, APP_PROTO_HTTP, STICKY},
    {"http_header_names", RULE_BUF_HTTP_HEADER_NAMES, APP_PROTO_HTTP, STICKY},
    {"http.start", RULE_BUF_HTTP_START, APP_PROTO_HTTP, STICKY},
    {"http_start", RULE_BUF_HTTP_START, APP_PROTO_HTTP, STICKY},
    {"http.request_body", RULE_BUF_HTTP_REQUEST_BODY, APP_PROTO_HTTP, STICKY},
    {"http.stat_code", RULE_BUF_HTTP_STAT_CODE, APP_PROTO_HTTP, STICKY},
    {"http.stat_msg", RULE_BUF_HTTP_STAT_MSG, APP_PROTO_HTTP, STICKY},
    {"http.response_line", RULE_BUF_HTTP_RESPONSE_LINE, APP_PROTO_HTTP, STICKY},
    {"http_response_line", RULE_BUF_HTTP_RESPONSE_LINE, APP_PROTO_HTTP, STICKY},
    {"http.server", RULE_BUF_HTTP_SERVER, APP_PROTO_HTTP, STICKY},
    {"http_server", RULE_BUF_HTTP_SERVER, APP_PROTO_HTTP, STICKY},
    {"http.location", RULE_BUF_HTTP_LOCATION, APP_PROTO_HTTP, STICKY},
    {"http_location", RULE_BUF_HTTP_LOCATION, APP_PROTO_HTTP, STICKY},
    {"http.response_body", RULE_BUF_HTTP_RESPONSE_BODY, APP_PROTO_HTTP, STICKY},
    {"http.request_header", RULE_BUF_HTTP_REQUEST_HEADER, APP_PROTO_HTTP, STICKY},
    {"http.response_header", RULE_BUF_HTTP_RESPONSE_HEADER, APP_PROTO_HTTP, STICKY},
    /* file_data: the HTTP body (the response's; to_server rules the request's) */
    {"file_data", RULE_BUF_HTTP_RESPONSE_BODY, APP_PROTO_HTTP, STICKY},
    {"file.data", RULE_BUF_HTTP_RESPONSE_BODY, APP_PROTO_HTTP, STICKY},
    /* HTTP legacy content modifiers */
    {"http_method", RULE_BUF_HTTP_METHOD, APP_PROTO_HTTP, MODIFIER},
    {"http_uri", RULE_BUF_HTTP_URI, APP_PROTO_HTTP, MODIFIER},
    {"http_raw_uri", RULE_BUF_HTTP_URI_RAW, APP_PROTO_HTTP, MODIFIER},
    {"http_host", RULE_BUF_HTTP_HOST, APP_PROTO_HTTP, MODIFIER},
    {"http_raw_host", RULE_BUF_HTTP_HOST_RAW, APP_PROTO_HTTP, MODIFIER},
    {"http_user_agent", RULE_BUF_HTTP_USER_AGENT, APP_PROTO_HTTP, MODIFIER},
    {"http_cookie", RULE_BUF_HTTP_COOKIE, APP_PROTO_HTTP, MODIFIER},
    {"http_header", RULE_BUF_HTTP_HEADER, APP_PROTO_HTTP, MODIFIER},
    {"http_raw_header", RULE_BUF_HTTP_HEADER_RAW, APP_PROTO_HTTP, MODIFIER},
    {"http_client_body", RULE_BUF_HTTP_REQUEST_BODY, APP_PROTO_HTTP, MODIFIER},
    {"http_server_body", RULE_BUF_HTTP_RESPONSE_BODY, APP_PROTO_HTTP, MODIFIER},
    {"http_stat_code", RULE_BUF_HTTP_STAT_CODE, APP_PROTO_HTTP, MODIFIER},
    {"http_stat_msg", RULE_BUF_HTTP_STAT_MSG, APP_PROTO_HTTP, MODIFIER},
    /* DNS */
    {"dns.query", RULE_BUF_DNS_QUERY, APP_PROTO_DNS, STICKY},
    {"dns_query", RULE_BUF_DNS_QUERY, APP_PROTO_DNS, STICKY},
    /* TLS */
    {"tls.sni", RULE_BUF_TLS_SNI, APP_PROTO_TLS, STICKY},
    {"tls_sni", RULE_BUF_TLS_SNI, APP_PROTO_TLS, STICKY},
    {"tls.cert_subject", RULE_BUF_TLS_CERT_SUBJECT, APP_PROTO_TLS, STICKY},
    {"tls_cert_subject", RULE_BUF_TLS_CERT_SUBJECT, APP_PROTO_TLS, STICKY},
    {"tls.cert_issuer", RULE_BUF_TLS_CERT_ISSUER, APP_PROTO_TLS, STICKY},
    {"tls_cert_issuer", RULE_BUF_TLS_CERT_ISSUER, APP_PROTO_TLS, STICKY},
    {"tls.cert_serial", RULE_BUF_TLS_CERT_SERIAL, APP_PROTO_TLS, STICKY},
    {"tls_cert_serial", RULE_BUF_TLS_CERT_SERIAL, APP_PROTO_TLS, STICKY},
    {"tls.cert_fingerprint", RULE_BUF_TLS_CERT_FINGERPRINT, APP_PROTO_TLS, STICKY},
    {"tls_cert_fingerprint", RULE_BUF_TLS_CERT_FINGERPRINT, APP_PROTO_TLS, STICKY},
    {"tls.certs", RULE_BUF_TLS_CERTS, APP_PROTO_TLS, STICKY},
    {"ja3.hash", RULE_BUF_TLS_JA3_HASH, APP_PROTO_TLS, STICKY},
    {"ja3_hash", RULE_BUF_TLS_JA3_HASH, APP_PROTO_TLS, STICKY},
    {"ja3.string", RULE_BUF_TLS_JA3_STRING, APP_PROTO_TLS, STICKY},
    {"ja3_string", RULE_BUF_TLS_JA3_STRING, APP_PROTO_TLS, STICKY},
    {"ja3s.hash", RULE_BUF_TLS_JA3S_HASH, APP_PROTO_TLS, STICKY},
    {"ja3s_hash", RULE_BUF_TLS_JA3S_HASH, APP_PROTO_TLS, STICKY},
    {"ja3s.string", RULE_BUF_TLS_JA3S_STRING, APP_PROTO_TLS, STICKY},
    {"ja3s_string", RULE_BUF_TLS_JA3S_STRING, APP_PROTO_TLS, STICKY},
};

/* Transforms: apply to the sticky buffer before them. */
static const struct {
    const char *name;
    uint8_t bit;
} xforms[] = {
    {"dotprefix", RULE_XFORM_DOTPREFIX},
    {"to_lowercase", RULE_XFORM_TO_LOWER},
    {"to_uppercase", RULE_XFORM_TO_UPPER},
    {"strip_whitespace", RULE_XFORM_STRIP_WS},
    {"compress_whitespace", RULE_XFORM_COMPRESS_WS},
    {"url_decode", RULE_XFORM_URL_DECODE},
};
/* clang-format on */

/* Names of the buffers, for messages and kanshi-sig (index enum rule_buffer). */
const char *rule_buffer_name(enum rule_buffer b)
{
    if (b == RULE_BUF_PAYLOAD)
        return "payload";
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(buf_kws); i++)
        if (buf_kws[i].buf == b && buf_kws[i].kind == STICKY)
            return buf_kws[i].name;
    return "?";
}

/* The rule is for protocol proto from now on; an error when it already is
 * for another one. */
static int set_app_proto(struct rparse *p, uint8_t proto)
{
    struct rule *r = p->r;

    if (r->app_proto == APP_PROTO_UNKNOWN) {
        r->app_proto = proto;
        /* an "alert tcp/udp/ip" rule using the buffers keeps its header
         * protocol; the app protocol narrows it */
        return 0;
    }
    if (r->app_proto != proto)
        return rp_err(p, "a %s buffer in a rule for %s", app_proto_name(proto),
                      app_proto_name(r->app_proto));
    return 0;
}

static int buffer_ok_for_header(struct rparse *p, uint8_t proto)
{
    enum rule_proto hp = p->r->proto;

    /* DNS runs over both; HTTP and TLS only over TCP */
    if (proto != APP_PROTO_DNS && (hp == RULE_PROTO_UDP || hp == RULE_PROTO_ICMP ||
                                   hp == RULE_PROTO_ICMPV6))
        return rp_err(p, "a %s buffer in a rule for a protocol without it",
                      app_proto_name(proto));
    if (hp == RULE_PROTO_ICMP || hp == RULE_PROTO_ICMPV6)
        return rp_err(p, "a %s buffer in an icmp rule", app_proto_name(proto));
    return 0;
}

static int kw_sticky(struct rparse *p, const struct buf_kw *k, const char *v)
{
    int rc;

    if (v != NULL)
        return rp_err(p, "takes no value");
    if (k->buf == RULE_BUF_HTTP_RESPONSE_BODY && p->r->app_proto != APP_PROTO_UNKNOWN &&
        p->r->app_proto != APP_PROTO_HTTP)
        return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported for protocol %s (HTTP only)",
                       app_proto_name(p->r->app_proto));
    if ((rc = buffer_ok_for_header(p, k->proto)) != 0 || (rc = set_app_proto(p, k->proto)) != 0)
        return rc;
    p->cur_buf = k->buf;
    p->r->buffers |= 1ull << k->buf;
    return 0;
}

static int kw_modifier(struct rparse *p, const struct buf_kw *k, const char *v)
{
    struct rule_match *m;
    int rc;

    if (v != NULL)
        return rp_err(p, "takes no value");
    if (p->last_content < 0)
        return rp_err(p, "no preceding content");
    m = &p->r->matches[p->last_content];
    if (m->buffer != RULE_BUF_PAYLOAD)
        return rp_err(p, "the content is already in buffer %s", rule_buffer_name(m->buffer));
    if (m->u.content.flags & CONTENT_RAWBYTES)
        return rp_err(p, "can't be combined with rawbytes");
    if ((rc = buffer_ok_for_header(p, k->proto)) != 0 || (rc = set_app_proto(p, k->proto)) != 0)
        return rc;
    m->buffer = k->buf;
    p->r->buffers |= 1ull << k->buf;
    return 0;
}

/* uricontent:"..." is content:"..."; http_uri; */
static int kw_uricontent(struct rparse *p, char *v)
{
    static const struct buf_kw uri = {"http_uri", RULE_BUF_HTTP_URI, APP_PROTO_HTTP, MODIFIER};
    int rc = rule_kw_content(p, v);

    if (rc != 0)
        return rc;
    return kw_modifier(p, &uri, NULL);
}

/* bsize:N (every numeric form): the current sticky buffer's length. */
static int length_test(struct rparse *p, enum rule_buffer buf, const char *v)
{
    struct rule_match *m;
    struct rule_num n;
    int rc;

    if ((rc = rule_num_parse(p, v, UINT32_MAX, &n)) != 0)
        return rc;
    if ((m = rule_match_append(p)) == NULL)
        return -ENOMEM;
    m->kind = RULE_MATCH_BSIZE;
    m->buffer = buf;
    m->u.num = n;
    p->r->buffers |= 1ull << buf;
    return 0;
}

static int kw_bsize(struct rparse *p, char *v)
{
    if (p->cur_buf == RULE_BUF_PAYLOAD)
        return rp_err(p, "needs a sticky buffer before it");
    return length_test(p, p->cur_buf, v);
}

/* urilen:N[,norm|raw] */
static int kw_urilen(struct rparse *p, char *v)
{
    static const struct buf_kw uri = {"http.uri", RULE_BUF_HTTP_URI, APP_PROTO_HTTP, STICKY};
    static const struct buf_kw raw = {"http.uri.raw", RULE_BUF_HTTP_URI_RAW, APP_PROTO_HTTP,
                                      STICKY};
    const struct buf_kw *k = &uri;
    char *comma = strchr(v, ',');
    int rc;

    if (comma != NULL) {
        char *opt = rule_trim(comma + 1);
        *comma = '\0';
        if (strcmp(opt, "raw") == 0)
            k = &raw;
        else if (strcmp(opt, "norm") != 0)
            return rp_err(p, "invalid option '%s' (expected norm or raw)", opt);
    }
    if ((rc = buffer_ok_for_header(p, APP_PROTO_HTTP)) != 0 ||
        (rc = set_app_proto(p, APP_PROTO_HTTP)) != 0)
        return rc;
    return length_test(p, k->buf, rule_trim(v));
}

/* absent[: or_else]: the current sticky buffer matches when it is missing
 * (Suricata 8); with or_else, also when present and its tests match. */
static int kw_absent(struct rparse *p, char *v)
{
    uint64_t bit;

    if (p->cur_buf == RULE_BUF_PAYLOAD)
        return rp_err(p, "needs a sticky buffer before it");
    bit = 1ull << p->cur_buf;
    if ((p->r->absent | p->r->absent_or_else) & bit)
        return rp_err(p, "given twice for the same buffer");
    if (v == NULL) {
        for (size_t i = 0; i < p->r->nmatches; i++)
            if (p->r->matches[i].buffer == p->cur_buf)
                return rp_err(p, "a buffer that must be absent can't have tests");
        p->r->absent |= bit;
        return 0;
    }
    if (strcmp(v, "or_else") != 0)
        return rp_err(p, "invalid value '%s' (expected or_else)", v);
    p->r->absent_or_else |= bit;
    return 0;
}

static int app_test_append(struct rparse *p, enum rule_app_test_kind kind,
                           const struct rule_num *n)
{
    struct rule *r = p->r;
    struct rule_app_test *t;

    t = kanshi_reallocarray(r->app_tests, r->napp_tests + 1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    r->app_tests = t;
    t[r->napp_tests].kind = kind;
    t[r->napp_tests].num = *n;
    r->napp_tests++;
    return 0;
}

/* app-layer-protocol:[!]NAME[,MODE] */
static int kw_app_layer_protocol(struct rparse *p, char *v)
{
    static const char *const modes[] = {"final", "to_server", "to_client", "either",
                                        "direction", "original"};
    struct rule_num n = {.op = NUM_EQ};
    char *comma = strchr(v, ',');
    enum app_proto ap;

    if (comma != NULL) {
        /* which detection: the flow's (final, original), one direction's,
         * either's, or the packet's direction's (num.b, APPT_MODE_*) */
        char *m = rule_trim(comma + 1);
        size_t k = 0;
        *comma = '\0';
        while (k < KANSHI_ARRAY_LEN(modes) && strcmp(m, modes[k]) != 0)
            k++;
        if (k == KANSHI_ARRAY_LEN(modes))
            return rp_err(p, "invalid mode '%s' (expected to_server, to_client, either, "
                             "direction, final or original)",
                          m);
        n.b = k == 5 ? 0 : k;
    }
    v = rule_trim(v);
    if (*v == '!') {
        n.op = NUM_NE;
        v = rule_trim(v + 1);
    }
    if (strcmp(v, "failed") == 0)
        ap = APP_PROTO_FAILED;
    else if (strcmp(v, "unknown") == 0)
        ap = APP_PROTO_UNKNOWN;
    else if ((ap = app_proto_from_name(v)) == APP_PROTO_UNKNOWN)
        return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported protocol '%s'", v);
    n.a = ap;
    return app_test_append(p, APPT_PROTO, &n);
}

static int app_num_test(struct rparse *p, uint8_t proto, enum rule_app_test_kind kind,
                        const char *v, uint64_t max)
{
    struct rule_num n;
    int rc;

    if ((rc = buffer_ok_for_header(p, proto)) != 0 || (rc = set_app_proto(p, proto)) != 0)
        return rc;
    if ((rc = rule_num_parse(p, v, max, &n)) != 0)
        return rc;
    return app_test_append(p, kind, &n);
}

static int kw_dns_opcode(struct rparse *p, char *v)
{
    return app_num_test(p, APP_PROTO_DNS, APPT_DNS_OPCODE, v, 15);
}

static int kw_dns_rrtype(struct rparse *p, char *v)
{
    return app_num_test(p, APP_PROTO_DNS, APPT_DNS_RRTYPE, v, UINT16_MAX);
}

/* tls.version:1.2 | 1.0 | 1.1 | 1.3 | 0x0303 (Suricata's forms) */
static int kw_tls_version(struct rparse *p, char *v)
{
    static const struct {
        const char *name;
        uint16_t wire;
    } names[] = {{"1.0", 0x0301}, {"1.1", 0x0302}, {"1.2", 0x0303}, {"1.3", 0x0304},
                 {"3.0", 0x0300}, {"ssl3", 0x0300}};
    struct rule_num n = {.op = NUM_EQ};
    int64_t x;
    int rc;

    if ((rc = buffer_ok_for_header(p, APP_PROTO_TLS)) != 0 ||
        (rc = set_app_proto(p, APP_PROTO_TLS)) != 0)
        return rc;
    {
        char *u = rule_unquote(v);
        v = rule_trim(u != NULL ? u : v);
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(names); i++) {
        if (strcasecmp(v, names[i].name) == 0) {
            n.a = names[i].wire;
            return app_test_append(p, APPT_TLS_VERSION, &n);
        }
    }
    if (rule_parse_num(v, 0, UINT16_MAX, &x) != 0)
        return rp_err(p, "invalid version '%s' (expected 1.0, 1.1, 1.2, 1.3 or 0xNNNN)", v);
    n.a = (uint64_t)x;
    return app_test_append(p, APPT_TLS_VERSION, &n);
}

/* A date as Suricata's tls_cert_notbefore takes it: YYYY[-MM[-DD[THH[:MM[:SS]]]]],
 * in UTC.  Seconds since the epoch, or -1. */
static int64_t parse_date(const char *s)
{
    struct tm tm = {.tm_mday = 1};
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0, n = 0;
    int got = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n);

    if (got < 1)
        return -1;
    if (got < 6) {
        /* a shorter form: check that nothing but the parsed fields is there */
        size_t len = strlen(s);
        static const size_t want[] = {4, 7, 10, 13, 16};
        if (len != want[got - 1])
            return -1;
    } else if (s[n] != '\0') {
        return -1;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

/* tls_cert_notbefore / notafter: [<|>]DATE or DATE<>DATE (dates as above). */
static int cert_date(struct rparse *p, enum rule_app_test_kind kind, char *v)
{
    struct rule_num n = {.op = NUM_EQ};
    char *range = strstr(v, "<>");
    int64_t a, b = 0;
    int rc;

    if ((rc = buffer_ok_for_header(p, APP_PROTO_TLS)) != 0 ||
        (rc = set_app_proto(p, APP_PROTO_TLS)) != 0)
        return rc;
    v = rule_trim(v);
    if (range != NULL) {
        *range = '\0';
        a = parse_date(rule_trim(v));
        b = parse_date(rule_trim(range + 2));
        n.op = NUM_RANGE;
    } else if (*v == '<' || *v == '>') {
        n.op = *v == '<' ? NUM_LT : NUM_GT;
        a = parse_date(rule_trim(v + 1));
    } else {
        a = parse_date(v);
    }
    if (a < 0 || b < 0)
        return rp_err(p, "invalid date (expected YYYY[-MM[-DD[THH[:MM[:SS]]]]])");
    n.a = (uint64_t)a;
    n.b = (uint64_t)b;
    return app_test_append(p, kind, &n);
}

static int kw_tls_notbefore(struct rparse *p, char *v)
{
    return cert_date(p, APPT_TLS_NOTBEFORE, v);
}

static int kw_tls_notafter(struct rparse *p, char *v)
{
    return cert_date(p, APPT_TLS_NOTAFTER, v);
}

static int cert_flag(struct rparse *p, enum rule_app_test_kind kind, const char *v)
{
    struct rule_num n = {.op = NUM_EQ};
    int rc;

    if (v != NULL)
        return rp_err(p, "takes no value");
    if ((rc = buffer_ok_for_header(p, APP_PROTO_TLS)) != 0 ||
        (rc = set_app_proto(p, APP_PROTO_TLS)) != 0)
        return rc;
    return app_test_append(p, kind, &n);
}

static int kw_tls_expired(struct rparse *p, char *v)
{
    return cert_flag(p, APPT_TLS_EXPIRED, v);
}

static int kw_tls_valid(struct rparse *p, char *v)
{
    return cert_flag(p, APPT_TLS_VALID, v);
}

/* The legacy TLS keywords with a value (tls.subject:"CN=x"; ...): Suricata
 * tests that the field contains the string, as a content on that buffer. */
static int tls_legacy(struct rparse *p, enum rule_buffer buf, char *v)
{
    enum rule_buffer saved = p->cur_buf;
    int rc;

    if ((rc = buffer_ok_for_header(p, APP_PROTO_TLS)) != 0 ||
        (rc = set_app_proto(p, APP_PROTO_TLS)) != 0)
        return rc;
    p->cur_buf = buf;
    rc = rule_kw_content(p, v);
    p->cur_buf = saved;
    if (rc == 0) {
        p->r->buffers |= 1ull << buf;
        p->last_content = -1; /* content modifiers do not apply to it */
    }
    return rc;
}

static int kw_tls_subject(struct rparse *p, char *v)
{
    return tls_legacy(p, RULE_BUF_TLS_CERT_SUBJECT, v);
}

static int kw_tls_issuerdn(struct rparse *p, char *v)
{
    return tls_legacy(p, RULE_BUF_TLS_CERT_ISSUER, v);
}

static int kw_tls_fingerprint(struct rparse *p, char *v)
{
    return tls_legacy(p, RULE_BUF_TLS_CERT_FINGERPRINT, v);
}

static const struct {
    const char *name;
    int (*fn)(struct rparse *p, char *v);
    bool value; /* takes a value */
} app_kws[] = {
    {"tls.subject", kw_tls_subject, true},
    {"tls.issuerdn", kw_tls_issuerdn, true},
    {"tls.fingerprint", kw_tls_fingerprint, true},
    {"uricontent", kw_uricontent, true},
    {"urilen", kw_urilen, true},
    {"bsize", kw_bsize, true},
    {"app-layer-protocol", kw_app_layer_protocol, true},
    {"dns.opcode", kw_dns_opcode, true},
    {"dns.rrtype", kw_dns_rrtype, true},
    {"tls.version", kw_tls_version, true},
    {"tls_cert_notbefore", kw_tls_notbefore, true},
    {"tls_cert_notafter", kw_tls_notafter, true},
    {"tls_cert_expired", kw_tls_expired, false},
    {"tls_cert_valid", kw_tls_valid, false},
};

/* Keywords whose value is optional. */
static const struct {
    const char *name;
    int (*fn)(struct rparse *p, char *v);
} app_kws_opt[] = {
    {"absent", kw_absent},
};

int rule_app_keyword(struct rparse *p, const char *name, char *v)
{
    if (v != NULL && *v == '\0') {
        /* "name:;" is as if no value was given: "missing value" for ours */
        int rc = rule_app_keyword(p, name, NULL);
        if (rc == 1)
            return 1;
        return rp_err(p, "missing value");
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(buf_kws); i++) {
        if (strcmp(buf_kws[i].name, name) == 0)
            return buf_kws[i].kind == STICKY ? kw_sticky(p, &buf_kws[i], v)
                                             : kw_modifier(p, &buf_kws[i], v);
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(xforms); i++) {
        if (strcmp(xforms[i].name, name) == 0) {
            if (v != NULL)
                return rp_err(p, "takes no value");
            if (p->cur_buf == RULE_BUF_PAYLOAD)
                return rp_err(p, "needs a sticky buffer before it");
            p->r->xform[p->cur_buf] |= xforms[i].bit;
            return 0;
        }
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(app_kws_opt); i++)
        if (strcmp(app_kws_opt[i].name, name) == 0)
            return app_kws_opt[i].fn(p, v);
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(app_kws); i++) {
        if (strcmp(app_kws[i].name, name) == 0) {
            if (app_kws[i].value && v == NULL)
                return rp_err(p, "needs a value");
            if (!app_kws[i].value && v != NULL)
                return rp_err(p, "takes no value");
            return app_kws[i].fn(p, v);
        }
    }
    return 1; /* not one of ours */
}

/* The pcre modifiers that select an HTTP buffer. */
int rule_app_pcre_buffer(struct rparse *p, char mod, enum rule_buffer *out)
{
    static const struct {
        char mod;
        enum rule_buffer buf;
    } mods[] = {
        {'U', RULE_BUF_HTTP_URI},          {'I', RULE_BUF_HTTP_URI_RAW},
        {'P', RULE_BUF_HTTP_REQUEST_BODY}, {'Q', RULE_BUF_HTTP_RESPONSE_BODY},
        {'H', RULE_BUF_HTTP_HEADER},       {'D', RULE_BUF_HTTP_HEADER_RAW},
        {'M', RULE_BUF_HTTP_METHOD},       {'C', RULE_BUF_HTTP_COOKIE},
        {'S', RULE_BUF_HTTP_STAT_CODE},    {'Y', RULE_BUF_HTTP_STAT_MSG},
        {'V', RULE_BUF_HTTP_USER_AGENT},   {'W', RULE_BUF_HTTP_HOST},
        {'Z', RULE_BUF_HTTP_HOST_RAW},
    };
    int rc;

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(mods); i++) {
        if (mods[i].mod == mod) {
            if (p->cur_buf != RULE_BUF_PAYLOAD && p->cur_buf != mods[i].buf)
                return rp_err(p, "modifier '%c' in a rule that already selected buffer %s", mod,
                              rule_buffer_name(p->cur_buf));
            if ((rc = buffer_ok_for_header(p, APP_PROTO_HTTP)) != 0 ||
                (rc = set_app_proto(p, APP_PROTO_HTTP)) != 0)
                return rc;
            *out = mods[i].buf;
            p->r->buffers |= 1ull << mods[i].buf;
            return 0;
        }
    }
    return 1;
}
