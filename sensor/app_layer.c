/*
 * app_layer.c — glue between flows and the protocol parsers (see
 * app_layer.h): protocol detection on each direction's first bytes, then
 * every later byte to that protocol's parser.
 *
 * Probing keeps a direction's first APP_PROBE_BYTES bytes in the flow's
 * state, so the decision does not depend on how the bytes were segmented;
 * once a protocol is known, the parser is fed from the stream's first byte
 * (the probe copy, then the stream view), so nothing before the decision is
 * lost as long as the stream still holds it (raw inspection only releases
 * bytes in chunks, long after a protocol's first line).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kanshi/app_layer.h"
#include "kanshi/eve.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/stream.h"

struct app_layer {
    struct app_layer_config cfg;
    uint32_t nstates;
    struct app_layer_stats stats;
};

void app_layer_config_default(struct app_layer_config *c)
{
    memset(c, 0, sizeof(*c));
    http_config_default(&c->http);
    c->max_states = 65536;
    c->probe_limit = 1024;
}

int app_layer_create(struct app_layer **out, const struct app_layer_config *cfg)
{
    struct app_layer *al = calloc(1, sizeof(*al));

    if (al == NULL)
        return -ENOMEM;
    /* zero settings (a zeroed worker_config) take the defaults */
    app_layer_config_default(&al->cfg);
    if (cfg != NULL) {
        al->cfg.disabled = cfg->disabled;
        if (cfg->max_states != 0)
            al->cfg.max_states = cfg->max_states;
        if (cfg->probe_limit != 0)
            al->cfg.probe_limit = cfg->probe_limit;
        if (cfg->http.request_body_limit != 0)
            al->cfg.http.request_body_limit = cfg->http.request_body_limit;
        if (cfg->http.response_body_limit != 0)
            al->cfg.http.response_body_limit = cfg->http.response_body_limit;
        if (cfg->http.decompress_limit != 0)
            al->cfg.http.decompress_limit = cfg->http.decompress_limit;
    }
    *out = al;
    return 0;
}

void app_layer_destroy(struct app_layer *al)
{
    free(al);
}

const struct app_layer_stats *app_layer_stats(const struct app_layer *al)
{
    return &al->stats;
}

void app_layer_flow_free(struct app_layer *al, struct flow *f)
{
    struct app_flow *a = f->app;

    if (a == NULL)
        return;
    if (a->http != NULL) {
        const uint32_t *ev = http_state_events(a->http);
        for (int i = 0; i < HTTP_EV_COUNT; i++)
            al->stats.http_events[i] += ev[i];
    }
    if (a->tls != NULL) {
        const uint32_t *ev = tls_state_events(a->tls);
        for (int i = 0; i < TLS_EV_COUNT; i++)
            al->stats.tls_events[i] += ev[i];
    }
    http_state_destroy(a->http);
    tls_state_destroy(a->tls);
    free(a->dns_tcp[0]);
    free(a->dns_tcp[1]);
    free(a->dns);
    free(a);
    f->app = NULL;
    al->nstates--;
}

static struct app_flow *app_get(struct app_layer *al, struct flow *f)
{
    if (f->app != NULL)
        return f->app;
    if (al->nstates >= al->cfg.max_states) {
        al->stats.states_refused++;
        return NULL;
    }
    f->app = calloc(1, sizeof(*f->app));
    if (f->app == NULL) {
        al->stats.states_refused++;
        return NULL;
    }
    al->nstates++;
    return f->app;
}

/* The parser state for a's protocol; false when it cannot be had. */
static bool app_parser_init(struct app_layer *al, struct app_flow *a)
{
    switch (a->proto) {
    case APP_PROTO_HTTP:
        return a->http != NULL || http_state_create(&a->http, &al->cfg.http) == 0;
    case APP_PROTO_TLS:
        return a->tls != NULL || tls_state_create(&a->tls) == 0;
    case APP_PROTO_DNS:
        if (a->dns == NULL && (a->dns = malloc(sizeof(*a->dns))) == NULL)
            return false;
        return true;
    default:
        return true; /* detected for the rule header only: no parser */
    }
}

/* ---- DNS --------------------------------------------------------------- */

struct dns_feed {
    struct app_layer *al;
    struct app_flow *a;
    int dir;
};

