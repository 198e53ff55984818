/*
 * pktgen.h — crafting valid packets and writing them to pcap files.
 *
 * kanshi makes its own traffic: the unit tests build packets in memory and
 * decode them, the e2e tests and the demo write pcap files with
 * kanshi-pktgen (tests/tools/pktgen_main.c).  Everything built here is
 * well-formed: Ethernet II (optionally one 802.1Q tag), IPv4 or IPv6, and
 * TCP, UDP, ICMP or ICMPv6 with every checksum correct, so a decoder that
 * flags a packet built here has a bug.  The one exception is asked for by
 * name: a TCP segment with bad_tcp_csum set, for tests of checksum
 * validation.
 *
 * Files are classic pcap (not pcapng): magic 0xa1b2c3d4 written little
 * endian, version 2.4, snaplen PKTGEN_SNAPLEN, LINKTYPE_ETHERNET (1),
 * microsecond timestamps.  Every byte written is a function of the calls
 * made, so the same program makes the same file on every host.
 *
 * Layers built by pktgen_build():
 *   Ethernet   dst MAC, src MAC (02:xx locally administered, derived from
 *              the IP addresses), [0x8100, TCI = VLAN id], ethertype
 *   IPv4       20 bytes, no options, DF set for TCP, TTL default 64
 *   IPv6       40 bytes, no extension headers, hop limit default 64
 *   TCP        20 bytes + options (multiple of 4, at most 40)
 *   UDP        8 bytes (a computed checksum of 0 is sent as 0xffff)
 *   ICMP       8 bytes (type, code, checksum, id, seq) + data
 *
 * Not thread-safe: one struct pktgen belongs to one thread.  This is a test
 * tool, not part of the sensor; nothing in libkanshi.a depends on it.
 */
#ifndef KANSHI_PKTGEN_H
#define KANSHI_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

#define PKTGEN_SNAPLEN 262144u
/* Largest frame pktgen_build() makes: Ethernet + VLAN + IPv6 header + a
 * 65535-byte IPv6 payload. */
#define PKTGEN_MAX_FRAME (14 + 4 + 40 + 65535)
/* Payload bytes per TCP segment unless a session says otherwise. */
#define PKTGEN_DEFAULT_MSS 1460u
/* Default clock: 2024-01-15T09:00:00Z, and 1 ms between packets. */
#define PKTGEN_DEFAULT_START_USEC 1705309200000000ull
#define PKTGEN_DEFAULT_STEP_USEC 1000u

/* Everything one packet needs.  pktgen_pkt_init() fills the defaults; the
 * caller then sets what matters.  Pointers are borrowed for the call. */
struct pktgen_pkt {
    struct kanshi_addr src, dst; /* both AF_INET or both AF_INET6 */
    uint8_t proto;               /* IPPROTO_TCP, _UDP, _ICMP (v4) or _ICMPV6 (v6) */
    uint16_t vlan;               /* 802.1Q VLAN id 1..4094; 0: untagged */
    uint8_t ttl;                 /* TTL / hop limit */
    uint16_t ip_id;              /* IPv4 identification */
    bool df;                     /* IPv4 don't-fragment bit */

    uint16_t sp, dp;   /* TCP/UDP ports */
    uint32_t seq, ack; /* TCP */
    uint8_t tcp_flags; /* TH_* of packet.h */
    uint16_t win;
    const uint8_t *tcp_opts; /* raw TCP options, tcp_opts_len % 4 == 0, <= 40 */
    size_t tcp_opts_len;
    bool bad_tcp_csum; /* store the TCP checksum XORed with 0x5a5a: wrong, never
                          the other form of zero, so every validator rejects it */

    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq; /* the 4 bytes after the ICMP checksum */

    const uint8_t *payload;
    size_t payload_len;
};

/*
 * Zeroes *pk and fills the defaults for proto between src:sp and dst:dp
 * (ports are ignored for ICMP): TTL 64, window 64240, DF for TCP.  src and
 * dst may be NULL (left zero).
 */
void pktgen_pkt_init(struct pktgen_pkt *pk, uint8_t proto, const struct kanshi_addr *src,
                     uint16_t sp, const struct kanshi_addr *dst, uint16_t dp);

