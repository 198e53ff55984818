/*
 * store.h — the collector's database: the registry (organisations, sensors,
 * analysts) and the alerts, in one SQLite file (private to collector/).
 *
 * kanshi-collector writes alerts and sensor health; kanshictl writes the
 * registry and reads everything.  Both open the same file: SQLite in WAL mode
 * lets them read while the other writes, and busy_timeout makes a writer wait
 * for the other's short transaction instead of failing.
 *
 * Tables (schema version STORE_SCHEMA_VERSION, kept in PRAGMA user_version;
 * store_open() migrates an older file step by step and refuses a newer one):
 *
 *   organisations  name (unique), tier 1|2, supervising ministry (tier 2 only,
 *                  must be a tier-1 organisation)
 *   sensors        id, organisation, CURVE public key (Z85, unique), enrolled
 *                  and revoked times, last heard, versions from HELLO, spool
 *                  state, latest STATS as JSON, next expected sequence
 *   analysts       name, CURVE public key (unique), tier set, revoked time
 *   alerts         primary key (sensor, seq); received and alert time; the
 *                  organisation and tier from the registry; sid, severity,
 *                  addresses, ports, protocol, signature; the full JSON
 *   gaps           (sensor, first, last, noticed): sequence numbers that
 *                  never arrived
 *   rejects        (sensor, reason) → count of frames refused and when last
 *   bundles        (schema 2) version (primary key), kind, size, SHA-256, the
 *                  signed bundle file's bytes, published time
 *   deliveries     (schema 2) (sensor, version) → state (targeted, offered,
 *                  fetching, fetched, applied, rejected), bytes served, the
 *                  sensor's reason, targeted and updated times
 *
 * Times: registry and health times are unix seconds; alert times (received,
 * alert_time) are unix microseconds.  0 means "never" / "not set".
 *
 * Tier sets are bit masks: bit (tier - 1), so {1} = 1, {2} = 2, {1,2} = 3.
 *
 * Errors: functions return 0 (or a documented count) or a negative errno:
 * -EINVAL (a rule of the registry broken, a malformed name or key), -EEXIST,
 * -ENOENT, -EALREADY, -EBUSY (the database stayed locked), -EIO (SQLite
 * failed).  store_error() then holds a message for a human, naming the thing.
 * One struct store is used by one thread at a time.
 */
#ifndef KANSHI_COLLECTOR_STORE_H
#define KANSHI_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/wire.h"

#define STORE_SCHEMA_VERSION 2
#define STORE_MAX_NAME 128 /* organisation and analyst names, bytes */
#define STORE_MAX_ID 64    /* sensor ids: [A-Za-z0-9][A-Za-z0-9._-]* */
#define STORE_KEY_LEN 40   /* a CURVE key in Z85 */

#define STORE_TIERS_ALL 3u
#define STORE_TIER_BIT(t) (1u << ((t)-1u))

struct store;

enum store_sync {
    STORE_SYNC_NORMAL, /* WAL synced at checkpoints: a power cut may lose the last commits */
    STORE_SYNC_FULL,   /* WAL synced at every commit: an ACK survives a power cut */
};

struct store_options {
    const char *path;
    enum store_sync sync;
    unsigned busy_timeout_ms; /* 0: 5000 */
    bool create;              /* create the file when missing; otherwise -ENOENT */
};

/* Opens (and creates or migrates) the database.  On failure writes a message
 * naming the file into err and returns a negative errno. */
int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen);
void store_close(struct store *s);
/* The message of the last failed call. */
const char *store_error(const struct store *s);

/* Validation of the names the registry accepts. */
bool store_sensor_id_ok(const char *id);
bool store_name_ok(const char *name);
bool store_key_ok(const char *z85);

/* ---- organisations ------------------------------------------------------------------------ */

struct store_org {
    char name[STORE_MAX_NAME + 1];
    unsigned tier;
    char ministry[STORE_MAX_NAME + 1]; /* "" for tier 1 */
    int64_t created;
};

/* ministry must be NULL (or "") for tier 1 and name a tier-1 organisation
 * for tier 2. */
int store_org_add(struct store *s, const char *name, unsigned tier, const char *ministry,
                  int64_t now);
int store_org_get(struct store *s, const char *name, struct store_org *out);
/* Calls fn for each organisation, tier 1 first, by name; a non-zero return of
 * fn stops the walk and is returned. */
int store_org_list(struct store *s, int (*fn)(void *arg, const struct store_org *o), void *arg);

/* ---- sensors ------------------------------------------------------------------------------ */

