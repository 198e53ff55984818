/*
 * app_tls_test.c — TLS handshake parser: ClientHello fields and JA3 (with
 * GREASE), ServerHello and JA3S, TLS 1.3 supported_versions, certificates
 * (a real CA and leaf made once with openssl, checked against openssl's
 * subject, issuer, serial, dates and SHA-1 fingerprint), messages split
 * byte by byte and across records, framing errors, over-long messages,
 * SSLv2 hellos, gaps, and the MD5 / SHA-1 test vectors.
 *
 * TLS bytes are built here by small writers (msg_*), so every length field
 * is computed, not typed in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/app_tls.h"
#include "kanshi/kanshi.h"
#include "test.h"

/*
 * Made with:
 *   openssl ecparam -name prime256v1 -genkey -noout -out ca.key
 *   openssl req -x509 -new -key ca.key -multivalue-rdn -days 3650 -set_serial 0x1234 \
 *       -subj "/C=US/O=Kanshi Test CA/OU=Lab+CN=Kanshi Root" -out ca.pem
 *   openssl ecparam -name prime256v1 -genkey -noout -out leaf.key
 *   openssl req -new -key leaf.key -out leaf.csr -subj \
 *       "/C=US/ST=California/L=San Francisco/O=Example Inc/OU=Security/CN=www.example.com"
 *   openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x8AB1C2D3E4F50617 \
 *       -days 36500 -out leaf.pem
 * and `openssl x509 -outform DER`.  openssl x509 -noout -subject -issuer -serial
 * -fingerprint -sha1 -startdate -enddate says:
 *   leaf: subject=C = US, ST = California, L = San Francisco, O = Example Inc,
 *         OU = Security, CN = www.example.com
 *         issuer=C = US, O = Kanshi Test CA, OU = Lab + CN = Kanshi Root
 *         serial=8AB1C2D3E4F50617 (DER INTEGER 00 8A B1 ...: the sign byte)
 *         SHA1 Fingerprint=94:38:CC:A0:D9:85:EA:2B:45:A0:60:4B:18:A1:A5:82:DA:4F:56:CC
 *         notBefore=Dec  5 19:24:42 2026 GMT (UTCTime), notAfter=Nov 11 19:24:42 2126 GMT
 *         (GeneralizedTime)
 *   ca:   subject=issuer=C = US, O = Kanshi Test CA, OU = Lab + CN = Kanshi Root
 *         serial=1234
 *         SHA1 Fingerprint=9B:00:61:70:39:5B:32:13:DC:24:DF:EE:FC:02:E6:32:F4:01:4C:8C
 *         notBefore=Dec  5 19:24:42 2026 GMT, notAfter=Dec  2 19:24:42 2036 GMT
 * The leaf is a v1 certificate (no [0] version), the CA a v3 one.
 */
static const uint8_t leaf_der[] = {
    0x30, 0x82, 0x01, 0xb6, 0x30, 0x82, 0x01, 0x5d, 0x02, 0x09, 0x00, 0x8a, 0xb1, 0xc2, 0xd3, 0xe4,
    0xf5, 0x06, 0x17, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x48, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x17,
    0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0e, 0x4b, 0x61, 0x6e, 0x73, 0x68, 0x69, 0x20,
    0x54, 0x65, 0x73, 0x74, 0x20, 0x43, 0x41, 0x31, 0x20, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0b,
    0x0c, 0x03, 0x4c, 0x61, 0x62, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0b, 0x4b, 0x61,
    0x6e, 0x73, 0x68, 0x69, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x30, 0x20, 0x17, 0x0d, 0x32, 0x36, 0x31,
    0x32, 0x30, 0x35, 0x31, 0x39, 0x32, 0x34, 0x34, 0x32, 0x5a, 0x18, 0x0f, 0x32, 0x31, 0x32, 0x36,
    0x31, 0x31, 0x31, 0x31, 0x31, 0x39, 0x32, 0x34, 0x34, 0x32, 0x5a, 0x30, 0x7d, 0x31, 0x0b, 0x30,
    0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03,
    0x55, 0x04, 0x08, 0x0c, 0x0a, 0x43, 0x61, 0x6c, 0x69, 0x66, 0x6f, 0x72, 0x6e, 0x69, 0x61, 0x31,
    0x16, 0x30, 0x14, 0x06, 0x03, 0x55, 0x04, 0x07, 0x0c, 0x0d, 0x53, 0x61, 0x6e, 0x20, 0x46, 0x72,
    0x61, 0x6e, 0x63, 0x69, 0x73, 0x63, 0x6f, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x0a,
    0x0c, 0x0b, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x49, 0x6e, 0x63, 0x31, 0x11, 0x30,
    0x0f, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x08, 0x53, 0x65, 0x63, 0x75, 0x72, 0x69, 0x74, 0x79,
    0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65,
    0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07, 0x03, 0x42, 0x00, 0x04, 0x1d, 0x61, 0x34, 0xf8, 0xa1, 0x73, 0xbc, 0xfa, 0x41, 0xb9, 0x01,
    0xc3, 0xd1, 0x1a, 0x80, 0x3b, 0x76, 0x79, 0x10, 0x39, 0x6d, 0x07, 0xa9, 0xdf, 0xc8, 0x3f, 0x1f,
    0x44, 0xa6, 0xdc, 0xf6, 0xd6, 0x3a, 0xe9, 0x0d, 0x9d, 0xe4, 0x3a, 0x46, 0x55, 0x95, 0xb7, 0x49,
    0x86, 0x44, 0xc2, 0xc0, 0x18, 0x21, 0xf9, 0x26, 0xb3, 0xe4, 0xa6, 0xf0, 0x91, 0x0f, 0x69, 0xb8,
    0xbb, 0xbe, 0xb2, 0x45, 0xb9, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
    0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x05, 0xfa, 0x2d, 0xb8, 0x30, 0x62, 0x09, 0x1e,
    0x52, 0x23, 0xb2, 0xc1, 0x03, 0xb8, 0x34, 0x58, 0x77, 0x86, 0xd2, 0x9b, 0xb6, 0xee, 0xfd, 0x9a,
    0xbe, 0x86, 0x85, 0x8b, 0x92, 0xab, 0xf0, 0x60, 0x02, 0x20, 0x0e, 0x7e, 0x7b, 0x8c, 0xc4, 0x5e,
    0xab, 0xc0, 0x54, 0x58, 0x79, 0x6e, 0x96, 0x60, 0xe4, 0x56, 0x5f, 0x48, 0xf9, 0x1e, 0x71, 0xdd,
    0x20, 0x70, 0xb6, 0x76, 0x21, 0xf7, 0x3c, 0x81, 0x79, 0xc0};
