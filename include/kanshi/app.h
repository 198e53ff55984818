/*
 * app.h — application-layer protocols: which protocol a flow speaks.
 *
 * Suricata decides a flow's protocol from its first bytes, not from its
 * ports: HTTP on 8080 or on 443 without TLS is still HTTP.  app_probe() looks
 * at the first bytes one direction sent (TCP: the start of the reassembled
 * stream; UDP: one datagram) and names the protocol, or says it needs more
 * bytes, or that nothing it knows matches.  The ports are a hint only where
 * the bytes cannot decide (DNS over UDP has no signature bytes).
 *
 * The parsers are sensor/app_http.c, app_dns.c and app_tls.c (headers
 * app_http.h, app_dns.h, app_tls.h); the worker feeds them in-order bytes.
 * Nothing here allocates or keeps state; any thread may call it.
 */
#ifndef KANSHI_APP_H
#define KANSHI_APP_H

#include <stddef.h>
#include <stdint.h>

enum app_proto {
    APP_PROTO_UNKNOWN = 0, /* not (yet) known */
    APP_PROTO_HTTP,        /* HTTP/1.x */
    APP_PROTO_TLS,
    APP_PROTO_DNS,
    APP_PROTO_SMTP,
    APP_PROTO_FTP,
    APP_PROTO_SSH,
    APP_PROTO_FAILED, /* probing gave up: no known protocol */
    APP_PROTO_COUNT
};

/* "http", "tls", "dns", "smtp", "ftp", "ssh", "unknown", "failed" — as in
 * Suricata's EVE app_proto and the app-layer-protocol keyword. */
const char *app_proto_name(enum app_proto p);
/* The protocol a name ("http", "tls", "ssl", "dns", ...) stands for, or
 * APP_PROTO_UNKNOWN when the name is not one of them. */
enum app_proto app_proto_from_name(const char *name);

/* Result of app_probe(). */
enum app_probe_result {
    APP_PROBE_NEED_MORE = -1, /* the bytes so far fit a protocol's start: call again */
    /* otherwise an enum app_proto: APP_PROTO_FAILED when nothing can match */
};

enum { APP_DIR_TOSERVER = 0, APP_DIR_TOCLIENT = 1 };

/* Names the protocol of data, the first len bytes a flow sent in direction
 * dir (APP_DIR_*).  ipproto is 6 (TCP) or 17 (UDP); sp and dp are the source
 * and destination ports of that direction.  Returns an enum app_proto, or
 * APP_PROBE_NEED_MORE while the bytes are a prefix of a known signature and
 * fewer than the probe needs.  Pure: no state, reads only data[0..len). */
int app_probe(const uint8_t *data, size_t len, int dir, uint8_t ipproto, uint16_t sp,
              uint16_t dp);

#endif