struct store_sensor {
    char id[STORE_MAX_ID + 1];
    char org[STORE_MAX_NAME + 1];
    unsigned tier;
    char ministry[STORE_MAX_NAME + 1]; /* supervising ministry of org, "" for tier 1 */
    char public_key[STORE_KEY_LEN + 1];
    int64_t enrolled, revoked; /* revoked 0: active */
    int64_t last_heard;
    char software[WIRE_MAX_STR + 1], firmware[WIRE_MAX_STR + 1];
    char ruleset[WIRE_MAX_STR + 1], schema[WIRE_MAX_STR + 1];
    uint64_t next_seq; /* the sequence expected next (1 for a new sensor) */
    /* Health from the latest STATS (or HELLO for the spool); -1: not reported. */
    int64_t stats_at, uptime, packets, kernel_drops, if_drops, decode_invalid, flow_drops,
        spool_alerts, spool_dropped, alerts, alerts_per_min;
    int64_t rejected; /* frames refused, all reasons */
    int64_t gaps;     /* sequence numbers recorded as missing */
};

int store_sensor_add(struct store *s, const char *id, const char *org, const char *public_key,
                     int64_t now);
/* -EALREADY when already revoked. */
int store_sensor_revoke(struct store *s, const char *id, int64_t now);
int store_sensor_get(struct store *s, const char *id, struct store_sensor *out);
int store_sensor_by_key(struct store *s, const char *public_key, struct store_sensor *out);
/* Every sensor by id, revoked ones too; fn as for store_org_list. */
int store_sensor_list(struct store *s, int (*fn)(void *arg, const struct store_sensor *se),
                      void *arg);

/* Records a HELLO: versions, spool state, last heard. */
int store_sensor_hello(struct store *s, const char *id, const struct wire_hello *h, int64_t now);
/* Records a STATS heartbeat: json is the counters as a JSON object. */
int store_sensor_stats(struct store *s, const char *id, const char *json, int64_t now);
/* The highest sequence s holds for id with nothing unaccounted below it
 * (next expected - 1; 0 when nothing arrived yet). */
int store_sensor_acked(struct store *s, const char *id, uint64_t *acked);

/*
 * Inside a transaction (store_begin): accounts for a batch of sequence
 * numbers (strictly increasing) that just arrived from id — records each run
 * above the expected sequence as a gap, moves the expected sequence past the
 * batch and sets last heard.  *acked gets the new store_sensor_acked().
 * Returns the number of gaps recorded.
 */
int store_sensor_batch(struct store *s, const char *id, const uint64_t *seqs, size_t n, int64_t now,
                       uint64_t *acked);

/* ---- analysts ----------------------------------------------------------------------------- */

struct store_analyst {
    char name[STORE_MAX_NAME + 1];
    char public_key[STORE_KEY_LEN + 1];
    unsigned tiers; /* bit set */
    int64_t created, revoked;
};

int store_analyst_add(struct store *s, const char *name, const char *public_key, unsigned tiers,
                      int64_t now);
int store_analyst_revoke(struct store *s, const char *name, int64_t now);
int store_analyst_by_key(struct store *s, const char *public_key, struct store_analyst *out);
int store_analyst_list(struct store *s, int (*fn)(void *arg, const struct store_analyst *a),
                       void *arg);

/* ---- alerts ------------------------------------------------------------------------------- */

/* Write transactions: begin takes the write lock at once (BEGIN IMMEDIATE).
 * The alert batch of one or more ALERTS frames is one transaction; commit
 * returns only once SQLite has written (and, with STORE_SYNC_FULL, synced)
 * it, so an ACK sent after it is true. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

struct store_alert {
    const char *sensor_id;
    uint64_t seq;
    int64_t received, alert_time; /* unix microseconds */
    const char *org;
    unsigned tier;
    int64_t sid;                   /* -1: none */
    int severity;                  /* 0: none */
    const char *src_ip, *dest_ip;  /* NULL: none */
    int src_port, dest_port;       /* -1: none */
    const char *proto, *signature; /* NULL: none */
    const char *json;
    size_t json_len;
};

/* Stores one alert unless (sensor_id, seq) is already there.  1: stored,
 * 0: already held (ignored), negative: error. */
int store_alert_add(struct store *s, const struct store_alert *a);

struct store_query {
    bool has_since, has_until;
    int64_t since, until; /* alert time, unix microseconds, since ≤ t < until */
    unsigned tier;        /* 0: any */
    const char *org, *sensor, *addr, *signature; /* NULL: any; addr matches src or dest */
    int64_t sid;                                 /* -1: any */
    int severity;                                /* 0: any */
    uint64_t limit;                              /* 0: no limit; the newest `limit` are returned */
};

/* Calls fn for each matching alert, oldest first; the pointers inside a live
 * only during the call.  Returns the number of alerts or a negative error. */
int64_t store_search(struct store *s, const struct store_query *q,
                     int (*fn)(void *arg, const struct store_alert *a), void *arg);

/* Deletes alerts received before cutoff (unix microseconds), a few thousand
 * per transaction so that ingest is never blocked for long.  Returns the
 * number deleted or a negative error. */
int64_t store_retention(struct store *s, int64_t cutoff);