/* One DNS message: parsed into the flow's message for the detection
 * engine, which clears a->ndns once it inspected it. */
static void dns_message(struct app_layer *al, struct app_flow *a, int dir, const uint8_t *msg,
                        size_t len)
{
    int rc;

    /* one message is kept: a later one in the same TCP segment replaces
     * the first before detection saw it (counted) */
    if (a->ndns > 0)
        al->stats.dns_dropped++;
    a->ndns = 0;
    a->dns_ok = false;
    rc = dns_parse(a->dns, msg, len);
    for (int i = 0; i < DNS_EV_COUNT; i++)
        if (a->dns->events & (1u << i))
            al->stats.dns_events[i]++;
    if (rc != 0)
        return;
    a->dns_ok = true;
    al->stats.dns_messages++;
    a->dns_dir[0] = (uint8_t)dir;
    a->ndns = 1;
}

static void dns_tcp_cb(void *arg, const uint8_t *msg, size_t len)
{
    struct dns_feed *d = arg;

    dns_message(d->al, d->a, d->dir, msg, len);
}

/* ---- feeding ----------------------------------------------------------- */

static void app_feed(struct app_layer *al, struct app_flow *a, int dir, const uint8_t *data,
                     size_t len)
{
    int rc = 0;

    if (len == 0 || (a->gave_up & (1u << dir)))
        return;
    switch (a->proto) {
    case APP_PROTO_HTTP:
        rc = http_parse(a->http, dir, data, len);
        break;
    case APP_PROTO_TLS:
        rc = tls_parse(a->tls, dir, data, len);
        break;
    case APP_PROTO_DNS: {
        struct dns_feed d = {al, a, dir};
        if (a->dns_tcp[dir] == NULL) {
            if ((a->dns_tcp[dir] = malloc(sizeof(*a->dns_tcp[dir]))) == NULL) {
                rc = -ENOMEM;
                break;
            }
            dns_tcp_init(a->dns_tcp[dir]);
        }
        dns_tcp_feed(a->dns_tcp[dir], data, len, dns_tcp_cb, &d);
        break;
    }
    default:
        break;
    }
    if (rc != 0) {
        a->gave_up |= (uint8_t)(1u << dir);
        al->stats.parser_errors++;
    }
}

static void app_gap(struct app_flow *a, int dir, uint64_t len)
{
    switch (a->proto) {
    case APP_PROTO_HTTP:
        http_gap(a->http, dir, len);
        break;
    case APP_PROTO_TLS:
        tls_gap(a->tls, dir);
        break;
    case APP_PROTO_DNS:
        if (a->dns_tcp[dir] != NULL)
            dns_tcp_gap(a->dns_tcp[dir]);
        break;
    default:
        break;
    }
}

/* Turns the flow round (flow_swap, stream_session_swap) and its probing
 * state with it. */
static void app_reverse(struct flow *f, struct app_flow *a)
{
    uint8_t probe[APP_PROBE_BYTES], n = a->probe_len[0];
    uint64_t off = a->off[0];

    flow_swap(f);
    if (f->tcp != NULL)
        stream_session_swap(f->tcp);
    memcpy(probe, a->probe[0], sizeof(probe));
    memcpy(a->probe[0], a->probe[1], sizeof(probe));
    memcpy(a->probe[1], probe, sizeof(probe));
    a->probe_len[0] = a->probe_len[1];
    a->probe_len[1] = n;
    a->off[0] = a->off[1];
    a->off[1] = off;
    a->probe_done = flow_dir_bits_swap(a->probe_done);
    a->pd_pending = flow_dir_bits_swap(a->pd_pending);
    n = a->dir_proto[0];
    a->dir_proto[0] = a->dir_proto[1];
    a->dir_proto[1] = n;
    a->gave_up = flow_dir_bits_swap(a->gave_up);
}

/* Probes direction dir with its first bytes (kept in a->probe); sets the
 * flow's protocol when they decide it.  A session picked up midstream whose
 * "client" turns out to send a server's bytes (an HTTP response) is turned
 * round, as Suricata does: returns 1 then (dir is now the other one). */
