/*
 * ingest.c — checks an alert's JSON, takes out the indexed fields and puts
 * the registry's identity into its "kanshi" object (see ingest.h).
 *
 * A small validating recursive-descent reader over the bytes, written for
 * this one job: the collector must not trust a field the sensor wrote, so it
 * needs to know exactly where each top-level member and each member of
 * "kanshi" starts and ends, and what its key means once unescaped.  Members
 * it keeps are copied byte for byte; nothing is re-serialised.
 *
 * Recursion is bounded by INGEST_MAX_DEPTH, and the top level and the kanshi
 * object may hold at most INGEST_MAX_MEMBERS members each (an EVE alert has
 * about twenty), so memory and stack stay bounded whatever arrives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ingest.h"
#include "kanshi/eve.h"
#include "kanshi/kanshi.h"

#define INGEST_MAX_MEMBERS 256
#define INGEST_KEY_MAX 32 /* longer keys are kept but never match one of ours */

struct ij {
    const uint8_t *p, *end;
};

struct ij_member {
    char key[INGEST_KEY_MAX + 1];
    bool key_long;              /* decoded key did not fit: matches nothing */
    const uint8_t *start;       /* the key's opening quote */
    const uint8_t *value, *end; /* the value, end exclusive */
};

struct ij_obj {
    struct ij *j;
    int depth;
    bool first, done;
};

static int ij_value(struct ij *j, int depth);

static void ij_ws(struct ij *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Length of the well-formed UTF-8 sequence at s (first byte >= 0x80), or 0. */
static size_t ij_utf8(const uint8_t *s, size_t n)
{
    uint8_t c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Appends the UTF-8 of code point cp to buf if it fits whole. */
static void ij_put_cp(char *buf, size_t cap, size_t *n, bool *cut, uint32_t cp)
{
    uint8_t u[4];
    size_t len;

    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        len = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        len = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        len = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        len = 4;
    }
    if (*cut || *n + len > cap) {
        *cut = true;
        return;
    }
    memcpy(buf + *n, u, len);
    *n += len;
}

static int ij_u4(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    uint32_t v = 0;

    if (end - p < 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++) {
        int h = kanshi_hexval(p[i]);
        if (h < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)h;
    }
    *cp = v;
    return 0;
}

/*
 * A string at j->p (its opening quote).  Checks it and, when buf is not NULL,
 * decodes it into buf (cap bytes, NUL added; *cut set when it did not fit
 * and was stopped at a character boundary).  A lone surrogate escape is
 * valid JSON; it decodes as U+FFFD.
 */
static int ij_string(struct ij *j, char *buf, size_t cap, bool *cut)
{
    size_t n = 0;
    bool cut_local = false;

    if (cut == NULL)
        cut = &cut_local;
    *cut = false;
    if (buf != NULL && cap == 0)
        return -EINVAL;
    if (buf != NULL)
        cap--; /* room for the NUL */
    if (j->p >= j->end || *j->p != '"')
        return -EINVAL;
    j->p++;
    for (;;) {
        uint8_t c;
        if (j->p >= j->end)
            return -EINVAL;
        c = *j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            uint32_t cp;
            if (j->end - j->p < 2)
                return -EINVAL;
            switch (j->p[1]) {
            case '"':
            case '\\':
            case '/':
                cp = j->p[1];
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u':
                if (ij_u4(j->p + 2, j->end, &cp) != 0)
                    return -EINVAL;
                j->p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff && j->end - j->p >= 8 && j->p[2] == '\\' &&
                    j->p[3] == 'u') {
                    uint32_t lo;
                    if (ij_u4(j->p + 4, j->end, &lo) != 0)
                        return -EINVAL;
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        j->p += 6;
                    }
                }
                if (cp >= 0xd800 && cp <= 0xdfff)
                    cp = 0xfffd;
                break;
            default:
                return -EINVAL;
            }
            j->p += 2;
            if (buf != NULL)
                ij_put_cp(buf, cap, &n, cut, cp);
            continue;
        }
        if (c < 0x80) {
            if (buf != NULL)
                ij_put_cp(buf, cap, &n, cut, c);
            j->p++;
            continue;
        }
        {
            size_t len = ij_utf8(j->p, (size_t)(j->end - j->p));
            if (len == 0)
                return -EINVAL;
            if (buf != NULL) {
                if (*cut || n + len > cap)
                    *cut = true;
                else {
                    memcpy(buf + n, j->p, len);
                    n += len;
                }
            }
            j->p += len;
        }
    }
    if (buf != NULL)
        buf[n] = '\0';
    return 0;
}

