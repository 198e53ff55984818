/*
 * eve_test.c — the JSON builder's escaping, the alert line's exact fields,
 * timestamps and the line writer.  Every line produced here is also run
 * through a small strict JSON parser (RFC 8259, UTF-8 checked) so that a
 * builder bug cannot hide behind a string comparison written to match it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "kanshi/eve.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

/* ---- a strict JSON validator ------------------------------------------------------------ */

struct jv {
    const unsigned char *s;
    size_t n, i;
    int depth;
};

static bool jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
    while (v->i < v->n &&
           (v->s[v->i] == ' ' || v->s[v->i] == '\t' || v->s[v->i] == '\n' || v->s[v->i] == '\r'))
        v->i++;
}

static bool jv_lit(struct jv *v, const char *lit)
{
    size_t l = strlen(lit);

    if (v->n - v->i < l || memcmp(v->s + v->i, lit, l) != 0)
        return false;
    v->i += l;
    return true;
}

static bool jv_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting at s[i] (RFC 3629); returns its length or 0. */
static size_t jv_utf8(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n - i < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
        return 0; /* overlong */
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static bool jv_string(struct jv *v)
{
    if (v->i >= v->n || v->s[v->i] != '"')
        return false;
    v->i++;
    while (v->i < v->n) {
        unsigned char c = v->s[v->i];
        if (c == '"') {
            v->i++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (++v->i >= v->n)
                return false;
            c = v->s[v->i];
            if (c == 'u') {
                if (v->n - v->i < 5)
                    return false;
                for (int k = 1; k <= 4; k++)
                    if (!jv_hex(v->s[v->i + k]))
                        return false;
                v->i += 5;
                continue;
            }
            if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
                return false;
            v->i++;
            continue;
        }
        size_t l = jv_utf8(v->s, v->n, v->i);
        if (l == 0)
            return false;
        v->i += l;
    }
    return false;
}

static bool jv_digits(struct jv *v)
{
    size_t start = v->i;

    while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
        v->i++;
    return v->i > start;
}

static bool jv_number(struct jv *v)
{
    if (v->i < v->n && v->s[v->i] == '-')
        v->i++;
    if (v->i < v->n && v->s[v->i] == '0')
        v->i++;
    else if (!(v->i < v->n && v->s[v->i] >= '1' && v->s[v->i] <= '9') || !jv_digits(v))
        return false;
    if (v->i < v->n && v->s[v->i] == '.') {
        v->i++;
        if (!jv_digits(v))
            return false;
    }
    if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
        v->i++;
        if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
            v->i++;
        if (!jv_digits(v))
            return false;
    }
    return true;
}

static bool jv_container(struct jv *v, char open, char close)
{
    if (++v->depth > 64)
        return false;
    v->i++; /* open */
    (void)open;
    jv_ws(v);
    if (v->i < v->n && v->s[v->i] == close) {
        v->i++;
        v->depth--;
        return true;
    }
    for (;;) {
        jv_ws(v);
        if (close == '}') {
            if (!jv_string(v))
                return false;
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != ':')
                return false;
            v->i++;
        }
        if (!jv_value(v))
            return false;
        jv_ws(v);
        if (v->i >= v->n)
            return false;
        if (v->s[v->i] == ',') {
            v->i++;
            continue;
        }
        if (v->s[v->i] == close) {
            v->i++;
            v->depth--;
            return true;
        }
        return false;
    }
}

static bool jv_value(struct jv *v)
{
    jv_ws(v);
    if (v->i >= v->n)
        return false;
    switch (v->s[v->i]) {
    case '{':
        return jv_container(v, '{', '}');
    case '[':
        return jv_container(v, '[', ']');
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return jv_number(v);
    }
}

/* True when s[0..n) is exactly one JSON value (surrounding whitespace allowed). */
static bool json_valid(const char *s, size_t n)
{
    struct jv v = {(const unsigned char *)s, n, 0, 0};

    if (!jv_value(&v))
        return false;
    jv_ws(&v);
    return v.i == n;
}

