/*
 * rule_parse.c — turns Suricata/Snort rule text into struct rule.
 *
 *   action proto src_addr src_port dir dst_addr dst_port (kw; kw:value; ...)
 *
 * The header is parsed here (actions and protocols are tables); addresses and
 * ports go to rule_addr.c.  Options are dispatched through one keyword table:
 * each keyword has a small parse function that fills in the rule, so adding a
 * keyword is one function and one table row.  A rule either loads whole or is
 * reported once ("KEYWORD: reason", or "header: reason") and dropped; loading
 * a file never stops at a bad rule.
 *
 * Content modifiers (nocase, depth, within, fast_pattern, ...) apply to the
 * most recent content.  Checks that depend on the whole rule (fast_pattern
 * restrictions, the sid, the priority) run once all options are read.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kanshi/app.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "rule_int.h"

#define RULE_MAX_LEN (64 * 1024) /* one rule, continuation lines joined */

/* ---- the (gid, sid) index ---------------------------------------------- */

struct sid_slot {
    uint64_t key; /* gid << 32 | sid; 0 marks a free slot (sid 0 is invalid) */
    size_t idx;   /* index in rs->rules */
};

static size_t sid_hash(uint64_t key, size_t cap)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static struct sid_slot *sid_find(const struct rs_priv *pv, uint64_t key)
{
    if (pv->cap == 0)
        return NULL;
    for (size_t i = sid_hash(key, pv->cap);; i = (i + 1) & (pv->cap - 1)) {
        if (pv->slots[i].key == key)
            return &pv->slots[i];
        if (pv->slots[i].key == 0)
            return NULL;
    }
}

static void sid_put(struct rs_priv *pv, uint64_t key, size_t idx)
{
    size_t i = sid_hash(key, pv->cap);

    while (pv->slots[i].key != 0)
        i = (i + 1) & (pv->cap - 1);
    pv->slots[i].key = key;
    pv->slots[i].idx = idx;
    pv->n++;
}

/* Makes room for one more key, keeping the table at most half full. */
static int sid_reserve(struct rs_priv *pv)
{
    struct sid_slot *old = pv->slots;
    size_t oldcap = pv->cap, ncap = pv->cap ? pv->cap * 2 : 1024;

    if ((pv->n + 1) * 2 <= pv->cap)
        return 0;
    pv->slots = kanshi_calloc(ncap, sizeof(*pv->slots));
    if (pv->slots == NULL) {
        pv->slots = old;
        return -ENOMEM;
    }
    pv->cap = ncap;
    pv->n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key != 0)
            sid_put(pv, old[i].key, old[i].idx);
    free(old);
    return 0;
}

/* ---- parse state and errors -------------------------------------------- */

int rp_fail(struct rparse *p, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    return code;
}

bool rule_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#define is_blank rule_is_blank
#define trim rule_trim
#define parse_int rule_parse_int
#define unquote rule_unquote

char *rule_trim(char *s)
{
    char *e;

    while (is_blank(*s))
        s++;
    e = s + strlen(s);
    while (e > s && is_blank(e[-1]))
        *--e = '\0';
    return s;
}

int rule_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    bool neg = false;
    int64_t v = 0;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int rule_parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
    uint64_t v = 0;
    bool neg = false;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (*s == '\0')
            return -1;
        for (; *s != '\0'; s++) {
            int d = isxdigit((unsigned char)*s)
                        ? (isdigit((unsigned char)*s) ? *s - '0' : (*s | 32) - 'a' + 10)
                        : -1;
            if (d < 0 || v > (UINT64_MAX >> 4))
                return -1;
            v = v << 4 | (uint64_t)d;
        }
        if (v > (uint64_t)INT64_MAX)
            return -1;
        int64_t sv = neg ? -(int64_t)v : (int64_t)v;
        if (sv < min || sv > max)
            return -1;
        *out = sv;
        return 0;
    }
    return rule_parse_int(s - neg, min, max, out);
}

char *rule_unquote(char *v)
{
    size_t n = strlen(v);

    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return NULL;
    v[n - 1] = '\0';
    return v + 1;
}

/* ---- rule_num: "N", "<N", ">=N", "!N", "N-M", "N<>M", "&M=V" ----------- */

bool rule_num_match(const struct rule_num *n, uint64_t x)
{
    switch (n->op) {
    case NUM_EQ:
        return x == n->a;
    case NUM_NE:
        return x != n->a;
    case NUM_LT:
        return x < n->a;
    case NUM_LE:
        return x <= n->a;
    case NUM_GT:
        return x > n->a;
    case NUM_GE:
        return x >= n->a;
    case NUM_RANGE:
        return x > n->a && x < n->b;
    case NUM_NRANGE:
        return x <= n->a || x >= n->b;
    case NUM_BAND_EQ:
        return (x & n->a) == n->b;
    case NUM_BAND_NE:
        return (x & n->a) != n->b;
    }
    return false;
}

/* Reads a decimal or 0x hex number at *s (after blanks) into *v, bounded by
 * max. */
static int num_digits(const char **s, uint64_t max, uint64_t *v)
{
    const char *p = *s;
    bool hex;

    while (is_blank(*p))
        p++;
    hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2]);
    if (hex)
        p += 2;
    else if (*p < '0' || *p > '9')
        return -1;
    *v = 0;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (hex && isxdigit((unsigned char)*p))
            d = (*p | 32) - 'a' + 10;
        else
            break;
        if (*v > (max - (uint64_t)d) / (hex ? 16 : 10))
            return -1;
        *v = *v * (hex ? 16 : 10) + (uint64_t)d;
    }
    while (is_blank(*p))
        p++;
    *s = p;
    return 0;
}

static const struct {
    const char *tok;
    enum rule_num_op op;
} num_prefixes[] = {
    /* two-character operators first */
    {"<=", NUM_LE}, {">=", NUM_GE}, {"!=", NUM_NE}, {"<", NUM_LT},
    {">", NUM_GT},  {"!", NUM_NE},  {"=", NUM_EQ},
};

/* "&M=V" / "&M!=V" */
static int num_parse_bitmask(struct rparse *p, const char *v, const char *s, uint64_t max,
                             struct rule_num *n)
{
    if (num_digits(&s, max, &n->a) < 0)
        return rp_err(p, "invalid bitmask '%s' (expected 0..%" PRIu64 ")", v, max);
    if (strncmp(s, "!=", 2) == 0) {
        n->op = NUM_BAND_NE;
        s += 2;
    } else if (*s == '=') {
        n->op = NUM_BAND_EQ;
        s++;
    } else {
        return rp_err(p, "invalid bitmask test '%s' (expected &MASK=VALUE or &MASK!=VALUE)", v);
    }
    if (num_digits(&s, max, &n->b) < 0 || *s != '\0')
        return rp_err(p, "invalid value '%s' (expected 0..%" PRIu64 ")", v, max);
    return 0;
}

int rule_num_parse(struct rparse *p, const char *v, uint64_t max, struct rule_num *n)
{
    const char *s = v;
    size_t i;

    n->op = NUM_EQ;
    n->b = 0;
    while (is_blank(*s))
        s++;
    if (*s == '&')
        return num_parse_bitmask(p, v, s + 1, max, n);
    for (i = 0; i < KANSHI_ARRAY_LEN(num_prefixes); i++) {
        size_t l = strlen(num_prefixes[i].tok);
        if (strncmp(s, num_prefixes[i].tok, l) == 0) {
            n->op = num_prefixes[i].op;
            s += l;
            break;
        }
    }
    if (num_digits(&s, max, &n->a) < 0)
        return rp_err(p, "invalid value '%s' (expected 0..%" PRIu64 ")", v, max);
    bool plain = i == KANSHI_ARRAY_LEN(num_prefixes);
    bool bang = !plain && strcmp(num_prefixes[i].tok, "!") == 0;
    if ((plain || bang) && (*s == '-' || strncmp(s, "<>", 2) == 0)) {
        s += *s == '-' ? 1 : 2;
        n->op = bang ? NUM_NRANGE : NUM_RANGE;
        if (num_digits(&s, max, &n->b) < 0)
            return rp_err(p, "invalid range '%s' (expected 0..%" PRIu64 ")", v, max);
        if (n->a >= n->b)
            return rp_err(p, "invalid range '%s': the first bound must be below the second", v);
    }
    if (*s != '\0')
        return rp_err(p, "invalid value '%s'", v);
    if ((n->op == NUM_LT && n->a == 0) || (n->op == NUM_GT && n->a == max))
        return rp_err(p, "'%s' can never match", v);
    return 0;
}

