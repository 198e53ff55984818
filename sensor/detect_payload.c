/*
 * detect_payload.c — payload tests of a rule, with Suricata's semantics.
 *
 * The tests (content, pcre, isdataat, byte_test, byte_jump, byte_extract,
 * byte_math) run in rule order over one buffer with a cursor: the end of
 * the last content or pcre match, the byte_jump target, the end of the
 * bytes byte_extract or byte_math read.  Relative tests start from the
 * cursor.  Evaluation is recursive like Suricata's content inspection: each
 * test either fails (0), fails for good (-1, "discontinue": no other
 * placement of earlier matches can help), or hands the cursor to the rest.
 * When the rest fails, a content is searched again one byte after its
 * previous start if a later test depends on it through within (or a relative
 * byte_*, isdataat or pcre), and a pcre is re-run from one byte after its
 * previous match start if any later test is relative to it.  A recursion
 * budget bounds the work, as Suricata's inspection-recursion-limit.
 *
 * Variables from byte_extract/byte_math live in a small array on the stack
 * of one evaluation.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "detect_pcre.h"

/* Recursion budget of one inspection, as Suricata's
 * detect.inspection-recursion-limit (default 3000). */
#define DETECT_RECURSION_LIMIT 3000

enum { M_NOMATCH = 0, M_MATCH = 1, M_DISCONTINUE = -1 };

struct eval {
    struct detect_rule_ctx *ctx;
    const struct rule *r;
    const uint8_t *buf;
    int64_t len;
    enum rule_buffer bufid; /* only the tests of this buffer run */
    int budget;
    uint64_t vars[RULE_BYTEVARS_MAX];
};

static const uint8_t *search_nocase(const uint8_t *h, size_t hlen, const uint8_t *n, size_t nlen)
{
    int f0, F0;

    if (nlen == 0)
        return h;
    if (nlen > hlen)
        return NULL;
    f0 = detect_lower(n[0]);
    F0 = f0 >= 'a' && f0 <= 'z' ? f0 - 32 : f0;
    for (size_t i = 0; i + nlen <= hlen; i++) {
        if (h[i] != f0 && h[i] != F0)
            continue;
        size_t j = 1;
        while (j < nlen && detect_lower(h[i + j]) == detect_lower(n[j]))
            j++;
        if (j == nlen)
            return h + i;
    }
    return NULL;
}

static const uint8_t *content_search(const struct rule_content *c, const uint8_t *h, size_t hlen)
{
    if (c->flags & CONTENT_NOCASE)
        return search_nocase(h, hlen, c->pat, c->len);
    return memmem(h, hlen, c->pat, c->len);
}

static int inspect(struct eval *e, size_t idx, int64_t cursor);

/* Continues with the test after idx, or matches when idx was the last. */
/* The first test of e's buffer at or after idx, or nmatches. */
static size_t buf_first(const struct eval *e, size_t idx)
{
    while (idx < e->r->nmatches && e->r->matches[idx].buffer != e->bufid)
        idx++;
    return idx;
}

static int next(struct eval *e, size_t idx, int64_t cursor)
{
    idx = buf_first(e, idx + 1);
    if (idx >= e->r->nmatches)
        return M_MATCH;
    return inspect(e, idx, cursor);
}

/* ---- content ----------------------------------------------------------- */

static bool content_is_single(const struct rule_match *m)
{
    return (m->u.content.flags &
            (CONTENT_DISTANCE | CONTENT_WITHIN | CONTENT_DEPTH | CONTENT_OFFSET)) == 0 &&
           m->next == 0;
}

