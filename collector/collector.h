/*
 * collector.h — the kanshi-collector daemon (private to collector/):
 * authenticates sensors, stores their alerts and publishes them per tier.
 *
 * One thread does everything, around one zmq_poll():
 *
 *  - a ZAP handler (REP on inproc://zeromq.zap.01) answers every CURVE
 *    handshake from the registry: on the ROUTER (ZAP domain "sensors") only
 *    keys of enrolled, unrevoked sensors are admitted, and the ZAP User-Id is
 *    set to the sensor id; on a feed (domain "feed:NAME") only keys of
 *    unrevoked analysts whose tiers include every tier of the feed;
 *  - the ROUTER receives HELLO, ALERTS and STATS (include/kanshi/wire.h).
 *    Who sent a frame is the User-Id ZeroMQ attached to it — never a field
 *    of the frame — and the organisation and tier filed with an alert are
 *    the registry's;
 *  - ALERTS: every alert checked and rewritten (ingest.h), all stored in one
 *    transaction (a (sensor, seq) already held is ignored), gaps recorded,
 *    then — only once COMMIT has returned — ACK to the sender and each newly
 *    stored alert published on every feed whose tiers hold its tier;
 *  - timers: the registry is re-read when the database changed (PRAGMA
 *    data_version, checked every 500 ms), so a revoked sensor's frames are
 *    dropped within a second — not stored, not acknowledged; counts of
 *    refused frames are written every second; retention runs hourly.
 *
 * A feed message is two frames: the topic "tier1" or "tier2" (the alert's
 * tier, so a subscriber of a coordinating feed may subscribe to one), then
 * the alert's JSON.
 */
#ifndef KANSHI_COLLECTOR_COLLECTOR_H
#define KANSHI_COLLECTOR_COLLECTOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "collector_config.h"

struct collector;

struct collector_stats {
    uint64_t frames;           /* frames received from admitted sensors */
    uint64_t alerts_stored;    /* newly stored */
    uint64_t alerts_duplicate; /* already held, ignored */
    uint64_t rejected;         /* frames refused as malformed or unexpected */
    uint64_t dropped;          /* frames of revoked or unknown sensors */
    uint64_t store_errors;     /* transactions that failed (nothing acknowledged) */
    uint64_t gaps;             /* sequence gaps recorded */
    uint64_t published;        /* feed messages sent */
    uint64_t zap_admitted, zap_refused;
};

/*
 * Reads the secret key (refused when group or others may read it), opens
 * the database, binds the ZAP handler, the ROUTER and the feeds.  0 or a
 * negative errno with a message in err.  The config must outlive c.
 */
int collector_create(struct collector **out, const struct collector_config *cfg, char *err,
                     size_t errlen);

/* Serves until *stop is set (from a signal handler).  *reload asks for the
 * registry to be read again now; it is cleared.  0, or a negative errno when
 * polling failed. */
int collector_run(struct collector *c, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

void collector_get_stats(const struct collector *c, struct collector_stats *st);

/* Closes everything; NULL is a no-op. */
void collector_destroy(struct collector *c);

#endif