/* ---- content and its modifiers ----------------------------------------- */

/*
 * Decodes the inside of a content string: literal bytes, |hex| blocks (blanks
 * allowed between digits) and the escapes \" \; \\ \:.  out has room for
 * strlen(s) bytes, which is always enough.
 */
static int content_decode(struct rparse *p, const char *s, uint8_t *out, size_t *outlen)
{
    size_t n = 0;
    bool hex = false;
    int nib = -1; /* pending high nibble inside a hex block */

    for (; *s != '\0'; s++) {
        char c = *s;
        if (hex) {
            if (c == '|') {
                if (nib >= 0)
                    return rp_err(p, "odd number of hex digits");
                hex = false;
            } else if (is_blank(c)) {
                continue;
            } else if (kanshi_hexval(c) < 0) {
                return rp_err(p, "invalid hex character '%c'", c);
            } else if (nib < 0) {
                nib = kanshi_hexval(c);
            } else {
                out[n++] = (uint8_t)(nib << 4 | kanshi_hexval(c));
                nib = -1;
            }
        } else if (c == '\\') {
            c = *++s;
            if (c != '"' && c != ';' && c != '\\' && c != ':') {
                if (c == '\0')
                    return rp_err(p, "trailing backslash");
                return rp_err(p, "invalid escape '\\%c'", c);
            }
            out[n++] = (uint8_t)c;
        } else if (c == '|') {
            hex = true;
        } else if (c == '"') {
            return rp_err(p, "unescaped '\"' inside content");
        } else {
            out[n++] = (uint8_t)c;
        }
    }
    if (hex)
        return rp_err(p, "unterminated hex escape");
    *outlen = n;
    return 0;
}

struct rule_match *rule_match_append(struct rparse *p)
{
    struct rule *r = p->r;

    if (r->nmatches == p->mcap) {
        size_t ncap = p->mcap ? p->mcap * 2 : 4;
        struct rule_match *nm = kanshi_reallocarray(r->matches, ncap, sizeof(*nm));
        if (nm == NULL)
            return NULL;
        r->matches = nm;
        p->mcap = ncap;
    }
    memset(&r->matches[r->nmatches], 0, sizeof(r->matches[0]));
    return &r->matches[r->nmatches++];
}

int rule_kw_content(struct rparse *p, char *v)
{
    struct rule_match *m;
    uint8_t *pat;
    size_t len = 0;
    bool neg = false;
    int rc;

    if (*v == '!') {
        neg = true;
        v = trim(v + 1);
    }
    if ((v = unquote(v)) == NULL)
        return rp_err(p, "value must be a quoted string");
    pat = malloc(strlen(v) + 1);
    if (pat == NULL)
        return -ENOMEM;
    rc = content_decode(p, v, pat, &len);
    if (rc == 0 && len == 0)
        rc = rp_err(p, "empty content");
    if (rc == 0 && len > CONTENT_VALUE_MAX)
        rc = rp_err(p, "content longer than %d bytes", CONTENT_VALUE_MAX);
    if (rc == 0 && (m = rule_match_append(p)) == NULL)
        rc = -ENOMEM;
    if (rc != 0) {
        free(pat);
        return rc;
    }
    m->kind = RULE_MATCH_CONTENT;
    m->buffer = p->cur_buf;
    m->u.content.pat = pat;
    m->u.content.len = len;
    m->u.content.flags = neg ? CONTENT_NEGATED : 0;
    p->last_content = (int)(p->r->nmatches - 1);
    p->last_pm = p->last_content;
    return 0;
}

/* The content a modifier applies to, or NULL with the error set. */
static struct rule_content *cur_content(struct rparse *p)
{
    if (p->last_content < 0) {
        rp_err(p, "no preceding content");
        return NULL;
    }
    return &p->r->matches[p->last_content].u.content;
}

/* Sets a flag-only modifier once per content. */
static int content_flag(struct rparse *p, uint32_t flag)
{
    struct rule_content *c = cur_content(p);

    if (c == NULL)
        return KANSHI_EPARSE;
    if (c->flags & flag)
        return rp_err(p, "given twice for the same content");
    c->flags |= flag;
    return 0;
}

static int kw_nocase(struct rparse *p, char *v)
{
    (void)v;
    return content_flag(p, CONTENT_NOCASE);
}

static int kw_rawbytes(struct rparse *p, char *v)
{
    (void)v;
    return content_flag(p, CONTENT_RAWBYTES);
}

static int kw_endswith(struct rparse *p, char *v)
{
    (void)v;
    return content_flag(p, CONTENT_ENDSWITH);
}

#define CONTENT_ABSOLUTE (CONTENT_OFFSET | CONTENT_DEPTH)
#define CONTENT_RELATIVE (CONTENT_DISTANCE | CONTENT_WITHIN)

/*
 * Common checks of offset, depth, distance and within: a content to apply
 * to, not given twice, not mixed with startswith, and absolute (offset,
 * depth) and relative (distance, within) positions not mixed on one content.
 */
static struct rule_content *position_check(struct rparse *p, uint32_t flag, const char *v,
                                           int64_t min, int64_t *val, bool *var)
{
    struct rule_content *c = cur_content(p);
    uint32_t other = (flag & CONTENT_ABSOLUTE) ? CONTENT_RELATIVE : CONTENT_ABSOLUTE;

    *var = false;
    if (c == NULL)
        return NULL;
    if (c->flags & CONTENT_STARTSWITH) /* it sets offset and depth itself */
        rp_err(p, "can't be mixed with startswith");
    else if (c->flags & flag)
        rp_err(p, "given twice for the same content");
    else if (c->flags & other)
        rp_err(p, "offset/depth can't be mixed with distance/within on the same content");
    else if (isalpha((unsigned char)v[0])) {
        /* a byte_extract / byte_math variable, as Suricata allows */
        int idx = rule_bytevar_find(p, v);
        if (idx < 0) {
            rp_err(p, "unknown byte_extract variable '%s'", v);
            return NULL;
        }
        *val = idx;
        *var = true;
        return c;
    } else if (parse_int(v, min, CONTENT_VALUE_MAX, val) < 0)
        rp_err(p, "invalid value '%s' (expected %" PRId64 "..%d)", v, min, CONTENT_VALUE_MAX);
    else
        return c;
    return NULL;
}

static int kw_offset(struct rparse *p, char *v)
{
    int64_t n;
    bool var;
    struct rule_content *c = position_check(p, CONTENT_OFFSET, v, 0, &n, &var);

    if (c == NULL)
        return KANSHI_EPARSE;
    c->offset = (int32_t)n;
    c->flags |= CONTENT_OFFSET | (var ? CONTENT_OFFSET_VAR : 0);
    return 0;
}

static int kw_depth(struct rparse *p, char *v)
{
    int64_t n;
    bool var;
    struct rule_content *c = position_check(p, CONTENT_DEPTH, v, 0, &n, &var);

    if (c == NULL)
        return KANSHI_EPARSE;
    if (var) {
        c->depth = (int32_t)n;
        c->flags |= CONTENT_DEPTH | CONTENT_DEPTH_VAR;
        return 0;
    }
    if (n == 0)
        return rp_err(p, "depth 0 is invalid");
    if ((size_t)n < c->len)
        return rp_err(p, "depth %" PRId64 " is less than the content length %zu", n, c->len);
    c->depth = (int32_t)n;
    c->flags |= CONTENT_DEPTH;
    return 0;
}