static int inspect_content(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_match *m = &e->r->matches[idx];
    const struct rule_content *c = &m->u.content;
    bool relative = (c->flags & (CONTENT_DISTANCE | CONTENT_WITHIN)) != 0;
    bool negated = (c->flags & CONTENT_NEGATED) != 0;
    int64_t retry = -1; /* where to search again, after a failed rest */

    for (;;) {
        int64_t start, end = e->len;
        const uint8_t *found;
        int64_t mend;
        int rc;

        if (relative) {
            int64_t dist = 0;
            if (c->flags & CONTENT_DISTANCE)
                dist = (c->flags & CONTENT_DISTANCE_VAR) ? (int32_t)(uint32_t)e->vars[c->distance]
                                                         : c->distance;
            start = prev + dist;
            if (start < 0)
                start = 0;
            if (c->flags & CONTENT_WITHIN) {
                int64_t w = (c->flags & CONTENT_WITHIN_VAR) ? (int64_t)(uint32_t)e->vars[c->within]
                                                            : c->within;
                if (prev + dist + w < end)
                    end = prev + dist + w;
            }
        } else {
            start = 0;
            if (c->flags & CONTENT_OFFSET)
                start = (c->flags & CONTENT_OFFSET_VAR) ? (int64_t)(uint32_t)e->vars[c->offset]
                                                        : c->offset;
            if (c->flags & CONTENT_DEPTH) {
                int64_t d = (c->flags & CONTENT_DEPTH_VAR) ? (int64_t)(uint32_t)e->vars[c->depth]
                                                           : c->depth;
                end = start + d;
            }
        }
        if (retry >= 0)
            start = retry;
        if (end > e->len)
            end = e->len;
        if (start > end || end <= 0)
            return negated ? next(e, idx, prev) : M_NOMATCH;

        size_t hl = (size_t)(end - start);
        if ((c->flags & CONTENT_ENDSWITH) && end < e->len)
            found = NULL;
        else if (c->len > hl)
            found = NULL;
        else
            found = content_search(c, e->buf + start, hl);

        if (found == NULL) {
            if (negated)
                return next(e, idx, prev);
            return relative ? M_NOMATCH : M_DISCONTINUE;
        }
        mend = (found - e->buf) + (int64_t)c->len;
        if (negated) {
            /* found, but endswith wants it at the end */
            if ((c->flags & CONTENT_ENDSWITH) && (int64_t)hl != mend)
                return next(e, idx, prev);
            return content_is_single(m) ? M_DISCONTINUE : M_NOMATCH;
        }
        if (!(c->flags & CONTENT_ENDSWITH) || mend == e->len) {
            rc = next(e, idx, mend);
            if (rc != M_NOMATCH)
                return rc;
            /* only a later test anchored here through within (or a relative
             * byte_*, isdataat or pcre) can profit from another occurrence */
            if (!(m->next & MATCH_WITHIN_NEXT))
                return M_DISCONTINUE;
        }
        if (--e->budget <= 0)
            return M_DISCONTINUE;
        retry = mend - (int64_t)c->len + 1;
    }
}

/* ---- pcre -------------------------------------------------------------- */

