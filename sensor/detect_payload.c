/*
 * detect_payload.c — payload tests of a rule, with Suricata's semantics.
 *
 * Contents are checked in rule order.  An absolute content searches
 * [offset, offset+depth); a relative one (distance/within) searches from the
 * end of the previous match plus distance, up to within bytes further.  When
 * a later relative test fails, the previous content is tried again further
 * on (bounded backtracking, as Suricata's inspection recursion).  A negated
 * content succeeds when absent from its window; found, it fails only this
 * placement, unless it has no position at all ("discontinue").
 */
#include <stdint.h>
#include <string.h>

#include "detect_int.h"

/* Recursion budget of one content inspection, as Suricata's
 * detect.inspection-recursion-limit (default 3000). */
#define DETECT_RECURSION_LIMIT 3000

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

static bool content_is_relative(const struct rule_content *c)
{
    return (c->flags & (CONTENT_DISTANCE | CONTENT_WITHIN)) != 0;
}

/* A negated content with no position at all: once found, no other placement
 * of earlier contents can help (Suricata's "discontinue"). */
static bool content_is_single(const struct rule_content *c)
{
    return (c->flags & (CONTENT_DISTANCE | CONTENT_WITHIN | CONTENT_OFFSET | CONTENT_DEPTH |
                        CONTENT_STARTSWITH | CONTENT_ENDSWITH)) == 0;
}

enum { M_NOMATCH = 0, M_MATCH = 1, M_DISCONTINUE = -1 };

static int match_from(const struct rule *r, size_t idx, const uint8_t *buf, size_t len,
                      size_t prev_end, int *budget)
{
    const struct rule_content *c;
    int64_t start, end;

    /* Skip tests of other buffers (none yet besides the payload). */
    while (idx < r->nmatches && r->matches[idx].buffer != RULE_BUF_PAYLOAD)
        idx++;
    if (idx == r->nmatches)
        return M_MATCH;
    if (--*budget <= 0)
        return M_DISCONTINUE;
    c = &r->matches[idx].u.content;

    if (content_is_relative(c)) {
        start = (int64_t)prev_end + ((c->flags & CONTENT_DISTANCE) ? c->distance : 0);
        if (start < 0)
            start = 0;
        end = (int64_t)len;
        if (c->flags & CONTENT_WITHIN) {
            int64_t w = (int64_t)prev_end + ((c->flags & CONTENT_DISTANCE) ? c->distance : 0) +
                        c->within;
            if (w < end)
                end = w;
        }
    } else {
        start = (c->flags & CONTENT_OFFSET) ? c->offset : 0;
        end = (int64_t)len;
        if (c->flags & CONTENT_DEPTH) {
            int64_t d = start + c->depth;
            if (d < end)
                end = d;
        }
    }
    if (c->flags & CONTENT_STARTSWITH) {
        if (start + (int64_t)c->len < end)
            end = start + (int64_t)c->len;
    }

    if (c->flags & CONTENT_NEGATED) {
        bool found = false;
        if (start <= end && end - start >= (int64_t)c->len) {
            const uint8_t *hay = buf + start;
            size_t hl = (size_t)(end - start);
            if (c->flags & CONTENT_ENDSWITH) {
                found = (int64_t)len == end &&
                        (c->flags & CONTENT_NOCASE
                             ? search_nocase(buf + len - c->len, c->len, c->pat, c->len) != NULL
                             : memcmp(buf + len - c->len, c->pat, c->len) == 0);
            } else {
                found = content_search(c, hay, hl) != NULL;
            }
        }
        if (found)
            return content_is_single(c) ? M_DISCONTINUE : M_NOMATCH;
        return match_from(r, idx + 1, buf, len, prev_end, budget);
    }

    for (;;) {
        const uint8_t *f;
        size_t mend;
        int rc;
        bool next_relative;

        if (start > end || end - start < (int64_t)c->len)
            return M_NOMATCH;
        if (c->flags & CONTENT_ENDSWITH) {
            if ((int64_t)len != end)
                return M_NOMATCH;
            f = buf + len - c->len;
            if ((int64_t)(len - c->len) < start ||
                ((c->flags & CONTENT_NOCASE)
                     ? search_nocase(f, c->len, c->pat, c->len) == NULL
                     : memcmp(f, c->pat, c->len) != 0))
                return M_NOMATCH;
        } else {
            f = content_search(c, buf + start, (size_t)(end - start));
            if (f == NULL)
                return M_NOMATCH;
        }
        mend = (size_t)(f - buf) + c->len;
        rc = match_from(r, idx + 1, buf, len, mend, budget);
        if (rc != M_NOMATCH)
            return rc;
        /* Only a later test relative to this one can profit from trying this
         * content further on in the buffer. */
        next_relative = false;
        for (size_t j = idx + 1; j < r->nmatches; j++) {
            if (r->matches[j].buffer == RULE_BUF_PAYLOAD) {
                next_relative = content_is_relative(&r->matches[j].u.content);
                break;
            }
        }
        if (!next_relative || (c->flags & CONTENT_ENDSWITH))
            return M_NOMATCH;
        if (--*budget <= 0)
            return M_DISCONTINUE;
        start = (int64_t)(f - buf) + 1;
    }
}

int detect_match_payload(const struct rule *r, const uint8_t *buf, size_t len)
{
    int budget = DETECT_RECURSION_LIMIT;

    if (buf == NULL)
        len = 0;
    return match_from(r, 0, buf, len, 0, &budget) == M_MATCH;
}

