/*
 * app_http.c — HTTP/1.x parser over reassembled TCP streams (see
 * include/kanshi/app_http.h).
 *
 * Each direction is a small state machine fed in stream order: the request
 * or status line, header lines, then a body delimited by Content-Length,
 * chunked Transfer-Encoding (extensions and trailers allowed) or, for
 * responses, the close of the connection.  Lines are assembled in a per
 * direction buffer only when they straddle two calls; the line buffer never
 * grows past header_limit (chunk lines included), so feeding a message one
 * byte at a time gives exactly what one call gives.
 *
 * Transactions sit in an array, oldest first.  A request line always opens a
 * new one; a status line goes to the oldest transaction without a response
 * (pipelining), or to a new request-less one (HTTP_EV_UNPAIRED_RESPONSE).
 * Interim 1xx responses (but 101) are forgotten once their headers end, so
 * the final response lands in the same transaction; 101 ends HTTP on the flow.
 *
 * Buffers follow Suricata (libhtp with Suricata's defaults, the IDS
 * personality with lower-casing turned off):
 *   uri      path: %XX decoded (any byte, %2F and %00 included), %uXXXX
 *            decoded with a best-fit to one byte, '\' made '/', "//" made
 *            "/", UTF-8 sequences best-fitted to one byte ('?' when none),
 *            then "." and ".." segments resolved (RFC 3986 5.2.4); query:
 *            the same decoding without the segment resolution; fragment
 *            decoded likewise.  Scheme and authority of an absolute URI are
 *            left out (uri-include-all: false).  Invalid %-escapes stay.
 *   host     from an absolute URI, else the Host header; lower case, port
 *            and trailing dots removed.  host.raw: as sent (port kept).
 *   header   "Name: value\r\n" per header in order of first appearance,
 *            repeated headers merged with ", " into the first, values
 *            trimmed, folded lines joined with one space; Cookie (request)
 *            and Set-Cookie (response) left out.
 *   header_names  "\r\nName1\r\nName2\r\n\r\n" of the merged headers.
 *   header_raw    the header lines as received, the final empty line included.
 *   start    the request/status line, "\r\n", the normalised headers (Cookie
 *            included) and, when there was a header, a final "\r\n".
 *   bodies   de-chunked, then (responses only: Suricata leaves request
 *            bodies compressed) decoded per Content-Encoding as libhtp does:
 *            up to HTTP_ZLAYERS layers, a layer in the wrong format retried
 *            as gzip/deflate/zlib, then passed through; gzip headers parsed
 *            here (reserved flags, header CRC and trailer not checked); kept
 *            up to the body limit.
 *   lenient  as libhtp: chunk sizes are the leading hex digits (junk after
 *            them ignored, empty lines skipped); a response whose chunk size
 *            line is not one becomes a body up to the close; in responses a
 *            bare CR ends a line and "\n\r" is one end of line; header names
 *            and values trimmed of CR/LF/VT/FF too, NULs ignored when looking
 *            a header up; a header line starting with NUL folds as one
 *            starting with whitespace; 1xx/204/304 with a Content-Length or
 *            chunked have a body.  A response line that does not read "http"
 *            after whitespace and NULs is body of the response (lines before
 *            the status line, or a server that is not HTTP): the response
 *            direction is never given up as not HTTP, only the request one.
 *
 * Shared ids (protocol, headers by name, header, header_raw, header_names,
 * start) exist on both sides: http_tx_buffer() answers with the request's,
 * http_tx_buffer_dir() with either.  Response-only ids (stat_code, stat_msg,
 * response_line, server, location, response_body) always come from the
 * response.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "kanshi/app.h"
#include "kanshi/app_http.h"
#include "kanshi/kanshi.h"

#define HTTP_ZHEAD 512    /* first compressed bytes of a layer kept to retry it */
#define HTTP_ZLAYERS 3    /* Content-Encoding layers decoded */
#define HTTP_ZRESTARTS 3  /* other formats tried by a layer before passing bytes through */
#define HTTP_ZOUT 2048    /* inflate output block (one per layer on the stack) */
#define HTTP_ZIN_MAX (1u << 30) /* inflate input per call */
#define HTTP_CLEN_DIGITS 18

/* A growable byte buffer; every caller bounds its growth. */
struct http_buf {
    uint8_t *p;
    size_t len, cap;
};

/* One header: offsets into a message's store. */
struct http_hdr {
    uint32_t name, name_len;
    uint32_t val, val_len;
};

/* gzip: own header parser then raw deflate; deflate: raw; zlib: RFC 1950 wrapper. */
enum http_enc { HTTP_ENC_NONE, HTTP_ENC_GZIP, HTTP_ENC_DEFLATE, HTTP_ENC_ZLIB };

/* gzip header parser states (the header is read here, not by zlib, so that
 * reserved flags, a bad header CRC or a bad trailer do not stop decoding). */
enum http_gz { HTTP_GZ_FIXED, HTTP_GZ_XLEN, HTTP_GZ_EXTRA, HTTP_GZ_NAME, HTTP_GZ_COMMENT,
               HTTP_GZ_HCRC, HTTP_GZ_DONE };

/* One decompression layer.  A layer that fails before producing anything
 * is restarted with the next format (gzip -> deflate -> zlib -> gzip) on the
 * bytes it kept; after HTTP_ZRESTARTS it passes its input through as is. */
struct http_zl {
    z_stream z;
    bool zinit;
    enum http_enc kind;
    uint8_t restarts;
    bool passthrough;
    bool ended; /* stream end or an error after output: later bytes dropped */
    enum http_gz gz;
    uint8_t gz_flags;
    uint32_t gz_n; /* bytes of the current gzip header field seen */
    uint32_t gz_xlen;
    size_t in_total;   /* input bytes given so far */
    uint64_t out_total;
    uint8_t head[HTTP_ZHEAD];
};

/* Decompression of one body: layer 0 gets the body bytes, layer i+1 the
 * output of layer i, the last layer's output is the body kept. */
struct http_z {
    size_t n;
    bool ended; /* output limit or a gap: later bytes dropped */
    bool failed_ev;
    uint64_t out_total;
    struct http_zl l[HTTP_ZLAYERS];
};

/* One side (request or response) of a transaction. */
struct http_msg {
    enum http_progress prog;
    bool has_line, hdr_done;
    struct http_buf line;        /* without its end of line */
    uint32_t f_off[3], f_len[3]; /* request: method uri protocol; response: protocol code msg */
    bool has_f[3];
    struct http_buf raw;   /* header lines as received */
    struct http_buf store; /* header names and values */
    struct http_hdr *hdrs;
    size_t nhdrs, hcap;
    struct http_buf mstore; /* merged headers, built when the headers end */
    struct http_hdr *mh;
    size_t nmh;
    struct http_buf norm, names, start;
    int64_t clen;
    uint64_t body_bytes;
    struct http_buf body;
    size_t body_mark;
    bool ev_body_limit, ev_dec_limit;
    enum http_enc enc[HTTP_ZLAYERS]; /* in decoding order: enc[0] undoes the last coding */
    size_t nenc;
    struct http_z *z;
};

struct http_tx {
    uint64_t id;
    uint32_t user;
    bool done_mark;
    bool is_head, is_09, is_connect;
    int status;
    struct http_msg m[2];
    bool has_uri, has_host;
    struct http_buf uri, host, host_raw;
};

enum http_st {
    HTTP_ST_LINE,
    HTTP_ST_HEADERS,
    HTTP_ST_BODY_CL,
    HTTP_ST_CHUNK_SIZE,
    HTTP_ST_CHUNK_DATA,
    HTTP_ST_CHUNK_END,
    HTTP_ST_TRAILER,
    HTTP_ST_BODY_CLOSE,
    HTTP_ST_PEEK09, /* a request line without protocol: HTTP/0.9, unless a header follows */
};

struct http_dir {
    enum http_st st;
    struct http_buf lbuf; /* a line split across calls */
    size_t hdr_bytes;     /* line + header (or trailer) bytes of the current message */
    uint64_t remain;      /* Content-Length or chunk bytes still to come */
    struct http_tx *tx;   /* message being parsed */
    size_t chk;           /* first line: bytes checked by http_first_line_ok() */
    bool chk_done;        /* first line: its first token checked */
    struct http_buf hpend; /* header line(s) not parsed yet: folded lines may follow */
    bool has_pend;
    bool skip_cr;         /* response: a CR right after a bare LF belongs to that end of line */
    bool ws_end;          /* a whitespace-only line ended by a bare LF was seen */
    bool dead;            /* not HTTP: KANSHI_EPARSE from now on */
    bool stopped;         /* a limit, gap or upgrade: later bytes ignored */
    bool eof;
};

struct http_state {
    struct http_config cfg;
    struct http_tx **txs;
    size_t ntx, txcap;
    uint64_t next_id;
    struct http_dir d[2];
    uint32_t events[HTTP_EV_COUNT];
};

static const char *const http_event_names[HTTP_EV_COUNT] = {
    [HTTP_EV_BAD_REQUEST_LINE] = "bad_request_line",
    [HTTP_EV_BAD_STATUS_LINE] = "bad_status_line",
    [HTTP_EV_BAD_HEADER] = "bad_header",
    [HTTP_EV_HEADER_LIMIT] = "header_limit",
    [HTTP_EV_BAD_CHUNK] = "bad_chunk",
    [HTTP_EV_BAD_CONTENT_LEN] = "bad_content_len",
    [HTTP_EV_BODY_LIMIT] = "body_limit",
    [HTTP_EV_DECOMPRESS_FAIL] = "decompress_fail",
    [HTTP_EV_DECOMPRESS_LIMIT] = "decompress_limit",
    [HTTP_EV_TOO_MANY_TX] = "too_many_tx",
    [HTTP_EV_UNPAIRED_RESPONSE] = "unpaired_response",
    [HTTP_EV_GAP] = "gap",
};

void http_config_default(struct http_config *c)
{
    c->request_body_limit = 4096;
    c->response_body_limit = 4096;
    c->decompress_limit = 64 * 1024;
    c->header_limit = 64 * 1024;
    c->max_tx = 64;
}

