/*
 * app_detect_test.c — protocol detection by content: every protocol in the
 * directions it is recognised in, on its own port and on others (HTTP on
 * 8080 and 443, TLS on 80), every strict prefix of a signature asking for
 * more, the SMTP/FTP greeting rules, DNS over UDP and TCP only where the
 * port says DNS, and garbage failing.  Also the protocol names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/app.h"
#include "test.h"

#define TS APP_DIR_TOSERVER
#define TC APP_DIR_TOCLIENT
#define TCP 6
#define UDP 17

static int probe_s(const char *s, int dir, uint8_t ipproto, uint16_t sp, uint16_t dp)
{
    return app_probe((const uint8_t *)s, strlen(s), dir, ipproto, sp, dp);
}

/* Every strict prefix of data (but the empty one) asks for more. */
static bool prefixes_need_more(const uint8_t *d, size_t n, int dir, uint8_t ipproto, uint16_t sp,
                               uint16_t dp)
{
    for (size_t i = 1; i < n; i++) {
        int r = app_probe(d, i, dir, ipproto, sp, dp);

        if (r != APP_PROBE_NEED_MORE) {
            fprintf(stderr, "  prefix of %zu bytes: %d\n", i, r);
            return false;
        }
    }
    return true;
}

TEST(test_names)
{
    CHECK_STR(app_proto_name(APP_PROTO_HTTP), "http");
    CHECK_STR(app_proto_name(APP_PROTO_TLS), "tls");
    CHECK_STR(app_proto_name(APP_PROTO_DNS), "dns");
    CHECK_STR(app_proto_name(APP_PROTO_SMTP), "smtp");
    CHECK_STR(app_proto_name(APP_PROTO_FTP), "ftp");
    CHECK_STR(app_proto_name(APP_PROTO_SSH), "ssh");
    CHECK_STR(app_proto_name(APP_PROTO_UNKNOWN), "unknown");
    CHECK_STR(app_proto_name(APP_PROTO_FAILED), "failed");
    CHECK_STR(app_proto_name((enum app_proto)99), "unknown");

    CHECK_INT(app_proto_from_name("http"), APP_PROTO_HTTP);
    CHECK_INT(app_proto_from_name("http1"), APP_PROTO_HTTP);
    CHECK_INT(app_proto_from_name("tls"), APP_PROTO_TLS);
    CHECK_INT(app_proto_from_name("ssl"), APP_PROTO_TLS);
    CHECK_INT(app_proto_from_name("dns"), APP_PROTO_DNS);
    CHECK_INT(app_proto_from_name("smtp"), APP_PROTO_SMTP);
    CHECK_INT(app_proto_from_name("ftp"), APP_PROTO_FTP);
    CHECK_INT(app_proto_from_name("ssh"), APP_PROTO_SSH);
    CHECK_INT(app_proto_from_name("TLS"), APP_PROTO_TLS);
    CHECK_INT(app_proto_from_name("failed"), APP_PROTO_FAILED);
    CHECK_INT(app_proto_from_name("http2"), APP_PROTO_UNKNOWN);
    CHECK_INT(app_proto_from_name("smb"), APP_PROTO_UNKNOWN);
    CHECK_INT(app_proto_from_name(""), APP_PROTO_UNKNOWN);
    CHECK_INT(app_proto_from_name(NULL), APP_PROTO_UNKNOWN);
    /* every name maps back */
    for (int p = APP_PROTO_HTTP; p <= APP_PROTO_SSH; p++)
        CHECK_INT(app_proto_from_name(app_proto_name((enum app_proto)p)), p);
}