static const uint8_t ca_der[] = {
    0x30, 0x82, 0x01, 0xd3, 0x30, 0x82, 0x01, 0x79, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x02, 0x12,
    0x34, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x48, 0x31,
    0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x17, 0x30, 0x15,
    0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0e, 0x4b, 0x61, 0x6e, 0x73, 0x68, 0x69, 0x20, 0x54, 0x65,
    0x73, 0x74, 0x20, 0x43, 0x41, 0x31, 0x20, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x03,
    0x4c, 0x61, 0x62, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0b, 0x4b, 0x61, 0x6e, 0x73,
    0x68, 0x69, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x32, 0x30,
    0x35, 0x31, 0x39, 0x32, 0x34, 0x34, 0x32, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x32, 0x30, 0x32,
    0x31, 0x39, 0x32, 0x34, 0x34, 0x32, 0x5a, 0x30, 0x48, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
    0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c,
    0x0e, 0x4b, 0x61, 0x6e, 0x73, 0x68, 0x69, 0x20, 0x54, 0x65, 0x73, 0x74, 0x20, 0x43, 0x41, 0x31,
    0x20, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x03, 0x4c, 0x61, 0x62, 0x30, 0x12, 0x06,
    0x03, 0x55, 0x04, 0x03, 0x0c, 0x0b, 0x4b, 0x61, 0x6e, 0x73, 0x68, 0x69, 0x20, 0x52, 0x6f, 0x6f,
    0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xf6, 0x01, 0x08, 0xc8,
    0xa8, 0x6c, 0x0f, 0xab, 0x41, 0x3a, 0x15, 0x5b, 0x9d, 0x25, 0x30, 0x45, 0x03, 0xbc, 0xfb, 0x1c,
    0x1b, 0xb5, 0x7b, 0xd3, 0x80, 0xb6, 0x4f, 0x88, 0x7d, 0x65, 0xf5, 0x1a, 0x71, 0x5d, 0x42, 0x27,
    0xd0, 0x6b, 0x62, 0x77, 0x1a, 0x50, 0xa5, 0x88, 0xf8, 0x77, 0x0f, 0xaf, 0xb0, 0x13, 0xb2, 0x54,
    0xea, 0x51, 0x30, 0x22, 0x64, 0xa8, 0x96, 0x42, 0x17, 0xfd, 0xa8, 0xd0, 0xa3, 0x53, 0x30, 0x51,
    0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xd0, 0x4a, 0xa8, 0x69, 0x24,
    0xab, 0x2a, 0xaf, 0xb1, 0xfd, 0xce, 0x7d, 0x55, 0xf4, 0x30, 0xcb, 0x57, 0xb7, 0xd4, 0x8c, 0x30,
    0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xd0, 0x4a, 0xa8, 0x69,
    0x24, 0xab, 0x2a, 0xaf, 0xb1, 0xfd, 0xce, 0x7d, 0x55, 0xf4, 0x30, 0xcb, 0x57, 0xb7, 0xd4, 0x8c,
    0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01,
    0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00,
    0x30, 0x45, 0x02, 0x20, 0x5b, 0x80, 0x6c, 0xc2, 0x43, 0x0f, 0x73, 0x82, 0x34, 0xc3, 0x60, 0xed,
    0x56, 0xf3, 0xc6, 0xf2, 0xa1, 0xb6, 0xb3, 0xed, 0x3f, 0xac, 0x0f, 0x5c, 0x7b, 0x2f, 0xb7, 0x7f,
    0xc2, 0xdd, 0x07, 0x16, 0x02, 0x21, 0x00, 0x8d, 0x35, 0x17, 0x31, 0x94, 0x48, 0xe1, 0x3b, 0x5f,
    0x7a, 0xfc, 0x40, 0x6f, 0xaa, 0x0e, 0xfa, 0x7a, 0xe2, 0x62, 0xe2, 0x22, 0x56, 0xc5, 0x27, 0x11,
    0x39, 0xae, 0x30, 0xaf, 0x10, 0x80, 0xe7};

#define LEAF_NOT_BEFORE 1796498682 /* date -u -d 'Dec 5 19:24:42 2026' +%s */
#define LEAF_NOT_AFTER 4950098682
#define CA_NOT_AFTER 2111858682

/* --- writers -------------------------------------------------------------- */

struct msg {
    uint8_t b[200000];
    size_t n;
};

static struct msg m_hs, m_wire, m_tmp;

static void put8(struct msg *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v);
}

static void put24(struct msg *m, unsigned v)
{
    put8(m, v >> 16);
    put16(m, v);
}