static int app_probe_dir(struct app_layer *al, struct flow *f, struct app_flow *a, int dir,
                         uint64_t total)
{
    int r, reversed = 0;

    if (a->probe_done & (1u << dir))
        return 0;
    r = app_probe(a->probe[dir], a->probe_len[dir], dir, f->proto, f->port[dir], f->port[!dir]);
    if (r == APP_PROTO_FAILED && dir == APP_DIR_TOSERVER && f->tcp != NULL &&
        stream_midstream(f->tcp) && !(a->probe_done & 2u)) {
        int rr = app_probe(a->probe[dir], a->probe_len[dir], APP_DIR_TOCLIENT, f->proto,
                           f->port[dir], f->port[!dir]);
        if (rr != APP_PROBE_NEED_MORE && rr != APP_PROTO_FAILED && rr != APP_PROTO_UNKNOWN) {
            app_reverse(f, a);
            al->stats.reversed++;
            dir = !dir;
            r = rr;
            reversed = 1;
        }
    }
    if (r == APP_PROBE_NEED_MORE) {
        if (a->probe_len[dir] < APP_PROBE_BYTES && total < al->cfg.probe_limit)
            return reversed;
        r = APP_PROTO_FAILED;
    }
    a->probe_done |= (uint8_t)(1u << dir);
    a->pd_pending |= (uint8_t)(1u << dir);
    a->dir_proto[dir] = (uint8_t)r;
    if (r != APP_PROTO_FAILED && r != APP_PROTO_UNKNOWN && a->proto == APP_PROTO_UNKNOWN) {
        a->proto = (uint8_t)r;
        al->stats.flows[r]++;
        if (!app_parser_init(al, a)) {
            a->gave_up = 3;
            al->stats.parser_errors++;
        }
    } else if (a->proto == APP_PROTO_UNKNOWN && a->probe_done == 3) {
        a->proto = APP_PROTO_FAILED;
        al->stats.flows[APP_PROTO_FAILED]++;
    }
    return reversed;
}

int app_layer_tcp(struct app_layer *al, struct flow *f, int dir, const uint8_t *data,
                  uint64_t base, uint64_t end, bool gap, bool eof)
{
    struct app_flow *a = f->app;
    bool was_unknown;
    int reversed = 0;

    if (al->cfg.disabled)
        return 0;
    if (a == NULL) {
        if (end == 0 || (a = app_get(al, f)) == NULL)
            return 0;
    }
    if (a->proto == APP_PROTO_FAILED)
        return 0;
    was_unknown = a->proto == APP_PROTO_UNKNOWN;
    if (!was_unknown && !(a->probe_done & (1u << dir))) {
        /* the protocol is known from the other side; this side's own first
         * bytes still say what it speaks (app-layer-protocol's modes) */
        while (a->probe_len[dir] < APP_PROBE_BYTES && a->probe_len[dir] < end &&
               a->probe_len[dir] >= base) {
            uint64_t o = a->probe_len[dir];
            a->probe[dir][a->probe_len[dir]++] = data[o - base];
        }
        (void)app_probe_dir(al, f, a, dir, end);
    }
    if (was_unknown) {
        /* keep this direction's first bytes and probe them */
        while (a->probe_len[dir] < APP_PROBE_BYTES && a->probe_len[dir] < end) {
            uint64_t o = a->probe_len[dir];
            if (o < base)
                break; /* released before we saw it: probing goes on without */
            a->probe[dir][a->probe_len[dir]++] = data[o - base];
        }
        if (app_probe_dir(al, f, a, dir, end)) {
            dir = !dir; /* the flow was turned round: these bytes are the other side's */
            reversed = 1;
        }
        if (a->proto == APP_PROTO_UNKNOWN || a->proto == APP_PROTO_FAILED)
            return reversed;
        /* just decided: the other direction's bytes so far are in its
         * probe copy (and maybe beyond); feed them first */
        if (a->probe_len[!dir] > 0 && a->off[!dir] == 0) {
            app_feed(al, a, !dir, a->probe[!dir], a->probe_len[!dir]);
            a->off[!dir] = a->probe_len[!dir];
        }
    }
    if (gap && !(a->gave_up & (1u << dir)))
        app_gap(a, dir, 0);
    if (a->off[dir] < base) {
        /* bytes released before the parser saw them (probe copy first) */
        if (a->off[dir] < a->probe_len[dir]) {
            app_feed(al, a, dir, a->probe[dir] + a->off[dir],
                     (size_t)(a->probe_len[dir] - a->off[dir]));
            a->off[dir] = a->probe_len[dir];
        }
        if (a->off[dir] < base) {
            app_gap(a, dir, base - a->off[dir]);
            a->off[dir] = base;
        }
    }
    if (end > a->off[dir]) {
        app_feed(al, a, dir, data + (a->off[dir] - base), (size_t)(end - a->off[dir]));
        a->off[dir] = end;
    }
    if (eof && a->proto == APP_PROTO_HTTP)
        http_eof(a->http, dir);
    return reversed;
}

