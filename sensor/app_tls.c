/*
 * app_tls.c — TLS handshake parser (see include/kanshi/app_tls.h).
 *
 * Each direction is two nested byte streams.  The record layer reads
 * 5-byte headers (type 20-24, major version 3, length at most 2^14 + 2048,
 * as Suricata accepts) and skips record bodies; anything else makes the
 * direction give up (TLS_EV_BAD_RECORD, KANSHI_EPARSE).  The bodies of
 * handshake records are concatenated into the handshake stream, where
 * 4-byte message headers (type, 24-bit length) frame messages that may
 * span records and tls_parse() calls; a message is gathered in a per-
 * direction buffer that grows to the message's size, at most TLS_HS_MAX
 * (when a whole message sits in one call's bytes it is parsed in place).
 *
 * Only the first ClientHello (to server), ServerHello and Certificate (to
 * client) are decoded, as Suricata keeps the first ones.  A direction stops
 * looking at handshake content at its first ChangeCipherSpec or
 * application_data record — what follows is encrypted — but keeps walking
 * record headers, which costs nothing and still catches a stream that is
 * not TLS.  An SSLv2 record (2-byte header, high bit set) is accepted at
 * the start of a direction and then until the first TLS record; its
 * CLIENT-HELLO / SERVER-HELLO give the versions.
 *
 * Strings handed out by tls_buffer() are copies, NUL-terminated for
 * convenience; their lengths are explicit, and SNI and names may hold any
 * byte.  X.509 is read by a small bounded DER reader (single-byte tags,
 * definite lengths of at most 4 bytes) only as far as the serial, issuer,
 * validity and subject of the server's first certificate.  Names are
 * rendered as Suricata's x509 module does: RDNs joined by ", ", values of a
 * multi-valued RDN by " + ", attributes as C, ST, L, O, OU, CN, DC, Email or
 * the OID registry's short name ("serialNumber", ...), else "OID(2.5.4.99)";
 * string values as their bytes, other values as upper-case hex.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/app_tls.h"
#include "kanshi/kanshi.h"

#define TLS_REC_MAX (16384 + 2048) /* record body, as Suricata accepts */
#define TLS_MAX_CERTS 16 /* certificates of the chain kept as buffers */

enum {
    TLS_REC_CCS = 20,
    TLS_REC_ALERT = 21,
    TLS_REC_HANDSHAKE = 22,
    TLS_REC_APPDATA = 23,
    TLS_REC_HEARTBEAT = 24,
    TLS_REC_SSLV2 = 0x80, /* our mark for a record with an SSLv2 header */
};

enum {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_CERTIFICATE = 11,
};

struct tls_str {
    char *p; /* NULL when absent; else len bytes and a '\0' */
    size_t len;
};

struct tls_dir {
    /* record layer */
    uint8_t hdr[5];
    uint8_t hdr_len;
    bool in_body;
    uint8_t rec_type;
    uint32_t rec_len, rec_left;
    uint32_t records; /* records whose header was read */
    bool sslv2;       /* SSLv2 records allowed (direction started with one) */
    bool failed;      /* not TLS: gave up */
    bool lost;        /* a gap: ignoring the rest */
    bool done;        /* past ChangeCipherSpec / application data */
    /* handshake stream */
    uint8_t hs_hdr[4];
    uint8_t hs_hdr_len;
    bool hs_skip; /* message over TLS_HS_MAX (or no memory): not kept */
    uint32_t hs_len, hs_got;
    uint8_t *buf; /* a message being gathered, or an SSLv2 record body */
    size_t buf_cap;
};

struct tls_state {
    struct tls_dir d[2];
    uint32_t progress;
    uint16_t ch_version, sh_version, sh_selected;
    struct tls_str sni, ja3, ja3_hash, ja3s, ja3s_hash;
    struct tls_str subject, issuer, serial, fingerprint;
    uint8_t *certmsg; /* copy of the Certificate message */
    uint32_t ncerts;
    uint32_t cert_off[TLS_MAX_CERTS], cert_len[TLS_MAX_CERTS];
    bool have_validity;
    int64_t not_before, not_after;
    uint32_t events[TLS_EV_COUNT];
};

static const char *const tls_event_names[TLS_EV_COUNT] = {
    [TLS_EV_BAD_RECORD] = "bad_record",
    [TLS_EV_BAD_HANDSHAKE] = "bad_handshake",
    [TLS_EV_HS_TOO_LONG] = "handshake_too_long",
    [TLS_EV_BAD_CERT] = "bad_certificate",
    [TLS_EV_SSLV2] = "sslv2",
    [TLS_EV_GAP] = "gap",
};

const char *tls_event_name(enum tls_event ev)
{
    if ((unsigned)ev >= TLS_EV_COUNT)
        return "unknown";
    return tls_event_names[ev];
}

static void tls_event(struct tls_state *s, enum tls_event ev)
{
    s->events[ev]++;
}

/* --- small helpers --------------------------------------------------------- */

static void tls_str_free(struct tls_str *t)
{
    free(t->p);
    t->p = NULL;
    t->len = 0;
}

/* A growing string with a fixed capacity chosen up front; appends past it
 * are dropped and remembered. */
struct tls_sb {
    char *p;
    size_t len, cap;
    bool over;
};