/*
 * Builds the frame described by pk into buf (cap bytes), computing every
 * checksum.  Returns the frame length (> 0), or
 *   -EINVAL    address families differ or are not AF_INET/AF_INET6, proto
 *              does not fit the family (ICMP on IPv6, ICMPv6 on IPv4, other
 *              protocols), VLAN id > 4094, bad TCP options length, payload
 *              NULL with a non-zero length;
 *   -EMSGSIZE  the IP packet would exceed 65535 bytes;
 *   -ENOBUFS   cap is too small for the frame.
 * Nothing is written to buf on error.
 */
int pktgen_build(uint8_t *buf, size_t cap, const struct pktgen_pkt *pk);

/* Parses an IPv4 or IPv6 address in text form.  0 or -EINVAL. */
int pktgen_addr_parse(struct kanshi_addr *out, const char *text);

/* The Internet checksum (RFC 1071) of data, folded and complemented, as a
 * host-order value to be stored big-endian.  Exposed for the tests. */
uint16_t pktgen_inet_csum(const uint8_t *data, size_t len);

/* ------------------------------------------------------------------------ */
/* pcap writer with a clock                                                 */

struct pktgen;

/*
 * Creates (or truncates) the pcap file at path and writes its header.  The
 * clock starts at PKTGEN_DEFAULT_START_USEC and advances by the step
 * (PKTGEN_DEFAULT_STEP_USEC) after each packet.  Returns 0 and sets *out, or
 * -errno when the file cannot be created or written, -ENOMEM.
 */
int pktgen_open(struct pktgen **out, const char *path);

/*
 * Flushes and closes the file and frees g.  Returns 0, or the first write
 * error met since pktgen_open() (-errno): writes after an error are dropped,
 * so checking here once is enough.  NULL is a no-op returning 0.
 */
int pktgen_close(struct pktgen *g);

/* The clock: the time the next packet gets.  pktgen_sleep() adds a gap. */
uint64_t pktgen_clock(const struct pktgen *g);
void pktgen_set_clock(struct pktgen *g, uint64_t usec);
void pktgen_set_step(struct pktgen *g, uint64_t usec);
void pktgen_sleep(struct pktgen *g, uint64_t usec);

/* VLAN id that the session helpers below put on their packets (0: none).
 * pktgen_emit() uses pk->vlan as given. */
void pktgen_set_vlan(struct pktgen *g, uint16_t vlan);

/* Packets written so far. */
uint64_t pktgen_count(const struct pktgen *g);

/*
 * Appends one record holding frame (len bytes, caplen == wirelen) at the
 * clock's time and advances the clock.  0, -EMSGSIZE when len exceeds the
 * snaplen, or -errno of a write error.
 */
int pktgen_write_frame(struct pktgen *g, const uint8_t *frame, size_t len);

/*
 * Builds pk (as pktgen_build) and writes it.  An IPv4 packet with ip_id 0
 * gets the writer's next identification number.  Returns 0 or an error of
 * pktgen_build()/pktgen_write_frame().
 */
int pktgen_emit(struct pktgen *g, const struct pktgen_pkt *pk);

/* ------------------------------------------------------------------------ */
/* Flows                                                                    */

enum pktgen_dir { PKTGEN_TO_SERVER, PKTGEN_TO_CLIENT };

/*
 * A TCP connection between a client and a server.  Sequence numbers start
 * at an ISN derived from the 4-tuple (deterministic); cli_next/srv_next are
 * the next sequence number each side will send, so after a segment of n
 * bytes from the client cli_next has grown by n (and by 1 for SYN and FIN).
 * seg_size bounds the payload of one segment: a smaller value splits data
 * into several segments.
 */
struct pktgen_tcp {
    struct pktgen *g;
    struct kanshi_addr cli, srv;
    uint16_t cport, sport;
    uint32_t cli_isn, srv_isn;
    uint32_t cli_next, srv_next;
    size_t seg_size;
};

/* Sets up *s; writes nothing.  seg_size starts at PKTGEN_DEFAULT_MSS.
 * cli and srv must be of the same family (checked when packets are built). */
void pktgen_tcp_init(struct pktgen_tcp *s, struct pktgen *g, const struct kanshi_addr *cli,
                     uint16_t cport, const struct kanshi_addr *srv, uint16_t sport);

