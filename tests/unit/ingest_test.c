/*
 * ingest_test.c — the collector's check and rewrite of one alert
 * (collector/ingest.c): fields taken out, the registry's identity put into
 * "kanshi" whatever the sensor wrote, everything else kept byte for byte,
 * and malformed JSON of every kind refused without touching the output.
 */
#include <errno.h>

#include "../../collector/ingest.h"
#include "kanshi/eve.h"
#include "kanshi/kanshi.h"
#include "test.h"

static const char ident[] =
    "\"sensor_id\":\"jps-1\",\"organisation\":\"Japan Pension Service\",\"tier\":2,"
    "\"supervising_ministry\":\"Ministry of Health, Labour and Welfare\"";

static struct ingest_fields f;
static struct jbuf out;

/* Runs ingest on s; returns its code, the output in out.p. */
static int run(const char *s)
{
    jbuf_reset(&out);
    return ingest_alert((const uint8_t *)s, strlen(s), ident, strlen(ident), &f, &out);
}

static const char eve[] =
    "{\"timestamp\":\"2024-04-01T10:00:00.123456+0000\",\"flow_id\":77,"
    "\"event_type\":\"alert\",\"src_ip\":\"10.0.0.1\",\"src_port\":40000,"
    "\"dest_ip\":\"2001:DB8::0:1\",\"dest_port\":80,\"proto\":\"TCP\","
    "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2000001,\"rev\":1,"
    "\"signature\":\"ET TEST \\\"quoted\\\" \\u00e9\",\"category\":\"x\",\"severity\":2},"
    "\"kanshi\":{\"sensor_id\":\"jps-1\",\"ruleset_version\":\"local\","
    "\"src_geo\":{\"country\":\"JP\"}}}";

TEST(test_valid_alert)
{
    CHECK_INT(run(eve), 0);
    CHECK_INT(f.alert_time, 1711965600123456LL);
    CHECK_STR(f.src_ip, "10.0.0.1");
    CHECK_STR(f.dest_ip, "2001:db8::1");
    CHECK_INT(f.src_port, 40000);
    CHECK_INT(f.dest_port, 80);
    CHECK_STR(f.proto, "TCP");
    CHECK_INT(f.sid, 2000001);
    CHECK_INT(f.severity, 2);
    CHECK_STR(f.signature, "ET TEST \"quoted\" \xc3\xa9");
    CHECK_STR(f.sensor_id, "jps-1");
    /* Order kept, identity first in kanshi, the rest byte for byte. */
    CHECK_CONTAINS(out.p, "{\"timestamp\":\"2024-04-01T10:00:00.123456+0000\",\"flow_id\":77,");
    CHECK_CONTAINS(out.p, "\"signature\":\"ET TEST \\\"quoted\\\" \\u00e9\"");
    CHECK_CONTAINS(out.p, "\"kanshi\":{\"sensor_id\":\"jps-1\",\"organisation\":\"Japan Pension "
                          "Service\",\"tier\":2,\"supervising_ministry\":\"Ministry of Health, "
                          "Labour and Welfare\",\"ruleset_version\":\"local\","
                          "\"src_geo\":{\"country\":\"JP\"}}}");
    CHECK_INT(out.len, strlen(out.p));
    /* The output is itself a valid alert and reads back the registry's identity. */
    {
        struct jbuf again;
        char copy[2048];
        snprintf(copy, sizeof(copy), "%s", out.p);
        jbuf_init(&again);
        CHECK_INT(ingest_alert((const uint8_t *)copy, strlen(copy), "", 0, &f, &again), 0);
        CHECK_STR(f.org, "Japan Pension Service");
        CHECK_INT(f.tier, 2);
        jbuf_fini(&again);
    }
}

