/*
 * detect_app.c — rules on application-layer buffers (http.uri, dns.query,
 * tls.sni, ...), inspected on what the protocol parsers produced.
 *
 * Build: each such rule gets a direction (from flow:to_server/to_client,
 * else from its buffers: a response buffer makes it a to_client rule), the
 * progress it waits for (HTTP: request or status line, headers, complete
 * body; TLS: ClientHello, ServerHello, Certificate) and a fast pattern among
 * its app-buffer contents.  Fast patterns are grouped by (protocol, buffer):
 * one Hyperscan database per buffer, scanned over that buffer of each
 * transaction, as Suricata's per-buffer pattern stores.
 *
 * Inspection (detect_app_packet): for each HTTP transaction that
 * progressed, the buffers of the progressed side are scanned, and each
 * candidate rule whose awaited progress was crossed by this step is
 * verified: the packet-level tests (header, flow, flowbits, any raw
 * content on the packet), then every buffer's tests in order, with its
 * transforms applied, then the protocol state tests.  A rule so inspects a
 * transaction exactly once per direction, and alerts at most once for it.
 * DNS: each message once.  TLS: each handshake step once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/app_layer.h"
#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "detect_int.h"

enum { RDIR_TOSERVER = 0, RDIR_TOCLIENT = 1, RDIR_BOTH = 2 };

struct app_group {
    struct detect_group buf[RULE_BUF_COUNT]; /* buf[RULE_BUF_PAYLOAD].always: no fast pattern */
};

struct detect_app {
    struct rule *const *rules;
    size_t nrules;
    uint8_t *is_app;  /* per rule: 1 when it is inspected here */
    uint8_t *dir;     /* RDIR_* */
    uint32_t *need;   /* HTTP: enum http_progress in its direction; TLS: TLS_SEEN_* bits */
    struct app_group grp[APP_PROTO_COUNT];
};

/* ---- build ------------------------------------------------------------- */

static bool buf_is_response(enum rule_buffer b)
{
    switch (b) {
    case RULE_BUF_HTTP_STAT_CODE:
    case RULE_BUF_HTTP_STAT_MSG:
    case RULE_BUF_HTTP_RESPONSE_LINE:
    case RULE_BUF_HTTP_SERVER:
    case RULE_BUF_HTTP_LOCATION:
    case RULE_BUF_HTTP_RESPONSE_BODY:
    case RULE_BUF_HTTP_RESPONSE_HEADER:
        return true;
    default:
        return false;
    }
}

/* The HTTP progress a buffer is final at. */
static uint32_t http_buf_need(enum rule_buffer b)
{
    switch (b) {
    case RULE_BUF_HTTP_METHOD:
    case RULE_BUF_HTTP_URI:
    case RULE_BUF_HTTP_URI_RAW:
    case RULE_BUF_HTTP_PROTOCOL:
    case RULE_BUF_HTTP_REQUEST_LINE:
    case RULE_BUF_HTTP_STAT_CODE:
    case RULE_BUF_HTTP_STAT_MSG:
    case RULE_BUF_HTTP_RESPONSE_LINE:
        return HTTP_PROG_LINE;
    case RULE_BUF_HTTP_REQUEST_BODY:
    case RULE_BUF_HTTP_RESPONSE_BODY:
        return HTTP_PROG_DONE;
    default:
        return HTTP_PROG_HEADERS;
    }
}

static uint32_t tls_buf_need(enum rule_buffer b)
{
    switch (b) {
    case RULE_BUF_TLS_JA3S_HASH:
    case RULE_BUF_TLS_JA3S_STRING:
        return TLS_SEEN_SERVER_HELLO;
    case RULE_BUF_TLS_CERT_SUBJECT:
    case RULE_BUF_TLS_CERT_ISSUER:
    case RULE_BUF_TLS_CERT_SERIAL:
    case RULE_BUF_TLS_CERT_FINGERPRINT:
    case RULE_BUF_TLS_CERTS:
        return TLS_SEEN_CERT;
    default:
        return TLS_SEEN_CLIENT_HELLO;
    }
}

