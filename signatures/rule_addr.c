/*
 * rule_addr.c — address and port expressions of the rule language, and the
 * named groups ($HOME_NET, $HTTP_PORTS, ...) they may refer to.
 *
 * One recursive parser serves both kinds of expression; only the leaf syntax
 * (an address, CIDR or range; a port or port range) differs.  Every value is
 * a list of inclusive ranges per family over a 128-bit key, which covers IPv6
 * (128 bits), IPv4 (32) and ports (16) alike, so union, complement and
 * difference are written once.  The result is normalised (sorted, disjoint,
 * adjacent ranges merged) into struct addr_set / struct port_set, which the
 * detection engine matches by binary search.
 *
 * Semantics follow Suricata: a list is the union of its positive elements
 * minus the union of its negated ones; a list with only negated elements
 * starts from "any"; "!X" is the complement of X; an empty result is an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"

/* Bounds that keep hostile input (fuzzing, bad configs) from recursing deep. */
#define ADDR_MAX_NEST 64     /* brackets and '!' inside one expression */
#define ADDR_MAX_VARDEPTH 16 /* variables referring to variables */
#define ADDR_MAX_TOKEN 128   /* one address or port token */

/* ---- 128-bit keys and range lists ---------------------------------------- */

struct key {
    uint64_t hi, lo;
};

struct rng {
    struct key lo, hi;
};

struct rlist {
    struct rng *r;
    size_t n, cap;
};

/* Families of a value: addresses use both, ports only the first. */
enum { FAM_V4, FAM_V6, NFAM };

struct val {
    struct rlist fam[NFAM];
};

static int key_cmp(struct key a, struct key b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static struct key key_inc(struct key k)
{
    if (++k.lo == 0)
        k.hi++;
    return k;
}

static struct key key_dec(struct key k)
{
    if (k.lo-- == 0)
        k.hi--;
    return k;
}

static struct key key_from_bytes(const uint8_t *b, size_t n)
{
    struct key k = {0, 0};

    for (size_t i = 0; i < n; i++) {
        k.hi = (k.hi << 8) | (k.lo >> 56);
        k.lo = (k.lo << 8) | b[i];
    }
    return k;
}

static void key_to_bytes16(struct key k, uint8_t out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(k.hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(k.lo >> (56 - 8 * i));
    }
}

/* Host bits of a prefix: the low (width - prefix) bits set. */
static struct key key_hostmask(unsigned width, unsigned prefix)
{
    unsigned bits = width - prefix;
    struct key m = {0, 0};

    if (bits >= 64) {
        m.lo = UINT64_MAX;
        m.hi = bits == 128 ? UINT64_MAX : (UINT64_C(1) << (bits - 64)) - 1;
    } else if (bits > 0) {
        m.lo = (UINT64_C(1) << bits) - 1;
    }
    return m;
}

static int rl_push(struct rlist *l, struct key lo, struct key hi)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        struct rng *nr = kanshi_reallocarray(l->r, ncap, sizeof(*nr));
        if (nr == NULL)
            return -ENOMEM;
        l->r = nr;
        l->cap = ncap;
    }
    l->r[l->n].lo = lo;
    l->r[l->n].hi = hi;
    l->n++;
    return 0;
}

static void rl_free(struct rlist *l)
{
    free(l->r);
    l->r = NULL;
    l->n = l->cap = 0;
}

static int rng_cmp(const void *a, const void *b)
{
    const struct rng *x = a, *y = b;
    return key_cmp(x->lo, y->lo);
}

/* Sorts and merges overlapping or adjacent ranges, in place. */
static void rl_normalize(struct rlist *l)
{
    size_t out = 0;

    if (l->n < 2)
        return;
    qsort(l->r, l->n, sizeof(*l->r), rng_cmp);
    for (size_t i = 1; i < l->n; i++) {
        struct rng *cur = &l->r[out];
        const struct rng *nx = &l->r[i];
        /* cur->hi + 1 would wrap at the top of the domain: then all merge */
        bool touches = key_cmp(nx->lo, cur->hi) <= 0 || key_cmp(nx->lo, key_inc(cur->hi)) == 0;
        if (touches) {
            if (key_cmp(nx->hi, cur->hi) > 0)
                cur->hi = nx->hi;
        } else {
            l->r[++out] = *nx;
        }
    }
    l->n = out + 1;
}

