/*
 * flow.h — the per-worker bidirectional flow table.
 *
 * A flow is the set of packets sharing (addresses, ports, IP protocol, VLAN
 * ids) in either direction.  The side that sent the first packet is the
 * client, except that a flow first seen with a SYN/ACK is turned round.
 * Each worker thread owns one flow table; the hot path takes no locks.
 *
 * Memory: every flow comes from a pool sized from the memcap at creation;
 * flow_lookup() never allocates.  When the pool is empty the least recently
 * seen half-open flow is recycled (SYN-flood defence, counted in
 * emergency_evicted); when there is none, the packet goes on without a flow
 * and memcap_drops counts it.
 *
 * Time is packet time: the table's clock is the latest timestamp seen, so
 * captures whose timestamps go backwards do not make flows time out early.
 * Timeouts depend on state (new, established, closed), as in Suricata.
 */
#ifndef KANSHI_FLOW_H
#define KANSHI_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

struct tcp_session;
struct app_flow;

enum { FLOW_DIR_TOSERVER = 0, FLOW_DIR_TOCLIENT = 1 };

enum flow_state { FLOW_STATE_NEW, FLOW_STATE_ESTABLISHED, FLOW_STATE_CLOSED };

/* TCP handshake progress (flow->tcp_seen). */
enum {
    FLOW_TCP_SYN = 1u << 0,
    FLOW_TCP_SYNACK = 1u << 1,
    FLOW_TCP_ACK = 1u << 2, /* the handshake's final ACK */
    FLOW_TCP_FIN = 1u << 3,
    FLOW_TCP_RST = 1u << 4,
};

struct flow {
    /* Table bookkeeping. */
    struct flow *hnext;         /* hash chain */
    struct flow *lprev, *lnext; /* timeout list of its state */
    uint32_t hash;
    uint8_t list; /* which timeout list, or FLOW_LIST_NONE */

    /* Identity; index 0 is the client. */
    struct kanshi_addr addr[2];
    uint16_t port[2];
    uint16_t vlan[2];
    uint8_t proto;

    uint8_t state;    /* enum flow_state */
    uint8_t tcp_seen; /* FLOW_TCP_* */
    uint8_t seen_dir; /* bit per direction that has sent a packet */
    uint8_t iponly_dirs; /* bit per direction whose IP-only rules ran (detect.c) */
    uint8_t dropped;     /* a drop/reject rule matched: the rest of the flow is not
                            inspected (Suricata's flow drop, in IDS mode too) */
    uint64_t flow_id; /* Suricata-compatible 51-bit id */
    uint64_t start_usec, last_usec;
    uint64_t pkts[2], bytes[2];

    /* TCP reassembly state (stream.c), NULL until a session starts; freed with
     * stream_session_free() when the flow ends.  Zeroed with the flow. */
    struct tcp_session *tcp;

    /* flowbits/flowint values (flowvars.h), NULL until a rule sets one;
     * freed with flowvars_free() when the flow ends.  Zeroed with the flow. */
    struct flow_vars *vars;

    /* Application-layer protocol and parser state (app_layer.h), NULL
     * until the flow carries payload; freed with app_layer_flow_free(). */
    struct app_flow *app;
};

struct flow_config {
    uint64_t memcap;    /* bytes for the flow pool */
    uint32_t hash_size; /* buckets, rounded up to a power of two */
    uint32_t timeout_new, timeout_est, timeout_closed; /* seconds, TCP */
    uint32_t timeout_udp_est, timeout_icmp_est;
};

struct flow_stats {
    uint64_t created, timed_out, emergency_evicted, memcap_drops;
    uint64_t active, max_flows;
    uint64_t tcp, udp, icmp, other;
};

struct flow_table;

/* Called for each flow leaving the table (timeout, recycling, flush), before
 * its memory is reused. */
typedef void (*flow_end_fn)(void *arg, struct flow *f);

/* Creates a table; the pool holds memcap / sizeof(struct flow) flows (at
 * least 1).  0, -EINVAL (hash_size 0) or -ENOMEM. */
int flow_table_create(struct flow_table **out, const struct flow_config *cfg, flow_end_fn on_end,
                      void *arg);
void flow_table_destroy(struct flow_table *ft);

/*
 * Finds or creates the flow of a decoded IP packet and updates it with the
 * packet (direction, counters, TCP handshake state, timeouts).  Sets p->flow
 * and p->dir.  Returns the flow, or NULL for packets that have no flow
 * (fragments, non-IP) or when the memcap left none (counted).
 */
struct flow *flow_lookup(struct flow_table *ft, struct packet *p);

/*
 * Turns f round: its client becomes the side that sent its first packet's
 * reply.  For a session picked up midstream whose first data turns out to
 * be a server's (an HTTP response), as Suricata's app-layer detection
 * reverses such flows.  Swaps the endpoints and the per-direction counters;
 * the flow's TCP session and application state must be swapped by their
 * owners (stream_session_swap, app_layer).  The hash does not change.
 */
void flow_swap(struct flow *f);

/* A byte with a bit per direction (bit FLOW_DIR_*), its two bits swapped. */
static inline uint8_t flow_dir_bits_swap(uint8_t b)
{
    return (uint8_t)((b & ~3u) | ((b & 1u) << 1) | ((b >> 1) & 1u));
}

/* Ends every flow whose timeout has passed at the table's clock.  Cheap:
 * looks only at the head of each timeout list.  Returns flows ended. */
size_t flow_timeout(struct flow_table *ft);

/* Ends every flow (end of input). */
void flow_flush(struct flow_table *ft);

const struct flow_stats *flow_table_stats(const struct flow_table *ft);

/* True when the flow counts as established for flow:established: a TCP
 * flow after the three-way handshake, any other after both directions. */
static inline bool flow_is_established(const struct flow *f)
{
    return f->state == FLOW_STATE_ESTABLISHED ||
           (f->state == FLOW_STATE_CLOSED && (f->tcp_seen & FLOW_TCP_ACK));
}

#endif