/* HTTP buffers both messages have (Suricata registers them for both
 * directions): a rule without a direction using only these is inspected on
 * the request and on the response. */
static bool buf_is_shared(enum rule_buffer b)
{
    switch (b) {
    case RULE_BUF_HTTP_PROTOCOL:
    case RULE_BUF_HTTP_COOKIE:
    case RULE_BUF_HTTP_CONNECTION:
    case RULE_BUF_HTTP_CONTENT_TYPE:
    case RULE_BUF_HTTP_CONTENT_LEN:
    case RULE_BUF_HTTP_HEADER:
    case RULE_BUF_HTTP_HEADER_RAW:
    case RULE_BUF_HTTP_HEADER_NAMES:
    case RULE_BUF_HTTP_START:
        return true;
    default:
        return false;
    }
}

static void rule_meta(const struct rule *r, uint8_t *dir, uint32_t *need)
{
    uint64_t bufs = r->buffers & ~(1ull << RULE_BUF_PAYLOAD);
    bool resp = false, req = false;

    for (int b = 0; b < RULE_BUF_COUNT; b++) {
        if (!(bufs & (1ull << b)))
            continue;
        if (buf_is_response((enum rule_buffer)b) && b != RULE_BUF_HTTP_RESPONSE_BODY)
            resp = true;
        else if (!buf_is_shared((enum rule_buffer)b) && b != RULE_BUF_HTTP_RESPONSE_BODY)
            req = true;
    }
    if (r->flow & RULE_FLOW_TOCLIENT)
        *dir = RDIR_TOCLIENT;
    else if (r->flow & RULE_FLOW_TOSERVER)
        *dir = RDIR_TOSERVER;
    else if (r->app_proto == APP_PROTO_TLS)
        *dir = RDIR_BOTH;
    else if (r->app_proto == APP_PROTO_HTTP && resp)
        *dir = RDIR_TOCLIENT;
    else if (r->app_proto == APP_PROTO_HTTP && !req)
        *dir = RDIR_BOTH; /* headers, file_data: either message */
    else
        *dir = RDIR_TOSERVER;
    *need = 0;
    if (r->app_proto == APP_PROTO_HTTP) {
        *need = HTTP_PROG_LINE;
        for (int b = 0; b < RULE_BUF_COUNT; b++) {
            if (!(bufs & (1ull << b)))
                continue;
            /* request buffers of a to_client rule are final by then */
            if (*dir == RDIR_TOCLIENT && !buf_is_response((enum rule_buffer)b) &&
                b != RULE_BUF_HTTP_PROTOCOL && b != RULE_BUF_HTTP_CONTENT_TYPE &&
                b != RULE_BUF_HTTP_CONTENT_LEN && b != RULE_BUF_HTTP_HEADER &&
                b != RULE_BUF_HTTP_HEADER_RAW && b != RULE_BUF_HTTP_HEADER_NAMES &&
                b != RULE_BUF_HTTP_START && b != RULE_BUF_HTTP_COOKIE)
                continue;
            if (http_buf_need((enum rule_buffer)b) > *need)
                *need = http_buf_need((enum rule_buffer)b);
        }
    } else if (r->app_proto == APP_PROTO_TLS) {
        for (int b = 0; b < RULE_BUF_COUNT; b++)
            if (bufs & (1ull << b))
                *need |= tls_buf_need((enum rule_buffer)b);
        for (size_t i = 0; i < r->napp_tests; i++) {
            enum rule_app_test_kind k = r->app_tests[i].kind;
            if (k == APPT_TLS_NOTBEFORE || k == APPT_TLS_NOTAFTER || k == APPT_TLS_EXPIRED ||
                k == APPT_TLS_VALID)
                *need |= TLS_SEEN_CERT;
        }
        if (*need == 0)
            *need = TLS_SEEN_CLIENT_HELLO;
        /* no flow direction: the direction of the handshake step its
         * buffers come from (server hello, certificate: to the client) */
        if (*dir == RDIR_BOTH)
            *dir = (*need & (TLS_SEEN_SERVER_HELLO | TLS_SEEN_CERT)) ? RDIR_TOCLIENT
                                                                     : RDIR_TOSERVER;
    }
}

