/*
 * app_http_test.c — the HTTP/1.x parser (sensor/app_http.c) on real-looking
 * and crafted conversations: GET/200, POST bodies, chunked both ways (split
 * anywhere), gzip/x-gzip/deflate (zlib-wrapped and raw) bodies made here with
 * zlib, a gzip bomb cut at decompress_limit, pipelining, HEAD, 100-continue,
 * 304, HTTP/0.9, URI and Host normalisation, header folding and merging, the
 * header limit, gaps, bodies to the close, not-HTTP input, max_tx and gc.
 *
 * Every buffer id is read at least once.  Split-invariance is checked by
 * dumping everything the API exposes after one call per message and after
 * one byte per call, and comparing the dumps byte for byte.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kanshi/app.h"
#include "kanshi/app_http.h"
#include "kanshi/kanshi.h"
#include "test.h"


#define TS APP_DIR_TOSERVER
#define TC APP_DIR_TOCLIENT

static struct http_state *mk(const struct http_config *c)
{
    struct http_config def;
    struct http_state *s = NULL;

    if (c == NULL) {
        http_config_default(&def);
        c = &def;
    }
    if (http_state_create(&s, c) != 0) {
        fprintf(stderr, "http_state_create failed\n");
        exit(2);
    }
    return s;
}

static int feed(struct http_state *s, int dir, const char *str)
{
    return http_parse(s, dir, (const uint8_t *)str, strlen(str));
}

static int feed_n(struct http_state *s, int dir, const void *p, size_t n)
{
    return http_parse(s, dir, p, n);
}

/* Feeds one byte per call; returns the last non-zero result, or 0. */
static int feed_bytes(struct http_state *s, int dir, const void *p, size_t n)
{
    int r = 0;

    for (size_t i = 0; i < n; i++) {
        int x = http_parse(s, dir, (const uint8_t *)p + i, 1);
        if (x != 0)
            r = x;
    }
    return r;
}

static bool buf_is(const struct http_tx *tx, enum rule_buffer id, int dir, const void *exp,
                   size_t elen, int line)
{
    const uint8_t *d = NULL;
    size_t n = 0;

    if (tx == NULL) {
        fprintf(stderr, "line %d: no tx\n", line);
        return false;
    }
    if (!http_tx_buffer_dir(tx, id, dir, &d, &n)) {
        fprintf(stderr, "line %d: buffer %d (dir %d) absent\n", line, (int)id, dir);
        return false;
    }
    if (n != elen || memcmp(d, exp, n) != 0) {
        fprintf(stderr, "line %d: buffer %d (dir %d) is \"%.*s\" (%zu), expected \"%.*s\" (%zu)\n",
                line, (int)id, dir, (int)n, (const char *)d, n, (int)elen, (const char *)exp,
                elen);
        return false;
    }
    return true;
}

static bool has_buf(const struct http_tx *tx, enum rule_buffer id, int dir)
{
    const uint8_t *d;
    size_t n;

    return http_tx_buffer_dir(tx, id, dir, &d, &n);
}

#define BUF(tx, id, s) CHECK(buf_is(tx, id, TS, s, sizeof(s) - 1, __LINE__))
#define BUFD(tx, id, dir, s) CHECK(buf_is(tx, id, dir, s, sizeof(s) - 1, __LINE__))
#define NOBUF(tx, id) CHECK(!has_buf(tx, id, TS))
#define NOBUFD(tx, id, dir) CHECK(!has_buf(tx, id, dir))

static uint32_t ev(const struct http_state *s, enum http_event e)
{
    return http_state_events(s)[e];
}

static uint32_t ev_total(const struct http_state *s)
{
    uint32_t t = 0;

    for (int i = 0; i < HTTP_EV_COUNT; i++)
        t += http_state_events(s)[i];
    return t;
}

/* Compresses with zlib: bits 31 gzip, 15 zlib, -15 raw deflate.  Returns a
 * malloc'ed buffer and its length in *out_len. */
static uint8_t *zcompress(const void *in, size_t n, int bits, size_t *out_len)
{
    z_stream z;
    size_t cap = n + n / 100 + 1024;
    uint8_t *out = malloc(cap);

    memset(&z, 0, sizeof(z));
    if (out == NULL || deflateInit2(&z, 9, Z_DEFLATED, bits, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        fprintf(stderr, "deflateInit2 failed\n");
        exit(2);
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        fprintf(stderr, "deflate failed\n");
        exit(2);
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* Everything the API says about a state, as one string (for the
 * split-invariance checks). */
static char *dump(struct http_state *s, size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);

    for (size_t i = 0; i < http_tx_count(s); i++) {
        struct http_tx *tx = http_tx_at(s, i);

        fprintf(f, "tx %llu prog %d/%d status %d clen %lld/%lld body %llu/%llu chg %d/%d\n",
                (unsigned long long)http_tx_id(tx), (int)http_tx_progress(tx, TS),
                (int)http_tx_progress(tx, TC), http_tx_status(tx),
                (long long)http_tx_content_length(tx, TS),
                (long long)http_tx_content_length(tx, TC),
                (unsigned long long)http_tx_body_bytes(tx, TS),
                (unsigned long long)http_tx_body_bytes(tx, TC), http_tx_body_changed(tx, TS),
                http_tx_body_changed(tx, TC));
        for (int id = RULE_BUF_HTTP_METHOD; id <= RULE_BUF_HTTP_RESPONSE_BODY; id++) {
            for (int dir = 0; dir < 2; dir++) {
                const uint8_t *d;
                size_t n;
                if (!http_tx_buffer_dir(tx, (enum rule_buffer)id, dir, &d, &n))
                    continue;
                fprintf(f, " %d.%d %zu:", id, dir, n);
                fwrite(d, 1, n, f);
                fputc('\n', f);
            }
        }
    }
    for (int i = 0; i < HTTP_EV_COUNT; i++)
        fprintf(f, "ev %s %u\n", http_event_name((enum http_event)i), http_state_events(s)[i]);
    fclose(f);
    return out;
}

/* --- tests ------------------------------------------------------------------ */

static const char GET_REQ[] =
    "GET /index.html?q=1 HTTP/1.1\r\n"
    "Host: www.Example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) \r\n"
    "Accept: text/html,*/*;q=0.8\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Referer: http://www.example.com/\r\n"
    "Cookie: session=abc123\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

static const char OK_RESP[] = "HTTP/1.1 200 OK\r\n"
                              "Server: nginx/1.18.0\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Content-Length: 15\r\n"
                              "Set-Cookie: id=42; HttpOnly\r\n"
                              "\r\n"
                              "<html>hi</html>";

TEST(simple_get_200)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, GET_REQ), 0);
    CHECK_INT(http_tx_count(s), 1);
    tx = http_tx_at(s, 0);
    CHECK(tx != NULL);
    if (tx == NULL)
        goto out;
    CHECK_INT(http_tx_id(tx), 0);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_NONE);
    BUF(tx, RULE_BUF_HTTP_METHOD, "GET");
    BUF(tx, RULE_BUF_HTTP_URI, "/index.html?q=1");
    BUF(tx, RULE_BUF_HTTP_URI_RAW, "/index.html?q=1");
    BUF(tx, RULE_BUF_HTTP_PROTOCOL, "HTTP/1.1");
    BUF(tx, RULE_BUF_HTTP_REQUEST_LINE, "GET /index.html?q=1 HTTP/1.1");
    BUF(tx, RULE_BUF_HTTP_HOST, "www.example.com");
    BUF(tx, RULE_BUF_HTTP_HOST_RAW, "www.Example.com");
    BUF(tx, RULE_BUF_HTTP_USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64)");
    BUF(tx, RULE_BUF_HTTP_ACCEPT, "text/html,*/*;q=0.8");
    BUF(tx, RULE_BUF_HTTP_ACCEPT_ENC, "gzip, deflate");
    BUF(tx, RULE_BUF_HTTP_ACCEPT_LANG, "en-US,en;q=0.5");
    BUF(tx, RULE_BUF_HTTP_REFERER, "http://www.example.com/");
    BUF(tx, RULE_BUF_HTTP_COOKIE, "session=abc123");
    BUF(tx, RULE_BUF_HTTP_CONNECTION, "keep-alive");
    BUF(tx, RULE_BUF_HTTP_HEADER, "Host: www.Example.com\r\n"
                                  "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                                  "Accept: text/html,*/*;q=0.8\r\n"
                                  "Accept-Encoding: gzip, deflate\r\n"
                                  "Accept-Language: en-US,en;q=0.5\r\n"
                                  "Referer: http://www.example.com/\r\n"
                                  "Connection: keep-alive\r\n");
    BUF(tx, RULE_BUF_HTTP_HEADER_RAW, "Host: www.Example.com\r\n"
                                      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) \r\n"
                                      "Accept: text/html,*/*;q=0.8\r\n"
                                      "Accept-Encoding: gzip, deflate\r\n"
                                      "Accept-Language: en-US,en;q=0.5\r\n"
                                      "Referer: http://www.example.com/\r\n"
                                      "Cookie: session=abc123\r\n"
                                      "Connection: keep-alive\r\n"
                                      "\r\n");
    BUF(tx, RULE_BUF_HTTP_HEADER_NAMES, "\r\nHost\r\nUser-Agent\r\nAccept\r\nAccept-Encoding\r\n"
                                        "Accept-Language\r\nReferer\r\nCookie\r\nConnection\r\n\r\n");
    BUF(tx, RULE_BUF_HTTP_START, "GET /index.html?q=1 HTTP/1.1\r\n"
                                 "Host: www.Example.com\r\n"
                                 "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                                 "Accept: text/html,*/*;q=0.8\r\n"
                                 "Accept-Encoding: gzip, deflate\r\n"
                                 "Accept-Language: en-US,en;q=0.5\r\n"
                                 "Referer: http://www.example.com/\r\n"
                                 "Cookie: session=abc123\r\n"
                                 "Connection: keep-alive\r\n"
                                 "\r\n");
    NOBUF(tx, RULE_BUF_HTTP_CONTENT_TYPE);
    NOBUF(tx, RULE_BUF_HTTP_CONTENT_LEN);
    NOBUF(tx, RULE_BUF_HTTP_REQUEST_BODY);
    NOBUF(tx, RULE_BUF_HTTP_STAT_CODE);
    NOBUF(tx, RULE_BUF_HTTP_STAT_MSG);
    NOBUF(tx, RULE_BUF_HTTP_RESPONSE_LINE);
    NOBUF(tx, RULE_BUF_HTTP_SERVER);
    NOBUF(tx, RULE_BUF_HTTP_RESPONSE_BODY);
    NOBUFD(tx, RULE_BUF_HTTP_HEADER, TC);
    CHECK_INT(http_tx_status(tx), 0);
    CHECK_INT(http_tx_content_length(tx, TS), -1);

    CHECK_INT(feed(s, TC, OK_RESP), 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    CHECK_INT(http_tx_status(tx), 200);
    CHECK_INT(http_tx_content_length(tx, TC), 15);
    CHECK_INT(http_tx_body_bytes(tx, TC), 15);
    CHECK_INT(http_tx_body_bytes(tx, TS), 0);
    BUF(tx, RULE_BUF_HTTP_STAT_CODE, "200");
    BUF(tx, RULE_BUF_HTTP_STAT_MSG, "OK");
    BUF(tx, RULE_BUF_HTTP_RESPONSE_LINE, "HTTP/1.1 200 OK");
    BUF(tx, RULE_BUF_HTTP_SERVER, "nginx/1.18.0");
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "<html>hi</html>");
    NOBUF(tx, RULE_BUF_HTTP_LOCATION);
    BUFD(tx, RULE_BUF_HTTP_PROTOCOL, TC, "HTTP/1.1");
    BUFD(tx, RULE_BUF_HTTP_CONTENT_TYPE, TC, "text/html; charset=utf-8");
    BUFD(tx, RULE_BUF_HTTP_CONTENT_LEN, TC, "15");
    BUFD(tx, RULE_BUF_HTTP_COOKIE, TC, "id=42; HttpOnly");
    BUFD(tx, RULE_BUF_HTTP_HEADER, TC,
         "Server: nginx/1.18.0\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Length: 15\r\n");
    BUFD(tx, RULE_BUF_HTTP_HEADER_NAMES, TC,
         "\r\nServer\r\nContent-Type\r\nContent-Length\r\nSet-Cookie\r\n\r\n");
    BUFD(tx, RULE_BUF_HTTP_START, TC,
         "HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Length: 15\r\nSet-Cookie: id=42; HttpOnly\r\n\r\n");
    BUFD(tx, RULE_BUF_HTTP_HEADER_RAW, TC,
         "Server: nginx/1.18.0\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Length: 15\r\nSet-Cookie: id=42; HttpOnly\r\n\r\n");
    /* the dir-agnostic ids answer the same from both sides */
    BUFD(tx, RULE_BUF_HTTP_METHOD, TC, "GET");
    BUFD(tx, RULE_BUF_HTTP_STAT_CODE, TS, "200");
    NOBUFD(tx, RULE_BUF_HTTP_USER_AGENT, TC);
    /* the header excludes Cookie only */
    CHECK_INT(ev_total(s), 0);
out:
    http_state_destroy(s);
}