static bool ij_digit(const struct ij *j)
{
    return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static int ij_number(struct ij *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (!ij_digit(j))
        return -EINVAL;
    if (*j->p == '0')
        j->p++;
    else
        while (ij_digit(j))
            j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!ij_digit(j))
            return -EINVAL;
        while (ij_digit(j))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!ij_digit(j))
            return -EINVAL;
        while (ij_digit(j))
            j->p++;
    }
    return 0;
}

static int ij_literal(struct ij *j, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return -EINVAL;
    j->p += n;
    return 0;
}

/* ---- objects ------------------------------------------------------------------------------ */

static int ij_obj_open(struct ij_obj *o, struct ij *j, int depth)
{
    if (depth > INGEST_MAX_DEPTH || j->p >= j->end || *j->p != '{')
        return -EINVAL;
    *o = (struct ij_obj){.j = j, .depth = depth, .first = true};
    j->p++;
    ij_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        o->done = true;
    }
    return 0;
}

/*
 * The next member's key: 1 with m's key and start set and j->p at the value;
 * 0 when the object ended (its '}' consumed); <0 when malformed.
 */
static int ij_obj_key(struct ij_obj *o, struct ij_member *m)
{
    struct ij *j = o->j;
    int rc;

    if (o->done)
        return 0;
    if (!o->first) {
        if (j->p >= j->end)
            return -EINVAL;
        if (*j->p == '}') {
            j->p++;
            o->done = true;
            return 0;
        }
        if (*j->p != ',')
            return -EINVAL;
        j->p++;
        ij_ws(j);
    }
    o->first = false;
    m->start = j->p;
    if ((rc = ij_string(j, m->key, sizeof(m->key), &m->key_long)) != 0)
        return rc;
    ij_ws(j);
    if (j->p >= j->end || *j->p != ':')
        return -EINVAL;
    j->p++;
    ij_ws(j);
    m->value = j->p;
    return 1;
}

/* Ends the member whose value has just been read. */
static void ij_obj_value_done(struct ij *j, struct ij_member *m)
{
    m->end = j->p;
    ij_ws(j);
}

/* The next whole member: as ij_obj_key, with the value read too. */
static int ij_obj_next(struct ij_obj *o, struct ij_member *m)
{
    int rc = ij_obj_key(o, m);

    if (rc != 1)
        return rc;
    if ((rc = ij_value(o->j, o->depth + 1)) != 0)
        return rc;
    ij_obj_value_done(o->j, m);
    return 1;
}

static bool ij_key_is(const struct ij_member *m, const char *key)
{
    return !m->key_long && strcmp(m->key, key) == 0;
}

static int ij_value(struct ij *j, int depth)
{
    if (depth > INGEST_MAX_DEPTH || j->p >= j->end)
        return -EINVAL;
    switch (*j->p) {
    case '{': {
        struct ij_obj o;
        struct ij_member m;
        int rc;
        if ((rc = ij_obj_open(&o, j, depth)) != 0)
            return rc;
        while ((rc = ij_obj_next(&o, &m)) == 1)
            ;
        return rc;
    }
    case '[':
        j->p++;
        ij_ws(j);
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return 0;
        }
        for (;;) {
            int rc = ij_value(j, depth + 1);
            if (rc != 0)
                return rc;
            ij_ws(j);
            if (j->p >= j->end)
                return -EINVAL;
            if (*j->p == ']') {
                j->p++;
                return 0;
            }
            if (*j->p != ',')
                return -EINVAL;
            j->p++;
            ij_ws(j);
        }
    case '"':
        return ij_string(j, NULL, 0, NULL);
    case 't':
        return ij_literal(j, "true");
    case 'f':
        return ij_literal(j, "false");
    case 'n':
        return ij_literal(j, "null");
    default:
        return ij_number(j);
    }
}

/* ---- field extraction --------------------------------------------------------------------- */

/* The member's value decoded as a string into buf; false when not a string. */
static bool ij_get_string(const struct ij_member *m, char *buf, size_t cap)
{
    struct ij j = {m->value, m->end};

    return *m->value == '"' && ij_string(&j, buf, cap, NULL) == 0;
}