/* The rule's fast pattern among its app-buffer contents: the one marked
 * fast_pattern, else the longest; NULL when none can prefilter (negated
 * only, or a transform the raw buffer does not show). */
static const struct rule_match *app_fast_pattern(const struct rule *r, const uint8_t **pat,
                                                 size_t *len, bool *nocase)
{
    const struct rule_match *best = NULL;

    for (size_t i = 0; i < r->nmatches; i++) {
        const struct rule_match *m = &r->matches[i];
        const struct rule_content *c = &m->u.content;
        if (m->kind != RULE_MATCH_CONTENT || m->buffer == RULE_BUF_PAYLOAD ||
            (c->flags & CONTENT_NEGATED))
            continue;
        if (r->xform[m->buffer] & ~(RULE_XFORM_DOTPREFIX | RULE_XFORM_TO_LOWER |
                                    RULE_XFORM_TO_UPPER))
            continue;
        if (c->flags & CONTENT_FAST_PATTERN) {
            best = m;
            break;
        }
        if (best == NULL || c->len > best->u.content.len)
            best = m;
    }
    if (best == NULL)
        return NULL;
    *pat = best->u.content.pat;
    *len = best->u.content.len;
    if ((best->u.content.flags & CONTENT_FAST_PATTERN_CHOP) && best->u.content.fp_len > 0 &&
        (size_t)best->u.content.fp_offset + best->u.content.fp_len <= *len) {
        *pat += best->u.content.fp_offset;
        *len = best->u.content.fp_len;
    }
    *nocase = (best->u.content.flags & CONTENT_NOCASE) ||
              (r->xform[best->buffer] & (RULE_XFORM_TO_LOWER | RULE_XFORM_TO_UPPER));
    /* dotprefix puts a '.' before the buffer: the raw buffer may lack it */
    if ((r->xform[best->buffer] & RULE_XFORM_DOTPREFIX) && *len > 0 && (*pat)[0] == '.') {
        (*pat)++;
        (*len)--;
    }
    return *len > 0 ? best : NULL;
}

int detect_app_build(struct detect_app **out, struct rule *const *rules, size_t nrules,
                     struct detect_cache *c, struct detect_info *info, char *err, size_t errlen)
{
    struct detect_app *da = calloc(1, sizeof(*da));
    size_t (*count)[RULE_BUF_COUNT] = NULL;
    struct fp_entry *fps = NULL;
    int rc = -ENOMEM;

    if (da == NULL)
        return -ENOMEM;
    da->rules = rules;
    da->nrules = nrules;
    da->is_app = kanshi_calloc(nrules + 1, 1);
    da->dir = kanshi_calloc(nrules + 1, 1);
    da->need = kanshi_calloc(nrules + 1, sizeof(*da->need));
    count = kanshi_calloc(APP_PROTO_COUNT, sizeof(*count));
    fps = kanshi_calloc(nrules + 1, sizeof(*fps));
    if (da->is_app == NULL || da->dir == NULL || da->need == NULL || count == NULL ||
        fps == NULL)
        goto fail;
    for (int p = 0; p < APP_PROTO_COUNT; p++) {
        da->grp[p].buf[RULE_BUF_PAYLOAD].always = kanshi_calloc(nrules + 1, sizeof(uint32_t));
        if (da->grp[p].buf[RULE_BUF_PAYLOAD].always == NULL)
            goto fail;
    }
    for (size_t i = 0; i < nrules; i++) {
        const struct rule *r = rules[i];
        const uint8_t *pat;
        size_t len;
        bool nocase;
        const struct rule_match *m;

        if (!detect_app_rule(r) || r->app_proto >= APP_PROTO_COUNT)
            continue;
        da->is_app[i] = 1;
        rule_meta(r, &da->dir[i], &da->need[i]);
        m = app_fast_pattern(r, &pat, &len, &nocase);
        if (m == NULL) {
            struct detect_group *g = &da->grp[r->app_proto].buf[RULE_BUF_PAYLOAD];
            g->always[g->nalways++] = (uint32_t)i;
        } else {
            count[r->app_proto][m->buffer]++;
        }
    }
    /* one database per (protocol, buffer) */
    for (int p = 0; p < APP_PROTO_COUNT; p++) {
        for (int b = 1; b < RULE_BUF_COUNT; b++) {
            size_t n = 0;
            if (count[p][b] == 0)
                continue;
            for (size_t i = 0; i < nrules; i++) {
                const uint8_t *pat;
                size_t len;
                bool nocase;
                const struct rule_match *m;
                if (!da->is_app[i] || rules[i]->app_proto != p)
                    continue;
                m = app_fast_pattern(rules[i], &pat, &len, &nocase);
                if (m == NULL || m->buffer != (enum rule_buffer)b)
                    continue;
                fps[n++] = (struct fp_entry){
                    .pat = pat, .len = len, .nocase = nocase, .rule = (uint32_t)i};
            }
            if ((rc = detect_group_build(&da->grp[p].buf[b], fps, n, c, err, errlen, info)) !=
                0)
                goto fail;
        }
    }
    free(count);
    free(fps);
    *out = da;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory building the app-layer rules");
    free(count);
    free(fps);
    detect_app_free(da);
    return rc;
}