const char *http_event_name(enum http_event ev)
{
    if ((unsigned)ev >= HTTP_EV_COUNT)
        return "unknown";
    return http_event_names[ev];
}

/* --- small helpers -------------------------------------------------------- */

/* Makes room for need bytes, growing by doubling but never past max (when
 * need <= max). */
static int http_buf_reserve(struct http_buf *b, size_t need, size_t max)
{
    size_t ncap;
    uint8_t *p;

    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    if (ncap > max && need <= max)
        ncap = max;
    p = realloc(b->p, ncap);
    if (p == NULL)
        return -ENOMEM;
    b->p = p;
    b->cap = ncap;
    return 0;
}

static int http_buf_add(struct http_buf *b, const void *d, size_t n)
{
    int r;

    if (n == 0)
        return 0;
    if (b->len + n < b->len)
        return -ENOMEM;
    r = http_buf_reserve(b, b->len + n, SIZE_MAX);
    if (r != 0)
        return r;
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int http_buf_str(struct http_buf *b, const char *s)
{
    return http_buf_add(b, s, strlen(s));
}

static void http_buf_free(struct http_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool http_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* A header line starting with one of these continues the previous header;
 * libhtp counts NUL among them. */
static bool http_fold(uint8_t c)
{
    return c == ' ' || c == '\t' || c == 0;
}

/* RFC 9110 tchar. */
static bool http_tchar(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int http_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static uint8_t http_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* Case-insensitive search of needle (lower case) in p[0..n). */
static bool http_has_token(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && http_lower(p[i + j]) == (uint8_t)needle[j])
            j++;
        if (j == k)
            return true;
    }
    return false;
}

static bool http_ieq(const uint8_t *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp((const char *)p, s, n) == 0;
}

/* Whitespace trimmed around header names and values (libhtp's set). */
static bool http_sp(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* A response line (c bytes, end of line stripped) is taken for one when it
 * reads "http" (any case) after whitespace and NULs, as libhtp and browsers
 * decide; anything else before a status line is response body. */
static bool http_looks_like_response(const uint8_t *p, size_t c)
{
    size_t i = 0;

    while (i < c && (http_sp(p[i]) || p[i] == 0))
        i++;
    return c - i >= 4 && http_lower(p[i]) == 'h' && http_lower(p[i + 1]) == 't' &&
           http_lower(p[i + 2]) == 't' && http_lower(p[i + 3]) == 'p';
}

static void http_trim_sp(const uint8_t **p, size_t *n)
{
    while (*n > 0 && http_sp((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && http_sp((*p)[*n - 1]))
        (*n)--;
}

/* a[0..n) equals s (lower case) ignoring case and NUL bytes in a. */
static bool http_ieq_nz(const uint8_t *a, size_t n, const char *s)
{
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        if (a[i] == 0)
            continue;
        if (s[j] == 0 || http_lower(a[i]) != (uint8_t)s[j])
            return false;
        j++;
    }
    return s[j] == 0;
}

/* needle (lower case) occurs in p[0..n), ignoring case and NUL bytes in p. */
static bool http_has_token_nz(const uint8_t *p, size_t n, const char *needle)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = 0, k = i;

        if (p[i] == 0)
            continue;
        while (needle[j] != 0 && k < n) {
            if (p[k] == 0) {
                k++;
                continue;
            }
            if (http_lower(p[k]) != (uint8_t)needle[j])
                break;
            j++, k++;
        }
        if (needle[j] == 0)
            return true;
    }
    return false;
}

static void http_trim(const uint8_t **p, size_t *n)
{
    while (*n > 0 && http_ws((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && http_ws((*p)[*n - 1]))
        (*n)--;
}

static void http_event(struct http_state *s, enum http_event ev)
{
    s->events[ev]++;
}

/* --- URI normalisation ---------------------------------------------------- */

/* One byte for a code point, as libhtp's best-fit does: itself below 0x100,
 * full-width ASCII to ASCII, '?' otherwise. */
static uint8_t http_bestfit(uint32_t cp)
{
    if (cp < 0x100)
        return (uint8_t)cp;
    if (cp >= 0xff01 && cp <= 0xff5e)
        return (uint8_t)(cp - 0xfee0);
    return '?';
}

/* %XX and %uXXXX decoding, '\' to '/', "//" compressed.  dst may be src's
 * start (the output never outgrows the input).  Returns the output length. */
static size_t http_decode(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t o = 0, i = 0;

    while (i < n) {
        uint8_t c = src[i];

        if (c == '%' && i + 5 < n && (src[i + 1] | 0x20) == 'u' && http_hex(src[i + 2]) >= 0 &&
            http_hex(src[i + 3]) >= 0 && http_hex(src[i + 4]) >= 0 &&
            http_hex(src[i + 5]) >= 0) {
            uint32_t cp = (uint32_t)(http_hex(src[i + 2]) << 12 | http_hex(src[i + 3]) << 8 |
                                     http_hex(src[i + 4]) << 4 | http_hex(src[i + 5]));
            c = http_bestfit(cp);
            i += 6;
        } else if (c == '%' && i + 2 < n && http_hex(src[i + 1]) >= 0 &&
                   http_hex(src[i + 2]) >= 0) {
            c = (uint8_t)(http_hex(src[i + 1]) << 4 | http_hex(src[i + 2]));
            i += 3;
        } else {
            i++;
        }
        if (c == '\\')
            c = '/';
        if (c == '/' && o > 0 && dst[o - 1] == '/')
            continue;
        dst[o++] = c;
    }
    return o;
}

/* Valid UTF-8 sequences (no overlong forms, no surrogates) become one
 * best-fit byte; anything else stays as it is.  In place. */
static size_t http_utf8_bestfit(uint8_t *p, size_t n)
{
    size_t o = 0, i = 0;

    while (i < n) {
        uint8_t b = p[i];
        size_t need;
        uint32_t cp, min;
        bool ok = true;

        if (b >= 0xc2 && b <= 0xdf) {
            need = 1, cp = b & 0x1fu, min = 0x80;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2, cp = b & 0x0fu, min = 0x800;
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3, cp = b & 0x07u, min = 0x10000;
        } else {
            p[o++] = b;
            i++;
            continue;
        }
        if (i + need >= n) {
            ok = false;
        } else {
            for (size_t k = 1; k <= need && ok; k++) {
                if ((p[i + k] & 0xc0) != 0x80)
                    ok = false;
                else
                    cp = cp << 6 | (p[i + k] & 0x3fu);
            }
        }
        if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            p[o++] = b;
            i++;
            continue;
        }
        p[o++] = http_bestfit(cp);
        i += need + 1;
    }
    return o;
}

/* Drops the last segment of p[0..*w) and the '/' before it. */
static void http_pop_segment(const uint8_t *p, size_t *w)
{
    while (*w > 0 && p[*w - 1] != '/')
        (*w)--;
    if (*w > 0)
        (*w)--;
}

/* RFC 3986 5.2.4 remove_dot_segments, in place. */
static size_t http_remove_dots(uint8_t *p, size_t n)
{
    size_t r = 0, w = 0;

    while (r < n) {
        size_t rem = n - r;
        const uint8_t *in = p + r;

        if (rem >= 3 && memcmp(in, "../", 3) == 0) {
            r += 3;
        } else if (rem >= 2 && memcmp(in, "./", 2) == 0) {
            r += 2;
        } else if (rem >= 3 && memcmp(in, "/./", 3) == 0) {
            r += 2;
        } else if (rem == 2 && memcmp(in, "/.", 2) == 0) {
            r += 1;
            p[r] = '/';
        } else if (rem >= 4 && memcmp(in, "/../", 4) == 0) {
            r += 3;
            http_pop_segment(p, &w);
        } else if (rem == 3 && memcmp(in, "/..", 3) == 0) {
            r += 2;
            p[r] = '/';
            http_pop_segment(p, &w);
        } else if ((rem == 1 && in[0] == '.') || (rem == 2 && memcmp(in, "..", 2) == 0)) {
            r = n;
        } else {
            size_t k = r;
            if (p[k] == '/')
                k++;
            while (k < n && p[k] != '/')
                k++;
            memmove(p + w, p + r, k - r);
            w += k - r;
            r = k;
        }
    }
    return w;
}

/* Sets host and host_raw from raw (an authority or a Host value). */
static int http_set_host(struct http_tx *tx, const uint8_t *raw, size_t n)
{
    size_t e = 0;
    int r;

    http_trim(&raw, &n);
    tx->host.len = tx->host_raw.len = 0;
    r = http_buf_add(&tx->host_raw, raw, n);
    if (r == 0 && n > 0)
        r = http_buf_reserve(&tx->host, n, SIZE_MAX);
    if (r != 0)
        return r;
    if (n > 0 && raw[0] == '[') {
        while (e < n && raw[e] != ']')
            e++;
        if (e < n)
            e++;
    } else {
        while (e < n && raw[e] != ':')
            e++;
    }
    while (e > 0 && raw[e - 1] == '.')
        e--;
    for (size_t i = 0; i < e; i++)
        tx->host.p[i] = http_lower(raw[i]);
    tx->host.len = e;
    tx->has_host = true;
    return 0;
}

/* Builds tx->uri from the raw request target u[0..n); takes the host of an
 * absolute URI. */
static int http_normalize_uri(struct http_tx *tx, const uint8_t *u, size_t n)
{
    size_t i = 0, pe, qe;
    uint8_t *o;
    size_t ol;
    int r;

    r = http_buf_reserve(&tx->uri, n + 2, SIZE_MAX);
    if (r != 0)
        return r;
    tx->has_uri = true;
    if (tx->is_connect || n == 0 || u[0] == '*') {
        memcpy(tx->uri.p, u, n);
        tx->uri.len = n;
        /* CONNECT's authority form; a path there names no host (libhtp) */
        if (tx->is_connect && n > 0 && u[0] != '/')
            return http_set_host(tx, u, n);
        return 0;
    }
    /* scheme "://" authority */
    if ((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z') {
        while (i < n && (http_tchar(u[i]) && u[i] != ':' && u[i] != '/'))
            i++;
        if (i + 2 < n && u[i] == ':' && u[i + 1] == '/' && u[i + 2] == '/') {
            size_t a = i + 3, b = a, at;

            while (b < n && u[b] != '/' && u[b] != '?' && u[b] != '#')
                b++;
            at = b;
            while (at > a && u[at - 1] != '@')
                at--;
            r = http_set_host(tx, u + at, b - at);
            if (r != 0)
                return r;
            u += b;
            n -= b;
        }
    }
    pe = 0;
    while (pe < n && u[pe] != '?' && u[pe] != '#')
        pe++;
    o = tx->uri.p;
    ol = http_decode(o, u, pe);
    ol = http_utf8_bestfit(o, ol);
    ol = http_remove_dots(o, ol);
    if (pe < n && u[pe] == '?') {
        qe = pe + 1;
        while (qe < n && u[qe] != '#')
            qe++;
        o[ol++] = '?';
        ol += http_decode(o + ol, u + pe + 1, qe - pe - 1);
        pe = qe;
    }
    if (pe < n) {
        o[ol++] = '#';
        ol += http_decode(o + ol, u + pe + 1, n - pe - 1);
    }
    tx->uri.len = ol;
    return 0;
}

/* --- messages and transactions -------------------------------------------- */

static void http_msg_init(struct http_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->clen = -1;
}

static void http_z_free(struct http_msg *m)
{
    if (m->z != NULL) {
        for (size_t i = 0; i < HTTP_ZLAYERS; i++)
            if (m->z->l[i].zinit)
                inflateEnd(&m->z->l[i].z);
        free(m->z);
        m->z = NULL;
    }
}

static void http_msg_free(struct http_msg *m)
{
    http_buf_free(&m->line);
    http_buf_free(&m->raw);
    http_buf_free(&m->store);
    http_buf_free(&m->mstore);
    http_buf_free(&m->norm);
    http_buf_free(&m->names);
    http_buf_free(&m->start);
    http_buf_free(&m->body);
    free(m->hdrs);
    free(m->mh);
    http_z_free(m);
    http_msg_init(m);
}

static void http_tx_free(struct http_tx *tx)
{
    http_msg_free(&tx->m[0]);
    http_msg_free(&tx->m[1]);
    http_buf_free(&tx->uri);
    http_buf_free(&tx->host);
    http_buf_free(&tx->host_raw);
    free(tx);
}

/* A new transaction at the end, or NULL (TOO_MANY_TX set, or out of memory:
 * *err). */
static struct http_tx *http_tx_new(struct http_state *s, int *err)
{
    struct http_tx *tx;

    *err = 0;
    if (s->ntx >= s->cfg.max_tx) {
        http_event(s, HTTP_EV_TOO_MANY_TX);
        return NULL;
    }
    if (s->ntx == s->txcap) {
        size_t ncap = s->txcap ? s->txcap * 2 : 4;
        struct http_tx **p;

        if (ncap > s->cfg.max_tx)
            ncap = s->cfg.max_tx;
        p = realloc(s->txs, ncap * sizeof(*p));
        if (p == NULL) {
            *err = -ENOMEM;
            return NULL;
        }
        s->txs = p;
        s->txcap = ncap;
    }
    tx = calloc(1, sizeof(*tx));
    if (tx == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    http_msg_init(&tx->m[0]);
    http_msg_init(&tx->m[1]);
    tx->id = s->next_id++;
    s->txs[s->ntx++] = tx;
    return tx;
}

/* The merged header called name (case-insensitive), or NULL. */
static const struct http_hdr *http_find(const struct http_msg *m, const char *name)
{
    if (!m->hdr_done)
        return NULL;
    for (size_t i = 0; i < m->nmh; i++)
        if (http_ieq_nz(m->mstore.p + m->mh[i].name, m->mh[i].name_len, name))
            return &m->mh[i];
    return NULL;
}

static bool http_value(const struct http_msg *m, const char *name, const uint8_t **v, size_t *n)
{
    const struct http_hdr *h = http_find(m, name);

    if (h == NULL)
        return false;
    *v = m->mstore.p + h->val;
    *n = h->val_len;
    return true;
}

static int http_hdr_cmp(const void *a, const void *b, void *arg)
{
    const struct http_msg *m = arg;
    const struct http_hdr *x = &m->hdrs[*(const uint32_t *)a];
    const struct http_hdr *y = &m->hdrs[*(const uint32_t *)b];
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = strncasecmp((const char *)m->store.p + x->name, (const char *)m->store.p + y->name, n);

    if (c != 0)
        return c;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Merges repeated headers (values joined by ", ", at the first one's place)
 * into mh/mstore and builds the header, header_names and start buffers. */
static int http_build_headers(struct http_msg *m, int dir)
{
    uint32_t *ord = NULL, *gs = NULL, *ge = NULL;
    size_t n = m->nhdrs;
    int r = -ENOMEM;

    if (n > 0) {
        ord = malloc(n * sizeof(*ord));
        gs = malloc(n * sizeof(*gs));
        ge = calloc(n, sizeof(*ge));
        m->mh = malloc(n * sizeof(*m->mh));
        if (ord == NULL || gs == NULL || ge == NULL || m->mh == NULL)
            goto out;
        for (size_t i = 0; i < n; i++)
            ord[i] = (uint32_t)i;
        qsort_r(ord, n, sizeof(*ord), http_hdr_cmp, m);
        for (size_t a = 0; a < n;) {
            size_t b = a + 1;
            const struct http_hdr *h = &m->hdrs[ord[a]];
            while (b < n && m->hdrs[ord[b]].name_len == h->name_len &&
                   strncasecmp((const char *)m->store.p + h->name,
                               (const char *)m->store.p + m->hdrs[ord[b]].name,
                               h->name_len) == 0)
                b++;
            gs[ord[a]] = (uint32_t)a;
            ge[ord[a]] = (uint32_t)b;
            a = b;
        }
        for (size_t i = 0; i < n; i++) {
            struct http_hdr *mh;
            if (ge[i] == 0)
                continue;
            mh = &m->mh[m->nmh++];
            mh->name = (uint32_t)m->mstore.len;
            mh->name_len = m->hdrs[i].name_len;
            if (http_buf_add(&m->mstore, m->store.p + m->hdrs[i].name, mh->name_len) != 0)
                goto out;
            mh->val = (uint32_t)m->mstore.len;
            for (size_t k = gs[i]; k < ge[i]; k++) {
                const struct http_hdr *h = &m->hdrs[ord[k]];
                if ((k > gs[i] && http_buf_str(&m->mstore, ", ") != 0) ||
                    http_buf_add(&m->mstore, m->store.p + h->val, h->val_len) != 0)
                    goto out;
            }
            mh->val_len = (uint32_t)(m->mstore.len - mh->val);
        }
    }
    if (http_buf_add(&m->start, m->line.p, m->line.len) != 0 ||
        http_buf_str(&m->start, "\r\n") != 0 || http_buf_str(&m->names, "\r\n") != 0)
        goto out;
    for (size_t i = 0; i < m->nmh; i++) {
        const uint8_t *name = m->mstore.p + m->mh[i].name;
        const uint8_t *val = m->mstore.p + m->mh[i].val;
        uint32_t nl = m->mh[i].name_len, vl = m->mh[i].val_len;
        bool cookie = http_ieq(name, nl, dir == APP_DIR_TOSERVER ? "cookie" : "set-cookie");

        if (http_buf_add(&m->start, name, nl) != 0 || http_buf_str(&m->start, ": ") != 0 ||
            http_buf_add(&m->start, val, vl) != 0 || http_buf_str(&m->start, "\r\n") != 0 ||
            http_buf_add(&m->names, name, nl) != 0 || http_buf_str(&m->names, "\r\n") != 0)
            goto out;
        if (!cookie &&
            (http_buf_add(&m->norm, name, nl) != 0 || http_buf_str(&m->norm, ": ") != 0 ||
             http_buf_add(&m->norm, val, vl) != 0 || http_buf_str(&m->norm, "\r\n") != 0))
            goto out;
    }
    /* as Suricata: the extra end of line only after at least one header */
    if ((m->nmh > 0 && http_buf_str(&m->start, "\r\n") != 0) ||
        http_buf_str(&m->names, "\r\n") != 0)
        goto out;
    m->hdr_done = true;
    r = 0;
out:
    free(ord);
    free(gs);
    free(ge);
    return r;
}

/* --- bodies ----------------------------------------------------------------- */

static uint32_t http_body_limit(const struct http_state *s, int dir)
{
    return dir == APP_DIR_TOSERVER ? s->cfg.request_body_limit : s->cfg.response_body_limit;
}

static int http_body_store(struct http_state *s, struct http_msg *m, int dir, const uint8_t *p,
                           size_t n)
{
    size_t lim = http_body_limit(s, dir), room, take;
    int r;

    room = m->body.len < lim ? lim - m->body.len : 0;
    take = n < room ? n : room;
    if (take < n && !m->ev_body_limit) {
        m->ev_body_limit = true;
        http_event(s, HTTP_EV_BODY_LIMIT);
    }
    if (take == 0)
        return 0;
    r = http_buf_reserve(&m->body, m->body.len + take, lim);
    if (r != 0)
        return r;
    memcpy(m->body.p + m->body.len, p, take);
    m->body.len += take;
    return 0;
}

/* Final output of the layers: kept up to the body limit, counted against
 * decompress_limit. */
static int http_z_out(struct http_state *s, struct http_msg *m, int dir, const uint8_t *p,
                      size_t n)
{
    struct http_z *z = m->z;
    uint64_t room = s->cfg.decompress_limit > z->out_total ? s->cfg.decompress_limit - z->out_total
                                                           : 0;

    if (n > room) {
        n = (size_t)room;
        z->ended = true;
        if (!m->ev_dec_limit) {
            m->ev_dec_limit = true;
            http_event(s, HTTP_EV_DECOMPRESS_LIMIT);
        }
    }
    z->out_total += n;
    return http_body_store(s, m, dir, p, n);
}

/* Reads gzip header bytes of p[0..n); returns the bytes used, -1 when the
 * data is not gzip. */
static long http_gz_header(struct http_zl *l, const uint8_t *p, size_t n)
{
    static const uint8_t magic[3] = {0x1f, 0x8b, 0x08};
    size_t i = 0;

    while (i < n && l->gz != HTTP_GZ_DONE) {
        uint8_t c = p[i];

        switch (l->gz) {
        case HTTP_GZ_FIXED:
            if (l->gz_n < 3 && c != magic[l->gz_n])
                return -1;
            if (l->gz_n == 3)
                l->gz_flags = c;
            i++;
            if (++l->gz_n == 10) {
                l->gz_n = 0;
                l->gz = HTTP_GZ_XLEN;
            }
            break;
        case HTTP_GZ_XLEN:
            if (!(l->gz_flags & 0x04)) {
                l->gz = HTTP_GZ_NAME;
                break;
            }
            l->gz_xlen |= (uint32_t)c << (8 * l->gz_n);
            i++;
            if (++l->gz_n == 2) {
                l->gz_n = 0;
                l->gz = HTTP_GZ_EXTRA;
            }
            break;
        case HTTP_GZ_EXTRA: {
            size_t k = n - i < l->gz_xlen ? n - i : l->gz_xlen;
            i += k;
            l->gz_xlen -= (uint32_t)k;
            if (l->gz_xlen == 0)
                l->gz = HTTP_GZ_NAME;
            break;
        }
        case HTTP_GZ_NAME:
        case HTTP_GZ_COMMENT:
            if (!(l->gz_flags & (l->gz == HTTP_GZ_NAME ? 0x08 : 0x10))) {
                l->gz = l->gz == HTTP_GZ_NAME ? HTTP_GZ_COMMENT : HTTP_GZ_HCRC;
                break;
            }
            i++;
            if (c == 0)
                l->gz = l->gz == HTTP_GZ_NAME ? HTTP_GZ_COMMENT : HTTP_GZ_HCRC;
            break;
        case HTTP_GZ_HCRC:
            if (!(l->gz_flags & 0x02)) {
                l->gz = HTTP_GZ_DONE;
                break;
            }
            i++;
            if (++l->gz_n == 2)
                l->gz = HTTP_GZ_DONE;
            break;
        default:
            break;
        }
    }
    if (l->gz == HTTP_GZ_HCRC && !(l->gz_flags & 0x02))
        l->gz = HTTP_GZ_DONE;
    return (long)i;
}

static int http_zl_write(struct http_state *s, struct http_msg *m, int dir, size_t li,
                         const uint8_t *p, size_t n);

/* Runs layer li over p[0..n).  Returns 1 when the data is not in the
 * layer's format, 0, -ENOMEM. */
static int http_zl_run(struct http_state *s, struct http_msg *m, int dir, size_t li,
                       const uint8_t *p, size_t n)
{
    struct http_z *z = m->z;
    struct http_zl *l = &z->l[li];
    uint8_t out[HTTP_ZOUT];
    int r;

    if (n > HTTP_ZIN_MAX) {
        /* zlib counts input in 32 bits */
        r = http_zl_run(s, m, dir, li, p, HTTP_ZIN_MAX);
        return r != 0 ? r : http_zl_run(s, m, dir, li, p + HTTP_ZIN_MAX, n - HTTP_ZIN_MAX);
    }
    if (l->kind == HTTP_ENC_GZIP && l->gz != HTTP_GZ_DONE) {
        long k = http_gz_header(l, p, n);
        if (k < 0)
            return 1;
        p += k;
        n -= (size_t)k;
        if (l->gz != HTTP_GZ_DONE || n == 0)
            return 0;
    }
    if (!l->zinit) {
        memset(&l->z, 0, sizeof(l->z));
        if (inflateInit2(&l->z, l->kind == HTTP_ENC_ZLIB ? 15 : -15) != Z_OK)
            return -ENOMEM;
        l->zinit = true;
    }
    l->z.next_in = (Bytef *)(uintptr_t)p;
    l->z.avail_in = (uInt)n;
    while (!l->ended && !z->ended) {
        size_t got;
        int zr;

        l->z.next_out = out;
        l->z.avail_out = sizeof(out);
        zr = inflate(&l->z, Z_NO_FLUSH);
        got = sizeof(out) - l->z.avail_out;
        l->out_total += got;
        r = http_zl_write(s, m, dir, li + 1, out, got);
        if (r != 0)
            return r;
        if (zr == Z_STREAM_END) {
            l->ended = true; /* what follows (a gzip trailer, ...) is ignored */
            break;
        }
        if (zr == Z_MEM_ERROR)
            return -ENOMEM;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return 1;
        if ((got == 0 && l->z.avail_in == 0) || (zr == Z_BUF_ERROR && got == 0))
            break;
    }
    return 0;
}

static void http_zl_restart(struct http_zl *l)
{
    if (l->zinit)
        inflateEnd(&l->z);
    l->zinit = false;
    l->kind = l->kind == HTTP_ENC_GZIP      ? HTTP_ENC_DEFLATE
              : l->kind == HTTP_ENC_DEFLATE ? HTTP_ENC_ZLIB
                                            : HTTP_ENC_GZIP;
    l->gz = HTTP_GZ_FIXED;
    l->gz_n = l->gz_xlen = 0;
    l->gz_flags = 0;
    l->restarts++;
}

/* Gives p[0..n) to layer li (li == z->n: the body). */
static int http_zl_write(struct http_state *s, struct http_msg *m, int dir, size_t li,
                         const uint8_t *p, size_t n)
{
    struct http_z *z = m->z;
    struct http_zl *l;
    size_t prev;
    int r;

    if (n == 0 || z->ended)
        return 0;
    if (li == z->n)
        return http_z_out(s, m, dir, p, n);
    l = &z->l[li];
    if (l->passthrough)
        return http_zl_write(s, m, dir, li + 1, p, n);
    if (l->ended)
        return 0;
    prev = l->in_total;
    if (prev < HTTP_ZHEAD)
        memcpy(l->head + prev, p, n < HTTP_ZHEAD - prev ? n : HTTP_ZHEAD - prev);
    l->in_total += n;
    r = http_zl_run(s, m, dir, li, p, n);
    while (r == 1) {
        if (l->out_total > 0 || l->restarts >= HTTP_ZRESTARTS || l->in_total > HTTP_ZHEAD) {
            if (!z->failed_ev) {
                z->failed_ev = true;
                http_event(s, HTTP_EV_DECOMPRESS_FAIL);
            }
        }
        if (l->out_total > 0) {
            /* corrupt after some output: keep what was decoded */
            l->ended = true;
            return 0;
        }
        if (l->restarts < HTTP_ZRESTARTS && l->in_total <= HTTP_ZHEAD) {
            http_zl_restart(l);
            r = http_zl_run(s, m, dir, li, l->head, l->in_total);
            continue;
        }
        /* not compressed after all: the bytes go on as they are */
        l->passthrough = true;
        if (l->in_total <= HTTP_ZHEAD)
            return http_zl_write(s, m, dir, li + 1, l->head, l->in_total);
        return http_zl_write(s, m, dir, li + 1, p, n);
    }
    return r;
}

/* n body bytes (de-chunked) of the message in dir. */
static int http_body(struct http_state *s, struct http_tx *tx, int dir, const uint8_t *p, size_t n)
{
    struct http_msg *m = &tx->m[dir];

    m->prog = HTTP_PROG_BODY;
    m->body_bytes += n;
    if (n == 0)
        return 0;
    if (m->nenc == 0)
        return http_body_store(s, m, dir, p, n);
    if (m->z == NULL) {
        m->z = calloc(1, sizeof(*m->z));
        if (m->z == NULL)
            return -ENOMEM;
        m->z->n = m->nenc;
        for (size_t i = 0; i < m->nenc; i++)
            m->z->l[i].kind = m->enc[i];
    }
    return http_zl_write(s, m, dir, 0, p, n);
}

/* --- the state machine ------------------------------------------------------ */

static void http_msg_done(struct http_state *s, int dir)
{
    struct http_dir *d = &s->d[dir];

    if (d->tx != NULL) {
        d->tx->m[dir].prog = HTTP_PROG_DONE;
        http_z_free(&d->tx->m[dir]);
    }
    d->tx = NULL;
    d->st = HTTP_ST_LINE;
    d->hdr_bytes = 0;
    d->remain = 0;
}

static void http_stop(struct http_state *s, int dir)
{
    s->d[dir].stopped = true;
}

/* Parses a Content-Length value (merged: "5, 5" is 5); -1 when invalid. */
static int64_t http_parse_clen(const uint8_t *p, size_t n)
{
    int64_t v = -1;
    size_t i = 0;

    while (i < n) {
        int64_t x = 0;
        size_t digits = 0;

        while (i < n && http_ws(p[i]))
            i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (++digits > HTTP_CLEN_DIGITS)
                return -1;
            x = x * 10 + (p[i] - '0');
            i++;
        }
        while (i < n && http_ws(p[i]))
            i++;
        if (digits == 0 || (v >= 0 && x != v))
            return -1;
        v = x;
        if (i < n) {
            if (p[i] != ',')
                return -1;
            i++;
        }
    }
    return v;
}

/* Decoding layers from a Content-Encoding value, as libhtp: a plain gzip,
 * x-gzip, deflate or x-deflate (NULs ignored) is one layer; anything else is
 * split at ',' and ' ', each piece containing "gzip" or "deflate" a layer,
 * others skipped, at most HTTP_ZLAYERS pieces looked at.  The last coding
 * listed is undone first. */
static void http_content_encoding(struct http_msg *m, const uint8_t *v, size_t n)
{
    enum http_enc e[HTTP_ZLAYERS];
    size_t ne = 0, pieces = 0, i = 0;

    http_trim_sp(&v, &n);
    if (http_ieq_nz(v, n, "gzip") || http_ieq_nz(v, n, "x-gzip")) {
        e[ne++] = HTTP_ENC_GZIP;
    } else if (http_ieq_nz(v, n, "deflate") || http_ieq_nz(v, n, "x-deflate")) {
        e[ne++] = HTTP_ENC_DEFLATE;
    } else {
        while (i < n) {
            size_t j = i;

            while (j < n && v[j] != ',' && v[j] != ' ')
                j++;
            if (j > i) {
                if (++pieces > HTTP_ZLAYERS)
                    break;
                if (http_has_token(v + i, j - i, "gzip"))
                    e[ne++] = HTTP_ENC_GZIP;
                else if (http_has_token(v + i, j - i, "deflate"))
                    e[ne++] = HTTP_ENC_DEFLATE;
            }
            i = j + 1;
        }
    }
    m->nenc = ne;
    for (size_t k = 0; k < ne; k++)
        m->enc[k] = e[ne - 1 - k];
}

/* Starts the body (or ends the message) once the headers of dir ended. */
static void http_body_mode(struct http_state *s, int dir)
{
    struct http_dir *d = &s->d[dir];
    struct http_tx *tx = d->tx;
    struct http_msg *m = &tx->m[dir];
    const uint8_t *v;
    size_t n;
    bool chunked = false;
    int64_t cl = -1;

    /* Suricata leaves request bodies compressed (request decompression off) */
    if (dir == APP_DIR_TOCLIENT && http_value(m, "content-encoding", &v, &n))
        http_content_encoding(m, v, n);
    if (http_value(m, "transfer-encoding", &v, &n) && http_has_token_nz(v, n, "chunked"))
        chunked = true;
    if (http_value(m, "content-length", &v, &n)) {
        cl = http_parse_clen(v, n);
        if (cl < 0)
            http_event(s, HTTP_EV_BAD_CONTENT_LEN);
        else
            m->clen = cl;
    }
    /* A 1xx, 204 or 304 has no body, unless it announces one (libhtp reads it). */
    if (dir == APP_DIR_TOCLIENT &&
        (tx->is_head || ((tx->status == 204 || tx->status == 304 ||
                          (tx->status >= 100 && tx->status < 200)) &&
                         !chunked && cl <= 0))) {
        http_msg_done(s, dir);
        return;
    }
    if (chunked) {
        m->prog = HTTP_PROG_BODY;
        d->st = HTTP_ST_CHUNK_SIZE;
        return;
    }
    if (cl > 0) {
        m->prog = HTTP_PROG_BODY;
        d->st = HTTP_ST_BODY_CL;
        d->remain = (uint64_t)cl;
        return;
    }
    /* A request without a valid length has no body; a response lasts to the close. */
    if (cl == 0 || dir == APP_DIR_TOSERVER) {
        http_msg_done(s, dir);
        return;
    }
    m->prog = HTTP_PROG_BODY;
    d->st = HTTP_ST_BODY_CLOSE;
}

/* The headers announce a body: chunked, or a Content-Length above 0. */
static bool http_announces_body(const struct http_msg *m)
{
    const uint8_t *v;
    size_t n;

    if (http_value(m, "transfer-encoding", &v, &n) && http_has_token_nz(v, n, "chunked"))
        return true;
    return http_value(m, "content-length", &v, &n) && http_parse_clen(v, n) > 0;
}

static int http_headers_done(struct http_state *s, int dir)
{
    struct http_dir *d = &s->d[dir];
    struct http_tx *tx = d->tx;
    struct http_msg *m = &tx->m[dir];
    const uint8_t *v;
    size_t n;
    int r;

    r = http_build_headers(m, dir);
    if (r != 0)
        return r;
    m->prog = HTTP_PROG_HEADERS;
    if (dir == APP_DIR_TOSERVER) {
        if (!tx->has_host && http_value(m, "host", &v, &n)) {
            r = http_set_host(tx, v, n);
            if (r != 0)
                return r;
        }
    } else if (tx->status >= 100 && tx->status < 200 && !http_announces_body(m)) {
        if (tx->status == 101) {
            /* Switching protocols: what follows is not HTTP. */
            http_msg_done(s, dir);
            http_stop(s, APP_DIR_TOSERVER);
            http_stop(s, APP_DIR_TOCLIENT);
            return 0;
        }
        /* Interim response: the final one follows for the same request. */
        http_msg_free(m);
        tx->status = 0;
        d->tx = NULL;
        d->st = HTTP_ST_LINE;
        d->hdr_bytes = 0;
        return 0;
    } else if (tx->is_connect && tx->status >= 200 && tx->status < 300) {
        /* CONNECT accepted: a tunnel follows. */
        http_msg_done(s, dir);
        http_stop(s, APP_DIR_TOSERVER);
        http_stop(s, APP_DIR_TOCLIENT);
        return 0;
    }
    http_body_mode(s, dir);
    return 0;
}

/* The request line c bytes long (end of line stripped). */
static int http_request_line(struct http_state *s, const uint8_t *line, size_t c)
{
    struct http_dir *d = &s->d[APP_DIR_TOSERVER];
    struct http_tx *tx;
    struct http_msg *m;
    size_t i = 0, j, e, k, uo, ul, po = 0, pl = 0;
    bool has_proto = false;
    int r;

    while (i < c && http_tchar(line[i]))
        i++;
    j = i;
    while (j < c && http_ws(line[j]))
        j++;
    if (i == 0 || j == i || j == c) {
        http_event(s, HTTP_EV_BAD_REQUEST_LINE);
        d->dead = true;
        return 0;
    }
    e = c;
    while (e > j && http_ws(line[e - 1]))
        e--;
    k = e;
    while (k > j && !http_ws(line[k - 1]))
        k--;
    uo = j;
    if (k == j) {
        ul = e - j; /* HTTP/0.9 */
    } else if (e - k >= 5 && strncasecmp((const char *)line + k, "HTTP/", 5) == 0) {
        size_t ue = k;
        while (ue > j && http_ws(line[ue - 1]))
            ue--;
        ul = ue - j;
        po = k, pl = e - k, has_proto = true;
    } else {
        size_t ue = j;
        while (ue < e && !http_ws(line[ue]))
            ue++;
        ul = ue - j;
        po = ue;
        while (po < e && http_ws(line[po]))
            po++;
        pl = e - po, has_proto = true;
        http_event(s, HTTP_EV_BAD_REQUEST_LINE);
    }
    tx = http_tx_new(s, &r);
    if (tx == NULL) {
        http_stop(s, APP_DIR_TOSERVER);
        return r;
    }
    m = &tx->m[0];
    r = http_buf_add(&m->line, line, c);
    if (r != 0)
        return r;
    m->has_line = true;
    m->f_off[0] = 0, m->f_len[0] = (uint32_t)i, m->has_f[0] = true;
    m->f_off[1] = (uint32_t)uo, m->f_len[1] = (uint32_t)ul, m->has_f[1] = true;
    m->f_off[2] = (uint32_t)po, m->f_len[2] = (uint32_t)pl, m->has_f[2] = has_proto;
    m->prog = HTTP_PROG_LINE;
    tx->is_head = http_ieq(line, i, "HEAD");
    tx->is_connect = http_ieq(line, i, "CONNECT");
    tx->is_09 = !has_proto;
    r = http_normalize_uri(tx, line + uo, ul);
    if (r != 0)
        return r;
    d->hdr_bytes = 0;
    d->tx = tx;
    /* without a protocol: HTTP/0.9 (no headers), unless the next line is
     * a header, as libhtp decides ("missing protocol") */
    d->st = tx->is_09 ? HTTP_ST_PEEK09 : HTTP_ST_HEADERS;
    return 0;
}

/* The request without protocol is HTTP/0.9 after all: complete. */
static void http_09_done(struct http_dir *d)
{
    d->tx->m[APP_DIR_TOSERVER].prog = HTTP_PROG_DONE;
    d->st = HTTP_ST_LINE;
}

/* The oldest transaction still waiting for its response, or NULL. */
static struct http_tx *http_resp_target(struct http_state *s)
{
    for (size_t i = 0; i < s->ntx; i++)
        if (s->txs[i]->m[1].prog == HTTP_PROG_NONE && s->txs[i]->m[0].prog >= HTTP_PROG_LINE)
            return s->txs[i];
    return NULL;
}

/* The transaction the response being read belongs to: the one whose body
 * already started with lines before the status line, else the oldest one
 * waiting, else a new request-less one.  NULL when none can be had (the
 * direction stopped; *err: 0 or -ENOMEM). */
static struct http_tx *http_resp_tx(struct http_state *s, int *err)
{
    struct http_dir *d = &s->d[APP_DIR_TOCLIENT];
    struct http_tx *tx;

    *err = 0;
    if (d->tx != NULL)
        return d->tx;
    tx = http_resp_target(s);
    if (tx == NULL) {
        http_event(s, HTTP_EV_UNPAIRED_RESPONSE);
        tx = http_tx_new(s, err);
        if (tx == NULL) {
            http_stop(s, APP_DIR_TOCLIENT);
            return NULL;
        }
        tx->m[0].prog = HTTP_PROG_DONE;
    }
    return tx;
}

/* A line before the status line that does not look like one (n bytes with
 * its end of line): libhtp gives it to the response as body, as browsers
 * do, and goes on looking for the status line.  libhtp does so only while
 * the same chunk of data has more bytes, else the response ends there and
 * the next line starts another; here the lines go on in the same
 * transaction however the stream was split. */
static int http_resp_junk(struct http_state *s, const uint8_t *line, size_t n)
{
    struct http_dir *d = &s->d[APP_DIR_TOCLIENT];
    struct http_tx *tx;
    int r;

    if (d->tx == NULL)
        http_event(s, HTTP_EV_BAD_STATUS_LINE);
    tx = http_resp_tx(s, &r);
    if (tx == NULL)
        return r;
    d->tx = tx;
    d->hdr_bytes = 0;
    return http_body(s, tx, APP_DIR_TOCLIENT, line, n);
}

static int http_status_line(struct http_state *s, const uint8_t *line, size_t c)
{
    struct http_dir *d = &s->d[APP_DIR_TOCLIENT];
    struct http_tx *tx;
    struct http_msg *m;
    size_t p0 = 0, i, j, je, k, e;
    int r, code = 0;

    /* the caller saw "http" after whitespace (http_looks_like_response) */
    while (p0 < c && http_sp(line[p0]))
        p0++;
    i = p0;
    while (i < c && !http_ws(line[i]))
        i++;
    j = i;
    while (j < c && http_ws(line[j]))
        j++;
    je = j;
    while (je < c && !http_ws(line[je]))
        je++;
    k = je;
    while (k < c && http_ws(line[k]))
        k++;
    e = c;
    while (e > k && http_ws(line[e - 1]))
        e--;
    if (je - j == 3 && line[j] >= '0' && line[j] <= '9' && line[j + 1] >= '0' &&
        line[j + 1] <= '9' && line[j + 2] >= '0' && line[j + 2] <= '9')
        code = (line[j] - '0') * 100 + (line[j + 1] - '0') * 10 + (line[j + 2] - '0');
    else
        http_event(s, HTTP_EV_BAD_STATUS_LINE);
    tx = http_resp_tx(s, &r);
    if (tx == NULL)
        return r;
    m = &tx->m[1];
    r = http_buf_add(&m->line, line, c);
    if (r != 0)
        return r;
    m->has_line = true;
    m->f_off[0] = (uint32_t)p0, m->f_len[0] = (uint32_t)(i - p0), m->has_f[0] = true;
    m->f_off[1] = (uint32_t)j, m->f_len[1] = (uint32_t)(je - j), m->has_f[1] = je > j;
    m->f_off[2] = (uint32_t)k, m->f_len[2] = (uint32_t)(e > k ? e - k : 0), m->has_f[2] = true;
    m->prog = HTTP_PROG_LINE;
    tx->status = code;
    d->tx = tx;
    d->st = HTTP_ST_HEADERS;
    return 0;
}

/* One header (its folded lines joined, end of line stripped) of the current
 * message. */
static int http_header_line(struct http_state *s, int dir, const uint8_t *line, size_t c)
{
    struct http_msg *m = &s->d[dir].tx->m[dir];
    const uint8_t *name = line, *val;
    size_t nl, vl, colon = 0;
    struct http_hdr *h;
    int r;

    while (colon < c && line[colon] != ':')
        colon++;
    if (colon == c) {
        http_event(s, HTTP_EV_BAD_HEADER);
        return 0;
    }
    nl = colon;
    while (nl > 0 && http_sp(name[0])) {
        name++;
        nl--;
    }
    while (nl > 0 && http_sp(name[nl - 1]))
        nl--;
    if (nl == 0) {
        http_event(s, HTTP_EV_BAD_HEADER);
        return 0;
    }
    for (size_t i = 0; i < nl; i++) {
        if (!http_tchar(name[i])) {
            http_event(s, HTTP_EV_BAD_HEADER);
            break;
        }
    }
    val = line + colon + 1, vl = c - colon - 1;
    http_trim_sp(&val, &vl);
    if (m->nhdrs == m->hcap) {
        size_t ncap = m->hcap ? m->hcap * 2 : 16;
        struct http_hdr *p = realloc(m->hdrs, ncap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        m->hdrs = p;
        m->hcap = ncap;
    }
    h = &m->hdrs[m->nhdrs];
    h->name = (uint32_t)m->store.len;
    h->name_len = (uint32_t)nl;
    r = http_buf_add(&m->store, name, nl);
    if (r != 0)
        return r;
    h->val = (uint32_t)m->store.len;
    h->val_len = (uint32_t)vl;
    r = http_buf_add(&m->store, val, vl);
    if (r != 0)
        return r;
    m->nhdrs++;
    return 0;
}

/* Parses the pending header, if any. */
static int http_flush_pending(struct http_state *s, int dir)
{
    struct http_dir *d = &s->d[dir];
    int r = 0;

    if (d->has_pend && d->hpend.len > 0)
        r = http_header_line(s, dir, d->hpend.p, d->hpend.len);
    d->has_pend = false;
    d->hpend.len = 0;
    return r;
}

/* A line starting with whitespace that still reads "name:" (libhtp takes
 * it as a new header in responses, not as a continuation). */
static bool http_name_line(const uint8_t *p, size_t c)
{
    size_t i = 0, k;

    while (i < c && http_ws(p[i]))
        i++;
    k = i;
    while (i < c && http_tchar(p[i]))
        i++;
    if (i == k)
        return false;
    while (i < c && http_ws(p[i]))
        i++;
    return i < c && p[i] == ':';
}

/* One header line (n bytes, c without the end of line).  Folded lines
 * (starting with whitespace or, as libhtp has it, a NUL) join the pending
 * header with their first byte; a whitespace-only line ended by a bare LF
 * ends the headers, as the empty line would (libhtp).  In a response, a
 * folded line that reads "name:" after its first byte is a new header
 * without that byte. */
static int http_header_input(struct http_state *s, int dir, const uint8_t *line, size_t n,
                             size_t c)
{
    struct http_dir *d = &s->d[dir];
    bool bare_lf = line[n - 1] == '\n' && (n < 2 || line[n - 2] != '\r');
    int r;

    if (c == 0) {
        r = http_flush_pending(s, dir);
        return r != 0 ? r : http_headers_done(s, dir);
    }
    if (http_fold(line[0]) && d->has_pend) {
        const uint8_t *v = line + 1;
        size_t vl = c - 1;

        http_trim_sp(&v, &vl);
        if (dir == APP_DIR_TOCLIENT && http_name_line(line + 1, c - 1)) {
            r = http_flush_pending(s, dir);
            if (r != 0)
                return r;
            d->has_pend = true;
            return http_buf_add(&d->hpend, line + 1, c - 1);
        }
        if (vl == 0 && line[0] != 0) {
            /* ends the headers unless an end of line follows (http_feed) */
            d->ws_end = bare_lf;
            return 0;
        }
        r = http_buf_add(&d->hpend, line, 1);
        return r != 0 ? r : http_buf_add(&d->hpend, v, vl);
    }
    r = http_flush_pending(s, dir);
    if (r != 0)
        return r;
    d->has_pend = true;
    return http_buf_add(&d->hpend, line, c);
}

/* Bytes libhtp skips before a chunk size. */
static bool http_chunk_ctl(uint8_t c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Chunk size line, as libhtp: leading control bytes skipped, then the hex
 * digits, anything after them ignored (an extension or junk: "fx" is 15).
 * Returns the size, -2 for a line of nothing but control bytes (skipped),
 * -1 when there is no digit or the size is above INT32_MAX. */
static int64_t http_chunk_size(const uint8_t *p, size_t c)
{
    size_t i = 0, digits = 0;
    int64_t v = 0;

    while (i < c && http_chunk_ctl(p[i]))
        i++;
    if (i == c)
        return -2;
    while (i < c && http_hex(p[i]) >= 0) {
        v = v * 16 + http_hex(p[i]);
        if (v > INT32_MAX)
            return -1;
        digits++;
        i++;
    }
    return digits == 0 ? -1 : v;
}

/* A response whose chunked encoding turns out not to be one: what came
 * (p[0..n)) and all that follows is body up to the close, as libhtp does. */
static int http_chunk_fallback(struct http_state *s, int dir, const uint8_t *p, size_t n)
{
    struct http_dir *d = &s->d[dir];

    http_event(s, HTTP_EV_BAD_CHUNK);
    d->st = HTTP_ST_BODY_CLOSE;
    return http_body(s, d->tx, dir, p, n);
}

/* A complete line of n bytes (its end of line included). */
static int http_line(struct http_state *s, int dir, const uint8_t *line, size_t n)
{
    struct http_dir *d = &s->d[dir];
    const uint8_t *start = line;
    size_t c = n - 1;
    int64_t sz;
    int r;

    if (c > 0 && line[c - 1] == '\r')
        c--;
    if (d->st == HTTP_ST_PEEK09) {
        if (c > 0 && !http_ws(line[0]) && http_name_line(line, c)) {
            d->tx->is_09 = false;
            d->st = HTTP_ST_HEADERS;
        } else {
            http_09_done(d);
        }
    }
    switch (d->st) {
    case HTTP_ST_LINE:
        while (dir == APP_DIR_TOCLIENT && c > 0 && line[0] == '\r') {
            line++, c--; /* bare CRs before a status line: empty lines */
        }
        if (c == 0)
            return 0; /* empty lines before a message */
        if (dir == APP_DIR_TOCLIENT && !http_looks_like_response(line, c))
            return http_resp_junk(s, line, n - (size_t)(line - start));
        r = dir == APP_DIR_TOSERVER ? http_request_line(s, line, c) : http_status_line(s, line, c);
        d->hdr_bytes = n;
        return r;
    case HTTP_ST_HEADERS:
        d->hdr_bytes += n;
        r = http_buf_add(&d->tx->m[dir].raw, line, n);
        if (r != 0)
            return r;
        d->skip_cr = dir == APP_DIR_TOCLIENT && line[n - 1] == '\n' &&
                     (n < 2 || line[n - 2] != '\r');
        return http_header_input(s, dir, line, n, c);
    case HTTP_ST_CHUNK_SIZE:
        sz = http_chunk_size(line, c);
        if (sz == -2)
            return 0;
        if (sz < 0 && dir == APP_DIR_TOCLIENT)
            return http_chunk_fallback(s, dir, line, n);
        if (sz < 0) {
            http_event(s, HTTP_EV_BAD_CHUNK);
            http_stop(s, dir);
        } else if (sz == 0) {
            d->st = HTTP_ST_TRAILER;
            d->hdr_bytes = 0;
        } else {
            d->st = HTTP_ST_CHUNK_DATA;
            d->remain = (uint64_t)sz;
        }
        return 0;
    case HTTP_ST_CHUNK_END:
        /* libhtp skips whatever precedes the end of line */
        if (c != 0)
            http_event(s, HTTP_EV_BAD_CHUNK);
        d->st = HTTP_ST_CHUNK_SIZE;
        return 0;
    case HTTP_ST_TRAILER:
        d->hdr_bytes += n;
        if (c == 0)
            http_msg_done(s, dir);
        return 0;
    default:
        return 0;
    }
}

/* Early check of a request line still coming, so that a stream that is not
 * HTTP is given up at its first bad byte: a request starts with a method
 * token.  (A response never is given up: lines before its status line are
 * body, as libhtp has them.)  Checks the bytes of lbuf + p[0..n) from
 * d->chk on, n stopping before the '\n'; a '\r' last is left for later (it
 * may end the line).  Returns false when the line cannot be HTTP. */
static bool http_first_line_ok(struct http_dir *d, const uint8_t *p, size_t n, size_t upto)
{
    size_t total = d->lbuf.len + n;

    if (total > upto)
        total = upto;
    while (!d->chk_done && d->chk < total) {
        size_t i = d->chk;
        uint8_t c = i < d->lbuf.len ? d->lbuf.p[i] : p[i - d->lbuf.len];

        if (c == '\r' && i + 1 == total)
            break;
        if (http_ws(c)) {
            if (i == 0)
                return false;
            d->chk_done = true;
            break;
        }
        if (!http_tchar(c))
            return false;
        d->chk++;
    }
    return true;
}

/* Length of p[0..len) up to and including the end of the line: a LF, or
 * with cr_eol (responses, as libhtp) also a CR followed by anything but LF,
 * CR, space or tab.  0 when the line goes on past len (a CR last is undecided).
 * lbuf_cr: the bytes before p end with such an undecided CR. */
static size_t http_eol(const uint8_t *p, size_t len, bool cr_eol, bool lbuf_cr)
{
    if (lbuf_cr && len > 0) {
        if (p[0] == '\n')
            return 1;
        if (!http_ws(p[0]) && p[0] != '\r')
            return SIZE_MAX; /* the line ended with the buffered CR */
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n')
            return i + 1;
        if (cr_eol && p[i] == '\r') {
            if (i + 1 == len)
                return 0;
            if (p[i + 1] == '\n')
                return i + 2;
            if (!http_ws(p[i + 1]) && p[i + 1] != '\r')
                return i + 1;
        }
    }
    return 0;
}

/* Takes bytes up to and including the next end of line.  Returns 1 with the
 * line in *line and *n, 0 when the data ended inside the line (kept in lbuf),
 * -1 when the line would be longer than max bytes. */
static int http_read_line(struct http_dir *d, const uint8_t **data, size_t *len, size_t max,
                          bool cr_eol, const uint8_t **line, size_t *n, int *err)
{
    bool lbuf_cr = cr_eol && d->lbuf.len > 0 && d->lbuf.p[d->lbuf.len - 1] == '\r';
    size_t e = http_eol(*data, *len, cr_eol, lbuf_cr);
    bool done = e != 0;
    size_t take = e == SIZE_MAX ? 0 : done ? e : *len;

    *err = 0;
    if (d->lbuf.len + take > max)
        return -1;
    if (done && d->lbuf.len == 0) {
        *line = *data;
        *n = take;
    } else {
        *err = http_buf_reserve(&d->lbuf, d->lbuf.len + take, max);
        if (*err != 0)
            return 0;
        if (take > 0)
            memcpy(d->lbuf.p + d->lbuf.len, *data, take);
        d->lbuf.len += take;
        *line = d->lbuf.p;
        *n = d->lbuf.len;
    }
    *data += take;
    *len -= take;
    return done;
}

/* Longest line the current state accepts: what is left of header_limit for
 * the line, headers and trailers, header_limit itself for a chunk line. */
static size_t http_line_max(const struct http_state *s, const struct http_dir *d)
{
    size_t lim = s->cfg.header_limit;

    if (d->st == HTTP_ST_CHUNK_SIZE || d->st == HTTP_ST_CHUNK_END)
        return lim;
    return lim > d->hdr_bytes ? lim - d->hdr_bytes : 0;
}

/* The chunk size line being read (lbuf + p[0..len), up to its LF) starts,
 * after control bytes, with something that is not a hex digit. */
static bool http_chunk_junk(const struct http_dir *d, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < d->lbuf.len + len; i++) {
        uint8_t c = i < d->lbuf.len ? d->lbuf.p[i] : p[i - d->lbuf.len];

        if (c == '\n')
            return false;
        if (!http_chunk_ctl(c))
            return http_hex(c) < 0;
    }
    return false;
}

static bool http_ended(const struct http_dir *d)
{
    return d->dead || d->stopped || d->eof;
}

static int http_feed(struct http_state *s, int dir, const uint8_t *data, size_t len)
{
    struct http_dir *d = &s->d[dir];
    int r;

    while (len > 0 && !http_ended(d)) {
        switch (d->st) {
        case HTTP_ST_BODY_CL:
        case HTTP_ST_CHUNK_DATA: {
            size_t n = len < d->remain ? len : (size_t)d->remain;
            r = http_body(s, d->tx, dir, data, n);
            if (r != 0)
                return r;
            data += n, len -= n, d->remain -= n;
            if (d->remain == 0) {
                if (d->st == HTTP_ST_BODY_CL)
                    http_msg_done(s, dir);
                else
                    d->st = HTTP_ST_CHUNK_END;
            }
            break;
        }
        case HTTP_ST_BODY_CLOSE:
            r = http_body(s, d->tx, dir, data, len);
            if (r != 0)
                return r;
            len = 0;
            break;
        default: {
            const uint8_t *line = NULL;
            size_t n = 0;
            int err;

            if (dir == APP_DIR_TOCLIENT && d->st == HTTP_ST_LINE && d->lbuf.len == 0 &&
                d->tx == NULL) {
                struct http_tx *t = http_resp_target(s);
                if (t != NULL && t->is_09) {
                    /* An HTTP/0.9 response: no status line, body to the close. */
                    d->tx = t;
                    t->m[1].prog = HTTP_PROG_BODY;
                    d->st = HTTP_ST_BODY_CLOSE;
                    break;
                }
            }
            if (d->st == HTTP_ST_LINE && dir == APP_DIR_TOSERVER) {
                /* Checked as far as the line may go, as one byte per call would. */
                const uint8_t *nl = memchr(data, '\n', len);
                size_t upto = http_line_max(s, d);

                upto = upto < SIZE_MAX ? upto + 1 : upto;
                if (!http_first_line_ok(d, data, nl ? (size_t)(nl - data) : len, upto)) {
                    http_event(s, HTTP_EV_BAD_REQUEST_LINE);
                    d->dead = true;
                    break;
                }
            }
            if (d->skip_cr) {
                d->skip_cr = false;
                if (d->st == HTTP_ST_HEADERS && d->lbuf.len == 0 && data[0] == '\r') {
                    /* "\n\r" is one end of line in libhtp's responses */
                    r = http_buf_add(&d->tx->m[dir].raw, data, 1);
                    if (r != 0)
                        return r;
                    d->hdr_bytes++;
                    data++, len--;
                    break;
                }
            }
            if (d->ws_end) {
                d->ws_end = false;
                if (d->st == HTTP_ST_HEADERS && d->lbuf.len == 0 && data[0] != '\n' &&
                    data[0] != '\r') {
                    /* libhtp: "\n \n" then data is the end of the headers */
                    r = http_flush_pending(s, dir);
                    if (r == 0)
                        r = http_headers_done(s, dir);
                    if (r != 0)
                        return r;
                    break;
                }
            }
            if (d->st == HTTP_ST_CHUNK_SIZE && dir == APP_DIR_TOCLIENT &&
                http_chunk_junk(d, data, len)) {
                /* not a chunk size: libhtp takes the rest as body */
                r = http_chunk_fallback(s, dir, d->lbuf.p, d->lbuf.len);
                d->lbuf.len = 0;
                if (r != 0)
                    return r;
                break;
            }
            r = http_read_line(d, &data, &len, http_line_max(s, d),
                               dir == APP_DIR_TOCLIENT &&
                                   (d->st == HTTP_ST_LINE || d->st == HTTP_ST_HEADERS),
                               &line, &n, &err);
            if (err != 0)
                return err;
            if (r < 0) {
                bool chunk = d->st == HTTP_ST_CHUNK_SIZE || d->st == HTTP_ST_CHUNK_END;
                http_event(s, chunk ? HTTP_EV_BAD_CHUNK : HTTP_EV_HEADER_LIMIT);
                http_stop(s, dir);
                break;
            }
            if (r == 0)
                break;
            r = http_line(s, dir, line, n);
            d->lbuf.len = 0;
            d->chk = 0;
            d->chk_done = false;
            if (r != 0)
                return r;
            break;
        }
        }
    }
    return d->dead ? KANSHI_EPARSE : 0;
}

/* --- API -------------------------------------------------------------------- */

int http_state_create(struct http_state **out, const struct http_config *cfg)
{
    struct http_state *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -ENOMEM;
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        http_config_default(&s->cfg);
    *out = s;
    return 0;
}

void http_state_destroy(struct http_state *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ntx; i++)
        http_tx_free(s->txs[i]);
    free(s->txs);
    for (int dir = 0; dir < 2; dir++) {
        http_buf_free(&s->d[dir].lbuf);
        http_buf_free(&s->d[dir].hpend);
    }
    free(s);
}

int http_parse(struct http_state *s, int dir, const uint8_t *data, size_t len)
{
    int r;

    if (s == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return -EINVAL;
    if (s->d[dir].dead)
        return KANSHI_EPARSE;
    if (data == NULL || len == 0)
        return 0;
    r = http_feed(s, dir, data, len);
    if (r == -ENOMEM)
        http_stop(s, dir);
    return r;
}

void http_gap(struct http_state *s, int dir, uint64_t len)
{
    struct http_dir *d;

    if (s == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT) || len == 0)
        return;
    d = &s->d[dir];
    if (http_ended(d))
        return;
    http_event(s, HTTP_EV_GAP);
    if (d->lbuf.len == 0 &&
        (((d->st == HTTP_ST_BODY_CL || d->st == HTTP_ST_CHUNK_DATA) && len <= d->remain) ||
         d->st == HTTP_ST_BODY_CLOSE)) {
        struct http_msg *m = &d->tx->m[dir];
        /* The compressed stream cannot go on past a hole. */
        if (m->nenc > 0) {
            if (m->z == NULL)
                m->z = calloc(1, sizeof(*m->z)); /* zeroed: no layer to end */
            if (m->z == NULL) {
                http_stop(s, dir);
                return;
            }
            m->z->ended = true;
        }
        if (d->st == HTTP_ST_BODY_CLOSE)
            return;
        d->remain -= len;
        if (d->remain == 0) {
            if (d->st == HTTP_ST_BODY_CL)
                http_msg_done(s, dir);
            else
                d->st = HTTP_ST_CHUNK_END;
        }
        return;
    }
    http_stop(s, dir);
}

void http_eof(struct http_state *s, int dir)
{
    struct http_dir *d;
    bool in_line;

    if (s == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return;
    d = &s->d[dir];
    in_line = d->st == HTTP_ST_LINE;
    if (d->st == HTTP_ST_PEEK09 && d->tx != NULL)
        http_09_done(d);
    /* headers the close cuts off end there, as libhtp completes them */
    if (!d->dead && !d->stopped && d->st == HTTP_ST_HEADERS && d->tx != NULL &&
        http_flush_pending(s, dir) == 0)
        (void)http_headers_done(s, dir);
    if (!d->dead && !d->stopped && d->st == HTTP_ST_BODY_CLOSE)
        http_msg_done(s, dir);
    /* lines before a status line: libhtp ends the line at the close, takes
     * it as body too when it is not a status line, and ends the response.
     * (The close opens no transaction: a fragment no request waits for is
     * dropped.) */
    if (!d->dead && !d->stopped && dir == APP_DIR_TOCLIENT && in_line) {
        size_t c = d->lbuf.len;

        while (c > 0 && d->lbuf.p[c - 1] == '\r')
            c--;
        if (c > 0 && !http_looks_like_response(d->lbuf.p, c) &&
            (d->tx != NULL || http_resp_target(s) != NULL))
            (void)http_resp_junk(s, d->lbuf.p, d->lbuf.len);
        d->lbuf.len = 0;
        if (d->tx != NULL)
            http_msg_done(s, dir);
    }
    d->eof = true;
}

size_t http_tx_count(const struct http_state *s)
{
    return s != NULL ? s->ntx : 0;
}

struct http_tx *http_tx_at(struct http_state *s, size_t i)
{
    if (s == NULL || i >= s->ntx)
        return NULL;
    return s->txs[i];
}

uint64_t http_tx_id(const struct http_tx *tx)
{
    return tx->id;
}

enum http_progress http_tx_progress(const struct http_tx *tx, int dir)
{
    if (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT)
        return HTTP_PROG_NONE;
    return tx->m[dir].prog;
}

bool http_tx_body_changed(const struct http_tx *tx, int dir)
{
    if (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT)
        return false;
    return tx->m[dir].body.len > tx->m[dir].body_mark;
}

void http_tx_body_mark(struct http_tx *tx, int dir)
{
    if (dir == APP_DIR_TOSERVER || dir == APP_DIR_TOCLIENT)
        tx->m[dir].body_mark = tx->m[dir].body.len;
}

uint32_t *http_tx_user(struct http_tx *tx)
{
    return &tx->user;
}

static bool http_field(const struct http_msg *m, int f, const uint8_t **data, size_t *len)
{
    if (!m->has_line || !m->has_f[f])
        return false;
    *data = m->line.p + m->f_off[f];
    *len = m->f_len[f];
    return true;
}

static bool http_out(const struct http_buf *b, bool present, const uint8_t **data, size_t *len)
{
    if (!present)
        return false;
    *data = b->p != NULL ? b->p : (const uint8_t *)"";
    *len = b->len;
    return true;
}

/* The ids named after a header (user_agent, cookie/set-cookie, ... content_len)
 * and protocol, header, header_raw, header_names, start follow dir; the
 * others ignore it. */
bool http_tx_header_at(const struct http_tx *tx, int dir, size_t i, const uint8_t **name,
                       size_t *nlen, const uint8_t **val, size_t *vlen)
{
    const struct http_msg *m;

    if (tx == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return false;
    m = &tx->m[dir];
    if (!m->hdr_done || i >= m->nmh)
        return false;
    *name = m->mstore.p + m->mh[i].name;
    *nlen = m->mh[i].name_len;
    *val = m->mstore.p + m->mh[i].val;
    *vlen = m->mh[i].val_len;
    return true;
}

bool http_tx_buffer_dir(const struct http_tx *tx, enum rule_buffer id, int dir,
                        const uint8_t **data, size_t *len)
{
    const struct http_msg *m, *req, *resp;

    if (tx == NULL || data == NULL || len == NULL ||
        (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return false;
    m = &tx->m[dir];
    req = &tx->m[0];
    resp = &tx->m[1];
    switch (id) {
    case RULE_BUF_HTTP_METHOD:
        return http_field(req, 0, data, len);
    case RULE_BUF_HTTP_URI:
        return http_out(&tx->uri, tx->has_uri, data, len);
    case RULE_BUF_HTTP_URI_RAW:
        return http_field(req, 1, data, len);
    case RULE_BUF_HTTP_PROTOCOL:
        return http_field(m, dir == APP_DIR_TOSERVER ? 2 : 0, data, len);
    case RULE_BUF_HTTP_REQUEST_LINE:
        return http_out(&req->line, req->has_line, data, len);
    case RULE_BUF_HTTP_HOST:
        return http_out(&tx->host, tx->has_host, data, len);
    case RULE_BUF_HTTP_HOST_RAW:
        return http_out(&tx->host_raw, tx->has_host, data, len);
    case RULE_BUF_HTTP_USER_AGENT:
        return http_value(m, "user-agent", data, len);
    case RULE_BUF_HTTP_COOKIE:
        return http_value(m, dir == APP_DIR_TOSERVER ? "cookie" : "set-cookie", data, len);
    case RULE_BUF_HTTP_ACCEPT:
        return http_value(m, "accept", data, len);
    case RULE_BUF_HTTP_ACCEPT_ENC:
        return http_value(m, "accept-encoding", data, len);
    case RULE_BUF_HTTP_ACCEPT_LANG:
        return http_value(m, "accept-language", data, len);
    case RULE_BUF_HTTP_REFERER:
        return http_value(m, "referer", data, len);
    case RULE_BUF_HTTP_CONNECTION:
        return http_value(m, "connection", data, len);
    case RULE_BUF_HTTP_CONTENT_TYPE:
        return http_value(m, "content-type", data, len);
    case RULE_BUF_HTTP_CONTENT_LEN:
        return http_value(m, "content-length", data, len);
    case RULE_BUF_HTTP_HEADER:
        return http_out(&m->norm, m->hdr_done && m->norm.len > 0, data, len);
    case RULE_BUF_HTTP_HEADER_RAW:
        return http_out(&m->raw, m->hdr_done, data, len);
    case RULE_BUF_HTTP_HEADER_NAMES:
        return http_out(&m->names, m->hdr_done && m->nmh > 0, data, len);
    case RULE_BUF_HTTP_START:
        return http_out(&m->start, m->hdr_done, data, len);
    case RULE_BUF_HTTP_REQUEST_BODY:
        return http_out(&req->body, req->body.len > 0, data, len);
    case RULE_BUF_HTTP_STAT_CODE:
        return http_field(resp, 1, data, len);
    case RULE_BUF_HTTP_STAT_MSG:
        return http_field(resp, 2, data, len);
    case RULE_BUF_HTTP_RESPONSE_LINE:
        return http_out(&resp->line, resp->has_line, data, len);
    case RULE_BUF_HTTP_SERVER:
        return http_value(resp, "server", data, len);
    case RULE_BUF_HTTP_LOCATION:
        return http_value(resp, "location", data, len);
    case RULE_BUF_HTTP_RESPONSE_BODY:
        return http_out(&resp->body, resp->body.len > 0, data, len);
    default:
        return false;
    }
}

bool http_tx_buffer(const struct http_tx *tx, enum rule_buffer id, const uint8_t **data,
                    size_t *len)
{
    return http_tx_buffer_dir(tx, id, APP_DIR_TOSERVER, data, len);
}

int http_tx_status(const struct http_tx *tx)
{
    return tx->status;
}

int64_t http_tx_content_length(const struct http_tx *tx, int dir)
{
    if (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT)
        return -1;
    return tx->m[dir].clen;
}

uint64_t http_tx_body_bytes(const struct http_tx *tx, int dir)
{
    if (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT)
        return 0;
    return tx->m[dir].body_bytes;
}

void http_tx_done(struct http_tx *tx)
{
    if (tx != NULL)
        tx->done_mark = true;
}

/* A side is complete when its message is done, or when its direction will
 * never parse again (closed, stopped, not HTTP). */
static bool http_side_complete(const struct http_state *s, const struct http_tx *tx, int dir)
{
    return tx->m[dir].prog == HTTP_PROG_DONE || http_ended(&s->d[dir]);
}

void http_state_gc(struct http_state *s)
{
    size_t w = 0;

    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ntx; i++) {
        struct http_tx *tx = s->txs[i];

        if (tx->done_mark && http_side_complete(s, tx, 0) && http_side_complete(s, tx, 1)) {
            for (int dir = 0; dir < 2; dir++)
                if (s->d[dir].tx == tx)
                    s->d[dir].tx = NULL;
            http_tx_free(tx);
            continue;
        }
        s->txs[w++] = tx;
    }
    s->ntx = w;
}

const uint32_t *http_state_events(const struct http_state *s)
{
    return s->events;
}