static int kw_distance(struct rparse *p, char *v)
{
    int64_t n;
    bool var;
    struct rule_content *c = position_check(p, CONTENT_DISTANCE, v, -CONTENT_VALUE_MAX, &n, &var);

    if (c == NULL)
        return KANSHI_EPARSE;
    c->distance = (int32_t)n;
    c->flags |= CONTENT_DISTANCE | (var ? CONTENT_DISTANCE_VAR : 0);
    return 0;
}

static int kw_within(struct rparse *p, char *v)
{
    int64_t n;
    bool var;
    struct rule_content *c = position_check(p, CONTENT_WITHIN, v, 0, &n, &var);

    if (c == NULL)
        return KANSHI_EPARSE;
    if (var) {
        c->within = (int32_t)n;
        c->flags |= CONTENT_WITHIN | CONTENT_WITHIN_VAR;
        return 0;
    }
    if ((size_t)n < c->len)
        return rp_err(p, "within %" PRId64 " is less than the content length %zu", n, c->len);
    c->within = (int32_t)n;
    c->flags |= CONTENT_WITHIN;
    return 0;
}

/* startswith anchors the content at the start of the buffer: depth = len. */
static int kw_startswith(struct rparse *p, char *v)
{
    struct rule_content *c = cur_content(p);

    (void)v;
    if (c == NULL)
        return KANSHI_EPARSE;
    if (c->flags & CONTENT_STARTSWITH)
        return rp_err(p, "given twice for the same content");
    if (c->flags & (CONTENT_ABSOLUTE | CONTENT_RELATIVE))
        return rp_err(p, "can't be mixed with offset, depth, distance or within");
    c->flags |= CONTENT_STARTSWITH | CONTENT_DEPTH | CONTENT_OFFSET;
    c->offset = 0;
    c->depth = (int32_t)c->len;
    return 0;
}

static int kw_fast_pattern(struct rparse *p, char *v)
{
    struct rule_content *c = cur_content(p);

    if (c == NULL)
        return KANSHI_EPARSE;
    if (p->has_fast_pattern)
        return rp_err(p, "can be used on only one content in a rule");
    p->has_fast_pattern = true;
    c->flags |= CONTENT_FAST_PATTERN;
    if (v == NULL)
        return 0;
    if (strcmp(v, "only") == 0) {
        c->flags |= CONTENT_FAST_PATTERN_ONLY;
        return 0;
    }
    char *comma = strchr(v, ',');
    int64_t off, len;
    if (comma == NULL)
        return rp_err(p, "invalid argument '%s' (expected only or offset,length)", v);
    *comma = '\0';
    if (parse_int(trim(v), 0, CONTENT_VALUE_MAX, &off) < 0 ||
        parse_int(trim(comma + 1), 1, CONTENT_VALUE_MAX, &len) < 0)
        return rp_err(p, "invalid offset,length '%s,%s'", v, comma + 1);
    if ((size_t)(off + len) > c->len)
        return rp_err(p, "offset %" PRId64 " + length %" PRId64 " exceeds the content length %zu",
                      off, len, c->len);
    c->flags |= CONTENT_FAST_PATTERN_CHOP;
    c->fp_offset = (uint16_t)off;
    c->fp_len = (uint16_t)len;
    return 0;
}

/* Whole-rule checks of fast_pattern, which may come before or after the
 * modifiers it conflicts with. */
static int fast_pattern_check(struct rparse *p)
{
    for (size_t i = 0; i < p->r->nmatches; i++) {
        const struct rule_content *c = &p->r->matches[i].u.content;
        if (p->r->matches[i].kind != RULE_MATCH_CONTENT || !(c->flags & CONTENT_FAST_PATTERN))
            continue;
        p->kw = "fast_pattern";
        if ((c->flags & CONTENT_NEGATED) &&
            (c->flags & (CONTENT_FAST_PATTERN_ONLY | CONTENT_FAST_PATTERN_CHOP)))
            return rp_err(p, "only and offset,length can't be used on negated content");
        if ((c->flags & CONTENT_NEGATED) && (c->flags & (CONTENT_ABSOLUTE | CONTENT_RELATIVE)))
            return rp_err(p, "can't be used on negated content with offset, depth, distance "
                             "or within");
        if ((c->flags & CONTENT_FAST_PATTERN_ONLY) &&
            (c->flags & (CONTENT_ABSOLUTE | CONTENT_RELATIVE)))
            return rp_err(p, "only can't be used with offset, depth, distance or within");
        if (c->flags & CONTENT_FAST_PATTERN_ONLY) {
            /* the next test of the same buffer */
            size_t j = i + 1;
            while (j < p->r->nmatches && p->r->matches[j].buffer != p->r->matches[i].buffer)
                j++;
            if (j < p->r->nmatches && p->r->matches[j].kind == RULE_MATCH_CONTENT &&
                (p->r->matches[j].u.content.flags & CONTENT_RELATIVE))
                return rp_err(p, "only can't be used on a content a relative content follows");
        }
    }
    return 0;
}

/* ---- rule identity and description ------------------------------------- */

static int kw_u32(struct rparse *p, const char *v, int64_t min, uint32_t *out)
{
    int64_t n;

    if (parse_int(v, min, UINT32_MAX, &n) < 0)
        return rp_err(p, "invalid value '%s' (expected %" PRId64 "..%" PRIu32 ")", v, min,
                      UINT32_MAX);
    *out = (uint32_t)n;
    return 0;
}

static int kw_sid(struct rparse *p, char *v)
{
    p->has_sid = true;
    return kw_u32(p, v, 1, &p->r->sid);
}

static int kw_rev(struct rparse *p, char *v)
{
    return kw_u32(p, v, 0, &p->r->rev);
}

static int kw_gid(struct rparse *p, char *v)
{
    return kw_u32(p, v, 0, &p->r->gid);
}

static int kw_priority(struct rparse *p, char *v)
{
    int64_t n;

    if (parse_int(v, 1, 255, &n) < 0)
        return rp_err(p, "invalid value '%s' (expected 1..255)", v);
    p->r->priority = (int)n;
    p->has_priority = true;
    return 0;
}

/* msg: the quoted text with \; \" \\ \: unescaped; other backslashes kept. */
static int kw_msg(struct rparse *p, char *v)
{
    char *s = unquote(v), *o;

    if (s == NULL)
        return rp_err(p, "value must be a quoted string");
    p->r->msg = o = malloc(strlen(s) + 1);
    if (o == NULL)
        return -ENOMEM;
    for (; *s != '\0'; s++) {
        if (*s == '\\' && s[1] != '\0' && strchr("\";\\:", s[1]) != NULL)
            s++;
        *o++ = *s;
    }
    *o = '\0';
    return 0;
}

static int kw_classtype(struct rparse *p, char *v)
{
    const struct rule_class *c = ruleset_find_class(p->rs, v);

    if (c == NULL)
        return rp_err(p, "unknown classtype '%s'", v);
    p->r->classtype = strdup(c->name);
    return p->r->classtype == NULL ? -ENOMEM : 0;
}

/* metadata: kept raw; several metadata keywords are joined with ", ". */
static int kw_metadata(struct rparse *p, char *v)
{
    char *old = p->r->metadata, *nv;
    size_t ol = old ? strlen(old) : 0, vl = strlen(v);

    nv = realloc(old, ol + (old ? 2 : 0) + vl + 1);
    if (nv == NULL)
        return -ENOMEM;
    if (old != NULL) {
        memcpy(nv + ol, ", ", 2);
        ol += 2;
    }
    memcpy(nv + ol, v, vl + 1);
    p->r->metadata = nv;
    return 0;
}

/* reference: accepted (for compatibility) and not kept. */
static int kw_reference(struct rparse *p, char *v)
{
    (void)p;
    (void)v;
    return 0;
}

/* target: accepted for src_ip/dest_ip; alerts do not use it yet. */
static int kw_target(struct rparse *p, char *v)
{
    if (strcmp(v, "src_ip") != 0 && strcmp(v, "dest_ip") != 0)
        return rp_err(p, "invalid value '%s' (expected src_ip or dest_ip)", v);
    return 0;
}