static void putn(struct msg *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* A length field of k bytes whose value is set by len_close(). */
static size_t len_open(struct msg *m, int k)
{
    size_t at = m->n;

    for (int i = 0; i < k; i++)
        put8(m, 0);
    return at;
}

static void len_close(struct msg *m, size_t at, int k)
{
    size_t v = m->n - at - (size_t)k;

    for (int i = k - 1; i >= 0; i--, v >>= 8)
        m->b[at + (size_t)i] = (uint8_t)v;
}

struct hello {
    uint16_t version;
    const uint16_t *ciphers;
    size_t nciphers;
    const uint16_t *exts; /* extension types, in order */
    size_t nexts;
    const char *sni;        /* content of extension 0 */
    const uint16_t *groups; /* of extension 10 */
    size_t ngroups;
    const uint8_t *formats; /* of extension 11 */
    size_t nformats;
    const uint16_t *versions; /* of extension 43 */
    size_t nversions;
    bool no_ext_block;
};

/* Appends a ClientHello handshake message (header included). */
static void client_hello(struct msg *m, const struct hello *h)
{
    size_t hl, l, e;

    put8(m, 1);
    hl = len_open(m, 3);
    put16(m, h->version);
    for (int i = 0; i < 32; i++)
        put8(m, (unsigned)i * 7);
    put8(m, 32); /* session id */
    for (int i = 0; i < 32; i++)
        put8(m, 0xee);
    put16(m, (unsigned)h->nciphers * 2);
    for (size_t i = 0; i < h->nciphers; i++)
        put16(m, h->ciphers[i]);
    put8(m, 1);
    put8(m, 0);
    if (!h->no_ext_block) {
        l = len_open(m, 2);
        for (size_t i = 0; i < h->nexts; i++) {
            put16(m, h->exts[i]);
            e = len_open(m, 2);
            if (h->exts[i] == 0) {
                size_t list = len_open(m, 2);
                put8(m, 0);
                put16(m, (unsigned)strlen(h->sni));
                putn(m, h->sni, strlen(h->sni));
                len_close(m, list, 2);
            } else if (h->exts[i] == 10) {
                put16(m, (unsigned)h->ngroups * 2);
                for (size_t j = 0; j < h->ngroups; j++)
                    put16(m, h->groups[j]);
            } else if (h->exts[i] == 11) {
                put8(m, (unsigned)h->nformats);
                putn(m, h->formats, h->nformats);
            } else if (h->exts[i] == 43) {
                put8(m, (unsigned)h->nversions * 2);
                for (size_t j = 0; j < h->nversions; j++)
                    put16(m, h->versions[j]);
            } else if (h->exts[i] == 21) { /* padding */
                for (int j = 0; j < 5; j++)
                    put8(m, 0);
            }
            len_close(m, e, 2);
        }
        len_close(m, l, 2);
    }
    len_close(m, hl, 3);
}

/* Appends a ServerHello; selected != 0 adds supported_versions last. */
static void server_hello(struct msg *m, uint16_t version, uint16_t cipher, const uint16_t *exts,
                         size_t nexts, uint16_t selected)
{
    size_t hl, l, e;

    put8(m, 2);
    hl = len_open(m, 3);
    put16(m, version);
    for (int i = 0; i < 32; i++)
        put8(m, 0x55);
    put8(m, 0);
    put16(m, cipher);
    put8(m, 0);
    l = len_open(m, 2);
    for (size_t i = 0; i < nexts; i++) {
        put16(m, exts[i]);
        e = len_open(m, 2);
        if (exts[i] == 65281)
            put8(m, 0); /* renegotiation_info */
        len_close(m, e, 2);
    }
    if (selected != 0) {
        put16(m, 43);
        put16(m, 2);
        put16(m, selected);
    }
    len_close(m, l, 2);
    len_close(m, hl, 3);
}

static void certificate(struct msg *m, const uint8_t *const *der, const size_t *len, size_t n)
{
    size_t hl, l;

    put8(m, 11);
    hl = len_open(m, 3);
    l = len_open(m, 3);
    for (size_t i = 0; i < n; i++) {
        put24(m, (unsigned)len[i]);
        putn(m, der[i], len[i]);
    }
    len_close(m, l, 3);
    len_close(m, hl, 3);
}

static void server_hello_done(struct msg *m)
{
    put8(m, 14);
    put24(m, 0);
}

/* Wraps body into records of at most frag bytes each. */
static void records(struct msg *out, uint8_t type, const uint8_t *body, size_t len, size_t frag)
{
    size_t off = 0;

    do {
        size_t n = len - off < frag ? len - off : frag;

        put8(out, type);
        put16(out, 0x0303);
        put16(out, (unsigned)n);
        putn(out, body + off, n);
        off += n;
    } while (off < len);
}

/* Feeds in chunks of `chunk` bytes; returns the first non-zero result. */
static int feed(struct tls_state *s, int dir, const uint8_t *p, size_t len, size_t chunk)
{
    int rc = 0;

    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int r = tls_parse(s, dir, p + off, n);

        if (r != 0 && rc == 0)
            rc = r;
    }
    return rc;
}

/* The buffer as a NUL-terminated string (static), or NULL when absent. */
static const char *buf_str(const struct tls_state *s, enum rule_buffer id)
{
    static char out[4][8192];
    static int k;
    const uint8_t *d;
    size_t n;

    if (!tls_buffer(s, id, 0, &d, &n) || n >= sizeof(out[0]))
        return NULL;
    k = (k + 1) % 4;
    memcpy(out[k], d, n);
    out[k][n] = '\0';
    return out[k];
}

static const char *hex(const uint8_t *p, size_t n)
{
    static char out[2][64];
    static int k;

    k ^= 1;
    for (size_t i = 0; i < n; i++)
        snprintf(out[k] + 2 * i, 3, "%02x", p[i]);
    return out[k];
}

/* The JA3 example of Salesforce's README:
 * 769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0
 * -> ada70206e40642a3e4461f35503241d5.  With GREASE values sprinkled in,
 * which must not change it. */
static const uint16_t ex_ciphers[] = {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4};
static const uint16_t ex_ciphers_grease[] = {0x0a0a, 47,     53,    5,  10, 49161, 49162,
                                             49171,  0xfafa, 49172, 50, 56, 19,    4};
static const uint16_t ex_exts[] = {0, 10, 11};
static const uint16_t ex_exts_grease[] = {0x1a1a, 0, 10, 0xeaea, 11};
static const uint16_t ex_groups[] = {23, 24, 25};
static const uint16_t ex_groups_grease[] = {0x2a2a, 23, 24, 25};
static const uint8_t ex_formats[] = {0};
#define EX_JA3 "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
#define EX_JA3_HASH "ada70206e40642a3e4461f35503241d5"

static void example_hello(struct hello *h, bool grease)
{
    memset(h, 0, sizeof(*h));
    h->version = 0x0301;
    h->ciphers = grease ? ex_ciphers_grease : ex_ciphers;
    h->nciphers = grease ? 14 : 12;
    h->exts = grease ? ex_exts_grease : ex_exts;
    h->nexts = grease ? 5 : 3;
    h->sni = "www.example.com";
    h->groups = grease ? ex_groups_grease : ex_groups;
    h->ngroups = grease ? 4 : 3;
    h->formats = ex_formats;
    h->nformats = 1;
}

/* The example ClientHello as wire bytes in m_wire, in records of frag bytes. */
static void example_wire(bool grease, size_t frag)
{
    struct hello h;

    example_hello(&h, grease);
    m_hs.n = 0;
    m_wire.n = 0;
    client_hello(&m_hs, &h);
    records(&m_wire, 22, m_hs.b, m_hs.n, frag);
}