TEST(post_content_length_body)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, "POST /login HTTP/1.1\r\nHost: a.example\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          "Content-Length: 27\r\n\r\nuser=admin&"),
              0);
    tx = http_tx_at(s, 0);
    CHECK(tx != NULL);
    if (tx == NULL)
        goto out;
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_BODY);
    BUF(tx, RULE_BUF_HTTP_REQUEST_BODY, "user=admin&");
    CHECK(http_tx_body_changed(tx, TS));
    http_tx_body_mark(tx, TS);
    CHECK(!http_tx_body_changed(tx, TS));
    CHECK_INT(feed(s, TS, "password=secret1GET"), 0); /* 16 body bytes, then a new request */
    CHECK(http_tx_body_changed(tx, TS));
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_REQUEST_BODY, "user=admin&password=secret1");
    BUF(tx, RULE_BUF_HTTP_CONTENT_TYPE, "application/x-www-form-urlencoded");
    BUF(tx, RULE_BUF_HTTP_CONTENT_LEN, "27");
    CHECK_INT(http_tx_content_length(tx, TS), 27);
    CHECK_INT(http_tx_body_bytes(tx, TS), 27);
    CHECK(!http_tx_body_changed(tx, TC));
    CHECK_INT(feed(s, TS, " /next HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 2);
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_REQUEST_LINE, "GET /next HTTP/1.1");
    NOBUF(http_tx_at(s, 1), RULE_BUF_HTTP_HEADER);
    NOBUF(http_tx_at(s, 1), RULE_BUF_HTTP_HEADER_NAMES);
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_START, "GET /next HTTP/1.1\r\n");
    NOBUF(http_tx_at(s, 1), RULE_BUF_HTTP_HOST);
out:
    http_state_destroy(s);
}

TEST(request_body_limit)
{
    struct http_config c;
    struct http_state *s;
    struct http_tx *tx;

    http_config_default(&c);
    c.request_body_limit = 10;
    s = mk(&c);
    CHECK_INT(feed(s, TS, "PUT /f HTTP/1.1\r\nContent-Length: 26\r\n\r\n"
                          "abcdefghijklmnopqrstuvwxyz"),
              0);
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_REQUEST_BODY, "abcdefghij");
    CHECK_INT(http_tx_body_bytes(tx, TS), 26);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    CHECK_INT(ev(s, HTTP_EV_BODY_LIMIT), 1);
    http_state_destroy(s);
}

TEST(chunked_both_ways_split)
{
    static const char req[] = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;name=val\r\nhello\r\n"
                              "7\r\n, world\r\n"
                              "0\r\nX-Trailer: yes\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                               "A \r\n0123456789\r\n"
                               "0\r\n\r\n";
    struct http_state *s = mk(NULL);
    struct http_tx *tx;
    size_t rl = strlen(resp);

    CHECK_INT(feed(s, TS, req), 0);
    /* the response in three pieces, split inside the size line and a chunk */
    CHECK_INT(feed_n(s, TC, resp, 49), 0);
    CHECK_INT(feed_n(s, TC, resp + 49, 20), 0);
    CHECK_INT(feed_n(s, TC, resp + 69, rl - 69), 0);
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_REQUEST_BODY, "hello, world");
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "abcdefghijklmnopqrstuvwxyz0123456789");
    CHECK_INT(http_tx_body_bytes(tx, TS), 12);
    CHECK_INT(http_tx_body_bytes(tx, TC), 36);
    CHECK_INT(http_tx_content_length(tx, TC), -1);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