static int inspect_pcre(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_match *m = &e->r->matches[idx];
    const struct rule_pcre *pc = &m->u.pcre;
    pcre2_match_data *md = detect_rule_ctx_pcre_md(e->ctx);
    pcre2_match_context *mctx = detect_rule_ctx_pcre_mctx(e->ctx, !(pc->flags & PCRE_NOLIMIT));
    int64_t base = (pc->flags & PCRE_RELATIVE) ? prev : 0;
    int64_t from = 0; /* start offset within the subject, for retries */

    if (base > e->len)
        base = e->len;
    if (e->buf != NULL) {
        /* Hyperscan, when it has this pcre, over exactly the subject
         * PCRE2 would get.  Its "no match" is final: the regex matches
         * nowhere, from any start.  Its "match" goes to PCRE2 below, which
         * confirms it under Suricata's match limits and gives the position
         * later tests read: the answer is always PCRE2's. */
        hs_scratch_t **hsc;
        struct detect_pcre *dp = detect_rule_ctx_pcre_hs(e->ctx, &hsc);
        int hs = dp == NULL ? -1
                            : detect_pcre_scan(dp, e->r, idx, e->buf + base,
                                               (size_t)(e->len - base), hsc);
        if (hs == 0)
            return (pc->flags & PCRE_NEGATED) ? next(e, idx, prev) : M_NOMATCH;
    }
    for (;;) {
        int rc = pcre2_match(pc->code, (PCRE2_SPTR)(e->buf + base), (PCRE2_SIZE)(e->len - base),
                             (PCRE2_SIZE)from, 0, md, mctx);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (pc->flags & PCRE_NEGATED)
                return next(e, idx, prev);
            return M_NOMATCH;
        }
        if (rc < 0 || (pc->flags & PCRE_NEGATED))
            return M_NOMATCH; /* a matching error (limits) is no match, as in Suricata */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int64_t mend = base + (int64_t)ov[1];
        if (m->next == 0)
            return next(e, idx, mend);
        rc = next(e, idx, mend);
        if (rc != M_NOMATCH)
            return rc;
        if (--e->budget <= 0)
            return M_DISCONTINUE;
        from = (int64_t)ov[0] + 1;
        if (from > e->len - base)
            return M_NOMATCH;
    }
}

/* ---- isdataat ---------------------------------------------------------- */

static int inspect_isdataat(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_isdataat *d = &e->r->matches[idx].u.isdataat;
    bool neg = (d->flags & ISDATAAT_NEGATED) != 0, var = (d->flags & ISDATAAT_VAR) != 0;
    int64_t at = d->dataat;

    if (var) {
        uint64_t v = e->vars[d->dataat];
        if (v >= 100000000)
            return neg ? next(e, idx, prev) : M_NOMATCH;
        at = (int64_t)v;
    }
    if (d->flags & ISDATAAT_RELATIVE) {
        if (prev + at > e->len) {
            if (neg)
                return next(e, idx, prev);
            return var ? M_NOMATCH : M_DISCONTINUE;
        }
        return neg ? M_NOMATCH : next(e, idx, prev);
    }
    if (at < e->len) {
        if (neg)
            return var ? M_NOMATCH : M_DISCONTINUE;
        return next(e, idx, prev);
    }
    if (neg)
        return next(e, idx, prev);
    return var ? M_NOMATCH : M_DISCONTINUE;
}

/* ---- byte_* ------------------------------------------------------------ */

/*
 * Reads the value a byte keyword names: nbytes at offset (from the cursor
 * when relative).  Sets *pos to where the bytes start and *used to the bytes
 * consumed (fewer than nbytes for a string with trailing non-digits).
 * false when out of the buffer or not a number.
 */
static bool byte_read(const struct eval *e, const struct rule_byte *b, int64_t prev, bool little,
                      uint64_t *val, int64_t *pos, int64_t *used)
{
    int64_t off = (b->flags & BYTE_OFFSET_VAR) ? (int32_t)(uint32_t)e->vars[b->offset] : b->offset;
    int64_t nbytes = (b->flags & BYTE_NBYTES_VAR) ? (int64_t)e->vars[b->nbytes] : b->nbytes;
    int64_t p, rem;

    if (e->len == 0)
        return false;
    if ((b->flags & BYTE_NBYTES_VAR) && nbytes > ((b->flags & BYTE_STRING) ? 23 : 8))
        return false;
    if (b->flags & BYTE_RELATIVE) {
        p = prev + off;
        rem = e->len - p;
        /* nothing left to read from; a 0-byte byte_jump may still move
         * from the very end (as Suricata since bug 4623) */
        if (rem < 0 || (rem == 0 && nbytes != 0))
            return false;
    } else {
        p = off;
        rem = e->len - p;
    }
    if (p < 0 || nbytes > rem)
        return false;
    *pos = p;
    if (b->flags & BYTE_STRING) {
        char tmp[24], *endp;
        memcpy(tmp, e->buf + p, (size_t)nbytes);
        tmp[nbytes] = '\0';
        errno = 0;
        *val = strtoull(tmp, &endp, b->base);
        if (errno == ERANGE || endp == tmp)
            return false;
        *used = endp - tmp;
        return *used > 0;
    }
    *val = 0;
    for (int64_t i = 0; i < nbytes; i++) {
        uint64_t byte = e->buf[p + i];
        if (little)
            *val |= byte << (8 * i);
        else
            *val = *val << 8 | byte;
    }
    *used = nbytes;
    return true;
}