void detect_app_free(struct detect_app *da)
{
    if (da == NULL)
        return;
    for (int p = 0; p < APP_PROTO_COUNT; p++) {
        for (int b = 0; b < RULE_BUF_COUNT; b++) {
            struct detect_group *g = &da->grp[p].buf[b];
            hs_free_database(g->db);
            free(g->pat_off);
            free(g->pat_rules);
            free(g->always);
        }
    }
    free(da->is_app);
    free(da->dir);
    free(da->need);
    free(da);
}

int detect_app_scratch(const struct detect_app *da, hs_scratch_t **scratch)
{
    for (int p = 0; p < APP_PROTO_COUNT; p++)
        for (int b = 0; b < RULE_BUF_COUNT; b++)
            if (da->grp[p].buf[b].db != NULL &&
                hs_alloc_scratch(da->grp[p].buf[b].db, scratch) != HS_SUCCESS)
                return KANSHI_EHS;
    return 0;
}

/* ---- buffers ----------------------------------------------------------- */

/* What an inspection looks at: one HTTP transaction, one DNS message or
 * the TLS state, and the side being inspected. */
struct app_view {
    uint8_t proto;
    int dir;
    struct detect_thread *dt; /* its hbuf holds a composed header instance */
    const uint8_t *raw; /* stream bytes held in p's direction, or NULL */
    size_t rawlen;
    struct http_tx *tx;
    const struct dns_msg *dns;
    const struct tls_state *tls;
};

/* Instance idx of buffer b (only dns.query and tls.certs have more than
 * one); false when absent. */
