/*
 * app_detect.c — which application protocol a flow speaks, from its first
 * bytes (see include/kanshi/app.h).
 *
 * As Suricata's protocol detection does, the bytes decide and the ports
 * mostly do not: a table of start-of-stream signatures per direction (the
 * HTTP methods and response versions, "SSH-", the SMTP and FTP commands),
 * a structural check for TLS records, and DNS recognised by its header where
 * the port says DNS (DNS has no signature bytes).
 *
 * Results: a signature that matches names its protocol; data that is still
 * a strict prefix of some signature asks for more; anything else fails.
 *
 * SMTP and FTP servers both greet with "220".  The greeting decides when it
 * says so ("220 (" is vsftpd's, as in Suricata; a line holding "FTP" is FTP,
 * one holding "SMTP"/"ESMTP" is SMTP); otherwise the server port decides
 * (21 FTP; 25, 465, 587 SMTP); otherwise the greeting asks for more, up to
 * APP_BANNER_MAX bytes, so that the client's first command (EHLO/HELO or
 * USER/PASS/...) names the protocol of the flow.  QUIT is no signature: both
 * protocols have it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "kanshi/app.h"
#include "kanshi/app_dns.h"

#define APP_BANNER_MAX 512 /* bytes of an undecided "220" greeting before giving up */
#define TLS_RECORD_MAX (16384 + 2048)

static const char *const app_names[APP_PROTO_COUNT] = {
    [APP_PROTO_UNKNOWN] = "unknown", [APP_PROTO_HTTP] = "http",     [APP_PROTO_TLS] = "tls",
    [APP_PROTO_DNS] = "dns",         [APP_PROTO_SMTP] = "smtp",     [APP_PROTO_FTP] = "ftp",
    [APP_PROTO_SSH] = "ssh",         [APP_PROTO_FAILED] = "failed",
};

const char *app_proto_name(enum app_proto p)
{
    if ((unsigned)p >= APP_PROTO_COUNT)
        return "unknown";
    return app_names[p];
}

enum app_proto app_proto_from_name(const char *name)
{
    static const struct {
        const char *name;
        enum app_proto p;
    } names[] = {
        {"http", APP_PROTO_HTTP}, {"http1", APP_PROTO_HTTP}, {"tls", APP_PROTO_TLS},
        {"ssl", APP_PROTO_TLS},   {"dns", APP_PROTO_DNS},    {"smtp", APP_PROTO_SMTP},
        {"ftp", APP_PROTO_FTP},   {"ssh", APP_PROTO_SSH},    {"failed", APP_PROTO_FAILED},
    };

    if (name == NULL)
        return APP_PROTO_UNKNOWN;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].p;
    return APP_PROTO_UNKNOWN;
}

/* What follows a signature's bytes. */
enum sig_next {
    NEXT_ANY,   /* nothing required */
    NEXT_SPACE, /* SP or HT (HTTP methods) */
    NEXT_ARG,   /* SP, CR or LF (a command with or without argument) */
    NEXT_EOL,   /* CR or LF */
};

#define DIR_TS (1u << APP_DIR_TOSERVER)
#define DIR_TC (1u << APP_DIR_TOCLIENT)

struct sig {
    const char *pat;
    uint8_t dirs;
    uint8_t proto;
    uint8_t nocase;
    uint8_t next;
};

/* HTTP methods are Suricata's list, case-sensitive, followed by SP or HT;
 * SMTP and FTP commands are case-insensitive. */