TEST(bad_chunk_size)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    /* response: a size line that is not one makes the rest body to the close */
    CHECK_INT(feed(s, TS, "GET / HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\nabcd\r\nzz\r\nmore"),
              0);
    tx = http_tx_at(s, 0);
    CHECK_INT(ev(s, HTTP_EV_BAD_CHUNK), 1);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "abcdzz\r\nmore");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_BODY);
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 1);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "abcdzz\r\nmoreHTTP/1.1 200 OK\r\n\r\n");
    http_eof(s, TC);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    http_state_destroy(s);

    /* a body without any end of line is not waited for as a size line */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    feed(s, TC, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n");
    feed_n(s, TC, "\r\n X5O!P%@A", 11);
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, " X5O!P%@A"); /* empty line skipped */
    http_state_destroy(s);

    /* request: the direction stops */
    s = mk(NULL);
    CHECK_INT(feed(s, TS, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\nabcd\r\nzz\r\nmore"),
              0);
    CHECK_INT(ev(s, HTTP_EV_BAD_CHUNK), 1);
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_REQUEST_BODY, "abcd");
    CHECK_INT(feed(s, TS, "GET / HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 1);
    http_state_destroy(s);

    /* data not followed by CRLF: what precedes the end of line is skipped */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    feed(s, TC, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n"
                "2\r\nde\r\n0\r\n\r\n");
    CHECK_INT(ev(s, HTTP_EV_BAD_CHUNK), 1);
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, "abcde");
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    http_state_destroy(s);
}

/* Chunk size lines as libhtp reads them: leading control bytes and empty
 * lines skipped, the hex digits taken, anything after them ignored. */
TEST(lenient_chunk_sizes)
{
    static const char *const sizes[][2] = {{"fx", "3x"},   {"f,", "3,"},           {"f\v", "3\v"},
                                           {"f x", "3 x"}, {"\ff", "\f3"},         {"f;e=1", "3;e"},
                                           {" F ", " 3 "}, {"\t0f\tz", "\r3\r"}};

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct http_state *s = mk(NULL);
        char resp[256];

        feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"
                 "%s\r\n0123456789abcde\r\n%s\r\nxyz\r\n0\r\n\r\n",
                 sizes[i][0], sizes[i][1]);
        CHECK_INT(feed(s, TC, resp), 0);
        if (!buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, "0123456789abcdexyz", 18,
                    __LINE__))
            fprintf(stderr, "lenient_chunk_sizes case %zu\n", i);
        BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, "0123456789abcdexyz");
        CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
        http_state_destroy(s);
    }
}

static const char LOREM[] =
    "<!DOCTYPE html><html><head><title>Lorem</title></head><body><p>Lorem ipsum dolor sit "
    "amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.</p></body></html>";

/* A response with the given Content-Encoding and body, body split in two. */
static struct http_state *encoded_response(const char *enc, const uint8_t *body, size_t n,
                                           bool chunked, const struct http_config *c)
{
    struct http_state *s = mk(c);
    char hdr[256];

    feed(s, TS, "GET /page HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
    if (chunked) {
        snprintf(hdr, sizeof(hdr),
                 "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "%zx\r\n",
                 enc, n);
        feed(s, TC, hdr);
        feed_n(s, TC, body, n / 2);
        feed_n(s, TC, body + n / 2, n - n / 2);
        feed(s, TC, "\r\n0\r\n\r\n");
    } else {
        snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
                                   "Content-Length: %zu\r\n\r\n",
                 enc, n);
        feed(s, TC, hdr);
        feed_n(s, TC, body, 1); /* the gzip/zlib header split */
        feed_n(s, TC, body + 1, n / 2);
        feed_n(s, TC, body + 1 + n / 2, n - 1 - n / 2);
    }
    return s;
}

TEST(gzip_and_deflate_bodies)
{
    static const struct {
        const char *enc;
        int bits;
        bool chunked;
    } cases[] = {
        {"gzip", 31, false},   {"x-gzip", 31, true},   {"GZIP", 31, false},
        {"deflate", 15, false}, {"deflate", -15, false}, {"deflate", -15, true},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t zn;
        uint8_t *z = zcompress(LOREM, sizeof(LOREM) - 1, cases[i].bits, &zn);
        struct http_state *s = encoded_response(cases[i].enc, z, zn, cases[i].chunked, NULL);
        struct http_tx *tx = http_tx_at(s, 0);

        CHECK(zn < sizeof(LOREM) - 1);
        CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
        BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
        CHECK_INT(http_tx_body_bytes(tx, TC), zn);
        if (ev_total(s) != 0)
            fprintf(stderr, "case %zu: events\n", i);
        CHECK_INT(ev_total(s), 0);
        http_state_destroy(s);
        free(z);
    }
}

TEST(gzip_request_body_kept)
{
    size_t zn;
    uint8_t *z = zcompress(LOREM, sizeof(LOREM) - 1, 31, &zn);
    struct http_state *s = mk(NULL);
    char hdr[160];

    snprintf(hdr, sizeof(hdr),
             "POST /api HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zn);
    feed(s, TS, hdr);
    feed_n(s, TS, z, zn);
    /* as Suricata (request decompression off): the body stays compressed */
    CHECK(buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_REQUEST_BODY, TS, z, zn, __LINE__));
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TS), HTTP_PROG_DONE);
    http_state_destroy(s);
    free(z);
}

TEST(gzip_bomb_cut_at_decompress_limit)
{
    size_t big = 10u << 20, zn;
    uint8_t *zeros = calloc(1, big);
    uint8_t *z = zcompress(zeros, big, 31, &zn);
    struct http_config c;
    struct http_state *s;
    struct http_tx *tx;
    const uint8_t *d;
    size_t n;
    bool all_zero = true;

    CHECK(zn < 64 * 1024); /* ~10 KB for 10 MB */
    http_config_default(&c);
    c.response_body_limit = 1u << 20; /* more than the decompress limit */
    c.decompress_limit = 64 * 1024;
    s = encoded_response("gzip", z, zn, false, &c);
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_LIMIT), 1);
    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_FAIL), 0);
    CHECK(http_tx_buffer(tx, RULE_BUF_HTTP_RESPONSE_BODY, &d, &n));
    CHECK_INT(n, 64 * 1024);
    for (size_t i = 0; i < n; i++)
        all_zero &= d[i] == 0;
    CHECK(all_zero);
    CHECK_INT(http_tx_body_bytes(tx, TC), zn);
    http_state_destroy(s);

    /* default limits: the body limit keeps 4096 bytes */
    s = encoded_response("gzip", z, zn, true, NULL);
    tx = http_tx_at(s, 0);
    CHECK(http_tx_buffer(tx, RULE_BUF_HTTP_RESPONSE_BODY, &d, &n));
    CHECK_INT(n, 4096);
    CHECK_INT(ev(s, HTTP_EV_BODY_LIMIT), 1);
    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_LIMIT), 1);
    http_state_destroy(s);
    free(z);
    free(zeros);
}

TEST(corrupt_gzip_keeps_raw)
{
    static const uint8_t junk[] = "this is not gzip at all";
    size_t zn;
    uint8_t *z;
    struct http_state *s = encoded_response("gzip", junk, sizeof(junk) - 1, false, NULL);
    struct http_tx *tx = http_tx_at(s, 0);

    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_FAIL), 1);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "this is not gzip at all");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    http_state_destroy(s);

    /* a bad block type right after the gzip header: the whole body kept raw */
    z = zcompress(LOREM, sizeof(LOREM) - 1, 31, &zn);
    z[10] = 0xff;
    s = encoded_response("gzip", z, zn, false, NULL);
    tx = http_tx_at(s, 0);
    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_FAIL), 1);
    CHECK(buf_is(tx, RULE_BUF_HTTP_RESPONSE_BODY, TC, z, zn, __LINE__));
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    http_state_destroy(s);
    free(z);

    /* a bad CRC and length in the gzip trailer, reserved header flags: the
     * trailer is not checked and the flags are ignored (as libhtp) */
    z = zcompress(LOREM, sizeof(LOREM) - 1, 31, &zn);
    z[zn - 6] ^= 0x55;
    z[zn - 2] ^= 0x55;
    z[3] = 0xe0;
    s = encoded_response("gzip", z, zn, false, NULL);
    tx = http_tx_at(s, 0);
    CHECK_INT(ev(s, HTTP_EV_DECOMPRESS_FAIL), 0);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
    http_state_destroy(s);
    free(z);
}

/* A gzip header with every optional field (FEXTRA, FNAME, FCOMMENT, FHCRC). */
TEST(gzip_header_fields)
{
    static const uint8_t hdr[] = {0x1f, 0x8b, 0x08, 0x1e, 0, 0, 0, 0, 0, 3,  5,   0,   'e',
                                  'x',  't',  'r',  'a',  'n', 'a', 'm', 'e', 0, 'c', 'm', 0,
                                  0x34, 0x12};
    size_t rn, zn;
    uint8_t *raw = zcompress(LOREM, sizeof(LOREM) - 1, -15, &rn);
    uint8_t *z = malloc(sizeof(hdr) + rn);
    struct http_state *s;

    CHECK(raw != NULL && z != NULL);
    memcpy(z, hdr, sizeof(hdr));
    memcpy(z + sizeof(hdr), raw, rn);
    zn = sizeof(hdr) + rn;
    s = encoded_response("gzip", z, zn, true, NULL);
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
    free(raw);
    free(z);
}

