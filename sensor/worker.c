/*
 * worker.c — the per-packet pipeline of one worker (see worker.h).
 *
 * Flow timeouts run every 1024 packets: often enough to keep the table
 * small under load, rarely enough to cost nothing per packet.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kanshi/app_layer.h"
#include "kanshi/config.h"
#include "kanshi/defrag.h"
#include "kanshi/flowvars.h"
#include "kanshi/worker.h"

struct worker {
    struct flow_table *ft;
    struct defrag *defrag;
    struct stream_ctx *stream;
    struct app_layer *app;
    struct detect_thread *dt;
    const struct detect_engine *de;
    struct worker_config cfg;
    struct decode_stats dstats;
    struct decode_stats reassembled; /* decoding of rebuilt datagrams */
    uint64_t npackets;
    /* capture.checksum-checks: auto */
    bool csum_on;
    uint32_t csum_seen, csum_bad;
    /* The current input's alert callback, for inspection at flow end. */
    detect_alert_fn fn;
    void *arg;
};

void worker_config_from(const struct sensor_config *cfg, struct worker_config *wc)
{
    memset(wc, 0, sizeof(*wc));
    wc->flow = (struct flow_config){
        .memcap = cfg->flow_memcap,
        .hash_size = cfg->flow_hash_size,
        .timeout_new = cfg->flow_timeout_new,
        .timeout_est = cfg->flow_timeout_est,
        .timeout_closed = cfg->flow_timeout_closed,
        .timeout_udp_est = cfg->flow_timeout_udp_est,
        .timeout_icmp_est = cfg->flow_timeout_icmp_est,
    };
    stream_config_default(&wc->stream);
    wc->stream.memcap = cfg->stream_memcap;
    wc->stream.reassembly_memcap = cfg->stream_reassembly_memcap;
    wc->stream.depth = cfg->stream_depth;
    wc->stream.policy = (enum stream_policy)cfg->stream_policy; /* names in that order */
    wc->stream.midstream = cfg->stream_midstream;
    wc->stream.async_oneside = cfg->stream_async_oneside;
    defrag_config_default(&wc->defrag);
    wc->defrag.memcap = cfg->defrag_memcap;
    wc->defrag.timeout = cfg->defrag_timeout;
    wc->defrag.max_frags = cfg->defrag_max_frags;
    wc->defrag.policy = (enum defrag_policy)cfg->defrag_policy;
    wc->checksum = cfg->checksum_checks;
    wc->chunk[FLOW_DIR_TOSERVER] = cfg->stream_chunk_toserver;
    wc->chunk[FLOW_DIR_TOCLIENT] = cfg->stream_chunk_toclient;
    app_layer_config_default(&wc->app);
    wc->app.disabled = !cfg->app_enabled;
    wc->app.max_states = cfg->app_max_states;
    wc->app.http.request_body_limit = (uint32_t)cfg->app_http_request_body;
    wc->app.http.response_body_limit = (uint32_t)cfg->app_http_response_body;
    wc->app.http.decompress_limit = (uint32_t)cfg->app_http_decompress;
}

/* Suricata's IDS-mode states past which raw stream data is inspected as
 * soon as it is acknowledged (its "state > TIME_WAIT"). */
static bool worker_closing(enum stream_state st)
{
    return st == STREAM_STATE_CLOSE_WAIT || st == STREAM_STATE_LAST_ACK ||
           st == STREAM_STATE_CLOSING || st == STREAM_STATE_CLOSED;
}

/* Feeds direction dir's reassembled bytes to the application layer: those
 * acknowledged, or with all every one.  before: the view's flags before
 * the packet (a new gap is told once).  Returns app_layer_tcp()'s. */
static int worker_app_feed(struct worker *w, struct flow *f, int dir, uint32_t before, bool all)
{
    struct stream_view v;
    uint64_t end;

    stream_view(f->tcp, dir, &v);
    end = all || v.acked > v.end ? v.end : v.acked;
    if (end < v.base)
        end = v.base;
    return app_layer_tcp(w->app, f, dir, v.data, v.base, end,
                         (v.flags & STREAM_V_GAP) && !(before & STREAM_V_GAP),
                         (v.flags & STREAM_V_DONE) && end == v.end);
}

/* The flow's TLS handshake is over in both directions: what follows is
 * encrypted (Suricata's default encryption-handling). */
static bool worker_encrypted(const struct flow *f)
{
    const struct app_flow *a = f->app;

    return a != NULL && a->proto == APP_PROTO_TLS && a->tls != NULL &&
           (tls_state_progress(a->tls) & TLS_SEEN_HS_DONE);
}

/*
 * What is left of one direction of a TCP session when its flow ends goes
 * through detection with a pseudo packet, as Suricata's flow-timeout
 * pseudo packets: the flow's addresses in that direction, an ACK, no
 * payload, and everything reassembled and not yet inspected as the chunk.
 */
