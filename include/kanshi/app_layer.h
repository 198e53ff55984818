/*
 * app_layer.h — a flow's application layer: which protocol it speaks and
 * the parser state of that protocol.
 *
 * The worker hands app_layer each TCP direction's reassembled bytes in
 * order (app_layer_tcp: those the other side acknowledged since the last
 * call, as Suricata in IDS mode, and the rest when the session closes or
 * the flow ends) and each UDP datagram (app_layer_udp).  The first bytes of
 * a flow decide its protocol (app_probe, by content; ports only where the
 * bytes cannot tell); the protocol's parser (app_http.c, app_tls.c,
 * app_dns.c) then gets every later byte.  The detection engine reads the
 * parsed transactions through struct app_flow.
 *
 * Memory: states are allocated when a flow's protocol is known, at most
 * cfg->max_states at a time per context (beyond that a flow is not parsed
 * and states_refused counts it); each parser caps its own buffers.  One
 * context per worker thread; a flow's state belongs to its worker.
 */
#ifndef KANSHI_APP_LAYER_H
#define KANSHI_APP_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/app.h"
#include "kanshi/app_dns.h"
#include "kanshi/app_http.h"
#include "kanshi/app_tls.h"
#include "kanshi/packet.h"

struct flow;

struct app_layer_config {
    bool disabled; /* no probing, no parsing: app-layer rules never match */
    struct http_config http;
    uint32_t max_states;  /* flows with parser state at once; 65536 */
    uint32_t probe_limit; /* bytes a direction may send before probing gives up; 1024 */
};
void app_layer_config_default(struct app_layer_config *c);

#define APP_PROBE_BYTES 64 /* first bytes of a direction kept for probing */

/* Per-flow state (flow->app), NULL until the flow sends payload. */
struct app_flow {
    uint8_t proto;       /* enum app_proto: APP_PROTO_UNKNOWN while probing */
    uint8_t probe_done;  /* bit per direction whose probing ended */
    uint8_t pd_pending;  /* of those, bits whose next packet in that direction has not
                            been flagged PKT_PROTO_DETECT_DONE yet (app_layer_pd_flag) */
    uint8_t dir_proto[2]; /* what each direction's own first bytes said (enum app_proto) */
    uint8_t gave_up;     /* bit per direction whose parser stopped (not the protocol) */
    uint64_t off[2];     /* TCP: stream offset fed to the parser, per direction */
    uint8_t probe[2][APP_PROBE_BYTES]; /* each direction's first bytes, while probing */
    uint8_t probe_len[2];
    struct http_state *http;
    struct tls_state *tls;
    uint32_t tls_inspected[2]; /* TLS_SEEN_* bits the detection engine has seen, per
                                * direction of the packets it saw them on */
    struct dns_tcp *dns_tcp[2];
    /* The latest DNS message and its direction; ndns is 1 until the
     * detection engine inspected it */
    struct dns_msg *dns;
    uint8_t dns_dir[1];
    uint8_t ndns;
    bool dns_ok; /* dns holds a message that parsed (for EVE) */
    /* The transaction an alert is about, for its EVE object: set by the
     * detection engine while it inspects one (NULL otherwise). */
    struct http_tx *alert_http;
    const struct dns_msg *alert_dns;
};

struct app_layer_stats {
    uint64_t flows[APP_PROTO_COUNT]; /* flows by detected protocol */
    uint64_t states_refused;         /* flows not parsed: max_states reached */
    uint64_t reversed;               /* midstream flows turned round by their first data */
    uint64_t parser_errors;          /* directions whose parser gave up */
    uint64_t dns_messages, dns_dropped; /* parsed; replaced before inspection */
    /* Parser anomalies (counted when a flow's state is freed, DNS per
     * message), by the parsers' event enums. */
    uint64_t http_events[HTTP_EV_COUNT];
    uint64_t tls_events[TLS_EV_COUNT];
    uint64_t dns_events[DNS_EV_COUNT];
};

struct app_layer;

int app_layer_create(struct app_layer **out, const struct app_layer_config *cfg);
void app_layer_destroy(struct app_layer *al);

/* A TCP packet of f was handled by the stream engine: feeds the new
 * contiguous bytes of direction dir (data = the view's bytes from offset
 * base to end) to the flow's parser; eof when the direction is done.
 * Returns 1 when the flow was turned round (a session picked up midstream
 * whose first data was the server's, flow_swap()): the packet's direction
 * is then the other one. */
int app_layer_tcp(struct app_layer *al, struct flow *f, int dir, const uint8_t *data,
                  uint64_t base, uint64_t end, bool gap, bool eof);
/* A UDP datagram of f (p->flow == f). */
void app_layer_udp(struct app_layer *al, struct flow *f, const struct packet *p);
/* Sets PKT_PROTO_DETECT_DONE on p when protocol detection ended for p's
 * direction since that direction's last packet (Suricata's
 * PKT_PROTO_DETECT_TS/TC_DONE: the packet protocol-detection-only rules
 * are inspected on).  After app_layer_tcp/app_layer_udp, before detection. */
void app_layer_pd_flag(struct flow *f, struct packet *p);
/* Frees f's state (the flow ends). */
void app_layer_flow_free(struct app_layer *al, struct flow *f);

const struct app_layer_stats *app_layer_stats(const struct app_layer *al);

/* Appends the "app_proto" field and the flow's protocol object ("http",
 * "dns", "tls") for an alert on f, as Suricata's EVE does. */
struct jbuf;
void app_layer_eve(struct jbuf *b, const struct flow *f);

#endif
