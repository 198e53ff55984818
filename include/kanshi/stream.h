/*
 * stream.h — TCP session tracking and stream reassembly, one context per
 * worker.
 *
 * A session (struct tcp_session) hangs off its flow (flow->tcp) and holds
 * the TCP state machine and, per direction, the reassembled byte stream.
 * Directions are the flow's: FLOW_DIR_TOSERVER (0) is the data the flow's
 * client sends, FLOW_DIR_TOCLIENT (1) the server's.  Stream offsets are 64-bit
 * and count from 0 = the first byte after the SYN (ISN + 1), so sequence
 * wrap-around is invisible above this API.
 *
 * Sessions start with a SYN (or, with midstream pickup, with any packet but
 * a RST; off by default, as in Suricata: without a handshake there is no
 * reassembly).  Data is reassembled only from the established state on.
 * Per direction, in sequence order:
 *   - retransmitted data is compared with what is held and then ignored;
 *   - overlapping data is resolved by the policy (first wins by default,
 *     Suricata's raw-stream behaviour; last: later data replaces bytes not
 *     inspected yet) and counted, with "different data" counted apart;
 *   - data after a hole waits for the hole to fill; when the other side
 *     ACKs past a hole (the sensor missed a segment) and gap_skip is on,
 *     the hole is skipped and counted as a gap;
 *   - SYN and FIN take one sequence number each, RST none;
 *   - at most `depth` bytes per direction are kept (then STREAM_V_DEPTH);
 *   - when the reassembly memcap refuses in-order data the direction stops
 *     being reassembled (STREAM_V_MEMCAP); the flow goes on.
 * Packets failing the sanity checks (out of the receiver's window, an ACK
 * for data never sendable, a RST not at the expected sequence number, a bad
 * handshake, data after close) are ignored and counted as invalid.
 *
 * The consumer (detection) sees each direction as one contiguous buffer of
 * reassembled bytes [base, end) (stream_view): [inspected, end) is new, and
 * [base, inspected) is the tail it asked to keep so that a pattern spanning
 * the boundary can still be found.  It marks what it inspected with
 * stream_consume(); the engine may then drop older bytes.  `acked` is how
 * far the other side has acknowledged (Suricata inspects the raw stream up
 * to there in IDS mode); when the direction is done (FIN reached, RST,
 * depth, memcap) the consumer should inspect everything up to `end`.
 *
 * Memory: sessions and stream buffers are recycled through free lists and
 * counted against two memcaps (sessions; reassembly), so a SYN flood cannot
 * starve reassembly.  The packet path does not allocate in the common case
 * and never logs.  Thread use: a context and its sessions belong to one
 * worker; nothing is shared.
 */
#ifndef KANSHI_STREAM_H
#define KANSHI_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

struct tcp_session;
struct stream_ctx;

enum stream_state {
    STREAM_STATE_NONE,
    STREAM_STATE_SYN_SENT,
    STREAM_STATE_SYN_RECV,
    STREAM_STATE_ESTABLISHED,
    STREAM_STATE_FIN_WAIT1,  /* client closed first; not acked yet */
    STREAM_STATE_FIN_WAIT2,  /* ...acked */
    STREAM_STATE_CLOSING,    /* both closed, client first, client's FIN not acked */
    STREAM_STATE_TIME_WAIT,  /* both closed, client's FIN acked, server's not */
    STREAM_STATE_CLOSE_WAIT, /* server closed first */
    STREAM_STATE_LAST_ACK,   /* server closed first, then the client */
    STREAM_STATE_CLOSED,     /* both FINs acked, or a RST accepted */
};

enum stream_policy {
    STREAM_POLICY_FIRST = 0, /* bytes once received are kept */
    STREAM_POLICY_LAST,      /* later data replaces bytes not yet inspected */
    STREAM_POLICY_BSD,       /* Suricata's default ("bsd"): held bytes are kept, unless the
                                new segment starts before the segment that brought them;
                                then its bytes replace them (where not yet inspected) */
};