/* A non-negative integer written without fraction or exponent. */
static bool ij_get_uint(const struct ij_member *m, int64_t max, int64_t *out)
{
    int64_t v = 0;

    if (m->value == m->end)
        return false;
    for (const uint8_t *p = m->value; p < m->end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (max - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* An address in its canonical text form, so searches need not guess how the
 * sensor wrote it; anything else is kept as written. */
static void ij_get_ip(const struct ij_member *m, char *buf, size_t cap)
{
    unsigned char bin[16];

    if (!ij_get_string(m, buf, cap)) {
        buf[0] = '\0';
        return;
    }
    if (inet_pton(AF_INET, buf, bin) == 1)
        inet_ntop(AF_INET, bin, buf, (socklen_t)cap);
    else if (inet_pton(AF_INET6, buf, bin) == 1)
        inet_ntop(AF_INET6, bin, buf, (socklen_t)cap);
}

static void ij_top_field(const struct ij_member *m, struct ingest_fields *f)
{
    int64_t v;

    if (ij_key_is(m, "timestamp")) {
        char ts[64];
        if (!ij_get_string(m, ts, sizeof(ts)) ||
            ingest_parse_time(ts, strlen(ts), &f->alert_time) != 0)
            f->alert_time = 0;
    } else if (ij_key_is(m, "src_ip")) {
        ij_get_ip(m, f->src_ip, sizeof(f->src_ip));
    } else if (ij_key_is(m, "dest_ip")) {
        ij_get_ip(m, f->dest_ip, sizeof(f->dest_ip));
    } else if (ij_key_is(m, "src_port")) {
        f->src_port = ij_get_uint(m, 65535, &v) ? (int)v : -1;
    } else if (ij_key_is(m, "dest_port")) {
        f->dest_port = ij_get_uint(m, 65535, &v) ? (int)v : -1;
    } else if (ij_key_is(m, "proto")) {
        if (!ij_get_string(m, f->proto, sizeof(f->proto)))
            f->proto[0] = '\0';
    }
}

static void ij_alert_field(const struct ij_member *m, struct ingest_fields *f)
{
    int64_t v;

    if (ij_key_is(m, "signature_id")) {
        f->sid = ij_get_uint(m, INT64_MAX, &v) ? v : -1;
    } else if (ij_key_is(m, "severity")) {
        f->severity = ij_get_uint(m, 255, &v) && v > 0 ? (int)v : 0;
    } else if (ij_key_is(m, "signature")) {
        if (!ij_get_string(m, f->signature, sizeof(f->signature)))
            f->signature[0] = '\0';
    }
}

/* Members the collector writes and the sensor may not: the identity, and
 * the sequence number (the wire's, not the JSON's). */
static bool ij_reserved(const struct ij_member *m)
{
    return ij_key_is(m, "sensor_id") || ij_key_is(m, "organisation") || ij_key_is(m, "tier") ||
           ij_key_is(m, "supervising_ministry") || ij_key_is(m, "seq");
}

/* ---- the alert ---------------------------------------------------------------------------- */

struct ij_span {
    const uint8_t *s, *e;
};

struct ij_alert {
    struct ij_span top[INGEST_MAX_MEMBERS];
    bool top_kanshi[INGEST_MAX_MEMBERS];
    size_t ntop;
    struct ij_span kanshi[INGEST_MAX_MEMBERS]; /* kept members of every "kanshi" */
    size_t nkanshi;
};

static void ij_identity_field(const struct ij_member *m, struct ingest_fields *f)
{
    int64_t v;

    if (ij_key_is(m, "sensor_id")) {
        if (!ij_get_string(m, f->sensor_id, sizeof(f->sensor_id)))
            f->sensor_id[0] = '\0';
    } else if (ij_key_is(m, "organisation")) {
        if (!ij_get_string(m, f->org, sizeof(f->org)))
            f->org[0] = '\0';
    } else if (ij_key_is(m, "tier")) {
        f->tier = ij_get_uint(m, 255, &v) ? (unsigned)v : 0;
    }
}

static int ij_parse_kanshi(struct ij *j, struct ij_alert *a, struct ingest_fields *f)
{
    struct ij_obj o;
    struct ij_member m;
    int rc;

    if ((rc = ij_obj_open(&o, j, 2)) != 0)
        return rc;
    while ((rc = ij_obj_next(&o, &m)) == 1) {
        if (ij_reserved(&m)) {
            ij_identity_field(&m, f);
            continue;
        }
        if (a->nkanshi == INGEST_MAX_MEMBERS)
            return -EINVAL;
        a->kanshi[a->nkanshi++] = (struct ij_span){m.start, m.end};
    }
    return rc;
}

static int ij_parse_alert_obj(struct ij *j, struct ingest_fields *f)
{
    struct ij_obj o;
    struct ij_member m;
    int rc;

    if ((rc = ij_obj_open(&o, j, 2)) != 0)
        return rc;
    while ((rc = ij_obj_next(&o, &m)) == 1)
        ij_alert_field(&m, f);
    return rc;
}

static int ij_parse(const uint8_t *p, size_t len, struct ij_alert *a, struct ingest_fields *f)
{
    struct ij j = {p, p + len};
    struct ij_obj o;
    struct ij_member m;
    int rc;

    ij_ws(&j);
    if ((rc = ij_obj_open(&o, &j, 1)) != 0)
        return rc;
    while ((rc = ij_obj_key(&o, &m)) == 1) {
        bool is_kanshi = ij_key_is(&m, "kanshi");

        /* The two objects looked inside are read member by member. */
        if (is_kanshi && j.p < j.end && *j.p == '{')
            rc = ij_parse_kanshi(&j, a, f);
        else if (ij_key_is(&m, "alert") && j.p < j.end && *j.p == '{')
            rc = ij_parse_alert_obj(&j, f);
        else
            rc = ij_value(&j, 2);
        if (rc != 0)
            return rc;
        ij_obj_value_done(&j, &m);
        if (!is_kanshi)
            ij_top_field(&m, f);
        if (a->ntop == INGEST_MAX_MEMBERS)
            return -EINVAL;
        a->top_kanshi[a->ntop] = is_kanshi;
        a->top[a->ntop++] = (struct ij_span){m.start, m.end};
    }
    if (rc != 0)
        return rc;
    ij_ws(&j);
    return j.p == j.end ? 0 : -EINVAL;
}

static void ij_emit_kanshi(struct jbuf *out, const struct ij_alert *a, const char *ident,
                           size_t ident_len)
{
    jbuf_raw(out, "\"kanshi\":{", 10);
    jbuf_raw(out, ident, ident_len);
    for (size_t i = 0; i < a->nkanshi; i++) {
        if (i > 0 || ident_len > 0)
            jbuf_raw(out, ",", 1);
        jbuf_raw(out, (const char *)a->kanshi[i].s, (size_t)(a->kanshi[i].e - a->kanshi[i].s));
    }
    jbuf_raw(out, "}", 1);
}

int ingest_alert(const uint8_t *p, size_t len, const char *ident, size_t ident_len,
                 struct ingest_fields *f, struct jbuf *out)
{
    struct ij_alert a; /* 8 KB */
    size_t start = out->len;
    bool kanshi_done = false;
    int rc;

    memset(f, 0, sizeof(*f));
    f->sid = -1;
    f->src_port = f->dest_port = -1;
    a.ntop = a.nkanshi = 0;
    if ((rc = ij_parse(p, len, &a, f)) != 0)
        return rc;
    jbuf_raw(out, "{", 1);
    for (size_t i = 0; i < a.ntop; i++) {
        if (a.top_kanshi[i] && kanshi_done)
            continue;
        if (out->len > start + 1)
            jbuf_raw(out, ",", 1);
        if (a.top_kanshi[i]) {
            ij_emit_kanshi(out, &a, ident, ident_len);
            kanshi_done = true;
        } else {
            jbuf_raw(out, (const char *)a.top[i].s, (size_t)(a.top[i].e - a.top[i].s));
        }
    }
    if (!kanshi_done) {
        if (out->len > start + 1)
            jbuf_raw(out, ",", 1);
        ij_emit_kanshi(out, &a, ident, ident_len);
    }
    jbuf_raw(out, "}", 1);
    if (!jbuf_ok(out))
        return -ENOMEM;
    return 0;
}

/* ---- timestamps --------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static int64_t ingest_days(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at s[*i] as a number. */
static bool ingest_digits(const char *s, size_t len, size_t *i, size_t n, unsigned *out)
{
    unsigned v = 0;

    if (*i + n > len)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool ingest_sep(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

int ingest_parse_time(const char *s, size_t len, int64_t *usec)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    int64_t frac = 0, scale = 100000, off = 0;
    size_t i = 0;

    if (!ingest_digits(s, len, &i, 4, &y) || !ingest_sep(s, len, &i, '-') ||
        !ingest_digits(s, len, &i, 2, &mo) || !ingest_sep(s, len, &i, '-') ||
        !ingest_digits(s, len, &i, 2, &d))
        return -EINVAL;
    if (i >= len || (s[i] != 'T' && s[i] != ' '))
        return -EINVAL;
    i++;
    if (!ingest_digits(s, len, &i, 2, &h) || !ingest_sep(s, len, &i, ':') ||
        !ingest_digits(s, len, &i, 2, &mi) || !ingest_sep(s, len, &i, ':') ||
        !ingest_digits(s, len, &i, 2, &sec))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return -EINVAL;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            frac += (s[i] - '0') * scale; /* digits past microseconds add 0 */
            scale /= 10;
        }
    }
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        if (!ingest_digits(s, len, &i, 2, &oh))
            return -EINVAL;
        if (i < len && s[i] == ':')
            i++;
        if (!ingest_digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    } else if (i < len && s[i] == 'Z') {
        i++;
    }
    if (i != len)
        return -EINVAL;
    *usec = ((ingest_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000000 + frac;
    return 0;
}