static const struct sig sigs[] = {
    {"GET", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"POST", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"PUT", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"HEAD", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"DELETE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"OPTIONS", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"CONNECT", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"TRACE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"PATCH", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"PROPFIND", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"PROPPATCH", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"MKCOL", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"COPY", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"MOVE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"LOCK", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"UNLOCK", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"CHECKOUT", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"UNCHECKOUT", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"CHECKIN", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"UPDATE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"LABEL", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"REPORT", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"MKWORKSPACE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"MKACTIVITY", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"MERGE", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"INVALID", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"VERSION-CONTROL", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"BASELINE-CONTROL", DIR_TS, APP_PROTO_HTTP, 0, NEXT_SPACE},
    {"HTTP/1.", DIR_TC, APP_PROTO_HTTP, 0, NEXT_ANY},
    {"HTTP/0.9", DIR_TC, APP_PROTO_HTTP, 0, NEXT_ANY},
    {"SSH-", DIR_TS | DIR_TC, APP_PROTO_SSH, 0, NEXT_ANY},
    {"EHLO", DIR_TS, APP_PROTO_SMTP, 1, NEXT_ARG},
    {"HELO", DIR_TS, APP_PROTO_SMTP, 1, NEXT_ARG},
    {"USER", DIR_TS, APP_PROTO_FTP, 1, NEXT_SPACE},
    {"PASS", DIR_TS, APP_PROTO_FTP, 1, NEXT_SPACE},
    {"PORT", DIR_TS, APP_PROTO_FTP, 1, NEXT_SPACE},
    {"AUTH TLS", DIR_TS, APP_PROTO_FTP, 1, NEXT_ARG},
    {"AUTH SSL", DIR_TS, APP_PROTO_FTP, 1, NEXT_ARG},
    {"FEAT", DIR_TS, APP_PROTO_FTP, 1, NEXT_EOL},
    {"220 (", DIR_TC, APP_PROTO_FTP, 0, NEXT_ANY},
};

enum match { NO_MATCH, PREFIX, MATCH };

static bool byte_eq(uint8_t a, uint8_t b, bool nocase)
{
    if (nocase && a >= 'a' && a <= 'z')
        a = (uint8_t)(a - 'a' + 'A');
    return a == b;
}

static enum match sig_match(const struct sig *s, const uint8_t *d, size_t len)
{
    size_t plen = strlen(s->pat);
    uint8_t c;

    for (size_t i = 0; i < plen; i++) {
        if (i == len)
            return PREFIX;
        if (!byte_eq(d[i], (uint8_t)s->pat[i], s->nocase))
            return NO_MATCH;
    }
    if (s->next == NEXT_ANY)
        return MATCH;
    if (len == plen)
        return PREFIX;
    c = d[plen];
    switch (s->next) {
    case NEXT_SPACE:
        return c == ' ' || c == '\t' ? MATCH : NO_MATCH;
    case NEXT_ARG:
        return c == ' ' || c == '\r' || c == '\n' ? MATCH : NO_MATCH;
    default:
        return c == '\r' || c == '\n' ? MATCH : NO_MATCH;
    }
}

/*
 * TLS: a handshake record of SSL 3.0 to TLS 1.3 (0x16 0x03 0x00..0x04) with
 * a length a record can have, or an SSLv2 CLIENT-HELLO (to the server) or
 * SERVER-HELLO (to the client) with a two-byte header.
 */
static enum match tls_match(const uint8_t *d, size_t len, int dir)
{
    if (d[0] == 0x16) {
        if (len >= 2 && d[1] != 0x03)
            return NO_MATCH;
        if (len >= 3 && d[2] > 0x04)
            return NO_MATCH;
        if (len < 5)
            return PREFIX;
        size_t rlen = (size_t)d[3] << 8 | d[4];
        return rlen >= 4 && rlen <= TLS_RECORD_MAX ? MATCH : NO_MATCH;
    }
    if (d[0] & 0x80) {
        size_t rlen;

        if (len < 5)
            return PREFIX; /* judged on five bytes */
        rlen = (size_t)(d[0] & 0x7f) << 8 | d[1];
        if (dir == APP_DIR_TOSERVER) {
            /* CLIENT-HELLO: type 1, version 0.2 or 3.x, then 6 bytes of lengths */
            if (d[2] == 0x01 && rlen >= 9 &&
                ((d[3] == 0x00 && d[4] == 0x02) || (d[3] == 0x03 && d[4] <= 0x04)))
                return MATCH;
        } else if (d[2] == 0x04) {
            /* SERVER-HELLO: type 4, session id hit, certificate type, version 0.2 */
            if (len < 7)
                return PREFIX;
            if (rlen >= 11 && d[3] <= 0x01 && d[5] == 0x00 && d[6] == 0x02)
                return MATCH;
        }
    }
    return NO_MATCH;
}

/* A header that can start a DNS message of mlen bytes: a known opcode, and
 * counts that fit the message (the sections at their minimum size). */
static bool dns_header_sane(const uint8_t *h, size_t mlen)
{
    unsigned flags = (unsigned)h[2] << 8 | h[3];
    unsigned opcode = (flags >> 11) & 0xf;
    size_t qd = (size_t)h[4] << 8 | h[5];
    size_t rr =
        ((size_t)h[6] << 8 | h[7]) + ((size_t)h[8] << 8 | h[9]) + ((size_t)h[10] << 8 | h[11]);

    if (mlen < 12 || opcode == 3 || opcode > 6)
        return false;
    if (qd > DNS_MAX_QUESTIONS)
        return false;
    /* a query asks something; a response without questions (mDNS) answers */
    if (qd == 0 && (!(flags & 0x8000) || rr == 0))
        return false;
    return qd * 5 + rr * 11 <= mlen - 12;
}

/* One whole DNS message: a sane header whose questions all decode. */
static bool dns_msg_ok(const uint8_t *d, size_t len)
{
    struct dns_msg m;

    if (len < 12 || !dns_header_sane(d, len))
        return false;
    return dns_parse(&m, d, len) == 0;
}

static bool port_is(uint16_t sp, uint16_t dp, uint16_t a, uint16_t b)
{
    return sp == a || dp == a || (b != 0 && (sp == b || dp == b));
}

/* DNS over TCP: length prefix, then a sane header (the whole message
 * decoded when it is all there). */
static int dns_tcp_probe(const uint8_t *d, size_t len)
{
    size_t mlen;

    if (len < 2 + 12)
        return APP_PROBE_NEED_MORE;
    mlen = (size_t)d[0] << 8 | d[1];
    if (!dns_header_sane(d + 2, mlen))
        return APP_PROTO_FAILED;
    if (len - 2 >= mlen)
        return dns_msg_ok(d + 2, mlen) ? APP_PROTO_DNS : APP_PROTO_FAILED;
    return APP_PROTO_DNS;
}

static bool line_has(const uint8_t *d, size_t len, const char *word)
{
    size_t wl = strlen(word);

    for (size_t i = 0; i + wl <= len; i++) {
        size_t j = 0;

        while (j < wl && byte_eq(d[i + j], (uint8_t)word[j], true))
            j++;
        if (j == wl)
            return true;
    }
    return false;
}

/* A server's "220" greeting (to the client). */
static int banner_probe(const uint8_t *d, size_t len, uint16_t server_port)
{
    size_t eol;

    for (size_t i = 0; i < 3; i++) {
        if (i == len)
            return APP_PROBE_NEED_MORE;
        if (d[i] != "220"[i])
            return APP_PROTO_FAILED;
    }
    if (len == 3)
        return APP_PROBE_NEED_MORE;
    if (d[3] != ' ' && d[3] != '-')
        return APP_PROTO_FAILED;
    for (eol = 4; eol < len && d[eol] != '\n'; eol++)
        ;
    if (line_has(d + 4, eol - 4, "FTP"))
        return APP_PROTO_FTP;
    if (line_has(d + 4, eol - 4, "SMTP"))
        return APP_PROTO_SMTP;
    if (server_port == 21)
        return APP_PROTO_FTP;
    if (server_port == 25 || server_port == 465 || server_port == 587)
        return APP_PROTO_SMTP;
    return len < APP_BANNER_MAX ? APP_PROBE_NEED_MORE : APP_PROTO_FAILED;
}

static int tcp_probe(const uint8_t *d, size_t len, int dir, uint16_t sp, uint16_t dp)
{
    bool more = false;
    unsigned dbit = dir == APP_DIR_TOCLIENT ? DIR_TC : DIR_TS;
    enum match t;

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (!(sigs[i].dirs & dbit))
            continue;
        enum match r = sig_match(&sigs[i], d, len);
        if (r == MATCH)
            return sigs[i].proto;
        if (r == PREFIX)
            more = true;
    }
    t = tls_match(d, len, dir);
    if (t == MATCH)
        return APP_PROTO_TLS;
    if (t == PREFIX)
        more = true;
    if (dir == APP_DIR_TOCLIENT) {
        int b = banner_probe(d, len, sp);

        if (b != APP_PROTO_FAILED)
            return b;
    }
    if (port_is(sp, dp, 53, 0)) {
        int r = dns_tcp_probe(d, len);

        if (r != APP_PROTO_FAILED)
            return r;
    }
    return more ? APP_PROBE_NEED_MORE : APP_PROTO_FAILED;
}

int app_probe(const uint8_t *data, size_t len, int dir, uint8_t ipproto, uint16_t sp, uint16_t dp)
{
    if (data == NULL || len == 0)
        return APP_PROBE_NEED_MORE;
    if (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT)
        return APP_PROTO_FAILED;
    switch (ipproto) {
    case 6:
        return tcp_probe(data, len, dir, sp, dp);
    case 17:
        /* a datagram is whole: it is DNS or it is not */
        if (port_is(sp, dp, 53, 5353) && dns_msg_ok(data, len))
            return APP_PROTO_DNS;
        return APP_PROTO_FAILED;
    default:
        return APP_PROTO_FAILED;
    }
}
