/*
 * uplink.h — the sensor's connection to the collector (sensor/uplink.c).
 *
 * One thread owns a ZeroMQ DEALER connected to the collector's ROUTER with
 * CURVE always on: the collector's public key is pinned in the config, the
 * sensor's key pair comes from its key file.  The thread reads alerts from
 * the spool and sends them as ALERTS batches (include/kanshi/wire.h), keeps a
 * bounded window of unacknowledged batches in flight, and turns every ACK into
 * spool_ack().  On (re)connect it sends HELLO and, once the collector has
 * answered it, resends everything after the last ACK; so does an ACK that
 * does not come in time.  Duplicates are harmless: the collector ignores a
 * (sensor, sequence) it already has.  An ACK above anything the spool has
 * numbered (the collector holds alerts of a reset spool under this key)
 * renumbers the spool's unacknowledged alerts after it (spool_advance()), so
 * none is mistaken for a duplicate.
 *
 * The packet path never waits on the network: it only appends to the spool
 * and publishes counters with uplink_set_counter() (a relaxed atomic store).
 * Every STATS_INTERVAL the thread sends them as a STATS heartbeat together
 * with the spool's and its own counters.
 *
 * Bundles (issue 6): an OFFER of a version above the store's is fetched one
 * CHUNK at a time (one FETCH in flight), checked against the OFFER's
 * SHA-256 and handed to the drop directory; see bundle_dir below.  An OFFER
 * of a version the store already has, or one refused before, is answered
 * with a RESULT at once.  The uplink never verifies or applies a bundle
 * itself: the main loop does (bundle_apply.h), as for any dropped file.
 *
 * Threads: uplink_create/start/stop/destroy and uplink_wait_acked from the
 * main thread; uplink_set_counter from any thread; uplink_get_stats from any.
 */
#ifndef KANSHI_UPLINK_H
#define KANSHI_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "kanshi/wire.h"

struct spool;

/* A CURVE key as Z85 text: 40 characters and a NUL. */
#define UPLINK_KEY_LEN 40

struct uplink_config {
    const char *endpoint;   /* e.g. "tcp://collector.example:7700" */
    const char *server_key; /* collector's public key, Z85 */
    const char *secret_key; /* this sensor's secret key, Z85 (copied; wiped on destroy) */
    const char *public_key; /* this sensor's public key, Z85; NULL: derived from the secret */
    /* Versions announced in HELLO; NULL: "". */
    const char *software, *firmware, *ruleset;
    uint32_t stats_interval_ms;   /* STATS heartbeat period; 0: 10 s */
    uint32_t ack_timeout_ms;      /* resend from the last ACK after this long; 0: 10 s */
    uint32_t reconnect_ivl_ms;    /* first reconnect delay; 0: 100 ms */
    uint32_t reconnect_max_ms;    /* back-off cap; 0: 30 s */
    uint32_t heartbeat_ivl_ms;    /* ZMTP heartbeat (dead peer detection); 0: 5 s */
    uint32_t max_inflight_batches; /* 0: 8 */
    uint32_t max_inflight_alerts;  /* 0: 16384 */
    /* Bundle distribution (OFFER/FETCH/CHUNK/RESULT); both NULL: OFFERs are
     * ignored.  bundle_dir is the sensor's bundle store (bundles.dir, its
     * state file says which version is applied); a bundle being fetched is
     * kept in bundle_dir/.partial/VERSION.part, so a transfer cut by a
     * disconnect or a restart resumes where it stopped.  A complete bundle
     * whose SHA-256 matches the OFFER is copied into bundle_incoming (the
     * drop directory the sensor's main loop applies: bundles.incoming) as
     * .uplink-VERSION.tmp and renamed to uplink-VERSION.bundle; the RESULT
     * follows what the main loop made of it (the state file when applied,
     * uplink-VERSION.bundle.rejected.reason when refused). */
    const char *bundle_dir;
    const char *bundle_incoming;
};

/* The uplink's own counters. */
struct uplink_stats {
    uint64_t connects;       /* handshakes that succeeded */
    uint64_t disconnects;
    uint64_t auth_failures;  /* handshakes that failed (wrong key, not enrolled) */
    uint64_t batches_sent;
    uint64_t alerts_sent;    /* including resends */
    uint64_t resends;        /* times the window restarted from the last ACK */
    uint64_t acked_seq;      /* highest sequence the collector acknowledged */
    uint64_t frames_rejected; /* from the collector: malformed or unexpected */
    uint64_t spool_errors;   /* spool_read/spool_ack/spool_advance failures */
    uint64_t renumbered;     /* times the collector's ACK made the spool renumber */
    uint64_t bundle_chunks;  /* CHUNKs written */
    uint64_t bundle_results; /* RESULTs sent */
    int connected;           /* 1 while a handshake has succeeded and not dropped */
};

struct uplink;

/*
 * Checks the keys, creates the ZeroMQ context and the DEALER and connects it
 * (ZeroMQ connects in the background; nothing waits for the collector).  The
 * spool must outlive the uplink.  0, or -EINVAL with a message in err (a key
 * that is not 40 characters of Z85, no endpoint), or -errno.
 */
int uplink_create(struct uplink **out, const struct uplink_config *cfg, struct spool *sp,
                  char *err, size_t errlen);

/* The checks of uplink_create() without connecting (for kanshi-sensor -n). */
int uplink_check_config(const struct uplink_config *cfg, char *err, size_t errlen);

/* Starts the thread.  0 or -errno. */
int uplink_start(struct uplink *u);

/*
 * Waits until the collector has acknowledged every sequence up to seq, or
 * timeout_ms passed.  0 when it has, -ETIMEDOUT otherwise.  A renumbering
 * (spool_advance) moves the numbers meanwhile: a caller waiting for "all"
 * reads the spool's next_seq again after a 0.
 */
int uplink_wait_acked(struct uplink *u, uint64_t seq, uint32_t timeout_ms);

/* Stops the thread (if started) and closes the connection; NULL is a no-op. */
void uplink_destroy(struct uplink *u);

/* Publishes one STATS counter (WC_*); the next heartbeat carries it.
 * Counters the uplink fills itself (spool, sent, acked) are ignored. */
void uplink_set_counter(struct uplink *u, enum wire_counter id, uint64_t value);

void uplink_get_stats(struct uplink *u, struct uplink_stats *st);

/*
 * Reads a CURVE key file: Z85 text, 40 characters, optionally followed by a
 * newline.  With secret set, the file must not be readable or writable by
 * group or others (STYLE.md, Privilege).  key gets 41 bytes.  0, or
 * -EINVAL / -EPERM / -errno with "PATH: reason" in err.
 */
int uplink_read_key_file(const char *path, int secret, char key[UPLINK_KEY_LEN + 1], char *err,
                         size_t errlen);

#endif