static int tls_sb_init(struct tls_sb *b, size_t cap)
{
    b->p = malloc(cap + 1);
    b->len = 0;
    b->cap = cap;
    b->over = false;
    return b->p == NULL ? -ENOMEM : 0;
}

static void tls_sb_put(struct tls_sb *b, const void *data, size_t n)
{
    if (n > b->cap - b->len) {
        n = b->cap - b->len;
        b->over = true;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void tls_sb_str(struct tls_sb *b, const char *str)
{
    tls_sb_put(b, str, strlen(str));
}

static void tls_sb_hex(struct tls_sb *b, const uint8_t *p, size_t n, bool upper, char sep)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        char c[3];
        size_t k = 0;

        if (sep != 0 && i > 0)
            c[k++] = sep;
        c[k++] = digits[p[i] >> 4];
        c[k++] = digits[p[i] & 15];
        tls_sb_put(b, c, k);
    }
}

/* Moves the builder's text into t (shrinking the allocation). */
static void tls_sb_take(struct tls_sb *b, struct tls_str *t)
{
    char *q;

    b->p[b->len] = '\0';
    q = realloc(b->p, b->len + 1);
    tls_str_free(t);
    t->p = q != NULL ? q : b->p;
    t->len = b->len;
    b->p = NULL;
}

static void tls_sb_drop(struct tls_sb *b)
{
    free(b->p);
    b->p = NULL;
}

/* Stores MD5(text) in lower-case hex. */
static int tls_md5_hex(const struct tls_str *text, struct tls_str *out)
{
    uint8_t md[16];
    struct tls_sb b;

    if (tls_sb_init(&b, 32) != 0)
        return -ENOMEM;
    kanshi_md5((const uint8_t *)text->p, text->len, md);
    tls_sb_hex(&b, md, sizeof(md), false, 0);
    tls_sb_take(&b, out);
    return 0;
}

static bool tls_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 12) == ((v >> 4) & 15);
}

/* Appends v to a '-' separated JA3 list unless it is GREASE. */
static void tls_ja3_add(struct tls_sb *b, uint16_t v, bool *first)
{
    char num[8];
    int n;

    if (tls_grease(v))
        return;
    n = snprintf(num, sizeof(num), "%s%u", *first ? "" : "-", (unsigned)v);
    tls_sb_put(b, num, (size_t)n);
    *first = false;
}

/* Bounded big-endian reader; a read past the end sets bad and returns 0. */
struct tls_rd {
    const uint8_t *p;
    size_t len, off;
    bool bad;
};

static const uint8_t *tls_rd_bytes(struct tls_rd *r, size_t n)
{
    const uint8_t *q;

    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

static uint32_t tls_rd_uint(struct tls_rd *r, size_t n)
{
    const uint8_t *q = tls_rd_bytes(r, n);
    uint32_t v = 0;

    for (size_t i = 0; q != NULL && i < n; i++)
        v = v << 8 | q[i];
    return v;
}

static size_t tls_rd_left(const struct tls_rd *r)
{
    return r->bad ? 0 : r->len - r->off;
}

/* --- X.509 ----------------------------------------------------------------- */

/* Reads one DER TLV from *p and *left: single-byte tag, definite length of at
 * most 4 length bytes, contents inside the input.  0 or -1. */
static int der_next(const uint8_t **p, size_t *left, uint8_t *tag, const uint8_t **val,
                    size_t *vlen)
{
    const uint8_t *q = *p;
    size_t n = *left, len;

    if (n < 2 || (q[0] & 0x1f) == 0x1f)
        return -1;
    *tag = q[0];
    if (q[1] < 0x80) {
        len = q[1];
        q += 2;
        n -= 2;
    } else {
        size_t k = q[1] & 0x7f;

        if (k == 0 || k > 4 || n - 2 < k)
            return -1;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | q[2 + i];
        q += 2 + k;
        n -= 2 + k;
    }
    if (len > n)
        return -1;
    *val = q;
    *vlen = len;
    *p = q + len;
    *left = n - len;
    return 0;
}

static const struct {
    uint8_t len;
    uint8_t der[10];
    const char *name;
} x509_oids[] = {
    {10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, "DC"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, "Email"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02}, "unstructuredName"},
    {10, {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01}, NULL}, /* prefix */
};

/* 2.5.4.n attribute names: the abbreviations Suricata's x509 module uses,
 * else the OID registry's short names. */
static const char *const x509_at_names[] = {
    [0] = "objectClass",
    [1] = "aliasedEntryName",
    [2] = "knowledgeInformation",
    [3] = "CN",
    [4] = "surname",
    [5] = "serialNumber",
    [6] = "C",
    [7] = "L",
    [8] = "ST",
    [9] = "streetAddress",
    [10] = "O",
    [11] = "OU",
    [12] = "title",
    [13] = "description",
    [14] = "searchGuide",
    [15] = "businessCategory",
    [16] = "postalAddress",
    [17] = "postalCode",
    [41] = "name",
    [42] = "givenName",
    [43] = "initials",
    [44] = "generationQualifier",
    [45] = "uniqueIdentifier",
    [46] = "dnQualifier",
};