/* ---- header tests ------------------------------------------------------ */

static const struct {
    const char *name;
    uint32_t bit;
} flow_opts[] = {
    {"established", RULE_FLOW_ESTABLISHED}, {"not_established", RULE_FLOW_NOT_ESTABLISHED},
    {"stateless", RULE_FLOW_STATELESS},     {"to_server", RULE_FLOW_TOSERVER},
    {"from_client", RULE_FLOW_TOSERVER},    {"to_client", RULE_FLOW_TOCLIENT},
    {"from_server", RULE_FLOW_TOCLIENT},    {"only_stream", RULE_FLOW_ONLY_STREAM},
    {"no_stream", RULE_FLOW_NO_STREAM},
};

/* Options that cannot be combined. */
static const uint32_t flow_conflicts[][2] = {
    {RULE_FLOW_ESTABLISHED, RULE_FLOW_NOT_ESTABLISHED},
    {RULE_FLOW_ESTABLISHED, RULE_FLOW_STATELESS},
    {RULE_FLOW_TOSERVER, RULE_FLOW_TOCLIENT},
    {RULE_FLOW_ONLY_STREAM, RULE_FLOW_NO_STREAM},
};

static int flow_option(struct rparse *p, const char *opt, const char **given)
{
    size_t i;
    uint32_t bit;

    for (i = 0; i < KANSHI_ARRAY_LEN(flow_opts); i++)
        if (strcasecmp(opt, flow_opts[i].name) == 0)
            break;
    if (i == KANSHI_ARRAY_LEN(flow_opts))
        return rp_err(p, "invalid option '%s'", opt);
    bit = flow_opts[i].bit;
    if (p->r->flow & bit)
        return rp_err(p, "'%s' repeats '%s'", opt, given[__builtin_ctz(bit)]);
    for (size_t k = 0; k < KANSHI_ARRAY_LEN(flow_conflicts); k++) {
        for (int j = 0; j < 2; j++) {
            uint32_t other = flow_conflicts[k][1 - j];
            if (flow_conflicts[k][j] == bit && (p->r->flow & other))
                return rp_err(p, "'%s' conflicts with '%s'", opt, given[__builtin_ctz(other)]);
        }
    }
    p->r->flow |= bit;
    given[__builtin_ctz(bit)] = opt;
    return 0;
}

static int kw_flow(struct rparse *p, char *v)
{
    const char *given[32] = {0};

    for (char *opt = v, *next; opt != NULL; opt = next) {
        next = strchr(opt, ',');
        if (next != NULL)
            *next++ = '\0';
        opt = trim(opt);
        if (*opt == '\0')
            return rp_err(p, "empty option");
        int rc = flow_option(p, opt, given);
        if (rc != 0)
            return rc;
    }
    p->r->has |= RULE_HAS_FLOW;
    return 0;
}

static int kw_num(struct rparse *p, const char *v, uint64_t max, struct rule_num *n, uint32_t has)
{
    int rc = rule_num_parse(p, v, max, n);

    if (rc == 0)
        p->r->has |= has;
    return rc;
}

static int kw_dsize(struct rparse *p, char *v)
{
    return kw_num(p, v, 65535, &p->r->dsize, RULE_HAS_DSIZE);
}

static int kw_ttl(struct rparse *p, char *v)
{
    return kw_num(p, v, 255, &p->r->ttl, RULE_HAS_TTL);
}

static int kw_itype(struct rparse *p, char *v)
{
    return kw_num(p, v, 255, &p->r->itype, RULE_HAS_ITYPE);
}

static int kw_icode(struct rparse *p, char *v)
{
    return kw_num(p, v, 255, &p->r->icode, RULE_HAS_ICODE);
}