/* out = [0, max] minus the normalised list in. */
static int rl_complement(const struct rlist *in, struct key max, struct rlist *out)
{
    struct key start = {0, 0};

    for (size_t i = 0; i < in->n; i++) {
        if (key_cmp(in->r[i].lo, start) > 0 && rl_push(out, start, key_dec(in->r[i].lo)) < 0)
            return -ENOMEM;
        if (key_cmp(in->r[i].hi, max) >= 0)
            return 0;
        start = key_inc(in->r[i].hi);
    }
    return rl_push(out, start, max);
}

/* out = a ∩ b, both normalised; the result is normalised too. */
static int rl_intersect(const struct rlist *a, const struct rlist *b, struct rlist *out)
{
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        struct key lo = key_cmp(a->r[i].lo, b->r[j].lo) > 0 ? a->r[i].lo : b->r[j].lo;
        struct key hi = key_cmp(a->r[i].hi, b->r[j].hi) < 0 ? a->r[i].hi : b->r[j].hi;
        if (key_cmp(lo, hi) <= 0 && rl_push(out, lo, hi) < 0)
            return -ENOMEM;
        if (key_cmp(a->r[i].hi, b->r[j].hi) < 0)
            i++;
        else
            j++;
    }
    return 0;
}

/* Appends src to dst (dst is normalised by the caller afterwards). */
static int rl_append(struct rlist *dst, const struct rlist *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (rl_push(dst, src->r[i].lo, src->r[i].hi) < 0)
            return -ENOMEM;
    return 0;
}

static void val_free(struct val *v)
{
    for (int f = 0; f < NFAM; f++)
        rl_free(&v->fam[f]);
}

static bool val_empty(const struct val *v)
{
    for (int f = 0; f < NFAM; f++)
        if (v->fam[f].n > 0)
            return false;
    return true;
}

/* ---- variables ---------------------------------------------------------- */

struct rule_var {
    char *name;
    char *value;
    bool port;
};

struct rule_vars {
    struct rule_var *v;
    size_t n, cap;
};

int rule_vars_create(struct rule_vars **out)
{
    struct rule_vars *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return -ENOMEM;
    *out = v;
    return 0;
}

void rule_vars_destroy(struct rule_vars *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    free(v);
}

static struct rule_var *vars_find(const struct rule_vars *v, const char *name, size_t len,
                                  bool port)
{
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i].port == port && strlen(v->v[i].name) == len &&
            memcmp(v->v[i].name, name, len) == 0)
            return &v->v[i];
    return NULL;
}

static int vars_set(struct rule_vars *v, const char *name, const char *value, bool port)
{
    struct rule_var *e;
    char *nv;

    if (name[0] == '$') /* tolerate "$HOME_NET" from a config */
        name++;
    nv = strdup(value);
    if (nv == NULL)
        return -ENOMEM;
    e = vars_find(v, name, strlen(name), port);
    if (e != NULL) {
        free(e->value);
        e->value = nv;
        return 0;
    }
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        struct rule_var *na = kanshi_reallocarray(v->v, ncap, sizeof(*na));
        if (na == NULL) {
            free(nv);
            return -ENOMEM;
        }
        v->v = na;
        v->cap = ncap;
    }
    e = &v->v[v->n];
    e->name = strdup(name);
    if (e->name == NULL) {
        free(nv);
        return -ENOMEM;
    }
    e->value = nv;
    e->port = port;
    v->n++;
    return 0;
}

int rule_vars_set_address(struct rule_vars *v, const char *name, const char *value)
{
    return vars_set(v, name, value, false);
}