/* Content-Encoding as libhtp reads it: layers listed or repeated, the last
 * undone first, the wrong format retried as another one (gzip, deflate,
 * zlib), junk around the names, NULs inside them. */
TEST(content_encoding_layers)
{
    size_t gn, dn, gdn, dgn;
    uint8_t *g = zcompress(LOREM, sizeof(LOREM) - 1, 31, &gn);
    uint8_t *dz = zcompress(LOREM, sizeof(LOREM) - 1, -15, &dn);
    uint8_t *gd = zcompress((const char *)g, gn, -15, &gdn);  /* gzip, then deflate */
    uint8_t *dg = zcompress((const char *)dz, dn, 31, &dgn); /* deflate, then gzip */
    static const struct {
        const char *ce;
        int which; /* 0 g, 1 dz, 2 gd, 3 dg */
    } cases[] = {
        {"gzip, deflate", 2}, {"deflate, gzip", 3}, {"deflate,gzip", 2}, {"gzip x", 0},
        {"x gzip", 0},        {": deflate", 1},     {"deflate,", 1},      {"gz\x01ip", -1},
        {"\vgzip", 0},        {"gzip,identity", 0}, {"deflate", 0},       {"gzip", 1},
        {"identity, gzip", 0},
    };

    CHECK(g != NULL && dz != NULL && gd != NULL && dg != NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint8_t *bodies[] = {g, dz, gd, dg};
        size_t lens[] = {gn, dn, gdn, dgn};
        int w = cases[i].which < 0 ? 0 : cases[i].which;
        struct http_state *s = encoded_response(cases[i].ce, bodies[w], lens[w], false, NULL);

        bool ok;

        if (cases[i].which < 0) /* not an encoding: kept as is */
            ok = buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, g, gn, __LINE__);
        else
            ok = buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, LOREM,
                        sizeof(LOREM) - 1, __LINE__);
        if (!ok)
            fprintf(stderr, "content_encoding_layers case %zu (%s)\n", i, cases[i].ce);
        CHECK(ok);
        http_state_destroy(s);
    }
    /* NULs in the header name and value, two Content-Encoding headers */
    {
        struct http_state *s = mk(NULL);
        char hdr[200];
        int hn;

        feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
        hn = snprintf(hdr, sizeof(hdr),
                      "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Encoding:gzip\r\n"
                      "Content-Encoding: deflate\r\n\r\n",
                      dgn);
        feed_n(s, TC, hdr, (size_t)hn);
        feed_n(s, TC, (const char *)dg, dgn);
        BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
        http_state_destroy(s);

        s = mk(NULL);
        feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
        feed_n(s, TC, "HTTP/1.1 200 OK\r\nContent\0-Length", 32);
        hn = snprintf(hdr, sizeof(hdr), ": %zu\r\nContent-Encoding:\v", gn);
        feed_n(s, TC, hdr, (size_t)hn);
        feed_n(s, TC, "\0gz\0ip\r\n\r\n", 10);
        feed_n(s, TC, (const char *)g, gn);
        BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
        http_state_destroy(s);
    }
    free(g);
    free(dz);
    free(gd);
    free(dg);
}

/* Header oddities libhtp accepts in responses: a bare CR as end of line,
 * "\n\r", whitespace before a name, odd bytes around the colon, a name
 * split by folding, a whitespace-only line ended by LF ending the headers,
 * 1xx/204/304 announcing a body. */
TEST(lenient_response_headers)
{
    static const struct {
        const char *resp;
        size_t len;
    } cases[] = {
#define C(x) {x, sizeof(x) - 1}
        C("HTTP/1.1 200 ok\rX-A: b\rTransfer-Encoding: chunked\rY: foo\r\n\n4\r\nbody\r\n0\r\n\r\n"),
        C("\r\rHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1\rTransfer-Encoding:chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nTransfer-Encoding\v:chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nTransfer-Encoding\r :chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nTransfer-Encoding\r\n :\r\n chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nTransfer-Encoding:chu\0nked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\nY: foo\n \n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 200 ok\r\nContent-length: 4\n\r\r\nbody"),
        C("HTTP/1.1 200 ok\r\nContent-length: 4\n \n\nbody"),
        C("HTTP/1.1 200 ok\r\nContent-length: 4\n\t\nbody"),
        C("HTTP/1.1 200 ok\r\nX: y\r\n\r\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"),
        C("HTTP/1.1 204 ok\r\nContent-length: 4\r\n\r\nbody"),
        C("HTTP/1.1 100 ok\r\nContent-length: 4\r\n\r\nbody"),
#undef C
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            struct http_state *s = mk(NULL);

            feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
            if (bytewise) {
                for (size_t k = 0; k < cases[i].len; k++)
                    feed_n(s, TC, cases[i].resp + k, 1);
            } else {
                feed_n(s, TC, cases[i].resp, cases[i].len);
            }
            http_eof(s, TC);
            if (!buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC,
                        (const uint8_t *)"body", 4, __LINE__))
                fprintf(stderr, "lenient_response_headers case %zu bytewise %d\n", i, bytewise);
            CHECK(buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC,
                         (const uint8_t *)"body", 4, __LINE__));
            http_state_destroy(s);
        }
    }
}

TEST(pipelined_three)
{
    struct http_state *s = mk(NULL);

    CHECK_INT(feed(s, TS, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                          "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                          "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"),
              0);
    CHECK_INT(http_tx_count(s), 3);
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                          "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nB"
                          "HTTP/1.1 201 Created\r\nLocation: /c/1\r\nContent-Length: 1\r\n\r\nC"),
              0);
    CHECK_INT(http_tx_count(s), 3);
    for (size_t i = 0; i < 3; i++) {
        struct http_tx *tx = http_tx_at(s, i);
        CHECK_INT(http_tx_id(tx), i);
        CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
        CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    }
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_URI, "/a");
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, "A");
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 200);
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_URI, "/b");
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_STAT_MSG, "Not Found");
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_RESPONSE_BODY, "B");
    BUF(http_tx_at(s, 2), RULE_BUF_HTTP_METHOD, "POST");
    BUF(http_tx_at(s, 2), RULE_BUF_HTTP_REQUEST_BODY, "xyz");
    BUF(http_tx_at(s, 2), RULE_BUF_HTTP_LOCATION, "/c/1");
    CHECK_INT(http_tx_status(http_tx_at(s, 2)), 201);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

TEST(head_304_204_have_no_body)
{
    struct http_state *s = mk(NULL);

    feed(s, TS, "HEAD /big HTTP/1.1\r\n\r\nGET /cached HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n"
                "DELETE /r HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\n\r\n");
    CHECK_INT(http_tx_count(s), 4);
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                          "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
                          "HTTP/1.1 204 No Content\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast"),
              0);
    CHECK_INT(http_tx_count(s), 4);
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 200);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    NOBUF(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY);
    CHECK_INT(http_tx_content_length(http_tx_at(s, 0), TC), 1000);
    CHECK_INT(http_tx_status(http_tx_at(s, 1)), 304);
    CHECK_INT(http_tx_status(http_tx_at(s, 2)), 204);
    CHECK_INT(http_tx_status(http_tx_at(s, 3)), 200);
    BUF(http_tx_at(s, 3), RULE_BUF_HTTP_RESPONSE_BODY, "last");
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

TEST(continue_100)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    feed(s, TS, "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK_INT(feed(s, TC, "HTTP/1.1 100 Continue\r\n\r\n"), 0);
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_NONE);
    NOBUF(tx, RULE_BUF_HTTP_STAT_CODE);
    feed(s, TS, "data");
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_status(tx), 200);
    BUF(tx, RULE_BUF_HTTP_STAT_CODE, "200");
    BUF(tx, RULE_BUF_HTTP_REQUEST_BODY, "data");
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "ok");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

TEST(switching_protocols_stops)
{
    struct http_state *s = mk(NULL);

    feed(s, TS, "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    CHECK_INT(feed(s, TC, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
                          "\x81\x05hello"),
              0);
    CHECK_INT(feed(s, TS, "\x81\x85\x00\x00\x00\x00hello"), 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 101);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

