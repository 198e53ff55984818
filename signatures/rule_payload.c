/*
 * rule_payload.c — the payload keywords besides content: pcre, isdataat,
 * byte_test, byte_jump, byte_extract, byte_math and pkt_data.
 *
 * Each becomes one struct rule_match in rule order, interleaved with the
 * contents, because relative keywords refer to whatever payload test came
 * before (content or pcre end, byte_jump target, byte_extract end).  pcre is
 * compiled and JIT-compiled here, once, so a bad regex is a load error and
 * the packet path only matches.  byte_extract and byte_math name variables
 * that later byte_test/byte_jump/isdataat and content
 * offset/depth/distance/within may use; names become small indexes into a
 * per-evaluation array.
 *
 * Syntax and limits follow Suricata's (offsets within +-65535, up to 8 bytes
 * binary or 23 as a string, bases dec/hex/oct, multiplier 1..65535).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "rule_int.h"

#define BYTE_ARGS_MAX 16
#define BYTE_OFFSET_MAX 65535

void rule_match_fini(struct rule_match *m)
{
    switch (m->kind) {
    case RULE_MATCH_CONTENT:
        free(m->u.content.pat);
        m->u.content.pat = NULL;
        break;
    case RULE_MATCH_PCRE:
        pcre2_code_free(m->u.pcre.code);
        free(m->u.pcre.source);
        m->u.pcre.code = NULL;
        m->u.pcre.source = NULL;
        break;
    default:
        break;
    }
}

int rule_split(char *v, char **out, int max)
{
    int n = 0, depth = 0;
    bool quoted = false;
    char *start = v;

    for (char *s = v;; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == '[' && !quoted)
            depth++;
        else if (*s == ']' && !quoted && depth > 0)
            depth--;
        if (*s == '\0' || (*s == ',' && !quoted && depth == 0)) {
            bool end = *s == '\0';
            if (n == max)
                return -1;
            *s = '\0';
            out[n++] = rule_trim(start);
            if (end)
                break;
            start = s + 1;
        }
    }
    return n;
}

/* Unsigned decimal or 0x hex up to UINT64_MAX. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int base = 10;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && isxdigit((unsigned char)*s))
            d = (*s | 32) - 'a' + 10;
        else
            return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

/*
 * A byte variable's name: a letter or '_' first (so it never reads as a
 * number), then anything Suricata's token allows short of the separators and
 * quotes, so ET's dotted names ("kelihos.p2p") load as they do there.
 */
static bool is_var_name(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    for (; *s != '\0'; s++)
        if (!isgraph((unsigned char)*s) || strchr(",;:\"'\\", *s) != NULL)
            return false;
    return true;
}

/* A value that is a number in [min, max] or a byte variable's name. */
static int num_or_var(struct rparse *p, const char *what, const char *v, int64_t min, int64_t max,
                      int64_t *out, bool *var)
{
    *var = false;
    if (is_var_name(v)) {
        int idx = rule_bytevar_find(p, v);
        if (idx < 0)
            return rp_err(p, "unknown byte_extract variable '%s'", v);
        *out = idx;
        *var = true;
        return 0;
    }
    if (rule_parse_num(v, min, max, out) < 0)
        return rp_err(p, "invalid %s '%s' (expected %" PRId64 "..%" PRId64 " or a variable)", what,
                      v, min, max);
    return 0;
}

/* Defines a new byte variable; its index, or a negative error. */
static int bytevar_define(struct rparse *p, const char *name)
{
    int idx;

    if (!is_var_name(name))
        return rp_err(p, "invalid variable name '%s'", name);
    if (rule_bytevar_find(p, name) >= 0)
        return rp_err(p, "variable '%s' defined twice", name);
    if (p->r->nbytevars >= RULE_BYTEVARS_MAX)
        return rp_err(p, "more than %d byte_extract/byte_math variables", RULE_BYTEVARS_MAX);
    idx = p->r->nbytevars;
    if ((p->bytevar[idx] = strdup(name)) == NULL)
        return -ENOMEM;
    p->r->nbytevars++;
    return idx;
}

/* ---- pcre -------------------------------------------------------------- */

/* Suricata's buffer-selecting modifiers: valid syntax, app-layer buffers. */
static const char pcre_buffer_mods[] = "UVWZHIDMCPQYS";