TEST(test_claims_replaced)
{
    /* Another organisation and tier, with an escaped key and a second
     * kanshi object: all of it gone, the registry's identity in their place. */
    CHECK_INT(run("{\"kanshi\":{\"organisation\":\"Cabinet Secretariat\",\"tier\":1,"
                  "\"keep\":1},\"a\":2,\"kanshi\":{\"\\u0074ier\":1,\"sensor_id\":\"mof-1\","
                  "\"supervising_ministry\":\"x\",\"more\":[1]}}"),
              0);
    CHECK_STR(f.org, "Cabinet Secretariat");
    CHECK_INT(f.tier, 1);
    CHECK_STR(f.sensor_id, "mof-1");
    CHECK_STR(out.p, "{\"kanshi\":{\"sensor_id\":\"jps-1\",\"organisation\":\"Japan Pension "
                     "Service\",\"tier\":2,\"supervising_ministry\":\"Ministry of Health, "
                     "Labour and Welfare\",\"keep\":1,\"more\":[1]},\"a\":2}");
    CHECK(strstr(out.p, "Cabinet") == NULL);
    /* kanshi that is not an object is replaced. */
    CHECK_INT(run("{\"x\":1,\"kanshi\":\"Cabinet Secretariat\"}"), 0);
    CHECK(strstr(out.p, "Cabinet") == NULL);
    CHECK_CONTAINS(out.p, "{\"x\":1,\"kanshi\":{\"sensor_id\":\"jps-1\"");
    /* No kanshi at all: one is added at the end. */
    CHECK_INT(run(" { } "), 0);
    CHECK_STR(out.p, "{\"kanshi\":{\"sensor_id\":\"jps-1\",\"organisation\":\"Japan Pension "
                     "Service\",\"tier\":2,\"supervising_ministry\":\"Ministry of Health, "
                     "Labour and Welfare\"}}");
    /* Nested "organisation" elsewhere is not ours to touch. */
    CHECK_INT(run("{\"alert\":{\"organisation\":\"x\"}}"), 0);
    CHECK_CONTAINS(out.p, "{\"alert\":{\"organisation\":\"x\"},\"kanshi\":");
    /* The sequence number is the collector's (from the frame, in the
     * identity it passes), never one the sensor wrote. */
    {
        static const char ident_seq[] = "\"sensor_id\":\"jps-1\",\"seq\":42";
        static const char in[] = "{\"kanshi\":{\"seq\":7,\"s\\u0065q\":8,\"keep\":1}}";
        jbuf_reset(&out);
        CHECK_INT(ingest_alert((const uint8_t *)in, strlen(in), ident_seq, strlen(ident_seq), &f,
                               &out),
                  0);
        CHECK_STR(out.p, "{\"kanshi\":{\"sensor_id\":\"jps-1\",\"seq\":42,\"keep\":1}}");
    }
}

TEST(test_appends)
{
    /* Several alerts go into one buffer one after another. */
    jbuf_reset(&out);
    CHECK_INT(ingest_alert((const uint8_t *)"{\"a\":1}", 7, ident, strlen(ident), &f, &out), 0);
    size_t first = out.len;
    CHECK_INT(ingest_alert((const uint8_t *)"{\"b\":2}", 7, ident, strlen(ident), &f, &out), 0);
    CHECK(out.len > first);
    CHECK(strncmp(out.p + first, "{\"b\":2,\"kanshi\":", 16) == 0);
    /* A refused alert leaves what was there. */
    size_t before = out.len;
    CHECK_INT(ingest_alert((const uint8_t *)"{\"c\":", 5, ident, strlen(ident), &f, &out), -EINVAL);
    CHECK_INT(out.len, before);
}

TEST(test_fields_wrong_types)
{
    CHECK_INT(run("{\"src_port\":\"80\",\"dest_port\":70000,\"timestamp\":5,"
                  "\"alert\":{\"signature_id\":-1,\"severity\":0},\"src_ip\":\"not-an-ip\","
                  "\"proto\":17,\"alert_x\":{}}"),
              0);
    CHECK_INT(f.src_port, -1);
    CHECK_INT(f.dest_port, -1);
    CHECK_INT(f.alert_time, 0);
    CHECK_INT(f.sid, -1);
    CHECK_INT(f.severity, 0);
    CHECK_STR(f.src_ip, "not-an-ip");
    CHECK_STR(f.proto, "");
    /* "alert" that is not an object is just kept. */
    CHECK_INT(run("{\"alert\":[1,2],\"src_port\":1.5}"), 0);
    CHECK_INT(f.sid, -1);
    CHECK_INT(f.src_port, -1);
}

TEST(test_signature_cut)
{
    char s[INGEST_MAX_SIGNATURE * 3 + 64];
    size_t n = 0;

    n += (size_t)snprintf(s, sizeof(s), "{\"alert\":{\"signature\":\"a");
    /* "é" (2 bytes) repeated: the cut must fall between characters. */
    for (int i = 0; i < INGEST_MAX_SIGNATURE; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "\xc3\xa9");
    snprintf(s + n, sizeof(s) - n, "\"}}");
    CHECK_INT(run(s), 0);
    CHECK_INT(strlen(f.signature), INGEST_MAX_SIGNATURE - 1);
    CHECK((unsigned char)f.signature[strlen(f.signature) - 1] == 0xa9);
}