/* IANA protocol numbers by their /etc/protocols names. */
/* clang-format off */
static const struct {
    const char *name;
    uint8_t num;
} ip_protos[] = {
    {"hopopt", 0},      {"ip", 0},         {"icmp", 1},        {"igmp", 2},
    {"ggp", 3},         {"ipencap", 4},    {"ipv4", 4},        {"st", 5},
    {"tcp", 6},         {"egp", 8},        {"igp", 9},         {"pup", 12},
    {"udp", 17},        {"hmp", 20},       {"xns-idp", 22},    {"rdp", 27},
    {"iso-tp4", 29},    {"dccp", 33},      {"xtp", 36},        {"ddp", 37},
    {"idpr-cmtp", 38},  {"ipv6", 41},      {"ipv6-route", 43}, {"ipv6-frag", 44},
    {"idrp", 45},       {"rsvp", 46},      {"gre", 47},        {"esp", 50},
    {"ah", 51},         {"skip", 57},      {"ipv6-icmp", 58},  {"icmpv6", 58},
    {"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"rspf", 73},       {"vmtp", 81},
    {"eigrp", 88},      {"ospf", 89},      {"ax.25", 93},      {"ipip", 94},
    {"etherip", 97},    {"encap", 98},     {"pim", 103},       {"ipcomp", 108},
    {"vrrp", 112},      {"l2tp", 115},     {"isis", 124},      {"sctp", 132},
    {"fc", 133},        {"udplite", 136},  {"mpls-in-ip", 137}, {"manet", 138},
    {"hip", 139},       {"shim6", 140},    {"wesp", 141},      {"rohc", 142},
    {"mobility-header", 135},
};
/* clang-format on */

/*
 * ip_proto:[<>!]N or a protocol name.  A rule may give several; they all
 * must hold (Suricata intersects them), with Suricata's limits: an exact
 * protocol stands alone, '<' and '>' at most once each, '!' as often as
 * wanted, and the result must leave some protocol.
 */
static int kw_ip_proto(struct rparse *p, char *v)
{
    const char *s = v;
    enum rule_num_op op = NUM_EQ;
    int64_t n = -1;
    uint8_t set[32];
    bool any = false;

    if (*s == '<' || *s == '>' || *s == '!') {
        op = *s == '<' ? NUM_LT : *s == '>' ? NUM_GT : NUM_NE;
        s++;
        while (is_blank(*s))
            s++;
    }
    if (*s >= '0' && *s <= '9') {
        if (parse_int(s, 0, 255, &n) < 0)
            return rp_err(p, "invalid protocol '%s' (expected 0..255 or a name)", v);
    } else {
        for (size_t i = 0; i < KANSHI_ARRAY_LEN(ip_protos); i++)
            if (strcasecmp(s, ip_protos[i].name) == 0)
                n = ip_protos[i].num;
        if (n < 0)
            return rp_err(p, "unknown protocol '%s'", s);
    }
    if ((op == NUM_LT && n == 0) || (op == NUM_GT && n == 255))
        return rp_err(p, "'%s' can never match", v);
    if (p->ip_proto_ops != 0) {
        if (op == NUM_EQ || (p->ip_proto_ops & (1u << NUM_EQ)))
            return rp_err(p, "an exact protocol can't be combined with another ip_proto");
        if (op != NUM_NE && (p->ip_proto_ops & (1u << op)))
            return rp_err(p, "only one ip_proto with '%c' in a rule", op == NUM_LT ? '<' : '>');
    }
    memset(set, 0, sizeof(set));
    for (unsigned x = 0; x < 256; x++) {
        struct rule_num t = {.op = op, .a = (uint64_t)n};
        if (rule_num_match(&t, x) &&
            (p->ip_proto_ops == 0 || (p->r->ip_proto_set[x >> 3] & (1u << (x & 7))))) {
            set[x >> 3] |= (uint8_t)(1u << (x & 7));
            any = true;
        }
    }
    if (!any)
        return rp_err(p, "'%s' with the ip_proto before it can never match", v);
    memcpy(p->r->ip_proto_set, set, sizeof(set));
    if (p->ip_proto_ops == 0) {
        p->r->ip_proto = (uint8_t)n;
        p->r->ip_proto_op = op;
    }
    p->ip_proto_ops |= 1u << op;
    p->r->has |= RULE_HAS_IP_PROTO;
    return 0;
}

/* TCP flag letters; 1 and 2 are the old names of CWR and ECE. */
static int tcp_flag_bit(char c)
{
    static const char letters[] = "FSRPAUCE12";
    static const uint8_t bits[] = {TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK,
                                   TH_URG, TH_CWR, TH_ECE, TH_CWR,  TH_ECE};
    const char *q = c != '\0' ? strchr(letters, toupper((unsigned char)c)) : NULL;

    return q == NULL ? -1 : bits[q - letters];
}

/* flags:[+*!]FSRPAUCE[+*!][,mask]; "0" means no flag set. */
static int kw_flags(struct rparse *p, char *v)
{
    struct rule_tcp_flags *f = &p->r->tcp_flags;
    char *mask = strchr(v, ',');
    bool have_mod = false, have_flag = false;

    if (mask != NULL)
        *mask++ = '\0';
    for (const char *s = trim(v); *s != '\0'; s++) {
        int bit = tcp_flag_bit(*s);
        if (*s == '+' || *s == '*' || *s == '!') {
            if (have_mod)
                return rp_err(p, "more than one modifier in '%s'", v);
            have_mod = true;
            f->mod = *s == '+' ? FLAGS_PLUS : *s == '*' ? FLAGS_ANY : FLAGS_NOT;
        } else if (*s == '0') {
            have_flag = true;
        } else if (bit >= 0) {
            f->flags |= (uint8_t)bit;
            have_flag = true;
        } else {
            return rp_err(p, "invalid flag '%c'", *s);
        }
    }
    if (!have_flag)
        return rp_err(p, "no flags given");
    if (mask != NULL) {
        mask = trim(mask);
        if (*mask == '\0')
            return rp_err(p, "empty ignore mask");
        for (const char *s = mask; *s != '\0'; s++) {
            int bit = tcp_flag_bit(*s);
            if (bit < 0)
                return rp_err(p, "invalid flag '%c' in the ignore mask", *s);
            f->ignore |= (uint8_t)bit;
        }
    }
    p->r->has |= RULE_HAS_FLAGS;
    return 0;
}

/* Numeric header keywords that may also be written quoted ("id:\"5\"",
 * icmp_id, icmp_seq, as Suricata accepts). */
static int kw_num_quoted(struct rparse *p, char *v, uint64_t max, struct rule_num *n, uint32_t has)
{
    char *q = v[0] == '"' ? unquote(v) : v;

    if (q == NULL)
        return rp_err(p, "unbalanced quotes in '%s'", v);
    return kw_num(p, trim(q), max, n, has);
}

/* tos: a number, decimal or hex written "xNN" / "0xNN", any rule_num form. */
static int kw_tos(struct rparse *p, char *v)
{
    char buf[64];
    const char *s = v;
    size_t n = 0;

    /* rewrite Suricata's "x1F" hex form as "0x1F" for rule_num_parse */
    while (*s != '\0' && n + 3 < sizeof(buf)) {
        if ((*s == 'x' || *s == 'X') && (s == v || !isdigit((unsigned char)s[-1])))
            buf[n++] = '0';
        buf[n++] = *s++;
    }
    if (*s != '\0')
        return rp_err(p, "invalid value '%s'", v);
    buf[n] = '\0';
    if (rule_num_parse(p, buf, 255, &p->r->tos) != 0)
        return rp_err(p, "invalid value '%s' (expected 0..255 or xNN)", v);
    p->r->has |= RULE_HAS_TOS;
    return 0;
}

static int kw_id(struct rparse *p, char *v)
{
    return kw_num_quoted(p, v, 65535, &p->r->id, RULE_HAS_ID);
}

static int kw_fragoffset(struct rparse *p, char *v)
{
    return kw_num(p, v, 65535, &p->r->fragoffset, RULE_HAS_FRAGOFFSET);
}

static int kw_seq(struct rparse *p, char *v)
{
    return kw_num(p, v, UINT32_MAX, &p->r->seq, RULE_HAS_SEQ);
}

static int kw_ack(struct rparse *p, char *v)
{
    return kw_num(p, v, UINT32_MAX, &p->r->ack, RULE_HAS_ACK);
}

static int kw_window(struct rparse *p, char *v)
{
    return kw_num(p, v, 65535, &p->r->window, RULE_HAS_WINDOW);
}

static int kw_icmp_id(struct rparse *p, char *v)
{
    return kw_num_quoted(p, v, 65535, &p->r->icmp_id, RULE_HAS_ICMP_ID);
}

static int kw_icmp_seq(struct rparse *p, char *v)
{
    return kw_num_quoted(p, v, 65535, &p->r->icmp_seq, RULE_HAS_ICMP_SEQ);
}

static int kw_sameip(struct rparse *p, char *v)
{
    (void)v;
    p->r->has |= RULE_HAS_SAMEIP;
    return 0;
}

/* ipopts: one IPv4 option name, or "any". */
static int kw_ipopts(struct rparse *p, char *v)
{
    static const struct {
        const char *name;
        uint16_t bit;
    } opts[] = {
        {"rr", IPOPT_BIT_RR},     {"eol", IPOPT_BIT_EOL},   {"nop", IPOPT_BIT_NOP},
        {"ts", IPOPT_BIT_TS},     {"sec", IPOPT_BIT_SEC},   {"esec", IPOPT_BIT_ESEC},
        {"lsrr", IPOPT_BIT_LSRR}, {"ssrr", IPOPT_BIT_SSRR}, {"satid", IPOPT_BIT_SATID},
        {"any", 0xffff},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(opts); i++) {
        if (strcasecmp(v, opts[i].name) == 0) {
            p->r->ipopts = opts[i].bit;
            p->r->has |= RULE_HAS_IPOPTS;
            return 0;
        }
    }
    return rp_err(p,
                  "invalid option '%s' (expected rr, eol, nop, ts, sec, esec, lsrr, ssrr, "
                  "satid or any)",
                  v);
}

/* fragbits:[+*!]<MDR>, the modifier before or after the bits. */
static int kw_fragbits(struct rparse *p, char *v)
{
    struct rule_fragbits *f = &p->r->fragbits;
    bool have_mod = false;

    f->bits = 0;
    f->mod = FLAGS_EXACT;
    for (const char *s = v; *s != '\0'; s++) {
        switch (toupper((unsigned char)*s)) {
        case '+':
        case '*':
        case '!':
            if (have_mod)
                return rp_err(p, "more than one modifier in '%s'", v);
            have_mod = true;
            f->mod = *s == '+' ? FLAGS_PLUS : *s == '*' ? FLAGS_ANY : FLAGS_NOT;
            break;
        case 'M':
            f->bits |= IPFRAG_MF;
            break;
        case 'D':
            f->bits |= IPFRAG_DF;
            break;
        case 'R':
            f->bits |= IPFRAG_RF;
            break;
        case ' ':
        case '\t':
            break;
        default:
            return rp_err(p, "invalid fragment bit '%c' (expected M, D or R)", *s);
        }
    }
    if (f->bits == 0)
        return rp_err(p, "no fragment bits given");
    p->r->has |= RULE_HAS_FRAGBITS;
    return 0;
}

/* ---- the keyword table ------------------------------------------------- */

enum {
    KW_NOVALUE = 1u << 0, /* "kw;" only */
    KW_VALUE = 1u << 1,   /* "kw:value;" only */
    KW_ONCE = 1u << 2,    /* at most once per rule */
};

struct keyword {
    const char *name;
    int (*parse)(struct rparse *p, char *value); /* value NULL when absent */
    unsigned flags;
};

static const struct keyword keywords[] = {
    /* identity and description */
    {"msg", kw_msg, KW_VALUE | KW_ONCE},
    {"sid", kw_sid, KW_VALUE | KW_ONCE},
    {"rev", kw_rev, KW_VALUE | KW_ONCE},
    {"gid", kw_gid, KW_VALUE | KW_ONCE},
    {"classtype", kw_classtype, KW_VALUE | KW_ONCE},
    {"priority", kw_priority, KW_VALUE | KW_ONCE},
    {"metadata", kw_metadata, KW_VALUE},
    {"reference", kw_reference, KW_VALUE},
    {"target", kw_target, KW_VALUE | KW_ONCE},
    /* payload */
    {"content", rule_kw_content, KW_VALUE},
    {"nocase", kw_nocase, KW_NOVALUE},
    {"offset", kw_offset, KW_VALUE},
    {"depth", kw_depth, KW_VALUE},
    {"distance", kw_distance, KW_VALUE},
    {"within", kw_within, KW_VALUE},
    {"startswith", kw_startswith, KW_NOVALUE},
    {"endswith", kw_endswith, KW_NOVALUE},
    {"rawbytes", kw_rawbytes, KW_NOVALUE},
    {"fast_pattern", kw_fast_pattern, 0},
    /* header tests */
    {"flow", kw_flow, KW_VALUE | KW_ONCE},
    {"dsize", kw_dsize, KW_VALUE | KW_ONCE},
    {"ttl", kw_ttl, KW_VALUE | KW_ONCE},
    {"itype", kw_itype, KW_VALUE | KW_ONCE},
    {"icode", kw_icode, KW_VALUE | KW_ONCE},
    {"ip_proto", kw_ip_proto, KW_VALUE},
    {"flags", kw_flags, KW_VALUE | KW_ONCE},
    {"tos", kw_tos, KW_VALUE | KW_ONCE},
    {"id", kw_id, KW_VALUE | KW_ONCE},
    {"ipopts", kw_ipopts, KW_VALUE | KW_ONCE},
    {"fragbits", kw_fragbits, KW_VALUE | KW_ONCE},
    {"fragoffset", kw_fragoffset, KW_VALUE | KW_ONCE},
    {"sameip", kw_sameip, KW_NOVALUE | KW_ONCE},
    {"seq", kw_seq, KW_VALUE | KW_ONCE},
    {"ack", kw_ack, KW_VALUE | KW_ONCE},
    {"window", kw_window, KW_VALUE | KW_ONCE},
    {"icmp_id", kw_icmp_id, KW_VALUE | KW_ONCE},
    {"icmp_seq", kw_icmp_seq, KW_VALUE | KW_ONCE},
    /* payload keywords besides content (rule_payload.c) */
    {"pcre", rule_kw_pcre, KW_VALUE},
    {"isdataat", rule_kw_isdataat, KW_VALUE},
    {"byte_test", rule_kw_byte_test, KW_VALUE},
    {"byte_jump", rule_kw_byte_jump, KW_VALUE},
    {"byte_extract", rule_kw_byte_extract, KW_VALUE},
    {"byte_math", rule_kw_byte_math, KW_VALUE},
    {"pkt_data", rule_kw_pkt_data, KW_NOVALUE},
    /* flow variables and alert control (rule_flowvar.c, rule_threshold.c) */
    {"flowbits", rule_kw_flowbits, KW_VALUE},
    {"flowint", rule_kw_flowint, KW_VALUE},
    {"noalert", rule_kw_noalert, KW_NOVALUE},
    {"threshold", rule_kw_threshold, KW_VALUE},
    {"detection_filter", rule_kw_detection_filter, KW_VALUE},
};

#define KW_MAX 256
_Static_assert(KANSHI_ARRAY_LEN(keywords) <= KW_MAX, "raise KW_MAX");

static const struct keyword *kw_find(const char *name)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(keywords); i++)
        if (strcasecmp(keywords[i].name, name) == 0)
            return &keywords[i];
    return NULL;
}