int rule_vars_set_port(struct rule_vars *v, const char *name, const char *value)
{
    return vars_set(v, name, value, true);
}

/* Suricata's suricata.yaml defaults. */
static const struct {
    const char *name, *value;
    bool port;
} vars_defaults[] = {
    {"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", false},
    {"EXTERNAL_NET", "!$HOME_NET", false},
    {"HTTP_SERVERS", "$HOME_NET", false},
    {"SMTP_SERVERS", "$HOME_NET", false},
    {"SQL_SERVERS", "$HOME_NET", false},
    {"DNS_SERVERS", "$HOME_NET", false},
    {"TELNET_SERVERS", "$HOME_NET", false},
    {"AIM_SERVERS", "$EXTERNAL_NET", false},
    {"DC_SERVERS", "$HOME_NET", false},
    {"DNP3_SERVER", "$HOME_NET", false},
    {"DNP3_CLIENT", "$HOME_NET", false},
    {"MODBUS_CLIENT", "$HOME_NET", false},
    {"MODBUS_SERVER", "$HOME_NET", false},
    {"ENIP_CLIENT", "$HOME_NET", false},
    {"ENIP_SERVER", "$HOME_NET", false},
    {"HTTP_PORTS", "80", true},
    {"SHELLCODE_PORTS", "!80", true},
    {"ORACLE_PORTS", "1521", true},
    {"SSH_PORTS", "22", true},
    {"DNP3_PORTS", "20000", true},
    {"MODBUS_PORTS", "502", true},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]", true},
    {"FTP_PORTS", "21", true},
    {"GENEVE_PORTS", "6081", true},
    {"VXLAN_PORTS", "4789", true},
    {"TEREDO_PORTS", "3544", true},
    {"SIP_PORTS", "[5060, 5061]", true},
};

int rule_vars_set_defaults(struct rule_vars *v)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(vars_defaults); i++) {
        const char *name = vars_defaults[i].name;
        if (vars_find(v, name, strlen(name), vars_defaults[i].port) != NULL)
            continue;
        int rc = vars_set(v, name, vars_defaults[i].value, vars_defaults[i].port);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the expression parser ---------------------------------------------- */

struct pctx;

/* What differs between address and port expressions. */
struct domain {
    const char *what; /* "address" or "port", for messages */
    bool port;
    int nfam;
    struct key max[NFAM];
    /* Parses one leaf token (not "any", not a var) into out. */
    int (*leaf)(struct pctx *c, const char *tok, struct val *out);
};

struct pctx {
    const struct domain *dom;
    const struct rule_vars *vars;
    char *err;
    size_t errlen;
    const struct rule_var *stack[ADDR_MAX_VARDEPTH]; /* vars being resolved */
    int nvars;
    int nest;
};

static int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct pctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return KANSHI_EPARSE;
}