struct stream_config {
    uint64_t memcap;            /* bytes of sessions; 64 MiB */
    uint64_t reassembly_memcap; /* bytes of stream buffers; 256 MiB */
    uint64_t depth;             /* bytes kept per direction, 0 = no limit; 1 MiB */
    uint32_t ooo_limit;         /* out-of-order data kept at most this far past the
                                   contiguous end, 0 = no limit; 1 MiB */
    enum stream_policy policy;  /* STREAM_POLICY_FIRST */
    bool midstream;             /* pick up sessions without a handshake; false */
    bool async_oneside;         /* only the client's side may be seen (asymmetric routing):
                                   a session whose SYN is followed by the client's ACK is
                                   taken as established, its data as acknowledged; false */
    bool gap_skip;              /* skip holes the receiver ACKed past; true */
    bool rst_in_window;         /* false: a RST must carry exactly the next sequence
                                   number (Suricata's default bsd policy, RFC 5961);
                                   true: anywhere in the receive window (linux) */
};

/* Fills *cfg with the defaults above.  Suricata's memcaps are for the whole
 * process; divide them by the number of workers. */
void stream_config_default(struct stream_config *cfg);

/* Flags of stream_packet(). */
enum {
    STREAM_PKT_CHECK_CSUM = 1u << 0, /* ignore p when PKT_L4_CSUM_BAD is set (the caller
                                        ran decode_checksum_check(), e.g. in Suricata's
                                        "auto" checksum mode) */
};

/* What a packet did: bits of stream_packet()'s return value. */
enum {
    STREAM_R_TRACKED = 1u << 0,      /* p belongs to a session (new or old) */
    STREAM_R_NEW = 1u << 1,          /* a session started (or restarted: offsets from 0) */
    STREAM_R_ESTABLISHED = 1u << 2,  /* the handshake completed (or midstream pickup) */
    STREAM_R_DATA = 1u << 3,         /* new contiguous bytes in direction p->dir */
    STREAM_R_ACKED = 1u << 4,        /* the other direction's acked offset advanced */
    STREAM_R_EOF = 1u << 5,          /* a direction became done (FIN reached, RST, depth,
                                        memcap) */
    STREAM_R_GAP = 1u << 6,          /* a hole was skipped, or is pending (STREAM_V_GAP_PENDING) */
    STREAM_R_RETRANS = 1u << 7,      /* p's data was all known already */
    STREAM_R_OVERLAP = 1u << 8,      /* p's data overlapped data held */
    STREAM_R_OVERLAP_DIFF = 1u << 9, /* ...with different bytes */
    STREAM_R_INVALID = 1u << 10,     /* p (or part of its data) was ignored as invalid */
    STREAM_R_CSUM = 1u << 11,        /* p was ignored: bad checksum */
    STREAM_R_RST = 1u << 12,         /* a RST was accepted: the session is closed */
    STREAM_R_FIN = 1u << 13,         /* p carried the first FIN of its direction */
    STREAM_R_OLD_ACKED = 1u << 14,   /* p's data ends before what the receiver acknowledged:
                                        not added (Suricata's "packet before last ACK"), so
                                        detection inspects the packet on its own */
};

/* Direction flags of struct stream_view. */
enum {
    STREAM_V_FIN = 1u << 0,         /* a FIN was seen (at offset fin) */
    STREAM_V_EOF = 1u << 1,         /* every byte up to the FIN is in: end == fin */
    STREAM_V_RST = 1u << 2,         /* the session was reset */
    STREAM_V_DEPTH = 1u << 3,       /* the depth was reached */
    STREAM_V_MEMCAP = 1u << 4,      /* reassembly stopped on the memcap */
    STREAM_V_GAP_PENDING = 1u << 5, /* bytes right after end were acked but never seen:
                                       consume up to end and the engine skips them */
    STREAM_V_GAP = 1u << 6,         /* at least one hole was skipped */
    STREAM_V_DONE = STREAM_V_EOF | STREAM_V_RST | STREAM_V_DEPTH | STREAM_V_MEMCAP,
};

/* One direction's reassembled bytes, as seen by the consumer.  data holds
 * the bytes of offsets [base, end); NULL when end == base.  Valid until the
 * next stream_* call on the session. */
struct stream_view {
    const uint8_t *data;
    uint64_t base;      /* offset of data[0]: the oldest byte still kept */
    uint64_t inspected; /* the consumer's mark: base <= inspected <= end */
    uint64_t end;       /* received-contiguous end */
    uint64_t acked;     /* acknowledged by the other side (not past the FIN); may be below
                           or beyond end */
    uint64_t fin;       /* offset of the FIN when STREAM_V_FIN */
    uint32_t flags;     /* STREAM_V_* */
};