/* ---- the header -------------------------------------------------------- */

/* Actions; Suricata's others are known but not supported yet. */
static const struct {
    const char *name;
    enum rule_action action;
    bool supported;
} actions[] = {
    {"alert", RULE_ACTION_ALERT, true},
    {"pass", RULE_ACTION_PASS, true},
    {"drop", RULE_ACTION_DROP, true},
    {"reject", RULE_ACTION_REJECT, true},
    {"rejectsrc", 0, false},
    {"rejectdst", 0, false},
    {"rejectboth", 0, false},
    {"config", 0, false},
};

/* Protocols a rule header may name.  Supporting another one (the
 * application-layer protocols below) is one row here and its rule_proto. */
static const struct {
    const char *name;
    enum rule_proto proto;
    uint8_t app; /* enum app_proto */
} protos[] = {
    {"ip", RULE_PROTO_IP, APP_PROTO_UNKNOWN},
    {"tcp", RULE_PROTO_TCP, APP_PROTO_UNKNOWN},
    {"udp", RULE_PROTO_UDP, APP_PROTO_UNKNOWN},
    {"icmp", RULE_PROTO_ICMP, APP_PROTO_UNKNOWN},
    {"icmpv6", RULE_PROTO_ICMPV6, APP_PROTO_UNKNOWN},
    {"tcp-pkt", RULE_PROTO_TCP_PKT, APP_PROTO_UNKNOWN},
    {"tcp-stream", RULE_PROTO_TCP_STREAM, APP_PROTO_UNKNOWN},
    /* application-layer protocols: the flow's detected protocol (kanshi/app.h) */
    {"http", RULE_PROTO_TCP, APP_PROTO_HTTP},
    {"http1", RULE_PROTO_TCP, APP_PROTO_HTTP},
    {"tls", RULE_PROTO_TCP, APP_PROTO_TLS},
    {"ssh", RULE_PROTO_TCP, APP_PROTO_SSH},
    {"smtp", RULE_PROTO_TCP, APP_PROTO_SMTP},
    {"ftp", RULE_PROTO_TCP, APP_PROTO_FTP},
    {"dns", RULE_PROTO_IP, APP_PROTO_DNS}, /* over UDP and TCP */
};

/* Suricata's other protocols: reported as unsupported rather than unknown. */
/* clang-format off */
static const char *const protos_later[] = {
    "icmpv4", "sctp", "pkthdr", "ipv4", "ipv6", "igmp", "arp", "ethernet", "llmnr", "mdns",
    "http2", "http-any", "doh2", "ftp-data", "smb", "dcerpc", "dhcp", "nfs", "ntp", "tftp", "ike", "ikev2", "krb5", "snmp",
    "sip", "rfb", "mqtt", "rdp", "modbus", "dnp3", "enip", "quic", "pgsql", "telnet",
    "websocket", "ldap", "imap", "pop3", "bittorrent-dht", "irc", "nntp", "template",
};
/* clang-format on */

/* Matches a protocol token against a name; "proto:hook" (Suricata 8 rule
 * hooks) is compared by its protocol part. */
static bool proto_is(const char *tok, size_t plen, const char *name)
{
    return strncasecmp(tok, name, plen) == 0 && name[plen] == '\0';
}

static int header_proto(struct rparse *p, const char *tok)
{
    size_t plen = strcspn(tok, ":");

    for (size_t i = 0; tok[plen] == '\0' && i < KANSHI_ARRAY_LEN(protos); i++) {
        if (proto_is(tok, plen, protos[i].name)) {
            p->r->proto = protos[i].proto;
            p->r->app_proto = protos[i].app;
            return 0;
        }
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(protos); i++)
        if (proto_is(tok, plen, protos[i].name))
            return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported protocol '%s'", tok);
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(protos_later); i++)
        if (proto_is(tok, plen, protos_later[i]))
            return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported protocol '%s'", tok);
    return rp_err(p, "unknown protocol '%s'", tok);
}

/* The next header token: up to a blank outside brackets, or a '('.  Sets
 * *open when the token ends inside a bracket. */
static char *next_token(char **s, char **end, bool *open)
{
    char *p = *s;
    int depth = 0;

    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '(')
        return NULL;
    char *start = p;
    for (; *p != '\0' && *p != '('; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
        else if (depth <= 0 && is_blank(*p))
            break;
    }
    *open = depth > 0;
    *end = p;
    *s = p;
    return start;
}

static int header_addr(struct rparse *p, struct addr_set *out, const char *tok)
{
    int rc = addr_set_parse(out, tok, p->rs->vars, p->err, sizeof(p->err));
    return rc == -ENOMEM ? rc : rc != 0 ? KANSHI_EPARSE : 0;
}

