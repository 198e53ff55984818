/*
 * defrag.h — IPv4 and IPv6 fragment reassembly, one reassembler per worker.
 *
 * The decoder flags fragments (PKT_FRAGMENT) and leaves their L3 fields set;
 * defrag_process() keeps a copy of each fragment, keyed by (addresses, IP id,
 * VLAN ids, and for IPv4 the protocol: RFC 791; IPv6 keys on addresses and id
 * only, RFC 8200 4.5).  When the last fragment (MF clear) is in and no hole
 * is left, it rebuilds the datagram as a complete IP packet in a buffer of
 * its own, which the caller decodes with decode_packet(..., DLT_RAW, ...)
 * and inspects as a packet of its own:
 *   IPv4  the header (options included) of the fragment that supplied byte 0,
 *         total length set, flags and offset cleared, checksum recomputed;
 *   IPv6  that fragment's unfragmentable part (IPv6 header and the extension
 *         headers before the fragment header), payload length set, the
 *         fragment header removed and the next-header byte that named it set
 *         to the fragment header's next header.
 *
 * Overlaps are resolved byte by byte as the target host would, with one of
 * Suricata's policies (default bsd, Suricata's default).  Each new fragment
 * takes over the bytes it shares with an earlier one when the policy says
 * the new one wins against that one:
 *   first    never                       last     always
 *   bsd      it starts before the old    linux    it starts at or before it
 *   windows  it starts before and ends after the old one
 *   solaris  it starts before and ends at or after the old one
 * (This reproduces the results of Suricata's Sturges/Novak tests for every
 * policy; tests/unit/defrag_test.c checks them byte by byte.)
 *
 * Memory is bounded: trackers and fragment records come from pools sized at
 * creation; fragment bytes are counted against the memcap and live in
 * recycled 2 KiB blocks (larger fragments are allocated to size).  When a
 * pool or the memcap is exhausted the least recently updated datagram is
 * given up (evicted); a fragment that still cannot be stored is dropped
 * (memcap_drops, event DEFRAG_EV_IGNORED).  Datagrams not completed within
 * the timeout (packet time, renewed by every fragment) are dropped.
 *
 * Thread use: a struct defrag belongs to one worker; nothing is shared.  The
 * packet path never allocates in the common case and never logs.
 */
#ifndef KANSHI_DEFRAG_H
#define KANSHI_DEFRAG_H

#include <stdint.h>

#include "kanshi/packet.h"

enum defrag_policy {
    DEFRAG_POLICY_BSD = 0, /* the default, as Suricata's */
    DEFRAG_POLICY_FIRST,
    DEFRAG_POLICY_LAST,
    DEFRAG_POLICY_LINUX,
    DEFRAG_POLICY_WINDOWS,
    DEFRAG_POLICY_SOLARIS,
    DEFRAG_POLICY_COUNT
};

/* Largest reassembled packet: an IPv6 header plus a 65535-byte payload. */
#define DEFRAG_MAX_PACKET (40 + 65535)

struct defrag_config {
    uint64_t memcap;                 /* bytes of fragment data blocks; 32 MiB */
    uint32_t max_trackers;           /* datagrams in reassembly at once; 65535 */
    uint32_t max_frags;              /* fragments held at once, all datagrams; 65535 */
    uint32_t max_frags_per_datagram; /* 1..8192; 1024 */
    uint32_t timeout;                /* seconds, 1..86400; 60 */
    enum defrag_policy policy;       /* DEFRAG_POLICY_BSD */
};

/* Fills *cfg with the defaults above (Suricata's defrag defaults). */
void defrag_config_default(struct defrag_config *cfg);

/* Events a fragment can raise (bits of defrag_result.events).  Their names
 * (defrag_event_name) follow Suricata's decoder events where one exists. */
enum {
    DEFRAG_EV_OVERLAP = 1u << 0,    /* overlaps a fragment held: frag_overlap */
    DEFRAG_EV_TOO_LARGE = 1u << 1,  /* would end past 65535 bytes: frag_pkt_too_large */
    DEFRAG_EV_IGNORED = 1u << 2,    /* not stored: memcap or pools exhausted: frag_ignored */
    DEFRAG_EV_AFTER_LAST = 1u << 3, /* data past the end the last fragment set (kanshi) */
    DEFRAG_EV_TOO_MANY = 1u << 4,   /* over max_frags_per_datagram (kanshi) */
};

/*
 * Name of one event bit for a packet of family AF_INET or AF_INET6, e.g.
 * "decoder.ipv4.frag_overlap"; "decoder.unknown" for anything else.
 */
const char *defrag_event_name(uint32_t ev, int family);

struct defrag_stats {
    uint64_t fragments4, fragments6;     /* fragments given to defrag_process() */
    uint64_t reassembled4, reassembled6; /* datagrams rebuilt */
    uint64_t trackers;                   /* datagrams started */
    uint64_t trackers_active;            /* datagrams in reassembly now */
    uint64_t frags_active;               /* fragments held now */
    uint64_t bytes_active;               /* data block bytes counted against the memcap */
    uint64_t timeouts;                   /* datagrams dropped at their timeout */
    uint64_t evicted;                    /* datagrams dropped to make room */
    uint64_t memcap_drops;               /* fragments not stored (DEFRAG_EV_IGNORED) */
    uint64_t overlaps, too_large, after_last, too_many; /* fragments raising each event */
    uint64_t invalid; /* fragments ignored: truncated capture, no data, broken header */
};

/* The outcome of one fragment. */
struct defrag_result {
    const uint8_t *data; /* the rebuilt IP packet when defrag_process() returned 1 */
    uint32_t len;
    uint32_t events; /* DEFRAG_EV_* raised by this fragment */
};

struct defrag;

/*
 * Creates a reassembler.  Returns 0, -EINVAL when a value is out of range
 * (max_trackers, max_frags or memcap 0, max_frags_per_datagram outside
 * 1..8192, timeout outside 1..86400, unknown policy), or -ENOMEM.
 */
int defrag_create(struct defrag **out, const struct defrag_config *cfg);
void defrag_destroy(struct defrag *d);

/*
 * Adds one decoded fragment p (PKT_FRAGMENT set, p->l3 pointing at its IP
 * header) to its datagram.  Returns
 *   1        p completed the datagram: res->data/res->len hold the rebuilt
 *            IP packet (a buffer of d's, valid until the next call to a
 *            defrag_* function on d; a packet decoded from it points into
 *            it), and the datagram is forgotten;
 *   0        p was stored, or ignored (see res->events and the stats);
 *   -EINVAL  p is not an IPv4/IPv6 fragment.
 * res->events is always set.  p itself is not changed: the caller raises the
 * events on it (e.g. as decoder events) if it wants to.
 */
int defrag_process(struct defrag *d, const struct packet *p, struct defrag_result *res);

/*
 * Drops every datagram whose timeout has passed at now_usec (or at the
 * latest packet time seen, whichever is later).  Cheap: looks only at the
 * oldest datagrams.  Returns the number dropped.
 */
size_t defrag_timeout(struct defrag *d, uint64_t now_usec);

const struct defrag_stats *defrag_stats(const struct defrag *d);

/* "bsd", "first", ...; and back (0 or -EINVAL).  For configuration. */
const char *defrag_policy_name(enum defrag_policy pol);
int defrag_policy_parse(const char *name, enum defrag_policy *out);

#endif