static void uri_case(const char *raw, const char *exp, int line)
{
    struct http_state *s = mk(NULL);
    char req[512];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", raw);
    if (feed(s, TS, req) != 0 || http_tx_count(s) != 1) {
        fprintf(stderr, "line %d: request \"%s\" not parsed\n", line, raw);
        test_cur_failed = 1;
    } else {
        CHECK(buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_URI, TS, exp, strlen(exp), line));
        CHECK(buf_is(http_tx_at(s, 0), RULE_BUF_HTTP_URI_RAW, TS, raw, strlen(raw), line));
    }
    http_state_destroy(s);
}

TEST(uri_normalisation)
{
    uri_case("/index.html", "/index.html", __LINE__);
    uri_case("//index.html", "/index.html", __LINE__);
    uri_case("/a//b///c", "/a/b/c", __LINE__);
    uri_case("/a/./b/", "/a/b/", __LINE__);
    uri_case("/a/b/../c", "/a/c", __LINE__);
    uri_case("/a/b/..", "/a/", __LINE__);
    uri_case("/../../etc/passwd", "/etc/passwd", __LINE__);
    uri_case("/a/%2e%2e/b", "/b", __LINE__);
    uri_case("/%61%62%63", "/abc", __LINE__);
    uri_case("/a%20b", "/a b", __LINE__);
    uri_case("/a%2fb", "/a/b", __LINE__);
    uri_case("/a\\b\\..\\c", "/a/c", __LINE__);
    uri_case("/a%5cb", "/a/b", __LINE__);
    uri_case("/%u0041%U0042", "/AB", __LINE__);
    uri_case("/%uff0e%uff0e/x", "/x", __LINE__); /* full-width dots */
    uri_case("/%zz%4", "/%zz%4", __LINE__);       /* invalid escapes stay */
    uri_case("/caf%c3%a9", "/caf\xe9", __LINE__); /* UTF-8 best fit */
    uri_case("/%e4%b8%ad", "/?", __LINE__);
    uri_case("/%c0%af", "/\xc0\xaf", __LINE__); /* overlong: left alone */
    uri_case("/s?q=%41%42&r=a/../b", "/s?q=AB&r=a/../b", __LINE__);
    uri_case("/p/../q?x=1#frag%21", "/q?x=1#frag!", __LINE__);
    uri_case("http://Example.COM:8080/a/../b?c", "/b?c", __LINE__);
    uri_case("*", "*", __LINE__);
}

TEST(host_normalisation)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    feed(s, TS, "GET / HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\n\r\n");
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_HOST, "www.example.com");
    BUF(tx, RULE_BUF_HTTP_HOST_RAW, "WWW.Example.COM:8080");
    /* an absolute URI wins over the Host header */
    feed(s, TS, "GET http://user@Proxy.Example.NET.:3128/x HTTP/1.1\r\nHost: other\r\n\r\n");
    tx = http_tx_at(s, 1);
    BUF(tx, RULE_BUF_HTTP_HOST, "proxy.example.net");
    BUF(tx, RULE_BUF_HTTP_HOST_RAW, "Proxy.Example.NET.:3128");
    BUF(tx, RULE_BUF_HTTP_URI, "/x");
    feed(s, TS, "GET / HTTP/1.1\r\nHost: [2001:DB8::1]:443\r\n\r\n");
    BUF(http_tx_at(s, 2), RULE_BUF_HTTP_HOST, "[2001:db8::1]");
    feed(s, TS, "CONNECT Mail.Example.com:443 HTTP/1.1\r\n\r\n");
    BUF(http_tx_at(s, 3), RULE_BUF_HTTP_HOST, "mail.example.com");
    BUF(http_tx_at(s, 3), RULE_BUF_HTTP_METHOD, "CONNECT");
    CHECK_INT(http_tx_count(s), 4);
    http_state_destroy(s);
    /* a CONNECT to a path names no host (suricata-verify bug-7851-01) */
    s = mk(NULL);
    feed(s, TS, "CONNECT / HTTP/1.1\r\n\r\n");
    NOBUF(http_tx_at(s, 0), RULE_BUF_HTTP_HOST);
    http_state_destroy(s);
}

TEST(headers_folded_merged_trimmed)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, "GET / HTTP/1.0\n"
                          "User-Agent: Mozilla/5.0\r\n"
                          "X-Long: part one\r\n"
                          "\t  part two  \r\n"
                          "user-agent:Chrome/121.0.0\t\r\n"
                          "Broken header line\r\n"
                          "Accept : */*\n"
                          "\n"),
              0);
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_PROTOCOL, "HTTP/1.0");
    BUF(tx, RULE_BUF_HTTP_USER_AGENT, "Mozilla/5.0, Chrome/121.0.0");
    BUF(tx, RULE_BUF_HTTP_ACCEPT, "*/*");
    BUF(tx, RULE_BUF_HTTP_HEADER, "User-Agent: Mozilla/5.0, Chrome/121.0.0\r\n"
                                  "X-Long: part one\tpart two\r\n"
                                  "Accept: */*\r\n");
    BUF(tx, RULE_BUF_HTTP_HEADER_NAMES, "\r\nUser-Agent\r\nX-Long\r\nAccept\r\n\r\n");
    BUF(tx, RULE_BUF_HTTP_HEADER_RAW, "User-Agent: Mozilla/5.0\r\n"
                                      "X-Long: part one\r\n"
                                      "\t  part two  \r\n"
                                      "user-agent:Chrome/121.0.0\t\r\n"
                                      "Broken header line\r\n"
                                      "Accept : */*\n"
                                      "\n");
    CHECK_INT(ev(s, HTTP_EV_BAD_HEADER), 1);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    http_state_destroy(s);
}

/* A conversation using most features, for the split-invariance check. */
static void conversation(uint8_t **req, size_t *reqn, uint8_t **resp, size_t *respn)
{
    size_t zn;
    uint8_t *z = zcompress(LOREM, sizeof(LOREM) - 1, 31, &zn);
    char *a = NULL, *b = NULL;
    size_t an, bn;
    FILE *f;

    f = open_memstream(&a, &an);
    fputs("\r\n\r\nGET /a/./b/../%63?x=%41 HTTP/1.1\r\nHost: WWW.X.com:81\r\n"
          "Cookie: c=1\r\nX-Fold: one\r\n two\r\nX-Fold: three\r\n\r\n"
          "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n",
          f);
    fprintf(f, "%zx;ext=1\r\n", zn);
    fwrite(z, 1, zn, f);
    fputs("\r\n0\r\nTrailer: t\r\n\r\n"
          "HEAD /h HTTP/1.1\r\n\r\n"
          "PUT /q HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345",
          f);
    fclose(f);
    f = open_memstream(&b, &bn);
    fputs("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 3\r\n\r\nabc"
          "HTTP/1.1 100 Continue\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: ",
          f);
    free(z);
    z = zcompress(LOREM, sizeof(LOREM) - 1, -15, &zn);
    fprintf(f, "%zu\r\n\r\n", zn);
    fwrite(z, 1, zn, f);
    fputs("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
          "HTTP/1.0 200 OK\r\nSet-Cookie: a=b\r\n\r\nbody until the close",
          f);
    fclose(f);
    free(z);
    *req = (uint8_t *)a, *reqn = an;
    *resp = (uint8_t *)b, *respn = bn;
}