static const char *x509_oid_name(const uint8_t *o, size_t n)
{
    static const char *const jurisdiction[] = {
        NULL, "msJurisdictionLocality", "msJurisdictionStateOrProvince", "msJurisdictionCountry"};

    if (n == 3 && o[0] == 0x55 && o[1] == 0x04 &&
        o[2] < sizeof(x509_at_names) / sizeof(x509_at_names[0]))
        return x509_at_names[o[2]];
    for (size_t i = 0; i < sizeof(x509_oids) / sizeof(x509_oids[0]); i++) {
        if (x509_oids[i].name == NULL) {
            if (n == 11U && memcmp(o, x509_oids[i].der, 10) == 0 && o[10] >= 1 && o[10] <= 3)
                return jurisdiction[o[10]];
        } else if (n == x509_oids[i].len && memcmp(o, x509_oids[i].der, n) == 0) {
            return x509_oids[i].name;
        }
    }
    return NULL;
}

/* "OID(1.2.840.113549.1.9.99)"; -1 when the encoding is broken. */
static int x509_oid_dotted(struct tls_sb *b, const uint8_t *o, size_t n)
{
    uint64_t v = 0;
    bool first = true;
    char num[24];

    if (n == 0 || (o[n - 1] & 0x80))
        return -1;
    tls_sb_str(b, "OID(");
    for (size_t i = 0; i < n; i++) {
        if (v > (UINT64_MAX >> 7))
            return -1;
        v = v << 7 | (o[i] & 0x7f);
        if (o[i] & 0x80)
            continue;
        if (first) {
            uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;

            snprintf(num, sizeof(num), "%u.", (unsigned)a);
            tls_sb_str(b, num);
            v -= a * 40;
            first = false;
        } else {
            tls_sb_str(b, ".");
        }
        snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
        tls_sb_str(b, num);
        v = 0;
    }
    tls_sb_str(b, ")");
    return 0;
}

static bool x509_string_tag(uint8_t tag)
{
    switch (tag) {
    case 0x07: /* ObjectDescriptor */
    case 0x0c: /* UTF8String */
    case 0x12: /* NumericString */
    case 0x13: /* PrintableString */
    case 0x14: /* T61String */
    case 0x15: /* VideotexString */
    case 0x16: /* IA5String */
    case 0x19: /* GraphicString */
    case 0x1a: /* VisibleString */
    case 0x1b: /* GeneralString */
    case 0x1e: /* BMPString */
        return true;
    default:
        return false;
    }
}

/* Renders a Name (the contents of its SEQUENCE). */
static int x509_name(const uint8_t *p, size_t n, struct tls_str *out)
{
    struct tls_sb b;
    bool first_rdn = true;

    if (tls_sb_init(&b, TLS_CERT_MAX) != 0)
        return -ENOMEM;
    while (n > 0) {
        const uint8_t *set, *atv, *oid, *val;
        size_t set_len, atv_len, oid_len, val_len;
        uint8_t tag;
        bool first_atv = true;

        if (der_next(&p, &n, &tag, &set, &set_len) != 0 || tag != 0x31)
            goto bad;
        while (set_len > 0) {
            const char *name;

            if (der_next(&set, &set_len, &tag, &atv, &atv_len) != 0 || tag != 0x30)
                goto bad;
            if (der_next(&atv, &atv_len, &tag, &oid, &oid_len) != 0 || tag != 0x06)
                goto bad;
            if (der_next(&atv, &atv_len, &tag, &val, &val_len) != 0)
                goto bad;
            if (!first_atv)
                tls_sb_str(&b, " + ");
            else if (!first_rdn)
                tls_sb_str(&b, ", ");
            name = x509_oid_name(oid, oid_len);
            if (name != NULL)
                tls_sb_str(&b, name);
            else if (x509_oid_dotted(&b, oid, oid_len) != 0)
                goto bad;
            tls_sb_str(&b, "=");
            if (x509_string_tag(tag))
                tls_sb_put(&b, val, val_len);
            else
                tls_sb_hex(&b, val, val_len, true, 0);
            first_atv = false;
        }
        if (first_atv) /* an empty RDN */
            goto bad;
        first_rdn = false;
    }
    if (b.over)
        goto bad;
    tls_sb_take(&b, out);
    return 0;
bad:
    tls_sb_drop(&b);
    return -1;
}