/* The buffer a payload keyword goes to: the sticky buffer's, but a relative
 * one follows the content or pcre it is relative to (content:"x"; http_uri;
 * isdataat:1,relative; tests the URI), as Suricata moves it to that list. */
static enum rule_buffer rel_buffer(const struct rparse *p, bool relative)
{
    if (relative && p->cur_buf == RULE_BUF_PAYLOAD && p->last_pm >= 0)
        return p->r->matches[p->last_pm].buffer;
    return p->cur_buf;
}

int rule_kw_pcre(struct rparse *p, char *v)
{
    struct rule_match *m;
    struct rule_pcre pc = {0};
    char *re, *slash, *src;
    uint32_t opts = 0;
    int errcode;
    PCRE2_SIZE erroff;
    enum rule_buffer pbuf = p->cur_buf;
    bool pbuf_set = false;

    if (*v == '!') {
        pc.flags |= PCRE_NEGATED;
        v = rule_trim(v + 1);
    }
    if ((src = strdup(v)) == NULL)
        return -ENOMEM;
    /* Suricata also takes the regex unquoted: pcre:/x/U; */
    if ((re = rule_unquote(v)) == NULL && v[0] != '/') {
        free(src);
        return rp_err(p, "value must be a quoted string");
    }
    if (re == NULL)
        re = v;
    slash = strrchr(re, '/');
    if (re[0] != '/' || slash == re) {
        free(src);
        return rp_err(p, "expected \"/regex/flags\"");
    }
    for (const char *f = slash + 1; *f != '\0'; f++) {
        switch (*f) {
        case 'i':
            opts |= PCRE2_CASELESS;
            break;
        case 's':
            opts |= PCRE2_DOTALL;
            break;
        case 'm':
            opts |= PCRE2_MULTILINE;
            break;
        case 'x':
            opts |= PCRE2_EXTENDED;
            break;
        case 'A':
            opts |= PCRE2_ANCHORED;
            break;
        case 'E':
            opts |= PCRE2_DOLLAR_ENDONLY;
            break;
        case 'G':
            opts |= PCRE2_UNGREEDY;
            break;
        case 'R':
            pc.flags |= PCRE_RELATIVE;
            break;
        case 'O':
            pc.flags |= PCRE_NOLIMIT;
            break;
        case 'B':
            pc.flags |= PCRE_RAWBYTES;
            break;
        default: {
            int brc = rule_app_pcre_buffer(p, *f, &pbuf);
            if (brc == 0) {
                pbuf_set = true;
                break;
            }
            free(src);
            if (brc < 0)
                return brc;
            if (strchr(pcre_buffer_mods, *f) != NULL)
                return rp_fail(p, KANSHI_EUNSUPPORTED,
                               "modifier '%c' selects an application-layer buffer (unsupported)",
                               *f);
            return rp_err(p, "unknown modifier '%c'", *f);
        }
        }
    }
    *slash = '\0';
    re++;
    pc.code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
    if (pc.code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        free(src);
        return rp_err(p, "invalid regex at offset %zu: %s", (size_t)erroff, (char *)msg);
    }
    /* JIT is an optimisation: without it (no executable memory) the
     * interpreter gives the same results. */
    (void)pcre2_jit_compile(pc.code, PCRE2_JIT_COMPLETE);
    pcre2_pattern_info(pc.code, PCRE2_INFO_CAPTURECOUNT, &pc.ncaptures);
    pc.source = src;
    if ((m = rule_match_append(p)) == NULL) {
        pcre2_code_free(pc.code);
        free(src);
        return -ENOMEM;
    }
    m->kind = RULE_MATCH_PCRE;
    m->buffer = pbuf_set ? pbuf : rel_buffer(p, (pc.flags & PCRE_RELATIVE) != 0);
    m->u.pcre = pc;
    p->last_pm = (int)(p->r->nmatches - 1);
    return 0;
}

/* ---- isdataat ---------------------------------------------------------- */