TEST(test_http)
{
    static const char *const methods[] = {
        "GET",       "POST",    "PUT",        "HEAD",     "DELETE",
        "OPTIONS",   "CONNECT", "TRACE",      "PATCH",    "PROPFIND",
        "PROPPATCH", "MKCOL",   "COPY",       "MOVE",     "LOCK",
        "UNLOCK",    "REPORT",  "MKACTIVITY", "CHECKOUT", "VERSION-CONTROL",
    };
    const char *req = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    char buf[64];

    CHECK_INT(probe_s(req, TS, TCP, 40000, 80), APP_PROTO_HTTP);
    CHECK_INT(probe_s(req, TS, TCP, 40000, 8080), APP_PROTO_HTTP);
    CHECK_INT(probe_s(req, TS, TCP, 40000, 443), APP_PROTO_HTTP);
    CHECK_INT(probe_s(req, TS, TCP, 40000, 53), APP_PROTO_HTTP);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        snprintf(buf, sizeof(buf), "%s / HTTP/1.0\r\n", methods[i]);
        CHECK_INT(probe_s(buf, TS, TCP, 40000, 8080), APP_PROTO_HTTP);
        CHECK(
            prefixes_need_more((const uint8_t *)buf, strlen(methods[i]) + 1, TS, TCP, 40000, 8080));
    }
    CHECK_INT(probe_s("POST\t/x HTTP/1.1\r\n", TS, TCP, 1, 80), APP_PROTO_HTTP);

    /* a prefix asks for more, a near miss fails */
    CHECK_INT(probe_s("G", TS, TCP, 40000, 80), APP_PROBE_NEED_MORE);
    CHECK_INT(probe_s("GE", TS, TCP, 40000, 80), APP_PROBE_NEED_MORE);
    CHECK_INT(probe_s("GET", TS, TCP, 40000, 80), APP_PROBE_NEED_MORE);
    CHECK_INT(probe_s("GETX / HTTP/1.1\r\n", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(probe_s("GOT / HTTP/1.1\r\n", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(probe_s("get / HTTP/1.1\r\n", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    /* a request line sent by the server is no HTTP signature */
    CHECK_INT(probe_s(req, TC, TCP, 80, 40000), APP_PROTO_FAILED);

    /* responses, to the client */
    CHECK_INT(probe_s("HTTP/1.1 200 OK\r\n\r\n", TC, TCP, 80, 40000), APP_PROTO_HTTP);
    CHECK_INT(probe_s("HTTP/1.0 404 Not Found\r\n", TC, TCP, 8080, 40000), APP_PROTO_HTTP);
    CHECK_INT(probe_s("HTTP/1.1 200 OK\r\n", TC, TCP, 443, 40000), APP_PROTO_HTTP);
    CHECK(prefixes_need_more((const uint8_t *)"HTTP/1.", 7, TC, TCP, 80, 40000));
    CHECK(prefixes_need_more((const uint8_t *)"HTTP/0.9", 8, TC, TCP, 80, 40000));
    CHECK_INT(probe_s("HTTP/1.1 200 OK\r\n", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(probe_s("HTTP/3.0 200 OK\r\n", TC, TCP, 80, 40000), APP_PROTO_FAILED);
}

/* A TLS 1.2 ClientHello record start (record header, handshake header). */
static const uint8_t client_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00,
                                       0x01, 0xfc, 0x03, 0x03, 0x11, 0x22, 0x33};
static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02,
                                       0x00, 0x00, 0x76, 0x03, 0x03, 0x44};
/* SSLv2-format CLIENT-HELLO offering SSL 3.0 / TLS 1.0 */
static const uint8_t v2_hello[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15,
                                   0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x80};
/* SSLv2 SERVER-HELLO */
static const uint8_t v2_server[] = {0x83, 0x20, 0x04, 0x00, 0x01, 0x00, 0x02,
                                    0x03, 0x10, 0x00, 0x03, 0x00, 0x10};

TEST(test_tls)
{
    uint8_t b[16];

    CHECK_INT(app_probe(client_hello, sizeof(client_hello), TS, TCP, 40000, 443), APP_PROTO_TLS);
    CHECK_INT(app_probe(client_hello, sizeof(client_hello), TS, TCP, 40000, 80), APP_PROTO_TLS);
    CHECK_INT(app_probe(client_hello, sizeof(client_hello), TS, TCP, 40000, 25), APP_PROTO_TLS);
    CHECK_INT(app_probe(server_hello, sizeof(server_hello), TC, TCP, 443, 40000), APP_PROTO_TLS);
    CHECK_INT(app_probe(server_hello, sizeof(server_hello), TC, TCP, 80, 40000), APP_PROTO_TLS);
    CHECK_INT(app_probe(v2_hello, sizeof(v2_hello), TS, TCP, 40000, 443), APP_PROTO_TLS);
    CHECK_INT(app_probe(v2_server, sizeof(v2_server), TC, TCP, 443, 40000), APP_PROTO_TLS);
    CHECK(prefixes_need_more(client_hello, 5, TS, TCP, 40000, 443));
    CHECK(prefixes_need_more(v2_hello, 5, TS, TCP, 40000, 443));
    CHECK(prefixes_need_more(v2_server, 7, TC, TCP, 443, 40000));

    /* versions: SSL 3.0 and TLS 1.3's record version pass, 3.5 does not */
    for (uint8_t minor = 0; minor <= 5; minor++) {
        memcpy(b, client_hello, sizeof(client_hello));
        b[2] = minor;
        CHECK_INT(app_probe(b, sizeof(client_hello), TS, TCP, 40000, 443),
                  minor <= 4 ? APP_PROTO_TLS : APP_PROTO_FAILED);
    }
    memcpy(b, client_hello, sizeof(client_hello));
    b[1] = 0x02;
    CHECK_INT(app_probe(b, sizeof(client_hello), TS, TCP, 40000, 443), APP_PROTO_FAILED);
    /* lengths: empty and oversized records are no TLS */
    memcpy(b, client_hello, sizeof(client_hello));
    b[3] = 0x00;
    b[4] = 0x00;
    CHECK_INT(app_probe(b, sizeof(client_hello), TS, TCP, 40000, 443), APP_PROTO_FAILED);
    b[3] = 0x50;
    CHECK_INT(app_probe(b, sizeof(client_hello), TS, TCP, 40000, 443), APP_PROTO_FAILED);
    b[3] = 0x48; /* 2^14 + 2048 exactly */
    b[4] = 0x00;
    CHECK_INT(app_probe(b, sizeof(client_hello), TS, TCP, 40000, 443), APP_PROTO_TLS);
    /* an SSLv2 record of another message type */
    memcpy(b, v2_hello, sizeof(v2_hello));
    b[2] = 0x07;
    CHECK_INT(app_probe(b, sizeof(v2_hello), TS, TCP, 40000, 443), APP_PROTO_FAILED);
}

TEST(test_ssh)
{
    const char *banner = "SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n";

    CHECK_INT(probe_s(banner, TS, TCP, 40000, 22), APP_PROTO_SSH);
    CHECK_INT(probe_s(banner, TC, TCP, 22, 40000), APP_PROTO_SSH);
    CHECK_INT(probe_s(banner, TS, TCP, 40000, 2222), APP_PROTO_SSH);
    CHECK_INT(probe_s(banner, TC, TCP, 443, 40000), APP_PROTO_SSH);
    CHECK(prefixes_need_more((const uint8_t *)banner, 4, TS, TCP, 40000, 22));
    CHECK_INT(probe_s("SSX-2.0\r\n", TS, TCP, 40000, 22), APP_PROTO_FAILED);
}

TEST(test_smtp)
{
    CHECK_INT(probe_s("EHLO client.example.org\r\n", TS, TCP, 40000, 25), APP_PROTO_SMTP);
    CHECK_INT(probe_s("HELO client\r\n", TS, TCP, 40000, 2525), APP_PROTO_SMTP);
    CHECK_INT(probe_s("ehlo client\r\n", TS, TCP, 40000, 587), APP_PROTO_SMTP);
    CHECK_INT(probe_s("EHLO\r\n", TS, TCP, 40000, 25), APP_PROTO_SMTP);
    CHECK(prefixes_need_more((const uint8_t *)"EHLO x", 5, TS, TCP, 40000, 25));
    CHECK_INT(probe_s("EHLOX\r\n", TS, TCP, 40000, 25), APP_PROTO_FAILED);

    /* greetings: the words decide, then the port */
    CHECK_INT(probe_s("220 mx.example.com ESMTP Postfix\r\n", TC, TCP, 2525, 40000),
              APP_PROTO_SMTP);
    CHECK_INT(probe_s("220-mx.example.com smtp ready\r\n", TC, TCP, 10025, 40000), APP_PROTO_SMTP);
    CHECK_INT(probe_s("220 mx.example.com ready\r\n", TC, TCP, 25, 40000), APP_PROTO_SMTP);
    CHECK_INT(probe_s("220 mx.example.com ready\r\n", TC, TCP, 587, 40000), APP_PROTO_SMTP);
    CHECK_INT(probe_s("220 mx.example.com ready\r\n", TC, TCP, 465, 40000), APP_PROTO_SMTP);
}

TEST(test_ftp)
{
    char big[600];

    CHECK_INT(probe_s("USER anonymous\r\n", TS, TCP, 40000, 21), APP_PROTO_FTP);
    CHECK_INT(probe_s("user anonymous\r\n", TS, TCP, 40000, 2121), APP_PROTO_FTP);
    CHECK_INT(probe_s("PASS secret\r\n", TS, TCP, 40000, 21), APP_PROTO_FTP);
    CHECK_INT(probe_s("AUTH TLS\r\n", TS, TCP, 40000, 21), APP_PROTO_FTP);
    CHECK_INT(probe_s("FEAT\r\n", TS, TCP, 40000, 21), APP_PROTO_FTP);
    CHECK_INT(probe_s("PORT 10,0,0,1,4,1\r\n", TS, TCP, 40000, 21), APP_PROTO_FTP);
    CHECK(prefixes_need_more((const uint8_t *)"USER x", 5, TS, TCP, 40000, 21));
    CHECK(prefixes_need_more((const uint8_t *)"FEAT\r", 5, TS, TCP, 40000, 21));
    CHECK_INT(probe_s("USERNAME x\r\n", TS, TCP, 40000, 21), APP_PROTO_FAILED);
    CHECK_INT(probe_s("FEATURES\r\n", TS, TCP, 40000, 21), APP_PROTO_FAILED);

    CHECK_INT(probe_s("220 (vsFTPd 3.0.3)\r\n", TC, TCP, 2121, 40000), APP_PROTO_FTP);
    CHECK_INT(probe_s("220 ProFTPD Server ready.\r\n", TC, TCP, 8021, 40000), APP_PROTO_FTP);
    CHECK_INT(probe_s("220 Service ready\r\n", TC, TCP, 21, 40000), APP_PROTO_FTP);

    /* an undecided greeting waits for the client's command... */
    CHECK_INT(probe_s("220 Service ready\r\n", TC, TCP, 2121, 40000), APP_PROBE_NEED_MORE);
    CHECK(prefixes_need_more((const uint8_t *)"220 x", 5, TC, TCP, 2121, 40000));
    /* ...but not forever */
    memset(big, 'x', sizeof(big));
    memcpy(big, "220 ", 4);
    CHECK_INT(app_probe((const uint8_t *)big, sizeof(big), TC, TCP, 2121, 40000), APP_PROTO_FAILED);
    /* other replies are no greeting */
    CHECK_INT(probe_s("230 Logged in\r\n", TC, TCP, 21, 40000), APP_PROTO_FAILED);
    CHECK_INT(probe_s("2200 x\r\n", TC, TCP, 21, 40000), APP_PROTO_FAILED);
    /* a greeting sent to the server is nothing */
    CHECK_INT(probe_s("220 (vsFTPd 3.0.3)\r\n", TS, TCP, 40000, 21), APP_PROTO_FAILED);
}

/* A query for www.example.com A, and a response to it. */
static const uint8_t dns_query[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x03, 'w',  'w',  'w',  0x07, 'e',
                                    'x',  'a',  'm',  'p',  'l',  'e',  0x03, 'c',  'o',
                                    'm',  0x00, 0x00, 0x01, 0x00, 0x01};
static const uint8_t dns_resp[] = {0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x00, 0x03, 'w',  'w',  'w',  0x07, 'e',  'x',  'a',
                                   'm',  'p',  'l',  'e',  0x03, 'c',  'o',  'm',  0x00, 0x00,
                                   0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00,
                                   0x00, 0x0e, 0x10, 0x00, 0x04, 0x5d, 0xb8, 0xd7, 0x0e};
/* mDNS announcement: a response without questions */
static const uint8_t mdns_resp[] = {0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                    0x00, 0x00, 0x04, 'h',  'o',  's',  't',  0x05, 'l',  'o',
                                    'c',  'a',  'l',  0x00, 0x00, 0x01, 0x80, 0x01, 0x00, 0x00,
                                    0x00, 0x78, 0x00, 0x04, 0xc0, 0xa8, 0x01, 0x02};

TEST(test_dns_udp)
{
    uint8_t b[64];

    CHECK_INT(app_probe(dns_query, sizeof(dns_query), TS, UDP, 40000, 53), APP_PROTO_DNS);
    CHECK_INT(app_probe(dns_resp, sizeof(dns_resp), TC, UDP, 53, 40000), APP_PROTO_DNS);
    /* a flow first seen in its response direction */
    CHECK_INT(app_probe(dns_resp, sizeof(dns_resp), TS, UDP, 53, 40000), APP_PROTO_DNS);
    CHECK_INT(app_probe(mdns_resp, sizeof(mdns_resp), TS, UDP, 5353, 5353), APP_PROTO_DNS);
    CHECK_INT(app_probe(dns_query, sizeof(dns_query), TS, UDP, 5353, 5353), APP_PROTO_DNS);
    /* DNS has no signature: elsewhere it is nothing */
    CHECK_INT(app_probe(dns_query, sizeof(dns_query), TS, UDP, 40000, 5000), APP_PROTO_FAILED);
    /* a datagram is whole: a cut one is no DNS */
    CHECK_INT(app_probe(dns_query, 20, TS, UDP, 40000, 53), APP_PROTO_FAILED);
    CHECK_INT(app_probe(dns_query, 11, TS, UDP, 40000, 53), APP_PROTO_FAILED);
    /* nonsense headers */
    memcpy(b, dns_query, sizeof(dns_query));
    b[5] = 0; /* no question in a query */
    CHECK_INT(app_probe(b, sizeof(dns_query), TS, UDP, 40000, 53), APP_PROTO_FAILED);
    memcpy(b, dns_query, sizeof(dns_query));
    b[2] = 0x18; /* opcode 3 */
    CHECK_INT(app_probe(b, sizeof(dns_query), TS, UDP, 40000, 53), APP_PROTO_FAILED);
    memcpy(b, dns_query, sizeof(dns_query));
    b[7] = 0x40; /* 64 answers in 33 bytes */
    CHECK_INT(app_probe(b, sizeof(dns_query), TS, UDP, 40000, 53), APP_PROTO_FAILED);
    memcpy(b, dns_query, sizeof(dns_query));
    b[12] = 0xc0; /* the question's name a forward pointer */
    b[13] = 0x20;
    CHECK_INT(app_probe(b, sizeof(dns_query), TS, UDP, 40000, 53), APP_PROTO_FAILED);
    CHECK_INT(probe_s("GET / HTTP/1.1\r\n\r\n", TS, UDP, 40000, 53), APP_PROTO_FAILED);
}

TEST(test_dns_tcp)
{
    uint8_t b[80];
    size_t n = sizeof(dns_query);

    b[0] = 0;
    b[1] = (uint8_t)n;
    memcpy(b + 2, dns_query, n);
    CHECK_INT(app_probe(b, n + 2, TS, TCP, 40000, 53), APP_PROTO_DNS);
    CHECK(prefixes_need_more(b, 14, TS, TCP, 40000, 53));
    /* the header decides before the whole message is in */
    CHECK_INT(app_probe(b, 20, TS, TCP, 40000, 53), APP_PROTO_DNS);
    /* not on another port */
    CHECK_INT(app_probe(b, n + 2, TS, TCP, 40000, 80), APP_PROTO_FAILED);

    b[0] = 0;
    b[1] = (uint8_t)sizeof(dns_resp);
    memcpy(b + 2, dns_resp, sizeof(dns_resp));
    CHECK_INT(app_probe(b, sizeof(dns_resp) + 2, TC, TCP, 53, 40000), APP_PROTO_DNS);

    /* a length prefix too short for the header's counts */
    b[0] = 0;
    b[1] = 14;
    memcpy(b + 2, dns_query, n);
    CHECK_INT(app_probe(b, n + 2, TS, TCP, 40000, 53), APP_PROTO_FAILED);
    /* a whole message whose question does not decode */
    b[1] = (uint8_t)n;
    b[2 + 12] = 0x50;
    CHECK_INT(app_probe(b, n + 2, TS, TCP, 40000, 53), APP_PROTO_FAILED);
}

TEST(test_garbage)
{
    static const uint8_t junk[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                   0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
    uint8_t rnd[256];
    uint32_t x = 12345;
    int failed = 0, needed = 0;

    CHECK_INT(app_probe(junk, sizeof(junk), TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(app_probe(junk, sizeof(junk), TC, TCP, 80, 40000), APP_PROTO_FAILED);
    CHECK_INT(app_probe(junk, sizeof(junk), TS, UDP, 40000, 9999), APP_PROTO_FAILED);
    CHECK_INT(probe_s("hello world\r\n", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(probe_s("hello world\r\n", TC, TCP, 80, 40000), APP_PROTO_FAILED);
    CHECK_INT(probe_s("X", TS, TCP, 40000, 80), APP_PROTO_FAILED);
    CHECK_INT(app_probe(junk, 0, TS, TCP, 40000, 80), APP_PROBE_NEED_MORE);
    CHECK_INT(app_probe(NULL, 0, TS, TCP, 40000, 80), APP_PROBE_NEED_MORE);
    CHECK_INT(probe_s("GET / HTTP/1.1\r\n", TS, 1, 0, 0), APP_PROTO_FAILED);
    CHECK_INT(probe_s("GET / HTTP/1.1\r\n", 7, TCP, 40000, 80), APP_PROTO_FAILED);

    /* random bytes: results stay in range; most fail outright */
    for (int t = 0; t < 2000; t++) {
        int r;

        for (size_t i = 0; i < sizeof(rnd); i++) {
            x = x * 1103515245u + 12345u;
            rnd[i] = (uint8_t)(x >> 16);
        }
        r = app_probe(rnd, 1 + (size_t)(t % 255), t & 1, (t & 2) ? UDP : TCP, 53, 53);
        CHECK(r == APP_PROBE_NEED_MORE || (r > APP_PROTO_UNKNOWN && r < APP_PROTO_COUNT));
        failed += r == APP_PROTO_FAILED;
        needed += r == APP_PROBE_NEED_MORE;
    }
    CHECK(failed > 1500);
    CHECK(needed > 0);
}

int main(void)
{
    RUN(test_names);
    RUN(test_http);
    RUN(test_tls);
    RUN(test_ssh);
    RUN(test_smtp);
    RUN(test_ftp);
    RUN(test_dns_udp);
    RUN(test_dns_tcp);
    RUN(test_garbage);
    return test_summary("app_detect_test");
}