void app_layer_pd_flag(struct flow *f, struct packet *p)
{
    struct app_flow *a = f != NULL ? f->app : NULL;
    uint8_t bit = (uint8_t)(1u << (p->dir & 1));

    if (a != NULL && (a->pd_pending & bit)) {
        a->pd_pending &= (uint8_t)~bit;
        p->flags |= PKT_PROTO_DETECT_DONE;
    }
}

void app_layer_udp(struct app_layer *al, struct flow *f, const struct packet *p)
{
    struct app_flow *a = f->app;
    int dir = p->dir & 1;

    if (p->payload_len == 0 || al->cfg.disabled)
        return;
    if (a == NULL && (a = app_get(al, f)) == NULL)
        return;
    if (a->proto == APP_PROTO_UNKNOWN) {
        /* each datagram is probed whole: UDP has no stream to wait on */
        int r = app_probe(p->payload, p->payload_len, dir, 17, p->sp, p->dp);
        a->dir_proto[dir] = (uint8_t)(r == APP_PROBE_NEED_MORE ? APP_PROTO_FAILED : r);
        if (r == APP_PROTO_DNS) {
            a->proto = APP_PROTO_DNS;
            a->pd_pending |= (uint8_t)(1u << dir);
            al->stats.flows[APP_PROTO_DNS]++;
            if (!app_parser_init(al, a)) {
                a->proto = APP_PROTO_FAILED;
                return;
            }
        } else {
            a->probe_done |= (uint8_t)(1u << dir);
            a->pd_pending |= (uint8_t)(1u << dir);
            if (a->probe_done == 3) {
                a->proto = APP_PROTO_FAILED;
                al->stats.flows[APP_PROTO_FAILED]++;
            }
            return;
        }
    }
    if (a->proto == APP_PROTO_DNS)
        dns_message(al, a, dir, p->payload, p->payload_len);
}

/* ---- EVE --------------------------------------------------------------- */

static void eve_http(struct jbuf *b, struct http_tx *tx)
{
    const uint8_t *d;
    size_t n;
    int st;

    jbuf_open_object(b, "http");
    if (http_tx_buffer(tx, RULE_BUF_HTTP_HOST, &d, &n))
        jbuf_string_len(b, "hostname", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_URI_RAW, &d, &n))
        jbuf_string_len(b, "url", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_USER_AGENT, &d, &n))
        jbuf_string_len(b, "http_user_agent", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_CONTENT_TYPE, &d, &n))
        jbuf_string_len(b, "http_content_type", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_REFERER, &d, &n))
        jbuf_string_len(b, "http_refer", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_METHOD, &d, &n))
        jbuf_string_len(b, "http_method", d, n);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_PROTOCOL, &d, &n))
        jbuf_string_len(b, "protocol", d, n);
    if ((st = http_tx_status(tx)) > 0)
        jbuf_uint(b, "status", (uint64_t)st);
    if (http_tx_buffer(tx, RULE_BUF_HTTP_LOCATION, &d, &n))
        jbuf_string_len(b, "redirect", d, n);
    jbuf_uint(b, "length", http_tx_body_bytes(tx, APP_DIR_TOCLIENT));
    jbuf_close_object(b);
}