static void check_example(const struct tls_state *s)
{
    CHECK_STR(buf_str(s, RULE_BUF_TLS_SNI), "www.example.com");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_STRING), EX_JA3);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    CHECK_INT(tls_state_progress(s), TLS_SEEN_CLIENT_HELLO);
    CHECK_INT(tls_version(s), 0x0301);
    CHECK_STR(tls_version_name(tls_version(s)), "TLSv1");
    for (int i = 0; i < TLS_EV_COUNT; i++)
        CHECK_INT(tls_state_events(s)[i], 0);
}

/* --- hashes --------------------------------------------------------------- */

static const char *md5_hex(const char *str, size_t len)
{
    uint8_t md[16];

    kanshi_md5((const uint8_t *)str, len, md);
    return hex(md, 16);
}

static const char *sha1_hex(const char *str, size_t len)
{
    uint8_t md[20];

    kanshi_sha1((const uint8_t *)str, len, md);
    return hex(md, 20);
}

TEST(md5_rfc1321)
{
    /* RFC 1321, appendix A.5 */
    CHECK_STR(md5_hex("", 0), "d41d8cd98f00b204e9800998ecf8427e");
    CHECK_STR(md5_hex("a", 1), "0cc175b9c0f1b6a831c399e269772661");
    CHECK_STR(md5_hex("abc", 3), "900150983cd24fb0d6963f7d28e17f72");
    CHECK_STR(md5_hex("message digest", 14), "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK_STR(md5_hex("abcdefghijklmnopqrstuvwxyz", 26), "c3fcd3d76192e4007dfb496cca67e13b");
    CHECK_STR(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 62),
              "d174ab98d277d9f5a5611c2c9f419d9f");
    CHECK_STR(md5_hex("123456789012345678901234567890123456789012345678901234567890123456789"
                      "01234567890",
                      80),
              "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(md5_block_edges)
{
    static char a[64];

    memset(a, 'a', sizeof(a));
    /* printf '%s' aaa... | md5sum */
    CHECK_STR(md5_hex(a, 55), "ef1772b6dff9a122358552954ad0df65");
    CHECK_STR(md5_hex(a, 56), "3b0c8ac703f828b04c6c197006d17218");
    CHECK_STR(md5_hex(a, 63), "b06521f39153d618550606be297466d5");
    CHECK_STR(md5_hex(a, 64), "014842d480b571495a4a0363793f7367");
}

TEST(sha1_fips)
{
    static char million[1000000];

    /* FIPS 180 examples */
    CHECK_STR(sha1_hex("abc", 3), "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK_STR(sha1_hex("", 0), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK_STR(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    memset(million, 'a', sizeof(million));
    CHECK_STR(sha1_hex(million, sizeof(million)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* printf '%s' aaa... | sha1sum */
    CHECK_STR(sha1_hex(million, 55), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    CHECK_STR(sha1_hex(million, 56), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    CHECK_STR(sha1_hex(million, 63), "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    CHECK_STR(sha1_hex(million, 64), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

/* --- ClientHello ---------------------------------------------------------- */

TEST(client_hello_ja3_published_example)
{
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_version(s), 0);
    CHECK_STR(tls_version_name(tls_version(s)), "UNDETERMINED");
    CHECK(!tls_buffer(s, RULE_BUF_TLS_SNI, 0, &(const uint8_t *){NULL}, &(size_t){0}));
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    check_example(s);
    /* not this parser's buffers */
    CHECK(!tls_buffer(s, RULE_BUF_HTTP_URI, 0, &(const uint8_t *){NULL}, &(size_t){0}));
    CHECK(!tls_buffer(s, RULE_BUF_TLS_JA3S_HASH, 0, &(const uint8_t *){NULL}, &(size_t){0}));
    CHECK(!tls_buffer(s, RULE_BUF_TLS_CERTS, 0, &(const uint8_t *){NULL}, &(size_t){0}));
    tls_state_destroy(s);
    tls_state_destroy(NULL);
}

TEST(client_hello_grease_removed)
{
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    example_wire(true, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    check_example(s);
    tls_state_destroy(s);
}

TEST(client_hello_byte_by_byte)
{
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    example_wire(true, 16384);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, 1), 0);
    check_example(s);
    tls_state_destroy(s);
}

TEST(client_hello_across_records)
{
    static const size_t frags[] = {1, 2, 3, 4, 5, 50, 100};
    static const size_t chunks[] = {1, 3, 7, 64, 100000};

    /* The message split over two records (frag 100), then over many, each
     * fed in various chunk sizes. */
    for (size_t f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct tls_state *s;

            CHECK_INT(tls_state_create(&s), 0);
            example_wire(true, frags[f]);
            CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, chunks[c]), 0);
            check_example(s);
            tls_state_destroy(s);
        }
    }
}

TEST(client_hello_modern_tls13)
{
    static const uint16_t ciphers[] = {0x3a3a, 4865, 4866, 4867, 49195};
    static const uint16_t exts[] = {0xbaba, 0,  23, 65281, 10, 11, 35, 16,    5,
                                    13,     18, 51, 45,    43, 27, 21, 0x4a4a};
    static const uint16_t groups[] = {0xdada, 29, 23, 24};
    static const uint16_t versions[] = {0x7a7a, 0x0304, 0x0303};
    static const uint8_t formats[] = {0};
    struct hello h = {
        .version = 0x0303,
        .ciphers = ciphers,
        .nciphers = 5,
        .exts = exts,
        .nexts = 17,
        .sni = "example.org",
        .groups = groups,
        .ngroups = 4,
        .formats = formats,
        .nformats = 1,
        .versions = versions,
        .nversions = 3,
    };
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    client_hello(&m_hs, &h);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_SNI), "example.org");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_STRING),
              "771,4865-4866-4867-49195,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,"
              "29-23-24,0");
    /* printf '%s' '771,...' | md5sum */
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), "070934f4b4bfe5718e3594e5b05d1153");
    CHECK_INT(tls_version(s), 0x0303); /* the ClientHello's own field until a ServerHello */
    tls_state_destroy(s);
}

TEST(client_hello_without_extensions)
{
    static const uint16_t ciphers[] = {47, 53};
    struct hello h = {.version = 0x0300, .ciphers = ciphers, .nciphers = 2, .no_ext_block = true};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    client_hello(&m_hs, &h);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_STRING), "768,47-53,,,");
    CHECK(buf_str(s, RULE_BUF_TLS_SNI) == NULL);
    CHECK_STR(tls_version_name(tls_version(s)), "SSLv3");
    tls_state_destroy(s);
}