/* ---- gaps and rejects ---------------------------------------------------------------------- */

struct store_gap {
    char sensor_id[STORE_MAX_ID + 1];
    uint64_t first, last;
    int64_t noticed;
};
/* sensor NULL: all sensors.  Oldest first. */
int store_gap_list(struct store *s, const char *sensor,
                   int (*fn)(void *arg, const struct store_gap *g), void *arg);

/* Adds count to the (sensor, reason) counter. */
int store_reject_add(struct store *s, const char *sensor, const char *reason, uint64_t count,
                     int64_t now);
struct store_reject {
    char sensor_id[STORE_MAX_ID + 1];
    char reason[64];
    uint64_t count;
    int64_t last;
};
int store_reject_list(struct store *s, const char *sensor,
                      int (*fn)(void *arg, const struct store_reject *r), void *arg);

/* ---- bundles (issue 6: distribution) ------------------------------------------------------ */

/* The largest bundle the collector stores and serves. */
#define STORE_MAX_BUNDLE ((size_t)256 << 20)

struct store_bundle {
    uint64_t version; /* 1 .. INT64_MAX */
    char kind[WIRE_MAX_STR + 1];
    uint64_t size;
    uint8_t sha256[WIRE_SHA256_LEN];
    int64_t published;
};

/* Where one bundle stands with one sensor, in the order it moves. */
enum store_dlv_state {
    STORE_DLV_TARGETED, /* published or promoted to it; no OFFER sent yet */
    STORE_DLV_OFFERED,  /* OFFER sent */
    STORE_DLV_FETCHING, /* FETCHes served, not up to the end yet */
    STORE_DLV_FETCHED,  /* the last byte served */
    STORE_DLV_APPLIED,  /* RESULT applied */
    STORE_DLV_REJECTED, /* RESULT rejected, with the sensor's reason */
};

struct store_delivery {
    char sensor_id[STORE_MAX_ID + 1];
    uint64_t version;
    enum store_dlv_state state;
    uint64_t fetched; /* bytes served up to (highest offset + length) */
    uint64_t size;    /* the bundle's */
    char kind[WIRE_MAX_STR + 1];
    char reason[WIRE_MAX_REASON + 1];
    int64_t targeted, updated;
    char running[WIRE_MAX_STR + 1]; /* the sensor's ruleset as it last reported it */
};

const char *store_dlv_state_name(enum store_dlv_state st);

/* Stores a bundle (data: b->size bytes, at most STORE_MAX_BUNDLE).
 * -EEXIST when the version is already published, -EINVAL for version 0 or
 * above INT64_MAX, a size out of range. */
int store_bundle_add(struct store *s, const struct store_bundle *b, const uint8_t *data,
                     int64_t now);
int store_bundle_get(struct store *s, uint64_t version, struct store_bundle *out);
/* Reads up to len bytes of bundle version at off into buf.  The number of
 * bytes read (0 at or past the end), or a negative error. */
int64_t store_bundle_read(struct store *s, uint64_t version, uint64_t off, uint8_t *buf,
                          size_t len);

/*
 * Targets bundle version at the active sensors spec names: "all",
 * "tier:N", "org:NAME", "sensor:ID[,ID...]".  A sensor already targeted
 * with that version keeps its state.  The number of sensors newly targeted,
 * or -EINVAL (bad spec), -ENOENT (no such version, organisation or sensor;
 * nothing is targeted then).
 */
int store_bundle_target(struct store *s, uint64_t version, const char *spec, int64_t now);

/* Deliveries (sensor NULL: all), by sensor then version; fn as for
 * store_org_list. */
int store_delivery_list(struct store *s, const char *sensor,
                        int (*fn)(void *arg, const struct store_delivery *d), void *arg);
/* Every delivery still in STORE_DLV_TARGETED, oldest version first. */
int store_delivery_targeted(struct store *s,
                            int (*fn)(void *arg, const struct store_delivery *d), void *arg);
/* The highest version targeted at sensor that is neither applied nor
 * rejected: 0 and *out, or -ENOENT. */
int store_delivery_next(struct store *s, const char *sensor, struct store_delivery *out);
int store_delivery_get(struct store *s, const char *sensor, uint64_t version,
                       struct store_delivery *out);
/* Sets the state (and fetched, when not UINT64_MAX, raised only; reason
 * when not NULL).  -ENOENT when sensor was never targeted with version. */
int store_delivery_set(struct store *s, const char *sensor, uint64_t version,
                       enum store_dlv_state state, uint64_t fetched, const char *reason,
                       int64_t now);
/* Records the ruleset a sensor runs (a RESULT applied says so before the
 * next HELLO does). */
int store_sensor_ruleset(struct store *s, const char *id, const char *ruleset);

/* PRAGMA data_version: changes when another connection commits, so the
 * collector sees a revocation without reading the registry every second. */
int store_data_version(struct store *s, int64_t *v);

#endif