TEST(test_malformed)
{
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "\"x\"",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":1} x",
        "{a:1}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":1e}",
        "{\"a\":.5}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc0\xaf\"}",         /* overlong */
        "{\"a\":\"\xed\xa0\x80\"}",     /* UTF-8 surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"a\":\"\xe3\x81\"}",         /* cut sequence */
        "{\"a\":\"unterminated}",
        "{\"kanshi\":{\"tier\":}}",
        "{\"alert\":{\"severity\":1,}}",
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(bad); i++) {
        int rc = run(bad[i]);
        if (rc != -EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, -EINVAL);
        CHECK_INT(out.len, 0);
    }
    /* Embedded NUL: the length, not the string, is what is read. */
    jbuf_reset(&out);
    CHECK_INT(ingest_alert((const uint8_t *)"{\"a\":\"x\0y\"}", 11, ident, strlen(ident), &f, &out),
              -EINVAL);
}

TEST(test_valid_edge_cases)
{
    static const char *const good[] = {
        "{\"a\":\"\\ud83d\\ude00 \\ud800 \\/\\b\\f\\n\\r\\t\"}", /* pair, lone surrogate */
        "{\"a\":[],\"b\":{},\"c\":[[]],\"d\":-0.5e+10,\"e\":0,\"f\":true,\"g\":null}",
        "\r\n\t {\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xf0\x9f\x98\x80\"}\n",
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(good); i++) {
        int rc = run(good[i]);
        if (rc != 0)
            fprintf(stderr, "refused: %s\n", good[i]);
        CHECK_INT(rc, 0);
    }
}

TEST(test_depth_and_members)
{
    char deep[256], wide[256 * 8 + 16];
    size_t n = 0;

    /* The top object is depth 1: 31 more levels are fine, 32 are not. */
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < INGEST_MAX_DEPTH - 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < INGEST_MAX_DEPTH - 1; i++)
        deep[n++] = ']';
    snprintf(deep + n, sizeof(deep) - n, "}");
    CHECK_INT(run(deep), 0);
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < INGEST_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < INGEST_MAX_DEPTH; i++)
        deep[n++] = ']';
    snprintf(deep + n, sizeof(deep) - n, "}");
    CHECK_INT(run(deep), -EINVAL);
    /* More top-level members than an alert has. */
    n = (size_t)snprintf(wide, sizeof(wide), "{");
    for (int i = 0; i < 257; i++)
        n += (size_t)snprintf(wide + n, sizeof(wide) - n, "%s\"%x\":1", i ? "," : "", i);
    snprintf(wide + n, sizeof(wide) - n, "}");
    CHECK_INT(run(wide), -EINVAL);
}

TEST(test_parse_time)
{
    int64_t t = 0;

    CHECK_INT(ingest_parse_time("1970-01-01T00:00:00Z", 20, &t), 0);
    CHECK_INT(t, 0);
    CHECK_INT(ingest_parse_time("2024-02-29T23:59:59.5+0000", 26, &t), 0);
    CHECK_INT(t, 1709251199500000LL);
    CHECK_INT(ingest_parse_time("2024-04-01 19:00:00+09:00", 25, &t), 0);
    CHECK_INT(t, 1711965600000000LL);
    CHECK_INT(ingest_parse_time("2024-04-01T10:00:00", 19, &t), 0);
    CHECK_INT(t, 1711965600000000LL);
    CHECK_INT(ingest_parse_time("1969-12-31T23:59:59Z", 20, &t), 0);
    CHECK_INT(t, -1000000);
    CHECK_INT(ingest_parse_time("2024-04-01T10:00:00.1234567", 27, &t), 0);
    CHECK_INT(t, 1711965600123456LL);
    CHECK_INT(ingest_parse_time("2024-13-01T00:00:00", 19, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-02-30T00:00:00x", 20, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-04-31T00:00:00", 19, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-04-01T24:00:00", 19, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-04-01T10:00:00.", 20, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-04-01T10:00:00+9", 21, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("2024-04-01", 10, &t), -EINVAL);
    CHECK_INT(ingest_parse_time("", 0, &t), -EINVAL);
}

int main(void)
{
    jbuf_init(&out);
    RUN(test_valid_alert);
    RUN(test_claims_replaced);
    RUN(test_appends);
    RUN(test_fields_wrong_types);
    RUN(test_signature_cut);
    RUN(test_malformed);
    RUN(test_valid_edge_cases);
    RUN(test_depth_and_members);
    RUN(test_parse_time);
    jbuf_fini(&out);
    return test_summary("ingest");
}