TEST(client_hello_bad_lengths)
{
    struct tls_state *s;
    struct hello h;

    /* An extension length running past the block: event, no JA3, the
     * record layer still in step (a second record is read). */
    CHECK_INT(tls_state_create(&s), 0);
    example_hello(&h, false);
    m_hs.n = m_wire.n = 0;
    client_hello(&m_hs, &h);
    m_hs.b[m_hs.n - 3] = 0x7f; /* the formats extension's length */
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_HANDSHAKE], 1);
    CHECK(buf_str(s, RULE_BUF_TLS_JA3_STRING) == NULL);
    CHECK_INT(tls_state_progress(s) & TLS_SEEN_CLIENT_HELLO, 0);
    /* the next (good) ClientHello is taken */
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    tls_state_destroy(s);

    /* An odd cipher-suite length. */
    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    put8(&m_hs, 1);
    put24(&m_hs, 2 + 32 + 1 + 2 + 3 + 2);
    put16(&m_hs, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&m_hs, 0);
    put8(&m_hs, 0);
    put16(&m_hs, 3);
    put8(&m_hs, 0);
    put16(&m_hs, 47);
    put8(&m_hs, 1);
    put8(&m_hs, 0);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_HANDSHAKE], 1);
    CHECK_INT(tls_state_progress(s), 0);
    tls_state_destroy(s);
}

/* --- ServerHello, versions ----------------------------------------------- */

TEST(server_hello_ja3s_tls12)
{
    static const uint16_t exts[] = {65281, 0, 11, 16};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    m_hs.n = m_wire.n = 0;
    server_hello(&m_hs, 0x0303, 49199, exts, 4, 0);
    server_hello_done(&m_hs);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(feed(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n, 2), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3S_STRING), "771,49199,65281-0-11-16");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3S_HASH), "ae53107a2e47ea20c72ac44821a728bf");
    CHECK_INT(tls_state_progress(s), TLS_SEEN_CLIENT_HELLO | TLS_SEEN_SERVER_HELLO);
    CHECK_INT(tls_version(s), 0x0303);
    CHECK_STR(tls_version_name(tls_version(s)), "TLS 1.2");
    /* the ClientHello's JA3 is still there */
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    tls_state_destroy(s);
}

TEST(tls13_supported_versions_and_done)
{
    static const uint16_t exts[] = {51};
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    struct tls_state *s;
    const uint8_t *d;
    size_t n;

    CHECK_INT(tls_state_create(&s), 0);
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    m_hs.n = m_wire.n = 0;
    server_hello(&m_hs, 0x0303, 4865, exts, 1, 0x0304);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    putn(&m_wire, ccs, sizeof(ccs));
    /* An "encrypted" handshake record that happens to read as a
     * Certificate: after CCS it must not be parsed. */
    m_hs.n = 0;
    {
        const uint8_t *der[] = {leaf_der};
        size_t len[] = {sizeof(leaf_der)};

        certificate(&m_hs, der, len, 1);
    }
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_version(s), 0x0304);
    CHECK_STR(tls_version_name(tls_version(s)), "TLS 1.3");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3S_STRING), "771,4865,51-43");
    CHECK_INT(tls_state_progress(s) & (TLS_SEEN_CERT | TLS_SEEN_HS_DONE), 0);
    CHECK(!tls_buffer(s, RULE_BUF_TLS_CERTS, 0, &d, &n));
    /* the client's CCS and application data: both sides done */
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, ccs, sizeof(ccs)), 0);
    CHECK(tls_state_progress(s) & TLS_SEEN_HS_DONE);
    /* framing is still checked, content not read */
    m_wire.n = 0;
    records(&m_wire, 23, m_hs.b, m_hs.n, 100);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, 33), 0);
    example_wire(false, 16384); /* a second "ClientHello" inside the encrypted part */
    m_wire.b[10] = 0xff;
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, (const uint8_t *)"GET / HTTP/1.1\r\n", 16),
              KANSHI_EPARSE);
    tls_state_destroy(s);
}

TEST(application_data_ends_handshake)
{
    static const uint8_t app[] = {23, 3, 3, 0, 3, 1, 2, 3};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, app, sizeof(app)), 0);
    CHECK_INT(tls_state_progress(s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, app, sizeof(app)), 0);
    CHECK_INT(tls_state_progress(s), TLS_SEEN_HS_DONE);
    tls_state_destroy(s);
}

TEST(version_names)
{
    CHECK_STR(tls_version_name(0), "UNDETERMINED");
    CHECK_STR(tls_version_name(0x0002), "SSLv2");
    CHECK_STR(tls_version_name(0x0300), "SSLv3");
    CHECK_STR(tls_version_name(0x0301), "TLSv1");
    CHECK_STR(tls_version_name(0x0302), "TLS 1.1");
    CHECK_STR(tls_version_name(0x0303), "TLS 1.2");
    CHECK_STR(tls_version_name(0x0304), "TLS 1.3");
    CHECK_STR(tls_version_name(0x7f1c), "TLS 1.3 draft-28");
    CHECK_STR(tls_version_name(0x7f10), "TLS 1.3 draft-16");
    CHECK_STR(tls_version_name(0x7f05), "TLS 1.3 draft-<16");
    CHECK_STR(tls_version_name(0xfb1a), "TLS 1.3 draft-26-fb");
    CHECK_STR(tls_version_name(0x0305), "UNDETERMINED");
    CHECK_STR(tls_event_name(TLS_EV_BAD_RECORD), "bad_record");
    CHECK_STR(tls_event_name(TLS_EV_GAP), "gap");
    CHECK_STR(tls_event_name(TLS_EV_COUNT), "unknown");
    for (int i = 0; i < TLS_EV_COUNT; i++)
        CHECK(tls_event_name((enum tls_event)i) != NULL);
}

/* --- certificates --------------------------------------------------------- */

/* ServerHello, Certificate (leaf, CA), ServerHelloDone in one record. */
static void server_flight(const uint8_t *const *der, const size_t *len, size_t n, size_t frag)
{
    static const uint16_t exts[] = {65281};

    m_hs.n = m_wire.n = 0;
    server_hello(&m_hs, 0x0303, 49195, exts, 1, 0);
    certificate(&m_hs, der, len, n);
    server_hello_done(&m_hs);
    records(&m_wire, 22, m_hs.b, m_hs.n, frag);
}