int rule_kw_isdataat(struct rparse *p, char *v)
{
    char *args[4];
    struct rule_isdataat d = {0};
    struct rule_match *m;
    int n, rc;
    int64_t val;
    bool var;

    if ((n = rule_split(v, args, 4)) < 0)
        return rp_err(p, "too many arguments");
    if (args[0][0] == '!') {
        d.flags |= ISDATAAT_NEGATED;
        args[0] = rule_trim(args[0] + 1);
    }
    if ((rc = num_or_var(p, "size", args[0], 0, BYTE_OFFSET_MAX, &val, &var)) != 0)
        return rc;
    d.dataat = (uint32_t)val;
    if (var)
        d.flags |= ISDATAAT_VAR;
    for (int i = 1; i < n; i++) {
        if (strcmp(args[i], "relative") == 0)
            d.flags |= ISDATAAT_RELATIVE;
        else if (strcmp(args[i], "rawbytes") == 0)
            d.flags |= ISDATAAT_RAWBYTES;
        else
            return rp_err(p, "invalid option '%s' (expected relative or rawbytes)", args[i]);
    }
    if ((m = rule_match_append(p)) == NULL)
        return -ENOMEM;
    m->kind = RULE_MATCH_ISDATAAT;
    m->buffer = rel_buffer(p, (d.flags & ISDATAAT_RELATIVE) != 0);
    m->u.isdataat = d;
    return 0;
}

/* ---- byte_* common options --------------------------------------------- */

/* What a byte keyword accepts among the shared options. */
enum {
    OPT_MULTIPLIER = 1u << 0,
    OPT_ALIGN4 = 1u << 1,  /* byte_jump "align" */
    OPT_ALIGN_N = 1u << 2, /* byte_extract "align N" */
    OPT_FROM = 1u << 3,    /* from_beginning, from_end */
    OPT_POST_OFFSET = 1u << 4,
    OPT_BITMASK = 1u << 5,
    /* big or little may come with string (and are then moot: the digits are
     * text), as byte_test, byte_jump and byte_math allow in Suricata;
     * byte_extract refuses the pair there and here */
    OPT_STRING_ENDIAN = 1u << 6,
};

static int base_of(const char *s)
{
    if (strcasecmp(s, "dec") == 0)
        return 10;
    if (strcasecmp(s, "hex") == 0)
        return 16;
    if (strcasecmp(s, "oct") == 0)
        return 8;
    return 0;
}