/* Writes SYN (with MSS/SACK-permitted options), SYN/ACK, ACK.  0 or an
 * error of pktgen_emit(). */
int pktgen_tcp_handshake(struct pktgen_tcp *s);

/*
 * Sends len bytes from one side: ceil(len / seg_size) ACK segments (PSH on
 * the last), then a pure ACK from the peer acknowledging them all.  len 0
 * writes nothing.  Works without a handshake too (mid-stream traffic).
 * 0, -EINVAL (data NULL with len > 0, seg_size 0) or an error of
 * pktgen_emit().
 */
int pktgen_tcp_send(struct pktgen_tcp *s, enum pktgen_dir dir, const void *data, size_t len);

/* Closes from the client: FIN/ACK, the server's FIN/ACK, the client's ACK.
 * 0 or an error of pktgen_emit(). */
int pktgen_tcp_close(struct pktgen_tcp *s);

/*
 * One explicitly placed TCP segment (kanshi-pktgen's tcpseg lines), for
 * tests of stream reassembly: out-of-order, overlapping and retransmitted
 * data, holes, bad checksums, RST and FIN.  Offsets are stream offsets: 0 is
 * the first byte after the sender's SYN (ISN + 1), as the sensor counts.
 */
struct pktgen_seg {
    enum pktgen_dir dir; /* sender: PKTGEN_TO_SERVER is the client */
    bool has_off;        /* false: at the sender's next sequence number */
    uint32_t off;
    bool has_ack;        /* false: acknowledge everything the peer sent (with TH_ACK) */
    uint32_t ack;        /* offset in the peer's stream acknowledged */
    bool has_flags;      /* false: TH_ACK, and TH_PUSH when carrying data */
    uint8_t flags;       /* TH_* of packet.h */
    bool bad_csum;       /* a wrong TCP checksum (pktgen_pkt.bad_tcp_csum) */
    bool drop;           /* sent but not captured: not written, yet counted as sent */
    const uint8_t *data; /* borrowed for the call */
    size_t len;
};

/*
 * Parses the word that starts a segment of a tcpseg line:
 *
 *   (client|server)[@OFF][,ack=OFF][,flags=LETTERS][,badsum][,drop][:]
 *
 * OFF is a decimal offset (0-4294967295); LETTERS are TCP flags among
 * F S R P A U E C (FIN SYN RST PSH ACK URG ECE CWR), case-insensitive.  A
 * trailing ':' says the segment's data (a quoted string) follows: *has_data.
 * An attribute given twice takes its last value.  Fills *seg (data NULL,
 * len 0) and returns 0, or returns -EINVAL with a message in err (errlen
 * bytes) naming the word and what is wrong; *seg is then unspecified.
 */
int pktgen_seg_parse(struct pktgen_seg *seg, bool *has_data, const char *word, char *err,
                     size_t errlen);

/*
 * Writes seg in session s: seq is the sender's ISN + 1 + off (or its next
 * sequence number), ack the peer's ISN + 1 + ack (or the peer's next; 0
 * without TH_ACK unless has_ack).  The sender's next sequence number moves
 * to the end of seg (data, SYN and FIN count) when that is further, dropped
 * or not, so a later segment or pktgen_tcp_close() follows it.  For a
 * session without handshake, first set cli_next and srv_next to ISN + 1 (as
 * if the SYNs had gone by before the capture) so offsets count the same.
 * 0, -EINVAL (data NULL with len > 0) or an error of pktgen_emit().
 */
int pktgen_tcp_segment(struct pktgen_tcp *s, const struct pktgen_seg *seg);

/* One UDP datagram from src:sp to dst:dp.  0 or an error of pktgen_emit(). */
int pktgen_udp(struct pktgen *g, const struct kanshi_addr *src, uint16_t sp,
               const struct kanshi_addr *dst, uint16_t dp, const void *data, size_t len);

/*
 * An ICMP (IPv4) or ICMPv6 (IPv6) echo request from src to dst carrying
 * data, and when `reply` is true the matching echo reply from dst.  0 or an
 * error of pktgen_emit().
 */
int pktgen_icmp_echo(struct pktgen *g, const struct kanshi_addr *src, const struct kanshi_addr *dst,
                     uint16_t id, uint16_t seq, const void *data, size_t len, bool reply);

#endif