TEST(certificate_chain)
{
    const uint8_t *der[] = {leaf_der, ca_der};
    size_t len[] = {sizeof(leaf_der), sizeof(ca_der)};
    static const size_t chunks[] = {100000, 1, 77};

    for (size_t c = 0; c < 3; c++) {
        struct tls_state *s;
        const uint8_t *d;
        size_t n;
        int64_t nb = 0, na = 0;

        CHECK_INT(tls_state_create(&s), 0);
        CHECK(!tls_cert_validity(s, &nb, &na));
        server_flight(der, len, 2, c == 2 ? 200 : 16384);
        CHECK_INT(feed(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n, chunks[c]), 0);
        CHECK_INT(tls_state_progress(s), TLS_SEEN_SERVER_HELLO | TLS_SEEN_CERT);
        CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SUBJECT),
                  "C=US, ST=California, L=San Francisco, O=Example Inc, OU=Security, "
                  "CN=www.example.com");
        CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_ISSUER),
                  "C=US, O=Kanshi Test CA, OU=Lab + CN=Kanshi Root");
        CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SERIAL), "00:8A:B1:C2:D3:E4:F5:06:17");
        CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_FINGERPRINT),
                  "94:38:cc:a0:d9:85:ea:2b:45:a0:60:4b:18:a1:a5:82:da:4f:56:cc");
        CHECK(tls_cert_validity(s, &nb, &na));
        CHECK_INT(nb, LEAF_NOT_BEFORE);
        CHECK_INT(na, LEAF_NOT_AFTER);
        CHECK(tls_buffer(s, RULE_BUF_TLS_CERTS, 0, &d, &n));
        CHECK(n == sizeof(leaf_der) && memcmp(d, leaf_der, n) == 0);
        CHECK(tls_buffer(s, RULE_BUF_TLS_CERTS, 1, &d, &n));
        CHECK(n == sizeof(ca_der) && memcmp(d, ca_der, n) == 0);
        CHECK(!tls_buffer(s, RULE_BUF_TLS_CERTS, 2, &d, &n));
        for (int i = 0; i < TLS_EV_COUNT; i++)
            CHECK_INT(tls_state_events(s)[i], 0);
        tls_state_destroy(s);
    }
}

TEST(certificate_v3_self_signed)
{
    const uint8_t *der[] = {ca_der};
    size_t len[] = {sizeof(ca_der)};
    struct tls_state *s;
    int64_t nb, na;

    CHECK_INT(tls_state_create(&s), 0);
    server_flight(der, len, 1, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SUBJECT),
              "C=US, O=Kanshi Test CA, OU=Lab + CN=Kanshi Root");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_ISSUER), buf_str(s, RULE_BUF_TLS_CERT_SUBJECT));
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SERIAL), "12:34");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_FINGERPRINT),
              "9b:00:61:70:39:5b:32:13:dc:24:df:ee:fc:02:e6:32:f4:01:4c:8c");
    CHECK(tls_cert_validity(s, &nb, &na));
    CHECK_INT(nb, LEAF_NOT_BEFORE);
    CHECK_INT(na, CA_NOT_AFTER);
    tls_state_destroy(s);
}

/* DER writer for crafted certificates. */
static void der_put(struct msg *m, uint8_t tag, const void *p, size_t n)
{
    put8(m, tag);
    if (n < 128) {
        put8(m, (unsigned)n);
    } else {
        put8(m, 0x82);
        put16(m, (unsigned)n);
    }
    putn(m, p, n);
}

static void der_atv(struct msg *m, const uint8_t *oid, size_t oid_len, uint8_t tag, const char *val,
                    size_t val_len)
{
    struct msg *t = &m_tmp;
    size_t start = t->n;

    der_put(t, 0x06, oid, oid_len);
    der_put(t, tag, val, val_len);
    der_put(m, 0x30, t->b + start, t->n - start);
    t->n = start;
}