static uint64_t byte_mask(const struct rule_byte *b, uint64_t v)
{
    if (b->flags & BYTE_BITMASK) {
        v &= b->bitmask;
        if (v != 0 && b->bitmask_shift != 0)
            v >>= b->bitmask_shift;
    }
    return v;
}

static int inspect_byte_test(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_byte *b = &e->r->matches[idx].u.byte;
    uint64_t v, want = (b->flags & BYTE_VALUE_VAR) ? e->vars[b->value] : b->value;
    int64_t pos, used;
    bool ok;
    struct rule_byte whole;

    if ((b->flags & BYTE_STRING) && !(b->flags & BYTE_NBYTES_VAR) && b->nbytes == 0) {
        /* "0 bytes as a string": the digits from the offset to the end of
         * the buffer, at most a number's longest spelling */
        int64_t from = ((b->flags & BYTE_RELATIVE) ? prev : 0) + b->offset;
        int64_t rem = e->len - from, maxs = b->base == 16 ? 14 : b->base == 8 ? 22 : 20;
        if ((b->flags & BYTE_OFFSET_VAR) || rem <= 0)
            return M_NOMATCH;
        whole = *b;
        whole.nbytes = (uint8_t)(rem < maxs ? rem : maxs);
        b = &whole;
    }
    if (!byte_read(e, b, prev, (b->flags & BYTE_LITTLE) != 0, &v, &pos, &used))
        return M_NOMATCH;
    v = byte_mask(b, v);
    switch (b->op) {
    case BYTE_OP_LT:
        ok = v < want;
        break;
    case BYTE_OP_GT:
        ok = v > want;
        break;
    case BYTE_OP_LE:
        ok = v <= want;
        break;
    case BYTE_OP_GE:
        ok = v >= want;
        break;
    case BYTE_OP_AND:
        ok = (v & want) != 0;
        break;
    case BYTE_OP_XOR:
        ok = (v ^ want) != 0;
        break;
    case BYTE_OP_EQ:
    default:
        ok = v == want;
        break;
    }
    if (b->flags & BYTE_NEGATED)
        ok = !ok;
    return ok ? next(e, idx, prev) : M_NOMATCH;
}

static int inspect_byte_jump(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_byte *b = &e->r->matches[idx].u.byte;
    uint64_t v;
    int64_t pos, used, target;

    if (!byte_read(e, b, prev, (b->flags & BYTE_LITTLE) != 0, &v, &pos, &used))
        return M_NOMATCH;
    v = byte_mask(b, v) * b->multiplier;
    if ((b->flags & BYTE_ALIGN) && v % 4 != 0)
        v += 4 - v % 4;
    int64_t jump = (int64_t)v + b->post_offset;
    if (b->flags & BYTE_FROM_BEGIN)
        target = jump;
    else if (b->flags & BYTE_FROM_END)
        target = e->len + jump;
    else
        target = pos + used + jump;
    /* before the buffer: clamp to its start; at or past its end: no match */
    if (target < 0)
        target = 0;
    else if (target >= e->len)
        return M_NOMATCH;
    return next(e, idx, target);
}