static int oom(struct pctx *c)
{
    perr(c, "out of memory");
    return -ENOMEM;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool is_varch(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

static int val_full(struct pctx *c, struct val *out)
{
    for (int f = 0; f < c->dom->nfam; f++)
        if (rl_push(&out->fam[f], (struct key){0, 0}, c->dom->max[f]) < 0)
            return oom(c);
    return 0;
}

/* out = complement of in (per family). */
static int val_complement(struct pctx *c, const struct val *in, struct val *out)
{
    for (int f = 0; f < c->dom->nfam; f++)
        if (rl_complement(&in->fam[f], c->dom->max[f], &out->fam[f]) < 0)
            return oom(c);
    return 0;
}

/* out = a minus b. */
static int val_subtract(struct pctx *c, const struct val *a, const struct val *b, struct val *out)
{
    for (int f = 0; f < c->dom->nfam; f++) {
        struct rlist nb = {0};
        int rc = rl_complement(&b->fam[f], c->dom->max[f], &nb);
        if (rc == 0)
            rc = rl_intersect(&a->fam[f], &nb, &out->fam[f]);
        rl_free(&nb);
        if (rc < 0)
            return oom(c);
    }
    return 0;
}

/* dst |= src. */
static int val_union(struct pctx *c, struct val *dst, const struct val *src)
{
    for (int f = 0; f < c->dom->nfam; f++) {
        if (rl_append(&dst->fam[f], &src->fam[f]) < 0)
            return oom(c);
        rl_normalize(&dst->fam[f]);
    }
    return 0;
}

static int parse_elem(struct pctx *c, const char **pp, const char *end, struct val *out);

static int parse_items(struct pctx *c, const char **pp, const char *end, bool bracketed,
                       struct val *out);

/* True when s..end holds a ',' outside brackets: a list written without
 * them, "a,b", which Suricata takes in rules and in variables. */
static bool top_level_comma(const char *s, const char *end)
{
    int depth = 0;

    for (const char *p = s; p < end; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
        else if (*p == ',' && depth == 0)
            return true;
    }
    return false;
}

static int parse_expr(struct pctx *c, const char *s, const char *end, struct val *out)
{
    const char *p = s;
    int rc;

    if (top_level_comma(s, end))
        return parse_items(c, &p, end, false, out);
    rc = parse_elem(c, &p, end, out);

    if (rc != 0)
        return rc;
    p = skip_ws(p, end);
    if (p < end) {
        val_free(out);
        if (*p == ']')
            return perr(c, "unbalanced brackets in '%.*s'", (int)(end - s), s);
        return perr(c, "unexpected '%c' in %s '%.*s'", *p, c->dom->what, (int)(end - s), s);
    }
    return 0;
}

static int parse_negation(struct pctx *c, const char **pp, const char *end, struct val *out)
{
    struct val inner = {0};
    int rc;

    (*pp)++; /* '!' */
    rc = parse_elem(c, pp, end, &inner);
    if (rc != 0)
        return rc;
    rc = val_complement(c, &inner, out);
    val_free(&inner);
    if (rc == 0 && val_empty(out))
        rc = perr(c, "empty %s set (negation of everything)", c->dom->what);
    return rc;
}

static int parse_list(struct pctx *c, const char **pp, const char *end, struct val *out)
{
    (*pp)++; /* '[' */
    return parse_items(c, pp, end, true, out);
}

/* The items of a list: after its '[' up to and past its ']' when bracketed,
 * else up to end. */
static int parse_items(struct pctx *c, const char **pp, const char *end, bool bracketed,
                       struct val *out)
{
    const char *start = *pp - bracketed, *p = *pp;
    struct val pos = {0}, neg = {0}, base = {0};
    bool have_pos = false;
    int rc = 0;

    for (;;) {
        struct val item = {0};
        bool negated = false;

        p = skip_ws(p, end);
        if (p < end && *p == '!') {
            negated = true;
            p++;
        }
        rc = parse_elem(c, &p, end, &item);
        if (rc != 0)
            goto out;
        rc = val_union(c, negated ? &neg : &pos, &item);
        val_free(&item);
        if (rc != 0)
            goto out;
        have_pos |= !negated;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (bracketed && p < end && *p == ']') {
            p++;
            break;
        }
        if (!bracketed && p >= end)
            break;
        rc = p >= end || *p == ']'
                 ? perr(c, "unbalanced brackets in '%.*s'", (int)(end - start), start)
                 : perr(c, "unexpected '%c' in %s list", *p, c->dom->what);
        goto out;
    }
    if (!have_pos && (rc = val_full(c, &base)) != 0)
        goto out;
    rc = val_subtract(c, have_pos ? &pos : &base, &neg, out);
    if (rc == 0 && val_empty(out))
        rc = perr(c, "empty %s set '%.*s'", c->dom->what, (int)(p - start), start);
out:
    val_free(&pos);
    val_free(&neg);
    val_free(&base);
    *pp = p;
    return rc;
}

static int parse_var(struct pctx *c, const char **pp, const char *end, struct val *out)
{
    const char *name = *pp + 1, *p = name;
    const struct rule_var *v;
    int rc;

    while (p < end && is_varch(*p))
        p++;
    *pp = p;
    if (p == name)
        return perr(c, "missing variable name after '$'");
    v = vars_find(c->vars, name, (size_t)(p - name), c->dom->port);
    if (v == NULL)
        return perr(c, "unknown variable $%.*s", (int)(p - name), name);
    for (int i = 0; i < c->nvars; i++)
        if (c->stack[i] == v)
            return perr(c, "variable loop at $%s", v->name);
    if (c->nvars == ADDR_MAX_VARDEPTH)
        return perr(c, "variables nested too deep at $%s", v->name);
    c->stack[c->nvars++] = v;
    rc = parse_expr(c, v->value, v->value + strlen(v->value), out);
    c->nvars--;
    return rc;
}

static int parse_token(struct pctx *c, const char **pp, const char *end, struct val *out)
{
    const char *s = *pp, *p = s;
    char tok[ADDR_MAX_TOKEN];
    size_t len;

    while (p < end && !is_ws(*p) && *p != ',' && *p != ']' && *p != '[' && *p != '!' && *p != '$')
        p++;
    *pp = p;
    len = (size_t)(p - s);
    if (len == 0) {
        if (p >= end)
            return perr(c, "missing %s", c->dom->what);
        return perr(c, "unexpected '%c' in %s", *p, c->dom->what);
    }
    if (len >= sizeof(tok))
        return perr(c, "invalid %s '%.*s...'", c->dom->what, 32, s);
    memcpy(tok, s, len);
    tok[len] = '\0';
    if (strcasecmp(tok, "any") == 0)
        return val_full(c, out);
    return c->dom->leaf(c, tok, out);
}

static int parse_elem(struct pctx *c, const char **pp, const char *end, struct val *out)
{
    int rc;

    *pp = skip_ws(*pp, end);
    if (*pp >= end)
        return perr(c, "missing %s", c->dom->what);
    if (c->nest == ADDR_MAX_NEST)
        return perr(c, "%s nested too deep", c->dom->what);
    c->nest++;
    switch (**pp) {
    case '!':
        rc = parse_negation(c, pp, end, out);
        break;
    case '[':
        rc = parse_list(c, pp, end, out);
        break;
    case '$':
        rc = parse_var(c, pp, end, out);
        break;
    default:
        rc = parse_token(c, pp, end, out);
        break;
    }
    c->nest--;
    if (rc != 0)
        val_free(out);
    return rc;
}

/* ---- leaves ------------------------------------------------------------- */

/* One plain IPv4 or IPv6 address (no prefix) as a key; family in *fam. */
static int addr_plain(const char *s, int *fam, struct key *k)
{
    uint8_t b[16];

    if (strchr(s, ':') != NULL) {
        if (inet_pton(AF_INET6, s, b) != 1)
            return -1;
        *fam = FAM_V6;
        *k = key_from_bytes(b, 16);
    } else {
        if (inet_pton(AF_INET, s, b) != 1)
            return -1;
        *fam = FAM_V4;
        *k = key_from_bytes(b, 4);
    }
    return 0;
}

static int parse_prefix_len(const char *s, unsigned width, unsigned *prefix)
{
    unsigned v = 0;

    if (*s == '\0' || strlen(s) > 3)
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > width)
        return -1;
    *prefix = v;
    return 0;
}

/* a.b.c.d/255.255.0.0: a contiguous IPv4 netmask as a prefix length. */
static int parse_netmask(const char *s, unsigned *prefix)
{
    uint8_t b[4];
    uint32_t m, inv;

    if (inet_pton(AF_INET, s, b) != 1)
        return -1;
    m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    inv = ~m;
    if ((inv & (inv + 1)) != 0) /* host part must be all the low bits */
        return -1;
    *prefix = 0;
    for (; m != 0; m <<= 1)
        (*prefix)++;
    return 0;
}

static int addr_leaf(struct pctx *c, const char *tok, struct val *out)
{
    char buf[ADDR_MAX_TOKEN];
    char *slash, *dash;
    struct key lo, hi;
    int fam, fam2;

    strcpy(buf, tok); /* parse_token bounded tok by sizeof(buf) */
    slash = strchr(buf, '/');
    dash = strchr(buf, '-');
    if (slash != NULL && dash == NULL) {
        unsigned width, prefix;
        *slash = '\0';
        if (addr_plain(buf, &fam, &lo) < 0)
            return perr(c, "invalid address '%s'", tok);
        width = fam == FAM_V4 ? 32 : 128;
        if (parse_prefix_len(slash + 1, width, &prefix) < 0 &&
            (fam != FAM_V4 || strchr(slash + 1, '.') == NULL ||
             parse_netmask(slash + 1, &prefix) < 0))
            return perr(c, "invalid CIDR /%s", slash + 1);
        struct key m = key_hostmask(width, prefix);
        lo.hi &= ~m.hi;
        lo.lo &= ~m.lo;
        hi.hi = lo.hi | m.hi;
        hi.lo = lo.lo | m.lo;
    } else if (dash != NULL && slash == NULL) {
        *dash = '\0';
        if (addr_plain(buf, &fam, &lo) < 0 || addr_plain(dash + 1, &fam2, &hi) < 0)
            return perr(c, "invalid address '%s'", tok);
        if (fam != fam2)
            return perr(c, "invalid address range '%s' (mixed families)", tok);
        if (key_cmp(lo, hi) > 0)
            return perr(c, "invalid address range '%s' (start above end)", tok);
    } else {
        if (slash != NULL || addr_plain(buf, &fam, &lo) < 0)
            return perr(c, "invalid address '%s'", tok);
        hi = lo;
    }
    if (rl_push(&out->fam[fam], lo, hi) < 0)
        return oom(c);
    return 0;
}

/* A decimal port 0..65535; -1 when s is not one. */
static long port_num(const char *s, size_t len)
{
    long v = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 65535 ? v : -1;
}

static int port_leaf(struct pctx *c, const char *tok, struct val *out)
{
    const char *colon = strchr(tok, ':');
    long lo, hi;

    if (colon == NULL) {
        lo = hi = port_num(tok, strlen(tok));
    } else {
        if (colon == tok && colon[1] == '\0')
            return perr(c, "invalid port '%s'", tok);
        lo = colon == tok ? 0 : port_num(tok, (size_t)(colon - tok));
        hi = colon[1] == '\0' ? 65535 : port_num(colon + 1, strlen(colon + 1));
    }
    if (lo < 0 || hi < 0)
        return perr(c, "invalid port '%s'", tok);
    if (lo > hi)
        return perr(c, "invalid port range '%s' (start above end)", tok);
    if (rl_push(&out->fam[0], (struct key){0, (uint64_t)lo}, (struct key){0, (uint64_t)hi}) < 0)
        return oom(c);
    return 0;
}

static const struct domain addr_domain = {
    .what = "address",
    .port = false,
    .nfam = 2,
    .max = {{0, UINT32_MAX}, {UINT64_MAX, UINT64_MAX}},
    .leaf = addr_leaf,
};

static const struct domain port_domain = {
    .what = "port",
    .port = true,
    .nfam = 1,
    .max = {{0, 65535}},
    .leaf = port_leaf,
};

static int parse_top(const struct domain *dom, struct val *v, const char *expr,
                     const struct rule_vars *vars, char *err, size_t errlen)
{
    struct pctx c = {.dom = dom, .vars = vars, .err = err, .errlen = errlen};
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    rc = parse_expr(&c, expr, expr + strlen(expr), v);
    if (rc != 0)
        return rc;
    for (int f = 0; f < NFAM; f++)
        rl_normalize(&v->fam[f]);
    if (val_empty(v)) {
        val_free(v);
        return perr(&c, "empty %s set '%s'", dom->what, expr);
    }
    return 0;
}

static bool rl_is_full(const struct rlist *l, struct key max)
{
    return l->n == 1 && key_cmp(l->r[0].lo, (struct key){0, 0}) == 0 &&
           key_cmp(l->r[0].hi, max) == 0;
}

int addr_set_parse(struct addr_set *out, const char *expr, const struct rule_vars *vars, char *err,
                   size_t errlen)
{
    struct val v = {0};
    struct addr_set s = {0};
    int rc = parse_top(&addr_domain, &v, expr, vars, err, errlen);

    if (rc != 0)
        return rc;
    const struct rlist *l4 = &v.fam[FAM_V4], *l6 = &v.fam[FAM_V6];
    if (l4->n > 0 && (s.v4 = kanshi_calloc(l4->n, sizeof(*s.v4))) == NULL)
        goto nomem;
    if (l6->n > 0 && (s.v6 = kanshi_calloc(l6->n, sizeof(*s.v6))) == NULL)
        goto nomem;
    for (size_t i = 0; i < l4->n; i++) {
        s.v4[i].lo = (uint32_t)l4->r[i].lo.lo;
        s.v4[i].hi = (uint32_t)l4->r[i].hi.lo;
    }
    for (size_t i = 0; i < l6->n; i++) {
        key_to_bytes16(l6->r[i].lo, s.v6[i].lo);
        key_to_bytes16(l6->r[i].hi, s.v6[i].hi);
    }
    s.n4 = l4->n;
    s.n6 = l6->n;
    s.any = rl_is_full(l4, addr_domain.max[FAM_V4]) && rl_is_full(l6, addr_domain.max[FAM_V6]);
    val_free(&v);
    *out = s;
    return 0;
nomem:
    val_free(&v);
    addr_set_fini(&s);
    if (errlen > 0)
        snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int port_set_parse(struct port_set *out, const char *expr, const struct rule_vars *vars, char *err,
                   size_t errlen)
{
    struct val v = {0};
    struct port_set s = {0};
    int rc = parse_top(&port_domain, &v, expr, vars, err, errlen);

    if (rc != 0)
        return rc;
    const struct rlist *l = &v.fam[0];
    s.r = kanshi_calloc(l->n, sizeof(*s.r));
    if (s.r == NULL) {
        val_free(&v);
        if (errlen > 0)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++) {
        s.r[i].lo = (uint16_t)l->r[i].lo.lo;
        s.r[i].hi = (uint16_t)l->r[i].hi.lo;
    }
    s.n = l->n;
    s.any = rl_is_full(l, port_domain.max[0]);
    val_free(&v);
    *out = s;
    return 0;
}

void addr_set_fini(struct addr_set *s)
{
    if (s == NULL)
        return;
    free(s->v4);
    free(s->v6);
    memset(s, 0, sizeof(*s));
}

void port_set_fini(struct port_set *s)
{
    if (s == NULL)
        return;
    free(s->r);
    memset(s, 0, sizeof(*s));
}

/* ---- matching: binary search for the last range starting at or below x -- */

static bool match_v4(const struct addr_range4 *r, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n; /* answer in [lo, hi) is the first range with r.lo > x */

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].lo <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && x <= r[lo - 1].hi;
}

static bool match_v6(const struct addr_range6 *r, size_t n, const uint8_t x[16])
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(r[mid].lo, x, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && memcmp(x, r[lo - 1].hi, 16) <= 0;
}

bool addr_set_match(const struct addr_set *s, const struct kanshi_addr *a)
{
    if (s->any)
        return true;
    if (a->family == AF_INET) {
        uint32_t x =
            (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 | (uint32_t)a->a[2] << 8 | a->a[3];
        return match_v4(s->v4, s->n4, x);
    }
    if (a->family == AF_INET6)
        return match_v6(s->v6, s->n6, a->a);
    return false;
}

bool port_set_match(const struct port_set *s, uint16_t port)
{
    size_t lo = 0, hi;

    if (s->any)
        return true;
    hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].lo <= port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && port <= s->r[lo - 1].hi;
}