/* The validator itself must reject what it should. */
TEST(test_validator)
{
    static const char *const good[] = {
        "{}",
        "[]",
        "0",
        "-1.5e+10",
        "\"a\\u00e9\\n\"",
        "{\"a\":[1,true,null,{\"b\":\"\"}]}",
        "\"\xc3\xa9\xf0\x9f\x98\x80\"",
        " [ 1 , 2 ] \n",
    };
    static const char *const bad[] = {
        "",
        "{",
        "{\"a\"}",
        "{\"a\":1,}",
        "[1,]",
        "01",
        "1.",
        "\"\x01\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\xff\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "{a:1}",
        "[1] [2]",
        "tru",
        "\"abc",
        "+1",
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(good); i++) {
        if (!json_valid(good[i], strlen(good[i])))
            fprintf(stderr, "good[%zu] rejected\n", i);
        CHECK(json_valid(good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(bad); i++) {
        if (json_valid(bad[i], strlen(bad[i])))
            fprintf(stderr, "bad[%zu] accepted\n", i);
        CHECK(!json_valid(bad[i], strlen(bad[i])));
    }
}

/* ---- the builder ------------------------------------------------------------------------ */

/* Builds ["<s>"] and returns the text between the brackets. */
static const char *quoted(const void *s, size_t len)
{
    static char out[512];
    struct jbuf b;

    jbuf_init(&b);
    jbuf_open_array(&b, NULL);
    jbuf_string_len(&b, NULL, s, len);
    jbuf_close_array(&b);
    CHECK(jbuf_ok(&b));
    CHECK(json_valid(b.p, b.len));
    snprintf(out, sizeof(out), "%.*s", (int)(b.len - 2), b.p + 1);
    jbuf_fini(&b);
    return out;
}

#define Q(lit) quoted(lit, sizeof(lit) - 1)

TEST(test_escaping)
{
    CHECK_STR(Q("plain text"), "\"plain text\"");
    CHECK_STR(Q("a\"b"), "\"a\\\"b\"");
    CHECK_STR(Q("back\\slash"), "\"back\\\\slash\"");
    CHECK_STR(Q("a/b"), "\"a/b\"");
    CHECK_STR(Q("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    CHECK_STR(Q("\x01\x1f"), "\"\\u0001\\u001f\"");
    CHECK_STR(Q("nul\0byte"), "\"nul\\u0000byte\"");
    CHECK_STR(Q("\x7f"), "\"\x7f\"");
    /* Valid UTF-8 passes through. */
    CHECK_STR(Q("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    CHECK_STR(Q("\xe6\x97\xa5\xe6\x9c\xac"), "\"\xe6\x97\xa5\xe6\x9c\xac\"");
    CHECK_STR(Q("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
    CHECK_STR(Q("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");
    /* Invalid UTF-8: each offending byte as \u00XX. */
    CHECK_STR(Q("\xff"), "\"\\u00ff\"");
    CHECK_STR(Q("a\x80z"), "\"a\\u0080z\"");
    CHECK_STR(Q("\xc0\xaf"), "\"\\u00c0\\u00af\"");                       /* overlong '/' */
    CHECK_STR(Q("\xe0\x80\xaf"), "\"\\u00e0\\u0080\\u00af\"");            /* overlong */
    CHECK_STR(Q("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");            /* surrogate */
    CHECK_STR(Q("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
    CHECK_STR(Q("\xe2\x82"), "\"\\u00e2\\u0082\"");                       /* truncated */
    CHECK_STR(Q("\xe2\x82z"), "\"\\u00e2\\u0082z\"");
    CHECK_STR(Q("\xc3"), "\"\\u00c3\"");
    /* A valid sequence right after an invalid byte survives. */
    CHECK_STR(Q("\xff\xc3\xa9"), "\"\\u00ff\xc3\xa9\"");
}

TEST(test_structure)
{
    struct jbuf b;

    jbuf_init(&b);
    CHECK(jbuf_ok(&b));
    jbuf_open_object(&b, NULL);
    jbuf_string(&b, "s", "v");
    jbuf_uint(&b, "u", UINT64_MAX);
    jbuf_int(&b, "i", INT64_MIN);
    jbuf_int(&b, "neg", -42);
    jbuf_bool(&b, "t", true);
    jbuf_bool(&b, "f", false);
    jbuf_string(&b, "null", NULL);
    jbuf_open_array(&b, "arr");
    jbuf_uint(&b, NULL, 1);
    jbuf_open_object(&b, NULL);
    jbuf_close_object(&b);
    jbuf_open_array(&b, NULL);
    jbuf_close_array(&b);
    jbuf_string(&b, NULL, "x");
    jbuf_close_array(&b);
    jbuf_open_object(&b, "k\"ey");
    jbuf_uint(&b, "n", 0);
    jbuf_close_object(&b);
    jbuf_close_object(&b);
    CHECK(jbuf_ok(&b));
    CHECK_STR(b.p, "{\"s\":\"v\",\"u\":18446744073709551615,\"i\":-9223372036854775808,"
                   "\"neg\":-42,\"t\":true,\"f\":false,\"null\":null,"
                   "\"arr\":[1,{},[],\"x\"],\"k\\\"ey\":{\"n\":0}}");
    CHECK(json_valid(b.p, b.len));
    CHECK_INT(strlen(b.p), b.len);

    /* Reset keeps the buffer and starts a fresh value. */
    jbuf_reset(&b);
    CHECK_INT(b.len, 0);
    jbuf_open_array(&b, NULL);
    jbuf_close_array(&b);
    jbuf_raw(&b, "\n", 1);
    CHECK_STR(b.p, "[]\n");
    jbuf_fini(&b);
    CHECK(b.p == NULL);
}

TEST(test_growth)
{
    struct jbuf b;
    char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    jbuf_init(&b);
    jbuf_open_array(&b, NULL);
    for (int i = 0; i < 100; i++)
        jbuf_string(&b, NULL, big);
    jbuf_close_array(&b);
    CHECK(jbuf_ok(&b));
    CHECK_INT(b.len, 2 + 100 * (sizeof(big) - 1 + 2) + 99);
    CHECK(json_valid(b.p, b.len));
    jbuf_fini(&b);
}

/* Random bytes as strings and keys: every result parses. */
TEST(test_random_strings)
{
    uint32_t seed = 12345;
    struct jbuf b;
    int bad = 0;

    jbuf_init(&b);
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t s[64];
        char key[16];
        size_t len = iter % 64;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Bias towards the interesting bytes: controls, quotes, high bytes. */
            s[i] = (uint8_t)(seed >> 16);
        }
        for (size_t i = 0; i < sizeof(key) - 1; i++) {
            seed = seed * 1103515245u + 12345u;
            key[i] = (char)((seed >> 16) | 1);
        }
        key[sizeof(key) - 1] = '\0';
        jbuf_reset(&b);
        jbuf_open_object(&b, NULL);
        jbuf_string_len(&b, key, s, len);
        jbuf_close_object(&b);
        if (!json_valid(b.p, b.len))
            bad++;
    }
    CHECK_INT(bad, 0);
    jbuf_fini(&b);
}

/* ---- timestamps and names --------------------------------------------------------------- */

TEST(test_time)
{
    char buf[40];

    eve_format_time(0, buf, sizeof(buf));
    CHECK_STR(buf, "1970-01-01T00:00:00.000000+0000");
    eve_format_time(1711965600123456ull, buf, sizeof(buf));
    CHECK_STR(buf, "2024-04-01T10:00:00.123456+0000");
    eve_format_time(951782400000001ull, buf, sizeof(buf)); /* leap day */
    CHECK_STR(buf, "2000-02-29T00:00:00.000001+0000");
    eve_format_time(1704067199999999ull, buf, sizeof(buf));
    CHECK_STR(buf, "2023-12-31T23:59:59.999999+0000");
    CHECK_INT(strlen(buf), 31);
    /* A short buffer is truncated, not overrun. */
    memset(buf, 'z', sizeof(buf));
    eve_format_time(0, buf, 11);
    CHECK_STR(buf, "1970-01-01");
    CHECK(buf[11] == 'z');
}

TEST(test_proto_name)
{
    char buf[8];

    CHECK_STR(eve_proto_name(6, buf, sizeof(buf)), "TCP");
    CHECK_STR(eve_proto_name(17, buf, sizeof(buf)), "UDP");
    CHECK_STR(eve_proto_name(1, buf, sizeof(buf)), "ICMP");
    CHECK_STR(eve_proto_name(58, buf, sizeof(buf)), "IPv6-ICMP");
    CHECK_STR(eve_proto_name(47, buf, sizeof(buf)), "47");
    CHECK_STR(eve_proto_name(255, buf, sizeof(buf)), "255");
    CHECK_STR(eve_proto_name(0, buf, sizeof(buf)), "0");
}

/* ---- the alert line --------------------------------------------------------------------- */

static struct flow test_flow;

static void make_tcp(struct packet *p)
{
    memset(p, 0, sizeof(*p));
    p->ts_usec = 1711965600123456ull;
    p->flags = PKT_IPV4 | PKT_TCP;
    p->src.family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", p->src.a);
    p->dst.family = AF_INET;
    inet_pton(AF_INET, "203.0.113.5", p->dst.a);
    p->ip_proto = 6;
    p->sp = 40000;
    p->dp = 80;
    p->flow = &test_flow;
    p->dir = FLOW_DIR_TOSERVER;
}

TEST(test_alert_exact)
{
    struct packet p;
    struct rule r = {.gid = 1, .sid = 2000001, .rev = 3, .msg = "ET TEST \"quoted\" msg"};
    struct geo_info sg = {.country = "JP",
                          .asn = 2497,
                          .as_org = "Internet Initiative Japan",
                          .has_country = true,
                          .has_asn = true};
    struct geo_info dg = {.country = "US", .has_country = true};
    struct eve_alert a = {
        .p = &p,
        .r = &r,
        .category = "Attempted Information Leak",
        .severity = 2,
        .flow_id = 1234,
        .action = "allowed",
        .sensor_id = "tokyo-gw-01",
        .ruleset_version = "local",
        .src_geo = &sg,
        .dest_geo = &dg,
        .country_epoch = 1700000000,
        .asn_epoch = 1700000001,
    };
    struct jbuf b;

    make_tcp(&p);
    jbuf_init(&b);
    eve_format_alert(&b, &a);
    CHECK(jbuf_ok(&b));
    CHECK_STR(b.p, "{\"timestamp\":\"2024-04-01T10:00:00.123456+0000\",\"flow_id\":1234,"
                   "\"event_type\":\"alert\",\"src_ip\":\"10.0.0.1\",\"src_port\":40000,"
                   "\"dest_ip\":\"203.0.113.5\",\"dest_port\":80,\"proto\":\"TCP\","
                   "\"direction\":\"to_server\","
                   "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2000001,\"rev\":3,"
                   "\"signature\":\"ET TEST \\\"quoted\\\" msg\","
                   "\"category\":\"Attempted Information Leak\",\"severity\":2},"
                   "\"kanshi\":{\"sensor_id\":\"tokyo-gw-01\",\"ruleset_version\":\"local\","
                   "\"src_geo\":{\"country\":\"JP\",\"asn\":2497,"
                   "\"as_org\":\"Internet Initiative Japan\"},"
                   "\"dest_geo\":{\"country\":\"US\"},"
                   "\"geoip_db\":{\"country_epoch\":1700000000,\"asn_epoch\":1700000001}}}\n");
    CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
    CHECK(json_valid(b.p, b.len));

    /* Two alerts in one buffer are two lines, not a list. */
    p.dir = FLOW_DIR_TOCLIENT;
    eve_format_alert(&b, &a);
    {
        char *nl = strchr(b.p, '\n');
        CHECK(nl != NULL && nl[1] == '{');
        if (nl != NULL) {
            CHECK(json_valid(b.p, (size_t)(nl - b.p)));
            CHECK(json_valid(nl + 1, b.len - (size_t)(nl + 1 - b.p)));
            CHECK(strstr(nl + 1, "\"direction\":\"to_client\"") != NULL);
        }
    }
    jbuf_fini(&b);
}

TEST(test_alert_minimal)
{
    struct packet p;
    struct rule r = {.gid = 1, .sid = 9, .rev = 1, .msg = NULL};
    struct geo_info empty = {0};
    struct eve_alert a = {.p = &p, .r = &r, .severity = 3, .src_geo = &empty};
    struct jbuf b;

    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV6 | PKT_ICMPV6;
    p.src.family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", p.src.a);
    p.dst.family = AF_INET6;
    inet_pton(AF_INET6, "ff02::1", p.dst.a);
    p.ip_proto = 58;
    p.ts_usec = 1;
    jbuf_init(&b);
    eve_format_alert(&b, &a);
    /* No flow: no flow_id, no direction; ICMP: no ports; empty geo and no dbs: omitted. */
    CHECK_STR(b.p, "{\"timestamp\":\"1970-01-01T00:00:00.000001+0000\","
                   "\"event_type\":\"alert\",\"src_ip\":\"2001:db8::1\","
                   "\"dest_ip\":\"ff02::1\",\"proto\":\"IPv6-ICMP\","
                   "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":9,\"rev\":1,"
                   "\"signature\":\"\",\"category\":\"\",\"severity\":3},"
                   "\"kanshi\":{\"sensor_id\":\"\",\"ruleset_version\":\"\"}}\n");
    CHECK(json_valid(b.p, b.len));
    jbuf_fini(&b);
}

TEST(test_alert_udp_asn_only)
{
    struct packet p;
    struct rule r = {.gid = 1, .sid = 7, .rev = 2, .msg = "udp"};
    struct geo_info g = {.asn = 1221, .as_org = "", .has_asn = true};
    struct eve_alert a = {.p = &p,
                          .r = &r,
                          .category = "c",
                          .severity = 1,
                          .action = "blocked",
                          .dest_geo = &g,
                          .asn_epoch = 5,
                          .sensor_id = "s",
                          .ruleset_version = "v"};
    struct jbuf b;

    make_tcp(&p);
    p.flags = PKT_IPV4 | PKT_UDP;
    p.ip_proto = 17;
    p.sp = 53;
    p.dp = 5353;
    p.flow = NULL;
    jbuf_init(&b);
    eve_format_alert(&b, &a);
    CHECK(strstr(b.p, "\"src_port\":53,") != NULL);
    CHECK(strstr(b.p, "\"dest_port\":5353,\"proto\":\"UDP\",\"alert\"") != NULL);
    CHECK(strstr(b.p, "\"action\":\"blocked\"") != NULL);
    CHECK(strstr(b.p, "\"dest_geo\":{\"asn\":1221},\"geoip_db\":{\"asn_epoch\":5}}}") != NULL);
    CHECK(strstr(b.p, "src_geo") == NULL);
    CHECK(strstr(b.p, "direction") == NULL);
    CHECK(json_valid(b.p, b.len));
    jbuf_fini(&b);
}

/* Whatever bytes a rule's msg or the sensor id hold, the line parses. */
TEST(test_alert_hostile_text)
{
    static const char *const msgs[] = {
        "\"}],\n{\"event_type\":\"fake\"",
        "\\",
        "\xff\xfe\x00",
        "\x1b[31mred\x1b[0m",
        "\xed\xa0\x80\xc0\x80",
        "\xe2\x80\xa8 line separator",
    };
    struct packet p;
    struct rule r = {.gid = 1, .sid = 1, .rev = 1};
    struct eve_alert a = {.p = &p, .r = &r, .severity = 1};
    struct jbuf b;

    make_tcp(&p);
    jbuf_init(&b);
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(msgs); i++) {
        jbuf_reset(&b);
        r.msg = (char *)msgs[i];
        a.category = msgs[i];
        a.sensor_id = msgs[i];
        eve_format_alert(&b, &a);
        CHECK(json_valid(b.p, b.len));
        /* Exactly one line. */
        CHECK(strchr(b.p, '\n') == b.p + b.len - 1);
    }
    jbuf_fini(&b);
}

/* ---- the writer ------------------------------------------------------------------------- */

static char *read_all(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

TEST(test_writer)
{
    char path[64], err[256];
    struct eve_writer *w = NULL;

    snprintf(path, sizeof(path), "/tmp/kanshi-eve-%d.json", (int)getpid());
    unlink(path);
    CHECK_INT(eve_writer_open(&w, path, err, sizeof(err)), 0);
    if (w == NULL)
        return;
    CHECK_INT(eve_writer_write(w, "{\"a\":1}\n", 8), 0);
    CHECK_INT(eve_writer_write(w, "{\"b\":2}", 7), 0); /* newline added */
    /* Buffered until flushed. */
    CHECK_STR(read_all(path), "");
    CHECK_INT(eve_writer_flush(w), 0);
    CHECK_STR(read_all(path), "{\"a\":1}\n{\"b\":2}\n");
    eve_writer_close(w);

    /* Reopening appends. */
    w = NULL;
    CHECK_INT(eve_writer_open(&w, path, err, sizeof(err)), 0);
    if (w != NULL) {
        CHECK_INT(eve_writer_write(w, "{\"c\":3}\n", 8), 0);
        eve_writer_close(w); /* close flushes */
    }
    CHECK_STR(read_all(path), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
    unlink(path);

    eve_writer_close(NULL);
}

TEST(test_writer_errors)
{
    char err[256];
    struct eve_writer *w = NULL;

    CHECK_INT(eve_writer_open(&w, "/nonexistent/dir/eve.json", err, sizeof(err)), -ENOENT);
    CHECK(w == NULL);
    CHECK_STR(err, "/nonexistent/dir/eve.json: No such file or directory");
    CHECK_INT(eve_writer_open(&w, "/tmp", err, sizeof(err)), -EISDIR);
    CHECK_STR(err, "/tmp: Is a directory");
    CHECK(w == NULL);

    /* A full disk shows at flush, as an error code. */
    if (access("/dev/full", W_OK) == 0) {
        CHECK_INT(eve_writer_open(&w, "/dev/full", err, sizeof(err)), 0);
        if (w != NULL) {
            CHECK_INT(eve_writer_write(w, "{}\n", 3), 0);
            CHECK_INT(eve_writer_flush(w), -ENOSPC);
            eve_writer_close(w);
        }
    }
}

TEST(test_writer_stdout)
{
    char err[256];
    struct eve_writer *w = NULL;

    CHECK_INT(eve_writer_open(&w, NULL, err, sizeof(err)), 0);
    CHECK(w != NULL);
    eve_writer_close(w);
    w = NULL;
    CHECK_INT(eve_writer_open(&w, "-", err, sizeof(err)), 0);
    CHECK(w != NULL);
    CHECK_INT(eve_writer_flush(w), 0);
    eve_writer_close(w);
}

int main(void)
{
    RUN(test_validator);
    RUN(test_escaping);
    RUN(test_structure);
    RUN(test_growth);
    RUN(test_random_strings);
    RUN(test_time);
    RUN(test_proto_name);
    RUN(test_alert_exact);
    RUN(test_alert_minimal);
    RUN(test_alert_udp_asn_only);
    RUN(test_alert_hostile_text);
    RUN(test_writer);
    RUN(test_writer_errors);
    RUN(test_writer_stdout);
    return test_summary("eve");
}