TEST(byte_by_byte_equals_whole)
{
    uint8_t *req, *resp;
    size_t reqn, respn, an, bn, cn;
    struct http_state *a = mk(NULL), *b = mk(NULL), *c = mk(NULL);
    char *da, *db, *dc;

    conversation(&req, &reqn, &resp, &respn);
    CHECK_INT(feed_n(a, TS, req, reqn), 0);
    CHECK_INT(feed_n(a, TC, resp, respn), 0);
    http_eof(a, TC);
    CHECK_INT(feed_bytes(b, TS, req, reqn), 0);
    CHECK_INT(feed_bytes(b, TC, resp, respn), 0);
    http_eof(b, TC);
    /* odd splits: 7 bytes at a time */
    for (size_t i = 0; i < reqn; i += 7)
        feed_n(c, TS, req + i, reqn - i < 7 ? reqn - i : 7);
    for (size_t i = 0; i < respn; i += 7)
        feed_n(c, TC, resp + i, respn - i < 7 ? respn - i : 7);
    http_eof(c, TC);

    da = dump(a, &an);
    db = dump(b, &bn);
    dc = dump(c, &cn);
    CHECK_INT(an, bn);
    CHECK(an == bn && memcmp(da, db, an) == 0);
    CHECK(an == cn && memcmp(da, dc, an) == 0);
    if (an != bn || memcmp(da, db, an) != 0)
        fprintf(stderr, "whole:\n%s\nbyte by byte:\n%s\n", da, db);
    /* and the conversation itself parsed as meant */
    CHECK_INT(http_tx_count(a), 4);
    BUF(http_tx_at(a, 0), RULE_BUF_HTTP_URI, "/a/c?x=A");
    BUF(http_tx_at(a, 0), RULE_BUF_HTTP_HOST, "www.x.com");
    BUF(http_tx_at(a, 0), RULE_BUF_HTTP_HEADER, "Host: WWW.X.com:81\r\nX-Fold: one two, three\r\n");
    {
        /* the request body de-chunked but left compressed, as Suricata */
        const uint8_t *d = NULL;
        size_t n = 0;
        CHECK(http_tx_buffer(http_tx_at(a, 1), RULE_BUF_HTTP_REQUEST_BODY, &d, &n));
        CHECK(n > 10 && d[0] == 0x1f && d[1] == 0x8b);
        CHECK_INT(n, http_tx_body_bytes(http_tx_at(a, 1), TS));
    }
    BUF(http_tx_at(a, 1), RULE_BUF_HTTP_RESPONSE_BODY, LOREM);
    CHECK_INT(http_tx_status(http_tx_at(a, 1)), 200);
    CHECK_INT(http_tx_progress(http_tx_at(a, 2), TC), HTTP_PROG_DONE);
    BUF(http_tx_at(a, 3), RULE_BUF_HTTP_REQUEST_BODY, "12345");
    BUF(http_tx_at(a, 3), RULE_BUF_HTTP_RESPONSE_BODY, "body until the close");
    BUFD(http_tx_at(a, 3), RULE_BUF_HTTP_PROTOCOL, TC, "HTTP/1.0");
    CHECK_INT(ev_total(a), 0);
    free(da);
    free(db);
    free(dc);
    free(req);
    free(resp);
    http_state_destroy(a);
    http_state_destroy(b);
    http_state_destroy(c);
}

TEST(header_limit)
{
    struct http_config c;
    struct http_state *a, *b;
    char req[400];
    char *da, *db;
    size_t an, bn;

    http_config_default(&c);
    c.header_limit = 128;
    a = mk(&c);
    b = mk(&c);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: %0200d\r\n\r\n", 7);
    CHECK_INT(feed(a, TS, req), 0);
    CHECK_INT(feed_bytes(b, TS, req, strlen(req)), 0);
    CHECK_INT(ev(a, HTTP_EV_HEADER_LIMIT), 1);
    CHECK_INT(http_tx_count(a), 1);
    CHECK_INT(http_tx_progress(http_tx_at(a, 0), TS), HTTP_PROG_LINE);
    NOBUF(http_tx_at(a, 0), RULE_BUF_HTTP_HEADER);
    BUF(http_tx_at(a, 0), RULE_BUF_HTTP_METHOD, "GET");
    da = dump(a, &an);
    db = dump(b, &bn);
    CHECK(an == bn && memcmp(da, db, an) == 0);
    free(da);
    free(db);
    /* the direction stopped */
    CHECK_INT(feed(a, TS, "GET /again HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(a), 1);
    http_state_destroy(a);
    http_state_destroy(b);

    /* a request line without end longer than the limit */
    a = mk(&c);
    memset(req, 'A', 300);
    memcpy(req, "GET /", 5);
    CHECK_INT(feed_n(a, TS, req, 300), 0);
    CHECK_INT(ev(a, HTTP_EV_HEADER_LIMIT), 1);
    CHECK_INT(http_tx_count(a), 0);
    http_state_destroy(a);

    /* exactly at the limit is fine */
    a = mk(&c);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 128 - 16 - 3 - 2 - 2, 1);
    CHECK_INT(strlen(req), 128);
    CHECK_INT(feed(a, TS, req), 0);
    CHECK_INT(ev(a, HTTP_EV_HEADER_LIMIT), 0);
    CHECK_INT(http_tx_progress(http_tx_at(a, 0), TS), HTTP_PROG_DONE);
    http_state_destroy(a);
}

TEST(body_until_close)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    feed(s, TS, "GET /old HTTP/1.0\r\n\r\n");
    feed(s, TC, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ");
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_BODY);
    feed(s, TC, "second part");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_BODY);
    http_eof(s, TC);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "first part, second part");
    CHECK_INT(http_tx_body_bytes(tx, TC), 23);
    CHECK_INT(ev_total(s), 0);
    /* an incomplete Content-Length body stays incomplete at the close */
    http_state_destroy(s);
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
    http_eof(s, TC);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_BODY);
    http_state_destroy(s);
    /* headers the close cuts off (no empty line) are complete at the close,
     * as libhtp has them (suricata-verify http-close-headers) */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    feed(s, TC, "HTTP/1.0 200 OK\r\nServer:ng1nx\r\n");
    tx = http_tx_at(s, 0);
    CHECK(http_tx_progress(tx, TC) < HTTP_PROG_HEADERS);
    http_eof(s, TC);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_SERVER, "ng1nx");
    http_state_destroy(s);
}

TEST(http09)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, "GET /\r\n"), 0);
    tx = http_tx_at(s, 0);
    /* HTTP/0.9 unless a header line follows (libhtp): decided by the next
     * line or the end of the direction */
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_LINE);
    http_eof(s, TS);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_URI, "/");
    NOBUF(tx, RULE_BUF_HTTP_PROTOCOL);
    NOBUF(tx, RULE_BUF_HTTP_START);
    CHECK_INT(feed(s, TC, "<html>raw 0.9 body</html>"), 0);
    http_eof(s, TC);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "<html>raw 0.9 body</html>");
    NOBUF(tx, RULE_BUF_HTTP_STAT_CODE);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);

    /* a request line missing its protocol, then headers: a request with
     * headers (suricata-verify http-missing-protocol) */
    s = mk(NULL);
    CHECK_INT(feed(s, TS, "GET /gen.php?x=1\r\nHost: h\r\nUser-Agent: u\r\n\r\n"), 0);
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_HEADER_NAMES, "\r\nHost\r\nUser-Agent\r\n\r\n");
    BUF(tx, RULE_BUF_HTTP_HOST, "h");
    /* and a 0.9 request followed by another request */
    http_state_destroy(s);
    s = mk(NULL);
    CHECK_INT(feed(s, TS, "GET /a\r\nGET /b HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 2);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TS), HTTP_PROG_DONE);
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_URI, "/b");
    http_state_destroy(s);
}

TEST(not_http_is_eparse)
{
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    struct http_state *s = mk(NULL);

    CHECK_INT(feed_n(s, TS, tls, sizeof(tls)), KANSHI_EPARSE);
    CHECK_INT(feed(s, TS, "GET / HTTP/1.1\r\n\r\n"), KANSHI_EPARSE);
    CHECK_INT(http_tx_count(s), 0);
    CHECK_INT(ev(s, HTTP_EV_BAD_REQUEST_LINE), 1);
    http_state_destroy(s);

    s = mk(NULL);
    CHECK_INT(feed(s, TS, "GET\r\n"), KANSHI_EPARSE);
    http_state_destroy(s);

    s = mk(NULL);
    CHECK_INT(feed(s, TS, "SSH-2.0-OpenSSH_9.6\r\n"), KANSHI_EPARSE);
    http_state_destroy(s);

    /* byte by byte: found on the first bad byte, before any end of line */
    s = mk(NULL);
    CHECK_INT(feed(s, TS, "GE"), 0);
    CHECK_INT(feed(s, TS, "T<"), KANSHI_EPARSE);
    http_state_destroy(s);

    /* a response that is not HTTP is body, as libhtp has it: never given up */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(feed(s, TC, "220 smtp.example.com ESMTP\r\n"), 0);
    CHECK_INT(feed(s, TC, "250 OK"), 0);
    CHECK_INT(ev(s, HTTP_EV_BAD_STATUS_LINE), 1);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_BODY);
    BUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, "220 smtp.example.com ESMTP\r\n");
    NOBUFD(http_tx_at(s, 0), RULE_BUF_HTTP_STAT_CODE, TC);
    /* the close ends the last line and the response */
    http_eof(s, TC);
    BUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC,
         "220 smtp.example.com ESMTP\r\n250 OK");
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    CHECK_INT(http_parse(s, 5, (const uint8_t *)"x", 1), -EINVAL);
    http_state_destroy(s);
}