static int header_port(struct rparse *p, struct port_set *out, const char *tok)
{
    int rc = port_set_parse(out, tok, p->rs->vars, p->err, sizeof(p->err));
    return rc == -ENOMEM ? rc : rc != 0 ? KANSHI_EPARSE : 0;
}

/* Parses the seven header fields of text; *opts gets the options (between
 * the parentheses, NUL-terminated in place). */
static int parse_header(struct rparse *p, char *text, char **opts)
{
    enum { H_ACTION, H_PROTO, H_SRC, H_SP, H_DIR, H_DST, H_DP, H_N };
    static const char *const what[H_N] = {"action",          "protocol",  "source address",
                                          "source port",     "direction", "destination address",
                                          "destination port"};
    char *tok[H_N], *tend[H_N], *s = text, *e;
    size_t i;
    int rc;

    p->kw = "header";
    for (i = 0; i < H_N; i++) {
        bool open = false;
        if ((tok[i] = next_token(&s, &tend[i], &open)) == NULL)
            return rp_err(p, "missing %s", what[i]);
        if (open)
            return rp_err(p, "unbalanced brackets in the %s", what[i]);
    }
    while (is_blank(*s))
        s++;
    if (*s != '(')
        return rp_err(p, "expected '(' after the destination port");
    *opts = s + 1;
    e = s + strlen(s);
    while (e > s + 1 && is_blank(e[-1]))
        e--;
    if (e[-1] != ')')
        return rp_err(p, "rule does not end with ')'");
    e[-1] = '\0';
    for (i = 0; i < H_N; i++)
        *tend[i] = '\0';

    for (i = 0; i < KANSHI_ARRAY_LEN(actions); i++)
        if (strcmp(tok[H_ACTION], actions[i].name) == 0)
            break;
    if (i == KANSHI_ARRAY_LEN(actions))
        return rp_err(p, "unknown action '%s'", tok[H_ACTION]);
    if (!actions[i].supported)
        return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported action '%s'", tok[H_ACTION]);
    p->r->action = actions[i].action;

    if ((rc = header_proto(p, tok[H_PROTO])) != 0)
        return rc;

    if (strcmp(tok[H_DIR], "<>") == 0)
        p->r->bidir = true;
    else if (strcmp(tok[H_DIR], "->") != 0)
        return rp_err(p, "invalid direction '%s' (expected -> or <>)", tok[H_DIR]);

    if ((rc = header_addr(p, &p->r->src, tok[H_SRC])) != 0 ||
        (rc = header_port(p, &p->r->sp, tok[H_SP])) != 0 ||
        (rc = header_addr(p, &p->r->dst, tok[H_DST])) != 0 ||
        (rc = header_port(p, &p->r->dp, tok[H_DP])) != 0)
        return rc;
    return 0;
}

/* ---- options ----------------------------------------------------------- */

/* Splits off the next "name[:value];" at *s.  Values end at the first ';'
 * not escaped by a backslash (quotes do not protect ';', as in Suricata). */
static int next_option(struct rparse *p, char **s, char **name, char **value)
{
    char *q = *s, *n;

    while (is_blank(*q))
        q++;
    n = q;
    while (*q != '\0' && *q != ':' && *q != ';' && !is_blank(*q))
        q++;
    snprintf(p->kwbuf, sizeof(p->kwbuf), "%.*s", (int)(q - n), n);
    p->kw = q == n ? "options" : p->kwbuf;
    if (q == n)
        return rp_err(p, "empty keyword");
    if ((size_t)(q - n) > RULE_MAX_KEYWORD)
        return rp_err(p, "keyword too long");
    char *nend = q;
    while (is_blank(*q))
        q++;
    *value = NULL;
    if (*q == ':') {
        char *v = ++q;
        while (*q != '\0' && *q != ';') {
            if (*q == '\\' && q[1] != '\0')
                q++;
            q++;
        }
        if (*q != ';')
            return rp_err(p, "missing ';' after the value");
        *q = '\0';
        *value = trim(v);
    } else if (*q != ';') {
        return rp_err(p, "missing ';'");
    }
    *nend = '\0';
    *name = n;
    *s = q + 1;
    return 0;
}

static int parse_options(struct rparse *p, char *s)
{
    bool seen[KW_MAX] = {false};

    for (;;) {
        char *name = NULL, *value = NULL;
        const struct keyword *kw;
        int rc;

        while (is_blank(*s))
            s++;
        if (*s == '\0')
            return 0;
        if ((rc = next_option(p, &s, &name, &value)) != 0)
            return rc;
        /* the application-layer keywords (rule_app.c) */
        if ((rc = rule_app_keyword(p, name, value)) <= 0) {
            if (rc < 0)
                return rc;
            continue;
        }
        if ((kw = kw_find(name)) == NULL)
            return rp_fail(p, KANSHI_EUNSUPPORTED, "unsupported keyword");
        p->kw = kw->name;
        if ((kw->flags & KW_ONCE) && seen[kw - keywords])
            return rp_err(p, "duplicated keyword");
        seen[kw - keywords] = true;
        if ((kw->flags & KW_VALUE) && (value == NULL || *value == '\0'))
            return rp_err(p, "missing value");
        if ((kw->flags & KW_NOVALUE) && value != NULL)
            return rp_err(p, "takes no value");
        if (value != NULL && *value == '\0')
            return rp_err(p, "empty value");
        if ((rc = kw->parse(p, value)) != 0)
            return rc;
    }
}

/* Whole-rule checks once every option is read. */
static int rule_finish(struct rparse *p)
{
    struct rule *r = p->r;
    int rc;

    if (!p->has_sid) {
        p->kw = "sid";
        return rp_err(p, "rule has no sid");
    }
    if ((rc = fast_pattern_check(p)) != 0)
        return rc;
    if ((rc = rule_payload_finish(p)) != 0)
        return rc;
    if (!p->has_priority) {
        const struct rule_class *c = r->classtype ? ruleset_find_class(p->rs, r->classtype) : NULL;
        r->priority = c != NULL ? c->priority : 3;
    }
    return 0;
}

/* ---- rulesets ---------------------------------------------------------- */

void rule_free(struct rule *r)
{
    if (r == NULL)
        return;
    addr_set_fini(&r->src);
    addr_set_fini(&r->dst);
    port_set_fini(&r->sp);
    port_set_fini(&r->dp);
    for (size_t i = 0; i < r->nmatches; i++)
        rule_match_fini(&r->matches[i]);
    free(r->matches);
    for (size_t i = 0; i < r->nflowbits; i++)
        free(r->flowbits[i].ids);
    free(r->flowbits);
    free(r->flowints);
    free(r->app_tests);
    free(r->suppress);
    free(r->msg);
    free(r->classtype);
    free(r->metadata);
    free(r->file);
    free(r);
}

int ruleset_create(struct ruleset **out, struct rule_vars *vars, rule_error_fn on_error, void *arg)
{
    /* Tags per-flow variables with the ruleset whose ids they use; one
     * counter for the process, so atomic. */
    static _Atomic uint64_t generations;
    struct ruleset *rs = calloc(1, sizeof(*rs));
    int rc = -ENOMEM;

    if (rs == NULL) {
        rule_vars_destroy(vars); /* ownership passes even on failure */
        return -ENOMEM;
    }
    rs->vars = vars;
    rs->generation = ++generations;
    rs->on_error = on_error;
    rs->on_error_arg = arg;
    if (vars == NULL &&
        ((rc = rule_vars_create(&rs->vars)) < 0 || (rc = rule_vars_set_defaults(rs->vars)) < 0))
        goto fail;
    if ((rs->priv = calloc(1, sizeof(struct rs_priv))) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = rule_class_init_defaults(rs)) < 0)
        goto fail;
    *out = rs;
    return 0;
fail:
    ruleset_destroy(rs);
    return rc;
}