static int inspect_byte_extract(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_byte *b = &e->r->matches[idx].u.byte;
    uint64_t v;
    int64_t pos, used;

    /* "dce" outside DCE/RPC reads little-endian, as in Suricata */
    if (!byte_read(e, b, prev, (b->flags & (BYTE_LITTLE | BYTE_DCE)) != 0, &v, &pos, &used))
        return M_NOMATCH;
    v = byte_mask(b, v) * b->multiplier;
    if ((b->flags & BYTE_ALIGN) && b->align != 0 && v % b->align != 0)
        v += b->align - v % b->align;
    e->vars[b->result] = v;
    return next(e, idx, pos + used);
}

static int inspect_byte_math(struct eval *e, size_t idx, int64_t prev)
{
    const struct rule_byte *b = &e->r->matches[idx].u.byte;
    uint64_t v, rv = (b->flags & BYTE_VALUE_VAR) ? e->vars[b->value] : b->value;
    int64_t pos, used;

    if (!byte_read(e, b, prev, (b->flags & (BYTE_LITTLE | BYTE_DCE)) != 0, &v, &pos, &used))
        return M_NOMATCH;
    switch (b->op) {
    case BYTE_OP_ADD:
        v += rv;
        break;
    case BYTE_OP_SUB:
        v -= rv;
        break;
    case BYTE_OP_MUL:
        v *= rv;
        break;
    case BYTE_OP_DIV:
        if (rv == 0)
            return M_NOMATCH;
        v /= rv;
        break;
    case BYTE_OP_SHL:
        v = rv >= 64 ? 0 : v << rv;
        break;
    case BYTE_OP_SHR:
        v = rv >= 64 ? 0 : v >> rv;
        break;
    default:
        break;
    }
    e->vars[b->result] = byte_mask(b, v);
    return next(e, idx, pos + used);
}

static int inspect(struct eval *e, size_t idx, int64_t cursor)
{
    if (--e->budget <= 0)
        return M_DISCONTINUE;
    switch (e->r->matches[idx].kind) {
    case RULE_MATCH_CONTENT:
        return inspect_content(e, idx, cursor);
    case RULE_MATCH_PCRE:
        return inspect_pcre(e, idx, cursor);
    case RULE_MATCH_ISDATAAT:
        return inspect_isdataat(e, idx, cursor);
    case RULE_MATCH_BYTE_TEST:
        return inspect_byte_test(e, idx, cursor);
    case RULE_MATCH_BYTE_JUMP:
        return inspect_byte_jump(e, idx, cursor);
    case RULE_MATCH_BYTE_EXTRACT:
        return inspect_byte_extract(e, idx, cursor);
    case RULE_MATCH_BYTE_MATH:
        return inspect_byte_math(e, idx, cursor);
    case RULE_MATCH_BSIZE:
        if (!rule_num_match(&e->r->matches[idx].u.num, (uint64_t)e->len))
            return M_DISCONTINUE;
        return next(e, idx, cursor);
    }
    return M_NOMATCH;
}

int detect_payload_match_buf(struct detect_rule_ctx *c, const struct rule *r,
                             enum rule_buffer bufid, const uint8_t *buf, size_t len)
{
    struct eval e = {.ctx = c,
                     .r = r,
                     .buf = buf,
                     .len = (int64_t)len,
                     .bufid = bufid,
                     .budget = DETECT_RECURSION_LIMIT};
    size_t first = buf_first(&e, 0);

    if (first >= r->nmatches)
        return 1;
    if (buf == NULL)
        e.len = 0;
    return inspect(&e, first, 0) == M_MATCH;
}

int detect_payload_match(struct detect_rule_ctx *c, const struct rule *r, const uint8_t *buf,
                         size_t len)
{
    return detect_payload_match_buf(c, r, RULE_BUF_PAYLOAD, buf, len);
}

int detect_match_payload(const struct rule *r, const uint8_t *buf, size_t len)
{
    struct detect_rule_ctx *c;
    int m;

    if (detect_rule_ctx_create(&c, (struct rule *const *)&r, 1) != 0)
        return 0;
    m = detect_payload_match(c, r, buf, len);
    detect_rule_ctx_destroy(c);
    return m;
}