TEST(bad_request_line_protocol_and_content_length)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, "GET /a b HTTP/1.1\r\nContent-Length: 12x\r\n\r\n"), 0);
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_URI_RAW, "/a b");
    BUF(tx, RULE_BUF_HTTP_PROTOCOL, "HTTP/1.1");
    CHECK_INT(ev(s, HTTP_EV_BAD_CONTENT_LEN), 1);
    CHECK_INT(http_tx_content_length(tx, TS), -1);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    CHECK_INT(feed(s, TS, "GET /x FOO/1\r\n\r\n"), 0);
    CHECK_INT(ev(s, HTTP_EV_BAD_REQUEST_LINE), 1);
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_PROTOCOL, "FOO/1");
    CHECK_INT(feed(s, TC, "HTTP/1.1 2x0 Weird\r\nContent-Length: 5, 5\r\n\r\nhello"), 0);
    CHECK_INT(ev(s, HTTP_EV_BAD_STATUS_LINE), 1);
    CHECK_INT(http_tx_status(tx), 0);
    BUF(tx, RULE_BUF_HTTP_STAT_CODE, "2x0");
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "hello");
    CHECK_INT(http_tx_content_length(tx, TC), 5);
    http_state_destroy(s);
}

TEST(gaps)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    feed(s, TS, "GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    http_gap(s, TC, 4);
    CHECK_INT(ev(s, HTTP_EV_GAP), 1);
    feed(s, TC, "hij");
    tx = http_tx_at(s, 0);
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "abchij");
    /* the next response still parses: we stayed in sync */
    CHECK_INT(feed(s, TC, "HTTP/1.1 404 Nope\r\n"), 0);
    CHECK_INT(http_tx_status(http_tx_at(s, 1)), 404);
    /* a gap in headers: the direction gives up */
    http_gap(s, TC, 10);
    CHECK_INT(ev(s, HTTP_EV_GAP), 2);
    CHECK_INT(feed(s, TC, "Server: x\r\n\r\n"), 0);
    NOBUF(http_tx_at(s, 1), RULE_BUF_HTTP_SERVER);
    CHECK_INT(http_tx_progress(http_tx_at(s, 1), TC), HTTP_PROG_LINE);
    http_state_destroy(s);

    /* a gap longer than the body left */
    s = mk(NULL);
    feed(s, TS, "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
    http_gap(s, TS, 100);
    CHECK_INT(feed(s, TS, "GET / HTTP/1.1\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(ev(s, HTTP_EV_GAP), 1);
    http_state_destroy(s);
}

TEST(unpaired_response)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), 0);
    CHECK_INT(ev(s, HTTP_EV_UNPAIRED_RESPONSE), 1);
    CHECK_INT(http_tx_count(s), 1);
    tx = http_tx_at(s, 0);
    NOBUF(tx, RULE_BUF_HTTP_METHOD);
    NOBUF(tx, RULE_BUF_HTTP_URI);
    NOBUF(tx, RULE_BUF_HTTP_REQUEST_LINE);
    BUF(tx, RULE_BUF_HTTP_RESPONSE_BODY, "hi");
    /* a later request opens its own transaction */
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(http_tx_count(s), 2);
    CHECK_INT(http_tx_id(http_tx_at(s, 1)), 1);
    http_state_destroy(s);
}

TEST(max_tx_and_gc)
{
    struct http_config c;
    struct http_state *s;
    uint32_t *u;

    http_config_default(&c);
    c.max_tx = 2;
    s = mk(&c);
    feed(s, TS, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    CHECK_INT(http_tx_count(s), 2);
    u = http_tx_user(http_tx_at(s, 0));
    CHECK_INT(*u, 0);
    *u = 0x5;
    feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    /* not marked: gc keeps it */
    http_state_gc(s);
    CHECK_INT(http_tx_count(s), 2);
    CHECK_INT(*http_tx_user(http_tx_at(s, 0)), 0x5);
    /* tx 1 marked but its response is missing: kept; tx 0 freed */
    http_tx_done(http_tx_at(s, 1));
    http_tx_done(http_tx_at(s, 0));
    http_state_gc(s);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_id(http_tx_at(s, 0)), 1);
    BUF(http_tx_at(s, 0), RULE_BUF_HTTP_URI, "/2");
    feed(s, TC, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 200);
    http_state_gc(s);
    CHECK_INT(http_tx_count(s), 0);
    CHECK(http_tx_at(s, 0) == NULL);
    /* ids go on */
    feed(s, TS, "GET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n");
    CHECK_INT(http_tx_id(http_tx_at(s, 0)), 2);
    CHECK_INT(ev(s, HTTP_EV_TOO_MANY_TX), 0);
    feed(s, TS, "GET /5 HTTP/1.1\r\n\r\n");
    CHECK_INT(ev(s, HTTP_EV_TOO_MANY_TX), 1);
    CHECK_INT(http_tx_count(s), 2);
    http_state_destroy(s);
}

TEST(absent_buffers_and_names)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;
    const uint8_t *d;
    size_t n;

    feed(s, TS, "GET / HTTP/1.1\r\nHost: h\r\n");
    tx = http_tx_at(s, 0);
    /* headers not finished: header buffers not there yet */
    NOBUF(tx, RULE_BUF_HTTP_HOST);
    NOBUF(tx, RULE_BUF_HTTP_HEADER);
    NOBUF(tx, RULE_BUF_HTTP_HEADER_RAW);
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_LINE);
    feed(s, TS, "\r\n");
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);
    NOBUF(tx, RULE_BUF_HTTP_USER_AGENT);
    NOBUF(tx, RULE_BUF_HTTP_COOKIE);
    NOBUF(tx, RULE_BUF_HTTP_ACCEPT);
    NOBUF(tx, RULE_BUF_HTTP_ACCEPT_ENC);
    NOBUF(tx, RULE_BUF_HTTP_ACCEPT_LANG);
    NOBUF(tx, RULE_BUF_HTTP_REFERER);
    NOBUF(tx, RULE_BUF_HTTP_CONNECTION);
    NOBUF(tx, RULE_BUF_HTTP_LOCATION);
    CHECK(!http_tx_buffer(tx, RULE_BUF_PAYLOAD, &d, &n));
    CHECK(!http_tx_buffer(tx, RULE_BUF_DNS_QUERY, &d, &n));
    CHECK(!http_tx_buffer(tx, RULE_BUF_TLS_SNI, &d, &n));
    CHECK(!http_tx_buffer_dir(tx, RULE_BUF_HTTP_METHOD, 7, &d, &n));
    CHECK(http_tx_buffer(tx, RULE_BUF_HTTP_HOST, &d, &n) && n == 1 && d[0] == 'h');
    /* an empty header value exists */
    feed(s, TS, "GET / HTTP/1.1\r\nReferer:\r\n\r\n");
    BUF(http_tx_at(s, 1), RULE_BUF_HTTP_REFERER, "");
    CHECK_STR(http_event_name(HTTP_EV_BAD_REQUEST_LINE), "bad_request_line");
    CHECK_STR(http_event_name(HTTP_EV_DECOMPRESS_LIMIT), "decompress_limit");
    CHECK_STR(http_event_name(HTTP_EV_GAP), "gap");
    CHECK_STR(http_event_name(HTTP_EV_COUNT), "unknown");
    for (int i = 0; i < HTTP_EV_COUNT; i++)
        CHECK(http_event_name((enum http_event)i) != NULL &&
              strcmp(http_event_name((enum http_event)i), "unknown") != 0);
    http_state_destroy(s);
    http_state_destroy(NULL);
}

