/*
 * app_dns.h — DNS messages over UDP and TCP.
 *
 * dns_parse() decodes one message (a UDP payload, or one length-prefixed
 * message of a TCP stream) into a struct dns_msg that the caller provides:
 * header, questions and the answer section's records, with names
 * decompressed into a fixed arena.  Decompression follows pointers only
 * backwards and at most DNS_MAX_JUMPS times, so pointer loops are refused;
 * a name longer than 255 bytes is refused.  Nothing is allocated.
 *
 * For TCP, struct dns_tcp buffers each direction's stream into whole
 * messages (2-byte length prefix) with a fixed 64 KiB + 2 byte cap per
 * direction, the largest a DNS/TCP message can be.
 */
#ifndef KANSHI_APP_DNS_H
#define KANSHI_APP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_QUESTIONS 16   /* questions kept (the rest counted) */
#define DNS_MAX_ANSWERS 32     /* answer records kept */
#define DNS_MAX_JUMPS 32       /* compression pointers followed per name */
#define DNS_NAME_ARENA 8192    /* bytes for all decoded names and rdata text */

enum dns_event {
    DNS_EV_TRUNCATED,      /* message shorter than its counts say */
    DNS_EV_BAD_NAME,       /* label too long, name > 255, bad label type */
    DNS_EV_POINTER_LOOP,   /* compression pointer forward, to itself or too many */
    DNS_EV_TOO_MANY,       /* more questions/answers than kept */
    DNS_EV_NOT_DNS,        /* too short for a header, or nonsense counts */
    DNS_EV_COUNT
};
const char *dns_event_name(enum dns_event ev);

struct dns_name {
    const char *s; /* dotted, no trailing dot, "" for the root; points into the arena */
    uint16_t len;
};

struct dns_question {
    struct dns_name name;
    uint16_t type, class;
};

struct dns_answer {
    struct dns_name name;
    uint16_t type, class;
    uint32_t ttl;
    /* rdata as text for A, AAAA (address), CNAME, NS, PTR, MX (exchange name),
     * TXT (first string); otherwise len 0 */
    struct dns_name rdata;
};

struct dns_msg {
    uint16_t id;
    bool response; /* QR */
    uint8_t opcode;
    uint8_t rcode;
    uint16_t flags;  /* the whole 16-bit flags word */
    uint16_t qdcount, ancount, nscount, arcount; /* as on the wire */
    struct dns_question q[DNS_MAX_QUESTIONS];
    size_t nq; /* kept */
    struct dns_answer an[DNS_MAX_ANSWERS];
    size_t nan;
    uint32_t events; /* bit per enum dns_event */
    char arena[DNS_NAME_ARENA];
    size_t arena_used;
};

/* Decodes one DNS message.  Returns 0 when the header and every question
 * decoded (answers may be cut: see events), KANSHI_EPARSE when data is not a
 * DNS message (events say why).  Never reads past data[len). */
int dns_parse(struct dns_msg *m, const uint8_t *data, size_t len);

/* "A", "AAAA", "CNAME", ... or NULL for a type without a name. */
const char *dns_type_name(uint16_t type);
/* "NOERROR", "NXDOMAIN", ... or NULL. */
const char *dns_rcode_name(uint8_t rcode);

/* TCP framing for one direction.  Caller allocates (it is ~64 KiB); zero it
 * with dns_tcp_init. */
struct dns_tcp {
    uint8_t buf[65535 + 2];
    size_t have;
    bool lost; /* a gap made framing unknowable: further data ignored */
};
void dns_tcp_init(struct dns_tcp *t);
/* Feeds stream bytes; for each complete message calls cb(arg, msg, len)
 * with the message bytes (without the length prefix).  Returns the number
 * of messages delivered. */
size_t dns_tcp_feed(struct dns_tcp *t, const uint8_t *data, size_t len,
                    void (*cb)(void *arg, const uint8_t *msg, size_t len), void *arg);
void dns_tcp_gap(struct dns_tcp *t);

#endif