/* Parses the optional arguments args[0..n) shared by the byte keywords. */
static int byte_options(struct rparse *p, struct rule_byte *b, char **args, int n, unsigned allowed)
{
    bool endian = false;

    for (int i = 0; i < n; i++) {
        char *a = args[i], *arg = NULL;
        int64_t val;
        size_t kl = strcspn(a, " \t");

        if (a[kl] != '\0') {
            a[kl] = '\0';
            arg = rule_trim(a + kl + 1);
        }
        if (strcmp(a, "relative") == 0 && arg == NULL) {
            b->flags |= BYTE_RELATIVE;
        } else if ((strcasecmp(a, "big") == 0 || strcasecmp(a, "little") == 0 ||
                    strcasecmp(a, "dce") == 0) &&
                   arg == NULL) {
            if (endian)
                return rp_err(p, "endianness given twice");
            endian = true;
            if (strcasecmp(a, "little") == 0)
                b->flags |= BYTE_LITTLE;
            else if (strcasecmp(a, "dce") == 0)
                b->flags |= BYTE_DCE;
        } else if (strcasecmp(a, "string") == 0) {
            b->flags |= BYTE_STRING;
            if (arg != NULL) {
                if ((b->base = (uint8_t)base_of(arg)) == 0)
                    return rp_err(p, "invalid string base '%s' (expected dec, hex or oct)", arg);
            }
        } else if (base_of(a) != 0 && arg == NULL) {
            if (!(b->flags & BYTE_STRING))
                return rp_err(p, "base '%s' without string", a);
            if (b->base != 0)
                return rp_err(p, "more than one base");
            b->base = (uint8_t)base_of(a);
        } else if ((allowed & OPT_MULTIPLIER) && strcasecmp(a, "multiplier") == 0) {
            if (arg == NULL || rule_parse_num(arg, 1, 65535, &val) < 0)
                return rp_err(p, "invalid multiplier '%s' (expected 1..65535)", arg ? arg : "");
            b->multiplier = (uint32_t)val;
        } else if ((allowed & OPT_ALIGN4) && strcasecmp(a, "align") == 0 && arg == NULL) {
            b->flags |= BYTE_ALIGN;
            b->align = 4;
        } else if ((allowed & OPT_ALIGN_N) && strcasecmp(a, "align") == 0) {
            if (arg == NULL || rule_parse_int(arg, 2, 4, &val) < 0 || val == 3)
                return rp_err(p, "invalid align '%s' (expected 2 or 4)", arg ? arg : "");
            b->flags |= BYTE_ALIGN;
            b->align = (uint8_t)val;
        } else if ((allowed & OPT_FROM) && strcasecmp(a, "from_beginning") == 0 && arg == NULL) {
            b->flags |= BYTE_FROM_BEGIN;
        } else if ((allowed & OPT_FROM) && strcasecmp(a, "from_end") == 0 && arg == NULL) {
            b->flags |= BYTE_FROM_END;
        } else if ((allowed & OPT_POST_OFFSET) && strcasecmp(a, "post_offset") == 0) {
            if (arg == NULL || rule_parse_num(arg, -BYTE_OFFSET_MAX, BYTE_OFFSET_MAX, &val) < 0)
                return rp_err(p, "invalid post_offset '%s' (expected -65535..65535)",
                              arg ? arg : "");
            b->post_offset = (int32_t)val;
        } else if ((allowed & OPT_BITMASK) && strcasecmp(a, "bitmask") == 0) {
            uint64_t mask;
            char hex[24];
            /* bitmask values are hex, with or without 0x, as in Suricata */
            if (arg != NULL && !(arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')))
                snprintf(hex, sizeof(hex), "0x%.20s", arg);
            else
                snprintf(hex, sizeof(hex), "%.22s", arg ? arg : "");
            if (arg == NULL || parse_u64(hex, &mask) < 0 || mask == 0)
                return rp_err(p, "invalid bitmask '%s'", arg ? arg : "");
            b->flags |= BYTE_BITMASK;
            b->bitmask = mask;
            b->bitmask_shift = (uint8_t)__builtin_ctzll(mask);
        } else {
            return rp_err(p, "invalid option '%s%s%s'", a, arg ? " " : "", arg ? arg : "");
        }
    }
    if ((b->flags & BYTE_FROM_BEGIN) && (b->flags & BYTE_FROM_END))
        return rp_err(p, "from_beginning and from_end can't be combined");
    if ((b->flags & BYTE_STRING) && (b->flags & BYTE_DCE))
        return rp_err(p, "string can't be combined with dce");
    if ((b->flags & BYTE_STRING) && endian && !(allowed & OPT_STRING_ENDIAN))
        return rp_err(p, "string can't be combined with an endianness");
    if ((b->flags & BYTE_STRING) && b->base == 0)
        b->base = 10;
    if (b->multiplier == 0)
        b->multiplier = 1;
    return 0;
}

/* Checks the byte count against what can be extracted. */
static int byte_nbytes_check(struct rparse *p, const struct rule_byte *b, bool zero_ok)
{
    unsigned maxs = b->base == 16 ? 14 : b->base == 8 ? 23 : 20;

    if (b->flags & BYTE_NBYTES_VAR)
        return 0;
    if (b->nbytes == 0 && !zero_ok)
        return rp_err(p, "number of bytes must be at least 1");
    if (b->flags & BYTE_STRING) {
        if (b->nbytes > maxs)
            return rp_err(p, "can't extract more than %u bytes as a base-%u string", maxs, b->base);
    } else if (b->nbytes > 8) {
        return rp_err(p, "can't extract more than 8 bytes without string");
    }
    return 0;
}

static int byte_nbytes(struct rparse *p, struct rule_byte *b, const char *v, bool var_ok)
{
    int64_t n;
    bool var = false;
    int rc;

    if (var_ok) {
        if ((rc = num_or_var(p, "number of bytes", v, 0, 255, &n, &var)) != 0)
            return rc;
    } else if (rule_parse_int(v, 0, 255, &n) < 0) {
        return rp_err(p, "invalid number of bytes '%s'", v);
    }
    b->nbytes = (uint8_t)n;
    if (var)
        b->flags |= BYTE_NBYTES_VAR;
    return 0;
}

static int byte_offset(struct rparse *p, struct rule_byte *b, const char *v)
{
    int64_t n;
    bool var;
    int rc = num_or_var(p, "offset", v, -BYTE_OFFSET_MAX, BYTE_OFFSET_MAX, &n, &var);

    if (rc != 0)
        return rc;
    b->offset = (int32_t)n;
    if (var)
        b->flags |= BYTE_OFFSET_VAR;
    return 0;
}

static int byte_append(struct rparse *p, enum rule_match_kind kind, const struct rule_byte *b)
{
    struct rule_match *m = rule_match_append(p);

    if (m == NULL)
        return -ENOMEM;
    m->kind = kind;
    m->buffer = rel_buffer(p, (b->flags & BYTE_RELATIVE) != 0);
    m->u.byte = *b;
    return 0;
}

/* ---- byte_test --------------------------------------------------------- */

int rule_kw_byte_test(struct rparse *p, char *v)
{
    char *args[BYTE_ARGS_MAX], *op;
    struct rule_byte b = {0};
    int n, rc;
    static const struct {
        const char *tok;
        enum rule_byte_op op;
    } ops[] = {
        {"<=", BYTE_OP_LE}, {">=", BYTE_OP_GE}, {"<", BYTE_OP_LT},  {">", BYTE_OP_GT},
        {"=", BYTE_OP_EQ},  {"&", BYTE_OP_AND}, {"^", BYTE_OP_XOR},
    };

    if ((n = rule_split(v, args, BYTE_ARGS_MAX)) < 0)
        return rp_err(p, "too many arguments");
    if (n < 4)
        return rp_err(p, "expected bytes, operator, value, offset[, options]");
    if ((rc = byte_nbytes(p, &b, args[0], true)) != 0)
        return rc;
    op = args[1];
    if (*op == '!') {
        b.flags |= BYTE_NEGATED;
        op = rule_trim(op + 1);
    }
    if (*op == '\0' && (b.flags & BYTE_NEGATED)) {
        b.op = BYTE_OP_EQ; /* "!" alone is "not equal" */
    } else {
        size_t i;
        for (i = 0; i < KANSHI_ARRAY_LEN(ops); i++)
            if (strcmp(op, ops[i].tok) == 0)
                break;
        if (i == KANSHI_ARRAY_LEN(ops))
            return rp_err(p,
                          "invalid operator '%s' (expected <, >, =, <=, >=, &, ^, optionally "
                          "after !)",
                          args[1]);
        b.op = ops[i].op;
    }
    if (is_var_name(args[2])) {
        int idx = rule_bytevar_find(p, args[2]);
        if (idx < 0)
            return rp_err(p, "unknown byte_extract variable '%s'", args[2]);
        b.value = (uint64_t)idx;
        b.flags |= BYTE_VALUE_VAR;
    } else if (parse_u64(args[2], &b.value) < 0) {
        return rp_err(p, "invalid value '%s'", args[2]);
    }
    if ((rc = byte_offset(p, &b, args[3])) != 0 ||
        (rc = byte_options(p, &b, args + 4, n - 4, OPT_BITMASK | OPT_STRING_ENDIAN)) != 0 ||
        /* 0 bytes as a string: the digits up to the end of the buffer (ET
         * uses it on http.content_len) */
        (rc = byte_nbytes_check(p, &b, (b.flags & BYTE_STRING) != 0)) != 0)
        return rc;
    return byte_append(p, RULE_MATCH_BYTE_TEST, &b);
}

/* ---- byte_jump --------------------------------------------------------- */

int rule_kw_byte_jump(struct rparse *p, char *v)
{
    char *args[BYTE_ARGS_MAX];
    struct rule_byte b = {0};
    int n, rc;

    if ((n = rule_split(v, args, BYTE_ARGS_MAX)) < 0)
        return rp_err(p, "too many arguments");
    if (n < 2)
        return rp_err(p, "expected bytes, offset[, options]");
    if ((rc = byte_nbytes(p, &b, args[0], true)) != 0 || (rc = byte_offset(p, &b, args[1])) != 0 ||
        (rc = byte_options(p, &b, args + 2, n - 2,
                           OPT_MULTIPLIER | OPT_ALIGN4 | OPT_FROM | OPT_POST_OFFSET |
                               OPT_BITMASK | OPT_STRING_ENDIAN)) != 0 ||
        (rc = byte_nbytes_check(p, &b, true)) != 0)
        return rc;
    return byte_append(p, RULE_MATCH_BYTE_JUMP, &b);
}

/* ---- byte_extract ------------------------------------------------------ */

int rule_kw_byte_extract(struct rparse *p, char *v)
{
    char *args[BYTE_ARGS_MAX];
    struct rule_byte b = {0};
    int n, rc;

    if ((n = rule_split(v, args, BYTE_ARGS_MAX)) < 0)
        return rp_err(p, "too many arguments");
    if (n < 3)
        return rp_err(p, "expected bytes, offset, name[, options]");
    if ((rc = byte_nbytes(p, &b, args[0], false)) != 0 || (rc = byte_offset(p, &b, args[1])) != 0 ||
        (rc = byte_options(p, &b, args + 3, n - 3, OPT_MULTIPLIER | OPT_ALIGN_N | OPT_BITMASK)) !=
            0 ||
        (rc = byte_nbytes_check(p, &b, false)) != 0)
        return rc;
    if ((rc = bytevar_define(p, args[2])) < 0)
        return rc;
    b.result = (uint8_t)rc;
    return byte_append(p, RULE_MATCH_BYTE_EXTRACT, &b);
}

/* ---- byte_math --------------------------------------------------------- */

int rule_kw_byte_math(struct rparse *p, char *v)
{
    char *args[BYTE_ARGS_MAX], *rest[BYTE_ARGS_MAX];
    struct rule_byte b = {0};
    const char *result = NULL;
    bool have_bytes = false, have_offset = false, have_oper = false, have_rvalue = false;
    int n, nrest = 0, rc;
    static const struct {
        const char *tok;
        enum rule_byte_op op;
    } ops[] = {
        {"+", BYTE_OP_ADD}, {"-", BYTE_OP_SUB},  {"*", BYTE_OP_MUL},
        {"/", BYTE_OP_DIV}, {"<<", BYTE_OP_SHL}, {">>", BYTE_OP_SHR},
    };

    if ((n = rule_split(v, args, BYTE_ARGS_MAX)) < 0)
        return rp_err(p, "too many arguments");
    for (int i = 0; i < n; i++) {
        char *a = args[i], *arg = NULL;
        size_t kl = strcspn(a, " \t");
        if (a[kl] != '\0') {
            a[kl] = '\0';
            arg = rule_trim(a + kl + 1);
        }
        if (strcmp(a, "bytes") == 0 && arg != NULL) {
            if ((rc = byte_nbytes(p, &b, arg, true)) != 0)
                return rc;
            have_bytes = true;
        } else if (strcmp(a, "offset") == 0 && arg != NULL) {
            if ((rc = byte_offset(p, &b, arg)) != 0)
                return rc;
            have_offset = true;
        } else if (strcmp(a, "oper") == 0 && arg != NULL) {
            size_t k;
            for (k = 0; k < KANSHI_ARRAY_LEN(ops); k++)
                if (strcmp(arg, ops[k].tok) == 0)
                    break;
            if (k == KANSHI_ARRAY_LEN(ops))
                return rp_err(p, "invalid oper '%s' (expected +, -, *, /, << or >>)", arg);
            b.op = ops[k].op;
            have_oper = true;
        } else if (strcmp(a, "rvalue") == 0 && arg != NULL) {
            if (is_var_name(arg)) {
                int idx = rule_bytevar_find(p, arg);
                if (idx < 0)
                    return rp_err(p, "unknown byte_extract variable '%s'", arg);
                b.value = (uint64_t)idx;
                b.flags |= BYTE_VALUE_VAR;
            } else if (parse_u64(arg, &b.value) < 0 || b.value > UINT32_MAX) {
                return rp_err(p, "invalid rvalue '%s' (expected 0..4294967295 or a variable)", arg);
            }
            have_rvalue = true;
        } else if (strcmp(a, "result") == 0 && arg != NULL) {
            result = arg;
        } else if (strcmp(a, "endian") == 0 && arg != NULL) {
            rest[nrest++] = arg; /* "big", "little" or "dce" */
        } else {
            if (arg != NULL)
                a[kl] = ' '; /* give it back whole to byte_options */
            rest[nrest++] = a;
        }
    }
    if (!have_bytes || !have_offset || !have_oper || !have_rvalue || result == NULL)
        return rp_err(p, "bytes, offset, oper, rvalue and result are required");
    if ((rc = byte_options(p, &b, rest, nrest, OPT_BITMASK | OPT_STRING_ENDIAN)) != 0)
        return rc;
    if (!(b.flags & BYTE_NBYTES_VAR) && (b.nbytes == 0 || b.nbytes > 10))
        return rp_err(p, "bytes must be 1..10");
    if (!(b.flags & BYTE_NBYTES_VAR) && (b.op == BYTE_OP_SHL || b.op == BYTE_OP_SHR) &&
        b.nbytes > 4)
        return rp_err(p, "bytes must be 1..4 with << or >>");
    if (!(b.flags & BYTE_VALUE_VAR) && b.op == BYTE_OP_DIV && b.value == 0)
        return rp_err(p, "rvalue 0 with oper /");
    if ((rc = bytevar_define(p, result)) < 0)
        return rc;
    b.result = (uint8_t)rc;
    return byte_append(p, RULE_MATCH_BYTE_MATH, &b);
}

/* ---- pkt_data ---------------------------------------------------------- */

/* pkt_data switches later payload keywords back to the packet payload. */
int rule_kw_pkt_data(struct rparse *p, char *v)
{
    (void)v;
    p->cur_buf = RULE_BUF_PAYLOAD;
    return 0;
}

/* ---- whole-rule links -------------------------------------------------- */

bool rule_match_is_relative(const struct rule_match *m)
{
    switch (m->kind) {
    case RULE_MATCH_CONTENT:
        return (m->u.content.flags & (CONTENT_DISTANCE | CONTENT_WITHIN)) != 0;
    case RULE_MATCH_PCRE:
        return (m->u.pcre.flags & PCRE_RELATIVE) != 0;
    case RULE_MATCH_ISDATAAT:
        return (m->u.isdataat.flags & ISDATAAT_RELATIVE) != 0;
    case RULE_MATCH_BSIZE:
        return false;
    default:
        return (m->u.byte.flags & BYTE_RELATIVE) != 0;
    }
}

/*
 * Marks each content or pcre that a later test is relative to, as Suricata
 * does: a relative content or pcre links to the nearest earlier content or
 * pcre; a relative isdataat or byte_* only to the test right before it when
 * that is a content or pcre.
 */
int rule_payload_finish(struct rparse *p)
{
    struct rule *r = p->r;

    for (size_t i = 0; i < r->nmatches; i++)
        r->buffers |= 1ull << r->matches[i].buffer;

    for (size_t i = 0; i < r->nmatches; i++) {
        struct rule_match *m = &r->matches[i];
        struct rule_match *prev = NULL;
        uint8_t bits;

        m->next = 0;
        if (!rule_match_is_relative(m))
            continue;
        /* relative to the tests of its own buffer only */
        if (m->kind == RULE_MATCH_CONTENT || m->kind == RULE_MATCH_PCRE) {
            for (size_t j = i; j-- > 0;) {
                if (r->matches[j].buffer == m->buffer &&
                    (r->matches[j].kind == RULE_MATCH_CONTENT ||
                     r->matches[j].kind == RULE_MATCH_PCRE)) {
                    prev = &r->matches[j];
                    break;
                }
            }
        } else {
            size_t j = i;
            while (j > 0 && r->matches[j - 1].buffer != m->buffer)
                j--;
            if (j > 0 && (r->matches[j - 1].kind == RULE_MATCH_CONTENT ||
                          r->matches[j - 1].kind == RULE_MATCH_PCRE))
                prev = &r->matches[j - 1];
        }
        if (prev == NULL)
            continue;
        if (m->kind == RULE_MATCH_CONTENT && prev->kind == RULE_MATCH_CONTENT) {
            bits = 0;
            if (m->u.content.flags & CONTENT_DISTANCE)
                bits |= MATCH_DISTANCE_NEXT;
            if (m->u.content.flags & CONTENT_WITHIN)
                bits |= MATCH_WITHIN_NEXT;
        } else {
            bits = MATCH_DISTANCE_NEXT | MATCH_WITHIN_NEXT;
        }
        prev->next |= bits;
    }
    /* "absent" (rule_app.c) leaves its buffer without tests */
    for (size_t i = 0; i < r->nmatches; i++) {
        if (r->absent & (1ull << r->matches[i].buffer)) {
            p->kw = "absent";
            return rp_err(p, "a buffer that must be absent can't have tests");
        }
    }
    /* a fast_pattern:only content can't anchor a relative test */
    for (size_t i = 0; i < r->nmatches; i++) {
        const struct rule_match *m = &r->matches[i];
        if (m->kind == RULE_MATCH_CONTENT && (m->u.content.flags & CONTENT_FAST_PATTERN_ONLY) &&
            m->next != 0) {
            p->kw = "fast_pattern";
            return rp_err(p, "only can't be used on a content a relative keyword follows");
        }
    }
    return 0;
}