static void worker_pseudo_packet(struct packet *p, struct flow *f, int d)
{
    memset(p, 0, sizeof(*p));
    p->ts_usec = f->last_usec;
    p->flags = (f->proto == IPPROTO_TCP ? PKT_TCP : PKT_UDP) | PKT_PSEUDO |
               (f->addr[0].family == AF_INET6 ? PKT_IPV6 : PKT_IPV4);
    p->src = f->addr[d];
    p->dst = f->addr[!d];
    p->sp = f->port[d];
    p->dp = f->port[!d];
    p->ip_proto = f->proto;
    p->ttl = 64;
    p->tcp_flags = f->proto == IPPROTO_TCP ? TH_ACK : 0;
    p->vlan_id[0] = f->vlan[0];
    p->vlan_id[1] = f->vlan[1];
    p->vlan_count = f->vlan[1] ? 2 : f->vlan[0] ? 1 : 0;
    p->flow = f;
    p->dir = (uint8_t)d;
}

static void worker_stream_flush(struct worker *w, struct flow *f, int d)
{
    struct stream_view v;
    struct packet p;
    struct detect_stream st;

    /* the application layer gets what it has not had (never acknowledged;
     * a gap was told when it came) */
    stream_view(f->tcp, d, &v);
    (void)worker_app_feed(w, f, d, v.flags, true);
    stream_view(f->tcp, d, &v);
    worker_pseudo_packet(&p, f, d);
    if (worker_encrypted(f)) {
        stream_consume(w->stream, f->tcp, d, v.end, 0);
        return;
    }
    if (v.end > v.inspected) {
        st = (struct detect_stream){
            .chunk = v.data + (v.inspected - v.base),
            .chunk_len = (size_t)(v.end - v.inspected),
            .added = true,
        };
        detect_packet_stream(w->dt, w->de, &p, &st, w->fn, w->arg);
    }
    /* each block held after a hole, on its own: nothing matches across the
     * hole, as in Suricata's flow-end inspection */
    for (unsigned i = 0;; i++) {
        st = (struct detect_stream){.added = true};
        if (stream_ooo_block(f->tcp, d, i, &st.chunk, &st.chunk_len) != 0)
            break;
        detect_packet_stream(w->dt, w->de, &p, &st, w->fn, w->arg);
    }
    stream_consume(w->stream, f->tcp, d, v.end, 0);
}

/* The flow ends: application-layer rules still waiting for a transaction
 * to complete inspect what it has, from each direction. */
static void worker_app_flush(struct worker *w, struct flow *f)
{
    struct packet p;

    if (f->app == NULL || w->dt == NULL)
        return;
    if (f->app->http != NULL) {
        http_eof(f->app->http, APP_DIR_TOSERVER);
        http_eof(f->app->http, APP_DIR_TOCLIENT);
    }
    for (int d = 0; d < 2; d++) {
        worker_pseudo_packet(&p, f, d);
        detect_app_packet(w->dt, w->de, &p, NULL, 0, true, w->fn, w->arg);
    }
}

/* A flow leaves the table: inspect what its stream still holds, then
 * release what other stages hung on it. */
static void worker_flow_end(void *arg, struct flow *f)
{
    struct worker *w = arg;

    if (f->tcp != NULL) {
        if (w->dt != NULL) {
            worker_stream_flush(w, f, FLOW_DIR_TOSERVER);
            worker_stream_flush(w, f, FLOW_DIR_TOCLIENT);
        }
    }
    worker_app_flush(w, f);
    if (f->tcp != NULL) {
        stream_session_free(w->stream, f->tcp);
        f->tcp = NULL;
    }
    app_layer_flow_free(w->app, f);
    flowvars_free(f);
}