TEST(certificate_crafted_names_and_times)
{
    static const uint8_t oid_c[] = {0x55, 0x04, 0x06}, oid_cn[] = {0x55, 0x04, 0x03},
                         oid_sn[] = {0x55, 0x04, 0x05},
                         oid_email[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01},
                         oid_dc[] = {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19},
                         oid_odd[] = {0x2a, 0x03, 0x04, 0x81, 0x00}, /* 1.2.3.4.128 */
        oid_jc[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03};
    static struct msg name, rdn, tbs, cert, val;
    const uint8_t *ders[1];
    size_t lens[1];
    struct tls_state *s;
    int64_t nb, na;

    /* subject: C=JP, DC=example + Email=a@example.com, OID(1.2.3.4.128)=<INTEGER 0102>,
     *          serialNumber=42, msJurisdictionCountry=DE, CN=x */
    name.n = 0;
    rdn.n = 0;
    der_atv(&rdn, oid_c, 3, 0x13, "JP", 2);
    der_put(&name, 0x31, rdn.b, rdn.n);
    rdn.n = 0;
    der_atv(&rdn, oid_dc, sizeof(oid_dc), 0x16, "example", 7);
    der_atv(&rdn, oid_email, sizeof(oid_email), 0x16, "a@example.com", 13);
    der_put(&name, 0x31, rdn.b, rdn.n);
    rdn.n = 0;
    der_atv(&rdn, oid_odd, sizeof(oid_odd), 0x02, "\x01\x02", 2);
    der_put(&name, 0x31, rdn.b, rdn.n);
    rdn.n = 0;
    der_atv(&rdn, oid_sn, 3, 0x13, "42", 2);
    der_put(&name, 0x31, rdn.b, rdn.n);
    rdn.n = 0;
    der_atv(&rdn, oid_jc, sizeof(oid_jc), 0x13, "DE", 2);
    der_put(&name, 0x31, rdn.b, rdn.n);
    rdn.n = 0;
    der_atv(&rdn, oid_cn, 3, 0x0c, "x", 1);
    der_put(&name, 0x31, rdn.b, rdn.n);

    tbs.n = 0;
    der_put(&tbs, 0x02, "\x05", 1);      /* serial */
    der_put(&tbs, 0x30, "", 0);          /* signature algorithm */
    der_put(&tbs, 0x30, name.b, name.n); /* issuer */
    val.n = 0;
    der_put(&val, 0x17, "491231235959Z", 13); /* 2049 */
    der_put(&val, 0x18, "19700101000000Z", 15);
    der_put(&tbs, 0x30, val.b, val.n);
    der_put(&tbs, 0x30, "", 0); /* empty subject */
    cert.n = 0;
    der_put(&cert, 0x30, tbs.b, tbs.n);
    tbs.n = 0;
    der_put(&tbs, 0x30, cert.b, cert.n);

    CHECK_INT(tls_state_create(&s), 0);
    ders[0] = tbs.b;
    lens[0] = tbs.n;
    server_flight(ders, lens, 1, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_CERT], 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_ISSUER),
              "C=JP, DC=example + Email=a@example.com, OID(1.2.3.4.128)=0102, serialNumber=42, "
              "msJurisdictionCountry=DE, CN=x");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SUBJECT), "");
    CHECK_STR(buf_str(s, RULE_BUF_TLS_CERT_SERIAL), "05");
    CHECK(tls_cert_validity(s, &nb, &na));
    CHECK_INT(nb, 2524607999); /* date -u -d '2049-12-31 23:59:59' +%s */
    CHECK_INT(na, 0);
    tls_state_destroy(s);

    /* UTCTime 50 is 1950; a bad month is a bad certificate. */
    tbs.n = 0;
    der_put(&tbs, 0x02, "\x05", 1);
    der_put(&tbs, 0x30, "", 0);
    der_put(&tbs, 0x30, "", 0);
    val.n = 0;
    der_put(&val, 0x17, "500101000000Z", 13);
    der_put(&val, 0x17, "501301000000Z", 13);
    der_put(&tbs, 0x30, val.b, val.n);
    der_put(&tbs, 0x30, "", 0);
    cert.n = 0;
    der_put(&cert, 0x30, tbs.b, tbs.n);
    tbs.n = 0;
    der_put(&tbs, 0x30, cert.b, cert.n);
    CHECK_INT(tls_state_create(&s), 0);
    ders[0] = tbs.b;
    lens[0] = tbs.n;
    server_flight(ders, lens, 1, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_CERT], 1);
    CHECK(!tls_cert_validity(s, &nb, &na));
    tbs.b[tbs.n - 13] = '0'; /* notAfter's month 13 -> 03 */
    tbs.b[tbs.n - 12] = '3';
    tls_state_destroy(s);
    CHECK_INT(tls_state_create(&s), 0);
    server_flight(ders, lens, 1, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_CERT], 0);
    CHECK(tls_cert_validity(s, &nb, &na));
    CHECK_INT(nb, -631152000); /* date -u -d 1950-01-01 +%s */
    tls_state_destroy(s);
}

TEST(certificate_bad_der)
{
    static const uint8_t junk[] = {0x30, 0x82, 0x10, 0x00, 1, 2, 3};
    const uint8_t *der[] = {junk, leaf_der};
    size_t len[] = {sizeof(junk), sizeof(leaf_der)};
    struct tls_state *s;
    const uint8_t *d;
    size_t n;

    CHECK_INT(tls_state_create(&s), 0);
    server_flight(der, len, 2, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_CERT], 1);
    CHECK(tls_state_progress(s) & TLS_SEEN_CERT);
    CHECK(buf_str(s, RULE_BUF_TLS_CERT_SUBJECT) == NULL);
    CHECK(buf_str(s, RULE_BUF_TLS_CERT_FINGERPRINT) == NULL);
    CHECK(tls_buffer(s, RULE_BUF_TLS_CERTS, 0, &d, &n));
    CHECK(n == sizeof(junk));
    CHECK(tls_buffer(s, RULE_BUF_TLS_CERTS, 1, &d, &n));
    CHECK(n == sizeof(leaf_der));
    tls_state_destroy(s);

    /* a certificate entry running past the list */
    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    put8(&m_hs, 11);
    put24(&m_hs, 3 + 3 + 10);
    put24(&m_hs, 3 + 10);
    put24(&m_hs, 11);
    for (int i = 0; i < 10; i++)
        put8(&m_hs, 0x30);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_HANDSHAKE], 1);
    CHECK_INT(tls_state_progress(s), 0);
    tls_state_destroy(s);
}

TEST(certificate_from_client_ignored)
{
    const uint8_t *der[] = {leaf_der};
    size_t len[] = {sizeof(leaf_der)};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    certificate(&m_hs, der, len, 1);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_progress(s), 0);
    CHECK(buf_str(s, RULE_BUF_TLS_CERT_SUBJECT) == NULL);
    tls_state_destroy(s);
}

/* --- framing -------------------------------------------------------------- */

TEST(bad_records_give_up)
{
    static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const uint8_t bad_major[] = {22, 4, 1, 0, 1, 0};
    static const uint8_t too_long[] = {23, 3, 3, 0x48, 0x01}; /* 18433 */
    static const uint8_t max_len[] = {23, 3, 3, 0x48, 0x00};  /* 18432 */
    static const uint8_t bad_type[] = {25, 3, 3, 0, 0};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, http, sizeof(http) - 1), KANSHI_EPARSE);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_RECORD], 1);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, http, 3), KANSHI_EPARSE);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_RECORD], 1);
    /* the other direction is on its own */
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    tls_state_destroy(s);

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, bad_major, sizeof(bad_major), 1), KANSHI_EPARSE);
    tls_state_destroy(s);

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, bad_type, sizeof(bad_type)), KANSHI_EPARSE);
    tls_state_destroy(s);

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, max_len, sizeof(max_len)), 0);
    tls_state_destroy(s);

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, too_long, 4), 0); /* not yet known */
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, too_long + 4, 1), KANSHI_EPARSE);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_RECORD], 1);
    CHECK_INT(tls_parse(s, 2, too_long, 1), -EINVAL);
    tls_state_destroy(s);
}

TEST(alert_and_heartbeat_ignored)
{
    static const uint8_t alert[] = {21, 3, 1, 0, 2, 1, 0};
    static const uint8_t heartbeat[] = {24, 3, 2, 0, 7, 1, 0x40, 0x00, 'a', 'b', 'c', 'd'};
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, heartbeat, sizeof(heartbeat)), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, alert, sizeof(alert)), 0);
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, alert, sizeof(alert)), 0);
    check_example(s);
    tls_state_destroy(s);
}

