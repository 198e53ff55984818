/*
 * app_tls.h — TLS handshake parser: ClientHello, ServerHello, Certificate.
 *
 * One struct tls_state per flow.  The worker feeds each direction's stream
 * bytes in order.  The parser walks TLS records (SSLv3, TLS 1.0-1.3 record
 * versions; an SSLv2-compatible ClientHello is recognised and counted),
 * reassembles handshake messages that span records (a ClientHello split
 * over several records or TCP segments) up to a cap, and extracts what
 * Suricata's tls keywords and EVE tls object need.  After the handshake
 * (ChangeCipherSpec or first application_data record in both directions)
 * it only counts records: encrypted data is never inspected.
 *
 * JA3/JA3S strings and MD5 hashes follow Salesforce's definition (GREASE
 * values removed).  Certificates are parsed as X.509 DER only as far as the
 * fields below; subject and issuer are rendered as Suricata does
 * ("C=US, O=Example, CN=www.example.com"), the serial as colon-separated
 * upper-case hex bytes, the fingerprint as the SHA-1 of the DER in
 * colon-separated lower-case hex.
 *
 * Memory: a state holds at most TLS_HS_MAX bytes of one handshake message
 * and TLS_CERT_MAX bytes of certificate text; longer input sets an event.
 * Single-threaded, like the flow that owns it.
 */
#ifndef KANSHI_APP_TLS_H
#define KANSHI_APP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/rules.h"

#define TLS_HS_MAX (64 * 1024) /* one handshake message, reassembled */
#define TLS_CERT_MAX 8192      /* bytes of a rendered subject or issuer */

enum tls_event {
    TLS_EV_BAD_RECORD,      /* record type or version not TLS */
    TLS_EV_BAD_HANDSHAKE,   /* handshake message lengths inconsistent */
    TLS_EV_HS_TOO_LONG,     /* a handshake message over TLS_HS_MAX */
    TLS_EV_BAD_CERT,        /* certificate DER did not parse */
    TLS_EV_SSLV2,           /* SSLv2 ClientHello seen */
    TLS_EV_GAP,
    TLS_EV_COUNT
};
const char *tls_event_name(enum tls_event ev);

/* Progress flags. */
enum {
    TLS_SEEN_CLIENT_HELLO = 1u << 0,
    TLS_SEEN_SERVER_HELLO = 1u << 1,
    TLS_SEEN_CERT = 1u << 2,
    TLS_SEEN_HS_DONE = 1u << 3, /* both directions past the handshake */
};

struct tls_state;

int tls_state_create(struct tls_state **out); /* 0 or -ENOMEM */
void tls_state_destroy(struct tls_state *s);  /* NULL is a no-op */

/* Feeds in-order bytes of dir (APP_DIR_*).  0, KANSHI_EPARSE when the
 * direction is not TLS (the parser gives up on it), -ENOMEM. */
int tls_parse(struct tls_state *s, int dir, const uint8_t *data, size_t len);
void tls_gap(struct tls_state *s, int dir);

/* TLS_SEEN_* bits; the detection engine re-inspects when they change. */
uint32_t tls_state_progress(const struct tls_state *s);

/* Buffers (the RULE_BUF_TLS_ ids): true with *data and *len set when present.  For
 * RULE_BUF_TLS_CERTS, idx selects the certificate (0 = server's own);
 * other ids ignore idx. */
bool tls_buffer(const struct tls_state *s, enum rule_buffer id, uint32_t idx,
                const uint8_t **data, size_t *len);

/* Version as on the wire: the negotiated one (ServerHello, or its
 * supported_versions extension for TLS 1.3), else the ClientHello's.
 * 0 when no hello seen. */
uint16_t tls_version(const struct tls_state *s);
/* As Suricata's EVE: "SSLv2", "SSLv3", "TLSv1", "TLS 1.1", "TLS 1.2",
 * "TLS 1.3"; "UNDETERMINED" for other values. */
const char *tls_version_name(uint16_t v);
/* notBefore / notAfter of the server certificate, seconds since the epoch;
 * false when no certificate was parsed. */
bool tls_cert_validity(const struct tls_state *s, int64_t *not_before, int64_t *not_after);

const uint32_t *tls_state_events(const struct tls_state *s);

/* Hashes used here and elsewhere in the sensor (sensor/hash.c). */
void kanshi_md5(const uint8_t *data, size_t len, uint8_t out[16]);
void kanshi_sha1(const uint8_t *data, size_t len, uint8_t out[20]);

#endif
