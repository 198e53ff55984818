/*
 * app_http.h — HTTP/1.x parser over reassembled TCP streams.
 *
 * One struct http_state per flow.  The worker feeds each direction's bytes in
 * stream order (http_parse), tells it about holes (http_gap) and the end of a
 * direction (http_eof).  The parser splits the streams into transactions
 * (request + its response), pipelining included: responses pair with requests
 * in order.  Bodies are de-chunked (chunk sizes read as leniently as libhtp
 * does) and response bodies with gzip/deflate Content-Encoding (up to three
 * layers) decompressed with zlib, each kept up to a configured limit; what
 * exceeds a limit is counted and dropped, never buffered.  URIs are normalised as
 * Suricata (libhtp) does for http.uri: percent-decoding of unreserved
 * characters, "/./" and "/../" removal, "//" collapsing, and so on (see
 * app_http.c for the exact list).
 *
 * Buffers are exposed by rule buffer id (rules.h RULE_BUF_HTTP_*) so the
 * detection engine needs no HTTP knowledge.  Every pointer returned stays
 * valid until the next http_parse/http_gap/http_eof/http_state_gc call on the
 * same state.
 *
 * Memory: a state never holds more than the configured limits (header bytes,
 * body bytes, open transactions); on reaching one it sets an event and stops
 * growing, it never reads past the data given.  Single-threaded: a state
 * belongs to the worker that owns its flow.
 */
#ifndef KANSHI_APP_HTTP_H
#define KANSHI_APP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/rules.h"

struct http_config {
    uint32_t request_body_limit;  /* bytes of request body kept per tx; 4096 */
    uint32_t response_body_limit; /* bytes of response body kept per tx; 4096 */
    uint32_t decompress_limit;    /* decompressed bytes produced per body; 64 KiB;
                                     also caps the expansion ratio of a gzip bomb */
    uint32_t header_limit;        /* bytes of request/status line plus headers; 64 KiB */
    uint32_t max_tx;              /* open (pipelined) transactions kept; 64 */
};
void http_config_default(struct http_config *c);

/* Anomalies, counted per state and summed by the worker. */
enum http_event {
    HTTP_EV_BAD_REQUEST_LINE,
    HTTP_EV_BAD_STATUS_LINE,
    HTTP_EV_BAD_HEADER,       /* a header line without ':' or with bad chars */
    HTTP_EV_HEADER_LIMIT,     /* request/status line + headers longer than header_limit */
    HTTP_EV_BAD_CHUNK,        /* chunk size line not hex, or missing CRLF */
    HTTP_EV_BAD_CONTENT_LEN,
    HTTP_EV_BODY_LIMIT,       /* body bytes beyond the limit were not kept */
    HTTP_EV_DECOMPRESS_FAIL,  /* gzip/deflate stream corrupt: kept the raw bytes */
    HTTP_EV_DECOMPRESS_LIMIT, /* decompressed output cut at decompress_limit */
    HTTP_EV_TOO_MANY_TX,      /* more pipelined requests than max_tx */
    HTTP_EV_UNPAIRED_RESPONSE,/* a response without a request */
    HTTP_EV_GAP,              /* a hole in the stream: parsing resynchronised or stopped */
    HTTP_EV_COUNT
};
const char *http_event_name(enum http_event ev); /* "bad_request_line", ... */

/* How far a transaction has got in one direction. */
enum http_progress {
    HTTP_PROG_NONE,    /* nothing seen */
    HTTP_PROG_LINE,    /* request line / status line complete */
    HTTP_PROG_HEADERS, /* headers complete: header buffers final */
    HTTP_PROG_BODY,    /* body bytes arriving */
    HTTP_PROG_DONE,    /* message complete */
};

struct http_tx;
struct http_state;

/* 0, -ENOMEM. */
int http_state_create(struct http_state **out, const struct http_config *cfg);
void http_state_destroy(struct http_state *s); /* NULL is a no-op */

/* Feeds len in-order bytes sent in direction dir (APP_DIR_TOSERVER or
 * APP_DIR_TOCLIENT).  Returns 0, or KANSHI_EPARSE when the requests are not
 * HTTP any more (the parser has given up on this direction; later calls are
 * ignored and return KANSHI_EPARSE), or -ENOMEM.  Responses never give
 * KANSHI_EPARSE: as in libhtp, lines that are not a status line are body. */
int http_parse(struct http_state *s, int dir, const uint8_t *data, size_t len);
/* len bytes of dir were lost.  Inside a body (known length, or delimited by
 * the close) the parser skips them; elsewhere it stops that direction. */
void http_gap(struct http_state *s, int dir, uint64_t len);
/* The direction ended (FIN/RST/flow end): a body delimited by the connection's
 * close completes; a partial message stays as it is. */
void http_eof(struct http_state *s, int dir);

/* Transactions in order, oldest first: index 0 .. http_tx_count()-1. */
size_t http_tx_count(const struct http_state *s);
struct http_tx *http_tx_at(struct http_state *s, size_t i);
uint64_t http_tx_id(const struct http_tx *tx); /* 0, 1, 2, ... per flow */
enum http_progress http_tx_progress(const struct http_tx *tx, int dir);
/* Bytes of body added to tx in dir since the consumer last called
 * http_tx_body_mark(); lets the detection engine inspect bodies as they
 * grow, as Suricata inspects body chunks. */
bool http_tx_body_changed(const struct http_tx *tx, int dir);
void http_tx_body_mark(struct http_tx *tx, int dir);

/* The consumer's per-tx flags (the detection engine's "inspected up to"
 * marks); the parser only zeroes them when the tx is created. */
uint32_t *http_tx_user(struct http_tx *tx);

/* One buffer of tx: sets *data and *len and returns true when the buffer exists
 * (the header was present, the line was seen), false otherwise.  id is a
 * RULE_BUF_HTTP_* value; any other id returns false. */
bool http_tx_buffer(const struct http_tx *tx, enum rule_buffer id, const uint8_t **data,
                    size_t *len);
/* As http_tx_buffer, for the side dir (APP_DIR_*) of the ids both sides
 * have (protocol, the headers by name, header, header_raw, header_names,
 * start; cookie is Set-Cookie in responses); response-only ids ignore dir. */
bool http_tx_buffer_dir(const struct http_tx *tx, enum rule_buffer id, int dir,
                        const uint8_t **data, size_t *len);
/* Header i (0, 1, ...) of side dir once its headers are complete, merged
 * as the http.header buffer has them (repeated names joined with ", "):
 * true with the name and value set, false past the last one. */
bool http_tx_header_at(const struct http_tx *tx, int dir, size_t i, const uint8_t **name,
                       size_t *nlen, const uint8_t **val, size_t *vlen);
/* Numeric facts for EVE and keywords: status code (0 when none), content
 * length of the request or response body as declared (-1 when none). */
int http_tx_status(const struct http_tx *tx);
int64_t http_tx_content_length(const struct http_tx *tx, int dir);
/* Body bytes seen (before any limit), per direction. */
uint64_t http_tx_body_bytes(const struct http_tx *tx, int dir);

/* Frees transactions complete in both directions that the consumer marked
 * done with http_tx_done(), oldest first, keeping indexes dense. */
void http_tx_done(struct http_tx *tx);
void http_state_gc(struct http_state *s);

/* Events counted since creation, indexed by enum http_event. */
const uint32_t *http_state_events(const struct http_state *s);

#endif