void ruleset_destroy(struct ruleset *rs)
{
    struct rs_priv *pv;

    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        rule_free(rs->rules[i]);
    free(rs->rules);
    rule_class_free_all(rs);
    rule_vars_destroy(rs->vars);
    pv = rs->priv;
    if (pv != NULL) {
        free(pv->slots);
        rule_names_free(pv->flowbit_names);
        rule_names_free(pv->flowint_names);
        rule_th_config_free(pv->th);
    }
    ruleset_flowvars_remap_free(rs);
    free(pv);
    free(rs);
}

int rule_bytevar_find(const struct rparse *p, const char *name)
{
    for (int i = 0; i < p->r->nbytevars; i++)
        if (p->bytevar[i] != NULL && strcmp(p->bytevar[i], name) == 0)
            return i;
    return -1;
}

/* Reports a rule that did not load. */
void rule_report(struct ruleset *rs, const char *file, unsigned line, const char *kw,
                 const char *reason)
{
    char msg[512];

    rs->nerrors++;
    if (rs->on_error == NULL)
        return;
    snprintf(msg, sizeof(msg), "%s: %s", kw, reason);
    rs->on_error(rs->on_error_arg, file, line, msg);
}

/* Adds the parsed rule to rs unless its (gid, sid) is taken. */
static int ruleset_append(struct rparse *p)
{
    struct ruleset *rs = p->rs;
    struct rs_priv *pv = rs->priv;
    uint64_t key = (uint64_t)p->r->gid << 32 | p->r->sid;
    const struct sid_slot *dup = sid_find(pv, key);

    if (dup != NULL) {
        const struct rule *o = rs->rules[dup->idx];
        p->kw = "sid";
        return rp_err(p, "duplicate sid %" PRIu32 " (gid %" PRIu32 "), first at %s:%u", p->r->sid,
                      p->r->gid, o->file, o->line);
    }
    if (sid_reserve(pv) < 0)
        return -ENOMEM;
    struct rule **nr = kanshi_reallocarray(rs->rules, rs->nrules + 1, sizeof(*nr));
    if (nr == NULL)
        return -ENOMEM;
    rs->rules = nr;
    rs->rules[rs->nrules] = p->r;
    sid_put(pv, key, rs->nrules);
    rs->nrules++;
    return 0;
}

struct rule *ruleset_find_sid(const struct ruleset *rs, uint32_t gid, uint32_t sid)
{
    const struct sid_slot *s = sid_find(rs->priv, (uint64_t)gid << 32 | sid);

    return s == NULL ? NULL : rs->rules[s->idx];
}

void ruleset_reindex(struct ruleset *rs)
{
    struct rs_priv *pv = rs->priv;

    if (pv->cap == 0)
        return;
    memset(pv->slots, 0, pv->cap * sizeof(*pv->slots));
    pv->n = 0;
    for (size_t i = 0; i < rs->nrules; i++)
        sid_put(pv, (uint64_t)rs->rules[i]->gid << 32 | rs->rules[i]->sid, i);
}

int ruleset_finalize(struct ruleset *rs)
{
    int rc;

    if (rs->finalized)
        return 0;
    if ((rc = rule_threshold_apply(rs)) != 0 || (rc = rule_order(rs)) != 0)
        return rc;
    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i]->idx = (uint32_t)i;
    ruleset_reindex(rs);
    rs->finalized = true;
    return 0;
}

static void rparse_fini(struct rparse *p)
{
    for (size_t i = 0; i < RULE_BYTEVARS_MAX; i++)
        free(p->bytevar[i]);
}

int ruleset_add_rule(struct ruleset *rs, const char *text, const char *file, unsigned line)
{
    struct rparse p = {.rs = rs, .last_content = -1, .last_pm = -1, .kw = "header"};
    size_t len = strnlen(text, RULE_MAX_LEN + 1);
    char *buf = NULL, *opts = NULL;
    int rc;

    if (file == NULL)
        file = "-";
    if (len > RULE_MAX_LEN) {
        rc = rp_err(&p, "rule longer than %d bytes", RULE_MAX_LEN);
        goto fail;
    }
    rc = -ENOMEM;
    if ((buf = malloc(len + 1)) == NULL || (p.r = calloc(1, sizeof(*p.r))) == NULL ||
        (p.r->file = strdup(file)) == NULL) {
        rp_err(&p, "out of memory");
        goto fail;
    }
    memcpy(buf, text, len + 1);
    p.r->line = line;
    p.r->gid = 1;
    p.r->generation = rs->generation;
    if ((rc = parse_header(&p, buf, &opts)) != 0 || (rc = parse_options(&p, opts)) != 0 ||
        (rc = rule_finish(&p)) != 0 || (rc = ruleset_append(&p)) != 0)
        goto fail;
    free(buf);
    rparse_fini(&p);
    rs->finalized = false;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(p.err, sizeof(p.err), "out of memory");
    rule_report(rs, file, line, p.kw, p.err);
    rule_free(p.r);
    free(buf);
    rparse_fini(&p);
    return rc;
}

/* ---- files ------------------------------------------------------------- */

struct textbuf {
    char *s;
    size_t len, cap;
};

static int textbuf_append(struct textbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL)
            return -ENOMEM;
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* Hands one joined rule to ruleset_add_rule; counts what loaded. */
static int load_one(struct ruleset *rs, struct textbuf *b, bool too_long, const char *path,
                    unsigned line, int *loaded)
{
    int rc;

    if (too_long) {
        char reason[64];
        snprintf(reason, sizeof(reason), "rule longer than %d bytes", RULE_MAX_LEN);
        rule_report(rs, path, line, "header", reason);
        rc = KANSHI_EPARSE;
    } else {
        rc = ruleset_add_rule(rs, b->s, path, line);
    }
    b->len = 0;
    if (rc == 0)
        (*loaded)++;
    return rc == -ENOMEM ? rc : 0;
}

static int load_file(struct ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "r");
    struct textbuf b = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0, start = 0;
    bool too_long = false;
    int loaded = 0, rc = 0;

    if (f == NULL)
        return -errno;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        char *s = line;
        lineno++;
        if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 BOM */
            s += 3;
            n -= 3;
        }
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            s[--n] = '\0';
        if (b.len == 0 && !too_long) {
            const char *t = s;
            while (is_blank(*t))
                t++;
            if (*t == '\0' || *t == '#')
                continue;
            start = lineno;
        }
        bool cont = n > 0 && s[n - 1] == '\\';
        if (cont)
            s[--n] = '\0';
        if (b.len + (size_t)n > RULE_MAX_LEN)
            too_long = true;
        else if (textbuf_append(&b, s, (size_t)n) < 0)
            rc = -ENOMEM;
        if (!cont && rc == 0) {
            rc = load_one(rs, &b, too_long, path, start, &loaded);
            too_long = false;
        }
    }
    if (rc == 0 && (b.len > 0 || too_long)) /* the file ended in a continuation */
        rc = load_one(rs, &b, too_long, path, start, &loaded);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(line);
    free(b.s);
    fclose(f);
    return rc < 0 ? rc : loaded;
}

static int rules_file_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 6 && strcmp(d->d_name + n - 6, ".rules") == 0;
}

static int load_path(struct ruleset *rs, const char *path)
{
    struct stat st;
    struct dirent **ents;
    int n, total = 0, rc = 0;

    if (stat(path, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return load_file(rs, path);
    n = scandir(path, &ents, rules_file_filter, alphasort);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        char *sub = NULL;
        if (rc >= 0) {
            if (asprintf(&sub, "%s/%s", path, ents[i]->d_name) < 0) {
                sub = NULL;
                rc = -ENOMEM;
            } else {
                rc = load_file(rs, sub);
            }
            if (rc >= 0)
                total += rc;
        }
        free(sub);
        free(ents[i]);
    }
    free(ents);
    return rc < 0 ? rc : total;
}

int ruleset_load_path(struct ruleset *rs, const char *path)
{
    int rc = load_path(rs, path), frc;

    /* Finalizing here keeps every caller's ruleset evaluation-ready (flowbit
     * order, threshold.config); doing it again after more files is cheap. */
    if (rc >= 0 && (frc = ruleset_finalize(rs)) < 0)
        return frc;
    return rc;
}