static void eve_dns(struct jbuf *b, const struct dns_msg *m)
{
    const char *t;

    jbuf_open_object(b, "dns");
    jbuf_string(b, "type", m->response ? "answer" : "query");
    jbuf_uint(b, "id", m->id);
    if (m->nq > 0) {
        jbuf_string_len(b, "rrname", (const uint8_t *)m->q[0].name.s, m->q[0].name.len);
        if ((t = dns_type_name(m->q[0].type)) != NULL)
            jbuf_string(b, "rrtype", t);
        else
            jbuf_uint(b, "rrtype", m->q[0].type);
    }
    if (m->response && (t = dns_rcode_name(m->rcode)) != NULL)
        jbuf_string(b, "rcode", t);
    if (m->response && m->nan > 0) {
        jbuf_open_array(b, "answers");
        for (size_t i = 0; i < m->nan; i++) {
            const struct dns_answer *an = &m->an[i];
            jbuf_open_object(b, NULL);
            jbuf_string_len(b, "rrname", (const uint8_t *)an->name.s, an->name.len);
            if ((t = dns_type_name(an->type)) != NULL)
                jbuf_string(b, "rrtype", t);
            else
                jbuf_uint(b, "rrtype", an->type);
            jbuf_uint(b, "ttl", an->ttl);
            if (an->rdata.len > 0)
                jbuf_string_len(b, "rdata", (const uint8_t *)an->rdata.s, an->rdata.len);
            jbuf_close_object(b);
        }
        jbuf_close_array(b);
    }
    jbuf_close_object(b);
}

static void eve_tls(struct jbuf *b, const struct tls_state *s)
{
    static const struct {
        const char *key;
        enum rule_buffer buf;
    } fields[] = {
        {"subject", RULE_BUF_TLS_CERT_SUBJECT},
        {"issuerdn", RULE_BUF_TLS_CERT_ISSUER},
        {"serial", RULE_BUF_TLS_CERT_SERIAL},
        {"fingerprint", RULE_BUF_TLS_CERT_FINGERPRINT},
        {"sni", RULE_BUF_TLS_SNI},
    };
    const uint8_t *d;
    size_t n;
    uint16_t v = tls_version(s);
    int64_t nb, na;

    jbuf_open_object(b, "tls");
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(fields); i++)
        if (tls_buffer(s, fields[i].buf, 0, &d, &n))
            jbuf_string_len(b, fields[i].key, d, n);
    if (v != 0)
        jbuf_string(b, "version", tls_version_name(v));
    if (tls_cert_validity(s, &nb, &na)) {
        /* as Suricata's EVE: UTC, no zone suffix */
        char ts[32];
        time_t t;
        struct tm tm;
        t = (time_t)nb;
        if (gmtime_r(&t, &tm) != NULL && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) > 0)
            jbuf_string(b, "notbefore", ts);
        t = (time_t)na;
        if (gmtime_r(&t, &tm) != NULL && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) > 0)
            jbuf_string(b, "notafter", ts);
    }
    if (tls_buffer(s, RULE_BUF_TLS_JA3_HASH, 0, &d, &n)) {
        jbuf_open_object(b, "ja3");
        jbuf_string_len(b, "hash", d, n);
        if (tls_buffer(s, RULE_BUF_TLS_JA3_STRING, 0, &d, &n))
            jbuf_string_len(b, "string", d, n);
        jbuf_close_object(b);
    }
    if (tls_buffer(s, RULE_BUF_TLS_JA3S_HASH, 0, &d, &n)) {
        jbuf_open_object(b, "ja3s");
        jbuf_string_len(b, "hash", d, n);
        if (tls_buffer(s, RULE_BUF_TLS_JA3S_STRING, 0, &d, &n))
            jbuf_string_len(b, "string", d, n);
        jbuf_close_object(b);
    }
    jbuf_close_object(b);
}

void app_layer_eve(struct jbuf *b, const struct flow *f)
{
    const struct app_flow *a = f->app;

    if (a == NULL || a->proto == APP_PROTO_UNKNOWN)
        return;
    jbuf_string(b, "app_proto", app_proto_name((enum app_proto)a->proto));
    /* an app-layer rule's transaction; for a packet or stream rule, the
     * latest one (HTTP) or the message this packet carried (DNS) */
    if (a->proto == APP_PROTO_HTTP && a->alert_http != NULL)
        eve_http(b, a->alert_http);
    else if (a->proto == APP_PROTO_HTTP && a->http != NULL && http_tx_count(a->http) > 0)
        eve_http(b, http_tx_at(a->http, http_tx_count(a->http) - 1));
    else if (a->proto == APP_PROTO_DNS && a->alert_dns != NULL)
        eve_dns(b, a->alert_dns);
    else if (a->proto == APP_PROTO_DNS && a->dns != NULL && a->dns_ok)
        eve_dns(b, a->dns);
    else if (a->proto == APP_PROTO_TLS && a->tls != NULL)
        eve_tls(b, a->tls);
}