TEST(handshake_too_long)
{
    struct tls_state *s;
    size_t big = TLS_HS_MAX + 1;

    /* A 64 KiB + 1 message over five records, then a ClientHello that must
     * still be found: the long one was skipped, not kept. */
    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    put8(&m_hs, 1);
    put24(&m_hs, (unsigned)big);
    memset(m_hs.b + m_hs.n, 0x41, big);
    m_hs.n += big;
    {
        struct hello h;

        example_hello(&h, true);
        client_hello(&m_hs, &h);
    }
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, 1000), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_HS_TOO_LONG], 1);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    tls_state_destroy(s);

    /* exactly TLS_HS_MAX is kept (and parsed: a ClientHello padded) */
    CHECK_INT(tls_state_create(&s), 0);
    m_hs.n = m_wire.n = 0;
    {
        struct hello h;

        example_hello(&h, false);
        client_hello(&m_hs, &h);
    }
    {
        /* grow the message with trailing bytes up to TLS_HS_MAX */
        size_t body = m_hs.n - 4, pad = TLS_HS_MAX - body;

        memset(m_hs.b + m_hs.n, 0, pad);
        m_hs.n += pad;
        m_hs.b[1] = (uint8_t)(TLS_HS_MAX >> 16);
        m_hs.b[2] = (uint8_t)(TLS_HS_MAX >> 8);
        m_hs.b[3] = (uint8_t)TLS_HS_MAX;
    }
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, 5000), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_HS_TOO_LONG], 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_HANDSHAKE], 1); /* bytes after the extensions */
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3_HASH), EX_JA3_HASH);
    tls_state_destroy(s);
}

TEST(sslv2_client_hello)
{
    struct tls_state *s;
    static const uint16_t exts[] = {65281};

    CHECK_INT(tls_state_create(&s), 0);
    m_wire.n = 0;
    /* 2-byte header, CLIENT-HELLO, version 3.1, 3 cipher specs, no session
     * id, 16-byte challenge */
    put16(&m_wire, 0x8000 | (9 + 9 + 16));
    put8(&m_wire, 1);
    put16(&m_wire, 0x0301);
    put16(&m_wire, 9);
    put16(&m_wire, 0);
    put16(&m_wire, 16);
    put24(&m_wire, 0x010080);
    put24(&m_wire, 0x00002f);
    put24(&m_wire, 0x000035);
    for (int i = 0; i < 16; i++)
        put8(&m_wire, (unsigned)i);
    CHECK_INT(feed(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n, 1), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_SSLV2], 1);
    CHECK_INT(tls_state_progress(s), TLS_SEEN_CLIENT_HELLO);
    CHECK_INT(tls_version(s), 0x0301);
    CHECK(buf_str(s, RULE_BUF_TLS_JA3_HASH) == NULL);
    /* the server answers in TLS */
    m_hs.n = m_wire.n = 0;
    server_hello(&m_hs, 0x0301, 47, exts, 1, 0);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3S_STRING), "769,47,65281");
    /* the client goes on in TLS; an SSLv2 header after that is not TLS */
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, (const uint8_t *)"\x80\x05\x01", 3), KANSHI_EPARSE);
    tls_state_destroy(s);

    /* a high-bit first byte that is not a CLIENT-HELLO */
    CHECK_INT(tls_state_create(&s), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, (const uint8_t *)"\x80\x05\x07zzzz", 7),
              KANSHI_EPARSE);
    CHECK_INT(tls_state_events(s)[TLS_EV_SSLV2], 0);
    tls_state_destroy(s);

    /* pure SSLv2: SERVER-HELLO with version 0.2 */
    CHECK_INT(tls_state_create(&s), 0);
    m_wire.n = 0;
    put16(&m_wire, 0x8000 | 11);
    put8(&m_wire, 4);
    put8(&m_wire, 0);
    put8(&m_wire, 1);
    put16(&m_wire, 0x0002);
    put16(&m_wire, 0);
    put16(&m_wire, 0);
    put16(&m_wire, 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_progress(s), TLS_SEEN_SERVER_HELLO);
    CHECK_STR(tls_version_name(tls_version(s)), "SSLv2");
    tls_state_destroy(s);
}

TEST(gap_stops_direction)
{
    struct tls_state *s;

    CHECK_INT(tls_state_create(&s), 0);
    example_wire(false, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b, 20), 0);
    tls_gap(s, APP_DIR_TOSERVER);
    CHECK_INT(tls_state_events(s)[TLS_EV_GAP], 1);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, m_wire.b + 40, m_wire.n - 40), 0);
    CHECK_INT(tls_parse(s, APP_DIR_TOSERVER, (const uint8_t *)"junk", 4), 0);
    CHECK_INT(tls_state_progress(s), 0);
    CHECK_INT(tls_state_events(s)[TLS_EV_BAD_RECORD], 0);
    /* the other side still parses */
    m_hs.n = m_wire.n = 0;
    server_hello(&m_hs, 0x0303, 47, NULL, 0, 0);
    records(&m_wire, 22, m_hs.b, m_hs.n, 16384);
    CHECK_INT(tls_parse(s, APP_DIR_TOCLIENT, m_wire.b, m_wire.n), 0);
    CHECK_INT(tls_state_progress(s), TLS_SEEN_SERVER_HELLO);
    CHECK_STR(buf_str(s, RULE_BUF_TLS_JA3S_STRING), "771,47,");
    tls_state_destroy(s);
}

int main(void)
{
    RUN(md5_rfc1321);
    RUN(md5_block_edges);
    RUN(sha1_fips);
    RUN(client_hello_ja3_published_example);
    RUN(client_hello_grease_removed);
    RUN(client_hello_byte_by_byte);
    RUN(client_hello_across_records);
    RUN(client_hello_modern_tls13);
    RUN(client_hello_without_extensions);
    RUN(client_hello_bad_lengths);
    RUN(server_hello_ja3s_tls12);
    RUN(tls13_supported_versions_and_done);
    RUN(application_data_ends_handshake);
    RUN(version_names);
    RUN(certificate_chain);
    RUN(certificate_v3_self_signed);
    RUN(certificate_crafted_names_and_times);
    RUN(certificate_bad_der);
    RUN(certificate_from_client_ignored);
    RUN(bad_records_give_up);
    RUN(alert_and_heartbeat_ignored);
    RUN(handshake_too_long);
    RUN(sslv2_client_hello);
    RUN(gap_stops_direction);
    return test_summary("app_tls");
}
