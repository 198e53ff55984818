/*
 * threshold.h — alert thresholding per worker: threshold (limit, threshold,
 * both), detection_filter, rate_filter and suppress, as rules and
 * threshold.config describe them (rules.h: rule->threshold, rule->suppress).
 *
 * State is a fixed-size hash table keyed by (rule, tracked address or
 * address pair, or flow), made once per worker: the packet path never
 * allocates.  Time is packet time (p->ts_usec); an entry whose window has
 * passed counts as absent and its slot is reused.  When every slot a key
 * may use is live, the one expiring first is evicted (counted).
 *
 * Threads: one context per worker; not shared.
 */
#ifndef KANSHI_THRESHOLD_H
#define KANSHI_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

struct rule;
struct threshold_ctx;

struct threshold_stats {
    uint64_t suppressed; /* alerts dropped by suppress */
    uint64_t held;       /* alerts held back by a threshold or filter */
    uint64_t evicted;    /* live entries pushed out by a full table */
};

/* Creates a context of at least nslots entries (rounded up to a power of
 * two; 0 picks the default, 16384).  unique_on tracking (detection_filter)
 * gets its distinct-port sets from a pool sized here when want_unique.
 * 0 or -ENOMEM. */
int threshold_ctx_create(struct threshold_ctx **out, size_t nslots, bool want_unique);
void threshold_ctx_destroy(struct threshold_ctx *t);

/* Decides whether rule r, which matched packet p, raises an alert: false
 * when a suppress entry covers p or its threshold / detection_filter /
 * rate_filter holds it back.  Updates the counters.  Rules without any of
 * these always alert. */
bool threshold_allow(struct threshold_ctx *t, const struct rule *r, const struct packet *p);

const struct threshold_stats *threshold_ctx_stats(const struct threshold_ctx *t);

#endif
