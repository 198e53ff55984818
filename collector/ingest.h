/*
 * ingest.h — what the collector does to one alert a sensor sent before it is
 * stored and published (private to collector/).
 *
 * An alert is one EVE JSON object (include/kanshi/eve.h).  It comes from a
 * machine the GSOC does not control, so ingest_alert():
 *
 *  - checks it is exactly one well-formed JSON object (RFC 8259: strings are
 *    valid UTF-8 with valid escapes, numbers follow the grammar, nesting at
 *    most INGEST_MAX_DEPTH, nothing after it but blanks);
 *  - takes out the fields the store indexes (time, addresses, ports,
 *    protocol, signature id, severity, signature);
 *  - rewrites the "kanshi" object so that the identity in it is the
 *    registry's: every "sensor_id", "organisation", "tier",
 *    "supervising_ministry" and "seq" the sensor wrote is dropped (keys are
 *    compared after unescaping, so "\u0074ier" is "tier") and the caller's
 *    identity members (the collector adds the wire's "seq") are put first.  Several "kanshi" objects are merged into one at
 *    the place of the first; a "kanshi" that is not an object is replaced.
 *    An alert without one gets one at the end.  Everything else is copied
 *    byte for byte.
 */
#ifndef KANSHI_COLLECTOR_INGEST_H
#define KANSHI_COLLECTOR_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct jbuf;

#define INGEST_MAX_DEPTH 32
#define INGEST_MAX_SIGNATURE 512

/* Fields of an alert the store indexes.  Strings are decoded from JSON
 * escapes; a field that is absent or of the wrong type is left "none". */
struct ingest_fields {
    int64_t alert_time;           /* "timestamp", unix microseconds; 0: none */
    int64_t sid;                  /* alert.signature_id; -1: none */
    int severity;                 /* alert.severity; 0: none */
    int src_port, dest_port;      /* -1: none */
    char src_ip[48], dest_ip[48]; /* canonical text form; "": none */
    char proto[16];
    char signature[INGEST_MAX_SIGNATURE + 1]; /* cut at a character boundary */
    /* The identity members of "kanshi" as the input wrote them (the last of
     * each): a sensor's claim, which ingest replaces — or, read back from
     * what the collector stored or published, the registry's identity. */
    char sensor_id[65], org[129];
    unsigned tier; /* 0: none */
};

/*
 * Checks the alert p[0..len) and appends the rewritten alert to out (no
 * newline).  ident is the identity as JSON object members without braces,
 * e.g. "\"sensor_id\":\"gw-1\",\"organisation\":\"Digital Agency\",\"tier\":1".
 * Returns 0, -EINVAL when the alert is not a well-formed JSON object (out
 * is then as it was), or -ENOMEM.
 */
int ingest_alert(const uint8_t *p, size_t len, const char *ident, size_t ident_len,
                 struct ingest_fields *f, struct jbuf *out);

/* Parses an EVE timestamp ("2024-04-01T10:00:00.123456+0000"; also "Z",
 * "+09:00", no fraction, or a space for the T) into unix microseconds.
 * 0 or -EINVAL. */
int ingest_parse_time(const char *s, size_t len, int64_t *usec);

#endif