struct stream_stats {
    uint64_t sessions;        /* started (SYN, midstream, reuse) */
    uint64_t sessions_active; /* allocated and in use now */
    uint64_t midstream;       /* picked up without a handshake */
    uint64_t reused;          /* restarted by a new SYN after close */
    uint64_t no_session;      /* TCP packets of flows without a session (no SYN seen) */
    uint64_t segments;        /* data segments offered to reassembly */
    uint64_t bytes;           /* bytes that became contiguous (reassembled) */
    uint64_t retransmissions; /* segments entirely made of bytes already received */
    uint64_t overlaps;        /* other segments overlapping bytes held */
    uint64_t overlaps_diff;   /* segments whose overlap differed from bytes held */
    uint64_t gaps, gap_bytes; /* holes skipped, and their bytes */
    uint64_t depth_reached;   /* directions that reached the depth */
    uint64_t depth_bytes;     /* bytes not kept because of the depth */
    uint64_t memcap_drops;    /* sessions or segments refused by a memcap */
    uint64_t ooo_drops;       /* out-of-order segments dropped: too far ahead or too
                                 many holes */
    uint64_t invalid;         /* packets (or data) ignored: the sum of the next four and
                                 other protocol violations */
    uint64_t out_of_window, bad_ack, bad_rst, bad_handshake;
    uint64_t csum_bad;          /* packets ignored for a bad checksum */
    uint64_t memuse;            /* session bytes now */
    uint64_t reassembly_memuse; /* buffer bytes now */
};

/* Creates a context.  0, -EINVAL (a memcap of 0, an unknown policy) or
 * -ENOMEM. */
int stream_ctx_create(struct stream_ctx **out, const struct stream_config *cfg);

/* Frees the context and every session still allocated from it (flows that
 * point at them must not be used with it again).  NULL is a no-op. */
void stream_ctx_destroy(struct stream_ctx *ctx);

const struct stream_stats *stream_ctx_stats(const struct stream_ctx *ctx);

/*
 * Feeds one decoded TCP packet p to its flow's session: p needs PKT_TCP and
 * p->flow / p->dir as set by flow_lookup().  Creates p->flow->tcp when p
 * starts a session.  The fields read are flags, tcp_seq, tcp_ack, tcp_win,
 * tcp_flags, payload/payload_len, and l4/l4_len (TCP options of SYNs, for
 * window scaling; optional).  Returns STREAM_R_* bits, 0 when p is not TCP,
 * has no flow, or has no session and starts none.
 */
uint32_t stream_packet(struct stream_ctx *ctx, const struct packet *p, unsigned flags);

/* Frees a session (e.g. from the flow table's flow_end_fn, with f->tcp);
 * NULL is a no-op.  Inspect what is left (stream_view) before. */
void stream_session_free(struct stream_ctx *ctx, struct tcp_session *s);

enum stream_state stream_state(const struct tcp_session *s);
/* The session was picked up without its handshake (stream.midstream). */
bool stream_midstream(const struct tcp_session *s);
/* Swaps the session's two directions, with flow_swap(). */
void stream_session_swap(struct tcp_session *s);
const char *stream_state_name(enum stream_state st); /* "established", ... */

/* Fills *v for direction dir (FLOW_DIR_*) of s. */
void stream_view(const struct tcp_session *s, int dir, struct stream_view *v);

/* Block i (0, 1, ...) of the bytes direction dir holds past a hole (out of
 * order, never contiguous): 0 with *data and *len set, or -1 when there is
 * no block i.  For the flow-end flush, which inspects them as Suricata's
 * pseudo packet does.  Valid until the next stream_* call on s. */
int stream_ooo_block(const struct tcp_session *s, int dir, unsigned i, const uint8_t **data,
                     size_t *len);

/*
 * Marks the bytes of direction dir before offset upto as inspected (upto is
 * clamped to [inspected, end]) and lets the engine drop bytes before
 * upto - keep; `keep` is the tail to retain for patterns spanning the
 * boundary (a few KiB, or the longest pattern).  The kept start only moves
 * forward.  A pending gap is skipped once everything before it is
 * inspected; a done direction fully inspected releases its buffer.
 */
void stream_consume(struct stream_ctx *ctx, struct tcp_session *s, int dir, uint64_t upto,
                    size_t keep);

#endif
