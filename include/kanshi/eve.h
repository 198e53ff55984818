/*
 * eve.h — EVE JSON: the alert schema and the JSON line writer.
 *
 * Alerts are written as one JSON object per line with Suricata's EVE field
 * names, plus kanshi's own object:
 *
 *   {"timestamp":"2024-04-01T10:00:00.123456+0000","flow_id":1234,
 *    "event_type":"alert","src_ip":"10.0.0.1","src_port":40000,
 *    "dest_ip":"203.0.113.5","dest_port":80,"proto":"TCP",
 *    "direction":"to_server",
 *    "alert":{"action":"allowed","gid":1,"signature_id":2000001,"rev":1,
 *             "signature":"...","category":"...","severity":1},
 *    "kanshi":{"sensor_id":"tokyo-gw-01","ruleset_version":"local",
 *              "src_geo":{"country":"JP","asn":2497,"as_org":"..."},
 *              "dest_geo":{...},
 *              "geoip_db":{"country_epoch":1700000000,"asn_epoch":1700000000}}}
 *
 * Geo objects appear only for databases that are open and addresses found
 * in them.  Strings are escaped per RFC 8259 (control bytes as \u00XX,
 * bytes >= 0x80 that are not valid UTF-8 as \u00XX of the byte), so every
 * line parses as JSON whatever a rule's msg holds.
 *
 * struct jbuf is a growable JSON builder.  It never fails mid-way: on
 * allocation failure it sets oom and drops further output; the caller checks
 * jbuf_ok() once at the end.
 */
#ifndef KANSHI_EVE_H
#define KANSHI_EVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kanshi/enrich.h"
#include "kanshi/packet.h"

struct rule;

struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
    bool need_comma; /* internal: a value was just written at this level */
};

void jbuf_init(struct jbuf *b);
void jbuf_fini(struct jbuf *b);
void jbuf_reset(struct jbuf *b);
bool jbuf_ok(const struct jbuf *b);
/* Structure: key may be NULL inside arrays and at top level. */
void jbuf_open_object(struct jbuf *b, const char *key);
void jbuf_close_object(struct jbuf *b);
void jbuf_open_array(struct jbuf *b, const char *key);
void jbuf_close_array(struct jbuf *b);
/* Values. */
void jbuf_string(struct jbuf *b, const char *key, const char *s);
void jbuf_string_len(struct jbuf *b, const char *key, const uint8_t *s, size_t len);
void jbuf_uint(struct jbuf *b, const char *key, uint64_t v);
void jbuf_int(struct jbuf *b, const char *key, int64_t v);
void jbuf_bool(struct jbuf *b, const char *key, bool v);
/* Appends raw bytes (a newline, a pre-built fragment). */
void jbuf_raw(struct jbuf *b, const char *s, size_t len);

/* Formats a timestamp the way EVE does: "2024-04-01T10:00:00.123456+0000"
 * (UTC).  buf must hold at least 32 bytes. */
void eve_format_time(uint64_t ts_usec, char *buf, size_t len);

/* Protocol name as EVE writes it: "TCP", "UDP", "ICMP", "IPv6-ICMP", or the
 * number as text. buf holds at least 8 bytes. */
const char *eve_proto_name(uint8_t ip_proto, char *buf, size_t len);

/* Everything an alert line needs. */
struct eve_alert {
    const struct packet *p;
    const struct rule *r;
    const char *category; /* classtype description, "" when none */
    int severity;
    uint64_t flow_id;       /* 0: no flow */
    const char *action;     /* "allowed" or "blocked" */
    const char *sensor_id;
    const char *ruleset_version;
    const struct geo_info *src_geo, *dest_geo; /* NULL when not enriched */
    uint64_t country_epoch, asn_epoch;         /* 0 when the db is absent */
};

/* Appends one alert as a JSON object followed by '\n' to b. */
void eve_format_alert(struct jbuf *b, const struct eve_alert *a);

/* A line-oriented output: a file opened for append, or stdout when path is
 * NULL or "-".  eve_writer_write() copies one complete line; output is
 * buffered and flushed by eve_writer_flush() and on close. */
struct eve_writer;
int eve_writer_open(struct eve_writer **out, const char *path, char *err, size_t errlen);
int eve_writer_write(struct eve_writer *w, const char *line, size_t len);
int eve_writer_flush(struct eve_writer *w);
void eve_writer_close(struct eve_writer *w);

#endif