static int x509_digits(const uint8_t *p, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t x509_days(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* UTCTime "YYMMDDHHMMSSZ" (YY < 50: 20YY) or GeneralizedTime
 * "YYYYMMDDHHMMSSZ" to seconds since the epoch. */
static int x509_time(uint8_t tag, const uint8_t *p, size_t n, int64_t *out)
{
    static const uint8_t mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;
    size_t yl;

    if (tag == 0x17 && n == 13)
        yl = 2;
    else if (tag == 0x18 && n == 15)
        yl = 4;
    else
        return -1;
    if (p[n - 1] != 'Z')
        return -1;
    y = x509_digits(p, yl);
    mo = x509_digits(p + yl, 2);
    d = x509_digits(p + yl + 2, 2);
    h = x509_digits(p + yl + 4, 2);
    mi = x509_digits(p + yl + 6, 2);
    sec = x509_digits(p + yl + 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 60)
        return -1;
    if (yl == 2)
        y += y < 50 ? 2000 : 1900;
    *out = x509_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

/* Decodes the server's first certificate into s.  0, -1 (not X.509 as far
 * as we read), -ENOMEM. */
static int x509_parse(struct tls_state *s, const uint8_t *der, size_t len)
{
    const uint8_t *cert, *tbs, *v, *serial, *issuer, *validity, *subject;
    size_t cert_len, tbs_len, vl, serial_len, issuer_len, validity_len, subject_len;
    struct tls_str subj = {0}, iss = {0}, ser = {0}, fp = {0};
    struct tls_sb b;
    int64_t nb, na;
    uint8_t tag, md[20];
    int rc;

    if (der_next(&der, &len, &tag, &cert, &cert_len) != 0 || tag != 0x30)
        return -1;
    if (der_next(&cert, &cert_len, &tag, &tbs, &tbs_len) != 0 || tag != 0x30)
        return -1;
    if (der_next(&tbs, &tbs_len, &tag, &v, &vl) != 0)
        return -1;
    if (tag == 0xa0 && der_next(&tbs, &tbs_len, &tag, &v, &vl) != 0)
        return -1;
    if (tag != 0x02 || vl == 0)
        return -1;
    serial = v;
    serial_len = vl;
    if (der_next(&tbs, &tbs_len, &tag, &v, &vl) != 0 || tag != 0x30) /* signature alg */
        return -1;
    if (der_next(&tbs, &tbs_len, &tag, &issuer, &issuer_len) != 0 || tag != 0x30)
        return -1;
    if (der_next(&tbs, &tbs_len, &tag, &validity, &validity_len) != 0 || tag != 0x30)
        return -1;
    if (der_next(&tbs, &tbs_len, &tag, &subject, &subject_len) != 0 || tag != 0x30)
        return -1;
    if (der_next(&validity, &validity_len, &tag, &v, &vl) != 0 || x509_time(tag, v, vl, &nb))
        return -1;
    if (der_next(&validity, &validity_len, &tag, &v, &vl) != 0 || x509_time(tag, v, vl, &na))
        return -1;

    if ((rc = x509_name(issuer, issuer_len, &iss)) != 0)
        goto out;
    if ((rc = x509_name(subject, subject_len, &subj)) != 0)
        goto out;
    if ((rc = tls_sb_init(&b, serial_len * 3)) != 0)
        goto out;
    tls_sb_hex(&b, serial, serial_len, true, ':');
    tls_sb_take(&b, &ser);
    if ((rc = tls_sb_init(&b, 20 * 3)) != 0)
        goto out;
    kanshi_sha1(s->certmsg + s->cert_off[0], s->cert_len[0], md);
    tls_sb_hex(&b, md, sizeof(md), false, ':');
    tls_sb_take(&b, &fp);

    s->subject = subj;
    s->issuer = iss;
    s->serial = ser;
    s->fingerprint = fp;
    s->not_before = nb;
    s->not_after = na;
    s->have_validity = true;
    return 0;
out:
    tls_str_free(&subj);
    tls_str_free(&iss);
    tls_str_free(&ser);
    tls_str_free(&fp);
    return rc;
}

/* --- handshake messages ---------------------------------------------------- */

/* Walks the extension block of a hello; calls back per extension.  false
 * when the block's lengths do not add up. */
static bool tls_ext_ok(const uint8_t *p, size_t n)
{
    struct tls_rd r = {p, n, 0, false};

    while (tls_rd_left(&r) > 0) {
        tls_rd_uint(&r, 2);
        tls_rd_bytes(&r, tls_rd_uint(&r, 2));
    }
    return !r.bad;
}

/* Server name: the first host_name entry. */
static int tls_sni(struct tls_state *s, const uint8_t *p, size_t n)
{
    struct tls_rd r = {p, n, 0, false};
    struct tls_rd l;
    const uint8_t *list;
    size_t list_len = tls_rd_uint(&r, 2);

    list = tls_rd_bytes(&r, list_len);
    if (list == NULL)
        return -1;
    l = (struct tls_rd){list, list_len, 0, false};
    while (tls_rd_left(&l) > 0) {
        uint8_t type = (uint8_t)tls_rd_uint(&l, 1);
        size_t name_len = tls_rd_uint(&l, 2);
        const uint8_t *name = tls_rd_bytes(&l, name_len);

        if (name == NULL)
            return -1;
        if (type == 0 && s->sni.p == NULL) {
            s->sni.p = malloc(name_len + 1);
            if (s->sni.p == NULL)
                return -ENOMEM;
            memcpy(s->sni.p, name, name_len);
            s->sni.p[name_len] = '\0';
            s->sni.len = name_len;
        }
    }
    return 0;
}

static int tls_client_hello(struct tls_state *s, const uint8_t *p, size_t len)
{
    struct tls_rd r = {p, len, 0, false};
    const uint8_t *cs, *ext = NULL, *groups = NULL, *formats = NULL;
    size_t cs_len, ext_len = 0, groups_len = 0, formats_len = 0;
    uint16_t version;
    struct tls_sb b;
    bool first;
    int rc = 0;

    version = (uint16_t)tls_rd_uint(&r, 2);
    tls_rd_bytes(&r, 32);
    tls_rd_bytes(&r, tls_rd_uint(&r, 1)); /* session id */
    cs_len = tls_rd_uint(&r, 2);
    cs = tls_rd_bytes(&r, cs_len);
    tls_rd_bytes(&r, tls_rd_uint(&r, 1)); /* compression methods */
    if (tls_rd_left(&r) > 0) {
        ext_len = tls_rd_uint(&r, 2);
        ext = tls_rd_bytes(&r, ext_len);
    }
    if (r.bad || cs_len % 2 != 0 || !tls_ext_ok(ext, ext_len)) {
        tls_event(s, TLS_EV_BAD_HANDSHAKE);
        return 0;
    }
    if (tls_rd_left(&r) > 0) /* bytes after the extensions */
        tls_event(s, TLS_EV_BAD_HANDSHAKE);
    s->ch_version = version;
    s->progress |= TLS_SEEN_CLIENT_HELLO;

    /* Extensions first (SNI, groups, point formats), then the JA3 string. */
    for (struct tls_rd e = {ext, ext_len, 0, false}; tls_rd_left(&e) > 0;) {
        uint16_t type = (uint16_t)tls_rd_uint(&e, 2);
        size_t n = tls_rd_uint(&e, 2);
        const uint8_t *d = tls_rd_bytes(&e, n);
        struct tls_rd x = {d, n, 0, false};

        switch (type) {
        case 0: /* server_name */
            rc = tls_sni(s, d, n);
            if (rc == -ENOMEM)
                return rc;
            if (rc != 0)
                tls_event(s, TLS_EV_BAD_HANDSHAKE);
            break;
        case 10: /* supported_groups */
            if (groups == NULL) {
                groups_len = tls_rd_uint(&x, 2);
                groups = tls_rd_bytes(&x, groups_len);
                if (groups == NULL || groups_len % 2 != 0) {
                    tls_event(s, TLS_EV_BAD_HANDSHAKE);
                    groups = NULL;
                    groups_len = 0;
                }
            }
            break;
        case 11: /* ec_point_formats */
            if (formats == NULL) {
                formats_len = tls_rd_uint(&x, 1);
                formats = tls_rd_bytes(&x, formats_len);
                if (formats == NULL) {
                    tls_event(s, TLS_EV_BAD_HANDSHAKE);
                    formats_len = 0;
                }
            }
            break;
        default:
            break;
        }
    }

    /* Each 2-byte value becomes at most 6 characters, a point format 4. */
    if (tls_sb_init(&b, 16 + 3 * (cs_len + ext_len) + 4 * formats_len) != 0)
        return -ENOMEM;
    tls_ja3_add(&b, version, &(bool){true});
    tls_sb_str(&b, ",");
    first = true;
    for (size_t i = 0; i + 1 < cs_len; i += 2)
        tls_ja3_add(&b, (uint16_t)(cs[i] << 8 | cs[i + 1]), &first);
    tls_sb_str(&b, ",");
    first = true;
    for (struct tls_rd e = {ext, ext_len, 0, false}; tls_rd_left(&e) > 0;) {
        tls_ja3_add(&b, (uint16_t)tls_rd_uint(&e, 2), &first);
        tls_rd_bytes(&e, tls_rd_uint(&e, 2));
    }
    tls_sb_str(&b, ",");
    first = true;
    for (size_t i = 0; i + 1 < groups_len; i += 2)
        tls_ja3_add(&b, (uint16_t)(groups[i] << 8 | groups[i + 1]), &first);
    tls_sb_str(&b, ",");
    first = true;
    for (size_t i = 0; i < formats_len; i++)
        tls_ja3_add(&b, formats[i], &first);
    tls_sb_take(&b, &s->ja3);
    return tls_md5_hex(&s->ja3, &s->ja3_hash);
}

static int tls_server_hello(struct tls_state *s, const uint8_t *p, size_t len)
{
    struct tls_rd r = {p, len, 0, false};
    const uint8_t *ext = NULL;
    size_t ext_len = 0;
    uint16_t version, cipher, selected = 0;
    struct tls_sb b;
    bool first;

    version = (uint16_t)tls_rd_uint(&r, 2);
    tls_rd_bytes(&r, 32);
    tls_rd_bytes(&r, tls_rd_uint(&r, 1)); /* session id */
    cipher = (uint16_t)tls_rd_uint(&r, 2);
    tls_rd_uint(&r, 1); /* compression method */
    if (tls_rd_left(&r) > 0) {
        ext_len = tls_rd_uint(&r, 2);
        ext = tls_rd_bytes(&r, ext_len);
    }
    if (r.bad || !tls_ext_ok(ext, ext_len)) {
        tls_event(s, TLS_EV_BAD_HANDSHAKE);
        return 0;
    }
    if (tls_rd_left(&r) > 0)
        tls_event(s, TLS_EV_BAD_HANDSHAKE);

    if (tls_sb_init(&b, 32 + 3 * ext_len) != 0)
        return -ENOMEM;
    tls_ja3_add(&b, version, &(bool){true});
    tls_sb_str(&b, ",");
    tls_ja3_add(&b, cipher, &(bool){true});
    tls_sb_str(&b, ",");
    first = true;
    for (struct tls_rd e = {ext, ext_len, 0, false}; tls_rd_left(&e) > 0;) {
        uint16_t type = (uint16_t)tls_rd_uint(&e, 2);
        size_t n = tls_rd_uint(&e, 2);
        const uint8_t *d = tls_rd_bytes(&e, n);

        tls_ja3_add(&b, type, &first);
        if (type == 43) { /* supported_versions: the selected version */
            if (n == 2)
                selected = (uint16_t)(d[0] << 8 | d[1]);
            else
                tls_event(s, TLS_EV_BAD_HANDSHAKE);
        }
    }
    tls_sb_take(&b, &s->ja3s);
    s->sh_version = version;
    s->sh_selected = selected;
    s->progress |= TLS_SEEN_SERVER_HELLO;
    return tls_md5_hex(&s->ja3s, &s->ja3s_hash);
}

static int tls_certificate(struct tls_state *s, const uint8_t *p, size_t len)
{
    struct tls_rd r = {p, len, 0, false};
    size_t list_len = tls_rd_uint(&r, 3);
    int rc;

    if (r.bad || list_len != tls_rd_left(&r)) {
        tls_event(s, TLS_EV_BAD_HANDSHAKE);
        if (r.bad)
            return 0;
        if (list_len < r.len - r.off)
            r.len = r.off + list_len;
    }
    if (tls_rd_left(&r) == 0)
        return 0;
    s->certmsg = malloc(len);
    if (s->certmsg == NULL)
        return -ENOMEM;
    memcpy(s->certmsg, p, len);
    while (tls_rd_left(&r) > 0) {
        size_t n = tls_rd_uint(&r, 3);
        size_t off = r.off;

        if (tls_rd_bytes(&r, n) == NULL) {
            tls_event(s, TLS_EV_BAD_HANDSHAKE);
            break;
        }
        if (s->ncerts < TLS_MAX_CERTS) {
            s->cert_off[s->ncerts] = (uint32_t)off;
            s->cert_len[s->ncerts] = (uint32_t)n;
            s->ncerts++;
        }
    }
    if (s->ncerts == 0) {
        free(s->certmsg);
        s->certmsg = NULL;
        return 0;
    }
    s->progress |= TLS_SEEN_CERT;
    rc = x509_parse(s, s->certmsg + s->cert_off[0], s->cert_len[0]);
    if (rc == -1)
        tls_event(s, TLS_EV_BAD_CERT);
    return rc == -ENOMEM ? rc : 0;
}

static int tls_hs_message(struct tls_state *s, int dir, uint8_t type, const uint8_t *p, size_t len)
{
    switch (type) {
    case TLS_HS_CLIENT_HELLO:
        if (dir == APP_DIR_TOSERVER && !(s->progress & TLS_SEEN_CLIENT_HELLO) && s->ja3.p == NULL)
            return tls_client_hello(s, p, len);
        break;
    case TLS_HS_SERVER_HELLO:
        if (dir == APP_DIR_TOCLIENT && !(s->progress & TLS_SEEN_SERVER_HELLO))
            return tls_server_hello(s, p, len);
        break;
    case TLS_HS_CERTIFICATE:
        if (dir == APP_DIR_TOCLIENT && s->certmsg == NULL)
            return tls_certificate(s, p, len);
        break;
    default:
        break;
    }
    return 0;
}

/* --- handshake stream ------------------------------------------------------ */

/* Makes room for n bytes (n <= TLS_HS_MAX) in d->buf. */
static int tls_reserve(struct tls_dir *d, size_t n)
{
    uint8_t *q;

    if (n <= d->buf_cap)
        return 0;
    q = realloc(d->buf, n);
    if (q == NULL)
        return -ENOMEM;
    d->buf = q;
    d->buf_cap = n;
    return 0;
}

static int tls_hs_feed(struct tls_state *s, int dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &s->d[dir];
    int rc = 0, r;

    while (n > 0) {
        size_t take;

        if (d->hs_hdr_len < 4) {
            take = 4u - d->hs_hdr_len;
            if (take > n)
                take = n;
            memcpy(d->hs_hdr + d->hs_hdr_len, p, take);
            d->hs_hdr_len = (uint8_t)(d->hs_hdr_len + take);
            p += take;
            n -= take;
            if (d->hs_hdr_len < 4)
                break;
            d->hs_len = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
            d->hs_got = 0;
            d->hs_skip = false;
            if (d->hs_len > TLS_HS_MAX) {
                tls_event(s, TLS_EV_HS_TOO_LONG);
                d->hs_skip = true;
            } else if (d->hs_len == 0) {
                r = tls_hs_message(s, dir, d->hs_hdr[0], p, 0);
                if (r != 0)
                    rc = r;
                d->hs_hdr_len = 0;
                continue;
            } else if (n >= d->hs_len) { /* whole message here: parse in place */
                r = tls_hs_message(s, dir, d->hs_hdr[0], p, d->hs_len);
                if (r != 0)
                    rc = r;
                p += d->hs_len;
                n -= d->hs_len;
                d->hs_hdr_len = 0;
                continue;
            } else if (tls_reserve(d, d->hs_len) != 0) {
                rc = -ENOMEM;
                d->hs_skip = true;
            }
            continue;
        }
        take = d->hs_len - d->hs_got;
        if (take > n)
            take = n;
        if (!d->hs_skip)
            memcpy(d->buf + d->hs_got, p, take);
        d->hs_got += (uint32_t)take;
        p += take;
        n -= take;
        if (d->hs_got == d->hs_len) {
            if (!d->hs_skip) {
                r = tls_hs_message(s, dir, d->hs_hdr[0], d->buf, d->hs_len);
                if (r != 0)
                    rc = r;
            }
            d->hs_hdr_len = 0;
            d->hs_skip = false;
        }
    }
    return rc;
}

/* --- record layer ---------------------------------------------------------- */

static void tls_dir_done(struct tls_state *s, int dir)
{
    struct tls_dir *d = &s->d[dir];

    if (d->done)
        return;
    d->done = true;
    d->hs_hdr_len = 0;
    d->hs_skip = false;
    free(d->buf);
    d->buf = NULL;
    d->buf_cap = 0;
    if (s->d[0].done && s->d[1].done)
        s->progress |= TLS_SEEN_HS_DONE;
}

static void tls_dir_fail(struct tls_state *s, int dir)
{
    struct tls_dir *d = &s->d[dir];

    tls_event(s, TLS_EV_BAD_RECORD);
    d->failed = true;
    free(d->buf);
    d->buf = NULL;
    d->buf_cap = 0;
}

/* A record header is complete: -1 when it is not TLS. */
static int tls_record_start(struct tls_state *s, int dir)
{
    struct tls_dir *d = &s->d[dir];
    const uint8_t *h = d->hdr;

    d->records++;
    if (h[0] & 0x80) {
        d->rec_type = TLS_REC_SSLV2;
        d->rec_len = (uint32_t)(h[0] & 0x7f) << 8 | h[1];
        if (d->rec_len == 0)
            return -1;
    } else {
        d->rec_type = h[0];
        d->rec_len = (uint32_t)h[3] << 8 | h[4];
        if (h[0] < TLS_REC_CCS || h[0] > TLS_REC_HEARTBEAT || h[1] != 3 || d->rec_len > TLS_REC_MAX)
            return -1;
        d->sslv2 = false;
        if (h[0] == TLS_REC_CCS || h[0] == TLS_REC_APPDATA)
            tls_dir_done(s, dir);
    }
    d->rec_left = d->rec_len;
    d->in_body = true;
    return 0;
}

/* An SSLv2 record body is complete in d->buf (first record only). */
static void tls_sslv2_record(struct tls_state *s, int dir)
{
    struct tls_dir *d = &s->d[dir];
    const uint8_t *b = d->buf;
    size_t n = d->rec_len;

    if (dir == APP_DIR_TOSERVER && b[0] == 1 && n >= 9) {
        size_t cs = (size_t)b[3] << 8 | b[4], sid = (size_t)b[5] << 8 | b[6],
               chal = (size_t)b[7] << 8 | b[8];

        if (9 + cs + sid + chal > n || cs % 3 != 0) {
            tls_event(s, TLS_EV_BAD_HANDSHAKE);
            return;
        }
        if (!(s->progress & TLS_SEEN_CLIENT_HELLO)) {
            s->ch_version = (uint16_t)(b[1] << 8 | b[2]);
            s->progress |= TLS_SEEN_CLIENT_HELLO;
        }
    } else if (dir == APP_DIR_TOCLIENT && b[0] == 4 && n >= 11) {
        if (!(s->progress & TLS_SEEN_SERVER_HELLO)) {
            s->sh_version = (uint16_t)(b[3] << 8 | b[4]);
            s->progress |= TLS_SEEN_SERVER_HELLO;
        }
    } else {
        tls_event(s, TLS_EV_BAD_HANDSHAKE);
    }
}

int tls_parse(struct tls_state *s, int dir, const uint8_t *data, size_t len)
{
    struct tls_dir *d;
    int rc = 0, r;

    if (s == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return -EINVAL;
    d = &s->d[dir];
    if (d->failed)
        return KANSHI_EPARSE;
    if (d->lost)
        return 0;
    while (len > 0) {
        size_t take;

        if (!d->in_body) {
            size_t need;

            if (d->hdr_len == 0 && (data[0] & 0x80)) {
                if (d->records == 0) {
                    d->sslv2 = true;
                } else if (!d->sslv2) {
                    tls_dir_fail(s, dir);
                    return KANSHI_EPARSE;
                }
            }
            if (d->hdr_len == 0)
                d->hdr[0] = data[0];
            need = (d->hdr[0] & 0x80) ? 2 : 5;
            take = need - d->hdr_len;
            if (take > len)
                take = len;
            memcpy(d->hdr + d->hdr_len, data, take);
            d->hdr_len = (uint8_t)(d->hdr_len + take);
            data += take;
            len -= take;
            if (d->hdr_len < need)
                break;
            if (tls_record_start(s, dir) != 0) {
                tls_dir_fail(s, dir);
                return KANSHI_EPARSE;
            }
        } else {
            take = d->rec_left;
            if (take > len)
                take = len;
            if (d->done) {
                /* encrypted: only framing */
            } else if (d->rec_type == TLS_REC_HANDSHAKE) {
                r = tls_hs_feed(s, dir, data, take);
                if (r != 0)
                    rc = r;
            } else if (d->rec_type == TLS_REC_SSLV2 && d->records == 1) {
                size_t at = d->rec_len - d->rec_left;

                if (at == 0 && ((dir == APP_DIR_TOSERVER && data[0] != 1) ||
                                (dir == APP_DIR_TOCLIENT && data[0] != 4))) {
                    tls_dir_fail(s, dir);
                    return KANSHI_EPARSE;
                }
                if (at == 0)
                    tls_event(s, TLS_EV_SSLV2);
                if (at == 0 && tls_reserve(d, d->rec_len) != 0)
                    rc = -ENOMEM;
                if (d->buf_cap >= d->rec_len)
                    memcpy(d->buf + at, data, take);
            }
            data += take;
            len -= take;
            d->rec_left -= (uint32_t)take;
        }
        if (d->in_body && d->rec_left == 0) {
            if (d->rec_type == TLS_REC_SSLV2 && d->records == 1 && !d->done &&
                d->buf_cap >= d->rec_len)
                tls_sslv2_record(s, dir);
            d->in_body = false;
            d->hdr_len = 0;
        }
    }
    return rc;
}

void tls_gap(struct tls_state *s, int dir)
{
    if (s == NULL || (dir != APP_DIR_TOSERVER && dir != APP_DIR_TOCLIENT))
        return;
    tls_event(s, TLS_EV_GAP);
    /* Record boundaries are lost with the bytes: stop reading this side. */
    s->d[dir].lost = true;
    free(s->d[dir].buf);
    s->d[dir].buf = NULL;
    s->d[dir].buf_cap = 0;
}

/* --- state and accessors --------------------------------------------------- */

int tls_state_create(struct tls_state **out)
{
    struct tls_state *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -ENOMEM;
    *out = s;
    return 0;
}

void tls_state_destroy(struct tls_state *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < 2; i++)
        free(s->d[i].buf);
    tls_str_free(&s->sni);
    tls_str_free(&s->ja3);
    tls_str_free(&s->ja3_hash);
    tls_str_free(&s->ja3s);
    tls_str_free(&s->ja3s_hash);
    tls_str_free(&s->subject);
    tls_str_free(&s->issuer);
    tls_str_free(&s->serial);
    tls_str_free(&s->fingerprint);
    free(s->certmsg);
    free(s);
}

uint32_t tls_state_progress(const struct tls_state *s)
{
    return s->progress;
}

bool tls_buffer(const struct tls_state *s, enum rule_buffer id, uint32_t idx, const uint8_t **data,
                size_t *len)
{
    const struct tls_str *t;

    switch (id) {
    case RULE_BUF_TLS_SNI:
        t = &s->sni;
        break;
    case RULE_BUF_TLS_CERT_SUBJECT:
        t = &s->subject;
        break;
    case RULE_BUF_TLS_CERT_ISSUER:
        t = &s->issuer;
        break;
    case RULE_BUF_TLS_CERT_SERIAL:
        t = &s->serial;
        break;
    case RULE_BUF_TLS_CERT_FINGERPRINT:
        t = &s->fingerprint;
        break;
    case RULE_BUF_TLS_JA3_HASH:
        t = &s->ja3_hash;
        break;
    case RULE_BUF_TLS_JA3_STRING:
        t = &s->ja3;
        break;
    case RULE_BUF_TLS_JA3S_HASH:
        t = &s->ja3s_hash;
        break;
    case RULE_BUF_TLS_JA3S_STRING:
        t = &s->ja3s;
        break;
    case RULE_BUF_TLS_CERTS:
        if (idx >= s->ncerts)
            return false;
        *data = s->certmsg + s->cert_off[idx];
        *len = s->cert_len[idx];
        return true;
    default:
        return false;
    }
    if (t->p == NULL)
        return false;
    *data = (const uint8_t *)t->p;
    *len = t->len;
    return true;
}

uint16_t tls_version(const struct tls_state *s)
{
    if (s->progress & TLS_SEEN_SERVER_HELLO)
        return s->sh_selected != 0 ? s->sh_selected : s->sh_version;
    if (s->progress & TLS_SEEN_CLIENT_HELLO)
        return s->ch_version;
    return 0;
}

const char *tls_version_name(uint16_t v)
{
    static const char *const drafts[] = {
        "TLS 1.3 draft-16", "TLS 1.3 draft-17", "TLS 1.3 draft-18", "TLS 1.3 draft-19",
        "TLS 1.3 draft-20", "TLS 1.3 draft-21", "TLS 1.3 draft-22", "TLS 1.3 draft-23",
        "TLS 1.3 draft-24", "TLS 1.3 draft-25", "TLS 1.3 draft-26", "TLS 1.3 draft-27",
        "TLS 1.3 draft-28",
    };

    switch (v) {
    case 0x0002:
        return "SSLv2";
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLSv1";
    case 0x0302:
        return "TLS 1.1";
    case 0x0303:
        return "TLS 1.2";
    case 0x0304:
        return "TLS 1.3";
    case 0xfb14:
        return "TLS 1.3 draft-20-fb";
    case 0xfb15:
        return "TLS 1.3 draft-21-fb";
    case 0xfb16:
        return "TLS 1.3 draft-22-fb";
    case 0xfb17:
        return "TLS 1.3 draft-23-fb";
    case 0xfb1a:
        return "TLS 1.3 draft-26-fb";
    default:
        break;
    }
    if (v >= 0x7f10 && v <= 0x7f1c)
        return drafts[v - 0x7f10];
    if (v >= 0x7f01 && v < 0x7f10)
        return "TLS 1.3 draft-<16";
    return "UNDETERMINED";
}

bool tls_cert_validity(const struct tls_state *s, int64_t *not_before, int64_t *not_after)
{
    if (!s->have_validity)
        return false;
    *not_before = s->not_before;
    *not_after = s->not_after;
    return true;
}

const uint32_t *tls_state_events(const struct tls_state *s)
{
    return s->events;
}