TEST(leading_crlf_and_status_without_message)
{
    struct http_state *s = mk(NULL);
    struct http_tx *tx;

    CHECK_INT(feed(s, TS, "\r\n\r\n\nOPTIONS * HTTP/1.1\r\n\r\n"), 0);
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_METHOD, "OPTIONS");
    BUF(tx, RULE_BUF_HTTP_URI, "*");
    CHECK_INT(feed(s, TC, "\r\nHTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), 0);
    BUF(tx, RULE_BUF_HTTP_STAT_CODE, "200");
    BUF(tx, RULE_BUF_HTTP_STAT_MSG, "");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    CHECK_INT(ev_total(s), 0);
    http_state_destroy(s);
}

/* libhtp takes a header line starting with NUL for a continuation, as one
 * starting with whitespace (http-evader 307: "Transfer-Encoding:\n\0chunked"). */
TEST(nul_folds_a_header)
{
    static const char resp[] = "HTTP/1.1 200 ok\r\nConnection: close\r\nTransfer-Encoding:\n"
                               "\0chunked\r\nX: y\r\n\r\n4\r\nX5O!\r\n4\r\nP%@A\r\n0\r\n\r\n";
    static const char req[] = "GET / HTTP/1.1\r\nUser-Agent: one\r\n\0two\r\nX: \r\n\0\r\n"
                              "Accept: a\r\n\r\n";
    static const char resp2[] = "HTTP/1.1 200 ok\r\nX: y\r\n\0Server: kanshi\r\n"
                                "\0Content-Length: 2\r\n\r\nhi";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct http_state *s = mk(NULL);
        struct http_tx *tx;

        feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
        if (bytewise)
            feed_bytes(s, TC, resp, sizeof(resp) - 1);
        else
            feed_n(s, TC, resp, sizeof(resp) - 1);
        tx = http_tx_at(s, 0);
        BUFD(tx, RULE_BUF_HTTP_RESPONSE_BODY, TC, "X5O!P%@A");
        CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
        BUFD(tx, RULE_BUF_HTTP_HEADER, TC,
             "Connection: close\r\nTransfer-Encoding: \0chunked\r\nX: y\r\n");
        CHECK_INT(ev(s, HTTP_EV_BAD_HEADER), 0);
        http_state_destroy(s);
    }

    /* requests too; a line of a NUL alone does not end the headers */
    struct http_state *s = mk(NULL);
    struct http_tx *tx;
    CHECK_INT(feed_n(s, TS, req, sizeof(req) - 1), 0);
    tx = http_tx_at(s, 0);
    BUF(tx, RULE_BUF_HTTP_USER_AGENT, "one\0two");
    BUF(tx, RULE_BUF_HTTP_ACCEPT, "a");
    BUF(tx, RULE_BUF_HTTP_HEADER, "User-Agent: one\0two\r\nX: \0\r\nAccept: a\r\n");
    CHECK_INT(http_tx_progress(tx, TS), HTTP_PROG_DONE);

    /* in a response, a folded line reading "name:" after the NUL is a new
     * header, the NUL dropped */
    CHECK_INT(feed_n(s, TC, resp2, sizeof(resp2) - 1), 0);
    BUFD(tx, RULE_BUF_HTTP_SERVER, TC, "kanshi");
    BUFD(tx, RULE_BUF_HTTP_RESPONSE_BODY, TC, "hi");
    CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
    http_state_destroy(s);
}

/* Lines before the status line that do not read "http" (after whitespace
 * and NULs) are response body, as libhtp has them (http-evader 485, 487);
 * the status line that follows belongs to the same response. */
TEST(junk_before_status_line)
{
    static const struct {
        const char *resp;
        size_t len;
        const char *body;
        size_t blen;
        const char *proto;
        size_t plen;
    } cases[] = {
#define C(x, b, p) {x, sizeof(x) - 1, b, sizeof(b) - 1, p, sizeof(p) - 1}
        C("foobar\r\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
          "foobar\r\nbody", "HTTP/1.1"),
        C(" foobar\r\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
          " foobar\r\nbody", "HTTP/1.1"),
        C("a\nb\r\n\r\nHTTX/1.1 200\r\n HTTP/1.1 200 ok\r\nContent-Length: 4\r\n\r\nbody",
          "a\nb\r\nHTTX/1.1 200\r\nbody", "HTTP/1.1"),
        C("\0\r\nhttp 200 ok\r\nContent-Length: 4\r\n\r\nbody", "\0\r\nbody", "http"),
        C("\0HTTP/1.1 200 ok\r\nContent-Length: 4\r\n\r\nbody", "body", "\0HTTP/1.1"),
        C("HTT\r\n\t\vHtTp/1.0 200 ok\r\nContent-Length: 4\r\n\r\nbody", "HTT\r\nbody",
          "HtTp/1.0"),
#undef C
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_state *a = mk(NULL), *b = mk(NULL);
        struct http_tx *tx;
        char *da, *db;
        size_t an, bn;

        feed(a, TS, "GET / HTTP/1.1\r\n\r\n");
        feed(b, TS, "GET / HTTP/1.1\r\n\r\n");
        CHECK_INT(feed_n(a, TC, cases[i].resp, cases[i].len), 0);
        CHECK_INT(feed_bytes(b, TC, cases[i].resp, cases[i].len), 0);
        CHECK_INT(http_tx_count(a), 1);
        tx = http_tx_at(a, 0);
        if (!buf_is(tx, RULE_BUF_HTTP_RESPONSE_BODY, TC, cases[i].body, cases[i].blen, __LINE__))
            fprintf(stderr, "junk_before_status_line case %zu\n", i);
        CHECK(buf_is(tx, RULE_BUF_HTTP_RESPONSE_BODY, TC, cases[i].body, cases[i].blen,
                     __LINE__));
        CHECK(buf_is(tx, RULE_BUF_HTTP_PROTOCOL, TC, cases[i].proto, cases[i].plen, __LINE__));
        BUFD(tx, RULE_BUF_HTTP_STAT_CODE, TC, "200");
        CHECK_INT(http_tx_status(tx), 200);
        CHECK_INT(http_tx_progress(tx, TC), HTTP_PROG_DONE);
        CHECK_INT(ev(a, HTTP_EV_BAD_STATUS_LINE), cases[i].blen > 4 ? 1 : 0);
        da = dump(a, &an);
        db = dump(b, &bn);
        CHECK(an == bn && memcmp(da, db, an) == 0);
        free(da);
        free(db);
        http_state_destroy(a);
        http_state_destroy(b);
    }

    /* without a request: a request-less transaction, as for a status line */
    struct http_state *s = mk(NULL);
    CHECK_INT(feed(s, TC, "junk\r\nHTTP/1.1 204 No\r\n\r\n"), 0);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(ev(s, HTTP_EV_UNPAIRED_RESPONSE), 1);
    BUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, "junk\r\n");
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 204);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    http_state_destroy(s);

    /* after a complete response, junk starts the next one (pipelining) */
    s = mk(NULL);
    feed(s, TS, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 ok\r\nContent-Length: 1\r\n\r\n1extra\r\n"
                          "HTTP/1.1 404 no\r\nContent-Length: 1\r\n\r\n2"),
              0);
    BUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, "1");
    BUFD(http_tx_at(s, 1), RULE_BUF_HTTP_RESPONSE_BODY, TC, "extra\r\n2");
    CHECK_INT(http_tx_status(http_tx_at(s, 1)), 404);
    CHECK_INT(http_tx_count(s), 2);
    http_state_destroy(s);

    /* headers cut by the close: their partial last line is not junk of
     * another response */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 ok\r\nX-Cut"), 0);
    http_eof(s, TC);
    CHECK_INT(http_tx_count(s), 1);
    CHECK_INT(http_tx_progress(http_tx_at(s, 0), TC), HTTP_PROG_DONE);
    NOBUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC);
    http_state_destroy(s);

    /* the close opens no transaction for a fragment no request waits for */
    s = mk(NULL);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(feed(s, TC, "HTTP/1.1 200 ok\r\nContent-Length: 1\r\n\r\n1zz"), 0);
    http_eof(s, TC);
    CHECK_INT(http_tx_count(s), 1);
    BUFD(http_tx_at(s, 0), RULE_BUF_HTTP_RESPONSE_BODY, TC, "1");
    http_state_destroy(s);

    /* a long junk line still meets the header limit */
    struct http_config c;
    http_config_default(&c);
    c.header_limit = 20;
    s = mk(&c);
    feed(s, TS, "GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(feed(s, TC, "0123456789abcdef0123\r\nHTTP/1.1 200 ok\r\n\r\n"), 0);
    CHECK_INT(ev(s, HTTP_EV_HEADER_LIMIT), 1);
    CHECK_INT(http_tx_status(http_tx_at(s, 0)), 0);
    http_state_destroy(s);
}

int main(void)
{
    RUN(simple_get_200);
    RUN(post_content_length_body);
    RUN(request_body_limit);
    RUN(chunked_both_ways_split);
    RUN(bad_chunk_size);
    RUN(lenient_chunk_sizes);
    RUN(gzip_and_deflate_bodies);
    RUN(gzip_request_body_kept);
    RUN(gzip_bomb_cut_at_decompress_limit);
    RUN(corrupt_gzip_keeps_raw);
    RUN(gzip_header_fields);
    RUN(content_encoding_layers);
    RUN(lenient_response_headers);
    RUN(pipelined_three);
    RUN(head_304_204_have_no_body);
    RUN(continue_100);
    RUN(switching_protocols_stops);
    RUN(uri_normalisation);
    RUN(host_normalisation);
    RUN(headers_folded_merged_trimmed);
    RUN(byte_by_byte_equals_whole);
    RUN(header_limit);
    RUN(body_until_close);
    RUN(http09);
    RUN(not_http_is_eparse);
    RUN(bad_request_line_protocol_and_content_length);
    RUN(gaps);
    RUN(unpaired_response);
    RUN(max_tx_and_gc);
    RUN(absent_buffers_and_names);
    RUN(leading_crlf_and_status_without_message);
    RUN(nul_folds_a_header);
    RUN(junk_before_status_line);
    return test_summary("app_http_test");
}