static bool view_buffer(const struct app_view *v, int rdir, enum rule_buffer b, uint32_t idx,
                        const uint8_t **d, size_t *n)
{
    switch (v->proto) {
    case APP_PROTO_HTTP:
        if (b == RULE_BUF_HTTP_REQUEST_HEADER || b == RULE_BUF_HTTP_RESPONSE_HEADER) {
            /* each header, "Name: value", composed in the thread's buffer */
            const uint8_t *nm, *val;
            size_t nl, vl;
            struct detect_thread *dt = v->dt;
            int hd = b == RULE_BUF_HTTP_REQUEST_HEADER ? APP_DIR_TOSERVER : APP_DIR_TOCLIENT;
            if (dt == NULL || !http_tx_header_at(v->tx, hd, idx, &nm, &nl, &val, &vl))
                return false;
            if (nl + vl + 2 > dt->hcap) {
                uint8_t *nb = realloc(dt->hbuf, nl + vl + 2);
                if (nb == NULL)
                    return false;
                dt->hbuf = nb;
                dt->hcap = nl + vl + 2;
            }
            memcpy(dt->hbuf, nm, nl);
            memcpy(dt->hbuf + nl, ": ", 2);
            memcpy(dt->hbuf + nl + 2, val, vl);
            *d = dt->hbuf;
            *n = nl + 2 + vl;
            return true;
        }
        if (idx > 0)
            return false;
        if (b == RULE_BUF_HTTP_RESPONSE_BODY && rdir == RDIR_TOSERVER)
            b = RULE_BUF_HTTP_REQUEST_BODY; /* file_data in a to_server rule */
        return http_tx_buffer_dir(v->tx, b, rdir == RDIR_TOCLIENT ? APP_DIR_TOCLIENT
                                                                   : APP_DIR_TOSERVER,
                                  d, n);
    case APP_PROTO_DNS:
        if (b != RULE_BUF_DNS_QUERY || idx >= v->dns->nq)
            return false;
        *d = (const uint8_t *)v->dns->q[idx].name.s;
        *n = v->dns->q[idx].name.len;
        return true;
    case APP_PROTO_TLS:
        if (b != RULE_BUF_TLS_CERTS && idx > 0)
            return false;
        return tls_buffer(v->tls, b, idx, d, n);
    default:
        return false;
    }
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Applies the transforms x to d[0..n) into dt's buffer. */
static bool transform(struct detect_thread *dt, uint8_t x, const uint8_t **d, size_t *n)
{
    size_t need = *n + 1, o = 0;
    const uint8_t *s = *d;

    if (need > dt->xcap) {
        uint8_t *nb = realloc(dt->xbuf, need);
        if (nb == NULL)
            return false;
        dt->xbuf = nb;
        dt->xcap = need;
    }
    if (x & RULE_XFORM_DOTPREFIX)
        dt->xbuf[o++] = '.';
    for (size_t i = 0; i < *n; i++) {
        uint8_t c = s[i];
        if ((x & RULE_XFORM_STRIP_WS) && is_ws(c))
            continue;
        if ((x & RULE_XFORM_COMPRESS_WS) && is_ws(c) && i > 0 && is_ws(s[i - 1]))
            continue;
        if ((x & RULE_XFORM_URL_DECODE) && c == '%' && i + 2 < *n &&
            kanshi_hexval(s[i + 1]) >= 0 && kanshi_hexval(s[i + 2]) >= 0) {
            c = (uint8_t)(kanshi_hexval(s[i + 1]) << 4 | kanshi_hexval(s[i + 2]));
            i += 2;
        } else if ((x & RULE_XFORM_URL_DECODE) && c == '+') {
            c = ' ';
        }
        if (x & RULE_XFORM_TO_LOWER)
            c = (uint8_t)detect_lower(c);
        if ((x & RULE_XFORM_TO_UPPER) && c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        dt->xbuf[o++] = c;
    }
    *d = dt->xbuf;
    *n = o;
    return true;
}

/* The state tests of r (other than app-layer-protocol, which
 * detect_rule_eval checks). */
static bool app_tests_match(const struct rule *r, const struct app_view *v, uint64_t now_sec)
{
    for (size_t i = 0; i < r->napp_tests; i++) {
        const struct rule_app_test *t = &r->app_tests[i];
        int64_t nb, na;
        bool ok = true;

        switch (t->kind) {
        case APPT_PROTO:
            break;
        case APPT_DNS_OPCODE:
            ok = v->dns != NULL && rule_num_match(&t->num, v->dns->opcode);
            break;
        case APPT_DNS_RRTYPE:
            ok = false;
            for (size_t q = 0; v->dns != NULL && q < v->dns->nq && !ok; q++)
                ok = rule_num_match(&t->num, v->dns->q[q].type);
            break;
        case APPT_TLS_VERSION:
            ok = v->tls != NULL && tls_version(v->tls) == t->num.a;
            break;
        case APPT_TLS_NOTBEFORE:
        case APPT_TLS_NOTAFTER:
            ok = v->tls != NULL && tls_cert_validity(v->tls, &nb, &na) &&
                 rule_num_match(&t->num, (uint64_t)(t->kind == APPT_TLS_NOTBEFORE ? nb : na));
            break;
        case APPT_TLS_EXPIRED:
            ok = v->tls != NULL && tls_cert_validity(v->tls, &nb, &na) &&
                 na < (int64_t)now_sec;
            break;
        case APPT_TLS_VALID:
            ok = v->tls != NULL && tls_cert_validity(v->tls, &nb, &na) &&
                 nb <= (int64_t)now_sec && (int64_t)now_sec <= na;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Every test of rule rid on the view; the packet-level part on p, its raw
 * payload tests on the held stream bytes (or the packet's payload). */
static bool app_rule_match(struct detect_thread *dt, const struct detect_app *da, uint32_t rid,
                           const struct packet *p, const struct app_view *v)
{
    const struct rule *r = da->rules[rid];
    uint64_t bufs = r->buffers & ~(1ull << RULE_BUF_PAYLOAD);

    if (!detect_rule_eval(dt->rctx, r, p, p->payload, p->payload_len) &&
        (v->raw == NULL || !detect_rule_eval(dt->rctx, r, p, v->raw, v->rawlen)))
        return false;
    for (int b = 1; b < RULE_BUF_COUNT; b++) {
        bool hit = false, present = false;
        if (!(bufs & (1ull << b)))
            continue;
        for (uint32_t idx = 0; !hit; idx++) {
            const uint8_t *d;
            size_t n;
            if (!view_buffer(v, da->dir[rid] == RDIR_BOTH ? v->dir : da->dir[rid],
                             (enum rule_buffer)b, idx, &d, &n))
                break;
            present = true;
            if (r->absent & (1ull << b))
                break;
            if (r->xform[b] != 0 && !transform(dt, r->xform[b], &d, &n))
                break;
            hit = detect_payload_match_buf(dt->rctx, r, (enum rule_buffer)b, d, n) == 1;
        }
        /* absent: only a missing buffer; absent: or_else: missing, or its tests */
        if (!present && ((r->absent | r->absent_or_else) & (1ull << b)))
            continue;
        if (!hit || (r->absent & (1ull << b)))
            return false;
    }
    return app_tests_match(r, v, p->ts_usec / 1000000u);
}

/* ---- inspection -------------------------------------------------------- */

/* Candidates of protocol proto over the view's buffers. */
static void app_candidates(struct detect_thread *dt, const struct detect_app *da,
                           const struct app_view *v, int rdir)
{
    const struct app_group *ag = &da->grp[v->proto];
    const struct detect_group *always = &ag->buf[RULE_BUF_PAYLOAD];

    if (++dt->gen == 0) {
        memset(dt->stamp, 0, (da->nrules + 1) * sizeof(*dt->stamp));
        dt->gen = 1;
    }
    dt->ncand = 0;
    for (int b = 1; b < RULE_BUF_COUNT; b++) {
        const struct detect_group *g = &ag->buf[b];
        if (g->db == NULL)
            continue;
        for (uint32_t idx = 0;; idx++) {
            const uint8_t *d;
            size_t n;
            if (!view_buffer(v, rdir, (enum rule_buffer)b, idx, &d, &n))
                break;
            if (n > 0) {
                dt->grp = g;
                hs_scan(g->db, (const char *)d, (unsigned)n, 0, dt->scratch, detect_on_match, dt);
            }
        }
    }
    for (size_t i = 0; i < always->nalways; i++) {
        uint32_t rid = always->always[i];
        if (dt->stamp[rid] != dt->gen) {
            dt->stamp[rid] = dt->gen;
            dt->cand[dt->ncand++] = rid;
        }
    }
    if (dt->ncand > 1)
        qsort(dt->cand, dt->ncand, sizeof(*dt->cand), detect_u32_cmp);
}

/* Inspects the candidates whose direction is rdir (or both) and whose
 * awaited progress lies in (from, to] (HTTP, numbers) or is a subset of to
 * and not of from (TLS, bits). */
static int app_inspect(struct detect_thread *dt, const struct detect_app *da,
                       const struct packet *p, const struct app_view *v, int rdir, uint32_t from,
                       uint32_t to, detect_alert_fn fn, void *arg)
{
    int n = 0;

    app_candidates(dt, da, v, rdir);
    for (size_t i = 0; i < dt->ncand; i++) {
        uint32_t rid = dt->cand[i], need = da->need[rid];
        const struct rule *r = da->rules[rid];

        if (da->dir[rid] != rdir && da->dir[rid] != RDIR_BOTH)
            continue;
        if (v->proto == APP_PROTO_HTTP && !(need > from && need <= to))
            continue;
        if (v->proto == APP_PROTO_TLS && !((need & to) == need && (need & from) != need))
            continue;
        if (!app_rule_match(dt, da, rid, p, v))
            continue;
        if (p->flow != NULL && p->flow->dropped)
            break; /* a drop rule matched: the flow is not inspected further */
        if (detect_rule_alert(dt->rctx, r, p)) {
            n++;
            if (fn != NULL)
                fn(arg, p, r);
            if (p->flow != NULL &&
                (r->action == RULE_ACTION_DROP || r->action == RULE_ACTION_REJECT))
                p->flow->dropped = 1;
        }
    }
    return n;
}

static int app_http(struct detect_thread *dt, const struct detect_app *da,
                    const struct packet *p, struct app_flow *a, const uint8_t *raw,
                    size_t rawlen, bool final, detect_alert_fn fn, void *arg)
{
    int n = 0;

    for (size_t i = 0; i < http_tx_count(a->http); i++) {
        struct http_tx *tx = http_tx_at(a->http, i);
        uint32_t *done = http_tx_user(tx);
        struct app_view v = {
            .proto = APP_PROTO_HTTP, .tx = tx, .dt = dt, .raw = raw, .rawlen = rawlen};

        for (int d = 0; d < 2; d++) {
            uint32_t from = (*done >> (8 * d)) & 0xff;
            uint32_t to = http_tx_progress(tx, d);

            if (final && to > HTTP_PROG_NONE)
                to = HTTP_PROG_DONE;
            if (to <= from || (p->dir & 1) != d)
                continue;
            v.dir = d;
            a->alert_http = tx;
            n += app_inspect(dt, da, p, &v, d, from, to, fn, arg);
            a->alert_http = NULL;
            *done = (*done & ~(0xffu << (8 * d))) | (to << (8 * d));
        }
        if (((*done >> 0) & 0xff) == HTTP_PROG_DONE && ((*done >> 8) & 0xff) == HTTP_PROG_DONE)
            http_tx_done(tx);
    }
    http_state_gc(a->http);
    return n;
}

int detect_app_packet(struct detect_thread *dt, const struct detect_engine *de,
                      const struct packet *p, const uint8_t *raw, size_t rawlen, bool final,
                      detect_alert_fn fn, void *arg)
{
    const struct detect_app *da = de->app;
    struct flow *f = p->flow;
    struct app_flow *a;
    int n = 0;

    if (da == NULL || f == NULL || (a = f->app) == NULL || f->dropped)
        return 0;
    switch (a->proto) {
    case APP_PROTO_HTTP:
        if (a->http != NULL)
            n = app_http(dt, da, p, a, raw, rawlen, final, fn, arg);
        break;
    case APP_PROTO_DNS:
        if (a->ndns > 0 && a->dns != NULL) {
            struct app_view v = {.proto = APP_PROTO_DNS,
                                 .dns = a->dns,
                                 .dir = a->dns_dir[0],
                                 .raw = raw,
                                 .rawlen = rawlen};
            a->alert_dns = a->dns;
            n = app_inspect(dt, da, p, &v, a->dns_dir[0], 0, 1, fn, arg);
            a->alert_dns = NULL;
            a->ndns = 0;
        }
        break;
    case APP_PROTO_TLS:
        if (a->tls != NULL) {
            uint32_t prog = tls_state_progress(a->tls);
            struct app_view v = {.proto = APP_PROTO_TLS,
                                 .tls = a->tls,
                                 .dir = p->dir & 1,
                                 .raw = raw,
                                 .rawlen = rawlen};
            /* as Suricata: a direction's rules are inspected on that
             * direction's packets, once per handshake step */
            if (prog != a->tls_inspected[p->dir & 1]) {
                n = app_inspect(dt, da, p, &v, p->dir & 1, a->tls_inspected[p->dir & 1], prog,
                                fn, arg);
                a->tls_inspected[p->dir & 1] = prog;
            }
        }
        break;
    default:
        break;
    }
    return n;
}