int worker_create(struct worker **out, const struct worker_config *wc,
                  const struct detect_engine *de)
{
    struct worker *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return -ENOMEM;
    w->de = de;
    w->cfg = *wc;
    if (w->cfg.chunk[0] == 0)
        w->cfg.chunk[0] = 1;
    if (w->cfg.chunk[1] == 0)
        w->cfg.chunk[1] = 1;
    w->csum_on = wc->checksum != CONFIG_CSUM_NO;
    if ((rc = flow_table_create(&w->ft, &wc->flow, worker_flow_end, w)) != 0 ||
        (rc = defrag_create(&w->defrag, &wc->defrag)) != 0 ||
        (rc = stream_ctx_create(&w->stream, &wc->stream)) != 0 ||
        (rc = app_layer_create(&w->app, &wc->app)) != 0 ||
        (rc = detect_thread_create(&w->dt, de)) != 0) {
        worker_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

void worker_destroy(struct worker *w)
{
    if (w == NULL)
        return;
    if (w->ft != NULL)
        flow_flush(w->ft); /* flows still held get their end callback */
    detect_thread_destroy(w->dt);
    app_layer_destroy(w->app);
    stream_ctx_destroy(w->stream);
    defrag_destroy(w->defrag);
    flow_table_destroy(w->ft);
    free(w);
}

int worker_set_engine(struct worker *w, const struct detect_engine *de, struct detect_thread *dt)
{
    int rc;

    if (dt == NULL && (rc = detect_thread_create(&dt, de)) != 0)
        return rc;
    detect_thread_destroy(w->dt);
    w->dt = dt;
    w->de = de;
    return 0;
}

/* capture.checksum-checks: validates p's TCP checksum when validation is
 * on; in auto mode, turns validation off for good when the first 1000 TCP
 * packets hold more than one bad checksum in eleven (Suricata's ratio: the
 * capture host offloads checksums, so they are all wrong). */
static unsigned worker_checksum(struct worker *w, struct packet *p)
{
    bool bad;

    if (!w->csum_on)
        return 0;
    bad = !decode_checksum_check(p) && (p->flags & PKT_L4_CSUM_BAD);
    if (w->cfg.checksum == CONFIG_CSUM_AUTO && w->csum_seen < 1000) {
        w->csum_bad += bad;
        if (++w->csum_seen == 1000 && w->csum_bad > 0 &&
            (w->csum_seen - w->csum_bad) / w->csum_bad < 10) {
            w->csum_on = false;
            p->flags &= ~(uint32_t)PKT_L4_CSUM_BAD;
            return 0;
        }
    }
    return STREAM_PKT_CHECK_CSUM;
}

/*
 * A TCP packet with a flow: the stream engine, then detection with the raw
 * stream data that is ready, as Suricata in IDS mode: the data p's sender
 * has sent, up to what the receiver acknowledged, once at least a chunk of
 * it is waiting, or at once when the direction is done or the session
 * closing.  Each byte is inspected once.
 */
static void worker_tcp(struct worker *w, struct packet *p, detect_alert_fn fn, void *arg)
{
    struct flow *f = p->flow;
    struct detect_stream st = {0};
    struct stream_view v;
    uint32_t before[2] = {0, 0}, r;
    uint64_t limit;
    int d = p->dir;
    bool all;

    if (f->tcp != NULL) {
        for (int k = 0; k < 2; k++) {
            stream_view(f->tcp, k, &v);
            before[k] = v.flags;
        }
    }
    r = stream_packet(w->stream, p, worker_checksum(w, p));
    if (f->tcp == NULL || (r & STREAM_R_CSUM)) {
        detect_packet_stream(w->dt, w->de, p, &st, fn, arg);
        return;
    }
    st.added = p->payload_len > 0 && (r & STREAM_R_TRACKED) &&
               !(r & (STREAM_R_INVALID | STREAM_R_OLD_ACKED)) &&
               !(before[d] & (STREAM_V_DEPTH | STREAM_V_MEMCAP)) &&
               (stream_state(f->tcp) >= STREAM_STATE_ESTABLISHED ||
                (r & STREAM_R_DATA) /* TCP Fast Open data on a SYN */);
    /* The application layer parses each direction's bytes once the other
     * side acknowledged them, as Suricata in IDS mode: this packet's ACK
     * hands over the other direction's, and (a session seen from one side,
     * where bytes count as acknowledged on arrival) its own; all of both
     * once the session closes or is reset.  Parsing always runs ahead of
     * raw inspection, which releases only acknowledged bytes. */
    all = (p->tcp_flags & TH_RST) || worker_closing(stream_state(f->tcp));
    for (int k = 0; k < 2; k++) {
        int dir = k == 0 ? !d : d;
        if (worker_app_feed(w, f, dir, before[dir], all)) {
            /* the flow was turned round (a midstream session whose first
             * data was the server's): the packet goes the other way now */
            uint32_t t = before[0];
            before[0] = before[1];
            before[1] = t;
            p->dir ^= 1;
            d = p->dir;
        }
    }
    app_layer_pd_flag(f, p);
    stream_view(f->tcp, d, &v);
    limit = v.acked < v.end ? v.acked : v.end;
    if (limit > v.inspected &&
        (limit - v.inspected >= w->cfg.chunk[d] || (v.flags & STREAM_V_DEPTH) ||
         worker_closing(stream_state(f->tcp)))) {
        st.chunk = v.data + (v.inspected - v.base);
        st.chunk_len = (size_t)(limit - v.inspected);
    }
    if (worker_encrypted(f)) {
        /* as Suricata: once a TLS session is encrypted its bytes are not
         * inspected as content (header, flow and app-layer rules still are) */
        struct packet q = *p;
        struct detect_stream none = {0};
        q.payload = NULL;
        q.payload_len = 0;
        detect_packet_stream(w->dt, w->de, &q, &none, fn, arg);
    } else {
        detect_packet_stream(w->dt, w->de, p, &st, fn, arg);
    }
    detect_app_packet(w->dt, w->de, p, v.data, (size_t)(v.end - v.base), false, fn, arg);
    if (st.chunk_len > 0 || (v.flags & STREAM_V_GAP_PENDING))
        stream_consume(w->stream, f->tcp, d, limit, 0);
}

/* Flow and detection for one decoded packet. */
static void worker_inspect(struct worker *w, struct packet *p, detect_alert_fn fn, void *arg)
{
    /* As Suricata: a packet whose L4 header is broken gets no flow (it
     * would make a bogus port-0 flow), but IP-level rules still see it. */
    if (!(p->flags & (PKT_INVALID | PKT_FRAGMENT)))
        flow_lookup(w->ft, p);
    if ((p->flags & PKT_TCP) && p->flow != NULL) {
        worker_tcp(w, p, fn, arg);
    } else if ((p->flags & PKT_UDP) && p->flow != NULL) {
        app_layer_udp(w->app, p->flow, p);
        app_layer_pd_flag(p->flow, p);
        detect_packet(w->dt, w->de, p, fn, arg);
        detect_app_packet(w->dt, w->de, p, NULL, 0, false, fn, arg);
    } else {
        detect_packet(w->dt, w->de, p, fn, arg);
    }
}

static void worker_tunnel(struct worker *w, const struct packet *outer, detect_alert_fn fn,
                          void *arg);

/*
 * One decoded packet through the rest of the pipeline: inspected as itself;
 * a fragment then goes to defrag, and the datagram it completes is decoded
 * and handled as its own packet (flows, ports, payload); what a tunnel in
 * the packet carries is handled the same way (worker_tunnel).
 */
static void worker_one(struct worker *w, struct packet *p, detect_alert_fn fn, void *arg)
{
    struct defrag_result res;
    struct packet rp;

    worker_inspect(w, p, fn, arg);
    if (!(p->flags & PKT_FRAGMENT)) {
        worker_tunnel(w, p, fn, arg);
        return;
    }
    if (defrag_process(w->defrag, p, &res) == 1 &&
        decode_packet(&rp, DLT_RAW, res.data, res.len, res.len, p->ts_usec, &w->reassembled) ==
            0) {
        rp.vlan_id[0] = p->vlan_id[0];
        rp.vlan_id[1] = p->vlan_id[1];
        rp.vlan_count = p->vlan_count;
        rp.tunnel_depth = p->tunnel_depth;
        worker_one(w, &rp, fn, arg);
    }
}

/*
 * The packet a tunnel in outer carries (GRE, VXLAN, Geneve, Teredo, IP in
 * IP: PKT_TUNNEL) is decoded and handled as a packet of its own, as
 * Suricata's tunnel packets: its own flow, ports and payload, after the
 * outer packet, up to DECODE_TUNNEL_MAX_DEPTH (decode_tunnel_packet refuses
 * deeper ones).
 */
static void worker_tunnel(struct worker *w, const struct packet *outer, detect_alert_fn fn,
                          void *arg)
{
    struct packet p;

    if ((outer->flags & PKT_TUNNEL) && decode_tunnel_packet(&p, outer, &w->dstats) == 0)
        worker_one(w, &p, fn, arg);
}

void worker_packet(struct worker *w, int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_usec, detect_alert_fn fn, void *arg)
{
    struct packet p;

    w->fn = fn;
    w->arg = arg;
    if (decode_packet(&p, linktype, data, caplen, wirelen, ts_usec, &w->dstats) == 0)
        worker_one(w, &p, fn, arg);
    if ((++w->npackets & 1023) == 0) {
        flow_timeout(w->ft);
        defrag_timeout(w->defrag, ts_usec);
    }
}

void worker_idle(struct worker *w)
{
    flow_timeout(w->ft);
    defrag_timeout(w->defrag, 0);
}

void worker_flush(struct worker *w)
{
    flow_flush(w->ft);
}

const struct decode_stats *worker_decode_stats(const struct worker *w)
{
    return &w->dstats;
}

const struct flow_stats *worker_flow_stats(const struct worker *w)
{
    return flow_table_stats(w->ft);
}

const struct defrag_stats *worker_defrag_stats(const struct worker *w)
{
    return defrag_stats(w->defrag);
}

const struct stream_stats *worker_stream_stats(const struct worker *w)
{
    return stream_ctx_stats(w->stream);
}

const struct app_layer_stats *worker_app_stats(const struct worker *w)
{
    return app_layer_stats(w->app);
}

bool worker_checksum_validation(const struct worker *w)
{
    return w->csum_on;
}
